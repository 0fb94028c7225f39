//! doctor's text and JSON. Text from the system (cgroup paths, user names, DMI strings) is
//! escaped before it reaches the terminal; colour only where the caller said so.

use super::checks::{Check, Level};
use super::facts::Facts;
use crate::util::escape;
use owo_colors::OwoColorize;
use serde_json::{Value, json};
use std::fmt::Write as _;

fn tag(level: Level, colour: bool) -> String {
    let word = match level {
        Level::Ok => "ok",
        Level::Unknown => "unknown",
        Level::Warn => "WARN",
        Level::Fail => "FAIL",
    };
    let padded = format!("{word:<7}");
    if !colour {
        return padded;
    }
    match level {
        Level::Ok => padded.green().to_string(),
        Level::Unknown => padded.dimmed().to_string(),
        Level::Warn => padded.yellow().bold().to_string(),
        Level::Fail => padded.red().bold().to_string(),
    }
}

fn header(f: &Facts) -> String {
    let mut h = format!(
        "pgstrace doctor: kernel {}, {} CPUs",
        escape(f.kernel.as_deref().unwrap_or("unknown")),
        f.sched.ncpus
    );
    if let Some(t) = &f.target {
        let _ = write!(
            h,
            "\ncluster {} (PostgreSQL {}), postmaster {}",
            escape(&t.data_dir),
            escape(t.version.as_deref().unwrap_or("?")),
            t.postmaster_pid
        );
        if t.ns_pids.len() > 1
            && let Some(inner) = t.ns_pids.last()
        {
            let _ = write!(h, " ({inner} in its PID namespace)");
        }
        if let Some((u, uid)) = &t.user {
            let _ = write!(h, ", user {} (uid {uid})", escape(u));
        }
        let c = &t.container;
        if let Some(kind) = c.kind() {
            let _ = write!(
                h,
                "\nin a container ({kind}): {}{}",
                c.names()
                    .map(|n| format!("{}; ", escape(&n)))
                    .unwrap_or_default(),
                c.hints
                    .iter()
                    .map(|s| escape(s))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
    h
}

/// The report as text: a header, then each check with its evidence, why and change.
pub fn text(f: &Facts, checks: &[Check], colour: bool) -> String {
    let mut out = header(f);
    out.push_str("\n\n");
    for c in checks {
        let title = if colour {
            c.title.bold().to_string()
        } else {
            c.title.to_string()
        };
        let _ = writeln!(
            out,
            "{} {title}: {}",
            tag(c.level, colour),
            escape(&c.summary)
        );
        for (k, v) in &c.evidence {
            let _ = writeln!(out, "        {}: {}", escape(k), escape(v));
        }
        if !c.why.is_empty() {
            let _ = writeln!(out, "        why: {}", c.why);
        }
        for ch in &c.change {
            let _ = writeln!(out, "        change: {}", escape(ch));
        }
        out.push('\n');
    }
    let count = |l: Level| checks.iter().filter(|c| c.level == l).count();
    let _ = writeln!(
        out,
        "{} fail, {} warn, {} unknown, {} ok",
        count(Level::Fail),
        count(Level::Warn),
        count(Level::Unknown),
        count(Level::Ok)
    );
    out
}

/// The report as one JSON object: `target`, `checks` (each with `id`, `level`, `summary`,
/// `evidence` as an object, `why`, `change`), `worst`.
pub fn json(f: &Facts, checks: &[Check]) -> Value {
    let target = f.target.as_ref().map(|t| {
        json!({
            "pid": t.pid,
            "postmaster_pid": t.postmaster_pid,
            "ns_pids": t.ns_pids,
            "data_dir": t.data_dir,
            "version": t.version,
            "user": t.user.as_ref().map(|(u, _)| u),
            "uid": t.user.as_ref().map(|(_, id)| id),
            "container": ({
                let mut c = t.container.json();
                c["memory_max"] = json!(t.container.memory_max);
                c
            }),
            "settings": t.settings,
        })
    });
    let checks_json: Vec<Value> = checks
        .iter()
        .map(|c| {
            let mut ev = serde_json::Map::new();
            for (k, v) in &c.evidence {
                ev.insert(k.clone(), Value::String(v.clone()));
            }
            json!({
                "id": c.id,
                "title": c.title,
                "level": c.level.as_str(),
                "summary": c.summary,
                "evidence": ev,
                "why": c.why,
                "change": c.change,
            })
        })
        .collect();
    let mut facts = serde_json::Map::new();
    facts.insert(
        "clock".into(),
        json!({
            "current": f.clock.current,
            "available": f.clock.available,
            "measured": f.clock.measured.iter().map(|m| json!({
                "call": m.name,
                "syscalls_per_call": m.syscalls_per_call,
                "ns_per_call": m.ns_per_call,
            })).collect::<Vec<_>>(),
            "measure_error": f.clock.measure_error,
        }),
    );
    facts.insert(
        "huge_pages".into(),
        json!({
            "pool": f.huge.pool.as_ref().map(|p| json!({
                "total": p.total, "free": p.free, "rsvd": p.rsvd, "surp": p.surp,
                "size_bytes": p.size_kib * 1024,
            })),
            "thp_enabled": f.huge.thp_enabled,
            "thp_defrag": f.huge.thp_defrag,
            "thp_shmem": f.huge.thp_shmem,
            "main_shm": f.target.as_ref().and_then(|t| t.main_shm.as_ref()).map(|m| json!({
                "bytes": m.bytes, "page_bytes": m.page_kib * 1024, "name": m.name, "huge": m.huge(),
            })),
        }),
    );
    facts.insert(
        "memory".into(),
        json!({
            "cgroup_version": f.memory.version,
            "cgroup": f.memory.path,
            "max": f.memory.max,
            "high": f.memory.high,
            "current": f.memory.current,
            "events": f.memory.events,
            "stat": f.memory.stat,
            "mem_total": f.memory.mem_total,
            "dirty": f.memory.dirty,
        }),
    );
    facts.insert(
        "virtualization".into(),
        json!({
            "guest": f.virt.cpuid_hypervisor || f.virt.sys_hypervisor.is_some(),
            "cpuid_signature": f.virt.cpuid_vendor,
            "sys_hypervisor": f.virt.sys_hypervisor,
            "dmi": f.virt.dmi,
            "steal_pct": f.virt.steal_pct,
            "sample_ms": f.virt.sample_ms,
        }),
    );
    facts.insert(
        "scheduler".into(),
        json!({
            "autogroup": f.sched.autogroup,
            "cpu_cgroup_version": f.sched.cpu_version,
            "cpu_max": f.sched.cpu_max.map(|(q, p)| json!({"quota_us": q, "period_us": p})),
            "cpu_stat": f.sched.cpu_stat,
            "cpus": f.sched.ncpus,
        }),
    );
    json!({
        "target": target,
        "worst": super::checks::worst(checks).as_str(),
        "checks": checks_json,
        "facts": facts,
    })
}
