//! ELF/DWARF symbolization: file-relative addresses (SVMA) in, function names out. No ptrace,
//! no process: the unwinder turns runtime addresses (AVMA) into (object, SVMA) and asks here.
//!
//! This module owns:
//! - [`ObjectSymbols`]: everything known about one object file: its function symbols
//!   (`.symtab`, else the debug file's `.symtab`, else `.dynsym`; STT_FUNC and
//!   STT_GNU_IFUNC only), the function bounds of its `.eh_frame` FDEs, its separate debug
//!   file, and (loaded on first use) its DWARF lines and inlined frames;
//! - [`SymbolCache`]: one shared, parsed `ObjectSymbols` per build-id (else per file
//!   identity), so fifty backends of one postgres share one table;
//! - the debug-file search ([`DebugStatus`] says what was found, or why nothing was).
//!
//! The rule that matters (domain notes §3): a symbol names an address only if
//! `start <= svma < start + size` (a zero-sized symbol only at `svma == start`). strace names
//! the nearest preceding exported symbol instead, which on Debian's stripped postgres gives
//! `reset_on_dsm_detach+0x255` for an address in the static `dsm_impl_posix`. Here such an
//! address comes back as [`Lookup::Unnamed`] with the start of its FDE, printable as
//! `(+0x1f5)` against the true start of the function.
//!
//! Lookup order for `lookup(svma, with_lines)`:
//! 1. the symbol table: [`Lookup::Symbol`] with `source` Symtab or Dynsym;
//! 2. if `with_lines` and DWARF exists: a DWARF function (static functions in an object
//!    that has DWARF but no `.symtab`), with start and size from its FDE
//!    (`source: Dwarf`); without an FDE no DWARF name is given, as its start is unknown;
//! 3. the FDE: [`Lookup::Unnamed`] `{ start, offset }`;
//! 4. [`Lookup::Unknown`].
//!
//! For a return address (any frame but the innermost) use
//! [`ObjectSymbols::lookup_return_address`], which looks inside the call instruction.
//!
//! With `with_lines`, a symbol also gets `location` (file:line in the outermost function)
//! and `inlined` (inlined calls at that address, innermost first, each with its file:line).
//! DWARF is read only for `with_lines` lookups (parsed on the first one: ~60 ms for libc).
//! Names are not demangled (PostgreSQL and libc are C); `.symver` suffixes
//! (`@@GLIBC_2.2.5`) are dropped. Aliases at one address print as one name: a sized
//! symbol over a zero-sized one, then global over weak over local, then the shortest, then
//! the first in the table (`write`, not `__libc_write`); the tests'
//! `ObjectSymbols::symbol_by_name` finds every alias.

pub(crate) mod backing;
mod cache;
mod debugfile;
pub mod demangle;
mod dwarf;
mod fde;
mod table;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use object::read::elf::ElfFile64;
use object::{Endianness, Object};

use backing::Backing;
pub use cache::SymbolCache;
pub use debugfile::DebugStatus;
#[cfg(test)]
pub use debugfile::{Attempt, DebugVia, Refusal};
pub use dwarf::{InlinedFrame, SourceLocation};
use fde::FdeIndex;
use table::{SymbolTable, Which};

/// How to load object files.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Debug roots searched in order (`ROOT/.build-id/..`, `ROOT/<dir>/<debuglink>`).
    pub debug_roots: Vec<PathBuf>,
    /// Look for separate debug files at all.
    pub search_debug_files: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            debug_roots: vec![PathBuf::from("/usr/lib/debug")],
            search_debug_files: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SymbolsError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{name} is not a 64-bit ELF file: {msg}")]
    NotElf { name: String, msg: String },
}

/// Where a symbol's name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolSource {
    Symtab,
    Dynsym,
    Dwarf,
}

/// A function that contains the looked-up address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolHit<'a> {
    pub name: Cow<'a, str>,
    /// SVMA of the function's first byte.
    pub start: u64,
    pub size: u64,
    /// `svma - start`.
    pub offset: u64,
    pub source: SymbolSource,
    /// file:line of the address in the outermost function (only with `with_lines`).
    pub location: Option<SourceLocation>,
    /// Inlined calls at the address, innermost first (only with `with_lines`).
    pub inlined: Vec<InlinedFrame>,
}

/// The answer for one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    Symbol(SymbolHit<'a>),
    /// No symbol covers the address, but an FDE does: a function (static, stripped) whose
    /// true start is known.
    Unnamed {
        start: u64,
        offset: u64,
    },
    /// Nothing: no symbol and no FDE (asm without CFI, data, or a wrong address).
    Unknown,
}

/// strace's text between the parentheses of a `-k` frame: `name+0xoff`, `+0xoff` for an
/// unnamed function (offset from its true start), empty when nothing is known.
impl fmt::Display for Lookup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lookup::Symbol(s) => write!(f, "{}+{:#x}", s.name, s.offset),
            Lookup::Unnamed { offset, .. } => write!(f, "+{offset:#x}"),
            Lookup::Unknown => Ok(()),
        }
    }
}

/// A loadable segment: file bytes `[offset, offset + filesz)` appear at `vaddr`.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
struct Segment {
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

/// A function of an object file, as [`ObjectSymbols::functions`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// File address (SVMA) of its first byte.
    pub start: u64,
    pub size: u64,
    /// `None`: known only from its FDE.
    pub name: Option<String>,
}

/// Symbols of one object file. Cheap to share (`Arc`), immutable apart from the DWARF
/// context loaded on first use.
pub struct ObjectSymbols {
    name: String,
    build_id: Option<Box<[u8]>>,
    table: Option<(SymbolTable, SymbolSource)>,
    fdes: FdeIndex,
    #[cfg(test)]
    fde_error: Option<String>,
    #[cfg(test)]
    segments: Vec<Segment>,
    debug: DebugStatus,
    /// The file (object or debug file) whose DWARF is used, parsed on first use.
    dwarf_file: Option<Arc<Backing>>,
    dwarf: OnceLock<Result<Option<dwarf::Dwarf>, String>>,
}

impl fmt::Debug for ObjectSymbols {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectSymbols")
            .field("name", &self.name)
            .field("build_id", &self.build_id_hex())
            .field("symbols", &self.table.as_ref().map(|(t, s)| (t.len(), *s)))
            .field("fdes", &self.fdes.len())
            .field("debug", &self.debug)
            .finish()
    }
}

impl ObjectSymbols {
    /// Loads the object file at `path` (mapped, not read), and searches its debug file.
    /// The tracer goes through [`SymbolCache::get`], which shares one load per object.
    #[cfg(test)]
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<ObjectSymbols, SymbolsError> {
        let (file, data) = open_mapped(path)?;
        drop(file);
        let name = path.to_string_lossy().into_owned();
        Self::from_backing(name, Some(path), Arc::new(data), opts)
    }

    /// Loads an object from memory, e.g. the vDSO image read from a process (`name` is
    /// only for display, like `[vdso]`). Only the build-id path is searched for a debug file.
    #[cfg(test)]
    pub fn from_bytes(
        name: &str,
        bytes: Vec<u8>,
        opts: &LoadOptions,
    ) -> Result<ObjectSymbols, SymbolsError> {
        Self::from_backing(name.to_owned(), None, Arc::new(Backing::Owned(bytes)), opts)
    }

    fn from_backing(
        name: String,
        path: Option<&Path>,
        data: Arc<Backing>,
        opts: &LoadOptions,
    ) -> Result<ObjectSymbols, SymbolsError> {
        let elf = parse_elf(&name, &data)?;
        let build_id = elf.build_id().ok().flatten().map(Box::from);
        let own_symtab = SymbolTable::from_elf(&data, &elf, Which::Symtab);
        let own_dwarf = elf.section_by_name(".debug_info").is_some();
        // The indexing error is only reported to the tests (FDEs before it are still used).
        let (fdes, _fde_error) = FdeIndex::from_elf(&elf);

        let (debug_file, debug) = if own_symtab.is_some() && own_dwarf {
            (None, DebugStatus::NotNeeded)
        } else if !opts.search_debug_files {
            (None, DebugStatus::NotSearched)
        } else {
            let wanted = debugfile::Wanted {
                path,
                build_id: build_id.as_deref(),
                debuglink: elf.gnu_debuglink().ok().flatten(),
            };
            debugfile::search(&wanted, &opts.debug_roots)
        };

        let mut table = own_symtab.map(|t| (t, SymbolSource::Symtab));
        let mut dwarf_file = own_dwarf.then(|| Arc::clone(&data));
        if let Some(df) = &debug_file {
            // Checked when found; parsing again is cheap (headers only).
            if let Ok(delf) = ElfFile64::<Endianness>::parse(df.data.bytes()) {
                if table.is_none() {
                    table = SymbolTable::from_elf(&df.data, &delf, Which::Symtab)
                        .map(|t| (t, SymbolSource::Symtab));
                }
                if dwarf_file.is_none() && delf.section_by_name(".debug_info").is_some() {
                    dwarf_file = Some(Arc::clone(&df.data));
                }
            }
        }
        if table.is_none() {
            table = SymbolTable::from_elf(&data, &elf, Which::Dynsym)
                .map(|t| (t, SymbolSource::Dynsym));
        }
        Ok(ObjectSymbols {
            name,
            build_id,
            table,
            fdes,
            #[cfg(test)]
            fde_error: _fde_error,
            #[cfg(test)]
            segments: segments(&elf),
            debug,
            dwarf_file,
            dwarf: OnceLock::new(),
        })
    }

    /// The path given to `load`, or the name given to `from_bytes`.
    #[cfg(test)]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The GNU build-id note's bytes.
    pub fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_deref()
    }

    /// The build-id as lowercase hex, as in `.build-id/NN/REST.debug`.
    pub fn build_id_hex(&self) -> Option<String> {
        self.build_id().map(debugfile::hex)
    }

    /// Which debug file is used, or why none is.
    #[cfg(test)]
    pub fn debug_status(&self) -> &DebugStatus {
        &self.debug
    }

    /// Where names come from (`None`: no function symbol at all, FDEs only).
    #[cfg(test)]
    pub fn symbol_source(&self) -> Option<SymbolSource> {
        self.table.as_ref().map(|(_, s)| *s)
    }

    /// Number of function symbols (after merging aliases) and of FDEs.
    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize) {
        (
            self.table.as_ref().map_or(0, |(t, _)| t.len()),
            self.fdes.len(),
        )
    }

    /// An error met while indexing `.eh_frame` (the FDEs before it are still used).
    #[cfg(test)]
    pub fn fde_error(&self) -> Option<&str> {
        self.fde_error.as_deref()
    }

    /// Whether DWARF (own or from the debug file) is available for `with_lines`.
    #[cfg(test)]
    pub fn has_dwarf(&self) -> bool {
        self.dwarf_file.is_some()
    }

    /// The bytes of the file whose DWARF describes this object (itself or its debug file),
    /// for readers of DWARF beyond lines (probe variables).
    pub fn dwarf_data(&self) -> Option<&[u8]> {
        self.dwarf_file.as_deref().map(Backing::bytes)
    }

    /// Where debug info was looked for and why none was used: for a message that tells how
    /// to get it.
    pub fn debug_search(&self) -> String {
        self.debug.to_string()
    }

    /// An error met while loading DWARF on first use, if any.
    #[cfg(test)]
    pub fn dwarf_error(&self) -> Option<&str> {
        match self.dwarf.get() {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }

    /// Converts a file offset (`AVMA - mapping start + mapping file offset`, from
    /// /proc/PID/maps) to an SVMA through the PT_LOAD segment containing it.
    #[cfg(test)]
    pub fn file_offset_to_svma(&self, offset: u64) -> Option<u64> {
        self.segments.iter().find_map(|s| {
            let delta = offset.checked_sub(s.offset)?;
            (delta < s.filesz).then(|| s.vaddr.wrapping_add(delta))
        })
    }

    /// Bounds `(start, end)` of the FDE covering `svma`.
    #[cfg(test)]
    pub fn function_bounds(&self, svma: u64) -> Option<(u64, u64)> {
        self.fdes.find(svma)
    }

    /// `(start, size)` of the function symbol named exactly `name`: a linear scan, for
    /// probes and tests, not for the hot path.
    #[cfg(test)]
    pub fn symbol_by_name(&self, name: &str) -> Option<(u64, u64)> {
        self.table.as_ref().and_then(|(t, _)| t.by_name(name))
    }

    /// Every function of the object: the named ones (symbols), then, with `unnamed`, the
    /// functions only `.eh_frame` knows (an FDE whose start no symbol covers: the static
    /// functions of a stripped binary), each by its file address (SVMA).
    pub fn functions(&self, unnamed: bool) -> Vec<Function> {
        let mut out: Vec<Function> = match &self.table {
            Some((t, _)) => t
                .iter()
                .map(|(start, size, name)| Function {
                    start,
                    size,
                    name: Some(name.into_owned()),
                })
                .collect(),
            None => Vec::new(),
        };
        if unnamed {
            for &(start, end) in self.fdes.ranges() {
                let named = self.table.as_ref().and_then(|(t, _)| t.find(start));
                if named.is_none() {
                    out.push(Function {
                        start,
                        size: end.saturating_sub(start),
                        name: None,
                    });
                }
            }
        }
        out
    }

    /// Names `svma` (a file-relative address). See the module doc for the order.
    pub fn lookup(&self, svma: u64, with_lines: bool) -> Lookup<'_> {
        let frames = if with_lines {
            self.dwarf().and_then(|d| d.frames(svma))
        } else {
            None
        };
        let (location, inlined) = match &frames {
            Some(f) => (f.location.clone(), f.inlined.clone()),
            None => (None, Vec::new()),
        };
        if let Some((table, source)) = &self.table
            && let Some(hit) = table.find(svma)
        {
            return Lookup::Symbol(SymbolHit {
                name: hit.name,
                start: hit.start,
                size: hit.size,
                offset: svma - hit.start,
                source: *source,
                location,
                inlined,
            });
        }
        let fde = self.fdes.find(svma);
        if let (Some((start, end)), Some(name)) = (fde, frames.and_then(|f| f.function)) {
            return Lookup::Symbol(SymbolHit {
                name: Cow::Owned(name),
                start,
                size: end - start,
                offset: svma - start,
                source: SymbolSource::Dwarf,
                location,
                inlined,
            });
        }
        match fde {
            Some((start, _)) => Lookup::Unnamed {
                start,
                offset: svma - start,
            },
            None => Lookup::Unknown,
        }
    }

    /// Names a return address (every frame but the innermost, unless the unwinder says
    /// the frame was interrupted, e.g. by a signal): looks up `svma - 1`, inside the call
    /// instruction, since a call to a noreturn function (`exit`) can be the last
    /// instruction of its function and the return address then lies past its end. Offsets
    /// are still given for `svma` itself, as strace prints them (`exit+0x1a` where exit is
    /// 0x1a bytes long); file:line is that of the call.
    pub fn lookup_return_address(&self, svma: u64, with_lines: bool) -> Lookup<'_> {
        let Some(inside) = svma.checked_sub(1) else {
            return Lookup::Unknown;
        };
        match self.lookup(inside, with_lines) {
            Lookup::Symbol(mut s) => {
                s.offset += 1;
                Lookup::Symbol(s)
            }
            Lookup::Unnamed { start, offset } => Lookup::Unnamed {
                start,
                offset: offset + 1,
            },
            Lookup::Unknown => Lookup::Unknown,
        }
    }

    fn dwarf(&self) -> Option<&dwarf::Dwarf> {
        let file = self.dwarf_file.as_ref()?;
        let loaded = self.dwarf.get_or_init(|| {
            let elf = ElfFile64::<Endianness>::parse(file.bytes()).map_err(|e| e.to_string())?;
            dwarf::Dwarf::load(&elf)
        });
        loaded.as_ref().ok()?.as_ref()
    }
}

#[cfg(test)]
fn open_mapped(path: &Path) -> Result<(std::fs::File, Backing), SymbolsError> {
    let io = |source| SymbolsError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let data = Backing::map(&file).map_err(io)?;
    Ok((file, data))
}

fn parse_elf<'d>(name: &str, data: &'d Backing) -> Result<ElfFile64<'d, Endianness>, SymbolsError> {
    ElfFile64::<Endianness>::parse(data.bytes()).map_err(|e| SymbolsError::NotElf {
        name: name.to_owned(),
        msg: e.to_string(),
    })
}

#[cfg(test)]
fn segments(elf: &ElfFile64<'_, Endianness>) -> Vec<Segment> {
    use object::elf::PT_LOAD;
    use object::read::elf::ProgramHeader;
    let endian = elf.endian();
    elf.elf_program_headers()
        .iter()
        .filter(|ph| ph.p_type(endian) == PT_LOAD)
        .map(|ph| Segment {
            offset: ph.p_offset(endian),
            vaddr: ph.p_vaddr(endian),
            filesz: ph.p_filesz(endian),
        })
        .collect()
}
