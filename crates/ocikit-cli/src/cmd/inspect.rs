//! `ocikit inspect`: images, tags, platform, config and layers.

use crate::outln;
use std::process::ExitCode;

use anyhow::{Context, Result};
use oci_partial::Image;
use serde::Serialize;

use oci_copy::ImageName;

use super::opened::{self, Listed};
use crate::registry::Access;

#[derive(Serialize)]
struct ImageInfo {
    name: String,
    tags: Vec<String>,
    digest: String,
    media_type: String,
    config_digest: String,
    platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cmd: Option<Vec<String>>,
    env: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    labels: std::collections::BTreeMap<String, String>,
    layers: Vec<LayerInfo>,
    /// The index it was read from, when the name was an index.
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<IndexRef>,
}

/// The index an image was read from: its digest and the entry's platform.
#[derive(Serialize)]
struct IndexRef {
    name: String,
    digest: String,
    media_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
}

/// An index, shown before its images.
struct IndexSummary {
    name: String,
    tags: Vec<String>,
    digest: String,
    media_type: String,
    manifests: Vec<EntryInfo>,
}

struct EntryInfo {
    digest: String,
    media_type: String,
    platform: Option<String>,
}

#[derive(Serialize)]
struct LayerInfo {
    digest: String,
    diff_id: String,
    size: u64,
    media_type: String,
}

fn describe(named: &Listed) -> Result<ImageInfo> {
    let image: &dyn Image = named.image.as_ref();
    let config = image.config_file().context("reading the config")?;
    let manifest = image.manifest().context("reading the manifest")?;
    let layers = image.layers()?;
    let mut layer_infos = Vec::with_capacity(layers.len());
    for (layer, desc) in layers.iter().zip(&manifest.layers) {
        layer_infos.push(LayerInfo {
            digest: desc.digest.to_string(),
            diff_id: layer.diff_id()?.to_string(),
            size: desc.size,
            media_type: desc.media_type.to_string(),
        });
    }
    let c = config.config.clone().unwrap_or_default();
    Ok(ImageInfo {
        name: named.label.clone(),
        tags: named.tags.clone(),
        digest: image.digest()?.to_string(),
        media_type: image.media_type()?.to_string(),
        config_digest: manifest.config.digest.to_string(),
        platform: config.platform().to_string(),
        created: config.created.clone(),
        entrypoint: c.entrypoint,
        cmd: c.cmd,
        env: c.env.unwrap_or_default(),
        working_dir: c.working_dir.filter(|w| !w.is_empty()),
        user: c.user.filter(|u| !u.is_empty()),
        labels: c.labels.unwrap_or_default(),
        layers: layer_infos,
        index: None,
    })
}

pub(crate) fn run(
    src: &ImageName,
    json: bool,
    platform: Option<&str>,
    access: &Access<'_>,
) -> Result<ExitCode> {
    let platform = opened::platform_arg(platform)?;
    let opened = opened::open(access, src, platform.as_ref())?;
    if opened.images.is_empty() && opened.index.is_none() {
        anyhow::bail!("{src} holds no image");
    }
    let mut infos = Vec::with_capacity(opened.images.len());
    for listed in &opened.images {
        let mut info = describe(listed).with_context(|| format!("inspecting {}", listed.label))?;
        info.index = opened.index.as_ref().map(|index| IndexRef {
            name: index.label.clone(),
            digest: index.digest.to_string(),
            media_type: index.media_type.to_string(),
            platform: listed.platform.as_ref().map(ToString::to_string),
        });
        infos.push(info);
    }
    // The index itself is shown unless --platform asked for one of its images.
    let summary = opened
        .index
        .as_ref()
        .filter(|_| platform.is_none())
        .map(|index| IndexSummary {
            name: index.label.clone(),
            tags: index.tags.clone(),
            digest: index.digest.to_string(),
            media_type: index.media_type.to_string(),
            manifests: index
                .entries
                .iter()
                .map(|e| EntryInfo {
                    digest: e.digest.to_string(),
                    media_type: e.media_type.to_string(),
                    platform: e.platform.as_ref().map(ToString::to_string),
                })
                .collect(),
        });
    if json {
        // An array of images, whatever the name: each image of an index names it (digest,
        // and the platform of its entry).
        outln!("{}", serde_json::to_string_pretty(&infos)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(index) = &summary {
        outln!("Index:      {}", index.name);
        if !index.tags.is_empty() {
            outln!("Tags:       {}", index.tags.join(", "));
        }
        outln!("Digest:     {}", index.digest);
        outln!("MediaType:  {}", index.media_type);
        outln!("Manifests:  {}", index.manifests.len());
        for e in &index.manifests {
            let platform = e.platform.as_deref().unwrap_or("-");
            outln!("  {platform:<16} {} {}", e.digest, e.media_type);
        }
        if !infos.is_empty() {
            outln!();
        }
    }
    for (i, info) in infos.iter().enumerate() {
        if i > 0 {
            outln!();
        }
        outln!("Image:      {}", info.name);
        if !info.tags.is_empty() {
            outln!("Tags:       {}", info.tags.join(", "));
        }
        outln!("Digest:     {}", info.digest);
        if let Some(index) = &info.index {
            outln!("Index:      {}", index.digest);
        }
        outln!("MediaType:  {}", info.media_type);
        outln!("Config:     {}", info.config_digest);
        outln!("Platform:   {}", info.platform);
        if let Some(c) = &info.created {
            outln!("Created:    {c}");
        }
        if let Some(e) = &info.entrypoint {
            outln!("Entrypoint: {e:?}");
        }
        if let Some(c) = &info.cmd {
            outln!("Cmd:        {c:?}");
        }
        if let Some(w) = &info.working_dir {
            outln!("WorkingDir: {w}");
        }
        if let Some(u) = &info.user {
            outln!("User:       {u}");
        }
        for e in &info.env {
            outln!("Env:        {e}");
        }
        for (k, v) in &info.labels {
            outln!("Label:      {k}={v}");
        }
        outln!("Layers:     {}", info.layers.len());
        for (n, l) in info.layers.iter().enumerate() {
            outln!("  [{n}] {} {:>12} {}", l.digest, l.size, l.media_type);
            outln!("      diff_id {}", l.diff_id);
        }
    }
    Ok(ExitCode::SUCCESS)
}
