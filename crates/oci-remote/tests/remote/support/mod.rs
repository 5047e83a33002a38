//! Test support: the registry, tool check, raw HTTP/1.1 client and scripted server
//! (`Fake`, for what Debian's registry does not do: resumable sessions, the referrers API)
//! of `oci_remote::testing`, with a token server for bearer auth and a fault-injecting TCP
//! proxy of our own.
// The test modules each use a part of this; what one build of the binary leaves unused is not dead.
#![allow(dead_code)]

mod proxy;
mod token;

// Re-exported for every test module; one that a given module leaves unused is not an error.
#[allow(unused_imports)]
pub(crate) use oci_remote::testing::http::{
    basic_auth, get as http_get, header, request as http_request, try_request as try_http_request,
    Response,
};
#[allow(unused_imports)]
pub(crate) use oci_remote::testing::server::{Answer, Request, Script, Server as Fake};
#[allow(unused_imports)]
pub(crate) use oci_remote::testing::{require, Registry, PASSWORD, USER};
#[allow(unused_imports)]
pub(crate) use proxy::{Fault, Proxy};
#[allow(unused_imports)]
pub(crate) use token::{TokenServer, ISSUER, REFRESH_TOKEN, SERVICE};
