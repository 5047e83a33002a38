//! Differential: our tar indexer (what `oci_tarfile::Reader` builds before it looks for
//! `manifest.json`) against the `tar` crate on the same bytes. When both accept, they must
//! list the same entries: name (normalised as ours are), kind, link target, data offset and
//! size. When ours accepts what the `tar` crate finds cut short, ours is too lenient: a
//! failure. Ours may refuse what the `tar` crate takes (names over the limits, paths that climb out,
//! non-UTF-8 names, duplicate names are refused on purpose).
//!
//! Differences by design: a header whose checksum is the signed sum of its bytes is
//! accepted by ours, as Go's `archive/tar` (and Python's `tarfile`) accept it, while the
//! `tar` crate takes the unsigned sum only; likewise an empty numeric field, which Go reads as 0.
//! So only an archive the `tar` crate finds cut short fails the target when it refuses what
//! ours accepts, and not when a link or directory header carries a size (Go and ours give it
//! no data; the tar crate skips that many bytes): when the tar crate accepts such an archive,
//! the entries are compared up to that one only. And a GNU
//! long name ends at its first NUL for ours, Go and Python; the `tar` crate keeps what follows,
//! so its names are cut there before they are compared.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_tarfile::fuzzing::index_entries;
use oci_tarfile::EntryKind;

/// What both readers say of one entry.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    name: String,
    kind: EntryKind,
    link: Option<String>,
    data_offset: u64,
    size: u64,
}

/// Our reader's normalisation: `.` and empty components dropped, `..` pops (never above
/// the root, which ours refuses).
fn normalize(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn kind_of(typeflag: u8) -> EntryKind {
    match typeflag {
        b'0' | 0 | b'7' => EntryKind::File,
        b'1' => EntryKind::HardLink,
        b'2' => EntryKind::Symlink,
        b'5' => EntryKind::Directory,
        other => EntryKind::Other(other),
    }
}

/// True when some 512-byte block of `bytes` looks like the header of a link, a directory or a
/// special file with a size: Go and ours give such entries no data; the tar crate skips the
/// size's bytes, and so may run past the end.
fn has_sized_header_only_entry(bytes: &[u8]) -> bool {
    bytes.chunks_exact(512).any(|block| {
        let size = block[124..136]
            .iter()
            .any(|&b| (b'1'..=b'7').contains(&b) || b >= 0x80);
        (b'1'..=b'6').contains(&block[156]) && size
    })
}

/// The bytes before the first NUL.
fn to_nul(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or(bytes)
}

/// How far the `tar` crate's list can be compared with ours.
enum Listed {
    /// Every entry of the archive.
    All(Vec<Seen>),
    /// The entries up to and including a link, directory or special file whose size field is
    /// not zero. Go's `archive/tar` (`isHeaderOnlyType` in `reader.go`) and ours give such an
    /// entry no data, so the next header follows it directly; the `tar` crate skips the
    /// size's bytes first, so from there on it reads other blocks as headers than Go does.
    UpToSizedHeaderOnly(Vec<Seen>),
}

/// The `tar` crate's entries, or why it (or turning its names into text) refused.
fn theirs(bytes: &[u8]) -> Result<Listed, String> {
    let mut archive = tar::Archive::new(bytes);
    let mut seen = Vec::new();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        // A PAX record's value is taken whole by every reader (NULs included); a GNU long
        // name ends at its first NUL for all but the tar crate.
        let mut pax_keys: Vec<String> = Vec::new();
        if let Ok(Some(exts)) = entry.pax_extensions() {
            for ext in exts {
                // The tar crate splits records at newlines; a value holding one (length-
                // delimited, as Go and ours read it) is a record it cannot parse.
                let ext = ext.map_err(|_| "oracle: a PAX record the tar crate cannot parse")?;
                if let Ok(key) = ext.key() {
                    pax_keys.push(key.to_owned());
                }
            }
        }
        let gnu = |bytes: &[u8], key: &str| -> Vec<u8> {
            if pax_keys.iter().any(|k| k == key) {
                bytes.to_vec()
            } else {
                to_nul(bytes).to_vec()
            }
        };
        let typeflag = entry.header().entry_type().as_byte();
        if typeflag == b'g' {
            continue; // global PAX headers: skipped by ours, listed by the tar crate
        }
        if matches!(typeflag, b'x' | b'L' | b'K') {
            // A second extended header in a row: Go and ours merge them into the next entry;
            // the tar crate lists it as an entry and attributes names differently.
            return Err("oracle: consecutive extended headers".into());
        }
        let name = String::from_utf8(gnu(&entry.path_bytes(), "path"))
            .map_err(|_| "oracle: a name that is not UTF-8".to_owned())?;
        let kind = kind_of(typeflag);
        let link = match kind {
            EntryKind::Symlink | EntryKind::HardLink => Some(
                String::from_utf8(
                    entry
                        .link_name_bytes()
                        .map(|l| gnu(&l, "linkpath"))
                        .unwrap_or_default(),
                )
                .map_err(|_| "oracle: a link that is not UTF-8".to_owned())?,
            ),
            _ => None,
        };
        let header_only = matches!(typeflag, b'1'..=b'6');
        seen.push(Seen {
            name: normalize(&name).ok_or("oracle: a name above the root")?,
            kind,
            link,
            data_offset: entry.raw_file_position(),
            size: if header_only { 0 } else { entry.size() },
        });
        if header_only && entry.size() != 0 {
            return Ok(Listed::UpToSizedHeaderOnly(seen));
        }
    }
    Ok(Listed::All(seen))
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(ours) = index_entries(bytes) else {
        return;
    };
    let ours: Vec<Seen> = ours
        .into_iter()
        .map(|e| Seen {
            name: e.name,
            kind: e.kind,
            link: e.link_target,
            data_offset: e.data_offset,
            size: e.size,
        })
        .collect();
    match theirs(bytes) {
        Ok(Listed::All(theirs)) => assert_eq!(ours, theirs, "the two readers disagree"),
        Ok(Listed::UpToSizedHeaderOnly(theirs)) => assert_eq!(
            ours.get(..theirs.len()),
            Some(theirs.as_slice()),
            "the two readers disagree before a header-only entry with a size"
        ),
        // The tar crate is stricter than Go (and Python) in ways ours follows Go on: a
        // signed checksum, an empty or blank numeric field (Go reads 0). What ours must
        // never accept is an archive that ends early.
        Err(why) if has_sized_header_only_entry(bytes) => drop(why),
        Err(why) if why.contains("EOF") || why.contains("truncated") => panic!(
            "ours accepts {} entries of an archive the tar crate finds cut short: {why}",
            ours.len()
        ),
        Err(_) => {}
    }
});
