//! `cargo xtask bench stream`: `ocikit layer` against `pigz -p 2 | sha256sum` pipelines (and
//! ISA-L's `igzip -1 -T 2`, whose deflate the default level uses) on the same input, side by
//! side in one hyperfine run, plus the output sizes.
//!
//! The input is `$OCIKIT_BENCH_INPUT`, or else a 512 MiB tar of /usr made once under
//! `target/bench/usr.tar` (a realistic mix of binaries and text, as the issue measured).

use std::fs;
use std::path::Path;

use crate::cmd::Cmd;
use crate::Result;

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    super::require(
        root,
        &[
            ("hyperfine", "hyperfine"),
            ("pigz", "pigz"),
            ("igzip", "isal"),
            ("sha256sum", "coreutils"),
            ("tar", "tar"),
        ],
    )?;
    let (ocikit, dir) = super::release_ocikit(root)?;
    let input = super::usr_tar(root, &dir)?;
    let store = dir.join("store").to_string_lossy().into_owned();
    let ours = format!("{ocikit} layer {input} --store {store} --quiet");
    let ours6 = format!("{ocikit} layer {input} --store {store} --quiet --level 6");
    let pigz1 = format!("pigz -p 2 -1 < {input} | sha256sum");
    let igzip1 = format!("igzip -1 -T 2 -c < {input} | sha256sum");
    let pigz6 = format!("pigz -p 2 -6 < {input} | sha256sum");
    let hash = format!("sha256sum {input}");
    let md = dir.join("stream.md").to_string_lossy().into_owned();
    let mut h = super::hyperfine(root, &md, &format!("rm -rf {store}"), args);
    for (name, cmd) in [
        ("ocikit layer (default)", &ours),
        ("pigz -p 2 -1 | sha256sum", &pigz1),
        ("igzip -1 -T 2 | sha256sum", &igzip1),
        ("ocikit layer --level 6", &ours6),
        ("pigz -p 2 -6 | sha256sum", &pigz6),
        ("sha256sum", &hash),
    ] {
        h = h.args(["-n", name, cmd]);
    }
    h.args(args.iter().cloned()).run()?;
    // Output sizes, from one more run of each compressor.
    let size = |cmd: &str| -> Result<u64> {
        let out = Cmd::program("sh", root)
            .args(["-c", &format!("{cmd} | wc -c")])
            .command()
            .output()
            .map_err(|e| e.to_string())?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|e| format!("size of `{cmd}`: {e}"))
    };
    let input_len = fs::metadata(root.join(&input))
        .map(|m| m.len())
        .map_err(|e| format!("{input}: {e}"))?;
    let layer_size = |level: Option<&str>| -> Result<u64> {
        let _ = fs::remove_dir_all(root.join(&store));
        let mut cmd = Cmd::program(ocikit.clone(), root)
            .args(["layer", &input, "--store", &store, "--quiet"]);
        if let Some(l) = level {
            cmd = cmd.args(["--level", l]);
        }
        let out = cmd.command().output().map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout);
        let size = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("\"size\": "))
            .map(|s| s.trim_end_matches(','));
        size.and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no size in `ocikit layer` output: {text}"))
    };
    let rows = [
        ("ocikit layer (default)", layer_size(None)?),
        ("pigz -p 2 -1", size(&format!("pigz -p 2 -1 < {input}"))?),
        (
            "igzip -1 -T 2",
            size(&format!("igzip -1 -T 2 -c < {input}"))?,
        ),
        ("ocikit layer --level 6", layer_size(Some("6"))?),
        ("pigz -p 2 -6", size(&format!("pigz -p 2 -6 < {input}"))?),
        ("gzip -6", size(&format!("gzip -6 < {input}"))?),
    ];
    eprintln!("\ninput: {input} ({input_len} bytes)");
    for (name, bytes) in rows {
        eprintln!(
            "{name:<24} {bytes:>12} bytes  {:5.1}% of input",
            bytes as f64 * 100.0 / input_len as f64
        );
    }
    eprintln!("timings table: {md}");
    Ok(())
}
