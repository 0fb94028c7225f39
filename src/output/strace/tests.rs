//! The text printer's tests: strace's line shapes, pid prefixes, interleaving, notes.

use super::*;
use crate::syscalls::table;
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

/// A writer the test can read back.
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

fn run(o: TextOpts, evs: &[Event]) -> String {
    let s = Shared::default();
    let mut p = TextPrinter::new(Box::new(s.clone()), o);
    for e in evs {
        p.event(e);
    }
    p.finish();
    let v = s.0.borrow().clone();
    String::from_utf8(v).expect("test input is well-formed")
}

fn t(us: u64) -> Timestamp {
    Duration::from_micros(1_700_000_000_000_000 + us)
}

fn val(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

fn ret(r: &Ret) -> String {
    let mut s = String::new();
    write_ret(&mut s, r);
    s
}

fn bytes(b: &[u8]) -> Value {
    Value::Str {
        bytes: b.to_vec(),
        truncated: false,
    }
}

fn entry(pid: i32, us: u64, nr: u64, name: &'static str, args: Vec<Value>) -> Event {
    // As the decoders do for these tests' calls: output arguments follow when the table
    // has more registers than the entry printed; fcntl(F_GETFL) prints all at entry.
    let more =
        name != "fcntl" && table::lookup(nr).is_some_and(|i| args.len() < usize::from(i.nargs));
    Event::SyscallEntry {
        pid,
        time: t(us),
        nr,
        name: name.into(),
        args,
        more,
        raw_args: [0; 6],
        ip: 0,
    }
}

fn exit(pid: i32, us: u64, nr: u64, name: &'static str, args: Vec<Value>, ret: Ret) -> Event {
    Event::SyscallExit {
        pid,
        time: t(us),
        nr,
        name: name.into(),
        args,
        raw_args: [0; 6],
        ret,
        duration: Duration::from_micros(19),
        cpu: None,
        stack: Vec::new(),
        fields: Vec::new(),
        injected: false,
        poked: false,
        delayed: false,
        dump: None,
        ip: 0,
    }
}

fn attached(pid: i32) -> Event {
    Event::Attached {
        pid,
        time: t(0),
        ns_pid: None,
    }
}

fn fd(n: i32) -> Value {
    Value::Fd { fd: n, path: None }
}

#[test]
fn strings_escape_like_strace() {
    // Observed: write(1, "a\n\t\"\\\1\177\200\377 z\r\v\f\10\7\33\0", 18)
    let b = b"a\n\t\"\\\x01\x7f\x80\xff z\r\x0b\x0c\x08\x07\x1b\x00";
    assert_eq!(
        val(&bytes(b)),
        r#""a\n\t\"\\\1\177\200\377 z\r\v\f\10\7\33\0""#
    );
    // An octal digit after an escape forces three digits: "\0015\09\1778 8\0370".
    assert_eq!(
        val(&bytes(b"\x015\x009\x7f8 8\x1f0")),
        r#""\0015\09\1778 8\0370""#
    );
    assert_eq!(val(&bytes("é".as_bytes())), r#""\303\251""#);
    let tr = Value::Str {
        bytes: b"hello world this is a long strin".to_vec(),
        truncated: true,
    };
    assert_eq!(val(&tr), r#""hello world this is a long strin"..."#);
}

#[test]
fn notes_cut_other_lines_and_only_lines_are_printed() {
    let note = |pid: i32, line: Option<(&'static str, &str)>| Event::Note {
        pid,
        time: t(1),
        note: Note {
            line: line.map(|(k, v)| (k, v.to_string())),
            fields: Vec::new(),
        },
    };
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
        entry(1, 1, 0, "read", vec![Value::Int(0)]),
        note(2, None),
        note(2, Some(("role", "parallel worker for 1"))),
        note(2, Some(("query", "SELECT '\x1b'..."))),
    ];
    let out = run(TextOpts::default(), &evs);
    assert_eq!(
        out,
        "[pid     1] read(0,  <unfinished ...>\n\
         # pid 2 role: parallel worker for 1\n\
         # pid 2 query: SELECT '\\33'...\n"
    );
}

#[test]
fn values() {
    assert_eq!(val(&Value::Int(-1)), "-1");
    assert_eq!(val(&Value::UInt(u64::MAX)), "18446744073709551615");
    assert_eq!(val(&Value::Hex(0x1f)), "0x1f");
    assert_eq!(val(&Value::Hex(0)), "0");
    assert_eq!(val(&Value::Oct(0)), "000");
    assert_eq!(val(&Value::Oct(0o600)), "0600");
    assert_eq!(val(&Value::Oct(0o22)), "022");
    assert_eq!(val(&Value::Oct(0o7)), "007");
    assert_eq!(val(&Value::Ptr(0)), "NULL");
    assert_eq!(val(&Value::Ptr(0x7ffd1000)), "0x7ffd1000");
    assert_eq!(val(&fd(3)), "3");
    let p = Value::Fd {
        fd: 3,
        path: Some("/tmp/outh/a>b|c d\"e'f\\g<h".into()),
    };
    // Observed: 3</tmp/outh/a\76b|c d\"e'f\\g\74h>
    assert_eq!(val(&p), r#"3</tmp/outh/a\76b|c d\"e'f\\g\74h>"#);
    let p = Value::Fd {
        fd: 3,
        path: Some("/tmp/outh/f\nx\x01y".into()),
    };
    assert_eq!(val(&p), r"3</tmp/outh/f\nx\1y>");
    let p = Value::Fd {
        fd: 11,
        path: Some("/memfd:pgmem (deleted)".into()),
    };
    assert_eq!(val(&p), "11</memfd:pgmem>(deleted)");
    assert_eq!(val(&Value::sym("AT_FDCWD")), "AT_FDCWD");
    assert_eq!(val(&Value::Sym(Cow::Owned("A\x1b[2J".into()))), r"A\33[2J");
    assert_eq!(val(&Value::Flags(vec![])), "0");
    assert_eq!(
        val(&Value::Flags(vec!["O_RDWR".into(), "O_CREAT".into()])),
        "O_RDWR|O_CREAT"
    );
    let s = Value::structure(vec![("tv_sec", Value::Int(1)), ("tv_nsec", Value::Int(2))]);
    assert_eq!(val(&s), "{tv_sec=1, tv_nsec=2}");
    let s = Value::structure(vec![("", Value::Int(1)), ("", Value::Elided)]);
    assert_eq!(val(&s), "{1, ...}");
    assert_eq!(val(&Value::Array(vec![fd(3), fd(4)])), "[3, 4]");
    assert_eq!(val(&Value::Array(vec![])), "[]");
    assert_eq!(val(&Value::Raw("\u{9b}x\x07".into())), r"\302\233x\7");
}

#[test]
fn returns() {
    assert_eq!(ret(&Ret::Int(0)), "0");
    assert_eq!(ret(&Ret::Hex(0x7f212f1a7000)), "0x7f212f1a7000");
    let r = Ret::Fd {
        fd: 3,
        path: Some("/dev/shm/PostgreSQL.1".into()),
    };
    assert_eq!(ret(&r), "3</dev/shm/PostgreSQL.1>");
    assert_eq!(
        ret(&Ret::Error { errno: 28 }),
        "-1 ENOSPC (No space left on device)"
    );
    assert_eq!(
        ret(&Ret::Error { errno: 512 }),
        "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
    );
    assert_eq!(
        ret(&Ret::Error { errno: 516 }),
        "? ERESTART_RESTARTBLOCK (Interrupted by signal)"
    );
    assert_eq!(ret(&Ret::Error { errno: 519 }), "-1 (errno 519)");
    assert_eq!(ret(&Ret::Unknown), "?");
    let r = Ret::Annotated {
        value: Box::new(Ret::Hex(0x8002)),
        note: "flags O_RDWR|O_LARGEFILE".into(),
    };
    assert_eq!(ret(&r), "0x8002 (flags O_RDWR|O_LARGEFILE)");
}

/// write(1, "123...", n) lines of 39, 40 and 41 characters, as observed.
#[test]
fn alignment() {
    let mut evs = vec![attached(1)];
    for n in [23usize, 24, 25] {
        let s = b"12345678901234567890123456"[..n].to_vec();
        let a = vec![fd(1), bytes(&s), Value::UInt(n as u64)];
        evs.push(entry(1, 0, 1, "write", a.clone()));
        evs.push(exit(1, 0, 1, "write", a, Ret::Int(n as i64)));
    }
    evs.push(exit(1, 0, 39, "getpid", vec![], Ret::Int(4178)));
    assert_eq!(
        run(TextOpts::default(), &evs),
        "write(1, \"12345678901234567890123\", 23) = 23\n\
         write(1, \"123456789012345678901234\", 24) = 24\n\
         write(1, \"1234567890123456789012345\", 25) = 25\n\
         getpid()                                = 4178\n"
    );
}

/// The fork example (c.c) under `strace -f` to stderr, as observed.
/// Calls the kernel ended (a tracee killed or gone): ` <unfinished ...>` only where
/// arguments were still to come, as strace; a thread's execve: the leader's call ends,
/// `+++ superseded by execve in pid T +++`, the execve resumed under the leader's pid;
/// an execve line still open when that happens ends with ` <pid changed to P ...>`.
#[test]
fn superseded_and_calls_ended_by_the_kernel() {
    let execve = || {
        vec![
            bytes(b"/bin/true"),
            Value::Array(vec![bytes(b"true")]),
            Value::Ptr(0),
        ]
    };
    let killed = |pid: i32, us: u64| Event::Killed {
        pid,
        time: t(us),
        sig: 9,
        core: false,
    };
    let evs = vec![
        attached(20),
        attached(21),
        attached(22),
        entry(21, 1, 0, "read", vec![fd(3)]),
        entry(22, 2, 34, "pause", vec![]),
        entry(20, 3, 34, "pause", vec![]),
        killed(21, 4),
        entry(22, 5, 59, "execve", execve()),
        Event::Superseded {
            pid: 20,
            former: 22,
            time: t(6),
        },
        exit(20, 7, 59, "execve", execve(), Ret::Int(0)),
    ];
    assert_eq!(
        run(TextOpts::default(), &evs),
        "[pid    21] read(3,  <unfinished ...>\n\
         [pid    22] pause( <unfinished ...>\n\
         [pid    20] pause( <unfinished ...>\n\
         [pid    21] <... read resumed> <unfinished ...>) = ?\n\
         [pid    21] +++ killed by SIGKILL +++\n\
         [pid    22] execve(\"/bin/true\", [\"true\"], NULL <unfinished ...>\n\
         [pid    20] <... pause resumed>)        = ?\n\
         +++ superseded by execve in pid 22 +++\n\
         <... execve resumed>)                   = 0\n"
    );
    // The execve line still open: the pid change ends it; -qqq drops the superseded line.
    let evs = vec![
        attached(20),
        attached(22),
        entry(22, 5, 59, "execve", execve()),
        Event::Superseded {
            pid: 20,
            former: 22,
            time: t(6),
        },
        exit(20, 7, 59, "execve", execve(), Ret::Int(0)),
    ];
    let quiet = TextOpts {
        quiet: super::super::quiet_set("all").unwrap_or_default(),
        ..TextOpts::default()
    };
    assert_eq!(
        run(quiet, &evs),
        "[pid    22] execve(\"/bin/true\", [\"true\"], NULL <pid changed to 20 ...>\n\
         <... execve resumed>)                   = 0\n"
    );
}

#[test]
fn unfinished_and_resumed_with_pid_prefix() {
    let buf100 = vec![fd(3), bytes(b"abc"), Value::UInt(100)];
    let w = vec![fd(4), bytes(b"abc"), Value::UInt(3)];
    let evs = vec![
        attached(4689),
        exit(4689, 0, 39, "getpid", vec![], Ret::Int(4689)),
        attached(4690),
        entry(4689, 1, 0, "read", vec![fd(3)]),
        entry(4690, 2, 1, "write", w.clone()),
        exit(4689, 3, 0, "read", buf100, Ret::Int(3)),
        exit(4690, 4, 1, "write", w, Ret::Int(3)),
        entry(4690, 5, 231, "exit_group", vec![Value::Int(5)]),
        entry(4689, 6, 61, "wait4", vec![Value::Int(4690)]),
        Event::Exited {
            pid: 4690,
            time: t(7),
            code: 5,
        },
        exit(
            4689,
            8,
            61,
            "wait4",
            vec![
                Value::Int(4690),
                Value::Ptr(0),
                Value::Int(0),
                Value::Ptr(0),
            ],
            Ret::Int(4690),
        ),
        entry(4689, 9, 231, "exit_group", vec![Value::Int(0)]),
        Event::Exited {
            pid: 4689,
            time: t(10),
            code: 0,
        },
    ];
    let o = TextOpts {
        follow: 1,
        ..TextOpts::default()
    };
    assert_eq!(
        run(o, &evs),
        "getpid()                                = 4689\n\
         pgstrace: Process 4690 attached\n\
         [pid  4689] read(3,  <unfinished ...>\n\
         [pid  4690] write(4, \"abc\", 3 <unfinished ...>\n\
         [pid  4689] <... read resumed>\"abc\", 100) = 3\n\
         [pid  4690] <... write resumed>)        = 3\n\
         [pid  4690] exit_group(5)               = ?\n\
         [pid  4689] wait4(4690,  <unfinished ...>\n\
         [pid  4690] +++ exited with 5 +++\n\
         <... wait4 resumed>NULL, 0, NULL)       = 4690\n\
         exit_group(0)                           = ?\n\
         +++ exited with 0 +++\n"
    );
}

/// `-f -o FILE`: every line starts `PID  `, even with one tracee.
#[test]
fn pid_column_in_files() {
    let evs = vec![
        attached(4694),
        exit(4694, 0, 39, "getpid", vec![], Ret::Int(4694)),
        attached(4695),
        entry(4694, 1, 0, "read", vec![fd(3)]),
        exit(
            4695,
            2,
            35,
            "nanosleep",
            vec![Value::Elided, Value::Ptr(0)],
            Ret::Int(0),
        ),
        Event::Killed {
            pid: 4694,
            time: t(3),
            sig: 9,
            core: false,
        },
        Event::Exited {
            pid: 4695,
            time: t(4),
            code: 0,
        },
    ];
    let o = TextOpts {
        follow: 1,
        to_file: true,
        quiet: 1,
        ..TextOpts::default()
    };
    assert_eq!(
        run(o, &evs),
        "4694  getpid()                          = 4694\n\
         4694  read(3,  <unfinished ...>\n\
         4695  nanosleep(..., NULL)              = 0\n\
         4694  <... read resumed> <unfinished ...>) = ?\n\
         4694  +++ killed by SIGKILL +++\n\
         4695  +++ exited with 0 +++\n"
    );
    // Without -f, no prefix.
    let o = TextOpts {
        to_file: true,
        ..TextOpts::default()
    };
    let evs = vec![attached(7), exit(7, 0, 39, "getpid", vec![], Ret::Int(7))];
    assert_eq!(
        run(o, &evs),
        "getpid()                                = 7\n"
    );
}

#[test]
fn killed_detached_and_signals() {
    let evs = vec![
        attached(9),
        entry(9, 0, 0, "read", vec![fd(0)]),
        Event::Killed {
            pid: 9,
            time: t(1),
            sig: 9,
            core: false,
        },
        attached(10),
        Event::Signal {
            pid: 10,
            time: t(2),
            sig: 10,
            info: Value::structure(vec![
                ("si_signo", Value::sym("SIGUSR1")),
                ("si_code", Value::sym("SI_USER")),
                ("si_pid", Value::Int(10)),
                ("si_uid", Value::Int(0)),
            ]),
            stack: Vec::new(),
            ip: None,
        },
        Event::Stopped {
            pid: 10,
            time: t(3),
            sig: 19,
        },
        entry(10, 4, 0, "read", vec![fd(0)]),
        Event::Detached {
            pid: 10,
            time: t(5),
        },
        attached(11),
        entry(11, 4, 231, "exit_group", vec![Value::Int(0)]),
        Event::Killed {
            pid: 11,
            time: t(5),
            sig: 6,
            core: true,
        },
    ];
    assert_eq!(
        run(TextOpts::default(), &evs),
        "read(0,  <unfinished ...>)              = ?\n\
         +++ killed by SIGKILL +++\n\
         pgstrace: Process 10 attached\n\
         --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=10, si_uid=0} ---\n\
         --- stopped by SIGSTOP ---\n\
         read(0,  <detached ...>\n\
         pgstrace: Process 10 detached\n\
         pgstrace: Process 11 attached\n\
         exit_group(0)                           = ?\n\
         +++ killed by SIGABRT (core dumped) +++\n"
    );
}

#[test]
fn quiet_levels() {
    let evs = vec![
        attached(1),
        exit(1, 0, 39, "getpid", vec![], Ret::Int(1)),
        attached(2),
        Event::Exited {
            pid: 2,
            time: t(1),
            code: 0,
        },
        Event::Killed {
            pid: 1,
            time: t(2),
            sig: 9,
            core: false,
        },
    ];
    let o = TextOpts {
        quiet: super::super::QUIET_ATTACH | super::super::QUIET_EXIT,
        ..TextOpts::default()
    };
    assert_eq!(
        run(o, &evs),
        "getpid()                                = 1\n\
         +++ killed by SIGKILL +++\n"
    );
}

#[test]
fn timestamps_relative_and_durations() {
    let evs = vec![
        attached(1),
        exit(1, 120, 39, "getpid", vec![], Ret::Int(1)),
        exit(1, 250, 39, "getpid", vec![], Ret::Int(1)),
    ];
    let o = TextOpts {
        timestamps: 3,
        durations: true,
        ..TextOpts::default()
    };
    assert_eq!(
        run(o, &evs),
        "1700000000.000101 getpid()              = 1 <0.000019>\n\
         1700000000.000231 getpid()              = 1 <0.000019>\n"
    );
    let o = TextOpts {
        relative: true,
        ..TextOpts::default()
    };
    assert_eq!(
        run(o, &evs),
        "     0.000000 getpid()                  = 1\n     \
         0.000130 getpid()                  = 1\n"
    );
    let o = TextOpts {
        relative: true,
        timestamps: 3,
        ..TextOpts::default()
    };
    assert_eq!(
        run(o, &evs[..2]),
        "1700000000.000101 (+     0.000000) getpid() = 1\n"
    );
    // -tt: local time; check the shape only (the time zone is the machine's).
    let o = TextOpts {
        timestamps: 2,
        follow: 1,
        to_file: true,
        ..TextOpts::default()
    };
    let s = run(o, &evs[..2]);
    let b = s.as_bytes();
    assert_eq!(&s[..6], "1     ");
    assert_eq!((b[8], b[11], b[14], b[21]), (b':', b':', b'.', b' '));
    assert_eq!(&s[14..], ".000101 getpid()          = 1\n");
}

/// Colour adds escapes only: stripped of them, the text is the plain text.
#[test]
fn colour_changes_nothing_but_escapes() {
    let a = vec![fd(3), Value::Int(0), Value::Int(0), Value::Int(50438144)];
    let evs = vec![
        attached(1),
        entry(1, 0, 285, "fallocate", a.clone()),
        exit(1, 1, 285, "fallocate", a, Ret::Error { errno: 28 }),
        Event::Exited {
            pid: 1,
            time: t(2),
            code: 0,
        },
    ];
    let plain = run(TextOpts::default(), &evs);
    let o = TextOpts {
        colour: true,
        ..TextOpts::default()
    };
    let col = run(o, &evs);
    assert_ne!(plain, col);
    let mut stripped = String::new();
    let mut esc = false;
    for c in col.chars() {
        if esc {
            esc = c != 'm';
        } else if c == '\x1b' {
            esc = true;
        } else {
            stripped.push(c);
        }
    }
    assert_eq!(stripped, plain);
    assert_eq!(
        plain,
        "fallocate(3, 0, 0, 50438144)            = -1 ENOSPC (No space left on device)\n\
         +++ exited with 0 +++\n"
    );
}

/// fcntl(F_GETFL) prints two of its three arguments, all at entry: no `, ` unless the
/// line is cut, and then the guess from the table applies.
#[test]
fn separator_is_decided_at_exit() {
    let a = vec![fd(4), Value::sym("F_GETFL")];
    let r = Ret::Annotated {
        value: Box::new(Ret::Hex(0x8002)),
        note: "flags O_RDWR|O_LARGEFILE".into(),
    };
    let evs = vec![
        attached(1),
        entry(1, 0, 72, "fcntl", a.clone()),
        exit(1, 0, 72, "fcntl", a.clone(), r.clone()),
        attached(2),
        entry(1, 0, 72, "fcntl", a.clone()),
        exit(2, 0, 39, "getpid", vec![], Ret::Int(2)),
        exit(1, 0, 72, "fcntl", a, r),
    ];
    assert_eq!(
        run(TextOpts::default(), &evs),
        "fcntl(4, F_GETFL)                       = 0x8002 (flags O_RDWR|O_LARGEFILE)\n\
         pgstrace: Process 2 attached\n\
         [pid     1] fcntl(4, F_GETFL <unfinished ...>\n\
         [pid     2] getpid()                    = 2\n\
         [pid     1] <... fcntl resumed>)        = 0x8002 (flags O_RDWR|O_LARGEFILE)\n"
    );
}

/// An exit that arrives with fewer printed arguments than the table says still closes
/// the parenthesis, and an exit of a call never entered prints the whole line.
#[test]
fn odd_sequences_do_not_break_lines() {
    let evs = vec![
        attached(1),
        attached(2),
        entry(1, 0, 0, "read", vec![fd(3)]),
        entry(1, 0, 0, "read", vec![fd(4)]),
        exit(2, 0, 0, "read", vec![fd(5)], Ret::Int(0)),
        exit(1, 0, 0, "read", vec![fd(4)], Ret::Int(0)),
    ];
    assert_eq!(
        run(TextOpts::default(), &evs),
        "[pid     1] read(3,  <unfinished ...>\n\
         [pid     1] read(4,  <unfinished ...>\n\
         [pid     2] read(5)                     = 0\n\
         [pid     1] <... read resumed>)         = 0\n"
    );
}
