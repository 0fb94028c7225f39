//! Printers: strace-format text, NDJSON, and the `-c` summary. They only format.

pub mod json;
pub mod perpid;
pub mod strace;
pub mod summary;
pub mod tips;

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
    /// Whether it prints the instruction pointer of calls and signals (`-i`).
    fn wants_ip(&self) -> bool {
        false
    }
    /// Called within 100 ms of new output (by a timer, not per line): push buffered lines out
    /// so that `tail -f` on `-o FILE` shows them while tracees sleep.
    fn flush(&mut self) {}
}

/// `--quiet=attach`: no attach/detach messages.
pub const QUIET_ATTACH: u8 = 1;
/// `--quiet=exit`: no `+++ exited with N +++` lines.
pub const QUIET_EXIT: u8 = 2;
/// `--quiet=thread-execve` (or `superseded`): no `+++ superseded by execve ... +++` lines.
pub const QUIET_THREAD_EXECVE: u8 = 4;
/// Every `QUIET_*` bit.
const QUIET_ALL: u8 = QUIET_ATTACH | QUIET_EXIT | QUIET_THREAD_EXECVE;

/// strace's `--quiet=SET` / `-e quiet=SET` as a set of the `QUIET_*` bits: `attach`, `exit`
/// (also `exits`), `thread-execve` (also `superseded`), `all`, `none`, `!SET`; strace's other
/// words (`personality`, `path-resolution`) name messages pgstrace does not print.
pub fn quiet_set(set: &str) -> Result<u8, String> {
    let (neg, body) = match set.strip_prefix('!') {
        Some(b) => (true, b),
        None => (false, set),
    };
    let mut bits = 0;
    for tok in body.split(',').map(str::trim) {
        bits |= match tok {
            "attach" => QUIET_ATTACH,
            "exit" | "exits" => QUIET_EXIT,
            "thread-execve" | "superseded" => QUIET_THREAD_EXECVE,
            "all" => QUIET_ALL,
            "none" | "" | "personality" | "path-resolution" => 0,
            other => return Err(format!("invalid quiet '{other}'")),
        };
    }
    Ok(if neg { !bits & QUIET_ALL } else { bits })
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
    /// Digits after the second (0, 3, 6, 9) of the absolute timestamp, the relative one
    /// and the duration: strace's precisions s, ms, us, ns.
    pub ts_digits: u8,
    pub rel_digits: u8,
    pub dur_digits: u8,
    /// `-a N`: column of ` = `, default 40.
    pub align: usize,
    /// `-f` count (1 for `-f`); with `-o FILE` and `-f`, lines start with the pid instead of
    /// `[pid N]`.
    pub follow: u8,
    /// Output goes to `-o FILE` rather than stderr.
    pub to_file: bool,
    /// What is kept quiet, a set of [`QUIET_ATTACH`] and [`QUIET_EXIT`] (`-q`: attach;
    /// `-qq`: both; `--quiet=SET`).
    pub quiet: u8,
    /// Colour (only on a TTY and without NO_COLOR).
    pub colour: bool,
    /// `-n`: `[ NR] ` before each call.
    pub syscall_numbers: bool,
    /// `-i`: `[IP] ` (16 hex digits, `?` where there is none) before each line.
    pub instruction_pointer: bool,
    /// `-Y`: where a line's pid prefix finds the process's command name
    /// (`[pid  1234<postgres>]`); the printer remembers the last one it found.
    pub comm_of: Option<fn(i32) -> Option<String>>,
    /// The trace is of a command pgstrace launched: its detach (at its execve under `-b`, or
    /// on a detach signal) is announced, as strace does.
    pub launched: bool,
}

impl Default for TextOpts {
    fn default() -> Self {
        TextOpts {
            timestamps: 0,
            relative: false,
            durations: false,
            ts_digits: 6,
            rel_digits: 6,
            dur_digits: 6,
            align: 40,
            follow: 0,
            to_file: false,
            quiet: 0,
            colour: false,
            syscall_numbers: false,
            instruction_pointer: false,
            comm_of: None,
            launched: false,
        }
    }
}
