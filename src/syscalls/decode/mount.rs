//! Mounts: mount, umount2, pivot_root and the mount API (fsopen, fsconfig, fsmount,
//! open_tree, fspick, move_mount, mount_setattr), as strace 6.1 prints them.

use super::Ctx;
use super::fs_util::{dirfd_y, flags_x};
use super::util::{default_ret, fd, fd_ret, path, string, xlat};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

const MS_FLAGS: &[(u64, &str)] = &[
    (1, "MS_RDONLY"),
    (2, "MS_NOSUID"),
    (4, "MS_NODEV"),
    (8, "MS_NOEXEC"),
    (16, "MS_SYNCHRONOUS"),
    (32, "MS_REMOUNT"),
    (64, "MS_MANDLOCK"),
    (128, "MS_DIRSYNC"),
    (256, "MS_NOSYMFOLLOW"),
    (1024, "MS_NOATIME"),
    (2048, "MS_NODIRATIME"),
    (4096, "MS_BIND"),
    (8192, "MS_MOVE"),
    (16384, "MS_REC"),
    (32768, "MS_SILENT"),
    (1 << 16, "MS_POSIXACL"),
    (1 << 17, "MS_UNBINDABLE"),
    (1 << 18, "MS_PRIVATE"),
    (1 << 19, "MS_SLAVE"),
    (1 << 20, "MS_SHARED"),
    (1 << 21, "MS_RELATIME"),
    (1 << 22, "MS_KERNMOUNT"),
    (1 << 23, "MS_I_VERSION"),
    (1 << 24, "MS_STRICTATIME"),
    (1 << 25, "MS_LAZYTIME"),
    (1 << 26, "MS_SUBMOUNT"),
    (1 << 27, "MS_NOREMOTELOCK"),
    (1 << 28, "MS_NOSEC"),
    (1 << 29, "MS_BORN"),
    (1 << 30, "MS_ACTIVE"),
    (1 << 31, "MS_NOUSER"),
];

const MS_REMOUNT: u64 = 32;
const MS_BIND: u64 = 4096;
const MS_MOVE: u64 = 8192;
/// The propagation changes: no source, type or data.
const MS_PROPAGATION: u64 = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);
const MS_MGC_VAL: u64 = 0xc0ed_0000;

/// mount's flags; the old magic number in the top half as `MS_MGC_VAL`.
fn ms_flags(v: u64) -> Value {
    let v = v & 0xffff_ffff;
    if v & 0xffff_0000 == MS_MGC_VAL {
        let rest = flags_x(v & 0xffff, MS_FLAGS, None, "MS_???");
        return match rest {
            Value::Flags(mut n) => {
                n.insert(0, "MS_MGC_VAL".into());
                Value::Flags(n)
            }
            other => other,
        };
    }
    flags_x(v, MS_FLAGS, None, "MS_???")
}

const MOUNT_ATTRS: &[(u64, &str)] = &[
    (0x1, "MOUNT_ATTR_RDONLY"),
    (0x2, "MOUNT_ATTR_NOSUID"),
    (0x4, "MOUNT_ATTR_NODEV"),
    (0x8, "MOUNT_ATTR_NOEXEC"),
    (0x10, "MOUNT_ATTR_NOATIME"),
    (0x20, "MOUNT_ATTR_STRICTATIME"),
    (0x80, "MOUNT_ATTR_NODIRATIME"),
    (0x10_0000, "MOUNT_ATTR_IDMAP"),
    (0x20_0000, "MOUNT_ATTR_NOSYMFOLLOW"),
];

const FSCONFIG_CMDS: &[(u64, &str)] = &[
    (0, "FSCONFIG_SET_FLAG"),
    (1, "FSCONFIG_SET_STRING"),
    (2, "FSCONFIG_SET_BINARY"),
    (3, "FSCONFIG_SET_PATH"),
    (4, "FSCONFIG_SET_PATH_EMPTY"),
    (5, "FSCONFIG_SET_FD"),
    (6, "FSCONFIG_CMD_CREATE"),
    (7, "FSCONFIG_CMD_RECONFIGURE"),
];

fn int(v: u64) -> Value {
    Value::Int((v as i32).into())
}

pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let low = |v: u64| v & 0xffff_ffff;
    Some(match name {
        "mount" => {
            let fl = match low(a[3]) {
                v if v & 0xffff_0000 == MS_MGC_VAL => v & 0xffff,
                v => v,
            };
            let no_type = fl & (MS_REMOUNT | MS_BIND | MS_MOVE | MS_PROPAGATION) != 0;
            let no_data = fl & MS_REMOUNT == 0 && fl & (MS_BIND | MS_MOVE | MS_PROPAGATION) != 0;
            vec![
                s(path(c, a[0])),
                s(path(c, a[1])),
                s(if no_type {
                    Value::Ptr(a[2])
                } else {
                    string(c, a[2])
                }),
                s(ms_flags(a[3])),
                s(if no_data {
                    Value::Ptr(a[4])
                } else {
                    string(c, a[4])
                }),
            ]
        }
        "umount2" => vec![
            s(path(c, a[0])),
            s(flags_x(
                low(a[1]),
                &[
                    (1, "MNT_FORCE"),
                    (2, "MNT_DETACH"),
                    (4, "MNT_EXPIRE"),
                    (8, "UMOUNT_NOFOLLOW"),
                ],
                None,
                "MNT_???",
            )),
        ],
        "pivot_root" => vec![s(path(c, a[0])), s(path(c, a[1]))],
        "fsopen" => vec![
            s(string(c, a[0])),
            s(flags_x(
                low(a[1]),
                &[(1, "FSOPEN_CLOEXEC")],
                None,
                "FSOPEN_???",
            )),
        ],
        "fsconfig" => {
            let cmd = low(a[1]);
            let value = match cmd {
                _ if a[3] == 0 => Value::Ptr(0),
                1 => string(c, a[3]),
                2 => {
                    let total = low(a[4]) as usize;
                    match super::util::read_vec(c, a[3], total.min(c.o.string_limit)) {
                        Some(b) => super::util::hex_cut(&b, total),
                        None => Value::Ptr(a[3]),
                    }
                }
                3 | 4 => path(c, a[3]),
                _ => Value::Ptr(a[3]),
            };
            let aux = match cmd {
                3 | 4 => dirfd_y(c, a[4]),
                5 => fd(c, a[4]),
                _ => int(a[4]),
            };
            vec![
                s(fd(c, a[0])),
                s(xlat(cmd, FSCONFIG_CMDS, "FSCONFIG_???")),
                s(string(c, a[2])),
                s(value),
                s(aux),
            ]
        }
        "fsmount" => vec![
            s(fd(c, a[0])),
            s(flags_x(
                low(a[1]),
                &[(1, "FSMOUNT_CLOEXEC")],
                None,
                "FSMOUNT_???",
            )),
            s(flags_x(low(a[2]), MOUNT_ATTRS, None, "MOUNT_ATTR_???")),
        ],
        "open_tree" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(flags_x(
                low(a[2]),
                &[
                    (1, "OPEN_TREE_CLONE"),
                    (0x80000, "OPEN_TREE_CLOEXEC"),
                    (0x100, "AT_SYMLINK_NOFOLLOW"),
                    (0x800, "AT_NO_AUTOMOUNT"),
                    (0x1000, "AT_EMPTY_PATH"),
                    (0x8000, "AT_RECURSIVE"),
                ],
                None,
                "OPEN_TREE_???",
            )),
        ],
        "fspick" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(flags_x(
                low(a[2]),
                &[
                    (1, "FSPICK_CLOEXEC"),
                    (2, "FSPICK_SYMLINK_NOFOLLOW"),
                    (4, "FSPICK_NO_AUTOMOUNT"),
                    (8, "FSPICK_EMPTY_PATH"),
                ],
                None,
                "FSPICK_???",
            )),
        ],
        "mount_setattr" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(flags_x(
                low(a[2]),
                &[
                    (0x100, "AT_SYMLINK_NOFOLLOW"),
                    (0x800, "AT_NO_AUTOMOUNT"),
                    (0x1000, "AT_EMPTY_PATH"),
                    (0x8000, "AT_RECURSIVE"),
                ],
                None,
                "AT_???",
            )),
            s(mount_attr(c, a[3], a[4])),
            s(Value::UInt(a[4])),
        ],
        "move_mount" => vec![
            s(dirfd_y(c, a[0])),
            s(path(c, a[1])),
            s(dirfd_y(c, a[2])),
            s(path(c, a[3])),
            s(flags_x(
                low(a[4]),
                &[
                    (0x1, "MOVE_MOUNT_F_SYMLINKS"),
                    (0x2, "MOVE_MOUNT_F_AUTOMOUNTS"),
                    (0x4, "MOVE_MOUNT_F_EMPTY_PATH"),
                    (0x10, "MOVE_MOUNT_T_SYMLINKS"),
                    (0x20, "MOVE_MOUNT_T_AUTOMOUNTS"),
                    (0x40, "MOVE_MOUNT_T_EMPTY_PATH"),
                    (0x100, "MOVE_MOUNT_SET_GROUP"),
                ],
                None,
                "MOVE_MOUNT_???",
            )),
        ],
        _ => return None,
    })
}

/// mount_setattr's `struct mount_attr` of `size` bytes: `{attr_set=MOUNT_ATTR_RDONLY,
/// attr_clr=0, propagation=MS_PRIVATE, userns_fd=0}`; bytes past the known 32, when not all
/// zero, as strace shows them (`/* bytes 32..39 */ "\x03..."`).
fn mount_attr(c: &Ctx, addr: u64, size: u64) -> Value {
    use super::util::{hex0, le_u64, quote_hex, read_vec, styled};
    const KNOWN: u64 = 32;
    if addr == 0 || size < KNOWN {
        return Value::Ptr(addr);
    }
    let Some(b) = read_vec(c, addr, size.min(4096) as usize).filter(|b| b.len() as u64 >= KNOWN)
    else {
        return Value::Ptr(addr);
    };
    let attrs = |v: u64| {
        styled(
            c,
            flags_x(v, MOUNT_ATTRS, Some("0"), "MOUNT_ATTR_???"),
            hex0(v),
        )
    };
    let prop = le_u64(&b, 16);
    let mut f = vec![
        ("attr_set", attrs(le_u64(&b, 0))),
        ("attr_clr", attrs(le_u64(&b, 8))),
        (
            "propagation",
            styled(c, flags_x(prop, MS_FLAGS, Some("0"), "MS_???"), hex0(prop)),
        ),
        ("userns_fd", Value::UInt(le_u64(&b, 24))),
    ];
    let extra = &b[KNOWN as usize..];
    if extra.iter().any(|&x| x != 0) {
        f.push((
            "",
            Value::Raw(format!(
                "/* bytes {KNOWN}..{} */ {}",
                KNOWN + extra.len() as u64 - 1,
                quote_hex(extra)
            )),
        ));
    }
    Value::structure(f)
}

pub fn exit(
    name: &str,
    c: &Ctx,
    _slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    Some(match name {
        "fsopen" | "fsmount" | "open_tree" | "fspick" => fd_ret(c, rval, is_error),
        "mount" | "umount2" | "pivot_root" | "fsconfig" | "move_mount" | "mount_setattr" => {
            default_ret(rval, is_error)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines};

    #[test]
    fn mount_setattr_and_its_attributes() {
        let attr = |w: [u64; 5]| w.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        let t = FakeTracee::default()
            .with(0x1000, b"/mnt\0")
            .with(0x2000, &attr([3, 0x70, 1 << 18, 0, 0]))
            .with(0x3000, &attr([0x10_0000, 0, 0, 5, 3]));
        assert_lines(
            &t,
            [
                (
                    "mount_setattr",
                    [(-100i64) as u64, 0x1000, 0x8100, 0x2000, 32, 0],
                    0,
                    "mount_setattr(AT_FDCWD, \"/mnt\", AT_SYMLINK_NOFOLLOW|AT_RECURSIVE, {attr_set=MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID, attr_clr=MOUNT_ATTR_NOATIME|MOUNT_ATTR_STRICTATIME|0x40, propagation=MS_PRIVATE, userns_fd=0}, 32) = 0",
                ),
                (
                    "mount_setattr",
                    [3, 0x1000, 0, 0x3000, 40, 0],
                    -7,
                    "mount_setattr(3, \"/mnt\", 0, {attr_set=MOUNT_ATTR_IDMAP, attr_clr=0, propagation=0, userns_fd=5, /* bytes 32..39 */ \"\\x03\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"}, 40) = -7",
                ),
                (
                    "mount_setattr",
                    [3, 0x1000, 0, 0x3000, 16, 0],
                    -22,
                    "mount_setattr(3, \"/mnt\", 0, 0x3000, 16) = -22",
                ),
            ],
        );
    }

    #[test]
    fn mounts() {
        let t = FakeTracee::default()
            .with(0x1000, b"none\0")
            .with(0x2000, b"/mnt\0")
            .with(0x3000, b"tmpfs\0")
            .with(0x4000, b"size=1m\0");
        assert_lines(
            &t,
            [
                (
                    "mount",
                    [0x1000, 0x2000, 0x3000, 0xc0ed_0006, 0x4000, 0],
                    0,
                    "mount(\"none\", \"/mnt\", \"tmpfs\", MS_MGC_VAL|MS_NOSUID|MS_NODEV, \"size=1m\") = 0",
                ),
                (
                    "mount",
                    [0x1000, 0x2000, 0x3000, 0x5000, 0x4000, 0],
                    0,
                    "mount(\"none\", \"/mnt\", 0x3000, MS_BIND|MS_REC, 0x4000) = 0",
                ),
                (
                    "umount2",
                    [0x2000, 0x20, 0, 0, 0, 0],
                    -22,
                    "umount2(\"/mnt\", 0x20 /* MNT_??? */) = -22",
                ),
                (
                    "fsconfig",
                    [3, 1, 0x1000, 0x4000, 0, 0],
                    0,
                    "fsconfig(3, FSCONFIG_SET_STRING, \"none\", \"size=1m\", 0) = 0",
                ),
                (
                    "fsconfig",
                    [3, 3, 0x1000, 0x2000, (-100i64) as u64, 0],
                    0,
                    "fsconfig(3, FSCONFIG_SET_PATH, \"none\", \"/mnt\", AT_FDCWD) = 0",
                ),
                (
                    "fsmount",
                    [3, 1, 0x21, 0, 0, 0],
                    5,
                    "fsmount(3, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY|MOUNT_ATTR_STRICTATIME) = 5",
                ),
            ],
        );
    }
}
