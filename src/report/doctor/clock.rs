//! Whether time calls leave the vDSO, measured: a child (this binary, `__timecalls`) calls
//! `clock_gettime(CLOCK_MONOTONIC)`, `clock_gettime(CLOCK_REALTIME)` and `gettimeofday`
//! through libc, once traced to count the real syscalls they make, once untraced to time
//! them. The clocksource decides which: a clocksource the vDSO cannot read (xen, hpet,
//! acpi_pm) makes every call a syscall.

use crate::trace::count;
use std::process::Command;

/// The hidden first argument that makes pgstrace the measuring child.
pub const CHILD_ARG: &str = "__timecalls";

/// One time call's measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeCall {
    /// `clock_gettime(CLOCK_MONOTONIC)`, ...
    pub name: &'static str,
    /// Real syscalls per call (0 when the vDSO answers).
    pub syscalls_per_call: f64,
    /// Nanoseconds per call, untraced.
    pub ns_per_call: Option<f64>,
}

fn clock(id: libc::clockid_t) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out pointer.
    unsafe { libc::clock_gettime(id, &mut ts) };
    std::hint::black_box(ts);
}

fn timeofday() {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    // SAFETY: a valid out pointer; no timezone.
    unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) };
    std::hint::black_box(tv);
}

/// The calls measured, in the order [`per_call`] and the child's output give them.
const CALLS: [(&str, fn()); 3] = [
    ("clock_gettime(CLOCK_MONOTONIC)", || {
        clock(libc::CLOCK_MONOTONIC)
    }),
    ("clock_gettime(CLOCK_REALTIME)", || {
        clock(libc::CLOCK_REALTIME)
    }),
    ("gettimeofday", timeofday),
];

fn marker() {
    // SAFETY: no arguments, no effects.
    unsafe { libc::getppid() };
}

/// The child: `__timecalls count N` makes N of each call between two markers (nothing
/// else in between); `__timecalls time N` prints the nanoseconds per call of each.
pub fn child_main(args: &[String]) -> i32 {
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    match args.first().map(String::as_str) {
        Some("count") => {
            marker();
            for (_, f) in CALLS {
                for _ in 0..n {
                    f();
                }
            }
            marker();
            0
        }
        Some("time") => {
            let mut out = Vec::new();
            for (_, f) in CALLS {
                let t0 = std::time::Instant::now();
                for _ in 0..n {
                    f();
                }
                out.push(format!("{:.1}", t0.elapsed().as_nanos() as f64 / n as f64));
            }
            println!("{}", out.join(" "));
            0
        }
        _ => 2,
    }
}

fn self_command(args: &[&str]) -> Command {
    let mut c = Command::new("/proc/self/exe");
    c.arg(CHILD_ARG).args(args);
    c
}

/// Syscalls per call from a traced run's counts (each call made `n` times; the two
/// clock_gettime variants share a number).
pub fn per_call(by_nr: &std::collections::BTreeMap<u64, u64>, n: u64) -> [f64; 3] {
    let cg = *by_nr.get(&(libc::SYS_clock_gettime as u64)).unwrap_or(&0) as f64;
    let tod = *by_nr.get(&(libc::SYS_gettimeofday as u64)).unwrap_or(&0) as f64;
    let n = n.max(1) as f64;
    // clock_gettime's count is split evenly: the vDSO answers both clocks or neither
    // (they read the same clocksource).
    [cg / (2.0 * n), cg / (2.0 * n), tod / n]
}

/// Measures the three calls; an error says why it could not (no ptrace here, ...).
pub fn measure() -> Result<Vec<TimeCall>, String> {
    const N: u64 = 200;
    let counted = count::syscalls_between_markers(self_command(&["count", &N.to_string()]))
        .map_err(|e| format!("could not run the measuring child: {e}"))?;
    if counted.exit_code != Some(0) {
        return Err("the measuring child failed".into());
    }
    let per = per_call(&counted.by_nr, N);
    let times: Vec<f64> = self_command(&["time", "200000"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(CALLS
        .iter()
        .enumerate()
        .map(|(i, &(name, _))| TimeCall {
            name,
            syscalls_per_call: per[i],
            ns_per_call: times.get(i).copied(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_split_per_call() {
        let mut m = std::collections::BTreeMap::new();
        assert_eq!(per_call(&m, 200), [0.0, 0.0, 0.0]);
        m.insert(libc::SYS_clock_gettime as u64, 400);
        m.insert(libc::SYS_gettimeofday as u64, 200);
        assert_eq!(per_call(&m, 200), [1.0, 1.0, 1.0]);
    }
}
