//! `pgstrace doctor`, live: the host's checks with their evidence as the kernel has it; the
//! time-call measurement against a library that forces real syscalls; a cluster in its own
//! PID and mount namespace with a 32 MiB /dev/shm (and a memory cgroup with a limit, where
//! one can be made), examined from the host.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/pg.rs"]
mod pg;

use fixtures::pgstrace_bin;
use pg::{PgCluster, PgOpts, skip_unless_available};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn doctor(args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    let mut c = Command::new(pgstrace_bin());
    c.arg("doctor")
        .args(args)
        .args(["--json", "--sample-ms", "200"]);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    fixtures::assert_no_panic("doctor", &stderr);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{stderr}", String::from_utf8_lossy(&o.stdout)));
    (o.status.code().unwrap_or(-1), v, stderr)
}

fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {v}"))
}

fn sys(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn bracketed(s: &str) -> String {
    s.split_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .map(|(w, _)| w.to_string())
        .unwrap_or_default()
}

#[test]
fn host_checks_carry_the_kernels_values() {
    let (code, v, _) = doctor(&[], &[]);
    assert!(code == 0 || code == 2, "exit {code}");
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    for id in [
        "dev_shm",
        "clocksource",
        "huge_pages",
        "transparent_huge_pages",
        "virtualization",
        "cgroup_memory",
        "writeback",
        "scheduler",
        "cpu_quota",
        "pgstrace_access",
        "remove_ipc",
    ] {
        assert!(ids.contains(&id), "{id} missing: {ids:?}");
    }
    for c in v["checks"].as_array().unwrap() {
        let l = c["level"].as_str().unwrap_or("");
        assert!(["ok", "warn", "fail", "unknown"].contains(&l), "{c}");
        assert!(!c["why"].as_str().unwrap_or("").is_empty(), "{c}");
    }
    // Without -p there is no cluster: said, not guessed.
    assert_eq!(check(&v, "dev_shm")["level"], "unknown");
    let cs = sys("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    assert_eq!(
        check(&v, "clocksource")["evidence"]["current_clocksource"],
        cs.as_str()
    );
    assert_eq!(v["facts"]["clock"]["current"], cs.as_str());
    let measured = v["facts"]["clock"]["measured"].as_array().unwrap();
    assert_eq!(measured.len(), 3, "{v}");
    assert_eq!(
        v["facts"]["huge_pages"]["thp_enabled"],
        bracketed(&sys("/sys/kernel/mm/transparent_hugepage/enabled")).as_str()
    );
    let total: u64 = sys("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("HugePages_Total:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    assert_eq!(v["facts"]["huge_pages"]["pool"]["total"], total);
    let ag = sys("/proc/sys/kernel/sched_autogroup_enabled");
    if !ag.is_empty() {
        assert_eq!(v["facts"]["scheduler"]["autogroup"], ag == "1");
    }
    let guest = sys("/proc/cpuinfo").contains(" hypervisor");
    assert_eq!(v["facts"]["virtualization"]["guest"], guest);
}

/// The measurement is real: with clock_gettime and gettimeofday turned into syscalls (as on
/// a clocksource the vDSO cannot read), doctor counts one per call and fails the check; on
/// this host's own clocksource it agrees with strace's count of the same child.
#[test]
fn time_calls_that_leave_the_vdso_are_counted() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let lib = dir.path().join("novdso.so");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/novdso.c");
    let st = Command::new("gcc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("gcc: {e}"));
    assert!(st.success());
    let lib_s = lib.to_string_lossy().into_owned();
    let (code, v, _) = doctor(&[], &[("LD_PRELOAD", &lib_s)]);
    let c = check(&v, "clocksource");
    assert_eq!(c["level"], "fail", "{c}");
    assert_eq!(code, 2, "a failed check exits 2");
    for m in v["facts"]["clock"]["measured"].as_array().unwrap() {
        assert_eq!(m["syscalls_per_call"], 1.0, "{m}");
    }
    // The oracle: strace counting the same child's calls, on this host as it is.
    let (_, plain, _) = doctor(&[], &[]);
    let strace = fixtures::strace_bin();
    let out = Command::new(strace)
        .args(["-f", "-qq", "-c", "-U", "name,calls", "-o"])
        .arg(dir.path().join("c.txt"))
        .arg(pgstrace_bin())
        .args(["__timecalls", "count", "200"])
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.success());
    let table = std::fs::read_to_string(dir.path().join("c.txt")).unwrap_or_default();
    let calls = |name: &str| -> f64 {
        table
            .lines()
            .find_map(|l| {
                let mut f = l.split_whitespace();
                (f.next()? == name).then_some(())?;
                f.next()?.parse::<f64>().ok()
            })
            .unwrap_or(0.0)
    };
    let m = plain["facts"]["clock"]["measured"].as_array().unwrap();
    let ours = |i: usize| m[i]["syscalls_per_call"].as_f64().unwrap_or(-1.0);
    assert_eq!(
        ours(0) + ours(1),
        calls("clock_gettime") / 200.0,
        "{table}\n{m:?}"
    );
    assert_eq!(ours(2), calls("gettimeofday") / 200.0, "{table}\n{m:?}");
}

/// A memory cgroup with a limit to put a postmaster in: v1's memory hierarchy under our own
/// cgroup, or under the v2 root; `rel` may be nested (`a/b/c`, as a runtime names its
/// containers). Moves its processes back and removes what it made on drop.
struct TestCgroup {
    dir: PathBuf,
    /// The directories made, innermost first.
    made: Vec<PathBuf>,
    parent_procs: PathBuf,
    version: u8,
}

impl TestCgroup {
    fn create(limit: u64) -> Option<TestCgroup> {
        Self::create_at(&format!("pgstrace-doctor-{}", std::process::id()), limit)
    }

    fn create_at(rel: &str, limit: u64) -> Option<TestCgroup> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let (parent, version, limit_file) = if let Some(path) = own.lines().find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, c, p) = (f.next()?, f.next()?, f.next()?);
            c.split(',').any(|c| c == "memory").then(|| p.to_string())
        }) {
            (
                Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/')),
                1,
                "memory.limit_in_bytes",
            )
        } else {
            let root = PathBuf::from("/sys/fs/cgroup");
            let ctl = std::fs::read_to_string(root.join("cgroup.subtree_control")).ok()?;
            if !ctl.split_whitespace().any(|c| c == "memory") {
                return None;
            }
            (root, 2, "memory.max")
        };
        let mut cg = TestCgroup {
            dir: parent.clone(),
            made: Vec::new(),
            parent_procs: parent.join("cgroup.procs"),
            version,
        };
        for part in rel.split('/') {
            cg.dir = cg.dir.join(part);
            if !cg.dir.exists() {
                std::fs::create_dir(&cg.dir).ok()?;
                cg.made.insert(0, cg.dir.clone());
            }
            if version == 2 {
                // Children of an intermediate v2 cgroup need the controller enabled.
                let _ = std::fs::write(cg.dir.join("cgroup.subtree_control"), "+memory");
            }
        }
        std::fs::write(cg.dir.join(limit_file), limit.to_string()).ok()?;
        Some(cg)
    }

    fn add(&self, pid: u32) -> bool {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string()).is_ok()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for _ in 0..50 {
            let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
            for p in procs.split_whitespace() {
                let _ = std::fs::write(&self.parent_procs, p);
            }
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                for d in &self.made {
                    let _ = std::fs::remove_dir(d);
                }
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

#[test]
fn a_namespaced_cluster_seen_from_the_host() {
    if skip_unless_available("a_namespaced_cluster_seen_from_the_host") {
        return;
    }
    let _one = CLUSTERS.lock().unwrap_or_else(|e| e.into_inner());
    let cluster = PgCluster::start(PgOpts::default().shm_mib(32).pid_namespace())
        .unwrap_or_else(|e| panic!("{e:#}"));
    let pm = cluster.postmaster_pid();
    let cg = TestCgroup::create(1 << 30);
    let in_cg = cg.as_ref().is_some_and(|c| c.add(pm));
    if !in_cg {
        eprintln!("no memory cgroup could be made here: the limit is not checked");
    }
    let (code, v, stderr) = doctor(&["-p", &pm.to_string()], &[]);
    assert!(code == 0 || code == 2, "exit {code}: {stderr}");
    // The cluster: our pid for it and its own (1).
    assert_eq!(v["target"]["postmaster_pid"], pm, "{v}");
    assert_eq!(
        v["target"]["ns_pids"].as_array().and_then(|a| a.last()),
        Some(&Value::from(1)),
        "{v}"
    );
    assert_eq!(v["target"]["user"], "postgres");
    // /dev/shm as it sees it, against the estimate for its settings.
    let shm = check(&v, "dev_shm");
    assert_ne!(shm["level"], "unknown", "{shm}");
    assert_eq!(shm["evidence"]["size"], "32.0 MiB", "{shm}");
    assert!(
        shm["evidence"]["peak_one_query"]
            .as_str()
            .is_some_and(|s| s.ends_with("iB")),
        "{shm}"
    );
    // The clocksource by name, and the measurement.
    let cs = sys("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    assert_eq!(
        check(&v, "clocksource")["evidence"]["current_clocksource"],
        cs.as_str()
    );
    assert_eq!(
        check(&v, "clocksource")["evidence"]["postmaster_vdso"],
        "[vdso] mapped"
    );
    // Huge pages: the main shared memory found in the postmaster's smaps (shared_buffers
    // 128 MB and more), its page size, the pool; THP as sysfs has it.
    let main = &v["facts"]["huge_pages"]["main_shm"];
    assert!(main["bytes"].as_u64().unwrap_or(0) >= 128 << 20, "{main}");
    assert!(main["page_bytes"].as_u64().is_some(), "{main}");
    let hp = check(&v, "huge_pages");
    assert_eq!(hp["evidence"]["huge_pages"], "try", "{hp}");
    assert_eq!(hp["evidence"]["shared_buffers"], "128.0 MiB", "{hp}");
    assert_eq!(
        check(&v, "transparent_huge_pages")["evidence"]["enabled"],
        bracketed(&sys("/sys/kernel/mm/transparent_hugepage/enabled")).as_str()
    );
    // The cluster's cgroup memory limit.
    if in_cg {
        let mem = &v["facts"]["memory"];
        assert_eq!(mem["max"], 1u64 << 30, "{mem}");
        assert_eq!(
            mem["cgroup_version"],
            cg.as_ref().map(|c| c.version).unwrap_or(0),
            "{mem}"
        );
        assert!(
            mem["cgroup"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("pgstrace-doctor-{}", std::process::id()))),
            "{mem}"
        );
        assert_eq!(check(&v, "cgroup_memory")["evidence"]["max"], "1.0 GiB");
    }
    // Text, without a terminal: no colour, every check with its verdict.
    let o = Command::new(pgstrace_bin())
        .args(["doctor", "--sample-ms", "100", "-p", &pm.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&o.stdout);
    if std::env::var_os("PGSTRACE_SHOW").is_some() {
        eprintln!("{text}");
    }
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("(1 in its PID namespace)"), "{text}");
    assert!(text.contains("/dev/shm: 32.0 MiB"), "{text}");
    assert!(text.contains("why: "), "{text}");
    // --color=always colours even a pipe.
    let o = Command::new(pgstrace_bin())
        .args(["doctor", "--color=always", "--sample-ms", "50"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(String::from_utf8_lossy(&o.stdout).contains('\x1b'));
    drop(cg);
    drop(cluster);
}

/// Clusters of this file one at a time: the huge page test counts on the pool being its own.
static CLUSTERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Restores vm.nr_hugepages on drop (after the clusters that use the pool are gone).
struct HugePool(String);

impl Drop for HugePool {
    fn drop(&mut self) {
        let _ = std::fs::write("/proc/sys/vm/nr_hugepages", &self.0);
    }
}

/// The remedy applied: doctor's `vm.nr_hugepages = N` set, the server restarted, and the
/// check passes because the main shared memory is on huge pages now.
#[test]
fn the_huge_pages_remedy_applied_passes() {
    if skip_unless_available("the_huge_pages_remedy_applied_passes") {
        return;
    }
    let _one = CLUSTERS.lock().unwrap_or_else(|e| e.into_inner());
    let before = sys("/proc/sys/vm/nr_hugepages");
    let _restore = HugePool(before.clone());
    if before != "0" {
        let _ = std::fs::write("/proc/sys/vm/nr_hugepages", "0");
    }
    let opts = PgOpts::default().set("shared_buffers", "64MB");
    let cluster = PgCluster::start(opts.clone()).unwrap_or_else(|e| panic!("{e:#}"));
    let (_, v, _) = doctor(&["-p", &cluster.postmaster_pid().to_string()], &[]);
    let hp = check(&v, "huge_pages");
    assert_eq!(hp["level"], "warn", "{hp}");
    let n: u64 = hp["change"][0]
        .as_str()
        .and_then(|c| c.strip_prefix("vm.nr_hugepages = "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no nr_hugepages remedy: {hp}"));
    drop(cluster);
    std::fs::write("/proc/sys/vm/nr_hugepages", n.to_string())
        .unwrap_or_else(|e| panic!("setting vm.nr_hugepages: {e}"));
    let cluster = PgCluster::start(opts).unwrap_or_else(|e| panic!("{e:#}"));
    let (_, v, _) = doctor(&["-p", &cluster.postmaster_pid().to_string()], &[]);
    let hp = check(&v, "huge_pages");
    assert_eq!(hp["level"], "ok", "{hp}");
    let main = &v["facts"]["huge_pages"]["main_shm"];
    assert_eq!(main["huge"], true, "{main}");
    assert_eq!(main["page_bytes"], 2u64 << 20, "{main}");
    assert_eq!(
        cluster
            .psql("SELECT 42")
            .unwrap_or_else(|e| panic!("{e:#}"))
            .trim(),
        "42"
    );
    drop(cluster);
}

#[test]
fn bad_input_is_one_line() {
    for (args, want) in [
        (vec!["doctor", "-p", "999999999"], "no such process"),
        (vec!["doctor", "-p", "abc"], "pgstrace:"),
        (vec!["doctor", "--color=purple"], "invalid --color"),
        (vec!["doctor", "-p", "1"], "pgstrace:"),
    ] {
        let o = Command::new(pgstrace_bin())
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        fixtures::assert_no_panic("doctor", &err);
    }
}

/// A cluster placed the way a Kubernetes node runs a pod's container (the systemd driver's
/// cgroup names, the pod's environment): ps, doctor and explain-shm name the runtime, the
/// container id, the pod and its QoS class.
#[test]
fn a_pods_container_is_named() {
    if skip_unless_available("a_pods_container_is_named") {
        return;
    }
    let _one = CLUSTERS.lock().unwrap_or_else(|e| e.into_inner());
    let id: String = format!("{:016x}", std::process::id() as u64 * 0x9e37_79b9)
        .repeat(4)
        .chars()
        .take(64)
        .collect();
    let uid = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
    let rel = format!(
        "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{id}.scope",
        uid.replace('-', "_")
    );
    let Some(cg) = TestCgroup::create_at(&rel, 2 << 30) else {
        eprintln!("no memory cgroup could be made here: skipped");
        return;
    };
    let opts = PgOpts::default()
        .shm_mib(64)
        .env("KUBERNETES_SERVICE_HOST", "10.96.0.1")
        .env("HOSTNAME", "pg-cluster-0")
        .env("POD_NAMESPACE", "db");
    let cluster = PgCluster::start(opts).unwrap_or_else(|e| panic!("{e:#}"));
    let pm = cluster.postmaster_pid();
    assert!(cg.add(pm), "moving {pm} into {}", cg.dir.display());

    let o = Command::new(pgstrace_bin())
        .args(["ps", "--json"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}"));
    let c = v["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["postmaster_pid"] == pm))
        .unwrap_or_else(|| panic!("{pm} not in {v}"));
    let ct = &c["container"];
    assert_eq!(ct["runtime"], "containerd", "{ct}");
    assert_eq!(ct["id"], id.as_str(), "{ct}");
    assert_eq!(ct["pod"], "pg-cluster-0", "{ct}");
    assert_eq!(ct["pod_namespace"], "db", "{ct}");
    assert_eq!(ct["pod_uid"], uid, "{ct}");
    assert_eq!(ct["qos"], "burstable", "{ct}");
    assert_eq!(ct["kubernetes"], true, "{ct}");

    let o = Command::new(pgstrace_bin())
        .arg("ps")
        .env("COLUMNS", "400")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&o.stdout);
    let want = format!(
        "container (Kubernetes): containerd {}, pod db/pg-cluster-0 (uid {uid}, burstable); cgroup ",
        &id[..12]
    );
    assert!(text.contains(&want), "{want}\n{text}");

    let (_, d, _) = doctor(&["-p", &pm.to_string()], &[]);
    assert_eq!(
        d["target"]["container"]["id"],
        id.as_str(),
        "{}",
        d["target"]
    );
    assert_eq!(d["target"]["container"]["pod"], "pg-cluster-0");

    let o = Command::new(pgstrace_bin())
        .args(["explain-shm", "-p", &pm.to_string()])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!(
            "container: Kubernetes pod containerd {}",
            &id[..12]
        )),
        "{text}"
    );
    drop(cluster);
    drop(cg);
}

/// The scheduler tunables that live in debugfs are read although debugfs is not mounted
/// here: in a mount namespace of the child's own, leaving the host's mounts as they were.
/// Where the kernel refuses the files (this sandbox does), the evidence says so and why.
#[test]
fn debugfs_tunables_without_mounting_debugfs_here() {
    let mounts = || sys("/proc/self/mountinfo");
    if mounts().contains(" - debugfs ") {
        eprintln!("debugfs is mounted here: nothing to test");
        return;
    }
    let before = mounts();
    let (_, v, _) = doctor(&[], &[]);
    assert_eq!(mounts(), before, "doctor changed our mounts");
    let ev = &check(&v, "scheduler")["evidence"];
    let from_debugfs = ev
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k.starts_with("/sys/kernel/debug/sched/")));
    // What a root shell sees when it mounts debugfs privately and reads the same file.
    let sh = Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(
            "mount --make-rprivate / && mount -t debugfs debugfs /sys/kernel/debug && \
             cat /sys/kernel/debug/sched/base_slice_ns /sys/kernel/debug/sched/migration_cost_ns",
        )
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    if sh.status.success() {
        assert!(from_debugfs, "the shell read them, doctor did not: {ev}");
        assert_eq!(
            ev["debugfs"],
            "not mounted here: read in a private mount namespace (nothing mounted on the host)"
        );
    } else {
        let err = String::from_utf8_lossy(&sh.stderr);
        let g = ev["granularity"].as_str().unwrap_or("");
        assert!(g.contains("debugfs could not be read ("), "{ev}");
        if err.contains("Operation not permitted") {
            assert!(g.contains("Operation not permitted"), "{err} / {ev}");
        }
    }
}
