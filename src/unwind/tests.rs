//! Unwinder tests on real stacks: a fixture (fixtures/unwind/stacks.c, built here with gcc in
//! several flavours) is seized, stopped at its marker getppid() syscall, and recorded:
//! registers, stack, maps and the memory the module builder reads. The process is killed
//! before unwinding, so unwinding runs from the recording alone; frames are checked against
//! `nm` of the fixture.

use super::*;
use crate::remote::maps::{self, Mapping, ModuleMaps, ModuleSource};
use crate::remote::regs::{self, Snapshot};
use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

/// A tracee these tests' own wait loops hold in a ptrace-stop at the point of use.
struct HeldHere(i32);

// SAFETY: every use is at a stop of the test's own wait loop, before it resumes.
unsafe impl crate::remote::Held for HeldHere {
    fn tid(&self) -> i32 {
        self.0
    }
}

const FIXTURE_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/unwind/stacks.c");

/// The fixture flavours: name and gcc flags.
const FLAVOURS: &[(&str, &[&str])] = &[
    ("fp", &["-O0", "-fno-omit-frame-pointer"]),
    ("nofp", &["-O2", "-fomit-frame-pointer"]),
    // No CFI for the fixture's own code: frames must come from frame pointers.
    (
        "nocfi",
        &[
            "-O1",
            "-fno-omit-frame-pointer",
            "-fno-asynchronous-unwind-tables",
            "-fno-unwind-tables",
        ],
    ),
];

fn fixture(flavour: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get(flavour) {
        return p.clone();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/unwind-fixtures");
    std::fs::create_dir_all(&dir).expect("create target/unwind-fixtures");
    let out = dir.join(format!("stacks-{flavour}"));
    let flags = FLAVOURS
        .iter()
        .find(|(n, _)| *n == flavour)
        .map(|(_, f)| *f)
        .expect("known flavour");
    let status = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(FIXTURE_SRC)
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc failed for {flavour}");
    built.insert(flavour.to_string(), out.clone());
    out
}

/// Function symbols of an ELF file per `nm -S`: (start, end, name), sorted.
fn nm(path: &Path) -> Vec<(u64, u64, String)> {
    let out = Command::new("nm")
        .args(["-S", "--defined-only"])
        .arg(path)
        .output()
        .expect("run nm");
    let mut syms: Vec<(u64, u64, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 4 || !matches!(f[2], "T" | "t") {
                return None;
            }
            let start = u64::from_str_radix(f[0], 16).ok()?;
            let size = u64::from_str_radix(f[1], 16).ok()?;
            Some((start, start + size, f[3].to_string()))
        })
        .collect();
    syms.sort();
    syms
}

/// A seized fixture; killed and reaped on drop, whatever happened.
struct Traced {
    child: Child,
}

impl Drop for Traced {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything the unwinder needs, taken while the fixture was stopped.
struct Recording {
    snap: Snapshot,
    maps: Vec<Mapping>,
    /// Memory the module builder reads: the first page of each module, the whole vDSO.
    mem: Vec<(u64, Vec<u8>)>,
    /// Files as opened through /proc/PID/map_files.
    files: HashMap<String, Vec<u8>>,
}

impl ModuleEnv for Recording {
    fn file_bytes(&self, module: &ModuleMaps) -> std::io::Result<Vec<u8>> {
        self.files
            .get(module.name())
            .cloned()
            .ok_or_else(|| std::io::ErrorKind::NotFound.into())
    }

    fn read_mem(&self, addr: u64, buf: &mut [u8]) -> usize {
        for (start, bytes) in &self.mem {
            if let Some(off) = addr.checked_sub(*start)
                && let Some(src) = usize::try_from(off).ok().and_then(|o| bytes.get(o..))
            {
                let n = src.len().min(buf.len());
                buf[..n].copy_from_slice(&src[..n]);
                return n;
            }
        }
        0
    }
}

/// Runs the fixture in `mode`, stops it at the entry of its getppid() and records it.
/// `at_stop` runs while it is stopped (for the live-path checks).
fn record(flavour: &str, mode: &str, at_stop: impl FnOnce(i32)) -> Recording {
    record_exe(&fixture(flavour), mode, false, at_stop)
}

/// [`record`] for any executable; `delete` unlinks it once it runs.
fn record_exe(exe: &Path, mode: &str, delete: bool, at_stop: impl FnOnce(i32)) -> Recording {
    // A copy just written may be held open for writing by another test thread's fork that
    // has not exec'd yet (ETXTBSY): try again a moment later.
    let mut tries = 0;
    let child = loop {
        match Command::new(exe)
            .arg(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
        {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other.expect("spawn fixture"),
        }
    };
    if delete {
        // spawn returns after a successful exec, so the file is mapped by now.
        std::fs::remove_file(exe).expect("unlink the running fixture");
    }
    let mut traced = Traced { child };
    let pid = Pid::from_raw(traced.child.id() as i32);
    ptrace::seize(pid, ptrace::Options::PTRACE_O_TRACESYSGOOD).expect("seize");
    ptrace::interrupt(pid).expect("interrupt");
    match waitpid(pid, None) {
        Ok(WaitStatus::PtraceEvent(..)) | Ok(WaitStatus::Stopped(..)) => {}
        other => panic!("first stop: {other:?}"),
    }
    ptrace::syscall(pid, None).expect("resume");
    if let Some(stdin) = traced.child.stdin.as_mut() {
        stdin.write_all(b"g").expect("write go byte");
    }
    loop {
        match waitpid(pid, None).expect("waitpid") {
            WaitStatus::PtraceSyscall(_) => {
                let r = ptrace::getregs(pid).expect("getregs");
                if r.orig_rax == libc::SYS_getppid as u64 {
                    break;
                }
                ptrace::syscall(pid, None).expect("resume");
            }
            WaitStatus::Stopped(_, sig) => {
                let inject = (sig != Signal::SIGTRAP && sig != Signal::SIGSTOP).then_some(sig);
                ptrace::syscall(pid, inject).expect("resume with signal");
            }
            WaitStatus::PtraceEvent(..) => ptrace::syscall(pid, None).expect("resume"),
            other => panic!("fixture ended before its marker: {other:?}"),
        }
    }
    let raw = pid.as_raw();
    let maps = maps::read(raw).expect("read maps");
    let stack_end = maps::find(&maps, ptrace::getregs(pid).expect("regs").rsp).map(|m| m.end);
    let snap = regs::capture_bounded(&HeldHere(raw), 1 << 20, stack_end).expect("capture");
    let mut mem = Vec::new();
    let mut files = HashMap::new();
    for mm in maps::modules(&maps) {
        let len = match mm.source {
            ModuleSource::Vdso => (mm.end() - mm.start()) as usize,
            ModuleSource::File { .. } => 4096,
        };
        let mut buf = vec![0u8; len];
        let n = crate::remote::read_mem(raw, mm.start(), &mut buf);
        buf.truncate(n);
        mem.push((mm.start(), buf));
        if let Ok(bytes) = (ProcEnv { pid: raw }).file_bytes(&mm) {
            files.insert(mm.name().to_string(), bytes);
        }
    }
    at_stop(raw);
    drop(traced);
    Recording {
        snap,
        maps,
        mem,
        files,
    }
}

/// Names frames in `exe` with `nm` symbols (by lookup address); other modules by file name.
fn names(frames: &[Frame], modules: &Modules, exe: &Path) -> Vec<String> {
    let syms = nm(exe);
    let exe_name = exe.to_string_lossy();
    frames
        .iter()
        .map(|f| {
            let Some(m) = f.module.and_then(|i| modules.list.get(i)) else {
                return format!("?{:#x}", f.avma);
            };
            if m.name == exe_name {
                let svma = m.svma(f.lookup_avma);
                syms.iter()
                    .find(|(s, e, _)| *s <= svma && svma < *e)
                    .map(|(_, _, n)| n.clone())
                    .unwrap_or_else(|| format!("exe+{svma:#x}"))
            } else {
                m.name.rsplit('/').next().unwrap_or("?").to_string()
            }
        })
        .collect()
}

fn unwind_recording(rec: &Recording) -> (Vec<Frame>, Modules) {
    let cache = ImageCache::default();
    let modules = Modules::build(rec.maps.clone(), rec, &cache, None);
    (unwind(&rec.snap, &modules), modules)
}

/// `want` appears in `got` in order (other frames may sit between).
fn assert_subsequence(got: &[String], want: &[&str]) {
    let mut it = got.iter();
    for w in want {
        assert!(it.any(|g| g == w), "{want:?} not in order in {got:?}");
    }
}

fn check_chain(flavour: &str) -> (Vec<Frame>, Vec<String>) {
    let rec = record(flavour, "chain", |_| {});
    let (frames, modules) = unwind_recording(&rec);
    let names = names(&frames, &modules, &fixture(flavour));
    assert_subsequence(
        &names,
        &[
            "libc.so.6",
            "marker",
            "chain3",
            "chain2",
            "chain1",
            "main",
            "libc.so.6",
            "_start",
        ],
    );
    assert_eq!(
        names.last().map(String::as_str),
        Some("_start"),
        "{names:?}"
    );
    assert_eq!(frames[0].how, How::FirstFrame);
    assert_eq!(frames[0].avma, rec.snap.rip);
    // Return addresses: the instruction after a call, looked up one byte earlier.
    for f in &frames[1..] {
        assert_eq!(f.lookup_avma + 1, f.avma);
        assert!(f.is_return_address());
    }
    (frames, names)
}

#[test]
fn chain_with_frame_pointers() {
    let (frames, _) = check_chain("fp");
    assert!(
        frames[1..].iter().all(|f| f.how == How::Cfi),
        "{frames:#x?}"
    );
}

#[test]
fn chain_without_frame_pointers() {
    let (frames, _) = check_chain("nofp");
    assert!(
        frames[1..].iter().all(|f| f.how == How::Cfi),
        "{frames:#x?}"
    );
}

#[test]
fn chain_without_cfi_uses_frame_pointers() {
    let (frames, names) = check_chain("nocfi");
    // Callers of the fixture's own functions were found through their frame pointers.
    // The binary keeps the C runtime's few FDEs (crt1.o's), so its module has CFI and the
    // frames say "no FDE covers the callee", not "no CFI".
    let i = names.iter().position(|n| n == "chain3").expect("chain3");
    assert_eq!(
        frames[i + 1].how,
        How::FramePointerNoFde,
        "{names:?} {frames:#x?}"
    );
}

#[test]
fn deleted_binary_unwinds_through_map_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join("stacks-deleted");
    std::fs::copy(fixture("nofp"), &exe).expect("copy fixture");
    let mut live = None;
    let rec = record_exe(&exe, "chain", true, |pid| {
        let cache = ImageCache::default();
        live = Some(Modules::load(pid, &cache, None).expect("modules"));
    });
    let modules = live.expect("ran at the stop");
    let m = modules
        .list
        .iter()
        .find(|m| matches!(m.source, ModuleSource::File { deleted: true, .. }))
        .expect("a deleted module");
    assert!(m.problem.is_none(), "{m:?}");
    let frames = unwind(&rec.snap, &modules);
    // Name with nm of the identical original; the module's name is the deleted path.
    let syms = nm(&fixture("nofp"));
    let names: Vec<&str> = frames
        .iter()
        .filter(|f| {
            f.module
                .and_then(|i| modules.list.get(i))
                .is_some_and(|x| x.name == m.name)
        })
        .filter_map(|f| {
            let svma = m.svma(f.lookup_avma);
            syms.iter()
                .find(|(s, e, _)| *s <= svma && svma < *e)
                .map(|(_, _, n)| n.as_str())
        })
        .collect();
    assert_eq!(
        names,
        ["marker", "chain3", "chain2", "chain1", "main", "_start"]
    );
}

#[test]
fn deep_recursion() {
    let rec = record("nofp", "recurse", |_| {});
    let (frames, modules) = unwind_recording(&rec);
    let names = names(&frames, &modules, &fixture("nofp"));
    // recurse(200) down to recurse(1) have frames; at -O2 recurse(0) tail-calls marker.
    let n = names.iter().filter(|n| *n == "recurse").count();
    assert_eq!(n, 200, "{names:?}");
    assert_subsequence(&names, &["marker", "recurse", "main", "_start"]);
}

#[test]
fn syscall_in_signal_handler_crosses_the_signal_frame() {
    for flavour in ["fp", "nofp"] {
        let rec = record(flavour, "signal", |_| {});
        let (frames, modules) = unwind_recording(&rec);
        let names = names(&frames, &modules, &fixture(flavour));
        assert_subsequence(
            &names,
            &[
                "marker",
                "in_handler",
                "handler",
                "libc.so.6",
                "libc.so.6",
                "raiser",
                "main",
                "_start",
            ],
        );
        let sig = frames.iter().position(|f| f.how == How::SignalFrame);
        let Some(sig) = sig else {
            panic!("no signal frame in {names:?}");
        };
        // The interrupted instruction is reported as is, not as a return address.
        assert_eq!(frames[sig].lookup_avma, frames[sig].avma);
        // The trampoline frame is named at its first byte (it is __restore_rt, in libc).
        assert_eq!(frames[sig - 1].lookup_avma, frames[sig - 1].avma);
        assert_eq!(names[sig - 1], "libc.so.6");
    }
}

#[test]
fn live_modules_and_capture_cost() {
    let cache = ImageCache::new();
    let mut result = None;
    let rec = record("nofp", "chain", |pid| {
        let mut pm = ProcessModules::new(pid, cache.clone());
        let t = std::time::Instant::now();
        let n = 200;
        let mut len = 0;
        for _ in 0..n {
            len = regs::capture(&HeldHere(pid), 64 << 10)
                .map(|s| s.stack.len())
                .unwrap_or(0);
        }
        let per = t.elapsed() / n;
        // The fixture's stack is small; time a full 64 KiB copy from its libc text too (same
        // syscall, same copy cost) with the register fetch.
        let libc_start = maps::modules(&maps::read(pid).unwrap_or_default())
            .into_iter()
            .find(|m| m.name().contains("libc.so"))
            .map(|m| m.start())
            .unwrap_or(0);
        let mut big = vec![0u8; 64 << 10];
        let t = std::time::Instant::now();
        for _ in 0..n {
            let _ = ptrace::getregs(Pid::from_raw(pid));
            assert_eq!(regs::read_once(pid, libc_start, &mut big), big.len());
        }
        let per64 = t.elapsed() / n;
        eprintln!("getregs + 64 KiB process_vm_readv: {per64:?} per stop");
        let t = std::time::Instant::now();
        let modules = pm.get().expect("modules").clone();
        let load = t.elapsed();
        // Files are reached through map_files while the process lives.
        let via = modules.list.first().and_then(|m| m.open_path(pid));
        assert!(
            via.as_ref()
                .is_some_and(|p| p.starts_with(format!("/proc/{pid}/map_files/"))),
            "{via:?}"
        );
        pm.invalidate();
        let t = std::time::Instant::now();
        let _ = pm.get().expect("modules again");
        let reload = t.elapsed();
        let snap = regs::capture(&HeldHere(pid), 64 << 10).expect("capture");
        eprintln!(
            "capture of {len} bytes: {per:?} per call; modules: first load {load:?}, reload {reload:?}"
        );
        result = Some((snap, modules, per));
    });
    let (snap, modules, per) = result.expect("ran at the stop");
    assert!(
        per < std::time::Duration::from_micros(200),
        "capture too slow: {per:?}"
    );
    // The live path and the recorded path agree.
    assert_eq!(snap, rec.snap);
    let live: Vec<u64> = unwind(&snap, &modules).iter().map(|f| f.avma).collect();
    let (recorded, _) = unwind_recording(&rec);
    assert_eq!(live, recorded.iter().map(|f| f.avma).collect::<Vec<_>>());
    let t = std::time::Instant::now();
    for _ in 0..100 {
        let _ = unwind(&snap, &modules);
    }
    let cold = t.elapsed() / 100;
    let mut cache = UnwindCache::new();
    let t = std::time::Instant::now();
    for _ in 0..100 {
        assert_eq!(
            cache.unwind(&snap, &modules, DEFAULT_MAX_FRAMES).len(),
            live.len()
        );
    }
    let warm = t.elapsed() / 100;
    eprintln!(
        "unwind of {} frames: {cold:?} with a fresh cache, {warm:?} warm",
        live.len()
    );
    // Modules carry placement, build-ids and file offsets.
    let exe = fixture("nofp");
    let (_, m) = modules
        .list
        .iter()
        .enumerate()
        .find(|(_, m)| Path::new(&m.name) == exe)
        .expect("fixture module");
    assert!(m.problem.is_none(), "{m:?}");
    assert_eq!(m.build_id().map(<[u8]>::len), Some(20));
    let libc = modules
        .list
        .iter()
        .find(|m| m.name.contains("libc.so"))
        .expect("libc");
    assert!(libc.problem.is_none(), "{libc:?}");
    let vdso = modules
        .list
        .iter()
        .find(|m| m.source == ModuleSource::Vdso)
        .expect("vdso");
    assert!(vdso.problem.is_none(), "{vdso:?}");
    assert_eq!(vdso.bias, vdso.start);
    assert_eq!(
        vdso.vdso_image().map(<[u8]>::len),
        Some((vdso.end - vdso.start) as usize)
    );
    // Two processes of one binary share the image.
    assert!(Arc::strong_count(libc.image.as_ref().expect("libc image")) >= 2);
    // A code address maps back to its file offset through PT_LOAD.
    let top = modules.find(snap.rip).map(|(_, m)| m).expect("top module");
    assert!(top.file_offset(snap.rip).is_some());
}

#[test]
fn vdso_note_fires_once_for_a_vdso_top_frame() {
    let cache = ImageCache::default();
    let modules = Modules::load(std::process::id() as i32, &cache, None).expect("own modules");
    let (vi, vdso) = modules
        .list
        .iter()
        .enumerate()
        .find(|(_, m)| m.source == ModuleSource::Vdso)
        .expect("vdso");
    assert!(vdso.image.as_ref().is_some_and(|i| i.has_cfi()));
    let frame = Frame {
        avma: vdso.start + 0x10,
        lookup_avma: vdso.start + 0x10,
        module: Some(vi),
        svma: Some(0x10),
        how: How::FirstFrame,
    };
    let mut note = clock::ClockNote::default();
    assert_eq!(note.observe("read", &[frame], &modules), None);
    let text = note.observe("clock_gettime", &[frame], &modules);
    assert!(text.is_some_and(|t| t.contains("[vdso]")));
    assert_eq!(note.observe("clock_gettime", &[frame], &modules), None);
}

/// Whether this machine's vDSO falls back to syscalls at all: only then can a live test see
/// a time syscall from [vdso]. With tsc or kvm-clock it cannot (the note is then unit-tested
/// only).
#[test]
fn vdso_fallback_live_only_with_a_slow_clocksource() {
    let cur =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .unwrap_or_default();
    if clock::vdso_capable(&cur) {
        eprintln!(
            "skipped: clocksource {} is vDSO-capable, no fallback syscalls",
            cur.trim()
        );
    }
}

#[test]
fn unwinding_garbage_is_bounded_and_never_panics() {
    let cache = ImageCache::default();
    let modules = Modules::load(std::process::id() as i32, &cache, None).expect("own modules");
    let libc = modules
        .list
        .iter()
        .find(|m| m.name.contains("libc.so"))
        .expect("libc");
    let mut seed = 0x1234_5678_9abc_def0u64;
    for _ in 0..200 {
        let mut stack = Vec::new();
        for _ in 0..512 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Mix plausible code addresses and stack addresses into the noise.
            let v = match seed % 4 {
                0 => libc.start + seed % (libc.end - libc.start),
                1 => 0x7ffc_0000_0000 + seed % 0x1000,
                _ => seed,
            };
            stack.extend(v.to_le_bytes());
        }
        let snap = Snapshot {
            pid: 0,
            rip: libc.start + seed % (libc.end - libc.start),
            rsp: 0x7ffc_0000_0000,
            rbp: 0x7ffc_0000_0100,
            stack,
        };
        let frames = unwind(&snap, &modules);
        assert!(frames.len() <= DEFAULT_MAX_FRAMES);
    }
}

/// Detaches from a seized process on every path (the process must outlive the test).
struct Seized(Pid);

impl Drop for Seized {
    fn drop(&mut self) {
        // Detach needs a stop; interrupt first in case it runs.
        if ptrace::detach(self.0, None).is_err() {
            let _ = ptrace::interrupt(self.0);
            let _ = waitpid(self.0, None);
            let _ = ptrace::detach(self.0, None);
        }
    }
}

/// Against a live PostgreSQL backend: `PGSTRACE_UNWIND_PID=<backend pid> cargo test --
/// --ignored postgres_backend --nocapture`, then run a query in that session. Seizes the
/// backend, stops it at its next recvfrom (or syscall number PGSTRACE_UNWIND_SYSCALL),
/// captures, detaches, and prints the unwound stack with the nearest exported symbol
/// (strace's way) for each frame.
#[test]
#[ignore]
fn postgres_backend_stack() {
    let Some(pid) = std::env::var("PGSTRACE_UNWIND_PID")
        .ok()
        .and_then(|p| p.parse().ok())
    else {
        eprintln!("set PGSTRACE_UNWIND_PID");
        return;
    };
    let pid = Pid::from_raw(pid);
    ptrace::seize(pid, ptrace::Options::PTRACE_O_TRACESYSGOOD).expect("seize");
    let guard = Seized(pid);
    ptrace::interrupt(pid).expect("interrupt");
    let _ = waitpid(pid, None);
    ptrace::syscall(pid, None).expect("resume");
    let nr: u64 = std::env::var("PGSTRACE_UNWIND_SYSCALL")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(libc::SYS_recvfrom as u64);
    let cache = ImageCache::new();
    let mut pm = ProcessModules::new(pid.as_raw(), cache);
    let (snap, modules) = loop {
        match waitpid(pid, None).expect("waitpid") {
            WaitStatus::PtraceSyscall(_) => {
                let r = ptrace::getregs(pid).expect("regs");
                if r.orig_rax == nr {
                    let t = std::time::Instant::now();
                    let snap = regs::capture(&HeldHere(pid.as_raw()), 64 << 10).expect("capture");
                    let took = t.elapsed();
                    let t = std::time::Instant::now();
                    let _ = regs::capture(&HeldHere(pid.as_raw()), 64 << 10).expect("capture");
                    eprintln!("second capture took {:?}", t.elapsed());
                    let modules = pm.get().expect("modules").clone();
                    eprintln!("capture of {} bytes took {took:?}", snap.stack.len());
                    break (snap, modules);
                }
                ptrace::syscall(pid, None).expect("resume");
            }
            WaitStatus::Stopped(_, sig) => ptrace::syscall(pid, Some(sig)).expect("resume"),
            WaitStatus::PtraceEvent(..) => ptrace::syscall(pid, None).expect("resume"),
            other => panic!("backend went away: {other:?}"),
        }
    };
    drop(guard);
    let t = std::time::Instant::now();
    let frames = unwind(&snap, &modules);
    eprintln!(
        "unwound {} frames in {:?} (after detaching)",
        frames.len(),
        t.elapsed()
    );
    let t = std::time::Instant::now();
    let _ = unwind(&snap, &modules);
    eprintln!("again with a fresh rule cache: {:?}", t.elapsed());
    let mut cache = UnwindCache::new();
    let _ = cache.unwind(&snap, &modules, DEFAULT_MAX_FRAMES);
    let t = std::time::Instant::now();
    let _ = cache.unwind(&snap, &modules, DEFAULT_MAX_FRAMES);
    eprintln!("again with a warm rule cache: {:?}", t.elapsed());
    let mut dynsyms: HashMap<usize, Vec<(u64, u64, String)>> = HashMap::new();
    for f in &frames {
        let m = f.module.and_then(|i| modules.list.get(i));
        let (name, sym) = match m {
            Some(m) => {
                let syms = dynsyms.entry(f.module.unwrap_or(0)).or_insert_with(|| {
                    let out = Command::new("nm")
                        .args(["-D", "-S", "--defined-only"])
                        .arg(&m.name)
                        .output();
                    let mut v: Vec<(u64, u64, String)> = out
                        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                        .unwrap_or_default()
                        .lines()
                        .filter_map(|l| {
                            let f: Vec<&str> = l.split_whitespace().collect();
                            if f.len() != 4 || !matches!(f[2], "T" | "t" | "W" | "i") {
                                return None;
                            }
                            let s = u64::from_str_radix(f[0], 16).ok()?;
                            Some((s, s + u64::from_str_radix(f[1], 16).ok()?, f[3].to_string()))
                        })
                        .collect();
                    v.sort();
                    v
                });
                let svma = m.svma(f.lookup_avma);
                let i = syms.partition_point(|s| s.0 <= svma);
                let sym = i
                    .checked_sub(1)
                    .and_then(|i| syms.get(i))
                    .map(|(s, e, n)| {
                        let inside = if svma < *e { "" } else { " (beyond its size)" };
                        format!("{n}+{:#x}{inside}", m.svma(f.avma) - s)
                    })
                    .unwrap_or_default();
                (m.name.clone(), sym)
            }
            None => ("?".to_string(), String::new()),
        };
        let off = m.and_then(|m| m.file_offset(f.avma)).unwrap_or(0);
        eprintln!(" > {name}({sym}) [{off:#x}] {:?}", f.how);
    }
    assert!(frames.len() > 5);
}

#[test]
fn interrupted_context_reads_the_ucontext() {
    // A stack copy at 0x1000 whose ucontext (at rsp) says: rip 0xabc, rsp 0x1200, rbp 0x1300.
    let mut stack = vec![0u8; 0x400];
    let put = |s: &mut Vec<u8>, off: u64, v: u64| {
        s[off as usize..off as usize + 8].copy_from_slice(&v.to_le_bytes())
    };
    put(&mut stack, 40 + 16 * 8, 0xabc);
    put(&mut stack, 40 + 15 * 8, 0x1200);
    put(&mut stack, 40 + 10 * 8, 0x1300);
    put(&mut stack, 0x200, 0x5555);
    let snap = Snapshot {
        pid: 7,
        rip: 0x9999,
        rsp: 0x1000,
        rbp: 0,
        stack,
    };
    let never = |_: u64, _: &mut [u8]| -> usize { panic!("the copy holds the interrupted stack") };
    let i = super::interrupted_context(&snap, 4096, never).expect("ucontext in the copy");
    assert_eq!((i.pid, i.rip, i.rsp, i.rbp), (7, 0xabc, 0x1200, 0x1300));
    assert_eq!(i.read_u64(0x1200), Some(0x5555));
    assert_eq!(i.stack.len(), 0x200);

    // The handler ran on a sigaltstack: the interrupted stack is read from the process.
    let mut alt = snap.clone();
    put(&mut alt.stack, 40 + 15 * 8, 0x8000);
    let read = |addr: u64, buf: &mut [u8]| {
        assert_eq!(addr, 0x8000);
        buf[..8].copy_from_slice(&0x77u64.to_le_bytes());
        16
    };
    let i = super::interrupted_context(&alt, 4096, read).expect("read elsewhere");
    assert_eq!(
        (i.rsp, i.stack.len(), i.read_u64(0x8000)),
        (0x8000, 16, Some(0x77))
    );

    // No ucontext in the copy: nothing to say.
    let short = Snapshot {
        stack: vec![0u8; 16],
        ..snap
    };
    assert!(super::interrupted_context(&short, 4096, never).is_none());
}
