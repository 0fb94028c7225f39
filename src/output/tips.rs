//! `--tips`: one of pgstrace's tips, printed on stderr as the trace ends (strace's option,
//! with pgstrace's own tips).

/// How a tip is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TipFormat {
    None,
    /// In a box just wide enough for its text.
    Compact,
    /// In a box with its number.
    Full,
}

/// `--tips`: which tip (`None`: one chosen at random) and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tips {
    pub id: Option<usize>,
    pub format: TipFormat,
}

const TIPS: &[&str] = &[
    "pgstrace -e inject=fallocate:error=ENOSPC -f -p POSTMASTER reproduces a full /dev/shm \
     on any server: the next parallel query fails as it would, and explain-shm --watch \
     explains it (and says it was injected).",
    "pgstrace explain-shm -p PID tells what fills /dev/shm: every segment, its owners, what \
     the running parallel plans ask for, and what to change.",
    "pgstrace postmortem SERVER.log explains a \"could not resize shared \
     memory segment\" after the fact, from the server's logs alone.",
    "--backend=perf watches a filtered set of calls without stopping the backend at every \
     syscall: a busy server keeps its throughput while you wait for one failure.",
    "-y prints the path behind each descriptor; -yy the peer of each socket. A backend's \
     client is the UNIX or TCP socket it reads its queries from.",
    "pgstrace ps lists a host's database server processes with their roles, parallel leaders and \
     workers, and the query each backend runs, containers included.",
    "-k prints the stack of every traced call, symbolized from debug files when they are \
     installed, else from the binary's own tables; a frame nothing covers says so.",
    "pgstrace doctor checks what the host does to the server: /dev/shm, huge pages, the \
     clocksource and vDSO, the cgroup's memory and writeback, the hypervisor.",
    "-Y names the process behind every pid (`4242<sleep>`); --decode-pids=pidns adds \
     its number in your PID namespace when the tracee lives in a container's.",
    "pgstrace probe -p BACKEND 'dsm_create size=$arg1:u64' prints each call of a server \
     function with the values asked for, and never leaves a breakpoint behind.",
];

/// Parses `--tips[=[[id:]ID][,[format:]FORMAT]]`.
pub fn parse(spec: Option<&str>) -> Result<Tips, String> {
    let mut t = Tips {
        id: None,
        format: TipFormat::Compact,
    };
    let bad = || {
        format!(
            "invalid --tips argument: '{}'",
            spec.unwrap_or_default().escape_default()
        )
    };
    for part in spec
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
    {
        let (key, val) = match part.split_once(':') {
            Some((k, v)) => (Some(k), v),
            None => (None, part),
        };
        match (key, val) {
            (Some("id") | None, "random") => t.id = None,
            (Some("id") | None, n) if n.bytes().all(|b| b.is_ascii_digit()) => {
                t.id = Some(n.parse().map_err(|_| bad())?);
            }
            (Some("format") | None, "none") => t.format = TipFormat::None,
            (Some("format") | None, "compact") => t.format = TipFormat::Compact,
            (Some("format") | None, "full") => t.format = TipFormat::Full,
            _ => return Err(bad()),
        }
    }
    Ok(t)
}

/// Words of `text` in lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for w in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The tip's text framed, ready for stderr; empty under `format:none`.
pub fn render(t: Tips, random: u64) -> String {
    if t.format == TipFormat::None {
        return String::new();
    }
    let id = t.id.unwrap_or(random as usize) % TIPS.len();
    let mut lines = wrap(TIPS[id], 60);
    if t.format == TipFormat::Full {
        lines.insert(0, format!("pgstrace tip {id} of {}:", TIPS.len()));
        lines.insert(1, String::new());
    }
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let rule = format!("  +{}+\n", "-".repeat(width + 2));
    let mut out = rule.clone();
    for l in &lines {
        let pad = width - l.chars().count();
        out.push_str(&format!("  | {l}{} |\n", " ".repeat(pad)));
    }
    out.push_str(&rule);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let t = |id, format| Ok(Tips { id, format });
        assert_eq!(parse(None), t(None, TipFormat::Compact));
        assert_eq!(parse(Some("3")), t(Some(3), TipFormat::Compact));
        assert_eq!(parse(Some("id:3,format:full")), t(Some(3), TipFormat::Full));
        assert_eq!(parse(Some("none")), t(None, TipFormat::None));
        assert_eq!(parse(Some("random,compact")), t(None, TipFormat::Compact));
        assert_eq!(
            parse(Some("bogus")),
            Err("invalid --tips argument: 'bogus'".into())
        );
        assert!(parse(Some("id:x")).is_err());
        assert!(parse(Some("format:3")).is_err());
    }

    #[test]
    fn a_tip_in_its_box() {
        let t = Tips {
            id: Some(TIPS.len() + 1),
            format: TipFormat::Full,
        };
        let s = render(t, 0);
        let lines: Vec<&str> = s.lines().collect();
        // Ids wrap around; every line of the box is as wide as the others.
        assert!(lines[1].contains("pgstrace tip 1 of"), "{s}");
        assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{s}");
        assert!(lines.len() > 4);
        for (i, tip) in TIPS.iter().enumerate() {
            let s = render(
                Tips {
                    id: Some(i),
                    format: TipFormat::Compact,
                },
                0,
            );
            let words: Vec<&str> = s
                .lines()
                .filter(|l| !l.trim_start().starts_with('+'))
                .flat_map(|l| l.trim().trim_matches('|').split_whitespace())
                .collect();
            assert_eq!(words, tip.split_whitespace().collect::<Vec<_>>());
        }
        let none = Tips {
            id: None,
            format: TipFormat::None,
        };
        assert_eq!(render(none, 7), "");
    }
}
