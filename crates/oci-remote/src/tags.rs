//! Tags: `GET /v2/NAME/tags/list`, following `Link: <...>; rel="next"` pages.

use std::collections::HashSet;

use oci_types::limits::MAX_MANIFEST_SIZE;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::link;
use crate::repository::Repository;
use crate::transport::Call;

/// The most pages of one listing followed (a registry that pages forever is cut off).
pub const MAX_PAGES: usize = 10_000;

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
        let mut url = match page_size {
            Some(n) => self.path(&format!("tags/list?n={n}")),
            None => self.path("tags/list"),
        };
        let mut tags = Vec::new();
        let mut visited = HashSet::new();
        for _ in 0..MAX_PAGES {
            if !visited.insert(url.clone()) {
                return Err(Error::InvalidResponse {
                    url,
                    reason: "the tag list's pages loop".to_owned(),
                });
            }
            let answer = self.send(&self.pull_scope(), Call::new("GET", url.clone()))?;
            match answer.status() {
                200 => {}
                404 => {
                    return Err(Error::NotFound {
                        what: "repository",
                        reference: "tags/list".to_owned(),
                        repository: self.to_string(),
                    })
                }
                _ => return Err(answer.into_error("GET")),
            }
            let next = answer
                .header("link")
                .map(link::next_link)
                .transpose()?
                .flatten()
                .map(|next| link::resolve(&answer.url, &next));
            let page_url = answer.url.clone();
            let body = answer.read_limited("GET", MAX_MANIFEST_SIZE)?;
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
                    url: page_url,
                    reason: format!("tag list: {e}"),
                })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(next) => url = next,
                None => return Ok(tags),
            }
        }
        Err(Error::InvalidResponse {
            url,
            reason: format!("the tag list has more than {MAX_PAGES} pages"),
        })
    }
}
