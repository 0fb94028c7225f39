//! Kernel facilities asked for by number: membarrier, seccomp's queries, landlock,
//! fanotify, the key calls (add_key, request_key, keyctl), Linux AIO (io_setup, io_submit,
//! io_getevents, io_pgetevents, io_cancel, io_destroy), io_uring (setup, enter, register) and
//! perf_event_open (its attribute structure in `perf`), as strace 6.1
//! prints them (a seccomp filter's program in `seccomp_filter`). Not decoded here: keyctl
//! commands past the common ones (their arguments in hex).

use super::Ctx;
use super::fs_util::{dirfd_y, flags_x};
use super::util::{
    buffer, default_ret, fd, fd_ret, hex0, le_i64, le_u32, le_u64, path, read_bytes, read_vec,
    string, timespec, xlat,
};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

fn int(v: u64) -> Value {
    Value::Int((v as i32).into())
}

fn low(v: u64) -> u64 {
    v & 0xffff_ffff
}

const MEMBARRIER_CMDS: &[(u64, &str)] = &[
    (1, "MEMBARRIER_CMD_GLOBAL"),
    (2, "MEMBARRIER_CMD_GLOBAL_EXPEDITED"),
    (4, "MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED"),
    (8, "MEMBARRIER_CMD_PRIVATE_EXPEDITED"),
    (16, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED"),
    (32, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE"),
    (64, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"),
    (128, "MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ"),
    (256, "MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ"),
];

use super::seccomp_filter::ACTIONS as SECCOMP_ACTIONS;

const LANDLOCK_FS: &[(u64, &str)] = &[
    (0x1, "LANDLOCK_ACCESS_FS_EXECUTE"),
    (0x2, "LANDLOCK_ACCESS_FS_WRITE_FILE"),
    (0x4, "LANDLOCK_ACCESS_FS_READ_FILE"),
    (0x8, "LANDLOCK_ACCESS_FS_READ_DIR"),
    (0x10, "LANDLOCK_ACCESS_FS_REMOVE_DIR"),
    (0x20, "LANDLOCK_ACCESS_FS_REMOVE_FILE"),
    (0x40, "LANDLOCK_ACCESS_FS_MAKE_CHAR"),
    (0x80, "LANDLOCK_ACCESS_FS_MAKE_DIR"),
    (0x100, "LANDLOCK_ACCESS_FS_MAKE_REG"),
    (0x200, "LANDLOCK_ACCESS_FS_MAKE_SOCK"),
    (0x400, "LANDLOCK_ACCESS_FS_MAKE_FIFO"),
    (0x800, "LANDLOCK_ACCESS_FS_MAKE_BLOCK"),
    (0x1000, "LANDLOCK_ACCESS_FS_MAKE_SYM"),
    (0x2000, "LANDLOCK_ACCESS_FS_REFER"),
];

const FAN_INIT_FLAGS: &[(u64, &str)] = &[
    (0x1, "FAN_CLOEXEC"),
    (0x2, "FAN_NONBLOCK"),
    (0x10, "FAN_UNLIMITED_QUEUE"),
    (0x20, "FAN_UNLIMITED_MARKS"),
    (0x40, "FAN_ENABLE_AUDIT"),
    (0x80, "FAN_REPORT_PIDFD"),
    (0x100, "FAN_REPORT_TID"),
    (0x200, "FAN_REPORT_FID"),
    (0x400, "FAN_REPORT_DIR_FID"),
    (0x800, "FAN_REPORT_NAME"),
    (0x1000, "FAN_REPORT_TARGET_FID"),
];

const FAN_MARK_FLAGS: &[(u64, &str)] = &[
    (0x1, "FAN_MARK_ADD"),
    (0x2, "FAN_MARK_REMOVE"),
    (0x4, "FAN_MARK_DONT_FOLLOW"),
    (0x8, "FAN_MARK_ONLYDIR"),
    (0x10, "FAN_MARK_MOUNT"),
    (0x20, "FAN_MARK_IGNORED_MASK"),
    (0x40, "FAN_MARK_IGNORED_SURV_MODIFY"),
    (0x80, "FAN_MARK_FLUSH"),
    (0x100, "FAN_MARK_FILESYSTEM"),
    (0x200, "FAN_MARK_EVICTABLE"),
];

const FAN_EVENTS: &[(u64, &str)] = &[
    (0x1, "FAN_ACCESS"),
    (0x2, "FAN_MODIFY"),
    (0x4, "FAN_ATTRIB"),
    (0x8, "FAN_CLOSE_WRITE"),
    (0x10, "FAN_CLOSE_NOWRITE"),
    (0x20, "FAN_OPEN"),
    (0x40, "FAN_MOVED_FROM"),
    (0x80, "FAN_MOVED_TO"),
    (0x100, "FAN_CREATE"),
    (0x200, "FAN_DELETE"),
    (0x400, "FAN_DELETE_SELF"),
    (0x800, "FAN_MOVE_SELF"),
    (0x1000, "FAN_OPEN_EXEC"),
    (0x4000, "FAN_Q_OVERFLOW"),
    (0x8000, "FAN_FS_ERROR"),
    (0x1_0000, "FAN_OPEN_PERM"),
    (0x2_0000, "FAN_ACCESS_PERM"),
    (0x4_0000, "FAN_OPEN_EXEC_PERM"),
    (0x0800_0000, "FAN_EVENT_ON_CHILD"),
    (0x1000_0000, "FAN_RENAME"),
    (0x4000_0000, "FAN_ONDIR"),
];

/// A key serial: the special keyrings by name, else the number.
fn key_serial(v: u64) -> Value {
    let n = v as i32;
    let name = match n {
        -1 => "KEY_SPEC_THREAD_KEYRING",
        -2 => "KEY_SPEC_PROCESS_KEYRING",
        -3 => "KEY_SPEC_SESSION_KEYRING",
        -4 => "KEY_SPEC_USER_KEYRING",
        -5 => "KEY_SPEC_USER_SESSION_KEYRING",
        -6 => "KEY_SPEC_GROUP_KEYRING",
        -7 => "KEY_SPEC_REQKEY_AUTH_KEY",
        -8 => "KEY_SPEC_REQUESTOR_KEYRING",
        _ => return Value::Int(n.into()),
    };
    Value::sym(name)
}

const KEYCTL_CMDS: &[(u64, &str)] = &[
    (0, "KEYCTL_GET_KEYRING_ID"),
    (1, "KEYCTL_JOIN_SESSION_KEYRING"),
    (2, "KEYCTL_UPDATE"),
    (3, "KEYCTL_REVOKE"),
    (4, "KEYCTL_CHOWN"),
    (5, "KEYCTL_SETPERM"),
    (6, "KEYCTL_DESCRIBE"),
    (7, "KEYCTL_CLEAR"),
    (8, "KEYCTL_LINK"),
    (9, "KEYCTL_UNLINK"),
    (10, "KEYCTL_SEARCH"),
    (11, "KEYCTL_READ"),
    (12, "KEYCTL_INSTANTIATE"),
    (13, "KEYCTL_NEGATE"),
    (14, "KEYCTL_SET_REQKEY_KEYRING"),
    (15, "KEYCTL_SET_TIMEOUT"),
    (16, "KEYCTL_ASSUME_AUTHORITY"),
    (17, "KEYCTL_GET_SECURITY"),
    (18, "KEYCTL_SESSION_TO_PARENT"),
    (19, "KEYCTL_REJECT"),
    (20, "KEYCTL_INSTANTIATE_IOV"),
    (21, "KEYCTL_INVALIDATE"),
    (22, "KEYCTL_GET_PERSISTENT"),
    (23, "KEYCTL_DH_COMPUTE"),
    (24, "KEYCTL_PKEY_QUERY"),
    (25, "KEYCTL_PKEY_ENCRYPT"),
    (26, "KEYCTL_PKEY_DECRYPT"),
    (27, "KEYCTL_PKEY_SIGN"),
    (28, "KEYCTL_PKEY_VERIFY"),
    (29, "KEYCTL_RESTRICT_KEYRING"),
    (30, "KEYCTL_MOVE"),
    (31, "KEYCTL_CAPABILITIES"),
    (32, "KEYCTL_WATCH_KEY"),
];

/// keyctl's arguments after the command, for the commands decoded; `None` slots are filled
/// at exit (a buffer the key's payload or description is read into).
fn keyctl_args(c: &Ctx) -> Slots {
    let a = c.raw;
    let s = Some;
    let cmd = xlat(low(a[0]), KEYCTL_CMDS, "KEYCTL_???");
    let mut v = vec![s(cmd)];
    match low(a[0]) {
        0 => v.extend([s(key_serial(a[1])), s(int(a[2]))]),
        1 => v.push(s(string(c, a[1]))),
        2 => v.extend([
            s(key_serial(a[1])),
            s(buffer(c, a[2], a[3])),
            s(Value::UInt(a[3])),
        ]),
        3 | 7 | 16 | 21 => v.push(s(key_serial(a[1]))),
        6 | 11 | 17 => v.extend([s(key_serial(a[1])), None, s(Value::UInt(a[3]))]),
        8 | 9 => v.extend([s(key_serial(a[1])), s(key_serial(a[2]))]),
        15 => v.extend([s(key_serial(a[1])), s(Value::UInt(low(a[2])))]),
        _ => v.extend(a[1..5].iter().map(|&x| s(hex0(x)))),
    }
    v
}

const IOCB_CMDS: &[(u64, &str)] = &[
    (0, "IOCB_CMD_PREAD"),
    (1, "IOCB_CMD_PWRITE"),
    (2, "IOCB_CMD_FSYNC"),
    (3, "IOCB_CMD_FDSYNC"),
    (5, "IOCB_CMD_POLL"),
    (6, "IOCB_CMD_NOOP"),
    (7, "IOCB_CMD_PREADV"),
    (8, "IOCB_CMD_PWRITEV"),
];

/// A `struct iocb`: its header (data, key, opcode, priority, descriptor), then with `whole`
/// what the command reads or writes.
fn iocb(c: &Ctx, addr: u64, whole: bool) -> Value {
    let Some(b) = read_bytes::<64>(c, addr) else {
        return Value::Ptr(addr);
    };
    let data = le_u64(&b, 0);
    let key = le_u32(&b, 8);
    let op = u64::from(u16::from_le_bytes([b[16], b[17]]));
    let prio = i16::from_le_bytes([b[18], b[19]]);
    let fildes = le_u32(&b, 20);
    let buf = le_u64(&b, 24);
    let nbytes = le_u64(&b, 32);
    let offset = le_i64(&b, 40);
    let flags = le_u32(&b, 56);
    let resfd = le_u32(&b, 60);
    let mut f: Vec<(&'static str, Value)> = Vec::new();
    f.push(("aio_data", hex0(data)));
    if key != 0 {
        f.push(("aio_key", Value::UInt(key.into())));
    }
    f.push(("aio_lio_opcode", xlat(op, IOCB_CMDS, "IOCB_CMD_???")));
    if prio != 0 {
        f.push(("aio_reqprio", Value::Int(prio.into())));
    }
    f.push(("aio_fildes", fd(c, fildes.into())));
    if whole {
        match op {
            0 | 1 => {
                let v = if op == 1 {
                    buffer(c, buf, nbytes)
                } else {
                    Value::Ptr(buf)
                };
                f.push(("aio_buf", v));
                f.push(("aio_nbytes", Value::UInt(nbytes)));
                f.push(("aio_offset", Value::Int(offset)));
            }
            // PREADV, PWRITEV: the iovec array (`aio_nbytes` its length), the buffers'
            // data for a write, their addresses for a read.
            7 | 8 => {
                let data = if op == 8 {
                    super::fs::Iov::Written
                } else {
                    super::fs::Iov::Failed
                };
                f.push(("aio_buf", super::fs::iovecs(c, buf, nbytes, data)));
                f.push(("aio_offset", Value::Int(offset)));
            }
            _ => {}
        }
        if flags & 1 != 0 {
            f.push(("aio_resfd", fd(c, resfd.into())));
        }
        if flags & !1 != 0 {
            f.push(("aio_flags", Value::Hex((flags & !1).into())));
        }
    }
    Value::structure(f)
}

/// io_submit's array of iocb pointers.
fn iocbs(c: &Ctx, addr: u64, n: u64) -> Value {
    let shown = (n as usize).min(c.o.max_array);
    let Some(b) = read_vec(c, addr, shown * 8) else {
        return Value::Ptr(addr);
    };
    if b.len() < shown * 8 {
        return Value::Ptr(addr);
    }
    let mut items: Vec<Value> = b
        .chunks_exact(8)
        .map(|p| iocb(c, le_u64(p, 0), true))
        .collect();
    if (n as usize) > shown {
        items.push(Value::Elided);
    }
    Value::Array(items)
}

/// A `struct io_event`.
fn io_event(b: &[u8]) -> Value {
    Value::structure(vec![
        ("data", Value::Hex(le_u64(b, 0))),
        ("obj", Value::Ptr(le_u64(b, 8))),
        ("res", Value::Int(le_i64(b, 16))),
        ("res2", Value::Int(le_i64(b, 24))),
    ])
}

fn io_events(c: &Ctx, addr: u64, n: u64) -> Value {
    let shown = (n as usize).min(c.o.max_array);
    if shown == 0 {
        return Value::Array(Vec::new());
    }
    let Some(b) = read_vec(c, addr, shown * 32) else {
        return Value::Ptr(addr);
    };
    if b.len() < shown * 32 {
        return Value::Ptr(addr);
    }
    let mut items: Vec<Value> = b.chunks_exact(32).map(io_event).collect();
    if (n as usize) > shown {
        items.push(Value::Elided);
    }
    Value::Array(items)
}

const IORING_SETUP: &[(u64, &str)] = &[
    (0x1, "IORING_SETUP_IOPOLL"),
    (0x2, "IORING_SETUP_SQPOLL"),
    (0x4, "IORING_SETUP_SQ_AFF"),
    (0x8, "IORING_SETUP_CQSIZE"),
    (0x10, "IORING_SETUP_CLAMP"),
    (0x20, "IORING_SETUP_ATTACH_WQ"),
    (0x40, "IORING_SETUP_R_DISABLED"),
    (0x80, "IORING_SETUP_SUBMIT_ALL"),
    (0x100, "IORING_SETUP_COOP_TASKRUN"),
    (0x200, "IORING_SETUP_TASKRUN_FLAG"),
    (0x400, "IORING_SETUP_SQE128"),
    (0x800, "IORING_SETUP_CQE32"),
];

/// The features strace 6.1 names; newer kernels' bits print in hex.
const IORING_FEATURES: &[(u64, &str)] = &[
    (0x1, "IORING_FEAT_SINGLE_MMAP"),
    (0x2, "IORING_FEAT_NODROP"),
    (0x4, "IORING_FEAT_SUBMIT_STABLE"),
    (0x8, "IORING_FEAT_RW_CUR_POS"),
    (0x10, "IORING_FEAT_CUR_PERSONALITY"),
    (0x20, "IORING_FEAT_FAST_POLL"),
    (0x40, "IORING_FEAT_POLL_32BITS"),
    (0x80, "IORING_FEAT_SQPOLL_NONFIXED"),
    (0x100, "IORING_FEAT_EXT_ARG"),
    (0x200, "IORING_FEAT_NATIVE_WORKERS"),
    (0x400, "IORING_FEAT_RSRC_TAGS"),
    (0x800, "IORING_FEAT_CQE_SKIP"),
    (0x1000, "IORING_FEAT_LINKED_FILE"),
];

const IORING_ENTER: &[(u64, &str)] = &[
    (0x1, "IORING_ENTER_GETEVENTS"),
    (0x2, "IORING_ENTER_SQ_WAKEUP"),
    (0x4, "IORING_ENTER_SQ_WAIT"),
    (0x8, "IORING_ENTER_EXT_ARG"),
    (0x10, "IORING_ENTER_REGISTERED_RING"),
];

const IORING_REGISTER: &[(u64, &str)] = &[
    (0, "IORING_REGISTER_BUFFERS"),
    (1, "IORING_UNREGISTER_BUFFERS"),
    (2, "IORING_REGISTER_FILES"),
    (3, "IORING_UNREGISTER_FILES"),
    (4, "IORING_REGISTER_EVENTFD"),
    (5, "IORING_UNREGISTER_EVENTFD"),
    (6, "IORING_REGISTER_FILES_UPDATE"),
    (7, "IORING_REGISTER_EVENTFD_ASYNC"),
    (8, "IORING_REGISTER_PROBE"),
    (9, "IORING_REGISTER_PERSONALITY"),
    (10, "IORING_UNREGISTER_PERSONALITY"),
    (11, "IORING_REGISTER_RESTRICTIONS"),
    (12, "IORING_REGISTER_ENABLE_RINGS"),
    (13, "IORING_REGISTER_FILES2"),
    (14, "IORING_REGISTER_FILES_UPDATE2"),
    (15, "IORING_REGISTER_BUFFERS2"),
    (16, "IORING_REGISTER_BUFFERS_UPDATE"),
    (17, "IORING_REGISTER_IOWQ_AFF"),
    (18, "IORING_UNREGISTER_IOWQ_AFF"),
    (19, "IORING_REGISTER_IOWQ_MAX_WORKERS"),
    (20, "IORING_REGISTER_RING_FDS"),
    (21, "IORING_UNREGISTER_RING_FDS"),
];

/// `struct io_uring_params`: what the caller sets, then (`filled`) what the kernel returned.
fn uring_params(c: &Ctx, addr: u64, filled: bool) -> Value {
    let Some(b) = read_bytes::<120>(c, addr) else {
        return Value::Ptr(addr);
    };
    let u = |off: usize| Value::UInt(le_u32(&b, off).into());
    let setup = u64::from(le_u32(&b, 8));
    let mut f: Vec<(&'static str, Value)> = vec![
        (
            "flags",
            flags_x(setup, IORING_SETUP, None, "IORING_SETUP_???"),
        ),
        ("sq_thread_cpu", u(12)),
        ("sq_thread_idle", u(16)),
    ];
    if setup & 0x20 != 0 {
        f.push(("wq_fd", fd(c, le_u32(&b, 24).into())));
    }
    if filled {
        let offs = |base: usize, names: [&'static str; 7]| {
            Value::structure(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| (n, u(base + 4 * i)))
                    .collect(),
            )
        };
        f.push(("sq_entries", u(0)));
        f.push(("cq_entries", u(4)));
        f.push((
            "features",
            flags_x(
                le_u32(&b, 20).into(),
                IORING_FEATURES,
                None,
                "IORING_FEAT_???",
            ),
        ));
        f.push((
            "sq_off",
            offs(
                40,
                [
                    "head",
                    "tail",
                    "ring_mask",
                    "ring_entries",
                    "flags",
                    "dropped",
                    "array",
                ],
            ),
        ));
        f.push((
            "cq_off",
            offs(
                80,
                [
                    "head",
                    "tail",
                    "ring_mask",
                    "ring_entries",
                    "overflow",
                    "cqes",
                    "flags",
                ],
            ),
        ));
    }
    Value::structure(f)
}

/// An array of `n` ints at `addr` as descriptors (io_uring's registered files and eventfd).
fn fd_array(c: &Ctx, addr: u64, n: u64) -> Value {
    let shown = (n as usize).min(c.o.max_array);
    match read_vec(c, addr, shown * 4) {
        Some(b) if b.len() == shown * 4 => {
            let mut items: Vec<Value> = b
                .chunks_exact(4)
                .map(|x| fd(c, le_u32(x, 0).into()))
                .collect();
            if (n as usize) > shown {
                items.push(Value::Elided);
            }
            Value::Array(items)
        }
        _ => Value::Ptr(addr),
    }
}

pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    Some(match name {
        "membarrier" => {
            let cmd = match low(a[0]) {
                0 => Value::sym("MEMBARRIER_CMD_QUERY"),
                v => xlat(v, MEMBARRIER_CMDS, "MEMBARRIER_CMD_???"),
            };
            let fl = low(a[1]);
            let fl_v = flags_x(
                fl,
                &[(1, "MEMBARRIER_CMD_FLAG_CPU")],
                None,
                "MEMBARRIER_CMD_FLAG_???",
            );
            if fl & 1 != 0 {
                vec![s(cmd), s(fl_v), s(int(a[2]))]
            } else {
                vec![s(cmd), s(fl_v)]
            }
        }
        "seccomp" => {
            let op = xlat(
                low(a[0]),
                &[
                    (0, "SECCOMP_SET_MODE_STRICT"),
                    (1, "SECCOMP_SET_MODE_FILTER"),
                    (2, "SECCOMP_GET_ACTION_AVAIL"),
                    (3, "SECCOMP_GET_NOTIF_SIZES"),
                ],
                "SECCOMP_???",
            );
            let fl = flags_x(
                low(a[1]),
                &[
                    (1, "SECCOMP_FILTER_FLAG_TSYNC"),
                    (2, "SECCOMP_FILTER_FLAG_LOG"),
                    (4, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
                    (8, "SECCOMP_FILTER_FLAG_NEW_LISTENER"),
                    (16, "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"),
                    (32, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
                ],
                None,
                "SECCOMP_FILTER_FLAG_???",
            );
            let arg = match low(a[0]) {
                _ if a[2] == 0 => Some(Value::Ptr(0)),
                1 => Some(super::seccomp_filter::fprog(c, a[2])),
                2 => Some(match read_bytes::<4>(c, a[2]) {
                    Some(b) => Value::Array(vec![xlat(
                        le_u32(&b, 0).into(),
                        SECCOMP_ACTIONS,
                        "SECCOMP_RET_???",
                    )]),
                    None => Value::Ptr(a[2]),
                }),
                3 => None,
                _ => Some(Value::Ptr(a[2])),
            };
            vec![s(op), s(fl), arg]
        }
        "landlock_create_ruleset" => vec![
            s(if a[0] == 0 {
                Value::Ptr(0)
            } else {
                match read_bytes::<8>(c, a[0]) {
                    Some(b) if a[1] >= 8 => Value::structure(vec![(
                        "handled_access_fs",
                        flags_x(le_u64(&b, 0), LANDLOCK_FS, None, "LANDLOCK_ACCESS_FS_???"),
                    )]),
                    _ => Value::Ptr(a[0]),
                }
            }),
            s(Value::UInt(a[1])),
            s(flags_x(
                low(a[2]),
                &[(1, "LANDLOCK_CREATE_RULESET_VERSION")],
                None,
                "LANDLOCK_CREATE_RULESET_???",
            )),
        ],
        "landlock_add_rule" => vec![
            s(fd(c, a[0])),
            s(xlat(
                low(a[1]),
                &[(1, "LANDLOCK_RULE_PATH_BENEATH")],
                "LANDLOCK_RULE_???",
            )),
            s(match (low(a[1]), read_bytes::<12>(c, a[2])) {
                _ if a[2] == 0 => Value::Ptr(0),
                (1, Some(b)) => Value::structure(vec![
                    (
                        "allowed_access",
                        flags_x(le_u64(&b, 0), LANDLOCK_FS, None, "LANDLOCK_ACCESS_FS_???"),
                    ),
                    ("parent_fd", fd(c, le_u32(&b, 8).into())),
                ]),
                _ => Value::Ptr(a[2]),
            }),
            s(hex0(low(a[3]))),
        ],
        "landlock_restrict_self" => vec![s(fd(c, a[0])), s(hex0(low(a[1])))],
        "fanotify_init" => {
            let v = low(a[0]);
            let class = match v & 0xc {
                0 => "FAN_CLASS_NOTIF",
                4 => "FAN_CLASS_CONTENT",
                8 => "FAN_CLASS_PRE_CONTENT",
                _ => "0xc /* FAN_CLASS_??? */",
            };
            let mut names = vec![class.into()];
            if let Value::Flags(rest) = super::util::flags(v & !0xc, FAN_INIT_FLAGS) {
                names.extend(rest);
            }
            vec![
                s(Value::Flags(names)),
                s(super::fs_tables::open_flags(low(a[1]))),
            ]
        }
        "fanotify_mark" => vec![
            s(fd(c, a[0])),
            s(flags_x(low(a[1]), FAN_MARK_FLAGS, None, "FAN_MARK_???")),
            s(flags_x(a[2], FAN_EVENTS, None, "FAN_???")),
            s(dirfd_y(c, a[3])),
            s(path(c, a[4])),
        ],
        "add_key" => vec![
            s(string(c, a[0])),
            s(string(c, a[1])),
            s(buffer(c, a[2], a[3])),
            s(Value::UInt(a[3])),
            s(key_serial(a[4])),
        ],
        "request_key" => vec![
            s(string(c, a[0])),
            s(string(c, a[1])),
            s(string(c, a[2])),
            s(key_serial(a[3])),
        ],
        "keyctl" => keyctl_args(c),
        "io_setup" => vec![s(Value::UInt(low(a[0]))), None],
        "io_destroy" => vec![s(hex0(a[0]))],
        "io_submit" => vec![
            s(hex0(a[0])),
            s(Value::Int(a[1] as i64)),
            s(iocbs(c, a[2], a[1])),
        ],
        "io_getevents" => vec![
            s(hex0(a[0])),
            s(Value::Int(a[1] as i64)),
            s(Value::Int(a[2] as i64)),
            None,
            None,
        ],
        "io_pgetevents" => vec![
            s(hex0(a[0])),
            s(Value::Int(a[1] as i64)),
            s(Value::Int(a[2] as i64)),
            None,
            None,
            None,
        ],
        "io_cancel" => vec![s(hex0(a[0])), s(iocb(c, a[1], false)), None],
        "perf_event_open" => vec![
            s(if a[0] == 0 {
                Value::Ptr(0)
            } else {
                super::perf::attr(c, a[0])
            }),
            s(int(a[1])),
            s(int(a[2])),
            s(int(a[3])),
            s(flags_x(
                low(a[4]),
                super::perf::OPEN_FLAGS,
                None,
                "PERF_FLAG_???",
            )),
        ],
        "io_uring_setup" => vec![s(Value::UInt(low(a[0]))), None],
        "io_uring_enter" => vec![
            s(fd(c, a[0])),
            s(Value::UInt(low(a[1]))),
            s(Value::UInt(low(a[2]))),
            s(flags_x(low(a[3]), IORING_ENTER, None, "IORING_ENTER_???")),
            s(match (a[4], read_bytes::<8>(c, a[4])) {
                (0, _) => Value::Ptr(0),
                (_, Some(b)) if a[5] == 8 => {
                    crate::syscalls::signals::sigset_styled(u64::from_le_bytes(b), c.o.const_style)
                }
                _ => Value::Ptr(a[4]),
            }),
            s(Value::UInt(a[5])),
        ],
        "io_uring_register" => {
            let op = low(a[1]);
            vec![
                s(fd(c, a[0])),
                s(xlat(op, IORING_REGISTER, "IORING_REGISTER_???")),
                s(match op {
                    _ if a[2] == 0 => Value::Ptr(0),
                    2 => fd_array(c, a[2], low(a[3])),
                    4 | 7 => fd_array(c, a[2], 1),
                    _ => Value::Ptr(a[2]),
                }),
                s(Value::UInt(low(a[3]))),
            ]
        }
        _ => return None,
    })
}

/// After E2BIG the kernel has written the size it knows into the structure: strace adds it
/// (`size=0xc8 /* PERF_ATTR_SIZE_??? */ => 0x88 /* PERF_ATTR_SIZE_??? */`). The structure is
/// the one decoded at the entry (held to the exit, see `HELD_TO_EXIT`).
fn perf_size_written_back(c: &Ctx, slots: &mut [Option<Value>]) {
    let Some(b) = read_bytes::<4>(c, c.raw[0].wrapping_add(4)) else {
        return;
    };
    if let Some(Some(Value::Struct(fields))) = slots.get_mut(0)
        && let Some((_, v)) = fields.iter_mut().find(|(k, _)| k == "size")
    {
        let new = super::perf::size_field(c, u32::from_le_bytes(b));
        *v = Value::Raw(format!(
            "{} => {}",
            super::util::render(v),
            super::util::render(&new)
        ));
    }
}

pub fn exit(
    name: &str,
    c: &Ctx,
    slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    let a = c.raw;
    let ok = !is_error;
    if name == "perf_event_open" && is_error && rval == -i64::from(libc::E2BIG) {
        perf_size_written_back(c, slots);
    }
    let mut set = super::util::setter(slots);
    let out = |addr: u64, f: &dyn Fn() -> Value| super::util::output(ok, addr, f);
    Some(match name {
        "membarrier" if low(a[0]) == 0 && ok && rval != 0 => Ret::Annotated {
            value: Box::new(Ret::Hex(rval as u64)),
            note: super::util::render(&super::util::flags(rval as u64, MEMBARRIER_CMDS)),
        },
        "seccomp" => {
            if low(a[0]) == 3 {
                set(
                    2,
                    out(a[2], &|| match read_bytes::<6>(c, a[2]) {
                        Some(b) => {
                            let h =
                                |i: usize| Value::UInt(u16::from_le_bytes([b[i], b[i + 1]]).into());
                            Value::structure(vec![
                                ("seccomp_notif", h(0)),
                                ("seccomp_notif_resp", h(2)),
                                ("seccomp_data", h(4)),
                            ])
                        }
                        None => Value::Ptr(a[2]),
                    }),
                );
            }
            default_ret(rval, is_error)
        }
        "landlock_create_ruleset" if low(a[2]) & 1 == 0 => fd_ret(c, rval, is_error),
        "fanotify_init" => fd_ret(c, rval, is_error),
        "perf_event_open" => fd_ret(c, rval, is_error),
        "keyctl" => {
            if matches!(low(a[0]), 6 | 11 | 17) {
                let n = (rval.max(0) as u64).min(a[3]);
                set(2, out(a[2], &|| buffer(c, a[2], n)));
            }
            default_ret(rval, is_error)
        }
        "io_setup" => {
            set(
                1,
                out(a[1], &|| match read_bytes::<8>(c, a[1]) {
                    Some(b) => Value::Array(vec![hex0(le_u64(&b, 0))]),
                    None => Value::Ptr(a[1]),
                }),
            );
            default_ret(rval, is_error)
        }
        "io_getevents" | "io_pgetevents" => {
            if name == "io_pgetevents" {
                set(5, super::poll::pselect_sig(c, a[5]));
            }
            let got = rval.max(0) as u64;
            set(3, out(a[3], &|| io_events(c, a[3], got)));
            set(
                4,
                if a[4] == 0 {
                    Value::Ptr(0)
                } else {
                    timespec(c, a[4])
                },
            );
            default_ret(rval, is_error)
        }
        "io_cancel" => {
            set(
                2,
                out(a[2], &|| match read_vec(c, a[2], 32) {
                    Some(b) if b.len() == 32 => io_event(&b),
                    _ => Value::Ptr(a[2]),
                }),
            );
            default_ret(rval, is_error)
        }
        "io_uring_setup" => {
            set(
                1,
                if a[1] == 0 {
                    Value::Ptr(0)
                } else {
                    uring_params(c, a[1], ok)
                },
            );
            fd_ret(c, rval, is_error)
        }
        "membarrier"
        | "landlock_create_ruleset"
        | "landlock_add_rule"
        | "landlock_restrict_self"
        | "fanotify_mark"
        | "add_key"
        | "request_key"
        | "io_destroy"
        | "io_submit"
        | "io_uring_enter"
        | "io_uring_register" => default_ret(rval, is_error),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines};

    #[test]
    fn queries_keys_and_rings() {
        let mut iocb = vec![0u8; 64];
        iocb[0] = 0x2a;
        iocb[16] = 1; // PWRITE
        iocb[20] = 3;
        iocb[24..32].copy_from_slice(&0x5000u64.to_le_bytes());
        iocb[32] = 2;
        let t = FakeTracee::default()
            .with(0x1000, b"user\0")
            .with(0x2000, b"k\0")
            .with(0x3000, &0x8000_0000u32.to_le_bytes())
            .with(0x4000, &0x4000u64.to_le_bytes())
            .with(0x5000, b"hi")
            .with(0x6000, &iocb)
            .with(0x7000, &0x6000u64.to_le_bytes());
        assert_lines(
            &t,
            [
                (
                    "membarrier",
                    [0, 0, 0, 0, 0, 0],
                    0x19,
                    "membarrier(MEMBARRIER_CMD_QUERY, 0) = 0x19 (MEMBARRIER_CMD_GLOBAL|MEMBARRIER_CMD_PRIVATE_EXPEDITED|MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)",
                ),
                (
                    "membarrier",
                    [0x4000, 1, 2, 0, 0, 0],
                    -22,
                    "membarrier(0x4000 /* MEMBARRIER_CMD_??? */, MEMBARRIER_CMD_FLAG_CPU, 2) = -22",
                ),
                (
                    "seccomp",
                    [2, 0, 0x3000, 0, 0, 0],
                    0,
                    "seccomp(SECCOMP_GET_ACTION_AVAIL, 0, [SECCOMP_RET_KILL_PROCESS]) = 0",
                ),
                (
                    "add_key",
                    [0x1000, 0x2000, 0x5000, 2, (-2i64) as u64, 0],
                    5,
                    "add_key(\"user\", \"k\", \"hi\", 2, KEY_SPEC_PROCESS_KEYRING) = 5",
                ),
                (
                    "keyctl",
                    [11, 5, 0x5000, 16, 0, 0],
                    2,
                    "keyctl(KEYCTL_READ, 5, \"hi\", 16) = 2",
                ),
                (
                    "keyctl",
                    [99, 1, 0, 3, 0, 0],
                    -22,
                    "keyctl(0x63 /* KEYCTL_??? */, 0x1, 0, 0x3, 0) = -22",
                ),
                (
                    "landlock_create_ruleset",
                    [0x4000, 8, 0, 0, 0, 0],
                    4,
                    "landlock_create_ruleset({handled_access_fs=0x4000 /* LANDLOCK_ACCESS_FS_??? */}, 8, 0) = 4",
                ),
                (
                    "io_submit",
                    [0x7f00, 1, 0x7000, 0, 0, 0],
                    1,
                    "io_submit(0x7f00, 1, [{aio_data=0x2a, aio_lio_opcode=IOCB_CMD_PWRITE, aio_fildes=3, aio_buf=\"hi\", aio_nbytes=2, aio_offset=0}]) = 1",
                ),
                (
                    "io_uring_enter",
                    [4, 1, 1, 1, 0, 0],
                    1,
                    "io_uring_enter(4, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) = 1",
                ),
            ],
        );
    }
}
