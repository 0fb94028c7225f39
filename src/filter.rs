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
    /// `-e inject=` / `-e fault=` rules, in order.
    pub injections: Vec<crate::trace::inject::Rule>,
    /// `-e read=FDSET` / `-e write=FDSET`: descriptors whose data is dumped in hex.
    pub read_fds: Option<FdSet>,
    pub write_fds: Option<FdSet>,
    /// `-P PATH`: only calls that name one of these paths or use a descriptor of one.
    pub paths: Vec<String>,
    /// `-e abbrev=SET` (`-v`: none): calls whose large structures are abbreviated.
    abbrev: Vec<bool>,
    /// `-e verbose=SET`: calls whose structures are dereferenced (else their addresses).
    verbose: Vec<bool>,
    /// `-e raw=SET`: calls whose arguments are printed undecoded, in hex.
    raw: Vec<bool>,
}

/// A set of file descriptors (`3,5`, `all`, `!1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdSet {
    neg: bool,
    all: bool,
    fds: Vec<i32>,
}

impl FdSet {
    pub fn contains(&self, fd: i32) -> bool {
        (self.all || self.fds.contains(&fd)) != self.neg
    }
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            trace: vec![true; MAX_NR],
            status: status::ALL,
            signals: vec![true; 65],
            injections: Vec::new(),
            read_fds: None,
            write_fds: None,
            paths: Vec::new(),
            abbrev: vec![true; MAX_NR],
            verbose: vec![true; MAX_NR],
            raw: vec![false; MAX_NR],
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
    #[error(
        "unsupported -e qualifier '{0}' (supported: trace, signal, status, read, write, inject, fault, abbrev, verbose, raw, quiet)"
    )]
    Qualifier(String),
    #[error("invalid {0} '{1}'")]
    Inject(&'static str, String),
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

    /// The traced syscalls, when not all are (what a kernel-side source should watch).
    pub fn traced_set(&self) -> Option<Vec<u64>> {
        if self.trace.iter().all(|&t| t) {
            return None;
        }
        Some(
            crate::syscalls::table::all()
                .map(|(nr, _)| nr)
                .filter(|&nr| self.traces(nr))
                .collect(),
        )
    }

    /// Whether `nr`'s large structures are abbreviated (strace's default; not under `-v`).
    pub fn abbreviates(&self, nr: u64) -> bool {
        in_set(&self.abbrev, nr)
    }

    /// Whether `nr`'s structures are dereferenced (`-e verbose=`; by default all are).
    pub fn dereferences(&self, nr: u64) -> bool {
        in_set(&self.verbose, nr)
    }

    /// Whether `nr`'s arguments are printed raw (`-e raw=`).
    pub fn raw(&self, nr: u64) -> bool {
        in_set(&self.raw, nr)
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
            "read" | "reads" | "r" => {
                self.read_fds = Some(fd_set(set)?);
                Ok(())
            }
            "write" | "writes" | "w" => {
                self.write_fds = Some(fd_set(set)?);
                Ok(())
            }
            "inject" => self.apply_inject(set, false),
            "fault" => self.apply_inject(set, true),
            "abbrev" | "a" => {
                self.abbrev = syscall_set(set)?;
                Ok(())
            }
            "verbose" | "v" => {
                self.verbose = syscall_set(set)?;
                Ok(())
            }
            "raw" | "x" => {
                self.raw = syscall_set(set)?;
                Ok(())
            }
            q => Err(FilterError::Qualifier(q.to_string())),
        }
    }

    /// `inject=SET:error=ERRNO|retval=N[:signal=SIG][:syscall=PURE][:delay_enter=D]
    /// [:delay_exit=D][:poke_enter=@argN=HEX,...][:poke_exit=...][:when=EXPR]`,
    /// `fault=SET[:error=ERRNO][:signal=SIG][:syscall=PURE][:when=EXPR]` (fault's default error
    /// is ENOSYS). Each key at most once, as strace takes them.
    fn apply_inject(&mut self, spec: &str, fault: bool) -> Result<(), FilterError> {
        let what = if fault { "fault" } else { "inject" };
        let mut parts = spec.split(':');
        let set = parts.next().unwrap_or_default();
        let syscalls = syscall_set(set)?;
        let mut action = fault.then_some(crate::trace::inject::Action::Error(38));
        let mut signal = None;
        let (mut delay_enter, mut delay_exit) = (None, None);
        let mut when = crate::trace::inject::When::default();
        let (mut syscall, mut poke_enter, mut poke_exit) = (None, Vec::new(), Vec::new());
        let bad = |p: &str| FilterError::Inject(what, p.to_string());
        let mut seen: Vec<&str> = Vec::new();
        for p in parts {
            let (k, v) = p.split_once('=').ok_or_else(|| bad(p))?;
            // Each once (error= and retval= are one slot); when= is taken again, the last
            // one counting.
            let slot = if k == "retval" { "error" } else { k };
            if slot != "when" {
                if seen.contains(&slot) {
                    return Err(bad(p));
                }
                seen.push(slot);
            }
            match k {
                // Only a call with no arguments and no effect may run instead (strace's
                // `%pure`), named as it is named in the table.
                "syscall" => {
                    let nr = crate::syscalls::table::by_name(v)
                        .filter(|&nr| {
                            crate::syscalls::table::lookup(nr).is_some_and(|i| {
                                i.classes & crate::syscalls::table::class::PURE != 0
                            })
                        })
                        .ok_or_else(|| bad(p))?;
                    syscall = Some(nr);
                }
                "poke_enter" if !fault => {
                    poke_enter = crate::trace::inject::parse_pokes(v).ok_or_else(|| bad(p))?;
                }
                "poke_exit" if !fault => {
                    poke_exit = crate::trace::inject::parse_pokes(v).ok_or_else(|| bad(p))?;
                }
                "error" => {
                    let e = crate::syscalls::errno::by_name(v)
                        .or_else(|| v.parse().ok().filter(|n: &i64| (1..4096).contains(n)))
                        .ok_or_else(|| bad(p))?;
                    action = Some(crate::trace::inject::Action::Error(e));
                }
                "retval" if !fault => {
                    let n: i64 = v.parse().map_err(|_| bad(p))?;
                    action = Some(crate::trace::inject::Action::Retval(n));
                }
                "when" => when = crate::trace::inject::When::parse(v).ok_or_else(|| bad(p))?,
                "delay_enter" if !fault => {
                    delay_enter = Some(crate::trace::inject::parse_delay(v).ok_or_else(|| bad(p))?);
                }
                "delay_exit" if !fault => {
                    delay_exit = Some(crate::trace::inject::parse_delay(v).ok_or_else(|| bad(p))?);
                }
                "signal" => {
                    let s = crate::syscalls::signals::by_name(v)
                        .or_else(|| v.parse().ok().filter(|n: &i32| (1..65).contains(n)))
                        .ok_or_else(|| bad(p))?;
                    signal = Some(s);
                }
                _ => return Err(bad(p)),
            }
        }
        if action.is_none()
            && signal.is_none()
            && delay_enter.is_none()
            && delay_exit.is_none()
            && poke_enter.is_empty()
            && poke_exit.is_empty()
        {
            return Err(bad(
                "(no error=, retval=, signal=, delay_enter=, delay_exit=, poke_enter= or poke_exit=)",
            ));
        }
        self.injections.push(crate::trace::inject::Rule {
            syscalls,
            tamper: crate::trace::inject::Tamper {
                ret: action,
                syscall,
                signal,
                delay_enter,
                delay_exit,
                poke_enter,
                poke_exit,
            },
            when,
        });
        Ok(())
    }

    fn apply_trace(&mut self, set: &str) -> Result<(), FilterError> {
        self.trace = syscall_set(set)?;
        Ok(())
    }
}

/// An fd set as `-e read=` spells it.
fn fd_set(set: &str) -> Result<FdSet, FilterError> {
    let (neg, body) = split_neg(set);
    let mut out = FdSet {
        neg,
        all: false,
        fds: Vec::new(),
    };
    for tok in body.split(',').map(str::trim) {
        match tok {
            "all" => out.all = true,
            "none" | "" => {}
            t => out.fds.push(
                t.parse()
                    .ok()
                    .filter(|&n: &i32| n >= 0)
                    .ok_or_else(|| FilterError::Inject("descriptor", t.to_string()))?,
            ),
        }
    }
    Ok(out)
}

fn in_set(set: &[bool], nr: u64) -> bool {
    set.get(nr as usize).copied().unwrap_or(set[MAX_NR - 1])
}

/// A syscall set as `-e trace=` spells it: names, `%class`, `all`, `none`, `?name`, `!`.
fn syscall_set(set: &str) -> Result<Vec<bool>, FilterError> {
    {
        let (neg, body) = split_neg(set);
        if body.is_empty() {
            return Err(FilterError::Empty);
        }
        let mut chosen = vec![false; MAX_NR];
        for tok in body.split(',') {
            let tok = tok.trim();
            // An empty entry (`open,,close`) is nothing, as in strace.
            if tok.is_empty() {
                continue;
            }
            // `?name` ignores unknown names, as in strace.
            let (optional, tok) = match tok.strip_prefix('?') {
                Some(t) => (true, t),
                None => (false, tok),
            };
            // `/REGEX`: every syscall whose name matches.
            if let Some(re) = tok.strip_prefix('/') {
                let re =
                    regex::Regex::new(re).map_err(|_| FilterError::Syscall(format!("/{re}")))?;
                for (nr, info) in table::all() {
                    if re.is_match(info.name) {
                        chosen[nr as usize] = true;
                    }
                }
                continue;
            }
            // A personality suffix: `@64` is this one; `@32`/`@x32` name calls pgstrace does
            // not trace (64-bit tracees only), so nothing.
            let tok = match tok.rsplit_once('@') {
                Some((n, "64")) => n,
                Some((_, "32" | "x32")) => continue,
                _ => tok,
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
                    } else if let Some(bits) = class_bits(tok) {
                        // A class without its `%` (`trace=file`), as strace still takes it.
                        for (nr, info) in table::all() {
                            if info.classes & bits != 0 {
                                chosen[nr as usize] = true;
                            }
                        }
                    } else if table::OTHER_PERSONALITY_NAMES.contains(&tok) {
                        // Another architecture's call: nothing for a 64-bit tracee.
                    } else if !optional {
                        return Err(FilterError::Syscall(tok.to_string()));
                    }
                }
            }
        }
        if neg {
            chosen.iter_mut().for_each(|c| *c = !*c);
        }
        Ok(chosen)
    }
}

impl Filter {
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

    #[test]
    fn inject_and_fault_rules() {
        let mut f = Filter::default();
        f.apply("inject=fallocate:error=ENOSPC:when=2+")
            .unwrap_or_else(|e| panic!("{e}"));
        f.apply("fault=%desc").unwrap_or_else(|e| panic!("{e}"));
        f.apply("inject=write:retval=7")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.injections.len(), 3);
        assert_eq!(
            f.injections[0].tamper.ret,
            Some(crate::trace::inject::Action::Error(28))
        );
        assert!(f.injections[0].syscalls[285]);
        assert_eq!(
            f.injections[1].tamper.ret,
            Some(crate::trace::inject::Action::Error(38))
        );
        assert_eq!(
            f.injections[2].tamper.ret,
            Some(crate::trace::inject::Action::Retval(7))
        );
        f.apply("inject=getppid:signal=SIGUSR1")
            .unwrap_or_else(|e| panic!("{e}"));
        f.apply("inject=getppid:error=EPERM:signal=15")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (f.injections[3].tamper.ret, f.injections[3].tamper.signal),
            (None, Some(10))
        );
        assert_eq!(f.injections[4].tamper.signal, Some(15));
        // Tracing is untouched by tampering.
        assert!(f.traces(0));
        f.apply("inject=write:error=EIO:syscall=getppid:when=1:when=3")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.injections[5].tamper.syscall, Some(110));
        assert_eq!(
            f.injections[5].when,
            crate::trace::inject::When::parse("3").unwrap_or_default()
        );
        f.apply("inject=write:poke_enter=@arg2=58:poke_exit=@arg2=5a59")
            .unwrap_or_else(|e| panic!("{e}"));
        let t = &f.injections[6].tamper;
        assert_eq!((t.ret, t.poke_enter[0].arg), (None, 2));
        assert_eq!(t.poke_exit[0].data, b"ZY");
        f.apply("fault=write:syscall=gettid")
            .unwrap_or_else(|e| panic!("{e}"));
        for bad in [
            "inject=fallocate",
            "inject=fallocate:error=ENOTANERRNO",
            "inject=nosuchcall:error=EIO",
            "inject=write:when=0:error=EIO",
            "inject=write:retval=x",
            "fault=write:retval=1",
            "inject=write:colour=red",
            "inject=write:signal=SIGNOPE",
            "inject=write:error=EIO:error=EPERM",
            "inject=write:error=EIO:retval=1",
            "inject=write:signal=1:signal=2",
            "inject=write:delay_enter=1:delay_enter=2",
            "inject=write:syscall=getpid",
            "inject=write:error=EIO:syscall=sync",
            "inject=write:error=EIO:syscall=39",
            "inject=write:error=EIO:syscall=getpid:syscall=getppid",
            "inject=write:poke_enter=@arg2=5",
            "inject=write:poke_enter=@arg2=58:poke_enter=@arg2=59",
            "fault=write:poke_enter=@arg2=58",
        ] {
            assert!(Filter::default().apply(bad).is_err(), "{bad}");
        }
    }

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
