//! The verdicts, pure: each check turns [`Facts`] into a level, the evidence it rests on,
//! why it matters to PostgreSQL, and what to change. Nothing here reads the system.

use super::facts::Facts;
use crate::report::shm::model::Level as ShmLevel;
use crate::util::human;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Unknown,
    Warn,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Unknown => "unknown",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

/// One check's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Stable key for JSON and tests: `dev_shm`, `clocksource`, ...
    pub id: &'static str,
    pub title: &'static str,
    pub level: Level,
    /// One line: what was found.
    pub summary: String,
    /// What it rests on, as `name = value` pairs.
    pub evidence: Vec<(String, String)>,
    /// Why it matters for PostgreSQL.
    pub why: String,
    /// What to change (empty when nothing).
    pub change: Vec<String>,
}

impl Check {
    fn new(id: &'static str, title: &'static str, level: Level, summary: String) -> Check {
        Check {
            id,
            title,
            level,
            summary,
            evidence: Vec::new(),
            why: String::new(),
            change: Vec::new(),
        }
    }

    fn ev(mut self, k: &str, v: impl Into<String>) -> Check {
        self.evidence.push((k.to_string(), v.into()));
        self
    }

    fn why(mut self, w: &str) -> Check {
        self.why = w.to_string();
        self
    }

    fn change(mut self, c: impl Into<String>) -> Check {
        self.change.push(c.into());
        self
    }
}

/// Every check, in the order printed.
pub fn evaluate(f: &Facts) -> Vec<Check> {
    vec![
        dev_shm(f),
        clocksource(f),
        huge_pages(f),
        thp(f),
        virtualization(f),
        cgroup_memory(f),
        writeback(f),
        scheduler(f),
        cpu_quota(f),
        access(f),
        remove_ipc(f),
    ]
}

pub fn worst(checks: &[Check]) -> Level {
    checks.iter().map(|c| c.level).max().unwrap_or(Level::Ok)
}

const NO_TARGET: &str = "no cluster given: pgstrace doctor -p PID (any process of the cluster)";

fn dev_shm(f: &Facts) -> Check {
    const ID: &str = "dev_shm";
    const T: &str = "/dev/shm";
    const WHY: &str = "parallel queries (Gather, Parallel Hash) and parallel VACUUM put their dynamic shared memory segments in /dev/shm; when it is full a query fails with `could not resize shared memory segment ... No space left on device`. Containers get 64 MiB by default.";
    let Some(t) = &f.target else {
        return Check::new(ID, T, Level::Unknown, NO_TARGET.into()).why(WHY);
    };
    let Some(s) = &t.shm else {
        let e = t.shm_error.clone().unwrap_or_else(|| "not read".into());
        return Check::new(ID, T, Level::Unknown, format!("could not read it: {e}")).why(WHY);
    };
    let (Some(est), Some(v)) = (&s.estimate, &s.verdict) else {
        return Check::new(ID, T, Level::Unknown, "no estimate".into()).why(WHY);
    };
    let level = match v.level {
        ShmLevel::Ok => Level::Ok,
        ShmLevel::AtRisk => Level::Warn,
        ShmLevel::WillFail => Level::Fail,
    };
    let summary = if !est.uses_dev_shm {
        "segments are not created in /dev/shm (dynamic_shared_memory_type is not posix)".into()
    } else {
        format!(
            "{} ({} free) for one parallel query's {} and {} at the assumed concurrency",
            human(s.shm.size_bytes),
            human(s.shm.free_bytes),
            human(est.peak_one_query),
            human(est.peak_concurrent)
        )
    };
    let mut c = Check::new(ID, T, level, summary)
        .ev("path", s.shm.path.clone())
        .ev("size", human(s.shm.size_bytes))
        .ev("free", human(s.shm.free_bytes))
        .ev(
            "mount",
            format!(
                "{} {}",
                s.shm.fs_type.as_deref().unwrap_or("(not a mount point)"),
                s.shm.mount_options.as_deref().unwrap_or("")
            )
            .trim()
            .to_string(),
        )
        .ev("segments", s.segments.len().to_string())
        .ev("peak_one_query", human(est.peak_one_query))
        .ev("peak_concurrent", human(est.peak_concurrent));
    for fi in &v.findings {
        if fi.level != ShmLevel::Ok {
            c = c.ev("finding", fi.text.clone());
        }
    }
    if let Some(max) = t.container.memory_max {
        c = c.ev(
            "cgroup_memory_max",
            format!(
                "{} (tmpfs pages count against it: a full /dev/shm is memory the cgroup cannot use for anything else)",
                human(max)
            ),
        );
    }
    c = c.why(WHY);
    if level != Level::Ok {
        for r in crate::report::shm::remedies(s).into_iter().take(3) {
            c = c.change(r);
        }
        c = c.change(format!(
            "pgstrace explain-shm -p {} lists every segment and the ranked remedies",
            t.postmaster_pid
        ));
    }
    c
}

/// Clocksources the x86 vDSO can read without entering the kernel.
fn vdso_capable(cs: &str) -> Option<bool> {
    match cs {
        "tsc" | "kvm-clock" | "hyperv_clocksource_tsc_page" | "arch_sys_counter" => Some(true),
        "xen" | "hpet" | "acpi_pm" | "jiffies" | "refined-jiffies" | "pit" => Some(false),
        _ => None,
    }
}

fn clocksource(f: &Facts) -> Check {
    const ID: &str = "clocksource";
    const T: &str = "clocksource and vDSO";
    const WHY: &str = "EXPLAIN ANALYZE reads the clock twice per row and node, track_io_timing twice per I/O; answered by the vDSO a read costs ~20-50 ns, as a syscall several times that, more in a VM (the talk's xen case: 77% slower on EC2). Timings inflate and queries under EXPLAIN ANALYZE slow down; `pg_test_timing` shows the same.";
    let c = &f.clock;
    let cs = c.current.clone().unwrap_or_else(|| "unknown".into());
    let leaves = c
        .measured
        .iter()
        .filter(|m| m.syscalls_per_call >= 0.5)
        .collect::<Vec<_>>();
    let mut check = if c.measured.is_empty() {
        let e = c
            .measure_error
            .clone()
            .unwrap_or_else(|| "not measured".into());
        match vdso_capable(&cs) {
            Some(false) => Check::new(
                ID,
                T,
                Level::Warn,
                format!(
                    "clocksource {cs}: the vDSO cannot read it, time calls are syscalls (not measured: {e})"
                ),
            ),
            _ => Check::new(
                ID,
                T,
                Level::Unknown,
                format!("clocksource {cs}; not measured: {e}"),
            ),
        }
    } else if leaves.is_empty() {
        let ns = c.measured.first().and_then(|m| m.ns_per_call);
        Check::new(
            ID,
            T,
            Level::Ok,
            format!(
                "clocksource {cs}; time calls stay in the vDSO (0 syscalls per call{})",
                ns.map(|n| format!(", {n:.0} ns each")).unwrap_or_default()
            ),
        )
    } else {
        let worst = leaves
            .iter()
            .filter_map(|m| m.ns_per_call)
            .fold(0.0f64, f64::max);
        Check::new(
            ID,
            T,
            Level::Fail,
            format!(
                "clocksource {cs}; time calls leave the vDSO: {} each a real syscall{}",
                leaves.iter().map(|m| m.name).collect::<Vec<_>>().join(", "),
                if worst > 0.0 {
                    format!(" ({worst:.0} ns each)")
                } else {
                    String::new()
                }
            ),
        )
    };
    check = check
        .ev("current_clocksource", cs.clone())
        .ev("available_clocksource", c.available.join(" "))
        .ev("tsc_flags", c.tsc_flags.join(" "));
    for m in &c.measured {
        check = check.ev(
            m.name,
            format!(
                "{} syscalls per call{}",
                trim_float(m.syscalls_per_call),
                m.ns_per_call
                    .map(|n| format!(", {n:.1} ns per call"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(t) = &f.target
        && let Some(mapped) = t.vdso_mapped
    {
        check = check.ev(
            "postmaster_vdso",
            if mapped {
                "[vdso] mapped"
            } else {
                "no [vdso] mapping (vdso=0 on the kernel command line?): every time call is a syscall"
            },
        );
    }
    check = check.ev(
        "measured_with",
        "pgstrace's own libc; the kernel, its clocksource and its vDSO are the same for every container on this host",
    );
    check = check.why(WHY);
    if check.level >= Level::Warn {
        let tsc_ok = c.available.iter().any(|a| a == "tsc")
            && c.tsc_flags.iter().any(|f| f == "constant_tsc")
            && c.tsc_flags.iter().any(|f| f == "nonstop_tsc");
        if tsc_ok && cs != "tsc" {
            check = check
                .change("echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource (the TSC is constant and nonstop here)")
                .change("to keep it across boots: clocksource=tsc tsc=reliable on the kernel command line");
        } else if cs == "xen" {
            check = check.change("on EC2, a Nitro instance type (KVM: kvm-clock or tsc) keeps time calls in the vDSO; on Xen the TSC may not be safe to select");
        } else {
            check = check.change("select a clocksource the vDSO can read (tsc, kvm-clock) if the hardware allows; else keep track_io_timing off and read EXPLAIN ANALYZE timings with TIMING OFF");
        }
    }
    check
}

fn trim_float(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn huge_pages(f: &Facts) -> Check {
    const ID: &str = "huge_pages";
    const T: &str = "huge pages";
    const WHY: &str = "shared_buffers is touched by every backend; on 4 KiB pages each backend needs its own page-table entries for all of it and takes TLB misses (the talk measured ~19% fewer dTLB load misses with huge_pages on). PostgreSQL only uses the kernel's HugePages pool (huge_pages = try|on), not transparent huge pages.";
    let pool = f.huge.pool.clone().unwrap_or_default();
    let page = pool.size_kib * 1024;
    let mut c;
    let Some(t) = &f.target else {
        return Check::new(
            ID,
            T,
            if pool.total == 0 {
                Level::Unknown
            } else {
                Level::Ok
            },
            format!(
                "{} huge pages of {} in the pool, {} free ({NO_TARGET})",
                pool.total,
                human(page),
                pool.free
            ),
        )
        .ev("HugePages_Total", pool.total.to_string())
        .ev("HugePages_Free", pool.free.to_string())
        .why(WHY);
    };
    let setting = t
        .settings
        .get("huge_pages")
        .cloned()
        .unwrap_or_else(|| "try".into());
    let shm = t.main_shm.clone();
    let shm_bytes = shm
        .as_ref()
        .map(|m| m.bytes)
        .or(t.shared_buffers)
        .unwrap_or(0);
    let need = if page > 0 {
        shm_bytes.div_ceil(page)
    } else {
        0
    };
    if shm.as_ref().is_some_and(|m| m.huge()) {
        c = Check::new(
            ID,
            T,
            Level::Ok,
            format!(
                "the main shared memory ({}) is on {} huge pages",
                human(shm_bytes),
                human(shm.as_ref().map_or(page, |m| m.page_kib * 1024))
            ),
        );
    } else if setting == "off" {
        let level = if shm_bytes >= 1 << 30 {
            Level::Warn
        } else {
            Level::Ok
        };
        c = Check::new(
            ID,
            T,
            level,
            format!(
                "huge_pages = off: {} of shared memory on 4 KiB pages",
                human(shm_bytes)
            ),
        );
        if level == Level::Warn {
            c = c.change(format!(
                "vm.nr_hugepages = {} (sysctl -w; in /etc/sysctl.d to keep it), then huge_pages = on and a restart",
                need + 16
            ));
        }
    } else if pool.total == 0 {
        c = Check::new(
            ID,
            T,
            Level::Warn,
            format!(
                "huge_pages = {setting} but the kernel's pool is empty: {} of shared memory on 4 KiB pages",
                human(shm_bytes)
            ),
        )
        .change(format!(
            "vm.nr_hugepages = {} ({} pages of {} for {}, plus slack; PostgreSQL 15 prints the exact number: postgres -D DATADIR -C shared_memory_size_in_huge_pages)",
            need + 16,
            need,
            human(page),
            human(shm_bytes)
        ))
        .change("then restart the server; huge_pages = on makes it refuse to start without them instead of falling back");
    } else {
        c = Check::new(
            ID,
            T,
            Level::Warn,
            format!(
                "huge_pages = {setting}, a pool of {} pages ({} free) but the main shared memory ({}) is on 4 KiB pages: the pool was too small or taken when the server started",
                pool.total, pool.free, human(shm_bytes)
            ),
        )
        .change(format!(
            "vm.nr_hugepages >= {} free at start, then restart the server",
            need + 16
        ));
    }
    c = c
        .ev("huge_pages", setting)
        .ev(
            "shared_buffers",
            t.shared_buffers
                .map(human)
                .unwrap_or_else(|| "unknown".into()),
        )
        .ev(
            "main_shared_memory",
            shm.as_ref()
                .map(|m| format!("{} {} ({} KiB pages)", human(m.bytes), m.name, m.page_kib))
                .unwrap_or_else(|| "not found in the postmaster's smaps".into()),
        )
        .ev("HugePages_Total", pool.total.to_string())
        .ev("HugePages_Free", pool.free.to_string())
        .ev("HugePages_Rsvd", pool.rsvd.to_string())
        .ev("Hugepagesize", human(page));
    if let Some(hs) = t.settings.get("huge_page_size") {
        c = c.ev("huge_page_size", hs.clone());
    }
    c.why(WHY)
}

fn thp(f: &Facts) -> Check {
    const ID: &str = "transparent_huge_pages";
    const T: &str = "transparent huge pages";
    const WHY: &str = "with THP `always` every backend's private memory is eligible: khugepaged and direct compaction run in page faults and stall queries for milliseconds, and memory use grows; `defrag = always` makes the stalls synchronous. PostgreSQL gains nothing from THP for shared_buffers (it uses the HugePages pool).";
    let (Some(en), defrag) = (&f.huge.thp_enabled, &f.huge.thp_defrag) else {
        return Check::new(
            ID,
            T,
            Level::Unknown,
            "no /sys/kernel/mm/transparent_hugepage".into(),
        )
        .why(WHY);
    };
    let defrag = defrag.clone().unwrap_or_else(|| "unknown".into());
    let level = if en == "always" || defrag == "always" {
        Level::Warn
    } else {
        Level::Ok
    };
    let mut c = Check::new(ID, T, level, format!("enabled = {en}, defrag = {defrag}"))
        .ev("enabled", en.clone())
        .ev("defrag", defrag.clone());
    if let Some(s) = &f.huge.thp_shmem {
        c = c.ev("shmem_enabled", s.clone());
    }
    c = c.why(WHY);
    if level == Level::Warn {
        c = c.change("echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (or never); echo defer+madvise > .../defrag; transparent_hugepage=madvise on the kernel command line to keep it");
    }
    c
}

fn virtualization(f: &Facts) -> Check {
    const ID: &str = "virtualization";
    const T: &str = "virtualization";
    const WHY: &str = "in a guest a vCPU can be descheduled by the host while its backend holds a spinlock or LWLock (lock-holder preemption) and every waiter spins; steal time is that wait made visible. PLE (pause-loop exiting) makes a spinning vCPU yield to the host: the ple_gap/ple_window parameters of kvm_intel are set on the host and cannot be seen from inside (the talk: ple_gap=0 took 17.8 ms to 16.9 ms latency).";
    let v = &f.virt;
    let guest = v.cpuid_hypervisor || v.sys_hypervisor.is_some();
    let steal = v.steal_pct;
    let level = match steal {
        Some(s) if s >= 10.0 => Level::Fail,
        Some(s) if s >= 2.0 => Level::Warn,
        Some(_) => Level::Ok,
        None => Level::Unknown,
    };
    let what = if guest {
        format!(
            "a guest ({})",
            v.cpuid_vendor
                .clone()
                .or(v.sys_hypervisor.clone())
                .or(v.dmi.clone())
                .unwrap_or_else(|| "hypervisor unnamed".into())
        )
    } else {
        "not a guest (no hypervisor bit)".into()
    };
    let summary = match steal {
        Some(s) => format!("{what}; steal {s:.1}% over {} ms", v.sample_ms),
        None => format!("{what}; steal time unreadable"),
    };
    let mut c = Check::new(ID, T, level, summary)
        .ev("cpuid_hypervisor_bit", v.cpuid_hypervisor.to_string())
        .ev(
            "cpuid_signature",
            v.cpuid_vendor.clone().unwrap_or_else(|| "none".into()),
        )
        .ev(
            "sys_hypervisor_type",
            v.sys_hypervisor.clone().unwrap_or_else(|| "none".into()),
        )
        .ev("dmi", v.dmi.clone().unwrap_or_else(|| "none".into()));
    if let Some(s) = steal {
        c = c.ev("steal_pct", format!("{s:.2}"));
    }
    for (k, val) in &v.host_ple {
        c = c.ev(k, val.clone());
    }
    if !v.host_ple.is_empty() {
        c = c.ev(
            "ple",
            "this is a KVM host: the values above apply to its guests (ple_gap=0 turns pause-loop exiting off)",
        );
    } else if guest {
        c = c.ev(
            "ple",
            "set on the host (kvm_intel ple_gap, ple_window); not visible from a guest",
        );
    }
    c = c.why(WHY);
    if level >= Level::Warn {
        c = c.change("steal means the host is overcommitted: ask for dedicated vCPUs (or a larger instance); on a KVM host you run, check ple_gap/ple_window in /sys/module/kvm_intel/parameters");
    }
    c
}

fn cgroup_memory(f: &Facts) -> Check {
    const ID: &str = "cgroup_memory";
    const T: &str = "cgroup memory";
    const WHY: &str = "a cgroup's memory limit covers shared_buffers as backends touch it, every backend's work_mem, the page cache of its writes and the tmpfs pages of /dev/shm; at the limit the kernel reclaims inside the cgroup (queries stall) and then OOM-kills a backend, after which the postmaster restarts every backend.";
    let m = &f.memory;
    let Some(ver) = m.version else {
        return Check::new(ID, T, Level::Unknown, "no memory cgroup found".into()).why(WHY);
    };
    let path = m.path.clone().unwrap_or_default();
    let mut level = Level::Ok;
    let mut notes = Vec::new();
    let (sb, wm, mc) = match &f.target {
        Some(t) => (t.shared_buffers, t.work_mem, t.max_connections),
        None => (None, None, None),
    };
    let need = match (sb, wm, mc) {
        (Some(sb), Some(wm), Some(mc)) => Some(sb + wm * mc.max(0) as u64),
        _ => None,
    };
    let summary = match m.max {
        None => format!("cgroup v{ver} {path}: no memory limit"),
        Some(max) => {
            if let Some(need) = need
                && need > max
            {
                level = Level::Warn;
                notes.push(format!(
                    "shared_buffers + max_connections x work_mem = {} exceeds the limit {}",
                    human(need),
                    human(max)
                ));
            }
            format!(
                "cgroup v{ver} {path}: limit {}, {} in use",
                human(max),
                m.current.map(human).unwrap_or_else(|| "?".into())
            )
        }
    };
    if m.events.get("oom_kill").copied().unwrap_or(0) > 0 {
        level = Level::Fail;
        notes.push(format!("{} OOM kills in this cgroup", m.events["oom_kill"]));
    }
    if ver == 2 {
        for k in ["high", "max"] {
            if let Some(n) = m.events.get(k).filter(|n| **n > 0) {
                level = level.max(Level::Warn);
                notes.push(format!(
                    "memory.events {k} = {n}: reclaim at the limit happened"
                ));
            }
        }
    }
    let mut c = Check::new(
        ID,
        T,
        level,
        if notes.is_empty() {
            summary
        } else {
            format!("{summary}; {}", notes.join("; "))
        },
    )
    .ev("version", ver.to_string())
    .ev("path", path)
    .ev(
        "max",
        m.max.map(human).unwrap_or_else(|| "unlimited".into()),
    );
    if let Some(h) = m.high {
        c = c.ev("high", human(h));
    }
    if let Some(cur) = m.current {
        c = c.ev("current", human(cur));
    }
    for (k, v) in &m.events {
        c = c.ev(&format!("events.{k}"), v.to_string());
    }
    for (k, v) in &m.stat {
        c = c.ev(&format!("stat.{k}"), human(*v));
    }
    if let Some(need) = need {
        c = c.ev("shared_buffers+max_connections*work_mem", human(need));
    }
    c = c.why(WHY);
    if level >= Level::Warn {
        c = c.change("raise the cgroup's limit (the pod's resources.limits.memory) above shared_buffers + max_connections x work_mem + /dev/shm, or lower those settings");
    }
    c
}

fn writeback(f: &Facts) -> Check {
    const ID: &str = "writeback";
    const T: &str = "dirty page writeback";
    const WHY: &str = "a checkpoint writes shared_buffers out through the page cache; the kernel starts writing back at the background threshold and throttles writers at the dirty threshold. Thresholds of gigabytes let a checkpoint pile up and then flush in one storm that stalls fsync and every query's I/O. Under cgroup v1 with a memory limit dirty throttling does not work per cgroup (vmscan.c: `completely broken with the legacy memcg`): writers stall in direct reclaim instead.";
    let m = &f.memory;
    let d = &m.dirty;
    // v2 scales the ratios to the cgroup's memory (per-cgroup writeback); v1 has one
    // global domain.
    let per_cgroup = m.version == Some(2) && m.max.is_some();
    let domain = if per_cgroup { m.max } else { m.mem_total }.unwrap_or(0);
    let thr = |bytes: &str, ratio: &str| -> Option<u64> {
        match d.get(bytes) {
            Some(&b) if b > 0 => Some(b),
            _ => d.get(ratio).map(|r| domain / 100 * r),
        }
    };
    let (Some(bg), Some(hard)) = (
        thr("dirty_background_bytes", "dirty_background_ratio"),
        thr("dirty_bytes", "dirty_ratio"),
    ) else {
        return Check::new(ID, T, Level::Unknown, "no /proc/sys/vm/dirty_*".into()).why(WHY);
    };
    let mut level = if bg > 1 << 30 || hard > 4 << 30 {
        Level::Warn
    } else {
        Level::Ok
    };
    let mut summary = format!(
        "writeback starts at {} dirty, writers throttled at {}",
        human(bg),
        human(hard)
    );
    let v1_limited = m.version == Some(1) && m.max.is_some();
    if v1_limited {
        level = Level::Warn;
        summary.push_str(
            "; cgroup v1 with a memory limit: dirty throttling falls back to direct reclaim",
        );
    }
    let mut c = Check::new(ID, T, level, summary);
    for (k, v) in d {
        c = c.ev(&format!("vm.{k}"), v.to_string());
    }
    c = c
        .ev(
            "relative_to",
            if per_cgroup {
                format!("the cgroup's limit {}", human(domain))
            } else {
                format!("MemTotal {}", human(domain))
            },
        )
        .why(WHY);
    if level == Level::Warn {
        if bg > 1 << 30 || hard > 4 << 30 {
            c = c.change("vm.dirty_background_bytes = 268435456 and vm.dirty_bytes = 1073741824 (sysctl -w; /etc/sysctl.d to keep), with checkpoint_completion_target 0.9");
        }
        if v1_limited {
            c = c.change("run the cluster under cgroup v2 (systemd.unified_cgroup_hierarchy=1), where writeback is throttled per cgroup");
        }
    }
    c
}

fn scheduler(f: &Facts) -> Check {
    const ID: &str = "scheduler";
    const T: &str = "scheduler";
    const WHY: &str = "with autogroup every session (a terminal, a service started from one) is one scheduling group: all of a cluster's backends together get the same CPU share as a single pg_dump started from another terminal. The granularity tunables decide how long a backend runs before a waking one preempts it (the talk: sched_wakeup_granularity_ns).";
    let s = &f.sched;
    let interesting = [
        "sched_wakeup_granularity_ns",
        "sched_min_granularity_ns",
        "sched_latency_ns",
        "sched_migration_cost_ns",
        "wakeup_granularity_ns",
        "min_granularity_ns",
        "latency_ns",
        "migration_cost_ns",
        "base_slice_ns",
        "sched_autogroup_enabled",
        "sched_cfs_bandwidth_slice_us",
        "sched_rt_runtime_us",
    ];
    let level = match s.autogroup {
        Some(true) => Level::Warn,
        Some(false) => Level::Ok,
        None => Level::Ok,
    };
    let summary = match s.autogroup {
        Some(true) => {
            "autogroup on: the cluster shares the CPU per session, not per backend".to_string()
        }
        Some(false) => "autogroup off".into(),
        None => "no autogroup in this kernel".into(),
    };
    let mut c = Check::new(ID, T, level, summary);
    if let Some(t) = &f.target
        && let Some(a) = &t.autogroup
    {
        c = c.ev("postmaster_autogroup", a.clone());
    }
    for (path, v) in &s.tunables {
        let name = path.rsplit('/').next().unwrap_or(path);
        if interesting.contains(&name) {
            c = c.ev(path, v.clone());
        }
    }
    if !s
        .tunables
        .iter()
        .any(|(p, _)| p.contains("granularity") || p.ends_with("base_slice_ns"))
    {
        let why = s
            .debugfs_error
            .as_deref()
            .map(|e| format!(": debugfs could not be read ({e})"))
            .unwrap_or_default();
        c = c.ev(
            "granularity",
            format!("not in /proc/sys/kernel on this kernel (debugfs /sys/kernel/debug/sched since 5.13; base_slice_ns since 6.6){why}"),
        );
    }
    if s.debugfs_private {
        c = c.ev(
            "debugfs",
            "not mounted here: read in a private mount namespace (nothing mounted on the host)",
        );
    }
    c = c.why(WHY);
    if level == Level::Warn {
        c = c.change("on a database server: sysctl -w kernel.sched_autogroup_enabled=0 (or the noautogroup boot option)");
    }
    c
}

fn cpu_quota(f: &Facts) -> Check {
    const ID: &str = "cpu_quota";
    const T: &str = "CPU quota";
    const WHY: &str = "a CFS quota (a pod's limits.cpu) stops every process of the cgroup for the rest of the period once the quota is spent: a backend holding a lock is frozen up to ~100 ms and everyone waiting on it with it.";
    let s = &f.sched;
    let Some(ver) = s.cpu_version else {
        return Check::new(ID, T, Level::Unknown, "no cpu cgroup found".into()).why(WHY);
    };
    let path = s.cpu_path.clone().unwrap_or_default();
    let periods = s.cpu_stat.get("nr_periods").copied().unwrap_or(0);
    let throttled = s.cpu_stat.get("nr_throttled").copied().unwrap_or(0);
    let (level, summary) = match s.cpu_max {
        Some((Some(q), p)) => {
            let cpus = q as f64 / p.max(1) as f64;
            let pct = if periods > 0 {
                100.0 * throttled as f64 / periods as f64
            } else {
                0.0
            };
            let level = if pct >= 5.0 {
                Level::Fail
            } else if throttled > 0 {
                Level::Warn
            } else {
                Level::Ok
            };
            (
                level,
                format!(
                    "cgroup v{ver} {path}: quota {cpus:.2} CPUs; throttled in {throttled} of {periods} periods ({pct:.1}%)"
                ),
            )
        }
        Some((None, _)) | None => (Level::Ok, format!("cgroup v{ver} {path}: no CPU quota")),
    };
    let mut c = Check::new(ID, T, level, summary).ev("version", ver.to_string());
    if let Some((q, p)) = s.cpu_max {
        c = c.ev(
            "quota_period_us",
            format!("{} {p}", q.map_or("max".to_string(), |q| q.to_string())),
        );
    }
    for (k, v) in &s.cpu_stat {
        c = c.ev(k, v.to_string());
    }
    c = c.ev("cpus_online", s.ncpus.to_string()).why(WHY);
    if level >= Level::Warn {
        c = c.change("raise or remove the CPU limit (Kubernetes: set requests, drop limits.cpu), or lower max_connections / max_parallel_workers to what the quota can run");
    }
    c
}

use crate::remote::procfs::{CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, CAP_SYS_PTRACE};

fn access(f: &Facts) -> Check {
    const ID: &str = "pgstrace_access";
    const T: &str = "what pgstrace can do here";
    const WHY: &str = "tracing, probes and reading a backend's memory use ptrace (CAP_SYS_PTRACE, or the same user under Yama scope 0); the kernel-side source needs tracepoints (CAP_PERFMON or CAP_SYS_ADMIN, tracefs). A process has one tracer at a time.";
    let a = &f.access;
    let has = |c: u64| a.cap_eff & c != 0;
    let mut lost: Vec<String> = Vec::new();
    let ptrace_ok = match a.ptrace_scope {
        Some(3) => false,
        Some(2) => has(CAP_SYS_PTRACE),
        _ => has(CAP_SYS_PTRACE) || a.euid == 0,
    };
    if !ptrace_ok {
        lost.push(format!(
            "ptrace (Yama ptrace_scope {}, CAP_SYS_PTRACE {}): `pgstrace -p`, probe, explain-shm --watch --backend=ptrace, queries read from memory in ps and explain-shm",
            a.ptrace_scope.map_or("absent".into(), |s| s.to_string()),
            if has(CAP_SYS_PTRACE) { "held" } else { "missing" }
        ));
    }
    let perf_ok =
        (has(CAP_PERFMON) || has(CAP_SYS_ADMIN) || a.perf_event_paranoid.is_some_and(|p| p <= -1))
            && a.tracefs;
    if !perf_ok {
        lost.push(format!(
            "the kernel-side source (tracefs {}, CAP_PERFMON {}, perf_event_paranoid {}): --backend=perf; explain-shm --watch falls back to ptrace",
            if a.tracefs { "mounted" } else { "not mounted" },
            if has(CAP_PERFMON) || has(CAP_SYS_ADMIN) { "held" } else { "missing" },
            a.perf_event_paranoid.map_or("unknown".into(), |p| p.to_string())
        ));
    }
    let mut level = if !ptrace_ok {
        Level::Fail
    } else if !perf_ok {
        Level::Warn
    } else {
        Level::Ok
    };
    let mut summary = if lost.is_empty() {
        "ptrace and the kernel-side source both available".to_string()
    } else {
        format!("unavailable: {}", lost.join("; "))
    };
    if let Some(t) = &f.target
        && let Some(tr) = t.tracer_pid.filter(|p| *p != 0)
    {
        level = Level::Fail;
        summary.push_str(&format!(
            "; process {} is already traced by pid {tr} (gdb? strace?): ptrace commands on it fail until that tracer detaches",
            t.pid
        ));
    }
    let caps = [
        ("CAP_SYS_PTRACE", CAP_SYS_PTRACE),
        ("CAP_SYS_ADMIN", CAP_SYS_ADMIN),
        ("CAP_PERFMON", CAP_PERFMON),
        ("CAP_BPF", CAP_BPF),
    ]
    .iter()
    .map(|(n, b)| format!("{n} {}", if has(*b) { "yes" } else { "no" }))
    .collect::<Vec<_>>()
    .join(", ");
    let mut c = Check::new(ID, T, level, summary)
        .ev("euid", a.euid.to_string())
        .ev("capabilities", caps)
        .ev(
            "yama_ptrace_scope",
            a.ptrace_scope.map_or("no Yama".into(), |s| s.to_string()),
        )
        .ev(
            "perf_event_paranoid",
            a.perf_event_paranoid
                .map_or("unknown".into(), |p| p.to_string()),
        )
        .ev("tracefs", a.tracefs.to_string())
        .ev(
            "uprobe_pmu",
            format!(
                "{} (not used by pgstrace yet: probe uses ptrace breakpoints)",
                a.uprobe_pmu
            ),
        );
    if let Some(t) = &f.target {
        c = c
            .ev(
                "target_seccomp",
                t.seccomp.map_or("unknown".into(), |s| match s {
                    0 => "0 (none)".into(),
                    1 => "1 (strict)".into(),
                    _ => format!("{s} (filter: does not stop tracing from outside)"),
                }),
            )
            .ev("target_tracer_pid", t.tracer_pid.unwrap_or(0).to_string());
    }
    c = c.why(WHY);
    if !ptrace_ok {
        c = c.change("run as root, or with CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE; kubectl debug --profile=general); sysctl kernel.yama.ptrace_scope=1 or lower");
    }
    if !perf_ok {
        c = c.change("grant CAP_PERFMON (or run privileged) and mount tracefs (mount -t tracefs nodev /sys/kernel/tracing); Docker's default seccomp profile also refuses perf_event_open");
    }
    c
}

fn remove_ipc(f: &Facts) -> Check {
    const ID: &str = "remove_ipc";
    const T: &str = "systemd RemoveIPC";
    const WHY: &str = "with RemoveIPC=yes (logind's default) the last logout of a non-system user removes all its POSIX and SysV shared memory: a `su - postgres` that ends takes a running cluster's /dev/shm segments with it and queries fail with `could not open shared memory segment`.";
    let i = &f.ipc;
    let (user, uid) = match f.target.as_ref().and_then(|t| t.user.clone()) {
        Some(u) => u,
        None => return Check::new(ID, T, Level::Unknown, NO_TARGET.into()).why(WHY),
    };
    let (on, source) = match &i.remove_ipc {
        Some((b, s)) => (*b, s.clone()),
        None => (true, "logind's default".into()),
    };
    let (level, summary) = if !i.logind {
        (
            Level::Ok,
            "systemd-logind is not running where the cluster runs".to_string(),
        )
    } else if !on {
        (Level::Ok, format!("RemoveIPC=no ({source})"))
    } else if uid <= i.sys_uid_max {
        (
            Level::Ok,
            format!(
                "RemoveIPC=yes ({source}), but {user} (uid {uid}) is a system user, which logind leaves alone"
            ),
        )
    } else {
        (
            Level::Fail,
            format!(
                "RemoveIPC=yes ({source}) and {user} has uid {uid} > SYS_UID_MAX {}: its segments are removed at its last logout",
                i.sys_uid_max
            ),
        )
    };
    let mut c = Check::new(ID, T, level, summary)
        .ev("logind", i.logind.to_string())
        .ev(
            "RemoveIPC",
            format!("{} ({source})", if on { "yes" } else { "no" }),
        )
        .ev("user", format!("{user} uid {uid}"))
        .ev("SYS_UID_MAX", i.sys_uid_max.to_string())
        .why(WHY);
    if level == Level::Fail {
        c = c.change("RemoveIPC=no in /etc/systemd/logind.conf ([Login] section), then systemctl restart systemd-logind; or make the postgres user a system user");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::super::clock::TimeCall;
    use super::super::facts::*;
    use super::*;

    fn base() -> Facts {
        Facts::default()
    }

    fn get<'a>(cs: &'a [Check], id: &str) -> &'a Check {
        cs.iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn clock_fallback_fails_and_names_the_remedy() {
        let mut f = base();
        f.clock.current = Some("hpet".into());
        f.clock.available = vec!["tsc".into(), "hpet".into()];
        f.clock.tsc_flags = vec!["constant_tsc".into(), "nonstop_tsc".into()];
        f.clock.measured = vec![TimeCall {
            name: "gettimeofday",
            syscalls_per_call: 1.0,
            ns_per_call: Some(480.0),
        }];
        let c = clocksource(&f);
        assert_eq!(c.level, Level::Fail);
        assert!(c.summary.contains("gettimeofday"), "{}", c.summary);
        assert!(c.change[0].contains("echo tsc"), "{:?}", c.change);
        f.clock.measured[0].syscalls_per_call = 0.0;
        assert_eq!(clocksource(&f).level, Level::Ok);
        f.clock.measured.clear();
        f.clock.measure_error = Some("no ptrace".into());
        assert_eq!(clocksource(&f).level, Level::Warn);
        f.clock.current = Some("tsc".into());
        assert_eq!(clocksource(&f).level, Level::Unknown);
    }

    #[test]
    fn huge_pages_verdicts() {
        let mut f = base();
        let mut t = Target {
            shared_buffers: Some(1 << 30),
            ..Default::default()
        };
        t.main_shm = Some(MainShm {
            bytes: 1100 << 20,
            page_kib: 4,
            name: "/dev/zero (deleted)".into(),
        });
        f.target = Some(t);
        f.huge.pool = Some(HugePool {
            size_kib: 2048,
            ..Default::default()
        });
        let c = huge_pages(&f);
        assert_eq!(c.level, Level::Warn);
        assert!(
            c.change[0].contains("vm.nr_hugepages = 566"),
            "{:?}",
            c.change
        );
        if let Some(t) = f.target.as_mut()
            && let Some(m) = t.main_shm.as_mut()
        {
            m.page_kib = 2048;
        }
        assert_eq!(huge_pages(&f).level, Level::Ok);
    }

    #[test]
    fn thp_always_warns() {
        let mut f = base();
        f.huge.thp_enabled = Some("always".into());
        f.huge.thp_defrag = Some("madvise".into());
        assert_eq!(thp(&f).level, Level::Warn);
        f.huge.thp_enabled = Some("madvise".into());
        assert_eq!(thp(&f).level, Level::Ok);
    }

    #[test]
    fn memory_limit_against_settings_and_oom() {
        let mut f = base();
        f.memory.version = Some(2);
        f.memory.max = Some(512 << 20);
        f.target = Some(Target {
            shared_buffers: Some(256 << 20),
            work_mem: Some(4 << 20),
            max_connections: Some(100),
            ..Default::default()
        });
        let c = cgroup_memory(&f);
        assert_eq!(c.level, Level::Warn, "{}", c.summary);
        assert!(c.summary.contains("656.0 MiB"), "{}", c.summary);
        f.memory.events.insert("oom_kill".into(), 2);
        assert_eq!(cgroup_memory(&f).level, Level::Fail);
        f.memory.max = None;
        f.memory.events.clear();
        assert_eq!(cgroup_memory(&f).level, Level::Ok);
    }

    #[test]
    fn writeback_thresholds() {
        let mut f = base();
        f.memory.mem_total = Some(64 << 30);
        f.memory.dirty.insert("dirty_ratio".into(), 20);
        f.memory.dirty.insert("dirty_background_ratio".into(), 10);
        f.memory.dirty.insert("dirty_bytes".into(), 0);
        f.memory.dirty.insert("dirty_background_bytes".into(), 0);
        assert_eq!(writeback(&f).level, Level::Warn);
        f.memory
            .dirty
            .insert("dirty_background_bytes".into(), 256 << 20);
        f.memory.dirty.insert("dirty_bytes".into(), 1 << 30);
        assert_eq!(writeback(&f).level, Level::Ok);
        f.memory.version = Some(1);
        f.memory.max = Some(8 << 30);
        let c = writeback(&f);
        assert_eq!(c.level, Level::Warn);
        assert!(c.change.iter().any(|c| c.contains("cgroup v2")));
    }

    #[test]
    fn quota_throttling() {
        let mut f = base();
        f.sched.cpu_version = Some(2);
        f.sched.cpu_max = Some((Some(50_000), 100_000));
        f.sched.cpu_stat.insert("nr_periods".into(), 100);
        f.sched.cpu_stat.insert("nr_throttled".into(), 30);
        let c = cpu_quota(&f);
        assert_eq!(c.level, Level::Fail);
        assert!(c.summary.contains("0.50 CPUs"), "{}", c.summary);
        f.sched.cpu_max = Some((None, 100_000));
        assert_eq!(cpu_quota(&f).level, Level::Ok);
    }

    #[test]
    fn access_and_remove_ipc() {
        let mut f = base();
        f.access.euid = 1000;
        f.access.ptrace_scope = Some(1);
        f.access.tracefs = true;
        let c = access(&f);
        assert_eq!(c.level, Level::Fail);
        assert!(c.summary.contains("`pgstrace -p`"), "{}", c.summary);
        f.access.cap_eff = CAP_SYS_PTRACE | CAP_PERFMON;
        assert_eq!(access(&f).level, Level::Ok);
        f.target = Some(Target {
            pid: 7,
            tracer_pid: Some(99),
            user: Some(("postgres".into(), 1001)),
            ..Default::default()
        });
        assert!(access(&f).summary.contains("traced by pid 99"));
        f.ipc.logind = true;
        f.ipc.sys_uid_max = 999;
        assert_eq!(remove_ipc(&f).level, Level::Fail);
        f.ipc.remove_ipc = Some((false, "/etc/systemd/logind.conf:3".into()));
        assert_eq!(remove_ipc(&f).level, Level::Ok);
        f.ipc.remove_ipc = None;
        f.target.as_mut().unwrap().user = Some(("postgres".into(), 106));
        assert_eq!(remove_ipc(&f).level, Level::Ok);
    }

    #[test]
    fn steal_levels_and_no_target() {
        let mut f = base();
        f.virt.cpuid_hypervisor = true;
        f.virt.cpuid_vendor = Some("KVMKVMKVM".into());
        f.virt.steal_pct = Some(12.0);
        assert_eq!(virtualization(&f).level, Level::Fail);
        f.virt.steal_pct = Some(0.1);
        assert_eq!(virtualization(&f).level, Level::Ok);
        let has = |c: &Check, k: &str, v: &str| {
            c.evidence.iter().any(|(ek, ev)| ek == k && ev.contains(v))
        };
        assert!(has(&virtualization(&f), "ple", "not visible"));
        f.virt.host_ple = vec![("kvm_intel.ple_gap".into(), "128".into())];
        let c = virtualization(&f);
        assert!(has(&c, "kvm_intel.ple_gap", "128"));
        assert!(has(&c, "ple", "KVM host"));
        let all = evaluate(&f);
        assert_eq!(get(&all, "dev_shm").level, Level::Unknown);
        assert_eq!(all.len(), 11);
    }
}
