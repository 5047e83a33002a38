//! [`Repository`]: one repository of one registry, the handle every operation starts from.

use std::fmt;
use std::sync::Arc;

use oci_types::Reference;

use crate::client::Client;
use crate::error::Result;
use crate::http::{Answer, Call};
use crate::registry::RegistryState;
use crate::transport;

/// One repository (`host/name`) of a registry, through a [`Client`].
///
/// Cheap to clone and `Send + Sync`. The operations live in the modules that name them: blobs
/// ([`Repository::blob`], [`Repository::blob_exists`], [`Repository::upload_blob`], ...),
/// manifests, tags and referrers.
#[derive(Clone)]
pub struct Repository {
    pub(crate) client: Client,
    pub(crate) registry: Arc<RegistryState>,
    pub(crate) name: String,
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Repository({}/{})", self.registry.host, self.name)
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry.host, self.name)
    }
}

impl Client {
    /// A handle on the repository a reference names (its tag or digest is ignored here).
    pub fn repository(&self, reference: &Reference) -> Repository {
        self.repository_at(reference.domain(), reference.path())
    }

    /// A handle on repository `name` of registry `host[:port]` (`docker.io` is Docker Hub).
    pub fn repository_at(&self, host: &str, name: &str) -> Repository {
        Repository::new(self.clone(), self.registry(host), name.to_owned())
    }
}

impl Repository {
    pub(crate) fn new(client: Client, registry: Arc<RegistryState>, name: String) -> Repository {
        Repository {
            client,
            registry,
            name,
        }
    }

    /// The registry host (`host[:port]`, `docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        &self.registry.host
    }

    /// The repository's name within the registry (`library/alpine`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client this handle uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `repository:NAME:pull`.
    pub(crate) fn pull_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:pull", self.name)]
    }

    /// `repository:NAME:pull,push`.
    pub(crate) fn push_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:pull,push", self.name)]
    }

    /// `repository:NAME:delete` and pull (docker's token servers ask for `*` or `delete`).
    pub(crate) fn delete_scope(&self) -> Vec<String> {
        vec![format!("repository:{}:delete,pull", self.name)]
    }

    /// `/v2/NAME/` + `rest`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/v2/{}/{rest}", self.name)
    }

    pub(crate) fn send(&self, scopes: &[String], call: Call<'_>) -> Result<Answer> {
        transport::send(self.client.http(), &self.registry, scopes, call)
    }
}
