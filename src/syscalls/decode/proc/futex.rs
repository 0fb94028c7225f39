//! Futexes and the thread bookkeeping calls around them (robust lists, tid address, rseq).

use super::*;
use crate::syscalls::decode::fs_util::flags_x;
use crate::syscalls::decode::util::{
    flags, hex0, le_u32, le_u64, read_vec, render, timespec, unknown,
};
use std::borrow::Cow;

const FUTEX_CMDS: &[&str] = &[
    "FUTEX_WAIT",
    "FUTEX_WAKE",
    "FUTEX_FD",
    "FUTEX_REQUEUE",
    "FUTEX_CMP_REQUEUE",
    "FUTEX_WAKE_OP",
    "FUTEX_LOCK_PI",
    "FUTEX_UNLOCK_PI",
    "FUTEX_TRYLOCK_PI",
    "FUTEX_WAIT_BITSET",
    "FUTEX_WAKE_BITSET",
    "FUTEX_WAIT_REQUEUE_PI",
    "FUTEX_CMP_REQUEUE_PI",
    "FUTEX_LOCK_PI2",
];

/// futex's operation: `FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`.
fn futex_op(op: u64) -> Value {
    let cmd = (op & 0x7f) as usize;
    let rest = op & !(0x7f | 0x80 | 0x100);
    match FUTEX_CMDS.get(cmd) {
        Some(name) if rest == 0 => {
            let mut s = (*name).to_string();
            if op & 0x80 != 0 {
                s.push_str("_PRIVATE");
            }
            let mut v: Vec<Cow<'static, str>> = vec![Cow::Owned(s)];
            if op & 0x100 != 0 {
                v.push(Cow::Borrowed("FUTEX_CLOCK_REALTIME"));
            }
            Value::Flags(v)
        }
        _ => unknown(op, "FUTEX_???"),
    }
}

/// FUTEX_WAKE_OP's encoded operation: `FUTEX_OP_SET<<28|0x1<<12|FUTEX_OP_CMP_GT<<24|0`.
fn futex_wake_op(v: u64) -> Value {
    let v = v as u32;
    let op = (v >> 28) & 0x7;
    let shift = (v >> 28) & 0x8 != 0;
    let cmp = (v >> 24) & 0xf;
    let oparg = (v >> 12) & 0xfff;
    let cmparg = v & 0xfff;
    let ops = ["SET", "ADD", "OR", "ANDN", "XOR"];
    let cmps = ["EQ", "NE", "LT", "LE", "GT", "GE"];
    let opname = match ops.get(op as usize) {
        Some(n) => format!("FUTEX_OP_{n}"),
        None => format!("{op:#x} /* FUTEX_OP_??? */"),
    };
    let opname = if shift {
        format!("FUTEX_OP_OPARG_SHIFT|{opname}")
    } else {
        opname
    };
    let cmpname = match cmps.get(cmp as usize) {
        Some(n) => format!("FUTEX_OP_CMP_{n}"),
        None => format!("{cmp:#x} /* FUTEX_OP_CMP_??? */"),
    };
    let h = |x: u32| render(&hex0(u64::from(x)));
    Value::Raw(format!(
        "{opname}<<28|{}<<12|{cmpname}<<24|{}",
        h(oparg),
        h(cmparg)
    ))
}

fn futex_bitset(v: u64) -> Value {
    if v as u32 == u32::MAX {
        Value::sym("FUTEX_BITSET_MATCH_ANY")
    } else {
        hex0(u64::from(v as u32))
    }
}

fn futex(c: &Ctx) -> Slots {
    let a = c.raw;
    let s = Some;
    let val = || Value::Int((a[2] as u32 as i32).into());
    let val2 = || Value::Int((a[3] as u32 as i32).into());
    let val3 = || Value::Int((a[5] as u32 as i32).into());
    let addr = Value::Ptr(a[0]);
    let op = futex_op(a[1]);
    let cmd = a[1] & 0x7f;
    if matches!(op, Value::Raw(_)) {
        return vec![
            s(addr),
            s(op),
            s(val()),
            s(Value::Ptr(a[3])),
            s(Value::Ptr(a[4])),
            s(val3()),
        ];
    }
    match cmd {
        0 => vec![s(addr), s(op), s(val()), s(timespec(c, a[3]))],
        1 | 2 => vec![s(addr), s(op), s(val())],
        3 => vec![s(addr), s(op), s(val()), s(val2()), s(Value::Ptr(a[4]))],
        4 | 12 => vec![
            s(addr),
            s(op),
            s(val()),
            s(val2()),
            s(Value::Ptr(a[4])),
            s(val3()),
        ],
        5 => vec![
            s(addr),
            s(op),
            s(val()),
            s(val2()),
            s(Value::Ptr(a[4])),
            s(futex_wake_op(a[5])),
        ],
        6 | 13 => vec![s(addr), s(op), s(timespec(c, a[3]))],
        7 | 8 => vec![s(addr), s(op)],
        9 => vec![
            s(addr),
            s(op),
            s(val()),
            s(timespec(c, a[3])),
            s(futex_bitset(a[5])),
        ],
        10 => vec![s(addr), s(op), s(val()), s(futex_bitset(a[5]))],
        11 => vec![
            s(addr),
            s(op),
            s(val()),
            s(timespec(c, a[3])),
            s(Value::Ptr(a[4])),
        ],
        _ => vec![s(addr), s(op)],
    }
}

/// futex_waitv's waiters: `[{val=0x5, uaddr=0x..., flags=FUTEX_32|FUTEX_PRIVATE_FLAG}]`.
fn waiters(c: &Ctx, addr: u64, n: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let shown = (n as usize).min(c.o.max_array);
    let b = match read_vec(c, addr, shown * 24) {
        Some(b) if b.len() == shown * 24 => b,
        _ => return Value::Ptr(addr),
    };
    let mut v: Vec<Value> = (0..shown)
        .map(|i| {
            let o = 24 * i;
            Value::structure(vec![
                ("val", hex0(le_u64(&b, o))),
                ("uaddr", Value::Ptr(le_u64(&b, o + 8))),
                (
                    "flags",
                    flags_x(
                        le_u32(&b, o + 16).into(),
                        &[(2, "FUTEX_32"), (128, "FUTEX_PRIVATE_FLAG")],
                        None,
                        "FUTEX_???",
                    ),
                ),
            ])
        })
        .collect();
    if n as usize > shown {
        v.push(Value::Elided);
    }
    Value::Array(v)
}

pub(crate) fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let v = match name {
        "futex" => futex(c),
        "futex_waitv" => vec![
            s(waiters(c, a[0], a[1])),
            s(Value::UInt(a[1] & 0xffff_ffff)),
            s(hex0(a[2] & 0xffff_ffff)),
            s(timespec(c, a[3])),
            s(crate::syscalls::decode::time::clock_id(a[4])),
        ],
        "set_robust_list" => vec![s(Value::Ptr(a[0])), s(Value::UInt(a[1]))],
        "set_tid_address" => vec![s(Value::Ptr(a[0]))],
        "rseq" => vec![
            s(Value::Ptr(a[0])),
            s(hex0(a[1] & 0xffff_ffff)),
            s(flags(a[2] & 0xffff_ffff, &[(1, "RSEQ_FLAG_UNREGISTER")])),
            s(hex0(a[3] & 0xffff_ffff)),
        ],
        _ => return None,
    };
    Some(v)
}

pub(crate) fn exit(
    _name: &str,
    _c: &Ctx,
    _slots: &mut [Option<Value>],
    _rval: i64,
    _is_error: bool,
) -> Option<Ret> {
    None
}
