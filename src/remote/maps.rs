//! /proc/PID/maps: the parser, the grouping of mappings into modules (one per mapped ELF
//! file, plus the vDSO), load biases, and opening a module's file the way the tracee sees it.
//!
//! Vocabulary (as in framehop): an AVMA is an address in the tracee, an SVMA an address as
//! stated in the ELF file; `avma = svma + bias`.

use object::Endianness;
use object::read::elf::{ElfFile64, ProgramHeader};
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// One line of /proc/PID/maps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub perms: Perms,
    /// File offset of `start`.
    pub offset: u64,
    /// Device of the backing file, (major, minor) as printed in hex.
    pub dev: (u32, u32),
    pub inode: u64,
    pub kind: MapKind,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Perms {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    /// `s` (shared) rather than `p` (private).
    pub shared: bool,
}

/// What backs a mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapKind {
    /// A file, with its path as the kernel prints it; `deleted` when the kernel appended
    /// " (deleted)" (the file was unlinked or replaced after it was mapped).
    File {
        path: String,
        deleted: bool,
    },
    Anonymous,
    Heap,
    /// The main thread's stack (`[stack]`).
    Stack,
    Vdso,
    Vvar,
    Vsyscall,
    /// Any other bracketed name (`[anon:...]`, `[stack:TID]` on old kernels, ...).
    Special(String),
}

impl Mapping {
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    #[cfg(test)]
    pub fn path(&self) -> Option<&str> {
        match &self.kind {
            MapKind::File { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// Parses one line of /proc/PID/maps; `None` for a malformed line.
pub fn parse_line(line: &str) -> Option<Mapping> {
    // Five space-separated fields, then padding, then the optional name, which may itself
    // contain spaces, so it is taken as the rest of the line.
    let mut rest = line;
    let mut field = || -> Option<&str> {
        let s = rest.trim_start_matches(' ');
        let end = s.find(' ').unwrap_or(s.len());
        let (f, r) = s.split_at(end);
        rest = r;
        (!f.is_empty()).then_some(f)
    };
    let range = field()?;
    let perms = field()?;
    let offset = field()?;
    let dev = field()?;
    let inode = field()?;
    let name = rest.trim_start_matches(' ');

    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    let pb = perms.as_bytes();
    if pb.len() != 4 {
        return None;
    }
    let perms = Perms {
        read: pb.first() == Some(&b'r'),
        write: pb.get(1) == Some(&b'w'),
        exec: pb.get(2) == Some(&b'x'),
        shared: pb.get(3) == Some(&b's'),
    };
    let offset = u64::from_str_radix(offset, 16).ok()?;
    let (major, minor) = dev.split_once(':')?;
    let dev = (
        u32::from_str_radix(major, 16).ok()?,
        u32::from_str_radix(minor, 16).ok()?,
    );
    let inode = inode.parse().ok()?;
    let kind = match name {
        "" => MapKind::Anonymous,
        "[heap]" => MapKind::Heap,
        "[stack]" => MapKind::Stack,
        "[vdso]" => MapKind::Vdso,
        "[vvar]" => MapKind::Vvar,
        "[vsyscall]" => MapKind::Vsyscall,
        n if n.starts_with('[') && n.ends_with(']') => MapKind::Special(n.to_string()),
        n => match n.strip_suffix(" (deleted)") {
            Some(p) => MapKind::File {
                path: p.to_string(),
                deleted: true,
            },
            None => MapKind::File {
                path: n.to_string(),
                deleted: false,
            },
        },
    };
    Some(Mapping {
        start,
        end,
        perms,
        offset,
        dev,
        inode,
        kind,
    })
}

/// Parses the whole text of /proc/PID/maps, skipping malformed lines.
pub fn parse(text: &str) -> Vec<Mapping> {
    text.lines().filter_map(parse_line).collect()
}

/// Reads and parses /proc/PID/maps.
pub fn read(pid: i32) -> io::Result<Vec<Mapping>> {
    std::fs::read_to_string(format!("/proc/{pid}/maps")).map(|t| parse(&t))
}

/// The mapping that contains `addr`, in a list sorted by address (as the kernel prints it).
pub fn find(maps: &[Mapping], addr: u64) -> Option<&Mapping> {
    let i = maps.partition_point(|m| m.end <= addr);
    maps.get(i).filter(|m| m.contains(addr))
}

/// Identity of a mapped file: what the kernel prints in maps. Two mappings of the same file
/// have the same key whatever path they were opened by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey {
    pub dev: (u32, u32),
    pub inode: u64,
}

/// What a module is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleSource {
    File {
        path: String,
        deleted: bool,
        key: FileKey,
    },
    /// The kernel's vDSO: no file, its ELF image is read from the mapping itself.
    Vdso,
}

/// A mapped ELF object: all mappings of one file (or the vDSO), with at least one of them
/// executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleMaps {
    pub source: ModuleSource,
    /// The file's mappings, sorted by address; the first one is the lowest.
    pub mappings: Vec<Mapping>,
}

impl ModuleMaps {
    /// Lowest start of any of the module's mappings.
    pub fn start(&self) -> u64 {
        self.mappings.first().map_or(0, |m| m.start)
    }

    /// Highest end of any of the module's mappings.
    pub fn end(&self) -> u64 {
        self.mappings.iter().map(|m| m.end).max().unwrap_or(0)
    }

    /// A name for messages: the path, or "[vdso]".
    pub fn name(&self) -> &str {
        match &self.source {
            ModuleSource::File { path, .. } => path,
            ModuleSource::Vdso => "[vdso]",
        }
    }
}

/// Groups file mappings into modules, one per (dev, inode), keeping only files with an
/// executable mapping (shared-memory files such as /dev/shm/PostgreSQL.* are data, not code),
/// plus the vDSO. Sorted by start address.
pub fn modules(maps: &[Mapping]) -> Vec<ModuleMaps> {
    let mut out: Vec<ModuleMaps> = Vec::new();
    let mut index: std::collections::HashMap<FileKey, usize> = Default::default();
    for m in maps {
        match &m.kind {
            MapKind::File { path, deleted } if m.inode != 0 => {
                let key = FileKey {
                    dev: m.dev,
                    inode: m.inode,
                };
                match index.get(&key) {
                    Some(&i) => {
                        if let Some(module) = out.get_mut(i) {
                            module.mappings.push(m.clone());
                        }
                    }
                    None => {
                        index.insert(key, out.len());
                        out.push(ModuleMaps {
                            source: ModuleSource::File {
                                path: path.clone(),
                                deleted: *deleted,
                                key,
                            },
                            mappings: vec![m.clone()],
                        });
                    }
                }
            }
            MapKind::Vdso => out.push(ModuleMaps {
                source: ModuleSource::Vdso,
                mappings: vec![m.clone()],
            }),
            _ => {}
        }
    }
    out.retain(|module| module.mappings.iter().any(|m| m.perms.exec));
    for module in &mut out {
        module.mappings.sort_by_key(|m| m.start);
    }
    out.sort_by_key(|m| m.start());
    out
}

/// A PT_LOAD program header, the part that places file bytes in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadSegment {
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub exec: bool,
}

/// The PT_LOAD program headers of a parsed ELF file.
pub fn load_segments(elf: &ElfFile64<Endianness>) -> Vec<LoadSegment> {
    let endian = elf.endian();
    elf.elf_program_headers()
        .iter()
        .filter(|ph| ph.p_type(endian) == object::elf::PT_LOAD)
        .map(|ph| LoadSegment {
            offset: ph.p_offset(endian),
            vaddr: ph.p_vaddr(endian),
            filesz: ph.p_filesz(endian),
            memsz: ph.p_memsz(endian),
            exec: ph.p_flags(endian).0 & object::elf::PF_X.0 != 0,
        })
        .collect()
}

const PAGE: u64 = 4096;

/// The load bias of a module (`avma = svma + bias`), from its mappings and its file's PT_LOAD
/// segments: a mapping of file offset `off` at `start`, inside the segment that maps
/// `p_offset` to `p_vaddr`, means `start` holds SVMA `p_vaddr - p_offset + off`.
/// Prefers the executable mapping (the one code addresses fall in); `None` when no mapping
/// lines up with a segment (the file is not what is mapped).
pub fn load_bias(mappings: &[Mapping], loads: &[LoadSegment]) -> Option<u64> {
    let mut candidates: Vec<&Mapping> = mappings.iter().filter(|m| m.perms.exec).collect();
    candidates.extend(mappings.iter().filter(|m| !m.perms.exec));
    for m in candidates {
        // A page can hold the end of one segment and the start of the next (lld places
        // text at p_offset 0x301180 right after read-only data ending at 0x301178): the
        // segment whose permissions the mapping has, and whose first page the mapping
        // starts at, is the one; containment alone is the fallback.
        let contains = |s: &&LoadSegment| {
            let first = s.offset & !(PAGE - 1);
            first <= m.offset && m.offset < s.offset.saturating_add(s.filesz.max(1))
        };
        let seg = loads
            .iter()
            .filter(contains)
            .find(|s| s.exec == m.perms.exec && s.offset & !(PAGE - 1) == m.offset)
            .or_else(|| {
                loads
                    .iter()
                    .filter(contains)
                    .find(|s| s.exec == m.perms.exec)
            })
            .or_else(|| loads.iter().find(contains));
        if let Some(s) = seg {
            let svma = s.vaddr.wrapping_sub(s.offset).wrapping_add(m.offset);
            return Some(m.start.wrapping_sub(svma));
        }
    }
    None
}

/// File offset of an SVMA, through the PT_LOAD that contains it (strace's `[0x...]`).
pub fn svma_to_file_offset(loads: &[LoadSegment], svma: u64) -> Option<u64> {
    loads
        .iter()
        .find(|s| s.vaddr <= svma && svma < s.vaddr.saturating_add(s.filesz))
        .map(|s| svma - s.vaddr + s.offset)
}

/// An opened module file and the path it was opened by.
#[derive(Debug)]
pub struct OpenedFile {
    pub file: File,
    pub via: PathBuf,
}

/// Opens the file behind a module as the tracee sees it: through
/// /proc/PID/map_files/START-END (works for deleted files and other mount namespaces; needs
/// CAP_SYS_ADMIN), else /proc/PID/root/PATH, else PATH. A candidate whose (dev, inode) differs
/// from what maps says is rejected (a package upgrade replaced the file, or another namespace
/// has another file at that path).
pub fn open_module_file(pid: i32, module: &ModuleMaps) -> io::Result<OpenedFile> {
    let ModuleSource::File { path, key, .. } = &module.source else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the vDSO has no file",
        ));
    };
    let mut candidates: Vec<PathBuf> = module
        .mappings
        .iter()
        .take(1)
        .map(|m| PathBuf::from(format!("/proc/{pid}/map_files/{:x}-{:x}", m.start, m.end)))
        .collect();
    candidates.push(PathBuf::from(format!("/proc/{pid}/root{path}")));
    candidates.push(PathBuf::from(path));
    let mut last_err = io::Error::new(io::ErrorKind::NotFound, "no candidate path");
    for via in candidates {
        match File::open(&via) {
            Ok(file) => {
                let meta = file.metadata()?;
                if file_key_matches(&meta, key) {
                    return Ok(OpenedFile { file, via });
                }
                last_err = io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not the mapped file (dev/inode differ)",
                        via.display()
                    ),
                );
            }
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

fn file_key_matches(meta: &std::fs::Metadata, key: &FileKey) -> bool {
    let dev = meta.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    // Overlay and some FUSE file systems report another st_dev than maps shows; the inode
    // still identifies the file, and the build-id check covers the rest.
    meta.ino() == key.inode && ((major, minor) == key.dev || key.dev.0 == 0)
}

/// The GNU build-id in a PT_NOTE segment's bytes (a sequence of ELF notes), if any.
pub fn parse_build_id_note(notes: &[u8]) -> Option<Vec<u8>> {
    let mut pos = 0usize;
    let align4 = |n: usize| n.checked_add(3).map(|v| v & !3);
    while pos.checked_add(12)? <= notes.len() {
        let word = |at: usize| -> Option<usize> {
            let b = notes.get(at..at + 4)?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        };
        let namesz = word(pos)?;
        let descsz = word(pos + 4)?;
        let ntype = word(pos + 8)?;
        let name_at = pos + 12;
        let desc_at = name_at.checked_add(align4(namesz)?)?;
        let next = desc_at.checked_add(align4(descsz)?)?;
        let name = notes.get(name_at..name_at.checked_add(namesz)?)?;
        if ntype == 3 && name == b"GNU\0" {
            return notes
                .get(desc_at..desc_at.checked_add(descsz)?)
                .map(<[u8]>::to_vec);
        }
        pos = next;
    }
    None
}

/// Reads a module's build-id from the tracee's memory: ELF header at the module's lowest
/// mapping, its program headers, then the PT_NOTE segments. This is the build-id of what is
/// really mapped, to check the file we opened against.
pub fn build_id_from_memory(
    read: &dyn Fn(u64, &mut [u8]) -> usize,
    module: &ModuleMaps,
) -> Option<Vec<u8>> {
    let first = module.mappings.first().filter(|m| m.offset == 0)?;
    let base = first.start;
    let mut ehdr = [0u8; 64];
    if read(base, &mut ehdr) != ehdr.len() || ehdr.get(0..4) != Some(b"\x7fELF") || ehdr[4] != 2 {
        return None;
    }
    let u16_at = |b: &[u8], at: usize| -> Option<u64> {
        Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u64)
    };
    let u64_at = |b: &[u8], at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
    };
    let phoff = u64_at(&ehdr, 32)?;
    let phentsize = u16_at(&ehdr, 54)?;
    let phnum = u16_at(&ehdr, 56)?;
    if phentsize < 56 || phnum == 0 || phnum > 256 {
        return None;
    }
    let mut phdrs = vec![0u8; (phentsize * phnum) as usize];
    if read(base.checked_add(phoff)?, &mut phdrs) != phdrs.len() {
        return None;
    }
    // The first PT_LOAD tells how vaddrs map to this mapping (offset 0).
    let mut first_load_vaddr = None;
    let mut notes = Vec::new();
    for i in 0..phnum as usize {
        let ph = phdrs.get(i * phentsize as usize..(i + 1) * phentsize as usize)?;
        let p_type = u32::from_le_bytes(ph.get(0..4)?.try_into().ok()?);
        let vaddr = u64_at(ph, 16)?;
        let filesz = u64_at(ph, 32)?;
        match p_type {
            1 if first_load_vaddr.is_none() => first_load_vaddr = Some(vaddr & !(PAGE - 1)),
            4 => notes.push((vaddr, filesz)),
            _ => {}
        }
    }
    let bias = base.wrapping_sub(first_load_vaddr?);
    for (vaddr, size) in notes {
        if size == 0 || size > 4096 {
            continue;
        }
        let mut buf = vec![0u8; size as usize];
        if read(bias.wrapping_add(vaddr), &mut buf) == buf.len()
            && let Some(id) = parse_build_id_note(&buf)
        {
            return Some(id);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
55d0c6a00000-55d0c6acd000 r--p 00000000 08:01 1310742                    /usr/lib/postgresql/15/bin/postgres
55d0c6acd000-55d0c6ff7000 r-xp 000cd000 08:01 1310742                    /usr/lib/postgresql/15/bin/postgres
55d0c6ff7000-55d0c7250000 r--p 005f7000 08:01 1310742                    /usr/lib/postgresql/15/bin/postgres
55d0c7250000-55d0c7286000 rw-p 00850000 08:01 1310742                    /usr/lib/postgresql/15/bin/postgres
55d0c7286000-55d0c72b8000 rw-p 00000000 00:00 0 
55d0c8a2b000-55d0c8b4c000 rw-p 00000000 00:00 0                          [heap]
7f1e2d600000-7f1e2fa00000 rw-s 00000000 00:01 2052                       /dev/zero (deleted)
7f1e2fb00000-7f1e2fb2c000 rw-s 00000000 00:19 77                         /dev/shm/PostgreSQL.1818734854
7f1e30026000-7f1e3004c000 r--p 00000000 08:01 1054110                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e3004c000-7f1e301a2000 r-xp 00026000 08:01 1054110                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e301a2000-7f1e301f5000 r--p 0017c000 08:01 1054110                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e301f5000-7f1e301f9000 r--p 001cf000 08:01 1054110                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e301f9000-7f1e301fb000 rw-p 001d3000 08:01 1054110                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f1e30300000-7f1e30301000 r-xp 00001000 fd:02 99                         /tmp/my lib.so (deleted)
7ffd4b1e0000-7ffd4b201000 rw-p 00000000 00:00 0                          [stack]
7ffd4b3f6000-7ffd4b3fa000 r--p 00000000 00:00 0                          [vvar]
7ffd4b3fa000-7ffd4b3fc000 r-xp 00000000 00:00 0                          [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
";

    #[test]
    fn parses_every_kind() {
        let maps = parse(SAMPLE);
        assert_eq!(maps.len(), 18);
        let pg = &maps[1];
        assert_eq!(
            (pg.start, pg.end, pg.offset),
            (0x55d0c6acd000, 0x55d0c6ff7000, 0xcd000)
        );
        assert!(pg.perms.read && pg.perms.exec && !pg.perms.write && !pg.perms.shared);
        assert_eq!(pg.dev, (8, 1));
        assert_eq!(pg.inode, 1310742);
        assert_eq!(pg.path(), Some("/usr/lib/postgresql/15/bin/postgres"));
        assert_eq!(maps[4].kind, MapKind::Anonymous);
        assert_eq!(maps[5].kind, MapKind::Heap);
        assert_eq!(
            maps[6].kind,
            MapKind::File {
                path: "/dev/zero".into(),
                deleted: true
            }
        );
        assert!(maps[6].perms.shared);
        assert_eq!(
            maps[13].kind,
            MapKind::File {
                path: "/tmp/my lib.so".into(),
                deleted: true
            }
        );
        assert_eq!(maps[13].dev, (0xfd, 2));
        assert_eq!(maps[14].kind, MapKind::Stack);
        assert_eq!(maps[15].kind, MapKind::Vvar);
        assert_eq!(maps[16].kind, MapKind::Vdso);
        assert_eq!(maps[17].kind, MapKind::Vsyscall);
        assert_eq!(maps[17].end, 0xffffffffff601000);
    }

    #[test]
    fn malformed_lines_are_skipped() {
        for bad in [
            "",
            "garbage",
            "1000-zz r-xp 0 08:01 1 /x",
            "1000-2000 r-x 0 08:01 1 /x",
            "1000-2000 r-xp 0 0801 1 /x",
            "1000-2000 r-xp 0 08:01 -1 /x",
            "1000-2000 r-xp",
        ] {
            assert_eq!(parse_line(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_line("1000-2000 ---p 00000000 00:00 0").map(|m| m.kind),
            Some(MapKind::Anonymous)
        );
        assert_eq!(
            parse_line("1000-2000 rw-p 00000000 00:00 0   [anon:glibc malloc]").map(|m| m.kind),
            Some(MapKind::Special("[anon:glibc malloc]".into()))
        );
    }

    #[test]
    fn groups_modules_and_drops_data_files() {
        let maps = parse(SAMPLE);
        let mods = modules(&maps);
        let names: Vec<&str> = mods.iter().map(|m| m.name()).collect();
        assert_eq!(
            names,
            [
                "/usr/lib/postgresql/15/bin/postgres",
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/tmp/my lib.so",
                "[vdso]"
            ]
        );
        assert_eq!(mods[0].mappings.len(), 4);
        assert_eq!(mods[0].start(), 0x55d0c6a00000);
        assert_eq!(mods[0].end(), 0x55d0c7286000);
        assert_eq!(mods[1].mappings.len(), 5);
        assert!(matches!(
            mods[2].source,
            ModuleSource::File { deleted: true, .. }
        ));
        assert_eq!(
            find(&maps, 0x7ffd4b1e0010).map(|m| &m.kind),
            Some(&MapKind::Stack)
        );
        assert_eq!(find(&maps, 0x7ffd4b201000).map(|m| &m.kind), None);
        assert_eq!(find(&maps, 0x10), None);
    }

    // PT_LOADs of Debian's postgres 15 and libc 2.36, as readelf -l prints them.
    fn pg_loads() -> Vec<LoadSegment> {
        vec![
            seg(0, 0, 0xcca60, false),
            seg(0xcd000, 0xcd000, 0x5299a9, true),
            seg(0x5f7000, 0x5f7000, 0x258e30, false),
            seg(0x8508b0, 0x8508b0, 0x350da, false),
        ]
    }

    fn seg(offset: u64, vaddr: u64, filesz: u64, exec: bool) -> LoadSegment {
        LoadSegment {
            offset,
            vaddr,
            filesz,
            memsz: filesz,
            exec,
        }
    }

    #[test]
    fn load_bias_of_pie_and_libc() {
        let maps = parse(SAMPLE);
        let mods = modules(&maps);
        assert_eq!(
            load_bias(&mods[0].mappings, &pg_loads()),
            Some(0x55d0c6a00000)
        );
        let libc = [
            seg(0, 0, 0x25388, false),
            seg(0x26000, 0x26000, 0x1550fc, true),
            seg(0x17c000, 0x17c000, 0x52c31, false),
            seg(0x1cf8d0, 0x1cf8d0, 0x4f98, false),
        ];
        assert_eq!(load_bias(&mods[1].mappings, &libc), Some(0x7f1e30026000));
        // A non-PIE executable: vaddr 0x400000 at offset 0, mapped where it says.
        let exe = [
            seg(0, 0x400000, 0x1000, false),
            seg(0x1000, 0x401000, 0x2000, true),
        ];
        let m = parse_line("401000-403000 r-xp 00001000 08:01 5 /bin/x")
            .into_iter()
            .collect::<Vec<_>>();
        assert_eq!(load_bias(&m, &exe), Some(0));
        // A segment whose vaddr is not offset-congruent to a page start (lld style).
        let odd = [seg(0x1234, 0x2234, 0x100, true)];
        let m = parse_line("7f0000002000-7f0000003000 r-xp 00001000 08:01 5 /x")
            .into_iter()
            .collect::<Vec<_>>();
        assert_eq!(load_bias(&m, &odd), Some(0x7f0000002000 - 0x2000));
        // A file that does not line up with the mappings.
        assert_eq!(load_bias(&m, &[seg(0x9000, 0x9000, 0x10, true)]), None);
        // lld: text shares its first page with the end of read-only data, at another
        // vaddr - offset delta than that data (seen on a Rust debug build).
        let lld = [
            seg(0, 0, 0x301178, false),
            seg(0x301180, 0x302180, 0x903540, true),
        ];
        let text = parse_line("555555856000-55555615a000 r-xp 00301000 08:01 5 /x")
            .into_iter()
            .collect::<Vec<_>>();
        assert_eq!(load_bias(&text, &lld), Some(0x5555_5585_6000 - 0x302000));
        assert_eq!(svma_to_file_offset(&pg_loads(), 0x1000), Some(0x1000));
        assert_eq!(svma_to_file_offset(&odd, 0x2240), Some(0x1240));
        assert_eq!(svma_to_file_offset(&odd, 0x10), None);
    }

    #[test]
    fn build_id_notes() {
        let mut n = Vec::new();
        // An ABI-tag note first, then the build-id.
        n.extend(4u32.to_le_bytes());
        n.extend(16u32.to_le_bytes());
        n.extend(1u32.to_le_bytes());
        n.extend(b"GNU\0");
        n.extend([0u8; 16]);
        n.extend(4u32.to_le_bytes());
        n.extend(3u32.to_le_bytes());
        n.extend(3u32.to_le_bytes());
        n.extend(b"GNU\0");
        n.extend([0xab, 0xcd, 0xef, 0]);
        assert_eq!(parse_build_id_note(&n), Some(vec![0xab, 0xcd, 0xef]));
        assert_eq!(parse_build_id_note(&n[..n.len() - 2]), None);
        assert_eq!(parse_build_id_note(&[0xff; 40]), None);
        assert_eq!(parse_build_id_note(&[]), None);
    }

    #[test]
    fn own_modules_open_and_match_build_id() {
        let me = std::process::id() as i32;
        let maps = read(me).unwrap_or_default();
        let mods = modules(&maps);
        let exe = mods
            .iter()
            .find(|m| matches!(m.source, ModuleSource::File { .. }))
            .cloned();
        let Some(exe) = exe else {
            panic!("no file module in our own maps");
        };
        let opened = open_module_file(me, &exe);
        assert!(opened.is_ok(), "{opened:?}");
        let read = |addr: u64, buf: &mut [u8]| super::super::read_mem(me, addr, buf);
        let libc = mods.iter().find(|m| m.name().contains("libc.so"));
        if let Some(libc) = libc {
            let id = build_id_from_memory(&read, libc);
            assert!(id.as_ref().is_some_and(|i| i.len() == 20), "{id:?}");
        }
        assert!(mods.iter().any(|m| m.source == ModuleSource::Vdso));
    }
}
