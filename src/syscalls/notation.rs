//! strace's notation for decoded values: how a [`Value`] or a [`Ret`] reads in a trace line.
//!
//! It lives with the values (not in `output`) because decoders also compose text in this
//! notation (named `clone` arguments, the notes after poll's return value), and the printers
//! build on it.

use super::{Ret, Value, errno};
use std::fmt::Write as _;

/// A value as text, for decoders that compose a larger piece of notation.
pub fn value_text(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

fn is_plain(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Appends `s`, escaping bytes outside printable ASCII as `\ooo` (Raw, Sym, notes).
pub fn push_escaped_text(buf: &mut String, s: &str) {
    if s.bytes().all(is_plain) {
        buf.push_str(s);
        return;
    }
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if is_plain(c) {
            buf.push(char::from(c));
        } else {
            push_octal(buf, c, b.get(i + 1).copied());
        }
    }
}

/// `\ooo` as strace writes it: the shortest form, unless an octal digit follows.
fn push_octal(buf: &mut String, c: u8, next: Option<u8>) {
    buf.push('\\');
    if next.is_some_and(|n| (b'0'..=b'7').contains(&n)) {
        let _ = write!(buf, "{c:03o}");
    } else {
        let _ = write!(buf, "{c:o}");
    }
}

/// Appends `bytes` escaped as strace escapes a string's contents (without the quotes):
/// `\n \t \r \v \f \" \\`, other non-printables in octal. `path_mode` also escapes `<` and
/// `>`, as strace does for the `-y` path in `3</path>`.
/// `-x` (1: strings with a non-ASCII byte in hex) / `-xx` (2: every string in hex), as
/// strace's global flag: set once from the command line.
static HEX_STRINGS: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

pub fn set_hex_strings(level: u8) {
    HEX_STRINGS.store(level.min(2), std::sync::atomic::Ordering::Relaxed);
}

/// The `-x` level [`set_hex_strings`] set.
pub fn hex_strings_level() -> u8 {
    HEX_STRINGS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether `bytes` print as `\xHH` each: always with `-xx`; with `-x` when a byte is not
/// printable ASCII nor whitespace (strace's rule).
fn hex_string(bytes: &[u8]) -> bool {
    match HEX_STRINGS.load(std::sync::atomic::Ordering::Relaxed) {
        0 => false,
        1 => bytes
            .iter()
            .any(|&c| c > 0x7e || (c < b' ' && !b"\t\n\x0b\x0c\r".contains(&c))),
        _ => true,
    }
}

pub fn push_escaped_bytes(buf: &mut String, bytes: &[u8], path_mode: bool) {
    if hex_string(bytes) {
        for &c in bytes {
            let _ = write!(buf, "\\x{c:02x}");
        }
        return;
    }
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'"' => buf.push_str("\\\""),
            b'\\' => buf.push_str("\\\\"),
            b'\n' => buf.push_str("\\n"),
            b'\t' => buf.push_str("\\t"),
            b'\r' => buf.push_str("\\r"),
            0x0b => buf.push_str("\\v"),
            0x0c => buf.push_str("\\f"),
            b'<' | b'>' if path_mode => push_octal(buf, c, bytes.get(i + 1).copied()),
            c if is_plain(c) => buf.push(char::from(c)),
            c => push_octal(buf, c, bytes.get(i + 1).copied()),
        }
    }
}

/// Marks a descriptor's text that is printed as it is (`-yy`'s details, escaped already).
pub const PRINTED: char = '\0';

/// `3` or `3</path>`.
pub fn write_fd(buf: &mut String, fd: i32, path: &Option<String>) {
    let _ = write!(buf, "{fd}");
    if let Some(d) = path.as_deref().and_then(|p| p.strip_prefix(PRINTED)) {
        buf.push('<');
        buf.push_str(d);
        buf.push('>');
        return;
    }
    if let Some(p) = path {
        // The kernel's " (deleted)" suffix goes outside the brackets, as strace prints it.
        let (p, deleted) = match p.strip_suffix(" (deleted)") {
            Some(live) => (live, true),
            None => (p.as_str(), false),
        };
        buf.push('<');
        push_escaped_bytes(buf, p.as_bytes(), true);
        buf.push('>');
        if deleted {
            buf.push_str("(deleted)");
        }
    }
}

/// `0x1f`; zero prints as `0`, like C's `%#x`.
pub fn write_hex(buf: &mut String, v: u64) {
    if v == 0 {
        buf.push('0');
    } else {
        let _ = write!(buf, "{v:#x}");
    }
}

/// Appends `v` in strace's notation.
pub fn write_value(buf: &mut String, v: &Value) {
    match v {
        Value::Int(n) => {
            let _ = write!(buf, "{n}");
        }
        Value::UInt(n) => {
            let _ = write!(buf, "{n}");
        }
        Value::Hex(n) => write_hex(buf, *n),
        // strace's `%#03o`: a leading zero, at least three digits (`000`, `0600`).
        Value::Oct(n) => {
            let _ = write!(buf, "0{n:02o}");
        }
        Value::Ptr(0) => buf.push_str("NULL"),
        Value::Ptr(p) => {
            let _ = write!(buf, "{p:#x}");
        }
        Value::Fd { fd, path } => write_fd(buf, *fd, path),
        Value::Pid { pid, comm, ours } => write_pid(buf, *pid, comm.as_deref(), *ours),
        Value::Str { bytes, truncated } => {
            buf.push('"');
            push_escaped_bytes(buf, bytes, false);
            buf.push('"');
            if *truncated {
                buf.push_str("...");
            }
        }
        Value::Sym(s) => push_escaped_text(buf, s),
        Value::Flags(f) => {
            if f.is_empty() {
                buf.push('0');
            }
            for (i, s) in f.iter().enumerate() {
                if i > 0 {
                    buf.push('|');
                }
                push_escaped_text(buf, s);
            }
        }
        Value::Struct(fields) => {
            buf.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    buf.push_str(", ");
                }
                if !k.is_empty() {
                    push_escaped_text(buf, k);
                    buf.push('=');
                }
                write_value(buf, v);
            }
            buf.push('}');
        }
        Value::Array(items) => {
            buf.push('[');
            write_list(buf, items);
            buf.push(']');
        }
        Value::Elided => buf.push_str("..."),
        Value::Raw(s) => push_escaped_text(buf, s),
    }
}

/// A pid, with `<comm>` after it under `-Y` (the name's bytes escaped as a path's).
pub fn write_pid(buf: &mut String, pid: i64, comm: Option<&str>, ours: Option<i64>) {
    let _ = write!(buf, "{pid}");
    if let Some(c) = comm {
        buf.push('<');
        push_escaped_bytes(buf, c.as_bytes(), true);
        buf.push('>');
    }
    if let Some(o) = ours {
        let _ = write!(buf, " /* {o} in pgstrace's PID NS */");
    }
}

/// Values separated by `, `.
pub fn write_list(buf: &mut String, items: &[Value]) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            buf.push_str(", ");
        }
        write_value(buf, v);
    }
}

/// Appends a return value as strace prints it after `= `.
pub fn write_ret(buf: &mut String, r: &Ret) {
    match r {
        Ret::Int(n) => {
            let _ = write!(buf, "{n}");
        }
        Ret::Hex(n) => write_hex(buf, *n),
        Ret::Oct(n) => {
            let _ = write!(buf, "0{n:02o}");
        }
        Ret::Fd { fd, path } => write_fd(buf, *fd, path),
        Ret::Pid { pid, comm, ours } => write_pid(buf, *pid, comm.as_deref(), *ours),
        Ret::Error { errno: e } => {
            buf.push_str(if errno::is_restart(*e) { "? " } else { "-1 " });
            match errno::name(*e) {
                Some(n) => {
                    let _ = write!(buf, "{n} ({})", errno::message(*e));
                }
                None => {
                    let _ = write!(buf, "(errno {e})");
                }
            }
        }
        Ret::ValueError { value, errno: e } => {
            let _ = write!(buf, "{value} ");
            match errno::name(*e) {
                Some(n) => {
                    let _ = write!(buf, "{n} ({})", errno::message(*e));
                }
                None => {
                    let _ = write!(buf, "(errno {e})");
                }
            }
        }
        Ret::Unknown => buf.push('?'),
        Ret::Annotated { value, note } => {
            write_ret(buf, value);
            buf.push_str(" (");
            push_escaped_text(buf, note);
            buf.push(')');
        }
    }
}
