//! The catalog: `GET /v2/_catalog`, every repository of a registry, following pagination.

use serde::Deserialize;

use crate::client::Client;
use crate::error::{Error, ResponseKind, Result};

#[derive(Deserialize)]
struct Catalog {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

impl Client {
    /// Every repository of registry `host[:port]` (`GET /v2/_catalog`, scope
    /// `registry:catalog:*`), following `Link` pages. Many public registries answer 401 or
    /// 404 to it.
    pub fn catalog(&self, host: &str) -> Result<Vec<String>> {
        self.catalog_paged(host, None)
    }

    /// [`Client::catalog`], asking for pages of at most `page_size` names (`?n=`).
    pub fn catalog_paged(&self, host: &str, page_size: Option<usize>) -> Result<Vec<String>> {
        // A handle with no name: only its registry and `get_pages` are used.
        let registry = self.repository_at(host, "");
        let url = match page_size {
            Some(n) => format!("/v2/_catalog?n={n}"),
            None => "/v2/_catalog".to_owned(),
        };
        let mut names = Vec::new();
        let scopes = vec!["registry:catalog:*".to_owned()];
        let found = registry.get_pages(url, None, "catalog", &scopes, |page_url, body| {
            let page: Catalog =
                serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
                    url: page_url.to_owned(),
                    kind: ResponseKind::Json {
                        what: "catalog",
                        message: e.to_string(),
                    },
                })?;
            names.extend(page.repositories.unwrap_or_default());
            Ok(())
        })?;
        if !found {
            return Err(Error::NotFound {
                what: "catalog",
                reference: "/v2/_catalog".to_owned(),
                repository: host.to_owned(),
            });
        }
        Ok(names)
    }
}
