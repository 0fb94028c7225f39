//! The demo's throwaway PostgreSQL server: its binaries found, `initdb` as the server's user
//! in a temporary directory, started on a unix socket only (no TCP), queried with psql,
//! stopped, and its directory removed.

use anyhow::{Context, Result, anyhow, bail};
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The settings the demo's cluster runs with (in postgresql.conf, so that ALTER SYSTEM, the
/// remedy's way, can override them): a work_mem an analytics server may well have; the rest
/// as PostgreSQL 15 ships it.
pub const SETTINGS: [(&str, &str); 3] = [
    ("work_mem", "'64MB'"),
    ("fsync", "off"),
    ("log_line_prefix", "'%m [%p] '"),
];

/// Where the server binaries are: `--bindir`, then `pg_config --bindir`, then Debian's
/// `/usr/lib/postgresql/N/bin` with the highest N. `candidates` are the directories found
/// (in that order); the first holding `initdb`, `postgres` and `psql` wins.
pub fn choose_bindir(candidates: &[PathBuf], exists: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    candidates
        .iter()
        .find(|d| {
            ["initdb", "postgres", "psql"]
                .iter()
                .all(|b| exists(&d.join(b)))
        })
        .cloned()
}

/// Debian's version directories, highest first: `/usr/lib/postgresql/17/bin`, `.../15/bin`.
pub fn debian_bindirs(names: &[String]) -> Vec<PathBuf> {
    let mut v: Vec<(u32, &String)> = names
        .iter()
        .filter_map(|n| n.parse::<u32>().ok().map(|k| (k, n)))
        .collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.0));
    v.into_iter()
        .map(|(_, n)| Path::new("/usr/lib/postgresql").join(n).join("bin"))
        .collect()
}

/// Finds the binaries, or says which package to install.
pub fn find_bindir(given: Option<&Path>) -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(g) = given {
        candidates.push(g.to_path_buf());
        return choose_bindir(&candidates, |p| p.is_file()).ok_or_else(|| {
            anyhow!(
                "--bindir {}: no initdb, postgres and psql there",
                g.display()
            )
        });
    }
    if let Ok(o) = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        && o.status.success()
    {
        candidates.push(PathBuf::from(
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
        ));
    }
    let names: Vec<String> = fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    candidates.extend(debian_bindirs(&names));
    choose_bindir(&candidates, |p| p.is_file()).ok_or_else(|| {
        anyhow!(
            "no PostgreSQL server found (initdb, postgres, psql): apt-get install postgresql-15 \
             postgresql-client-15 (or give --bindir DIR)"
        )
    })
}

/// A cluster in a temporary directory, owned by the server's user.
pub struct Server {
    pub bindir: PathBuf,
    /// The temporary directory: the data directory, the socket, the log.
    pub dir: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub user: String,
    pub port: u16,
    postmaster: Option<Child>,
    /// Left running on exit (`--keep`).
    pub keep: bool,
}

impl Server {
    /// Makes the directory (`/tmp/pgstrace-demo-XXXXXX`, the user's) and runs initdb.
    pub fn create(bindir: PathBuf, user: &str, keep: bool) -> Result<Server> {
        let u = nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .ok_or_else(|| anyhow!("no user {user:?} to run the server as (give --user NAME)"))?;
        let dir = nix::unistd::mkdtemp("/tmp/pgstrace-demo-XXXXXX")
            .context("making the demo's directory in /tmp")?;
        let s = Server {
            bindir,
            dir,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            user: user.to_string(),
            port: 5432,
            postmaster: None,
            keep,
        };
        nix::unistd::chown(&s.dir, Some(u.uid), Some(u.gid))
            .with_context(|| format!("chown {} to {user}", s.dir.display()))?;
        Ok(s)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    fn as_user(&self, bin: &str) -> Command {
        let mut c = Command::new(self.bindir.join(bin));
        c.uid(self.uid)
            .gid(self.gid)
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .stdin(Stdio::null());
        c
    }

    /// initdb, then the demo's settings appended to postgresql.conf.
    pub fn initdb(&self) -> Result<()> {
        let out = self
            .as_user("initdb")
            .arg("-D")
            .arg(self.data())
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync")
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            bail!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let conf = self.data().join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).context("reading postgresql.conf")?;
        text.push_str("\n# pgstrace demo\nlisten_addresses = ''\n");
        text.push_str(&format!(
            "unix_socket_directories = '{}'\n",
            self.dir.display()
        ));
        for (k, v) in SETTINGS {
            text.push_str(&format!("{k} = {v}\n"));
        }
        fs::write(&conf, text).context("writing postgresql.conf")?;
        Ok(())
    }

    /// Starts the postmaster in its own process group (a Ctrl-C on the terminal reaches the
    /// demo, which stops the server itself); unless kept, it dies with the demo even on a
    /// SIGKILL (the parent-death signal, set after the switch to the server's user).
    pub fn start(&mut self) -> Result<()> {
        let log = fs::File::create(self.log_path()).context("creating server.log")?;
        let _ = nix::unistd::chown(
            &self.log_path(),
            Some(nix::unistd::Uid::from_raw(self.uid)),
            None,
        );
        let mut c = self.as_user("postgres");
        c.arg("-D")
            .arg(self.data())
            .arg("-p")
            .arg(self.port.to_string())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        if !self.keep {
            // SAFETY: prctl is async-signal-safe; runs in the child before exec.
            unsafe {
                c.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        self.postmaster = Some(c.spawn().context("starting postgres")?);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(pm) = &mut self.postmaster
                && let Ok(Some(st)) = pm.try_wait()
            {
                self.postmaster = None;
                bail!("postgres exited ({st}): {}", self.log_tail());
            }
            if self.dir.join(format!(".s.PGSQL.{}", self.port)).exists()
                && self.psql("SELECT 1").is_ok_and(|o| o.ok)
            {
                return Ok(());
            }
            if crate::trace::signals::interrupted() {
                return Err(super::Interrupted.into());
            }
            if Instant::now() > deadline {
                bail!("postgres did not come up: {}", self.log_tail());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn postmaster_pid(&self) -> i32 {
        self.postmaster.as_ref().map_or(0, |c| c.id() as i32)
    }

    fn log_tail(&self) -> String {
        let t = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = t.lines().collect();
        lines[lines.len().saturating_sub(3)..].join(" / ")
    }

    /// The psql command for `sql` (what the demo prints for a reader to run).
    pub fn psql_command(&self) -> Command {
        let mut c = Command::new(self.bindir.join("psql"));
        c.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs `sql` in one session and waits, or gives up when the demo is interrupted.
    pub fn psql(&self, sql: &str) -> Result<PsqlOutput> {
        let mut c = self.psql_command();
        c.arg("-c").arg(sql);
        let child = c.spawn().context("running psql")?;
        wait_interruptible(child)
    }

    /// Stops the server (fast shutdown; SIGKILL to its process group after 20 s) unless
    /// kept, then removes the directory.
    pub fn stop(&mut self) {
        if self.keep {
            return;
        }
        if let Some(mut pm) = self.postmaster.take() {
            let pid = nix::unistd::Pid::from_raw(pm.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if pm.try_wait().ok().flatten().is_some() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
                    let _ = pm.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Backends exit on postmaster death by themselves; wait for the last of them, so
            // that the directory is not in use while it goes.
            for _ in 0..200 {
                if !any_process_in(&self.dir) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a process has its working directory under `dir` (the server's processes do).
fn any_process_in(dir: &Path) -> bool {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
                && fs::read_link(e.path().join("cwd")).is_ok_and(|c| c.starts_with(dir))
        })
}

pub struct PsqlOutput {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Waits for a child that writes to pipes, reading them meanwhile; kills it when the demo is
/// interrupted.
pub fn wait_interruptible(mut child: Child) -> Result<PsqlOutput> {
    use std::io::Read;
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = &mut out {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = &mut err {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break Some(st);
        }
        if crate::trace::signals::interrupted() {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    match status {
        Some(st) => Ok(PsqlOutput {
            ok: st.success(),
            stdout,
            stderr,
        }),
        None => Err(super::Interrupted.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindirs() {
        let names = ["13", "15", "9.6x", "README"].map(String::from);
        assert_eq!(
            debian_bindirs(&names),
            [
                PathBuf::from("/usr/lib/postgresql/15/bin"),
                PathBuf::from("/usr/lib/postgresql/13/bin")
            ]
        );
        let cands = [PathBuf::from("/a"), PathBuf::from("/b")];
        // /a lacks psql: the client package is not installed there.
        let has = |p: &Path| p != Path::new("/a/psql") && !p.starts_with("/c");
        assert_eq!(choose_bindir(&cands, has), Some(PathBuf::from("/b")));
        assert_eq!(choose_bindir(&[PathBuf::from("/c")], has), None);
    }
}
