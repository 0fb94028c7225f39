//! The proc group's decoders, through the whole pipeline (entry, exit, strace text).

use super::*;
use crate::syscalls::decode::util::fake::{FakeTracee, assert_lines, le64, line};
use crate::syscalls::decode::util::render;

#[test]
fn kill_family() {
    let t = FakeTracee::default();
    assert_eq!(
        line("kill", [99999, 10, 0, 0, 0, 0], &t, -3, true),
        "kill(99999, SIGUSR1) = -3"
    );
    assert_eq!(
        line("tgkill", [14074, 14074, 19, 0, 0, 0], &t, 0, false),
        "tgkill(14074, 14074, SIGSTOP) = 0"
    );
    assert_eq!(
        line("tkill", [99999, 34, 0, 0, 0, 0], &t, 0, false),
        "tkill(99999, SIGRT_2) = 0"
    );
    assert_eq!(
        line("kill", [99999, 0, 0, 0, 0, 0], &t, 0, false),
        "kill(99999, 0) = 0"
    );
}

#[test]
fn rt_sigaction_forms() {
    let act = le64(&[
        0x55ca_5631_f279,
        0x0400_0000 | 0x1000_0000,
        0x7f24_79c9_9050,
        (1 << 11) | (1 << 13),
    ]);
    let old = le64(&[0, 0, 0, 0]);
    let t = FakeTracee::default().with(0x1000, &act).with(0x2000, &old);
    assert_eq!(
        line("rt_sigaction", [10, 0x1000, 0, 8, 0, 0], &t, 0, false),
        "rt_sigaction(SIGUSR1, {sa_handler=0x55ca5631f279, sa_mask=[USR2 ALRM], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f2479c99050}, NULL, 8) = 0"
    );
    let ign = le64(&[1, 0x0400_0000, 0x7f24_79c9_9050, 0]);
    let t = FakeTracee::default().with(0x1000, &ign).with(0x2000, &old);
    assert_eq!(
        line("rt_sigaction", [13, 0x1000, 0x2000, 8, 0, 0], &t, 0, false),
        "rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f2479c99050}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0"
    );
    let odd = le64(&[
        0x55ca_5631_f283,
        0xffff_ffff_8000_0000 | 0x4c00_0004,
        0x7f24_79c9_9050,
        0,
    ]);
    let t = FakeTracee::default().with(0x1000, &odd);
    assert_eq!(
        line("rt_sigaction", [12, 0x1000, 0, 8, 0, 0], &t, 0, false),
        "rt_sigaction(SIGUSR2, {sa_handler=0x55ca5631f283, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK|SA_NODEFER|SA_RESETHAND|SA_SIGINFO|0xffffffff00000000, sa_restorer=0x7f2479c99050}, NULL, 8) = 0"
    );
    let t = FakeTracee::default();
    assert_eq!(
        line("rt_sigaction", [2, 1, 2, 8, 0, 0], &t, -14, true),
        "rt_sigaction(SIGINT, 0x1, 0x2, 8) = -14"
    );
    let chld = le64(&[0, 0x0400_0003, 0, 0]);
    let t = FakeTracee::default().with(0x1000, &chld);
    assert_eq!(
        line("rt_sigaction", [17, 0x1000, 0, 8, 0, 0], &t, 0, false),
        "rt_sigaction(SIGCHLD, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=SA_RESTORER|SA_NOCLDSTOP|SA_NOCLDWAIT, sa_restorer=NULL}, NULL, 8) = 0"
    );
}

#[test]
fn rt_sigprocmask_forms() {
    let t = FakeTracee::default()
        .with(0x1000, &(1u64 << 9).to_le_bytes())
        .with(0x2000, &(!0u64).to_le_bytes())
        .with(0x3000, &((1u64 << 31) | (1 << 32)).to_le_bytes());
    assert_eq!(
        line("rt_sigprocmask", [0, 0x1000, 0, 8, 0, 0], &t, 0, false),
        "rt_sigprocmask(SIG_BLOCK, [USR1], NULL, 8) = 0"
    );
    assert_eq!(
        line("rt_sigprocmask", [0, 0x2000, 0x1000, 8, 0, 0], &t, 0, false),
        "rt_sigprocmask(SIG_BLOCK, ~[], [USR1], 8) = 0"
    );
    assert_eq!(
        line("rt_sigprocmask", [1, 0x3000, 0, 8, 0, 0], &t, 0, false),
        "rt_sigprocmask(SIG_UNBLOCK, [RTMIN RT_1], NULL, 8) = 0"
    );
    assert_eq!(
        line("rt_sigprocmask", [0, 0x1000, 0, 16, 0, 0], &t, -22, true),
        "rt_sigprocmask(SIG_BLOCK, 0x1000, NULL, 16) = -22"
    );
    assert_eq!(
        line("rt_sigprocmask", [5, 1, 8, 8, 0, 0], &t, -14, true),
        "rt_sigprocmask(0x5 /* SIG_??? */, 0x1, 0x8, 8) = -14"
    );
    assert_eq!(
        line("rt_sigsuspend", [0x3000, 8, 0, 0, 0, 0], &t, -514, true),
        "rt_sigsuspend([RTMIN RT_1], 8) = -514"
    );
}

#[test]
fn sigreturn_and_sigaltstack() {
    let mut frame = vec![0u8; 304];
    frame[296..304].copy_from_slice(&(1u64 << 9).to_le_bytes());
    let t = FakeTracee::default().with(0x7000, &frame);
    assert_eq!(
        render(&sigreturn_arg(&t, 0x7000, Default::default())),
        "{mask=[USR1]}"
    );
    assert_eq!(
        line("rt_sigreturn", [0; 6], &t, 0, false),
        "rt_sigreturn({mask=...}) = 0"
    );
    let mut ss = le64(&[0x55ca_8b72_12a0, 0, 65536]);
    ss.extend(le64(&[0, 2, 0]));
    let t = FakeTracee::default().with(0x1000, &ss);
    assert_eq!(
        line("sigaltstack", [0x1000, 0x1018, 0, 0, 0, 0], &t, 0, false),
        "sigaltstack({ss_sp=0x55ca8b7212a0, ss_flags=0, ss_size=65536}, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0"
    );
    assert_eq!(
        render(&restart_arg("read")),
        "<... resuming interrupted read ...>"
    );
}

#[test]
fn clone_forms() {
    let t = FakeTracee::default().with(0x5000, &12404u32.to_le_bytes());
    assert_eq!(
        line(
            "clone",
            [0x0120_0011, 0, 0, 0x7f24_79c5_aa10, 0, 0],
            &t,
            14071,
            false
        ),
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f2479c5aa10) = 14071"
    );
    assert_eq!(
        line(
            "clone",
            [0x0118_0011, 0, 0x5000, 0x7fff_5b8e_5dd8, 0x1234, 0],
            &t,
            12404,
            false
        ),
        "clone(child_stack=NULL, flags=CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_SETTID|SIGCHLD, parent_tid=[12404], tls=0x1234, child_tidptr=0x7fff5b8e5dd8) = 12404"
    );
    assert_eq!(
        line("clone", [0x4100, 0, 0, 0, 0, 0], &t, 12405, false),
        "clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK) = 12405"
    );
}

#[test]
fn clone3_forms() {
    let args = le64(&[0x4100, 0, 0, 0, 17, 0x7f24_79e3_f000, 0x9000, 0, 0, 0, 0]);
    let t = FakeTracee::default().with(0x1000, &args);
    assert_eq!(
        line("clone3", [0x1000, 88, 0, 0, 0, 0], &t, 14077, false),
        "clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f2479e3f000, stack_size=0x9000}, 88) = 14077"
    );
    let args = le64(&[
        0x003d_0f00,
        0,
        0x7f24_79c5_9990,
        0x7f24_79c5_9990,
        0,
        0x7f24_7945_9000,
        0x7f_ff80,
        0x7f24_79c5_96c0,
        0,
        0,
        0,
    ]);
    let t = FakeTracee::default()
        .with(0x1000, &args)
        .with(0x7f24_79c5_9990, &14076u32.to_le_bytes());
    assert_eq!(
        line("clone3", [0x1000, 88, 0, 0, 0, 0], &t, 14076, false),
        "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f2479c59990, parent_tid=0x7f2479c59990, exit_signal=0, stack=0x7f2479459000, stack_size=0x7fff80, tls=0x7f2479c596c0} => {parent_tid=[14076]}, 88) = 14076"
    );
}

/// A fake process image: strings at 0x1000.., a pointer array at 0x9000.
fn argv_tracee(args: &[&str], at: u64) -> FakeTracee {
    let mut t = FakeTracee::default();
    let mut ptrs = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let addr = 0x10_0000 + (i as u64) * 0x100;
        let mut b = a.as_bytes().to_vec();
        b.push(0);
        t = t.with(addr, &b);
        ptrs.push(addr);
    }
    ptrs.push(0);
    t.with(at, &le64(&ptrs))
}

#[test]
fn execve_forms() {
    let mut t = argv_tracee(&["/bin/true", "-l", "x y"], 0x9000);
    t = t.with(0x8000, b"/bin/true\0");
    assert_eq!(
        line("execve", [0x8000, 0x9000, 0, 0, 0, 0], &t, 0, false),
        "execve(\"/bin/true\", [\"/bin/true\", \"-l\", \"x y\"], NULL) = 0"
    );
    let names: Vec<String> = (0..39)
        .map(|i| {
            if i == 5 {
                "0123456789012345678901234567890123456789".to_string()
            } else {
                format!("a{i}")
            }
        })
        .collect();
    let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let mut t = argv_tracee(&refs, 0x9000);
    t = t
        .with(0x8000, b"/nonexist\0")
        .with(0xa000, &le64(&[1, 2, 0]));
    let want = "execve(\"/nonexist\", [\"a0\", \"a1\", \"a2\", \"a3\", \"a4\", \"01234567890123456789012345678901\"..., \"a6\", \"a7\", \"a8\", \"a9\", \"a10\", \"a11\", \"a12\", \"a13\", \"a14\", \"a15\", \"a16\", \"a17\", \"a18\", \"a19\", \"a20\", \"a21\", \"a22\", \"a23\", \"a24\", \"a25\", \"a26\", \"a27\", \"a28\", \"a29\", \"a30\", \"a31\", ...], 0xa000 /* 2 vars */) = -2";
    assert_eq!(
        line("execve", [0x8000, 0x9000, 0xa000, 0, 0, 0], &t, -2, true),
        want
    );
    assert_eq!(
        line("execve", [0x8000, 0, 0, 0, 0, 0], &t, -2, true),
        "execve(\"/nonexist\", NULL, NULL) = -2"
    );
    assert_eq!(
        line("execve", [0x8000, 1, 1, 0, 0, 0], &t, -2, true),
        "execve(\"/nonexist\", 0x1, 0x1) = -2"
    );
    let t = t.with(0x7000, b"\0");
    assert_eq!(
        line("execveat", [3, 0x7000, 0, 0xa000, 0x1000, 0], &t, -9, true),
        "execveat(3, \"\", NULL, 0xa000 /* 2 vars */, AT_EMPTY_PATH) = -9"
    );
}

#[test]
fn wait4_forms() {
    let t = FakeTracee::default()
        .with(0x1000, &0u32.to_le_bytes())
        .with(0x1010, &(3u32 << 8).to_le_bytes())
        .with(0x1020, &9u32.to_le_bytes())
        .with(0x1030, &0x137fu32.to_le_bytes())
        .with(0x2000, &le64(&[0, 85, 0, 0]));
    assert_eq!(
        line("wait4", [14071, 0x1000, 0, 0, 0, 0], &t, 14071, false),
        "wait4(14071, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 14071"
    );
    assert_eq!(
        line("wait4", [14072, 0x1010, 1, 0, 0, 0], &t, 0, false),
        "wait4(14072, 0x1010, WNOHANG, NULL) = 0"
    );
    assert_eq!(
        line(
            "wait4",
            [u64::MAX, 0x1010, 0x4000_0000, 0x2000, 0, 0],
            &t,
            14072,
            false
        ),
        "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], __WALL, {ru_utime={tv_sec=0, tv_usec=85}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 14072"
    );
    assert_eq!(
        line("wait4", [14073, 0x1020, 0, 0, 0, 0], &t, 14073, false),
        "wait4(14073, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 14073"
    );
    assert_eq!(
        line("wait4", [14074, 0x1030, 2, 0, 0, 0], &t, 14074, false),
        "wait4(14074, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, NULL) = 14074"
    );
    assert_eq!(
        line("wait4", [14074, 0x1030, 8, 0, 0, 0], &t, -10, true),
        "wait4(14074, 0x1030, WCONTINUED, NULL) = -10"
    );
}

#[test]
fn simple_process_calls() {
    let t = FakeTracee::default();
    assert_eq!(
        line("exit_group", [0; 6], &t, 0, false),
        "exit_group(0) = ?"
    );
    assert_eq!(
        line("exit", [7, 0, 0, 0, 0, 0], &t, 0, false),
        "exit(7) = ?"
    );
    assert_eq!(line("getpid", [0; 6], &t, 16991, false), "getpid() = 16991");
    assert_eq!(line("vfork", [0; 6], &t, 5, false), "vfork() = 5");
    assert_eq!(
        line(
            "set_robust_list",
            [0x7f24_79c5_aa20, 24, 0, 0, 0, 0],
            &t,
            0,
            false
        ),
        "set_robust_list(0x7f2479c5aa20, 24) = 0"
    );
    assert_eq!(
        line(
            "set_tid_address",
            [0x7f24_79c5_aa10, 0, 0, 0, 0, 0],
            &t,
            14070,
            false
        ),
        "set_tid_address(0x7f2479c5aa10) = 14070"
    );
    assert_eq!(
        line(
            "rseq",
            [0x7f24_79c5_b060, 0x20, 0, 0x5305_3053, 0, 0],
            &t,
            0,
            false
        ),
        "rseq(0x7f2479c5b060, 0x20, 0, 0x53053053) = 0"
    );
    assert_eq!(
        line(
            "arch_prctl",
            [0x1002, 0x7f24_79c5_a740, 0, 0, 0, 0],
            &t,
            0,
            false
        ),
        "arch_prctl(ARCH_SET_FS, 0x7f2479c5a740) = 0"
    );
    assert_eq!(
        line("arch_prctl", [0x1001, 0, 0, 0, 0, 0], &t, 0, false),
        "arch_prctl(ARCH_SET_GS, 0) = 0"
    );
    assert_eq!(
        line("arch_prctl", [0x1011, 0, 0, 0, 0, 0], &t, 1, false),
        "arch_prctl(ARCH_GET_CPUID) = 1"
    );
    assert_eq!(
        line("arch_prctl", [0x9999, 0, 0, 0, 0, 0], &t, -22, true),
        "arch_prctl(0x9999 /* ARCH_??? */, 0) = -22"
    );
    let t = t.with(0x1000, &0x7f52_08c3_9740u64.to_le_bytes());
    assert_eq!(
        line("arch_prctl", [0x1003, 0x1000, 0, 0, 0, 0], &t, 0, false),
        "arch_prctl(ARCH_GET_FS, [0x7f5208c39740]) = 0"
    );
    assert_eq!(line("setsid", [0; 6], &t, 16991, false), "setsid() = 16991");
    assert_eq!(line("setpgid", [0; 6], &t, -1, true), "setpgid(0, 0) = -1");
    assert_eq!(
        line("getpgid", [1, 0, 0, 0, 0, 0], &t, 0, false),
        "getpgid(1) = 0"
    );
    assert_eq!(
        line("umask", [0o22, 0, 0, 0, 0, 0], &t, 0o22, false),
        "umask(022) = 022"
    );
    assert_eq!(
        line("umask", [0o1777, 0, 0, 0, 0, 0], &t, 0, false),
        "umask(01777) = 000"
    );
    assert_eq!(
        line("sched_yield", [0; 6], &t, 0, false),
        "sched_yield() = 0"
    );
}

#[test]
fn rlimits() {
    let t = FakeTracee::default()
        .with(0x1000, &le64(&[8192 * 1024, u64::MAX]))
        .with(0x2000, &le64(&[1025, 2048]))
        .with(0x3000, &le64(&[1024, 1 << 20]))
        .with(0x4000, &le64(&[0, 0]));
    assert_eq!(
        line("prlimit64", [0, 3, 0, 0x1000, 0, 0], &t, 0, false),
        "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0"
    );
    assert_eq!(
        line("prlimit64", [0, 7, 0x1000, 0x4000, 0, 0], &t, -1, true),
        "prlimit64(0, RLIMIT_NOFILE, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}, 0x4000) = -1"
    );
    assert_eq!(
        line("prlimit64", [0, 99, 0, 0, 0, 0], &t, -22, true),
        "prlimit64(0, 0x63 /* RLIMIT_??? */, NULL, NULL) = -22"
    );
    assert_eq!(
        line("setrlimit", [7, 0x2000, 0, 0, 0, 0], &t, 0, false),
        "setrlimit(RLIMIT_NOFILE, {rlim_cur=1025, rlim_max=2*1024}) = 0"
    );
    assert_eq!(
        line("getrlimit", [7, 0x3000, 0, 0, 0, 0], &t, 0, false),
        "getrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=1024*1024}) = 0"
    );
    assert_eq!(
        line("getrlimit", [13, 0x4000, 0, 0, 0, 0], &t, 0, false),
        "getrlimit(RLIMIT_NICE, {rlim_cur=0, rlim_max=0}) = 0"
    );
}

#[test]
fn rusage_uname_sysinfo() {
    let mut uts = vec![0u8; 390];
    uts[..5].copy_from_slice(b"Linux");
    uts[65..67].copy_from_slice(b"vm");
    let mut si = le64(&[
        570,
        67552,
        40192,
        16352,
        25_276_063_744,
        22_775_492_608,
        9_142_272,
        6_791_168,
        0,
        0,
        136,
        0,
        0,
        1,
    ]);
    si.truncate(112);
    let t = FakeTracee::default()
        .with(0x1000, &le64(&[0, 800, 0, 0]))
        .with(0x2000, &uts)
        .with(0x3000, &si);
    assert_eq!(
        line("getrusage", [0, 0x1000, 0, 0, 0, 0], &t, 0, false),
        "getrusage(RUSAGE_SELF, {ru_utime={tv_sec=0, tv_usec=800}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 0"
    );
    assert_eq!(
        line("getrusage", [5, 0x1000, 0, 0, 0, 0], &t, -22, true),
        "getrusage(0x5 /* RUSAGE_??? */, 0x1000) = -22"
    );
    assert_eq!(
        line("getrusage", [u64::MAX, 0x1000, 0, 0, 0, 0], &t, 0, false),
        "getrusage(RUSAGE_CHILDREN, {ru_utime={tv_sec=0, tv_usec=800}, ru_stime={tv_sec=0, tv_usec=0}, ...}) = 0"
    );
    assert_eq!(
        line("uname", [0x2000, 0, 0, 0, 0, 0], &t, 0, false),
        "uname({sysname=\"Linux\", nodename=\"vm\", ...}) = 0"
    );
    assert_eq!(
        line("sysinfo", [0x3000, 0, 0, 0, 0, 0], &t, 0, false),
        "sysinfo({uptime=570, loads=[67552, 40192, 16352], totalram=25276063744, freeram=22775492608, sharedram=9142272, bufferram=6791168, totalswap=0, freeswap=0, procs=136, totalhigh=0, freehigh=0, mem_unit=1}) = 0"
    );
}

#[test]
fn futex_forms() {
    let ts = le64(&[0, 1000]);
    let t = FakeTracee::default().with(0x3000, &ts);
    let a = 0x7fff_1f43_6778u64;
    let b = 0x7fff_1f43_677cu64;
    let cases: &[([u64; 6], &str)] = &[
        (
            [a, 129, 1, 0, 0, 0],
            "futex(0x7fff1f436778, FUTEX_WAKE_PRIVATE, 1)",
        ),
        (
            [a, 128, 1, 0, 0, 0],
            "futex(0x7fff1f436778, FUTEX_WAIT_PRIVATE, 1, NULL)",
        ),
        (
            [a, 0, 0, 0x3000, 0, 0],
            "futex(0x7fff1f436778, FUTEX_WAIT, 0, {tv_sec=0, tv_nsec=1000})",
        ),
        (
            [a, 0x189, 0, 0x3000, 0, 0xffff_ffff],
            "futex(0x7fff1f436778, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000}, FUTEX_BITSET_MATCH_ANY)",
        ),
        (
            [a, 0x109, 14076, 0, 0, 0xffff_ffff],
            "futex(0x7fff1f436778, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 14076, NULL, FUTEX_BITSET_MATCH_ANY)",
        ),
        (
            [a, 0x89, 1, 0x3000, 0, 5],
            "futex(0x7fff1f436778, FUTEX_WAIT_BITSET_PRIVATE, 1, {tv_sec=0, tv_nsec=1000}, 0x5)",
        ),
        (
            [a, 0x8a, 1, 0, 0, 0xffff_ffff],
            "futex(0x7fff1f436778, FUTEX_WAKE_BITSET_PRIVATE, 1, FUTEX_BITSET_MATCH_ANY)",
        ),
        (
            [a, 0x83, 1, 2, b, 0],
            "futex(0x7fff1f436778, FUTEX_REQUEUE_PRIVATE, 1, 2, 0x7fff1f43677c)",
        ),
        (
            [a, 0x84, 1, 2, b, 0],
            "futex(0x7fff1f436778, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, 0x7fff1f43677c, 0)",
        ),
        (
            [a, 0x85, 1, 1, b, 0x0400_1000],
            "futex(0x7fff1f436778, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x7fff1f43677c, FUTEX_OP_SET<<28|0x1<<12|FUTEX_OP_CMP_GT<<24|0)",
        ),
        (
            [a, 0x86, 0, 0, 0, 0],
            "futex(0x7fff1f436778, FUTEX_LOCK_PI_PRIVATE, NULL)",
        ),
        ([a, 7, 0, 0, 0, 0], "futex(0x7fff1f436778, FUTEX_UNLOCK_PI)"),
        (
            [a, 8, 0, 0, 0, 0],
            "futex(0x7fff1f436778, FUTEX_TRYLOCK_PI)",
        ),
        (
            [a, 99, 0, 0, 0, 0],
            "futex(0x7fff1f436778, 0x63 /* FUTEX_??? */, 0, NULL, NULL, 0)",
        ),
        (
            [a, 0x8b, 1, 0x3000, b, 0],
            "futex(0x7fff1f436778, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 1, {tv_sec=0, tv_nsec=1000}, 0x7fff1f43677c)",
        ),
        (
            [a, 12, 1, 2, b, 0],
            "futex(0x7fff1f436778, FUTEX_CMP_REQUEUE_PI, 1, 2, 0x7fff1f43677c, 0)",
        ),
        (
            [a, 13, 0, 0x3000, 0, 0],
            "futex(0x7fff1f436778, FUTEX_LOCK_PI2, {tv_sec=0, tv_nsec=1000})",
        ),
        ([a, 2, 0, 0, 0, 0], "futex(0x7fff1f436778, FUTEX_FD, 0)"),
    ];
    for (raw, want) in cases {
        assert_eq!(line("futex", *raw, &t, 0, false), format!("{want} = 0"));
    }
}

#[test]
fn prctl_forms() {
    let t = FakeTracee::default()
        .with(0x1000, b"worker\0")
        .with(0x2000, &9u32.to_le_bytes())
        .with(0x3000, b"x\0");
    let cases: &[([u64; 6], i64, &str)] = &[
        (
            [15, 0x1000, 0, 0, 0, 0],
            0,
            "prctl(PR_SET_NAME, \"worker\") = 0",
        ),
        (
            [16, 0x1000, 0, 0, 0, 0],
            0,
            "prctl(PR_GET_NAME, \"worker\") = 0",
        ),
        (
            [1, 9, 0, 0, 0, 0],
            0,
            "prctl(PR_SET_PDEATHSIG, SIGKILL) = 0",
        ),
        ([1, 0, 0, 0, 0, 0], 0, "prctl(PR_SET_PDEATHSIG, 0) = 0"),
        (
            [2, 0x2000, 0, 0, 0, 0],
            0,
            "prctl(PR_GET_PDEATHSIG, [SIGKILL]) = 0",
        ),
        (
            [4, 1, 0, 0, 0, 0],
            0,
            "prctl(PR_SET_DUMPABLE, SUID_DUMP_USER) = 0",
        ),
        (
            [3, 0, 0, 0, 0, 0],
            1,
            "prctl(PR_GET_DUMPABLE) = 1 (SUID_DUMP_USER)",
        ),
        (
            [38, 1, 0, 0, 0, 0],
            0,
            "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0",
        ),
        (
            [36, 1, 0, 0, 0, 0],
            0,
            "prctl(PR_SET_CHILD_SUBREAPER, 1) = 0",
        ),
        (
            [29, 50000, 0, 0, 0, 0],
            0,
            "prctl(PR_SET_TIMERSLACK, 50000) = 0",
        ),
        (
            [23, 21, 0, 0, 0, 0],
            1,
            "prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) = 1",
        ),
        (
            [9999, 1, 2, 3, 4, 0],
            0,
            "prctl(0x270f /* PR_??? */, 0x1, 0x2, 0x3, 0x4) = 0",
        ),
        ([8, 1, 0, 0, 0, 0], 0, "prctl(PR_SET_KEEPCAPS, 1) = 0"),
        (
            [35, 8, 0x1000, 0, 0, 0],
            0,
            "prctl(PR_SET_MM, PR_SET_MM_ARG_START, 0x1000, 0, 0) = 0",
        ),
        (
            [0x5356_4d41, 0, 0x1000, 4096, 0x3000, 0],
            0,
            "prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, 0x1000, 4096, \"x\") = 0",
        ),
        ([21, 0, 0, 0, 0, 0], 0, "prctl(PR_GET_SECCOMP) = 0"),
    ];
    assert_lines(
        &t,
        cases
            .iter()
            .map(|&(raw, rv, want)| ("prctl", raw, rv, want)),
    );
}

#[test]
fn sysv_ipc() {
    let sb: Vec<u8> = [0u16, 1, 0, 1, (-1i16) as u16, 0x1800]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut ds = vec![0u8; 112];
    ds[20..24].copy_from_slice(&0o600u32.to_le_bytes());
    ds[48..56].copy_from_slice(&4096u64.to_le_bytes());
    for off in [56, 64, 72] {
        ds[off..off + 8].copy_from_slice(&1_795_759_819u64.to_le_bytes());
    }
    ds[80..84].copy_from_slice(&16991u32.to_le_bytes());
    ds[84..88].copy_from_slice(&16991u32.to_le_bytes());
    ds[88..96].copy_from_slice(&1u64.to_le_bytes());
    let t = FakeTracee::default().with(0x1000, &sb).with(0x2000, &ds);
    let cases: &[(&str, [u64; 6], i64, &str)] = &[
        (
            "shmget",
            [0, 4096, 0o1600, 0, 0, 0],
            16,
            "shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 16",
        ),
        (
            "shmget",
            [0x4d2, 100, 0o3644, 0, 0, 0],
            17,
            "shmget(0x4d2, 100, IPC_CREAT|IPC_EXCL|0644) = 17",
        ),
        (
            "shmget",
            [0x4d2, 100, 0, 0, 0, 0],
            17,
            "shmget(0x4d2, 100, 000) = 17",
        ),
        (
            "shmat",
            [16, 0, 0, 0, 0, 0],
            0x7f52_08e2_6000,
            "shmat(16, NULL, 0) = 0x7f5208e26000",
        ),
        (
            "shmat",
            [16, 0, 0o30000, 0, 0, 0],
            0x7f52_08e2_6000,
            "shmat(16, NULL, SHM_RDONLY|SHM_RND) = 0x7f5208e26000",
        ),
        (
            "shmdt",
            [0x7f52_08e2_6000, 0, 0, 0, 0, 0],
            0,
            "shmdt(0x7f5208e26000) = 0",
        ),
        (
            "shmctl",
            [16, 0, 0, 0, 0, 0],
            0,
            "shmctl(16, IPC_RMID, NULL) = 0",
        ),
        (
            "shmctl",
            [16, 2, 0x2000, 0, 0, 0],
            0,
            "shmctl(16, IPC_STAT, {shm_perm={uid=0, gid=0, mode=0600, key=0, cuid=0, cgid=0}, shm_segsz=4096, shm_cpid=16991, shm_lpid=16991, shm_nattch=1, shm_atime=1795759819, shm_dtime=1795759819, shm_ctime=1795759819}) = 0",
        ),
        (
            "semget",
            [0, 2, 0o1600, 0, 0, 0],
            0,
            "semget(IPC_PRIVATE, 2, IPC_CREAT|0600) = 0",
        ),
        (
            "semtimedop",
            [0, 0x1000, 1, 0, 0, 0],
            0,
            "semtimedop(0, [{sem_num=0, sem_op=1, sem_flg=0}], 1, NULL) = 0",
        ),
        (
            "semtimedop",
            [0, 0x1000, 2, 0, 0, 0],
            0,
            "semtimedop(0, [{sem_num=0, sem_op=1, sem_flg=0}, {sem_num=1, sem_op=-1, sem_flg=SEM_UNDO|IPC_NOWAIT}], 2, NULL) = 0",
        ),
        (
            "semctl",
            [0, 0, 0, 0, 0, 0],
            0,
            "semctl(0, 0, IPC_RMID, NULL) = 0",
        ),
    ];
    assert_lines(&t, cases.iter().copied());
}

#[test]
fn getrandom_prints_hex() {
    let bytes = [0x7d, 0xf4, 0xcc, 0xbe];
    let t = FakeTracee::default()
        .with(0x1000, &bytes)
        .with(0x2000, &[0xb2; 64]);
    assert_eq!(
        line("getrandom", [0x1000, 4, 0, 0, 0, 0], &t, 4, false),
        "getrandom(\"\\x7d\\xf4\\xcc\\xbe\", 4, 0) = 4"
    );
    let l = line("getrandom", [0x2000, 64, 4, 0, 0, 0], &t, 64, false);
    assert!(l.ends_with("\\xb2\"..., 64, GRND_INSECURE) = 64"), "{l}");
    assert_eq!(
        line("getrandom", [0x1000, 8, 3, 0, 0, 0], &t, -11, true),
        "getrandom(0x1000, 8, GRND_NONBLOCK|GRND_RANDOM) = -11"
    );
}

/// Every syscall these files decode (their match arms).
const PROC_NAMES: &[&str] = &[
    "kill",
    "tkill",
    "tgkill",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigsuspend",
    "rt_sigpending",
    "rt_sigreturn",
    "sigaltstack",
    "restart_syscall",
    "clone",
    "clone3",
    "fork",
    "vfork",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "setsid",
    "getpgrp",
    "sched_yield",
    "pause",
    "execve",
    "execveat",
    "wait4",
    "exit",
    "exit_group",
    "futex",
    "set_robust_list",
    "set_tid_address",
    "rseq",
    "arch_prctl",
    "prlimit64",
    "getrlimit",
    "setrlimit",
    "getrusage",
    "umask",
    "setpgid",
    "getpgid",
    "getsid",
    "uname",
    "sysinfo",
    "getrandom",
    "prctl",
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
];

/// Properties over every syscall number: the proc, net, time and poll decoders never panic,
/// whatever the registers and however little of the memory is readable.
#[cfg(test)]
mod prop_tests {
    use crate::syscalls::decode::util::fake::{arb_case, case_tracee, decode_nr};
    use crate::syscalls::{DecodeOpts, table};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// One random syscall number a case, with more cases and an independent error flag.
        #[test]
        fn decoders_never_panic(
            (regions, raw) in arb_case(),
            nr in 0u64..470,
            rval in prop_oneof![any::<i64>(), -4095i64..4096, 0i64..64],
            err in any::<bool>(),
            y in any::<bool>(),
            s in 0usize..64,
        ) {
            let t = case_tracee(&regions);
            let o = DecodeOpts { string_limit: s, decode_fds: y, fd_sockets: false, fd_devs: false, max_array: s, ..DecodeOpts::default() };
            decode_nr(&t, &o, nr, &raw, rval, err);
        }
    }

    /// Every syscall these groups decode exists in the table under the same name, so
    /// dispatch reaches the decoder.
    #[test]
    fn names_are_in_the_table() {
        let names = super::PROC_NAMES.iter().copied().chain([
            "gettimeofday",
            "settimeofday",
            "clock_gettime",
            "clock_getres",
            "clock_settime",
            "nanosleep",
            "clock_nanosleep",
            "setitimer",
            "getitimer",
            "alarm",
            "epoll_create",
            "epoll_create1",
            "epoll_ctl",
            "epoll_wait",
            "epoll_pwait",
            "epoll_pwait2",
            "poll",
            "ppoll",
            "select",
            "pselect6",
            "socket",
            "socketpair",
            "connect",
            "bind",
            "listen",
            "shutdown",
            "accept",
            "accept4",
            "getsockname",
            "getpeername",
            "sendto",
            "recvfrom",
            "sendmsg",
            "recvmsg",
            "setsockopt",
            "getsockopt",
        ]);
        for n in names {
            assert!(
                table::by_name(n).is_some(),
                "{n} is not in the syscall table"
            );
        }
    }
}

#[test]
fn credentials_and_personality() {
    let t = FakeTracee::default()
        .with(0x1000, &[0; 4])
        .with(0x2000, &[5, 0, 0, 0]);
    assert_lines(
        &t,
        [
            (
                "setresuid",
                [u64::MAX, 0xffff_ffff, 1000, 0, 0, 0],
                0,
                "setresuid(-1, -1, 1000) = 0",
            ),
            ("setfsgid", [0, 0, 0, 0, 0, 0], 2, "setfsgid(0) = 2"),
            (
                "getresgid",
                [0x1000, 0x2000, 0x1000, 0, 0, 0],
                0,
                "getresgid([0], [5], [0]) = 0",
            ),
            (
                "getresuid",
                [0x1000, 0x2000, 0x1000, 0, 0, 0],
                -14,
                "getresuid(0x1000, 0x2000, 0x1000) = -14",
            ),
            (
                "personality",
                [0x4_0000, 0, 0, 0, 0, 0],
                8,
                "personality(PER_LINUX|ADDR_NO_RANDOMIZE) = 0x8 (PER_LINUX32)",
            ),
            (
                "personality",
                [0xffff_ffff, 0, 0, 0, 0, 0],
                0,
                "personality(0xffffffff) = 0 (PER_LINUX)",
            ),
            (
                "personality",
                [0x1234_5678, 0, 0, 0, 0, 0],
                0,
                "personality(0x78 /* PER_??? */|ADDR_NO_RANDOMIZE|MMAP_PAGE_ZERO|ADDR_COMPAT_LAYOUT|WHOLE_SECONDS|0x10005600) = 0 (PER_LINUX)",
            ),
        ],
    );
    // Version 3: two words per set, the second the high half.
    let hdr = [0x22, 0x05, 0x08, 0x20, 0, 0, 0, 0];
    let mut data = [0u8; 24];
    data[0] = 0b101; // effective: CAP_CHOWN, CAP_DAC_READ_SEARCH
    data[12] = 0x80; // effective, high word: bit 39, CAP_BPF
    data[4] = 1; // permitted: CAP_CHOWN
    let t = FakeTracee::default().with(0x1000, &hdr).with(0x2000, &data);
    assert_eq!(
        line("capget", [0x1000, 0x2000, 0, 0, 0, 0], &t, 0, false),
        "capget({version=_LINUX_CAPABILITY_VERSION_3, pid=0}, {effective=1<<CAP_CHOWN|1<<CAP_DAC_READ_SEARCH|1<<CAP_BPF, permitted=1<<CAP_CHOWN, inheritable=0}) = 0"
    );
}

#[test]
fn scheduler_namespaces_numa_pidfds() {
    let words: Vec<u8> = [1u64, 0, 0x10]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let t = FakeTracee::default()
        .with(0x1000, &10i32.to_le_bytes())
        .with(0x2000, &words)
        .with(0x3000, &0x8002u32.to_le_bytes());
    assert_lines(
        &t,
        [
            (
                "sched_setscheduler",
                [0, 1, 0x1000, 0, 0, 0],
                0,
                "sched_setscheduler(0, SCHED_FIFO, [10]) = 0",
            ),
            (
                "sched_getscheduler",
                [0, 0, 0, 0, 0, 0],
                5,
                "sched_getscheduler(0) = 5 (SCHED_IDLE)",
            ),
            (
                "sched_getscheduler",
                [0, 0, 0, 0, 0, 0],
                0x4000_0000,
                "sched_getscheduler(0) = 1073741824",
            ),
            (
                "sched_get_priority_max",
                [77, 0, 0, 0, 0, 0],
                -22,
                "sched_get_priority_max(0x4d /* SCHED_??? */) = -22",
            ),
            (
                "getcpu",
                [0x1000, 0, 0, 0, 0, 0],
                0,
                "getcpu([10], NULL, NULL) = 0",
            ),
            (
                "unshare",
                [0x2_0400, 0, 0, 0, 0, 0],
                0,
                "unshare(CLONE_FILES|CLONE_NEWNS) = 0",
            ),
            (
                "unshare",
                [0x8000_0000, 0, 0, 0, 0, 0],
                -22,
                "unshare(0x80000000 /* CLONE_??? */) = -22",
            ),
            (
                "setns",
                [3, 0x4000_0000, 0, 0, 0, 0],
                0,
                "setns(3, CLONE_NEWNET) = 0",
            ),
            (
                "set_mempolicy",
                [2 | 0x8000, 0x2000, 130, 0, 0, 0],
                0,
                "set_mempolicy(MPOL_BIND|MPOL_F_STATIC_NODES, [0x00000000000001, 0000000000000000, 0x00000000000010], 130) = 0",
            ),
            (
                "set_mempolicy",
                [1, 0x2000, 1, 0, 0, 0],
                0,
                "set_mempolicy(MPOL_PREFERRED, 0x2000, 1) = 0",
            ),
            (
                "set_mempolicy",
                [1, 0x2000, 0, 0, 0, 0],
                0,
                "set_mempolicy(MPOL_PREFERRED, [], 0) = 0",
            ),
            (
                "set_mempolicy",
                [0x2006, 0, 0, 0, 0, 0],
                -22,
                "set_mempolicy(MPOL_F_NUMA_BALANCING|0x6, NULL, 0) = -22",
            ),
            (
                "get_mempolicy",
                [0x3000, 0x2000, 65, 0, 3, 0],
                0,
                "get_mempolicy([MPOL_BIND|MPOL_F_STATIC_NODES], [0x00000000000001], 65, NULL, MPOL_F_NODE|MPOL_F_ADDR) = 0",
            ),
            (
                "pidfd_open",
                [4242, 0o4000, 0, 0, 0, 0],
                5,
                "pidfd_open(4242, PIDFD_NONBLOCK) = 5",
            ),
            (
                "pidfd_send_signal",
                [5, 15, 0, 0, 0, 0],
                0,
                "pidfd_send_signal(5, SIGTERM, NULL, 0) = 0",
            ),
        ],
    );
}

#[test]
fn queued_signals_and_sched_attr() {
    // A SI_QUEUE siginfo: signo 10, code -1, pid 77, uid 0, value 42.
    let mut si = vec![0u8; 128];
    si[0..4].copy_from_slice(&10i32.to_le_bytes());
    si[8..12].copy_from_slice(&(-1i32).to_le_bytes());
    si[16..20].copy_from_slice(&77i32.to_le_bytes());
    si[24..32].copy_from_slice(&42u64.to_le_bytes());
    let mut attr = Vec::new();
    attr.extend(56u32.to_le_bytes());
    attr.extend(0u32.to_le_bytes());
    attr.extend(1u64.to_le_bytes());
    attr.extend((-5i32).to_le_bytes());
    attr.extend(0u32.to_le_bytes());
    attr.extend(le64(&[1_400_000, 0, 0]));
    attr.extend(0u32.to_le_bytes());
    attr.extend(1024u32.to_le_bytes());
    let t = FakeTracee::default()
        .with(0x1000, &si)
        .with(0x2000, &(1u64 << 9).to_le_bytes())
        .with(0x3000, &le64(&[0, 1000]))
        .with(0x4000, &attr);
    let info = "{si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=77, si_uid=0, si_int=42, si_ptr=0x2a}";
    assert_eq!(
        line("rt_sigqueueinfo", [77, 10, 0x1000, 0, 0, 0], &t, 0, false),
        format!("rt_sigqueueinfo(77, SIGUSR1, {info}) = 0")
    );
    assert_eq!(
        line(
            "rt_sigtimedwait",
            [0x2000, 0x1000, 0x3000, 8, 0, 0],
            &t,
            10,
            false
        ),
        format!("rt_sigtimedwait([USR1], {info}, {{tv_sec=0, tv_nsec=1000}}, 8) = 10 (SIGUSR1)")
    );
    assert_eq!(
        line(
            "rt_sigtimedwait",
            [0x2000, 0x1000, 0, 8, 0, 0],
            &t,
            -11,
            true
        ),
        "rt_sigtimedwait([USR1], 0x1000, NULL, 8) = -11"
    );
    assert_eq!(
        line("sched_getattr", [0, 0x4000, 56, 0, 0, 0], &t, 0, false),
        "sched_getattr(0, {size=56, sched_policy=SCHED_OTHER, \
         sched_flags=SCHED_FLAG_RESET_ON_FORK, sched_nice=-5, sched_priority=0, \
         sched_runtime=1400000, sched_deadline=0, sched_period=0, sched_util_min=0, \
         sched_util_max=1024}, 56, 0) = 0"
    );
    assert_eq!(
        line("sched_getattr", [0, 0x4000, 56, 0, 0, 0], &t, -22, true),
        "sched_getattr(0, 0x4000, 56, 0) = -22"
    );
}
