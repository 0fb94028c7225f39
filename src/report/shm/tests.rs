//! Tests of the explain-shm report: renderers on hand-built facts, settings to inputs.
use super::*;
use crate::postgres::plan::PlanStep;
use crate::postgres::settings::Setting;

fn setting(v: &str) -> Setting {
    Setting {
        pending: None,
        value: v.into(),
        source: "command line".into(),
    }
}

/// The settings of domain-notes §7.
fn section7() -> Settings {
    let mut s = Settings::default();
    for (k, v) in [
        ("max_parallel_workers_per_gather", "4"),
        ("work_mem", "256MB"),
        ("parallel_setup_cost", "0"),
    ] {
        s.map.insert(k.into(), setting(v));
    }
    s
}

fn file(name: &str, size: u64, pids: &[i32]) -> ShmFile {
    ShmFile {
        name: name.into(),
        size_bytes: size,
        allocated_bytes: size.div_ceil(4096) * 4096,
        pids: pids.to_vec(),
        open_pids: Vec::new(),
    }
}

/// A Docker container's 32 MiB /dev/shm, nearly filled, with a control segment, a running
/// parallel query's segments, an orphan and an escape-worthy file name.
fn facts() -> ShmFacts {
    let settings = section7();
    let label = |pid, l: &str| ProcLabel {
        pid,
        label: l.into(),
    };
    let mut f = ShmFacts {
        postmaster_pid: 100,
        data_dir: "/var/lib/postgresql/15/main".into(),
        version: Some("15".into()),
        shm: ShmFs {
            path: "/proc/100/root/dev/shm".into(),
            size_bytes: 32 << 20,
            used_bytes: (32 << 20) - (100 << 10),
            free_bytes: 100 << 10,
            inodes_total: 1000,
            inodes_free: 994,
            fs_type: Some("tmpfs".into()),
            mount_options: Some("rw,size=32768k".into()),
        },
        container: Container {
            cgroup: Some("/system.slice/docker-abc.scope".into()),
            cgroup_version: Some(2),
            memory_max: Some(1 << 30),
            memory_current: Some(300 << 20),
            docker: true,
            kubernetes: false,
            hints: vec!["/.dockerenv exists".into()],
            ..Container::default()
        },
        segments: vec![
            file("PostgreSQL.1306624952", 26_976, &[100, 101, 102]),
            file("PostgreSQL.2", 196_736, &[200, 201]),
            file("PostgreSQL.3", 345_088, &[200, 201]),
            file("PostgreSQL.4", 1 << 20, &[]),
        ],
        other_files: vec![file("fill\x1b[31m", 30 << 20, &[])],
        processes: vec![
            label(100, "postmaster"),
            label(101, "checkpointer"),
            label(102, "walwriter"),
            label(200, "backend"),
            label(201, "parallel worker"),
        ],
        settings: setting_facts(&settings),
        inputs: inputs_from(&settings),
        estimate: None,
        verdict: None,
    };
    f.evaluate();
    f
}

#[test]
fn inputs_from_settings() {
    let inp = inputs_from(&section7());
    assert_eq!(inp.work_mem, 256 << 20);
    assert_eq!(inp.max_parallel_workers_per_gather, 4);
    assert_eq!(inp.maintenance_work_mem, 64 << 20);
    assert_eq!(inp.hash_mem_multiplier, 2.0);
    let mut s = Settings::default();
    s.map.insert("work_mem".into(), setting("1024"));
    s.map.insert("enable_parallel_hash".into(), setting("off"));
    s.map
        .insert("min_dynamic_shared_memory".into(), setting("64"));
    s.map.insert("hash_mem_multiplier".into(), setting("1.5"));
    let inp = inputs_from(&s);
    assert_eq!(inp.work_mem, 1 << 20);
    assert!(!inp.enable_parallel_hash);
    assert_eq!(inp.min_dynamic_shared_memory, 64 << 20);
    assert_eq!(inp.hash_mem_multiplier, 1.5);
    let shown = setting_facts(&s);
    assert_eq!(shown.len(), SETTING_NAMES.len());
    assert!(
        shown
            .iter()
            .any(|f| f.name == "shared_buffers" && f.value == "128MB" && f.source == "default")
    );
}

#[test]
fn text_snapshot() {
    let text = render_text(&facts());
    if std::env::var_os("PGSTRACE_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/report/shm/snapshot.txt");
        std::fs::write(path, &text).unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let expected = include_str!("snapshot.txt");
    assert_eq!(text, expected, "\n--- got ---\n{text}");
    // Every line fits a terminal of 200 columns and no raw escape reaches it.
    assert!(!text.contains('\x1b'));
    assert!(text.lines().count() <= 45, "more than one screen");
}

#[test]
fn json_shape() {
    let v = render_json(&facts());
    assert_eq!(v["shm"]["path"], "/proc/100/root/dev/shm");
    assert_eq!(v["shm"]["size_bytes"], 33_554_432u64);
    assert_eq!(v["shm"]["free_bytes"], 102_400u64);
    assert!(v["shm"]["used_bytes"].is_u64());
    assert_eq!(v["segments"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["segments"][1]["name"], "PostgreSQL.2");
    assert_eq!(v["segments"][1]["pids"], serde_json::json!([200, 201]));
    assert_eq!(v["segments"][0]["control"], true);
    assert_eq!(v["segments"][3]["orphan"], true);
    assert_eq!(v["settings"]["work_mem"]["value"], "256MB");
    assert_eq!(v["settings"]["work_mem"]["source"], "command line");
    assert_eq!(v["estimate"]["workers"], 4);
    assert_eq!(v["estimate"]["main_segment_bytes"], 345_088u64);
    assert_eq!(v["verdict"]["level"], "will fail");
    let kinds: Vec<&str> = v["verdict"]["findings"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"leader_segments"), "{kinds:?}");
    assert!(kinds.contains(&"parallel_hash"), "{kinds:?}");
    let remedies = v["remedies"].to_string();
    assert!(remedies.contains("--shm-size"), "{remedies}");
    assert_eq!(v["remedies"][0]["action"], "remove", "{remedies}");
}

#[test]
fn remedies_follow_the_context() {
    let mut f = facts();
    let r = remedies(&f);
    // The foreign file first, then the orphan, then /dev/shm in Docker's terms.
    assert!(
        r[0].starts_with("rm ") && r[0].contains("not PostgreSQL's"),
        "{r:?}"
    );
    assert!(
        !r[0].contains('\x1b'),
        "a file name's bytes are escaped: {r:?}"
    );
    assert!(
        r[1].starts_with("rm ") && r[1].contains("PostgreSQL.4"),
        "{r:?}"
    );
    assert!(r[2].contains("docker run --shm-size="), "{r:?}");
    assert!(
        r.iter()
            .any(|x| x.starts_with("max_parallel_workers_per_gather = ")),
        "{r:?}"
    );
    f.container.docker = false;
    f.container.kubernetes = true;
    let r = remedies(&f);
    assert!(
        r[2].contains("emptyDir volume with medium: Memory"),
        "{r:?}"
    );
    assert!(!r.iter().any(|x| x.contains("--shm-size")));
    let rich = super::remedy::ranked(&f, 0);
    let Some(super::remedy::Action::ResizeShm { how, .. }) = rich.get(2).map(|x| &x.action) else {
        panic!("{rich:#?}");
    };
    assert!(
        how.iter()
            .any(|(k, v)| k == "zalando-postgres-operator" && v.contains("enableShmVolume"))
    );
    assert!(
        how.iter()
            .any(|(k, v)| k == "cloudnative-pg" && v.contains("ephemeralVolumesSizeLimit.shm"))
    );
}

#[test]
fn failure_explanations() {
    let f = facts();
    let ctx = FailureContext {
        pid: 201,
        role: Some(Role::ParallelWorker),
        leader_pid: Some(200),
        query: Some("SELECT count(*) FROM a JOIN b USING (id);\n\x07".into()),
        requested_bytes: 8 << 20,
        segment: Some("/PostgreSQL.1818734854".into()),
        stack: PlanStep::ParallelHashGrowth,
    };
    let text = explain_failure(&f, &ctx);
    assert!(text.starts_with(
        "ENOSPC: pid 201 (parallel worker of leader 200) could not resize segment \
         \"/PostgreSQL.1818734854\" to 8,388,608 bytes\n"
    ));
    assert!(
        text.contains("query: SELECT count(*) FROM a JOIN b USING (id);\\n\\a")
            || text.contains("USING (id);\\12\\7"),
        "{text}"
    );
    assert!(text.contains("make_new_segment"), "{text}");
    assert!(text.contains("fill\\33[31m 30 MiB: not mapped"), "{text}");
    assert!(text.contains("PostgreSQL.4 1 MiB: orphan"), "{text}");
    assert!(text.contains("--shm-size"), "{text}");
    let leader = explain_failure(
        &f,
        &FailureContext {
            pid: 200,
            role: None,
            leader_pid: None,
            query: None,
            requested_bytes: 345_248,
            segment: None,
            stack: PlanStep::LeaderGather,
        },
    );
    // The size the server asked for, not the model's 345,088 beside it.
    assert!(leader.contains("345,248 bytes asked"), "{leader}");
    assert!(!leader.contains("345,088"), "{leader}");
    assert!(leader.contains("pid 200 (backend)"), "{leader}");
    assert!(leader.contains("ExecInitParallelPlan"), "{leader}");
    assert!(!leader.contains('\x07'));
}

#[test]
fn wording_one_query_a_held_session_segment_and_no_multiplier_below_its_minimum() {
    // One parallel query at a time is "1 query".
    let mut f = facts();
    f.inputs.concurrent_queries = Some(1);
    f.evaluate();
    let text = render_text(&f);
    assert!(text.contains("peak, 1 query at once"), "{text}");
    assert!(!text.contains("1 queries"), "{text}");
    // A session segment the backend holds is not counted again.
    let mut held = f.inputs.clone();
    held.session_segment_held = true;
    let e = model::estimate(&held);
    assert_eq!(e.session_segment, 0);
    assert_eq!(e.leader_segments, e.main_segment);
    // hash_mem_multiplier at its minimum (1) is never offered lower.
    let mut f = facts();
    f.inputs.hash_mem_multiplier = 1.0;
    f.evaluate();
    for r in remedies(&f) {
        assert!(!r.contains("hash_mem_multiplier below"), "{r}");
    }
}
