//! Finding clusters on this machine (through /proc, in any mount or PID namespace we can see)
//! and the cluster a process belongs to.

use super::PgProcess;
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

/// Every cluster whose postmaster this process can see in /proc.
pub fn clusters() -> Vec<Cluster> {
    Vec::new()
}

/// The cluster `pid` belongs to (any of its processes, or the postmaster itself), or an
/// error that says why not (`pid 42 (bash) is not a PostgreSQL process`).
pub fn cluster_of(pid: i32) -> anyhow::Result<Cluster> {
    anyhow::bail!("pid {pid}: PostgreSQL discovery is not implemented yet")
}
