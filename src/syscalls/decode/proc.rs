//! Process, signal, resource, futex, prctl and System V IPC syscalls, decoded as strace 6.1
//! prints them.
//!
//! Two calls need more than the argument registers, and the session layer fills them in:
//! - `rt_sigreturn` prints the mask being restored, read from the signal frame on the stack.
//!   The entry decoder prints `{mask=...}`; with the stack pointer at the entry stop (from
//!   `PTRACE_GET_SYSCALL_INFO`) call [`sigreturn_arg`] and put its result in slot 0.
//! - `restart_syscall` prints the call it resumes: `<... resuming interrupted read ...>`. The
//!   decoder prints `<... resuming interrupted call ...>`; a session that remembers the call a
//!   thread was in when it was interrupted replaces slot 0 with [`restart_arg`]`("read")`.

use super::Ctx;
use super::util::{
    default_ret, dirfd, flags, hex0, int_ref, le_i32, le_i64, le_u32, le_u64, named, path,
    quote_hex, read_bytes, read_cstr, read_vec, render, string, timespec, unknown, xlat,
};
use crate::syscalls::signals::{self, sigset};
use crate::syscalls::{Ret, Tracee, Value};
use std::borrow::Cow;

type Slots = Vec<Option<Value>>;

/// The longest argv/envp strace prints before `...`.
const MAX_ARGV: usize = 32;

fn sig_arg(v: u64) -> Value {
    signals::value(v as i32)
}

fn pid_arg(v: u64) -> Value {
    Value::Int((v as i32).into())
}

/// A `sigset_t *` with its size argument: the set, or the address if unreadable or the size
/// is not the kernel's 8 (strace does not decode other sizes).
fn sigset_at(c: &Ctx, addr: u64, size: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    if size != 8 {
        return Value::Ptr(addr);
    }
    match read_bytes::<8>(c, addr) {
        Some(b) => sigset(u64::from_le_bytes(b)),
        None => Value::Ptr(addr),
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
    let mut f = vec![
        ("sa_handler", h),
        ("sa_mask", sigset(le_u64(&b, 24))),
        ("sa_flags", flags(fl, SA_FLAGS)),
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
pub fn sigreturn_arg(t: &dyn Tracee, sp: u64) -> Value {
    let mut b = [0u8; 8];
    let mask = if t.read_mem(sp.wrapping_add(296), &mut b) == 8 {
        sigset(u64::from_le_bytes(b))
    } else {
        Value::Elided
    };
    Value::structure(vec![("mask", mask)])
}

/// The `restart_syscall` argument once the session knows which call was interrupted.
pub fn restart_arg(interrupted: &str) -> Value {
    Value::Raw(format!("<... resuming interrupted {interrupted} ...>"))
}

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

/// clone3's `struct clone_args`; pointer fields appear when set.
fn clone_args(c: &Ctx, addr: u64, size: u64) -> Value {
    let n = (size as usize).clamp(0, 88);
    let b = match read_vec(c, addr, n) {
        Some(b) if n >= 64 && b.len() == n => b,
        _ => return Value::Ptr(addr),
    };
    let fl = le_u64(&b, 0);
    let mut f = vec![("flags", flags(fl, CLONE_FLAGS))];
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
    f.push(("exit_signal", sig_arg(le_u64(&b, 32))));
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

/// An argv-style array of strings: `["ls", "-l"]`, `...` after 32 entries.
fn string_array(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let Some(ptrs) = read_vec(c, addr, (MAX_ARGV + 1) * 8) else {
        return Value::Ptr(addr);
    };
    let mut items = Vec::new();
    for chunk in ptrs.chunks_exact(8) {
        let p = le_u64(chunk, 0);
        if p == 0 {
            return Value::Array(items);
        }
        if items.len() == MAX_ARGV {
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

/// envp as strace abbreviates it: `0x7ffd... /* 20 vars */`.
fn env_summary(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
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

/// `struct rusage`, abbreviated as strace does by default.
fn rusage(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<32>(c, addr) else {
        return Value::Ptr(addr);
    };
    let tv = |off| {
        Value::structure(vec![
            ("tv_sec", Value::Int(le_i64(&b, off))),
            ("tv_usec", Value::Int(le_i64(&b, off + 8))),
        ])
    };
    Value::structure(vec![
        ("ru_utime", tv(0)),
        ("ru_stime", tv(16)),
        ("", Value::Elided),
    ])
}

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

fn rlimit(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<16>(c, addr) {
        Some(b) => Value::structure(vec![
            ("rlim_cur", rlim(le_u64(&b, 0))),
            ("rlim_max", rlim(le_u64(&b, 8))),
        ]),
        None => Value::Ptr(addr),
    }
}

/// `struct utsname`, abbreviated: `{sysname="Linux", nodename="vm", ...}`.
fn utsname(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_vec(c, addr, 130) else {
        return Value::Ptr(addr);
    };
    if b.len() < 130 {
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

const PR_SET_PDEATHSIG: u64 = 1;
const PR_GET_PDEATHSIG: u64 = 2;
const PR_GET_DUMPABLE: u64 = 3;
const PR_SET_DUMPABLE: u64 = 4;
const PR_GET_NAME: u64 = 16;
const PR_SET_NAME: u64 = 15;

const PR_OPTIONS: &[(u64, &str)] = &[
    (1, "PR_SET_PDEATHSIG"),
    (2, "PR_GET_PDEATHSIG"),
    (3, "PR_GET_DUMPABLE"),
    (4, "PR_SET_DUMPABLE"),
    (7, "PR_GET_KEEPCAPS"),
    (8, "PR_SET_KEEPCAPS"),
    (15, "PR_SET_NAME"),
    (16, "PR_GET_NAME"),
    (21, "PR_GET_SECCOMP"),
    (22, "PR_SET_SECCOMP"),
    (23, "PR_CAPBSET_READ"),
    (24, "PR_CAPBSET_DROP"),
    (29, "PR_SET_TIMERSLACK"),
    (30, "PR_GET_TIMERSLACK"),
    (35, "PR_SET_MM"),
    (36, "PR_SET_CHILD_SUBREAPER"),
    (37, "PR_GET_CHILD_SUBREAPER"),
    (38, "PR_SET_NO_NEW_PRIVS"),
    (39, "PR_GET_NO_NEW_PRIVS"),
    (0x5356_4d41, "PR_SET_VMA"),
];

const DUMPABLE: &[(u64, &str)] = &[
    (0, "SUID_DUMP_DISABLE"),
    (1, "SUID_DUMP_USER"),
    (2, "SUID_DUMP_ROOT"),
];

const CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

fn prctl(c: &Ctx) -> Slots {
    let a = c.raw;
    let s = Some;
    let opt = a[0];
    let name = xlat(opt, PR_OPTIONS, "PR_???");
    let int = |v: u64| Value::Int((v as i64 as i32).into());
    let uint = |v: u64| Value::UInt(v);
    match opt {
        PR_SET_PDEATHSIG => vec![s(name), s(sig_arg(a[1]))],
        PR_GET_PDEATHSIG | PR_GET_NAME => vec![s(name), None],
        PR_GET_DUMPABLE | 7 | 21 | 30 | 37 => vec![s(name)],
        PR_SET_DUMPABLE => vec![s(name), s(xlat(a[1], DUMPABLE, "SUID_DUMP_???"))],
        PR_SET_NAME => vec![s(name), s(string(c, a[1]))],
        8 | 36 => vec![s(name), s(int(a[1]))],
        29 => vec![s(name), s(uint(a[1]))],
        23 | 24 => {
            let cap = CAPS
                .get(a[1] as usize)
                .map(|n| Value::sym(n))
                .unwrap_or_else(|| unknown(a[1], "CAP_???"));
            vec![s(name), s(cap)]
        }
        35 => {
            let sub = xlat(
                a[1],
                &[
                    (1, "PR_SET_MM_START_CODE"),
                    (2, "PR_SET_MM_END_CODE"),
                    (3, "PR_SET_MM_START_DATA"),
                    (4, "PR_SET_MM_END_DATA"),
                    (5, "PR_SET_MM_START_STACK"),
                    (6, "PR_SET_MM_START_BRK"),
                    (7, "PR_SET_MM_BRK"),
                    (8, "PR_SET_MM_ARG_START"),
                    (9, "PR_SET_MM_ARG_END"),
                    (10, "PR_SET_MM_ENV_START"),
                    (11, "PR_SET_MM_ENV_END"),
                    (12, "PR_SET_MM_AUXV"),
                    (13, "PR_SET_MM_EXE_FILE"),
                    (14, "PR_SET_MM_MAP"),
                    (15, "PR_SET_MM_MAP_SIZE"),
                ],
                "PR_SET_MM_???",
            );
            vec![s(name), s(sub), s(hex0(a[2])), s(hex0(a[3])), s(hex0(a[4]))]
        }
        0x5356_4d41 if a[1] == 0 => vec![
            s(name),
            s(Value::sym("PR_SET_VMA_ANON_NAME")),
            s(hex0(a[2])),
            s(Value::UInt(a[3])),
            s(string(c, a[4])),
        ],
        38 | 39 => vec![
            s(name),
            s(uint(a[1])),
            s(uint(a[2])),
            s(uint(a[3])),
            s(uint(a[4])),
        ],
        _ => vec![
            s(name),
            s(hex0(a[1])),
            s(hex0(a[2])),
            s(hex0(a[3])),
            s(hex0(a[4])),
        ],
    }
}

const ARCH_PRCTL: &[(u64, &str)] = &[
    (0x1001, "ARCH_SET_GS"),
    (0x1002, "ARCH_SET_FS"),
    (0x1003, "ARCH_GET_FS"),
    (0x1004, "ARCH_GET_GS"),
    (0x1011, "ARCH_GET_CPUID"),
    (0x1012, "ARCH_SET_CPUID"),
];

/// `IPC_PRIVATE` or the key in hex.
fn ipc_key(v: u64) -> Value {
    if v as i32 == 0 {
        Value::sym("IPC_PRIVATE")
    } else {
        hex0(u64::from(v as u32))
    }
}

/// shmget/semget flags: `IPC_CREAT|IPC_EXCL|0600`; the mode alone prints `000`.
fn ipc_get_flags(v: u64, extra: &[(u64, &'static str)]) -> Value {
    let mut names: Vec<Cow<'static, str>> = Vec::new();
    for &(bit, n) in [(0o1000u64, "IPC_CREAT"), (0o2000, "IPC_EXCL")]
        .iter()
        .chain(extra.iter())
    {
        if v & bit != 0 {
            names.push(Cow::Borrowed(n));
        }
    }
    let known: u64 = extra.iter().fold(0o3000, |m, &(b, _)| m | b);
    let rest = v & !known & !0o777;
    if rest != 0 {
        names.push(Cow::Owned(format!("{rest:#x}")));
    }
    names.push(Cow::Owned(format!("0{:02o}", v & 0o777)));
    Value::Flags(names)
}

const IPC_CMDS: &[(u64, &str)] = &[
    (0, "IPC_RMID"),
    (1, "IPC_SET"),
    (2, "IPC_STAT"),
    (3, "IPC_INFO"),
];

fn shmid_ds(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<112>(c, addr) else {
        return Value::Ptr(addr);
    };
    let perm = Value::structure(vec![
        ("uid", Value::UInt(u64::from(le_u32(&b, 4)))),
        ("gid", Value::UInt(u64::from(le_u32(&b, 8)))),
        ("mode", Value::Oct(u64::from(le_u32(&b, 20) & 0o777))),
        ("key", hex0(u64::from(le_u32(&b, 0)))),
        ("cuid", Value::UInt(u64::from(le_u32(&b, 12)))),
        ("cgid", Value::UInt(u64::from(le_u32(&b, 16)))),
    ]);
    Value::structure(vec![
        ("shm_perm", perm),
        ("shm_segsz", Value::UInt(le_u64(&b, 48))),
        ("shm_cpid", Value::Int(le_i32(&b, 80).into())),
        ("shm_lpid", Value::Int(le_i32(&b, 84).into())),
        ("shm_nattch", Value::UInt(le_u64(&b, 88))),
        ("shm_atime", Value::Int(le_i64(&b, 56))),
        ("shm_dtime", Value::Int(le_i64(&b, 64))),
        ("shm_ctime", Value::Int(le_i64(&b, 72))),
    ])
}

/// `[{sem_num=0, sem_op=1, sem_flg=SEM_UNDO|IPC_NOWAIT}]`.
fn sembufs(c: &Ctx, addr: u64, n: u64) -> Value {
    let shown = (n as usize).min(c.o.max_array);
    let Some(b) = read_vec(c, addr, shown * 6) else {
        return Value::Ptr(addr);
    };
    if b.len() < shown * 6 {
        return Value::Ptr(addr);
    }
    let mut items: Vec<Value> = b
        .chunks_exact(6)
        .map(|e| {
            let num = u16::from_le_bytes([e[0], e[1]]);
            let op = i16::from_le_bytes([e[2], e[3]]);
            let fl = u16::from_le_bytes([e[4], e[5]]);
            Value::structure(vec![
                ("sem_num", Value::UInt(num.into())),
                ("sem_op", Value::Int(op.into())),
                (
                    "sem_flg",
                    flags(fl.into(), &[(0x1000, "SEM_UNDO"), (0o4000, "IPC_NOWAIT")]),
                ),
            ])
        })
        .collect();
    if (n as usize) > shown {
        items.push(Value::Elided);
    }
    Value::Array(items)
}

/// Entry-stop decoding; `None` if `name` is not one of this group's syscalls.
pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let int = |v: u64| Value::Int((v as i32).into());
    let v = match name {
        "kill" | "tkill" => vec![s(pid_arg(a[0])), s(sig_arg(a[1]))],
        "tgkill" => vec![s(pid_arg(a[0])), s(pid_arg(a[1])), s(sig_arg(a[2]))],
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
        "clone" => {
            let mut v = vec![
                s(named("child_stack", &Value::Ptr(a[1]))),
                s(named("flags", &clone_flags(a[0]))),
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
            s(pid_arg(a[0])),
            None,
            s(flags(a[2] & 0xffff_ffff, WAIT_OPTIONS)),
            None,
        ],
        "exit" | "exit_group" => vec![s(int(a[0]))],
        "futex" => futex(c),
        "set_robust_list" => vec![s(Value::Ptr(a[0])), s(Value::UInt(a[1]))],
        "set_tid_address" => vec![s(Value::Ptr(a[0]))],
        "rseq" => vec![
            s(Value::Ptr(a[0])),
            s(hex0(a[1] & 0xffff_ffff)),
            s(flags(a[2] & 0xffff_ffff, &[(1, "RSEQ_FLAG_UNREGISTER")])),
            s(hex0(a[3] & 0xffff_ffff)),
        ],
        "arch_prctl" => {
            let code = xlat(a[0] & 0xffff_ffff, ARCH_PRCTL, "ARCH_???");
            match a[0] & 0xffff_ffff {
                0x1003 | 0x1004 => vec![s(code), None],
                0x1011 => vec![s(code)],
                0x1012 => vec![s(code), s(Value::Int(a[1] as i64))],
                _ => vec![s(code), s(hex0(a[1]))],
            }
        }
        "prlimit64" => vec![
            s(pid_arg(a[0])),
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
        "umask" => vec![s(Value::Oct(a[0] & 0o7777))],
        "setpgid" => vec![s(pid_arg(a[0])), s(pid_arg(a[1]))],
        "getpgid" | "getsid" => vec![s(pid_arg(a[0]))],
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
        "prctl" => prctl(c),
        "shmget" => vec![
            s(ipc_key(a[0])),
            s(Value::UInt(a[1])),
            s(ipc_get_flags(
                a[2],
                &[(0o4000, "SHM_HUGETLB"), (0o10000, "SHM_NORESERVE")],
            )),
        ],
        "shmat" => vec![
            s(int(a[0])),
            s(Value::Ptr(a[1])),
            s(flags(
                a[2],
                &[
                    (0o10000, "SHM_RDONLY"),
                    (0o20000, "SHM_RND"),
                    (0o40000, "SHM_REMAP"),
                    (0o100000, "SHM_EXEC"),
                ],
            )),
        ],
        "shmdt" => vec![s(Value::Ptr(a[0]))],
        "shmctl" => {
            let cmd = xlat(
                a[1] & 0xff,
                &[
                    (0, "IPC_RMID"),
                    (1, "IPC_SET"),
                    (2, "IPC_STAT"),
                    (3, "IPC_INFO"),
                    (11, "SHM_LOCK"),
                    (12, "SHM_UNLOCK"),
                    (13, "SHM_STAT"),
                    (14, "SHM_INFO"),
                    (15, "SHM_STAT_ANY"),
                ],
                "SHM_???",
            );
            if matches!(a[1] & 0xff, 2 | 13 | 15) {
                vec![s(int(a[0])), s(cmd), None]
            } else {
                vec![s(int(a[0])), s(cmd), s(Value::Ptr(a[2]))]
            }
        }
        "semget" => vec![s(ipc_key(a[0])), s(int(a[1])), s(ipc_get_flags(a[2], &[]))],
        "semop" => vec![
            s(int(a[0])),
            s(sembufs(c, a[1], a[2])),
            s(Value::UInt(a[2])),
        ],
        "semtimedop" => vec![
            s(int(a[0])),
            s(sembufs(c, a[1], a[2])),
            s(Value::UInt(a[2])),
            s(timespec(c, a[3])),
        ],
        "semctl" => {
            let table: Vec<(u64, &str)> = IPC_CMDS
                .iter()
                .copied()
                .chain([
                    (11, "GETPID"),
                    (12, "GETVAL"),
                    (13, "GETALL"),
                    (14, "GETNCNT"),
                    (15, "GETZCNT"),
                    (16, "SETVAL"),
                    (17, "SETALL"),
                    (18, "SEM_STAT"),
                    (19, "SEM_INFO"),
                    (20, "SEM_STAT_ANY"),
                ])
                .collect();
            vec![
                s(int(a[0])),
                s(int(a[1])),
                s(xlat(a[2] & 0xff, &table, "SEM_???")),
                s(Value::Ptr(a[3])),
            ]
        }
        _ => return None,
    };
    Some(v)
}

/// Exit-stop decoding: output arguments and the return value.
pub fn exit(
    name: &str,
    c: &Ctx,
    slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    let a = c.raw;
    let ok = !is_error;
    let first_pending = matches!(slots.first(), Some(None));
    let mut set = |i: usize, v: Value| {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(v);
        }
    };
    let out = |addr: u64, f: &dyn Fn() -> Value| {
        if addr == 0 {
            Value::Ptr(0)
        } else if ok {
            f()
        } else {
            Value::Ptr(addr)
        }
    };
    let ret = match name {
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
            set(3, out(a[3], &|| rusage(c, a[3])));
            default_ret(rval, is_error)
        }
        "arch_prctl" if matches!(a[0] & 0xffff_ffff, 0x1003 | 0x1004) => {
            let v = out(a[1], &|| match read_bytes::<8>(c, a[1]) {
                Some(b) => Value::Array(vec![hex0(u64::from_le_bytes(b))]),
                None => Value::Ptr(a[1]),
            });
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
        "prctl" => match a[0] {
            PR_GET_PDEATHSIG => {
                let v = out(a[1], &|| match read_bytes::<4>(c, a[1]) {
                    Some(b) => Value::Array(vec![signals::value(i32::from_le_bytes(b))]),
                    None => Value::Ptr(a[1]),
                });
                set(1, v);
                default_ret(rval, is_error)
            }
            PR_GET_NAME => {
                let v = out(a[1], &|| match read_cstr(c, a[1], 15) {
                    Some((bytes, _)) => Value::Str {
                        bytes,
                        truncated: false,
                    },
                    None => Value::Ptr(a[1]),
                });
                set(1, v);
                default_ret(rval, is_error)
            }
            PR_GET_DUMPABLE if ok => match DUMPABLE.iter().find(|&&(v, _)| v as i64 == rval) {
                Some(&(_, n)) => Ret::Annotated {
                    value: Box::new(Ret::Int(rval)),
                    note: n.to_string(),
                },
                None => Ret::Int(rval),
            },
            _ => default_ret(rval, is_error),
        },
        "shmat" => {
            if is_error {
                default_ret(rval, is_error)
            } else {
                Ret::Hex(rval as u64)
            }
        }
        "shmctl" => {
            if matches!(a[1] & 0xff, 2 | 13 | 15) {
                set(2, out(a[2], &|| shmid_ds(c, a[2])));
            }
            default_ret(rval, is_error)
        }
        // umask returns the old mask, printed in octal (`= 022`); Ret has no octal form.
        "umask" if !is_error => Ret::Oct(rval as u64),
        "umask" => default_ret(rval, is_error),
        _ => {
            // Everything else this group owns returns a plain number.
            entry_known(name)?;
            default_ret(rval, is_error)
        }
    };
    Some(ret)
}

/// Every syscall this group decodes; `exit` claims only these.
const OWN: &[&str] = &[
    "kill",
    "tkill",
    "tgkill",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigsuspend",
    "rt_sigpending",
    "rt_sigreturn",
    "sigaltstack",
    "restart_syscall",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "setsid",
    "getpgrp",
    "sched_yield",
    "pause",
    "execve",
    "execveat",
    "wait4",
    "exit",
    "exit_group",
    "futex",
    "set_robust_list",
    "set_tid_address",
    "rseq",
    "arch_prctl",
    "prlimit64",
    "getrlimit",
    "setrlimit",
    "getrusage",
    "umask",
    "setpgid",
    "getpgid",
    "getsid",
    "uname",
    "sysinfo",
    "getrandom",
    "prctl",
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
];

fn entry_known(name: &str) -> Option<()> {
    OWN.contains(&name).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::DecodeOpts;
    use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines, le64, line};

    fn ctx<'a>(raw: [u64; 6], t: &'a FakeTracee, o: &'a DecodeOpts) -> Ctx<'a> {
        Ctx { raw, t, o }
    }

    #[test]
    fn own_list_matches_entry() {
        let t = FakeTracee::default();
        let o = DecodeOpts::default();
        for name in OWN {
            assert!(entry(name, &ctx([0; 6], &t, &o)).is_some(), "{name}");
        }
        assert!(entry("read", &ctx([0; 6], &t, &o)).is_none());
        let mut slots = vec![];
        assert!(exit("read", &ctx([0; 6], &t, &o), &mut slots, 0, false).is_none());
    }

    #[test]
    fn kill_family() {
        let t = FakeTracee::default();
        assert_eq!(
            line("kill", [99999, 10, 0, 0, 0, 0], &t, -3, true),
            "kill(99999, SIGUSR1) = -3"
        );
        assert_eq!(
            line("tgkill", [14074, 14074, 19, 0, 0, 0], &t, 0, false),
            "tgkill(14074, 14074, SIGSTOP) = 0"
        );
        assert_eq!(
            line("tkill", [99999, 34, 0, 0, 0, 0], &t, 0, false),
            "tkill(99999, SIGRT_2) = 0"
        );
        assert_eq!(
            line("kill", [99999, 0, 0, 0, 0, 0], &t, 0, false),
            "kill(99999, 0) = 0"
        );
    }

    #[test]
    fn rt_sigaction_forms() {
        let act = le64(&[
            0x55ca_5631_f279,
            0x0400_0000 | 0x1000_0000,
            0x7f24_79c9_9050,
            (1 << 11) | (1 << 13),
        ]);
        let old = le64(&[0, 0, 0, 0]);
        let t = FakeTracee::default().with(0x1000, &act).with(0x2000, &old);
        assert_eq!(
            line("rt_sigaction", [10, 0x1000, 0, 8, 0, 0], &t, 0, false),
            "rt_sigaction(SIGUSR1, {sa_handler=0x55ca5631f279, sa_mask=[USR2 ALRM], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f2479c99050}, NULL, 8) = 0"
        );
        let ign = le64(&[1, 0x0400_0000, 0x7f24_79c9_9050, 0]);
        let t = FakeTracee::default().with(0x1000, &ign).with(0x2000, &old);
        assert_eq!(
            line("rt_sigaction", [13, 0x1000, 0x2000, 8, 0, 0], &t, 0, false),
            "rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f2479c99050}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0"
        );
        let odd = le64(&[
            0x55ca_5631_f283,
            0xffff_ffff_8000_0000 | 0x4c00_0004,
            0x7f24_79c9_9050,
            0,
        ]);
        let t = FakeTracee::default().with(0x1000, &odd);
        assert_eq!(
            line("rt_sigaction", [12, 0x1000, 0, 8, 0, 0], &t, 0, false),
            "rt_sigaction(SIGUSR2, {sa_handler=0x55ca5631f283, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK|SA_NODEFER|SA_RESETHAND|SA_SIGINFO|0xffffffff00000000, sa_restorer=0x7f2479c99050}, NULL, 8) = 0"
        );
        let t = FakeTracee::default();
        assert_eq!(
            line("rt_sigaction", [2, 1, 2, 8, 0, 0], &t, -14, true),
            "rt_sigaction(SIGINT, 0x1, 0x2, 8) = -14"
        );
        let chld = le64(&[0, 0x0400_0003, 0, 0]);
        let t = FakeTracee::default().with(0x1000, &chld);
        assert_eq!(
            line("rt_sigaction", [17, 0x1000, 0, 8, 0, 0], &t, 0, false),
            "rt_sigaction(SIGCHLD, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=SA_RESTORER|SA_NOCLDSTOP|SA_NOCLDWAIT, sa_restorer=NULL}, NULL, 8) = 0"
        );
    }

    #[test]
    fn rt_sigprocmask_forms() {
        let t = FakeTracee::default()
            .with(0x1000, &(1u64 << 9).to_le_bytes())
            .with(0x2000, &(!0u64).to_le_bytes())
            .with(0x3000, &((1u64 << 31) | (1 << 32)).to_le_bytes());
        assert_eq!(
            line("rt_sigprocmask", [0, 0x1000, 0, 8, 0, 0], &t, 0, false),
            "rt_sigprocmask(SIG_BLOCK, [USR1], NULL, 8) = 0"
        );
        assert_eq!(
            line("rt_sigprocmask", [0, 0x2000, 0x1000, 8, 0, 0], &t, 0, false),
            "rt_sigprocmask(SIG_BLOCK, ~[], [USR1], 8) = 0"
        );
        assert_eq!(
            line("rt_sigprocmask", [1, 0x3000, 0, 8, 0, 0], &t, 0, false),
            "rt_sigprocmask(SIG_UNBLOCK, [RTMIN RT_1], NULL, 8) = 0"
        );
        assert_eq!(
            line("rt_sigprocmask", [0, 0x1000, 0, 16, 0, 0], &t, -22, true),
            "rt_sigprocmask(SIG_BLOCK, 0x1000, NULL, 16) = -22"
        );
        assert_eq!(
            line("rt_sigprocmask", [5, 1, 8, 8, 0, 0], &t, -14, true),
            "rt_sigprocmask(0x5 /* SIG_??? */, 0x1, 0x8, 8) = -14"
        );
        assert_eq!(
            line("rt_sigsuspend", [0x3000, 8, 0, 0, 0, 0], &t, -514, true),
            "rt_sigsuspend([RTMIN RT_1], 8) = -514"
        );
    }

    #[test]
    fn sigreturn_and_sigaltstack() {
        let mut frame = vec![0u8; 304];
        frame[296..304].copy_from_slice(&(1u64 << 9).to_le_bytes());
        let t = FakeTracee::default().with(0x7000, &frame);
        assert_eq!(render(&sigreturn_arg(&t, 0x7000)), "{mask=[USR1]}");
        assert_eq!(
            line("rt_sigreturn", [0; 6], &t, 0, false),
            "rt_sigreturn({mask=...}) = 0"
        );
        let mut ss = le64(&[0x55ca_8b72_12a0, 0, 65536]);
        ss.extend(le64(&[0, 2, 0]));
        let t = FakeTracee::default().with(0x1000, &ss);
        assert_eq!(
            line("sigaltstack", [0x1000, 0x1018, 0, 0, 0, 0], &t, 0, false),
            "sigaltstack({ss_sp=0x55ca8b7212a0, ss_flags=0, ss_size=65536}, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0"
        );
        assert_eq!(
            render(&restart_arg("read")),
            "<... resuming interrupted read ...>"
        );
    }

    #[test]
    fn clone_forms() {
        let t = FakeTracee::default().with(0x5000, &12404u32.to_le_bytes());
        assert_eq!(
            line(
                "clone",
                [0x0120_0011, 0, 0, 0x7f24_79c5_aa10, 0, 0],
                &t,
                14071,
                false
            ),
            "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f2479c5aa10) = 14071"
        );
        assert_eq!(
            line(
                "clone",
                [0x0118_0011, 0, 0x5000, 0x7fff_5b8e_5dd8, 0x1234, 0],
                &t,
                12404,
                false
            ),
            "clone(child_stack=NULL, flags=CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_SETTID|SIGCHLD, parent_tid=[12404], tls=0x1234, child_tidptr=0x7fff5b8e5dd8) = 12404"
        );
        assert_eq!(
            line("clone", [0x4100, 0, 0, 0, 0, 0], &t, 12405, false),
            "clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK) = 12405"
        );
    }

    #[test]
    fn clone3_forms() {
        let args = le64(&[0x4100, 0, 0, 0, 17, 0x7f24_79e3_f000, 0x9000, 0, 0, 0, 0]);
        let t = FakeTracee::default().with(0x1000, &args);
        assert_eq!(
            line("clone3", [0x1000, 88, 0, 0, 0, 0], &t, 14077, false),
            "clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f2479e3f000, stack_size=0x9000}, 88) = 14077"
        );
        let args = le64(&[
            0x003d_0f00,
            0,
            0x7f24_79c5_9990,
            0x7f24_79c5_9990,
            0,
            0x7f24_7945_9000,
            0x7f_ff80,
            0x7f24_79c5_96c0,
            0,
            0,
            0,
        ]);
        let t = FakeTracee::default()
            .with(0x1000, &args)
            .with(0x7f24_79c5_9990, &14076u32.to_le_bytes());
        assert_eq!(
            line("clone3", [0x1000, 88, 0, 0, 0, 0], &t, 14076, false),
            "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f2479c59990, parent_tid=0x7f2479c59990, exit_signal=0, stack=0x7f2479459000, stack_size=0x7fff80, tls=0x7f2479c596c0} => {parent_tid=[14076]}, 88) = 14076"
        );
    }

    /// A fake process image: strings at 0x1000.., a pointer array at 0x9000.
    fn argv_tracee(args: &[&str], at: u64) -> FakeTracee {
        let mut t = FakeTracee::default();
        let mut ptrs = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let addr = 0x10_0000 + (i as u64) * 0x100;
            let mut b = a.as_bytes().to_vec();
            b.push(0);
            t = t.with(addr, &b);
            ptrs.push(addr);
        }
        ptrs.push(0);
        t.with(at, &le64(&ptrs))
    }

    #[test]
    fn execve_forms() {
        let mut t = argv_tracee(&["/bin/true", "-l", "x y"], 0x9000);
        t = t.with(0x8000, b"/bin/true\0");
        assert_eq!(
            line("execve", [0x8000, 0x9000, 0, 0, 0, 0], &t, 0, false),
            "execve(\"/bin/true\", [\"/bin/true\", \"-l\", \"x y\"], NULL) = 0"
        );
        let names: Vec<String> = (0..39)
            .map(|i| {
                if i == 5 {
                    "0123456789012345678901234567890123456789".to_string()
                } else {
                    format!("a{i}")
                }
            })
            .collect();
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let mut t = argv_tracee(&refs, 0x9000);
        t = t
            .with(0x8000, b"/nonexist\0")
            .with(0xa000, &le64(&[1, 2, 0]));
        let want = "execve(\"/nonexist\", [\"a0\", \"a1\", \"a2\", \"a3\", \"a4\", \"01234567890123456789012345678901\"..., \"a6\", \"a7\", \"a8\", \"a9\", \"a10\", \"a11\", \"a12\", \"a13\", \"a14\", \"a15\", \"a16\", \"a17\", \"a18\", \"a19\", \"a20\", \"a21\", \"a22\", \"a23\", \"a24\", \"a25\", \"a26\", \"a27\", \"a28\", \"a29\", \"a30\", \"a31\", ...], 0xa000 /* 2 vars */) = -2";
        assert_eq!(
            line("execve", [0x8000, 0x9000, 0xa000, 0, 0, 0], &t, -2, true),
            want
        );
        assert_eq!(
            line("execve", [0x8000, 0, 0, 0, 0, 0], &t, -2, true),
            "execve(\"/nonexist\", NULL, NULL) = -2"
        );
        assert_eq!(
            line("execve", [0x8000, 1, 1, 0, 0, 0], &t, -2, true),
            "execve(\"/nonexist\", 0x1, 0x1) = -2"
        );
        let t = t.with(0x7000, b"\0");
        assert_eq!(
            line("execveat", [3, 0x7000, 0, 0xa000, 0x1000, 0], &t, -9, true),
            "execveat(3, \"\", NULL, 0xa000 /* 2 vars */, AT_EMPTY_PATH) = -9"
        );
    }

    #[test]
    fn wait4_forms() {
        let t = FakeTracee::default()
            .with(0x1000, &0u32.to_le_bytes())
            .with(0x1010, &(3u32 << 8).to_le_bytes())
            .with(0x1020, &9u32.to_le_bytes())
            .with(0x1030, &0x137fu32.to_le_bytes())
            .with(0x2000, &le64(&[0, 85, 0, 0]));
        assert_eq!(
            line("wait4", [14071, 0x1000, 0, 0, 0, 0], &t, 14071, false),
            "wait4(14071, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 14071"
        );
        assert_eq!(
            line("wait4", [14072, 0x1010, 1, 0, 0, 0], &t, 0, false),
            "wait4(14072, 0x1010, WNOHANG, NULL) = 0"
        );
        assert_eq!(
            line(
                "wait4",
                [u64::MAX, 0x1010, 0x4000_0000, 0x2000, 0, 0],
                &t,
                14072,
                false
            ),
            "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], __WALL, {ru_utime={tv_sec=0, tv_usec=85}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 14072"
        );
        assert_eq!(
            line("wait4", [14073, 0x1020, 0, 0, 0, 0], &t, 14073, false),
            "wait4(14073, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 14073"
        );
        assert_eq!(
            line("wait4", [14074, 0x1030, 2, 0, 0, 0], &t, 14074, false),
            "wait4(14074, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, NULL) = 14074"
        );
        assert_eq!(
            line("wait4", [14074, 0x1030, 8, 0, 0, 0], &t, -10, true),
            "wait4(14074, 0x1030, WCONTINUED, NULL) = -10"
        );
    }

    #[test]
    fn simple_process_calls() {
        let t = FakeTracee::default();
        assert_eq!(
            line("exit_group", [0; 6], &t, 0, false),
            "exit_group(0) = ?"
        );
        assert_eq!(
            line("exit", [7, 0, 0, 0, 0, 0], &t, 0, false),
            "exit(7) = ?"
        );
        assert_eq!(line("getpid", [0; 6], &t, 16991, false), "getpid() = 16991");
        assert_eq!(line("vfork", [0; 6], &t, 5, false), "vfork() = 5");
        assert_eq!(
            line(
                "set_robust_list",
                [0x7f24_79c5_aa20, 24, 0, 0, 0, 0],
                &t,
                0,
                false
            ),
            "set_robust_list(0x7f2479c5aa20, 24) = 0"
        );
        assert_eq!(
            line(
                "set_tid_address",
                [0x7f24_79c5_aa10, 0, 0, 0, 0, 0],
                &t,
                14070,
                false
            ),
            "set_tid_address(0x7f2479c5aa10) = 14070"
        );
        assert_eq!(
            line(
                "rseq",
                [0x7f24_79c5_b060, 0x20, 0, 0x5305_3053, 0, 0],
                &t,
                0,
                false
            ),
            "rseq(0x7f2479c5b060, 0x20, 0, 0x53053053) = 0"
        );
        assert_eq!(
            line(
                "arch_prctl",
                [0x1002, 0x7f24_79c5_a740, 0, 0, 0, 0],
                &t,
                0,
                false
            ),
            "arch_prctl(ARCH_SET_FS, 0x7f2479c5a740) = 0"
        );
        assert_eq!(
            line("arch_prctl", [0x1001, 0, 0, 0, 0, 0], &t, 0, false),
            "arch_prctl(ARCH_SET_GS, 0) = 0"
        );
        assert_eq!(
            line("arch_prctl", [0x1011, 0, 0, 0, 0, 0], &t, 1, false),
            "arch_prctl(ARCH_GET_CPUID) = 1"
        );
        assert_eq!(
            line("arch_prctl", [0x9999, 0, 0, 0, 0, 0], &t, -22, true),
            "arch_prctl(0x9999 /* ARCH_??? */, 0) = -22"
        );
        let t = t.with(0x1000, &0x7f52_08c3_9740u64.to_le_bytes());
        assert_eq!(
            line("arch_prctl", [0x1003, 0x1000, 0, 0, 0, 0], &t, 0, false),
            "arch_prctl(ARCH_GET_FS, [0x7f5208c39740]) = 0"
        );
        assert_eq!(line("setsid", [0; 6], &t, 16991, false), "setsid() = 16991");
        assert_eq!(line("setpgid", [0; 6], &t, -1, true), "setpgid(0, 0) = -1");
        assert_eq!(
            line("getpgid", [1, 0, 0, 0, 0, 0], &t, 0, false),
            "getpgid(1) = 0"
        );
        assert_eq!(
            line("umask", [0o22, 0, 0, 0, 0, 0], &t, 0o22, false),
            "umask(022) = 022"
        );
        assert_eq!(
            line("umask", [0o1777, 0, 0, 0, 0, 0], &t, 0, false),
            "umask(01777) = 000"
        );
        assert_eq!(
            line("sched_yield", [0; 6], &t, 0, false),
            "sched_yield() = 0"
        );
    }

    #[test]
    fn rlimits() {
        let t = FakeTracee::default()
            .with(0x1000, &le64(&[8192 * 1024, u64::MAX]))
            .with(0x2000, &le64(&[1025, 2048]))
            .with(0x3000, &le64(&[1024, 1 << 20]))
            .with(0x4000, &le64(&[0, 0]));
        assert_eq!(
            line("prlimit64", [0, 3, 0, 0x1000, 0, 0], &t, 0, false),
            "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0"
        );
        assert_eq!(
            line("prlimit64", [0, 7, 0x1000, 0x4000, 0, 0], &t, -1, true),
            "prlimit64(0, RLIMIT_NOFILE, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}, 0x4000) = -1"
        );
        assert_eq!(
            line("prlimit64", [0, 99, 0, 0, 0, 0], &t, -22, true),
            "prlimit64(0, 0x63 /* RLIMIT_??? */, NULL, NULL) = -22"
        );
        assert_eq!(
            line("setrlimit", [7, 0x2000, 0, 0, 0, 0], &t, 0, false),
            "setrlimit(RLIMIT_NOFILE, {rlim_cur=1025, rlim_max=2*1024}) = 0"
        );
        assert_eq!(
            line("getrlimit", [7, 0x3000, 0, 0, 0, 0], &t, 0, false),
            "getrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=1024*1024}) = 0"
        );
        assert_eq!(
            line("getrlimit", [13, 0x4000, 0, 0, 0, 0], &t, 0, false),
            "getrlimit(RLIMIT_NICE, {rlim_cur=0, rlim_max=0}) = 0"
        );
    }

    #[test]
    fn rusage_uname_sysinfo() {
        let mut uts = vec![0u8; 390];
        uts[..5].copy_from_slice(b"Linux");
        uts[65..67].copy_from_slice(b"vm");
        let mut si = le64(&[
            570,
            67552,
            40192,
            16352,
            25_276_063_744,
            22_775_492_608,
            9_142_272,
            6_791_168,
            0,
            0,
            136,
            0,
            0,
            1,
        ]);
        si.truncate(112);
        let t = FakeTracee::default()
            .with(0x1000, &le64(&[0, 800, 0, 0]))
            .with(0x2000, &uts)
            .with(0x3000, &si);
        assert_eq!(
            line("getrusage", [0, 0x1000, 0, 0, 0, 0], &t, 0, false),
            "getrusage(RUSAGE_SELF, {ru_utime={tv_sec=0, tv_usec=800}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 0"
        );
        assert_eq!(
            line("getrusage", [5, 0x1000, 0, 0, 0, 0], &t, -22, true),
            "getrusage(0x5 /* RUSAGE_??? */, 0x1000) = -22"
        );
        assert_eq!(
            line("getrusage", [u64::MAX, 0x1000, 0, 0, 0, 0], &t, 0, false),
            "getrusage(RUSAGE_CHILDREN, {ru_utime={tv_sec=0, tv_usec=800}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 0"
        );
        assert_eq!(
            line("uname", [0x2000, 0, 0, 0, 0, 0], &t, 0, false),
            "uname({sysname=\"Linux\", nodename=\"vm\", ...}) = 0"
        );
        assert_eq!(
            line("sysinfo", [0x3000, 0, 0, 0, 0, 0], &t, 0, false),
            "sysinfo({uptime=570, loads=[67552, 40192, 16352], totalram=25276063744, freeram=22775492608, sharedram=9142272, bufferram=6791168, totalswap=0, freeswap=0, procs=136, totalhigh=0, freehigh=0, mem_unit=1}) = 0"
        );
    }

    #[test]
    fn futex_forms() {
        let ts = le64(&[0, 1000]);
        let t = FakeTracee::default().with(0x3000, &ts);
        let a = 0x7fff_1f43_6778u64;
        let b = 0x7fff_1f43_677cu64;
        let cases: &[([u64; 6], &str)] = &[
            (
                [a, 129, 1, 0, 0, 0],
                "futex(0x7fff1f436778, FUTEX_WAKE_PRIVATE, 1)",
            ),
            (
                [a, 128, 1, 0, 0, 0],
                "futex(0x7fff1f436778, FUTEX_WAIT_PRIVATE, 1, NULL)",
            ),
            (
                [a, 0, 0, 0x3000, 0, 0],
                "futex(0x7fff1f436778, FUTEX_WAIT, 0, {tv_sec=0, tv_nsec=1000})",
            ),
            (
                [a, 0x189, 0, 0x3000, 0, 0xffff_ffff],
                "futex(0x7fff1f436778, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000}, FUTEX_BITSET_MATCH_ANY)",
            ),
            (
                [a, 0x109, 14076, 0, 0, 0xffff_ffff],
                "futex(0x7fff1f436778, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 14076, NULL, FUTEX_BITSET_MATCH_ANY)",
            ),
            (
                [a, 0x89, 1, 0x3000, 0, 5],
                "futex(0x7fff1f436778, FUTEX_WAIT_BITSET_PRIVATE, 1, {tv_sec=0, tv_nsec=1000}, 0x5)",
            ),
            (
                [a, 0x8a, 1, 0, 0, 0xffff_ffff],
                "futex(0x7fff1f436778, FUTEX_WAKE_BITSET_PRIVATE, 1, FUTEX_BITSET_MATCH_ANY)",
            ),
            (
                [a, 0x83, 1, 2, b, 0],
                "futex(0x7fff1f436778, FUTEX_REQUEUE_PRIVATE, 1, 2, 0x7fff1f43677c)",
            ),
            (
                [a, 0x84, 1, 2, b, 0],
                "futex(0x7fff1f436778, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, 0x7fff1f43677c, 0)",
            ),
            (
                [a, 0x85, 1, 1, b, 0x0400_1000],
                "futex(0x7fff1f436778, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x7fff1f43677c, FUTEX_OP_SET<<28|0x1<<12|FUTEX_OP_CMP_GT<<24|0)",
            ),
            (
                [a, 0x86, 0, 0, 0, 0],
                "futex(0x7fff1f436778, FUTEX_LOCK_PI_PRIVATE, NULL)",
            ),
            ([a, 7, 0, 0, 0, 0], "futex(0x7fff1f436778, FUTEX_UNLOCK_PI)"),
            (
                [a, 8, 0, 0, 0, 0],
                "futex(0x7fff1f436778, FUTEX_TRYLOCK_PI)",
            ),
            (
                [a, 99, 0, 0, 0, 0],
                "futex(0x7fff1f436778, 0x63 /* FUTEX_??? */, 0, NULL, NULL, 0)",
            ),
            (
                [a, 0x8b, 1, 0x3000, b, 0],
                "futex(0x7fff1f436778, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 1, {tv_sec=0, tv_nsec=1000}, 0x7fff1f43677c)",
            ),
            (
                [a, 12, 1, 2, b, 0],
                "futex(0x7fff1f436778, FUTEX_CMP_REQUEUE_PI, 1, 2, 0x7fff1f43677c, 0)",
            ),
            (
                [a, 13, 0, 0x3000, 0, 0],
                "futex(0x7fff1f436778, FUTEX_LOCK_PI2, {tv_sec=0, tv_nsec=1000})",
            ),
            ([a, 2, 0, 0, 0, 0], "futex(0x7fff1f436778, FUTEX_FD, 0)"),
        ];
        for (raw, want) in cases {
            assert_eq!(line("futex", *raw, &t, 0, false), format!("{want} = 0"));
        }
    }

    #[test]
    fn prctl_forms() {
        let t = FakeTracee::default()
            .with(0x1000, b"worker\0")
            .with(0x2000, &9u32.to_le_bytes())
            .with(0x3000, b"x\0");
        let cases: &[([u64; 6], i64, &str)] = &[
            (
                [15, 0x1000, 0, 0, 0, 0],
                0,
                "prctl(PR_SET_NAME, \"worker\") = 0",
            ),
            (
                [16, 0x1000, 0, 0, 0, 0],
                0,
                "prctl(PR_GET_NAME, \"worker\") = 0",
            ),
            (
                [1, 9, 0, 0, 0, 0],
                0,
                "prctl(PR_SET_PDEATHSIG, SIGKILL) = 0",
            ),
            ([1, 0, 0, 0, 0, 0], 0, "prctl(PR_SET_PDEATHSIG, 0) = 0"),
            (
                [2, 0x2000, 0, 0, 0, 0],
                0,
                "prctl(PR_GET_PDEATHSIG, [SIGKILL]) = 0",
            ),
            (
                [4, 1, 0, 0, 0, 0],
                0,
                "prctl(PR_SET_DUMPABLE, SUID_DUMP_USER) = 0",
            ),
            (
                [3, 0, 0, 0, 0, 0],
                1,
                "prctl(PR_GET_DUMPABLE) = 1 (SUID_DUMP_USER)",
            ),
            (
                [38, 1, 0, 0, 0, 0],
                0,
                "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0",
            ),
            (
                [36, 1, 0, 0, 0, 0],
                0,
                "prctl(PR_SET_CHILD_SUBREAPER, 1) = 0",
            ),
            (
                [29, 50000, 0, 0, 0, 0],
                0,
                "prctl(PR_SET_TIMERSLACK, 50000) = 0",
            ),
            (
                [23, 21, 0, 0, 0, 0],
                1,
                "prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) = 1",
            ),
            (
                [9999, 1, 2, 3, 4, 0],
                0,
                "prctl(0x270f /* PR_??? */, 0x1, 0x2, 0x3, 0x4) = 0",
            ),
            ([8, 1, 0, 0, 0, 0], 0, "prctl(PR_SET_KEEPCAPS, 1) = 0"),
            (
                [35, 8, 0x1000, 0, 0, 0],
                0,
                "prctl(PR_SET_MM, PR_SET_MM_ARG_START, 0x1000, 0, 0) = 0",
            ),
            (
                [0x5356_4d41, 0, 0x1000, 4096, 0x3000, 0],
                0,
                "prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x1000, 4096, \"x\") = 0",
            ),
            ([21, 0, 0, 0, 0, 0], 0, "prctl(PR_GET_SECCOMP) = 0"),
        ];
        assert_lines(
            &t,
            cases
                .iter()
                .map(|&(raw, rv, want)| ("prctl", raw, rv, want)),
        );
    }

    #[test]
    fn sysv_ipc() {
        let sb: Vec<u8> = [0u16, 1, 0, 1, (-1i16) as u16, 0x1800]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut ds = vec![0u8; 112];
        ds[20..24].copy_from_slice(&0o600u32.to_le_bytes());
        ds[48..56].copy_from_slice(&4096u64.to_le_bytes());
        for off in [56, 64, 72] {
            ds[off..off + 8].copy_from_slice(&1_795_759_819u64.to_le_bytes());
        }
        ds[80..84].copy_from_slice(&16991u32.to_le_bytes());
        ds[84..88].copy_from_slice(&16991u32.to_le_bytes());
        ds[88..96].copy_from_slice(&1u64.to_le_bytes());
        let t = FakeTracee::default().with(0x1000, &sb).with(0x2000, &ds);
        let cases: &[(&str, [u64; 6], i64, &str)] = &[
            (
                "shmget",
                [0, 4096, 0o1600, 0, 0, 0],
                16,
                "shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 16",
            ),
            (
                "shmget",
                [0x4d2, 100, 0o3644, 0, 0, 0],
                17,
                "shmget(0x4d2, 100, IPC_CREAT|IPC_EXCL|0644) = 17",
            ),
            (
                "shmget",
                [0x4d2, 100, 0, 0, 0, 0],
                17,
                "shmget(0x4d2, 100, 000) = 17",
            ),
            (
                "shmat",
                [16, 0, 0, 0, 0, 0],
                0x7f52_08e2_6000,
                "shmat(16, NULL, 0) = 0x7f5208e26000",
            ),
            (
                "shmat",
                [16, 0, 0o30000, 0, 0, 0],
                0x7f52_08e2_6000,
                "shmat(16, NULL, SHM_RDONLY|SHM_RND) = 0x7f5208e26000",
            ),
            (
                "shmdt",
                [0x7f52_08e2_6000, 0, 0, 0, 0, 0],
                0,
                "shmdt(0x7f5208e26000) = 0",
            ),
            (
                "shmctl",
                [16, 0, 0, 0, 0, 0],
                0,
                "shmctl(16, IPC_RMID, NULL) = 0",
            ),
            (
                "shmctl",
                [16, 2, 0x2000, 0, 0, 0],
                0,
                "shmctl(16, IPC_STAT, {shm_perm={uid=0, gid=0, mode=0600, key=0, cuid=0, cgid=0}, shm_segsz=4096, shm_cpid=16991, shm_lpid=16991, shm_nattch=1, shm_atime=1795759819, shm_dtime=1795759819, shm_ctime=1795759819}) = 0",
            ),
            (
                "semget",
                [0, 2, 0o1600, 0, 0, 0],
                0,
                "semget(IPC_PRIVATE, 2, IPC_CREAT|0600) = 0",
            ),
            (
                "semtimedop",
                [0, 0x1000, 1, 0, 0, 0],
                0,
                "semtimedop(0, [{sem_num=0, sem_op=1, sem_flg=0}], 1, NULL) = 0",
            ),
            (
                "semtimedop",
                [0, 0x1000, 2, 0, 0, 0],
                0,
                "semtimedop(0, [{sem_num=0, sem_op=1, sem_flg=0}, {sem_num=1, sem_op=-1, sem_flg=SEM_UNDO|IPC_NOWAIT}], 2, NULL) = 0",
            ),
            (
                "semctl",
                [0, 0, 0, 0, 0, 0],
                0,
                "semctl(0, 0, IPC_RMID, NULL) = 0",
            ),
        ];
        assert_lines(&t, cases.iter().copied());
    }

    #[test]
    fn getrandom_prints_hex() {
        let bytes = [0x7d, 0xf4, 0xcc, 0xbe];
        let t = FakeTracee::default()
            .with(0x1000, &bytes)
            .with(0x2000, &[0xb2; 64]);
        assert_eq!(
            line("getrandom", [0x1000, 4, 0, 0, 0, 0], &t, 4, false),
            "getrandom(\"\\x7d\\xf4\\xcc\\xbe\", 4, 0) = 4"
        );
        let l = line("getrandom", [0x2000, 64, 4, 0, 0, 0], &t, 64, false);
        assert!(l.ends_with("\\xb2\"..., 64, GRND_INSECURE) = 64"), "{l}");
        assert_eq!(
            line("getrandom", [0x1000, 8, 3, 0, 0, 0], &t, -11, true),
            "getrandom(0x1000, 8, GRND_NONBLOCK|GRND_RANDOM) = -11"
        );
    }
}

/// Properties over every syscall number: the proc, net, time and poll decoders never panic,
/// whatever the registers and however little of the memory is readable.
#[cfg(test)]
mod prop_tests {
    use crate::syscalls::decode::util::fake::{arb_case, case_tracee, decode_nr};
    use crate::syscalls::{DecodeOpts, table};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// One random syscall number a case, with more cases and an independent error flag.
        #[test]
        fn decoders_never_panic(
            (regions, raw) in arb_case(),
            nr in 0u64..470,
            rval in prop_oneof![any::<i64>(), -4095i64..4096, 0i64..64],
            err in any::<bool>(),
            y in any::<bool>(),
            s in 0usize..64,
        ) {
            let t = case_tracee(&regions);
            let o = DecodeOpts { string_limit: s, decode_fds: y, max_array: s };
            decode_nr(&t, &o, nr, &raw, rval, err);
        }
    }

    /// Every syscall these groups decode exists in the table under the same name, so
    /// dispatch reaches the decoder.
    #[test]
    fn names_are_in_the_table() {
        let names = super::OWN.iter().copied().chain([
            "gettimeofday",
            "settimeofday",
            "clock_gettime",
            "clock_getres",
            "clock_settime",
            "nanosleep",
            "clock_nanosleep",
            "setitimer",
            "getitimer",
            "alarm",
            "epoll_create",
            "epoll_create1",
            "epoll_ctl",
            "epoll_wait",
            "epoll_pwait",
            "epoll_pwait2",
            "poll",
            "ppoll",
            "select",
            "pselect6",
            "socket",
            "socketpair",
            "connect",
            "bind",
            "listen",
            "shutdown",
            "accept",
            "accept4",
            "getsockname",
            "getpeername",
            "sendto",
            "recvfrom",
            "sendmsg",
            "recvmsg",
            "setsockopt",
            "getsockopt",
        ]);
        for n in names {
            assert!(
                table::by_name(n).is_some(),
                "{n} is not in the syscall table"
            );
        }
    }
}
