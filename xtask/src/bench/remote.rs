//! `cargo xtask bench remote`: ocikit against skopeo talking to a registry, a local
//! `docker-registry` (distribution) started for the run on a free loopback port and stopped
//! at the end, even when a step fails.
//!
//! For two images, a five-layer one (directories of /usr, made once under
//! `target/bench/multi`) and the one-layer image of `convert`'s archive (made once under
//! `target/bench/usr`), hyperfine compares `skopeo copy` with `ocikit push` (the registry's
//! storage wiped before every run; with no cache configured that is safe) and then, from one
//! image pushed once, `skopeo copy` with `ocikit pull` into an OCI layout. For the one-layer
//! push, one `curl` PUT of the same layer blob is the registry's floor. Last, the 512 MiB tar
//! of /usr streamed by `ocikit layer -` into a content store and into the registry.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{
    hyperfine, largest_file, mib, release_ocikit, require, total_size, under, usr_archive, usr_tar,
};
use crate::cmd::Cmd;
use crate::Result;

/// The directories of the five-layer image, one layer each; those that exist are used.
const MULTI_DIRS: [&str; 5] = [
    "/usr/share/locale",
    "/usr/include",
    "/usr/lib/gcc",
    "/usr/share/doc",
    "/usr/lib/python3.11",
];

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    require(
        root,
        &[
            ("hyperfine", "hyperfine"),
            ("skopeo", "skopeo"),
            ("docker-registry", "docker-registry"),
            ("curl", "curl"),
            ("tar", "tar"),
            ("head", "coreutils"),
        ],
    )?;
    let (ocikit, dir) = release_ocikit(root)?;
    let multi = multi_image(root, &dir, &ocikit)?;
    let usr = usr_image(root, &dir, &ocikit)?;
    let input = usr_tar(root, &dir)?;

    let registry = Registry::start(root, &dir)?;
    let reg = registry.host.as_str();
    let data = registry.data.to_string_lossy().into_owned();
    let wipe = format!("rm -rf {data}/docker");
    let mut tables = Vec::new();
    for (label, layout) in [("multi", &multi), ("usr", &usr)] {
        let image = format!("oci:{layout}:1");
        // Push.
        let skopeo = Cmd::program("skopeo", root).args([
            "copy".to_owned(),
            "-q".to_owned(),
            "--dest-tls-verify=false".to_owned(),
            image.clone(),
            format!("docker://{reg}/b/sk:1"),
        ]);
        let ours = Cmd::program(ocikit.as_str(), root).args([
            "push".to_owned(),
            "-q".to_owned(),
            image.clone(),
            format!("docker://{reg}/b/oc:1"),
        ]);
        let md = under(&dir, &format!("remote-push-{label}.md"));
        let mut h = hyperfine(root, &md, &wipe, args)
            .args(["-n", "skopeo copy (push)", &skopeo.to_string()])
            .args(["-n", "ocikit push", &ours.to_string()]);
        if label == "usr" {
            let (blob, _) = largest_file(&root.join(layout).join("blobs"))?;
            h = h.args([
                "-n",
                "curl: one PUT of the same blob (the registry's floor)",
                &floor(reg, &blob)?,
            ]);
        }
        h.args(args.iter().cloned()).run()?;
        tables.push(md);

        // Pull, of one image pushed once.
        Cmd::program("sh", root).args(["-c", &wipe]).run()?;
        Cmd::program(ocikit.as_str(), root)
            .args([
                "push".to_owned(),
                "-q".to_owned(),
                image.clone(),
                format!("docker://{reg}/b/src:1"),
            ])
            .run()?;
        let out = dir.join("pulled");
        // skopeo wants the directory of a new layout to exist.
        fs::create_dir_all(root.join(&out))
            .map_err(|e| format!("creating {}: {e}", out.display()))?;
        let skopeo = Cmd::program("skopeo", root).args([
            "copy".to_owned(),
            "-q".to_owned(),
            "--src-tls-verify=false".to_owned(),
            format!("docker://{reg}/b/src:1"),
            format!("oci:{}:1", under(&out, "sk")),
        ]);
        let ours = Cmd::program(ocikit.as_str(), root).args([
            "pull".to_owned(),
            "-q".to_owned(),
            format!("docker://{reg}/b/src:1"),
            format!("oci:{}:1", under(&out, "oc")),
        ]);
        let md = under(&dir, &format!("remote-pull-{label}.md"));
        let prepare = format!("rm -rf {} {}", under(&out, "sk"), under(&out, "oc"));
        hyperfine(root, &md, &prepare, args)
            .args(["-n", "skopeo copy (pull)", &skopeo.to_string()])
            .args(["-n", "ocikit pull", &ours.to_string()])
            .args(args.iter().cloned())
            .run()?;
        tables.push(md);
    }

    // A tar streamed as one layer: into a content store, and into the registry. The redirect
    // needs the shell hyperfine runs commands through.
    let store = under(&dir, "remote-store");
    let to_store = format!("{ocikit} layer - --store {store} -q < {input}");
    let to_registry = format!("{ocikit} layer - --to docker://{reg}/b/stream -q < {input}");
    let md = under(&dir, "remote-stream.md");
    hyperfine(root, &md, &format!("{wipe} {store}"), args)
        .args(["-n", "ocikit layer - --store", &to_store])
        .args(["-n", "ocikit layer - --to docker://", &to_registry])
        .args(args.iter().cloned())
        .run()?;
    tables.push(md);
    drop(registry);

    eprintln!();
    for (label, layout) in [("multi (5 layers)", &multi), ("usr (1 layer)", &usr)] {
        let bytes = total_size(&root.join(layout).join("blobs"))?;
        eprintln!(
            "image {label:<17} {layout}: {bytes} bytes of blobs ({})",
            mib(bytes)
        );
    }
    let input_len = fs::metadata(root.join(&input))
        .map(|m| m.len())
        .map_err(|e| format!("{input}: {e}"))?;
    eprintln!("stream input: {input} ({input_len} bytes)");
    eprintln!("timings tables: {}", tables.join(" "));
    Ok(())
}

/// The five-layer OCI layout `dir/multi` (ref `1`): made once, with `ocikit append` into a
/// docker archive (`dir/multi.tar`) and `ocikit convert` from it, both of which write their
/// output whole or not at all.
fn multi_image(root: &Path, dir: &Path, ocikit: &str) -> Result<String> {
    let layout = under(dir, "multi");
    if root.join(&layout).join("index.json").is_file() {
        return Ok(layout);
    }
    let archive = under(dir, "multi.tar");
    if !root.join(&archive).is_file() {
        let mut dirs: Vec<&str> = MULTI_DIRS
            .into_iter()
            .filter(|d| Path::new(d).is_dir())
            .collect();
        if dirs.is_empty() {
            dirs.push("/usr/share");
        }
        Cmd::program(ocikit, root)
            .args(["append", "scratch"])
            .args(dirs)
            .args(["-t", "bench/multi:1", "-o", &archive, "-q"])
            .run()?;
    }
    Cmd::program(ocikit, root)
        .args(["convert", "-q", &archive, &format!("oci:{layout}:1")])
        .run()?;
    Ok(layout)
}

/// The one-layer OCI layout `dir/usr` (ref `1`), converted once from `convert`'s archive.
pub(super) fn usr_image(root: &Path, dir: &Path, ocikit: &str) -> Result<String> {
    let layout = under(dir, "usr");
    if !root.join(&layout).join("index.json").is_file() {
        let archive = usr_archive(root, dir, ocikit)?;
        Cmd::program(ocikit, root)
            .args(["convert", "-q", &archive, &format!("oci:{layout}:1")])
            .run()?;
    }
    Ok(layout)
}

/// A shell line that uploads `blob` (a file named by its sha256) to the registry `reg` as
/// plainly as the protocol allows: `POST` for an upload location, then one `PUT` of the
/// whole blob there, with its digest.
fn floor(reg: &str, blob: &Path) -> Result<String> {
    let hex = blob
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a blob name", blob.display()))?;
    Ok(format!(
        "loc=$(curl -sf -X POST -o /dev/null -D - http://{reg}/v2/b/floor/blobs/uploads/ \
         | tr -d '\\r' | sed -n 's/^[Ll]ocation: *//p') && \
         case $loc in /*) loc=http://{reg}$loc ;; esac && \
         curl -sf -o /dev/null -T {} \"$loc&digest=sha256:{hex}\"",
        blob.display()
    ))
}

/// A `docker-registry serve` running for the bench; killed when dropped.
pub(super) struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub(super) host: String,
    /// Its storage's root directory (absolute).
    pub(super) data: PathBuf,
}

impl Registry {
    /// Writes `dir/registry/config.yml` for a free loopback port, starts the registry (its
    /// output goes to `dir/registry/registry.log`) and waits until `GET /v2/` answers.
    pub(super) fn start(root: &Path, dir: &Path) -> Result<Registry> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let host = format!("127.0.0.1:{port}");
        let base = root.join(dir).join("registry");
        let data = base.join("data");
        fs::create_dir_all(&data).map_err(|e| format!("creating {}: {e}", data.display()))?;
        let config = base.join("config.yml");
        let yaml = format!(
            "version: 0.1\n\
             log:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {host}\n",
            data.display()
        );
        fs::write(&config, yaml).map_err(|e| format!("writing {}: {e}", config.display()))?;
        let log_path = base.join("registry.log");
        let log = File::create(&log_path)
            .and_then(|f| Ok((f.try_clone()?, f)))
            .map_err(|e| format!("creating {}: {e}", log_path.display()))?;
        let serve = Cmd::program("docker-registry", root)
            .arg("serve")
            .arg(config.to_string_lossy());
        serve.echo();
        let child = serve
            .command()
            .stdin(Stdio::null())
            .stdout(log.0)
            .stderr(log.1)
            .spawn()
            .map_err(|e| format!("cannot start `{serve}`: {e}"))?;
        let mut registry = Registry { child, host, data };
        let url = format!("http://{}/v2/", registry.host);
        let ping = Cmd::program("curl", root).args(["-sf", "-o", "/dev/null", &url]);
        eprintln!("$ {ping}  # until it answers");
        let started = Instant::now();
        loop {
            if ping.succeeds_quietly() {
                return Ok(registry);
            }
            let log = || fs::read_to_string(&log_path).unwrap_or_default();
            if let Ok(Some(status)) = registry.child.try_wait() {
                return Err(format!("`{serve}` exited ({status}): {}", log()));
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err(format!("`{serve}` did not answer {url} in 20s: {}", log()));
            }
            sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        eprintln!("$ kill {}  # docker-registry", self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_puts_the_blob_at_the_location_with_its_digest() {
        let line = floor("127.0.0.1:5000", Path::new("/b/blobs/sha256/abc")).unwrap();
        assert!(
            line.starts_with(
                "loc=$(curl -sf -X POST -o /dev/null -D - \
                 http://127.0.0.1:5000/v2/b/floor/blobs/uploads/ "
            ),
            "{line}"
        );
        assert!(
            line.ends_with(
                "curl -sf -o /dev/null -T /b/blobs/sha256/abc \"$loc&digest=sha256:abc\""
            ),
            "{line}"
        );
    }
}
