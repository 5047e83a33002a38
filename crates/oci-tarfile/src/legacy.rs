//! The legacy (pre-Docker-1.10) metadata that old loaders need: one directory per layer with
//! `VERSION`, `json` and `layer.tar`, and the `repositories` file. Computed as
//! containers/image computes it, so that an image written here gets the layer IDs skopeo
//! gives it.

use std::collections::{BTreeMap, HashMap};

use oci_types::Digest;
use serde_json::value::RawValue;

use crate::{Error, Result};

/// The config fields copied into the top layer's `json`.
const TOP_LAYER_FIELDS: [&str; 7] = [
    "architecture",
    "config",
    "container",
    "container_config",
    "created",
    "docker_version",
    "os",
];

/// One legacy layer directory.
pub(crate) struct LegacyLayer {
    /// The layer ID (64 hex digits), the directory name.
    pub(crate) id: String,
    /// The content of `ID/json`.
    pub(crate) json: Vec<u8>,
}

/// The legacy layer directories of an image whose stored layers have `digests` (base first)
/// and whose config is `config`.
pub(crate) fn layers(digests: &[Digest], config: &[u8]) -> Result<Vec<LegacyLayer>> {
    let fields: HashMap<String, Box<RawValue>> = serde_json::from_slice(config).map_err(|e| {
        let source = oci_types::Error::Json {
            what: "config",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        Error::types("reading the config for legacy metadata", source)
    })?;
    let mut out: Vec<LegacyLayer> = Vec::with_capacity(digests.len());
    let mut chain: Option<Digest> = None;
    for (i, digest) in digests.iter().enumerate() {
        // Keys sorted, values as compact JSON text: what Go's encoding/json makes of a map.
        let mut obj: BTreeMap<&str, String> = BTreeMap::new();
        if let Some(parent) = out.last() {
            obj.insert("parent", quote(&parent.id));
        }
        if i + 1 == digests.len() {
            for key in TOP_LAYER_FIELDS {
                let value = fields.get(key).map(|v| compact(v.get()));
                obj.insert(key, value.unwrap_or_else(|| "null".into()));
            }
        }
        let next = match &chain {
            None => digest.clone(),
            Some(c) => Digest::sha256(format!("{c} {digest}").as_bytes()),
        };
        obj.insert("layer_id", quote(next.as_str()));
        chain = Some(next);
        let id = Digest::sha256(&render(&obj)).encoded().to_owned();
        obj.remove("layer_id");
        obj.insert("id", quote(&id));
        out.push(LegacyLayer {
            id,
            json: render(&obj),
        });
    }
    Ok(out)
}

/// The `repositories` file: repository name to tag to top layer ID.
pub(crate) fn repositories(repos: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<u8> {
    let mut s = String::from("{");
    for (i, (name, tags)) in repos.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&quote(name));
        s.push_str(":{");
        for (j, (tag, id)) in tags.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            s.push_str(&quote(tag));
            s.push(':');
            s.push_str(&quote(id));
        }
        s.push('}');
    }
    s.push('}');
    s.into_bytes()
}

fn render(obj: &BTreeMap<&str, String>) -> Vec<u8> {
    let mut s = String::from("{");
    for (i, (k, v)) in obj.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&quote(k));
        s.push(':');
        s.push_str(v);
    }
    s.push('}');
    s.into_bytes()
}

/// A JSON string as Go writes it (HTML-sensitive characters escaped).
fn quote(s: &str) -> String {
    let json = serde_json::Value::String(s.to_owned()).to_string();
    compact(&json)
}

/// JSON text without insignificant whitespace, with `<`, `>`, `&`, U+2028 and U+2029 escaped,
/// as Go's `json.Compact` with HTML escaping (what `json.Marshal` does to a `RawMessage`).
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            match c {
                _ if escaped => {
                    escaped = false;
                    out.push(c);
                }
                '\\' => {
                    escaped = true;
                    out.push(c);
                }
                '"' => {
                    in_string = false;
                    out.push(c);
                }
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                }
                _ => out.push(c),
            }
        } else {
            match c {
                ' ' | '\t' | '\n' | '\r' => {}
                '"' => {
                    in_string = true;
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts_like_go() {
        assert_eq!(
            compact("{ \"a\" : [1, 2],\n \"b\": \"x <y> & z\" }"),
            r#"{"a":[1,2],"b":"x \u003cy\u003e \u0026 z"}"#
        );
        assert_eq!(compact(r#""a\"<""#), r#""a\"\u003c""#);
    }

    #[test]
    fn repositories_sorted() {
        let mut r = BTreeMap::new();
        r.entry("b".to_owned())
            .or_insert_with(BTreeMap::new)
            .insert("1".to_owned(), "x".to_owned());
        r.entry("a".to_owned())
            .or_insert_with(BTreeMap::new)
            .insert("2".to_owned(), "y".to_owned());
        assert_eq!(repositories(&r), br#"{"a":{"2":"y"},"b":{"1":"x"}}"#);
    }
}
