//! The ptrace engine through the library, as `pgstrace probe` will use it: a breakpoint
//! (`int3`) written into a fixture's text, each hit reaching the handler as a breakpoint
//! stop (never as a SIGTRAP for the program), stepped over with the original byte put back,
//! and re-armed at the single-step stop. The fixture checks that it ran every call and saw
//! no SIGTRAP; the engine leaves nothing traced.

#[path = "support/fixtures.rs"]
mod fixtures;

use pgstrace::syscalls::Tracee;
use pgstrace::trace::{Engine, Gone, Handler, Outcome, Resume, Stop, attach};
use std::process::Command;

/// An engine waits for any child (`waitpid(-1)`): two in one test process would take each
/// other's stops, so the tests here run one at a time.
fn one_engine_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The file address of `sym` in `bin`, from nm.
fn symbol_value(bin: &std::path::Path, sym: &str) -> u64 {
    let out = Command::new("nm")
        .arg(bin)
        .output()
        .unwrap_or_else(|e| panic!("nm: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            let (v, _, name) = (f.next()?, f.next()?, f.next()?);
            (name == sym)
                .then(|| u64::from_str_radix(v, 16).ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no symbol {sym} in {}", bin.display()))
}

/// Where the executable's first mapping (file offset 0) starts: a PIE's load bias.
fn load_base(pid: i32, bin: &std::path::Path) -> u64 {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let name = bin.canonicalize().unwrap_or_else(|e| panic!("{e}"));
    maps.lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (range, off, path) = (f.first()?, f.get(2)?, f.get(5)?);
            (*path == name.to_str()? && *off == "00000000")
                .then(|| u64::from_str_radix(range.split('-').next()?, 16).ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no mapping of {} in:\n{maps}", bin.display()))
}

struct Breakpointer {
    bin: std::path::PathBuf,
    /// The breakpoint's address and the byte it replaced, once armed.
    armed: Option<(u64, u8)>,
    hits: u32,
    steps: u32,
    signals: Vec<i32>,
    exit: Option<Gone>,
}

impl Handler for Breakpointer {
    fn attached(&mut self, _tid: i32, _parent: Option<i32>) {}

    fn stop(&mut self, stop: Stop<'_>) {
        match stop {
            Stop::Exec(mut e) => {
                let addr = load_base(e.tid(), &self.bin) + symbol_value(&self.bin, "hit");
                let mut orig = [0u8];
                assert_eq!(e.mem().read_mem(addr, &mut orig), 1, "read the text");
                assert!(e.mem().exact(), "a held tracee's memory is exact");
                e.write_mem(addr, &[0xcc]).expect("write int3");
                self.armed = Some((addr, orig[0]));
                e.cont();
            }
            Stop::Breakpoint(mut b) => {
                let (addr, orig) = self.armed.expect("a breakpoint before arming");
                let mut regs = b.regs().expect("regs");
                assert_eq!(regs.rip, addr + 1, "the trap is ours");
                self.hits += 1;
                // Put the instruction back, run it, and re-arm at the step stop.
                b.write_mem(addr, &[orig]).expect("restore");
                regs.rip = addr;
                b.set_regs(regs).expect("set rip");
                b.single_step();
            }
            Stop::SingleStep(mut s) => {
                let (addr, _) = self.armed.expect("armed");
                self.steps += 1;
                s.write_mem(addr, &[0xcc]).expect("re-arm");
                s.cont();
            }
            Stop::Signal(s) => {
                self.signals.push(s.kind.sig);
                s.cont();
            }
            // Dropped: the engine's default resume.
            other => drop(other),
        }
    }

    fn gone(&mut self, _tid: i32, how: Gone) {
        self.exit = Some(how);
    }
}

#[test]
fn breakpoints_are_stops_of_their_own_and_never_reach_the_program() {
    let _one = one_engine_at_a_time();
    let bin = fixtures::fixture("bp");
    let mut h = Breakpointer {
        bin: bin.clone(),
        armed: None,
        hits: 0,
        steps: 0,
        signals: Vec::new(),
        exit: None,
    };
    let mut engine = Engine::with_mode(false, Resume::Continue);
    let argv = vec![bin.to_string_lossy().into_owned(), "50".to_string()];
    attach::launch(&mut engine, &argv, &mut h).expect("launch the fixture");
    let outcome = engine.run(&mut h);
    assert_eq!(
        outcome,
        Outcome::AllGone {
            launched_code: Some(0)
        },
        "the fixture saw a SIGTRAP (4) or missed calls (3): {:?}",
        h.exit
    );
    assert_eq!(h.hits, 50, "one breakpoint stop per call");
    assert_eq!(h.steps, 50, "one single-step stop per hit");
    assert!(!h.signals.contains(&libc::SIGTRAP), "{:?}", h.signals);
}

struct Quiet;

impl Handler for Quiet {
    fn attached(&mut self, _tid: i32, _parent: Option<i32>) {}
    fn stop(&mut self, _stop: Stop<'_>) {}
    fn gone(&mut self, _tid: i32, _how: Gone) {}
}

/// Dropping the engine detaches every tracee, whatever path dropped it.
#[test]
fn dropping_the_engine_detaches_every_tracee() {
    let _one = one_engine_at_a_time();
    let mut sleeper = std::process::Command::new(fixtures::fixture("sleeper"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn the sleeper");
    let pid = sleeper.id() as i32;
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut engine = Engine::new(true);
    attach::attach_all(&mut engine, &[pid], &mut Quiet).expect("attach");
    assert!(
        fixtures::wait_until(std::time::Duration::from_secs(10), || {
            fixtures::proc_state(pid).is_some_and(|s| s.1 != 0)
        }),
        "not traced after the attach"
    );
    drop(engine);
    let free = fixtures::wait_until(
        std::time::Duration::from_secs(10),
        || matches!(fixtures::proc_state(pid), Some((s, 0)) if s == 'S' || s == 'R'),
    );
    let state = fixtures::proc_state(pid);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(free, "left traced or stopped: {state:?}");
}
