//! Clocks, timers (timerfd included) and sleeps, decoded as strace 6.1 prints them.

use super::Ctx;
use super::fs_util::flags_x;
use super::util::{default_ret, fd, fd_ret, flags, le_i64, read_bytes, timespec, timeval, unknown};
use crate::syscalls::{Ret, Value};

type Slots = Vec<Option<Value>>;

/// timerfd_create's and timerfd_settime's flags: one table, as strace prints both.
const TFD_FLAGS: &[(u64, &str)] = &[
    (1, "TFD_TIMER_ABSTIME"),
    (2, "TFD_TIMER_CANCEL_ON_SET"),
    (0x80000, "TFD_CLOEXEC"),
    (0x800, "TFD_NONBLOCK"),
];

const CLOCKS: &[&str] = &[
    "CLOCK_REALTIME",
    "CLOCK_MONOTONIC",
    "CLOCK_PROCESS_CPUTIME_ID",
    "CLOCK_THREAD_CPUTIME_ID",
    "CLOCK_MONOTONIC_RAW",
    "CLOCK_REALTIME_COARSE",
    "CLOCK_MONOTONIC_COARSE",
    "CLOCK_BOOTTIME",
    "CLOCK_REALTIME_ALARM",
    "CLOCK_BOOTTIME_ALARM",
    "CLOCK_SGI_CYCLE",
    "CLOCK_TAI",
];

/// A `clockid_t`: `CLOCK_MONOTONIC`, else `0xfffffffa /* CLOCK_??? */` (CPU-time clocks of
/// other processes included, as strace prints them).
pub fn clock_id(v: u64) -> Value {
    let id = v as u32;
    match CLOCKS.get(id as usize) {
        Some(n) => Value::sym(n),
        None => unknown(u64::from(id), "CLOCK_???"),
    }
}

fn itimer_which(v: u64) -> Value {
    match v as u32 {
        0 => Value::sym("ITIMER_REAL"),
        1 => Value::sym("ITIMER_VIRTUAL"),
        2 => Value::sym("ITIMER_PROF"),
        w => unknown(u64::from(w), "ITIMER_???"),
    }
}

/// `struct itimerval`: `{it_interval={tv_sec=0, tv_usec=0}, it_value={...}}`.
fn itimerval(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<32>(c, addr) else {
        return Value::Ptr(addr);
    };
    let tv = |off| {
        Value::structure(vec![
            ("tv_sec", Value::Int(le_i64(&b, off))),
            ("tv_usec", Value::Int(le_i64(&b, off + 8))),
        ])
    };
    Value::structure(vec![("it_interval", tv(0)), ("it_value", tv(16))])
}

fn timezone(c: &Ctx, addr: u64) -> Value {
    match read_bytes::<8>(c, addr) {
        Some(b) => Value::structure(vec![
            (
                "tz_minuteswest",
                Value::Int(i32::from_le_bytes([b[0], b[1], b[2], b[3]]).into()),
            ),
            (
                "tz_dsttime",
                Value::Int(i32::from_le_bytes([b[4], b[5], b[6], b[7]]).into()),
            ),
        ]),
        None => Value::Ptr(addr),
    }
}

/// An input pointer: NULL, or decoded by `f`.
fn opt(addr: u64, f: impl FnOnce() -> Value) -> Value {
    if addr == 0 { Value::Ptr(0) } else { f() }
}

/// Entry-stop decoding; `None` if `name` is not a clock/timer/sleep call.
pub fn entry(name: &str, c: &Ctx) -> Option<Slots> {
    let a = c.raw;
    let s = Some;
    let v = match name {
        "gettimeofday" => vec![None, None],
        "times" => vec![None],
        "settimeofday" => vec![
            s(opt(a[0], || timeval(c, a[0]))),
            s(opt(a[1], || timezone(c, a[1]))),
        ],
        "clock_gettime" | "clock_getres" => vec![s(clock_id(a[0])), None],
        "clock_settime" => vec![s(clock_id(a[0])), s(opt(a[1], || timespec(c, a[1])))],
        "nanosleep" => vec![s(opt(a[0], || timespec(c, a[0]))), None],
        "clock_nanosleep" => vec![
            s(clock_id(a[0])),
            s(flags(a[1] & 0xffff_ffff, &[(1, "TIMER_ABSTIME")])),
            s(opt(a[2], || timespec(c, a[2]))),
            None,
        ],
        "setitimer" => vec![
            s(itimer_which(a[0])),
            s(opt(a[1], || itimerval(c, a[1]))),
            None,
        ],
        "getitimer" => vec![s(itimer_which(a[0])), None],
        "timer_create" => vec![s(clock_id(a[0])), s(opt(a[1], || sigevent(c, a[1]))), None],
        "timer_settime" => vec![
            s(Value::Int((a[0] as i32).into())),
            s(flags(a[1] & 0xffff_ffff, &[(1, "TIMER_ABSTIME")])),
            s(opt(a[2], || itimerspec(c, a[2]))),
            None,
        ],
        "timer_gettime" => vec![s(Value::Int((a[0] as i32).into())), None],
        "timerfd_create" => vec![
            s(clock_id(a[0])),
            s(flags_x(a[1] & 0xffff_ffff, TFD_FLAGS, None, "TFD_???")),
        ],
        "timerfd_settime" => vec![
            s(fd(c, a[0])),
            s(flags_x(a[1] & 0xffff_ffff, TFD_FLAGS, None, "TFD_???")),
            s(opt(a[2], || itimerspec(c, a[2]))),
            None,
        ],
        "timerfd_gettime" => vec![s(fd(c, a[0])), None],
        "timer_getoverrun" | "timer_delete" => vec![s(Value::Int((a[0] as i32).into()))],
        "alarm" => vec![s(Value::UInt(a[0] & 0xffff_ffff))],
        // The time is written back: decoded at exit, unless there is nowhere to write it.
        "time" => vec![if a[0] == 0 { s(Value::Ptr(0)) } else { None }],
        _ => return None,
    };
    Some(v)
}

/// Exit-stop decoding: the times written back and the return value.
pub fn exit(
    name: &str,
    c: &Ctx,
    slots: &mut [Option<Value>],
    rval: i64,
    is_error: bool,
) -> Option<Ret> {
    let a = c.raw;
    let ok = !is_error;
    let mut set = super::util::setter(slots);
    // An output struct prints decoded on success, as its address on failure.
    let out = |addr: u64, f: &dyn Fn() -> Value| super::util::output(ok, addr, f);
    match name {
        "gettimeofday" => {
            set(0, out(a[0], &|| timeval(c, a[0])));
            set(1, out(a[1], &|| timezone(c, a[1])));
        }
        "clock_gettime" | "clock_getres" => set(1, out(a[1], &|| timespec(c, a[1]))),
        // times' result is clock ticks, which may be any value: never an error.
        "times" => {
            set(0, out(a[0], &|| tms(c, a[0])));
            return Some(Ret::Int(rval));
        }
        // The remaining time is written only when the sleep was interrupted.
        "nanosleep" => set(1, remaining(c, a[1], is_error)),
        "clock_nanosleep" => set(3, remaining(c, a[3], is_error)),
        "setitimer" => set(2, out(a[2], &|| itimerval(c, a[2]))),
        "getitimer" => set(1, out(a[1], &|| itimerval(c, a[1]))),
        "settimeofday" | "clock_settime" | "alarm" | "timer_getoverrun" | "timer_delete" => {}
        "timer_create" => set(
            2,
            out(a[2], &|| match read_bytes::<4>(c, a[2]) {
                Some(b) => Value::Array(vec![Value::Int(i32::from_le_bytes(b).into())]),
                None => Value::Ptr(a[2]),
            }),
        ),
        "timer_settime" => set(3, out(a[3], &|| itimerspec(c, a[3]))),
        "timer_gettime" => set(1, out(a[1], &|| itimerspec(c, a[1]))),
        "timerfd_create" => return Some(fd_ret(c, rval, is_error)),
        "timerfd_settime" => set(3, out(a[3], &|| itimerspec(c, a[3]))),
        "timerfd_gettime" => set(1, out(a[1], &|| itimerspec(c, a[1]))),
        // strace: `time([1795765667 /* 2026-11-27T07:47:47+0000 */]) = 1795765667 (...)`.
        "time" => {
            if a[0] != 0 {
                let stored = read_bytes::<8>(c, a[0]).map(|b| le_i64(&b, 0));
                set(
                    0,
                    match stored {
                        Some(t) if ok => Value::Raw(format!("[{t} /* {} */]", local_iso8601(t))),
                        _ => Value::Ptr(a[0]),
                    },
                );
            }
            if ok {
                return Some(Ret::Annotated {
                    value: Box::new(Ret::Int(rval)),
                    note: local_iso8601(rval),
                });
            }
        }
        _ => return None,
    }
    Some(default_ret(rval, is_error))
}

/// `struct tms`: `{tms_utime=0, tms_stime=0, tms_cutime=0, tms_cstime=0}` (clock ticks).
fn tms(c: &Ctx, addr: u64) -> Value {
    match super::util::read_bytes::<32>(c, addr) {
        Some(b) => {
            let f = |off: usize| Value::UInt(super::util::le_u64(&b, off));
            Value::structure(vec![
                ("tms_utime", f(0)),
                ("tms_stime", f(8)),
                ("tms_cutime", f(16)),
                ("tms_cstime", f(24)),
            ])
        }
        None => Value::Ptr(addr),
    }
}

/// `{tv_sec=S, tv_nsec=N} /* 2023-11-14T22:13:21.000000500+0000 */` as strace comments a
/// file time (utimensat); UTIME_NOW / UTIME_OMIT by name.
pub fn file_time(sec: i64, nsec: i64) -> Value {
    let ns = match nsec {
        0x3fff_ffff => return Value::Raw(format!("{{tv_sec={sec}, tv_nsec=UTIME_NOW}}")),
        0x3fff_fffe => return Value::Raw(format!("{{tv_sec={sec}, tv_nsec=UTIME_OMIT}}")),
        n => n,
    };
    let mut iso = local_iso8601(sec);
    if ns != 0 && iso.len() >= 5 {
        let at = iso.len() - 5;
        iso.insert_str(at, &format!(".{ns:09}"));
    }
    Value::Raw(format!("{{tv_sec={sec}, tv_nsec={ns}}} /* {iso} */"))
}

/// `struct itimerspec`: `{it_interval={tv_sec=0, tv_nsec=0}, it_value={...}}`.
fn itimerspec(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<32>(c, addr) else {
        return Value::Ptr(addr);
    };
    let ts = |off| {
        Value::structure(vec![
            ("tv_sec", Value::Int(le_i64(&b, off))),
            ("tv_nsec", Value::Int(le_i64(&b, off + 8))),
        ])
    };
    Value::structure(vec![("it_interval", ts(0)), ("it_value", ts(16))])
}

/// `struct sigevent` as strace prints it for timer_create.
pub(crate) fn sigevent(c: &Ctx, addr: u64) -> Value {
    let Some(b) = read_bytes::<20>(c, addr) else {
        return Value::Ptr(addr);
    };
    let signo = i32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    let notify = i32::from_le_bytes([b[12], b[13], b[14], b[15]]);
    let how = match notify {
        0 => "SIGEV_SIGNAL",
        1 => "SIGEV_NONE",
        2 => "SIGEV_THREAD",
        4 => "SIGEV_THREAD_ID",
        _ => "",
    };
    let notify_v = if how.is_empty() {
        Value::Raw(format!("{notify} /* SIGEV_??? */"))
    } else {
        super::util::styled(c, Value::sym(how), super::util::hex0(notify as u32 as u64))
    };
    let mut f = Vec::new();
    if notify != 1 {
        let val = le_i64(&b, 0);
        f.push((
            "sigev_value",
            Value::Raw(format!(
                "{{sival_int={}, sival_ptr={:#x}}}",
                val as i32, val as u64
            )),
        ));
        f.push((
            "sigev_signo",
            super::util::styled(
                c,
                crate::syscalls::signals::value(signo),
                Value::Int(signo.into()),
            ),
        ));
    } else {
        f.push(("sigev_signo", Value::Int(signo.into())));
    }
    f.push(("sigev_notify", notify_v));
    if notify == 4 {
        f.push((
            "sigev_notify_thread_id",
            Value::Int(i32::from_le_bytes([b[16], b[17], b[18], b[19]]).into()),
        ));
    }
    Value::structure(f)
}

/// Epoch seconds as local time the way strace writes them: `2026-11-27T08:47:47+0100`.
pub(crate) fn local_iso8601(t: i64) -> String {
    let tt = libc::time_t::from(t);
    // SAFETY: `tm` is plain data that localtime_r fills; both pointers are valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&tt, &mut tm) }.is_null() {
        return t.to_string();
    }
    format_tm(&tm)
}

/// [`local_iso8601`] with the nanoseconds when there are any, as strace writes file times:
/// `2026-12-02T19:08:57.067762371+0000`.
pub(crate) fn local_iso8601_ns(t: i64, ns: i64) -> String {
    local_iso8601_frac(t, ns, 9)
}

/// [`local_iso8601`] with a fraction of `digits` digits when it is not zero (utimes'
/// microseconds: `1970-01-01T00:16:40.000005+0000`).
pub(crate) fn local_iso8601_frac(t: i64, frac: i64, digits: usize) -> String {
    let mut s = local_iso8601(t);
    if frac != 0
        && let Some(i) = s.rfind(['+', '-'])
        && i > 10
    {
        s.insert_str(i, &format!(".{frac:0digits$}"));
    }
    s
}

fn format_tm(tm: &libc::tm) -> String {
    let off = tm.tm_gmtoff;
    let (sign, off) = if off < 0 { ('-', -off) } else { ('+', off) };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}{:02}",
        i64::from(tm.tm_year) + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        off / 3600,
        off % 3600 / 60
    )
}

fn remaining(c: &Ctx, addr: u64, is_error: bool) -> Value {
    if addr != 0 && is_error {
        timespec(c, addr)
    } else {
        Value::Ptr(addr)
    }
}

#[cfg(test)]
mod tests {
    use crate::syscalls::decode::util::fake::{FakeTracee, le64, line};

    #[test]
    fn iso8601_like_strace() {
        // SAFETY: zeroed tm is valid plain data.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        (tm.tm_year, tm.tm_mon, tm.tm_mday) = (126, 10, 27);
        (tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_gmtoff) = (8, 47, 7, 3600);
        assert_eq!(super::format_tm(&tm), "2026-11-27T08:47:07+0100");
        tm.tm_gmtoff = -(5 * 3600 + 1800);
        assert_eq!(super::format_tm(&tm), "2026-11-27T08:47:07-0530");
        let t = FakeTracee::default().with(0x1000, &le64(&[1_795_765_667]));
        let l = line("time", [0x1000, 0, 0, 0, 0, 0], &t, 1_795_765_667, false);
        assert!(
            l.starts_with("time([1795765667 /* 2026-11-2")
                && l.contains(" = 1795765667 (2026-11-2"),
            "{l}"
        );
        assert_eq!(
            line("time", [0; 6], &t, 5, false).split(" (").next(),
            Some("time(NULL) = 5")
        );
    }

    #[test]
    fn clocks() {
        let t = FakeTracee::default()
            .with(0x1000, &le64(&[1_795_759_829, 197_346]))
            .with(0x2000, &[0; 8])
            .with(0x3000, &le64(&[578, 945_308_317]));
        assert_eq!(
            line("gettimeofday", [0x1000, 0, 0, 0, 0, 0], &t, 0, false),
            "gettimeofday({tv_sec=1795759829, tv_usec=197346}, NULL) = 0"
        );
        assert_eq!(
            line("gettimeofday", [0x1000, 0x2000, 0, 0, 0, 0], &t, 0, false),
            "gettimeofday({tv_sec=1795759829, tv_usec=197346}, {tz_minuteswest=0, tz_dsttime=0}) = 0"
        );
        assert_eq!(
            line("gettimeofday", [0; 6], &t, 0, false),
            "gettimeofday(NULL, NULL) = 0"
        );
        assert_eq!(
            line("clock_gettime", [1, 0x3000, 0, 0, 0, 0], &t, 0, false),
            "clock_gettime(CLOCK_MONOTONIC, {tv_sec=578, tv_nsec=945308317}) = 0"
        );
        assert_eq!(
            line("clock_gettime", [8, 0x3000, 0, 0, 0, 0], &t, -22, true),
            "clock_gettime(CLOCK_REALTIME_ALARM, 0x3000) = -22"
        );
        assert_eq!(
            line("clock_gettime", [12, 0x3000, 0, 0, 0, 0], &t, -22, true),
            "clock_gettime(0xc /* CLOCK_??? */, 0x3000) = -22"
        );
        assert_eq!(
            line(
                "clock_gettime",
                [(-6i64) as u64, 0x3000, 0, 0, 0, 0],
                &t,
                0,
                false
            ),
            "clock_gettime(0xfffffffa /* CLOCK_??? */, {tv_sec=578, tv_nsec=945308317}) = 0"
        );
        assert_eq!(
            line("clock_gettime", [0; 6], &t, -14, true),
            "clock_gettime(CLOCK_REALTIME, NULL) = -14"
        );
        assert_eq!(
            line("clock_getres", [1, 0, 0, 0, 0, 0], &t, 0, false),
            "clock_getres(CLOCK_MONOTONIC, NULL) = 0"
        );
    }

    #[test]
    fn sleeps() {
        let t = FakeTracee::default()
            .with(0x1000, &le64(&[0, 1_000_000]))
            .with(0x2000, &le64(&[0, 499_125_856]))
            .with(0x3000, &le64(&[578, 953_342_752]));
        assert_eq!(
            line("nanosleep", [0x1000, 0x2000, 0, 0, 0, 0], &t, 0, false),
            "nanosleep({tv_sec=0, tv_nsec=1000000}, 0x2000) = 0"
        );
        assert_eq!(
            line("nanosleep", [0x1000, 0, 0, 0, 0, 0], &t, 0, false),
            "nanosleep({tv_sec=0, tv_nsec=1000000}, NULL) = 0"
        );
        assert_eq!(
            line("nanosleep", [0x1000, 0x2000, 0, 0, 0, 0], &t, -516, true),
            "nanosleep({tv_sec=0, tv_nsec=1000000}, {tv_sec=0, tv_nsec=499125856}) = -516"
        );
        assert_eq!(
            line("clock_nanosleep", [1, 1, 0x3000, 0, 0, 0], &t, 0, false),
            "clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {tv_sec=578, tv_nsec=953342752}, NULL) = 0"
        );
        assert_eq!(
            line("clock_nanosleep", [0, 5, 0x1000, 0, 0, 0], &t, 0, false),
            "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME|0x4, {tv_sec=0, tv_nsec=1000000}, NULL) = 0"
        );
        assert_eq!(
            line(
                "clock_nanosleep",
                [1, 0, 0x1000, 0x2000, 0, 0],
                &t,
                0,
                false
            ),
            "clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000000}, 0x2000) = 0"
        );
    }

    #[test]
    fn itimers() {
        let t = FakeTracee::default()
            .with(0x1000, &le64(&[0, 5, 100, 0]))
            .with(0x2000, &le64(&[0, 0, 0, 0]));
        assert_eq!(
            line("setitimer", [1, 0x1000, 0, 0, 0, 0], &t, 0, false),
            "setitimer(ITIMER_VIRTUAL, {it_interval={tv_sec=0, tv_usec=5}, it_value={tv_sec=100, tv_usec=0}}, NULL) = 0"
        );
        assert_eq!(
            line("setitimer", [0, 0x2000, 0x2000, 0, 0, 0], &t, 0, false),
            "setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=0, tv_usec=0}}, {it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=0, tv_usec=0}}) = 0"
        );
        assert_eq!(
            line("getitimer", [2, 0x2000, 0, 0, 0, 0], &t, 0, false),
            "getitimer(ITIMER_PROF, {it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=0, tv_usec=0}}) = 0"
        );
        assert_eq!(
            line("getitimer", [7, 0x2000, 0, 0, 0, 0], &t, -22, true),
            "getitimer(0x7 /* ITIMER_??? */, 0x2000) = -22"
        );
        assert_eq!(line("alarm", [0; 6], &t, 0, false), "alarm(0) = 0");
    }
}
