//! Signal names, signal sets and `siginfo_t` decoding, in strace 6.1's notation.
//!
//! Real-time signals are named after the kernel's numbering (`SIGRTMIN` is 32, `SIGRT_3` is
//! 35), not glibc's (whose `SIGRTMIN` is 34): that is what strace prints.

use super::Value;
use super::errno;
use std::borrow::Cow;

/// The kernel's first real-time signal; strace names it `SIGRTMIN`.
const RTMIN: i32 = 32;
/// The last signal a 64-bit `sigset_t` can hold.
const RTMAX: i32 = 64;

/// Signals 1..=31 without the `SIG` prefix, indexed by number - 1. 6 is ABRT (not IOT) and 29
/// is IO (not POLL), as strace prints them.
const CLASSIC: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// The full names, so `name` can hand out `&'static str` for the common signals.
const CLASSIC_SIG: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// A signal's name without the `SIG` prefix (`USR1`, `RTMIN`, `RT_3`), as signal sets print
/// it; `None` outside 1..=64.
fn short_name(sig: i32) -> Option<Cow<'static, str>> {
    match sig {
        1..=31 => CLASSIC.get((sig - 1) as usize).map(|s| Cow::Borrowed(*s)),
        RTMIN => Some(Cow::Borrowed("RTMIN")),
        33..=RTMAX => Some(Cow::Owned(format!("RT_{}", sig - RTMIN))),
        _ => None,
    }
}

/// `SIGUSR1` for 10, `SIGRTMIN` for 32, `SIGRT_3` for 35; other numbers (0, 65, -1) in
/// decimal, as strace prints them.
pub fn name(sig: i32) -> Cow<'static, str> {
    match sig {
        1..=31 => CLASSIC_SIG
            .get((sig - 1) as usize)
            .map(|s| Cow::Borrowed(*s))
            .unwrap_or_else(|| Cow::Owned(sig.to_string())),
        RTMIN => Cow::Borrowed("SIGRTMIN"),
        33..=RTMAX => Cow::Owned(format!("SIGRT_{}", sig - RTMIN)),
        _ => Cow::Owned(sig.to_string()),
    }
}

/// Whether the default action of `sig` ends the process (terminate or core dump).
pub fn default_is_fatal(sig: i32) -> bool {
    // SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH do not.
    !matches!(sig, 17 | 18 | 19 | 20 | 21 | 22 | 23 | 28) && (1..=64).contains(&sig)
}

/// A signal as an argument value: its name, or a decimal number if it has none.
pub fn value(sig: i32) -> Value {
    match sig {
        1..=RTMAX => Value::Sym(name(sig)),
        _ => Value::Int(sig.into()),
    }
}

/// The number of signal `name`, accepting what strace's `-e signal=` accepts: `SIGUSR1`,
/// `USR1`, any letter case, `RTMIN`, `RT_1`..`RT_32` (no leading zeros), and decimal numbers
/// 0..=255 (leading zeros allowed). Aliases such as `IOT`, `POLL`, `CLD` are rejected.
pub fn by_name(name: &str) -> Option<i32> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        // strace accepts numbers up to 255 whether or not the signal exists.
        let digits = name.trim_start_matches('0');
        if digits.len() > 3 {
            return None;
        }
        let n: i32 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        return (n <= 255).then_some(n);
    }
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(i) = CLASSIC.iter().position(|&s| s == bare) {
        return Some(i as i32 + 1);
    }
    if bare == "RTMIN" {
        return Some(RTMIN);
    }
    let rt = bare.strip_prefix("RT_")?;
    if rt.is_empty() || rt.starts_with('0') || !rt.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i32 = rt.parse().ok()?;
    (1..=RTMAX - RTMIN).contains(&n).then_some(RTMIN + n)
}

/// A 64-bit signal set as strace prints it: `[USR1 ALRM]`, `[]`, or, when 42 or more of the
/// 64 signals are in it, the complement `~[KILL STOP]` (`~[]` for all).
///
/// A [`Value::Raw`] because the items are space-separated, which no other variant prints.
pub fn sigset(mask: u64) -> Value {
    sigset_styled(mask, crate::syscalls::ConstStyle::Abbrev)
}

/// [`sigset`] under `-X`: the signals as numbers (`[10 12]`), under verbose each with its
/// name in a comment (`[10 /* USR1 */ 12 /* USR2 */]`).
pub fn sigset_styled(mask: u64, style: crate::syscalls::ConstStyle) -> Value {
    use crate::syscalls::ConstStyle;
    // strace's threshold, measured: 41 set bits print plainly, 42 print inverted.
    let inverted = mask.count_ones() >= 42;
    let shown = if inverted { !mask } else { mask };
    let mut s = String::with_capacity(64);
    if inverted {
        s.push('~');
    }
    s.push('[');
    let mut first = true;
    for bit in 0..64 {
        if shown & (1u64 << bit) != 0 {
            if !first {
                s.push(' ');
            }
            first = false;
            match (short_name(bit + 1), style) {
                (Some(n), ConstStyle::Abbrev) => s.push_str(&n),
                (Some(n), ConstStyle::Verbose) => s.push_str(&format!("{} /* {n} */", bit + 1)),
                _ => s.push_str(&(bit + 1).to_string()),
            }
        }
    }
    s.push(']');
    Value::Raw(s)
}

// si_code values common to all signals (include/uapi/asm-generic/siginfo.h).
const SI_USER: i32 = 0;
const SI_KERNEL: i32 = 0x80;
const SI_QUEUE: i32 = -1;
const SI_TIMER: i32 = -2;
const SI_MESGQ: i32 = -3;
const SI_ASYNCIO: i32 = -4;
const SI_SIGIO: i32 = -5;
const SI_TKILL: i32 = -6;
const SI_DETHREAD: i32 = -7;
const SI_ASYNCNL: i32 = -60;

const SIGILL: i32 = 4;
const SIGTRAP: i32 = 5;
const SIGBUS: i32 = 7;
const SIGFPE: i32 = 8;
const SIGSEGV: i32 = 11;
const SIGCHLD: i32 = 17;
const SIGIO: i32 = 29;
const SIGSYS: i32 = 31;

/// The name of a positive, signal-specific `si_code`.
fn specific_code_name(signo: i32, code: i32) -> Option<&'static str> {
    let table: &[&str] = match signo {
        SIGILL => &[
            "ILL_ILLOPC",
            "ILL_ILLOPN",
            "ILL_ILLADR",
            "ILL_ILLTRP",
            "ILL_PRVOPC",
            "ILL_PRVREG",
            "ILL_COPROC",
            "ILL_BADSTK",
            "ILL_BADIADDR",
        ],
        SIGFPE => &[
            "FPE_INTDIV",
            "FPE_INTOVF",
            "FPE_FLTDIV",
            "FPE_FLTOVF",
            "FPE_FLTUND",
            "FPE_FLTRES",
            "FPE_FLTINV",
            "FPE_FLTSUB",
            "",
            "",
            "",
            "",
            "",
            "FPE_FLTUNK",
            "FPE_CONDTRAP",
        ],
        SIGSEGV => &[
            "SEGV_MAPERR",
            "SEGV_ACCERR",
            "SEGV_BNDERR",
            "SEGV_PKUERR",
            "SEGV_ACCADI",
            "SEGV_ADIDERR",
            "SEGV_ADIPERR",
            "SEGV_MTEAERR",
            "SEGV_MTESERR",
        ],
        SIGBUS => &[
            "BUS_ADRALN",
            "BUS_ADRERR",
            "BUS_OBJERR",
            "BUS_MCEERR_AR",
            "BUS_MCEERR_AO",
        ],
        SIGTRAP => &[
            "TRAP_BRKPT",
            "TRAP_TRACE",
            "TRAP_BRANCH",
            "TRAP_HWBKPT",
            "TRAP_UNK",
            "TRAP_PERF",
        ],
        SIGCHLD => &[
            "CLD_EXITED",
            "CLD_KILLED",
            "CLD_DUMPED",
            "CLD_TRAPPED",
            "CLD_STOPPED",
            "CLD_CONTINUED",
        ],
        SIGIO => &[
            "POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP",
        ],
        SIGSYS => &["SYS_SECCOMP", "SYS_USER_DISPATCH"],
        _ => &[],
    };
    let idx = usize::try_from(code).ok()?.checked_sub(1)?;
    table.get(idx).copied().filter(|s| !s.is_empty())
}

/// `si_code` as strace names it; unknown codes in hex (`0x1`).
fn code_value(signo: i32, code: i32) -> Value {
    let generic = match code {
        SI_USER => Some("SI_USER"),
        SI_KERNEL => Some("SI_KERNEL"),
        SI_QUEUE => Some("SI_QUEUE"),
        SI_TIMER => Some("SI_TIMER"),
        SI_MESGQ => Some("SI_MESGQ"),
        SI_ASYNCIO => Some("SI_ASYNCIO"),
        SI_SIGIO => Some("SI_SIGIO"),
        SI_TKILL => Some("SI_TKILL"),
        SI_DETHREAD => Some("SI_DETHREAD"),
        SI_ASYNCNL => Some("SI_ASYNCNL"),
        _ => None,
    };
    match generic.or_else(|| specific_code_name(signo, code)) {
        Some(n) => Value::sym(n),
        None => hex(u64::from(code as u32)),
    }
}

/// A number strace prints with C's `%#x`, which writes zero as `0`, not `0x0`.
pub fn hex(v: u64) -> Value {
    if v == 0 { Value::Int(0) } else { Value::Hex(v) }
}

/// `si_utime`/`si_stime` in clock ticks, with strace's `/* 1.00 s */` note when nonzero
/// (USER_HZ is 100 on x86-64).
fn ticks(t: i64) -> Value {
    if t == 0 {
        return Value::Int(0);
    }
    let (s, cs) = (t / 100, (t % 100).abs());
    Value::Raw(format!("{t} /* {s}.{cs:02} s */"))
}

/// `si_arch`: the two audit architectures a process on x86-64 can run as.
fn audit_arch(arch: u32) -> Value {
    match arch {
        0xc000_003e => Value::sym("AUDIT_ARCH_X86_64"),
        0x4000_0003 => Value::sym("AUDIT_ARCH_I386"),
        _ => Value::Raw(format!("{arch:#x} /* AUDIT_ARCH_??? */")),
    }
}

/// `si_syscall`: `__NR_execve` for x86-64 numbers the table knows, else decimal.
fn syscall_nr(nr: i32, arch: u32) -> Value {
    if arch == 0xc000_003e
        && let Some(info) = u64::try_from(nr).ok().and_then(super::table::lookup)
    {
        return Value::Sym(Cow::Owned(format!("__NR_{}", info.name)));
    }
    Value::Int(nr.into())
}

/// Decodes a raw `siginfo_t` (128 bytes, as `PTRACE_GETSIGINFO` fills it) into strace's
/// `{si_signo=SIGUSR1, si_code=SI_USER, si_pid=123, si_uid=0}`.
///
/// Which union members are shown follows what strace 6.1 was observed to print for each
/// signal and code (see the tests).
pub fn decode_siginfo(raw: &[u8; 128]) -> Value {
    let i32_at = |off: usize| {
        raw.get(off..off + 4)
            .and_then(|s| s.try_into().ok())
            .map(i32::from_le_bytes)
            .unwrap_or(0)
    };
    let u64_at = |off: usize| {
        raw.get(off..off + 8)
            .and_then(|s| s.try_into().ok())
            .map(u64::from_le_bytes)
            .unwrap_or(0)
    };
    let signo = i32_at(0);
    let err = i32_at(4);
    let code = i32_at(8);

    let mut f: Vec<(&'static str, Value)> = vec![
        ("si_signo", value(signo)),
        ("si_code", code_value(signo, code)),
    ];
    if err != 0 {
        let v = match errno::name(err.into()) {
            Some(n) => Value::sym(n),
            None => Value::UInt(u64::from(err as u32)),
        };
        f.push(("si_errno", v));
    }

    // Union members, at offset 16 on x86-64.
    let pid = Value::Int(i32_at(16).into());
    let uid = Value::UInt(u64::from(i32_at(20) as u32));
    let ptr = u64_at(24);
    let sigval = |f: &mut Vec<(&'static str, Value)>| {
        f.push(("si_int", Value::Int(i32_at(24).into())));
        f.push(("si_ptr", Value::Ptr(ptr)));
    };

    match code {
        SI_USER | SI_TKILL => {
            f.push(("si_pid", pid));
            f.push(("si_uid", uid));
        }
        SI_TIMER => {
            f.push(("si_timerid", hex(u64::from(i32_at(16) as u32))));
            f.push(("si_overrun", Value::Int(i32_at(20).into())));
            sigval(&mut f);
        }
        SI_SIGIO => {
            f.push(("si_band", Value::Int(u64_at(16) as i64)));
            f.push(("si_fd", Value::Int(i32_at(24).into())));
        }
        SI_QUEUE | SI_MESGQ | SI_ASYNCIO | SI_DETHREAD | SI_ASYNCNL => {
            f.push(("si_pid", pid));
            f.push(("si_uid", uid));
            if ptr != 0 {
                sigval(&mut f);
            }
        }
        // Kernel-generated (SI_KERNEL or a positive code): the layout depends on the signal.
        _ => match signo {
            SIGCHLD => {
                f.push(("si_pid", pid));
                f.push(("si_uid", uid));
                let status = i32_at(24);
                // Exit codes stay numbers; the other codes carry a signal number.
                let st = if code != 1 && (1..=RTMAX).contains(&status) {
                    Value::Sym(name(status))
                } else {
                    Value::Int(status.into())
                };
                f.push(("si_status", st));
                f.push(("si_utime", ticks(u64_at(32) as i64)));
                f.push(("si_stime", ticks(u64_at(40) as i64)));
            }
            SIGILL | SIGFPE | SIGSEGV | SIGBUS | SIGTRAP => {
                f.push(("si_addr", Value::Ptr(u64_at(16))));
                match (signo, code) {
                    (SIGSEGV, 3) => {
                        f.push(("si_lower", Value::Ptr(u64_at(32))));
                        f.push(("si_upper", Value::Ptr(u64_at(40))));
                    }
                    (SIGSEGV, 4) => f.push(("si_pkey", Value::UInt(u64::from(i32_at(32) as u32)))),
                    (SIGBUS, 4 | 5) => {
                        let lsb = raw.get(24..26).map(|s| u16::from_le_bytes([s[0], s[1]]));
                        f.push(("si_addr_lsb", hex(u64::from(lsb.unwrap_or(0)))));
                    }
                    _ => {}
                }
            }
            SIGIO => {
                // strace shows nothing for SIGIO from SI_KERNEL.
                if code != SI_KERNEL {
                    f.push(("si_band", Value::Int(u64_at(16) as i64)));
                    f.push(("si_fd", Value::Int(i32_at(24).into())));
                }
            }
            SIGSYS => {
                let arch = i32_at(28) as u32;
                f.push(("si_call_addr", Value::Ptr(u64_at(16))));
                f.push(("si_syscall", syscall_nr(i32_at(24), arch)));
                f.push(("si_arch", audit_arch(arch)));
            }
            _ => {
                // e.g. SIGALRM from setitimer: pid/uid and the value only when set.
                if u64_at(16) != 0 {
                    f.push(("si_pid", pid));
                    f.push(("si_uid", uid));
                }
                if ptr != 0 {
                    sigval(&mut f);
                }
            }
        },
    }
    Value::structure(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscalls::decode::util::render;

    #[test]
    fn names_match_strace() {
        assert_eq!(name(1), "SIGHUP");
        assert_eq!(name(6), "SIGABRT");
        assert_eq!(name(10), "SIGUSR1");
        assert_eq!(name(16), "SIGSTKFLT");
        assert_eq!(name(29), "SIGIO");
        assert_eq!(name(31), "SIGSYS");
        assert_eq!(name(32), "SIGRTMIN");
        assert_eq!(name(33), "SIGRT_1");
        assert_eq!(name(35), "SIGRT_3");
        assert_eq!(name(64), "SIGRT_32");
        assert_eq!(name(0), "0");
        assert_eq!(name(65), "65");
        assert_eq!(name(-1), "-1");
        assert_eq!(render(&value(0)), "0");
        assert_eq!(render(&value(1000)), "1000");
    }

    #[test]
    fn by_name_accepts_what_strace_accepts() {
        for ok in ["USR1", "usr1", "SIGUSR1", "sigusr1", "SigUsr1", "10", "010"] {
            assert_eq!(by_name(ok), Some(10), "{ok}");
        }
        assert_eq!(by_name("RTMIN"), Some(32));
        assert_eq!(by_name("SIGRTMIN"), Some(32));
        assert_eq!(by_name("rt_1"), Some(33));
        assert_eq!(by_name("SIGRT_32"), Some(64));
        assert_eq!(by_name("STKFLT"), Some(16));
        assert_eq!(by_name("0"), Some(0));
        assert_eq!(by_name("255"), Some(255));
        for bad in [
            "RT_33",
            "RT_0",
            "RT_01",
            "IOT",
            "SIGPOLL",
            "CLD",
            " USR1",
            "10 ",
            "+10",
            "-1",
            "0x10",
            "256",
            "1000",
            "RTMAX",
            "SIGRTMIN1",
            "",
            "SIG",
            "RT_",
        ] {
            assert_eq!(by_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn sigsets_match_strace() {
        let r = |m: u64| render(&sigset(m));
        assert_eq!(r(0), "[]");
        assert_eq!(r(1 << 9), "[USR1]");
        assert_eq!(r((1 << 9) | (1 << 13)), "[USR1 ALRM]");
        assert_eq!(r(!0), "~[]");
        assert_eq!(r(!(1 << 9)), "~[USR1]");
        assert_eq!(r(!((1 << 8) | (1 << 18))), "~[KILL STOP]");
        assert_eq!(r((3 << 32) | (1 << 33)), "[RT_1 RT_2]");
        assert_eq!(r(!0 >> 1), "~[RT_32]");
        assert_eq!(r(1 << 63), "[RT_32]");
        assert_eq!(r((1 << 31) | (1 << 32) | (1 << 33)), "[RTMIN RT_1 RT_2]");
        assert!(r(0x1fff_ff00_000f_ffff).starts_with("[HUP")); // 41 bits
        assert!(r(0x1fff_ff00_001f_ffff).starts_with("~[TTOU URG")); // 42 bits
        assert!(r(0xffff_ffff_ff80_0000).starts_with("[XCPU XFSZ"));
    }

    fn si(words: &[(usize, u32)]) -> [u8; 128] {
        let mut b = [0u8; 128];
        for &(off, w) in words {
            b[off..off + 4].copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    /// The pattern the oracle program filled the union with: int k at offset 16+4k is 104+k.
    fn pattern(signo: i32, code: i32) -> [u8; 128] {
        let mut w = vec![(0, signo as u32), (8, code as u32)];
        for k in 4..32 {
            w.push((k * 4, 100 + k as u32));
        }
        si(&w)
    }

    #[test]
    fn siginfo_real_deliveries() {
        let d = |b: [u8; 128]| render(&decode_siginfo(&b));
        assert_eq!(
            d(si(&[(0, 10), (8, 0), (16, 4783), (20, 0)])),
            "{si_signo=SIGUSR1, si_code=SI_USER, si_pid=4783, si_uid=0}"
        );
        assert_eq!(
            d(si(&[(0, 12), (8, -6i32 as u32), (16, 4783)])),
            "{si_signo=SIGUSR2, si_code=SI_TKILL, si_pid=4783, si_uid=0}"
        );
        assert_eq!(
            d(si(&[(0, 10), (8, -1i32 as u32), (16, 4783), (24, 42)])),
            "{si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=4783, si_uid=0, si_int=42, si_ptr=0x2a}"
        );
        assert_eq!(
            d(si(&[(0, 14), (8, 0x80)])),
            "{si_signo=SIGALRM, si_code=SI_KERNEL}"
        );
        assert_eq!(
            d(si(&[(0, 14), (8, -2i32 as u32), (24, 7)])),
            "{si_signo=SIGALRM, si_code=SI_TIMER, si_timerid=0, si_overrun=0, si_int=7, si_ptr=0x7}"
        );
        assert_eq!(
            d(si(&[(0, 17), (8, 1), (16, 4784), (24, 3)])),
            "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4784, si_uid=0, si_status=3, si_utime=0, si_stime=0}"
        );
        assert_eq!(
            d(si(&[(0, 17), (8, 2), (16, 4785), (24, 15)])),
            "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=4785, si_uid=0, si_status=SIGTERM, si_utime=0, si_stime=0}"
        );
        assert_eq!(
            d(si(&[(0, 5), (8, 0x80)])),
            "{si_signo=SIGTRAP, si_code=SI_KERNEL, si_addr=NULL}"
        );
        assert_eq!(
            d(si(&[(0, 11), (8, 1)])),
            "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL}"
        );
        assert_eq!(
            d(si(&[(0, 11), (8, 2), (16, 0x1e66_1000), (20, 0x7f14)])),
            "{si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x7f141e661000}"
        );
        assert_eq!(
            d(si(&[(0, 8), (8, 1), (16, 0x729e_97ab), (20, 0x5635)])),
            "{si_signo=SIGFPE, si_code=FPE_INTDIV, si_addr=0x5635729e97ab}"
        );
        assert_eq!(
            d(si(&[(0, 4), (8, 2), (16, 0x729e_97cb), (20, 0x5635)])),
            "{si_signo=SIGILL, si_code=ILL_ILLOPN, si_addr=0x5635729e97cb}"
        );
    }

    #[test]
    fn siginfo_oracle_patterns() {
        let d = |signo, code| render(&decode_siginfo(&pattern(signo, code)));
        assert_eq!(
            d(10, 0x80),
            "{si_signo=SIGUSR1, si_code=SI_KERNEL, si_pid=104, si_uid=105, si_int=106, si_ptr=0x6b0000006a}"
        );
        assert_eq!(
            d(10, -2),
            "{si_signo=SIGUSR1, si_code=SI_TIMER, si_timerid=0x68, si_overrun=105, si_int=106, si_ptr=0x6b0000006a}"
        );
        assert_eq!(
            d(10, -5),
            "{si_signo=SIGUSR1, si_code=SI_SIGIO, si_band=450971566184, si_fd=106}"
        );
        assert_eq!(
            d(10, -60),
            "{si_signo=SIGUSR1, si_code=SI_ASYNCNL, si_pid=104, si_uid=105, si_int=106, si_ptr=0x6b0000006a}"
        );
        assert_eq!(
            d(10, 3),
            "{si_signo=SIGUSR1, si_code=0x3, si_pid=104, si_uid=105, si_int=106, si_ptr=0x6b0000006a}"
        );
        assert_eq!(
            d(17, 0x80),
            "{si_signo=SIGCHLD, si_code=SI_KERNEL, si_pid=104, si_uid=105, si_status=106, si_utime=468151435372 /* 4681514353.72 s */, si_stime=476741369966 /* 4767413699.66 s */}"
        );
        assert_eq!(
            d(11, 3),
            "{si_signo=SIGSEGV, si_code=SEGV_BNDERR, si_addr=0x6900000068, si_lower=0x6d0000006c, si_upper=0x6f0000006e}"
        );
        assert_eq!(
            d(11, 4),
            "{si_signo=SIGSEGV, si_code=SEGV_PKUERR, si_addr=0x6900000068, si_pkey=108}"
        );
        assert_eq!(
            d(11, 10),
            "{si_signo=SIGSEGV, si_code=0xa, si_addr=0x6900000068}"
        );
        assert_eq!(
            d(7, 5),
            "{si_signo=SIGBUS, si_code=BUS_MCEERR_AO, si_addr=0x6900000068, si_addr_lsb=0x6a}"
        );
        assert_eq!(
            d(5, 6),
            "{si_signo=SIGTRAP, si_code=TRAP_PERF, si_addr=0x6900000068}"
        );
        assert_eq!(d(29, 0x80), "{si_signo=SIGIO, si_code=SI_KERNEL}");
        assert_eq!(
            d(29, 6),
            "{si_signo=SIGIO, si_code=POLL_HUP, si_band=450971566184, si_fd=106}"
        );
        assert_eq!(
            d(31, 1),
            "{si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=0x6900000068, si_syscall=106, si_arch=0x6b /* AUDIT_ARCH_??? */}"
        );
        assert_eq!(
            d(8, 15),
            "{si_signo=SIGFPE, si_code=FPE_CONDTRAP, si_addr=0x6900000068}"
        );
        assert_eq!(
            d(8, 9),
            "{si_signo=SIGFPE, si_code=0x9, si_addr=0x6900000068}"
        );
        assert_eq!(
            d(4, 9),
            "{si_signo=SIGILL, si_code=ILL_BADIADDR, si_addr=0x6900000068}"
        );
        assert_eq!(
            d(35, 0),
            "{si_signo=SIGRT_3, si_code=SI_USER, si_pid=104, si_uid=105}"
        );
    }

    #[test]
    fn siginfo_optional_members() {
        let d = |w: &[(usize, u32)]| render(&decode_siginfo(&si(w)));
        assert_eq!(
            d(&[(0, 14), (8, 0x80), (24, 5)]),
            "{si_signo=SIGALRM, si_code=SI_KERNEL, si_int=5, si_ptr=0x5}"
        );
        assert_eq!(
            d(&[(0, 14), (8, 0x80), (20, 1)]),
            "{si_signo=SIGALRM, si_code=SI_KERNEL, si_pid=0, si_uid=1}"
        );
        assert_eq!(
            d(&[(0, 14), (8, 0x80), (28, 1)]),
            "{si_signo=SIGALRM, si_code=SI_KERNEL, si_int=0, si_ptr=0x100000000}"
        );
        assert_eq!(
            d(&[(0, 10), (8, -1i32 as u32)]),
            "{si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=0, si_uid=0}"
        );
        assert_eq!(
            d(&[(0, 14), (8, -2i32 as u32), (16, 3), (20, 4)]),
            "{si_signo=SIGALRM, si_code=SI_TIMER, si_timerid=0x3, si_overrun=4, si_int=0, si_ptr=NULL}"
        );
        assert_eq!(
            d(&[(0, 10), (4, 200), (8, -6i32 as u32), (16, 1), (20, 2)]),
            "{si_signo=SIGUSR1, si_code=SI_TKILL, si_errno=200, si_pid=1, si_uid=2}"
        );
        assert_eq!(
            d(&[
                (0, 10),
                (4, -3i32 as u32),
                (8, -6i32 as u32),
                (16, 1),
                (20, 2)
            ]),
            "{si_signo=SIGUSR1, si_code=SI_TKILL, si_errno=4294967293, si_pid=1, si_uid=2}"
        );
        assert_eq!(
            d(&[
                (0, 17),
                (8, 2),
                (16, 5),
                (20, 6),
                (24, 9),
                (32, 100),
                (40, 12345)
            ]),
            "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=5, si_uid=6, si_status=SIGKILL, si_utime=100 /* 1.00 s */, si_stime=12345 /* 123.45 s */}"
        );
        assert_eq!(
            d(&[(0, 17), (8, 4), (16, 5), (20, 6), (24, 99)]),
            "{si_signo=SIGCHLD, si_code=CLD_TRAPPED, si_pid=5, si_uid=6, si_status=99, si_utime=0, si_stime=0}"
        );
        assert_eq!(
            d(&[(0, 17), (8, 2), (16, 5), (20, 6), (24, -1i32 as u32)]),
            "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=5, si_uid=6, si_status=-1, si_utime=0, si_stime=0}"
        );
        assert_eq!(
            d(&[(0, 31), (8, 1), (24, 59), (28, 0x4000_0003)]),
            // strace adds ` /* oldolduname */` (the i386 name); we leave i386 numbers bare.
            "{si_signo=SIGSYS, si_code=SYS_SECCOMP, si_call_addr=NULL, si_syscall=59, si_arch=AUDIT_ARCH_I386}"
        );
        assert_eq!(
            d(&[(0, 29), (8, 1), (16, -5i32 as u32), (20, !0), (24, 3)]),
            "{si_signo=SIGIO, si_code=POLL_IN, si_band=-5, si_fd=3}"
        );
    }
}
