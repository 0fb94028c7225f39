//! The x86-64 system call table, argument decoders, and the flag, errno and signal tables.
//!
//! Everything here is pure: decoders are functions of the raw registers and a [`Tracee`] that
//! answers memory reads, so they run the same on a live process and on a test fake. Nothing in
//! this module knows about ptrace, output formats or PostgreSQL.

pub mod decode;
pub mod errno;
pub mod notation;
pub mod nr;
pub mod signals;
pub mod table;
pub mod value;

pub use value::{Ret, Value};

/// What a decoder may ask of the traced process. Implemented by `remote::ProcMem` for a
/// live process and by fakes in tests.
pub trait Tracee {
    /// Whether reads are exact: the process is held stopped (ptrace), so memory cannot
    /// change under the read. A kernel-side source reads a running process: racy.
    fn exact(&self) -> bool;
    /// Copies up to `buf.len()` bytes from `addr` in the tracee; returns how many bytes were
    /// copied. A short count means the rest was unreadable. Never panics.
    fn read_mem(&self, addr: u64, buf: &mut [u8]) -> usize;
    /// The path behind file descriptor `fd`, as `readlink /proc/PID/fd/FD` says, if any.
    fn fd_path(&self, fd: i32) -> Option<String>;
    /// `-yy`: what strace prints for descriptor `fd` beyond its `-y` path `path` (a socket's
    /// protocol and endpoints, a device's numbers), already escaped; `None`: the path.
    fn fd_detail(&self, _fd: i32, _path: &str) -> Option<String> {
        None
    }
    /// Whether descriptor `fd` is a netlink socket: `None` if not (or not known), else its
    /// protocol (`NETLINK_ROUTE` is 0) when the kernel lists the socket, `Some(None)` when it
    /// does not (a socket not bound yet).
    fn netlink_protocol(&self, _fd: i32) -> Option<Option<u32>> {
        None
    }
    /// The path behind descriptor `fd` of another process `pid` (pidfd_getfd's target).
    fn fd_path_of(&self, _pid: i32, _fd: i32) -> Option<String> {
        None
    }
    /// Where the tracee maps the `struct kvm_run` of vCPU descriptor `fd` (`-e kvm=vcpu`).
    fn kvm_run(&self, _fd: i32) -> Option<u64> {
        None
    }
    /// Whether a value handed out so far was read from the running process after the event
    /// it belongs to (a kernel-side source's late read), not at it.
    fn read_late(&self) -> bool {
        false
    }
    /// At a syscall exit a kernel-side source read ahead and showed the consumer early
    /// (`Consumer::early_exit`): whether that look was still current, i.e. the task had not
    /// returned from the same call again before the look ended. `None`: no early look.
    fn early_look(&self) -> Option<bool> {
        None
    }

    /// Reads up to `max` bytes of a NUL-terminated string at `addr`: the bytes and whether
    /// the string went on past `max` (no NUL within it). `None` if nothing at `addr` could be
    /// read. Reads page by page, so a string that ends just before an unmapped page is read
    /// whole. The one C-string reader: decoders and the backend-memory readers use it.
    fn read_cstr(&self, addr: u64, max: usize) -> Option<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        let mut cur = addr;
        loop {
            let page_left = 4096 - (cur % 4096) as usize;
            let want = page_left.min(max + 1 - out.len()).max(1);
            let mut buf = vec![0u8; want];
            let got = self.read_mem(cur, &mut buf);
            if got == 0 {
                // Unterminated before unreadable memory: what we have.
                return (!out.is_empty()).then_some((out, false));
            }
            let got_bytes = buf.get(..got).unwrap_or_default();
            if let Some(nul) = got_bytes.iter().position(|&b| b == 0) {
                out.extend_from_slice(got_bytes.get(..nul).unwrap_or_default());
                let truncated = out.len() > max;
                out.truncate(max);
                return Some((out, truncated));
            }
            out.extend_from_slice(got_bytes);
            if out.len() > max {
                out.truncate(max);
                return Some((out, true));
            }
            if got < want {
                return Some((out, false));
            }
            cur = cur.wrapping_add(got as u64);
        }
    }
}

/// Options that change what decoders produce.
#[derive(Clone, Copy, Debug)]
pub struct DecodeOpts {
    /// `-s N`: the longest string printed; file names are exempt.
    pub string_limit: usize,
    /// `-y`: attach paths to file descriptors.
    pub decode_fds: bool,
    /// `-yy` (`--decode-fds=socket`, `=dev`): sockets' endpoints, devices' numbers.
    pub fd_sockets: bool,
    pub fd_devs: bool,
    /// `-yy` (`--decode-fds=pidfd`): a pidfd as the process it refers to (`<pid:1234>`).
    pub fd_pidfds: bool,
    /// The longest array printed before `...`.
    pub max_array: usize,
    /// strace's default abbreviation of large structures (the environment, `struct stat`,
    /// ...); off for the calls of `-v` / `-e abbrev=`.
    pub abbrev: bool,
    /// `-X`: how named constants and flags of the arguments are printed.
    pub const_style: ConstStyle,
    /// `-Y`/`--decode-pids=`: what process ids are printed with.
    pub decode_pids: DecodePids,
    /// `-e kvm=vcpu`: each `KVM_RUN`'s exit reason after its return value.
    pub kvm_vcpu: bool,
}

/// `--decode-pids=comm,pidns`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodePids {
    /// Command names: `1234<postgres>` (`-Y`).
    pub comm: bool,
    /// A namespaced tracee's pids also as pgstrace's namespace numbers them:
    /// `1 /* 4242 in pgstrace's PID NS */`.
    pub pidns: bool,
}

impl DecodePids {
    /// Whether pids are marked at all.
    pub fn any(self) -> bool {
        self.comm || self.pidns
    }
}

/// strace's `-X raw|abbrev|verbose` (`--const-print-style`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConstStyle {
    /// `O_RDONLY|O_CLOEXEC` (the default).
    #[default]
    Abbrev,
    /// `0x80000`.
    Raw,
    /// `0x80000 /* O_RDONLY|O_CLOEXEC */`.
    Verbose,
}

impl Default for DecodeOpts {
    fn default() -> Self {
        DecodeOpts {
            string_limit: 32,
            decode_fds: false,
            fd_sockets: false,
            fd_devs: false,
            fd_pidfds: false,
            max_array: 32,
            abbrev: true,
            const_style: ConstStyle::Abbrev,
            decode_pids: DecodePids::default(),
            kvm_vcpu: false,
        }
    }
}
