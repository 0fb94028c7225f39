//! Tests on fixtures built with gcc from fixtures/symbols/prog.c (every stripping and
//! split-debug variant), and on the real libc (with libc6-dbg) and PostgreSQL 15 when present.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use super::*;

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/symbols/prog.c");

/// Built variants of prog.c, under target/symbols-fixtures/<pid>/.
struct Fixtures {
    dir: PathBuf,
    /// -O2 -g -rdynamic, not stripped: .symtab + DWARF.
    full: PathBuf,
    /// `full`, strip --strip-all: .dynsym (exported functions) + .eh_frame.
    rdyn_stripped: PathBuf,
    /// Without -rdynamic, stripped: no function symbol at all.
    plain_stripped: PathBuf,
    /// Stripped; its debug file is only under `bid_root/.build-id/NN/REST.debug`.
    bid_stripped: PathBuf,
    bid_root: PathBuf,
    /// Stripped + .gnu_debuglink; debug file in `link/.debug/prog.debug`.
    link_stripped: PathBuf,
    /// Stripped + .gnu_debuglink; debug file under `under_root/<dir of binary>/prog.debug`.
    under_stripped: PathBuf,
    under_root: PathBuf,
    /// Stripped + .gnu_debuglink; next to it a prog.debug whose CRC does not match.
    bad_stripped: PathBuf,
    /// A debug root with nothing in it.
    empty_root: PathBuf,
    /// A debug root whose `.build-id/NN/REST.debug` for `full` is another ELF file.
    wrong_root: PathBuf,
    /// Stripped of .symtab but with its DWARF kept: names of static functions from DWARF.
    dwarf_nosym: PathBuf,
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn build_fixtures() -> Result<Fixtures, String> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/symbols-fixtures");
    // Leftovers of earlier test processes (the pid is the directory name) go first.
    if let Ok(entries) = std::fs::read_dir(&base) {
        for e in entries.flatten() {
            let pid = e.file_name().to_string_lossy().into_owned();
            if !Path::new("/proc").join(&pid).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = base.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    let mk = |p: &Path| std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()));
    let cp = |a: &Path, b: &Path| {
        std::fs::copy(a, b)
            .map(|_| ())
            .map_err(|e| format!("cp {} {}: {e}", a.display(), b.display()))
    };
    mk(&dir)?;
    let gcc = |out: &Path, extra: &[&str]| {
        run(Command::new("gcc")
            .args(["-O2", "-fno-toplevel-reorder", "-Wl,--build-id=sha1"])
            .args(extra)
            .arg("-o")
            .arg(out)
            .arg(SRC))
    };
    let strip = |p: &Path| run(Command::new("strip").arg("--strip-all").arg(p));
    let keep_debug = |from: &Path, to: &Path| {
        run(Command::new("objcopy")
            .arg("--only-keep-debug")
            .arg(from)
            .arg(to))
    };
    // objcopy records the link's base name and the CRC of the file it reads; run it in the
    // directory of the debug file so the name is bare.
    let add_link = |bin: &Path, debug: &Path| {
        let cwd = debug.parent().unwrap_or(Path::new("."));
        let name = debug.file_name().unwrap_or_default();
        let mut arg = std::ffi::OsString::from("--add-gnu-debuglink=");
        arg.push(name);
        run(Command::new("objcopy").current_dir(cwd).arg(arg).arg(bin))
    };

    let full = dir.join("full");
    gcc(&full, &["-g", "-rdynamic"])?;
    let debug = dir.join("full.debug");
    keep_debug(&full, &debug)?;

    let rdyn_stripped = dir.join("rdyn_stripped");
    cp(&full, &rdyn_stripped)?;
    strip(&rdyn_stripped)?;

    let plain_stripped = dir.join("plain_stripped");
    gcc(&plain_stripped, &[])?;
    strip(&plain_stripped)?;

    let bid = dir.join("bid");
    mk(&bid)?;
    let bid_stripped = bid.join("prog");
    cp(&full, &bid_stripped)?;
    strip(&bid_stripped)?;
    let bid_root = dir.join("bid_root");
    let id = ObjectSymbols::load(&full, &LoadOptions::default())
        .map_err(|e| e.to_string())?
        .build_id_hex()
        .ok_or("fixture has no build-id")?;
    let (nn, rest) = id.split_at(2);
    mk(&bid_root.join(".build-id").join(nn))?;
    cp(
        &debug,
        &bid_root
            .join(".build-id")
            .join(nn)
            .join(format!("{rest}.debug")),
    )?;

    let link = dir.join("link");
    mk(&link.join(".debug"))?;
    let link_stripped = link.join("prog");
    cp(&full, &link_stripped)?;
    strip(&link_stripped)?;
    let link_debug = link.join("prog.debug");
    cp(&debug, &link_debug)?;
    add_link(&link_stripped, &link_debug)?;
    std::fs::rename(&link_debug, link.join(".debug/prog.debug")).map_err(|e| e.to_string())?;

    let under = dir.join("under");
    mk(&under)?;
    let under_stripped = under.join("prog");
    cp(&link_stripped, &under_stripped)?;
    let under_root = dir.join("under_root");
    let under_dir = under_root.join(under.strip_prefix("/").map_err(|e| e.to_string())?);
    mk(&under_dir)?;
    cp(
        &link.join(".debug/prog.debug"),
        &under_dir.join("prog.debug"),
    )?;

    let bad = dir.join("bad");
    mk(&bad)?;
    let bad_stripped = bad.join("prog");
    cp(&link_stripped, &bad_stripped)?;
    // Same ELF, one byte more: parses fine, CRC differs.
    let mut bytes = std::fs::read(&debug).map_err(|e| e.to_string())?;
    bytes.push(0);
    std::fs::write(bad.join("prog.debug"), bytes).map_err(|e| e.to_string())?;

    let empty_root = dir.join("empty_root");
    mk(&empty_root)?;

    let wrong_root = dir.join("wrong_root");
    mk(&wrong_root.join(".build-id").join(nn))?;
    cp(
        &plain_stripped,
        &wrong_root
            .join(".build-id")
            .join(nn)
            .join(format!("{rest}.debug")),
    )?;

    let dwarf_nosym = dir.join("dwarf_nosym");
    run(Command::new("strip")
        .args(["--strip-all", "--keep-section=.debug_*", "-o"])
        .arg(&dwarf_nosym)
        .arg(&full))?;

    Ok(Fixtures {
        dir,
        full,
        rdyn_stripped,
        plain_stripped,
        bid_stripped,
        bid_root,
        link_stripped,
        under_stripped,
        under_root,
        bad_stripped,
        empty_root,
        wrong_root,
        dwarf_nosym,
    })
}

/// The fixtures, built once per test process; `None` (with a note) without gcc/binutils.
fn fixtures() -> Option<&'static Fixtures> {
    static F: OnceLock<Result<Fixtures, String>> = OnceLock::new();
    match F.get_or_init(build_fixtures) {
        Ok(f) => Some(f),
        Err(e) => {
            eprintln!("note: skipping fixture test, cannot build fixtures: {e}");
            None
        }
    }
}

fn opts(root: &Path) -> LoadOptions {
    LoadOptions {
        debug_roots: vec![root.to_owned()],
        search_debug_files: true,
    }
}

fn load(path: &Path, root: &Path) -> ObjectSymbols {
    match ObjectSymbols::load(path, &opts(root)) {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    }
}

/// True bounds of a function of prog.c, from the unstripped build.
fn bounds(f: &Fixtures, name: &str) -> (u64, u64) {
    let full = load(&f.full, &f.empty_root);
    let (start, size) = full
        .symbol_by_name(name)
        .unwrap_or_else(|| panic!("{name} not in {}", f.full.display()));
    assert!(size > 0);
    (start, start + size)
}

/// Line number of the line of prog.c holding `marker`.
fn marker_line(marker: &str) -> u32 {
    let src = std::fs::read_to_string(SRC).unwrap_or_default();
    let i = src
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker} not in prog.c"));
    u32::try_from(i + 1).unwrap_or(0)
}

fn name_of(l: &Lookup<'_>) -> Option<String> {
    match l {
        Lookup::Symbol(s) => Some(s.name.clone().into_owned()),
        _ => None,
    }
}

#[test]
fn shared_objects_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ObjectSymbols>();
    check::<Arc<ObjectSymbols>>();
}

#[test]
fn full_binary_names_static_functions_with_lines() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.full, &f.empty_root);
    assert_eq!(o.debug_status(), &DebugStatus::NotNeeded);
    assert_eq!(o.symbol_source(), Some(SymbolSource::Symtab));
    assert!(o.has_dwarf());
    let (start, end) = bounds(f, "hidden_static");
    for a in [start, start + 3, end - 1] {
        match o.lookup(a, true) {
            Lookup::Symbol(s) => {
                assert_eq!(s.name, "hidden_static");
                assert_eq!((s.start, s.offset), (start, a - start));
                assert_eq!(s.source, SymbolSource::Symtab);
                let loc = s.location.expect("a line for hidden_static");
                assert!(loc.file.ends_with("prog.c"), "{loc:?}");
            }
            other => panic!("{a:#x}: {other:?}"),
        }
    }
    assert_eq!(o.lookup(start + 3, false).to_string(), "hidden_static+0x3");
    assert_eq!((o.fde_error(), o.dwarf_error()), (None, None));
    // An FDE covers it too, and agrees on the start.
    assert_eq!(o.function_bounds(start + 3).map(|b| b.0), Some(start));
}

#[test]
fn inlined_frames_come_innermost_first_with_lines() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.full, &f.empty_root);
    let (start, end) = bounds(f, "exported_after");
    let helper = marker_line("LINE:inlined_helper");
    let call = marker_line("LINE:call_site");
    let mut seen = false;
    for a in start..end {
        let Lookup::Symbol(s) = o.lookup(a, true) else {
            panic!("{a:#x} unnamed")
        };
        assert_eq!(s.name, "exported_after");
        if let Some(inl) = s.inlined.first() {
            assert_eq!(inl.name, "inlined_helper");
            let loc = inl.location.as_ref().expect("inlined frame has a line");
            assert!(loc.file.ends_with("prog.c"));
            assert!(
                loc.line == helper || loc.line == helper + 1,
                "{loc:?}, helper at {helper}"
            );
            let outer = s.location.as_ref().expect("call site line");
            assert_eq!(outer.line, call, "outer location is the call site");
            seen = true;
        }
    }
    assert!(seen, "no address of exported_after reports inlined_helper");
    // Without lines, no DWARF is consulted.
    let Lookup::Symbol(s) = o.lookup(start, false) else {
        panic!()
    };
    assert!(s.inlined.is_empty() && s.location.is_none());
}

#[test]
fn stripped_rdynamic_gives_unnamed_with_the_true_start_never_the_previous_export() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.rdyn_stripped, &f.empty_root);
    assert_eq!(o.symbol_source(), Some(SymbolSource::Dynsym));
    assert!(matches!(o.debug_status(), DebugStatus::NotFound { .. }));
    let (before, before_end) = bounds(f, "exported_before");
    let (start, end) = bounds(f, "hidden_static");
    // The trap strace falls into: exported_before is the nearest export below.
    assert!(before < start && before_end <= start);
    assert_eq!(o.symbol_by_name("hidden_static"), None);
    assert_eq!(
        name_of(&o.lookup(before + 1, false)).as_deref(),
        Some("exported_before")
    );
    for a in [start, start + 1, end - 1] {
        assert_eq!(
            o.lookup(a, true),
            Lookup::Unnamed {
                start,
                offset: a - start
            },
            "{a:#x}"
        );
    }
    assert_eq!(o.lookup(start + 0x10, false).to_string(), "+0x10");
    let (after, _) = bounds(f, "exported_after");
    assert_eq!(
        name_of(&o.lookup(after, false)).as_deref(),
        Some("exported_after")
    );
    assert_eq!(o.lookup(0, false), Lookup::Unknown);
    assert_eq!(o.lookup(0, false).to_string(), "");
}

#[test]
fn return_addresses_are_looked_up_inside_the_call() {
    let Some(f) = fixtures() else { return };
    // die_now's last instruction is `call exit`: its return address is its end.
    let (start, end) = bounds(f, "die_now");
    for path in [&f.full, &f.rdyn_stripped] {
        let o = load(path, &f.empty_root);
        assert_ne!(name_of(&o.lookup(end, false)).as_deref(), Some("die_now"));
        let l = o.lookup_return_address(end, true);
        let Lookup::Symbol(s) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(
            (s.name.as_ref(), s.start, s.offset),
            ("die_now", start, end - start)
        );
        assert_eq!(l.to_string(), format!("die_now+{:#x}", end - start));
    }
    let o = load(&f.plain_stripped, &f.empty_root);
    assert_eq!(o.lookup_return_address(0, false), Lookup::Unknown);
}

#[test]
fn stripped_without_rdynamic_has_only_fdes() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.plain_stripped, &f.empty_root);
    assert_eq!(o.symbol_source(), None);
    let (n_syms, n_fdes) = o.counts();
    assert!(n_syms == 0 && n_fdes > 3, "{o:?}");
    let a = (0..0x4000u64)
        .find(|&a| o.function_bounds(a).is_some())
        .expect("some FDE");
    assert_eq!(
        o.lookup(a + 1, true),
        Lookup::Unnamed {
            start: a,
            offset: 1
        }
    );
}

#[test]
fn build_id_debug_file_is_found_and_used() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.bid_stripped, &f.bid_root);
    let id = o.build_id_hex().expect("build-id");
    match o.debug_status() {
        DebugStatus::Found { path, via, refused } => {
            assert_eq!(*via, DebugVia::BuildId);
            assert!(path.ends_with(format!(".build-id/{}/{}.debug", &id[..2], &id[2..])));
            assert!(refused.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(o.symbol_source(), Some(SymbolSource::Symtab));
    let (start, _) = bounds(f, "hidden_static");
    let Lookup::Symbol(s) = o.lookup(start + 2, true) else {
        panic!()
    };
    assert_eq!((s.name.as_ref(), s.start), ("hidden_static", start));
    assert!(s.location.is_some(), "lines from the debug file's DWARF");
    assert!(o.debug_status().to_string().contains("by build-id"));
}

#[test]
fn debuglink_is_found_in_dot_debug_after_the_build_id_path() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.link_stripped, &f.empty_root);
    match o.debug_status() {
        DebugStatus::Found { path, via, refused } => {
            assert_eq!(*via, DebugVia::DebugLink);
            assert!(path.ends_with("link/.debug/prog.debug"), "{path:?}");
            // Tried first: ROOT/.build-id/.., then ROOT/<dir>/prog.debug.
            assert_eq!(refused.len(), 2, "{refused:?}");
            assert!(
                refused
                    .iter()
                    .all(|a: &Attempt| matches!(a.refusal, Refusal::Absent(_)))
            );
        }
        other => panic!("{other:?}"),
    }
    let (start, _) = bounds(f, "hidden_static");
    assert_eq!(
        name_of(&o.lookup(start + 2, false)).as_deref(),
        Some("hidden_static")
    );
}

#[test]
fn debuglink_is_found_under_the_debug_root() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.under_stripped, &f.under_root);
    match o.debug_status() {
        DebugStatus::Found { path, via, .. } => {
            assert_eq!(*via, DebugVia::DebugLink);
            assert!(path.starts_with(&f.under_root), "{path:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn debuglink_with_a_wrong_crc_is_refused() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.bad_stripped, &f.empty_root);
    let DebugStatus::NotFound { refused } = o.debug_status() else {
        panic!("{:?}", o.debug_status())
    };
    let last = refused.last().expect("attempts");
    assert!(last.path.ends_with("bad/prog.debug"));
    assert!(
        matches!(last.refusal, Refusal::CrcMismatch { expected, actual } if expected != actual),
        "{last:?}"
    );
    let note = o.debug_status().to_string();
    assert!(note.contains("CRC32"), "{note}");
    let (start, _) = bounds(f, "hidden_static");
    assert_eq!(
        o.lookup(start + 1, true),
        Lookup::Unnamed { start, offset: 1 }
    );
}

#[test]
fn build_id_path_with_another_build_id_is_refused() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.bid_stripped, &f.wrong_root);
    let DebugStatus::NotFound { refused } = o.debug_status() else {
        panic!("{:?}", o.debug_status())
    };
    assert_eq!(
        refused.first().map(|a| &a.refusal),
        Some(&Refusal::BuildIdMismatch)
    );
    assert_eq!(o.symbol_source(), Some(SymbolSource::Dynsym));
}

#[test]
fn dwarf_names_static_functions_when_there_is_no_symtab() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.dwarf_nosym, &f.empty_root);
    assert_eq!(o.symbol_source(), Some(SymbolSource::Dynsym));
    assert!(o.has_dwarf());
    let (start, end) = bounds(f, "hidden_static");
    let a = start + 5;
    // Without lines DWARF is not read: the FDE alone.
    assert_eq!(o.lookup(a, false), Lookup::Unnamed { start, offset: 5 });
    let Lookup::Symbol(s) = o.lookup(a, true) else {
        panic!()
    };
    assert_eq!(s.name, "hidden_static");
    assert_eq!(s.source, SymbolSource::Dwarf);
    assert_eq!((s.start, s.size, s.offset), (start, end - start, 5));
    assert!(s.location.is_some());
}

#[test]
fn search_can_be_turned_off() {
    let Some(f) = fixtures() else { return };
    let opts = LoadOptions {
        debug_roots: vec![f.bid_root.clone()],
        search_debug_files: false,
    };
    let o = ObjectSymbols::load(&f.bid_stripped, &opts).expect("load");
    assert_eq!(o.debug_status(), &DebugStatus::NotSearched);
    assert_eq!(o.symbol_source(), Some(SymbolSource::Dynsym));
}

#[test]
fn from_bytes_matches_load() {
    let Some(f) = fixtures() else { return };
    let bytes = std::fs::read(&f.full).expect("read");
    let o = ObjectSymbols::from_bytes("[vdso]", bytes, &opts(&f.empty_root)).expect("parse");
    assert_eq!(o.name(), "[vdso]");
    let (start, _) = bounds(f, "hidden_static");
    assert_eq!(
        name_of(&o.lookup(start, false)).as_deref(),
        Some("hidden_static")
    );
}

#[test]
fn file_offsets_map_to_svmas() {
    let Some(f) = fixtures() else { return };
    let o = load(&f.full, &f.empty_root);
    let bytes = std::fs::read(&f.full).expect("read");
    let elf = ElfFile64::<Endianness>::parse(&*bytes).expect("elf");
    use object::ObjectSection;
    let text = elf.section_by_name(".text").expect(".text");
    let (off, _) = text.file_range().expect("file range");
    assert_eq!(o.file_offset_to_svma(off + 5), Some(text.address() + 5));
    assert_eq!(o.file_offset_to_svma(u64::MAX), None);
}

#[test]
fn garbage_and_truncated_files_do_not_panic() {
    let Some(f) = fixtures() else { return };
    let bytes = std::fs::read(&f.full).expect("read");
    let o = LoadOptions::default();
    assert!(ObjectSymbols::from_bytes("x", b"not an elf".to_vec(), &o).is_err());
    assert!(ObjectSymbols::from_bytes("x", Vec::new(), &o).is_err());
    for cut in [16, 64, 200, 0x1000, bytes.len() / 2, bytes.len() - 1] {
        let part = bytes.get(..cut).unwrap_or_default().to_vec();
        if let Ok(s) = ObjectSymbols::from_bytes("x", part, &o) {
            for a in (0..0x3000).step_by(7) {
                let _ = s.lookup(a, true);
            }
        }
    }
    // A corrupted copy: flip bytes all over the file.
    let mut bad = bytes.clone();
    for i in (0x40..bad.len()).step_by(61) {
        if let Some(b) = bad.get_mut(i) {
            *b ^= 0x5a;
        }
    }
    if let Ok(s) = ObjectSymbols::from_bytes("x", bad, &o) {
        for a in (0..0x3000).step_by(3) {
            let _ = s.lookup(a, true);
        }
    }
}

#[test]
fn cache_shares_one_parse_per_build_id() {
    let Some(f) = fixtures() else { return };
    let mut cache = SymbolCache::new(opts(&f.empty_root));
    let a = cache.get(&f.rdyn_stripped).expect("load");
    let b = cache.get(&f.rdyn_stripped).expect("load");
    assert!(Arc::ptr_eq(&a, &b));
    // Another file with the same build-id (a copy, elsewhere) is the same object.
    let copy = f.dir.join("rdyn_copy");
    std::fs::copy(&f.rdyn_stripped, &copy).expect("copy");
    let c = cache.get(&copy).expect("load");
    assert!(Arc::ptr_eq(&a, &c));
    let d = cache.get(&f.plain_stripped).expect("load");
    assert!(!Arc::ptr_eq(&a, &d));
    assert_eq!(cache.objects(), 2);
    let bytes = std::fs::read(&f.rdyn_stripped).expect("read");
    let e = cache.get_bytes("[vdso]", bytes).expect("bytes");
    assert!(Arc::ptr_eq(&a, &e));
    assert!(cache.get(&f.dir.join("absent")).is_err());
}

// ---- the real system files ----

const LIBC: &str = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const POSTGRES: &str = "/usr/lib/postgresql/15/bin/postgres";

fn system(path: &str) -> Option<ObjectSymbols> {
    if !Path::new(path).exists() {
        eprintln!("note: {path} absent, skipping");
        return None;
    }
    Some(ObjectSymbols::load(Path::new(path), &LoadOptions::default()).expect(path))
}

#[test]
fn libc_static_functions_through_libc6_dbg() {
    let Some(o) = system(LIBC) else { return };
    let DebugStatus::Found { via, .. } = o.debug_status() else {
        eprintln!("note: no libc debug file ({}), skipping", o.debug_status());
        return;
    };
    assert_eq!(*via, DebugVia::BuildId);
    assert_eq!(o.symbol_source(), Some(SymbolSource::Symtab));
    // Static (hidden, local) in exit.c; strace calls it `erand48_r+0x1dd`.
    let (start, size) = o
        .symbol_by_name("__run_exit_handlers")
        .expect("__run_exit_handlers in libc's .symtab");
    let a = start + size / 2;
    let Lookup::Symbol(s) = o.lookup(a, true) else {
        panic!()
    };
    assert_eq!(s.name, "__run_exit_handlers");
    assert_eq!(s.offset, a - start);
    let loc = s.location.expect("libc6-dbg has lines");
    assert!(loc.file.ends_with("exit.c"), "{loc:?}");
    // strace: `exit+0x1a`, the return address past noreturn exit's last call.
    let (exit, exit_size) = o.symbol_by_name("exit").expect("exit");
    assert_eq!(
        o.lookup_return_address(exit + exit_size, false).to_string(),
        format!("exit+{exit_size:#x}")
    );
    // .symver names read without their version, as in .dynsym: _IO_file_write, not
    // _IO_file_write@@GLIBC_2.2.5.
    let (w, _) = o.symbol_by_name("_IO_file_write").expect("_IO_file_write");
    assert_eq!(
        name_of(&o.lookup(w + 1, false)).as_deref(),
        Some("_IO_file_write")
    );
    // Aliases: `write` and `__write` (weak), `__libc_write`, `__GI_write`.. (local) share an
    // address; the rule picks a weak one over the locals, then the shortest. Every alias
    // is still found by name.
    let (w, _) = o.symbol_by_name("__write").expect("__write");
    assert_eq!(o.symbol_by_name("__libc_write").map(|s| s.0), Some(w));
    assert_eq!(
        name_of(&o.lookup(w + 0x10, false)).as_deref(),
        Some("write"),
        "weak over local, then shortest"
    );
}

#[test]
fn postgres_static_dsm_impl_is_unnamed_not_reset_on_dsm_detach() {
    let Some(o) = system(POSTGRES) else { return };
    assert_eq!(o.symbol_source(), Some(SymbolSource::Dynsym));
    assert_eq!(o.fde_error(), None);
    eprintln!("postgres: {}", o.debug_status());
    let (create, _) = o.symbol_by_name("dsm_create").expect("dsm_create");
    assert_eq!(
        name_of(&o.lookup(create + 0x10, false)).as_deref(),
        Some("dsm_create")
    );
    let (reset, reset_size) = o
        .symbol_by_name("reset_on_dsm_detach")
        .expect("reset_on_dsm_detach");
    let (op, _) = o.symbol_by_name("dsm_impl_op").expect("dsm_impl_op");
    // The static function just before dsm_impl_op (dsm_impl_posix with what gcc inlined
    // into it): its FDE ends at or before dsm_impl_op.
    let (start, end) = o
        .function_bounds(op - 4)
        .expect("an FDE before dsm_impl_op");
    assert!(
        reset + reset_size <= start && end <= op,
        "{start:#x}..{end:#x}"
    );
    // The very address strace printed as reset_on_dsm_detach+0x255.
    let a = reset + 0x255;
    assert!(start <= a && a < end);
    let l = o.lookup(a, true);
    assert_eq!(
        l,
        Lookup::Unnamed {
            start,
            offset: a - start
        }
    );
    assert_eq!(l.to_string(), format!("+{:#x}", a - start));
    if let Some(expected) = readelf_fde_start(POSTGRES, a) {
        assert_eq!(expected, start, "readelf agrees on the FDE");
    }
}

/// Start of the FDE covering `a`, according to `readelf --debug-dump=frames`.
fn readelf_fde_start(path: &str, a: u64) -> Option<u64> {
    let out = Command::new("readelf")
        .args(["--debug-dump=frames", path])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| {
        let pc = l.split("pc=").nth(1)?;
        let (lo, hi) = pc.split_once("..")?;
        let lo = u64::from_str_radix(lo.trim(), 16).ok()?;
        let hi = u64::from_str_radix(hi.trim(), 16).ok()?;
        (lo <= a && a < hi).then_some(lo)
    })
}

/// Load cost of the big ones; run with
/// `cargo test --release --bin pgstrace symbols::tests::load_timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn load_timing() {
    for path in [POSTGRES, LIBC] {
        if !Path::new(path).exists() {
            continue;
        }
        let t = std::time::Instant::now();
        let o = ObjectSymbols::load(Path::new(path), &LoadOptions::default()).expect(path);
        let load = t.elapsed();
        let t = std::time::Instant::now();
        let mut named = 0;
        for a in (0..0x60_0000u64).step_by(0x100) {
            if matches!(o.lookup(a, false), Lookup::Symbol(_)) {
                named += 1;
            }
        }
        let lookups = t.elapsed();
        let (syms, fdes) = o.counts();
        let t = std::time::Instant::now();
        let _ = o.lookup(0x3e55d, true);
        let dwarf = t.elapsed();
        eprintln!(
            "{path}: load {load:?} ({syms} symbols, {fdes} FDEs, {}), 24576 lookups {lookups:?} ({named} named), first DWARF lookup {dwarf:?}",
            o.debug_status()
        );
    }
}

#[test]
fn vdso_image_from_memory() {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let Some(range) = maps
        .lines()
        .find(|l| l.ends_with("[vdso]"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|r| r.split_once('-'))
    else {
        eprintln!("note: no [vdso] mapping, skipping");
        return;
    };
    let lo = u64::from_str_radix(range.0, 16).expect("maps");
    let hi = u64::from_str_radix(range.1, 16).expect("maps");
    let mut mem = std::fs::File::open("/proc/self/mem").expect("/proc/self/mem");
    mem.seek(SeekFrom::Start(lo)).expect("seek");
    let mut image = vec![0; usize::try_from(hi - lo).expect("size")];
    mem.read_exact(&mut image).expect("read vdso");
    let o = ObjectSymbols::from_bytes("[vdso]", image, &LoadOptions::default()).expect("vdso");
    assert_eq!(o.symbol_source(), Some(SymbolSource::Dynsym));
    let (start, size) = o
        .symbol_by_name("__vdso_clock_gettime")
        .expect("__vdso_clock_gettime");
    let Lookup::Symbol(s) = o.lookup(start + size / 2, false) else {
        panic!()
    };
    // `clock_gettime` (weak) and `__vdso_clock_gettime` (global) are aliases.
    assert_eq!(s.name, "__vdso_clock_gettime");
    assert!(o.function_bounds(start).is_some(), "the vDSO has .eh_frame");
}
