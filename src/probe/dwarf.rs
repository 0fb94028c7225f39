//! What DWARF says about the values at one address of a function: its parameters and the
//! locals in scope there, each with its location expression at that exact pc (a location
//! list is resolved here, once, when the probe is placed) and its type. Everything is
//! copied out of the file into owned values, so that a hit evaluates a few bytes of
//! expression and never touches DWARF again.
//!
//! Pure: it reads an ELF file's bytes and no process.

use gimli::{AttributeValue, EndianSlice, LittleEndian, UnitOffset, constants};
use object::{Object, ObjectSection};
use std::collections::HashMap;

type R<'a> = EndianSlice<'a, LittleEndian>;

/// The base encoding of a scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc {
    Signed,
    Unsigned,
    /// `char` and friends (printed as numbers, strings when pointed to).
    SignedChar,
    UnsignedChar,
    Bool,
    Float,
    Other,
}

/// A type, by its offset in its unit's type table.
pub type TyRef = usize;

/// One member of a struct or union.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Empty for an anonymous struct or union member.
    pub name: String,
    pub offset: u64,
    pub ty: Option<TyRef>,
}

/// A C type as DWARF describes it (only what printing and `->`/`.`/`[]` need).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Base {
        name: String,
        size: u64,
        enc: Enc,
    },
    /// `None`: `void *`.
    Pointer(Option<TyRef>),
    Struct {
        /// `struct` or `union`.
        kind: &'static str,
        name: Option<String>,
        size: u64,
        members: Vec<Member>,
    },
    Array {
        elem: Option<TyRef>,
        count: Option<u64>,
    },
    Enum {
        name: Option<String>,
        size: u64,
        values: Vec<(i64, String)>,
    },
    /// `typedef NAME` of `to`.
    Typedef {
        name: String,
        to: Option<TyRef>,
    },
    /// `const`, `volatile`, `restrict`, `_Atomic`.
    Qualified {
        what: &'static str,
        to: Option<TyRef>,
    },
    Function,
    Unknown,
}

/// Every type reachable from the variables of one scope.
#[derive(Clone, Debug, Default)]
pub struct Types {
    map: HashMap<TyRef, Ty>,
}

impl Types {
    /// Adds a type (for tests and hand-made tables).
    pub fn insert(&mut self, at: TyRef, ty: Ty) {
        self.map.insert(at, ty);
    }

    pub fn get(&self, t: TyRef) -> &Ty {
        self.map.get(&t).unwrap_or(&Ty::Unknown)
    }

    /// Through typedefs and qualifiers to the type that says what the bytes are.
    pub fn strip(&self, mut t: Option<TyRef>) -> Option<TyRef> {
        for _ in 0..16 {
            match t.map(|t| self.get(t)) {
                Some(Ty::Typedef { to, .. } | Ty::Qualified { to, .. }) => t = *to,
                _ => return t,
            }
        }
        None
    }

    /// The size in bytes of a value of type `t`, if known.
    pub fn size(&self, t: Option<TyRef>) -> Option<u64> {
        match self.strip(t).map(|t| self.get(t))? {
            Ty::Base { size, .. } | Ty::Struct { size, .. } | Ty::Enum { size, .. } => Some(*size),
            Ty::Pointer(_) => Some(8),
            Ty::Array { elem, count } => Some(self.size(*elem)?.checked_mul((*count)?)?),
            _ => None,
        }
    }

    /// The type as C spells it: `struct thing *`, `const char *`, `long[3]`.
    pub fn name(&self, t: Option<TyRef>) -> String {
        self.name_depth(t, 0)
    }

    fn name_depth(&self, t: Option<TyRef>, depth: usize) -> String {
        let Some(t) = t else {
            return "void".into();
        };
        if depth > 8 {
            return "...".into();
        }
        match self.get(t) {
            Ty::Base { name, .. } | Ty::Typedef { name, .. } => name.clone(),
            Ty::Pointer(to) => {
                let inner = self.name_depth(*to, depth + 1);
                if inner.ends_with('*') {
                    format!("{inner}*")
                } else {
                    format!("{inner} *")
                }
            }
            Ty::Struct { kind, name, .. } => {
                format!("{kind} {}", name.as_deref().unwrap_or("(anonymous)"))
            }
            Ty::Enum { name, .. } => format!("enum {}", name.as_deref().unwrap_or("(anonymous)")),
            Ty::Array { elem, count } => {
                let n = count.map(|c| c.to_string()).unwrap_or_default();
                format!("{}[{n}]", self.name_depth(*elem, depth + 1))
            }
            Ty::Qualified { what, to } => format!("{what} {}", self.name_depth(*to, depth + 1)),
            Ty::Function => "(function)".into(),
            Ty::Unknown => "(unknown type)".into(),
        }
    }

    /// The member `name` of struct/union `t` (looking into anonymous members), with its
    /// offset from the start of `t`.
    pub fn member(&self, t: Option<TyRef>, name: &str) -> Option<(u64, Option<TyRef>)> {
        self.member_depth(t, name, 0)
    }

    fn member_depth(
        &self,
        t: Option<TyRef>,
        name: &str,
        depth: usize,
    ) -> Option<(u64, Option<TyRef>)> {
        if depth > 8 {
            return None;
        }
        let Ty::Struct { members, .. } = self.get(self.strip(t)?) else {
            return None;
        };
        if let Some(m) = members.iter().find(|m| m.name == name) {
            return Some((m.offset, m.ty));
        }
        members.iter().filter(|m| m.name.is_empty()).find_map(|m| {
            let (off, ty) = self.member_depth(m.ty, name, depth + 1)?;
            Some((m.offset + off, ty))
        })
    }
}

/// Where a variable's value is at the pc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarLoc {
    /// A DWARF location expression (its bytes).
    Expr(Vec<u8>),
    /// `DW_AT_const_value`.
    Const(Vec<u8>),
    /// No location covers the pc.
    OptimizedOut,
}

/// A parameter or a local in scope at the pc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    pub name: String,
    pub param: bool,
    pub ty: Option<TyRef>,
    pub loc: VarLoc,
}

/// The values DWARF describes at one pc of one function.
#[derive(Clone, Debug)]
pub struct Scope {
    pub encoding: gimli::Encoding,
    /// `DW_AT_frame_base` of the function (an expression), if any.
    pub frame_base: Option<Vec<u8>>,
    /// The function's return type (`None`: void or unknown).
    pub ret: Option<TyRef>,
    pub vars: Vec<Var>,
    pub types: Types,
}

/// A global variable's type, for `@SYMBOL`.
#[derive(Clone, Debug)]
pub struct Global {
    pub ty: Option<TyRef>,
    pub types: Types,
}

/// The DWARF sections of one file, decompressed.
pub struct DwarfFile<'d> {
    sections: HashMap<gimli::SectionId, std::borrow::Cow<'d, [u8]>>,
}

impl<'d> DwarfFile<'d> {
    /// Reads the DWARF sections of an ELF file. `Ok(None)`: it has no `.debug_info`.
    pub fn parse(data: &'d [u8]) -> Result<Option<DwarfFile<'d>>, String> {
        let elf = object::File::parse(data).map_err(|e| e.to_string())?;
        if elf.section_by_name(".debug_info").is_none() {
            return Ok(None);
        }
        let mut sections = HashMap::new();
        for id in [
            gimli::SectionId::DebugAbbrev,
            gimli::SectionId::DebugAddr,
            gimli::SectionId::DebugInfo,
            gimli::SectionId::DebugLine,
            gimli::SectionId::DebugLineStr,
            gimli::SectionId::DebugLoc,
            gimli::SectionId::DebugLocLists,
            gimli::SectionId::DebugRanges,
            gimli::SectionId::DebugRngLists,
            gimli::SectionId::DebugStr,
            gimli::SectionId::DebugStrOffsets,
        ] {
            if let Some(s) = elf.section_by_name(id.name()) {
                let bytes = s
                    .uncompressed_data()
                    .map_err(|e| format!("{}: {e}", id.name()))?;
                sections.insert(id, bytes);
            }
        }
        Ok(Some(DwarfFile { sections }))
    }

    fn dwarf(&self) -> gimli::Dwarf<R<'_>> {
        gimli::Dwarf::load(|id| -> Result<R<'_>, ()> {
            Ok(EndianSlice::new(
                self.sections.get(&id).map(|c| &**c).unwrap_or(&[]),
                LittleEndian,
            ))
        })
        .unwrap_or_default()
    }

    /// The scope of the function whose entry is `func` (an SVMA), at `pc` (an SVMA in it).
    /// `Ok(None)`: DWARF has no such function.
    pub fn scope(&self, func: u64, pc: u64) -> Result<Option<Scope>, String> {
        let dwarf = self.dwarf();
        let mut headers = dwarf.units();
        while let Some(h) = headers.next().map_err(|e| e.to_string())? {
            let unit = dwarf.unit(h).map_err(|e| e.to_string())?;
            if !covers(&dwarf, &unit, func) {
                continue;
            }
            let Some(sub) = find_subprogram(&dwarf, &unit, func).map_err(|e| e.to_string())? else {
                continue;
            };
            return collect(&dwarf, &unit, sub, pc)
                .map(Some)
                .map_err(|e| e.to_string());
        }
        Ok(None)
    }

    /// The type of the global variable `name` (a definition with a location).
    pub fn global(&self, name: &str) -> Result<Option<Global>, String> {
        let dwarf = self.dwarf();
        let mut headers = dwarf.units();
        while let Some(h) = headers.next().map_err(|e| e.to_string())? {
            let unit = dwarf.unit(h).map_err(|e| e.to_string())?;
            let mut cursor = unit.entries();
            while let Some(e) = cursor.next_dfs().map_err(|e| e.to_string())? {
                if e.tag() != constants::DW_TAG_variable
                    || e.attr(constants::DW_AT_location).is_none()
                {
                    continue;
                }
                let die_name = die_name(&dwarf, &unit, e.offset(), 0);
                if die_name.as_deref() != Some(name) {
                    continue;
                }
                let ty = die_type(&unit, e.offset(), 0);
                let mut types = Types::default();
                load_types(&dwarf, &unit, ty, &mut types);
                return Ok(Some(Global { ty, types }));
            }
        }
        Ok(None)
    }
}

fn covers<'d>(dwarf: &gimli::Dwarf<R<'d>>, unit: &gimli::Unit<R<'d>>, addr: u64) -> bool {
    let Ok(mut ranges) = dwarf.unit_ranges(unit) else {
        // No usable range information: look inside.
        return true;
    };
    let mut any = false;
    while let Ok(Some(r)) = ranges.next() {
        any = true;
        if r.begin <= addr && addr < r.end {
            return true;
        }
    }
    !any
}

fn die_ranges_contain<'d>(
    dwarf: &gimli::Dwarf<R<'d>>,
    unit: &gimli::Unit<R<'d>>,
    die: &gimli::DebuggingInformationEntry<R<'d>>,
    pc: u64,
    starts: bool,
) -> bool {
    let Ok(mut ranges) = dwarf.die_ranges(unit, die) else {
        return false;
    };
    while let Ok(Some(r)) = ranges.next() {
        if if starts {
            r.begin == pc
        } else {
            r.begin <= pc && pc < r.end
        } {
            return true;
        }
    }
    false
}

fn find_subprogram<'d>(
    dwarf: &gimli::Dwarf<R<'d>>,
    unit: &gimli::Unit<R<'d>>,
    func: u64,
) -> gimli::Result<Option<UnitOffset>> {
    let mut cursor = unit.entries();
    while let Some(e) = cursor.next_dfs()? {
        if e.tag() == constants::DW_TAG_subprogram && die_ranges_contain(dwarf, unit, e, func, true)
        {
            return Ok(Some(e.offset()));
        }
    }
    Ok(None)
}

/// A DIE's name, from itself or its abstract origin / specification.
fn die_name<'d>(
    dwarf: &gimli::Dwarf<R<'d>>,
    unit: &gimli::Unit<R<'d>>,
    off: UnitOffset,
    depth: usize,
) -> Option<String> {
    let e = unit.entry(off).ok()?;
    if let Some(v) = e.attr_value(constants::DW_AT_name) {
        return dwarf
            .attr_string(unit, v)
            .ok()
            .map(|s| s.to_string_lossy().into_owned());
    }
    if depth < 4 {
        for at in [
            constants::DW_AT_abstract_origin,
            constants::DW_AT_specification,
        ] {
            if let Some(AttributeValue::UnitRef(o)) = e.attr_value(at) {
                return die_name(dwarf, unit, o, depth + 1);
            }
        }
    }
    None
}

/// A DIE's `DW_AT_type`, from itself or its abstract origin / specification.
fn die_type<'d>(unit: &gimli::Unit<R<'d>>, off: UnitOffset, depth: usize) -> Option<TyRef> {
    let e = unit.entry(off).ok()?;
    if let Some(AttributeValue::UnitRef(o)) = e.attr_value(constants::DW_AT_type) {
        return Some(o.0);
    }
    if depth < 4 {
        for at in [
            constants::DW_AT_abstract_origin,
            constants::DW_AT_specification,
        ] {
            if let Some(AttributeValue::UnitRef(o)) = e.attr_value(at) {
                return die_type(unit, o, depth + 1);
            }
        }
    }
    None
}

fn expr_bytes<'d>(e: gimli::Expression<R<'d>>) -> Vec<u8> {
    e.0.slice().to_vec()
}

/// Where the variable at `off` is at `pc`.
fn var_loc<'d>(
    dwarf: &gimli::Dwarf<R<'d>>,
    unit: &gimli::Unit<R<'d>>,
    e: &gimli::DebuggingInformationEntry<R<'d>>,
    pc: u64,
) -> VarLoc {
    match e.attr_value(constants::DW_AT_location) {
        Some(AttributeValue::Exprloc(x)) => return VarLoc::Expr(expr_bytes(x)),
        Some(v) => {
            if let Ok(Some(mut list)) = dwarf.attr_locations(unit, v) {
                while let Ok(Some(entry)) = list.next() {
                    if entry.range.begin <= pc && pc < entry.range.end {
                        return VarLoc::Expr(expr_bytes(entry.data));
                    }
                }
            }
            return VarLoc::OptimizedOut;
        }
        None => {}
    }
    match e.attr_value(constants::DW_AT_const_value) {
        Some(AttributeValue::Block(b)) => VarLoc::Const(b.slice().to_vec()),
        Some(AttributeValue::Sdata(v)) => VarLoc::Const(v.to_le_bytes().to_vec()),
        Some(v) => match v.udata_value() {
            Some(u) => VarLoc::Const(u.to_le_bytes().to_vec()),
            None => VarLoc::OptimizedOut,
        },
        None => VarLoc::OptimizedOut,
    }
}

fn collect<'d>(
    dwarf: &gimli::Dwarf<R<'d>>,
    unit: &gimli::Unit<R<'d>>,
    sub: UnitOffset,
    pc: u64,
) -> gimli::Result<Scope> {
    let entry = unit.entry(sub)?;
    let frame_base = match entry.attr_value(constants::DW_AT_frame_base) {
        Some(AttributeValue::Exprloc(x)) => Some(expr_bytes(x)),
        _ => None,
    };
    let mut vars = Vec::new();
    let mut tree = unit.entries_tree(Some(sub))?;
    let root = tree.root()?;
    walk(dwarf, unit, root, pc, &mut vars)?;
    let ret = die_type(unit, sub, 0);
    let mut types = Types::default();
    load_types(dwarf, unit, ret, &mut types);
    for v in &vars {
        load_types(dwarf, unit, v.ty, &mut types);
    }
    Ok(Scope {
        encoding: unit.encoding(),
        frame_base,
        ret,
        vars,
        types,
    })
}

fn walk<'d>(
    dwarf: &gimli::Dwarf<R<'d>>,
    unit: &gimli::Unit<R<'d>>,
    node: gimli::EntriesTreeNode<'_, '_, R<'d>>,
    pc: u64,
    vars: &mut Vec<Var>,
) -> gimli::Result<()> {
    let mut children = node.children();
    while let Some(child) = children.next()? {
        let e = child.entry().clone();
        match e.tag() {
            constants::DW_TAG_formal_parameter | constants::DW_TAG_variable => {
                let Some(name) = die_name(dwarf, unit, e.offset(), 0) else {
                    continue;
                };
                vars.push(Var {
                    name,
                    param: e.tag() == constants::DW_TAG_formal_parameter,
                    ty: die_type(unit, e.offset(), 0),
                    loc: var_loc(dwarf, unit, &e, pc),
                });
            }
            constants::DW_TAG_lexical_block if die_ranges_contain(dwarf, unit, &e, pc, false) => {
                walk(dwarf, unit, child, pc, vars)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Loads `t` and every type it reaches into `types`.
fn load_types<'d>(
    dwarf: &gimli::Dwarf<R<'d>>,
    unit: &gimli::Unit<R<'d>>,
    t: Option<TyRef>,
    types: &mut Types,
) {
    let mut work: Vec<TyRef> = t.into_iter().collect();
    // A big program's types reach far; what printing needs is near.
    while let Some(t) = work.pop() {
        if types.map.contains_key(&t) || types.map.len() > 20_000 {
            continue;
        }
        let ty = read_type(dwarf, unit, t, &mut work);
        types.map.insert(t, ty);
    }
}

fn read_type<'d>(
    dwarf: &gimli::Dwarf<R<'d>>,
    unit: &gimli::Unit<R<'d>>,
    t: TyRef,
    work: &mut Vec<TyRef>,
) -> Ty {
    let Ok(e) = unit.entry(UnitOffset(t)) else {
        return Ty::Unknown;
    };
    let name = e
        .attr_value(constants::DW_AT_name)
        .and_then(|v| dwarf.attr_string(unit, v).ok())
        .map(|s| s.to_string_lossy().into_owned());
    let size = e
        .attr_value(constants::DW_AT_byte_size)
        .and_then(|v| v.udata_value());
    let to = match e.attr_value(constants::DW_AT_type) {
        Some(AttributeValue::UnitRef(o)) => {
            work.push(o.0);
            Some(o.0)
        }
        _ => None,
    };
    match e.tag() {
        constants::DW_TAG_base_type => {
            let enc = match e.attr_value(constants::DW_AT_encoding) {
                Some(AttributeValue::Encoding(x)) => match x {
                    constants::DW_ATE_signed => Enc::Signed,
                    constants::DW_ATE_unsigned => Enc::Unsigned,
                    constants::DW_ATE_signed_char => Enc::SignedChar,
                    constants::DW_ATE_unsigned_char | constants::DW_ATE_UTF => Enc::UnsignedChar,
                    constants::DW_ATE_boolean => Enc::Bool,
                    constants::DW_ATE_float => Enc::Float,
                    _ => Enc::Other,
                },
                _ => Enc::Other,
            };
            Ty::Base {
                name: name.unwrap_or_else(|| "(base)".into()),
                size: size.unwrap_or(0),
                enc,
            }
        }
        constants::DW_TAG_pointer_type | constants::DW_TAG_reference_type => Ty::Pointer(to),
        constants::DW_TAG_typedef => Ty::Typedef {
            name: name.unwrap_or_default(),
            to,
        },
        constants::DW_TAG_const_type => Ty::Qualified { what: "const", to },
        constants::DW_TAG_volatile_type => Ty::Qualified {
            what: "volatile",
            to,
        },
        constants::DW_TAG_restrict_type => Ty::Qualified {
            what: "restrict",
            to,
        },
        constants::DW_TAG_atomic_type => Ty::Qualified {
            what: "_Atomic",
            to,
        },
        constants::DW_TAG_subroutine_type => Ty::Function,
        constants::DW_TAG_structure_type
        | constants::DW_TAG_union_type
        | constants::DW_TAG_class_type => {
            let mut members = Vec::new();
            if let Ok(mut tree) = unit.entries_tree(Some(UnitOffset(t)))
                && let Ok(root) = tree.root()
            {
                let mut children = root.children();
                while let Ok(Some(c)) = children.next() {
                    let m = c.entry();
                    if m.tag() != constants::DW_TAG_member {
                        continue;
                    }
                    let mname = m
                        .attr_value(constants::DW_AT_name)
                        .and_then(|v| dwarf.attr_string(unit, v).ok())
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let offset = m
                        .attr_value(constants::DW_AT_data_member_location)
                        .and_then(|v| v.udata_value())
                        .unwrap_or(0);
                    let ty = match m.attr_value(constants::DW_AT_type) {
                        Some(AttributeValue::UnitRef(o)) => {
                            work.push(o.0);
                            Some(o.0)
                        }
                        _ => None,
                    };
                    members.push(Member {
                        name: mname,
                        offset,
                        ty,
                    });
                }
            }
            Ty::Struct {
                kind: if e.tag() == constants::DW_TAG_union_type {
                    "union"
                } else {
                    "struct"
                },
                name,
                size: size.unwrap_or(0),
                members,
            }
        }
        constants::DW_TAG_array_type => {
            let mut count = None;
            if let Ok(mut tree) = unit.entries_tree(Some(UnitOffset(t)))
                && let Ok(root) = tree.root()
            {
                let mut children = root.children();
                while let Ok(Some(c)) = children.next() {
                    let s = c.entry();
                    if s.tag() != constants::DW_TAG_subrange_type {
                        continue;
                    }
                    count = s
                        .attr_value(constants::DW_AT_count)
                        .and_then(|v| v.udata_value())
                        .or_else(|| {
                            s.attr_value(constants::DW_AT_upper_bound)
                                .and_then(|v| v.udata_value())
                                .map(|u| u + 1)
                        });
                    // Only the first dimension: `a[i]` of a 2-D array is not supported.
                    break;
                }
            }
            Ty::Array { elem: to, count }
        }
        constants::DW_TAG_enumeration_type => {
            let mut values = Vec::new();
            if let Ok(mut tree) = unit.entries_tree(Some(UnitOffset(t)))
                && let Ok(root) = tree.root()
            {
                let mut children = root.children();
                while let Ok(Some(c)) = children.next() {
                    let en = c.entry();
                    if en.tag() != constants::DW_TAG_enumerator {
                        continue;
                    }
                    let n = en
                        .attr_value(constants::DW_AT_name)
                        .and_then(|v| dwarf.attr_string(unit, v).ok())
                        .map(|s| s.to_string_lossy().into_owned());
                    let v = en.attr_value(constants::DW_AT_const_value).and_then(|v| {
                        v.sdata_value()
                            .or_else(|| v.udata_value().map(|u| u as i64))
                    });
                    if let (Some(n), Some(v)) = (n, v) {
                        values.push((v, n));
                    }
                }
            }
            Ty::Enum {
                name,
                size: size.unwrap_or(4),
                values,
            }
        }
        _ => Ty::Unknown,
    }
}

/// The CFA rule at `svma` from `.eh_frame`: `(DWARF register, offset)`, CFA = reg + offset.
pub fn cfa_rule(data: &[u8], svma: u64) -> Option<(u16, i64)> {
    use gimli::UnwindSection as _;
    let elf = object::File::parse(data).ok()?;
    let sec = elf.section_by_name(".eh_frame")?;
    let bytes = sec.data().ok()?;
    let eh = gimli::EhFrame::new(bytes, LittleEndian);
    let mut bases = gimli::BaseAddresses::default().set_eh_frame(sec.address());
    if let Some(t) = elf.section_by_name(".text") {
        bases = bases.set_text(t.address());
    }
    if let Some(g) = elf.section_by_name(".got") {
        bases = bases.set_got(g.address());
    }
    let mut ctx = gimli::UnwindContext::new();
    let row = eh
        .unwind_info_for_address(&bases, &mut ctx, svma, gimli::EhFrame::cie_from_offset)
        .ok()?;
    match row.cfa() {
        gimli::CfaRule::RegisterAndOffset { register, offset } => Some((register.0, *offset)),
        gimli::CfaRule::Expression(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::ObjectSymbol;

    /// fixtures/vars.c built `-O2 -g`, and its symbols' addresses.
    fn fixture() -> (Vec<u8>, HashMap<String, u64>) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("vars");
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/vars.c");
        let ok = std::process::Command::new("gcc")
            .args(["-O2", "-g", "-o"])
            .arg(&out)
            .arg(src)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "gcc on {src} (run bash .ci/setup)");
        let data = std::fs::read(&out).unwrap_or_else(|e| panic!("{e}"));
        let elf = object::File::parse(&*data).unwrap_or_else(|e| panic!("{e}"));
        let syms = elf
            .symbols()
            .filter_map(|s| Some((s.name().ok()?.to_string(), s.address())))
            .collect();
        (data, syms)
    }

    #[test]
    fn scopes_types_and_locations_of_the_fixture() {
        let (data, syms) = fixture();
        let dw = DwarfFile::parse(&data)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no DWARF"));
        let visit = syms["visit"];
        let s = dw
            .scope(visit, visit)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no scope for visit"));
        let names: Vec<(&str, bool)> = s.vars.iter().map(|v| (v.name.as_str(), v.param)).collect();
        assert_eq!(&names[..3], [("t", true), ("weight", true), ("sum", false)]);
        let t = &s.vars[0];
        assert_eq!(s.types.name(t.ty), "struct thing *");
        assert_eq!(s.types.name(s.vars[1].ty), "int");
        assert_eq!(s.types.name(s.ret), "long int");
        // At entry t is in rdi (DW_OP_reg5), whatever the location list says later.
        assert_eq!(t.loc, VarLoc::Expr(vec![0x55]));
        let Some(Ty::Pointer(thing)) = t.ty.map(|t| s.types.get(t)) else {
            panic!("t is no pointer");
        };
        let member = |n: &str| {
            s.types
                .member(*thing, n)
                .map(|(o, ty)| (o, s.types.name(ty)))
        };
        assert_eq!(member("id"), Some((0, "int".into())));
        assert_eq!(member("kind"), Some((4, "enum kind".into())));
        assert_eq!(member("name"), Some((8, "const char *".into())));
        assert_eq!(member("vals"), Some((16, "long int[3]".into())));
        assert_eq!(member("next"), Some((40, "struct thing *".into())));
        assert_eq!(member("nope"), None);
        let kind = s
            .types
            .member(*thing, "kind")
            .and_then(|(_, t)| s.types.strip(t));
        let Some(Ty::Enum { values, .. }) = kind.map(|k| s.types.get(k)) else {
            panic!("kind is no enum");
        };
        assert!(values.contains(&(7, "KIND_C".into())), "{values:?}");

        // A struct passed by value lives in the caller's frame: DW_OP_fbreg from the CFA.
        let weigh = syms["weigh"];
        let w = dw
            .scope(weigh, weigh)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no scope for weigh"));
        assert_eq!(w.frame_base, Some(vec![0x9c]));
        assert!(matches!(&w.vars[0].loc, VarLoc::Expr(e) if e.first() == Some(&0x91)));
        // Past the entry the CFA rule comes from .eh_frame.
        assert_eq!(cfa_rule(&data, visit + 3), Some((7, 8)));
        assert_eq!(
            dw.scope(visit + 1, visit + 1).ok().flatten().map(|_| ()),
            None
        );

        let g = dw
            .global("rounds")
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no global rounds"));
        assert_eq!(g.types.name(g.ty), "long int");
        assert!(dw.global("no_such_global").ok().flatten().is_none());
    }

    #[test]
    fn no_dwarf_is_none_and_garbage_is_an_error() {
        assert!(DwarfFile::parse(b"not an elf").is_err());
        let me = std::fs::read("/proc/self/exe").unwrap_or_default();
        // The test binary has DWARF of its own (debug build) or none (release): either way no panic.
        let _ = DwarfFile::parse(&me).map(|d| d.map(|d| d.scope(0, 0)));
    }
}
