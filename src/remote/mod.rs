//! Reading another process: memory, file descriptors and /proc.
//!
//! Nothing here stops or resumes a process. A reader says whether its reads are exact: a
//! tracee held in a ptrace-stop (proved by a [`Held`] value, which only the engine's stop
//! guards give out) cannot change under the read; any other process can.

pub mod maps;
pub mod pidns;
pub mod procfs;
pub mod regs;
pub mod sockets;

use crate::syscalls::Tracee;
use std::os::unix::ffi::OsStrExt;

/// A thread held in a ptrace-stop for as long as the value lives.
///
/// # Safety
/// Implementing it promises that `tid` is this process's tracee and stays in a ptrace-stop
/// while the value exists (the engine's stop guards, whose resume consumes them; a test's
/// own wait loop). Register reads ([`regs::capture`]) need one.
pub unsafe trait Held {
    fn tid(&self) -> i32;
}

/// Memory and fds of a live process, read with `process_vm_readv` (which never faults the
/// target: an unmapped address gives a short read) and `/proc/PID/fd`. Borrowed from a
/// [`Held`] stop it is exact and cannot outlive the stop; [`ProcMem::racy`] reads a running
/// process.
#[derive(Clone, Copy, Debug)]
pub struct ProcMem<'a> {
    pub pid: i32,
    exact: bool,
    _stop: std::marker::PhantomData<&'a ()>,
}

impl ProcMem<'static> {
    /// A running process: its memory may change while it is read.
    pub fn racy(pid: i32) -> Self {
        ProcMem {
            pid,
            exact: false,
            _stop: std::marker::PhantomData,
        }
    }
}

impl<'a> ProcMem<'a> {
    /// The memory of a stopped tracee, for as long as it stays stopped.
    pub fn held<H: Held>(stop: &'a H) -> Self {
        ProcMem {
            pid: stop.tid(),
            exact: true,
            _stop: std::marker::PhantomData,
        }
    }
}

impl Tracee for ProcMem<'_> {
    fn exact(&self) -> bool {
        self.exact
    }

    fn read_mem(&self, addr: u64, buf: &mut [u8]) -> usize {
        read_mem(self.pid, addr, buf)
    }

    fn fd_path(&self, fd: i32) -> Option<String> {
        // AT_FDCWD stands for the working directory (strace prints `AT_FDCWD</cwd>` under -y).
        if fd == libc::AT_FDCWD {
            let link = std::fs::read_link(format!("/proc/{}/cwd", self.pid)).ok()?;
            return Some(String::from_utf8_lossy(link.as_os_str().as_bytes()).into_owned());
        }
        self.fd_path_of(self.pid, fd)
    }

    fn fd_path_of(&self, pid: i32, fd: i32) -> Option<String> {
        if fd < 0 {
            return None;
        }
        let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
        Some(String::from_utf8_lossy(link.as_os_str().as_bytes()).into_owned())
    }

    fn fd_detail(&self, fd: i32, path: &str) -> Option<String> {
        sockets::fd_detail(self.pid, fd, path)
    }

    fn netlink_protocol(&self, fd: i32) -> Option<Option<u32>> {
        sockets::netlink_protocol(self.pid, fd)
    }

    fn kvm_run(&self, fd: i32) -> Option<u64> {
        let name = self.fd_path(fd)?;
        if !name.starts_with("anon_inode:kvm-vcpu:") {
            return None;
        }
        let maps = std::fs::read_to_string(format!("/proc/{}/maps", self.pid)).ok()?;
        maps_kvm_run(&maps, &name)
    }
}

/// In a `/proc/PID/maps` listing, the start of the mapping of `name` (a vCPU's
/// `anon_inode:kvm-vcpu:N`) at offset 0: where its `struct kvm_run` lies.
fn maps_kvm_run(maps: &str, name: &str) -> Option<u64> {
    maps.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        let range = w.next()?;
        let (_perms, offset) = (w.next()?, w.next()?);
        let path = w.nth(2)?;
        (path == name && u64::from_str_radix(offset, 16).ok()? == 0)
            .then(|| u64::from_str_radix(range.split('-').next()?, 16).ok())?
    })
}

#[cfg(test)]
mod kvm_tests {
    #[test]
    fn the_vcpu_mapping_is_found_by_its_name() {
        let maps = "55d0c000-55d0d000 r--p 00000000 08:01 123 /usr/bin/qemu\n\
                    7f10a000-7f10d000 rw-s 00000000 00:0e 77 anon_inode:kvm-vcpu:1\n\
                    7f20a000-7f20d000 rw-s 00000000 00:0e 77 anon_inode:kvm-vcpu:0\n";
        assert_eq!(
            super::maps_kvm_run(maps, "anon_inode:kvm-vcpu:0"),
            Some(0x7f20a000)
        );
        assert_eq!(super::maps_kvm_run(maps, "anon_inode:kvm-vcpu:2"), None);
    }
}

/// Copies memory of `pid` at `addr` into `buf`; returns the number of bytes copied, which is
/// short where the range crosses into unreadable memory. Falls back to `/proc/PID/mem` when
/// `process_vm_readv` is not permitted.
pub fn read_mem(pid: i32, addr: u64, buf: &mut [u8]) -> usize {
    match vm_read(pid, addr, buf) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => read_mem_procfs(pid, addr, buf),
        Err(_) => 0,
    }
}

/// Two ranges of `pid` in one `process_vm_readv` (the second may be empty): the bytes
/// copied in all, in order (the kernel stops at the first unreadable byte, so a count past
/// the first range's length means the first is whole). 0 on any error.
pub fn vm_read_two(pid: i32, a: (u64, &mut [u8]), b: (u64, &mut [u8])) -> usize {
    let local = [
        libc::iovec {
            iov_base: a.1.as_mut_ptr().cast(),
            iov_len: a.1.len(),
        },
        libc::iovec {
            iov_base: b.1.as_mut_ptr().cast(),
            iov_len: b.1.len(),
        },
    ];
    let remote = [
        libc::iovec {
            iov_base: a.0 as *mut libc::c_void,
            iov_len: a.1.len(),
        },
        libc::iovec {
            iov_base: b.0 as *mut libc::c_void,
            iov_len: b.1.len(),
        },
    ];
    let n = if b.1.is_empty() { 1 } else { 2 };
    // SAFETY: each local iovec describes a buffer we own mutably for the call; the remote
    // ones are only read by the kernel, which validates them against the target.
    let got = unsafe { libc::process_vm_readv(pid, local.as_ptr(), n, remote.as_ptr(), n, 0) };
    usize::try_from(got).unwrap_or(0)
}

/// One `process_vm_readv`: the kernel copies up to the first unreadable page and returns
/// that count. Never faults the target.
pub fn vm_read(pid: i32, addr: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: `local` describes `buf`, which we own mutably for the duration of the call;
    // the remote iovec is only read by the kernel, which validates it against the target.
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
}

/// One `process_vm_readv` of up to `len` bytes at `addr` into a new vector, which holds
/// exactly the bytes copied (short where the range runs into unreadable memory). The
/// buffer is not zeroed first: only what the kernel wrote is ever exposed.
pub fn vm_read_vec(pid: i32, addr: u64, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = Vec::with_capacity(len);
    if len == 0 {
        return v;
    }
    let spare = v.spare_capacity_mut();
    let local = libc::iovec {
        iov_base: spare.as_mut_ptr().cast(),
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: len,
    };
    // SAFETY: `local` describes the vector's spare capacity (at least `len` bytes, owned
    // here); the kernel writes at most `len` bytes into it and returns how many.
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    let n = usize::try_from(n).unwrap_or(0).min(len);
    // SAFETY: the first `n` bytes were written by the kernel just now.
    unsafe { v.set_len(n) };
    v
}

fn read_mem_procfs(pid: i32, addr: u64, buf: &mut [u8]) -> usize {
    use std::os::unix::fs::FileExt;
    let Ok(f) = std::fs::File::open(format!("/proc/{pid}/mem")) else {
        return 0;
    };
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], addr.wrapping_add(done as u64)) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_ranges_in_one_read() {
        let me = std::process::id() as i32;
        let ptr = 0x1234_5678u64.to_le_bytes();
        let text = b"SELECT 1\0".to_vec();
        let (mut a, mut b) = ([0u8; 8], [0u8; 9]);
        let n = vm_read_two(
            me,
            (ptr.as_ptr() as u64, &mut a),
            (text.as_ptr() as u64, &mut b),
        );
        assert_eq!((n, a, &b[..]), (17, ptr, &text[..]));
        // The second range unreadable: only the first counts.
        let n = vm_read_two(me, (ptr.as_ptr() as u64, &mut a), (8, &mut b));
        assert_eq!(n, 8);
        // The second empty.
        assert_eq!(
            vm_read_two(me, (ptr.as_ptr() as u64, &mut a), (0, &mut [])),
            8
        );
        assert_eq!(vm_read_two(me, (8, &mut a), (0, &mut [])), 0);
    }

    #[test]
    fn vec_reads_hold_exactly_what_was_copied() {
        let data = b"hello, tracee".to_vec();
        let me = std::process::id() as i32;
        assert_eq!(vm_read_vec(me, data.as_ptr() as u64, data.len()), data);
        assert_eq!(vm_read_vec(me, data.as_ptr() as u64, 5), b"hello");
        assert!(vm_read_vec(me, 8, 64).is_empty());
        assert!(vm_read_vec(me, data.as_ptr() as u64, 0).is_empty());
    }

    #[test]
    fn reads_own_memory_and_stops_at_unmapped() {
        let data = b"hello, tracee".to_vec();
        let me = std::process::id() as i32;
        let mut buf = vec![0u8; data.len()];
        assert_eq!(read_mem(me, data.as_ptr() as u64, &mut buf), data.len());
        assert_eq!(buf, data);
        let mut buf = [0u8; 16];
        assert_eq!(read_mem(me, 8, &mut buf), 0);
    }
}
