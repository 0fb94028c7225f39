//! One PostgreSQL process: its role, read from the process title without SQL.

/// What a PostgreSQL process is, from its title (`postgres: checkpointer`,
/// `postgres: parallel worker for PID 14110 `, `postgres: alice db 127.0.0.1(5432) idle`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Postmaster,
    /// A client backend.
    Backend,
    ParallelWorker,
    AutovacuumLauncher,
    AutovacuumWorker,
    Checkpointer,
    BackgroundWriter,
    WalWriter,
    WalSender,
    WalReceiver,
    Startup,
    Archiver,
    Logger,
    LogicalReplicationLauncher,
    LogicalReplicationWorker,
    /// Another background worker, with its name.
    BackgroundWorker(String),
    Unknown,
}

/// A process of a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgProcess {
    pub pid: i32,
    pub ppid: i32,
    pub role: Role,
    /// A parallel worker's leader backend.
    pub leader_pid: Option<i32>,
    pub user: Option<String>,
    pub database: Option<String>,
    /// `host(port)` or `[local]`.
    pub client: Option<String>,
    /// The state word of a backend's title: `idle`, `SELECT`, `idle in transaction`, ...
    pub state: Option<String>,
    /// The whole process title.
    pub title: String,
}
