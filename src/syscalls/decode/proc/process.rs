//! Processes: clone, fork, exec, wait, exit, ids, sessions and groups, umask.

use super::*;
use crate::syscalls::decode::util::{
    default_ret, dirfd, flags, hex0, int_ref, le_u64, named, path, read_bytes, read_vec, render,
    string, styled,
};
use crate::syscalls::signals;

/// The longest argv/envp strace prints before `...`.
const MAX_ARGV: usize = 32;
/// Under `-v`: as many as the kernel takes in practice.
const MAX_ARGV_V: usize = 65536;

const CLONE_FLAGS: &[(u64, &str)] = &[
    (0x0000_0100, "CLONE_VM"),
    (0x0000_0200, "CLONE_FS"),
    (0x0000_0400, "CLONE_FILES"),
    (0x0000_0800, "CLONE_SIGHAND"),
    (0x0000_1000, "CLONE_PIDFD"),
    (0x0000_2000, "CLONE_PTRACE"),
    (0x0000_4000, "CLONE_VFORK"),
    (0x0000_8000, "CLONE_PARENT"),
    (0x0001_0000, "CLONE_THREAD"),
    (0x0002_0000, "CLONE_NEWNS"),
    (0x0004_0000, "CLONE_SYSVSEM"),
    (0x0008_0000, "CLONE_SETTLS"),
    (0x0010_0000, "CLONE_PARENT_SETTID"),
    (0x0020_0000, "CLONE_CHILD_CLEARTID"),
    (0x0040_0000, "CLONE_DETACHED"),
    (0x0080_0000, "CLONE_UNTRACED"),
    (0x0100_0000, "CLONE_CHILD_SETTID"),
    (0x0200_0000, "CLONE_NEWCGROUP"),
    (0x0400_0000, "CLONE_NEWUTS"),
    (0x0800_0000, "CLONE_NEWIPC"),
    (0x1000_0000, "CLONE_NEWUSER"),
    (0x2000_0000, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
    (0x8000_0000, "CLONE_IO"),
    (0x1_0000_0000, "CLONE_CLEAR_SIGHAND"),
    (0x2_0000_0000, "CLONE_INTO_CGROUP"),
    (0x4_0000_0000, "CLONE_NEWTIME"),
];

const CLONE_SETTLS: u64 = 0x0008_0000;

const CLONE_PARENT_SETTID: u64 = 0x0010_0000;

const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;

const CLONE_CHILD_SETTID: u64 = 0x0100_0000;

/// clone's flags: the flag names, then the exit signal from the low byte (`|SIGCHLD`).
fn clone_flags(v: u64) -> Value {
    let sig = v & 0xff;
    let mut names = match flags(v & !0xff, CLONE_FLAGS) {
        Value::Flags(n) => n,
        _ => Vec::new(),
    };
    if sig != 0 {
        names.push(signals::name(sig as i32));
    }
    Value::Flags(names)
}

/// [`clone_flags`] under `-X`: `0x1200000|17` (the flags in hex, the exit signal's
/// number), with the names in comments under verbose.
fn clone_flags_styled(c: &Ctx, v: u64) -> Value {
    use crate::syscalls::ConstStyle;
    let style = c.o.const_style;
    if style == ConstStyle::Abbrev {
        return clone_flags(v);
    }
    let (sig, fl) = (v & 0xff, v & !0xff);
    let mut parts = Vec::new();
    if fl != 0 || sig == 0 {
        parts.push(render(&styled(c, flags(fl, CLONE_FLAGS), hex0(fl))));
    }
    if sig != 0 {
        let num = Value::Int(sig as i64);
        parts.push(render(&styled(
            c,
            Value::Flags(vec![signals::name(sig as i32)]),
            num,
        )));
    }
    Value::Raw(parts.join("|"))
}

/// clone3's `struct clone_args`; pointer fields appear when set.
fn clone_args(c: &Ctx, addr: u64, size: u64) -> Value {
    let n = (size as usize).clamp(0, 88);
    let b = match read_vec(c, addr, n) {
        Some(b) if n >= 64 && b.len() == n => b,
        _ => return Value::Ptr(addr),
    };
    let fl = le_u64(&b, 0);
    let mut f = vec![("flags", styled(c, flags(fl, CLONE_FLAGS), hex0(fl)))];
    // Pointer fields show when a flag makes the kernel use them.
    for (name, off, flag) in [
        ("pidfd", 8, 0x1000),
        ("child_tid", 16, CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID),
        ("parent_tid", 24, CLONE_PARENT_SETTID),
    ] {
        if fl & flag != 0 {
            f.push((name, Value::Ptr(le_u64(&b, off))));
        }
    }
    let sig = le_u64(&b, 32);
    f.push((
        "exit_signal",
        styled(c, sig_arg(sig), Value::Int((sig as i32).into())),
    ));
    f.push(("stack", Value::Ptr(le_u64(&b, 40))));
    f.push(("stack_size", hex0(le_u64(&b, 48))));
    if fl & CLONE_SETTLS != 0 {
        f.push(("tls", Value::Ptr(le_u64(&b, 56))));
    }
    if n >= 80 && le_u64(&b, 64) != 0 {
        f.push(("set_tid", Value::Ptr(le_u64(&b, 64))));
        f.push(("set_tid_size", Value::UInt(le_u64(&b, 72))));
    }
    if n >= 88 && fl & 0x2_0000_0000 != 0 {
        f.push(("cgroup", Value::UInt(le_u64(&b, 80))));
    }
    Value::structure(f)
}

/// An argv-style array of strings: `["ls", "-l"]`, `...` after 32 entries (all of them
/// under `-v`).
fn string_array(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let max = if c.o.abbrev { MAX_ARGV } else { MAX_ARGV_V };
    let Some(ptrs) = read_vec(c, addr, (max + 1) * 8) else {
        return Value::Ptr(addr);
    };
    let mut items = Vec::new();
    for chunk in ptrs.chunks_exact(8) {
        let p = le_u64(chunk, 0);
        if p == 0 {
            return Value::Array(items);
        }
        if items.len() == max {
            items.push(Value::Elided);
            return Value::Array(items);
        }
        items.push(string(c, p));
    }
    // The pointer array ran into unreadable memory.
    if items.is_empty() {
        Value::Ptr(addr)
    } else {
        items.push(Value::Elided);
        Value::Array(items)
    }
}

/// `0x7ffd... /* 20 vars */`, or `/* 1 var */`.
fn env_count(addr: u64, n: usize) -> Value {
    let s = if n == 1 { "" } else { "s" };
    Value::Raw(format!("{addr:#x} /* {n} var{s} */"))
}

/// envp as strace abbreviates it: `0x7ffd... /* 20 vars */`; every string under `-v`.
fn env_summary(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    if !c.o.abbrev {
        return string_array(c, addr);
    }
    // Count in page-sized reads; give up counting at a generous bound.
    let mut n = 0usize;
    let mut cur = addr;
    while n < 65536 {
        let Some(b) = read_vec(c, cur, 512) else {
            return if n == 0 {
                Value::Ptr(addr)
            } else {
                env_count(addr, n)
            };
        };
        for chunk in b.chunks_exact(8) {
            if le_u64(chunk, 0) == 0 {
                return env_count(addr, n);
            }
            n += 1;
        }
        if b.len() < 8 {
            break;
        }
        cur = cur.wrapping_add((b.len() - b.len() % 8) as u64);
    }
    env_count(addr, n)
}

const WAIT_OPTIONS: &[(u64, &str)] = &[
    (1, "WNOHANG"),
    (2, "WSTOPPED"),
    (4, "WEXITED"),
    (8, "WCONTINUED"),
    (0x0100_0000, "WNOWAIT"),
    (0x2000_0000, "__WNOTHREAD"),
    (0x4000_0000, "__WALL"),
    (0x8000_0000, "__WCLONE"),
];

/// A wait status as strace spells it: `{WIFEXITED(s) && WEXITSTATUS(s) == 0}`.
fn wait_status(s: i32) -> String {
    let low = s & 0x7f;
    if low == 0 {
        format!("{{WIFEXITED(s) && WEXITSTATUS(s) == {}}}", (s >> 8) & 0xff)
    } else if s & 0xff == 0x7f {
        let mut t = format!(
            "{{WIFSTOPPED(s) && WSTOPSIG(s) == {}",
            signals::name((s >> 8) & 0xff)
        );
        if s >> 16 != 0 {
            t.push_str(&format!(" && s >> 16 == {}", s >> 16));
        }
        t.push('}');
        t
    } else if s == 0xffff {
        "{WIFCONTINUED(s)}".into()
    } else {
        let core = if s & 0x80 != 0 {
            " && WCOREDUMP(s)"
        } else {
            ""
        };
        format!(
            "{{WIFSIGNALED(s) && WTERMSIG(s) == {}{core}}}",
            signals::name(low)
        )
    }
}

pub(crate) fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let int = |v: u64| Value::Int((v as i32).into());
    let v = match name {
        "clone" => {
            let mut v = vec![
                s(named("child_stack", &Value::Ptr(a[1]))),
                s(named("flags", &clone_flags_styled(c, a[0]))),
            ];
            let n = usize::from(a[0] & CLONE_PARENT_SETTID != 0)
                + usize::from(a[0] & CLONE_SETTLS != 0)
                + usize::from(a[0] & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) != 0);
            v.extend(std::iter::repeat_n(None, n));
            v
        }
        // With CLONE_PARENT_SETTID strace appends ` => {parent_tid=[N]}` to the struct at
        // exit; the printer cannot append to a printed argument, so the struct waits.
        "clone3" => match read_bytes::<8>(c, a[0]) {
            Some(b) if u64::from_le_bytes(b) & CLONE_PARENT_SETTID != 0 => {
                vec![None, s(Value::UInt(a[1]))]
            }
            _ => vec![s(clone_args(c, a[0], a[1])), s(Value::UInt(a[1]))],
        },
        "fork" | "vfork" | "getpid" | "getppid" | "gettid" | "getuid" | "geteuid" | "getgid"
        | "getegid" | "setsid" | "getpgrp" | "sched_yield" | "pause" => vec![],
        "execve" => vec![
            s(path(c, a[0])),
            s(string_array(c, a[1])),
            s(env_summary(c, a[2])),
        ],
        "execveat" => vec![
            s(dirfd(c, a[0])),
            s(path(c, a[1])),
            s(string_array(c, a[2])),
            s(env_summary(c, a[3])),
            s(flags(
                a[4],
                &[(0x100, "AT_SYMLINK_NOFOLLOW"), (0x1000, "AT_EMPTY_PATH")],
            )),
        ],
        "wait4" => vec![
            s(pid_arg(c, a[0])),
            None,
            s(flags(a[2] & 0xffff_ffff, WAIT_OPTIONS)),
            None,
        ],
        "waitid" => vec![
            s(crate::syscalls::decode::util::xlat(
                a[0] & 0xffff_ffff,
                &[(0, "P_ALL"), (1, "P_PID"), (2, "P_PGID"), (3, "P_PIDFD")],
                "P_???",
            )),
            s(pid_arg(c, a[1])),
            None,
            s(flags(a[3] & 0xffff_ffff, WAIT_OPTIONS)),
            None,
        ],
        "exit" | "exit_group" => vec![s(int(a[0]))],
        "umask" => vec![s(Value::Oct(a[0] & 0o7777))],
        "setpgid" => vec![s(pid_arg(c, a[0])), s(pid_arg(c, a[1]))],
        "getpgid" | "getsid" => vec![s(pid_arg(c, a[0]))],
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
    let first_pending = matches!(slots.first(), Some(None));
    let mut set = setter(slots);
    let out = |addr: u64, f: &dyn Fn() -> Value| output(ok, addr, f);
    let ret = match name {
        "clone" => {
            let mut i = 2;
            if a[0] & CLONE_PARENT_SETTID != 0 {
                let v = out(a[2], &|| int_ref(c, a[2]));
                set(i, named("parent_tid", &v));
                i += 1;
            }
            if a[0] & CLONE_SETTLS != 0 {
                set(i, named("tls", &Value::Ptr(a[4])));
                i += 1;
            }
            if a[0] & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID) != 0 {
                set(i, named("child_tidptr", &Value::Ptr(a[3])));
            }
            default_ret(rval, is_error)
        }
        "clone3" => {
            // `{...} => {parent_tid=[1234]}`: what the kernel stored for the parent.
            if first_pending {
                let args = clone_args(c, a[0], a[1]);
                let v = match (ok, read_bytes::<32>(c, a[0])) {
                    (true, Some(b)) => Value::Raw(format!(
                        "{} => {{parent_tid={}}}",
                        render(&args),
                        render(&int_ref(c, le_u64(&b, 24)))
                    )),
                    _ => args,
                };
                set(0, v);
            }
            default_ret(rval, is_error)
        }
        "exit" | "exit_group" => Ret::Unknown,
        "waitid" => {
            let info = if a[2] == 0 {
                Value::Ptr(0)
            } else if ok {
                match crate::syscalls::decode::util::read_vec(c, a[2], 128) {
                    Some(b) if b.len() == 128 => {
                        let mut raw = [0u8; 128];
                        raw.copy_from_slice(&b);
                        // WNOHANG with nothing to report leaves si_signo 0: `{}`.
                        if raw[..4] == [0; 4] {
                            Value::Raw("{}".into())
                        } else {
                            let mut v = crate::syscalls::signals::decode_siginfo(&raw);
                            crate::syscalls::decode::restyle_siginfo(&mut v, &raw, c.o.const_style);
                            v
                        }
                    }
                    _ => Value::Ptr(a[2]),
                }
            } else {
                Value::Ptr(a[2])
            };
            set(2, info);
            set(4, out(a[4], &|| rusage(c, a[4])));
            default_ret(rval, is_error)
        }
        "wait4" => {
            let status = if a[1] == 0 {
                Value::Ptr(0)
            } else if ok && rval > 0 {
                match read_bytes::<4>(c, a[1]) {
                    Some(b) => Value::Array(vec![Value::Raw(wait_status(i32::from_le_bytes(b)))]),
                    None => Value::Ptr(a[1]),
                }
            } else {
                Value::Ptr(a[1])
            };
            set(1, status);
            // Nothing reported (WNOHANG, 0): the kernel filled no rusage; its address.
            set(
                3,
                if rval == 0 {
                    Value::Ptr(a[3])
                } else {
                    out(a[3], &|| rusage(c, a[3]))
                },
            );
            default_ret(rval, is_error)
        }
        "umask" if !is_error => Ret::Oct(rval as u64),
        "umask" => default_ret(rval, is_error),
        _ => return None,
    };
    Some(ret)
}
