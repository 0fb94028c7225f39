//! Stack unwinding of a tracee from a [`Snapshot`](crate::remote::regs::Snapshot): framehop
//! driven by DWARF CFI (`.eh_frame`) of each module, frame pointers only where a module has
//! no CFI, kernel signal frames crossed by hand, and the per-process module cache.
//!
//! The unwind itself does no I/O: it reads only the snapshot's copy of the stack and the
//! already-loaded [`Modules`], so it runs after the tracee was resumed.

pub mod cfi;
pub mod clock;
pub mod image;
pub mod modules;

pub use image::ImageCache;
pub use modules::{Module, Modules, ProcessModules};
#[cfg(test)]
pub use modules::{ModuleEnv, ProcEnv};

use crate::remote::regs::Snapshot;
use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64};
use framehop::{FrameAddress, Unwinder};

/// How a frame's address was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// The instruction pointer of the stop itself.
    FirstFrame,
    /// The return address was recovered with the CFI of the frame below.
    Cfi,
    /// The frame below was in a module without CFI (no `.eh_frame`): the return address
    /// came from the frame-pointer chain (`[rbp+8]`).
    FramePointer,
    /// The frame below had CFI in its module, but no FDE covers its address (or it lay in
    /// no module at all): the frame-pointer chain was used.
    FramePointerNoFde,
    /// The top frame had no CFI: taken as a leaf, the return address is `[rsp]`.
    LeafReturn,
    /// The frame below was a signal trampoline (`__restore_rt`): the address is the
    /// instruction the signal interrupted, read from the kernel's `ucontext` on the stack.
    SignalFrame,
}

/// One frame of a stack, innermost first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The runtime address (AVMA): the stop's rip for the first frame, the interrupted rip
    /// after a signal frame, and otherwise the return address (the instruction after the
    /// call), which is what strace -k prints.
    pub avma: u64,
    /// The address to symbolize and look unwind info up with: `avma - 1` for a return
    /// address (inside the call instruction, so a call that ends a function is not put in
    /// the next one), `avma` itself for the first frame, after a signal frame, and for a
    /// return address that is a signal trampoline's first instruction.
    pub lookup_avma: u64,
    /// Index into `Modules::list` of the module `lookup_avma` falls in.
    pub module: Option<usize>,
    /// `avma` as a file address (SVMA) of that module.
    pub svma: Option<u64>,
    pub how: How,
}

impl Frame {
    /// Whether `avma` is a return address (looked up one byte earlier): every frame but
    /// the first, a frame interrupted by a signal, and a signal trampoline's first byte.
    /// Symbolize with `lookup_return_address(svma)` when true, `lookup(svma)` otherwise.
    pub fn is_return_address(&self) -> bool {
        self.lookup_avma != self.avma
    }
}

/// Frames beyond this are not followed (deep recursion in the planner can make thousands).
pub const DEFAULT_MAX_FRAMES: usize = 256;

/// Unwinds a snapshot with the modules of its process, up to [`DEFAULT_MAX_FRAMES`].
/// For many stacks, keep an [`UnwindCache`] and call [`UnwindCache::unwind`] instead.
#[cfg(test)]
pub fn unwind(snap: &Snapshot, modules: &Modules) -> Vec<Frame> {
    UnwindCache::new().unwind(snap, modules, DEFAULT_MAX_FRAMES)
}

/// framehop's rule cache, kept across unwinds: return addresses seen before are unwound
/// without evaluating CFI again. One per session is enough; it is keyed by address and by
/// the modules' generation, so it may be shared by all processes.
pub struct UnwindCache {
    cache: CacheX86_64,
}

impl Default for UnwindCache {
    fn default() -> Self {
        UnwindCache::new()
    }
}

impl UnwindCache {
    pub fn new() -> Self {
        UnwindCache {
            cache: CacheX86_64::new(),
        }
    }

    /// Unwinds `snap` with the modules of its process, at most `max_frames` frames.
    pub fn unwind(&mut self, snap: &Snapshot, modules: &Modules, max_frames: usize) -> Vec<Frame> {
        unwind_impl(&mut self.cache, snap, modules, max_frames)
    }
}

// Offsets in the kernel's x86-64 rt_sigframe, from the stack pointer at __restore_rt
// (the handler's `ret` popped pretcode, so rsp points at the ucontext): uc_flags, uc_link
// and uc_stack take 40 bytes, then mcontext gregs r8..r15, rdi, rsi, rbp, rbx, rdx, rax,
// rcx, rsp, rip.
const UC_RBP: u64 = 40 + 10 * 8;
const UC_RSP: u64 = 40 + 15 * 8;
const UC_RIP: u64 = 40 + 16 * 8;

/// At an `rt_sigreturn` entry the stack pointer is at the kernel's `ucontext`: the context
/// the signal interrupted, which is what the stack of that call should show (strace does).
/// Returns a snapshot of the interrupted code: its rip, rsp and rbp from the ucontext, and
/// its stack from the copy when the copy reaches it (the handler ran on the same stack) or
/// from `read` (a `sigaltstack`), at most `max_stack` bytes. `None` when the ucontext is not
/// in the copy.
pub fn interrupted_context(
    snap: &Snapshot,
    max_stack: usize,
    read: impl Fn(u64, &mut [u8]) -> usize,
) -> Option<Snapshot> {
    let sp = snap.rsp;
    let rip = snap.read_u64(sp.wrapping_add(UC_RIP))?;
    let rsp = snap.read_u64(sp.wrapping_add(UC_RSP))?;
    let rbp = snap.read_u64(sp.wrapping_add(UC_RBP))?;
    let copied_end = snap.rsp.checked_add(snap.stack.len() as u64)?;
    let stack = if (snap.rsp..copied_end).contains(&rsp) {
        let off = usize::try_from(rsp - snap.rsp).ok()?;
        snap.stack.get(off..)?.to_vec()
    } else {
        let mut buf = vec![0u8; max_stack];
        let n = read(rsp, &mut buf);
        buf.truncate(n);
        buf
    };
    Some(Snapshot {
        pid: snap.pid,
        rip,
        rsp,
        rbp,
        stack,
    })
}

fn unwind_impl(
    cache: &mut CacheX86_64,
    snap: &Snapshot,
    modules: &Modules,
    max_frames: usize,
) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut regs = UnwindRegsX86_64::new(snap.rip, snap.rsp, snap.rbp);
    let mut read_stack = |addr: u64| snap.read_u64(addr).ok_or(());
    let mut addr = FrameAddress::from_instruction_pointer(snap.rip);
    let mut how = How::FirstFrame;
    while frames.len() < max_frames {
        let avma = addr.address();
        let mut lookup = addr.address_for_lookup();
        // A handler "returns" to the trampoline's first byte; name and unwind it there.
        if addr.is_return_address()
            && modules
                .find(avma)
                .and_then(|(_, m)| m.fde_at(avma))
                .is_some_and(|f| f.signal)
        {
            lookup = avma;
        }
        let found = modules.find(lookup);
        frames.push(Frame {
            avma,
            lookup_avma: lookup,
            module: found.map(|(i, _)| i),
            svma: found.map(|(_, m)| m.svma(avma)),
            how,
        });
        let fde = found.and_then(|(_, m)| m.fde_at(lookup));
        if fde.is_some_and(|f| f.signal) {
            // framehop's registers are only rip/rsp/rbp and its expression evaluator cannot
            // dereference memory, so the sigreturn frame's CFI is applied here directly.
            let sp = regs.sp();
            let (Some(ip), Some(new_sp), Some(bp)) = (
                snap.read_u64(sp.wrapping_add(UC_RIP)),
                snap.read_u64(sp.wrapping_add(UC_RSP)),
                snap.read_u64(sp.wrapping_add(UC_RBP)),
            ) else {
                break;
            };
            if ip == 0 {
                break;
            }
            regs = UnwindRegsX86_64::new(ip, new_sp, bp);
            addr = FrameAddress::from_instruction_pointer(ip);
            how = How::SignalFrame;
            continue;
        }
        let next_how = match (fde, addr) {
            (Some(_), _) => How::Cfi,
            (None, FrameAddress::InstructionPointer(_)) => How::LeafReturn,
            (None, FrameAddress::ReturnAddress(_)) => match found {
                Some((_, m)) if !m.has_cfi() => How::FramePointer,
                _ => How::FramePointerNoFde,
            },
        };
        let sp_before = regs.sp();
        match modules
            .unwinder
            .unwind_frame(addr, &mut regs, cache, &mut read_stack)
        {
            Ok(Some(ra)) => {
                // A return address must leave the stack pointer higher; anything else loops.
                if ra == 0 || (addr.is_return_address() && regs.sp() <= sp_before) {
                    break;
                }
                match FrameAddress::from_return_address(ra) {
                    Some(a) => addr = a,
                    None => break,
                }
                how = next_how;
            }
            Ok(None) | Err(_) => break,
        }
    }
    frames
}

#[cfg(test)]
mod tests;
