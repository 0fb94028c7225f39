//! Line-by-line comparison of two traces with a readable unified-style diff on failure.
//!
//! `-` lines are what strace printed (the oracle), `+` lines what pgstrace printed.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Lines of context shown around each difference.
const CONTEXT: usize = 3;
/// Past this many DP cells (after trimming the common prefix and suffix) the diff falls back
/// to showing the first differing region only, so a runaway trace cannot eat the machine.
const MAX_CELLS: usize = 16_000_000;
/// Cap on the printed diff, in lines.
const MAX_OUT_LINES: usize = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Same,
    Del,
    Add,
}

/// The diff between `expected` and `actual`, or None when they are equal.
pub fn diff_lines(expected: &[String], actual: &[String]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let pre = expected
        .iter()
        .zip(actual)
        .take_while(|(a, b)| a == b)
        .count();
    let suf = expected[pre..]
        .iter()
        .rev()
        .zip(actual[pre..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let e = &expected[pre..expected.len() - suf];
    let a = &actual[pre..actual.len() - suf];

    let mut ops: Vec<Op> = vec![Op::Same; pre];
    if e.len().saturating_mul(a.len()) <= MAX_CELLS {
        ops.extend(lcs_ops(e, a));
    } else {
        ops.extend(std::iter::repeat_n(Op::Del, e.len()));
        ops.extend(std::iter::repeat_n(Op::Add, a.len()));
    }
    ops.extend(std::iter::repeat_n(Op::Same, suf));
    Some(render(expected, actual, &ops))
}

/// Edit script from a longest-common-subsequence table.
fn lcs_ops(e: &[String], a: &[String]) -> Vec<Op> {
    let (n, m) = (e.len(), a.len());
    let w = m + 1;
    let mut t = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i * w + j] = if e[i] == a[j] {
                t[(i + 1) * w + j + 1] + 1
            } else {
                t[(i + 1) * w + j].max(t[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && e[i] == a[j] {
            ops.push(Op::Same);
            i += 1;
            j += 1;
        } else if i < n && (j == m || t[(i + 1) * w + j] >= t[i * w + j + 1]) {
            // Deletions first, as diff(1) shows them.
            ops.push(Op::Del);
            i += 1;
        } else {
            ops.push(Op::Add);
            j += 1;
        }
    }
    ops
}

fn render(expected: &[String], actual: &[String], ops: &[Op]) -> String {
    // Position of each op in both inputs, so hunks can name their line numbers.
    let mut pos = Vec::with_capacity(ops.len());
    let (mut i, mut j) = (0usize, 0usize);
    for op in ops {
        pos.push((i, j));
        match op {
            Op::Same => {
                i += 1;
                j += 1;
            }
            Op::Del => i += 1,
            Op::Add => j += 1,
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k] != Op::Same).collect();
    let mut out = String::new();
    let mut printed = 0usize;
    let mut k = 0usize;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CONTEXT);
        let mut end = (changed[k] + CONTEXT + 1).min(ops.len());
        while k + 1 < changed.len() && changed[k + 1] <= end + CONTEXT {
            k += 1;
            end = (changed[k] + CONTEXT + 1).min(ops.len());
        }
        let (si, sj) = pos[start];
        let _ = writeln!(
            out,
            "@@ strace line {} / pgstrace line {} @@",
            si + 1,
            sj + 1
        );
        for idx in start..end {
            let (pi, pj) = pos[idx];
            let line = match ops[idx] {
                Op::Same => format!("  {}", expected[pi]),
                Op::Del => format!("- {}", expected[pi]),
                Op::Add => format!("+ {}", actual[pj]),
            };
            out.push_str(&line);
            out.push('\n');
            printed += 1;
            if printed >= MAX_OUT_LINES {
                out.push_str("... (diff truncated)\n");
                return out;
            }
        }
        k += 1;
    }
    out
}

/// Panics with a diff when the two line lists differ.
pub fn assert_lines_eq(what: &str, expected: &[String], actual: &[String]) {
    if let Some(d) = diff_lines(expected, actual) {
        panic!(
            "{what}: pgstrace output differs from strace's \
             ({} vs {} lines; '-' strace, '+' pgstrace)\n{d}",
            expected.len(),
            actual.len()
        );
    }
}

/// Panics when the per-process streams differ: first the set of processes, then each stream.
pub fn assert_streams_eq(
    what: &str,
    expected: &BTreeMap<String, Vec<String>>,
    actual: &BTreeMap<String, Vec<String>>,
) {
    let ek: Vec<&String> = expected.keys().collect();
    let ak: Vec<&String> = actual.keys().collect();
    let mut report = String::new();
    if ek != ak {
        let _ = writeln!(
            report,
            "processes differ: strace saw {ek:?}, pgstrace saw {ak:?}"
        );
    }
    for (key, exp) in expected {
        let empty = Vec::new();
        let act = actual.get(key).unwrap_or(&empty);
        if let Some(d) = diff_lines(exp, act) {
            let _ = writeln!(
                report,
                "--- process {key}: {} vs {} lines ('-' strace, '+' pgstrace)\n{d}",
                exp.len(),
                act.len()
            );
        }
    }
    if !report.is_empty() {
        panic!("{what}: pgstrace output differs from strace's\n{report}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn equal_has_no_diff() {
        assert!(diff_lines(&v(&["a", "b"]), &v(&["a", "b"])).is_none());
    }

    #[test]
    fn diff_marks_changes() {
        let d = diff_lines(&v(&["a", "b", "c"]), &v(&["a", "x", "c", "d"])).unwrap_or_default();
        assert!(d.contains("- b"), "{d}");
        assert!(d.contains("+ x"), "{d}");
        assert!(d.contains("+ d"), "{d}");
        assert!(d.contains("  a"), "{d}");
    }
}
