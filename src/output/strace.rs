//! strace-format text: the [`TextPrinter`] sink and the value formatting it is built on.
//!
//! Owns strace 6.1's line layout (pid prefixes, timestamps, `-a` alignment, `-T`), the
//! `<unfinished ...>` / `<... NAME resumed>` bookkeeping between tracees, the `---`/`+++`
//! lines, and the escaping that keeps tracee bytes from reaching a terminal raw.
//!
//! Every line is composed in one reused `String` and handed to the output in one write; the
//! caller chooses the buffering (a `BufWriter` for `-o FILE`, a `LineWriter` for stderr).

use super::{Sink, TextOpts};
use crate::event::{Event, Note, StackFrame, Timestamp};
use crate::syscalls::notation::{push_escaped_text, write_list, write_ret, write_value};
use crate::syscalls::{Ret, Value, signals};
use owo_colors::OwoColorize;
use rustc_hash::FxHashMap as HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

/// The ` > object(symbol+0xoff) [0xfileoff]` lines of a stack, as strace -k prints them.
pub fn push_frame_lines(buf: &mut String, frames: &[StackFrame]) {
    for f in frames {
        buf.push_str(" > ");
        match &f.object {
            Some(o) => push_escaped_text(buf, o),
            None => buf.push_str("[unknown]"),
        }
        if f.object.is_some() {
            buf.push('(');
            if let Some(s) = &f.symbol {
                push_escaped_text(buf, s);
            }
            if let (Some(off), false) = (f.offset, f.inlined) {
                let _ = write!(buf, "+{off:#x}");
            }
            buf.push(')');
        }
        let _ = write!(buf, " [{:#x}]", f.file_offset.unwrap_or(f.address));
        if let Some(file) = &f.file {
            buf.push(' ');
            push_escaped_text(buf, file);
            if let Some(line) = f.line {
                let _ = write!(buf, ":{line}");
            }
        }
        if f.inlined {
            buf.push_str(" (inlined)");
        }
        // Said of the frame found by the frame-pointer fallback, naming why the CFI of
        // the frame below could not be used.
        match f.how {
            "frame-pointer" => buf.push_str(" (frame pointer: no CFI)"),
            "frame-pointer-no-fde" => buf.push_str(" (frame pointer: no FDE)"),
            _ => {}
        }
        buf.push('\n');
    }
}

/// The strace-format printer.
pub struct TextPrinter {
    out: Box<dyn Write>,
    o: TextOpts,
    /// The text being composed; cleared per write, never shrunk.
    buf: String,
    /// Per tracee: the syscall whose entry was printed and whose exit is still to come.
    calls: HashMap<i32, OpenCall>,
    /// The tracee whose line is unterminated in the output, if any.
    current: Option<i32>,
    /// Visible column reached by the unterminated line.
    col: usize,
    /// Tracees attached and not yet gone: more than one means `[pid N]` prefixes.
    live: usize,
    /// Something other than the initial attaches happened: later attaches are `-f` children.
    started: bool,
    /// Children we announced; their detach is announced too.
    announced: Vec<i32>,
    /// The launched command (the first process seen when [`TextOpts::launched`]).
    command: Option<i32>,
    /// Attach notes waiting for the current line to end (stderr output only).
    notes: Vec<(i32, Option<i32>)>,
    /// Messages of pgstrace's own waiting for the end of the line being printed (strace's
    /// `Exit of unknown pid N ignored`).
    messages: Vec<String>,
    /// Timestamp of the previous line, for `-r`.
    last: Option<Timestamp>,
    /// `HH:MM:SS` of the last second formatted, so `localtime_r` runs once per second.
    clock: (u64, String),
    /// `-n`: each tracee's last syscall number.
    last_nr: HashMap<i32, u64>,
    /// `-Y`: the last command name found for each pid (for a line printed after it is gone).
    comms: HashMap<i32, String>,
}

/// A syscall whose entry part is printed.
#[derive(Default)]
pub struct OpenCall {
    active: bool,
    name: String,
    /// How many arguments the entry printed.
    printed: usize,
    /// Arguments follow at exit (the decoder left output slots).
    more: bool,
    /// The `, ` after the entry's arguments is in the output. It is written only when the
    /// line must be cut before the exit shows whether arguments follow.
    sep: bool,
}

impl TextPrinter {
    pub fn new(out: Box<dyn Write>, o: TextOpts) -> Self {
        TextPrinter {
            out,
            o,
            buf: String::with_capacity(512),
            calls: HashMap::default(),
            current: None,
            col: 0,
            live: 0,
            started: false,
            announced: Vec::new(),
            command: None,
            notes: Vec::new(),
            messages: Vec::new(),
            last: None,
            clock: (u64::MAX, String::new()),
            last_nr: HashMap::default(),
            comms: HashMap::default(),
        }
    }

    /// `-Y`: `<comm>` after a prefix's pid, the name read now or else the last one seen.
    fn push_comm(&mut self, pid: i32) {
        let Some(find) = self.o.comm_of else { return };
        let name = match find(pid) {
            Some(n) => {
                self.comms.insert(pid, n.clone());
                Some(n)
            }
            None => self.comms.get(&pid).cloned(),
        };
        if let Some(n) = name {
            self.buf.push('<');
            crate::syscalls::notation::push_escaped_bytes(&mut self.buf, n.as_bytes(), true);
            self.buf.push('>');
        }
    }

    /// Sends `buf` to the output. Write errors are the caller's to notice (its writer
    /// records them); a printer has nobody to report them to.
    fn emit(&mut self) {
        let _ = self.out.write_all(self.buf.as_bytes());
        self.buf.clear();
    }

    /// The visible width of `s`: its length, minus colour escapes when colour is on.
    fn width(&self, s: &str) -> usize {
        if !self.o.colour {
            return s.len();
        }
        let mut n = 0;
        let mut esc = false;
        for c in s.chars() {
            if esc {
                esc = c != 'm';
            } else if c == '\x1b' {
                esc = true;
            } else {
                n += 1;
            }
        }
        n
    }

    /// Ends another tracee's unterminated line with ` <unfinished ...>`.
    fn interrupt(&mut self) {
        if let Some(pid) = self.current.take() {
            self.buf.clear();
            self.cut(pid);
            self.buf.push(' ');
            self.dim("<unfinished ...>");
            self.buf.push('\n');
            self.emit();
            // Attach notes held for the line go out now, before the next line starts.
            self.flush_notes();
        }
    }

    fn dim(&mut self, s: &str) {
        if self.o.colour {
            let _ = write!(self.buf, "{}", s.dimmed());
        } else {
            self.buf.push_str(s);
        }
    }

    /// Starts a line in `buf`: the pid prefix and the timestamps.
    fn leader(&mut self, pid: i32, ts: Timestamp) {
        if self.o.to_file {
            if self.o.follow < 2 && (self.o.follow == 1 || self.live > 1) {
                if self.o.comm_of.is_some() {
                    // strace pads the pid only without the name.
                    let _ = write!(self.buf, "{pid}");
                    self.push_comm(pid);
                    self.buf.push(' ');
                } else {
                    let _ = write!(self.buf, "{pid:<5} ");
                }
            }
        } else if self.live > 1 {
            let _ = write!(self.buf, "[pid {pid:>5}");
            self.push_comm(pid);
            self.buf.push_str("] ");
        }
        match self.o.timestamps {
            0 => {}
            1 | 2 => {
                let secs = ts.as_secs();
                if self.clock.0 != secs {
                    self.clock.1.clear();
                    local_hms(secs, &mut self.clock.1);
                    self.clock.0 = secs;
                }
                self.buf.push_str(&self.clock.1);
                push_fraction(&mut self.buf, ts, self.o.ts_digits);
                self.buf.push(' ');
            }
            _ => {
                let _ = write!(self.buf, "{}", ts.as_secs());
                push_fraction(&mut self.buf, ts, self.o.ts_digits);
                self.buf.push(' ');
            }
        }
        if self.o.relative {
            let d = self.last.map(|l| ts.saturating_sub(l)).unwrap_or_default();
            self.last = Some(ts);
            if self.o.timestamps > 0 {
                self.buf.push_str("(+");
            }
            let _ = write!(self.buf, "{:>6}", d.as_secs());
            push_fraction(&mut self.buf, d, self.o.rel_digits);
            self.buf
                .push_str(if self.o.timestamps > 0 { ") " } else { " " });
        }
    }

    fn name(&mut self, name: &str) {
        if self.o.colour {
            let _ = write!(self.buf, "{}", Escaped(name).bold());
        } else {
            push_escaped_text(&mut self.buf, name);
        }
    }

    /// Pads to the `-a` column (at least one space) and writes `= `. `base` is the column
    /// at which `buf` starts.
    fn align(&mut self, base: usize) {
        let col = base + self.width(&self.buf);
        let pad = if col < self.o.align {
            self.o.align - col
        } else {
            1
        };
        for _ in 0..pad {
            self.buf.push(' ');
        }
        self.buf.push_str("= ");
    }

    /// Writes the return value, ` <duration>` and the newline.
    /// `marks` (injected, poked, delayed): ` (INJECTED)`, ` (INJECTED: args)`, ` (INJECTED:
    /// args, retval)`, ` (DELAYED)` after the return, as strace tags tampered calls.
    fn finish_ret(
        &mut self,
        base: usize,
        ret: &Ret,
        duration: Option<Duration>,
        marks: (bool, bool, bool),
    ) {
        let (injected, poked, delayed) = marks;
        self.align(base);
        let start = self.buf.len();
        write_ret(&mut self.buf, ret);
        match (poked, injected) {
            (true, true) => self.buf.push_str(" (INJECTED: args, retval)"),
            (true, false) => self.buf.push_str(" (INJECTED: args)"),
            (false, true) => self.buf.push_str(" (INJECTED)"),
            (false, false) => {}
        }
        if delayed {
            self.buf.push_str(" (DELAYED)");
        }
        if self.o.colour && matches!(ret, Ret::Error { .. } | Ret::ValueError { .. }) {
            let text = self.buf.split_off(start);
            let _ = write!(self.buf, "{}", text.red());
        }
        if let (true, Some(d)) = (self.o.durations, duration) {
            let _ = write!(self.buf, " <{}", d.as_secs());
            push_fraction(&mut self.buf, d, self.o.dur_digits);
            self.buf.push('>');
        }
        self.buf.push('\n');
    }

    /// The current line of `pid` is cut before its exit: write the `, ` now if arguments
    /// are expected to follow (`read(3,  <unfinished ...>`).
    fn cut(&mut self, pid: i32) {
        let pending = |c: &&mut OpenCall| c.active && c.more && c.printed > 0 && !c.sep;
        if let Some(c) = self.calls.get_mut(&pid).filter(pending) {
            c.sep = true;
            self.buf.push_str(", ");
        }
    }

    /// `-n`: `[ NR] `; remembered as the tracee's last syscall for its other lines.
    fn number(&mut self, pid: i32, nr: u64) {
        if self.o.syscall_numbers {
            self.last_nr.insert(pid, nr);
            let _ = write!(self.buf, "[{nr:>4}] ");
        }
    }

    /// `-i`: `[00007f..] `, or `[????????????????] ` where the tracee has none (it exited).
    fn ip(&mut self, ip: Option<u64>) {
        if self.o.instruction_pointer {
            match ip {
                Some(ip) => {
                    let _ = write!(self.buf, "[{ip:016x}] ");
                }
                None => self.buf.push_str("[????????????????] "),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &mut self,
        pid: i32,
        time: Timestamp,
        nr: u64,
        name: &str,
        args: &[Value],
        more: bool,
        ip: u64,
    ) {
        self.interrupt();
        self.leader(pid, time);
        self.number(pid, nr);
        self.ip(Some(ip));
        self.name(name);
        self.buf.push('(');
        write_list(&mut self.buf, args);
        self.col = self.width(&self.buf);
        self.emit();
        let call = self.calls.entry(pid).or_default();
        call.name.clear();
        call.name.push_str(name);
        call.printed = args.len();
        call.more = more;
        call.sep = false;
        if !more && (name == "exit_group" || name == "exit") {
            // They never return: the line is whole at entry, as strace prints it.
            call.active = false;
            self.buf.push(')');
            let base = self.col;
            self.finish_ret(base, &Ret::Unknown, None, (false, false, false));
            self.emit();
            return;
        }
        call.active = true;
        self.current = Some(pid);
        if !self.o.to_file {
            // stderr: show a call that blocks (`read(0, `) while it blocks, as strace does.
            let _ = self.out.flush();
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[allow(clippy::too_many_arguments)]
    fn exit(
        &mut self,
        pid: i32,
        time: Timestamp,
        nr: u64,
        name: &str,
        args: &[Value],
        ret: &Ret,
        duration: Duration,
        marks: (bool, bool, bool),
        ip: u64,
    ) {
        let (printed, sep, open) = match self.calls.get_mut(&pid) {
            Some(c) if c.active => {
                c.active = false;
                (c.printed, c.sep, true)
            }
            _ => (0, false, false),
        };
        let base;
        if open && self.current == Some(pid) {
            base = self.col;
            self.current = None;
        } else if open {
            self.interrupt();
            self.leader(pid, time);
            self.number(pid, nr);
            self.ip(Some(ip));
            self.resumed(pid);
            base = 0;
        } else {
            self.interrupt();
            self.leader(pid, time.saturating_sub(duration));
            self.number(pid, nr);
            self.ip(Some(ip));
            self.name(name);
            self.buf.push('(');
            base = 0;
        }
        let start = printed.min(args.len());
        if let Some(rest) = args.get(start..).filter(|r| !r.is_empty()) {
            if start > 0 && !sep {
                self.buf.push_str(", ");
            }
            write_list(&mut self.buf, rest);
        }
        self.buf.push(')');
        self.finish_ret(base, ret, Some(duration), marks);
        self.emit();
    }

    /// `<... NAME resumed>` for `pid`'s open call.
    fn resumed(&mut self, pid: i32) {
        let name = self.calls.get(&pid).map(|c| c.name.as_str()).unwrap_or("?");
        let mut s = String::with_capacity(name.len() + 16);
        s.push_str("<... ");
        push_escaped_text(&mut s, name);
        s.push_str(" resumed>");
        self.dim(&s);
    }

    /// Ends `pid`'s open call, if any, because the tracee is gone: ` = ?` after an exit or a
    /// kill, ` <detached ...>` after a detach.
    fn close_call(&mut self, pid: i32, time: Timestamp, detached: bool) {
        let Some(c) = self.calls.get_mut(&pid).filter(|c| c.active) else {
            return;
        };
        // strace's form: ` <unfinished ...>` where arguments were still to come
        // (`read(3,  <unfinished ...>) = ?`), none where the entry printed them all.
        let unfinished = c.more;
        if detached && self.current != Some(pid) {
            // strace ends a detached tracee's call only on its own open line; a line cut
            // already said `<unfinished ...>`.
            c.active = false;
            return;
        }
        let base = if self.current == Some(pid) {
            self.current = None;
            self.cut(pid);
            self.col
        } else {
            self.interrupt();
            self.leader(pid, time);
            self.ip(None);
            self.resumed(pid);
            0
        };
        if let Some(c) = self.calls.get_mut(&pid) {
            c.active = false;
        }
        if detached {
            self.buf.push(' ');
            self.dim("<detached ...>");
            self.buf.push('\n');
        } else {
            if unfinished {
                self.buf.push(' ');
                self.dim("<unfinished ...>");
            }
            self.buf.push(')');
            self.finish_ret(base, &Ret::Unknown, None, (false, false, false));
        }
        self.emit();
    }

    /// A `---` or `+++` line.
    fn note_line(
        &mut self,
        pid: i32,
        time: Timestamp,
        text: std::fmt::Arguments,
        exit: bool,
        ip: Option<u64>,
    ) {
        self.interrupt();
        self.leader(pid, time);
        // -n: strace's leader shows the tracee's last syscall on every line.
        if let Some(&nr) = self.last_nr.get(&pid) {
            self.number(pid, nr);
        }
        self.ip(ip);
        let start = self.buf.len();
        let _ = self.buf.write_fmt(text);
        if self.o.colour {
            let s = self.buf.split_off(start);
            if exit {
                let _ = write!(self.buf, "{}", s.dimmed());
            } else {
                let _ = write!(self.buf, "{}", s.yellow());
            }
        }
        self.buf.push('\n');
        self.emit();
    }

    /// `-e read=`/`-e write=`: the data in strace's hex dump layout,
    /// ` | 00000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 20 30 31  hello, world! 01 |`.
    fn dump_lines(&mut self, data: &[u8]) {
        self.buf.clear();
        for (row, chunk) in data.chunks(16).enumerate() {
            let _ = write!(self.buf, " | {:05x}  ", row * 16);
            for i in 0..16 {
                match chunk.get(i) {
                    Some(b) => {
                        let _ = write!(self.buf, "{b:02x}");
                    }
                    None => self.buf.push_str("  "),
                }
                if i == 7 {
                    self.buf.push_str("  ");
                } else if i < 15 {
                    self.buf.push(' ');
                }
            }
            self.buf.push_str("  ");
            for i in 0..16 {
                self.buf.push(match chunk.get(i) {
                    Some(&b) if (0x20..0x7f).contains(&b) => char::from(b),
                    Some(_) => '.',
                    None => ' ',
                });
            }
            self.buf.push_str(" |\n");
        }
        self.emit();
    }

    /// `-k`: one line per frame after the syscall or signal line, in strace's form
    /// ` > /path/to/object(symbol+0xoff) [0xfile_offset]`. An unnamed function (no symbol
    /// covers the address, its start known from `.eh_frame`) prints as `(+0xoff)`, an
    /// address in no known function as `()`; `-kk` adds ` file:line` and inlined frames.
    fn stack_lines(&mut self, frames: &[StackFrame]) {
        if frames.is_empty() {
            return;
        }
        self.buf.clear();
        push_frame_lines(&mut self.buf, frames);
        self.emit();
    }

    /// A note's line, `# pid N KEY: TEXT`: no pid prefix (the line names its pid) and no
    /// timestamp, so that strace-format parsers skip it as a comment. A note without a line
    /// is for JSON only.
    fn note(&mut self, pid: i32, note: &Note) {
        let Some((key, text)) = &note.line else {
            return;
        };
        let mut line = String::with_capacity(64);
        let _ = write!(line, "# pid {pid} {key}: ");
        push_escaped_text(&mut line, text);
        self.interrupt();
        self.dim(&line);
        self.buf.push('\n');
        self.emit();
    }

    /// A non-leader's execve took over the leader's pid. The leader's own call ends with
    /// ` = ?`; the former's execve line, if it is still the open one, ends with
    /// ` <pid changed to PID ...>`; the execve goes on under `pid` (`<... execve resumed>)
    /// = 0` at its exit).
    fn superseded(&mut self, pid: i32, former: i32, time: Timestamp) {
        // strace's order: the leader's call first (it cuts an open execve line), then an
        // execve line still open ends with the pid change.
        self.close_call(pid, time, false);
        self.pid_changed(former, pid);
        self.flush_notes();
        let call = self.hand_over(former);
        if let Some(c) = call {
            self.adopt(pid, c);
        }
        if self.o.quiet & super::QUIET_THREAD_EXECVE == 0 {
            self.note_line(
                pid,
                time,
                format_args!("+++ superseded by execve in pid {former} +++"),
                true,
                None,
            );
        }
    }

    /// `former` is gone into another tracee's pid: its open call, for that tracee to finish.
    /// (Under `-ff` its file ends here: an open line ends with ` <pid changed to ...>`.)
    pub fn hand_over(&mut self, former: i32) -> Option<OpenCall> {
        if let Some(i) = self.announced.iter().position(|&p| p == former) {
            self.announced.swap_remove(i);
        }
        self.last_nr.remove(&former);
        self.live = self.live.saturating_sub(1);
        self.calls.remove(&former).filter(|c| c.active)
    }

    /// Takes over a call begun by a thread whose pid `pid` now has (see [`Self::hand_over`]).
    pub fn adopt(&mut self, pid: i32, call: OpenCall) {
        self.calls.insert(pid, call);
    }

    /// `-ff`: the file of `former`, which became `pid` by a non-leader's execve: its open
    /// line ends with ` <pid changed to PID ...>`.
    pub fn pid_changed(&mut self, former: i32, pid: i32) {
        if self.current == Some(former) {
            self.current = None;
            self.buf.clear();
            self.cut(former);
            let _ = writeln!(self.buf, " <pid changed to {pid} ...>");
            self.emit();
        }
    }

    fn gone(&mut self, pid: i32) {
        self.live = self.live.saturating_sub(1);
        self.calls.remove(&pid);
    }

    /// `pgstrace: Process N attached|detached`, on stderr as strace does.
    /// A pid of another PID namespace has its pid there beside ours.
    fn process_note(&mut self, pid: i32, what: &str, ns_pid: Option<i32>) {
        let ns = ns_pid
            .map(|n| format!(" ({n} in its PID namespace)"))
            .unwrap_or_default();
        if self.o.to_file {
            crate::errln!("pgstrace: Process {pid} {what}{ns}");
        } else {
            self.buf.clear();
            let _ = writeln!(self.buf, "pgstrace: Process {pid} {what}{ns}");
            self.emit();
        }
    }

    /// A message of pgstrace's own: on stderr at once when the trace goes to a file, else
    /// after the line being printed.
    fn message(&mut self, m: String) {
        if self.o.to_file {
            crate::errln!("{m}");
        } else {
            self.messages.push(m + "\n");
        }
    }

    fn flush_notes(&mut self) {
        if self.current.is_none() && !self.messages.is_empty() {
            for m in std::mem::take(&mut self.messages) {
                self.buf.clear();
                self.buf.push_str(&m);
                self.emit();
            }
        }
        if self.current.is_none() && !self.notes.is_empty() {
            let notes = std::mem::take(&mut self.notes);
            for &(pid, ns) in &notes {
                self.process_note(pid, "attached", ns);
            }
            self.notes = notes;
            self.notes.clear();
        }
    }
}

impl Sink for TextPrinter {
    fn wants_ip(&self) -> bool {
        self.o.instruction_pointer
    }

    fn event(&mut self, ev: &Event) {
        self.buf.clear();
        match ev {
            Event::Attached { pid, ns_pid, .. } => {
                self.live += 1;
                if self.o.launched && !self.started && self.command.is_none() {
                    self.command = Some(*pid);
                }
                if self.started && self.o.quiet & super::QUIET_ATTACH == 0 {
                    self.announced.push(*pid);
                    if self.o.to_file {
                        self.process_note(*pid, "attached", *ns_pid);
                    } else {
                        self.notes.push((*pid, *ns_pid));
                    }
                }
            }
            Event::SyscallEntry {
                pid,
                time,
                nr,
                name,
                args,
                more,
                ip,
                ..
            } => self.entry(*pid, *time, *nr, name, args, *more, *ip),
            Event::SyscallExit {
                pid,
                time,
                nr,
                name,
                args,
                ret,
                duration,
                stack,
                injected,
                poked,
                delayed,
                dump,
                ip,
                ..
            } => {
                let marks = (*injected, *poked, *delayed);
                self.exit(*pid, *time, *nr, name, args, ret, *duration, marks, *ip);
                match dump {
                    Some(crate::event::Dump::Plain(d)) => self.dump_lines(d),
                    Some(crate::event::Dump::Vector(parts)) => {
                        for (i, d) in parts.iter().enumerate() {
                            let _ = writeln!(self.buf, " * {} bytes in buffer {i}", d.len());
                            self.emit();
                            self.dump_lines(d);
                        }
                    }
                    None => {}
                }
                self.stack_lines(stack);
            }
            Event::Signal {
                pid,
                time,
                sig,
                info,
                stack,
                ip,
            } => {
                let mut v = String::new();
                write_value(&mut v, info);
                let name = signals::name(*sig);
                self.note_line(
                    *pid,
                    *time,
                    format_args!("--- {} {v} ---", Escaped(&name)),
                    false,
                    *ip,
                );
                self.stack_lines(stack);
            }
            Event::Stopped { pid, time, sig } => {
                let name = signals::name(*sig);
                self.note_line(
                    *pid,
                    *time,
                    format_args!("--- stopped by {} ---", Escaped(&name)),
                    false,
                    None,
                );
            }
            Event::Exited { pid, time, code } => {
                self.close_call(*pid, *time, false);
                if self.o.quiet & super::QUIET_EXIT == 0 {
                    self.note_line(
                        *pid,
                        *time,
                        format_args!("+++ exited with {code} +++"),
                        true,
                        None,
                    );
                }
                self.gone(*pid);
            }
            Event::Killed {
                pid,
                time,
                sig,
                core,
            } => {
                self.close_call(*pid, *time, false);
                let name = signals::name(*sig);
                let core = if *core { " (core dumped)" } else { "" };
                self.note_line(
                    *pid,
                    *time,
                    format_args!("+++ killed by {}{core} +++", Escaped(&name)),
                    true,
                    None,
                );
                self.gone(*pid);
            }
            Event::Detached { pid, time } => {
                self.close_call(*pid, *time, true);
                if let Some(i) = self.announced.iter().position(|p| p == pid) {
                    self.announced.swap_remove(i);
                    self.interrupt();
                    self.process_note(*pid, "detached", None);
                } else if self.command == Some(*pid) && self.o.quiet & super::QUIET_ATTACH == 0 {
                    self.command = None;
                    self.interrupt();
                    self.process_note(*pid, "detached", None);
                }
                self.gone(*pid);
            }
            Event::Superseded { pid, former, time } => self.superseded(*pid, *former, *time),
            Event::Note { pid, note, .. } => self.note(*pid, note),
            Event::UnknownExit { pid, .. } => {
                if self.o.quiet & super::QUIET_EXIT == 0 {
                    self.message(format!("pgstrace: Exit of unknown pid {pid} ignored"));
                }
            }
            Event::TamperFailed { pid, why, .. } => {
                self.message(format!(
                    "pgstrace: Failed to tamper with process {pid}: {why}"
                ));
            }
            Event::Lost { count, .. } => {
                // Not a tracee's line: no pid prefix, so that it cannot be taken for one.
                self.interrupt();
                self.buf.clear();
                let _ = match count {
                    Some(n) => writeln!(self.buf, "+++ lost {n} events +++"),
                    None => writeln!(
                        self.buf,
                        "+++ lost ? events (a ring was full at the end) +++"
                    ),
                };
                self.emit();
            }
        }
        if !matches!(
            ev,
            Event::Attached { .. }
                | Event::Note { .. }
                | Event::UnknownExit { .. }
                | Event::TamperFailed { .. }
        ) {
            self.started = true;
        }
        self.flush_notes();
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }

    fn finish(&mut self) {
        // A line left open (the trace ended mid-call) still gets its newline.
        if self.current.take().is_some() {
            self.buf.clear();
            self.buf.push('\n');
            self.emit();
        }
        self.flush_notes();
        let _ = self.out.flush();
    }
}

/// `HH:MM:SS` of epoch second `secs` in local time.
fn local_hms(secs: u64, out: &mut String) {
    let t = libc::time_t::try_from(secs).unwrap_or(libc::time_t::MAX);
    // SAFETY: `tm` is plain data that localtime_r fills; both pointers are valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = !unsafe { libc::localtime_r(&t, &mut tm) }.is_null();
    if ok {
        let _ = write!(out, "{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
    } else {
        let s = secs % 86400;
        let _ = write!(out, "{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    }
}

/// Text from the decoders or tables, with any control or non-ASCII byte escaped so it
/// cannot drive a terminal.
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        push_escaped_text(&mut s, self.0);
        f.write_str(&s)
    }
}

/// `.` and the first `digits` (0, 3, 6 or 9) digits of `t`'s fraction of a second, cut as
/// strace cuts them (not rounded); nothing for 0.
fn push_fraction(buf: &mut String, t: Duration, digits: u8) {
    let nanos = t.subsec_nanos();
    let _ = match digits {
        0 => Ok(()),
        3 => write!(buf, ".{:03}", nanos / 1_000_000),
        9 => write!(buf, ".{nanos:09}"),
        _ => write!(buf, ".{:06}", nanos / 1_000),
    };
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod bench;
