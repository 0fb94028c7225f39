//! `--seccomp-bpf`: the classic-BPF program a launched command installs before its execve,
//! so that only the traced syscalls stop it (`SECCOMP_RET_TRACE`: a `PTRACE_EVENT_SECCOMP`
//! stop) and every other call runs at full speed (`SECCOMP_RET_ALLOW`). Pure: the program is
//! built and checked here; the child installs it (`attach`), the engine handles its stops.
//!
//! The program: a call of another architecture (i386, x32) stops, since pgstrace must see it;
//! an x86-64 call stops when its number is in one of the traced ranges. Ranges keep the
//! program short (`-e trace=!write` is two ranges); a set of more than [`MAX_RANGES`]
//! ranges does not fit classic BPF's 8-bit jumps and is refused.

/// `struct sock_filter`'s instruction classes and fields used here.
const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const BPF_JGT_K: u16 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `struct seccomp_data`: `nr` at 0, `arch` at 4.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// x32 calls are x86-64 calls with this bit set.
const X32_BIT: u32 = 0x4000_0000;

pub const RET_ALLOW: u32 = 0x7fff_0000;
pub const RET_TRACE: u32 = 0x7ff0_0000;

/// The most ranges a program holds: two instructions each, every jump within 255.
pub const MAX_RANGES: usize = 120;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The sorted numbers as inclusive ranges.
pub fn ranges(nrs: &[u64]) -> Vec<(u32, u32)> {
    let mut v: Vec<u32> = nrs.iter().filter_map(|&n| u32::try_from(n).ok()).collect();
    v.sort_unstable();
    v.dedup();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for n in v {
        match out.last_mut() {
            Some((_, hi)) if *hi + 1 == n => *hi = n,
            _ => out.push((n, n)),
        }
    }
    out
}

/// The program that stops at the calls `nrs` (x86-64 numbers) and lets every other run.
/// `Err` says why there is none: nothing to filter, or too many ranges.
pub fn program(nrs: &[u64]) -> Result<Vec<libc::sock_filter>, String> {
    let r = ranges(nrs);
    if r.is_empty() {
        return Err("no syscalls to filter".into());
    }
    if r.len() > MAX_RANGES {
        return Err(format!(
            "the traced set is {} ranges of syscall numbers, more than a filter holds ({MAX_RANGES})",
            r.len()
        ));
    }
    // 0 ld arch; 1 jeq x86-64 ? 3 : 2; 2 ret TRACE; 3 ld nr; 4 jge X32_BIT ? TRACE : next;
    // then per range: jge lo ? next : ALLOW; jgt hi ? next range : TRACE;
    // then ret ALLOW; ret TRACE.
    let mut p = vec![
        stmt(BPF_LD_W_ABS, OFF_ARCH),
        jump(BPF_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET_K, RET_TRACE),
        stmt(BPF_LD_W_ABS, OFF_NR),
    ];
    let n = r.len();
    // From instruction i, the distance to the final `ret TRACE` is (last - i - 1).
    let body = 1 + 2 * n; // the x32 test and the range tests
    let last = p.len() + body + 1; // index of `ret TRACE`
    let to_trace = |i: usize| (last - i - 1) as u8;
    let i = p.len();
    p.push(jump(BPF_JGE_K, X32_BIT, to_trace(i), 0));
    for &(lo, hi) in &r {
        let i = p.len();
        // Below lo: below every later range too (they are sorted), so allowed.
        p.push(jump(BPF_JGE_K, lo, 0, to_trace(i) - 1));
        // Above hi: on to the next range; else traced.
        p.push(jump(BPF_JGT_K, hi, 0, to_trace(i + 1)));
    }
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p.push(stmt(BPF_RET_K, RET_TRACE));
    debug_assert_eq!(p.len(), last + 1);
    Ok(p)
}

/// Runs `prog` on a call (`nr`, `arch`) as the kernel would: the action it returns. For the
/// tests; `None` if the program is malformed (a jump out of it, no return).
pub fn run(prog: &[libc::sock_filter], nr: u32, arch: u32) -> Option<u32> {
    let mut acc: u32 = 0;
    let mut pc = 0usize;
    loop {
        let ins = prog.get(pc)?;
        let (t, f) = (usize::from(ins.jt), usize::from(ins.jf));
        pc += 1;
        match ins.code {
            BPF_LD_W_ABS => {
                acc = match ins.k {
                    OFF_NR => nr,
                    OFF_ARCH => arch,
                    _ => return None,
                }
            }
            BPF_JEQ_K => pc += if acc == ins.k { t } else { f },
            BPF_JGE_K => pc += if acc >= ins.k { t } else { f },
            BPF_JGT_K => pc += if acc > ins.k { t } else { f },
            BPF_RET_K => return Some(ins.k),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86_64: u32 = AUDIT_ARCH_X86_64;

    #[test]
    fn ranges_join_neighbours() {
        assert_eq!(
            ranges(&[3, 1, 2, 9, 7, 8, 20]),
            vec![(1, 3), (7, 9), (20, 20)]
        );
        assert!(ranges(&[]).is_empty());
    }

    #[test]
    fn only_the_traced_calls_stop() {
        let traced = [2u64, 3, 9, 10, 11, 257, 285];
        let p = program(&traced).unwrap_or_else(|e| panic!("{e}"));
        for nr in 0..500u32 {
            let want = if traced.contains(&u64::from(nr)) {
                RET_TRACE
            } else {
                RET_ALLOW
            };
            assert_eq!(run(&p, nr, X86_64), Some(want), "nr {nr}");
        }
        // Other architectures and x32 always stop.
        assert_eq!(run(&p, 1, 0x4000_0003), Some(RET_TRACE));
        assert_eq!(run(&p, X32_BIT | 1, X86_64), Some(RET_TRACE));
    }

    #[test]
    fn large_sets_fit_or_are_refused() {
        // Every other call up to the limit: MAX_RANGES ranges.
        let many: Vec<u64> = (0..MAX_RANGES as u64).map(|i| 2 * i).collect();
        let p = program(&many).unwrap_or_else(|e| panic!("{e}"));
        for nr in 0..(2 * MAX_RANGES as u32 + 4) {
            let want = if nr % 2 == 0 && nr < 2 * MAX_RANGES as u32 {
                RET_TRACE
            } else {
                RET_ALLOW
            };
            assert_eq!(run(&p, nr, X86_64), Some(want), "nr {nr}");
        }
        let too_many: Vec<u64> = (0..=MAX_RANGES as u64).map(|i| 2 * i).collect();
        assert!(program(&too_many).is_err());
        assert!(program(&[]).is_err());
        // Everything but write: two ranges.
        let all_but_write: Vec<u64> = (0..460).filter(|&n| n != 1).collect();
        let p = program(&all_but_write).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run(&p, 1, X86_64), Some(RET_ALLOW));
        assert_eq!(run(&p, 0, X86_64), Some(RET_TRACE));
        assert_eq!(run(&p, 459, X86_64), Some(RET_TRACE));
        assert_eq!(run(&p, 460, X86_64), Some(RET_ALLOW));
    }
}
