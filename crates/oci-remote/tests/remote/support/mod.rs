//! Test support: a real registry (distribution's `docker-registry`) in a temporary directory, a
//! token server for bearer auth, a fault-injecting TCP proxy and a raw HTTP/1.1 client that checks
//! registry state without going through the crate's own client.
// The test modules each use a part of this; what one build of the binary leaves unused is not dead.
#![allow(dead_code)]

mod http;
mod proxy;
mod registry;
mod token;

// Re-exported for every test module; one that a given module leaves unused is not an error.
#[allow(unused_imports)]
pub(crate) use http::{basic_auth, header, http_get, http_request, try_http_request, Response};
#[allow(unused_imports)]
pub(crate) use proxy::{Fault, Proxy};
#[allow(unused_imports)]
pub(crate) use registry::{Registry, PASSWORD, USER};
#[allow(unused_imports)]
pub(crate) use token::{TokenServer, ISSUER, SERVICE};

use std::process::Command;

/// True when `tool` is on PATH. Under CI (CI=true) a missing tool is a failure, not a skip
/// (.ci/run installs them); elsewhere the test notes the skip on stderr and passes.
pub(crate) fn require(tool: &str) -> bool {
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
