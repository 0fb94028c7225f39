//! The `mem` decoder group: mapping and memory syscalls (mmap, munmap, mprotect, madvise,
//! mremap, brk, msync, mlock*), in strace 6.1's notation.

use super::Ctx;
use super::fs_util::{flags_x, hex_c, ret_hex, sym_x};
use super::util::{default_ret, fd, flags};
use crate::syscalls::{Ret, Value};
use std::borrow::Cow;

pub const PROT: &[(u64, &str)] = &[
    (0x1, "PROT_READ"),
    (0x2, "PROT_WRITE"),
    (0x4, "PROT_EXEC"),
    (0x8, "PROT_SEM"),
    (0x1000000, "PROT_GROWSDOWN"),
    (0x2000000, "PROT_GROWSUP"),
];

/// mmap's flags after the mapping type, in strace's order.
const MAP_FLAGS: &[(u64, &str)] = &[
    (0x10, "MAP_FIXED"),
    (0x20, "MAP_ANONYMOUS"),
    (0x40, "MAP_32BIT"),
    (0x4000, "MAP_NORESERVE"),
    (0x8000, "MAP_POPULATE"),
    (0x10000, "MAP_NONBLOCK"),
    (0x100, "MAP_GROWSDOWN"),
    (0x800, "MAP_DENYWRITE"),
    (0x1000, "MAP_EXECUTABLE"),
    (0x2000, "MAP_LOCKED"),
    (0x20000, "MAP_STACK"),
    (0x40000, "MAP_HUGETLB"),
    (0x80000, "MAP_SYNC"),
    (0x100000, "MAP_FIXED_NOREPLACE"),
];

pub(super) const MADVICE: &[(u64, &str)] = &[
    (0, "MADV_NORMAL"),
    (1, "MADV_RANDOM"),
    (2, "MADV_SEQUENTIAL"),
    (3, "MADV_WILLNEED"),
    (4, "MADV_DONTNEED"),
    (8, "MADV_FREE"),
    (9, "MADV_REMOVE"),
    (10, "MADV_DONTFORK"),
    (11, "MADV_DOFORK"),
    (12, "MADV_MERGEABLE"),
    (13, "MADV_UNMERGEABLE"),
    (14, "MADV_HUGEPAGE"),
    (15, "MADV_NOHUGEPAGE"),
    (16, "MADV_DONTDUMP"),
    (17, "MADV_DODUMP"),
    (18, "MADV_WIPEONFORK"),
    (19, "MADV_KEEPONFORK"),
    (20, "MADV_COLD"),
    (21, "MADV_PAGEOUT"),
    (22, "MADV_POPULATE_READ"),
    (23, "MADV_POPULATE_WRITE"),
    (24, "MADV_DONTNEED_LOCKED"),
    (25, "MADV_COLLAPSE"),
    (100, "MADV_HWPOISON"),
    (101, "MADV_SOFT_OFFLINE"),
];

const MREMAP: &[(u64, &str)] = &[
    (0x1, "MREMAP_MAYMOVE"),
    (0x2, "MREMAP_FIXED"),
    (0x4, "MREMAP_DONTUNMAP"),
];
const MS_FLAGS: &[(u64, &str)] = &[(0x4, "MS_SYNC"), (0x1, "MS_ASYNC"), (0x2, "MS_INVALIDATE")];
const MCL_FLAGS: &[(u64, &str)] = &[
    (0x1, "MCL_CURRENT"),
    (0x2, "MCL_FUTURE"),
    (0x4, "MCL_ONFAULT"),
];
const MLOCK2: &[(u64, &str)] = &[(0x1, "MLOCK_ONFAULT")];

/// `PROT_READ|PROT_WRITE`, `PROT_NONE` for 0.
pub fn prot(v: u64) -> Value {
    flags_x(v & 0xffff_ffff, PROT, Some("PROT_NONE"), "PROT_???")
}

/// `MAP_PRIVATE|MAP_ANONYMOUS`: the mapping type (low nibble) first, then the flags.
pub fn map_flags(v: u64) -> Value {
    let v = v & 0xffff_ffff;
    let kind: Cow<'static, str> = match v & 0xf {
        0 => "MAP_FILE".into(),
        1 => "MAP_SHARED".into(),
        2 => "MAP_PRIVATE".into(),
        3 => "MAP_SHARED_VALIDATE".into(),
        k => format!("{k:#x} /* MAP_??? */").into(),
    };
    let mut names = vec![kind];
    let low = v & !0xf & !(0x3f << 26);
    if low != 0
        && let Value::Flags(more) = flags(low, MAP_FLAGS)
    {
        names.extend(more);
    }
    let huge = (v >> 26) & 0x3f;
    if huge != 0 {
        names.push(format!("{huge}<<MAP_HUGE_SHIFT").into());
    }
    Value::Flags(names)
}

/// Entry-stop decoding; `None` if `name` is not a memory syscall.
pub fn entry(name: &str, c: &Ctx) -> Option<Vec<Option<Value>>> {
    let a = c.raw;
    let len = Value::UInt;
    let v = match name {
        "mmap" => vec![
            Value::Ptr(a[0]),
            len(a[1]),
            prot(a[2]),
            map_flags(a[3]),
            fd(c, a[4]),
            hex_c(a[5]),
        ],
        "munmap" | "mlock" | "munlock" => vec![Value::Ptr(a[0]), len(a[1])],
        "mprotect" => vec![Value::Ptr(a[0]), len(a[1]), prot(a[2])],
        "pkey_mprotect" => vec![
            Value::Ptr(a[0]),
            len(a[1]),
            prot(a[2]),
            Value::Int(i64::from(a[3] as i32)),
        ],
        "madvise" => vec![
            Value::Ptr(a[0]),
            len(a[1]),
            sym_x(a[2] & 0xffff_ffff, MADVICE, "MADV_???"),
        ],
        "mremap" => {
            let mut v = vec![
                Value::Ptr(a[0]),
                len(a[1]),
                len(a[2]),
                flags_x(a[3] & 0xffff_ffff, MREMAP, None, "MREMAP_???"),
            ];
            // strace shows the new address only with both MREMAP_MAYMOVE and MREMAP_FIXED.
            if a[3] & 0x3 == 0x3 {
                v.push(Value::Ptr(a[4]));
            }
            v
        }
        "brk" => vec![Value::Ptr(a[0])],
        "msync" => vec![
            Value::Ptr(a[0]),
            len(a[1]),
            flags_x(a[2] & 0xffff_ffff, MS_FLAGS, None, "MS_???"),
        ],
        "mlock2" => vec![
            Value::Ptr(a[0]),
            len(a[1]),
            flags_x(a[2] & 0xffff_ffff, MLOCK2, None, "MLOCK_???"),
        ],
        "mlockall" => vec![flags_x(a[0] & 0xffff_ffff, MCL_FLAGS, None, "MCL_???")],
        "munlockall" => vec![],
        "mincore" => vec![Value::Ptr(a[0]), len(a[1]), Value::Ptr(a[2])],
        _ => return None,
    };
    Some(v.into_iter().map(Some).collect())
}

/// Exit-stop decoding: memory calls have no output arguments here; addresses return in hex.
pub fn exit(
    name: &str,
    _c: &Ctx,
    _slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    match name {
        "mmap" | "mremap" | "brk" => Some(ret_hex(rval, is_error)),
        "munmap" | "mlock" | "munlock" | "mprotect" | "pkey_mprotect" | "madvise" | "msync"
        | "mlock2" | "mlockall" | "munlockall" | "mincore" => Some(default_ret(rval, is_error)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::util::fake::{FakeTracee, line_with};
    use crate::syscalls::DecodeOpts;

    #[test]
    fn mappings_as_strace_prints_them() {
        let t = FakeTracee::default().with_fd(5, "/dev/shm/PostgreSQL.1");
        let o = DecodeOpts::default();
        let l = |name: &str, raw: [u64; 6], r| line_with(&t, &o, name, raw, r);
        assert_eq!(
            l("mmap", [0, 50438144, 3, 1, 5, 0], 0x7f212f1a7000),
            "mmap(NULL, 50438144, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f212f1a7000"
        );
        assert_eq!(
            l("mmap", [0, 8192, 0x80, 3, u64::MAX, 0x1000], -9),
            "mmap(NULL, 8192, 0x80 /* PROT_??? */, MAP_SHARED_VALIDATE, -1, 0x1000) = -1 errno 9"
        );
        assert_eq!(
            l(
                "mmap",
                [0, 8192, 0, 0x40000022 | 0x200000, u64::MAX, 0],
                -22
            ),
            "mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|0x200000|16<<MAP_HUGE_SHIFT, -1, 0) = -1 errno 22"
        );
        assert!(l("mmap", [0, 4096, 7, 0xf, u64::MAX, 0], -9).contains("0xf /* MAP_??? */"));
        assert_eq!(
            l("brk", [0, 0, 0, 0, 0, 0], 0x5591bd66f000),
            "brk(NULL) = 0x5591bd66f000"
        );
        assert_eq!(
            l("madvise", [0x1000, 4096, 999, 0, 0, 0], -22),
            "madvise(0x1000, 4096, 0x3e7 /* MADV_??? */) = -1 errno 22"
        );
        assert_eq!(
            l("mremap", [0, 4096, 8192, 2, 0x1234, 0], -22),
            "mremap(NULL, 4096, 8192, MREMAP_FIXED) = -1 errno 22"
        );
        assert_eq!(
            l("mremap", [0, 4096, 8192, 3, 0x1234, 0], -22),
            "mremap(NULL, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x1234) = -1 errno 22"
        );
        assert_eq!(
            l("msync", [0, 0, 7, 0, 0, 0], 0),
            "msync(NULL, 0, MS_SYNC|MS_ASYNC|MS_INVALIDATE) = 0"
        );
        assert_eq!(
            l("munmap", [0x1000, 0, 0, 0, 0, 0], -22),
            "munmap(0x1000, 0) = -1 errno 22"
        );
    }
}
