//! PostgreSQL annotation of a trace (on unless `--no-pg`): which tracees run the postgres
//! executable, what each one is (from its process title), and which statement a backend
//! runs, turned into [`Event::Note`]s queued just before the tracee's next syscall event,
//! and which DSM segment a call names (a JSON field). The session calls it through its
//! [`Annotator`] trait and knows nothing of PostgreSQL.
//!
//! Cost is the point: on a pgbench backend the tracer must stay close to a bare ptrace loop.
//! - The executable is checked once per tracee (attach, exec): one readlink.
//! - A forked child's title is read at its printed stops until the child has set it (a few
//!   reads per process life, then never again).
//! - A backend's statement is read only after a `recvfrom` returned client data, at its next
//!   printed stop (still stopped, before the receive buffer can be reused): one
//!   `process_vm_readv` of the received message, whose `Q` (simple query) or `P` (Parse)
//!   carries the text. `debug_query_string` (a pointer and a string read) is read only after
//!   a Bind/Execute message and for parallel workers, which get their leader's statement once.

use crate::event::{Event, FieldValue, Note, NoteField, Timestamp};
use crate::postgres::Role;
use crate::postgres::memory::GlobalsReader;
use crate::session::Annotator;
use crate::syscalls::{Ret, Tracee, Value, nr};
use rustc_hash::FxHashMap as HashMap;

/// The note fields this annotator sets (JSON keys; `explain-shm --watch` reads them too).
pub const QUERY: &str = "query";
pub const ROLE: &str = "role";
pub const LEADER: &str = "leader_pid";

/// `# pid N query: TEXT`; JSON objects carry `"query"` (and `"role"`, null until known).
fn query_note(pid: i32, time: Timestamp, text: String, truncated: bool) -> Event {
    let mut q = text;
    if truncated {
        q.push_str("...");
    }
    Event::Note {
        pid,
        time,
        note: Note {
            line: Some((QUERY, q.clone())),
            fields: vec![
                NoteField::Set(QUERY, FieldValue::Text(q)),
                NoteField::Default(ROLE, FieldValue::Null),
            ],
        },
    }
}

/// `# pid N query: ? (...)`: the statement after the last noted one is not known (a
/// kernel-side source could not read it while it ran); JSON objects carry `"query": null`.
fn unknown_query_note(pid: i32, time: Timestamp) -> Event {
    Event::Note {
        pid,
        time,
        note: Note {
            line: Some((QUERY, UNKNOWN_QUERY.into())),
            fields: vec![
                NoteField::Set(QUERY, FieldValue::Null),
                NoteField::Default(ROLE, FieldValue::Null),
            ],
        },
    }
}

/// The text of [`unknown_query_note`]'s line.
pub const UNKNOWN_QUERY: &str = "? (it ran before it could be read: kernel-side source)";

/// JSON objects carry `"role"` (and `"leader_pid"` for a parallel worker); only a worker's
/// role gets a text line, `# pid N role: parallel worker for L`.
fn role_note(pid: i32, time: Timestamp, role: String, leader: Option<i32>) -> Event {
    let line = leader.map(|l| (ROLE, format!("{role} for {l}")));
    let leader_field = match leader {
        Some(l) => NoteField::Set(LEADER, FieldValue::Int(i64::from(l))),
        None => NoteField::Unset(LEADER),
    };
    Event::Note {
        pid,
        time,
        note: Note {
            line,
            fields: vec![
                NoteField::Set(ROLE, FieldValue::Text(role)),
                NoteField::Default(QUERY, FieldValue::Null),
                leader_field,
            ],
        },
    }
}
/// Longest statement text shown, in bytes.
pub const QUERY_LIMIT: usize = 256;
/// How much of a received message is read: header, a Parse's statement name, the text.
const MESSAGE_READ: usize = 5 + 64 + 2 * QUERY_LIMIT;
/// Printed stops of a forked child at which its title is read before we stop waiting for
/// it to set one.
const TITLE_TRIES: u32 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Forked, title not set yet.
    Unknown,
    /// Gets statements from a client (a backend, a walsender).
    Client,
    /// A parallel worker: runs its leader's statement, set once.
    Worker,
    /// Runs no statements (postmaster, checkpointer, ...).
    Quiet,
}

struct PgTracee {
    kind: Kind,
    role_known: bool,
    title_tries: u32,
    /// Client data arrived since the last printed stop: where the latest `recvfrom` put it.
    recv: Option<(u64, usize)>,
    /// The source shows this tracee's `recvfrom` calls (ptrace; a kernel-side source with
    /// recvfrom traced): a new statement can only follow one.
    sees_recv: bool,
    /// Where `debug_query_string` pointed at the last read.
    last_query_ptr: u64,
    /// A kernel-side source's early looks at `recvfrom` returns not delivered yet: the
    /// return's time and the statement read then.
    looks: std::collections::VecDeque<(Timestamp, Option<String>)>,
    /// The statement of the latest `recvfrom` return as its early look found it; `None`
    /// inside when the look came too late (the next message had arrived) or found none.
    recv_look: Option<Option<String>>,
    /// `None` until first needed; `Some(None)` when the globals cannot be read.
    reader: Option<Option<GlobalsReader>>,
    query: Option<String>,
    /// A note was queued: its syscall objects carry the PostgreSQL fields from now on.
    noted: bool,
}

impl PgTracee {
    fn new() -> Self {
        PgTracee {
            kind: Kind::Unknown,
            role_known: false,
            title_tries: 0,
            recv: None,
            sees_recv: false,
            last_query_ptr: 0,
            looks: std::collections::VecDeque::new(),
            recv_look: None,
            reader: None,
            query: None,
            noted: false,
        }
    }

    /// `debug_query_string`, when the backend's globals can be read.
    fn debug_query(&mut self, pid: i32) -> Option<String> {
        let reader = self
            .reader
            .get_or_insert_with(|| GlobalsReader::for_process(pid).ok());
        // Empty: read while the backend was between messages (a kernel-side source reads
        // after the event); nothing to note.
        reader
            .as_ref()?
            .query_prefix(&mut self.last_query_ptr, QUERY_LIMIT + 1)
            .filter(|q| !q.is_empty())
    }
}

/// Per-tracee PostgreSQL state of a session.
#[derive(Default)]
pub struct PgAnnotator {
    tracees: HashMap<i32, PgTracee>,
}

impl PgAnnotator {
    pub fn new() -> Self {
        PgAnnotator::default()
    }
}

impl Annotator for PgAnnotator {
    /// A new tracee. `settled`: attached with `-p` (or just exec'd), so its title is final;
    /// otherwise a forked child that sets its title later.
    fn attached(&mut self, pid: i32, settled: bool, time: Timestamp, out: &mut Vec<Event>) {
        if !is_postgres_exe(pid) {
            return;
        }
        let mut t = PgTracee::new();
        if settled {
            classify(pid, &mut t, true, time, out);
        }
        self.tracees.insert(pid, t);
    }

    /// A successful execve: the process may have become postgres, or stopped being it.
    fn exec(&mut self, pid: i32, former: i32, time: Timestamp, out: &mut Vec<Event>) {
        self.tracees.remove(&former);
        self.tracees.remove(&pid);
        self.attached(pid, true, time, out);
    }

    fn gone(&mut self, pid: i32) {
        self.tracees.remove(&pid);
    }

    fn early_calls(&self) -> &'static [u64] {
        &[nr::RECVFROM]
    }

    /// Reads the statement now, while the backend may still be running it: delivered a
    /// few milliseconds later, the return would find the backend statements further on.
    fn early_exit(&mut self, pid: i32, _nr: u64, rval: i64, time: Timestamp) {
        let Some(t) = self.tracees.get_mut(&pid) else {
            return;
        };
        if rval <= 0 || !matches!(t.kind, Kind::Client | Kind::Unknown) {
            return;
        }
        if t.looks.len() >= 64 {
            t.looks.pop_front();
        }
        let q = t.debug_query(pid);
        t.looks.push_back((time, q));
    }

    /// A syscall of `pid` returned (shown or not): a `recvfrom` brought client data.
    fn exited(
        &mut self,
        pid: i32,
        nr_: u64,
        args: &[u64; 6],
        rval: i64,
        time: Timestamp,
        look: Option<bool>,
    ) {
        if nr_ != nr::RECVFROM {
            return;
        }
        let buf = args[1];
        if let Some(t) = self.tracees.get_mut(&pid) {
            t.sees_recv = true;
            while t.looks.front().is_some_and(|(at, _)| *at < time) {
                t.looks.pop_front();
            }
            let found = match t.looks.front() {
                Some((at, _)) if *at == time => t.looks.pop_front().and_then(|(_, q)| q),
                _ => None,
            };
            // Under a kernel-side source the statement is what the early look found, if
            // the look was still current; a return not looked at was followed by another
            // before any look could be made.
            t.recv_look = Some(found.filter(|_| look == Some(true)));
            if rval <= 0 {
                return;
            }
            t.recv = Some((buf, rval as usize));
            if t.kind == Kind::Unknown {
                t.kind = Kind::Client;
            }
        }
    }

    /// Called while `pid` is stopped, just before one of its syscall events is queued:
    /// queues the notes that changed.
    fn before_line(&mut self, pid: i32, time: Timestamp, mem: &dyn Tracee, out: &mut Vec<Event>) {
        let Some(t) = self.tracees.get_mut(&pid) else {
            return;
        };
        if !t.role_known && t.title_tries < TITLE_TRIES {
            t.title_tries += 1;
            classify(pid, t, false, time, out);
        }
        let text = match t.kind {
            Kind::Client => match t.recv.take() {
                // A kernel-side source: the statement its early look found, if current;
                // else the statement is not known, which is said once.
                Some(_) if !mem.exact() && t.recv_look.is_some() => {
                    match t.recv_look.take().flatten() {
                        Some(s) => Some(fold(s.as_bytes(), false))
                            .filter(|(q, _)| t.query.as_deref() != Some(q.as_str())),
                        None => {
                            if t.query.take().is_some() {
                                out.push(unknown_query_note(pid, time));
                            }
                            None
                        }
                    }
                }
                Some((addr, len)) => {
                    let mut buf = [0u8; MESSAGE_READ];
                    let want = len.min(MESSAGE_READ);
                    let n = mem.read_mem(addr, &mut buf[..want]);
                    let message = if n == 0 && !mem.exact() {
                        // A kernel-side source did not capture the buffer: the statement
                        // is read from memory, once per message received.
                        Message::Bound
                    } else {
                        parse_message(buf.get(..n).unwrap_or_default(), len)
                    };
                    match message {
                        // Noted when it changes: the same statement again says nothing new.
                        Message::Statement(q) => {
                            Some(q).filter(|(q, _)| t.query.as_deref() != Some(q.as_str()))
                        }
                        // Bind/Execute of a prepared statement: the text is only in memory.
                        Message::Bound => t
                            .debug_query(pid)
                            .map(|s| fold(s.as_bytes(), false))
                            .filter(|(q, _)| t.query.as_deref() != Some(q.as_str())),
                        Message::Other => None,
                    }
                }
                // A kernel-side source that sees no recvfrom (it watches the traced calls
                // only): the statement is read from the backend's memory at each line. Where
                // recvfrom is seen, nothing new arrived since the last one.
                None if !mem.exact() && !t.sees_recv => t
                    .debug_query(pid)
                    .map(|s| fold(s.as_bytes(), false))
                    .filter(|(q, _)| t.query.as_deref() != Some(q.as_str())),
                None => None,
            },
            Kind::Worker if t.query.is_none() => {
                t.debug_query(pid).map(|s| fold(s.as_bytes(), false))
            }
            _ => None,
        };
        if let Some((text, truncated)) = text {
            t.query = Some(text.clone());
            t.noted = true;
            out.push(query_note(pid, time, text, truncated));
        }
    }

    /// `"dsm": "PostgreSQL.N"` on a noted tracee's call that names a segment.
    fn call_fields(&self, pid: i32, args: &[Value], ret: &Ret) -> Vec<(&'static str, FieldValue)> {
        match self.tracees.get(&pid) {
            Some(t) if t.noted => crate::postgres::dsm::segment_of_call(args, ret)
                .map(|d| vec![("dsm", FieldValue::Text(d))])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

/// Reads `pid`'s title and, if it says what the process is, records its kind and queues a
/// role note.
fn classify(pid: i32, t: &mut PgTracee, settled: bool, time: Timestamp, out: &mut Vec<Event>) {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return;
    };
    let title = crate::postgres::process::title_from_cmdline(&cmdline);
    let Some((kind, role, leader)) = parse_title(&title, settled) else {
        return;
    };
    t.role_known = true;
    // recvfrom data may have said Client before the title was set.
    if t.kind == Kind::Unknown || kind == Kind::Worker {
        t.kind = kind;
    }
    t.noted = true;
    out.push(role_note(pid, time, role, leader));
}

/// Whether `pid` runs an executable named `postgres`.
pub fn is_postgres_exe(pid: i32) -> bool {
    let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
        return false;
    };
    let name = exe.file_name().map(|n| n.to_string_lossy().into_owned());
    let name = name.unwrap_or_default();
    name.strip_suffix(" (deleted)").unwrap_or(&name) == "postgres"
}

/// What a title says: `(kind, role, leader)`. A title that is still a command line is the
/// postmaster's (or a single-user postgres') when `settled`, and not yet set otherwise.
fn parse_title(title: &str, settled: bool) -> Option<(Kind, String, Option<i32>)> {
    let p = crate::postgres::process::parse_title(title);
    let name = p.role.name().to_string();
    match p.role {
        Role::Postmaster | Role::Unknown if !title.starts_with("postgres: ") => {
            settled.then(|| (Kind::Quiet, "postmaster".to_string(), None))
        }
        Role::ParallelWorker => Some((Kind::Worker, name, p.leader_pid)),
        // Backends and walsenders get statements from a client.
        Role::Backend | Role::WalSender => Some((Kind::Client, name, None)),
        Role::Unknown => {
            let rest = title.trim().strip_prefix("postgres: ").unwrap_or(title);
            Some((Kind::Quiet, rest.to_string(), None))
        }
        _ => Some((Kind::Quiet, name, None)),
    }
}

enum Message {
    /// A simple Query or a Parse: the statement text, folded.
    Statement((String, bool)),
    /// Bind or Execute: a prepared statement runs, its text is not in the message.
    Bound,
    Other,
}

/// The first frontend message of received bytes (`total` bytes arrived, `b` is what we read).
fn parse_message(b: &[u8], total: usize) -> Message {
    let (Some(&kind), Some(len)) = (b.first(), b.get(1..5)) else {
        return Message::Other;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if len < 4 {
        return Message::Other;
    }
    let body = b.get(5..).unwrap_or_default();
    let cut = total > b.len();
    let text = match kind {
        b'Q' => body,
        // Parse: statement name, NUL, text, NUL, parameter types.
        b'P' => match body.iter().position(|&c| c == 0) {
            Some(i) => body.get(i + 1..).unwrap_or_default(),
            None => return Message::Other,
        },
        b'B' | b'E' => return Message::Bound,
        _ => return Message::Other,
    };
    let (text, ended) = match text.iter().position(|&c| c == 0) {
        Some(i) => (text.get(..i).unwrap_or_default(), true),
        None => (text, false),
    };
    let (q, truncated) = fold(text, !ended && cut);
    if q.is_empty() {
        return Message::Other;
    }
    Message::Statement((q, truncated))
}

/// Statement text for one line: whitespace runs folded to one space, cut at [`QUERY_LIMIT`]
/// bytes on a character boundary. `cut`: the text was already cut short.
pub fn fold(text: &[u8], cut: bool) -> (String, bool) {
    let s = String::from_utf8_lossy(text);
    let mut out = String::with_capacity(s.len().min(QUERY_LIMIT));
    let mut space = false;
    for c in s.trim().chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if out.len() + c.len_utf8() + usize::from(space) > QUERY_LIMIT {
            return (out, true);
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    (out, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![kind];
        v.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn statements_from_messages() {
        let q = msg(b'Q', b"SELECT  1\n  FROM t;\0");
        match parse_message(&q, q.len()) {
            Message::Statement((s, false)) => assert_eq!(s, "SELECT 1 FROM t;"),
            _ => panic!("no statement"),
        }
        let p = msg(b'P', b"stmt1\0SELECT $1\0\0\0");
        match parse_message(&p, p.len()) {
            Message::Statement((s, false)) => assert_eq!(s, "SELECT $1"),
            _ => panic!("no statement"),
        }
        // A message cut by our read is marked truncated.
        let q = msg(b'Q', b"SELECT 12345\0");
        match parse_message(&q[..10], q.len()) {
            Message::Statement((s, true)) => assert_eq!(s, "SELEC"),
            _ => panic!("no statement"),
        }
        assert!(matches!(
            parse_message(&msg(b'B', b"\0\0"), 7),
            Message::Bound
        ));
        // A startup packet (length first) and garbage are not statements.
        let startup = [0u8, 0, 0, 8, 4, 210, 22, 47];
        assert!(matches!(parse_message(&startup, 8), Message::Other));
        assert!(matches!(parse_message(b"Q", 1), Message::Other));
        assert!(matches!(parse_message(&[], 0), Message::Other));
    }

    #[test]
    fn long_statements_are_cut_on_a_char_boundary() {
        let long = "é".repeat(QUERY_LIMIT);
        let (s, cut) = fold(long.as_bytes(), false);
        assert!(cut);
        assert!(s.len() <= QUERY_LIMIT && s.chars().all(|c| c == 'é'));
        assert_eq!(fold(b"  a \t b  ", false), ("a b".to_string(), false));
    }

    #[test]
    fn titles() {
        let p = |t: &str| parse_title(t, false);
        assert_eq!(
            p("postgres: parallel worker for PID 14110 "),
            Some((Kind::Worker, "parallel worker".into(), Some(14110)))
        );
        assert_eq!(
            p("postgres: 15/main: checkpointer "),
            Some((Kind::Quiet, "checkpointer".into(), None))
        );
        assert_eq!(
            p("postgres: alice db [local] idle"),
            Some((Kind::Client, "backend".into(), None))
        );
        assert_eq!(
            p("postgres: alice db 10.0.0.1(5432) SELECT"),
            Some((Kind::Client, "backend".into(), None))
        );
        assert_eq!(p("/usr/lib/postgresql/15/bin/postgres -D x"), None);
        assert_eq!(
            parse_title("/usr/lib/postgresql/15/bin/postgres", true),
            Some((Kind::Quiet, "postmaster".into(), None))
        );
    }

    /// Everything written to a printer's output.
    #[derive(Clone, Default)]
    struct Captured(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn printed(sink: &mut dyn crate::output::Sink, out: &Captured, evs: &[Event]) -> String {
        for e in evs {
            sink.event(e);
        }
        sink.finish();
        String::from_utf8_lossy(&out.0.borrow()).into_owned()
    }

    fn t(s: u64) -> Timestamp {
        std::time::Duration::from_secs(s)
    }

    /// In text: a worker's role line and the query line cut other lines; a role without a
    /// leader prints nothing (JSON carries it).
    #[test]
    fn notes_in_text() {
        use crate::output::{TextOpts, strace::TextPrinter};
        let evs = vec![
            Event::Attached {
                pid: 1,
                time: t(0),
                ns_pid: None,
            },
            Event::Attached {
                pid: 2,
                time: t(0),
                ns_pid: None,
            },
            Event::SyscallEntry {
                pid: 1,
                time: t(1),
                nr: 0,
                name: "read".into(),
                args: vec![Value::Int(0)],
                more: true,
                raw_args: [0; 6],
                ip: 0,
            },
            role_note(2, t(1), "backend".into(), None),
            role_note(2, t(1), "parallel worker".into(), Some(1)),
            query_note(2, t(1), "SELECT '\x1b'".into(), true),
        ];
        let out = Captured::default();
        let mut p = TextPrinter::new(Box::new(out.clone()), TextOpts::default());
        assert_eq!(
            printed(&mut p, &out, &evs),
            "[pid     1] read(0,  <unfinished ...>\n\
             # pid 2 role: parallel worker for 1\n\
             # pid 2 query: SELECT '\\33'...\n"
        );
    }

    /// In JSON: a noted tracee's syscall objects carry role, leader_pid, query and the DSM
    /// segment a call names; another tracee's carry none of them.
    #[test]
    fn notes_and_segments_in_json() {
        use crate::output::json::JsonPrinter;
        let mut a = PgAnnotator::new();
        let mut pg = PgTracee::new();
        pg.noted = true;
        a.tracees.insert(9, pg);
        let args = vec![
            Value::Fd {
                fd: 7,
                path: Some("/dev/shm/PostgreSQL.42".into()),
            },
            Value::Int(4096),
        ];
        let exit = |pid: i32| Event::SyscallExit {
            pid,
            time: t(2),
            nr: nr::FTRUNCATE,
            name: "ftruncate".into(),
            args: args.clone(),
            raw_args: [7, 4096, 0, 0, 0, 0],
            ret: Ret::Int(0),
            duration: std::time::Duration::ZERO,
            cpu: None,
            stack: Vec::new(),
            fields: a.call_fields(pid, &args, &Ret::Int(0)),
            injected: false,
            poked: false,
            delayed: false,
            dump: None,
            ip: 0,
        };
        let evs = vec![
            role_note(9, t(1), "parallel worker".into(), Some(8)),
            query_note(9, t(1), "SELECT 1".into(), true),
            exit(9),
            exit(10),
        ];
        let out = Captured::default();
        let mut p = JsonPrinter::new(Box::new(out.clone()));
        let text = printed(&mut p, &out, &evs);
        let l: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
            .collect();
        assert_eq!(l.len(), 2, "notes print no object of their own: {l:?}");
        assert_eq!(l[0]["role"], "parallel worker");
        assert_eq!(l[0]["leader_pid"], 8);
        assert_eq!(l[0]["query"], "SELECT 1...");
        assert_eq!(l[0]["dsm"], "PostgreSQL.42");
        assert!(
            l[1].get("role").is_none() && l[1].get("dsm").is_none(),
            "{}",
            l[1]
        );
    }
}
