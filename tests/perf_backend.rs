//! The kernel-side source (`--backend=perf`): the same lines as ptrace for the calls it is
//! chosen for, values it could not capture printed as addresses (never as something else),
//! the same `-k` frames, a tracee that never stops, every forked process followed, lost
//! events counted, nothing left behind when pgstrace is killed.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::{Proc, fixture, normalize, pgstrace_bin, proc_state};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SET: &str = "trace=openat,ftruncate,fallocate,unlink,mmap,munmap,close";
const LONG: Duration = Duration::from_secs(120);

/// Runs the perfcalls fixture under pgstrace with `flags`; returns the trace's lines.
fn trace(flags: &[&str], rounds: &str) -> (Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("trace.txt");
    let work = dir.path().join("w");
    std::fs::create_dir(&work).unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(pgstrace_bin());
    cmd.args(flags)
        .arg("-o")
        .arg(&out)
        .arg(fixture("perfcalls"))
        .arg(&work)
        .arg(rounds);
    let o = Proc::spawn(cmd).wait(LONG);
    fixtures::assert_no_panic("perfcalls", &o.stderr);
    assert!(
        o.status.success(),
        "{flags:?}: {:?}\n{}",
        o.status,
        o.stderr
    );
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let text = text.replace(&work.display().to_string(), "DIR");
    (normalize(&text), text)
}

/// `"..."` arguments replaced by `0xADDR`: what a line is when a string was not captured.
fn strings_as_addresses(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            while let Some(d) = chars.next() {
                if d == '\\' {
                    chars.next();
                } else if d == '"' {
                    break;
                }
            }
            // A string cut by -s has `...` after it.
            while chars.peek() == Some(&'.') {
                chars.next();
            }
            out.push_str("0xADDR");
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn same_lines_as_ptrace() {
    let (p, _) = trace(&["-e", SET], "2");
    let (k, raw) = trace(&["--backend=perf", "-e", SET], "2");
    assert_eq!(p.len(), k.len(), "ptrace:\n{p:#?}\nperf:\n{k:#?}");
    for (a, b) in p.iter().zip(&k) {
        if a == b {
            continue;
        }
        // Only a string the event did not carry may differ, and only as its address.
        assert_eq!(
            strings_as_addresses(a),
            *b,
            "perf printed something else than ptrace:\n  ptrace: {a}\n  perf:   {b}"
        );
    }
    // The fixture's own calls, their paths in stack buffers, are whole.
    for want in [
        "openat(AT_FDCWD, \"DIR/PostgreSQL.1000\", O_RDWR|O_CREAT|O_EXCL, 0600) = 3",
        "ftruncate(3, 65536)",
        "fallocate(3, 0, 0, 0)                   = -1 EINVAL (Invalid argument)",
        "unlink(\"DIR/PostgreSQL.1001\")",
        "close(3)                                = -1 EBADF (Bad file descriptor)",
        "+++ exited with 0 +++",
    ] {
        assert!(raw.contains(want), "missing {want:?} in\n{raw}");
    }
    // ld.so's own string literal lies in a read-only mapping: read as exact.
    assert!(raw.contains("\"/etc/ld.so.cache\""), "{raw}");
}

#[test]
fn same_stacks_as_ptrace() {
    let set = "trace=ftruncate,fallocate";
    let (p, _) = trace(&["-k", "-e", set], "1");
    let (k, raw) = trace(&["--backend=perf", "-k", "-e", set], "1");
    assert_eq!(p, k, "perf -k:\n{raw}");
    assert!(raw.contains("(round_once+"), "{raw}");
}

/// Attached with -p to a busy process: it is never seen stopped, and goes on untouched
/// after the tracer is interrupted.
#[test]
fn the_tracee_never_stops() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(fixture("perfcalls"));
    cmd.arg(dir.path()).arg("20000");
    let mut busy = Proc::spawn(cmd);
    let mut tr = Command::new(pgstrace_bin());
    tr.args(["--backend=perf", "-q", "-e", SET, "-o", "/dev/null", "-p"])
        .arg(busy.pid.to_string());
    let tracer = Proc::spawn(tr);
    let start = Instant::now();
    let mut samples = 0;
    while start.elapsed() < Duration::from_millis(1500) && busy.try_wait().is_none() {
        if let Some((state, tracer_pid)) = proc_state(busy.pid) {
            assert_ne!(state, 't', "the tracee was seen in a tracing stop");
            assert_ne!(state, 'T', "the tracee was seen stopped");
            assert_eq!(tracer_pid, 0, "perf does not ptrace");
            samples += 1;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(samples > 50, "too few samples ({samples})");
    tracer.signal(libc::SIGINT);
    let t = tracer.wait(LONG);
    fixtures::assert_no_panic("tracer", &t.stderr);
    assert_eq!(
        t.status.code(),
        Some(128 + libc::SIGINT),
        "{:?} {}",
        t.status,
        t.stderr
    );
    let b = busy.wait(LONG);
    assert!(
        b.status.success(),
        "the tracee failed: {:?} {}",
        b.status,
        b.stderr
    );
}

/// -f: every child of a fork storm is seen to exit, none missed.
#[test]
fn fork_storm_loses_no_process() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("t.txt");
    let mut cmd = Command::new(pgstrace_bin());
    cmd.args(["--backend=perf", "-f", "-e", "trace=close", "-o"])
        .arg(&out)
        .arg(fixture("forkstorm"))
        .arg("300");
    let o = Proc::spawn(cmd).wait(LONG);
    assert!(o.status.success(), "{:?} {}", o.status, o.stderr);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let exits = text
        .lines()
        .filter(|l| l.ends_with("+++ exited with 0 +++"))
        .count();
    assert_eq!(exits, 301, "{text}");
    assert!(!text.contains("lost"), "{text}");
}

/// A reader that fell behind until the end (stopped while its tracee ran and exited): the
/// tracee's exit was among the dropped records and the kernel had no later record to report
/// the loss with. The trace still ends, with the command's exit, and says a loss of unknown
/// size may have happened, in text and JSON.
#[test]
fn a_reader_behind_at_the_end_ends_and_says_so() {
    for json in [false, true] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("t.txt");
        let work = dir.path().join("w");
        std::fs::create_dir(&work).unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = Command::new(pgstrace_bin());
        cmd.env("PGSTRACE_PERF_PAGES", "8")
            .args(["--backend=perf", "-e", SET, "-o"])
            .arg(&out);
        if json {
            cmd.arg("--json");
        }
        cmd.arg(fixture("perfcalls")).arg(&work).arg("1000000");
        let p = Proc::spawn(cmd);
        let children = format!("/proc/{0}/task/{0}/children", p.pid);
        let deadline = Instant::now() + LONG;
        // The tracee by its name once it runs the fixture: before its exec (or for a
        // helper pgstrace runs) a child has another image, and killing that one would leave
        // the million rounds running.
        let child: i32 = loop {
            let c = std::fs::read_to_string(&children).unwrap_or_default();
            if let Some(c) = c
                .split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok())
                .find(|c| {
                    std::fs::read_to_string(format!("/proc/{c}/comm"))
                        .is_ok_and(|n| n.trim() == "perfcalls")
                })
            {
                break c;
            }
            assert!(Instant::now() < deadline, "no tracee");
            std::thread::sleep(Duration::from_millis(10));
        };
        // Let the trace start, then stop the reader and end the tracee meanwhile.
        std::thread::sleep(Duration::from_millis(300));
        p.signal(libc::SIGSTOP);
        // Thousands of calls fill the 32 KiB rings meanwhile: what follows is dropped.
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: kill(2); the child is ours (the test's grandchild), it is only asked to end.
        unsafe { libc::kill(child, libc::SIGTERM) };
        while proc_state(child).is_some_and(|(s, _)| s != 'Z') {
            assert!(Instant::now() < deadline, "the tracee did not end");
            std::thread::sleep(Duration::from_millis(10));
        }
        p.signal(libc::SIGCONT);
        let o = p.wait(LONG);
        // The command's end is pgstrace's, as with strace: 128 + SIGTERM.
        assert_eq!(o.status.code(), Some(143), "{}", o.stderr);
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let tail = &text[text.len().saturating_sub(2000)..];
        if json {
            let v: Vec<serde_json::Value> = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            assert!(
                v.iter()
                    .any(|v| v["event"] == "killed" || v["event"] == "exited"),
                "no end of the tracee in\n{tail}"
            );
            assert!(
                v.iter().any(|v| v["event"] == "lost"
                    && v["count"].is_null()
                    && v["ring_full_at_end"] == true),
                "no loss of unknown size in\n{tail}"
            );
        } else {
            assert!(
                text.contains("+++ killed by SIGTERM +++"),
                "no end of the tracee in\n{tail}"
            );
            assert!(
                text.contains("+++ lost ? events (a ring was full at the end) +++"),
                "no loss of unknown size in\n{tail}"
            );
        }
    }
}

/// A ring too small for the rate: the loss is reported with its count, in text and JSON.
#[test]
fn lost_events_are_reported() {
    for json in [false, true] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("t.txt");
        let work = dir.path().join("w");
        std::fs::create_dir(&work).unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = Command::new(pgstrace_bin());
        cmd.env("PGSTRACE_PERF_PAGES", "8")
            .args(["--backend=perf", "-e", SET, "-o"])
            .arg(&out);
        if json {
            cmd.arg("--json");
        }
        cmd.arg(fixture("perfcalls")).arg(&work).arg("3000");
        let o = Proc::spawn(cmd).wait(LONG);
        assert!(o.status.success(), "{:?} {}", o.status, o.stderr);
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let lost: u64 = if json {
            text.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|v| v["event"] == "lost")
                .filter_map(|v| v["count"].as_u64())
                .sum()
        } else {
            text.lines()
                .filter_map(|l| l.strip_prefix("+++ lost ")?.strip_suffix(" events +++"))
                .filter_map(|n| n.parse::<u64>().ok())
                .sum()
        };
        assert!(
            lost > 0,
            "json={json}: no loss reported in\n{}",
            &text[..text.len().min(2000)]
        );
        // Calls begun (a text call split by another task's line is counted once, at its
        // start); a loss can take entries or exits, so at most the 6000 made.
        let calls = if json {
            text.matches("\"syscall\":\"fallocate\"").count() as u64
        } else {
            text.matches("fallocate(").count() as u64
        };
        assert!(
            calls > 0 && calls <= 6000,
            "json={json}: {calls} fallocate lines"
        );
    }
}

/// pgstrace SIGKILLed mid-trace: the tracee carries on and finishes normally; no tracer
/// is left on it and nothing is left in tracefs.
#[test]
fn sigkill_leaves_nothing_behind() {
    let before = std::fs::read_to_string("/sys/kernel/tracing/set_event").ok();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(fixture("perfcalls"));
    cmd.arg(dir.path()).arg("8000").stdout(Stdio::null());
    let busy = Proc::spawn(cmd);
    let mut tr = Command::new(pgstrace_bin());
    tr.args(["--backend=perf", "-k", "-e", SET, "-o", "/dev/null", "-p"])
        .arg(busy.pid.to_string());
    let tracer = Proc::spawn(tr);
    std::thread::sleep(Duration::from_millis(400));
    tracer.signal(libc::SIGKILL);
    let _ = tracer.wait(LONG);
    if let Some((_, tracer_pid)) = proc_state(busy.pid) {
        assert_eq!(tracer_pid, 0);
    }
    let b = busy.wait(LONG);
    assert!(
        b.status.success(),
        "the tracee failed: {:?} {}",
        b.status,
        b.stderr
    );
    let after = std::fs::read_to_string("/sys/kernel/tracing/set_event").ok();
    assert_eq!(before, after, "tracefs events changed");
}

#[test]
fn bad_input_is_one_line() {
    for (args, want) in [
        (
            &["--backend=perf", "-p", "999999999"][..],
            "no such process",
        ),
        (
            &["--backend=perf", "-e", "inject=openat:error=ENOENT", "true"][..],
            "inject",
        ),
        (&["--backend=bogus", "true"][..], "invalid --backend"),
    ] {
        let mut c = Command::new(pgstrace_bin());
        c.args(args);
        let o = Proc::spawn(c).wait(LONG);
        fixtures::assert_no_panic("bad input", &o.stderr);
        assert!(!o.status.success(), "{args:?}");
        let lines: Vec<&str> = o.stderr.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: {}", o.stderr);
        assert!(lines[0].contains(want), "{args:?}: {}", o.stderr);
    }
}

/// Without root (user nobody: no tracefs, no mount): `--backend=perf` is one clear line;
/// `--backend=auto` says so and traces with ptrace instead.
#[test]
fn refused_kernel_source_is_one_line_and_auto_falls_back() {
    let as_nobody = |args: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(pgstrace_bin())
            .args(args)
            .current_dir("/");
        Proc::spawn(c).wait(LONG)
    };
    let o = as_nobody(&["--backend=perf", "-e", "trace=openat", "/bin/true"]);
    fixtures::assert_no_panic("perf as nobody", &o.stderr);
    assert!(!o.status.success(), "{}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "{}", o.stderr);
    assert!(
        lines[0].contains("tracefs") || lines[0].contains("refused"),
        "{}",
        o.stderr
    );
    let o = as_nobody(&["--backend=auto", "-e", "trace=openat", "/bin/true"]);
    assert!(o.status.success(), "{:?} {}", o.status, o.stderr);
    assert!(
        o.stderr.contains("pgstrace: backend ptrace: "),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("openat("),
        "traced by ptrace: {}",
        o.stderr
    );
}

/// `--json` under auto/perf starts with the choice and its reason; a `-y` path read from
/// /proc after the event is marked `read_late`.
#[test]
fn json_header_and_late_marks() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("t.json");
    let work = dir.path().join("w");
    std::fs::create_dir(&work).unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = Command::new(pgstrace_bin());
    cmd.args([
        "--backend=auto",
        "--json",
        "-y",
        "-e",
        "trace=ftruncate,close",
        "-o",
    ])
    .arg(&out)
    .arg(fixture("perfcalls"))
    .arg(&work);
    let o = Proc::spawn(cmd).wait(LONG);
    assert!(o.status.success(), "{:?} {}", o.status, o.stderr);
    assert!(
        o.stderr.contains("pgstrace: backend perf: "),
        "{}",
        o.stderr
    );
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let objs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(objs[0]["event"], "start", "{text}");
    assert_eq!(objs[0]["backend"], "perf", "{text}");
    // Every path read from /proc after its event says so: it may be another file's by then
    // (the first ftruncate's descriptor was closed and reused by the kept file's openat).
    let ft: Vec<&serde_json::Value> = objs
        .iter()
        .filter(|v| v["syscall"] == "ftruncate")
        .collect();
    assert_eq!(ft.len(), 2, "{text}");
    for f in &ft {
        if f.to_string().contains("\"path\"") {
            assert!(f["read_late"].is_string(), "{f:#}");
        }
    }
    assert!(
        ft[1].to_string().contains("kept.dat"),
        "the -y path: {:#}",
        ft[1]
    );
}

/// A thread's execve under the kernel-side source: the leader's call ends with ` = ?` (not
/// the `-ERESTARTNOHAND` the kernel records for a call SIGKILL ends), the superseded line,
/// the execve resumed under the leader's pid, and pgstrace ends with the program (it once
/// waited for the thread's old tid forever). The same lines as under ptrace.
#[test]
fn thread_execve_is_followed_and_the_trace_ends() {
    let run = |backend: &str| -> Vec<String> {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("trace.txt");
        let mut cmd = Command::new(pgstrace_bin());
        cmd.args([backend, "-f", "-e", "trace=pause,exit_group", "-o"])
            .arg(&out)
            .arg(fixture("threadexec"));
        let o = Proc::spawn(cmd).wait(Duration::from_secs(30));
        fixtures::assert_no_panic("threadexec", &o.stderr);
        assert!(
            o.status.success(),
            "{backend}: {:?}\n{}",
            o.status,
            o.stderr
        );
        assert_eq!(o.stdout, "threadexec done\n");
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        assert!(
            text.contains("+++ superseded by execve in pid ") && !text.contains("ERESTART"),
            "{backend}: {text}"
        );
        // The thread's own tid appears nowhere else (execve is not traced): masked here.
        normalize(&text)
            .into_iter()
            .map(|l| match l.find("execve in pid ") {
                Some(i) => format!("{}execve in pid T +++", &l[..i]),
                None => l,
            })
            .collect()
    };
    assert_eq!(run("--backend=perf"), run("--backend=ptrace"));
}
