//! Docker archives older than Docker 1.10: no `manifest.json`, only `repositories` (names,
//! tags and top layer IDs) and per layer `ID/json` (a v1 image: `parent`, and in the top
//! one the container config) and `ID/layer.tar`. `docker load` still reads them and skopeo
//! refuses them; they are read here as `docker load` does: the chain of parents gives the
//! layers, their tars are hashed once (at open) for the diff_ids, and the config is the top
//! layer's `json` with `rootfs` and `history` added, so the image has a new config digest.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::sync::Arc;

use oci_partial::{BlobReader, Image};
use oci_tarfile::Reader;
use oci_types::limits::{MAX_CONFIG_SIZE, MAX_MANIFEST_SIZE};
use oci_types::{Descriptor, Digest, MediaType};
use serde_json::{json, Map, Value};

use crate::blobs::{self, Blobs};
use crate::error::{Error, Result};

/// The most layers a chain of parents may have.
const MAX_LAYERS: usize = 1000;

/// The images of a legacy archive: for each top layer ID, its tags (`NAME:TAG`), in the
/// order of `repositories`.
pub(crate) fn images(reader: &Reader, label: &str) -> Result<Vec<(String, Vec<String>)>> {
    let bytes = reader
        .read_file("repositories", MAX_MANIFEST_SIZE, "repositories")
        .map_err(|source| archive_error(label, source))?;
    let repos: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|e| json_error(label, "repositories", &e))?;
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (name, tags) in &repos {
        let Some(tags) = tags.as_object() else {
            continue;
        };
        for (tag, id) in tags {
            let Some(id) = id.as_str() else { continue };
            let full = format!("{name}:{tag}");
            match out.iter_mut().find(|(i, _)| i == id) {
                Some((_, t)) => t.push(full),
                None => out.push((id.to_owned(), vec![full])),
            }
        }
    }
    Ok(out)
}

fn archive_error(label: &str, source: oci_tarfile::Error) -> Error {
    Error::Archive {
        path: label.into(),
        source: Box::new(source),
    }
}

fn json_error(label: &str, what: &'static str, e: &serde_json::Error) -> Error {
    Error::Document {
        name: label.to_owned(),
        source: Box::new(oci_types::Error::Json {
            what,
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }),
    }
}

/// A layer ID: 64 hex digits (anything else could name a path outside the layer's folder).
fn check_id(label: &str, id: &str) -> Result<()> {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::Document {
            name: label.to_owned(),
            source: Box::new(oci_types::Error::Invalid {
                what: "legacy layer ID",
                kind: oci_types::InvalidKind::LegacyLayerId(id.to_owned()),
            }),
        })
    }
}

/// The image whose top layer is `top`.
pub(crate) fn image(reader: Arc<Reader>, top: &str, label: &str) -> Result<Arc<dyn Image>> {
    // The chain of parents, top first.
    let mut chain: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut seen = HashSet::new();
    let mut next = Some(top.to_owned());
    while let Some(id) = next.take() {
        check_id(label, &id)?;
        if !seen.insert(id.clone()) || chain.len() >= MAX_LAYERS {
            return Err(Error::TooDeep {
                name: label.to_owned(),
                depth: MAX_LAYERS,
            });
        }
        let bytes = reader
            .read_file(&format!("{id}/json"), MAX_CONFIG_SIZE, "layer json")
            .map_err(|source| archive_error(label, source))?;
        let v: Map<String, Value> =
            serde_json::from_slice(&bytes).map_err(|e| json_error(label, "layer json", &e))?;
        next = v
            .get("parent")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        chain.push((id, v));
    }
    chain.reverse();
    // Each layer's tar, hashed once for its diff_id.
    let mut layers = Vec::with_capacity(chain.len());
    let mut paths = HashMap::new();
    for (id, _) in &chain {
        let path = format!("{id}/layer.tar");
        let mut r = reader
            .open(&path)
            .map_err(|source| archive_error(label, source))?;
        let mut digester = oci_types::HashingReader::new(&mut r);
        let size =
            std::io::copy(&mut digester, &mut std::io::sink()).map_err(|source| Error::Io {
                op: "reading",
                path: format!("{label}/{path}").into(),
                source,
            })?;
        let diff_id = digester.digest();
        paths.insert(diff_id.clone(), path);
        layers.push((diff_id, size));
    }
    let (_, top_json) = chain.last().cloned().unwrap_or_default();
    let mut config = top_json;
    for k in ["id", "parent", "parent_id", "layer_id", "Size", "throwaway"] {
        config.remove(k);
    }
    config
        .entry("architecture")
        .or_insert_with(|| json!("amd64"));
    config.entry("os").or_insert_with(|| json!("linux"));
    let history: Vec<Value> = chain
        .iter()
        .map(|(_, j)| {
            let mut h = Map::new();
            if let Some(c) = j.get("created") {
                h.insert("created".into(), c.clone());
            }
            let cmd = j
                .get("container_config")
                .and_then(|c| c.get("Cmd"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                });
            if let Some(cmd) = cmd {
                h.insert("created_by".into(), json!(cmd));
            }
            Value::Object(h)
        })
        .collect();
    config.insert(
        "rootfs".into(),
        json!({
            "type": "layers",
            "diff_ids": layers.iter().map(|(d, _)| d.to_string()).collect::<Vec<_>>(),
        }),
    );
    config.insert("history".into(), Value::Array(history));
    let config_bytes = serde_json::to_vec(&config).map_err(|e| json_error(label, "config", &e))?;
    let config_digest = Digest::sha256(&config_bytes);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MediaType::DockerManifest.to_string(),
        "config": {
            "mediaType": MediaType::DockerConfig.to_string(),
            "size": config_bytes.len(),
            "digest": config_digest.to_string(),
        },
        "layers": layers.iter().map(|(d, size)| json!({
            "mediaType": MediaType::DockerLayer.to_string(),
            "size": size,
            "digest": d.to_string(),
        })).collect::<Vec<_>>(),
    });
    let manifest_bytes =
        serde_json::to_vec(&manifest).map_err(|e| json_error(label, "manifest", &e))?;
    let blobs: Arc<dyn Blobs> = Arc::new(LegacyBlobs {
        reader,
        config: (config_digest, config_bytes.into()),
        layers: paths,
    });
    let desc = Descriptor::new(
        MediaType::DockerManifest,
        Digest::sha256(&manifest_bytes),
        manifest_bytes.len() as u64,
    );
    blobs::image_from_bytes(blobs, desc, manifest_bytes).map_err(|source| Error::Image {
        name: label.to_owned(),
        source: Box::new(source),
    })
}

struct LegacyBlobs {
    reader: Arc<Reader>,
    config: (Digest, Arc<[u8]>),
    layers: HashMap<Digest, String>,
}

impl Blobs for LegacyBlobs {
    fn open(&self, digest: &Digest) -> std::io::Result<BlobReader> {
        if digest == &self.config.0 {
            return Ok(Box::new(Cursor::new(Arc::clone(&self.config.1))));
        }
        let path = self.layers.get(digest).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("no blob {digest}"))
        })?;
        self.reader
            .open(path)
            .map(|r| Box::new(r) as BlobReader)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e))
    }
}
