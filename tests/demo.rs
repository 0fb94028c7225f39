//! `pgstrace demo`, live: the whole scene on a real PostgreSQL server, every step checked;
//! interrupted by SIGINT in each step, it leaves no process, directory or mount behind.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/pg.rs"]
mod pg;

use fixtures::pgstrace_bin;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One demo at a time: each makes a server and watches it.
static ONE: Mutex<()> = Mutex::new(());

fn demo_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("/tmp")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("pgstrace-demo-"))
        })
        .collect();
    v.sort();
    v
}

/// Pids whose working directory is under `dir`, or that live in mount namespace `ns`.
fn leftovers(dir: Option<&Path>, ns: Option<&Path>) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let cwd = std::fs::read_link(e.path().join("cwd")).ok();
        let mnt = std::fs::read_link(e.path().join("ns/mnt")).ok();
        if let (Some(d), Some(c)) = (dir, &cwd)
            && c.starts_with(d)
        {
            out.push(format!("{pid} (cwd {})", c.display()));
        }
        if let (Some(n), Some(m)) = (ns, &mnt)
            && m == n
        {
            out.push(format!(
                "{pid} (in the demo's mount namespace {})",
                m.display()
            ));
        }
    }
    out
}

/// Lines of the demo's stdout as they come.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait(child: &mut std::process::Child, secs: u64) -> i32 {
    let st = pg::wait_timeout(child, Duration::from_secs(secs))
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("the demo did not exit in {secs} s")
        });
    st.code().unwrap_or(-1)
}

#[test]
fn the_demo_plays_every_step() {
    if pg::skip_unless_available("the_demo_plays_every_step") {
        return;
    }
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let before = demo_dirs();
    let t0 = Instant::now();
    let o = Command::new(pgstrace_bin())
        .arg("demo")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let took = t0.elapsed();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    if std::env::var_os("PGSTRACE_SHOW").is_some() {
        eprintln!("{out}{err}");
    }
    fixtures::assert_no_panic("demo", &err);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    // Each step, in order.
    let mut at = 0;
    for (k, what) in [
        (
            1,
            "a /dev/shm of 64 MiB (Docker's default) in a private mount namespace",
        ),
        (2, "initdb as postgres in /tmp"),
        (3, "PostgreSQL on a unix socket only (no TCP)"),
        (4, "2,000,000 rows in each of two tables"),
        (5, "pgstrace ps"),
        (
            6,
            "the query, while explain-shm --watch and a -k trace of fallocate watch",
        ),
        (7, "the remedy explain-shm ranks first, applied"),
        (8, "the same query again"),
    ] {
        let head = format!("[{k}/8] {what}");
        let i = lines[at..]
            .iter()
            .position(|l| l.starts_with(&head))
            .unwrap_or_else(|| panic!("no step {head:?} after line {at}:\n{out}"));
        at += i + 1;
    }
    let section = |from: &str, to: &str| -> String {
        let a = out
            .find(from)
            .unwrap_or_else(|| panic!("no {from:?}:\n{out}"));
        let b = out[a..].find(to).map_or(out.len(), |b| a + b);
        out[a..b].to_string()
    };
    // ps shows the cluster in its 64 MiB /dev/shm.
    let ps = section("[5/8]", "[6/8]");
    assert!(ps.contains("/dev/shm: size 64.0 MiB"), "{ps}");
    assert!(ps.contains(" postmaster"), "{ps}");
    // The server's error, the failing call with its stack, the live explanation.
    let scene = section("[6/8]", "[7/8]");
    assert!(
        scene.contains("ERROR:  could not resize shared memory segment \"/PostgreSQL.")
            && scene.contains("No space left on device"),
        "{scene}"
    );
    let call = section(
        "the failing call and its stack",
        "explain-shm --watch, at that moment",
    );
    assert!(
        call.contains("fallocate(") && call.contains("= -1 ENOSPC (No space left on device)"),
        "{call}"
    );
    for f in [
        "(dsm_create+",
        "(dsa_allocate_extended+",
        "(ExecParallelHash",
    ] {
        assert!(call.contains(f), "{f} not in the stack:\n{call}");
    }
    let live = section("explain-shm --watch, at that moment", "[7/8]");
    for want in [
        " ENOSPC  PostgreSQL.",
        "request:  pid ",
        "(parallel worker for ",
        "query:    SELECT count(*) FROM a JOIN b USING (id)",
        "a Parallel Hash growing its shared hash table",
        "remedy:",
    ] {
        assert!(live.contains(want), "{want:?} not in:\n{live}");
    }
    // The remedy applied, and the query succeeding.
    let fix = section("[7/8]", "[8/8]");
    assert!(fix.contains("explain-shm: "), "{fix}");
    assert!(fix.contains("      here: "), "{fix}");
    let again = section("[8/8]", "done in");
    assert!(again.contains("count = 2000000: it succeeds"), "{again}");
    assert!(out.contains("cleaned up: server stopped"), "{out}");
    // Nothing left behind.
    assert_eq!(demo_dirs(), before, "a demo directory is left");
    let dir = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("/tmp/pgstrace-demo-"))
        .map(|d| PathBuf::from(format!("/tmp/pgstrace-demo-{d}")));
    assert!(dir.is_some(), "the directory was not named:\n{out}");
    assert_eq!(leftovers(dir.as_deref(), None), Vec::<String>::new());
    // "Well under a minute after the build".
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// SIGINT in each of the eight steps (to the demo alone, and, in the scene's step, to its
/// whole process group as a terminal's Ctrl-C does): exit 130, and no process, directory or
/// mount namespace of the demo is left.
#[test]
fn the_demo_interrupted_in_each_step_leaves_nothing() {
    if pg::skip_unless_available("the_demo_interrupted_in_each_step_leaves_nothing") {
        return;
    }
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let before = demo_dirs();
    for step in 1..=8 {
        for group in [false, true] {
            if group && step != 6 {
                continue;
            }
            let mut c = Command::new(pgstrace_bin());
            c.arg("demo")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .process_group(0);
            let mut child = c.spawn().unwrap_or_else(|e| panic!("{e}"));
            let pid = child.id() as i32;
            let rx = lines_of(&mut child);
            let head = format!("[{step}/8]");
            let mut seen = Vec::new();
            let mut ns = None;
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let l = rx
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    .unwrap_or_else(|_| panic!("step {step} never came:\n{}", seen.join("\n")));
                if l.starts_with("[2/8]") || (step == 1 && l.starts_with("[1/8]")) {
                    ns = std::fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
                }
                let hit = l.starts_with(&head);
                seen.push(l);
                if hit {
                    break;
                }
            }
            // Into the step: a moment after its line (a step may be quick).
            std::thread::sleep(Duration::from_millis(if step == 6 { 300 } else { 30 }));
            let sig = nix::sys::signal::Signal::SIGINT;
            if group {
                let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), sig);
            } else {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
            }
            let code = wait(&mut child, 90);
            let rest: Vec<String> = rx.try_iter().collect();
            let out = format!("{}\n{}", seen.join("\n"), rest.join("\n"));
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            fixtures::assert_no_panic("demo", &err);
            // The last step may finish before the signal is looked at.
            assert!(
                code == 130 || (step == 8 && code == 0),
                "step {step} (group {group}): exit {code}\n{out}\n{err}"
            );
            if code == 130 {
                assert!(out.contains("interrupted: cleaned up"), "{out}\n{err}");
            }
            let dir = out
                .lines()
                .find_map(|l| l.trim().strip_prefix("/tmp/pgstrace-demo-"))
                .map(|d| PathBuf::from(format!("/tmp/pgstrace-demo-{d}")));
            let own_ns = std::fs::read_link("/proc/self/ns/mnt").ok();
            let ns = ns.filter(|n| Some(n) != own_ns.as_ref());
            // Backends exit on their own after their postmaster: give them a moment.
            let mut left = Vec::new();
            for _ in 0..100 {
                left = leftovers(dir.as_deref(), ns.as_deref());
                if left.is_empty() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(left.is_empty(), "step {step}: left behind {left:?}\n{out}");
            assert_eq!(
                demo_dirs(),
                before,
                "step {step}: a directory is left\n{out}"
            );
        }
    }
}

#[test]
fn bad_input_is_one_line() {
    for (args, want, as_nobody) in [
        (
            vec!["demo", "--bindir", "/nonexistent"],
            "--bindir /nonexistent",
            false,
        ),
        (vec!["demo", "--rows", "5"], "too few", false),
        (
            vec!["demo", "--user", "no-such-user-here"],
            "no user",
            false,
        ),
        (vec!["demo"], "demo needs root", true),
    ] {
        if args.contains(&"--user") && pg::unavailable_reason().is_some() {
            continue;
        }
        let mut c = if as_nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
                .arg(pgstrace_bin());
            c
        } else {
            Command::new(pgstrace_bin())
        };
        let o = c.args(&args).output().unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        fixtures::assert_no_panic("demo", &err);
    }
    assert!(demo_dirs().iter().all(|d| d.exists()));
}

/// `--keep`: the cluster runs on after the demo, reachable as printed, and the printed stop
/// command stops it.
#[test]
fn the_demo_kept_runs_on() {
    if pg::skip_unless_available("the_demo_kept_runs_on") {
        return;
    }
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let o = Command::new(pgstrace_bin())
        .args(["demo", "--keep"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let connect = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("connect: "))
        .unwrap_or_else(|| panic!("no connect line:\n{out}"));
    let stop = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("stop:    "))
        .unwrap_or_else(|| panic!("no stop line:\n{out}"));
    // `psql -h DIR -U postgres -d postgres`
    let words: Vec<&str> = connect.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"psql"), "{connect}");
    let dir = PathBuf::from(words.get(2).copied().unwrap_or_default());
    struct Cleanup(PathBuf, i32);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.1),
                nix::sys::signal::Signal::SIGKILL,
            );
            std::thread::sleep(Duration::from_millis(300));
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    // `kill -INT PM (then rm -rf DIR)`
    let pm: i32 = stop
        .strip_prefix("kill -INT ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{stop}"));
    let _guard = Cleanup(dir.clone(), pm);
    let mut psql = Command::new(format!("{}/psql", pg::PG_BIN));
    psql.args(["-X", "-A", "-t", "-h"]).arg(&dir).args([
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-c",
        "SELECT count(*) FROM a",
    ]);
    let r = pg::run_with_timeout(psql, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.stdout.trim(), "2000000", "{}", r.stderr);
    assert!(
        stop.ends_with(&format!("(then rm -rf {})", dir.display())),
        "{stop}"
    );
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pm),
        nix::sys::signal::Signal::SIGINT,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while Path::new(&format!("/proc/{pm}")).exists() {
        assert!(Instant::now() < deadline, "the kept server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut left = Vec::new();
    for _ in 0..100 {
        left = leftovers(Some(&dir), None);
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(left.is_empty(), "{left:?}");
}
