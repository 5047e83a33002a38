//! Integration tests of oci-partial, one module per source file under test.
// Test helpers unwrap freely: a failure there is a test failure, not bad input.
#![allow(clippy::unwrap_used)]

mod compressed;
mod compression;
mod files;
mod helpers;
mod mutate;
mod support;
mod uncompressed;

// These build their images with `random` (the `testing` feature, which the crate's
// dev-dependency on itself turns on for tests).
mod find;
mod random;
mod validate;
