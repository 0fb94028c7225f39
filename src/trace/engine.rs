//! The ptrace engine: the wait loop, typed stop guards, fork following, signals, detach.
//!
//! At each stop the engine classifies the status ([`super::stop::classify`]) and hands the
//! [`Handler`] one guard ([`Stopped`]) per stop kind. Only a guard can read the tracee's
//! registers and memory, and resuming consumes it (`syscall`, `cont`, `single_step`,
//! `listen`, `detach`), so a tracee cannot be resumed twice nor read while it runs. A guard
//! dropped without a resume resumes the tracee the engine's way, delivering the signal it
//! holds: a handler that forgets cannot leave a tracee stopped or swallow its signal. A
//! breakpoint or single-step trap reaches the handler as its own stop and is never
//! delivered unless the handler says it is not its own. Dropping the engine detaches every
//! tracee.
//!
//! What the types forbid, checked by the compiler (these examples must not compile):
//!
//! ```compile_fail
//! // Resuming twice: the first resume consumed the guard.
//! fn twice(s: pgstrace::trace::engine::SyscallStop<'_>) {
//!     s.syscall();
//!     s.syscall();
//! }
//! ```
//!
//! ```compile_fail
//! // Reading a tracee that runs: its memory reader borrows the guard the resume consumes.
//! use pgstrace::syscalls::Tracee;
//! fn read_after(s: pgstrace::trace::engine::SyscallStop<'_>) {
//!     let mem = s.mem();
//!     s.cont();
//!     let _ = mem.read_mem(0, &mut [0u8; 8]);
//! }
//! ```
//!
//! ```compile_fail
//! // Registers of a running tracee: nothing but a guard (or a `Held` promise) reads them.
//! fn regs_after(s: pgstrace::trace::engine::SignalStop<'_>) {
//!     s.cont();
//!     let _ = s.regs();
//! }
//! ```
//!
//! ```
//! // While held, all of it is allowed.
//! use pgstrace::syscalls::Tracee;
//! fn held(mut s: pgstrace::trace::engine::TrapStop<'_>) {
//!     let _ = s.regs();
//!     let _ = s.mem().read_mem(0, &mut [0u8; 8]);
//!     let _ = s.write_mem(0x1000, &[0xcc]);
//!     s.single_step();
//! }
//! ```

use super::signals::{arm_flush_timer, interrupted, take_flush_due};
use super::stop::{self, ForkKind, SigHead, StopKind};
use crate::remote::regs::{self, Snapshot};
use crate::remote::{Held, ProcMem};
use crate::syscalls::nr;
use nix::errno::Errno;
use nix::sys::ptrace;
use nix::unistd::Pid;
use std::collections::HashMap;
use std::io;
use std::time::{Duration, Instant};

/// How long buffered output may wait before it is written (see [`Handler::idle`]).
const FLUSH_MS: u32 = 100;

/// How a tracee is resumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// To the next syscall stop (`PTRACE_SYSCALL`): syscall tracing.
    Syscall,
    /// Until a signal or event (`PTRACE_CONT`): breakpoints without syscall stops.
    Continue,
    /// One instruction (`PTRACE_SINGLESTEP`).
    SingleStep,
    /// Stay in the group-stop, but report the SIGCONT that ends it (`PTRACE_LISTEN`).
    Listen,
}

/// What the engine holds of a tracee between stops.
#[derive(Debug, Default)]
struct TraceeState {
    /// A launched command before its execve: its stops (the initial SIGSTOP, our SIGCONT,
    /// the end of raise()) are ours, not the user's, and are not reported.
    launching: bool,
    /// `--seccomp-bpf`: between a seccomp stop and its call's exit stop, every stop (an
    /// execve's exec event) resumes with `PTRACE_SYSCALL`, or the exit stop would be missed.
    in_call: bool,
}

/// The part of the engine a guard borrows: where a resume is recorded.
struct Core {
    tracees: HashMap<i32, TraceeState>,
    /// `--hold-stats`: how long each stop held its tracee, in nanoseconds.
    hold: Option<Vec<u32>>,
    /// When the stop being handled was reported by waitpid.
    stop_seen: Option<Instant>,
    /// How tracees are resumed when a guard is dropped.
    mode: Resume,
    /// Tracees a guard detached during this stop (the handler is told after it returns).
    detached: Vec<i32>,
    /// Tracees let go of (detached) whose end has not been reaped: a child of ours among
    /// them still reports its exit, which is not an unknown process's.
    released: std::collections::HashSet<i32>,
    /// Tracees held in their stop until a time (`-e inject=...:delay_enter=`), with how
    /// they are resumed then and the signal the resume delivers.
    parked: Vec<(Instant, i32, Resume, i32)>,
    /// `-c`'s system time: each stop's wait also reads the tracee's rusage.
    want_cpu: bool,
    /// `--seccomp-bpf`: the tracees run under `PTRACE_CONT` and stop at the calls their
    /// filter traces; they are killed, not detached, when tracing ends.
    seccomp: bool,
    /// The system CPU time of the stopped tracee's process at the stop being handled.
    stop_stime: Option<Duration>,
    /// `--kill-on-exit` (and `--seccomp-bpf`): tracees die with the tracer, and are killed
    /// where they would be detached.
    kill_on_exit: bool,
}

impl Core {
    fn resumed(&mut self) {
        if let (Some(h), Some(t)) = (self.hold.as_mut(), self.stop_seen.take()) {
            h.push(t.elapsed().as_nanos().min(u128::from(u32::MAX)) as u32);
        }
    }
}

/// Resumes `tid` with `how`, delivering `sig` (0: none). ESRCH means it died meanwhile;
/// waitpid will tell.
fn raw_resume(tid: i32, how: Resume, sig: i32) {
    if sig != 0 {
        crate::debugln!("{tid}: resumed ({how:?}) with signal {sig}");
    }
    let req = match how {
        Resume::Syscall => libc::PTRACE_SYSCALL,
        Resume::Continue => libc::PTRACE_CONT,
        Resume::SingleStep => libc::PTRACE_SINGLESTEP,
        Resume::Listen => libc::PTRACE_LISTEN,
    };
    let data = if how == Resume::Listen { 0 } else { sig };
    // SAFETY: a resume request with a signal number (or 0) as data.
    unsafe {
        libc::ptrace(req, tid, 0, data as libc::c_long);
    }
}

/// Detaches `tid`, handing `sig` back (0: none).
fn raw_detach(tid: i32, sig: i32) -> bool {
    // SAFETY: PTRACE_DETACH with a signal number as data.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, tid, 0, sig as libc::c_long) == 0 }
}

/// A tracee held in a ptrace-stop; `K` says which kind of stop. See the module docs.
#[must_use = "a stop guard resumes its tracee when consumed; dropping it resumes the default way"]
pub struct Stopped<'e, K> {
    tid: i32,
    /// The signal a resume delivers (a signal-delivery-stop's signal; 0 otherwise).
    deliver: i32,
    /// How dropping the guard resumes.
    default: Resume,
    /// `None` once the tracee was resumed or detached.
    core: Option<&'e mut Core>,
    pub kind: K,
}

// SAFETY: a guard exists only while its tracee is in a ptrace-stop; every resume consumes it.
unsafe impl<K> Held for Stopped<'_, K> {
    fn tid(&self) -> i32 {
        self.tid
    }
}

impl<'e, K> Stopped<'e, K> {
    fn new(core: &'e mut Core, tid: i32, deliver: i32, default: Resume, kind: K) -> Self {
        Stopped {
            tid,
            deliver,
            default,
            core: Some(core),
            kind,
        }
    }

    pub fn tid(&self) -> i32 {
        self.tid
    }

    /// How long the tracee has been held at this stop, when the engine times stops
    /// (`Resume::Continue` engines and `measure_hold`).
    pub fn held_for(&self) -> Option<std::time::Duration> {
        self.core.as_ref()?.stop_seen.map(|t| t.elapsed())
    }

    /// The signal a resume will deliver (0: none).
    pub fn signal(&self) -> i32 {
        self.deliver
    }

    /// Under [`Engine::measure_cpu`]: the system CPU time of the tracee's process at this
    /// stop.
    pub fn stime(&self) -> Option<Duration> {
        self.core.as_ref().and_then(|c| c.stop_stime)
    }

    /// The tracee's memory, exact for as long as the guard lives.
    pub fn mem(&self) -> ProcMem<'_> {
        ProcMem::held(self)
    }

    /// Its general-purpose registers.
    pub fn regs(&self) -> io::Result<libc::user_regs_struct> {
        ptrace::getregs(Pid::from_raw(self.tid)).map_err(|e| io::Error::from_raw_os_error(e as i32))
    }

    /// Sets its general-purpose registers.
    pub fn set_regs(&mut self, regs: libc::user_regs_struct) -> io::Result<()> {
        ptrace::setregs(Pid::from_raw(self.tid), regs)
            .map_err(|e| io::Error::from_raw_os_error(e as i32))
    }

    /// Registers and up to `max_stack` bytes of stack (for `-k`).
    pub fn snapshot(&self, max_stack: usize) -> Option<Snapshot> {
        regs::capture(self, max_stack).ok()
    }

    /// Writes `data` at `addr`, text pages included (`PTRACE_POKEDATA`, a word at a time,
    /// read-modify-write at the edges). The first failing word fails the write; words
    /// before it are written.
    pub fn write_mem(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        let pid = Pid::from_raw(self.tid);
        let mut at = addr & !7;
        let end = addr + data.len() as u64;
        while at < end {
            // A word wholly overwritten needs no read first.
            let word = if at >= addr && at + 8 <= end {
                0
            } else {
                ptrace::read(pid, at as ptrace::AddressType)
                    .map_err(|e| io::Error::from_raw_os_error(e as i32))?
            };
            let mut bytes = word.to_ne_bytes();
            for (i, b) in bytes.iter_mut().enumerate() {
                let a = at + i as u64;
                if (addr..end).contains(&a) {
                    *b = data[(a - addr) as usize];
                }
            }
            ptrace::write(
                pid,
                at as ptrace::AddressType,
                libc::c_long::from_ne_bytes(bytes),
            )
            .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
            at += 8;
        }
        Ok(())
    }

    /// Writes `data` at `addr` in writable memory (the stack): one `process_vm_writev`,
    /// falling back to [`Self::write_mem`] where that cannot write.
    pub fn write_data(&mut self, addr: u64, data: &[u8]) -> io::Result<()> {
        let local = [std::io::IoSlice::new(data)];
        let remote = [nix::sys::uio::RemoteIoVec {
            base: addr as usize,
            len: data.len(),
        }];
        match nix::sys::uio::process_vm_writev(Pid::from_raw(self.tid), &local, &remote) {
            Ok(n) if n == data.len() => Ok(()),
            _ => self.write_mem(addr, data),
        }
    }

    fn finish(mut self, how: Resume) {
        if let Some(core) = self.core.take() {
            raw_resume(self.tid, how, self.deliver);
            core.resumed();
        }
    }

    /// The resume sends `sig` to the tracee (at a syscall-exit-stop the kernel sends it as
    /// its own, `SI_KERNEL`; `-e inject=...:signal=`).
    pub fn deliver(&mut self, sig: i32) {
        self.deliver = sig;
    }

    /// Leave the tracee in its stop for `delay`, then resume it the default way; other
    /// tracees are served meanwhile. A detach takes it from its stop at once.
    pub fn park(mut self, delay: std::time::Duration) {
        if let Some(core) = self.core.take() {
            core.parked
                .push((Instant::now() + delay, self.tid, self.default, self.deliver));
            core.resumed();
        }
    }

    /// Resume to the next syscall stop.
    pub fn syscall(self) {
        self.finish(Resume::Syscall)
    }

    /// Resume until the next signal or event.
    pub fn cont(self) {
        self.finish(Resume::Continue)
    }

    /// Execute one instruction, then stop ([`Stop::SingleStep`]).
    pub fn single_step(self) {
        self.finish(Resume::SingleStep)
    }

    /// Resume the way the engine resumes every stop (syscall tracing or not).
    pub fn resume(self) {
        let how = self.default;
        self.finish(how)
    }

    /// Stop tracing this tracee, handing its signal back.
    pub fn detach(mut self) {
        if let Some(core) = self.core.take() {
            if raw_detach(self.tid, self.deliver) {
                core.tracees.remove(&self.tid);
                core.released.insert(self.tid);
                core.detached.push(self.tid);
            }
            core.resumed();
        }
    }
}

impl<K> Drop for Stopped<'_, K> {
    fn drop(&mut self) {
        let Some(core) = self.core.take() else {
            return;
        };
        if std::thread::panicking() {
            // A bug of ours is unwinding: let go of the tracee with its signal rather than
            // resume it into a tracer that is about to stop.
            if raw_detach(self.tid, self.deliver) {
                core.tracees.remove(&self.tid);
            }
            return;
        }
        raw_resume(self.tid, self.default, self.deliver);
        core.resumed();
    }
}

/// A syscall stop: entry or exit, from `PTRACE_GET_SYSCALL_INFO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syscall {
    /// `sp` is the stack pointer at entry (rt_sigreturn's frame lies there).
    Entry {
        nr: u64,
        args: [u64; 6],
        sp: u64,
        /// The instruction pointer (after the `syscall` instruction), for `-i`.
        ip: u64,
    },
    Exit {
        rval: i64,
        is_error: bool,
        /// The instruction pointer at the exit (after an execve, the new program's).
        ip: u64,
    },
}

/// A signal-delivery-stop. The signal is delivered on resume unless [`Stopped::suppress`].
#[derive(Clone, Copy, Debug)]
pub struct Signal {
    pub sig: i32,
    pub siginfo: [u8; 128],
}

/// A breakpoint or single-step trap.
#[derive(Clone, Copy, Debug)]
pub struct Trap {
    pub siginfo: [u8; 128],
}

/// A group-stop; dropping or [`Stopped::resume`] listens (the tracee stays stopped).
#[derive(Clone, Copy, Debug)]
pub struct Group {
    pub sig: i32,
}

/// A fork, vfork or clone; the child is a tracee already (its own first stop follows).
#[derive(Clone, Copy, Debug)]
pub struct Forked {
    pub how: ForkKind,
    pub child: Option<i32>,
}

/// A successful execve; `former` is the tid that called it.
#[derive(Clone, Copy, Debug)]
pub struct Exec {
    pub former: i32,
}

pub type SyscallStop<'e> = Stopped<'e, Syscall>;
pub type SignalStop<'e> = Stopped<'e, Signal>;
pub type TrapStop<'e> = Stopped<'e, Trap>;
pub type GroupStop<'e> = Stopped<'e, Group>;
pub type ForkStop<'e> = Stopped<'e, Forked>;
pub type ExecStop<'e> = Stopped<'e, Exec>;

impl SignalStop<'_> {
    /// Do not deliver the signal (it was ours, not the tracee's).
    pub fn suppress(&mut self) {
        self.deliver = 0;
    }
}

impl<'e> TrapStop<'e> {
    /// The trap is not the handler's (an `int3` of the program's own): deliver it as the
    /// SIGTRAP it is.
    pub fn not_mine(mut self) -> SignalStop<'e> {
        let siginfo = self.kind.siginfo;
        let sig = libc::SIGTRAP;
        match self.core.take() {
            Some(core) => Stopped::new(core, self.tid, sig, self.default, Signal { sig, siginfo }),
            // Unreachable: a guard's core is only taken by the resumes that consume it.
            None => Stopped {
                tid: self.tid,
                deliver: sig,
                default: self.default,
                core: None,
                kind: Signal { sig, siginfo },
            },
        }
    }
}

/// A tracee about to be detached (see [`Handler::release`]).
#[derive(Clone, Copy, Debug)]
pub struct Release {
    /// It stopped on a breakpoint trap: its rip is one byte past the `int3`.
    pub breakpoint: bool,
    /// It stopped on a single-step trap.
    pub single_step: bool,
}

pub type InterruptStop<'e> = Stopped<'e, ()>;
pub type ReleaseStop<'e> = Stopped<'e, Release>;

/// One stop, as the handler receives it.
pub enum Stop<'e> {
    /// An interrupt stop (`PTRACE_INTERRUPT`: the first stop after a seize).
    Interrupt(InterruptStop<'e>),
    Syscall(SyscallStop<'e>),
    Signal(SignalStop<'e>),
    Breakpoint(TrapStop<'e>),
    SingleStep(TrapStop<'e>),
    Group(GroupStop<'e>),
    Forked(ForkStop<'e>),
    Exec(ExecStop<'e>),
}

/// How a tracee ended, for [`Handler::gone`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    Exited { code: i32 },
    Killed { sig: i32, core: bool },
    Detached,
}

/// The consumer of stops.
pub trait Handler {
    /// A new tracee: attached with `-p`, launched, or a child under `-f` (`parent` when
    /// its fork event came first). It may not have stopped yet: nothing to read.
    fn attached(&mut self, tid: i32, parent: Option<i32>);
    /// A stop, while the tracee is held: copy what is needed and resume (or drop the
    /// guard, which resumes the default way).
    fn stop(&mut self, stop: Stop<'_>);
    /// The tracee exited, was killed, or was detached.
    fn gone(&mut self, tid: i32, how: Gone);
    /// A process that was never a tracee exited: a child pgstrace inherited (its exit is
    /// reaped with the tracees'). One let go of earlier is not reported.
    fn unknown_exit(&mut self, _tid: i32) {}
    /// Just before a tracee is detached (on a detach signal, a request or the engine's
    /// Drop), while it is held: undo what was written into it. The engine detaches it after,
    /// with its signal; the guard cannot resume it. Returns whether the trap it stopped on
    /// (a breakpoint or a step) was the handler's: then it is not delivered as SIGTRAP.
    fn release(&mut self, _stop: &mut ReleaseStop<'_>) -> bool {
        false
    }
    /// Called after each stop's tracee was resumed: do the slow work here.
    fn after_resume(&mut self) {}
    /// Whether [`Handler::idle`] has work (buffered output).
    fn has_idle_work(&self) -> bool {
        false
    }
    /// Called at most [`FLUSH_MS`] after new work appeared: write buffered output.
    fn idle(&mut self) {}
}

/// Receives nothing: used to detach after a panic, when the real handler cannot be trusted.
struct Discard;

impl Handler for Discard {
    fn attached(&mut self, _tid: i32, _parent: Option<i32>) {}
    fn stop(&mut self, _stop: Stop<'_>) {}
    fn gone(&mut self, _tid: i32, _how: Gone) {}
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

pub struct Engine {
    core: Core,
    /// The flush timer is armed.
    flush_armed: bool,
    pub(super) follow: bool,
    launched: Option<i32>,
    launched_code: Option<i32>,
}

impl Engine {
    /// An engine that traces syscalls (every stop resumed with `PTRACE_SYSCALL`); `follow`
    /// (`-f`) traces children too.
    pub fn new(follow: bool) -> Self {
        Engine::with_mode(follow, Resume::Syscall)
    }

    /// An engine whose stops resume with `mode` ([`Resume::Continue`] for breakpoints only).
    pub fn with_mode(follow: bool, mode: Resume) -> Self {
        Engine {
            core: Core {
                tracees: HashMap::new(),
                hold: None,
                stop_seen: None,
                mode,
                detached: Vec::new(),
                released: Default::default(),
                parked: Vec::new(),
                want_cpu: false,
                stop_stime: None,
                kill_on_exit: false,
                seccomp: false,
            },
            flush_armed: false,
            follow,
            launched: None,
            launched_code: None,
        }
    }

    /// Read each stopped tracee's system CPU time as it is reported (`-c`, as strace times
    /// calls; see [`Stopped::stime`]).
    pub fn measure_cpu(&mut self) {
        self.core.want_cpu = true;
    }

    /// `--seccomp-bpf`: the launched command installs a filter that stops it only at the
    /// traced calls (a seccomp stop, reported as the call's entry, resumed to its exit
    /// stop); every other stop resumes with `PTRACE_CONT`. With the filter a tracee cannot
    /// be let go (a traced call would fail with ENOSYS), so it dies with the tracer
    /// (`PTRACE_O_EXITKILL`) and is killed where others are detached, as strace does.
    pub fn filter_by_seccomp(&mut self) {
        self.core.seccomp = true;
        self.core.kill_on_exit = true;
        self.core.mode = Resume::Continue;
    }

    /// `--kill-on-exit`: the tracees die with pgstrace (`PTRACE_O_EXITKILL`, even when it is
    /// SIGKILLed) and are killed rather than detached when tracing ends.
    pub fn kill_on_exit(&mut self) {
        self.core.kill_on_exit = true;
    }

    /// Measure how long each stop holds its tracee (see [`Engine::hold_times`]).
    pub fn measure_hold(&mut self) {
        self.core.hold = Some(Vec::new());
    }

    /// Nanoseconds from `waitpid` reporting each stop to the tracee's resume.
    pub fn hold_times(&self) -> &[u32] {
        self.core.hold.as_deref().unwrap_or(&[])
    }

    /// The tracees now.
    pub fn tracees(&self) -> impl Iterator<Item = i32> + '_ {
        self.core.tracees.keys().copied()
    }

    pub fn options(&self) -> ptrace::Options {
        let mut o = ptrace::Options::PTRACE_O_TRACESYSGOOD | ptrace::Options::PTRACE_O_TRACEEXEC;
        if self.follow {
            o |= ptrace::Options::PTRACE_O_TRACEFORK
                | ptrace::Options::PTRACE_O_TRACEVFORK
                | ptrace::Options::PTRACE_O_TRACECLONE;
        }
        if self.core.seccomp {
            o |= ptrace::Options::PTRACE_O_TRACESECCOMP;
        }
        if self.core.seccomp || self.core.kill_on_exit {
            o |= ptrace::Options::PTRACE_O_EXITKILL;
        }
        o
    }

    /// Registers a tracee that was seized by `attach`.
    pub(crate) fn add_seized(&mut self, tid: i32, launching: bool, h: &mut dyn Handler) {
        self.core.tracees.insert(
            tid,
            TraceeState {
                launching,
                in_call: false,
            },
        );
        if launching {
            self.launched = Some(tid);
        }
        h.attached(tid, None);
        h.after_resume();
    }

    /// Runs the wait loop until every tracee is gone or a detach signal arrives.
    pub fn run(&mut self, h: &mut dyn Handler) -> Outcome {
        loop {
            if interrupted() {
                self.detach_all(h);
                return Outcome::Detached;
            }
            if self.core.tracees.is_empty() {
                return Outcome::AllGone {
                    launched_code: self.launched_code,
                };
            }
            // Buffered output is written by a timer, not per stop: one setitimer and one
            // write per FLUSH_MS instead of a write per line.
            if take_flush_due() {
                self.flush_armed = false;
                h.idle();
                // Idle work may have asked for a detach: look before blocking again.
                continue;
            }
            if !self.flush_armed && h.has_idle_work() {
                arm_flush_timer(FLUSH_MS);
                self.flush_armed = true;
            }
            if !self.core.parked.is_empty() {
                // Resume the tracees whose delay is over; wake for the next one (the timer's
                // SIGALRM interrupts waitpid; the flush that shares it only comes early).
                let now = Instant::now();
                let mut next: Option<Instant> = None;
                self.core.parked.retain(|&(due, tid, how, sig)| {
                    if due <= now {
                        raw_resume(tid, how, sig);
                        false
                    } else {
                        next = Some(next.map_or(due, |n| n.min(due)));
                        true
                    }
                });
                if let Some(n) = next {
                    let ms = n
                        .saturating_duration_since(now)
                        .as_millis()
                        .clamp(1, u128::from(FLUSH_MS));
                    arm_flush_timer(ms as u32);
                    self.flush_armed = true;
                }
            }
            let mut status: libc::c_int = 0;
            let tid = if self.core.want_cpu {
                // SAFETY: zeroed plain data, filled by wait4(2).
                let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
                // SAFETY: wait4(2) into locals; for a stopped tracee the kernel fills in the
                // rusage of its process, which is how strace times calls.
                let tid = unsafe { libc::wait4(-1, &mut status, libc::__WALL, &mut ru) };
                self.core.stop_stime = Some(
                    Duration::from_secs(ru.ru_stime.tv_sec.max(0) as u64)
                        + Duration::from_micros(ru.ru_stime.tv_usec.max(0) as u64),
                );
                tid
            } else {
                // SAFETY: plain waitpid(2) into a local.
                unsafe { libc::waitpid(-1, &mut status, libc::__WALL) }
            };
            if tid < 0 {
                match Errno::last() {
                    Errno::EINTR => continue,
                    // No children left that we could wait for: nothing is traced any more.
                    _ => {
                        self.core.tracees.clear();
                        continue;
                    }
                }
            }
            // Timed when asked (--hold-stats) and for breakpoints, whose handler keeps a
            // stall budget; syscall tracing does not pay for a clock read per stop.
            if self.core.hold.is_some() || self.core.mode == Resume::Continue {
                self.core.stop_seen = Some(Instant::now());
            }
            // A bug of ours must not cost a tracee its signal or leave it stopped: a guard
            // being unwound detaches its tracee, and every other tracee is detached here.
            let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.handle(tid, status, h)
            }));
            if handled.is_err() {
                self.release(tid, status);
                self.detach_all(&mut Discard);
                return Outcome::Failed;
            }
        }
    }

    /// After a panic while handling `tid`'s stop, if no guard took it (the panic came
    /// before): detach it, handing back the signal of a signal-delivery-stop. If it was
    /// resumed already the detach fails (ESRCH) and [`Engine::detach_all`] takes it.
    fn release(&mut self, tid: i32, status: libc::c_int) {
        if !self.core.tracees.contains_key(&tid) {
            return;
        }
        if !libc::WIFSTOPPED(status) {
            self.core.tracees.remove(&tid);
            return;
        }
        if raw_detach(tid, pass_on(status)) {
            self.core.tracees.remove(&tid);
        }
    }

    /// Reads what [`stop::classify`] needs for `status` and classifies it.
    fn classify(tid: i32, status: libc::c_int) -> (StopKind, Option<[u8; 128]>) {
        let needs = stop::needs(status);
        let p = Pid::from_raw(tid);
        let msg = if needs.event_msg {
            ptrace::getevent(p).ok().map(|m| m as u64)
        } else {
            None
        };
        let siginfo = if needs.siginfo { siginfo_of(tid) } else { None };
        let head = siginfo.as_ref().map(SigHead::of);
        (stop::classify(status, msg, head), siginfo)
    }

    fn handle(&mut self, tid: i32, status: libc::c_int, h: &mut dyn Handler) {
        let (kind, siginfo) = Engine::classify(tid, status);
        if !matches!(kind, StopKind::Syscall) {
            crate::debugln!("{tid}: {kind:?} (wait status {status:#x})");
        }
        match kind {
            StopKind::Exited { code } => return self.gone(tid, h, Gone::Exited { code }),
            StopKind::Killed { sig, core } => {
                return self.gone(tid, h, Gone::Killed { sig, core });
            }
            StopKind::Other => return,
            _ => {}
        }
        // One lookup per stop: a child can report its first stop before its parent's fork
        // event, and is registered here then.
        let (launching, in_call) = match self.core.tracees.entry(tid) {
            std::collections::hash_map::Entry::Occupied(t) => (t.get().launching, t.get().in_call),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(TraceeState::default());
                h.attached(tid, None);
                (false, false)
            }
        };
        let mode = if in_call {
            Resume::Syscall
        } else {
            self.core.mode
        };
        let core = &mut self.core;
        match kind {
            StopKind::Syscall | StopKind::Seccomp => {
                // A seccomp stop is a call's entry: resumed with PTRACE_SYSCALL, the call's
                // exit stops next (the entry stop, had there been one, came before it).
                let entry = kind == StopKind::Seccomp;
                if core.seccomp
                    && let Some(t) = core.tracees.get_mut(&tid)
                {
                    t.in_call = entry;
                }
                let mode = if entry { Resume::Syscall } else { core.mode };
                let Some(call) = syscall_info(tid) else {
                    // The tracee vanished (SIGKILL); its exit status follows from waitpid.
                    raw_resume(tid, mode, 0);
                    core.resumed();
                    return h.after_resume();
                };
                if launching {
                    if let Syscall::Entry { nr, .. } = call
                        && (nr == nr::EXECVE || nr == nr::EXECVEAT)
                        && let Some(t) = core.tracees.get_mut(&tid)
                    {
                        t.launching = false;
                    } else {
                        raw_resume(tid, mode, 0);
                        core.resumed();
                        return h.after_resume();
                    }
                }
                h.stop(Stop::Syscall(Stopped::new(core, tid, 0, mode, call)));
            }
            StopKind::Forked { kind, child } => {
                if let Some(child) = child
                    && !core.tracees.contains_key(&child)
                {
                    core.tracees.insert(child, TraceeState::default());
                    h.attached(child, Some(tid));
                }
                h.stop(Stop::Forked(Stopped::new(
                    core,
                    tid,
                    0,
                    mode,
                    Forked { how: kind, child },
                )));
            }
            StopKind::Exec { former } => {
                let former = former.unwrap_or(tid);
                if former != tid
                    && let Some(f) = core.tracees.remove(&former)
                    && let Some(t) = core.tracees.get_mut(&tid)
                {
                    // The thread that called execve is the leader now, in its call.
                    t.in_call = f.in_call;
                }
                let mode = if core.tracees.get(&tid).is_some_and(|t| t.in_call) {
                    Resume::Syscall
                } else {
                    mode
                };
                // A launched command is the user's from its exec on (without syscall stops
                // this is the first the engine hears of it).
                if let Some(t) = core.tracees.get_mut(&tid) {
                    t.launching = false;
                }
                h.stop(Stop::Exec(Stopped::new(
                    core,
                    tid,
                    0,
                    mode,
                    Exec { former },
                )));
            }
            StopKind::GroupStop { sig } => {
                let stop = Stopped::new(core, tid, 0, Resume::Listen, Group { sig });
                if launching {
                    drop(stop);
                } else {
                    h.stop(Stop::Group(stop));
                }
            }
            StopKind::Breakpoint | StopKind::SingleStep if !launching => {
                let trap = Trap {
                    siginfo: siginfo.unwrap_or([0; 128]),
                };
                let stop = Stopped::new(core, tid, 0, mode, trap);
                h.stop(if kind == StopKind::Breakpoint {
                    Stop::Breakpoint(stop)
                } else {
                    Stop::SingleStep(stop)
                });
            }
            StopKind::Breakpoint | StopKind::SingleStep => {
                // Our own launch, before its execve: a trap there is the program's.
                raw_resume(tid, mode, libc::SIGTRAP);
                core.resumed();
            }
            StopKind::Signal { sig } if launching => {
                // Our own launch: the SIGSTOP it raised, the SIGCONT we sent.
                raw_resume(tid, mode, sig);
                core.resumed();
            }
            StopKind::Signal { sig } => {
                let siginfo = siginfo.or_else(|| siginfo_of(tid)).unwrap_or([0; 128]);
                h.stop(Stop::Signal(Stopped::new(
                    core,
                    tid,
                    sig,
                    mode,
                    Signal { sig, siginfo },
                )));
            }
            StopKind::Interrupt if !launching => {
                // The first stop after a seize: where a probe arms its breakpoints.
                h.stop(Stop::Interrupt(Stopped::new(core, tid, 0, mode, ())));
            }
            StopKind::Interrupt | StopKind::Event(_) => {
                raw_resume(tid, mode, 0);
                core.resumed();
            }
            StopKind::Exited { .. } | StopKind::Killed { .. } | StopKind::Other => {}
        }
        for gone in std::mem::take(&mut self.core.detached) {
            h.gone(gone, Gone::Detached);
        }
        h.after_resume();
    }

    /// The handler's last look while `tid` is held before a detach: a probe puts its
    /// original bytes back (and rewinds a tracee stopped on one of its traps) here. Returns
    /// whether the trap it stopped on was the handler's.
    fn last_look(&mut self, h: &mut dyn Handler, tid: i32, pass: i32, release: Release) -> bool {
        if !self.core.tracees.contains_key(&tid) {
            return false;
        }
        let mode = self.core.mode;
        let mut g = Stopped::new(&mut self.core, tid, pass, mode, release);
        let mine = h.release(&mut g);
        // Not resumed: the caller detaches it, with its signal.
        g.core = None;
        mine
    }

    /// Detaches `tid` from its stop, handing `pass` back, and tells the handler.
    fn let_go(&mut self, h: &mut dyn Handler, tid: i32, pass: i32) {
        raw_detach(tid, pass);
        self.core.released.insert(tid);
        if self.core.tracees.remove(&tid).is_some() {
            h.gone(tid, Gone::Detached);
            h.after_resume();
        }
    }

    fn gone(&mut self, tid: i32, h: &mut dyn Handler, how: Gone) {
        self.core.parked.retain(|p| p.1 != tid);
        if self.core.tracees.remove(&tid).is_none() {
            // Let go of earlier (detached, say by -b execve), it is still our child: its end
            // is nobody's news. Else it was never traced.
            if !self.core.released.remove(&tid) {
                crate::debugln!("{tid}: exit of a process never traced");
                h.unknown_exit(tid);
            }
            return;
        }
        crate::debugln!(
            "{tid}: gone ({how:?}), {} tracees left",
            self.core.tracees.len()
        );
        if Some(tid) == self.launched {
            self.launched_code = Some(match how {
                Gone::Exited { code } => code,
                Gone::Killed { sig, .. } => 128 + sig,
                Gone::Detached => 0,
            });
        }
        h.gone(tid, how);
        h.after_resume();
    }

    /// Detaches from every tracee: interrupt each, and at its next stop detach it, handing a
    /// pending signal back so that nothing is lost. A syscall in flight is restarted by the
    /// kernel as if we had never been there.
    pub fn detach_all(&mut self, h: &mut dyn Handler) {
        crate::debugln!(
            "ending: {} tracees to {}",
            self.core.tracees.len(),
            if self.core.kill_on_exit {
                "kill"
            } else {
                "detach"
            }
        );
        if self.core.kill_on_exit {
            // Filtered tracees are not let go (see `filter_by_seccomp`), nor those of
            // --kill-on-exit: killed (parked ones too: they are tracees), and their deaths
            // collected below.
            self.core.parked.clear();
            for &tid in self.core.tracees.keys() {
                let _ =
                    nix::sys::signal::kill(Pid::from_raw(tid), nix::sys::signal::Signal::SIGKILL);
            }
        }
        // Parked tracees are in their stop already (an interrupt would never be reported):
        // detach them from it, each with the handler's last look.
        for (_, tid, _, sig) in std::mem::take(&mut self.core.parked) {
            let release = Release {
                breakpoint: false,
                single_step: false,
            };
            self.last_look(h, tid, sig, release);
            self.let_go(h, tid, sig);
        }
        for &tid in self.core.tracees.keys() {
            // SAFETY: PTRACE_INTERRUPT takes no data.
            unsafe {
                libc::ptrace(libc::PTRACE_INTERRUPT, tid, 0, 0);
            }
        }
        let mut retried: Vec<i32> = Vec::new();
        while !self.core.tracees.is_empty() {
            let mut status: libc::c_int = 0;
            // SAFETY: plain waitpid(2) into a local.
            let tid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
            if tid < 0 {
                if Errno::last() == Errno::EINTR {
                    continue;
                }
                break;
            }
            let (kind, _) = Engine::classify(tid, status);
            match kind {
                StopKind::Exited { code } => {
                    self.gone(tid, h, Gone::Exited { code });
                    continue;
                }
                StopKind::Killed { sig, core } => {
                    self.gone(tid, h, Gone::Killed { sig, core });
                    continue;
                }
                StopKind::Other => continue,
                StopKind::Forked {
                    child: Some(child), ..
                } => {
                    // A child born during detach: detach it too when it stops.
                    self.core.tracees.entry(child).or_default();
                }
                _ => {}
            }
            let trap = matches!(kind, StopKind::Breakpoint | StopKind::SingleStep);
            // A trap of a breakpoint or a step can be pending behind the interrupt stop:
            // detached now, the tracee would receive it as a SIGTRAP (and die of it). Let it
            // run into that trap first (it is delivered before anything else), once.
            if !trap
                && !matches!(kind, StopKind::Signal { .. })
                && !retried.contains(&tid)
                && sigtrap_pending(tid)
            {
                retried.push(tid);
                raw_resume(tid, Resume::Continue, 0);
                continue;
            }
            let mut pass = match kind {
                StopKind::Signal { sig } => sig,
                // Nobody's trap (the program's own int3) is the program's SIGTRAP.
                _ if trap => libc::SIGTRAP,
                _ => 0,
            };
            let release = Release {
                breakpoint: kind == StopKind::Breakpoint,
                single_step: kind == StopKind::SingleStep,
            };
            if self.last_look(h, tid, pass, release) && trap {
                pass = 0;
            }
            self.let_go(h, tid, pass);
        }
        // Anything left (e.g. a child whose first stop never came) is detached by the kernel
        // when we exit, and restarted.
        self.core.tracees.clear();
    }
}

impl Drop for Engine {
    /// No exit path can leave a tracee behind: whatever is still traced is detached.
    fn drop(&mut self) {
        if !self.core.tracees.is_empty() {
            self.detach_all(&mut Discard);
        }
    }
}

/// Whether a SIGTRAP is pending for thread `tid` (its own pending set, where the kernel
/// queues breakpoint and step traps).
fn sigtrap_pending(tid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("SigPnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|m| m & (1 << (libc::SIGTRAP - 1)) != 0)
}

/// The signal of a signal-delivery-stop, which a detach must hand back; 0 for any other.
fn pass_on(status: libc::c_int) -> i32 {
    let sig = libc::WSTOPSIG(status);
    if sig != (libc::SIGTRAP | 0x80) && stop::event_of(status) == 0 {
        sig
    } else {
        0
    }
}

fn siginfo_of(tid: i32) -> Option<[u8; 128]> {
    let si = ptrace::getsiginfo(Pid::from_raw(tid)).ok()?;
    // SAFETY: siginfo_t is 128 bytes of plain data.
    Some(unsafe { std::mem::transmute::<libc::siginfo_t, [u8; 128]>(si) })
}

fn syscall_info(tid: i32) -> Option<Syscall> {
    let info = ptrace::syscall_info(Pid::from_raw(tid)).ok()?;
    // SAFETY: the union member matches `op`, which the kernel set.
    unsafe {
        match info.op {
            libc::PTRACE_SYSCALL_INFO_ENTRY => Some(Syscall::Entry {
                nr: info.u.entry.nr,
                args: info.u.entry.args,
                sp: info.stack_pointer,
                ip: info.instruction_pointer,
            }),
            libc::PTRACE_SYSCALL_INFO_SECCOMP => Some(Syscall::Entry {
                nr: info.u.seccomp.nr,
                args: info.u.seccomp.args,
                sp: info.stack_pointer,
                ip: info.instruction_pointer,
            }),
            libc::PTRACE_SYSCALL_INFO_EXIT => Some(Syscall::Exit {
                rval: info.u.exit.sval,
                is_error: info.u.exit.is_error != 0,
                ip: info.instruction_pointer,
            }),
            _ => None,
        }
    }
}
