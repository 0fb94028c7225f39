//! Command-line flags, strace-compatible, in one place.
//!
//! `pgstrace [OPTIONS] -p PID...` or `pgstrace [OPTIONS] [--] COMMAND [ARGS]`. Every option
//! means what it means to strace; options that strace does not have are long-only.

use clap::{ArgAction, Parser};
use std::path::PathBuf;

mod words;
pub use words::*;

#[derive(Parser, Debug)]
#[command(
    name = "pgstrace",
    version = VERSION,
    args_override_self = true,
    about = "Trace system calls of PostgreSQL (or any) processes, the way strace does.",
    after_help = "Subcommands (pgstrace SUBCOMMAND --help for each):\n  ps           PostgreSQL clusters, their processes, roles and queries (no SQL)\n  explain-shm  why /dev/shm runs out for a cluster, and ranked remedies (--watch: live)\n  postmortem   the same explanation from server logs, after the fact\n  probe        breakpoints that capture values, guarded so they cannot hurt the server\n  doctor       what the host does to PostgreSQL (clock, huge pages, VM, cgroups, scheduler)\n  demo         the whole story: a parallel query fails in a 64 MiB /dev/shm, explained, fixed\n  completions  a shell completion script (bash, zsh, fish); man: the man pages into a directory\n\nExamples:\n  pgstrace -f -y -e trace=openat,ftruncate,fallocate -p $(head -1 $PGDATA/postmaster.pid)\n  pgstrace -c -f pgbench -S -T 10"
)]
pub struct TraceArgs {
    /// Attach to process PID (repeatable; also "-p 1,2" or "-p '1 2'").
    #[arg(short = 'p', long = "attach", value_name = "PID")]
    pub pids: Vec<String>,

    /// Follow forks, vforks and clones (PostgreSQL backends are forks of the postmaster).
    #[arg(short = 'f', long = "follow-forks", action = ArgAction::Count)]
    pub follow: u8,

    /// Qualifying expression: trace=SET, signal=SET, status=SET (SET: names, !, %class, all, none).
    #[arg(short = 'e', value_name = "EXPR")]
    pub exprs: Vec<String>,

    /// Same as -e trace=SET.
    #[arg(long = "trace", value_name = "SET")]
    pub trace: Vec<String>,

    /// Same as -e signal=SET.
    #[arg(long = "signal", value_name = "SET")]
    pub signal: Vec<String>,

    /// Same as -e status=SET.
    #[arg(long = "status", value_name = "SET")]
    pub status: Vec<String>,

    /// Print the stack after each syscall and signal (-kk: with file:line and inlined frames).
    #[arg(short = 'k', long = "stack-trace", action = ArgAction::Count)]
    pub stack: u8,

    /// Print paths associated with file descriptor arguments (-yy: sockets' endpoints and
    /// devices' numbers too).
    #[arg(short = 'y', action = ArgAction::Count)]
    pub decode_fds: u8,

    /// Print command names after process ids (-Y is --decode-pids=comm).
    #[arg(short = 'Y')]
    pub decode_pids: bool,

    /// Detach from a process when it reaches SYSCALL (only execve; the launched command's
    /// own first execve excepted).
    #[arg(short = 'b', long = "detach-on", value_name = "SYSCALL")]
    pub detach_on: Option<String>,

    /// Run the tracer as a grandchild, so that the command stays its caller's child (-DD:
    /// in its own process group too; -DDD: in its own session).
    #[arg(short = 'D', action = ArgAction::Count)]
    pub daemonize: u8,

    /// -D by name: grandchild, pgroup (-DD) or session (-DDD).
    #[arg(long = "daemonize", value_name = "HOW", num_args = 0..=1, require_equals = true, default_missing_value = "grandchild")]
    pub daemonize_how: Option<String>,

    /// With -f and a command: stop it only at the traced calls (a seccomp filter; it is
    /// killed, not detached, when pgstrace ends).
    #[arg(long = "seccomp-bpf")]
    pub seccomp_bpf: bool,

    /// Kill the launched command and its traced children when pgstrace ends, instead of
    /// letting them go (not with -p).
    #[arg(long = "kill-on-exit")]
    pub kill_on_exit: bool,

    /// The launched command's argv[0] (the program is still found by its name).
    #[arg(long = "argv0", value_name = "NAME")]
    pub argv0: Option<String>,

    /// pgstrace's own debugging output on stderr: stops other than syscalls, seizes,
    /// signals passed on, ends of tracees, the detach (`pgstrace: [debug] ...`).
    #[arg(short = 'd', long = "debug")]
    pub debug: bool,

    /// Print one of pgstrace's tips as the trace ends: [[id:]N|random][,[format:]none|compact|full].
    #[arg(long = "tips", value_name = "SPEC", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub tips: Option<String>,

    /// strace's deprecated -F: -f when there is no -f.
    #[arg(short = 'F', action = ArgAction::Count, hide = true)]
    pub follow_vforks: u8,

    /// -c: the tracing overhead taken off each call's time (microseconds, or with s, ms,
    /// us, ns).
    #[arg(short = 'O', value_name = "OVERHEAD")]
    pub overhead: Option<String>,

    /// What pids are printed with: comm (-Y), pidns (a namespaced tracee's pids also as
    /// pgstrace's namespace numbers them), all, none; the later of -Y and this wins.
    #[arg(long = "decode-pids", value_name = "SET", require_equals = true)]
    pub decode_pids_set: Option<String>,

    /// strace's interruptibility (1-4, or anywhere, waiting, never, never_tstp): accepted;
    /// pgstrace always detaches cleanly on SIGINT, SIGTERM and SIGHUP (docs/trace.md).
    #[arg(short = 'I', value_name = "N")]
    pub interruptible: Option<String>,

    /// -y as a set: path, socket, dev, pidfd, all (socket, dev and pidfd are -yy).
    #[arg(
        long = "decode-fds",
        value_name = "SET",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "path"
    )]
    pub decode_fds_set: Option<String>,

    /// Print the time spent in each syscall.
    #[arg(short = 'T')]
    pub durations: bool,

    /// -T with a precision: s, ms, us (default) or ns.
    #[arg(
        long = "syscall-times",
        value_name = "PRECISION",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "us"
    )]
    pub syscall_times: Option<String>,

    /// Prefix lines with the time of day (-tt with microseconds, -ttt as epoch seconds).
    #[arg(short = 't', action = ArgAction::Count)]
    pub timestamps: u8,

    /// Absolute timestamps: [format:]none|time|unix[,[precision:]s|ms|us|ns] (-t is time,s).
    #[arg(
        long = "absolute-timestamps",
        visible_alias = "timestamps",
        value_name = "FORMAT,PRECISION",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "time"
    )]
    pub absolute: Option<String>,

    /// Prefix lines with the time since the previous line.
    #[arg(short = 'r')]
    pub relative: bool,

    /// -r with a precision: s, ms, us (default) or ns.
    #[arg(
        long = "relative-timestamps",
        value_name = "PRECISION",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "us"
    )]
    pub relative_precision: Option<String>,

    /// Maximum string size to print (file names are always printed whole).
    #[arg(
        short = 's',
        long = "string-limit",
        value_name = "N",
        default_value_t = 32
    )]
    pub string_limit: usize,

    /// Align return values in column N.
    #[arg(short = 'a', long = "columns", value_name = "N", default_value_t = 40)]
    pub align: usize,

    /// Write the trace to FILE instead of stderr ("-" for stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Count time (system CPU time, as strace), calls and errors per syscall and print a
    /// summary instead of the trace.
    #[arg(short = 'c', long = "summary-only")]
    pub summary_only: bool,

    /// With -c/-C: time calls by the wall clock between entry and exit, not system CPU time.
    #[arg(short = 'w', long = "summary-wall-clock")]
    pub wall_clock: bool,

    /// Like -c, but also print the trace.
    #[arg(short = 'C', long = "summary")]
    pub summary: bool,

    /// Suppress messages about attaching and detaching (-qq: also about exit status).
    #[arg(short = 'q', action = ArgAction::Count)]
    pub quiet: u8,

    /// --quiet[=attach,exit,all,...]: which messages to suppress (without a value: attach).
    #[arg(long = "quiet", value_name = "SET", num_args = 0..=1, default_missing_value = "attach")]
    pub quiet_set: Option<String>,

    /// One JSON object per line per event instead of strace's text.
    #[arg(long)]
    pub json: bool,

    /// With -c or -C: a log2 latency histogram per syscall under the summary table.
    #[arg(long)]
    pub histogram: bool,

    /// At the end, print on stderr how long tracees were held stopped per stop (median, p99).
    #[arg(long)]
    pub hold_stats: bool,

    /// Colour the text trace: auto (a terminal, without NO_COLOR or TERM=dumb), always, never.
    #[arg(
        long = "color",
        alias = "colour",
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: String,

    /// Do not annotate PostgreSQL tracees (`# pid N query: ...` lines, JSON `query`/`role`).
    #[arg(long = "no-pg")]
    pub no_pg: bool,

    /// Print environments, stat structures and arrays whole (`-e abbrev=none`).
    #[arg(short = 'v', long = "no-abbrev")]
    pub no_abbrev: bool,

    /// How named constants and flags are printed: raw (numbers), abbrev (names, the
    /// default) or verbose (both).
    #[arg(short = 'X', long = "const-print-style", value_name = "STYLE")]
    pub const_style: Option<String>,

    /// Where events come from: ptrace (stops the tracee at every syscall), perf (kernel
    /// tracepoints: the tracee never stops; arguments as the event saw them), or auto (perf
    /// when everything asked for can be seen at the event).
    #[arg(
        long = "backend",
        value_name = "ptrace|perf|auto",
        default_value = "ptrace"
    )]
    pub backend: String,

    /// perf backend: the reader's CPU policy. batch: SCHED_BATCH (its wake-ups do not
    /// preempt the server's processes), raised while a ring fills; normal; auto (default):
    /// batch when every syscall is traced, normal for a short set.
    #[arg(
        long = "reader-priority",
        value_name = "auto|batch|normal",
        default_value = "auto"
    )]
    pub reader_priority: String,

    /// Print non-ASCII strings in hexadecimal (-xx: all strings).
    #[arg(short = 'x', action = ArgAction::Count)]
    pub hex: u8,

    /// With -o: append to FILE instead of truncating it.
    #[arg(short = 'A', long = "output-append-mode")]
    pub append: bool,

    /// --strings-in-hex[=non-ascii|non-ascii-chars|all] (without a value: all).
    #[arg(long = "strings-in-hex", value_name = "WHICH", num_args = 0..=1, default_missing_value = "all")]
    pub strings_in_hex: Option<String>,

    /// Print the syscall number before each call.
    #[arg(short = 'n', long = "syscall-number")]
    pub syscall_numbers: bool,

    /// Print the instruction pointer at the time of each call.
    #[arg(short = 'i', long = "instruction-pointer")]
    pub instruction_pointer: bool,

    /// Run the command with VAR=VAL in its environment (-E VAR: without VAR).
    #[arg(short = 'E', value_name = "VAR[=VAL]")]
    pub env: Vec<String>,

    /// Run the command as USER (its uid, gid and groups).
    #[arg(short = 'u', value_name = "USER")]
    pub user: Option<String>,

    /// Only calls that access PATH (by name, or through a descriptor of it); repeatable.
    #[arg(short = 'P', long = "trace-path", value_name = "PATH")]
    pub trace_paths: Vec<String>,

    /// With -c/-C: sort the table by time (default), calls, errors, name or nothing.
    #[arg(short = 'S', long = "summary-sort-by", value_name = "SORTBY")]
    pub sort_by: Option<String>,

    /// The -c table's columns, in order: time-percent, total-time, min-time, max-time,
    /// avg-time, calls, errors, name.
    #[arg(short = 'U', long = "summary-columns", value_name = "COLUMNS")]
    pub summary_columns: Option<String>,

    /// Only calls that succeeded (-e status=successful).
    #[arg(short = 'z', long = "successful-only")]
    pub successful_only: bool,

    /// Only calls that failed (-e status=failed).
    #[arg(short = 'Z', long = "failed-only")]
    pub failed_only: bool,

    /// The command to launch and trace.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

/// `pgstrace ps`: the PostgreSQL clusters on this machine and their processes.
#[derive(Parser, Debug)]
#[command(
    name = "pgstrace ps",
    version = VERSION,
    about = "List PostgreSQL clusters, their processes and roles."
)]
pub struct PsArgs {
    /// One JSON document instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Whole lines (whole queries) even on a terminal.
    #[arg(short = 'w', long = "wide")]
    pub wide: bool,
}

/// `pgstrace explain-shm`: why dynamic shared memory runs out.
#[derive(Parser, Debug)]
#[command(
    name = "pgstrace explain-shm",
    version = VERSION,
    about = "Explain /dev/shm use and ENOSPC for the cluster of a PostgreSQL process."
)]
pub struct ExplainShmArgs {
    /// Any process of the cluster (the postmaster, a backend, a worker).
    #[arg(short = 'p', value_name = "PID")]
    pub pid: String,

    /// One JSON document instead of text (with --watch: one object per event).
    #[arg(long)]
    pub json: bool,

    /// Follow the cluster and report each segment's life; explain a failure as it happens.
    #[arg(long)]
    pub watch: bool,

    /// With --watch: write to FILE instead of stdout.
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// With --watch: tamper as strace does, to reproduce a failure on a healthy server
    /// (`-e inject=fallocate:error=ENOSPC:when=3`; inject= and fault= only).
    #[arg(short = 'e', value_name = "inject=...")]
    pub inject: Vec<String>,

    /// `--watch`: ptrace (stops each traced process at every syscall), perf (kernel
    /// tracepoints: nothing stops), or auto (perf unless -e inject= or the kernel refuses).
    #[arg(
        long = "backend",
        value_name = "ptrace|perf|auto",
        default_value = "auto"
    )]
    pub backend: String,
}

/// Subcommands, recognised only as the first word (`pgstrace -- ps` traces the ps command).
#[derive(Parser, Debug)]
#[command(
    name = "pgstrace probe",
    version = VERSION,
    about = "Breakpoints that capture values (DWARF variables, $argN, %REG, @SYMBOL, $retval), perf probe's syntax, guarded so that a probe cannot hurt the server."
)]
pub struct ProbeArgs {
    /// The binary to list functions of.
    #[arg(short = 'x', value_name = "BINARY")]
    pub binary: Option<PathBuf>,

    /// List the functions that can be probed (matching GLOB).
    #[arg(long, value_name = "GLOB", num_args = 0..=1, default_missing_value = "*")]
    pub funcs: Option<String>,

    /// With --funcs: also the functions only .eh_frame knows (unnamed, by address).
    #[arg(long)]
    pub all: bool,

    /// Process(es) to probe.
    #[arg(short = 'p', value_name = "PID")]
    pub pids: Vec<String>,

    /// Stop after N hits.
    #[arg(long, value_name = "N")]
    pub max_hits: Option<u64>,

    /// Stop probing when hits hold the tracees more than PERCENT of the time (default 1).
    #[arg(long, value_name = "PERCENT")]
    pub stall_budget: Option<f64>,

    /// One JSON object per hit: {"probe", "pid", "time", "values", "query"}.
    #[arg(long)]
    pub json: bool,

    /// The stack of each hit (as pgstrace -k).
    #[arg(short = 'k')]
    pub stacks: bool,

    /// Put back the bytes a killed pgstrace left in the -p processes.
    #[arg(long)]
    pub cleanup: bool,

    /// Stop after SECONDS.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,

    /// Probe a function on the refused list (WAL, LWLock, spinlock code, signal handlers).
    #[arg(long)]
    pub force: bool,

    /// Arm the children the probed processes fork (a postmaster's backends and workers).
    #[arg(short = 'f')]
    pub follow: bool,

    /// The longest string a value prints (default 64).
    #[arg(short = 's', value_name = "STRSIZE")]
    pub string_limit: Option<usize>,

    /// List what can be captured at FUNC (or FUNC+OFFS), with types (-x BINARY or -p PID).
    #[arg(long, value_name = "FUNC")]
    pub vars: Option<String>,

    /// `[NAME=]FUNC[+OFFS|%return] [ARG ...]`, one argument each.
    #[arg(value_name = "SPEC")]
    pub specs: Vec<String>,
}

/// `pgstrace doctor`: what the host does to PostgreSQL.
#[derive(Parser, Debug)]
#[command(
    name = "pgstrace doctor",
    version = VERSION,
    about = "What the host does to PostgreSQL: /dev/shm, clocksource and vDSO, huge pages, virtualization, cgroup memory and writeback, scheduler, what pgstrace can do here."
)]
pub struct DoctorArgs {
    /// Any process of a cluster: its /dev/shm, settings, cgroup, user (else the host only).
    #[arg(short = 'p', value_name = "PID")]
    pub pid: Option<String>,

    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,

    /// How long steal time is sampled, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub sample_ms: u64,

    /// Colour: auto (a terminal without NO_COLOR or TERM=dumb), always, never.
    #[arg(
        long = "color",
        alias = "colour",
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: String,
}

/// `pgstrace demo`: the whole story on this machine.
#[derive(Parser, Debug)]
#[command(
    name = "pgstrace demo",
    version = VERSION,
    about = "Play the scene pgstrace is for: a parallel query in a 64 MiB /dev/shm (Docker's default) fails, explain-shm and a -k trace say why, the first remedy is applied, the query succeeds. Needs root and a PostgreSQL server package; cleans up on every exit."
)]
pub struct DemoArgs {
    /// Leave the cluster running at the end and print how to connect and how to stop it.
    #[arg(long)]
    pub keep: bool,

    /// The user the server runs as.
    #[arg(long, value_name = "NAME", default_value = "postgres")]
    pub user: String,

    /// Where initdb, postgres and psql are (default: pg_config --bindir, /usr/lib/postgresql/N/bin).
    #[arg(long, value_name = "DIR")]
    pub bindir: Option<PathBuf>,

    /// Rows in each of the two joined tables.
    #[arg(long, value_name = "N", default_value_t = 2_000_000)]
    pub rows: u64,
}

/// `pgstrace postmortem`: DSM failures explained from server logs.
#[derive(Parser, Debug)]
#[command(
    name = "pgstrace postmortem",
    version = VERSION,
    about = "Explain past 'could not resize shared memory segment' errors from server logs."
)]
pub struct PostmortemArgs {
    /// Server logs: files (plain, gzip, zstd, xz), a data directory or log folder, '-' for stdin.
    #[arg(value_name = "LOG", required = true)]
    pub logs: Vec<PathBuf>,

    /// The /dev/shm size to compare with (64m, 1g); default: the running cluster's.
    #[arg(long, value_name = "SIZE")]
    pub shm_size: Option<String>,

    /// Only entries at or after TIME (2026-01-01, '2026-01-01 10:00').
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only entries at or before TIME.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// The server's log_line_prefix (else recognised from the lines).
    #[arg(long, value_name = "LOG_LINE_PREFIX")]
    pub prefix: Option<String>,

    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,

    /// A server setting, where postmortem does not run on the server (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub settings: Vec<String>,

    /// The running cluster these logs are from: any of its processes (its /dev/shm and
    /// settings are compared; default: the cluster whose data directory holds the logs, or
    /// the only one running).
    #[arg(short = 'p', value_name = "PID")]
    pub pid: Option<String>,
}

const SUBCOMMANDS: [&str; 8] = [
    "ps",
    "demo",
    "explain-shm",
    "probe",
    "postmortem",
    "doctor",
    "completions",
    "man",
];

/// `--version`: the package version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PGSTRACE_COMMIT"),
    ")"
);

/// Every command's clap definition in one tree (for completions and man pages).
pub fn command_tree() -> clap::Command {
    use clap::CommandFactory;
    let sub =
        |c: clap::Command, name: &'static str| c.name(name).bin_name(format!("pgstrace {name}"));
    TraceArgs::command()
        .subcommand(sub(PsArgs::command(), "ps"))
        .subcommand(sub(ExplainShmArgs::command(), "explain-shm"))
        .subcommand(sub(ProbeArgs::command(), "probe"))
        .subcommand(sub(PostmortemArgs::command(), "postmortem"))
        .subcommand(sub(DoctorArgs::command(), "doctor"))
        .subcommand(sub(DemoArgs::command(), "demo"))
        .subcommand(
            clap::Command::new("completions")
                .about("Print a shell completion script (bash, zsh, fish) on stdout.")
                .arg(clap::Arg::new("shell").required(true)),
        )
        .subcommand(
            clap::Command::new("man")
                .about("Write the man pages (pgstrace.1, pgstrace-SUBCOMMAND.1) into DIR.")
                .arg(clap::Arg::new("dir").required(true)),
        )
}

/// `pgstrace completions SHELL` / `pgstrace man DIR`.
fn generate(sub: &str, argv: &[String]) -> i32 {
    let bad = |msg: String| {
        crate::errln!("pgstrace {sub}: {msg}");
        1
    };
    let Some(arg) = argv.get(2) else {
        return bad(format!(
            "usage: pgstrace {sub} {}",
            if sub == "man" { "DIR" } else { "bash|zsh|fish" }
        ));
    };
    let mut tree = command_tree();
    if sub == "completions" {
        use clap_complete::Shell;
        let shell = match arg.as_str() {
            "bash" => Shell::Bash,
            "zsh" => Shell::Zsh,
            "fish" => Shell::Fish,
            other => {
                return bad(format!(
                    "unknown shell '{}' (bash, zsh or fish)",
                    other.escape_default()
                ));
            }
        };
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut tree, "pgstrace", &mut out);
        use std::io::Write as _;
        let mut so = std::io::stdout().lock();
        return match so.write_all(&out).and_then(|()| so.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => bad(e.to_string()),
            _ => 0,
        };
    }
    let dir = std::path::Path::new(arg);
    if let Err(e) = std::fs::create_dir_all(dir) {
        return bad(format!("{}: {e}", dir.display()));
    }
    tree.build();
    let mut pages = vec![("pgstrace".to_string(), tree.clone())];
    for s in tree.get_subcommands() {
        if !matches!(s.get_name(), "completions" | "man" | "help") {
            pages.push((format!("pgstrace-{}", s.get_name()), s.clone()));
        }
    }
    for (name, cmd) in pages {
        let mut buf = Vec::new();
        let page = clap_mangen::Man::new(cmd)
            .title(name.to_uppercase())
            .section("1")
            .source(format!("pgstrace {VERSION}"));
        if let Err(e) = page.render(&mut buf) {
            return bad(e.to_string());
        }
        let path = dir.join(format!("{name}.1"));
        if let Err(e) = std::fs::write(&path, buf) {
            return bad(format!("{}: {e}", path.display()));
        }
        println!("{}", path.display());
    }
    0
}

/// Parses `-p` values: "123", "1,2", "1 2".
pub fn parse_pids(values: &[String]) -> Result<Vec<i32>, String> {
    let mut pids = Vec::new();
    for v in values {
        for tok in v.split([',', ' ', '\t', '\n']).filter(|t| !t.is_empty()) {
            let pid: i32 = tok
                .parse()
                .map_err(|_| format!("invalid process id: '{}'", tok.escape_default()))?;
            if pid <= 0 {
                return Err(format!("invalid process id: '{pid}'"));
            }
            if !pids.contains(&pid) {
                pids.push(pid);
            }
        }
    }
    Ok(pids)
}

/// Parses with clap; help and version go to stdout (exit 0), errors are one line.
fn parse<P: Parser>(argv: Vec<String>, help: &str) -> Result<P, i32> {
    P::try_parse_from(argv).map_err(|e| {
        use clap::error::ErrorKind;
        if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
            let _ = e.print();
            return 0;
        }
        // One line: clap's first line without its "error: " prefix.
        let text = e.to_string();
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next().unwrap_or("invalid arguments");
        let first = first.strip_prefix("error: ").unwrap_or(first);
        // "the following required arguments were not provided:" names them on the next line.
        let more = match (first.ends_with(':'), lines.next()) {
            (true, Some(next)) => format!(" {}", next.trim()),
            _ => String::new(),
        };
        crate::errln!("pgstrace: {first}{more} (try '{help} --help')");
        1
    })
}

/// What the command line asks for, as plain config values (nothing below `cli` sees clap).
#[derive(Debug)]
pub enum Command {
    Trace(Box<crate::session::TraceConfig>),
    Ps(crate::report::ps::PsConfig),
    ExplainShm(crate::report::shm::ShmConfig),
    Probe(crate::probe::ProbeConfig),
    Postmortem(crate::report::postmortem::PostmortemConfig),
    Doctor(crate::report::doctor::DoctorConfig),
    Demo(crate::demo::DemoConfig),
}

/// Parses `argv`: the command to run, or the exit code when there is nothing to run (help,
/// version: 0; a bad flag: 1, with its one-line message printed).
pub fn parse_command(mut argv: Vec<String>) -> Result<Command, i32> {
    let sub = argv
        .get(1)
        .filter(|a| SUBCOMMANDS.contains(&a.as_str()))
        .cloned();
    let bad = |msg: String| {
        crate::errln!("pgstrace: {msg}");
        1
    };
    if let Some(sub) = sub {
        if sub == "completions" || sub == "man" {
            return Err(generate(&sub, &argv));
        }
        // `pgstrace ps ARGS` parses as `pgstrace-ps ARGS`.
        let name = format!("pgstrace {sub}");
        argv.remove(1);
        argv[0] = name.clone();
        return match sub.as_str() {
            "ps" => {
                let a = parse::<PsArgs>(argv, &name)?;
                Ok(Command::Ps(crate::report::ps::PsConfig {
                    json: a.json,
                    wide: a.wide,
                }))
            }
            "postmortem" => {
                let a = parse::<PostmortemArgs>(argv, &name)?;
                use crate::report::postmortem::{parse_size, parse_when};
                let shm_size = match &a.shm_size {
                    Some(s) => Some(parse_size(s).ok_or_else(|| {
                        bad(format!("--shm-size: not a size: {s:?} (try 64m, 1g)"))
                    })?),
                    None => None,
                };
                let when = |v: &Option<String>, flag: &str| match v {
                    Some(t) => parse_when(t).map(Some).ok_or_else(|| {
                        bad(format!(
                            "{flag}: not a time: {t:?} (try 2026-01-01 or '2026-01-01 10:00')"
                        ))
                    }),
                    None => Ok(None),
                };
                Ok(Command::Postmortem(
                    crate::report::postmortem::PostmortemConfig {
                        logs: a.logs,
                        shm_size,
                        since: when(&a.since, "--since")?,
                        until: when(&a.until, "--until")?,
                        prefix: a.prefix,
                        json: a.json,
                        pid: match &a.pid {
                            Some(p) => Some(parse_pid(p).map_err(bad)?),
                            None => None,
                        },
                        settings: a
                            .settings
                            .iter()
                            .map(|kv| {
                                kv.split_once('=')
                                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                                    .ok_or_else(|| bad(format!("--set: {kv:?} is not NAME=VALUE")))
                            })
                            .collect::<Result<_, _>>()?,
                    },
                ))
            }
            "demo" => {
                let a = parse::<DemoArgs>(argv, &name)?;
                if a.rows < 1000 {
                    return Err(bad(format!(
                        "demo: --rows {} is too few to fill anything",
                        a.rows
                    )));
                }
                Ok(Command::Demo(crate::demo::DemoConfig {
                    keep: a.keep,
                    user: a.user,
                    bindir: a.bindir,
                    rows: a.rows,
                }))
            }
            "doctor" => {
                let a = parse::<DoctorArgs>(argv, &name)?;
                let colour = crate::util::ColorChoice::parse(&a.color).ok_or_else(|| {
                    bad(format!(
                        "invalid --color '{}' (auto, always or never)",
                        a.color.escape_default()
                    ))
                })?;
                Ok(Command::Doctor(crate::report::doctor::DoctorConfig {
                    pid: match &a.pid {
                        Some(p) => Some(parse_pid(p).map_err(bad)?),
                        None => None,
                    },
                    json: a.json,
                    sample_ms: a.sample_ms.min(60_000),
                    colour,
                }))
            }
            "probe" => {
                let a = parse::<ProbeArgs>(argv, &name)?;
                let pids = parse_pids(&a.pids).map_err(bad)?;
                Ok(Command::Probe(crate::probe::ProbeConfig {
                    binary: a.binary,
                    funcs: a.funcs.map(|g| Some(g).filter(|g| g != "*")),
                    all: a.all,
                    pids,
                    specs: a.specs,
                    max_hits: a.max_hits,
                    duration: a.duration,
                    cleanup: a.cleanup,
                    stall_budget: a.stall_budget,
                    json: a.json,
                    stacks: a.stacks,
                    force: a.force,
                    follow: a.follow,
                    string_limit: a.string_limit,
                    vars: a.vars,
                }))
            }
            _ => {
                let a = parse::<ExplainShmArgs>(argv, &name)?;
                let pid = parse_pid(&a.pid).map_err(bad)?;
                Ok(Command::ExplainShm(crate::report::shm::ShmConfig {
                    pid,
                    json: a.json,
                    watch: a.watch,
                    output: a.output,
                    inject: a.inject,
                    backend: match a.backend.as_str() {
                        "ptrace" => crate::session::command::Backend::Ptrace,
                        "perf" => crate::session::command::Backend::Perf,
                        "auto" => crate::session::command::Backend::Auto,
                        other => {
                            crate::errln!(
                                "pgstrace: invalid --backend '{}' (ptrace, perf or auto)",
                                other.escape_default()
                            );
                            return Err(1);
                        }
                    },
                }))
            }
        };
    }
    if let Some(why) = unknown_option(&argv) {
        crate::errln!("pgstrace: {why} (try 'pgstrace --help')");
        return Err(1);
    }
    let mut a = parse::<TraceArgs>(normalise_args(argv), "pgstrace")?;
    // `-e quiet=SET` is the printer's, not the filter's.
    let quiet_exprs: Vec<String> = a
        .exprs
        .iter()
        .filter_map(|e| {
            e.strip_prefix("quiet=")
                .or_else(|| e.strip_prefix("q="))
                .or_else(|| e.strip_prefix("silent="))
                .or_else(|| e.strip_prefix("silence="))
                .map(str::to_string)
        })
        .collect();
    a.exprs.retain(|e| {
        !["quiet=", "q=", "silent=", "silence="]
            .iter()
            .any(|p| e.starts_with(p))
    });
    // `-e decode-fds=SET` is `--decode-fds=SET` (the last one given wins).
    if let Some(set) = a
        .exprs
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("decode-fds="))
    {
        a.decode_fds_set = Some(set.to_string());
    }
    a.exprs.retain(|e| !e.starts_with("decode-fds="));
    // `-e kvm=vcpu`, strace's one value.
    let mut kvm_vcpu = false;
    for e in a.exprs.iter().filter_map(|e| e.strip_prefix("kvm=")) {
        if e != "vcpu" {
            return Err(bad(format!(
                "invalid -e kvm= argument: '{}'",
                e.escape_default()
            )));
        }
        kvm_vcpu = true;
    }
    a.exprs.retain(|e| !e.starts_with("kvm="));
    if a.decode_fds > 0 && a.decode_fds_set.is_some() {
        return Err(bad(
            "-y and --decode-fds cannot be provided simultaneously".into()
        ));
    }
    let pids = parse_pids(&a.pids).map_err(bad)?;
    // -I: taken, with no effect (detaching on fatal signals is always clean); refused
    // only when strace would refuse it.
    const INTERRUPTIBLE: [&str; 8] = [
        "1",
        "2",
        "3",
        "4",
        "anywhere",
        "waiting",
        "never",
        "never_tstp",
    ];
    if let Some(i) = a
        .interruptible
        .as_deref()
        .filter(|i| !INTERRUPTIBLE.contains(i))
    {
        return Err(bad(format!(
            "invalid -I '{}' (1, 2, 3, 4, anywhere, waiting, never, never_tstp)",
            i.escape_default()
        )));
    }
    let (timestamps, ts_digits) = absolute(a.timestamps, a.absolute.as_deref()).map_err(bad)?;
    let to_file_for_command = a.output.is_some() && !a.command.is_empty();
    let quiet_choice;
    let daemonize = match a.daemonize_how.as_deref() {
        None => a.daemonize,
        Some("grandchild") => 1,
        Some("pgroup" | "pgrp") => 2,
        Some("session") => 3,
        Some(h) => {
            return Err(bad(format!(
                "invalid --daemonize '{}' (grandchild, pgroup, session)",
                h.escape_default()
            )));
        }
    };
    if let Some(sc) = a.detach_on.as_deref()
        && sc != "execve"
    {
        return Err(bad(format!(
            "Syscall '{}' for -b isn't supported",
            sc.escape_default()
        )));
    }
    if a.detach_on.is_some() && a.seccomp_bpf {
        return Err(bad(
            "-b execve cannot be used with --seccomp-bpf (a filtered process is not let go)".into(),
        ));
    }
    if a.debug {
        crate::DEBUG.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let follow = match (a.follow, a.follow_vforks) {
        (0, 0) => 0,
        (0, _) => {
            crate::errln!(
                "pgstrace: option -F is deprecated, please use -f/--follow-forks instead"
            );
            1
        }
        (f, 0) => f,
        (f, _) => {
            crate::errln!("pgstrace: deprecated option -F ignored");
            f
        }
    };
    let overhead = match a.overhead.as_deref() {
        None => std::time::Duration::ZERO,
        Some(s) => crate::trace::inject::parse_delay(s)
            .ok_or_else(|| bad(format!("invalid -O argument: '{}'", s.escape_default())))?,
    };
    // The summary's options without a summary: strace's refusals and warning.
    if !a.summary_only && !a.summary {
        for (given, what) in [
            (a.wall_clock, "-w/--summary-wall-clock"),
            (a.summary_columns.is_some(), "-U/--summary-columns"),
        ] {
            if given {
                return Err(bad(format!(
                    "{what} must be given with (-c/--summary-only or -C/--summary)"
                )));
            }
        }
        if a.sort_by.is_some() {
            crate::errln!(
                "pgstrace: -S/--summary-sort-by has no effect without (-c/--summary-only or -C/--summary)"
            );
        }
    }
    if a.kill_on_exit && !a.pids.is_empty() {
        return Err(bad(
            "--kill-on-exit kills what pgstrace traces: not with -p (it did not start it)".into(),
        ));
    }
    if a.argv0.is_some() && a.command.is_empty() {
        return Err(bad("PROG [ARGS] must be specified with --argv0".into()));
    }
    if daemonize > 3 {
        return Err(bad(format!(
            "Too many -D's ({daemonize}), maximum supported -D count is 3"
        )));
    }
    if daemonize > 0 && a.command.is_empty() {
        return Err(bad(
            "PROG [ARGS] must be specified with -D/--daemonize".into()
        ));
    }
    Ok(Command::Trace(Box::new(crate::session::TraceConfig {
        pids,
        follow,
        overhead,
        tips: match a.tips.as_deref() {
            None => None,
            Some(spec) => Some(crate::output::tips::parse(Some(spec)).map_err(bad)?),
        },
        kill_on_exit: a.kill_on_exit,
        argv0: a.argv0,
        exprs: a.exprs,
        trace: a.trace,
        signal: a.signal,
        status: {
            let mut st = a.status;
            if a.successful_only {
                st.push("successful".into());
            }
            if a.failed_only {
                st.push("failed".into());
            }
            st
        },
        stack: a.stack,
        decode_fds: match &a.decode_fds_set {
            Some(set) => y_bits(a.decode_fds) | decode_fds_bits(set).map_err(bad)?,
            None => y_bits(a.decode_fds),
        },
        durations: a.durations || a.syscall_times.is_some(),
        relative: a.relative || a.relative_precision.is_some(),
        rel_digits: match &a.relative_precision {
            Some(p) => precision(p, "--relative-timestamps").map_err(bad)?,
            None => 6,
        },
        dur_digits: match &a.syscall_times {
            Some(p) => precision(p, "--syscall-times").map_err(bad)?,
            None => 6,
        },
        timestamps,
        ts_digits,
        string_limit: a.string_limit,
        align: a.align,
        output: a.output,
        summary_only: a.summary_only,
        seccomp_bpf: a.seccomp_bpf,
        detach_on_execve: a.detach_on.is_some(),
        daemonize,
        decode_pids: match &a.decode_pids_set {
            Some(set) => decode_pids_set(set).map_err(bad)?,
            None => crate::syscalls::DecodePids {
                comm: a.decode_pids,
                pidns: false,
            },
        },
        wall_clock: a.wall_clock,
        kvm_vcpu,
        summary: a.summary,
        quiet: {
            let mut q = match a.quiet {
                0 => 0,
                1 => crate::output::QUIET_ATTACH,
                2 => crate::output::QUIET_ATTACH | crate::output::QUIET_EXIT,
                _ => crate::output::quiet_set("all").map_err(bad)?,
            };
            let sets = a
                .quiet_set
                .iter()
                .cloned()
                .chain(quiet_exprs.iter().cloned());
            let mut said = a.quiet > 0;
            for set in sets {
                q |= crate::output::quiet_set(&set).map_err(bad)?;
                said = true;
            }
            quiet_choice = q & crate::output::QUIET_ATTACH != 0;
            // strace is quiet about attaching when it writes to a file for a command it
            // launched, unless told otherwise (-q, -e quiet=).
            if to_file_for_command && !said {
                q |= crate::output::QUIET_ATTACH;
            }
            q
        },
        quiet_choice,
        json: a.json,
        histogram: a.histogram,
        hold_stats: a.hold_stats,
        color: crate::util::ColorChoice::parse(&a.color).ok_or_else(|| {
            bad(format!(
                "invalid --color '{}' (auto, always or never)",
                a.color.escape_default()
            ))
        })?,
        backend: match a.backend.as_str() {
            "ptrace" => crate::session::command::Backend::Ptrace,
            "perf" => crate::session::command::Backend::Perf,
            "auto" => crate::session::command::Backend::Auto,
            other => {
                crate::errln!(
                    "pgstrace: invalid --backend '{}' (ptrace, perf or auto)",
                    other.escape_default()
                );
                return Err(1);
            }
        },
        reader_priority: match a.reader_priority.as_str() {
            "auto" => None,
            "batch" => Some(crate::trace::perf::priority::ReaderPriority::Yield),
            "normal" => Some(crate::trace::perf::priority::ReaderPriority::Normal),
            other => {
                crate::errln!(
                    "pgstrace: invalid --reader-priority '{}' (auto, batch or normal)",
                    other.escape_default()
                );
                return Err(1);
            }
        },
        no_pg: a.no_pg,
        no_abbrev: a.no_abbrev,
        const_style: match a.const_style.as_deref() {
            None | Some("abbrev") => crate::syscalls::ConstStyle::Abbrev,
            Some("raw") => crate::syscalls::ConstStyle::Raw,
            Some("verbose") => crate::syscalls::ConstStyle::Verbose,
            Some(other) => {
                return Err(bad(format!(
                    "invalid -X '{}' (raw, abbrev or verbose)",
                    other.escape_default()
                )));
            }
        },
        hex: match a.strings_in_hex.as_deref() {
            None => a.hex,
            Some("all") => 2,
            Some("non-ascii" | "non-ascii-chars") => a.hex.max(1),
            Some("none") => 0,
            Some(other) => {
                crate::errln!(
                    "pgstrace: invalid --strings-in-hex argument: '{other}' (try 'pgstrace --help')"
                );
                return Err(1);
            }
        },
        syscall_numbers: a.syscall_numbers,
        instruction_pointer: a.instruction_pointer,
        env: a.env,
        user: a.user,
        sort_by: a.sort_by,
        summary_columns: a.summary_columns,
        append: a.append,
        trace_paths: a.trace_paths,
        command: a.command,
    })))
}

/// One `-p PID` of a subcommand: `-p X: not a process id` otherwise.
pub fn parse_pid(text: &str) -> Result<i32, String> {
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("-p {}: not a process id", text.escape_default()))
}

/// The exit code of a command's result, its error printed as one line.
pub fn exit_code(result: anyhow::Result<i32>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("pgstrace: {e:#}");
            1
        }
    }
}

#[cfg(test)]
mod tests;
