//! Extended attributes: {,l,f}{set,get,list,remove}xattr, as strace 6.1 prints them.
//!
//! A value is printed as the bytes it holds (`size` of them when set, the return value's when
//! got), a name list with its NULs (`"user.a\0"`); an output the kernel did not fill (the
//! call failed) as its address.

use super::Ctx;
use super::fs_util::flags_x;
use super::util::{buffer, default_ret, fd, path, string};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

/// The file an xattr call names: a path (`setxattr`, `lsetxattr`) or a descriptor (`f...`).
fn target(name: &str, c: &Ctx, raw: u64) -> Value {
    if name.starts_with('f') {
        fd(c, raw)
    } else {
        path(c, raw)
    }
}

/// The call without its `l`/`f` prefix: `setxattr`, `getxattr`, `listxattr`, `removexattr`.
fn base(name: &str) -> &str {
    const BASES: [&str; 4] = ["setxattr", "getxattr", "listxattr", "removexattr"];
    match name.strip_prefix(['l', 'f']) {
        Some(rest) if BASES.contains(&rest) => rest,
        _ => name,
    }
}

pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    Some(match base(name) {
        "setxattr" => vec![
            s(target(name, c, a[0])),
            s(string(c, a[1])),
            s(buffer(c, a[2], a[3])),
            s(Value::UInt(a[3])),
            s(flags_x(
                u64::from(a[4] as u32),
                &[(1, "XATTR_CREATE"), (2, "XATTR_REPLACE")],
                None,
                "XATTR_???",
            )),
        ],
        "getxattr" => vec![
            s(target(name, c, a[0])),
            s(string(c, a[1])),
            None,
            s(Value::UInt(a[3])),
        ],
        "listxattr" => vec![s(target(name, c, a[0])), None, s(Value::UInt(a[2]))],
        "removexattr" => vec![s(target(name, c, a[0])), s(string(c, a[1]))],
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
    // The buffer and its size: getxattr's third and fourth arguments, listxattr's second and
    // third.
    let (slot, addr, size) = match base(name) {
        "getxattr" => (2, a[2], a[3]),
        "listxattr" => (1, a[1], a[2]),
        "setxattr" | "removexattr" => return Some(default_ret(rval, is_error)),
        _ => return None,
    };
    let v = if addr == 0 {
        Value::Ptr(0)
    } else if is_error {
        Value::Ptr(addr)
    } else {
        buffer(c, addr, (rval.max(0) as u64).min(size))
    };
    if let Some(s) = slots.get_mut(slot) {
        *s = Some(v);
    }
    Some(default_ret(rval, is_error))
}

#[cfg(test)]
mod tests {
    use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines};

    #[test]
    fn values_names_and_lists() {
        let t = FakeTracee::default()
            .with(0x1000, b"/f\0")
            .with(0x2000, b"user.a\0")
            .with(0x3000, b"v\x01lue")
            .with(0x4000, b"user.a\0user.b\0");
        assert_lines(
            &t,
            [
                (
                    "setxattr",
                    [0x1000, 0x2000, 0x3000, 5, 1, 0],
                    0,
                    "setxattr(\"/f\", \"user.a\", \"v\\1lue\", 5, XATTR_CREATE) = 0",
                ),
                (
                    "fsetxattr",
                    [3, 0x2000, 0x3000, 2, 4, 0],
                    -22,
                    "fsetxattr(3, \"user.a\", \"v\\1\", 2, 0x4 /* XATTR_??? */) = -22",
                ),
                (
                    "getxattr",
                    [0x1000, 0x2000, 0x3000, 64, 0, 0],
                    5,
                    "getxattr(\"/f\", \"user.a\", \"v\\1lue\", 64) = 5",
                ),
                (
                    "lgetxattr",
                    [0x1000, 0x2000, 0x3000, 2, 0, 0],
                    -34,
                    "lgetxattr(\"/f\", \"user.a\", 0x3000, 2) = -34",
                ),
                (
                    "getxattr",
                    [0x1000, 0x2000, 0, 0, 0, 0],
                    5,
                    "getxattr(\"/f\", \"user.a\", NULL, 0) = 5",
                ),
                (
                    "listxattr",
                    [0x1000, 0x4000, 64, 0, 0, 0],
                    14,
                    "listxattr(\"/f\", \"user.a\\0user.b\\0\", 64) = 14",
                ),
                (
                    "flistxattr",
                    [3, 0, 0, 0, 0, 0],
                    14,
                    "flistxattr(3, NULL, 0) = 14",
                ),
                (
                    "lremovexattr",
                    [0x1000, 0x2000, 0, 0, 0, 0],
                    -61,
                    "lremovexattr(\"/f\", \"user.a\") = -61",
                ),
            ],
        );
    }
}
