//! Placing a probe in one process: the function's address in its executable (symbols, load
//! bias from /proc/PID/maps), the instruction boundary of `+OFFS`, and a [`Plan`] for every
//! value, from DWARF when the executable or its debug file has it. Nothing is written to the
//! process here.

use super::capture::{self, Fmt, Plan, Root, Site};
use super::spec::{ArgSpec, At, Expr, ProbeSpec, Reg};
use crate::remote::maps;
use crate::symbols::{LoadOptions, SymbolCache};
use anyhow::{Result, anyhow, bail};
use object::{Object, ObjectSymbol};

/// A probe resolved in one process.
#[derive(Clone, Debug)]
pub struct Placed {
    pub pid: i32,
    /// The runtime address of the probed instruction (the entry for `%return`).
    pub addr: u64,
    /// The probe's name as hits print it.
    pub name: String,
    /// `%return`: the values are taken when the function returns.
    pub at_return: bool,
    /// Each value's name and plan (`$params` and `$vars` expanded).
    pub values: Vec<(String, Plan)>,
}

/// The executable of `pid`, with what placing needs of it.
struct Exe {
    path: std::path::PathBuf,
    data: Vec<u8>,
    bias: u64,
}

fn exe_of(pid: i32) -> Result<Exe> {
    let path = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map_err(|e| anyhow!("pid {pid}: cannot read its executable: {e}"))?;
    let data = std::fs::read(&path).map_err(|e| anyhow!("reading {}: {e}", path.display()))?;
    let elf = object::read::elf::ElfFile64::<object::Endianness>::parse(&*data)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let loads = maps::load_segments(&elf);
    let all = maps::read(pid).map_err(|e| anyhow!("pid {pid}: maps: {e}"))?;
    let name = path.to_string_lossy();
    let module = maps::modules(&all)
        .into_iter()
        .find(|m| m.name() == name || m.name().strip_suffix(" (deleted)") == Some(&name))
        .ok_or_else(|| anyhow!("pid {pid}: {} is not mapped", path.display()))?;
    let bias = maps::load_bias(&module.mappings, &loads)
        .ok_or_else(|| anyhow!("pid {pid}: {} does not match its mappings", path.display()))?;
    Ok(Exe { path, data, bias })
}

/// The Debian package that owns `path`, if dpkg knows it.
fn owning_package(path: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("dpkg-query")
        .arg("-S")
        .arg(path)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let pkg = text.lines().next()?.split(':').next()?.trim().to_string();
    (!pkg.is_empty() && out.status.success()).then_some(pkg)
}

/// The one-line reason a variable by name cannot be read, and how to get debug info.
fn needs_debug_info(what: &str, exe: &Exe, syms: &crate::symbols::ObjectSymbols) -> String {
    let pkg = owning_package(&exe.path)
        .map(|p| {
            format!(
                "install {p}-dbgsym (Debian: add the debian-debug archive, apt-get install \
                 {p}-dbgsym) or "
            )
        })
        .unwrap_or_default();
    let at = syms
        .build_id_hex()
        .filter(|h| h.len() > 2)
        .map(|h| format!("/usr/lib/debug/.build-id/{}/{}.debug", &h[..2], &h[2..]))
        .unwrap_or_else(|| "/usr/lib/debug".into());
    format!(
        "{what} needs debug info, and {} has none ({}): {pkg}put its debug file at {at}; \
         without it use $arg1..$arg6, %REG or @SYMBOL",
        exe.path.display(),
        syms.debug_search()
    )
}

/// A data symbol's `(svma, size)` from `.symtab` or `.dynsym` of `data`.
fn data_symbol(data: &[u8], name: &str) -> Option<(u64, u64)> {
    let elf = object::File::parse(data).ok()?;
    elf.symbols()
        .chain(elf.dynamic_symbols())
        .find(|s| {
            s.name() == Ok(name)
                && !s.is_undefined()
                && matches!(
                    s.kind(),
                    object::SymbolKind::Data | object::SymbolKind::Unknown
                )
        })
        .map(|s| (s.address(), s.size()))
}

/// Finds `spec.func` in `pid`'s executable, checks the instruction boundary, and plans the
/// values.
pub fn place(pid: i32, spec: &ProbeSpec) -> Result<Placed> {
    let exe = exe_of(pid)?;
    let mut cache = SymbolCache::new(LoadOptions::default());
    let syms = cache
        .get(&exe.path)
        .map_err(|e| anyhow!("pid {pid}: {e}"))?;
    let f = syms
        .functions(false)
        .into_iter()
        .find(|f| f.name.as_deref() == Some(spec.func.as_str()))
        .ok_or_else(|| {
            anyhow!(
                "pid {pid}: {} has no function named {} (pgstrace probe -x {} --funcs lists them)",
                exe.path.display(),
                spec.func,
                exe.path.display()
            )
        })?;
    let offset = match spec.at {
        At::Offset(o) => o,
        _ => 0,
    };
    if offset >= f.size.max(1) {
        bail!(
            "{}+{offset:#x} is past the function's end ({} bytes)",
            spec.func,
            f.size
        );
    }
    if offset != 0 {
        let elf = object::read::elf::ElfFile64::<object::Endianness>::parse(&*exe.data)
            .map_err(|e| anyhow!("{}: {e}", exe.path.display()))?;
        let loads = maps::load_segments(&elf);
        let at = maps::svma_to_file_offset(&loads, f.start)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or_else(|| anyhow!("{}: {} lies in no segment", exe.path.display(), spec.func))?;
        let code = exe
            .data
            .get(at..at.saturating_add(f.size as usize))
            .unwrap_or_default();
        if !super::guard::is_boundary(code, offset) {
            bail!(
                "{}+{offset:#x} is not the start of an instruction: a breakpoint there would \
                 change what the CPU executes (no --force for this)",
                spec.func
            );
        }
    }
    let pc = f.start + offset;
    let dwarf_file = match syms.dwarf_data() {
        Some(d) => super::dwarf::DwarfFile::parse(d)
            .map_err(|e| anyhow!("{}: DWARF: {e}", exe.path.display()))?,
        None => None,
    };
    let wants_dwarf = spec.args.iter().any(|a| {
        matches!(a.expr, Expr::Var { .. })
            || matches!(&a.expr, Expr::Symbol { path, .. } if !path.is_empty())
    });
    let scope = match &dwarf_file {
        Some(d) if spec.at != At::Return || spec.args.iter().any(|a| a.expr == Expr::Retval) => d
            .scope(f.start, pc)
            .map_err(|e| anyhow!("{}: DWARF: {e}", exe.path.display()))?,
        _ => None,
    };
    if wants_dwarf && dwarf_file.is_none() {
        let what = spec
            .args
            .iter()
            .find(|a| !matches!(a.expr, Expr::Arg { .. } | Expr::Reg { .. } | Expr::Retval))
            .map(|a| a.name.clone())
            .unwrap_or_default();
        bail!("{}", needs_debug_info(&what, &exe, &syms));
    }
    let cfa = if offset == 0 {
        // At the first instruction the return address is at rsp: CFA = rsp + 8.
        Some((7u16, 8i64))
    } else {
        super::dwarf::cfa_rule(&exe.data, pc)
    };
    let mut values = Vec::new();
    for a in &spec.args {
        plan_arg(
            a,
            spec,
            &exe,
            &syms,
            dwarf_file.as_ref(),
            scope.as_ref(),
            cfa,
            offset == 0,
            &mut values,
        )?;
    }
    Ok(Placed {
        pid,
        addr: pc.wrapping_add(exe.bias),
        name: spec.name.clone(),
        at_return: spec.at == At::Return,
        values,
    })
}

#[allow(clippy::too_many_arguments)]
fn plan_arg(
    a: &ArgSpec,
    spec: &ProbeSpec,
    exe: &Exe,
    syms: &crate::symbols::ObjectSymbols,
    dwarf_file: Option<&super::dwarf::DwarfFile<'_>>,
    scope: Option<&super::dwarf::Scope>,
    cfa: Option<(u16, i64)>,
    at_entry: bool,
    out: &mut Vec<(String, Plan)>,
) -> Result<()> {
    let ret = spec.at == At::Return;
    let err = |why: String| anyhow!("probe '{}': {why}", spec.name.escape_default());
    match &a.expr {
        Expr::Retval => {
            let fmt = match (a.ty, scope) {
                (Some(_), _) | (None, None) => None,
                (None, Some(s)) => Some(capture::fmt_of(&s.types, s.ret, 0)),
            };
            let mut plan = capture::plan_raw(
                &ArgSpec {
                    expr: Expr::Reg {
                        reg: Reg::Rax,
                        path: Vec::new(),
                    },
                    ..a.clone()
                },
                None,
            )
            .map_err(err)?;
            if let Some(f) = fmt.filter(|f| !matches!(f, Fmt::Struct { .. } | Fmt::Elided(_))) {
                plan.fmt = f;
            }
            out.push((a.name.clone(), plan));
        }
        Expr::Arg { .. } | Expr::Var { .. } | Expr::Params | Expr::Vars if ret => {
            return Err(err(format!(
                "{}: at %return only $retval, %REG and @SYMBOL can be read (the function's \
                 parameters and locals are gone)",
                a.name
            )));
        }
        Expr::Arg { path, .. } | Expr::Reg { path, .. } if !path.is_empty() => {
            return Err(err(format!(
                "{}: ->, . and [] need a type: name the parameter instead (with debug info), \
                 e.g. 't->name'",
                a.name
            )));
        }
        Expr::Arg { .. } | Expr::Reg { .. } => {
            out.push((a.name.clone(), capture::plan_raw(a, None).map_err(err)?));
        }
        Expr::Symbol { name, path } => {
            let sym = data_symbol(&exe.data, name)
                .or_else(|| syms.dwarf_data().and_then(|d| data_symbol(d, name)))
                .ok_or_else(|| {
                    err(format!(
                        "@{name}: no such variable in the symbols of {}",
                        exe.path.display()
                    ))
                })?;
            let addr = sym.0.wrapping_add(exe.bias);
            let global = match dwarf_file {
                Some(d) => d.global(name).map_err(|e| err(format!("DWARF: {e}")))?,
                None => None,
            };
            let plan = match global {
                Some(g) => {
                    let (steps, t) =
                        capture::compile_path(&g.types, g.ty, path, &format!("@{name}"))
                            .map_err(err)?;
                    Plan {
                        root: Root::Addr(addr),
                        steps,
                        fmt: match a.ty {
                            Some(_) => capture::plan_raw(a, Some((addr, sym.1)))
                                .map(|p| p.fmt)
                                .unwrap_or(Fmt::X(8)),
                            None => capture::fmt_of(&g.types, t, 0),
                        },
                    }
                }
                None => capture::plan_raw(a, Some((addr, sym.1))).map_err(err)?,
            };
            out.push((a.name.clone(), plan));
        }
        Expr::Params | Expr::Vars if dwarf_file.is_none() => {
            // Asked for everything, given what there is: the hit says what is missing.
            crate::errln!(
                "pgstrace: warning: {}",
                needs_debug_info(&a.name, exe, syms)
            );
            out.push((
                a.name.clone(),
                Plan {
                    root: Root::Missing("without debug info"),
                    steps: Vec::new(),
                    fmt: Fmt::X(8),
                },
            ));
        }
        Expr::Var { .. } | Expr::Params | Expr::Vars => {
            let Some(scope) = scope else {
                return Err(err(format!(
                    "{}: {} has no DWARF description of {} (compiled without -g?)",
                    a.name,
                    exe.path.display(),
                    spec.func
                )));
            };
            let site = Site {
                scope,
                cfa,
                at_entry,
                bias: exe.bias,
            };
            match &a.expr {
                Expr::Var { name, path } => out.push((
                    a.name.clone(),
                    site.plan_var(name, path, a.ty, &spec.func).map_err(err)?,
                )),
                Expr::Params => out.extend(site.plan_all(true)),
                _ => out.extend(site.plan_all(false)),
            }
        }
    }
    Ok(())
}
