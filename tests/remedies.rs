//! explain-shm's diagnosis acted on blindly (issue 10): settings as the server runs them,
//! and each remedy applied to a fresh copy of the failing scenario, the workload rerun.
//!
//! They need root and the postgresql-15 package; without them they are skipped, unless
//! `PGSTRACE_REQUIRE_PG=1` (CI) makes that a failure.

#[path = "support/pg.rs"]
mod pg;

use pg::{PgCluster, PgOpts};
use std::process::Command;
use std::time::{Duration, Instant};

const PGSTRACE: &str = env!("CARGO_BIN_EXE_pgstrace");

fn explain(pg: &PgCluster) -> serde_json::Value {
    let o = Command::new(PGSTRACE)
        .args([
            "explain-shm",
            "--json",
            "-p",
            &pg.postmaster_pid().to_string(),
        ])
        .output()
        .unwrap_or_else(|e| panic!("pgstrace: {e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

/// After `ALTER SYSTEM` without a reload the server still runs with the old value: that is
/// what the report uses, with the files' value beside it as pending; after
/// `pg_reload_conf()` the new value is in effect and nothing is pending.
#[test]
fn settings_are_the_ones_in_effect_and_a_reload_is_pending() {
    if pg::skip_unless_available("settings_are_the_ones_in_effect_and_a_reload_is_pending") {
        return;
    }
    let pg = PgCluster::start(PgOpts::default().shm_mib(32))
        .unwrap_or_else(|e| panic!("starting the cluster: {e:#}"));
    pg.psql("ALTER SYSTEM SET max_parallel_workers = 3")
        .unwrap_or_else(|e| panic!("{e:#}"));
    let v = explain(&pg);
    let s = &v["settings"]["max_parallel_workers"];
    assert_eq!(s["value"], "8", "in effect: {s:#}");
    let pending = s["pending"].as_str().unwrap_or_default();
    assert!(
        pending.starts_with("3 (")
            && pending.contains("postgresql.auto.conf")
            && pending.ends_with("after a reload"),
        "{s:#}"
    );
    pg.psql("SELECT pg_reload_conf()")
        .unwrap_or_else(|e| panic!("{e:#}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = explain(&pg);
        let s = &v["settings"]["max_parallel_workers"];
        if s["value"] == "3" {
            assert!(s["pending"].is_null(), "{s:#}");
            break;
        }
        assert!(Instant::now() < deadline, "the reload never showed: {s:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
