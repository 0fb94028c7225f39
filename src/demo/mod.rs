//! `pgstrace demo`: the scene this tool exists for, made and played on any machine with a
//! PostgreSQL server package. A private mount namespace with Docker's 64 MiB /dev/shm, a
//! throwaway cluster in it, enough rows that a Parallel Hash Join outgrows that /dev/shm, the
//! failing query run while `explain-shm --watch` and a `-k` trace of `fallocate` watch (both
//! this binary, as a user would run them), the first remedy explain-shm ranks applied, and
//! the query run again. Everything is undone on every way out.

pub mod server;
pub mod story;

use anyhow::{Context, Result, bail};
use server::Server;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Docker's default /dev/shm, and so most containers'.
pub const SHM_MIB: u64 = 64;
pub const QUERY: &str = "SELECT count(*) FROM a JOIN b USING (id)";
const STEPS: usize = 8;

#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub keep: bool,
    pub user: String,
    pub bindir: Option<PathBuf>,
    pub rows: u64,
}

/// What the demo started, undone on drop: the tracers (SIGINT, then SIGKILL), the server
/// (stopped, its directory removed). The mount goes with the namespace when the last of
/// its processes (ours) exits.
struct Scene {
    server: Option<Server>,
    tracers: Vec<Child>,
    started: Instant,
    step: usize,
}

impl Scene {
    fn step(&mut self, what: &str) -> Instant {
        self.step += 1;
        say(&format!("[{}/{STEPS}] {what}", self.step));
        Instant::now()
    }

    fn check(&self) -> Result<()> {
        if crate::trace::signals::interrupted() {
            bail!(Interrupted);
        }
        Ok(())
    }

    fn stop_tracers(&mut self) {
        for t in &self.tracers {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(t.id() as i32),
                nix::sys::signal::Signal::SIGINT,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for mut t in std::mem::take(&mut self.tracers) {
            loop {
                if t.try_wait().ok().flatten().is_some() {
                    break;
                }
                if Instant::now() > deadline {
                    // A kernel-side tracer leaves nothing behind even so: its events are its
                    // file descriptors.
                    let _ = t.kill();
                    let _ = t.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        self.stop_tracers();
        if let Some(mut s) = self.server.take() {
            s.stop();
        }
    }
}

/// The demo was asked to stop (SIGINT, SIGTERM, SIGHUP): cleaned up, exit 130.
#[derive(Debug)]
pub(crate) struct Interrupted;

impl std::error::Error for Interrupted {}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

fn say(line: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{line}");
    let _ = o.flush();
}

/// Indented lines of another program's output, escaped for the terminal.
fn show(text: &str, indent: &str) {
    for l in text.lines() {
        say(&format!("{indent}{}", crate::util::escape(l)));
    }
}

fn secs(t: Instant) -> String {
    format!("{:.1} s", t.elapsed().as_secs_f64())
}

/// Runs the demo; exit 0 when the remedy made the query succeed, 130 when interrupted.
pub fn run(cfg: DemoConfig) -> Result<i32> {
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "demo needs root: it makes a private mount namespace for a 64 MiB /dev/shm and \
             watches the server it starts"
        );
    }
    let bindir = server::find_bindir(cfg.bindir.as_deref())?;
    let mut scene = Scene {
        server: None,
        tracers: Vec::new(),
        started: Instant::now(),
        step: 0,
    };
    say(
        "pgstrace demo: a parallel query in a container runs out of /dev/shm; pgstrace says \
         why and what to change (a few seconds)",
    );
    let res = play(&mut scene, &cfg, bindir);
    if res.is_err()
        && let Some(s) = &mut scene.server
    {
        // --keep keeps a demo that played to its end; an interrupted or failed one goes.
        s.keep = false;
    }
    let kept = scene.server.as_ref().is_some_and(|s| s.keep);
    let dir = scene.server.as_ref().map(|s| s.dir.clone());
    let pm = scene.server.as_ref().map(|s| s.postmaster_pid());
    let total = secs(scene.started);
    drop(scene);
    match res {
        Ok(()) => {
            if kept {
                let dir = dir.unwrap_or_default();
                say(&format!(
                    "kept: the cluster runs on (postmaster {}), in its own mount namespace with \
                     its /dev/shm.\n  connect: psql -h {} -U postgres -d postgres\n  stop:    \
                     kill -INT {} (then rm -rf {})",
                    pm.unwrap_or(0),
                    dir.display(),
                    pm.unwrap_or(0),
                    dir.display()
                ));
            } else {
                say(&format!(
                    "done in {total}; cleaned up: server stopped, {} removed, the 64 MiB \
                     /dev/shm gone with its mount namespace",
                    dir.map(|d| d.display().to_string())
                        .unwrap_or_else(|| "its directory".into())
                ));
            }
            Ok(0)
        }
        Err(e) if e.is::<Interrupted>() => {
            say("interrupted: cleaned up (tracers detached, server stopped, directory removed)");
            Ok(130)
        }
        Err(e) => Err(e),
    }
}

fn play(scene: &mut Scene, cfg: &DemoConfig, bindir: PathBuf) -> Result<()> {
    let t = scene.step(&format!(
        "a /dev/shm of {SHM_MIB} MiB (Docker's default) in a private mount namespace"
    ));
    private_shm(SHM_MIB << 20)?;
    say(&format!("      done ({})", secs(t)));
    scene.check()?;

    let t = scene.step(&format!("initdb as {} in /tmp", cfg.user));
    let s = Server::create(bindir, &cfg.user, cfg.keep)?;
    say(&format!("      {}", s.dir.display()));
    scene.server = Some(s);
    let s = scene.server.as_ref().context("no server")?;
    s.initdb()?;
    say(&format!("      done ({})", secs(t)));
    scene.check()?;

    let t = scene.step("PostgreSQL on a unix socket only (no TCP)");
    let s = scene.server.as_mut().context("no server")?;
    s.start()?;
    let pm = s.postmaster_pid();
    let settings = server::SETTINGS
        .iter()
        .filter(|(k, _)| *k == "work_mem")
        .map(|(k, v)| format!("{k} = {}", v.trim_matches('\'')))
        .collect::<Vec<_>>()
        .join(", ");
    say(&format!(
        "      postmaster {pm}, {settings}, everything else as shipped ({})",
        secs(t)
    ));
    scene.check()?;

    let t = scene.step(&format!(
        "{} rows in each of two tables, generated in the server",
        crate::util::group(cfg.rows)
    ));
    let s = scene.server.as_ref().context("no server")?;
    let load = format!(
        "CREATE UNLOGGED TABLE a AS SELECT g AS id FROM generate_series(1, {n}) g; \
         CREATE UNLOGGED TABLE b AS SELECT g AS id FROM generate_series(1, {n}) g; \
         ANALYZE a; ANALYZE b;",
        n = cfg.rows
    );
    let o = s.psql(&load)?;
    if !o.ok {
        bail!("loading the tables failed: {}", o.stderr.trim());
    }
    say(&format!("      done ({})", secs(t)));
    scene.check()?;

    scene.step("pgstrace ps");
    let o = self_output(&["ps", "-w"])?;
    show(&o, "      ");
    scene.check()?;

    scene.step(
        "the query, while explain-shm --watch and a -k trace of fallocate watch (neither stops \
         the server)",
    );
    let dir = scene.server.as_ref().context("no server")?.dir.clone();
    let watch_out = dir.join("watch.txt");
    let trace_out = dir.join("trace.txt");
    say(&format!("      $ pgstrace explain-shm --watch -p {pm}"));
    let w = spawn_self(
        &["explain-shm", "--watch", "-p", &pm.to_string(), "-o"],
        &watch_out,
        &dir.join("watch.err"),
    )?;
    scene.tracers.push(w);
    say(&format!(
        "      $ pgstrace -f -k -e trace=fallocate -p {pm}"
    ));
    let k = spawn_self(
        &[
            "-f",
            "-k",
            "-e",
            "trace=fallocate",
            "-p",
            &pm.to_string(),
            "-o",
        ],
        &trace_out,
        &dir.join("trace.err"),
    )?;
    scene.tracers.push(k);
    wait_for(scene, &dir.join("watch.err"), "pgstrace: watching")?;
    wait_for(scene, &dir.join("trace.err"), "attached")?;
    say(&format!("      $ psql -c '{QUERY}'"));
    let t = Instant::now();
    let s = scene.server.as_ref().context("no server")?;
    let o = s.psql(QUERY)?;
    if o.ok {
        bail!(
            "the query succeeded ({}): /dev/shm was big enough after all",
            o.stdout.trim()
        );
    }
    say(&format!("      the server says ({}):", secs(t)));
    show(o.stderr.trim_end(), "        ");
    // The explanation follows the failure within milliseconds; wait until it is written.
    settle(scene, &watch_out, "ENOSPC")?;
    scene.stop_tracers();
    let trace = fs::read_to_string(&trace_out).unwrap_or_default();
    say("      the failing call and its stack (pgstrace -k):");
    match story::failing_call(&trace, 14) {
        Some(lines) => show(&lines, "        "),
        None => say("        (the trace has no failing fallocate)"),
    }
    let watch = fs::read_to_string(&watch_out).unwrap_or_default();
    say("      explain-shm --watch, at that moment:");
    match story::explanation(&watch) {
        Some(text) => show(&text, "        "),
        None => say("        (the watch caught no ENOSPC)"),
    }
    scene.check()?;

    scene.step("the remedy explain-shm ranks first, applied");
    let report = self_output(&["explain-shm", "--json", "-p", &pm.to_string()])?;
    let remedy = story::first_remedy(&report).context("explain-shm offered no remedy")?;
    say(&format!(
        "      explain-shm: {}",
        crate::util::escape(&remedy.text)
    ));
    apply(scene, &remedy)?;
    scene.check()?;

    let t = scene.step("the same query again");
    let s = scene.server.as_ref().context("no server")?;
    let o = s.psql(QUERY)?;
    if !o.ok {
        bail!(
            "the query still fails after the remedy: {}",
            o.stderr.trim()
        );
    }
    say(&format!(
        "      count = {}: it succeeds ({})",
        crate::util::escape(o.stdout.trim()),
        secs(t)
    ));
    Ok(())
}

/// Makes this process's mount namespace its own and mounts a tmpfs of `bytes` on /dev/shm.
/// Must run before any thread is started (CLONE_NEWNS unshares the filesystem context).
fn private_shm(bytes: u64) -> Result<()> {
    use nix::mount::{MsFlags, mount};
    use nix::sched::{CloneFlags, unshare};
    unshare(CloneFlags::CLONE_NEWNS).context("unshare(CLONE_NEWNS)")?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .context("making the mounts private")?;
    mount(
        Some("tmpfs"),
        "/dev/shm",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(format!("size={bytes},mode=1777").as_str()),
    )
    .context("mounting a tmpfs on /dev/shm")?;
    Ok(())
}

fn apply(scene: &mut Scene, r: &story::Remedy) -> Result<()> {
    let s = scene.server.as_ref().context("no server")?;
    match &r.action {
        story::Action::ResizeShm(bytes) => {
            let mib = bytes.div_ceil(1 << 20);
            say(&format!(
                "      here: mount -o remount,size={mib}m /dev/shm (the container's /dev/shm)"
            ));
            nix::mount::mount(
                None::<&str>,
                "/dev/shm",
                None::<&str>,
                nix::mount::MsFlags::MS_REMOUNT
                    | nix::mount::MsFlags::MS_NOSUID
                    | nix::mount::MsFlags::MS_NODEV,
                Some(format!("size={}", mib << 20).as_str()),
            )
            .context("remounting /dev/shm")?;
        }
        story::Action::Set(name, value) => {
            let sql = format!("ALTER SYSTEM SET {name} = '{}'", value.replace('\'', "''"));
            say(&format!("      here: {sql}; SELECT pg_reload_conf();"));
            let o = s.psql(&sql)?;
            if !o.ok {
                bail!("{sql}: {}", o.stderr.trim());
            }
            s.psql("SELECT pg_reload_conf()")?;
            // The postmaster rereads its files on the SIGHUP; a session forked before it has
            // would still have the old value.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let o = s.psql(&format!("SHOW {name}"))?;
                if o.stdout.trim().eq_ignore_ascii_case(value) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        story::Action::Remove(paths) => {
            for p in paths {
                say(&format!("      here: rm {}", crate::util::escape(p)));
                fs::remove_file(p).with_context(|| format!("rm {p}"))?;
            }
        }
    }
    Ok(())
}

/// This binary with `args`, its stdout captured (a subcommand as a user would run it).
fn self_output(args: &[&str]) -> Result<String> {
    let o = Command::new("/proc/self/exe")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running pgstrace {}", args.join(" ")))?;
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// This binary with `args` and `out` appended (its -o file), stderr to `err`.
fn spawn_self(args: &[&str], out: &Path, err: &Path) -> Result<Child> {
    let e = fs::File::create(err).with_context(|| format!("creating {}", err.display()))?;
    Command::new("/proc/self/exe")
        .args(args)
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(e)
        .spawn()
        .with_context(|| format!("running pgstrace {}", args.join(" ")))
}

/// Waits until `file` contains `what` (a tracer's attach line); fails with the file's text
/// when a tracer exits first.
fn wait_for(scene: &mut Scene, file: &Path, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = fs::read_to_string(file).unwrap_or_default();
        if text.contains(what) {
            return Ok(());
        }
        scene.check()?;
        for t in &mut scene.tracers {
            if let Ok(Some(st)) = t.try_wait() {
                bail!("a tracer exited ({st}): {}", text.trim());
            }
        }
        if Instant::now() > deadline {
            bail!("a tracer did not start in 30 s: {}", text.trim());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `file` holds `what` and then stops growing for a moment (at most 15 s).
fn settle(scene: &Scene, file: &Path, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = (0u64, Instant::now());
    loop {
        scene.check()?;
        let len = fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        if len != last.0 {
            last = (len, Instant::now());
        }
        let seen = fs::read_to_string(file).is_ok_and(|t| t.contains(what));
        if (seen && last.1.elapsed() > Duration::from_millis(400)) || Instant::now() > deadline {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
