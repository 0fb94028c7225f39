//! The bytes of an object file, kept alive for as long as its symbols are: a read-only
//! private mapping of a file, or an owned buffer (the vDSO image read from a process).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

/// Read-only bytes of one object file. Symbol names are stored as offsets into these.
pub(crate) enum Backing {
    /// `mmap(PROT_READ, MAP_PRIVATE)` of a whole file; unmapped on drop.
    Mapped {
        ptr: *const u8,
        len: usize,
    },
    Owned(Vec<u8>),
}

// SAFETY: the mapping is read-only and never handed out mutably; the pointer is only turned
// into a shared slice, so sharing it between threads is as safe as sharing a `&[u8]`.
unsafe impl Send for Backing {}
unsafe impl Sync for Backing {}

impl Backing {
    /// Maps `file` whole. Pages are only read when touched, so a 9 MB binary whose
    /// `.dynsym` and `.eh_frame` we read costs far less than reading the file.
    pub(crate) fn map(file: &File) -> io::Result<Backing> {
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "file too large"))?;
        if len == 0 {
            return Ok(Backing::Owned(Vec::new()));
        }
        // SAFETY: a fresh private read-only mapping of a file we hold open; checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Backing::Mapped {
            ptr: ptr.cast::<u8>().cast_const(),
            len,
        })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: ptr/len describe a live mapping owned by self (unmapped only in Drop).
            // A file truncated by someone else while mapped would SIGBUS on access; object
            // files in use are replaced by rename, not rewritten, so we accept that.
            Backing::Mapped { ptr, len } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
            Backing::Owned(v) => v,
        }
    }

    /// Offset of `sub` inside these bytes, if `sub` is a sub-slice of them.
    pub(crate) fn offset_of(&self, sub: &[u8]) -> Option<usize> {
        let base = self.bytes().as_ptr() as usize;
        let start = (sub.as_ptr() as usize).checked_sub(base)?;
        let end = start.checked_add(sub.len())?;
        (end <= self.bytes().len()).then_some(start)
    }
}

impl Drop for Backing {
    fn drop(&mut self) {
        if let Backing::Mapped { ptr, len } = *self {
            // SAFETY: unmapping the region mapped in `map`; no borrow of it outlives self.
            unsafe {
                libc::munmap(ptr.cast_mut().cast(), len);
            }
        }
    }
}
