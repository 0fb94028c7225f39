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

pub mod fs;
mod fs_tables;
mod fs_util;
pub mod mem;
pub mod net;
pub mod poll;
pub mod proc;
pub mod time;
pub mod util;

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
}

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
        Group::Raw => return None,
    })
}

/// Decodes the arguments of syscall `nr` at its entry stop.
pub fn decode_entry(nr: u64, raw: &[u64; 6], t: &dyn Tracee, o: &DecodeOpts) -> Entry {
    let ctx = Ctx { raw: *raw, t, o };
    let info = table::lookup(nr);
    let args = info
        .and_then(|i| decoders(i.group).and_then(|(entry, _)| entry(i.name, &ctx)))
        .unwrap_or_else(|| {
            let n = info.map(|s| s.nargs as usize).unwrap_or(6);
            raw[..n].iter().map(|&a| Some(Value::Hex(a))).collect()
        });
    Entry {
        nr,
        raw: *raw,
        args,
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
    let ret = table::lookup(entry.nr)
        .and_then(|i| {
            let (_, exit) = decoders(i.group)?;
            exit(i.name, &ctx, &mut slots, rval, is_error)
        })
        .unwrap_or_else(|| util::default_ret(rval, is_error));
    // An output argument a group left undecoded prints as its address.
    let args = slots
        .into_iter()
        .enumerate()
        .map(|(i, a)| a.unwrap_or(Value::Ptr(entry.raw.get(i).copied().unwrap_or(0))))
        .collect();
    (args, ret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::decode::util::fake::FakeTracee;

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
