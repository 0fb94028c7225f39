//! `pgstrace postmortem` on logs a real PostgreSQL 15 writes while the test watches:
//! fixtures/logs/generate.sh's five failing scenarios with a third `log_line_prefix` (epoch
//! and SQLSTATE), read in all three formats; and a running cluster's own log with `-p`, where
//! the comparison is with that cluster's /dev/shm and settings, and the remedies are the ones
//! `explain-shm` gives for it.
//!
//! They need root and the postgresql-15 package; without them they are skipped, unless
//! `PGSTRACE_REQUIRE_PG=1` (CI) makes that a failure.

#[path = "support/pg.rs"]
mod pg;

use pg::{PgCluster, PgOpts};
use std::path::Path;
use std::process::Command;

const PGSTRACE: &str = env!("CARGO_BIN_EXE_pgstrace");

fn json_of(args: &[&str]) -> serde_json::Value {
    let o = Command::new(PGSTRACE)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("pgstrace: {e}"));
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

fn kinds(v: &serde_json::Value) -> Vec<String> {
    v["failures"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["kind"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_real_servers_five_failures_in_three_formats() {
    if pg::skip_unless_available("a_real_servers_five_failures_in_three_formats") {
        return;
    }
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/logs/generate.sh");
    let o = pg::run_with_timeout(
        {
            let mut c = Command::new("bash");
            c.arg(&script).arg(out.path()).arg("%n [%p] %e ");
            c
        },
        std::time::Duration::from_secs(600),
    )
    .unwrap_or_else(|e| panic!("generate.sh: {e:#}"));
    assert!(o.success, "generate.sh: {}{}", o.stdout, o.stderr);
    for file in ["stderr.log", "csvlog.csv", "jsonlog.json"] {
        let p = out.path().join(file);
        let v = json_of(&[
            "postmortem",
            "--json",
            "--shm-size",
            "32m",
            p.to_str().unwrap_or_default(),
        ]);
        let k = kinds(&v);
        // A Parallel Hash grows its DSA in each worker: one failure per worker that asked.
        let growth = k.iter().take_while(|k| *k == "dsa_growth").count();
        assert!(growth >= 1, "{file}: {v:#}");
        assert_eq!(
            k[growth..],
            [
                "session_segment",
                "main_segment",
                "parallel_vacuum",
                "dsa_large_allocation"
            ],
            "{file}: {v:#}"
        );
        let first = &v["failures"][0];
        assert!(
            first["leader_pid"].is_u64(),
            "{file}: the relaying leader: {first:#}"
        );
        assert_eq!(
            first["pids"].as_array().map(Vec::len),
            Some(2),
            "{file}: {first:#}"
        );
        assert_eq!(v["verdict"]["level"], "will fail");
    }
}

#[test]
fn on_the_server_it_compares_with_the_clusters_shm_and_settings() {
    if pg::skip_unless_available("on_the_server_it_compares_with_the_clusters_shm_and_settings") {
        return;
    }
    let opts = PgOpts::default()
        .shm_mib(32)
        .set("max_parallel_workers_per_gather", "4")
        .set("work_mem", "256MB")
        .set("parallel_setup_cost", "0")
        .set("parallel_tuple_cost", "0");
    let pg = PgCluster::start(opts).unwrap_or_else(|e| panic!("starting the cluster: {e:#}"));
    pg.psql(
        "CREATE UNLOGGED TABLE a AS SELECT g AS id FROM generate_series(1, 1000000) g;
         CREATE UNLOGGED TABLE b AS SELECT g AS id FROM generate_series(1, 1000000) g;
         ANALYZE a; ANALYZE b;",
    )
    .unwrap_or_else(|e| panic!("{e:#}"));
    let out = pg
        .psql_output(
            "SET parallel_leader_participation = off; SELECT count(*) FROM a JOIN b USING (id);",
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert!(!out.success, "the join succeeded: {}", out.stdout);
    let pm = pg.postmaster_pid().to_string();
    let log = pg.server_log_path();
    let v = json_of(&[
        "postmortem",
        "--json",
        "-p",
        &pm,
        log.to_str().unwrap_or_default(),
    ]);
    assert_eq!(kinds(&v)[0], "dsa_growth", "{v:#}");
    assert_eq!(v["shm_size"], 32u64 << 20, "the cluster's /dev/shm: {v:#}");
    let work_mem = v["settings"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["name"] == "work_mem"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        work_mem["value"], "256MB",
        "the cluster's own work_mem: {v:#}"
    );
    // explain-shm's remedies for this cluster are among postmortem's (the same code).
    let live = json_of(&["explain-shm", "--json", "-p", &pm]);
    let ours: Vec<&str> = v["remedies"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["text"].as_str()).collect())
        .unwrap_or_default();
    for r in live["remedies"].as_array().into_iter().flatten() {
        let r = r["text"].as_str().unwrap_or_default();
        assert!(
            ours.contains(&r),
            "explain-shm's remedy {r:?} missing from {ours:#?}"
        );
    }
    assert!(!ours.is_empty());
}
