//! Small helpers shared by the `fs` and `mem` groups: strace's spellings of unknown values
//! (`0x80 /* PROT_??? */`), of zero in hex contexts, and of `AT_FDCWD` under `-y`.

use super::Ctx;
use super::util::{fd, flags};
use crate::syscalls::{Ret, Value};
use std::borrow::Cow;

/// A number strace prints with C's `%#x`: `0` for zero (not `0x0`), else `0x1f`.
pub fn hex_c(v: u64) -> Value {
    if v == 0 { Value::Int(0) } else { Value::Hex(v) }
}

/// A return value strace prints in hex (`mmap`, `brk`): `= 0` for zero, else `= 0x7f..`.
pub fn ret_hex(rval: i64, is_error: bool) -> Ret {
    if is_error {
        Ret::Error { errno: -rval }
    } else if rval == 0 {
        Ret::Int(0)
    } else {
        Ret::Hex(rval as u64)
    }
}

/// Flags as strace prints them: known names in table order, then leftover bits in hex.
/// `zero` names the value 0 (`PROT_NONE`, `F_OK`), else it prints `0`. When no name
/// matches at all, strace prints `0x80 /* PROT_??? */`; `unknown` is that comment's text.
pub fn flags_x(
    value: u64,
    table: &[(u64, &'static str)],
    zero: Option<&'static str>,
    unknown: &'static str,
) -> Value {
    if value == 0 {
        return match zero {
            Some(z) => Value::Flags(vec![Cow::Borrowed(z)]),
            None => Value::Flags(Vec::new()),
        };
    }
    match flags(value, table) {
        Value::Flags(names) if names.len() == 1 && names[0].starts_with("0x") => {
            Value::Raw(format!("{value:#x} /* {unknown} */"))
        }
        v => v,
    }
}

/// A constant from a table of `(value, name)`, else `0x7 /* SEEK_??? */` as strace prints it.
pub fn sym_x(value: u64, table: &[(u64, &'static str)], unknown: &'static str) -> Value {
    match table.iter().find(|&&(v, _)| v == value) {
        Some(&(_, n)) => Value::sym(n),
        None => Value::Raw(format!("{value:#x} /* {unknown} */")),
    }
}

/// A `dirfd` argument as strace prints it under `-y`: `AT_FDCWD</cwd>`. The tracee's cwd is
/// asked for as `fd_path(AT_FDCWD)`; without it (or without `-y`) this is `AT_FDCWD`.
pub fn dirfd_y(c: &Ctx, raw: u64) -> Value {
    if raw as i32 != libc::AT_FDCWD {
        return fd(c, raw);
    }
    match c
        .o
        .decode_fds
        .then(|| c.t.fd_path(libc::AT_FDCWD))
        .flatten()
    {
        Some(p) => {
            // The path's bytes escaped as every other path (and in hex under -x/-xx).
            let mut s = String::from("AT_FDCWD<");
            crate::syscalls::notation::push_escaped_bytes(&mut s, p.as_bytes(), true);
            s.push('>');
            Value::Raw(s)
        }
        None => Value::sym("AT_FDCWD"),
    }
}
