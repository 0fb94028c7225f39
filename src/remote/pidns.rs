//! Pids across PID namespaces: a number a tracee passes or gets back (kill's pid, getpid's
//! result) is a pid in *its* namespace; the same process has another number in ours. `-Y`
//! names and `--decode-pids=pidns` translate it, as strace does, by looking for the process
//! whose NSpid (/proc/PID/status) holds that number at the tracee's level, in the tracee's
//! namespace or one below it.
//!
//! Nothing here stops a process; every answer is read from /proc when the line is printed,
//! so a process that has gone by then (a reaped child) has no translation.

use std::collections::HashMap;
use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;

/// Where a tracee's pid numbers point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The tracee lives in our namespace: its numbers are ours.
    Same,
    /// The process numbered so in the tracee's namespace is this pid in ours.
    Ours(i32),
    /// No such process (any more), or the namespaces could not be read.
    Unknown,
}

/// A PID namespace: its inode and its depth (0 for the initial one, as NSpid counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Ns {
    ino: u64,
    level: usize,
}

/// The translations found so far, checked again before each use (pids are reused).
#[derive(Default)]
pub struct PidNs {
    ours: Option<u64>,
    cache: HashMap<(u64, i64), i32>,
    /// Per tracee: its namespace, read once.
    tracees: HashMap<i32, Option<Ns>>,
}

/// The numbers of NSpid, outermost namespace first.
pub fn parse_nspid(status: &str) -> Vec<i64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("NSpid:"))
        .map(|v| {
            v.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// NSpid of a process or thread (`/proc/PID/status` also answers for a thread's tid).
pub fn ns_pids(pid: i32) -> Vec<i64> {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| parse_nspid(&s))
        .unwrap_or_default()
}

fn ns_inode(pid: i32) -> Option<u64> {
    fs::metadata(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|m| m.ino())
}

/// Whether namespace `ns` (with `nspid` the candidate's NSpid) is or contains the
/// candidate's own namespace: its ancestor `len - 1 - level` steps up is `ns`.
fn within(pid: i32, nspid: &[i64], ns: Ns) -> bool {
    let Some(up) = nspid.len().checked_sub(1 + ns.level) else {
        return false;
    };
    let Ok(mut f) = fs::File::open(format!("/proc/{pid}/ns/pid")) else {
        return false;
    };
    for _ in 0..up {
        // NS_GET_PARENT = _IO(0xb7, 0x2): a new fd for the parent namespace.
        // SAFETY: an ioctl without a pointer argument on an fd we own.
        let fd = unsafe { libc::ioctl(f.as_raw_fd(), 0xb702) };
        if fd < 0 {
            return false;
        }
        // SAFETY: the ioctl returned a new fd nobody else owns.
        f = unsafe { <fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    }
    f.metadata().is_ok_and(|m| m.ino() == ns.ino)
}

/// Whether process `pid` (ours) is numbered `n` in namespace `ns`.
fn is(pid: i32, n: i64, ns: Ns) -> bool {
    let nspid = ns_pids(pid);
    nspid.get(ns.level) == Some(&n) && within(pid, &nspid, ns)
}

/// Every process and thread in /proc.
fn every_task() -> impl Iterator<Item = i32> {
    let numbered = |dir: &str| -> Vec<i32> {
        fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    numbered("/proc").into_iter().flat_map(move |p| {
        let tasks = numbered(&format!("/proc/{p}/task"));
        if tasks.is_empty() { vec![p] } else { tasks }
    })
}

impl PidNs {
    pub fn new() -> Self {
        PidNs {
            ours: ns_inode(std::process::id() as i32),
            ..Default::default()
        }
    }

    /// Reads `tracee`'s namespace now (while it surely lives), for the lines printed later.
    pub fn note(&mut self, tracee: i32) {
        self.ns_of(tracee);
    }

    fn ns_of(&mut self, tracee: i32) -> Option<Ns> {
        *self.tracees.entry(tracee).or_insert_with(|| {
            Some(Ns {
                ino: ns_inode(tracee)?,
                level: ns_pids(tracee).len().checked_sub(1)?,
            })
        })
    }

    /// Forgets a tracee that has gone (its tid may be reused by another namespace's task).
    pub fn forget(&mut self, tracee: i32) {
        self.tracees.remove(&tracee);
    }

    /// What number `n`, seen by `tracee`, is in our namespace.
    pub fn translate(&mut self, tracee: i32, n: i64) -> Seen {
        let (Some(ours), Some(ns)) = (self.ours, self.ns_of(tracee)) else {
            return Seen::Unknown;
        };
        if ns.ino == ours {
            return Seen::Same;
        }
        if n <= 0 {
            return Seen::Unknown;
        }
        if let Some(&p) = self.cache.get(&(ns.ino, n)) {
            if is(p, n, ns) {
                return Seen::Ours(p);
            }
            self.cache.remove(&(ns.ino, n));
        }
        // The tracee itself and its own process first, then everything.
        let tgid = crate::remote::procfs::status(tracee).map_or(tracee, |s| s.tgid);
        let found = [tracee, tgid]
            .into_iter()
            .find(|&p| is(p, n, ns))
            .or_else(|| every_task().find(|&p| is(p, n, ns)));
        match found {
            Some(p) => {
                self.cache.insert((ns.ino, n), p);
                Seen::Ours(p)
            }
            None => Seen::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nspid_lines() {
        let st = "Name:\tpostgres\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\t17\t1\n";
        assert_eq!(parse_nspid(st), vec![4242, 17, 1]);
        assert!(parse_nspid("Name:\tx\n").is_empty());
    }

    #[test]
    fn in_our_namespace_numbers_are_ours() {
        let mut ns = PidNs::new();
        let me = std::process::id() as i32;
        assert_eq!(ns.translate(me, 1), Seen::Same);
        // A tracee that does not exist: nothing to say.
        assert_eq!(ns.translate(i32::MAX, 1), Seen::Unknown);
    }
}
