//! poll, select and epoll, decoded as strace 6.1 prints them, including the return value
//! notes (`= 1 ([{fd=3, revents=POLLIN}])`, `= 0 (Timeout)`, `(in [3], left {...})`).

use super::Ctx;
use super::util::{
    default_ret, fd, fd_ret, flags, hex0, le_i32, le_u32, le_u64, read_bytes, read_vec, render,
    styled, timespec, timeval, unknown,
};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

/// The most fds a select set prints; keeps a bogus `nfds` from costing a huge read.
const MAX_SELECT_FDS: u64 = 1 << 16;

const EPOLL_EVENTS: &[(u64, &str)] = &[
    (0x1, "EPOLLIN"),
    (0x2, "EPOLLPRI"),
    (0x4, "EPOLLOUT"),
    (0x8, "EPOLLERR"),
    (0x10, "EPOLLHUP"),
    (0x20, "EPOLLNVAL"),
    (0x40, "EPOLLRDNORM"),
    (0x80, "EPOLLRDBAND"),
    (0x100, "EPOLLWRNORM"),
    (0x200, "EPOLLWRBAND"),
    (0x400, "EPOLLMSG"),
    (0x2000, "EPOLLRDHUP"),
    (1 << 28, "EPOLLEXCLUSIVE"),
    (1 << 29, "EPOLLWAKEUP"),
    (1 << 30, "EPOLLONESHOT"),
    (1 << 31, "EPOLLET"),
];

const POLL_EVENTS: &[(u64, &str)] = &[
    (0x1, "POLLIN"),
    (0x2, "POLLPRI"),
    (0x4, "POLLOUT"),
    (0x8, "POLLERR"),
    (0x10, "POLLHUP"),
    (0x20, "POLLNVAL"),
    (0x40, "POLLRDNORM"),
    (0x80, "POLLRDBAND"),
    (0x100, "POLLWRNORM"),
    (0x200, "POLLWRBAND"),
    (0x400, "POLLMSG"),
    (0x1000, "POLLREMOVE"),
    (0x2000, "POLLRDHUP"),
];

/// One packed `struct epoll_event` (12 bytes).
fn epoll_event(c: &Ctx, b: &[u8]) -> Value {
    let data = le_u64(b, 4);
    let ev = u64::from(le_u32(b, 0));
    Value::structure(vec![
        ("events", styled(c, flags(ev, EPOLL_EVENTS), hex0(ev))),
        (
            "data",
            Value::structure(vec![
                ("u32", Value::UInt(data & 0xffff_ffff)),
                ("u64", Value::UInt(data)),
            ]),
        ),
    ])
}

/// `n` epoll events at `addr`, `...` past the array limit.
fn epoll_events(c: &Ctx, addr: u64, n: usize) -> Value {
    let shown = n.min(c.o.max_array);
    if shown == 0 {
        return Value::Array(Vec::new());
    }
    match read_vec(c, addr, shown * 12) {
        Some(b) if b.len() == shown * 12 => {
            let mut items: Vec<Value> = b.chunks_exact(12).map(|e| epoll_event(c, e)).collect();
            if n > shown {
                items.push(Value::Elided);
            }
            Value::Array(items)
        }
        _ => Value::Ptr(addr),
    }
}

/// The `pollfd` array: `[{fd=3, events=POLLIN}]`. With `revents` true, the exit form: only
/// the entries with events, as `{fd=3, revents=POLLIN}`.
fn pollfds(c: &Ctx, addr: u64, n: u64, revents: bool) -> Option<Vec<Value>> {
    let shown = (n as usize).min(c.o.max_array);
    let b = read_vec(c, addr, shown * 8)?;
    if b.len() < shown * 8 {
        return None;
    }
    let mut items = Vec::new();
    for e in b.chunks_exact(8) {
        let f = fd(c, le_i32(e, 0) as u32 as u64);
        let ev = u64::from(u16::from_le_bytes([e[4], e[5]]));
        let rev = u64::from(u16::from_le_bytes([e[6], e[7]]));
        if revents {
            if rev != 0 {
                // The note after the return value names fds without their paths.
                items.push(Value::structure(vec![
                    ("fd", Value::Int(i64::from(le_i32(e, 0)))),
                    ("revents", styled(c, flags(rev, POLL_EVENTS), hex0(rev))),
                ]));
            }
        } else {
            items.push(Value::structure(vec![
                ("fd", f),
                ("events", styled(c, flags(ev, POLL_EVENTS), hex0(ev))),
            ]));
        }
    }
    if (n as usize) > shown && !revents {
        items.push(Value::Elided);
    }
    Some(items)
}

fn pollfds_arg(c: &Ctx, addr: u64, n: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    match pollfds(c, addr, n, false) {
        Some(items) => Value::Array(items),
        None => Value::Ptr(addr),
    }
}

/// The fds in a select set, ascending: `[0 4]`. `None` if unreadable.
fn fd_set_fds(c: &Ctx, addr: u64, nfds: u64) -> Option<Vec<u64>> {
    let nfds = nfds.min(MAX_SELECT_FDS);
    // The kernel reads whole longs.
    let bytes = nfds.div_ceil(64) as usize * 8;
    let b = if bytes == 0 {
        Vec::new()
    } else {
        let b = read_vec(c, addr, bytes)?;
        if b.len() < bytes {
            return None;
        }
        b
    };
    let mut fds = Vec::new();
    for (i, byte) in b.iter().enumerate() {
        for bit in 0..8 {
            let n = (i * 8 + bit) as u64;
            if n < nfds && byte & (1 << bit) != 0 {
                fds.push(n);
            }
        }
    }
    Some(fds)
}

fn fd_list(fds: &[u64]) -> String {
    let inner: Vec<String> = fds.iter().map(u64::to_string).collect();
    format!("[{}]", inner.join(" "))
}

/// `[3</path> 5</other>]` under -y; path bytes that could confuse a reader or a terminal
/// are escaped in octal, as the printer does for `-y` paths.
fn fd_list_with_paths(c: &Ctx, fds: &[u64]) -> String {
    let mut out = String::from("[");
    for (i, &n) in fds.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&n.to_string());
        if let Some(p) = c.t.fd_path(n as i32) {
            out.push('<');
            for b in p.bytes() {
                if (0x20..0x7f).contains(&b) && !matches!(b, b'<' | b'>' | b'\\' | b'"') {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("\\{b:o}"));
                }
            }
            out.push('>');
        }
    }
    out.push(']');
    out
}

/// A select set argument: `[0 4]`, `NULL`, or the address if unreadable.
fn fd_set_arg(c: &Ctx, addr: u64, nfds: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    match fd_set_fds(c, addr, nfds) {
        Some(fds) if c.o.decode_fds => Value::Raw(fd_list_with_paths(c, &fds)),
        Some(fds) => Value::Raw(fd_list(&fds)),
        None => Value::Ptr(addr),
    }
}

/// pselect6's sixth argument: `{sigmask=[USR1], sigsetsize=8}`.
pub(crate) fn pselect_sig(c: &Ctx, addr: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    let Some(b) = read_bytes::<16>(c, addr) else {
        return Value::Ptr(addr);
    };
    let ss = le_u64(&b, 0);
    let size = le_u64(&b, 8);
    Value::structure(vec![
        ("sigmask", sigset_ptr(c, ss, size)),
        ("sigsetsize", Value::UInt(size)),
    ])
}

fn sigset_ptr(c: &Ctx, addr: u64, size: u64) -> Value {
    if addr == 0 {
        return Value::Ptr(0);
    }
    if size != 8 {
        return Value::Ptr(addr);
    }
    match read_bytes::<8>(c, addr) {
        Some(b) => crate::syscalls::signals::sigset_styled(u64::from_le_bytes(b), c.o.const_style),
        None => Value::Ptr(addr),
    }
}

fn timeout_arg(c: &Ctx, addr: u64, tv: bool) -> Value {
    match (addr, tv) {
        (0, _) => Value::Ptr(0),
        (_, true) => timeval(c, addr),
        (_, false) => timespec(c, addr),
    }
}

fn annotated(rval: i64, note: String) -> Ret {
    Ret::Annotated {
        value: Box::new(Ret::Int(rval)),
        note,
    }
}

/// Entry-stop decoding; `None` if `name` is not a poll/select/epoll call.
pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let int = |v: u64| Value::Int((v as i32).into());
    let v = match name {
        "epoll_create" => vec![s(int(a[0]))],
        "epoll_create1" => vec![s(match a[0] as u32 {
            0 => Value::Flags(Vec::new()),
            0x80000 => Value::sym("EPOLL_CLOEXEC"),
            x => unknown(u64::from(x), "EPOLL_???"),
        })],
        "epoll_ctl" => {
            let op = match a[1] as u32 {
                1 => Value::sym("EPOLL_CTL_ADD"),
                2 => Value::sym("EPOLL_CTL_DEL"),
                3 => Value::sym("EPOLL_CTL_MOD"),
                x => unknown(u64::from(x), "EPOLL_CTL_???"),
            };
            // strace does not read the event for EPOLL_CTL_DEL, which ignores it.
            let ev = if a[3] == 0 || a[1] as u32 == 2 {
                Value::Ptr(a[3])
            } else {
                match read_vec(c, a[3], 12) {
                    Some(b) if b.len() == 12 => epoll_event(c, &b),
                    _ => Value::Ptr(a[3]),
                }
            };
            vec![s(fd(c, a[0])), s(op), s(fd(c, a[2])), s(ev)]
        }
        "epoll_wait" => vec![s(fd(c, a[0])), None, s(int(a[2])), s(int(a[3]))],
        "epoll_pwait" => vec![
            s(fd(c, a[0])),
            None,
            s(int(a[2])),
            s(int(a[3])),
            s(sigset_ptr(c, a[4], a[5])),
            s(Value::UInt(a[5])),
        ],
        "epoll_pwait2" => vec![
            s(fd(c, a[0])),
            None,
            s(int(a[2])),
            s(timeout_arg(c, a[3], false)),
            s(sigset_ptr(c, a[4], a[5])),
            s(Value::UInt(a[5])),
        ],
        "poll" => vec![
            s(pollfds_arg(c, a[0], a[1])),
            s(Value::UInt(a[1] & 0xffff_ffff)),
            s(int(a[2])),
        ],
        "ppoll" => vec![
            s(pollfds_arg(c, a[0], a[1])),
            s(Value::UInt(a[1] & 0xffff_ffff)),
            s(timeout_arg(c, a[2], false)),
            s(sigset_ptr(c, a[3], a[4])),
            s(Value::UInt(a[4])),
        ],
        "select" | "pselect6" => {
            let nfds = u64::from(a[0] as i32 as u32).min(MAX_SELECT_FDS);
            let mut v = vec![
                s(int(a[0])),
                s(fd_set_arg(c, a[1], nfds)),
                s(fd_set_arg(c, a[2], nfds)),
                s(fd_set_arg(c, a[3], nfds)),
                s(timeout_arg(c, a[4], name == "select")),
            ];
            if name == "pselect6" {
                v.push(s(pselect_sig(c, a[5])));
            }
            v
        }
        _ => return None,
    };
    Some(v)
}

/// Exit-stop decoding: the ready events and the annotated return value.
pub fn exit(
    name: &str,
    c: &Ctx,
    slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    let a = c.raw;
    let ret = match name {
        "epoll_create" | "epoll_create1" => fd_ret(c, rval, is_error),
        "epoll_ctl" => default_ret(rval, is_error),
        "epoll_wait" | "epoll_pwait" | "epoll_pwait2" => {
            let v = if is_error {
                Value::Ptr(a[1])
            } else {
                epoll_events(c, a[1], rval.max(0) as usize)
            };
            if let Some(slot) = slots.get_mut(1) {
                *slot = Some(v);
            }
            default_ret(rval, is_error)
        }
        "poll" | "ppoll" => {
            if is_error {
                default_ret(rval, is_error)
            } else if rval == 0 {
                annotated(0, "Timeout".into())
            } else {
                let mut note = match pollfds(c, a[0], a[1], true) {
                    Some(items) => render(&Value::Array(items)),
                    None => return Some(Ret::Int(rval)),
                };
                if name == "ppoll" && a[2] != 0 {
                    note.push_str(&format!(", left {}", render(&timespec(c, a[2]))));
                }
                annotated(rval, note)
            }
        }
        "select" | "pselect6" => {
            if is_error {
                default_ret(rval, is_error)
            } else if rval == 0 {
                annotated(0, "Timeout".into())
            } else {
                let nfds = u64::from(a[0] as i32 as u32).min(MAX_SELECT_FDS);
                let mut parts = Vec::new();
                for (label, addr) in [("in", a[1]), ("out", a[2]), ("except", a[3])] {
                    if addr == 0 {
                        continue;
                    }
                    if let Some(fds) = fd_set_fds(c, addr, nfds)
                        && !fds.is_empty()
                    {
                        parts.push(format!("{label} {}", fd_list(&fds)));
                    }
                }
                if a[4] != 0 {
                    let left = timeout_arg(c, a[4], name == "select");
                    parts.push(format!("left {}", render(&left)));
                }
                annotated(rval, parts.join(", "))
            }
        }
        _ => return None,
    };
    Some(ret)
}

#[cfg(test)]
mod tests {
    use crate::syscalls::decode::util::fake::{FakeTracee, line};

    fn ev(events: u32, data: u64) -> Vec<u8> {
        let mut v = events.to_le_bytes().to_vec();
        v.extend(data.to_le_bytes());
        v
    }

    #[test]
    fn epoll() {
        let mut two = ev(1, 0x1_0000_0004);
        two.extend(ev(4, 0x1_0000_0004));
        let t = FakeTracee::default()
            .with(0x1000, &ev(0x8000_0001, 0x1_0000_0005))
            .with(0x2000, &ev(0x7000_201e, 0x1_0000_0004))
            .with(0x3000, &ev(0, 0x1_0000_0004))
            .with(0x4000, &two)
            .with(0x5000, &(1u64 << 9).to_le_bytes());
        assert_eq!(
            line("epoll_create1", [0x80000, 0, 0, 0, 0, 0], &t, 5, false),
            "epoll_create1(EPOLL_CLOEXEC) = 5"
        );
        assert_eq!(
            line("epoll_create1", [0, 0, 0, 0, 0, 0], &t, 8, false),
            "epoll_create1(0) = 8"
        );
        assert_eq!(
            line("epoll_create1", [5, 0, 0, 0, 0, 0], &t, -22, true),
            "epoll_create1(0x5 /* EPOLL_??? */) = -22"
        );
        assert_eq!(
            line("epoll_create", [10, 0, 0, 0, 0, 0], &t, 6, false),
            "epoll_create(10) = 6"
        );
        assert_eq!(
            line("epoll_ctl", [5, 1, 3, 0x1000, 0, 0], &t, 0, false),
            "epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data={u32=5, u64=4294967301}}) = 0"
        );
        assert_eq!(
            line("epoll_ctl", [5, 3, 4, 0x2000, 0, 0], &t, -22, true),
            "epoll_ctl(5, EPOLL_CTL_MOD, 4, {events=EPOLLPRI|EPOLLOUT|EPOLLERR|EPOLLHUP|EPOLLRDHUP|EPOLLEXCLUSIVE|EPOLLWAKEUP|EPOLLONESHOT, data={u32=4, u64=4294967300}}) = -22"
        );
        assert_eq!(
            line("epoll_ctl", [5, 2, 4, 0, 0, 0], &t, -2, true),
            "epoll_ctl(5, EPOLL_CTL_DEL, 4, NULL) = -2"
        );
        assert_eq!(
            line("epoll_ctl", [5, 2, 4, 0x2000, 0, 0], &t, -2, true),
            "epoll_ctl(5, EPOLL_CTL_DEL, 4, 0x2000) = -2"
        );
        assert_eq!(
            line("epoll_ctl", [5, 9, 4, 0x3000, 0, 0], &t, -22, true),
            "epoll_ctl(5, 0x9 /* EPOLL_CTL_??? */, 4, {events=0, data={u32=4, u64=4294967300}}) = -22"
        );
        assert_eq!(
            line("epoll_wait", [5, 0x4000, 8, 100, 0, 0], &t, 2, false),
            "epoll_wait(5, [{events=EPOLLIN, data={u32=4, u64=4294967300}}, {events=EPOLLOUT, data={u32=4, u64=4294967300}}], 8, 100) = 2"
        );
        assert_eq!(
            line("epoll_pwait", [5, 0x4000, 8, 0, 0x5000, 8], &t, 2, false),
            "epoll_pwait(5, [{events=EPOLLIN, data={u32=4, u64=4294967300}}, {events=EPOLLOUT, data={u32=4, u64=4294967300}}], 8, 0, [USR1], 8) = 2"
        );
        assert_eq!(
            line("epoll_pwait", [5, 0x4000, 8, 0, 0, 8], &t, 0, false),
            "epoll_pwait(5, [], 8, 0, NULL, 8) = 0"
        );
        assert_eq!(
            line("epoll_wait", [8, 8, 8, 1, 0, 0], &t, 0, false),
            "epoll_wait(8, [], 8, 1) = 0"
        );
        assert_eq!(
            line("epoll_wait", [8, 8, 8, 1, 0, 0], &t, -4, true),
            "epoll_wait(8, 0x8, 8, 1) = -4"
        );
    }

    fn pollfd(fd: i32, ev: u16, rev: u16) -> Vec<u8> {
        let mut v = fd.to_le_bytes().to_vec();
        v.extend(ev.to_le_bytes());
        v.extend(rev.to_le_bytes());
        v
    }

    #[test]
    fn poll_and_ppoll() {
        let mut fds = pollfd(4, 1, 0);
        fds.extend(pollfd(7, 6, 4));
        fds.extend(pollfd(99, 0x2041, 0x20));
        let t = FakeTracee::default()
            .with(0x1000, &fds)
            .with(0x2000, &[1, 0, 0, 0, 0, 0, 0, 0, 0x8d, 1, 0, 0, 0, 0, 0, 0])
            .with(0x3000, &(1u64 << 9).to_le_bytes());
        assert_eq!(
            line("poll", [0x1000, 3, 10, 0, 0, 0], &t, 2, false),
            "poll([{fd=4, events=POLLIN}, {fd=7, events=POLLPRI|POLLOUT}, {fd=99, events=POLLIN|POLLRDNORM|POLLRDHUP}], 3, 10) = 2 ([{fd=7, revents=POLLOUT}, {fd=99, revents=POLLNVAL}])"
        );
        assert_eq!(
            line("poll", [0x1000, 1, 1, 0, 0, 0], &t, 0, false),
            "poll([{fd=4, events=POLLIN}], 1, 1) = 0 (Timeout)"
        );
        assert_eq!(
            line("poll", [0, 0, 1, 0, 0, 0], &t, 0, false),
            "poll(NULL, 0, 1) = 0 (Timeout)"
        );
        // The timespec at 0x2000 is what the kernel left: {1, 397}.
        assert_eq!(
            line("ppoll", [0x1000, 3, 0x2000, 0x3000, 8, 0], &t, 2, false),
            "ppoll([{fd=4, events=POLLIN}, {fd=7, events=POLLPRI|POLLOUT}, {fd=99, events=POLLIN|POLLRDNORM|POLLRDHUP}], 3, {tv_sec=1, tv_nsec=397}, [USR1], 8) = 2 ([{fd=7, revents=POLLOUT}, {fd=99, revents=POLLNVAL}], left {tv_sec=1, tv_nsec=397})"
        );
        assert_eq!(
            line("ppoll", [0x1000, 2, 0, 0x3000, 8, 0], &t, 1, false),
            "ppoll([{fd=4, events=POLLIN}, {fd=7, events=POLLPRI|POLLOUT}], 2, NULL, [USR1], 8) = 1 ([{fd=7, revents=POLLOUT}])"
        );
    }

    #[test]
    fn select_and_pselect6() {
        let mut sig = 0x5000u64.to_le_bytes().to_vec();
        sig.extend(8u64.to_le_bytes());
        let t = FakeTracee::default()
            .with(0x1000, &0x11u64.to_le_bytes())
            .with(0x1100, &0x01u64.to_le_bytes())
            .with(0x2000, &0x80u64.to_le_bytes())
            .with(
                0x3000,
                &[0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x42, 0x0f, 0, 0, 0, 0, 0],
            )
            .with(0x4000, &sig)
            .with(0x5000, &(1u64 << 9).to_le_bytes());
        // Entry sees [0 4]; the kernel then leaves [0] (0x1100 shows the exit state).
        let l = line("pselect6", [8, 0x1100, 0x2000, 0, 0x3000, 0], &t, 2, false);
        assert_eq!(
            l,
            "pselect6(8, [0], [7], NULL, {tv_sec=0, tv_nsec=1000000}, NULL) = 2 (in [0], out [7], left {tv_sec=0, tv_nsec=1000000})"
        );
        assert_eq!(
            line("pselect6", [5, 0x1000, 0, 0, 0x3000, 0], &t, 0, false),
            "pselect6(5, [0 4], NULL, NULL, {tv_sec=0, tv_nsec=1000000}, NULL) = 0 (Timeout)"
        );
        assert_eq!(
            line("pselect6", [8, 0, 0x2000, 0, 0x3000, 0x4000], &t, 1, false),
            "pselect6(8, NULL, [7], NULL, {tv_sec=0, tv_nsec=1000000}, {sigmask=[USR1], sigsetsize=8}) = 1 (out [7], left {tv_sec=0, tv_nsec=1000000})"
        );
        assert_eq!(
            line("select", [0, 0, 0, 0, 0x3000, 0], &t, 0, false),
            "select(0, NULL, NULL, NULL, {tv_sec=0, tv_usec=1000000}) = 0 (Timeout)"
        );
        assert_eq!(
            line("pselect6", [0, 0, 0, 0, 0, 0], &t, -514, true),
            "pselect6(0, NULL, NULL, NULL, NULL, NULL) = -514"
        );
    }
}
