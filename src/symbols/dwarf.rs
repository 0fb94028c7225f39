//! DWARF line tables and inlined frames (via `addr2line`), loaded on first use: parsing
//! libc's 10 MB of decompressed DWARF is not paid by a trace that never prints a line.

use std::sync::{Arc, Mutex};

use addr2line::Context;
use gimli::{EndianArcSlice, RunTimeEndian};
use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSection};

type Reader = EndianArcSlice<RunTimeEndian>;

/// A source position: file path as DWARF spells it (joined with the compilation directory
/// when relative) and line (0 when DWARF gives none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: String,
    pub line: u32,
}

/// One inlined call level at an address: the inlined function's name and where inside it
/// the address lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlinedFrame {
    pub name: String,
    pub location: Option<SourceLocation>,
}

/// What DWARF says about one address.
pub(crate) struct DwarfFrames {
    /// Name of the outermost (real, not inlined) function, if DWARF names one.
    pub(crate) function: Option<String>,
    /// Location in that function (the call site of the outermost inlined frame, if any).
    pub(crate) location: Option<SourceLocation>,
    /// Inlined frames, innermost first.
    pub(crate) inlined: Vec<InlinedFrame>,
}

pub(crate) struct Dwarf {
    // addr2line's Context caches parsed units in cells that are not Sync; the mutex lets
    // one shared ObjectSymbols serve several threads.
    ctx: Mutex<Context<Reader>>,
}

impl Dwarf {
    /// Loads every DWARF section of `elf` (decompressing as needed). `Ok(None)` when the
    /// file has no `.debug_info`.
    pub(crate) fn load(elf: &ElfFile64<'_, Endianness>) -> Result<Option<Dwarf>, String> {
        if elf.section_by_name(".debug_info").is_none() {
            return Ok(None);
        }
        let endian = RunTimeEndian::Little;
        let sections = gimli::Dwarf::load(|id| -> Result<Reader, String> {
            let data: Arc<[u8]> = match elf.section_by_name(id.name()) {
                Some(s) => {
                    let bytes = s
                        .uncompressed_data()
                        .map_err(|e| format!("{}: {e}", id.name()))?;
                    Arc::from(bytes.as_ref())
                }
                None => Arc::from(&[][..]),
            };
            Ok(EndianArcSlice::new(data, endian))
        })?;
        let ctx = Context::from_dwarf(sections).map_err(|e| format!("DWARF: {e}"))?;
        Ok(Some(Dwarf {
            ctx: Mutex::new(ctx),
        }))
    }

    /// Function, line and inlined frames at `svma`; `None` when DWARF knows nothing there.
    pub(crate) fn frames(&self, svma: u64) -> Option<DwarfFrames> {
        let ctx = self.ctx.lock().ok()?;
        // Split DWARF (.dwo) is not followed: Debian does not ship it.
        let mut iter = ctx.find_frames(svma).skip_all_loads().ok()?;
        let mut frames: Vec<(Option<String>, Option<SourceLocation>)> = Vec::new();
        while let Ok(Some(frame)) = iter.next() {
            let name = frame
                .function
                .as_ref()
                .and_then(|f| f.raw_name().ok())
                .map(|n| n.into_owned());
            let location = frame.location.as_ref().and_then(|l| {
                Some(SourceLocation {
                    file: l.file?.to_owned(),
                    line: l.line.unwrap_or(0),
                })
            });
            frames.push((name, location));
        }
        let (function, location) = frames.pop()?;
        let inlined = frames
            .into_iter()
            .map(|(name, location)| InlinedFrame {
                name: name.unwrap_or_else(|| "??".to_owned()),
                location,
            })
            .collect();
        Some(DwarfFrames {
            function,
            location,
            inlined,
        })
    }
}
