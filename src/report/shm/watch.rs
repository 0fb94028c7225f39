//! `pgstrace explain-shm -p PID --watch`: each DSM segment's life as it happens, and an
//! explanation of an ENOSPC at the moment it happens.
//!
//! Traces the cluster's postmaster with `-f` (every backend and parallel worker forked from
//! then on), or only the given process when it is not the postmaster, through the ordinary
//! session and engine with `-e trace=openat,ftruncate,fallocate,unlink -y -k` and the
//! PostgreSQL annotation; [`WatchSink`] turns the events into segment lives. The session's
//! ENOSPC hook takes a statvfs of the cluster's /dev/shm and lists its files at the exit stop
//! of the failing call, while the backend is still stopped and before it unlinks its segment:
//! the moment that `df` and the server log can never show.

use super::ShmConfig;
use crate::event::{Event, FieldValue, NoteField, StackFrame, Timestamp};
use crate::filter::Filter;
use crate::output::Sink;
use crate::postgres::annotate::{self, PgAnnotator};
use crate::postgres::dsm;
use crate::postgres::plan::PlanStep;
use crate::postgres::{Cluster, Role};
use crate::report::shm::{FailureContext, explain_failure, gather};
use crate::session::Session;
use crate::syscalls::{DecodeOpts, Ret, Value};
use crate::trace::{self, Engine, PtraceSource, attach};
use crate::util::{escape_strace as esc, human, now};
use anyhow::{Context, Result, anyhow, bail};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

/// /dev/shm as seen at the exit stop of the failing call.
#[derive(Clone, Debug, Default)]
pub struct ShmCapture {
    pub time: Timestamp,
    pub size: u64,
    pub free: u64,
    /// Every file: name, size, allocated bytes.
    pub files: Vec<(String, u64, u64)>,
}

impl ShmCapture {
    /// statvfs and a listing of `dir`.
    pub fn take(dir: &std::path::Path) -> ShmCapture {
        let mut c = ShmCapture {
            time: now(),
            ..ShmCapture::default()
        };
        if let Ok(st) = nix::sys::statvfs::statvfs(dir) {
            let frag = st.fragment_size();
            c.size = st.blocks().saturating_mul(frag);
            c.free = st.blocks_available().saturating_mul(frag);
        }
        if let Ok(rd) = std::fs::read_dir(dir) {
            use std::os::unix::fs::MetadataExt;
            for e in rd.flatten() {
                if let Ok(m) = e.metadata() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    c.files
                        .push((name, m.len(), m.blocks().saturating_mul(512)));
                }
            }
        }
        c.files.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        c
    }
}

/// What we know of one process from the PostgreSQL notes.
#[derive(Clone, Debug, Default)]
struct Proc {
    role: Option<String>,
    leader: Option<i32>,
    query: Option<String>,
}

#[derive(Clone, Debug)]
struct Segment {
    size: Option<u64>,
    creator: i32,
    created: Timestamp,
    /// Processes that opened it (the creator and those that attached).
    pids: BTreeSet<i32>,
}

/// Turns trace events into segment lives and failure explanations.
pub struct WatchSink {
    out: Box<dyn Write>,
    shm_dir: PathBuf,
    procs: HashMap<i32, Proc>,
    segments: BTreeMap<String, Segment>,
    /// (pid, fd) → the segment its traced openat opened: a descriptor's `-y` path is read
    /// from /proc, which the kernel-side source does after the event, when the backend may
    /// have closed it already.
    fds: HashMap<(i32, i64), String>,
    /// Filled by the ENOSPC hook, per pid, while the tracee is stopped.
    captures: Rc<RefCell<HashMap<i32, ShmCapture>>>,
    /// The cluster, for the full report's settings, estimate and remedies at a failure.
    cluster: Option<Cluster>,
    pub failures: usize,
    /// `--json`: one object per event instead of text.
    json: bool,
    /// The call being handled was tampered with by `-e inject=`.
    injected: bool,
}

/// `PostgreSQL.N` when `path` is a DSM segment's file.
fn has_flag(v: Option<&Value>, flag: &str) -> bool {
    matches!(v, Some(Value::Flags(f)) if f.iter().any(|s| s == flag))
}

/// `HH:MM:SS.uuuuuu` in local time.
fn clock(t: Timestamp) -> String {
    let secs = libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX);
    // SAFETY: `tm` is plain data that localtime_r fills; both pointers are valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = !unsafe { libc::localtime_r(&secs, &mut tm) }.is_null();
    let (h, m, s) = if ok {
        (tm.tm_hour as u64, tm.tm_min as u64, tm.tm_sec as u64)
    } else {
        let s = t.as_secs() % 86400;
        (s / 3600, s / 60 % 60, s % 60)
    };
    format!("{h:02}:{m:02}:{s:02}.{:06}", t.subsec_micros())
}

impl WatchSink {
    pub fn new(
        out: Box<dyn Write>,
        shm_dir: PathBuf,
        captures: Rc<RefCell<HashMap<i32, ShmCapture>>>,
        cluster: Option<Cluster>,
    ) -> Self {
        WatchSink {
            out,
            shm_dir,
            procs: HashMap::new(),
            segments: BTreeMap::new(),
            fds: HashMap::new(),
            captures,
            cluster,
            failures: 0,
            json: false,
            injected: false,
        }
    }

    /// One JSON object per event (`--watch --json`).
    pub fn json(mut self) -> Self {
        self.json = true;
        self
    }

    /// An event: its text line, or its JSON object.
    fn emit(&mut self, text: &str, obj: serde_json::Value) {
        if self.json {
            let line = obj.to_string();
            self.line(&line);
        } else {
            self.line(text);
        }
    }

    fn line(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
        let _ = self.out.write_all(b"\n");
        let _ = self.out.flush();
    }

    /// `pid 123 (backend: SELECT ...)`, `pid 124 (parallel worker for 123: SELECT ...)`.
    fn who(&self, pid: i32) -> String {
        let p = self.procs.get(&pid).cloned().unwrap_or_default();
        let mut s = format!("pid {pid}");
        let role = match (&p.role, p.leader) {
            (Some(r), Some(l)) => Some(format!("{} for {l}", esc(r))),
            (Some(r), None) => Some(esc(r)),
            _ => None,
        };
        let query = self.query_of(pid).map(|q| esc(&q));
        match (role, query) {
            (Some(r), Some(q)) => {
                let _ = write!(s, " ({r}: {q})");
            }
            (Some(r), None) => {
                let _ = write!(s, " ({r})");
            }
            (None, Some(q)) => {
                let _ = write!(s, " ({q})");
            }
            (None, None) => {}
        }
        s
    }

    /// The statement `pid` runs, or its leader's for a worker whose own is not known.
    fn query_of(&self, pid: i32) -> Option<String> {
        let p = self.procs.get(&pid)?;
        p.query.clone().or_else(|| {
            p.leader
                .and_then(|l| self.procs.get(&l))
                .and_then(|l| l.query.clone())
        })
    }

    /// The segment behind a call's descriptor: its `-y` path, else the traced openat's.
    fn segment_of(&self, pid: i32, args: &[Value], raw: &[u64; 6]) -> Option<String> {
        dsm::segment_of_fd(args.first())
            .or_else(|| self.fds.get(&(pid, raw[0] as i32 as i64)).cloned())
    }

    #[allow(clippy::too_many_arguments)]
    fn syscall(
        &mut self,
        pid: i32,
        time: Timestamp,
        name: &str,
        args: &[Value],
        raw: &[u64; 6],
        ret: &Ret,
        duration: std::time::Duration,
        stack: &[StackFrame],
    ) {
        let start = time.saturating_sub(duration);
        let ok = !matches!(ret, Ret::Error { .. } | Ret::Unknown);
        match name {
            "openat" => {
                let fd = match ret {
                    Ret::Fd { fd, .. } => Some(i64::from(*fd)),
                    Ret::Int(n) => Some(*n),
                    _ => None,
                };
                let Some(seg) = dsm::segment_of_str(args.get(1)) else {
                    // The descriptor names something else now.
                    if let Some(fd) = fd {
                        self.fds.remove(&(pid, fd));
                    }
                    return;
                };
                if !ok {
                    return;
                }
                if let Some(fd) = fd {
                    self.fds.insert((pid, fd), seg.clone());
                }
                if has_flag(args.get(2), "O_CREAT") {
                    self.segments.insert(
                        seg,
                        Segment {
                            size: None,
                            creator: pid,
                            created: start,
                            pids: BTreeSet::from([pid]),
                        },
                    );
                } else if let Some(s) = self.segments.get_mut(&seg) {
                    s.pids.insert(pid);
                }
            }
            "ftruncate" => {
                let Some(seg) = self.segment_of(pid, args, raw) else {
                    return;
                };
                let size = raw[1];
                let who = self.who(pid);
                let entry = self.segments.entry(seg.clone()).or_insert(Segment {
                    size: None,
                    creator: pid,
                    created: start,
                    pids: BTreeSet::from([pid]),
                });
                let before = entry.size;
                if ok {
                    entry.size = Some(size);
                }
                let t = clock(start);
                let (text, event) = match (before, ok) {
                    (None, true) => (
                        format!("{t} create  {seg} size {size} ({}) by {who}", human(size)),
                        "create",
                    ),
                    (Some(b), true) => (
                        format!("{t} resize  {seg} from {b} to {size} bytes by {who}"),
                        "resize",
                    ),
                    (_, false) => (
                        format!("{t} resize  {seg} to {size} bytes FAILED by {who}"),
                        "resize_failed",
                    ),
                };
                let obj = serde_json::json!({
                    "event": event, "time": start.as_secs_f64(), "segment": seg,
                    "size": size, "previous_size": before, "pid": pid,
                    "query": self.query_of(pid),
                });
                self.emit(&text, obj);
            }
            "fallocate" => {
                if let Ret::Error { errno } = ret
                    && *errno == 28
                {
                    let seg = self
                        .segment_of(pid, args, raw)
                        .unwrap_or_else(|| "?".into());
                    let size = raw[2].saturating_add(raw[3]);
                    self.explain(pid, start, &seg, size, stack);
                }
            }
            "unlink" => {
                let Some(seg) = dsm::segment_of_str(args.first()) else {
                    return;
                };
                if !ok {
                    return;
                }
                let s = self.segments.remove(&seg);
                let t = clock(start);
                let who = self.who(pid);
                let obj = serde_json::json!({
                    "event": "destroy", "time": start.as_secs_f64(), "segment": seg, "pid": pid,
                    "size": s.as_ref().and_then(|s| s.size),
                    "creator": s.as_ref().map(|s| s.creator),
                    "lived_s": s.as_ref().map(|s| start.saturating_sub(s.created).as_secs_f64()),
                });
                let text = match s {
                    Some(s) => format!(
                        "{t} destroy {seg} size {} by {who}, created by pid {} {:.3} s before",
                        s.size.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
                        s.creator,
                        start.saturating_sub(s.created).as_secs_f64()
                    ),
                    None => format!("{t} destroy {seg} by {who}"),
                };
                self.emit(&text, obj);
            }
            _ => {}
        }
    }

    /// The full explanation of a failing fallocate, printed at once.
    fn explain(&mut self, pid: i32, time: Timestamp, seg: &str, size: u64, stack: &[StackFrame]) {
        self.failures += 1;
        let capture = self.captures.borrow_mut().remove(&pid);
        let capture = capture.unwrap_or_else(|| ShmCapture::take(&self.shm_dir));
        let plan = PlanStep::of(stack);
        let mut s = String::new();
        let t = clock(time);
        if self.injected {
            let _ = writeln!(
                s,
                "{t} ENOSPC  {seg}: INJECTED by -e inject (the call never ran; /dev/shm did \
                 not run out)"
            );
        } else {
            let _ = writeln!(s, "{t} ENOSPC  {seg}: /dev/shm ran out");
        }
        let _ = writeln!(
            s,
            "  request:  {} could not allocate {seg} of {size} bytes ({})",
            self.who(pid),
            human(size)
        );
        let used = capture.size.saturating_sub(capture.free);
        let _ = writeln!(
            s,
            "  /dev/shm: {} at {}: size {}, used {}, free {}",
            self.shm_dir.display(),
            clock(capture.time),
            human(capture.size),
            human(used),
            human(capture.free)
        );
        let mut held = Vec::new();
        let _ = writeln!(s, "  held by:");
        if capture.files.is_empty() {
            let _ = writeln!(s, "    (nothing listed)");
        }
        for (name, len, alloc) in &capture.files {
            let holder = match self.segments.get(name) {
                Some(g) => {
                    let pids: Vec<String> = g.pids.iter().map(|p| p.to_string()).collect();
                    format!(
                        "created by {}, opened by pids {}",
                        self.who(g.creator),
                        pids.join(",")
                    )
                }
                None if dsm::is_segment_name(name) => {
                    "a PostgreSQL segment the watch has not seen created (made before it began, or in the same moment)".to_string()
                }
                None => "not a PostgreSQL segment".to_string(),
            };
            let _ = writeln!(
                s,
                "    {:<28} {:>10} allocated (size {len}): {holder}",
                esc(name),
                human(*alloc)
            );
            held.push(serde_json::json!({"name": name, "size": len, "allocated": alloc, "holder": holder}));
        }
        match self.query_of(pid) {
            Some(q) => {
                let _ = writeln!(s, "  query:    {}", esc(&q));
            }
            None => {
                let _ = writeln!(s, "  query:    (not known)");
            }
        }
        let _ = writeln!(s, "  plan:     {}", plan.describe());
        // The full report's view (settings, estimate, remedies), gathered now that the
        // backend runs again, with /dev/shm usage as it was at the failing call.
        // The cluster again: the failing pid was forked after the watch started.
        let cluster = self
            .cluster
            .as_ref()
            .map(|c| crate::postgres::cluster_of(c.postmaster_pid).unwrap_or_else(|_| c.clone()));
        let facts = cluster.as_ref().and_then(|c| gather(c).ok());
        let mut remedies = Vec::new();
        match facts {
            Some(mut facts) => {
                // The failing segment is about to be unlinked: not an orphan to remove.
                facts.segments.retain(|f| f.name != seg);
                facts.shm.size_bytes = capture.size;
                facts.shm.used_bytes = used;
                facts.shm.free_bytes = capture.free;
                let failure = FailureContext {
                    pid,
                    role: match self.procs.get(&pid).and_then(|p| p.role.as_deref()) {
                        Some("parallel worker") => Some(Role::ParallelWorker),
                        Some("backend") => Some(Role::Backend),
                        _ => None,
                    },
                    leader_pid: self.procs.get(&pid).and_then(|p| p.leader),
                    query: self.query_of(pid),
                    requested_bytes: size,
                    segment: Some(format!("/{seg}")),
                    stack: plan,
                };
                let _ = writeln!(s, "  explain-shm:");
                for l in explain_failure(&facts, &failure).lines() {
                    let _ = writeln!(s, "  | {l}");
                }
                remedies = super::remedy::ranked(&facts, 0)
                    .iter()
                    .map(super::remedy::Remedy::json)
                    .collect();
            }
            None => {
                let _ = writeln!(s, "  remedy:   {}", plan.remedy());
            }
        }
        let obj = serde_json::json!({
            "event": "enospc", "time": time.as_secs_f64(), "segment": seg, "size": size,
            "pid": pid, "who": self.who(pid), "query": self.query_of(pid),
            "leader_pid": self.procs.get(&pid).and_then(|p| p.leader),
            "shm": {"size": capture.size, "used": used, "free": capture.free},
            "held_by": held, "plan": plan.describe(), "remedies": remedies,
            "injected": self.injected,
        });
        self.emit(s.trim_end(), obj);
    }
}

impl Sink for WatchSink {
    fn event(&mut self, ev: &Event) {
        match ev {
            Event::Note { pid, note, .. } => {
                let p = self.procs.entry(*pid).or_default();
                for f in &note.fields {
                    match f {
                        NoteField::Set(annotate::QUERY, FieldValue::Text(t)) => {
                            p.query = Some(t.clone())
                        }
                        NoteField::Set(annotate::ROLE, FieldValue::Text(t)) => {
                            p.role = Some(t.clone())
                        }
                        NoteField::Set(annotate::LEADER, FieldValue::Int(l)) => {
                            p.leader = i32::try_from(*l).ok()
                        }
                        NoteField::Unset(annotate::LEADER) => p.leader = None,
                        _ => {}
                    }
                }
            }
            Event::SyscallExit {
                pid,
                time,
                name,
                args,
                raw_args,
                ret,
                duration,
                stack,
                injected,
                ..
            } => {
                self.injected = *injected;
                self.syscall(*pid, *time, name, args, raw_args, ret, *duration, stack)
            }
            Event::Exited { pid, .. } | Event::Killed { pid, .. } | Event::Detached { pid, .. } => {
                self.fds.retain(|(p, _), _| p != pid);
            }
            _ => {}
        }
    }

    fn finish(&mut self) {
        let _ = self.out.flush();
    }
}

/// What to attach to: the postmaster with `-f`, or one process alone.
struct Target {
    pid: i32,
    cluster: Option<Cluster>,
    follow: bool,
    /// The process whose /proc/PID/root/dev/shm is the cluster's.
    shm_of: i32,
}

impl Target {
    fn of(pid: i32) -> Result<Target> {
        let c = crate::postgres::cluster_of(pid)?;
        Ok(Target {
            pid,
            follow: c.postmaster_pid == pid,
            shm_of: c.postmaster_pid,
            cluster: Some(c),
        })
    }

    /// Under `-f` on the postmaster, the processes already running queries (backends,
    /// parallel workers, ...) are attached too: sessions connected before the watch began
    /// make segments as well.
    fn running(&self) -> Vec<i32> {
        match (&self.cluster, self.follow) {
            (Some(c), true) => c
                .processes
                .iter()
                .filter(|p| p.pid != self.pid && p.role.runs_queries())
                .map(|p| p.pid)
                .collect(),
            _ => Vec::new(),
        }
    }
}

pub fn run(args: ShmConfig) -> Result<i32> {
    let pid = args.pid;
    let target = Target::of(pid).context("--watch")?;
    let shm_dir = PathBuf::from(format!("/proc/{}/root/dev/shm", target.shm_of));
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(
            std::fs::File::create(p)
                .with_context(|| format!("cannot open output file {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };

    let mut filter = Filter::default();
    for e in ["trace=openat,ftruncate,fallocate,unlink", "signal=none"] {
        filter.apply(e).map_err(|err| anyhow!("-e {e}: {err}"))?;
    }
    for e in &args.inject {
        if !(e.starts_with("inject=") || e.starts_with("fault=")) {
            bail!("-e {e}: with --watch only inject= and fault= are taken");
        }
        filter.apply(e).map_err(|err| anyhow!("-e {e}: {err}"))?;
    }
    let injections = filter.injections.clone();
    let decode = DecodeOpts {
        decode_fds: true,
        ..DecodeOpts::default()
    };
    let captures = Rc::new(RefCell::new(HashMap::new()));
    let running = target.running();
    let mut sink = WatchSink::new(out, shm_dir.clone(), captures.clone(), target.cluster);
    if args.json {
        sink = sink.json();
    }
    let mut session = Session::new(filter, decode, true, vec![Box::new(sink)]);
    session.with_stacks(false);
    session.annotate(Box::new(PgAnnotator::new()));
    let dir = shm_dir.clone();
    session.on_failure(
        i64::from(libc::ENOSPC),
        Box::new(move |pid, _nr| {
            captures.borrow_mut().insert(pid, ShmCapture::take(&dir));
        }),
    );

    trace::install_detach_signals(false);
    use crate::session::command::Backend;
    let perf = match (args.backend, injections.is_empty()) {
        (Backend::Ptrace, _) => false,
        (Backend::Perf, false) => {
            bail!("--backend=perf: -e inject= changes calls: that needs a stop")
        }
        (Backend::Auto, false) => {
            crate::errln!("pgstrace: backend ptrace: -e inject= changes calls: that needs a stop");
            false
        }
        _ => true,
    };
    if perf {
        match watch_perf(target.pid, target.follow, running.len(), &mut session) {
            Ok(()) => {
                session.finish();
                crate::errln!("pgstrace: stopped watching; the server carries on");
                return Ok(0);
            }
            Err(e) if args.backend == Backend::Auto && !session.has_events() => {
                crate::errln!("pgstrace: backend ptrace: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    let mut engine = Engine::new(target.follow);
    let mut source = PtraceSource::new(&mut session).with_injections(injections);
    attach::attach_all(&mut engine, &[target.pid], &mut source)?;
    // Best effort: a backend may have exited since, or be forked (and so followed) already.
    let attached = running
        .iter()
        .filter(|&&p| attach::attach_all(&mut engine, &[p], &mut source).is_ok())
        .count();
    if target.follow {
        crate::errln!(
            "pgstrace: watching the DSM segments of postmaster {}, the {attached} {} \
             already running queries, and every process it forks (backends, parallel \
             workers); Ctrl-C to stop",
            target.pid,
            if attached == 1 {
                "process"
            } else {
                "processes"
            }
        );
    } else {
        crate::errln!(
            "pgstrace: watching the DSM segments of pid {} only (its parallel workers are \
             children of the postmaster: give the postmaster's pid to follow them too); \
             Ctrl-C to stop",
            target.pid
        );
    }
    if engine.run(&mut source) == trace::Outcome::Failed {
        bail!("internal error (a bug in pgstrace, reported above); every process was detached");
    }
    session.finish();
    crate::errln!("pgstrace: detached; the server carries on");
    Ok(0)
}

/// `--watch` on the kernel-side source: the postmaster (and under `-f` every process it has
/// and forks) or one process, watched without a stop.
fn watch_perf(pid: i32, follow: bool, running: usize, session: &mut Session) -> Result<()> {
    use crate::syscalls::nr;
    use crate::trace::perf::{PerfConfig, PerfSource};
    let cfg = PerfConfig {
        nrs: Some(vec![nr::OPENAT, nr::FTRUNCATE, nr::FALLOCATE, nr::UNLINK]),
        // Clients' recvfrom too (not shown): a statement is noted only when it was read
        // while it ran (docs/trace.md).
        watched: session.early_calls(),
        stack_bytes: PerfConfig::MAX_STACK,
        stack_all: true,
        follow,
        pages: 2048,
        // A failure's query and /dev/shm are read as soon as it is seen.
        priority: Some(crate::trace::perf::priority::ReaderPriority::Normal),
    };
    let mut src = PerfSource::new(cfg)?;
    // The symbols first: the first failure must not wait for them to load.
    session.prefetch_stacks(pid);
    src.attach(pid, session)?;
    crate::errln!(
        "pgstrace: watching the DSM segments of {} {}{} without stopping it ({}); Ctrl-C to stop",
        if follow { "postmaster" } else { "pid" },
        pid,
        if follow {
            format!(
                ", the {} processes already running queries and every process it forks",
                running
            )
        } else {
            String::new()
        },
        src.describe()
    );
    src.run(session);
    Ok(())
}
