//! A perf_event ring buffer mapped from the kernel: one metadata page, then 2^n data pages
//! the kernel writes records into. We read from `data_tail` to `data_head` and hand the
//! space back by moving `data_tail`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicU64, Ordering};

/// `struct perf_event_header`: type, misc, size (of the whole record, header included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub kind: u32,
    pub misc: u16,
    pub size: u16,
}

impl Header {
    pub fn parse(b: &[u8; 8]) -> Header {
        Header {
            kind: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            misc: u16::from_le_bytes([b[4], b[5]]),
            size: u16::from_le_bytes([b[6], b[7]]),
        }
    }
}

pub struct Ring {
    base: *mut u8,
    /// The whole mapping: metadata page + data.
    len: usize,
    data_offset: usize,
    data_size: usize,
}

// SAFETY: the mapping is owned by this value; the kernel is the only other writer and the
// protocol (head with acquire, tail with release) is followed by `read`.
unsafe impl Send for Ring {}

const PAGE: usize = 4096;
/// Offsets in `struct perf_event_mmap_page`.
const DATA_HEAD: usize = 1024;
const DATA_TAIL: usize = 1032;
const DATA_OFFSET: usize = 1040;
const DATA_SIZE: usize = 1048;

impl Ring {
    /// Maps `pages` (a power of two) data pages of the event `fd`.
    pub fn map(fd: BorrowedFd<'_>, pages: usize) -> io::Result<Ring> {
        let len = PAGE * (pages + 1);
        // SAFETY: a fresh shared mapping of a perf fd; checked for MAP_FAILED below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = p.cast::<u8>();
        // SAFETY: inside the first page of the mapping, which the kernel filled.
        let (off, size) = unsafe {
            (
                std::ptr::read_volatile(base.add(DATA_OFFSET).cast::<u64>()) as usize,
                std::ptr::read_volatile(base.add(DATA_SIZE).cast::<u64>()) as usize,
            )
        };
        let (data_offset, data_size) = if size == 0 {
            (PAGE, PAGE * pages)
        } else {
            (off, size)
        };
        Ok(Ring {
            base,
            len,
            data_offset,
            data_size,
        })
    }

    fn head(&self) -> &AtomicU64 {
        // SAFETY: aligned u64 in the metadata page, alive as long as `self`.
        unsafe { &*self.base.add(DATA_HEAD).cast::<AtomicU64>() }
    }

    fn tail(&self) -> &AtomicU64 {
        // SAFETY: as `head`.
        unsafe { &*self.base.add(DATA_TAIL).cast::<AtomicU64>() }
    }

    /// The fraction of the data area the kernel has written and we have not read yet.
    pub fn fill(&self) -> f64 {
        let head = self.head().load(Ordering::Acquire);
        let tail = self.tail().load(Ordering::Relaxed);
        head.saturating_sub(tail) as f64 / self.data_size as f64
    }

    /// Bytes the kernel can still write before it must drop records.
    pub fn room(&self) -> usize {
        let head = self.head().load(Ordering::Acquire);
        let tail = self.tail().load(Ordering::Relaxed);
        self.data_size
            .saturating_sub(head.saturating_sub(tail) as usize)
    }

    /// Calls `f` with each complete record (header and body: in place, or copied out when it
    /// wraps so that it is contiguous), then frees the space they used.
    pub fn read(&self, buf: &mut Vec<u8>, mut f: impl FnMut(Header, &[u8])) -> usize {
        let head = self.head().load(Ordering::Acquire);
        let mut tail = self.tail().load(Ordering::Relaxed);
        let mut n = 0;
        while tail + 8 <= head {
            let mut hb = [0u8; 8];
            self.copy(tail, &mut hb);
            let h = Header::parse(&hb);
            let size = h.size as u64;
            if size < 8 || tail + size > head {
                break;
            }
            let body_len = size as usize - 8;
            let start = ((tail + 8) % self.data_size as u64) as usize;
            if start + body_len <= self.data_size {
                // Contiguous (nearly always): the body in place, no copy. The kernel does
                // not write there until the tail moves past it.
                // SAFETY: the range lies inside the data area, below the published head.
                let body = unsafe {
                    std::slice::from_raw_parts(self.base.add(self.data_offset + start), body_len)
                };
                f(h, body);
            } else {
                buf.clear();
                buf.resize(body_len, 0);
                self.copy(tail + 8, buf);
                f(h, buf);
            }
            tail += size;
            n += 1;
        }
        self.tail().store(tail, Ordering::Release);
        n
    }

    /// Copies from the data area at the ever-growing position `pos`, wrapping.
    fn copy(&self, pos: u64, out: &mut [u8]) {
        let start = (pos % self.data_size as u64) as usize;
        let first = out.len().min(self.data_size - start);
        // SAFETY: both ranges lie inside the data area of the mapping.
        unsafe {
            let data = self.base.add(self.data_offset);
            std::ptr::copy_nonoverlapping(data.add(start), out.as_mut_ptr(), first);
            if first < out.len() {
                std::ptr::copy_nonoverlapping(data, out.as_mut_ptr().add(first), out.len() - first);
            }
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmapping what `map` mapped.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        let h = Header::parse(&[9, 0, 0, 0, 2, 0, 48, 0]);
        assert_eq!(
            h,
            Header {
                kind: 9,
                misc: 2,
                size: 48
            }
        );
    }
}
