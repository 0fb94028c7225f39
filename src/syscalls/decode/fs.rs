//! The `fs` decoder group: file and file-descriptor syscalls (open, read/write, stat,
//! fcntl, ioctl, directories, links, pipes, dup, ...), in strace 6.1's notation.
//!
//! Buffers a call fills (read's data, stat's struct, pipe's fds) are output slots: `None`
//! at entry and decoded at exit, only on success; on failure they print as their address,
//! as strace does.

use super::Ctx;
use super::fs_tables as t;
use super::fs_util::{dirfd_y, flags_x, hex_c, sym_x};
use super::util::{self, buffer, default_ret, fd, fd_ret, flags, path, read_bytes, string};
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
    "splice",
    "tee",
    "vmsplice",
    "readahead",
    "mknod",
    "mknodat",
    "sync",
];

/// Entry-stop decoding; `None` if `name` is not a file syscall.
pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = |v: Value| Some(v);
    // `[N]`: an loff_t the call reads (and may update).
    let offset_ref = |addr: u64| -> Value {
        if addr == 0 {
            return Value::Ptr(0);
        }
        match read_bytes::<8>(c, addr) {
            Some(b) => Value::Array(vec![Value::Int(i64::from_le_bytes(b))]),
            None => Value::Ptr(addr),
        }
    };
    let v = match name {
        "copy_file_range" => vec![
            s(fd(c, a[0])),
            s(offset_ref(a[1])),
            s(fd(c, a[2])),
            s(offset_ref(a[3])),
            s(uint(a[4])),
            s(Value::UInt(a[5] & 0xffff_ffff)),
        ],
        // The offset is printed at exit, as `[before] => [after]`.
        "sendfile" => vec![
            s(fd(c, a[0])),
            s(fd(c, a[1])),
            (a[2] == 0).then_some(Value::Ptr(0)),
            s(uint(a[3])),
        ],
        "utimensat" => vec![
            s(dirfd_y(c, a[0])),
            s(if a[1] == 0 {
                Value::Ptr(0)
            } else {
                path(c, a[1])
            }),
            s(if a[2] == 0 {
                Value::Ptr(0)
            } else {
                match read_bytes::<32>(c, a[2]) {
                    Some(b) => {
                        let t = |off: usize| {
                            super::time::file_time(util::le_i64(&b, off), util::le_i64(&b, off + 8))
                        };
                        Value::Array(vec![t(0), t(16)])
                    }
                    None => Value::Ptr(a[2]),
                }
            }),
            s(flags(
                a[3] & 0xffff_ffff,
                &[(0x100, "AT_SYMLINK_NOFOLLOW"), (0x1000, "AT_EMPTY_PATH")],
            )),
        ],
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
        "openat2" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(t::open_how(c, a[2], a[3])),
            s(uint(a[3])),
        ],
        "utime" => vec![s(path(c, a[0])), s(t::utimbuf(c, a[1]))],
        "utimes" => vec![s(path(c, a[0])), s(t::timevals(c, a[1]))],
        "futimesat" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(t::timevals(c, a[2])),
        ],
        // The remote process's buffers are addresses there: never read.
        "process_vm_readv" => vec![
            s(crate::syscalls::decode::proc::pid_arg(c, a[0])),
            None,
            s(uint(a[2])),
            s(iovecs(c, a[3], a[4], Iov::Failed)),
            s(uint(a[4])),
            s(uint(a[5])),
        ],
        "process_vm_writev" => vec![
            s(crate::syscalls::decode::proc::pid_arg(c, a[0])),
            s(iovecs(c, a[1], a[2], Iov::Written)),
            s(uint(a[2])),
            s(iovecs(c, a[3], a[4], Iov::Failed)),
            s(uint(a[4])),
            s(uint(a[5])),
        ],
        "splice" => vec![
            s(fd(c, a[0])),
            s(offset_ref(a[1])),
            s(fd(c, a[2])),
            s(offset_ref(a[3])),
            s(uint(a[4])),
            s(flags_x(
                a[5] & 0xffff_ffff,
                t::SPLICE_FLAGS,
                None,
                "SPLICE_F_???",
            )),
        ],
        "tee" => vec![
            s(fd(c, a[0])),
            s(fd(c, a[1])),
            s(uint(a[2])),
            s(flags_x(
                a[3] & 0xffff_ffff,
                t::SPLICE_FLAGS,
                None,
                "SPLICE_F_???",
            )),
        ],
        "vmsplice" => vec![
            s(fd(c, a[0])),
            s(iovecs(c, a[1], a[2], Iov::Written)),
            s(uint(a[2])),
            s(flags_x(
                a[3] & 0xffff_ffff,
                t::SPLICE_FLAGS,
                None,
                "SPLICE_F_???",
            )),
        ],
        "readahead" => vec![s(fd(c, a[0])), s(int(a[1])), s(uint(a[2]))],
        // The device only for the kinds that have one, as strace prints it.
        "mknod" | "mknodat" => {
            let at = usize::from(name == "mknodat");
            let mut v = Vec::with_capacity(4);
            if at == 1 {
                v.push(s(dirfd_y(c, a[0])));
            }
            let mode = a[at + 1] & 0xffff_ffff;
            v.push(s(path(c, a[at])));
            v.push(s(t::st_mode(mode)));
            if matches!(mode & 0o170000, 0o020000 | 0o060000) {
                v.push(s(t::dev_arg(a[at + 2])));
            }
            v
        }
        "writev" => vec![
            s(fd(c, a[0])),
            s(iovecs(c, a[1], a[2], Iov::Written)),
            s(int32(a[2])),
        ],
        "preadv" => vec![s(fd(c, a[0])), None, s(int32(a[2])), s(int(a[3]))],
        "pwritev" => vec![
            s(fd(c, a[0])),
            s(iovecs(c, a[1], a[2], Iov::Written)),
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
            s(iovecs(c, a[1], a[2], Iov::Written)),
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
        "dup2" => vec![s(fd(c, a[0])), s(fd(c, a[1]))],
        "dup3" => vec![
            s(fd(c, a[0])),
            s(fd(c, a[1])),
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
        "copy_file_range" | "utimensat" => default_ret(rval, is_error),
        // strace's `[5] => [105]`: the kernel moved the offset by what it sent, so the
        // offset given is the one after less the return value.
        "sendfile" => {
            if let Some(slot) = slots.get_mut(2)
                && slot.is_none()
            {
                *slot = Some(match read_bytes::<8>(c, a[2]).map(i64::from_le_bytes) {
                    Some(after) if ok && rval > 0 => {
                        Value::Raw(format!("[{}] => [{after}]", after - rval))
                    }
                    Some(off) => Value::Array(vec![Value::Int(off)]),
                    None => Value::Ptr(a[2]),
                });
            }
            default_ret(rval, is_error)
        }
        "open" | "openat" | "openat2" | "creat" | "dup" | "dup2" | "dup3" | "memfd_create" => {
            fd_ret(c, rval, is_error)
        }
        "utime" | "utimes" | "futimesat" | "process_vm_writev" => default_ret(rval, is_error),
        "read" | "pread64" => {
            fill(1, &|| buffer(c, a[1], rval as u64));
            default_ret(rval, is_error)
        }
        "readv" | "preadv" | "preadv2" | "process_vm_readv" => {
            // strace shows the vectors even when the call failed, with bare addresses.
            if let Some(slot @ None) = slots.get_mut(1) {
                let data = if is_error {
                    Iov::Failed
                } else {
                    Iov::Read(rval as u64)
                };
                *slot = Some(iovecs(c, a[1], a[2], data));
            }
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

/// What an iovec array's buffers hold when it is printed.
#[derive(Clone, Copy)]
pub(super) enum Iov {
    /// Input (writev): each buffer up to its own length.
    Written,
    /// readv's result: this many bytes, spread over the buffers in order.
    Read(u64),
    /// The call failed: the buffers print as addresses.
    Failed,
}

/// An iovec array: `[{iov_base="ab", iov_len=2}, ...]`.
pub(super) fn iovecs(c: &Ctx, addr: u64, count: u64, data: Iov) -> Value {
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
        let shown_base = match left {
            Iov::Written => buffer(c, base, len),
            Iov::Read(l) => {
                let n = l.min(len);
                left = Iov::Read(l - n);
                buffer(c, base, n)
            }
            Iov::Failed => Value::Ptr(base),
        };
        out.push(Value::structure(vec![
            ("iov_base", shown_base),
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
        value: Box::new(super::fs_util::ret_hex(rval, false)),
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
    if (req >> 8) & 0xff == 0xae
        && let Some(arg) = super::kvm::entry(c, req)
    {
        v.push(match arg {
            super::kvm::Arg::Now(v) => Some(v),
            super::kvm::Arg::AtExit => None,
        });
        return v;
    }
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
        0x40086602 => match read_bytes::<4>(c, a[2]) {
            Some(b) => fs_flags(c, &b),
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

/// FS_IOC_GETFLAGS's and SETFLAGS's `[FS_EXTENT_FL]`, styled by `-X` as strace styles it.
fn fs_flags(c: &Ctx, b: &[u8; 4]) -> Value {
    let v = u64::from(util::le_u32(b, 0));
    Value::Array(vec![util::styled(c, flags(v, t::FS_FL), util::hex0(v))])
}

fn ioctl_exit(c: &Ctx, slots: &mut [Option<Value>], rval: i64, is_error: bool) -> Ret {
    let a = c.raw;
    let req = a[1] & 0xffff_ffff;
    if let Some(slot @ None) = slots.get_mut(2) {
        *slot = Some(if (req >> 8) & 0xff == 0xae {
            super::kvm::exit_arg(c, req, is_error)
        } else if is_error {
            Value::Ptr(a[2])
        } else {
            match req {
                0x5401 => t::termios(c, a[2]),
                0x5413 => t::winsize(c, a[2]),
                0x80086601 => match read_bytes::<4>(c, a[2]) {
                    Some(b) => fs_flags(c, &b),
                    None => Value::Ptr(a[2]),
                },
                _ => t::int_ptr(c, a[2]),
            }
        });
    }
    if req == super::kvm::KVM_RUN
        && c.o.kvm_vcpu
        && !is_error
        && rval == 0
        && let Some(reason) = super::kvm::exit_reason(c)
    {
        return Ret::Annotated {
            value: Box::new(default_ret(rval, is_error)),
            note: reason,
        };
    }
    default_ret(rval, is_error)
}

#[cfg(test)]
mod tests {
    //! Expected texts are strace 6.1's, captured by running it on small C programs.
    use super::super::util::fake::{FakeTracee, arb_case, case_tracee, decode_nr, line_with};
    use super::super::util::render;
    use super::*;
    use crate::syscalls::DecodeOpts;
    use proptest::prelude::*;

    fn cstr(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }

    const P: u64 = 0x10000;
    const Q: u64 = 0x20000;

    #[test]
    fn open_family() {
        let t = FakeTracee::default().with(P, &cstr("/dev/shm/PostgreSQL.62223175"));
        let o = DecodeOpts::default();
        assert_eq!(
            line_with(
                &t,
                &o,
                "openat",
                [
                    (-100i64) as u64,
                    P,
                    2 | 0o300 | 0x20000 | 0x80000,
                    0o600,
                    0,
                    0
                ],
                3
            ),
            "openat(AT_FDCWD, \"/dev/shm/PostgreSQL.62223175\", \
             O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600) = 3"
        );
        assert_eq!(
            line_with(&t, &o, "openat", [(-100i64) as u64, P, 0, 0o644, 0, 0], -2),
            "openat(AT_FDCWD, \"/dev/shm/PostgreSQL.62223175\", O_RDONLY) = -1 errno 2"
        );
        assert_eq!(
            line_with(
                &t,
                &o,
                "open",
                [
                    P,
                    0x10000001 | 0o2000 | 0x101000 | 0x4000 | 0x40000 | 0x200000 | 0o400,
                    0,
                    0,
                    0,
                    0
                ],
                8
            ),
            "open(\"/dev/shm/PostgreSQL.62223175\", O_WRONLY|O_NOCTTY|O_APPEND|O_SYNC|O_DIRECT|O_NOATIME|O_PATH|0x10000000) = 8"
        );
        assert_eq!(
            render(&super::t::open_flags(0x410000 | 2)),
            "O_RDWR|O_TMPFILE"
        );
        assert!(super::t::open_has_mode(0x400000));
        assert_eq!(
            line_with(&t, &o, "openat", [(-100i64) as u64, P, 0o102, 0, 0, 0], 4),
            "openat(AT_FDCWD, \"/dev/shm/PostgreSQL.62223175\", O_RDWR|O_CREAT, 000) = 4"
        );
        // Values, not just text: the mode is an octal value.
        let e = entry(
            "creat",
            &Ctx {
                raw: [P, 0o640, 0, 0, 0, 0],
                t: &t,
                o: &o,
            },
        );
        assert_eq!(
            e.and_then(|v| v.get(1).cloned().flatten()),
            Some(Value::Oct(0o640))
        );
    }

    #[test]
    fn openat2_utimes_and_process_vm() {
        let le = |v: &[u64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let mut big = le(&[0o100 | 1, 0o644, 0]);
        big.extend(le(&[7]));
        let t = FakeTracee::default()
            .with(P, &cstr("f"))
            .with(Q, &big)
            .with(Q + 0x100, &le(&[0x80000, 0, 0x0c]))
            .with(Q + 0x200, &le(&[1000, 5, 2000, 0]))
            .with(Q + 0x300, &le(&[Q + 0x400, 8]))
            .with(Q + 0x400, b"payload\0");
        let o = DecodeOpts::default();
        let at = (-100i64) as u64;
        assert_eq!(
            line_with(&t, &o, "openat2", [at, P, Q, 24, 0, 0], 3),
            "openat2(AT_FDCWD, \"f\", {flags=O_WRONLY|O_CREAT, mode=0644, resolve=0}, 24) = 3"
        );
        assert_eq!(
            line_with(&t, &o, "openat2", [at, P, Q, 32, 0, 0], -7),
            "openat2(AT_FDCWD, \"f\", {flags=O_WRONLY|O_CREAT, mode=0644, resolve=0, \
             /* bytes 24..31 */ \"\\x07\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"}, 32) = -1 errno 7"
        );
        assert_eq!(
            line_with(&t, &o, "openat2", [at, P, Q + 0x100, 24, 0, 0], 4),
            "openat2(AT_FDCWD, \"f\", {flags=O_RDONLY|O_CLOEXEC, \
             resolve=RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH}, 24) = 4"
        );
        assert_eq!(
            line_with(&t, &o, "openat2", [at, P, Q, 8, 0, 0], -22),
            format!("openat2(AT_FDCWD, \"f\", {Q:#x}, 8) = -1 errno 22")
        );
        let utimes = line_with(&t, &o, "utimes", [P, Q + 0x200, 0, 0, 0, 0], 0);
        assert!(
            utimes.starts_with("utimes(\"f\", [{tv_sec=1000, tv_usec=5} /* 1970-01-01T")
                && utimes.contains(".000005")
                && utimes.contains("{tv_sec=2000, tv_usec=0} /* 1970"),
            "{utimes}"
        );
        // The other process's buffers are never read: addresses.
        assert_eq!(
            line_with(
                &t,
                &o,
                "process_vm_readv",
                [42, Q + 0x300, 1, Q + 0x300, 1, 0],
                8
            ),
            format!(
                "process_vm_readv(42, [{{iov_base=\"payload\\0\", iov_len=8}}], 1, \
                 [{{iov_base={:#x}, iov_len=8}}], 1, 0) = 8",
                Q + 0x400
            )
        );
    }

    #[test]
    fn fds_under_y() {
        let t = FakeTracee::default()
            .with_fd(3, "/dev/shm/PostgreSQL.1")
            .with_fd(-100, "/tmp")
            .with(P, &cstr("x"));
        let o = DecodeOpts {
            decode_fds: true,
            ..DecodeOpts::default()
        };
        assert_eq!(
            line_with(&t, &o, "ftruncate", [3, 50438144, 0, 0, 0, 0], 0),
            "ftruncate(3</dev/shm/PostgreSQL.1>, 50438144) = 0"
        );
        assert_eq!(
            line_with(&t, &o, "openat", [(-100i64) as u64, P, 0, 0, 0, 0], 3),
            "openat(AT_FDCWD</tmp>, \"x\", O_RDONLY) = 3</dev/shm/PostgreSQL.1>"
        );
        assert_eq!(
            line_with(&t, &o, "fallocate", [3, 0, 0, 50438144, 0, 0], -28),
            "fallocate(3</dev/shm/PostgreSQL.1>, 0, 0, 50438144) = -1 errno 28"
        );
    }

    #[test]
    fn read_write_buffers() {
        let data = b"hello\nworld\t\"\\\x01\x7f\xff end of a long string here more";
        let t = FakeTracee::default().with(P, data);
        let o = DecodeOpts::default();
        assert_eq!(
            line_with(&t, &o, "write", [3, P, 50, 0, 0, 0], 50),
            "write(3, \"hello\\nworld\\t\\\"\\\\\\1\\177\\377 end of a long \"..., 50) = 50"
        );
        assert_eq!(
            line_with(&t, &o, "read", [4, P, 100, 0, 0, 0], 3),
            "read(4, \"hel\", 100) = 3"
        );
        assert_eq!(
            line_with(&t, &o, "read", [(-1i64) as u64, P, 100, 0, 0, 0], -9),
            "read(-1, 0x10000, 100) = -1 errno 9"
        );
        assert_eq!(
            line_with(&t, &o, "pread64", [4, P, 10, 2, 0, 0], 0),
            "pread64(4, \"\", 10, 2) = 0"
        );
        let o5 = DecodeOpts {
            string_limit: 5,
            ..DecodeOpts::default()
        };
        assert_eq!(
            line_with(&t, &o5, "pwrite64", [3, P, 6, 100, 0, 0], 6),
            "pwrite64(3, \"hello\"..., 6, 100) = 6"
        );
        // The read buffer is an output slot: nothing printable at entry.
        let e = entry(
            "read",
            &Ctx {
                raw: [4, P, 3, 0, 0, 0],
                t: &t,
                o: &o,
            },
        );
        assert_eq!(e.map(|v| v.get(1).cloned().flatten()), Some(None));
    }

    #[test]
    fn iovecs_in_and_out() {
        let mut iov = Vec::new();
        for (base, len) in [(Q, 4u64), (Q + 4, 4), (Q + 8, 4)] {
            iov.extend_from_slice(&base.to_le_bytes());
            iov.extend_from_slice(&len.to_le_bytes());
        }
        let t = FakeTracee::default().with(P, &iov).with(Q, b"0123456789ab");
        let o = DecodeOpts::default();
        assert_eq!(
            line_with(&t, &o, "readv", [8, P, 3, 0, 0, 0], 5),
            "readv(8, [{iov_base=\"0123\", iov_len=4}, {iov_base=\"4\", iov_len=4}, \
             {iov_base=\"\", iov_len=4}], 3) = 5"
        );
        assert_eq!(
            line_with(&t, &o, "readv", [8, P, 2, 0, 0, 0], -9),
            "readv(8, [{iov_base=0x20000, iov_len=4}, {iov_base=0x20004, iov_len=4}], 2) = -1 errno 9"
        );
        assert_eq!(
            line_with(&t, &o, "writev", [8, P, 1, 0, 0, 0], 4),
            "writev(8, [{iov_base=\"0123\", iov_len=4}], 1) = 4"
        );
        assert_eq!(
            line_with(&t, &o, "writev", [8, P, 0, 0, 0, 0], 0),
            "writev(8, [], 0) = 0"
        );
        assert_eq!(
            line_with(&t, &o, "writev", [8, 8, 2, 0, 0, 0], -14),
            "writev(8, 0x8, 2) = -1 errno 14"
        );
    }

    #[test]
    fn stat_family() {
        let mut st = [0u8; 144];
        st[24..28].copy_from_slice(&0o100644u32.to_le_bytes());
        st[48..56].copy_from_slice(&27484i64.to_le_bytes());
        let mut dev = [0u8; 144];
        dev[24..28].copy_from_slice(&0o20666u32.to_le_bytes());
        dev[40..48].copy_from_slice(&0x103u64.to_le_bytes());
        let mut dir = [0u8; 144];
        dir[24..28].copy_from_slice(&0o41777u32.to_le_bytes());
        dir[48..56].copy_from_slice(&4096i64.to_le_bytes());
        let t = FakeTracee::default()
            .with(P, &[0])
            .with(Q, &st)
            .with(0x30000, &dev)
            .with(0x40000, &dir);
        let o = DecodeOpts::default();
        assert_eq!(
            line_with(&t, &o, "newfstatat", [5, P, Q, 0x1000, 0, 0], 0),
            "newfstatat(5, \"\", {st_mode=S_IFREG|0644, st_size=27484, ...}, AT_EMPTY_PATH) = 0"
        );
        assert_eq!(
            line_with(&t, &o, "fstat", [5, 0x30000, 0, 0, 0, 0], 0),
            "fstat(5, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0"
        );
        assert_eq!(
            line_with(&t, &o, "fstat", [5, 0x40000, 0, 0, 0, 0], 0),
            "fstat(5, {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}) = 0"
        );
        assert_eq!(
            line_with(&t, &o, "newfstatat", [5, P, Q, 0x10000, 0, 0], -22),
            "newfstatat(5, \"\", 0x20000, 0x10000 /* AT_??? */) = -1 errno 22"
        );
        let mut sx = [0u8; 256];
        sx[0..4].copy_from_slice(&0x1fffu32.to_le_bytes());
        sx[28..30].copy_from_slice(&0o100644u16.to_le_bytes());
        sx[40..48].copy_from_slice(&100000u64.to_le_bytes());
        let t = t.with(0x50000, &sx);
        assert_eq!(
            line_with(
                &t,
                &o,
                "statx",
                [(-100i64) as u64, P, 0x1000, 0xfff, 0x50000, 0],
                0
            ),
            "statx(AT_FDCWD, \"\", AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH, STATX_ALL, \
             {stx_mask=STATX_ALL|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0644, \
             stx_size=100000, ...}) = 0"
        );
        assert_eq!(render(&super::t::statx_mask(0x7ff)), "STATX_BASIC_STATS");
        assert_eq!(
            render(&super::t::statx_flags(0x6000)),
            "AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC"
        );
    }

    #[test]
    fn statfs_full() {
        let mut b = [0u8; 120];
        let put = |b: &mut [u8; 120], off: usize, v: u64| {
            b[off..off + 8].copy_from_slice(&v.to_le_bytes())
        };
        put(&mut b, 0, 0x9fa0);
        put(&mut b, 8, 4096);
        b[56..60].copy_from_slice(&0x15u32.to_le_bytes());
        put(&mut b, 64, 255);
        put(&mut b, 72, 4096);
        put(&mut b, 80, 0x1020);
        let t = FakeTracee::default().with(Q, &b);
        let o = DecodeOpts::default();
        assert_eq!(
            line_with(&t, &o, "fstatfs", [3, Q, 0, 0, 0, 0], 0),
            "fstatfs(3, {f_type=PROC_SUPER_MAGIC, f_bsize=4096, f_blocks=0, f_bfree=0, \
             f_bavail=0, f_files=0, f_ffree=0, f_fsid={val=[0x15, 0]}, f_namelen=255, \
             f_frsize=4096, f_flags=ST_VALID|ST_RELATIME}) = 0"
        );
    }

    #[test]
    fn fcntl_forms() {
        let mut fl = [0u8; 32];
        fl[0..2].copy_from_slice(&1u16.to_le_bytes());
        fl[16..24].copy_from_slice(&100i64.to_le_bytes());
        let t = FakeTracee::default().with(Q, &fl);
        let o = DecodeOpts::default();
        let l = |raw: [u64; 6], r| line_with(&t, &o, "fcntl", raw, r);
        assert_eq!(
            l([3, 3, 0, 0, 0, 0], 0x8802),
            "fcntl(3, F_GETFL) = 0x8802 (flags O_RDWR|O_NONBLOCK|O_LARGEFILE)"
        );
        assert_eq!(
            l([3, 3, 0, 0, 0, 0], 0),
            "fcntl(3, F_GETFL) = 0 (flags O_RDONLY)"
        );
        assert_eq!(
            l([3, 1, 0, 0, 0, 0], 1),
            "fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)"
        );
        assert_eq!(l([3, 1, 0, 0, 0, 0], 0), "fcntl(3, F_GETFD) = 0");
        assert_eq!(
            l([3, 2, 3, 0, 0, 0], 0),
            "fcntl(3, F_SETFD, FD_CLOEXEC|0x2) = 0"
        );
        assert_eq!(
            l([3, 4, 0o4000, 0, 0, 0], 0),
            "fcntl(3, F_SETFL, O_RDONLY|O_NONBLOCK) = 0"
        );
        assert_eq!(
            l([3, 1030, 40, 0, 0, 0], 40),
            "fcntl(3, F_DUPFD_CLOEXEC, 40) = 40"
        );
        assert_eq!(
            l([3, 6, Q, 0, 0, 0], 0),
            "fcntl(3, F_SETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=100}) = 0"
        );
        assert_eq!(
            l([3, 5, Q, 0, 0, 0], 0),
            "fcntl(3, F_GETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=100, l_pid=0}) = 0"
        );
        assert_eq!(
            l([3, 5, Q, 0, 0, 0], -22),
            "fcntl(3, F_GETLK, 0x20000) = -1 errno 22"
        );
        assert_eq!(
            l([3, 1234, 0, 0, 0, 0], -22),
            "fcntl(3, 0x4d2 /* F_??? */, 0) = -1 errno 22"
        );
        assert_eq!(
            l([3, 1025, 0, 0, 0, 0], 2),
            "fcntl(3, F_GETLEASE) = 0x2 (F_UNLCK)"
        );
        assert_eq!(
            l([11, 1034, 0, 0, 0, 0], 6),
            "fcntl(11, F_GET_SEALS) = 0x6 (seals F_SEAL_SHRINK|F_SEAL_GROW)"
        );
    }

    #[test]
    fn small_calls() {
        let t = FakeTracee::default()
            .with(P, &cstr("f1"))
            .with(Q, &[3, 0, 0, 0, 4, 0, 0, 0])
            .with(0x30000, &cstr("/tmp/dfs/c"));
        let o = DecodeOpts::default();
        let l = |name: &str, raw: [u64; 6], r| line_with(&t, &o, name, raw, r);
        assert_eq!(
            l("lseek", [3, (-5i64) as u64, 2, 0, 0, 0], 98),
            "lseek(3, -5, SEEK_END) = 98"
        );
        assert_eq!(
            l("lseek", [3, 0, 7, 0, 0, 0], -22),
            "lseek(3, 0, 0x7 /* SEEK_??? */) = -1 errno 22"
        );
        assert_eq!(
            l("fallocate", [3, 3, 0, 4096, 0, 0], 0),
            "fallocate(3, FALLOC_FL_KEEP_SIZE|FALLOC_FL_PUNCH_HOLE, 0, 4096) = 0"
        );
        assert_eq!(
            l("fallocate", [3, 0x100, 0, 10, 0, 0], -95),
            "fallocate(3, 0x100 /* FALLOC_FL_??? */, 0, 10) = -1 errno 95"
        );
        assert_eq!(
            l("sync_file_range", [3, 0, 8192, 2, 0, 0], 0),
            "sync_file_range(3, 0, 8192, SYNC_FILE_RANGE_WRITE) = 0"
        );
        assert_eq!(
            l("pipe2", [Q, 0x80800, 0, 0, 0, 0], 0),
            "pipe2([3, 4], O_NONBLOCK|O_CLOEXEC) = 0"
        );
        assert_eq!(l("pipe", [Q, 0, 0, 0, 0, 0], 0), "pipe([3, 4]) = 0");
        assert_eq!(
            l("dup3", [3, 31, 1, 0, 0, 0], -22),
            "dup3(3, 31, 0x1 /* O_??? */) = -1 errno 22"
        );
        assert_eq!(
            l("access", [P, 0x14, 0, 0, 0, 0], -22),
            "access(\"f1\", R_OK|0x10) = -1 errno 22"
        );
        assert_eq!(
            l("access", [P, 0, 0, 0, 0, 0], 0),
            "access(\"f1\", F_OK) = 0"
        );
        assert_eq!(
            l("faccessat", [(-100i64) as u64, P, 8, 0, 0, 0], -22),
            "faccessat(AT_FDCWD, \"f1\", 0x8 /* ?_OK */) = -1 errno 22"
        );
        assert_eq!(
            l("unlinkat", [5, P, 0x200, 0, 0, 0], 0),
            "unlinkat(5, \"f1\", AT_REMOVEDIR) = 0"
        );
        assert_eq!(
            l("getcwd", [0x30000, 200, 0, 0, 0, 0], 11),
            "getcwd(\"/tmp/dfs/c\", 200) = 11"
        );
        assert_eq!(
            l("readlink", [P, 0x30000, 100, 0, 0, 0], 4),
            "readlink(\"f1\", \"/tmp\", 100) = 4"
        );
        assert_eq!(
            l("mkdir", [P, 0xfffff, 0, 0, 0, 0], 0),
            "mkdir(\"f1\", 0177777) = 0"
        );
        assert_eq!(
            l("fchmodat", [(-100i64) as u64, P, 0o644, 0, 0, 0], 0),
            "fchmodat(AT_FDCWD, \"f1\", 0644) = 0"
        );
        assert_eq!(
            l("flock", [3, 6, 0, 0, 0, 0], 0),
            "flock(3, LOCK_EX|LOCK_NB) = 0"
        );
        assert_eq!(
            l("flock", [3, 0, 0, 0, 0, 0], -22),
            "flock(3, 0) = -1 errno 22"
        );
        assert_eq!(
            l("renameat2", [(-100i64) as u64, P, 5, P, 3, 0], -22),
            "renameat2(AT_FDCWD, \"f1\", 5, \"f1\", RENAME_NOREPLACE|RENAME_EXCHANGE) = -1 errno 22"
        );
        assert_eq!(
            l("memfd_create", [P, 0x14 | (21 << 26), 0, 0, 0, 0], 13),
            "memfd_create(\"f1\", MFD_HUGETLB|0x10|21<<MFD_HUGE_SHIFT) = 13"
        );
        assert_eq!(
            l("memfd_create", [P, 0x100, 0, 0, 0, 0], -22),
            "memfd_create(\"f1\", 0x100 /* MFD_??? */) = -1 errno 22"
        );
        assert_eq!(
            l("close_range", [100, u64::from(u32::MAX), 0, 0, 0, 0], 0),
            "close_range(100, 4294967295, 0) = 0"
        );
        assert_eq!(
            l("getdents64", [9, 0x70000, 32768, 0, 0, 0], -9),
            "getdents64(9, 0x70000, 32768) = -1 errno 9"
        );
        assert_eq!(
            l("fadvise64", [3, 0, 8192, 3, 0, 0], 0),
            "fadvise64(3, 0, 8192, POSIX_FADV_WILLNEED) = 0"
        );
    }

    #[test]
    fn getdents_counts_entries() {
        let mut buf = Vec::new();
        for name in [".", "..", "f1"] {
            let mut rec = vec![0u8; 24];
            rec[16..18].copy_from_slice(&24u16.to_le_bytes());
            rec[19..19 + name.len()].copy_from_slice(name.as_bytes());
            buf.extend(rec);
        }
        let t = FakeTracee::default().with(Q, &buf);
        let o = DecodeOpts::default();
        assert_eq!(
            line_with(&t, &o, "getdents64", [3, Q, 32768, 0, 0, 0], 72),
            "getdents64(3, 0x20000 /* 3 entries */, 32768) = 72"
        );
        assert_eq!(
            line_with(&t, &o, "getdents64", [3, Q, 32768, 0, 0, 0], 0),
            "getdents64(3, 0x20000 /* 0 entries */, 32768) = 0"
        );
    }

    #[test]
    fn ioctls() {
        let mut tio = [0u8; 36];
        tio[0..4].copy_from_slice(&0x500u32.to_le_bytes());
        tio[4..8].copy_from_slice(&0x5u32.to_le_bytes());
        tio[8..12].copy_from_slice(&0xbfu32.to_le_bytes());
        tio[12..16].copy_from_slice(&0x8a3bu32.to_le_bytes());
        let t = FakeTracee::default()
            .with(Q, &tio)
            .with(P, &7i32.to_le_bytes());
        let o = DecodeOpts::default();
        let l = |raw: [u64; 6], r| line_with(&t, &o, "ioctl", raw, r);
        assert_eq!(
            l([0, 0x5401, Q, 0, 0, 0], 0),
            "ioctl(0, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, \
             c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0"
        );
        assert_eq!(
            l([3, 0x5401, Q, 0, 0, 0], -25),
            "ioctl(3, TCGETS, 0x20000) = -1 errno 25"
        );
        assert_eq!(l([3, 0x541b, P, 0, 0, 0], 0), "ioctl(3, FIONREAD, [7]) = 0");
        assert_eq!(l([3, 0x5451, 0, 0, 0, 0], 0), "ioctl(3, FIOCLEX) = 0");
        assert_eq!(
            l([3, 0x12345678, 0x1000, 0, 0, 0], -25),
            "ioctl(3, _IOC(_IOC_NONE, 0x56, 0x78, 0x1234), 0x1000) = -1 errno 25"
        );
        assert_eq!(
            l([3, 0xc0045678, 0, 0, 0, 0], -25),
            "ioctl(3, _IOC(_IOC_READ|_IOC_WRITE, 0x56, 0x78, 0x4), 0) = -1 errno 25"
        );
        let zero = FakeTracee::default().with(Q, &[0u8; 36]);
        assert_eq!(
            line_with(&zero, &o, "ioctl", [0, 0x5402, Q, 0, 0, 0], 0),
            "ioctl(0, SNDCTL_TMR_START or TCSETS, {c_iflag=, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|, \
             c_cflag=B0|CS5|, c_lflag=, ...}) = 0"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Every syscall number on each random tracee, the errno taken from `rval`.
        #[test]
        fn never_panics((regions, raw) in arb_case(), rval in prop_oneof![any::<i64>(), -4095i64..4096], y in any::<bool>(), s in 0usize..64) {
            let t = case_tracee(&regions);
            let o = DecodeOpts { string_limit: s, decode_fds: y, fd_sockets: false, fd_devs: false, max_array: s, ..DecodeOpts::default() };
            for nr in 0..470u64 {
                decode_nr(&t, &o, nr, &raw, rval, (-4095..0).contains(&rval));
            }
        }
    }
}
