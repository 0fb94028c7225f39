//! Argument decoders: from raw registers and tracee memory to [`Value`]s.
//!
//! A call is decoded in two steps. At the entry stop, [`decode_entry`] decodes every argument
//! that is an input (numbers, flags, paths, buffers being written); output arguments (a buffer
//! being read into, a `struct stat` being filled) are left as `None`. At the exit stop,
//! [`decode_exit`] fills those in and decodes the return value. strace prints the arguments
//! known at entry first and, when another tracee's line interrupts, the rest after
//! `<... NAME resumed>`; this split is what makes that possible.
//!
//! The decoders live in groups (`fs`, `mem`, `net`, `proc/signal`, ...); the syscall table
//! names each syscall's group ([`Group`]), and only that group is asked. Each group has
//! `entry(name, &Ctx) -> Option<Vec<Option<Value>>>` and
//! `exit(name, &Ctx, &mut [Option<Value>], rval, is_error) -> Option<Ret>`; `None` means
//! "not one of mine" (then the arguments print in hex and the return value plainly). A
//! `Raw` syscall has no decoder.

mod admin;
pub mod events;
pub mod fs;
pub(crate) mod fs_tables;
mod fs_util;
pub mod kernel;
mod kvm;
pub mod mem;
mod misc;
pub mod mount;
pub mod net;
pub mod netlink;
mod netlink_link;
mod perf;
pub mod poll;
pub mod proc;
mod ptrace;
mod seccomp_filter;
pub mod time;
pub mod util;
pub mod xattr;

use super::table::{self, Group};
use super::{DecodeOpts, Ret, Tracee, Value};

/// What every decoder sees: the raw argument registers, the tracee, the options.
pub struct Ctx<'a> {
    pub raw: [u64; 6],
    pub t: &'a dyn Tracee,
    pub o: &'a DecodeOpts,
}

/// Arguments as decoded at the entry stop.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub nr: u64,
    pub raw: [u64; 6],
    /// One slot per printed argument; `None` for an argument only known at exit.
    pub args: Vec<Option<Value>>,
    /// Arguments decoded at entry but printed only at exit, as strace prints them (their
    /// slot in `args` is `None` until then): `(slot, value)`.
    pub held: Vec<(usize, Value)>,
}

/// The arguments strace prints at the exit though they are read at the entry:
/// perf_event_open's attribute structure, to which the exit adds the size the kernel wrote
/// back after E2BIG (`size=0xc8 => 0x88`).
const HELD_TO_EXIT: &[(&str, usize)] = &[
    ("perf_event_open", 0),
    ("name_to_handle_at", 2),
    ("set_thread_area", 0),
];

impl Entry {
    /// The arguments printable at entry: the leading run of decoded slots.
    pub fn printable_prefix(&self) -> usize {
        self.args.iter().take_while(|a| a.is_some()).count()
    }
}

type EntryFn = fn(&str, &Ctx) -> Option<Vec<Option<Value>>>;
type ExitFn = fn(&str, &Ctx, &mut [Option<Value>], i64, bool) -> Option<Ret>;

/// The decoders of a group (the table names each syscall's group).
fn decoders(group: Group) -> Option<(EntryFn, ExitFn)> {
    Some(match group {
        Group::Fs => (fs::entry, fs::exit),
        Group::Mem => (mem::entry, mem::exit),
        Group::Signal => (proc::signal::entry, proc::signal::exit),
        Group::Process => (proc::process::entry, proc::process::exit),
        Group::Futex => (proc::futex::entry, proc::futex::exit),
        Group::Resource => (proc::resource::entry, proc::resource::exit),
        Group::Prctl => (proc::prctl::entry, proc::prctl::exit),
        Group::Ipc => (proc::ipc::entry, proc::ipc::exit),
        Group::Time => (time::entry, time::exit),
        Group::Poll => (poll::entry, poll::exit),
        Group::Net => (net::entry, net::exit),
        Group::Creds => (proc::creds::entry, proc::creds::exit),
        Group::Sched => (proc::sched::entry, proc::sched::exit),
        Group::Xattr => (xattr::entry, xattr::exit),
        Group::Events => (events::entry, events::exit),
        Group::Mount => (mount::entry, mount::exit),
        Group::Kernel => (kernel::entry, kernel::exit),
        Group::Admin => (admin::entry, admin::exit),
        Group::Misc => (misc::entry, misc::exit),
        Group::Raw => return None,
    })
}

/// Decodes the arguments of syscall `nr` at its entry stop.
/// `-e raw=`: a call undecoded, every argument in hex (`0` for zero), as strace prints it.
pub fn raw_entry(nr: u64, raw: &[u64; 6]) -> Entry {
    let n = table::lookup(nr).map_or(6, |i| usize::from(i.nargs)).min(6);
    Entry {
        nr,
        raw: *raw,
        args: raw[..n].iter().map(|&v| Some(util::hex0(v))).collect(),
        held: Vec::new(),
    }
}

/// `-e raw=`: the exit of a [`raw_entry`] call: the same arguments, the return in hex.
pub fn raw_exit(entry: &Entry, rval: i64, is_error: bool) -> (Vec<Value>, Ret) {
    let args = entry.args.iter().flatten().cloned().collect();
    if is_error {
        (args, Ret::Error { errno: -rval })
    } else {
        (args, Ret::Hex(rval as u64))
    }
}

/// What `-e verbose=` and `-X` change in decoded arguments, whose registers are `raw`:
/// without `deref`, a structure or array read from memory prints as its address; under
/// `-X raw`/`verbose`, a named constant prints as its number (in hex as strace prints most,
/// `0x1` for AF_UNIX and CLOCK_MONOTONIC; signals and AT_FDCWD in decimal as the `int` they
/// are: `-100`)
/// and flags as theirs (`0x80000`), `verbose` with the names in a comment. Only top-level
/// arguments: fields of structures keep their names.
/// `args` in register order (`None`: a slot not decoded yet) of syscall `nr`.
pub fn restyle<'a>(
    nr: u64,
    args: impl Iterator<Item = Option<&'a mut Value>>,
    raw: &[u64; 6],
    deref: bool,
    style: crate::syscalls::ConstStyle,
) {
    use crate::syscalls::ConstStyle;
    let name = table::lookup(nr).map(|i| i.name);
    let socket = matches!(name, Some("socket" | "socketpair"));
    for (i, (v, &r)) in args.zip(raw.iter()).enumerate() {
        let Some(v) = v else { continue };
        if !deref && is_aggregate(v) {
            *v = Value::Ptr(r);
            continue;
        }
        // strace 6.1 prints statx's flags of 0 (AT_STATX_SYNC_AS_STAT) under -X raw as
        // nothing at all (`statx(-100, "f", , 0x7ff, ...)`); so does pgstrace, for the
        // lines to compare.
        if name == Some("statx") && i == 2 && r & 0xffff_ffff == 0 && style == ConstStyle::Raw {
            *v = Value::Raw(String::new());
            continue;
        }
        // socket's type is two numbers to strace: the type, then its flags.
        if socket && i == 1 && style != ConstStyle::Abbrev {
            *v = Value::Raw(socket_type(v, r, style));
            continue;
        }
        let num = match v {
            // strace prints most constants in hex, these in decimal.
            // (`SIG_BLOCK` and friends are plain constants: in hex.)
            Value::Sym(n)
                if (n.starts_with("SIG") && !n.starts_with("SIG_")) || n == "AT_FDCWD" =>
            {
                Value::Int((r as i32).into())
            }
            Value::Sym(_) => util::hex0(r & 0xffff_ffff),
            // No flag set prints as `0` in every style.
            Value::Flags(f) if f.is_empty() => continue,
            // A file mode (`S_IFCHR|0600`): strace's raw form is octal.
            Value::Flags(f) if f.last().is_some_and(|l| is_octal(l)) => Value::Oct(r & 0o177777),
            Value::Flags(_) => util::hex0(r),
            // A device (`makedev(0x1, 0x3)`) and a constant no table names
            // (`0x63 /* CLOCK_??? */`): the number alone.
            Value::Raw(t) if t.starts_with("makedev(") => util::hex0(r & 0xffff_ffff),
            // An ioctl request no table names: `_IOC(...)`, the number under -X raw.
            Value::Raw(t) if t.starts_with("_IOC(") => util::hex0(r & 0xffff_ffff),
            Value::Raw(t) if t.ends_with("??? */") && t.starts_with("0x") => {
                let n = t.split(' ').next().unwrap_or_default().to_string();
                if style == ConstStyle::Raw {
                    *v = Value::Raw(n);
                }
                continue;
            }
            _ => continue,
        };
        match style {
            ConstStyle::Abbrev => {}
            ConstStyle::Raw => *v = num,
            ConstStyle::Verbose => *v = commented(&num, v),
        }
    }
}

/// `-X verbose`: a number with its names in a comment, `0x1 /* AF_UNIX */`.
pub(crate) fn commented(num: &Value, names: &Value) -> Value {
    let mut s = String::new();
    crate::syscalls::notation::write_value(&mut s, num);
    s.push_str(" /* ");
    crate::syscalls::notation::write_value(&mut s, names);
    s.push_str(" */");
    Value::Raw(s)
}

/// socket's type under `-X raw` (`0x1|0x80000`) or `-X verbose`
/// (`0x1 /* SOCK_STREAM */|0x80000 /* SOCK_CLOEXEC */`), from its decoded names `v`.
fn socket_type(v: &Value, r: u64, style: crate::syscalls::ConstStyle) -> String {
    let (ty, fl) = (r & 0xf, r & 0xffff_fff0);
    let hex = |n: u64| {
        let mut s = String::new();
        crate::syscalls::notation::write_hex(&mut s, n);
        s
    };
    let names: Vec<String> = match v {
        Value::Flags(f) => f.iter().map(|n| n.to_string()).collect(),
        Value::Sym(n) => vec![n.to_string()],
        _ => Vec::new(),
    };
    let verbose = style == crate::syscalls::ConstStyle::Verbose;
    let mut out = hex(ty);
    if verbose && let Some(n) = names.first() {
        out.push_str(&format!(" /* {n} */"));
    }
    if fl != 0 {
        out.push('|');
        out.push_str(&hex(fl));
        if verbose && names.len() > 1 {
            out.push_str(&format!(" /* {} */", names[1..].join("|")));
        }
    }
    out
}

/// `-X raw|verbose` on a signal line's siginfo (`raw`, the kernel's 128 bytes): `si_signo`
/// in decimal, `si_code` in hex, a child's `si_status` signal in decimal; `verbose` with the
/// names in comments, as strace prints them.
pub fn restyle_siginfo(v: &mut Value, raw: &[u8; 128], style: crate::syscalls::ConstStyle) {
    use crate::syscalls::ConstStyle;
    if style == ConstStyle::Abbrev {
        return;
    }
    let Value::Struct(fields) = v else { return };
    let int = |off: usize| i32::from_le_bytes([raw[off], raw[off + 1], raw[off + 2], raw[off + 3]]);
    for (k, f) in fields.iter_mut() {
        let num = match (k.as_ref(), &*f) {
            ("si_signo", _) => Value::Int(int(0).into()),
            ("si_code", _) => util::hex0(u64::from(int(8) as u32)),
            // A signal name where strace has a number (a child killed by it).
            ("si_status", Value::Sym(_)) => Value::Int(int(24).into()),
            _ => continue,
        };
        *f = match style {
            ConstStyle::Verbose => commented(&num, f),
            _ => num,
        };
    }
}

/// `0600`: the permission bits a file mode's flags end with.
fn is_octal(s: &str) -> bool {
    s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// A value read from tracee memory as a structure or array: `{...}`, `[...]`, a signal set
/// (`[INT]`, `~[]`), an environment count (`0x7ffd... /* 20 vars */`).
fn is_aggregate(v: &Value) -> bool {
    match v {
        Value::Struct(_) | Value::Array(_) => true,
        Value::Raw(t) => {
            t.starts_with('[')
                || t.starts_with("~[")
                || t.starts_with('{')
                || t.ends_with(" vars */")
                || t.ends_with(" var */")
        }
        _ => false,
    }
}

pub fn decode_entry(nr: u64, raw: &[u64; 6], t: &dyn Tracee, o: &DecodeOpts) -> Entry {
    let ctx = Ctx { raw: *raw, t, o };
    let info = table::lookup(nr);
    let mut args: Vec<Option<Value>> = info
        .and_then(|i| decoders(i.group).and_then(|(entry, _)| entry(i.name, &ctx)))
        .unwrap_or_else(|| {
            let n = info.map(|s| s.nargs as usize).unwrap_or(6);
            raw[..n].iter().map(|&a| Some(Value::Hex(a))).collect()
        });
    let mut held = Vec::new();
    if let Some(i) = info {
        for &(name, slot) in HELD_TO_EXIT {
            if name == i.name
                && let Some(v) = args.get_mut(slot).and_then(Option::take)
            {
                held.push((slot, v));
            }
        }
    }
    Entry {
        nr,
        raw: *raw,
        args,
        held,
    }
}

/// Decodes the output arguments and the return value at the exit stop. `rval` is the raw
/// return register; `is_error` says the kernel reported an error (then `-rval` is the errno).
/// Returns every argument (entry and exit ones) and the decoded return value.
pub fn decode_exit(
    entry: &Entry,
    rval: i64,
    is_error: bool,
    t: &dyn Tracee,
    o: &DecodeOpts,
) -> (Vec<Value>, Ret) {
    let ctx = Ctx {
        raw: entry.raw,
        t,
        o,
    };
    let mut slots = entry.args.clone();
    for (slot, v) in &entry.held {
        if let Some(s) = slots.get_mut(*slot) {
            *s = Some(v.clone());
        }
    }
    let ret = table::lookup(entry.nr)
        .and_then(|i| {
            let (_, exit) = decoders(i.group)?;
            exit(i.name, &ctx, &mut slots, rval, is_error)
        })
        .unwrap_or_else(|| util::default_ret(rval, is_error));
    // An output argument a group left undecoded prints as its address.
    let mut args: Vec<Value> = slots
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.unwrap_or(Value::Ptr(entry.raw.get(i).copied().unwrap_or(0))))
        .collect();
    if !o.decode_pids.any() {
        return (args, ret);
    }
    // -Y: the pids a call returns and the `si_pid` of a siginfo it filled.
    for a in &mut args {
        mark_pids(a);
    }
    let ret = match ret {
        Ret::Int(n)
            if n > 0 && table::lookup(entry.nr).is_some_and(|i| PID_RETURNS.contains(&i.name)) =>
        {
            Ret::Pid {
                pid: n,
                comm: None,
                ours: None,
            }
        }
        r => r,
    };
    (args, ret)
}

/// The calls whose return value is a process, thread or group id.
const PID_RETURNS: &[&str] = &[
    "getpid", "getppid", "gettid", "getpgid", "getpgrp", "getsid", "setsid", "fork", "vfork",
    "clone", "clone3", "wait4",
];

/// `-Y`: every `si_pid` field in `v` (a siginfo, or one inside an array or structure)
/// marked as a pid, its name to be found by [`fill_comms`].
pub fn mark_pids(v: &mut Value) {
    match v {
        Value::Struct(fields) => {
            for (k, f) in fields.iter_mut() {
                if k == "si_pid"
                    && let Value::Int(p) = f
                    && *p > 0
                {
                    *f = Value::Pid {
                        pid: *p,
                        comm: None,
                        ours: None,
                    };
                } else {
                    mark_pids(f);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mark_pids),
        _ => {}
    }
}

/// What `-Y` adds to a pid: its command name, and its number in pgstrace's PID namespace
/// when that is not the tracee's.
pub type PidFacts<'a> = dyn FnMut(i64) -> (Option<String>, Option<i64>) + 'a;

/// `-Y`/`--decode-pids=pidns`: the names (and numbers in our namespace) of the pids in `v`
/// (at any depth), from `find`; the decoders only mark pids, so that these are read after
/// the tracee is resumed.
pub fn fill_pids(v: &mut Value, find: &mut PidFacts) {
    match v {
        Value::Pid { pid, comm, ours } if comm.is_none() && ours.is_none() => {
            (*comm, *ours) = find(*pid);
        }
        Value::Struct(fields) => fields.iter_mut().for_each(|(_, f)| fill_pids(f, find)),
        Value::Array(items) => items.iter_mut().for_each(|i| fill_pids(i, find)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::decode::util::fake::FakeTracee;

    fn text(v: &Value) -> String {
        let mut s = String::new();
        crate::syscalls::notation::write_value(&mut s, v);
        s
    }

    /// `-X` and `-e verbose=` on decoded arguments; `-e raw=` in hex.
    #[test]
    fn restyled_and_raw_arguments() {
        use crate::syscalls::ConstStyle;
        let raw = [0xffff_ff9c, 0x7ffd_0000_1000, 0x80000, 0, 0, 0];
        let args = || {
            vec![
                Value::sym("AT_FDCWD"),
                Value::structure(vec![("st_size", Value::Int(3))]),
                Value::Flags(vec!["O_RDONLY".into(), "O_CLOEXEC".into()]),
                Value::Flags(Vec::new()),
            ]
        };
        let styled = |deref: bool, style| {
            let mut a = args();
            restyle(0, a.iter_mut().map(Some), &raw, deref, style);
            a.iter().map(text).collect::<Vec<_>>().join(", ")
        };
        assert_eq!(
            styled(true, ConstStyle::Abbrev),
            "AT_FDCWD, {st_size=3}, O_RDONLY|O_CLOEXEC, 0"
        );
        assert_eq!(
            styled(true, ConstStyle::Raw),
            "-100, {st_size=3}, 0x80000, 0"
        );
        assert_eq!(
            styled(false, ConstStyle::Verbose),
            "-100 /* AT_FDCWD */, 0x7ffd00001000, 0x80000 /* O_RDONLY|O_CLOEXEC */, 0"
        );
        // openat has four arguments: each in hex, zero as `0`; the return too.
        let e = raw_entry(257, &raw);
        let (args, ret) = raw_exit(&e, 3, false);
        assert_eq!(
            args.iter().map(text).collect::<Vec<_>>(),
            ["0xffffff9c", "0x7ffd00001000", "0x80000", "0"]
        );
        assert_eq!(ret, Ret::Hex(3));
        assert_eq!(raw_exit(&e, -2, true).1, Ret::Error { errno: 2 });
    }

    /// The table's group of each syscall is the one group whose entry decoder claims it.
    #[test]
    fn the_table_names_the_group_that_decodes_each_syscall() {
        let t = FakeTracee::default();
        let o = DecodeOpts::default();
        let ctx = Ctx {
            raw: [0; 6],
            t: &t,
            o: &o,
        };
        let all = [
            Group::Fs,
            Group::Mem,
            Group::Signal,
            Group::Process,
            Group::Futex,
            Group::Resource,
            Group::Prctl,
            Group::Ipc,
            Group::Time,
            Group::Poll,
            Group::Net,
            Group::Creds,
            Group::Sched,
            Group::Xattr,
            Group::Events,
            Group::Mount,
            Group::Kernel,
            Group::Admin,
            Group::Misc,
        ];
        for (nr, info) in table::all() {
            let claims: Vec<Group> = all
                .iter()
                .copied()
                .filter(|&g| decoders(g).is_some_and(|(entry, _)| entry(info.name, &ctx).is_some()))
                .collect();
            let want: Vec<Group> = match info.group {
                Group::Raw => Vec::new(),
                g => vec![g],
            };
            assert_eq!(claims, want, "syscall {nr} {}", info.name);
        }
    }
}
