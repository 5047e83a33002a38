//! `ocikit verify`: every digest, size and diff_id, of an image or of every image of an
//! index (whose entries are checked against their children too).

use crate::outln;
use std::process::ExitCode;

use anyhow::Result;
use oci_partial::{validate_image, validate_index, ValidateOptions, ValidationReport};
use serde_json::json;

use oci_copy::ImageName;

use super::opened;
use crate::progress::Progress;
use crate::registry::Access;

/// What one check found.
struct Checked {
    name: String,
    digest: String,
    /// Each problem found, one line each; none when it checked out.
    problems: Vec<String>,
}

/// The problems of a report, one line each.
fn lines(report: &ValidationReport) -> Vec<String> {
    report.problems.iter().map(ToString::to_string).collect()
}

pub(crate) fn run(
    src: &ImageName,
    json: bool,
    platform: Option<&str>,
    access: &Access<'_>,
    progress: Progress,
) -> Result<ExitCode> {
    let platform = opened::platform_arg(platform)?;
    let opened = opened::open(access, src, platform.as_ref())?;
    if opened.images.is_empty() && opened.index.is_none() {
        anyhow::bail!("{src} holds no image");
    }
    let mut checked = Vec::new();
    // The index's own entries against its children (structure only: the children's layers
    // are read once, below, with a bar).
    if let Some(index) = &opened.index {
        // Problems inside a child are reported with that child, below.
        let problems = match validate_index(index.index.as_ref(), ValidateOptions::fast()) {
            Ok(()) => Vec::new(),
            Err(report) => report
                .problems
                .iter()
                .filter(|p| p.location.len() <= 1)
                .map(ToString::to_string)
                .collect(),
        };
        checked.push(Checked {
            name: format!("{} (index)", index.label),
            digest: index.digest.to_string(),
            problems,
        });
    }
    for named in &opened.images {
        let (image, bar) =
            progress.watch_image(&format!("verifying {}", named.label), &named.image);
        let result = validate_image(image.as_ref(), ValidateOptions::default());
        bar.finish_and_clear();
        checked.push(Checked {
            name: named.label.clone(),
            digest: named
                .image
                .digest()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            problems: result.err().as_ref().map(lines).unwrap_or_default(),
        });
    }
    let bad = checked.iter().filter(|c| !c.problems.is_empty()).count();
    if json {
        let results: Vec<serde_json::Value> = checked
            .iter()
            .map(|c| {
                json!({"name": c.name, "digest": c.digest, "ok": c.problems.is_empty(),
                       "problems": c.problems})
            })
            .collect();
        let mut doc = json!({"ok": bad == 0, "checked": results});
        if let Some(index) = &opened.index {
            doc["index"] = json!({"name": index.label, "digest": index.digest.to_string()});
        }
        outln!("{doc}");
    } else {
        for c in &checked {
            if c.problems.is_empty() {
                outln!("ok       {} {}", c.name, c.digest);
            } else {
                outln!("MISMATCH {} {}", c.name, c.digest);
                for problem in &c.problems {
                    for line in problem.lines() {
                        outln!("  {line}");
                    }
                }
            }
        }
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
