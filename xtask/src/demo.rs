//! `cargo xtask demo`: the README's first command. It builds the `ocikit` CLI and does a real
//! job with it on this repository, printing every command, so a new user sees the tool work
//! on a fresh machine with no input of their own.

use std::fs;
use std::path::Path;

use crate::cmd::Cmd;
use crate::Result;

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        return Err(format!("demo takes no arguments (got `{extra}`)"));
    }
    Cmd::cargo(root)
        .args(["build", "--release", "-p", "ocikit-cli"])
        .run()?;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let ocikit = Path::new(&target).join("release/ocikit");
    let ocikit = ocikit.to_string_lossy().into_owned();
    let out = Path::new(&target).join("demo");
    let out_shown = out.to_string_lossy().into_owned();
    // Start clean: copy adds to an existing layout, and the archive would be replaced anyway.
    if root.join(&out).exists() {
        fs::remove_dir_all(root.join(&out)).map_err(|e| format!("removing {out_shown}: {e}"))?;
    }
    fs::create_dir_all(root.join(&out)).map_err(|e| format!("creating {out_shown}: {e}"))?;
    let archive = format!("{out_shown}/demo.tar");
    let layout = format!("oci:{out_shown}/layout:v1");
    let steps: [&[&str]; 5] = [
        &[
            "append",
            "scratch",
            "crates/oci-types/src",
            "-t",
            "example.com/ocikit/demo:v1",
            "-o",
            &archive,
        ],
        &["copy", &archive, &layout],
        &["inspect", &layout],
        &["verify", &layout],
        &["verify", &archive],
    ];
    for step in steps {
        Cmd::program(ocikit.clone(), root)
            .args(step.iter().copied())
            .run()?;
    }
    eprintln!("\ndemo: done; the image is in {archive} and {layout}");
    Ok(())
}
