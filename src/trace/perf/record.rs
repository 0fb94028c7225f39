//! Pure decoding of what the kernel wrote: syscall tracepoint entries (the `format` of
//! `syscalls:sys_enter_*` / `raw_syscalls:sys_enter` puts the number at offset 8 and the
//! arguments, 8 bytes each, from offset 16; the exits put the return value at 16), and the
//! memory reader over a sample's copy of the user stack.

use crate::syscalls::Tracee;
use std::cell::{Cell, OnceCell};

/// A syscall entry's number and arguments (absent arguments are 0).
pub fn enter_fields(raw: &[u8]) -> Option<(u64, [u64; 6])> {
    let nr = i32::from_le_bytes(raw.get(8..12)?.try_into().ok()?);
    let mut args = [0u64; 6];
    for (i, a) in args.iter_mut().enumerate() {
        let off = 16 + 8 * i;
        if let Some(b) = raw.get(off..off + 8) {
            *a = u64::from_le_bytes(b.try_into().ok()?);
        }
    }
    Some((u64::try_from(nr).ok()?, args))
}

/// A syscall exit's number and return value.
pub fn exit_fields(raw: &[u8]) -> Option<(u64, i64)> {
    let nr = i32::from_le_bytes(raw.get(8..12)?.try_into().ok()?);
    let ret = i64::from_le_bytes(raw.get(16..24)?.try_into().ok()?);
    Some((u64::try_from(nr).ok()?, ret))
}

/// The tracepoint id (`common_type`) at the start of a record's raw data.
pub fn common_type(raw: &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(raw.get(0..2)?.try_into().ok()?))
}

/// Memory as it was at the event, as far as the sample copied it: reads that lie wholly in
/// the copied user stack are answered from it; others are not answered at all (a value that
/// was not captured is printed as its address), unless `late` reads are allowed, which go
/// to the running process and are remembered ([`Captured::read_late`]).
pub struct Captured<'a> {
    pub pid: i32,
    /// The stack pointer at the event; `stack[0]` was at it.
    pub sp: u64,
    pub stack: &'a [u8],
    /// Whether reads outside the copy may go to the live process.
    pub late: bool,
    read_late: Cell<bool>,
    /// See [`Tracee::early_look`].
    look: Option<bool>,
    /// The process's private read-only mappings (string literals, `.rodata`): what lies
    /// there cannot have changed since the event, so it is read afterwards as exact.
    constant: OnceCell<Vec<(u64, u64)>>,
}

impl<'a> Captured<'a> {
    pub fn new(pid: i32, sp: u64, stack: &'a [u8], late: bool) -> Self {
        Captured {
            pid,
            sp,
            stack,
            late,
            read_late: Cell::new(false),
            look: None,
            constant: OnceCell::new(),
        }
    }

    /// An exit the consumer looked at early: whether that look was still current.
    pub fn with_look(mut self, look: Option<bool>) -> Self {
        self.look = look;
        self
    }

    /// The end of the read-only private mapping holding `addr`, if one does.
    fn constant_until(&self, addr: u64) -> Option<u64> {
        let ro = self.constant.get_or_init(|| {
            crate::remote::maps::read(self.pid)
                .unwrap_or_default()
                .iter()
                .filter(|m| m.perms.read && !m.perms.write && !m.perms.shared)
                .map(|m| (m.start, m.end))
                .collect()
        });
        ro.iter().find(|r| r.0 <= addr && addr < r.1).map(|r| r.1)
    }

    /// The copy from `addr` on, if `addr` lies in it.
    fn tail_at(&self, addr: u64) -> Option<&[u8]> {
        let off = usize::try_from(addr.checked_sub(self.sp)?).ok()?;
        self.stack.get(off..).filter(|t| !t.is_empty())
    }
}

impl Tracee for Captured<'_> {
    fn exact(&self) -> bool {
        false
    }

    fn read_late(&self) -> bool {
        self.read_late.get()
    }

    fn early_look(&self) -> Option<bool> {
        self.look
    }

    /// All of `buf` from the copy, or (late reads allowed) from the process; never a part
    /// of it from the copy, which would pass for memory that ends there.
    fn read_mem(&self, addr: u64, buf: &mut [u8]) -> usize {
        if let Some(t) = self.tail_at(addr)
            && t.len() >= buf.len()
        {
            buf.copy_from_slice(&t[..buf.len()]);
            return buf.len();
        }
        if !self.late {
            return 0;
        }
        let n = crate::remote::read_mem(self.pid, addr, buf);
        if n > 0 {
            self.read_late.set(true);
        }
        n
    }

    /// A string whose NUL (or `max + 1` bytes) lies in the copy; else none (or a late read).
    fn read_cstr(&self, addr: u64, max: usize) -> Option<(Vec<u8>, bool)> {
        if let Some(t) = self.tail_at(addr) {
            let t = &t[..t.len().min(max + 1)];
            if let Some(nul) = t.iter().position(|&b| b == 0) {
                return Some((t[..nul].to_vec(), false));
            }
            if t.len() > max {
                return Some((t[..max].to_vec(), true));
            }
        }
        if let Some(end) = self.constant_until(addr) {
            let mem = crate::remote::ProcMem::racy(self.pid);
            let room = usize::try_from(end - addr).unwrap_or(usize::MAX);
            return match mem.read_cstr(addr, max.min(room)) {
                // Cut by the mapping's end rather than by `max`: not known.
                Some((s, true)) if s.len() == room && room <= max => None,
                other => other,
            };
        }
        if !self.late {
            return None;
        }
        let got = crate::remote::ProcMem::racy(self.pid).read_cstr(addr, max);
        if got.is_some() {
            self.read_late.set(true);
        }
        got
    }

    fn fd_detail(&self, fd: i32, path: &str) -> Option<String> {
        let d = crate::remote::sockets::fd_detail(self.pid, fd, path);
        if d.is_some() {
            self.read_late.set(true);
        }
        d
    }

    fn fd_path(&self, fd: i32) -> Option<String> {
        let p = crate::remote::ProcMem::racy(self.pid).fd_path(fd);
        if p.is_some() {
            self.read_late.set(true);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enter_record(nr: i32, args: &[u64]) -> Vec<u8> {
        let mut r = vec![0u8; 16];
        r[0..2].copy_from_slice(&782u16.to_le_bytes());
        r[8..12].copy_from_slice(&nr.to_le_bytes());
        for a in args {
            r.extend_from_slice(&a.to_le_bytes());
        }
        r
    }

    #[test]
    fn enter_and_exit_fields() {
        let r = enter_record(257, &[0xffff_ff9c, 0x7ffd_0000, 0x80000, 0]);
        assert_eq!(common_type(&r), Some(782));
        assert_eq!(
            enter_fields(&r),
            Some((257, [0xffff_ff9c, 0x7ffd_0000, 0x80000, 0, 0, 0]))
        );
        let mut x = vec![0u8; 24];
        x[8..12].copy_from_slice(&285i32.to_le_bytes());
        x[16..24].copy_from_slice(&(-28i64).to_le_bytes());
        assert_eq!(exit_fields(&x), Some((285, -28)));
        assert_eq!(exit_fields(&x[..20]), None);
        // A negative number (raw_syscalls for an invalid call) is no syscall.
        assert_eq!(enter_fields(&enter_record(-1, &[])), None);
    }

    #[test]
    fn captured_reads_only_what_was_copied() {
        let stack = b"....hello\0world".to_vec();
        let m = Captured::new(1, 0x1000, &stack, false);
        assert_eq!(m.read_cstr(0x1004, 64), Some((b"hello".to_vec(), false)));
        assert_eq!(m.read_cstr(0x1004, 3), Some((b"hel".to_vec(), true)));
        let mut b = [0u8; 4];
        assert_eq!(m.read_mem(0x2000, &mut b), 0, "outside the copy: not read");
        assert_eq!(m.read_mem(0xff0, &mut b), 0, "below sp: not read");
        assert_eq!(m.read_mem(0x1004, &mut b), 4);
        assert_eq!(&b, b"hell");
        let mut big = [0u8; 32];
        assert_eq!(m.read_mem(0x1004, &mut big), 0, "partly copied: not read");
        // Running past the end of the copy without a NUL: unknown, not "world".
        assert_eq!(m.read_cstr(0x100a, 64), None);
        assert!(!m.read_late());
    }
}
