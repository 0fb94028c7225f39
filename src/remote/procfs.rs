//! Small /proc readers: status fields, kernel-thread detection, threads.

use std::fs;

/// The fields of /proc/PID/status that matter to a tracer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    pub name: String,
    pub state: String,
    /// The thread group (the process) a thread belongs to.
    pub tgid: i32,
    pub ppid: i32,
    pub tracer_pid: i32,
    pub uid: u32,
    /// `CapPrm`: the permitted capabilities, as a bit set.
    pub cap_permitted: u64,
    /// `CapEff`: the effective capabilities.
    pub cap_effective: u64,
    /// `Seccomp`: 0 none, 1 strict, 2 filter; None on a kernel without the field.
    pub seccomp: Option<u8>,
    /// `NSpid`: the pid in each PID namespace, outermost first.
    pub ns_pids: Vec<i64>,
}

impl Status {
    /// A zombie (`Z`) or dead (`X`) task: exited, not yet reaped.
    pub fn is_zombie(&self) -> bool {
        self.state.starts_with('Z') || self.state.starts_with('X')
    }
}

/// The names of the capabilities in `bits`, lowercase as capabilities(7) writes them.
pub fn cap_names(bits: u64) -> Vec<String> {
    const NAMES: [&str; 41] = [
        "cap_chown",
        "cap_dac_override",
        "cap_dac_read_search",
        "cap_fowner",
        "cap_fsetid",
        "cap_kill",
        "cap_setgid",
        "cap_setuid",
        "cap_setpcap",
        "cap_linux_immutable",
        "cap_net_bind_service",
        "cap_net_broadcast",
        "cap_net_admin",
        "cap_net_raw",
        "cap_ipc_lock",
        "cap_ipc_owner",
        "cap_sys_module",
        "cap_sys_rawio",
        "cap_sys_chroot",
        "cap_sys_ptrace",
        "cap_sys_pacct",
        "cap_sys_admin",
        "cap_sys_boot",
        "cap_sys_nice",
        "cap_sys_resource",
        "cap_sys_time",
        "cap_sys_tty_config",
        "cap_mknod",
        "cap_lease",
        "cap_audit_write",
        "cap_audit_control",
        "cap_setfcap",
        "cap_mac_override",
        "cap_mac_admin",
        "cap_syslog",
        "cap_wake_alarm",
        "cap_block_suspend",
        "cap_audit_read",
        "cap_perfmon",
        "cap_bpf",
        "cap_checkpoint_restore",
    ];
    (0..64)
        .filter(|b| bits & (1u64 << b) != 0)
        .map(|b| {
            NAMES
                .get(b)
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("cap_{b}"))
        })
        .collect()
}

/// CAP_SYS_PTRACE's bit.
pub const CAP_SYS_PTRACE: u64 = 1 << 19;
/// CAP_SYS_ADMIN's bit.
pub const CAP_SYS_ADMIN: u64 = 1 << 21;
/// CAP_PERFMON's bit.
pub const CAP_PERFMON: u64 = 1 << 38;
/// CAP_BPF's bit.
pub const CAP_BPF: u64 = 1 << 39;

/// Parses the text of /proc/PID/status.
pub fn parse_status(text: &str) -> Status {
    let mut st = Status::default();
    for line in text.lines() {
        let Some((key, val)) = line.split_once(':') else {
            continue;
        };
        let val = val.trim();
        match key {
            "Name" => st.name = val.to_string(),
            "State" => st.state = val.to_string(),
            "PPid" => st.ppid = val.parse().unwrap_or(0),
            "Tgid" => st.tgid = val.parse().unwrap_or(0),
            "TracerPid" => st.tracer_pid = val.parse().unwrap_or(0),
            "CapPrm" => st.cap_permitted = u64::from_str_radix(val, 16).unwrap_or(0),
            "CapEff" => st.cap_effective = u64::from_str_radix(val, 16).unwrap_or(0),
            "Seccomp" => st.seccomp = val.parse().ok(),
            "NSpid" => {
                st.ns_pids = val
                    .split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            }
            "Uid" => {
                st.uid = val
                    .split_whitespace()
                    .next()
                    .and_then(|u| u.parse().ok())
                    .unwrap_or(0)
            }
            _ => {}
        }
    }
    st
}

pub fn status(pid: i32) -> std::io::Result<Status> {
    fs::read_to_string(format!("/proc/{pid}/status")).map(|t| parse_status(&t))
}

/// `pid`'s pid in its own PID namespace, when that namespace is not ours (a container's);
/// `None` in ours or when it cannot be read. One readlink each unless the namespaces differ.
pub fn ns_pid(pid: i32) -> Option<i32> {
    static OURS: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let ours = OURS
        .get_or_init(|| fs::read_link("/proc/self/ns/pid").ok())
        .as_ref()?;
    let theirs = fs::read_link(format!("/proc/{pid}/ns/pid")).ok()?;
    if *ours == theirs {
        return None;
    }
    let inner = *status(pid).ok()?.ns_pids.last()?;
    i32::try_from(inner).ok().filter(|&n| n != pid)
}

/// The flags field (9th) of /proc/PID/stat; the comm field may contain spaces and parens, so
/// fields are counted after the last `)`.
pub fn parse_stat_flags(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 1..];
    // After ")": state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9).
    rest.split_whitespace().nth(6)?.parse().ok()
}

const PF_KTHREAD: u64 = 0x0020_0000;

/// Whether `pid` is a kernel thread (which cannot be traced).
pub fn is_kernel_thread(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|t| parse_stat_flags(&t))
        .is_some_and(|f| f & PF_KTHREAD != 0)
}

/// The thread ids of process `pid` (from /proc/PID/task), the main thread first.
pub fn threads(pid: i32) -> Vec<i32> {
    let mut tids: Vec<i32> = fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    tids.sort_by_key(|&t| (t != pid, t));
    tids
}

/// The children of process `pid` (every thread's `children` file), sorted.
pub fn children(pid: i32) -> Vec<i32> {
    let mut out: Vec<i32> = threads(pid)
        .into_iter()
        .flat_map(|t| {
            fs::read_to_string(format!("/proc/{pid}/task/{t}/children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The short name (comm) of `pid`, or "?".
pub fn comm(pid: i32) -> String {
    comm_of(pid).unwrap_or_else(|| "?".to_string())
}

/// The short name (comm) of `pid`, if it (or its zombie) is still there.
pub fn comm_of(pid: i32) -> Option<String> {
    let b = fs::read(format!("/proc/{pid}/comm")).ok()?;
    let b = b.strip_suffix(b"\n").unwrap_or(&b);
    Some(String::from_utf8_lossy(b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields() {
        let st = parse_status(
            "Name:\tpostgres\nState:\tS (sleeping)\nPPid:\t1\nTracerPid:\t4242\nUid:\t101\t101\t101\t101\n",
        );
        assert_eq!(st.name, "postgres");
        assert_eq!(st.tracer_pid, 4242);
        assert_eq!(st.ppid, 1);
        assert_eq!(st.uid, 101);
        assert!(!st.is_zombie());
        assert_eq!(parse_status("garbage"), Status::default());
        let z = parse_status(
            "State:\tZ (zombie)\nCapPrm:\t000001ffffffffff\nCapEff:\t0000000000080000\n",
        );
        assert!(z.is_zombie());
        assert_eq!(z.cap_permitted, 0x1ff_ffff_ffff);
        assert_eq!(z.cap_effective, CAP_SYS_PTRACE);
        let ns = parse_status("Seccomp:\t2\nNSpid:\t4242\t1\n");
        assert_eq!(ns.seccomp, Some(2));
        assert_eq!(ns.ns_pids, [4242, 1]);
        assert_eq!(z.seccomp, None);
    }

    #[test]
    fn capability_names() {
        assert_eq!(cap_names(CAP_SYS_PTRACE), ["cap_sys_ptrace"]);
        assert_eq!(cap_names(1 << 24 | 1), ["cap_chown", "cap_sys_resource"]);
        assert_eq!(cap_names(1 << 50), ["cap_50"]);
    }

    #[test]
    fn stat_flags_after_odd_comm() {
        let line = "2 (kthr) (d)) S 0 0 0 0 -1 2129984 0 0";
        assert_eq!(parse_stat_flags(line), Some(2129984));
        assert_eq!(parse_stat_flags("nonsense"), None);
        assert!(!is_kernel_thread(std::process::id() as i32));
    }
}
