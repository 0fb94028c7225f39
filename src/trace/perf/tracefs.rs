//! Tracepoint ids, read from tracefs (`events/GROUP/NAME/id`). Only read: nothing is
//! created there. When tracefs is not mounted, a child in its own mount namespace mounts it
//! privately, reads the ids and exits, so the host is left as it was.

use std::collections::HashMap;
use std::io::{self, Read, Write};

const MOUNTS: [&str; 2] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/// The ids of `names` (`"syscalls/sys_enter_openat"`); a name without a tracepoint is absent.
pub fn ids(names: &[String]) -> io::Result<HashMap<String, u64>> {
    for root in MOUNTS {
        if std::path::Path::new(root).join("events").is_dir() {
            return Ok(read_ids(root, names));
        }
    }
    private_mount_ids(names)
}

fn read_ids(root: &str, names: &[String]) -> HashMap<String, u64> {
    names
        .iter()
        .filter_map(|n| {
            let s = std::fs::read_to_string(format!("{root}/events/{n}/id")).ok()?;
            Some((n.clone(), s.trim().parse().ok()?))
        })
        .collect()
}

/// Mounts tracefs in a child's private mount namespace and reads the ids there.
fn private_mount_ids(names: &[String]) -> io::Result<HashMap<String, u64>> {
    let mut fds = [0; 2];
    // SAFETY: a plain pipe(2) into a local array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the child only makes syscalls, reads files and writes to the pipe, then
    // _exits; it touches no lock the parent may hold (no allocation before the reads,
    // which are done with memory prepared by the parent... except `read_ids`, which
    // allocates: acceptable because pgstrace is single-threaded here).
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(io::Error::last_os_error());
    }
    if child == 0 {
        let code = (|| -> Option<()> {
            // SAFETY: syscalls on constant C strings, in the child only.
            unsafe {
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    return None;
                }
                let root = c"/";
                if libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) != 0
                {
                    return None;
                }
                if libc::mount(
                    c"nodev".as_ptr(),
                    c"/sys/kernel/tracing".as_ptr(),
                    c"tracefs".as_ptr(),
                    0,
                    std::ptr::null(),
                ) != 0
                {
                    return None;
                }
            }
            let ids = read_ids(MOUNTS[0], names);
            let mut out = String::new();
            for (n, id) in ids {
                out.push_str(&format!("{n} {id}\n"));
            }
            // SAFETY: the write end of our pipe.
            let mut w = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
            w.write_all(out.as_bytes()).ok()
        })()
        .map_or(1, |_| 0);
        // SAFETY: leaving the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: closing our copy of the write end; reading the read end we own.
    unsafe { libc::close(fds[1]) };
    let mut r = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
    let mut text = String::new();
    let _ = r.read_to_string(&mut text);
    let mut status = 0;
    // SAFETY: reaping our own child.
    unsafe { libc::waitpid(child, &mut status, 0) };
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(io::Error::other(
            "tracefs is not mounted and could not be mounted privately \
             (mount -t tracefs nodev /sys/kernel/tracing)",
        ));
    }
    Ok(text
        .lines()
        .filter_map(|l| {
            let (n, id) = l.split_once(' ')?;
            Some((n.to_string(), id.parse().ok()?))
        })
        .collect())
}
