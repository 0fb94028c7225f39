//! Shared test helpers: build the C fixtures in fixtures/, run commands with a timeout and
//! a kill-on-drop guard, run one command under strace and under pgstrace with the same
//! flags, and normalise the two traces so they can be compared line by line.
//!
//! `PGSTRACE_BIN=/usr/bin/strace cargo test --test strace_compat` checks the harness itself:
//! strace against strace must always pass.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// Generous: only a hung tracer should ever reach it, on a loaded 2-core machine.
pub const TIMEOUT: Duration = Duration::from_secs(240);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pgstrace binary under test; `PGSTRACE_BIN` overrides it (to self-test the harness).
pub fn pgstrace_bin() -> PathBuf {
    match std::env::var_os("PGSTRACE_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_pgstrace")),
    }
}

/// strace, the oracle.
pub fn strace_bin() -> PathBuf {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join("strace");
        if p.exists() {
            return p;
        }
    }
    panic!("strace is not installed: run `bash .ci/setup` first");
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Builds fixtures/NAME.c with gcc (once per test binary run; reused across runs while the
/// binary is newer than its sources) and returns the executable's path. Builds go to a
/// temporary name and are renamed into place, so parallel test binaries never see a
/// half-written executable.
pub fn fixture(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(name) {
        return p.clone();
    }
    let src_dir = repo_root().join("fixtures");
    let src = src_dir.join(format!("{name}.c"));
    let header = src_dir.join("fx.h");
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixtures");
    let out = out_dir.join(name);
    let newest_src = [mtime(&src), mtime(&header)].into_iter().flatten().max();
    assert!(newest_src.is_some(), "no fixture source {}", src.display());
    let fresh = matches!((mtime(&out), newest_src), (Some(b), Some(s)) if b >= s);
    if !fresh {
        std::fs::create_dir_all(&out_dir)
            .unwrap_or_else(|e| panic!("create {}: {e}", out_dir.display()));
        let tmp = out_dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let res = Command::new("gcc")
            .args(["-O2", "-g", "-Wall", "-Wextra", "-pthread", "-o"])
            .arg(&tmp)
            .arg(&src)
            .output()
            .unwrap_or_else(|e| panic!("gcc not runnable ({e}): run `bash .ci/setup` first"));
        if !res.status.success() {
            let _ = std::fs::remove_file(&tmp);
            panic!(
                "gcc failed on {}:\n{}",
                src.display(),
                String::from_utf8_lossy(&res.stderr)
            );
        }
        std::fs::rename(&tmp, &out).unwrap_or_else(|e| panic!("rename fixture: {e}"));
    }
    built.insert(name.to_string(), out.clone());
    out
}

/// A spawned process in its own process group. Dropping it SIGKILLs the whole group (the
/// tracer and every tracee) and reaps the leader, so a failing test leaves nothing behind.
pub struct Proc {
    child: Option<Child>,
    pub pid: i32,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    stdin: Option<ChildStdin>,
}

/// What a finished process left: exit status and its captured output.
#[derive(Debug)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

fn reader<R: Read + Send + 'static>(r: Option<R>) -> Option<JoinHandle<Vec<u8>>> {
    r.map(|mut r| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    })
}

impl Proc {
    /// Spawns `cmd` with piped stdin/stdout/stderr in a new process group.
    pub fn spawn(mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
        let pid = i32::try_from(child.id()).unwrap_or(-1);
        let stdout = reader(child.stdout.take());
        let stderr = reader(child.stderr.take());
        let stdin = child.stdin.take();
        Proc {
            child: Some(child),
            pid,
            stdout,
            stderr,
            stdin,
        }
    }

    /// Spawns with stdout read line by line by the caller (see [`Proc::read_line`]).
    pub fn spawn_lines(mut cmd: Command) -> (Proc, LineReader) {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
        let pid = i32::try_from(child.id()).unwrap_or(-1);
        let lines = LineReader::new(child.stdout.take());
        let stderr = reader(child.stderr.take());
        let stdin = child.stdin.take();
        (
            Proc {
                child: Some(child),
                pid,
                stdout: None,
                stderr,
                stdin,
            },
            lines,
        )
    }

    pub fn write_stdin(&mut self, data: &[u8]) {
        if let Some(s) = self.stdin.as_mut() {
            let _ = s.write_all(data);
            let _ = s.flush();
        }
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Sends `sig` to the process (not its group).
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(self.pid, sig);
        }
    }

    /// Has it exited (without reaping)?
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits up to `timeout`; on timeout kills the group and panics with what it printed.
    pub fn wait(mut self, timeout: Duration) -> Output {
        let deadline = Instant::now() + timeout;
        self.stdin = None;
        let status = loop {
            if exited_unreaped(self.pid) {
                // Anything the leader left behind in its group (a tracee of a dead tracer)
                // goes too; the group id cannot be reused while the leader is a zombie.
                kill_group(self.pid);
                if let Some(st) = self.child.as_mut().and_then(|c| c.wait().ok()) {
                    break st;
                }
            }
            if Instant::now() > deadline {
                self.kill_group();
                let out = self.collect_output();
                panic!(
                    "timed out after {timeout:?}; killed.\nstdout:\n{}\nstderr:\n{}",
                    out.0, out.1
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.child = None;
        let (stdout, stderr) = self.collect_output();
        Output {
            status,
            stdout,
            stderr,
        }
    }

    fn collect_output(&mut self) -> (String, String) {
        let join = |h: Option<JoinHandle<Vec<u8>>>| {
            h.and_then(|h| h.join().ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        };
        (join(self.stdout.take()), join(self.stderr.take()))
    }

    fn kill_group(&mut self) {
        kill_group(self.pid);
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Has `pid` (our child) exited? Leaves it a zombie, so its pid stays reserved.
fn exited_unreaped(pid: i32) -> bool {
    let Ok(id) = libc::id_t::try_from(pid) else {
        return true;
    };
    // SAFETY: siginfo_t is plain data; waitid writes into it and nothing else.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a siginfo_t that lives across the call.
    let r = unsafe {
        libc::waitid(
            libc::P_PID,
            id,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: waitid filled (or zeroed) the struct; si_pid is valid for child events.
    r == 0 && unsafe { info.si_pid() } != 0
}

fn kill_group(pgid: i32) {
    if pgid > 1 {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill_group();
        }
    }
}

/// Reads a child's stdout line by line on a thread, with timeouts.
pub struct LineReader {
    rx: std::sync::mpsc::Receiver<String>,
}

impl LineReader {
    fn new<R: Read + Send + 'static>(r: Option<R>) -> LineReader {
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(r) = r {
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(r).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        LineReader { rx }
    }

    /// The next line, or None on EOF or timeout.
    pub fn read_line(&self, timeout: Duration) -> Option<String> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// Everything still to come until EOF (or the timeout).
    pub fn rest(&self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut v = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(l) => v.push(l),
                Err(_) => break,
            }
        }
        v
    }
}

/// Runs `cmd` to completion (stdin closed) with [`TIMEOUT`].
pub fn run(cmd: Command) -> Output {
    Proc::spawn(cmd).wait(TIMEOUT)
}

/// `State` letter and `TracerPid` from /proc/PID/status, or None if the process is gone.
pub fn proc_state(pid: i32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut state = None;
    let mut tracer = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("State:") {
            state = v.trim().chars().next();
        } else if let Some(v) = line.strip_prefix("TracerPid:") {
            tracer = v.trim().parse().ok();
        }
    }
    Some((state?, tracer?))
}

/// Polls `cond` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Which tracer a run used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tracer {
    Strace,
    Pgstrace,
}

impl Tracer {
    pub fn bin(self) -> PathBuf {
        match self {
            Tracer::Strace => strace_bin(),
            Tracer::Pgstrace => pgstrace_bin(),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Tracer::Strace => "strace",
            Tracer::Pgstrace => "pgstrace",
        }
    }
}

/// One traced run: the tracer's exit, its stdout/stderr (the fixture's stdout passes
/// through) and the trace file written with -o (empty when -o was not used).
#[derive(Debug)]
pub struct TraceRun {
    pub tracer: Tracer,
    pub out: Output,
    pub trace: String,
}

/// The same fixture under strace and pgstrace.
#[derive(Debug)]
pub struct Pair {
    pub strace: TraceRun,
    pub pgstrace: TraceRun,
}

/// How to run a fixture under both tracers.
pub struct Case<'a> {
    pub fixture: &'a str,
    /// Tracer flags, before the command. `-o FILE` is added unless `to_stderr`.
    pub flags: &'a [&'a str],
    /// Fixture arguments; `{dir}` becomes the (fresh, empty) working directory.
    pub args: &'a [&'a str],
    pub to_stderr: bool,
    /// Wraps the tracer command, e.g. `unshare -m ...`; `{dir}` is replaced here too.
    pub wrapper: &'a [&'a str],
}

impl<'a> Case<'a> {
    pub fn new(fixture: &'a str, flags: &'a [&'a str], args: &'a [&'a str]) -> Case<'a> {
        Case {
            fixture,
            flags,
            args,
            to_stderr: false,
            wrapper: &[],
        }
    }

    /// Runs the fixture under one tracer. Both runs of a pair use the same working directory
    /// path (emptied in between), so paths in the traces are identical.
    pub fn run_one(&self, tracer: Tracer, work: &Path, out_dir: &Path) -> TraceRun {
        let dir = work.join("run");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let dir_s = dir.to_string_lossy().into_owned();
        let subst = |s: &str| s.replace("{dir}", &dir_s);
        let out_file = out_dir.join(format!("{}.trace", tracer.name()));
        let mut argv: Vec<OsString> = self.wrapper.iter().map(|s| subst(s).into()).collect();
        argv.push(tracer.bin().into());
        argv.extend(self.flags.iter().map(|s| OsString::from(subst(s))));
        if !self.to_stderr {
            argv.push("-o".into());
            argv.push(out_file.clone().into());
        }
        argv.push(fixture(self.fixture).into());
        argv.extend(self.args.iter().map(|s| OsString::from(subst(s))));
        let mut cmd = Command::new(&argv[0]);
        // cargo sets LD_LIBRARY_PATH for tests; without it the loader's part of the trace is
        // what a user sees.
        cmd.args(&argv[1..])
            .current_dir(&dir)
            .env_remove("LD_LIBRARY_PATH");
        let out = run(cmd);
        let trace = if self.to_stderr {
            String::new()
        } else {
            std::fs::read_to_string(&out_file).unwrap_or_default()
        };
        TraceRun { tracer, out, trace }
    }

    /// Runs strace, then pgstrace.
    pub fn run_both(&self) -> Pair {
        let work = tempfile::Builder::new()
            .prefix("pgstrace-compat-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        let outs = tempfile::Builder::new()
            .prefix("pgstrace-out-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        let strace = self.run_one(Tracer::Strace, work.path(), outs.path());
        let pgstrace = self.run_one(Tracer::Pgstrace, work.path(), outs.path());
        Pair { strace, pgstrace }
    }
}

// ---------------------------------------------------------------------------------------
// Normalisation

/// Syscalls whose return value is a pid or tid.
const PID_RETURNING: &[&str] = &[
    "getpid",
    "gettid",
    "getppid",
    "getpgid",
    "getsid",
    "set_tid_address",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "wait4",
    "waitid",
];

/// Syscalls whose arguments include pids (every argument equal to a known pid is replaced).
const PID_ARGUMENTS: &[&str] = &[
    "ptrace",
    "migrate_pages",
    "move_pages",
    "kill",
    "tkill",
    "tgkill",
    "wait4",
    "waitid",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "getpgid",
    "setpgid",
    "getsid",
    "prlimit64",
    "pidfd_open",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_setscheduler",
    "get_robust_list",
    "kcmp",
];

/// `key=NUMBER` fields whose number differs from run to run: times, and clone3's
/// `parent_tid`, which the new thread may already have cleared when the tracer reads it.
const TIME_KEYS: &[&str] = &[
    "parent_tid=[",
    "tv_sec=",
    "tv_nsec=",
    "tv_usec=",
    "si_utime=",
    "si_stime=",
    "ru_utime=",
    "ru_stime=",
    "msg_stime=",
    "msg_rtime=",
    "msg_ctime=",
    "msg_lspid=",
    "msg_lrpid=",
];

/// Real pids are at least this large: the kernel hands out pids below 300 only at boot, so
/// smaller numbers are never mistaken for pids.
const MIN_PID: i64 = 300;

/// A trace line split into its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// `[pid N]` or `N` at the start (-f); the pid.
    pub pid: Option<i64>,
    /// Whether the prefix was the `[pid N]` form (stderr) rather than the `N ` form (-o).
    pub bracket: bool,
    /// A -t/-tt/-ttt/-r timestamp was present (masked as `TS`).
    pub timestamp: bool,
    /// Everything after the prefix and timestamp.
    pub body: String,
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Splits off the pid prefix and the timestamp. Pure, never panics.
pub fn split_line(line: &str) -> Line {
    let mut rest = line;
    let mut pid = None;
    let mut bracket = false;
    if let Some(r) = rest.strip_prefix("[pid ") {
        let r2 = r.trim_start();
        let digits = r2.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && r2[digits..].starts_with("] ") {
            pid = r2[..digits].parse().ok();
            bracket = true;
            rest = &r2[digits + 2..];
        }
    } else {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(' ') {
            pid = rest[..digits].parse().ok();
            rest = rest[digits..].trim_start_matches(' ');
        }
    }
    let (timestamp, body) = strip_timestamp(rest);
    Line {
        pid,
        bracket,
        timestamp,
        body: body.to_string(),
    }
}

/// Strips `HH:MM:SS[.ffffff] `, `SECS.ffffff ` (-ttt) or `   SECS.ffffff ` (-r).
fn strip_timestamp(s: &str) -> (bool, &str) {
    let t = s.trim_start_matches(' ');
    let b = t.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    // HH:MM:SS
    if d(0) && d(1) && b.get(2) == Some(&b':') && d(3) && d(4) && b.get(5) == Some(&b':') {
        let mut i = 8;
        if b.get(i) == Some(&b'.') {
            i += 1;
            while d(i) {
                i += 1;
            }
        }
        if b.get(i) == Some(&b' ') {
            return (true, &t[i + 1..]);
        }
    }
    // SECS.FRAC
    let mut i = 0;
    while d(i) {
        i += 1;
    }
    if i > 0 && b.get(i) == Some(&b'.') {
        let mut j = i + 1;
        while d(j) {
            j += 1;
        }
        if j > i + 1 && b.get(j) == Some(&b' ') {
            return (true, &t[j + 1..]);
        }
    }
    (false, s)
}

/// The syscall name of a body: `name(` or `<... name resumed>`.
pub fn syscall_name(body: &str) -> Option<&str> {
    if let Some(r) = body.strip_prefix("<... ") {
        return r.split(' ').next();
    }
    let end = body.find('(')?;
    let name = &body[..end];
    if !name.is_empty() && name.bytes().all(is_word) {
        Some(name)
    } else {
        None
    }
}

/// The integer after the last ` = `, if any.
pub fn return_value(body: &str) -> Option<i64> {
    let idx = body.rfind(" = ")?;
    let r = &body[idx + 3..];
    let end = r
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(r.len(), |(i, _)| i);
    r[..end].parse().ok()
}

fn is_message(body: &str) -> bool {
    body.starts_with("strace: ") || body.starts_with("pgstrace: ")
}

/// Turns trace text into comparable lines: tracer messages dropped; pids replaced by
/// `PID1`, `PID2`... in order of first appearance; runtime addresses (hex of 9+ digits) by
/// `0xADDR`; times (`tv_sec=` etc., -t/-r stamps, -T durations), pipe/socket inode numbers
/// and getrandom's bytes masked. A line where something of variable width was masked gets
/// its return-value padding collapsed to one space (the column depends on the masked width).
pub fn normalize(text: &str) -> Vec<String> {
    normalize_with(text, &[])
}

/// [`normalize`], with extra pids known to the test (e.g. the pid given to `-p`).
pub fn normalize_with(text: &str, known_pids: &[i64]) -> Vec<String> {
    let lines: Vec<Line> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(split_line)
        .filter(|l| !is_message(&l.body))
        .collect();
    let pids = collect_pids(&lines, known_pids);
    let mut names: HashMap<i64, usize> = HashMap::new();
    let mut out = Vec::with_capacity(lines.len());
    for l in &lines {
        let mut prefix = String::new();
        if let Some(p) = l.pid {
            let ph = placeholder(&mut names, p);
            prefix = if l.bracket {
                format!("[pid {ph}] ")
            } else {
                format!("{ph} ")
            };
        }
        // `-n`: a `[ NR] ` before the call is kept aside while the call is masked.
        let (nr, rest) = split_syscall_number(&l.body);
        // `-i`: the `[IP] ` after it too (exact: such tests run both without ASLR).
        let (mut ip, rest) = split_instruction_pointer(rest);
        if out.is_empty() && !ip.is_empty() && rest.starts_with("execve(") {
            // The first execve runs in the tracer's fork, in its own libc.
            ip = "[TRACER] ";
        }
        // --decode-pids=pidns names the tracer's namespace after the tracer.
        let rest = rest.replace(" in pgstrace's PID NS */", " in strace's PID NS */");
        let (mut body, mut changed) = mask_body(&rest, &pids, &mut names);
        if syscall_name(&body) == Some("getrandom") && body.starts_with("getrandom(\"") {
            body = mask_first_string(&body);
            changed = true;
        }
        // times: CPU ticks so far and the ticks since boot, different every run.
        if syscall_name(&body) == Some("times") {
            body = regex_lite_digits(&body);
            changed = true;
        }
        if changed {
            body = collapse_padding(&body);
        }
        let ts = if l.timestamp { "TS " } else { "" };
        out.push(format!("{prefix}{ts}{nr}{ip}{body}"));
    }
    out
}

/// Every run of digits in `s` as `N`.
fn regex_lite_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_digits = false;
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(ch);
        }
    }
    out
}

/// `("[00007f0012345678] ", "read(...")` for a line of `-i`; `("", body)` otherwise.
fn split_instruction_pointer(body: &str) -> (&str, &str) {
    let b = body.as_bytes();
    if b.len() >= 19
        && b[0] == b'['
        && b[17..19] == *b"] "
        && (b[1..17].iter().all(u8::is_ascii_hexdigit) || b[1..17].iter().all(|&c| c == b'?'))
    {
        return body.split_at(19);
    }
    ("", body)
}

/// `("[ 218] ", "set_tid_address(...")` for a line of `-n`; `("", body)` otherwise.
fn split_syscall_number(body: &str) -> (&str, &str) {
    if let Some(rest) = body.strip_prefix('[')
        && let Some(end) = rest.find("] ")
        && !rest[..end].is_empty()
        && rest[..end].trim_start().bytes().all(|b| b.is_ascii_digit())
    {
        return body.split_at(end + 3);
    }
    ("", body)
}

fn placeholder(names: &mut HashMap<i64, usize>, pid: i64) -> String {
    let n = names.len() + 1;
    let idx = *names.entry(pid).or_insert(n);
    format!("PID{idx}")
}

fn collect_pids(lines: &[Line], known: &[i64]) -> HashSet<i64> {
    let mut pids: HashSet<i64> = known.iter().copied().collect();
    for l in lines {
        if let Some(p) = l.pid {
            pids.insert(p);
        }
        let body = split_instruction_pointer(split_syscall_number(&l.body).1).1;
        if let Some(name) = syscall_name(body)
            && PID_RETURNING.contains(&name)
            && let Some(r) = return_value(body)
        {
            pids.insert(r);
        }
        // Signals: the sender's pid.
        if let Some(i) = l.body.find("si_pid=") {
            let r = &l.body[i + 7..];
            let end = r.bytes().take_while(u8::is_ascii_digit).count();
            if let Ok(p) = r[..end].parse() {
                pids.insert(p);
            }
        }
    }
    pids.retain(|&p| p >= MIN_PID);
    pids
}

/// Masks addresses, pids, times and inode numbers in one body.
fn mask_body(body: &str, pids: &HashSet<i64>, names: &mut HashMap<i64, usize>) -> (String, bool) {
    let b = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut changed = false;
    // Pids are replaced only where a pid can stand, so that a size that happens to equal a
    // pid (24576 is both) stays as it is.
    let name = syscall_name(body).unwrap_or("");
    let pid_args = PID_ARGUMENTS.contains(&name);
    let ret_at = if PID_RETURNING.contains(&name) {
        body.rfind(" = ").map_or(usize::MAX, |r| r + 3)
    } else {
        usize::MAX
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let prev_word = i > 0 && is_word(b[i - 1]);
        // -T suffix ` <0.000019>` at the very end.
        if c == b'<' && i > 0 && b[i - 1] == b' ' && body.ends_with('>') {
            let inner = &body[i + 1..body.len() - 1];
            if !inner.is_empty()
                && inner.contains('.')
                && inner.bytes().all(|x| x.is_ascii_digit() || x == b'.')
            {
                out.push_str("<T>");
                changed = true;
                break;
            }
        }
        if c == b'0' && !prev_word && b.get(i + 1) == Some(&b'x') {
            let hex = b[i + 2..]
                .iter()
                .take_while(|x| x.is_ascii_hexdigit())
                .count();
            let tail = &body[i..i + 2 + hex];
            if hex >= 9 {
                out.push_str("0xADDR");
                changed = true;
            } else {
                out.push_str(tail);
            }
            i += 2 + hex;
            continue;
        }
        if c.is_ascii_digit() && !prev_word {
            let n = b[i..].iter().take_while(|x| x.is_ascii_digit()).count();
            let num = &body[i..i + n];
            let next_word = b.get(i + n).is_some_and(|&x| is_word(x));
            if next_word {
                out.push_str(num);
            } else if TIME_KEYS.iter().any(|k| out.ends_with(k)) {
                out.push('N');
                changed = true;
            } else if out.ends_with(":[") && matches!(b.get(i + n), Some(b']' | b',' | b'-')) {
                // `socket:[N]`, and -yy's `UNIX-STREAM:[N->P,"path"]`.
                out.push_str("INODE");
                changed = true;
            } else if out.ends_with("->")
                && out.rfind(":[").is_some_and(|k| {
                    out[k..]
                        .bytes()
                        .all(|x| x.is_ascii_digit() || b":[-> INODE".contains(&x))
                })
            {
                out.push_str("INODE");
                changed = true;
            } else if (out.ends_with("htons(") || out.ends_with("nl_pid=")) && num != "0" {
                // An ephemeral port the kernel chose.
                out.push_str("PORT");
                changed = true;
            } else if (out.ends_with("127.0.0.1:")
                || out.ends_with("]:")
                || out.ends_with("ROUTE:"))
                && out.rfind('<').is_some_and(|k| {
                    let t = &out[k..];
                    t.starts_with("<TCP") || t.starts_with("<UDP") || t.starts_with("<NETLINK")
                })
            {
                // -yy's ephemeral ports and netlink port ids differ from run to run.
                out.push_str("PORT");
                changed = true;
            } else if let Some(p) =
                num.parse::<i64>()
                    .ok()
                    .filter(|p| pids.contains(p))
                    .filter(|_| {
                        // A call taking pids: its arguments, not a structure's fields
                        // (`rlim_cur=8192*1024` when the pid is 8192 or 1024).
                        (pid_args && !out.ends_with('=') && !out.ends_with('*'))
                            || i == ret_at
                            || out.ends_with("si_pid=")
                            || out.ends_with("superseded by execve in pid ")
                            || out.ends_with("<pid changed to ")
                            || out.ends_with("<pid:")
                            || (out.ends_with(" /* ")
                                && body[i + n..].starts_with(" in strace's PID NS */"))
                    })
            {
                out.push_str(&placeholder(names, p));
                changed = true;
            } else {
                out.push_str(num);
            }
            i += n;
            continue;
        }
        // Copy one UTF-8 character.
        let ch_len = body[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&body[i..i + ch_len]);
        i += ch_len;
    }
    (out, changed)
}

/// Replaces the first double-quoted string (with C escapes) by `"RANDOM"`.
fn mask_first_string(body: &str) -> String {
    let Some(start) = body.find('"') else {
        return body.to_string();
    };
    let b = body.as_bytes();
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    let end = (i + 1).min(body.len());
    let mut rest = &body[end..];
    // strace marks a truncated string with `...` after the quote.
    if let Some(r) = rest.strip_prefix("...") {
        rest = r;
    }
    format!("{}\"RANDOM\"{}", &body[..start], rest)
}

/// `call(args)      = 0` → `call(args) = 0` (only the padding before the last ` = `).
pub fn collapse_padding(body: &str) -> String {
    let Some(idx) = body.rfind(" = ") else {
        return body.to_string();
    };
    format!(
        "{} = {}",
        body[..idx].trim_end_matches(' '),
        &body[idx + 3..]
    )
}

const UNFINISHED: &str = " <unfinished ...>";

/// Splits normalised lines into per-process streams (key `PIDn`, or `main` for lines
/// without a pid prefix), joining each `<unfinished ...>` line with its `<... resumed>`
/// continuation. Within one process the order is deterministic for the fixtures, while the
/// interleaving of processes is not, so -f traces are compared stream by stream. Lines of
/// prefixed (multi-process) streams get their padding collapsed: whether strace split a
/// line in two, and so how it padded it, depends on that interleaving too.
pub fn streams(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut pending: HashMap<String, String> = HashMap::new();
    for line in lines {
        let (key, body) = stream_key(line);
        let key = key.to_string();
        if let Some(head) = body.strip_suffix(UNFINISHED) {
            if let Some(old) = pending.insert(key.clone(), head.to_string()) {
                map.entry(key.clone())
                    .or_default()
                    .push(format!("{old}{UNFINISHED}"));
            }
            continue;
        }
        // `-n`: the resumed part repeats the head's `[ NR] `.
        let resumed = resumed_tail(split_instruction_pointer(split_syscall_number(body).1).1);
        let joined = match (resumed, pending.remove(&key)) {
            (Some(tail), Some(head)) => collapse_padding(&format!("{head}{tail}")),
            (_, Some(head)) => {
                // Not a continuation: the call never finished (e.g. the process was killed).
                map.entry(key.clone())
                    .or_default()
                    .push(format!("{head}{UNFINISHED}"));
                body.to_string()
            }
            (_, None) => body.to_string(),
        };
        let joined = if key == "main" {
            joined
        } else {
            collapse_padding(&joined)
        };
        map.entry(key).or_default().push(joined);
    }
    for (key, head) in pending {
        map.entry(key)
            .or_default()
            .push(format!("{head}{UNFINISHED}"));
    }
    map
}

/// `PIDn rest` / `[pid PIDn] rest` → (`PIDn`, rest); otherwise (`main`, line).
fn stream_key(line: &str) -> (&str, &str) {
    if let Some(r) = line.strip_prefix("[pid ")
        && let Some(end) = r.find("] ")
    {
        return (&r[..end], &r[end + 2..]);
    }
    if line.starts_with("PID")
        && let Some(sp) = line.find(' ')
        && line[3..sp].bytes().all(|c| c.is_ascii_digit())
    {
        return (&line[..sp], &line[sp + 1..]);
    }
    ("main", line)
}

/// For `<... name resumed>rest` (optionally after `TS `) the `rest`.
fn resumed_tail(body: &str) -> Option<&str> {
    let b = body.strip_prefix("TS ").unwrap_or(body);
    let r = b.strip_prefix("<... ")?;
    let idx = r.find(" resumed>")?;
    Some(&r[idx + " resumed>".len()..])
}

/// Normalise then split into streams, in one call.
pub fn normalized_streams(text: &str) -> BTreeMap<String, Vec<String>> {
    streams(&normalize(text))
}

// ---------------------------------------------------------------------------------------
// -c summary tables

/// One row of a `-c` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRow {
    pub calls: u64,
    pub errors: u64,
}

/// Parses a strace `-c` table into syscall → (calls, errors); the `total` row is included
/// under the name "total". Lines that are not rows are ignored.
pub fn parse_summary(text: &str) -> BTreeMap<String, SummaryRow> {
    let mut rows = BTreeMap::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with("% time") {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("------") {
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        // % time, seconds, usecs/call, calls, [errors], name
        let (calls, errors) = match toks.len() {
            6 => (toks[3].parse().ok(), toks[4].parse().ok()),
            5 => (toks[3].parse().ok(), Some(0)),
            _ => (None, None),
        };
        if let (Some(calls), Some(errors), Some(name)) = (calls, errors, toks.last()) {
            rows.insert(name.to_string(), SummaryRow { calls, errors });
        }
    }
    rows
}

/// Asserts the text has no Rust panic message.
pub fn assert_no_panic(what: &str, stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{what}: pgstrace panicked:\n{stderr}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_structure_field_equal_to_a_pid_is_not_a_pid() {
        let text = "8192  prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0\n\
                    8192  kill(8192, SIGTERM) = 0\n";
        let lines = normalize(text);
        assert!(lines[0].contains("rlim_cur=8192*1024"), "{lines:?}");
        assert!(!lines[1].contains("8192"), "{lines:?}");
        // CI once ran the fixture as pid 1024.
        let text = "1024  prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0\n";
        assert!(normalize(text)[0].contains("rlim_cur=8192*1024"), "{text}");
    }

    #[test]
    fn masks_pids_addresses_and_times() {
        let text = "\
8049  execve(\"./f\", [\"./f\"], 0x7ffccf70fc68 /* 35 vars */) = 0
8049  brk(NULL)                         = 0x55fece7d7000
8049  clone(child_stack=NULL, flags=SIGCHLD, child_tidptr=0x7ffa17f4da10) = 8050
8050  set_robust_list(0x7ffa17f4da20, 24 <unfinished ...>
8049  wait4(8050,  <unfinished ...>
8050  <... set_robust_list resumed>)    = 0
8050  +++ exited with 3 +++
8049  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 8050
8049  clock_gettime(CLOCK_MONOTONIC, {tv_sec=436, tv_nsec=830370151}) = 0
strace: Process 8049 detached
8049  getrandom(\"\\xc4\\x88\\\"\", 3, 0) = 3
8049  pipe2([4<pipe:[16463]>, 5<pipe:[16463]>], 0) = 0
";
        let n = normalize(text);
        assert_eq!(
            n[0],
            "PID1 execve(\"./f\", [\"./f\"], 0xADDR /* 35 vars */) = 0"
        );
        assert_eq!(n[1], "PID1 brk(NULL) = 0xADDR");
        assert!(n[2].ends_with(") = PID2"), "{}", n[2]);
        assert_eq!(
            n[8],
            "PID1 clock_gettime(CLOCK_MONOTONIC, {tv_sec=N, tv_nsec=N}) = 0"
        );
        assert_eq!(n[9], "PID1 getrandom(\"RANDOM\", 3, 0) = 3");
        assert_eq!(
            n[10],
            "PID1 pipe2([4<pipe:[INODE]>, 5<pipe:[INODE]>], 0) = 0"
        );
        let s = streams(&n);
        assert_eq!(s["PID2"][0], "set_robust_list(0xADDR, 24) = 0");
        assert_eq!(
            s["PID1"][3],
            "wait4(PID2, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = PID2"
        );
    }

    #[test]
    fn size_equal_to_a_pid_is_kept() {
        let n = normalize(
            "24576 mmap(NULL, 24576, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7f0000000000\n\
             24576 kill(24576, SIGUSR1) = 0\n",
        );
        assert_eq!(
            n,
            vec![
                "PID1 mmap(NULL, 24576, PROT_READ, MAP_PRIVATE, 3, 0) = 0xADDR",
                "PID1 kill(PID1, SIGUSR1) = 0",
            ]
        );
    }

    #[test]
    fn timestamps_and_durations() {
        assert_eq!(
            normalize("06:10:42.381700 close(3)                = 0 <0.000003>"),
            vec!["TS close(3) = 0 <T>"]
        );
        assert_eq!(
            normalize("     0.000121 close(3)                  = 0"),
            vec!["TS close(3)                  = 0"]
        );
        assert_eq!(
            normalize("1795759842.389968 close(3) = 0"),
            vec!["TS close(3) = 0"]
        );
        assert_eq!(
            normalize("[pid  8057] 06:10:42 exit_group(3) = ?"),
            vec!["[pid PID1] TS exit_group(3) = ?"]
        );
    }

    #[test]
    fn summary_rows() {
        let t = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
  0.00    0.000000           0         8         1 close
  0.00    0.000000           0         1           fstat
------ ----------- ----------- --------- --------- ----------------
100.00    0.000000           0        73         9 total
";
        let r = parse_summary(t);
        assert_eq!(
            r["close"],
            SummaryRow {
                calls: 8,
                errors: 1
            }
        );
        assert_eq!(
            r["fstat"],
            SummaryRow {
                calls: 1,
                errors: 0
            }
        );
        assert_eq!(r["total"].calls, 73);
    }
}
