//! Just enough of `.eh_frame` and `.eh_frame_hdr` to know, before framehop runs, which
//! addresses are covered by an FDE (so each frame can say whether CFI or frame pointers
//! found it), which FDEs are signal trampolines (the `S` augmentation), and whether a header
//! has the binary-search table framehop relies on. framehop does the real CFI evaluation.
//!
//! All addresses here are SVMAs.

/// The address range of one FDE and whether its CIE marks a signal frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fde {
    pub start: u64,
    pub end: u64,
    pub signal: bool,
}

/// All FDEs of an `.eh_frame`, sorted by start; also the true function starts of a stripped
/// binary (what symbolization can use to bound names).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FdeTable {
    pub fdes: Vec<Fde>,
}

impl FdeTable {
    /// The FDE covering `svma`, if any.
    pub fn find(&self, svma: u64) -> Option<&Fde> {
        let i = self.fdes.partition_point(|f| f.start <= svma);
        self.fdes.get(i.checked_sub(1)?).filter(|f| svma < f.end)
    }

    pub fn is_empty(&self) -> bool {
        self.fdes.is_empty()
    }
}

const DW_EH_PE_OMIT: u8 = 0xff;

/// A little cursor over section bytes that knows the SVMA of every byte (for pcrel).
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    svma: u64,
}

impl<'a> Cursor<'a> {
    fn new(data: &'a [u8], pos: usize, svma: u64) -> Self {
        Cursor { data, pos, svma }
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }

    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.bytes(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    fn uleb(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
    }

    fn sleb(&mut self) -> Option<i64> {
        let mut v = 0i64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= i64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
        }
    }

    fn cstr(&mut self) -> Option<&'a [u8]> {
        let rest = self.data.get(self.pos..)?;
        let n = rest.iter().position(|&b| b == 0)?;
        self.pos += n + 1;
        rest.get(..n)
    }

    /// Reads a DW_EH_PE-encoded pointer. `datarel` is the base for datarel encodings (the
    /// `.eh_frame_hdr` start); `apply` false reads only the value (FDE address ranges).
    fn pointer(&mut self, enc: u8, datarel: u64, apply: bool) -> Option<u64> {
        let here = self.svma.wrapping_add(self.pos as u64);
        let raw: u64 = match enc & 0x0f {
            0x00 => self.u64()?,
            0x01 => self.uleb()?,
            0x02 => u64::from(self.u16()?),
            0x03 => u64::from(self.u32()?),
            0x04 => self.u64()?,
            0x09 => self.sleb()? as u64,
            0x0a => self.u16()? as i16 as i64 as u64,
            0x0b => self.u32()? as i32 as i64 as u64,
            0x0c => self.u64()?,
            _ => return None,
        };
        if !apply {
            return Some(raw);
        }
        let base = match enc & 0x70 {
            0x00 => 0,
            0x10 => here,
            0x30 => datarel,
            _ => return None,
        };
        // Indirect pointers (0x80) point at a GOT slot we cannot read here.
        if enc & 0x80 != 0 {
            return None;
        }
        Some(base.wrapping_add(raw))
    }
}

/// Whether an `.eh_frame_hdr` has a usable binary-search table: version 1, a count and a
/// table encoding that are present and fixed-size, a non-zero count, and the whole table
/// inside the section. Without one, framehop must be given no header at all.
pub fn eh_frame_hdr_has_table(hdr: &[u8], hdr_svma: u64) -> bool {
    let mut c = Cursor::new(hdr, 0, hdr_svma);
    let (Some(version), Some(ptr_enc), Some(count_enc), Some(table_enc)) =
        (c.u8(), c.u8(), c.u8(), c.u8())
    else {
        return false;
    };
    if version != 1 || count_enc == DW_EH_PE_OMIT || table_enc == DW_EH_PE_OMIT {
        return false;
    }
    if ptr_enc != DW_EH_PE_OMIT && c.pointer(ptr_enc, hdr_svma, false).is_none() {
        return false;
    }
    let Some(count) = c.pointer(count_enc, hdr_svma, false) else {
        return false;
    };
    let entry = match table_enc & 0x0f {
        0x02 | 0x0a => 2,
        0x03 | 0x0b => 4,
        0x04 | 0x0c => 8,
        _ => return false,
    };
    count > 0
        && count
            .checked_mul(2 * entry)
            .and_then(|n| n.checked_add(c.pos as u64))
            .is_some_and(|end| end <= hdr.len() as u64)
}

/// What an FDE needs from its CIE.
#[derive(Clone, Copy)]
struct CieInfo {
    fde_enc: u8,
    signal: bool,
    has_aug_data: bool,
}

fn parse_cie(c: &mut Cursor) -> Option<CieInfo> {
    let version = c.u8()?;
    let aug = c.cstr()?;
    if aug.starts_with(b"eh") {
        c.u64()?;
    }
    c.uleb()?;
    c.sleb()?;
    if version == 1 {
        c.u8()?;
    } else {
        c.uleb()?;
    }
    let mut info = CieInfo {
        fde_enc: 0,
        signal: false,
        has_aug_data: aug.first() == Some(&b'z'),
    };
    if !info.has_aug_data {
        return Some(info);
    }
    let len = c.uleb()?;
    let end = c.pos.checked_add(usize::try_from(len).ok()?)?;
    for &ch in aug.iter().skip(1) {
        match ch {
            b'R' => info.fde_enc = c.u8()?,
            b'L' => {
                c.u8()?;
            }
            b'P' => {
                let enc = c.u8()?;
                // The personality pointer is only skipped; its application does not matter.
                c.pointer(enc & 0x0f, 0, false)?;
            }
            b'S' => info.signal = true,
            // Unknown augmentation with data we cannot size: the rest is unknowable.
            _ => break,
        }
        if c.pos > end {
            return None;
        }
    }
    Some(info)
}

/// Indexes every FDE of an `.eh_frame` section that starts at `svma`. Entries that cannot be
/// parsed are skipped; a broken length ends the walk (what was read so far is kept).
pub fn index_eh_frame(data: &[u8], svma: u64) -> FdeTable {
    let mut fdes = Vec::new();
    let mut cies: std::collections::HashMap<usize, Option<CieInfo>> = Default::default();
    let mut pos = 0usize;
    while pos < data.len() {
        let mut c = Cursor::new(data, pos, svma);
        let Some(len32) = c.u32() else { break };
        if len32 == 0 {
            break;
        }
        let len = if len32 == u32::MAX {
            match c.u64() {
                Some(l) => l,
                None => break,
            }
        } else {
            u64::from(len32)
        };
        let body = c.pos;
        let Some(next) = usize::try_from(len).ok().and_then(|l| body.checked_add(l)) else {
            break;
        };
        if next > data.len() {
            break;
        }
        let id_pos = c.pos;
        let id = if len32 == u32::MAX {
            c.u64()
        } else {
            c.u32().map(u64::from)
        };
        match id {
            Some(0) | None => {}
            Some(id) => {
                if let Some(cie_pos) = id_pos.checked_sub(id as usize) {
                    let cie = *cies.entry(cie_pos).or_insert_with(|| {
                        let mut cc = Cursor::new(data, cie_pos, svma);
                        let l = cc.u32()?;
                        if l == u32::MAX {
                            cc.u64()?;
                            cc.u64()?;
                        } else {
                            cc.u32()?;
                        }
                        parse_cie(&mut cc)
                    });
                    if let Some(cie) = cie
                        && let Some(start) = c.pointer(cie.fde_enc, 0, true)
                        && let Some(range) = c.pointer(cie.fde_enc & 0x0f, 0, false)
                        && range > 0
                    {
                        fdes.push(Fde {
                            start,
                            end: start.saturating_add(range),
                            signal: cie.signal,
                        });
                    }
                }
            }
        }
        pos = next;
    }
    fdes.sort_by_key(|f| f.start);
    FdeTable { fdes }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a tiny .eh_frame: one CIE with the given augmentation, then FDEs with pcrel
    /// sdata4 starts. Returns the bytes for a section placed at `svma`.
    pub(crate) fn eh_frame(svma: u64, aug: &[u8], fdes: &[(u64, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cie = vec![0, 0, 0, 0, 1];
        cie.extend(aug);
        cie.push(0);
        cie.extend([1, 0x78, 16]); // code align 1, data align -8, RA r16
        let mut augdata = vec![0x1b]; // R: pcrel|sdata4
        if aug.contains(&b'S') {
            // 'S' carries no data.
        }
        if !aug.starts_with(b"z") {
            augdata.clear();
        } else {
            cie.push(augdata.len() as u8);
        }
        cie.extend(&augdata);
        cie.extend([0x0c, 7, 8, 0x90, 1]); // def_cfa rsp+8; offset r16 at cfa-8
        while (cie.len() + 4) % 8 != 0 {
            cie.push(0);
        }
        out.extend((cie.len() as u32).to_le_bytes());
        out.extend(&cie);
        for &(start, len) in fdes {
            let fde_pos = out.len();
            let mut fde = Vec::new();
            let id_pos = fde_pos + 4;
            fde.extend((id_pos as u32).to_le_bytes()); // CIE at 0
            let field_svma = svma + (fde_pos + 8) as u64;
            fde.extend(((start.wrapping_sub(field_svma)) as i32).to_le_bytes());
            fde.extend(len.to_le_bytes());
            fde.push(0); // aug data length
            while (fde.len() + 4) % 8 != 0 {
                fde.push(0);
            }
            out.extend((fde.len() as u32).to_le_bytes());
            out.extend(&fde);
        }
        out.extend([0, 0, 0, 0]);
        out
    }

    #[test]
    fn indexes_fdes_and_signal_cies() {
        let data = eh_frame(0x2000, b"zR", &[(0x1100, 0x20), (0x1000, 0x40)]);
        let t = index_eh_frame(&data, 0x2000);
        assert_eq!(
            t.fdes,
            [
                Fde {
                    start: 0x1000,
                    end: 0x1040,
                    signal: false
                },
                Fde {
                    start: 0x1100,
                    end: 0x1120,
                    signal: false
                }
            ]
        );
        assert_eq!(t.find(0x103f).map(|f| f.start), Some(0x1000));
        assert_eq!(t.find(0x1040), None);
        assert_eq!(t.find(0xfff), None);
        assert_eq!(t.find(0x1100).map(|f| f.end), Some(0x1120));

        let data = eh_frame(0x2000, b"zRS", &[(0x1500, 0x10)]);
        let t = index_eh_frame(&data, 0x2000);
        assert!(t.find(0x1505).is_some_and(|f| f.signal));
    }

    #[test]
    fn garbage_never_panics() {
        let data = eh_frame(0x2000, b"zR", &[(0x1000, 0x40)]);
        for cut in 0..data.len() {
            let _ = index_eh_frame(&data[..cut], 0x2000);
        }
        let mut x = data.clone();
        for i in 0..x.len() {
            x[i] ^= 0xa5;
            let _ = index_eh_frame(&x, 0x2000);
            let _ = eh_frame_hdr_has_table(&x, 0);
        }
        assert!(index_eh_frame(&[0xff; 64], 0).is_empty());
    }

    #[test]
    fn header_tables() {
        // version 1, eh_frame_ptr pcrel|sdata4, count udata4, table datarel|sdata4.
        let mut hdr = vec![1, 0x1b, 0x03, 0x3b];
        hdr.extend(0x100i32.to_le_bytes());
        hdr.extend(2u32.to_le_bytes());
        hdr.extend([0u8; 16]);
        assert!(eh_frame_hdr_has_table(&hdr, 0x5000));
        assert!(!eh_frame_hdr_has_table(&hdr[..hdr.len() - 1], 0x5000));
        let mut no_table = hdr.clone();
        no_table[2] = 0xff;
        no_table[3] = 0xff;
        assert!(!eh_frame_hdr_has_table(&no_table, 0x5000));
        let mut zero = hdr.clone();
        zero[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(!eh_frame_hdr_has_table(&zero, 0x5000));
        let mut v2 = hdr.clone();
        v2[0] = 2;
        assert!(!eh_frame_hdr_has_table(&v2, 0x5000));
        assert!(!eh_frame_hdr_has_table(&[], 0));
    }
}
