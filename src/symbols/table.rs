//! A function symbol table from one ELF symbol section (`.symtab` or `.dynsym`), sized:
//! an address is named only by a symbol that contains it.

use std::borrow::Cow;
use std::sync::Arc;

use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSymbol, SymbolKind};

use super::backing::Backing;

/// One function symbol. The name lives in the retained file bytes (`name_off`, `name_len`),
/// so a table of 10,000 symbols is one allocation of 40-byte entries and no strings.
#[derive(Clone, Copy, Debug)]
struct Sym {
    addr: u64,
    size: u64,
    /// Largest `addr + size` of this entry and every entry before it (sorted by addr): lets
    /// a lookup walk back over nested/overlapping symbols and stop as soon as none can match.
    max_end: u64,
    name_off: u32,
    name_len: u32,
}

impl Sym {
    fn end(&self) -> u64 {
        self.addr.saturating_add(self.size)
    }

    /// `addr <= a < addr + size`; a zero-sized symbol (an asm label) matches only exactly.
    fn covers(&self, a: u64) -> bool {
        if self.size == 0 {
            a == self.addr
        } else {
            self.addr <= a && a < self.end()
        }
    }
}

/// Which ELF symbol section a table was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    Symtab,
    Dynsym,
}

/// A symbol that covers an address.
pub(crate) struct Hit<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) start: u64,
    pub(crate) size: u64,
}

pub(crate) struct SymbolTable {
    data: Arc<Backing>,
    syms: Vec<Sym>,
    /// The names that lost to an alias at the same address: found by name, never printed;
    /// kept only for the tests' lookups by name.
    #[cfg(test)]
    aliases: Vec<Sym>,
}

impl SymbolTable {
    /// Reads the function symbols (STT_FUNC and STT_GNU_IFUNC, defined, named) of one
    /// section of `elf`, whose bytes are `data`. `None` when the section is absent or holds
    /// no function.
    ///
    /// Aliases (several names at one address) collapse to one entry, chosen by: a sized
    /// symbol over a zero-sized one, then global over weak over local binding, then the
    /// shortest name, then the first in the table. So glibc's `__libc_write`/`__write`/
    /// `write` reads as `write`, and a local asm label never hides the function it starts.
    pub(crate) fn from_elf(
        data: &Arc<Backing>,
        elf: &ElfFile64<'_, Endianness>,
        which: Which,
    ) -> Option<SymbolTable> {
        // (addr, size, binding rank, name_off, name_len, index): sorted then deduplicated.
        let mut raw: Vec<(u64, u64, u8, u32, u32, usize)> = Vec::new();
        let iter = match which {
            Which::Symtab => elf.symbols(),
            Which::Dynsym => elf.dynamic_symbols(),
        };
        for sym in iter {
            if sym.kind() != SymbolKind::Text || sym.is_undefined() {
                continue;
            }
            let Ok(mut name) = sym.name_bytes() else {
                continue;
            };
            // `.symver` names in a .symtab (`_IO_file_write@@GLIBC_2.2.5`) read as the plain
            // name, as in .dynsym, where the version lives in another section.
            if let Some(at) = name.iter().position(|&b| b == b'@') {
                name = name.get(..at).unwrap_or_default();
            }
            if name.is_empty() {
                continue;
            }
            let (Some(off), Ok(len)) = (data.offset_of(name), u32::try_from(name.len())) else {
                continue;
            };
            let Ok(off) = u32::try_from(off) else {
                continue;
            };
            let rank = if sym.is_weak() {
                1
            } else if sym.is_local() {
                2
            } else {
                0
            };
            raw.push((sym.address(), sym.size(), rank, off, len, sym.index().0));
        }
        if raw.is_empty() {
            return None;
        }
        raw.sort_unstable_by_key(|&(addr, size, rank, _, len, idx)| {
            (addr, size == 0, rank, len, idx)
        });
        let mut syms: Vec<Sym> = Vec::with_capacity(raw.len());
        #[cfg(test)]
        let mut aliases = Vec::new();
        let mut max_end = 0u64;
        for (addr, size, _, name_off, name_len, _) in raw {
            let sym = Sym {
                addr,
                size,
                max_end: 0,
                name_off,
                name_len,
            };
            // Sorted so the preferred name at each address comes first.
            if syms.last().is_some_and(|s| s.addr == addr) {
                #[cfg(test)]
                aliases.push(sym);
                continue;
            }
            max_end = max_end.max(sym.end());
            syms.push(Sym { max_end, ..sym });
        }
        syms.shrink_to_fit();
        Some(SymbolTable {
            data: Arc::clone(data),
            syms,
            #[cfg(test)]
            aliases,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.syms.len()
    }

    /// The innermost symbol containing `svma`, if any.
    pub(crate) fn find(&self, svma: u64) -> Option<Hit<'_>> {
        // Index of the first symbol starting after svma; candidates are before it.
        let mut i = self.syms.partition_point(|s| s.addr <= svma);
        while i > 0 {
            i -= 1;
            let s = self.syms.get(i)?;
            if s.covers(svma) {
                return Some(Hit {
                    name: self.name(s),
                    start: s.addr,
                    size: s.size,
                });
            }
            // No symbol at or before i reaches past svma (and, deduplicated, none earlier
            // starts at it): stop walking back.
            if s.max_end <= svma {
                return None;
            }
        }
        None
    }

    /// The symbol named `name` (exact, aliases included), for tests and probes:
    /// (start, size).
    #[cfg(test)]
    pub(crate) fn by_name(&self, name: &str) -> Option<(u64, u64)> {
        self.syms
            .iter()
            .chain(&self.aliases)
            .find(|s| self.name(s).as_ref() == name)
            .map(|s| (s.addr, s.size))
    }

    /// Every function symbol: (start, size, name), by address.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u64, Cow<'_, str>)> + '_ {
        self.syms.iter().map(|s| (s.addr, s.size, self.name(s)))
    }

    fn name(&self, s: &Sym) -> Cow<'_, str> {
        let start = s.name_off as usize;
        let bytes = start
            .checked_add(s.name_len as usize)
            .and_then(|end| self.data.bytes().get(start..end))
            .unwrap_or_default();
        String::from_utf8_lossy(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(entries: &[(u64, u64, &str)]) -> SymbolTable {
        let mut names = Vec::new();
        let mut syms = Vec::new();
        let mut max_end = 0;
        for &(addr, size, name) in entries {
            max_end = u64::max(max_end, addr + size);
            syms.push(Sym {
                addr,
                size,
                max_end,
                name_off: names.len() as u32,
                name_len: name.len() as u32,
            });
            names.extend_from_slice(name.as_bytes());
        }
        SymbolTable {
            data: Arc::new(Backing::Owned(names)),
            syms,
            aliases: Vec::new(),
        }
    }

    fn name_at(t: &SymbolTable, a: u64) -> Option<String> {
        t.find(a).map(|h| h.name.into_owned())
    }

    #[test]
    fn sizes_are_honoured() {
        let t = table(&[(0x100, 0x10, "a"), (0x200, 0x20, "b")]);
        assert_eq!(name_at(&t, 0x100).as_deref(), Some("a"));
        assert_eq!(name_at(&t, 0x10f).as_deref(), Some("a"));
        assert_eq!(name_at(&t, 0x110), None, "beyond a's size: no name");
        assert_eq!(name_at(&t, 0x1ff), None);
        assert_eq!(name_at(&t, 0x21f).as_deref(), Some("b"));
        assert_eq!(name_at(&t, 0x220), None);
        assert_eq!(name_at(&t, 0x50), None);
    }

    #[test]
    fn zero_sized_symbols_match_only_exactly() {
        let t = table(&[(0x100, 0, "label"), (0x200, 0x10, "f")]);
        assert_eq!(name_at(&t, 0x100).as_deref(), Some("label"));
        assert_eq!(name_at(&t, 0x101), None);
    }

    #[test]
    fn nested_symbols_give_the_innermost_and_the_outer_around_it() {
        let t = table(&[
            (0x100, 0x100, "outer"),
            (0x140, 0x10, "inner"),
            (0x300, 4, "x"),
        ]);
        assert_eq!(name_at(&t, 0x145).as_deref(), Some("inner"));
        assert_eq!(name_at(&t, 0x150).as_deref(), Some("outer"));
        assert_eq!(name_at(&t, 0x1ff).as_deref(), Some("outer"));
        assert_eq!(name_at(&t, 0x200), None);
    }
}
