//! The `-c` summary table and the `--histogram` latency histograms.
//!
//! The table is strace 6.1's, column for column. The time of a call is, as in strace, the
//! system CPU time its process spent between the call's entry and exit stops (the
//! `SyscallExit` `cpu`, which the ptrace source measures from wait4's rusage when asked);
//! with `-w`, or from a source that cannot measure it (perf), the wall time between the
//! stops (`duration`). The histograms always show the wall time: they are latencies. Calls
//! that never return (`exit_group`) have no exit and are not counted, as in strace.
//!
//! The histograms follow BCC's `print_log2_hist` layout: power-of-two microsecond buckets,
//! one per syscall, in the table's order.

use super::Sink;
use crate::event::Event;
use crate::syscalls::Ret;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;

#[derive(Default, Clone, Debug)]
pub struct SummaryOpts {
    /// Print a log2 latency histogram per syscall after the table.
    pub histogram: bool,
    /// `--json`: one JSON object (`{"event": "summary", ...}`) instead of the table.
    pub json: bool,
    /// `-S`: `time` (default), `min-time`, `max-time`, `avg-time`, `calls`, `errors`,
    /// `name`, `nothing`.
    pub sort: SortBy,
    /// `-U`: the table's columns in their order (`None`: strace's default six).
    pub columns: Option<Vec<Column>>,
    /// `-O`: taken off each call's time (down to zero), as the cost of measuring it.
    pub overhead: std::time::Duration,
}

/// A column of the `-c` table (`-U`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    TimePercent,
    TotalTime,
    MinTime,
    MaxTime,
    AvgTime,
    Calls,
    Errors,
    Name,
}

impl Column {
    /// strace's names and aliases.
    pub fn parse(s: &str) -> Option<Column> {
        Some(match s {
            "time-percent" | "time_percent" | "percent" | "time" => Column::TimePercent,
            "total-time" | "total_time" | "seconds" | "total" => Column::TotalTime,
            "min-time" | "min_time" | "shortest" | "min" => Column::MinTime,
            "max-time" | "max_time" | "longest" | "max" => Column::MaxTime,
            "avg-time" | "avg_time" | "usecs/call" | "avg" => Column::AvgTime,
            "calls" | "count" => Column::Calls,
            "errors" | "error" => Column::Errors,
            "name" | "syscall" | "syscall_name" => Column::Name,
            _ => return None,
        })
    }

    /// `-U a,b,c`, or the name strace calls unknown.
    pub fn parse_list(s: &str) -> Result<Vec<Column>, String> {
        s.split(',')
            .map(|w| {
                Column::parse(w)
                    .ok_or_else(|| format!("unknown column name: '{}'", w.escape_default()))
            })
            .collect()
    }

    fn header(self) -> &'static str {
        match self {
            Column::TimePercent => "% time",
            Column::TotalTime => "seconds",
            Column::MinTime => "shortest",
            Column::MaxTime => "longest",
            Column::AvgTime => "usecs/call",
            Column::Calls => "calls",
            Column::Errors => "errors",
            Column::Name => "syscall",
        }
    }

    fn width(self) -> usize {
        match self {
            Column::TimePercent => 6,
            Column::TotalTime | Column::AvgTime => 11,
            Column::MinTime | Column::MaxTime => 8,
            Column::Calls | Column::Errors => 9,
            Column::Name => 16,
        }
    }
}

/// `-S SORTBY`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    #[default]
    Time,
    MinTime,
    MaxTime,
    AvgTime,
    Calls,
    Errors,
    Name,
    Nothing,
}

impl SortBy {
    /// strace's names (and its aliases: `time_total`, `count`, `error`, `syscall`, ...).
    pub fn parse(s: &str) -> Option<SortBy> {
        Some(match s {
            "time" | "time_total" | "total_time" | "time-percent" | "total-time" => SortBy::Time,
            "min-time" | "min_time" | "shortest" | "time_min" => SortBy::MinTime,
            "max-time" | "max_time" | "longest" | "time_max" => SortBy::MaxTime,
            "avg-time" | "avg_time" | "time_avg" => SortBy::AvgTime,
            "calls" | "count" => SortBy::Calls,
            "errors" | "error" => SortBy::Errors,
            "name" | "syscall" | "syscall_name" => SortBy::Name,
            "nothing" | "none" => SortBy::Nothing,
            _ => return None,
        })
    }
}

/// Buckets: index `i` holds microsecond values of bit length `i` (0 and 1 share bucket 1).
const BUCKETS: usize = 65;

struct Stat {
    name: String,
    calls: u64,
    errors: u64,
    nanos: u128,
    min_ns: u128,
    max_ns: u128,
    hist: Vec<u64>,
}

impl Stat {
    fn avg_ns(&self) -> u128 {
        self.nanos.checked_div(u128::from(self.calls)).unwrap_or(0)
    }
}

pub struct Summary {
    out: Box<dyn Write>,
    o: SummaryOpts,
    stats: HashMap<u64, Stat>,
}

impl Summary {
    pub fn new(out: Box<dyn Write>, o: SummaryOpts) -> Self {
        Summary {
            out,
            o,
            stats: HashMap::new(),
        }
    }

    /// The rows in `-S` order (ties by syscall number, as the table's were).
    fn sorted(&self) -> Vec<(&u64, &Stat)> {
        let mut rows: Vec<(&u64, &Stat)> = self.stats.iter().collect();
        match self.o.sort {
            SortBy::Time => rows.sort_by(|a, b| b.1.nanos.cmp(&a.1.nanos).then(a.0.cmp(b.0))),
            SortBy::MinTime => rows.sort_by(|a, b| b.1.min_ns.cmp(&a.1.min_ns).then(a.0.cmp(b.0))),
            SortBy::MaxTime => rows.sort_by(|a, b| b.1.max_ns.cmp(&a.1.max_ns).then(a.0.cmp(b.0))),
            SortBy::AvgTime => {
                rows.sort_by(|a, b| b.1.avg_ns().cmp(&a.1.avg_ns()).then(a.0.cmp(b.0)))
            }
            SortBy::Calls => rows.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(b.0))),
            SortBy::Errors => rows.sort_by(|a, b| b.1.errors.cmp(&a.1.errors).then(a.0.cmp(b.0))),
            SortBy::Name => rows.sort_by(|a, b| a.1.name.cmp(&b.1.name)),
            SortBy::Nothing => rows.sort_by(|a, b| a.0.cmp(b.0)),
        }
        rows
    }

    /// The summary as one JSON object: rows in the table's order, times in whole
    /// nanoseconds (and seconds), the histogram's buckets when asked.
    pub fn render_json(&self) -> serde_json::Value {
        let rows = self.sorted();
        let total_ns: u128 = rows.iter().map(|r| r.1.nanos).sum();
        let row = |st: &Stat| {
            let pct = if total_ns == 0 {
                0.0
            } else {
                ((st.nanos as f64 * 100.0 / total_ns as f64) * 100.0).round() / 100.0
            };
            let mut j = serde_json::json!({
                "syscall": st.name,
                "calls": st.calls,
                "errors": st.errors,
                "nanoseconds": u64::try_from(st.nanos).unwrap_or(u64::MAX),
                "usecs_per_call": st.nanos.checked_div(u128::from(st.calls)).map(|n| n / 1000).unwrap_or(0) as u64,
                "percent": pct,
            });
            if self.o.histogram {
                j["log2_usecs"] = serde_json::json!(
                    st.hist
                        .iter()
                        .rposition(|&v| v > 0)
                        .map(|last| st.hist[..=last].to_vec())
                        .unwrap_or_default()
                );
            }
            j
        };
        serde_json::json!({
            "event": "summary",
            "syscalls": rows.iter().map(|(_, st)| row(st)).collect::<Vec<_>>(),
            "total": {
                "calls": rows.iter().map(|r| r.1.calls).sum::<u64>(),
                "errors": rows.iter().map(|r| r.1.errors).sum::<u64>(),
                "nanoseconds": u64::try_from(total_ns).unwrap_or(u64::MAX),
            },
        })
    }

    /// The report: table, then histograms if asked. Empty when no call completed (strace
    /// prints nothing then either).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let rows = self.sorted();
        if rows.is_empty() {
            return s;
        }
        let total_ns: u128 = rows.iter().map(|r| r.1.nanos).sum();
        let total_calls: u64 = rows.iter().map(|r| r.1.calls).sum();
        let total_errors: u64 = rows.iter().map(|r| r.1.errors).sum();
        let total = Stat {
            name: "total".into(),
            calls: total_calls,
            errors: total_errors,
            nanos: total_ns,
            min_ns: rows.iter().map(|r| r.1.min_ns).min().unwrap_or(0),
            max_ns: rows.iter().map(|r| r.1.max_ns).max().unwrap_or(0),
            hist: Vec::new(),
        };
        let cols = self.o.columns.as_deref().unwrap_or(&DEFAULT_COLUMNS);
        table(&mut s, cols, &rows, &total, total_ns);
        if self.o.histogram {
            for (_, st) in &rows {
                s.push('\n');
                s.push_str(&st.name);
                s.push('\n');
                log2_hist(&mut s, &st.hist, "usecs");
            }
        }
        s
    }
}

/// strace's default columns (`-U` not given).
const DEFAULT_COLUMNS: [Column; 6] = [
    Column::TimePercent,
    Column::TotalTime,
    Column::AvgTime,
    Column::Calls,
    Column::Errors,
    Column::Name,
];

/// The table: strace's widths, the name padded unless it is the last column, seconds rounded
/// to the microsecond, usecs/call truncated, a zero error count blank, the total row with
/// the overall shortest and longest call.
fn table(s: &mut String, cols: &[Column], rows: &[(&u64, &Stat)], total: &Stat, total_ns: u128) {
    let last = cols.len().saturating_sub(1);
    let line = |s: &mut String, cells: Vec<String>| {
        for (i, (c, v)) in cols.iter().zip(cells).enumerate() {
            if i > 0 {
                s.push(' ');
            }
            let w = c.width();
            if *c == Column::Name {
                if i == last {
                    s.push_str(&v);
                } else {
                    let _ = write!(s, "{v:<w$}");
                }
            } else {
                let _ = write!(s, "{v:>w$}");
            }
        }
        s.push('\n');
    };
    line(s, cols.iter().map(|c| c.header().to_string()).collect());
    let dashes: Vec<String> = cols.iter().map(|c| "-".repeat(c.width())).collect();
    s.push_str(&dashes.join(" "));
    s.push('\n');
    let cells = |st: &Stat, pct: f64| -> Vec<String> {
        cols.iter()
            .map(|c| match c {
                Column::TimePercent => format!("{pct:.2}"),
                Column::TotalTime => format!("{:.6}", st.nanos as f64 / 1e9),
                Column::MinTime => format!("{:.6}", st.min_ns.min(st.max_ns) as f64 / 1e9),
                Column::MaxTime => format!("{:.6}", st.max_ns as f64 / 1e9),
                Column::AvgTime => (st.avg_ns() / 1000).to_string(),
                Column::Calls => st.calls.to_string(),
                Column::Errors if st.errors == 0 => String::new(),
                Column::Errors => st.errors.to_string(),
                Column::Name => st.name.clone(),
            })
            .collect()
    };
    for (_, st) in rows {
        let pct = if total_ns == 0 {
            0.0
        } else {
            st.nanos as f64 * 100.0 / total_ns as f64
        };
        line(s, cells(st, pct));
    }
    s.push_str(&dashes.join(" "));
    s.push('\n');
    line(s, cells(total, 100.0));
}

/// The bucket of a latency of `usecs` microseconds.
fn bucket(usecs: u64) -> usize {
    (64 - usecs.leading_zeros() as usize).max(1)
}

/// A log2 histogram in BCC's layout; nothing when every bucket is empty.
pub fn log2_hist(s: &mut String, vals: &[u64], unit: &str) {
    // Bucket 64 holds the largest u64; more buckets would overflow the bounds below.
    let vals = vals.get(..BUCKETS).unwrap_or(vals);
    let Some(idx_max) = vals.iter().rposition(|&v| v > 0) else {
        return;
    };
    if idx_max == 0 {
        return;
    }
    let val_max = vals.iter().copied().max().unwrap_or(0).max(1);
    let narrow = idx_max <= 32;
    let (width, stars) = if narrow { (10, 40) } else { (20, 20) };
    if narrow {
        let _ = writeln!(s, "     {unit:<19} : count     distribution");
    } else {
        let _ = writeln!(s, "               {unit:<29} : count     distribution");
    }
    for (i, &val) in vals.iter().enumerate().take(idx_max + 1).skip(1) {
        let high: u128 = (1u128 << i) - 1;
        let mut low: u128 = (1u128 << i) >> 1;
        if low == high {
            low -= 1;
        }
        let n = (u128::from(val) * stars / u128::from(val_max)).min(stars) as usize;
        let _ = write!(s, "{low:>width$} -> {high:<width$} : {val:<8} |");
        for _ in 0..n {
            s.push('*');
        }
        for _ in n..stars as usize {
            s.push(' ');
        }
        s.push_str("|\n");
    }
}

fn is_error(r: &Ret) -> bool {
    match r {
        Ret::Error { .. } | Ret::ValueError { .. } => true,
        Ret::Annotated { value, .. } => is_error(value),
        _ => false,
    }
}

impl Sink for Summary {
    fn event(&mut self, ev: &Event) {
        let Event::SyscallExit {
            nr,
            name,
            ret,
            duration,
            cpu,
            ..
        } = ev
        else {
            return;
        };
        let st = self.stats.entry(*nr).or_insert_with(|| Stat {
            name: name.to_string(),
            calls: 0,
            errors: 0,
            nanos: 0,
            min_ns: u128::MAX,
            max_ns: 0,
            hist: vec![0; BUCKETS],
        });
        st.calls += 1;
        if is_error(ret) {
            st.errors += 1;
        }
        // The table's time is the system CPU time where the source measured it (plain
        // `-c`), else the wall time (`-w`, or a source that cannot measure it).
        let ns = cpu
            .unwrap_or(*duration)
            .saturating_sub(self.o.overhead)
            .as_nanos();
        st.nanos += ns;
        st.min_ns = st.min_ns.min(ns);
        st.max_ns = st.max_ns.max(ns);
        let us = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        if let Some(b) = st.hist.get_mut(bucket(us)) {
            *b += 1;
        }
    }

    fn finish(&mut self) {
        let s = if self.o.json {
            format!("{}\n", self.render_json())
        } else {
            self.render()
        };
        let _ = self.out.write_all(s.as_bytes());
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn call(s: &mut Summary, nr: u64, name: &'static str, ns: u64, ret: Ret) {
        s.event(&Event::SyscallExit {
            pid: 1,
            time: Duration::from_secs(1_700_000_000),
            nr,
            name: name.into(),
            args: vec![],
            raw_args: [0; 6],
            ret,
            duration: Duration::from_nanos(ns),
            cpu: None,
            stack: Vec::new(),
            fields: Vec::new(),
            injected: false,
            poked: false,
            delayed: false,
            dump: None,
            ip: 0,
        });
    }

    fn summary(histogram: bool) -> Summary {
        Summary::new(
            Box::new(std::io::sink()),
            SummaryOpts {
                histogram,
                json: false,
                sort: SortBy::Time,
                columns: None,
                overhead: std::time::Duration::ZERO,
            },
        )
    }

    /// Numbers from a real `strace -c -w` run (the static g.c), rebuilt from -T times.
    #[test]
    fn table_like_strace() {
        let mut s = summary(false);
        call(&mut s, 59, "execve", 192_600, Ret::Int(0));
        call(&mut s, 89, "readlink", 18_200, Ret::Int(12));
        for ns in [3_400, 3_300, 4_100, 2_600, 3_500] {
            call(&mut s, 12, "brk", ns, Ret::Hex(0x25f9e000));
        }
        call(&mut s, 21, "access", 1_000, Ret::Error { errno: 2 });
        call(&mut s, 0, "read", 1_000, Ret::Int(0));
        assert_eq!(
            s.render(),
            "% time     seconds  usecs/call     calls    errors syscall\n\
             ------ ----------- ----------- --------- --------- ----------------\n \
             83.85    0.000193         192         1           execve\n  \
             7.92    0.000018          18         1           readlink\n  \
             7.36    0.000017           3         5           brk\n  \
             0.44    0.000001           1         1           read\n  \
             0.44    0.000001           1         1         1 access\n\
             ------ ----------- ----------- --------- --------- ----------------\n\
             100.00    0.000230          25         9         1 total\n"
        );
    }

    /// `-U` with strace's default columns is the default table, byte for byte; other
    /// orders pad the name unless it is last, and the total row has the overall extremes.
    #[test]
    fn chosen_columns() {
        let default = DEFAULT_COLUMNS;
        let mut s = summary(false);
        call(&mut s, 0, "read", 3_000, Ret::Int(1));
        call(&mut s, 0, "read", 1_000, Ret::Int(1));
        call(&mut s, 1, "write", 500, Ret::Error { errno: 9 });
        let plain = s.render();
        s.o.columns = Some(default.to_vec());
        assert_eq!(s.render(), plain);
        s.o.columns = Column::parse_list("calls,name,max-time,min-time").ok();
        assert_eq!(
            s.render(),
            "    calls syscall           longest shortest\n\
             --------- ---------------- -------- --------\n        \
             2 read             0.000003 0.000001\n        \
             1 write            0.000000 0.000000\n\
             --------- ---------------- -------- --------\n        \
             3 total            0.000003 0.000000\n"
        );
        assert_eq!(
            Column::parse_list("calls,bogus"),
            Err("unknown column name: 'bogus'".into())
        );
    }

    #[test]
    fn zero_times_and_empty() {
        assert_eq!(summary(false).render(), "");
        let mut s = summary(false);
        call(&mut s, 39, "getpid", 0, Ret::Int(1));
        assert_eq!(
            s.render(),
            "% time     seconds  usecs/call     calls    errors syscall\n\
             ------ ----------- ----------- --------- --------- ----------------\n  \
             0.00    0.000000           0         1           getpid\n\
             ------ ----------- ----------- --------- --------- ----------------\n\
             100.00    0.000000           0         1           total\n"
        );
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket(0), 1);
        assert_eq!(bucket(1), 1);
        assert_eq!(bucket(2), 2);
        assert_eq!(bucket(3), 2);
        assert_eq!(bucket(4), 3);
        assert_eq!(bucket(u64::MAX), 64);
    }

    #[test]
    fn histogram_bcc_layout() {
        let mut s = summary(true);
        for _ in 0..16 {
            call(&mut s, 285, "fallocate", 900, Ret::Int(0));
        }
        for _ in 0..4604 {
            call(&mut s, 285, "fallocate", 2_500, Ret::Int(0));
        }
        for _ in 0..100 {
            call(&mut s, 285, "fallocate", 5_000, Ret::Error { errno: 28 });
        }
        let r = s.render();
        let hist = r
            .split_once("\nfallocate\n")
            .expect("test input is well-formed")
            .1;
        assert_eq!(
            hist,
            "     usecs               : count     distribution\n\
             \x20        0 -> 1          : 16       |                                        |\n\
             \x20        2 -> 3          : 4604     |****************************************|\n\
             \x20        4 -> 7          : 100      |                                        |\n"
        );
        let mut h = String::new();
        log2_hist(&mut h, &[0, 1, 0, 2], "usecs");
        assert_eq!(
            h,
            "     usecs               : count     distribution\n\
             \x20        0 -> 1          : 1        |********************                    |\n\
             \x20        2 -> 3          : 0        |                                        |\n\
             \x20        4 -> 7          : 2        |****************************************|\n"
        );
        let mut vals = vec![0u64; BUCKETS];
        vals[34] = 1;
        let mut h = String::new();
        log2_hist(&mut h, &vals, "usecs");
        let last = h.lines().last().expect("test input is well-formed");
        assert_eq!(
            last,
            "          8589934592 -> 17179869183          : 1        |********************|"
        );
        assert!(h.starts_with("               usecs                         : count"));
    }
}
