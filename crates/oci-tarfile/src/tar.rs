//! The tar format, as much of it as docker archives need: reading headers (ustar, GNU long
//! names, PAX `path`/`linkpath`/`size` records, base-256 numbers) and writing deterministic
//! ustar headers the way Go's `archive/tar` writes them (so archives match skopeo's bytes).
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use crate::error::{BadHeaderKind, PaxRecordError};
use crate::limits::{MAX_NAME_LEN, MAX_PAX_SIZE};
use crate::{Error, Result};

/// The size of a tar block.
pub(crate) const BLOCK: u64 = 512;

/// The header block of an entry written before its name and size are known: a layer streamed
/// in one pass is named after its digest and sized by its end. A zero block holds the place
/// ([`PendingHeader::begin`]), the data follows, and the real header is written over it once
/// both are known ([`PendingHeader::finish`]). Until then the archive ends in an entry no
/// reader accepts (a zero block is an end-of-archive marker), so a writer that stops half-way
/// leaves no entry that looks complete; the caller cuts back to [`PendingHeader::start`] to
/// undo it.
#[derive(Debug)]
pub(crate) struct PendingHeader {
    start: u64,
}

impl PendingHeader {
    /// An entry to begin at offset `start` of the archive (its current end).
    pub(crate) fn at(start: u64) -> Self {
        PendingHeader { start }
    }

    /// Writes the placeholder block to `out`, positioned at [`PendingHeader::start`].
    pub(crate) fn begin(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(&[0u8; BLOCK as usize])
    }

    /// Where the entry begins: the offset to cut the archive back to, to undo it.
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// Writes `header` over the placeholder, then moves back to `end` (the end of the entry's
    /// padded data, where the next entry goes).
    pub(crate) fn finish<W: std::io::Write + std::io::Seek>(
        self,
        out: &mut W,
        header: &[u8; BLOCK as usize],
        end: u64,
    ) -> std::io::Result<()> {
        out.seek(std::io::SeekFrom::Start(self.start))?;
        out.write_all(header)?;
        out.seek(std::io::SeekFrom::Start(end))?;
        Ok(())
    }
}

/// The kind of an archive entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file (typeflag `0`, NUL or `7`).
    File,
    /// A hard link to an earlier entry (typeflag `1`); its target is relative to the root.
    HardLink,
    /// A symbolic link (typeflag `2`); a relative target is relative to the link's directory.
    Symlink,
    /// A directory (typeflag `5`).
    Directory,
    /// Anything else (devices, FIFOs, GNU sparse files...), with its typeflag.
    Other(u8),
}

impl EntryKind {
    fn from_typeflag(t: u8) -> EntryKind {
        match t {
            b'0' | 0 | b'7' => EntryKind::File,
            b'1' => EntryKind::HardLink,
            b'2' => EntryKind::Symlink,
            b'5' => EntryKind::Directory,
            other => EntryKind::Other(other),
        }
    }

    /// A short name for errors.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            EntryKind::File => "regular file",
            EntryKind::HardLink => "hard link",
            EntryKind::Symlink => "symbolic link",
            EntryKind::Directory => "directory",
            EntryKind::Other(_) => "special file",
        }
    }

    /// Entries of these kinds have no data, whatever their size field says (as Go reads them).
    fn header_only(t: u8) -> bool {
        matches!(t, b'1' | b'2' | b'3' | b'4' | b'5' | b'6')
    }
}

/// One parsed header block, before long names and PAX records are applied.
pub(crate) struct Header {
    pub(crate) typeflag: u8,
    pub(crate) name: Vec<u8>,
    pub(crate) link: Vec<u8>,
    /// The size field: how many data bytes follow the header (rounded up to blocks).
    pub(crate) size: u64,
}

impl Header {
    /// The kind of entry this header starts.
    pub(crate) fn kind(&self) -> EntryKind {
        EntryKind::from_typeflag(self.typeflag)
    }

    /// How many data bytes follow (zero for header-only kinds, as Go's reader).
    pub(crate) fn data_size(&self, size: u64) -> u64 {
        if EntryKind::header_only(self.typeflag) {
            0
        } else {
            size
        }
    }
}

/// Parses a header block; `None` for an all-zero block (the end-of-archive marker).
pub(crate) fn parse_header(block: &[u8; 512], offset: u64) -> Result<Option<Header>> {
    if block.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let bad = |kind: BadHeaderKind| Error::BadHeader { offset, kind };
    let stored =
        parse_numeric(&block[148..156]).ok_or_else(|| bad(BadHeaderKind::UnreadableChecksum))?;
    let (unsigned, signed) = checksums(block);
    if stored != unsigned && i64::try_from(stored).ok() != Some(signed) {
        return Err(bad(BadHeaderKind::ChecksumMismatch));
    }
    let size = parse_numeric(&block[124..136]).ok_or_else(|| bad(BadHeaderKind::UnreadableSize))?;
    let typeflag = block[156];
    let mut name = cstr(&block[0..100]).to_vec();
    // POSIX ustar ("ustar\0" version "00") keeps a name prefix; GNU ("ustar  \0") uses that
    // space otherwise. Like Go's reader, a ustar magic with another version is neither, and its
    // prefix field is not part of the name.
    if &block[257..263] == b"ustar\0" && &block[263..265] == b"00" {
        let prefix = cstr(&block[345..500]);
        if !prefix.is_empty() {
            let mut full = prefix.to_vec();
            full.push(b'/');
            full.extend_from_slice(&name);
            name = full;
        }
    }
    let link = cstr(&block[157..257]).to_vec();
    Ok(Some(Header {
        typeflag,
        name,
        link,
        size,
    }))
}

/// The bytes up to the first NUL.
fn cstr(field: &[u8]) -> &[u8] {
    match field.iter().position(|&b| b == 0) {
        Some(i) => field.get(..i).unwrap_or(field),
        None => field,
    }
}

fn checksums(block: &[u8; 512]) -> (u64, i64) {
    let mut unsigned = 0u64;
    let mut signed = 0i64;
    for (i, &b) in block.iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    (unsigned, signed)
}

/// A numeric field: octal text (spaces and NULs around it allowed) or GNU base-256.
fn parse_numeric(field: &[u8]) -> Option<u64> {
    if let Some(&first) = field.first() {
        if first & 0x80 != 0 {
            if first == 0xff {
                return None; // negative
            }
            let mut v: u64 = u64::from(first & 0x7f);
            for &b in field.iter().skip(1) {
                v = v.checked_mul(256)?.checked_add(u64::from(b))?;
            }
            return Some(v);
        }
    }
    let trimmed: &[u8] = {
        let start = field
            .iter()
            .position(|&b| b != b' ' && b != 0)
            .unwrap_or(field.len());
        let end = field
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(start, |e| e + 1);
        field.get(start..end.max(start)).unwrap_or_default()
    };
    let mut v: u64 = 0;
    for &b in trimmed {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// Checks a long name (GNU `L`/`K`, PAX value) against [`MAX_NAME_LEN`].
pub(crate) fn check_name_len(len: u64, offset: u64) -> Result<()> {
    if len > MAX_NAME_LEN as u64 + 1 {
        return Err(Error::NameTooLong {
            offset,
            len,
            limit: MAX_NAME_LEN,
        });
    }
    Ok(())
}

/// The PAX records docker archives can need.
#[derive(Default)]
pub(crate) struct Pax {
    pub(crate) path: Option<Vec<u8>>,
    pub(crate) linkpath: Option<Vec<u8>>,
    pub(crate) size: Option<u64>,
}

/// Parses PAX extended header data (`"%d %s=%s\n"` records), keeping `path`, `linkpath` and
/// `size` and ignoring the rest.
pub(crate) fn parse_pax(data: &[u8], offset: u64) -> Result<Pax> {
    let bad = |e: PaxRecordError| Error::BadHeader {
        offset,
        kind: BadHeaderKind::PaxRecord(e),
    };
    if data.len() as u64 > MAX_PAX_SIZE {
        return Err(bad(PaxRecordError::TooLarge));
    }
    let mut pax = Pax::default();
    let mut rest = data;
    while !rest.is_empty() {
        // Trailing NUL padding ends the records.
        if rest.iter().all(|&b| b == 0) {
            break;
        }
        let sp = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| bad(PaxRecordError::NoLength))?;
        let len: usize = rest
            .get(..sp)
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(PaxRecordError::BadLength))?;
        if len <= sp + 1 {
            return Err(bad(PaxRecordError::BadLength));
        }
        // `len` counts the whole record: "LEN key=value\n".
        let Some([record @ .., b'\n']) = rest.get(sp + 1..len) else {
            return Err(bad(PaxRecordError::BadLength));
        };
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| bad(PaxRecordError::NoEquals))?;
        let (key, value) = record.split_at(eq);
        let value = value.get(1..).unwrap_or_default();
        match key {
            b"path" => {
                check_name_len(value.len() as u64, offset)?;
                pax.path = Some(value.to_vec());
            }
            b"linkpath" => {
                check_name_len(value.len() as u64, offset)?;
                pax.linkpath = Some(value.to_vec());
            }
            b"size" => {
                let s = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok());
                pax.size = Some(s.ok_or_else(|| bad(PaxRecordError::BadSize))?);
            }
            _ => {}
        }
        rest = rest.get(len..).unwrap_or_default();
    }
    Ok(pax)
}

/// Rounds `n` up to a whole number of blocks.
pub(crate) fn padded(n: u64) -> Option<u64> {
    n.checked_add(BLOCK - 1).map(|v| v / BLOCK * BLOCK)
}

/// What a header written by [`encode`] describes.
pub(crate) enum Kind<'a> {
    /// A regular file of mode 0444 and this many bytes.
    File(u64),
    /// A symbolic link (mode 0) to this target.
    Symlink(&'a str),
}

/// Encodes the header(s) for an entry the way Go's `archive/tar` does for skopeo: ustar, mtime
/// 0, owner 0:0 without names. A name that does not fit ustar (even split into prefix and
/// name) or a long link target gets a PAX header first; a size of 8 GiB or more is written in
/// base-256, so a header always takes one block when the name fits (see [`encode_fixed`]).
pub(crate) fn encode(name: &str, kind: Kind<'_>) -> Vec<u8> {
    let (size, link, typeflag, mode) = match kind {
        Kind::File(size) => (size, "", b'0', 0o444),
        Kind::Symlink(target) => (0, target, b'2', 0),
    };
    let split = split_ustar(name);
    let mut out = Vec::with_capacity(1024);
    if split.is_none() || link.len() > 100 {
        let mut records = Vec::new();
        if split.is_none() {
            records.extend_from_slice(&pax_record("path", name));
        }
        if link.len() > 100 {
            records.extend_from_slice(&pax_record("linkpath", link));
        }
        let base = name.rsplit('/').next().unwrap_or(name);
        let pax_name: String = format!("PaxHeaders.0/{base}").chars().take(100).collect();
        let mut pax_name = pax_name;
        while pax_name.len() > 100 {
            pax_name.pop();
        }
        out.extend_from_slice(&block(("", &pax_name), b'x', 0, records.len() as u64, ""));
        out.extend_from_slice(&records);
        let pad = padded(records.len() as u64).unwrap_or(0) - records.len() as u64;
        out.resize(out.len() + pad as usize, 0);
    }
    let (prefix, short) = split.unwrap_or(("", truncate(name, 100)));
    out.extend_from_slice(&block(
        (prefix, short),
        typeflag,
        mode,
        size,
        truncate(link, 100),
    ));
    out
}

/// The one-block header of a regular file whose name fits ustar without a prefix (as the
/// digest-named files this crate writes do), for headers patched after their data is written.
pub(crate) fn encode_fixed(name: &str, size: u64) -> Option<[u8; 512]> {
    if name.len() > 100 {
        return None;
    }
    Some(block(("", name), b'0', 0o444, size, ""))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Splits a name into ustar prefix (up to 155 bytes) and name (up to 100 bytes) at a `/`.
fn split_ustar(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    if !name.is_ascii() {
        return None;
    }
    let max_prefix = name.len().min(156);
    let i = name[..max_prefix].rfind('/')?;
    let (prefix, rest) = (&name[..i], &name[i + 1..]);
    if prefix.is_empty() || rest.is_empty() || prefix.len() > 155 || rest.len() > 100 {
        return None;
    }
    Some((prefix, rest))
}

fn pax_record(key: &str, value: &str) -> Vec<u8> {
    // The length counts itself: find the fixed point.
    let base = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = base + base.to_string().len();
    if (base + len.to_string().len()) != len {
        len = base + len.to_string().len();
    }
    format!("{len} {key}={value}\n").into_bytes()
}

// Writing our own headers: every range is a fixed field of the 512-byte block, and the
// lengths copied in are bounded by the callers (name and link at most 100 bytes, prefix 155).
#[allow(clippy::indexing_slicing)]
fn octal(field: &mut [u8], v: u64) {
    // Go's formatOctal: zero-padded digits then a NUL.
    let digits = field.len() - 1;
    let s = format!("{v:0digits$o}");
    field[..digits].copy_from_slice(&s.as_bytes()[s.len() - digits..]);
    field[digits] = 0;
}

#[allow(clippy::indexing_slicing)] // see `octal`
fn block(
    (prefix, name): (&str, &str),
    typeflag: u8,
    mode: u64,
    size: u64,
    link: &str,
) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut b[100..108], mode);
    octal(&mut b[108..116], 0);
    octal(&mut b[116..124], 0);
    if size < 1 << 33 {
        octal(&mut b[124..136], size);
    } else {
        // GNU base-256: a marker bit then the big-endian value.
        b[124] = 0x80;
        b[128..136].copy_from_slice(&size.to_be_bytes());
    }
    octal(&mut b[136..148], 0);
    b[156] = typeflag;
    b[157..157 + link.len()].copy_from_slice(link.as_bytes());
    b[257..263].copy_from_slice(b"ustar\0");
    b[263..265].copy_from_slice(b"00");
    octal(&mut b[329..337], 0);
    octal(&mut b[337..345], 0);
    b[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let (sum, _) = checksums(&b);
    // Go writes six octal digits, a NUL and a space.
    let s = format!("{sum:06o}");
    b[148..154].copy_from_slice(&s.as_bytes()[s.len() - 6..]);
    b[154] = 0;
    b[155] = b' ';
    b
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = encode("abc.tar", Kind::File(5120));
        assert_eq!(h.len(), 512);
        let block: [u8; 512] = h[..512].try_into().unwrap();
        let p = parse_header(&block, 0).unwrap().unwrap();
        assert_eq!(p.name, b"abc.tar");
        assert_eq!(p.size, 5120);
        assert_eq!(p.kind(), EntryKind::File);
        // Go's layout: mode, checksum.
        assert_eq!(&block[100..108], b"0000444\0");
        assert_eq!(block[155], b' ');
    }

    #[test]
    fn a_ustar_magic_of_another_version_has_no_name_prefix() {
        // Found by the differential fuzz target: Go reads the prefix only for version "00".
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let mut block: [u8; 512] = encode(&long, Kind::File(1))[..512].try_into().unwrap();
        block[263..265].copy_from_slice(b"0\0");
        let (unsigned, _) = checksums(&block);
        block[148..156].copy_from_slice(format!("{unsigned:06o}\0 ").as_bytes());
        let p = parse_header(&block, 0).unwrap().unwrap();
        assert_eq!(p.name, "f".repeat(90).as_bytes());
    }

    #[test]
    fn a_directory_or_link_with_a_size_has_no_data() {
        // Found by the differential fuzz target (the tar crate skips the size's bytes): Go's
        // reader gives header-only kinds no data, so the next header follows at once.
        for typeflag in [b'1', b'2', b'3', b'4', b'5', b'6'] {
            let mut block: [u8; 512] = encode("hello/", Kind::File(45))[..512].try_into().unwrap();
            block[156] = typeflag;
            let (unsigned, _) = checksums(&block);
            block[148..156].copy_from_slice(format!("{unsigned:06o}\0 ").as_bytes());
            let p = parse_header(&block, 0).unwrap().unwrap();
            assert_eq!(p.size, 45);
            assert_eq!(p.data_size(p.size), 0, "typeflag {}", typeflag as char);
        }
        let file = parse_header(&encode("f", Kind::File(45))[..512].try_into().unwrap(), 0)
            .unwrap()
            .unwrap();
        assert_eq!(file.data_size(file.size), 45);
    }

    #[test]
    fn long_names_and_sizes() {
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let h = encode(&long, Kind::File(1));
        assert_eq!(h.len(), 512, "fits ustar prefix");
        let p = parse_header(&h[..512].try_into().unwrap(), 0)
            .unwrap()
            .unwrap();
        assert_eq!(p.name, long.as_bytes());

        let longer = "x".repeat(300);
        let h = encode(&longer, Kind::Symlink(&"t".repeat(150)));
        assert_eq!(h.len(), 3 * 512, "PAX header, its data, the entry");
        let pax_hdr = parse_header(&h[..512].try_into().unwrap(), 0)
            .unwrap()
            .unwrap();
        assert_eq!(pax_hdr.typeflag, b'x');
        let pax = parse_pax(&h[512..512 + pax_hdr.size as usize], 0).unwrap();
        assert_eq!(pax.path.unwrap(), longer.as_bytes());
        assert_eq!(pax.linkpath.unwrap(), "t".repeat(150).as_bytes());

        let big = encode_fixed("big.tar", 20 << 30).unwrap();
        assert_eq!(parse_header(&big, 0).unwrap().unwrap().size, 20 << 30);
    }

    #[test]
    fn pax_record_lengths() {
        for n in [
            0, 1, 5, 85, 86, 87, 90, 95, 96, 99, 100, 994, 995, 996, 1000,
        ] {
            let r = pax_record("path", &"a".repeat(n));
            let len: usize = std::str::from_utf8(&r)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(len, r.len(), "value length {n}");
        }
    }

    #[test]
    fn bad_headers() {
        let mut b: [u8; 512] = encode("a", Kind::File(1))[..512].try_into().unwrap();
        b[0] = b'b';
        assert!(matches!(
            parse_header(&b, 7),
            Err(Error::BadHeader {
                offset: 7,
                kind: BadHeaderKind::ChecksumMismatch
            })
        ));
        assert!(parse_header(&[0; 512], 0).unwrap().is_none());
        assert!(parse_numeric(b"0000009\0").is_none());
        assert_eq!(parse_numeric(b"  17 \0"), Some(15));
        assert!(parse_numeric(&[0xff; 12]).is_none());
        assert!(parse_numeric(&[
            0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ])
        .is_none());
        let pax_error = |data: &[u8]| match parse_pax(data, 0) {
            Err(Error::BadHeader {
                kind: BadHeaderKind::PaxRecord(e),
                ..
            }) => Some(e),
            _ => None,
        };
        assert_eq!(pax_error(b"5 a=b\n"), Some(PaxRecordError::BadLength));
        assert_eq!(pax_error(b"99 path=x\n"), Some(PaxRecordError::BadLength));
        assert_eq!(pax_error(b"8 a-b-c\n"), Some(PaxRecordError::NoEquals));
        assert_eq!(pax_error(b"abc"), Some(PaxRecordError::NoLength));
        assert_eq!(pax_error(b"10 size=x\n"), Some(PaxRecordError::BadSize));
        assert_eq!(parse_pax(b"13 size=1234\n", 0).unwrap().size, Some(1234));
    }

    /// A pending header is a zero block (an end marker: no reader sees an entry) until it is
    /// finished, and then the entry reads back as any other, the writer left at its end.
    #[test]
    fn a_pending_header_is_written_over_once_known() {
        use std::io::{Seek, Write};
        let mut out = std::io::Cursor::new(vec![7u8; 3]);
        out.seek(std::io::SeekFrom::End(0)).unwrap();
        let pending = PendingHeader::at(3);
        pending.begin(&mut out).unwrap();
        assert_eq!(pending.start(), 3);
        assert!(out.get_ref()[3..].iter().all(|&b| b == 0));
        out.write_all(b"data").unwrap();
        let end = 3 + BLOCK + 4;
        let header = encode_fixed("a.tar", 4).unwrap();
        pending.finish(&mut out, &header, end).unwrap();
        assert_eq!(out.position(), end);
        let block: &[u8; 512] = out.get_ref()[3..515].try_into().unwrap();
        let h = parse_header(block, 3).unwrap().unwrap();
        assert_eq!(h.size, 4);
        assert_eq!(&out.get_ref()[515..], b"data");
    }
}
