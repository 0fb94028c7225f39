//! What a `waitpid` status means for a tracee seized with `PTRACE_SEIZE` and
//! `PTRACE_O_TRACESYSGOOD`: pure functions over the status word, the ptrace event message
//! and the head of the siginfo, so that every case is unit-tested on recorded values.
//!
//! Classification takes two steps because the event message and the siginfo cost a syscall
//! each: [`needs`] says which of them a status needs, and [`classify`] decides with them.

/// The start of a `siginfo_t`: all that classification reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigHead {
    pub signo: i32,
    pub code: i32,
}

impl SigHead {
    /// The head of a raw 128-byte siginfo (`si_signo` at 0, `si_code` at 8).
    pub fn of(raw: &[u8; 128]) -> SigHead {
        let int = |at: usize| i32::from_ne_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
        SigHead {
            signo: int(0),
            code: int(8),
        }
    }
}

/// `si_code` values of a SIGTRAP (asm-generic/siginfo.h, x86's traps.c).
pub mod si_code {
    /// Sent by the kernel itself: on x86 an `int3` (a software breakpoint).
    pub const SI_KERNEL: i32 = 0x80;
    /// A hardware breakpoint or watchpoint.
    pub const TRAP_BRKPT: i32 = 1;
    /// A single step (the trap flag).
    pub const TRAP_TRACE: i32 = 2;
}

/// Which ptrace event a stop reports (`status >> 16`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PtraceEvent {
    Fork,
    Vfork,
    Clone,
    Exec,
    VforkDone,
    Exit,
    Seccomp,
    /// `PTRACE_EVENT_STOP`: a group-stop or an interrupt stop under `PTRACE_SEIZE`.
    Stop,
    Other(i32),
}

impl PtraceEvent {
    fn of(event: i32) -> Option<PtraceEvent> {
        Some(match event {
            0 => return None,
            libc::PTRACE_EVENT_FORK => PtraceEvent::Fork,
            libc::PTRACE_EVENT_VFORK => PtraceEvent::Vfork,
            libc::PTRACE_EVENT_CLONE => PtraceEvent::Clone,
            libc::PTRACE_EVENT_EXEC => PtraceEvent::Exec,
            libc::PTRACE_EVENT_VFORK_DONE => PtraceEvent::VforkDone,
            libc::PTRACE_EVENT_EXIT => PtraceEvent::Exit,
            libc::PTRACE_EVENT_SECCOMP => PtraceEvent::Seccomp,
            libc::PTRACE_EVENT_STOP => PtraceEvent::Stop,
            other => PtraceEvent::Other(other),
        })
    }
}

/// How a new task came to be: `fork`, `vfork` or `clone` (a thread, or a `clone` process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkKind {
    Fork,
    Vfork,
    Clone,
}

/// What a tracee's status says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopKind {
    /// It exited: the tracee is gone.
    Exited { code: i32 },
    /// A signal killed it: the tracee is gone.
    Killed { sig: i32, core: bool },
    /// A syscall-entry or -exit stop (`SIGTRAP | 0x80`); which one, `PTRACE_GET_SYSCALL_INFO`
    /// tells.
    Syscall,
    /// A `PTRACE_EVENT_SECCOMP` stop (`--seccomp-bpf`): the entry of a call the filter
    /// returned `SECCOMP_RET_TRACE` for.
    Seccomp,
    /// It forked, vforked or cloned `child` (`None` if the message could not be read).
    Forked { kind: ForkKind, child: Option<i32> },
    /// A successful execve; `former` is the tid that called it (a non-leader thread takes
    /// over the leader's tid).
    Exec { former: Option<i32> },
    /// Some other ptrace event (vfork-done, exit, seccomp, ...): nothing to report.
    Event(PtraceEvent),
    /// A group-stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): keep it stopped with PTRACE_LISTEN.
    GroupStop { sig: i32 },
    /// A `PTRACE_INTERRUPT` (or the first stop after a seize, or of an auto-attached child).
    Interrupt,
    /// A breakpoint trap (`int3`, or a hardware breakpoint): never a signal to deliver
    /// unless its owner says it is not theirs.
    Breakpoint,
    /// The trap after a `PTRACE_SINGLESTEP`.
    SingleStep,
    /// A signal-delivery-stop: the signal is delivered on resume unless suppressed.
    Signal { sig: i32 },
    /// A status that is none of these (WIFCONTINUED): nothing to do.
    Other,
}

/// Which extra facts [`classify`] needs for a status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// `PTRACE_GETEVENTMSG` (fork child, exec's former tid).
    pub event_msg: bool,
    /// `PTRACE_GETSIGINFO` (a SIGTRAP that may be a breakpoint or a step).
    pub siginfo: bool,
}

/// The event bits of a status (`status >> 16`).
pub fn event_of(status: i32) -> i32 {
    (status >> 16) & 0xffff
}

const STOP_SIGNALS: [i32; 4] = [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];

/// What [`classify`] will want for `status`.
pub fn needs(status: i32) -> Needs {
    if !libc::WIFSTOPPED(status) {
        return Needs::default();
    }
    let sig = libc::WSTOPSIG(status);
    match PtraceEvent::of(event_of(status)) {
        Some(PtraceEvent::Fork | PtraceEvent::Vfork | PtraceEvent::Clone | PtraceEvent::Exec) => {
            Needs {
                event_msg: true,
                siginfo: false,
            }
        }
        Some(_) => Needs::default(),
        None => Needs {
            event_msg: false,
            siginfo: sig == libc::SIGTRAP,
        },
    }
}

/// Classifies a `waitpid` status. `event_msg` and `siginfo` are what [`needs`] asked for
/// (`None` when not read, or when reading failed because the tracee is gone).
pub fn classify(status: i32, event_msg: Option<u64>, siginfo: Option<SigHead>) -> StopKind {
    if libc::WIFEXITED(status) {
        return StopKind::Exited {
            code: libc::WEXITSTATUS(status),
        };
    }
    if libc::WIFSIGNALED(status) {
        return StopKind::Killed {
            sig: libc::WTERMSIG(status),
            core: libc::WCOREDUMP(status),
        };
    }
    if !libc::WIFSTOPPED(status) {
        return StopKind::Other;
    }
    let sig = libc::WSTOPSIG(status);
    if sig == libc::SIGTRAP | 0x80 {
        return StopKind::Syscall;
    }
    let msg_pid = event_msg
        .and_then(|m| i32::try_from(m).ok())
        .filter(|&p| p > 0);
    match PtraceEvent::of(event_of(status)) {
        Some(PtraceEvent::Fork) => StopKind::Forked {
            kind: ForkKind::Fork,
            child: msg_pid,
        },
        Some(PtraceEvent::Vfork) => StopKind::Forked {
            kind: ForkKind::Vfork,
            child: msg_pid,
        },
        Some(PtraceEvent::Clone) => StopKind::Forked {
            kind: ForkKind::Clone,
            child: msg_pid,
        },
        Some(PtraceEvent::Exec) => StopKind::Exec { former: msg_pid },
        Some(PtraceEvent::Stop) if STOP_SIGNALS.contains(&sig) => StopKind::GroupStop { sig },
        Some(PtraceEvent::Stop) => StopKind::Interrupt,
        Some(PtraceEvent::Seccomp) => StopKind::Seccomp,
        Some(other) => StopKind::Event(other),
        None if sig == libc::SIGTRAP => match siginfo {
            // Only the kernel's own traps are breakpoints and steps; a SIGTRAP that a
            // process sent (kill, raise: SI_USER, SI_TKILL) is an ordinary signal.
            Some(SigHead { signo, code }) if signo == libc::SIGTRAP => match code {
                si_code::SI_KERNEL | si_code::TRAP_BRKPT => StopKind::Breakpoint,
                si_code::TRAP_TRACE => StopKind::SingleStep,
                _ => StopKind::Signal { sig },
            },
            _ => StopKind::Signal { sig },
        },
        None => StopKind::Signal { sig },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Status words as waitpid(2) encodes them on x86-64 Linux (`event << 16 | sig << 8 |
    // 0x7f` for a stop, `code << 8` for an exit, `sig | 0x80 core` for a death): `0x857f` is
    // a syscall stop (SIGTRAP|0x80). The live tests (robustness, engine, strace_compat) run
    // the same classification on real tracees.
    const SYSCALL_STOP: i32 = 0x857f;
    const FORK_EVENT: i32 = 0x1_057f; // PTRACE_EVENT_FORK << 16 | SIGTRAP << 8 | 0x7f
    const VFORK_EVENT: i32 = 0x2_057f;
    const CLONE_EVENT: i32 = 0x3_057f;
    const EXEC_EVENT: i32 = 0x4_057f;
    const VFORK_DONE_EVENT: i32 = 0x5_057f;
    const EXIT_EVENT: i32 = 0x6_057f;
    const SECCOMP_EVENT: i32 = 0x7_057f;
    const GROUP_STOP_SIGSTOP: i32 = 0x80_137f; // PTRACE_EVENT_STOP << 16 | SIGSTOP << 8
    const GROUP_STOP_SIGTSTP: i32 = 0x80_147f;
    const INTERRUPT_STOP: i32 = 0x80_057f; // PTRACE_EVENT_STOP with SIGTRAP
    const SIGTRAP_STOP: i32 = 0x057f;
    const SIGUSR1_STOP: i32 = 0x0a7f;
    const SIGSTOP_DELIVERY: i32 = 0x137f;
    const EXITED_3: i32 = 0x0300;
    const KILLED_SIGKILL: i32 = 0x0009;
    const KILLED_SIGSEGV_CORE: i32 = 0x008b;
    const CONTINUED: i32 = 0xffff;

    fn trap(code: i32) -> Option<SigHead> {
        Some(SigHead {
            signo: libc::SIGTRAP,
            code,
        })
    }

    #[test]
    fn exits_and_deaths() {
        assert_eq!(classify(EXITED_3, None, None), StopKind::Exited { code: 3 });
        assert_eq!(
            classify(KILLED_SIGKILL, None, None),
            StopKind::Killed {
                sig: libc::SIGKILL,
                core: false
            }
        );
        assert_eq!(
            classify(KILLED_SIGSEGV_CORE, None, None),
            StopKind::Killed {
                sig: libc::SIGSEGV,
                core: true
            }
        );
        assert_eq!(classify(CONTINUED, None, None), StopKind::Other);
        assert_eq!(needs(EXITED_3), Needs::default());
    }

    #[test]
    fn syscall_stops_need_nothing_more() {
        assert_eq!(needs(SYSCALL_STOP), Needs::default());
        assert_eq!(classify(SYSCALL_STOP, None, None), StopKind::Syscall);
    }

    #[test]
    fn fork_events_carry_the_child() {
        for (status, kind) in [
            (FORK_EVENT, ForkKind::Fork),
            (VFORK_EVENT, ForkKind::Vfork),
            (CLONE_EVENT, ForkKind::Clone),
        ] {
            assert!(needs(status).event_msg);
            assert!(!needs(status).siginfo);
            assert_eq!(
                classify(status, Some(4242), None),
                StopKind::Forked {
                    kind,
                    child: Some(4242)
                }
            );
            assert_eq!(
                classify(status, None, None),
                StopKind::Forked { kind, child: None }
            );
        }
    }

    #[test]
    fn exec_names_the_former_tid() {
        assert!(needs(EXEC_EVENT).event_msg);
        assert_eq!(
            classify(EXEC_EVENT, Some(77), None),
            StopKind::Exec { former: Some(77) }
        );
    }

    #[test]
    fn other_events() {
        assert_eq!(
            classify(VFORK_DONE_EVENT, None, None),
            StopKind::Event(PtraceEvent::VforkDone)
        );
        assert_eq!(
            classify(EXIT_EVENT, None, None),
            StopKind::Event(PtraceEvent::Exit)
        );
        // --seccomp-bpf's stop: a call's entry.
        assert_eq!(classify(SECCOMP_EVENT, None, None), StopKind::Seccomp);
    }

    #[test]
    fn group_stop_versus_interrupt() {
        assert_eq!(
            classify(GROUP_STOP_SIGSTOP, None, None),
            StopKind::GroupStop { sig: libc::SIGSTOP }
        );
        assert_eq!(
            classify(GROUP_STOP_SIGTSTP, None, None),
            StopKind::GroupStop { sig: libc::SIGTSTP }
        );
        assert_eq!(classify(INTERRUPT_STOP, None, None), StopKind::Interrupt);
        // A signal-delivery-stop of SIGSTOP is a signal to deliver, not a group-stop yet.
        assert_eq!(
            classify(SIGSTOP_DELIVERY, None, None),
            StopKind::Signal { sig: libc::SIGSTOP }
        );
    }

    #[test]
    fn sigtraps_by_si_code() {
        assert!(needs(SIGTRAP_STOP).siginfo);
        assert!(!needs(SIGUSR1_STOP).siginfo);
        assert_eq!(
            classify(SIGTRAP_STOP, None, trap(si_code::SI_KERNEL)),
            StopKind::Breakpoint
        );
        assert_eq!(
            classify(SIGTRAP_STOP, None, trap(si_code::TRAP_BRKPT)),
            StopKind::Breakpoint
        );
        assert_eq!(
            classify(SIGTRAP_STOP, None, trap(si_code::TRAP_TRACE)),
            StopKind::SingleStep
        );
        // kill -TRAP (SI_USER) and raise(SIGTRAP) (SI_TKILL) are the program's signals.
        for code in [0, -6, -1] {
            assert_eq!(
                classify(SIGTRAP_STOP, None, trap(code)),
                StopKind::Signal { sig: libc::SIGTRAP }
            );
        }
        // Without a siginfo (the tracee vanished) nothing is swallowed.
        assert_eq!(
            classify(SIGTRAP_STOP, None, None),
            StopKind::Signal { sig: libc::SIGTRAP }
        );
        assert_eq!(
            classify(SIGUSR1_STOP, None, None),
            StopKind::Signal { sig: libc::SIGUSR1 }
        );
    }

    #[test]
    fn siginfo_head_from_raw_bytes() {
        let mut raw = [0u8; 128];
        raw[0..4].copy_from_slice(&libc::SIGTRAP.to_ne_bytes());
        raw[8..12].copy_from_slice(&si_code::SI_KERNEL.to_ne_bytes());
        assert_eq!(
            SigHead::of(&raw),
            SigHead {
                signo: libc::SIGTRAP,
                code: si_code::SI_KERNEL
            }
        );
    }
}
