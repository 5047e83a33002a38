//! The `ocikit` binary, run as a user runs it.
// Test helpers unwrap freely: a failure there is a test failure, not bad input.
#![allow(clippy::unwrap_used)]

mod author;
mod containerd;
mod copy;
mod crash;
mod errors;
mod flags;
mod images;
mod indexes;
mod interop;
mod names;
mod referrers_api;
mod registry_cmds;
mod remote;
mod store;
mod support;
mod terminal;
mod unpack;
