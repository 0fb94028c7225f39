//! The seam between event sources and a tracing session: neutral events that any source
//! can produce (ptrace today, a kernel-side perf_event source next) and the [`Consumer`]
//! trait a session implements.
//!
//! A source stamps each event with the time it saw it and, when the consumer asks
//! ([`Consumer::wants_stack`]), a register and stack snapshot taken at that moment. With the
//! event comes a memory reader whose [`Tracee::exact`] says whether the tracee is held
//! (ptrace: reads cannot race) or running (a kernel-side source: they can).

use super::engine::{Gone, Handler, Stop};
use crate::remote::ProcMem;
use crate::remote::regs::Snapshot;
use crate::syscalls::Tracee;
use std::time::Duration;

/// Wall-clock time since the Unix epoch, taken by the source when it saw the event.
pub type Timestamp = Duration;

/// The most stack copied per snapshot. A backend at a syscall uses a few KiB to tens of KiB;
/// deep planner recursion can use more, and then the outer frames are lost, not wrong.
pub const MAX_STACK: usize = 128 * 1024;

/// What a source saw. `tid` is the thread's id (the pid of a single-threaded process).
#[derive(Clone, Debug, PartialEq)]
pub enum SourceEvent {
    /// A new tracee: attached, launched, or a child under `-f` (`parent` when known).
    New {
        tid: i32,
        parent: Option<i32>,
    },
    /// A syscall's entry; `sp` is the stack pointer there (rt_sigreturn's frame lies at it).
    SyscallEntry {
        tid: i32,
        nr: u64,
        args: [u64; 6],
        sp: u64,
        /// The instruction pointer at the entry (`-i`).
        ip: u64,
        stack: Option<Snapshot>,
    },
    /// A syscall's exit. `nr` when the source knows it (ptrace does not say at exit; the
    /// consumer pairs it with the entry).
    SyscallExit {
        tid: i32,
        nr: Option<u64>,
        rval: i64,
        is_error: bool,
        /// The call was tampered with (`-e inject=`): `rval` is what was made to return.
        injected: bool,
        /// `-e inject=...:poke_enter=|poke_exit=` wrote into the memory of an argument.
        poked: bool,
        /// `-e inject=...:delay_enter=|delay_exit=` held the tracee at the call.
        delayed: bool,
        /// The instruction pointer at the exit (`-i`).
        ip: u64,
        /// The system CPU time the call took, when measured (`-c` as strace times calls).
        cpu: Option<std::time::Duration>,
    },
    /// A signal about to be delivered.
    Signal {
        tid: i32,
        sig: i32,
        siginfo: [u8; 128],
        stack: Option<Snapshot>,
        /// Where the signal arrived, when the consumer asks (`-i`).
        ip: Option<u64>,
    },
    /// The tracee entered a group-stop (SIGSTOP, SIGTSTP, ...).
    GroupStop {
        tid: i32,
        sig: i32,
    },
    /// A successful execve; `former` is the tid that called it.
    Exec {
        tid: i32,
        former: i32,
    },
    Exited {
        tid: i32,
        code: i32,
    },
    Killed {
        tid: i32,
        sig: i32,
        core: bool,
    },
    /// The source stopped watching the tracee.
    Detached {
        tid: i32,
    },
    /// A kernel-side source dropped `count` records (its ring was full); `None`: a ring
    /// was full when the trace ended, and what it dropped after its last report is unknown
    /// (the kernel reports a loss with the next record it writes there).
    Lost {
        count: Option<u64>,
    },
    /// A child pgstrace never traced exited (inherited from whatever exec'd pgstrace): strace's
    /// `Exit of unknown pid N ignored`.
    UnknownExit {
        tid: i32,
    },
    /// `-e inject=...:poke_enter=|poke_exit=` could not write (sent before the call's event).
    TamperFailed {
        tid: i32,
        why: String,
    },
}

/// What a stack snapshot would be taken for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackFor {
    Syscall(u64),
    Signal(i32),
}

/// A consumer of source events (the tracing session).
pub trait Consumer {
    /// One event. For ptrace it is called while the tracee is held, so `mem` is exact;
    /// copy what is needed and return: the tracee waits.
    fn event(&mut self, time: Timestamp, ev: SourceEvent, mem: &dyn Tracee);
    /// Whether the event about to be built should carry a stack snapshot.
    /// Whether signal events carry the instruction pointer (`-i`: a register read per
    /// signal).
    fn wants_ip(&self) -> bool {
        false
    }

    fn wants_stack(&self, _what: StackFor) -> bool {
        false
    }
    /// A kernel-side source read the exit of `nr` with `rval` and will deliver it later, in
    /// time order: what must be looked at as soon as possible (the /dev/shm of an ENOSPC) is
    /// looked at now.
    fn urgent_exit(&mut self, _tid: i32, _nr: u64, _rval: i64) {}
    /// The calls whose successful exits a kernel-side source should show the consumer as
    /// soon as it reads them ([`Consumer::early_exit`]). Asked once, at the start.
    fn early_calls(&self) -> Vec<u64> {
        Vec::new()
    }
    /// A kernel-side source has just read this exit (at `time`) and delivers it later, in
    /// time order: what the task's memory says about it is read now, while the task may
    /// still be at it. The exit's delivery says, through `Tracee::early_look`, whether the
    /// task had returned from the same call again before this look ended: then what was
    /// read belongs to a later call.
    fn early_exit(&mut self, _tid: i32, _nr: u64, _rval: i64, _time: Timestamp) {}
    /// Called once the tracee runs again: the slow work (formatting, writing).
    fn after_resume(&mut self) {}
    /// Whether [`Consumer::idle`] has work (buffered output).
    fn has_idle_work(&self) -> bool {
        false
    }
    /// Called at most 100 ms after new work appeared.
    fn idle(&mut self) {}
}

/// The ptrace engine as an event source: turns each typed stop into a [`SourceEvent`] and
/// resumes it at once. Breakpoint and single-step traps are nobody's here (no probes are
/// set through this source), so they are delivered as the SIGTRAP they are.
pub struct PtraceSource<'c, C: Consumer + ?Sized> {
    consumer: &'c mut C,
    /// `-e inject=` / `-e fault=`.
    injector: super::inject::Injector,
    /// Per tracee: its process's system time at its call's entry (under `measure_cpu`).
    entry_stime: std::collections::HashMap<i32, std::time::Duration>,
    /// `-b execve`: detach from a tracee when its execve succeeds; `Some(true)` while the
    /// launched command's own execve is still to come (that one is not a reason).
    detach_on_execve: Option<bool>,
}

impl<'c, C: Consumer + ?Sized> PtraceSource<'c, C> {
    pub fn new(consumer: &'c mut C) -> Self {
        PtraceSource {
            consumer,
            injector: super::inject::Injector::default(),
            entry_stime: std::collections::HashMap::new(),
            detach_on_execve: None,
        }
    }

    /// Tampers with the calls these rules pick (see [`super::inject`]).
    /// `-b execve` (`--detach-on=execve`); `launched`: the first execve is the launched
    /// command's own, traced on.
    pub fn detach_on_execve(mut self, launched: bool) -> Self {
        self.detach_on_execve = Some(launched);
        self
    }

    pub fn with_injections(mut self, rules: Vec<super::inject::Rule>) -> Self {
        self.injector = super::inject::Injector::new(rules);
        self
    }

    /// Writes `pokes` where call `nr`'s arguments point, the last one given first (strace's
    /// order: where two arguments point to the same bytes, the first one given is what
    /// stays); what cannot be written is reported as strace reports it. Whether any was
    /// written.
    fn poke(
        &mut self,
        s: &mut super::engine::SyscallStop<'_>,
        nr: u64,
        args: &[u64; 6],
        pokes: &[super::inject::Poke],
    ) -> bool {
        let mut any = false;
        for p in pokes.iter().rev() {
            let why = match super::inject::poke_refusal(p, nr) {
                Some(why) => why,
                None => match s.write_data(args[usize::from(p.arg) - 1], &p.data) {
                    Ok(()) => {
                        any = true;
                        continue;
                    }
                    Err(_) => "couldn't poke".to_string(),
                },
            };
            let ev = SourceEvent::TamperFailed { tid: s.tid(), why };
            self.consumer.event(crate::util::now(), ev, &s.mem());
        }
        any
    }

    fn signal(&mut self, s: super::engine::SignalStop<'_>) {
        let time = crate::util::now();
        let (sig, siginfo) = (s.kind.sig, s.kind.siginfo);
        let stack = if self.consumer.wants_stack(StackFor::Signal(sig)) {
            s.snapshot(MAX_STACK)
        } else {
            None
        };
        let ip = if self.consumer.wants_ip() {
            s.regs().ok().map(|r| r.rip)
        } else {
            None
        };
        let ev = SourceEvent::Signal {
            tid: s.tid(),
            sig,
            siginfo,
            stack,
            ip,
        };
        self.consumer.event(time, ev, &s.mem());
        s.resume();
    }
}

impl<C: Consumer + ?Sized> Handler for PtraceSource<'_, C> {
    fn attached(&mut self, tid: i32, parent: Option<i32>) {
        let ev = SourceEvent::New { tid, parent };
        self.consumer
            .event(crate::util::now(), ev, &ProcMem::racy(tid));
    }

    fn stop(&mut self, stop: Stop<'_>) {
        match stop {
            Stop::Syscall(mut s) => {
                let time = crate::util::now();
                let tid = s.tid();
                // `delay_enter=`/`delay_exit=`: how long this stop holds the tracee.
                let hold;
                let ev = match s.kind {
                    super::engine::Syscall::Entry { nr, args, sp, ip } => {
                        let tamper = if self.injector.is_empty() {
                            None
                        } else {
                            self.injector.at_entry(tid, nr).cloned()
                        };
                        hold = tamper.as_ref().and_then(|t| t.delay_enter);
                        if let Some(t) = &tamper {
                            // Tampering: the number -1 makes the kernel run nothing
                            // (`syscall=`: a call with no arguments and no effect).
                            if t.ret.is_some()
                                && let Ok(mut regs) = s.regs()
                            {
                                regs.orig_rax = t.syscall.unwrap_or(u64::MAX);
                                if s.set_regs(regs).is_err() {
                                    self.injector.at_exit(tid);
                                }
                            }
                            // Before the entry's event, so that its decoding shows the bytes
                            // written, as strace's does.
                            if !t.poke_enter.is_empty()
                                && self.poke(&mut s, nr, &args, &t.poke_enter)
                            {
                                self.injector.poked(tid);
                            }
                        }
                        let stack = if self.consumer.wants_stack(StackFor::Syscall(nr)) {
                            s.snapshot(MAX_STACK)
                        } else {
                            None
                        };
                        if let Some(t) = s.stime() {
                            self.entry_stime.insert(tid, t);
                        }
                        SourceEvent::SyscallEntry {
                            tid,
                            nr,
                            args,
                            sp,
                            ip,
                            stack,
                        }
                    }
                    super::engine::Syscall::Exit { rval, is_error, ip } => {
                        let cpu = match (self.entry_stime.remove(&tid), s.stime()) {
                            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                            _ => None,
                        };
                        let super::inject::Pending {
                            tamper,
                            nr,
                            mut poked,
                        } = self.injector.at_exit(tid).unwrap_or_default();
                        hold = tamper.delay_exit;
                        let delayed = tamper.delayed();
                        if !tamper.poke_exit.is_empty()
                            && let Ok(r) = s.regs()
                        {
                            // The argument registers are the entry's still (the kernel
                            // changes rax, rcx and r11).
                            let args = [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9];
                            poked |= self.poke(&mut s, nr, &args, &tamper.poke_exit);
                        }
                        if let Some(sig) = tamper.signal {
                            // Resuming a syscall-exit-stop with a signal sends it (as the
                            // kernel sends its own: SI_KERNEL), as strace's signal= does.
                            s.deliver(sig);
                        }
                        match tamper.ret {
                            Some(action) => {
                                let rax = super::inject::Injector::rax(action);
                                let done = s.regs().and_then(|mut r| {
                                    r.rax = rax;
                                    s.set_regs(r)
                                });
                                let (rval, is_error) = match action {
                                    super::inject::Action::Error(e) => (-e, true),
                                    super::inject::Action::Retval(v) => (v, false),
                                };
                                SourceEvent::SyscallExit {
                                    tid,
                                    nr: None,
                                    rval,
                                    is_error,
                                    injected: done.is_ok(),
                                    poked,
                                    delayed,
                                    ip,
                                    cpu,
                                }
                            }
                            None => SourceEvent::SyscallExit {
                                tid,
                                nr: None,
                                rval,
                                is_error,
                                injected: false,
                                poked,
                                delayed,
                                ip,
                                cpu,
                            },
                        }
                    }
                };
                self.consumer.event(time, ev, &s.mem());
                match hold {
                    // Held without holding the others: the engine resumes it when due.
                    Some(d) => s.park(d),
                    None => s.resume(),
                }
            }
            Stop::Signal(s) => self.signal(s),
            Stop::Breakpoint(t) | Stop::SingleStep(t) => self.signal(t.not_mine()),
            Stop::Group(g) => {
                let ev = SourceEvent::GroupStop {
                    tid: g.tid(),
                    sig: g.kind.sig,
                };
                self.consumer.event(crate::util::now(), ev, &g.mem());
                g.resume();
            }
            Stop::Forked(f) => f.resume(),
            Stop::Interrupt(i) => i.resume(),
            Stop::Exec(e) => {
                let ev = SourceEvent::Exec {
                    tid: e.tid(),
                    former: e.kind.former,
                };
                self.consumer.event(crate::util::now(), ev, &e.mem());
                match self.detach_on_execve {
                    // `-b execve`: let go once the new program is in (strace's moment: a
                    // failed execve is no reason), its execve line ending ` <detached ...>`.
                    Some(false) => {
                        self.injector.forget(e.tid());
                        self.entry_stime.remove(&e.tid());
                        e.detach();
                    }
                    Some(true) => {
                        self.detach_on_execve = Some(false);
                        e.resume();
                    }
                    None => e.resume(),
                }
            }
        }
    }

    fn gone(&mut self, tid: i32, how: Gone) {
        self.injector.forget(tid);
        self.entry_stime.remove(&tid);
        let ev = match how {
            Gone::Exited { code } => SourceEvent::Exited { tid, code },
            Gone::Killed { sig, core } => SourceEvent::Killed { tid, sig, core },
            Gone::Detached => SourceEvent::Detached { tid },
        };
        self.consumer
            .event(crate::util::now(), ev, &ProcMem::racy(tid));
    }

    fn unknown_exit(&mut self, tid: i32) {
        self.consumer.event(
            crate::util::now(),
            SourceEvent::UnknownExit { tid },
            &ProcMem::racy(tid),
        );
    }

    fn after_resume(&mut self) {
        self.consumer.after_resume();
    }

    fn has_idle_work(&self) -> bool {
        self.consumer.has_idle_work()
    }

    fn idle(&mut self) {
        self.consumer.idle();
    }
}
