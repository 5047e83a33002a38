//! Tags: `GET /v2/NAME/tags/list`, following `Link: <...>; rel="next"` pages.

use std::collections::HashSet;

use oci_types::limits::MAX_MANIFEST_SIZE;
use serde::Deserialize;

use crate::error::{Error, ResponseKind, Result};
use crate::http::Call;
use crate::link;
use crate::repository::Repository;

pub use oci_types::limits::MAX_PAGES;

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Repository {
    /// Every tag of the repository, in the registry's order, following pagination.
    pub fn tags(&self) -> Result<Vec<String>> {
        self.tags_paged(None)
    }

    /// Every tag, asking the registry for pages of at most `page_size` tags (`?n=`).
    pub fn tags_paged(&self, page_size: Option<usize>) -> Result<Vec<String>> {
        let url = match page_size {
            Some(n) => self.path(&format!("tags/list?n={n}")),
            None => self.path("tags/list"),
        };
        let mut tags = Vec::new();
        let scopes = self.pull_scope();
        let found = self.get_pages(url, None, "tag list", &scopes, |page_url, body| {
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
                    url: page_url.to_owned(),
                    kind: ResponseKind::Json {
                        what: "tag list",
                        message: e.to_string(),
                    },
                })?;
            tags.extend(page.tags.unwrap_or_default());
            Ok(())
        })?;
        if !found {
            // "repository NAME not found in HOST".
            return Err(Error::NotFound {
                what: "repository",
                reference: self.name.clone(),
                repository: self.registry().to_owned(),
            });
        }
        Ok(tags)
    }

    /// `GET`s `url` and every page its `Link: <...>; rel="next"` headers lead to (at most
    /// [`MAX_PAGES`], refusing a loop), handing each body (at most 4 MiB) to `on_page`.
    /// Returns `false`, having read nothing, when the first page is a 404.
    pub(crate) fn get_pages(
        &self,
        mut url: String,
        accept: Option<&str>,
        what: &'static str,
        scopes: &[String],
        mut on_page: impl FnMut(&str, Vec<u8>) -> Result<()>,
    ) -> Result<bool> {
        let mut visited = HashSet::new();
        for _ in 0..MAX_PAGES {
            if !visited.insert(url.clone()) {
                return Err(Error::InvalidResponse {
                    url,
                    kind: ResponseKind::PagesLoop { what },
                });
            }
            let mut call = Call::new("GET", url.clone());
            if let Some(accept) = accept {
                call = call.header("Accept", accept);
            }
            let answer = self.send(scopes, call)?;
            match answer.status() {
                200 => {}
                404 if visited.len() == 1 => return Ok(false),
                _ => return Err(answer.into_error("GET")),
            }
            let next = answer
                .header("link")
                .map(link::next_link)
                .transpose()?
                .flatten()
                .map(|next| link::resolve(&answer.url, &next));
            let page_url = answer.url.clone();
            on_page(&page_url, answer.read_limited("GET", MAX_MANIFEST_SIZE)?)?;
            match next {
                Some(next) => url = next,
                None => return Ok(true),
            }
        }
        Err(Error::InvalidResponse {
            url,
            kind: ResponseKind::TooManyPages {
                what,
                limit: MAX_PAGES,
            },
        })
    }
}
