//! The reader's CPU priority. The kernel writes the records without waiting for us; what
//! the server feels of the trace beyond that is the reader's own work (decoding, printing)
//! taking CPU time the backends and their clients would have used. When every syscall is
//! traced that is most of the cost, so the reader yields: it runs at `SCHED_IDLE`, on CPU
//! time nothing else wants. It is raised to the normal policy when it wakes to a ring at
//! least half full (it is falling behind, records would be lost next) and lowered again once
//! it wakes to every ring less than an eighth full.

/// How the reader competes for the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReaderPriority {
    /// The normal policy throughout.
    Normal,
    /// `SCHED_BATCH` while it keeps up, normal while a ring fills.
    Yield,
}

/// Fill of the fullest ring at which a yielding reader is raised.
const RAISE: f64 = 0.5;
/// Fill below which a raised reader yields again.
const LOWER: f64 = 0.125;

/// The next policy for a reader that yields (`batch`) now and woke to `fill`: `Some(true)`
/// to yield, `Some(false)` to be raised, `None` to stay.
pub fn decide(batch: bool, fill: f64) -> Option<bool> {
    if batch && fill >= RAISE {
        Some(false)
    } else if !batch && fill < LOWER {
        Some(true)
    } else {
        None
    }
}

/// Sets the calling thread's policy; false when the kernel refused.
fn set_batch(batch: bool) -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    let policy = if batch {
        libc::SCHED_BATCH
    } else {
        libc::SCHED_OTHER
    };
    // SAFETY: changes only this thread's scheduling policy; `param` is a valid local.
    unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}

/// Applies [`decide`] to the reader thread; restores the normal policy when dropped.
pub struct Governor {
    enabled: bool,
    batch: bool,
}

impl Governor {
    pub fn new(p: ReaderPriority) -> Governor {
        let enabled = p == ReaderPriority::Yield;
        let batch = enabled && set_batch(true);
        Governor { enabled, batch }
    }

    /// At a wake, before reading: `fill` is the fullest ring's.
    pub fn observe(&mut self, fill: f64) {
        if !self.enabled {
            return;
        }
        if let Some(to) = decide(self.batch, fill)
            && set_batch(to)
        {
            self.batch = to;
        }
    }
}

impl Drop for Governor {
    fn drop(&mut self) {
        if self.batch {
            set_batch(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raised_when_half_full_and_lowered_when_nearly_empty() {
        assert_eq!(decide(true, 0.0), None);
        assert_eq!(decide(true, 0.49), None);
        assert_eq!(decide(true, 0.5), Some(false));
        assert_eq!(decide(false, 0.3), None);
        assert_eq!(decide(false, 0.125), None);
        assert_eq!(decide(false, 0.1), Some(true));
    }

    #[test]
    fn the_governor_changes_and_restores_this_thread() {
        let policy = || unsafe { libc::sched_getscheduler(0) };
        std::thread::spawn(move || {
            let mut g = Governor::new(ReaderPriority::Yield);
            assert_eq!(policy(), libc::SCHED_BATCH);
            g.observe(0.4);
            assert_eq!(policy(), libc::SCHED_BATCH);
            g.observe(0.9);
            assert_eq!(policy(), libc::SCHED_OTHER);
            g.observe(0.2);
            assert_eq!(policy(), libc::SCHED_OTHER);
            g.observe(0.01);
            assert_eq!(policy(), libc::SCHED_BATCH);
            drop(g);
            assert_eq!(policy(), libc::SCHED_OTHER);
            let _n = Governor::new(ReaderPriority::Normal);
            assert_eq!(policy(), libc::SCHED_OTHER);
        })
        .join()
        .unwrap_or_else(|_| panic!("the policy assertions failed on the thread"));
    }
}
