//! Process, signal, resource, futex, prctl and System V IPC syscalls, decoded as strace 6.1
//! prints them: one file per subject (`signal`, `process`, `futex`, `resource`, `prctl`,
//! `ipc`, `creds`, `sched`), asked in turn; the tests of all of them are in `tests.rs`.
//!
//! Two calls need more than the argument registers, and the session layer fills them in:
//! - `rt_sigreturn` prints the mask being restored, read from the signal frame on the stack.
//!   The entry decoder prints `{mask=...}`; with the stack pointer at the entry stop (from
//!   `PTRACE_GET_SYSCALL_INFO`) call [`sigreturn_arg`] and put its result in slot 0.
//! - `restart_syscall` prints the call it resumes: `<... resuming interrupted read ...>`. The
//!   decoder prints `<... resuming interrupted call ...>`; a session that remembers the call a
//!   thread was in when it was interrupted replaces slot 0 with [`restart_arg`]`("read")`.

pub(super) use super::Ctx;
use super::util::{le_i64, read_vec};
use crate::syscalls::signals;
pub(super) use crate::syscalls::{Ret, Value};

pub(crate) mod creds;
pub(crate) mod futex;
pub(crate) mod ipc;
pub(crate) mod prctl;
pub(crate) mod process;
pub(crate) mod resource;
pub(crate) mod sched;
pub(crate) mod signal;

pub use signal::{restart_arg, sigreturn_arg};

pub(super) type Slots = Vec<Option<Value>>;

pub(super) use super::util::{output, setter};

pub(super) fn sig_arg(v: u64) -> Value {
    signals::value(v as i32)
}

/// A pid argument: signed (`-1`, `-PGID`); under `-Y` a positive one marked as a pid, its
/// command name found after the resume (`decode::fill_pids`).
pub(crate) fn pid_arg(c: &Ctx, v: u64) -> Value {
    let pid = v as i32;
    if c.o.decode_pids.any() && pid > 0 {
        Value::Pid {
            pid: pid.into(),
            comm: None,
            ours: None,
        }
    } else {
        Value::Int(pid.into())
    }
}

/// `struct rusage`, abbreviated as strace does by default (every field under `-v`).
pub(super) fn rusage(c: &Ctx, addr: u64) -> Value {
    let need = if c.o.abbrev { 32 } else { 144 };
    let b = match read_vec(c, addr, need) {
        Some(b) if b.len() == need => b,
        _ => return Value::Ptr(addr),
    };
    let tv = |off| {
        Value::structure(vec![
            ("tv_sec", Value::Int(le_i64(&b, off))),
            ("tv_usec", Value::Int(le_i64(&b, off + 8))),
        ])
    };
    if !c.o.abbrev {
        const LONGS: [&str; 14] = [
            "ru_maxrss",
            "ru_ixrss",
            "ru_idrss",
            "ru_isrss",
            "ru_minflt",
            "ru_majflt",
            "ru_nswap",
            "ru_inblock",
            "ru_oublock",
            "ru_msgsnd",
            "ru_msgrcv",
            "ru_nsignals",
            "ru_nvcsw",
            "ru_nivcsw",
        ];
        let mut f = vec![("ru_utime", tv(0)), ("ru_stime", tv(16))];
        for (i, name) in LONGS.iter().enumerate() {
            f.push((name, Value::Int(le_i64(&b, 32 + 8 * i))));
        }
        return Value::structure(f);
    }
    Value::structure(vec![
        ("ru_utime", tv(0)),
        ("ru_stime", tv(16)),
        ("", Value::Elided),
    ])
}

#[cfg(test)]
mod tests;
