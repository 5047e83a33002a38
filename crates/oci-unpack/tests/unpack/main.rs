//! oci-unpack's integration tests.
#![allow(clippy::unwrap_used)] // tests

mod apply;
mod hostile;
mod peers;
mod roundtrip;
mod support;
