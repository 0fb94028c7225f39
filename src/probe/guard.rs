//! Guards decided before a breakpoint is armed.
//!
//! - Functions where a backend held stopped stalls or crashes the whole cluster are refused
//!   unless `--force`: WAL insertion and flushing hold WAL insertion locks that every
//!   writing backend waits for; LWLock and spinlock code holds locks other backends spin on
//!   (a spinlock held ~2 minutes ends in `PANIC: stuck spinlock detected` and a crash-restart
//!   of every backend); signal handlers run with the server's state half-updated.
//! - A breakpoint goes only on an instruction boundary: the function is decoded from its
//!   start with iced-x86 and a mid-instruction offset is refused, with no override (an
//!   `int3` in the middle of an instruction changes what the CPU executes).
//! - An instruction whose operand is rip-relative cannot be single-stepped from a copy
//!   elsewhere: it is stepped in place.

use iced_x86::{Decoder, DecoderOptions, Instruction, OpKind};

/// Why a function is refused without `--force` (`docs/probe.md` repeats the list).
pub fn refusal(func: &str) -> Option<&'static str> {
    const WAL: &str = "holds a WAL insertion lock or the WAL write lock: every backend that \
                       writes WAL waits for it while the probe holds this one";
    const LWLOCK: &str = "manipulates LWLocks: backends waiting for the lock block as long \
                          as the probe holds this one";
    const SPIN: &str = "runs with a spinlock held or spins on one: other backends spinning on \
                        it end in 'PANIC: stuck spinlock detected' and a restart of the cluster";
    const HANDLER: &str = "is a signal handler: it runs with the interrupted code's state half \
                           updated and must return at once";
    const CRIT: &str = "runs inside a critical section: any error there is a PANIC";
    Some(match func {
        "XLogInsertRecord"
        | "XLogFlush"
        | "XLogWrite"
        | "XLogBackgroundFlush"
        | "WALInsertLockAcquire"
        | "WALInsertLockAcquireExclusive"
        | "WALInsertLockRelease"
        | "WALInsertLockUpdateInsertingAt"
        | "WaitXLogInsertionsToFinish"
        | "ReserveXLogInsertLocation"
        | "CopyXLogRecordToWAL"
        | "GetXLogBuffer"
        | "AdvanceXLInsertBuffer" => WAL,
        "LWLockAcquire"
        | "LWLockAcquireOrWait"
        | "LWLockConditionalAcquire"
        | "LWLockRelease"
        | "LWLockReleaseAll"
        | "LWLockWaitForVar"
        | "LWLockUpdateVar"
        | "LWLockAttemptLock"
        | "LWLockWakeup"
        | "LWLockQueueSelf"
        | "LWLockDequeueSelf" => LWLOCK,
        "s_lock" | "perform_spin_delay" | "finish_spin_delay" | "init_spin_delay" | "tas"
        | "s_unlock" | "SpinLockAcquire" | "SpinLockRelease" | "pg_spin_delay" | "LockBufHdr"
        | "WaitBufHdrUnlocked" => SPIN,
        "procsignal_sigusr1_handler"
        | "StatementCancelHandler"
        | "die"
        | "quickdie"
        | "SignalHandlerForConfigReload"
        | "SignalHandlerForShutdownRequest"
        | "handle_sig_alarm"
        | "wakeup_handler"
        | "sigusr1_handler"
        | "reaper"
        | "pmdie"
        | "SIGHUP_handler"
        | "latch_sigurg_handler" => HANDLER,
        "START_CRIT_SECTION" | "END_CRIT_SECTION" | "MarkBufferDirty" | "XLogRegisterBuffer"
        | "XLogRegisterData" | "XLogBeginInsert" => CRIT,
        _ => return None,
    })
}

/// Offsets (from the function's start) at which instructions begin, decoding `code` from
/// its first byte; decoding stops at the first byte that is not an instruction.
pub fn boundaries(code: &[u8], start: u64) -> Vec<u64> {
    let mut d = Decoder::with_ip(64, code, start, DecoderOptions::NONE);
    let mut out = Vec::new();
    let mut ins = Instruction::default();
    while d.can_decode() {
        d.decode_out(&mut ins);
        if ins.is_invalid() {
            break;
        }
        out.push(ins.ip() - start);
    }
    out
}

/// Whether `offset` begins an instruction of the function whose bytes are `code`.
pub fn is_boundary(code: &[u8], offset: u64) -> bool {
    boundaries(code, 0).binary_search(&offset).is_ok()
}

/// Whether the instruction at the start of `code` (at address `ip`) uses a rip-relative
/// memory operand or is a relative branch: executed from a copy at another address it would
/// read or jump elsewhere, so it must be stepped in place.
pub fn position_dependent(code: &[u8], ip: u64) -> bool {
    let mut d = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let ins = d.decode();
    if ins.is_invalid() {
        return true;
    }
    // A relative branch or call has its target as a near-branch operand.
    let relative_branch = (0..ins.op_count()).any(|i| {
        matches!(
            ins.op_kind(i),
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
        )
    });
    ins.is_ip_rel_memory_operand() || relative_branch
}

#[cfg(test)]
mod tests {
    use super::*;

    // push rbp; mov rbp,rsp; mov eax,[rip+0x10]; add rax,0x12345678; ret
    const CODE: [u8; 17] = [
        0x55, 0x48, 0x89, 0xe5, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00, 0x48, 0x05, 0x78, 0x56, 0x34,
        0x12, 0xc3,
    ];

    #[test]
    fn boundaries_from_the_start() {
        assert_eq!(boundaries(&CODE, 0x1000), vec![0, 1, 4, 10, 16]);
        assert!(is_boundary(&CODE, 4));
        // Inside `mov eax,[rip+0x10]` and inside the immediate of `add`.
        assert!(!is_boundary(&CODE, 5));
        assert!(!is_boundary(&CODE, 12));
        assert!(!is_boundary(&CODE, 17));
    }

    #[test]
    fn rip_relative_and_branches_are_stepped_in_place() {
        assert!(!position_dependent(&CODE[0..], 0x1000));
        assert!(position_dependent(&CODE[4..], 0x1004));
        assert!(!position_dependent(&CODE[10..], 0x100a));
        // call rel32; jmp rel8; je rel8
        assert!(position_dependent(&[0xe8, 0, 0, 0, 0], 0));
        assert!(position_dependent(&[0xeb, 0x02], 0));
        assert!(position_dependent(&[0x74, 0x02], 0));
    }

    #[test]
    fn the_dangerous_functions_are_refused_with_a_reason() {
        for f in [
            "XLogInsertRecord",
            "XLogFlush",
            "LWLockAcquire",
            "s_lock",
            "die",
        ] {
            assert!(refusal(f).is_some_and(|r| !r.is_empty()), "{f}");
        }
        assert!(refusal("dsm_create").is_none());
        assert!(refusal("ExecInitParallelPlan").is_none());
        assert!(refusal("s_lock").is_some_and(|r| r.contains("stuck spinlock")));
    }
}
