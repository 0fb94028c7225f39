//! `pgstrace probe` as far as it goes (issue 8 in progress): `-x BINARY --funcs` on a
//! stripped fixture and on Debian's postgres, and spec checks with one-line refusals.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PGSTRACE: &str = env!("CARGO_BIN_EXE_pgstrace");
const POSTGRES: &str = "/usr/lib/postgresql/15/bin/postgres";

fn probe(args: &[&str]) -> Output {
    Command::new(PGSTRACE)
        .arg("probe")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("pgstrace: {e}"))
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// One stderr line, a non-zero exit, no panic.
fn refused(o: &Output, want: &str) {
    let (_, err) = text(o);
    assert!(!o.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(want), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn stripped_fixture(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kstack.c");
    let out = dir.join("kstack-stripped");
    let ok = Command::new("gcc")
        .args(["-O2", "-rdynamic", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("strip")
            .arg("--strip-all")
            .arg(&out)
            .status()
            .is_ok_and(|s| s.success());
    assert!(ok, "building the stripped fixture");
    out
}

#[test]
fn funcs_lists_named_and_with_all_unnamed_functions() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bin = stripped_fixture(dir.path());
    let b = bin.to_string_lossy();
    let o = probe(&["-x", &b, "--funcs"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.lines().any(|l| l.starts_with("exported_outer ")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("main ")), "{out}");
    // Static functions have no symbol in a stripped binary: listed only with --all, unnamed.
    assert!(
        !out.contains("static_leaf") && !out.contains("(unnamed)"),
        "{out}"
    );
    let (all, _) = text(&probe(&["-x", &b, "--funcs", "--all"]));
    assert!(all.lines().any(|l| l.starts_with("(unnamed) ")), "{all}");
    let (one, _) = text(&probe(&["-x", &b, "--funcs", "exported_*"]));
    assert_eq!(one.lines().count(), 1, "{one}");
}

#[test]
fn funcs_on_postgres_marks_the_refused_functions() {
    if !Path::new(POSTGRES).exists() {
        assert!(
            std::env::var_os("PGSTRACE_REQUIRE_PG").is_none(),
            "{POSTGRES} missing"
        );
        return;
    }
    let (out, err) = text(&probe(&["-x", POSTGRES, "--funcs", "dsm_*"]));
    assert!(
        out.lines().any(|l| l.starts_with("dsm_create ")),
        "{out}{err}"
    );
    let (xlog, _) = text(&probe(&["-x", POSTGRES, "--funcs", "XLogInsertRecord"]));
    assert!(xlog.contains("refused without --force"), "{xlog}");
}

#[test]
fn bad_input_is_one_line() {
    refused(
        &probe(&["-x", "/nonexistent/bin", "--funcs"]),
        "/nonexistent/bin",
    );
    refused(
        &probe(&["-x", POSTGRES, "--funcs", "no_such_*"]),
        "no function",
    );
    refused(&probe(&["--funcs"]), "needs -x BINARY");
    refused(&probe(&["-p", "1", "f $arg9"]), "$arg1..$arg6");
    refused(&probe(&["-p", "1", "XLogInsertRecord"]), "WAL");
    refused(&probe(&["-p", "x", "f"]), "invalid process id");
}

// --- live: breakpoints on a fixture -----------------------------------------------------

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::{Proc, fixture};
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(60);

/// `pgstrace ARGS` (a probe of `pid`), once it has attached.
fn attached_probe(pid: i32, args: &[&str]) -> Proc {
    let mut c = Command::new(PGSTRACE);
    c.args(args);
    let tracer = Proc::spawn(c);
    assert!(
        fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
            .is_some_and(|s| s.1 == tracer.pid)),
        "pgstrace did not attach"
    );
    tracer
}

/// The `bp N wait` fixture, started and past its pid line.
fn bp(n: u32) -> (Proc, fixtures::LineReader, i32) {
    let mut c = Command::new(fixture("bp"));
    c.args([&n.to_string(), "wait"]);
    let (p, lines) = Proc::spawn_lines(c);
    let pid = lines
        .read_line(SHORT)
        .and_then(|l| l.strip_prefix("pid ").and_then(|p| p.trim().parse().ok()))
        .unwrap_or_else(|| panic!("bp did not print its pid"));
    (p, lines, pid)
}

/// The bytes of function `sym` in the running process and in its file, for comparison.
fn text_bytes(pid: i32, bin: &Path, sym: &str) -> (Vec<u8>, Vec<u8>) {
    let nm = Command::new("nm")
        .arg(bin)
        .output()
        .unwrap_or_else(|e| panic!("nm: {e}"));
    let svma = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(2) == Some(&sym))
                .then(|| u64::from_str_radix(f[0], 16).ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no {sym}"));
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let canon = bin.canonicalize().unwrap_or_else(|e| panic!("{e}"));
    let base = maps
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(5) == canon.to_str().as_ref() && f.get(2) == Some(&"00000000"))
                .then(|| u64::from_str_radix(f[0].split('-').next()?, 16).ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no mapping"));
    use std::os::unix::fs::FileExt;
    let mut live = vec![0u8; 16];
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap_or_else(|e| panic!("{e}"));
    mem.read_exact_at(&mut live, base + svma)
        .unwrap_or_else(|e| panic!("/proc/{pid}/mem: {e}"));
    // A PIE's text: file offset = svma for the first segments of a gcc binary.
    let file = std::fs::read(bin).unwrap_or_else(|e| panic!("{e}"));
    let at = svma as usize;
    (live, file[at..at + 16].to_vec())
}

#[test]
fn probe_captures_args_and_leaves_the_text_as_it_was() {
    let (mut p, lines, pid) = bp(5);
    let pid_s = pid.to_string();
    let tracer = Proc::spawn({
        let mut c = Command::new(PGSTRACE);
        c.args([
            "probe",
            "-p",
            &pid_s,
            "hit i=$arg1:s64",
            "lab=labelled $arg1:u64 name=$arg2:string",
        ]);
        c
    });
    assert!(
        fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
            .is_some_and(|s| s.1 == tracer.pid)),
        "pgstrace did not attach"
    );
    std::thread::sleep(Duration::from_millis(200));
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    tracer.signal(libc::SIGINT);
    let out = tracer.wait(SHORT);
    assert!(out.status.success(), "{}", out.stderr);
    let hits: Vec<&str> = out.stdout.lines().collect();
    let values: Vec<&str> = hits
        .iter()
        .filter_map(|l| l.split_once(" hit: ").map(|(_, v)| v))
        .collect();
    assert_eq!(
        values,
        ["i=0", "i=1", "i=2", "i=3", "i=4"],
        "{}",
        out.stdout
    );
    assert!(
        hits.iter()
            .any(|l| l.ends_with(" lab: $arg1=7 name=\"seven\"")),
        "{}",
        out.stdout
    );
    // `labelled` opens with `push %rbx`: done by hand at the trap (its sums still right);
    // `hit` opens with a rip-relative load: stepped.
    assert!(
        out.stderr.contains("; 1 of 6 without a single step"),
        "{}",
        out.stderr
    );
    // Detached: untraced, its text byte for byte the file's, and it runs on without a trap.
    assert!(fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
        .is_some_and(|s| s.1 == 0)));
    for sym in ["hit", "labelled"] {
        let (live, file) = text_bytes(pid, &fixture("bp"), sym);
        assert_eq!(live, file, "{sym}: a byte was left changed");
    }
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    p.close_stdin();
    let out = p.wait(SHORT);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the fixture saw a SIGTRAP (4) or bad sums (3)"
    );
}

/// A hot function and a detach in the middle of it (`--duration`), several times: the
/// detach never lands between a trap and its handling (a SIGTRAP left pending would kill
/// the program), and every call's work is right.
#[test]
fn detaching_from_a_hot_function_never_leaks_a_trap() {
    for round in 0..4 {
        let (mut p, lines, pid) = bp(20000);
        let pid_s = pid.to_string();
        let tracer = attached_probe(
            pid,
            &[
                "probe",
                "-p",
                &pid_s,
                "hit $arg1",
                "--duration",
                "0.3",
                "--stall-budget",
                "100",
            ],
        );
        // Keep it busy in hit() across the detach.
        for _ in 0..6 {
            p.write_stdin(b"go\n");
            assert_eq!(
                lines.read_line(SHORT).as_deref(),
                Some("ok"),
                "round {round}"
            );
        }
        let out = tracer.wait(SHORT);
        assert!(out.status.success(), "round {round}: {}", out.stderr);
        assert!(out.stderr.contains("--duration is over"), "{}", out.stderr);
        p.close_stdin();
        let fx = p.wait(SHORT);
        assert_eq!(
            fx.status.code(),
            Some(0),
            "round {round}: the fixture saw a SIGTRAP"
        );
    }
}

#[test]
fn max_hits_stops_and_multithreaded_processes_are_refused() {
    let (mut p, lines, pid) = bp(50);
    let pid_s = pid.to_string();
    let tracer = attached_probe(
        pid,
        &["probe", "-p", &pid_s, "hit $arg1", "--max-hits", "7"],
    );
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    let out = tracer.wait(SHORT);
    assert_eq!(out.stdout.lines().count(), 7, "{}", out.stdout);
    p.close_stdin();
    assert_eq!(p.wait(SHORT).status.code(), Some(0));

    let (churn, lines) = Proc::spawn_lines({
        let mut c = Command::new(fixture("churn"));
        c.args(["threads", "30"]);
        c
    });
    let cpid = lines
        .read_line(SHORT)
        .and_then(|l| l.strip_prefix("pid ").map(str::to_string))
        .unwrap_or_default();
    std::thread::sleep(Duration::from_millis(100));
    // Refused before arming (threads counted), or, when the count caught it with one thread,
    // as soon as a thread starts: the text is cleaned through the parent before the new
    // thread runs (it would otherwise die of SIGTRAP in the probed worker), and a thread that
    // got to a trap anyway is rewound. Many tries, so that both ways are taken.
    for _ in 0..40 {
        let o = probe(&["-p", &cpid, "worker $arg1", "--duration", "5"]);
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{err}");
        assert!(err.contains("multi-threaded"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.contains("ended"), "the program died: {out}");
        assert!(
            fixtures::proc_state(churn.pid).is_some_and(|s| s.0 != 'Z'),
            "the program died: {out}{err}"
        );
    }
    drop(churn);
}

/// SIGKILL of pgstrace while armed: its `int3` stays in the process (nothing can run on a
/// SIGKILL), a new probe refuses to arm over it, and `--cleanup` puts the original byte back
/// from the record written before arming; the process then runs on normally.
#[test]
fn cleanup_after_a_sigkill_restores_the_text() {
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (mut p, lines, pid) = bp(3);
    let pid_s = pid.to_string();
    let with_state = |args: &[&str]| {
        let mut c = Command::new(PGSTRACE);
        c.arg("probe")
            .args(args)
            .env("PGSTRACE_STATE_DIR", state.path());
        c
    };
    let tracer = Proc::spawn(with_state(&["-p", &pid_s, "hit $arg1"]));
    let armed = fixtures::wait_until(SHORT, || {
        let (live, file) = text_bytes(pid, &fixture("bp"), "hit");
        live[0] == 0xcc && live[1..] == file[1..]
    });
    assert!(armed, "the breakpoint was never armed");
    tracer.signal(libc::SIGKILL);
    let _ = tracer.wait(SHORT);
    assert!(fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
        .is_some_and(|s| s.1 == 0)));
    let (live, _) = text_bytes(pid, &fixture("bp"), "hit");
    assert_eq!(live[0], 0xcc, "the int3 is still there after the SIGKILL");
    // Arming over it is refused.
    let o = with_state(&["-p", &pid_s, "hit $arg1"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    refused(&o, "--cleanup");
    // Cleaned: the text is the file's, the record gone, the fixture works.
    let o = with_state(&["--cleanup", "-p", &pid_s])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (live, file) = text_bytes(pid, &fixture("bp"), "hit");
    assert_eq!(live, file);
    assert_eq!(
        std::fs::read_dir(state.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "the record is removed"
    );
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    p.close_stdin();
    assert_eq!(p.wait(SHORT).status.code(), Some(0));
}

/// A probe on a hot function disarms itself when its hits hold the process for more than
/// the stall budget (1% by default) of the time, and the process runs on unharmed.
#[test]
fn a_hot_function_spends_the_stall_budget() {
    let (mut p, lines, pid) = bp(20000);
    let pid_s = pid.to_string();
    let tracer = attached_probe(pid, &["probe", "-p", &pid_s, "hit $arg1"]);
    for _ in 0..3 {
        p.write_stdin(b"go\n");
        assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    }
    let out = tracer.wait(SHORT);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(out.stderr.contains("stall budget"), "{}", out.stderr);
    assert!(fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
        .is_some_and(|s| s.1 == 0)));
    let (live, file) = text_bytes(pid, &fixture("bp"), "hit");
    assert_eq!(live, file);
    p.close_stdin();
    assert_eq!(p.wait(SHORT).status.code(), Some(0));
}

#[test]
fn json_hits_carry_probe_pid_time_and_values() {
    let (mut p, lines, pid) = bp(2);
    let pid_s = pid.to_string();
    let tracer = attached_probe(
        pid,
        &[
            "probe",
            "--json",
            "-p",
            &pid_s,
            "hit i=$arg1:u32",
            "labelled $arg1:s8 $arg2:string %rdi",
        ],
    );
    std::thread::sleep(Duration::from_millis(100));
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    tracer.signal(libc::SIGINT);
    let out = tracer.wait(SHORT);
    let objs: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(objs.len(), 3, "{}", out.stdout);
    assert_eq!(objs[0]["probe"], "hit");
    assert_eq!(objs[0]["pid"], pid);
    assert!(objs[0]["time"].as_f64().is_some_and(|t| t > 1e9));
    assert_eq!(objs[0]["values"]["i"], 0);
    assert_eq!(objs[1]["values"]["i"], 1);
    assert_eq!(objs[2]["probe"], "labelled");
    assert_eq!(objs[2]["values"]["$arg1"], 7);
    assert_eq!(objs[2]["values"]["$arg2"], "seven");
    assert!(
        objs[2]["values"]["%rdi"]
            .as_str()
            .is_some_and(|s| s == "0x7")
    );
    p.close_stdin();
    assert_eq!(p.wait(SHORT).status.code(), Some(0));
}

/// `-k`: each hit with its stack, the probed function first (at its first instruction),
/// then its caller.
#[test]
fn k_prints_the_stack_of_each_hit() {
    let (mut p, lines, pid) = bp(1);
    let pid_s = pid.to_string();
    let tracer = attached_probe(pid, &["probe", "-k", "-p", &pid_s, "hit $arg1"]);
    std::thread::sleep(Duration::from_millis(100));
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    tracer.signal(libc::SIGINT);
    let out = tracer.wait(SHORT);
    let frames: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with(" > "))
        .collect();
    assert!(
        frames.first().is_some_and(|f| f.contains("(hit+0x0)")),
        "{}",
        out.stdout
    );
    assert!(
        frames.get(1).is_some_and(|f| f.contains("(main+0x")),
        "{}",
        out.stdout
    );
    p.close_stdin();
    assert_eq!(p.wait(SHORT).status.code(), Some(0));
}

/// A child forked while the breakpoints are armed inherits them in its copy of the text: it
/// is cleaned at its first stop, before it runs, and let go; it makes the probed calls
/// untraced and exits normally (an inherited int3 would kill it with SIGTRAP).
#[test]
fn a_child_forked_while_armed_is_cleaned_before_it_runs() {
    let mut c = Command::new(fixture("bp"));
    c.args(["4", "wait", "fork"]);
    let (mut p, lines) = Proc::spawn_lines(c);
    let pid: i32 = lines
        .read_line(SHORT)
        .and_then(|l| l.strip_prefix("pid ").and_then(|p| p.trim().parse().ok()))
        .unwrap_or_else(|| panic!("bp did not print its pid"));
    let pid_s = pid.to_string();
    let tracer = attached_probe(pid, &["probe", "-p", &pid_s, "hit i=$arg1:u64"]);
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..3 {
        p.write_stdin(b"go\n");
        assert_eq!(
            lines.read_line(SHORT).as_deref(),
            Some("ok"),
            "the child died"
        );
    }
    tracer.signal(libc::SIGINT);
    let out = tracer.wait(SHORT);
    assert!(out.status.success(), "{}", out.stderr);
    // Only the parent's calls are hits: 3 rounds of 4.
    let hits = out
        .stdout
        .lines()
        .filter(|l| l.contains(&format!("pid {pid} hit:")))
        .count();
    assert_eq!(hits, 12, "{}", out.stdout);
    p.close_stdin();
    assert_eq!(p.wait(SHORT).status.code(), Some(0));
}

/// `-f`: a child forked while armed is armed as its parent is (the same probes at the same
/// addresses), so its calls are hits too, under its own pid; it still exits normally.
#[test]
fn f_arms_the_children_a_process_forks() {
    let mut c = Command::new(fixture("bp"));
    c.args(["4", "wait", "fork"]);
    let (mut p, lines) = Proc::spawn_lines(c);
    let pid: i32 = lines
        .read_line(SHORT)
        .and_then(|l| l.strip_prefix("pid ").and_then(|p| p.trim().parse().ok()))
        .unwrap_or_else(|| panic!("bp did not print its pid"));
    let pid_s = pid.to_string();
    let tracer = attached_probe(pid, &["probe", "-f", "-p", &pid_s, "hit i=$arg1:u64"]);
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..3 {
        p.write_stdin(b"go\n");
        assert_eq!(
            lines.read_line(SHORT).as_deref(),
            Some("ok"),
            "a child died"
        );
    }
    tracer.signal(libc::SIGINT);
    let out = tracer.wait(SHORT);
    assert!(out.status.success(), "{}", out.stderr);
    let mut per_pid: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for l in out.stdout.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() >= 5 && f[1] == "pid" && f[3] == "hit:" {
            per_pid.entry(f[2].into()).or_default().push(f[4].into());
        }
    }
    let want: Vec<String> = (0..4).map(|i| format!("i={i}")).collect();
    assert_eq!(
        per_pid.len(),
        4,
        "the parent and three children: {}",
        out.stdout
    );
    for (who, values) in &per_pid {
        let rounds = if *who == pid_s { 3 } else { 1 };
        assert_eq!(values.len(), 4 * rounds, "pid {who}: {}", out.stdout);
        assert_eq!(values[..4], want[..], "pid {who}");
    }
    p.close_stdin();
    assert_eq!(p.wait(SHORT).status.code(), Some(0));
}

/// The `vars wait` fixture (built -O2 -g), started and past its pid line.
fn vars_fixture() -> (Proc, fixtures::LineReader, i32) {
    let (p, lines) = Proc::spawn_lines({
        let mut c = Command::new(fixture("vars"));
        c.arg("wait");
        c
    });
    let pid = lines
        .read_line(SHORT)
        .and_then(|l| l.strip_prefix("pid ").and_then(|p| p.trim().parse().ok()))
        .unwrap_or_else(|| panic!("vars did not print its pid"));
    (p, lines, pid)
}

/// The executable text of `bin` in process `pid` equals the file's, byte for byte (return
/// breakpoints land anywhere in it, not only at function starts).
fn text_is_the_files(pid: i32, bin: &Path) -> bool {
    use std::os::unix::fs::FileExt;
    let canon = bin.canonicalize().unwrap_or_else(|e| panic!("{e}"));
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let file = std::fs::read(bin).unwrap_or_else(|e| panic!("{e}"));
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap_or_else(|e| panic!("{e}"));
    let mut seen = false;
    for l in maps.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 6 || f[5] != canon.to_string_lossy() || !f[1].contains('x') {
            continue;
        }
        let (a, b) = f[0].split_once('-').unwrap_or_default();
        let (a, b) = (
            u64::from_str_radix(a, 16).unwrap_or(0),
            u64::from_str_radix(b, 16).unwrap_or(0),
        );
        let off = usize::from_str_radix(f[2], 16).unwrap_or(0);
        let mut live = vec![0u8; (b - a) as usize];
        mem.read_exact_at(&mut live, a)
            .unwrap_or_else(|e| panic!("/proc/{pid}/mem: {e}"));
        let end = (off + live.len()).min(file.len());
        if live[..end - off] != file[off..end] {
            return false;
        }
        seen = true;
    }
    seen
}

/// DWARF values on a `-O2 -g` fixture: parameters in registers and location lists, pointer
/// chains, a string, an enum by name, an array member, a NULL pointer (a `(fault)` value,
/// the fixture lives on), a struct passed by value (frame base), a global by its DWARF type,
/// `%return` of a recursive function ($retval at each level, innermost first), and an
/// offset inside a loop; afterwards the whole text is the file's again.
#[test]
fn dwarf_values_returns_and_faults_on_a_fixture() {
    let (mut p, lines, pid) = vars_fixture();
    let pid_s = pid.to_string();
    let tracer = attached_probe(
        pid,
        &[
            "probe",
            "-p",
            &pid_s,
            "visit t->id t->name t->next->id t->kind t->vals[1] weight",
            "depth%return $retval",
            "weigh t.name t.vals[2] t.next->name",
            "g=visit @rounds",
            "loop=visit+0x10 p->id",
        ],
    );
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..2 {
        p.write_stdin(b"go\n");
        assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    }
    tracer.signal(libc::SIGINT);
    let out = tracer.wait(SHORT);
    assert!(out.status.success(), "{}", out.stderr);
    let hits: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once(&format!("pid {pid} ")).map(|(_, h)| h))
        .collect();
    let round: Vec<&str> = hits.iter().take(hits.len() / 2).copied().collect();
    let visits: Vec<&&str> = round.iter().filter(|h| h.starts_with("visit:")).collect();
    assert_eq!(
        visits,
        [
            &"visit: t->id=1 t->name=\"alpha\" t->next->id=2 t->kind=KIND_B t->vals[1]=11 weight=3",
            &"visit: t->id=2 t->name=\"beta\" t->next->id=(fault) t->kind=KIND_C t->vals[1]=21 weight=4",
            &"visit: t->id=(fault) t->name=(fault) t->next->id=(fault) t->kind=(fault) t->vals[1]=(fault) weight=5",
        ],
        "{}",
        out.stdout
    );
    let returns: Vec<&&str> = round
        .iter()
        .filter(|h| h.starts_with("depth%return:"))
        .collect();
    let want: Vec<String> = [0, 1, 3, 6, 10]
        .iter()
        .map(|v| format!("depth%return: $retval={v}"))
        .collect();
    assert_eq!(
        returns.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        want,
        "{}",
        out.stdout
    );
    assert!(
        round.contains(&"weigh: t.name=\"alpha\" t.vals[2]=12 t.next->name=\"beta\""),
        "{}",
        out.stdout
    );
    assert!(round.contains(&"g: @rounds=0"), "{}", out.stdout);
    assert!(hits.contains(&"g: @rounds=1"), "{}", out.stdout);
    let loops: Vec<&&str> = round.iter().filter(|h| h.starts_with("loop:")).collect();
    assert_eq!(
        loops,
        [&"loop: p->id=1", &"loop: p->id=2", &"loop: p->id=2"],
        "{}",
        out.stdout
    );
    assert!(fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
        .is_some_and(|s| s.1 == 0)));
    assert!(
        text_is_the_files(pid, &fixture("vars")),
        "a byte of the text was left changed"
    );
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    p.close_stdin();
    assert_eq!(
        p.wait(SHORT).status.code(),
        Some(0),
        "the fixture saw a SIGTRAP"
    );
}

/// `--vars` lists what DWARF describes, with types; a variable by name on a binary without
/// debug info is one line that says how to get it; a wrong member is refused before arming.
#[test]
fn vars_listing_and_what_needs_debug_info() {
    let bin = fixture("vars");
    let b = bin.to_string_lossy();
    let o = probe(&["-x", &b, "--vars", "visit"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("param t") && out.contains("struct thing *"),
        "{out}"
    );
    assert!(out.contains("param weight") && out.contains("int"), "{out}");
    refused(
        &probe(&["-x", &b, "--vars", "no_such_function"]),
        "no function named",
    );

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let stripped = dir.path().join("vars-stripped");
    let ok = Command::new("strip")
        .args(["--strip-debug", "-o"])
        .arg(&stripped)
        .arg(&bin)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "strip");
    let (_p, lines) = Proc::spawn_lines({
        let mut c = Command::new(&stripped);
        c.arg("wait");
        c
    });
    let pid = lines
        .read_line(SHORT)
        .and_then(|l| l.strip_prefix("pid ").map(|s| s.trim().to_string()))
        .unwrap_or_default();
    let o = probe(&["-p", &pid, "visit t->id"]);
    refused(&o, "needs debug info");
    let (_, err) = text(&o);
    assert!(err.contains("/usr/lib/debug/.build-id/"), "{err}");
    // $argN works without it; $params says at each hit what is missing (and why, once).
    let o = probe(&["-p", &pid, "visit $arg2:s32 $params", "--duration", "0.2"]);
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("warning: $params needs debug info"), "{err}");

    refused(&probe(&["-p", &pid, "visit $arg1->id"]), "need a type");
    let (_q, _lines, full) = vars_fixture();
    refused(
        &probe(&["-p", &full.to_string(), "visit t->nope"]),
        "no member nope",
    );
}

/// Nobody reads the hits any more (`| head -1`): probing stops at the first failed write,
/// every byte goes back, and the program runs on untraced without a trap.
#[test]
fn a_closed_output_pipe_ends_probing_and_restores() {
    let (mut p, lines, pid) = bp(5000);
    let cmd = format!("'{PGSTRACE}' probe -p {pid} 'hit $arg1' --stall-budget 100 | head -1");
    let mut c = Command::new("sh");
    c.args(["-c", &cmd]);
    let sh = Proc::spawn(c);
    assert!(
        fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
            .is_some_and(|s| s.1 != 0)),
        "pgstrace did not attach"
    );
    std::thread::sleep(Duration::from_millis(100));
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    let out = sh.wait(SHORT);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
        .is_some_and(|s| s.1 == 0)));
    let (live, file) = text_bytes(pid, &fixture("bp"), "hit");
    assert_eq!(live, file, "a byte was left changed");
    p.write_stdin(b"go\n");
    assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
    p.close_stdin();
    assert_eq!(
        p.wait(SHORT).status.code(),
        Some(0),
        "the fixture saw a SIGTRAP"
    );
}

/// Several processes at once (`-p A,B`), each with its own hits; SIGTERM and SIGHUP end the
/// probe as Ctrl-C does: every byte back, both programs run on without a trap.
#[test]
fn several_pids_and_every_ending_signal_restore() {
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let (mut a, la, pa) = bp(3);
        let (mut b, lb, pb) = bp(2);
        let pids = format!("{pa},{pb}");
        let tracer = attached_probe(pa, &["probe", "-p", &pids, "hit i=$arg1:u64"]);
        assert!(fixtures::wait_until(SHORT, || fixtures::proc_state(pb)
            .is_some_and(|s| s.1 == tracer.pid)));
        std::thread::sleep(Duration::from_millis(100));
        a.write_stdin(b"go\n");
        assert_eq!(la.read_line(SHORT).as_deref(), Some("ok"));
        b.write_stdin(b"go\n");
        assert_eq!(lb.read_line(SHORT).as_deref(), Some("ok"));
        tracer.signal(sig);
        let out = tracer.wait(SHORT);
        assert!(out.status.success(), "{}", out.stderr);
        let count = |pid: i32| {
            out.stdout
                .lines()
                .filter(|l| l.contains(&format!(" pid {pid} hit: i=")))
                .count()
        };
        assert_eq!((count(pa), count(pb)), (3, 2), "{}", out.stdout);
        for (p, lines, pid) in [(&mut a, &la, pa), (&mut b, &lb, pb)] {
            assert!(fixtures::wait_until(SHORT, || fixtures::proc_state(pid)
                .is_some_and(|s| s.1 == 0)));
            let (live, file) = text_bytes(pid, &fixture("bp"), "hit");
            assert_eq!(live, file, "signal {sig}: a byte was left changed");
            p.write_stdin(b"go\n");
            assert_eq!(lines.read_line(SHORT).as_deref(), Some("ok"));
            p.close_stdin();
        }
        assert_eq!(a.wait(SHORT).status.code(), Some(0));
        assert_eq!(b.wait(SHORT).status.code(), Some(0));
    }
}
