//! The kernel-side event source: `perf_event_open` on the syscall tracepoints, per task and
//! per CPU, with `inherit` so that children forked later are followed without a stop. The
//! tracee never stops: the kernel writes a record per event into a ring buffer per CPU
//! (every event of that CPU redirected into one), and we read them afterwards, merged across
//! CPUs in time order, and hand them to the same [`Consumer`] the ptrace source feeds.
//!
//! What a record carries is what the event showed: the arguments (registers), and at an
//! entry the user registers and a copy of the top of the user stack, which holds the path
//! buffers of glibc and PostgreSQL. A value outside that copy is not read afterwards (it may
//! have changed): the decoders print its address. Output arguments are never read.
//!
//! Lost records (a full ring) are counted and reported where they happened. Closing the fds
//! removes every event: nothing is left behind, also when pgstrace is killed.

pub mod priority;
pub mod record;
pub mod ring;
pub mod tracefs;

use super::source::{Consumer, SourceEvent, StackFor, Timestamp};
use crate::remote::regs::Snapshot;
use linux_perf_event_reader::{
    Endianness, EventRecord, PerfEventAttr, RawData, RawEventRecord, RecordParseInfo, RecordType,
};
use perf_event_open_sys as sys;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// What to watch and how much to copy at each entry.
#[derive(Clone, Debug)]
pub struct PerfConfig {
    /// The traced syscalls; `None`: all of them.
    pub nrs: Option<Vec<u64>>,
    /// Calls watched beside a traced set for the consumer's own sake, never with a stack
    /// copy (the PostgreSQL annotator's `recvfrom`: where a statement begins).
    pub watched: Vec<u64>,
    /// Bytes of user stack copied at an entry (strings, `-k`); at most 65528.
    pub stack_bytes: u32,
    /// Copy it at every entry (`-k`), not only at those of calls that take a path.
    pub stack_all: bool,
    /// Follow children (`-f`): `inherit`, and the existing descendants of `-p` processes.
    pub follow: bool,
    /// Data pages per CPU ring (a power of two).
    pub pages: usize,
    /// The reader's CPU policy; `None`: yield when every syscall (or a large set) is
    /// traced, normal for a short set, whose few events are wanted soon.
    pub priority: Option<priority::ReaderPriority>,
}

impl PerfConfig {
    pub const MAX_STACK: u32 = 65528;
}

/// Why the kernel source cannot run, in a line.
#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    #[error("{0}")]
    Tracefs(io::Error),
    #[error(
        "the kernel refused perf_event_open ({0}): perf_event_paranoid is {1}; run as root or with CAP_PERFMON"
    )]
    Refused(io::Error, String),
    #[error("no such process: {0}")]
    NoProcess(i32),
    #[error("perf_event_open: {0}")]
    Other(io::Error),
}

/// x86-64 `perf_event_x86_regs` indices.
const REG_BP: u64 = 6;
const REG_SP: u64 = 7;
const REG_IP: u64 = 8;

/// Which of our events a sample came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A syscall entry with user registers and a stack copy.
    Enter,
    /// A syscall entry with its arguments only.
    EnterBare,
    Exit,
    Signal,
}

/// (tracepoint id, kind, kernel-side filter).
type Event = (u64, Kind, Option<String>);

/// Whether a syscall's line may need the caller's stack: it takes a path.
fn needs_stack(nr: u64) -> bool {
    crate::syscalls::table::lookup(nr)
        .is_some_and(|i| i.classes & crate::syscalls::table::class::FILE != 0)
}

/// A record, owned, in the form the merge and the consumer need.
#[derive(Debug)]
enum Rec {
    Enter {
        tid: i32,
        pid: i32,
        nr: u64,
        args: [u64; 6],
        regs: Option<(u64, u64, u64)>,
        stack: Vec<u8>,
    },
    Exit {
        tid: i32,
        nr: u64,
        ret: i64,
    },
    Signal {
        pid: i32,
        sig: i32,
        default_handler: bool,
    },
    Fork {
        tid: i32,
        pid: i32,
        ptid: i32,
    },
    TaskExit {
        tid: i32,
        pid: i32,
    },
    Exec {
        tid: i32,
    },
    Lost {
        count: u64,
    },
}

pub struct PerfSource {
    cfg: PerfConfig,
    cpus: Vec<i32>,
    /// Every event opened per task and CPU.
    events: Vec<Event>,
    /// raw_syscalls rather than the per-syscall tracepoints.
    raw: bool,
    fds: Vec<OwnedFd>,
    /// Per CPU: the ring and the fd that owns it.
    rings: Vec<Option<(ring::Ring, i32)>>,
    ids: HashMap<u64, Kind>,
    info_enter: RecordParseInfo,
    info_plain: RecordParseInfo,
    /// Every task watched: tid → its process (tgid).
    tasks: HashMap<i32, i32>,
    /// Process leaders that ended while their threads run on: reported when the last of
    /// those ends, as ptrace reports them, or never, when a thread's execve takes over the
    /// leader's pid.
    zombie_leaders: HashMap<i32, ()>,
    /// tid or tgid → the exit code its exit/exit_group asked for.
    exit_codes: HashMap<i32, i32>,
    /// tgid → a fatal signal delivered with the default action.
    fatal: HashMap<i32, i32>,
    /// The launched command: its pid and, once reaped, its wait status.
    launched: Option<(i32, Option<i32>)>,
    /// CLOCK_MONOTONIC → wall clock.
    offset: Duration,
    held: Vec<(u64, u64, Rec)>,
    /// Per ring: it was full at the last read that found records (see `drain`).
    brim: Vec<bool>,
    seq: u64,
    pub lost: u64,
    /// Syscall numbers whose exits the consumer looks at when they are read from the rings
    /// ([`Consumer::early_exit`]).
    early_nrs: Vec<u64>,
    /// Per looked-at exit (its `seq`): when the look ended (CLOCK_MONOTONIC ns).
    looked: HashMap<u64, u64>,
    /// The earliest exit looked at in the last drain: nothing from it on is delivered until
    /// the next drain has read what the task did meanwhile.
    look_hold: Option<u64>,
}

fn online_cpus() -> Vec<i32> {
    let s = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<i32>().ok()),
        }
    }
    if out.is_empty() {
        out.push(0);
    }
    out
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writing into a local timespec.
    unsafe { libc::clock_gettime(id, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Tracepoint names of syscall `nr`'s events (`syscalls/sys_enter_NAME`).
fn tracepoint_name(nr: u64) -> Option<&'static str> {
    let name = crate::syscalls::table::lookup(nr)?.name;
    // A few kernel tracepoints are named after the kernel function, not the syscall.
    Some(match name {
        "umount2" => "umount",
        n => n,
    })
}

const SIGNAL_TP: &str = "signal/signal_deliver";

fn paranoid() -> String {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

impl PerfSource {
    /// Finds the tracepoints for `cfg`; opens nothing yet.
    pub fn new(cfg: PerfConfig) -> Result<PerfSource, PerfError> {
        let exits = [crate::syscalls::nr::EXIT, crate::syscalls::nr::EXIT_GROUP];
        let mut names: Vec<String> = vec![SIGNAL_TP.into()];
        // The traced set, then what is watched beside it (bare entries).
        let watched: Vec<u64> = match &cfg.nrs {
            Some(nrs) => cfg
                .watched
                .iter()
                .copied()
                .filter(|n| !nrs.contains(n))
                .collect(),
            None => Vec::new(),
        };
        let set: Option<Vec<u64>> = cfg.nrs.as_ref().map(|n| [&n[..], &watched].concat());
        let per_syscall = set.as_ref().filter(|n| n.len() <= 8);
        if let Some(nrs) = per_syscall {
            for &nr in nrs.iter().chain(exits.iter()) {
                if let Some(n) = tracepoint_name(nr) {
                    names.push(format!("syscalls/sys_enter_{n}"));
                    names.push(format!("syscalls/sys_exit_{n}"));
                }
            }
        }
        names.push("raw_syscalls/sys_enter".into());
        names.push("raw_syscalls/sys_exit".into());
        let ids = tracefs::ids(&names).map_err(PerfError::Tracefs)?;
        // An entry copies the stack when its line may need it: -k, or a path argument.
        let entry = |nr: u64| {
            if watched.contains(&nr) {
                Kind::EnterBare
            } else if cfg.stack_all || needs_stack(nr) {
                Kind::Enter
            } else {
                Kind::EnterBare
            }
        };
        let mut events: Vec<Event> = Vec::new();
        let mut complete = per_syscall.is_some();
        if let Some(nrs) = per_syscall {
            for &nr in nrs {
                let pair = tracepoint_name(nr).and_then(|n| {
                    Some((
                        *ids.get(&format!("syscalls/sys_enter_{n}"))?,
                        *ids.get(&format!("syscalls/sys_exit_{n}"))?,
                    ))
                });
                let Some((e, x)) = pair else {
                    complete = false;
                    break;
                };
                events.push((e, entry(nr), None));
                events.push((x, Kind::Exit, None));
            }
            for nr in exits.into_iter().filter(|nr| !nrs.contains(nr)) {
                match tracepoint_name(nr).and_then(|n| ids.get(&format!("syscalls/sys_enter_{n}")))
                {
                    Some(&e) => events.push((e, Kind::EnterBare, None)),
                    None => complete = false,
                }
            }
        }
        if !complete {
            events.clear();
            let (Some(&e), Some(&x)) = (
                ids.get("raw_syscalls/sys_enter"),
                ids.get("raw_syscalls/sys_exit"),
            ) else {
                return Err(PerfError::Tracefs(io::Error::other(
                    "this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)",
                )));
            };
            // The kernel filters by number: entries with a stack copy for the calls with
            // paths, without for the others; exits of the traced set.
            let traced: Vec<u64> = match &set {
                Some(nrs) => nrs.clone(),
                None => crate::syscalls::table::all().map(|(nr, _)| nr).collect(),
            };
            let mut with: Vec<u64> = traced
                .iter()
                .copied()
                .filter(|&n| entry(n) == Kind::Enter)
                .collect();
            let mut bare: Vec<u64> = traced
                .iter()
                .copied()
                .filter(|&n| entry(n) != Kind::Enter)
                .collect();
            bare.extend(exits.iter().filter(|n| !with.contains(n)));
            with.sort_unstable();
            bare.sort_unstable();
            bare.dedup();
            let any = |v: &[u64]| {
                v.iter()
                    .map(|n| format!("id == {n}"))
                    .collect::<Vec<_>>()
                    .join(" || ")
            };
            let all = cfg.nrs.is_none();
            if !with.is_empty() {
                events.push((e, Kind::Enter, Some(any(&with))));
            }
            if !bare.is_empty() {
                // Every other call: a short negation instead of a long list.
                let f = if all && !with.is_empty() {
                    with.iter()
                        .map(|n| format!("id != {n}"))
                        .collect::<Vec<_>>()
                        .join(" && ")
                } else {
                    any(&bare)
                };
                events.push((e, Kind::EnterBare, Some(f)));
            }
            events.push((x, Kind::Exit, (!all).then(|| any(&traced))));
        }
        if let Some(&s) = ids.get(SIGNAL_TP) {
            events.push((s, Kind::Signal, None));
        }
        let cpus = online_cpus();
        let rings = cpus.iter().map(|_| None).collect();
        let brim = vec![false; cpus.len()];
        let info_enter = parse_info(&attr(&cfg, 0, Kind::Enter, false, false));
        let info_plain = parse_info(&attr(&cfg, 0, Kind::Exit, false, false));
        let offset = clock(libc::CLOCK_REALTIME).saturating_sub(clock(libc::CLOCK_MONOTONIC));
        Ok(PerfSource {
            raw: !complete,
            cfg,
            cpus,
            events,
            fds: Vec::new(),
            rings,
            ids: HashMap::default(),
            info_enter,
            info_plain,
            tasks: HashMap::default(),
            zombie_leaders: HashMap::default(),
            exit_codes: HashMap::default(),
            fatal: HashMap::default(),
            launched: None,
            offset,
            held: Vec::new(),
            brim,
            seq: 0,
            lost: 0,
            early_nrs: Vec::new(),
            looked: HashMap::default(),
            look_hold: None,
        })
    }

    /// How events are chosen, for the banner.
    pub fn describe(&self) -> String {
        match (self.raw, self.cfg.nrs.is_some()) {
            (false, _) => "the syscall tracepoints of the traced set".into(),
            (true, true) => "raw_syscalls tracepoints with a kernel-side filter".into(),
            (true, false) => "raw_syscalls tracepoints, every syscall".into(),
        }
    }

    /// Opens every event for thread `tid` of process `tgid`: one per tracepoint per CPU.
    /// `enable_on_exec` for a launched command that has not exec'd yet.
    pub fn watch(&mut self, tid: i32, tgid: i32, on_exec: bool) -> Result<(), PerfError> {
        for ci in 0..self.cpus.len() {
            let cpu = self.cpus[ci];
            for (i, (tp, kind, filter)) in self.events.clone().into_iter().enumerate() {
                let a = attr(&self.cfg, tp, kind, i == 0, on_exec);
                let fd = open(&a, tid, cpu)?;
                if let Some(f) = &filter {
                    let c = std::ffi::CString::new(f.as_str()).unwrap_or_default();
                    // SAFETY: a NUL-terminated filter string on our perf fd.
                    let r =
                        unsafe { sys::ioctls::SET_FILTER(fd.as_raw_fd(), c.as_ptr().cast_mut()) };
                    if r != 0 {
                        return Err(PerfError::Other(io::Error::last_os_error()));
                    }
                }
                let mut id = 0u64;
                // SAFETY: PERF_EVENT_IOC_ID writes one u64.
                unsafe { sys::ioctls::ID(fd.as_raw_fd(), &mut id) };
                self.ids.insert(id, kind);

                match &self.rings[ci] {
                    Some((_, owner)) => {
                        // SAFETY: redirecting this event's output into the CPU's ring.
                        let r = unsafe { sys::ioctls::SET_OUTPUT(fd.as_raw_fd(), *owner) };
                        if r != 0 {
                            return Err(PerfError::Other(io::Error::last_os_error()));
                        }
                    }
                    None => {
                        let r = ring::Ring::map(fd.as_fd(), self.cfg.pages)
                            .map_err(PerfError::Other)?;
                        self.rings[ci] = Some((r, fd.as_raw_fd()));
                    }
                }
                self.fds.push(fd);
            }
        }
        self.tasks.insert(tid, tgid);
        Ok(())
    }

    /// Watches `pid` (each of its threads, and under `-f` every descendant), telling the
    /// consumer of each. The events are opened before the children are listed, so that a
    /// child is either listed or inherits the events.
    pub fn attach(&mut self, pid: i32, c: &mut dyn Consumer) -> Result<(), PerfError> {
        let threads = crate::remote::procfs::threads(pid);
        if threads.is_empty() {
            return Err(PerfError::NoProcess(pid));
        }
        let mut seen: HashSet<i32> = HashSet::default();
        let mut todo = vec![pid];
        while let Some(p) = todo.pop() {
            for tid in crate::remote::procfs::threads(p) {
                if seen.insert(tid) && !self.tasks.contains_key(&tid) {
                    match self.watch(tid, p, false) {
                        Ok(()) => {}
                        // Gone meanwhile.
                        Err(PerfError::NoProcess(_)) if tid != pid => continue,
                        Err(e) => return Err(e),
                    }
                    c.event(
                        self.now(),
                        SourceEvent::New { tid, parent: None },
                        &crate::remote::ProcMem::racy(tid),
                    );
                }
            }
            if self.cfg.follow {
                todo.extend(crate::remote::procfs::children(p));
            }
        }
        Ok(())
    }

    /// Watches a launched command, stopped before its execve: its events start at the exec.
    pub fn launched(&mut self, pid: i32, c: &mut dyn Consumer) -> Result<(), PerfError> {
        self.watch(pid, pid, true)?;
        self.launched = Some((pid, None));
        c.event(
            self.now(),
            SourceEvent::New {
                tid: pid,
                parent: None,
            },
            &crate::remote::ProcMem::racy(pid),
        );
        Ok(())
    }

    fn now(&self) -> Timestamp {
        crate::util::now()
    }

    /// Reads and delivers events until every watched task is gone or a detach is asked
    /// for; then closes every event. Returns the launched command's wait status, if any.
    pub fn run(&mut self, c: &mut dyn Consumer) -> Option<i32> {
        let mut buf = Vec::new();
        let mut urgent = Vec::new();
        let mut gov = priority::Governor::new(self.cfg.priority.unwrap_or(if self.raw {
            priority::ReaderPriority::Yield
        } else {
            priority::ReaderPriority::Normal
        }));
        let (mut lost_seen, mut pruned) = (0, std::time::Instant::now());
        self.early_nrs = c.early_calls();
        let mut early = Vec::new();
        loop {
            let mut pfds: Vec<libc::pollfd> = self
                .rings
                .iter()
                .flatten()
                .map(|(_, fd)| libc::pollfd {
                    fd: *fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: polling fds we own, for at most 20 ms (see `wait`).
            // Held records are due within a few ms; else the timeout only bounds latency
            // when the rings fill slowly (every syscall traced) and checks for the end.
            // A traced set's events are wanted soon (a failing fallocate's /dev/shm, a
            // short-lived worker's title): the rings are read every 2 ms.
            let wait = if self.held.is_empty() && self.cfg.nrs.is_none() {
                20
            } else {
                2
            };
            unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, wait) };
            gov.observe(
                self.rings
                    .iter()
                    .flatten()
                    .map(|(r, _)| r.fill())
                    .fold(0.0, f64::max),
            );
            self.reap(false);
            // The launched command reaped before this drain: its records are all in the
            // rings now, so a task of it still watched after the drain lost its exit.
            let reaped = self.launched.is_some_and(|(_, st)| st.is_some());
            // Records stamped before this instant are all in the rings once we read them.
            let mark = clock(libc::CLOCK_MONOTONIC).as_nanos() as u64;
            self.drain(&mut buf, &mut urgent, &mut early);
            for (tid, nr, ret) in urgent.drain(..) {
                c.urgent_exit(tid, nr, ret);
            }
            self.look_early(c, &mut early);
            self.deliver(c, Some(mark.saturating_sub(1_000_000)));
            c.after_resume();
            if c.has_idle_work() {
                c.idle();
            }
            // A lost record may have been a task's end: after a loss, and when every ring
            // says its tasks are gone, the tasks no longer in /proc are ended.
            let hup = !pfds.is_empty()
                && pfds
                    .iter()
                    .all(|p| p.revents & (libc::POLLHUP | libc::POLLERR) != 0);
            // The same when the launched command has ended (its exit may have been dropped
            // with no later record to report the loss, and not every ring hung up).
            let settle = pruned.elapsed() >= Duration::from_millis(100);
            if hup
                || (self.lost > lost_seen && settle)
                || (reaped && !self.tasks.is_empty() && settle)
            {
                (lost_seen, pruned) = (self.lost, std::time::Instant::now());
                self.prune_vanished(c);
                if hup && !self.done() {
                    // poll returns at once now: do not spin.
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            if super::interrupted() || self.done() {
                break;
            }
        }
        self.drain(&mut buf, &mut urgent, &mut early);
        for (tid, nr, ret) in urgent.drain(..) {
            c.urgent_exit(tid, nr, ret);
        }
        self.look_early(c, &mut early);
        self.deliver(c, None);
        if self.brim.iter().any(|&b| b) {
            c.event(
                self.now(),
                SourceEvent::Lost { count: None },
                &crate::remote::ProcMem::racy(0),
            );
        }
        self.close();
        let now = self.now();
        let mut rest: Vec<i32> = self.tasks.drain().map(|(t, _)| t).collect();
        rest.extend(self.zombie_leaders.drain().map(|(t, _)| t));
        rest.sort_unstable();
        for tid in rest {
            c.event(
                now,
                SourceEvent::Detached { tid },
                &crate::remote::ProcMem::racy(tid),
            );
        }
        c.after_resume();
        self.launched.and_then(|(_, st)| st)
    }

    fn done(&self) -> bool {
        self.tasks.is_empty() && self.launched.is_none_or(|(_, st)| st.is_some())
    }

    /// Collects the launched command's status (`block`: it is known to be exiting).
    fn reap(&mut self, block: bool) {
        if let Some((pid, None)) = self.launched {
            let mut st = 0;
            let flags = if block { 0 } else { libc::WNOHANG };
            // SAFETY: waiting for our own child.
            if unsafe { libc::waitpid(pid, &mut st, flags) } == pid {
                self.launched = Some((pid, Some(st)));
            }
        }
    }

    /// Closes every event (the kernel removes them with their last fd).
    pub fn close(&mut self) {
        self.rings.iter_mut().for_each(|r| *r = None);
        self.fds.clear();
    }

    fn drain(
        &mut self,
        buf: &mut Vec<u8>,
        urgent: &mut Vec<(i32, u64, i64)>,
        early: &mut Vec<(i32, u64, i64, u64, u64)>,
    ) {
        let mut got: Vec<(u64, Rec)> = Vec::new();
        let (ie, ip) = (self.info_enter, self.info_plain);
        let ids = &self.ids;
        // A sample with its stack copy, and what goes with it.
        let largest = self.cfg.stack_bytes as usize + 1024;
        for (i, ring) in self.rings.iter().enumerate() {
            let Some((r, _)) = ring else { continue };
            let room = r.room();
            let n = r.read(buf, |h, body| {
                if let Some(x) = parse(h, body, ids, &ie, &ip) {
                    got.push(x);
                }
            });
            // After a read of a full ring the kernel's next record there reports what it
            // dropped meanwhile; until one comes, the ring may hold an unreported loss.
            if n > 0
                && let Some(b) = self.brim.get_mut(i)
            {
                *b = room < largest;
            }
        }
        for (t, rec) in got {
            if let Rec::Exit { tid, nr, ret } = &rec
                && *ret < 0
            {
                urgent.push((*tid, *nr, *ret));
            }
            self.seq += 1;
            if let Rec::Exit { tid, nr, ret } = &rec
                && *ret >= 0
                && self.early_nrs.contains(nr)
            {
                early.push((*tid, *nr, *ret, t, self.seq));
            }
            self.held.push((t, self.seq, rec));
        }
    }

    /// Shows the consumer the exits it looks at early ([`Consumer::early_exit`]) among
    /// those just read: per task and call only the latest, since each earlier one was
    /// followed by another return from the same call before the look.
    fn look_early(&mut self, c: &mut dyn Consumer, early: &mut Vec<(i32, u64, i64, u64, u64)>) {
        if early.is_empty() {
            return;
        }
        early.sort_unstable_by_key(|&(tid, nr, _, t, seq)| (tid, nr, std::cmp::Reverse((t, seq))));
        early.dedup_by_key(|&mut (tid, nr, ..)| (tid, nr));
        for &(tid, nr, ret, t, seq) in early.iter() {
            c.early_exit(tid, nr, ret, self.offset + Duration::from_nanos(t));
            let done = clock(libc::CLOCK_MONOTONIC).as_nanos() as u64;
            self.looked.insert(seq, done);
            self.look_hold = Some(self.look_hold.map_or(t, |h| h.min(t)));
        }
        early.clear();
    }

    /// Hands the held records up to `mark` (all with `None`) to the consumer, in time order.
    /// After a drain that looked at exits early, the records from the earliest of those on
    /// wait for the next drain, which reads what their tasks did while they were looked at.
    fn deliver(&mut self, c: &mut dyn Consumer, mark: Option<u64>) {
        self.held.sort_by_key(|(t, s, _)| (*t, *s));
        let hold = self.look_hold.take();
        let n = match (mark, hold) {
            (Some(m), Some(h)) => self.held.partition_point(|(t, _, _)| *t <= m && *t < h),
            (Some(m), None) => self.held.partition_point(|(t, _, _)| *t <= m),
            (None, _) => self.held.len(),
        };
        let ready: Vec<(u64, u64, Rec)> = self.held.drain(..n).collect();
        let ended = killed_in_call(&ready, &self.held);
        let looks: Vec<Option<bool>> = (0..ready.len())
            .map(|i| {
                let done = self.looked.remove(&ready[i].1)?;
                Some(look_current(&ready, i, &self.held, done))
            })
            .collect();
        for (i, (t, _, rec)) in ready.into_iter().enumerate() {
            if ended.contains(&i) {
                // ptrace sees no exit of a call that SIGKILL ended (a thread of a process
                // whose other thread exits or execs): `= ?` at the task's end, not
                // `= ? ERESTARTNOHAND`.
                continue;
            }
            let time = self.offset + Duration::from_nanos(t);
            self.one(c, time, rec, looks[i]);
            // What ptrace does after each stop: the session finishes the event (resolves
            // its stack onto the call in flight) before the next one.
            c.after_resume();
        }
    }

    /// `look`: whether the consumer's early look at this exit was still current.
    fn one(&mut self, c: &mut dyn Consumer, time: Timestamp, rec: Rec, look: Option<bool>) {
        match rec {
            Rec::Enter {
                tid,
                pid,
                nr,
                args,
                regs,
                stack,
            } => {
                if nr == crate::syscalls::nr::EXIT_GROUP {
                    self.exit_codes.insert(pid, args[0] as i32);
                } else if nr == crate::syscalls::nr::EXIT {
                    self.exit_codes.insert(-tid, args[0] as i32);
                }
                let (ip, sp, bp) = regs.unwrap_or_default();
                let snap =
                    (regs.is_some() && c.wants_stack(StackFor::Syscall(nr))).then(|| Snapshot {
                        pid: tid,
                        rip: ip,
                        rsp: sp,
                        rbp: bp,
                        stack: stack.clone(),
                    });
                let mem = record::Captured::new(tid, sp, &stack, false);
                c.event(
                    time,
                    SourceEvent::SyscallEntry {
                        tid,
                        nr,
                        args,
                        sp,
                        ip,
                        stack: snap,
                    },
                    &mem,
                );
            }
            Rec::Exit { tid, nr, ret } => {
                let mem = record::Captured::new(tid, 0, &[], false).with_look(look);
                c.event(
                    time,
                    SourceEvent::SyscallExit {
                        tid,
                        nr: Some(nr),
                        rval: ret,
                        is_error: (-4095..0).contains(&ret),
                        injected: false,
                        poked: false,
                        delayed: false,
                        ip: 0,
                        cpu: None,
                    },
                    &mem,
                );
            }
            Rec::Signal {
                pid,
                sig,
                default_handler,
            } => {
                if default_handler && crate::syscalls::signals::default_is_fatal(sig) {
                    self.fatal.insert(pid, sig);
                }
            }
            Rec::Fork { tid, pid, ptid } => {
                if self.tasks.insert(tid, pid).is_none() {
                    c.event(
                        time,
                        SourceEvent::New {
                            tid,
                            parent: Some(ptid),
                        },
                        &crate::remote::ProcMem::racy(tid),
                    );
                }
            }
            Rec::TaskExit { tid, pid } => {
                if self.tasks.remove(&tid).is_none() {
                    return;
                }
                if tid == pid && self.tasks.values().any(|&g| g == pid) {
                    self.zombie_leaders.insert(pid, ());
                    return;
                }
                let ev = self.gone(tid, pid);
                c.event(time, ev, &crate::remote::ProcMem::racy(tid));
                if tid != pid
                    && self.zombie_leaders.contains_key(&pid)
                    && !self.tasks.values().any(|&g| g == pid)
                {
                    self.zombie_leaders.remove(&pid);
                    let ev = self.gone(pid, pid);
                    c.event(time, ev, &crate::remote::ProcMem::racy(pid));
                }
            }
            Rec::Exec { tid } => {
                // After a thread's execve the process's only task has the leader's pid;
                // the thread's own tid is gone without an exit record.
                let former = if self.zombie_leaders.remove(&tid).is_some() {
                    self.tasks
                        .iter()
                        .find(|&(&t, &g)| g == tid && t != tid)
                        .map(|(&t, _)| t)
                } else {
                    None
                };
                if let Some(f) = former {
                    self.tasks.remove(&f);
                    self.tasks.insert(tid, tid);
                }
                if self.tasks.contains_key(&tid) {
                    c.event(
                        time,
                        SourceEvent::Exec {
                            tid,
                            former: former.unwrap_or(tid),
                        },
                        &crate::remote::ProcMem::racy(tid),
                    );
                }
            }
            Rec::Lost { count } => {
                self.lost += count;
                c.event(
                    time,
                    SourceEvent::Lost { count: Some(count) },
                    &crate::remote::ProcMem::racy(0),
                );
            }
        }
    }

    /// Ends the watched tasks that have left /proc (their exit among lost records), as far
    /// as the records we have tell how they ended.
    fn prune_vanished(&mut self, c: &mut dyn Consumer) {
        self.deliver(c, None);
        self.reap(false);
        let alive = |t: i32| std::path::Path::new(&format!("/proc/{t}")).exists();
        let mut gone: Vec<(i32, i32)> = self
            .tasks
            .iter()
            .filter(|&(&t, _)| !alive(t))
            .map(|(&t, &p)| (t, p))
            .collect();
        gone.sort_unstable();
        let now = self.now();
        for (tid, pid) in gone {
            self.tasks.remove(&tid);
            let ev = self.gone(tid, pid);
            c.event(now, ev, &crate::remote::ProcMem::racy(tid));
        }
        let mut leaders: Vec<i32> = self
            .zombie_leaders
            .keys()
            .copied()
            .filter(|&l| !self.tasks.values().any(|&g| g == l))
            .collect();
        leaders.sort_unstable();
        for pid in leaders {
            self.zombie_leaders.remove(&pid);
            let ev = self.gone(pid, pid);
            c.event(now, ev, &crate::remote::ProcMem::racy(pid));
        }
        c.after_resume();
    }

    /// How task `tid` of process `pid` ended, as far as the events tell.
    fn gone(&mut self, tid: i32, pid: i32) -> SourceEvent {
        if let Some((lpid, _)) = self.launched
            && lpid == tid
        {
            self.reap(true);
            if let Some((_, Some(st))) = self.launched {
                if libc::WIFSIGNALED(st) {
                    return SourceEvent::Killed {
                        tid,
                        sig: libc::WTERMSIG(st),
                        core: libc::WCOREDUMP(st),
                    };
                }
                return SourceEvent::Exited {
                    tid,
                    code: libc::WEXITSTATUS(st),
                };
            }
        }
        // SIGKILL after an exit_group is the kernel ending the other threads: they exit.
        if let Some(&sig) = self.fatal.get(&pid)
            && !(sig == libc::SIGKILL && self.exit_codes.contains_key(&pid))
        {
            return SourceEvent::Killed {
                tid,
                sig,
                core: false,
            };
        }
        match self
            .exit_codes
            .get(&pid)
            .or_else(|| self.exit_codes.get(&-tid))
        {
            Some(&code) => SourceEvent::Exited {
                tid,
                code: code & 0xff,
            },
            None => SourceEvent::Detached { tid },
        }
    }
}

/// Whether the early look at the exit `ready[i]`, ended at `done`, was still current: its
/// task did not return from the same call again (in `ready` after it, or in `later`)
/// before the look ended.
fn look_current(ready: &[(u64, u64, Rec)], i: usize, later: &[(u64, u64, Rec)], done: u64) -> bool {
    let Some((t0, _, Rec::Exit { tid, nr, .. })) = ready.get(i) else {
        return false;
    };
    !ready[i + 1..].iter().chain(later).any(|(t, _, r)| {
        matches!(r, Rec::Exit { tid: t2, nr: n2, .. } if t2 == tid && n2 == nr)
            && *t > *t0
            && *t <= done
    })
}

/// The indices in `ready` of the syscall exits that end a call in `-ERESTART*` and after
/// which the task's next record, in `ready` then `later`, is its end: the call was ended
/// by SIGKILL, which no ptrace tracer sees as an exit.
fn killed_in_call(ready: &[(u64, u64, Rec)], later: &[(u64, u64, Rec)]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, (_, _, rec)) in ready.iter().enumerate() {
        let Rec::Exit { tid, ret, .. } = *rec else {
            continue;
        };
        if !(-516..=-512).contains(&ret) {
            continue;
        }
        let next = ready[i + 1..]
            .iter()
            .chain(later)
            .map(|(_, _, r)| r)
            .find(|r| match r {
                Rec::Enter { tid: t, .. } | Rec::Exit { tid: t, .. } => *t == tid,
                Rec::TaskExit { tid: t, .. } => *t == tid,
                // The delivery of a fatal signal other than SIGKILL: ptrace sees that exit.
                Rec::Signal { sig, .. } => *sig != libc::SIGKILL,
                _ => false,
            });
        if matches!(next, Some(Rec::TaskExit { .. })) {
            out.push(i);
        }
    }
    out
}

impl Drop for PerfSource {
    fn drop(&mut self) {
        self.close();
    }
}

fn open(a: &sys::bindings::perf_event_attr, tid: i32, cpu: i32) -> Result<OwnedFd, PerfError> {
    let mut a = *a;
    // SAFETY: a fully initialised attr; the fd returned is ours.
    let fd = unsafe {
        sys::perf_event_open(
            &mut a,
            tid,
            cpu,
            -1,
            sys::bindings::PERF_FLAG_FD_CLOEXEC as libc::c_ulong,
        )
    };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ESRCH) => PerfError::NoProcess(tid),
            Some(libc::EACCES) | Some(libc::EPERM) => PerfError::Refused(e, paranoid()),
            _ => PerfError::Other(e),
        });
    }
    // SAFETY: a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn attr(
    cfg: &PerfConfig,
    tp: u64,
    kind: Kind,
    first: bool,
    on_exec: bool,
) -> sys::bindings::perf_event_attr {
    use sys::bindings as b;
    // SAFETY: perf_event_attr is plain data; all-zero is its documented default.
    let mut a: b::perf_event_attr = unsafe { std::mem::zeroed() };
    a.type_ = b::PERF_TYPE_TRACEPOINT;
    a.size = std::mem::size_of::<b::perf_event_attr>() as u32;
    a.config = tp;
    a.__bindgen_anon_1.sample_period = 1;
    let mut st = b::PERF_SAMPLE_IDENTIFIER
        | b::PERF_SAMPLE_TID
        | b::PERF_SAMPLE_TIME
        | b::PERF_SAMPLE_CPU
        | b::PERF_SAMPLE_RAW;
    if kind == Kind::Enter && cfg.stack_bytes > 0 {
        st |= b::PERF_SAMPLE_REGS_USER | b::PERF_SAMPLE_STACK_USER;
        a.sample_regs_user = (1 << REG_IP) | (1 << REG_SP) | (1 << REG_BP);
        a.sample_stack_user = cfg.stack_bytes.min(PerfConfig::MAX_STACK) & !7;
    }
    a.sample_type = st as u64;
    a.set_sample_id_all(1);
    a.set_inherit(cfg.follow as u64);
    a.set_use_clockid(1);
    a.clockid = libc::CLOCK_MONOTONIC;
    // Forks and exits are reported once per task and CPU: by its first event.
    a.set_task(first as u64);
    a.set_comm(first as u64);
    a.set_comm_exec(first as u64);
    if on_exec {
        a.set_disabled(1);
        a.set_enable_on_exec(1);
    }
    // Wake the reader when a quarter of the ring is used; sooner, the poll timeout reads
    // it (a wake-up per event cost a busy tracee 10x its syscall rate: benches/perf_loss).
    a.set_watermark(1);
    a.__bindgen_anon_2.wakeup_watermark = (cfg.pages * 4096 / 4) as u32;
    a
}

fn parse_info(a: &sys::bindings::perf_event_attr) -> RecordParseInfo {
    // SAFETY: viewing the plain-data attr as its bytes, for the crate's parser.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (a as *const sys::bindings::perf_event_attr).cast::<u8>(),
            std::mem::size_of::<sys::bindings::perf_event_attr>(),
        )
    };
    let (parsed, _) = PerfEventAttr::parse::<_, byteorder::LittleEndian>(bytes)
        .unwrap_or_else(|_| unreachable!("our own attr parses"));
    RecordParseInfo::new(&parsed, Endianness::LittleEndian)
}

/// One record from a ring into its time and owned form; `None` for what we do not use.
fn parse(
    h: ring::Header,
    body: &[u8],
    ids: &HashMap<u64, Kind>,
    info_enter: &RecordParseInfo,
    info_plain: &RecordParseInfo,
) -> Option<(u64, Rec)> {
    use sys::bindings as b;
    let kind = if h.kind == b::PERF_RECORD_SAMPLE {
        // PERF_SAMPLE_IDENTIFIER comes first in a sample.
        let id = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
        Some(*ids.get(&id)?)
    } else {
        None
    };
    let info = if kind == Some(Kind::Enter) {
        info_enter
    } else {
        info_plain
    };
    let raw = RawEventRecord::new(RecordType(h.kind), h.misc, RawData::from(body), *info);
    match raw.parse().ok()? {
        EventRecord::Sample(s) => {
            let t = s.timestamp?;
            let tid = s.tid?;
            let pid = s.pid?;
            let data = s.raw?.as_slice();
            match kind? {
                Kind::Enter | Kind::EnterBare => {
                    let (nr, args) = record::enter_fields(&data)?;
                    let regs = s.user_regs.as_ref().and_then(|r| {
                        Some((r.get(REG_IP)?, r.get(REG_SP)?, r.get(REG_BP).unwrap_or(0)))
                    });
                    let stack = s
                        .user_stack
                        .map(|(d, dyn_size)| {
                            let v = d.as_slice();
                            v[..(dyn_size as usize).min(v.len())].to_vec()
                        })
                        .unwrap_or_default();
                    Some((
                        t,
                        Rec::Enter {
                            tid,
                            pid,
                            nr,
                            args,
                            regs,
                            stack,
                        },
                    ))
                }
                Kind::Exit => {
                    let (nr, ret) = record::exit_fields(&data)?;
                    Some((t, Rec::Exit { tid, nr, ret }))
                }
                Kind::Signal => {
                    let sig = i32::from_le_bytes(data.get(8..12)?.try_into().ok()?);
                    let handler = u64::from_le_bytes(data.get(24..32)?.try_into().ok()?);
                    Some((
                        t,
                        Rec::Signal {
                            pid,
                            sig,
                            default_handler: handler == 0,
                        },
                    ))
                }
            }
        }
        EventRecord::Fork(f) => Some((
            f.timestamp,
            Rec::Fork {
                tid: f.tid,
                pid: f.pid,
                ptid: f.ptid,
            },
        )),
        EventRecord::Exit(f) => Some((
            f.timestamp,
            Rec::TaskExit {
                tid: f.tid,
                pid: f.pid,
            },
        )),
        EventRecord::Comm(c) if c.is_execve => {
            // The time is in the trailing sample_id: {pid, tid}, time, {cpu, res}, id.
            let n = body.len();
            let t = u64::from_le_bytes(body.get(n.checked_sub(24)?..n - 16)?.try_into().ok()?);
            Some((t, Rec::Exec { tid: c.tid }))
        }
        EventRecord::Lost(l) => {
            // The time is in the trailing sample_id; not parsed: now is close enough.
            Some((
                clock(libc::CLOCK_MONOTONIC).as_nanos() as u64,
                Rec::Lost { count: l.count },
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(t: u64, tid: i32, nr: u64) -> (u64, u64, Rec) {
        (t, t, Rec::Exit { tid, nr, ret: 1 })
    }

    #[test]
    fn an_early_look_is_current_until_the_task_returns_from_the_call_again() {
        let ready = [exit(10, 7, 45), exit(12, 8, 45), exit(14, 7, 0)];
        // Another task's return and another call's return do not matter.
        assert!(look_current(&ready, 0, &[], 20));
        // The task's next return from the same call, before the look ended: too late.
        assert!(!look_current(&ready, 0, &[exit(18, 7, 45)], 20));
        // ... after it: the look saw this call's statement.
        assert!(look_current(&ready, 0, &[exit(25, 7, 45)], 20));
        assert!(!look_current(
            &[exit(10, 7, 45), exit(11, 7, 45)],
            0,
            &[],
            20
        ));
        // Not an exit: no look to judge.
        assert!(!look_current(&ready, 5, &[], 20));
    }
}
