//! strace's `-e` qualifiers: which syscalls are traced, which return statuses and which
//! signals are printed. Parsing is pure and unit-tested.

use crate::syscalls::{signals, table};

/// Return statuses for `-e status=SET`.
pub mod status {
    pub const SUCCESSFUL: u8 = 1 << 0;
    pub const FAILED: u8 = 1 << 1;
    pub const UNFINISHED: u8 = 1 << 2;
    pub const UNAVAILABLE: u8 = 1 << 3;
    pub const DETACHED: u8 = 1 << 4;
    pub const ALL: u8 = 0x1f;
}

/// Syscall numbers go up to about 470 on x86-64; anything above is "unknown".
const MAX_NR: usize = 1024;

#[derive(Clone, Debug)]
pub struct Filter {
    trace: Vec<bool>,
    pub status: u8,
    signals: Vec<bool>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            trace: vec![true; MAX_NR],
            status: status::ALL,
            signals: vec![true; 65],
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterError {
    #[error("invalid system call '{0}'")]
    Syscall(String),
    #[error("invalid signal '{0}'")]
    Signal(String),
    #[error("invalid status '{0}'")]
    Status(String),
    #[error("unsupported -e qualifier '{0}' (supported: trace, signal, status)")]
    Qualifier(String),
    #[error("empty -e expression")]
    Empty,
}

impl Filter {
    /// Whether syscall `nr` is traced.
    pub fn traces(&self, nr: u64) -> bool {
        self.trace
            .get(nr as usize)
            .copied()
            .unwrap_or(self.trace[MAX_NR - 1])
    }

    /// Whether signal `sig` is printed.
    pub fn shows_signal(&self, sig: i32) -> bool {
        self.signals.get(sig as usize).copied().unwrap_or(true)
    }

    pub fn shows_status(&self, bit: u8) -> bool {
        self.status & bit != 0
    }

    /// Applies one `-e` expression: `trace=SET`, `signal=SET`, `status=SET`, or a bare SET
    /// (which means `trace=SET`).
    pub fn apply(&mut self, expr: &str) -> Result<(), FilterError> {
        let (qual, set) = match expr.split_once('=') {
            Some((q, s)) => (q, s),
            None => ("trace", expr),
        };
        match qual {
            "trace" | "t" => self.apply_trace(set),
            "signal" | "signals" | "s" => self.apply_signal(set),
            "status" => self.apply_status(set),
            q => Err(FilterError::Qualifier(q.to_string())),
        }
    }

    fn apply_trace(&mut self, set: &str) -> Result<(), FilterError> {
        let (neg, body) = split_neg(set);
        if body.is_empty() {
            return Err(FilterError::Empty);
        }
        let mut chosen = vec![false; MAX_NR];
        for tok in body.split(',') {
            let tok = tok.trim();
            // `?name` ignores unknown names, as in strace.
            let (optional, tok) = match tok.strip_prefix('?') {
                Some(t) => (true, t),
                None => (false, tok),
            };
            match tok {
                "all" => chosen.iter_mut().for_each(|c| *c = true),
                "none" => {}
                _ => {
                    let class = tok.strip_prefix('%').and_then(class_bits);
                    if let Some(bits) = class {
                        for (nr, info) in table::all() {
                            if info.classes & bits != 0 {
                                chosen[nr as usize] = true;
                            }
                        }
                    } else if let Some(nr) = table::by_name(tok) {
                        chosen[nr as usize] = true;
                    } else if !optional {
                        return Err(FilterError::Syscall(tok.to_string()));
                    }
                }
            }
        }
        if neg {
            chosen.iter_mut().for_each(|c| *c = !*c);
        }
        self.trace = chosen;
        Ok(())
    }

    fn apply_signal(&mut self, set: &str) -> Result<(), FilterError> {
        let (neg, body) = split_neg(set);
        let mut chosen = vec![false; 65];
        for tok in body.split(',').map(str::trim) {
            match tok {
                "all" => chosen.iter_mut().for_each(|c| *c = true),
                "none" | "" => {}
                _ => {
                    let sig = signals::by_name(tok)
                        .filter(|&s| (1..65).contains(&s))
                        .ok_or_else(|| FilterError::Signal(tok.to_string()))?;
                    chosen[sig as usize] = true;
                }
            }
        }
        if neg {
            chosen.iter_mut().for_each(|c| *c = !*c);
        }
        self.signals = chosen;
        Ok(())
    }

    fn apply_status(&mut self, set: &str) -> Result<(), FilterError> {
        let (neg, body) = split_neg(set);
        let mut bits = 0;
        for tok in body.split(',').map(str::trim) {
            bits |= match tok {
                "all" => status::ALL,
                "none" => 0,
                "successful" => status::SUCCESSFUL,
                "failed" => status::FAILED,
                "unfinished" => status::UNFINISHED,
                "unavailable" => status::UNAVAILABLE,
                "detached" => status::DETACHED,
                _ => return Err(FilterError::Status(tok.to_string())),
            };
        }
        self.status = if neg { !bits & status::ALL } else { bits };
        Ok(())
    }
}

fn split_neg(set: &str) -> (bool, &str) {
    match set.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, set),
    }
}

fn class_bits(name: &str) -> Option<u32> {
    // strace's shorthands: %stat covers the stat family, etc.
    table::class_by_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_sets() {
        let mut f = Filter::default();
        f.apply("status=failed").expect("test input is well-formed");
        assert_eq!(f.status, status::FAILED);
        f.apply("status=!failed")
            .expect("test input is well-formed");
        assert!(!f.shows_status(status::FAILED));
        assert!(f.shows_status(status::SUCCESSFUL));
        assert_eq!(
            f.apply("status=bogus"),
            Err(FilterError::Status("bogus".into()))
        );
    }

    #[test]
    fn bad_qualifier() {
        let mut f = Filter::default();
        assert!(matches!(
            f.apply("frobnicate=1"),
            Err(FilterError::Qualifier(_))
        ));
        assert_eq!(f.apply("trace="), Err(FilterError::Empty));
    }
}
