//! Registers and a copy of the live stack of a stopped tracee: all an unwinder needs, taken
//! in one `PTRACE_GETREGS` and one `process_vm_readv` so the tracee can be resumed at once and
//! unwound afterwards.

use std::io;

/// Registers and the top of the stack of a tracee at one stop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub pid: i32,
    /// At a syscall stop, the address after the `syscall` instruction.
    pub rip: u64,
    pub rsp: u64,
    pub rbp: u64,
    /// Bytes copied from `rsp` upwards (`stack[0]` is at `rsp`); short where the stack
    /// mapping ends before `max_stack`.
    pub stack: Vec<u8>,
}

impl Snapshot {
    /// The 8-byte word at `addr` if it lies in the copied stack: the `read_stack` an
    /// unwinder is driven with.
    pub fn read_u64(&self, addr: u64) -> Option<u64> {
        let off = usize::try_from(addr.checked_sub(self.rsp)?).ok()?;
        let b = self.stack.get(off..off.checked_add(8)?)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }
}

/// Captures registers and up to `max_stack` bytes of stack of a held tracee. The read stops at the first unmapped page above `rsp` (process_vm_readv
/// copies up to the fault), so it never runs past the end of the `[stack]` mapping (or of a
/// thread's stack mapping) into a hole.
pub fn capture(stop: &impl super::Held, max_stack: usize) -> io::Result<Snapshot> {
    capture_bounded(stop, max_stack, None)
}

/// Like [`capture`], also bounded by `stack_end` (the end of the mapping that contains `rsp`,
/// when the caller knows it from its maps cache), so it never copies a neighbouring mapping.
pub fn capture_bounded(
    stop: &impl super::Held,
    max_stack: usize,
    stack_end: Option<u64>,
) -> io::Result<Snapshot> {
    let pid = stop.tid();
    let regs = nix::sys::ptrace::getregs(nix::unistd::Pid::from_raw(pid))
        .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
    let rsp = regs.rsp;
    let mut len = max_stack as u64;
    if let Some(end) = stack_end
        && end > rsp
    {
        len = len.min(end - rsp);
    }
    // Not zeroed first: 128 KiB of memset per stop was most of -k's own CPU time.
    let stack = super::vm_read_vec(pid, rsp, len as usize);
    Ok(Snapshot {
        pid,
        rip: regs.rip,
        rsp,
        rbp: regs.rbp,
        stack,
    })
}

/// One `process_vm_readv` into a caller's buffer (tests measure the copy with it).
#[cfg(test)]
pub(crate) fn read_once(pid: i32, addr: u64, buf: &mut [u8]) -> usize {
    super::vm_read(pid, addr, buf).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_u64_stays_inside_the_copy() {
        let snap = Snapshot {
            rsp: 0x1000,
            stack: (0u8..24).collect(),
            ..Default::default()
        };
        assert_eq!(
            snap.read_u64(0x1000),
            Some(u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7]))
        );
        assert_eq!(
            snap.read_u64(0x1010),
            Some(u64::from_le_bytes([16, 17, 18, 19, 20, 21, 22, 23]))
        );
        assert_eq!(snap.read_u64(0x1011), None);
        assert_eq!(snap.read_u64(0xfff), None);
        assert_eq!(snap.read_u64(u64::MAX), None);
    }

    #[test]
    fn read_stops_at_the_end_of_the_mapping() {
        // A buffer followed by an unmapped page: the read is cut there, not failed.
        let page = 4096usize;
        // SAFETY: a fresh anonymous mapping of two pages, the second unmapped again at once;
        // both calls only touch memory they create.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        // SAFETY: the second page belongs to the mapping just made.
        unsafe { libc::munmap(base.cast::<u8>().add(page).cast(), page) };
        let me = std::process::id() as i32;
        let mut buf = vec![0u8; 3 * page];
        let n = read_once(me, base as u64 + 8, &mut buf);
        // SAFETY: unmaps the first page, which we still own.
        unsafe { libc::munmap(base, page) };
        assert_eq!(n, page - 8);
    }
}
