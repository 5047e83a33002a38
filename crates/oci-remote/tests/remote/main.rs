//! oci-remote against a real registry: distribution's `docker-registry`, started per test on a
//! free loopback port, with a token server and a fault-injecting proxy where a test needs them.
// Test helpers unwrap freely: a failure there is a test failure, not bad input.
#![allow(clippy::unwrap_used)]

mod auth;
mod harness;
mod images;
mod interop;
mod layering;
mod operations;
mod referrers_api;
mod resume;
mod support;
mod tls;
mod uploads;
