//! Caps on what a layer may ask for. A layer is untrusted input: everything it sizes is
//! checked against one of these before memory or disk is spent on it.

/// The longest path or link target accepted, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH: usize = 4096;

/// The most components a path may have. Removing a directory tree recurses this deep at
/// most (one open directory per level).
pub const MAX_DEPTH: usize = 512;

/// The default of [`Options::max_entries`](crate::Options::max_entries): entries of one
/// image, whose paths are remembered to apply whiteouts (memory grows with this, not with
/// bytes).
pub const MAX_ENTRIES: usize = 4_000_000;

/// The default of [`Options::max_sparse_size`](crate::Options::max_sparse_size): 64 GiB.
pub const MAX_SPARSE_SIZE: u64 = 64 << 30;
