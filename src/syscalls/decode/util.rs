//! Building blocks shared by the decoder groups: strings, paths, fds, flags, structs.

use super::Ctx;
use crate::syscalls::{Ret, Value};
use std::borrow::Cow;

/// The return value when nothing more is known: `-1 ERRNO` or a signed decimal.
pub fn default_ret(rval: i64, is_error: bool) -> Ret {
    if is_error {
        Ret::Error { errno: -rval }
    } else {
        Ret::Int(rval)
    }
}

/// The return value of a call that returns a file descriptor (`-y` adds its path).
pub fn fd_ret(c: &Ctx, rval: i64, is_error: bool) -> Ret {
    if is_error {
        return Ret::Error { errno: -rval };
    }
    let fd = rval as i32;
    Ret::Fd {
        fd,
        path: if c.o.decode_fds {
            c.t.fd_path(fd)
        } else {
            None
        },
    }
}

/// A file descriptor argument (`AT_FDCWD` for -100 is the caller's business).
pub fn fd(c: &Ctx, raw: u64) -> Value {
    let fd = raw as i32;
    Value::Fd {
        fd,
        path: if c.o.decode_fds && fd >= 0 {
            c.t.fd_path(fd)
        } else {
            None
        },
    }
}

/// A `dirfd` argument: `AT_FDCWD` or a file descriptor.
pub fn dirfd(c: &Ctx, raw: u64) -> Value {
    if raw as i32 == libc::AT_FDCWD {
        Value::sym("AT_FDCWD")
    } else {
        fd(c, raw)
    }
}

/// Reads up to `max` bytes of a NUL-terminated string at `addr`. Returns the bytes and
/// whether the string went on past `max` (no NUL seen within it). `None` if nothing at `addr`
/// could be read. Reads page by page so a string that ends just before an unmapped page works.
pub fn read_cstr(c: &Ctx, addr: u64, max: usize) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut cur = addr;
    loop {
        let page_left = 4096 - (cur % 4096) as usize;
        let want = page_left.min(max + 1 - out.len()).max(1);
        let mut buf = vec![0u8; want];
        let got = c.t.read_mem(cur, &mut buf);
        if got == 0 {
            return if out.is_empty() {
                None
            } else {
                // Unterminated before unreadable memory: print what we have.
                Some((out, false))
            };
        }
        if let Some(nul) = buf[..got].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..nul]);
            let truncated = out.len() > max;
            out.truncate(max);
            return Some((out, truncated));
        }
        out.extend_from_slice(&buf[..got]);
        if out.len() > max {
            out.truncate(max);
            return Some((out, true));
        }
        if got < want {
            return Some((out, false));
        }
        cur = cur.wrapping_add(got as u64);
    }
}

/// A string argument limited by `-s`; `NULL` or the address if unreadable.
pub fn string(c: &Ctx, addr: u64) -> Value {
    string_limited(c, addr, c.o.string_limit)
}

/// A path argument: like [`string`] but exempt from `-s` (PATH_MAX at most).
pub fn path(c: &Ctx, addr: u64) -> Value {
    string_limited(c, addr, 4096)
}

fn string_limited(c: &Ctx, addr: u64, max: usize) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    match read_cstr(c, addr, max) {
        Some((bytes, truncated)) => Value::Str { bytes, truncated },
        None => Value::Ptr(addr),
    }
}

/// A buffer of `len` bytes at `addr` (write's data, read's data at exit), limited by `-s`.
pub fn buffer(c: &Ctx, addr: u64, len: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let shown = (len as usize).min(c.o.string_limit);
    let mut bytes = vec![0u8; shown];
    let got = c.t.read_mem(addr, &mut bytes);
    if got < shown {
        return Value::Ptr(addr);
    }
    Value::Str {
        bytes,
        truncated: (len as usize) > shown,
    }
}

/// Reads exactly `N` bytes at `addr`, or `None`.
pub fn read_bytes<const N: usize>(c: &Ctx, addr: u64) -> Option<[u8; N]> {
    if addr == 0 {
        return None;
    }
    let mut buf = [0u8; N];
    (c.t.read_mem(addr, &mut buf) == N).then_some(buf)
}

/// Little-endian integer fields out of a byte image of a struct.
pub fn le_u64(b: &[u8], off: usize) -> u64 {
    b.get(off..off + 8)
        .map(|s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
        .unwrap_or(0)
}
pub fn le_i64(b: &[u8], off: usize) -> i64 {
    le_u64(b, off) as i64
}
pub fn le_u32(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes(s.try_into().unwrap_or([0; 4])))
        .unwrap_or(0)
}
pub fn le_i32(b: &[u8], off: usize) -> i32 {
    le_u32(b, off) as i32
}

/// Flags from a table of `(bit, name)`: `O_RDWR|O_CREAT`, unknown bits as hex, `0` if none.
pub fn flags(value: u64, table: &[(u64, &'static str)]) -> Value {
    let mut names: Vec<Cow<'static, str>> = Vec::new();
    let mut rest = value;
    for &(bit, name) in table {
        if bit != 0 && rest & bit == bit {
            names.push(Cow::Borrowed(name));
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(Cow::Owned(format!("{rest:#x}")));
    }
    Value::Flags(names)
}

/// A `struct timespec` at `addr`: `{tv_sec=1, tv_nsec=2}`, or the address if unreadable.
pub fn timespec(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<16>(c, addr) {
        Some(b) => Value::structure(vec![
            ("tv_sec", Value::Int(le_i64(&b, 0))),
            ("tv_nsec", Value::Int(le_i64(&b, 8))),
        ]),
        None => Value::Ptr(addr),
    }
}

/// A `struct timeval` at `addr`: `{tv_sec=1, tv_usec=2}`, or the address if unreadable.
pub fn timeval(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<16>(c, addr) {
        Some(b) => Value::structure(vec![
            ("tv_sec", Value::Int(le_i64(&b, 0))),
            ("tv_usec", Value::Int(le_i64(&b, 8))),
        ]),
        None => Value::Ptr(addr),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers added for the proc, net, time and poll groups.
// ---------------------------------------------------------------------------------------------

/// A number strace prints with C's `%#x`: `0` for zero (not `0x0`), else `0x1f`.
pub fn hex0(v: u64) -> Value {
    if v == 0 { Value::Int(0) } else { Value::Hex(v) }
}

/// A constant no table knows, as strace prints it: `0x63 /* RLIMIT_??? */`.
pub fn unknown(v: u64, what: &str) -> Value {
    if v == 0 {
        Value::Raw(format!("0 /* {what} */"))
    } else {
        Value::Raw(format!("{v:#x} /* {what} */"))
    }
}

/// A constant from a `(value, name)` table, else [`unknown`] with comment `what`.
pub fn xlat(v: u64, table: &[(u64, &'static str)], what: &str) -> Value {
    table
        .iter()
        .find(|&&(x, _)| x == v)
        .map(|&(_, n)| Value::sym(n))
        .unwrap_or_else(|| unknown(v, what))
}

/// An `int *` argument: `[42]`, or the address if unreadable.
pub fn int_ref(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<4>(c, addr) {
        Some(b) => Value::Array(vec![Value::Int(i32::from_le_bytes(b).into())]),
        None => Value::Ptr(addr),
    }
}

/// Up to `n` bytes at `addr` in one read; `None` if nothing could be read. The result may be
/// shorter than `n` when the end is unmapped.
pub fn read_vec(c: &Ctx, addr: u64, n: usize) -> Option<Vec<u8>> {
    if addr == 0 || n == 0 {
        return None;
    }
    let mut buf = vec![0u8; n];
    let got = c.t.read_mem(addr, &mut buf);
    if got == 0 {
        return None;
    }
    buf.truncate(got);
    Some(buf)
}

/// Bytes quoted and escaped as strace writes them (`"a\n\0\1"`), for text composed into a
/// [`Value::Raw`]. Octal escapes are short unless a digit follows.
pub fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            0x0b => s.push_str("\\v"),
            0x0c => s.push_str("\\f"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let next_is_digit = bytes.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                if next_is_digit {
                    s.push_str(&format!("\\{b:03o}"));
                } else {
                    s.push_str(&format!("\\{b:o}"));
                }
            }
        }
    }
    s.push('"');
    s
}

/// Bytes as strace's forced-hex string: `"\x7d\xf4"`.
pub fn quote_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 4 + 2);
    s.push('"');
    for b in bytes {
        s.push_str(&format!("\\x{b:02x}"));
    }
    s.push('"');
    s
}

/// A [`Value`] in strace's text notation. The output printer owns the real rendering; this
/// is for the few places a decoder must compose text (named `clone` arguments, return value
/// annotations such as poll's `([{fd=3, revents=POLLIN}])`).
pub fn render(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Hex(0) => "0".into(),
        Value::Hex(h) => format!("{h:#x}"),
        Value::Oct(o) => format!("0{o:02o}"),
        Value::Ptr(0) => "NULL".into(),
        Value::Ptr(p) => format!("{p:#x}"),
        Value::Fd { fd, path: None } => fd.to_string(),
        Value::Fd { fd, path: Some(p) } => format!("{fd}<{p}>"),
        Value::Str { bytes, truncated } => {
            let mut s = quote(bytes);
            if *truncated {
                s.push_str("...");
            }
            s
        }
        Value::Sym(n) => n.to_string(),
        Value::Flags(v) if v.is_empty() => "0".into(),
        Value::Flags(v) => v.join("|"),
        Value::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|(k, v)| {
                    if k.is_empty() {
                        render(v)
                    } else {
                        format!("{k}={}", render(v))
                    }
                })
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Elided => "...".into(),
        Value::Raw(s) => s.clone(),
    }
}

/// A `name=value` argument, as strace prints clone's: `child_stack=NULL`.
pub fn named(name: &str, v: &Value) -> Value {
    Value::Raw(format!("{name}={}", render(v)))
}

#[cfg(test)]
pub mod fake {
    //! A tracee made of a few byte regions, for decoder tests.
    use crate::syscalls::Tracee;
    use std::collections::HashMap;

    #[derive(Default)]
    pub struct FakeTracee {
        pub regions: Vec<(u64, Vec<u8>)>,
        pub fds: HashMap<i32, String>,
    }

    impl FakeTracee {
        pub fn with(mut self, addr: u64, bytes: &[u8]) -> Self {
            self.regions.push((addr, bytes.to_vec()));
            self
        }
        pub fn with_fd(mut self, fd: i32, path: &str) -> Self {
            self.fds.insert(fd, path.to_string());
            self
        }
    }

    impl Tracee for FakeTracee {
        fn read_mem(&self, addr: u64, buf: &mut [u8]) -> usize {
            for (start, bytes) in &self.regions {
                let end = start + bytes.len() as u64;
                if addr >= *start && addr < end {
                    let off = (addr - start) as usize;
                    let n = buf.len().min(bytes.len() - off);
                    buf[..n].copy_from_slice(&bytes[off..off + n]);
                    return n;
                }
            }
            0
        }
        fn fd_path(&self, fd: i32) -> Option<String> {
            self.fds.get(&fd).cloned()
        }
    }
}
