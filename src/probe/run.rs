//! Arming breakpoints and capturing `$argN` / `%REG` values at each hit.
//!
//! The engine runs with `Resume::Continue` and follows forks. At a tracee's first stop
//! (the interrupt after the seize) each probe's first byte is saved and replaced by `int3`,
//! and read back. A hit is a breakpoint stop: the registers are copied, the original byte
//! put back, rip rewound, one single step taken, and the `int3` written again at the step
//! stop; the values are formatted after the tracee runs again. A child forked while armed
//! gets its copy of the text cleaned at its first stop, then is let go. Before any detach
//! (Ctrl-C, `--max-hits`, `--duration`, an error) every original byte is put back and read
//! back, and a tracee stopped on one of the traps is rewound.
//!
//! Armed bytes are recorded on disk first ([`super::record`]): after a SIGKILL of pgstrace,
//! `--cleanup` puts them back ([`Cleaner`]).
//!
//! Not yet: DWARF variables, `->`/`.`/`[]`, `@SYMBOL`, `%return`, multi-threaded tracees,
//! `-f` arming of children.

use super::spec::{ArgSpec, At, Expr, ProbeSpec, Reg, Type};
use crate::remote::maps;
use crate::symbols::{LoadOptions, SymbolCache};
use crate::syscalls::Tracee;
use crate::trace::engine::{ReleaseStop, Stopped};
use crate::trace::stop::ForkKind;
use crate::trace::{Gone, Handler, Stop};
use anyhow::{Result, anyhow, bail};
use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

const INT3: u8 = 0xcc;
/// The longest string a `:string` value prints.
const STRING_LIMIT: usize = 64;

/// A probe resolved in one process.
#[derive(Clone, Debug)]
pub struct Placed {
    pub pid: i32,
    /// The runtime address of the probed instruction.
    pub addr: u64,
    pub spec: ProbeSpec,
}

/// What a spec needs that is not there yet.
pub fn unsupported(spec: &ProbeSpec) -> Option<String> {
    if spec.at == At::Return {
        return Some("%return is not implemented yet".into());
    }
    spec.args.iter().find_map(|a| match &a.expr {
        Expr::Arg { path, .. } | Expr::Reg { path, .. } if !path.is_empty() => Some(format!(
            "{}: -> . [] need DWARF types, not implemented yet",
            a.name
        )),
        Expr::Arg { .. } | Expr::Reg { .. } => None,
        Expr::Var { .. } | Expr::Params | Expr::Vars => Some(format!(
            "{}: variables by name need DWARF, not implemented yet; use $arg1..$arg6 or %REG",
            a.name
        )),
        Expr::Symbol { .. } => Some(format!("{}: @SYMBOL is not implemented yet", a.name)),
        Expr::Retval => Some("$retval is not implemented yet".into()),
    })
}

/// Finds `spec.func` in `pid`'s executable, checks the instruction boundary, and returns
/// the runtime address.
pub fn place(pid: i32, spec: &ProbeSpec) -> Result<Placed> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map_err(|e| anyhow!("pid {pid}: cannot read its executable: {e}"))?;
    let mut cache = SymbolCache::new(LoadOptions::default());
    let syms = cache.get(&exe).map_err(|e| anyhow!("pid {pid}: {e}"))?;
    let f = syms
        .functions(false)
        .into_iter()
        .find(|f| f.name.as_deref() == Some(spec.func.as_str()))
        .ok_or_else(|| {
            anyhow!(
                "pid {pid}: {} has no function named {} (pgstrace probe -x {} --funcs lists them)",
                exe.display(),
                spec.func,
                exe.display()
            )
        })?;
    let offset = match spec.at {
        At::Offset(o) => o,
        _ => 0,
    };
    if offset >= f.size.max(1) {
        bail!(
            "{}+{offset:#x} is past the function's end ({} bytes)",
            spec.func,
            f.size
        );
    }
    let data = std::fs::read(&exe).map_err(|e| anyhow!("reading {}: {e}", exe.display()))?;
    let elf = object::read::elf::ElfFile64::<object::Endianness>::parse(&*data)
        .map_err(|e| anyhow!("{}: {e}", exe.display()))?;
    let loads = maps::load_segments(&elf);
    if offset != 0 {
        let at = maps::svma_to_file_offset(&loads, f.start)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| anyhow!("{}: {} lies in no segment", exe.display(), spec.func))?;
        let code = data
            .get(at..at.saturating_add(f.size as usize))
            .unwrap_or_default();
        if !super::guard::is_boundary(code, offset) {
            bail!(
                "{}+{offset:#x} is not the start of an instruction: a breakpoint there would \
                 change what the CPU executes (no --force for this)",
                spec.func
            );
        }
    }
    let all = maps::read(pid).map_err(|e| anyhow!("pid {pid}: maps: {e}"))?;
    let exe_str = exe.to_string_lossy();
    let module = maps::modules(&all)
        .into_iter()
        .find(|m| m.name() == exe_str || m.name().strip_suffix(" (deleted)") == Some(&exe_str))
        .ok_or_else(|| anyhow!("pid {pid}: {} is not mapped", exe.display()))?;
    let bias = maps::load_bias(&module.mappings, &loads)
        .ok_or_else(|| anyhow!("pid {pid}: {} does not match its mappings", exe.display()))?;
    Ok(Placed {
        pid,
        addr: f.start.wrapping_add(offset).wrapping_add(bias),
        spec: spec.clone(),
    })
}

/// One captured value.
#[derive(Clone, Debug, PartialEq)]
pub enum Captured {
    UInt(u64),
    Int(i64),
    Hex(u64),
    /// A C string (bytes, cut at the limit).
    Str(Vec<u8>, bool),
    /// A NULL pointer where a string was asked for.
    Null,
    /// The address could not be read: a value, never a signal in the tracee.
    Fault,
    NotAvailable,
}

impl Captured {
    fn text(&self) -> String {
        match self {
            Captured::UInt(v) => v.to_string(),
            Captured::Int(v) => v.to_string(),
            Captured::Hex(v) => format!("{v:#x}"),
            Captured::Str(b, cut) => {
                let mut s = String::from("\"");
                crate::syscalls::notation::push_escaped_bytes(&mut s, b, false);
                s.push('"');
                if *cut {
                    s.push_str("...");
                }
                s
            }
            Captured::Null => "(null)".into(),
            Captured::Fault => "(fault)".into(),
            Captured::NotAvailable => "(not available)".into(),
        }
    }

    fn json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Captured::UInt(v) => json!(v),
            Captured::Int(v) => json!(v),
            Captured::Hex(v) => json!(format!("{v:#x}")),
            Captured::Str(b, cut) => {
                let mut s = String::from_utf8_lossy(b).into_owned();
                if *cut {
                    s.push_str("...");
                }
                json!(s)
            }
            Captured::Null => serde_json::Value::Null,
            Captured::Fault => json!({"fault": true}),
            Captured::NotAvailable => json!({"not_available": true}),
        }
    }
}

/// One value at a hit, from the registers and (for `:string`) the held tracee's memory.
fn value(arg: &ArgSpec, regs: &libc::user_regs_struct, mem: &dyn Tracee) -> Captured {
    let raw = match &arg.expr {
        Expr::Arg { n, .. } => Reg::arg(*n).map(|r| r.of(regs)),
        Expr::Reg { reg, .. } => Some(reg.of(regs)),
        _ => None,
    };
    let Some(v) = raw else {
        return Captured::NotAvailable;
    };
    let mask = |bits: u8| {
        if bits >= 64 {
            v
        } else {
            v & ((1u64 << bits) - 1)
        }
    };
    match arg.ty {
        None => Captured::Hex(v),
        Some(Type::X(b)) => Captured::Hex(mask(b)),
        Some(Type::U(b)) => Captured::UInt(mask(b)),
        Some(Type::S(b)) => {
            let shift = 64 - u32::from(b);
            Captured::Int(((mask(b) << shift) as i64) >> shift)
        }
        Some(Type::String) if v == 0 => Captured::Null,
        Some(Type::String) => match mem.read_cstr(v, STRING_LIMIT) {
            Some((bytes, cut)) => Captured::Str(bytes, cut),
            None => Captured::Fault,
        },
    }
}

/// One hit, formatted after the tracee runs on.
struct Hit {
    time: std::time::Duration,
    pid: i32,
    probe: String,
    values: Vec<(String, Captured)>,
    /// `-k`: registers and stack copied at the hit, unwound after the resume.
    snap: Option<crate::remote::regs::Snapshot>,
    /// The backend was in a critical section or held interrupts off.
    critical: bool,
}

/// The breakpoint engine's handler.
pub struct Prober {
    placed: Vec<Placed>,
    /// Armed breakpoints per process: address → original byte.
    armed: HashMap<i32, HashMap<u64, u8>>,
    /// Threads single-stepping over a breakpoint: the address to re-arm.
    stepping: HashMap<i32, u64>,
    /// The processes given with -p (children are not probed).
    targets: Vec<i32>,
    /// A forked child's parent, from its fork event.
    parents: HashMap<i32, i32>,
    lines: Vec<String>,
    pending: Vec<Hit>,
    /// `--json`: one object per hit.
    json: bool,
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
            parents: HashMap::new(),
            lines: Vec::new(),
            pending: Vec::new(),
            json: false,
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
        ["CritSectionCount", "InterruptHoldoffCount"]
            .iter()
            .any(|name| {
                let mut b = [0u8; 4];
                r.address(name)
                    .is_some_and(|a| mem.read_mem(a, &mut b) == 4 && u32::from_le_bytes(b) > 0)
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
            "a hit held its tracee: median {:.1} us, p99 {:.1} us, max {:.1} us",
            at(0.5),
            at(0.99),
            at(1.0)
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

    fn arm(&mut self, s: &mut Stopped<'_, ()>) -> Result<()> {
        let pid = s.tid();
        let addrs: Vec<u64> = self
            .placed
            .iter()
            .filter(|p| p.pid == pid)
            .map(|p| p.addr)
            .collect();
        let mut bytes = HashMap::new();
        for &addr in &addrs {
            let mut orig = [0u8];
            if s.mem().read_mem(addr, &mut orig) != 1 {
                bail!("pid {pid}: cannot read {addr:#x}");
            }
            if orig[0] == INT3 {
                bail!(
                    "pid {pid}: {addr:#x} is an int3 already (another debugger's, or a pgstrace killed while armed)"
                );
            }
            bytes.insert(addr, orig[0]);
        }
        // On disk before the first byte is written, for --cleanup after a SIGKILL; in memory
        // too, so that a failure half way still restores what was written.
        super::record::save(pid, &bytes)?;
        self.armed.insert(pid, bytes);
        for addr in addrs {
            Self::put(s, addr, INT3)?;
        }
        Ok(())
    }

    /// Puts every original byte of `pid`'s text back (the process's own, or a forked
    /// child's copy of the parent's).
    fn restore<K>(s: &mut Stopped<'_, K>, bytes: &HashMap<u64, u8>) -> Result<()> {
        for (&addr, &orig) in bytes {
            Self::put(s, addr, orig)?;
        }
        Ok(())
    }

    fn hit(
        &mut self,
        pid: i32,
        addr: u64,
        regs: &libc::user_regs_struct,
        mem: &dyn Tracee,
        snap: Option<crate::remote::regs::Snapshot>,
        critical: bool,
    ) {
        self.hits += 1;
        let time = crate::util::now();
        for p in self
            .placed
            .iter()
            .filter(|p| p.pid == pid && p.addr == addr)
        {
            self.pending.push(Hit {
                time,
                pid,
                probe: p.spec.name.clone(),
                values: p
                    .spec
                    .args
                    .iter()
                    .map(|a| {
                        let v = if critical && a.ty == Some(Type::String) {
                            Captured::NotAvailable
                        } else {
                            value(a, regs, mem)
                        };
                        (a.name.clone(), v)
                    })
                    .collect(),
                snap: snap.clone(),
                critical,
            });
        }
        if self.max_hits.is_some_and(|m| self.hits >= m) {
            self.stop_probing(format!("{} hits (--max-hits)", self.hits));
        }
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
                } else {
                    // A child forked while armed: clean its copy of the text, let it go.
                    // Its parent (a child can stop before its parent's fork event is seen:
                    // then it is the one armed process there is).
                    let parent = match self.parents.remove(&pid) {
                        Some(p) => self.armed.get(&p).cloned(),
                        None if self.armed.len() == 1 => self.armed.values().next().cloned(),
                        None => None,
                    };
                    if let Some(bytes) = parent
                        && let Err(e) = Self::restore(&mut s, &bytes)
                    {
                        self.stop_probing(format!("cannot clean forked child {pid}: {e:#}"));
                    }
                    s.detach();
                }
            }
            Stop::Breakpoint(mut b) => {
                let tid = b.tid();
                let Ok(mut regs) = b.regs() else {
                    return b.cont();
                };
                let addr = regs.rip.wrapping_sub(1);
                let Some(&orig) = self.armed.get(&tid).and_then(|m| m.get(&addr)) else {
                    return b.not_mine().cont();
                };
                // -k: the stack at the probed instruction (rip back on it, not past the int3).
                let snap = self.backtracer.as_ref().and_then(|_| {
                    let mut snap = b.snapshot(crate::trace::source::MAX_STACK)?;
                    snap.rip = addr;
                    Some(snap)
                });
                // In a critical section (or with interrupts held off) the backend must not
                // wait: only the registers (and -k's copy) are taken, no memory is read.
                let critical = self.in_critical_section(tid, &b.mem());
                self.hit(tid, addr, &regs, &b.mem(), snap, critical);
                regs.rip = addr;
                if Self::put(&mut b, addr, orig).is_err() || b.set_regs(regs).is_err() {
                    self.stop_probing(format!("pid {tid}: cannot step over {addr:#x}"));
                    return b.cont();
                }
                self.stepping.insert(tid, addr);
                let held = b.held_for().unwrap_or_default();
                self.held += held;
                self.hold_start.insert(tid, held);
                b.single_step();
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
            Stop::Forked(f) => {
                if matches!(f.kind.how, ForkKind::Clone | ForkKind::Vfork) {
                    // A thread or a vfork child shares the text's memory: cleaning it would
                    // disarm the parent too. Stop probing rather than guess.
                    self.stop_probing(format!(
                        "pid {} started a thread or vforked: not supported yet",
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
                self.armed.remove(&e.tid());
                self.stop_probing(format!("pid {} called execve", e.tid()));
                e.cont();
            }
        }
    }

    fn gone(&mut self, tid: i32, how: Gone) {
        self.armed.remove(&tid);
        self.stepping.remove(&tid);
        if self.targets.contains(&tid) && how != Gone::Detached {
            self.lines.push(format!("pid {tid} ended: {how:?}"));
        }
    }

    fn release(&mut self, s: &mut ReleaseStop<'_>) -> bool {
        let tid = s.tid();
        let stepping = self.stepping.remove(&tid).is_some();
        let bytes = self.armed.remove(&tid).unwrap_or_default();
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
        for h in std::mem::take(&mut self.pending) {
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
                    line.push_str("  (in a critical section: registers only, resumed at once)");
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
        for l in self.lines.drain(..) {
            let _ = writeln!(self.out, "{l}");
        }
        let _ = self.out.flush();
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
