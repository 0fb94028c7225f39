//! One PostgreSQL process: its role, read from the process title without SQL.
//!
//! PostgreSQL overwrites its argv with the title, so /proc/PID/cmdline of a child of the
//! postmaster is `postgres: [CLUSTER_NAME: ]FIXED_PART[ ACTIVITY]` padded with NULs; the
//! postmaster keeps its real argv (`/usr/lib/postgresql/15/bin/postgres -D ...`). Everything
//! here is pure: it parses text and never panics on any input.

use std::fmt;

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

impl Role {
    /// The lower-case name used in text and JSON output (`backend`, `parallel worker`); a
    /// background worker is named by its own title.
    pub fn name(&self) -> &str {
        match self {
            Role::Postmaster => "postmaster",
            Role::Backend => "backend",
            Role::ParallelWorker => "parallel worker",
            Role::AutovacuumLauncher => "autovacuum launcher",
            Role::AutovacuumWorker => "autovacuum worker",
            Role::Checkpointer => "checkpointer",
            Role::BackgroundWriter => "background writer",
            Role::WalWriter => "walwriter",
            Role::WalSender => "walsender",
            Role::WalReceiver => "walreceiver",
            Role::Startup => "startup",
            Role::Archiver => "archiver",
            Role::Logger => "logger",
            Role::LogicalReplicationLauncher => "logical replication launcher",
            Role::LogicalReplicationWorker => "logical replication worker",
            Role::BackgroundWorker(name) => name,
            Role::Unknown => "unknown",
        }
    }

    /// Whether the process runs queries (its `debug_query_string` is worth reading).
    pub fn runs_queries(&self) -> bool {
        matches!(
            self,
            Role::Backend | Role::ParallelWorker | Role::WalSender | Role::AutovacuumWorker
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
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
    /// Its pid in the cluster's own PID namespace (a container's view), when that differs.
    pub ns_pid: Option<i64>,
}

impl PgProcess {
    /// A process described by its title (see [`parse_title`]).
    pub fn from_title(pid: i32, ppid: i32, title: &str, cluster_name: Option<&str>) -> Self {
        let t = parse_title_in(title, cluster_name);
        PgProcess {
            pid,
            ppid,
            role: t.role,
            leader_pid: t.leader_pid,
            user: t.user,
            database: t.database,
            client: t.client,
            state: t.state,
            title: title.to_string(),
            ns_pid: None,
        }
    }
}

/// The parsed title, with `Role::Unknown` for what is not PostgreSQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedTitle {
    pub role: Role,
    pub cluster_name: Option<String>,
    pub leader_pid: Option<i32>,
    pub user: Option<String>,
    pub database: Option<String>,
    pub client: Option<String>,
    pub state: Option<String>,
}

/// The title from the raw bytes of /proc/PID/cmdline: NUL-separated arguments joined by
/// spaces (the postmaster's real argv), NUL padding and trailing blanks dropped (a title).
pub fn title_from_cmdline(raw: &[u8]) -> String {
    let parts: Vec<&[u8]> = raw.split(|&b| b == 0).collect();
    let last = parts
        .iter()
        .rposition(|p| !p.is_empty())
        .map_or(0, |i| i + 1);
    let joined: Vec<u8> = parts.get(..last).unwrap_or_default().join(&b' ');
    String::from_utf8_lossy(&joined).trim_end().to_string()
}

/// Parses a process title, guessing whether it carries a cluster name.
pub fn parse_title(title: &str) -> ParsedTitle {
    parse_title_in(title, None)
}

/// Parses a process title; `cluster_name` (when known, e.g. learnt from the checkpointer's
/// title) is stripped first, which also names background workers correctly.
pub fn parse_title_in(title: &str, cluster_name: Option<&str>) -> ParsedTitle {
    let title = title.trim_end_matches(['\0', ' ', '\t', '\n']);
    let unknown = ParsedTitle {
        role: Role::Unknown,
        cluster_name: None,
        leader_pid: None,
        user: None,
        database: None,
        client: None,
        state: None,
    };
    let Some(rest) = title.strip_prefix("postgres: ") else {
        if is_postmaster_command(title) {
            return ParsedTitle {
                role: Role::Postmaster,
                ..unknown
            };
        }
        return unknown;
    };
    let finish = |t: ParsedTitle, name: Option<&str>| ParsedTitle {
        cluster_name: name.map(str::to_string),
        ..t
    };
    if let Some(name) = cluster_name.filter(|n| !n.is_empty())
        && let Some(inner) = rest.strip_prefix(name).and_then(|r| r.strip_prefix(": "))
    {
        let t = parse_fixed(inner).unwrap_or_else(|| bgworker(inner));
        return finish(t, Some(name));
    }
    // `cluster_name: rest`: the name is whatever comes before the first ": " (tried first,
    // or `exp: alice db [local] idle` would read as user `exp:`).
    if let Some((name, inner)) = rest.split_once(": ")
        && let Some(t) = parse_fixed(inner)
    {
        return finish(t, Some(name));
    }
    if let Some(t) = parse_fixed(rest) {
        return t;
    }
    bgworker(rest)
}

fn bgworker(name: &str) -> ParsedTitle {
    let role = if name.is_empty() {
        Role::Unknown
    } else {
        Role::BackgroundWorker(name.to_string())
    };
    ParsedTitle {
        role,
        cluster_name: None,
        leader_pid: None,
        user: None,
        database: None,
        client: None,
        state: None,
    }
}

/// A postmaster's own argv: the postgres (or old postmaster) binary, not in a mode that runs
/// without a postmaster (`--single`, `--boot`, `--check`, `-C name`, `--describe-config`).
fn is_postmaster_command(cmd: &str) -> bool {
    let mut words = cmd.split(' ');
    let prog = words.next().unwrap_or_default();
    let base = prog.rsplit('/').next().unwrap_or_default();
    if base != "postgres" && base != "postmaster" {
        return false;
    }
    !words.any(|w| {
        matches!(
            w,
            "--single" | "--boot" | "--check" | "--describe-config" | "-C"
        ) || w.starts_with("--forkchild")
    })
}

/// `rest` equals `word` or starts with `word` and a space; gives what follows.
fn after_word<'a>(rest: &'a str, word: &str) -> Option<&'a str> {
    match rest.strip_prefix(word)? {
        "" => Some(""),
        r => r.strip_prefix(' '),
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The fixed part of a title (after `postgres: ` and any cluster name), or `None` when it is
/// not one PostgreSQL itself sets.
fn parse_fixed(rest: &str) -> Option<ParsedTitle> {
    let base = ParsedTitle {
        role: Role::Unknown,
        cluster_name: None,
        leader_pid: None,
        user: None,
        database: None,
        client: None,
        state: None,
    };
    if let Some(r) = rest.strip_prefix("parallel worker for PID ") {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        let leader = digits.parse::<i32>().ok().filter(|&p| p > 0)?;
        return Some(ParsedTitle {
            role: Role::ParallelWorker,
            leader_pid: Some(leader),
            ..base
        });
    }
    // Auxiliary processes and the built-in workers: the name, then maybe activity
    // (`archiver last was 0000...`, `startup recovering 0000...`, `autovacuum worker db`).
    let simple: [(&str, Role); 12] = [
        ("autovacuum launcher", Role::AutovacuumLauncher),
        ("autovacuum worker", Role::AutovacuumWorker),
        ("checkpointer", Role::Checkpointer),
        ("background writer", Role::BackgroundWriter),
        ("walwriter", Role::WalWriter),
        ("walreceiver", Role::WalReceiver),
        ("startup", Role::Startup),
        ("archiver", Role::Archiver),
        ("logger", Role::Logger),
        (
            "logical replication launcher",
            Role::LogicalReplicationLauncher,
        ),
        ("logical replication worker", Role::LogicalReplicationWorker),
        (
            "logical replication apply worker",
            Role::LogicalReplicationWorker,
        ),
    ];
    for (word, role) in simple {
        if let Some(r) = after_word(rest, word) {
            let mut t = ParsedTitle {
                role,
                state: non_empty(r),
                ..base.clone()
            };
            if t.role == Role::AutovacuumWorker {
                t.database = t.state.take();
            }
            return Some(t);
        }
    }
    if let Some(r) = after_word(rest, "walsender") {
        // `walsender USER [DB] CLIENT STATE`: physical replication has no database.
        let words: Vec<&str> = r.split(' ').collect();
        let at = words.iter().position(|w| is_client(w))?;
        let user = words.first().filter(|_| at >= 1).copied();
        let db = words.get(1..at).map(|w| w.join(" "));
        return Some(ParsedTitle {
            role: Role::WalSender,
            user: user.and_then(non_empty),
            database: db.as_deref().and_then(non_empty),
            client: words.get(at).map(|w| w.to_string()),
            state: words
                .get(at + 1..)
                .map(|w| w.join(" "))
                .and_then(|s| non_empty(&s)),
            ..base
        });
    }
    // A client backend: `USER DB CLIENT STATE`.
    let words: Vec<&str> = rest.split(' ').collect();
    let at = words
        .iter()
        .enumerate()
        .skip(2)
        .find(|(_, w)| is_client(w))
        .map(|(i, _)| i)?;
    let user = words.first().copied().and_then(non_empty)?;
    let db = words.get(1..at).map(|w| w.join(" "))?;
    Some(ParsedTitle {
        role: Role::Backend,
        user: Some(user),
        database: non_empty(&db),
        client: words.get(at).map(|w| w.to_string()),
        state: words
            .get(at + 1..)
            .map(|w| w.join(" "))
            .and_then(|s| non_empty(&s)),
        ..base
    })
}

/// `[local]` or `HOST(PORT)` (HOST an address or, with log_hostname, a name).
fn is_client(word: &str) -> bool {
    if word == "[local]" {
        return true;
    }
    let Some(inner) = word.strip_suffix(')') else {
        return false;
    };
    let Some((host, port)) = inner.rsplit_once('(') else {
        return false;
    };
    !host.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(title: &str) -> Role {
        parse_title(title).role
    }

    #[test]
    fn cmdline_bytes() {
        assert_eq!(
            title_from_cmdline(b"/usr/lib/postgresql/15/bin/postgres\0-D\0/tmp/d\0-c\0a=b\0"),
            "/usr/lib/postgresql/15/bin/postgres -D /tmp/d -c a=b"
        );
        let mut padded = b"postgres: parallel worker for PID 2006 ".to_vec();
        padded.extend([0u8; 200]);
        assert_eq!(
            title_from_cmdline(&padded),
            "postgres: parallel worker for PID 2006"
        );
        assert_eq!(title_from_cmdline(b""), "");
        assert_eq!(title_from_cmdline(b"\0\0\0"), "");
        assert_eq!(title_from_cmdline(b"\xff\xfe\0"), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn postmaster() {
        for t in [
            "/usr/lib/postgresql/15/bin/postgres -D /tmp/x/data -p 5588 -c listen_addresses=",
            "postgres -D /var/lib/pgsql/data",
            "/usr/local/pgsql/bin/postmaster -D data",
            "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf",
        ] {
            assert_eq!(role(t), Role::Postmaster, "{t}");
        }
        for t in [
            "/usr/lib/postgresql/15/bin/postgres --single -F -O -j template1",
            "postgres --boot -F",
            "postgres -C shared_buffers -D x",
            "/usr/bin/postgresql-check",
            "bash",
        ] {
            assert_eq!(role(t), Role::Unknown, "{t}");
        }
    }

    #[test]
    fn backends() {
        let t = parse_title("postgres: postgres postgres [local] SELECT");
        assert_eq!(t.role, Role::Backend);
        assert_eq!(t.user.as_deref(), Some("postgres"));
        assert_eq!(t.database.as_deref(), Some("postgres"));
        assert_eq!(t.client.as_deref(), Some("[local]"));
        assert_eq!(t.state.as_deref(), Some("SELECT"));
        assert_eq!(t.cluster_name, None);

        let t = parse_title("postgres: alice shop 10.0.0.7(51234) idle in transaction (aborted)");
        assert_eq!(t.role, Role::Backend);
        assert_eq!(t.user.as_deref(), Some("alice"));
        assert_eq!(t.database.as_deref(), Some("shop"));
        assert_eq!(t.client.as_deref(), Some("10.0.0.7(51234)"));
        assert_eq!(t.state.as_deref(), Some("idle in transaction (aborted)"));

        let t = parse_title("postgres: bob db ::1(40000) ");
        assert_eq!(t.client.as_deref(), Some("::1(40000)"));
        assert_eq!(t.state, None);

        // With update_process_title off the title stays the fixed part.
        let t = parse_title("postgres: bob db client.example.com(40000)");
        assert_eq!(t.role, Role::Backend);
        assert_eq!(t.client.as_deref(), Some("client.example.com(40000)"));
    }

    #[test]
    fn cluster_name_prefixes() {
        let t = parse_title("postgres: exp: postgres postgres [local] SELECT");
        assert_eq!(t.role, Role::Backend);
        assert_eq!(t.cluster_name.as_deref(), Some("exp"));
        assert_eq!(t.user.as_deref(), Some("postgres"));
        assert_eq!(t.database.as_deref(), Some("postgres"));

        let t = parse_title("postgres: 15/main: checkpointer ");
        assert_eq!(t.role, Role::Checkpointer);
        assert_eq!(t.cluster_name.as_deref(), Some("15/main"));

        let t = parse_title("postgres: exp: parallel worker for PID 2006 ");
        assert_eq!(t.role, Role::ParallelWorker);
        assert_eq!(t.leader_pid, Some(2006));
        assert_eq!(t.cluster_name.as_deref(), Some("exp"));

        // A background worker's name is only separable from the cluster name when it is known.
        let t = parse_title_in("postgres: exp: pg_cron launcher", Some("exp"));
        assert_eq!(t.role, Role::BackgroundWorker("pg_cron launcher".into()));
        assert_eq!(
            role("postgres: exp: pg_cron launcher"),
            Role::BackgroundWorker("exp: pg_cron launcher".into())
        );
        let t = parse_title_in(
            "postgres: stby: walreceiver streaming 0/3000148",
            Some("stby"),
        );
        assert_eq!(t.role, Role::WalReceiver);
        assert_eq!(t.state.as_deref(), Some("streaming 0/3000148"));
    }

    #[test]
    fn auxiliary_and_workers() {
        let cases = [
            ("postgres: checkpointer ", Role::Checkpointer),
            ("postgres: background writer ", Role::BackgroundWriter),
            ("postgres: walwriter ", Role::WalWriter),
            ("postgres: autovacuum launcher ", Role::AutovacuumLauncher),
            (
                "postgres: autovacuum worker postgres",
                Role::AutovacuumWorker,
            ),
            (
                "postgres: archiver last was 000000010000000000000004",
                Role::Archiver,
            ),
            (
                "postgres: archiver failed on 000000010000000000000004",
                Role::Archiver,
            ),
            ("postgres: logger ", Role::Logger),
            (
                "postgres: startup waiting for 000000010000000000000007",
                Role::Startup,
            ),
            (
                "postgres: startup recovering 000000010000000000000003",
                Role::Startup,
            ),
            ("postgres: walreceiver ", Role::WalReceiver),
            (
                "postgres: walreceiver streaming 0/3000148",
                Role::WalReceiver,
            ),
            (
                "postgres: logical replication launcher ",
                Role::LogicalReplicationLauncher,
            ),
            (
                "postgres: logical replication worker for subscription 16394",
                Role::LogicalReplicationWorker,
            ),
            (
                "postgres: logical replication worker for subscription 16394 sync 16384",
                Role::LogicalReplicationWorker,
            ),
            (
                "postgres: TimescaleDB Background Worker Scheduler",
                Role::BackgroundWorker("TimescaleDB Background Worker Scheduler".into()),
            ),
        ];
        for (t, r) in cases {
            assert_eq!(role(t), r, "{t}");
        }
        let t = parse_title("postgres: autovacuum worker postgres");
        assert_eq!(t.database.as_deref(), Some("postgres"));
        assert_eq!(t.state, None);
        let t = parse_title("postgres: parallel worker for PID 14110 ");
        assert_eq!(t.role, Role::ParallelWorker);
        assert_eq!(t.leader_pid, Some(14110));
    }

    #[test]
    fn walsenders() {
        let t = parse_title("postgres: walsender postgres [local] START_REPLICATION");
        assert_eq!(t.role, Role::WalSender);
        assert_eq!(t.user.as_deref(), Some("postgres"));
        assert_eq!(t.database, None);
        assert_eq!(t.client.as_deref(), Some("[local]"));
        assert_eq!(t.state.as_deref(), Some("START_REPLICATION"));
        let t = parse_title("postgres: exp: walsender rep app 10.1.2.3(5000) SELECT");
        assert_eq!(t.role, Role::WalSender);
        assert_eq!(t.database.as_deref(), Some("app"));
        assert_eq!(t.cluster_name.as_deref(), Some("exp"));
        assert_eq!(t.state.as_deref(), Some("SELECT"));
    }

    #[test]
    fn garbage_never_panics() {
        for t in [
            "",
            "postgres:",
            "postgres: ",
            "postgres: : ",
            "postgres: parallel worker for PID ",
            "postgres: parallel worker for PID x",
            "postgres: parallel worker for PID 99999999999999999999",
            "postgres: a b (",
            "postgres: a b x()",
            "postgres: a b (1)",
            "postgres: walsender",
            "postgres: walsender [local]",
            "postgres: \u{0}\u{1}",
            "postgres: é: ü",
            "/",
            "postgres",
        ] {
            let _ = parse_title(t);
            let _ = parse_title_in(t, Some(""));
            let _ = parse_title_in(t, Some("a"));
        }
        assert_eq!(
            role("postgres: a b (1)"),
            Role::BackgroundWorker("a b (1)".into())
        );
        assert_eq!(role("postgres"), Role::Postmaster);
        assert_eq!(role("postgres: "), Role::Unknown);
        assert!(Role::Backend.runs_queries());
        assert_eq!(Role::ParallelWorker.to_string(), "parallel worker");
    }

    proptest::proptest! {
        #[test]
        fn any_bytes(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let t = title_from_cmdline(&raw);
            let _ = parse_title(&t);
            let _ = parse_title(&format!("postgres: {t}"));
        }
    }
}
