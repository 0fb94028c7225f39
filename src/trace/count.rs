//! Counting the syscalls a short child of ours makes, by number, between two marker calls
//! (`getppid`): doctor's measurement of whether time calls leave the vDSO. The child is
//! ours alone (PTRACE_TRACEME, killed with us by EXITKILL); nothing else is ever traced here.

use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// What the child made between its first and its last `getppid`, and what it printed.
#[derive(Clone, Debug, Default)]
pub struct Counted {
    pub by_nr: BTreeMap<u64, u64>,
    pub stdout: String,
    pub exit_code: Option<i32>,
}

/// Runs `cmd` traced, counting syscall entries by number between the markers.
pub fn syscalls_between_markers(mut cmd: Command) -> std::io::Result<Counted> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    // SAFETY: the closure only calls ptrace(TRACEME), async-signal-safe.
    unsafe {
        cmd.pre_exec(|| ptrace::traceme().map_err(std::io::Error::from));
    }
    let mut child = cmd.spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    let mut out = Counted::default();
    let mut inside = false;
    let mut at_entry = true;
    let mut started = false;
    loop {
        let status = match waitpid(pid, None) {
            Ok(s) => s,
            Err(e) => {
                let _ = child.kill();
                return Err(e.into());
            }
        };
        let deliver = match status {
            WaitStatus::Exited(_, code) => {
                out.exit_code = Some(code);
                break;
            }
            WaitStatus::Signaled(..) => break,
            WaitStatus::Stopped(_, Signal::SIGTRAP) if !started => {
                // The exec stop: from here on, syscall stops are marked.
                started = true;
                let opts =
                    ptrace::Options::PTRACE_O_TRACESYSGOOD | ptrace::Options::PTRACE_O_EXITKILL;
                if let Err(e) = ptrace::setoptions(pid, opts) {
                    let _ = child.kill();
                    return Err(e.into());
                }
                None
            }
            WaitStatus::PtraceSyscall(_) => {
                if at_entry && let Ok(regs) = ptrace::getregs(pid) {
                    let nr = regs.orig_rax;
                    if nr == libc::SYS_getppid as u64 {
                        inside = !inside;
                    } else if inside {
                        *out.by_nr.entry(nr).or_default() += 1;
                    }
                }
                at_entry = !at_entry;
                None
            }
            WaitStatus::Stopped(_, sig) => Some(sig),
            _ => None,
        };
        if ptrace::syscall(pid, deliver).is_err() {
            break;
        }
    }
    let _ = child.wait();
    if let Some(mut so) = child.stdout.take() {
        let _ = so.read_to_string(&mut out.stdout);
    }
    Ok(out)
}
