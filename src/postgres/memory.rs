//! Reading a backend's globals from its memory through `.dynsym` and the load bias, with no
//! debug information: `debug_query_string`, `MyBackendType`, `ParallelWorkerNumber`,
//! `CritSectionCount`, `InterruptHoldoffCount`, and the GUC globals that matter for DSM
//! (`work_mem`, `hash_mem_multiplier`, `max_parallel_workers_per_gather`,
//! `dynamic_shared_memory_type`, `min_dynamic_shared_memory`).
//!
//! The postgres executable's symbols are parsed once per build-id for the whole process (all
//! backends of a cluster share one parse); reads go through `process_vm_readv`, which needs
//! no ptrace stop (a running backend gives values that may be torn: fine for reports).

use crate::remote::maps::{self, FileKey, LoadSegment, ModuleMaps, ModuleSource};
use crate::remote::read_mem;
use crate::syscalls::Tracee as _;
use anyhow::{Context, anyhow, bail};
use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSymbol, SymbolKind};
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex, OnceLock};

/// What a backend's memory says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackendGlobals {
    pub query: Option<String>,
    /// 3 backend, 4 background worker (PostgreSQL 15's BackendType).
    pub backend_type: Option<i32>,
    /// -1 in a leader, 0.. in a parallel worker.
    pub parallel_worker_number: Option<i32>,
    pub crit_section_count: Option<u32>,
    pub interrupt_holdoff_count: Option<u32>,
    /// In kB, as the GUC variable holds it.
    pub work_mem_kb: Option<i32>,
    pub hash_mem_multiplier: Option<f64>,
    pub max_parallel_workers_per_gather: Option<i32>,
    pub dynamic_shared_memory_type: Option<i32>,
    /// In MB.
    pub min_dynamic_shared_memory_mb: Option<i32>,
    /// The pid as the backend knows it (its PID namespace's).
    pub my_proc_pid: Option<i32>,
    /// In kB.
    pub maintenance_work_mem_kb: Option<i32>,
    pub max_parallel_workers: Option<i32>,
    pub max_worker_processes: Option<i32>,
    pub parallel_leader_participation: Option<bool>,
    pub enable_parallel_hash: Option<bool>,
    /// shared_buffers in 8 kB blocks (`NBuffers`).
    pub nbuffers: Option<i32>,
}

/// The longest query text read (the rest is cut).
pub const QUERY_MAX: usize = 4096;

/// The `.dynsym` data symbols we read, as (name, size) from the executable.
const WANTED: &[&str] = &[
    "debug_query_string",
    "MyBackendType",
    "ParallelWorkerNumber",
    "CritSectionCount",
    "InterruptHoldoffCount",
    "work_mem",
    "hash_mem_multiplier",
    "max_parallel_workers_per_gather",
    "dynamic_shared_memory_type",
    "min_dynamic_shared_memory",
    "MyProcPid",
    "maintenance_work_mem",
    "max_parallel_workers",
    "max_worker_processes",
    "parallel_leader_participation",
    "enable_parallel_hash",
    "NBuffers",
];

/// What one postgres executable says about its globals: SVMA and size of each wanted data
/// symbol, and the PT_LOADs for the load bias.
#[derive(Debug, Default)]
pub struct ExeGlobals {
    pub symbols: HashMap<&'static str, (u64, u64)>,
    pub loads: Vec<LoadSegment>,
}

impl ExeGlobals {
    /// Parses an ELF file's bytes: its `.dynsym` OBJECT symbols among [`WANTED`].
    pub fn parse(data: &[u8]) -> Result<ExeGlobals, String> {
        let elf =
            ElfFile64::<Endianness>::parse(data).map_err(|e| format!("not a 64-bit ELF: {e}"))?;
        let loads = maps::load_segments(&elf);
        let mut symbols = HashMap::new();
        for sym in elf.dynamic_symbols() {
            if sym.kind() != SymbolKind::Data || sym.address() == 0 {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            if let Some(&wanted) = WANTED.iter().find(|w| **w == name) {
                symbols.insert(wanted, (sym.address(), sym.size()));
            }
        }
        Ok(ExeGlobals { symbols, loads })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CacheKey {
    BuildId(Vec<u8>),
    File(FileKey),
}

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<ExeGlobals>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<ExeGlobals>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Where the globals live in one backend: the addresses (runtime, AVMA) of the `.dynsym`
/// symbols in its postgres executable.
#[derive(Clone, Debug)]
pub struct GlobalsReader {
    pub pid: i32,
    /// `avma = svma + bias`.
    pub bias: u64,
    globals: Arc<ExeGlobals>,
}

/// A one-line error for a /proc read of `pid` that failed.
pub(crate) fn proc_error(pid: i32, what: &str, e: &std::io::Error) -> anyhow::Error {
    match e.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ESRCH) => anyhow!("no such process: pid {pid}"),
        Some(libc::EACCES) | Some(libc::EPERM) => anyhow!(
            "pid {pid}: cannot read /proc/{pid}/{what}: permission denied (run as root, or give \
             pgstrace CAP_SYS_PTRACE, to read another user's processes)"
        ),
        _ => anyhow!("pid {pid}: reading /proc/{pid}/{what}: {e}"),
    }
}

/// The module of `pid`'s executable among `mods`: the one whose file is /proc/PID/exe (by
/// inode), else one named `postgres`.
fn exe_module(pid: i32, mods: &[ModuleMaps]) -> Option<&ModuleMaps> {
    let inode = std::fs::metadata(format!("/proc/{pid}/exe"))
        .ok()
        .map(|m| m.ino());
    let is_file = |m: &&ModuleMaps, pred: &dyn Fn(&str, &FileKey) -> bool| match &m.source {
        ModuleSource::File { path, key, .. } => pred(path, key),
        ModuleSource::Vdso => false,
    };
    inode
        .and_then(|ino| mods.iter().find(|m| is_file(m, &|_, key| key.inode == ino)))
        .or_else(|| {
            mods.iter().find(|m| {
                is_file(m, &|path, _| {
                    matches!(path.rsplit('/').next(), Some("postgres" | "postmaster"))
                })
            })
        })
}

impl GlobalsReader {
    /// For process `pid`: finds its postgres executable in /proc/PID/maps, its `.dynsym`
    /// symbols (cached by build-id) and its load bias. Errors say why (not a postgres
    /// process, symbols missing).
    pub fn for_process(pid: i32) -> anyhow::Result<GlobalsReader> {
        let maps = maps::read(pid).map_err(|e| proc_error(pid, "maps", &e))?;
        let comm = crate::remote::procfs::comm(pid);
        let mods = maps::modules(&maps);
        let module = exe_module(pid, &mods).ok_or_else(|| {
            anyhow!(
                "pid {pid} ({comm}) is not a PostgreSQL process (no postgres executable mapped)"
            )
        })?;
        let read = |addr: u64, buf: &mut [u8]| read_mem(pid, addr, buf);
        let key = match maps::build_id_from_memory(&read, module) {
            Some(id) => CacheKey::BuildId(id),
            None => match &module.source {
                ModuleSource::File { key, .. } => CacheKey::File(*key),
                ModuleSource::Vdso => bail!("pid {pid}: the vDSO is not an executable"),
            },
        };
        let cached = cache().lock().ok().and_then(|c| c.get(&key).cloned());
        let globals = match cached {
            Some(g) => g,
            None => {
                let mut opened = maps::open_module_file(pid, module)
                    .with_context(|| format!("pid {pid}: opening {}", module.name()))?;
                let mut data = Vec::new();
                opened
                    .file
                    .read_to_end(&mut data)
                    .with_context(|| format!("reading {}", opened.via.display()))?;
                let g = Arc::new(
                    ExeGlobals::parse(&data)
                        .map_err(|e| anyhow!("pid {pid}: {}: {e}", module.name()))?,
                );
                if let Ok(mut c) = cache().lock() {
                    c.insert(key, g.clone());
                }
                g
            }
        };
        if !globals.symbols.contains_key("debug_query_string") {
            bail!(
                "pid {pid} ({comm}) is not a PostgreSQL process ({} exports no debug_query_string)",
                module.name()
            );
        }
        let bias = maps::load_bias(&module.mappings, &globals.loads).ok_or_else(|| {
            anyhow!(
                "pid {pid}: {} does not match its mappings (replaced on disk?)",
                module.name()
            )
        })?;
        Ok(GlobalsReader { pid, bias, globals })
    }

    /// The runtime address of a wanted symbol.
    pub fn address(&self, name: &str) -> Option<u64> {
        let (svma, _) = self.globals.symbols.get(name)?;
        Some(svma.wrapping_add(self.bias))
    }

    fn bytes<const N: usize>(&self, name: &str) -> Option<[u8; N]> {
        let addr = self.address(name)?;
        let size = self.globals.symbols.get(name).map_or(0, |s| s.1);
        // A symbol smaller than we think is another type: refuse rather than misread.
        if size != 0 && (size as usize) < N {
            return None;
        }
        let mut buf = [0u8; N];
        (read_mem(self.pid, addr, &mut buf) == N).then_some(buf)
    }

    fn int(&self, name: &str) -> Option<i32> {
        self.bytes::<4>(name).map(i32::from_le_bytes)
    }

    fn flag(&self, name: &str) -> Option<bool> {
        self.bytes::<1>(name).map(|[b]| b != 0)
    }

    /// Reads every global (a few small process_vm_readv calls; no ptrace needed).
    pub fn read(&self) -> BackendGlobals {
        BackendGlobals {
            query: self.query(),
            backend_type: self.int("MyBackendType"),
            parallel_worker_number: self.int("ParallelWorkerNumber"),
            crit_section_count: self.bytes::<4>("CritSectionCount").map(u32::from_le_bytes),
            interrupt_holdoff_count: self
                .bytes::<4>("InterruptHoldoffCount")
                .map(u32::from_le_bytes),
            work_mem_kb: self.int("work_mem"),
            hash_mem_multiplier: self
                .bytes::<8>("hash_mem_multiplier")
                .map(f64::from_le_bytes),
            max_parallel_workers_per_gather: self.int("max_parallel_workers_per_gather"),
            dynamic_shared_memory_type: self.int("dynamic_shared_memory_type"),
            min_dynamic_shared_memory_mb: self.int("min_dynamic_shared_memory"),
            my_proc_pid: self.int("MyProcPid"),
            maintenance_work_mem_kb: self.int("maintenance_work_mem"),
            max_parallel_workers: self.int("max_parallel_workers"),
            max_worker_processes: self.int("max_worker_processes"),
            parallel_leader_participation: self.flag("parallel_leader_participation"),
            enable_parallel_hash: self.flag("enable_parallel_hash"),
            nbuffers: self.int("NBuffers"),
        }
    }

    /// Only `debug_query_string` (two reads), for annotating traces. `None` when idle (NULL)
    /// or unreadable; at most [`QUERY_MAX`] bytes, invalid UTF-8 replaced.
    pub fn query(&self) -> Option<String> {
        let ptr = u64::from_le_bytes(self.bytes::<8>("debug_query_string")?);
        if ptr == 0 {
            return None;
        }
        let raw = read_c_string(self.pid, ptr, QUERY_MAX);
        Some(String::from_utf8_lossy(&raw).into_owned())
    }
}

impl GlobalsReader {
    /// The first `max` bytes of `debug_query_string`, for the trace's notes, in one
    /// `process_vm_readv` when the pointer is where it was last time (`last`: PostgreSQL
    /// reads each message into the same buffer): the pointer and the bytes at its old value
    /// are read together, and the bytes are used only if the pointer did not move. Else a
    /// second read at the new pointer. Updates `last`.
    pub fn query_prefix(&self, last: &mut u64, max: usize) -> Option<String> {
        let addr = self.address("debug_query_string")?;
        let mut ptr_buf = [0u8; 8];
        let mut text = vec![0u8; max + 1];
        let page_left = 4096 - (*last % 4096) as usize;
        let want = if *last != 0 {
            (max + 1).min(page_left)
        } else {
            0
        };
        let got =
            crate::remote::vm_read_two(self.pid, (addr, &mut ptr_buf), (*last, &mut text[..want]));
        if got < 8 {
            return None;
        }
        let ptr = u64::from_le_bytes(ptr_buf);
        if ptr == 0 {
            *last = 0;
            return None;
        }
        if ptr == *last {
            // Whole when its NUL, or more than `max` bytes, were read with the pointer.
            let seen = &text[..got - 8];
            let end = seen
                .iter()
                .position(|&b| b == 0)
                .or((seen.len() > max).then_some(max));
            if let Some(end) = end {
                return Some(String::from_utf8_lossy(&text[..end]).into_owned());
            }
        }
        *last = ptr;
        let raw = read_c_string(self.pid, ptr, max);
        Some(String::from_utf8_lossy(&raw).into_owned())
    }
}

/// A NUL-terminated string of at most `max` bytes at `addr` in a running process (empty if
/// unreadable): [`Tracee::read_cstr`] over a racy reader.
pub fn read_c_string(pid: i32, addr: u64, max: usize) -> Vec<u8> {
    crate::remote::ProcMem::racy(pid)
        .read_cstr(addr, max)
        .map(|(b, _)| b)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_strings_from_own_memory() {
        let me = std::process::id() as i32;
        let s = b"SELECT 1\0garbage".to_vec();
        assert_eq!(read_c_string(me, s.as_ptr() as u64, 4096), b"SELECT 1");
        assert_eq!(read_c_string(me, s.as_ptr() as u64, 3), b"SEL");
        let long = vec![b'x'; 10000];
        assert_eq!(
            read_c_string(me, long.as_ptr() as u64, QUERY_MAX).len(),
            QUERY_MAX
        );
        assert!(read_c_string(me, 8, 100).is_empty());
    }

    #[test]
    fn not_postgres() {
        let me = std::process::id() as i32;
        let e = GlobalsReader::for_process(me)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not a PostgreSQL process"), "{e}");
        let e = GlobalsReader::for_process(i32::MAX)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert_eq!(e, format!("no such process: pid {}", i32::MAX));
    }

    #[test]
    fn debian_postgres_dynsym() {
        let path = "/usr/lib/postgresql/15/bin/postgres";
        let Ok(data) = std::fs::read(path) else {
            return;
        };
        let g = ExeGlobals::parse(&data);
        let Ok(g) = g else {
            panic!("{g:?}");
        };
        for name in WANTED {
            assert!(g.symbols.contains_key(name), "{name} missing from {path}");
        }
        assert_eq!(g.symbols.get("hash_mem_multiplier").map(|s| s.1), Some(8));
        assert_eq!(g.symbols.get("debug_query_string").map(|s| s.1), Some(8));
        assert!(!g.loads.is_empty());
        assert!(ExeGlobals::parse(b"not elf").is_err());
    }
}
