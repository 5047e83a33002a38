//! Integration tests of `oci-layout`.
// Test helpers outside #[test] fns unwrap freely: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;
mod fixtures;
mod gc;
mod interop;
mod open;
mod race;
mod read;
mod write;
