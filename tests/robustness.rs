//! Robustness: bad targets and bad input give one clear error line and leave the target
//! alone; detaching on SIGINT/SIGTERM/SIGHUP lets the tracee carry on untouched; -f keeps up
//! with thousands of children; signals are never swallowed or duplicated; a tracee killed
//! mid-syscall is reported and the tracer exits cleanly.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::{Output, Proc, TIMEOUT, assert_no_panic, fixture, pgstrace_bin, proc_state};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(60);

/// Non-zero exit, exactly one non-empty stderr line, no panic.
fn assert_one_error(what: &str, out: &Output) {
    assert_no_panic(what, &out.stderr);
    assert!(
        !out.status.success(),
        "{what}: exited successfully; stderr:\n{}",
        out.stderr
    );
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: want one error line on stderr, got:\n{}",
        out.stderr
    );
}

fn pgstrace(args: &[&str]) -> Command {
    let mut c = Command::new(pgstrace_bin());
    // Never in the source tree: a misparsed `-o` must not drop files there.
    c.args(args).current_dir(std::env::temp_dir());
    c
}

/// Runs pgstrace with `args` and a short timeout (errors must come fast, not hang).
fn run_short(args: &[&str]) -> Output {
    Proc::spawn(pgstrace(args)).wait(SHORT)
}

/// A running sleeper fixture whose pid we know. Dropping it kills it.
struct Sleeper {
    proc: Proc,
    lines: fixtures::LineReader,
    pid: i32,
}

impl Sleeper {
    fn start() -> Sleeper {
        Sleeper::start_with(Command::new(fixture("sleeper")))
    }

    /// Starts `cmd` (the sleeper, possibly under a tracer) and reads the sleeper's pid line.
    fn start_with(cmd: Command) -> Sleeper {
        let (proc, lines) = Proc::spawn_lines(cmd);
        let first = lines.read_line(SHORT).unwrap_or_default();
        let pid = first
            .strip_prefix("pid ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("sleeper did not print its pid (got {first:?})"));
        Sleeper { proc, lines, pid }
    }

    /// Asserts the sleeper is not traced and not stopped.
    fn assert_untouched(&self, what: &str) {
        let ok = fixtures::wait_until(
            Duration::from_secs(10),
            || matches!(proc_state(self.pid), Some((s, 0)) if s == 'S' || s == 'R'),
        );
        assert!(
            ok,
            "{what}: target left traced or stopped: {:?}",
            proc_state(self.pid)
        );
    }

    /// Tells the sleeper to finish and checks it did so normally, without seeing EINTR.
    fn finish(mut self, what: &str) {
        self.proc.write_stdin(b"go\n");
        let rest = self.lines.rest(SHORT);
        let out = self.proc.wait(TIMEOUT);
        assert!(
            rest.iter().any(|l| l == "done eintr=0"),
            "{what}: sleeper did not finish cleanly: {rest:?} {}",
            out.stderr
        );
        assert!(
            out.status.success(),
            "{what}: sleeper exit {:?}",
            out.status
        );
    }
}

// --- bad targets -------------------------------------------------------------------------

#[test]
fn attach_to_missing_pid() {
    let pid_max: i32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(32768);
    let Some(pid) = (1000..pid_max)
        .rev()
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
    else {
        panic!("no free pid found");
    };
    let out = run_short(&["-p", &pid.to_string()]);
    assert_one_error("-p missing pid", &out);
}

#[test]
fn attach_to_kernel_thread() {
    let comm = std::fs::read_to_string("/proc/2/comm").unwrap_or_default();
    if comm.trim() != "kthreadd" {
        eprintln!("skipped: pid 2 is not kthreadd here ({comm:?})");
        return;
    }
    let out = run_short(&["-p", "2"]);
    assert_one_error("-p 2 (kthreadd)", &out);
    assert_eq!(proc_state(2).map(|s| s.1), Some(0), "kthreadd left traced");
}

#[test]
fn attach_to_itself() {
    // `exec` keeps the shell's pid, so $$ is pgstrace's own pid.
    let bin = pgstrace_bin();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "exec \"$0\" -p $$"]).arg(&bin);
    let out = Proc::spawn(cmd).wait(SHORT);
    assert_one_error("-p <own pid>", &out);
}

#[test]
fn attach_to_already_traced_process() {
    let strace = fixtures::strace_bin();
    let mut cmd = Command::new(&strace);
    cmd.args(["-o", "/dev/null"]).arg(fixture("sleeper"));
    let sleeper = Sleeper::start_with(cmd);
    let tracer = sleeper.proc.pid;
    assert!(
        fixtures::wait_until(SHORT, || proc_state(sleeper.pid).map(|s| s.1)
            == Some(tracer)),
        "strace did not attach: {:?}",
        proc_state(sleeper.pid)
    );
    let out = run_short(&["-p", &sleeper.pid.to_string()]);
    assert_one_error("-p <traced by strace>", &out);
    assert!(
        out.stderr.contains(&tracer.to_string()),
        "the error should name the tracer's pid {tracer}: {}",
        out.stderr
    );
    assert_eq!(
        proc_state(sleeper.pid).map(|s| s.1),
        Some(tracer),
        "the existing tracer lost its tracee"
    );
    sleeper.finish("already traced");
}

// --- bad input ---------------------------------------------------------------------------

/// Each bad argument list must fail with one line and never run the command.
fn rejects(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let marker = dir.path().join("ran");
    let marker_s = marker.to_string_lossy().into_owned();
    let mut full: Vec<&str> = args.to_vec();
    full.extend(["touch", marker_s.as_str()]);
    let out = run_short(&full);
    assert_one_error(&format!("pgstrace {}", args.join(" ")), &out);
    assert!(
        !marker.exists(),
        "pgstrace {}: ran the command despite the error",
        args.join(" ")
    );
}

#[test]
fn bad_flags() {
    rejects(&["--no-such-flag"]);
    rejects(&["-s", "abc"]);
    rejects(&["-a", "-3"]);
    rejects(&["-p", "notapid"]);
}

#[test]
fn no_command_and_no_pid() {
    let out = run_short(&[]);
    assert_one_error("no arguments", &out);
    let out = run_short(&["-f", "-y"]);
    assert_one_error("flags only", &out);
    let out = run_short(&["-o"]);
    assert_one_error("-o without a file", &out);
}

#[test]
fn malformed_expressions() {
    rejects(&["-e", "trace=nosuchsyscall"]);
    rejects(&["-e", "trace=%nosuchclass"]);
    rejects(&["-e", "trace=open,nosuch"]);
    rejects(&["-e", "trace=/["]);
    rejects(&["-e", "status=bogus"]);
    rejects(&["-e", "signal=SIGNOPE"]);
    rejects(&["-e", "bogus=1"]);
}

#[test]
fn malformed_expression_with_pid_leaves_target_alone() {
    let sleeper = Sleeper::start();
    let pid = sleeper.pid.to_string();
    let out = run_short(&["-e", "trace=nosuchsyscall", "-p", &pid]);
    assert_one_error("bad -e with -p", &out);
    sleeper.assert_untouched("bad -e with -p");
    sleeper.finish("bad -e with -p");
}

// --- detach on signals ---------------------------------------------------------------------

fn trace_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn detach_on(sig: i32, name: &str) {
    let sleeper = Sleeper::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let trace = dir.path().join("trace");
    let trace_s = trace.to_string_lossy().into_owned();
    let pid = sleeper.pid.to_string();
    let tracer = Proc::spawn(pgstrace(&["-o", &trace_s, "-p", &pid]));
    let attached = fixtures::wait_until(SHORT, || {
        proc_state(sleeper.pid).map(|s| s.1) == Some(tracer.pid)
    });
    // Let it trace a few of the sleeper's calls (not checked: the file may be buffered).
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        attached,
        "{name}: pgstrace did not attach and trace: {:?}\n{}",
        proc_state(sleeper.pid),
        std::fs::read_to_string(&trace).unwrap_or_default()
    );
    tracer.signal(sig);
    let out = tracer.wait(SHORT);
    assert_no_panic(name, &out.stderr);
    // As strace's caller sees it after strace re-raised the signal: 128 + it.
    assert_eq!(
        out.status.code(),
        Some(128 + sig),
        "{name}: exit status: {}",
        out.stderr
    );
    // Every syscall line is complete: a call in flight at the detach ends `<detached ...>`.
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    for line in text.lines() {
        let complete = line.contains(" = ")
            || line.ends_with("<detached ...>")
            || line.starts_with("---")
            || line.starts_with("+++");
        assert!(complete, "{name}: incomplete line {line:?} in:\n{text}");
    }
    sleeper.assert_untouched(name);
    sleeper.finish(name);
}

/// Without CAP_SYS_PTRACE another user's process cannot be traced: one line that says so,
/// and the target is untouched.
#[test]
fn attach_without_permission() {
    let sleeper = Sleeper::start();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(pgstrace_bin())
        .args(["-p", &sleeper.pid.to_string()]);
    let out = Proc::spawn(cmd).wait(SHORT);
    assert_one_error("-p as nobody", &out);
    assert!(
        out.stderr.contains("CAP_SYS_PTRACE"),
        "the error does not name the capability: {}",
        out.stderr
    );
    sleeper.assert_untouched("-p as nobody");
    sleeper.finish("-p as nobody");
}

/// Like strace, pgstrace writes each line to -o as it goes, so `tail -f` shows a live trace:
/// a slow tracee's calls must reach the file while it still runs.
#[test]
fn output_file_is_written_as_it_goes() {
    let sleeper = Sleeper::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let trace = dir.path().join("trace");
    let trace_s = trace.to_string_lossy().into_owned();
    let pid = sleeper.pid.to_string();
    let tracer = Proc::spawn(pgstrace(&["-o", &trace_s, "-p", &pid]));
    // The sleeper makes about 30 calls a second; 30 s is far more than any flush interval.
    let live = fixtures::wait_until(Duration::from_secs(30), || trace_lines(&trace) >= 3);
    assert!(
        live,
        "-o file still has {} lines after 30 s of tracing",
        trace_lines(&trace)
    );
    tracer.signal(libc::SIGINT);
    let out = tracer.wait(SHORT);
    assert_no_panic("live -o", &out.stderr);
    sleeper.finish("live -o");
}

/// A tracee held by `delay_enter=` when SIGINT comes: pgstrace detaches it from its stop at
/// once (not after the delay) and it carries on untouched.
#[test]
fn sigint_while_a_delay_holds_the_tracee() {
    let sleeper = Sleeper::start();
    let pid = sleeper.pid.to_string();
    let tracer = Proc::spawn(pgstrace(&[
        "-e",
        "inject=poll:delay_enter=30s",
        "-o",
        "/dev/null",
        "-p",
        &pid,
    ]));
    // Held in poll's entry stop: its state is `t`.
    let held = fixtures::wait_until(Duration::from_secs(10), || {
        matches!(proc_state(sleeper.pid), Some(('t', _)))
    });
    assert!(held, "never held: {:?}", proc_state(sleeper.pid));
    let t0 = std::time::Instant::now();
    tracer.signal(libc::SIGINT);
    let out = tracer.wait(SHORT);
    assert_no_panic("delay + SIGINT", &out.stderr);
    assert_eq!(
        out.status.code(),
        Some(128 + libc::SIGINT),
        "{:?} {}",
        out.status,
        out.stderr
    );
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    sleeper.assert_untouched("delay + SIGINT");
    sleeper.finish("delay + SIGINT");
}

#[test]
fn detach_on_sigint() {
    detach_on(libc::SIGINT, "SIGINT");
}

#[test]
fn detach_on_sigterm() {
    detach_on(libc::SIGTERM, "SIGTERM");
}

#[test]
fn detach_on_sighup() {
    detach_on(libc::SIGHUP, "SIGHUP");
}

// --- stress and signals ------------------------------------------------------------------

/// Runs a fixture under pgstrace with `flags` and `-o`, returning (output, trace).
fn traced(flags: &[&str], fixture_name: &str, args: &[&str]) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let trace = dir.path().join("trace");
    let mut cmd = Command::new(pgstrace_bin());
    cmd.args(flags)
        .arg("-o")
        .arg(&trace)
        .arg(fixture(fixture_name))
        .args(args)
        .current_dir(dir.path());
    let out = Proc::spawn(cmd).wait(TIMEOUT);
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    assert_no_panic(fixture_name, &out.stderr);
    (out, text)
}

#[test]
fn fork_storm_every_child_traced() {
    let n = 2000;
    let (out, text) = traced(&["-f"], "forkstorm", &[&n.to_string()]);
    assert!(
        out.status.success(),
        "forkstorm under -f failed: {:?}\n{}\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert_eq!(
        out.stdout.trim(),
        format!("forkstorm children={n} bad=0"),
        "the fixture saw a bad child"
    );
    let exits = text
        .lines()
        .filter(|l| l.ends_with("+++ exited with 0 +++"))
        .count();
    assert_eq!(
        exits,
        n + 1,
        "want an exit line for every child and the parent"
    );
}

#[test]
fn exit_status_passes_through() {
    let mut cmd = Command::new(pgstrace_bin());
    cmd.args(["-f", "-o", "/dev/null", "sh", "-c", "exit 42"]);
    let out = fixtures::run(cmd);
    assert_no_panic("exit 42", &out.stderr);
    assert_eq!(
        out.status.code(),
        Some(42),
        "exit status not passed through"
    );
}

fn signal_storm(flags: &[&str]) {
    let (out, _) = traced(flags, "sigstorm", &["300"]);
    assert!(
        out.status.success() && out.stdout.contains("exactly-once"),
        "signals lost or duplicated under pgstrace {}: {:?}\n{}{}",
        flags.join(" "),
        out.status,
        out.stdout,
        out.stderr
    );
}

#[test]
fn signal_storm_exactly_once() {
    signal_storm(&[]);
}

#[test]
fn signal_storm_exactly_once_signal_none() {
    signal_storm(&["-e", "signal=none"]);
}

#[test]
fn signal_storm_exactly_once_trace_none() {
    signal_storm(&["-e", "trace=none"]);
}

#[test]
fn signal_storm_exactly_once_follow() {
    signal_storm(&["-f", "-y"]);
}

#[test]
fn child_killed_mid_syscall() {
    let (out, text) = traced(&["-f"], "killed", &[]);
    assert!(
        out.status.success(),
        "killed fixture failed: {:?} {}",
        out.status,
        out.stdout
    );
    assert_eq!(out.stdout.trim(), "killed child by SIGKILL");
    assert!(
        text.lines()
            .any(|l| l.ends_with("+++ killed by SIGKILL +++")),
        "no '+++ killed by SIGKILL +++' in:\n{text}"
    );
}

#[test]
fn tracee_killed_mid_syscall() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let trace = dir.path().join("trace");
    let mut cmd = Command::new(pgstrace_bin());
    cmd.arg("-o").arg(&trace).arg(fixture("sleeper"));
    let sleeper = Sleeper::start_with(cmd);
    // Let it settle into its poll/nanosleep loop, then kill it mid-syscall.
    let tracer = sleeper.proc.pid;
    let traced = fixtures::wait_until(SHORT, || {
        proc_state(sleeper.pid).map(|s| s.1) == Some(tracer)
    });
    assert!(traced, "the sleeper is not traced by pgstrace");
    // Let it settle into its poll/nanosleep loop.
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(sleeper.pid, libc::SIGKILL);
    }
    let out = sleeper.proc.wait(SHORT);
    assert_no_panic("tracee SIGKILLed", &out.stderr);
    use std::os::unix::process::ExitStatusExt;
    assert!(
        out.status.code() == Some(128 + libc::SIGKILL)
            || out.status.signal() == Some(libc::SIGKILL),
        "pgstrace should report the tracee's death by SIGKILL in its exit: {:?}",
        out.status
    );
    let text = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(
        text.lines()
            .any(|l| l.ends_with("+++ killed by SIGKILL +++")),
        "no '+++ killed by SIGKILL +++' in:\n{text}"
    );
}

/// A bug in pgstrace (a panic, injected here at the 50th signal) must not cost the tracee
/// a signal nor leave it stopped: the tracee is detached with its pending signal handed back
/// and finishes on its own, every signal delivered exactly once; pgstrace says what happened
/// in one line and exits non-zero.
#[test]
fn a_panic_in_pgstrace_releases_the_tracee_with_its_signal() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let result = dir.path().join("result");
    // The tracee outlives pgstrace: it reports into a file, in a session of its own so the
    // harness's clean-up of pgstrace's process group does not kill it.
    let script = format!(
        "exec setsid {} 300 > {}",
        fixture("sigstorm").display(),
        result.display()
    );
    let mut cmd = Command::new(pgstrace_bin());
    cmd.env("PGSTRACE_INJECT_PANIC_AT_SIGNAL", "50")
        .arg("-o")
        .arg(dir.path().join("trace"))
        .args(["sh", "-c", &script])
        .current_dir(dir.path());
    let out = Proc::spawn(cmd).wait(TIMEOUT);
    assert!(
        !out.status.success(),
        "pgstrace did not fail: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("internal error") && out.stderr.contains("detached"),
        "{}",
        out.stderr
    );
    let done = fixtures::wait_until(Duration::from_secs(60), || {
        std::fs::read_to_string(&result).is_ok_and(|r| r.ends_with('\n'))
    });
    let report = std::fs::read_to_string(&result).unwrap_or_default();
    assert!(
        done && report.contains("exactly-once"),
        "the tracee lost or doubled a signal after the panic: {report:?}\n{}",
        out.stderr
    );
}

// --- defects found under load and faults (architecture issue) ---------------------------

/// Runs `script` with bash (`$PGSTRACE` and `$FIXTURE` set) and returns its output.
fn bash(script: &str, fixture_name: &str) -> Output {
    let mut c = Command::new("bash");
    c.args(["-c", script])
        .env("PGSTRACE", pgstrace_bin())
        .env("FIXTURE", fixture(fixture_name))
        .current_dir(std::env::temp_dir());
    Proc::spawn(c).wait(TIMEOUT)
}

/// A reader that starts late (`| (sleep 2; wc -l)`) gets every line, as strace's does: an
/// interrupted write is retried, not taken for a failed output.
#[test]
fn a_slow_reader_on_a_pipe_gets_every_line() {
    let out = bash(
        r#"set -o pipefail
        "$PGSTRACE" -o - "$FIXTURE" calls 20000 2>err | (sleep 2; wc -l)
        echo "status $?"; cat err"#,
        "churn",
    );
    let mut lines = out.stdout.lines();
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no line count: {}", out.stdout));
    // 20000 getppid lines, plus the loader's calls and the exit line.
    assert!(
        count > 20000,
        "only {count} lines reached the reader: {}",
        out.stdout
    );
    assert_eq!(lines.next(), Some("status 0"), "{}", out.stdout);
    assert!(!out.stdout.contains("cannot write"), "{}", out.stdout);
}

/// `pgstrace -f -p PID 2>&1 | head -5`: the pipe closes under the trace and under the
/// message about it. pgstrace must not panic (it used to exit 101 with "failed printing to
/// stderr"), must exit non-zero, and must leave the target untraced and running.
#[test]
fn a_closed_pipe_ends_the_trace_without_a_panic() {
    let sleeper = Sleeper::start_with(Command::new(fixture("sleeper")));
    let script = format!(
        r#""$PGSTRACE" -f -p {} 2>&1 | head -2 >/dev/null; echo "status ${{PIPESTATUS[0]}}""#,
        sleeper.pid
    );
    let out = bash(&script, "sleeper");
    let status = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("status "))
        .unwrap_or_else(|| panic!("no status: {} {}", out.stdout, out.stderr));
    assert_eq!(
        status, "1",
        "want a plain failure (101 is a panic): {}",
        out.stderr
    );
    assert_no_panic("| head", &out.stderr);
    sleeper.assert_untouched("| head");
    sleeper.finish("| head");
}

/// `-f -p PID` on a process whose threads come and go: every attach succeeds (a thread that
/// ends while we attach is skipped, new ones are found by listing again), and the process is
/// untraced after each detach.
#[test]
fn attach_follows_threads_that_come_and_go() {
    let (mut churn, lines) = Proc::spawn_lines({
        let mut c = Command::new(fixture("churn"));
        c.args(["threads", "60"]);
        c
    });
    let pid: i32 = lines
        .read_line(SHORT)
        .and_then(|l| l.strip_prefix("pid ").and_then(|p| p.trim().parse().ok()))
        .unwrap_or_else(|| panic!("churn did not print its pid"));
    let pid_s = pid.to_string();
    for round in 0..25 {
        let tracer = Proc::spawn(pgstrace(&["-f", "-o", "/dev/null", "-p", &pid_s]));
        let traced =
            fixtures::wait_until(SHORT, || proc_state(pid).map(|s| s.1) == Some(tracer.pid));
        std::thread::sleep(Duration::from_millis(50));
        tracer.signal(libc::SIGINT);
        let out = tracer.wait(SHORT);
        assert!(
            traced && out.status.code() == Some(128 + libc::SIGINT),
            "round {round}: {:?} {}",
            out.status,
            out.stderr
        );
        assert_no_panic("thread churn", &out.stderr);
        assert!(
            fixtures::wait_until(SHORT, || proc_state(pid).is_some_and(|s| s.1 == 0)),
            "round {round}: left traced: {:?}",
            proc_state(pid)
        );
    }
    assert!(churn.try_wait().is_none(), "churn died under the attaches");
}

/// A zombie has nothing to trace: the error says so rather than "permission denied".
#[test]
fn attach_to_a_zombie_says_so() {
    // SAFETY: the child only calls _exit.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork");
    if child == 0 {
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(0) };
    }
    assert!(
        fixtures::wait_until(SHORT, || proc_state(child).is_some_and(|s| s.0 == 'Z')),
        "the child did not become a zombie"
    );
    let out = run_short(&["-p", &child.to_string()]);
    let mut status = 0;
    // SAFETY: reaps our own child.
    unsafe { libc::waitpid(child, &mut status, 0) };
    assert_one_error("-p zombie", &out);
    assert!(out.stderr.contains("is a zombie"), "{}", out.stderr);
    assert!(!out.stderr.contains("permission denied"), "{}", out.stderr);
}

/// A SIGINT in the first milliseconds after pgstrace starts never kills it by the default
/// action: the handlers are installed first thing in main, before the target is touched,
/// and from then on a SIGINT means a clean detach. (Before main, in the dynamic loader,
/// nothing can catch it.) The test waits for the handler to show in /proc/PID/status
/// (SigCgt) and sends SIGINT at once: whether pgstrace has seized the target by then or not,
/// it must exit cleanly and leave the target untouched.
#[test]
fn an_early_sigint_detaches_cleanly() {
    use std::os::unix::process::ExitStatusExt;
    let sleeper = Sleeper::start();
    let pid = sleeper.pid.to_string();
    let caught = |p: i32| {
        std::fs::read_to_string(format!("/proc/{p}/status"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("SigCgt:"))
                    .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            })
            .is_some_and(|m| m & (1 << (libc::SIGINT - 1)) != 0)
    };
    for round in 0..10 {
        let tracer = Proc::spawn(pgstrace(&["-o", "/dev/null", "-p", &pid]));
        let deadline = std::time::Instant::now() + SHORT;
        while !caught(tracer.pid) && std::time::Instant::now() < deadline {
            std::hint::spin_loop();
        }
        tracer.signal(libc::SIGINT);
        let out = tracer.wait(SHORT);
        assert_eq!(
            out.status.signal(),
            None,
            "round {round}: killed by a signal: {}",
            out.stderr
        );
        assert_no_panic("early SIGINT", &out.stderr);
        sleeper.assert_untouched("early SIGINT");
    }
    sleeper.finish("early SIGINT");
}

/// `-o /dev/full`: the trace cannot be written; strace's words for it, a non-zero exit, and
/// the traced program runs as it would (its own output intact), small trace or large.
#[test]
fn a_full_output_file_is_an_error_in_straces_words() {
    for args in [
        &["echo", "hi"][..],
        &["sh", "-c", "for i in $(seq 300); do echo $i; done"],
    ] {
        let out = std::process::Command::new(fixtures::pgstrace_bin())
            .args(["-o", "/dev/full"])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("pgstrace: /dev/full: No space left on device"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with(if args[0] == "echo" { "hi" } else { "1\n2\n" }),
            "{stdout}"
        );
    }
}

/// `--help` names every subcommand, and each answers its own `--help`.
#[test]
fn help_lists_the_subcommands() {
    let out = std::process::Command::new(fixtures::pgstrace_bin())
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for sub in ["ps", "explain-shm", "postmortem", "probe"] {
        assert!(text.contains(&format!("\n  {sub} ")), "{sub}: {text}");
        let o = std::process::Command::new(fixtures::pgstrace_bin())
            .args([sub, "--help"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.status.success(), "{sub} --help");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(&format!("pgstrace {sub}")),
            "{sub}"
        );
    }
}

/// `-A -o FILE` appends: two runs leave both traces.
#[test]
fn append_mode_keeps_the_earlier_trace() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("t");
    for _ in 0..2 {
        let st = std::process::Command::new(fixtures::pgstrace_bin())
            .args(["-A", "-e", "trace=exit_group", "-o"])
            .arg(&out)
            .arg("true")
            .status()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(st.success());
    }
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(text.matches("exit_group(0)").count(), 2, "{text}");
}
