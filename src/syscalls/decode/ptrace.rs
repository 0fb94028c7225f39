//! `ptrace` as strace 6.1 prints it: the request, then what that request uses (`TRACEME`
//! alone, `ATTACH`/`KILL`/`INTERRUPT`/`LISTEN` with the pid only, `GETREGS` without its
//! unused address), the `struct user` offsets of `PEEKUSER`/`POKEUSER` (`8*RIP`,
//! `offsetof(struct user, u_debugreg)+8`), options, signals, the words `PEEK*` and
//! `GETEVENTMSG` read, the registers, FPU state, siginfo, signal mask, regset iovec and
//! `PTRACE_GET_SYSCALL_INFO`'s structure the tracer got or gave.
//!
//! Not decoded (addresses, as strace prints some of them decoded): `PEEKSIGINFO`'s
//! siginfo array, `SECCOMP_GET_METADATA`'s structure, regsets other than the general and
//! FPU registers.

use super::Ctx;
use super::fs_util::flags_x;
use super::util::{default_ret, hex0, le_i64, le_u16, le_u32, le_u64, read_vec, setter, xlat};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

const REQUESTS: &[(u64, &str)] = &[
    (0, "PTRACE_TRACEME"),
    (1, "PTRACE_PEEKTEXT"),
    (2, "PTRACE_PEEKDATA"),
    (3, "PTRACE_PEEKUSER"),
    (4, "PTRACE_POKETEXT"),
    (5, "PTRACE_POKEDATA"),
    (6, "PTRACE_POKEUSER"),
    (7, "PTRACE_CONT"),
    (8, "PTRACE_KILL"),
    (9, "PTRACE_SINGLESTEP"),
    (12, "PTRACE_GETREGS"),
    (13, "PTRACE_SETREGS"),
    (14, "PTRACE_GETFPREGS"),
    (15, "PTRACE_SETFPREGS"),
    (16, "PTRACE_ATTACH"),
    (17, "PTRACE_DETACH"),
    (18, "PTRACE_GETFPXREGS"),
    (19, "PTRACE_SETFPXREGS"),
    (24, "PTRACE_SYSCALL"),
    (25, "PTRACE_GET_THREAD_AREA"),
    (26, "PTRACE_SET_THREAD_AREA"),
    (30, "PTRACE_ARCH_PRCTL"),
    (31, "PTRACE_SYSEMU"),
    (32, "PTRACE_SYSEMU_SINGLESTEP"),
    (33, "PTRACE_SINGLEBLOCK"),
    (0x4200, "PTRACE_SETOPTIONS"),
    (0x4201, "PTRACE_GETEVENTMSG"),
    (0x4202, "PTRACE_GETSIGINFO"),
    (0x4203, "PTRACE_SETSIGINFO"),
    (0x4204, "PTRACE_GETREGSET"),
    (0x4205, "PTRACE_SETREGSET"),
    (0x4206, "PTRACE_SEIZE"),
    (0x4207, "PTRACE_INTERRUPT"),
    (0x4208, "PTRACE_LISTEN"),
    (0x4209, "PTRACE_PEEKSIGINFO"),
    (0x420a, "PTRACE_GETSIGMASK"),
    (0x420b, "PTRACE_SETSIGMASK"),
    (0x420c, "PTRACE_SECCOMP_GET_FILTER"),
    (0x420d, "PTRACE_SECCOMP_GET_METADATA"),
    (0x420e, "PTRACE_GET_SYSCALL_INFO"),
    (0x420f, "PTRACE_GET_RSEQ_CONFIGURATION"),
];

const OPTIONS: &[(u64, &str)] = &[
    (0x1, "PTRACE_O_TRACESYSGOOD"),
    (0x2, "PTRACE_O_TRACEFORK"),
    (0x4, "PTRACE_O_TRACEVFORK"),
    (0x8, "PTRACE_O_TRACECLONE"),
    (0x10, "PTRACE_O_TRACEEXEC"),
    (0x20, "PTRACE_O_TRACEVFORKDONE"),
    (0x40, "PTRACE_O_TRACEEXIT"),
    (0x80, "PTRACE_O_TRACESECCOMP"),
    (0x10_0000, "PTRACE_O_EXITKILL"),
    (0x20_0000, "PTRACE_O_SUSPEND_SECCOMP"),
];

/// ELF note types a regset is named by.
const NT_TYPES: &[(u64, &str)] = &[
    (1, "NT_PRSTATUS"),
    (2, "NT_FPREGSET"),
    (3, "NT_PRPSINFO"),
    (4, "NT_TASKSTRUCT"),
    (6, "NT_AUXV"),
    (0x200, "NT_386_TLS"),
    (0x201, "NT_386_IOPERM"),
    (0x202, "NT_X86_XSTATE"),
    (0x203, "NT_X86_SHSTK"),
    (0x4e47_5547, "NT_GNU_PROPERTY_TYPE_0"),
    (0x4649_4c45, "NT_FILE"),
    (0x4669_4c45, "NT_PRXFPREG"),
    (0x5349_4749, "NT_SIGINFO"),
];

/// `struct user_regs_struct`'s fields, in order (8 bytes each).
const REGS: [&str; 27] = [
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi",
    "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs",
    "gs",
];
const REGS_SIZE: u64 = 27 * 8;

/// `struct user`'s fields after the registers: (offset, name).
const USER_FIELDS: &[(u64, &str)] = &[
    (216, "u_fpvalid"),
    (224, "i387"),
    (736, "u_tsize"),
    (744, "u_dsize"),
    (752, "u_ssize"),
    (760, "start_code"),
    (768, "start_stack"),
    (776, "signal"),
    (784, "reserved"),
    (792, "u_ar0"),
    (800, "u_fpstate"),
    (808, "magic"),
    (816, "u_comm"),
    (848, "u_debugreg"),
];
const USER_SIZE: u64 = 912;

/// A `PEEKUSER`/`POKEUSER` offset: `8*RIP`, `8*R15+3`, `offsetof(struct user, i387)+76`,
/// `sizeof(struct user)`, else the number.
pub fn user_offset(off: u64) -> Value {
    let plus = |base: String, k: u64| {
        if k == 0 { base } else { format!("{base}+{k}") }
    };
    if off < REGS_SIZE {
        let reg = REGS[(off / 8) as usize].to_ascii_uppercase();
        return Value::Raw(plus(format!("8*{reg}"), off % 8));
    }
    if off == USER_SIZE {
        return Value::Raw("sizeof(struct user)".into());
    }
    match USER_FIELDS.iter().rev().find(|&&(o, _)| o <= off) {
        Some(&(o, name)) if off < USER_SIZE => {
            Value::Raw(plus(format!("offsetof(struct user, {name})"), off - o))
        }
        _ => hex0(off),
    }
}

/// `{r15=0x..., ..., gs=0}`, or the address.
fn regs(c: &Ctx, addr: u64) -> Value {
    match read_vec(c, addr, REGS_SIZE as usize) {
        Some(b) if addr != 0 && b.len() == REGS_SIZE as usize => Value::structure(
            REGS.iter()
                .enumerate()
                .map(|(i, &n)| (n, hex0(le_u64(&b, 8 * i))))
                .collect(),
        ),
        _ => Value::Ptr(addr),
    }
}

/// `count` 32-bit words from `b` at `off`, cut at `-s`'s array limit with `...`.
fn words(c: &Ctx, b: &[u8], off: usize, count: usize) -> Value {
    let shown = count.min(c.o.max_array);
    let mut v: Vec<Value> = (0..shown)
        .map(|i| hex0(le_u32(b, off + 4 * i).into()))
        .collect();
    if count > shown {
        v.push(Value::Elided);
    }
    Value::Array(v)
}

/// `struct user_fpregs_struct` (512 bytes), or the address.
fn fpregs(c: &Ctx, addr: u64) -> Value {
    let b = match read_vec(c, addr, 512) {
        Some(b) if addr != 0 && b.len() == 512 => b,
        _ => return Value::Ptr(addr),
    };
    let h16 = |o: usize| hex0(le_u16(&b, o).into());
    Value::structure(vec![
        ("cwd", h16(0)),
        ("swd", h16(2)),
        ("ftw", h16(4)),
        ("fop", h16(6)),
        ("rip", hex0(le_u64(&b, 8))),
        ("rdp", hex0(le_u64(&b, 16))),
        ("mxcsr", hex0(le_u32(&b, 24).into())),
        ("mxcr_mask", hex0(le_u32(&b, 28).into())),
        ("st_space", words(c, &b, 32, 32)),
        ("xmm_space", words(c, &b, 160, 64)),
        ("padding", words(c, &b, 416, 24)),
    ])
}

/// A regset's `struct iovec`: `{iov_base={...}, iov_len=216}` for the registers and FPU
/// state, the base's address for other sets.
fn regset(c: &Ctx, nt: u64, addr: u64) -> Value {
    let Some(b) = read_vec(c, addr, 16).filter(|b| addr != 0 && b.len() == 16) else {
        return Value::Ptr(addr);
    };
    let (base, len) = (le_u64(&b, 0), le_u64(&b, 8));
    let shown = match nt {
        1 if len >= REGS_SIZE => regs(c, base),
        2 if len >= 512 => fpregs(c, base),
        _ => Value::Ptr(base),
    };
    Value::structure(vec![("iov_base", shown), ("iov_len", Value::UInt(len))])
}

const SYSCALL_INFO_OPS: &[(u64, &str)] = &[
    (0, "PTRACE_SYSCALL_INFO_NONE"),
    (1, "PTRACE_SYSCALL_INFO_ENTRY"),
    (2, "PTRACE_SYSCALL_INFO_EXIT"),
    (3, "PTRACE_SYSCALL_INFO_SECCOMP"),
];
const AUDIT_ARCHES: &[(u64, &str)] = &[
    (0xc000_003e, "AUDIT_ARCH_X86_64"),
    (0x4000_0003, "AUDIT_ARCH_I386"),
];

/// `__NR_getppid`, or the number.
fn syscall_nr(nr: u64) -> Value {
    match crate::syscalls::table::lookup(nr) {
        Some(i) => Value::Raw(format!("__NR_{}", i.name)),
        None => Value::UInt(nr),
    }
}

/// `struct ptrace_syscall_info`, of which the kernel wrote `len` bytes: the fields that
/// lie wholly in them.
fn syscall_info(c: &Ctx, addr: u64, len: u64) -> Value {
    let len = len.min(88) as usize;
    let Some(b) = read_vec(c, addr, len).filter(|b| addr != 0 && b.len() == len) else {
        return Value::Ptr(addr);
    };
    let mut f: Vec<(&'static str, Value)> = Vec::new();
    let op = b.first().copied().unwrap_or(0);
    if len >= 1 {
        f.push((
            "op",
            xlat(op.into(), SYSCALL_INFO_OPS, "PTRACE_SYSCALL_INFO_???"),
        ));
    }
    if len >= 8 {
        f.push((
            "arch",
            xlat(le_u32(&b, 4).into(), AUDIT_ARCHES, "AUDIT_ARCH_???"),
        ));
    }
    if len >= 16 {
        f.push(("instruction_pointer", hex0(le_u64(&b, 8))));
    }
    if len >= 24 {
        f.push(("stack_pointer", hex0(le_u64(&b, 16))));
    }
    let args = |b: &[u8]| Value::Array((0..6).map(|i| hex0(le_u64(b, 32 + 8 * i))).collect());
    match op {
        1 if len >= 80 => f.push((
            "entry",
            Value::structure(vec![("nr", syscall_nr(le_u64(&b, 24))), ("args", args(&b))]),
        )),
        2 if len >= 33 => f.push((
            "exit",
            Value::structure(vec![
                ("rval", Value::Int(le_i64(&b, 24))),
                ("is_error", Value::UInt(b[32].into())),
            ]),
        )),
        3 if len >= 84 => f.push((
            "seccomp",
            Value::structure(vec![
                ("nr", syscall_nr(le_u64(&b, 24))),
                ("args", args(&b)),
                ("ret_data", Value::UInt(le_u32(&b, 80).into())),
            ]),
        )),
        _ => {}
    }
    Value::structure(f)
}

/// `PEEKSIGINFO`'s `struct ptrace_peeksiginfo_args`.
fn peeksiginfo_args(c: &Ctx, addr: u64) -> Value {
    match read_vec(c, addr, 16) {
        Some(b) if addr != 0 && b.len() == 16 => Value::structure(vec![
            ("off", Value::UInt(le_u64(&b, 0))),
            (
                "flags",
                flags_x(
                    le_u32(&b, 8).into(),
                    &[(1, "PTRACE_PEEKSIGINFO_SHARED")],
                    None,
                    "PTRACE_PEEKSIGINFO_???",
                ),
            ),
            ("nr", Value::Int(i64::from(le_u32(&b, 12) as i32))),
        ]),
        _ => Value::Ptr(addr),
    }
}

/// `[0x1234]`: the word at `addr`, or the address.
fn word(c: &Ctx, addr: u64, ptr: bool) -> Value {
    match read_vec(c, addr, 8) {
        Some(b) if addr != 0 && b.len() == 8 => {
            let w = le_u64(&b, 0);
            Value::Array(vec![if ptr { Value::Ptr(w) } else { Value::UInt(w) }])
        }
        _ => Value::Ptr(addr),
    }
}

pub fn entry(c: &Ctx) -> Slots {
    let a = c.raw;
    let req = a[0] & 0xffff_ffff;
    let r = xlat(req, REQUESTS, "PTRACE_???");
    let pid = super::proc::pid_arg(c, a[1]);
    let (addr, data) = (Value::Ptr(a[2]), Value::Ptr(a[3]));
    let sig = crate::syscalls::signals::value(a[3] as i32);
    let s = Some;
    match req {
        0 => vec![s(r)],
        8 | 16 | 0x4207 | 0x4208 => vec![s(r), s(pid)],
        1 | 2 | 0x4201 | 0x4202 => vec![s(r), s(pid), s(addr), None],
        3 => vec![s(r), s(pid), s(user_offset(a[2])), None],
        6 => vec![s(r), s(pid), s(user_offset(a[2])), s(data)],
        7 | 9 | 17 | 24 | 31 | 32 | 33 => vec![s(r), s(pid), s(addr), s(sig)],
        0x4200 | 0x4206 => vec![
            s(r),
            s(pid),
            s(addr),
            s(flags_x(a[3], OPTIONS, None, "PTRACE_O_???")),
        ],
        12 | 14 => vec![s(r), s(pid), None],
        13 => vec![s(r), s(pid), s(regs(c, a[3]))],
        15 => vec![s(r), s(pid), s(fpregs(c, a[3]))],
        0x4203 => vec![
            s(r),
            s(pid),
            s(addr),
            s(super::proc::signal::siginfo_at(c, a[3])),
        ],
        0x4204 => vec![s(r), s(pid), s(xlat(a[2], NT_TYPES, "NT_???")), None],
        0x4205 => vec![
            s(r),
            s(pid),
            s(xlat(a[2], NT_TYPES, "NT_???")),
            s(regset(c, a[2], a[3])),
        ],
        0x420a | 0x420e => vec![s(r), s(pid), s(Value::UInt(a[2])), None],
        0x420b => vec![
            s(r),
            s(pid),
            s(Value::UInt(a[2])),
            s(super::proc::signal::sigset_at(c, a[3], a[2])),
        ],
        0x420c | 0x420d => vec![s(r), s(pid), s(Value::UInt(a[2])), s(data)],
        0x4209 => vec![s(r), s(pid), s(peeksiginfo_args(c, a[2])), s(data)],
        30 => vec![s(r), s(pid), s(addr), s(hex0(a[3]))],
        _ => vec![s(r), s(pid), s(addr), s(data)],
    }
}

pub fn exit(c: &Ctx, slots: &mut [Option<Value>], rval: i64, is_error: bool) -> Ret {
    let a = c.raw;
    let ok = !is_error;
    let mut set = setter(slots);
    let out = |f: &dyn Fn() -> Value| super::util::output(ok, a[3], f);
    match a[0] & 0xffff_ffff {
        1..=3 => set(3, out(&|| word(c, a[3], true))),
        0x4201 => set(3, out(&|| word(c, a[3], false))),
        12 => set(2, out(&|| regs(c, a[3]))),
        14 => set(2, out(&|| fpregs(c, a[3]))),
        0x4202 => set(3, out(&|| super::proc::signal::siginfo_at(c, a[3]))),
        0x4204 => set(3, out(&|| regset(c, a[2], a[3]))),
        0x420a => set(3, out(&|| super::proc::signal::sigset_at(c, a[3], a[2]))),
        0x420e => set(
            3,
            out(&|| syscall_info(c, a[3], a[2].min(rval.max(0) as u64))),
        ),
        _ => {}
    }
    default_ret(rval, is_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_offsets_as_strace_names_them() {
        let r = |o| super::super::util::render(&user_offset(o));
        assert_eq!(r(0), "8*R15");
        assert_eq!(r(8 * 16), "8*RIP");
        assert_eq!(r(3), "8*R15+3");
        assert_eq!(r(8 * 26), "8*GS");
        assert_eq!(r(216), "offsetof(struct user, u_fpvalid)");
        assert_eq!(r(300), "offsetof(struct user, i387)+76");
        assert_eq!(r(856), "offsetof(struct user, u_debugreg)+8");
        assert_eq!(r(912), "sizeof(struct user)");
        assert_eq!(r(1000), "0x3e8");
    }
}
