//! errno names and messages, including the kernel-internal restart codes.

/// `ENOSPC` for 28; `None` for numbers without a name.
pub fn name(errno: i64) -> Option<&'static str> {
    let _ = errno;
    None
}

/// `No space left on device` for 28; strace's texts for ERESTARTSYS and friends.
pub fn message(errno: i64) -> String {
    format!("Unknown error {errno}")
}

/// The number of errno `name`.
pub fn by_name(name: &str) -> Option<i64> {
    let _ = name;
    None
}
