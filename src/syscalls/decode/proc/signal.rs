//! Signals: kill and friends, sigaction, masks, the alternate stack, sigreturn and
//! restart_syscall.

use super::*;
use crate::syscalls::Tracee;
use crate::syscalls::decode::util::{
    default_ret, flags, hex0, le_u32, le_u64, read_bytes, styled, xlat,
};
use crate::syscalls::signals::sigset_styled;

/// A `sigset_t *` with its size argument: the set, or the address if unreadable or the size
/// is not the kernel's 8 (strace does not decode other sizes).
pub(crate) fn sigset_at(c: &Ctx, addr: u64, size: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    if size != 8 {
        return Value::Ptr(addr);
    }
    match read_bytes::<8>(c, addr) {
        Some(b) => sigset_styled(u64::from_le_bytes(b), c.o.const_style),
        None => Value::Ptr(addr),
    }
}

/// A `siginfo_t` in memory (rt_sigqueueinfo's, rt_sigtimedwait's), decoded as on a signal
/// line.
pub(crate) fn siginfo_at(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    match crate::syscalls::decode::util::read_vec(c, addr, 128) {
        Some(b) if b.len() == 128 => {
            let mut raw = [0u8; 128];
            raw.copy_from_slice(&b);
            let mut v = crate::syscalls::signals::decode_siginfo(&raw);
            crate::syscalls::decode::restyle_siginfo(&mut v, &raw, c.o.const_style);
            v
        }
        _ => Value::Ptr(addr),
    }
}

const SA_FLAGS: &[(u64, &str)] = &[
    (0x0400_0000, "SA_RESTORER"),
    (0x0800_0000, "SA_ONSTACK"),
    (0x1000_0000, "SA_RESTART"),
    (0x4000_0000, "SA_NODEFER"),
    (0x8000_0000, "SA_RESETHAND"),
    (4, "SA_SIGINFO"),
    (1, "SA_NOCLDSTOP"),
    (2, "SA_NOCLDWAIT"),
];

/// A kernel `struct sigaction` (handler, flags, restorer, mask).
fn sigaction(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<32>(c, addr) else {
        return Value::Ptr(addr);
    };
    let handler = le_u64(&b, 0);
    let fl = le_u64(&b, 8);
    let h = match handler {
        0 => Value::sym("SIG_DFL"),
        1 => Value::sym("SIG_IGN"),
        u64::MAX => Value::sym("SIG_ERR"),
        p => Value::Ptr(p),
    };
    let h = match h {
        Value::Sym(_) => styled(c, h, hex0(handler)),
        h => h,
    };
    let mut f = vec![
        ("sa_handler", h),
        ("sa_mask", sigset_styled(le_u64(&b, 24), c.o.const_style)),
        ("sa_flags", styled(c, flags(fl, SA_FLAGS), hex0(fl))),
    ];
    if fl & 0x0400_0000 != 0 {
        f.push(("sa_restorer", Value::Ptr(le_u64(&b, 16))));
    }
    Value::structure(f)
}

/// `stack_t`: `{ss_sp=0x..., ss_flags=SS_DISABLE, ss_size=65536}`.
fn stack_t(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<24>(c, addr) else {
        return Value::Ptr(addr);
    };
    Value::structure(vec![
        ("ss_sp", Value::Ptr(le_u64(&b, 0))),
        (
            "ss_flags",
            flags(
                u64::from(le_u32(&b, 8)),
                &[
                    (1, "SS_ONSTACK"),
                    (2, "SS_DISABLE"),
                    (0x8000_0000, "SS_AUTODISARM"),
                ],
            ),
        ),
        ("ss_size", Value::UInt(le_u64(&b, 16))),
    ])
}

/// The `rt_sigreturn` argument, `{mask=[...]}`, read from the signal frame: at the entry stop
/// `sp` points just past the frame's return address, at the `ucontext`, whose `uc_sigmask`
/// lies after the flags, link, stack and the 256-byte machine context.
pub fn sigreturn_arg(t: &dyn Tracee, sp: u64, style: crate::syscalls::ConstStyle) -> Value {
    let mut b = [0u8; 8];
    let mask = if t.read_mem(sp.wrapping_add(296), &mut b) == 8 {
        sigset_styled(u64::from_le_bytes(b), style)
    } else {
        Value::Elided
    };
    Value::structure(vec![("mask", mask)])
}

/// The `restart_syscall` argument once the session knows which call was interrupted.
pub fn restart_arg(interrupted: &str) -> Value {
    Value::Raw(format!("<... resuming interrupted {interrupted} ...>"))
}

pub(crate) fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let v = match name {
        "signalfd4" | "signalfd" => {
            let mut v = vec![
                s(Value::Int((a[0] as i32).into())),
                s(sigset_at(c, a[1], a[2])),
                s(Value::UInt(a[2])),
            ];
            if name == "signalfd4" {
                v.push(s(flags(
                    a[3] & 0xffff_ffff,
                    &[(0x8_0000, "SFD_CLOEXEC"), (0x800, "SFD_NONBLOCK")],
                )));
            }
            v
        }
        "kill" | "tkill" => vec![s(pid_arg(c, a[0])), s(sig_arg(a[1]))],
        "rt_sigqueueinfo" => vec![
            s(pid_arg(c, a[0])),
            s(sig_arg(a[1])),
            s(siginfo_at(c, a[2])),
        ],
        "rt_tgsigqueueinfo" => vec![
            s(pid_arg(c, a[0])),
            s(pid_arg(c, a[1])),
            s(sig_arg(a[2])),
            s(siginfo_at(c, a[3])),
        ],
        "rt_sigtimedwait" => vec![
            s(sigset_at(c, a[0], a[3])),
            None,
            s(if a[2] == 0 {
                Value::Ptr(0)
            } else {
                crate::syscalls::decode::util::timespec(c, a[2])
            }),
            s(Value::UInt(a[3])),
        ],
        "tgkill" => vec![s(pid_arg(c, a[0])), s(pid_arg(c, a[1])), s(sig_arg(a[2]))],
        "rt_sigaction" => vec![
            s(sig_arg(a[0])),
            s(if a[1] == 0 {
                Value::Ptr(0)
            } else {
                sigaction(c, a[1])
            }),
            None,
            s(Value::UInt(a[3])),
        ],
        "rt_sigprocmask" => vec![
            s(xlat(
                a[0],
                &[(0, "SIG_BLOCK"), (1, "SIG_UNBLOCK"), (2, "SIG_SETMASK")],
                "SIG_???",
            )),
            s(sigset_at(c, a[1], a[3])),
            None,
            s(Value::UInt(a[3])),
        ],
        "rt_sigsuspend" => vec![s(sigset_at(c, a[0], a[1])), s(Value::UInt(a[1]))],
        "rt_sigpending" => vec![None, s(Value::UInt(a[1]))],
        "rt_sigreturn" => vec![s(Value::structure(vec![("mask", Value::Elided)]))],
        "sigaltstack" => vec![
            s(if a[0] == 0 {
                Value::Ptr(0)
            } else {
                stack_t(c, a[0])
            }),
            None,
        ],
        "restart_syscall" => vec![s(Value::Raw("<... resuming interrupted call ...>".into()))],
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
        "signalfd4" | "signalfd" => crate::syscalls::decode::util::fd_ret(c, rval, is_error),
        "rt_sigqueueinfo" | "rt_tgsigqueueinfo" => default_ret(rval, is_error),
        // `= 10 (SIGUSR1)`: the signal taken.
        "rt_sigtimedwait" => {
            set(1, out(a[1], &|| siginfo_at(c, a[1])));
            if ok && rval > 0 {
                Ret::Annotated {
                    value: Box::new(Ret::Int(rval)),
                    note: crate::syscalls::signals::name(rval as i32).into_owned(),
                }
            } else {
                default_ret(rval, is_error)
            }
        }
        "rt_sigaction" => {
            set(2, out(a[2], &|| sigaction(c, a[2])));
            default_ret(rval, is_error)
        }
        "rt_sigprocmask" => {
            set(2, out(a[2], &|| sigset_at(c, a[2], a[3])));
            default_ret(rval, is_error)
        }
        "rt_sigpending" => {
            set(0, out(a[0], &|| sigset_at(c, a[0], a[1])));
            default_ret(rval, is_error)
        }
        "sigaltstack" => {
            set(1, out(a[1], &|| stack_t(c, a[1])));
            default_ret(rval, is_error)
        }
        _ => return None,
    };
    Some(ret)
}
