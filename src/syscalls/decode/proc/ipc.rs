//! System V IPC (shared memory segments, semaphores, message queues) and POSIX message
//! queues.

use super::*;
use crate::syscalls::decode::util::{
    default_ret, flags, hex0, le_i32, le_i64, le_u32, le_u64, read_bytes, read_vec, string,
    timespec, xlat,
};
use std::borrow::Cow;

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

/// The `struct ipc_perm` that begins every System V `*id_ds`.
fn ipc_perm(b: &[u8]) -> Value {
    Value::structure(vec![
        ("uid", Value::UInt(u64::from(le_u32(b, 4)))),
        ("gid", Value::UInt(u64::from(le_u32(b, 8)))),
        ("mode", Value::Oct(u64::from(le_u32(b, 20) & 0o777))),
        ("key", hex0(u64::from(le_u32(b, 0)))),
        ("cuid", Value::UInt(u64::from(le_u32(b, 12)))),
        ("cgid", Value::UInt(u64::from(le_u32(b, 16)))),
    ])
}

fn shmid_ds(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<112>(c, addr) else {
        return Value::Ptr(addr);
    };
    let perm = ipc_perm(&b);
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

/// msgsnd/msgrcv flags in strace's order.
const MSG_FLAGS: &[(u64, &str)] = &[
    (0o10000, "MSG_NOERROR"),
    (0o20000, "MSG_EXCEPT"),
    (0o40000, "MSG_COPY"),
    (0o4000, "IPC_NOWAIT"),
];

/// A message (`struct msgbuf`): `{mtype=7, mtext="hello"}`, `len` bytes of text.
fn msgbuf(c: &Ctx, addr: u64, len: u64) -> Value {
    let Some(t) = read_bytes::<8>(c, addr) else {
        return Value::Ptr(addr);
    };
    Value::structure(vec![
        ("mtype", Value::Int(le_i64(&t, 0))),
        (
            "mtext",
            crate::syscalls::decode::util::buffer(c, addr.wrapping_add(8), len),
        ),
    ])
}

fn msqid_ds(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<120>(c, addr) else {
        return Value::Ptr(addr);
    };
    let perm = ipc_perm(&b);
    Value::structure(vec![
        ("msg_perm", perm),
        ("msg_stime", Value::Int(le_i64(&b, 48))),
        ("msg_rtime", Value::Int(le_i64(&b, 56))),
        ("msg_ctime", Value::Int(le_i64(&b, 64))),
        ("msg_qnum", Value::UInt(le_u64(&b, 80))),
        ("msg_qbytes", Value::UInt(le_u64(&b, 88))),
        ("msg_lspid", Value::Int(le_i32(&b, 96).into())),
        ("msg_lrpid", Value::Int(le_i32(&b, 100).into())),
    ])
}

const MSGCTL_CMDS: &[(u64, &str)] = &[
    (0, "IPC_RMID"),
    (1, "IPC_SET"),
    (2, "IPC_STAT"),
    (3, "IPC_INFO"),
    (11, "MSG_STAT"),
    (12, "MSG_INFO"),
    (13, "MSG_STAT_ANY"),
];

/// `struct mq_attr`: `{mq_flags=0, mq_maxmsg=4, mq_msgsize=64, mq_curmsgs=0}`.
fn mq_attr(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let Some(b) = read_bytes::<32>(c, addr) else {
        return Value::Ptr(addr);
    };
    Value::structure(vec![
        ("mq_flags", flags(le_u64(&b, 0), &[(0o4000, "O_NONBLOCK")])),
        ("mq_maxmsg", Value::Int(le_i64(&b, 8))),
        ("mq_msgsize", Value::Int(le_i64(&b, 16))),
        ("mq_curmsgs", Value::Int(le_i64(&b, 24))),
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

pub(crate) fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let int = |v: u64| Value::Int((v as i32).into());
    let v = match name {
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
        "msgget" => vec![s(ipc_key(a[0])), s(ipc_get_flags(a[1], &[]))],
        "msgsnd" => vec![
            s(int(a[0])),
            s(msgbuf(c, a[1], a[2])),
            s(Value::UInt(a[2])),
            s(flags(a[3] & 0xffff_ffff, MSG_FLAGS)),
        ],
        "msgrcv" => vec![
            s(int(a[0])),
            None,
            s(Value::UInt(a[2])),
            s(Value::Int(a[3] as i64)),
            s(flags(a[4] & 0xffff_ffff, MSG_FLAGS)),
        ],
        "msgctl" => {
            let cmd = xlat(a[1] & 0xff, MSGCTL_CMDS, "MSG_???");
            match a[1] & 0xff {
                2 | 11 | 13 => vec![s(int(a[0])), s(cmd), None],
                1 => vec![s(int(a[0])), s(cmd), s(msqid_ds(c, a[2]))],
                _ => vec![s(int(a[0])), s(cmd), s(Value::Ptr(a[2]))],
            }
        }
        // The name as the kernel takes it (glibc strips the leading `/`); mode and
        // attributes only with O_CREAT.
        "mq_open" => {
            let fl = crate::syscalls::decode::fs_tables::open_flags(a[1] & 0xffff_ffff);
            let mut v = vec![s(string(c, a[0])), s(fl)];
            if a[1] & 0o100 != 0 {
                v.push(s(Value::Oct(a[2] & 0o7777)));
                v.push(s(mq_attr(c, a[3])));
            }
            v
        }
        "mq_unlink" => vec![s(string(c, a[0]))],
        "mq_timedsend" => vec![
            s(int(a[0])),
            s(crate::syscalls::decode::util::buffer(c, a[1], a[2])),
            s(Value::UInt(a[2])),
            s(Value::UInt(a[3] & 0xffff_ffff)),
            s(timespec(c, a[4])),
        ],
        "mq_timedreceive" => vec![
            s(int(a[0])),
            None,
            s(Value::UInt(a[2])),
            None,
            s(timespec(c, a[4])),
        ],
        "mq_notify" => vec![
            s(int(a[0])),
            s(if a[1] == 0 {
                Value::Ptr(0)
            } else {
                crate::syscalls::decode::time::sigevent(c, a[1])
            }),
        ],
        "mq_getsetattr" => vec![s(int(a[0])), s(mq_attr(c, a[1])), None],
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
        "msgrcv" => {
            // The text as long as the buffer (msgsz), as strace prints it.
            set(1, out(a[1], &|| msgbuf(c, a[1], a[2])));
            default_ret(rval, is_error)
        }
        "msgctl" => {
            if matches!(a[1] & 0xff, 2 | 11 | 13) {
                set(2, out(a[2], &|| msqid_ds(c, a[2])));
            }
            default_ret(rval, is_error)
        }
        "mq_open" => crate::syscalls::decode::util::fd_ret(c, rval, is_error),
        "mq_timedreceive" => {
            let got = rval.max(0) as u64;
            set(
                1,
                out(a[1], &|| {
                    crate::syscalls::decode::util::buffer(c, a[1], got)
                }),
            );
            set(
                3,
                out(a[3], &|| match read_bytes::<4>(c, a[3]) {
                    Some(b) => Value::Array(vec![Value::UInt(le_u32(&b, 0).into())]),
                    None => Value::Ptr(a[3]),
                }),
            );
            default_ret(rval, is_error)
        }
        "mq_getsetattr" => {
            set(2, out(a[2], &|| mq_attr(c, a[2])));
            default_ret(rval, is_error)
        }
        "msgget" | "msgsnd" | "mq_unlink" | "mq_timedsend" | "mq_notify" => {
            default_ret(rval, is_error)
        }
        // umask returns the old mask, printed in octal (`= 022`); Ret has no octal form.
        _ => return None,
    };
    Some(ret)
}
