//! Scheduling, namespaces, NUMA policy and pidfds: sched_{set,get}{scheduler,param},
//! sched_get_priority_{max,min}, getcpu, unshare, setns, {get,set}_mempolicy, mbind,
//! migrate_pages, move_pages, set_mempolicy_home_node, pidfd_open, pidfd_getfd,
//! pidfd_send_signal.

use super::*;
use crate::syscalls::decode::fs_util::{flags_x, sym_x};
use crate::syscalls::decode::util::{
    default_ret, fd, fd_ret, hex0, int_ref, le_i32, le_u64, read_bytes, read_vec, styled,
};

const POLICIES: &[(u64, &str)] = &[
    (0, "SCHED_OTHER"),
    (1, "SCHED_FIFO"),
    (2, "SCHED_RR"),
    (3, "SCHED_BATCH"),
    (4, "SCHED_ISO"),
    (5, "SCHED_IDLE"),
    (6, "SCHED_DEADLINE"),
];

fn policy(v: u64) -> Value {
    sym_x(u64::from(v as u32), POLICIES, "SCHED_???")
}

const SCHED_ATTR_FLAGS: &[(u64, &str)] = &[
    (0x01, "SCHED_FLAG_RESET_ON_FORK"),
    (0x02, "SCHED_FLAG_RECLAIM"),
    (0x04, "SCHED_FLAG_DL_OVERRUN"),
    (0x08, "SCHED_FLAG_KEEP_POLICY"),
    (0x10, "SCHED_FLAG_KEEP_PARAMS"),
    (0x20, "SCHED_FLAG_UTIL_CLAMP_MIN"),
    (0x40, "SCHED_FLAG_UTIL_CLAMP_MAX"),
];

/// `struct sched_attr`: the fields its `size` covers (48 bytes before the utilisation
/// clamps of Linux 5.3, 56 with them).
fn sched_attr(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let Some(b) = read_vec(c, addr, 56).filter(|b| b.len() >= 48) else {
        return Value::Ptr(addr);
    };
    let u32_at = |off: usize| u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]]);
    let size = u32_at(0);
    let mut f = vec![
        ("size", Value::UInt(size.into())),
        (
            "sched_policy",
            styled(c, policy(u32_at(4).into()), hex0(u32_at(4).into())),
        ),
        (
            "sched_flags",
            styled(
                c,
                flags_x(le_u64(&b, 8), SCHED_ATTR_FLAGS, None, "SCHED_FLAG_???"),
                hex0(le_u64(&b, 8)),
            ),
        ),
        ("sched_nice", Value::Int((u32_at(16) as i32).into())),
        ("sched_priority", Value::UInt(u32_at(20).into())),
        ("sched_runtime", Value::UInt(le_u64(&b, 24))),
        ("sched_deadline", Value::UInt(le_u64(&b, 32))),
        ("sched_period", Value::UInt(le_u64(&b, 40))),
    ];
    if size >= 56 && b.len() >= 56 {
        f.push(("sched_util_min", Value::UInt(u32_at(48).into())));
        f.push(("sched_util_max", Value::UInt(u32_at(52).into())));
    }
    Value::structure(f)
}

/// `unsigned *`: `[1]`.
fn uint_ref(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<4>(c, addr) {
        Some(b) => Value::Array(vec![Value::UInt(u32::from_le_bytes(b).into())]),
        None => Value::Ptr(addr),
    }
}

/// The namespace flags unshare takes, in bit order.
const UNSHARE_FLAGS: &[(u64, &str)] = &[
    (0x0000_0100, "CLONE_VM"),
    (0x0000_0200, "CLONE_FS"),
    (0x0000_0400, "CLONE_FILES"),
    (0x0000_0800, "CLONE_SIGHAND"),
    (0x0001_0000, "CLONE_THREAD"),
    (0x0002_0000, "CLONE_NEWNS"),
    (0x0004_0000, "CLONE_SYSVSEM"),
    (0x0200_0000, "CLONE_NEWCGROUP"),
    (0x0400_0000, "CLONE_NEWUTS"),
    (0x0800_0000, "CLONE_NEWIPC"),
    (0x1000_0000, "CLONE_NEWUSER"),
    (0x2000_0000, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
    (0x0000_0080, "CLONE_NEWTIME"),
];

/// The namespace types setns takes.
const NS_TYPES: &[(u64, &str)] = &[
    (0x0000_0080, "CLONE_NEWTIME"),
    (0x0002_0000, "CLONE_NEWNS"),
    (0x0200_0000, "CLONE_NEWCGROUP"),
    (0x0400_0000, "CLONE_NEWUTS"),
    (0x0800_0000, "CLONE_NEWIPC"),
    (0x1000_0000, "CLONE_NEWUSER"),
    (0x2000_0000, "CLONE_NEWPID"),
    (0x4000_0000, "CLONE_NEWNET"),
];

const MPOL_MODES: &[(u64, &str)] = &[
    (0, "MPOL_DEFAULT"),
    (1, "MPOL_PREFERRED"),
    (2, "MPOL_BIND"),
    (3, "MPOL_INTERLEAVE"),
    (4, "MPOL_LOCAL"),
    (5, "MPOL_PREFERRED_MANY"),
];

const MPOL_MODE_FLAGS: &[(u64, &str)] = &[
    (0x8000, "MPOL_F_STATIC_NODES"),
    (0x4000, "MPOL_F_RELATIVE_NODES"),
    (0x2000, "MPOL_F_NUMA_BALANCING"),
];

/// A memory policy mode with its flags: `MPOL_BIND|MPOL_F_STATIC_NODES`; an unknown mode
/// after the flags (`MPOL_F_NUMA_BALANCING|0x6`), or alone as `0x99 /* MPOL_??? */`.
fn mpol_mode(v: u64) -> Value {
    let v = u64::from(v as u32);
    let mode = v & !0xe000;
    match MPOL_MODES.iter().find(|&&(x, _)| x == mode) {
        Some(&(_, n)) => {
            let mut names = vec![std::borrow::Cow::Borrowed(n)];
            if let Value::Flags(rest) = flags_x(v & 0xe000, MPOL_MODE_FLAGS, None, "MPOL_???") {
                names.extend(rest);
            }
            Value::Flags(names)
        }
        None => flags_x(v, MPOL_MODE_FLAGS, None, "MPOL_???"),
    }
}

/// A node mask of `maxnode - 1` bits, as words: `[0x00000000000001, 0000000000000000]`; `[]` for no
/// maxnode, the address when there are no bits or it cannot be read.
fn nodemask(c: &Ctx, addr: u64, maxnode: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    if maxnode == 0 {
        return Value::Array(Vec::new());
    }
    let words = maxnode.saturating_sub(1).div_ceil(64) as usize;
    if words == 0 {
        return Value::Ptr(addr);
    }
    let shown = words.min(c.o.max_array);
    let b = match read_vec(c, addr, shown * 8) {
        Some(b) if b.len() == shown * 8 => b,
        _ => return Value::Ptr(addr),
    };
    let mut out: Vec<Value> = (0..shown)
        .map(|i| match le_u64(&b, 8 * i) {
            // C's `%#016lx`: no `0x` for zero.
            0 => Value::Raw("0".repeat(16)),
            w => Value::Raw(format!("{w:#016x}")),
        })
        .collect();
    if words > shown {
        out.push(Value::Elided);
    }
    Value::Array(out)
}

const MPOL_MF: &[(u64, &str)] = &[
    (1, "MPOL_MF_STRICT"),
    (2, "MPOL_MF_MOVE"),
    (4, "MPOL_MF_MOVE_ALL"),
];

/// move_pages' arrays of `count` elements: the pages (pointers) or the nodes and statuses
/// (`int`s, a status as `-ENOENT`); NULL, or the address when unreadable.
fn page_array(c: &Ctx, addr: u64, count: u64, what: PageArray) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let size = if what == PageArray::Pages { 8 } else { 4 };
    let shown = (count as usize).min(c.o.max_array);
    let Some(b) = read_vec(c, addr, shown * size).filter(|b| b.len() == shown * size) else {
        return Value::Ptr(addr);
    };
    let mut v: Vec<Value> = (0..shown)
        .map(|i| match what {
            PageArray::Pages => Value::Ptr(le_u64(&b, 8 * i)),
            PageArray::Nodes => Value::Int(i64::from(le_i32(&b, 4 * i))),
            PageArray::Status => {
                let st = le_i32(&b, 4 * i);
                match crate::syscalls::errno::name(-i64::from(st)) {
                    Some(n) if st < 0 => Value::Raw(format!("-{n}")),
                    _ => Value::Int(st.into()),
                }
            }
        })
        .collect();
    if count as usize > shown {
        v.push(Value::Elided);
    }
    Value::Array(v)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PageArray {
    Pages,
    Nodes,
    Status,
}

/// pidfd_getfd's target descriptor: under `-y`, with its path in the process the pidfd
/// refers to (`0<pipe:[123]>`), as strace prints it.
fn target_fd(c: &Ctx, pidfd: u64, fd: u64) -> Value {
    let fd = fd as i32;
    let path = (c.o.decode_fds || c.o.fd_pidfds)
        .then(|| c.t.fd_detail(pidfd as i32, "anon_inode:[pidfd]"))
        .flatten()
        .and_then(|d| d.strip_prefix("pid:")?.parse::<i32>().ok())
        .filter(|&p| p > 0)
        .and_then(|p| c.t.fd_path_of(p, fd));
    Value::Fd { fd, path }
}

pub(crate) fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    Some(match name {
        "sched_setscheduler" => vec![s(pid_arg(c, a[0])), s(policy(a[1])), s(int_ref(c, a[2]))],
        "sched_getscheduler" => vec![s(pid_arg(c, a[0]))],
        "sched_setparam" => vec![s(pid_arg(c, a[0])), s(int_ref(c, a[1]))],
        "sched_getparam" => vec![s(pid_arg(c, a[0])), None],
        "sched_get_priority_max" | "sched_get_priority_min" => vec![s(policy(a[0]))],
        "sched_setattr" => vec![
            s(pid_arg(c, a[0])),
            s(sched_attr(c, a[1])),
            s(Value::UInt(a[2] & 0xffff_ffff)),
        ],
        "sched_getattr" => vec![
            s(pid_arg(c, a[0])),
            None,
            s(Value::UInt(a[2] & 0xffff_ffff)),
            s(Value::UInt(a[3] & 0xffff_ffff)),
        ],
        "getcpu" => vec![None, None, s(Value::Ptr(a[2]))],
        "unshare" => vec![s(flags_x(a[0], UNSHARE_FLAGS, None, "CLONE_???"))],
        "setns" => vec![
            s(fd(c, a[0])),
            s(flags_x(
                u64::from(a[1] as u32),
                NS_TYPES,
                None,
                "CLONE_NEW???",
            )),
        ],
        "set_mempolicy" => vec![
            s(mpol_mode(a[0])),
            s(nodemask(c, a[1], a[2])),
            s(Value::UInt(a[2])),
        ],
        "get_mempolicy" => vec![
            None,
            None,
            s(Value::UInt(a[2])),
            s(Value::Ptr(a[3])),
            s(flags_x(
                a[4],
                &[
                    (1, "MPOL_F_NODE"),
                    (2, "MPOL_F_ADDR"),
                    (4, "MPOL_F_MEMS_ALLOWED"),
                ],
                None,
                "MPOL_F_???",
            )),
        ],
        "migrate_pages" => vec![
            s(pid_arg(c, a[0])),
            s(Value::UInt(a[1])),
            s(nodemask(c, a[2], a[1])),
            s(nodemask(c, a[3], a[1])),
        ],
        "move_pages" => vec![
            s(pid_arg(c, a[0])),
            s(Value::UInt(a[1])),
            s(page_array(c, a[2], a[1], PageArray::Pages)),
            s(page_array(c, a[3], a[1], PageArray::Nodes)),
            None,
            s(flags_x(
                u64::from(a[5] as u32),
                MPOL_MF,
                None,
                "MPOL_MF_???",
            )),
        ],
        "set_mempolicy_home_node" => vec![
            s(hex0(a[0])),
            s(Value::UInt(a[1])),
            s(Value::UInt(a[2])),
            s(hex0(a[3])),
        ],
        "mbind" => vec![
            s(hex0(a[0])),
            s(Value::UInt(a[1])),
            s(mpol_mode(a[2])),
            s(nodemask(c, a[3], a[4])),
            s(Value::UInt(a[4])),
            s(flags_x(
                u64::from(a[5] as u32),
                &[
                    (1, "MPOL_MF_STRICT"),
                    (2, "MPOL_MF_MOVE"),
                    (4, "MPOL_MF_MOVE_ALL"),
                ],
                None,
                "MPOL_MF_???",
            )),
        ],
        "pidfd_open" => vec![
            s(pid_arg(c, a[0])),
            s(flags_x(
                u64::from(a[1] as u32),
                &[(0o4000, "PIDFD_NONBLOCK")],
                None,
                "PIDFD_???",
            )),
        ],
        "pidfd_getfd" => vec![
            s(fd(c, a[0])),
            s(target_fd(c, a[0], a[1])),
            s(hex0(u64::from(a[2] as u32))),
        ],
        "pidfd_send_signal" => vec![
            s(fd(c, a[0])),
            s(sig_arg(a[1])),
            s(Value::Ptr(a[2])),
            s(hex0(u64::from(a[3] as u32))),
        ],
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
        "sched_getscheduler" if ok => match POLICIES.iter().find(|&&(x, _)| x as i64 == rval) {
            Some(&(_, n)) => Ret::Annotated {
                value: Box::new(Ret::Int(rval)),
                note: n.to_string(),
            },
            None => Ret::Int(rval),
        },
        "move_pages" => {
            set(
                4,
                output(ok, a[4], &|| page_array(c, a[4], a[1], PageArray::Status)),
            );
            default_ret(rval, is_error)
        }
        "migrate_pages" | "set_mempolicy_home_node" => default_ret(rval, is_error),
        "sched_getattr" => {
            set(1, output(ok, a[1], &|| sched_attr(c, a[1])));
            default_ret(rval, is_error)
        }
        "sched_setattr" => default_ret(rval, is_error),
        "sched_getparam" => {
            set(1, output(ok, a[1], &|| int_ref(c, a[1])));
            default_ret(rval, is_error)
        }
        "getcpu" => {
            set(0, output(ok, a[0], &|| uint_ref(c, a[0])));
            set(1, output(ok, a[1], &|| uint_ref(c, a[1])));
            default_ret(rval, is_error)
        }
        "get_mempolicy" => {
            set(
                0,
                output(ok, a[0], &|| match read_bytes::<4>(c, a[0]) {
                    Some(b) => {
                        let m = u64::from(u32::from_le_bytes(b));
                        Value::Array(vec![crate::syscalls::decode::util::styled(
                            c,
                            mpol_mode(m),
                            hex0(m),
                        )])
                    }
                    None => Value::Ptr(a[0]),
                }),
            );
            set(1, output(ok, a[1], &|| nodemask(c, a[1], a[2])));
            default_ret(rval, is_error)
        }
        "pidfd_open" | "pidfd_getfd" => fd_ret(c, rval, is_error),
        "sched_setscheduler"
        | "sched_getscheduler"
        | "sched_setparam"
        | "sched_get_priority_max"
        | "sched_get_priority_min"
        | "unshare"
        | "setns"
        | "set_mempolicy"
        | "mbind"
        | "pidfd_send_signal" => default_ret(rval, is_error),
        _ => return None,
    })
}
