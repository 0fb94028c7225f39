//! `pgstrace explain-shm`: why /dev/shm runs out for a cluster, and what to change.
//!
//! [`gather`] collects the facts (the /dev/shm the cluster sees, the container context,
//! every segment and who maps it, the settings), [`estimate`] computes what parallel plans
//! need under those settings, and the renderers turn facts into text or JSON.
//! [`explain_failure`] is the same explanation at the moment a segment could not be resized
//! (`--watch`).
//!
//! The model and the verdict are pure (`model.rs`); reading /proc is `probe.rs`; text and JSON
//! are `render.rs`; `--watch` is `watch.rs`.

pub mod model;
pub mod probe;
pub mod remedy;
mod render;
pub mod watch;

use crate::postgres::{Cluster, Role, Settings};
use model::{Estimate, EstimateInputs, Space, Verdict};
use probe::{Container, ShmFile, ShmFs};

/// The settings explain-shm shows, in this order.
pub const SETTING_NAMES: [&str; 12] = [
    "dynamic_shared_memory_type",
    "min_dynamic_shared_memory",
    "max_parallel_workers_per_gather",
    "max_parallel_workers",
    "max_worker_processes",
    "parallel_leader_participation",
    "work_mem",
    "hash_mem_multiplier",
    "maintenance_work_mem",
    "max_parallel_maintenance_workers",
    "enable_parallel_hash",
    "shared_buffers",
];

/// PostgreSQL 15's defaults for [`SETTING_NAMES`], as SHOW prints them.
fn default_text(name: &str) -> &'static str {
    match name {
        "dynamic_shared_memory_type" => "posix",
        "min_dynamic_shared_memory" => "0",
        "max_parallel_workers_per_gather" => "2",
        "max_parallel_workers" | "max_worker_processes" => "8",
        "parallel_leader_participation" | "enable_parallel_hash" => "on",
        "work_mem" => "4MB",
        "hash_mem_multiplier" => "2",
        "maintenance_work_mem" => "64MB",
        "max_parallel_maintenance_workers" => "2",
        "shared_buffers" => "128MB",
        _ => "",
    }
}

/// One setting as shown.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingFact {
    pub name: String,
    pub value: String,
    pub source: String,
    /// The files' value when the server runs with another (see `Setting::pending`).
    pub pending: Option<String>,
}

/// A process of the cluster, for naming the pids that map a segment.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcLabel {
    pub pid: i32,
    pub label: String,
}

/// Everything explain-shm says, as data.
#[derive(Clone, Debug, Default)]
pub struct ShmFacts {
    pub postmaster_pid: i32,
    pub data_dir: String,
    pub version: Option<String>,
    pub shm: ShmFs,
    pub container: Container,
    /// `PostgreSQL.N` files.
    pub segments: Vec<ShmFile>,
    /// Every other file in /dev/shm.
    pub other_files: Vec<ShmFile>,
    pub processes: Vec<ProcLabel>,
    pub settings: Vec<SettingFact>,
    pub inputs: EstimateInputs,
    pub estimate: Option<Estimate>,
    pub verdict: Option<Verdict>,
}

impl ShmFacts {
    pub fn orphans(&self) -> impl Iterator<Item = &ShmFile> {
        self.segments.iter().filter(|s| s.is_orphan())
    }

    fn orphaned_bytes(&self) -> u64 {
        self.orphans().map(|s| s.allocated_bytes).sum()
    }

    fn label(&self, pid: i32) -> Option<&str> {
        self.processes
            .iter()
            .find(|p| p.pid == pid)
            .map(|p| p.label.as_str())
    }

    /// Fills `estimate` and `verdict` from `inputs`, `shm` and the segments.
    pub fn evaluate(&mut self) {
        let est = estimate(&self.inputs);
        let space = Space {
            size: self.shm.size_bytes,
            free: self.shm.free_bytes,
            orphaned: self.orphaned_bytes(),
        };
        self.verdict = Some(model::verdict(&est, &self.inputs, space));
        self.estimate = Some(est);
    }
}

/// What the estimate needs, from the settings (PostgreSQL 15's defaults where unset).
pub fn inputs_from(settings: &Settings) -> EstimateInputs {
    let d = EstimateInputs::default();
    let count = |n: &str, dflt: u32| {
        int_setting(settings, n)
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(dflt)
    };
    let flag = |n: &str, dflt: bool| settings.bool(n).unwrap_or(dflt);
    EstimateInputs {
        dynamic_shared_memory_type: settings
            .get("dynamic_shared_memory_type")
            .map(|s| s.value.trim().to_ascii_lowercase())
            .unwrap_or(d.dynamic_shared_memory_type),
        min_dynamic_shared_memory: bytes_setting(settings, "min_dynamic_shared_memory")
            .unwrap_or(d.min_dynamic_shared_memory),
        max_parallel_workers_per_gather: count(
            "max_parallel_workers_per_gather",
            d.max_parallel_workers_per_gather,
        ),
        max_parallel_workers: count("max_parallel_workers", d.max_parallel_workers),
        max_worker_processes: count("max_worker_processes", d.max_worker_processes),
        parallel_leader_participation: flag(
            "parallel_leader_participation",
            d.parallel_leader_participation,
        ),
        work_mem: bytes_setting(settings, "work_mem").unwrap_or(d.work_mem),
        hash_mem_multiplier: settings
            .float("hash_mem_multiplier")
            .unwrap_or(d.hash_mem_multiplier),
        maintenance_work_mem: bytes_setting(settings, "maintenance_work_mem")
            .unwrap_or(d.maintenance_work_mem),
        max_parallel_maintenance_workers: count(
            "max_parallel_maintenance_workers",
            d.max_parallel_maintenance_workers,
        ),
        enable_parallel_hash: flag("enable_parallel_hash", d.enable_parallel_hash),
        concurrent_queries: None,
        session_segment_held: false,
    }
}

fn bytes_setting(settings: &Settings, name: &str) -> Option<u64> {
    settings.bytes(name)
}

fn int_setting(settings: &Settings, name: &str) -> Option<i64> {
    settings.int(name)
}

/// The settings as shown: value and source, or the default.
pub fn setting_facts(settings: &Settings) -> Vec<SettingFact> {
    SETTING_NAMES
        .iter()
        .map(|&n| match settings.get(n) {
            Some(s) => SettingFact {
                name: n.into(),
                value: s.value.clone(),
                source: s.source.clone(),
                pending: s.pending.clone(),
            },
            None => SettingFact {
                name: n.into(),
                value: default_text(n).into(),
                source: "default".into(),
                pending: None,
            },
        })
        .collect()
}

/// The estimate for these inputs (see [`model::estimate`]).
pub fn estimate(inputs: &EstimateInputs) -> Estimate {
    model::estimate(inputs)
}

fn role_label(role: &Role, title: &str) -> String {
    match role {
        Role::Unknown => {
            let t = title.trim();
            t.strip_prefix("postgres: ").unwrap_or(t).to_string()
        }
        r => r.name().to_string(),
    }
}

/// Collects the facts for `cluster`.
pub fn gather(cluster: &Cluster) -> anyhow::Result<ShmFacts> {
    gather_for(cluster, None)
}

/// Like [`gather`]; when `backend` is one of the cluster's backends (or workers), its live
/// settings (a session's `SET work_mem`) overlay the configured ones.
pub fn gather_for(cluster: &Cluster, backend: Option<i32>) -> anyhow::Result<ShmFacts> {
    gather_with(cluster, backend, settings_in_effect(cluster)?)
}

/// The cluster's settings as the server runs with them: its files, and over them the
/// postmaster's own variables (a reload it has not had yet leaves the files ahead of it).
pub fn settings_in_effect(cluster: &Cluster) -> anyhow::Result<Settings> {
    let mut settings = crate::postgres::settings::load(cluster)?;
    if let Ok(reader) = crate::postgres::memory::GlobalsReader::for_process(cluster.postmaster_pid)
    {
        settings.overlay_postmaster(&reader.read());
    }
    Ok(settings)
}

/// [`gather_for`] with the settings in effect already read ([`settings_in_effect`]).
pub fn gather_with(
    cluster: &Cluster,
    backend: Option<i32>,
    mut settings: Settings,
) -> anyhow::Result<ShmFacts> {
    let pm = cluster.postmaster_pid;
    let shm = probe::shm_fs(pm)?;
    let mut pids: Vec<i32> = cluster.processes.iter().map(|p| p.pid).collect();
    if !pids.contains(&pm) {
        pids.push(pm);
    }
    let files = probe::shm_files(&shm.path, &pids)?;
    let (segments, other_files): (Vec<ShmFile>, Vec<ShmFile>) = files
        .into_iter()
        .partition(|f| crate::postgres::dsm::is_segment_name(&f.name));
    if let Some(b) = backend.and_then(|b| cluster.process(b))
        && b.role.runs_queries()
        && let Ok(reader) = crate::postgres::memory::GlobalsReader::for_process(b.pid)
    {
        settings.overlay_backend(b.pid, &reader.read());
    }
    let mut processes: Vec<ProcLabel> = cluster
        .processes
        .iter()
        .map(|p| ProcLabel {
            pid: p.pid,
            label: match p.ns_pid {
                // A container's view of the pid beside ours.
                Some(n) => format!(
                    "{}, {n} in its PID namespace",
                    role_label(&p.role, &p.title)
                ),
                None => role_label(&p.role, &p.title),
            },
        })
        .collect();
    if !processes.iter().any(|p| p.pid == pm) {
        processes.push(ProcLabel {
            pid: pm,
            label: "postmaster".into(),
        });
    }
    let mut inputs = inputs_from(&settings);
    // Asked about one backend: a session segment it maps is one it will not make again.
    inputs.session_segment_held = backend.is_some_and(|b| {
        segments
            .iter()
            .any(|s: &ShmFile| s.size_bytes == model::SESSION_SEGMENT && s.pids.contains(&b))
    });
    let mut facts = ShmFacts {
        postmaster_pid: pm,
        data_dir: cluster.data_dir.display().to_string(),
        version: cluster.version.clone(),
        shm,
        container: probe::container(pm),
        segments,
        other_files,
        processes,
        settings: setting_facts(&settings),
        inputs,
        estimate: None,
        verdict: None,
    };
    facts.evaluate();
    Ok(facts)
}

pub use render::{FailureContext, explain_failure, remedies, render_json, render_text};

/// The cluster of `pid`, or a one-line reason.
pub fn find_cluster(pid: i32) -> anyhow::Result<Cluster> {
    if !probe::pid_exists(pid) {
        anyhow::bail!("no such process: {pid}");
    }
    crate::postgres::cluster_of(pid)
}

/// What `explain-shm` was asked.
#[derive(Clone, Debug)]
pub struct ShmConfig {
    pub pid: i32,
    pub json: bool,
    /// `--watch`: run [`watch::run`] instead.
    pub watch: bool,
    /// `-o FILE` (`--watch` only).
    pub output: Option<std::path::PathBuf>,
    /// `-e inject=...` / `-e fault=...` (`--watch` only).
    pub inject: Vec<String>,
    /// `--watch`: where the events come from.
    pub backend: crate::session::command::Backend,
}

/// The one-shot report (`--watch` is [`watch::run`]).
pub fn run(args: ShmConfig) -> anyhow::Result<i32> {
    let pid = args.pid;
    let cluster = find_cluster(pid)?;
    let facts = gather_for(&cluster, Some(pid))?;
    let text = if args.json {
        format!("{}\n", render_json(&facts))
    } else {
        render_text(&facts)
    };
    // A closed pipe (`| head`) is not an error worth a panic.
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
}

#[cfg(test)]
mod tests;
