//! One parsed [`ObjectSymbols`] per object, shared: keyed by build-id, so the same postgres
//! seen through fifty backends (or through `/proc/PID/root/...` of another mount namespace)
//! is parsed once; objects without a build-id are keyed by file identity (device, inode,
//! size, mtime), which also spares re-mapping a file already seen under any path.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use object::Object;

use super::backing::Backing;
use super::{LoadOptions, ObjectSymbols, SymbolsError, debugfile, parse_elf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FileKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

/// A cache of loaded objects. Not internally locked: wrap it in a `Mutex` to share it; the
/// `Arc<ObjectSymbols>` it hands out are `Send + Sync`.
#[derive(Default)]
pub struct SymbolCache {
    opts: LoadOptions,
    by_file: HashMap<FileKey, Arc<ObjectSymbols>>,
    by_build_id: HashMap<Box<[u8]>, Arc<ObjectSymbols>>,
    /// In-memory images without a build-id: (name, length, CRC32 of the bytes).
    by_content: HashMap<(String, usize, u32), Arc<ObjectSymbols>>,
}

impl SymbolCache {
    pub fn new(opts: LoadOptions) -> SymbolCache {
        SymbolCache {
            opts,
            ..SymbolCache::default()
        }
    }

    /// The symbols of the object file at `path`, loaded at most once per build-id/file.
    /// `ObjectSymbols::name` is the path it was first loaded from: print the path of the
    /// mapping at hand, not that name.
    pub fn get(&mut self, path: &Path) -> Result<Arc<ObjectSymbols>, SymbolsError> {
        let io = |source| SymbolsError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        let key = FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        };
        if let Some(hit) = self.by_file.get(&key) {
            return Ok(Arc::clone(hit));
        }
        let data = Backing::map(&file).map_err(io)?;
        drop(file);
        let name = path.to_string_lossy().into_owned();
        let build_id = build_id_of(&name, &data)?;
        if let Some(hit) = build_id.as_ref().and_then(|id| self.by_build_id.get(id)) {
            let hit = Arc::clone(hit);
            self.by_file.insert(key, Arc::clone(&hit));
            return Ok(hit);
        }
        let syms = Arc::new(ObjectSymbols::from_backing(
            name,
            Some(path),
            Arc::new(data),
            &self.opts,
        )?);
        if let Some(id) = build_id {
            self.by_build_id.insert(id, Arc::clone(&syms));
        }
        self.by_file.insert(key, Arc::clone(&syms));
        Ok(syms)
    }

    /// The symbols of an in-memory image (the vDSO), by build-id, else by content.
    pub fn get_bytes(
        &mut self,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Arc<ObjectSymbols>, SymbolsError> {
        let data = Backing::Owned(bytes);
        let build_id = build_id_of(name, &data)?;
        let content_key = match build_id {
            Some(_) => None,
            None => Some((
                name.to_owned(),
                data.bytes().len(),
                debugfile::crc32(data.bytes()),
            )),
        };
        let hit = match (&build_id, &content_key) {
            (Some(id), _) => self.by_build_id.get(id),
            (None, Some(key)) => self.by_content.get(key),
            (None, None) => None,
        };
        if let Some(hit) = hit {
            return Ok(Arc::clone(hit));
        }
        let syms = Arc::new(ObjectSymbols::from_backing(
            name.to_owned(),
            None,
            Arc::new(data),
            &self.opts,
        )?);
        if let Some(id) = build_id {
            self.by_build_id.insert(id, Arc::clone(&syms));
        }
        if let Some(key) = content_key {
            self.by_content.insert(key, Arc::clone(&syms));
        }
        Ok(syms)
    }

    /// Number of distinct objects parsed.
    #[cfg(test)]
    pub fn objects(&self) -> usize {
        let mut seen: Vec<*const ObjectSymbols> = self
            .by_file
            .values()
            .chain(self.by_build_id.values())
            .chain(self.by_content.values())
            .map(Arc::as_ptr)
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }
}

fn build_id_of(name: &str, data: &Backing) -> Result<Option<Box<[u8]>>, SymbolsError> {
    let elf = parse_elf(name, data)?;
    Ok(elf.build_id().ok().flatten().map(Box::from))
}
