//! Issue 3 end to end: `pgstrace -k` on a fixture whose stack mixes exported and static
//! functions, built stripped (names only from `.dynsym`) and with DWARF (`-kk`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn build(dir: &Path, name: &str, flags: &[&str], strip: bool) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kstack.c");
    let out = dir.join(name);
    let st = Command::new("gcc")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("gcc: {e}"));
    assert!(st.success(), "gcc failed for {name}");
    if strip {
        let st = Command::new("strip")
            .arg("--strip-all")
            .arg(&out)
            .status()
            .unwrap_or_else(|e| panic!("strip: {e}"));
        assert!(st.success(), "strip failed");
    }
    out
}

/// Runs `pgstrace ARGS bin` and returns the trace (written with -o).
fn trace(dir: &Path, args: &[&str], bin: &Path) -> String {
    let out = dir.join("trace.out");
    let st = Command::new(env!("CARGO_BIN_EXE_pgstrace"))
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg(bin)
        .output()
        .unwrap_or_else(|e| panic!("pgstrace: {e}"));
    let stderr = String::from_utf8_lossy(&st.stderr);
    assert!(st.status.success(), "pgstrace failed: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::read_to_string(&out).unwrap_or_default()
}

/// The frame lines after each `getppid` line.
fn getppid_stacks(trace: &str) -> Vec<Vec<String>> {
    let mut stacks = Vec::new();
    let mut cur: Option<Vec<String>> = None;
    for line in trace.lines() {
        if let Some(f) = line.strip_prefix(" > ") {
            if let Some(c) = cur.as_mut() {
                c.push(f.to_string());
            }
            continue;
        }
        stacks.extend(cur.take());
        if line.starts_with("getppid(") {
            cur = Some(Vec::new());
        }
    }
    stacks.extend(cur);
    stacks
}

/// Function sizes from `nm -S` (an oracle independent of pgstrace), dynamic or full table.
fn sizes(bin: &Path, dynamic: bool) -> BTreeMap<String, u64> {
    let mut cmd = Command::new("nm");
    if dynamic {
        cmd.arg("-D");
    }
    let out = cmd
        .args(["-S", "--defined-only"])
        .arg(bin)
        .output()
        .unwrap_or_else(|e| panic!("nm: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let size = u64::from_str_radix(f.get(1)?, 16).ok()?;
            Some((f.get(3)?.to_string(), size))
        })
        .collect()
}

/// `(symbol, offset)` of a frame line `OBJ(SYM+0xOFF) [0x..]`; symbol empty when unnamed.
fn sym_off(frame: &str) -> Option<(String, Option<u64>)> {
    let inner = frame.split_once('(')?.1.split_once(')')?.0;
    Some(match inner.split_once("+0x") {
        Some((s, o)) => (s.to_string(), u64::from_str_radix(o, 16).ok()),
        None => (inner.to_string(), None),
    })
}

/// No frame in `bin` is named by a symbol that does not cover its offset.
fn assert_names_cover(stack: &[String], bin: &Path, sizes: &BTreeMap<String, u64>) {
    let bin = bin.to_string_lossy();
    for f in stack.iter().filter(|f| f.starts_with(bin.as_ref())) {
        let Some((name, Some(off))) = sym_off(f) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let size = sizes.get(&name).copied().unwrap_or(0);
        assert!(off < size.max(1), "{f}: {name} is only {size:#x} bytes");
    }
}

#[test]
fn stripped_binary_names_only_what_covers_and_marks_statics_unnamed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bin = build(
        dir.path(),
        "kstack-stripped",
        &["-O2", "-fomit-frame-pointer", "-rdynamic"],
        true,
    );
    let t = trace(dir.path(), &["-k", "-e", "trace=getppid"], &bin);
    let stacks = getppid_stacks(&t);
    assert_eq!(stacks.len(), 2, "two getppid calls expected:\n{t}");
    let chain = &stacks[0];
    let binname = bin.to_string_lossy().to_string();
    let ours: Vec<&String> = chain.iter().filter(|f| f.starts_with(&binname)).collect();
    // static_leaf and static_middle: unnamed (offset from their FDE start), then
    // exported_outer and main by name.
    assert!(ours.len() >= 4, "frames in the fixture: {chain:#?}");
    assert!(
        ours[0].contains("(+0x"),
        "static_leaf should be unnamed: {}",
        ours[0]
    );
    assert!(
        ours[1].contains("(+0x"),
        "static_middle should be unnamed: {}",
        ours[1]
    );
    assert!(ours[2].contains("(exported_outer+0x"), "{chain:#?}");
    assert!(ours[3].contains("(main+0x"), "{chain:#?}");
    assert!(chain[0].contains("libc.so.6(syscall+0x"), "{chain:#?}");
    let sizes = sizes(&bin, true);
    for s in &stacks {
        assert_names_cover(s, &bin, &sizes);
    }
    // From the signal handler: the stack crosses the signal frame back into main.
    let sig = &stacks[1];
    assert!(
        sig.iter().any(|f| f.contains("(main+0x")),
        "signal stack does not reach main: {sig:#?}"
    );
    assert!(
        sig.iter().any(
            |f| f.contains("libc.so.6(") && (f.contains("raise") || f.contains("pthread_kill"))
        ),
        "signal stack does not show raise: {sig:#?}"
    );
}

#[test]
fn kk_adds_file_and_line_with_debug_info() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bin = build(dir.path(), "kstack-g", &["-O2", "-g"], false);
    let t = trace(dir.path(), &["-kk", "-e", "trace=getppid"], &bin);
    let stacks = getppid_stacks(&t);
    let chain = stacks
        .first()
        .unwrap_or_else(|| panic!("no getppid in:\n{t}"));
    let line_of = |name: &str| {
        chain
            .iter()
            .find(|f| f.contains(&format!("({name}+0x")))
            .unwrap_or_else(|| panic!("no {name} frame: {chain:#?}"))
            .clone()
    };
    for name in ["static_leaf", "static_middle", "exported_outer", "main"] {
        let f = line_of(name);
        assert!(
            f.contains("kstack.c:"),
            "{name} frame without file:line: {f}"
        );
    }
    let sizes = sizes(&bin, false);
    assert_names_cover(chain, &bin, &sizes);
}

/// The frame lines after each line that starts with `call(`.
fn stacks_of(trace: &str, call: &str) -> Vec<Vec<String>> {
    let mut stacks = Vec::new();
    let mut cur: Option<Vec<String>> = None;
    for line in trace.lines() {
        if let Some(f) = line.strip_prefix(" > ") {
            if let Some(c) = cur.as_mut() {
                c.push(f.to_string());
            }
            continue;
        }
        stacks.extend(cur.take());
        if line.starts_with(&format!("{call}(")) {
            cur = Some(Vec::new());
        }
    }
    stacks.extend(cur);
    stacks
}

/// The function names of the frames in `bin` (`bin(name+0x..)`), innermost first.
fn names_in(stack: &[String], bin: &Path) -> Vec<String> {
    let prefix = format!("{}(", bin.display());
    stack
        .iter()
        .filter_map(|f| f.strip_prefix(&prefix))
        .map(|rest| rest.split(['+', ')']).next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn rt_sigreturn_shows_the_interrupted_stack_as_strace_does() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bin = build(dir.path(), "kstack-sig", &["-O2", "-g"], false);
    let t = trace(dir.path(), &["-k", "-e", "trace=rt_sigreturn"], &bin);
    let ours = stacks_of(&t, "rt_sigreturn");
    let stack = ours
        .first()
        .unwrap_or_else(|| panic!("no rt_sigreturn in:\n{t}"));
    assert!(
        stack
            .iter()
            .all(|f| !f.contains("[unknown]") && !f.contains("frame pointer")),
        "the sigreturn stack has holes: {stack:#?}"
    );
    assert!(
        stack.first().is_some_and(|f| f.contains("libc.so.6(")
            && (f.contains("raise") || f.contains("pthread_kill") || f.contains("kill"))),
        "the stack starts where the signal interrupted (the raise in libc): {stack:#?}"
    );
    // strace -k on the same binary: the same functions of the fixture, in the same order.
    let out = dir.path().join("strace.out");
    let st = Command::new("strace")
        .args(["-k", "-e", "trace=rt_sigreturn", "-o"])
        .arg(&out)
        .arg(&bin)
        .output()
        .unwrap_or_else(|e| panic!("strace: {e}"));
    assert!(st.status.success(), "strace failed");
    let theirs = stacks_of(
        &std::fs::read_to_string(&out).unwrap_or_default(),
        "rt_sigreturn",
    );
    let theirs = theirs
        .first()
        .unwrap_or_else(|| panic!("strace printed no rt_sigreturn stack"));
    assert_eq!(
        names_in(stack, &bin),
        names_in(theirs, &bin),
        "ours: {stack:#?}\nstrace: {theirs:#?}"
    );
    assert!(!names_in(stack, &bin).is_empty(), "{stack:#?}");
}

/// A binary linked by lld (this project's own debug build: its text segment shares a page
/// with the end of the read-only data, at another vaddr-offset delta): frames in it are at
/// the file offsets strace gives and named as strace names them, Rust names demangled
/// without their hash. (The load bias was one page off for such binaries.)
#[test]
fn an_lld_linked_rust_binary_is_unwound_and_demangled_like_strace() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bin = dir.path().join("rustbin");
    std::fs::copy(env!("CARGO_BIN_EXE_pgstrace"), &bin).unwrap_or_else(|e| panic!("{e}"));
    let run = |tracer: &str, out: &Path| {
        let st = Command::new(tracer)
            .args(["-k", "-e", "trace=write", "-o"])
            .arg(out)
            .arg(&bin)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("{tracer}: {e}"));
        assert!(st.success(), "{tracer}");
        std::fs::read_to_string(out).unwrap_or_default()
    };
    let s = run("strace", &dir.path().join("s"));
    let p = run(env!("CARGO_BIN_EXE_pgstrace"), &dir.path().join("p"));
    let frames = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with(" > ") && l.contains("/rustbin("))
            .map(|l| {
                l.rsplit_once('/')
                    .map(|(_, f)| f.to_string())
                    .unwrap_or_default()
            })
            .collect()
    };
    let (sf, pf) = (frames(&s), frames(&p));
    assert!(sf.len() >= 2, "strace: {s}");
    // strace's frames in the binary are ours, in order, name+offset [file offset] alike.
    assert_eq!(pf[..2], sf[..2], "strace:\n{s}\npgstrace:\n{p}");
    assert!(
        pf[0].contains("<std::io::stdio::StdoutRaw as std::io::Write>::write_all+"),
        "{p}"
    );
    assert!(!p.contains("17h"), "hashes left in names: {p}");
}
