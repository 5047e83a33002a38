//! Caps on untrusted sizes, in one place.
//!
//! Every parser of outside input in this crate checks its input against one of these before
//! it allocates in proportion to it.

/// Longest digest string accepted (the longest real digest, sha512, is 135 bytes).
pub const MAX_DIGEST_LEN: usize = 1024;

/// Largest manifest or index accepted, in bytes (containerd and the distribution registry use
/// 4 MiB as well).
pub const MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// Largest image config accepted, in bytes. Configs carry history and labels and can be
/// larger than manifests, so the cap is higher.
pub const MAX_CONFIG_SIZE: u64 = 16 * 1024 * 1024;

/// Deepest nesting of JSON arrays and objects accepted. Real manifests and configs nest
/// under 10 levels; the cap keeps recursive parsing away from stack exhaustion.
pub const MAX_JSON_DEPTH: usize = 64;

/// Longest repository path (the name without its domain) in a reference, as distribution's
/// `RepositoryNameTotalLengthMax` (since v0.6.0 the domain is not counted).
pub const MAX_NAME_LEN: usize = 255;

/// Longest reference string accepted at all, checked before any parsing. A real reference is
/// under 1 KiB (path 255, tag 128, sha512 digest 135, a DNS name 253).
pub const MAX_REFERENCE_LEN: usize = 4096;

/// Longest platform string accepted by `Platform::from_str`.
pub const MAX_PLATFORM_LEN: usize = 256;

/// How deep indexes may nest inside indexes before a walk stops (reading or writing a layout,
/// `find_*`, validation). Real images nest one or two levels.
pub const MAX_INDEX_NESTING: usize = 16;

/// The most pages of one paginated registry listing followed (tags, catalog, referrers): a
/// registry that pages forever is cut off.
pub const MAX_PAGES: usize = 10_000;

/// Largest docker `config.json` (or credential helper answer) read: 4 MiB, far above any real
/// one.
pub const MAX_DOCKER_CONFIG_SIZE: u64 = 4 << 20;

/// Largest registry error body read to report a failure.
pub const MAX_ERROR_BODY: u64 = 64 << 10;

/// Largest bearer-token response read (real ones are a few KiB).
pub const MAX_TOKEN_RESPONSE: u64 = 1 << 20;

/// Largest certificate or key (PEM) file read.
pub const MAX_PEM_FILE: u64 = 1 << 20;

/// The most bytes read of a credential helper's stdout or stderr.
pub const MAX_HELPER_OUTPUT: u64 = 1 << 20;
