//! Export: the merged filesystem of an image as one tar, without extracting it.

use std::collections::HashSet;
use std::io::{self, Read, Write};

use oci_partial::Image;
use tar::{EntryType, Header};

use crate::apply::{Options, Report, Warning, WarningKind};
use crate::error::{Error, Hostile, Result};
use crate::image::{layer_tar, layers, mismatch};
use crate::path::{special, RelPath, Special};

/// What upper layers (those already exported) decided about paths.
#[derive(Default)]
struct Seen {
    /// Paths an upper layer wrote; `true` for a directory.
    written: std::collections::HashMap<RelPath, bool>,
    /// Paths an upper layer whited out (hidden with all below).
    whiteouts: HashSet<RelPath>,
    /// Directories an upper layer made opaque (what is below is hidden).
    opaque: HashSet<RelPath>,
}

impl Seen {
    fn hides(&self, path: &RelPath) -> bool {
        if self.written.contains_key(path) || self.whiteouts.contains(path) {
            return true;
        }
        path.ancestors().any(|a| {
            let a = RelPath::parse(a, false).unwrap_or_else(|_| path.clone());
            self.whiteouts.contains(&a)
                || self.opaque.contains(&a)
                || self.written.get(&a) == Some(&false)
        })
    }
    fn count(&self) -> usize {
        self.written.len() + self.whiteouts.len() + self.opaque.len()
    }
}

/// Writes the filesystem `image` describes as one tar to `out` (`crane export`): layers are
/// read top-down, each once and streamed, and an entry is written unless an upper layer
/// hides it (wrote the same path, whited it out or a parent of it, made a parent opaque, or
/// replaced a parent by a non-directory). Whiteouts are not written. Memory grows with the
/// number of paths, not with bytes. Each layer is verified against its diff_id as it is
/// read; `out` has received a partial tar when that fails.
///
/// Names are written normalised (`./a` becomes `a`); PAX records other than names, sizes,
/// owners and times (xattrs among them) are kept. A hard link whose target an upper layer
/// hides is skipped with a [`WarningKind::LinkTargetHidden`] warning. Hostile entries
/// (`..`, absolute names) are errors, or skipped with [`Options::lenient`].
///
/// ```
/// let image = oci_partial::random::image(7, 2, 1024);
/// let mut tar = Vec::new();
/// let report = oci_unpack::export(image.as_ref(), &mut tar, &oci_unpack::Options::default())?;
/// assert!(report.entries > 0 && !tar.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export(image: &dyn Image, out: impl Write, opts: &Options) -> Result<Report> {
    let mut builder = tar::Builder::new(out);
    builder.mode(tar::HeaderMode::Complete);
    let mut seen = Seen::default();
    let mut report = Report::default();
    for (i, (layer, diff_id)) in layers(image)?.into_iter().enumerate().rev() {
        let tar = layer_tar(layer.as_ref(), &diff_id)?;
        export_layer(i, tar, &mut builder, &mut seen, &mut report, opts).map_err(mismatch)?;
    }
    builder
        .into_inner()
        .map_err(Error::Write)?
        .flush()
        .map_err(Error::Write)?;
    Ok(report)
}

fn export_layer<W: Write>(
    layer: usize,
    tar: Box<dyn Read + Send>,
    builder: &mut tar::Builder<W>,
    seen: &mut Seen,
    report: &mut Report,
    opts: &Options,
) -> Result<()> {
    let tar_err = |source| Error::Tar { layer, source };
    let mut archive = tar::Archive::new(tar);
    // What this layer decides applies to the layers below it only.
    let mut here = Seen::default();
    for entry in archive.entries().map_err(tar_err)? {
        let mut entry = entry.map_err(tar_err)?;
        report.entries += 1;
        let name = entry.path_bytes().into_owned();
        let entry_name = || String::from_utf8_lossy(&name).into_owned();
        let hostile = |kind, report: &mut Report| {
            if opts.lenient {
                report.warnings.push(Warning {
                    layer,
                    entry: entry_name(),
                    kind: WarningKind::Skipped(kind),
                });
                Ok(())
            } else {
                Err(Error::Hostile {
                    layer,
                    entry: entry_name(),
                    kind,
                })
            }
        };
        if report.entries > opts.max_entries as u64
            || seen.count() + here.count() > opts.max_entries
        {
            return Err(Error::Hostile {
                layer,
                entry: entry_name(),
                kind: Hostile::TooManyEntries,
            });
        }
        let etype = entry.header().entry_type();
        if matches!(
            etype,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            continue;
        }
        let path = match RelPath::parse(&name, false) {
            Ok(p) => p,
            Err(k) => {
                hostile(k, report)?;
                continue;
            }
        };
        let (parent, leaf) = path.split_last();
        if !path.is_root() {
            match special(leaf) {
                Err(k) => {
                    hostile(k, report)?;
                    continue;
                }
                Ok(Special::AufsMeta) => continue,
                Ok(Special::Opaque) => {
                    here.opaque.insert(parent);
                    continue;
                }
                Ok(Special::Whiteout(target)) => {
                    here.whiteouts.insert(parent.join(target));
                    continue;
                }
                Ok(Special::None) => {}
            }
        }
        if seen.hides(&path) {
            // Hidden, but a non-directory here still removed what lower layers had below
            // it (when unpacked, it replaced their directory): that stays hidden too.
            if !etype.is_dir() && seen.written.contains_key(&path) {
                here.opaque.insert(path);
            }
            continue;
        }
        let mut header = Header::new_gnu();
        let h = entry.header();
        let kind = match etype {
            EntryType::GNUSparse | EntryType::Continuous => EntryType::Regular,
            k => k,
        };
        if !(kind.is_file()
            || kind.is_dir()
            || kind.is_symlink()
            || kind.is_hard_link()
            || kind.is_fifo()
            || kind.is_character_special()
            || kind.is_block_special())
        {
            report.warnings.push(Warning {
                layer,
                entry: entry_name(),
                kind: WarningKind::UnsupportedType(etype.as_byte()),
            });
            continue;
        }
        header.set_entry_type(kind);
        header.set_mode(h.mode().map_err(tar_err)? & 0o7777);
        header.set_uid(h.uid().map_err(tar_err)?);
        header.set_gid(h.gid().map_err(tar_err)?);
        header.set_mtime(h.mtime().unwrap_or(0));
        if let Some(u) = h.username_bytes() {
            let _ = header.set_username(&String::from_utf8_lossy(u));
        }
        if let Some(g) = h.groupname_bytes() {
            let _ = header.set_groupname(&String::from_utf8_lossy(g));
        }
        if kind.is_character_special() || kind.is_block_special() {
            header
                .set_device_major(h.device_major().map_err(tar_err)?.unwrap_or(0))
                .map_err(tar_err)?;
            header
                .set_device_minor(h.device_minor().map_err(tar_err)?.unwrap_or(0))
                .map_err(tar_err)?;
        }
        let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(exts) = entry.pax_extensions().map_err(tar_err)? {
            for ext in exts {
                let ext = ext.map_err(tar_err)?;
                let Ok(key) = ext.key() else { continue };
                if key.starts_with("SCHILY.") || key.starts_with("LIBARCHIVE.") {
                    pax.push((key.to_owned(), ext.value_bytes().to_vec()));
                } else if matches!(key, "uid" | "gid") {
                    let v = ext.value().ok().and_then(|v| v.parse::<u64>().ok());
                    if let Some(v) = v {
                        if key == "uid" {
                            header.set_uid(v)
                        } else {
                            header.set_gid(v)
                        }
                    }
                }
            }
        }
        let write_err = Error::Write;
        if !pax.is_empty() {
            builder
                .append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
                .map_err(write_err)?;
        }
        let bytes_name = path.as_bytes().to_vec();
        let name_os = name_path(if path.is_root() { b"./" } else { &bytes_name });
        if kind.is_hard_link() || kind.is_symlink() {
            let target = entry
                .link_name_bytes()
                .map(|t| t.into_owned())
                .unwrap_or_default();
            let target = if kind.is_hard_link() {
                match RelPath::parse(&target, true) {
                    Ok(t) if !t.is_root() => {
                        if seen.hides(&t) {
                            report.warnings.push(Warning {
                                layer,
                                entry: entry_name(),
                                kind: WarningKind::LinkTargetHidden,
                            });
                            continue;
                        }
                        t.as_bytes().to_vec()
                    }
                    Ok(_) => {
                        hostile(Hostile::LinkTarget, report)?;
                        continue;
                    }
                    Err(k) => {
                        hostile(k, report)?;
                        continue;
                    }
                }
            } else {
                target
            };
            header.set_size(0);
            builder
                .append_link(&mut header, name_os, name_path(&target))
                .map_err(write_err)?;
        } else if kind.is_file() {
            header.set_size(entry.size());
            builder
                .append_data(&mut header, name_os, &mut entry)
                .map_err(|e| {
                    // A read error of the layer (a digest mismatch) is the layer's, not the output's.
                    match oci_types::Error::from_io(e) {
                        oci_types::Error::Io(e) => Error::Write(e),
                        layer => tar_err(layer.into_io()),
                    }
                })?;
        } else {
            header.set_size(0);
            builder
                .append_data(&mut header, name_os, io::empty())
                .map_err(write_err)?;
        }
        here.written.insert(path, kind.is_dir());
    }
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(tar_err)?;
    let Seen {
        written,
        whiteouts,
        opaque,
    } = here;
    seen.written.extend(written);
    seen.whiteouts.extend(whiteouts);
    seen.opaque.extend(opaque);
    Ok(())
}

/// A name for the tar builder (which takes paths): bytes as an `OsStr`.
fn name_path(bytes: &[u8]) -> &std::path::Path {
    use std::os::unix::ffi::OsStrExt;
    std::path::Path::new(std::ffi::OsStr::from_bytes(bytes))
}
