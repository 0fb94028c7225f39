//! Syscall tampering, as strace's `-e inject=` and `-e fault=` do it: at a matching entry the
//! syscall number is replaced by -1 (the kernel then runs nothing) or by the argument-less
//! call `syscall=` names, and at its exit the return register is set to `-ERRNO` or the
//! given value; `poke_enter=`/`poke_exit=` overwrite the memory an argument points to at the
//! entry or the exit. `when=` picks which calls, counted per tracee and per rule as strace
//! counts them.
//!
//! The matching is pure; the register changes are made by the trace source at the stops.

use std::collections::HashMap;

/// What a tampered call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `error=ERRNO`: `-1` with that errno.
    Error(i64),
    /// `retval=N`.
    Retval(i64),
}

/// `when=FIRST[..LAST][+[STEP]]`: the FIRST-th call (1-based), with `..LAST` the calls up to
/// the LAST-th, with `+` every STEP-th from FIRST on (STEP 1 when omitted), up to LAST when
/// given. strace's limits: FIRST and STEP up to 65535, LAST below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    pub first: u64,
    /// `None`: no last call.
    pub last: Option<u64>,
    pub step: u64,
}

impl Default for When {
    /// Every call.
    fn default() -> Self {
        When {
            first: 1,
            last: None,
            step: 1,
        }
    }
}

impl When {
    /// `2`, `2+`, `2+3`, `2..5`, `2..9+3`.
    pub fn parse(s: &str) -> Option<When> {
        const MAX: u64 = 65535;
        let num = |t: &str| -> Option<u64> {
            t.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        let (range, step) = match s.split_once('+') {
            Some((r, "")) => (r, Some(1)),
            Some((r, st)) => (r, Some(num(st).filter(|st| (1..=MAX).contains(st))?)),
            None => (s, None),
        };
        let (first, last) = match range.split_once("..") {
            Some((f, l)) => (num(f)?, Some(num(l)?)),
            None => (num(range)?, None),
        };
        if !(1..=MAX).contains(&first) || last.is_some_and(|l| l < first || l >= MAX) {
            return None;
        }
        Some(match (last, step) {
            // `FIRST`: that call alone.
            (None, None) => When {
                first,
                last: Some(first),
                step: 1,
            },
            (last, step) => When {
                first,
                last,
                step: step.unwrap_or(1),
            },
        })
    }

    /// Whether the `n`-th call (1-based) is tampered with.
    pub fn matches(&self, n: u64) -> bool {
        n >= self.first
            && self.last.is_none_or(|l| n <= l)
            && (n - self.first).is_multiple_of(self.step)
    }
}

/// `@argN=HEX`: the bytes written where argument N (1-based) points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Poke {
    pub arg: u8,
    pub data: Vec<u8>,
}

/// The most bytes one poke writes (strace's limit).
pub const MAX_POKE: usize = 1024;

/// `@arg2=414243[,@arg3=00...]` as strace reads it: N from 1 to 7, an even number of hex
/// digits (at most [`MAX_POKE`] bytes), each argument once; empty entries are skipped.
pub fn parse_pokes(s: &str) -> Option<Vec<Poke>> {
    let mut pokes: Vec<Poke> = Vec::new();
    for item in s.split(',').filter(|i| !i.is_empty()) {
        let (arg, hex) = item.strip_prefix("@arg")?.split_once('=')?;
        let arg = match arg.as_bytes() {
            [d @ b'1'..=b'7'] => d - b'0',
            _ => return None,
        };
        if hex.is_empty() || !hex.len().is_multiple_of(2) || hex.len() / 2 > MAX_POKE {
            return None;
        }
        let data = (0..hex.len())
            .step_by(2)
            .map(|i| {
                let pair = hex.get(i..i + 2)?;
                // from_str_radix alone would take a sign.
                if !pair.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                u8::from_str_radix(pair, 16).ok()
            })
            .collect::<Option<Vec<u8>>>()?;
        if pokes.iter().any(|p| p.arg == arg) {
            return None;
        }
        pokes.push(Poke { arg, data });
    }
    (!pokes.is_empty()).then_some(pokes)
}

/// What is done to a chosen call: its return replaced (the call skipped), a signal sent to
/// the tracee as the call returns (`signal=`), a delay, memory overwritten, or several.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Tamper {
    pub ret: Option<Action>,
    /// `syscall=`: the call the kernel runs instead (one with no arguments and no effect;
    /// `None`: -1, nothing).
    pub syscall: Option<u64>,
    pub signal: Option<i32>,
    /// `delay_enter=` / `delay_exit=`: the tracee is held that long at the call's entry or
    /// exit stop (other tracees run on).
    pub delay_enter: Option<std::time::Duration>,
    pub delay_exit: Option<std::time::Duration>,
    /// `poke_enter=` / `poke_exit=`.
    pub poke_enter: Vec<Poke>,
    pub poke_exit: Vec<Poke>,
}

impl Tamper {
    pub fn delayed(&self) -> bool {
        self.delay_enter.is_some() || self.delay_exit.is_some()
    }
}

/// A delay as strace reads it: microseconds, or a number (decimals allowed) with `s`, `ms`,
/// `us` or `ns`.
pub fn parse_delay(s: &str) -> Option<std::time::Duration> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = s.strip_suffix("ns") {
        (n, 1e-9)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1e-6)
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let secs = v * scale;
    (secs.is_finite() && secs <= 86_400.0).then(|| std::time::Duration::from_secs_f64(secs))
}

/// One `-e inject=` (or `fault=`) rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Syscall numbers it applies to (indexed by number).
    pub syscalls: Vec<bool>,
    pub tamper: Tamper,
    pub when: When,
}

/// A call tampered with at its entry, at its exit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub tamper: Tamper,
    /// Its number as called (the tampering may have made the kernel run another).
    pub nr: u64,
    /// A `poke_enter=` was written.
    pub poked: bool,
}

/// The rules and their per-tracee counters.
#[derive(Clone, Debug, Default)]
pub struct Injector {
    rules: Vec<Rule>,
    counts: HashMap<(i32, usize), u64>,
    /// Calls tampered with at their entry, waiting for their exit.
    pending: HashMap<i32, Pending>,
}

impl Injector {
    pub fn new(rules: Vec<Rule>) -> Injector {
        Injector {
            rules,
            ..Injector::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// At a syscall entry of `tid`: the action to take, if this call is one to tamper with
    /// (the first rule that applies to the syscall counts it; strace's order).
    pub fn at_entry(&mut self, tid: i32, nr: u64) -> Option<&Tamper> {
        let i = self
            .rules
            .iter()
            .position(|r| r.syscalls.get(nr as usize).copied().unwrap_or(false))?;
        let n = self.counts.entry((tid, i)).or_insert(0);
        *n += 1;
        let rule = &self.rules[i];
        if !rule.when.matches(*n) {
            return None;
        }
        let p = Pending {
            tamper: rule.tamper.clone(),
            nr,
            poked: false,
        };
        self.pending.insert(tid, p);
        Some(&rule.tamper)
    }

    /// A `poke_enter=` of `tid`'s current call was written.
    pub fn poked(&mut self, tid: i32) {
        if let Some(p) = self.pending.get_mut(&tid) {
            p.poked = true;
        }
    }

    /// At the exit of `tid`'s call: what was chosen at its entry, if anything.
    pub fn at_exit(&mut self, tid: i32) -> Option<Pending> {
        self.pending.remove(&tid)
    }

    /// A tracee is gone: its counters and pending call with it.
    pub fn forget(&mut self, tid: i32) {
        self.pending.remove(&tid);
        self.counts.retain(|(t, _), _| *t != tid);
    }

    /// The return register for an action (`-errno`, or the value).
    pub fn rax(action: Action) -> u64 {
        match action {
            Action::Error(e) => (-e) as u64,
            Action::Retval(v) => v as u64,
        }
    }
}

/// Why a poke cannot be made in call `nr`, in strace's words: the call has no such
/// argument.
pub fn poke_refusal(p: &Poke, nr: u64) -> Option<String> {
    let (name, nargs) = match crate::syscalls::table::lookup(nr) {
        Some(i) => (std::borrow::Cow::Borrowed(i.name), usize::from(i.nargs)),
        None => (format!("syscall_{nr:#x}").into(), 6),
    };
    (usize::from(p.arg) > nargs).then(|| {
        format!(
            "requested to tamper with argument #{}, but system call '{name}' has only {nargs} arguments",
            p.arg
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays() {
        use std::time::Duration;
        assert_eq!(parse_delay("100000"), Some(Duration::from_millis(100)));
        assert_eq!(parse_delay("50ms"), Some(Duration::from_millis(50)));
        assert_eq!(parse_delay("1.5ms"), Some(Duration::from_micros(1500)));
        assert_eq!(parse_delay("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_delay("10us"), Some(Duration::from_micros(10)));
        for bad in ["", "abc", "-1", "1h", "ms", "1e9"] {
            assert_eq!(parse_delay(bad), None, "{bad}");
        }
    }

    #[test]
    fn when_picks_calls_as_strace_does() {
        let w = |s: &str| When::parse(s).unwrap_or_else(|| panic!("{s}"));
        let picked = |w: When| (1..=10).filter(|&n| w.matches(n)).collect::<Vec<_>>();
        assert_eq!(picked(When::default()), (1..=10).collect::<Vec<_>>());
        assert_eq!(picked(w("3")), [3]);
        assert_eq!(picked(w("3+")), [3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(picked(w("2+3")), [2, 5, 8]);
        assert_eq!(picked(w("2..3")), [2, 3]);
        assert_eq!(picked(w("2..3+")), [2, 3]);
        assert_eq!(picked(w("2..9+3")), [2, 5, 8]);
        assert_eq!(picked(w("1..10+4")), [1, 5, 9]);
        assert_eq!(picked(w("2..2")), [2]);
        assert_eq!(picked(w("2..65534")), (2..=10).collect::<Vec<_>>());
        assert_eq!(picked(w("1+65535")), [1]);
        assert_eq!(picked(w("65535")), [] as [u64; 0]);
        for bad in [
            "0", "x", "1+0", "-1", "", "+", "3..2", "2..", "..3", "0..3", "2..65535", "65536",
            "1+65536", "2..5+0", "+3", "2...3", "2..3..4",
        ] {
            assert_eq!(When::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn counted_per_tracee_and_paired_with_the_exit() {
        let mut set = vec![false; 512];
        set[285] = true; // fallocate
        let t = Tamper {
            ret: Some(Action::Error(28)),
            signal: Some(10),
            ..Tamper::default()
        };
        let mut inj = Injector::new(vec![Rule {
            syscalls: set,
            tamper: t.clone(),
            when: When::parse("2").unwrap_or_default(),
        }]);
        assert_eq!(inj.at_entry(10, 285), None);
        assert_eq!(inj.at_entry(11, 285), None);
        assert_eq!(inj.at_entry(10, 0), None);
        assert_eq!(inj.at_entry(10, 285), Some(&t));
        assert_eq!(inj.at_exit(11), None);
        inj.poked(10);
        let p = inj.at_exit(10);
        assert_eq!(
            p.map(|p| (p.tamper, p.nr, p.poked)),
            Some((t.clone(), 285, true))
        );
        assert_eq!(inj.at_exit(10), None);
        assert_eq!(inj.at_entry(11, 285), Some(&t));
        assert_eq!(Injector::rax(Action::Error(28)), (-28i64) as u64);
        inj.forget(11);
        assert_eq!(inj.at_exit(11), None);
    }

    #[test]
    fn pokes_as_strace_reads_them() {
        let p = |arg, data: &[u8]| Poke {
            arg,
            data: data.to_vec(),
        };
        assert_eq!(parse_pokes("@arg2=414243"), Some(vec![p(2, b"ABC")]));
        assert_eq!(
            parse_pokes(",@arg1=00,,@arg7=5a,"),
            Some(vec![p(1, &[0]), p(7, &[0x5a])])
        );
        assert_eq!(
            parse_pokes(&format!("@arg3={}", "41".repeat(MAX_POKE))).map(|v| v[0].data.len()),
            Some(MAX_POKE)
        );
        for bad in [
            "",
            ",",
            "@arg2=",
            "@arg2=5",
            "@arg2=zz",
            "@arg2=0x58",
            "@arg2=+5",
            "@arg0=58",
            "@arg8=58",
            "@arg02=58",
            "@ARG2=58",
            "arg2=58",
            "@arg2=58,@arg2=59",
            &format!("@arg3={}", "41".repeat(MAX_POKE + 1)),
        ] {
            assert_eq!(parse_pokes(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_poke_past_the_arguments_is_refused_in_strace_words() {
        let p = Poke {
            arg: 4,
            data: vec![0],
        };
        assert_eq!(
            poke_refusal(&p, 1).as_deref(),
            Some(
                "requested to tamper with argument #4, but system call 'write' has only 3 arguments"
            )
        );
        assert_eq!(
            poke_refusal(
                &Poke {
                    arg: 3,
                    ..p.clone()
                },
                1
            ),
            None
        );
        assert!(poke_refusal(&Poke { arg: 7, ..p }, 999).is_some());
    }
}
