//! Live tests of `pgstrace ps` against a throwaway PostgreSQL 15 cluster in a private mount
//! namespace with a 16 MiB /dev/shm (domain-notes §7):
//!
//! - `ps --json` finds the cluster (postmaster pid, data dir, port, version, the private
//!   /dev/shm's size), a backend asleep in `SELECT pg_sleep(...)` with its query read from
//!   its memory, and a parallel query's workers with their leader;
//! - the text table shows the same;
//! - an unprivileged user gets one line naming CAP_SYS_PTRACE.
//!
//! Settings, backend globals and `cluster_of` are checked at the function level in
//! src/postgres/live_tests.rs (a binary crate's functions are not visible from here).
//! Skipped without root or postgresql-15, unless `PGSTRACE_REQUIRE_PG=1`.

#[path = "support/pg.rs"]
mod pg;

use pg::{PgCluster, PgOpts, run_with_timeout, skip_unless_available};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SHM_MIB: u64 = 16;
const PARALLEL_QUERY: &str = "SELECT count(*) FROM big WHERE pg_sleep(0.0002) IS NOT NULL";

fn pgstrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pgstrace"))
}

/// Kills a background psql on every exit path.
struct Bg(Child);

impl Drop for Bg {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn background_psql(pg: &PgCluster, sqls: &[&str]) -> Bg {
    let mut c = pg.psql_command();
    for s in sqls {
        c.args(["-c", s]);
    }
    c.stdout(Stdio::null()).stderr(Stdio::null());
    match c.spawn() {
        Ok(child) => Bg(child),
        Err(e) => panic!("spawning psql: {e}"),
    }
}

fn ps_json() -> Value {
    let mut c = pgstrace();
    c.args(["ps", "--json"]);
    let out = match run_with_timeout(c, Duration::from_secs(60)) {
        Ok(o) => o,
        Err(e) => panic!("pgstrace ps --json: {e:#}"),
    };
    assert!(out.success, "pgstrace ps --json failed: {}", out.stderr);
    match serde_json::from_str(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {}", out.stdout),
    }
}

fn our_cluster(v: &Value, pm: u32) -> Option<Value> {
    v["clusters"]
        .as_array()?
        .iter()
        .find(|c| c["postmaster_pid"] == pm)
        .cloned()
}

fn processes(c: &Value) -> Vec<Value> {
    c["processes"].as_array().cloned().unwrap_or_default()
}

#[test]
fn ps_finds_cluster_backends_and_parallel_workers() {
    if skip_unless_available("ps_finds_cluster_backends_and_parallel_workers") {
        return;
    }
    let opts = PgOpts::default()
        .shm_mib(SHM_MIB as u32)
        .set("parallel_setup_cost", "0")
        .set("parallel_tuple_cost", "0")
        .set("min_parallel_table_scan_size", "0");
    let pg = match PgCluster::start(opts) {
        Ok(pg) => pg,
        Err(e) => panic!("starting the cluster: {e:#}"),
    };
    let pm = pg.postmaster_pid();
    if let Err(e) = pg.psql(
        "CREATE UNLOGGED TABLE big AS SELECT g FROM generate_series(1, 60000) g; ANALYZE big;",
    ) {
        panic!("loading: {e:#}\n{}", pg.server_log());
    }

    let _sleeper = background_psql(&pg, &["SELECT pg_sleep(60)"]);
    let _parallel = background_psql(&pg, &[PARALLEL_QUERY]);

    // Poll until the sleeping backend and the parallel workers are all visible.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (cluster, procs) = loop {
        let v = ps_json();
        if let Some(c) = our_cluster(&v, pm) {
            let procs = processes(&c);
            let sleeping = procs
                .iter()
                .any(|p| p["query"] == "SELECT pg_sleep(60)" && p["role"] == "backend");
            let workers = procs.iter().any(|p| p["role"] == "parallel worker");
            if sleeping && workers {
                break (c, procs);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no sleeping backend and parallel workers in {v:#}\n{}",
            pg.server_log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };

    assert_eq!(cluster["data_dir"], pg.data_dir().display().to_string());
    assert_eq!(cluster["port"], pg.port());
    assert_eq!(cluster["version"], "15");
    assert_eq!(cluster["shm"]["size_bytes"], SHM_MIB << 20);
    let shm = &cluster["shm"];
    let (used, free) = (shm["used_bytes"].as_u64(), shm["free_bytes"].as_u64());
    assert!(
        used.zip(free).is_some_and(|(u, f)| u + f <= SHM_MIB << 20),
        "{shm}"
    );

    let pm_row = procs.first().cloned().unwrap_or_default();
    assert_eq!(pm_row["pid"], pm);
    assert_eq!(pm_row["role"], "postmaster");
    for role in ["checkpointer", "background writer", "walwriter"] {
        assert!(procs.iter().any(|p| p["role"] == role), "no {role}");
    }
    for p in &procs {
        let keys: Vec<&str> = p
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "database",
                "leader_pid",
                "ns_pid",
                "pid",
                "query",
                "role",
                "user"
            ]
        );
        // The host's cluster: no other namespace pid.
        assert_eq!(p["ns_pid"], Value::Null, "{p}");
    }

    // The text table to a pipe (and with -w) holds whole queries, as ps does: the parallel
    // query is longer than 80 columns once the columns before it are counted.
    for args in [&["ps"][..], &["ps", "-w"]] {
        let mut c = pgstrace();
        c.args(args).env("COLUMNS", "80");
        let out = run_with_timeout(c, Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("pgstrace ps: {e:#}"));
        assert!(out.success, "{}", out.stderr);
        assert!(
            out.stdout.lines().any(|l| l.ends_with(PARALLEL_QUERY)),
            "{args:?}: the query cut:\n{}",
            out.stdout
        );
    }

    let sleeper = procs
        .iter()
        .find(|p| p["query"] == "SELECT pg_sleep(60)")
        .cloned()
        .unwrap_or_default();
    assert_eq!(sleeper["user"], "postgres");
    assert_eq!(sleeper["database"], "postgres");
    assert_eq!(sleeper["leader_pid"], Value::Null);

    let leader = procs
        .iter()
        .find(|p| p["role"] == "backend" && p["query"] == PARALLEL_QUERY)
        .cloned()
        .unwrap_or_else(|| panic!("no leader running the parallel query: {procs:#?}"));
    let workers: Vec<&Value> = procs
        .iter()
        .filter(|p| p["role"] == "parallel worker")
        .collect();
    for w in &workers {
        assert_eq!(w["leader_pid"], leader["pid"], "{w}");
        assert_eq!(w["query"], PARALLEL_QUERY, "{w}");
        assert_eq!(w["database"], "postgres", "{w}");
    }

    // The text table shows the same cluster and processes.
    let mut c = pgstrace();
    c.arg("ps").env("COLUMNS", "200");
    let out = match run_with_timeout(c, Duration::from_secs(60)) {
        Ok(o) => o,
        Err(e) => panic!("pgstrace ps: {e:#}"),
    };
    assert!(out.success, "{}", out.stderr);
    let head = format!(
        "cluster {}  postmaster {pm}  port {}  PostgreSQL 15",
        pg.data_dir().display(),
        pg.port()
    );
    assert!(out.stdout.lines().any(|l| l == head), "{}", out.stdout);
    assert!(
        out.stdout.contains("/dev/shm: size 16.0 MiB"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.lines().any(|l| l.contains(" backend ")
            && l.contains("[local]")
            && l.ends_with("SELECT pg_sleep(60)")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.lines().all(|l| l.chars().count() <= 200));
}

#[test]
fn ps_without_privileges_names_the_capability() {
    if skip_unless_available("ps_without_privileges_names_the_capability") {
        return;
    }
    let pg = match PgCluster::start(PgOpts::default()) {
        Ok(pg) => pg,
        Err(e) => panic!("starting the cluster: {e:#}"),
    };
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--inh-caps=-all",
        "--",
        env!("CARGO_BIN_EXE_pgstrace"),
        "ps",
    ]);
    let out = match run_with_timeout(c, Duration::from_secs(60)) {
        Ok(o) => o,
        Err(e) => panic!("pgstrace ps as nobody: {e:#}"),
    };
    assert_eq!(out.code, Some(1), "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    let line = lines.first().copied().unwrap_or_default();
    assert!(line.starts_with("pgstrace: "), "{line}");
    assert!(line.contains("CAP_SYS_PTRACE"), "{line}");
    assert!(line.contains(&pg.postmaster_pid().to_string()), "{line}");
}

/// A cluster in its own PID and mount namespace (as in a container): `ps` and `explain-shm`
/// see it through /proc, report this namespace's pids and the container's /dev/shm.
#[test]
fn cluster_in_a_pid_namespace_is_found_through_proc() {
    if skip_unless_available("cluster_in_a_pid_namespace_is_found_through_proc") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("pgstrace-pidns-")
        .tempdir_in("/tmp")
        .unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let _ = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(dir.path())
        .status();
    let as_pg = |args: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ])
        .args(args);
        c
    };
    let mut initdb = as_pg(&["/usr/lib/postgresql/15/bin/initdb", "-D"]);
    initdb
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    assert!(
        run_with_timeout(initdb, Duration::from_secs(120)).is_ok_and(|o| o.success),
        "initdb failed"
    );
    // unshare forks: its child is pid 1 of the new namespace and becomes the postmaster;
    // --kill-child takes the whole namespace down with unshare.
    let script =
        "mount -t proc proc /proc && mount -t tmpfs -o size=16m tmpfs /dev/shm && exec \"$@\"";
    let sock = dir.path().to_string_lossy().into_owned();
    let mut ns = Command::new("unshare");
    ns.args([
        "--pid",
        "--fork",
        "--kill-child",
        "--mount",
        "--propagation",
        "private",
    ])
    .args(["sh", "-c", script, "sh"])
    .args([
        "setpriv",
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        "--",
    ])
    .arg("/usr/lib/postgresql/15/bin/postgres")
    .arg("-D")
    .arg(&data)
    .args(["-c", "listen_addresses=", "-c"])
    .arg(format!("unix_socket_directories={sock}"))
    .args(["-p", "5433"])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    // setpriv changes credentials, which clears the parent-death signal --kill-child set:
    // the guard kills the namespace's pid 1 (and so everything in it) itself.
    struct Kill(Child, std::rc::Rc<std::cell::Cell<u32>>);
    impl Drop for Kill {
        fn drop(&mut self) {
            let pm = self.1.get();
            if pm != 0 {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pm as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let pm_cell = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let unshare = Kill(
        ns.spawn().unwrap_or_else(|e| panic!("unshare: {e}")),
        pm_cell.clone(),
    );
    let upid = unshare.0.id();
    let children = format!("/proc/{upid}/task/{upid}/children");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pm: u32 = loop {
        let ready = std::path::Path::new(&sock).join(".s.PGSQL.5433").exists();
        let pm = std::fs::read_to_string(&children)
            .ok()
            .and_then(|c| c.split_whitespace().next()?.parse().ok());
        if let Some(pm) = pm {
            pm_cell.set(pm);
            if ready {
                break pm;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the namespaced postmaster never came up"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Inside its namespace the postmaster is pid 1; we know it by our pid.
    let status = std::fs::read_to_string(format!("/proc/{pm}/status")).unwrap_or_default();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("NSpid:") && l.trim_end().ends_with("\t1")),
        "not pid 1 in its namespace: {status}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_pgstrace"))
        .args(["ps", "--json"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let cluster = v["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["postmaster_pid"] == pm))
        .unwrap_or_else(|| panic!("postmaster {pm} not among {v}"));
    assert_eq!(cluster["shm"]["size_bytes"], 16 << 20, "{cluster}");
    // Its pids as the container sees them: the postmaster is 1 there.
    let pm_row = cluster["processes"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["pid"] == pm))
        .unwrap_or_else(|| panic!("{cluster}"));
    assert_eq!(pm_row["ns_pid"], 1, "{cluster}");
    assert!(
        cluster["processes"].as_array().is_some_and(|ps| ps
            .iter()
            .all(|p| p["ns_pid"].as_i64().is_some_and(|n| n > 0))),
        "{cluster}"
    );
    let text = Command::new(env!("CARGO_BIN_EXE_pgstrace"))
        .arg("ps")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("{pm} (1) postmaster")), "{text}");

    let out = Command::new(env!("CARGO_BIN_EXE_pgstrace"))
        .args(["explain-shm", "--json", "-p", &pm.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["shm"]["size_bytes"], 16 << 20, "{v}");
    let text = Command::new(env!("CARGO_BIN_EXE_pgstrace"))
        .args(["explain-shm", "-p", &pm.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("{pm} (postmaster, 1 in its PID namespace)")),
        "{text}"
    );
    assert!(
        v["segments"].as_array().is_some_and(|s| !s.is_empty()),
        "no segments (the control segment at least): {v}"
    );

    // A trace names its processes by both pids: on the attach line, and in JSON for the
    // postmaster and for a backend forked while traced.
    let out = dir.path().join("trace.json");
    let tracer = Command::new(env!("CARGO_BIN_EXE_pgstrace"))
        .args(["-f", "--json", "-e", "trace=none", "-o"])
        .arg(&out)
        .args(["-p", &pm.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut traced = false;
    for _ in 0..100 {
        if pg::tracer_pid(pm) == Some(tracer.id()) {
            traced = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(traced, "never attached");
    let mut psql = Command::new("/usr/lib/postgresql/15/bin/psql");
    psql.args([
        "-X", "-A", "-t", "-U", "postgres", "-h", &sock, "-p", "5433",
    ])
    .args(["-d", "postgres", "-c", "SELECT 1"]);
    let o = run_with_timeout(psql, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.stdout.trim(), "1", "{}", o.stderr);
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(tracer.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let t = tracer.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&t.stderr);
    assert!(
        err.contains(&format!("Process {pm} attached (1 in its PID namespace)")),
        "{err}"
    );
    let json = std::fs::read_to_string(&out).unwrap_or_default();
    let attached: Vec<Value> = json
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "attached")
        .collect();
    assert!(
        attached.iter().any(|e| e["pid"] == pm && e["ns_pid"] == 1),
        "{json}"
    );
    assert!(
        attached
            .iter()
            .any(|e| e["pid"] != pm && e["ns_pid"].as_i64().is_some_and(|n| n > 1)),
        "no forked backend with its namespace pid: {json}"
    );
    drop(unshare);
}
