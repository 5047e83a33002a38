//! `ocikit inspect`: images, tags, platform, config and layers.

use crate::outln;
use std::process::ExitCode;

use anyhow::{Context, Result};
use oci_partial::Image;
use serde::Serialize;

use oci_copy::{ImageName, NamedImage as Named};

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
}

#[derive(Serialize)]
struct LayerInfo {
    digest: String,
    diff_id: String,
    size: u64,
    media_type: String,
}

fn describe(named: &Named) -> Result<ImageInfo> {
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
    })
}

pub(crate) fn run(src: &ImageName, json: bool, access: &Access<'_>) -> Result<ExitCode> {
    let images = access.open_images(src)?;
    if images.is_empty() {
        anyhow::bail!("{src} holds no image");
    }
    let infos = images
        .iter()
        .map(|n| describe(n).with_context(|| format!("inspecting {}", n.label)))
        .collect::<Result<Vec<_>>>()?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&infos)?);
        return Ok(ExitCode::SUCCESS);
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
