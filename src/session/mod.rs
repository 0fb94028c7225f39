//! A tracing session: the glue between the ptrace engine, the decoders, the filters and the
//! printers. It owns per-tracee syscall state (the pending entry of each tracee), decides what
//! is shown, and queues events that the printers receive once the tracee runs again.
//! PostgreSQL annotation lives in [`pg`].

pub mod pg;
pub mod stacks;

use crate::event::{Event, StackFrame, Timestamp};
use crate::filter::{Filter, status};
use crate::output::{Sink, TextOpts, json::JsonPrinter, strace::TextPrinter, summary};
use crate::remote::ProcMem;
use crate::remote::regs::Snapshot;
use crate::syscalls::decode::{self, Entry};
use crate::syscalls::{DecodeOpts, Ret, signals, table};
use crate::trace::{self, Engine, Handler, Outcome, Stop, attach};
use anyhow::{Context, Result, bail};
use stacks::Backtracer;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};

const RESTART_SYSCALL: u64 = 219;
const RT_SIGRETURN: u64 = 15;
/// mmap, mprotect, munmap, brk, mremap: the module map must be read again.
const MEMORY_MAP_CHANGES: [u64; 5] = [9, 10, 11, 12, 25];
const ERESTART_RESTARTBLOCK: i64 = 516;

struct Pending {
    nr: u64,
    time: Timestamp,
    /// `None` when the syscall is not traced (it is not decoded at all).
    entry: Option<Entry>,
    /// Whether the entry event went to the printers (it is held back under `-e status=`).
    emitted: bool,
    /// `-k`: the stack at entry, resolved after the resume.
    stack: Vec<StackFrame>,
    /// The second argument (a `recvfrom`'s buffer, for the PostgreSQL annotation).
    arg1: u64,
}

/// `-k` work left for after the resume: a snapshot copied while the tracee was stopped.
enum StackJob {
    /// The stack of `pid`'s pending syscall.
    Syscall {
        snap: Snapshot,
        name: Cow<'static, str>,
    },
    /// The stack of the queued signal event at this index.
    Signal { snap: Snapshot, index: usize },
}

#[derive(Default)]
struct PidState {
    pending: Option<Pending>,
    /// The syscall that returned ERESTART_RESTARTBLOCK, for `restart_syscall(<... resuming
    /// interrupted NAME ...>)`.
    interrupted: Option<u64>,
}

pub struct Session {
    filter: Filter,
    decode: DecodeOpts,
    /// Decode arguments at all (not under plain `-c`).
    decoding: bool,
    sinks: Vec<Box<dyn Sink>>,
    queue: Vec<Event>,
    pids: HashMap<i32, PidState>,
    output_failed: bool,
    /// Events went to the printers since they were last flushed.
    unflushed: bool,
    /// `-k`.
    backtracer: Option<Backtracer>,
    stack_jobs: Vec<StackJob>,
    /// PostgreSQL annotation (off under `--no-pg`).
    pg: Option<pg::PgAnnotator>,
    /// A syscall stop was seen: later attaches are `-f` children, whose titles are not set.
    started: bool,
    /// Called at the exit stop of a traced syscall that failed with ENOSPC, while the tracee
    /// is still stopped (explain-shm --watch captures /dev/shm there).
    enospc_hook: Option<EnospcHook>,
    /// Test-only fault injection (see [`Session::maybe_inject_panic`]).
    inject_panic_at: Option<u32>,
}

/// See [`Session::on_enospc`]: called with the pid and the syscall number.
pub type EnospcHook = Box<dyn FnMut(i32, u64)>;

const ENOSPC: i64 = 28;

/// The wall clock now.
fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// The syscall's name; unknown numbers as strace writes them (`syscall_0x1c8`).
fn syscall_name(nr: u64) -> Cow<'static, str> {
    match table::lookup(nr) {
        Some(info) => Cow::Borrowed(info.name),
        None => Cow::Owned(format!("syscall_{nr:#x}")),
    }
}

impl Session {
    pub fn new(
        filter: Filter,
        decode: DecodeOpts,
        decoding: bool,
        sinks: Vec<Box<dyn Sink>>,
    ) -> Self {
        Session {
            filter,
            decode,
            decoding,
            sinks,
            queue: Vec::new(),
            pids: HashMap::new(),
            output_failed: false,
            unflushed: false,
            backtracer: None,
            stack_jobs: Vec::new(),
            pg: None,
            started: false,
            enospc_hook: None,
            inject_panic_at: std::env::var("PGSTRACE_INJECT_PANIC_AT_SIGNAL")
                .ok()
                .and_then(|v| v.parse().ok()),
        }
    }

    /// Annotate postgres tracees with their statements and roles ([`Event::Pg`]).
    pub fn annotate_pg(&mut self) {
        self.pg = Some(pg::PgAnnotator::new());
    }

    /// `-k` (`kk`: with file:line and inlined frames).
    pub fn with_stacks(&mut self, kk: bool) {
        self.backtracer = Some(Backtracer::new(kk));
    }

    /// Calls `hook` at the exit stop of every traced syscall that fails with ENOSPC, while
    /// the tracee is stopped.
    pub fn on_enospc(&mut self, hook: EnospcHook) {
        self.enospc_hook = Some(hook);
    }

    /// Entries are held back until the exit when only some statuses are printed.
    fn hold_entries(&self) -> bool {
        self.filter.status != status::ALL
    }

    fn entry(&mut self, pid: i32, nr: u64, args: &[u64; 6], sp: u64, mem: &ProcMem) {
        let time = now();
        self.started = true;
        let emitted = !self.hold_entries();
        if !self.filter.traces(nr) {
            self.pids.entry(pid).or_default().pending = Some(Pending {
                nr,
                time,
                entry: None,
                emitted: false,
                stack: Vec::new(),
                arg1: args[1],
            });
            return;
        }
        if emitted && let Some(pg) = &mut self.pg {
            pg.before_line(pid, time, mem, &mut self.queue);
        }
        let st = self.pids.entry(pid).or_default();
        if let Some(bt) = &mut self.backtracer
            && let Some(snap) = bt.capture(pid)
        {
            self.stack_jobs.push(StackJob::Syscall {
                snap,
                name: syscall_name(nr),
            });
        }
        let mut entry = if self.decoding {
            decode::decode_entry(nr, args, mem, &self.decode)
        } else {
            Entry {
                nr,
                raw: *args,
                args: Vec::new(),
            }
        };
        if nr == RESTART_SYSCALL && self.decoding {
            // Kept (not taken): a restart_syscall interrupted again resumes the same call.
            let what = st
                .interrupted
                .map(syscall_name)
                .unwrap_or(Cow::Borrowed("call"));
            entry.args = vec![Some(decode::proc::restart_arg(&what))];
        }
        if nr == RT_SIGRETURN && self.decoding {
            entry.args = vec![Some(decode::proc::sigreturn_arg(mem, sp))];
        }
        if emitted {
            let n = entry.printable_prefix();
            self.queue.push(Event::SyscallEntry {
                pid,
                time,
                nr,
                name: syscall_name(nr),
                args: entry.args[..n].iter().flatten().cloned().collect(),
                more: n < entry.args.len(),
                raw_args: entry.raw,
            });
        }
        st.pending = Some(Pending {
            nr,
            time,
            entry: Some(entry),
            emitted,
            stack: Vec::new(),
            arg1: args[1],
        });
    }

    fn exit(&mut self, pid: i32, rval: i64, is_error: bool, mem: &ProcMem) {
        let time = now();
        let st = self.pids.entry(pid).or_default();
        let Some(p) = st.pending.take() else {
            // An exit without its entry (we attached mid-syscall): nothing to show.
            return;
        };
        if is_error && -rval == ERESTART_RESTARTBLOCK {
            if p.nr != RESTART_SYSCALL {
                st.interrupted = Some(p.nr);
            }
        } else if p.nr == RESTART_SYSCALL {
            st.interrupted = None;
        }
        if let Some(bt) = &mut self.backtracer
            && !is_error
            && MEMORY_MAP_CHANGES.contains(&p.nr)
        {
            bt.invalidate(pid);
        }
        if let Some(pg) = &mut self.pg {
            pg.exited(pid, p.nr, p.arg1, if is_error { -1 } else { rval });
        }
        let Some(entry) = p.entry else { return };
        if is_error
            && rval == -ENOSPC
            && let Some(hook) = &mut self.enospc_hook
        {
            hook(pid, p.nr);
        }
        let (args, ret) = if self.decoding {
            decode::decode_exit(&entry, rval, is_error, mem, &self.decode)
        } else if is_error {
            (Vec::new(), Ret::Error { errno: -rval })
        } else {
            (Vec::new(), Ret::Int(rval))
        };
        let bit = if is_error && (512..=530).contains(&-rval) {
            status::UNAVAILABLE
        } else if is_error {
            status::FAILED
        } else {
            status::SUCCESSFUL
        };
        if !p.emitted && !self.filter.shows_status(bit) {
            return;
        }
        if !p.emitted
            && let Some(pg) = &mut self.pg
        {
            pg.before_line(pid, time, mem, &mut self.queue);
        }
        self.queue.push(Event::SyscallExit {
            pid,
            time,
            nr: p.nr,
            name: syscall_name(p.nr),
            args,
            raw_args: entry.raw,
            ret,
            duration: time.saturating_sub(p.time),
            stack: p.stack,
        });
    }

    /// A tracee died or was detached with a syscall in flight: the held-back entry is shown
    /// when its status (unfinished or detached) is wanted.
    fn flush_pending(&mut self, pid: i32, bit: u8) {
        let Some(st) = self.pids.remove(&pid) else {
            return;
        };
        let Some(Pending {
            nr,
            time,
            entry: Some(entry),
            emitted: false,
            ..
        }) = st.pending
        else {
            return;
        };
        if self.filter.shows_status(bit) {
            self.queue.push(Event::SyscallEntry {
                pid,
                time,
                nr,
                name: syscall_name(nr),
                args: entry.args.iter().flatten().cloned().collect(),
                more: false,
                raw_args: entry.raw,
            });
        }
    }

    /// Fault injection for the test of what a bug in pgstrace does to tracees:
    /// `PGSTRACE_INJECT_PANIC_AT_SIGNAL=N` panics at the Nth signal-delivery-stop.
    fn maybe_inject_panic(&mut self) {
        if let Some(n) = self.inject_panic_at.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                panic!("injected panic (PGSTRACE_INJECT_PANIC_AT_SIGNAL)");
            }
        }
    }

    /// `-k`: unwinds and symbolizes the stacks copied while the tracee was stopped.
    fn resolve_stacks(&mut self) {
        let Some(bt) = &mut self.backtracer else {
            return;
        };
        for job in self.stack_jobs.drain(..) {
            match job {
                StackJob::Syscall { snap, name } => {
                    let frames = bt.resolve(&snap, Some(&name));
                    if let Some(p) = self
                        .pids
                        .get_mut(&snap.pid)
                        .and_then(|st| st.pending.as_mut())
                    {
                        p.stack = frames;
                    }
                }
                StackJob::Signal { snap, index } => {
                    let frames = bt.resolve(&snap, None);
                    if let Some(Event::Signal { stack, .. }) = self.queue.get_mut(index) {
                        *stack = frames;
                    }
                }
            }
        }
    }

    pub fn finish(&mut self) {
        self.after_resume();
        for s in &mut self.sinks {
            s.finish();
        }
    }
}

impl Handler for Session {
    fn on_stop(&mut self, stop: &Stop, mem: &ProcMem) {
        match *stop {
            Stop::Attached { pid, parent } => {
                self.pids.entry(pid).or_default();
                if let (Some(bt), Some(parent)) = (&mut self.backtracer, parent) {
                    bt.fork(parent, pid);
                }
                let time = now();
                self.queue.push(Event::Attached { pid, time });
                if let Some(pg) = &mut self.pg {
                    pg.attached(pid, !self.started, time, &mut self.queue);
                }
            }
            Stop::SyscallEntry {
                pid,
                nr,
                ref args,
                sp,
            } => self.entry(pid, nr, args, sp, mem),
            Stop::SyscallExit {
                pid,
                rval,
                is_error,
            } => self.exit(pid, rval, is_error, mem),
            Stop::Signal {
                pid,
                sig,
                ref siginfo,
            } => {
                self.maybe_inject_panic();
                if self.filter.shows_signal(sig) {
                    if let Some(bt) = &mut self.backtracer
                        && let Some(snap) = bt.capture(pid)
                    {
                        self.stack_jobs.push(StackJob::Signal {
                            snap,
                            index: self.queue.len(),
                        });
                    }
                    self.queue.push(Event::Signal {
                        pid,
                        time: now(),
                        sig,
                        info: signals::decode_siginfo(siginfo),
                        stack: Vec::new(),
                    });
                }
            }
            Stop::Grouped { pid, sig } => {
                if self.filter.shows_signal(sig) {
                    self.queue.push(Event::Stopped {
                        pid,
                        time: now(),
                        sig,
                    });
                }
            }
            Stop::Exec { pid, former } => {
                if let Some(bt) = &mut self.backtracer {
                    bt.forget(former);
                    bt.exec(pid);
                }
                if former != pid
                    && let Some(st) = self.pids.remove(&former)
                {
                    self.pids.insert(pid, st);
                }
                if let Some(pg) = &mut self.pg {
                    pg.exec(pid, former, now(), &mut self.queue);
                }
            }
            Stop::Exited { pid, code } => {
                if let Some(bt) = &mut self.backtracer {
                    bt.forget(pid);
                }
                self.flush_pending(pid, status::UNFINISHED);
                if let Some(pg) = &mut self.pg {
                    pg.gone(pid);
                }
                self.queue.push(Event::Exited {
                    pid,
                    time: now(),
                    code,
                });
            }
            Stop::Killed { pid, sig, core } => {
                if let Some(bt) = &mut self.backtracer {
                    bt.forget(pid);
                }
                self.flush_pending(pid, status::UNFINISHED);
                if let Some(pg) = &mut self.pg {
                    pg.gone(pid);
                }
                self.queue.push(Event::Killed {
                    pid,
                    time: now(),
                    sig,
                    core,
                });
            }
            Stop::Detached { pid } => {
                self.flush_pending(pid, status::DETACHED);
                if let Some(pg) = &mut self.pg {
                    pg.gone(pid);
                }
                self.queue.push(Event::Detached { pid, time: now() });
            }
        }
    }

    fn has_idle_work(&self) -> bool {
        self.unflushed
    }

    fn idle(&mut self) {
        self.unflushed = false;
        for s in &mut self.sinks {
            s.flush();
        }
    }

    fn after_resume(&mut self) {
        self.resolve_stacks();
        self.unflushed |= !self.queue.is_empty();
        for ev in self.queue.drain(..) {
            for s in &mut self.sinks {
                s.event(&ev);
            }
        }
        if OUTPUT_FAILED.load(std::sync::atomic::Ordering::Relaxed) && !self.output_failed {
            self.output_failed = true;
            eprintln!("pgstrace: cannot write the trace output; detaching");
            trace::request_detach();
        }
    }
}

/// One output written by two printers (`-C`).
#[derive(Clone)]
struct SharedOut(std::rc::Rc<std::cell::RefCell<Box<dyn Write>>>);

impl Write for SharedOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// A writer that remembers that a write failed (a closed pipe, a full disk), so that the
/// session can detach rather than trace on blind.
struct Watched<W: Write> {
    inner: W,
}

static OUTPUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|_| {
            OUTPUT_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|_| {
            OUTPUT_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    }
}

fn watched<W: Write + 'static>(w: W) -> Box<dyn Write> {
    Box::new(Watched { inner: w })
}

/// Opens the trace output: `-o FILE`, `-o -` for stdout, else stderr (line-buffered so an
/// interactive user sees each line as it happens).
fn open_output(path: Option<&std::path::Path>) -> Result<(Box<dyn Write>, bool)> {
    match path {
        Some(p) if p.as_os_str() == "-" => {
            Ok((watched(std::io::LineWriter::new(std::io::stdout())), false))
        }
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("cannot open output file {}", p.display()))?;
            Ok((
                watched(std::io::BufWriter::with_capacity(1 << 16, f)),
                false,
            ))
        }
        None => {
            let tty = std::io::stderr().is_terminal();
            Ok((watched(std::io::LineWriter::new(std::io::stderr())), tty))
        }
    }
}

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
    pub command: Vec<String>,
}

/// Runs the trace command.
pub fn run(args: TraceConfig) -> Result<i32> {
    let pids = args.pids.clone();
    if pids.is_empty() && args.command.is_empty() {
        bail!("must have PROG [ARGS] or -p PID (try 'pgstrace --help')");
    }
    if !pids.is_empty() && !args.command.is_empty() {
        bail!("-p PID and a command cannot be combined");
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
    let decode = DecodeOpts {
        string_limit: args.string_limit,
        decode_fds: args.decode_fds > 0,
        ..DecodeOpts::default()
    };

    let (out, tty) = open_output(args.output.as_deref())?;
    // -C prints the trace and then the table into the same output, as strace does.
    let shared = SharedOut(std::rc::Rc::new(std::cell::RefCell::new(out)));
    let out: Box<dyn Write> = Box::new(shared.clone());
    let colour = tty && std::env::var_os("NO_COLOR").is_none();
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let summary_opts = summary::SummaryOpts {
        histogram: args.histogram,
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
            };
            sinks.push(Box::new(TextPrinter::new(out, opts)));
        }
        if args.summary {
            sinks.push(Box::new(summary::Summary::new(
                Box::new(shared.clone()),
                summary_opts,
            )));
        }
    }
    let decoding = !args.summary_only;
    let mut session = Session::new(filter, decode, decoding, sinks);
    if args.stack > 0 {
        session.with_stacks(args.stack > 1);
    }
    // Notes only reach printed lines: under plain -c there are none.
    if !args.no_pg && decoding {
        session.annotate_pg();
    }
    let mut engine = Engine::new(args.follow > 0);
    if args.hold_stats {
        engine.measure_hold();
    }

    let launched = !args.command.is_empty();
    trace::install_detach_signals(launched);
    if launched {
        attach::launch(&mut engine, &args.command, &mut session)?;
    } else {
        attach::attach_all(&mut engine, &pids, &mut session)?;
        if args.quiet == 0 {
            for pid in &pids {
                eprintln!("pgstrace: Process {pid} attached");
            }
        }
    }
    let outcome = engine.run(&mut session);
    if outcome == Outcome::Failed {
        // The printers may be what failed: flush what they hold only if they still can.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.finish()));
        bail!("internal error (a bug in pgstrace, reported above); every tracee was detached");
    }
    session.finish();
    if args.hold_stats {
        eprintln!("pgstrace: {}", hold_summary(engine.hold_times()));
    }
    Ok(match outcome {
        Outcome::AllGone { launched_code } => launched_code.unwrap_or(0),
        Outcome::Detached => {
            if args.quiet == 0 {
                for pid in &pids {
                    eprintln!("pgstrace: Process {pid} detached");
                }
            }
            0
        }
        Outcome::Failed => 1,
    })
}
