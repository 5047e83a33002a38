//! `cargo xtask bench stdout`: `ocikit copy ... docker-archive:-` into a pipe, on a one-layer
//! image of 256 MiB of random bytes (far larger than any buffer), for the three ways the
//! archive writer places a layer on a stream that cannot seek: a gzip layer kept as it is and
//! an uncompressed layer (both streamed straight through, their size known before they are
//! read) and a gzip layer stored decompressed (spooled alone to `TMPDIR`, its size unknown
//! until read). One hyperfine run, then the peak RSS of one run of each: it stays flat.

use std::path::Path;

use super::convert::peak_rss_kib;
use super::{hyperfine, mib, release_ocikit, require, under};
use crate::cmd::Cmd;
use crate::Result;

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    require(
        root,
        &[
            ("hyperfine", "hyperfine"),
            ("tar", "tar"),
            ("head", "coreutils"),
            ("/usr/bin/time", "time"),
        ],
    )?;
    let (ocikit, dir) = release_ocikit(root)?;
    let tar = under(&dir, "random256.tar");
    if !root.join(&tar).is_file() {
        let r = under(&dir, "random256");
        let make = format!(
            "mkdir -p {r} && head -c {} /dev/urandom > {r}/r.bin && tar -cf {tar}.part -C {r} r.bin && mv {tar}.part {tar} && rm -rf {r}",
            256u64 << 20
        );
        Cmd::program("sh", root).args(["-c", &make]).run()?;
    }
    let layout = |name: &str, format: &str| -> Result<String> {
        let l = under(&dir, name);
        if !root.join(&l).join("index.json").is_file() {
            Cmd::program(ocikit.as_str(), root)
                .args([
                    "append",
                    "-q",
                    "scratch",
                    &tar,
                    "--dest-compress-format",
                    format,
                ])
                .args(["-o", &format!("oci:{l}:1")])
                .run()?;
        }
        Ok(l)
    };
    let gz = layout("random256-gz", "gzip")?;
    let plain = layout("random256-plain", "none")?;
    let line = |src: &str, flags: &str| {
        format!("{ocikit} copy -q {flags} oci:{src}:1 docker-archive:- | cat > /dev/null")
    };
    let cases = [
        (
            "gzip layer kept (streamed)",
            line(&gz, "--dest-compress-format gzip"),
        ),
        ("plain layer (streamed)", line(&plain, "")),
        ("gzip layer decompressed (spooled)", line(&gz, "")),
    ];
    let md = under(&dir, "stdout.md");
    let mut h = hyperfine(root, &md, "true", args);
    for (name, cmd) in &cases {
        h = h.args(["-n", name, cmd.as_str()]);
    }
    h.args(args.iter().cloned()).run()?;

    eprintln!("\n{:<36} {:>12}", "256 MiB layer to a pipe", "peak RSS");
    for (name, cmd) in &cases {
        let timed = Cmd::program("/usr/bin/time", root).args(["-f", "%M", "sh", "-c", cmd]);
        let kib = peak_rss_kib(&timed)?;
        eprintln!("{name:<36} {:>12}", mib(kib << 10));
    }
    eprintln!("timings table: {md}");
    Ok(())
}
