//! Building blocks shared by the decoder groups: strings, paths, fds, flags, structs.

use super::Ctx;
use crate::syscalls::notation::value_text;
use crate::syscalls::{Ret, Value};
use std::borrow::Cow;

/// The return value when nothing more is known: `-1 ERRNO` or a signed decimal.
/// A structure field's constant or flags under `-X`: `names` as decoded (the default),
/// `raw` alone (`-X raw`), or `raw /* names */` (`-X verbose`), as strace prints fields.
pub fn styled(c: &Ctx, names: Value, raw: Value) -> Value {
    use crate::syscalls::ConstStyle;
    match c.o.const_style {
        ConstStyle::Abbrev => names,
        ConstStyle::Raw => raw,
        // No names to add (a zero, a plain number): the number alone.
        ConstStyle::Verbose if render(&names) == render(&raw) || is_number(&names) => raw,
        // A number no table names is already `0x40 /* RESOLVE_??? */`.
        ConstStyle::Verbose if matches!(&names, Value::Raw(t) if t.ends_with("??? */")) => names,
        ConstStyle::Verbose => super::commented(&raw, &names),
    }
}

fn is_number(v: &Value) -> bool {
    matches!(
        v,
        Value::Int(_) | Value::UInt(_) | Value::Hex(_) | Value::Oct(_)
    )
}

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
        path: if decorates(c) {
            with_detail(c, fd, c.t.fd_path(fd))
        } else {
            None
        },
    }
}

/// `-yy`: the path replaced by its detail (marked as printed already: a leading NUL, which
/// no path holds), where there is one and its kind was asked for; without `-y`'s paths, a
/// descriptor of a kind not asked for is printed bare, as strace's `--decode-fds=socket`.
fn with_detail(c: &Ctx, fd: i32, path: Option<String>) -> Option<String> {
    let p = path?;
    let wanted = if p.starts_with("socket:[") {
        c.o.fd_sockets
    } else if p == "anon_inode:[pidfd]" {
        c.o.fd_pidfds
    } else {
        c.o.fd_devs
    };
    if wanted && let Some(d) = c.t.fd_detail(fd, &p) {
        return Some(format!("{}{d}", crate::syscalls::notation::PRINTED));
    }
    c.o.decode_fds.then_some(p)
}

/// Whether descriptors are decorated at all (`-y`, `-yy`, `--decode-fds=`).
fn decorates(c: &Ctx) -> bool {
    c.o.decode_fds || c.o.fd_sockets || c.o.fd_devs || c.o.fd_pidfds
}

/// A file descriptor argument (`AT_FDCWD` for -100 is the caller's business).
pub fn fd(c: &Ctx, raw: u64) -> Value {
    let fd = raw as i32;
    Value::Fd {
        fd,
        path: if decorates(c) && fd >= 0 {
            with_detail(c, fd, c.t.fd_path(fd))
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

/// A NUL-terminated string at `addr` in the tracee ([`Tracee::read_cstr`]).
pub fn read_cstr(c: &Ctx, addr: u64, max: usize) -> Option<(Vec<u8>, bool)> {
    c.t.read_cstr(addr, max)
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
pub fn le_u16(b: &[u8], off: usize) -> u16 {
    b.get(off..off + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
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

/// An exit decoder's writer of output slots (a slot the call does not have is ignored).
pub fn setter(slots: &mut [Option<Value>]) -> impl FnMut(usize, Value) + '_ {
    move |i, v| {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(v);
        }
    }
}

/// An output pointer as strace prints it at exit: NULL, the decoded value when the call
/// succeeded, else the address.
pub fn output(ok: bool, addr: u64, f: &dyn Fn() -> Value) -> Value {
    if addr == 0 {
        Value::Ptr(0)
    } else if ok {
        f()
    } else {
        Value::Ptr(addr)
    }
}

/// Bytes printed in hex as strace forces them (`"\x61\x62"`): `shown`, with `...` when the
/// whole was `total` bytes and more than `shown`.
pub fn hex_cut(shown: &[u8], total: usize) -> Value {
    let mut s = quote_hex(shown);
    if total > shown.len() {
        s.push_str("...");
    }
    Value::Raw(s)
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
/// [`Value::Raw`].
pub fn quote(bytes: &[u8]) -> String {
    value_text(&Value::Str {
        bytes: bytes.to_vec(),
        truncated: false,
    })
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

/// A [`Value`] in strace's text notation, for the few places a decoder must compose text
/// (named `clone` arguments, return value notes such as poll's `([{fd=3, revents=POLLIN}])`).
pub fn render(v: &Value) -> String {
    value_text(v)
}

/// A `name=value` argument, as strace prints clone's: `child_stack=NULL`.
pub fn named(name: &str, v: &Value) -> Value {
    Value::Raw(format!("{name}={}", render(v)))
}

#[cfg(test)]
pub mod fake {
    //! Test support for the decoder groups: a tracee made of a few byte regions, the
    //! `name(args) = ret` rendering the groups' tests assert on, and the random tracees the
    //! "decoders never panic" properties run on.
    use crate::syscalls::decode::{decode_entry, decode_exit};
    use crate::syscalls::notation::value_text;
    use crate::syscalls::{DecodeOpts, Ret, Tracee, table};
    use proptest::prelude::*;
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
        fn exact(&self) -> bool {
            true
        }

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

    /// How a test line prints a failed call. The fs and mem tests were written against
    /// `-1 errno 2`, the other groups' against `-2`; both stay as written.
    #[derive(Clone, Copy)]
    pub enum ErrText {
        /// `= -1 errno 2`
        Errno,
        /// `= -2`
        Negated,
    }

    /// A return value as the tests write it: strace's number forms, errors per `err`.
    pub fn ret_text(r: &Ret, err: ErrText) -> String {
        match r {
            Ret::Int(i) => i.to_string(),
            Ret::Hex(h) => format!("{h:#x}"),
            Ret::Oct(o) => format!("0{o:02o}"),
            Ret::Fd { fd, path: Some(p) } => format!("{fd}<{p}>"),
            Ret::Fd { fd, path: None } => fd.to_string(),
            Ret::Pid { pid, comm, ours } => {
                let mut s = String::new();
                crate::syscalls::notation::write_pid(&mut s, *pid, comm.as_deref(), *ours);
                s
            }
            Ret::Error { errno } => match err {
                ErrText::Errno => format!("-1 errno {errno}"),
                ErrText::Negated => format!("-{errno}"),
            },
            Ret::ValueError { value, errno } => format!("{value} errno {errno}"),
            Ret::Unknown => "?".into(),
            Ret::Annotated { value, note } => format!("{} ({note})", ret_text(value, err)),
        }
    }

    /// Decodes `name(raw)` through the dispatcher (entry, then exit returning `rval`) and
    /// renders `name(args) = ret`.
    pub fn decode_line(
        t: &dyn Tracee,
        o: &DecodeOpts,
        name: &str,
        raw: [u64; 6],
        rval: i64,
        is_error: bool,
        err: ErrText,
    ) -> String {
        let nr = table::by_name(name).unwrap_or(u64::MAX);
        let e = decode_entry(nr, &raw, t, o);
        let (args, ret) = decode_exit(&e, rval, is_error, t, o);
        let args: Vec<String> = args.iter().map(value_text).collect();
        format!("{name}({}) = {}", args.join(", "), ret_text(&ret, err))
    }

    /// The fs and mem tests' line: options given, an error is an `rval` in -4095..0, printed
    /// `-1 errno N`.
    pub fn line_with(
        t: &dyn Tracee,
        o: &DecodeOpts,
        name: &str,
        raw: [u64; 6],
        rval: i64,
    ) -> String {
        let is_error = (-4095..0).contains(&rval);
        decode_line(t, o, name, raw, rval, is_error, ErrText::Errno)
    }

    /// The other groups' line: default options, errors printed `-N`.
    pub fn line(name: &str, raw: [u64; 6], t: &FakeTracee, rval: i64, err: bool) -> String {
        let o = DecodeOpts::default();
        decode_line(t, &o, name, raw, rval, err, ErrText::Negated)
    }

    /// Asserts each `(name, raw, rval, want)` case with [`line`]; a negative `rval` is an error.
    pub fn assert_lines<'a>(
        t: &FakeTracee,
        cases: impl IntoIterator<Item = (&'a str, [u64; 6], i64, &'a str)>,
    ) {
        for (name, raw, rval, want) in cases {
            assert_eq!(line(name, raw, t, rval, rval < 0), want);
        }
    }

    /// Little-endian words as bytes, for building structs in a fake tracee's memory.
    pub fn le64(vals: &[u64]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Region bases for random tracees; memory words are often pointers to (or into) another
    /// region, so that argv arrays, msghdrs and iovecs lead somewhere.
    const BASES: [u64; 9] = [
        0x10000,
        0x20000,
        0x30000,
        0x40000,
        0x50000,
        0x60000,
        0x70000,
        0x80000,
        0x7fff_f000,
    ];

    fn word() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            (0..BASES.len(), 0u64..512).prop_map(|(r, off)| BASES[r] + off),
            0u64..70000,
            Just(0),
            Just(u64::MAX),
            Just((-100i64) as u64),
        ]
    }

    /// A random tracee: regions (base index, words, bytes cut off the end) and six registers.
    pub type Case = (Vec<(usize, Vec<u64>, usize)>, [u64; 6]);

    pub fn arb_case() -> impl Strategy<Value = Case> {
        (
            proptest::collection::vec(
                (
                    0..BASES.len(),
                    proptest::collection::vec(word(), 0..80),
                    0usize..8,
                ),
                0..6,
            ),
            proptest::array::uniform6(word()),
        )
    }

    /// Builds the tracee of `regions`, with two fds known for `-y`.
    pub fn case_tracee(regions: &[(usize, Vec<u64>, usize)]) -> FakeTracee {
        let mut t = FakeTracee::default().with_fd(3, "/x").with_fd(-100, "/cwd");
        for (r, words, cut) in regions {
            let mut bytes = le64(words);
            // Cut the region off mid-word so reads run into unreadable memory.
            bytes.truncate(bytes.len().saturating_sub(*cut));
            t = t.with(BASES.get(*r).copied().unwrap_or(0), &bytes);
        }
        t
    }

    /// Decodes syscall `nr` at entry and exit; the property is that this returns.
    pub fn decode_nr(
        t: &FakeTracee,
        o: &DecodeOpts,
        nr: u64,
        raw: &[u64; 6],
        rval: i64,
        err: bool,
    ) {
        let e = decode_entry(nr, raw, t, o);
        let _ = decode_exit(&e, rval, err, t, o);
    }
}
