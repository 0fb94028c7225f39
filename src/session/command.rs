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

/// `TraceConfig::decode_fds` bits: `-y` is paths, `-yy` all three (`--decode-fds=SET`).
pub const FD_PATHS: u8 = 1;
pub const FD_SOCKETS: u8 = 2;
pub const FD_DEVS: u8 = 4;
pub const FD_PIDFDS: u8 = 8;

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
    /// What `-y`/`-yy`/`--decode-fds=SET` decorate descriptors with: [`FD_PATHS`] etc.
    pub decode_fds: u8,
    pub durations: bool,
    pub timestamps: u8,
    pub relative: bool,
    /// Digits after the second: strace's precisions (s 0, ms 3, us 6, ns 9).
    pub ts_digits: u8,
    pub rel_digits: u8,
    pub dur_digits: u8,
    pub string_limit: usize,
    pub align: usize,
    pub output: Option<std::path::PathBuf>,
    pub summary_only: bool,
    /// `-Y`/`--decode-pids=`: pids with their command names, their numbers in our namespace.
    pub decode_pids: crate::syscalls::DecodePids,
    /// `-e kvm=vcpu`: each `KVM_RUN`'s exit reason.
    pub kvm_vcpu: bool,
    /// `--seccomp-bpf`: a launched command stops only at the traced calls.
    pub seccomp_bpf: bool,
    /// `--kill-on-exit`: the tracees die with pgstrace rather than being let go.
    pub kill_on_exit: bool,
    /// `--argv0`: the launched command's argv[0].
    pub argv0: Option<String>,
    /// `-O`: taken off each call's time in the `-c` table.
    pub overhead: std::time::Duration,
    /// `-q`/`--quiet=attach` given: the backend chosen under auto is not announced either
    /// (strace's implied quiet for a launched command traced to a file is not enough).
    pub quiet_choice: bool,
    /// `--tips`: a tip on stderr as the trace ends.
    pub tips: Option<crate::output::tips::Tips>,
    /// `-b execve`: detach from a tracee at its execve.
    pub detach_on_execve: bool,
    /// `-D` count: the tracer is a grandchild of the command (2: own process group, 3:
    /// own session).
    pub daemonize: u8,
    /// `-w`: the summary times calls by wall clock instead of system CPU time.
    pub wall_clock: bool,
    pub summary: bool,
    pub quiet: u8,
    pub json: bool,
    pub histogram: bool,
    pub hold_stats: bool,
    /// `--color`: colour the text trace on a terminal (auto), always or never.
    pub color: crate::util::ColorChoice,
    /// `--backend`.
    pub backend: Backend,
    /// `--reader-priority`: the perf reader's CPU policy (`None`: auto).
    pub reader_priority: Option<crate::trace::perf::priority::ReaderPriority>,
    pub no_pg: bool,
    /// `-v`: nothing abbreviated (`-e abbrev=none`).
    pub no_abbrev: bool,
    /// `-X`.
    pub const_style: crate::syscalls::ConstStyle,
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
    /// `-U COLUMNS`.
    pub summary_columns: Option<String>,
    /// `-P PATH`.
    pub trace_paths: Vec<String>,
    /// `-A`: append to `-o FILE`.
    pub append: bool,
    pub command: Vec<String>,
}

/// Where the trace's events come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// ptrace: every syscall stops the tracee; exact memory, tampering, signals.
    #[default]
    Ptrace,
    /// perf_event tracepoints: nothing stops; what the event carried.
    Perf,
    /// perf when everything asked for can be captured at the event, else ptrace.
    Auto,
}

/// Syscalls whose strace line is whole from the entry's registers, the strings on the
/// caller's stack and the return value: nothing is read at the exit.
const SEEN_AT_THE_EVENT: [&str; 31] = [
    "openat",
    "open",
    "creat",
    "close",
    "unlink",
    "unlinkat",
    "ftruncate",
    "truncate",
    "fallocate",
    "mmap",
    "munmap",
    "mprotect",
    "madvise",
    "mremap",
    "brk",
    "fsync",
    "fdatasync",
    "sync_file_range",
    "lseek",
    "dup",
    "dup2",
    "dup3",
    "kill",
    "tgkill",
    "exit_group",
    "mkdir",
    "mkdirat",
    "rmdir",
    "rename",
    "renameat",
    "chdir",
];

/// `--seccomp-bpf`: the filter a launched command installs, or `None` (strace's warning said
/// why) when it cannot be used: with `-p`, without `-f` (a child that is not traced would
/// see its traced calls fail), or when every call is traced.
fn seccomp_filter(
    args: &TraceConfig,
    filter: &Filter,
    pids: &[i32],
) -> Option<Vec<libc::sock_filter>> {
    if !args.seccomp_bpf || args.command.is_empty() {
        return None;
    }
    if !pids.is_empty() {
        crate::errln!("pgstrace: --seccomp-bpf is not enabled for processes attached with -p");
        return None;
    }
    if args.follow == 0 {
        crate::errln!(
            "pgstrace: --seccomp-bpf cannot be used without -f/--follow-forks, disabling"
        );
        return None;
    }
    let Some(mut nrs) = filter.traced_set() else {
        crate::errln!(
            "pgstrace: Seccomp filter is requested but there are no syscalls to filter.  See -e trace to filter syscalls."
        );
        return None;
    };
    // A call to tamper with must stop too.
    for rule in &filter.injections {
        nrs.extend(
            rule.syscalls
                .iter()
                .enumerate()
                .filter(|&(_, &on)| on)
                .map(|(nr, _)| nr as u64),
        );
    }
    match crate::trace::seccomp::program(&nrs) {
        Ok(p) => Some(p),
        Err(why) => {
            crate::errln!("pgstrace: --seccomp-bpf: {why}, disabling");
            None
        }
    }
}

/// `--backend=auto`: perf, or why not.
pub fn choose_perf(args: &TraceConfig, filter: &Filter) -> Result<(), String> {
    if !filter.injections.is_empty() {
        return Err("-e inject= changes calls: that needs a stop".into());
    }
    if filter.read_fds.is_some() || filter.write_fds.is_some() {
        return Err("-e read=/write= dumps buffers the event does not carry".into());
    }
    if !filter.paths.is_empty() {
        return Err("-P needs descriptors' paths at the call".into());
    }
    if args.user.is_some() {
        return Err("-u is done by the ptrace launcher".into());
    }
    if args.daemonize > 0 {
        return Err("-D: the tracer seizes its parent with ptrace".into());
    }
    if args.kill_on_exit {
        return Err("--kill-on-exit ties the tracees to a ptrace tracer".into());
    }
    let Some(nrs) = filter.traced_set() else {
        return Err("every syscall is traced (-e trace= narrows it)".into());
    };
    for nr in nrs {
        let name = crate::syscalls::table::lookup(nr)
            .map(|i| i.name)
            .unwrap_or("?");
        if !SEEN_AT_THE_EVENT.contains(&name) {
            return Err(format!("{name}'s arguments are not all seen at the event"));
        }
    }
    Ok(())
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
        .no_abbrev
        .then(|| "abbrev=none".to_string())
        .into_iter()
        .chain(args.exprs.iter().cloned())
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
    let mut why_ptrace = None;
    let perf_set = match args.backend {
        Backend::Ptrace => None,
        Backend::Perf => {
            if let Err(why) = choose_perf(&args, &filter)
                && why.starts_with('-')
            {
                bail!("--backend=perf: {why}");
            }
            Some(filter.traced_set())
        }
        Backend::Auto => match choose_perf(&args, &filter) {
            Ok(()) => {
                if !args.quiet_choice {
                    crate::errln!(
                        "pgstrace: backend perf: every traced call is seen whole at its event; nothing stops"
                    );
                }
                Some(filter.traced_set())
            }
            Err(why) => {
                crate::errln!("pgstrace: backend ptrace: {why}");
                why_ptrace = Some(why);
                None
            }
        },
    };
    let decode = DecodeOpts {
        string_limit: args.string_limit,
        decode_fds: args.decode_fds & FD_PATHS != 0,
        fd_sockets: args.decode_fds & FD_SOCKETS != 0,
        fd_devs: args.decode_fds & FD_DEVS != 0,
        fd_pidfds: args.decode_fds & FD_PIDFDS != 0,
        const_style: args.const_style,
        decode_pids: args.decode_pids,
        kvm_vcpu: args.kvm_vcpu,
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
    let colour = args.color.enabled(tty);
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
        columns: match &args.summary_columns {
            Some(c) => Some(summary::Column::parse_list(c).map_err(|e| anyhow::anyhow!(e))?),
            None => None,
        },
        overhead: args.overhead,
    };
    if args.summary_only {
        sinks.push(Box::new(summary::Summary::new(out, summary_opts)));
    } else {
        if args.json {
            let mut p = JsonPrinter::new(out);
            // The source chosen, and why, first (only when the user let pgstrace choose or
            // asked for perf: ptrace traces keep their exact old shape).
            if args.backend != Backend::Ptrace {
                p.header(serde_json::json!({
                    "event": "start",
                    "backend": if perf_set.is_some() { "perf" } else { "ptrace" },
                    "why": why_ptrace.clone().unwrap_or_else(|| "everything asked for is seen at the event".into()),
                }));
            }
            sinks.push(Box::new(p));
        } else {
            let opts = TextOpts {
                timestamps: args.timestamps,
                relative: args.relative,
                durations: args.durations,
                ts_digits: args.ts_digits,
                rel_digits: args.rel_digits,
                dur_digits: args.dur_digits,
                align: args.align,
                follow: args.follow,
                to_file: args.output.is_some(),
                quiet: args.quiet,
                colour,
                syscall_numbers: args.syscall_numbers,
                instruction_pointer: args.instruction_pointer,
                launched: !args.command.is_empty(),
                comm_of: args
                    .decode_pids
                    .comm
                    .then_some(crate::remote::procfs::comm_of as fn(i32) -> Option<String>),
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
    let seccomp = seccomp_filter(&args, &filter, &pids);
    if let Some(prog) = &seccomp {
        crate::debugln!("--seccomp-bpf: a filter of {} instructions", prog.len());
    }
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
    let launched = !args.command.is_empty();
    let launch_opts = || -> Result<attach::LaunchOpts> {
        Ok(attach::LaunchOpts {
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
            seccomp: seccomp.clone(),
            argv0: args.argv0.clone(),
        })
    };
    if let Some(nrs) = perf_set {
        trace::install_detach_signals(launched);
        match run_perf(&args, &mut session, &pids, nrs, &launch_opts) {
            Ok(status) => {
                session.finish();
                return Ok(finish_status(&args, &session, &pids, status));
            }
            Err(e) if args.backend == Backend::Auto && !session_started(&session) => {
                crate::errln!("pgstrace: backend ptrace: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    let mut engine = Engine::new(args.follow > 0);
    if seccomp.is_some() {
        engine.filter_by_seccomp();
    }
    if args.kill_on_exit {
        engine.kill_on_exit();
    }
    if (args.summary_only || args.summary) && !args.wall_clock {
        engine.measure_cpu();
    }
    if args.hold_stats {
        engine.measure_hold();
    }

    trace::install_detach_signals(launched);
    let mut source = PtraceSource::new(&mut session).with_injections(injections);
    if args.detach_on_execve {
        source = source.detach_on_execve(launched);
    }
    // As strace: -p processes and a command may be traced together.
    if !pids.is_empty() {
        attach::attach_all(&mut engine, &pids, &mut source)?;
        if args.quiet & crate::output::QUIET_ATTACH == 0 {
            for pid in &pids {
                crate::errln!("pgstrace: Process {pid} attached{}", in_ns(*pid));
            }
        }
    }
    if launched && args.daemonize > 0 {
        // From here on this is the tracer, a grandchild; the original process becomes the
        // command once seized.
        let (pid, release) = attach::daemonize(&args.command, &launch_opts()?, args.daemonize)?;
        attach::adopt_daemonized(&mut engine, pid, release, &args.command, &mut source)?;
        if args.quiet & crate::output::QUIET_ATTACH == 0 {
            crate::errln!("pgstrace: Process {pid} attached");
        }
    } else if launched {
        attach::launch_with(&mut engine, &args.command, &launch_opts()?, &mut source)?;
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
            trace::signals::detached_exit_code()
        }
        Outcome::Failed => 1,
    })
}

fn session_started(s: &Session) -> bool {
    s.has_events()
}

/// The kernel-side trace: watches `pids` and the launched command until they are gone or a
/// detach signal; returns the command's wait status.
fn run_perf(
    args: &TraceConfig,
    session: &mut Session,
    pids: &[i32],
    nrs: Option<Vec<u64>>,
    launch_opts: &dyn Fn() -> Result<attach::LaunchOpts>,
) -> Result<Option<i32>> {
    use crate::trace::perf::{PerfConfig, PerfSource};
    let cfg = PerfConfig {
        nrs,
        // Beside a traced set, PostgreSQL clients' recvfrom calls (not shown), so that a
        // statement noted is known to be the line's.
        watched: session.early_calls(),
        stack_all: args.stack > 0,
        stack_bytes: if args.stack > 0 {
            PerfConfig::MAX_STACK
        } else {
            8192
        },
        follow: args.follow > 0,
        // Per CPU: room for a few hundred entries with their stack copies between reads.
        // PGSTRACE_PERF_PAGES (a power of two) is for the tests of lost events.
        pages: std::env::var("PGSTRACE_PERF_PAGES")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|p| p.is_power_of_two())
            .unwrap_or(if args.stack > 0 { 2048 } else { 512 }),
        priority: args.reader_priority,
    };
    let mut src = PerfSource::new(cfg)?;
    for &pid in pids {
        // -k: symbols first, so that the first stacks resolve while their process lives.
        session.prefetch_stacks(pid);
        src.attach(pid, session)?;
    }
    if args.quiet & crate::output::QUIET_ATTACH == 0 {
        for pid in pids {
            crate::errln!("pgstrace: Process {pid} attached{}", in_ns(*pid));
        }
    }
    if !args.command.is_empty() {
        let opts = launch_opts()?;
        let child = attach::spawn_stopped(&args.command, &opts)?;
        if let Err(e) = src.launched(child, session) {
            // SAFETY: killing and reaping our own stopped child.
            unsafe {
                libc::kill(child, libc::SIGKILL);
                libc::waitpid(child, std::ptr::null_mut(), 0);
            }
            return Err(e.into());
        }
        // SAFETY: letting our own child go on to its execve.
        unsafe { libc::kill(child, libc::SIGCONT) };
    }
    Ok(src.run(session))
}

/// The exit status after a perf trace: the command's (128+signal when killed), else 0;
/// 1 when the output failed.
fn finish_status(args: &TraceConfig, session: &Session, pids: &[i32], status: Option<i32>) -> i32 {
    if session.output_failed() {
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
        return 1;
    }
    match status {
        Some(st) if libc::WIFSIGNALED(st) => 128 + libc::WTERMSIG(st),
        Some(st) => libc::WEXITSTATUS(st),
        None => {
            if args.command.is_empty() && args.quiet & crate::output::QUIET_ATTACH == 0 {
                for pid in pids {
                    crate::errln!("pgstrace: Process {pid} detached");
                }
            }
            crate::trace::signals::detached_exit_code()
        }
    }
}

/// ` (1 in its PID namespace)` for a process of another PID namespace (a container's), so
/// that the pid a user knows from inside is beside ours; empty in ours.
fn in_ns(pid: i32) -> String {
    crate::remote::procfs::ns_pid(pid)
        .map(|n| format!(" ({n} in its PID namespace)"))
        .unwrap_or_default()
}
