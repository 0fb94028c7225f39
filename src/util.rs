//! Small helpers every layer uses, each in one place: the wall clock, terminal escaping of
//! foreign bytes, sizes for humans.

use std::time::Duration;

/// Wall-clock time since the Unix epoch (CLOCK_REALTIME).
pub fn now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}
