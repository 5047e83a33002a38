//! Caps on untrusted sizes, in one place.
//!
//! A docker archive comes from outside; every size or count read from it is checked against
//! one of these before anything is allocated in proportion to it. Layer data is never held in
//! memory, so layers have no cap: they are streamed.

/// Largest `manifest.json` accepted: 4 MiB (containers/image uses 1 MiB; a `manifest.json`
/// item takes about 300 bytes plus 70 per layer, so this is thousands of images).
pub const MAX_MANIFEST_JSON_SIZE: u64 = 4 * 1024 * 1024;

/// Largest image config accepted: 16 MiB, the cap of [`oci_types::limits::MAX_CONFIG_SIZE`].
pub const MAX_CONFIG_SIZE: u64 = oci_types::limits::MAX_CONFIG_SIZE;

/// Most entries (tar headers, not counting PAX and GNU long-name headers) in one archive:
/// 100 000. Real archives hold a few per layer; the index costs about 150 bytes per entry.
pub const MAX_ENTRIES: usize = 100_000;

/// Longest entry name or link target: 4096 bytes (Linux's `PATH_MAX`).
pub const MAX_NAME_LEN: usize = 4096;

/// Largest PAX extended header accepted: 1 MiB.
pub const MAX_PAX_SIZE: u64 = 1024 * 1024;

/// Most links (symbolic or hard) followed from one path before giving up: 16.
pub const MAX_LINK_HOPS: usize = 16;
