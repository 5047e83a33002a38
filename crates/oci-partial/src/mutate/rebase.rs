//! Rebase: an image's base layers replaced by a new base (go-containerregistry's
//! `mutate.Rebase`, crane's `rebase`).

use std::sync::Arc;

use serde_json::Value;

use crate::mutate::{with_edit, with_layers, ConfigEdit};
use crate::{Error, Image, InvalidKind, Layer, Result};

/// `orig` with the layers of `old_base` (which must be its first layers) replaced by those of
/// `new_base` (go-containerregistry's `mutate.Rebase`).
///
/// The config is `orig`'s with, as ggcr does, `architecture`, `os`, `os.version` (and here
/// `variant`) taken from the new base; `rootfs.diff_ids` are the new base's then `orig`'s
/// above the old base; the history is the new base's then `orig`'s entries after the old
/// base's (entries that made no layer included). Like [`crate::mutate::edit_config`], the
/// config is edited as stored, so every other key keeps its value and place.
///
/// `orig` is based on `old_base` when the old base's diff_ids (from its config) are the first
/// of `orig`'s: compared by diff_id rather than blob digest, so a recompressed copy of the
/// base counts. Otherwise [`Error::Invalid`]. Only configs are read here; no layer is read
/// until the result is written.
///
/// ```
/// use std::sync::Arc;
/// use oci_partial::mutate::{append_layers, rebase, Addendum};
/// use oci_partial::{random, Image};
///
/// let (old_base, new_base) = (random::image(1, 2, 100), random::image(2, 1, 100));
/// let top = random::layer(3, 100);
/// let app = append_layers(Arc::clone(&old_base), vec![Addendum::new(Arc::clone(&top))]);
/// let rebased = rebase(app, old_base.as_ref(), Arc::clone(&new_base))?;
/// let direct = append_layers(new_base, vec![Addendum::new(top)]);
/// assert_eq!(rebased.config_file()?.rootfs.diff_ids, direct.config_file()?.rootfs.diff_ids);
/// # Ok::<(), oci_partial::Error>(())
/// ```
pub fn rebase(
    orig: Arc<dyn Image>,
    old_base: &dyn Image,
    new_base: Arc<dyn Image>,
) -> Result<Arc<dyn Image>> {
    let orig_cfg = orig.config_file()?;
    let old_cfg = old_base.config_file()?;
    let new_cfg = new_base.config_file()?;
    let (orig_ids, old_ids) = (&orig_cfg.rootfs.diff_ids, &old_cfg.rootfs.diff_ids);
    if old_ids.len() > orig_ids.len() {
        return Err(not_based(InvalidKind::BaseHasMoreLayers {
            base: old_ids.len(),
            image: orig_ids.len(),
        }));
    }
    if let Some(i) = (0..old_ids.len()).find(|&i| old_ids[i] != orig_ids[i]) {
        return Err(not_based(InvalidKind::BaseLayerDiffers {
            index: i,
            image: Box::new(orig_ids[i].clone()),
            base: Box::new(old_ids[i].clone()),
        }));
    }

    let orig_layers = orig.layers()?;
    if orig_layers.len() != orig_ids.len() {
        return Err(Error::Invalid {
            what: "image",
            kind: InvalidKind::LayerCount {
                layers: orig_layers.len(),
                diff_ids: orig_ids.len(),
            },
        });
    }
    let mut layers: Vec<Arc<dyn Layer>> = new_base.layers()?;
    layers.extend(orig_layers.into_iter().skip(old_ids.len()));

    // The new config, edited as stored.
    let mut doc: Value = oci_types::json::parse_limited(
        &orig.raw_config_file()?,
        "config",
        oci_types::limits::MAX_CONFIG_SIZE,
    )?;
    let top = doc
        .as_object_mut()
        .ok_or_else(|| super::config::invalid(InvalidKind::ConfigNotAnObject))?;
    let set = |top: &mut serde_json::Map<String, Value>, key: &str, v: Option<String>| match v {
        Some(v) => super::config::put(top, super::config::TOP_ORDER, key, v.into()),
        None => {
            top.shift_remove(key);
        }
    };
    set(top, "architecture", Some(new_cfg.architecture.clone()));
    set(top, "os", Some(new_cfg.os.clone()));
    set(top, "os.version", new_cfg.os_version.clone());
    set(top, "variant", new_cfg.variant.clone());
    let mut diff_ids = new_cfg.rootfs.diff_ids.clone();
    diff_ids.extend(orig_ids[old_ids.len()..].iter().cloned());
    let rootfs = serde_json::json!({"type": "layers", "diff_ids": diff_ids});
    super::config::put(top, super::config::TOP_ORDER, "rootfs", rootfs);
    let above: &[oci_types::History] = match (&orig_cfg.history, &old_cfg.history) {
        (Some(h), Some(old)) if h.len() >= old.len() => &h[old.len()..],
        (Some(h), None) => h,
        _ => &[],
    };
    let mut history = new_cfg.history.clone().unwrap_or_default();
    history.extend(above.iter().cloned());
    if history.is_empty() {
        top.shift_remove("history");
    } else {
        let h = serde_json::to_value(history)
            .map_err(|e| super::config::invalid(InvalidKind::Serialize(e.to_string())))?;
        super::config::put(top, super::config::TOP_ORDER, "history", h);
    }
    let bytes = serde_json::to_vec(&doc)
        .map_err(|e| super::config::invalid(InvalidKind::Serialize(e.to_string())))?;
    Ok(with_layers(
        with_edit(orig, ConfigEdit::Bytes(bytes)),
        layers,
    ))
}

fn not_based(kind: InvalidKind) -> Error {
    Error::Invalid {
        what: "rebase",
        kind,
    }
}
