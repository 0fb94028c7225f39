//! The system facts of explain-shm, read from /proc without SQL: the /dev/shm a cluster sees
//! (through /proc/PMPID/root), its mount, the cgroup and container hints, and every file in
//! that /dev/shm with the processes that map it or hold it open.

use crate::remote::maps::{self, MapKind};
use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;

/// The /dev/shm of a cluster's mount namespace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShmFs {
    /// How we reached it: `/proc/PMPID/root/dev/shm`.
    pub path: String,
    pub size_bytes: u64,
    pub used_bytes: u64,
    /// Free for an unprivileged writer (the postmaster runs as postgres).
    pub free_bytes: u64,
    pub inodes_total: u64,
    pub inodes_free: u64,
    /// From the cluster's mountinfo: `tmpfs`, or `None` when /dev/shm is not a mount point.
    pub fs_type: Option<String>,
    pub mount_options: Option<String>,
}

impl ShmFs {
    pub fn is_tmpfs(&self) -> bool {
        self.fs_type.as_deref() == Some("tmpfs")
    }
}

/// The container the cluster runs in, as far as /proc tells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Container {
    /// The postmaster's cgroup path (v2 unified, or v1's memory controller).
    pub cgroup: Option<String>,
    pub cgroup_version: Option<u8>,
    /// The memory limit; `None` when unlimited or unreadable.
    pub memory_max: Option<u64>,
    pub memory_current: Option<u64>,
    pub docker: bool,
    pub kubernetes: bool,
    /// What made us think so: `/.dockerenv`, `cgroup path contains "kubepods"`, ...
    pub hints: Vec<String>,
    /// The runtime and container id, the pod's uid and QoS class, read from the cgroup path
    /// or the runtime's bind mounts (`report::container`).
    pub identity: crate::report::container::Identity,
    /// The Kubernetes pod's name and namespace (environment, service-account files).
    pub pod: Option<String>,
    pub pod_namespace: Option<String>,
}

impl Container {
    /// What every report's JSON says of the container (each adds its own limits): the
    /// cgroup, the hints, and what names it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "cgroup": self.cgroup,
            "docker": self.docker,
            "kubernetes": self.kubernetes,
            "hints": self.hints,
            "runtime": self.identity.runtime,
            "id": self.identity.id,
            "pod": self.pod,
            "pod_namespace": self.pod_namespace,
            "pod_uid": self.identity.pod_uid,
            "qos": self.identity.qos,
        })
    }

    /// `docker 3f4e8c0a9b1d, pod db/pg-0 (uid ..., burstable)`: what names this container, or
    /// `None` when nothing does.
    pub fn names(&self) -> Option<String> {
        let id = &self.identity;
        let mut parts = Vec::new();
        match (id.runtime, id.short_id()) {
            (Some(rt), Some(i)) => parts.push(format!("{rt} {i}")),
            (None, Some(i)) => parts.push(format!("container {i}")),
            _ => {}
        }
        let mut pod = String::new();
        if let Some(p) = &self.pod {
            pod = match &self.pod_namespace {
                Some(ns) => format!("pod {ns}/{p}"),
                None => format!("pod {p}"),
            };
        }
        let mut extra = Vec::new();
        if let Some(u) = &id.pod_uid {
            extra.push(format!("uid {u}"));
        }
        if let Some(q) = id.qos {
            extra.push(q.to_string());
        }
        if !extra.is_empty() {
            if pod.is_empty() {
                pod = "pod".into();
            }
            pod = format!("{pod} ({})", extra.join(", "));
        }
        if !pod.is_empty() {
            parts.push(pod);
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// `Kubernetes` or `Docker/OCI` when the hints say it is a container.
    pub fn kind(&self) -> Option<&'static str> {
        if self.kubernetes {
            Some("Kubernetes")
        } else if self.docker {
            Some("Docker/OCI")
        } else {
            None
        }
    }
}

/// A file in /dev/shm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShmFile {
    pub name: String,
    pub size_bytes: u64,
    /// st_blocks × 512: what the file really takes from the tmpfs.
    pub allocated_bytes: u64,
    /// Processes that map it (any process we can see), sorted.
    pub pids: Vec<i32>,
    /// Cluster processes holding it open (between shm_open and mmap, or after).
    pub open_pids: Vec<i32>,
}

impl ShmFile {
    /// A PostgreSQL segment that no process maps or holds open.
    pub fn is_orphan(&self) -> bool {
        self.pids.is_empty() && self.open_pids.is_empty()
    }
}

/// statvfs of `/proc/PM/root/dev/shm` plus the mount entry.
pub fn shm_fs(pm: i32) -> Result<ShmFs> {
    let path = format!("/proc/{pm}/root/dev/shm");
    let st = nix::sys::statvfs::statvfs(path.as_str()).map_err(|e| match e {
        nix::errno::Errno::EACCES | nix::errno::Errno::EPERM => anyhow::anyhow!(
            "cannot read {path}: permission denied: run as root (seeing another process's \
             mount namespace needs CAP_SYS_PTRACE)"
        ),
        e => anyhow::anyhow!("statvfs {path}: {e}"),
    })?;
    let frag = st.fragment_size() as u64;
    let mount = fs::read_to_string(format!("/proc/{pm}/mountinfo"))
        .ok()
        .and_then(|t| mount_of(&t, "/dev/shm"));
    Ok(ShmFs {
        path,
        size_bytes: st.blocks() as u64 * frag,
        used_bytes: (st.blocks() as u64).saturating_sub(st.blocks_free() as u64) * frag,
        free_bytes: st.blocks_available() as u64 * frag,
        inodes_total: st.files() as u64,
        inodes_free: st.files_free() as u64,
        fs_type: mount.as_ref().map(|m| m.0.clone()),
        mount_options: mount.map(|m| m.1),
    })
}

/// The last mountinfo entry whose mount point is `point`: (fs type, super options merged with
/// the mount options).
pub fn mount_of(mountinfo: &str, point: &str) -> Option<(String, String)> {
    let mut found = None;
    for line in mountinfo.lines() {
        // `36 35 0:30 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw,size=32768k`
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        if l.get(4).copied() != Some(point) {
            continue;
        }
        let r: Vec<&str> = right.split(' ').collect();
        let Some(fstype) = r.first() else { continue };
        // The mount's options, then the superblock's, each once (`rw` is in both).
        let mut seen: Vec<&str> = Vec::new();
        for o in [l.get(5), r.get(2)]
            .into_iter()
            .flatten()
            .flat_map(|x| x.split(','))
        {
            if !o.is_empty() && !seen.contains(&o) {
                seen.push(o);
            }
        }
        let opts = seen.join(",");
        found = Some((fstype.to_string(), opts));
    }
    found
}

/// What a postmaster's environment (`/proc/PID/environ`) says of where it runs: Kubernetes,
/// and the operators that run PostgreSQL there (their /dev/shm is set in their own
/// resources).
pub fn environment_hints(environ: &[u8]) -> (bool, Vec<String>) {
    let vars: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
    let has = |prefix: &[u8]| vars.iter().any(|v| v.starts_with(prefix));
    let mut hints = Vec::new();
    let k8s = has(b"KUBERNETES_SERVICE_HOST=");
    if k8s {
        hints.push("KUBERNETES_SERVICE_HOST is set".into());
    }
    if has(b"CNPG_") || (has(b"CLUSTER_NAME=") && has(b"PGDATA=/var/lib/postgresql/data/pgdata")) {
        hints.push("CloudNativePG (cnpg) instance: CNPG_* in the postmaster's environment".into());
    }
    if has(b"SPILO_") || (has(b"PATRONI_") && has(b"PGROOT=/home/postgres/pgdata")) {
        hints.push(
            "Spilo (Zalando postgres-operator): SPILO_* in the postmaster's environment".into(),
        );
    }
    (k8s, hints)
}

/// The cgroup and the container hints of process `pm`.
pub fn container(pm: i32) -> Container {
    let mut c = Container::default();
    if let Some(p) = crate::report::cgroup::placement(pm, "memory") {
        c.cgroup_version = Some(p.version);
        if let Some(dir) = &p.dir {
            let (max_file, cur_file) = if p.version == 2 {
                ("memory.max", "memory.current")
            } else {
                ("memory.limit_in_bytes", "memory.usage_in_bytes")
            };
            c.memory_max = crate::report::cgroup::read(dir, max_file).and_then(|s| parse_limit(&s));
            c.memory_current =
                crate::report::cgroup::read(dir, cur_file).and_then(|s| s.parse().ok());
        }
        c.cgroup = Some(p.path);
    }
    if fs::metadata(format!("/proc/{pm}/root/.dockerenv")).is_ok() {
        c.docker = true;
        c.hints.push("/.dockerenv exists".into());
    }
    if let Some(path) = &c.cgroup {
        for word in ["docker", "containerd", "libpod"] {
            if path.contains(word) {
                c.docker = true;
                c.hints.push(format!("cgroup path contains \"{word}\""));
                break;
            }
        }
        if path.contains("kubepods") {
            c.kubernetes = true;
            c.hints.push("cgroup path contains \"kubepods\"".into());
        }
    }
    if let Ok(env) = fs::read(format!("/proc/{pm}/environ")) {
        let (k8s, hints) = environment_hints(&env);
        c.kubernetes |= k8s;
        c.hints.extend(hints);
        (c.pod, c.pod_namespace) = crate::report::container::pod_from_env(&env);
    }
    identify(pm, &mut c);
    c
}

/// Names the container: runtime and id from the cgroup path, else from the runtime's bind
/// mounts; the pod's namespace from its service account when the environment does not say.
fn identify(pm: i32, c: &mut Container) {
    use crate::report::container::{from_cgroup_path, from_mountinfo};
    let mut id = c
        .cgroup
        .as_deref()
        .map(from_cgroup_path)
        .unwrap_or_default();
    if id.id.is_none() {
        // Another hierarchy may name it where the memory controller's says `/`.
        let text = fs::read_to_string(format!("/proc/{pm}/cgroup")).unwrap_or_default();
        if let Some(other) = crate::report::cgroup::parse_memberships(&text)
            .iter()
            .map(|m| from_cgroup_path(&m.path))
            .find(|o| o.id.is_some())
        {
            id = other;
        }
    }
    if id.id.is_none()
        && let Ok(mi) = fs::read_to_string(format!("/proc/{pm}/mountinfo"))
    {
        let m = from_mountinfo(&mi);
        if m.id.is_some() {
            id.runtime = m.runtime;
            id.id = m.id;
            id.source = m.source;
        }
        if id.pod_uid.is_none() {
            id.pod_uid = m.pod_uid;
        }
    }
    if id.id.is_some() && !c.docker {
        c.docker = true;
        c.hints.push(format!(
            "{} names a container",
            id.source.unwrap_or("cgroup path")
        ));
    }
    if id.pod_uid.is_some() && !c.kubernetes {
        c.kubernetes = true;
        c.hints.push("a pod uid in its cgroup".into());
    }
    if c.kubernetes && c.pod_namespace.is_none() {
        c.pod_namespace = fs::read_to_string(format!(
            "/proc/{pm}/root/var/run/secrets/kubernetes.io/serviceaccount/namespace"
        ))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    }
    c.identity = id;
}

pub use crate::report::cgroup::parse_limit;

/// Every file in the cluster's /dev/shm with its mappers. `cluster_pids` are searched for open
/// fds as well (maps are searched in every process, so another cluster sharing this /dev/shm
/// does not make our neighbour's segments look orphaned).
pub fn shm_files(shm_path: &str, cluster_pids: &[i32]) -> Result<Vec<ShmFile>> {
    let rd = fs::read_dir(shm_path).with_context(|| format!("listing {shm_path}"))?;
    let mut files = Vec::new();
    let mut by_key: BTreeMap<(u64, u64), usize> = BTreeMap::new();
    for e in rd.flatten() {
        let Ok(md) = e.metadata() else { continue };
        if !md.is_file() {
            continue;
        }
        by_key.insert((md.dev(), md.ino()), files.len());
        files.push(ShmFile {
            name: e.file_name().to_string_lossy().into_owned(),
            size_bytes: md.len(),
            allocated_bytes: md.blocks() * 512,
            ..ShmFile::default()
        });
    }
    let mut mappers: Vec<BTreeSet<i32>> = vec![BTreeSet::new(); files.len()];
    for pid in all_pids() {
        let Ok(list) = maps::read(pid) else { continue };
        for m in list {
            let MapKind::File { path, .. } = &m.kind else {
                continue;
            };
            if !path.starts_with("/dev/shm/") {
                continue;
            }
            let dev = libc::makedev(m.dev.0, m.dev.1);
            if let Some(&i) = by_key.get(&(dev, m.inode))
                && let Some(set) = mappers.get_mut(i)
            {
                set.insert(pid);
            }
        }
    }
    let mut openers: Vec<BTreeSet<i32>> = vec![BTreeSet::new(); files.len()];
    for &pid in cluster_pids {
        let Ok(rd) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in rd.flatten() {
            let link = fs::read_link(fd.path()).unwrap_or_default();
            if !link.starts_with("/dev/shm/") {
                continue;
            }
            let Ok(md) = fs::metadata(fd.path()) else {
                continue;
            };
            if let Some(&i) = by_key.get(&(md.dev(), md.ino()))
                && let Some(set) = openers.get_mut(i)
            {
                set.insert(pid);
            }
        }
    }
    for ((f, m), o) in files.iter_mut().zip(mappers).zip(openers) {
        f.pids = m.into_iter().collect();
        f.open_pids = o.into_iter().collect();
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

fn all_pids() -> Vec<i32> {
    let Ok(rd) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect()
}

/// Whether `/proc/PID` exists (a pid we can see).
pub fn pid_exists(pid: i32) -> bool {
    match fs::metadata(format!("/proc/{pid}")) {
        Ok(_) => true,
        Err(e) => e.kind() != ErrorKind::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_are_told_by_their_environment() {
        let (k, h) = environment_hints(b"KUBERNETES_SERVICE_HOST=10.0.0.1\0CNPG_SECRETS=x\0");
        assert!(k);
        assert!(h.iter().any(|x| x.contains("cnpg")), "{h:?}");
        let (_, h) = environment_hints(b"SPILO_CONFIGURATION=x\0PGROOT=/home/postgres/pgdata\0");
        assert!(h.iter().any(|x| x.contains("Spilo")), "{h:?}");
        assert_eq!(environment_hints(b"PATH=/bin\0"), (false, Vec::new()));
    }

    #[test]
    fn mountinfo_dev_shm() {
        let t = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                 36 22 0:30 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw,inode64\n\
                 90 22 0:45 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=32768k\n";
        assert_eq!(
            mount_of(t, "/dev/shm"),
            Some(("tmpfs".into(), "rw,relatime,size=32768k".into()))
        );
        assert_eq!(mount_of(t, "/nope"), None);
        assert_eq!(mount_of("garbage\n\n - \n", "/dev/shm"), None);
    }

    #[test]
    fn cgroups() {
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712\n"), None);
        assert_eq!(parse_limit("536870912\n"), Some(512 << 20));
    }

    #[test]
    fn own_dev_shm_is_listed() {
        // Our own /dev/shm through /proc/self/root: a file we create and map is found with
        // our pid; unmapped and closed, it has no one.
        let me = std::process::id() as i32;
        let shm = format!("/proc/{me}/root/dev/shm");
        if fs::metadata(&shm).is_err() {
            return;
        }
        let name = format!("pgstrace-probe-test-{me}");
        let path = format!("/dev/shm/{name}");
        let Ok(f) = fs::File::create(&path) else {
            return;
        };
        let _ = f.set_len(8192);
        let files = shm_files(&shm, &[me]).unwrap_or_default();
        let _ = fs::remove_file(&path);
        let ours = files.iter().find(|x| x.name == name);
        assert!(ours.is_some_and(|x| x.size_bytes == 8192 && x.open_pids == vec![me]));
        assert!(ours.is_some_and(|x| x.pids.is_empty()));
    }
}
