//! Arming breakpoints and capturing values at each hit.
//!
//! The engine runs with `Resume::Continue` and follows forks. At a tracee's first stop
//! (the interrupt after the seize) each probe's first byte is saved and replaced by `int3`,
//! and read back. A hit is a breakpoint stop: the values are read (registers, and memory
//! through bounded reads while the tracee is held), the original byte put back, rip rewound,
//! one single step taken, and the `int3` written again at the step stop; the values are
//! formatted after the tracee runs again. A `%return` probe's entry hit puts a temporary
//! `int3` on the return address (kept while a call is pending there) and the return is
//! recognised by its stack pointer, so recursion and `longjmp` (PostgreSQL's `ERROR`) are
//! told apart. A child forked while armed gets its copy of the text cleaned at its first
//! stop, then is let go (or, with `-f`, armed as a target of its own). Before any detach
//! (Ctrl-C, `--max-hits`, `--duration`, an error) every original byte is put back and read
//! back, and a tracee stopped on one of the traps is rewound.
//!
//! Armed bytes are recorded on disk first ([`super::record`]): after a SIGKILL of pgstrace,
//! `--cleanup` puts them back ([`Cleaner`]).

use super::capture::{self, Captured, StackCopy};
pub use super::place::{Placed, place};
use crate::syscalls::Tracee;
use crate::trace::engine::{ReleaseStop, Stopped};
use crate::trace::stop::ForkKind;
use crate::trace::{Gone, Handler, Stop};
use anyhow::{Result, anyhow, bail};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Instant;

const INT3: u8 = 0xcc;
/// How much stack a hit in a critical section copies for its values (when not `-k`).
const CRITICAL_STACK: usize = 16 * 1024;

/// One hit, formatted after the tracee runs on.
struct Hit {
    time: std::time::Duration,
    pid: i32,
    probe: String,
    values: Vec<(String, Captured)>,
    /// In a critical section: the values are read after the resume, from this copy of the
    /// registers and the stack (index of the placed probe).
    deferred: Option<(usize, libc::user_regs_struct, u64, Vec<u8>)>,
    /// `-k`: registers and stack copied at the hit, unwound after the resume.
    snap: Option<crate::remote::regs::Snapshot>,
    /// The backend was in a critical section or held interrupts off.
    critical: bool,
}

/// A `%return` probe's call in progress.
#[derive(Clone, Copy, Debug)]
struct Pending {
    /// The return address (a temporary breakpoint).
    ret: u64,
    /// The stack pointer once returned there.
    rsp: u64,
    /// The probe (an index into `placed`).
    probe: usize,
}

/// Breakpoints in one process.
#[derive(Clone, Debug, Default)]
struct Armed {
    /// Every address ever armed here, with its original byte (what the on-disk record
    /// holds, and what a forked child's copy of the text is cleaned of).
    known: HashMap<u64, u8>,
    /// The addresses holding an `int3` now.
    live: HashSet<u64>,
    /// `%return` calls in progress, innermost last.
    pending: Vec<Pending>,
    /// The probed instructions done by hand at a hit (no single step).
    emul: HashMap<u64, super::emulate::Emul>,
}

impl Armed {
    /// Whether `addr` must stay armed: a probe is there, or a pending return.
    fn needed(&self, addr: u64, placed: &[Placed], pid: i32) -> bool {
        placed.iter().any(|p| p.pid == pid && p.addr == addr)
            || self.pending.iter().any(|p| p.ret == addr)
    }
}

/// The breakpoint engine's handler.
pub struct Prober {
    placed: Vec<Placed>,
    /// Per process.
    armed: HashMap<i32, Armed>,
    /// Threads single-stepping over a breakpoint: the address to re-arm.
    stepping: HashMap<i32, u64>,
    /// The processes being probed (the -p ones, and with `-f` the children they fork).
    targets: Vec<i32>,
    /// `-f`: a target's forked children are armed too.
    follow: bool,
    /// A forked child's parent, from its fork event.
    parents: HashMap<i32, i32>,
    lines: Vec<String>,
    pending: Vec<Hit>,
    /// `--json`: one object per hit.
    json: bool,
    /// `-s`: the longest string a value prints.
    string_limit: usize,
    /// `-k`.
    backtracer: Option<crate::session::stacks::Backtracer>,
    /// Each PostgreSQL tracee's globals reader (for the statement it runs), `None` when it
    /// is not a backend.
    queries: HashMap<i32, Option<crate::postgres::memory::GlobalsReader>>,
    out: Box<dyn Write>,
    pub hits: u64,
    max_hits: Option<u64>,
    deadline: Option<Instant>,
    /// The stall budget: the most of the wall time the tracees may be held, as a fraction.
    budget: f64,
    /// Time the tracees were held at hits, and since when.
    held: std::time::Duration,
    since: Instant,
    /// Per hit: how long it held its tracee (the breakpoint stop plus the step stop), ns.
    pub hold_ns: Vec<u64>,
    /// Breakpoint stops whose instruction was done by hand (no step).
    pub emulated: u64,
    /// The breakpoint stop's part of the hit being stepped, per thread.
    hold_start: HashMap<i32, std::time::Duration>,
    /// Why probing stopped early (printed once).
    pub stopped_why: Option<String>,
}

impl Prober {
    pub fn new(
        placed: Vec<Placed>,
        out: Box<dyn Write>,
        max_hits: Option<u64>,
        deadline: Option<Instant>,
        budget: f64,
    ) -> Prober {
        let mut targets: Vec<i32> = placed.iter().map(|p| p.pid).collect();
        targets.dedup();
        Prober {
            placed,
            armed: HashMap::new(),
            stepping: HashMap::new(),
            targets,
            follow: false,
            parents: HashMap::new(),
            lines: Vec::new(),
            pending: Vec::new(),
            json: false,
            string_limit: 64,
            backtracer: None,
            queries: HashMap::new(),
            out,
            hits: 0,
            max_hits,
            deadline,
            budget,
            held: std::time::Duration::ZERO,
            since: Instant::now(),
            hold_ns: Vec::new(),
            emulated: 0,
            hold_start: HashMap::new(),
            stopped_why: None,
        }
    }

    /// A probe on a hot function disarms itself before it turns into an outage: past a
    /// short warm-up, holding the tracees for more than the budget's share of the wall time
    /// ends the probing.
    fn check_budget(&mut self) {
        let wall = self.since.elapsed();
        if self.hits < 50 && wall < std::time::Duration::from_millis(500) {
            return;
        }
        let share = self.held.as_secs_f64() / wall.as_secs_f64().max(1e-9);
        if share > self.budget {
            self.stop_probing(format!(
                "stall budget: the probes held the tracees {:.1}% of the time (budget {:.1}%, \
                 --stall-budget); {} hits",
                share * 100.0,
                self.budget * 100.0,
                self.hits
            ));
        }
    }

    /// Whether backend `pid` holds `CritSectionCount > 0` or `InterruptHoldoffCount > 0`.
    fn in_critical_section(&self, pid: i32, mem: &dyn Tracee) -> bool {
        let Some(Some(r)) = self.queries.get(&pid) else {
            return false;
        };
        let (Some(crit), Some(holdoff)) = (
            r.address("CritSectionCount"),
            r.address("InterruptHoldoffCount"),
        ) else {
            return false;
        };
        // Neighbours in .bss (8 bytes apart in Debian's build): one read for both.
        let (lo, hi) = (crit.min(holdoff), crit.max(holdoff));
        let mut b = [0u8; 64];
        if hi - lo <= 60 {
            let n = (hi - lo + 4) as usize;
            if mem.read_mem(lo, &mut b[..n]) != n {
                return false;
            }
            let at = |a: u64| {
                let o = (a - lo) as usize;
                u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
            };
            return at(crit) > 0 || at(holdoff) > 0;
        }
        [crit, holdoff].iter().any(|&a| {
            let mut w = [0u8; 4];
            mem.read_mem(a, &mut w) == 4 && u32::from_le_bytes(w) > 0
        })
    }

    /// `median X us, p99 Y us` of the time hits held their tracee.
    pub fn hold_summary(&self) -> Option<String> {
        if self.hold_ns.is_empty() {
            return None;
        }
        let mut t = self.hold_ns.clone();
        t.sort_unstable();
        let at = |q: f64| t[((t.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
        Some(format!(
            "a hit held its tracee: median {:.1} us, p99 {:.1} us, max {:.1} us; {} of {} \
             without a single step",
            at(0.5),
            at(0.99),
            at(1.0),
            self.emulated,
            self.hold_ns.len()
        ))
    }

    /// `-k`: each hit with the stack where it happened.
    pub fn with_stacks(mut self) -> Self {
        self.backtracer = Some(crate::session::stacks::Backtracer::new(false));
        self
    }

    /// Hits as JSON objects, one a line.
    pub fn json(mut self) -> Self {
        self.json = true;
        self
    }

    /// `-f`: arm the children the targets fork.
    pub fn follow_children(mut self) -> Self {
        self.follow = true;
        self
    }

    /// `-s`: the longest string a value prints.
    pub fn string_limit(mut self, n: usize) -> Self {
        self.string_limit = n.max(1);
        self
    }

    fn stop_probing(&mut self, why: String) {
        if self.stopped_why.is_none() {
            self.stopped_why = Some(why);
        }
        crate::trace::request_detach();
    }

    /// Writes `byte` at `addr` and reads it back.
    fn put<K>(s: &mut Stopped<'_, K>, addr: u64, byte: u8) -> Result<()> {
        s.write_mem(addr, &[byte])
            .map_err(|e| anyhow!("writing {addr:#x}: {e}"))?;
        let mut back = [0u8];
        if s.mem().read_mem(addr, &mut back) != 1 || back[0] != byte {
            bail!("{addr:#x} reads back {:#04x}, not {byte:#04x}", back[0]);
        }
        Ok(())
    }

    /// Reads the original bytes at `addrs` (not armed yet) into `pid`'s record, on disk
    /// before the first of them is written, for --cleanup after a SIGKILL; in memory too, so
    /// that a failure half way still restores what was written.
    fn learn<K>(&mut self, s: &mut Stopped<'_, K>, addrs: &[u64]) -> Result<()> {
        let pid = s.tid();
        let a = self.armed.entry(pid).or_default();
        let mut new = false;
        for &addr in addrs {
            if a.known.contains_key(&addr) {
                continue;
            }
            let mut orig = [0u8];
            if s.mem().read_mem(addr, &mut orig) != 1 {
                bail!("pid {pid}: cannot read {addr:#x}");
            }
            if orig[0] == INT3 {
                bail!(
                    "pid {pid}: {addr:#x} is an int3 already (another debugger's, or a pgstrace killed while armed)"
                );
            }
            a.known.insert(addr, orig[0]);
            let mut code = [0u8; 16];
            let n = s.mem().read_mem(addr, &mut code);
            if let Some(e) = super::emulate::plan(&code[..n], addr) {
                a.emul.insert(addr, e);
            }
            new = true;
        }
        if new {
            super::record::save(pid, &a.known)?;
        }
        Ok(())
    }

    fn arm(&mut self, s: &mut Stopped<'_, ()>) -> Result<()> {
        let pid = s.tid();
        let threads = crate::remote::procfs::threads(pid).len();
        if threads > 1 {
            bail!(
                "pid {pid} has {threads} threads: a multi-threaded process is not supported \
                 (every thread must be stoppable for the step-over)"
            );
        }
        let addrs: Vec<u64> = self
            .placed
            .iter()
            .filter(|p| p.pid == pid)
            .map(|p| p.addr)
            .collect();
        self.learn(s, &addrs)?;
        for addr in addrs {
            Self::put(s, addr, INT3)?;
            self.armed.entry(pid).or_default().live.insert(addr);
        }
        Ok(())
    }

    /// Puts every original byte of `bytes` back (the process's own, or a forked child's
    /// copy of the parent's).
    fn restore<K>(s: &mut Stopped<'_, K>, bytes: &HashMap<u64, u8>) -> Result<()> {
        for (&addr, &orig) in bytes {
            Self::put(s, addr, orig)?;
        }
        Ok(())
    }

    /// The probed process `tid` is a thread of (not its main thread), if any.
    fn thread_of_target(&self, tid: i32) -> Option<i32> {
        let tgid = crate::remote::procfs::status(tid).ok()?.tgid;
        (tgid > 0 && tgid != tid && self.targets.contains(&tgid)).then_some(tgid)
    }

    /// A child forked by a target: its copy of the text is cleaned of every byte its parent
    /// ever armed; with `-f` it becomes a target and is armed as its parent was.
    fn forked_child(&mut self, mut s: Stopped<'_, ()>) {
        let pid = s.tid();
        // Its parent: from the fork event, else (a child can stop before its parent's fork
        // event is seen) from /proc.
        let parent = self.parents.remove(&pid).or_else(|| {
            crate::remote::procfs::status(pid)
                .ok()
                .map(|st| st.ppid)
                .filter(|p| self.armed.contains_key(p))
        });
        let bytes = parent
            .and_then(|p| self.armed.get(&p))
            .map(|a| a.known.clone());
        if let Some(bytes) = &bytes
            && let Err(e) = Self::restore(&mut s, bytes)
        {
            self.stop_probing(format!("cannot clean forked child {pid}: {e:#}"));
            return s.detach();
        }
        let Some(parent) = parent.filter(|p| self.follow && self.targets.contains(p)) else {
            return s.detach();
        };
        if self.stopped_why.is_some() {
            return s.detach();
        }
        // -f: the same probes at the same addresses (a fork keeps the layout).
        let mine: Vec<Placed> = self
            .placed
            .iter()
            .filter(|p| p.pid == parent)
            .map(|p| Placed { pid, ..p.clone() })
            .collect();
        self.placed.extend(mine);
        self.targets.push(pid);
        if let Err(e) = self.arm(&mut s) {
            self.stop_probing(format!("cannot arm forked child {pid}: {e:#}"));
        }
        s.cont();
        self.queries
            .entry(pid)
            .or_insert_with(|| crate::postgres::memory::GlobalsReader::for_process(pid).ok());
    }

    /// A trap that is not a live breakpoint of this thread: one of ours all the same when
    /// its address is one its process armed (a thread that raced the cleaning, a return
    /// breakpoint just removed): the original byte is put back if needed and rip rewound,
    /// so the instruction runs for real. Otherwise it is the program's own SIGTRAP.
    fn stray(
        &mut self,
        mut b: Stopped<'_, crate::trace::engine::Trap>,
        mut regs: libc::user_regs_struct,
        addr: u64,
    ) {
        let tid = b.tid();
        let tgid = crate::remote::procfs::status(tid)
            .ok()
            .map(|s| s.tgid)
            .filter(|&g| g > 0)
            .unwrap_or(tid);
        let Some(orig) = self
            .armed
            .get(&tgid)
            .and_then(|a| a.known.get(&addr).copied())
        else {
            return b.not_mine().cont();
        };
        if self
            .armed
            .get(&tgid)
            .is_some_and(|a| a.live.contains(&addr))
        {
            // Still armed for the process: this thread cannot step over it safely.
            self.stop_probing(format!(
                "cannot probe on: thread {tid} of pid {tgid} reached a breakpoint (a \
                 multi-threaded process is not supported)"
            ));
        }
        let mut now = [0u8];
        if b.mem().read_mem(addr, &mut now) == 1 && now[0] == INT3 {
            let _ = Self::put(&mut b, addr, orig);
            if let Some(a) = self.armed.get_mut(&tgid) {
                a.live.remove(&addr);
            }
        }
        regs.rip = addr;
        let _ = b.set_regs(regs);
        b.cont();
    }

    /// A breakpoint stop at `addr`, one of ours: the hits there (entries, and the return of
    /// a pending `%return` call), then the step over it, or, for a return breakpoint no call
    /// waits on any more, its removal.
    fn breakpoint(
        &mut self,
        mut b: Stopped<'_, crate::trace::engine::Trap>,
        mut regs: libc::user_regs_struct,
        addr: u64,
    ) {
        let tid = b.tid();
        let snap = self.backtracer.as_ref().and_then(|_| {
            let mut snap = b.snapshot(crate::trace::source::MAX_STACK)?;
            snap.rip = addr;
            Some(snap)
        });
        // In a critical section (or with interrupts held off) the backend must not wait:
        // the registers and the stack are copied and the values read from the copy after
        // the resume.
        let critical = self.in_critical_section(tid, &b.mem());
        let stack = critical.then(|| {
            snap.as_ref()
                .map(|s| s.stack.clone())
                .unwrap_or_else(|| crate::remote::vm_read_vec(tid, regs.rsp, CRITICAL_STACK))
        });
        let time = crate::util::now();
        let mut fired = Vec::new();
        // Returns: calls longjmp'ed over are dropped (their frames are below this one).
        if let Some(a) = self.armed.get_mut(&tid) {
            while let Some(top) = a.pending.last().copied() {
                if top.rsp < regs.rsp {
                    a.pending.pop();
                    continue;
                }
                if top.ret == addr && top.rsp == regs.rsp {
                    a.pending.pop();
                    fired.push(top.probe);
                }
                break;
            }
        }
        let mut returns = Vec::new();
        for (i, p) in self.placed.iter().enumerate() {
            if p.pid != tid || p.addr != addr {
                continue;
            }
            if p.at_return {
                let mut ret = [0u8; 8];
                if b.mem().read_mem(regs.rsp, &mut ret) == 8 {
                    returns.push(Pending {
                        ret: u64::from_le_bytes(ret),
                        rsp: regs.rsp + 8,
                        probe: i,
                    });
                }
            } else {
                fired.push(i);
            }
        }
        let mem = b.mem();
        for i in fired {
            self.hits += 1;
            let p = &self.placed[i];
            let (values, deferred) = match &stack {
                Some(st) => (Vec::new(), Some((i, regs, regs.rsp, st.clone()))),
                None => {
                    let m: &dyn Tracee = &mem;
                    (
                        p.values
                            .iter()
                            .map(|(k, plan)| {
                                (
                                    k.clone(),
                                    capture::capture(plan, &regs, &m, self.string_limit),
                                )
                            })
                            .collect(),
                        None,
                    )
                }
            };
            self.pending.push(Hit {
                time,
                pid: tid,
                probe: p.name.clone(),
                values,
                deferred,
                snap: snap.clone(),
                critical,
            });
        }
        if self.max_hits.is_some_and(|m| self.hits >= m) {
            self.stop_probing(format!("{} hits (--max-hits)", self.hits));
        }
        // New pending returns: their return addresses armed (recorded first).
        if !returns.is_empty() && self.stopped_why.is_none() {
            let rets: Vec<u64> = returns.iter().map(|r| r.ret).collect();
            match self.learn(&mut b, &rets) {
                Ok(()) => {
                    for r in returns {
                        let live = self
                            .armed
                            .get(&tid)
                            .is_some_and(|a| a.live.contains(&r.ret));
                        if !live && r.ret != addr {
                            if Self::put(&mut b, r.ret, INT3).is_err() {
                                self.stop_probing(format!(
                                    "pid {tid}: cannot arm the return at {:#x}",
                                    r.ret
                                ));
                                break;
                            }
                            self.armed.entry(tid).or_default().live.insert(r.ret);
                        }
                        self.armed.entry(tid).or_default().pending.push(r);
                    }
                }
                Err(e) => self.stop_probing(format!("pid {tid}: cannot arm a return: {e:#}")),
            }
        }
        let Some(orig) = self
            .armed
            .get(&tid)
            .and_then(|a| a.known.get(&addr).copied())
        else {
            return b.cont();
        };
        regs.rip = addr;
        // The instruction done by hand where it can be: the int3 stays, no step.
        let emul = self
            .armed
            .get(&tid)
            .and_then(|a| a.emul.get(&addr).copied());
        if let Some(e) = emul
            && self.stopped_why.is_none()
            && self
                .armed
                .get(&tid)
                .is_some_and(|a| a.needed(addr, &self.placed, tid))
        {
            let mut after = regs;
            if let Some(write) = super::emulate::apply(e, &mut after)
                && write.is_none_or(|(at, bytes)| b.write_data(at, &bytes).is_ok())
                && b.set_regs(after).is_ok()
            {
                let held = b.held_for().unwrap_or_default();
                self.held += held;
                self.hold_ns
                    .push(u64::try_from(held.as_nanos()).unwrap_or(u64::MAX));
                self.emulated += 1;
                self.check_budget();
                return b.cont();
            }
        }
        if Self::put(&mut b, addr, orig).is_err() || b.set_regs(regs).is_err() {
            self.stop_probing(format!("pid {tid}: cannot step over {addr:#x}"));
            return b.cont();
        }
        let held = b.held_for().unwrap_or_default();
        self.held += held;
        let needed = self
            .armed
            .get(&tid)
            .is_some_and(|a| a.needed(addr, &self.placed, tid));
        if !needed {
            // A return breakpoint no call waits on: gone, no step.
            if let Some(a) = self.armed.get_mut(&tid) {
                a.live.remove(&addr);
            }
            self.hold_ns
                .push(u64::try_from(held.as_nanos()).unwrap_or(u64::MAX));
            return b.cont();
        }
        self.stepping.insert(tid, addr);
        self.hold_start.insert(tid, held);
        b.single_step();
    }
}

impl Handler for Prober {
    fn attached(&mut self, tid: i32, parent: Option<i32>) {
        if let Some(p) = parent {
            self.parents.insert(tid, p);
        }
    }

    fn stop(&mut self, stop: Stop<'_>) {
        match stop {
            Stop::Interrupt(mut s) => {
                let pid = s.tid();
                if self.targets.contains(&pid) {
                    if !self.armed.contains_key(&pid)
                        && let Err(e) = self.arm(&mut s)
                    {
                        self.stop_probing(format!("cannot arm: {e:#}"));
                    }
                    s.cont();
                    // A PostgreSQL backend's globals, read at hits (critical sections) and
                    // after them (the statement); loaded while it runs.
                    self.queries.entry(pid).or_insert_with(|| {
                        crate::postgres::memory::GlobalsReader::for_process(pid).ok()
                    });
                } else if let Some(tgid) = self.thread_of_target(pid) {
                    // A thread of a probed process (it shares the text): clean the text
                    // through it, now, and stop.
                    if let Some(a) = self.armed.get_mut(&tgid) {
                        let live: HashMap<u64, u8> = a
                            .live
                            .iter()
                            .filter_map(|addr| a.known.get(addr).map(|&b| (*addr, b)))
                            .collect();
                        if Self::restore(&mut s, &live).is_ok() {
                            a.live.clear();
                        }
                    }
                    self.stop_probing(format!(
                        "cannot probe: pid {tgid} has threads (a multi-threaded process is not \
                         supported: every thread must be stoppable for the step-over)"
                    ));
                    s.cont();
                } else {
                    self.forked_child(s);
                }
            }
            Stop::Breakpoint(b) => {
                let tid = b.tid();
                let Ok(regs) = b.regs() else {
                    return b.cont();
                };
                let addr = regs.rip.wrapping_sub(1);
                if !self.armed.get(&tid).is_some_and(|a| a.live.contains(&addr)) {
                    return self.stray(b, regs, addr);
                }
                self.breakpoint(b, regs, addr);
            }
            Stop::SingleStep(mut s) => {
                let tid = s.tid();
                match self.stepping.remove(&tid) {
                    Some(addr) => {
                        if self.stopped_why.is_none() && Self::put(&mut s, addr, INT3).is_err() {
                            self.stop_probing(format!("pid {tid}: cannot re-arm {addr:#x}"));
                        }
                        let held = s.held_for().unwrap_or_default();
                        self.held += held;
                        let first = self.hold_start.remove(&tid).unwrap_or_default();
                        self.hold_ns
                            .push(u64::try_from((first + held).as_nanos()).unwrap_or(u64::MAX));
                        self.check_budget();
                        s.cont();
                    }
                    None => s.not_mine().cont(),
                }
            }
            Stop::Forked(mut f) => {
                if matches!(f.kind.how, ForkKind::Clone | ForkKind::Vfork) {
                    // A thread or a vfork child shares the text's memory and has not run
                    // yet: the text is cleaned now, through the parent, before it can reach
                    // a breakpoint, and probing stops (a step-over cannot be made safe for
                    // threads that are not stopped).
                    let pid = f.tid();
                    if let Some(a) = self.armed.get_mut(&pid) {
                        let live: HashMap<u64, u8> = a
                            .live
                            .iter()
                            .filter_map(|addr| a.known.get(addr).map(|&b| (*addr, b)))
                            .collect();
                        if Self::restore(&mut f, &live).is_ok() {
                            a.live.clear();
                        }
                    }
                    self.stop_probing(format!(
                        "cannot probe on: pid {} started a thread or vforked (a multi-threaded \
                         process is not supported: every thread must be stoppable for the \
                         step-over)",
                        f.tid()
                    ));
                }
                f.cont();
            }
            Stop::Signal(s) => s.cont(),
            Stop::Syscall(s) => s.cont(),
            Stop::Group(g) => g.resume(),
            Stop::Exec(e) => {
                // The old text is gone with its breakpoints.
                let pid = e.tid();
                self.armed.remove(&pid);
                super::record::remove(pid);
                if self.follow && self.targets.len() > 1 {
                    // -f: a child that execs something else is no longer probed.
                    self.targets.retain(|&t| t != pid);
                    self.placed.retain(|p| p.pid != pid);
                    e.detach();
                } else {
                    self.stop_probing(format!("pid {pid} called execve"));
                    e.cont();
                }
            }
        }
    }

    fn gone(&mut self, tid: i32, how: Gone) {
        if self.armed.remove(&tid).is_some() {
            super::record::remove(tid);
        }
        self.stepping.remove(&tid);
        let original = self.placed.first().map(|p| p.pid);
        if self.targets.contains(&tid) && how != Gone::Detached {
            if !self.follow || original == Some(tid) {
                self.lines.push(format!("pid {tid} ended: {how:?}"));
            }
            self.placed
                .retain(|p| p.pid != tid || original == Some(tid));
            self.targets.retain(|&t| t != tid || original == Some(tid));
        }
    }

    fn release(&mut self, s: &mut ReleaseStop<'_>) -> bool {
        let tid = s.tid();
        let stepping = self.stepping.remove(&tid).is_some();
        let bytes = self.armed.remove(&tid).map(|a| a.known).unwrap_or_default();
        match Self::restore(s, &bytes) {
            Ok(()) if !bytes.is_empty() => super::record::remove(tid),
            Ok(()) => {}
            Err(e) => crate::errln!(
                "pgstrace: pid {tid}: RESTORING FAILED: {e:#}; run pgstrace probe --cleanup -p {tid}"
            ),
        }
        if s.kind.single_step {
            return stepping;
        }
        rewind_if_ours(s, &bytes)
    }

    fn after_resume(&mut self) {
        // The statement is read now, while the backend runs (a racy read of a string that
        // changes only between statements).
        for mut h in std::mem::take(&mut self.pending) {
            if let Some((i, regs, rsp, stack)) = h.deferred.take()
                && let Some(p) = self.placed.get(i)
            {
                let copy = StackCopy { rsp, bytes: &stack };
                h.values = p
                    .values
                    .iter()
                    .map(|(k, plan)| {
                        (
                            k.clone(),
                            capture::capture(plan, &regs, &copy, self.string_limit),
                        )
                    })
                    .collect();
            }
            let query = self
                .queries
                .entry(h.pid)
                .or_insert_with(|| crate::postgres::memory::GlobalsReader::for_process(h.pid).ok())
                .as_ref()
                .and_then(|r| r.query());
            let frames = match (&mut self.backtracer, &h.snap) {
                (Some(bt), Some(snap)) => bt.resolve(snap, None),
                _ => Vec::new(),
            };
            let line = if self.json {
                let values: serde_json::Map<String, serde_json::Value> = h
                    .values
                    .iter()
                    .map(|(k, v)| (k.clone(), v.json()))
                    .collect();
                let mut j = serde_json::json!({
                    "probe": h.probe,
                    "pid": h.pid,
                    "time": h.time.as_secs_f64(),
                    "values": values,
                });
                if let Some(q) = &query {
                    j["query"] = serde_json::json!(q);
                }
                if h.critical {
                    j["critical_section"] = serde_json::json!(true);
                }
                if self.backtracer.is_some() {
                    j["stack"] = crate::output::json::stack_json(&frames);
                }
                j.to_string()
            } else {
                let mut line = format!(
                    "{}.{:06} pid {} {}:",
                    h.time.as_secs(),
                    h.time.subsec_micros(),
                    h.pid,
                    crate::util::escape(&h.probe)
                );
                for (k, v) in &h.values {
                    line.push_str(&format!(" {}={}", crate::util::escape(k), v.text()));
                }
                if h.critical {
                    line.push_str(
                        "  (in a critical section: registers and stack copied, resumed at once)",
                    );
                }
                if let Some(q) = &query {
                    line.push_str(&format!("  # query: {}", crate::util::escape(q)));
                }
                if !frames.is_empty() {
                    line.push('\n');
                    crate::output::strace::push_frame_lines(&mut line, &frames);
                    line.pop();
                }
                line
            };
            self.lines.push(line);
        }
        let mut failed = None;
        for l in std::mem::take(&mut self.lines) {
            if let Err(e) = writeln!(self.out, "{l}") {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed.or_else(|| self.out.flush().err()) {
            // Nobody reads the hits any more (a closed pipe, a full disk): stop, restore.
            self.stop_probing(format!("cannot write the hits: {e}"));
        }
    }

    fn has_idle_work(&self) -> bool {
        self.deadline.is_some()
    }

    fn idle(&mut self) {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.deadline = None;
            self.stop_probing("--duration is over".into());
        }
    }
}

/// A tracee released while stopped on one of `bytes`' traps (rip just past the int3, the
/// original byte back by now): rewind it so that the instruction runs for real. Whether the
/// trap was ours.
fn rewind_if_ours(s: &mut ReleaseStop<'_>, bytes: &HashMap<u64, u8>) -> bool {
    if !s.kind.breakpoint {
        return false;
    }
    let Ok(mut regs) = s.regs() else {
        return false;
    };
    if !bytes.contains_key(&regs.rip.wrapping_sub(1)) {
        return false;
    }
    regs.rip -= 1;
    let _ = s.set_regs(regs);
    true
}

/// `--cleanup`: attaches, and at the release before the detach puts back the bytes a killed
/// pgstrace left (rewinding the process if it stopped on one of those traps).
pub struct Cleaner {
    pub bytes: HashMap<u64, u8>,
    pub done: Option<Result<()>>,
}

impl Handler for Cleaner {
    fn attached(&mut self, _tid: i32, _parent: Option<i32>) {}

    fn stop(&mut self, stop: Stop<'_>) {
        drop(stop);
    }

    fn gone(&mut self, _tid: i32, _how: Gone) {}

    fn release(&mut self, s: &mut ReleaseStop<'_>) -> bool {
        self.done = Some(Prober::restore(s, &self.bytes));
        rewind_if_ours(s, &self.bytes)
    }
}
