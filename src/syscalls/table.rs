//! The x86-64 system call table: number, name, argument count and strace classes.
//!
//! Covers Linux 6.18: numbers 0..=335 and 424..=469. Names are the kernel's
//! (`asm/unistd_64.h`), which are also the names strace prints (`newfstatat`, `pread64`,
//! `_sysctl`, ...). `nargs` is the count in the kernel's `SYSCALL_DEFINEn`; for the
//! calls x86-64 never implemented (`getpmsg`, `tuxcall`, ...) it is strace's count.
//!
//! How the classes were established: for 0..=450 by running strace 6.1 itself. A probe
//! program installed a seccomp filter failing every call whose 6th argument was a
//! cookie with EPERM (so nothing ran), called every number, and was traced once per
//! class with `strace -e trace=%CLASS`; the names printed are the members. 451..=469
//! and 335 are unknown to strace 6.1 (it prints `syscall_0x1c3(...)`), so their classes
//! follow later strace releases. The test `classes_agree_with_strace` re-checks a
//! sample against the installed strace.

/// strace's `%class` sets, as bits.
pub mod class {
    pub const FILE: u32 = 1 << 0;
    pub const DESC: u32 = 1 << 1;
    pub const MEMORY: u32 = 1 << 2;
    pub const PROCESS: u32 = 1 << 3;
    pub const SIGNAL: u32 = 1 << 4;
    pub const IPC: u32 = 1 << 5;
    pub const NETWORK: u32 = 1 << 6;
    pub const CLOCK: u32 = 1 << 7;
    pub const CREDS: u32 = 1 << 8;
    pub const STAT: u32 = 1 << 9;
    pub const LSTAT: u32 = 1 << 10;
    pub const FSTAT: u32 = 1 << 11;
    pub const STATFS: u32 = 1 << 12;
    pub const FSTATFS: u32 = 1 << 13;
    pub const PURE: u32 = 1 << 14;
    /// `%%stat`: every stat variant. Not just the union of the three above in name
    /// only: it is its own set in strace.
    pub const STAT_LIKE: u32 = 1 << 15;
    /// `%%statfs`: statfs, fstatfs and also `ustat`, which is in neither of those.
    pub const STATFS_LIKE: u32 = 1 << 16;
}

/// The decoder group (a file under `syscalls/decode/`) that owns a syscall: where to look
/// for its decoder. `Raw` calls have none and print their arguments in hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// `decode/fs.rs`: files, descriptors, stat, xattrs, ...
    Fs,
    /// `decode/mem.rs`: mmap and the memory calls.
    Mem,
    /// `decode/proc/signal.rs`.
    Signal,
    /// `decode/proc/process.rs`.
    Process,
    /// `decode/proc/futex.rs`.
    Futex,
    /// `decode/proc/resource.rs`.
    Resource,
    /// `decode/proc/prctl.rs`.
    Prctl,
    /// `decode/proc/ipc.rs`: System V IPC.
    Ipc,
    /// `decode/time.rs`: clocks, timers, sleeps.
    Time,
    /// `decode/poll.rs`: poll, select, epoll.
    Poll,
    /// `decode/net.rs`: sockets.
    Net,
    /// `decode/proc/creds.rs`: set*id/get*id, capabilities, personality.
    Creds,
    /// `decode/admin.rs`: modules, kexec, quotas.
    Admin,
    /// `decode/proc/sched.rs`: scheduling, namespaces, NUMA policy, pidfds.
    Sched,
    /// `decode/xattr.rs`: extended attributes.
    Xattr,
    /// `decode/events.rs`: eventfd, inotify.
    Events,
    /// `decode/mount.rs`: mount, umount2, pivot_root, the mount API.
    Mount,
    /// `decode/kernel.rs`: membarrier, seccomp, landlock, fanotify, keys, AIO, io_uring.
    Kernel,
    /// `decode/misc.rs`: syslog, host names, swap, reboot, I/O priorities, kcmp, ...
    Misc,
    /// No decoder: the arguments in hex.
    Raw,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallInfo {
    pub name: &'static str,
    pub nargs: u8,
    pub classes: u32,
    pub group: Group,
}

use Group::*;
use class::*;

/// (number, name, nargs, classes, decoder group), ascending by number.
type Row = (u64, &'static str, u8, u32, Group);

#[rustfmt::skip]
static ROWS: &[Row] = &[
    (0, "read", 3, DESC, Fs),
    (1, "write", 3, DESC, Fs),
    (2, "open", 3, DESC | FILE, Fs),
    (3, "close", 1, DESC, Fs),
    (4, "stat", 2, FILE | STAT | STAT_LIKE, Fs),
    (5, "fstat", 2, DESC | FSTAT | STAT_LIKE, Fs),
    (6, "lstat", 2, FILE | LSTAT | STAT_LIKE, Fs),
    (7, "poll", 3, DESC, Poll),
    (8, "lseek", 3, DESC, Fs),
    (9, "mmap", 6, DESC | MEMORY, Mem),
    (10, "mprotect", 3, MEMORY, Mem),
    (11, "munmap", 2, MEMORY, Mem),
    (12, "brk", 1, MEMORY, Mem),
    (13, "rt_sigaction", 4, SIGNAL, Signal),
    (14, "rt_sigprocmask", 4, SIGNAL, Signal),
    (15, "rt_sigreturn", 0, SIGNAL, Signal),
    (16, "ioctl", 3, DESC, Fs),
    (17, "pread64", 4, DESC, Fs),
    (18, "pwrite64", 4, DESC, Fs),
    (19, "readv", 3, DESC, Fs),
    (20, "writev", 3, DESC, Fs),
    (21, "access", 2, FILE, Fs),
    (22, "pipe", 1, DESC, Fs),
    (23, "select", 5, DESC, Poll),
    (24, "sched_yield", 0, 0, Process),
    (25, "mremap", 5, MEMORY, Mem),
    (26, "msync", 3, MEMORY, Mem),
    (27, "mincore", 3, MEMORY, Mem),
    (28, "madvise", 3, MEMORY, Mem),
    (29, "shmget", 3, IPC, Ipc),
    (30, "shmat", 3, MEMORY | IPC, Ipc),
    (31, "shmctl", 3, IPC, Ipc),
    (32, "dup", 1, DESC, Fs),
    (33, "dup2", 2, DESC, Fs),
    (34, "pause", 0, SIGNAL, Process),
    (35, "nanosleep", 2, 0, Time),
    (36, "getitimer", 2, 0, Time),
    (37, "alarm", 1, 0, Time),
    (38, "setitimer", 3, 0, Time),
    (39, "getpid", 0, PURE, Process),
    (40, "sendfile", 4, DESC | NETWORK, Fs),
    (41, "socket", 3, NETWORK, Net),
    (42, "connect", 3, NETWORK, Net),
    (43, "accept", 3, NETWORK, Net),
    (44, "sendto", 6, NETWORK, Net),
    (45, "recvfrom", 6, NETWORK, Net),
    (46, "sendmsg", 3, NETWORK, Net),
    (47, "recvmsg", 3, NETWORK, Net),
    (48, "shutdown", 2, NETWORK, Net),
    (49, "bind", 3, NETWORK, Net),
    (50, "listen", 2, NETWORK, Net),
    (51, "getsockname", 3, NETWORK, Net),
    (52, "getpeername", 3, NETWORK, Net),
    (53, "socketpair", 4, NETWORK, Net),
    (54, "setsockopt", 5, NETWORK, Net),
    (55, "getsockopt", 5, NETWORK, Net),
    (56, "clone", 5, PROCESS, Process),
    (57, "fork", 0, PROCESS, Process),
    (58, "vfork", 0, PROCESS, Process),
    (59, "execve", 3, FILE | PROCESS, Process),
    (60, "exit", 1, PROCESS, Process),
    (61, "wait4", 4, PROCESS, Process),
    (62, "kill", 2, PROCESS | SIGNAL, Signal),
    (63, "uname", 1, 0, Resource),
    (64, "semget", 3, IPC, Ipc),
    (65, "semop", 3, IPC, Ipc),
    (66, "semctl", 4, IPC, Ipc),
    (67, "shmdt", 1, MEMORY | IPC, Ipc),
    (68, "msgget", 2, IPC, Ipc),
    (69, "msgsnd", 4, IPC, Ipc),
    (70, "msgrcv", 5, IPC, Ipc),
    (71, "msgctl", 3, IPC, Ipc),
    (72, "fcntl", 3, DESC, Fs),
    (73, "flock", 2, DESC, Fs),
    (74, "fsync", 1, DESC, Fs),
    (75, "fdatasync", 1, DESC, Fs),
    (76, "truncate", 2, FILE, Fs),
    (77, "ftruncate", 2, DESC, Fs),
    (78, "getdents", 3, DESC, Fs),
    (79, "getcwd", 2, FILE, Fs),
    (80, "chdir", 1, FILE, Fs),
    (81, "fchdir", 1, DESC, Fs),
    (82, "rename", 2, FILE, Fs),
    (83, "mkdir", 2, FILE, Fs),
    (84, "rmdir", 1, FILE, Fs),
    (85, "creat", 2, DESC | FILE, Fs),
    (86, "link", 2, FILE, Fs),
    (87, "unlink", 1, FILE, Fs),
    (88, "symlink", 2, FILE, Fs),
    (89, "readlink", 3, FILE, Fs),
    (90, "chmod", 2, FILE, Fs),
    (91, "fchmod", 2, DESC, Fs),
    (92, "chown", 3, FILE, Fs),
    (93, "fchown", 3, DESC, Fs),
    (94, "lchown", 3, FILE, Fs),
    (95, "umask", 1, 0, Process),
    (96, "gettimeofday", 2, CLOCK, Time),
    (97, "getrlimit", 2, 0, Resource),
    (98, "getrusage", 2, 0, Resource),
    (99, "sysinfo", 1, 0, Resource),
    (100, "times", 1, 0, Time),
    (101, "ptrace", 4, 0, Misc),
    (102, "getuid", 0, CREDS | PURE, Process),
    (103, "syslog", 3, 0, Misc),
    (104, "getgid", 0, CREDS | PURE, Process),
    (105, "setuid", 1, CREDS, Creds),
    (106, "setgid", 1, CREDS, Creds),
    (107, "geteuid", 0, CREDS | PURE, Process),
    (108, "getegid", 0, CREDS | PURE, Process),
    (109, "setpgid", 2, 0, Process),
    (110, "getppid", 0, PURE, Process),
    (111, "getpgrp", 0, PURE, Process),
    (112, "setsid", 0, 0, Process),
    (113, "setreuid", 2, CREDS, Creds),
    (114, "setregid", 2, CREDS, Creds),
    (115, "getgroups", 2, CREDS, Resource),
    (116, "setgroups", 2, CREDS, Resource),
    (117, "setresuid", 3, CREDS, Creds),
    (118, "getresuid", 3, CREDS, Creds),
    (119, "setresgid", 3, CREDS, Creds),
    (120, "getresgid", 3, CREDS, Creds),
    (121, "getpgid", 1, 0, Process),
    (122, "setfsuid", 1, CREDS, Creds),
    (123, "setfsgid", 1, CREDS, Creds),
    (124, "getsid", 1, 0, Process),
    (125, "capget", 2, CREDS, Creds),
    (126, "capset", 2, CREDS, Creds),
    (127, "rt_sigpending", 2, SIGNAL, Signal),
    (128, "rt_sigtimedwait", 4, SIGNAL, Signal),
    (129, "rt_sigqueueinfo", 3, PROCESS | SIGNAL, Signal),
    (130, "rt_sigsuspend", 2, SIGNAL, Signal),
    (131, "sigaltstack", 2, SIGNAL, Signal),
    (132, "utime", 2, FILE, Fs),
    (133, "mknod", 3, FILE, Fs),
    (134, "uselib", 1, FILE, Misc),
    (135, "personality", 1, 0, Creds),
    (136, "ustat", 2, STATFS_LIKE, Misc),
    (137, "statfs", 2, FILE | STATFS | STATFS_LIKE, Fs),
    (138, "fstatfs", 2, DESC | FSTATFS | STATFS_LIKE, Fs),
    (139, "sysfs", 3, 0, Raw),
    (140, "getpriority", 2, 0, Resource),
    (141, "setpriority", 3, 0, Resource),
    (142, "sched_setparam", 2, 0, Sched),
    (143, "sched_getparam", 2, 0, Sched),
    (144, "sched_setscheduler", 3, 0, Sched),
    (145, "sched_getscheduler", 1, 0, Sched),
    (146, "sched_get_priority_max", 1, 0, Sched),
    (147, "sched_get_priority_min", 1, 0, Sched),
    (148, "sched_rr_get_interval", 2, 0, Misc),
    (149, "mlock", 2, MEMORY, Mem),
    (150, "munlock", 2, MEMORY, Mem),
    (151, "mlockall", 1, MEMORY, Mem),
    (152, "munlockall", 0, MEMORY, Mem),
    (153, "vhangup", 0, 0, Raw),
    (154, "modify_ldt", 3, 0, Misc),
    (155, "pivot_root", 2, FILE, Mount),
    (156, "_sysctl", 1, 0, Raw),
    (157, "prctl", 5, CREDS, Prctl),
    (158, "arch_prctl", 2, 0, Prctl),
    (159, "adjtimex", 1, CLOCK, Misc),
    (160, "setrlimit", 2, 0, Resource),
    (161, "chroot", 1, FILE, Fs),
    (162, "sync", 0, 0, Fs),
    (163, "acct", 1, FILE, Misc),
    (164, "settimeofday", 2, CLOCK, Time),
    (165, "mount", 5, FILE, Mount),
    (166, "umount2", 2, FILE, Mount),
    (167, "swapon", 2, FILE, Misc),
    (168, "swapoff", 1, FILE, Misc),
    (169, "reboot", 4, 0, Misc),
    (170, "sethostname", 2, 0, Misc),
    (171, "setdomainname", 2, 0, Misc),
    (172, "iopl", 1, 0, Misc),
    (173, "ioperm", 3, 0, Misc),
    (174, "create_module", 2, 0, Raw),
    (175, "init_module", 3, 0, Admin),
    (176, "delete_module", 2, 0, Admin),
    (177, "get_kernel_syms", 1, 0, Raw),
    (178, "query_module", 5, 0, Raw),
    (179, "quotactl", 4, FILE, Admin),
    (180, "nfsservctl", 3, 0, Raw),
    (181, "getpmsg", 5, NETWORK, Raw),
    (182, "putpmsg", 5, NETWORK, Raw),
    (183, "afs_syscall", 5, 0, Raw),
    (184, "tuxcall", 3, 0, Raw),
    (185, "security", 3, 0, Raw),
    (186, "gettid", 0, PURE, Process),
    (187, "readahead", 3, DESC, Fs),
    (188, "setxattr", 5, FILE, Xattr),
    (189, "lsetxattr", 5, FILE, Xattr),
    (190, "fsetxattr", 5, DESC, Xattr),
    (191, "getxattr", 4, FILE, Xattr),
    (192, "lgetxattr", 4, FILE, Xattr),
    (193, "fgetxattr", 4, DESC, Xattr),
    (194, "listxattr", 3, FILE, Xattr),
    (195, "llistxattr", 3, FILE, Xattr),
    (196, "flistxattr", 3, DESC, Xattr),
    (197, "removexattr", 2, FILE, Xattr),
    (198, "lremovexattr", 2, FILE, Xattr),
    (199, "fremovexattr", 2, DESC, Xattr),
    (200, "tkill", 2, PROCESS | SIGNAL, Signal),
    (201, "time", 1, CLOCK, Time),
    (202, "futex", 6, 0, Futex),
    (203, "sched_setaffinity", 3, 0, Resource),
    (204, "sched_getaffinity", 3, 0, Resource),
    (205, "set_thread_area", 1, 0, Misc),
    (206, "io_setup", 2, MEMORY, Kernel),
    (207, "io_destroy", 1, MEMORY, Kernel),
    (208, "io_getevents", 5, 0, Kernel),
    (209, "io_submit", 3, 0, Kernel),
    (210, "io_cancel", 3, 0, Kernel),
    (211, "get_thread_area", 1, 0, Misc),
    (212, "lookup_dcookie", 3, 0, Raw),
    (213, "epoll_create", 1, DESC, Poll),
    (214, "epoll_ctl_old", 4, 0, Raw),
    (215, "epoll_wait_old", 4, 0, Raw),
    (216, "remap_file_pages", 5, MEMORY, Misc),
    (217, "getdents64", 3, DESC, Fs),
    (218, "set_tid_address", 1, 0, Futex),
    (219, "restart_syscall", 0, 0, Signal),
    (220, "semtimedop", 4, IPC, Ipc),
    (221, "fadvise64", 4, DESC, Fs),
    (222, "timer_create", 3, 0, Time),
    (223, "timer_settime", 4, 0, Time),
    (224, "timer_gettime", 2, 0, Time),
    (225, "timer_getoverrun", 1, 0, Time),
    (226, "timer_delete", 1, 0, Time),
    (227, "clock_settime", 2, CLOCK, Time),
    (228, "clock_gettime", 2, CLOCK, Time),
    (229, "clock_getres", 2, CLOCK, Time),
    (230, "clock_nanosleep", 4, 0, Time),
    (231, "exit_group", 1, PROCESS, Process),
    (232, "epoll_wait", 4, DESC, Poll),
    (233, "epoll_ctl", 4, DESC, Poll),
    (234, "tgkill", 3, PROCESS | SIGNAL, Signal),
    (235, "utimes", 2, FILE, Fs),
    (236, "vserver", 5, 0, Raw),
    (237, "mbind", 6, MEMORY, Sched),
    (238, "set_mempolicy", 3, MEMORY, Sched),
    (239, "get_mempolicy", 5, MEMORY, Sched),
    (240, "mq_open", 4, DESC, Ipc),
    (241, "mq_unlink", 1, 0, Ipc),
    (242, "mq_timedsend", 5, DESC, Ipc),
    (243, "mq_timedreceive", 5, DESC, Ipc),
    (244, "mq_notify", 2, DESC, Ipc),
    (245, "mq_getsetattr", 3, DESC, Ipc),
    (246, "kexec_load", 4, 0, Admin),
    (247, "waitid", 5, PROCESS, Process),
    (248, "add_key", 5, 0, Kernel),
    (249, "request_key", 4, 0, Kernel),
    (250, "keyctl", 5, 0, Kernel),
    (251, "ioprio_set", 3, 0, Misc),
    (252, "ioprio_get", 2, 0, Misc),
    (253, "inotify_init", 0, DESC, Events),
    (254, "inotify_add_watch", 3, DESC | FILE, Events),
    (255, "inotify_rm_watch", 2, DESC, Events),
    (256, "migrate_pages", 4, MEMORY, Sched),
    (257, "openat", 4, DESC | FILE, Fs),
    (258, "mkdirat", 3, DESC | FILE, Fs),
    (259, "mknodat", 4, DESC | FILE, Fs),
    (260, "fchownat", 5, DESC | FILE, Fs),
    (261, "futimesat", 3, DESC | FILE, Fs),
    (262, "newfstatat", 4, DESC | FILE | FSTAT | STAT_LIKE, Fs),
    (263, "unlinkat", 3, DESC | FILE, Fs),
    (264, "renameat", 4, DESC | FILE, Fs),
    (265, "linkat", 5, DESC | FILE, Fs),
    (266, "symlinkat", 3, DESC | FILE, Fs),
    (267, "readlinkat", 4, DESC | FILE, Fs),
    (268, "fchmodat", 3, DESC | FILE, Fs),
    (269, "faccessat", 3, DESC | FILE, Fs),
    (270, "pselect6", 6, DESC, Poll),
    (271, "ppoll", 5, DESC, Poll),
    (272, "unshare", 1, 0, Sched),
    (273, "set_robust_list", 2, 0, Futex),
    (274, "get_robust_list", 3, 0, Misc),
    (275, "splice", 6, DESC, Fs),
    (276, "tee", 4, DESC, Fs),
    (277, "sync_file_range", 4, DESC, Fs),
    (278, "vmsplice", 4, DESC, Fs),
    (279, "move_pages", 6, MEMORY, Sched),
    (280, "utimensat", 4, DESC | FILE, Fs),
    (281, "epoll_pwait", 6, DESC, Poll),
    (282, "signalfd", 3, DESC | SIGNAL, Signal),
    (283, "timerfd_create", 2, DESC, Time),
    (284, "eventfd", 1, DESC, Events),
    (285, "fallocate", 4, DESC, Fs),
    (286, "timerfd_settime", 4, DESC, Time),
    (287, "timerfd_gettime", 2, DESC, Time),
    (288, "accept4", 4, NETWORK, Net),
    (289, "signalfd4", 4, DESC | SIGNAL, Signal),
    (290, "eventfd2", 2, DESC, Events),
    (291, "epoll_create1", 1, DESC, Poll),
    (292, "dup3", 3, DESC, Fs),
    (293, "pipe2", 2, DESC, Fs),
    (294, "inotify_init1", 1, DESC, Events),
    (295, "preadv", 5, DESC, Fs),
    (296, "pwritev", 5, DESC, Fs),
    (297, "rt_tgsigqueueinfo", 4, PROCESS | SIGNAL, Signal),
    (298, "perf_event_open", 5, DESC, Kernel),
    (299, "recvmmsg", 5, NETWORK, Net),
    (300, "fanotify_init", 2, DESC, Kernel),
    (301, "fanotify_mark", 5, DESC | FILE, Kernel),
    (302, "prlimit64", 4, 0, Resource),
    (303, "name_to_handle_at", 5, DESC | FILE, Misc),
    (304, "open_by_handle_at", 3, DESC, Misc),
    (305, "clock_adjtime", 2, CLOCK, Misc),
    (306, "syncfs", 1, DESC, Fs),
    (307, "sendmmsg", 4, NETWORK, Net),
    (308, "setns", 2, DESC, Sched),
    (309, "getcpu", 3, 0, Sched),
    (310, "process_vm_readv", 6, 0, Fs),
    (311, "process_vm_writev", 6, 0, Fs),
    (312, "kcmp", 5, 0, Misc),
    (313, "finit_module", 3, DESC, Admin),
    (314, "sched_setattr", 3, 0, Sched),
    (315, "sched_getattr", 4, 0, Sched),
    (316, "renameat2", 5, DESC | FILE, Fs),
    (317, "seccomp", 3, 0, Kernel),
    (318, "getrandom", 3, 0, Resource),
    (319, "memfd_create", 2, DESC, Fs),
    (320, "kexec_file_load", 5, DESC, Admin),
    (321, "bpf", 3, DESC, Raw),
    (322, "execveat", 5, DESC | FILE | PROCESS, Process),
    (323, "userfaultfd", 1, DESC, Misc),
    (324, "membarrier", 3, 0, Kernel),
    (325, "mlock2", 3, MEMORY, Mem),
    (326, "copy_file_range", 6, DESC, Fs),
    (327, "preadv2", 6, DESC, Fs),
    (328, "pwritev2", 6, DESC, Fs),
    (329, "pkey_mprotect", 4, MEMORY, Mem),
    (330, "pkey_alloc", 2, 0, Misc),
    (331, "pkey_free", 1, 0, Misc),
    (332, "statx", 5, DESC | FILE | FSTAT | STAT_LIKE, Fs),
    (333, "io_pgetevents", 6, 0, Kernel),
    (334, "rseq", 4, 0, Futex),
    (335, "uretprobe", 0, 0, Raw),
    (424, "pidfd_send_signal", 4, DESC | PROCESS | SIGNAL, Sched),
    (425, "io_uring_setup", 2, DESC, Kernel),
    (426, "io_uring_enter", 6, DESC | SIGNAL, Kernel),
    (427, "io_uring_register", 4, DESC | MEMORY, Kernel),
    (428, "open_tree", 3, DESC | FILE, Mount),
    (429, "move_mount", 5, DESC | FILE, Mount),
    (430, "fsopen", 2, DESC, Mount),
    (431, "fsconfig", 5, DESC | FILE, Mount),
    (432, "fsmount", 3, DESC, Mount),
    (433, "fspick", 3, DESC | FILE, Mount),
    (434, "pidfd_open", 2, DESC, Sched),
    (435, "clone3", 2, PROCESS, Process),
    (436, "close_range", 3, 0, Fs),
    (437, "openat2", 4, DESC | FILE, Fs),
    (438, "pidfd_getfd", 3, DESC, Sched),
    (439, "faccessat2", 4, DESC | FILE, Fs),
    (440, "process_madvise", 5, DESC, Misc),
    (441, "epoll_pwait2", 6, DESC, Poll),
    (442, "mount_setattr", 5, DESC | FILE, Mount),
    (443, "quotactl_fd", 4, DESC, Admin),
    (444, "landlock_create_ruleset", 3, DESC, Kernel),
    (445, "landlock_add_rule", 4, DESC, Kernel),
    (446, "landlock_restrict_self", 2, DESC, Kernel),
    (447, "memfd_secret", 1, DESC, Misc),
    (448, "process_mrelease", 2, DESC, Misc),
    (449, "futex_waitv", 5, 0, Futex),
    (450, "set_mempolicy_home_node", 4, MEMORY, Sched),
    (451, "cachestat", 4, DESC, Raw),
    (452, "fchmodat2", 4, DESC | FILE, Raw),
    (453, "map_shadow_stack", 3, MEMORY, Raw),
    (454, "futex_wake", 4, 0, Raw),
    (455, "futex_wait", 6, 0, Raw),
    (456, "futex_requeue", 4, 0, Raw),
    (457, "statmount", 4, 0, Raw),
    (458, "listmount", 4, 0, Raw),
    (459, "lsm_get_self_attr", 4, 0, Raw),
    (460, "lsm_set_self_attr", 4, 0, Raw),
    (461, "lsm_list_modules", 3, 0, Raw),
    (462, "mseal", 3, MEMORY, Raw),
    (463, "setxattrat", 6, DESC | FILE, Raw),
    (464, "getxattrat", 6, DESC | FILE, Raw),
    (465, "listxattrat", 5, DESC | FILE, Raw),
    (466, "removexattrat", 4, DESC | FILE, Raw),
    (467, "open_tree_attr", 5, DESC | FILE, Raw),
    (468, "file_getattr", 5, DESC | FILE, Raw),
    (469, "file_setattr", 5, DESC | FILE, Raw),
];

/// One past the highest syscall number in the table.
const TABLE_LEN: usize = 470;

/// `ROWS` spread out by number for O(1) lookup. Built at compile time; the asserts
/// make a duplicate or out-of-order row a build error.
static TABLE: [Option<SyscallInfo>; TABLE_LEN] = build(ROWS);

const fn build(rows: &[Row]) -> [Option<SyscallInfo>; TABLE_LEN] {
    let mut table = [None; TABLE_LEN];
    let mut i = 0;
    while i < rows.len() {
        let (nr, name, nargs, classes, group) = rows[i];
        assert!(i == 0 || rows[i - 1].0 < nr, "rows must ascend by number");
        assert!(nargs <= 6, "at most six arguments");
        table[nr as usize] = Some(SyscallInfo {
            name,
            nargs,
            classes,
            group,
        });
        i += 1;
    }
    table
}

/// The entry for syscall number `nr`, if it has one.
pub fn lookup(nr: u64) -> Option<&'static SyscallInfo> {
    usize::try_from(nr)
        .ok()
        .and_then(|i| TABLE.get(i))
        .and_then(Option::as_ref)
}

/// The number of the syscall called `name`. A linear scan: it serves option parsing.
pub fn by_name(name: &str) -> Option<u64> {
    ROWS.iter().find(|r| r.1 == name).map(|r| r.0)
}

/// The class named `name` (without the `%`): `file`, `desc`, ... strace's `%%stat` and
/// `%%statfs` are `%stat` and `%statfs` here ([`class::STAT_LIKE`], [`class::STATFS_LIKE`]).
pub fn class_by_name(name: &str) -> Option<u32> {
    let bit = match name {
        "file" => FILE,
        "desc" => DESC,
        "memory" => MEMORY,
        "process" => PROCESS,
        "signal" => SIGNAL,
        "ipc" => IPC,
        "network" => NETWORK,
        "clock" => CLOCK,
        "creds" => CREDS,
        "stat" => STAT,
        "lstat" => LSTAT,
        "fstat" => FSTAT,
        "statfs" => STATFS,
        "fstatfs" => FSTATFS,
        "pure" => PURE,
        "%stat" => STAT_LIKE,
        "%statfs" => STATFS_LIKE,
        _ => return None,
    };
    Some(bit)
}

/// Every syscall number with an entry, ascending.
pub fn all() -> impl Iterator<Item = (u64, &'static SyscallInfo)> {
    (0u64..)
        .zip(TABLE.iter())
        .filter_map(|(nr, e)| e.as_ref().map(|info| (nr, info)))
}

/// Names of the i386 and x32 tables that x86-64's has not (`socketcall`, `stat64`, ...):
/// `-e trace=` takes them, as strace does, and they select nothing here (pgstrace traces
/// 64-bit tracees only). From the kernel's `asm/unistd_32.h` and `unistd_x32.h`.
pub const OTHER_PERSONALITY_NAMES: &[&str] = &[
    "_llseek",
    "_newselect",
    "bdflush",
    "break",
    "chown32",
    "clock_adjtime64",
    "clock_getres_time64",
    "clock_gettime64",
    "clock_nanosleep_time64",
    "clock_settime64",
    "fadvise64_64",
    "fchown32",
    "fcntl64",
    "fstat64",
    "fstatat64",
    "fstatfs64",
    "ftime",
    "ftruncate64",
    "futex_time64",
    "getegid32",
    "geteuid32",
    "getgid32",
    "getgroups32",
    "getresgid32",
    "getresuid32",
    "getuid32",
    "gtty",
    "idle",
    "io_pgetevents_time64",
    "ipc",
    "lchown32",
    "lock",
    "lstat64",
    "mmap2",
    "mpx",
    "mq_timedreceive_time64",
    "mq_timedsend_time64",
    "nice",
    "oldfstat",
    "oldlstat",
    "oldolduname",
    "oldstat",
    "olduname",
    "ppoll_time64",
    "prof",
    "profil",
    "pselect6_time64",
    "readdir",
    "recvmmsg_time64",
    "rt_sigtimedwait_time64",
    "sched_rr_get_interval_time64",
    "semtimedop_time64",
    "sendfile64",
    "setfsgid32",
    "setfsuid32",
    "setgid32",
    "setgroups32",
    "setregid32",
    "setresgid32",
    "setresuid32",
    "setreuid32",
    "setuid32",
    "sgetmask",
    "sigaction",
    "signal",
    "sigpending",
    "sigprocmask",
    "sigreturn",
    "sigsuspend",
    "socketcall",
    "ssetmask",
    "stat64",
    "statfs64",
    "stime",
    "stty",
    "timer_gettime64",
    "timer_settime64",
    "timerfd_gettime64",
    "timerfd_settime64",
    "truncate64",
    "ugetrlimit",
    "ulimit",
    "umount",
    "utimensat_time64",
    "vm86",
    "vm86old",
    "waitpid",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn nr(name: &str) -> u64 {
        by_name(name).unwrap_or_else(|| panic!("{name} missing"))
    }

    fn info(name: &str) -> &'static SyscallInfo {
        lookup(nr(name)).unwrap_or_else(|| panic!("{name} has no entry"))
    }

    #[test]
    fn numbers() {
        for (name, n) in [
            ("read", 0),
            ("mmap", 9),
            ("ftruncate", 77),
            ("gettimeofday", 96),
            ("restart_syscall", 219),
            ("clock_gettime", 228),
            ("exit_group", 231),
            ("openat", 257),
            ("newfstatat", 262),
            ("epoll_pwait", 281),
            ("fallocate", 285),
            ("statx", 332),
            ("rseq", 334),
            ("uretprobe", 335),
            ("pidfd_send_signal", 424),
            ("clone3", 435),
            ("set_mempolicy_home_node", 450),
            ("fchmodat2", 452),
            ("mseal", 462),
            ("file_setattr", 469),
        ] {
            assert_eq!(by_name(name), Some(n), "{name}");
            assert_eq!(lookup(n).map(|i| i.name), Some(name), "{n}");
        }
    }

    #[test]
    fn coverage_and_gaps() {
        for n in 0..=335u64 {
            assert!(lookup(n).is_some(), "{n}");
        }
        for n in 336..424u64 {
            assert!(lookup(n).is_none(), "{n}");
        }
        for n in 424..=469u64 {
            assert!(lookup(n).is_some(), "{n}");
        }
        for n in [470, 512, 1 << 32, u64::MAX] {
            assert!(lookup(n).is_none(), "{n}");
        }
        assert_eq!(all().count(), 336 + 46);
        assert!(all().map(|(n, _)| n).is_sorted());
        assert_eq!(by_name("syscall_0x1c3"), None);
        assert_eq!(by_name(""), None);
    }

    #[test]
    fn names_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for (n, info) in all() {
            assert!(seen.insert(info.name), "duplicate {}", info.name);
            assert_eq!(by_name(info.name), Some(n));
            assert!(info.nargs <= 6);
        }
    }

    #[test]
    fn nargs() {
        for (name, n) in [
            ("read", 3),
            ("mmap", 6),
            ("ftruncate", 2),
            ("fallocate", 4),
            ("openat", 4),
            ("gettimeofday", 2),
            ("clock_gettime", 2),
            ("exit_group", 1),
            ("getpid", 0),
            ("restart_syscall", 0),
            ("rt_sigreturn", 0),
            ("clone", 5),
            ("clone3", 2),
            ("futex", 6),
            ("epoll_pwait", 6),
            ("statx", 5),
            ("preadv", 5),
            ("preadv2", 6),
            ("pselect6", 6),
            ("uretprobe", 0),
            ("futex_wait", 6),
            ("listxattrat", 5),
        ] {
            assert_eq!(info(name).nargs, n, "{name}");
        }
    }

    #[test]
    fn classes() {
        for (name, bits) in [
            ("openat", DESC | FILE),
            ("open", DESC | FILE),
            ("read", DESC),
            ("write", DESC),
            ("ftruncate", DESC),
            ("fallocate", DESC),
            ("close", DESC),
            ("mmap", DESC | MEMORY),
            ("munmap", MEMORY),
            ("gettimeofday", CLOCK),
            ("clock_gettime", CLOCK),
            ("getpid", PURE),
            ("getuid", CREDS | PURE),
            ("prctl", CREDS),
            ("stat", FILE | STAT | STAT_LIKE),
            ("fstat", DESC | FSTAT | STAT_LIKE),
            ("newfstatat", DESC | FILE | FSTAT | STAT_LIKE),
            ("statx", DESC | FILE | FSTAT | STAT_LIKE),
            ("statfs", FILE | STATFS | STATFS_LIKE),
            ("fstatfs", DESC | FSTATFS | STATFS_LIKE),
            ("ustat", STATFS_LIKE),
            ("exit_group", PROCESS),
            ("kill", PROCESS | SIGNAL),
            ("rt_sigaction", SIGNAL),
            ("shmget", IPC),
            ("shmat", IPC | MEMORY),
            ("sendfile", DESC | NETWORK),
            ("epoll_pwait", DESC),
            ("execve", FILE | PROCESS),
            ("restart_syscall", 0),
            ("close_range", 0),
            ("futex", 0),
            ("fchmodat2", DESC | FILE),
        ] {
            assert_eq!(info(name).classes, bits, "{name}");
        }
    }

    #[test]
    fn class_names() {
        assert_eq!(class_by_name("file"), Some(FILE));
        assert_eq!(class_by_name("desc"), Some(DESC));
        assert_eq!(class_by_name("pure"), Some(PURE));
        assert_eq!(class_by_name("stat"), Some(STAT));
        assert_eq!(class_by_name("%stat"), Some(STAT_LIKE));
        assert_eq!(class_by_name("%statfs"), Some(STATFS_LIKE));
        assert_eq!(class_by_name("%file"), None);
        assert_eq!(class_by_name("bogus"), None);
        let members = |c| all().filter(move |(_, i)| i.classes & c != 0).count();
        // Sizes observed with strace 6.1 (0..=450) plus the newer calls.
        assert_eq!(members(STAT_LIKE), 5);
        assert_eq!(members(STATFS_LIKE), 3);
        assert_eq!(members(PURE), 8);
        assert_eq!(members(CLOCK), 8);
    }

    /// Runs the installed strace on /bin/true once per class and checks, for every
    /// syscall seen, that strace prints it under `%class` exactly when the table says
    /// it belongs. Skipped (passes) when strace or /bin/true is missing.
    #[test]
    fn classes_agree_with_strace() {
        use std::process::Command;
        let run = |filter: &str| -> Option<HashSet<String>> {
            let out = Command::new("strace")
                .args(["-qq", "-e", "signal=none", "-e"])
                .arg(format!("trace={filter}"))
                .arg("/bin/true")
                .output()
                .ok()?;
            if !out.status.success() {
                return None;
            }
            let text = String::from_utf8_lossy(&out.stderr);
            Some(
                text.lines()
                    .filter_map(|l| l.split_once('(').map(|(n, _)| n.to_string()))
                    .filter(|n| !n.starts_with("syscall_"))
                    .collect(),
            )
        };
        let Some(seen) = run("all") else {
            eprintln!("strace not usable here; skipping");
            return;
        };
        assert!(seen.contains("execve"), "{seen:?}");
        for cname in [
            "file", "desc", "memory", "process", "signal", "creds", "fstat", "pure",
        ] {
            let Some(bit) = class_by_name(cname) else {
                panic!("{cname}")
            };
            let Some(got) = run(&format!("%{cname}")) else {
                panic!("strace -e trace=%{cname} failed")
            };
            for name in &seen {
                let Some(n) = by_name(name) else { continue };
                let want = lookup(n).is_some_and(|i| i.classes & bit != 0);
                assert_eq!(got.contains(name), want, "{name} in %{cname}");
            }
        }
    }
}
