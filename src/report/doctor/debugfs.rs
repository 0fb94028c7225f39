//! The scheduler tunables that moved to debugfs (`/sys/kernel/debug/sched`, 5.13 and later)
//! on a host where debugfs is not mounted: a child (this binary, `__debugfs-sched`) makes its
//! own mount namespace, mounts debugfs there, prints what it reads and exits, so that the
//! host's mounts are never touched and nothing is left mounted.

use std::process::{Command, Stdio};

pub const CHILD_ARG: &str = "__debugfs-sched";
const DIR: &str = "/sys/kernel/debug/sched";

/// The child: `name\tvalue` per one-line file of the sched directory; exit 0, or 1 with why
/// on stderr (no CAP_SYS_ADMIN, no debugfs in this kernel).
pub fn child_main() -> i32 {
    use nix::mount::{MsFlags, mount};
    use nix::sched::{CloneFlags, unshare};
    if let Err(e) = unshare(CloneFlags::CLONE_NEWNS) {
        eprintln!("unshare(CLONE_NEWNS): {e}");
        return 1;
    }
    // Our mounts must not propagate back to the host's namespace.
    if let Err(e) = mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    ) {
        eprintln!("making / private: {e}");
        return 1;
    }
    if let Err(e) = mount(
        Some("debugfs"),
        "/sys/kernel/debug",
        Some("debugfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY,
        None::<&str>,
    ) {
        eprintln!("mount -t debugfs: {e}");
        return 1;
    }
    let Ok(rd) = std::fs::read_dir(DIR) else {
        eprintln!("no {DIR} in this kernel");
        return 1;
    };
    let mut names: Vec<String> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    let (mut read, mut failed) = (0, None);
    for n in names {
        match std::fs::read_to_string(format!("{DIR}/{n}")) {
            Ok(v) => {
                let v = v.trim();
                if !v.contains('\n') && v.len() < 40 {
                    read += 1;
                    println!("{n}\t{v}");
                }
            }
            Err(e) => failed = failed.or(Some(format!("reading {DIR}/{n}: {e}"))),
        }
    }
    match failed {
        // Some kernels and sandboxes mount debugfs but refuse its files.
        Some(why) if read == 0 => {
            eprintln!("{why}");
            1
        }
        _ => 0,
    }
}

/// Parses the child's output into `(path, value)` as the tunables list holds them.
pub fn parse(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(n, _)| !n.is_empty() && !n.contains('/'))
        .map(|(n, v)| (format!("{DIR}/{n}"), v.to_string()))
        .collect()
}

/// Reads the tunables through the child when debugfs is not mounted here; `Err` says why
/// they cannot be had.
pub fn read() -> Result<Vec<(String, String)>, String> {
    let mut c = Command::new("/proc/self/exe");
    c.arg(CHILD_ARG)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = c
        .output()
        .map_err(|e| format!("running {CHILD_ARG}: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(parse(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parse() {
        let t =
            super::parse("base_slice_ns\t3000000\nmigration_cost_ns\t500000\nbad line\n/x\t1\n");
        assert_eq!(
            t,
            [
                (
                    "/sys/kernel/debug/sched/base_slice_ns".to_string(),
                    "3000000".to_string()
                ),
                (
                    "/sys/kernel/debug/sched/migration_cost_ns".to_string(),
                    "500000".to_string()
                )
            ]
        );
    }
}
