//! `pgstrace probe -x BINARY --funcs [GLOB] [--all]`: what can be probed in a binary. Named
//! functions come from `.symtab` (else `.dynsym`, or the separate debug file); with `--all`,
//! also the functions only `.eh_frame` knows (a stripped binary's static functions), by
//! address. Functions a probe refuses without `--force` say so.

use super::guard;
use crate::symbols::{LoadOptions, SymbolCache};
use crate::util::escape;
use anyhow::Result;
use std::fmt::Write as _;
use std::path::Path;

/// `*` (any run) and `?` (one character), as the shell matches.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative match with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The listing, one function a line: name (or `(unnamed)`), file address, size, and why
/// it is refused. Unnamed functions only with `all`, and only when the glob is `*`.
pub fn list(binary: &Path, glob: Option<&str>, all: bool) -> Result<String> {
    let mut cache = SymbolCache::new(LoadOptions::default());
    // The error names the file and the reason already.
    let syms = cache.get(binary).map_err(|e| anyhow::anyhow!("{e}"))?;
    let glob = glob.unwrap_or("*");
    let mut funcs = syms.functions(all && glob == "*");
    funcs.retain(|f| f.name.as_deref().is_none_or(|n| glob_match(glob, n)));
    funcs.sort_by(|a, b| {
        a.name
            .is_none()
            .cmp(&b.name.is_none())
            .then(a.name.cmp(&b.name))
            .then(a.start.cmp(&b.start))
    });
    let mut out = String::new();
    for f in &funcs {
        let name = f
            .name
            .as_deref()
            .map_or_else(|| "(unnamed)".to_string(), escape);
        let _ = write!(out, "{name:<40} {:#10x} {:>7}", f.start, f.size);
        if let Some(why) = f.name.as_deref().and_then(guard::refusal) {
            let _ = write!(out, "  refused without --force: {why}");
        }
        out.push('\n');
    }
    if funcs.is_empty() {
        anyhow::bail!(
            "no function of {} matches '{}'",
            binary.display(),
            escape(glob)
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("dsm_*", "dsm_create"));
        assert!(!glob_match("dsm_*", "xdsm_create"));
        assert!(glob_match("*Parallel*", "ExecInitParallelPlan"));
        assert!(glob_match("s_lock", "s_lock"));
        assert!(!glob_match("s_lock", "s_lock2"));
        assert!(glob_match("?_lock", "s_lock"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "x"));
    }
}
