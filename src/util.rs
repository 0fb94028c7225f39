//! Small helpers every layer uses, each in one place: the wall clock, terminal escaping of
//! foreign text (two styles: `escape` keeps Unicode, `escape_strace` is strace's octal),
//! sizes for humans (at a glance, or exact where a log is compared).

use std::fmt::Write as _;
use std::time::Duration;

/// Wall-clock time since the Unix epoch (CLOCK_REALTIME).
pub fn now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// `s` with control characters, DEL and C1 controls escaped (`\n`, `\x1b`), so bytes from
/// a server or a file name cannot drive the terminal; other characters kept (a query in
/// Unicode stays readable).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `s` escaped as strace escapes text: bytes outside printable ASCII as `\ooo` (what
/// explain-shm and `--watch` print, so that names read as in the trace).
pub fn escape_strace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::syscalls::notation::push_escaped_text(&mut out, s);
    out
}

/// A size at a glance: `64.0 MiB`, `1.5 KiB`, `512 B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS.get(u).unwrap_or(&"B"))
    }
}

/// A size to compare with a log: `181,408 bytes` below 1 MiB (exact), `32 MiB` or
/// `32.5 MiB` above (rounded where the size is what matters).
pub fn human_exact(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if bytes < MIB {
        return format!("{} bytes", group(bytes));
    }
    let (unit, div) = if bytes >= GIB {
        ("GiB", GIB)
    } else {
        ("MiB", MIB)
    };
    if bytes.is_multiple_of(div) {
        format!("{} {unit}", bytes / div)
    } else {
        format!("{:.1} {unit}", bytes as f64 / div as f64)
    }
}

/// `181408` → `181,408`.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whether stdout is a terminal (reports colour only there).
pub fn stdout_is_tty() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal()
}

/// Whether stderr is a terminal (progress output goes only there).
pub fn stderr_is_tty() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal()
}

/// `--color=auto|always|never`: auto colours only a terminal, never with `NO_COLOR` set
/// (any value) or `TERM=dumb`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub fn parse(s: &str) -> Option<ColorChoice> {
        match s {
            "auto" => Some(ColorChoice::Auto),
            "always" | "yes" | "force" => Some(ColorChoice::Always),
            "never" | "no" | "none" => Some(ColorChoice::Never),
            _ => None,
        }
    }

    /// Whether to colour an output that is (`tty`) or is not a terminal.
    pub fn enabled(self, tty: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                tty && std::env::var_os("NO_COLOR").is_none()
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape("a\nb\x1b[31m\u{9b}é\\"), "a\\nb\\x1b[31m\\x9bé\\\\");
    }

    #[test]
    fn sizes() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(33554432), "32.0 MiB");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human_exact(181_408), "181,408 bytes");
        assert_eq!(human_exact(102_400), "102,400 bytes");
        assert_eq!(human_exact(32 << 20), "32 MiB");
        assert_eq!(human_exact(33_554_432 + (1 << 19)), "32.5 MiB");
        assert_eq!(human_exact(5 << 30), "5 GiB");
        assert_eq!(group(1_000), "1,000");
        assert_eq!(group(999), "999");
    }
}
