//! `-k`: stacks for syscalls and signals, from the stopped tracee to symbolized frames.
//!
//! Two phases, so that a backend is held only as long as it takes to copy its registers and
//! the live part of its stack: the event source takes that snapshot while the tracee is
//! stopped (`trace::source`); [`Backtracer::resolve`] runs after it was resumed and does everything else (module maps,
//! unwinding with framehop, symbolization). Reading /proc/PID/maps after the resume is safe:
//! a traced thread can only change its mappings through a syscall, whose entry stop waits
//! for us.

use crate::event::StackFrame;
use crate::remote::maps::ModuleSource;
use crate::remote::regs::Snapshot;
use crate::symbols::{LoadOptions, Lookup, ObjectSymbols, SymbolCache};
use crate::unwind::{self, How, ImageCache, Module, ProcessModules, UnwindCache};
use std::collections::HashMap;
use std::sync::Arc;

pub struct Backtracer {
    images: Arc<ImageCache>,
    unwinder: UnwindCache,
    symbols: SymbolCache,
    /// Symbols per module, by build-id (or path): fifty backends share one table.
    objects: HashMap<Vec<u8>, Option<Arc<ObjectSymbols>>>,
    procs: HashMap<i32, ProcessModules>,
    with_lines: bool,
    clock: unwind::clock::ClockNote,
}

impl Backtracer {
    /// `with_lines` (`-kk`): file:line and inlined frames where DWARF exists.
    pub fn new(with_lines: bool) -> Self {
        Backtracer {
            images: ImageCache::new(),
            unwinder: UnwindCache::new(),
            symbols: SymbolCache::new(LoadOptions::default()),
            objects: HashMap::new(),
            procs: HashMap::new(),
            with_lines,
            clock: Default::default(),
        }
    }

    /// After the resume: unwind and symbolize. `syscall` names the call, for the one-time
    /// note about vDSO time calls that reach the kernel.
    pub fn resolve(&mut self, snap: &Snapshot, syscall: Option<&str>) -> Vec<StackFrame> {
        let pid = snap.pid;
        let Backtracer {
            images,
            unwinder,
            symbols,
            objects,
            procs,
            with_lines,
            clock,
        } = self;
        let with_lines = *with_lines;
        let proc = procs
            .entry(pid)
            .or_insert_with(|| ProcessModules::new(pid, images.clone()));
        let Ok(modules) = proc.get() else {
            return Vec::new();
        };
        let frames = unwinder.unwind(snap, modules, unwind::DEFAULT_MAX_FRAMES);
        if let Some(name) = syscall
            && let Some(note) = clock.observe(name, &frames, modules)
        {
            crate::errln!("pgstrace: {note}");
        }
        let mut out = Vec::with_capacity(frames.len());
        for f in &frames {
            let how = match f.how {
                How::FirstFrame => "first",
                How::Cfi => "cfi",
                How::FramePointer => "frame-pointer",
                How::FramePointerNoFde => "frame-pointer-no-fde",
                How::LeafReturn => "leaf",
                How::SignalFrame => "signal-frame",
            };
            // What every line of this frame shares; symbol, offset and source fill in below.
            let base = StackFrame {
                object: None,
                symbol: None,
                offset: None,
                address: f.avma,
                file_offset: None,
                file: None,
                line: None,
                inlined: false,
                how,
            };
            let Some(m) = f.module.and_then(|i| modules.list.get(i)) else {
                out.push(base);
                continue;
            };
            let base = StackFrame {
                object: Some(m.name.clone()),
                file_offset: m.file_offset(f.avma),
                ..base
            };
            let Some(syms) = symbols_for(symbols, objects, pid, m) else {
                out.push(base);
                continue;
            };
            let svma = m.svma(f.avma);
            let lookup = if f.is_return_address() {
                syms.lookup_return_address(svma, with_lines)
            } else {
                syms.lookup(svma, with_lines)
            };
            match lookup {
                Lookup::Symbol(hit) => {
                    for inl in &hit.inlined {
                        out.push(StackFrame {
                            symbol: Some(
                                crate::symbols::demangle::demangle(&inl.name).into_owned(),
                            ),
                            file: inl.location.as_ref().map(|l| l.file.clone()),
                            line: inl.location.as_ref().map(|l| l.line),
                            inlined: true,
                            ..base.clone()
                        });
                    }
                    out.push(StackFrame {
                        symbol: Some(crate::symbols::demangle::demangle(&hit.name).into_owned()),
                        offset: Some(hit.offset),
                        file: hit.location.as_ref().map(|l| l.file.clone()),
                        line: hit.location.as_ref().map(|l| l.line),
                        ..base
                    });
                }
                Lookup::Unnamed { offset, .. } => out.push(StackFrame {
                    offset: Some(offset),
                    ..base
                }),
                Lookup::Unknown => out.push(base),
            }
        }
        out
    }
}

/// The symbol table of `m`, loaded once per build-id (or path).
fn symbols_for(
    symbols: &mut SymbolCache,
    objects: &mut HashMap<Vec<u8>, Option<Arc<ObjectSymbols>>>,
    pid: i32,
    m: &Module,
) -> Option<Arc<ObjectSymbols>> {
    let key = match m.build_id() {
        Some(id) => id.to_vec(),
        None => m.name.as_bytes().to_vec(),
    };
    if let Some(s) = objects.get(&key) {
        return s.clone();
    }
    let loaded = match &m.source {
        ModuleSource::Vdso => m
            .vdso_image()
            .and_then(|img| symbols.get_bytes("[vdso]", img.to_vec()).ok()),
        ModuleSource::File {
            path,
            deleted,
            key: fk,
        } => {
            // The path as mapped finds debug files next to it and under
            // /usr/lib/debug/<dir>; only when it is not the mapped file (deleted,
            // replaced, another mount namespace) go through /proc/PID/map_files.
            use std::os::unix::fs::MetadataExt;
            let same = !deleted
                && std::fs::metadata(path).is_ok_and(|md| {
                    md.ino() == fk.inode && (libc::major(md.dev()), libc::minor(md.dev())) == fk.dev
                });
            let p = if same {
                Some(std::path::PathBuf::from(path))
            } else {
                m.open_path(pid)
            };
            p.and_then(|p| symbols.get(&p).ok())
        }
    };
    objects.insert(key, loaded.clone());
    loaded
}

impl Backtracer {
    /// After mmap, munmap, mprotect, mremap or brk returned.
    pub fn invalidate(&mut self, pid: i32) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.invalidate();
        }
    }

    /// A child forked (or a thread cloned) by `parent`: it starts with the parent's modules
    /// (read now from the parent's maps if they were not yet) instead of reading its own,
    /// which a short-lived child may not have by the time a kernel-side source's records of
    /// it are read.
    pub fn fork(&mut self, parent: i32, child: i32) {
        let images = self.images.clone();
        let p = self
            .procs
            .entry(parent)
            .or_insert_with(|| ProcessModules::new(parent, images));
        if p.get().is_ok() {
            let c = p.fork_child(child);
            self.procs.insert(child, c);
        } else {
            self.procs.remove(&parent);
        }
    }

    /// Reads `pid`'s modules and loads their symbols now, so that the first stacks of its
    /// children resolve at once (a kernel-side source does not hold the tracee meanwhile).
    pub fn prefetch(&mut self, pid: i32) {
        let Backtracer {
            images,
            symbols,
            objects,
            procs,
            ..
        } = self;
        let proc = procs
            .entry(pid)
            .or_insert_with(|| ProcessModules::new(pid, images.clone()));
        let Ok(modules) = proc.get() else {
            return;
        };
        for m in &modules.list {
            let _ = symbols_for(symbols, objects, pid, m);
        }
    }

    /// After a successful execve.
    pub fn exec(&mut self, pid: i32) {
        if let Some(p) = self.procs.get_mut(&pid) {
            p.exec();
        }
    }

    /// The process is gone.
    pub fn forget(&mut self, pid: i32) {
        self.procs.remove(&pid);
    }
}
