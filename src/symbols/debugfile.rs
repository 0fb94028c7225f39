//! Finding the separate debug file of a stripped object: an explicit, ordered list of
//! candidates, each checked (build-id or CRC32) and, when refused, refused with a reason.
//!
//! Order (ROOT: each debug root in turn, default `/usr/lib/debug`):
//! 1. `ROOT/.build-id/NN/REST.debug` from the build-id note (build-id must match);
//! 2. from `.gnu_debuglink` NAME (CRC32 of the whole candidate must match):
//!    `ROOT/<dir of binary>/NAME`, then `<dir of binary>/.debug/NAME`, then
//!    `<dir of binary>/NAME` (not the binary itself).

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object::read::elf::ElfFile64;
use object::{Endianness, Object};

use super::backing::Backing;

/// How a debug file was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugVia {
    BuildId,
    DebugLink,
}

/// Why one candidate path was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such file (or it could not be opened: the message says why).
    Absent(String),
    NotElf(String),
    /// The candidate's build-id note differs from the object's.
    BuildIdMismatch,
    /// The CRC32 stored in `.gnu_debuglink` does not match the candidate's contents.
    CrcMismatch {
        expected: u32,
        actual: u32,
    },
    /// The candidate is the object itself (a debuglink naming its own file).
    SameFile,
    /// The candidate has neither `.symtab` nor `.debug_info`.
    NoDebugData,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Absent(why) => write!(f, "{why}"),
            Refusal::NotElf(why) => write!(f, "not an ELF file: {why}"),
            Refusal::BuildIdMismatch => write!(f, "build-id differs"),
            Refusal::CrcMismatch { expected, actual } => {
                write!(
                    f,
                    "CRC32 {actual:08x} != {expected:08x} from .gnu_debuglink"
                )
            }
            Refusal::SameFile => write!(f, "is the object itself"),
            Refusal::NoDebugData => write!(f, "has no .symtab nor .debug_info"),
        }
    }
}

/// One refused candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub path: PathBuf,
    pub refusal: Refusal,
}

/// The outcome of the debug-file search for one object, kept on its `ObjectSymbols`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DebugStatus {
    /// The object has its own `.symtab` and DWARF; no search was made.
    NotNeeded,
    /// Searching was turned off (`LoadOptions::search_debug_files`).
    NotSearched,
    /// Found; `refused` lists candidates tried before it.
    Found {
        path: PathBuf,
        via: DebugVia,
        refused: Vec<Attempt>,
    },
    /// Nothing usable: every candidate with its reason (empty when the object has neither a
    /// build-id nor a `.gnu_debuglink`, so there was nothing to look for).
    NotFound { refused: Vec<Attempt> },
}

impl fmt::Display for DebugStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DebugStatus::NotNeeded => write!(f, "symbols and DWARF in the object itself"),
            DebugStatus::NotSearched => write!(f, "debug files not searched"),
            DebugStatus::Found { path, via, .. } => {
                let via = match via {
                    DebugVia::BuildId => "build-id",
                    DebugVia::DebugLink => ".gnu_debuglink",
                };
                write!(f, "debug file {} (by {via})", path.display())
            }
            DebugStatus::NotFound { refused } if refused.is_empty() => {
                write!(f, "no debug file: no build-id and no .gnu_debuglink")
            }
            DebugStatus::NotFound { refused } => {
                write!(f, "no debug file:")?;
                for (i, a) in refused.iter().enumerate() {
                    let sep = if i == 0 { " " } else { "; " };
                    write!(f, "{sep}{} ({})", a.path.display(), a.refusal)?;
                }
                Ok(())
            }
        }
    }
}

/// What the object says about its debug file.
pub(crate) struct Wanted<'a> {
    /// The object's own path, if it has one (the vDSO does not).
    pub(crate) path: Option<&'a Path>,
    pub(crate) build_id: Option<&'a [u8]>,
    /// `.gnu_debuglink`: file name and CRC32.
    pub(crate) debuglink: Option<(&'a [u8], u32)>,
}

/// A debug file that passed its checks, mapped.
pub(crate) struct DebugFile {
    pub(crate) data: Arc<Backing>,
}

/// Runs the search. Returns the file found (if any) and the status to report.
pub(crate) fn search(wanted: &Wanted<'_>, roots: &[PathBuf]) -> (Option<DebugFile>, DebugStatus) {
    let mut refused = Vec::new();
    for (path, check) in candidates(wanted, roots) {
        match try_candidate(&path, &check, wanted.path) {
            Ok(data) => {
                let via = match check {
                    Check::BuildId(_) => DebugVia::BuildId,
                    Check::Crc(_) => DebugVia::DebugLink,
                };
                let status = DebugStatus::Found { path, via, refused };
                return (Some(DebugFile { data }), status);
            }
            Err(refusal) => refused.push(Attempt { path, refusal }),
        }
    }
    (None, DebugStatus::NotFound { refused })
}

enum Check<'a> {
    BuildId(&'a [u8]),
    Crc(u32),
}

fn candidates<'a>(wanted: &Wanted<'a>, roots: &[PathBuf]) -> Vec<(PathBuf, Check<'a>)> {
    let mut out = Vec::new();
    if let Some(id) = wanted.build_id.filter(|id| id.len() >= 2) {
        let hex = hex(id);
        let (nn, rest) = hex.split_at(2);
        for root in roots {
            let p = root
                .join(".build-id")
                .join(nn)
                .join(format!("{rest}.debug"));
            out.push((p, Check::BuildId(id)));
        }
    }
    let link = wanted.debuglink.and_then(|(name, crc)| {
        let name = std::str::from_utf8(name).ok()?;
        // A debuglink is a bare file name; anything else could point anywhere.
        (!name.is_empty() && !name.contains('/')).then_some((name, crc))
    });
    if let Some((name, crc)) = link {
        let dir = wanted.path.and_then(Path::parent);
        if let Some(dir) = dir.filter(|d| d.is_absolute()) {
            let rel = dir.strip_prefix("/").unwrap_or(dir);
            for root in roots {
                out.push((root.join(rel).join(name), Check::Crc(crc)));
            }
        }
        if let Some(dir) = dir {
            out.push((dir.join(".debug").join(name), Check::Crc(crc)));
            out.push((dir.join(name), Check::Crc(crc)));
        }
    }
    out
}

fn try_candidate(
    path: &Path,
    check: &Check<'_>,
    object_path: Option<&Path>,
) -> Result<Arc<Backing>, Refusal> {
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Refusal::Absent("absent".to_owned()),
        _ => Refusal::Absent(e.to_string()),
    })?;
    if let Some(obj) = object_path
        && same_file(&file, obj)
    {
        return Err(Refusal::SameFile);
    }
    let data = Backing::map(&file).map_err(|e| Refusal::Absent(e.to_string()))?;
    let bytes = data.bytes();
    let elf = ElfFile64::<Endianness>::parse(bytes).map_err(|e| Refusal::NotElf(e.to_string()))?;
    match check {
        Check::BuildId(id) => {
            // A debug file without a build-id note cannot be checked; the path names it.
            if let Ok(Some(theirs)) = elf.build_id()
                && theirs != *id
            {
                return Err(Refusal::BuildIdMismatch);
            }
        }
        Check::Crc(expected) => {
            let actual = crc32(bytes);
            if actual != *expected {
                return Err(Refusal::CrcMismatch {
                    expected: *expected,
                    actual,
                });
            }
        }
    }
    let has_symtab = elf.section_by_name(".symtab").is_some();
    let has_dwarf = elf.section_by_name(".debug_info").is_some();
    if !has_symtab && !has_dwarf {
        return Err(Refusal::NoDebugData);
    }
    Ok(Arc::new(data))
}

fn same_file(file: &File, other: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(other)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// CRC-32 as `.gnu_debuglink` uses it (IEEE 802.3, reflected, poly 0xEDB88320, the zlib
/// `crc32`), table-driven.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (n, slot) in (0u32..).zip(t.iter_mut()) {
            let mut c = n;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut crc = !0u32;
    for &b in data {
        let i = usize::from((crc as u8) ^ b);
        crc = table.get(i).copied().unwrap_or(0) ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn candidate_order() {
        let id = [0x44, 0xc0, 0x07];
        let wanted = Wanted {
            path: Some(Path::new("/usr/lib/postgresql/15/bin/postgres")),
            build_id: Some(&id),
            debuglink: Some((b"x.debug", 7)),
        };
        let roots = [PathBuf::from("/usr/lib/debug")];
        let paths: Vec<_> = candidates(&wanted, &roots)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            paths,
            [
                "/usr/lib/debug/.build-id/44/c007.debug",
                "/usr/lib/debug/usr/lib/postgresql/15/bin/x.debug",
                "/usr/lib/postgresql/15/bin/.debug/x.debug",
                "/usr/lib/postgresql/15/bin/x.debug",
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn debuglink_with_a_slash_is_ignored() {
        let wanted = Wanted {
            path: Some(Path::new("/bin/x")),
            build_id: None,
            debuglink: Some((b"../../etc/passwd", 7)),
        };
        assert!(candidates(&wanted, &[PathBuf::from("/usr/lib/debug")]).is_empty());
    }
}
