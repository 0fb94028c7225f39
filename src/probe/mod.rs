//! `pgstrace probe` (issue 8, in progress): perf-probe-style breakpoints that capture values
//! and cannot hurt the server. What is here is pure and tested without a process: the spec
//! parser ([`spec`]) and the guards decided before anything is armed ([`guard`]: the
//! functions a stopped backend must never be held in, and instruction boundaries decoded with
//! iced-x86). The breakpoint registry, capture and the command build on `trace::engine`'s
//! `TrapStop` (see `tests/engine.rs` for the loop they will use). The command so far lists
//! what a binary offers (`probe -x BINARY --funcs`, [`list`]) and checks specs.

pub mod capture;
pub mod dwarf;
pub mod emulate;
pub mod guard;
pub mod list;
pub mod place;
pub mod record;
pub mod run;
pub mod spec;

/// The most dereferences (`->`, `[i]`) one value may take.
pub const MAX_DEREFS: usize = 8;

/// What `pgstrace probe` was asked.
#[derive(Clone, Debug, Default)]
pub struct ProbeConfig {
    /// `-x BINARY`.
    pub binary: Option<std::path::PathBuf>,
    /// `--funcs [GLOB]`: `Some(None)` for every function.
    pub funcs: Option<Option<String>>,
    /// `--all`: unnamed functions too.
    pub all: bool,
    pub pids: Vec<i32>,
    pub specs: Vec<String>,
    /// `--max-hits N`: stop after N hits.
    pub max_hits: Option<u64>,
    /// `--duration SECONDS`.
    pub duration: Option<f64>,
    /// `--cleanup`: put back the bytes a killed pgstrace left in the `-p` processes.
    pub cleanup: bool,
    /// `--stall-budget PERCENT` (default 1).
    pub stall_budget: Option<f64>,
    /// `--json`: one object per hit.
    pub json: bool,
    /// `-k`: the stack of each hit.
    pub stacks: bool,
    /// `--force`: probe a function on the refused list.
    pub force: bool,
    /// `-f`: arm the children the probed processes fork (a postmaster's backends).
    pub follow: bool,
    /// `-s`: the longest string a value prints (default 64).
    pub string_limit: Option<usize>,
    /// `--vars FUNC[+OFFS]`: what can be captured there (with -x BINARY or -p PID).
    pub vars: Option<String>,
}

/// `--cleanup -p PID...`.
fn cleanup(pids: &[i32]) -> anyhow::Result<i32> {
    if pids.is_empty() {
        anyhow::bail!("--cleanup needs -p PID");
    }
    for &pid in pids {
        crate::trace::attach::check(pid)?;
        let Some(bytes) = record::left_behind(pid)? else {
            crate::errln!("pgstrace: pid {pid}: no breakpoints recorded; nothing to clean");
            continue;
        };
        let mut cleaner = run::Cleaner { bytes, done: None };
        let mut engine = crate::trace::Engine::with_mode(false, crate::trace::Resume::Continue);
        crate::trace::attach::attach_all(&mut engine, &[pid], &mut cleaner)?;
        engine.detach_all(&mut cleaner);
        match cleaner.done {
            Some(Ok(())) => {
                record::remove(pid);
                crate::errln!(
                    "pgstrace: pid {pid}: {} original byte(s) put back and verified",
                    cleaner.bytes.len()
                );
            }
            Some(Err(e)) => anyhow::bail!("pid {pid}: cleanup failed: {e:#}"),
            None => anyhow::bail!("pid {pid}: the process went away during the cleanup"),
        }
    }
    Ok(0)
}

/// Runs `pgstrace probe`.
pub fn run(c: ProbeConfig) -> anyhow::Result<i32> {
    use std::io::Write as _;
    if let Some(glob) = &c.funcs {
        crate::trace::signals::default_detach_signals();
        let Some(bin) = &c.binary else {
            anyhow::bail!("--funcs needs -x BINARY");
        };
        let text = list::list(bin, glob.as_deref(), c.all)?;
        let mut out = std::io::stdout().lock();
        return match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(0),
        };
    }
    if let Some(func) = &c.vars {
        crate::trace::signals::default_detach_signals();
        let bin = match (&c.binary, c.pids.first()) {
            (Some(b), _) => b.clone(),
            (None, Some(pid)) => std::fs::read_link(format!("/proc/{pid}/exe"))
                .map_err(|e| anyhow::anyhow!("pid {pid}: cannot read its executable: {e}"))?,
            (None, None) => anyhow::bail!("--vars needs -x BINARY or -p PID"),
        };
        let text = list::vars(&bin, func)?;
        let mut out = std::io::stdout().lock();
        return match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(0),
        };
    }
    if c.cleanup {
        return cleanup(&c.pids);
    }
    if c.specs.is_empty() {
        anyhow::bail!(
            "give SPEC [SPEC ...] with -p PID, or -x BINARY --funcs (try 'pgstrace probe --help')"
        );
    }
    let mut specs = Vec::new();
    for s in &c.specs {
        let p = spec::parse(s)?;
        if let Some(why) = guard::refusal(&p.func) {
            if !c.force {
                anyhow::bail!(
                    "probe '{}': {} {why} (--force to probe it anyway)",
                    s.escape_default(),
                    p.func
                );
            }
            crate::errln!("pgstrace: warning: --force: {} {why}", p.func);
        }
        specs.push(p);
    }
    if c.pids.is_empty() {
        anyhow::bail!("-p PID is needed: the process to probe");
    }
    for &pid in &c.pids {
        crate::trace::attach::check(pid)?;
        if record::left_behind(pid)?.is_some() {
            anyhow::bail!(
                "pid {pid} still has breakpoints left by a pgstrace that was killed: run \
                 'pgstrace probe --cleanup -p {pid}' first"
            );
        }
        let threads = crate::remote::procfs::threads(pid).len();
        if threads > 1 {
            anyhow::bail!(
                "pid {pid} has {threads} threads: probing a multi-threaded process is not \
                 supported yet (every thread must be stoppable for the step-over)"
            );
        }
    }
    let mut placed = Vec::new();
    for &pid in &c.pids {
        for s in &specs {
            placed.push(run::place(pid, s)?);
        }
    }
    let deadline = c
        .duration
        .map(|d| std::time::Instant::now() + std::time::Duration::from_secs_f64(d.max(0.0)));
    let out = Box::new(std::io::LineWriter::new(std::io::stdout()));
    let budget = c.stall_budget.unwrap_or(1.0).clamp(0.0, 100.0) / 100.0;
    let mut prober = run::Prober::new(placed, out, c.max_hits, deadline, budget)
        .string_limit(c.string_limit.unwrap_or(64));
    if c.follow {
        prober = prober.follow_children();
    }
    if c.json {
        prober = prober.json();
    }
    if c.stacks {
        prober = prober.with_stacks();
    }
    // Follow forks so that a child forked while armed is cleaned before it runs untraced.
    let mut engine = crate::trace::Engine::with_mode(true, crate::trace::Resume::Continue);
    crate::trace::install_detach_signals(false);
    crate::trace::attach::attach_all(&mut engine, &c.pids, &mut prober)?;
    crate::errln!(
        "pgstrace: {} probe(s) on pid {}; Ctrl-C to stop",
        specs.len(),
        c.pids
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let outcome = engine.run(&mut prober);
    drop(engine);
    if let Some(why) = &prober.stopped_why {
        crate::errln!("pgstrace: stopped: {why}");
    }
    crate::errln!("pgstrace: {} hit(s); every breakpoint removed", prober.hits);
    if let Some(h) = prober.hold_summary() {
        crate::errln!("pgstrace: {h}");
    }
    Ok(match outcome {
        crate::trace::Outcome::Failed => 1,
        _ if prober
            .stopped_why
            .as_deref()
            .is_some_and(|w| w.starts_with("cannot")) =>
        {
            1
        }
        _ => 0,
    })
}
