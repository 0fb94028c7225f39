//! `pgstrace probe` (issue 8, in progress): perf-probe-style breakpoints that capture values
//! and cannot hurt the server. What is here is pure and tested without a process: the spec
//! parser ([`spec`]) and the guards decided before anything is armed ([`guard`]: the
//! functions a stopped backend must never be held in, and instruction boundaries decoded with
//! iced-x86). The breakpoint registry, capture and the command build on `trace::engine`'s
//! `TrapStop` (see `tests/engine.rs` for the loop they will use). The command so far lists
//! what a binary offers (`probe -x BINARY --funcs`, [`list`]) and checks specs.

pub mod guard;
pub mod list;
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
}

/// Runs `pgstrace probe`.
pub fn run(c: ProbeConfig) -> anyhow::Result<i32> {
    use std::io::Write as _;
    if let Some(glob) = &c.funcs {
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
    if c.specs.is_empty() {
        anyhow::bail!(
            "give SPEC [SPEC ...] with -p PID, or -x BINARY --funcs (try 'pgstrace probe --help')"
        );
    }
    for s in &c.specs {
        let p = spec::parse(s)?;
        if let Some(why) = guard::refusal(&p.func) {
            anyhow::bail!("probe '{}': {} {why}", s.escape_default(), p.func);
        }
    }
    anyhow::bail!(
        "the specs are valid, but setting breakpoints is not implemented yet (issue 8 in progress); \
         -x BINARY --funcs lists what can be probed"
    )
}
