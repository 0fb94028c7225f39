//! Starting to trace: checks that refuse early with a clear reason, `PTRACE_SEIZE` of running
//! processes, and launching a command.

use super::{Engine, Handler};
use crate::remote::procfs;
use nix::errno::Errno;
use nix::sys::ptrace;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::ffi::CString;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("pid {0}: no such process")]
    NoSuchProcess(i32),
    #[error("pid {0} is pgstrace itself")]
    OurSelf(i32),
    #[error("pid {pid} ({comm}) is a kernel thread, which cannot be traced")]
    KernelThread { pid: i32, comm: String },
    #[error("pid {pid} ({comm}) is already traced by pid {tracer} ({tracer_comm})")]
    AlreadyTraced {
        pid: i32,
        comm: String,
        tracer: i32,
        tracer_comm: String,
    },
    #[error(
        "pid {pid} ({comm}): permission denied: tracing another user's process needs root or CAP_SYS_PTRACE"
    )]
    Permission { pid: i32, comm: String },
    #[error(
        "pid {pid} ({comm}) is a zombie: it has exited and waits for its parent to reap it; there is nothing to trace"
    )]
    Zombie { pid: i32, comm: String },
    #[error("pid {0}: the process exited while pgstrace was attaching to it")]
    ExitedDuringAttach(i32),
    #[error(
        "pid {pid} ({comm}): the kernel refused to trace it although pgstrace has CAP_SYS_PTRACE: it holds capabilities that pgstrace lacks ({missing}), as a container's init or a more privileged process does"
    )]
    MorePrivileged {
        pid: i32,
        comm: String,
        missing: String,
    },
    #[error(
        "pid {pid} ({comm}): the kernel refused to trace it although pgstrace has CAP_SYS_PTRACE: a security module (Yama's ptrace_scope, SELinux, AppArmor) forbids it"
    )]
    Refused { pid: i32, comm: String },
    #[error("pid {pid}: cannot attach: {errno}")]
    Other { pid: i32, errno: Errno },
    #[error("cannot find command '{0}' in PATH")]
    CommandNotFound(String),
    #[error("cannot launch '{cmd}': {errno}")]
    Launch { cmd: String, errno: Errno },
}

/// Everything that can be said about `pid` before touching it.
pub fn check(pid: i32) -> Result<(), AttachError> {
    if pid <= 0 || !Path::new(&format!("/proc/{pid}")).exists() {
        return Err(AttachError::NoSuchProcess(pid));
    }
    if pid == std::process::id() as i32 {
        return Err(AttachError::OurSelf(pid));
    }
    let comm = procfs::comm(pid);
    if procfs::is_kernel_thread(pid) {
        return Err(AttachError::KernelThread { pid, comm });
    }
    let st = procfs::status(pid).map_err(|_| AttachError::NoSuchProcess(pid))?;
    if st.is_zombie() {
        return Err(AttachError::Zombie { pid, comm });
    }
    if st.tracer_pid != 0 {
        return Err(AttachError::AlreadyTraced {
            pid,
            comm,
            tracer: st.tracer_pid,
            tracer_comm: procfs::comm(st.tracer_pid),
        });
    }
    Ok(())
}

/// PF_EXITING in /proc/PID/stat's flags: the task is on its way out.
const PF_EXITING: u64 = 0x4;

/// Whether `tid` is gone or going: no /proc entry, a zombie, or exiting.
fn vanishing(tid: i32) -> bool {
    let exiting = std::fs::read_to_string(format!("/proc/{tid}/stat"))
        .ok()
        .and_then(|t| procfs::parse_stat_flags(&t))
        .is_none_or(|f| f & PF_EXITING != 0);
    exiting || procfs::status(tid).map_or(true, |st| st.is_zombie())
}

/// Whether we trace `tid` already.
fn traced_by_us(tid: i32) -> bool {
    procfs::status(tid).is_ok_and(|st| st.tracer_pid == std::process::id() as i32)
}

/// Why a seize of `tid` (a thread of `pid`) failed with EPERM: the real reason, not a guess.
fn eperm_reason(tid: i32, pid: i32) -> AttachError {
    let comm = procfs::comm(pid);
    let Ok(st) = procfs::status(tid) else {
        return AttachError::ExitedDuringAttach(pid);
    };
    if st.tracer_pid != 0 {
        // A tracer raced us.
        return AttachError::AlreadyTraced {
            pid,
            comm,
            tracer: st.tracer_pid,
            tracer_comm: procfs::comm(st.tracer_pid),
        };
    }
    // `check` saw it alive: a zombie now, or exiting, means it exited meanwhile.
    if vanishing(tid) {
        return AttachError::ExitedDuringAttach(pid);
    }
    let me = procfs::status(std::process::id() as i32).unwrap_or_default();
    if me.cap_effective & procfs::CAP_SYS_PTRACE == 0 {
        return AttachError::Permission { pid, comm };
    }
    let missing = st.cap_permitted & !me.cap_permitted;
    if missing != 0 {
        return AttachError::MorePrivileged {
            pid,
            comm,
            missing: procfs::cap_names(missing).join(", "),
        };
    }
    // An exit that had not shown yet when we looked: give it a moment to show.
    std::thread::sleep(std::time::Duration::from_millis(20));
    if vanishing(tid) {
        return AttachError::ExitedDuringAttach(pid);
    }
    AttachError::Refused { pid, comm }
}

fn seize_one(engine: &Engine, tid: i32, pid: i32) -> Result<(), AttachError> {
    let p = Pid::from_raw(tid);
    ptrace::seize(p, engine.options()).map_err(|e| match e {
        Errno::ESRCH if tid == pid => AttachError::NoSuchProcess(pid),
        Errno::ESRCH => AttachError::ExitedDuringAttach(pid),
        Errno::EPERM => eperm_reason(tid, pid),
        errno => AttachError::Other { pid, errno },
    })?;
    // The first stop: a PTRACE_EVENT_STOP that the wait loop resumes into syscall tracing.
    let _ = ptrace::interrupt(p);
    crate::debugln!("{tid}: seized (options {:#x})", engine.options().bits());
    Ok(())
}

/// Seizes every process in `pids` (every thread of each under `-f`). All are checked before
/// any is touched; if one seize fails, those already seized are released before returning.
/// Threads come and go while we attach: one that vanishes is skipped, and the thread list is
/// read again until a reading finds no thread we have not seized (a thread created after
/// that is a clone child of a seized thread, and so traced anyway).
pub fn attach_all(
    engine: &mut Engine,
    pids: &[i32],
    h: &mut dyn Handler,
) -> Result<(), AttachError> {
    for &pid in pids {
        check(pid)?;
    }
    let mut seized = Vec::new();
    let release_all = |seized: &[i32]| {
        for &t in seized {
            release(t);
        }
    };
    for &pid in pids {
        if let Err(e) = seize_one(engine, pid, pid) {
            release_all(&seized);
            return Err(e);
        }
        seized.push(pid);
        if !engine.follow {
            continue;
        }
        // Threads seen and settled: seized, ours already (cloned by a seized thread, so
        // the engine registers them at their first stop), or gone.
        let mut known: Vec<i32> = vec![pid];
        loop {
            let new: Vec<i32> = procfs::threads(pid)
                .into_iter()
                .filter(|t| !known.contains(t))
                .collect();
            if new.is_empty() || super::interrupted() {
                break;
            }
            for tid in new {
                known.push(tid);
                match seize_one(engine, tid, pid) {
                    Ok(()) => seized.push(tid),
                    Err(_) if vanishing(tid) || traced_by_us(tid) => {}
                    Err(e) => {
                        release_all(&seized);
                        return Err(e);
                    }
                }
            }
        }
    }
    for tid in seized {
        engine.add_seized(tid, false, h);
    }
    Ok(())
}

/// Undo a seize from before the wait loop ran: wait for the interrupt stop, then detach.
fn release(tid: i32) {
    let mut status = 0;
    // SAFETY: waitpid/ptrace on our own tracee.
    unsafe {
        libc::waitpid(tid, &mut status, libc::__WALL);
        libc::ptrace(libc::PTRACE_DETACH, tid, 0, 0);
    }
}

/// Finds `cmd` as execvp would: as given when it contains a slash, else along PATH.
pub fn resolve_command(cmd: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if cmd.contains('/') {
        let p = PathBuf::from(cmd);
        return is_exec(&p).then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(cmd))
        .find(|p| is_exec(p))
}

/// How a launched command is started (strace's `-E`, `-u`, `--seccomp-bpf`).
#[derive(Clone, Debug, Default)]
pub struct LaunchOpts {
    /// `-E VAR=VAL` sets, `-E VAR` removes, in order.
    pub env: Vec<(String, Option<String>)>,
    /// `-u USER`: run as this user (uid, gid, supplementary groups).
    pub user: Option<(u32, u32, Vec<u32>)>,
    /// `--seccomp-bpf`: the filter the command installs after the tracer has seized it
    /// and before its execve (see [`super::seccomp`]).
    pub seccomp: Option<Vec<libc::sock_filter>>,
    /// `--argv0`: the command's argv[0] (the program is found by the command's name).
    pub argv0: Option<String>,
}

impl LaunchOpts {
    /// `-u NAME`: the user's ids and groups, looked up now (not in the child).
    pub fn user_named(name: &str) -> Result<(u32, u32, Vec<u32>), String> {
        let u = nix::unistd::User::from_name(name)
            .map_err(|e| format!("cannot look up user {name}: {e}"))?
            .ok_or_else(|| format!("cannot find user '{name}'"))?;
        let cname = CString::new(name).map_err(|_| format!("bad user name {name:?}"))?;
        let groups = nix::unistd::getgrouplist(&cname, u.gid)
            .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
            .unwrap_or_else(|_| vec![u.gid.as_raw()]);
        Ok((u.uid.as_raw(), u.gid.as_raw(), groups))
    }
}

/// Forks and execs `argv` under tracing. The child stops itself before exec so that it can be
/// seized; the engine hides everything it does until it calls execve.
pub fn launch(
    engine: &mut Engine,
    argv: &[String],
    h: &mut dyn Handler,
) -> Result<i32, AttachError> {
    launch_with(engine, argv, &LaunchOpts::default(), h)
}

/// A command ready to be executed in a child: everything allocated before the fork, so that
/// the child only makes async-signal-safe calls.
struct Prepared {
    path: CString,
    _args: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    _env: Vec<CString>,
    envp: Vec<*const libc::c_char>,
    user: Option<(u32, u32)>,
    groups: Vec<libc::gid_t>,
    _filter: Option<Vec<libc::sock_filter>>,
    fprog: Option<libc::sock_fprog>,
}

fn prepare(argv: &[String], opts: &LaunchOpts) -> Result<Prepared, AttachError> {
    let cmd = argv.first().cloned().unwrap_or_default();
    let path = resolve_command(&cmd).ok_or_else(|| AttachError::CommandNotFound(cmd.clone()))?;
    let bad = || AttachError::Launch {
        cmd: cmd.clone(),
        errno: Errno::EINVAL,
    };
    use std::os::unix::ffi::OsStrExt;
    let cpath = CString::new(path.as_os_str().as_bytes()).map_err(|_| bad())?;
    let cargs = argv
        .iter()
        .enumerate()
        .map(|(i, a)| match (i, &opts.argv0) {
            (0, Some(name)) => name,
            _ => a,
        })
        .map(|a| CString::new(a.as_bytes()).map_err(|_| bad()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut ptrs: Vec<*const libc::c_char> = cargs.iter().map(|c| c.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // The environment: ours, with -E's changes.
    let mut env: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os().collect();
    for (k, v) in &opts.env {
        env.retain(|(n, _)| n.as_bytes() != k.as_bytes());
        if let Some(v) = v {
            env.push((k.into(), v.into()));
        }
    }
    let cenv = env
        .iter()
        .map(|(k, v)| {
            let mut b = k.as_bytes().to_vec();
            b.push(b'=');
            b.extend_from_slice(v.as_bytes());
            CString::new(b).map_err(|_| bad())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut envp: Vec<*const libc::c_char> = cenv.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    let filter = opts.seccomp.clone();
    let fprog = filter.as_ref().map(|f| libc::sock_fprog {
        len: u16::try_from(f.len()).unwrap_or(u16::MAX),
        filter: f.as_ptr().cast_mut(),
    });
    Ok(Prepared {
        path: cpath,
        _args: cargs,
        argv: ptrs,
        _env: cenv,
        envp,
        user: opts.user.as_ref().map(|u| (u.0, u.1)),
        groups: opts.user.as_ref().map(|u| u.2.clone()).unwrap_or_default(),
        _filter: filter,
        fprog,
    })
}

/// In the process that becomes the command (a fresh child, or `-D`'s original process):
/// the signal dispositions it would have without us, `-u`, the stop that lets the tracer
/// seize it (`stop_first`), the seccomp filter, the execve. Never returns.
///
/// # Safety
/// Only async-signal-safe calls on memory prepared before the fork.
unsafe fn exec_prepared(p: &Prepared, stop_first: bool) -> ! {
    const NO_FILTER: &[u8] = b"pgstrace: --seccomp-bpf: the kernel refused the filter\n";
    // SAFETY: see the function's contract.
    unsafe {
        // Rust ignores SIGPIPE and we ignore SIGINT/SIGQUIT, and ignored signals survive exec.
        for sig in [libc::SIGPIPE, libc::SIGINT, libc::SIGQUIT] {
            libc::signal(sig, libc::SIG_DFL);
        }
        // -u: groups, then gid, then uid (each a plain syscall).
        if let Some((uid, gid)) = p.user
            && (libc::setgroups(p.groups.len(), p.groups.as_ptr()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0)
        {
            libc::_exit(126);
        }
        if stop_first {
            libc::raise(libc::SIGSTOP);
        }
        // Traced now: the filter goes in (with no_new_privs only if the kernel wants it,
        // that is without CAP_SYS_ADMIN, since it changes what setuid programs do).
        if let Some(prog) = &p.fprog {
            let install = || {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    prog as *const libc::sock_fprog,
                )
            };
            if install() != 0
                && (libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || install() != 0)
            {
                libc::write(2, NO_FILTER.as_ptr().cast(), NO_FILTER.len());
                libc::_exit(126);
            }
        }
        libc::execve(p.path.as_ptr(), p.argv.as_ptr(), p.envp.as_ptr());
        libc::_exit(127);
    }
}

/// Forks the command, stopped by SIGSTOP just before its execve (with `opts` applied): the
/// caller attaches its tracer, then sends SIGCONT.
pub fn spawn_stopped(argv: &[String], opts: &LaunchOpts) -> Result<i32, AttachError> {
    let cmd = argv.first().cloned().unwrap_or_default();
    let prepared = prepare(argv, opts)?;
    // SAFETY: the child only runs `exec_prepared`.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(AttachError::Launch {
            cmd,
            errno: Errno::last(),
        });
    }
    if child == 0 {
        // SAFETY: a fresh child of a single-threaded tracer.
        unsafe { exec_prepared(&prepared, true) }
    }
    let mut status = 0;
    // SAFETY: waiting for our own child to stop.
    unsafe {
        libc::waitpid(child, &mut status, libc::WUNTRACED);
    }
    Ok(child)
}

/// `-D`/`-DD`/`-DDD`: the tracer becomes a grandchild of this process, which becomes the
/// command, so that the command stays its caller's direct child (its parent waits for it,
/// sees its exit status and its signals). Returns in the grandchild, the tracer, with the
/// command's pid and the descriptor that lets it go on once seized (see
/// [`adopt_daemonized`]); in the original process it only returns on a failure before the
/// fork, and otherwise becomes the command (or exits 1 if the tracer could not seize it).
/// `level` 2 puts the tracer in its own process group, 3 in its own session.
pub fn daemonize(
    argv: &[String],
    opts: &LaunchOpts,
    level: u8,
) -> Result<(i32, std::os::fd::OwnedFd), AttachError> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let cmd = argv.first().cloned().unwrap_or_default();
    let prepared = prepare(argv, opts)?;
    let launch_err = |errno| AttachError::Launch {
        cmd: cmd.clone(),
        errno,
    };
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) into a local array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(launch_err(Errno::last()));
    }
    // SAFETY: the descriptors were just made and are owned here.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let original = std::process::id() as i32;
    // SAFETY: fork of a single-threaded process; the middle child only forks and exits.
    let middle = unsafe { libc::fork() };
    if middle < 0 {
        return Err(launch_err(Errno::last()));
    }
    if middle == 0 {
        // SAFETY: as above.
        let tracer = unsafe { libc::fork() };
        if tracer != 0 {
            // SAFETY: leaving at once, without running the parent's destructors.
            unsafe { libc::_exit(if tracer < 0 { 1 } else { 0 }) };
        }
        drop(rd);
        // SAFETY: setpgid/setsid on ourselves.
        unsafe {
            match level {
                2 => {
                    libc::setpgid(0, 0);
                }
                l if l >= 3 => {
                    libc::setsid();
                }
                _ => {}
            }
        }
        return Ok((original, wr));
    }
    drop(wr);
    // SAFETY: reaping the middle child, then waiting for the tracer's word; then becoming
    // the command (only async-signal-safe calls from here, as in a child).
    unsafe {
        libc::waitpid(middle, std::ptr::null_mut(), 0);
        let mut b = 0u8;
        loop {
            let n = libc::read(rd.as_raw_fd(), (&mut b as *mut u8).cast(), 1);
            if n == 1 {
                break;
            }
            if n < 0 && Errno::last() == Errno::EINTR {
                continue;
            }
            // The tracer died or could not seize us: it said why.
            libc::_exit(1);
        }
        exec_prepared(&prepared, false)
    }
}

/// `-D`, in the tracer: seizes the original process (waiting in [`daemonize`]) as a
/// launched command, then lets it go on to its execve.
pub fn adopt_daemonized(
    engine: &mut Engine,
    pid: i32,
    release: std::os::fd::OwnedFd,
    argv: &[String],
    h: &mut dyn Handler,
) -> Result<i32, AttachError> {
    use std::os::fd::AsRawFd;
    let p = Pid::from_raw(pid);
    if let Err(errno) = ptrace::seize(p, engine.options()) {
        return Err(AttachError::Launch {
            cmd: argv.first().cloned().unwrap_or_default(),
            errno,
        });
    }
    // A seized process runs on without syscall stops until its first stop is resumed:
    // interrupt it, so that its execve is seen.
    let _ = ptrace::interrupt(p);
    engine.add_seized(pid, true, h);
    // SAFETY: one byte into our end of the pipe.
    unsafe {
        libc::write(release.as_raw_fd(), b"g".as_ptr().cast(), 1);
    }
    Ok(pid)
}

/// [`launch`] with an environment changed and a user to run as.
pub fn launch_with(
    engine: &mut Engine,
    argv: &[String],
    opts: &LaunchOpts,
    h: &mut dyn Handler,
) -> Result<i32, AttachError> {
    let child = spawn_stopped(argv, opts)?;
    let cmd = argv.first().cloned().unwrap_or_default();
    let p = Pid::from_raw(child);
    if let Err(errno) = ptrace::seize(p, engine.options()) {
        let _ = kill(p, Signal::SIGKILL);
        return Err(AttachError::Launch { cmd, errno });
    }
    engine.add_seized(child, true, h);
    crate::debugln!(
        "{child}: launched {cmd:?}, seized (options {:#x})",
        engine.options().bits()
    );
    let _ = kill(p, Signal::SIGCONT);
    Ok(child)
}
