//! The command line's parsing: strace's forms, long aliases, refusals.

use super::*;

#[test]
fn pid_lists() {
    assert_eq!(parse_pids(&["1,2".into(), "3 2".into()]), Ok(vec![1, 2, 3]));
    assert!(parse_pids(&["x".into()]).is_err());
    assert!(parse_pids(&["-5".into()]).is_err());
}

#[test]
fn strace_style_flags() {
    let argv = [
        "pgstrace",
        "-ff",
        "-yy",
        "-ttt",
        "-etrace=openat",
        "-s64",
        "-o",
        "/tmp/x",
        "ls",
        "-l",
    ];
    let a = TraceArgs::try_parse_from(normalise_args(argv.map(String::from).to_vec()))
        .expect("test input is well-formed");
    assert_eq!(a.follow, 2);
    assert_eq!(a.timestamps, 3);
    assert_eq!(a.exprs, vec!["trace=openat"]);
    assert_eq!(a.string_limit, 64);
    assert_eq!(a.command, vec!["ls", "-l"]);
}

#[test]
fn attached_values_split_only_before_the_command() {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        normalise_args(v(&[
            "p",
            "-fetrace=openat",
            "-p123",
            "-o",
            "f",
            "cmd",
            "-etrace=x"
        ])),
        v(&[
            "p",
            "-fe",
            "trace=openat",
            "-p",
            "123",
            "-o",
            "f",
            "cmd",
            "-etrace=x"
        ])
    );
    assert_eq!(
        normalise_args(v(&["p", "--trace", "x", "-c", "--", "-weird"])),
        v(&["p", "--trace", "x", "-c", "--", "-weird"])
    );
    // -Y is --decode-pids=comm where it stands (the later one wins).
    assert_eq!(
        normalise_args(v(&["p", "-fYp1", "-Y", "--decode-pids=pidns", "cmd", "-Y"])),
        v(&[
            "p",
            "--decode-pids=comm",
            "-fp",
            "1",
            "--decode-pids=comm",
            "--decode-pids=pidns",
            "cmd",
            "-Y"
        ])
    );
}

#[test]
fn strace_long_forms_are_their_short_options() {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        normalise_args(v(&[
            "p",
            "--env=A=1",
            "--user",
            "postgres",
            "--inject=fallocate:error=ENOSPC",
            "--raw",
            "getpid",
            "-f",
            "--output-separately",
            "cmd",
            "--env=B"
        ])),
        v(&[
            "p",
            "-E",
            "A=1",
            "-u",
            "postgres",
            "-e",
            "inject=fallocate:error=ENOSPC",
            "-e",
            "raw=getpid",
            "-f",
            "-f",
            "cmd",
            "--env=B"
        ])
    );
    assert_eq!(
        unknown_option(&v(&["p", "--raw", "getpid", "--env=X", "cmd"])),
        None
    );
    assert_eq!(unknown_option(&v(&["p", "--kvm=vcpu", "cmd"])), None);
    assert_eq!(
        normalise_args(v(&["p", "--kvm", "vcpu", "cmd"])),
        v(&["p", "-e", "kvm=vcpu", "cmd"])
    );
    use crate::syscalls::DecodePids;
    let d = |comm, pidns| Ok(DecodePids { comm, pidns });
    assert_eq!(decode_pids_set("comm"), d(true, false));
    assert_eq!(decode_pids_set("pidns"), d(false, true));
    assert_eq!(decode_pids_set("all"), d(true, true));
    assert_eq!(decode_pids_set("comm,none"), d(false, false));
    assert!(decode_pids_set("nope").is_err());
}

#[test]
fn decode_fds_sets_as_strace_reads_them() {
    use crate::session::command::{FD_DEVS, FD_PATHS, FD_PIDFDS, FD_SOCKETS};
    let all = FD_PATHS | FD_SOCKETS | FD_DEVS | FD_PIDFDS;
    assert_eq!(decode_fds_bits("all"), Ok(all));
    assert_eq!(decode_fds_bits("none"), Ok(0));
    assert_eq!(decode_fds_bits("!all"), Ok(0));
    assert_eq!(decode_fds_bits("!none"), Ok(all));
    assert_eq!(decode_fds_bits("path,,dev"), Ok(FD_PATHS | FD_DEVS));
    assert_eq!(decode_fds_bits("!path"), Ok(all & !FD_PATHS));
    for bad in [
        "",
        ",",
        "all,path",
        "path,none",
        "?path",
        "ALL",
        "!",
        "bogus",
    ] {
        assert!(decode_fds_bits(bad).is_err(), "{bad}");
    }
}
