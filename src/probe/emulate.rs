//! Executing a probed instruction without a single step: for the few instructions that open
//! most functions (`push %reg`, `mov %reg,%reg`, `endbr64`, `nop`), the breakpoint stop
//! does what the instruction would do to the registers (and, for `push`, to the stack) and
//! moves rip past it. The `int3` stays in place, so a hit is one stop instead of two (the
//! trap and the step's trap), and there is never a moment when the original byte is back
//! in the text.
//!
//! Only instructions whose whole effect is known exactly are emulated: no flags change, no
//! memory is read, one 8-byte stack slot at most is written. Anything else is stepped.
//! Pure: decoding with iced-x86 and register arithmetic, unit-tested without a process.

use iced_x86::{Code, Decoder, DecoderOptions, Mnemonic, OpKind, Register};

/// What the instruction at a probe does, when it can be done by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emul {
    /// `push %reg` (64-bit).
    Push { reg: Register, len: u8 },
    /// `mov %src,%dst` (64-bit registers).
    Mov {
        dst: Register,
        src: Register,
        len: u8,
    },
    /// `endbr64`, `nop`: only rip moves.
    Skip { len: u8 },
}

/// The emulation of the instruction `code` starts with (its original bytes), if it is one
/// of those done by hand.
pub fn plan(code: &[u8], ip: u64) -> Option<Emul> {
    let mut d = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let i = d.decode();
    if i.is_invalid() {
        return None;
    }
    let len = u8::try_from(i.len()).ok()?;
    let gpr64 = |r: Register| is_gpr64(r) && r != Register::RSP;
    match i.mnemonic() {
        Mnemonic::Endbr64 | Mnemonic::Nop => Some(Emul::Skip { len }),
        Mnemonic::Push
            if i.op_count() == 1 && i.op0_kind() == OpKind::Register && gpr64(i.op0_register()) =>
        {
            Some(Emul::Push {
                reg: i.op0_register(),
                len,
            })
        }
        Mnemonic::Mov
            if matches!(i.code(), Code::Mov_rm64_r64 | Code::Mov_r64_rm64)
                && i.op0_kind() == OpKind::Register
                && i.op1_kind() == OpKind::Register
                && is_gpr64(i.op0_register())
                && is_gpr64(i.op1_register()) =>
        {
            Some(Emul::Mov {
                dst: i.op0_register(),
                src: i.op1_register(),
                len,
            })
        }
        _ => None,
    }
}

fn is_gpr64(r: Register) -> bool {
    // SAFETY: a plain C struct of integers; all zeroes is a valid value.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    reg(&mut regs, r).is_some()
}

fn reg(r: &mut libc::user_regs_struct, which: Register) -> Option<&mut u64> {
    Some(match which {
        Register::RAX => &mut r.rax,
        Register::RBX => &mut r.rbx,
        Register::RCX => &mut r.rcx,
        Register::RDX => &mut r.rdx,
        Register::RSI => &mut r.rsi,
        Register::RDI => &mut r.rdi,
        Register::RBP => &mut r.rbp,
        Register::RSP => &mut r.rsp,
        Register::R8 => &mut r.r8,
        Register::R9 => &mut r.r9,
        Register::R10 => &mut r.r10,
        Register::R11 => &mut r.r11,
        Register::R12 => &mut r.r12,
        Register::R13 => &mut r.r13,
        Register::R14 => &mut r.r14,
        Register::R15 => &mut r.r15,
        _ => return None,
    })
}

/// Applies `e` to registers stopped on the instruction (rip at its start). Returns the
/// 8 bytes to write to the stack and where, for a push. `None`: not applicable (then the
/// instruction is stepped instead).
pub fn apply(e: Emul, r: &mut libc::user_regs_struct) -> Option<Option<(u64, [u8; 8])>> {
    match e {
        Emul::Skip { len } => {
            r.rip = r.rip.wrapping_add(u64::from(len));
            Some(None)
        }
        Emul::Mov { dst, src, len } => {
            let v = *reg(r, src)?;
            *reg(r, dst)? = v;
            r.rip = r.rip.wrapping_add(u64::from(len));
            Some(None)
        }
        Emul::Push { reg: which, len } => {
            let v = *reg(r, which)?;
            r.rsp = r.rsp.wrapping_sub(8);
            r.rip = r.rip.wrapping_add(u64::from(len));
            Some(Some((r.rsp, v.to_le_bytes())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs() -> libc::user_regs_struct {
        // SAFETY: a plain C struct of integers; all zeroes is a valid value.
        let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        r.rip = 0x1000;
        r.rsp = 0x7ff8;
        r.rbp = 0xbbbb;
        r.rdi = 0xd1;
        r.r15 = 0xf15;
        r
    }

    #[test]
    fn function_openings_are_emulated() {
        let mut r = regs();
        // push %rbp
        let e = plan(&[0x55, 0x48, 0x89, 0xe5], 0x1000);
        assert_eq!(
            e,
            Some(Emul::Push {
                reg: Register::RBP,
                len: 1
            })
        );
        let w = e.and_then(|e| apply(e, &mut r));
        assert_eq!(w, Some(Some((0x7ff0, 0xbbbbu64.to_le_bytes()))));
        assert_eq!((r.rip, r.rsp), (0x1001, 0x7ff0));
        // mov %rsp,%rbp
        let e = plan(&[0x48, 0x89, 0xe5], 0x1001);
        assert_eq!(
            e,
            Some(Emul::Mov {
                dst: Register::RBP,
                src: Register::RSP,
                len: 3
            })
        );
        assert_eq!(e.and_then(|e| apply(e, &mut r)), Some(None));
        assert_eq!((r.rip, r.rbp), (0x1004, 0x7ff0));
        // push %r15 (REX.B)
        let mut r = regs();
        let e = plan(&[0x41, 0x57], 0x1000);
        assert_eq!(
            e,
            Some(Emul::Push {
                reg: Register::R15,
                len: 2
            })
        );
        let w = e.and_then(|e| apply(e, &mut r));
        assert_eq!(w, Some(Some((0x7ff0, 0xf15u64.to_le_bytes()))));
        // endbr64, nopw
        assert_eq!(
            plan(&[0xf3, 0x0f, 0x1e, 0xfa], 0),
            Some(Emul::Skip { len: 4 })
        );
        assert_eq!(plan(&[0x66, 0x90], 0), Some(Emul::Skip { len: 2 }));
    }

    #[test]
    fn anything_with_flags_memory_or_rip_is_stepped() {
        for code in [
            &[0x48, 0x83, 0xec, 0x18][..],   // sub $0x18,%rsp: flags
            &[0x48, 0x85, 0xff],             // test %rdi,%rdi
            &[0x48, 0x8b, 0x47, 0x20],       // mov 0x20(%rdi),%rax: a load
            &[0x48, 0x8d, 0x05, 0, 0, 0, 0], // lea (%rip): rip-relative
            &[0xe8, 0, 0, 0, 0],             // call
            &[0x89, 0xf8],                   // mov %edi,%eax: 32-bit (zero-extends)
            &[0x54],                         // push %rsp
            &[0xff, 0x35, 0, 0, 0, 0],       // push (%rip)
            &[0x0f],                         // truncated
            &[],
        ] {
            assert_eq!(plan(code, 0x1000), None, "{code:02x?}");
        }
    }
}
