//! The system's odd calls, as strace 6.1 prints them: the kernel log (`syslog`), host and
//! domain names, process accounting, swap, `reboot`, I/O port access (`iopl`, `ioperm`),
//! `sched_rr_get_interval`, I/O priorities (`ioprio_get`/`ioprio_set`, what ionice calls),
//! the robust futex list, `kcmp`, memory protection keys, `userfaultfd`, file handles
//! (`name_to_handle_at`, `open_by_handle_at`), `process_madvise`, `process_mrelease`,
//! `memfd_secret`, `remap_file_pages`, and `adjtimex`/`clock_adjtime` without a structure.
//!
//! Not decoded (strace decodes them): `struct timex` (its address is printed), the
//! iovecs of process_madvise, kcmp's epoll slot.

use super::Ctx;
use super::fs_util::flags_x;
use super::util::{default_ret, fd, fd_ret, hex0, le_u32, path, read_vec, setter, string, xlat};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

fn int(v: u64) -> Value {
    Value::Int(i64::from(v as i32))
}

const SYSLOG: &[(u64, &str)] = &[
    (0, "SYSLOG_ACTION_CLOSE"),
    (1, "SYSLOG_ACTION_OPEN"),
    (2, "SYSLOG_ACTION_READ"),
    (3, "SYSLOG_ACTION_READ_ALL"),
    (4, "SYSLOG_ACTION_READ_CLEAR"),
    (5, "SYSLOG_ACTION_CLEAR"),
    (6, "SYSLOG_ACTION_CONSOLE_OFF"),
    (7, "SYSLOG_ACTION_CONSOLE_ON"),
    (8, "SYSLOG_ACTION_CONSOLE_LEVEL"),
    (9, "SYSLOG_ACTION_SIZE_UNREAD"),
    (10, "SYSLOG_ACTION_SIZE_BUFFER"),
];

const REBOOT_MAGIC1: &[(u64, &str)] = &[(0xfee1_dead, "LINUX_REBOOT_MAGIC1")];
const REBOOT_MAGIC2: &[(u64, &str)] = &[
    (672_274_793, "LINUX_REBOOT_MAGIC2"),
    (85_072_278, "LINUX_REBOOT_MAGIC2A"),
    (369_367_448, "LINUX_REBOOT_MAGIC2B"),
    (537_993_216, "LINUX_REBOOT_MAGIC2C"),
];
const REBOOT_CMD: &[(u64, &str)] = &[
    (0x0123_4567, "LINUX_REBOOT_CMD_RESTART"),
    (0xcdef_0123, "LINUX_REBOOT_CMD_HALT"),
    (0x89ab_cdef, "LINUX_REBOOT_CMD_CAD_ON"),
    (0, "LINUX_REBOOT_CMD_CAD_OFF"),
    (0x4321_fedc, "LINUX_REBOOT_CMD_POWER_OFF"),
    (0xa1b2_c3d4, "LINUX_REBOOT_CMD_RESTART2"),
    (0xd000_fce2, "LINUX_REBOOT_CMD_SW_SUSPEND"),
    (0x4558_4543, "LINUX_REBOOT_CMD_KEXEC"),
];

const IOPRIO_WHO: &[(u64, &str)] = &[
    (1, "IOPRIO_WHO_PROCESS"),
    (2, "IOPRIO_WHO_PGRP"),
    (3, "IOPRIO_WHO_USER"),
];
const IOPRIO_CLASS: &[(u64, &str)] = &[
    (0, "IOPRIO_CLASS_NONE"),
    (1, "IOPRIO_CLASS_RT"),
    (2, "IOPRIO_CLASS_BE"),
    (3, "IOPRIO_CLASS_IDLE"),
];

const KCMP: &[(u64, &str)] = &[
    (0, "KCMP_FILE"),
    (1, "KCMP_VM"),
    (2, "KCMP_FILES"),
    (3, "KCMP_FS"),
    (4, "KCMP_SIGHAND"),
    (5, "KCMP_IO"),
    (6, "KCMP_SYSVSEM"),
    (7, "KCMP_EPOLL_TFD"),
];

const PKEY_RIGHTS: &[(u64, &str)] = &[(1, "PKEY_DISABLE_ACCESS"), (2, "PKEY_DISABLE_WRITE")];
const UFFD_FLAGS: &[(u64, &str)] = &[
    (0o4000, "O_NONBLOCK"),
    (0o2000000, "O_CLOEXEC"),
    (1, "UFFD_USER_MODE_ONLY"),
];
const SECRET_FLAGS: &[(u64, &str)] = &[(0o2000000, "O_CLOEXEC")];
const HANDLE_AT: &[(u64, &str)] = &[(0x400, "AT_SYMLINK_FOLLOW"), (0x1000, "AT_EMPTY_PATH")];
const SWAP_FLAGS: &[(u64, &str)] = &[
    (0x8000, "SWAP_FLAG_PREFER"),
    (0x10000, "SWAP_FLAG_DISCARD"),
    (0x20000, "SWAP_FLAG_DISCARD_ONCE"),
    (0x40000, "SWAP_FLAG_DISCARD_PAGES"),
];

/// `IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4)`.
fn ioprio(v: u64) -> String {
    let class = xlat((v >> 13) & 0x7, IOPRIO_CLASS, "IOPRIO_CLASS_???");
    format!(
        "IOPRIO_PRIO_VALUE({}, {})",
        super::util::render(&class),
        v & 0x1fff
    )
}

/// swapon's flags: the names, then the priority (`SWAP_FLAG_PREFER|5`).
fn swap_flags(v: u64) -> Value {
    let v = v & 0xffff_ffff;
    let prio = v & 0x7fff;
    let mut names = match flags_x(v & !0x7fff, SWAP_FLAGS, None, "SWAP_FLAG_???") {
        Value::Flags(f) => f,
        other => vec![super::util::render(&other).into()],
    };
    if prio != 0 || names.is_empty() {
        names.push(prio.to_string().into());
    }
    Value::Flags(names)
}

fn pid(c: &Ctx, v: u64) -> Value {
    super::proc::pid_arg(c, v)
}

/// `{handle_bytes=N, handle_type=T, f_handle="\x.."}` (open_by_handle_at's), or with
/// `bytes_only` just `{handle_bytes=N}` (name_to_handle_at's at its entry).
fn handle(c: &Ctx, addr: u64, bytes_only: bool) -> Value {
    let Some(h) = read_vec(c, addr, 8) else {
        return Value::Ptr(addr);
    };
    let n = le_u32(&h, 0);
    if bytes_only {
        return Value::structure(vec![("handle_bytes", Value::UInt(n.into()))]);
    }
    let f = if n <= 128 {
        match read_vec(c, addr + 8, n as usize) {
            Some(b) => Value::Raw(super::util::quote_hex(&b)),
            None => Value::Ptr(addr + 8),
        }
    } else {
        Value::Ptr(addr + 8)
    };
    Value::structure(vec![
        ("handle_bytes", Value::UInt(n.into())),
        ("handle_type", Value::Int(i64::from(le_u32(&h, 4) as i32))),
        ("f_handle", f),
    ])
}

/// name_to_handle_at's handle at exit: the size the kernel wrote back
/// (`{handle_bytes=0 => 8}` when there was no room), and on success the handle whole.
fn handle_written_back(c: &Ctx, slots: &mut [Option<Value>], ok: bool) {
    let addr = c.raw[2];
    let Some(Some(Value::Struct(fields))) = slots.get_mut(2) else {
        return;
    };
    let Some(b) = read_vec(c, addr, 4) else {
        return;
    };
    let new = le_u32(&b, 0);
    let Some(old) = fields
        .iter()
        .find(|(k, _)| k == "handle_bytes")
        .map(|(_, v)| super::util::render(v))
    else {
        return;
    };
    let bytes = if old == new.to_string() {
        Value::UInt(new.into())
    } else {
        Value::Raw(format!("{old} => {new}"))
    };
    if ok && let Value::Struct(whole) = handle(c, addr, false) {
        *fields = whole;
    }
    if let Some((_, v)) = fields.iter_mut().find(|(k, _)| k == "handle_bytes") {
        *v = bytes;
    }
}

/// C's `%#08x`: `0x001000`, `00000000` for zero.
fn hex08(v: u32) -> Value {
    if v == 0 {
        Value::Raw("00000000".into())
    } else {
        Value::Raw(format!("{v:#08x}"))
    }
}

/// A `struct user_desc` (modify_ldt's, set/get_thread_area's); `entry_only`: just
/// `{entry_number=N, ...}` (get_thread_area's that failed).
fn user_desc(c: &Ctx, addr: u64, entry_only: bool) -> Value {
    let Some(b) = read_vec(c, addr, 16).filter(|b| addr != 0 && b.len() == 16) else {
        return Value::Ptr(addr);
    };
    let number = ("entry_number", Value::Int(i64::from(le_u32(&b, 0) as i32)));
    if entry_only {
        return Value::structure(vec![number, ("", Value::Elided)]);
    }
    let bits = le_u32(&b, 12);
    let bit = |n: u32, w: u32| Value::UInt(u64::from((bits >> n) & ((1 << w) - 1)));
    Value::structure(vec![
        number,
        ("base_addr", hex08(le_u32(&b, 4))),
        ("limit", hex08(le_u32(&b, 8))),
        ("seg_32bit", bit(0, 1)),
        ("contents", bit(1, 2)),
        ("read_exec_only", bit(3, 1)),
        ("limit_in_pages", bit(4, 1)),
        ("seg_not_present", bit(5, 1)),
        ("useable", bit(6, 1)),
        ("lm", bit(7, 1)),
    ])
}

/// set_thread_area's descriptor at exit: the slot the kernel chose for `entry_number=-1`
/// (`-1 -> 12`).
fn thread_area_chosen(c: &Ctx, slots: &mut [Option<Value>]) {
    let Some(Some(Value::Struct(fields))) = slots.get_mut(0) else {
        return;
    };
    let Some(b) = read_vec(c, c.raw[0], 4).filter(|b| b.len() == 4) else {
        return;
    };
    let now = le_u32(&b, 0) as i32;
    if let Some((_, v)) = fields.iter_mut().find(|(k, _)| k == "entry_number")
        && let Value::Int(was) = *v
        && was != i64::from(now)
    {
        *v = Value::Raw(format!("{was} -> {now}"));
    }
}

pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let all = |v: Vec<Value>| v.into_iter().map(Some).collect::<Slots>();
    Some(match name {
        "ptrace" => super::ptrace::entry(c),
        "modify_ldt" => {
            let desc = if a[2] == 16 {
                user_desc(c, a[1], false)
            } else {
                Value::Ptr(a[1])
            };
            all(vec![int(a[0]), desc, Value::UInt(a[2])])
        }
        "set_thread_area" => all(vec![user_desc(c, a[0], false)]),
        "get_thread_area" => vec![None],
        "ustat" => all(vec![super::fs_tables::dev_arg(a[0]), Value::Ptr(a[1])]),
        "syslog" => {
            let t = a[0] & 0xffff_ffff;
            let ty = match SYSLOG.iter().find(|&&(v, _)| v == t) {
                Some(&(v, n)) => Value::Raw(format!("{v} /* {n} */")),
                None => Value::Raw(format!("{} /* SYSLOG_ACTION_??? */", t as i32)),
            };
            match t {
                // Reads: the buffer at exit.
                2..=4 => vec![Some(ty), None, Some(int(a[2]))],
                0 | 1 | 5..=7 | 9 | 10 => vec![Some(ty)],
                _ => all(vec![ty, Value::Ptr(a[1]), int(a[2])]),
            }
        }
        "sethostname" | "setdomainname" => {
            all(vec![super::util::buffer(c, a[0], a[1]), Value::UInt(a[1])])
        }
        "acct" | "swapoff" | "uselib" => all(vec![path(c, a[0])]),
        "swapon" => all(vec![path(c, a[0]), swap_flags(a[1])]),
        "reboot" => {
            let m1 = xlat(a[0] & 0xffff_ffff, REBOOT_MAGIC1, "LINUX_REBOOT_MAGIC_???");
            let m2 = xlat(a[1] & 0xffff_ffff, REBOOT_MAGIC2, "LINUX_REBOOT_MAGIC_???");
            let cmd = a[2] & 0xffff_ffff;
            let mut v = vec![m1, m2, xlat(cmd, REBOOT_CMD, "LINUX_REBOOT_CMD_???")];
            if cmd == 0xa1b2_c3d4 {
                v.push(string(c, a[3]));
            }
            all(v)
        }
        "iopl" => all(vec![int(a[0])]),
        "ioperm" => all(vec![hex0(a[0]), hex0(a[1]), int(a[2])]),
        "sched_rr_get_interval" => vec![Some(pid(c, a[0])), None],
        "ioprio_get" => all(vec![
            xlat(a[0] & 0xffff_ffff, IOPRIO_WHO, "IOPRIO_WHO_???"),
            int(a[1]),
        ]),
        "ioprio_set" => all(vec![
            xlat(a[0] & 0xffff_ffff, IOPRIO_WHO, "IOPRIO_WHO_???"),
            int(a[1]),
            Value::Raw(ioprio(a[2] & 0xffff_ffff)),
        ]),
        "get_robust_list" => vec![Some(pid(c, a[0])), None, None],
        "kcmp" => {
            let ty = a[2] & 0xffff_ffff;
            let mut v = vec![pid(c, a[0]), pid(c, a[1]), xlat(ty, KCMP, "KCMP_???")];
            match ty {
                0 => v.extend([fd(c, a[3]), fd(c, a[4])]),
                1..=6 => {}
                _ => v.extend([hex0(a[3]), hex0(a[4])]),
            }
            all(v)
        }
        "pkey_alloc" => all(vec![
            hex0(a[0] & 0xffff_ffff),
            flags_x(a[1] & 0xffff_ffff, PKEY_RIGHTS, None, "PKEY_???"),
        ]),
        "pkey_free" => all(vec![int(a[0])]),
        "userfaultfd" => all(vec![flags_x(
            a[0] & 0xffff_ffff,
            UFFD_FLAGS,
            None,
            "UFFD_???",
        )]),
        "memfd_secret" => all(vec![flags_x(
            a[0] & 0xffff_ffff,
            SECRET_FLAGS,
            None,
            "O_???",
        )]),
        "name_to_handle_at" => vec![
            Some(super::fs_util::dirfd_y(c, a[0])),
            Some(path(c, a[1])),
            Some(handle(c, a[2], true)),
            None,
            Some(flags_x(a[4] & 0xffff_ffff, HANDLE_AT, None, "AT_???")),
        ],
        "open_by_handle_at" => all(vec![
            fd(c, a[0]),
            handle(c, a[1], false),
            super::fs_tables::open_flags(a[2]),
        ]),
        "process_madvise" => all(vec![
            fd(c, a[0]),
            Value::Ptr(a[1]),
            Value::UInt(a[2]),
            xlat(a[3] & 0xffff_ffff, super::mem::MADVICE, "MADV_???"),
            hex0(a[4] & 0xffff_ffff),
        ]),
        "process_mrelease" => all(vec![fd(c, a[0]), hex0(a[1] & 0xffff_ffff)]),
        "remap_file_pages" => all(vec![
            Value::Ptr(a[0]),
            Value::UInt(a[1]),
            super::mem::prot(a[2]),
            Value::UInt(a[3]),
            super::mem::map_flags(a[4]),
        ]),
        "adjtimex" => all(vec![Value::Ptr(a[0])]),
        "clock_adjtime" => all(vec![super::time::clock_id(a[0]), Value::Ptr(a[1])]),
        _ => return None,
    })
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
    if name == "name_to_handle_at" {
        handle_written_back(c, slots, ok);
    }
    if name == "ptrace" {
        return Some(super::ptrace::exit(c, slots, rval, is_error));
    }
    if name == "set_thread_area" && ok {
        thread_area_chosen(c, slots);
    }
    let mut set = setter(slots);
    let out = |addr: u64, f: &dyn Fn() -> Value| super::util::output(ok, addr, f);
    Some(match name {
        "syslog" => {
            if a[0] & 0xffff_ffff <= 4 {
                let n = if ok { rval.max(0) as u64 } else { 0 };
                set(1, out(a[1], &|| super::util::buffer(c, a[1], n)));
            }
            default_ret(rval, is_error)
        }
        "sched_rr_get_interval" => {
            set(1, out(a[1], &|| super::util::timespec(c, a[1])));
            default_ret(rval, is_error)
        }
        "ioprio_get" if ok => Ret::Annotated {
            value: Box::new(Ret::Int(rval)),
            note: ioprio(rval as u64),
        },
        "get_robust_list" => {
            set(
                1,
                out(a[1], &|| match read_vec(c, a[1], 8) {
                    Some(b) => Value::Array(vec![hex0(super::util::le_u64(&b, 0))]),
                    None => Value::Ptr(a[1]),
                }),
            );
            set(
                2,
                out(a[2], &|| match read_vec(c, a[2], 8) {
                    Some(b) => Value::Array(vec![Value::UInt(super::util::le_u64(&b, 0))]),
                    None => Value::Ptr(a[2]),
                }),
            );
            default_ret(rval, is_error)
        }
        "name_to_handle_at" => {
            set(3, out(a[3], &|| super::util::int_ref(c, a[3])));
            default_ret(rval, is_error)
        }
        "userfaultfd" | "memfd_secret" => fd_ret(c, rval, is_error),
        "get_thread_area" => {
            set(0, user_desc(c, a[0], !ok));
            default_ret(rval, is_error)
        }
        // The kernel returns modify_ldt's int as an unsigned one: an error is a large
        // number that strace prints with its errno.
        "modify_ldt" if !is_error && (-4095..0).contains(&(rval as i32)) => Ret::ValueError {
            value: rval as u64,
            errno: -i64::from(rval as i32),
        },
        _ => default_ret(rval, is_error),
    })
}
