//! Integration tests of oci-tarfile: fixtures written by real tools, the writer and the
//! destination, interoperability with skopeo and umoci, and bad input.
// Test code unwraps: a failed unwrap is a failed test, and helpers here are test code.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod common;
mod dest;
mod fixtures;
mod stream;
#[cfg(unix)]
mod tools;
mod writer;
