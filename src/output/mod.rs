//! Printers: strace-format text, NDJSON, and the `-c` summary. They only format.

pub mod json;
pub mod perpid;
pub mod strace;
pub mod summary;

use crate::event::Event;

/// Something that consumes tracer events. Called after the tracee was resumed, so a printer
/// may take its time.
pub trait Sink {
    fn event(&mut self, ev: &Event);
    /// Called once at the end (after detach or the last tracee's exit): flush, print tables.
    fn finish(&mut self);
    /// Whether it prints the annotator's per-call fields (`Event::SyscallExit::fields`):
    /// when no sink does, the session does not compute them.
    fn wants_fields(&self) -> bool {
        false
    }
    /// Called within 100 ms of new output (by a timer, not per line): push buffered lines out
    /// so that `tail -f` on `-o FILE` shows them while tracees sleep.
    fn flush(&mut self) {}
}

/// Options of the strace-format text printer.
#[derive(Clone, Debug)]
pub struct TextOpts {
    /// 0: none; 1: `-t` (`10:00:00`); 2: `-tt` (`10:00:00.123456`); 3: `-ttt` (epoch.usec).
    pub timestamps: u8,
    /// `-r`: relative timestamp of each line to the previous one.
    pub relative: bool,
    /// `-T`: time spent in the call, ` <0.000019>`.
    pub durations: bool,
    /// `-a N`: column of ` = `, default 40.
    pub align: usize,
    /// `-f` count (1 for `-f`); with `-o FILE` and `-f`, lines start with the pid instead of
    /// `[pid N]`.
    pub follow: u8,
    /// Output goes to `-o FILE` rather than stderr.
    pub to_file: bool,
    /// `-q` count: 1 hides attach/detach notes, 2 also `+++ exited` lines.
    pub quiet: u8,
    /// Colour (only on a TTY and without NO_COLOR).
    pub colour: bool,
    /// `-n`: `[ NR] ` before each call.
    pub syscall_numbers: bool,
}

impl Default for TextOpts {
    fn default() -> Self {
        TextOpts {
            timestamps: 0,
            relative: false,
            durations: false,
            align: 40,
            follow: 0,
            to_file: false,
            quiet: 0,
            colour: false,
            syscall_numbers: false,
        }
    }
}
