//! Remedies, ranked, each one machine-applicable and checked against the model before it is
//! offered: a change is a remedy only if, applied to the same facts, the findings that fail
//! no longer do. First what removes the cause at hand (foreign files and orphans holding
//! /dev/shm), then /dev/shm sized to cover the shortfall the report states (in the terms of
//! the environment: host, Docker, Kubernetes, the Zalando operator, CloudNativePG), then the
//! settings (fewer workers, a smaller work_mem, parallel VACUUM, min_dynamic_shared_memory),
//! each with what it costs.

use super::ShmFacts;
use super::model::{self, Estimate, EstimateInputs, FindingKind, Level, Space, Verdict};
use super::probe::ShmFile;
use crate::util::human;
use serde_json::json;

/// What to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Set a server setting (`restart`: it takes a restart, else a reload).
    Set {
        setting: String,
        value: String,
        restart: bool,
    },
    /// Make /dev/shm this big; `how`: (environment, what to write there).
    ResizeShm {
        bytes: u64,
        how: Vec<(String, String)>,
    },
    /// Remove these files from /dev/shm.
    Remove { paths: Vec<String> },
}

/// One remedy.
#[derive(Clone, Debug, PartialEq)]
pub struct Remedy {
    pub action: Action,
    /// The line a person reads.
    pub text: String,
    pub why: String,
    pub cost: String,
    /// The findings at hand it clears (by the model).
    pub fixes: Vec<FindingKind>,
}

impl Remedy {
    pub fn json(&self) -> serde_json::Value {
        let mut j = match &self.action {
            Action::Set {
                setting,
                value,
                restart,
            } => json!({"action": "set", "setting": setting, "value": value,
                        "takes": if *restart { "restart" } else { "reload" }}),
            Action::ResizeShm { bytes, how } => json!({
                "action": "resize_shm",
                "bytes": bytes,
                "how": how.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
            }),
            Action::Remove { paths } => json!({"action": "remove", "paths": paths}),
        };
        j["fixes"] = json!(self.fixes.iter().map(|k| k.as_str()).collect::<Vec<_>>());
        j["why"] = json!(self.why);
        j["cost"] = json!(self.cost);
        j["text"] = json!(self.text);
        j
    }
}

/// `512MB` style value, rounded up to whole MiB.
fn mb(bytes: u64) -> String {
    format!("{}MB", bytes.div_ceil(1 << 20).max(1))
}

/// The findings at `level` or worse, for these inputs and this space.
fn failing(inp: &EstimateInputs, space: Space, floor: u64, level: Level) -> Vec<FindingKind> {
    let mut e = model::estimate(inp);
    e.peak_one_query = e.peak_one_query.max(floor);
    verdict_of(&e, inp, space)
        .findings
        .iter()
        .filter(|f| f.level >= level && f.kind != FindingKind::Orphans)
        .map(|f| f.kind)
        .collect()
}

fn verdict_of(e: &Estimate, inp: &EstimateInputs, space: Space) -> Verdict {
    model::verdict(e, inp, space)
}

/// Whether a change fixes what fails now.
struct Check {
    /// What the logs or a failure proved one query needs at least (postmortem); 0 live.
    floor: u64,
    /// The findings at risk or worse now, and those that will fail.
    all: Vec<FindingKind>,
    fail: Vec<FindingKind>,
}

impl Check {
    fn new(inp: &EstimateInputs, space: Space, floor: u64) -> Check {
        Check {
            floor,
            all: failing(inp, space, floor, Level::AtRisk),
            fail: failing(inp, space, floor, Level::WillFail),
        }
    }

    /// Nothing is left at risk or worse.
    fn fixed(&self, inp: &EstimateInputs, space: Space) -> bool {
        let after = failing(inp, space, self.floor, Level::AtRisk);
        self.all.iter().all(|k| !after.contains(k))
    }

    /// The findings a change clears.
    fn cleared(&self, inp: &EstimateInputs, space: Space) -> Vec<FindingKind> {
        let after = failing(inp, space, self.floor, Level::AtRisk);
        self.all
            .iter()
            .copied()
            .filter(|k| !after.contains(k))
            .collect()
    }

    /// At least one finding is cleared and nothing that did not fail before will fail: a
    /// remedy for one of several causes (what is merely at risk afterwards, such as several
    /// queries at once after a smaller work_mem, is said by the report, not held against it).
    fn helps(&self, inp: &EstimateInputs, space: Space) -> bool {
        let after_fail = failing(inp, space, self.floor, Level::WillFail);
        !self.cleared(inp, space).is_empty() && after_fail.iter().all(|k| self.fail.contains(k))
    }
}

/// The environment's ways to size /dev/shm, the detected one first.
fn resize_how(facts: &ShmFacts, bytes: u64) -> Vec<(String, String)> {
    let m = bytes >> 20;
    let c = &facts.container;
    let host = (
        "host".to_string(),
        format!("mount -o remount,size={m}m /dev/shm (and size={m}m in its /etc/fstab line)"),
    );
    let docker = (
        "docker".to_string(),
        format!("docker run --shm-size={m}m ... (compose: shm_size: {m}m)"),
    );
    let k8s = (
        "kubernetes".to_string(),
        format!("an emptyDir volume with medium: Memory and sizeLimit: {m}Mi mounted on /dev/shm"),
    );
    let zalando = (
        "zalando-postgres-operator".to_string(),
        "enableShmVolume: true (the operator mounts a memory emptyDir on /dev/shm)".to_string(),
    );
    let cnpg = (
        "cloudnative-pg".to_string(),
        format!("spec.ephemeralVolumesSizeLimit.shm: {m}Mi in the Cluster resource"),
    );
    let hints = c.hints.join(" ").to_ascii_lowercase();
    if hints.contains("cnpg") || hints.contains("cloudnative") {
        vec![cnpg, k8s]
    } else if hints.contains("spilo") || hints.contains("zalando") {
        vec![zalando, k8s]
    } else if c.kubernetes {
        vec![k8s, zalando, cnpg]
    } else if c.docker {
        vec![docker]
    } else {
        vec![host, docker, k8s]
    }
}

/// What the report states one query (or parallel VACUUM, or N queries at once) needs.
fn stated_need(e: &Estimate, v: &Verdict, floor: u64) -> u64 {
    let has = |k: FindingKind| {
        v.findings
            .iter()
            .any(|f| f.kind == k && f.level >= Level::AtRisk)
    };
    let mut need = e.peak_one_query.max(floor);
    if has(FindingKind::Concurrency) {
        need = need.max(e.peak_concurrent);
    }
    if has(FindingKind::ParallelVacuum) {
        need = need.max(e.vacuum_segment);
    }
    if has(FindingKind::LeaderSegments) {
        need = need.max(e.leader_segments);
    }
    need
}

/// The remedies for `facts`, ranked; `floor`: what one query was proven to need (0 live).
pub fn ranked(facts: &ShmFacts, floor: u64) -> Vec<Remedy> {
    let (Some(e), Some(v)) = (&facts.estimate, &facts.verdict) else {
        return Vec::new();
    };
    if v.level == Level::Ok || !e.uses_dev_shm {
        return Vec::new();
    }
    let inp = &facts.inputs;
    let s = &facts.shm;
    let orphaned = facts.orphaned_bytes();
    let space = Space {
        size: s.size_bytes,
        free: s.free_bytes,
        orphaned,
    };
    let check = Check::new(inp, space, floor);
    let now = check.all.clone();
    let mut out = Vec::new();
    let path = |f: &ShmFile| format!("{}/{}", s.path.trim_end_matches('/'), f.name);

    // 1. What holds /dev/shm and is not the cluster's: foreign files, then orphans.
    let mut foreign: Vec<&ShmFile> = facts
        .other_files
        .iter()
        .filter(|f| f.allocated_bytes > 0 && f.pids.is_empty())
        .collect();
    foreign.sort_by_key(|f| std::cmp::Reverse(f.allocated_bytes));
    let foreign_bytes: u64 = foreign.iter().map(|f| f.allocated_bytes).sum();
    let orphans: Vec<&ShmFile> = facts.orphans().collect();
    for (files, bytes, what) in [
        (
            &foreign,
            foreign_bytes,
            "that are not PostgreSQL's, open by no process",
        ),
        (
            &orphans,
            orphaned,
            "that are orphaned segments: no process of the cluster maps them",
        ),
    ] {
        if files.is_empty() {
            continue;
        }
        let freed = Space {
            free: space.free.saturating_add(bytes),
            ..space
        };
        if !check.helps(inp, freed) && bytes < space.size / 10 {
            continue;
        }
        let paths: Vec<String> = files.iter().map(|f| path(f)).collect();
        let shown: Vec<String> = paths
            .iter()
            .map(|p| crate::util::escape_strace(p))
            .collect();
        out.push(Remedy {
            fixes: check.cleared(inp, freed),
            text: format!("rm {}  ({} in files {what})", shown.join(" "), human(bytes)),
            why: format!(
                "{} of /dev/shm's {} is held by them",
                human(bytes),
                human(space.size)
            ),
            cost: "whatever made them loses them: check first with fuser -v or lsof that \
                   nothing uses them"
                .into(),
            action: Action::Remove { paths },
        });
    }

    // 2. /dev/shm big enough for what the report says is needed.
    let need = stated_need(e, v, floor);
    let room = space.size.saturating_add(inp.min_dynamic_shared_memory);
    if need.saturating_add(space.size.saturating_sub(space.free)) > room || need > space.free {
        // Sized for the need plus what else is held now (the cluster's live segments, other
        // files), and headroom; a power of two MiB, at least 64 MiB.
        let held = space.size.saturating_sub(space.free);
        let want = need.saturating_add(held).saturating_add(16 << 20);
        let bytes = want
            .checked_next_power_of_two()
            .unwrap_or(want)
            .max(64 << 20);
        let grown = Space {
            size: bytes,
            free: bytes.saturating_sub(held),
            ..space
        };
        if check.fixed(inp, grown) {
            let how = resize_how(facts, bytes);
            out.push(Remedy {
                fixes: check.cleared(inp, grown),
                text: format!(
                    "/dev/shm of {}: {}",
                    human(bytes),
                    how.first().map(|(_, h)| h.as_str()).unwrap_or_default()
                ),
                why: format!(
                    "one parallel query here needs up to {} of /dev/shm{}; it has {} ({} free)",
                    human(need),
                    if need > e.peak_one_query.max(floor) {
                        " (several at once, or parallel VACUUM)"
                    } else {
                        ""
                    },
                    human(space.size),
                    human(space.free)
                ),
                cost: format!(
                    "tmpfs pages are memory: up to {} more, counted against the container's \
                     memory limit{}",
                    human(bytes.saturating_sub(space.size)),
                    facts
                        .container
                        .memory_max
                        .map(|m| format!(" ({})", human(m)))
                        .unwrap_or_default()
                ),
                action: Action::ResizeShm { bytes, how },
            });
        }
    }

    // 3. Settings, each only if it alone fixes what fails.
    let set = |name: &str,
               value: String,
               why: String,
               cost: &str,
               restart: bool,
               fixes: Vec<FindingKind>| Remedy {
        fixes,
        text: format!(
            "{name} = {value} ({}): {why}",
            if restart { "restart" } else { "reload" }
        ),
        why,
        cost: cost.to_string(),
        action: Action::Set {
            setting: name.to_string(),
            value,
            restart,
        },
    };
    // Settings are sized for the space free now (what the next query meets).
    let avail = space.free.saturating_add(inp.min_dynamic_shared_memory);
    let w = model::workers_that_fit(inp, avail);
    if w < inp.max_parallel_workers_per_gather {
        let fewer = EstimateInputs {
            max_parallel_workers_per_gather: w,
            ..inp.clone()
        };
        if check.helps(&fewer, space) {
            // A leader that cannot make its own segments is the failure at hand when it is
            // among them: work_mem has nothing to do with it.
            let leader_only = now.contains(&FindingKind::LeaderSegments);
            let why = if w == 0 {
                if leader_only {
                    "not even one worker's share of the leader's segments fits: parallel \
                     query off"
                        .to_string()
                } else {
                    "with this work_mem not even one worker's Parallel Hash fits: parallel \
                     query off"
                        .to_string()
                }
            } else if leader_only {
                format!(
                    "the main segment grows by 80 KiB per worker: {w} fit (now {})",
                    inp.max_parallel_workers_per_gather
                )
            } else {
                format!(
                    "each worker adds work_mem x hash_mem_multiplier to the Parallel Hash \
                     budget: {w} fit (now {})",
                    inp.max_parallel_workers_per_gather
                )
            };
            out.push(set(
                "max_parallel_workers_per_gather",
                w.to_string(),
                why,
                "fewer workers per query: slower parallel plans",
                false,
                check.cleared(&fewer, space),
            ));
        }
    }
    if now.contains(&FindingKind::ParallelHash)
        && let Some(wm) = model::work_mem_that_fits(inp, avail).filter(|wm| *wm < inp.work_mem)
    {
        let smaller = EstimateInputs {
            work_mem: wm,
            ..inp.clone()
        };
        if check.helps(&smaller, space) {
            out.push(set(
                "work_mem",
                mb(wm),
                format!(
                    "the Parallel Hash budget is work_mem x hash_mem_multiplier {} x (workers + 1): \
                     with {} it fits (now {})",
                    inp.hash_mem_multiplier,
                    mb(wm),
                    mb(inp.work_mem)
                ),
                "hash joins and sorts spill to disk sooner: slower queries",
                false,
                check.cleared(&smaller, space),
            ));
        }
    }
    if now.contains(&FindingKind::ParallelVacuum) {
        let serial = EstimateInputs {
            max_parallel_maintenance_workers: 0,
            ..inp.clone()
        };
        if check.helps(&serial, space) {
            out.push(set(
                "max_parallel_maintenance_workers",
                "0".into(),
                "parallel VACUUM keeps its dead-item array in /dev/shm; a serial VACUUM keeps \
                 it in its own memory"
                    .into(),
                "VACUUM of a table with several indexes processes them one at a time",
                false,
                check.cleared(&serial, space),
            ));
        }
        let fit = avail.saturating_sub(8 << 20) & !((1 << 20) - 1);
        if fit >= 1 << 20 && fit < inp.maintenance_work_mem {
            let smaller = EstimateInputs {
                maintenance_work_mem: fit,
                ..inp.clone()
            };
            if check.helps(&smaller, space) {
                out.push(set(
                    "maintenance_work_mem",
                    mb(fit),
                    format!(
                        "parallel VACUUM's segment is up to maintenance_work_mem (now {})",
                        mb(inp.maintenance_work_mem)
                    ),
                    "VACUUM of big tables makes more passes over their indexes",
                    false,
                    check.cleared(&smaller, space),
                ));
            }
        }
    }
    if now.contains(&FindingKind::LeaderSegments) || now.contains(&FindingKind::Concurrency) {
        // Segments come from the main shared memory first: sized for everything the queries
        // put in /dev/shm (their DSA segments too), not only the leaders' segments.
        let want = need.div_ceil(1 << 20) << 20;
        let with = EstimateInputs {
            min_dynamic_shared_memory: want,
            ..inp.clone()
        };
        if check.helps(&with, space) {
            out.push(set(
                "min_dynamic_shared_memory",
                mb(want),
                "segments are carved from the main shared memory region first, not from \
                 /dev/shm (PostgreSQL 14+)"
                    .into(),
                "that much memory is reserved at server start, whether queries use it or not",
                true,
                check.cleared(&with, space),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::probe::{ShmFile, ShmFs};
    use super::*;

    fn facts(size: u64, free: u64, inp: EstimateInputs) -> ShmFacts {
        let mut f = ShmFacts {
            shm: ShmFs {
                path: "/proc/1/root/dev/shm".into(),
                size_bytes: size,
                free_bytes: free,
                fs_type: Some("tmpfs".into()),
                ..ShmFs::default()
            },
            inputs: inp,
            ..ShmFacts::default()
        };
        f.evaluate();
        f
    }

    fn section7() -> EstimateInputs {
        EstimateInputs {
            max_parallel_workers_per_gather: 4,
            work_mem: 256 << 20,
            ..EstimateInputs::default()
        }
    }

    #[test]
    fn every_remedy_fixes_what_fails_and_says_its_cost() {
        let f = facts(32 << 20, 32 << 20, section7());
        let r = ranked(&f, 0);
        assert!(!r.is_empty());
        for x in &r {
            assert!(!x.cost.is_empty() && !x.why.is_empty(), "{x:?}");
        }
        let Action::ResizeShm { bytes, how } = &r[0].action else {
            panic!("first: {:?}", r[0]);
        };
        let e = f
            .estimate
            .clone()
            .unwrap_or_else(|| model::estimate(&section7()));
        assert!(*bytes >= e.peak_one_query, "{bytes} < {}", e.peak_one_query);
        assert_eq!(how[0].0, "host");
        // Not "2 (now 2)", not a work_mem raised to lower it.
        for x in &r {
            if let Action::Set { setting, value, .. } = &x.action {
                let now = match setting.as_str() {
                    "max_parallel_workers_per_gather" => "4".to_string(),
                    "work_mem" => "256MB".to_string(),
                    _ => String::new(),
                };
                assert_ne!(value, &now, "{x:?}");
            }
        }
    }

    #[test]
    fn a_foreign_file_is_the_first_remedy_and_every_orphan_is_removed() {
        let mut f = facts(32 << 20, 1 << 20, EstimateInputs::default());
        f.other_files.push(ShmFile {
            name: "bigfile".into(),
            size_bytes: 30 << 20,
            allocated_bytes: 30 << 20,
            ..ShmFile::default()
        });
        f.evaluate();
        let r = ranked(&f, 0);
        assert!(
            matches!(&r[0].action, Action::Remove { paths } if paths == &["/proc/1/root/dev/shm/bigfile"]),
            "{r:#?}"
        );
        let mut f = facts(32 << 20, 1 << 20, EstimateInputs::default());
        for n in ["PostgreSQL.1", "PostgreSQL.2"] {
            f.segments.push(ShmFile {
                name: n.into(),
                size_bytes: 15 << 20,
                allocated_bytes: 15 << 20,
                ..ShmFile::default()
            });
        }
        f.evaluate();
        let r = ranked(&f, 0);
        let Action::Remove { paths } = &r[0].action else {
            panic!("{r:#?}");
        };
        assert_eq!(paths.len(), 2, "every orphan, not one: {paths:?}");
        assert!(r[0].text.contains("PostgreSQL.1") && r[0].text.contains("PostgreSQL.2"));
    }

    #[test]
    fn the_size_covers_several_queries_at_once_when_that_is_the_finding() {
        let inp = EstimateInputs {
            max_parallel_workers_per_gather: 2,
            work_mem: 64 << 20,
            concurrent_queries: Some(8),
            ..EstimateInputs::default()
        };
        let f = facts(512 << 20, 512 << 20, inp.clone());
        let e = model::estimate(&inp);
        let r = ranked(&f, 0);
        for x in &r {
            if let Action::ResizeShm { bytes, .. } = &x.action {
                assert!(
                    *bytes >= e.peak_concurrent,
                    "{bytes} < {}",
                    e.peak_concurrent
                );
            }
            if let Action::Set { setting, value, .. } = &x.action
                && setting == "min_dynamic_shared_memory"
            {
                let v: u64 = value.trim_end_matches("MB").parse().unwrap_or(0);
                assert!(v << 20 >= e.peak_concurrent, "{x:?}");
            }
        }
    }

    #[test]
    fn the_operator_s_own_knob_comes_first() {
        let mut f = facts(64 << 20, 64 << 20, section7());
        f.container.kubernetes = true;
        f.container.hints =
            vec!["CloudNativePG (cnpg) instance: CNPG_* in the postmaster's environment".into()];
        let r = ranked(&f, 0);
        let Some(Action::ResizeShm { how, .. }) = r.first().map(|x| &x.action) else {
            panic!("{r:#?}");
        };
        assert_eq!(how[0].0, "cloudnative-pg");
        assert!(
            r[0].text.contains("ephemeralVolumesSizeLimit.shm"),
            "{}",
            r[0].text
        );
        f.container.hints = vec![
            "Spilo (Zalando postgres-operator): SPILO_* in the postmaster's environment".into(),
        ];
        let r = ranked(&f, 0);
        assert!(r[0].text.contains("enableShmVolume"), "{}", r[0].text);
    }

    #[test]
    fn a_leaders_failure_is_not_blamed_on_work_mem() {
        // /dev/shm nearly full: the leader's own segments do not fit.
        let f = facts(32 << 20, 100 << 10, EstimateInputs::default());
        let r = ranked(&f, 0);
        for x in &r {
            assert!(!x.text.contains("work_mem not even"), "{x:?}");
            if let Action::Set { setting, .. } = &x.action {
                assert_ne!(setting, "work_mem", "{x:?}");
            }
        }
        assert!(
            r.iter()
                .any(|x| matches!(x.action, Action::ResizeShm { .. })),
            "{r:#?}"
        );
    }
}
