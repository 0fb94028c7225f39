//! One tracing session: the pipeline from source events to printer events.
//!
//! The session consumes the neutral events of an event source ([`crate::trace::Consumer`]):
//! it pairs each syscall's entry with its exit ([`calls`]), decodes arguments while the
//! tracee is held, decides what is shown (`-e`), asks an [`Annotator`] for notes, and queues
//! [`Event`]s that the printers receive once the tracee runs again. `-k` stacks are
//! unwound and symbolized then too ([`stacks`]). The output is [`writer`]; the `trace`
//! command that wires it all is [`command`].

pub mod annotate;
pub mod calls;
pub mod command;
pub mod stacks;
pub mod writer;

pub use annotate::Annotator;
pub use command::{TraceConfig, run};

use crate::event::{Event, Timestamp};
use crate::filter::{Filter, status};
use crate::output::Sink;
use crate::remote::pidns::PidNs;
use crate::remote::regs::Snapshot;
use crate::syscalls::decode::{self, Entry};
use crate::syscalls::{DecodeOpts, Ret, Tracee, Value, nr, signals, table};
use crate::trace::{self, Consumer, SourceEvent, StackFor};
use calls::{CallState, Pending, status_bit};
use rustc_hash::FxHashMap as HashMap;
use stacks::Backtracer;
use std::borrow::Cow;

/// `-k` work left for after the resume: a snapshot copied while the tracee was stopped.
enum StackJob {
    /// The stack of `pid`'s pending syscall.
    Syscall {
        snap: Snapshot,
        name: Cow<'static, str>,
    },
    /// The stack of the queued signal event at this index.
    Signal { snap: Snapshot, index: usize },
}

/// What a syscall-entry event carries.
struct EntryRegs {
    nr: u64,
    args: [u64; 6],
    /// The stack pointer (rt_sigreturn's frame lies there).
    sp: u64,
    /// The instruction pointer (`-i`).
    ip: u64,
    stack: Option<Snapshot>,
}

/// What a syscall-exit event carries.
struct ExitRegs {
    rval: i64,
    is_error: bool,
    /// `-e inject=` set the return value.
    injected: bool,
    poked: bool,
    delayed: bool,
    /// The instruction pointer (`-i`; after an execve, the new program's).
    ip: u64,
    cpu: Option<std::time::Duration>,
}

/// Called at the exit event of a traced syscall that failed with the errno it was set for,
/// while the tracee is still held (explain-shm --watch captures /dev/shm at an ENOSPC).
/// Called with the pid and the syscall number.
pub type FailureHook = Box<dyn FnMut(i32, u64)>;

/// `-P`: the one argument strace 6.1 matches for a call where not every path argument
/// counts: rename's old path (not its new one), symlink's and symlinkat's link (not the
/// target, which need not exist). Observed by running strace; other calls: every argument.
fn path_arg(nr: u64) -> Option<usize> {
    match table::lookup(nr)?.name {
        "rename" => Some(0),
        "symlink" => Some(1),
        "symlinkat" => Some(2),
        _ => None,
    }
}

/// `-P`: whether the arguments of call `nr` name one of the paths, or a descriptor of one.
fn touches_paths<'a>(
    paths: &[String],
    nr: u64,
    args: impl IntoIterator<Item = &'a Value>,
    mem: &dyn Tracee,
) -> bool {
    fn walk(v: &Value, paths: &[String], mem: &dyn Tracee) -> bool {
        match v {
            Value::Str { bytes, .. } => paths.iter().any(|p| p.as_bytes() == &bytes[..]),
            Value::Fd { fd, path } => {
                let p = path.clone().or_else(|| mem.fd_path(*fd));
                p.is_some_and(|p| paths.contains(&p))
            }
            Value::Struct(fields) => fields.iter().any(|(_, v)| walk(v, paths, mem)),
            Value::Array(items) => items.iter().any(|v| walk(v, paths, mem)),
            _ => false,
        }
    }
    let only = path_arg(nr);
    args.into_iter()
        .enumerate()
        .filter(|&(i, _)| only.is_none_or(|o| o == i))
        .any(|(_, a)| walk(a, paths, mem))
}

pub struct Session {
    filter: Filter,
    decode: DecodeOpts,
    /// Decode arguments at all (not under plain `-c`).
    decoding: bool,
    sinks: Vec<Box<dyn Sink>>,
    /// A sink prints the annotator's per-call fields (JSON).
    want_fields: bool,
    /// `-i`: a sink prints signals' instruction pointers (read only then).
    want_ip: bool,
    queue: Vec<Event>,
    calls: HashMap<i32, CallState>,
    /// The output failed for real: the session asked the source to detach.
    output_failed: bool,
    failed: Option<writer::Failed>,
    /// Events went to the printers since they were last flushed.
    unflushed: bool,
    /// `-k`.
    backtracer: Option<Backtracer>,
    stack_jobs: Vec<StackJob>,
    annotator: Option<Box<dyn Annotator>>,
    /// A syscall was seen: later new tracees are `-f` children, which may still change.
    started: bool,
    failure_hook: Option<(i64, FailureHook)>,
    /// Tracees whose failure the hook saw early ([`Consumer::urgent_exit`]).
    hooked_early: rustc_hash::FxHashSet<i32>,
    /// Test-only fault injection (see [`Session::maybe_inject_panic`]).
    inject_panic_at: Option<u32>,
    /// `-Y`/`--decode-pids=`: the tracees' PID namespaces and the translations found.
    pidns: Option<PidNs>,
}

/// The syscall's name; unknown numbers as strace writes them (`syscall_0x1c8`).
fn syscall_name(nr: u64) -> Cow<'static, str> {
    match table::lookup(nr) {
        Some(info) => Cow::Borrowed(info.name),
        None => Cow::Owned(format!("syscall_{nr:#x}")),
    }
}

impl Session {
    /// Whether a syscall event has been seen.
    /// The calls the annotator looks at early under a kernel-side source (a traced set
    /// watches them too).
    pub fn early_calls(&self) -> Vec<u64> {
        self.annotator
            .as_ref()
            .map_or_else(Vec::new, |a| a.early_calls().to_vec())
    }

    pub fn has_events(&self) -> bool {
        self.started
    }

    /// `-k`: loads `pid`'s modules and symbols before any event (see
    /// [`stacks::Backtracer::prefetch`]).
    pub fn prefetch_stacks(&mut self, pid: i32) {
        if let Some(bt) = &mut self.backtracer {
            bt.prefetch(pid);
        }
    }

    pub fn new(
        filter: Filter,
        decode: DecodeOpts,
        decoding: bool,
        sinks: Vec<Box<dyn Sink>>,
    ) -> Self {
        Session {
            filter,
            decode,
            decoding,
            want_fields: sinks.iter().any(|s| s.wants_fields()),
            want_ip: sinks.iter().any(|s| s.wants_ip()),
            sinks,
            queue: Vec::new(),
            calls: HashMap::default(),
            output_failed: false,
            failed: None,
            unflushed: false,
            backtracer: None,
            stack_jobs: Vec::new(),
            annotator: None,
            started: false,
            failure_hook: None,
            hooked_early: Default::default(),
            pidns: decode.decode_pids.any().then(PidNs::new),
            inject_panic_at: std::env::var("PGSTRACE_INJECT_PANIC_AT_SIGNAL")
                .ok()
                .and_then(|v| v.parse().ok()),
        }
    }

    /// Annotate the trace through `a` (PostgreSQL's annotator, unless `--no-pg`).
    pub fn annotate(&mut self, a: Box<dyn Annotator>) {
        self.annotator = Some(a);
    }

    /// `-k` (`kk`: with file:line and inlined frames).
    pub fn with_stacks(&mut self, kk: bool) {
        self.backtracer = Some(Backtracer::new(kk));
    }

    /// Detach when a write to this output failed for real.
    pub fn watch_output(&mut self, failed: writer::Failed) {
        self.failed = Some(failed);
    }

    /// `-e read=` / `-e write=`: the bytes a read-like call filled or a write-like call
    /// sent, read while the tracee is held (at most 1 MiB).
    fn dump(
        &self,
        nr: u64,
        raw: &[u64; 6],
        rval: i64,
        is_error: bool,
        mem: &dyn Tracee,
    ) -> Option<crate::event::Dump> {
        if is_error || rval <= 0 {
            return None;
        }
        let name = crate::syscalls::table::lookup(nr)?.name;
        let (set, vectored) = match name {
            "read" | "pread64" | "recvfrom" => (self.filter.read_fds.as_ref()?, false),
            "write" | "pwrite64" | "sendto" => (self.filter.write_fds.as_ref()?, false),
            "readv" | "preadv" | "preadv2" => (self.filter.read_fds.as_ref()?, true),
            "writev" | "pwritev" | "pwritev2" => (self.filter.write_fds.as_ref()?, true),
            "recvmsg" => (self.filter.read_fds.as_ref()?, true),
            "sendmsg" => (self.filter.write_fds.as_ref()?, true),
            _ => return None,
        };
        if !set.contains(raw[0] as i32) {
            return None;
        }
        let mut left = usize::try_from(rval).ok()?.min(1 << 20);
        let read = |addr: u64, n: usize| {
            let mut buf = vec![0u8; n];
            let got = mem.read_mem(addr, &mut buf);
            buf.truncate(got);
            buf
        };
        if !vectored {
            return Some(crate::event::Dump::Plain(read(raw[1], left)));
        }
        // The iovecs (of the msghdr for sendmsg/recvmsg) in order, as far as the call moved
        // data.
        let (iov_at, iov_n) = if name.ends_with("msg") {
            let mut hdr = [0u8; 32];
            if mem.read_mem(raw[1], &mut hdr) != 32 {
                return None;
            }
            (
                u64::from_le_bytes(hdr[16..24].try_into().unwrap_or([0; 8])),
                u64::from_le_bytes(hdr[24..32].try_into().unwrap_or([0; 8])),
            )
        } else {
            (raw[1], raw[2])
        };
        let mut parts = Vec::new();
        for i in 0..iov_n.min(1024) {
            if left == 0 {
                break;
            }
            let mut iov = [0u8; 16];
            if mem.read_mem(iov_at + i * 16, &mut iov) != 16 {
                break;
            }
            let base = u64::from_le_bytes(iov[..8].try_into().unwrap_or([0; 8]));
            let len = u64::from_le_bytes(iov[8..].try_into().unwrap_or([0; 8]));
            let n = usize::try_from(len).unwrap_or(usize::MAX).min(left);
            parts.push(read(base, n));
            left -= n;
        }
        Some(crate::event::Dump::Vector(parts))
    }

    /// Whether the output could not be written (also by the last flush, at the end).
    pub fn output_failed(&self) -> bool {
        self.output_failed || self.failed.as_ref().is_some_and(writer::Failed::get)
    }

    /// Why the output failed, as the OS said it.
    pub fn output_error(&self) -> Option<String> {
        self.failed.as_ref().and_then(writer::Failed::reason)
    }

    /// Calls `hook` at the exit event of every traced syscall that fails with `errno`,
    /// while the tracee is held.
    pub fn on_failure(&mut self, errno: i64, hook: FailureHook) {
        self.failure_hook = Some((errno, hook));
    }

    /// Entries are held back until the exit when only some statuses are printed.
    fn hold_entries(&self) -> bool {
        self.filter.status != status::ALL || !self.filter.paths.is_empty()
    }

    fn entry(&mut self, pid: i32, time: Timestamp, call: EntryRegs, mem: &dyn Tracee) {
        let EntryRegs {
            nr: nr_,
            args,
            sp,
            ip,
            stack,
        } = call;
        let args = &args;
        self.started = true;
        let emitted = !self.hold_entries();
        if !self.filter.traces(nr_) {
            self.calls.entry(pid).or_default().pending = Some(Pending {
                nr: nr_,
                time,
                args: *args,
                entry: None,
                emitted: false,
                stack: Vec::new(),
                touches: false,
                late: false,
                ip,
            });
            return;
        }
        if emitted && let Some(a) = &mut self.annotator {
            a.before_line(pid, time, mem, &mut self.queue);
        }
        // At rt_sigreturn the stack to show is that of the code the signal interrupted.
        let stack = match stack {
            Some(snap) if nr_ == nr::RT_SIGRETURN => Some(
                crate::unwind::interrupted_context(&snap, trace::source::MAX_STACK, |a, b| {
                    mem.read_mem(a, b)
                })
                .unwrap_or(snap),
            ),
            other => other,
        };
        if let Some(snap) = stack {
            self.stack_jobs.push(StackJob::Syscall {
                snap,
                name: syscall_name(nr_),
            });
        }
        let mut entry = if self.decoding && self.filter.raw(nr_) {
            decode::raw_entry(nr_, args)
        } else if self.decoding {
            let o = self.call_opts(nr_);
            let mut e = decode::decode_entry(nr_, args, mem, &o);
            if positional(nr_) {
                let deref = self.filter.dereferences(nr_);
                decode::restyle(
                    nr_,
                    e.args.iter_mut().map(Option::as_mut),
                    args,
                    deref,
                    o.const_style,
                );
            }
            e
        } else {
            Entry {
                nr: nr_,
                raw: *args,
                args: Vec::new(),
                held: Vec::new(),
            }
        };
        // -Y: the child a wait call names is reaped by the call itself as soon as the tracee
        // runs: its name is read now, one small read while the tracee is held, as strace
        // reads it (every other name is read after the resume).
        if matches!(nr_, nr::WAIT4 | nr::WAITID)
            && let Some(ns) = &mut self.pidns
        {
            let want = self.decode.decode_pids;
            let mut find = |n: i64| pid_facts(ns, pid, n, want);
            entry
                .args
                .iter_mut()
                .flatten()
                .for_each(|a| decode::fill_pids(a, &mut find));
        }
        let st = self.calls.entry(pid).or_default();
        if nr_ == nr::RESTART_SYSCALL && self.decoding {
            // Kept (not taken): a restart_syscall interrupted again resumes the same call.
            let what = st
                .interrupted
                .map(syscall_name)
                .unwrap_or(Cow::Borrowed("call"));
            entry.args = vec![Some(decode::proc::restart_arg(&what))];
        }
        if nr_ == nr::RT_SIGRETURN && self.decoding {
            entry.args = vec![Some(decode::proc::sigreturn_arg(
                mem,
                sp,
                self.decode.const_style,
            ))];
        }
        if emitted {
            let n = entry.printable_prefix();
            self.queue.push(Event::SyscallEntry {
                pid,
                time,
                nr: nr_,
                name: syscall_name(nr_),
                args: entry.args[..n].iter().flatten().cloned().collect(),
                more: n < entry.args.len(),
                raw_args: entry.raw,
                ip,
            });
        }
        let touches = !self.filter.paths.is_empty()
            && touches_paths(&self.filter.paths, nr_, entry.args.iter().flatten(), mem);
        st.pending = Some(Pending {
            nr: nr_,
            time,
            args: *args,
            entry: Some(entry),
            emitted,
            stack: Vec::new(),
            touches,
            ip,
            late: mem.read_late(),
        });
    }

    fn exit(&mut self, pid: i32, time: Timestamp, call: ExitRegs, mem: &dyn Tracee) {
        let ExitRegs {
            rval,
            is_error,
            injected,
            poked,
            delayed,
            ip,
            cpu,
        } = call;
        let st = self.calls.entry(pid).or_default();
        let Some(p) = st.pending.take() else {
            // An exit without its entry (we attached mid-syscall): nothing to show.
            return;
        };
        st.note_exit(p.nr, rval, is_error);
        if let Some(bt) = &mut self.backtracer
            && !is_error
            && nr::MEMORY_MAP_CHANGES.contains(&p.nr)
        {
            bt.invalidate(pid);
        }
        if let Some(a) = &mut self.annotator {
            let rval = if is_error { -1 } else { rval };
            a.exited(pid, p.nr, &p.args, rval, time, mem.early_look());
        }
        let Some(entry) = p.entry else { return };
        if let Some((errno, hook)) = &mut self.failure_hook
            && is_error
            && rval == -*errno
            && !self.hooked_early.remove(&pid)
        {
            hook(pid, p.nr);
        }
        let (args, ret) = if self.decoding && self.filter.raw(p.nr) {
            decode::raw_exit(&entry, rval, is_error)
        } else if self.decoding {
            let o = self.call_opts(p.nr);
            let (mut a, r) = decode::decode_exit(&entry, rval, is_error, mem, &o);
            if positional(p.nr) {
                let deref = self.filter.dereferences(p.nr);
                decode::restyle(
                    p.nr,
                    a.iter_mut().map(Some),
                    &entry.raw,
                    deref,
                    o.const_style,
                );
            }
            (a, r)
        } else if is_error {
            (Vec::new(), Ret::Error { errno: -rval })
        } else {
            (Vec::new(), Ret::Int(rval))
        };
        if !p.emitted && !self.filter.shows_status(status_bit(rval, is_error)) {
            return;
        }
        if !p.emitted
            && !self.filter.paths.is_empty()
            && !p.touches
            && !touches_paths(&self.filter.paths, p.nr, &args, mem)
        {
            return;
        }
        if !p.emitted
            && let Some(a) = &mut self.annotator
        {
            a.before_line(pid, time, mem, &mut self.queue);
        }
        let mut fields = match &self.annotator {
            Some(a) if self.want_fields => a.call_fields(pid, &args, &ret),
            _ => Vec::new(),
        };
        if self.want_fields && (p.late || mem.read_late()) {
            fields.push((
                "read_late",
                crate::event::FieldValue::Text(
                    "descriptor paths read from /proc after the event".into(),
                ),
            ));
        }
        let dump = self.dump(p.nr, &entry.raw, rval, is_error, mem);
        self.queue.push(Event::SyscallExit {
            pid,
            time,
            nr: p.nr,
            name: syscall_name(p.nr),
            args,
            raw_args: entry.raw,
            ret,
            duration: time.saturating_sub(p.time),
            cpu,
            stack: p.stack,
            fields,
            injected,
            poked,
            delayed,
            dump,
            ip,
        });
    }

    /// The decoders' options for one call: `-v`/`-e abbrev=` decide its abbreviation.
    fn call_opts(&self, nr: u64) -> DecodeOpts {
        let mut o = self.decode;
        if !self.filter.abbreviates(nr) {
            o.abbrev = false;
            o.max_array = usize::MAX;
        }
        o
    }

    /// A tracee died or was detached with a syscall in flight: the held-back entry is shown
    /// when its status (unfinished or detached) is wanted.
    fn flush_pending(&mut self, pid: i32, bit: u8) {
        let Some(st) = self.calls.remove(&pid) else {
            return;
        };
        let Some(Pending {
            nr,
            time,
            entry: Some(entry),
            emitted: false,
            touches,
            ip,
            ..
        }) = st.pending
        else {
            return;
        };
        if self.filter.shows_status(bit) && (self.filter.paths.is_empty() || touches) {
            let known = entry.printable_prefix();
            self.queue.push(Event::SyscallEntry {
                pid,
                time,
                nr,
                name: syscall_name(nr),
                // The arguments known at entry, up to the first one only the exit knows
                // (then strace's `read(3,  <unfinished ...>`).
                args: entry.args[..known].iter().flatten().cloned().collect(),
                more: known < entry.args.len(),
                raw_args: entry.raw,
                ip,
            });
        }
    }

    /// Fault injection for the test of what a bug in pgstrace does to tracees:
    /// `PGSTRACE_INJECT_PANIC_AT_SIGNAL=N` panics at the Nth signal-delivery-stop.
    fn maybe_inject_panic(&mut self) {
        if let Some(n) = self.inject_panic_at.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                panic!("injected panic (PGSTRACE_INJECT_PANIC_AT_SIGNAL)");
            }
        }
    }

    /// `-k`: unwinds and symbolizes the stacks copied while the tracee was stopped.
    fn resolve_stacks(&mut self) {
        let Some(bt) = &mut self.backtracer else {
            return;
        };
        for job in self.stack_jobs.drain(..) {
            match job {
                StackJob::Syscall { snap, name } => {
                    let frames = bt.resolve(&snap, Some(&name));
                    if let Some(p) = self
                        .calls
                        .get_mut(&snap.pid)
                        .and_then(|st| st.pending.as_mut())
                    {
                        p.stack = frames;
                    }
                }
                StackJob::Signal { snap, index } => {
                    let frames = bt.resolve(&snap, None);
                    if let Some(Event::Signal { stack, .. }) = self.queue.get_mut(index) {
                        *stack = frames;
                    }
                }
            }
        }
    }

    /// A tracee is gone (exited, killed, detached): forget it everywhere.
    fn forget(&mut self, pid: i32, bit: u8) {
        if let Some(bt) = &mut self.backtracer {
            bt.forget(pid);
        }
        self.flush_pending(pid, bit);
        if let Some(a) = &mut self.annotator {
            a.gone(pid);
        }
    }

    pub fn finish(&mut self) {
        self.after_resume();
        for s in &mut self.sinks {
            s.finish();
        }
    }
}

impl Consumer for Session {
    fn urgent_exit(&mut self, tid: i32, nr: u64, rval: i64) {
        if let Some((errno, hook)) = &mut self.failure_hook
            && rval == -*errno
            && self.filter.traces(nr)
        {
            hook(tid, nr);
            self.hooked_early.insert(tid);
        }
    }

    fn early_calls(&self) -> Vec<u64> {
        self.early_calls()
    }

    fn early_exit(&mut self, tid: i32, nr: u64, rval: i64, time: Timestamp) {
        if let Some(a) = &mut self.annotator {
            a.early_exit(tid, nr, rval, time);
        }
    }

    fn wants_ip(&self) -> bool {
        self.want_ip
    }

    fn wants_stack(&self, what: StackFor) -> bool {
        self.backtracer.is_some()
            && match what {
                StackFor::Syscall(nr) => self.filter.traces(nr),
                StackFor::Signal(sig) => self.filter.shows_signal(sig),
            }
    }

    fn event(&mut self, time: Timestamp, ev: SourceEvent, mem: &dyn Tracee) {
        match ev {
            SourceEvent::New { tid: pid, parent } => {
                self.calls.entry(pid).or_default();
                if let (Some(bt), Some(parent)) = (&mut self.backtracer, parent) {
                    bt.fork(parent, pid);
                }
                let ns_pid = crate::remote::procfs::ns_pid(pid);
                if let Some(ns) = &mut self.pidns {
                    // Read while it surely lives: its lines are printed after the resume.
                    ns.note(pid);
                }
                self.queue.push(Event::Attached { pid, time, ns_pid });
                // Settled (its title final): attached or launched before any call was seen;
                // a fork's child sets its title later (a kernel-side source may report a
                // fork before any traced call).
                let settled = !self.started && parent.is_none();
                if let Some(a) = &mut self.annotator {
                    a.attached(pid, settled, time, &mut self.queue);
                }
            }
            SourceEvent::SyscallEntry {
                tid,
                nr,
                args,
                sp,
                ip,
                stack,
            } => {
                let call = EntryRegs {
                    nr,
                    args,
                    sp,
                    ip,
                    stack,
                };
                self.entry(tid, time, call, mem)
            }
            SourceEvent::SyscallExit {
                tid,
                rval,
                is_error,
                injected,
                poked,
                delayed,
                ip,
                cpu,
                ..
            } => self.exit(
                tid,
                time,
                ExitRegs {
                    rval,
                    is_error,
                    injected,
                    poked,
                    delayed,
                    ip,
                    cpu,
                },
                mem,
            ),
            SourceEvent::Signal {
                tid: pid,
                sig,
                siginfo,
                stack,
                ip,
            } => {
                self.maybe_inject_panic();
                if self.filter.shows_signal(sig) {
                    if let Some(snap) = stack {
                        self.stack_jobs.push(StackJob::Signal {
                            snap,
                            index: self.queue.len(),
                        });
                    }
                    self.queue.push(Event::Signal {
                        pid,
                        time,
                        sig,
                        info: {
                            let mut info = signals::decode_siginfo(&siginfo);
                            if self.decode.decode_pids.any() {
                                decode::mark_pids(&mut info);
                            }
                            decode::restyle_siginfo(&mut info, &siginfo, self.decode.const_style);
                            info
                        },
                        stack: Vec::new(),
                        ip,
                    });
                }
            }
            SourceEvent::GroupStop { tid: pid, sig } => {
                if self.filter.shows_signal(sig) {
                    self.queue.push(Event::Stopped { pid, time, sig });
                }
            }
            SourceEvent::Exec { tid: pid, former } => {
                if let Some(bt) = &mut self.backtracer {
                    bt.forget(former);
                    bt.exec(pid);
                }
                if former != pid {
                    // The kernel ended the leader's call (and the leader) for a thread's
                    // execve, which goes on under the leader's pid.
                    self.flush_pending(pid, status::UNFINISHED);
                    if let Some(st) = self.calls.remove(&former) {
                        self.calls.insert(pid, st);
                    }
                    self.queue.push(Event::Superseded { pid, former, time });
                }
                if let Some(a) = &mut self.annotator {
                    a.exec(pid, former, time, &mut self.queue);
                }
            }
            SourceEvent::Exited { tid: pid, code } => {
                self.forget(pid, status::UNFINISHED);
                self.queue.push(Event::Exited { pid, time, code });
            }
            SourceEvent::Killed {
                tid: pid,
                sig,
                core,
            } => {
                self.forget(pid, status::UNFINISHED);
                self.queue.push(Event::Killed {
                    pid,
                    time,
                    sig,
                    core,
                });
            }
            SourceEvent::Detached { tid: pid } => {
                self.flush_pending(pid, status::DETACHED);
                if let Some(a) = &mut self.annotator {
                    a.gone(pid);
                }
                self.queue.push(Event::Detached { pid, time });
            }
            SourceEvent::Lost { count } => self.queue.push(Event::Lost { time, count }),
            SourceEvent::UnknownExit { tid: pid } => {
                self.queue.push(Event::UnknownExit { pid, time });
            }
            SourceEvent::TamperFailed { tid: pid, why } => {
                self.queue.push(Event::TamperFailed { pid, time, why });
            }
        }
    }

    fn has_idle_work(&self) -> bool {
        self.unflushed
    }

    fn idle(&mut self) {
        self.unflushed = false;
        for s in &mut self.sinks {
            s.flush();
        }
    }

    fn after_resume(&mut self) {
        self.resolve_stacks();
        if let Some(ns) = &mut self.pidns {
            fill_pids(&mut self.queue, ns, self.decode.decode_pids);
            // The call's own line is often printed whole at its exit, from the arguments
            // kept since the entry: they get the names found now, while the processes they
            // name (wait4's child) still live, as strace names them at the entry.
            for ev in &self.queue {
                if let Event::SyscallEntry { pid, args, .. } = ev
                    && let Some(entry) = self
                        .calls
                        .get_mut(pid)
                        .and_then(|st| st.pending.as_mut())
                        .and_then(|p| p.entry.as_mut())
                {
                    for (kept, filled) in entry.args.iter_mut().flatten().zip(args) {
                        if matches!(kept, Value::Pid { .. }) {
                            *kept = filled.clone();
                        }
                    }
                }
            }
        }
        self.unflushed |= !self.queue.is_empty();
        for ev in self.queue.drain(..) {
            for s in &mut self.sinks {
                s.event(&ev);
            }
        }
        if !self.output_failed && self.failed.as_ref().is_some_and(writer::Failed::get) {
            self.output_failed = true;
            crate::errln!(
                "pgstrace: cannot write the trace output ({}); detaching",
                self.failed
                    .as_ref()
                    .and_then(writer::Failed::reason)
                    .unwrap_or_default()
            );
            trace::request_detach();
        }
    }
}

/// `-Y`/`--decode-pids=`: the command names of the pids the queued events carry and, for a
/// tracee in another PID namespace, their numbers in ours; read now that the tracee runs
/// again (a process gone by then has neither, as in strace).
/// What `-Y`/`--decode-pids=` adds to pid `n` as `tracee` numbers it: its name, and its
/// number in our namespace when the tracee's is another.
fn pid_facts(
    ns: &mut PidNs,
    tracee: i32,
    n: i64,
    want: crate::syscalls::DecodePids,
) -> (Option<String>, Option<i64>) {
    use crate::remote::pidns::Seen;
    let (ours, shown) = match ns.translate(tracee, n) {
        Seen::Same => (i32::try_from(n).ok(), None),
        Seen::Ours(p) => (Some(p), Some(i64::from(p))),
        Seen::Unknown => (None, None),
    };
    let comm = ours
        .filter(|_| want.comm)
        .and_then(crate::remote::procfs::comm_of);
    (comm, shown.filter(|_| want.pidns))
}

fn fill_pids(queue: &mut [Event], ns: &mut PidNs, want: crate::syscalls::DecodePids) {
    for ev in queue {
        let tracee = ev.pid();
        let mut find = |n: i64| pid_facts(ns, tracee, n, want);
        match ev {
            Event::SyscallEntry { args, .. } => {
                args.iter_mut()
                    .for_each(|a| decode::fill_pids(a, &mut find));
            }
            Event::SyscallExit { args, ret, .. } => {
                args.iter_mut()
                    .for_each(|a| decode::fill_pids(a, &mut find));
                if let Ret::Pid {
                    pid,
                    comm: c @ None,
                    ours: o @ None,
                } = ret
                {
                    (*c, *o) = find(*pid);
                }
            }
            Event::Signal { info, .. } => decode::fill_pids(info, &mut find),
            Event::Exited { pid, .. } | Event::Killed { pid, .. } | Event::Detached { pid, .. } => {
                ns.forget(*pid)
            }
            _ => {}
        }
    }
}

/// Whether a call's printed arguments are its registers in order (what `-X` and
/// `-e verbose=` restyle): not clone's named ones, nor the made-up argument of
/// rt_sigreturn and restart_syscall.
fn positional(nr: u64) -> bool {
    const CLONE: u64 = 56;
    !matches!(nr, CLONE | nr::RT_SIGRETURN | nr::RESTART_SYSCALL)
}
