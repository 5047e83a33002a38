//! `cargo xtask bench unpack`: `ocikit unpack --rootless` against `umoci unpack --rootless`
//! and GNU tar (the limit: `tar -xzf` of the same gzip layer blob, and `tar -xf` of the
//! uncompressed tar), side by side in one hyperfine run.
//!
//! The input is an OCI layout with one gzip layer: the whole entries of the 512 MiB tar of
//! /usr that `stream` uses, tarred again, made once under `target/bench/unpack-layout` with
//! `ocikit append`.

use std::path::Path;

use super::{hyperfine, largest_file, release_ocikit, require, under, usr_tar};
use crate::cmd::Cmd;
use crate::Result;

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    require(
        root,
        &[
            ("hyperfine", "hyperfine"),
            ("umoci", "umoci"),
            ("tar", "tar"),
            ("gzip", "gzip"),
        ],
    )?;
    let (ocikit, dir) = release_ocikit(root)?;
    // The 512 MiB tar of /usr ends in a cut entry, which an extractor refuses: the entries
    // it holds whole, extracted and tarred again, are the input.
    let tar = under(&dir, "unpack-usr.tar");
    if !root.join(&tar).is_file() {
        let cut = usr_tar(root, &dir)?;
        let tmp = under(&dir, "unpack-usr");
        let make = format!(
            "rm -rf {tmp} && mkdir {tmp} && (tar -xf {cut} -C {tmp} 2>/dev/null; true) && tar -cf {tar}.tmp -C {tmp} usr && mv {tar}.tmp {tar} && rm -rf {tmp}"
        );
        Cmd::program("sh", root).args(["-c", &make]).run()?;
    }
    let layout = under(&dir, "unpack-layout");
    if !root.join(&layout).join("index.json").is_file() {
        Cmd::program(ocikit.as_str(), root)
            .args([
                "append",
                "-q",
                "scratch",
                &tar,
                "-t",
                "bench/unpack:1",
                "-o",
                &format!("oci:{layout}:1"),
            ])
            .run()?;
    }
    let (blob, _) = largest_file(&root.join(&layout).join("blobs"))?;
    let blob = blob.to_string_lossy().into_owned();
    let out = |name: &str| under(&dir, &format!("unpack-{name}"));
    let cases = [
        (
            "tar -xf (uncompressed)",
            format!("mkdir {0} && tar -xf {tar} -C {0}", out("tar")),
        ),
        (
            "tar -xzf (the layer blob)",
            format!("mkdir {0} && tar -xzf {blob} -C {0}", out("targz")),
        ),
        (
            "ocikit unpack --rootless",
            format!(
                "{ocikit} unpack -q --rootless oci:{layout}:1 {}",
                out("ocikit")
            ),
        ),
        (
            "umoci unpack --rootless",
            format!(
                "umoci unpack --rootless --image {layout}:1 {}",
                out("umoci")
            ),
        ),
    ];
    let prepare = format!(
        "rm -rf {} {} {} {}",
        out("tar"),
        out("targz"),
        out("ocikit"),
        out("umoci")
    );
    let md = under(&dir, "unpack.md");
    let mut h = hyperfine(root, &md, &prepare, args);
    for (name, line) in &cases {
        h = h.args(["-n".to_owned(), (*name).to_owned(), line.clone()]);
    }
    h.args(args.iter().cloned()).run()?;
    Cmd::program("sh", root).args(["-c", &prepare]).run()
}
