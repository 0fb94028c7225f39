//! strace compatibility: each fixture runs under strace and under pgstrace with identical
//! flags, and the normalised traces must match line by line (per process under -f, since
//! the interleaving of processes is up to the scheduler). Formats strace has no oracle for
//! (`--json`, `--histogram`) and timing columns are checked for shape only.

#[path = "support/compare.rs"]
mod compare;
#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/netns.rs"]
mod netns;

use fixtures::{Case, Pair, Tracer};
use std::path::Path;
use std::process::Command;

/// Runs `fixture` under both tracers and compares traces, fixture stdout and exit status.
fn compat(fixture: &str, flags: &[&str], args: &[&str]) -> Pair {
    let pair = Case::new(fixture, flags, args).run_both();
    check_pair(&format!("{fixture} {}", flags.join(" ")), &pair);
    pair
}

fn check_pair(what: &str, pair: &Pair) {
    let (s, p) = (&pair.strace, &pair.pgstrace);
    fixtures::assert_no_panic(what, &p.out.stderr);
    assert!(
        s.out.status.success(),
        "{what}: the fixture failed under strace (harness bug?): {:?}\n{}\n{}",
        s.out.status,
        s.out.stdout,
        s.out.stderr
    );
    assert!(
        !s.trace.trim().is_empty() || s.tracer != Tracer::Strace,
        "{what}: strace wrote no trace"
    );
    compare::assert_streams_eq(
        what,
        &fixtures::normalized_streams(&s.trace),
        &fixtures::normalized_streams(&p.trace),
    );
    assert_eq!(
        s.out.stdout, p.out.stdout,
        "{what}: the fixture printed something else under pgstrace"
    );
    assert_eq!(
        s.out.status.code(),
        p.out.status.code(),
        "{what}: exit status differs; pgstrace stderr:\n{}",
        p.out.stderr
    );
}

// --- file I/O ------------------------------------------------------------------------

#[test]
fn fileio_plain() {
    compat("fileio", &[], &["{dir}"]);
}

#[test]
fn fileio_decode_fds() {
    compat("fileio", &["-y"], &["{dir}"]);
}

#[test]
fn fileio_trace_file_class() {
    compat("fileio", &["-e", "trace=%file"], &["{dir}"]);
}

#[test]
fn fileio_trace_desc_class() {
    compat("fileio", &["-e", "trace=%desc"], &["{dir}"]);
}

#[test]
fn fileio_trace_named_set() {
    compat(
        "fileio",
        &["-e", "trace=ftruncate,fallocate,openat,memfd_create"],
        &["{dir}"],
    );
}

#[test]
fn fileio_trace_negated() {
    compat("fileio", &["-e", "trace=!write"], &["{dir}"]);
}

#[test]
fn fileio_status_failed() {
    compat("fileio", &["-e", "status=failed"], &["{dir}"]);
}

#[test]
fn fileio_status_successful() {
    compat("fileio", &["-e", "status=successful"], &["{dir}"]);
}

#[test]
fn fileio_strsize_8() {
    compat("fileio", &["-s", "8"], &["{dir}"]);
}

#[test]
fn fileio_align_20() {
    compat("fileio", &["-a", "20"], &["{dir}"]);
}

#[test]
fn fileio_quiet_exit() {
    compat("fileio", &["-qq"], &["{dir}"]);
}

#[test]
fn fileio_to_stderr() {
    // Without -o the trace goes to stderr, mixed with nothing else (the fixture prints to
    // stdout only); compare stderr as the trace.
    let mut case = Case::new("fileio", &[], &["{dir}"]);
    case.to_stderr = true;
    let mut pair = case.run_both();
    pair.strace.trace = std::mem::take(&mut pair.strace.out.stderr);
    pair.pgstrace.trace = std::mem::take(&mut pair.pgstrace.out.stderr);
    check_pair("fileio (trace on stderr)", &pair);
}

/// fallocate failing with ENOSPC on a tiny tmpfs, as on a container's /dev/shm. Needs a
/// private mount namespace (root); skipped with a note where `unshare -m` is not allowed.
#[test]
fn enospc_on_tiny_tmpfs() {
    let probe = Command::new("unshare")
        .args(["-m", "--propagation", "private", "true"])
        .output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!("skipped: unshare -m is not permitted here");
        return;
    }
    let mut case = Case::new("enospc", &["-y"], &["{dir}"]);
    case.wrapper = &[
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount -t tmpfs -o size=1m tmpfs {dir} && exec \"$@\"",
        "sh",
    ];
    let pair = case.run_both();
    check_pair("enospc -y", &pair);
    assert!(
        pair.pgstrace
            .trace
            .contains("ENOSPC (No space left on device)"),
        "no ENOSPC in pgstrace's trace:\n{}",
        pair.pgstrace.trace
    );
}

// --- memory, descriptors, sockets, signals -------------------------------------------

#[test]
fn memory_plain() {
    compat("memory", &[], &[]);
}

#[test]
fn memory_trace_memory_class() {
    compat("memory", &["-e", "trace=%memory"], &[]);
}

#[test]
fn fdio_plain() {
    compat("fdio", &[], &[]);
}

#[test]
fn fdio_decode_fds() {
    compat("fdio", &["-y"], &[]);
}

#[test]
fn unixnet_plain() {
    compat("unixnet", &[], &["{dir}"]);
}

#[test]
fn unixnet_network_class_decode_fds() {
    compat("unixnet", &["-y", "-e", "trace=%network"], &["{dir}"]);
}

/// `-yy`: UNIX sockets with their peers and paths (sock_diag; a peer that has closed is
/// still named, as strace remembers it), TCP and UDP over IPv4 and IPv6 with their
/// endpoints as each call finds them (bound, listening, connected), a bound netlink socket
/// (`NETLINK:[ROUTE:PORT]`), a device (`/dev/null<char 1:3>`).
#[test]
fn decode_fds_twice() {
    compat("unixnet", &["-yy"], &["{dir}"]);
    let pair = compat("inetnet", &["-yy"], &[]);
    let t = &pair.pgstrace.trace;
    for want in [
        "<TCP:[127.0.0.1:",
        "->127.0.0.1:",
        "<TCPv6:[[::1]:",
        "<UDP:[127.0.0.1:",
        "<NETLINK:[ROUTE:",
        "</dev/null<char 1:3>>",
    ] {
        assert!(t.contains(want), "{want} not in:\n{t}");
    }
    let u = compat("unixnet", &["-yy"], &["{dir}"]);
    assert!(
        u.pgstrace.trace.contains("<UNIX-STREAM:["),
        "{}",
        u.pgstrace.trace
    );
    // --decode-fds=SET: only the kinds asked for are decorated.
    for set in ["socket", "dev", "path", "path,socket", "all"] {
        let flag = format!("--decode-fds={set}");
        compat("inetnet", &[flag.as_str()], &[]);
        compat("unixnet", &[flag.as_str()], &["{dir}"]);
    }
    // `-e decode-fds=`, with strace's negation and empty entries.
    for set in ["decode-fds=!path", "decode-fds=socket,,dev"] {
        compat("unixnet", &["-e", set], &["{dir}"]);
    }
    // strace's refusals: -y beside --decode-fds, `all` beside a kind.
    for flags in [
        &["-y", "--decode-fds=path"][..],
        &["-e", "decode-fds=all,path"],
        &["-e", "decode-fds="],
    ] {
        refused_alike(flags);
    }
}

/// Both tracers refuse `FLAGS true` with exit status 1, pgstrace in one line.
fn refused_alike(flags: &[&str]) {
    let run = |prog: std::path::PathBuf| {
        Command::new(prog)
            .args(flags)
            .arg("true")
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let (s, p) = (run(fixtures::strace_bin()), run(fixtures::pgstrace_bin()));
    let pe = String::from_utf8_lossy(&p.stderr);
    assert_eq!(s.status.code(), Some(1), "{flags:?}");
    assert_eq!(p.status.code(), Some(1), "{flags:?}: {pe}");
    assert_eq!(pe.lines().count(), 1, "{flags:?}: {pe}");
}

/// The summary's options without `-c`/`-C`: `-w` and `-U` refused, `-S` warned about, as
/// strace does.
#[test]
fn summary_options_without_a_summary() {
    refused_alike(&["-w"]);
    refused_alike(&["-U", "calls"]);
    let out = Command::new(fixtures::pgstrace_bin())
        .args(["-S", "calls", "-o", "/dev/null", "true"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(
            "-S/--summary-sort-by has no effect without (-c/--summary-only or -C/--summary)"
        ),
        "{err}"
    );
}

#[test]
fn sigmisc_plain() {
    compat("sigmisc", &[], &[]);
}

#[test]
fn sigmisc_signal_none() {
    compat("sigmisc", &["-e", "signal=none"], &[]);
}

#[test]
fn sigmisc_signal_class() {
    compat("sigmisc", &["-e", "trace=%signal"], &[]);
}

#[test]
fn sigmisc_clock_class() {
    compat("sigmisc", &["-e", "trace=%clock"], &[]);
}

// --- processes and threads (-f) --------------------------------------------------------

#[test]
fn procs_follow_forks() {
    compat("procs", &["-f"], &[]);
}

#[test]
fn procs_process_class() {
    compat("procs", &["-f", "-e", "trace=%process"], &[]);
}

#[test]
fn procs_without_follow() {
    compat("procs", &[], &[]);
}

#[test]
fn threads_follow() {
    // futex calls depend on whether pthread_join found the thread already gone.
    compat("threads", &["-f", "-e", "trace=!futex"], &[]);
}

#[test]
fn threads_follow_decode_fds() {
    compat("threads", &["-f", "-y", "-e", "trace=!futex"], &[]);
}

/// A thread's execve while the leader waits in pause: the leader's call ends with ` = ?`,
/// `+++ superseded by execve in pid T +++`, the execve resumed under the leader's pid.
#[test]
fn thread_execve_supersedes_the_leader() {
    compat(
        "threadexec",
        &["-f", "-e", "trace=execve,pause,exit_group"],
        &[],
    );
}

/// `-qq`: the execve line still open ends with ` <pid changed to PID ...>`; `-qqq` drops
/// the superseded line too; without `-f` the leader's pause just ends, and it exits.
#[test]
fn thread_execve_quiet_levels_and_without_follow() {
    compat("threadexec", &["-qq", "-f", "-e", "trace=execve"], &[]);
    compat(
        "threadexec",
        &["-qqq", "-f", "-e", "trace=execve,pause"],
        &[],
    );
    compat("threadexec", &["-e", "trace=execve,pause,exit_group"], &[]);
}

/// `-ff`: the thread's file ends with `execve(... <pid changed to PID ...>`; the leader's
/// has its `pause() = ?`, the superseded line and the execve's resumed exit.
#[test]
fn thread_execve_in_files_per_process() {
    ff_case("threadexec", &["-e", "trace=execve,pause,exit_group"], 2);
}

/// `-v`, `-e abbrev=`, `-e verbose=`, `-e raw=` and `-X` on the verbose fixture. A file's
/// inode and change time differ between the two runs (each makes its own file): masked.
fn verbosity_case(flags: &[&str]) {
    let mut pair = Case::new("verbose", flags, &["{dir}"]).run_both();
    let re =
        regex::Regex::new(r"(stx?_ino=)\d+|(st_ctime=)\d+( /\* [^*]* \*/)?|(st_ctime_nsec=)\d+")
            .unwrap_or_else(|e| panic!("{e}"));
    for t in [&mut pair.strace.trace, &mut pair.pgstrace.trace] {
        *t = re.replace_all(t, "${1}${2}${4}MASKED").into_owned();
    }
    check_pair(&format!("verbose {}", flags.join(" ")), &pair);
}

/// `-v`: the environment, `struct stat` and `struct statx` (with their times as strace
/// dates them), uname and a 40-entry argv whole.
#[test]
fn no_abbrev() {
    verbosity_case(&["-v"]);
    verbosity_case(&["--no-abbrev", "-e", "trace=execve,newfstatat,statx,uname"]);
    // Only execve abbreviated: the rest whole.
    verbosity_case(&["-e", "abbrev=execve"]);
}

/// `-e verbose=none`: every structure and array as its address; `-e raw=`: the chosen
/// calls undecoded, in hex.
#[test]
fn verbose_and_raw_sets() {
    verbosity_case(&["-e", "verbose=none"]);
    verbosity_case(&["-e", "verbose=!execve,statx"]);
    verbosity_case(&["-e", "raw=openat,lseek,write,mmap"]);
}

/// `-X raw|verbose`: the arguments' constants and flags as numbers (AT_FDCWD, signals in
/// decimal; flags and most constants in hex), verbose with the names in a comment.
/// (Fields of structures keep their names: calls with such fields are not compared.)
#[test]
fn const_print_styles() {
    let set = "trace=openat,mmap,munmap,lseek,socket,setsockopt,getpid,kill,execve,write,close";
    for style in ["raw", "verbose", "abbrev"] {
        verbosity_case(&["-X", style, "-e", set]);
    }
    verbosity_case(&["--const-print-style=verbose", "-e", set]);
    // Signal lines: siginfo's signal and code as numbers (names in comments under verbose).
    for style in ["raw", "verbose"] {
        compat("sigmisc", &["-X", style, "-e", "trace=kill,tgkill"], &[]);
        compat("procs", &["-f", "-X", style, "-e", "trace=exit_group"], &[]);
    }
}

/// `-X raw` and `-X verbose` inside structures too, fixture by fixture: st_mode in octal,
/// limits, signal sets, sockaddrs (the network-order fields as their bytes), poll and epoll
/// events, sigaction's handler and flags, sigevent, clone's flags and exit signal, siginfo
/// in waitid and rt_sigtimedwait, capability words, personas, mempolicy modes, open_how,
/// sched_attr, statx masks, as strace 6.1 prints them (its empty statx flags included).
#[test]
fn const_print_styles_inside_structures() {
    let port = regex::Regex::new(r#"(sin6?_port=)"[^"]*"( /\* htons\(\d+\) \*/)?"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("fileio", &[], &["{dir}"]),
        ("fdio", &[], &[]),
        ("sigmisc", &[], &[]),
        ("procs", &["-f"], &[]),
        ("unixnet", &[], &["{dir}"]),
        ("inetnet", &[], &[]),
        ("memory", &[], &[]),
        ("morecalls", &[], &["{dir}"]),
        ("pgcalls", &["-f"], &["{dir}"]),
        ("rawcalls", &[], &["{dir}"]),
        ("threads", &["-f", "-e", "trace=!futex"], &[]),
    ];
    for style in ["raw", "verbose"] {
        for (fixture, flags, args) in cases {
            // Signal lines (their -X is in const_print_styles) come before or after the
            // call that waits for them as the timing falls: left out here.
            let mut all = vec!["-X", style, "-e", "signal=none"];
            all.extend_from_slice(flags);
            let mut pair = Case::new(fixture, &all, args).run_both();
            for t in [&mut pair.strace.trace, &mut pair.pgstrace.trace] {
                *t = port.replace_all(t, "${1}PORT").into_owned();
            }
            check_pair(&format!("{fixture} -X {style}"), &pair);
        }
    }
}

// --- -c summary --------------------------------------------------------------------------

/// A `-c` table as comparable lines: `name: calls=N errors=N`, sorted by name.
fn summary_lines(m: &std::collections::BTreeMap<String, fixtures::SummaryRow>) -> Vec<String> {
    m.iter()
        .map(|(k, v)| format!("{k}: calls={} errors={}", v.calls, v.errors))
        .collect()
}

fn summary_case(fixture: &str, flags: &[&str], args: &[&str]) {
    let pair = Case::new(fixture, flags, args).run_both();
    let what = format!("{fixture} {}", flags.join(" "));
    fixtures::assert_no_panic(&what, &pair.pgstrace.out.stderr);
    let s = fixtures::parse_summary(&pair.strace.trace);
    let p = fixtures::parse_summary(&pair.pgstrace.trace);
    assert!(!s.is_empty(), "{what}: no table from strace");
    compare::assert_lines_eq(&what, &summary_lines(&s), &summary_lines(&p));
    let header = "% time     seconds  usecs/call     calls    errors syscall";
    assert!(
        pair.pgstrace.trace.lines().any(|l| l == header),
        "{what}: no strace -c header in:\n{}",
        pair.pgstrace.trace
    );
    assert_eq!(pair.strace.out.stdout, pair.pgstrace.out.stdout);
}

/// `-U`: the columns chosen, in their order, with strace's headers, widths and dashes; the
/// count columns sorted by name are strace's to the byte (times differ: they are
/// measured), and with the time columns the table has strace's shape digit for digit.
#[test]
fn summary_columns() {
    let pair = Case::new(
        "fileio",
        &["-c", "-U", "name,calls,errors", "-S", "name"],
        &["{dir}"],
    )
    .run_both();
    assert_eq!(
        pair.strace.trace, pair.pgstrace.trace,
        "-U name,calls,errors"
    );
    let pair = Case::new(
        "fileio",
        &["-c", "-U", "errors,calls,name", "-S", "calls"],
        &["{dir}"],
    )
    .run_both();
    assert_eq!(
        pair.strace.trace, pair.pgstrace.trace,
        "-U errors,calls,name"
    );
    let all = "calls,name,max-time,min-time,avg-time,total-time,time-percent";
    let pair = Case::new("fileio", &["-c", "-U", all, "-S", "name"], &["{dir}"]).run_both();
    let shape = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| {
                // The time cells vary: keep their places and widths only.
                l.split(' ')
                    .map(|w| {
                        if w.contains('.') && w.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                            "T".repeat(w.len().min(1))
                        } else {
                            w.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    let (s, p) = (shape(&pair.strace.trace), shape(&pair.pgstrace.trace));
    assert_eq!(s.first(), p.first(), "header");
    assert_eq!(s.get(1), p.get(1), "dashes");
    assert_eq!(
        s.len(),
        p.len(),
        "rows\n{}\n{}",
        pair.strace.trace,
        pair.pgstrace.trace
    );
    let o = Command::new(fixtures::pgstrace_bin())
        .args(["-c", "-U", "calls,bogus", "true"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown column name: 'bogus'"));
}

/// The seconds column of `name`'s row in a `-c -U name,total-time` table.
fn summary_seconds(table: &str, name: &str) -> Option<f64> {
    table.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some(name))
            .then(|| w.next()?.parse().ok())
            .flatten()
    })
}

/// `-c` times calls in system CPU time as strace does (a 200 ms sleep costs next to none),
/// `-c -w` in wall clock (the whole 200 ms); strace measures the same on the same command.
#[test]
fn summary_times_cpu_unless_wall_clock() {
    let run = |tool: &std::path::Path, extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("t");
        let o = Command::new(tool)
            .args(["-c", "-U", "name,total-time", "-o"])
            .arg(&out)
            .args(extra)
            .args(["sleep", "0.2"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let t = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
        summary_seconds(&t, "clock_nanosleep").unwrap_or_else(|| panic!("no row in:\n{t}"))
    };
    for tool in [fixtures::strace_bin(), fixtures::pgstrace_bin()] {
        let cpu = run(&tool, &[]);
        let wall = run(&tool, &["-w"]);
        let who = tool.display();
        assert!(cpu < 0.05, "{who} -c: clock_nanosleep took {cpu} s of CPU");
        assert!(
            wall >= 0.19,
            "{who} -c -w: clock_nanosleep took {wall} s of wall"
        );
    }
}

#[test]
fn summary_counts_fileio() {
    summary_case("fileio", &["-c"], &["{dir}"]);
}

#[test]
fn summary_counts_follow_forks() {
    summary_case("procs", &["-f", "-c"], &[]);
}

#[test]
fn summary_with_trace_filter() {
    summary_case("fileio", &["-c", "-e", "trace=%desc"], &["{dir}"]);
}

#[test]
fn summary_and_trace_with_big_c() {
    // -C prints the trace and then the table.
    let pair = Case::new("memory", &["-C"], &[]).run_both();
    let s = fixtures::parse_summary(&pair.strace.trace);
    let p = fixtures::parse_summary(&pair.pgstrace.trace);
    assert!(!s.is_empty(), "-C: no table from strace");
    compare::assert_lines_eq("-C table", &summary_lines(&s), &summary_lines(&p));
    let calls = |t: &str| t.lines().filter(|l| l.starts_with("munmap(")).count();
    assert_eq!(calls(&pair.strace.trace), calls(&pair.pgstrace.trace));
}

// --- timing formats (shape only) ---------------------------------------------------------

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks each syscall line's leading stamp with `ok`, then compares with strace (stamps
/// masked).
fn timestamp_case(flag: &str, ok: fn(&str) -> bool) {
    let pair = compat("memory", &[flag], &[]);
    let mut n = 0;
    for line in pair.pgstrace.trace.lines().filter(|l| !l.trim().is_empty()) {
        assert!(ok(line), "{flag}: bad timestamp in line {line:?}");
        n += 1;
    }
    assert!(n > 10, "{flag}: too few lines:\n{}", pair.pgstrace.trace);
}

#[test]
fn timestamps_t() {
    timestamp_case("-t", |l| {
        let b = l.as_bytes();
        l.len() > 9
            && all_digits(&l[0..2])
            && b[2] == b':'
            && all_digits(&l[3..5])
            && b[5] == b':'
            && all_digits(&l[6..8])
            && b[8] == b' '
    });
}

#[test]
fn timestamps_tt() {
    timestamp_case("-tt", |l| {
        l.len() > 16
            && l.as_bytes()[2] == b':'
            && l.as_bytes()[8] == b'.'
            && all_digits(&l[9..15])
            && l.as_bytes()[15] == b' '
    });
}

#[test]
fn timestamps_ttt() {
    timestamp_case("-ttt", |l| {
        let Some((stamp, _)) = l.split_once(' ') else {
            return false;
        };
        let Some((secs, frac)) = stamp.split_once('.') else {
            return false;
        };
        all_digits(secs) && secs.len() >= 10 && all_digits(frac) && frac.len() == 6
    });
}

#[test]
fn timestamps_relative() {
    timestamp_case("-r", |l| {
        // "     0.000121 call(...)": right-aligned seconds, 6 decimals.
        let t = l.trim_start();
        let Some((stamp, _)) = t.split_once(' ') else {
            return false;
        };
        let Some((secs, frac)) = stamp.split_once('.') else {
            return false;
        };
        l.starts_with(' ') && all_digits(secs) && all_digits(frac) && frac.len() == 6
    });
}

#[test]
fn durations_big_t() {
    let pair = compat("memory", &["-T"], &[]);
    let mut n = 0;
    for line in pair.pgstrace.trace.lines() {
        if line.ends_with("= ?") || line.starts_with("+++") || line.starts_with("---") {
            continue;
        }
        let dur = line
            .rsplit_once(" <")
            .and_then(|(_, d)| d.strip_suffix('>'))
            .and_then(|d| d.split_once('.'));
        assert!(
            matches!(dur, Some((s, f)) if all_digits(s) && f.len() == 6 && all_digits(f)),
            "-T: no <S.UUUUUU> duration at the end of {line:?}"
        );
        n += 1;
    }
    assert!(n > 10);
}

// --- --json and --histogram (no strace oracle) ------------------------------------------

#[test]
fn json_lines_parse_with_fields() {
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let out_file = work.path().join("trace.json");
    let mut cmd = Command::new(fixtures::pgstrace_bin());
    cmd.arg("--json")
        .arg("-o")
        .arg(&out_file)
        .arg(fixtures::fixture("fileio"))
        .arg(work.path())
        .current_dir(work.path());
    let out = fixtures::run(cmd);
    fixtures::assert_no_panic("--json", &out.stderr);
    assert!(out.status.success(), "--json run failed: {}", out.stderr);
    let text = std::fs::read_to_string(&out_file).unwrap_or_default();
    let mut syscalls = 0;
    let mut names = std::collections::BTreeSet::new();
    let mut saw_error = false;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("--json: line does not parse ({e}): {line}"));
        let Some(obj) = v.as_object() else {
            panic!("--json: line is not an object: {line}");
        };
        if !obj.contains_key("syscall") {
            continue;
        }
        syscalls += 1;
        for key in [
            "pid",
            "syscall",
            "args",
            "raw_args",
            "ret",
            "errno",
            "duration_us",
            "time",
        ] {
            assert!(obj.contains_key(key), "--json: no {key:?} in {line}");
        }
        assert!(obj["pid"].is_i64(), "--json: pid not an integer: {line}");
        assert!(obj["args"].is_array(), "--json: args not an array: {line}");
        assert!(
            obj["raw_args"].as_array().is_some_and(|a| a.len() == 6),
            "--json: raw_args is not 6 values: {line}"
        );
        if let Some(name) = obj["syscall"].as_str() {
            names.insert(name.to_string());
        }
        // A failed call carries its errno by name ("ENOENT"); a successful one has null.
        let errno = &obj["errno"];
        if obj["ret"].as_i64() == Some(-1) || !errno.is_null() {
            let name = errno.as_str().unwrap_or("");
            assert!(
                name.starts_with('E') && name.len() > 1,
                "--json: a failed call without an errno name: {line}"
            );
            saw_error = true;
        }
    }
    assert!(syscalls > 20, "--json: too few syscall events:\n{text}");
    assert!(saw_error, "--json: no failed call among the events");
    for want in ["openat", "fallocate", "ftruncate", "close", "memfd_create"] {
        assert!(
            names.contains(want),
            "--json: no {want} event; saw {names:?}"
        );
    }
}

#[test]
fn histogram_header() {
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let out_file = work.path().join("hist.txt");
    let mut cmd = Command::new(fixtures::pgstrace_bin());
    cmd.args(["-c", "--histogram", "-o"])
        .arg(&out_file)
        .arg(fixtures::fixture("fileio"))
        .arg(work.path())
        .current_dir(work.path());
    let out = fixtures::run(cmd);
    fixtures::assert_no_panic("--histogram", &out.stderr);
    assert!(
        out.status.success(),
        "-c --histogram failed: {}",
        out.stderr
    );
    // The histogram may go to -o or to stderr; accept either.
    let text = format!(
        "{}\n{}",
        std::fs::read_to_string(&out_file).unwrap_or_default(),
        out.stderr
    );
    assert!(
        text.contains("usecs               : count     distribution"),
        "no BCC-style histogram header in:\n{text}"
    );
}

// --- the program's own breakpoint ----------------------------------------------------------

/// An `int3` in the program is its own SIGTRAP (si_code=SI_KERNEL): the engine reports it as
/// a breakpoint stop, which is nobody's here, so it is delivered as strace delivers it.
#[test]
fn programs_own_int3_is_delivered() {
    compat("churn", &[], &["int3"]);
    compat("churn", &["-e", "trace=none"], &["int3"]);
}

// --- tampering (-e inject=, -e fault=) ------------------------------------------------

#[test]
fn inject_an_errno_on_chosen_calls() {
    compat(
        "inject",
        &[
            "-e",
            "trace=fallocate,write",
            "-e",
            "inject=fallocate:error=ENOSPC:when=2+2",
        ],
        &["{dir}"],
    );
}

#[test]
fn inject_a_return_value() {
    compat(
        "inject",
        &["-e", "trace=write", "-e", "inject=write:retval=1:when=3"],
        &["{dir}"],
    );
    // `when=FIRST..LAST[+STEP]`.
    for when in ["when=2..3", "when=1..7+3"] {
        let spec = format!("inject=write:retval=1:{when}");
        compat("inject", &["-e", "trace=write", "-e", &spec], &["{dir}"]);
    }
}

#[test]
fn fault_defaults_to_enosys_and_sets_take_classes() {
    compat(
        "inject",
        &["-e", "trace=%desc", "-e", "fault=fallocate:when=1"],
        &["{dir}"],
    );
}

/// `signal=`: the signal sent as the chosen call returns (`SI_KERNEL`, as strace sends it),
/// alone or with an error; a fatal one kills the tracee, with strace's exit status.
#[test]
fn inject_a_signal() {
    compat(
        "inject",
        &[
            "-e",
            "trace=write",
            "-e",
            "inject=write:signal=SIGURG:when=2+",
        ],
        &["{dir}"],
    );
    compat(
        "inject",
        &[
            "-e",
            "trace=fallocate,write",
            "-e",
            "inject=fallocate:error=ENOSPC:signal=SIGWINCH:when=3",
        ],
        &["{dir}"],
    );
    // strace kills itself with the tracee's signal; pgstrace exits 128 + it (what a shell
    // shows for both).
    let killed = Case::new(
        "inject",
        &[
            "-e",
            "trace=fallocate",
            "-e",
            "inject=fallocate:signal=SIGTERM:when=2",
        ],
        &["{dir}"],
    )
    .run_both();
    compare::assert_streams_eq(
        "signal=SIGTERM",
        &fixtures::normalized_streams(&killed.strace.trace),
        &fixtures::normalized_streams(&killed.pgstrace.trace),
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(killed.strace.out.status.signal(), Some(15));
    assert_eq!(killed.pgstrace.out.status.code(), Some(128 + 15));
    assert!(
        killed.pgstrace.trace.contains("+++ killed by SIGTERM +++"),
        "{}",
        killed.pgstrace.trace
    );
}

/// `delay_enter=`/`delay_exit=` (microseconds or with a unit): the call's line tagged
/// ` (DELAYED)` (after ` (INJECTED)`), as strace's; the tracee really held that long, and
/// only that tracee: another process of the trace runs on and exits meanwhile.
#[test]
fn inject_a_delay() {
    compat(
        "inject",
        &[
            "-e",
            "trace=write",
            "-e",
            "inject=write:delay_exit=20ms:when=2",
        ],
        &["{dir}"],
    );
    compat(
        "inject",
        &[
            "-e",
            "trace=fallocate",
            "-e",
            "inject=fallocate:error=ENOSPC:delay_enter=5000:when=3",
        ],
        &["{dir}"],
    );
    let t0 = std::time::Instant::now();
    let pair = compat(
        "delayed",
        &[
            "-f",
            "-ttt",
            "-e",
            "trace=getppid,write",
            "-e",
            "inject=getppid:delay_enter=400ms",
        ],
        &[],
    );
    let took = t0.elapsed();
    let t = &pair.pgstrace.trace;
    assert_eq!(t.matches("(DELAYED)").count(), 3, "{t}");
    // Each run (strace's, then ours) held the child 3 x 400 ms.
    assert!(
        took >= std::time::Duration::from_millis(2 * 1200),
        "{took:?}"
    );
    // The other child wrote and exited long before the delayed one's last call.
    let stamp = |l: &str| -> f64 {
        l.split_whitespace()
            .find_map(|w| w.parse::<f64>().ok().filter(|v| *v > 1e9))
            .unwrap_or(0.0)
    };
    let write_at = t
        .lines()
        .find(|l| l.contains("write(1,"))
        .map(stamp)
        .unwrap_or(0.0);
    let last_getppid = t
        .lines()
        .filter(|l| l.contains("getppid()"))
        .map(stamp)
        .fold(0.0, f64::max);
    assert!(
        write_at > 0.0 && last_getppid - write_at > 0.3,
        "the writer waited for the delayed child: {t}"
    );
}

/// `poke_enter=`/`poke_exit=`: the bytes written where an argument points (read-only data
/// too: the fixture's string constant stays changed for the rounds after), before the
/// entry's or the exit's decoding as strace writes them, the line tagged ` (INJECTED: args)`
/// or ` (INJECTED: args, retval)`; what cannot be written (an argument that is not an
/// address, one the call does not have) said on stderr in strace's words and order.
/// `syscall=getppid`: the kernel runs getppid in the call's place, which the fixture's
/// seccomp filter answers with SIGSYS (nothing at all runs without it).
#[test]
fn inject_pokes_and_a_replacement_call() {
    let flags = [
        "-e",
        "trace=pwrite64,pread64,fdatasync",
        "-e",
        "inject=pwrite64:poke_enter=@arg2=58595a:when=2",
        "-e",
        "inject=pread64:poke_exit=@arg2=2a2a,@arg1=00,@arg5=01:error=EIO:when=3",
        "-e",
        "inject=fdatasync:error=EROFS:syscall=getppid:when=2+",
    ];
    let pair = compat("poke", &flags, &["{dir}"]);
    let out = &pair.pgstrace.out.stdout;
    for want in [
        "round 0: pwrite 16 pread -1 **..............",
        "round 2: pwrite 16 pread 16 XYZ3456789abcdef",
        "fdatasync -1 errno 30, SIGSYS 2",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
    let t = &pair.pgstrace.trace;
    assert_eq!(t.matches("(INJECTED: args, retval)").count(), 1, "{t}");
    assert_eq!(t.matches("(INJECTED: args)").count(), 1, "{t}");
    // The refusals, as strace words them (strace names its function; pgstrace does not).
    let said = |stderr: &str, prefix: &str| -> Vec<String> {
        stderr
            .lines()
            .filter_map(|l| Some(l.split_once(prefix)?.1))
            .map(|l| match l.split_once(": ") {
                Some((_, why)) => why.to_string(),
                None => l.to_string(),
            })
            .collect()
    };
    let theirs = said(
        &pair.strace.out.stderr,
        "strace: poke_tcb: Failed to tamper with process ",
    );
    let ours = said(
        &pair.pgstrace.out.stderr,
        "pgstrace: Failed to tamper with process ",
    );
    assert_eq!(theirs.len(), 2, "{}", pair.strace.out.stderr);
    assert_eq!(theirs, ours, "{}", pair.pgstrace.out.stderr);
    // Without the replacement call nothing runs and no SIGSYS comes.
    let plain = compat(
        "poke",
        &[
            "-e",
            "trace=fdatasync",
            "-e",
            "inject=fdatasync:error=EROFS:when=2+",
        ],
        &["{dir}"],
    );
    assert!(
        plain
            .pgstrace
            .out
            .stdout
            .contains("fdatasync -1 errno 30, SIGSYS 0"),
        "{}",
        plain.pgstrace.out.stdout
    );
    // Under --json: the poke marked on the call.
    let (work, out_dir) = (tmp(), tmp());
    let json = Case::new(
        "poke",
        &[
            "--json",
            "-e",
            "trace=pwrite64",
            "-e",
            "inject=pwrite64:poke_enter=@arg2=58:when=2",
        ],
        &["{dir}"],
    )
    .run_one(Tracer::Pgstrace, work.path(), out_dir.path());
    let poked = json.trace.lines().filter(|l| l.contains("\"poked\":true"));
    assert_eq!(poked.count(), 1, "{}", json.trace);
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

// --- the command line -------------------------------------------------------------------

/// `-e trace=` with a class named without its `%` (`file`, `network`), and with names of the
/// i386/x32 tables (`socketcall`, `stat64`): taken as strace takes them.
#[test]
fn trace_sets_in_strace_old_and_foreign_words() {
    compat("fileio", &["-e", "trace=file"], &["{dir}"]);
    compat(
        "fileio",
        &["-e", "trace=socketcall,stat64,openat"],
        &["{dir}"],
    );
    compat("unixnet", &["-e", "trace=network"], &["{dir}"]);
}

/// `-I N` is taken (pgstrace always detaches cleanly on fatal signals), a bad value refused.
#[test]
fn interruptible_is_accepted() {
    compat("fileio", &["-I", "2", "-e", "trace=openat"], &["{dir}"]);
    compat("fileio", &["-I3", "-e", "trace=openat"], &["{dir}"]);
    let o = Command::new(fixtures::pgstrace_bin())
        .args(["-I", "7", "true"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid -I '7'"));
}

/// A repeated option: the last one wins, as in strace.
#[test]
fn repeated_options_the_last_wins() {
    compat(
        "fileio",
        &["-s", "5", "-a", "80", "-s", "12", "-a", "30"],
        &["{dir}"],
    );
}

/// An option neither knows, and one only strace has: one line each, exit 1, and the same
/// words as strace for the unknown one.
#[test]
fn unknown_options_are_refused_like_strace() {
    let run = |prog: &Path, args: &[&str]| {
        Command::new(prog)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", prog.display()))
    };
    let s = run(&fixtures::strace_bin(), &["-j", "true"]);
    let p = run(&fixtures::pgstrace_bin(), &["-j", "true"]);
    let (se, pe) = (
        String::from_utf8_lossy(&s.stderr).into_owned(),
        String::from_utf8_lossy(&p.stderr).into_owned(),
    );
    assert!(se.contains("invalid option -- 'j'"), "{se}");
    assert!(pe.contains("invalid option -- 'j'"), "{pe}");
    assert_eq!(s.status.code(), p.status.code());
    assert_eq!(pe.lines().count(), 1, "{pe}");
    let p = run(&fixtures::pgstrace_bin(), &["--frobnicate", "true"]);
    assert!(String::from_utf8_lossy(&p.stderr).contains("unrecognized option '--frobnicate'"));
}

/// `-p PID` and a command together: both are traced, the exit status is the command's.
#[test]
fn pid_and_command_together() {
    let mut sleeper = Command::new("sleep")
        .arg("0.5")
        .spawn()
        .unwrap_or_else(|e| panic!("sleep: {e}"));
    let pid = sleeper.id().to_string();
    let out = Command::new(fixtures::pgstrace_bin())
        .args(["-e", "trace=exit_group", "-p", &pid, "sh", "-c", "exit 3"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("Process {pid} attached")), "{err}");
    assert!(
        err.matches("exit_group(").count() >= 2,
        "both traced: {err}"
    );
    let _ = sleeper.wait();
}

#[test]
fn strings_in_hex_x_and_xx() {
    compat("fileio", &["-x"], &["{dir}"]);
    compat("fileio", &["-xx"], &["{dir}"]);
    compat(
        "unixnet",
        &["-x", "-e", "trace=%network,write,read"],
        &["{dir}"],
    );
    // Under -xx strace quotes inet_addr's and inet_pton's text in hex as well.
    compat("inetnet", &["-xx", "-e", "trace=%network"], &[]);
    // Netlink string attributes under -x: their NUL in hex, then `...`.
    compat("netlink", &["-x", "-e", "trace=%network"], &[]);
    compat("netlink", &["-xx", "-e", "trace=%network"], &[]);
}

#[test]
fn strings_in_hex_with_paths() {
    compat("fileio", &["-xx", "-y", "-e", "trace=%file"], &["{dir}"]);
}

/// `-i`: the same addresses as strace's, run without ASLR so that both runs map libc alike;
/// `?` on exit lines, the signal's address on `---` lines, after `-n`'s number.
#[test]
fn instruction_pointer() {
    let wrapper = ["setarch", "x86_64", "-R"];
    for (fixture, flags, args) in [
        ("fileio", &["-i"][..], &["{dir}"][..]),
        ("procs", &["-f", "-i", "-n"][..], &[][..]),
        ("sigmisc", &["-i"][..], &[][..]),
    ] {
        let case = Case {
            wrapper: &wrapper,
            ..Case::new(fixture, flags, args)
        };
        let pair = case.run_both();
        check_pair(&format!("{fixture} {}", flags.join(" ")), &pair);
        assert!(
            pair.pgstrace.trace.contains("[00007ff"),
            "{fixture}: no instruction pointer:\n{}",
            pair.pgstrace.trace
        );
    }
}

#[test]
fn syscall_numbers() {
    compat("fileio", &["-n"], &["{dir}"]);
    compat("procs", &["-f", "-n"], &[]);
}

/// `-ff -o FILE`: one file per process, FILE.PID, each that process's trace alone; the same
/// files (normalised, in any order) as strace's.
#[test]
fn ff_writes_a_file_per_process() {
    ff_case("procs", &[], 0);
}

/// `-ff -o FILE FLAGS FIXTURE` under both tracers: the same files (at least `min`),
/// normalised, compared file by file.
fn ff_case(fixture: &str, flags: &[&str], min: usize) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let traces = |prog: &Path, name: &str| -> Vec<Vec<String>> {
        let base = dir.path().join(name);
        let st = Command::new(prog)
            .arg("-ff")
            .arg("-o")
            .arg(&base)
            .args(flags)
            .arg(fixtures::fixture(fixture))
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(st.success(), "{}", prog.display());
        assert!(!base.exists(), "no file named FILE itself");
        let files: Vec<(i64, std::path::PathBuf)> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let pid = e
                    .file_name()
                    .to_string_lossy()
                    .strip_prefix(&format!("{name}."))?
                    .parse::<i64>()
                    .ok()?;
                Some((pid, e.path()))
            })
            .collect();
        // The files' pids are the pids a line may name (`<pid changed to PID ...>`).
        let pids: Vec<i64> = files.iter().map(|(p, _)| *p).collect();
        let mut all: Vec<Vec<String>> = files
            .iter()
            .map(|(_, f)| {
                fixtures::normalize_with(&std::fs::read_to_string(f).unwrap_or_default(), &pids)
            })
            .collect();
        all.sort();
        all
    };
    let s = traces(&fixtures::strace_bin(), "s");
    let p = traces(&fixtures::pgstrace_bin(), "p");
    assert!(s.len() >= min.max(2), "strace wrote {} files", s.len());
    assert_eq!(s.len(), p.len(), "files per process");
    for (a, b) in s.iter().zip(&p) {
        compare::assert_lines_eq("-ff file", a, b);
    }
}

/// Calls PostgreSQL and its tools make that were printed raw: signalfd4 (every PG 15 backend
/// start), priorities, CPU affinity, dup3, utimensat, getgroups, copy_file_range, POSIX
/// timers, waitid.
#[test]
fn postgres_calls_decode_like_strace() {
    compat("pgcalls", &["-f"], &["{dir}"]);
}

/// Calls that were printed raw: credentials (set*id/get*id, capget/capset), personality,
/// timerfd, eventfd, inotify, the scheduler, getcpu, unshare/setns, pidfds, NUMA policy,
/// the xattr family, splice/tee/vmsplice, readahead, mknodat; with unknown bits too.
#[test]
fn more_calls_decode_like_strace() {
    compat("morecalls", &[], &["{dir}"]);
    // -yy: a pidfd as the process it refers to, `<pid:N>`.
    compat(
        "morecalls",
        &[
            "-yy",
            "-e",
            "trace=getpid,pidfd_open,pidfd_getfd,pidfd_send_signal,close",
        ],
        &["{dir}"],
    );
    compat(
        "morecalls",
        &["--decode-fds=pidfd", "-e", "trace=getpid,pidfd_open,close"],
        &["{dir}"],
    );
    // -X raw: the arguments as numbers. Not yet the fields of structures, nor strace's
    // split of a persona or a capability set into words.
    compat(
        "morecalls",
        &[
            "-X",
            "raw",
            "-e",
            "trace=!execve,newfstatat,prlimit64,personality,capget,capset,get_mempolicy",
        ],
        &["{dir}"],
    );
}

/// Calls that printed raw until strace was compared on them: sendmmsg/recvmmsg (each
/// message with its length, the received data cut at it, recvmmsg's `left` timeout),
/// openat2's open_how (mode only where it counts, extra bytes, short sizes), times, utime and
/// utimes with their dates, rt_sigqueueinfo's and rt_sigtimedwait's siginfo, process_vm_*
/// (the other process's buffers as addresses), sched_getattr/setattr.
/// The administrative calls, refused by the kernel: modules, kexec (architecture and flags,
/// segments, the command line cut at its length), quotactl and quotactl_fd with each
/// command's arguments and structures; abbreviated, whole under `-v`, under both `-X`.
#[test]
fn admin_calls_decode_like_strace() {
    let t = "trace=init_module,finit_module,delete_module,kexec_load,kexec_file_load,quotactl,quotactl_fd";
    compat("admincalls", &["-e", t], &[]);
    compat("admincalls", &["-v", "-e", t], &[]);
    compat("admincalls", &["-X", "raw", "-e", t], &[]);
    compat("admincalls", &["-X", "verbose", "-e", t], &[]);
}

/// Seccomp filters (refused by the kernel, never installed): `{len=N, filter=ADDR}` by
/// default, each instruction as strace spells it under `-v` (and both `-X`), through seccomp
/// and prctl.
#[test]
fn seccomp_filters_decode_like_strace() {
    compat("seccompfilter", &["-e", "trace=seccomp,prctl"], &[]);
    compat("seccompfilter", &["-v", "-e", "trace=seccomp,prctl"], &[]);
    compat(
        "seccompfilter",
        &["-v", "-X", "raw", "-e", "trace=seccomp,prctl"],
        &[],
    );
    compat(
        "seccompfilter",
        &["-v", "-X", "verbose", "-e", "trace=seccomp,prctl"],
        &[],
    );
}

#[test]
fn raw_calls_decode_like_strace() {
    compat("rawcalls", &[], &["{dir}"]);
    compat(
        "rawcalls",
        &["-e", "trace=%network,openat2,utimes"],
        &["{dir}"],
    );
}

/// Netlink messages as glibc's getaddrinfo exchanges them with the kernel (an RTM_GETADDR
/// dump, which a server listening on a two-address `localhost` makes at start) and as ip(8)
/// does: the replies with their attributes, NLMSG_DONE, errors with the request they answer
/// (capped or not, with extended ACK attributes), several messages in one buffer and over
/// iovecs, buffers too short for a message, SOL_NETLINK options; and the same bytes on a
/// socket that is not netlink. With `-s` cutting strings, messages and attributes, `-v`
/// lifting the cut, `-yy`.
#[test]
fn netlink_messages_decode_like_strace() {
    compat("netlink", &["-e", "trace=%network"], &[]);
    compat("netlink", &["-s", "3", "-e", "trace=%network"], &[]);
    compat("netlink", &["-s", "3", "-v", "-e", "trace=%network"], &[]);
    compat("netlink", &["-yy", "-e", "trace=%network"], &[]);
    // -X: every named constant and flag as its number, decoded bytes (addresses) as hex.
    compat("netlink", &["-X", "raw", "-e", "trace=%network"], &[]);
    compat("netlink", &["-X", "verbose", "-e", "trace=%network"], &[]);
}

/// getifaddrs, which PostgreSQL calls for `samehost`/`samenet` in pg_hba.conf: glibc's link
/// dump (RTM_NEWLINK: `struct ifinfomsg`, the IFLA attributes with the statistics, IFLA_MAP,
/// the nested XDP, LINKINFO, PROP_LIST and AF_SPEC with IPv4's and IPv6's arrays) and its
/// address dump. Run in a network namespace of this test's own thread (children inherit a
/// thread's namespace), with loopback up and a veth pair with an alias and an alternative
/// name: nothing moves a counter between the two runs. At strace's default `-s` (the first 32
/// attributes of a link), with every attribute (`-s 4096`), with `-v`, with `-s 10`, under
/// `-X raw` and `-X verbose`, and `-x` (strace's NUL-in-hex quirk for string attributes).
#[test]
fn getifaddrs_link_dump_decodes_like_strace() {
    netns::in_private_netns(
        &[
            &["link", "set", "lo", "up"],
            &["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            &["link", "set", "v0", "alias", "db link"],
            &["link", "property", "add", "dev", "v1", "altname", "dbalt"],
        ],
        || {
            // glibc's sequence number is the time; the port id is the tracee's pid.
            let masks = regex::Regex::new(r"(nlmsg_seq|nlmsg_pid|nl_pid)=\d+")
                .unwrap_or_else(|e| panic!("{e}"));
            let sets: [&[&str]; 7] = [
                &["-e", "trace=%network"],
                &["-s", "4096", "-e", "trace=%network"],
                &["-v", "-e", "trace=%network"],
                &["-s", "10", "-e", "trace=%network"],
                &["-X", "raw", "-e", "trace=%network"],
                &["-X", "verbose", "-s", "4096", "-e", "trace=%network"],
                &["-x", "-s", "4096", "-e", "trace=%network"],
            ];
            for flags in sets {
                let mut pair = Case::new("ifaddrs", flags, &[]).run_both();
                for t in [&mut pair.strace.trace, &mut pair.pgstrace.trace] {
                    *t = masks.replace_all(t, "${1}=N").into_owned();
                }
                assert!(
                    pair.strace.trace.contains("ifi_type=")
                        && (pair.strace.trace.contains("if_nametoindex(\"v1\")")
                            || flags.contains(&"raw")),
                    "strace shows no link dump:\n{}",
                    pair.strace.trace
                );
                check_pair(&format!("ifaddrs {}", flags.join(" ")), &pair);
            }
        },
    );
}

/// Calls decoded since strace was compared on them: membarrier, futimesat, POSIX and System V
/// message queues, mount and the mount API, seccomp's queries, landlock, fanotify, keys, AIO,
/// io_uring, perf_event_open (abbreviated and under `-v` and both `-X`; a cache event's
/// composite config; E2BIG's `size=0xc8 => 0x88`) (`fixtures/kernelcalls.c`). Key serials and message queue ids are handed out anew
/// on each run: masked in both traces alike.
#[test]
fn kernel_calls_decode_like_strace() {
    let serial = regex::Regex::new(r"\b\d{6,}\b").unwrap_or_else(|e| panic!("{e}"));
    let msqid = regex::Regex::new(r"^(msg(?:snd|rcv|ctl))\(\d+,").unwrap_or_else(|e| panic!("{e}"));
    let msgget = regex::Regex::new(r"^(msgget\(.*\)) += \d+$").unwrap_or_else(|e| panic!("{e}"));
    // A masked line's ` = ` column moves with the number's width: one space before it.
    let pad = regex::Regex::new(r"\) +=").unwrap_or_else(|e| panic!("{e}"));
    for flags in [
        &[][..],
        &["-e", "trace=%ipc,%desc"],
        &[
            "-v",
            "-e",
            "trace=perf_event_open,io_uring_setup,mq_open,msgctl",
        ],
        &["-X", "raw", "-e", "trace=perf_event_open"],
        &["-v", "-X", "verbose", "-e", "trace=perf_event_open"],
    ] {
        let mut pair = Case::new("kernelcalls", flags, &["{dir}"]).run_both();
        for t in [&mut pair.strace.trace, &mut pair.pgstrace.trace] {
            let masked: Vec<String> = t
                .lines()
                .map(|l| {
                    let mut m = if l.contains("key") {
                        serial.replace_all(l, "SERIAL").into_owned()
                    } else {
                        l.to_string()
                    };
                    m = msqid.replace(&m, "${1}(ID,").into_owned();
                    m = msgget.replace(&m, "${1} = ID").into_owned();
                    if m != l {
                        m = pad.replace(&m, ") =").into_owned();
                    }
                    m
                })
                .collect();
            *t = masked.join("\n") + "\n";
        }
        check_pair(&format!("kernelcalls {}", flags.join(" ")), &pair);
    }
}

/// `-Y`: pids with their command names, in the `[pid N<comm>]` prefixes (padded as strace
/// pads them), in arguments (kill, wait4), return values (fork, getpid) and siginfo's
/// `si_pid`; with `-o FILE` the unpadded `N<comm> ` prefix.
#[test]
fn decode_pids_with_comm() {
    let prefix = regex::Regex::new(r"(?m)^(\d+)<([^>]*)> ").unwrap_or_else(|e| panic!("{e}"));
    for flags in [
        &["-f", "-Y"][..],
        &["-f", "--decode-pids=comm", "-e", "trace=!getppid"],
    ] {
        let mut pair = Case::new("procs", flags, &[]).run_both();
        // The harness splits lines at their `PID ` prefix: the names in the prefixes are
        // compared as a set, the lines without them.
        let mut names = Vec::new();
        for t in [&mut pair.strace.trace, &mut pair.pgstrace.trace] {
            let set: std::collections::BTreeSet<String> = prefix
                .captures_iter(t)
                .map(|c| c[2].to_string())
                // The tracer's own name, on the first execve's line, is read as the line is
                // made: before or after the exec, as the timing falls.
                .filter(|n| n != "strace" && n != "pgstrace")
                .collect();
            assert!(!set.is_empty(), "no PID<comm> prefix in:\n{t}");
            names.push(set);
            *t = prefix.replace_all(t, "$1 ").into_owned();
        }
        assert_eq!(names[0], names[1], "the names in the prefixes");
        check_pair(&format!("procs {}", flags.join(" ")), &pair);
    }
    // On a terminal's stream: `[pid  N<comm>]`, the pid padded before the name.
    let o = Command::new(fixtures::pgstrace_bin())
        .args(["-f", "-Y", "-e", "trace=exit_group"])
        .arg(fixtures::fixture("procs"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&o.stderr);
    let line = regex::Regex::new(r"(?m)^\[pid +\d+<procs>\] exit_group\(\d+\) += \?$")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(line.is_match(&err), "no [pid  N<procs>] line in:\n{err}");
}

/// `--decode-pids=pidns`: a tracee in its own PID namespace (pid 1 there, and its child 2)
/// has its pids also as the tracer's namespace numbers them, where the process still lives
/// when the line is printed (a reaped child has none, as in strace). `-Y` alone names the
/// process the tracee means, not the one our namespace numbers so.
#[test]
fn decode_pids_across_namespaces() {
    // The prefixes' names are compared in decode_pids_with_comm (the first execve's is the
    // tracer's own, read before or after the exec).
    let prefix = regex::Regex::new(r"(?m)^(\d+)<[^>]*> ").unwrap_or_else(|e| panic!("{e}"));
    for flags in [
        &["-f", "--decode-pids=pidns"][..],
        &["-f", "--decode-pids=pidns,comm"],
        &["-f", "-Y"],
        &["-f", "-Y", "--decode-pids=pidns"],
    ] {
        let mut pair = Case::new("pidns", flags, &[]).run_both();
        for t in [&mut pair.strace.trace, &mut pair.pgstrace.trace] {
            *t = prefix.replace_all(t, "$1 ").into_owned();
        }
        let t = &pair.pgstrace.trace;
        if flags.contains(&"-Y") && flags.len() == 2 {
            assert!(t.contains("kill(1<pidns>, 0)"), "{t}");
            assert!(!t.contains("PID NS"), "{t}");
        } else {
            assert!(t.contains(" in pgstrace's PID NS */"), "{t}");
        }
        check_pair(&format!("pidns {}", flags.join(" ")), &pair);
    }
}

/// `-e read=` / `-e write=`: the data in strace's hex dump layout, whole (not cut at -s).
#[test]
fn read_and_write_dumps() {
    compat("fileio", &["-e", "read=all", "-e", "write=3,4"], &["{dir}"]);
    compat(
        "unixnet",
        &[
            "-e",
            "trace=%network,read,write",
            "-e",
            "read=all",
            "-e",
            "write=!1",
        ],
        &["{dir}"],
    );
}

/// `-e trace=` in strace's other forms: a regex, a personality suffix, an empty entry.
#[test]
fn trace_sets_regex_personality_and_empty_entries() {
    compat(
        "fileio",
        &["-e", "trace=/^(openat|f?truncate|close)$"],
        &["{dir}"],
    );
    compat("fileio", &["-e", "trace=close@64,,openat"], &["{dir}"]);
    compat("fileio", &["-e", "trace=close@32,write"], &["{dir}"]);
}

/// `-c --json` / `-C --json`: the output is NDJSON throughout, the summary one object whose
/// counts are strace -c's.
#[test]
fn json_summaries_are_one_object_with_straces_counts() {
    let pair = Case::new("fileio", &["-c"], &["{dir}"]).run_both();
    let want = summary_lines(&fixtures::parse_summary(&pair.strace.trace));
    for flag in ["-c", "-C"] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("t");
        let st = Command::new(fixtures::pgstrace_bin())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .args([flag, "--json", "-o"])
            .arg(&out)
            .arg(fixtures::fixture("fileio"))
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(st.success());
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let objs: Vec<serde_json::Value> = text
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{flag}: not JSON ({e}): {l}"))
            })
            .collect();
        let sum = objs.last().cloned().unwrap_or_default();
        assert_eq!(sum["event"], "summary", "{flag}: {text}");
        let mut got: Vec<String> = sum["syscalls"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                format!(
                    "{}: calls={} errors={}",
                    r["syscall"].as_str().unwrap_or_default(),
                    r["calls"],
                    r["errors"]
                )
            })
            .collect();
        got.push(format!(
            "total: calls={} errors={}",
            sum["total"]["calls"], sum["total"]["errors"]
        ));
        got.sort();
        let mut want = want.clone();
        want.sort();
        compare::assert_lines_eq(flag, &want, &got);
        assert_eq!(objs.len() > 1, flag == "-C", "{flag}: {}", objs.len());
    }
}

/// `-E VAR=VAL`, `-E VAR` and `-u USER` for a launched command: what the command sees is
/// what it sees under strace with the same flags.
#[test]
fn launched_commands_environment_and_user() {
    let script = "echo \"${PGSTRACE_T:-unset} ${HOME:-nohome}\"; id -u; id -g; id -G";
    let run = |prog: &Path| {
        Command::new(prog)
            .args([
                "-e",
                "trace=none",
                "-E",
                "PGSTRACE_T=set",
                "-E",
                "HOME",
                "-u",
                "nobody",
                "sh",
                "-c",
                script,
            ])
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", prog.display()))
    };
    let (s, p) = (run(&fixtures::strace_bin()), run(&fixtures::pgstrace_bin()));
    assert_eq!(
        String::from_utf8_lossy(&s.stdout),
        String::from_utf8_lossy(&p.stdout),
        "{}",
        String::from_utf8_lossy(&p.stderr)
    );
    assert!(String::from_utf8_lossy(&p.stdout).starts_with("set nohome\n65534\n"));
    assert_eq!(s.status.code(), p.status.code());
    let o = Command::new(fixtures::pgstrace_bin())
        .args(["-u", "no-such-user-here", "true"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot find user"));
}

#[test]
fn successful_only_and_failed_only() {
    compat("fileio", &["-z"], &["{dir}"]);
    compat("fileio", &["-Z"], &["{dir}"]);
}

/// `-c -S name`: the table's rows in strace's order.
#[test]
fn summary_sorted_by_name() {
    let pair = Case::new("fileio", &["-c", "-S", "name"], &["{dir}"]).run_both();
    let names = |t: &str| -> Vec<String> {
        t.lines()
            .skip_while(|l| !l.starts_with("------"))
            .skip(1)
            .take_while(|l| !l.starts_with("------"))
            .filter_map(|l| l.split_whitespace().last().map(str::to_string))
            .collect()
    };
    let (s, p) = (names(&pair.strace.trace), names(&pair.pgstrace.trace));
    assert!(!s.is_empty(), "{}", pair.strace.trace);
    assert_eq!(s, p, "pgstrace:\n{}", pair.pgstrace.trace);
}

/// `-P PATH`: only the calls that name the path or use a descriptor of it (`close` too).
#[test]
fn trace_path() {
    compat("fileio", &["-P", "{dir}/a.dat"], &["{dir}"]);
    compat("fileio", &["-P", "{dir}/a.dat", "-y"], &["{dir}"]);
    // Which of a rename's, a link's and a symlink's paths count, as strace counts them.
    compat("links", &["-P", "{dir}/b"], &["{dir}"]);
}

/// strace's long option names, with a value as a separate word or after `=`.
#[test]
fn long_option_names() {
    compat(
        "fileio",
        &[
            "--decode-fds",
            "--string-limit",
            "10",
            "--columns=60",
            "--trace=%file",
        ],
        &["{dir}"],
    );
    summary_case("procs", &["--follow-forks", "--summary-only"], &[]);
    compat("fileio", &["--strings-in-hex=non-ascii"], &["{dir}"]);
    compat(
        "fileio",
        &["--strings-in-hex", "-e", "trace=write"],
        &["{dir}"],
    );
}

/// `--quiet=SET` and `-e quiet=SET`: which messages go.
#[test]
fn quiet_sets() {
    compat("procs", &["-f", "--quiet=exit"], &[]);
    compat("procs", &["-f", "-e", "quiet=attach,exit"], &[]);
    compat("procs", &["-f", "--quiet=all"], &[]);
    compat("procs", &["-f", "-e", "silent=attach"], &[]);
}

/// strace says nothing of the children it attaches when it writes the trace of a command it
/// launched to a file, unless a quiet option says what to say; to the terminal it does.
#[test]
fn attach_messages_with_output_file() {
    for (flags, to_stderr) in [
        (&["-f"][..], true),
        (&["-f", "-e", "quiet=none"][..], false),
        (&["-f", "--quiet=exit"][..], false),
        (&["-f"][..], false),
    ] {
        let mut case = Case::new("procs", flags, &[]);
        case.to_stderr = to_stderr;
        let pair = case.run_both();
        let count = |err: &str| err.lines().filter(|l| l.contains(" attached")).count();
        let (s, p) = (
            count(&pair.strace.out.stderr),
            count(&pair.pgstrace.out.stderr),
        );
        let expect = to_stderr || flags.len() > 1;
        assert_eq!(
            (s > 0, s),
            (expect, p),
            "{flags:?} to_stderr={to_stderr}: pgstrace's stderr:\n{}",
            pair.pgstrace.out.stderr
        );
    }
}

/// The timing columns of a trace, as shapes (digits as `D`): what precedes the call (the
/// absolute and relative timestamps) and the ` <duration>` after it, line by line.
fn timing_shapes(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let head: String = l
                .chars()
                .take_while(|c| c.is_ascii_digit() || ":.()+ ".contains(*c))
                .collect();
            let tail = match l.rfind(" <") {
                Some(i)
                    if l.ends_with('>')
                        && l[i + 2..l.len() - 1]
                            .bytes()
                            .all(|b| b.is_ascii_digit() || b == b'.') =>
                {
                    &l[i..]
                }
                _ => "",
            };
            format!("{head}|{tail}")
                .chars()
                .map(|c| if c.is_ascii_digit() { 'D' } else { c })
                .collect()
        })
        .collect()
}

/// strace 6.1's timestamp precisions and formats (`--absolute-timestamps`, its alias
/// `--timestamps`, `--relative-timestamps=P`, `--syscall-times=P`), alone and together: the
/// same columns, digit for digit, as strace prints.
#[test]
fn timestamp_precisions() {
    for flags in [
        &["--timestamps=unix,ms"][..],
        &["--absolute-timestamps=unix,ns"][..],
        &["--absolute-timestamps=ms"][..],
        &["--absolute-timestamps=format:time,precision:ns"][..],
        &["--absolute-timestamps=none"][..],
        &["--absolute-timestamps"][..],
        &["--relative-timestamps=ms"][..],
        &["--relative-timestamps=ns"][..],
        &["--relative-timestamps=s"][..],
        &["--syscall-times=ns"][..],
        &["--syscall-times=ms"][..],
        &["--syscall-times=s"][..],
        &["-ttt", "--relative-timestamps=ms"][..],
        &["-tt", "-r", "-T"][..],
        &["-t", "--syscall-times=ns"][..],
    ] {
        let mut all = vec!["-e", "trace=openat,close,write"];
        all.extend_from_slice(flags);
        let pair = Case::new("fileio", &all, &["{dir}"]).run_both();
        fixtures::assert_no_panic(&flags.join(" "), &pair.pgstrace.out.stderr);
        let (s, p) = (
            timing_shapes(&pair.strace.trace),
            timing_shapes(&pair.pgstrace.trace),
        );
        assert!(!s.is_empty(), "{flags:?}: strace wrote nothing");
        assert_eq!(
            s, p,
            "{flags:?}\nstrace:\n{}\npgstrace:\n{}",
            pair.strace.trace, pair.pgstrace.trace
        );
    }
    // Bad precisions are one line, as strace refuses them.
    for bad in [
        "--syscall-times=fs",
        "--absolute-timestamps=unix,xs",
        "--relative-timestamps=min",
    ] {
        let o = Command::new(fixtures::pgstrace_bin())
            .args([bad, "true"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{bad}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{bad}: {err}");
        assert!(
            err.contains("precision") || err.contains("invalid"),
            "{bad}: {err}"
        );
    }
}

// --- --seccomp-bpf -----------------------------------------------------------------------

/// `--seccomp-bpf -f`: the same lines as strace's (execs, a failed execve, the children's
/// exits; an injected delay), and the command stops only at the traced calls: a dozen stops
/// where plain ptrace takes over a hundred (`--hold-stats` counts them).
#[test]
fn seccomp_bpf_traces_the_same_with_fewer_stops() {
    compat(
        "procs",
        &["-f", "--seccomp-bpf", "-e", "trace=execve,exit_group,wait4"],
        &[],
    );
    compat(
        "procs",
        &[
            "-f",
            "--seccomp-bpf",
            "-e",
            "trace=%process",
            "-e",
            "inject=wait4:delay_exit=1ms",
        ],
        &[],
    );
    let stops = |extra: &[&str]| -> u64 {
        let o = Command::new(fixtures::pgstrace_bin())
            .args([
                "-f",
                "-qq",
                "--hold-stats",
                "-e",
                "trace=getpid",
                "-o",
                "/dev/null",
            ])
            .args(extra)
            .arg(fixtures::fixture("procs"))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&o.stderr);
        err.split("held ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no stop count in:\n{err}"))
    };
    let filtered = stops(&["--seccomp-bpf"]);
    let plain = stops(&[]);
    assert!(
        filtered * 4 < plain,
        "--seccomp-bpf held {filtered} stops, plain ptrace {plain}"
    );
}

/// strace's refusals, as warnings that trace on without the filter.
#[test]
fn seccomp_bpf_needs_f_a_command_and_a_filter() {
    for (flags, says) in [
        (
            &["--seccomp-bpf", "-e", "trace=getpid"][..],
            "cannot be used without -f/--follow-forks, disabling",
        ),
        (
            &["-f", "--seccomp-bpf"][..],
            "Seccomp filter is requested but there are no syscalls to filter",
        ),
    ] {
        let o = Command::new(fixtures::pgstrace_bin())
            .args(flags)
            .args(["-o", "/dev/null", "true"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.status.code(), Some(0));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{flags:?}: {err}");
    }
}

/// Runs `pgstrace FLAGS -o /dev/null sleep 30`, sends pgstrace `sig` once sleep runs, and
/// says whether sleep is gone within 5 s (it is killed and reaped otherwise).
fn sleep_dies_with_the_tracer(flags: &[&str], sig: i32) -> bool {
    let mut child = Command::new(fixtures::pgstrace_bin())
        .args(flags)
        .args(["-o", "/dev/null", "sleep", "30"])
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let me = child.id() as i32;
    let mut sleeper = None;
    assert!(
        fixtures::wait_until(std::time::Duration::from_secs(10), || {
            sleeper = std::fs::read_to_string(format!("/proc/{me}/task/{me}/children"))
                .ok()
                .and_then(|s| {
                    s.split_whitespace()
                        .next()
                        .and_then(|p| p.parse::<i32>().ok())
                });
            sleeper.is_some_and(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
        }),
        "sleep never started"
    );
    let sleeper = sleeper.unwrap_or_default();
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(me, sig);
    }
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    if sig != libc::SIGKILL {
        assert!(
            status.code().is_some(),
            "{flags:?}: pgstrace died of a signal: {status:?}"
        );
    }
    let gone = fixtures::wait_until(std::time::Duration::from_secs(5), || {
        !std::path::Path::new(&format!("/proc/{sleeper}")).exists()
            || fixtures::proc_state(sleeper).is_some_and(|(s, _)| s == 'Z')
    });
    if !gone {
        // SAFETY: kill(2) on the sleep this test started (an orphan now).
        unsafe {
            libc::kill(sleeper, libc::SIGKILL);
        }
    }
    gone
}

/// A filtered command is not let go when pgstrace is stopped (its traced calls would fail
/// with ENOSYS untraced): it is killed, as strace's --seccomp-bpf does, and pgstrace exits.
#[test]
fn seccomp_bpf_command_dies_with_the_tracer() {
    let flags = [
        "-f",
        "-qq",
        "--seccomp-bpf",
        "-e",
        "trace=nanosleep,clock_nanosleep",
    ];
    assert!(
        sleep_dies_with_the_tracer(&flags, libc::SIGTERM),
        "the filtered sleep outlived pgstrace"
    );
}

/// `--kill-on-exit` (strace 6.2's): the command dies with pgstrace, whether pgstrace ends
/// on SIGTERM (killed where it would be let go) or is SIGKILLed (PTRACE_O_EXITKILL);
/// without it the command is let go and runs on. Refused with `-p` and `--backend=perf`.
#[test]
fn kill_on_exit_takes_the_command_along() {
    assert!(sleep_dies_with_the_tracer(
        &["--kill-on-exit"],
        libc::SIGTERM
    ));
    assert!(sleep_dies_with_the_tracer(
        &["-f", "--kill-on-exit"],
        libc::SIGKILL
    ));
    assert!(
        !sleep_dies_with_the_tracer(&[], libc::SIGTERM),
        "let go, sleep runs on"
    );
    for refused in [
        &["--kill-on-exit", "-p", "1"][..],
        &["--kill-on-exit", "--backend=perf", "true"],
    ] {
        let o = Command::new(fixtures::pgstrace_bin())
            .args(refused)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{refused:?}: {err}");
        assert!(
            err.contains("--kill-on-exit") && err.lines().count() == 1,
            "{err}"
        );
    }
}

/// `-d`/`--debug`: pgstrace's own debugging lines on stderr (strace's are its own too), the
/// trace unchanged.
#[test]
fn debug_lines_beside_an_unchanged_trace() {
    for flag in ["-d", "--debug"] {
        let pair = Case::new("procs", &["-f", flag], &[]).run_both();
        check_pair(&format!("procs -f {flag}"), &pair);
        let err = &pair.pgstrace.out.stderr;
        for what in [
            "launched",
            "seized",
            "Forked",
            "gone (Exited",
            "0 tracees left",
        ] {
            assert!(
                err.lines()
                    .any(|l| l.starts_with("pgstrace: [debug] ") && l.contains(what)),
                "no debug line with {what:?} in:\n{err}"
            );
        }
        assert!(!pair.strace.out.stderr.is_empty(), "strace -d said nothing");
    }
}

/// After a detach signal the exit status is what strace's caller sees (128 + the signal),
/// with `-p` and with a launched command (SIGTERM; written to the terminal), and the
/// launched command's detach is announced as strace announces it; `-b execve` announces it
/// too.
/// A child the tracer inherited and never traced (`(sleep 1 & exec strace true)`): its exit
/// is reaped with the tracees' and reported as `Exit of unknown pid N ignored`, to stderr
/// even with `-o`, kept quiet by `--quiet=exit` (and `-qq`), not by `-q`.
#[test]
fn exit_of_an_unknown_pid() {
    let re =
        regex::Regex::new(r"Exit of unknown pid \d+ ignored").unwrap_or_else(|e| panic!("{e}"));
    for flags in ["", "-q", "-qq", "--quiet=exit", "-o /dev/null"] {
        let mut seen = Vec::new();
        for tool in [fixtures::strace_bin(), fixtures::pgstrace_bin()] {
            let script = format!(
                "sleep 0.2 & exec {} {flags} -e trace=none sleep 0.8",
                tool.display()
            );
            let o = Command::new("sh")
                .args(["-c", &script])
                .output()
                .unwrap_or_else(|e| panic!("{e}"));
            let err = String::from_utf8_lossy(&o.stderr);
            fixtures::assert_no_panic(&script, &err);
            assert_eq!(o.status.code(), Some(0), "{script}: {err}");
            seen.push(re.find_iter(&err).count());
        }
        assert_eq!(seen[0], seen[1], "{flags:?}: (strace, pgstrace) messages");
        let quiet = flags.contains("qq") || flags.contains("exit");
        assert_eq!(seen[1], usize::from(!quiet), "{flags:?}");
    }
}

#[test]
fn exit_status_and_messages_after_a_detach() {
    let mut sleeper = Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let spid = sleeper.id().to_string();
    let run = |tool: &std::path::Path, args: &[&str], sig: i32| {
        let mut c = Command::new(tool)
            .args(args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(c.id() as i32, sig);
        }
        let mut err = String::new();
        if let Some(mut e) = c.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        let st = c.wait().unwrap_or_else(|e| panic!("{e}"));
        // strace re-raises the signal; pgstrace exits with 128 + it.
        let code = st
            .code()
            .or_else(|| std::os::unix::process::ExitStatusExt::signal(&st).map(|s| 128 + s));
        (code, err.contains(" detached"))
    };
    let cases: [(&[&str], i32); 3] = [
        (&["-o", "/dev/null", "-p", &spid], libc::SIGINT),
        (&["-o", "/dev/null", "-p", &spid], libc::SIGTERM),
        (&["-e", "trace=none", "sleep", "5"], libc::SIGTERM),
    ];
    for (args, sig) in cases {
        let s = run(&fixtures::strace_bin(), args, sig);
        let p = run(&fixtures::pgstrace_bin(), args, sig);
        assert_eq!(
            s, p,
            "{args:?} signal {sig}: (exit status, detached message)"
        );
        assert_eq!(p, (Some(128 + sig), true), "{args:?}");
    }
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    for tool in [fixtures::strace_bin(), fixtures::pgstrace_bin()] {
        let o = Command::new(&tool)
            .args([
                "-b",
                "execve",
                "-e",
                "trace=execve",
                "sh",
                "-c",
                "exec true",
            ])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(" detached"), "{}: {err}", tool.display());
    }
    // The two `sleep 5` let go above end by themselves.
}

/// `--tips`: a tip (pgstrace's own) in a box on stderr after the trace, as strace prints
/// its own; `format:none` prints none; a bad spec is refused in strace's words.
#[test]
fn tips_after_the_trace() {
    let run = |tool: &std::path::Path, spec: &str| {
        Command::new(tool)
            .args([spec, "-e", "trace=none", "true"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let o = run(&fixtures::pgstrace_bin(), "--tips=id:1,format:full");
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.first(), Some(&"+++ exited with 0 +++"), "{err}");
    assert!(
        lines[1].trim_start().starts_with("+--") && lines.len() > 4,
        "{err}"
    );
    assert!(err.contains("pgstrace tip 1 of"), "{err}");
    assert_eq!(o.status.code(), Some(0));
    let o = run(&fixtures::pgstrace_bin(), "--tips=format:none");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "+++ exited with 0 +++\n"
    );
    for tool in [fixtures::strace_bin(), fixtures::pgstrace_bin()] {
        let o = run(&tool, "--tips=bogus");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("invalid --tips argument: 'bogus'"), "{err}");
    }
}

/// strace's `-F` (deprecated): `-f` with strace's warning, ignored beside `-f`; `-O`
/// (`--summary-syscall-overhead`) takes its time off each call in the `-c` table; `--argv0`
/// (strace 6.4's) is the command's argv[0].
#[test]
fn deprecated_f_overhead_and_argv0() {
    for flags in [&["-F"][..], &["-F", "-f", "-F"]] {
        let mut case = Case::new("procs", flags, &[]);
        case.to_stderr = false;
        let pair = case.run_both();
        check_pair(&format!("procs {flags:?}"), &pair);
        let warning = |err: &str| {
            err.lines()
                .find(|l| l.contains("-F"))
                // strace names itself as it was run (`/usr/bin/strace: ...`).
                .and_then(|l| l.split_once("strace: "))
                .map(|(_, msg)| msg.to_string())
        };
        assert_eq!(
            warning(&pair.strace.out.stderr),
            warning(&pair.pgstrace.out.stderr),
            "{flags:?}"
        );
    }
    // A 200 ms sleep with 100 ms off: about 0.1 s, in strace and in pgstrace.
    for tracer in [fixtures::strace_bin(), fixtures::pgstrace_bin()] {
        let o = Command::new(&tracer)
            .args([
                "-c",
                "-w",
                "-U",
                "name,total-time",
                "-e",
                "trace=clock_nanosleep",
            ])
            .args(["--summary-syscall-overhead=50ms", "-O", "100ms"])
            .args(["sleep", "0.2"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&o.stderr);
        let secs = summary_seconds(&err, "clock_nanosleep")
            .unwrap_or_else(|| panic!("{}: no clock_nanosleep row in:\n{err}", tracer.display()));
        assert!(
            (0.09..0.15).contains(&secs),
            "{}: {secs} s in:\n{err}",
            tracer.display()
        );
        let bad = Command::new(&tracer)
            .args(["-c", "-O", "soon", "true"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(bad.status.code(), Some(1));
        assert!(err.contains("invalid -O argument: 'soon'"), "{err}");
    }
    let o = Command::new(fixtures::pgstrace_bin())
        .args(["-e", "trace=execve", "--argv0", "dash-as-me"])
        .args(["sh", "-c", "echo $0"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(out, "dash-as-me\n");
    assert!(
        err.contains(r#"execve("/usr/bin/sh", ["dash-as-me", "-c", "echo $0"]"#),
        "{err}"
    );
}

// --- -D ----------------------------------------------------------------------------------

/// `-D`/`-DD`/`-DDD`/`--daemonize=`: the command stays its caller's direct child (its
/// parent pid is ours, its exit status reaches us), the tracer (a grandchild) writes the
/// same trace as strace's -D; the refusals in strace's words.
#[test]
fn daemonize_keeps_the_command_our_child() {
    let me = std::process::id().to_string();
    for flags in [&["-D"][..], &["-DD"], &["-DDD"], &["--daemonize=session"]] {
        let mut traces = Vec::new();
        for tool in [fixtures::strace_bin(), fixtures::pgstrace_bin()] {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let file = dir.path().join("t");
            let o = Command::new(&tool)
                .args(flags)
                .args(["-e", "trace=execve,getppid,exit_group", "-o"])
                .arg(&file)
                .args(["sh", "-c", "echo $PPID; exit 7"])
                .output()
                .unwrap_or_else(|e| panic!("{e}"));
            let who = format!("{} {flags:?}", tool.display());
            assert_eq!(o.status.code(), Some(7), "{who}: {o:?}");
            assert_eq!(
                String::from_utf8_lossy(&o.stdout).trim(),
                me,
                "{who}: parent"
            );
            // The tracer outlives the command a little: wait for its last line.
            let mut t = String::new();
            assert!(
                fixtures::wait_until(std::time::Duration::from_secs(10), || {
                    t = std::fs::read_to_string(&file).unwrap_or_default();
                    t.contains("+++ exited with 7 +++")
                }),
                "{who}: no end of trace in:\n{t}"
            );
            traces.push(fixtures::normalize(&t));
        }
        compare::assert_lines_eq(&format!("{flags:?}"), &traces[0], &traces[1]);
    }
    for (flags, says) in [
        (
            &["-D", "-p", "1"][..],
            "PROG [ARGS] must be specified with -D/--daemonize",
        ),
        (
            &["-DDDD", "true"][..],
            "Too many -D's (4), maximum supported -D count is 3",
        ),
    ] {
        let o = Command::new(fixtures::pgstrace_bin())
            .args(flags)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(says),
            "{flags:?}: {o:?}"
        );
    }
}

/// `-b execve` (`--detach-on=execve`): a process that calls execve is let go at that call
/// (` <detached ...>`), the launched command's own first execve excepted; strace's refusal
/// of other calls.
#[test]
fn detach_on_execve() {
    // A call in flight when its process is let go ends ` <detached ...>` where it is the
    // line being written, else it stays `<unfinished ...>` with no resumption: which one
    // depends on whether another process's line came between, in strace as in pgstrace.
    let settle = |t: &str| -> String {
        let lines: Vec<&str> = t.lines().collect();
        let mut out = Vec::with_capacity(lines.len());
        for (i, l) in lines.iter().enumerate() {
            let pid = l.split_whitespace().next().unwrap_or_default();
            let resumed_later = lines[i + 1..]
                .iter()
                .any(|m| m.split_whitespace().next() == Some(pid) && m.contains("resumed>"));
            match l.strip_suffix(" <unfinished ...>") {
                Some(head) if !resumed_later => out.push(format!("{head} <detached ...>")),
                _ => out.push(l.to_string()),
            }
        }
        out.join("\n")
    };
    for flags in [
        &["-f", "-b", "execve"][..],
        &["-f", "--detach-on=execve", "-e", "trace=%process"],
    ] {
        let mut pair = Case::new("procs", flags, &[]).run_both();
        for t in [&mut pair.strace.trace, &mut pair.pgstrace.trace] {
            *t = settle(t);
        }
        check_pair(&format!("procs {}", flags.join(" ")), &pair);
    }
    let o = Command::new(fixtures::pgstrace_bin())
        .args(["-b", "open", "true"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Syscall 'open' for -b isn't supported"));
}

// --- ioctl request names ---------------------------------------------------------------

/// The ioctls PostgreSQL and its tools make, on real descriptors, decoded whole.
#[test]
fn ioctls_decode_like_strace() {
    compat("ioctls", &["-e", "trace=ioctl"], &["{dir}"]);
    compat(
        "ioctls",
        &["-X", "verbose", "-e", "trace=ioctl"],
        &["{dir}"],
    );
    compat("ioctls", &["-X", "raw", "-e", "trace=ioctl"], &["{dir}"]);
}

/// The request of each `ioctl(-1, REQUEST...` line, up to its `,` or `)`.
fn ioctl_requests(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter_map(|l| l.strip_prefix("ioctl(-1, "))
        .map(|r| {
            if r.starts_with("_IOC(") {
                r[..r.find(')').map_or(r.len(), |i| i + 1)].to_string()
            } else {
                r[..r.find([',', ')']).unwrap_or(r.len())].to_string()
            }
        })
        .collect()
}

/// Every name `#define`d in the headers of this machine.
fn defined_names() -> std::collections::HashSet<String> {
    fn walk(dir: &Path, out: &mut std::collections::HashSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "h") {
                let text = std::fs::read(&p).unwrap_or_default();
                for line in String::from_utf8_lossy(&text).lines() {
                    let t = line.trim_start();
                    if let Some(rest) = t.strip_prefix('#') {
                        let rest = rest.trim_start();
                        if let Some(d) = rest.strip_prefix("define") {
                            let name: String = d
                                .trim_start()
                                .chars()
                                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                                .collect();
                            out.insert(name);
                        }
                    }
                }
            }
        }
    }
    let mut out = std::collections::HashSet::new();
    walk(Path::new("/usr/include"), &mut out);
    out
}

/// Every ioctl request of pgstrace's table (generated from the kernel's headers by
/// tools/gen-ioctl-names), every plain request number (0 to 0xffff) and the sound mixer's
/// numbered requests, each made once on a closed descriptor, are named as strace 6.1 names
/// them: one name, or several joined with ` or `, else `_IOC(dir, type, nr, size)`; under
/// `-X raw` the number. Where the names differ, the names strace has and pgstrace lacks are
/// those no header on this machine defines (strace carries its own copies of some drivers'
/// headers: DRM, VMCI, binder, ...) and its parametrized hidraw names.
#[test]
fn ioctl_names_as_strace_names_them() {
    let table = fixtures::repo_root().join("src/syscalls/decode/ioctl_names.txt");
    let table = table.to_string_lossy().into_owned();
    let args = [table.as_str(), "0x0-0xffff", "0x4d00-0x4dff"];
    let pair = Case::new("ioctlnames", &["-e", "trace=ioctl"], &args).run_both();
    let (theirs, ours) = (
        ioctl_requests(&pair.strace.trace),
        ioctl_requests(&pair.pgstrace.trace),
    );
    assert!(theirs.len() > 68_000, "{}", theirs.len());
    assert_eq!(theirs.len(), ours.len());
    let defined = defined_names();
    let mut named_alike = 0;
    for (s, p) in theirs.iter().zip(&ours) {
        if s == p {
            named_alike += usize::from(!s.starts_with("_IOC("));
            continue;
        }
        let names = |t: &str| -> Vec<String> {
            if t.starts_with("_IOC(") {
                Vec::new()
            } else {
                t.split(" or ").map(str::to_string).collect()
            }
        };
        let (sn, pn) = (names(s), names(p));
        assert!(
            pn.iter().all(|n| sn.contains(n)),
            "pgstrace names {p} what strace names {s}"
        );
        for n in sn.iter().filter(|n| !pn.contains(n)) {
            assert!(
                n.starts_with("HIDIOC") && n.contains('(') || !defined.contains(n.as_str()),
                "strace names {s}, pgstrace {p}: {n} is in this machine's headers"
            );
        }
    }
    assert!(named_alike > 2_400, "{named_alike}");
    let raw = Case::new("ioctlnames", &["-X", "raw", "-e", "trace=ioctl"], &args).run_both();
    assert_eq!(
        ioctl_requests(&raw.strace.trace),
        ioctl_requests(&raw.pgstrace.trace)
    );
}

/// A virtual machine run to its halt, traced as a hypervisor is (`-e kvm=vcpu`: each
/// `KVM_RUN`'s exit reason, read from the vCPU's shared `struct kvm_run`), with KVM's
/// requests decoded (capabilities by name, the memory region, the registers, abbreviated
/// or whole under `-v`), under both `-X` styles; every capability number named as strace
/// names it. Without /dev/kvm the fixture does nothing, and says so.
#[test]
fn kvm_vcpu_exit_reasons_like_strace() {
    if std::fs::File::open("/dev/kvm").is_err() {
        eprintln!("no /dev/kvm here: the KVM fixture only checks that it says so");
    }
    for flags in [
        &["-e", "trace=ioctl", "-e", "kvm=vcpu"][..],
        &["-e", "trace=ioctl"],
        &["-v", "-e", "trace=ioctl", "--kvm=vcpu"],
        &["-X", "raw", "-e", "trace=ioctl", "-e", "kvm=vcpu"],
        &["-X", "verbose", "-e", "trace=ioctl", "-e", "kvm=vcpu"],
    ] {
        let pair = compat("kvm", flags, &[]);
        let t = &pair.pgstrace.trace;
        if pair.pgstrace.out.stdout.contains("io A") {
            let reasons = t.contains("= 0 (KVM_EXIT_IO)") && t.contains("= 0 (KVM_EXIT_HLT)");
            assert_eq!(reasons, flags.iter().any(|f| f.contains("kvm=")), "{t}");
        }
    }
    compat("kvm", &["-e", "trace=ioctl"], &["caps"]);
    refused_alike(&["-e", "kvm=all"]);
}

/// The system's odd calls (syslog, host names in a UTS namespace of the fixture's own,
/// accounting, swap, a refused reboot, I/O ports and priorities, kcmp, protection keys,
/// userfaultfd, file handles, process_madvise/mrelease, memfd_secret, remap_file_pages,
/// adjtimex), decoded as strace decodes them.
#[test]
fn misc_calls_decode_like_strace() {
    let pair = compat("misccalls", &[], &[]);
    assert!(
        pair.pgstrace.trace.contains(
            "ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4)) = 0"
        ),
        "{}",
        pair.pgstrace.trace
    );
    compat(
        "misccalls",
        &[
            "-y",
            "-e",
            "trace=getpid,kcmp,name_to_handle_at,open_by_handle_at",
        ],
        &[],
    );
}

/// The debugger's calls (ptrace requests of every shape: on a pid that does not exist with
/// fixed structures, and on a child of the fixture's own seized, peeked, poked, stepped to
/// a syscall's entry and exit with PTRACE_GET_SYSCALL_INFO), modify_ldt and the thread
/// area, migrate_pages, move_pages, futex_waitv, set_mempolicy_home_node and ustat,
/// decoded as strace decodes them.
#[test]
fn ptrace_and_rare_memory_calls_decode_like_strace() {
    let t = "trace=ptrace,modify_ldt,set_thread_area,get_thread_area,migrate_pages,\
             move_pages,futex_waitv,set_mempolicy_home_node,ustat";
    let pair = compat("ptracecalls", &["-e", t], &[]);
    let trace = &pair.pgstrace.trace;
    for want in [
        "ptrace(PTRACE_TRACEME)",
        ", offsetof(struct user, u_debugreg)+8, ",
        "entry={nr=__NR_getuid, args=[0x1, 0x2, 0x3, 0x4, 0x5, 0x6]}}",
        "exit={rval=0, is_error=0}}",
        "ptrace(PTRACE_PEEKDATA, ",
        ", [0x1234]) = 0",
        "ptrace(PTRACE_SETREGS, ",
        "modify_ldt(1, {entry_number=0, base_addr=0x001000, limit=0x0fffff, seg_32bit=1,",
        "= 4294967274 EINVAL (Invalid argument)",
        ", -EFAULT], MPOL_MF_MOVE_ALL) = 0",
        "flags=FUTEX_32|FUTEX_PRIVATE_FLAG}",
    ] {
        assert!(trace.contains(want), "{want:?} not in:\n{trace}");
    }
}
