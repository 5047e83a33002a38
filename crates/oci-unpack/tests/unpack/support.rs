//! Layers and images built in the tests: raw tar headers (so hostile names go in as they
//! are), images held in memory, and a tree snapshot to compare directories.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::sync::Arc;

use oci_partial::{BlobReader, Image, Layer};
use oci_types::{Digest, MediaType};

/// One tar entry.
pub(crate) enum E<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str, u32),
    Sym(&'a str, &'a str),
    Hard(&'a str, &'a str),
    Fifo(&'a str),
    /// A file with `user.*` xattrs in a PAX header.
    Xattr(&'a str, &'a [u8], &'a str, &'a [u8]),
    /// A GNU sparse file claiming `real` bytes with no data.
    Sparse(&'a str, u64),
    /// A regular file whose header claims `size` bytes that are not there.
    Claim(&'a str, u64),
}

fn put(field: &mut [u8], bytes: &[u8]) {
    field.fill(0);
    field[..bytes.len()].copy_from_slice(bytes);
}

/// A numeric field: octal, or GNU's base-256 when it does not fit.
fn octal(field: &mut [u8], n: u64) {
    let s = format!("{:0w$o}", n, w = field.len() - 1);
    if s.len() < field.len() {
        put(field, s.as_bytes());
    } else {
        field.fill(0);
        field[0] = 0x80;
        let len = field.len();
        field[len - 8..].copy_from_slice(&n.to_be_bytes());
    }
}

fn header(name: &str, kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    put(&mut h.as_old_mut().name, name.as_bytes()); // unchecked: hostile names go in as given
    h.set_cksum();
    h
}

fn link(name: &str, kind: tar::EntryType, target: &str) -> tar::Header {
    let mut h = header(name, kind, 0, 0o777);
    put(&mut h.as_old_mut().linkname, target.as_bytes());
    h.set_cksum();
    h
}

/// A tar of `entries`.
pub(crate) fn tar(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(n, data, mode) => b
                .append(
                    &header(n, tar::EntryType::Regular, data.len() as u64, *mode),
                    *data,
                )
                .unwrap(),
            E::Dir(n, mode) => b
                .append(&header(n, tar::EntryType::Directory, 0, *mode), &[][..])
                .unwrap(),
            E::Sym(n, t) => b
                .append(&link(n, tar::EntryType::Symlink, t), &[][..])
                .unwrap(),
            E::Hard(n, t) => b
                .append(&link(n, tar::EntryType::Link, t), &[][..])
                .unwrap(),
            E::Fifo(n) => b
                .append(&header(n, tar::EntryType::Fifo, 0, 0o644), &[][..])
                .unwrap(),
            E::Xattr(n, data, k, v) => {
                b.append_pax_extensions([(format!("SCHILY.xattr.{k}").as_str(), *v)])
                    .unwrap();
                b.append(
                    &header(n, tar::EntryType::Regular, data.len() as u64, 0o644),
                    *data,
                )
                .unwrap()
            }
            E::Sparse(n, real) => {
                let mut h = header(n, tar::EntryType::GNUSparse, 512, 0o644);
                let g = h.as_gnu_mut().unwrap();
                octal(&mut g.realsize, *real);
                octal(&mut g.sparse[0].offset, real - 512);
                octal(&mut g.sparse[0].numbytes, 512);
                h.set_cksum();
                b.append(&h, &[1u8; 512][..]).unwrap();
            }
            E::Claim(n, size) => {
                let h = header(n, tar::EntryType::Regular, *size, 0o644);
                b.get_mut().extend_from_slice(h.as_bytes());
                b.get_mut().extend_from_slice(&[7u8; 4096]);
                return b.into_inner().unwrap(); // truncated: no end blocks either
            }
        }
    }
    b.into_inner().unwrap()
}

/// An uncompressed layer held in memory.
pub(crate) struct Mem {
    tar: Vec<u8>,
    gzip: bool,
    diff_id: Digest,
}

impl Layer for Mem {
    fn digest(&self) -> oci_partial::Result<Digest> {
        Ok(Digest::sha256(&self.blob()))
    }
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        Ok(self.diff_id.clone())
    }
    fn compressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(Box::new(Cursor::new(self.blob())))
    }
    fn uncompressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(Box::new(Cursor::new(self.tar.clone())))
    }
    fn size(&self) -> oci_partial::Result<u64> {
        Ok(self.blob().len() as u64)
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(if self.gzip {
            MediaType::OciLayerGzip
        } else {
            MediaType::OciLayer
        })
    }
}

impl Mem {
    fn blob(&self) -> Vec<u8> {
        if self.gzip {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&self.tar).unwrap();
            e.finish().unwrap()
        } else {
            self.tar.clone()
        }
    }
}

/// An image of gzip layers in memory; `diff_ids` override the config's when given.
pub(crate) struct MemImage {
    layers: Vec<Arc<Mem>>,
}

impl MemImage {
    pub(crate) fn of(tars: Vec<Vec<u8>>) -> Arc<dyn Image> {
        Self::with_diff_ids(tars, None)
    }
    pub(crate) fn with_diff_ids(
        tars: Vec<Vec<u8>>,
        diff_ids: Option<Vec<Digest>>,
    ) -> Arc<dyn Image> {
        let layers = tars
            .into_iter()
            .enumerate()
            .map(|(i, tar)| {
                let diff_id = diff_ids
                    .as_ref()
                    .map_or_else(|| Digest::sha256(&tar), |d| d[i].clone());
                Arc::new(Mem {
                    tar,
                    gzip: true,
                    diff_id,
                })
            })
            .collect();
        Arc::new(MemImage { layers })
    }
}

impl Image for MemImage {
    fn layers(&self) -> oci_partial::Result<Vec<Arc<dyn Layer>>> {
        Ok(self
            .layers
            .iter()
            .map(|l| l.clone() as Arc<dyn Layer>)
            .collect())
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(MediaType::OciManifest)
    }
    fn raw_config_file(&self) -> oci_partial::Result<Vec<u8>> {
        let ids: Vec<String> = self
            .layers
            .iter()
            .map(|l| format!("\"{}\"", l.diff_id))
            .collect();
        Ok(format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
            ids.join(",")
        )
        .into_bytes())
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        Err(oci_partial::Error::Unsupported {
            kind: oci_partial::UnsupportedKind::NotProvided {
                method: "raw_manifest",
            },
        })
    }
    fn layer_by_digest(&self, _: &Digest) -> oci_partial::Result<Arc<dyn Layer>> {
        Err(oci_partial::Error::Unsupported {
            kind: oci_partial::UnsupportedKind::NotProvided {
                method: "layer_by_digest",
            },
        })
    }
    fn layer_by_diff_id(&self, _: &Digest) -> oci_partial::Result<Arc<dyn Layer>> {
        Err(oci_partial::Error::Unsupported {
            kind: oci_partial::UnsupportedKind::NotProvided {
                method: "layer_by_diff_id",
            },
        })
    }
}

/// What a tree holds, per relative path: kind, mode, link target or content, and which
/// paths share an inode (hard links), to compare two trees.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Tree {
    pub(crate) entries: BTreeMap<String, String>,
    pub(crate) links: Vec<Vec<String>>,
}

pub(crate) fn tree(root: &Path) -> Tree {
    let mut entries = BTreeMap::new();
    let mut inodes: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    walk(root, root, &mut entries, &mut inodes);
    let links = inodes.into_values().filter(|v| v.len() > 1).collect();
    Tree { entries, links }
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, String>,
    inodes: &mut BTreeMap<u64, Vec<String>>,
) {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let m = p.symlink_metadata().unwrap();
        let ft = m.file_type();
        let mode = m.mode() & 0o7777;
        let desc = if ft.is_dir() {
            walk(root, &p, out, inodes);
            format!("dir {mode:o}")
        } else if ft.is_symlink() {
            format!("symlink -> {}", std::fs::read_link(&p).unwrap().display())
        } else if ft.is_file() {
            inodes.entry(m.ino()).or_default().push(rel.clone());
            let xattr = xattrs(&p);
            format!(
                "file {mode:o} {} {xattr}",
                Digest::sha256(&std::fs::read(&p).unwrap())
            )
        } else if ft.is_fifo() {
            format!("fifo {mode:o}")
        } else {
            format!("other {mode:o}")
        };
        out.insert(rel, desc);
    }
}

/// The `user.*` xattrs of a file, `name=value` sorted.
fn xattrs(p: &Path) -> String {
    let mut buf = vec![0u8; 64 << 10];
    let n = rustix::fs::llistxattr(p, &mut buf[..]).unwrap_or(0);
    let mut names: Vec<Vec<u8>> = buf[..n]
        .split(|&b| b == 0)
        .filter(|n| n.starts_with(b"user."))
        .map(<[u8]>::to_vec)
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            let mut v = vec![0u8; 64 << 10];
            let len = rustix::fs::lgetxattr(p, n.as_slice(), &mut v[..]).unwrap_or(0);
            format!(
                "{}={}",
                String::from_utf8_lossy(n),
                String::from_utf8_lossy(&v[..len])
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Names in `dir`, sorted.
pub(crate) fn ls(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
