//! The `fs` decoder group: file and file-descriptor syscalls (open, read/write, stat,
//! fcntl, ioctl, directories, links, pipes, dup, ...), in strace 6.1's notation.
//!
//! Buffers a call fills (read's data, stat's struct, pipe's fds) are output slots: `None`
//! at entry and decoded at exit, only on success; on failure they print as their address,
//! as strace does.

use super::Ctx;
use super::fs_tables as t;
use super::util::{
    self, buffer, default_ret, dirfd_y, fd, fd_ret, flags, flags_x, hex_c, path, read_bytes,
    string, sym_x,
};
use crate::syscalls::{Ret, Value, signals};

type Slots = Vec<Option<Value>>;

fn int(v: u64) -> Value {
    Value::Int(v as i64)
}
fn int32(v: u64) -> Value {
    Value::Int(i64::from(v as i32))
}
fn uint(v: u64) -> Value {
    Value::UInt(v)
}
/// A `uid_t`/`gid_t`: `-1` for "unchanged", else unsigned.
fn id(v: u64) -> Value {
    match v as u32 {
        u32::MAX => Value::Int(-1),
        n => Value::UInt(u64::from(n)),
    }
}

const FALLOC: &[(u64, &str)] = &[
    (0x1, "FALLOC_FL_KEEP_SIZE"),
    (0x2, "FALLOC_FL_PUNCH_HOLE"),
    (0x4, "FALLOC_FL_NO_HIDE_STALE"),
    (0x8, "FALLOC_FL_COLLAPSE_RANGE"),
    (0x10, "FALLOC_FL_ZERO_RANGE"),
    (0x20, "FALLOC_FL_INSERT_RANGE"),
    (0x40, "FALLOC_FL_UNSHARE_RANGE"),
];
const SYNC_FILE_RANGE: &[(u64, &str)] = &[
    (0x1, "SYNC_FILE_RANGE_WAIT_BEFORE"),
    (0x2, "SYNC_FILE_RANGE_WRITE"),
    (0x4, "SYNC_FILE_RANGE_WAIT_AFTER"),
];
const RENAME: &[(u64, &str)] = &[
    (0x1, "RENAME_NOREPLACE"),
    (0x2, "RENAME_EXCHANGE"),
    (0x4, "RENAME_WHITEOUT"),
];
const LOCK_OPS: &[(u64, &str)] = &[
    (0x1, "LOCK_SH"),
    (0x2, "LOCK_EX"),
    (0x4, "LOCK_NB"),
    (0x8, "LOCK_UN"),
    (0x20, "LOCK_MAND"),
    (0xc0, "LOCK_RW"),
    (0x40, "LOCK_READ"),
    (0x80, "LOCK_WRITE"),
];
const FD_FLAGS: &[(u64, &str)] = &[(0x1, "FD_CLOEXEC")];
const DUP3_FLAGS: &[(u64, &str)] = &[(0x80000, "O_CLOEXEC")];
const PIPE_FLAGS: &[(u64, &str)] = &[
    (0o4000, "O_NONBLOCK"),
    (0x80000, "O_CLOEXEC"),
    (0x4000, "O_DIRECT"),
    (0x200000, "O_NOTIFICATION_PIPE"),
];
const MFD_FLAGS: &[(u64, &str)] = &[
    (0x1, "MFD_CLOEXEC"),
    (0x2, "MFD_ALLOW_SEALING"),
    (0x4, "MFD_HUGETLB"),
];
const CLOSE_RANGE: &[(u64, &str)] = &[(0x2, "CLOSE_RANGE_UNSHARE"), (0x4, "CLOSE_RANGE_CLOEXEC")];
const SEALS: &[(u64, &str)] = &[
    (0x1, "F_SEAL_SEAL"),
    (0x2, "F_SEAL_SHRINK"),
    (0x4, "F_SEAL_GROW"),
    (0x8, "F_SEAL_WRITE"),
    (0x10, "F_SEAL_FUTURE_WRITE"),
];
const DN_FLAGS: &[(u64, &str)] = &[
    (0x1, "DN_ACCESS"),
    (0x2, "DN_MODIFY"),
    (0x4, "DN_CREATE"),
    (0x8, "DN_DELETE"),
    (0x10, "DN_RENAME"),
    (0x20, "DN_ATTRIB"),
    (0x80000000, "DN_MULTISHOT"),
];
const FADVICE: &[(u64, &str)] = &[
    (0, "POSIX_FADV_NORMAL"),
    (1, "POSIX_FADV_RANDOM"),
    (2, "POSIX_FADV_SEQUENTIAL"),
    (3, "POSIX_FADV_WILLNEED"),
    (4, "POSIX_FADV_DONTNEED"),
    (5, "POSIX_FADV_NOREUSE"),
];
const RWF: &[(u64, &str)] = &[
    (0x1, "RWF_HIPRI"),
    (0x2, "RWF_DSYNC"),
    (0x4, "RWF_SYNC"),
    (0x8, "RWF_NOWAIT"),
    (0x10, "RWF_APPEND"),
];
const FCNTL_CMDS: &[(u64, &str)] = &[
    (0, "F_DUPFD"),
    (1, "F_GETFD"),
    (2, "F_SETFD"),
    (3, "F_GETFL"),
    (4, "F_SETFL"),
    (5, "F_GETLK"),
    (6, "F_SETLK"),
    (7, "F_SETLKW"),
    (8, "F_SETOWN"),
    (9, "F_GETOWN"),
    (10, "F_SETSIG"),
    (11, "F_GETSIG"),
    (15, "F_SETOWN_EX"),
    (16, "F_GETOWN_EX"),
    (36, "F_OFD_GETLK"),
    (37, "F_OFD_SETLK"),
    (38, "F_OFD_SETLKW"),
    (1024, "F_SETLEASE"),
    (1025, "F_GETLEASE"),
    (1026, "F_NOTIFY"),
    (1030, "F_DUPFD_CLOEXEC"),
    (1031, "F_SETPIPE_SZ"),
    (1032, "F_GETPIPE_SZ"),
    (1033, "F_ADD_SEALS"),
    (1034, "F_GET_SEALS"),
    (1035, "F_GET_RW_HINT"),
    (1036, "F_SET_RW_HINT"),
    (1037, "F_GET_FILE_RW_HINT"),
    (1038, "F_SET_FILE_RW_HINT"),
];

/// `N<<X_HUGE_SHIFT` flag sets (mmap, memfd_create): the known low bits in table order, any
/// unknown low bits in hex, then the huge page size field (bits 26..31).
pub(super) fn flags_with_huge(
    v: u64,
    table: &[(u64, &'static str)],
    shift_name: &'static str,
    unknown: &'static str,
) -> Value {
    let huge = (v >> 26) & 0x3f;
    let low = v & !(0x3f << 26);
    if huge == 0 {
        return flags_x(low, table, None, unknown);
    }
    let mut names = match flags(low, table) {
        Value::Flags(n) => n,
        _ => Vec::new(),
    };
    names.push(format!("{huge}<<{shift_name}").into());
    Value::Flags(names)
}

/// `A|B` text of a flags value, for return-value annotations.
fn text(v: &Value) -> String {
    match v {
        Value::Flags(n) if n.is_empty() => "0".into(),
        Value::Flags(n) => n.join("|"),
        Value::Sym(s) => s.to_string(),
        Value::Raw(s) => s.clone(),
        _ => String::new(),
    }
}

/// The syscalls `entry` knows whose return value is a plain number and that have no output
/// argument.
const PLAIN: &[&str] = &[
    "close",
    "fsync",
    "fdatasync",
    "syncfs",
    "fchdir",
    "close_range",
    "write",
    "pwrite64",
    "writev",
    "pwritev",
    "pwritev2",
    "lseek",
    "ftruncate",
    "truncate",
    "fallocate",
    "sync_file_range",
    "fadvise64",
    "unlink",
    "rmdir",
    "chdir",
    "chroot",
    "unlinkat",
    "rename",
    "link",
    "symlink",
    "renameat",
    "renameat2",
    "linkat",
    "symlinkat",
    "access",
    "faccessat",
    "faccessat2",
    "mkdir",
    "chmod",
    "mkdirat",
    "fchmodat",
    "fchmod",
    "chown",
    "lchown",
    "fchown",
    "fchownat",
    "flock",
    "sync",
];

/// Entry-stop decoding; `None` if `name` is not a file syscall.
pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = |v: Value| Some(v);
    let v = match name {
        "open" => {
            let mut v = vec![s(path(c, a[0])), s(t::open_flags(a[1]))];
            if t::open_has_mode(a[1]) {
                v.push(s(t::mode_arg(a[2])));
            }
            v
        }
        "openat" => {
            let mut v = vec![
                s(dirfd_y(c, a[0])),
                s(path(c, a[1])),
                s(t::open_flags(a[2])),
            ];
            if t::open_has_mode(a[2]) {
                v.push(s(t::mode_arg(a[3])));
            }
            v
        }
        "creat" => vec![s(path(c, a[0])), s(t::mode_arg(a[1]))],
        "close" | "fsync" | "fdatasync" | "syncfs" | "fchdir" | "dup" => vec![s(fd(c, a[0]))],
        "close_range" => vec![
            s(uint(a[0] & 0xffff_ffff)),
            s(uint(a[1] & 0xffff_ffff)),
            s(flags_x(
                a[2] & 0xffff_ffff,
                CLOSE_RANGE,
                None,
                "CLOSE_RANGE_???",
            )),
        ],
        "read" => vec![s(fd(c, a[0])), None, s(uint(a[2]))],
        "write" => vec![s(fd(c, a[0])), s(buffer(c, a[1], a[2])), s(uint(a[2]))],
        "pread64" => vec![s(fd(c, a[0])), None, s(uint(a[2])), s(int(a[3]))],
        "pwrite64" => vec![
            s(fd(c, a[0])),
            s(buffer(c, a[1], a[2])),
            s(uint(a[2])),
            s(int(a[3])),
        ],
        "readv" => vec![s(fd(c, a[0])), None, s(int32(a[2]))],
        "writev" => vec![
            s(fd(c, a[0])),
            s(iovecs(c, a[1], a[2], None)),
            s(int32(a[2])),
        ],
        "preadv" => vec![s(fd(c, a[0])), None, s(int32(a[2])), s(int(a[3]))],
        "pwritev" => vec![
            s(fd(c, a[0])),
            s(iovecs(c, a[1], a[2], None)),
            s(int32(a[2])),
            s(int(a[3])),
        ],
        "preadv2" => vec![
            s(fd(c, a[0])),
            None,
            s(int32(a[2])),
            s(int(a[3])),
            s(flags_x(a[5] & 0xffff_ffff, RWF, None, "RWF_???")),
        ],
        "pwritev2" => vec![
            s(fd(c, a[0])),
            s(iovecs(c, a[1], a[2], None)),
            s(int32(a[2])),
            s(int(a[3])),
            s(flags_x(a[5] & 0xffff_ffff, RWF, None, "RWF_???")),
        ],
        "lseek" => vec![
            s(fd(c, a[0])),
            s(int(a[1])),
            s(sym_x(a[2] & 0xffff_ffff, t::SEEK_WHENCE, "SEEK_???")),
        ],
        "ftruncate" => vec![s(fd(c, a[0])), s(int(a[1]))],
        "truncate" => vec![s(path(c, a[0])), s(int(a[1]))],
        "fallocate" => vec![
            s(fd(c, a[0])),
            s(flags_x(a[1] & 0xffff_ffff, FALLOC, None, "FALLOC_FL_???")),
            s(int(a[2])),
            s(int(a[3])),
        ],
        "sync_file_range" => vec![
            s(fd(c, a[0])),
            s(int(a[1])),
            s(int(a[2])),
            s(flags_x(
                a[3] & 0xffff_ffff,
                SYNC_FILE_RANGE,
                None,
                "SYNC_FILE_RANGE_???",
            )),
        ],
        "fadvise64" => vec![
            s(fd(c, a[0])),
            s(int(a[1])),
            s(int(a[2])),
            s(sym_x(a[3] & 0xffff_ffff, FADVICE, "POSIX_FADV_???")),
        ],
        "fstat" | "fstatfs" => vec![s(fd(c, a[0])), None],
        "stat" | "lstat" | "statfs" => vec![s(path(c, a[0])), None],
        "newfstatat" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            None,
            s(t::at_flags(a[3])),
        ],
        "statx" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(t::statx_flags(a[2])),
            s(t::statx_mask(a[3])),
            None,
        ],
        "getdents" | "getdents64" => vec![s(fd(c, a[0])), None, s(uint(a[2] & 0xffff_ffff))],
        "unlink" | "rmdir" | "chdir" | "chroot" => vec![s(path(c, a[0]))],
        "unlinkat" => vec![s(dirfd_y(c, a[0])), s(path(c, a[1])), s(t::at_flags(a[2]))],
        "rename" | "link" | "symlink" => vec![s(path(c, a[0])), s(path(c, a[1]))],
        "renameat" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(dirfd_y(c, a[2])),
            s(path(c, a[3])),
        ],
        "renameat2" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(dirfd_y(c, a[2])),
            s(path(c, a[3])),
            s(flags_x(a[4] & 0xffff_ffff, RENAME, None, "RENAME_???")),
        ],
        "linkat" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(dirfd_y(c, a[2])),
            s(path(c, a[3])),
            s(t::at_flags(a[4])),
        ],
        "symlinkat" => vec![s(path(c, a[0])), s(dirfd_y(c, a[1])), s(path(c, a[2]))],
        "memfd_create" => vec![
            s(string(c, a[0])),
            s(flags_with_huge(
                a[1] & 0xffff_ffff,
                MFD_FLAGS,
                "MFD_HUGE_SHIFT",
                "MFD_???",
            )),
        ],
        "pipe" => vec![None],
        "pipe2" => vec![
            None,
            s(flags_x(a[1] & 0xffff_ffff, PIPE_FLAGS, None, "O_???")),
        ],
        "dup2" => vec![s(fd(c, a[0])), s(int32(a[1]))],
        "dup3" => vec![
            s(fd(c, a[0])),
            s(int32(a[1])),
            s(flags_x(a[2] & 0xffff_ffff, DUP3_FLAGS, None, "O_???")),
        ],
        "fcntl" => fcntl_entry(c),
        "access" => vec![s(path(c, a[0])), s(t::access_mode(a[1]))],
        "faccessat" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(t::access_mode(a[2])),
        ],
        "faccessat2" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(t::access_mode(a[2])),
            s(flags_x(
                a[3] & 0xffff_ffff,
                t::ACCESS_AT_FLAGS,
                None,
                "AT_???",
            )),
        ],
        "readlink" => vec![s(path(c, a[0])), None, s(uint(a[2] & 0xffff_ffff))],
        "readlinkat" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            None,
            s(uint(a[3] & 0xffff_ffff)),
        ],
        "mkdir" | "chmod" => vec![s(path(c, a[0])), s(t::mode_arg(a[1]))],
        "mkdirat" | "fchmodat" => vec![s(dirfd_y(c, a[0])), s(path(c, a[1])), s(t::mode_arg(a[2]))],
        "fchmod" => vec![s(fd(c, a[0])), s(t::mode_arg(a[1]))],
        "chown" | "lchown" => vec![s(path(c, a[0])), s(id(a[1])), s(id(a[2]))],
        "fchown" => vec![s(fd(c, a[0])), s(id(a[1])), s(id(a[2]))],
        "fchownat" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(id(a[2])),
            s(id(a[3])),
            s(t::at_flags(a[4])),
        ],
        "getcwd" => vec![None, s(uint(a[1]))],
        "flock" => vec![s(fd(c, a[0])), s(flags(a[1] & 0xffff_ffff, LOCK_OPS))],
        "ioctl" => ioctl_entry(c),
        "sync" => vec![],
        _ => return None,
    };
    Some(v)
}

/// Exit-stop decoding: fills the output slots, decodes the return value.
pub fn exit(
    name: &str,
    c: &Ctx,
    slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    let a = c.raw;
    let ok = !is_error;
    // Puts `v` in output slot `i` (on failure the raw address, as strace prints it).
    let mut fill = |i: usize, v: &dyn Fn() -> Value| {
        if let Some(slot) = slots.get_mut(i)
            && slot.is_none()
        {
            *slot = Some(if ok {
                v()
            } else {
                Value::Ptr(a.get(i).copied().unwrap_or(0))
            });
        }
    };
    let ret = match name {
        "open" | "openat" | "creat" | "dup" | "dup2" | "dup3" | "memfd_create" => {
            fd_ret(c, rval, is_error)
        }
        "read" | "pread64" => {
            fill(1, &|| buffer(c, a[1], rval as u64));
            default_ret(rval, is_error)
        }
        "readv" | "preadv" | "preadv2" => {
            fill(1, &|| iovecs(c, a[1], a[2], Some(rval as u64)));
            default_ret(rval, is_error)
        }
        "fstat" | "stat" | "lstat" => {
            fill(1, &|| t::stat(c, a[1]));
            default_ret(rval, is_error)
        }
        "newfstatat" => {
            fill(2, &|| t::stat(c, a[2]));
            default_ret(rval, is_error)
        }
        "statx" => {
            fill(4, &|| t::statx(c, a[4]));
            default_ret(rval, is_error)
        }
        "statfs" | "fstatfs" => {
            fill(1, &|| t::statfs(c, a[1]));
            default_ret(rval, is_error)
        }
        "getdents" | "getdents64" => {
            fill(1, &|| dirents(c, a[1], rval as u64));
            default_ret(rval, is_error)
        }
        "pipe" | "pipe2" => {
            fill(0, &|| match read_bytes::<8>(c, a[0]) {
                Some(b) => Value::Array(vec![
                    fd(c, u64::from(util::le_u32(&b, 0))),
                    fd(c, u64::from(util::le_u32(&b, 4))),
                ]),
                None => Value::Ptr(a[0]),
            });
            default_ret(rval, is_error)
        }
        "readlink" => {
            fill(1, &|| buffer(c, a[1], rval as u64));
            default_ret(rval, is_error)
        }
        "readlinkat" => {
            fill(2, &|| buffer(c, a[2], rval as u64));
            default_ret(rval, is_error)
        }
        "getcwd" => {
            fill(0, &|| path(c, a[0]));
            default_ret(rval, is_error)
        }
        "fcntl" => return Some(fcntl_exit(c, slots, rval, is_error)),
        "ioctl" => return Some(ioctl_exit(c, slots, rval, is_error)),
        _ if PLAIN.contains(&name) => default_ret(rval, is_error),
        _ => return None,
    };
    Some(ret)
}

/// An iovec array: `[{iov_base="ab", iov_len=2}, ...]`. `data` is how many bytes the call
/// transferred (readv at exit), spread over the vectors in order; `None` means the vectors
/// are input (writev), each shown up to its own length.
fn iovecs(c: &Ctx, addr: u64, count: u64, data: Option<u64>) -> Value {
    let count = count & 0xffff_ffff;
    if count == 0 {
        return Value::Array(Vec::new());
    }
    let shown = (count as usize).min(c.o.max_array);
    let mut out = Vec::with_capacity(shown + 1);
    let mut left = data;
    for i in 0..shown {
        let Some(b) = read_bytes::<16>(c, addr.wrapping_add(16 * i as u64)) else {
            if i == 0 {
                return Value::Ptr(addr);
            }
            break;
        };
        let base = util::le_u64(&b, 0);
        let len = util::le_u64(&b, 8);
        let n = match left {
            None => len,
            Some(l) => {
                let n = l.min(len);
                left = Some(l - n);
                n
            }
        };
        out.push(Value::structure(vec![
            ("iov_base", buffer(c, base, n)),
            ("iov_len", Value::UInt(len)),
        ]));
    }
    if (count as usize) > shown {
        out.push(Value::Elided);
    }
    Value::Array(out)
}

/// getdents' buffer as strace prints it by default: `0x55d0c8e7b2c0 /* 20 entries */`.
fn dirents(c: &Ctx, addr: u64, len: u64) -> Value {
    // Both layouts (getdents, getdents64) start with 8-byte d_ino and d_off, then a
    // 16-bit d_reclen, which is all counting needs.
    const CAP: usize = 1 << 20;
    let len = (len as usize).min(CAP);
    let mut buf = vec![0u8; len];
    let got = c.t.read_mem(addr, &mut buf);
    if got < len {
        return Value::Ptr(addr);
    }
    let mut n = 0u64;
    let mut off = 0usize;
    while off + 18 <= len {
        let reclen = (util::le_u32(&buf, off + 16) & 0xffff) as usize;
        if reclen == 0 {
            break;
        }
        n += 1;
        off += reclen;
    }
    let p = if addr == 0 {
        "NULL".to_string()
    } else {
        format!("{addr:#x}")
    };
    Value::Raw(format!("{p} /* {n} entries */"))
}

fn fcntl_entry(c: &Ctx) -> Slots {
    let a = c.raw;
    let cmd = a[1] & 0xffff_ffff;
    let mut v = vec![Some(fd(c, a[0])), Some(sym_x(cmd, FCNTL_CMDS, "F_???"))];
    let arg = match cmd {
        1 | 3 | 9 | 11 | 1025 | 1032 | 1034 | 1035 | 1037 => return v,
        0 | 1030 | 8 | 1031 => int32(a[2]),
        2 => flags(a[2] & 0xffff_ffff, FD_FLAGS),
        4 => t::open_flags(a[2] & 0xffff_ffff),
        6 | 7 | 37 | 38 => t::flock(c, a[2], false),
        5 | 36 | 16 => {
            v.push(None);
            return v;
        }
        10 => {
            let sig = a[2] as i32;
            if sig == 0 {
                Value::Int(0)
            } else {
                Value::Sym(signals::name(sig))
            }
        }
        15 => t::f_owner_ex(c, a[2]),
        1024 => t::lock_type(a[2] & 0xffff_ffff),
        1026 => flags_x(a[2] & 0xffff_ffff, DN_FLAGS, None, "DN_???"),
        1033 => flags_x(a[2] & 0xffff_ffff, SEALS, None, "F_SEAL_???"),
        _ => hex_c(a[2]),
    };
    v.push(Some(arg));
    v
}

fn fcntl_exit(c: &Ctx, slots: &mut [Option<Value>], rval: i64, is_error: bool) -> Ret {
    let a = c.raw;
    let cmd = a[1] & 0xffff_ffff;
    if let Some(slot @ None) = slots.get_mut(2) {
        *slot = Some(if is_error {
            Value::Ptr(a[2])
        } else if cmd == 16 {
            t::f_owner_ex(c, a[2])
        } else {
            t::flock(c, a[2], true)
        });
    }
    if is_error {
        return Ret::Error { errno: -rval };
    }
    let v = rval as u64;
    let annotated = |note: String| Ret::Annotated {
        value: Box::new(util::ret_hex(rval, false)),
        note,
    };
    match cmd {
        0 | 1030 => fd_ret(c, rval, is_error),
        1 if v != 0 => annotated(format!("flags {}", text(&flags(v, FD_FLAGS)))),
        3 => annotated(format!("flags {}", text(&t::open_flags(v)))),
        1025 => annotated(text(&t::lock_type(v))),
        1034 if v != 0 => annotated(format!("seals {}", text(&flags(v, SEALS)))),
        _ => default_ret(rval, is_error),
    }
}

fn ioctl_entry(c: &Ctx) -> Slots {
    let a = c.raw;
    let req = a[1] & 0xffff_ffff;
    let mut v = vec![Some(fd(c, a[0])), Some(t::ioctl_request(req))];
    let arg = match req {
        // No argument printed.
        0x5450 | 0x5451 | 0x5422 | 0x540c | 0x540d => return v,
        // Output arguments, decoded at exit.
        0x5401 | 0x5413 | 0x540f | 0x541b | 0x5411 | 0x5429 | 0x80086601 | 0x80045430 => {
            v.push(None);
            return v;
        }
        0x5402..=0x5404 => t::termios(c, a[2]),
        0x5414 => t::winsize(c, a[2]),
        0x5410 | 0x5421 | 0x5452 | 0x40045431 => t::int_ptr(c, a[2]),
        0x40086601 => match read_bytes::<4>(c, a[2]) {
            Some(b) => Value::Array(vec![flags(u64::from(util::le_u32(&b, 0)), t::FS_FL)]),
            None => Value::Ptr(a[2]),
        },
        0x540b => sym_x(
            a[2] & 0xffff_ffff,
            &[(0, "TCIFLUSH"), (1, "TCOFLUSH"), (2, "TCIOFLUSH")],
            "TC???",
        ),
        0x540e => int32(a[2]),
        0x40049409 => fd(c, a[2]),
        _ => hex_c(a[2]),
    };
    v.push(Some(arg));
    v
}

fn ioctl_exit(c: &Ctx, slots: &mut [Option<Value>], rval: i64, is_error: bool) -> Ret {
    let a = c.raw;
    let req = a[1] & 0xffff_ffff;
    if let Some(slot @ None) = slots.get_mut(2) {
        *slot = Some(if is_error {
            Value::Ptr(a[2])
        } else {
            match req {
                0x5401 => t::termios(c, a[2]),
                0x5413 => t::winsize(c, a[2]),
                0x80086601 => match read_bytes::<4>(c, a[2]) {
                    Some(b) => Value::Array(vec![flags(u64::from(util::le_u32(&b, 0)), t::FS_FL)]),
                    None => Value::Ptr(a[2]),
                },
                _ => t::int_ptr(c, a[2]),
            }
        });
    }
    default_ret(rval, is_error)
}
