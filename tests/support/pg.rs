//! A throwaway PostgreSQL 15 cluster for integration tests.
//!
//! Owns: initdb as user `postgres` in a fresh temp dir, a postmaster that listens only on a
//! unix socket in that dir (optionally inside a private mount namespace with a small tmpfs on
//! /dev/shm, domain-notes §7), readiness, `psql` as postgres, filling that /dev/shm, and a
//! `Drop` that leaves no process and no directory behind, also after a panic.
//!
//! The spawned child execs all the way (`unshare` → `sh` → `setpriv` → `postgres`), so the pid
//! we spawned is the postmaster's pid.
#![allow(dead_code)] // each test binary uses a different part of the harness

use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Where Debian's postgresql-15 package puts the server binaries.
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// How long any single helper command may take before it counts as a hang.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(120);

/// Name of the file `fill_shm` creates in the cluster's /dev/shm.
const FILL_NAME: &str = "pgstrace-test-fill";

/// Options for [`PgCluster::start`].
#[derive(Debug, Clone, Default)]
pub struct PgOpts {
    /// Size in MiB of a private tmpfs on /dev/shm (private mount namespace); `None` keeps the
    /// host's /dev/shm.
    pub shm_mib: Option<u32>,
    /// Extra `-c name=value` settings for the postmaster.
    pub settings: Vec<(String, String)>,
    /// A private PID namespace too (with its own /proc): the postmaster is pid 1 there and
    /// a child of `unshare` here. Needs `shm_mib`.
    pub pid_ns: bool,
    /// Environment variables the postmaster is started with.
    pub env: Vec<(String, String)>,
}

impl PgOpts {
    pub fn shm_mib(mut self, mib: u32) -> Self {
        self.shm_mib = Some(mib);
        self
    }

    pub fn pid_namespace(mut self) -> Self {
        self.pid_ns = true;
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.settings.push((name.to_string(), value.to_string()));
        self
    }
}

/// Why the harness cannot run here at all (not a test failure unless the caller insists).
pub fn unavailable_reason() -> Option<String> {
    if !Path::new(PG_BIN).join("postgres").exists() {
        return Some(format!(
            "{PG_BIN}/postgres not installed (apt-get install postgresql-15)"
        ));
    }
    if nix::unistd::geteuid().as_raw() != 0 {
        return Some("needs root (initdb as postgres, mount namespaces, ptrace)".into());
    }
    if postgres_ids().is_err() {
        return Some("no `postgres` user in /etc/passwd".into());
    }
    None
}

/// True when the calling test should return early; panics instead when
/// `PGSTRACE_REQUIRE_PG=1` so CI cannot pass by skipping.
pub fn skip_unless_available(test: &str) -> bool {
    match unavailable_reason() {
        None => false,
        Some(why) if std::env::var_os("PGSTRACE_REQUIRE_PG").is_some_and(|v| v == "1") => {
            panic!("{test}: PostgreSQL harness unavailable and PGSTRACE_REQUIRE_PG=1: {why}")
        }
        Some(why) => {
            eprintln!("skipping {test}: {why}");
            true
        }
    }
}

/// uid and gid of user `postgres`, from /etc/passwd.
pub fn postgres_ids() -> Result<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    for line in passwd.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.first() == Some(&"postgres") && fields.len() > 3 {
            let uid = fields[2].parse().context("uid of postgres")?;
            let gid = fields[3].parse().context("gid of postgres")?;
            return Ok((uid, gid));
        }
    }
    bail!("no postgres user in /etc/passwd")
}

/// `setpriv` prefix that runs the rest of the command line as postgres.
pub fn as_postgres(program: &str) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        "--",
        program,
    ]);
    cmd
}

/// Output of a command run to completion.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with piped stdout/stderr and kills it after `timeout`, so a hang fails the test
/// instead of blocking CI.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Output> {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {desc}"))?;
    let out_reader = child.stdout.take().map(drain);
    let err_reader = child.stderr.take().map(drain);
    let status = match wait_timeout(&mut child, timeout)? {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("timed out after {timeout:?}: {desc}");
        }
    };
    let join =
        |h: Option<thread::JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(Output {
        success: status.success(),
        code: status.code(),
        stdout: join(out_reader),
        stderr: join(err_reader),
    })
}

fn drain<R: Read + Send + 'static>(mut r: R) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Polls `child` until it exits or `timeout` passes (`Ok(None)`).
pub fn wait_timeout(
    child: &mut Child,
    timeout: Duration,
) -> Result<Option<std::process::ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A free TCP port number. Only used to name the socket file `.s.PGSQL.<port>`; the server
/// listens on no TCP address.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("binding a probe socket")?;
    Ok(l.local_addr()?.port())
}

/// A running throwaway cluster. Dropping it stops the server and removes its directory.
///
/// Keep it on the thread that started it: the postmaster has PR_SET_PDEATHSIG=SIGKILL, which
/// the kernel fires when the spawning *thread* exits (a cluster shared from a static would die
/// with the first test's thread).
pub struct PgCluster {
    dir: Option<tempfile::TempDir>,
    data: PathBuf,
    port: u16,
    postmaster: Child,
    /// The postmaster's pid here (under `pid_ns`, `postmaster` is unshare, its parent).
    pm_pid: u32,
    private_shm: bool,
    pid_ns: bool,
}

impl PgCluster {
    pub fn start(opts: PgOpts) -> Result<PgCluster> {
        let (uid, gid) = postgres_ids()?;
        let dir = tempfile::Builder::new()
            .prefix("pgstrace-pg-")
            .tempdir_in("/tmp")
            .context("creating the cluster's temp dir")?;
        nix::unistd::chown(
            dir.path(),
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
        )
        .context("chown of the cluster dir to postgres")?;
        let data = dir.path().join("data");

        let mut initdb = as_postgres(&format!("{PG_BIN}/initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .current_dir(dir.path());
        let out = run_with_timeout(initdb, CMD_TIMEOUT)?;
        if !out.success {
            bail!("initdb failed: {}{}", out.stdout, out.stderr);
        }

        let port = free_port()?;
        let mut pg_args: Vec<String> = vec![
            "-D".into(),
            data.display().to_string(),
            "-p".into(),
            port.to_string(),
            "-c".into(),
            "listen_addresses=".into(),
            "-c".into(),
            format!("unix_socket_directories={}", dir.path().display()),
            "-c".into(),
            "fsync=off".into(),
        ];
        for (name, value) in &opts.settings {
            pg_args.push("-c".into());
            pg_args.push(format!("{name}={value}"));
        }

        let postgres = format!("{PG_BIN}/postgres");
        // pdeathsig: if the test runner itself is killed, Drop never runs; the postmaster
        // should not outlive it (its children exit on postmaster death by themselves).
        let setpriv = [
            "setpriv",
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--pdeathsig=SIGKILL",
            "--",
        ];
        let mut cmd = match opts.shm_mib {
            Some(mib) => {
                // sh execs setpriv execs postgres: the spawned pid stays the postmaster.
                let proc = if opts.pid_ns {
                    "mount -t proc proc /proc && "
                } else {
                    ""
                };
                let script =
                    format!("{proc}mount -t tmpfs -o size={mib}m tmpfs /dev/shm && exec \"$@\"");
                let mut c = Command::new("unshare");
                if opts.pid_ns {
                    c.args(["--pid", "--fork", "--kill-child"]);
                }
                c.args(["-m", "--propagation", "private", "sh", "-c", &script, "sh"]);
                c.args(setpriv).arg(&postgres).args(&pg_args);
                c
            }
            None => {
                let mut c = Command::new(setpriv[0]);
                c.args(&setpriv[1..]).arg(&postgres).args(&pg_args);
                c
            }
        };
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let log = fs::File::create(dir.path().join("server.log")).context("server.log")?;
        let log2 = log.try_clone()?;
        cmd.current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            // Own process group, so a Ctrl-C on the test run is not delivered to it directly.
            .process_group(0);
        let postmaster = cmd.spawn().context("spawning the postmaster")?;

        let mut cluster = PgCluster {
            dir: Some(dir),
            data,
            port,
            pm_pid: postmaster.id(),
            postmaster,
            private_shm: opts.shm_mib.is_some(),
            pid_ns: opts.pid_ns && opts.shm_mib.is_some(),
        };
        cluster.wait_ready()?;
        Ok(cluster)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + CMD_TIMEOUT;
        loop {
            if let Some(status) = self.postmaster.try_wait()? {
                bail!(
                    "postmaster exited ({status}) before ready:\n{}",
                    self.server_log()
                );
            }
            let mut c = Command::new(format!("{PG_BIN}/pg_isready"));
            c.arg("-q").arg("-h").arg(self.socket_dir()).args([
                "-p",
                &self.port.to_string(),
                "-t",
                "2",
            ]);
            if run_with_timeout(c, Duration::from_secs(10))?.success {
                if self.pid_ns {
                    let u = self.postmaster.id();
                    self.pm_pid = fs::read_to_string(format!("/proc/{u}/task/{u}/children"))
                        .ok()
                        .and_then(|c| c.split_whitespace().next()?.parse().ok())
                        .ok_or_else(|| anyhow!("unshare {u} has no child"))?;
                }
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "postmaster not ready after {CMD_TIMEOUT:?}:\n{}",
                    self.server_log()
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// After a tracer is gone: nothing in the cluster is traced or stopped, and it answers.
    /// The kernel detaches tracees asynchronously after their tracer exits; allow a moment.
    pub fn assert_untraced_and_healthy(&self, tracer: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let bad: Vec<String> = self
                .processes()
                .into_iter()
                .filter_map(|p| {
                    let tp = tracer_pid(p)?;
                    let st = proc_stat(p)?;
                    (tp != 0 || st.state == 't' || st.state == 'T')
                        .then(|| format!("pid {p}: TracerPid {tp}, state {}", st.state))
                })
                .collect();
            if bad.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "after {tracer} exited, cluster processes are still traced or stopped: {bad:?}"
            );
            thread::sleep(Duration::from_millis(50));
        }
        match self.psql("SELECT 1") {
            Ok(out) => assert_eq!(out.trim(), "1", "server unhealthy after {tracer}"),
            Err(e) => panic!("server unhealthy after {tracer}: {e:#}"),
        }
    }

    pub fn postmaster_pid(&self) -> u32 {
        self.pm_pid
    }

    pub fn socket_dir(&self) -> &Path {
        self.dir
            .as_ref()
            .map(|d| d.path())
            .unwrap_or(Path::new("/nonexistent"))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's stderr so far (for failure messages).
    pub fn server_log(&self) -> String {
        fs::read_to_string(self.server_log_path()).unwrap_or_default()
    }

    /// Where the postmaster's stderr goes.
    pub fn server_log_path(&self) -> PathBuf {
        self.socket_dir().join("server.log")
    }

    /// A psql command (as postgres, via the socket, no psqlrc, unaligned tuples-only output,
    /// stop at the first error); add `-c`/`-f` yourself.
    pub fn psql_command(&self) -> Command {
        let mut c = as_postgres(&format!("{PG_BIN}/psql"));
        c.arg("-h")
            .arg(self.socket_dir())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]);
        c
    }

    /// Runs `sql` in a new session. `Ok(stdout)` on success; `Err` carries psql's stderr
    /// (the server's ERROR and CONTEXT lines) on failure.
    pub fn psql(&self, sql: &str) -> Result<String> {
        let out = self.psql_output(sql)?;
        if out.success {
            Ok(out.stdout)
        } else {
            Err(anyhow!("psql failed ({:?}): {}", out.code, out.stderr))
        }
    }

    /// Like [`psql`](Self::psql) but returns the whole outcome.
    pub fn psql_output(&self, sql: &str) -> Result<Output> {
        let mut c = self.psql_command();
        c.arg("-c").arg(sql);
        run_with_timeout(c, CMD_TIMEOUT)
    }

    /// The cluster's /dev/shm as seen from outside its mount namespace.
    pub fn shm_dir(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root/dev/shm", self.postmaster_pid()))
    }

    /// Free bytes in the cluster's private /dev/shm.
    pub fn shm_free(&self) -> Result<u64> {
        self.require_private_shm()?;
        let st = nix::sys::statvfs::statvfs(&self.shm_dir()).context("statvfs of /dev/shm")?;
        Ok(st.blocks_available() as u64 * st.fragment_size() as u64)
    }

    /// Creates (or replaces) a file of `bytes` bytes in the cluster's private /dev/shm, to
    /// leave the server little room. Errors if the tmpfs is too small.
    pub fn fill_shm(&self, bytes: u64) -> Result<()> {
        self.fill_shm_named(FILL_NAME, bytes)
    }

    /// [`fill_shm`](Self::fill_shm) with a file name of one's own (`PostgreSQL.1234`: a
    /// segment no process maps, an orphan).
    pub fn fill_shm_named(&self, name: &str, bytes: u64) -> Result<()> {
        self.require_private_shm()?;
        let path = self.shm_dir().join(name);
        let _ = fs::remove_file(&path);
        let mut f =
            fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        // Real writes, not a sparse file: tmpfs must actually hand out the pages.
        let chunk = vec![0x5au8; 1 << 16];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.write_all(&chunk[..n])
                .with_context(|| format!("filling {} ({left} bytes left)", path.display()))?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Removes the file made by [`fill_shm`](Self::fill_shm).
    pub fn unfill_shm(&self) -> Result<()> {
        self.require_private_shm()?;
        let path = self.shm_dir().join(FILL_NAME);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn require_private_shm(&self) -> Result<()> {
        if !self.private_shm {
            bail!(
                "cluster has no private /dev/shm (PgOpts::shm_mib); refusing to touch the host's"
            );
        }
        Ok(())
    }

    /// The postmaster and all its descendants (pid order).
    pub fn processes(&self) -> Vec<u32> {
        descendants(self.postmaster_pid())
    }
}

/// `pid` and every process below it, found through the ppid field of /proc/*/stat.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(st) = proc_stat(p) {
                parent_of.push((p, st.ppid));
            }
        }
    }
    let mut found: BTreeSet<u32> = BTreeSet::new();
    if Path::new(&format!("/proc/{pid}")).exists() {
        found.insert(pid);
    }
    loop {
        let before = found.len();
        for &(p, pp) in &parent_of {
            if found.contains(&pp) {
                found.insert(p);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.into_iter().collect()
}

/// The fields of /proc/PID/stat the harness needs.
#[derive(Debug, Clone, Copy)]
pub struct ProcStat {
    pub state: char,
    pub ppid: u32,
    pub starttime: u64,
}

pub fn proc_stat(pid: u32) -> Option<ProcStat> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may hold spaces and parens: the fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        starttime: f.get(19)?.parse().ok()?,
    })
}

/// TracerPid from /proc/PID/status (`None` if the process is gone).
pub fn tracer_pid(pid: u32) -> Option<u32> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let pm = self.postmaster_pid();
        // Remember who belongs to the cluster (with start times, against pid reuse) before the
        // postmaster dies and its children get reparented.
        let procs: Vec<(u32, u64)> = descendants(pm)
            .into_iter()
            .filter_map(|p| proc_stat(p).map(|s| (p, s.starttime)))
            .collect();

        if self.pid_ns {
            // pg_ctl would signal the pid in postmaster.pid, which is 1 in the namespace and
            // our init here: signal the postmaster by its pid here instead (immediate stop).
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pm as i32),
                nix::sys::signal::Signal::SIGQUIT,
            );
            if !matches!(
                wait_timeout(&mut self.postmaster, Duration::from_secs(10)),
                Ok(Some(_))
            ) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pm as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
                let _ = self.postmaster.kill();
                let _ = self.postmaster.wait();
            }
        } else if self.postmaster.try_wait().ok().flatten().is_none() {
            let mut stop = as_postgres(&format!("{PG_BIN}/pg_ctl"));
            stop.arg("-D")
                .arg(&self.data)
                .args(["stop", "-m", "immediate", "-w", "-t", "30"]);
            let _ = run_with_timeout(stop, Duration::from_secs(40));
            if !matches!(
                wait_timeout(&mut self.postmaster, Duration::from_secs(10)),
                Ok(Some(_))
            ) {
                let _ = self.postmaster.kill();
                let _ = self.postmaster.wait();
            }
        }
        for (p, start) in procs {
            if proc_stat(p).is_some_and(|s| s.starttime == start && s.state != 'Z') {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(p as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        if let Some(dir) = self.dir.take() {
            if std::env::var_os("PGSTRACE_KEEP_CLUSTER").is_some() {
                eprintln!("keeping cluster dir {}", dir.keep().display());
            } else {
                let _ = dir.close();
            }
        }
    }
}
