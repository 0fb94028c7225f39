//! Finding clusters on this machine (through /proc, in any mount or PID namespace we can see)
//! and the cluster a process belongs to.
//!
//! A postgres process is one whose /proc/PID/exe is a `postgres` binary (or, when exe cannot
//! be read, whose comm is `postgres`). A postmaster is a postgres process whose parent is not
//! a postgres process of the same binary, and whose pid is line 1 of the postmaster.pid in its
//! working directory (which is the data directory): that also rules out `postgres --single`,
//! which writes minus its pid there. Files of the cluster are read through /proc/PM/cwd and
//! /proc/PM/root, so clusters in containers read the same as local ones.

use super::PgProcess;
use super::memory::proc_error;
use super::process::{parse_title, title_from_cmdline};
use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// A running cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub postmaster_pid: i32,
    /// The data directory as the postmaster sees it (its cwd, or postmaster.pid line 2).
    pub data_dir: PathBuf,
    pub port: Option<u16>,
    /// `15`, from PG_VERSION.
    pub version: Option<String>,
    /// Unix socket directory, from postmaster.pid.
    pub socket_dir: Option<PathBuf>,
    /// Every process of the cluster, the postmaster first.
    pub processes: Vec<PgProcess>,
}

impl Cluster {
    /// The cluster's /dev/shm as seen from here (through its mount namespace).
    pub fn shm_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/dev/shm", self.postmaster_pid))
    }

    /// The process `pid` of this cluster.
    pub fn process(&self, pid: i32) -> Option<&PgProcess> {
        self.processes.iter().find(|p| p.pid == pid)
    }
}

/// Size and use of a file system (the cluster's /dev/shm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsUsage {
    pub size_bytes: u64,
    pub used_bytes: u64,
    /// What an unprivileged writer can still allocate.
    pub free_bytes: u64,
}

/// statvfs of `path`.
pub fn fs_usage(path: &std::path::Path) -> std::io::Result<FsUsage> {
    let st = nix::sys::statvfs::statvfs(path).map_err(std::io::Error::from)?;
    let frag = st.fragment_size();
    Ok(FsUsage {
        size_bytes: st.blocks().saturating_mul(frag),
        used_bytes: st
            .blocks()
            .saturating_sub(st.blocks_free())
            .saturating_mul(frag),
        free_bytes: st.blocks_available().saturating_mul(frag),
    })
}

/// The lines of postmaster.pid (PostgreSQL 15 writes eight, the last ones once ready).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PidFile {
    /// Negative for a single-user backend.
    pub pid: i64,
    pub data_dir: Option<PathBuf>,
    pub start_time: Option<i64>,
    pub port: Option<u16>,
    pub socket_dir: Option<PathBuf>,
    pub listen_addr: Option<String>,
    pub shm_key: Option<String>,
    pub status: Option<String>,
}

/// Parses the text of postmaster.pid; `None` when line 1 is not a pid.
pub fn parse_pid_file(text: &str) -> Option<PidFile> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let line = |i: usize| lines.get(i).copied().filter(|l| !l.is_empty());
    Some(PidFile {
        pid: line(0)?.parse().ok()?,
        data_dir: line(1).map(PathBuf::from),
        start_time: line(2).and_then(|l| l.parse().ok()),
        port: line(3).and_then(|l| l.parse().ok()),
        socket_dir: line(4).map(PathBuf::from),
        listen_addr: line(5).map(str::to_string),
        shm_key: line(6).map(str::to_string),
        status: line(7).map(str::to_string),
    })
}

/// What /proc says about one process, as far as discovery needs.
#[derive(Clone, Debug)]
struct ProcInfo {
    pid: i32,
    ppid: i32,
    /// /proc/PID/exe, " (deleted)" removed; `None` when unreadable.
    exe: Option<String>,
    comm: String,
}

fn proc_info(pid: i32) -> std::io::Result<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat
        .rfind(')')
        .and_then(|i| stat.get(i + 1..))
        .unwrap_or("");
    let ppid = after
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let comm = stat
        .find('(')
        .zip(stat.rfind(')'))
        .and_then(|(a, b)| stat.get(a + 1..b))
        .unwrap_or("?")
        .to_string();
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .map(|p| {
            let s = String::from_utf8_lossy(p.as_os_str().as_bytes()).into_owned();
            s.strip_suffix(" (deleted)")
                .map(str::to_string)
                .unwrap_or(s)
        });
    Ok(ProcInfo {
        pid,
        ppid,
        exe,
        comm,
    })
}

impl ProcInfo {
    fn is_postgres(&self) -> bool {
        match &self.exe {
            Some(exe) => matches!(exe.rsplit('/').next(), Some("postgres" | "postmaster")),
            // exe is unreadable for other users' processes without privileges.
            None => self.comm == "postgres",
        }
    }

    /// Whether `parent` runs the same postgres binary (so `self` is its child, not a new
    /// postmaster started by a postgres process).
    fn same_binary(&self, parent: &ProcInfo) -> bool {
        parent.is_postgres()
            && (self.exe.is_none() || parent.exe.is_none() || self.exe == parent.exe)
    }
}

fn all_pids() -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    pids
}

/// The pids of `pid` in each PID namespace, outermost first (NSpid of /proc/PID/status).
fn ns_pids(pid: i32) -> Vec<i64> {
    let v = crate::remote::pidns::ns_pids(pid);
    if v.is_empty() {
        vec![i64::from(pid)]
    } else {
        v
    }
}

/// Every cluster, and the pids of postmaster candidates we were not allowed to look at
/// (their /proc/PID/cwd needs root or CAP_SYS_PTRACE).
pub fn scan() -> (Vec<Cluster>, Vec<i32>) {
    let infos: HashMap<i32, ProcInfo> = all_pids()
        .into_iter()
        .filter_map(|p| proc_info(p).ok())
        .filter(ProcInfo::is_postgres)
        .map(|i| (i.pid, i))
        .collect();
    let mut out = Vec::new();
    let mut denied = Vec::new();
    let mut pids: Vec<&i32> = infos.keys().collect();
    pids.sort_unstable();
    for pid in pids {
        let Some(info) = infos.get(pid) else { continue };
        if infos.get(&info.ppid).is_some_and(|p| info.same_binary(p)) {
            continue;
        }
        match build(info, &infos) {
            Ok(Some(c)) => out.push(c),
            Ok(None) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM)) => {
                denied.push(info.pid)
            }
            Err(_) => {}
        }
    }
    (out, denied)
}

/// The cluster `pid` belongs to (any of its processes, or the postmaster itself), or an
/// error that says why not (`pid 42 (bash) is not a PostgreSQL process`).
pub fn cluster_of(pid: i32) -> anyhow::Result<Cluster> {
    let info = proc_info(pid).map_err(|e| proc_error(pid, "stat", &e))?;
    if !info.is_postgres() {
        anyhow::bail!("pid {pid} ({}) is not a PostgreSQL process", info.comm);
    }
    // Walk up while the parent is the same binary; at most a few steps (the postmaster's
    // children, their rare children).
    let mut top = info.clone();
    let mut chain = vec![top.clone()];
    for _ in 0..16 {
        match proc_info(top.ppid) {
            Ok(parent) if top.same_binary(&parent) => {
                chain.push(parent.clone());
                top = parent;
            }
            _ => break,
        }
    }
    let infos: HashMap<i32, ProcInfo> = all_pids()
        .into_iter()
        .filter_map(|p| proc_info(p).ok())
        .filter(|i| i.ppid == top.pid && i.is_postgres())
        .chain(chain)
        .map(|i| (i.pid, i))
        .collect();
    match build(&top, &infos) {
        Ok(Some(c)) => Ok(c),
        Ok(None) => anyhow::bail!(
            "pid {pid} ({}) is a postgres process without a running postmaster (a single-user \
             backend, or a server that is shutting down)",
            info.comm
        ),
        Err(e) => Err(proc_error(top.pid, "cwd/postmaster.pid", &e)),
    }
}

/// The cluster of postmaster candidate `pm`, with its children among `infos`; `Ok(None)`
/// when it is not a postmaster (no postmaster.pid naming it).
fn build(pm: &ProcInfo, infos: &HashMap<i32, ProcInfo>) -> std::io::Result<Option<Cluster>> {
    let cwd = format!("/proc/{}/cwd", pm.pid);
    let text = match std::fs::read_to_string(format!("{cwd}/postmaster.pid")) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(pidfile) = parse_pid_file(&text) else {
        return Ok(None);
    };
    // In another PID namespace (a container) the file holds the pid seen there.
    if !ns_pids(pm.pid).contains(&pidfile.pid) {
        return Ok(None);
    }
    let data_dir = pidfile
        .data_dir
        .clone()
        .or_else(|| std::fs::read_link(&cwd).ok())
        .unwrap_or_else(|| PathBuf::from(&cwd));
    let version = std::fs::read_to_string(format!("{cwd}/PG_VERSION"))
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());

    let title_of = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|raw| title_from_cmdline(&raw))
            .unwrap_or_default()
    };
    let mut children: Vec<(i32, String)> = infos
        .values()
        .filter(|i| i.ppid == pm.pid && i.same_binary(pm))
        .map(|i| (i.pid, title_of(i.pid)))
        .collect();
    children.sort_unstable();
    // The cluster_name, learnt from the children whose titles PostgreSQL fixed, lets
    // background workers' titles be read right.
    let cluster_name = children
        .iter()
        .find_map(|(_, t)| parse_title(t).cluster_name);
    let mut processes = vec![PgProcess::from_title(
        pm.pid,
        pm.ppid,
        &title_of(pm.pid),
        None,
    )];
    for (pid, title) in &children {
        processes.push(PgProcess::from_title(
            *pid,
            pm.pid,
            title,
            cluster_name.as_deref(),
        ));
    }
    if let Some(p) = processes.first_mut() {
        p.role = super::Role::Postmaster;
    }
    for p in processes.iter_mut() {
        p.ns_pid = ns_pids(p.pid)
            .last()
            .copied()
            .filter(|&inner| inner != i64::from(p.pid));
    }
    link_workers(&mut processes);
    Ok(Some(Cluster {
        postmaster_pid: pm.pid,
        data_dir,
        port: pidfile.port,
        version,
        socket_dir: pidfile.socket_dir,
        processes,
    }))
}

/// A parallel worker's title names its leader by the pid of the cluster's PID namespace:
/// translate it to ours when they differ. A worker runs as its leader's user and database,
/// which its title does not say: take them from the leader.
fn link_workers(processes: &mut [PgProcess]) {
    let ns: HashMap<i64, i32> = processes
        .iter()
        .filter_map(|p| ns_pids(p.pid).last().map(|&inner| (inner, p.pid)))
        .filter(|(inner, pid)| *inner != i64::from(*pid))
        .collect();
    let mut leaders = HashMap::new();
    for p in processes.iter() {
        leaders.insert(p.pid, (p.user.clone(), p.database.clone()));
    }
    for p in processes.iter_mut() {
        let Some(mut leader) = p.leader_pid else {
            continue;
        };
        if let Some(&host) = ns.get(&i64::from(leader)) {
            leader = host;
            p.leader_pid = Some(host);
        }
        if let Some((user, db)) = leaders.get(&leader) {
            p.user = p.user.take().or_else(|| user.clone());
            p.database = p.database.take().or_else(|| db.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files() {
        let text = "1955\n/tmp/pgcore-x/data\n1795762440\n5588\n/tmp/pgcore-x\n\n 10014944    786460\nready   \n";
        let p = parse_pid_file(text);
        let Some(p) = p else { panic!("no parse") };
        assert_eq!(p.pid, 1955);
        assert_eq!(p.data_dir, Some(PathBuf::from("/tmp/pgcore-x/data")));
        assert_eq!(p.port, Some(5588));
        assert_eq!(p.socket_dir, Some(PathBuf::from("/tmp/pgcore-x")));
        assert_eq!(p.listen_addr, None);
        assert_eq!(p.shm_key.as_deref(), Some("10014944    786460"));
        assert_eq!(p.status.as_deref(), Some("ready"));
        assert_eq!(parse_pid_file("-31560\n/x\n").map(|p| p.pid), Some(-31560));
        assert_eq!(parse_pid_file(""), None);
        assert_eq!(parse_pid_file("abc\n"), None);
        assert_eq!(parse_pid_file("12\n").map(|p| p.port), Some(None));
    }

    #[test]
    fn not_postgres_errors() {
        let me = std::process::id() as i32;
        let e = cluster_of(me).map(|_| ()).unwrap_err().to_string();
        assert!(e.starts_with(&format!("pid {me} (")), "{e}");
        assert!(e.ends_with(") is not a PostgreSQL process"), "{e}");
        let e = cluster_of(i32::MAX).map(|_| ()).unwrap_err().to_string();
        assert_eq!(e, format!("no such process: pid {}", i32::MAX));
    }
}
