//! [`Reader`]: an indexed docker archive and its `manifest.json`.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use oci_types::Reference;

use crate::compression::{self, Detected};
use crate::limits::{MAX_ENTRIES, MAX_LINK_HOPS, MAX_MANIFEST_JSON_SIZE};
use crate::path::{clip, join_symlink, normalize};
use crate::storage::{Section, Storage};
use crate::tags::NameTag;
use crate::tar::{self, EntryKind, BLOCK};
use crate::{BadHeaderKind, Error, ManifestItem, Result, TruncatedKind};

/// The name of the file that lists the images of a docker archive.
pub const MANIFEST_FILE: &str = "manifest.json";

/// One entry of the archive, as its tar header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The normalised name (`./a/b/` is `a/b`; the root directory is the empty string).
    pub name: String,
    /// What the entry is.
    pub kind: EntryKind,
    /// The target of a symbolic or hard link, as written.
    pub link_target: Option<String>,
    /// Offset of the entry's tar header (the first of its headers when PAX or GNU long-name
    /// headers precede it).
    pub header_offset: u64,
    /// Offset of the entry's data.
    pub data_offset: u64,
    /// Length of the entry's data.
    pub size: u64,
}

/// A docker archive (`docker save`, `podman save`, `skopeo copy ... docker-archive:`), indexed.
///
/// Opening reads the tar headers in one pass, jumping over entry data (a 2 GiB archive is
/// opened by reading a few blocks), then reads and parses `manifest.json`. Entries are read
/// by position afterwards, so a `Reader` in an [`Arc`] serves any number of concurrent
/// streams (see [`crate::Source`]).
///
/// The limits of [`crate::limits`] apply: `manifest.json` up to
/// [`crate::limits::MAX_MANIFEST_JSON_SIZE`], at most [`crate::limits::MAX_ENTRIES`] entries,
/// names up to [`crate::limits::MAX_NAME_LEN`] bytes.
///
/// Paths are normalised (`./x` and `x` are one path). Symbolic and hard links are followed
/// when they stay inside the archive, up to [`crate::limits::MAX_LINK_HOPS`] hops; absolute
/// paths, `..` above the root and loops are refused with typed errors.
pub struct Reader {
    storage: Arc<Storage>,
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    manifest: Vec<ManifestItem>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("storage", &self.storage)
            .field("entries", &self.entries.len())
            .field("manifest", &self.manifest)
            .finish()
    }
}

impl Reader {
    /// Opens the archive at `path`. An uncompressed archive is indexed in place; a gzip or
    /// zstd compressed one is decompressed into a temporary file first (see
    /// [`Reader::from_stream`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Reader> {
        Reader::file(path.as_ref(), true)
    }

    /// Opens any tar at `path` as [`Reader::from_file`] does, without requiring a
    /// `manifest.json` ([`Reader::manifest`] is empty when there is none): for the other
    /// formats kept in tars (an OCI layout, a pre-1.10 docker archive).
    pub fn tar_from_file(path: impl AsRef<Path>) -> Result<Reader> {
        Reader::file(path.as_ref(), false)
    }

    /// Reads any tar from a stream as [`Reader::from_stream`] does, without requiring a
    /// `manifest.json`.
    pub fn tar_from_stream(stream: impl Read + Send) -> Result<Reader> {
        let file = tempfile::tempfile().map_err(|e| Error::io("creating a temporary file", e))?;
        Reader::spool(stream, file, false)
    }

    fn file(path: &Path, require_manifest: bool) -> Result<Reader> {
        let ctx = || format!("opening {}", path.display());
        let mut file = File::open(path).map_err(|e| Error::io(ctx(), e))?;
        let mut magic = [0u8; 6];
        let n = read_prefix(&mut file, &mut magic).map_err(|e| Error::io(ctx(), e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(ctx(), e))?;
        match compression::detect(magic.get(..n).unwrap_or(&magic)) {
            Detected::Known(oci_types::Compression::None) => {
                Reader::index(Storage::File(file), require_manifest)
            }
            Detected::Known(_) => {
                let tmp =
                    tempfile::tempfile().map_err(|e| Error::io("creating a temporary file", e))?;
                Reader::spool(file, tmp, require_manifest)
            }
            Detected::Unsupported(format) => Err(Error::UnsupportedCompression {
                what: path.display().to_string(),
                format,
            }),
        }
    }

    /// Reads an archive from a stream (gzip, zstd or uncompressed, detected by magic bytes),
    /// spooling the uncompressed tar into an anonymous temporary file in the system's
    /// temporary directory. The file has no name once created (it is unlinked at once where
    /// the OS allows) and is gone when the reader is dropped.
    pub fn from_stream(stream: impl Read + Send) -> Result<Reader> {
        let file = tempfile::tempfile().map_err(|e| Error::io("creating a temporary file", e))?;
        Reader::spool(stream, file, true)
    }

    /// As [`Reader::from_stream`], with the temporary file in `dir`.
    pub fn from_stream_in(stream: impl Read + Send, dir: impl AsRef<Path>) -> Result<Reader> {
        let dir = dir.as_ref();
        let file = tempfile::tempfile_in(dir)
            .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
        Reader::spool(stream, file, true)
    }

    /// Reads an archive held in memory (compressed archives are decompressed into a
    /// temporary file, as [`Reader::from_stream`] does).
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Reader> {
        let bytes: Arc<[u8]> = bytes.into();
        match compression::detect(bytes.get(..6).unwrap_or(&bytes)) {
            Detected::Known(oci_types::Compression::None) => {
                Reader::index(Storage::Memory(bytes), true)
            }
            Detected::Known(_) => Reader::from_stream(&bytes[..]),
            Detected::Unsupported(format) => Err(Error::UnsupportedCompression {
                what: "the archive".into(),
                format,
            }),
        }
    }

    fn spool(stream: impl Read + Send, file: File, require_manifest: bool) -> Result<Reader> {
        let (_, mut tar) = compression::auto_decompress(stream, "the archive")?;
        let mut out = BufWriter::with_capacity(256 * 1024, file);
        io::copy(&mut tar, &mut out)
            .map_err(|e| Error::io("spooling the archive to a temporary file", e))?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io("spooling the archive to a temporary file", e.into_error()))?;
        Reader::index(Storage::File(file), require_manifest)
    }

    fn index(storage: Storage, require_manifest: bool) -> Result<Reader> {
        let storage = Arc::new(storage);
        let entries = index_entries(&storage)?;
        let mut by_name = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            if let Some(prev) = by_name.insert(e.name.clone(), i) {
                let both_dirs = entries
                    .get(prev)
                    .is_some_and(|p| p.kind == EntryKind::Directory)
                    && e.kind == EntryKind::Directory;
                if !both_dirs {
                    return Err(Error::DuplicateEntry {
                        path: clip(&e.name),
                    });
                }
            }
        }
        let mut reader = Reader {
            storage,
            entries,
            by_name,
            manifest: Vec::new(),
        };
        let entry = match reader.resolve(MANIFEST_FILE, None) {
            Ok(e) => e,
            Err(Error::MissingEntry { .. }) if !require_manifest => return Ok(reader),
            Err(Error::MissingEntry { .. }) => return Err(Error::MissingManifest),
            Err(e) => return Err(e),
        };
        let bytes = reader.read_entry(entry, MAX_MANIFEST_JSON_SIZE, "manifest.json")?;
        reader.manifest = ManifestItem::parse_list(&bytes)?;
        Ok(reader)
    }

    /// The images, as `manifest.json` lists them.
    pub fn manifest(&self) -> &[ManifestItem] {
        &self.manifest
    }

    /// Every entry, in archive order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The regular file at `path`, following links.
    pub fn entry(&self, path: &str) -> Result<&Entry> {
        self.resolve(path, None)
    }

    /// A reader over the regular file at `path`, following links.
    pub fn open(&self, path: &str) -> Result<EntryReader> {
        let e = self.entry(path)?;
        Ok(self.open_entry(e))
    }

    /// A reader over the data of `entry` (an entry of this reader).
    pub fn open_entry(&self, entry: &Entry) -> EntryReader {
        EntryReader(Section::new(
            Arc::clone(&self.storage),
            entry.data_offset,
            entry.size,
        ))
    }

    /// The whole file at `path` (following links), refused with [`Error::TooLarge`] when it
    /// is larger than `limit` bytes. `what` names it in errors.
    pub fn read_file(&self, path: &str, limit: u64, what: &'static str) -> Result<Vec<u8>> {
        let e = self.entry(path)?;
        self.read_entry(e, limit, what)
    }

    pub(crate) fn read_entry(&self, e: &Entry, limit: u64, what: &'static str) -> Result<Vec<u8>> {
        if e.size > limit {
            return Err(Error::TooLarge {
                what,
                path: clip(&e.name),
                size: e.size,
                limit,
            });
        }
        let mut buf = vec![0u8; e.size as usize];
        self.storage
            .read_exact_at(&mut buf, e.data_offset)
            .map_err(|err| Error::io(format!("reading {}", clip(&e.name)), err))?;
        Ok(buf)
    }

    /// Follows `path` through symbolic and hard links to a regular file. `referrer` says who
    /// asked, for errors.
    pub(crate) fn resolve(&self, path: &str, referrer: Option<&str>) -> Result<&Entry> {
        let start = normalize(path)?;
        let mut current = start.clone();
        let mut seen: HashSet<String> = HashSet::new();
        let mut via: Option<String> = referrer.map(str::to_owned);
        for _ in 0..=MAX_LINK_HOPS {
            let Some(e) = self
                .by_name
                .get(&current)
                .and_then(|&i| self.entries.get(i))
            else {
                return Err(Error::MissingEntry {
                    path: clip(&current),
                    referrer: via,
                });
            };
            let target = e.link_target.as_deref().unwrap_or("");
            let next = match e.kind {
                EntryKind::File => return Ok(e),
                EntryKind::Symlink => join_symlink(&current, target)?,
                EntryKind::HardLink => normalize(target)?,
                other => {
                    return Err(Error::NotAFile {
                        path: clip(&current),
                        kind: other.describe(),
                    })
                }
            };
            seen.insert(current.clone());
            if seen.contains(&next) {
                break;
            }
            via = Some(format!("link {}", clip(&current)));
            current = next;
        }
        Err(Error::LinkLoop {
            path: clip(&start),
            limit: MAX_LINK_HOPS,
        })
    }

    /// Chooses an image: the one tagged `reference` (tags are compared normalised, so
    /// `busybox` finds `docker.io/library/busybox:latest`), the one at `source_index` in
    /// `manifest.json`, or with neither, the only one. Returns its index and item.
    pub fn choose_manifest_item(
        &self,
        reference: Option<&Reference>,
        source_index: Option<usize>,
    ) -> Result<(usize, &ManifestItem)> {
        let count = self.manifest.len();
        match (reference, source_index) {
            (Some(_), Some(_)) => Err(Error::ReferenceAndIndex),
            (Some(r), None) => {
                let want = NameTag::from_reference(r)?;
                for (i, item) in self.manifest.iter().enumerate() {
                    for tag in &item.repo_tags {
                        if NameTag::parse(tag)? == want {
                            return Ok((i, item));
                        }
                    }
                }
                Err(Error::TagNotFound {
                    reference: want.repo_tag(),
                })
            }
            (None, Some(i)) => match self.manifest.get(i) {
                Some(item) => Ok((i, item)),
                None => Err(Error::IndexOutOfRange { index: i, count }),
            },
            (None, None) => match &self.manifest[..] {
                [] => Err(Error::NoImages),
                [only] => Ok((0, only)),
                _ => Err(Error::AmbiguousImage { count }),
            },
        }
    }
}

fn read_prefix(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|rest| !rest.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A reader over one entry's data.
pub struct EntryReader(Section);

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl std::fmt::Debug for EntryReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryReader").finish_non_exhaustive()
    }
}

/// Reads every header of the archive, jumping over entry data.
pub(crate) fn index_entries(storage: &Storage) -> Result<Vec<Entry>> {
    let len = storage
        .len()
        .map_err(|e| Error::io("reading the archive's length", e))?;
    let mut entries = Vec::new();
    let mut offset = 0u64;
    let mut first_header: Option<u64> = None;
    let mut long_name: Option<Vec<u8>> = None;
    let mut long_link: Option<Vec<u8>> = None;
    let mut pax = tar::Pax::default();
    let mut block = [0u8; 512];
    loop {
        if offset == len {
            // A clean end without the two zero blocks: accepted, as Go's reader does.
            if first_header.is_some() {
                return Err(Error::Truncated {
                    kind: TruncatedKind::Header,
                    offset,
                    len,
                });
            }
            break;
        }
        if offset + BLOCK > len {
            return Err(Error::Truncated {
                kind: TruncatedKind::Header,
                offset,
                len,
            });
        }
        storage
            .read_exact_at(&mut block, offset)
            .map_err(|e| Error::io(format!("reading the tar header at offset {offset}"), e))?;
        let Some(h) = tar::parse_header(&block, offset)? else {
            if first_header.is_some() {
                return Err(Error::BadHeader {
                    offset,
                    kind: BadHeaderKind::EndAfterExtendedHeader,
                });
            }
            break;
        };
        let data_offset = offset + BLOCK;
        let (name_for_errors, size) = match h.typeflag {
            b'L' | b'K' | b'x' | b'g' => ("extended header".to_owned(), h.size),
            _ => (
                String::from_utf8_lossy(&h.name).into_owned(),
                pax.size.unwrap_or(h.size),
            ),
        };
        let data_size = h.data_size(size);
        let next = data_offset
            .checked_add(data_size)
            .and_then(tar::padded)
            .ok_or_else(|| Error::BadHeader {
                offset,
                kind: BadHeaderKind::SizeOverflows,
            })?;
        if data_offset + data_size > len {
            return Err(Error::Truncated {
                kind: TruncatedKind::Entry {
                    name: clip(&name_for_errors),
                },
                offset,
                len,
            });
        }
        let read_data = |limit: u64| -> Result<Vec<u8>> {
            let mut data = vec![0u8; usize::try_from(limit).unwrap_or(usize::MAX)];
            storage.read_exact_at(&mut data, data_offset).map_err(|e| {
                Error::io(format!("reading the extended header at offset {offset}"), e)
            })?;
            Ok(data)
        };
        match h.typeflag {
            b'L' | b'K' => {
                tar::check_name_len(h.size, offset)?;
                let mut data = read_data(h.size)?;
                if let Some(end) = data.iter().position(|&b| b == 0) {
                    data.truncate(end);
                }
                first_header.get_or_insert(offset);
                if h.typeflag == b'L' {
                    long_name = Some(data);
                } else {
                    long_link = Some(data);
                }
            }
            b'x' => {
                if h.size > crate::limits::MAX_PAX_SIZE {
                    return Err(Error::BadHeader {
                        offset,
                        kind: BadHeaderKind::PaxTooLarge,
                    });
                }
                let data = read_data(h.size)?;
                let parsed = tar::parse_pax(&data, offset)?;
                first_header.get_or_insert(offset);
                pax.path = parsed.path.or(pax.path);
                pax.linkpath = parsed.linkpath.or(pax.linkpath);
                pax.size = parsed.size.or(pax.size);
            }
            b'g' => {
                // Global PAX headers hold nothing a docker archive needs.
            }
            _ => {
                if entries.len() >= MAX_ENTRIES {
                    return Err(Error::TooManyEntries { limit: MAX_ENTRIES });
                }
                let header_offset = first_header.take().unwrap_or(offset);
                let raw_name = pax
                    .path
                    .take()
                    .or(long_name.take())
                    .unwrap_or(h.name.clone());
                let raw_link = pax
                    .linkpath
                    .take()
                    .or(long_link.take())
                    .unwrap_or(h.link.clone());
                pax.size = None;
                tar::check_name_len(raw_name.len() as u64, offset)?;
                tar::check_name_len(raw_link.len() as u64, offset)?;
                let utf8 = |b: Vec<u8>| {
                    String::from_utf8(b).map_err(|e| Error::PathEscape {
                        path: clip(&String::from_utf8_lossy(e.as_bytes())),
                    })
                };
                let raw_name = utf8(raw_name)?;
                let kind = h.kind();
                let link_target = match kind {
                    EntryKind::Symlink | EntryKind::HardLink => Some(utf8(raw_link)?),
                    _ => None,
                };
                let name = normalize(&raw_name)?;
                entries.push(Entry {
                    name,
                    kind,
                    link_target,
                    header_offset,
                    data_offset,
                    size: data_size,
                });
            }
        }
        if next > len {
            // The data is all there but the padding after it is cut: Go's reader (so docker
            // load) and the tar crate refuse such an archive, and so do we.
            return Err(Error::Truncated {
                kind: TruncatedKind::Padding,
                offset: data_offset + data_size,
                len,
            });
        }
        offset = next;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;
    use crate::tar::{encode, Kind};

    fn archive(entries: &[(&str, Kind<'_>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, kind, data) in entries {
            let size = match kind {
                Kind::File(_) => data.len() as u64,
                Kind::Symlink(_) => 0,
            };
            let kind = match kind {
                Kind::File(_) => Kind::File(size),
                Kind::Symlink(t) => Kind::Symlink(t),
            };
            out.extend_from_slice(&encode(name, kind));
            out.extend_from_slice(data);
            out.resize(tar::padded(out.len() as u64).unwrap() as usize, 0);
        }
        out.resize(out.len() + 1024, 0);
        out
    }

    const MANIFEST: &[u8] = br#"[{"Config":"c.json","RepoTags":[],"Layers":["./l/layer.tar"]}]"#;

    #[test]
    fn indexes_and_resolves_links() {
        let a = archive(&[
            ("data.tar", Kind::File(0), b"layer bytes"),
            ("./l/layer.tar", Kind::Symlink("../data.tar"), b""),
            ("c.json", Kind::File(0), b"{}"),
            ("manifest.json", Kind::File(0), MANIFEST),
        ]);
        let r = Reader::from_bytes(a).unwrap();
        assert_eq!(r.entries().len(), 4);
        assert_eq!(r.entries()[1].name, "l/layer.tar");
        let mut s = String::new();
        r.open("l/layer.tar")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "layer bytes");
        assert_eq!(r.entry("./data.tar").unwrap().size, 11);
        assert!(matches!(r.entry("nope"), Err(Error::MissingEntry { .. })));
        assert!(matches!(
            r.entry("../data.tar"),
            Err(Error::PathEscape { .. })
        ));
        let (i, item) = r.choose_manifest_item(None, None).unwrap();
        assert_eq!((i, item.layers.len()), (0, 1));
        assert!(matches!(
            r.choose_manifest_item(None, Some(1)),
            Err(Error::IndexOutOfRange { index: 1, count: 1 })
        ));
    }

    #[test]
    fn refuses_loops_escapes_and_duplicates() {
        let a = archive(&[
            ("a", Kind::Symlink("b"), b""),
            ("b", Kind::Symlink("./a"), b""),
            ("out", Kind::Symlink("../../etc/passwd"), b""),
            ("manifest.json", Kind::File(0), MANIFEST),
        ]);
        let r = Reader::from_bytes(a).unwrap();
        assert!(matches!(r.entry("a"), Err(Error::LinkLoop { .. })));
        assert!(matches!(r.entry("out"), Err(Error::PathEscape { .. })));

        let dup = archive(&[
            ("x", Kind::File(0), b"1"),
            ("./x", Kind::File(0), b"2"),
            ("manifest.json", Kind::File(0), MANIFEST),
        ]);
        assert!(matches!(
            Reader::from_bytes(dup),
            Err(Error::DuplicateEntry { .. })
        ));
        let none = archive(&[("x", Kind::File(0), b"1")]);
        assert!(matches!(
            Reader::from_bytes(none),
            Err(Error::MissingManifest)
        ));
        let escape = archive(&[("../x", Kind::File(0), b"1")]);
        assert!(matches!(
            Reader::from_bytes(escape),
            Err(Error::PathEscape { .. })
        ));
    }

    #[test]
    fn truncated() {
        let a = archive(&[
            ("big", Kind::File(0), &[7u8; 2000]),
            ("manifest.json", Kind::File(0), MANIFEST),
        ]);
        for cut in [100, 512, 1500, 2600] {
            let r = Reader::from_bytes(a[..cut].to_vec());
            assert!(
                matches!(r, Err(Error::Truncated { .. })),
                "cut at {cut}: {r:?}"
            );
        }
    }

    #[test]
    fn an_archive_cut_inside_the_last_padding_is_truncated() {
        // Found by the differential fuzz target: ours accepted it, Go and the tar crate do not.
        let mut bytes = archive(&[("manifest.json", Kind::File(2), b"[]")]);
        bytes.truncate(512 + 2);
        assert!(matches!(
            index_entries(&Storage::Memory(bytes.into())),
            Err(Error::Truncated {
                kind: TruncatedKind::Padding,
                offset: 514,
                len: 514,
            })
        ));
    }
}
