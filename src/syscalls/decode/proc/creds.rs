//! Credentials and the execution domain: the set*id/get*id family, setfsuid/setfsgid,
//! capget/capset, personality.

use super::prctl::CAPS;
use super::*;
use crate::syscalls::decode::util::{
    default_ret, flags, hex0, le_u32, read_bytes, read_vec, render, styled,
};
use std::borrow::Cow;

/// A `uid_t`/`gid_t`: `-1` for "unchanged" (`(uid_t)-1`), else unsigned decimal.
fn id(v: u64) -> Value {
    let v = v as u32;
    if v == u32::MAX {
        Value::Int(-1)
    } else {
        Value::UInt(v.into())
    }
}

/// A `uid_t *` the kernel filled: `[0]`.
fn id_ref(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<4>(c, addr) {
        Some(b) => Value::Array(vec![id(u32::from_le_bytes(b).into())]),
        None => Value::Ptr(addr),
    }
}

const CAP_VERSIONS: &[(u64, &str)] = &[
    (0x1998_0330, "_LINUX_CAPABILITY_VERSION_1"),
    (0x2007_1026, "_LINUX_CAPABILITY_VERSION_2"),
    (0x2008_0522, "_LINUX_CAPABILITY_VERSION_3"),
];

/// A capability set: `1<<CAP_CHOWN|1<<CAP_KILL`, bits no name covers in hex, `0` if empty.
fn cap_set(v: u64) -> Value {
    let mut names: Vec<Cow<'static, str>> = Vec::new();
    let mut rest = v;
    for (bit, name) in CAPS.iter().enumerate() {
        if v & (1 << bit) != 0 {
            names.push(Cow::Owned(format!("1<<{name}")));
            rest &= !(1 << bit);
        }
    }
    if rest != 0 {
        names.push(Cow::Owned(format!("{rest:#x}")));
    }
    Value::Flags(names)
}

/// `{version=_LINUX_CAPABILITY_VERSION_3, pid=0}`, with the version it names.
fn cap_header(c: &Ctx, addr: u64) -> (Value, u32) {
    let Some(b) = read_bytes::<8>(c, addr) else {
        return (Value::Ptr(addr), 0);
    };
    let version = le_u32(&b, 0);
    let v = match CAP_VERSIONS.iter().find(|&&(x, _)| x == u64::from(version)) {
        Some(&(_, n)) => styled(c, Value::sym(n), hex0(version.into())),
        None => Value::Raw(format!("{version:#x} /* _LINUX_CAPABILITY_VERSION_??? */")),
    };
    (
        Value::structure(vec![
            ("version", v),
            ("pid", Value::Int(le_u32(&b, 4) as i32 as i64)),
        ]),
        version,
    )
}

/// The data after a header of `version`: one `{effective, permitted, inheritable}` of 32
/// bits (version 1) or two joined into 64-bit sets (versions 2 and 3).
fn cap_data(c: &Ctx, addr: u64, version: u32) -> Value {
    let n = if version == 0x1998_0330 { 1 } else { 2 };
    let b = match read_vec(c, addr, 12 * n) {
        Some(b) if b.len() == 12 * n => b,
        _ => return Value::Ptr(addr),
    };
    let set = |off: usize| {
        let lo = u64::from(le_u32(&b, off));
        let hi = if n == 2 {
            u64::from(le_u32(&b, off + 12))
        } else {
            0
        };
        // Under -X strace shows the kernel's two 32-bit words: `0xfeffffff|0x1ff`.
        if c.o.const_style != crate::syscalls::ConstStyle::Abbrev && lo | hi != 0 {
            let word = |w: u64, shift: u32| render(&styled(c, cap_set(w << shift), hex0(w)));
            let mut s = word(lo, 0);
            if hi != 0 {
                s = if lo == 0 {
                    word(hi, 32)
                } else {
                    format!("{s}|{}", word(hi, 32))
                };
            }
            return Value::Raw(s);
        }
        cap_set(lo | hi << 32)
    };
    Value::structure(vec![
        ("effective", set(0)),
        ("permitted", set(4)),
        ("inheritable", set(8)),
    ])
}

const PERSONALITY_TYPES: &[(u64, &str)] = &[
    (0x00, "PER_LINUX"),
    (0x01, "PER_SVR4"),
    (0x02, "PER_SVR3"),
    (0x03, "PER_SCOSVR3"),
    (0x04, "PER_WYSEV386"),
    (0x05, "PER_ISCR4"),
    (0x06, "PER_BSD"),
    (0x07, "PER_XENIX"),
    (0x08, "PER_LINUX32"),
    (0x09, "PER_IRIX32"),
    (0x0a, "PER_IRIXN32"),
    (0x0b, "PER_IRIX64"),
    (0x0c, "PER_RISCOS"),
    (0x0d, "PER_SOLARIS"),
    (0x0e, "PER_UW7"),
    (0x0f, "PER_OSF4"),
    (0x10, "PER_HPUX"),
];

const PERSONALITY_FLAGS: &[(u64, &str)] = &[
    (0x0002_0000, "UNAME26"),
    (0x0004_0000, "ADDR_NO_RANDOMIZE"),
    (0x0008_0000, "FDPIC_FUNCPTRS"),
    (0x0010_0000, "MMAP_PAGE_ZERO"),
    (0x0020_0000, "ADDR_COMPAT_LAYOUT"),
    (0x0040_0000, "READ_IMPLIES_EXEC"),
    (0x0080_0000, "ADDR_LIMIT_32BIT"),
    (0x0100_0000, "SHORT_INODE"),
    (0x0200_0000, "WHOLE_SECONDS"),
    (0x0400_0000, "STICKY_TIMEOUTS"),
    (0x0800_0000, "ADDR_LIMIT_3GB"),
];

/// A persona: its type (`PER_LINUX`, `0x78 /* PER_??? */`), then its flags and leftover
/// bits, joined with `|`.
fn persona(c: &Ctx, v: u32) -> String {
    use crate::syscalls::ConstStyle;
    let ty = u64::from(v & 0xff);
    let fl = u64::from(v) & !0xff;
    if c.o.const_style != ConstStyle::Abbrev {
        // `0 /* PER_LINUX */|0x40000 /* ADDR_NO_RANDOMIZE */` (verbose), `0|0x40000` (raw).
        let ty_names = match PERSONALITY_TYPES.iter().find(|&&(x, _)| x == ty) {
            Some(&(_, n)) => Value::sym(n),
            None => Value::sym("PER_???"),
        };
        let mut s = render(&styled(c, ty_names, hex0(ty)));
        if fl != 0 {
            s.push('|');
            s.push_str(&render(&styled(c, flags(fl, PERSONALITY_FLAGS), hex0(fl))));
        }
        return s;
    }
    let mut s = match PERSONALITY_TYPES.iter().find(|&&(x, _)| x == ty) {
        Some(&(_, n)) => n.to_string(),
        None => format!("{ty:#x} /* PER_??? */"),
    };
    if let Value::Flags(names) = flags(fl, PERSONALITY_FLAGS) {
        for n in names {
            s.push('|');
            s.push_str(&n);
        }
    }
    s
}

pub(crate) fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    Some(match name {
        "setuid" | "setgid" | "setfsuid" | "setfsgid" => vec![s(id(a[0]))],
        "setreuid" | "setregid" => vec![s(id(a[0])), s(id(a[1]))],
        "setresuid" | "setresgid" => vec![s(id(a[0])), s(id(a[1])), s(id(a[2]))],
        "getresuid" | "getresgid" => vec![None, None, None],
        "capget" => vec![s(cap_header(c, a[0]).0), None],
        "capset" => {
            let (h, version) = cap_header(c, a[0]);
            let data = if a[1] == 0 {
                Value::Ptr(0)
            } else {
                cap_data(c, a[1], version)
            };
            vec![s(h), s(data)]
        }
        "personality" => vec![s(if a[0] as u32 == u32::MAX {
            Value::Hex(0xffff_ffff)
        } else {
            Value::Raw(persona(c, a[0] as u32))
        })],
        _ => return None,
    })
}

pub(crate) fn exit(
    name: &str,
    c: &Ctx,
    slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    let a = c.raw;
    let ok = !is_error;
    let mut set = setter(slots);
    Some(match name {
        "setuid" | "setgid" | "setfsuid" | "setfsgid" | "setreuid" | "setregid" | "setresuid"
        | "setresgid" | "capset" => default_ret(rval, is_error),
        "getresuid" | "getresgid" => {
            for (i, &addr) in a.iter().take(3).enumerate() {
                set(i, output(ok, addr, &|| id_ref(c, addr)));
            }
            default_ret(rval, is_error)
        }
        "capget" => {
            let version = read_bytes::<4>(c, a[0]).map_or(0, u32::from_le_bytes);
            set(1, output(ok, a[1], &|| cap_data(c, a[1], version)));
            default_ret(rval, is_error)
        }
        "personality" => {
            if is_error {
                default_ret(rval, is_error)
            } else {
                let v = rval as u32;
                Ret::Annotated {
                    value: Box::new(if v == 0 {
                        Ret::Int(0)
                    } else {
                        Ret::Hex(v.into())
                    }),
                    note: persona(c, v),
                }
            }
        }
        _ => return None,
    })
}
