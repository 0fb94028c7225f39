//! Finding the log entries a postmortem needs in gigabytes of logs, in constant memory.
//!
//! Bytes are pushed in ([`Scanner::feed`], then [`Scanner::finish`]), from any reader or
//! decompressor. Only lines that hold one of a few needles (`shared memory segment`,
//! `53100`, `signal 7`, `"parallel worker"`, `reinitializing`), found in one pass with
//! aho-corasick's SIMD searcher, are parsed: a stderr line with the lines of the same pid that follow it
//! (STATEMENT, CONTEXT, DETAIL, continuation lines), a csvlog record (backtracking to its
//! first line: records span lines), or a jsonlog line. Everything else is skipped unread.

use crate::postgres::log::{self, Entry, Format, Prefix};
use aho_corasick::AhoCorasick;

/// Needles: a line without any of them is never parsed.
const NEEDLES: [&str; 5] = [
    "shared memory segment",
    "53100",
    "signal 7",
    "\"parallel worker\"",
    "reinitializing",
];
/// What a stderr entry's STATEMENT/CONTEXT lines may be looked for in, after it.
const LOOKAHEAD: usize = 64 * 1024;
/// How far back a csv record's start is looked for.
const LOOKBACK: usize = 256 * 1024;
/// Lines after a stderr entry searched for its STATEMENT/CONTEXT.
const FOLLOW_LINES: usize = 200;
/// How much is read before the buffer is searched.
const CHUNK: usize = 8 << 20;

/// What could not be used, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Candidate lines that were not log entries (garbage, truncated, other programs).
    pub unparsed: u64,
    /// Candidate lines that were not UTF-8 (read with replacement characters).
    pub not_utf8: u64,
}

/// Pushes bytes in, entries out.
pub struct Scanner<'a> {
    format: Option<Format>,
    prefix: Option<&'a Prefix>,
    /// `None` only if the searcher could not be built (it always can for these needles).
    needles: Option<AhoCorasick>,
    buf: Vec<u8>,
    /// Bytes of `buf` before this were searched already.
    searched: usize,
    /// Lines starting before this were handled (as a candidate or as part of one).
    handled: usize,
    pub bytes: u64,
    pub skipped: Skipped,
    out: Vec<Entry>,
}

impl<'a> Scanner<'a> {
    /// `format`: `None` to tell it from the first line.
    pub fn new(format: Option<Format>, prefix: Option<&'a Prefix>) -> Scanner<'a> {
        Scanner {
            format,
            prefix,
            // Leftmost-first: the semantics whose SIMD (Teddy) searcher aho-corasick uses.
            needles: AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(NEEDLES)
                .ok(),
            buf: Vec::with_capacity(CHUNK + LOOKBACK),
            searched: 0,
            handled: 0,
            bytes: 0,
            skipped: Skipped::default(),
            out: Vec::new(),
        }
    }

    /// The format, once known.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// Entries found so far (taken).
    pub fn take(&mut self) -> Vec<Entry> {
        std::mem::take(&mut self.out)
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK + LOOKAHEAD {
            self.process(false);
        }
    }

    pub fn finish(&mut self) {
        self.process(true);
        self.buf.clear();
        self.searched = 0;
        self.handled = 0;
    }

    /// Scans a whole file in place (a read-only mapping): no copy.
    pub fn scan_all(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        if self.detect(data, true) {
            self.process_slice(data, true);
        }
        self.searched = 0;
        self.handled = 0;
    }

    /// Tells the format from the first line; `false` while it is not complete yet.
    fn detect(&mut self, data: &[u8], eof: bool) -> bool {
        if self.format.is_some() {
            return true;
        }
        let first = data
            .split(|&b| b == b'\n')
            .find(|l| !l.iter().all(u8::is_ascii_whitespace));
        match first {
            Some(l) if eof || data.contains(&b'\n') => {
                self.format = Some(Format::detect(l));
                true
            }
            None if eof => {
                self.format = Some(Format::Stderr);
                true
            }
            _ => false,
        }
    }

    fn process(&mut self, eof: bool) {
        let data = std::mem::take(&mut self.buf);
        if !self.detect(&data, eof) {
            self.buf = data;
            return;
        }
        let keep_from = self.process_slice(&data, eof);
        let mut data = data;
        data.drain(..keep_from);
        self.buf = data;
    }

    /// Searches `data` (from `searched`) and handles its candidates; returns how much of its
    /// start is no longer needed.
    fn process_slice(&mut self, data: &[u8], eof: bool) -> usize {
        // Complete lines only, and (before EOF) room after each candidate for what follows.
        let complete = if eof {
            data.len()
        } else {
            memchr::memrchr(b'\n', data).map_or(0, |i| i + 1)
        };
        let limit = if eof {
            complete
        } else {
            complete.saturating_sub(LOOKAHEAD)
        };
        let from = self.searched.min(limit);
        let mut last_start = usize::MAX;
        let Some(needles) = self.needles.clone() else {
            return limit.saturating_sub(LOOKBACK);
        };
        for m in needles.find_iter(&data[from..limit]) {
            let p = from + m.start();
            if last_start != usize::MAX && p < self.handled.max(last_start) {
                continue;
            }
            let s = memchr::memrchr(b'\n', &data[..p]).map_or(0, |i| i + 1);
            if s == last_start || s < self.handled {
                continue;
            }
            last_start = s;
            self.candidate(data, s, complete);
        }
        // Keep what a later record may need to look back at, and what is not searched yet.
        let keep_from = limit.saturating_sub(LOOKBACK);
        self.searched = limit - keep_from;
        self.handled = self.handled.saturating_sub(keep_from);
        keep_from
    }

    fn text<'b>(&mut self, bytes: &'b [u8]) -> std::borrow::Cow<'b, str> {
        match std::str::from_utf8(bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => {
                self.skipped.not_utf8 += 1;
                String::from_utf8_lossy(bytes)
            }
        }
    }

    fn line_end(data: &[u8], s: usize, limit: usize) -> usize {
        memchr::memchr(b'\n', &data[s..limit]).map_or(limit, |i| s + i)
    }

    fn candidate(&mut self, data: &[u8], s: usize, complete: usize) {
        match self.format.unwrap_or(Format::Stderr) {
            Format::Json => {
                let e = Self::line_end(data, s, complete);
                self.handled = e + 1;
                let line = self.text(&data[s..e]).into_owned();
                match log::json_entry(&line) {
                    Some(entry) => self.out.push(entry),
                    None => self.skipped.unparsed += 1,
                }
            }
            Format::Csv => self.csv_candidate(data, s, complete),
            Format::Stderr => self.stderr_candidate(data, s, complete),
        }
    }

    fn csv_candidate(&mut self, data: &[u8], s: usize, complete: usize) {
        // The record holding line `s` starts at a line that begins with a date; try the
        // nearest such line at or before `s`, then earlier ones.
        let mut at = s;
        let floor = s.saturating_sub(LOOKBACK);
        loop {
            if data[at..].starts_with(b"20") || data[at..].starts_with(b"19") {
                let end = complete.min(at + LOOKBACK);
                let text = self.text(&data[at..end]).into_owned();
                if let Some((fields, used)) = log::split_csv_record(&format!("{text}\n"))
                    && at + used > s
                    && let Some(e) = log::csv_entry(&fields)
                {
                    self.handled = (at + used).min(complete);
                    self.out.push(e);
                    return;
                }
            }
            if at <= floor || at == 0 {
                break;
            }
            at = memchr::memrchr(b'\n', &data[..at - 1]).map_or(0, |i| i + 1);
        }
        self.skipped.unparsed += 1;
        self.handled = Self::line_end(data, s, complete) + 1;
    }

    fn stderr_candidate(&mut self, data: &[u8], s: usize, complete: usize) {
        let e = Self::line_end(data, s, complete);
        let line = self.text(&data[s..e]).into_owned();
        let Some(mut entry) = log::parse_stderr_line(&line, self.prefix) else {
            self.skipped.unparsed += 1;
            self.handled = e + 1;
            return;
        };
        if is_secondary(&entry.severity, &entry.message) {
            // A STATEMENT or CONTEXT line that happens to hold a needle: its own entry is
            // found with the line it belongs to.
            self.handled = e + 1;
            return;
        }
        // Continuation lines (tab) and the same pid's secondary lines that follow.
        let mut at = e + 1;
        let mut last: Option<&'static str> = Some("message");
        let mut lines = 0;
        let end = complete.min(e + 1 + LOOKAHEAD);
        let mut handled = e + 1;
        while at < end && lines < FOLLOW_LINES {
            let le = Self::line_end(data, at, end);
            let raw = &data[at..le];
            lines += 1;
            if raw.first() == Some(&b'\t') {
                let cont = self.text(&raw[1..]).into_owned();
                if let Some(field) = last {
                    let f = match field {
                        "message" => &mut entry.message,
                        "statement" => entry.statement.get_or_insert_with(String::new),
                        "context" => entry.context.get_or_insert_with(String::new),
                        _ => entry.detail.get_or_insert_with(String::new),
                    };
                    f.push('\n');
                    f.push_str(&cont);
                    if handled == at {
                        handled = le + 1;
                    }
                }
                at = le + 1;
                continue;
            }
            let text = self.text(raw).into_owned();
            last = None;
            if let Some(next) = log::parse_stderr_line(&text, self.prefix)
                && next.pid == entry.pid
            {
                if !is_secondary(&next.severity, &next.message) {
                    break;
                }
                let field = secondary_field(&next.severity, &next.message);
                match field {
                    "statement" => entry.statement = Some(next.message),
                    "context" => entry.context = Some(next.message),
                    "detail" => entry.detail = Some(next.message),
                    _ => {}
                }
                last = Some(field);
                if handled == at {
                    handled = le + 1;
                }
            }
            at = le + 1;
        }
        self.handled = handled;
        self.out.push(entry);
    }
}

/// Whether a line belongs to the message before it (STATEMENT, CONTEXT, ...). A word this
/// does not know (a translated server's) belongs when its text is a statement or the
/// `parallel worker` context.
fn is_secondary(sev: &str, text: &str) -> bool {
    match sev {
        "ERROR" | "LOG" | "FATAL" | "PANIC" | "WARNING" | "NOTICE" | "INFO" | "DEBUG1"
        | "DEBUG2" | "DEBUG3" | "DEBUG4" | "DEBUG5" => false,
        "STATEMENT" | "CONTEXT" | "DETAIL" | "HINT" | "QUERY" | "LOCATION" => true,
        _ => matches!(secondary_field(sev, text), "statement" | "context"),
    }
}

/// Which field a secondary line fills (translated words are told by their text).
fn secondary_field(sev: &str, text: &str) -> &'static str {
    match sev {
        "STATEMENT" => "statement",
        "CONTEXT" => "context",
        "DETAIL" => "detail",
        "HINT" | "QUERY" | "LOCATION" => "other",
        _ if text.contains("parallel worker") => "context",
        _ => {
            let first = text
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            if [
                "SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "VACUUM", "SET", "CREATE",
                "EXPLAIN", "ANALYZE", "COPY", "REFRESH", "CALL", "EXECUTE", "MERGE", "REINDEX",
            ]
            .contains(&first.trim_end_matches(';'))
            {
                "statement"
            } else {
                "detail"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &[u8], chunk: usize) -> (Vec<Entry>, Skipped) {
        let mut s = Scanner::new(None, None);
        for c in text.chunks(chunk.max(1)) {
            s.feed(c);
        }
        s.finish();
        (s.take(), s.skipped)
    }

    const STDERR: &str = "2026-12-02 05:55:27.500 UTC [28086] postgres@postgres LOG:  statement: nothing here\n\
2026-12-02 05:55:27.502 UTC [28088] ERROR:  could not resize shared memory segment \"/PostgreSQL.1431106978\" to 8388608 bytes: No space left on device\n\
2026-12-02 05:55:27.502 UTC [28088] STATEMENT:  SET parallel_leader_participation = off;\n\
\t SELECT count(*) FROM a JOIN b USING (id);\n\
2026-12-02 05:55:27.502 UTC [28086] postgres@postgres ERROR:  could not resize shared memory segment \"/PostgreSQL.1431106978\" to 8388608 bytes: No space left on device\n\
2026-12-02 05:55:27.502 UTC [28086] postgres@postgres CONTEXT:  parallel worker\n\
2026-12-02 05:55:27.502 UTC [28086] postgres@postgres STATEMENT:  SELECT count(*) FROM a JOIN b USING (id);\n\
2026-12-02 05:55:27.508 UTC [28075] LOG:  background worker \"parallel worker\" (PID 28088) exited with exit code 1\n";

    #[test]
    fn stderr_entries_carry_their_statement_and_context() {
        let (e, skipped) = scan(STDERR.as_bytes(), 1 << 20);
        assert_eq!(skipped, Skipped::default());
        assert_eq!(e.len(), 3, "{e:#?}");
        assert_eq!(e[0].pid, Some(28088));
        assert_eq!(
            e[0].statement.as_deref(),
            Some(
                "SET parallel_leader_participation = off;\n SELECT count(*) FROM a JOIN b USING (id);"
            )
        );
        assert_eq!(e[1].pid, Some(28086));
        assert_eq!(e[1].context.as_deref(), Some("parallel worker"));
        assert!(e[2].message.starts_with("background worker"));
    }

    #[test]
    fn the_same_entries_whatever_the_chunks() {
        let (whole, _) = scan(STDERR.as_bytes(), 1 << 20);
        for chunk in [1, 7, 100] {
            let (e, _) = scan(STDERR.as_bytes(), chunk);
            assert_eq!(e, whole, "chunk {chunk}");
        }
    }

    #[test]
    fn garbage_is_counted_never_a_panic() {
        let mut junk: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        junk.extend_from_slice(
            b"\nshared memory segment 53100 \xff\xfe\n\"parallel worker\" signal 7\n",
        );
        let (e, skipped) = scan(&junk, 333);
        assert!(e.is_empty(), "{e:?}");
        assert!(skipped.unparsed >= 2, "{skipped:?}");
        let (e, _) = scan(b"", 10);
        assert!(e.is_empty());
        // Truncated csv: a record without its end.
        let (e, s) = scan(
            b"2026-12-02 05:56:53.159 UTC,\"postgres\",\"postgres\",1,\"shared memory segment",
            5,
        );
        assert!(e.is_empty());
        assert_eq!(s.unparsed, 1);
    }
}
