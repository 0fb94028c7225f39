//! A seccomp filter (`struct sock_fprog` and its classic BPF program), as strace 6.1 prints it
//! for `seccomp(SECCOMP_SET_MODE_FILTER, ...)` and `prctl(PR_SET_SECCOMP,
//! SECCOMP_MODE_FILTER, ...)`: `{len=2, filter=ADDR}` by default, and under `-v` each
//! instruction as the C macro that builds it,
//!
//! ```text
//! {len=2, filter=[BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 0x4),
//!                 BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0xc000003e, 0x1, 0), ...]}
//! ```
//!
//! a return's operand as the seccomp action (`SECCOMP_RET_ERRNO|0x1`). Pure: the bytes come
//! through [`Ctx`].

use super::Ctx;
use super::util::{hex0, le_u32, le_u64, read_vec, render, styled};
use crate::syscalls::Value;

/// The actions a filter returns (`SECCOMP_RET_ACTION_FULL`, the high half).
pub(super) const ACTIONS: &[(u64, &str)] = &[
    (0x8000_0000, "SECCOMP_RET_KILL_PROCESS"),
    (0, "SECCOMP_RET_KILL_THREAD"),
    (0x0003_0000, "SECCOMP_RET_TRAP"),
    (0x0005_0000, "SECCOMP_RET_ERRNO"),
    (0x7fc0_0000, "SECCOMP_RET_USER_NOTIF"),
    (0x7ff0_0000, "SECCOMP_RET_TRACE"),
    (0x7ffc_0000, "SECCOMP_RET_LOG"),
    (0x7fff_0000, "SECCOMP_RET_ALLOW"),
];

/// The most instructions read (the kernel's BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;

/// `struct sock_fprog` at `addr`.
pub(super) fn fprog(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let Some(b) = read_vec(c, addr, 16).filter(|b| b.len() == 16) else {
        return Value::Ptr(addr);
    };
    let len = u16::from_le_bytes([b[0], b[1]]);
    let filter = le_u64(&b, 8);
    let prog = if c.o.abbrev {
        Value::Ptr(filter)
    } else {
        program(c, filter, usize::from(len))
    };
    Value::structure(vec![("len", Value::UInt(len.into())), ("filter", prog)])
}

fn program(c: &Ctx, addr: u64, len: usize) -> Value {
    let n = len.min(MAX_INSNS);
    if n == 0 {
        return Value::Array(Vec::new());
    }
    match read_vec(c, addr, n * 8).filter(|b| b.len() == n * 8) {
        Some(b) => Value::Array(b.chunks_exact(8).map(|i| insn(c, i)).collect()),
        None => Value::Ptr(addr),
    }
}

/// One `struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;}`.
fn insn(c: &Ctx, b: &[u8]) -> Value {
    let code = u16::from_le_bytes([b[0], b[1]]);
    let (jt, jf) = (b[2], b[3]);
    let k = le_u32(b, 4);
    let class = code & 0x07;
    let k_v = if class == 6 {
        action(c, k)
    } else {
        render(&hex0(k.into()))
    };
    let text = if class == 5 && (jt != 0 || jf != 0) {
        format!(
            "BPF_JUMP({}, {k_v}, {}, {})",
            code_text(c, code),
            super::util::render(&hex0(jt.into())),
            super::util::render(&hex0(jf.into()))
        )
    } else {
        format!("BPF_STMT({}, {k_v})", code_text(c, code))
    };
    Value::Raw(text)
}

/// A name, under `-X` its number (`0x6 /* BPF_RET */`).
fn part(c: &Ctx, name: &'static str, v: u64) -> String {
    render(&styled(c, Value::sym(name), hex0(v)))
}

/// A return's operand: the action, then its data (`SECCOMP_RET_ERRNO|0x1`).
fn action(c: &Ctx, k: u32) -> String {
    let act = u64::from(k & 0xffff_0000);
    let data = k & 0xffff;
    let mut s = match ACTIONS.iter().find(|&&(v, _)| v == act) {
        Some(&(_, n)) => part(c, n, act),
        None if c.o.const_style == crate::syscalls::ConstStyle::Raw => format!("{act:#x}"),
        None => format!("{act:#x} /* SECCOMP_RET_??? */"),
    };
    if data != 0 {
        s.push_str(&format!("|{data:#x}"));
    }
    s
}

/// A field no name covers: `0xe0 /* BPF_??? */`, under `-X raw` the number alone.
fn unknown(c: &Ctx, v: u16) -> String {
    if c.o.const_style == crate::syscalls::ConstStyle::Raw {
        format!("{v:#x}")
    } else {
        format!("{v:#x} /* BPF_??? */")
    }
}

fn named(c: &Ctx, v: u16, table: &[(u16, &'static str)]) -> String {
    match table.iter().find(|&&(x, _)| x == v) {
        Some(&(_, n)) => part(c, n, v.into()),
        None => unknown(c, v),
    }
}

/// The instruction's code as strace spells it: the class, then its fields by class.
fn code_text(c: &Ctx, code: u16) -> String {
    const CLASSES: [&str; 8] = [
        "BPF_LD", "BPF_LDX", "BPF_ST", "BPF_STX", "BPF_ALU", "BPF_JMP", "BPF_RET", "BPF_MISC",
    ];
    const SIZES: &[(u16, &str)] = &[
        (0x00, "BPF_W"),
        (0x08, "BPF_H"),
        (0x10, "BPF_B"),
        (0x18, "BPF_DW"),
    ];
    const MODES: &[(u16, &str)] = &[
        (0x00, "BPF_IMM"),
        (0x20, "BPF_ABS"),
        (0x40, "BPF_IND"),
        (0x60, "BPF_MEM"),
        (0x80, "BPF_LEN"),
        (0xa0, "BPF_MSH"),
    ];
    const SRC: &[(u16, &str)] = &[(0x00, "BPF_K"), (0x08, "BPF_X")];
    const ALU_OPS: &[(u16, &str)] = &[
        (0x00, "BPF_ADD"),
        (0x10, "BPF_SUB"),
        (0x20, "BPF_MUL"),
        (0x30, "BPF_DIV"),
        (0x40, "BPF_OR"),
        (0x50, "BPF_AND"),
        (0x60, "BPF_LSH"),
        (0x70, "BPF_RSH"),
        (0x80, "BPF_NEG"),
        (0x90, "BPF_MOD"),
        (0xa0, "BPF_XOR"),
    ];
    const JMP_OPS: &[(u16, &str)] = &[
        (0x00, "BPF_JA"),
        (0x10, "BPF_JEQ"),
        (0x20, "BPF_JGT"),
        (0x30, "BPF_JGE"),
        (0x40, "BPF_JSET"),
    ];
    const RVAL: &[(u16, &str)] = &[(0x00, "BPF_K"), (0x08, "BPF_X"), (0x10, "BPF_A")];
    const MISC: &[(u16, &str)] = &[(0x00, "BPF_TAX"), (0x80, "BPF_TXA")];
    let class = code & 0x07;
    let mut parts = vec![part(c, CLASSES[usize::from(class)], class.into())];
    match class {
        0 | 1 => {
            parts.push(named(c, code & 0x18, SIZES));
            parts.push(named(c, code & 0xe0, MODES));
        }
        4 => {
            parts.push(named(c, code & 0x08, SRC));
            parts.push(named(c, code & 0xf0, ALU_OPS));
        }
        5 => {
            parts.push(named(c, code & 0x08, SRC));
            parts.push(named(c, code & 0xf0, JMP_OPS));
        }
        6 => {
            parts.push(named(c, code & 0x18, RVAL));
            if code & 0xe0 != 0 {
                parts.push(unknown(c, code & 0xe0));
            }
        }
        7 => parts.push(named(c, code & 0xf8, MISC)),
        // BPF_ST, BPF_STX: strace keeps the comment on other bits even under -X raw.
        _ => {
            if code & 0xf8 != 0 {
                parts.push(format!("{:#x} /* BPF_??? */", code & 0xf8));
            }
        }
    }
    if code & 0xff00 != 0 {
        parts.push(unknown(c, code & 0xff00));
    }
    parts.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::DecodeOpts;
    use crate::syscalls::decode::util::fake::FakeTracee;
    use crate::syscalls::decode::util::render;

    fn ins(code: u16, jt: u8, jf: u8, k: u32) -> Vec<u8> {
        let mut v = code.to_le_bytes().to_vec();
        v.extend([jt, jf]);
        v.extend(k.to_le_bytes());
        v
    }

    #[test]
    fn programs_as_strace_spells_them() {
        let mut prog = ins(0x20, 0, 0, 4);
        prog.extend(ins(0x15, 1, 0, 0xc000_003e));
        prog.extend(ins(0x06, 0, 0, 0x0005_0001));
        prog.extend(ins(0x05, 0, 0, 3));
        prog.extend(ins(0x16, 0, 0, 0));
        prog.extend(ins(0x06, 0, 0, 0x1234_5678));
        prog.extend(ins(0xffff, 0, 0, 7));
        prog.extend(ins(0x42, 0, 0, 1));
        let mut head = 8u16.to_le_bytes().to_vec();
        head.extend([0; 6]);
        head.extend(0x2000u64.to_le_bytes());
        let t = FakeTracee::default()
            .with(0x1000, &head)
            .with(0x2000, &prog);
        let o = DecodeOpts {
            abbrev: false,
            ..DecodeOpts::default()
        };
        let c = Ctx {
            raw: [0; 6],
            t: &t,
            o: &o,
        };
        assert_eq!(
            render(&fprog(&c, 0x1000)),
            "{len=8, filter=[BPF_STMT(BPF_LD|BPF_W|BPF_ABS, 0x4), \
             BPF_JUMP(BPF_JMP|BPF_K|BPF_JEQ, 0xc000003e, 0x1, 0), \
             BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|0x1), BPF_STMT(BPF_JMP|BPF_K|BPF_JA, 0x3), \
             BPF_STMT(BPF_RET|BPF_A, SECCOMP_RET_KILL_THREAD), \
             BPF_STMT(BPF_RET|BPF_K, 0x12340000 /* SECCOMP_RET_??? */|0x5678), \
             BPF_STMT(BPF_MISC|0xf8 /* BPF_??? */|0xff00 /* BPF_??? */, 0x7), \
             BPF_STMT(BPF_ST|0x40 /* BPF_??? */, 0x1)]}"
        );
        // Abbreviated: the program's address; unreadable: the structure's.
        let o = DecodeOpts::default();
        let c = Ctx {
            raw: [0; 6],
            t: &t,
            o: &o,
        };
        assert_eq!(render(&fprog(&c, 0x1000)), "{len=8, filter=0x2000}");
        assert_eq!(render(&fprog(&c, 0x5000)), "0x5000");
    }
}
