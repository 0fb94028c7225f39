//! A process's cgroup, per controller, on v2, v1 and hybrid hosts: where its files are as
//! seen from here (the host's hierarchy, else the process's own view through
//! /proc/PID/root when it runs in a cgroup namespace), and the files explain-shm and doctor
//! read. The parsers are pure.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One line of /proc/PID/cgroup.
#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    /// `0` for the v2 hierarchy.
    pub id: String,
    /// v1 controllers of the hierarchy (`memory`, `cpu,cpuacct`); empty for v2.
    pub controllers: Vec<String>,
    pub path: String,
}

/// Parses /proc/PID/cgroup.
pub fn parse_memberships(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.splitn(3, ':');
            let (id, ctrls, path) = (f.next()?, f.next()?, f.next()?);
            Some(Membership {
                id: id.to_string(),
                controllers: ctrls
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                path: path.to_string(),
            })
        })
        .collect()
}

/// A cgroup file system mounted here: v2 (`cgroup2`), or v1 with its controllers.
#[derive(Clone, Debug, PartialEq)]
pub struct CgroupMount {
    pub point: String,
    /// The mount's root inside the hierarchy (`/` unless a cgroup namespace or bind mount).
    pub root: String,
    pub v2: bool,
    pub controllers: Vec<String>,
}

/// The cgroup mounts of a mountinfo text.
pub fn parse_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        let v2 = r[0] == "cgroup2";
        if !v2 && r[0] != "cgroup" {
            continue;
        }
        let known = [
            "memory", "cpu", "cpuacct", "cpuset", "blkio", "io", "pids", "freezer",
        ];
        let controllers = if v2 {
            Vec::new()
        } else {
            r[2].split(',')
                .filter(|o| known.contains(o))
                .map(str::to_string)
                .collect()
        };
        out.push(CgroupMount {
            point: unescape(l[4]),
            root: unescape(l[3]),
            v2,
            controllers,
        });
    }
    out
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where one controller of a process lives.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    pub version: u8,
    /// The path in the hierarchy, as /proc/PID/cgroup says.
    pub path: String,
    /// The directory holding its files, if one could be found.
    pub dir: Option<PathBuf>,
}

/// The hierarchy that holds `controller` for these memberships: a v1 hierarchy that has it
/// (on a hybrid host memory and cpu are v1 even though a `0::` line exists), else v2.
pub fn choose<'a>(
    members: &'a [Membership],
    mounts: &'a [CgroupMount],
    controller: &str,
) -> Option<(&'a Membership, Option<&'a CgroupMount>)> {
    if let Some(m) = members
        .iter()
        .find(|m| m.controllers.iter().any(|c| c == controller))
    {
        let mount = mounts
            .iter()
            .find(|x| !x.v2 && x.controllers.iter().any(|c| c == controller));
        return Some((m, mount));
    }
    let m = members
        .iter()
        .find(|m| m.id == "0" && m.controllers.is_empty())?;
    Some((m, mounts.iter().find(|x| x.v2)))
}

/// The directory of `path` under `mount` (the mount's own root taken off the path).
pub fn dir_under(mount: &CgroupMount, path: &str) -> PathBuf {
    let rel = if mount.root != "/" {
        path.strip_prefix(mount.root.as_str()).unwrap_or(path)
    } else {
        path
    };
    Path::new(&mount.point).join(rel.trim_start_matches('/'))
}

/// Where `controller` of `pid` is: our hierarchy's directory, else the process's own view
/// (its root's /sys/fs/cgroup, where a cgroup namespace shows its cgroup as `/`).
pub fn placement(pid: i32, controller: &str) -> Option<Placement> {
    let members = parse_memberships(&fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?);
    let mounts = parse_mounts(&fs::read_to_string("/proc/self/mountinfo").unwrap_or_default());
    let (m, mount) = choose(&members, &mounts, controller)?;
    let version = if m.controllers.is_empty() { 2 } else { 1 };
    let probe = if version == 2 {
        "cgroup.controllers"
    } else {
        "cgroup.procs"
    };
    let mut candidates = Vec::new();
    if let Some(mount) = mount {
        candidates.push(dir_under(mount, &m.path));
    }
    let rel = m.path.trim_start_matches('/');
    let sub = if version == 2 {
        String::new()
    } else {
        format!("{}/", m.controllers.join(","))
    };
    candidates.push(PathBuf::from(format!(
        "/proc/{pid}/root/sys/fs/cgroup/{sub}{rel}"
    )));
    candidates.push(PathBuf::from(format!(
        "/proc/{pid}/root/sys/fs/cgroup/{sub}"
    )));
    let dir = candidates.into_iter().find(|d| d.join(probe).exists());
    Some(Placement {
        version,
        path: m.path.clone(),
        dir,
    })
}

/// `max`, v1's "unlimited" (a page-rounded i64::MAX) or garbage → None.
pub fn parse_limit(s: &str) -> Option<u64> {
    let v: u64 = s.trim().parse().ok()?;
    (v < 1 << 62).then_some(v)
}

/// `KEY VALUE` lines (memory.stat, memory.events, cpu.stat).
pub fn parse_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let k = f.next()?;
            let v = f.next()?.parse().ok()?;
            Some((k.to_string(), v))
        })
        .collect()
}

/// v2's cpu.max: (quota µs or None for `max`, period µs).
pub fn parse_cpu_max(text: &str) -> Option<(Option<u64>, u64)> {
    let mut f = text.split_whitespace();
    let quota = f.next()?;
    let period = f.next()?.parse().ok()?;
    let quota = if quota == "max" {
        None
    } else {
        Some(quota.parse().ok()?)
    };
    Some((quota, period))
}

/// Reads `name` in `dir`, trimmed.
pub fn read(dir: &Path, name: &str) -> Option<String> {
    fs::read_to_string(dir.join(name))
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "9:name=systemd:/\n4:memory:/process_api/bca0\n1:cpu:/\n0::/\n";
    const MOUNTS: &str = "\
30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
32 25 0:28 / /sys/fs/cgroup/cpu rw,nosuid - cgroup cgroup rw,cpu
";

    #[test]
    fn hybrid_memory_is_v1() {
        let m = parse_memberships(HYBRID);
        let mounts = parse_mounts(MOUNTS);
        assert_eq!(mounts.len(), 3);
        let (mem, mount) = choose(&m, &mounts, "memory").unwrap();
        assert_eq!(mem.path, "/process_api/bca0");
        let mount = mount.unwrap();
        assert_eq!(
            dir_under(mount, &mem.path),
            PathBuf::from("/sys/fs/cgroup/memory/process_api/bca0")
        );
        // pids has no v1 hierarchy mounted here: v2 it is.
        let (p, mount) = choose(&m, &mounts, "pids").unwrap();
        assert_eq!(p.id, "0");
        assert_eq!(mount.unwrap().point, "/sys/fs/cgroup/unified");
    }

    #[test]
    fn pure_v2_and_namespaced_root() {
        let m = parse_memberships("0::/system.slice/postgresql@15-main.service\n");
        let mounts = parse_mounts(
            "25 20 0:22 /system.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
        );
        let (mm, mount) = choose(&m, &mounts, "memory").unwrap();
        assert_eq!(
            dir_under(mount.unwrap(), &mm.path),
            PathBuf::from("/sys/fs/cgroup/postgresql@15-main.service")
        );
        assert!(choose(&[], &mounts, "memory").is_none());
    }

    #[test]
    fn values() {
        assert_eq!(parse_limit("max"), None);
        assert_eq!(parse_limit("9223372036854771712"), None);
        assert_eq!(parse_limit("1073741824\n"), Some(1 << 30));
        assert_eq!(parse_cpu_max("max 100000"), Some((None, 100000)));
        assert_eq!(parse_cpu_max("50000 100000\n"), Some((Some(50000), 100000)));
        assert_eq!(parse_cpu_max("x"), None);
        let k = parse_keyed("low 0\nhigh 3\noom_kill 1\ngarbage\n");
        assert_eq!(k["high"], 3);
        assert_eq!(k.len(), 3);
        assert_eq!(unescape("/a\\040b"), "/a b");
    }
}
