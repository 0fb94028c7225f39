//! What the tracer reports to the printers: one [`Event`] per thing a strace user sees.
//!
//! Events carry decoded values only; the printers in `output` turn them into strace-format
//! text, JSON or a summary table and never look at a tracee themselves.

use crate::syscalls::{Ret, Value};
use std::borrow::Cow;
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
        name: Cow<'static, str>,
        args: Vec<Value>,
        /// More arguments follow at exit (the entry part ends in `, ` when the line is cut).
        more: bool,
        /// The six argument registers.
        raw_args: [u64; 6],
    },
    /// A syscall exit stop, with every argument. If the printer has this pid's line open it
    /// completes it; if another line interrupted it, it prints `<... name resumed>` and the
    /// arguments the entry did not print; if it never saw the entry (filtered by status), it
    /// prints the whole line.
    SyscallExit {
        pid: i32,
        time: Timestamp,
        nr: u64,
        name: Cow<'static, str>,
        args: Vec<Value>,
        raw_args: [u64; 6],
        ret: Ret,
        /// Time from the entry stop to the exit stop.
        duration: Duration,
        /// `-k`: the stack at the entry stop, innermost frame first.
        stack: Vec<StackFrame>,
    },
    /// A signal delivered to the tracee: `--- SIGUSR1 {si_signo=SIGUSR1, ...} ---`.
    Signal {
        pid: i32,
        time: Timestamp,
        sig: i32,
        info: Value,
        /// `-k`: the stack where the signal arrived, innermost frame first.
        stack: Vec<StackFrame>,
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
    /// PostgreSQL annotation of a postgres tracee (off under `--no-pg`), sent just before
    /// the tracee's next syscall event: the text printer writes it as a `# pid N ...` line,
    /// the JSON printer attaches it to that tracee's later syscall objects.
    Pg {
        pid: i32,
        time: Timestamp,
        note: PgNote,
    },
}

/// What the tracer learnt about a postgres tracee.
#[derive(Clone, Debug, PartialEq)]
pub enum PgNote {
    /// The statement the backend runs (or last ran), whitespace runs folded to one space,
    /// cut at a few hundred bytes (`truncated`). Not yet escaped.
    Query { text: String, truncated: bool },
    /// What the process is (`backend`, `parallel worker`, `checkpointer`, `postmaster`, ...),
    /// with a parallel worker's leader.
    Role { role: String, leader: Option<i32> },
}

/// One frame of a `-k` stack, symbolized.
#[derive(Clone, Debug, PartialEq)]
pub struct StackFrame {
    /// The object's path as mapped (`/usr/lib/postgresql/15/bin/postgres`, `[vdso]`), or
    /// `None` when the address lies in no module.
    pub object: Option<String>,
    /// The function, when a symbol (or DWARF) covers the address.
    pub symbol: Option<String>,
    /// Offset from the function's start: the symbol's, or the `.eh_frame` FDE's for an
    /// unnamed function; `None` when neither is known.
    pub offset: Option<u64>,
    /// The runtime address.
    pub address: u64,
    /// The address as a file offset in the object (what strace prints in brackets).
    pub file_offset: Option<u64>,
    /// `-kk`: source file and line.
    pub file: Option<String>,
    pub line: Option<u32>,
    /// `-kk`: a function inlined into the next frame (same address).
    pub inlined: bool,
    /// How the unwinder found it: `cfi`, `frame-pointer`, ... (frames that needed a
    /// fallback say so).
    pub how: &'static str,
}
