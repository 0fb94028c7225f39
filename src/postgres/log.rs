//! PostgreSQL server log lines, as the server writes them: stderr with any
//! `log_line_prefix` (recognised from the lines themselves, or given), syslog-style lines,
//! csvlog (23 to 26 columns: PG 12 to 15+) and jsonlog. One [`Entry`] per message, with the
//! parts a postmortem needs: time, pid, severity, SQLSTATE, message, and (csv/json) the
//! statement, context, backend type and leader pid that stderr puts on lines of their own.
//!
//! Pure: bytes in, entries out; nothing here reads a file.

/// How a log file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Stderr,
    Csv,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Stderr => "stderr",
            Format::Csv => "csvlog",
            Format::Json => "jsonlog",
        }
    }

    /// The format of a file from its first line.
    pub fn detect(first_line: &[u8]) -> Format {
        let t = trim_ascii_start(first_line);
        if t.first() == Some(&b'{') {
            return Format::Json;
        }
        // csvlog: `2026-01-01 10:00:00.123 UTC,"user","db",4373,...` or `...UTC,,,4373,`.
        if let Some(comma) = t.iter().position(|&b| b == b',')
            && starts_with_date(t)
            && comma < 40
            && t[..comma].iter().all(|&b| b != b'[')
        {
            let rest = &t[comma..];
            if rest.starts_with(b",\"") || rest.starts_with(b",,") {
                return Format::Csv;
            }
        }
        Format::Stderr
    }
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn starts_with_date(b: &[u8]) -> bool {
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// One log message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    /// The time as written (`2026-01-01 10:00:00.123 UTC`).
    pub time: Option<String>,
    /// Seconds since the epoch, when the time could be read (the zone is taken as written:
    /// times of one server compare; `%n` is exact).
    pub epoch: Option<f64>,
    pub pid: Option<u32>,
    /// `ERROR`, `LOG`, `STATEMENT`, `CONTEXT`, ... as written (translated servers write
    /// their own words).
    pub severity: String,
    pub sqlstate: Option<String>,
    pub message: String,
    pub detail: Option<String>,
    pub context: Option<String>,
    pub statement: Option<String>,
    pub backend_type: Option<String>,
    pub leader_pid: Option<u32>,
    /// The user and database (csv/json, or `%u`/`%d` of a given prefix).
    pub user: Option<String>,
    pub database: Option<String>,
}

/// `log_line_prefix` escapes a prefix may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Esc(char),
    /// `%q`: what follows is absent in lines of non-session processes.
    Quiet,
}

/// A `log_line_prefix` given with `--prefix`, matched exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefix {
    pieces: Vec<Piece>,
}

/// Fields a prefix gave.
#[derive(Clone, Debug, Default, PartialEq)]
struct PrefixFields {
    time: Option<String>,
    epoch: Option<f64>,
    pid: Option<u32>,
    sqlstate: Option<String>,
    user: Option<String>,
    database: Option<String>,
    backend_type: Option<String>,
}

impl Prefix {
    /// Compiles a `log_line_prefix` (`%m [%p] %q%u@%d `). Unknown escapes are an error.
    pub fn compile(text: &str) -> Result<Prefix, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            // `%-10p`-style padding: the width is skipped, the field trimmed when read.
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || *c == '-')
            {
                chars.next();
            }
            let Some(e) = chars.next() else {
                return Err("the prefix ends with a lone %".into());
            };
            if e == '%' {
                lit.push('%');
                continue;
            }
            if !"aubdhrpPtmnieclsvxqQ".contains(e) {
                return Err(format!("unknown log_line_prefix escape %{e}"));
            }
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            pieces.push(if e == 'q' {
                Piece::Quiet
            } else {
                Piece::Esc(e)
            });
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Prefix { pieces })
    }

    /// Matches the prefix at the start of `line`: the fields and the rest of the line.
    fn parse<'a>(&self, line: &'a str) -> Option<(PrefixFields, &'a str)> {
        let mut f = PrefixFields::default();
        let mut rest = line;
        let mut i = 0;
        while i < self.pieces.len() {
            match &self.pieces[i] {
                Piece::Lit(l) => rest = rest.strip_prefix(l.as_str())?,
                Piece::Quiet => {
                    // A non-session process stops here: accept when the severity follows.
                    if severity_at(rest).is_some_and(|(s, _)| s == 0) {
                        return Some((f, rest));
                    }
                }
                Piece::Esc(e) => {
                    // The value runs to the next literal (or to the severity at the end).
                    let next = self.pieces[i + 1..].iter().find_map(|p| match p {
                        Piece::Lit(l) => Some(l.as_str()),
                        _ => None,
                    });
                    let end = match (e, next) {
                        ('t' | 'm' | 's', _) => time_len(rest)?,
                        (_, Some(l)) => rest.find(l)?,
                        (_, None) => rest.find(' ').unwrap_or(rest.len()),
                    };
                    let v = rest[..end].trim();
                    match e {
                        'p' => f.pid = v.parse().ok(),
                        't' | 'm' => {
                            f.time = Some(v.to_string());
                            f.epoch = parse_time(v);
                        }
                        'n' => {
                            f.time = Some(v.to_string());
                            f.epoch = v.parse().ok();
                        }
                        'e' => f.sqlstate = Some(v.to_string()).filter(|s| s.len() == 5),
                        'u' => f.user = Some(v.to_string()).filter(|s| !s.is_empty()),
                        'd' => f.database = Some(v.to_string()).filter(|s| !s.is_empty()),
                        'b' => f.backend_type = Some(v.to_string()).filter(|s| !s.is_empty()),
                        _ => {}
                    }
                    rest = &rest[end..];
                }
            }
            i += 1;
        }
        Some((f, rest))
    }
}

/// The length of a `%t`/`%m` time at the start of `s` (`2026-01-01 10:00:00[.123] ZONE`).
fn time_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if !starts_with_date(b) || b.len() < 19 || b[10] != b' ' {
        return None;
    }
    let mut n = 19;
    if b.get(n) == Some(&b'.') {
        n += 1;
        while b.get(n).is_some_and(u8::is_ascii_digit) {
            n += 1;
        }
    }
    // The zone: ` UTC`, ` CET`, ` +03`, ` -0330`.
    if b.get(n) == Some(&b' ') {
        let z = b[n + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'+' || **c == b'-')
            .count();
        if z > 0 && z <= 6 {
            n += 1 + z;
        }
    }
    Some(n)
}

/// `YYYY-MM-DD HH:MM:SS[.fff]` (any zone after it ignored) as seconds since the epoch.
pub fn parse_time(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if !starts_with_date(b) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        std::str::from_utf8(b.get(r)?).ok()?.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = if b.len() >= 19 {
        (num(11..13)?, num(14..16)?, num(17..19)?)
    } else {
        (0, 0, 0)
    };
    let mut frac = 0.0;
    if b.get(19) == Some(&b'.') {
        let digits: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
        frac = format!("0.{digits}").parse().unwrap_or(0.0);
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec) as f64 + frac)
}

/// Where the severity word (`ERROR:  `) starts in `line` and where the message starts: the
/// first word of capitals (any script) or digits followed by a colon and two spaces.
fn severity_at(line: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = line[from..].find(":  ") {
        let at = from + i;
        let word_start = line[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| !c.is_whitespace())
            .last()
            .map(|(j, _)| j)
            .unwrap_or(at);
        let word = &line[word_start..at];
        if !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_uppercase() || c.is_ascii_digit() || c == '_')
            && word.chars().next().is_some_and(char::is_uppercase)
        {
            return Some((word_start, at + 3));
        }
        from = at + 1;
    }
    None
}

/// What a prefix says, read without knowing `log_line_prefix`: the time at the start (`%m`,
/// `%t`, `%n`, or syslog's `Mon DD HH:MM:SS`), the pid (`[1234]`, `pid=1234`,
/// `postgres[1234]:`, or a bare number after the time), and a SQLSTATE (`%e`: five
/// characters, digits and capitals, at least two digits).
fn guess_prefix(prefix: &str) -> PrefixFields {
    let mut f = PrefixFields::default();
    let mut rest = prefix;
    if let Some(n) = time_len(prefix) {
        f.time = Some(prefix[..n].to_string());
        f.epoch = parse_time(&prefix[..n]);
        rest = &prefix[n..];
    } else if let Some(n) = epoch_len(prefix) {
        f.time = Some(prefix[..n].to_string());
        f.epoch = prefix[..n].parse().ok();
        rest = &prefix[n..];
    } else if let Some(n) = syslog_time_len(prefix) {
        f.time = Some(prefix[..n].to_string());
        rest = &prefix[n..];
    }
    // A bracketed number (not `[2-1]`), `pid=N`, or `NAME[N]:` (syslog).
    let mut pid = None;
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() && pid.is_none() {
        if bytes[i] == b'[' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits > 0 && bytes.get(i + 1 + digits) == Some(&b']') {
                pid = rest[i + 1..i + 1 + digits].parse().ok();
            }
        }
        i += 1;
    }
    if pid.is_none()
        && let Some(at) = rest.find("pid=")
    {
        let d: String = rest[at + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        pid = d.parse().ok();
    }
    if pid.is_none() {
        // `%m %p ...`: the first token after the time that is all digits.
        pid = rest
            .split_whitespace()
            .next()
            .map(|t| t.trim_end_matches(':'))
            .and_then(|t| t.parse().ok());
    }
    f.pid = pid;
    f.sqlstate = rest
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|t| {
            t.len() == 5
                && t.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                && t.chars().filter(char::is_ascii_digit).count() >= 2
                && Some(*t) != f.pid.map(|p| p.to_string()).as_deref()
        })
        .map(str::to_string);
    f
}

fn epoch_len(s: &str) -> Option<usize> {
    let n = s
        .bytes()
        .take_while(|c| c.is_ascii_digit() || *c == b'.')
        .count();
    (n >= 10 && s[..n].contains('.') && s[..n].parse::<f64>().is_ok()).then_some(n)
}

/// `Dec  2 05:55:27 ` (syslog, no year).
fn syslog_time_len(s: &str) -> Option<usize> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !MONTHS.iter().any(|m| s.starts_with(m)) {
        return None;
    }
    let b = s.as_bytes();
    let mut n = 3;
    while b.get(n) == Some(&b' ') {
        n += 1;
    }
    while b.get(n).is_some_and(u8::is_ascii_digit) {
        n += 1;
    }
    if b.get(n) != Some(&b' ') {
        return None;
    }
    n += 1;
    let t = b.get(n..n + 8)?;
    (t[2] == b':' && t[5] == b':').then_some(n + 8)
}

/// Parses one stderr/syslog line (without its newline). `None`: no severity in it (a
/// continuation, or not a server line).
pub fn parse_stderr_line(line: &str, prefix: Option<&Prefix>) -> Option<Entry> {
    let (fields, rest) = match prefix {
        Some(p) => {
            let (f, rest) = p.parse(line)?;
            (f, rest)
        }
        None => {
            let (sev, _) = severity_at(line)?;
            (guess_prefix(&line[..sev]), &line[sev..])
        }
    };
    let (s, m) = severity_at(rest)?;
    if prefix.is_some() && s != 0 {
        return None;
    }
    Some(Entry {
        time: fields.time,
        epoch: fields.epoch,
        pid: fields.pid,
        severity: rest[s..m - 3].to_string(),
        sqlstate: fields.sqlstate,
        message: rest[m..].to_string(),
        backend_type: fields.backend_type,
        user: fields.user,
        database: fields.database,
        ..Entry::default()
    })
}

/// Splits one csv record starting at `text[0]` into fields; returns them and the bytes the
/// record took (through its newline). `None`: the record is not complete in `text`.
pub fn split_csv_record(text: &str) -> Option<(Vec<String>, usize)> {
    let b = text.as_bytes();
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    let mut quoted = false;
    let mut start = 0;
    while i < b.len() {
        let c = b[i];
        if quoted {
            if c == b'"' {
                if b.get(i + 1) == Some(&b'"') {
                    cur.push_str(&text[start..i + 1]);
                    i += 2;
                    start = i;
                    continue;
                }
                cur.push_str(&text[start..i]);
                quoted = false;
                i += 1;
                start = i;
                continue;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                cur.push_str(&text[start..i]);
                quoted = true;
                i += 1;
                start = i;
            }
            b',' => {
                cur.push_str(&text[start..i]);
                fields.push(std::mem::take(&mut cur));
                i += 1;
                start = i;
            }
            b'\n' => {
                cur.push_str(text[start..i].trim_end_matches('\r'));
                fields.push(cur);
                return Some((fields, i + 1));
            }
            _ => i += 1,
        }
    }
    None
}

/// An entry from a csvlog record's fields (PG 12: 23 columns, 13: 24, 14+: 26).
pub fn csv_entry(f: &[String]) -> Option<Entry> {
    if f.len() < 23 {
        return None;
    }
    let opt = |i: usize| f.get(i).filter(|s| !s.is_empty()).cloned();
    let time = opt(0)?;
    if !starts_with_date(time.as_bytes()) {
        return None;
    }
    Some(Entry {
        epoch: parse_time(&time),
        time: Some(time),
        pid: f[3].parse().ok(),
        severity: f[11].clone(),
        sqlstate: opt(12),
        message: f[13].clone(),
        detail: opt(14),
        context: opt(18),
        statement: opt(19),
        backend_type: if f.len() >= 24 { opt(23) } else { None },
        leader_pid: if f.len() >= 25 {
            opt(24).and_then(|p| p.parse().ok())
        } else {
            None
        },
        user: opt(1),
        database: opt(2),
    })
}

/// An entry from one jsonlog line.
pub fn json_entry(line: &str) -> Option<Entry> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let n = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_u64)
            .map(|p| p as u32)
    };
    let time = s("timestamp");
    Some(Entry {
        epoch: time.as_deref().and_then(parse_time),
        time,
        pid: n("pid"),
        severity: s("error_severity")?,
        sqlstate: s("state_code"),
        message: s("message")?,
        detail: s("detail"),
        context: s("context"),
        statement: s("statement"),
        backend_type: s("backend_type"),
        leader_pid: n("leader_pid"),
        user: s("user"),
        database: s("dbname"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart() {
        assert_eq!(
            Format::detect(b"2026-12-02 05:56:54.675 UTC,,,28645,,6b0f,1,,2026"),
            Format::Csv
        );
        assert_eq!(
            Format::detect(b"2026-12-02 05:56:54.675 UTC,\"postgres\",\"postgres\",1"),
            Format::Csv
        );
        assert_eq!(Format::detect(b"{\"timestamp\":\"2026\"}"), Format::Json);
        assert_eq!(
            Format::detect(b"2026-12-02 05:55:27.502 UTC [28088] ERROR:  x"),
            Format::Stderr
        );
        assert_eq!(Format::detect(b"\x00\xff garbage"), Format::Stderr);
    }

    #[test]
    fn prefixes_are_read_without_being_told() {
        let e = parse_stderr_line(
            "2026-12-02 05:55:27.502 UTC [28086] postgres@postgres ERROR:  could not resize x",
            None,
        )
        .unwrap_or_else(|| panic!("no entry"));
        assert_eq!(e.pid, Some(28086));
        assert_eq!(e.severity, "ERROR");
        assert_eq!(e.message, "could not resize x");
        assert_eq!(e.time.as_deref(), Some("2026-12-02 05:55:27.502 UTC"));
        assert!((e.epoch.unwrap_or(0.0) - 1_796_190_927.502).abs() < 1e-3);

        let e = parse_stderr_line(
            "2026-12-02 05:56:56 UTC [28674]: [1-1] user=postgres,db=postgres,app=psql,client=[local],e=53100 ERROR:  could not",
            None,
        )
        .unwrap_or_else(|| panic!("no entry"));
        assert_eq!((e.pid, e.sqlstate.as_deref()), (Some(28674), Some("53100")));
        // syslog
        let e = parse_stderr_line(
            "Dec  2 05:55:27 db1 postgres[4373]: [5-1] ERROR:  could not resize",
            None,
        )
        .unwrap_or_else(|| panic!("no entry"));
        assert_eq!((e.pid, e.severity.as_str()), (Some(4373), "ERROR"));
        // %n [%p], and a translated severity.
        let e = parse_stderr_line("1796190927.502 [77] FEHLER:  konnte nicht", None)
            .unwrap_or_else(|| panic!("no entry"));
        assert_eq!((e.pid, e.severity.as_str()), (Some(77), "FEHLER"));
        assert_eq!(e.epoch, Some(1_796_190_927.502));
        // `%m %p ` with a bare pid.
        let e = parse_stderr_line("2026-12-02 05:55:27 UTC 4242 LOG:  hello", None)
            .unwrap_or_else(|| panic!("no entry"));
        assert_eq!(e.pid, Some(4242));
        // Continuation lines and garbage have no severity.
        assert!(parse_stderr_line("\tSELECT 1", None).is_none());
        assert!(parse_stderr_line("\u{fffd}\u{0} random: text", None).is_none());
    }

    #[test]
    fn given_prefixes_match_exactly() {
        let p = Prefix::compile("%m [%p] %q%u@%d ").unwrap_or_else(|e| panic!("{e}"));
        let e = parse_stderr_line(
            "2026-12-02 05:55:27.502 UTC [28086] postgres@postgres ERROR:  boom",
            Some(&p),
        )
        .unwrap_or_else(|| panic!("no entry"));
        assert_eq!(
            (e.pid, e.user.as_deref(), e.database.as_deref()),
            (Some(28086), Some("postgres"), Some("postgres"))
        );
        // A background process: nothing after %q.
        let e = parse_stderr_line("2026-12-02 05:55:27.502 UTC [28088] ERROR:  boom", Some(&p))
            .unwrap_or_else(|| panic!("no entry"));
        assert_eq!((e.pid, e.user), (Some(28088), None));
        let p = Prefix::compile("%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h,e=%e ")
            .unwrap_or_else(|e| panic!("{e}"));
        let e = parse_stderr_line(
            "2026-12-02 05:56:56 UTC [28674]: [1-1] user=postgres,db=postgres,app=psql,client=[local],e=53100 ERROR:  x",
            Some(&p),
        )
        .unwrap_or_else(|| panic!("no entry"));
        assert_eq!((e.pid, e.sqlstate.as_deref()), (Some(28674), Some("53100")));
        assert!(Prefix::compile("%Z").is_err());
        assert!(Prefix::compile("50%").is_err());
        // A line the prefix does not fit.
        assert!(parse_stderr_line("something else ERROR:  x", Some(&p)).is_none());
    }

    #[test]
    fn csv_records_span_lines_and_quote() {
        let text = "2026-12-02 05:56:53.159 UTC,\"postgres\",\"postgres\",28615,\"[local]\",6b0f.6fc7,1,\"SELECT\",2026-12-02 05:56:53 UTC,3/20,0,ERROR,53100,\"could not resize shared memory segment \"\"/PostgreSQL.34\"\" to 33624064 bytes: No space left on device\",,,,,,\"SET work_mem = '512MB';\n         SELECT 1;\",,,\"psql\",\"client backend\",,0\nnext";
        let (f, used) = split_csv_record(text).unwrap_or_else(|| panic!("no record"));
        assert_eq!(&text[used..], "next");
        let e = csv_entry(&f).unwrap_or_else(|| panic!("no entry"));
        assert_eq!(e.pid, Some(28615));
        assert_eq!(e.sqlstate.as_deref(), Some("53100"));
        assert!(
            e.message.contains("\"/PostgreSQL.34\" to 33624064"),
            "{}",
            e.message
        );
        assert_eq!(
            e.statement.as_deref(),
            Some("SET work_mem = '512MB';\n         SELECT 1;")
        );
        assert_eq!(e.backend_type.as_deref(), Some("client backend"));
        assert!(split_csv_record("2026-12-02,\"unterminated").is_none());
        assert!(csv_entry(&["a".to_string(), "b".to_string()]).is_none());
    }

    #[test]
    fn json_lines() {
        let e = json_entry(r#"{"timestamp":"2026-12-02 05:56:55.543 UTC","pid":28657,"error_severity":"ERROR","state_code":"53100","message":"m","statement":"S","backend_type":"parallel worker","leader_pid":28656}"#)
            .unwrap_or_else(|| panic!("no entry"));
        assert_eq!((e.pid, e.leader_pid), (Some(28657), Some(28656)));
        assert_eq!(e.backend_type.as_deref(), Some("parallel worker"));
        assert!(json_entry("{not json").is_none());
        assert!(json_entry("{}").is_none());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01 00:00:00 UTC"), Some(0.0));
        assert_eq!(parse_time("2000-03-01 00:00:01"), Some(951_868_801.0));
        assert_eq!(parse_time("nonsense"), None);
        assert_eq!(parse_time("2026-12-02"), Some(1_796_169_600.0));
    }
}
