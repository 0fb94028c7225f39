//! Per-tracee syscall state: the call in flight between its entry and exit events, the call
//! a `restart_syscall` resumes, and which status class (`-e status=`) an exit falls in.

use crate::event::{StackFrame, Timestamp};
use crate::filter::status;
use crate::syscalls::decode::Entry;
use crate::syscalls::nr;

/// The errno of a call interrupted by a signal and resumed through `restart_syscall`.
const ERESTART_RESTARTBLOCK: i64 = 516;
/// The kernel's internal restart errnos (ERESTARTSYS..ERESTART_RESTARTBLOCK and the like),
/// which strace counts as "unavailable".
const RESTART_ERRNOS: std::ops::RangeInclusive<i64> = 512..=530;

/// A syscall between its entry and its exit.
pub struct Pending {
    pub nr: u64,
    pub time: Timestamp,
    /// The argument registers.
    pub args: [u64; 6],
    /// `None` when the syscall is not traced (it is not decoded at all).
    pub entry: Option<Entry>,
    /// Whether the entry event went to the printers (it is held back under `-e status=`).
    pub emitted: bool,
    /// `-k`: the stack at entry, resolved after the resume.
    pub stack: Vec<StackFrame>,
    /// `-i`: the instruction pointer at the entry.
    pub ip: u64,
    /// `-P`: the arguments at entry named a traced path (a descriptor's path is asked
    /// while it is still open: `close` has none at its exit).
    pub touches: bool,
    /// Something on the entry's line was read from the live process after the event (a
    /// kernel-side source's `-y` path).
    pub late: bool,
}

#[derive(Default)]
pub struct CallState {
    pub pending: Option<Pending>,
    /// The syscall that returned ERESTART_RESTARTBLOCK, for `restart_syscall(<... resuming
    /// interrupted NAME ...>)`.
    pub interrupted: Option<u64>,
}

impl CallState {
    /// Records what an exit means for a later `restart_syscall`.
    pub fn note_exit(&mut self, nr_: u64, rval: i64, is_error: bool) {
        if is_error && -rval == ERESTART_RESTARTBLOCK {
            if nr_ != nr::RESTART_SYSCALL {
                self.interrupted = Some(nr_);
            }
        } else if nr_ == nr::RESTART_SYSCALL {
            self.interrupted = None;
        }
    }
}

/// The `-e status=` class of an exit.
pub fn status_bit(rval: i64, is_error: bool) -> u8 {
    if is_error && RESTART_ERRNOS.contains(&-rval) {
        status::UNAVAILABLE
    } else if is_error {
        status::FAILED
    } else {
        status::SUCCESSFUL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_bookkeeping() {
        let mut st = CallState::default();
        st.note_exit(nr::READ, -ERESTART_RESTARTBLOCK, true);
        assert_eq!(st.interrupted, Some(nr::READ));
        // Interrupted again: still the same call.
        st.note_exit(nr::RESTART_SYSCALL, -ERESTART_RESTARTBLOCK, true);
        assert_eq!(st.interrupted, Some(nr::READ));
        st.note_exit(nr::RESTART_SYSCALL, 0, false);
        assert_eq!(st.interrupted, None);
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_bit(3, false), status::SUCCESSFUL);
        assert_eq!(status_bit(-2, true), status::FAILED);
        assert_eq!(status_bit(-512, true), status::UNAVAILABLE);
        assert_eq!(status_bit(-516, true), status::UNAVAILABLE);
    }
}
