//! Signal names and `siginfo_t` decoding.

use super::Value;
use std::borrow::Cow;

/// `SIGUSR1` for 10, `SIGRT_1` for 35, `34` style numbers otherwise.
pub fn name(sig: i32) -> Cow<'static, str> {
    Cow::Owned(sig.to_string())
}

/// The number of signal `name` (`SIGUSR1`, `USR1`, `10`).
pub fn by_name(name: &str) -> Option<i32> {
    let _ = name;
    None
}

/// Decodes a raw `siginfo_t` (128 bytes, as `PTRACE_GETSIGINFO` fills it) into strace's
/// `{si_signo=SIGUSR1, si_code=SI_USER, si_pid=123, si_uid=0}`.
pub fn decode_siginfo(raw: &[u8; 128]) -> Value {
    let _ = raw;
    Value::Elided
}
