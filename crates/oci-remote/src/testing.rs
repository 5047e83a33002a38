//! A real registry for tests of crates that talk to one, behind the `testing` feature.
//!
//! [`Registry`] runs distribution's `docker-registry` (Debian's package, version 2.8), which
//! must be on `PATH`, serving a temporary directory; it only ever listens on 127.0.0.1, on a
//! free port, and is killed and its storage removed when dropped. [`require`] turns a missing
//! tool into a skip on a developer's machine and into a failure in CI, and [`http`] is a raw
//! HTTP/1.1 client to look at a registry without going through this crate's [`Client`].
//! [`MemoryRegistry`] plays a registry with the referrers API (OCI distribution 1.1), in
//! memory, on a scripted [`server`] that tests use for registries of their own (faults,
//! resumable sessions).
//!
//! ```
//! use oci_remote::testing::{http, Registry};
//!
//! // `None` (the test passes, noting the skip) when docker-registry is missing outside CI.
//! if let Some(registry) = Registry::start() {
//!     let (status, headers, body) = http::get(&registry.host(), "/v2/", &[]);
//!     assert_eq!(status, 200);
//!     assert_eq!(http::header(&headers, "docker-distribution-api-version"), Some("registry/2.0"));
//!     assert_eq!(body, b"{}");
//!     assert!(registry.addr().ip().is_loopback());
//! }
//! ```
//!
//! [`Client`]: crate::Client

pub mod http;
mod memory;
mod registry;
pub mod server;

pub use memory::MemoryRegistry;

pub use registry::{Registry, TestCerts, PASSWORD, TOKEN_ISSUER, TOKEN_SERVICE, USER};

use std::process::Command;

/// True when `tool` is on `PATH`. Under CI (the variable `CI` is `true`) a missing tool fails
/// the test instead, since CI installs every peer tool; elsewhere the skip is noted on stderr
/// and the caller returns early, passing.
///
/// # Panics
/// When `tool` is missing and `CI` is `true`.
pub fn require(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "{tool} is required in CI (.ci/run installs it)"
        );
        eprintln!("skipping: {tool} is not installed");
    }
    found
}
