//! The estimator and the verdict of explain-shm: pure functions from settings (and /dev/shm's
//! size and free space) to what parallel plans allocate in /dev/shm, with no I/O.
//!
//! The sizes are modelled on PostgreSQL 15.18 and fitted to segments measured with
//! `strace -f -e trace=ftruncate -p POSTMASTER` (the numbers are in the tests below).

/// The per-session segment, created by a session's first parallel query (measured).
pub const SESSION_SEGMENT: u64 = 196_736;

/// What one more worker adds to the main parallel segment: a 64 KiB tuple queue, a 16 KiB
/// error queue and ~160 bytes of per-worker state (measured: the W=1→2→4 steps are 82,080).
pub const PER_WORKER: u64 = 64 * 1024 + 16 * 1024 + 160;

/// The main segment's size without workers, for a Gather over a Parallel Hash Join
/// (measured 16,768; a plain Parallel Seq Scan under a Partial Aggregate has 13,696: the
/// base depends on the plan by a few KiB, the per-worker part does not).
pub const MAIN_BASE: u64 = 16_768;

/// DSA segments start at 1 MiB and double every two segments (segment 0 is carved from the
/// main parallel segment, so growth starts at index 1: 1, 2, 2, 4, 4, 8, 8, 16 ... MiB).
pub const DSA_INITIAL_SEGMENT: u64 = 1 << 20;
const DSA_SEGMENTS_PER_SIZE: u32 = 2;
/// PostgreSQL's cap on a DSA's segment count (64-bit builds).
const DSA_MAX_SEGMENTS: u32 = 1024;
#[cfg(test)]
const PAGE: u64 = 4096;

/// Parallel VACUUM: the dead-item array (6-byte item pointers after an 8-byte header) plus
/// ~3.3 KiB of fixed state and ~16.6 KiB per worker (error queue + stats), fitted to
/// 1,068,480 (1MB, 1 worker), 4,214,208 (4MB, 1 worker), 1,085,088 (1MB, 2 workers).
const VACUUM_BASE: u64 = 3_300;
const VACUUM_PER_WORKER: u64 = 16_640;
const ITEM_POINTER: u64 = 6;
const DEAD_ITEMS_HEADER: u64 = 8;
/// MaxAllocSize caps the dead-item array at about 1 GiB.
const MAX_DEAD_ITEMS: u64 = (0x3fff_ffff - DEAD_ITEMS_HEADER) / ITEM_POINTER;

/// The settings the estimate depends on, already in bytes and counts.
#[derive(Clone, Debug, PartialEq)]
pub struct EstimateInputs {
    pub dynamic_shared_memory_type: String,
    pub min_dynamic_shared_memory: u64,
    pub max_parallel_workers_per_gather: u32,
    pub max_parallel_workers: u32,
    pub max_worker_processes: u32,
    pub parallel_leader_participation: bool,
    pub work_mem: u64,
    pub hash_mem_multiplier: f64,
    pub maintenance_work_mem: u64,
    pub max_parallel_maintenance_workers: u32,
    pub enable_parallel_hash: bool,
    /// How many parallel queries run at once; `None`: assume as many as can get their full
    /// set of workers (max_parallel_workers / workers per Gather).
    pub concurrent_queries: Option<u32>,
    /// The backend asked about holds its per-session segment already (made by an earlier
    /// parallel query of the session): it is not needed again.
    pub session_segment_held: bool,
}

impl Default for EstimateInputs {
    /// PostgreSQL 15's defaults.
    fn default() -> Self {
        EstimateInputs {
            dynamic_shared_memory_type: "posix".into(),
            min_dynamic_shared_memory: 0,
            max_parallel_workers_per_gather: 2,
            max_parallel_workers: 8,
            max_worker_processes: 8,
            parallel_leader_participation: true,
            work_mem: 4 << 20,
            hash_mem_multiplier: 2.0,
            maintenance_work_mem: 64 << 20,
            max_parallel_maintenance_workers: 2,
            enable_parallel_hash: true,
            concurrent_queries: None,
            session_segment_held: false,
        }
    }
}

/// What parallel plans can put in /dev/shm under [`EstimateInputs`].
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Whether segments go to /dev/shm at all (`dynamic_shared_memory_type = posix`).
    pub uses_dev_shm: bool,
    /// Workers one Gather can get: per-gather, capped by max_parallel_workers and
    /// max_worker_processes.
    pub workers: u32,
    pub session_segment: u64,
    pub main_segment: u64,
    /// Session + main: what the leader creates before any worker starts.
    pub leader_segments: u64,
    /// work_mem × hash_mem_multiplier × (workers + 1); 0 when Parallel Hash is off.
    pub hash_budget: u64,
    /// The DSA segments a Parallel Hash creates to reach its budget, in order.
    pub dsa_segments: Vec<u64>,
    pub dsa_total: u64,
    pub vacuum_workers: u32,
    pub vacuum_segment: u64,
    /// What one parallel query can hold at once: leader segments + DSA for the hash budget.
    pub peak_one_query: u64,
    pub concurrent_queries: u32,
    /// True when `concurrent_queries` was assumed rather than given.
    pub concurrency_assumed: bool,
    pub peak_concurrent: u64,
}

/// The main parallel segment of a Gather with `workers` workers.
pub fn main_segment(workers: u32) -> u64 {
    MAIN_BASE + u64::from(workers) * PER_WORKER
}

/// Size of DSA growth segment number `index` (1-based: index 0 lives in the main segment).
pub fn dsa_segment_size(index: u32) -> u64 {
    DSA_INITIAL_SEGMENT << (index / DSA_SEGMENTS_PER_SIZE).min(40)
}

/// The segment a single allocation of `bytes` gets when it is larger than the next segment
/// in the series: the allocation in whole pages, a page of header and free-page manager, and
/// an 8-byte page-map entry per page (16 MiB → 16,814,080, 8 MiB → 8,409,088, measured).
#[cfg(test)]
pub fn dsa_large_segment(bytes: u64) -> u64 {
    let pages = bytes.div_ceil(PAGE);
    let meta = (PAGE + pages * 8).div_ceil(PAGE) * PAGE;
    pages * PAGE + meta
}

/// The growth segments a DSA creates until it holds `total` bytes.
pub fn dsa_series(total: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut sum = 0u64;
    let mut index = 1;
    while sum < total && index < DSA_MAX_SEGMENTS {
        let s = dsa_segment_size(index);
        out.push(s);
        sum = sum.saturating_add(s);
        index += 1;
    }
    out
}

/// Parallel VACUUM's segment: the dead-item array that `maintenance_work_mem` allows (capped
/// by the table: 291 items per heap page, when `rel_pages` is known) and the workers' queues.
pub fn vacuum_segment(maintenance_work_mem: u64, workers: u32, rel_pages: Option<u64>) -> u64 {
    let mut items = (maintenance_work_mem / ITEM_POINTER).min(MAX_DEAD_ITEMS);
    if let Some(pages) = rel_pages {
        items = items.min(pages.saturating_mul(291)).max(291);
    }
    DEAD_ITEMS_HEADER + items * ITEM_POINTER + VACUUM_BASE + u64::from(workers) * VACUUM_PER_WORKER
}

/// The estimate for `inp`.
pub fn estimate(inp: &EstimateInputs) -> Estimate {
    let uses_dev_shm = inp.dynamic_shared_memory_type.eq_ignore_ascii_case("posix");
    let workers = inp
        .max_parallel_workers_per_gather
        .min(inp.max_parallel_workers)
        .min(inp.max_worker_processes);
    let parallel = workers > 0;
    let (session_segment, main_segment) = if parallel {
        (
            if inp.session_segment_held {
                0
            } else {
                SESSION_SEGMENT
            },
            main_segment(workers),
        )
    } else {
        (0, 0)
    };
    let leader_segments = session_segment + main_segment;
    let hash_budget = if parallel && inp.enable_parallel_hash {
        let b = inp.work_mem as f64 * inp.hash_mem_multiplier.max(0.0) * f64::from(workers + 1);
        if b >= u64::MAX as f64 {
            u64::MAX
        } else {
            b as u64
        }
    } else {
        0
    };
    let dsa_segments = dsa_series(hash_budget);
    let dsa_total = dsa_segments.iter().fold(0u64, |a, &s| a.saturating_add(s));
    let vacuum_workers = inp
        .max_parallel_maintenance_workers
        .min(inp.max_parallel_workers)
        .min(inp.max_worker_processes);
    let vacuum_segment = if vacuum_workers > 0 {
        vacuum_segment(inp.maintenance_work_mem, vacuum_workers, None)
    } else {
        0
    };
    let peak_one_query = leader_segments.saturating_add(dsa_total);
    let (concurrent_queries, concurrency_assumed) = match inp.concurrent_queries {
        Some(n) => (n.max(1), false),
        None if parallel => ((inp.max_parallel_workers / workers).max(1), true),
        None => (1, true),
    };
    Estimate {
        uses_dev_shm,
        workers,
        session_segment,
        main_segment,
        leader_segments,
        hash_budget,
        dsa_segments,
        dsa_total,
        vacuum_workers,
        vacuum_segment,
        peak_one_query,
        concurrent_queries,
        concurrency_assumed,
        peak_concurrent: peak_one_query.saturating_mul(u64::from(concurrent_queries)),
    }
}

/// How bad it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    AtRisk,
    WillFail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::AtRisk => "at risk",
            Level::WillFail => "will fail",
        }
    }
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// Segments are not in /dev/shm (sysv, mmap).
    NotPosix,
    NoParallelQuery,
    /// The leader's session + main segments.
    LeaderSegments,
    ParallelHash,
    Concurrency,
    ParallelVacuum,
    Orphans,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::NotPosix => "not_posix",
            FindingKind::NoParallelQuery => "no_parallel_query",
            FindingKind::LeaderSegments => "leader_segments",
            FindingKind::ParallelHash => "parallel_hash",
            FindingKind::Concurrency => "concurrency",
            FindingKind::ParallelVacuum => "parallel_vacuum",
            FindingKind::Orphans => "orphans",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    pub level: Level,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The worst finding's level.
    pub level: Level,
    pub findings: Vec<Finding>,
}

/// The space the verdict compares against.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Space {
    pub size: u64,
    pub free: u64,
    /// Bytes held by segments that no process maps or holds open.
    pub orphaned: u64,
}

/// Compares the estimate with /dev/shm. `min_dynamic_shared_memory` is counted as extra
/// room (PostgreSQL 14+ takes segments from it first; we cannot see how much of it is in use).
pub fn verdict(est: &Estimate, inp: &EstimateInputs, space: Space) -> Verdict {
    let mut findings = Vec::new();
    let mut add = |kind, level, text: String| findings.push(Finding { kind, level, text });
    if !est.uses_dev_shm {
        add(
            FindingKind::NotPosix,
            Level::Ok,
            format!(
                "dynamic_shared_memory_type = {}: segments are not created in /dev/shm",
                inp.dynamic_shared_memory_type
            ),
        );
        return finish(findings);
    }
    let extra = inp.min_dynamic_shared_memory;
    let avail = space.free.saturating_add(extra);
    let room = space.size.saturating_add(extra);
    let w = est.workers;
    if space.orphaned > 0 {
        add(
            FindingKind::Orphans,
            Level::AtRisk,
            format!(
                "{} is held by orphaned segments that no process uses",
                human(space.orphaned)
            ),
        );
    }
    if w == 0 {
        add(
            FindingKind::NoParallelQuery,
            Level::Ok,
            "parallel query is off (no workers per Gather): queries create no segments".into(),
        );
    } else {
        let leader = est.leader_segments;
        if leader > avail {
            add(
                FindingKind::LeaderSegments,
                Level::WillFail,
                format!(
                    "even the leader's segments will fail: a parallel query needs {} \
                     (session segment {} + main segment {} for {w} workers) before any worker \
                     starts, and only {} is free: every parallel query fails in \
                     ExecInitParallelPlan",
                    human(leader),
                    human(est.session_segment),
                    human(est.main_segment),
                    human(avail)
                ),
            );
        }
        if est.hash_budget > 0 {
            let need = est.peak_one_query;
            let what = format!(
                "a Parallel Hash under work_mem {} x hash_mem_multiplier {} x ({w} workers + 1) \
                 = {} budget grows its DSA to {} ({} segments)",
                human(inp.work_mem),
                inp.hash_mem_multiplier,
                human(est.hash_budget),
                human(est.dsa_total),
                est.dsa_segments.len()
            );
            if need > room {
                add(
                    FindingKind::ParallelHash,
                    Level::WillFail,
                    format!(
                        "{what}: it will not fit: /dev/shm is only {}; a hash join that \
                         uses its budget fails in the worker or leader that grows it",
                        human(space.size)
                    ),
                );
            } else if need > avail {
                add(
                    FindingKind::ParallelHash,
                    Level::AtRisk,
                    format!(
                        "{what}: it fits in an empty /dev/shm but not in the {} free now",
                        human(avail)
                    ),
                );
            }
        }
        let n = est.concurrent_queries;
        if n > 1 && est.peak_concurrent > room && est.peak_one_query <= room {
            add(
                FindingKind::Concurrency,
                Level::AtRisk,
                format!(
                    "{n} parallel queries at once{} can need {}, more than /dev/shm's {}",
                    if est.concurrency_assumed {
                        " (assumed: max_parallel_workers / workers per Gather)"
                    } else {
                        ""
                    },
                    human(est.peak_concurrent),
                    human(space.size)
                ),
            );
        }
    }
    if est.vacuum_segment > 0 {
        let vac = est.vacuum_segment;
        let text = format!(
            "parallel VACUUM with {} workers needs one segment of up to {} (the dead items \
             maintenance_work_mem {} allows), for tables over {} with 2+ indexes",
            est.vacuum_workers,
            human(vac),
            human(inp.maintenance_work_mem),
            human(inp.maintenance_work_mem / ITEM_POINTER / 291 * 8192),
        );
        if vac > room {
            add(
                FindingKind::ParallelVacuum,
                Level::WillFail,
                format!("{text}: more than /dev/shm's {}", human(space.size)),
            );
        } else if vac > avail {
            add(
                FindingKind::ParallelVacuum,
                Level::AtRisk,
                format!("{text}: more than the {} free now", human(avail)),
            );
        }
    }
    finish(findings)
}

fn finish(findings: Vec<Finding>) -> Verdict {
    let level = findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok);
    Verdict { level, findings }
}

/// The most workers per Gather whose leader segments and Parallel Hash fit in `room` bytes.
pub fn workers_that_fit(inp: &EstimateInputs, room: u64) -> u32 {
    let mut best = 0;
    for w in 1..=inp.max_parallel_workers_per_gather.min(64) {
        let e = estimate(&EstimateInputs {
            max_parallel_workers_per_gather: w,
            ..inp.clone()
        });
        if e.peak_one_query <= room {
            best = w;
        }
    }
    best
}

/// The largest work_mem (whole MiB, at least 1) whose Parallel Hash fits in `room` bytes with
/// the current workers and hash_mem_multiplier; `None` if even 1 MiB does not.
pub fn work_mem_that_fits(inp: &EstimateInputs, room: u64) -> Option<u64> {
    let fits = |mib: u64| {
        estimate(&EstimateInputs {
            work_mem: mib << 20,
            ..inp.clone()
        })
        .peak_one_query
            <= room
    };
    if !fits(1) {
        return None;
    }
    let (mut lo, mut hi) = (1u64, (inp.work_mem >> 20).max(1));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) { lo = mid } else { hi = mid - 1 }
    }
    Some(lo << 20)
}

pub use crate::util::{group, human_exact as human};

#[cfg(test)]
mod tests {
    use super::*;

    /// Main parallel segments measured on PostgreSQL 15.18 (ftruncate sizes under strace):
    /// (workers, bytes, plan).
    const MEASURED_MAIN: &[(u32, u64, &str)] = &[
        (1, 98_848, "Parallel Hash Join"),
        (2, 180_928, "Parallel Hash Join"),
        (4, 345_088, "Parallel Hash Join"),
        (2, 181_408, "Parallel Hash Join (domain notes)"),
        (1, 95_776, "Parallel Seq Scan + Partial Aggregate"),
        (2, 177_856, "Parallel Seq Scan + Partial Aggregate"),
        (3, 259_968, "Parallel Seq Scan + Partial Aggregate"),
        (4, 342_016, "Parallel Seq Scan + Partial Aggregate"),
        (7, 588_320, "Parallel Seq Scan + Partial Aggregate"),
        (8, 670_368, "Parallel Seq Scan + Partial Aggregate"),
    ];

    #[test]
    fn main_segment_matches_measurements() {
        for &(w, bytes, plan) in MEASURED_MAIN {
            let est = main_segment(w);
            // The plan moves the base by a few KiB; the per-worker slope is exact.
            assert!(
                est.abs_diff(bytes) <= 4096,
                "{plan}, {w} workers: measured {bytes}, estimated {est}"
            );
        }
        assert_eq!(main_segment(1), 98_848);
        assert_eq!(main_segment(2), 180_928);
        assert_eq!(main_segment(4), 345_088);
        assert_eq!(180_928 - 98_848, PER_WORKER);
        assert_eq!(345_088 - 180_928, 2 * PER_WORKER);
    }

    #[test]
    fn session_segment_is_measured() {
        let e = estimate(&EstimateInputs::default());
        assert_eq!(e.session_segment, 196_736);
        assert_eq!(e.leader_segments, 196_736 + 180_928);
    }

    #[test]
    fn dsa_series_doubles_every_two() {
        let mib = |v: &[u64]| v.iter().map(|s| s >> 20).collect::<Vec<_>>();
        assert_eq!(
            mib(&dsa_series(60 << 20)),
            vec![1, 2, 2, 4, 4, 8, 8, 16, 16]
        );
        assert!(dsa_series(0).is_empty());
        assert_eq!(mib(&dsa_series(1)), vec![1]);
        // Measured with a growing hash join (1M rows, work_mem 256MB): 1 MiB, then the 8 MiB
        // bucket array in its own segment (it takes index 2), then 2, 4, 4, 8, 8, 16 MiB.
        let measured = [
            1_048_576u64,
            8_409_088,
            2_097_152,
            4_194_304,
            4_194_304,
            8_388_608,
            8_388_608,
            16_777_216,
        ];
        assert_eq!(measured[0], dsa_segment_size(1));
        assert_eq!(measured[1], dsa_large_segment(8 << 20));
        for (i, &m) in measured.iter().enumerate().skip(2) {
            assert_eq!(m, dsa_segment_size(i as u32 + 1), "segment {}", i + 1);
        }
    }

    #[test]
    fn large_allocations_get_odd_segments() {
        assert_eq!(dsa_large_segment(16 << 20), 16_814_080);
        assert_eq!(dsa_large_segment(8 << 20), 8_409_088);
    }

    #[test]
    fn vacuum_segment_matches_measurements() {
        // (maintenance_work_mem, workers, table pages, measured bytes)
        let measured: &[(u64, u32, Option<u64>, u64)] = &[
            (1 << 20, 1, Some(4425), 1_068_480),
            (4 << 20, 1, Some(4425), 4_214_208),
            (64 << 20, 1, Some(4425), 7_745_984),
            (16 << 20, 1, Some(4425), 7_745_984),
            (1 << 20, 2, Some(4425), 1_085_088),
            (4 << 20, 2, Some(4425), 4_230_816),
        ];
        for &(mwm, w, pages, bytes) in measured {
            let est = vacuum_segment(mwm, w, pages);
            assert!(
                est.abs_diff(bytes) <= 512,
                "mwm {mwm}, {w} workers: measured {bytes}, estimated {est}"
            );
        }
        // The domain notes' 29,120,768 came from a table of unrecorded size: a capped
        // dead-item array of ~4.85M items; not checkable here.
    }

    fn section7() -> EstimateInputs {
        EstimateInputs {
            max_parallel_workers_per_gather: 4,
            work_mem: 256 << 20,
            ..EstimateInputs::default()
        }
    }

    #[test]
    fn hash_budget_and_peak() {
        let e = estimate(&section7());
        assert_eq!(e.workers, 4);
        assert_eq!(e.hash_budget, (256 * 2 * 5) << 20);
        assert!(e.dsa_total >= e.hash_budget);
        assert_eq!(e.peak_one_query, e.leader_segments + e.dsa_total);
        // 8 workers / 4 per Gather.
        assert_eq!(e.concurrent_queries, 2);
        assert!(e.concurrency_assumed);
        let off = estimate(&EstimateInputs {
            enable_parallel_hash: false,
            ..section7()
        });
        assert_eq!(off.hash_budget, 0);
        assert!(off.dsa_segments.is_empty());
    }

    #[test]
    fn workers_are_capped() {
        let e = estimate(&EstimateInputs {
            max_parallel_workers_per_gather: 16,
            max_parallel_workers: 8,
            max_worker_processes: 6,
            ..EstimateInputs::default()
        });
        assert_eq!(e.workers, 6);
        let none = estimate(&EstimateInputs {
            max_parallel_workers_per_gather: 0,
            ..EstimateInputs::default()
        });
        assert_eq!(none.leader_segments, 0);
        assert_eq!(none.peak_one_query, 0);
    }

    fn kinds(v: &Verdict) -> Vec<(FindingKind, Level)> {
        v.findings.iter().map(|f| (f.kind, f.level)).collect()
    }

    #[test]
    fn verdict_32mib_section7() {
        let inp = section7();
        let e = estimate(&inp);
        let v = verdict(
            &e,
            &inp,
            Space {
                size: 32 << 20,
                free: 32 << 20,
                orphaned: 0,
            },
        );
        assert_eq!(v.level, Level::WillFail);
        assert!(kinds(&v).contains(&(FindingKind::ParallelHash, Level::WillFail)));
        assert!(!kinds(&v).iter().any(|k| k.0 == FindingKind::LeaderSegments));
        let hash = v
            .findings
            .iter()
            .find(|f| f.kind == FindingKind::ParallelHash)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        assert!(hash.contains("work_mem 256 MiB"), "{hash}");
        assert!(hash.contains("4 workers"), "{hash}");
        assert!(hash.contains("will not fit"), "{hash}");

        // ~100 KiB free: the leader's own segments fail too.
        let full = verdict(
            &e,
            &inp,
            Space {
                size: 32 << 20,
                free: 100 << 10,
                orphaned: 0,
            },
        );
        assert!(kinds(&full).contains(&(FindingKind::LeaderSegments, Level::WillFail)));
    }

    #[test]
    fn verdict_levels() {
        let inp = EstimateInputs::default();
        let e = estimate(&inp);
        let big = Space {
            size: 8 << 30,
            free: 8 << 30,
            orphaned: 0,
        };
        assert_eq!(verdict(&e, &inp, big).level, Level::Ok);
        // Defaults in Docker's 64 MiB: parallel hash fits (4MB × 2 × 3 = 24 MiB), but
        // parallel VACUUM's 64 MiB of dead items does not.
        let docker = Space {
            size: 64 << 20,
            free: 64 << 20,
            orphaned: 0,
        };
        let v = verdict(&e, &inp, docker);
        assert_eq!(
            kinds(&v),
            vec![
                (FindingKind::Concurrency, Level::AtRisk),
                (FindingKind::ParallelVacuum, Level::WillFail)
            ]
        );
        // Fits when empty, not with what is free now.
        let inp2 = EstimateInputs {
            maintenance_work_mem: 16 << 20,
            ..inp.clone()
        };
        let e2 = estimate(&inp2);
        let half = Space {
            size: 256 << 20,
            free: 20 << 20,
            orphaned: 3 << 20,
        };
        let v = verdict(&e2, &inp2, half);
        assert_eq!(v.level, Level::AtRisk);
        assert!(kinds(&v).contains(&(FindingKind::ParallelHash, Level::AtRisk)));
        assert!(kinds(&v).contains(&(FindingKind::Orphans, Level::AtRisk)));
        // min_dynamic_shared_memory counts as room.
        let inp3 = EstimateInputs {
            min_dynamic_shared_memory: 64 << 20,
            ..inp2.clone()
        };
        assert_eq!(
            verdict(
                &estimate(&inp3),
                &inp3,
                Space {
                    orphaned: 0,
                    ..half
                }
            )
            .level,
            Level::Ok
        );
        // sysv: /dev/shm is not used.
        let sysv = EstimateInputs {
            dynamic_shared_memory_type: "sysv".into(),
            ..section7()
        };
        let v = verdict(&estimate(&sysv), &sysv, Space::default());
        assert_eq!(v.level, Level::Ok);
        assert_eq!(kinds(&v), vec![(FindingKind::NotPosix, Level::Ok)]);
    }

    #[test]
    fn remedy_arithmetic() {
        let inp = section7();
        assert_eq!(workers_that_fit(&inp, 32 << 20), 0);
        let wm = work_mem_that_fits(&inp, 32 << 20).unwrap_or(0);
        assert!((1 << 20..8 << 20).contains(&wm), "{wm}");
        let e = estimate(&EstimateInputs {
            work_mem: wm,
            ..inp.clone()
        });
        assert!(e.peak_one_query <= 32 << 20);
        let fits = estimate(&EstimateInputs {
            work_mem: wm + (1 << 20),
            ..inp.clone()
        });
        assert!(fits.peak_one_query > 32 << 20);
        assert_eq!(work_mem_that_fits(&inp, 100 << 10), None);
        let small = EstimateInputs {
            work_mem: 4 << 20,
            ..inp
        };
        assert!(workers_that_fit(&small, 64 << 20) >= 2);
    }
}
