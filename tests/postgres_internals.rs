//! Live checks of discovery, settings and backend memory against a throwaway PostgreSQL 15
//! (the harness of tests/support/pg.rs), through the library's functions.
//! Skipped without root or postgresql-15, unless `PGSTRACE_REQUIRE_PG=1`.

#[path = "support/pg.rs"]
mod pg;

use pg::{PgCluster, PgOpts, skip_unless_available};
use pgstrace::postgres::memory::GlobalsReader;
use pgstrace::postgres::{Role, cluster_of, settings};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn cluster_settings_and_backend_globals() {
    if skip_unless_available("cluster_settings_and_backend_globals") {
        return;
    }
    let pg = match PgCluster::start(PgOpts::default().set("work_mem", "256MB")) {
        Ok(pg) => pg,
        Err(e) => panic!("starting the cluster: {e:#}"),
    };
    let pm = pg.postmaster_pid() as i32;

    let c = match cluster_of(pm) {
        Ok(c) => c,
        Err(e) => panic!("cluster_of({pm}): {e:#}"),
    };
    assert_eq!(c.postmaster_pid, pm);
    assert_eq!(c.data_dir, pg.data_dir());
    assert_eq!(c.port, Some(pg.port()));
    assert_eq!(c.version.as_deref(), Some("15"));
    assert_eq!(c.socket_dir.as_deref(), Some(pg.socket_dir()));
    assert_eq!(
        c.processes.first().map(|p| &p.role),
        Some(&Role::Postmaster)
    );
    assert!(
        c.processes.iter().any(|p| p.role == Role::Checkpointer),
        "{:?}",
        c.processes
    );

    let s = match settings::load(&c) {
        Ok(s) => s,
        Err(e) => panic!("settings::load: {e:#}"),
    };
    assert_eq!(s.bytes("work_mem"), Some(268435456));
    assert_eq!(
        s.get("work_mem").map(|w| w.source.as_str()),
        Some("command line")
    );
    assert_eq!(s.int("max_parallel_workers_per_gather"), Some(2));
    // initdb writes these into postgresql.conf.
    let dsm = s.get("dynamic_shared_memory_type");
    assert_eq!(dsm.map(|d| d.value.as_str()), Some("posix"));
    assert!(
        dsm.is_some_and(|d| d.source.contains("/data/postgresql.conf:")),
        "{dsm:?}"
    );

    // A session with its own work_mem, asleep in a query.
    let mut psql = pg.psql_command();
    psql.args(["-c", "SET work_mem = '77MB'", "-c", "SELECT pg_sleep(30)"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = match psql.spawn() {
        Ok(c) => c,
        Err(e) => panic!("psql: {e}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let backend = loop {
        let found = cluster_of(pm).ok().and_then(|c| {
            c.processes
                .into_iter()
                .find(|p| p.role == Role::Backend && p.state.as_deref() == Some("SELECT"))
        });
        if let Some(b) = found {
            break b;
        }
        assert!(Instant::now() < deadline, "no backend running SELECT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(backend.user.as_deref(), Some("postgres"));
    assert_eq!(backend.database.as_deref(), Some("postgres"));
    assert_eq!(backend.client.as_deref(), Some("[local]"));
    assert_eq!(
        cluster_of(backend.pid).map(|c| c.postmaster_pid).ok(),
        Some(pm)
    );

    let reader = match GlobalsReader::for_process(backend.pid) {
        Ok(r) => r,
        Err(e) => panic!("GlobalsReader::for_process({}): {e:#}", backend.pid),
    };
    let g = reader.read();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(g.query.as_deref(), Some("SELECT pg_sleep(30)"));
    assert_eq!(g.work_mem_kb, Some(78848));
    assert_eq!(g.backend_type, Some(3));
    assert_eq!(g.parallel_worker_number, Some(-1));
    assert_eq!(g.my_proc_pid, Some(backend.pid));
    assert_eq!(g.hash_mem_multiplier, Some(2.0));
    assert_eq!(g.dynamic_shared_memory_type, Some(1));
    assert_eq!(g.max_parallel_workers_per_gather, Some(2));
    assert_eq!(g.crit_section_count, Some(0));
    assert_eq!(g.enable_parallel_hash, Some(true));
    assert_eq!(g.nbuffers, Some(16384));

    let mut live = s.clone();
    live.overlay_backend(backend.pid, &g);
    assert_eq!(live.bytes("work_mem"), Some(78848 * 1024));
    assert_eq!(
        live.get("work_mem").map(|w| w.source.clone()),
        Some(format!("backend {} memory", backend.pid))
    );
    assert_eq!(
        live.get("hash_mem_multiplier").map(|w| w.source.as_str()),
        Some("default")
    );

    // The postmaster runs no query: debug_query_string is NULL there.
    let pm_reader = GlobalsReader::for_process(pm);
    assert_eq!(pm_reader.ok().and_then(|r| r.query()), None);

    // Not PostgreSQL: a one-line error naming the command.
    let mut sleeper = match Command::new("sleep").arg("30").spawn() {
        Ok(c) => c,
        Err(e) => panic!("sleep: {e}"),
    };
    let e = cluster_of(sleeper.id() as i32).map(|_| ()).unwrap_err();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(
        e.to_string(),
        format!("pid {} (sleep) is not a PostgreSQL process", sleeper.id())
    );
}
