//! The x86-64 system call table: number, name, argument count and strace classes.

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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallInfo {
    pub name: &'static str,
    pub nargs: u8,
    pub classes: u32,
}

/// The entry for syscall number `nr`, if it has one.
pub fn lookup(nr: u64) -> Option<&'static SyscallInfo> {
    let _ = nr;
    None
}

/// The number of the syscall called `name`.
pub fn by_name(name: &str) -> Option<u64> {
    let _ = name;
    None
}

/// The class named `name` (without the `%`): `file`, `desc`, ...
pub fn class_by_name(name: &str) -> Option<u32> {
    let _ = name;
    None
}

/// Every syscall number with an entry, ascending.
pub fn all() -> impl Iterator<Item = (u64, &'static SyscallInfo)> {
    std::iter::empty()
}
