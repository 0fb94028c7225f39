//! x86-64 syscall numbers that code outside the decoders tests for, by name. Each is checked
//! against the table (`table::by_name`) in the tests below, so a typo cannot hide.

pub const READ: u64 = 0;
pub const WRITE: u64 = 1;
pub const MMAP: u64 = 9;
pub const MPROTECT: u64 = 10;
pub const MUNMAP: u64 = 11;
pub const BRK: u64 = 12;
pub const RT_SIGRETURN: u64 = 15;
pub const MREMAP: u64 = 25;
pub const RECVFROM: u64 = 45;
pub const EXECVE: u64 = 59;
pub const EXIT: u64 = 60;
pub const FTRUNCATE: u64 = 77;
pub const UNLINK: u64 = 87;
pub const RESTART_SYSCALL: u64 = 219;
pub const OPENAT: u64 = 257;
pub const EXIT_GROUP: u64 = 231;
pub const FALLOCATE: u64 = 285;
pub const EXECVEAT: u64 = 322;
pub const WAIT4: u64 = 61;
pub const WAITID: u64 = 247;

/// Calls that change a process's memory map: after one, a cached module list is stale.
pub const MEMORY_MAP_CHANGES: [u64; 5] = [MMAP, MPROTECT, MUNMAP, BRK, MREMAP];

#[cfg(test)]
mod tests {
    use super::super::table::by_name;
    use super::*;

    #[test]
    fn numbers_match_the_table() {
        for (nr, name) in [
            (READ, "read"),
            (WRITE, "write"),
            (MMAP, "mmap"),
            (MPROTECT, "mprotect"),
            (MUNMAP, "munmap"),
            (BRK, "brk"),
            (RT_SIGRETURN, "rt_sigreturn"),
            (MREMAP, "mremap"),
            (RECVFROM, "recvfrom"),
            (EXECVE, "execve"),
            (EXIT, "exit"),
            (EXIT_GROUP, "exit_group"),
            (FTRUNCATE, "ftruncate"),
            (UNLINK, "unlink"),
            (RESTART_SYSCALL, "restart_syscall"),
            (OPENAT, "openat"),
            (FALLOCATE, "fallocate"),
            (EXECVEAT, "execveat"),
        ] {
            assert_eq!(by_name(name), Some(nr), "{name}");
        }
    }
}
