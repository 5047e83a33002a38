//! Differential: our tar indexer (what `oci_tarfile::Reader` builds before it looks for
//! `manifest.json`) against the `tar` crate on the same bytes. When both accept, they must
//! list the same entries: name (normalised as ours are), kind, link target, data offset and
//! size. When ours accepts and the `tar` crate refuses, ours is too lenient: a failure. Ours
//! may refuse what the `tar` crate takes (names over the limits, paths that climb out,
//! non-UTF-8 names, duplicate names are refused on purpose).
//!
//! One difference is by design: a header whose checksum is the signed sum of its bytes is
//! accepted by ours, as Go's `archive/tar` (and Python's `tarfile`) accept it; the `tar`
//! crate takes the unsigned sum only. Inputs with such a header are not compared. And a GNU
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

/// True when some 512-byte block of `bytes` is a header whose stored checksum matches the
/// signed sum of its bytes but not the unsigned one.
fn has_signed_only_checksum(bytes: &[u8]) -> bool {
    bytes.chunks_exact(512).any(|block| {
        let field = &block[148..156];
        let text: String = field
            .iter()
            .map(|&b| b as char)
            .filter(|c| c.is_digit(8))
            .collect();
        let Ok(stored) = i64::from_str_radix(&text, 8) else {
            return false;
        };
        let (mut unsigned, mut signed) = (0i64, 0i64);
        for (i, &b) in block.iter().enumerate() {
            let b = if (148..156).contains(&i) { b' ' } else { b };
            unsigned += i64::from(b);
            signed += i64::from(b as i8);
        }
        stored == signed && stored != unsigned
    })
}

/// The bytes before the first NUL.
fn to_nul(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or(bytes)
}

fn theirs(bytes: &[u8]) -> Option<Vec<Seen>> {
    let mut archive = tar::Archive::new(bytes);
    let mut seen = Vec::new();
    for entry in archive.entries().ok()? {
        let entry = entry.ok()?;
        let typeflag = entry.header().entry_type().as_byte();
        if typeflag == b'g' {
            continue; // global PAX headers: skipped by ours, listed by the tar crate
        }
        let name = String::from_utf8(to_nul(&entry.path_bytes()).to_vec()).ok()?;
        let kind = kind_of(typeflag);
        let link = match kind {
            EntryKind::Symlink | EntryKind::HardLink => Some(
                String::from_utf8(
                    entry
                        .link_name_bytes()
                        .map(|l| to_nul(&l).to_vec())
                        .unwrap_or_default(),
                )
                .ok()?,
            ),
            _ => None,
        };
        let header_only = matches!(typeflag, b'1'..=b'6');
        seen.push(Seen {
            name: normalize(&name)?,
            kind,
            link,
            data_offset: entry.raw_file_position(),
            size: if header_only { 0 } else { entry.size() },
        });
    }
    Some(seen)
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
        Some(theirs) => assert_eq!(ours, theirs, "the two readers disagree"),
        None if has_signed_only_checksum(bytes) => {}
        None => panic!("ours accepts {} entries the tar crate refuses", ours.len()),
    }
});
