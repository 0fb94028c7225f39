//! Armed breakpoints recorded on disk before the first byte is written, so that a pgstrace
//! killed with SIGKILL can be cleaned up after: `pgstrace probe --cleanup -p PID` puts the
//! original bytes back. A record names the process by pid and start time (field 22 of
//! /proc/PID/stat), so a record of a process that has gone is never applied to a new process
//! that reuses its pid.
//!
//! One file per process, `DIR/probe-PID.rec` (`DIR` is `$PGSTRACE_STATE_DIR`, else
//! `/run/pgstrace`): a line `pid PID start START`, then one `ADDR ORIG` line (hex) per byte.

use anyhow::{Context, Result, anyhow, bail};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

fn dir() -> PathBuf {
    std::env::var_os("PGSTRACE_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/pgstrace"))
}

fn path(pid: i32) -> PathBuf {
    dir().join(format!("probe-{pid}.rec"))
}

/// The start time of `pid` (clock ticks after boot), which tells a process from a later
/// one with the same pid.
pub fn start_time(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    // After ")": state is field 3, starttime field 22.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The text of a record.
pub fn render(pid: i32, start: u64, bytes: &HashMap<u64, u8>) -> String {
    let mut s = format!("pid {pid} start {start}\n");
    let mut sorted: Vec<_> = bytes.iter().collect();
    sorted.sort();
    for (addr, orig) in sorted {
        s.push_str(&format!("{addr:x} {orig:02x}\n"));
    }
    s
}

/// Parses a record: `(pid, start, bytes)`.
pub fn parse(text: &str) -> Result<(i32, u64, HashMap<u64, u8>)> {
    let mut lines = text.lines();
    let head: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let (pid, start) = match head.as_slice() {
        ["pid", p, "start", s] => (
            p.parse().map_err(|_| anyhow!("bad pid {p:?}"))?,
            s.parse().map_err(|_| anyhow!("bad start time {s:?}"))?,
        ),
        _ => bail!("not a pgstrace probe record"),
    };
    let mut bytes = HashMap::new();
    for l in lines {
        let (a, b) = l.split_once(' ').ok_or_else(|| anyhow!("bad line {l:?}"))?;
        let a = u64::from_str_radix(a, 16).map_err(|_| anyhow!("bad address {a:?}"))?;
        let b = u8::from_str_radix(b, 16).map_err(|_| anyhow!("bad byte {b:?}"))?;
        bytes.insert(a, b);
    }
    Ok((pid, start, bytes))
}

/// Writes the record of `pid`'s armed bytes.
pub fn save(pid: i32, bytes: &HashMap<u64, u8>) -> Result<()> {
    let start = start_time(pid).ok_or_else(|| anyhow!("pid {pid}: no start time"))?;
    let d = dir();
    std::fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    let tmp = d.join(format!(".probe-{pid}.rec.tmp"));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    // Not synced: the record must outlive a SIGKILL of pgstrace, which the page cache
    // survives; a crash of the machine takes the tracee with it.
    f.write_all(render(pid, start, bytes).as_bytes())?;
    std::fs::rename(&tmp, path(pid)).with_context(|| format!("writing {}", path(pid).display()))
}

/// Removes `pid`'s record (its bytes are back).
pub fn remove(pid: i32) {
    let _ = std::fs::remove_file(path(pid));
}

/// The bytes a killed pgstrace left armed in `pid`, if its record is of this very process.
/// A record of an earlier process with the same pid is removed.
pub fn left_behind(pid: i32) -> Result<Option<HashMap<u64, u8>>> {
    let text = match std::fs::read_to_string(path(pid)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path(pid).display())),
    };
    let (rpid, start, bytes) = parse(&text).with_context(|| path(pid).display().to_string())?;
    if rpid != pid || start_time(pid) != Some(start) {
        remove(pid);
        return Ok(None);
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let bytes: HashMap<u64, u8> = [(0x55d0_1234, 0xf3), (0x55d0_0010, 0x55)].into();
        let text = render(42, 123456, &bytes);
        assert_eq!(text, "pid 42 start 123456\n55d00010 55\n55d01234 f3\n");
        assert_eq!(parse(&text).ok(), Some((42, 123456, bytes)));
        assert!(parse("garbage").is_err());
        assert!(parse("pid 1 start 2\nzz 1\n").is_err());
    }

    #[test]
    fn start_time_of_ourselves() {
        assert!(start_time(std::process::id() as i32).is_some());
        assert_eq!(start_time(i32::MAX), None);
    }
}
