//! What the tracer reports to the printers: one [`Event`] per thing a strace user sees.
//!
//! Events carry decoded values only; the printers in `output` turn them into strace-format
//! text, JSON or a summary table and never look at a tracee themselves.

use crate::syscalls::{Ret, Value};
use std::borrow::Cow;
use std::time::Duration;

/// Wall-clock time since the Unix epoch (CLOCK_REALTIME), taken by the event source when it
/// saw the event.
pub use crate::trace::Timestamp;

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A process or thread became a tracee (attached, launched, or a new child under `-f`).
    /// `ns_pid`: its pid in its own PID namespace when that is not ours (a container's).
    Attached {
        pid: i32,
        time: Timestamp,
        ns_pid: Option<i32>,
    },
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
        /// `-i`: the instruction pointer at the entry (after the `syscall` instruction).
        ip: u64,
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
        /// The system CPU time of the call, where the source measured it (`-c` without
        /// `-w`, as strace times calls).
        cpu: Option<Duration>,
        /// `-k`: the stack at the entry stop, innermost frame first.
        stack: Vec<StackFrame>,
        /// Fields the annotator adds to this call's JSON object (a segment it names).
        fields: Vec<(&'static str, FieldValue)>,
        /// The return value was made up by `-e inject=`: the kernel ran nothing.
        injected: bool,
        /// `-e inject=...:poke_enter=|poke_exit=` wrote into an argument's memory: strace's
        /// ` (INJECTED: args)`.
        poked: bool,
        /// `-e inject=`'s delay held the tracee at this call: ` (DELAYED)`.
        delayed: bool,
        /// `-e read=` / `-e write=`: the data the call moved, dumped in hex after its line.
        dump: Option<Dump>,
        /// `-i`: the instruction pointer at the entry.
        ip: u64,
    },
    /// A signal delivered to the tracee: `--- SIGUSR1 {si_signo=SIGUSR1, ...} ---`.
    Signal {
        pid: i32,
        time: Timestamp,
        sig: i32,
        info: Value,
        /// `-k`: the stack where the signal arrived, innermost frame first.
        stack: Vec<StackFrame>,
        /// `-i`: the instruction pointer where the signal arrived, when asked for.
        ip: Option<u64>,
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
    /// A thread other than the leader called execve: the kernel ended every other thread,
    /// the leader's call ends with ` = ?`, and the execve of `former` goes on under the
    /// leader's pid: `+++ superseded by execve in pid FORMER +++`, then
    /// `<... execve resumed>) = 0` under `pid`. `former` is gone without an exit of its own.
    Superseded {
        pid: i32,
        former: i32,
        time: Timestamp,
    },
    /// A kernel-side source dropped `count` events here: `+++ lost N events +++`.
    Lost { time: Timestamp, count: Option<u64> },
    /// A child pgstrace never traced exited (inherited from the process that exec'd
    /// pgstrace): `pgstrace: Exit of unknown pid N ignored`, unless `--quiet=exit`.
    UnknownExit { pid: i32, time: Timestamp },
    /// `-e inject=...:poke_enter=|poke_exit=` could not write into a tracee (`why`):
    /// `pgstrace: Failed to tamper with process N: WHY`, before the call's line.
    TamperFailed {
        pid: i32,
        time: Timestamp,
        why: String,
    },
    /// A note about a tracee from the session's annotator (PostgreSQL's: the statement a
    /// backend runs, a parallel worker's leader), sent just before the tracee's next
    /// syscall event. The printers do not know what it means: the text printer writes its
    /// line as a `# pid N KEY: TEXT` comment, the JSON printer keeps its fields and puts
    /// them on that tracee's later syscall objects.
    Note {
        pid: i32,
        time: Timestamp,
        note: Note,
    },
}

/// The data of a read or write call, for `-e read=`/`-e write=`.
#[derive(Clone, Debug, PartialEq)]
pub enum Dump {
    /// One buffer (read, write, pread64, sendto, ...).
    Plain(Vec<u8>),
    /// Each iovec's part (readv, writev, ...).
    Vector(Vec<Vec<u8>>),
}

impl Event {
    /// The tracee an event is about.
    pub fn pid(&self) -> i32 {
        match self {
            Event::Attached { pid, .. }
            | Event::SyscallEntry { pid, .. }
            | Event::SyscallExit { pid, .. }
            | Event::Signal { pid, .. }
            | Event::Stopped { pid, .. }
            | Event::Exited { pid, .. }
            | Event::Killed { pid, .. }
            | Event::Detached { pid, .. }
            | Event::Superseded { pid, .. }
            | Event::Note { pid, .. }
            | Event::UnknownExit { pid, .. }
            | Event::TamperFailed { pid, .. } => *pid,
            Event::Lost { .. } => 0,
        }
    }
}

/// See [`Event::Note`].
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// The text line, as `(KEY, TEXT)`: `# pid N KEY: TEXT`. TEXT is not yet escaped.
    /// `None`: a note for JSON only.
    pub line: Option<(&'static str, String)>,
    /// What it changes in the fields that the tracee's later syscall objects carry.
    pub fields: Vec<NoteField>,
}

/// One change to a tracee's note fields.
#[derive(Clone, Debug, PartialEq)]
pub enum NoteField {
    /// Set the field.
    Set(&'static str, FieldValue),
    /// Set the field unless it is set already.
    Default(&'static str, FieldValue),
    /// Remove the field.
    Unset(&'static str),
}

/// A field's value.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    Null,
    Int(i64),
    Text(String),
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
