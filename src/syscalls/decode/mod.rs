//! Argument decoders: from raw registers and tracee memory to [`Value`]s.
//!
//! A call is decoded in two steps. At the entry stop, [`decode_entry`] decodes every argument
//! that is an input (numbers, flags, paths, buffers being written); output arguments (a buffer
//! being read into, a `struct stat` being filled) are left as `None`. At the exit stop,
//! [`decode_exit`] fills those in and decodes the return value. strace prints the arguments
//! known at entry first and, when another tracee's line interrupts, the rest after
//! `<... NAME resumed>`; this split is what makes that possible.

use super::{DecodeOpts, Ret, Tracee, Value};

/// Arguments as decoded at the entry stop.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub nr: u64,
    pub raw: [u64; 6],
    /// One slot per printed argument; `None` for an argument only known at exit.
    pub args: Vec<Option<Value>>,
}

impl Entry {
    /// The arguments printable at entry: the leading run of decoded slots.
    pub fn printable_prefix(&self) -> usize {
        self.args.iter().take_while(|a| a.is_some()).count()
    }
}

/// Decodes the arguments of syscall `nr` at its entry stop.
pub fn decode_entry(nr: u64, raw: &[u64; 6], t: &dyn Tracee, o: &DecodeOpts) -> Entry {
    let _ = (t, o);
    let n = super::table::lookup(nr).map(|s| s.nargs as usize).unwrap_or(6);
    Entry {
        nr,
        raw: *raw,
        args: raw[..n].iter().map(|&a| Some(Value::Hex(a))).collect(),
    }
}

/// Decodes the output arguments and the return value at the exit stop. `rval` is the raw
/// return register; `is_error` says the kernel reported an error (then `-rval` is the errno).
/// Returns every argument (entry and exit ones) and the decoded return value.
pub fn decode_exit(
    entry: &Entry,
    rval: i64,
    is_error: bool,
    t: &dyn Tracee,
    o: &DecodeOpts,
) -> (Vec<Value>, Ret) {
    let _ = (t, o);
    let args = entry
        .args
        .iter()
        .map(|a| a.clone().unwrap_or(Value::Ptr(0)))
        .collect();
    let ret = if is_error {
        Ret::Error { errno: -rval }
    } else {
        Ret::Int(rval)
    };
    (args, ret)
}
