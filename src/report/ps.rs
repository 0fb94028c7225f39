//! `pgstrace ps`: every cluster on the machine with its processes and roles.
//!
//! Facts come from `postgres::cluster` (titles, postmaster.pid), the cluster's /dev/shm from
//! statvfs through /proc/PM/root, and each backend's current query from its memory
//! (`GlobalsReader`). Text is one block per cluster, lines cut to the terminal width; JSON is
//! the shape. Query and title bytes come from the server and are escaped for the
//! terminal.

use crate::postgres::cluster::{self, FsUsage, fs_usage};
use crate::postgres::memory::GlobalsReader;
use crate::postgres::{Cluster, PgProcess};
use crate::util::{escape, human};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

/// One process row: the process and its query.
struct Row<'a> {
    proc: &'a PgProcess,
    query: Option<String>,
}

/// One cluster with what was read about it.
struct ClusterView<'a> {
    cluster: &'a Cluster,
    shm: Option<FsUsage>,
    container: crate::report::shm::probe::Container,
    rows: Vec<Row<'a>>,
}

fn view(cluster: &Cluster) -> ClusterView<'_> {
    let rows = cluster
        .processes
        .iter()
        .map(|p| Row {
            proc: p,
            query: p
                .role
                .runs_queries()
                .then(|| GlobalsReader::for_process(p.pid).ok()?.query())
                .flatten(),
        })
        .collect();
    ClusterView {
        cluster,
        shm: fs_usage(&cluster.shm_path()).ok(),
        container: crate::report::shm::probe::container(cluster.postmaster_pid),
        rows,
    }
}

/// What `ps` was asked.
#[derive(Clone, Debug)]
pub struct PsConfig {
    pub json: bool,
    /// `-w`/`--wide`: whole lines even on a terminal.
    pub wide: bool,
}

pub fn run(args: PsConfig) -> anyhow::Result<i32> {
    let (clusters, denied) = cluster::scan();
    let denied_msg = || {
        let pids: Vec<String> = denied.iter().map(i32::to_string).collect();
        format!(
            "cannot read the data directory of postgres process(es) {}: reading another user's \
             /proc/PID/cwd needs root or CAP_SYS_PTRACE",
            pids.join(", ")
        )
    };
    if clusters.is_empty() && !denied.is_empty() {
        anyhow::bail!("{}", denied_msg());
    }
    let mut views: Vec<ClusterView> = clusters.iter().map(view).collect();
    // Clusters of one container (one cgroup) together, the host's first.
    views.sort_by(|a, b| {
        let key = |v: &ClusterView| (v.container.kind().is_some(), v.container.cgroup.clone());
        key(a).cmp(&key(b))
    });
    let mut out = String::new();
    if args.json {
        out = serde_json::to_string_pretty(&to_json(&views))?;
        out.push('\n');
    } else if views.is_empty() {
        out.push_str("no PostgreSQL clusters found\n");
    } else {
        let width = if args.wide {
            usize::MAX
        } else {
            terminal_width()
        };
        for (i, v) in views.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            render_text(&mut out, v, width);
        }
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush());
    if !denied.is_empty() {
        crate::errln!("pgstrace ps: {}", denied_msg());
    }
    Ok(0)
}

fn to_json(views: &[ClusterView]) -> Value {
    let clusters: Vec<Value> = views
        .iter()
        .map(|v| {
            let c = v.cluster;
            let shm = v.shm.map(|u| {
                json!({
                    "path": c.shm_path().display().to_string(),
                    "size_bytes": u.size_bytes,
                    "used_bytes": u.used_bytes,
                    "free_bytes": u.free_bytes,
                })
            });
            let processes: Vec<Value> = v
                .rows
                .iter()
                .map(|r| {
                    json!({
                        "pid": r.proc.pid,
                        "ns_pid": r.proc.ns_pid,
                        "role": r.proc.role.name(),
                        "leader_pid": r.proc.leader_pid,
                        "user": r.proc.user,
                        "database": r.proc.database,
                        "query": r.query,
                    })
                })
                .collect();
            json!({
                "postmaster_pid": c.postmaster_pid,
                "data_dir": c.data_dir.display().to_string(),
                "port": c.port,
                "version": c.version,
                "shm": shm,
                "container": v.container.json(),
                "processes": processes,
            })
        })
        .collect();
    json!({ "clusters": clusters })
}

/// The width to cut lines to: the terminal's (or $COLUMNS); not a terminal (a pipe, a
/// file): whole lines, as `ps` does.
fn terminal_width() -> usize {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return usize::MAX;
    }
    {
        // SAFETY: TIOCGWINSZ fills a winsize, which is plain data we own.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0
            && ws.ws_col > 0
        {
            return usize::from(ws.ws_col);
        }
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|&c: &usize| c >= 20)
        .unwrap_or(80)
}

/// Cuts `line` to `width` characters.
fn cut(line: &str, width: usize) -> String {
    let line = line.trim_end();
    match line.char_indices().nth(width) {
        Some((i, _)) => line.get(..i).unwrap_or(line).to_string(),
        None => line.to_string(),
    }
}

fn render_text(out: &mut String, v: &ClusterView, width: usize) {
    let c = v.cluster;
    let mut head = format!(
        "cluster {}  postmaster {}",
        escape(&c.data_dir.display().to_string()),
        c.postmaster_pid
    );
    if let Some(port) = c.port {
        let _ = write!(head, "  port {port}");
    }
    if let Some(ver) = &c.version {
        let _ = write!(head, "  PostgreSQL {}", escape(ver));
    }
    let _ = writeln!(out, "{}", cut(&head, width));
    let shm = match v.shm {
        Some(u) => format!(
            "  /dev/shm: size {}, used {}, free {}",
            human(u.size_bytes),
            human(u.used_bytes),
            human(u.free_bytes),
        ),
        None => format!("  /dev/shm: cannot read {}", c.shm_path().display()),
    };
    let _ = writeln!(out, "{}", cut(&shm, width));
    let ct = &v.container;
    if let Some(kind) = ct.kind() {
        let named = ct
            .names()
            .map(|n| format!("{}; ", escape(&n)))
            .unwrap_or_default();
        let line = format!(
            "  container ({kind}): {named}cgroup {}; {}",
            escape(ct.cgroup.as_deref().unwrap_or("?")),
            ct.hints
                .iter()
                .map(|h| escape(h))
                .collect::<Vec<_>>()
                .join("; ")
        );
        let _ = writeln!(out, "{}", cut(&line, width));
    }

    let opt = |s: &Option<String>| s.as_deref().map(escape).unwrap_or_default();
    let cells: Vec<[String; 8]> = v
        .rows
        .iter()
        .map(|r| {
            let p = r.proc;
            [
                match p.ns_pid {
                    // The container's pid beside ours: `4242 (1)`.
                    Some(n) => format!("{} ({n})", p.pid),
                    None => p.pid.to_string(),
                },
                escape(p.role.name()),
                p.leader_pid.map(|l| l.to_string()).unwrap_or_default(),
                opt(&p.user),
                opt(&p.database),
                opt(&p.client),
                opt(&p.state),
                opt(&r.query),
            ]
        })
        .collect();
    let header = [
        "PID", "ROLE", "LEADER", "USER", "DATABASE", "CLIENT", "STATE", "QUERY",
    ];
    // Column widths from the content, capped so one long name cannot push the query away.
    let caps = [20, 28, 10, 16, 16, 24, 20, 0];
    let mut widths = [0usize; 8];
    for (i, w) in widths.iter_mut().enumerate().take(7) {
        let content = cells
            .iter()
            .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
            .max()
            .unwrap_or(0);
        let head = header.get(i).map_or(0, |h| h.len());
        *w = content.max(head).min(caps.get(i).copied().unwrap_or(20));
    }
    let line = |cols: &[String]| {
        let mut s = String::from("  ");
        for (i, col) in cols.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cols.len() {
                s.push_str(col);
                break;
            }
            let col = cut(col, w);
            if i == 0 {
                let _ = write!(s, "{col:>w$} ");
            } else {
                let _ = write!(s, "{col:<w$} ");
            }
        }
        cut(&s, width)
    };
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let _ = writeln!(out, "{}", line(&header));
    for r in &cells {
        let _ = writeln!(out, "{}", line(r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postgres::Role;
    use std::path::PathBuf;

    fn proc(pid: i32, title: &str) -> PgProcess {
        PgProcess::from_title(pid, 1, title, None)
    }

    fn sample() -> Cluster {
        let mut pm = proc(100, "/usr/lib/postgresql/15/bin/postgres -D /d");
        pm.role = Role::Postmaster;
        Cluster {
            postmaster_pid: 100,
            data_dir: PathBuf::from("/d"),
            port: Some(5432),
            version: Some("15".into()),
            socket_dir: None,
            processes: vec![
                pm,
                proc(101, "postgres: checkpointer "),
                proc(102, "postgres: alice shop [local] SELECT"),
                proc(103, "postgres: parallel worker for PID 102 "),
            ],
        }
    }

    #[test]
    fn escaping_and_sizes() {
        assert_eq!(escape("a\nb\x1b[31m\u{9b}é\\"), "a\\nb\\x1b[31m\\x9bé\\\\");
        assert_eq!(human(0), "0 B");
        assert_eq!(human(33554432), "32.0 MiB");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(cut("abcdef", 3), "abc");
        assert_eq!(cut("ab", 3), "ab");
    }

    #[test]
    fn text_table() {
        let c = sample();
        let mut v = view_of(&c);
        v.rows[2].query = Some("SELECT pg_sleep(30)\n-- \x1b[2J".into());
        let mut out = String::new();
        render_text(&mut out, &v, 80);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "cluster /d  postmaster 100  port 5432  PostgreSQL 15"
        );
        assert!(lines[1].starts_with("  /dev/shm: size 64.0 MiB, used 1.0 MiB, free 63.0 MiB"));
        assert!(lines[2].contains("PID ROLE"), "{out}");
        assert!(lines[5].contains("alice"), "{out}");
        assert!(
            lines[5].ends_with("SELECT pg_sleep(30)\\n") && !out.contains('\x1b'),
            "{out}"
        );
        assert!(lines[6].starts_with("  103 parallel worker 102"), "{out}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80));
        let mut narrow = String::new();
        render_text(&mut narrow, &v, 30);
        assert!(narrow.lines().all(|l| l.chars().count() <= 30), "{narrow}");
    }

    fn view_of(c: &Cluster) -> ClusterView<'_> {
        ClusterView {
            cluster: c,
            shm: Some(FsUsage {
                size_bytes: 64 << 20,
                used_bytes: 1 << 20,
                free_bytes: 63 << 20,
            }),
            container: Default::default(),
            rows: c
                .processes
                .iter()
                .map(|p| Row {
                    proc: p,
                    query: None,
                })
                .collect(),
        }
    }

    #[test]
    fn json_shape() {
        let c = sample();
        let mut v = view_of(&c);
        v.rows[2].query = Some("SELECT 1".into());
        let j = to_json(&[v]);
        let c0 = &j["clusters"][0];
        assert_eq!(c0["postmaster_pid"], 100);
        assert_eq!(c0["data_dir"], "/d");
        assert_eq!(c0["port"], 5432);
        assert_eq!(c0["version"], "15");
        assert_eq!(c0["shm"]["size_bytes"], 64 << 20);
        assert_eq!(c0["shm"]["path"], "/proc/100/root/dev/shm");
        let p = &c0["processes"];
        assert_eq!(p[0]["role"], "postmaster");
        assert_eq!(p[2]["role"], "backend");
        assert_eq!(p[2]["user"], "alice");
        assert_eq!(p[2]["database"], "shop");
        assert_eq!(p[2]["query"], "SELECT 1");
        assert_eq!(p[3]["role"], "parallel worker");
        assert_eq!(p[3]["leader_pid"], 102);
        assert_eq!(p[1]["leader_pid"], Value::Null);
        let keys: Vec<&String> = p[2]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "database",
                "leader_pid",
                "ns_pid",
                "pid",
                "query",
                "role",
                "user"
            ]
        );
        assert_eq!(p[2]["ns_pid"], Value::Null);
    }

    #[test]
    fn namespace_pids_beside_ours() {
        let mut c = sample();
        c.processes[0].ns_pid = Some(1);
        let v = view_of(&c);
        let mut out = String::new();
        render_text(&mut out, &v, usize::MAX);
        assert!(out.contains("  100 (1) postmaster"), "{out}");
        assert_eq!(to_json(&[v])["clusters"][0]["processes"][0]["ns_pid"], 1);
    }
}
