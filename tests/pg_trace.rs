//! Live tests of the PostgreSQL annotation of traces and of `explain-shm --watch`, against
//! throwaway PostgreSQL 15 clusters with a private 32 MiB /dev/shm (domain-notes §7):
//!
//! - `# pid N query: ...` before a backend's lines, parallel workers labelled with their
//!   leader, nothing under `--no-pg`, `query`/`role` in `--json`;
//! - `explain-shm --watch` during the two real ENOSPC failures (a worker growing a Parallel
//!   Hash, the leader in ExecInitParallelPlan), and a clean detach on SIGINT.
//!
//! They need root and postgresql-15; without them they are skipped, unless
//! `PGSTRACE_REQUIRE_PG=1` makes that a failure.

#[path = "support/netns.rs"]
mod netns;
#[path = "support/pg.rs"]
mod pg;

use pg::{PgCluster, PgOpts};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PGSTRACE: &str = env!("CARGO_BIN_EXE_pgstrace");

fn cluster() -> PgCluster {
    let opts = PgOpts::default()
        .shm_mib(32)
        .set("max_parallel_workers_per_gather", "4")
        .set("work_mem", "256MB")
        .set("parallel_setup_cost", "0")
        .set("parallel_tuple_cost", "0");
    PgCluster::start(opts).unwrap_or_else(|e| panic!("starting the cluster: {e:#}"))
}

fn psql_ok(pg: &PgCluster, sql: &str) -> String {
    pg.psql(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e:#}\nserver log:\n{}", pg.server_log()))
}

/// Runs each statement with its own `-c` in one psql session.
fn psql_session(pg: &PgCluster, statements: &[&str]) -> pg::Output {
    let mut c = pg.psql_command();
    for s in statements {
        c.arg("-c").arg(s);
    }
    pg::run_with_timeout(c, pg::CMD_TIMEOUT).unwrap_or_else(|e| panic!("psql: {e:#}"))
}

fn load_pair(pg: &PgCluster, a: &str, b: &str, rows: u32) {
    psql_ok(
        pg,
        &format!(
            "CREATE UNLOGGED TABLE {a} AS SELECT g AS id FROM generate_series(1, {rows}) g;
             CREATE UNLOGGED TABLE {b} AS SELECT g AS id FROM generate_series(1, {rows}) g;
             ANALYZE {a}; ANALYZE {b};"
        ),
    );
}

/// A pgstrace attached to the postmaster; killed on drop if the test did not stop it.
struct Tracer {
    child: Child,
    out: PathBuf,
    stderr: PathBuf,
}

impl Tracer {
    /// `pgstrace ARGS -p POSTMASTER` (ARGS name the output), once the postmaster is traced.
    fn start(args: &[&str], pg: &PgCluster, out: &Path) -> Tracer {
        let stderr = out.with_extension("stderr");
        let err = fs::File::create(&stderr).unwrap_or_else(|e| panic!("{e}"));
        let pm = pg.postmaster_pid();
        let child = Command::new(PGSTRACE)
            .args(args)
            .arg("-p")
            .arg(pm.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning pgstrace: {e}"));
        let mut t = Tracer {
            child,
            out: out.to_path_buf(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = t.child.try_wait() {
                panic!("pgstrace exited ({status}) before attaching:\n{}", t.err());
            }
            // ptrace shows in TracerPid; the kernel-side source says so once its events
            // are open (explain-shm --watch prints the line after attaching either way).
            if pg::tracer_pid(pm).is_some_and(|tp| tp != 0)
                || t.err().contains("without stopping it")
            {
                return t;
            }
            assert!(Instant::now() < deadline, "pgstrace never attached to {pm}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `pgstrace -o OUT ARGS -p POSTMASTER`.
    fn trace(args: &[&str], pg: &PgCluster, out: &Path) -> Tracer {
        let mut all = vec!["-o", out.to_str().unwrap_or_default()];
        all.extend_from_slice(args);
        Tracer::start(&all, pg, out)
    }

    fn err(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGINT (a user's Ctrl-C), a clean exit, and the output.
    fn stop(mut self) -> String {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let status = match pg::wait_timeout(&mut self.child, Duration::from_secs(60)) {
            Ok(Some(s)) => s,
            _ => panic!("pgstrace did not exit within 60 s of SIGINT"),
        };
        assert!(
            status.code().is_some(),
            "pgstrace died: {status}\n{}",
            self.err()
        );
        fs::read_to_string(&self.out).unwrap_or_else(|e| panic!("no output: {e}\n{}", self.err()))
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The pid a `-o FILE -f` line belongs to (`1234  sendto(...`), if it is a trace line.
fn line_pid(line: &str) -> Option<u32> {
    let (pid, _) = line.split_once(' ')?;
    pid.parse().ok()
}

/// `# pid N query: TEXT` → (N, TEXT).
fn query_note(line: &str) -> Option<(u32, &str)> {
    let rest = line.strip_prefix("# pid ")?;
    let (pid, text) = rest.split_once(" query: ")?;
    Some((pid.parse().ok()?, text))
}

const Q1: &str = "SELECT 'first' AS pgstrace_q1";
const Q2: &str = "SELECT 2 + 2 AS pgstrace_q2";

#[test]
fn backend_statements_are_noted_before_their_lines() {
    if pg::skip_unless_available("backend_statements_are_noted_before_their_lines") {
        return;
    }
    let pg = cluster();
    let out = pg.socket_dir().join("q.out");
    let tracer = Tracer::trace(&["-f", "-e", "trace=sendto"], &pg, &out);
    // Q1 twice in a row: a note says when the statement changes, not at every repeat.
    let psql = psql_session(&pg, &[Q1, Q1, Q2]);
    assert!(psql.success, "{}", psql.stderr);
    let trace = tracer.stop();
    pg.assert_untraced_and_healthy("pgstrace");
    let q1_notes = trace
        .lines()
        .filter(|l| query_note(l).is_some_and(|(_, t)| t == Q1))
        .count();
    assert_eq!(q1_notes, 1, "a repeated statement noted again:\n{trace}");

    let lines: Vec<&str> = trace.lines().collect();
    let mut backend = None;
    for q in [Q1, Q2] {
        let i = lines
            .iter()
            .position(|l| query_note(l).is_some_and(|(_, t)| t == q))
            .unwrap_or_else(|| panic!("no note for {q:?} in:\n{trace}"));
        let (pid, _) = query_note(lines[i]).unwrap_or_default();
        assert_eq!(*backend.get_or_insert(pid), pid, "two backends:\n{trace}");
        // The backend's next line is its sendto (the result of that statement).
        let next = lines[i + 1..]
            .iter()
            .find(|l| line_pid(l) == Some(pid))
            .unwrap_or_else(|| panic!("no line of {pid} after the note:\n{trace}"));
        assert!(next.contains("sendto("), "{next}\n{trace}");
    }
}

/// `-yy` on a real server: a backend's client socket names its peer (psql's end) and the
/// server's socket path, as a DBA reads which client a backend talks to.
#[test]
fn backend_client_socket_under_yy() {
    if pg::skip_unless_available("backend_client_socket_under_yy") {
        return;
    }
    let pg = cluster();
    let out = pg.socket_dir().join("yy.out");
    let tracer = Tracer::trace(&["-f", "-yy", "-e", "trace=sendto"], &pg, &out);
    let psql = psql_session(&pg, &[Q1]);
    assert!(psql.success, "{}", psql.stderr);
    let trace = tracer.stop();
    pg.assert_untraced_and_healthy("pgstrace");
    let path = pg
        .socket_dir()
        .join(format!(".s.PGSQL.{}", pg.port()))
        .display()
        .to_string();
    let line = trace
        .lines()
        .find(|l| l.contains("sendto(") && l.contains("<UNIX-STREAM:["))
        .unwrap_or_else(|| panic!("no sendto on a UNIX socket:\n{trace}"));
    let detail = line
        .split("<UNIX-STREAM:[")
        .nth(1)
        .and_then(|r| r.split("]>").next())
        .unwrap_or_default();
    // `INO->PEER,"PATH"`
    let (inos, p) = detail.split_once(',').unwrap_or_else(|| panic!("{line}"));
    let (ino, peer) = inos
        .split_once("->")
        .unwrap_or_else(|| panic!("no peer: {line}"));
    assert!(
        ino.parse::<u64>().is_ok() && peer.parse::<u64>().is_ok(),
        "{line}"
    );
    assert_eq!(p, format!("\"{path}\""), "{line}");
}

#[test]
fn no_pg_prints_no_notes_and_json_carries_query_and_role() {
    if pg::skip_unless_available("no_pg_prints_no_notes_and_json_carries_query_and_role") {
        return;
    }
    let pg = cluster();
    let out = pg.socket_dir().join("nopg.out");
    let tracer = Tracer::trace(&["-f", "--no-pg", "-e", "trace=sendto"], &pg, &out);
    assert!(psql_session(&pg, &[Q1, Q2]).success);
    let trace = tracer.stop();
    assert!(trace.contains("sendto("), "{trace}");
    assert!(
        !trace.lines().any(|l| l.starts_with('#')),
        "notes under --no-pg:\n{trace}"
    );

    let out = pg.socket_dir().join("json.out");
    let tracer = Tracer::trace(&["-f", "--json", "-e", "trace=sendto"], &pg, &out);
    assert!(psql_session(&pg, &[Q1, Q2]).success);
    let trace = tracer.stop();
    pg.assert_untraced_and_healthy("pgstrace");
    let objects: Vec<serde_json::Value> = trace
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for q in [Q1, Q2] {
        let hit = objects
            .iter()
            .find(|o| o["event"] == "syscall" && o["query"] == q)
            .unwrap_or_else(|| panic!("no syscall object with query {q:?}:\n{trace}"));
        assert_eq!(hit["syscall"], "sendto", "{hit}");
        assert_eq!(hit["role"], "backend", "{hit}");
    }
}

/// Small tables: a Parallel Hash Join that succeeds, with workers.
const SMALL_ROWS: u32 = 40_000;
const SMALL_JOIN: &str = "SELECT count(*) FROM s1 JOIN s2 USING (id)";

#[test]
fn parallel_workers_are_labelled_with_their_leader() {
    if pg::skip_unless_available("parallel_workers_are_labelled_with_their_leader") {
        return;
    }
    let pg = cluster();
    load_pair(&pg, "s1", "s2", SMALL_ROWS);
    let out = pg.socket_dir().join("par.out");
    let tracer = Tracer::trace(&["-f", "-e", "trace=openat,exit_group"], &pg, &out);
    let psql = psql_session(&pg, &["SET min_parallel_table_scan_size = 0", SMALL_JOIN]);
    assert!(psql.success, "{}", psql.stderr);
    assert_eq!(psql.stdout.trim(), SMALL_ROWS.to_string());
    let trace = tracer.stop();
    pg.assert_untraced_and_healthy("pgstrace");

    let leader = trace
        .lines()
        .find_map(|l| {
            query_note(l)
                .filter(|(_, t)| *t == SMALL_JOIN)
                .map(|(p, _)| p)
        })
        .unwrap_or_else(|| panic!("no note for the join:\n{trace}"));
    let workers: Vec<&str> = trace
        .lines()
        .filter(|l| l.starts_with("# pid ") && l.contains(" role: parallel worker for "))
        .collect();
    assert!(!workers.is_empty(), "no worker labelled:\n{trace}");
    for w in &workers {
        assert!(
            w.ends_with(&format!(" role: parallel worker for {leader}")),
            "{w} (leader {leader})\n{trace}"
        );
    }
}

/// The error every DSM failure here produces; returns the size it names.
fn enospc_size(stderr: &str) -> u64 {
    const PREFIX: &str = "could not resize shared memory segment \"/PostgreSQL.";
    let line = stderr
        .lines()
        .find(|l| l.contains(PREFIX) && l.ends_with("bytes: No space left on device"))
        .unwrap_or_else(|| panic!("no DSM ENOSPC error in psql's output:\n{stderr}"));
    let after = line.split(PREFIX).nth(1).unwrap_or_default();
    let size = after
        .split_once("\" to ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .unwrap_or_default();
    size.parse()
        .unwrap_or_else(|_| panic!("size {size:?} in {line}"))
}

fn watch(pg: &PgCluster, out: &Path) -> Tracer {
    let o = out.to_str().unwrap_or_default();
    Tracer::start(&["explain-shm", "--watch", "-o", o], pg, out)
}

fn watch_ptrace(pg: &PgCluster, out: &Path) -> Tracer {
    let o = out.to_str().unwrap_or_default();
    Tracer::start(
        &["explain-shm", "--watch", "--backend=ptrace", "-o", o],
        pg,
        out,
    )
}

/// 1M rows per side: the hash table outgrows a 32 MiB /dev/shm (see postgres_live.rs).
const HASH_JOIN_ROWS: u32 = 1_000_000;
const BIG_JOIN: &str = "SELECT count(*) FROM a JOIN b USING (id)";

/// The default (auto: the kernel-side source, nothing stops).
#[test]
fn watch_explains_a_parallel_hash_growth_failure() {
    if pg::skip_unless_available("watch_explains_a_parallel_hash_growth_failure") {
        return;
    }
    hash_growth_failure(watch, "without stopping it");
}

/// The same under ptrace.
#[test]
fn watch_explains_a_parallel_hash_growth_failure_under_ptrace() {
    if pg::skip_unless_available("watch_explains_a_parallel_hash_growth_failure_under_ptrace") {
        return;
    }
    hash_growth_failure(watch_ptrace, "every process it forks (backends");
}

fn hash_growth_failure(watch: fn(&PgCluster, &Path) -> Tracer, banner: &str) {
    let pg = cluster();
    load_pair(&pg, "a", "b", HASH_JOIN_ROWS);
    let out = pg.socket_dir().join("watch-hash.out");
    let tracer = watch(&pg, &out);
    assert!(tracer.err().contains(banner), "{}", tracer.err());
    let failed = psql_session(&pg, &["SET parallel_leader_participation = off", BIG_JOIN]);
    assert!(!failed.success, "the join succeeded: {}", failed.stdout);
    let size = enospc_size(&failed.stderr);
    let text = tracer.stop();
    pg.assert_untraced_and_healthy("pgstrace");

    assert!(text.contains(" create  PostgreSQL."), "{text}");
    assert!(text.contains(" destroy PostgreSQL."), "{text}");
    let block = text
        .split_once(" ENOSPC  PostgreSQL.")
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no ENOSPC explanation:\n{text}"));
    assert!(
        block.contains(&format!(" of {size} bytes")),
        "requested size {size} not named:\n{text}"
    );
    assert!(block.contains("parallel worker for "), "{text}");
    assert!(block.contains("a Parallel Hash growing"), "{text}");
    assert!(block.contains(&format!("query:    {BIG_JOIN}")), "{text}");
    assert!(
        block.contains("/dev/shm: ") && block.contains("held by:"),
        "{text}"
    );
}

/// `pgstrace ARGS -p PID` with stderr to `stderr`, once it says it attached (a kernel-side
/// source shows in no TracerPid).
fn spawn_perf(args: &[&str], pid: u32, stderr: &Path) -> Child {
    let err = fs::File::create(stderr).unwrap_or_else(|e| panic!("{e}"));
    let child = Command::new(PGSTRACE)
        .args(args)
        .arg("-p")
        .arg(pid.to_string())
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !fs::read_to_string(stderr)
        .unwrap_or_default()
        .contains("attached")
    {
        assert!(Instant::now() < deadline, "never attached");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The trace command on the kernel-side source: a parallel worker's real ENOSPC is caught
/// with its stack (dsm_create, the DSA growth) and the worker's query, and the server was
/// never stopped (no TracerPid while traced).
#[test]
fn perf_backend_catches_a_workers_enospc_with_stack_and_query() {
    if pg::skip_unless_available("perf_backend_catches_a_workers_enospc_with_stack_and_query") {
        return;
    }
    let pg = cluster();
    load_pair(&pg, "a", "b", HASH_JOIN_ROWS);
    let out = pg.socket_dir().join("perf-enospc.out");
    let o = out.to_str().unwrap_or_default();
    let stderr = out.with_extension("stderr");
    let pm = pg.postmaster_pid();
    let mut child = spawn_perf(
        &[
            "--backend=perf",
            "-f",
            "-k",
            "-e",
            "trace=openat,ftruncate,fallocate",
            "-o",
            o,
        ],
        pm,
        &stderr,
    );
    assert_eq!(pg::tracer_pid(pm), Some(0), "perf must not ptrace");
    let failed = psql_session(&pg, &["SET parallel_leader_participation = off", BIG_JOIN]);
    assert!(!failed.success, "the join succeeded: {}", failed.stdout);
    let size = enospc_size(&failed.stderr);
    std::thread::sleep(Duration::from_millis(200));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let st = pg::wait_timeout(&mut child, Duration::from_secs(60))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("pgstrace did not exit on SIGINT"));
    assert_eq!(
        st.code(),
        Some(128 + libc::SIGINT),
        "{st}: {}",
        fs::read_to_string(&stderr).unwrap_or_default()
    );
    pg.assert_untraced_and_healthy("pgstrace --backend=perf");
    let text = fs::read_to_string(&out).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| {
            l.contains("fallocate(")
                && l.contains(&format!(", {size})"))
                && l.contains(" = -1 ENOSPC")
        })
        .unwrap_or_else(|| panic!("no failing fallocate of {size} bytes:\n{text}"));
    let frames: Vec<&str> = lines[at + 1..]
        .iter()
        .take_while(|l| l.starts_with(" > "))
        .copied()
        .collect();
    let stack = frames.join("\n");
    assert!(
        stack.contains("(dsm_create+") || stack.contains("dsm_impl"),
        "{stack}"
    );
    assert!(
        stack.contains("(dsa_allocate_extended+") || stack.contains("(make_new_segment"),
        "{stack}"
    );
    assert!(stack.contains("ExecParallelHash"), "{stack}");
    let pid = line_pid(lines[at]).unwrap_or_else(|| panic!("no pid: {}", lines[at]));
    assert!(
        lines[..at]
            .iter()
            .any(|l| query_note(l) == Some((pid, BIG_JOIN))),
        "no query note for worker {pid}:\n{text}"
    );
    // The segment's path came from the stack copy: the name, not an address.
    assert!(text.contains("\"/dev/shm/PostgreSQL."), "{text}");
}

/// Under the kernel-side source a statement is read from the backend after its `recvfrom`
/// was seen, milliseconds later, when the backend may be statements further on. A note is
/// made only when the read is known to have found the statement of the lines after it (no
/// later message had arrived before the read ended); else the statement is said to be
/// unknown. Five tables whose files each statement on them `lseek`s: every such lseek after
/// a note must be on the noted table's file. Fast statements (most read too late: the old
/// late read noted the wrong one for most of them), then slow ones (read while they run,
/// so noted), with every call traced and with a traced set.
#[test]
fn perf_notes_only_statements_read_while_they_ran() {
    if pg::skip_unless_available("perf_notes_only_statements_read_while_they_ran") {
        return;
    }
    let pg = cluster();
    let mut files = Vec::new();
    for k in 1..=5 {
        psql_ok(&pg, &format!("CREATE TABLE nt{k} AS SELECT 1 AS x"));
        let path = psql_ok(&pg, &format!("SELECT pg_relation_filepath('nt{k}')"));
        files.push((format!("/{}>", path.trim()), format!("nt{k}")));
    }
    let dir = pg.socket_dir().to_path_buf();
    let fast: String = (0..1500)
        .map(|i| format!("SELECT count(*) FROM nt{};\n", i % 5 + 1))
        .collect();
    let slow: String = (0..25)
        .map(|i| format!("SELECT count(*) FROM nt{}, pg_sleep(0.04);\n", i % 5 + 1))
        .collect();
    for (name, sql) in [("fast.sql", &fast), ("slow.sql", &slow)] {
        fs::write(dir.join(name), sql).unwrap_or_else(|e| panic!("{e}"));
    }
    for (i, set) in [None, Some("trace=lseek")].into_iter().enumerate() {
        let out = dir.join(format!("perf-notes-{i}.out"));
        let o = out.to_str().unwrap_or_default();
        let stderr = out.with_extension("stderr");
        let mut args = vec!["--backend=perf", "-f", "-y", "-o", o];
        args.extend(set.map(|s| ["-e", s]).into_iter().flatten());
        let mut child = spawn_perf(&args, pg.postmaster_pid(), &stderr);
        for name in ["fast.sql", "slow.sql"] {
            let mut c = pg.psql_command();
            c.arg("-f").arg(dir.join(name));
            let r = pg::run_with_timeout(c, pg::CMD_TIMEOUT).unwrap_or_else(|e| panic!("{e:#}"));
            assert!(r.success, "{}", r.stderr);
        }
        std::thread::sleep(Duration::from_millis(300));
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let _ = pg::wait_timeout(&mut child, Duration::from_secs(60));
        pg.assert_untraced_and_healthy("pgstrace --backend=perf");
        let text = fs::read_to_string(&out).unwrap_or_default();
        let (mut noted, mut slow_noted, mut agree) = (0, 0, 0);
        let mut current: std::collections::HashMap<u32, Option<String>> = Default::default();
        for line in text.lines() {
            if let Some((pid, q)) = query_note(line) {
                let table = files.iter().find(|(_, t)| q.contains(&format!("FROM {t}")));
                current.insert(pid, table.map(|(_, t)| t.clone()));
                noted += usize::from(table.is_some());
                slow_noted += usize::from(table.is_some() && q.contains("pg_sleep"));
                continue;
            }
            let Some(pid) = line_pid(line) else { continue };
            let Some((_, t)) = files
                .iter()
                .find(|(f, _)| line.contains("lseek(") && line.contains(f.as_str()))
            else {
                continue;
            };
            if let Some(Some(q)) = current.get(&pid) {
                assert_eq!(
                    q, t,
                    "{set:?}: a note for {q} before a line on {t}:\n{line}"
                );
                agree += 1;
            }
        }
        assert!(
            slow_noted >= 15,
            "{set:?}: {slow_noted} of 25 slow statements noted ({noted} in all):\n{text}"
        );
        assert!(agree >= slow_noted, "{set:?}: {agree} lines checked");
        assert!(
            !text.contains("recvfrom(") || set.is_none(),
            "{set:?}: watched calls shown"
        );
    }
}

/// `--watch --json`: one object per event; the failure's has the size psql reports, the
/// worker, the query, the /dev/shm at the failing call, and ranked machine-applicable
/// remedies (the same as explain-shm's).
#[test]
fn watch_json_has_one_object_per_event_and_the_remedies() {
    if pg::skip_unless_available("watch_json_has_one_object_per_event_and_the_remedies") {
        return;
    }
    let pg = cluster();
    load_pair(&pg, "a", "b", HASH_JOIN_ROWS);
    let out = pg.socket_dir().join("watch-json.out");
    let o = out.to_str().unwrap_or_default();
    let tracer = Tracer::start(&["explain-shm", "--watch", "--json", "-o", o], &pg, &out);
    let failed = psql_session(&pg, &["SET parallel_leader_participation = off", BIG_JOIN]);
    assert!(!failed.success, "the join succeeded: {}", failed.stdout);
    let size = enospc_size(&failed.stderr);
    let text = tracer.stop();
    pg.assert_untraced_and_healthy("pgstrace");
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(events.iter().any(|e| e["event"] == "create"), "{text}");
    assert!(events.iter().any(|e| e["event"] == "destroy"), "{text}");
    let f = events
        .iter()
        .find(|e| e["event"] == "enospc" && e["size"] == size)
        .unwrap_or_else(|| panic!("no enospc event of {size} bytes: {text}"));
    assert_eq!(f["query"], BIG_JOIN, "{f:#}");
    assert!(f["leader_pid"].is_u64(), "a worker's failure: {f:#}");
    assert!(f["shm"]["size"].as_u64() == Some(32 << 20), "{f:#}");
    let remedies = f["remedies"].as_array().cloned().unwrap_or_default();
    assert!(
        remedies
            .iter()
            .any(|r| r["action"] == "resize_shm" && r["bytes"].is_u64()),
        "{f:#}"
    );
    assert!(
        remedies
            .iter()
            .all(|r| r["why"].is_string() && r["cost"].is_string()),
        "{f:#}"
    );
}

#[test]
fn watch_explains_a_leader_failure_and_detaches_on_sigint() {
    if pg::skip_unless_available("watch_explains_a_leader_failure_and_detaches_on_sigint") {
        return;
    }
    let pg = cluster();
    load_pair(&pg, "s1", "s2", SMALL_ROWS);
    let out = pg.socket_dir().join("watch-leader.out");
    // ptrace: the listing of /dev/shm is taken while the failing backend is held, so the
    // fill file is in it (the kernel-side source reads it after the test removed it).
    let tracer = watch_ptrace(&pg, &out);
    // Leave about 100 KiB: less than the session segment or the main parallel segment.
    let free = pg.shm_free().unwrap_or_else(|e| panic!("statvfs: {e:#}"));
    pg.fill_shm(free - 100 * 1024)
        .unwrap_or_else(|e| panic!("fill_shm: {e:#}"));
    let failed = psql_session(&pg, &["SET min_parallel_table_scan_size = 0", SMALL_JOIN]);
    pg.unfill_shm().unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        !failed.success,
        "succeeded on a full /dev/shm: {}",
        failed.stdout
    );
    let size = enospc_size(&failed.stderr);
    let text = tracer.stop();
    pg.assert_untraced_and_healthy("pgstrace");

    let block = text
        .split_once(" ENOSPC  PostgreSQL.")
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("no ENOSPC explanation:\n{text}"));
    assert!(block.contains(&format!(" of {size} bytes")), "{text}");
    assert!(
        block.contains("Gather starting its workers") || block.contains("per-session segment"),
        "{text}"
    );
    assert!(block.contains(&format!("query:    {SMALL_JOIN}")), "{text}");
    // The fill file is what holds the space, seen at the failure.
    assert!(block.contains("pgstrace-test-fill"), "{text}");
}

/// A session connected before the watch began is attached too: its failure is explained.
#[test]
fn watch_follows_sessions_connected_before_it() {
    if pg::skip_unless_available("watch_follows_sessions_connected_before_it") {
        return;
    }
    let pg = cluster();
    load_pair(&pg, "s1", "s2", SMALL_ROWS);
    // An interactive psql: connected now, its statements come later through stdin.
    let mut psql = pg.psql_command();
    let mut session = psql
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("psql: {e}"));
    let mut stdin = session.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    use std::io::Write as _;
    writeln!(stdin, "SELECT 1;").unwrap_or_else(|e| panic!("{e}"));
    stdin.flush().unwrap_or_else(|e| panic!("{e}"));
    // Wait for its backend to exist before the watch starts.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pg.processes().into_iter().any(|p| {
        fs::read(format!("/proc/{p}/cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("[local]"))
    }) {
        assert!(
            Instant::now() < deadline,
            "the psql session never connected"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = pg.socket_dir().join("watch-existing.out");
    let tracer = watch(&pg, &out);
    let free = pg.shm_free().unwrap_or_else(|e| panic!("statvfs: {e:#}"));
    pg.fill_shm(free - 100 * 1024)
        .unwrap_or_else(|e| panic!("fill_shm: {e:#}"));
    writeln!(
        stdin,
        "SET min_parallel_table_scan_size = 0;\n{SMALL_JOIN};\n\\q"
    )
    .unwrap_or_else(|e| panic!("{e}"));
    drop(stdin);
    let output = session
        .wait_with_output()
        .unwrap_or_else(|e| panic!("psql: {e}"));
    pg.unfill_shm().unwrap_or_else(|e| panic!("{e:#}"));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    enospc_size(&stderr);
    let text = tracer.stop();
    pg.assert_untraced_and_healthy("pgstrace");
    assert!(
        text.contains(" ENOSPC  PostgreSQL."),
        "the failure of a session connected before the watch was not seen:\n{text}"
    );
}

/// `-k` on the postmaster: when a backend exits, the postmaster's SIGCHLD handler returns
/// through `rt_sigreturn`, whose stack must be the code the signal interrupted (the
/// postmaster waiting in select() in ServerLoop), named only where symbols cover it, with no
/// frame guessed by frame pointers in a module that has CFI.
#[test]
fn postmaster_sigreturn_stack_is_the_interrupted_server_loop() {
    if pg::skip_unless_available("postmaster_sigreturn_stack_is_the_interrupted_server_loop") {
        return;
    }
    let pg = cluster();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("trace");
    let t = Tracer::trace(&["-k", "-e", "trace=rt_sigreturn"], &pg, &out);
    // Each session's backend exits when psql does: a SIGCHLD for the postmaster.
    for _ in 0..3 {
        psql_ok(&pg, "SELECT 1");
    }
    std::thread::sleep(Duration::from_millis(300));
    let text = t.stop();
    let stack: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("rt_sigreturn("))
        .skip(1)
        .take_while(|l| l.starts_with(" > "))
        .collect();
    assert!(!stack.is_empty(), "no rt_sigreturn stack in:\n{text}");
    // The postmaster sleeps in select(2) in ServerLoop, a static function: in Debian's
    // stripped binary it is a postgres frame without a name (no symbol covers it), between
    // libc's __select and PostmasterMain.
    let at = |i: usize| stack.get(i).copied().unwrap_or_default();
    assert!(at(0).contains("libc.so.6(__select+0x"), "{stack:#?}");
    assert!(
        at(1).contains("/bin/postgres(") && !at(1).contains("PostmasterMain"),
        "the interrupted ServerLoop is missing: {stack:#?}"
    );
    assert!(at(2).contains("(PostmasterMain+0x"), "{stack:#?}");
    assert!(
        stack
            .iter()
            .all(|f| !f.contains("no CFI") && !f.contains("[unknown]")),
        "{stack:#?}"
    );
    pg.assert_untraced_and_healthy("pgstrace -k on the postmaster");
}

/// One psql session kept open (one backend), its statements sent one at a time.
struct Session {
    psql: Child,
    input: Option<std::process::ChildStdin>,
    out: PathBuf,
}

impl Session {
    fn open(pg: &PgCluster, dir: &Path) -> Session {
        let out = dir.join("psql.out");
        let file = fs::File::create(&out).unwrap_or_else(|e| panic!("{e}"));
        let mut psql = pg
            .psql_command()
            .arg("-At")
            .stdin(Stdio::piped())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("psql: {e}"));
        let input = psql.stdin.take();
        Session { psql, input, out }
    }

    fn output(&self) -> String {
        fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Sends `sql` and waits until psql has printed `lines` lines in all.
    fn send(&mut self, sql: &str, lines: usize) {
        use std::io::Write as _;
        if let Some(i) = self.input.as_mut() {
            let _ = writeln!(i, "{sql}");
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.output().lines().count() < lines {
            assert!(Instant::now() < deadline, "psql printed: {}", self.output());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn line(&self, n: usize) -> String {
        self.output()
            .lines()
            .nth(n)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    fn close(mut self) {
        self.input = None;
        let _ = pg::wait_timeout(&mut self.psql, Duration::from_secs(30));
    }
}

/// `pgstrace probe -p BACKEND SPEC` with its hits written to `hits`, once it has attached.
fn probe_backend(backend: u32, spec: &str, hits: &Path) -> Child {
    probe_with(backend, &[spec], hits)
}

/// `pgstrace probe -p PID ARGS...`, once it has attached.
fn probe_with(backend: u32, args: &[&str], hits: &Path) -> Child {
    let probe = Command::new(PGSTRACE)
        .args(["probe", "-p", &backend.to_string()])
        .args(args)
        .stdout(fs::File::create(hits).unwrap_or_else(|e| panic!("{e}")))
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("pgstrace probe: {e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while pg::tracer_pid(backend).is_none_or(|t| t == 0) {
        assert!(Instant::now() < deadline, "probe did not attach");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    probe
}

/// Ctrl-C to the probe; it must exit cleanly.
fn stop_probe(mut probe: Child) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(probe.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let status = pg::wait_timeout(&mut probe, Duration::from_secs(60))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("probe did not exit on SIGINT"));
    assert!(status.success(), "probe exit {status}");
}

/// The server log shows no crashed process.
fn assert_no_crash(pg: &PgCluster) {
    let log = pg.server_log();
    assert!(
        !log.contains("terminated by signal") && !log.contains("PANIC"),
        "{log}"
    );
}

/// `pgstrace probe -p BACKEND 'dsm_create size=$arg1:u64'` during a parallel query: the
/// sizes the backend asks dsm_create for (the 196,736-byte per-session segment first), then
/// a clean detach: the backend answers the next query and the server log has no crash.
#[test]
fn probe_captures_dsm_create_sizes_in_a_backend() {
    if pg::skip_unless_available("probe_captures_dsm_create_sizes_in_a_backend") {
        return;
    }
    let pg = cluster();
    load_pair(&pg, "pa", "pb", 100_000);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut session = Session::open(&pg, dir.path());
    session.send("SELECT pg_backend_pid();", 1);
    let bpid: u32 = session
        .line(0)
        .parse()
        .unwrap_or_else(|_| panic!("backend pid {:?}", session.line(0)));
    let hits_path = dir.path().join("hits");
    let probe = probe_backend(bpid, "dsm_create size=$arg1:u64", &hits_path);
    session.send(
        "SET min_parallel_table_scan_size = 0; SELECT count(*) FROM pa JOIN pb USING (id);",
        2,
    );
    stop_probe(probe);
    let hits = fs::read_to_string(&hits_path).unwrap_or_default();
    let sizes: Vec<u64> = hits
        .lines()
        .filter_map(|l| {
            let v = l.split_once(" size=")?.1;
            v.split_whitespace().next()?.parse().ok()
        })
        .collect();
    // Each hit names the statement the backend was running.
    assert!(
        hits.lines()
            .all(|l| l.contains("# query: ") && l.contains("JOIN pb")),
        "{hits}"
    );
    assert_eq!(
        sizes.first(),
        Some(&196_736),
        "the per-session segment first: {hits}"
    );
    assert!(sizes.len() >= 2, "the main parallel segment too: {hits}");
    assert_eq!(pg::tracer_pid(bpid), Some(0), "the backend is still traced");
    // The same session answers again, and nothing crashed.
    session.send("SELECT 42;", 3);
    assert_eq!(session.line(2), "42");
    session.close();
    assert_no_crash(&pg);
    pg.assert_untraced_and_healthy("pgstrace probe on a backend");
}

/// Probes in a critical section: XLogInsert runs inside START_CRIT_SECTION in heap_insert,
/// so each hit says it was taken from the registers only and resumed at once; the heap
/// insert's record is there (rmid 10, RM_HEAP_ID), and the INSERT commits.
#[test]
fn probe_hits_in_a_critical_section_are_registers_only() {
    if pg::skip_unless_available("probe_hits_in_a_critical_section_are_registers_only") {
        return;
    }
    let pg = cluster();
    psql_ok(&pg, "CREATE TABLE ct (id int)");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut session = Session::open(&pg, dir.path());
    session.send("SELECT pg_backend_pid();", 1);
    let bpid: u32 = session
        .line(0)
        .parse()
        .unwrap_or_else(|_| panic!("backend pid {:?}", session.line(0)));
    let hits_path = dir.path().join("hits");
    let probe = probe_backend(bpid, "XLogInsert rmid=$arg1:u8 info=$arg2:x8", &hits_path);
    session.send("INSERT INTO ct VALUES (1); SELECT 'inserted';", 2);
    stop_probe(probe);
    let hits = fs::read_to_string(&hits_path).unwrap_or_default();
    assert!(
        hits.lines().any(|l| l.contains(" rmid=10 ")),
        "no heap insert record: {hits}"
    );
    assert!(
        hits.lines()
            .all(|l| l.contains("(in a critical section: registers and stack copied")),
        "{hits}"
    );
    session.send("SELECT count(*) FROM ct;", 3);
    assert_eq!(session.line(2), "1");
    session.close();
    assert_no_crash(&pg);
    pg.assert_untraced_and_healthy("pgstrace probe XLogInsert");
}

/// The pid of a probe hit line (`TIME pid N PROBE: ...`).
fn hit_pid(line: &str) -> Option<u32> {
    let mut w = line.split_whitespace();
    w.next()?;
    (w.next()? == "pid").then_some(())?;
    w.next()?.parse().ok()
}

/// `probe -f -p POSTMASTER`: every backend and parallel worker the postmaster forks is armed
/// before it runs; a session opened afterwards is caught (its 196,736-byte session segment
/// first, then the parallel query's segments), and so are the query's parallel workers
/// (their own pids, the leader's statement). A refused function is refused before anything
/// is attached. Afterwards the cluster is untraced, answers, and no process died.
#[test]
fn probe_f_on_the_postmaster_arms_new_backends_and_workers() {
    if pg::skip_unless_available("probe_f_on_the_postmaster_arms_new_backends_and_workers") {
        return;
    }
    let pg = cluster();
    load_pair(&pg, "fa", "fb", 200_000);
    let pm = pg.postmaster_pid();
    let refused = Command::new(PGSTRACE)
        .args(["probe", "-f", "-p", &pm.to_string(), "XLogInsertRecord"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.lines().count() == 1,
        "{err}"
    );
    assert!(err.contains("WAL") && err.contains("--force"), "{err}");
    assert_eq!(pg::tracer_pid(pm), Some(0));

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let query = "SET min_parallel_table_scan_size = 0; SET parallel_leader_participation = off; \
                 SELECT count(*) FROM fa JOIN fb USING (id);";
    // The sizes the same query's fallocate calls show (a first session, traced).
    let traced = dir.path().join("fallocate.trace");
    let tracer = Tracer::trace(&["-f", "-e", "trace=fallocate"], &pg, &traced);
    let s1 = dir.path().join("s1");
    fs::create_dir_all(&s1).unwrap_or_else(|e| panic!("{e}"));
    let mut first = Session::open(&pg, &s1);
    first.send(query, 1);
    first.close();
    let trace = tracer.stop();
    let fallocated: std::collections::BTreeSet<u64> = trace
        .lines()
        .filter_map(|l| {
            // `fallocate(FD, 0, 0, LEN) = 0`, or `fallocate(FD, 0, 0, LEN <unfinished ...>`
            // when another process's line came between the call's entry and its exit.
            let args = l.split_once("fallocate(")?.1;
            let last = args.split(')').next()?.rsplit(", ").next()?;
            last.split_whitespace().next()?.parse().ok()
        })
        .collect();
    assert!(fallocated.contains(&196_736), "{trace}");
    let hits_path = dir.path().join("hits");
    let probe = probe_with(pm, &["-f", "dsm_create size=$arg1:u64"], &hits_path);
    let mut session = Session::open(&pg, dir.path());
    session.send("SELECT pg_backend_pid();", 1);
    let bpid: u32 = session
        .line(0)
        .parse()
        .unwrap_or_else(|_| panic!("backend pid {:?}", session.line(0)));
    session.send(query, 2);
    assert_eq!(session.line(1), "200000");
    stop_probe(probe);
    let hits = fs::read_to_string(&hits_path).unwrap_or_default();
    let mut per_pid: std::collections::BTreeMap<u32, Vec<u64>> = Default::default();
    for l in hits.lines() {
        let (Some(pid), Some(size)) = (
            hit_pid(l),
            l.split_once(" size=")
                .and_then(|(_, v)| v.split_whitespace().next()?.parse().ok()),
        ) else {
            continue;
        };
        per_pid.entry(pid).or_default().push(size);
    }
    let leader = per_pid.get(&bpid).cloned().unwrap_or_default();
    assert_eq!(
        leader.first(),
        Some(&196_736),
        "the session segment first: {hits}"
    );
    assert!(leader.len() >= 2, "the main parallel segment too: {hits}");
    assert!(
        !per_pid.contains_key(&pm),
        "the postmaster makes no segment: {hits}"
    );
    // The sizes asked for are the sizes the fallocate trace showed.
    let probed: std::collections::BTreeSet<u64> = per_pid.values().flatten().copied().collect();
    assert_eq!(probed, fallocated, "probe: {hits}\ntrace: {trace}");
    let workers: Vec<&u32> = per_pid.keys().filter(|&&p| p != bpid).collect();
    assert!(!workers.is_empty(), "no parallel worker was caught: {hits}");
    assert!(
        hits.lines()
            .filter(|l| hit_pid(l) != Some(bpid))
            .all(|l| l.contains("JOIN fb")),
        "workers run the leader's statement: {hits}"
    );
    session.send("SELECT 42;", 3);
    assert_eq!(session.line(2), "42");
    session.close();
    assert_no_crash(&pg);
    pg.assert_untraced_and_healthy("pgstrace probe -f on the postmaster");
}

/// `-e inject=fallocate:error=ENOSPC` reproduces the failure on a server whose /dev/shm is
/// big enough: PostgreSQL reports `could not resize shared memory segment ... No space left
/// on device`, the trace marks the call `(INJECTED)`, and `explain-shm --watch` with the same
/// `-e` explains the failure and says it was injected. Afterwards the server answers.
#[test]
fn injected_enospc_reproduces_the_failure_and_is_explained_as_injected() {
    if pg::skip_unless_available(
        "injected_enospc_reproduces_the_failure_and_is_explained_as_injected",
    ) {
        return;
    }
    let pg = PgCluster::start(
        PgOpts::default()
            .shm_mib(256)
            .set("max_parallel_workers_per_gather", "2")
            .set("parallel_setup_cost", "0")
            .set("parallel_tuple_cost", "0")
            .set("min_parallel_table_scan_size", "0"),
    )
    .unwrap_or_else(|e| panic!("starting the cluster: {e:#}"));
    load_pair(&pg, "ia", "ib", 40_000);
    let join = "SELECT count(*) FROM ia JOIN ib USING (id)";
    assert_eq!(psql_ok(&pg, join).trim(), "40000");

    let traced = pg.socket_dir().join("inject.trace");
    let tracer = Tracer::trace(
        &[
            "-f",
            "-e",
            "trace=fallocate",
            "-e",
            "inject=fallocate:error=ENOSPC:when=1",
        ],
        &pg,
        &traced,
    );
    let failed = psql_session(&pg, &[join]);
    let trace = tracer.stop();
    assert!(!failed.success, "the query succeeded: {}", failed.stdout);
    enospc_size(&failed.stderr);
    assert!(
        trace.lines().any(|l| l.contains("fallocate(")
            && l.ends_with("= -1 ENOSPC (No space left on device) (INJECTED)")),
        "{trace}"
    );
    pg.assert_untraced_and_healthy("pgstrace -e inject");

    let out = pg.socket_dir().join("inject-watch.out");
    let o = out.to_str().unwrap_or_default();
    let watch = Tracer::start(
        &[
            "explain-shm",
            "--watch",
            "-e",
            "inject=fallocate:error=ENOSPC:when=1",
            "-o",
            o,
        ],
        &pg,
        &out,
    );
    let failed = psql_session(&pg, &[join]);
    let text = watch.stop();
    assert!(!failed.success, "the query succeeded: {}", failed.stdout);
    let size = enospc_size(&failed.stderr);
    assert!(text.contains("INJECTED by -e inject"), "{text}");
    assert!(text.contains(&format!(" of {size} bytes")), "{text}");
    pg.assert_untraced_and_healthy("explain-shm --watch -e inject");
    assert_eq!(psql_ok(&pg, join).trim(), "40000");
}

/// A trace line's shape: its call with every string, number and address masked, so that
/// two runs of the same program compare by how each call is decoded, not by its values.
fn call_shape(line: &str) -> Option<String> {
    let strings = regex::Regex::new(r#""(\\.|[^"\\])*"(\.\.\.)?"#).ok()?;
    let hex = regex::Regex::new(r"0x[0-9a-f]+").ok()?;
    let num = regex::Regex::new(r"\d+").ok()?;
    let pad = regex::Regex::new(r"\s+= ").ok()?;
    let body = line.trim_end();
    let name_end = body.find('(')?;
    if body.is_empty()
        || !body[..name_end]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let s = strings.replace_all(body, "S");
    let s = hex.replace_all(&s, "X");
    let s = num.replace_all(&s, "N");
    Some(pad.replace_all(&s, " = ").into_owned())
}

/// The shapes of every line in the `-ff` files `DIR/t.PID`.
fn shapes_in(dir: &Path) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap_or_else(|e| panic!("{e}")).path();
        if !p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("t."))
        {
            continue;
        }
        let text = fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        out.extend(
            String::from_utf8_lossy(&text)
                .lines()
                .filter_map(call_shape),
        );
    }
    out
}

/// The decoding PostgreSQL meets, against strace as the oracle: initdb, which runs the
/// server in bootstrap and single-user mode (storage, WAL, shared memory, semaphores,
/// signals), traced whole by strace and by pgstrace (`-ff -u postgres`, one file per
/// process, so that no call is split by another's). Every call shape (the call with its
/// values masked) strace prints, pgstrace prints, and none other: a call pgstrace left raw,
/// or decoded differently, shows as a pair of shapes.
#[test]
fn initdb_decodes_like_strace() {
    if pg::skip_unless_available("initdb_decodes_like_strace") {
        return;
    }
    let (uid, gid) = pg::postgres_ids().unwrap_or_else(|e| panic!("{e:#}"));
    let mut shapes = Vec::new();
    for tracer in ["strace", PGSTRACE] {
        let dir = tempfile::Builder::new()
            .prefix("pgstrace-initdb-")
            .tempdir_in("/tmp")
            .unwrap_or_else(|e| panic!("{e}"));
        nix::unistd::chown(
            dir.path(),
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = Command::new(tracer);
        if tracer == PGSTRACE {
            cmd.arg("--no-pg");
        }
        cmd.args(["-ff", "-u", "postgres", "-o"])
            .arg(dir.path().join("t"))
            .arg(format!("{}/initdb", pg::PG_BIN))
            .arg("-D")
            .arg(dir.path().join("data"))
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync")
            .current_dir(dir.path());
        let out = pg::run_with_timeout(cmd, Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("{tracer}: {e:#}"));
        assert!(
            out.success,
            "initdb under {tracer}: {}{}",
            out.stdout, out.stderr
        );
        shapes.push(shapes_in(dir.path()));
    }
    let (s, p) = (&shapes[0], &shapes[1]);
    assert!(
        s.len() > 100,
        "strace's trace of initdb has {} shapes",
        s.len()
    );
    let only_s: Vec<&String> = s.difference(p).collect();
    let only_p: Vec<&String> = p.difference(s).collect();
    assert!(
        only_s.is_empty() && only_p.is_empty(),
        "calls decoded differently ({} shapes in all):\nstrace only:\n  {}\npgstrace only:\n  {}",
        s.len(),
        only_s
            .iter()
            .map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        only_p
            .iter()
            .map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// Stops a postmaster started by a test, whatever happened to the test.
struct StopServer(PathBuf);

impl Drop for StopServer {
    fn drop(&mut self) {
        let mut c = pg::as_postgres(&format!("{}/pg_ctl", pg::PG_BIN));
        c.arg("-D")
            .arg(&self.0)
            .args(["stop", "-m", "immediate", "-w", "-t", "30"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = pg::run_with_timeout(c, pg::CMD_TIMEOUT);
    }
}

/// The netlink exchange of a postmaster that listens on every address
/// (`listen_addresses='*'`): glibc's getaddrinfo asks the kernel for the host's addresses
/// (an RTM_GETADDR dump on a route socket) to sort the wildcard addresses. The postmaster is
/// traced from its start, by strace and by pgstrace (`-f -u postgres -e trace=%network`), and
/// stopped with `pg_ctl stop -m fast`; the netlink lines (request, every RTM_NEWADDR with its
/// attributes, NLMSG_DONE) must be the same, sequence numbers and port ids masked.
#[test]
fn listening_postmaster_netlink_decodes_like_strace() {
    postmaster_netlink("listening_postmaster_netlink_decodes_like_strace", false);
}

/// `samehost` in pg_hba.conf: the backend that authenticates a TCP client calls getifaddrs,
/// a link dump (RTM_NEWLINK with its IFLA attributes) and an address dump. The same traced
/// server as above, in a network namespace of this test's thread (its children inherit it)
/// with loopback up and a veth pair holding an address, so that no counter moves between the
/// strace run and the pgstrace run; a psql connects over 127.0.0.1 before the stop.
#[test]
fn samehost_backend_netlink_decodes_like_strace() {
    if pg::skip_unless_available("samehost_backend_netlink_decodes_like_strace") {
        return;
    }
    netns::in_private_netns(
        &[
            &["link", "set", "lo", "up"],
            &["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            &["addr", "add", "10.9.0.1/24", "dev", "v0"],
        ],
        || postmaster_netlink("samehost_backend_netlink_decodes_like_strace", true),
    );
}

/// A postmaster traced from its start by strace, then by pgstrace; with `samehost`, pg_hba's
/// first line is `host all all samehost trust` and a client connects over TCP. Compares the
/// netlink lines.
fn postmaster_netlink(name: &str, samehost: bool) {
    use std::os::unix::process::CommandExt;
    if pg::skip_unless_available(name) {
        return;
    }
    let (uid, gid) = pg::postgres_ids().unwrap_or_else(|e| panic!("{e:#}"));
    let dir = tempfile::Builder::new()
        .prefix("pgstrace-listen-")
        .tempdir_in("/tmp")
        .unwrap_or_else(|e| panic!("{e}"));
    nix::unistd::chown(
        dir.path(),
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let mut initdb = pg::as_postgres(&format!("{}/initdb", pg::PG_BIN));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
        .arg("--no-sync")
        .current_dir(dir.path());
    let out = pg::run_with_timeout(initdb, pg::CMD_TIMEOUT).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(out.success, "initdb: {}{}", out.stdout, out.stderr);
    if samehost {
        let hba = data.join("pg_hba.conf");
        let old = fs::read_to_string(&hba).unwrap_or_else(|e| panic!("{e}"));
        fs::write(&hba, format!("host all all samehost trust\n{old}"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let port = pg::free_port().unwrap_or_else(|e| panic!("{e:#}"));
    let masks = [
        (regex::Regex::new(r"nlmsg_seq=\d+"), "nlmsg_seq=SEQ"),
        (regex::Regex::new(r"nlmsg_pid=\d+"), "nlmsg_pid=PID"),
        (regex::Regex::new(r"nl_pid=\d+"), "nl_pid=PID"),
        (regex::Regex::new(r"ifa_prefered=\d+"), "ifa_prefered=T"),
        (regex::Regex::new(r"ifa_valid=\d+"), "ifa_valid=T"),
        // The client's own packets over loopback, between the two runs.
        (
            regex::Regex::new(r"\b([rt]x_(?:packets|bytes))=\d+"),
            "${1}=N",
        ),
    ];
    let mut netlink = Vec::new();
    for tracer in ["strace", PGSTRACE] {
        let trace = dir.path().join(format!("t-{}", netlink.len()));
        let log = fs::File::create(dir.path().join("server.log")).unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = Command::new(tracer);
        if tracer == PGSTRACE {
            cmd.arg("--no-pg");
        }
        cmd.args(["-f", "-u", "postgres", "-e", "trace=%network", "-o"])
            .arg(&trace)
            .arg(format!("{}/postgres", pg::PG_BIN))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=*", "-c"])
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap_or_else(|e| panic!("{e}")))
            .stderr(log)
            .process_group(0);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{tracer}: {e}"));
        let stop = StopServer(data.clone());
        let pid_file = data.join("postmaster.pid");
        let deadline = Instant::now() + pg::CMD_TIMEOUT;
        // Ready once postmaster.pid's status line says so.
        while !fs::read_to_string(&pid_file).is_ok_and(|s| s.contains("ready")) {
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                panic!(
                    "{tracer}: the server did not start: {}",
                    fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if samehost {
            let mut psql = pg::as_postgres(&format!("{}/psql", pg::PG_BIN));
            psql.args([
                "-X",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", "postgres", "-Atc", "select 1"]);
            let out =
                pg::run_with_timeout(psql, pg::CMD_TIMEOUT).unwrap_or_else(|e| panic!("{e:#}"));
            assert!(
                out.success && out.stdout.trim() == "1",
                "{tracer}: psql over samehost: {}{}",
                out.stdout,
                out.stderr
            );
        }
        let mut pg_ctl = pg::as_postgres(&format!("{}/pg_ctl", pg::PG_BIN));
        pg_ctl
            .arg("-D")
            .arg(&data)
            .args(["stop", "-m", "fast", "-w"]);
        let out = pg::run_with_timeout(pg_ctl, pg::CMD_TIMEOUT).unwrap_or_else(|e| panic!("{e:#}"));
        assert!(out.success, "pg_ctl stop: {}{}", out.stdout, out.stderr);
        drop(stop);
        let status = loop {
            if let Some(st) = child.try_wait().ok().flatten() {
                break st;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{tracer} did not end after the server stopped");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{tracer}: {status:?}");
        let text = fs::read_to_string(&trace).unwrap_or_else(|e| panic!("{e}"));
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.contains("nlmsg_"))
            .map(|l| {
                // Drop the pid prefix of -f -o.
                let l = l.split_once(' ').map_or(l, |(p, rest)| {
                    if p.bytes().all(|b| b.is_ascii_digit()) {
                        rest
                    } else {
                        l
                    }
                });
                let mut l = l.trim_start().to_string();
                for (re, to) in &masks {
                    let re = re.as_ref().unwrap_or_else(|e| panic!("{e}"));
                    l = re.replace_all(&l, *to).into_owned();
                }
                l
            })
            .collect();
        netlink.push(lines);
    }
    assert!(
        netlink[0].len() >= 3 && netlink[0].iter().any(|l| l.contains("RTM_GETADDR")),
        "strace shows no address dump:\n{}",
        netlink[0].join("\n")
    );
    if samehost {
        assert!(
            netlink[0].iter().any(
                |l| l.contains("RTM_NEWLINK") && l.contains("ifi_index=if_nametoindex(\"v0\")")
            ),
            "strace shows no link dump:\n{}",
            netlink[0].join("\n")
        );
    }
    assert_eq!(
        netlink[0].join("\n"),
        netlink[1].join("\n"),
        "strace's netlink lines, then pgstrace's"
    );
}
