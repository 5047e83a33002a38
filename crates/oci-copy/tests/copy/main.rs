//! The oci-copy suite: names, and copies between every transport.
#![allow(clippy::unwrap_used)] // tests

mod cancel;
mod daemon;
mod local;
mod names;
mod registry;
mod support;
mod transports;
