//! Function bounds from `.eh_frame`: every FDE's `[initial_location, +address_range)`.
//! A stripped binary keeps `.eh_frame` for unwinding, so this gives the true start of every
//! function, exported or static, even where no symbol names it.

use std::collections::HashMap;

use gimli::{BaseAddresses, CieOrFde, EhFrame, LittleEndian, UnwindSection};
use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSection};

#[derive(Default)]
pub(crate) struct FdeIndex {
    /// (start, end) SVMAs, sorted by start.
    ranges: Vec<(u64, u64)>,
}

impl FdeIndex {
    /// Indexes `.eh_frame` of `elf`. A malformed entry ends the walk: what was read before
    /// it is kept, and the error is returned alongside so the caller can report it.
    pub(crate) fn from_elf(elf: &ElfFile64<'_, Endianness>) -> (FdeIndex, Option<String>) {
        let Some(section) = elf.section_by_name(".eh_frame") else {
            return (FdeIndex::default(), None);
        };
        // A debug file's .eh_frame is NOBITS: no data, nothing to index.
        let Ok(data) = section.data() else {
            return (FdeIndex::default(), None);
        };
        let mut bases = BaseAddresses::default().set_eh_frame(section.address());
        if let Some(text) = elf.section_by_name(".text") {
            bases = bases.set_text(text.address());
        }
        if let Some(got) = elf.section_by_name(".got") {
            bases = bases.set_got(got.address());
        }
        let eh_frame = EhFrame::new(data, LittleEndian);
        Self::from_eh_frame(&eh_frame, &bases)
    }

    fn from_eh_frame(
        eh_frame: &EhFrame<gimli::EndianSlice<'_, LittleEndian>>,
        bases: &BaseAddresses,
    ) -> (FdeIndex, Option<String>) {
        let mut ranges = Vec::new();
        let mut error = None;
        // Each CIE is shared by many FDEs: parse it once.
        let mut cies = HashMap::new();
        let mut entries = eh_frame.entries(bases);
        loop {
            match entries.next() {
                Ok(None) => break,
                Ok(Some(CieOrFde::Cie(cie))) => {
                    cies.insert(cie.offset(), cie);
                }
                Ok(Some(CieOrFde::Fde(partial))) => {
                    let fde = partial.parse(|section, bases, offset| match cies.get(&offset.0) {
                        Some(cie) => Ok(cie.clone()),
                        None => section.cie_from_offset(bases, offset),
                    });
                    match fde {
                        Ok(fde) if fde.len() > 0 => {
                            ranges.push((fde.initial_address(), fde.end_address()));
                        }
                        Ok(_) => {}
                        // One bad FDE does not spoil the others.
                        Err(e) => {
                            error.get_or_insert_with(|| format!("bad FDE in .eh_frame: {e}"));
                        }
                    }
                }
                Err(e) => {
                    error = Some(format!("cannot walk .eh_frame: {e}"));
                    break;
                }
            }
        }
        ranges.sort_unstable();
        (FdeIndex { ranges }, error)
    }

    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Every FDE's (start, end), by start.
    pub(crate) fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    /// Bounds `(start, end)` of the function containing `svma`, if an FDE covers it.
    pub(crate) fn find(&self, svma: u64) -> Option<(u64, u64)> {
        let i = self.ranges.partition_point(|&(start, _)| start <= svma);
        let &(start, end) = self.ranges.get(i.checked_sub(1)?)?;
        (svma < end).then_some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_eh_frame_does_not_panic() {
        let bases = BaseAddresses::default();
        for data in [
            &[][..],
            &[0xff; 64][..],
            &[4, 0, 0, 0, 0, 0, 0, 0][..],
            &[
                0x10, 0, 0, 0, 0, 0, 0, 0, 1, b'z', b'R', 0, 1, 0x78, 0x10, 1,
            ][..],
        ] {
            let (idx, _) = FdeIndex::from_eh_frame(&EhFrame::new(data, LittleEndian), &bases);
            assert!(idx.find(0).is_none());
        }
    }

    #[test]
    fn find_respects_bounds() {
        let idx = FdeIndex {
            ranges: vec![(0x100, 0x140), (0x150, 0x160)],
        };
        assert_eq!(idx.find(0x100), Some((0x100, 0x140)));
        assert_eq!(idx.find(0x13f), Some((0x100, 0x140)));
        assert_eq!(idx.find(0x140), None);
        assert_eq!(idx.find(0x15f), Some((0x150, 0x160)));
        assert_eq!(idx.find(0xff), None);
    }
}
