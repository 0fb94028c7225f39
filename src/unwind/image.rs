//! The unwind-relevant parts of one ELF object (a file or the vDSO image), parsed once and
//! shared through an [`ImageCache`] by every process that maps it: all backends of one
//! postgres binary use the same `Arc<UnwindImage>`.

use super::cfi::{self, FdeTable};
use crate::remote::maps::{FileKey, LoadSegment};
use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSection};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Section bytes as framehop takes them (`Deref<Target = [u8]>`), shareable across processes.
pub type Bytes = Arc<[u8]>;

/// A section: its SVMA range and its bytes.
#[derive(Clone, Debug)]
pub struct Section {
    pub svma: Range<u64>,
    pub data: Bytes,
}

/// What the unwinder needs from an ELF object. SVMAs throughout.
#[derive(Debug, Default)]
pub struct UnwindImage {
    pub build_id: Option<Vec<u8>>,
    pub loads: Vec<LoadSegment>,
    pub text_svma: Option<Range<u64>>,
    pub got_svma: Option<Range<u64>>,
    pub eh_frame: Option<Section>,
    /// Present only when the header has a binary-search table (see
    /// [`cfi::eh_frame_hdr_has_table`]); otherwise framehop indexes `.eh_frame` itself.
    pub eh_frame_hdr: Option<Section>,
    /// Every FDE, for "was this frame found by CFI" and signal trampolines.
    pub fdes: FdeTable,
    /// The whole image when it came from memory (the vDSO), for symbolization.
    pub memory_image: Option<Bytes>,
}

impl UnwindImage {
    /// Parses an ELF image from its file bytes (or, for the vDSO, its memory image, which
    /// has the same layout). Copies out only the sections it keeps.
    pub fn parse(data: &[u8]) -> Result<UnwindImage, String> {
        let elf =
            ElfFile64::<Endianness>::parse(data).map_err(|e| format!("not a 64-bit ELF: {e}"))?;
        let loads = crate::remote::maps::load_segments(&elf);
        let range = |name: &str| {
            elf.section_by_name(name)
                .map(|s| s.address()..s.address().saturating_add(s.size()))
        };
        let section = |name: &str| -> Option<Section> {
            let s = elf.section_by_name(name)?;
            let data = s.data().ok()?;
            (!data.is_empty()).then(|| Section {
                svma: s.address()..s.address().saturating_add(data.len() as u64),
                data: Arc::from(data),
            })
        };
        let eh_frame = section(".eh_frame");
        let mut eh_frame_hdr = section(".eh_frame_hdr");
        if let Some(h) = &eh_frame_hdr
            && !cfi::eh_frame_hdr_has_table(&h.data, h.svma.start)
        {
            eh_frame_hdr = None;
        }
        let fdes = eh_frame
            .as_ref()
            .map(|s| cfi::index_eh_frame(&s.data, s.svma.start))
            .unwrap_or_default();
        Ok(UnwindImage {
            build_id: elf.build_id().ok().flatten().map(<[u8]>::to_vec),
            loads,
            text_svma: range(".text"),
            got_svma: range(".got"),
            eh_frame,
            eh_frame_hdr,
            fdes,
            memory_image: None,
        })
    }

    /// Whether the object has CFI at all (otherwise frames are found by frame pointers).
    pub fn has_cfi(&self) -> bool {
        self.eh_frame.is_some() && !self.fdes.is_empty()
    }

    /// framehop's view of this image, mapped at `avma` with load bias `bias`.
    pub fn framehop_module(
        &self,
        name: &str,
        avma: Range<u64>,
        bias: u64,
    ) -> framehop::Module<Bytes> {
        let info = framehop::ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: self.text_svma.clone(),
            got_svma: self.got_svma.clone(),
            eh_frame_svma: self.eh_frame.as_ref().map(|s| s.svma.clone()),
            eh_frame: self.eh_frame.as_ref().map(|s| s.data.clone()),
            eh_frame_hdr_svma: self.eh_frame_hdr.as_ref().map(|s| s.svma.clone()),
            eh_frame_hdr: self.eh_frame_hdr.as_ref().map(|s| s.data.clone()),
            ..Default::default()
        };
        framehop::Module::new(name.to_string(), avma, bias, info)
    }
}

/// What an image is cached by: the mapped file's identity, or the vDSO's build-id (every
/// process of one kernel maps the same vDSO).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImageKey {
    File(FileKey),
    Vdso(Vec<u8>),
}

/// An image at one place: key, avma start and end, bias.
type Placement = (ImageKey, u64, u64, u64);

/// Parsed images and framehop modules, shared by all traced processes. framehop modules are
/// cached by placement too, since building one for an object without a header table indexes
/// its whole `.eh_frame`; forked backends map everything at the same addresses.
#[derive(Default)]
pub struct ImageCache {
    images: Mutex<HashMap<ImageKey, Arc<UnwindImage>>>,
    placed: Mutex<HashMap<Placement, framehop::Module<Bytes>>>,
}

impl ImageCache {
    pub fn new() -> Arc<ImageCache> {
        Arc::new(ImageCache::default())
    }

    pub fn get(&self, key: &ImageKey) -> Option<Arc<UnwindImage>> {
        self.images.lock().ok()?.get(key).cloned()
    }

    pub fn insert(&self, key: ImageKey, image: Arc<UnwindImage>) {
        if let Ok(mut m) = self.images.lock() {
            m.insert(key, image);
        }
    }

    /// framehop's module for `image` at this placement, built once.
    pub fn placed_module(
        &self,
        key: &ImageKey,
        image: &UnwindImage,
        name: &str,
        avma: Range<u64>,
        bias: u64,
    ) -> framehop::Module<Bytes> {
        let k = (key.clone(), avma.start, avma.end, bias);
        if let Some(m) = self.placed.lock().ok().and_then(|p| p.get(&k).cloned()) {
            return m;
        }
        let m = image.framehop_module(name, avma, bias);
        if let Ok(mut p) = self.placed.lock() {
            p.insert(k, m.clone());
        }
        m
    }

    /// Drops placements and images no longer used by anyone but the cache.
    // For Backtracer::forget (src/backtrace.rs), to bound the caches once traced processes exit.
    #[allow(dead_code)]
    pub fn trim(&self) {
        if let Ok(mut p) = self.placed.lock() {
            p.clear();
        }
        if let Ok(mut m) = self.images.lock() {
            m.retain(|_, v| Arc::strong_count(v) > 1);
        }
    }
}
