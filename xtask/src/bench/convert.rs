//! `cargo xtask bench convert`: `ocikit convert` against `skopeo copy` turning a docker
//! archive into an OCI layout (each compressing the one layer with gzip), side by side in one
//! hyperfine run, then each output's layer size and the peak RSS of one run of each.
//!
//! The input is `$OCIKIT_BENCH_ARCHIVE`, or else a one-layer docker archive of the 512 MiB
//! tar of /usr that `stream` uses, made once under `target/bench/usr-archive.tar`.

use std::fs;
use std::path::Path;

use super::{hyperfine, largest_file, mib, release_ocikit, require, under, usr_archive};
use crate::cmd::Cmd;
use crate::Result;

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    require(
        root,
        &[
            ("hyperfine", "hyperfine"),
            ("skopeo", "skopeo"),
            ("tar", "tar"),
            ("head", "coreutils"),
        ],
    )?;
    let (ocikit, dir) = release_ocikit(root)?;
    let archive = usr_archive(root, &dir, &ocikit)?;
    let out = dir.join("convert");
    // skopeo wants the directory of a new layout to exist.
    fs::create_dir_all(root.join(&out)).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let oci = |name: &str| format!("oci:{}:1", under(&out, name));
    // (name, OCI layout directory, program, arguments).
    let cases = [
        (
            "skopeo copy",
            under(&out, "sk"),
            "skopeo",
            vec![
                "copy".to_owned(),
                "-q".to_owned(),
                format!("docker-archive:{archive}"),
                oci("sk"),
            ],
        ),
        (
            "ocikit convert",
            under(&out, "oc"),
            ocikit.as_str(),
            vec![
                "convert".to_owned(),
                "-q".to_owned(),
                archive.clone(),
                oci("oc"),
            ],
        ),
        (
            "ocikit convert --level 1",
            under(&out, "oc1"),
            ocikit.as_str(),
            vec![
                "convert".to_owned(),
                "-q".to_owned(),
                "--level".to_owned(),
                "1".to_owned(),
                archive.clone(),
                oci("oc1"),
            ],
        ),
    ];
    let outputs: Vec<&str> = cases.iter().map(|c| c.1.as_str()).collect();
    let prepare = format!("rm -rf {}", outputs.join(" "));
    let md = under(&dir, "convert.md");
    let mut h = hyperfine(root, &md, &prepare, args);
    for (name, _, program, words) in &cases {
        let line = Cmd::program(*program, root).args(words.iter().cloned());
        h = h.args(["-n".to_owned(), (*name).to_owned(), line.to_string()]);
    }
    h.args(args.iter().cloned()).run()?;

    // One more run of each, under /usr/bin/time for its peak RSS, leaving its output to size.
    let time = Path::new("/usr/bin/time").is_file();
    if !time {
        eprintln!("\nno /usr/bin/time (Debian package `time`): peak RSS skipped");
    }
    let mut rows = Vec::new();
    for (name, layout, program, words) in &cases {
        let _ = fs::remove_dir_all(root.join(layout));
        let rss = if time {
            let timed = Cmd::program("/usr/bin/time", root)
                .args(["-f", "%M", program])
                .args(words.iter().cloned());
            Some(peak_rss_kib(&timed)?)
        } else {
            Cmd::program(*program, root)
                .args(words.iter().cloned())
                .run()?;
            None
        };
        let (_, size) = largest_file(&root.join(layout).join("blobs"))?;
        rows.push((*name, size, rss));
    }
    let input_len = fs::metadata(root.join(&archive))
        .map(|m| m.len())
        .map_err(|e| format!("{archive}: {e}"))?;
    let skopeo = rows[0].1;
    eprintln!("\ninput: {archive} ({input_len} bytes, {})", mib(input_len));
    eprintln!(
        "{:<26} {:>12}  {:>10}  {:>8}  {:>14}",
        "", "layer bytes", "", "/ skopeo", "peak RSS"
    );
    for (name, size, rss) in rows {
        let rss = rss.map_or_else(|| "-".to_owned(), |kib| mib(kib << 10));
        eprintln!(
            "{name:<26} {size:>12}  {:>10}  {:>8.3}  {rss:>14}",
            mib(size),
            size as f64 / skopeo as f64,
        );
    }
    eprintln!("timings table: {md}");
    Ok(())
}

/// Runs `/usr/bin/time -f %M ...` (printed first) and returns the peak RSS in KiB, the last
/// line `time` writes to stderr.
pub(super) fn peak_rss_kib(timed: &Cmd) -> Result<u64> {
    timed.echo();
    let out = timed
        .command()
        .output()
        .map_err(|e| format!("cannot start `{timed}`: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("`{timed}` failed ({}): {stderr}", out.status));
    }
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("no peak RSS in the output of `{timed}`: {stderr}"))
}
