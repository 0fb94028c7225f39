//! The `trace` command: strace's options turned into a session, an engine and printers;
//! attach or launch, run, detach, and the exit status.

use super::{Session, writer};
use crate::filter::Filter;
use crate::output::{Sink, TextOpts, json::JsonPrinter, strace::TextPrinter, summary};
use crate::syscalls::DecodeOpts;
use crate::trace::{self, Engine, Outcome, PtraceSource, attach};
use anyhow::{Result, bail};
use std::io::Write;

/// `held 1234 stops: median 3.1 us, p99 12.0 us, max 80.2 us`.
fn hold_summary(times: &[u32]) -> String {
    if times.is_empty() {
        return "held 0 stops".to_string();
    }
    let mut t = times.to_vec();
    t.sort_unstable();
    let at = |q: f64| f64::from(t[((t.len() - 1) as f64 * q).round() as usize]) / 1000.0;
    format!(
        "held {} stops: median {:.1} us, p99 {:.1} us, max {:.1} us",
        t.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

/// What the trace command was asked: strace's options, parsed (see `cli::TraceArgs` for
/// what each means).
#[derive(Clone, Debug, Default)]
pub struct TraceConfig {
    pub pids: Vec<i32>,
    pub follow: u8,
    pub exprs: Vec<String>,
    pub trace: Vec<String>,
    pub signal: Vec<String>,
    pub status: Vec<String>,
    pub stack: u8,
    pub decode_fds: u8,
    pub durations: bool,
    pub timestamps: u8,
    pub relative: bool,
    pub string_limit: usize,
    pub align: usize,
    pub output: Option<std::path::PathBuf>,
    pub summary_only: bool,
    pub summary: bool,
    pub quiet: u8,
    pub json: bool,
    pub histogram: bool,
    pub hold_stats: bool,
    pub no_pg: bool,
    /// `-x` count: 1 non-ASCII strings in hex, 2 all strings.
    pub hex: u8,
    /// `-n`.
    pub syscall_numbers: bool,
    /// `-i`.
    pub instruction_pointer: bool,
    /// `-E VAR[=VAL]`.
    pub env: Vec<String>,
    /// `-u USER`.
    pub user: Option<String>,
    /// `-S SORTBY`.
    pub sort_by: Option<String>,
    /// `-P PATH`.
    pub trace_paths: Vec<String>,
    /// `-A`: append to `-o FILE`.
    pub append: bool,
    pub command: Vec<String>,
}

/// Runs the trace command; `annotator` annotates the trace unless `--no-pg` (the caller
/// passes PostgreSQL's: the session knows nothing of it).
pub fn run(args: TraceConfig, annotator: Option<Box<dyn super::Annotator>>) -> Result<i32> {
    let pids = args.pids.clone();
    crate::syscalls::notation::set_hex_strings(args.hex);
    if pids.is_empty() && args.command.is_empty() {
        bail!("must have PROG [ARGS] or -p PID (try 'pgstrace --help')");
    }
    if args.histogram && !(args.summary_only || args.summary) {
        bail!("--histogram goes with -c or -C");
    }
    let mut filter = Filter::default();
    let exprs = args
        .exprs
        .iter()
        .cloned()
        .chain(args.trace.iter().map(|s| format!("trace={s}")))
        .chain(args.signal.iter().map(|s| format!("signal={s}")))
        .chain(args.status.iter().map(|s| format!("status={s}")));
    for e in exprs {
        filter
            .apply(&e)
            .map_err(|err| anyhow::anyhow!("-e {}: {err}", e.escape_default()))?;
    }
    // -P: as given, and as the kernel names it (a symlink or a relative path resolved).
    for p in &args.trace_paths {
        filter.paths.push(p.clone());
        if let Ok(c) = std::fs::canonicalize(p) {
            let c = c.to_string_lossy().into_owned();
            if !filter.paths.contains(&c) {
                filter.paths.push(c);
            }
        }
    }
    let decode = DecodeOpts {
        string_limit: args.string_limit,
        decode_fds: args.decode_fds > 0,
        ..DecodeOpts::default()
    };

    // -ff -o FILE: a file per process (FILE.PID), none named FILE itself.
    let per_process = args.follow >= 2
        && !args.json
        && !args.summary_only
        && args.output.as_ref().is_some_and(|p| p.as_os_str() != "-");
    let output = writer::open(
        if per_process {
            None
        } else {
            args.output.as_deref()
        },
        args.append,
    )?;
    let tty = output.tty;
    // -C prints the trace and then the table into the same output, as strace does.
    let shared = output.out;
    let out: Box<dyn Write> = Box::new(shared.clone());
    let colour = tty && std::env::var_os("NO_COLOR").is_none();
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let summary_opts = summary::SummaryOpts {
        histogram: args.histogram,
        json: args.json,
        sort: match &args.sort_by {
            Some(s) => {
                summary::SortBy::parse(s).ok_or_else(|| anyhow::anyhow!("invalid sortby: '{s}'"))?
            }
            None => summary::SortBy::Time,
        },
    };
    if args.summary_only {
        sinks.push(Box::new(summary::Summary::new(out, summary_opts)));
    } else {
        if args.json {
            sinks.push(Box::new(JsonPrinter::new(out)));
        } else {
            let opts = TextOpts {
                timestamps: args.timestamps,
                relative: args.relative,
                durations: args.durations,
                align: args.align,
                follow: args.follow,
                to_file: args.output.is_some(),
                quiet: args.quiet,
                colour,
                syscall_numbers: args.syscall_numbers,
                instruction_pointer: args.instruction_pointer,
            };
            if per_process {
                let failed = output.failed.clone();
                sinks.push(Box::new(crate::output::perpid::PerProcess::new(
                    args.output.clone().unwrap_or_default(),
                    opts,
                    Box::new(move |f| writer::watched_file(f, failed.clone())),
                )));
            } else {
                sinks.push(Box::new(TextPrinter::new(out, opts)));
            }
        }
        if args.summary {
            sinks.push(Box::new(summary::Summary::new(
                Box::new(shared.clone()),
                summary_opts,
            )));
        }
    }
    let decoding = !args.summary_only;
    let injections = filter.injections.clone();
    let mut session = Session::new(filter, decode, decoding, sinks);
    session.watch_output(output.failed);
    if args.stack > 0 {
        session.with_stacks(args.stack > 1);
    }
    // Notes only reach printed lines: under plain -c there are none.
    if !args.no_pg
        && decoding
        && let Some(a) = annotator
    {
        session.annotate(a);
    }
    let mut engine = Engine::new(args.follow > 0);
    if args.hold_stats {
        engine.measure_hold();
    }

    let launched = !args.command.is_empty();
    trace::install_detach_signals(launched);
    let mut source = PtraceSource::new(&mut session).with_injections(injections);
    // As strace: -p processes and a command may be traced together.
    if !pids.is_empty() {
        attach::attach_all(&mut engine, &pids, &mut source)?;
        if args.quiet & crate::output::QUIET_ATTACH == 0 {
            for pid in &pids {
                crate::errln!("pgstrace: Process {pid} attached");
            }
        }
    }
    if launched {
        let opts = attach::LaunchOpts {
            env: args
                .env
                .iter()
                .map(|e| match e.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (e.clone(), None),
                })
                .collect(),
            user: match &args.user {
                Some(u) => Some(attach::LaunchOpts::user_named(u).map_err(anyhow::Error::msg)?),
                None => None,
            },
        };
        attach::launch_with(&mut engine, &args.command, &opts, &mut source)?;
    }
    let outcome = engine.run(&mut source);
    if outcome == Outcome::Failed {
        // The printers may be what failed: flush what they hold only if they still can.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.finish()));
        bail!("internal error (a bug in pgstrace, reported above); every tracee was detached");
    }
    session.finish();
    if args.hold_stats {
        crate::errln!("pgstrace: {}", hold_summary(engine.hold_times()));
    }
    if session.output_failed() {
        // The trace is incomplete: say so (strace's words) and in the exit status.
        let name = args
            .output
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "stderr".into());
        crate::errln!(
            "pgstrace: {name}: {}",
            session
                .output_error()
                .unwrap_or_else(|| "write error".into())
        );
        return Ok(1);
    }
    Ok(match outcome {
        Outcome::AllGone { launched_code } => launched_code.unwrap_or(0),
        Outcome::Detached => {
            if args.quiet & crate::output::QUIET_ATTACH == 0 {
                for pid in &pids {
                    crate::errln!("pgstrace: Process {pid} detached");
                }
            }
            0
        }
        Outcome::Failed => 1,
    })
}
