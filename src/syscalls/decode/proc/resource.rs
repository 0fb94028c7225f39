//! Resources and system facts: rlimits, rusage, uname, sysinfo, getrandom.

use super::*;
use crate::syscalls::decode::util::{
    default_ret, flags, le_i64, le_u32, le_u64, quote_hex, read_bytes, read_vec, unknown, xlat,
};

const RLIMITS: &[(u64, &str)] = &[
    (0, "RLIMIT_CPU"),
    (1, "RLIMIT_FSIZE"),
    (2, "RLIMIT_DATA"),
    (3, "RLIMIT_STACK"),
    (4, "RLIMIT_CORE"),
    (5, "RLIMIT_RSS"),
    (6, "RLIMIT_NPROC"),
    (7, "RLIMIT_NOFILE"),
    (8, "RLIMIT_MEMLOCK"),
    (9, "RLIMIT_AS"),
    (10, "RLIMIT_LOCKS"),
    (11, "RLIMIT_SIGPENDING"),
    (12, "RLIMIT_MSGQUEUE"),
    (13, "RLIMIT_NICE"),
    (14, "RLIMIT_RTPRIO"),
    (15, "RLIMIT_RTTIME"),
];

/// One limit: `RLIM64_INFINITY`, `8192*1024` for multiples of 1 KiB above 1024, else decimal.
fn rlim(v: u64) -> Value {
    if v == u64::MAX {
        Value::sym("RLIM64_INFINITY")
    } else if v > 1024 && v.is_multiple_of(1024) {
        Value::Raw(format!("{}*1024", v / 1024))
    } else {
        Value::UInt(v)
    }
}

/// A limit as a field: under `-X` the number (`18446744073709551615`).
fn rlim_field(c: &Ctx, v: u64) -> Value {
    crate::syscalls::decode::util::styled(c, rlim(v), Value::UInt(v))
}

fn rlimit(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<16>(c, addr) {
        Some(b) => Value::structure(vec![
            ("rlim_cur", rlim_field(c, le_u64(&b, 0))),
            ("rlim_max", rlim_field(c, le_u64(&b, 8))),
        ]),
        None => Value::Ptr(addr),
    }
}

/// `struct utsname`, abbreviated: `{sysname="Linux", nodename="vm", ...}`.
fn utsname(c: &Ctx, addr: u64) -> Value {
    // Two fields by default; all six under `-v`.
    let need = if c.o.abbrev { 130 } else { 390 };
    let Some(b) = read_vec(c, addr, need) else {
        return Value::Ptr(addr);
    };
    if b.len() < need {
        return Value::Ptr(addr);
    }
    let field = |off: usize| {
        let s = b.get(off..off + 65).unwrap_or(&[]);
        let end = s.iter().position(|&x| x == 0).unwrap_or(s.len());
        Value::Str {
            bytes: s.get(..end).unwrap_or(&[]).to_vec(),
            truncated: false,
        }
    };
    if !c.o.abbrev {
        return Value::structure(vec![
            ("sysname", field(0)),
            ("nodename", field(65)),
            ("release", field(130)),
            ("version", field(195)),
            ("machine", field(260)),
            ("domainname", field(325)),
        ]);
    }
    Value::structure(vec![
        ("sysname", field(0)),
        ("nodename", field(65)),
        ("", Value::Elided),
    ])
}

fn sysinfo(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<112>(c, addr) else {
        return Value::Ptr(addr);
    };
    let u = |off| Value::UInt(le_u64(&b, off));
    Value::structure(vec![
        ("uptime", Value::Int(le_i64(&b, 0))),
        ("loads", Value::Array(vec![u(8), u(16), u(24)])),
        ("totalram", u(32)),
        ("freeram", u(40)),
        ("sharedram", u(48)),
        ("bufferram", u(56)),
        ("totalswap", u(64)),
        ("freeswap", u(72)),
        (
            "procs",
            Value::UInt(u64::from(u16::from_le_bytes([b[80], b[81]]))),
        ),
        ("totalhigh", u(88)),
        ("freehigh", u(96)),
        ("mem_unit", Value::UInt(u64::from(le_u32(&b, 104)))),
    ])
}

const PRIO_WHICH: &[(u64, &str)] = &[(0, "PRIO_PROCESS"), (1, "PRIO_PGRP"), (2, "PRIO_USER")];

/// A CPU mask as strace prints it: `[0 1 3]`, the bits of `len` bytes.
fn cpu_mask(c: &Ctx, addr: u64, len: u64) -> Value {
    let n = usize::try_from(len).unwrap_or(0).min(1024);
    match read_vec(c, addr, n) {
        Some(b) if b.len() == n => {
            let cpus: Vec<String> = b
                .iter()
                .enumerate()
                .flat_map(|(i, byte)| {
                    (0..8)
                        .filter(move |bit| byte & (1 << bit) != 0)
                        .map(move |bit| (i * 8 + bit).to_string())
                })
                .collect();
            Value::Raw(format!("[{}]", cpus.join(" ")))
        }
        _ => Value::Ptr(addr),
    }
}

/// A `gid_t` array of `n` entries: `[0, 4, 24]`.
fn gid_list(c: &Ctx, addr: u64, n: u64) -> Value {
    let n = usize::try_from(n).unwrap_or(0).min(65536);
    match read_vec(c, addr, n * 4) {
        Some(b) if b.len() == n * 4 => Value::Array(
            (0..n)
                .map(|i| Value::UInt(u64::from(le_u32(&b, i * 4))))
                .collect(),
        ),
        _ => Value::Ptr(addr),
    }
}

pub(crate) fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let v = match name {
        "getpriority" => vec![
            s(xlat(a[0] & 0xffff_ffff, PRIO_WHICH, "PRIO_???")),
            s(Value::Int((a[1] as i32).into())),
        ],
        "setpriority" => vec![
            s(xlat(a[0] & 0xffff_ffff, PRIO_WHICH, "PRIO_???")),
            s(Value::Int((a[1] as i32).into())),
            s(Value::Int((a[2] as i32).into())),
        ],
        "sched_getaffinity" => vec![
            s(pid_arg(c, a[0])),
            s(Value::UInt(a[1] & 0xffff_ffff)),
            None,
        ],
        "sched_setaffinity" => vec![
            s(pid_arg(c, a[0])),
            s(Value::UInt(a[1] & 0xffff_ffff)),
            s(cpu_mask(c, a[2], a[1] & 0xffff_ffff)),
        ],
        "getgroups" => vec![s(Value::Int((a[0] as i32).into())), None],
        "setgroups" => vec![
            s(Value::Int((a[0] as i32).into())),
            s(if a[1] == 0 {
                Value::Ptr(0)
            } else {
                gid_list(c, a[1], u64::from(a[0] as u32))
            }),
        ],
        "prlimit64" => vec![
            s(pid_arg(c, a[0])),
            s(xlat(a[1] & 0xffff_ffff, RLIMITS, "RLIMIT_???")),
            s(if a[2] == 0 {
                Value::Ptr(0)
            } else {
                rlimit(c, a[2])
            }),
            None,
        ],
        "getrlimit" => vec![s(xlat(a[0] & 0xffff_ffff, RLIMITS, "RLIMIT_???")), None],
        "setrlimit" => vec![
            s(xlat(a[0] & 0xffff_ffff, RLIMITS, "RLIMIT_???")),
            s(rlimit(c, a[1])),
        ],
        "getrusage" => vec![
            s(match a[0] as i32 {
                0 => Value::sym("RUSAGE_SELF"),
                -1 => Value::sym("RUSAGE_CHILDREN"),
                1 => Value::sym("RUSAGE_THREAD"),
                _ => unknown(u64::from(a[0] as u32), "RUSAGE_???"),
            }),
            None,
        ],
        "uname" | "sysinfo" => vec![None],
        "getrandom" => vec![
            None,
            s(Value::UInt(a[1])),
            s(flags(
                a[2] & 0xffff_ffff,
                &[
                    (1, "GRND_NONBLOCK"),
                    (2, "GRND_RANDOM"),
                    (4, "GRND_INSECURE"),
                ],
            )),
        ],
        _ => return None,
    };
    Some(v)
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
    let out = |addr: u64, f: &dyn Fn() -> Value| output(ok, addr, f);
    let ret = match name {
        "getpriority" | "setpriority" | "sched_setaffinity" | "setgroups" => {
            default_ret(rval, is_error)
        }
        "sched_getaffinity" => {
            set(2, out(a[2], &|| cpu_mask(c, a[2], rval.max(0) as u64)));
            default_ret(rval, is_error)
        }
        "getgroups" => {
            let v = if a[1] == 0 {
                Value::Ptr(0)
            } else if ok && a[0] as i32 > 0 && rval == 0 {
                Value::Array(Vec::new())
            } else if ok && a[0] as i32 > 0 {
                gid_list(c, a[1], rval.max(0) as u64)
            } else {
                Value::Ptr(a[1])
            };
            set(1, v);
            default_ret(rval, is_error)
        }
        "prlimit64" => {
            set(3, out(a[3], &|| rlimit(c, a[3])));
            default_ret(rval, is_error)
        }
        "getrlimit" => {
            set(1, out(a[1], &|| rlimit(c, a[1])));
            default_ret(rval, is_error)
        }
        "getrusage" => {
            set(1, out(a[1], &|| rusage(c, a[1])));
            default_ret(rval, is_error)
        }
        "uname" => {
            set(0, out(a[0], &|| utsname(c, a[0])));
            default_ret(rval, is_error)
        }
        "sysinfo" => {
            set(0, out(a[0], &|| sysinfo(c, a[0])));
            default_ret(rval, is_error)
        }
        "getrandom" => {
            // strace prints random bytes in hex, whatever they look like.
            let v = if ok && a[0] != 0 {
                let n = (rval.max(0) as usize).min(c.o.string_limit);
                match read_vec(c, a[0], n) {
                    Some(b) if b.len() == n => {
                        let mut t = quote_hex(&b);
                        if (rval.max(0) as usize) > n {
                            t.push_str("...");
                        }
                        Value::Raw(t)
                    }
                    _ if n == 0 => Value::Raw("\"\"".into()),
                    _ => Value::Ptr(a[0]),
                }
            } else {
                Value::Ptr(a[0])
            };
            set(0, v);
            default_ret(rval, is_error)
        }
        _ => return None,
    };
    Some(ret)
}
