//! What one ARG reads at a hit, decided when the probe is placed ([`Plan`]), and the reading
//! itself ([`capture`]): registers, a DWARF location expression evaluated with the hit's
//! registers and memory, then the accesses (`->f`, `.f`, `[i]`), then the bytes formatted by
//! type. Every read goes through [`Mem`]: a fault is a value, never a signal in the tracee,
//! and at most [`super::MAX_DEREFS`] pointers are followed per value.
//!
//! Pure: the registers and the memory are handed in.

use super::dwarf::{Enc, Scope, Ty, TyRef, Types, Var, VarLoc};
use super::spec::{Access, ArgSpec, Expr, Reg, Type};
use gimli::{EndianSlice, EvaluationResult, LittleEndian, Location, Value};

/// Reads of the tracee's memory at a hit.
pub trait Mem {
    /// Fills `buf` from `addr`, or says why not.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Miss>;
}

/// Why a read gave nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Miss {
    /// Not mapped, or not readable.
    Fault,
    /// Not read on purpose: the backend was in a critical section and only its registers
    /// and stack were copied.
    Withheld,
}

impl Mem for &dyn crate::syscalls::Tracee {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Miss> {
        if self.read_mem(addr, buf) == buf.len() {
            Ok(())
        } else {
            Err(Miss::Fault)
        }
    }
}

/// Memory as copied at a hit in a critical section: the stack from rsp up, nothing else.
pub struct StackCopy<'a> {
    pub rsp: u64,
    pub bytes: &'a [u8],
}

impl Mem for StackCopy<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Miss> {
        let off = addr.checked_sub(self.rsp).ok_or(Miss::Withheld)?;
        let off = usize::try_from(off).map_err(|_| Miss::Withheld)?;
        let src = self
            .bytes
            .get(off..off.saturating_add(buf.len()))
            .ok_or(Miss::Withheld)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// How a value's bytes are printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fmt {
    U(u8),
    S(u8),
    X(u8),
    Bool(u8),
    Float(u8),
    /// A pointer to a NUL-terminated string.
    CStr,
    /// A char array held in place, of this many bytes.
    CharArray(u64),
    Enum {
        size: u8,
        signed: bool,
        values: Vec<(i64, String)>,
    },
    /// A pointer, in hex.
    Pointer,
    /// A struct or union: its scalar members, one level deep.
    Struct {
        size: u64,
        members: Vec<(String, u64, Fmt)>,
    },
    /// A nested struct, array or anything else not printed inline.
    Elided(&'static str),
}

/// Where a value starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Root {
    Reg(Reg),
    /// A DWARF location expression.
    Expr {
        expr: Vec<u8>,
        encoding: gimli::Encoding,
        frame_base: Option<Vec<u8>>,
        /// CFA = register (DWARF number) + offset at the probed pc.
        cfa: Option<(u16, i64)>,
        /// The probe is at the function's entry (so `DW_OP_entry_value` is the register).
        at_entry: bool,
        /// The load bias, for `DW_OP_addr`.
        bias: u64,
    },
    /// A global's runtime address.
    Addr(u64),
    /// Known bytes (`DW_AT_const_value`).
    Const(Vec<u8>),
    OptimizedOut,
    /// Cannot be had at all, and why (`$params` without debug info).
    Missing(&'static str),
}

/// One step of `->f`, `.f`, `[i]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The value is a pointer: go to where it points.
    Deref,
    /// Move within the object in memory.
    Offset(u64),
}

/// What one ARG reads, decided once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub root: Root,
    pub steps: Vec<Step>,
    pub fmt: Fmt,
}

/// One captured value.
#[derive(Clone, Debug, PartialEq)]
pub enum Captured {
    UInt(u64),
    Int(i64),
    Hex(u64),
    Bool(bool),
    Float(f64),
    /// An enumerator's name, or the number when no enumerator has it.
    Enum(i64, Option<String>),
    /// A C string (bytes, cut at the limit).
    Str(Vec<u8>, bool),
    /// A NULL pointer where a string was asked for.
    Null,
    Struct(Vec<(String, Captured)>),
    Elided(&'static str),
    /// The address could not be read: a value, never a signal in the tracee.
    Fault,
    OptimizedOut,
    /// Not read: the backend was in a critical section.
    Withheld,
    NotAvailable(&'static str),
}

impl Captured {
    pub fn text(&self) -> String {
        match self {
            Captured::UInt(v) => v.to_string(),
            Captured::Int(v) => v.to_string(),
            Captured::Hex(v) => format!("{v:#x}"),
            Captured::Bool(b) => b.to_string(),
            Captured::Float(f) => f.to_string(),
            Captured::Enum(_, Some(n)) => crate::util::escape(n),
            Captured::Enum(v, None) => v.to_string(),
            Captured::Str(b, cut) => {
                let mut s = String::from("\"");
                crate::syscalls::notation::push_escaped_bytes(&mut s, b, false);
                s.push('"');
                if *cut {
                    s.push_str("...");
                }
                s
            }
            Captured::Null => "(null)".into(),
            Captured::Struct(m) => {
                let inner: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{}={}", crate::util::escape(k), v.text()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
            Captured::Elided(what) => format!("{{{what}}}"),
            Captured::Fault => "(fault)".into(),
            Captured::OptimizedOut => "(optimized out)".into(),
            Captured::Withheld => "(not read: critical section)".into(),
            Captured::NotAvailable(why) if why.starts_with("without") => {
                format!("(not available {why})")
            }
            Captured::NotAvailable(why) => format!("(not available: {why})"),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Captured::UInt(v) => json!(v),
            Captured::Int(v) => json!(v),
            Captured::Hex(v) => json!(format!("{v:#x}")),
            Captured::Bool(b) => json!(b),
            Captured::Float(f) => json!(f),
            Captured::Enum(_, Some(n)) => json!(n),
            Captured::Enum(v, None) => json!(v),
            Captured::Str(b, cut) => {
                let mut s = String::from_utf8_lossy(b).into_owned();
                if *cut {
                    s.push_str("...");
                }
                json!(s)
            }
            Captured::Null => serde_json::Value::Null,
            Captured::Struct(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.json())).collect())
            }
            Captured::Elided(what) => json!({ "elided": what }),
            Captured::Fault => json!({"fault": true}),
            Captured::OptimizedOut => json!({"optimized_out": true}),
            Captured::Withheld => json!({"withheld": "critical section"}),
            Captured::NotAvailable(why) => json!({ "not_available": why }),
        }
    }
}

/// The format of a DWARF type.
pub fn fmt_of(types: &Types, t: Option<TyRef>, depth: usize) -> Fmt {
    let Some(s) = types.strip(t) else {
        return Fmt::X(8);
    };
    let int = |size: u64| u8::try_from(size).ok().filter(|s| [1, 2, 4, 8].contains(s));
    match types.get(s) {
        Ty::Base { size, enc, .. } => match (enc, int(*size)) {
            (Enc::Signed | Enc::SignedChar, Some(b)) => Fmt::S(b),
            (Enc::Unsigned | Enc::UnsignedChar, Some(b)) => Fmt::U(b),
            (Enc::Bool, Some(b)) => Fmt::Bool(b),
            (Enc::Float, Some(b @ (4 | 8))) => Fmt::Float(b),
            (_, Some(b)) => Fmt::X(b),
            _ => Fmt::Elided("..."),
        },
        Ty::Pointer(to) => {
            let to = types.strip(*to);
            match to.map(|t| types.get(t)) {
                Some(Ty::Base {
                    size: 1,
                    enc: Enc::SignedChar | Enc::UnsignedChar,
                    ..
                }) => Fmt::CStr,
                _ => Fmt::Pointer,
            }
        }
        Ty::Enum { size, values, .. } => Fmt::Enum {
            size: int(*size).unwrap_or(4),
            signed: values.iter().any(|(v, _)| *v < 0),
            values: values.clone(),
        },
        Ty::Array { elem, count } => {
            let e = types.strip(*elem).map(|t| types.get(t));
            match (e, count) {
                (
                    Some(Ty::Base {
                        size: 1,
                        enc: Enc::SignedChar | Enc::UnsignedChar,
                        ..
                    }),
                    Some(n),
                ) => Fmt::CharArray(*n),
                _ => Fmt::Elided("..."),
            }
        }
        Ty::Struct { size, members, .. } if depth == 0 => Fmt::Struct {
            size: *size,
            members: members
                .iter()
                .map(|m| (m.name.clone(), m.offset, fmt_of(types, m.ty, depth + 1)))
                .collect(),
        },
        Ty::Struct { .. } => Fmt::Elided("..."),
        _ => Fmt::Elided("?"),
    }
}

/// The format a `:TYPE` asks for.
fn fmt_of_user(t: Type) -> Fmt {
    match t {
        Type::U(b) => Fmt::U(b / 8),
        Type::S(b) => Fmt::S(b / 8),
        Type::X(b) => Fmt::X(b / 8),
        Type::String => Fmt::CStr,
    }
}

/// The plan of an ARG without DWARF: `$argN`, `%REG`, `@SYMBOL` (its address given).
pub fn plan_raw(arg: &ArgSpec, symbol: Option<(u64, u64)>) -> Result<Plan, String> {
    let (root, size) = match &arg.expr {
        Expr::Arg { n, path } if path.is_empty() => {
            (Root::Reg(Reg::arg(*n).ok_or("no such argument")?), 8)
        }
        Expr::Reg { reg, path } if path.is_empty() => (Root::Reg(*reg), 8),
        Expr::Symbol { path, .. } if path.is_empty() => {
            let (addr, size) = symbol.ok_or("no such symbol")?;
            (Root::Addr(addr), size.clamp(1, 8))
        }
        _ => return Err(format!("{}: needs DWARF types", arg.name)),
    };
    let fmt = match arg.ty {
        Some(t) => fmt_of_user(t),
        None => Fmt::X(u8::try_from(size).unwrap_or(8).next_power_of_two().min(8)),
    };
    Ok(Plan {
        root,
        steps: Vec::new(),
        fmt,
    })
}

/// The steps of `path` from a value of type `t`, and the type reached.
pub fn compile_path(
    types: &Types,
    mut t: Option<TyRef>,
    path: &[Access],
    what: &str,
) -> Result<(Vec<Step>, Option<TyRef>), String> {
    let mut steps = Vec::new();
    let mut shown = what.to_string();
    for a in path {
        let s = types.strip(t);
        match (a, s.map(|s| types.get(s))) {
            (Access::Arrow(f), Some(Ty::Pointer(to))) => {
                let (off, mt) = types
                    .member(*to, f)
                    .ok_or_else(|| format!("{shown} has type {}: no member {f}", types.name(t)))?;
                steps.extend([Step::Deref, Step::Offset(off)]);
                t = mt;
                shown = format!("{shown}->{f}");
            }
            (Access::Arrow(f), Some(Ty::Struct { .. })) => {
                return Err(format!(
                    "{shown} has type {}, not a pointer: use {shown}.{f}",
                    types.name(t)
                ));
            }
            (Access::Dot(f), Some(Ty::Struct { .. })) => {
                let (off, mt) = types
                    .member(s, f)
                    .ok_or_else(|| format!("{shown} has type {}: no member {f}", types.name(t)))?;
                steps.push(Step::Offset(off));
                t = mt;
                shown = format!("{shown}.{f}");
            }
            (Access::Dot(f), Some(Ty::Pointer(_))) => {
                return Err(format!(
                    "{shown} has type {}, a pointer: use {shown}->{f}",
                    types.name(t)
                ));
            }
            (Access::Index(i), Some(Ty::Pointer(to))) => {
                let size = types
                    .size(*to)
                    .ok_or_else(|| format!("{shown} points to a type of unknown size"))?;
                steps.extend([Step::Deref, Step::Offset(i.saturating_mul(size))]);
                t = *to;
                shown = format!("{shown}[{i}]");
            }
            (Access::Index(i), Some(Ty::Array { elem, count })) => {
                if count.is_some_and(|c| *i >= c) {
                    return Err(format!(
                        "{shown}[{i}] is past the end of {} (type {})",
                        shown,
                        types.name(t)
                    ));
                }
                let size = types
                    .size(*elem)
                    .ok_or_else(|| format!("{shown} holds a type of unknown size"))?;
                steps.push(Step::Offset(i.saturating_mul(size)));
                t = *elem;
                shown = format!("{shown}[{i}]");
            }
            (a, _) => {
                let op = match a {
                    Access::Arrow(f) => format!("->{f}"),
                    Access::Dot(f) => format!(".{f}"),
                    Access::Index(i) => format!("[{i}]"),
                };
                return Err(format!(
                    "{shown} has type {}: {op} does not apply",
                    types.name(t)
                ));
            }
        }
    }
    if steps.iter().filter(|s| **s == Step::Deref).count() > super::MAX_DEREFS {
        return Err(format!(
            "{what}: more than {} dereferences",
            super::MAX_DEREFS
        ));
    }
    Ok((steps, t))
}

/// What the probe site knows, to plan values by name.
pub struct Site<'a> {
    pub scope: &'a Scope,
    pub cfa: Option<(u16, i64)>,
    pub at_entry: bool,
    pub bias: u64,
}

impl Site<'_> {
    fn root(&self, v: &Var) -> Root {
        match &v.loc {
            VarLoc::Expr(e) => Root::Expr {
                expr: e.clone(),
                encoding: self.scope.encoding,
                frame_base: self.scope.frame_base.clone(),
                cfa: self.cfa,
                at_entry: self.at_entry,
                bias: self.bias,
            },
            VarLoc::Const(b) => Root::Const(b.clone()),
            VarLoc::OptimizedOut => Root::OptimizedOut,
        }
    }

    /// The plan of a variable by name with its accesses.
    pub fn plan_var(
        &self,
        name: &str,
        path: &[Access],
        user: Option<Type>,
        func: &str,
    ) -> Result<Plan, String> {
        let v = self
            .scope
            .vars
            .iter()
            .rev()
            .find(|v| v.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = self.scope.vars.iter().map(|v| v.name.as_str()).collect();
                format!(
                    "{func} has no parameter or local named {name} here (it has: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            })?;
        let (steps, t) = compile_path(&self.scope.types, v.ty, path, name)?;
        let fmt = match user {
            Some(u) => fmt_of_user(u),
            None => fmt_of(&self.scope.types, t, 0),
        };
        Ok(Plan {
            root: self.root(v),
            steps,
            fmt,
        })
    }

    /// `$params` or `$vars`: one (name, plan) per variable.
    pub fn plan_all(&self, params_only: bool) -> Vec<(String, Plan)> {
        self.scope
            .vars
            .iter()
            .filter(|v| v.param || !params_only)
            .map(|v| {
                (
                    v.name.clone(),
                    Plan {
                        root: self.root(v),
                        steps: Vec::new(),
                        fmt: fmt_of(&self.scope.types, v.ty, 0),
                    },
                )
            })
            .collect()
    }
}

/// A value on its way: where it is.
#[derive(Clone, Debug, PartialEq)]
enum Loc {
    Mem(u64),
    /// The value itself (a register's, a computed one), little-endian.
    Bytes(Vec<u8>),
}

fn dwarf_reg(n: u16, r: &libc::user_regs_struct) -> Option<u64> {
    Some(match n {
        0 => r.rax,
        1 => r.rdx,
        2 => r.rcx,
        3 => r.rbx,
        4 => r.rsi,
        5 => r.rdi,
        6 => r.rbp,
        7 => r.rsp,
        8 => r.r8,
        9 => r.r9,
        10 => r.r10,
        11 => r.r11,
        12 => r.r12,
        13 => r.r13,
        14 => r.r14,
        15 => r.r15,
        16 => r.rip,
        _ => return None,
    })
}

/// Why an expression gave no location.
enum NoLoc {
    Miss(Miss),
    OptimizedOut,
    Unsupported(&'static str),
}

fn eval_expr<'a>(
    expr: &'a [u8],
    encoding: gimli::Encoding,
    ctx: &EvalCtx<'a>,
    depth: usize,
) -> Result<Vec<gimli::Piece<EndianSlice<'a, LittleEndian>>>, NoLoc> {
    let mut eval = gimli::Evaluation::new(EndianSlice::new(expr, LittleEndian), encoding);
    let mut state = eval.evaluate();
    let mut steps = 0;
    loop {
        steps += 1;
        if steps > 64 {
            return Err(NoLoc::Unsupported("expression too long"));
        }
        let r = match state {
            Ok(EvaluationResult::Complete) => break,
            Ok(EvaluationResult::RequiresRegister { register, .. }) => {
                let v = dwarf_reg(register.0, ctx.regs).ok_or(NoLoc::Unsupported("register"))?;
                eval.resume_with_register(Value::Generic(v))
            }
            Ok(EvaluationResult::RequiresMemory { address, size, .. }) => {
                let mut b = [0u8; 8];
                let n = usize::from(size).min(8);
                ctx.mem.read(address, &mut b[..n]).map_err(NoLoc::Miss)?;
                eval.resume_with_memory(Value::Generic(u64::from_le_bytes(b)))
            }
            Ok(EvaluationResult::RequiresCallFrameCfa) => {
                let (reg, off) = ctx.cfa.ok_or(NoLoc::Unsupported("no CFA rule here"))?;
                let v = dwarf_reg(reg, ctx.regs).ok_or(NoLoc::Unsupported("CFA register"))?;
                eval.resume_with_call_frame_cfa(v.wrapping_add_signed(off))
            }
            Ok(EvaluationResult::RequiresFrameBase) => {
                let fb = ctx.frame_base.ok_or(NoLoc::Unsupported("no frame base"))?;
                if depth > 0 {
                    return Err(NoLoc::Unsupported("nested frame base"));
                }
                let pieces = eval_expr(fb, encoding, ctx, depth + 1)?;
                let base = match pieces.first().map(|p| &p.location) {
                    Some(Location::Address { address }) => *address,
                    Some(Location::Register { register }) => {
                        dwarf_reg(register.0, ctx.regs).ok_or(NoLoc::Unsupported("register"))?
                    }
                    _ => return Err(NoLoc::Unsupported("frame base")),
                };
                eval.resume_with_frame_base(base)
            }
            Ok(EvaluationResult::RequiresEntryValue(inner)) => {
                if !ctx.at_entry || depth > 0 {
                    return Err(NoLoc::OptimizedOut);
                }
                let pieces = eval_expr(inner.0.slice(), encoding, ctx, depth + 1)?;
                let v = match pieces.first().map(|p| &p.location) {
                    Some(Location::Register { register }) => {
                        dwarf_reg(register.0, ctx.regs).ok_or(NoLoc::Unsupported("register"))?
                    }
                    Some(Location::Value { value }) => value.to_u64(!0).unwrap_or(0),
                    _ => return Err(NoLoc::OptimizedOut),
                };
                eval.resume_with_entry_value(Value::Generic(v))
            }
            Ok(EvaluationResult::RequiresRelocatedAddress(a)) => {
                eval.resume_with_relocated_address(a.wrapping_add(ctx.bias))
            }
            Ok(EvaluationResult::RequiresBaseType(_)) => {
                eval.resume_with_base_type(gimli::ValueType::Generic)
            }
            Ok(EvaluationResult::RequiresTls(_)) => {
                return Err(NoLoc::Unsupported("thread-local"));
            }
            Ok(_) => return Err(NoLoc::Unsupported("DWARF operation")),
            Err(_) => return Err(NoLoc::Unsupported("malformed expression")),
        };
        state = r;
    }
    Ok(eval.result())
}

struct EvalCtx<'a> {
    regs: &'a libc::user_regs_struct,
    mem: &'a dyn Mem,
    cfa: Option<(u16, i64)>,
    frame_base: Option<&'a [u8]>,
    at_entry: bool,
    bias: u64,
}

fn value_bytes(v: &Value) -> Vec<u8> {
    match *v {
        Value::Generic(x) | Value::U64(x) => x.to_le_bytes().to_vec(),
        Value::I64(x) => x.to_le_bytes().to_vec(),
        Value::U32(x) => x.to_le_bytes().to_vec(),
        Value::I32(x) => x.to_le_bytes().to_vec(),
        Value::U16(x) => x.to_le_bytes().to_vec(),
        Value::I16(x) => x.to_le_bytes().to_vec(),
        Value::U8(x) => vec![x],
        Value::I8(x) => vec![x as u8],
        Value::F32(x) => x.to_le_bytes().to_vec(),
        Value::F64(x) => x.to_le_bytes().to_vec(),
    }
}

fn root_loc(root: &Root, regs: &libc::user_regs_struct, mem: &dyn Mem) -> Result<Loc, Captured> {
    match root {
        Root::Reg(r) => Ok(Loc::Bytes(r.of(regs).to_le_bytes().to_vec())),
        Root::Addr(a) => Ok(Loc::Mem(*a)),
        Root::Const(b) => Ok(Loc::Bytes(b.clone())),
        Root::OptimizedOut => Err(Captured::OptimizedOut),
        Root::Missing(why) => Err(Captured::NotAvailable(why)),
        Root::Expr {
            expr,
            encoding,
            frame_base,
            cfa,
            at_entry,
            bias,
        } => {
            let ctx = EvalCtx {
                regs,
                mem,
                cfa: *cfa,
                frame_base: frame_base.as_deref(),
                at_entry: *at_entry,
                bias: *bias,
            };
            let pieces = eval_expr(expr, *encoding, &ctx, 0).map_err(|e| match e {
                NoLoc::Miss(Miss::Fault) => Captured::Fault,
                NoLoc::Miss(Miss::Withheld) => Captured::Withheld,
                NoLoc::OptimizedOut => Captured::OptimizedOut,
                NoLoc::Unsupported(why) => Captured::NotAvailable(why),
            })?;
            let whole = |l: &Location<EndianSlice<'_, LittleEndian>>| -> Result<Loc, Captured> {
                Ok(match l {
                    Location::Empty => return Err(Captured::OptimizedOut),
                    Location::Register { register } => Loc::Bytes(
                        dwarf_reg(register.0, regs)
                            .ok_or(Captured::NotAvailable("register"))?
                            .to_le_bytes()
                            .to_vec(),
                    ),
                    Location::Address { address } => Loc::Mem(*address),
                    Location::Value { value } => Loc::Bytes(value_bytes(value)),
                    Location::Bytes { value } => Loc::Bytes(value.slice().to_vec()),
                    Location::ImplicitPointer { .. } => {
                        return Err(Captured::NotAvailable("implicit pointer"));
                    }
                })
            };
            match pieces.as_slice() {
                [] => Err(Captured::OptimizedOut),
                [one] => whole(&one.location),
                many => {
                    // Pieces: the value assembled byte by byte (whole-byte pieces only).
                    let mut out = Vec::new();
                    for p in many {
                        let bytes = p
                            .size_in_bits
                            .map(|b| (b / 8) as usize)
                            .ok_or(Captured::NotAvailable("piece"))?;
                        let mut part = match whole(&p.location)? {
                            Loc::Mem(a) => {
                                let mut b = vec![0u8; bytes.min(64)];
                                mem.read(a, &mut b).map_err(miss)?;
                                b
                            }
                            Loc::Bytes(b) => b,
                        };
                        part.resize(bytes, 0);
                        out.extend(part);
                    }
                    Ok(Loc::Bytes(out))
                }
            }
        }
    }
}

fn miss(m: Miss) -> Captured {
    match m {
        Miss::Fault => Captured::Fault,
        Miss::Withheld => Captured::Withheld,
    }
}

fn read_u64(loc: &Loc, mem: &dyn Mem) -> Result<u64, Captured> {
    let mut b = [0u8; 8];
    match loc {
        Loc::Mem(a) => mem.read(*a, &mut b).map_err(miss)?,
        Loc::Bytes(v) => {
            let n = v.len().min(8);
            b[..n].copy_from_slice(&v[..n]);
        }
    }
    Ok(u64::from_le_bytes(b))
}

fn bytes_of(loc: &Loc, size: usize, mem: &dyn Mem) -> Result<Vec<u8>, Captured> {
    match loc {
        Loc::Mem(a) => {
            let mut b = vec![0u8; size];
            mem.read(*a, &mut b).map_err(miss)?;
            Ok(b)
        }
        Loc::Bytes(v) => {
            let mut b = v.clone();
            b.resize(size, 0);
            Ok(b)
        }
    }
}

fn scalar(bytes: &[u8], size: u8) -> u64 {
    let mut b = [0u8; 8];
    let n = usize::from(size).min(8).min(bytes.len());
    b[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(b)
}

fn sign_extend(v: u64, size: u8) -> i64 {
    let shift = 64 - 8 * u32::from(size.clamp(1, 8));
    ((v << shift) as i64) >> shift
}

fn format(fmt: &Fmt, loc: &Loc, mem: &dyn Mem, string_limit: usize) -> Captured {
    let sized = |size: u8| bytes_of(loc, usize::from(size), mem).map(|b| scalar(&b, size));
    let r = (|| -> Result<Captured, Captured> {
        Ok(match fmt {
            Fmt::U(s) => Captured::UInt(sized(*s)?),
            Fmt::S(s) => Captured::Int(sign_extend(sized(*s)?, *s)),
            Fmt::X(s) => Captured::Hex(sized(*s)?),
            Fmt::Bool(s) => Captured::Bool(sized(*s)? != 0),
            Fmt::Float(4) => Captured::Float(f64::from(f32::from_bits(sized(4)? as u32))),
            Fmt::Float(_) => Captured::Float(f64::from_bits(sized(8)?)),
            Fmt::Pointer => Captured::Hex(sized(8)?),
            Fmt::Enum {
                size,
                signed,
                values,
            } => {
                let raw = sized(*size)?;
                let v = if *signed {
                    sign_extend(raw, *size)
                } else {
                    raw as i64
                };
                Captured::Enum(
                    v,
                    values.iter().find(|(x, _)| *x == v).map(|(_, n)| n.clone()),
                )
            }
            Fmt::CStr => {
                let p = sized(8)?;
                if p == 0 {
                    return Ok(Captured::Null);
                }
                read_cstr(mem, p, string_limit)?
            }
            Fmt::CharArray(n) => {
                let Loc::Mem(a) = loc else {
                    return Ok(Captured::NotAvailable("array not in memory"));
                };
                let want = usize::try_from(*n).unwrap_or(usize::MAX).min(string_limit);
                let b = bytes_of(&Loc::Mem(*a), want, mem)?;
                let end = b.iter().position(|&c| c == 0);
                let cut = end.is_none() && (*n as usize) > want;
                Captured::Str(b[..end.unwrap_or(b.len())].to_vec(), cut)
            }
            Fmt::Struct { size, members } => {
                let size = usize::try_from(*size).unwrap_or(0).min(4096);
                let b = bytes_of(loc, size, mem)?;
                let base = match loc {
                    Loc::Mem(a) => Some(*a),
                    Loc::Bytes(_) => None,
                };
                let mut out = Vec::new();
                for (name, off, f) in members.iter().take(32) {
                    let off = usize::try_from(*off).unwrap_or(usize::MAX);
                    let inner = match base {
                        Some(a) => Loc::Mem(a + off as u64),
                        None => Loc::Bytes(b.get(off..).unwrap_or_default().to_vec()),
                    };
                    let v = match f {
                        Fmt::Struct { .. } => Captured::Elided("..."),
                        _ => format(f, &inner, mem, string_limit),
                    };
                    out.push((
                        if name.is_empty() {
                            "(anon)".into()
                        } else {
                            name.clone()
                        },
                        v,
                    ));
                }
                Captured::Struct(out)
            }
            Fmt::Elided(what) => Captured::Elided(what),
        })
    })();
    r.unwrap_or_else(|e| e)
}

fn read_cstr(mem: &dyn Mem, addr: u64, limit: usize) -> Result<Captured, Captured> {
    let mut out = Vec::new();
    let mut cur = addr;
    while out.len() < limit {
        // Chunks that do not cross a page, so a string ending before an unmapped page reads.
        let room = 4096 - (cur % 4096) as usize;
        let mut b = vec![0u8; room.min(64).min(limit - out.len())];
        let mut got = mem.read(cur, &mut b);
        if got.is_err() && b.len() > 1 {
            // The string may end just before what cannot be read: a byte at a time.
            b.truncate(1);
            got = mem.read(cur, &mut b);
        }
        if let Err(m) = got {
            if out.is_empty() {
                return Err(miss(m));
            }
            // Whatever was read, with the cut shown.
            return Ok(Captured::Str(out, true));
        }
        if let Some(end) = b.iter().position(|&c| c == 0) {
            out.extend_from_slice(&b[..end]);
            return Ok(Captured::Str(out, false));
        }
        cur += b.len() as u64;
        out.extend(b);
    }
    Ok(Captured::Str(out, true))
}

/// The value of `plan` at a hit.
pub fn capture(
    plan: &Plan,
    regs: &libc::user_regs_struct,
    mem: &dyn Mem,
    string_limit: usize,
) -> Captured {
    let mut loc = match root_loc(&plan.root, regs, mem) {
        Ok(l) => l,
        Err(c) => return c,
    };
    for s in &plan.steps {
        loc = match (s, loc) {
            (Step::Deref, l) => match read_u64(&l, mem) {
                // Through a NULL pointer: nothing there to read.
                Ok(0) => return Captured::Fault,
                Ok(p) => Loc::Mem(p),
                Err(c) => return c,
            },
            (Step::Offset(o), Loc::Mem(a)) => Loc::Mem(a.wrapping_add(*o)),
            (Step::Offset(o), Loc::Bytes(b)) => {
                Loc::Bytes(b.get(*o as usize..).unwrap_or_default().to_vec())
            }
        };
    }
    format(&plan.fmt, &loc, mem, string_limit)
}

#[cfg(test)]
mod tests {
    use super::super::dwarf::{Member, Types};
    use super::*;

    /// Memory of a fake process: (address, bytes) regions.
    struct Fake(Vec<(u64, Vec<u8>)>);

    impl Mem for Fake {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Miss> {
            for (base, bytes) in &self.0 {
                if let Some(off) = addr.checked_sub(*base)
                    && let Some(src) = bytes.get(off as usize..off as usize + buf.len())
                {
                    buf.copy_from_slice(src);
                    return Ok(());
                }
            }
            Err(Miss::Fault)
        }
    }

    fn regs() -> libc::user_regs_struct {
        // SAFETY: a plain C struct of integers; all zeroes is a valid value.
        let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        r.rdi = 0x1000;
        r.rsi = (-3i64) as u64;
        r.rsp = 0x7000;
        r
    }

    fn encoding() -> gimli::Encoding {
        gimli::Encoding {
            address_size: 8,
            format: gimli::Format::Dwarf32,
            version: 5,
        }
    }

    fn expr(bytes: &[u8], at_entry: bool) -> Root {
        Root::Expr {
            expr: bytes.to_vec(),
            encoding: encoding(),
            frame_base: Some(vec![0x9c]),
            cfa: Some((7, 8)),
            at_entry,
            bias: 0,
        }
    }

    /// struct thing { int id; const char *name (at 8); struct thing *next (at 16); }
    fn types() -> (Types, usize, usize) {
        let mut t = Types::default();
        let int = 1;
        let ch = 2;
        let cch = 3;
        let pcch = 4;
        let thing = 5;
        let pthing = 6;
        t.insert(
            int,
            Ty::Base {
                name: "int".into(),
                size: 4,
                enc: Enc::Signed,
            },
        );
        t.insert(
            ch,
            Ty::Base {
                name: "char".into(),
                size: 1,
                enc: Enc::SignedChar,
            },
        );
        t.insert(
            cch,
            Ty::Qualified {
                what: "const",
                to: Some(ch),
            },
        );
        t.insert(pcch, Ty::Pointer(Some(cch)));
        t.insert(
            thing,
            Ty::Struct {
                kind: "struct",
                name: Some("thing".into()),
                size: 24,
                members: vec![
                    Member {
                        name: "id".into(),
                        offset: 0,
                        ty: Some(int),
                    },
                    Member {
                        name: "name".into(),
                        offset: 8,
                        ty: Some(pcch),
                    },
                    Member {
                        name: "next".into(),
                        offset: 16,
                        ty: Some(pthing),
                    },
                ],
            },
        );
        t.insert(pthing, Ty::Pointer(Some(thing)));
        (t, thing, pthing)
    }

    fn memory() -> Fake {
        let mut a = Vec::new();
        a.extend(7i32.to_le_bytes());
        a.extend([0; 4]);
        a.extend(0x3000u64.to_le_bytes());
        a.extend(0x2000u64.to_le_bytes());
        let mut b = Vec::new();
        b.extend(8i32.to_le_bytes());
        b.extend([0; 4]);
        b.extend(0u64.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        // The stack: a return address at rsp, then a struct passed by value at CFA.
        let mut stack = 0xdeadu64.to_le_bytes().to_vec();
        stack.extend(&a);
        Fake(vec![
            (0x1000, a),
            (0x2000, b),
            (0x3000, b"alpha\0".to_vec()),
            (0x7000, stack),
        ])
    }

    fn plan(types: &Types, root: Root, ty: usize, path: &[Access]) -> Plan {
        let (steps, t) = compile_path(types, Some(ty), path, "t").unwrap_or_else(|e| panic!("{e}"));
        Plan {
            root,
            steps,
            fmt: fmt_of(types, t, 0),
        }
    }

    #[test]
    fn registers_pointer_chains_and_strings() {
        let (t, _, pthing) = types();
        let m = memory();
        let r = regs();
        let at =
            |path: &[Access]| capture(&plan(&t, expr(&[0x55], true), pthing, path), &r, &m, 64);
        use Access::{Arrow, Dot};
        assert_eq!(at(&[]), Captured::Hex(0x1000));
        assert_eq!(at(&[Arrow("id".into())]), Captured::Int(7));
        assert_eq!(
            at(&[Arrow("name".into())]),
            Captured::Str(b"alpha".to_vec(), false)
        );
        assert_eq!(
            at(&[Arrow("next".into()), Arrow("id".into())]),
            Captured::Int(8)
        );
        // b's name is NULL: a string value of (null); b's next is NULL: through it, a fault.
        assert_eq!(
            at(&[Arrow("next".into()), Arrow("name".into())]),
            Captured::Null
        );
        assert_eq!(
            at(&[
                Arrow("next".into()),
                Arrow("next".into()),
                Arrow("id".into())
            ]),
            Captured::Fault
        );
        // A pointer where a struct member was meant: refused when planned, not at the hit.
        assert!(compile_path(&t, Some(pthing), &[Dot("id".into())], "t").is_err());
        assert!(compile_path(&t, Some(pthing), &[Arrow("nope".into())], "t").is_err());
        // -s: strings cut, and said so.
        let p = plan(&t, expr(&[0x55], true), pthing, &[Arrow("name".into())]);
        assert_eq!(capture(&p, &r, &m, 3), Captured::Str(b"alp".to_vec(), true));
    }

    #[test]
    fn frame_base_struct_by_value_and_entry_values() {
        let (t, thing, _) = types();
        let m = memory();
        let r = regs();
        // DW_OP_fbreg 0 with frame base DW_OP_call_frame_cfa: the struct at rsp + 8.
        let p = plan(
            &t,
            expr(&[0x91, 0x00], true),
            thing,
            &[Access::Dot("id".into())],
        );
        assert_eq!(capture(&p, &r, &m, 64), Captured::Int(7));
        let whole = plan(&t, expr(&[0x91, 0x00], true), thing, &[]);
        match capture(&whole, &r, &m, 64) {
            Captured::Struct(members) => {
                assert_eq!(members[0], ("id".into(), Captured::Int(7)));
                assert_eq!(
                    members[1],
                    ("name".into(), Captured::Str(b"alpha".to_vec(), false))
                );
            }
            other => panic!("{other:?}"),
        }
        // DW_OP_entry_value(DW_OP_reg4); DW_OP_stack_value: the register at entry, and
        // "optimized out" anywhere else.
        let ev = [0xa3, 0x01, 0x54, 0x9f];
        let int = |root| Plan {
            root,
            steps: Vec::new(),
            fmt: Fmt::S(4),
        };
        assert_eq!(
            capture(&int(expr(&ev, true)), &r, &m, 64),
            Captured::Int(-3)
        );
        assert_eq!(
            capture(&int(expr(&ev, false)), &r, &m, 64),
            Captured::OptimizedOut
        );
        assert_eq!(
            capture(&int(Root::OptimizedOut), &r, &m, 64),
            Captured::OptimizedOut
        );
        // DW_OP_lit5; DW_OP_stack_value.
        assert_eq!(
            capture(&int(expr(&[0x35, 0x9f], false)), &r, &m, 64),
            Captured::Int(5)
        );
        // Garbage never panics.
        for junk in [&[0xffu8][..], &[0x91], &[0x06], &[0x96, 0x96]] {
            let _ = capture(&int(expr(junk, false)), &r, &m, 64);
        }
    }

    #[test]
    fn critical_sections_read_only_the_stack_copy() {
        let (t, thing, pthing) = types();
        let m = memory();
        let r = regs();
        let stack = m.0[3].1.clone();
        let copy = StackCopy {
            rsp: 0x7000,
            bytes: &stack,
        };
        let id = plan(
            &t,
            expr(&[0x91, 0x00], true),
            thing,
            &[Access::Dot("id".into())],
        );
        assert_eq!(capture(&id, &r, &copy, 64), Captured::Int(7));
        let heap = plan(
            &t,
            expr(&[0x55], true),
            pthing,
            &[Access::Arrow("id".into())],
        );
        assert_eq!(capture(&heap, &r, &copy, 64), Captured::Withheld);
        assert_eq!(Captured::Withheld.text(), "(not read: critical section)");
    }

    #[test]
    fn raw_values_and_user_types() {
        let m = memory();
        let r = regs();
        let arg = |text: &str| {
            let spec =
                super::super::spec::parse(&format!("f {text}")).unwrap_or_else(|e| panic!("{e}"));
            capture(
                &plan_raw(&spec.args[0], Some((0x1000, 4))).unwrap_or_else(|e| panic!("{e}")),
                &r,
                &m,
                64,
            )
        };
        assert_eq!(arg("$arg1"), Captured::Hex(0x1000));
        assert_eq!(arg("$arg2:s32"), Captured::Int(-3));
        assert_eq!(arg("$arg2:u8"), Captured::UInt(0xfd));
        assert_eq!(arg("%sp:x16"), Captured::Hex(0x7000));
        assert_eq!(arg("@g"), Captured::Hex(7));
        assert_eq!(arg("@g:s32"), Captured::Int(7));
        assert_eq!(arg("$arg1:u64"), Captured::UInt(0x1000));
    }
}
