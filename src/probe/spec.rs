//! Probe specs in perf probe's syntax, parsed without touching any process:
//!
//! ```text
//! SPEC := [NAME=]FUNC[+OFFS|%return] [ARG ...]
//! ARG  := [NAME=]EXPR[:TYPE]
//! EXPR := VAR{->FIELD|.FIELD|[INDEX]} | $argN | %REG | @SYMBOL | $retval | $params | $vars
//! TYPE := u8|u16|u32|u64|s8|s16|s32|s64|x8|x16|x32|x64|string
//! ```
//!
//! One SPEC is one command-line argument (`'dsm_create size=$arg1:u64'`). Every error is one
//! line that names the spec and what is wrong with it.

use std::fmt;

/// Where in the function the probe fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The first instruction.
    Entry,
    /// A byte offset from the function's start (must be an instruction boundary).
    Offset(u64),
    /// When the function returns (`%return`).
    Return,
}

/// One step from a value to a part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// `->field`: through a pointer.
    Arrow(String),
    /// `.field`: a member of a struct value.
    Dot(String),
    /// `[i]`: an array element, or through a pointer.
    Index(u64),
}

/// A general-purpose register by its perf name (`%di`, `%rdi`, `%ax`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    Rax,
    Rbx,
    Rcx,
    Rdx,
    Rsi,
    Rdi,
    Rbp,
    Rsp,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
    Rip,
}

impl Reg {
    fn parse(name: &str) -> Option<Reg> {
        let n = name
            .strip_prefix('r')
            .filter(|n| n.len() == 2 && !n.starts_with(|c: char| c.is_ascii_digit()));
        let n = n.unwrap_or(name);
        Some(match n {
            "ax" => Reg::Rax,
            "bx" => Reg::Rbx,
            "cx" => Reg::Rcx,
            "dx" => Reg::Rdx,
            "si" => Reg::Rsi,
            "di" => Reg::Rdi,
            "bp" => Reg::Rbp,
            "sp" => Reg::Rsp,
            "ip" => Reg::Rip,
            "r8" => Reg::R8,
            "r9" => Reg::R9,
            "r10" => Reg::R10,
            "r11" => Reg::R11,
            "r12" => Reg::R12,
            "r13" => Reg::R13,
            "r14" => Reg::R14,
            "r15" => Reg::R15,
            _ => return None,
        })
    }

    /// The register's value in a register set.
    pub fn of(self, r: &libc::user_regs_struct) -> u64 {
        match self {
            Reg::Rax => r.rax,
            Reg::Rbx => r.rbx,
            Reg::Rcx => r.rcx,
            Reg::Rdx => r.rdx,
            Reg::Rsi => r.rsi,
            Reg::Rdi => r.rdi,
            Reg::Rbp => r.rbp,
            Reg::Rsp => r.rsp,
            Reg::R8 => r.r8,
            Reg::R9 => r.r9,
            Reg::R10 => r.r10,
            Reg::R11 => r.r11,
            Reg::R12 => r.r12,
            Reg::R13 => r.r13,
            Reg::R14 => r.r14,
            Reg::R15 => r.r15,
            Reg::Rip => r.rip,
        }
    }

    /// The System V argument register of `$argN` (1-based).
    pub fn arg(n: u8) -> Option<Reg> {
        [Reg::Rdi, Reg::Rsi, Reg::Rdx, Reg::Rcx, Reg::R8, Reg::R9]
            .get(usize::from(n).checked_sub(1)?)
            .copied()
    }
}

/// What an ARG reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A parameter or local by name (needs DWARF), then accesses.
    Var { name: String, path: Vec<Access> },
    /// `$argN`: the Nth integer argument register at entry (1..=6), then accesses.
    Arg { n: u8, path: Vec<Access> },
    /// `%REG`, then accesses.
    Reg { reg: Reg, path: Vec<Access> },
    /// `@SYMBOL`: a global variable, then accesses.
    Symbol { name: String, path: Vec<Access> },
    /// `$retval` (with `%return`).
    Retval,
    /// `$params`: every parameter.
    Params,
    /// `$vars`: every variable in scope.
    Vars,
}

/// How a value is printed (`:TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// Unsigned decimal of that many bits.
    U(u8),
    /// Signed decimal.
    S(u8),
    /// Hexadecimal.
    X(u8),
    /// A NUL-terminated string the value points to.
    String,
}

impl Type {
    fn parse(t: &str) -> Option<Type> {
        if t == "string" {
            return Some(Type::String);
        }
        let (kind, bits) = t.split_at(1.min(t.len()));
        let bits: u8 = bits.parse().ok().filter(|b| [8, 16, 32, 64].contains(b))?;
        match kind {
            "u" => Some(Type::U(bits)),
            "s" => Some(Type::S(bits)),
            "x" => Some(Type::X(bits)),
            _ => None,
        }
    }
}

/// One value to capture at each hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    /// `NAME=`, else the ARG's own text without its type (`t->name`, `$arg1`).
    pub name: String,
    pub expr: Expr,
    pub ty: Option<Type>,
}

/// One probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSpec {
    /// `NAME=`, else the function's name (with `%return` or `+OFFS`).
    pub name: String,
    pub func: String,
    pub at: At,
    pub args: Vec<ArgSpec>,
}

/// Why a spec was refused: one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    pub spec: String,
    pub why: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "probe '{}': {}", self.spec.escape_default(), self.why)
    }
}

impl std::error::Error for SpecError {}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A number as perf takes it: decimal or `0x` hex.
fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The accesses after an expression's base: `->a.b[3]`.
fn accesses(mut s: &str) -> Result<Vec<Access>, String> {
    let mut out = Vec::new();
    while !s.is_empty() {
        let field = |rest: &str| -> (String, usize) {
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (rest[..n].to_string(), n)
        };
        if let Some(rest) = s.strip_prefix("->") {
            let (f, n) = field(rest);
            if !is_ident(&f) {
                return Err(format!(
                    "'->' must be followed by a field name, not '{rest}'"
                ));
            }
            out.push(Access::Arrow(f));
            s = &rest[n..];
        } else if let Some(rest) = s.strip_prefix('.') {
            let (f, n) = field(rest);
            if !is_ident(&f) {
                return Err(format!(
                    "'.' must be followed by a field name, not '{rest}'"
                ));
            }
            out.push(Access::Dot(f));
            s = &rest[n..];
        } else if let Some(rest) = s.strip_prefix('[') {
            let Some(end) = rest.find(']') else {
                return Err("'[' without ']'".into());
            };
            let i = number(&rest[..end])
                .ok_or_else(|| format!("'[{}]' is not an index", &rest[..end]))?;
            out.push(Access::Index(i));
            s = &rest[end + 1..];
        } else {
            return Err(format!(
                "unexpected '{s}' (want ->field, .field or [index])"
            ));
        }
    }
    if out.len() > super::MAX_DEREFS {
        return Err(format!("at most {} accesses per value", super::MAX_DEREFS));
    }
    Ok(out)
}

/// Splits `text` where the base (identifier, `$x`, `%x`, `@x`) ends.
fn base_and_rest(text: &str) -> (&str, &str) {
    let start = usize::from(text.starts_with(['$', '%', '@']));
    let n = text[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(text.len(), |i| i + start);
    text.split_at(n)
}

fn parse_expr(text: &str) -> Result<Expr, String> {
    let (base, rest) = base_and_rest(text);
    let path = accesses(rest)?;
    let no_path = |e: Expr, what: &str| {
        if path.is_empty() {
            Ok(e)
        } else {
            Err(format!("{what} takes no ->, . or []"))
        }
    };
    if let Some(v) = base.strip_prefix('$') {
        return match v {
            "retval" => no_path(Expr::Retval, "$retval"),
            "params" => no_path(Expr::Params, "$params"),
            "vars" => no_path(Expr::Vars, "$vars"),
            _ => match v.strip_prefix("arg").and_then(|n| n.parse::<u8>().ok()) {
                Some(n) if (1..=6).contains(&n) => Ok(Expr::Arg { n, path }),
                _ => Err(format!(
                    "'{base}' is not $arg1..$arg6, $retval, $params or $vars"
                )),
            },
        };
    }
    if let Some(r) = base.strip_prefix('%') {
        return match Reg::parse(r) {
            Some(reg) => Ok(Expr::Reg { reg, path }),
            None => Err(format!("'{base}' is not an x86-64 register")),
        };
    }
    if let Some(sym) = base.strip_prefix('@') {
        return if is_ident(sym) {
            Ok(Expr::Symbol {
                name: sym.to_string(),
                path,
            })
        } else {
            Err(format!("'{base}' is not a symbol name"))
        };
    }
    if is_ident(base) {
        Ok(Expr::Var {
            name: base.to_string(),
            path,
        })
    } else {
        Err(format!(
            "'{text}' is not a variable, $argN, %REG or @SYMBOL"
        ))
    }
}

fn parse_arg(text: &str) -> Result<ArgSpec, String> {
    let (name, rest) = match text.split_once('=') {
        Some((n, r)) if is_ident(n) => (Some(n.to_string()), r),
        Some((n, _)) => return Err(format!("'{n}' is not a name for a value")),
        None => (None, text),
    };
    let (expr_text, ty) = match rest.rsplit_once(':') {
        Some((e, t)) => (
            e,
            Some(Type::parse(t).ok_or_else(|| {
                format!("':{t}' is not a type (u8..u64, s8..s64, x8..x64, string)")
            })?),
        ),
        None => (rest, None),
    };
    if expr_text.is_empty() {
        return Err("an empty value".into());
    }
    let expr = parse_expr(expr_text)?;
    Ok(ArgSpec {
        name: name.unwrap_or_else(|| expr_text.to_string()),
        expr,
        ty,
    })
}

/// Parses one spec.
pub fn parse(spec: &str) -> Result<ProbeSpec, SpecError> {
    let err = |why: String| SpecError {
        spec: spec.to_string(),
        why,
    };
    let mut words = spec.split_whitespace();
    let Some(head) = words.next() else {
        return Err(err("empty".into()));
    };
    let (name, point) = match head.split_once('=') {
        Some((n, p)) if is_ident(n) => (Some(n.to_string()), p),
        Some((n, _)) => return Err(err(format!("'{n}' is not a probe name"))),
        None => (None, head),
    };
    let (func, at) = if let Some(f) = point.strip_suffix("%return") {
        (f, At::Return)
    } else if let Some((f, off)) = point.split_once('+') {
        let off = number(off).ok_or_else(|| err(format!("'+{off}' is not an offset")))?;
        (f, At::Offset(off))
    } else {
        (point, At::Entry)
    };
    if !is_ident(func) {
        return Err(err(format!("'{func}' is not a function name")));
    }
    let mut args = Vec::new();
    for w in words {
        let a = parse_arg(w).map_err(|why| err(format!("{}: {why}", w.escape_default())))?;
        if a.expr == Expr::Retval && at != At::Return {
            return Err(err("$retval needs FUNC%return".into()));
        }
        if matches!(a.expr, Expr::Arg { .. }) && at == At::Return {
            return Err(err(
                "$argN is the register at entry: not available at %return".into(),
            ));
        }
        args.push(a);
    }
    Ok(ProbeSpec {
        name: name.unwrap_or_else(|| point.to_string()),
        func: func.to_string(),
        at,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> ProbeSpec {
        parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn bad(s: &str) -> String {
        match parse(s) {
            Ok(p) => panic!("{s} parsed: {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn points() {
        let p = ok("dsm_create");
        assert_eq!(
            (p.name.as_str(), p.func.as_str(), p.at),
            ("dsm_create", "dsm_create", At::Entry)
        );
        assert_eq!(ok("f+0x10").at, At::Offset(16));
        assert_eq!(ok("f+16").at, At::Offset(16));
        let p = ok("ret=f%return $retval");
        assert_eq!((p.name.as_str(), p.at), ("ret", At::Return));
        assert_eq!(p.args[0].expr, Expr::Retval);
    }

    #[test]
    fn args() {
        let p = ok("dsm_create size=$arg1:u64 $arg2 t->name:string %di x.a[3]->b @NBuffers:s32");
        let a = &p.args;
        assert_eq!(a[0].name, "size");
        assert_eq!(a[0].expr, Expr::Arg { n: 1, path: vec![] });
        assert_eq!(a[0].ty, Some(Type::U(64)));
        assert_eq!(a[1].name, "$arg2");
        assert_eq!(a[2].name, "t->name");
        assert_eq!(
            a[2].expr,
            Expr::Var {
                name: "t".into(),
                path: vec![Access::Arrow("name".into())]
            }
        );
        assert_eq!(a[2].ty, Some(Type::String));
        assert_eq!(
            a[3].expr,
            Expr::Reg {
                reg: Reg::Rdi,
                path: vec![]
            }
        );
        assert_eq!(
            a[4].expr,
            Expr::Var {
                name: "x".into(),
                path: vec![
                    Access::Dot("a".into()),
                    Access::Index(3),
                    Access::Arrow("b".into())
                ]
            }
        );
        assert_eq!(
            a[5].expr,
            Expr::Symbol {
                name: "NBuffers".into(),
                path: vec![]
            }
        );
        assert_eq!(a[5].ty, Some(Type::S(32)));
        assert_eq!(ok("f $params $vars").args[1].expr, Expr::Vars);
        assert_eq!(
            ok("f %rdi %r12 %ip").args[1].expr,
            Expr::Reg {
                reg: Reg::R12,
                path: vec![]
            }
        );
    }

    #[test]
    fn refusals_are_one_line_and_say_what() {
        for (s, want) in [
            ("", "empty"),
            ("9f", "not a function name"),
            ("f+zz", "not an offset"),
            ("f $arg7", "$arg1..$arg6"),
            ("f $arg1:u7", "not a type"),
            ("f %xyz", "not an x86-64 register"),
            ("f t->", "field name"),
            ("f a[1", "without ']'"),
            ("f $retval", "needs FUNC%return"),
            ("f%return $arg1", "not available at %return"),
            ("f 1x=$arg1", "not a name"),
            ("f $params->x", "takes no"),
            ("f a->b->c->d->e->f->g->h->i->j", "at most 8"),
        ] {
            let e = bad(s);
            assert!(e.contains(want), "{s:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn registers_of_args() {
        assert_eq!(Reg::arg(1), Some(Reg::Rdi));
        assert_eq!(Reg::arg(6), Some(Reg::R9));
        assert_eq!(Reg::arg(0), None);
        assert_eq!(Reg::arg(7), None);
    }
}
