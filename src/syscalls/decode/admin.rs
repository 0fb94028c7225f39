//! The administrative calls: kernel modules (`init_module`, `finit_module`,
//! `delete_module`), kexec (`kexec_load`, `kexec_file_load`) and disk quotas (`quotactl`,
//! `quotactl_fd`), as strace 6.1 prints them. A DBA meets them rarely (a container's init, a
//! host agent), but a trace should read them as strace does.
//!
//! quotactl's arguments depend on its command: `QCMD(Q_SYNC, USRQUOTA)` takes only the
//! device, `Q_QUOTAON` a format and a path, the getters an address, the setters their
//! structure. Not decoded (strace decodes them): the structures the getters fill in
//! (printed as their address).

use super::Ctx;
use super::fs_util::{flags_x, sym_x};
use super::util::{
    default_ret, fd, hex0, le_i32, le_u32, le_u64, read_bytes, read_vec, string, styled,
};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

fn low(v: u64) -> u64 {
    v & 0xffff_ffff
}

const FINIT_FLAGS: &[(u64, &str)] = &[
    (1, "MODULE_INIT_IGNORE_MODVERSIONS"),
    (2, "MODULE_INIT_IGNORE_VERMAGIC"),
    (4, "MODULE_INIT_COMPRESSED_FILE"),
];

const DELETE_FLAGS: &[(u64, &str)] = &[(0o4000, "O_NONBLOCK"), (0o1000, "O_TRUNC")];

const KEXEC_FILE_FLAGS: &[(u64, &str)] = &[
    (1, "KEXEC_FILE_UNLOAD"),
    (2, "KEXEC_FILE_ON_CRASH"),
    (4, "KEXEC_FILE_NO_INITRAMFS"),
];

const KEXEC_FLAGS: &[(u64, &str)] = &[(1, "KEXEC_ON_CRASH"), (2, "KEXEC_PRESERVE_CONTEXT")];

const KEXEC_ARCH: &[(u64, &str)] = &[
    (0, "KEXEC_ARCH_DEFAULT"),
    (3 << 16, "KEXEC_ARCH_386"),
    (4 << 16, "KEXEC_ARCH_68K"),
    (8 << 16, "KEXEC_ARCH_MIPS"),
    (10 << 16, "KEXEC_ARCH_MIPS_LE"),
    (15 << 16, "KEXEC_ARCH_PARISC"),
    (20 << 16, "KEXEC_ARCH_PPC"),
    (21 << 16, "KEXEC_ARCH_PPC64"),
    (22 << 16, "KEXEC_ARCH_S390"),
    (40 << 16, "KEXEC_ARCH_ARM"),
    (42 << 16, "KEXEC_ARCH_SH"),
    (50 << 16, "KEXEC_ARCH_IA_64"),
    (62 << 16, "KEXEC_ARCH_X86_64"),
    (183 << 16, "KEXEC_ARCH_AARCH64"),
    (243 << 16, "KEXEC_ARCH_RISCV"),
    (258 << 16, "KEXEC_ARCH_LOONGARCH"),
];

const Q_CMDS: &[(u64, &str)] = &[
    (0x100, "Q_V1_QUOTAON"),
    (0x200, "Q_V1_QUOTAOFF"),
    (0x300, "Q_V1_GETQUOTA"),
    (0x400, "Q_V1_SETQUOTA"),
    (0x500, "Q_V1_SETUSE"),
    (0x600, "Q_V1_SYNC"),
    (0x700, "Q_V1_SETQLIM"),
    (0x800, "Q_V1_GETSTATS"),
    (0x900, "Q_V2_GETINFO"),
    (0xa00, "Q_V2_SETINFO"),
    (0xb00, "Q_V2_SETGRACE"),
    (0xc00, "Q_V2_SETFLAGS"),
    (0xd00, "Q_V2_GETQUOTA"),
    (0xe00, "Q_V2_SETQUOTA"),
    (0xf00, "Q_V2_SETUSE"),
    (0x1000, "Q_V1_RSQUASH"),
    (0x1100, "Q_V2_GETSTATS"),
    (0x5801, "Q_XQUOTAON"),
    (0x5802, "Q_XQUOTAOFF"),
    (0x5803, "Q_XGETQUOTA"),
    (0x5804, "Q_XSETQLIM"),
    (0x5805, "Q_XGETQSTAT"),
    (0x5806, "Q_XQUOTARM"),
    (0x5807, "Q_XQUOTASYNC"),
    (0x5808, "Q_XGETQSTATV"),
    (0x5809, "Q_XGETNEXTQUOTA"),
    (0x80_0001, "Q_SYNC"),
    (0x80_0002, "Q_QUOTAON"),
    (0x80_0003, "Q_QUOTAOFF"),
    (0x80_0004, "Q_GETFMT"),
    (0x80_0005, "Q_GETINFO"),
    (0x80_0006, "Q_SETINFO"),
    (0x80_0007, "Q_GETQUOTA"),
    (0x80_0008, "Q_SETQUOTA"),
    (0x80_0009, "Q_GETNEXTQUOTA"),
];

const Q_TYPES: &[(u64, &str)] = &[(0, "USRQUOTA"), (1, "GRPQUOTA"), (2, "PRJQUOTA")];

const QFMT: &[(u64, &str)] = &[
    (1, "QFMT_VFS_OLD"),
    (2, "QFMT_VFS_V0"),
    (3, "QFMT_OCFS2"),
    (4, "QFMT_VFS_V1"),
];

const XFS_QUOTA_FLAGS: &[(u64, &str)] = &[
    (0x1, "FS_QUOTA_UDQ_ACCT"),
    (0x2, "FS_QUOTA_UDQ_ENFD"),
    (0x4, "FS_QUOTA_GDQ_ACCT"),
    (0x8, "FS_QUOTA_GDQ_ENFD"),
    (0x10, "FS_QUOTA_PDQ_ACCT"),
    (0x20, "FS_QUOTA_PDQ_ENFD"),
];

const XFS_QUOTA_TYPES: &[(u64, &str)] = &[
    (0x1, "FS_USER_QUOTA"),
    (0x2, "FS_PROJ_QUOTA"),
    (0x4, "FS_GROUP_QUOTA"),
];

const XFS_FIELDMASK: &[(u64, &str)] = &[
    (0x1, "FS_DQ_ISOFT"),
    (0x2, "FS_DQ_IHARD"),
    (0x4, "FS_DQ_BSOFT"),
    (0x8, "FS_DQ_BHARD"),
    (0x10, "FS_DQ_RTBSOFT"),
    (0x20, "FS_DQ_RTBHARD"),
    (0x40, "FS_DQ_BTIMER"),
    (0x80, "FS_DQ_ITIMER"),
    (0x100, "FS_DQ_RTBTIMER"),
    (0x200, "FS_DQ_BWARNS"),
    (0x400, "FS_DQ_IWARNS"),
    (0x800, "FS_DQ_RTBWARNS"),
    (0x1000, "FS_DQ_BCOUNT"),
    (0x2000, "FS_DQ_ICOUNT"),
    (0x4000, "FS_DQ_RTBCOUNT"),
];

const QIF_VALID: &[(u64, &str)] = &[
    (0x1, "QIF_BLIMITS"),
    (0x2, "QIF_SPACE"),
    (0x4, "QIF_ILIMITS"),
    (0x8, "QIF_INODES"),
    (0x10, "QIF_BTIME"),
    (0x20, "QIF_ITIME"),
];

const IIF_VALID: &[(u64, &str)] = &[(0x1, "IIF_BGRACE"), (0x2, "IIF_IGRACE"), (0x4, "IIF_FLAGS")];

const DQF_FLAGS: &[(u64, &str)] = &[(0x1, "DQF_ROOT_SQUASH"), (0x10000, "DQF_SYS_FILE")];

/// Flags as strace prints them (`0x8 /* MODULE_INIT_??? */` when none is known), under `-X`
/// as a number.
fn fl(c: &Ctx, v: u64, table: &[(u64, &'static str)], what: &'static str) -> Value {
    styled(c, flags_x(v, table, None, what), hex0(v))
}

/// `QCMD(Q_GETQUOTA, USRQUOTA)`; under `-X` the number, in decimal as strace prints it.
fn qcmd(c: &Ctx, v: u64) -> Value {
    styled(c, qcmd_names(v), Value::UInt(low(v)))
}

fn qcmd_names(v: u64) -> Value {
    let (cmd, typ) = (low(v) >> 8, v & 0xff);
    let cmd_v = match Q_CMDS.iter().find(|&&(x, _)| x == cmd) {
        Some(&(_, n)) => n.to_string(),
        None => format!("{cmd:#x} /* Q_??? */"),
    };
    let typ_v = match Q_TYPES.iter().find(|&&(x, _)| x == typ) {
        Some(&(_, n)) => n.to_string(),
        None => format!("{typ:#x} /* ???QUOTA */"),
    };
    Value::Raw(format!("QCMD({cmd_v}, {typ_v})"))
}

/// A `u32` flags word behind a pointer: `[FS_QUOTA_UDQ_ACCT]`.
fn flags_ref(c: &Ctx, addr: u64, table: &[(u64, &'static str)], what: &'static str) -> Value {
    match read_vec(c, addr, 4) {
        Some(b) if b.len() == 4 => Value::Array(vec![fl(c, le_u32(&b, 0).into(), table, what)]),
        _ => Value::Ptr(addr),
    }
}

/// quotactl's arguments after the command and the device (or descriptor).
fn quota_rest(c: &Ctx, cmd: u64, id: u64, addr: u64) -> Slots {
    let s = Some;
    let cmd = low(cmd) >> 8;
    let id_v = Value::UInt(low(id));
    match cmd {
        // Q_SYNC, Q_QUOTAOFF, Q_XQUOTASYNC: the device alone.
        0x80_0001 | 0x80_0003 | 0x5807 => vec![],
        0x80_0002 => vec![
            s(styled(
                c,
                sym_x(low(id), QFMT, "QFMT_VFS_???"),
                hex0(low(id)),
            )),
            s(string(c, addr)),
        ],
        0x80_0004 | 0x80_0005 | 0x5805 | 0x5808 => vec![s(Value::Ptr(addr))],
        0x80_0006 => vec![s(dqinfo(c, addr))],
        0x80_0008 => vec![s(id_v), s(dqblk(c, addr))],
        0x5801 | 0x5802 => vec![s(flags_ref(c, addr, XFS_QUOTA_FLAGS, "FS_QUOTA_???"))],
        0x5806 => vec![s(flags_ref(c, addr, XFS_QUOTA_TYPES, "FS_???_QUOTA"))],
        0x5804 => vec![s(id_v), s(fs_disk_quota(c, addr))],
        _ => vec![s(id_v), s(Value::Ptr(addr))],
    }
}

fn read_struct(c: &Ctx, addr: u64, n: usize) -> Option<Vec<u8>> {
    read_vec(c, addr, n).filter(|b| b.len() == n)
}

/// `struct if_dqinfo`.
fn dqinfo(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<24>(c, addr) else {
        return Value::Ptr(addr);
    };
    Value::structure(vec![
        ("dqi_bgrace", Value::UInt(le_u64(&b, 0))),
        ("dqi_igrace", Value::UInt(le_u64(&b, 8))),
        (
            "dqi_flags",
            fl(c, le_u32(&b, 16).into(), DQF_FLAGS, "DQF_???"),
        ),
        (
            "dqi_valid",
            fl(c, le_u32(&b, 20).into(), IIF_VALID, "IIF_???"),
        ),
    ])
}

/// `struct if_dqblk`, abbreviated after `dqb_curinodes` unless `-v`.
fn dqblk(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<72>(c, addr) else {
        return Value::Ptr(addr);
    };
    let names = [
        "dqb_bhardlimit",
        "dqb_bsoftlimit",
        "dqb_curspace",
        "dqb_ihardlimit",
        "dqb_isoftlimit",
        "dqb_curinodes",
        "dqb_btime",
        "dqb_itime",
    ];
    let mut f: Vec<(&'static str, Value)> = names
        .iter()
        .enumerate()
        .map(|(i, &n)| (n, Value::UInt(le_u64(&b, i * 8))))
        .collect();
    if c.o.abbrev {
        f.truncate(6);
        f.push(("", Value::Elided));
    } else {
        f.push((
            "dqb_valid",
            fl(c, le_u32(&b, 64).into(), QIF_VALID, "QIF_???"),
        ));
    }
    Value::structure(f)
}

/// XFS's `struct fs_disk_quota`, abbreviated after `d_icount` unless `-v`.
fn fs_disk_quota(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<112>(c, addr) else {
        return Value::Ptr(addr);
    };
    let u16_at = |o: usize| Value::UInt(u16::from_le_bytes([b[o], b[o + 1]]).into());
    let u64_at = |o: usize| Value::UInt(le_u64(&b, o));
    let mut f: Vec<(&'static str, Value)> = vec![
        ("d_version", Value::Int((b[0] as i8).into())),
        (
            "d_flags",
            fl(c, b[1].into(), XFS_QUOTA_TYPES, "FS_???_QUOTA"),
        ),
        (
            "d_fieldmask",
            fl(
                c,
                u16::from_le_bytes([b[2], b[3]]).into(),
                XFS_FIELDMASK,
                "FS_DQ_???",
            ),
        ),
        ("d_id", Value::UInt(le_u32(&b, 4).into())),
        ("d_blk_hardlimit", u64_at(8)),
        ("d_blk_softlimit", u64_at(16)),
        ("d_ino_hardlimit", u64_at(24)),
        ("d_ino_softlimit", u64_at(32)),
        ("d_bcount", u64_at(40)),
        ("d_icount", u64_at(48)),
    ];
    if c.o.abbrev {
        f.push(("", Value::Elided));
    } else {
        f.extend([
            ("d_itimer", Value::Int(le_i32(&b, 56).into())),
            ("d_btimer", Value::Int(le_i32(&b, 60).into())),
            ("d_iwarns", u16_at(64)),
            ("d_bwarns", u16_at(66)),
            ("d_rtb_hardlimit", u64_at(72)),
            ("d_rtb_softlimit", u64_at(80)),
            ("d_rtbcount", u64_at(88)),
            ("d_rtbtimer", Value::Int(le_i32(&b, 96).into())),
            ("d_rtbwarns", u16_at(100)),
        ]);
    }
    Value::structure(f)
}

/// kexec_load's flags: the architecture (the high half, a constant) and flags (the low
/// half), `KEXEC_ARCH_X86_64|KEXEC_ON_CRASH`; under `-X` each part as a number.
fn kexec_flags(c: &Ctx, v: u64) -> Value {
    let arch = v & 0xffff_0000;
    let rest = v & 0xffff;
    let arch_v = styled(c, sym_x(arch, KEXEC_ARCH, "KEXEC_ARCH_???"), hex0(arch));
    let mut s = super::util::render(&arch_v);
    if rest != 0 {
        s.push('|');
        s.push_str(&super::util::render(&fl(c, rest, KEXEC_FLAGS, "KEXEC_???")));
    }
    Value::Raw(s)
}

/// kexec_load's segments: `[{buf=0x1000, bufsz=4096, mem=0x100000, memsz=8192}, ...]`.
fn kexec_segments(c: &Ctx, addr: u64, n: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let shown = n.min(c.o.max_array as u64) as usize;
    let Some(b) = read_struct(c, addr, shown * 32) else {
        return Value::Ptr(addr);
    };
    let mut items: Vec<Value> = b
        .chunks_exact(32)
        .map(|s| {
            Value::structure(vec![
                ("buf", Value::Ptr(le_u64(s, 0))),
                ("bufsz", Value::UInt(le_u64(s, 8))),
                ("mem", Value::Ptr(le_u64(s, 16))),
                ("memsz", Value::UInt(le_u64(s, 24))),
            ])
        })
        .collect();
    if (n as usize) > shown {
        items.push(Value::Elided);
    }
    Value::Array(items)
}

/// kexec_file_load's command line: `cmdline_len` bytes, the NUL among them.
fn cmdline(c: &Ctx, addr: u64, len: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let limit = c.o.string_limit;
    let want = (len as usize).min(limit);
    if want == 0 {
        return Value::Str {
            bytes: Vec::new(),
            truncated: len > 0,
        };
    }
    match read_struct(c, addr, want) {
        Some(bytes) => Value::Str {
            bytes,
            truncated: len as usize > limit,
        },
        None => Value::Ptr(addr),
    }
}

pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    Some(match name {
        "init_module" => vec![
            s(Value::Ptr(a[0])),
            s(Value::UInt(a[1])),
            s(string(c, a[2])),
        ],
        "finit_module" => vec![
            s(fd(c, a[0])),
            s(string(c, a[1])),
            s(fl(c, low(a[2]), FINIT_FLAGS, "MODULE_INIT_???")),
        ],
        "delete_module" => vec![
            s(string(c, a[0])),
            s(fl(c, low(a[1]), DELETE_FLAGS, "O_???")),
        ],
        "kexec_load" => vec![
            s(Value::Ptr(a[0])),
            s(Value::UInt(a[1])),
            s(kexec_segments(c, a[2], a[1])),
            s(kexec_flags(c, a[3])),
        ],
        "kexec_file_load" => vec![
            s(fd(c, a[0])),
            s(fd(c, a[1])),
            s(Value::UInt(a[2])),
            s(cmdline(c, a[3], a[2])),
            s(fl(c, a[4], KEXEC_FILE_FLAGS, "KEXEC_FILE_???")),
        ],
        "quotactl" => {
            let mut v = vec![s(qcmd(c, a[0])), s(string(c, a[1]))];
            v.extend(quota_rest(c, a[0], a[2], a[3]));
            v
        }
        "quotactl_fd" => {
            let mut v = vec![s(fd(c, a[0])), s(qcmd(c, a[1]))];
            v.extend(quota_rest(c, a[1], a[2], a[3]));
            v
        }
        _ => return None,
    })
}

pub fn exit(
    name: &str,
    _c: &Ctx,
    _slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    match name {
        "init_module" | "finit_module" | "delete_module" | "kexec_load" | "kexec_file_load"
        | "quotactl" | "quotactl_fd" => Some(default_ret(rval, is_error)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines};

    #[test]
    fn modules_kexec_and_quotas() {
        let t = FakeTracee::default()
            .with(0x100, b"ext4\0")
            .with(0x200, b"/dev/sda1\0")
            .with(0x300, &5u32.to_le_bytes())
            .with(0x400, b"root=/dev/sda\0");
        assert_lines(
            &t,
            [
                (
                    "delete_module",
                    [0x100, 0o4000 | 1, 0, 0, 0, 0],
                    -1,
                    "delete_module(\"ext4\", O_NONBLOCK|0x1) = -1",
                ),
                (
                    "finit_module",
                    [3, 0x100, 8, 0, 0, 0],
                    -1,
                    "finit_module(3, \"ext4\", 0x8 /* MODULE_INIT_??? */) = -1",
                ),
                (
                    "kexec_load",
                    [0, 0, 0, (62 << 16) | 0x8001, 0, 0],
                    -1,
                    "kexec_load(NULL, 0, NULL, KEXEC_ARCH_X86_64|KEXEC_ON_CRASH|0x8000) = -1",
                ),
                (
                    "kexec_file_load",
                    [3, 4, 14, 0x400, 0x109, 0],
                    -1,
                    "kexec_file_load(3, 4, 14, \"root=/dev/sda\\0\", KEXEC_FILE_UNLOAD|0x108) = -1",
                ),
                (
                    "quotactl",
                    [0x8000_0101, 0x200, 0, 0, 0, 0],
                    0,
                    "quotactl(QCMD(Q_SYNC, GRPQUOTA), \"/dev/sda1\") = 0",
                ),
                (
                    "quotactl",
                    [0x8000_0200, 0x200, 4, 0x100, 0, 0],
                    -1,
                    "quotactl(QCMD(Q_QUOTAON, USRQUOTA), \"/dev/sda1\", QFMT_VFS_V1, \"ext4\") = -1",
                ),
                (
                    "quotactl",
                    [0x58_0177, 0x200, 0, 0x300, 0, 0],
                    -1,
                    "quotactl(QCMD(Q_XQUOTAON, 0x77 /* ???QUOTA */), \"/dev/sda1\", [FS_QUOTA_UDQ_ACCT|FS_QUOTA_GDQ_ACCT]) = -1",
                ),
                (
                    "quotactl_fd",
                    [3, 0x8000_1002, 1000, 0x300, 0, 0],
                    -1,
                    "quotactl_fd(3, QCMD(0x800010 /* Q_??? */, PRJQUOTA), 1000, 0x300) = -1",
                ),
            ],
        );
    }
}
