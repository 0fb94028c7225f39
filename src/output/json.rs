//! NDJSON: one JSON object per line per event, for scripts.
//!
//! Shapes (every object has `event`, `pid` and `time`, seconds since the epoch as a float):
//!
//! - `{"event":"syscall","pid":N,"time":T,"syscall":"fallocate","args":[...],
//!   "raw_args":[6 numbers],"ret":N|null,"errno":"ENOSPC"|null,"duration_us":F}` at the
//!   exit stop (entries are not printed). `time` is when the call was entered. `ret` is
//!   null for errors and for calls that did not return; `errno` is the name, or the number
//!   when it has none.
//! - A call that never returned (`exit_group`, or the tracee died or was detached in it) is
//!   printed when that happens, with the arguments known at entry, `"ret":null,
//!   "errno":null,"unfinished":true`.
//! - Under `-k`, syscall and signal objects also carry `"stack":[{"object","symbol",
//!   "offset","address","file_offset","file","line","inlined","how"}, ...]`, innermost first.
//! - `{"event":"signal",...,"signal":"SIGUSR1","siginfo":{...}}`,
//!   `{"event":"stopped",...,"signal":"SIGSTOP"}`, `{"event":"exit",...,"code":0}`,
//!   `{"event":"killed",...,"signal":"SIGKILL","core":false}`, `{"event":"attached",...}`,
//!   `{"event":"detached",...}`.
//!
//! - Notes (`Event::Note`) print no object of their own: their fields go on the tracee's
//!   later syscall objects, and a call's own annotator fields on its object. For PostgreSQL
//!   tracees (unless `--no-pg`) that is `"role"` (`"backend"`, `"parallel worker"`, ... or
//!   null while not known), `"query"` (or null), `"leader_pid"` for a parallel worker, and
//!   `"dsm":"PostgreSQL.N"` when the call names a DSM segment (see `postgres::annotate`).
//!
//! Arguments: numbers as numbers (Hex/Oct too), a pointer as a number or null for NULL, a
//! file descriptor as `{"fd":3}` or `{"fd":3,"path":"..."}`, a string as a JSON string
//! (bytes decoded as lossy UTF-8, `...` appended when it was truncated), flags as a list of
//! names, symbols and pre-formatted text as strings, structures as objects (a field named
//! `""` is keyed by its position, `"0"`, `"1"`, ...), arrays as arrays, an elision as `"..."`.

use super::Sink;
use crate::event::{Event, FieldValue, NoteField, StackFrame, Timestamp};
use crate::syscalls::{Ret, Value, errno, signals};
use serde_json::{Map, Value as J, json};
use std::io::Write;

pub struct JsonPrinter {
    out: Box<dyn Write>,
    line: Vec<u8>,
    /// Each tracee's syscall in flight (name, entry time, arguments known at entry): printed
    /// as an unfinished call if the tracee exits, dies or is detached before it returns
    /// (`exit_group` always does).
    open: std::collections::HashMap<i32, OpenCall>,
    /// The note fields of each tracee, carried by its later syscall objects.
    noted: std::collections::HashMap<i32, Map<String, J>>,
}

fn field_json(v: &FieldValue) -> J {
    match v {
        FieldValue::Null => J::Null,
        FieldValue::Int(i) => json!(i),
        FieldValue::Text(t) => json!(t),
    }
}

impl JsonPrinter {
    /// Writes one object before the events (the trace's header).
    pub fn header(&mut self, v: J) {
        let _ = writeln!(self.out, "{v}");
    }

    pub fn new(out: Box<dyn Write>) -> Self {
        JsonPrinter {
            out,
            line: Vec::with_capacity(512),
            open: std::collections::HashMap::new(),
            noted: std::collections::HashMap::new(),
        }
    }

    fn write(&mut self, j: &J) {
        self.line.clear();
        if serde_json::to_writer(&mut self.line, j).is_ok() {
            escape_c1(&mut self.line);
            self.line.push(b'\n');
            // Write errors are recorded by the caller's writer.
            let _ = self.out.write_all(&self.line);
        }
    }

    /// `{"event":"syscall",...,"ret":null,"errno":null,"unfinished":true}` for `pid`'s call
    /// in flight, if any.
    fn unfinished(&mut self, pid: i32) {
        if let Some(c) = self.open.remove(&pid) {
            let j = json!({
                "event": "syscall",
                "pid": pid,
                "time": secs(c.time),
                "syscall": c.name,
                "args": c.args.iter().map(value_json).collect::<Vec<_>>(),
                "raw_args": c.raw_args,
                "ret": J::Null,
                "errno": J::Null,
                "duration_us": J::Null,
                "unfinished": true,
            });
            self.write(&j);
        }
    }
}

/// A call in flight, as its entry showed it.
struct OpenCall {
    name: std::borrow::Cow<'static, str>,
    time: Timestamp,
    args: Vec<Value>,
    raw_args: [u64; 6],
}

fn secs(t: Timestamp) -> f64 {
    t.as_secs_f64()
}

/// One argument as JSON.
pub fn value_json(v: &Value) -> J {
    match v {
        Value::Int(n) => json!(n),
        Value::UInt(n) | Value::Hex(n) | Value::Oct(n) => json!(n),
        Value::Ptr(0) => J::Null,
        Value::Ptr(p) => json!(p),
        Value::Fd { fd, path } => fd_json(*fd, path),
        Value::Pid {
            pid,
            comm: None,
            ours: None,
        } => json!(pid),
        Value::Pid { pid, comm, ours } => {
            let mut o = serde_json::Map::new();
            o.insert("pid".into(), json!(pid));
            if let Some(c) = comm {
                o.insert("comm".into(), json!(c));
            }
            if let Some(n) = ours {
                o.insert("pid_in_tracer_ns".into(), json!(n));
            }
            J::Object(o)
        }
        Value::Str { bytes, truncated } => match std::str::from_utf8(bytes) {
            Ok(text) => {
                let mut s = text.to_string();
                if *truncated {
                    s.push_str("...");
                }
                J::String(s)
            }
            // Not UTF-8: lossless as hex, with the text for reading (U+FFFD where a byte
            // is not UTF-8).
            Err(_) => {
                let mut hex = String::with_capacity(bytes.len() * 2);
                for b in bytes.iter() {
                    let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
                }
                json!({
                    "text": String::from_utf8_lossy(bytes),
                    "bytes_hex": hex,
                    "truncated": truncated,
                })
            }
        },
        Value::Sym(s) => J::String(s.to_string()),
        Value::Flags(f) => J::Array(f.iter().map(|s| J::String(s.to_string())).collect()),
        Value::Struct(fields) => {
            let mut m = Map::new();
            for (i, (k, v)) in fields.iter().enumerate() {
                let key = if k.is_empty() {
                    i.to_string()
                } else {
                    k.to_string()
                };
                m.insert(key, value_json(v));
            }
            J::Object(m)
        }
        Value::Array(items) => J::Array(items.iter().map(value_json).collect()),
        Value::Elided => J::String("...".into()),
        Value::Raw(s) => J::String(s.clone()),
    }
}

fn fd_json(fd: i32, path: &Option<String>) -> J {
    match path {
        // -yy's detail as the text strace prints between the brackets.
        Some(p) => {
            json!({"fd": fd, "path": p.strip_prefix(crate::syscalls::notation::PRINTED).unwrap_or(p)})
        }
        None => json!({"fd": fd}),
    }
}

/// `(ret, errno)` of a return value.
fn ret_json(r: &Ret) -> (J, J) {
    match r {
        Ret::Int(n) => (json!(n), J::Null),
        Ret::Hex(n) | Ret::Oct(n) => (json!(n), J::Null),
        Ret::Fd { fd, .. } => (json!(fd), J::Null),
        Ret::Pid { pid, .. } => (json!(pid), J::Null),
        Ret::Error { errno: e } => {
            let name = match errno::name(*e) {
                Some(n) => J::String(n.to_string()),
                None => json!(e),
            };
            (J::Null, name)
        }
        Ret::ValueError { value, errno: e } => {
            let name = match errno::name(*e) {
                Some(n) => J::String(n.to_string()),
                None => json!(e),
            };
            (json!(value), name)
        }
        Ret::Unknown => (J::Null, J::Null),
        Ret::Annotated { value, .. } => ret_json(value),
    }
}

/// The JSON object for one event; `None` for events not printed (syscall entries).
/// `-k` frames: `[{"object","symbol","offset","address","file_offset","file","line",
/// "inlined","how"}]`, innermost first.
pub fn stack_json(frames: &[StackFrame]) -> J {
    J::Array(
        frames
            .iter()
            .map(|f| {
                json!({
                    "object": f.object,
                    "symbol": f.symbol,
                    "offset": f.offset,
                    "address": f.address,
                    "file_offset": f.file_offset,
                    "file": f.file,
                    "line": f.line,
                    "inlined": f.inlined,
                    "how": f.how,
                })
            })
            .collect(),
    )
}

pub fn event_json(ev: &Event) -> Option<J> {
    Some(match ev {
        Event::SyscallEntry { .. } => return None,
        Event::SyscallExit {
            pid,
            time,
            name,
            args,
            raw_args,
            ret,
            duration,
            stack,
            injected,
            poked,
            delayed,
            ..
        } => {
            let (ret, errno) = ret_json(ret);
            let mut obj = json!({
                "event": "syscall",
                "pid": pid,
                "time": secs(time.saturating_sub(*duration)),
                "syscall": name,
                "args": args.iter().map(value_json).collect::<Vec<_>>(),
                "raw_args": raw_args,
                "ret": ret,
                "errno": errno,
                // Whole nanoseconds divided once: no float noise (19.001, not 19.000999...).
                "duration_us": duration.as_nanos() as f64 / 1000.0,
            });
            if !stack.is_empty() {
                obj["stack"] = stack_json(stack);
            }
            if *injected {
                obj["injected"] = json!(true);
            }
            if *poked {
                obj["poked"] = json!(true);
            }
            if *delayed {
                obj["delayed"] = json!(true);
            }
            obj
        }
        Event::Attached { pid, time, ns_pid } => {
            let mut o = json!({"event": "attached", "pid": pid, "time": secs(*time)});
            if let Some(n) = ns_pid {
                o["ns_pid"] = json!(n);
            }
            o
        }
        Event::Signal {
            pid,
            time,
            sig,
            info,
            stack,
            ..
        } => {
            let mut obj = json!({
                "event": "signal",
                "pid": pid,
                "time": secs(*time),
                "signal": signals::name(*sig),
                "siginfo": value_json(info),
            });
            if !stack.is_empty() {
                obj["stack"] = stack_json(stack);
            }
            obj
        }
        Event::Stopped { pid, time, sig } => json!({
            "event": "stopped",
            "pid": pid,
            "time": secs(*time),
            "signal": signals::name(*sig),
        }),
        Event::Exited { pid, time, code } => {
            json!({"event": "exit", "pid": pid, "time": secs(*time), "code": code})
        }
        Event::Superseded { pid, former, time } => {
            json!({"event": "superseded", "pid": pid, "time": secs(*time), "former": former})
        }
        Event::Killed {
            pid,
            time,
            sig,
            core,
        } => json!({
            "event": "killed",
            "pid": pid,
            "time": secs(*time),
            "signal": signals::name(*sig),
            "core": core,
        }),
        Event::Detached { pid, time } => {
            json!({"event": "detached", "pid": pid, "time": secs(*time)})
        }
        Event::Note { .. } => return None,
        Event::Lost { time, count } => match count {
            Some(n) => json!({"event": "lost", "count": n, "time": secs(*time)}),
            None => {
                json!({"event": "lost", "count": null, "ring_full_at_end": true, "time": secs(*time)})
            }
        },
        Event::UnknownExit { pid, time } => {
            json!({"event": "unknown_exit", "pid": pid, "time": secs(*time)})
        }
        Event::TamperFailed { pid, time, why } => {
            json!({"event": "tamper_failed", "pid": pid, "why": why, "time": secs(*time)})
        }
    })
}

/// Rewrites C1 control characters (U+0080..=U+009F, which some terminals obey) as `\u00XX`.
/// serde_json leaves them raw; they can only occur inside JSON strings, where the escape
/// means the same character.
fn escape_c1(line: &mut Vec<u8>) {
    let is_c1 = |w: &[u8]| matches!(w, [0xc2, 0x80..=0x9f]);
    if !line.windows(2).any(is_c1) {
        return;
    }
    let mut out = Vec::with_capacity(line.len() + 16);
    let mut i = 0;
    while let Some(&b) = line.get(i) {
        match line.get(i + 1) {
            Some(&n) if b == 0xc2 && (0x80..=0x9f).contains(&n) => {
                out.extend_from_slice(format!("\\u{n:04x}").as_bytes());
                i += 2;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    *line = out;
}

impl Sink for JsonPrinter {
    fn wants_fields(&self) -> bool {
        true
    }

    fn event(&mut self, ev: &Event) {
        match ev {
            Event::SyscallEntry {
                pid,
                time,
                name,
                args,
                raw_args,
                ..
            } => {
                self.open.insert(
                    *pid,
                    OpenCall {
                        name: name.clone(),
                        time: *time,
                        args: args.clone(),
                        raw_args: *raw_args,
                    },
                );
            }
            Event::SyscallExit { pid, .. } => {
                self.open.remove(pid);
            }
            Event::Exited { pid, .. } | Event::Killed { pid, .. } | Event::Detached { pid, .. } => {
                self.unfinished(*pid);
                self.noted.remove(pid);
            }
            Event::Superseded { pid, former, .. } => {
                // The leader's own call ends unfinished; the former's execve is the leader's.
                self.unfinished(*pid);
                if let Some(c) = self.open.remove(former) {
                    self.open.insert(*pid, c);
                }
                self.noted.remove(former);
            }
            Event::Note { pid, note, .. } => {
                let st = self.noted.entry(*pid).or_default();
                for f in &note.fields {
                    match f {
                        NoteField::Set(k, v) => {
                            st.insert((*k).to_string(), field_json(v));
                        }
                        NoteField::Default(k, v) => {
                            st.entry((*k).to_string()).or_insert_with(|| field_json(v));
                        }
                        NoteField::Unset(k) => {
                            st.remove(*k);
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(mut j) = event_json(ev) {
            if let Event::SyscallExit { pid, fields, .. } = ev {
                if let Some(st) = self.noted.get(pid) {
                    for (k, v) in st {
                        j[k.as_str()] = v.clone();
                    }
                }
                for (k, v) in fields {
                    j[*k] = field_json(v);
                }
            }
            self.write(&j);
        }
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
    }

    fn finish(&mut self) {
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// exit_group never returns: it is printed, unfinished, when the tracee exits.
    #[test]
    fn unfinished_call_is_printed_at_exit() {
        let evs = vec![
            Event::SyscallEntry {
                pid: 9,
                time: T,
                nr: 231,
                name: "exit_group".into(),
                args: vec![Value::Int(0)],
                more: false,
                raw_args: [0; 6],
                ip: 0,
            },
            Event::Exited {
                pid: 9,
                time: T,
                code: 0,
            },
        ];
        let t = 1_700_000_000.5;
        assert_eq!(
            lines(&evs),
            vec![
                json!({"event": "syscall", "pid": 9, "time": t, "syscall": "exit_group",
                       "args": [0], "raw_args": [0, 0, 0, 0, 0, 0], "ret": null,
                       "errno": null, "duration_us": null, "unfinished": true}),
                json!({"event": "exit", "pid": 9, "time": t, "code": 0}),
            ]
        );
    }

    /// A thread's execve: the leader's call is unfinished, a `superseded` object, and the
    /// execve's object under the leader's pid.
    #[test]
    fn superseded_moves_the_execve_to_the_leader() {
        let entry = |pid: i32, nr: u64, name: &'static str| Event::SyscallEntry {
            pid,
            time: T,
            nr,
            name: name.into(),
            args: vec![],
            more: false,
            raw_args: [0; 6],
            ip: 0,
        };
        let evs = vec![
            entry(20, 34, "pause"),
            entry(22, 59, "execve"),
            Event::Superseded {
                pid: 20,
                former: 22,
                time: T,
            },
            Event::Exited {
                pid: 20,
                time: T,
                code: 0,
            },
        ];
        let got = lines(&evs);
        let t = 1_700_000_000.5;
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(
            (got[0]["pid"].clone(), got[0]["syscall"].clone()),
            (json!(20), json!("pause"))
        );
        assert_eq!(
            got[1],
            json!({"event": "superseded", "pid": 20, "time": t, "former": 22})
        );
        assert_eq!(
            (got[2]["pid"].clone(), got[2]["syscall"].clone()),
            (json!(20), json!("execve"))
        );
    }

    fn lines(evs: &[Event]) -> Vec<J> {
        let s = Shared::default();
        let mut p = JsonPrinter::new(Box::new(s.clone()));
        for e in evs {
            p.event(e);
        }
        p.finish();
        let text = String::from_utf8(s.0.borrow().clone()).expect("test input is well-formed");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("test input is well-formed"))
            .collect()
    }

    const T: Duration = Duration::from_millis(1_700_000_000_500);

    #[test]
    fn syscall_at_exit_only() {
        let args = vec![
            Value::Fd {
                fd: 3,
                path: Some("/dev/shm/PostgreSQL.1".into()),
            },
            Value::Int(0),
            Value::Hex(0x10),
            Value::UInt(50438144),
        ];
        let evs = vec![
            Event::SyscallEntry {
                pid: 7,
                time: T,
                nr: 285,
                name: "fallocate".into(),
                args: args.clone(),
                more: false,
                raw_args: [0; 6],
                ip: 0,
            },
            Event::SyscallExit {
                pid: 7,
                time: T + Duration::from_micros(250),
                nr: 285,
                name: "fallocate".into(),
                args,
                raw_args: [3, 0, 16, 50438144, 0, 0],
                ret: Ret::Error { errno: 28 },
                duration: Duration::from_micros(250),
                cpu: None,
                stack: Vec::new(),
                fields: Vec::new(),
                injected: false,
                poked: false,
                delayed: false,
                dump: None,
                ip: 0,
            },
        ];
        let l = lines(&evs);
        assert_eq!(l.len(), 1);
        assert_eq!(
            l[0],
            json!({
                "event": "syscall", "pid": 7, "time": 1_700_000_000.5, "syscall": "fallocate",
                "args": [{"fd": 3, "path": "/dev/shm/PostgreSQL.1"}, 0, 16, 50438144],
                "raw_args": [3, 0, 16, 50438144, 0, 0],
                "ret": null, "errno": "ENOSPC", "duration_us": 250.0
            })
        );
    }

    #[test]
    fn note_fields_go_on_later_calls() {
        let exit = |pid: i32, fields: Vec<(&'static str, FieldValue)>| Event::SyscallExit {
            pid,
            time: T,
            nr: 77,
            name: "ftruncate".into(),
            args: vec![Value::Int(7), Value::Int(4096)],
            raw_args: [7, 4096, 0, 0, 0, 0],
            ret: Ret::Int(0),
            duration: Duration::ZERO,
            cpu: None,
            stack: Vec::new(),
            fields,
            injected: false,
            poked: false,
            delayed: false,
            dump: None,
            ip: 0,
        };
        let note = |fields: Vec<NoteField>| Event::Note {
            pid: 9,
            time: T,
            note: crate::event::Note {
                line: Some(("k", "text".into())),
                fields,
            },
        };
        let evs = vec![
            note(vec![
                NoteField::Set("a", FieldValue::Text("x".into())),
                NoteField::Default("b", FieldValue::Null),
                NoteField::Set("c", FieldValue::Int(8)),
            ]),
            note(vec![
                NoteField::Default("a", FieldValue::Text("not this".into())),
                NoteField::Unset("c"),
            ]),
            exit(9, vec![("d", FieldValue::Text("call".into()))]),
            // No notes about this tracee: only its call's own fields.
            exit(10, Vec::new()),
        ];
        let l = lines(&evs);
        assert_eq!(l.len(), 2, "notes print no object of their own: {l:?}");
        assert_eq!(l[0]["a"], "x");
        assert!(l[0]["b"].is_null() && l[0].get("b").is_some());
        assert!(l[0].get("c").is_none());
        assert_eq!(l[0]["d"], "call");
        assert!(
            l[1].get("a").is_none() && l[1].get("d").is_none(),
            "{}",
            l[1]
        );
    }

    #[test]
    fn values() {
        let v = Value::structure(vec![
            ("st_mode", Value::Flags(vec!["S_IFREG".into()])),
            ("", Value::Elided),
            ("p", Value::Ptr(0)),
            ("q", Value::Ptr(4096)),
            ("mode", Value::Oct(0o600)),
            (
                "s",
                Value::Str {
                    bytes: b"ab\xff".to_vec(),
                    truncated: true,
                },
            ),
            ("a", Value::Array(vec![Value::Fd { fd: 1, path: None }])),
            ("w", Value::sym("SEEK_SET")),
            ("r", Value::Raw("<x>".into())),
        ]);
        assert_eq!(
            value_json(&v),
            json!({"st_mode": ["S_IFREG"], "1": "...", "p": null, "q": 4096, "mode": 384,
                   "s": {"text": "ab\u{fffd}", "bytes_hex": "6162ff", "truncated": true},
                   "a": [{"fd": 1}], "w": "SEEK_SET", "r": "<x>"})
        );
    }

    #[test]
    fn c1_controls_are_escaped() {
        let ev = Event::Signal {
            pid: 1,
            time: T,
            sig: 10,
            info: Value::Str {
                bytes: b"a\xc2\x9b2J\x1b".to_vec(),
                truncated: false,
            },
            stack: Vec::new(),
            ip: None,
        };
        let s = Shared::default();
        let mut p = JsonPrinter::new(Box::new(s.clone()));
        p.event(&ev);
        let text = String::from_utf8(s.0.borrow().clone()).expect("test input is well-formed");
        assert!(text.contains(r#""siginfo":"a\u009b2J\u001b""#), "{text}");
        let back: J = serde_json::from_str(&text).expect("test input is well-formed");
        assert_eq!(back["siginfo"], json!("a\u{9b}2J\u{1b}"));
    }

    #[test]
    fn returns() {
        assert_eq!(ret_json(&Ret::Int(-5)), (json!(-5), J::Null));
        assert_eq!(ret_json(&Ret::Hex(0x7f00)), (json!(0x7f00), J::Null));
        let fd = Ret::Fd {
            fd: 3,
            path: Some("/x".into()),
        };
        assert_eq!(ret_json(&fd), (json!(3), J::Null));
        assert_eq!(ret_json(&Ret::Unknown), (J::Null, J::Null));
        assert_eq!(
            ret_json(&Ret::Error { errno: 512 }),
            (J::Null, json!("ERESTARTSYS"))
        );
        assert_eq!(ret_json(&Ret::Error { errno: 519 }), (J::Null, json!(519)));
        let a = Ret::Annotated {
            value: Box::new(Ret::Hex(0x8002)),
            note: "flags O_RDWR".into(),
        };
        assert_eq!(ret_json(&a), (json!(0x8002), J::Null));
    }

    #[test]
    fn process_events() {
        let evs = vec![
            Event::Attached {
                pid: 1,
                time: T,
                ns_pid: None,
            },
            Event::Signal {
                pid: 1,
                time: T,
                sig: 10,
                info: Value::structure(vec![("si_signo", Value::sym("SIGUSR1"))]),
                stack: Vec::new(),
                ip: None,
            },
            Event::Stopped {
                pid: 1,
                time: T,
                sig: 19,
            },
            Event::Exited {
                pid: 1,
                time: T,
                code: 3,
            },
            Event::Killed {
                pid: 2,
                time: T,
                sig: 9,
                core: true,
            },
            Event::Detached { pid: 3, time: T },
        ];
        let t = 1_700_000_000.5;
        assert_eq!(
            lines(&evs),
            vec![
                json!({"event": "attached", "pid": 1, "time": t}),
                json!({"event": "signal", "pid": 1, "time": t, "signal": "SIGUSR1",
                       "siginfo": {"si_signo": "SIGUSR1"}}),
                json!({"event": "stopped", "pid": 1, "time": t, "signal": "SIGSTOP"}),
                json!({"event": "exit", "pid": 1, "time": t, "code": 3}),
                json!({"event": "killed", "pid": 2, "time": t, "signal": "SIGKILL",
                       "core": true}),
                json!({"event": "detached", "pid": 3, "time": t}),
            ]
        );
    }
}

#[cfg(test)]
mod lossless_tests {
    use super::*;

    #[test]
    fn strings_that_are_not_utf8_keep_their_bytes() {
        let v = value_json(&Value::Str {
            bytes: b"ok\xff\x00z".to_vec(),
            truncated: false,
        });
        assert_eq!(v["bytes_hex"], "6f6bff007a");
        assert_eq!(v["text"], "ok\u{fffd}\u{0}z");
        let v = value_json(&Value::Str {
            bytes: "héllo".as_bytes().to_vec(),
            truncated: true,
        });
        assert_eq!(v, json!("héllo..."));
    }
}
