//! `pgstrace doctor`: what the host does to PostgreSQL. `facts` reads (the host's /proc and
//! /sys, the cluster's through /proc/PM/root), `clock` measures whether time calls leave the
//! vDSO, `checks` turns facts into verdicts (pure), `render` writes text or JSON.

pub mod checks;
pub mod clock;
pub mod debugfs;
pub mod facts;
pub mod render;

use crate::postgres::Cluster;
use crate::remote::procfs;
use crate::report::shm;
use facts::{Facts, Target};
use std::fs;

/// What `doctor` was asked.
#[derive(Clone, Debug)]
pub struct DoctorConfig {
    pub pid: Option<i32>,
    pub json: bool,
    /// How long steal time is sampled.
    pub sample_ms: u64,
    pub colour: crate::util::ColorChoice,
}

/// The cluster facts of `pid`'s cluster.
fn target(pid: i32, cluster: &Cluster) -> Target {
    let pm = cluster.postmaster_pid;
    let mut t = Target {
        pid,
        postmaster_pid: pm,
        data_dir: cluster.data_dir.display().to_string(),
        version: cluster.version.clone(),
        ..Default::default()
    };
    if let Ok(st) = procfs::status(pm) {
        t.ns_pids = st.ns_pids;
        let uid = st.uid;
        let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name)
            .unwrap_or_else(|| uid.to_string());
        t.user = Some((name, uid));
    }
    if let Ok(asked) = procfs::status(pid) {
        t.seccomp = asked.seccomp;
        t.tracer_pid = Some(asked.tracer_pid);
    }
    t.vdso_mapped = fs::read_to_string(format!("/proc/{pm}/maps"))
        .ok()
        .map(|m| m.lines().any(|l| l.ends_with("[vdso]")));
    t.main_shm = fs::read_to_string(format!("/proc/{pm}/smaps"))
        .ok()
        .and_then(|s| facts::main_shm_from_smaps(&s));
    t.autogroup = fs::read_to_string(format!("/proc/{pm}/autogroup"))
        .ok()
        .map(|s| s.trim().to_string());
    // Read once: explain-shm's facts (with the asked backend's session settings over them)
    // and doctor's own comparisons (the server's) start from the same settings.
    let settings = shm::settings_in_effect(cluster);
    let gathered = match &settings {
        Ok(st) => shm::gather_with(cluster, Some(pid), st.clone()),
        Err(e) => Err(anyhow::anyhow!("{e:#}")),
    };
    match gathered {
        Ok(s) => {
            t.container = s.container.clone();
            t.shm = Some(Box::new(s));
        }
        Err(e) => {
            t.container = shm::probe::container(pm);
            t.shm_error = Some(format!("{e:#}"));
        }
    }
    if let Ok(settings) = settings {
        for name in [
            "huge_pages",
            "huge_page_size",
            "shared_buffers",
            "work_mem",
            "max_connections",
            "dynamic_shared_memory_type",
            "shared_memory_type",
        ] {
            if let Some(v) = settings.value(name) {
                t.settings.insert(name.to_string(), v.to_string());
            }
        }
        t.shared_buffers = settings.bytes("shared_buffers");
        t.work_mem = settings.bytes("work_mem");
        t.max_connections = settings.int("max_connections").or(Some(100));
    }
    t
}

/// Gathers every fact; `pid` picks the cluster (and whose cgroup is read).
pub fn gather(cfg: &DoctorConfig) -> anyhow::Result<Facts> {
    let mut f = Facts::default();
    let mut cg_pid = std::process::id() as i32;
    let mut root = String::new();
    if let Some(pid) = cfg.pid {
        let cluster = shm::find_cluster(pid)?;
        let t = target(pid, &cluster);
        cg_pid = t.postmaster_pid;
        root = format!("/proc/{}/root", t.postmaster_pid);
        f.target = Some(t);
    }
    f.kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string());
    f.clock = facts::read_clock();
    f.huge = facts::read_huge();
    f.virt = facts::read_virt(cfg.sample_ms);
    f.memory = facts::read_memory(cg_pid);
    f.sched = facts::read_sched(cg_pid);
    f.access = facts::read_access();
    f.ipc = facts::read_ipc(&root);
    Ok(f)
}

/// Exit status: 0 when no check failed, 2 when one did (1 is an error of pgstrace's own).
pub fn run(cfg: DoctorConfig) -> anyhow::Result<i32> {
    let facts = gather(&cfg)?;
    let checks = checks::evaluate(&facts);
    let text = if cfg.json {
        format!("{}\n", render::json(&facts, &checks))
    } else {
        render::text(
            &facts,
            &checks,
            cfg.colour.enabled(crate::util::stdout_is_tty()),
        )
    };
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(if checks::worst(&checks) == checks::Level::Fail {
        2
    } else {
        0
    })
}
