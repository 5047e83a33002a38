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
