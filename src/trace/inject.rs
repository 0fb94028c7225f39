//! Syscall tampering, as strace's `-e inject=` and `-e fault=` do it: at a matching entry the
//! syscall number is replaced by -1 (the kernel then runs nothing), and at its exit the
//! return register is set to `-ERRNO` or the given value. `when=` picks which calls, counted
//! per tracee and per rule as strace counts them.
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

/// `when=FIRST[+[STEP]]`: the FIRST-th call (1-based), and with `+` every STEP-th after it
/// (STEP 1 when omitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    pub first: u64,
    /// `None`: only the FIRST-th call.
    pub step: Option<u64>,
}

impl Default for When {
    /// Every call.
    fn default() -> Self {
        When {
            first: 1,
            step: Some(1),
        }
    }
}

impl When {
    /// `2`, `2+`, `2+3`.
    pub fn parse(s: &str) -> Option<When> {
        let (first, rest) = match s.split_once('+') {
            Some((f, r)) => (f, Some(r)),
            None => (s, None),
        };
        let first: u64 = first.parse().ok().filter(|&f| f >= 1)?;
        let step = match rest {
            None => None,
            Some("") => Some(1),
            Some(r) => Some(r.parse().ok().filter(|&s| s >= 1)?),
        };
        Some(When { first, step })
    }

    /// Whether the `n`-th call (1-based) is tampered with.
    pub fn matches(&self, n: u64) -> bool {
        match self.step {
            None => n == self.first,
            Some(step) => n >= self.first && (n - self.first).is_multiple_of(step),
        }
    }
}

/// What is done to a chosen call: its return replaced (the call skipped), a signal sent to
/// the tracee as the call returns (`signal=`), or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Tamper {
    pub ret: Option<Action>,
    pub signal: Option<i32>,
    /// `delay_enter=` / `delay_exit=`: the tracee is held that long at the call's entry or
    /// exit stop (other tracees run on).
    pub delay_enter: Option<std::time::Duration>,
    pub delay_exit: Option<std::time::Duration>,
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

/// The rules and their per-tracee counters.
#[derive(Clone, Debug, Default)]
pub struct Injector {
    rules: Vec<Rule>,
    counts: HashMap<(i32, usize), u64>,
    /// Calls tampered with at their entry, waiting for their exit.
    pending: HashMap<i32, Tamper>,
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
    pub fn at_entry(&mut self, tid: i32, nr: u64) -> Option<Tamper> {
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
        self.pending.insert(tid, rule.tamper);
        Some(rule.tamper)
    }

    /// At the exit of `tid`'s call: what was chosen at its entry, if anything.
    pub fn at_exit(&mut self, tid: i32) -> Option<Tamper> {
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
        for bad in ["0", "x", "1+0", "-1", "", "+"] {
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
            tamper: t,
            when: When::parse("2").unwrap_or_default(),
        }]);
        assert_eq!(inj.at_entry(10, 285), None);
        assert_eq!(inj.at_entry(11, 285), None);
        assert_eq!(inj.at_entry(10, 0), None);
        assert_eq!(inj.at_entry(10, 285), Some(t));
        assert_eq!(inj.at_exit(11), None);
        assert_eq!(inj.at_exit(10), Some(t));
        assert_eq!(inj.at_exit(10), None);
        assert_eq!(inj.at_entry(11, 285), Some(t));
        assert_eq!(Injector::rax(Action::Error(28)), (-28i64) as u64);
        inj.forget(11);
        assert_eq!(inj.at_exit(11), None);
    }
}
