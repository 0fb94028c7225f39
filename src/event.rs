//! What the tracer reports to the printers: one [`Event`] per thing a strace user sees.
//!
//! Events carry decoded values only; the printers in `output` turn them into strace-format
//! text, JSON or a summary table and never look at a tracee themselves.

use crate::syscalls::{Ret, Value};
use std::time::Duration;

/// Wall-clock time since the Unix epoch (CLOCK_REALTIME), taken when the stop was seen.
pub type Timestamp = Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A process or thread became a tracee (attached, launched, or a new child under `-f`).
    Attached { pid: i32, time: Timestamp },
    /// A syscall entry stop. `args` are the arguments printable at entry (a prefix of the
    /// full list); the printer starts the line `name(args` and waits for the exit.
    SyscallEntry {
        pid: i32,
        time: Timestamp,
        nr: u64,
        name: String,
        args: Vec<Value>,
        /// More arguments follow at exit (the entry part ends in `, ` when the line is cut).
        more: bool,
    },
    /// A syscall exit stop, with every argument. If the printer has this pid's line open it
    /// completes it; if another line interrupted it, it prints `<... name resumed>` and the
    /// arguments the entry did not print; if it never saw the entry (filtered by status), it
    /// prints the whole line.
    SyscallExit {
        pid: i32,
        time: Timestamp,
        nr: u64,
        name: String,
        args: Vec<Value>,
        raw_args: [u64; 6],
        ret: Ret,
        /// Time from the entry stop to the exit stop.
        duration: Duration,
    },
    /// A signal delivered to the tracee: `--- SIGUSR1 {si_signo=SIGUSR1, ...} ---`.
    Signal {
        pid: i32,
        time: Timestamp,
        sig: i32,
        info: Value,
    },
    /// The tracee stopped on a stop signal (group-stop): `--- stopped by SIGSTOP ---`.
    Stopped { pid: i32, time: Timestamp, sig: i32 },
    /// `+++ exited with N +++`. A syscall line still open ends with ` = ?`.
    Exited {
        pid: i32,
        time: Timestamp,
        code: i32,
    },
    /// `+++ killed by SIGKILL (core dumped) +++`. A syscall line still open ends with ` = ?`.
    Killed {
        pid: i32,
        time: Timestamp,
        sig: i32,
        core: bool,
    },
    /// We detached from the tracee; a syscall line still open ends with ` <detached ...>`.
    Detached { pid: i32, time: Timestamp },
}
