//! The ptrace engine: seize or launch tracees, the wait loop, follow forks, classify stops,
//! re-inject signals, detach.
//!
//! The engine knows nothing about decoding or formatting. At every stop it hands a [`Stop`] to
//! a [`Handler`] while the tracee is held, resumes the tracee, then calls
//! [`Handler::after_resume`] so the expensive work (formatting, writing) happens while the
//! tracee runs.

pub mod attach;
pub mod signals;

use crate::remote::ProcMem;
use nix::errno::Errno;
use nix::sys::ptrace;
use nix::unistd::Pid;
use std::collections::HashMap;

use signals::{arm_flush_timer, take_flush_due};
pub use signals::{install_detach_signals, interrupted, request_detach};

/// How long buffered output may wait before it is written (see [`Handler::idle`]).
const FLUSH_MS: u32 = 100;

/// What a tracee stopped for, as the handler sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// A new tracee: attached with `-p`, launched, or a child under `-f` (`parent` when its
    /// fork event came first).
    Attached {
        pid: i32,
        parent: Option<i32>,
    },
    /// `sp` is the stack pointer at entry (rt_sigreturn's frame lies there).
    SyscallEntry {
        pid: i32,
        nr: u64,
        args: [u64; 6],
        sp: u64,
    },
    SyscallExit {
        pid: i32,
        rval: i64,
        is_error: bool,
    },
    /// A signal is about to be delivered; the engine re-injects it on resume.
    Signal {
        pid: i32,
        sig: i32,
        siginfo: [u8; 128],
    },
    /// The tracee entered a group-stop (SIGSTOP, SIGTSTP, ...).
    Grouped {
        pid: i32,
        sig: i32,
    },
    /// A successful execve; `former` is the tid that called it (differs for a non-leader
    /// thread, which takes over the leader's pid).
    Exec {
        pid: i32,
        former: i32,
    },
    Exited {
        pid: i32,
        code: i32,
    },
    Killed {
        pid: i32,
        sig: i32,
        core: bool,
    },
    Detached {
        pid: i32,
    },
}

/// The consumer of stops.
pub trait Handler {
    /// Called while the tracee is stopped: copy what is needed, nothing more.
    fn on_stop(&mut self, stop: &Stop, mem: &ProcMem);
    /// Called after the tracee was resumed.
    fn after_resume(&mut self);
    /// Whether [`Handler::idle`] has work (buffered output).
    fn has_idle_work(&self) -> bool {
        false
    }
    /// Called at most [`FLUSH_MS`] after new work appeared: write buffered output.
    fn idle(&mut self) {}
}

#[derive(Debug, Default)]
struct TraceeState {
    /// A launched command before its execve: its stops (the initial SIGSTOP, our SIGCONT,
    /// the end of raise()) are ours, not the user's, and are not reported.
    launching: bool,
}

/// How the engine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every tracee exited; the launched command's exit code if there was one.
    AllGone { launched_code: Option<i32> },
    /// Detached on a signal.
    Detached,
    /// A bug in pgstrace (a panic while handling a stop): every tracee was released, the one
    /// being handled with its pending signal, and the session must end.
    Failed,
}

/// Receives nothing: used to detach after a panic, when the real handler cannot be trusted.
struct Discard;

impl Handler for Discard {
    fn on_stop(&mut self, _stop: &Stop, _mem: &ProcMem) {}
    fn after_resume(&mut self) {}
}

pub struct Engine {
    tracees: HashMap<i32, TraceeState>,
    /// `--hold-stats`: how long each stop held its tracee, in nanoseconds.
    hold: Option<Vec<u32>>,
    /// The flush timer is armed.
    flush_armed: bool,
    stop_seen: Option<std::time::Instant>,
    follow: bool,
    launched: Option<i32>,
    launched_code: Option<i32>,
}

const EXECVE: u64 = 59;
const EXECVEAT: u64 = 322;
const STOP_SIGNALS: [i32; 4] = [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];

impl Engine {
    pub fn new(follow: bool) -> Self {
        Engine {
            tracees: HashMap::new(),
            hold: None,
            flush_armed: false,
            stop_seen: None,
            follow,
            launched: None,
            launched_code: None,
        }
    }

    /// Measure how long each stop holds its tracee (see [`Engine::hold_times`]).
    pub fn measure_hold(&mut self) {
        self.hold = Some(Vec::new());
    }

    /// Nanoseconds from `waitpid` reporting each stop to the tracee's resume.
    pub fn hold_times(&self) -> &[u32] {
        self.hold.as_deref().unwrap_or(&[])
    }

    fn resume(&mut self, pid: i32, sig: i32) {
        resume(pid, sig);
        if let (Some(h), Some(t)) = (self.hold.as_mut(), self.stop_seen.take()) {
            h.push(t.elapsed().as_nanos().min(u128::from(u32::MAX)) as u32);
        }
    }

    pub fn options(&self) -> ptrace::Options {
        let mut o = ptrace::Options::PTRACE_O_TRACESYSGOOD | ptrace::Options::PTRACE_O_TRACEEXEC;
        if self.follow {
            o |= ptrace::Options::PTRACE_O_TRACEFORK
                | ptrace::Options::PTRACE_O_TRACEVFORK
                | ptrace::Options::PTRACE_O_TRACECLONE;
        }
        o
    }

    /// Registers a tracee that was seized by [`attach`].
    pub(crate) fn add_seized(&mut self, pid: i32, launching: bool, h: &mut dyn Handler) {
        self.tracees.insert(pid, TraceeState { launching });
        if launching {
            self.launched = Some(pid);
        }
        h.on_stop(&Stop::Attached { pid, parent: None }, &ProcMem::new(pid));
        h.after_resume();
    }

    /// Runs the wait loop until every tracee is gone or a detach signal arrives.
    pub fn run(&mut self, h: &mut dyn Handler) -> Outcome {
        loop {
            if interrupted() {
                self.detach_all(h);
                return Outcome::Detached;
            }
            if self.tracees.is_empty() {
                return Outcome::AllGone {
                    launched_code: self.launched_code,
                };
            }
            // Buffered output is written by a timer, not per stop: one setitimer and one
            // write per FLUSH_MS instead of a write per line.
            if take_flush_due() {
                self.flush_armed = false;
                h.idle();
            }
            if !self.flush_armed && h.has_idle_work() {
                arm_flush_timer(FLUSH_MS);
                self.flush_armed = true;
            }
            let mut status: libc::c_int = 0;
            // SAFETY: plain waitpid(2) into a local.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
            if pid < 0 {
                match Errno::last() {
                    Errno::EINTR => continue,
                    // No children left that we could wait for: nothing is traced any more.
                    _ => {
                        self.tracees.clear();
                        continue;
                    }
                }
            }
            if self.hold.is_some() {
                self.stop_seen = Some(std::time::Instant::now());
            }
            // A bug of ours must not cost a tracee its signal or leave it stopped.
            let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.handle(pid, status, h)
            }));
            if handled.is_err() {
                self.release(pid, status);
                self.detach_all(&mut Discard);
                return Outcome::Failed;
            }
        }
    }

    /// After a panic while handling `pid`'s stop: detach it if it is still stopped, handing
    /// back the signal of a signal-delivery-stop. If it was resumed already the detach fails
    /// (ESRCH) and [`Engine::detach_all`] takes it like any running tracee.
    fn release(&mut self, pid: i32, status: libc::c_int) {
        if !libc::WIFSTOPPED(status) {
            self.tracees.remove(&pid);
            return;
        }
        let sig = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xffff;
        let pass = if sig != (libc::SIGTRAP | 0x80) && event == 0 {
            sig
        } else {
            0
        };
        // SAFETY: PTRACE_DETACH with a signal number as data.
        let r = unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0, pass as libc::c_long) };
        if r == 0 {
            self.tracees.remove(&pid);
        }
    }

    fn handle(&mut self, pid: i32, status: libc::c_int, h: &mut dyn Handler) {
        if libc::WIFEXITED(status) {
            self.gone(
                pid,
                h,
                Stop::Exited {
                    pid,
                    code: libc::WEXITSTATUS(status),
                },
            );
            return;
        }
        if libc::WIFSIGNALED(status) {
            self.gone(
                pid,
                h,
                Stop::Killed {
                    pid,
                    sig: libc::WTERMSIG(status),
                    core: libc::WCOREDUMP(status),
                },
            );
            return;
        }
        if !libc::WIFSTOPPED(status) {
            return;
        }
        if !self.tracees.contains_key(&pid) {
            // A child can report its first stop before its parent's fork event.
            self.new_tracee(pid, None, h);
        }
        let sig = libc::WSTOPSIG(status);
        let event = (status >> 16) & 0xffff;
        let mem = ProcMem::new(pid);
        if sig == (libc::SIGTRAP | 0x80) {
            self.syscall_stop(pid, &mem, h);
            return;
        }
        if event != 0 {
            self.event_stop(pid, sig, event, &mem, h);
            return;
        }
        // Signal-delivery-stop: report it and re-inject it.
        if !self.launching(pid) {
            let mut siginfo = [0u8; 128];
            if let Ok(si) = ptrace::getsiginfo(Pid::from_raw(pid)) {
                // SAFETY: siginfo_t is 128 bytes of plain data.
                siginfo = unsafe { std::mem::transmute::<libc::siginfo_t, [u8; 128]>(si) };
            }
            h.on_stop(&Stop::Signal { pid, sig, siginfo }, &mem);
        }
        self.resume(pid, sig);
        h.after_resume();
    }

    fn launching(&self, pid: i32) -> bool {
        self.tracees.get(&pid).is_some_and(|t| t.launching)
    }

    fn syscall_stop(&mut self, pid: i32, mem: &ProcMem, h: &mut dyn Handler) {
        match ptrace::syscall_info(Pid::from_raw(pid)) {
            Ok(info) => {
                // SAFETY: the union member matches `op`, which the kernel set.
                let stop = unsafe {
                    match info.op {
                        libc::PTRACE_SYSCALL_INFO_ENTRY => Some(Stop::SyscallEntry {
                            pid,
                            nr: info.u.entry.nr,
                            args: info.u.entry.args,
                            sp: info.stack_pointer,
                        }),
                        libc::PTRACE_SYSCALL_INFO_SECCOMP => Some(Stop::SyscallEntry {
                            pid,
                            nr: info.u.seccomp.nr,
                            args: info.u.seccomp.args,
                            sp: info.stack_pointer,
                        }),
                        libc::PTRACE_SYSCALL_INFO_EXIT => Some(Stop::SyscallExit {
                            pid,
                            rval: info.u.exit.sval,
                            is_error: info.u.exit.is_error != 0,
                        }),
                        _ => None,
                    }
                };
                if let (Some(stop), Some(t)) = (stop, self.tracees.get_mut(&pid)) {
                    if t.launching
                        && let Stop::SyscallEntry { nr, .. } = stop
                    {
                        t.launching = !(nr == EXECVE || nr == EXECVEAT);
                    }
                    if !t.launching {
                        h.on_stop(&stop, mem);
                    }
                }
            }
            Err(_) => {
                // The tracee vanished (SIGKILL); its exit status follows from waitpid.
            }
        }
        self.resume(pid, 0);
        h.after_resume();
    }

    fn event_stop(&mut self, pid: i32, sig: i32, event: i32, mem: &ProcMem, h: &mut dyn Handler) {
        let p = Pid::from_raw(pid);
        match event {
            libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
                if let Ok(child) = ptrace::getevent(p) {
                    let child = child as i32;
                    if !self.tracees.contains_key(&child) {
                        self.new_tracee(child, Some(pid), h);
                    }
                }
                self.resume(pid, 0);
            }
            libc::PTRACE_EVENT_EXEC => {
                let former = ptrace::getevent(p).map(|f| f as i32).unwrap_or(pid);
                if former != pid {
                    self.tracees.remove(&former);
                }
                h.on_stop(&Stop::Exec { pid, former }, mem);
                self.resume(pid, 0);
            }
            libc::PTRACE_EVENT_STOP => {
                if STOP_SIGNALS.contains(&sig) {
                    // A group-stop: keep the tracee stopped but let us see SIGCONT.
                    if !self.launching(pid) {
                        h.on_stop(&Stop::Grouped { pid, sig }, mem);
                    }
                    // SAFETY: PTRACE_LISTEN takes no data.
                    unsafe {
                        libc::ptrace(libc::PTRACE_LISTEN, pid, 0, 0);
                    }
                } else {
                    self.resume(pid, 0);
                }
            }
            _ => self.resume(pid, 0),
        }
        h.after_resume();
    }

    fn new_tracee(&mut self, pid: i32, parent: Option<i32>, h: &mut dyn Handler) {
        self.tracees.insert(pid, TraceeState::default());
        h.on_stop(&Stop::Attached { pid, parent }, &ProcMem::new(pid));
    }

    fn gone(&mut self, pid: i32, h: &mut dyn Handler, stop: Stop) {
        if self.tracees.remove(&pid).is_none() {
            return;
        }
        if Some(pid) == self.launched {
            self.launched_code = Some(match stop {
                Stop::Exited { code, .. } => code,
                Stop::Killed { sig, .. } => 128 + sig,
                _ => 0,
            });
        }
        h.on_stop(&stop, &ProcMem::new(pid));
        h.after_resume();
    }

    /// Detaches from every tracee: interrupt each, and at its next stop detach it, handing a
    /// pending signal back so that nothing is lost. A syscall in flight is restarted by the
    /// kernel as if we had never been there.
    pub fn detach_all(&mut self, h: &mut dyn Handler) {
        for &pid in self.tracees.keys() {
            // SAFETY: PTRACE_INTERRUPT takes no data.
            unsafe {
                libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0);
            }
        }
        while !self.tracees.is_empty() {
            let mut status: libc::c_int = 0;
            // SAFETY: plain waitpid(2) into a local.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
            if pid < 0 {
                if Errno::last() == Errno::EINTR {
                    continue;
                }
                break;
            }
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                self.handle(pid, status, h);
                continue;
            }
            if !libc::WIFSTOPPED(status) {
                continue;
            }
            let sig = libc::WSTOPSIG(status);
            let event = (status >> 16) & 0xffff;
            if event == libc::PTRACE_EVENT_FORK
                || event == libc::PTRACE_EVENT_VFORK
                || event == libc::PTRACE_EVENT_CLONE
            {
                // A child born during detach: detach it too when it stops.
                if let Ok(child) = ptrace::getevent(Pid::from_raw(pid)) {
                    let child = child as i32;
                    self.tracees.entry(child).or_default();
                }
            }
            // Only a signal-delivery-stop carries a signal to hand back.
            let pass = if sig != (libc::SIGTRAP | 0x80) && event == 0 {
                sig
            } else {
                0
            };
            // SAFETY: PTRACE_DETACH with a signal number as data.
            unsafe {
                libc::ptrace(libc::PTRACE_DETACH, pid, 0, pass as libc::c_long);
            }
            if self.tracees.remove(&pid).is_some() {
                h.on_stop(&Stop::Detached { pid }, &ProcMem::new(pid));
                h.after_resume();
            }
        }
        // Anything left (e.g. a child whose first stop never came) is detached by the kernel
        // when we exit, and restarted.
        self.tracees.clear();
    }
}

/// Resumes `pid` to the next syscall stop, delivering `sig` (0 for none). ESRCH means it was
/// killed meanwhile; waitpid will tell.
fn resume(pid: i32, sig: i32) {
    // SAFETY: PTRACE_SYSCALL with a signal number as data.
    unsafe {
        libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, sig as libc::c_long);
    }
}
