//! `pgstrace postmortem LOG...`: the explanation of past `could not resize shared memory
//! segment` errors from server logs. Reading ([`scan`]: files, directories, stdin, gzip,
//! zstd and xz, in time order, constant memory), analysis ([`analyze`]: failures, kinds,
//! statements), and the verdict and remedies of `explain-shm`, from its own code
//! (`report::shm::model::verdict`, `report::shm::remedies`), with the logs' evidence added
//! as findings.

pub mod analyze;
mod render;
pub mod scan;

use crate::postgres::log::{Entry, Format, Prefix};
use anyhow::{Context, Result, anyhow, bail};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What `postmortem` was asked.
#[derive(Clone, Debug, Default)]
pub struct PostmortemConfig {
    pub logs: Vec<PathBuf>,
    /// `--shm-size`: the /dev/shm to compare with (else the cluster's, when on the server).
    pub shm_size: Option<u64>,
    pub since: Option<f64>,
    pub until: Option<f64>,
    /// `--prefix`: the server's `log_line_prefix`.
    pub prefix: Option<String>,
    pub json: bool,
    /// `--set NAME=VALUE`: the server's settings, where it does not run here.
    pub settings: Vec<(String, String)>,
    /// `-p PID`: the running cluster of PID is the logs' (its /dev/shm and settings).
    pub pid: Option<i32>,
}

/// `64m`, `64MB`, `1g`, `1GiB`, `67108864`.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return None,
    };
    (n >= 0.0).then_some((n * mult as f64) as u64)
}

/// `2026-01-01`, `2026-01-01 10:00`, `2026-01-01T10:00:00`: seconds since the epoch.
pub fn parse_when(s: &str) -> Option<f64> {
    let t = s.trim().replacen('T', " ", 1);
    let full = match t.len() {
        10 => format!("{t} 00:00:00"),
        16 => format!("{t}:00"),
        _ => t,
    };
    crate::postgres::log::parse_time(&full)
}

/// One input: a path, or `-` for stdin.
enum Source {
    Stdin,
    File(PathBuf),
}

/// The log files of a path: a file, a data directory (its `log/`, else `pg_log/`), or a
/// folder of log files (not its hidden ones).
fn expand(path: &Path) -> Result<Vec<PathBuf>> {
    if path == Path::new("-") {
        return Ok(vec![path.to_path_buf()]);
    }
    let meta = std::fs::metadata(path).with_context(|| path.display().to_string())?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let dir = if path.join("PG_VERSION").exists() {
        ["log", "pg_log"]
            .iter()
            .map(|d| path.join(d))
            .find(|d| d.is_dir())
            .ok_or_else(|| anyhow!("{}: a data directory without log/", path.display()))?
    } else {
        path.to_path_buf()
    };
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    out.sort();
    if out.is_empty() {
        bail!("{}: no log files in it", dir.display());
    }
    Ok(out)
}

/// Opens a source, decompressing by its magic bytes.
fn open(src: &Source) -> Result<(Box<dyn Read>, &'static str)> {
    let raw: Box<dyn Read + Send> = match src {
        Source::Stdin => Box::new(std::io::stdin()),
        Source::File(p) => {
            Box::new(std::fs::File::open(p).with_context(|| p.display().to_string())?)
        }
    };
    let mut r = std::io::BufReader::with_capacity(1 << 20, raw);
    let head = std::io::BufRead::fill_buf(&mut r)?.to_vec();
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        (Box::new(flate2::read::MultiGzDecoder::new(r)), "gzip")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let d = ruzstd::decoding::StreamingDecoder::new(r).map_err(|e| anyhow!("zstd: {e}"))?;
        (Box::new(d), "zstd")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        (Box::new(XzReader::new(r)), "xz")
    } else {
        (Box::new(r), "")
    })
}

/// xz through lzma-rs, which writes its output: decoded on a thread into a pipe of chunks.
struct XzReader {
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    cur: Vec<u8>,
    at: usize,
}

impl XzReader {
    fn new<R: std::io::BufRead + Send + 'static>(mut r: R) -> XzReader {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        std::thread::spawn(move || {
            struct Chunks(std::sync::mpsc::SyncSender<std::io::Result<Vec<u8>>>);
            impl std::io::Write for Chunks {
                fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                    self.0
                        .send(Ok(b.to_vec()))
                        .map_err(|_| std::io::Error::other("reader gone"))?;
                    Ok(b.len())
                }
                fn flush(&mut self) -> std::io::Result<()> {
                    Ok(())
                }
            }
            let mut w = std::io::BufWriter::with_capacity(1 << 20, Chunks(tx.clone()));
            let res = lzma_rs::xz_decompress(&mut r, &mut w);
            let flushed = std::io::Write::flush(&mut w);
            if let Err(e) = res {
                let _ = tx.send(Err(std::io::Error::other(format!("xz: {e}"))));
            } else if let Err(e) = flushed {
                let _ = tx.send(Err(e));
            }
        });
        XzReader {
            rx,
            cur: Vec::new(),
            at: 0,
        }
    }
}

impl Read for XzReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(c)) => {
                    self.cur = c;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.at);
        buf[..n].copy_from_slice(&self.cur[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The time of a file's first entry, for ordering rotated files.
fn first_time(src: &Source, prefix: Option<&Prefix>) -> Option<f64> {
    let (mut r, _) = open(src).ok()?;
    let mut head = vec![0u8; 64 * 1024];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let head = String::from_utf8_lossy(&head[..n]);
    let first = head.lines().find(|l| !l.trim().is_empty())?;
    match Format::detect(first.as_bytes()) {
        Format::Json => crate::postgres::log::json_entry(first)?.epoch,
        Format::Csv => crate::postgres::log::parse_time(first),
        Format::Stderr => head
            .lines()
            .take(50)
            .find_map(|l| crate::postgres::log::parse_stderr_line(l, prefix)?.epoch),
    }
}

/// What was read.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub files: Vec<(String, &'static str, &'static str)>,
    pub bytes: u64,
    pub skipped: scan::Skipped,
    pub unreadable: Vec<String>,
}

/// Reads every source in time order; the entries found, in order.
fn read_all(c: &PostmortemConfig, prefix: Option<&Prefix>) -> Result<(Vec<Entry>, Inputs)> {
    let mut sources = Vec::new();
    let mut inputs = Inputs::default();
    for p in &c.logs {
        match expand(p) {
            Ok(files) => sources.extend(files.into_iter().map(|f| {
                if f == Path::new("-") {
                    Source::Stdin
                } else {
                    Source::File(f)
                }
            })),
            Err(e) => inputs.unreadable.push(format!("{e:#}")),
        }
    }
    // Rotated files in any order: sorted by their first entry's time (stdin stays first).
    let mut keyed: Vec<(f64, Source)> = sources
        .into_iter()
        .map(|s| {
            let t = match &s {
                Source::Stdin => f64::MIN,
                Source::File(_) => first_time(&s, prefix).unwrap_or(f64::MAX),
            };
            (t, s)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let progress = crate::util::stderr_is_tty();
    let total: u64 = keyed
        .iter()
        .filter_map(|(_, s)| match s {
            Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Source::Stdin => None,
        })
        .sum();
    let mut entries = Vec::new();
    let mut done = 0u64;
    for (_, src) in &keyed {
        let name = match src {
            Source::Stdin => "-".to_string(),
            Source::File(p) => p.display().to_string(),
        };
        let (mut r, codec) = match open(src) {
            Ok(x) => x,
            Err(e) => {
                inputs.unreadable.push(format!("{e:#}"));
                continue;
            }
        };
        let mut s = scan::Scanner::new(None, prefix);
        let mut buf = vec![0u8; 1 << 20];
        let mut failed = None;
        let mut last_shown = 0u64;
        // A plain file is scanned in place (mapped, never copied): the fast path.
        let mapped = match (src, codec) {
            (Source::File(p), "") => std::fs::File::open(p)
                .and_then(|f| crate::symbols::backing::Backing::map(&f))
                .ok(),
            _ => None,
        };
        if let Some(m) = &mapped {
            s.scan_all(m.bytes());
            entries.extend(s.take());
        }
        while mapped.is_none() {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    s.feed(&buf[..n]);
                    entries.extend(s.take());
                    if progress && total > 64 << 20 && s.bytes - last_shown > 32 << 20 {
                        last_shown = s.bytes;
                        let pct = ((done + s.bytes) * 100 / total.max(1)).min(100);
                        eprint!("\rpgstrace postmortem: reading {pct:3}%");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if mapped.is_none() {
            s.finish();
            entries.extend(s.take());
        }
        done += s.bytes;
        inputs.bytes += s.bytes;
        inputs.skipped.unparsed += s.skipped.unparsed;
        inputs.skipped.not_utf8 += s.skipped.not_utf8;
        if let Some(e) = failed {
            // What was read still counts; the rest of this file is lost and said so.
            inputs
                .unreadable
                .push(format!("{name}: {e} (read {} bytes)", s.bytes));
        }
        inputs
            .files
            .push((name, s.format().unwrap_or(Format::Stderr).as_str(), codec));
    }
    if progress && total > 64 << 20 {
        eprintln!("\rpgstrace postmortem: reading 100%");
    }
    // Within a file entries are in order; across files sorted by time, stably.
    entries.sort_by(|a, b| match (a.epoch, b.epoch) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => std::cmp::Ordering::Equal,
    });
    entries.retain(|e| {
        let t = e.epoch;
        c.since.is_none_or(|s| t.is_none_or(|t| t >= s))
            && c.until.is_none_or(|u| t.is_none_or(|t| t <= u))
    });
    Ok((entries, inputs))
}

/// The cluster running here whose logs these are (by data directory), or the only one.
fn local_cluster(logs: &[PathBuf]) -> Option<crate::postgres::Cluster> {
    let (clusters, _) = crate::postgres::cluster::scan();
    let canon: Vec<PathBuf> = logs.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let by_dir = clusters
        .iter()
        .position(|c| canon.iter().any(|p| p.starts_with(&c.data_dir)));
    match (by_dir, clusters.len()) {
        (Some(i), _) => clusters.into_iter().nth(i),
        (None, 1) => clusters.into_iter().next(),
        _ => None,
    }
}

/// Runs `pgstrace postmortem`.
pub fn run(c: PostmortemConfig) -> Result<i32> {
    if c.logs.is_empty() {
        bail!("give the server log(s) to read: pgstrace postmortem LOG... ('-' for stdin)");
    }
    let prefix = match &c.prefix {
        Some(p) => Some(Prefix::compile(p).map_err(|e| anyhow!("--prefix: {e}"))?),
        None => None,
    };
    let (entries, inputs) = read_all(&c, prefix.as_ref())?;
    if inputs.bytes == 0 && !inputs.unreadable.is_empty() {
        bail!("nothing could be read: {}", inputs.unreadable.join("; "));
    }
    let report = analyze::analyze(&entries);
    let cluster = match c.pid {
        Some(pid) => Some(crate::postgres::cluster_of(pid)?),
        None if c.shm_size.is_none() => local_cluster(&c.logs),
        None => None,
    };
    let facts = render::facts(&report, c.shm_size, cluster.as_ref(), &c.settings);
    let text = if c.json {
        format!("{}\n", render::json(&report, &facts, &inputs))
    } else {
        render::text(&report, &facts, &inputs)
    };
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times() {
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("64MB"), Some(64 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("12q"), None);
        assert_eq!(parse_when("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_when("1970-01-01T00:01"), Some(60.0));
        assert_eq!(parse_when("yesterday"), None);
    }
}
