//! Decoded argument and return values: the structured form shared by the strace-format
//! printer and the JSON printer.

use std::borrow::Cow;

/// One decoded argument (or a field of a decoded structure).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Signed decimal: `-1`, `4096`.
    Int(i64),
    /// Unsigned decimal: `18446744073709551615`.
    UInt(u64),
    /// Hexadecimal: `0x1f`.
    Hex(u64),
    /// Octal with a leading zero, as file modes: `0600`.
    Oct(u64),
    /// A pointer: `NULL` when zero, else `0x7ffd...`. Also what an unreadable pointer prints as.
    Ptr(u64),
    /// A file descriptor; the path is filled in under `-y`.
    Fd { fd: i32, path: Option<String> },
    /// A process or thread id as the tracee numbers it; its command name under `-Y`
    /// (`1234<postgres>`), its number in pgstrace's PID namespace under
    /// `--decode-pids=pidns` when the tracee's namespace is another.
    Pid {
        pid: i64,
        comm: Option<String>,
        ours: Option<i64>,
    },
    /// A quoted string from tracee memory. `truncated` prints `...` after the closing quote.
    Str { bytes: Vec<u8>, truncated: bool },
    /// A symbolic constant: `AT_FDCWD`, `SEEK_SET`, `CLOCK_MONOTONIC`, `SIG_IGN`.
    Sym(Cow<'static, str>),
    /// Flags joined with `|`: `O_RDWR|O_CREAT`. Unknown bits are appended by the decoder as a
    /// hex item (`0x80000000`). An empty list prints as `0`.
    Flags(Vec<Cow<'static, str>>),
    /// A structure: `{tv_sec=1, tv_nsec=2}`. A field named `""` prints its value alone.
    Struct(Vec<(Cow<'static, str>, Value)>),
    /// An array: `[1, 2]`.
    Array(Vec<Value>),
    /// The `...` that abbreviates the rest of a structure or array.
    Elided,
    /// Text the decoder already formatted in strace's notation (rare, last resort).
    Raw(String),
}

impl Value {
    /// A symbolic constant from a static name.
    pub fn sym(s: &'static str) -> Value {
        Value::Sym(Cow::Borrowed(s))
    }
    /// A structure from static field names.
    pub fn structure(fields: Vec<(&'static str, Value)>) -> Value {
        Value::Struct(
            fields
                .into_iter()
                .map(|(k, v)| (Cow::Borrowed(k), v))
                .collect(),
        )
    }
}

/// A decoded return value.
#[derive(Clone, Debug, PartialEq)]
pub enum Ret {
    /// `= 0`, `= 4096`.
    Int(i64),
    /// `= 0x7f212f1a7000` (mmap, brk, ...).
    Hex(u64),
    /// `= 022` (umask).
    Oct(u64),
    /// `= 3` or, under `-y`, `= 3</dev/shm/PostgreSQL.1>`.
    Fd { fd: i32, path: Option<String> },
    /// `= 1234` or, under `-Y`, `= 1234<postgres>` (getpid, fork, clone, wait4, ...); `ours`
    /// as in [`Value::Pid`].
    Pid {
        pid: i64,
        comm: Option<String>,
        ours: Option<i64>,
    },
    /// `= -1 ENOSPC (No space left on device)`; `errno` is positive. Kernel-internal restart
    /// codes (512..=516) print as `= ? ERESTARTSYS (To be restarted if SA_RESTART is set)`.
    Error { errno: i64 },
    /// `= 4294967274 EINVAL (Invalid argument)`: an error the kernel returned as another
    /// number than -1 (modify_ldt's int, returned unsigned); `errno` is positive.
    ValueError { value: u64, errno: i64 },
    /// `= ?`: the call did not return (exit, exit_group, execve that replaced the image, or the
    /// tracee died).
    Unknown,
    /// A value followed by a decoded annotation: `= 0x8002 (flags O_RDWR|O_LARGEFILE)`.
    Annotated { value: Box<Ret>, note: String },
}
