//! explain-shm's text and JSON: the report, the remedies, and the explanation of one
//! failure (`--watch`). Facts in, strings out.

use super::model::{Estimate, EstimateInputs, group, human};
use super::probe::{Container, ShmFile};
use super::{SettingFact, ShmFacts, estimate, role_label};
use crate::postgres::Role;
use crate::postgres::plan::PlanStep;
use serde_json::json;
use std::fmt::Write as _;

use crate::util::escape_strace as esc;

fn pid_list(facts: &ShmFacts, pids: &[i32], max: usize) -> String {
    let mut out = String::new();
    for (i, &pid) in pids.iter().enumerate() {
        if i == max {
            let _ = write!(out, " +{} more", pids.len() - max);
            break;
        }
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{pid}");
        match facts.label(pid) {
            Some(l) => {
                let _ = write!(out, " ({})", esc(l));
            }
            None => out.push_str(" (not in this cluster)"),
        }
    }
    out
}

/// The text report: one screen.
pub fn render_text(facts: &ShmFacts) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "cluster: postmaster {}, data directory {}{}",
        facts.postmaster_pid,
        esc(&facts.data_dir),
        facts
            .version
            .as_ref()
            .map(|v| format!(", PostgreSQL {}", esc(v)))
            .unwrap_or_default()
    );
    let s = &facts.shm;
    let kind = match &s.fs_type {
        Some(t) if t == "tmpfs" => "tmpfs".to_string(),
        Some(t) => format!("{} (not tmpfs)", esc(t)),
        None => "not a mount of its own (part of its parent filesystem)".into(),
    };
    let _ = writeln!(
        o,
        "/dev/shm: {kind}, size {}, used {}, free {} (seen through {})",
        human(s.size_bytes),
        human(s.used_bytes),
        human(s.free_bytes),
        esc(&s.path)
    );
    let _ = writeln!(
        o,
        "  inodes: {} used of {}",
        group(s.inodes_total.saturating_sub(s.inodes_free)),
        group(s.inodes_total)
    );
    render_container(&mut o, &facts.container);
    render_segments(&mut o, facts);
    o.push_str("settings:\n");
    for st in &facts.settings {
        let _ = writeln!(
            o,
            "  {:<33} {:<10} ({}){}",
            st.name,
            esc(&st.value),
            esc(&st.source),
            st.pending
                .as_ref()
                .map(|p| format!("; the files say {}", esc(p)))
                .unwrap_or_default()
        );
    }
    let pending: Vec<&SettingFact> = facts
        .settings
        .iter()
        .filter(|s| s.pending.is_some())
        .collect();
    if !pending.is_empty() {
        let _ = writeln!(
            o,
            "  the verdict below is for the values in effect; {} setting(s) change only after \
             a reload (SELECT pg_reload_conf()) or a restart: {}",
            pending.len(),
            pending
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(e) = &facts.estimate {
        render_estimate(&mut o, e, &facts.inputs);
    }
    if let Some(v) = &facts.verdict {
        let _ = writeln!(o, "verdict: {}", v.level.as_str().to_uppercase());
        for f in &v.findings {
            let _ = writeln!(o, "  - [{}] {}", f.level.as_str(), f.text);
        }
        let rem = remedies(facts);
        if !rem.is_empty() {
            o.push_str("remedies:\n");
            for (i, r) in rem.iter().enumerate() {
                let _ = writeln!(o, "  {}. {r}", i + 1);
            }
        }
    }
    o
}

fn render_container(o: &mut String, c: &Container) {
    let what = match (c.docker, c.kubernetes) {
        (_, true) => "Kubernetes pod",
        (true, false) => "Docker container",
        (false, false) => "no container detected",
    };
    let limit = match (c.memory_max, c.memory_current) {
        (Some(m), Some(cur)) => format!("memory limit {}, in use {}", human(m), human(cur)),
        (Some(m), None) => format!("memory limit {}", human(m)),
        (None, Some(cur)) => format!("no memory limit, in use {}", human(cur)),
        (None, None) => "no memory limit".into(),
    };
    let _ = writeln!(
        o,
        "container: {what}{}{}; cgroup{} {}: {limit}",
        c.names()
            .map(|n| format!(" {}", esc(&n)))
            .unwrap_or_default(),
        if c.hints.is_empty() {
            String::new()
        } else {
            format!(" ({})", esc(&c.hints.join(", ")))
        },
        c.cgroup_version
            .map(|v| format!(" v{v}"))
            .unwrap_or_default(),
        esc(c.cgroup.as_deref().unwrap_or("?"))
    );
    o.push_str(
        "  Docker and Kubernetes give a container 64 MiB of /dev/shm by default; tmpfs pages \
         count against the cgroup's memory limit.\n",
    );
}

fn render_segments(o: &mut String, facts: &ShmFacts) {
    let total: u64 = facts.segments.iter().map(|s| s.allocated_bytes).sum();
    let _ = writeln!(
        o,
        "segments: {} PostgreSQL.N, {} allocated",
        facts.segments.len(),
        human(total)
    );
    for seg in &facts.segments {
        let who = if seg.is_orphan() {
            "ORPHAN: no process maps it or holds it open".to_string()
        } else if seg.pids.is_empty() {
            format!("open in {}", pid_list(facts, &seg.open_pids, 4))
        } else {
            let mut w = format!("mapped by {}", pid_list(facts, &seg.pids, 4));
            if seg.pids.contains(&facts.postmaster_pid) {
                w.push_str(" [control segment]");
            }
            w
        };
        let _ = writeln!(
            o,
            "  {:<24} size {:>12}  alloc {:>10}  {who}",
            esc(&seg.name),
            group(seg.size_bytes),
            human(seg.allocated_bytes)
        );
    }
    let orphaned = facts.orphaned_bytes();
    if orphaned > 0 {
        let _ = writeln!(
            o,
            "  orphans hold {} until removed (left by a crashed server, or a backend killed \
             between create and unlink); remove one only while no process of the cluster maps it",
            human(orphaned)
        );
    }
    if !facts.other_files.is_empty() {
        let other: u64 = facts.other_files.iter().map(|f| f.allocated_bytes).sum();
        let mut biggest: Vec<&ShmFile> = facts.other_files.iter().collect();
        biggest.sort_by_key(|f| std::cmp::Reverse(f.allocated_bytes));
        let names: Vec<String> = biggest
            .iter()
            .take(3)
            .map(|f| format!("{} {}", esc(&f.name), human(f.allocated_bytes)))
            .collect();
        let _ = writeln!(
            o,
            "other files: {} ({}), largest: {}",
            facts.other_files.len(),
            human(other),
            names.join(", ")
        );
    }
}

fn render_estimate(o: &mut String, e: &Estimate, inp: &EstimateInputs) {
    let _ = writeln!(
        o,
        "estimate (PostgreSQL 15 model; a Gather gets {} workers):",
        e.workers
    );
    if !e.uses_dev_shm {
        let _ = writeln!(
            o,
            "  dynamic_shared_memory_type = {}: segments do not use /dev/shm",
            esc(&inp.dynamic_shared_memory_type)
        );
    }
    let line = |o: &mut String, what: &str, v: String| {
        let _ = writeln!(o, "  {what:<28} {v}");
    };
    line(
        o,
        "session segment",
        format!(
            "{} (first parallel query of a session)",
            human(e.session_segment)
        ),
    );
    line(
        o,
        "main parallel segment",
        format!("{} per Gather", human(e.main_segment)),
    );
    if e.hash_budget > 0 {
        let shown: Vec<String> = e
            .dsa_segments
            .iter()
            .take(9)
            .map(|s| (s >> 20).to_string())
            .collect();
        line(
            o,
            "Parallel Hash budget",
            format!(
                "{} = work_mem {} x {} x ({} + 1)",
                human(e.hash_budget),
                human(inp.work_mem),
                inp.hash_mem_multiplier,
                e.workers
            ),
        );
        line(
            o,
            "  DSA segments",
            format!(
                "{}{} MiB: {} segments, {}",
                shown.join(", "),
                if e.dsa_segments.len() > 9 {
                    ", ..."
                } else {
                    ""
                },
                e.dsa_segments.len(),
                human(e.dsa_total)
            ),
        );
    }
    if e.vacuum_segment > 0 {
        line(
            o,
            "parallel VACUUM segment",
            format!(
                "up to {} ({} workers, maintenance_work_mem {})",
                human(e.vacuum_segment),
                e.vacuum_workers,
                human(inp.maintenance_work_mem)
            ),
        );
    }
    line(o, "peak, one query", human(e.peak_one_query));
    line(
        o,
        &format!(
            "peak, {} {} at once",
            e.concurrent_queries,
            if e.concurrent_queries == 1 {
                "query"
            } else {
                "queries"
            }
        ),
        format!(
            "{}{}",
            human(e.peak_concurrent),
            if e.concurrency_assumed {
                " (assumed: max_parallel_workers / workers per Gather)"
            } else {
                ""
            }
        ),
    );
}

/// The remedies as lines, ranked (see [`super::remedy::ranked`]).
pub fn remedies(facts: &ShmFacts) -> Vec<String> {
    super::remedy::ranked(facts, 0)
        .into_iter()
        .map(|r| r.text)
        .collect()
}

/// The report as JSON.
pub fn render_json(facts: &ShmFacts) -> serde_json::Value {
    let seg = |f: &ShmFile| {
        json!({
            "name": f.name,
            "size_bytes": f.size_bytes,
            "allocated_bytes": f.allocated_bytes,
            "pids": f.pids,
            "open_pids": f.open_pids,
            "orphan": f.is_orphan(),
            "control": f.pids.contains(&facts.postmaster_pid),
        })
    };
    let settings: serde_json::Map<String, serde_json::Value> = facts
        .settings
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                json!({"value": s.value, "source": s.source, "pending": s.pending}),
            )
        })
        .collect();
    let c = &facts.container;
    let estimate = facts.estimate.as_ref().map(|e| {
        json!({
            "uses_dev_shm": e.uses_dev_shm,
            "workers": e.workers,
            "session_segment_bytes": e.session_segment,
            "main_segment_bytes": e.main_segment,
            "leader_segments_bytes": e.leader_segments,
            "hash_budget_bytes": e.hash_budget,
            "dsa_segments_bytes": e.dsa_segments,
            "dsa_total_bytes": e.dsa_total,
            "vacuum_workers": e.vacuum_workers,
            "vacuum_segment_bytes": e.vacuum_segment,
            "peak_one_query_bytes": e.peak_one_query,
            "concurrent_queries": e.concurrent_queries,
            "concurrency_assumed": e.concurrency_assumed,
            "peak_concurrent_bytes": e.peak_concurrent,
        })
    });
    let verdict = facts.verdict.as_ref().map(|v| {
        json!({
            "level": v.level.as_str(),
            "findings": v.findings.iter().map(|f| json!({
                "kind": f.kind.as_str(),
                "level": f.level.as_str(),
                "text": f.text,
            })).collect::<Vec<_>>(),
        })
    });
    json!({
        "postmaster_pid": facts.postmaster_pid,
        "data_dir": facts.data_dir,
        "version": facts.version,
        "shm": {
            "path": facts.shm.path,
            "size_bytes": facts.shm.size_bytes,
            "used_bytes": facts.shm.used_bytes,
            "free_bytes": facts.shm.free_bytes,
            "inodes_total": facts.shm.inodes_total,
            "inodes_free": facts.shm.inodes_free,
            "fs_type": facts.shm.fs_type,
            "tmpfs": facts.shm.is_tmpfs(),
            "mount_options": facts.shm.mount_options,
        },
        "container": ({
            let mut j = c.json();
            j["cgroup_version"] = json!(c.cgroup_version);
            j["memory_max_bytes"] = json!(c.memory_max);
            j["memory_current_bytes"] = json!(c.memory_current);
            j
        }),
        "segments": facts.segments.iter().map(seg).collect::<Vec<_>>(),
        "orphaned_bytes": facts.orphaned_bytes(),
        "other_files": facts.other_files.iter().map(|f| json!({
            "name": f.name, "size_bytes": f.size_bytes, "allocated_bytes": f.allocated_bytes,
        })).collect::<Vec<_>>(),
        "settings": settings,
        "estimate": estimate,
        "verdict": verdict,
        "remedies": super::remedy::ranked(facts, 0).iter().map(super::remedy::Remedy::json).collect::<Vec<_>>(),
    })
}

/// A failed `ftruncate`/`fallocate` of a segment, as `--watch` saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureContext {
    pub pid: i32,
    pub role: Option<Role>,
    /// The leader of a failing parallel worker.
    pub leader_pid: Option<i32>,
    pub query: Option<String>,
    pub requested_bytes: u64,
    /// `/PostgreSQL.1818734854`.
    pub segment: Option<String>,
    /// What the stack says the plan was doing.
    pub stack: PlanStep,
}

/// The explanation printed at the moment of a failure: `facts` gathered right after it (the
/// failing segment is unlinked at once, so it is not among them).
pub fn explain_failure(facts: &ShmFacts, failure: &FailureContext) -> String {
    let mut o = String::new();
    let who = match &failure.role {
        Some(r) => role_label(r, ""),
        None => facts
            .label(failure.pid)
            .map(str::to_string)
            .unwrap_or_else(|| "process".into()),
    };
    let leader = failure
        .leader_pid
        .map(|l| format!(" of leader {l}"))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "ENOSPC: pid {} ({}{leader}) could not resize segment \"{}\" to {} bytes",
        failure.pid,
        esc(&who),
        esc(failure.segment.as_deref().unwrap_or("?")),
        group(failure.requested_bytes)
    );
    if let Some(q) = &failure.query {
        let _ = writeln!(o, "  query: {}", esc(q));
    }
    let s = &facts.shm;
    let _ = writeln!(
        o,
        "  /dev/shm at the failure: size {}, used {}, free {}",
        human(s.size_bytes),
        human(s.used_bytes),
        human(s.free_bytes)
    );
    let mut holders: Vec<&ShmFile> = facts
        .segments
        .iter()
        .chain(facts.other_files.iter())
        .filter(|f| f.allocated_bytes > 0)
        .collect();
    holders.sort_by_key(|f| std::cmp::Reverse(f.allocated_bytes));
    for f in holders.iter().take(5) {
        let who = if crate::postgres::dsm::is_segment_name(&f.name) && f.is_orphan() {
            "orphan".to_string()
        } else if f.pids.is_empty() {
            "not mapped".to_string()
        } else {
            pid_list(facts, &f.pids, 3)
        };
        let _ = writeln!(
            o,
            "    {} {}: {who}",
            esc(&f.name),
            human(f.allocated_bytes)
        );
    }
    let inp = &facts.inputs;
    let e = facts.estimate.clone().unwrap_or_else(|| estimate(inp));
    let plan = match failure.stack {
        PlanStep::LeaderGather => format!(
            "Gather was starting its workers (ExecInitParallelPlan → InitializeParallelDSM): \
             the main parallel segment ({} bytes asked, for up to {} workers); no worker ever ran",
            group(failure.requested_bytes),
            e.workers
        ),
        PlanStep::SessionSegment => format!(
            "the session's first parallel query was creating its per-session segment ({})",
            human(e.session_segment)
        ),
        PlanStep::ParallelHashGrowth => format!(
            "a Parallel Hash was growing its shared hash table (dsa_allocate_extended → \
             make_new_segment); its budget is {} = work_mem {} x {} x ({} + 1), and its DSA \
             segments grow 1, 2, 2, 4, 4, 8 ... MiB",
            human(e.hash_budget),
            human(inp.work_mem),
            inp.hash_mem_multiplier,
            e.workers
        ),
        PlanStep::ParallelVacuum => format!(
            "parallel VACUUM was creating its segment with the dead-item array \
             (maintenance_work_mem {})",
            human(inp.maintenance_work_mem)
        ),
        PlanStep::Unknown => "the stack does not say which plan node asked".into(),
    };
    let _ = writeln!(o, "  what the plan was doing: {plan}");
    let _ = writeln!(
        o,
        "  the segment was unlinked right after the failure: df and the server log cannot show it"
    );
    let rem = remedies(facts);
    if !rem.is_empty() {
        o.push_str("  remedy:\n");
        for r in rem.iter().take(4) {
            let _ = writeln!(o, "    - {r}");
        }
    }
    o
}
