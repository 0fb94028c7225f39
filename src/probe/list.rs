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

/// A short account of where a location expression puts a value.
fn describe_loc(loc: &super::dwarf::VarLoc) -> String {
    use super::dwarf::VarLoc;
    const REGS: [&str; 17] = [
        "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15", "rip",
    ];
    let bytes = match loc {
        VarLoc::OptimizedOut => return "optimized out here".into(),
        VarLoc::Const(_) => return "a constant".into(),
        VarLoc::Expr(b) => b,
    };
    let reg = |n: u8| REGS.get(usize::from(n)).copied().unwrap_or("?");
    match bytes.as_slice() {
        [op @ 0x50..=0x6f] => format!("in %{}", reg(op - 0x50)),
        [0x91, ..] => "on the stack (frame base + offset)".into(),
        [op @ 0x70..=0x8f, ..] => format!("in memory at %{} + offset", reg(op - 0x70)),
        [0x03, ..] => "at a fixed address".into(),
        [0xa3 | 0xf3, ..] => "the value it had at entry (entry value)".into(),
        _ => "computed (DWARF expression)".into(),
    }
}

/// `--vars FUNC[+OFFS]`: the parameters and locals DWARF describes there, with types and
/// where each value is.
pub fn vars(bin: &Path, func: &str) -> Result<String> {
    let spec = super::spec::parse(func)?;
    let mut cache = SymbolCache::new(LoadOptions::default());
    let syms = cache
        .get(bin)
        .map_err(|e| anyhow::anyhow!("{}: {e}", bin.display()))?;
    let f = syms
        .functions(false)
        .into_iter()
        .find(|f| f.name.as_deref() == Some(spec.func.as_str()))
        .ok_or_else(|| anyhow::anyhow!("{} has no function named {}", bin.display(), spec.func))?;
    let off = match spec.at {
        super::spec::At::Offset(o) => o,
        _ => 0,
    };
    let Some(data) = syms.dwarf_data() else {
        anyhow::bail!(
            "{}: no debug info ({}); only $arg1..$arg6, %REG and @SYMBOL can be captured",
            bin.display(),
            syms.debug_search()
        );
    };
    let dw = super::dwarf::DwarfFile::parse(data)
        .map_err(|e| anyhow::anyhow!("{}: DWARF: {e}", bin.display()))?
        .ok_or_else(|| anyhow::anyhow!("{}: no .debug_info", bin.display()))?;
    let scope = dw
        .scope(f.start, f.start + off)
        .map_err(|e| anyhow::anyhow!("{}: DWARF: {e}", bin.display()))?
        .ok_or_else(|| {
            anyhow::anyhow!("{}: DWARF does not describe {}", bin.display(), spec.func)
        })?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}{} ({:#x}), returns {}:",
        escape(&spec.func),
        if off == 0 {
            " at entry".to_string()
        } else {
            format!("+{off:#x}")
        },
        f.start + off,
        scope.types.name(scope.ret)
    );
    let w = scope.vars.iter().map(|v| v.name.len()).max().unwrap_or(0);
    let tw = scope
        .vars
        .iter()
        .map(|v| scope.types.name(v.ty).len())
        .max()
        .unwrap_or(0);
    for v in &scope.vars {
        let _ = writeln!(
            out,
            "  {:<5} {:<w$}  {:<tw$}  {}",
            if v.param { "param" } else { "local" },
            escape(&v.name),
            scope.types.name(v.ty),
            describe_loc(&v.loc),
        );
    }
    if scope.vars.is_empty() {
        out.push_str("  (no parameters or locals described here)\n");
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
