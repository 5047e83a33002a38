//! `cargo xtask bench copy`: `ocikit copy` against `skopeo copy` on the one-layer image of a
//! 512 MiB tar of /usr: docker-archive → OCI layout, OCI layout → oci-archive and registry →
//! OCI layout side by side in one hyperfine run (every output removed before each run; the
//! image pulled is pushed once before), then OCI layout → registry in a second run with the
//! registry's storage wiped before each (a local `docker-registry` started for the bench).

use std::fs;
use std::path::Path;

use super::remote::{usr_image, Registry};
use super::{hyperfine, release_ocikit, require, under, usr_archive};
use crate::cmd::Cmd;
use crate::Result;

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
    let archive = usr_archive(root, &dir, &ocikit)?;
    let layout = usr_image(root, &dir, &ocikit)?;
    let registry = Registry::start(root, &dir)?;
    let reg = registry.host.as_str();
    let out = dir.join("copy");
    fs::create_dir_all(root.join(&out)).map_err(|e| format!("creating {}: {e}", out.display()))?;
    Cmd::program(ocikit.as_str(), root)
        .args([
            "copy".to_owned(),
            "-q".to_owned(),
            format!("oci:{layout}:1"),
            format!("docker://{reg}/b/src:1"),
        ])
        .run()?;
    let o = |n: &str| under(&out, n);
    // (label, source, destination) for each job; skopeo wants a new layout's directory to
    // exist, so both tools write below directories made by the prepare step.
    let jobs = [
        (
            "docker-archive → oci",
            format!("docker-archive:{archive}"),
            format!("oci:{}:1", o("TOOL-oci/l")),
        ),
        (
            "oci → oci-archive",
            format!("oci:{layout}:1"),
            format!("oci-archive:{}:1", o("TOOL-oa/a.tar")),
        ),
        (
            "registry → oci",
            format!("docker://{reg}/b/src:1"),
            format!("oci:{}:1", o("TOOL-pull/l")),
        ),
    ];
    let repos = under(&registry.data, "docker/registry/v2/repositories/b");
    let mut prepare = format!("rm -rf {} {repos}/sk {repos}/oc", o("*"));
    for t in ["sk", "oc"] {
        for d in ["oci", "oa", "pull"] {
            prepare.push_str(&format!(" && mkdir -p {}", o(&format!("{t}-{d}"))));
        }
    }
    let md = under(&dir, "copy.md");
    let mut h = hyperfine(root, &md, &prepare, args);
    for (label, src, dst) in &jobs {
        let sk = Cmd::program("skopeo", root).args([
            "copy".to_owned(),
            "-q".to_owned(),
            "--src-tls-verify=false".to_owned(),
            src.clone(),
            dst.replace("TOOL", "sk"),
        ]);
        let oc = Cmd::program(ocikit.as_str(), root).args([
            "copy".to_owned(),
            "-q".to_owned(),
            src.clone(),
            dst.replace("TOOL", "oc"),
        ]);
        h = h
            .args(["-n", &format!("skopeo copy {label}"), &sk.to_string()])
            .args(["-n", &format!("ocikit copy {label}"), &oc.to_string()]);
    }
    let sk = Cmd::program("skopeo", root).args([
        "copy".to_owned(),
        "-q".to_owned(),
        "--dest-tls-verify=false".to_owned(),
        format!("oci:{layout}:1"),
        format!("docker://{reg}/b/sk:1"),
    ]);
    let oc = Cmd::program(ocikit.as_str(), root).args([
        "copy".to_owned(),
        "-q".to_owned(),
        format!("oci:{layout}:1"),
        format!("docker://{reg}/b/oc:1"),
    ]);
    h.args(args.iter().cloned()).run()?;
    // The push in a run of its own, the registry's storage wiped before each: with `b/src`
    // still there, skopeo's blob-info cache mounts the layer from it instead of uploading.
    let push_md = under(&dir, "copy-push.md");
    let wipe = format!("rm -rf {}/docker", registry.data.display());
    hyperfine(root, &push_md, &wipe, args)
        .args(["-n", "skopeo copy oci → registry", &sk.to_string()])
        .args(["-n", "ocikit copy oci → registry", &oc.to_string()])
        .args(args.iter().cloned())
        .run()?;
    drop(registry);
    eprintln!("tables: {md} {push_md}");
    Ok(())
}
