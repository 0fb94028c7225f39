//! Server settings without SQL: postgresql.conf (with include, include_if_exists,
//! include_dir), postgresql.auto.conf, the postmaster's command line, and a backend's live
//! values read from its memory where they differ (a session's `SET work_mem`).
//!
//! The file parser and the unit conversions are pure; [`load`] reads the files through
//! /proc/PM/root and /proc/PM/cwd so a cluster in another mount namespace reads the same.

use super::Cluster;
use super::memory::BackendGlobals;
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One setting: its value as written and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// As written, unquoted: `256MB`, `on`, `posix`.
    pub value: String,
    /// `/etc/postgresql/15/main/postgresql.conf:120`, `postgresql.auto.conf:3`,
    /// `command line`, `default`, `backend 1234 memory`, `in effect (postmaster memory)`.
    pub source: String,
    /// When the server runs with another value than its files say: the files' value, its
    /// source, and what makes it take effect (`3 (postgresql.auto.conf:3), after a reload`).
    pub pending: Option<String>,
}

/// Settings by lower-case name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pub map: BTreeMap<String, Setting>,
}

/// PostgreSQL 15's defaults for the settings that matter to DSM and parallel queries.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("dynamic_shared_memory_type", "posix"),
    ("min_dynamic_shared_memory", "0"),
    ("max_parallel_workers_per_gather", "2"),
    ("max_parallel_workers", "8"),
    ("max_worker_processes", "8"),
    ("max_parallel_maintenance_workers", "2"),
    ("parallel_leader_participation", "on"),
    ("work_mem", "4MB"),
    ("hash_mem_multiplier", "2.0"),
    ("maintenance_work_mem", "64MB"),
    ("enable_parallel_hash", "on"),
    ("shared_buffers", "128MB"),
    ("huge_pages", "try"),
    ("shared_memory_type", "mmap"),
];

/// The unit a bare number means for a memory setting, in bytes.
pub fn base_unit(name: &str) -> Option<u64> {
    Some(match name {
        "work_mem"
        | "maintenance_work_mem"
        | "autovacuum_work_mem"
        | "logical_decoding_work_mem"
        | "max_stack_depth"
        | "huge_page_size"
        | "temp_file_limit" => 1024,
        "shared_buffers"
        | "temp_buffers"
        | "wal_buffers"
        | "effective_cache_size"
        | "backend_flush_after"
        | "bgwriter_flush_after"
        | "checkpoint_flush_after"
        | "wal_writer_flush_after"
        | "min_parallel_table_scan_size"
        | "min_parallel_index_scan_size" => 8192,
        "min_dynamic_shared_memory"
        | "max_wal_size"
        | "min_wal_size"
        | "wal_keep_size"
        | "max_slot_wal_keep_size"
        | "log_rotation_size" => 1024 * 1024,
        _ => return None,
    })
}

impl Settings {
    /// PostgreSQL 15's defaults (source `default`) for the settings in [`DEFAULTS`].
    pub fn defaults() -> Settings {
        let mut s = Settings::default();
        for (name, value) in DEFAULTS {
            s.set(name, value, "default");
        }
        s
    }

    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.map.get(&name.to_ascii_lowercase())
    }

    /// Sets (replaces) a setting; names are case-insensitive.
    pub fn set(&mut self, name: &str, value: &str, source: &str) {
        self.map.insert(
            name.to_ascii_lowercase(),
            Setting {
                value: value.to_string(),
                source: source.to_string(),
                pending: None,
            },
        );
    }

    /// Whether a setting needs a restart to change (postmaster context), else a reload.
    pub fn needs_restart(name: &str) -> bool {
        matches!(
            name,
            "max_worker_processes"
                | "min_dynamic_shared_memory"
                | "dynamic_shared_memory_type"
                | "shared_buffers"
                | "huge_pages"
                | "shared_memory_type"
        )
    }

    /// Overlays the values the server runs with, read from the postmaster's memory: where
    /// they differ from the files (an `ALTER SYSTEM` or an edit not reloaded yet, a
    /// restart-only setting changed), the value in effect wins and the files' value is kept
    /// as `pending`.
    pub fn overlay_postmaster(&mut self, g: &BackendGlobals) {
        let before = self.clone();
        self.overlay_backend_as(g, "in effect (postmaster memory)");
        for (name, now) in self.map.iter_mut() {
            if before.map.get(name) == Some(now) {
                continue;
            }
            let file = before
                .map
                .get(name)
                .map(|s| (s.value.clone(), s.source.clone()))
                .unwrap_or_else(|| {
                    (
                        DEFAULTS
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, v)| v.to_string())
                            .unwrap_or_default(),
                        "default".into(),
                    )
                });
            now.pending = Some(format!(
                "{} ({}), after a {}",
                file.0,
                file.1,
                if Settings::needs_restart(name) {
                    "restart"
                } else {
                    "reload"
                }
            ));
        }
    }

    /// The value as written, or PostgreSQL 15's default.
    pub fn value(&self, name: &str) -> Option<&str> {
        let lower = name.to_ascii_lowercase();
        self.map
            .get(&lower)
            .map(|s| s.value.as_str())
            .or_else(|| DEFAULTS.iter().find(|(n, _)| *n == lower).map(|(_, v)| *v))
    }

    /// A memory or size setting in bytes (`work_mem = 256MB` → 268435456; a bare number in
    /// the setting's own unit: kB for work_mem, maintenance_work_mem; 8kB blocks for
    /// shared_buffers; MB for min_dynamic_shared_memory), falling back to PostgreSQL 15's
    /// default when unset.
    pub fn bytes(&self, name: &str) -> Option<u64> {
        let lower = name.to_ascii_lowercase();
        parse_bytes(self.value(&lower)?, base_unit(&lower))
    }

    /// An integer setting, or PostgreSQL 15's default. A memory setting written with a unit
    /// is given in its base unit (`work_mem = 1MB` → 1024).
    pub fn int(&self, name: &str) -> Option<i64> {
        let lower = name.to_ascii_lowercase();
        let value = self.value(&lower)?;
        if let Some(n) = parse_int(value) {
            return Some(n);
        }
        let base = base_unit(&lower)?;
        i64::try_from(parse_bytes(value, Some(base))? / base).ok()
    }

    /// A floating-point setting (`hash_mem_multiplier`), or PostgreSQL 15's default.
    pub fn float(&self, name: &str) -> Option<f64> {
        let v = self.value(name)?.trim();
        v.parse::<f64>().ok().filter(|f| f.is_finite())
    }

    /// A boolean setting (`on`, `off`, `true`, `yes`, `1`, and unique prefixes), or the
    /// default.
    pub fn bool(&self, name: &str) -> Option<bool> {
        parse_bool(self.value(name)?)
    }

    /// Overlays the live values of a backend, where they differ from what is loaded (a
    /// session's `SET work_mem`), with source `backend PID memory`.
    pub fn overlay_backend(&mut self, pid: i32, g: &BackendGlobals) {
        self.overlay_backend_as(g, &format!("backend {pid} memory"));
    }

    fn overlay_backend_as(&mut self, g: &BackendGlobals, source: &str) {
        let put = |s: &mut Settings, name: &str, value: String, same: bool| {
            if !same {
                s.set(name, &value, source);
            }
        };
        if let Some(kb) = g.work_mem_kb {
            let same = self.bytes("work_mem") == u64::try_from(kb).ok().map(|k| k * 1024);
            put(self, "work_mem", format!("{kb}kB"), same);
        }
        if let Some(kb) = g.maintenance_work_mem_kb {
            let same =
                self.bytes("maintenance_work_mem") == u64::try_from(kb).ok().map(|k| k * 1024);
            put(self, "maintenance_work_mem", format!("{kb}kB"), same);
        }
        if let Some(m) = g.hash_mem_multiplier.filter(|m| m.is_finite()) {
            let same = self.float("hash_mem_multiplier") == Some(m);
            put(self, "hash_mem_multiplier", format!("{m}"), same);
        }
        for (name, v) in [
            (
                "max_parallel_workers_per_gather",
                g.max_parallel_workers_per_gather,
            ),
            ("max_parallel_workers", g.max_parallel_workers),
        ] {
            if let Some(v) = v {
                let same = self.int(name) == Some(i64::from(v));
                put(self, name, v.to_string(), same);
            }
        }
        if let Some(mb) = g.min_dynamic_shared_memory_mb {
            let same = self.int("min_dynamic_shared_memory") == Some(i64::from(mb));
            put(self, "min_dynamic_shared_memory", format!("{mb}MB"), same);
        }
        if let Some(name) = g.dynamic_shared_memory_type.and_then(dsm_type_name) {
            let same = self
                .value("dynamic_shared_memory_type")
                .is_some_and(|v| v.eq_ignore_ascii_case(name));
            put(self, "dynamic_shared_memory_type", name.to_string(), same);
        }
        for (name, v) in [
            (
                "parallel_leader_participation",
                g.parallel_leader_participation,
            ),
            ("enable_parallel_hash", g.enable_parallel_hash),
        ] {
            if let Some(v) = v {
                let same = self.bool(name) == Some(v);
                put(self, name, if v { "on" } else { "off" }.to_string(), same);
            }
        }
    }
}

/// PostgreSQL 15's `DSM_IMPL_*` numbers.
pub fn dsm_type_name(n: i32) -> Option<&'static str> {
    Some(match n {
        1 => "posix",
        2 => "sysv",
        3 => "windows",
        4 => "mmap",
        _ => return None,
    })
}

/// `on`/`off` and the other spellings PostgreSQL accepts.
pub fn parse_bool(v: &str) -> Option<bool> {
    let v = v.trim().to_ascii_lowercase();
    if v.is_empty() {
        return None;
    }
    let prefix_of = |word: &str| word.starts_with(v.as_str());
    match v.as_str() {
        "on" | "1" => Some(true),
        "off" | "of" | "0" => Some(false),
        "o" => None,
        _ if prefix_of("true") || prefix_of("yes") => Some(true),
        _ if prefix_of("false") || prefix_of("no") => Some(false),
        _ => None,
    }
}

/// An integer as PostgreSQL writes them: decimal, `0x` hex, leading sign.
pub fn parse_int(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    v.parse().ok()
}

/// A size with an optional unit (`B`, `kB`, `MB`, `GB`, `TB`, case as PostgreSQL wants it),
/// a bare number meaning `base` bytes. Fractions are allowed (`1.5GB`); negative values
/// (`-1`, "use another setting") give `None`.
pub fn parse_bytes(v: &str, base: Option<u64>) -> Option<u64> {
    let v = v.trim();
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let unit = unit.trim();
    let mult: u64 = match unit {
        "" => base?,
        "B" => 1,
        "kB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return None,
    };
    if let Ok(n) = num.parse::<u64>() {
        return n.checked_mul(mult);
    }
    let f = num
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)?;
    let bytes = f * mult as f64;
    (bytes < u64::MAX as f64).then_some(bytes.round() as u64)
}

/// One `name = value` line of a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfEntry {
    /// 1-based line number.
    pub line: usize,
    /// Lower-case name (`include`, `include_dir`, ... are entries like any other here).
    pub name: String,
    /// The value, unquoted and unescaped.
    pub value: String,
}

/// Parses the text of a postgresql.conf: `name = value` or `name value`, `#` comments,
/// values quoted with `'` (with `''` and backslash escapes) or bare. Malformed lines are
/// reported as `(line, message)` and skipped.
pub fn parse_conf(text: &str) -> (Vec<ConfEntry>, Vec<(usize, String)>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_conf_line(line) {
            Ok(Some((name, value))) => entries.push(ConfEntry {
                line: i + 1,
                name,
                value,
            }),
            Ok(None) => {}
            Err(e) => errors.push((i + 1, e)),
        }
    }
    (entries, errors)
}

fn parse_conf_line(line: &str) -> Result<Option<(String, String)>, String> {
    let s = line.trim_start();
    if s.is_empty() || s.starts_with('#') {
        return Ok(None);
    }
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .unwrap_or(s.len());
    let (name, rest) = s.split_at(name_end);
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err("syntax error: expected a setting name".into());
    }
    let mut rest = rest.trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    let (value, after) = if let Some(q) = rest.strip_prefix('\'') {
        unquote(q)?
    } else {
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '#')
            .unwrap_or(rest.len());
        let (v, a) = rest.split_at(end);
        if v.is_empty() {
            return Err(format!("syntax error: no value for {name}"));
        }
        (v.to_string(), a)
    };
    let after = after.trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return Err(format!("syntax error after the value of {name}"));
    }
    Ok(Some((name.to_ascii_lowercase(), value)))
}

/// The body of a quoted value (after the opening quote): the value and what follows the
/// closing quote.
fn unquote(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => {
                if chars.peek().map(|&(_, c)| c) == Some('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Ok((out, s.get(i + 1..).unwrap_or_default()));
                }
            }
            '\\' => match chars.next().map(|(_, c)| c) {
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(d @ '0'..='7') => {
                    let mut n = d.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match chars.peek().and_then(|&(_, c)| c.to_digit(8)) {
                            Some(v) => {
                                n = n * 8 + v;
                                chars.next();
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                }
                Some(other) => out.push(other),
                None => return Err("unterminated quoted string".into()),
            },
            c => out.push(c),
        }
    }
    Err("unterminated quoted string".into())
}

/// Settings of the postmaster's command line: `-c name=value`, `--name=value`, and the short
/// options that stand for settings. Names in `-c`/`--` have `-` read as `_`.
pub fn parse_command_line(args: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut it = args.iter().skip(1).peekable();
    let short = |flag: char| -> Option<&'static str> {
        Some(match flag {
            'B' => "shared_buffers",
            'd' => "log_min_messages",
            'D' => "data_directory",
            'h' => "listen_addresses",
            'k' => "unix_socket_directories",
            'N' => "max_connections",
            'p' => "port",
            'S' => "work_mem",
            'r' => "log_filename",
            _ => return None,
        })
    };
    let name_value = |s: &str| -> Option<(String, String)> {
        let (n, v) = s.split_once('=')?;
        Some((n.replace('-', "_").to_ascii_lowercase(), v.to_string()))
    };
    while let Some(arg) = it.next() {
        if let Some(long) = arg.strip_prefix("--") {
            if let Some(nv) = name_value(long) {
                out.push(nv);
            }
            continue;
        }
        let Some(opt) = arg.strip_prefix('-') else {
            continue;
        };
        let mut chars = opt.chars();
        let Some(flag) = chars.next() else { continue };
        let attached = chars.as_str();
        // Flags without a value that stand for a setting.
        match flag {
            'F' => out.push(("fsync".into(), "off".into())),
            'i' => out.push(("listen_addresses".into(), "*".into())),
            'l' => out.push(("ssl".into(), "on".into())),
            'O' => out.push(("allow_system_table_mods".into(), "on".into())),
            'P' => out.push(("ignore_system_indexes".into(), "on".into())),
            _ => {}
        }
        let takes_value = matches!(
            flag,
            'B' | 'c' | 'C' | 'd' | 'D' | 'e' | 'f' | 'h' | 'k' | 'N' | 'p' | 'r' | 'S' | 't' | 'W'
        );
        if !takes_value {
            continue;
        }
        let value = if attached.is_empty() {
            match it.next() {
                Some(v) => v.clone(),
                None => break,
            }
        } else {
            attached.to_string()
        };
        if flag == 'c' {
            if let Some(nv) = name_value(&value) {
                out.push(nv);
            }
        } else if let Some(name) = short(flag) {
            out.push((name.to_string(), value));
        }
    }
    out
}

/// Where files of the postmaster's file system are read from: its root, seen from here.
struct Fs {
    root: PathBuf,
}

impl Fs {
    /// `path` (absolute in the postmaster's mount namespace) as a path we can open.
    fn host(&self, path: &Path) -> PathBuf {
        let rel = path.strip_prefix("/").unwrap_or(path);
        self.root.join(rel)
    }
}

/// Reads one configuration file and what it includes into `settings`. `path` is absolute in
/// the postmaster's namespace and is what `source` names. Depth-limited like PostgreSQL (10).
fn read_conf(
    fs: &Fs,
    path: &Path,
    settings: &mut Settings,
    warnings: &mut Vec<String>,
    depth: u32,
) -> std::io::Result<()> {
    if depth > 10 {
        warnings.push(format!("{}: includes nested too deeply", path.display()));
        return Ok(());
    }
    let text = std::fs::read_to_string(fs.host(path))?;
    let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let (entries, errors) = parse_conf(&text);
    for (line, e) in errors {
        warnings.push(format!("{}:{line}: {e}", path.display()));
    }
    for e in entries {
        let target = dir.join(&e.value);
        match e.name.as_str() {
            "include" | "include_if_exists" => {
                if let Err(err) = read_conf(fs, &target, settings, warnings, depth + 1)
                    && (e.name == "include" || err.kind() != std::io::ErrorKind::NotFound)
                {
                    warnings.push(format!(
                        "{}:{}: include {}: {err}",
                        path.display(),
                        e.line,
                        target.display()
                    ));
                }
            }
            "include_dir" => {
                let mut names: Vec<String> = match std::fs::read_dir(fs.host(&target)) {
                    Ok(rd) => rd
                        .filter_map(|d| d.ok()?.file_name().into_string().ok())
                        .filter(|n| n.ends_with(".conf") && !n.starts_with('.'))
                        .collect(),
                    Err(err) => {
                        warnings.push(format!(
                            "{}:{}: include_dir {}: {err}",
                            path.display(),
                            e.line,
                            target.display()
                        ));
                        continue;
                    }
                };
                names.sort();
                for n in names {
                    let file = target.join(&n);
                    if let Err(err) = read_conf(fs, &file, settings, warnings, depth + 1) {
                        warnings.push(format!("{}: {err}", file.display()));
                    }
                }
            }
            _ => settings.set(&e.name, &e.value, &format!("{}:{}", path.display(), e.line)),
        }
    }
    Ok(())
}

/// The postmaster's argv (NUL-separated in /proc/PID/cmdline: it keeps its real argv).
pub fn postmaster_args(pid: i32) -> std::io::Result<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))?;
    Ok(raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect())
}

/// The settings of a cluster: defaults, then the configuration file (the postmaster's
/// `config_file`, else `-D`/postgresql.conf, else the data directory's) with its includes,
/// then postgresql.auto.conf, then the postmaster's command line. Later wins. Files that
/// cannot be read are an error only for the main configuration file.
pub fn load(cluster: &Cluster) -> anyhow::Result<Settings> {
    load_with_warnings(cluster).map(|(s, _)| s)
}

/// [`load`], also returning what was skipped (unreadable includes, syntax errors).
pub fn load_with_warnings(cluster: &Cluster) -> anyhow::Result<(Settings, Vec<String>)> {
    let pm = cluster.postmaster_pid;
    let fs = Fs {
        root: PathBuf::from(format!("/proc/{pm}/root")),
    };
    let args = postmaster_args(pm)
        .with_context(|| format!("reading the command line of postmaster {pm}"))?;
    let cmdline = parse_command_line(&args);
    let data_dir = cluster.data_dir.clone();
    let resolve = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            data_dir.join(p)
        }
    };
    let config_file = cmdline
        .iter()
        .rev()
        .find(|(n, _)| n == "config_file")
        .map(|(_, v)| resolve(v))
        .or_else(|| {
            cmdline
                .iter()
                .rev()
                .find(|(n, _)| n == "data_directory")
                .map(|(_, v)| resolve(v).join("postgresql.conf"))
        })
        .unwrap_or_else(|| data_dir.join("postgresql.conf"));

    let mut settings = Settings::defaults();
    let mut warnings = Vec::new();
    read_conf(&fs, &config_file, &mut settings, &mut warnings, 0).with_context(|| {
        format!(
            "reading {} of postmaster {pm} (through {})",
            config_file.display(),
            fs.root.display()
        )
    })?;
    let auto = data_dir.join("postgresql.auto.conf");
    if let Err(e) = read_conf(&fs, &auto, &mut settings, &mut warnings, 0)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        warnings.push(format!("{}: {e}", auto.display()));
    }
    for (name, value) in cmdline {
        settings.set(&name, &value, "command line");
    }
    Ok((settings, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_syntax() {
        let text = "\
# a comment
work_mem = 256MB   # trailing comment
shared_buffers '1GB'
hash_mem_multiplier=1.5
log_line_prefix = '%m [%p] it''s \\'x\\' #not a comment'
  Max_Parallel_Workers_Per_Gather = 4
pg_stat_statements.max = 10000
include_dir 'conf.d'
broken = 'no end
= 3
name = 1 2
empty =
\tdynamic_shared_memory_type\t=\tposix
";
        let (entries, errors) = parse_conf(text);
        let got: Vec<(usize, &str, &str)> = entries
            .iter()
            .map(|e| (e.line, e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (2, "work_mem", "256MB"),
                (3, "shared_buffers", "1GB"),
                (4, "hash_mem_multiplier", "1.5"),
                (5, "log_line_prefix", "%m [%p] it's 'x' #not a comment"),
                (6, "max_parallel_workers_per_gather", "4"),
                (7, "pg_stat_statements.max", "10000"),
                (8, "include_dir", "conf.d"),
                (13, "dynamic_shared_memory_type", "posix"),
            ]
        );
        let lines: Vec<usize> = errors.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [9, 10, 11, 12]);
        assert_eq!(parse_conf("a = 'x\\ty\\101\\''").0[0].value, "x\ty\u{41}'");
        assert!(parse_conf("a = 'x\\").1.len() == 1);
        assert_eq!(parse_conf("a = ''").0[0].value, "");
    }

    #[test]
    fn units_and_conversions() {
        assert_eq!(parse_bytes("256MB", Some(1024)), Some(268435456));
        assert_eq!(parse_bytes("4096", Some(1024)), Some(4194304));
        assert_eq!(parse_bytes("16384", Some(8192)), Some(134217728));
        assert_eq!(parse_bytes("1.5GB", None), Some(1610612736));
        assert_eq!(parse_bytes(" 64 MB ", None), Some(67108864));
        assert_eq!(parse_bytes("64mb", None), None);
        assert_eq!(parse_bytes("-1", Some(1024)), None);
        assert_eq!(parse_bytes("12", None), None);
        assert_eq!(parse_bytes("99999999999TB", None), None);
        assert_eq!(parse_bytes("", Some(1)), None);

        let mut s = Settings::default();
        // Unset: PostgreSQL 15's defaults.
        assert_eq!(s.bytes("work_mem"), Some(4 << 20));
        assert_eq!(s.bytes("shared_buffers"), Some(128 << 20));
        assert_eq!(s.bytes("maintenance_work_mem"), Some(64 << 20));
        assert_eq!(s.bytes("min_dynamic_shared_memory"), Some(0));
        assert_eq!(s.int("max_parallel_workers_per_gather"), Some(2));
        assert_eq!(s.float("hash_mem_multiplier"), Some(2.0));
        assert_eq!(s.bool("parallel_leader_participation"), Some(true));
        assert_eq!(s.bytes("no_such_thing"), None);
        s.set("work_mem", "65536", "x");
        s.set("shared_buffers", "1000", "x");
        s.set("min_dynamic_shared_memory", "10", "x");
        s.set("Hash_Mem_Multiplier", "1.5", "x");
        s.set("enable_parallel_hash", "of", "x");
        assert_eq!(s.bytes("work_mem"), Some(65536 * 1024));
        assert_eq!(s.int("work_mem"), Some(65536));
        assert_eq!(s.bytes("shared_buffers"), Some(8192000));
        assert_eq!(s.bytes("min_dynamic_shared_memory"), Some(10 << 20));
        assert_eq!(s.float("HASH_MEM_MULTIPLIER"), Some(1.5));
        assert_eq!(s.bool("enable_parallel_hash"), Some(false));
        s.set("work_mem", "1MB", "x");
        assert_eq!(s.int("work_mem"), Some(1024));
        s.set("max_parallel_workers", "0x10", "x");
        assert_eq!(s.int("max_parallel_workers"), Some(16));
        for (v, b) in [
            ("yes", Some(true)),
            ("t", Some(true)),
            ("n", Some(false)),
            ("o", None),
            ("x", None),
        ] {
            assert_eq!(parse_bool(v), b, "{v}");
        }
    }

    #[test]
    fn command_lines() {
        let args: Vec<String> = [
            "/usr/lib/postgresql/15/bin/postgres",
            "-D",
            "/var/lib/postgresql/15/main",
            "-c",
            "config_file=/etc/postgresql/15/main/postgresql.conf",
            "-cwork_mem=256MB",
            "--max-parallel-workers-per-gather=4",
            "-B",
            "1000",
            "-N50",
            "-p",
            "5433",
            "-F",
            "-c",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let got = parse_command_line(&args);
        let want: Vec<(String, String)> = [
            ("data_directory", "/var/lib/postgresql/15/main"),
            ("config_file", "/etc/postgresql/15/main/postgresql.conf"),
            ("work_mem", "256MB"),
            ("max_parallel_workers_per_gather", "4"),
            ("shared_buffers", "1000"),
            ("max_connections", "50"),
            ("port", "5433"),
            ("fsync", "off"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(got, want);
        assert!(parse_command_line(&[]).is_empty());
    }

    #[test]
    fn overlay_only_where_different() {
        let mut s = Settings::defaults();
        s.set("work_mem", "4MB", "postgresql.conf:1");
        let g = BackendGlobals {
            work_mem_kb: Some(78848),
            hash_mem_multiplier: Some(2.0),
            max_parallel_workers_per_gather: Some(2),
            dynamic_shared_memory_type: Some(1),
            min_dynamic_shared_memory_mb: Some(0),
            ..Default::default()
        };
        s.overlay_backend(77, &g);
        let wm = s.get("work_mem");
        assert_eq!(wm.map(|w| w.source.as_str()), Some("backend 77 memory"));
        assert_eq!(s.bytes("work_mem"), Some(78848 * 1024));
        for name in [
            "hash_mem_multiplier",
            "max_parallel_workers_per_gather",
            "dynamic_shared_memory_type",
            "min_dynamic_shared_memory",
        ] {
            assert_eq!(
                s.get(name).map(|w| w.source.as_str()),
                Some("default"),
                "{name}"
            );
        }
    }

    #[test]
    fn files_with_includes() {
        let Ok(dir) = tempfile::tempdir() else {
            return;
        };
        let d = dir.path();
        let w = |p: &str, t: &str| std::fs::write(d.join(p), t).is_ok();
        assert!(std::fs::create_dir(d.join("conf.d")).is_ok());
        assert!(w(
            "postgresql.conf",
            "work_mem = 8MB\ninclude 'extra.conf'\ninclude_if_exists 'missing.conf'\ninclude_dir 'conf.d'\nshared_buffers = 1GB\n"
        ));
        assert!(w("extra.conf", "work_mem = 16MB\n"));
        assert!(w("conf.d/b.conf", "hash_mem_multiplier = 3.5\n"));
        assert!(w(
            "conf.d/a.conf",
            "hash_mem_multiplier 1.5\nmax_parallel_workers 3\n"
        ));
        assert!(w("conf.d/.hidden.conf", "max_parallel_workers 4\n"));
        assert!(w("conf.d/c.txt", "max_parallel_workers 5\n"));
        let fs = Fs {
            root: PathBuf::from("/"),
        };
        let mut s = Settings::defaults();
        let mut warnings = Vec::new();
        let main = d.join("postgresql.conf");
        assert!(read_conf(&fs, &main, &mut s, &mut warnings, 0).is_ok());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(s.bytes("work_mem"), Some(16 << 20));
        assert_eq!(
            s.get("work_mem").map(|x| x.source.clone()),
            Some(format!("{}:1", d.join("extra.conf").display()))
        );
        assert_eq!(s.float("hash_mem_multiplier"), Some(3.5));
        assert_eq!(s.int("max_parallel_workers"), Some(3));
        assert_eq!(
            s.get("shared_buffers").map(|x| x.source.clone()),
            Some(format!("{}:5", main.display()))
        );
        // A missing `include` is a warning; a self-include stops at the depth limit.
        assert!(w("loop.conf", "include 'loop.conf'\ninclude 'nope.conf'\n"));
        let mut warnings = Vec::new();
        assert!(read_conf(&fs, &d.join("loop.conf"), &mut s, &mut warnings, 0).is_ok());
        assert!(warnings.iter().any(|w| w.contains("nested too deeply")));
        assert!(warnings.iter().any(|w| w.contains("nope.conf")));
    }
}
