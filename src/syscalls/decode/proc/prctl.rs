//! prctl and arch_prctl.

use super::*;
use crate::syscalls::decode::util::{
    default_ret, hex0, read_bytes, read_cstr, string, unknown, xlat,
};
use crate::syscalls::signals;

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
    (27, "PR_GET_SECUREBITS"),
    (28, "PR_SET_SECUREBITS"),
    (29, "PR_SET_TIMERSLACK"),
    (30, "PR_GET_TIMERSLACK"),
    (33, "PR_MCE_KILL"),
    (34, "PR_MCE_KILL_GET"),
    (35, "PR_SET_MM"),
    (36, "PR_SET_CHILD_SUBREAPER"),
    (37, "PR_GET_CHILD_SUBREAPER"),
    (38, "PR_SET_NO_NEW_PRIVS"),
    (39, "PR_GET_NO_NEW_PRIVS"),
    (41, "PR_SET_THP_DISABLE"),
    (42, "PR_GET_THP_DISABLE"),
    (47, "PR_CAP_AMBIENT"),
    (52, "PR_GET_SPECULATION_CTRL"),
    (53, "PR_SET_SPECULATION_CTRL"),
    (57, "PR_SET_IO_FLUSHER"),
    (58, "PR_GET_IO_FLUSHER"),
    (0x5356_4d41, "PR_SET_VMA"),
];

const SECBITS: &[(u64, &str)] = &[
    (0x01, "SECBIT_NOROOT"),
    (0x02, "SECBIT_NOROOT_LOCKED"),
    (0x04, "SECBIT_NO_SETUID_FIXUP"),
    (0x08, "SECBIT_NO_SETUID_FIXUP_LOCKED"),
    (0x10, "SECBIT_KEEP_CAPS"),
    (0x20, "SECBIT_KEEP_CAPS_LOCKED"),
    (0x40, "SECBIT_NO_CAP_AMBIENT_RAISE"),
    (0x80, "SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED"),
];

const AMBIENT: &[(u64, &str)] = &[
    (1, "PR_CAP_AMBIENT_IS_SET"),
    (2, "PR_CAP_AMBIENT_RAISE"),
    (3, "PR_CAP_AMBIENT_LOWER"),
    (4, "PR_CAP_AMBIENT_CLEAR_ALL"),
];

const SPEC_WHICH: &[(u64, &str)] = &[
    (0, "PR_SPEC_STORE_BYPASS"),
    (1, "PR_SPEC_INDIRECT_BRANCH"),
    (2, "PR_SPEC_L1D_FLUSH"),
];

const SPEC_STATE: &[(u64, &str)] = &[
    (0x01, "PR_SPEC_PRCTL"),
    (0x02, "PR_SPEC_ENABLE"),
    (0x04, "PR_SPEC_DISABLE"),
    (0x08, "PR_SPEC_FORCE_DISABLE"),
    (0x10, "PR_SPEC_DISABLE_NOEXEC"),
];

const MCE_KILL_POLICY: &[(u64, &str)] = &[
    (0, "PR_MCE_KILL_LATE"),
    (1, "PR_MCE_KILL_EARLY"),
    (2, "PR_MCE_KILL_DEFAULT"),
];

/// A capability by number, `0x63 /* CAP_??? */` beyond the known ones.
fn cap(v: u64) -> Value {
    CAPS.get(v as usize)
        .map(|n| Value::sym(n))
        .unwrap_or_else(|| unknown(v, "CAP_???"))
}

const DUMPABLE: &[(u64, &str)] = &[
    (0, "SUID_DUMP_DISABLE"),
    (1, "SUID_DUMP_USER"),
    (2, "SUID_DUMP_ROOT"),
];

/// Capability names by bit number (`capability.h`); capget/capset print them too.
pub(super) const CAPS: &[&str] = &[
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
        PR_GET_DUMPABLE | 7 | 21 | 27 | 30 | 37 => vec![s(name)],
        // PR_SET_SECCOMP: the mode, then the filter for SECCOMP_MODE_FILTER.
        22 => {
            let mode = xlat(
                a[1],
                &[
                    (0, "SECCOMP_MODE_DISABLED"),
                    (1, "SECCOMP_MODE_STRICT"),
                    (2, "SECCOMP_MODE_FILTER"),
                ],
                "SECCOMP_MODE_???",
            );
            match a[1] {
                1 => vec![s(name), s(mode)],
                2 => vec![
                    s(name),
                    s(mode),
                    s(crate::syscalls::decode::seccomp_filter::fprog(c, a[2])),
                ],
                _ => vec![
                    s(name),
                    s(mode),
                    s(hex0(a[2])),
                    s(hex0(a[3])),
                    s(hex0(a[4])),
                ],
            }
        }
        28 => vec![
            s(name),
            s(crate::syscalls::decode::fs_util::flags_x(
                a[1],
                SECBITS,
                None,
                "SECBIT_???",
            )),
        ],
        47 => {
            let sub = xlat(a[1], AMBIENT, "PR_CAP_AMBIENT_???");
            let which = if (1..=3).contains(&a[1]) {
                cap(a[2])
            } else {
                uint(a[2])
            };
            vec![s(name), s(sub), s(which), s(uint(a[3])), s(uint(a[4]))]
        }
        52 => vec![
            s(name),
            s(crate::syscalls::decode::util::styled(
                c,
                xlat(a[1], SPEC_WHICH, "PR_SPEC_???"),
                hex0(a[1]),
            )),
        ],
        53 => vec![
            s(name),
            s(xlat(a[1], SPEC_WHICH, "PR_SPEC_???")),
            s(crate::syscalls::decode::fs_util::flags_x(
                a[2],
                SPEC_STATE,
                None,
                "PR_SPEC_???",
            )),
        ],
        33 | 34 | 41 | 42 | 57 | 58 => vec![
            s(name),
            s(uint(a[1])),
            s(uint(a[2])),
            s(uint(a[3])),
            s(uint(a[4])),
        ],
        PR_SET_DUMPABLE => vec![s(name), s(xlat(a[1], DUMPABLE, "SUID_DUMP_???"))],
        PR_SET_NAME => vec![s(name), s(string(c, a[1]))],
        8 | 36 => vec![s(name), s(int(a[1]))],
        29 => vec![s(name), s(uint(a[1]))],
        23 | 24 => vec![s(name), s(cap(a[1]))],
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

pub(crate) fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let v = match name {
        "arch_prctl" => {
            let code = xlat(a[0] & 0xffff_ffff, ARCH_PRCTL, "ARCH_???");
            match a[0] & 0xffff_ffff {
                0x1003 | 0x1004 => vec![s(code), None],
                0x1011 => vec![s(code)],
                0x1012 => vec![s(code), s(Value::Int(a[1] as i64))],
                _ => vec![s(code), s(hex0(a[1]))],
            }
        }
        "prctl" => prctl(c),
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
        "arch_prctl" if matches!(a[0] & 0xffff_ffff, 0x1003 | 0x1004) => {
            let v = out(a[1], &|| match read_bytes::<8>(c, a[1]) {
                Some(b) => Value::Array(vec![hex0(u64::from_le_bytes(b))]),
                None => Value::Ptr(a[1]),
            });
            set(1, v);
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
            // `= 0x3 (PR_SPEC_PRCTL|PR_SPEC_ENABLE)`.
            // strace's -X raw prints the bare number.
            52 if ok && rval >= 0 && c.o.const_style == crate::syscalls::ConstStyle::Raw => {
                Ret::Hex(rval as u64)
            }
            52 if ok && rval >= 0 => Ret::Annotated {
                value: Box::new(Ret::Hex(rval as u64)),
                note: crate::syscalls::decode::util::render(&crate::syscalls::decode::util::flags(
                    rval as u64,
                    SPEC_STATE,
                )),
            },
            34 if ok => match MCE_KILL_POLICY.iter().find(|&&(v, _)| v as i64 == rval) {
                Some(&(_, n)) => Ret::Annotated {
                    value: Box::new(Ret::Int(rval)),
                    note: n.to_string(),
                },
                None => Ret::Int(rval),
            },
            PR_GET_DUMPABLE if ok => match DUMPABLE.iter().find(|&&(v, _)| v as i64 == rval) {
                Some(&(_, n)) => Ret::Annotated {
                    value: Box::new(Ret::Int(rval)),
                    note: n.to_string(),
                },
                None => Ret::Int(rval),
            },
            _ => default_ret(rval, is_error),
        },
        _ => return None,
    };
    Some(ret)
}
