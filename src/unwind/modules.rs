//! The modules of one process as the unwinder sees them: each mapped ELF object with its
//! placement (load bias), its shared unwind image, and framehop's unwinder over all of them.
//! Built from a maps list through a [`ModuleEnv`] (the only I/O), refreshed lazily after
//! [`ProcessModules::invalidate`].

use super::image::{Bytes, ImageCache, ImageKey, UnwindImage};
use crate::remote::maps::{self, Mapping, ModuleMaps, ModuleSource};
use framehop::Unwinder;
use framehop::x86_64::UnwinderX86_64;
use std::io;
use std::sync::Arc;

/// One mapped object of a process.
#[derive(Clone)]
pub struct Module {
    /// The path as the tracee's maps print it, or "[vdso]".
    pub name: String,
    pub source: ModuleSource,
    /// Its mappings, sorted by address.
    pub mappings: Vec<Mapping>,
    /// Lowest start and highest end of its mappings (AVMA).
    pub start: u64,
    pub end: u64,
    /// `avma = svma + bias`; 0 when unknown (then `problem` says why).
    pub bias: u64,
    pub image: Option<Arc<UnwindImage>>,
    /// Why the module has no unwind information (frames in it fall back to frame pointers).
    pub problem: Option<String>,
    placed: Option<framehop::Module<Bytes>>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name)
            .field("start", &format_args!("{:#x}", self.start))
            .field("end", &format_args!("{:#x}", self.end))
            .field("bias", &format_args!("{:#x}", self.bias))
            .field("has_cfi", &self.placed.is_some())
            .field("problem", &self.problem)
            .finish()
    }
}

impl Module {
    pub fn contains(&self, avma: u64) -> bool {
        self.start <= avma && avma < self.end
    }

    /// Whether the module has unwind tables (CFI) that framehop could place.
    pub fn has_cfi(&self) -> bool {
        self.placed.is_some()
    }

    /// The file address (SVMA) of a runtime address (AVMA) in this module.
    pub fn svma(&self, avma: u64) -> u64 {
        avma.wrapping_sub(self.bias)
    }

    /// The file offset of a runtime address, as strace prints in `[0x...]`.
    pub fn file_offset(&self, avma: u64) -> Option<u64> {
        let image = self.image.as_ref()?;
        maps::svma_to_file_offset(&image.loads, self.svma(avma))
    }

    /// A path by which `pid` (a process mapping this module) reaches the very file that is
    /// mapped (see [`maps::open_module_file`]): for symbolization of deleted files or files
    /// in another mount namespace. `None` for the vDSO (use [`Module::vdso_image`]).
    pub fn open_path(&self, pid: i32) -> Option<std::path::PathBuf> {
        let mm = ModuleMaps {
            source: self.source.clone(),
            mappings: self.mappings.clone(),
        };
        maps::open_module_file(pid, &mm).ok().map(|o| o.via)
    }

    /// The vDSO's ELF image as read from the tracee, for symbolization.
    pub fn vdso_image(&self) -> Option<&[u8]> {
        self.image.as_ref()?.memory_image.as_deref()
    }

    pub fn build_id(&self) -> Option<&[u8]> {
        self.image.as_ref()?.build_id.as_deref()
    }

    /// Whether an FDE covers `avma`, and if so whether it is a signal trampoline.
    pub(crate) fn fde_at(&self, avma: u64) -> Option<&super::cfi::Fde> {
        self.image.as_ref()?.fdes.find(self.svma(avma))
    }
}

/// What building modules needs from the outside world: the bytes of a module's file and the
/// tracee's memory. [`ProcEnv`] is the live one; tests use recorded ones.
pub trait ModuleEnv {
    /// The whole file behind `module`, opened so that it is the mapped file.
    fn file_bytes(&self, module: &ModuleMaps) -> io::Result<Vec<u8>>;
    /// Copies tracee memory at `addr`; returns how much was readable.
    fn read_mem(&self, addr: u64, buf: &mut [u8]) -> usize;
}

/// A live process: files through /proc/PID/map_files or /proc/PID/root, memory through
/// process_vm_readv.
pub struct ProcEnv {
    pub pid: i32,
}

impl ModuleEnv for ProcEnv {
    fn file_bytes(&self, module: &ModuleMaps) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let mut opened = maps::open_module_file(self.pid, module)?;
        let mut data = Vec::new();
        opened.file.read_to_end(&mut data)?;
        Ok(data)
    }

    fn read_mem(&self, addr: u64, buf: &mut [u8]) -> usize {
        crate::remote::read_mem(self.pid, addr, buf)
    }
}

/// The modules of one process at one time, sorted by address, and the framehop unwinder
/// that knows them.
#[derive(Clone)]
pub struct Modules {
    pub list: Vec<Module>,
    /// The mappings they were built from (for the stack mapping's end, etc.).
    pub maps: Vec<Mapping>,
    pub(crate) unwinder: UnwinderX86_64<Bytes>,
}

impl std::fmt::Debug for Modules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Modules")
            .field("list", &self.list)
            .finish_non_exhaustive()
    }
}

impl Modules {
    /// Builds the modules of a maps list. Modules equal in name and placement to one in
    /// `previous` are reused as they are (no file or memory is read for them).
    pub fn build(
        maps: Vec<Mapping>,
        env: &dyn ModuleEnv,
        cache: &ImageCache,
        previous: Option<&Modules>,
    ) -> Modules {
        let mut list = Vec::new();
        for mm in maps::modules(&maps) {
            let (start, end) = (mm.start(), mm.end());
            let reused = previous.and_then(|p| {
                p.list
                    .iter()
                    .find(|m| m.start == start && m.end == end && m.source == mm.source)
            });
            match reused {
                Some(m) => list.push(m.clone()),
                None => list.push(build_module(&mm, env, cache)),
            }
        }
        let mut unwinder = UnwinderX86_64::new();
        for m in &list {
            if let Some(p) = &m.placed {
                unwinder.add_module(p.clone());
            }
        }
        Modules {
            list,
            maps,
            unwinder,
        }
    }

    /// Reads /proc/PID/maps and builds.
    pub fn load(pid: i32, cache: &ImageCache, previous: Option<&Modules>) -> io::Result<Modules> {
        let maps = maps::read(pid)?;
        Ok(Modules::build(maps, &ProcEnv { pid }, cache, previous))
    }

    /// The module containing `avma`, with its index in `list`.
    pub fn find(&self, avma: u64) -> Option<(usize, &Module)> {
        let i = self.list.partition_point(|m| m.start <= avma);
        let i = i.checked_sub(1)?;
        self.list
            .get(i)
            .filter(|m| m.contains(avma))
            .map(|m| (i, m))
    }

    /// The end of the mapping containing `addr` (for bounding a stack copy).
    // For Backtracer::capture: the `stack_end` of regs::capture_bounded.
    #[allow(dead_code)]
    pub fn mapping_end(&self, addr: u64) -> Option<u64> {
        maps::find(&self.maps, addr).map(|m| m.end)
    }
}

fn build_module(mm: &ModuleMaps, env: &dyn ModuleEnv, cache: &ImageCache) -> Module {
    let mut module = Module {
        name: mm.name().to_string(),
        source: mm.source.clone(),
        mappings: mm.mappings.clone(),
        start: mm.start(),
        end: mm.end(),
        bias: 0,
        image: None,
        problem: None,
        placed: None,
    };
    let loaded = match &mm.source {
        ModuleSource::File { key, .. } => file_image(mm, ImageKey::File(*key), env, cache),
        ModuleSource::Vdso => vdso_image(mm, env, cache),
    };
    let (key, image) = match loaded {
        Ok(v) => v,
        Err(why) => {
            module.problem = Some(why);
            return module;
        }
    };
    let Some(bias) = maps::load_bias(&mm.mappings, &image.loads) else {
        module.problem = Some("its PT_LOAD segments do not match the mappings".into());
        return module;
    };
    module.bias = bias;
    if image.has_cfi() {
        module.placed =
            Some(cache.placed_module(&key, &image, &module.name, module.start..module.end, bias));
    } else {
        module.problem = Some("no .eh_frame".into());
    }
    module.image = Some(image);
    module
}

fn file_image(
    mm: &ModuleMaps,
    key: ImageKey,
    env: &dyn ModuleEnv,
    cache: &ImageCache,
) -> Result<(ImageKey, Arc<UnwindImage>), String> {
    if let Some(image) = cache.get(&key) {
        return Ok((key, image));
    }
    let data = env
        .file_bytes(mm)
        .map_err(|e| format!("cannot open: {e}"))?;
    let image = UnwindImage::parse(&data)?;
    // The file must be what is mapped: compare with the build-id in the tracee's memory.
    let read = |addr: u64, buf: &mut [u8]| env.read_mem(addr, buf);
    if let (Some(mapped), Some(file)) = (maps::build_id_from_memory(&read, mm), &image.build_id)
        && &mapped != file
    {
        return Err(format!(
            "the file's build-id {} differs from the mapped one {}",
            hex(file),
            hex(&mapped)
        ));
    }
    let image = Arc::new(image);
    cache.insert(key.clone(), image.clone());
    Ok((key, image))
}

fn vdso_image(
    mm: &ModuleMaps,
    env: &dyn ModuleEnv,
    cache: &ImageCache,
) -> Result<(ImageKey, Arc<UnwindImage>), String> {
    let (start, end) = (mm.start(), mm.end());
    let len = usize::try_from(end.saturating_sub(start)).unwrap_or(0);
    if len == 0 || len > 1 << 20 {
        return Err("odd [vdso] mapping size".into());
    }
    let mut buf = vec![0u8; len];
    if env.read_mem(start, &mut buf) != len {
        return Err("cannot read the [vdso] image".into());
    }
    let mut image = UnwindImage::parse(&buf)?;
    image.memory_image = Some(Arc::from(buf));
    let key = ImageKey::Vdso(image.build_id.clone().unwrap_or_default());
    if let Some(cached) = cache.get(&key) {
        return Ok((key, cached));
    }
    let image = Arc::new(image);
    cache.insert(key.clone(), image.clone());
    Ok((key, image))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The modules of one traced process, kept across stops. The session calls
/// [`invalidate`](Self::invalidate) when a call that changes mappings returns (mmap, munmap,
/// mprotect, mremap, brk, execve); the next [`get`](Self::get) re-reads maps, reusing every
/// module whose placement did not change.
pub struct ProcessModules {
    pub pid: i32,
    cache: Arc<ImageCache>,
    current: Option<Modules>,
    stale: bool,
}

impl ProcessModules {
    pub fn new(pid: i32, cache: Arc<ImageCache>) -> Self {
        ProcessModules {
            pid,
            cache,
            current: None,
            stale: true,
        }
    }

    /// A forked child: same mappings as the parent at the fork, so start from its modules.
    pub fn fork_child(&self, child: i32) -> Self {
        ProcessModules {
            pid: child,
            cache: self.cache.clone(),
            current: self.current.clone(),
            stale: self.current.is_none(),
        }
    }

    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    /// After execve nothing of the old image survives.
    pub fn exec(&mut self) {
        self.current = None;
        self.stale = true;
    }

    /// The current modules, re-read if invalidated. Best called while the tracee is still
    /// stopped (the maps then match the captured stack).
    pub fn get(&mut self) -> io::Result<&Modules> {
        if self.stale || self.current.is_none() {
            let fresh = Modules::load(self.pid, &self.cache, self.current.as_ref())?;
            self.current = Some(fresh);
            self.stale = false;
        }
        self.current
            .as_ref()
            .ok_or_else(|| io::Error::other("no modules"))
    }
}
