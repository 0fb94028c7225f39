//! Flag tables and structure decoders used by the `fs` group: open flags, `AT_*`, `statx`,
//! `struct stat`/`statx`/`statfs`/`flock`, termios, ioctl request names, openat2's
//! `open_how`, utime's and utimes' times.
//!
//! Table order is strace 6.1's printing order (observed by running it), which is not always
//! bit order: a multi-bit name (`O_SYNC`, `O_TMPFILE`) must come before its parts.

use super::Ctx;
use super::fs_util::{flags_x, hex_c, sym_x};
use super::util::{self, flags, le_i64, le_u32, le_u64, read_bytes};
use crate::syscalls::Value;
use std::borrow::Cow;

pub const OPEN_FLAGS: &[(u64, &str)] = &[
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0x101000, "O_SYNC"),
    (0x1000, "O_DSYNC"),
    (0x4000, "O_DIRECT"),
    (0x8000, "O_LARGEFILE"),
    (0x20000, "O_NOFOLLOW"),
    (0x40000, "O_NOATIME"),
    (0x80000, "O_CLOEXEC"),
    (0x200000, "O_PATH"),
    (0x410000, "O_TMPFILE"),
    (0x10000, "O_DIRECTORY"),
    (0x2000, "FASYNC"),
    (0x100000, "__O_SYNC"),
    (0x400000, "__O_TMPFILE"),
];

/// `O_RDWR|O_CREAT|...`: the access mode is always printed, `O_RDONLY` included.
pub fn open_flags(v: u64) -> Value {
    let acc = match v & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    };
    let mut names = vec![Cow::Borrowed(acc)];
    if let Value::Flags(rest) = flags(v & !3, OPEN_FLAGS) {
        names.extend(rest);
    }
    Value::Flags(names)
}

/// Whether open's mode argument is printed: with `O_CREAT` or `__O_TMPFILE`.
pub fn open_has_mode(flags: u64) -> bool {
    flags & (0o100 | 0x400000) != 0
}

/// A mode argument: octal, as strace's `%#03o` (`0644`, `000`). `mode_t` is 16 bits wide.
pub fn mode_arg(v: u64) -> Value {
    Value::Oct(v & 0o177777)
}

/// `AT_*` flags of newfstatat, unlinkat, fchownat, linkat, ...: bit order.
pub const AT_FLAGS: &[(u64, &str)] = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_REMOVEDIR"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x8000, "AT_RECURSIVE"),
];

/// faccessat2's flags: 0x200 is `AT_EACCESS` there.
pub const ACCESS_AT_FLAGS: &[(u64, &str)] = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_EACCESS"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x8000, "AT_RECURSIVE"),
];

pub fn at_flags(v: u64) -> Value {
    flags_x(v & 0xffff_ffff, AT_FLAGS, None, "AT_???")
}

pub const ACCESS_MODES: &[(u64, &str)] = &[(4, "R_OK"), (2, "W_OK"), (1, "X_OK")];

pub fn access_mode(v: u64) -> Value {
    flags_x(v & 0xffff_ffff, ACCESS_MODES, Some("F_OK"), "?_OK")
}

/// statx's flags: the sync type always comes first (`AT_STATX_SYNC_AS_STAT` for 0), then
/// the `AT_*` bits.
pub fn statx_flags(v: u64) -> Value {
    let v = v & 0xffff_ffff;
    let mut names: Vec<Cow<'static, str>> = Vec::new();
    match v & 0x6000 {
        0 => names.push("AT_STATX_SYNC_AS_STAT".into()),
        0x2000 => names.push("AT_STATX_FORCE_SYNC".into()),
        0x4000 => names.push("AT_STATX_DONT_SYNC".into()),
        _ => {
            names.push("AT_STATX_FORCE_SYNC".into());
            names.push("AT_STATX_DONT_SYNC".into());
        }
    }
    if let Value::Flags(rest) = flags(v & !0x6000, AT_FLAGS) {
        names.extend(rest);
    }
    Value::Flags(names)
}

pub const STATX_MASK: &[(u64, &str)] = &[
    (0xfff, "STATX_ALL"),
    (0x7ff, "STATX_BASIC_STATS"),
    (0x1, "STATX_TYPE"),
    (0x2, "STATX_MODE"),
    (0x4, "STATX_NLINK"),
    (0x8, "STATX_UID"),
    (0x10, "STATX_GID"),
    (0x20, "STATX_ATIME"),
    (0x40, "STATX_MTIME"),
    (0x80, "STATX_CTIME"),
    (0x100, "STATX_INO"),
    (0x200, "STATX_SIZE"),
    (0x400, "STATX_BLOCKS"),
    (0x800, "STATX_BTIME"),
    (0x1000, "STATX_MNT_ID"),
    (0x2000, "STATX_DIOALIGN"),
];

pub fn statx_mask(v: u64) -> Value {
    flags_x(v & 0xffff_ffff, STATX_MASK, None, "STATX_???")
}

const STATX_ATTRS: &[(u64, &str)] = &[
    (0x4, "STATX_ATTR_COMPRESSED"),
    (0x10, "STATX_ATTR_IMMUTABLE"),
    (0x20, "STATX_ATTR_APPEND"),
    (0x40, "STATX_ATTR_NODUMP"),
    (0x800, "STATX_ATTR_ENCRYPTED"),
    (0x1000, "STATX_ATTR_AUTOMOUNT"),
    (0x2000, "STATX_ATTR_MOUNT_ROOT"),
    (0x100000, "STATX_ATTR_VERITY"),
    (0x200000, "STATX_ATTR_DAX"),
];

/// A file mode as in `st_mode`: `S_IFREG|S_ISUID|0755`.
pub fn st_mode(m: u64) -> Value {
    let mut names: Vec<Cow<'static, str>> = Vec::new();
    let kind = match m & 0o170000 {
        0o140000 => Some("S_IFSOCK"),
        0o120000 => Some("S_IFLNK"),
        0o100000 => Some("S_IFREG"),
        0o060000 => Some("S_IFBLK"),
        0o040000 => Some("S_IFDIR"),
        0o020000 => Some("S_IFCHR"),
        0o010000 => Some("S_IFIFO"),
        _ => None,
    };
    let mut rest = m;
    if let Some(k) = kind {
        names.push(k.into());
        rest &= !0o170000;
    }
    for (bit, name) in [
        (0o4000, "S_ISUID"),
        (0o2000, "S_ISGID"),
        (0o1000, "S_ISVTX"),
    ] {
        if rest & bit != 0 {
            names.push(name.into());
            rest &= !bit;
        }
    }
    names.push(Cow::Owned(format!("0{rest:02o}")));
    Value::Flags(names)
}

/// splice's, tee's and vmsplice's flags.
pub const SPLICE_FLAGS: &[(u64, &str)] = &[
    (1, "SPLICE_F_MOVE"),
    (2, "SPLICE_F_NONBLOCK"),
    (4, "SPLICE_F_MORE"),
    (8, "SPLICE_F_GIFT"),
];

/// A `dev_t` argument (mknod): `makedev(0x1, 0x3)`, in the kernel's 32-bit encoding.
pub fn dev_arg(dev: u64) -> Value {
    let dev = dev & 0xffff_ffff;
    makedev((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & !0xff))
}

fn makedev(major: u64, minor: u64) -> Value {
    let f = |v: u64| {
        if v == 0 {
            "0".to_string()
        } else {
            format!("{v:#x}")
        }
    };
    Value::Raw(format!("makedev({}, {})", f(major), f(minor)))
}

/// `stx_mask` as a field: under `-X` in hex.
fn mask_field(c: &Ctx, m: u64) -> Value {
    super::util::styled(c, statx_mask(m), super::util::hex0(m))
}

/// `st_mode` as a field: its names, or under `-X` the octal number (`0100644`).
fn mode_field(c: &Ctx, mode: u64) -> Value {
    super::util::styled(c, st_mode(mode), Value::Oct(mode))
}

/// `struct stat` (x86-64 layout, 144 bytes), abbreviated as strace does by default:
/// `{st_mode=S_IFREG|0644, st_size=1234, ...}`; devices show `st_rdev` instead of the size.
pub fn stat(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<144>(c, addr) else {
        return Value::Ptr(addr);
    };
    let mode = u64::from(le_u32(&b, 24));
    let kind = mode & 0o170000;
    let second = if kind == 0o020000 || kind == 0o060000 {
        let dev = le_u64(&b, 40);
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        ("st_rdev", makedev(major, minor))
    } else {
        ("st_size", Value::Int(le_i64(&b, 48)))
    };
    if !c.o.abbrev {
        let time = |off: usize| {
            let (s, ns) = (le_i64(&b, off), le_i64(&b, off + 8));
            if s == 0 && ns == 0 {
                return Value::Int(0);
            }
            Value::Raw(format!(
                "{s} /* {} */",
                crate::syscalls::decode::time::local_iso8601_ns(s, ns)
            ))
        };
        let dev = le_u64(&b, 0);
        let (dmaj, dmin) = (
            ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff),
            (dev & 0xff) | ((dev >> 12) & !0xff),
        );
        return Value::structure(vec![
            ("st_dev", makedev(dmaj, dmin)),
            ("st_ino", Value::UInt(le_u64(&b, 8))),
            ("st_mode", mode_field(c, mode)),
            ("st_nlink", Value::UInt(le_u64(&b, 16))),
            ("st_uid", Value::UInt(le_u32(&b, 28).into())),
            ("st_gid", Value::UInt(le_u32(&b, 32).into())),
            ("st_blksize", Value::Int(le_i64(&b, 56))),
            ("st_blocks", Value::Int(le_i64(&b, 64))),
            second,
            ("st_atime", time(72)),
            ("st_atime_nsec", Value::Int(le_i64(&b, 80))),
            ("st_mtime", time(88)),
            ("st_mtime_nsec", Value::Int(le_i64(&b, 96))),
            ("st_ctime", time(104)),
            ("st_ctime_nsec", Value::Int(le_i64(&b, 112))),
        ]);
    }
    Value::structure(vec![
        ("st_mode", mode_field(c, mode)),
        second,
        ("", Value::Elided),
    ])
}

/// `struct statx`, abbreviated: `{stx_mask=..., stx_attributes=0, stx_mode=..., stx_size=N, ...}`.
pub fn statx(c: &Ctx, addr: u64) -> Value {
    if !c.o.abbrev {
        return statx_whole(c, addr);
    }
    let Some(b) = read_bytes::<48>(c, addr) else {
        return Value::Ptr(addr);
    };
    Value::structure(vec![
        ("stx_mask", mask_field(c, u64::from(le_u32(&b, 0)))),
        (
            "stx_attributes",
            flags_x(le_u64(&b, 8), STATX_ATTRS, None, "STATX_ATTR_???"),
        ),
        (
            "stx_mode",
            mode_field(c, u64::from(le_u32(&b, 28) & 0xffff)),
        ),
        ("stx_size", Value::UInt(le_u64(&b, 40))),
        ("", Value::Elided),
    ])
}

/// `struct statx` under `-v`: every field, as strace orders them; each time only when the
/// mask has it, `stx_mnt_id` only with STATX_MNT_ID.
fn statx_whole(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<256>(c, addr) else {
        return Value::Ptr(addr);
    };
    let mask = u64::from(le_u32(&b, 0));
    let u32f = |off| Value::UInt(le_u32(&b, off).into());
    let time = |off: usize| {
        let (sec, ns) = (le_i64(&b, off), i64::from(le_u32(&b, off + 8)));
        if sec == 0 && ns == 0 {
            // strace leaves the epoch itself without a date.
            return Value::Raw("{tv_sec=0, tv_nsec=0}".into());
        }
        Value::Raw(format!(
            "{{tv_sec={sec}, tv_nsec={ns}}} /* {} */",
            crate::syscalls::decode::time::local_iso8601_ns(sec, ns)
        ))
    };
    let mut f = vec![
        ("stx_mask", mask_field(c, mask)),
        ("stx_blksize", u32f(4)),
        (
            "stx_attributes",
            flags_x(le_u64(&b, 8), STATX_ATTRS, None, "STATX_ATTR_???"),
        ),
        ("stx_nlink", u32f(16)),
        ("stx_uid", u32f(20)),
        ("stx_gid", u32f(24)),
        (
            "stx_mode",
            mode_field(c, u64::from(le_u32(&b, 28) & 0xffff)),
        ),
        ("stx_ino", Value::UInt(le_u64(&b, 32))),
        ("stx_size", Value::UInt(le_u64(&b, 40))),
        ("stx_blocks", Value::UInt(le_u64(&b, 48))),
        (
            "stx_attributes_mask",
            flags_x(le_u64(&b, 56), STATX_ATTRS, None, "STATX_ATTR_???"),
        ),
    ];
    // The times the kernel says it filled (STATX_ATIME, _BTIME, _CTIME, _MTIME).
    for (bit, name, off) in [
        (0x20, "stx_atime", 64),
        (0x800, "stx_btime", 80),
        (0x80, "stx_ctime", 96),
        (0x40, "stx_mtime", 112),
    ] {
        if mask & bit != 0 {
            f.push((name, time(off)));
        }
    }
    f.extend([
        ("stx_rdev_major", u32f(128)),
        ("stx_rdev_minor", u32f(132)),
        ("stx_dev_major", u32f(136)),
        ("stx_dev_minor", u32f(140)),
    ]);
    if mask & 0x1000 != 0 {
        f.push((
            "stx_mnt_id",
            crate::syscalls::decode::util::hex0(le_u64(&b, 144)),
        ));
    }
    Value::structure(f)
}

const FS_MAGIC: &[(u64, &str)] = &[
    (0xef53, "EXT2_SUPER_MAGIC"),
    (0x01021994, "TMPFS_MAGIC"),
    (0x9fa0, "PROC_SUPER_MAGIC"),
    (0x62656572, "SYSFS_MAGIC"),
    (0x1cd1, "DEVPTS_SUPER_MAGIC"),
    (0x58465342, "XFS_SUPER_MAGIC"),
    (0x9123683e, "BTRFS_SUPER_MAGIC"),
    (0x794c7630, "OVERLAYFS_SUPER_MAGIC"),
    (0x63677270, "CGROUP2_SUPER_MAGIC"),
    (0x27e0eb, "CGROUP_SUPER_MAGIC"),
    (0x6969, "NFS_SUPER_MAGIC"),
    (0x2fc12fc1, "ZFS_SUPER_MAGIC"),
    (0x65735546, "FUSE_SUPER_MAGIC"),
    (0x858458f6, "RAMFS_MAGIC"),
    (0x4d44, "MSDOS_SUPER_MAGIC"),
    (0x3153464a, "JFS_SUPER_MAGIC"),
    (0xf15f, "ECRYPTFS_SUPER_MAGIC"),
    (0x958458f6, "HUGETLBFS_MAGIC"),
    (0x73717368, "SQUASHFS_MAGIC"),
    (0x9660, "ISOFS_SUPER_MAGIC"),
    (0xcafe4a11, "BPF_FS_MAGIC"),
    (0x64626720, "DEBUGFS_MAGIC"),
    (0x74726163, "TRACEFS_MAGIC"),
    (0x73636673, "SECURITYFS_MAGIC"),
    (0xf97cff8c, "SELINUX_MAGIC"),
    (0x6e736673, "NSFS_MAGIC"),
    (0x50495045, "PIPEFS_MAGIC"),
    (0x534f434b, "SOCKFS_MAGIC"),
    (0x19800202, "MQUEUE_MAGIC"),
    (0xff534d42, "CIFS_SUPER_MAGIC"),
    (0xfe534d42, "SMB2_SUPER_MAGIC"),
    (0x01161970, "GFS2_MAGIC"),
    (0xf2f52010, "F2FS_SUPER_MAGIC"),
    (0x5346544e, "NTFS_SB_MAGIC"),
    (0x00c36400, "CEPH_SUPER_MAGIC"),
];

const ST_FLAGS: &[(u64, &str)] = &[
    (0x1, "ST_RDONLY"),
    (0x2, "ST_NOSUID"),
    (0x4, "ST_NODEV"),
    (0x8, "ST_NOEXEC"),
    (0x10, "ST_SYNCHRONOUS"),
    (0x20, "ST_VALID"),
    (0x40, "ST_MANDLOCK"),
    (0x80, "ST_WRITE"),
    (0x100, "ST_APPEND"),
    (0x200, "ST_IMMUTABLE"),
    (0x400, "ST_NOATIME"),
    (0x800, "ST_NODIRATIME"),
    (0x1000, "ST_RELATIME"),
    (0x2000, "ST_NOSYMFOLLOW"),
];

/// `struct statfs` (120 bytes), printed in full as strace does (it has no abbreviated form).
pub fn statfs(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<120>(c, addr) else {
        return Value::Ptr(addr);
    };
    let ftype = le_u64(&b, 0);
    let ftype_v = match FS_MAGIC.iter().find(|&&(m, _)| m == ftype) {
        Some(&(_, n)) => Value::sym(n),
        None => hex_c(ftype),
    };
    let u = |off| Value::UInt(le_u64(&b, off));
    Value::structure(vec![
        ("f_type", ftype_v),
        ("f_bsize", Value::Int(le_i64(&b, 8))),
        ("f_blocks", u(16)),
        ("f_bfree", u(24)),
        ("f_bavail", u(32)),
        ("f_files", u(40)),
        ("f_ffree", u(48)),
        (
            "f_fsid",
            Value::structure(vec![(
                "val",
                Value::Array(vec![
                    hex_c(u64::from(le_u32(&b, 56))),
                    hex_c(u64::from(le_u32(&b, 60))),
                ]),
            )]),
        ),
        ("f_namelen", Value::Int(le_i64(&b, 64))),
        ("f_frsize", Value::Int(le_i64(&b, 72))),
        ("f_flags", flags(le_u64(&b, 80), ST_FLAGS)),
    ])
}

pub const SEEK_WHENCE: &[(u64, &str)] = &[
    (0, "SEEK_SET"),
    (1, "SEEK_CUR"),
    (2, "SEEK_END"),
    (3, "SEEK_DATA"),
    (4, "SEEK_HOLE"),
];

const LOCK_TYPES: &[(u64, &str)] = &[(0, "F_RDLCK"), (1, "F_WRLCK"), (2, "F_UNLCK")];

/// `F_RDLCK` etc. (F_SETLEASE's argument, F_GETLEASE's result).
pub fn lock_type(v: u64) -> Value {
    sym_x(v, LOCK_TYPES, "F_???")
}

/// `struct flock` (32 bytes): `{l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=100}`;
/// `with_pid` adds `l_pid` (the GETLK results).
pub fn flock(c: &Ctx, addr: u64, with_pid: bool) -> Value {
    let Some(b) = read_bytes::<32>(c, addr) else {
        return Value::Ptr(addr);
    };
    let short = |off: usize| u64::from(le_u32(&b, off) & 0xffff);
    let mut f = vec![
        ("l_type", lock_type(short(0))),
        ("l_whence", sym_x(short(2), SEEK_WHENCE, "SEEK_???")),
        ("l_start", Value::Int(le_i64(&b, 8))),
        ("l_len", Value::Int(le_i64(&b, 16))),
    ];
    if with_pid {
        f.push(("l_pid", Value::Int(i64::from(util::le_i32(&b, 24)))));
    }
    Value::structure(f)
}

/// `struct f_owner_ex`: `{type=F_OWNER_PID, pid=5}`.
pub fn f_owner_ex(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<8>(c, addr) else {
        return Value::Ptr(addr);
    };
    let kinds: &[(u64, &str)] = &[(0, "F_OWNER_TID"), (1, "F_OWNER_PID"), (2, "F_OWNER_PGRP")];
    Value::structure(vec![
        (
            "type",
            sym_x(u64::from(le_u32(&b, 0)), kinds, "F_OWNER_???"),
        ),
        ("pid", Value::Int(i64::from(util::le_i32(&b, 4)))),
    ])
}

/// An `int` behind a pointer: `[42]`, or the address.
pub fn int_ptr(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<4>(c, addr) {
        Some(b) => Value::Array(vec![Value::Int(i64::from(util::le_i32(&b, 0)))]),
        None => Value::Ptr(addr),
    }
}

/// `struct winsize`: `{ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}`.
pub fn winsize(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<8>(c, addr) else {
        return Value::Ptr(addr);
    };
    let h = |off: usize| Value::Int(i64::from(le_u32(&b, off) & 0xffff));
    Value::structure(vec![
        ("ws_row", h(0)),
        ("ws_col", h(2)),
        ("ws_xpixel", h(4)),
        ("ws_ypixel", h(6)),
    ])
}

const TC_IFLAG: &[(u64, &str)] = &[
    (0x1, "IGNBRK"),
    (0x2, "BRKINT"),
    (0x4, "IGNPAR"),
    (0x8, "PARMRK"),
    (0x10, "INPCK"),
    (0x20, "ISTRIP"),
    (0x40, "INLCR"),
    (0x80, "IGNCR"),
    (0x100, "ICRNL"),
    (0x200, "IUCLC"),
    (0x400, "IXON"),
    (0x800, "IXANY"),
    (0x1000, "IXOFF"),
    (0x2000, "IMAXBEL"),
    (0x4000, "IUTF8"),
];
const TC_OFLAG: &[(u64, &str)] = &[
    (0x1, "OPOST"),
    (0x2, "OLCUC"),
    (0x4, "ONLCR"),
    (0x8, "OCRNL"),
    (0x10, "ONOCR"),
    (0x20, "ONLRET"),
    (0x40, "OFILL"),
    (0x80, "OFDEL"),
];
const TC_CFLAG: &[(u64, &str)] = &[
    (0x40, "CSTOPB"),
    (0x80, "CREAD"),
    (0x100, "PARENB"),
    (0x200, "PARODD"),
    (0x400, "HUPCL"),
    (0x800, "CLOCAL"),
    (0x40000000, "CMSPAR"),
    (0x80000000, "CRTSCTS"),
];
const TC_LFLAG: &[(u64, &str)] = &[
    (0x1, "ISIG"),
    (0x2, "ICANON"),
    (0x4, "XCASE"),
    (0x8, "ECHO"),
    (0x10, "ECHOE"),
    (0x20, "ECHOK"),
    (0x40, "ECHONL"),
    (0x80, "NOFLSH"),
    (0x8000, "IEXTEN"),
    (0x200, "ECHOCTL"),
    (0x400, "ECHOPRT"),
    (0x800, "ECHOKE"),
    (0x1000, "FLUSHO"),
    (0x4000, "PENDIN"),
    (0x100, "TOSTOP"),
    (0x10000, "EXTPROC"),
];

fn joined(v: u64, table: &[(u64, &'static str)]) -> String {
    match flags(v, table) {
        Value::Flags(n) => n.join("|"),
        _ => String::new(),
    }
}

fn baud(v: u64) -> Cow<'static, str> {
    const LOW: [&str; 16] = [
        "B0", "B50", "B75", "B110", "B134", "B150", "B200", "B300", "B600", "B1200", "B1800",
        "B2400", "B4800", "B9600", "B19200", "B38400",
    ];
    const HIGH: [&str; 16] = [
        "BOTHER", "B57600", "B115200", "B230400", "B460800", "B500000", "B576000", "B921600",
        "B1000000", "B1152000", "B1500000", "B2000000", "B2500000", "B3000000", "B3500000",
        "B4000000",
    ];
    let idx = (v & 0xf) as usize;
    let name = if v & 0x1000 != 0 {
        HIGH.get(idx)
    } else {
        LOW.get(idx)
    };
    Cow::Borrowed(name.copied().unwrap_or("B0"))
}

/// The kernel's `struct termios` (TCGETS, TCSETS*), abbreviated as strace 6.1 prints it,
/// including its quirks: an empty flag set prints nothing, and the delay and size parts
/// end with `|` even when no flag follows.
pub fn termios(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<16>(c, addr) else {
        return Value::Ptr(addr);
    };
    let (i, o, cf, l) = (
        u64::from(le_u32(&b, 0)),
        u64::from(le_u32(&b, 4)),
        u64::from(le_u32(&b, 8)),
        u64::from(le_u32(&b, 12)),
    );
    let nl = if o & 0x100 != 0 { "NL1" } else { "NL0" };
    let cr = ["CR0", "CR1", "CR2", "CR3"]
        .get(((o >> 9) & 3) as usize)
        .copied()
        .unwrap_or("CR0");
    let tab = ["TAB0", "TAB1", "TAB2", "XTABS"]
        .get(((o >> 11) & 3) as usize)
        .copied()
        .unwrap_or("TAB0");
    let bs = if o & 0x2000 != 0 { "BS1" } else { "BS0" };
    let vt = if o & 0x4000 != 0 { "VT1" } else { "VT0" };
    let ff = if o & 0x8000 != 0 { "FF1" } else { "FF0" };
    let oflag = format!(
        "{nl}|{cr}|{tab}|{bs}|{vt}|{ff}|{}",
        joined(o & !0xff00, TC_OFLAG)
    );
    let mut cflag = format!("{}|", baud(cf & 0x100f));
    let ibaud = (cf >> 16) & 0x100f;
    if ibaud != 0 {
        cflag.push_str(&format!("{}<<IBSHIFT|", baud(ibaud)));
    }
    let size = ["CS5", "CS6", "CS7", "CS8"]
        .get(((cf >> 4) & 3) as usize)
        .copied()
        .unwrap_or("CS5");
    cflag.push_str(&format!("{size}|{}", joined(cf & !0x100f_103f, TC_CFLAG)));
    Value::structure(vec![
        ("c_iflag", Value::Raw(joined(i, TC_IFLAG))),
        ("c_oflag", Value::Raw(oflag)),
        ("c_cflag", Value::Raw(cflag)),
        ("c_lflag", Value::Raw(joined(l, TC_LFLAG))),
        ("", Value::Elided),
    ])
}

/// The ioctl request names of the kernel's UAPI headers that strace 6.1 prints, `0xCODE NAME`
/// per line (generated by `tools/gen-ioctl-names`, checked against strace).
static IOCTL_NAMES: &str = include_str!("ioctl_names.txt");

/// Each request code with its name, or its names joined as strace joins them for a code that
/// several share (`SNDCTL_TMR_START or TCSETS`), sorted by code. Built once.
fn ioctl_names() -> &'static [(u32, String)] {
    static TABLE: std::sync::OnceLock<Vec<(u32, String)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows: Vec<(u32, &str)> = IOCTL_NAMES
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (code, name) = l.split_once(' ')?;
                let code = u32::from_str_radix(code.strip_prefix("0x")?, 16).ok()?;
                Some((code, name.trim()))
            })
            .collect();
        rows.sort_unstable();
        rows.dedup();
        let mut table: Vec<(u32, String)> = Vec::with_capacity(rows.len());
        for (code, name) in rows {
            match table.last_mut() {
                Some((c, names)) if *c == code => {
                    names.push_str(" or ");
                    names.push_str(name);
                }
                _ => table.push((code, name.to_string())),
            }
        }
        table
    })
}

/// The name strace prints for request `req`, if it has one.
pub fn ioctl_name(req: u32) -> Option<&'static str> {
    let t = ioctl_names();
    t.binary_search_by_key(&req, |&(c, _)| c)
        .ok()
        .map(|i| t[i].1.as_str())
}

pub fn ioctl_request(req: u64) -> Value {
    let req = req & 0xffff_ffff;
    // strace names the sound mixer's reads and writes (type 'M') by their number, before
    // any name the number has.
    if (req >> 8) & 0xff == u64::from(b'M') {
        let nr = req & 0xff;
        match req >> 30 {
            1 => return Value::Sym(format!("MIXER_WRITE({nr})").into()),
            2 => return Value::Sym(format!("MIXER_READ({nr})").into()),
            _ => {}
        }
    }
    if let Some(n) = ioctl_name(req as u32) {
        return Value::sym(n);
    }
    let dir = match req >> 30 {
        0 => "_IOC_NONE",
        1 => "_IOC_WRITE",
        2 => "_IOC_READ",
        _ => "_IOC_READ|_IOC_WRITE",
    };
    let size = (req >> 16) & 0x3fff;
    let size_s = if size == 0 {
        "0".to_string()
    } else {
        format!("{size:#x}")
    };
    let h = |v: u64| {
        if v == 0 {
            "0".to_string()
        } else {
            format!("{v:#x}")
        }
    };
    Value::Raw(format!(
        "_IOC({dir}, {}, {}, {size_s})",
        h((req >> 8) & 0xff),
        h(req & 0xff)
    ))
}

pub const FS_FL: &[(u64, &str)] = &[
    (0x1, "FS_SECRM_FL"),
    (0x2, "FS_UNRM_FL"),
    (0x4, "FS_COMPR_FL"),
    (0x8, "FS_SYNC_FL"),
    (0x10, "FS_IMMUTABLE_FL"),
    (0x20, "FS_APPEND_FL"),
    (0x40, "FS_NODUMP_FL"),
    (0x80, "FS_NOATIME_FL"),
    (0x1000, "FS_INDEX_FL"),
    (0x4000, "FS_JOURNAL_DATA_FL"),
    (0x8000, "FS_NOTAIL_FL"),
    (0x10000, "FS_DIRSYNC_FL"),
    (0x20000, "FS_TOPDIR_FL"),
    (0x80000, "FS_EXTENT_FL"),
    (0x800000, "FS_NOCOW_FL"),
    (0x10000000, "FS_INLINE_DATA_FL"),
    (0x20000000, "FS_PROJINHERIT_FL"),
];

/// openat2's `resolve` flags, in bit order.
const RESOLVE: &[(u64, &str)] = &[
    (0x01, "RESOLVE_NO_XDEV"),
    (0x02, "RESOLVE_NO_MAGICLINKS"),
    (0x04, "RESOLVE_NO_SYMLINKS"),
    (0x08, "RESOLVE_BENEATH"),
    (0x10, "RESOLVE_IN_ROOT"),
    (0x20, "RESOLVE_CACHED"),
];

/// openat2's `struct open_how` of `size` bytes: `{flags=..., mode=0644, resolve=...}`, the
/// mode only where open would print it (or when set); bytes past the known 24, when not
/// all zero, as strace shows them (`/* bytes 24..31 */ "\x07..."`).
pub fn open_how(c: &Ctx, addr: u64, size: u64) -> Value {
    const KNOWN: u64 = 24;
    if addr == 0 || size < KNOWN {
        return Value::Ptr(addr);
    }
    let Some(b) = util::read_vec(c, addr, size.min(4096) as usize) else {
        return Value::Ptr(addr);
    };
    if (b.len() as u64) < KNOWN {
        return Value::Ptr(addr);
    }
    let flags = util::le_u64(&b, 0);
    let mode = util::le_u64(&b, 8);
    let resolve = util::le_u64(&b, 16);
    let mut f = vec![(
        "flags",
        util::styled(c, open_flags(flags), util::hex0(flags)),
    )];
    if open_has_mode(flags) || mode != 0 {
        f.push(("mode", mode_arg(mode)));
    }
    f.push((
        "resolve",
        util::styled(
            c,
            flags_x(resolve, RESOLVE, None, "RESOLVE_???"),
            util::hex0(resolve),
        ),
    ));
    let extra = &b[KNOWN as usize..];
    if extra.iter().any(|&x| x != 0) {
        f.push((
            "",
            Value::Raw(format!(
                "/* bytes {KNOWN}..{} */ {}",
                KNOWN + extra.len() as u64 - 1,
                util::quote_hex(extra)
            )),
        ));
    }
    Value::structure(f)
}

/// utime's `struct utimbuf`: `{actime=S /* date */, modtime=S /* date */}`.
pub fn utimbuf(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    match read_bytes::<16>(c, addr) {
        Some(b) => {
            let date = |off: usize| {
                let s = util::le_i64(&b, off);
                Value::Raw(format!("{s} /* {} */", super::time::local_iso8601(s)))
            };
            Value::structure(vec![("actime", date(0)), ("modtime", date(8))])
        }
        None => Value::Ptr(addr),
    }
}

/// utimes' two `struct timeval`s: `[{tv_sec=S, tv_usec=U} /* date */, ...]`.
pub fn timevals(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    match read_bytes::<32>(c, addr) {
        Some(b) => {
            let tv = |off: usize| {
                let (s, us) = (util::le_i64(&b, off), util::le_i64(&b, off + 8));
                Value::Raw(format!(
                    "{{tv_sec={s}, tv_usec={us}}} /* {} */",
                    super::time::local_iso8601_frac(s, us, 6)
                ))
            };
            Value::Array(vec![tv(0), tv(16)])
        }
        None => Value::Ptr(addr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::notation::value_text;

    #[test]
    fn ioctl_requests_as_strace_names_them() {
        let name = |req: u64| value_text(&ioctl_request(req));
        assert_eq!(name(0x5401), "TCGETS");
        assert_eq!(name(0x5402), "SNDCTL_TMR_START or TCSETS");
        assert_eq!(name(0x40049409), "BTRFS_IOC_CLONE or FICLONE");
        assert_eq!(name(0x40086602), "FS_IOC_SETFLAGS");
        assert_eq!(name(0xae80), "KVM_RUN");
        assert_eq!(name(0x40044d0e), "MIXER_WRITE(14)");
        assert_eq!(name(0x80204d01), "MIXER_READ(1)");
        assert_eq!(name(0x4d13), "MTDFILEMODE");
        assert_eq!(name(0x12345), "_IOC(_IOC_NONE, 0x23, 0x45, 0x1)");
        assert_eq!(name(0xc0ff_ee00_0000_5401), "TCGETS");
        // The table is sorted with each code once.
        let t = ioctl_names();
        assert!(t.len() > 2_000);
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
