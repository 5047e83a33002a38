//! Authoring (issue 15): `mutate`, `index create|append|remove`, `append` without layers,
//! `--canonical` and SOURCE_DATE_EPOCH, `-t` as an OCI layout's ref name.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::support::{fixtures, have, make_tree, ocikit, peer};

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

/// The fixture layout (umoci's `hello`), copied so that nothing writes into `fixtures/`.
fn hello_layout(dir: &Path) -> String {
    let to = dir.join("src");
    let out = Command::new("cp")
        .arg("-r")
        .arg(fixtures().join("oci-layout"))
        .arg(&to)
        .status()
        .unwrap();
    assert!(out.success());
    format!("oci:{}:hello", to.display())
}

/// `skopeo inspect --config --raw NAME` as JSON.
fn skopeo_config(dir: &Path, name: &str) -> Value {
    json(&peer(
        dir,
        "skopeo",
        &["inspect", "--config", "--raw", name],
    ))
}

/// Removes `keys` from the object `v` (in place, keeping the others' order).
fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    let m = v.as_object_mut().unwrap();
    for k in keys {
        m.shift_remove(*k);
    }
    v
}

#[test]
fn new_commands_have_help_with_an_example() {
    let t = tempfile::tempdir().unwrap();
    for cmd in [
        &["mutate", "--help"][..],
        &["index", "--help"],
        &["index", "create", "--help"],
        &["index", "append", "--help"],
        &["index", "remove", "--help"],
        &["rebase", "--help"],
        &["attach", "--help"],
        &["referrers", "--help"],
    ] {
        let r = ocikit(t.path(), cmd).ok();
        assert!(r.stdout.contains("Example"), "{cmd:?}: {}", r.stdout);
    }
}

#[test]
fn mutate_edits_show_in_skopeo_and_nothing_else_changes() {
    if !have("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let src = hello_layout(d);
    let dst = format!("oci:{}:edited", d.join("out").display());
    ocikit(
        d,
        &[
            "mutate",
            &src,
            "-o",
            &dst,
            "--entrypoint",
            "/bin/app,--serve",
            "--cmd",
            "",
            "--env",
            "GREETING=bye",
            "--env",
            "NEW=1",
            "--label",
            "team=infra",
            "--user",
            "1000:1000",
            "--workdir",
            "/srv",
            "--exposed-ports",
            "8080,53/udp",
            "--annotation",
            "org.example.k=v",
            "-q",
        ],
    )
    .ok();
    let before = skopeo_config(d, &src);
    let after = skopeo_config(d, &dst);
    let c = &after["config"];
    assert_eq!(c["Entrypoint"], serde_json::json!(["/bin/app", "--serve"]));
    assert!(c.get("Cmd").is_none());
    assert_eq!(c["User"], "1000:1000");
    assert_eq!(c["WorkingDir"], "/srv");
    assert_eq!(c["Labels"]["team"], "infra");
    assert_eq!(
        c["ExposedPorts"],
        serde_json::json!({"8080/tcp": {}, "53/udp": {}})
    );
    let env: Vec<&str> = c["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let old: Vec<&str> = before["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(env.len(), old.len() + 1);
    assert_eq!(env[0], old[0], "order kept");
    assert!(env.contains(&"GREETING=bye") && env.ends_with(&["NEW=1"]));
    // Everything else, top level and inside `config`, as the source had it, in its order.
    assert_eq!(
        serde_json::to_string(&without(&after, &["config"])).unwrap(),
        serde_json::to_string(&without(&before, &["config"])).unwrap()
    );
    let edited = [
        "Entrypoint",
        "Cmd",
        "Env",
        "Labels",
        "User",
        "WorkingDir",
        "ExposedPorts",
    ];
    assert_eq!(
        without(&after["config"], &edited),
        without(&before["config"], &edited)
    );
    let label = &before["config"]["Labels"]["org.opencontainers.image.title"];
    assert_eq!(&c["Labels"]["org.opencontainers.image.title"], label);
    // The annotation is on the manifest; the layers are the source's.
    let m = json(&peer(d, "skopeo", &["inspect", "--raw", &dst]));
    let m0 = json(&peer(d, "skopeo", &["inspect", "--raw", &src]));
    assert_eq!(m["annotations"]["org.example.k"], "v");
    assert_eq!(m["layers"], m0["layers"]);
}

#[test]
fn mutate_keeps_dockers_nulls() {
    if !have("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let archive = fixtures().join("docker-archive/docker-save-hello.tar");
    let src = format!("docker-archive:{}", archive.display());
    let dst = format!("oci:{}:edited", d.join("out").display());
    ocikit(d, &["mutate", &src, "-o", &dst, "--user", "nobody", "-q"]).ok();
    let before = skopeo_config(d, &src);
    let after = skopeo_config(d, &dst);
    assert_eq!(after["config"]["User"], "nobody");
    assert_eq!(
        without(&after["config"], &["User"]),
        without(&before["config"], &["User"])
    );
    assert_eq!(without(&after, &["config"]), without(&before, &["config"]));
}

#[test]
fn a_two_platform_index_from_two_directories_is_copied_by_skopeo() {
    if !have("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    make_tree(&d.join("amd"));
    make_tree(&d.join("arm"));
    std::fs::write(d.join("arm/arch.txt"), "arm64\n").unwrap();
    let layout = d.join("layout");
    let l = layout.display();
    for (dir, platform) in [("amd", "linux/amd64"), ("arm", "linux/arm64/v8")] {
        let out = format!("oci:{l}:{dir}");
        ocikit(
            d,
            &[
                "append",
                "scratch",
                dir,
                "--platform",
                platform,
                "-o",
                &out,
                "-q",
            ],
        )
        .ok();
    }
    let multi = format!("oci:{l}:multi");
    ocikit(
        d,
        &[
            "index",
            "create",
            &multi,
            "-m",
            &format!("oci:{l}:amd"),
            "-m",
            &format!("oci:{l}:arm"),
            "-q",
        ],
    )
    .ok();
    let raw = peer(d, "skopeo", &["inspect", "--raw", &multi]);
    let index = json(&raw);
    let platforms: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    assert!(
        index["manifests"][0].get("annotations").is_none(),
        "no layout ref names inside"
    );
    let copy = format!("oci:{}:multi", d.join("copy").display());
    peer(d, "skopeo", &["copy", "-q", "--all", &multi, &copy]);
    assert_eq!(peer(d, "skopeo", &["inspect", "--raw", &copy]), raw);
    ocikit(d, &["verify", &copy]).ok();
    // skopeo picks the arm64 image of it.
    let arm = peer(
        d,
        "skopeo",
        &["inspect", "--override-arch", "arm64", &multi],
    );
    assert_eq!(json(&arm)["Architecture"], "arm64");

    // podman takes the arm64 image of it (its own vfs storage in the test's directory).
    if have("podman") {
        let (root, run) = (d.join("podman-root"), d.join("podman-run"));
        let podman = |args: &[&str]| {
            let mut all = vec![
                "--root",
                root.to_str().unwrap(),
                "--runroot",
                run.to_str().unwrap(),
                "--storage-driver",
                "vfs",
            ];
            all.extend_from_slice(args);
            peer(d, "podman", &all)
        };
        // podman names the image after the layout's path, which must be lowercase.
        let link = std::env::temp_dir().join(format!("ocikit-podman-{}", std::process::id()));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&layout, &link).unwrap();
        let pulled = format!("oci:{}:multi", link.display());
        let id = podman(&["pull", "-q", "--arch", "arm64", &pulled]);
        std::fs::remove_file(&link).unwrap();
        let config = peer(
            d,
            "skopeo",
            &[
                "inspect",
                "--config",
                "--raw",
                "--override-arch",
                "arm64",
                &multi,
            ],
        );
        let want = oci_types::Digest::sha256(config.as_bytes());
        assert_eq!(id.trim(), want.encoded(), "podman stored our arm64 config");
        let arch = podman(&[
            "image",
            "inspect",
            "--format",
            "{{.Architecture}}",
            id.trim(),
        ]);
        assert_eq!(arch.trim(), "arm64");
    }

    // remove and append edit it in place.
    ocikit(
        d,
        &["index", "remove", &multi, "--platform", "linux/arm64", "-q"],
    )
    .ok();
    let after = json(&peer(d, "skopeo", &["inspect", "--raw", &multi]));
    assert_eq!(after["manifests"].as_array().unwrap().len(), 1);
    ocikit(
        d,
        &[
            "index",
            "append",
            &multi,
            "-m",
            &format!("oci:{l}:arm"),
            "-q",
        ],
    )
    .ok();
    assert_eq!(peer(d, "skopeo", &["inspect", "--raw", &multi]), raw);

    // mutate edits every platform's image, and keeps the entries' platforms.
    let edited = format!("oci:{l}:edited");
    ocikit(d, &["mutate", &multi, "-o", &edited, "--env", "X=1", "-q"]).ok();
    let e = json(&peer(d, "skopeo", &["inspect", "--raw", &edited]));
    assert_eq!(
        e["manifests"][1]["platform"],
        index["manifests"][1]["platform"]
    );
    for arch in ["amd64", "arm64"] {
        let c = json(&peer(
            d,
            "skopeo",
            &[
                "inspect",
                "--config",
                "--raw",
                "--override-arch",
                arch,
                &edited,
            ],
        ));
        assert_eq!(c["architecture"], arch);
        assert!(
            c["config"]["Env"].to_string().contains("X=1"),
            "{arch}: {c}"
        );
    }
}

/// Runs ocikit with extra environment.
fn ocikit_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ocikit"))
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn touch_all(root: &Path, secs: u64) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    for rel in [
        "etc/app/config.toml",
        "hello.txt",
        "data.bin",
        "etc/app",
        "etc",
        "",
    ] {
        std::fs::File::open(root.join(rel))
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
}

/// The manifest digest `append` reports.
fn digest_of(stderr: &str) -> String {
    stderr
        .split("manifest ")
        .nth(1)
        .unwrap()
        .trim_end_matches([')', '\n'])
        .to_owned()
}

#[test]
fn the_same_tree_with_other_mtimes_gives_the_same_digest() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // The same relative name in both ("ocikit append tree" is in the history).
    make_tree(&d.join("a/tree"));
    make_tree(&d.join("b/tree"));
    touch_all(&d.join("a/tree"), 1_000_000);
    touch_all(&d.join("b/tree"), 2_000_000);
    let out = d.join("out");
    let build = |cwd: &str, extra: &[&str], env: &[(&str, &str)]| {
        let o = format!("oci:{}:{cwd}", out.display());
        let mut args = vec!["append", "scratch", "tree", "-o", &o, "-q"];
        args.extend_from_slice(extra);
        digest_of(&ocikit_env(&d.join(cwd), &args, env))
    };
    let canonical = build("a", &["--canonical"], &[]);
    assert_eq!(canonical, build("b", &["--canonical"], &[]));
    // Files changed after the source date: their times are clamped to it.
    let epoch = [("SOURCE_DATE_EPOCH", "500000")];
    let kept = build("a", &["--keep-mtime", "--canonical"], &epoch);
    assert_eq!(kept, build("b", &["--keep-mtime", "--canonical"], &epoch));
    assert_ne!(kept, canonical, "the epoch is in the config and the tar");
    if have("skopeo") {
        let cfg = json(&peer(
            d,
            "skopeo",
            &[
                "inspect",
                "--config",
                "--raw",
                &format!("oci:{}:a", out.display()),
            ],
        ));
        assert_eq!(cfg["created"], "1970-01-06T18:53:20Z");
        assert_eq!(cfg["history"][0]["created"], "1970-01-06T18:53:20Z");
    }
    // Without the epoch, kept mtimes tell the trees apart.
    assert_ne!(
        build("a", &["--keep-mtime"], &[]),
        build("b", &["--keep-mtime"], &[])
    );
}

#[test]
fn append_xattrs_keeps_extended_attributes_through_unpack() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    make_tree(&d.join("root"));
    let file = d.join("root/hello.txt");
    let flags = rustix::fs::XattrFlags::empty();
    if rustix::fs::setxattr(&file, "user.ocikit.note", b"kept", flags).is_err() {
        eprintln!("SKIPPED: the temporary directory's filesystem has no user xattrs");
        return;
    }
    let read = |path: &Path| -> Option<Vec<u8>> {
        let mut buf = [0u8; 64];
        let n = rustix::fs::getxattr(path, "user.ocikit.note", &mut buf[..]).ok()?;
        Some(buf[..n].to_vec())
    };
    for (flag, layout, want) in [
        (Some("--xattrs"), "with", Some(b"kept".to_vec())),
        (None, "without", None),
    ] {
        let mut args = vec!["append", "scratch", "root", "-q", "-o"];
        let dest = format!("oci:{layout}:v1");
        args.push(&dest);
        args.extend(flag);
        ocikit(d, &args).ok();
        ocikit(d, &["unpack", &dest, &format!("{layout}-tree")]).ok();
        assert_eq!(
            read(&d.join(format!("{layout}-tree/hello.txt"))),
            want,
            "{layout}"
        );
    }
}

#[test]
fn append_takes_no_layers_and_t_names_the_layout_ref() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let out = d.join("out");
    let o = format!("oci:{}", out.display());
    ocikit(
        d,
        &[
            "append",
            "scratch",
            "-t",
            "example.com/app:v1",
            "-o",
            &o,
            "-q",
        ],
    )
    .ok();
    ocikit(
        d,
        &[
            "append",
            "scratch",
            "-t",
            "v2",
            "-o",
            &o,
            "-q",
            "--platform",
            "linux/arm64",
        ],
    )
    .ok();
    let index = json(&std::fs::read_to_string(out.join("index.json")).unwrap());
    let names: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["example.com/app:v1", "v2"]);
    // A docker archive still needs a name.
    let tar = d.join("x.tar");
    ocikit(d, &["append", "scratch", "-o", tar.to_str().unwrap()]).fails(2);
}

#[test]
fn rebase_gives_the_diff_ids_of_building_on_the_new_base() {
    if !have("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for dir in ["base1", "base2", "app"] {
        make_tree(&d.join(dir));
        std::fs::write(d.join(dir).join("which"), dir).unwrap();
    }
    let l = d.join("layout");
    let n = |r: &str| format!("oci:{}:{r}", l.display());
    ocikit(d, &["append", "scratch", "base1", "-o", &n("base1"), "-q"]).ok();
    ocikit(
        d,
        &[
            "append",
            "scratch",
            "base2",
            "--platform",
            "linux/arm64",
            "-o",
            &n("base2"),
            "-q",
        ],
    )
    .ok();
    ocikit(d, &["append", &n("base1"), "app", "-o", &n("app"), "-q"]).ok();
    ocikit(
        d,
        &["mutate", &n("app"), "-o", &n("app"), "--user", "app", "-q"],
    )
    .ok();
    ocikit(
        d,
        &[
            "append",
            &n("base2"),
            "app",
            "-o",
            &n("direct"),
            "-q",
            "--platform",
            "linux/arm64",
        ],
    )
    .ok();
    ocikit(
        d,
        &[
            "rebase",
            &n("app"),
            "--old-base",
            &n("base1"),
            "--new-base",
            &n("base2"),
            "-o",
            &n("rebased"),
            "-q",
        ],
    )
    .ok();
    let rebased = skopeo_config(d, &n("rebased"));
    let direct = skopeo_config(d, &n("direct"));
    assert_eq!(rebased["rootfs"], direct["rootfs"]);
    assert_eq!(rebased["architecture"], "arm64");
    assert_eq!(rebased["config"]["User"], "app");
    assert_eq!(rebased["history"].as_array().unwrap().len(), 2);
    ocikit(d, &["verify", &n("rebased")]).ok();
    // The wrong old base is refused, and nothing is written.
    ocikit(
        d,
        &[
            "rebase",
            &n("app"),
            "--old-base",
            &n("base2"),
            "--new-base",
            &n("base1"),
            "-o",
            &n("bad"),
            "-q",
        ],
    )
    .fails(1);
}

#[test]
fn an_attached_artifact_is_listed_and_fetched_back() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    make_tree(&d.join("app"));
    let sbom = br#"{"spdxVersion":"SPDX-2.3","name":"app"}"#;
    std::fs::write(d.join("sbom.json"), sbom).unwrap();
    let layout = format!("oci:{}:app", d.join("layout").display());
    ocikit(d, &["append", "scratch", "app", "-o", &layout, "-q"]).ok();
    let mut places = vec![layout];
    let registry = oci_remote::testing::Registry::start();
    if let Some(r) = &registry {
        let remote = format!("docker://{}/attach/app:v1", r.host());
        ocikit(d, &["copy", "-q", &places[0], &remote]).ok();
        places.push(remote);
    }
    for place in &places {
        let art = ocikit(
            d,
            &[
                "attach",
                place,
                "--artifact-type",
                "application/spdx+json",
                "sbom.json",
            ],
        )
        .ok()
        .stdout
        .trim()
        .to_owned();
        let listed = ocikit(d, &["referrers", place]).ok().stdout;
        assert_eq!(
            listed.trim(),
            format!("{art} application/spdx+json"),
            "{place}"
        );
        let none = ocikit(
            d,
            &["referrers", place, "--artifact-type", "application/x-other"],
        )
        .ok();
        assert!(none.stdout.trim().is_empty(), "{place}: {}", none.stdout);
        let index = json(&ocikit(d, &["referrers", place, "--json"]).ok().stdout);
        assert_eq!(
            index["manifests"][0]["artifactType"],
            "application/spdx+json"
        );
        // The blob back, byte for byte.
        let manifest = match place.strip_prefix("docker://") {
            Some(remote) => {
                let repo = remote.rsplit_once(':').unwrap().0;
                let m = json(
                    &ocikit(d, &["manifest", &format!("{repo}@{art}")])
                        .ok()
                        .stdout,
                );
                let blob = m["layers"][0]["digest"].as_str().unwrap().to_owned();
                let bytes = Command::new(env!("CARGO_BIN_EXE_ocikit"))
                    .current_dir(d)
                    .args(["blob", &format!("{repo}@{blob}")])
                    .output()
                    .unwrap();
                assert!(bytes.status.success());
                assert_eq!(bytes.stdout, sbom);
                m
            }
            None => {
                let dir = d.join("layout");
                let hex = art.strip_prefix("sha256:").unwrap();
                let m = json(&std::fs::read_to_string(dir.join("blobs/sha256").join(hex)).unwrap());
                let blob = m["layers"][0]["digest"].as_str().unwrap();
                let path = dir
                    .join("blobs/sha256")
                    .join(blob.strip_prefix("sha256:").unwrap());
                assert_eq!(std::fs::read(path).unwrap(), sbom);
                m
            }
        };
        assert_eq!(manifest["artifactType"], "application/spdx+json");
        assert_eq!(
            manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
            "sbom.json"
        );
        assert_eq!(
            manifest["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
    }
    // A docker archive holds no artifacts.
    ocikit(
        d,
        &["copy", "-q", &places[0], "docker-archive:x.tar:app:v1"],
    )
    .ok();
    ocikit(
        d,
        &["attach", "x.tar", "--artifact-type", "a/b", "sbom.json"],
    )
    .fails(2);
}

#[test]
fn containerd_imports_every_platform_of_an_index_we_built() {
    let Some((containerd, ctr)) = crate::containerd::daemon::tools() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for (dir, platform) in [("amd", "linux/amd64"), ("arm", "linux/arm64")] {
        make_tree(&d.join(dir));
        std::fs::write(d.join(dir).join("arch"), dir).unwrap();
        let out = format!("oci:{}:{dir}", d.join("layout").display());
        ocikit(
            d,
            &[
                "append",
                "scratch",
                dir,
                "--platform",
                platform,
                "-o",
                &out,
                "-q",
            ],
        )
        .ok();
    }
    let n = |r: &str| format!("oci:{}:{r}", d.join("layout").display());
    let archive = format!("oci-archive:{}:multi", d.join("multi.tar").display());
    ocikit(
        d,
        &[
            "index",
            "create",
            &archive,
            "-m",
            &n("amd"),
            "-m",
            &n("arm"),
            "-q",
        ],
    )
    .ok();

    let daemon = crate::containerd::daemon::Daemon::start(&containerd, &ctr, &d.join("c"), true);
    let ctr = |args: &[&str]| daemon.ctr(args);
    let tar = d.join("multi.tar");
    let out = ctr(&[
        "images",
        "import",
        "--all-platforms",
        "--no-unpack",
        "--index-name",
        "example.com/multi:v1",
        tar.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ls = String::from_utf8(ctr(&["images", "ls"]).stdout).unwrap();
    let line = ls
        .lines()
        .find(|l| l.starts_with("example.com/multi:v1"))
        .unwrap_or_else(|| panic!("{ls}"));
    assert!(line.contains("linux/amd64,linux/arm64"), "{line}");
    // Every blob of both platforms is in its content store.
    let content = String::from_utf8(ctr(&["content", "ls", "-q"]).stdout).unwrap();
    for platform in ["amd64", "arm64"] {
        let config = peer(
            d,
            "skopeo",
            &[
                "inspect",
                "--config",
                "--raw",
                "--override-arch",
                platform,
                &n(if platform == "amd64" { "amd" } else { "arm" }),
            ],
        );
        let digest = oci_types::Digest::sha256(config.as_bytes());
        assert!(
            content.contains(digest.as_str()),
            "{platform} config missing:\n{content}"
        );
    }
}
