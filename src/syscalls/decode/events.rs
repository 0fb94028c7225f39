//! Descriptors that deliver events: eventfd, eventfd2, inotify_init, inotify_init1,
//! inotify_add_watch, inotify_rm_watch, as strace 6.1 prints them. (timerfd is in `time`,
//! signalfd in `proc/signal`.)

use super::Ctx;
use super::fs_util::flags_x;
use super::util::{default_ret, fd, fd_ret, path};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

const EFD_FLAGS: &[(u64, &str)] = &[
    (1, "EFD_SEMAPHORE"),
    (0x80000, "EFD_CLOEXEC"),
    (0x800, "EFD_NONBLOCK"),
];

const IN_INIT_FLAGS: &[(u64, &str)] = &[(0x800, "IN_NONBLOCK"), (0x80000, "IN_CLOEXEC")];

/// inotify's event mask, in bit order.
const IN_MASK: &[(u64, &str)] = &[
    (0x1, "IN_ACCESS"),
    (0x2, "IN_MODIFY"),
    (0x4, "IN_ATTRIB"),
    (0x8, "IN_CLOSE_WRITE"),
    (0x10, "IN_CLOSE_NOWRITE"),
    (0x20, "IN_OPEN"),
    (0x40, "IN_MOVED_FROM"),
    (0x80, "IN_MOVED_TO"),
    (0x100, "IN_CREATE"),
    (0x200, "IN_DELETE"),
    (0x400, "IN_DELETE_SELF"),
    (0x800, "IN_MOVE_SELF"),
    (0x2000, "IN_UNMOUNT"),
    (0x4000, "IN_Q_OVERFLOW"),
    (0x8000, "IN_IGNORED"),
    (0x0100_0000, "IN_ONLYDIR"),
    (0x0200_0000, "IN_DONT_FOLLOW"),
    (0x0400_0000, "IN_EXCL_UNLINK"),
    (0x1000_0000, "IN_MASK_CREATE"),
    (0x2000_0000, "IN_MASK_ADD"),
    (0x4000_0000, "IN_ISDIR"),
    (0x8000_0000, "IN_ONESHOT"),
];

fn int(v: u64) -> Value {
    Value::Int((v as i32).into())
}

pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let low = |v: u64| u64::from(v as u32);
    Some(match name {
        "eventfd" => vec![s(Value::UInt(low(a[0])))],
        "eventfd2" => vec![
            s(Value::UInt(low(a[0]))),
            s(flags_x(low(a[1]), EFD_FLAGS, None, "EFD_???")),
        ],
        "inotify_init" => vec![],
        "inotify_init1" => vec![s(flags_x(low(a[0]), IN_INIT_FLAGS, None, "IN_???"))],
        "inotify_add_watch" => vec![
            s(fd(c, a[0])),
            s(path(c, a[1])),
            s(flags_x(low(a[2]), IN_MASK, None, "IN_???")),
        ],
        "inotify_rm_watch" => vec![s(fd(c, a[0])), s(int(a[1]))],
        _ => return None,
    })
}

pub fn exit(
    name: &str,
    c: &Ctx,
    _slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    Some(match name {
        "eventfd" | "eventfd2" | "inotify_init" | "inotify_init1" => fd_ret(c, rval, is_error),
        "inotify_add_watch" | "inotify_rm_watch" => default_ret(rval, is_error),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines};

    #[test]
    fn eventfd_and_inotify() {
        let t = FakeTracee::default().with(0x1000, b"/tmp\0");
        assert_lines(
            &t,
            [
                (
                    "eventfd2",
                    [3, 0x80801, 0, 0, 0, 0],
                    4,
                    "eventfd2(3, EFD_SEMAPHORE|EFD_CLOEXEC|EFD_NONBLOCK) = 4",
                ),
                (
                    "eventfd2",
                    [0, 5, 0, 0, 0, 0],
                    -22,
                    "eventfd2(0, EFD_SEMAPHORE|0x4) = -22",
                ),
                ("eventfd", [7, 0, 0, 0, 0, 0], 5, "eventfd(7) = 5"),
                (
                    "inotify_init1",
                    [0x80800, 0, 0, 0, 0, 0],
                    3,
                    "inotify_init1(IN_NONBLOCK|IN_CLOEXEC) = 3",
                ),
                (
                    "inotify_add_watch",
                    [3, 0x1000, 0x2000_0300, 0, 0, 0],
                    1,
                    "inotify_add_watch(3, \"/tmp\", IN_CREATE|IN_DELETE|IN_MASK_ADD) = 1",
                ),
                (
                    "inotify_add_watch",
                    [3, 0x1000, 0, 0, 0, 0],
                    -22,
                    "inotify_add_watch(3, \"/tmp\", 0) = -22",
                ),
                (
                    "inotify_rm_watch",
                    [3, 1, 0, 0, 0, 0],
                    0,
                    "inotify_rm_watch(3, 1) = 0",
                ),
            ],
        );
    }
}
