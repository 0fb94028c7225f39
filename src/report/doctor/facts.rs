//! What doctor looks at, read from /proc and /sys (the host's, and the cluster's through
//! /proc/PM/root where it differs), as plain data. The parsers are pure and unit-tested;
//! the readers around them only open files.

use super::clock::TimeCall;
use crate::remote::procfs;
use crate::report::cgroup;
use crate::report::shm::ShmFacts;
use crate::report::shm::probe::Container;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

/// Everything doctor looks at.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The kernel's release (/proc/sys/kernel/osrelease).
    pub kernel: Option<String>,
    pub target: Option<Target>,
    pub clock: Clock,
    pub huge: Huge,
    pub virt: Virt,
    pub memory: Memory,
    pub sched: Sched,
    pub access: Access,
    pub ipc: Ipc,
}

/// The cluster asked about (`-p`).
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub pid: i32,
    pub postmaster_pid: i32,
    /// The postmaster's pid in each PID namespace, outermost first (NSpid).
    pub ns_pids: Vec<i64>,
    pub data_dir: String,
    pub version: Option<String>,
    /// The postmaster's user and uid.
    pub user: Option<(String, u32)>,
    /// explain-shm's facts, or why they could not be had.
    pub shm: Option<Box<ShmFacts>>,
    pub shm_error: Option<String>,
    pub container: Container,
    /// The settings doctor compares, as the server runs with them.
    pub settings: BTreeMap<String, String>,
    pub shared_buffers: Option<u64>,
    pub work_mem: Option<u64>,
    pub max_connections: Option<i64>,
    /// The asked process's seccomp mode (0 none, 1 strict, 2 filter) and tracer.
    pub seccomp: Option<u8>,
    pub tracer_pid: Option<i32>,
    pub vdso_mapped: Option<bool>,
    pub main_shm: Option<MainShm>,
    /// /proc/PM/autogroup: `/autogroup-12 nice 0`.
    pub autogroup: Option<String>,
}

/// The postmaster's main shared memory mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct MainShm {
    pub bytes: u64,
    pub page_kib: u64,
    /// `/dev/zero (deleted)`, `/anon_hugepage (deleted)`, `/SYSV... (deleted)`.
    pub name: String,
}

impl MainShm {
    pub fn huge(&self) -> bool {
        self.page_kib > 4 || self.name.contains("anon_hugepage")
    }
}

#[derive(Clone, Debug, Default)]
pub struct Clock {
    pub current: Option<String>,
    pub available: Vec<String>,
    /// `constant_tsc`, `nonstop_tsc`, `tsc_reliable` among the CPU flags.
    pub tsc_flags: Vec<String>,
    /// The measurement, or why there is none.
    pub measured: Vec<TimeCall>,
    pub measure_error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct HugePool {
    pub total: u64,
    pub free: u64,
    pub rsvd: u64,
    pub surp: u64,
    pub size_kib: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Huge {
    pub pool: Option<HugePool>,
    /// The selected word of `always [madvise] never`.
    pub thp_enabled: Option<String>,
    pub thp_defrag: Option<String>,
    pub thp_shmem: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Virt {
    /// CPUID leaf 1 ECX bit 31.
    pub cpuid_hypervisor: bool,
    /// CPUID leaf 0x40000000's signature: `KVMKVMKVM`, `Microsoft Hv`, `XenVMMXenVMM`, ...
    pub cpuid_vendor: Option<String>,
    pub sys_hypervisor: Option<String>,
    /// DMI `sys_vendor product_name`.
    pub dmi: Option<String>,
    /// Steal time over the sample, in percent of all CPU time, and the sample's length.
    pub steal_pct: Option<f64>,
    pub sample_ms: u64,
    /// On a KVM host: pause-loop exiting parameters (`kvm_intel.ple_gap=128`,
    /// `kvm_amd.pause_filter_count=3000`, ...), as the loaded module has them.
    pub host_ple: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default)]
pub struct Memory {
    /// Whose cgroup: the postmaster's, or ours without `-p`.
    pub of_pid: i32,
    pub version: Option<u8>,
    pub path: Option<String>,
    pub dir: Option<PathBuf>,
    pub max: Option<u64>,
    pub high: Option<u64>,
    pub current: Option<u64>,
    /// v2 memory.events, or v1's failcnt/oom_kill as `max`/`oom_kill`.
    pub events: BTreeMap<String, u64>,
    /// memory.stat: anon, file, shmem, file_dirty, file_writeback (v1's total_* mapped).
    pub stat: BTreeMap<String, u64>,
    pub mem_total: Option<u64>,
    /// vm.dirty_* sysctls.
    pub dirty: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default)]
pub struct Sched {
    pub autogroup: Option<bool>,
    /// Scheduler tunables this kernel has, where they live.
    pub tunables: Vec<(String, String)>,
    pub cpu_version: Option<u8>,
    pub cpu_path: Option<String>,
    /// Quota µs (None: unlimited) and period µs.
    pub cpu_max: Option<(Option<u64>, u64)>,
    /// nr_periods, nr_throttled, throttled_usec (v1's throttled_time in ns → µs).
    pub cpu_stat: BTreeMap<String, u64>,
    pub ncpus: usize,
    /// The debugfs tunables were read in a private mount namespace (debugfs is not mounted
    /// here), or why they could not be.
    pub debugfs_private: bool,
    pub debugfs_error: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Access {
    pub euid: u32,
    pub cap_eff: u64,
    /// kernel.yama.ptrace_scope; None when Yama is not built in.
    pub ptrace_scope: Option<u8>,
    pub perf_event_paranoid: Option<i32>,
    pub tracefs: bool,
    pub uprobe_pmu: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Ipc {
    /// logind runs where the cluster runs (/run/systemd/seats there).
    pub logind: bool,
    /// RemoveIPC= as configured, and where; None: not set (logind's default is yes).
    pub remove_ipc: Option<(bool, String)>,
    /// SYS_UID_MAX of login.defs (999 when unset).
    pub sys_uid_max: u32,
}

// ---- pure parsers ----

/// The word in brackets: `always [madvise] never` → `madvise`.
pub fn selected(text: &str) -> Option<String> {
    let s = text.find('[')?;
    let e = text[s..].find(']')? + s;
    Some(text[s + 1..e].to_string())
}

/// HugePages_* and Hugepagesize of /proc/meminfo.
pub fn parse_huge_pool(meminfo: &str) -> Option<HugePool> {
    let kv = meminfo_map(meminfo);
    Some(HugePool {
        total: *kv.get("HugePages_Total")?,
        free: *kv.get("HugePages_Free").unwrap_or(&0),
        rsvd: *kv.get("HugePages_Rsvd").unwrap_or(&0),
        surp: *kv.get("HugePages_Surp").unwrap_or(&0),
        size_kib: *kv.get("Hugepagesize").unwrap_or(&2048),
    })
}

/// /proc/meminfo as name → number (kB values stay in kB).
pub fn meminfo_map(meminfo: &str) -> BTreeMap<String, u64> {
    meminfo
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((
                k.trim().to_string(),
                v.split_whitespace().next()?.parse().ok()?,
            ))
        })
        .collect()
}

/// The aggregate `cpu` line of /proc/stat: (all jiffies, steal jiffies).
pub fn parse_stat_cpu(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|w| w.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice: inside user/nice]
    let all: u64 = v.iter().take(8).sum();
    Some((all, *v.get(7)?))
}

/// The largest shared anonymous mapping of a postmaster's smaps (its main shared memory):
/// `/dev/zero (deleted)`, `/anon_hugepage (deleted)` or a SysV segment.
pub fn main_shm_from_smaps(smaps: &str) -> Option<MainShm> {
    let mut best: Option<MainShm> = None;
    let mut cur: Option<MainShm> = None;
    let finish = |m: Option<MainShm>, best: &mut Option<MainShm>| {
        if let Some(m) = m
            && best.as_ref().is_none_or(|b| m.bytes > b.bytes)
        {
            *best = Some(m);
        }
    };
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            finish(cur.take(), &mut best);
            let f: Vec<&str> = line.split_whitespace().collect();
            let name = f.get(5..).map(|r| r.join(" ")).unwrap_or_default();
            let shared = f.get(1).is_some_and(|p| p.ends_with('s'));
            let anon_shared = name.starts_with("/dev/zero")
                || name.starts_with("/anon_hugepage")
                || name.starts_with("/SYSV");
            if shared && anon_shared {
                let (a, b) = first.split_once('-')?;
                let bytes = u64::from_str_radix(b, 16).ok()? - u64::from_str_radix(a, 16).ok()?;
                cur = Some(MainShm {
                    bytes,
                    page_kib: 4,
                    name,
                });
            }
        } else if let Some(m) = cur.as_mut()
            && let Some(v) = line.strip_prefix("KernelPageSize:")
        {
            m.page_kib = v
                .split_whitespace()
                .next()
                .and_then(|w| w.parse().ok())
                .unwrap_or(4);
        }
    }
    finish(cur, &mut best);
    best
}

/// `RemoveIPC=` in logind.conf texts, later ones winning (drop-ins after the main file).
pub fn parse_remove_ipc(files: &[(String, String)]) -> Option<(bool, String)> {
    let mut out = None;
    for (name, text) in files {
        let mut in_login = false;
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.starts_with('[') {
                in_login = l == "[Login]";
                continue;
            }
            if !in_login || l.starts_with('#') || l.starts_with(';') {
                continue;
            }
            if let Some(v) = l.strip_prefix("RemoveIPC=") {
                let v = v.trim().to_ascii_lowercase();
                let b = matches!(v.as_str(), "yes" | "true" | "1" | "on");
                out = Some((b, format!("{name}:{}", i + 1)));
            }
        }
    }
    out
}

/// SYS_UID_MAX of login.defs (logind exempts uids up to it).
pub fn parse_sys_uid_max(login_defs: &str) -> Option<u32> {
    login_defs.lines().find_map(|l| {
        let mut f = l.split_whitespace();
        (f.next()? == "SYS_UID_MAX").then_some(())?;
        f.next()?.parse().ok()
    })
}

/// CPU flags of /proc/cpuinfo that say whether the TSC can be trusted.
pub fn tsc_flags(cpuinfo: &str) -> Vec<String> {
    let flags = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("flags")
                .and_then(|r| r.split_once(':'))
                .map(|(_, f)| f)
        })
        .unwrap_or("");
    flags
        .split_whitespace()
        .filter(|f| {
            matches!(
                *f,
                "constant_tsc" | "nonstop_tsc" | "tsc_reliable" | "tsc_known_freq"
            )
        })
        .map(str::to_string)
        .collect()
}

// ---- readers ----

fn read_trim(path: impl AsRef<std::path::Path>) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

pub fn read_clock() -> Clock {
    let mut c = read_clock_files();
    match super::clock::measure() {
        Ok(m) => c.measured = m,
        Err(e) => c.measure_error = Some(e),
    }
    c
}

fn read_clock_files() -> Clock {
    let dir = "/sys/devices/system/clocksource/clocksource0";
    Clock {
        current: read_trim(format!("{dir}/current_clocksource")),
        available: read_trim(format!("{dir}/available_clocksource"))
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        tsc_flags: tsc_flags(&fs::read_to_string("/proc/cpuinfo").unwrap_or_default()),
        measured: Vec::new(),
        measure_error: None,
    }
}

pub fn read_huge() -> Huge {
    let thp = "/sys/kernel/mm/transparent_hugepage";
    Huge {
        pool: parse_huge_pool(&fs::read_to_string("/proc/meminfo").unwrap_or_default()),
        thp_enabled: read_trim(format!("{thp}/enabled")).and_then(|s| selected(&s)),
        thp_defrag: read_trim(format!("{thp}/defrag")).and_then(|s| selected(&s)),
        thp_shmem: read_trim(format!("{thp}/shmem_enabled")).and_then(|s| selected(&s)),
    }
}

/// CPUID's hypervisor bit and signature.
pub fn cpuid_hypervisor() -> (bool, Option<String>) {
    #[cfg(target_arch = "x86_64")]
    {
        // cpuid exists on every x86-64 CPU; leaf 0x40000000 is only read when the
        // hypervisor bit says a hypervisor answers it.
        let l1 = core::arch::x86_64::__cpuid(1);
        if l1.ecx & (1 << 31) == 0 {
            return (false, None);
        }
        let h = core::arch::x86_64::__cpuid(0x4000_0000);
        let mut sig = Vec::new();
        for r in [h.ebx, h.ecx, h.edx] {
            sig.extend_from_slice(&r.to_le_bytes());
        }
        let s: String = sig
            .iter()
            .take_while(|&&b| b != 0)
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '?'
                }
            })
            .collect();
        (true, Some(s.trim().to_string()).filter(|s| !s.is_empty()))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (false, None)
    }
}

pub fn read_virt(sample_ms: u64) -> Virt {
    let (bit, vendor) = cpuid_hypervisor();
    let dmi = {
        let v = read_trim("/sys/class/dmi/id/sys_vendor");
        let p = read_trim("/sys/class/dmi/id/product_name");
        match (v, p) {
            (None, None) => None,
            (v, p) => Some(
                format!("{} {}", v.unwrap_or_default(), p.unwrap_or_default())
                    .trim()
                    .to_string(),
            ),
        }
    };
    let a = parse_stat_cpu(&fs::read_to_string("/proc/stat").unwrap_or_default());
    std::thread::sleep(std::time::Duration::from_millis(sample_ms));
    let b = parse_stat_cpu(&fs::read_to_string("/proc/stat").unwrap_or_default());
    let steal_pct = match (a, b) {
        (Some((a_all, a_st)), Some((b_all, b_st))) if b_all > a_all => {
            Some(100.0 * b_st.saturating_sub(a_st) as f64 / (b_all - a_all) as f64)
        }
        _ => None,
    };
    let mut host_ple = Vec::new();
    for (module, names) in [
        ("kvm_intel", &["ple_gap", "ple_window"][..]),
        (
            "kvm_amd",
            &["pause_filter_count", "pause_filter_thresh"][..],
        ),
    ] {
        for n in names {
            if let Some(v) = read_trim(format!("/sys/module/{module}/parameters/{n}")) {
                host_ple.push((format!("{module}.{n}"), v));
            }
        }
    }
    Virt {
        host_ple,
        cpuid_hypervisor: bit,
        cpuid_vendor: vendor,
        sys_hypervisor: read_trim("/sys/hypervisor/type"),
        dmi,
        steal_pct,
        sample_ms,
    }
}

pub fn read_memory(pid: i32) -> Memory {
    let mut m = Memory {
        of_pid: pid,
        mem_total: meminfo_map(&fs::read_to_string("/proc/meminfo").unwrap_or_default())
            .get("MemTotal")
            .map(|k| k * 1024),
        ..Default::default()
    };
    for name in [
        "dirty_ratio",
        "dirty_background_ratio",
        "dirty_bytes",
        "dirty_background_bytes",
        "dirty_expire_centisecs",
        "dirty_writeback_centisecs",
    ] {
        if let Some(v) = read_trim(format!("/proc/sys/vm/{name}")).and_then(|s| s.parse().ok()) {
            m.dirty.insert(name.to_string(), v);
        }
    }
    let Some(p) = cgroup::placement(pid, "memory") else {
        return m;
    };
    m.version = Some(p.version);
    m.path = Some(p.path.clone());
    let Some(dir) = p.dir.clone() else {
        return m;
    };
    let get = |n: &str| cgroup::read(&dir, n);
    if p.version == 2 {
        m.max = get("memory.max").and_then(|s| cgroup::parse_limit(&s));
        m.high = get("memory.high").and_then(|s| cgroup::parse_limit(&s));
        m.current = get("memory.current").and_then(|s| s.parse().ok());
        m.events = cgroup::parse_keyed(&get("memory.events").unwrap_or_default());
        let st = cgroup::parse_keyed(&get("memory.stat").unwrap_or_default());
        for k in ["anon", "file", "shmem", "file_dirty", "file_writeback"] {
            if let Some(v) = st.get(k) {
                m.stat.insert(k.to_string(), *v);
            }
        }
    } else {
        m.max = get("memory.limit_in_bytes").and_then(|s| cgroup::parse_limit(&s));
        m.current = get("memory.usage_in_bytes").and_then(|s| s.parse().ok());
        if let Some(f) = get("memory.failcnt").and_then(|s| s.parse().ok()) {
            m.events.insert("max".into(), f);
        }
        let oom = cgroup::parse_keyed(&get("memory.oom_control").unwrap_or_default());
        if let Some(v) = oom.get("oom_kill") {
            m.events.insert("oom_kill".into(), *v);
        }
        let st = cgroup::parse_keyed(&get("memory.stat").unwrap_or_default());
        for (v1, k) in [
            ("total_rss", "anon"),
            ("total_cache", "file"),
            ("total_shmem", "shmem"),
            ("total_dirty", "file_dirty"),
            ("total_writeback", "file_writeback"),
        ] {
            if let Some(v) = st.get(v1) {
                m.stat.insert(k.to_string(), *v);
            }
        }
    }
    m.dir = Some(dir);
    m
}

pub fn read_sched(pid: i32) -> Sched {
    let mut s = Sched {
        autogroup: read_trim("/proc/sys/kernel/sched_autogroup_enabled").map(|v| v == "1"),
        ncpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        ..Default::default()
    };
    let mut names: Vec<(String, String)> = Vec::new();
    for dir in ["/proc/sys/kernel", "/sys/kernel/debug/sched"] {
        let Ok(rd) = fs::read_dir(dir) else { continue };
        let mut here: Vec<String> = rd
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| dir != "/proc/sys/kernel" || n.starts_with("sched_"))
            .collect();
        here.sort();
        for n in here {
            let path = format!("{dir}/{n}");
            if let Some(v) = read_trim(&path).filter(|v| !v.contains('\n') && v.len() < 40) {
                names.push((path, v));
            }
        }
    }
    if !std::path::Path::new("/sys/kernel/debug/sched").exists() {
        // debugfs not mounted here: read it in a mount namespace of its own.
        match super::debugfs::read() {
            Ok(t) => {
                s.debugfs_private = !t.is_empty();
                names.extend(t);
            }
            Err(why) => s.debugfs_error = Some(why),
        }
    }
    s.tunables = names;
    if let Some(p) = cgroup::placement(pid, "cpu") {
        s.cpu_version = Some(p.version);
        s.cpu_path = Some(p.path.clone());
        if let Some(dir) = &p.dir {
            let st = cgroup::parse_keyed(&cgroup::read(dir, "cpu.stat").unwrap_or_default());
            if p.version == 2 {
                s.cpu_max = cgroup::read(dir, "cpu.max").and_then(|t| cgroup::parse_cpu_max(&t));
                for k in ["nr_periods", "nr_throttled", "throttled_usec"] {
                    if let Some(v) = st.get(k) {
                        s.cpu_stat.insert(k.to_string(), *v);
                    }
                }
            } else {
                let quota: Option<i64> =
                    cgroup::read(dir, "cpu.cfs_quota_us").and_then(|t| t.parse().ok());
                let period: Option<u64> =
                    cgroup::read(dir, "cpu.cfs_period_us").and_then(|t| t.parse().ok());
                if let Some(period) = period {
                    s.cpu_max = Some((quota.filter(|q| *q > 0).map(|q| q as u64), period));
                }
                for k in ["nr_periods", "nr_throttled"] {
                    if let Some(v) = st.get(k) {
                        s.cpu_stat.insert(k.to_string(), *v);
                    }
                }
                if let Some(ns) = st.get("throttled_time") {
                    s.cpu_stat.insert("throttled_usec".into(), ns / 1000);
                }
            }
        }
    }
    s
}

pub fn read_access() -> Access {
    Access {
        euid: nix::unistd::geteuid().as_raw(),
        cap_eff: procfs::status(std::process::id() as i32)
            .map(|s| s.cap_effective)
            .unwrap_or(0),
        ptrace_scope: read_trim("/proc/sys/kernel/yama/ptrace_scope").and_then(|s| s.parse().ok()),
        perf_event_paranoid: read_trim("/proc/sys/kernel/perf_event_paranoid")
            .and_then(|s| s.parse().ok()),
        tracefs: [
            "/sys/kernel/tracing/events",
            "/sys/kernel/debug/tracing/events",
        ]
        .iter()
        .any(|p| std::path::Path::new(p).is_dir()),
        uprobe_pmu: std::path::Path::new("/sys/bus/event_source/devices/uprobe/type").exists(),
    }
}

/// logind's RemoveIPC as the cluster's root has it (`root` is `/proc/PM/root` or `/`).
pub fn read_ipc(root: &str) -> Ipc {
    let mut files = Vec::new();
    let main = format!("{root}/etc/systemd/logind.conf");
    if let Ok(t) = fs::read_to_string(&main) {
        files.push(("/etc/systemd/logind.conf".to_string(), t));
    }
    for d in [
        "etc/systemd/logind.conf.d",
        "run/systemd/logind.conf.d",
        "usr/lib/systemd/logind.conf.d",
    ] {
        let Ok(rd) = fs::read_dir(format!("{root}/{d}")) else {
            continue;
        };
        let mut names: Vec<_> = rd.flatten().map(|e| e.file_name()).collect();
        names.sort();
        for n in names {
            let n = n.to_string_lossy().into_owned();
            if n.ends_with(".conf")
                && let Ok(t) = fs::read_to_string(format!("{root}/{d}/{n}"))
            {
                files.push((format!("/{d}/{n}"), t));
            }
        }
    }
    Ipc {
        logind: std::path::Path::new(&format!("{root}/run/systemd/seats")).is_dir(),
        remove_ipc: parse_remove_ipc(&files),
        sys_uid_max: parse_sys_uid_max(
            &fs::read_to_string(format!("{root}/etc/login.defs")).unwrap_or_default(),
        )
        .unwrap_or(999),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_pools() {
        assert_eq!(
            selected("always [madvise] never").as_deref(),
            Some("madvise")
        );
        assert_eq!(selected("always madvise never"), None);
        let p = parse_huge_pool(
            "MemTotal: 100 kB\nHugePages_Total:     100\nHugePages_Free:       40\nHugePages_Rsvd:       10\nHugePages_Surp:        0\nHugepagesize:       2048 kB\n",
        )
        .unwrap();
        assert_eq!((p.total, p.free, p.rsvd, p.size_kib), (100, 40, 10, 2048));
        assert!(parse_huge_pool("MemTotal: 1 kB\n").is_none());
    }

    #[test]
    fn steal_from_stat() {
        let s = "cpu  78175 0 9191 517952 988 0 194 1397 0 0\ncpu0 1 2 3\n";
        assert_eq!(
            parse_stat_cpu(s),
            Some((78175 + 9191 + 517952 + 988 + 194 + 1397, 1397))
        );
        assert_eq!(parse_stat_cpu("intr 1\n"), None);
    }

    #[test]
    fn main_shm_is_the_biggest_shared_anonymous_mapping() {
        let smaps = "\
55d0a0000000-55d0a0100000 r-xp 00000000 08:01 123 /usr/lib/postgresql/15/bin/postgres
Size:               1024 kB
KernelPageSize:        4 kB
7f0000000000-7f0008e00000 rw-s 00000000 00:01 5 /dev/zero (deleted)
Size:             145408 kB
KernelPageSize:        4 kB
7f1000000000-7f1000001000 rw-s 00000000 00:01 6 /SYSV0052e2c1 (deleted)
Size:                  4 kB
KernelPageSize:        4 kB
";
        let m = main_shm_from_smaps(smaps).unwrap();
        assert_eq!(m.bytes, 0x8e00000);
        assert!(!m.huge());
        let huge = "7f0000000000-7f0009000000 rw-s 00000000 00:0f 5 /anon_hugepage (deleted)\nSize: 147456 kB\nKernelPageSize:     2048 kB\n";
        let m = main_shm_from_smaps(huge).unwrap();
        assert_eq!(m.page_kib, 2048);
        assert!(m.huge());
        assert!(main_shm_from_smaps("").is_none());
    }

    #[test]
    fn logind_and_login_defs() {
        let files = vec![
            (
                "/etc/systemd/logind.conf".to_string(),
                "[Login]\n#RemoveIPC=yes\n".to_string(),
            ),
            (
                "/etc/systemd/logind.conf.d/pg.conf".to_string(),
                "[Login]\nRemoveIPC=no\n".to_string(),
            ),
        ];
        assert_eq!(
            parse_remove_ipc(&files),
            Some((false, "/etc/systemd/logind.conf.d/pg.conf:2".into()))
        );
        assert_eq!(parse_remove_ipc(&files[..1]), None);
        assert_eq!(
            parse_remove_ipc(&[("x".into(), "[Other]\nRemoveIPC=no\n".into())]),
            None
        );
        assert_eq!(parse_sys_uid_max("# c\nSYS_UID_MAX   499\n"), Some(499));
        assert_eq!(parse_sys_uid_max(""), None);
    }

    #[test]
    fn tsc_flags_of_cpuinfo() {
        assert_eq!(
            tsc_flags("processor: 0\nflags\t\t: fpu tsc constant_tsc nonstop_tsc rdtscp\n"),
            vec!["constant_tsc", "nonstop_tsc"]
        );
    }
}
