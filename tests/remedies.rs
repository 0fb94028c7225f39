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

/// One failing scenario: a cluster, what is done to it, the workload that fails, and the
/// finding that failure is.
struct Scenario {
    name: &'static str,
    shm_mib: u32,
    settings: Vec<(String, String)>,
    setup: fn(&PgCluster),
    workload: &'static str,
    /// How many sessions run the workload at once.
    concurrent: usize,
    finding: &'static str,
}

impl Scenario {
    /// A fresh copy, with `settings` overriding and /dev/shm of `shm_mib` if given.
    fn start(&self, shm_mib: Option<u32>, extra: &[(String, String)]) -> PgCluster {
        let mut opts = PgOpts::default().shm_mib(shm_mib.unwrap_or(self.shm_mib));
        let mut all = self.settings.clone();
        for (k, v) in extra {
            all.retain(|(n, _)| n != k);
            all.push((k.clone(), v.clone()));
        }
        for (k, v) in &all {
            opts = opts.set(k, v);
        }
        let pg = PgCluster::start(opts).unwrap_or_else(|e| panic!("{}: {e:#}", self.name));
        (self.setup)(&pg);
        pg
    }

    fn works(&self, pg: &PgCluster) -> bool {
        std::thread::scope(|s| {
            let runs: Vec<_> = (0..self.concurrent.max(1))
                .map(|_| {
                    s.spawn(|| {
                        pg.psql_output(self.workload)
                            .map(|o| o.success)
                            .unwrap_or(false)
                    })
                })
                .collect();
            runs.into_iter().all(|r| r.join().unwrap_or(false))
        })
    }
}

fn sql(pg: &PgCluster, s: &str) {
    pg.psql(s).unwrap_or_else(|e| panic!("{s}: {e:#}"));
}

/// Fills the cluster's /dev/shm with files of its own so that, of a 32 MiB /dev/shm, about
/// 100 KiB would stay free (less than a leader's session + main segments). The files are
/// the same size whatever the copy's /dev/shm: a bigger one then has room.
fn fill_leaving_100k(pg: &PgCluster, names: &[&str]) {
    let st =
        || nix::sys::statvfs::statvfs(&pg.shm_dir()).unwrap_or_else(|e| panic!("statvfs: {e}"));
    let used = || {
        let s = st();
        (s.blocks() - s.blocks_available()) * s.fragment_size()
    };
    // The previous query's segments are unlinked as its backends finish: wait until steady.
    let mut u = used();
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        let now = used();
        if now == u {
            break;
        }
        u = now;
    }
    let total = (32u64 << 20) - u - 100 * 1024;
    let each = total / names.len() as u64;
    for n in names {
        pg.fill_shm_named(n, each)
            .unwrap_or_else(|e| panic!("{e:#}"));
    }
}

fn section7() -> Vec<(String, String)> {
    [
        ("max_parallel_workers_per_gather", "4"),
        ("work_mem", "256MB"),
        ("parallel_setup_cost", "0"),
        ("parallel_tuple_cost", "0"),
        ("min_parallel_table_scan_size", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

const SMALL_JOIN: &str = "SELECT count(*) FROM s1 JOIN s2 USING (id);";

fn small_tables(pg: &PgCluster) {
    sql(
        pg,
        "CREATE UNLOGGED TABLE s1 AS SELECT g AS id FROM generate_series(1, 40000) g;
         CREATE UNLOGGED TABLE s2 AS SELECT g AS id FROM generate_series(1, 40000) g;
         ANALYZE s1; ANALYZE s2;",
    );
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "worker Parallel Hash growth",
            shm_mib: 32,
            settings: {
                let mut s = section7();
                s.push(("parallel_leader_participation".into(), "off".into()));
                s
            },
            setup: |pg| {
                sql(
                    pg,
                    "CREATE UNLOGGED TABLE a AS SELECT g AS id FROM generate_series(1, 1000000) g;
                     CREATE UNLOGGED TABLE b AS SELECT g AS id FROM generate_series(1, 1000000) g;
                     ANALYZE a; ANALYZE b;",
                )
            },
            workload: "SELECT count(*) FROM a JOIN b USING (id);",
            concurrent: 1,
            finding: "parallel_hash",
        },
        Scenario {
            name: "foreign file in /dev/shm",
            shm_mib: 32,
            settings: section7(),
            setup: |pg| {
                small_tables(pg);
                fill_leaving_100k(pg, &["not-postgres.bin"]);
            },
            workload: SMALL_JOIN,
            concurrent: 1,
            finding: "leader_segments",
        },
        Scenario {
            name: "orphaned segments",
            shm_mib: 32,
            settings: section7(),
            setup: |pg| {
                small_tables(pg);
                fill_leaving_100k(pg, &["PostgreSQL.1111111", "PostgreSQL.2222222"]);
            },
            workload: SMALL_JOIN,
            concurrent: 1,
            finding: "leader_segments",
        },
        Scenario {
            name: "parallel VACUUM",
            shm_mib: 16,
            settings: vec![
                ("maintenance_work_mem".into(), "1GB".into()),
                ("max_parallel_maintenance_workers".into(), "2".into()),
            ],
            setup: |pg| {
                sql(
                    pg,
                    "CREATE UNLOGGED TABLE v AS SELECT g AS id, g AS k FROM generate_series(1, 3000000) g;
                     CREATE INDEX v_id ON v (id); CREATE INDEX v_k ON v (k);
                     DELETE FROM v WHERE id % 2 = 0;",
                )
            },
            workload: "VACUUM (PARALLEL 2) v;",
            concurrent: 1,
            finding: "parallel_vacuum",
        },
        Scenario {
            name: "parallel queries at once",
            shm_mib: 32,
            settings: [
                ("max_parallel_workers_per_gather", "2"),
                ("max_parallel_workers", "8"),
                ("parallel_setup_cost", "0"),
                ("parallel_tuple_cost", "0"),
                ("min_parallel_table_scan_size", "0"),
                ("parallel_leader_participation", "off"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            setup: |pg| {
                sql(
                    pg,
                    "CREATE UNLOGGED TABLE c1 AS SELECT g AS id FROM generate_series(1, 300000) g;
                     CREATE UNLOGGED TABLE c2 AS SELECT g AS id FROM generate_series(1, 300000) g;
                     ANALYZE c1; ANALYZE c2;",
                )
            },
            workload: "SELECT count(*) FROM c1 JOIN c2 USING (id);",
            concurrent: 4,
            finding: "concurrency",
        },
    ]
}

/// A remedy applied to a fresh copy of the scenario: the workload succeeds or not.
fn apply(sc: &Scenario, r: &serde_json::Value) -> bool {
    match r["action"].as_str() {
        Some("set") => {
            let set = [(
                r["setting"].as_str().unwrap_or_default().to_string(),
                r["value"].as_str().unwrap_or_default().to_string(),
            )];
            sc.works(&sc.start(None, &set))
        }
        Some("resize_shm") => {
            let mib = (r["bytes"].as_u64().unwrap_or(0) >> 20) as u32;
            sc.works(&sc.start(Some(mib), &[]))
        }
        Some("remove") => {
            let pg = sc.start(None, &[]);
            for p in r["paths"].as_array().into_iter().flatten() {
                // The same file names in the copy's /dev/shm.
                let name = p
                    .as_str()
                    .and_then(|p| p.rsplit('/').next())
                    .unwrap_or_default();
                std::fs::remove_file(pg.shm_dir().join(name))
                    .unwrap_or_else(|e| panic!("rm {name}: {e}"));
            }
            sc.works(&pg)
        }
        other => panic!("unknown action {other:?}: {r:#}"),
    }
}

/// Every remedy explain-shm offers for the failure at hand, applied to a fresh copy of the
/// failing scenario, makes the workload succeed; a change the report does not offer
/// because by its model it is not enough indeed still fails. Prints the table kept in
/// docs/explain-shm.md.
#[test]
fn every_remedy_offered_fixes_its_scenario() {
    if pg::skip_unless_available("every_remedy_offered_fixes_its_scenario") {
        return;
    }
    let mut table = Vec::new();
    for sc in scenarios() {
        let pg = sc.start(None, &[]);
        assert!(!sc.works(&pg), "{}: the workload did not fail", sc.name);
        let v = explain(&pg);
        drop(pg);
        let remedies: Vec<serde_json::Value> = v["remedies"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                r["fixes"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|k| k == sc.finding))
            })
            .collect();
        assert!(
            !remedies.is_empty(),
            "{}: no remedy for {}: {v:#}",
            sc.name,
            sc.finding
        );
        for r in &remedies {
            let ok = apply(&sc, r);
            table.push(format!(
                "| {} | {} | {} |",
                sc.name,
                r["text"].as_str().unwrap_or_default(),
                if ok { "fixed" } else { "STILL FAILS" }
            ));
            assert!(ok, "{}: the remedy did not work: {r:#}", sc.name);
        }
    }
    // Not enough, by the report's own model, and by the server: one worker still needs the
    // leader's session and main segments (about 300 KiB) with 100 KiB free; VACUUM with
    // maintenance_work_mem 64MB still needs 23 MiB of dead items on a 16 MiB /dev/shm.
    let sc = &scenarios()[1];
    let one = [(
        "max_parallel_workers_per_gather".to_string(),
        "1".to_string(),
    )];
    assert!(
        !sc.works(&sc.start(None, &one)),
        "{}: 1 worker was enough after all",
        sc.name
    );
    table.push(format!("| {} | (not offered) max_parallel_workers_per_gather = 1 | still fails, as the model says |", sc.name));
    let sc = &scenarios()[3];
    let mwm = [("maintenance_work_mem".to_string(), "64MB".to_string())];
    assert!(
        !sc.works(&sc.start(None, &mwm)),
        "{}: 64MB was enough after all",
        sc.name
    );
    table.push(format!(
        "| {} | (not offered) maintenance_work_mem = 64MB | still fails, as the model says |",
        sc.name
    ));
    // The old sizing of min_dynamic_shared_memory (leader segments x N, no DSA): 2MB.
    let sc = &scenarios()[4];
    let small = [("min_dynamic_shared_memory".to_string(), "2MB".to_string())];
    assert!(
        !sc.works(&sc.start(None, &small)),
        "{}: 2MB was enough after all",
        sc.name
    );
    table.push(format!(
        "| {} | (not offered) min_dynamic_shared_memory = 2MB | still fails, as the model says |",
        sc.name
    ));
    println!(
        "| scenario | remedy | result |\n|---|---|---|\n{}",
        table.join("\n")
    );
}
