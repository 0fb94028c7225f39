//! Live tests of `pgstrace explain-shm` against throwaway PostgreSQL 15 clusters with a
//! container-sized (32 MiB) /dev/shm in a private mount namespace (domain-notes §7):
//!
//! - the /dev/shm the cluster sees is reported through /proc/PID/root, not the host's;
//! - the verdict under §7's settings: a Parallel Hash with work_mem=256MB and 4 workers will
//!   not fit, and with ~100 KiB left even the leader's segments fail;
//! - the segments of a running parallel query are listed with the pids that map them;
//! - bad input gives one line and a non-zero exit.
//!
//! They need root and the postgresql-15 package; without them they are skipped, unless
//! `PGSTRACE_REQUIRE_PG=1` makes that a failure.

#[path = "support/pg.rs"]
mod pg;

use pg::{PgCluster, PgOpts};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PGSTRACE: &str = env!("CARGO_BIN_EXE_pgstrace");

fn section7_cluster() -> PgCluster {
    let opts = PgOpts::default()
        .shm_mib(32)
        .set("max_parallel_workers_per_gather", "4")
        .set("work_mem", "256MB")
        .set("parallel_setup_cost", "0")
        .set("parallel_tuple_cost", "0");
    PgCluster::start(opts).unwrap_or_else(|e| panic!("starting the cluster: {e:#}"))
}

fn explain(args: &[&str]) -> pg::Output {
    let mut c = Command::new(PGSTRACE);
    c.arg("explain-shm").args(args);
    pg::run_with_timeout(c, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e:#}"))
}

fn explain_json(pid: u32) -> Value {
    let out = explain(&["-p", &pid.to_string(), "--json"]);
    assert!(out.success, "explain-shm failed: {}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout))
}

fn finding<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    v["verdict"]["findings"]
        .as_array()?
        .iter()
        .find(|f| f["kind"] == kind)
}

#[test]
fn verdict_on_a_32mib_shm_with_section7_settings() {
    if pg::skip_unless_available("verdict_on_a_32mib_shm_with_section7_settings") {
        return;
    }
    let pg = section7_cluster();
    let pm = pg.postmaster_pid();
    let v = explain_json(pm);
    assert_eq!(v["shm"]["size_bytes"], 33_554_432u64, "{v:#}");
    assert_eq!(v["shm"]["tmpfs"], true, "{v:#}");
    assert_eq!(v["shm"]["path"], format!("/proc/{pm}/root/dev/shm"));
    assert!(
        v["shm"]["free_bytes"]
            .as_u64()
            .is_some_and(|f| f > 30 << 20)
    );
    assert_eq!(v["settings"]["work_mem"]["value"], "256MB", "{v:#}");
    assert_eq!(v["estimate"]["workers"], 4);
    // The control segment is there from the start, mapped by the postmaster.
    let segs = v["segments"].as_array().cloned().unwrap_or_default();
    assert!(
        segs.iter().any(|s| s["control"] == true
            && s["pids"]
                .as_array()
                .is_some_and(|p| p.contains(&Value::from(pm)))),
        "{v:#}"
    );
    assert_eq!(v["verdict"]["level"], "will fail", "{v:#}");
    let hash = finding(&v, "parallel_hash").unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(hash["level"], "will fail");
    let text = hash["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("work_mem 256 MiB") && text.contains("4 workers"),
        "{text}"
    );
    assert!(finding(&v, "leader_segments").is_none(), "{v:#}");
    let remedies = v["remedies"].to_string();
    assert!(
        v["remedies"].as_array().is_some_and(|r| r
            .iter()
            .any(|x| x["action"] == "set" && x["setting"] == "work_mem")),
        "{remedies}"
    );

    // Any process of the cluster works, and the text report says the same.
    let other = pg.processes().into_iter().find(|&p| p != pm).unwrap_or(pm);
    let out = explain(&["-p", &other.to_string()]);
    assert!(out.success, "{}", out.stderr);
    assert!(out.stdout.contains("verdict: WILL FAIL"), "{}", out.stdout);
    assert!(
        out.stdout.contains("/dev/shm: tmpfs, size 32 MiB"),
        "{}",
        out.stdout
    );

    // ~100 KiB free: even the leader's own segments fail.
    let free = pg.shm_free().unwrap_or_else(|e| panic!("{e:#}"));
    pg.fill_shm(free - 100 * 1024)
        .unwrap_or_else(|e| panic!("fill_shm: {e:#}"));
    let v = explain_json(pm);
    assert!(
        v["shm"]["free_bytes"]
            .as_u64()
            .is_some_and(|f| f <= 100 * 1024)
    );
    let leader = finding(&v, "leader_segments").unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(leader["level"], "will fail");
    assert!(
        leader["text"]
            .as_str()
            .is_some_and(|t| t.contains("ExecInitParallelPlan")),
        "{leader}"
    );
    let others = v["other_files"].as_array().cloned().unwrap_or_default();
    assert!(
        others.iter().any(|f| f["name"] == "pgstrace-test-fill"),
        "{v:#}"
    );
    // And the server agrees.
    let out = pg
        .psql_output(
            "SET min_parallel_table_scan_size = 0;
             CREATE TABLE x AS SELECT g FROM generate_series(1, 1000) g;
             SELECT count(*) FROM x;",
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        out.stderr
            .contains("could not resize shared memory segment"),
        "{}",
        out.stderr
    );
    pg.unfill_shm().unwrap_or_else(|e| panic!("{e:#}"));
}

#[test]
fn segments_of_a_running_parallel_query_are_listed_with_their_pids() {
    if pg::skip_unless_available("segments_of_a_running_parallel_query_are_listed") {
        return;
    }
    let pg = section7_cluster();
    let pm = pg.postmaster_pid();
    pg.psql("CREATE TABLE slow AS SELECT g FROM generate_series(1, 6000) g; ANALYZE slow;")
        .unwrap_or_else(|e| panic!("{e:#}"));
    // pg_sleep is parallel safe: ~6000 × 2 ms over 3 processes keeps the query (and its
    // segments) alive for several seconds.
    let mut q = pg.psql_command();
    q.arg("-c").arg(
        "SET max_parallel_workers_per_gather = 2; SET min_parallel_table_scan_size = 0;
         SELECT count(*) FROM slow WHERE pg_sleep(0.002) IS NOT NULL;",
    );
    let mut child = q
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("psql: {e}"));

    let workers = |pg: &PgCluster| -> Vec<u32> {
        pg.processes()
            .into_iter()
            .filter(|p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("parallel worker"))
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = None;
    while Instant::now() < deadline {
        let w = workers(&pg);
        if !w.is_empty() {
            let v = explain_json(pm);
            let segs = v["segments"].as_array().cloned().unwrap_or_default();
            let query_segs: Vec<&Value> = segs
                .iter()
                .filter(|s| {
                    s["pids"]
                        .as_array()
                        .is_some_and(|p| w.iter().any(|&x| p.contains(&Value::from(x))))
                        && s["control"] == false
                })
                .collect();
            // The session segment (196,736) and the main segment for 2 workers.
            let sizes: Vec<u64> = query_segs
                .iter()
                .filter_map(|s| s["size_bytes"].as_u64())
                .collect();
            if sizes.contains(&196_736) && sizes.len() >= 2 {
                seen = Some((v.clone(), w));
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = pg::wait_timeout(&mut child, Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    let (v, w) = seen.unwrap_or_else(|| panic!("never saw the running query's segments"));
    for s in v["segments"].as_array().into_iter().flatten() {
        if s["size_bytes"] == 196_736u64 {
            let pids = s["pids"].as_array().cloned().unwrap_or_default();
            // The leader and its workers map the session segment.
            assert!(pids.len() >= 2, "{s}");
            assert!(w.iter().any(|&x| pids.contains(&Value::from(x))), "{s}");
            assert_eq!(s["orphan"], false);
        }
    }
}

#[test]
fn bad_input_is_one_line() {
    let me = std::process::id().to_string();
    for (args, want) in [
        (vec!["-p", me.as_str()], "is not a PostgreSQL process"),
        (vec!["-p", "2147483647"], "no such process"),
        (vec!["-p", "abc"], "not a process id"),
        (vec!["-p", me.as_str(), "--watch"], "--watch"),
    ] {
        let out = explain(&args);
        assert!(!out.success, "{args:?}: {}", out.stdout);
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
    }
}

/// A session's `SET work_mem` is read from the backend's memory and wins over the config.
#[test]
fn backend_live_settings_overlay_the_configuration() {
    if pg::skip_unless_available("backend_live_settings_overlay_the_configuration") {
        return;
    }
    let pg = section7_cluster();
    let mut q = pg.psql_command();
    q.arg("-c")
        .arg("SET work_mem = '77MB'; SELECT pg_sleep(20);");
    let mut child = q
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("psql: {e}"));
    let sleeping = |pg: &PgCluster| {
        pg.processes().into_iter().find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(" SELECT"))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut backend = None;
    while Instant::now() < deadline && backend.is_none() {
        backend = sleeping(&pg);
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(backend) = backend else {
        let _ = child.kill();
        panic!("no backend running the pg_sleep");
    };
    let v = explain_json(backend);
    let _ = child.kill();
    let _ = child.wait();
    let work_mem = v["settings"]
        .as_object()
        .and_then(|s| s.get("work_mem"))
        .cloned()
        .unwrap_or_else(|| panic!("no work_mem in {v}"));
    let text = work_mem.to_string();
    assert!(
        text.contains("78848") || text.contains("77MB") || text.contains("77 MiB"),
        "work_mem is not the session's: {text}"
    );
    assert!(
        text.contains(&format!("backend {backend} memory")),
        "work_mem's source is not the backend: {text}"
    );
}
