//! strace's option words: which short and long options take a value, the long forms that
//! stand for short options or `-e` qualifiers, the sets some options take (`--decode-fds`,
//! `--decode-pids`, timestamp precisions), and the rewriting of an argument vector into the
//! words clap parses.

/// Short options that take a value.
pub(super) const VALUE_SHORTS: &str = "eopsaEuSPIUXbO";
/// Long options that take a value (when not written `--opt=value`).
pub(super) const VALUE_LONGS: [&str; 16] = [
    "--backend",
    "--reader-priority",
    "--detach-on",
    "--const-print-style",
    "--summary-columns",
    "--trace",
    "--color",
    "--colour",
    "--signal",
    "--status",
    "--summary-sort-by",
    "--trace-path",
    "--attach",
    "--string-limit",
    "--columns",
    "--output",
];

/// Splits strace-style attached values (`-etrace=openat`, `-p123`) into two words before the
/// command starts, because clap reads `-etrace=openat` as a cluster of flags. Everything from
/// the command (the first word that is neither an option nor an option's value) is left as is.
/// Short flags (no value) pgstrace knows.
pub(super) const FLAG_SHORTS: &str = "fkyTtrcwCqhVxnzZAivYDFd";
/// strace 6.1's short options pgstrace does not have yet.
pub(super) const STRACE_ONLY_SHORTS: &str = "";
/// `--decode-pids=SET`: command names (`comm`), numbers in pgstrace's PID namespace
/// (`pidns`).
pub fn decode_pids_set(set: &str) -> Result<crate::syscalls::DecodePids, String> {
    let mut d = crate::syscalls::DecodePids::default();
    for w in set.split(',') {
        match w {
            "comm" => d.comm = true,
            "pidns" => d.pidns = true,
            "all" => {
                d.comm = true;
                d.pidns = true;
            }
            "none" => d = Default::default(),
            _ => {
                return Err(format!(
                    "invalid --decode-pids '{}' (comm, pidns, all)",
                    w.escape_default()
                ));
            }
        }
    }
    Ok(d)
}

/// `--decode-fds=SET` (`-e decode-fds=SET`) as `session::FD_*` bits, as strace reads the
/// set: `[!]all`, `[!]none` or `[!]KIND[,KIND...]` (empty entries skipped).
pub fn decode_fds_bits(set: &str) -> Result<u8, String> {
    use crate::session::command::{FD_DEVS, FD_PATHS, FD_PIDFDS, FD_SOCKETS};
    const ALL: u8 = FD_PATHS | FD_SOCKETS | FD_DEVS | FD_PIDFDS;
    let invalid = |w: &str| {
        format!(
            "invalid --decode-fds '{}' (path, socket, dev, pidfd, all, none)",
            w.escape_default()
        )
    };
    let (neg, body) = match set.strip_prefix('!') {
        Some(b) => (true, b),
        None => (false, set),
    };
    let bits = match body {
        "all" => ALL,
        "none" => 0,
        _ => {
            let mut bits = 0;
            let mut any = false;
            for w in body.split(',').filter(|w| !w.is_empty()) {
                any = true;
                bits |= match w {
                    "path" => FD_PATHS,
                    "socket" => FD_SOCKETS,
                    "dev" => FD_DEVS,
                    "pidfd" => FD_PIDFDS,
                    _ => return Err(invalid(w)),
                };
            }
            if !any {
                return Err(invalid(body));
            }
            bits
        }
    };
    Ok(if neg { !bits & ALL } else { bits })
}

/// `-y` counted: paths; `-yy`: paths, sockets and devices.
pub(super) fn y_bits(n: u8) -> u8 {
    use crate::session::command::{FD_DEVS, FD_PATHS, FD_PIDFDS, FD_SOCKETS};
    match n {
        0 => 0,
        1 => FD_PATHS,
        _ => FD_PATHS | FD_SOCKETS | FD_DEVS | FD_PIDFDS,
    }
}

/// strace's precision words: digits after the second.
pub fn precision(p: &str, option: &str) -> Result<u8, String> {
    match p {
        "s" => Ok(0),
        "ms" => Ok(3),
        "us" => Ok(6),
        "ns" => Ok(9),
        _ => Err(format!(
            "invalid {option} precision '{}' (s, ms, us or ns)",
            p.escape_default()
        )),
    }
}

/// The absolute timestamp from `-t` (counted) and `--absolute-timestamps=SPEC`: (0 none, 1
/// time of day, 3 seconds since the epoch; digits). The option's parts override -t's.
pub fn absolute(t: u8, spec: Option<&str>) -> Result<(u8, u8), String> {
    let (mut fmt, mut digits) = match t {
        0 => (0, 0),
        1 => (1, 0),
        2 => (1, 6),
        _ => (3, 6),
    };
    let Some(spec) = spec else {
        return Ok((fmt, digits));
    };
    let (mut got_fmt, mut got_prec) = (false, false);
    for part in spec.split(',') {
        let (key, val) = match part.split_once(':') {
            Some((k, v)) => (Some(k), v),
            None => (None, part),
        };
        let as_fmt = match val {
            "none" => Some(0),
            "time" => Some(1),
            "unix" => Some(3),
            _ => None,
        };
        match (key, as_fmt) {
            (None | Some("format"), Some(f)) => {
                fmt = f;
                got_fmt = true;
            }
            (None | Some("precision"), None) => {
                digits = precision(val, "--absolute-timestamps")?;
                got_prec = true;
            }
            _ => {
                return Err(format!(
                    "invalid --absolute-timestamps '{}' ([format:]none|time|unix[,[precision:]s|ms|us|ns])",
                    spec.escape_default()
                ));
            }
        }
    }
    if !got_fmt && fmt == 0 {
        fmt = 1;
    }
    if !got_prec && t == 0 {
        digits = 0;
    }
    Ok((fmt, digits))
}

/// Long options pgstrace knows (their `=value` forms too).
pub(super) const KNOWN_LONGS: [&str; 47] = [
    "--tips",
    "--debug",
    "--kill-on-exit",
    "--argv0",
    "--detach-on",
    "--daemonize",
    "--seccomp-bpf",
    "--decode-pids",
    "--no-abbrev",
    "--const-print-style",
    "--summary-columns",
    "--backend",
    "--reader-priority",
    "--color",
    "--colour",
    "--instruction-pointer",
    "--quiet",
    "--output-append-mode",
    "--strings-in-hex",
    "--attach",
    "--follow-forks",
    "--stack-trace",
    "--decode-fds",
    "--syscall-times",
    "--relative-timestamps",
    "--absolute-timestamps",
    "--timestamps",
    "--string-limit",
    "--columns",
    "--output",
    "--summary-only",
    "--summary-wall-clock",
    "--summary",
    "--trace-path",
    "--summary-sort-by",
    "--successful-only",
    "--failed-only",
    "--syscall-number",
    "--trace",
    "--signal",
    "--status",
    "--json",
    "--histogram",
    "--hold-stats",
    "--no-pg",
    "--help",
    "--version",
];

/// strace's long forms of short options and `-e` qualifiers, as the words they stand for:
/// `--env=X` is `-E X`, `--inject=X` is `-e inject=X`. (`""` after the name: a flag.)
pub(super) const LONG_ALIASES: [(&str, &str); 13] = [
    ("--env", "-E"),
    ("--summary-syscall-overhead", "-O"),
    ("--user", "-u"),
    ("--interruptible", "-I"),
    ("--output-separately", ""),
    ("--inject", "inject"),
    ("--fault", "fault"),
    ("--read", "read"),
    ("--write", "write"),
    ("--abbrev", "abbrev"),
    ("--verbose", "verbose"),
    ("--raw", "raw"),
    ("--kvm", "kvm"),
];

/// strace 6.1's long options pgstrace does not have yet.
pub(super) const STRACE_ONLY_LONGS: [&str; 0] = [];

/// A long alias's words (see [`LONG_ALIASES`]); `value` is its `=VALUE` or next word.
pub(super) fn alias_words(short: &str, value: Option<String>) -> Vec<String> {
    match (short, value) {
        // --output-separately: the second f of -ff.
        ("", _) => vec!["-f".into()],
        (s, Some(v)) if s.starts_with('-') => vec![s.into(), v],
        (kind, Some(v)) => vec!["-e".into(), format!("{kind}={v}")],
        (s, None) => vec![s.into()],
    }
}

/// An option before the command that pgstrace does not know: strace's words for it, or the
/// name of the strace option that is not supported yet. `None`: fine.
pub fn unknown_option(argv: &[String]) -> Option<String> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--" || !a.starts_with('-') || a == "-" {
            return None;
        }
        if let Some(long) = a.strip_prefix("--") {
            let name = format!("--{}", long.split('=').next().unwrap_or_default());
            if STRACE_ONLY_LONGS.contains(&name.as_str()) {
                return Some(format!(
                    "strace's option {name} is not supported yet (docs/trace.md lists what is)"
                ));
            }
            if let Some(&(_, short)) = LONG_ALIASES.iter().find(|(l, _)| *l == name) {
                if !short.is_empty() && !a.contains('=') {
                    it.next();
                }
                continue;
            }
            if !KNOWN_LONGS.contains(&name.as_str()) {
                return Some(format!("unrecognized option '{name}'"));
            }
            if VALUE_LONGS.contains(&a.as_str()) {
                it.next();
            }
            continue;
        }
        for (i, c) in a[1..].char_indices() {
            if VALUE_SHORTS.contains(c) {
                if a.len() == 2 + i {
                    it.next();
                }
                break;
            }
            if FLAG_SHORTS.contains(c) {
                continue;
            }
            if STRACE_ONLY_SHORTS.contains(c) {
                return Some(format!(
                    "strace's option -{c} is not supported yet (docs/trace.md lists what is)"
                ));
            }
            return Some(format!("invalid option -- '{c}'"));
        }
    }
    None
}

pub fn normalise_args(argv: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut it = argv.into_iter();
    if let Some(prog) = it.next() {
        out.push(prog);
    }
    let mut expect_value = false;
    while let Some(a) = it.next() {
        if expect_value {
            out.push(a);
            expect_value = false;
            continue;
        }
        if a == "--" || !a.starts_with('-') || a == "-" {
            out.push(a);
            out.extend(it);
            break;
        }
        if a.starts_with("--") {
            let (name, value) = match a.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (a.as_str(), None),
            };
            if let Some(&(_, short)) = LONG_ALIASES.iter().find(|(l, _)| *l == name) {
                let value = match value {
                    Some(v) => Some(v),
                    None if !short.is_empty() => it.next(),
                    None => None,
                };
                out.extend(alias_words(short, value));
                continue;
            }
            expect_value = VALUE_LONGS.contains(&a.as_str());
            out.push(a);
            continue;
        }
        // A short cluster: flags up to the first value-taking letter, whose value is the rest.
        // -Y is --decode-pids=comm in place, so that the later of the two wins, as in strace.
        let mut body = a[1..].to_string();
        let split = body.char_indices().find(|&(_, c)| VALUE_SHORTS.contains(c));
        let flags_end = split.map_or(body.len(), |(i, _)| i);
        if body[..flags_end].contains('Y') {
            out.push("--decode-pids=comm".into());
            body = body[..flags_end].replace('Y', "") + &body[flags_end..];
            if body.is_empty() {
                continue;
            }
        }
        match body.char_indices().find(|&(_, c)| VALUE_SHORTS.contains(c)) {
            Some((i, c)) => {
                let rest = &body[i + c.len_utf8()..];
                out.push(format!("-{}", &body[..i + c.len_utf8()]));
                if rest.is_empty() {
                    expect_value = true;
                } else {
                    out.push(rest.strip_prefix('=').unwrap_or(rest).to_string());
                }
            }
            None => out.push(format!("-{body}")),
        }
    }
    out
}
