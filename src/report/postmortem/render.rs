//! The postmortem as text and JSON: the failures, the statements, what /dev/shm it would
//! have taken, and explain-shm's verdict and remedies (its own functions, fed the logs'
//! evidence as findings).

use super::Inputs;
use super::analyze::{Kind, Report};
use crate::report::shm::ShmFacts;
use crate::report::shm::model::{self, Finding, FindingKind, Level, Space};
use crate::report::shm::remedy::{self, Remedy};
use crate::util::{escape, human, human_exact};
use serde_json::json;
use std::fmt::Write as _;

/// explain-shm's facts for these logs: the cluster's when it runs here (settings, /dev/shm,
/// container), else PostgreSQL 15's defaults and `--shm-size`; the estimate raised to what
/// the logs prove was needed, and findings for the failed kinds.
pub fn facts(
    report: &Report,
    shm_size: Option<u64>,
    cluster: Option<&crate::postgres::Cluster>,
    set: &[(String, String)],
) -> ShmFacts {
    let mut facts = cluster
        .and_then(|c| crate::report::shm::gather(c).ok())
        .unwrap_or_default();
    if facts.postmaster_pid == 0 || !set.is_empty() {
        // Not on the server: PostgreSQL 15's defaults, and what --set says.
        let mut settings = crate::postgres::settings::Settings::defaults();
        for f in &facts.settings {
            settings.set(&f.name, &f.value, &f.source);
        }
        for (k, v) in set {
            settings.set(k, v, "--set");
        }
        facts.settings = crate::report::shm::setting_facts(&settings);
        facts.inputs = crate::report::shm::inputs_from(&settings);
    }
    if let Some(size) = shm_size {
        facts.shm.size_bytes = size;
        // The failures are in the past: compare with an empty /dev/shm of that size.
        facts.shm.free_bytes = size;
        facts.shm.path = "/dev/shm".into();
    }
    if facts.shm.size_bytes == 0 {
        return facts;
    }
    let mut est = model::estimate(&facts.inputs);
    est.peak_one_query = est.peak_one_query.max(report.needed);
    est.peak_concurrent = est.peak_concurrent.max(report.needed);
    let space = Space {
        size: facts.shm.size_bytes,
        free: facts.shm.size_bytes,
        orphaned: 0,
    };
    let mut v = model::verdict(&est, &facts.inputs, space);
    let has = |k: Kind| {
        report
            .failures
            .iter()
            .any(|f| f.kind == k && f.reason.as_deref() != Some("No such file or directory"))
    };
    let mut add = |kind: FindingKind, text: String| {
        if !v
            .findings
            .iter()
            .any(|f| f.kind == kind && f.level == Level::WillFail)
        {
            v.findings.push(Finding {
                kind,
                level: Level::WillFail,
                text,
            });
        }
    };
    let n = report.failures.len();
    if has(Kind::DsaGrowth) || has(Kind::DsaLargeAllocation) {
        add(
            FindingKind::ParallelHash,
            format!(
                "the logs show Parallel Hash (DSA) segments that did not fit: one run needed at \
                 least {} of /dev/shm, which is {}",
                human(report.needed),
                human(space.size)
            ),
        );
    }
    if has(Kind::SessionSegment) || has(Kind::MainSegment) {
        add(
            FindingKind::LeaderSegments,
            "the logs show leaders that could not make their own segments (session or main): \
             /dev/shm was full before any worker started"
                .into(),
        );
    }
    if has(Kind::ParallelVacuum) {
        add(
            FindingKind::ParallelVacuum,
            "the logs show a parallel VACUUM whose dead-item segment did not fit".into(),
        );
    }
    if n > 0 {
        v.level = Level::WillFail;
    }
    facts.estimate = Some(est);
    facts.verdict = Some(v);
    facts
}

/// explain-shm's remedies, and one the logs alone can ask for: segments that vanished under
/// a running server (`could not open shared memory segment ...: No such file or
/// directory`) are what systemd-logind's `RemoveIPC=yes` does when the server's user logs
/// out (for users that are not system users).
fn ranked(report: &Report, facts: &ShmFacts) -> Vec<Remedy> {
    let mut out = Vec::new();
    let vanished = report.failures.iter().any(|f| {
        matches!(f.op, super::analyze::Op::Open | super::analyze::Op::Stat)
            && f.reason.as_deref() == Some("No such file or directory")
    });
    if vanished {
        out.push(Remedy {
            action: remedy::Action::Set {
                setting: "RemoveIPC (systemd-logind, /etc/systemd/logind.conf)".into(),
                value: "no".into(),
                restart: false,
            },
            text: "RemoveIPC=no in /etc/systemd/logind.conf (then systemctl restart \
                   systemd-logind), or run the server as a system user: logind removes a \
                   user's /dev/shm files when its last session ends"
                .into(),
            why: "segments disappeared under the running server (could not open shared \
                  memory segment: No such file or directory)"
                .into(),
            cost: "none for PostgreSQL; other programs of that user keep their IPC objects \
                   after logout"
                .into(),
            fixes: Vec::new(),
        });
    }
    out.extend(remedy::ranked(facts, report.needed));
    out
}

fn esc(s: &str) -> String {
    escape(s)
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut t = esc(&flat);
    if t.chars().count() > 160 {
        t = t.chars().take(157).collect::<String>() + "...";
    }
    t
}

pub fn text(report: &Report, facts: &ShmFacts, inputs: &Inputs) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "read {} in {} file(s): {}",
        human(inputs.bytes),
        inputs.files.len(),
        inputs
            .files
            .iter()
            .map(|(n, f, c)| {
                if c.is_empty() {
                    format!("{} ({f})", esc(n))
                } else {
                    format!("{} ({f}, {c})", esc(n))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    let sk = &inputs.skipped;
    if sk.unparsed > 0 || sk.not_utf8 > 0 || !inputs.unreadable.is_empty() {
        let _ = writeln!(
            o,
            "skipped: {} candidate line(s) that were no log entry, {} not UTF-8{}",
            sk.unparsed,
            sk.not_utf8,
            if inputs.unreadable.is_empty() {
                String::new()
            } else {
                format!("; unreadable: {}", esc(&inputs.unreadable.join("; ")))
            }
        );
    }
    if report.failures.is_empty() {
        let _ = writeln!(
            o,
            "\nno dynamic shared memory failure in these logs (could not resize/open/map \
             shared memory segment, too many dynamic shared memory segments, SQLSTATE 53100, \
             signal 7)"
        );
        return o;
    }
    let _ = writeln!(o, "\n{} failure(s):", report.failures.len());
    for f in &report.failures {
        let who = match f.leader_pid {
            Some(l) if f.pids.iter().any(|p| *p != l) => format!(
                "leader {l}, worker(s) {}",
                f.pids
                    .iter()
                    .filter(|p| **p != l)
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(l) => format!("pid {l}"),
            None => format!(
                "pid {}",
                f.pids
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let _ = writeln!(
            o,
            "  {}  {}  {} {}{}: {}",
            esc(f.time.as_deref().unwrap_or("(no time)")),
            who,
            f.op.as_str(),
            f.segment.as_deref().map(esc).unwrap_or_default(),
            f.size
                .map(|s| format!(" to {}", human_exact(s)))
                .unwrap_or_default(),
            esc(f.reason.as_deref().unwrap_or(&f.message))
        );
        let _ = writeln!(o, "      {}: {}", f.kind.as_str(), f.kind.describe());
        if let Some(st) = &f.statement {
            let _ = writeln!(o, "      statement: {}", one_line(st));
        }
        if f.fallout > 0 {
            let _ = writeln!(
                o,
                "      then: {} worker(s) started after it and could not map the leader's \
                 segment (pid {})",
                f.fallout,
                f.fallout_pids
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if f.siblings_terminated > 0 {
            let _ = writeln!(
                o,
                "      then: {} sibling worker(s) terminated",
                f.siblings_terminated
            );
        }
        if f.restarted {
            let _ = writeln!(
                o,
                "      then: the server restarted every backend (crash-restart)"
            );
        }
    }
    let _ = writeln!(o, "\nby statement:");
    for b in &report.by_statement {
        let _ = writeln!(
            o,
            "  {}x  largest request {}, one run needs at least {}  ({} .. {})  [{}]",
            b.count,
            human_exact(b.largest),
            human(b.needed),
            esc(b.first.as_deref().unwrap_or("?")),
            esc(b.last.as_deref().unwrap_or("?")),
            b.kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(o, "      {}", one_line(&b.statement));
    }
    let _ = writeln!(o);
    if facts.shm.size_bytes == 0 {
        let _ = writeln!(
            o,
            "/dev/shm: unknown (not run on the server): the failures needed at least {}; give \
             --shm-size to compare",
            human(report.needed)
        );
    } else {
        let _ = writeln!(
            o,
            "/dev/shm: {}{}; the failures needed at least {}",
            human(facts.shm.size_bytes),
            if facts.postmaster_pid > 0 {
                format!(
                    " (the running cluster's, postmaster {}, {})",
                    facts.postmaster_pid,
                    esc(&facts.data_dir)
                )
            } else {
                " (--shm-size)".into()
            },
            human(report.needed)
        );
    }
    let given: Vec<String> = facts
        .settings
        .iter()
        .filter(|f| f.source == "--set")
        .map(|f| format!("{}={}", f.name, esc(&f.value)))
        .collect();
    if facts.postmaster_pid > 0 {
        let _ = writeln!(
            o,
            "settings: the running cluster's{}",
            if given.is_empty() {
                String::new()
            } else {
                format!(", and --set {}", given.join(" "))
            }
        );
    } else {
        let _ = writeln!(
            o,
            "settings: PostgreSQL 15's defaults{} (the server's are not known here: give them \
             with --set NAME=VALUE, or run postmortem on the server)",
            if given.is_empty() {
                String::new()
            } else {
                format!(" and --set {}", given.join(" "))
            }
        );
    }
    if let Some(v) = &facts.verdict {
        let _ = writeln!(o, "verdict: {}", v.level.as_str());
        for f in &v.findings {
            let _ = writeln!(o, "  - [{}] {}", f.level.as_str(), f.text);
        }
        let r: Vec<String> = ranked(report, facts).into_iter().map(|r| r.text).collect();
        if !r.is_empty() {
            let _ = writeln!(o, "remedies:");
            for (i, line) in r.iter().enumerate() {
                let _ = writeln!(o, "  {}. {line}", i + 1);
            }
        }
    }
    o
}

pub fn json(report: &Report, facts: &ShmFacts, inputs: &Inputs) -> serde_json::Value {
    let failures: Vec<serde_json::Value> = report
        .failures
        .iter()
        .map(|f| {
            json!({
                "time": f.time,
                "epoch": f.epoch,
                "pids": f.pids,
                "leader_pid": f.leader_pid,
                "segment": f.segment,
                "size": f.size,
                "op": f.op.as_str(),
                "reason": f.reason,
                "message": f.message,
                "kind": f.kind.as_str(),
                "statement": f.statement,
                "fallout": f.fallout,
                "fallout_pids": f.fallout_pids,
                "siblings_terminated": f.siblings_terminated,
                "restarted": f.restarted,
            })
        })
        .collect();
    let by: Vec<serde_json::Value> = report
        .by_statement
        .iter()
        .map(|b| {
            json!({
                "statement": b.statement,
                "count": b.count,
                "first": b.first,
                "last": b.last,
                "largest": b.largest,
                "needed": b.needed,
                "kinds": b.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
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
        "inputs": {
            "bytes": inputs.bytes,
            "files": inputs.files.iter().map(|(n, f, c)| json!({"name": n, "format": f, "compression": c})).collect::<Vec<_>>(),
            "skipped": {"unparsed": inputs.skipped.unparsed, "not_utf8": inputs.skipped.not_utf8},
            "unreadable": inputs.unreadable,
        },
        "failures": failures,
        "by_statement": by,
        "needed": report.needed,
        "shm_size": (facts.shm.size_bytes > 0).then_some(facts.shm.size_bytes),
        "settings": facts.settings.iter().map(|f| json!({"name": f.name, "value": f.value, "source": f.source})).collect::<Vec<_>>(),
        "verdict": verdict,
        "remedies": ranked(report, facts).iter().map(Remedy::json).collect::<Vec<_>>(),
    })
}
