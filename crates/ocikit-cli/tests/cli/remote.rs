//! push, pull, convert, append and `layer --to` against a real registry on loopback,
//! cross-checked with skopeo and umoci. Each test has its own registry.

use std::io::Read;
use std::path::Path;

use oci_remote::testing::{http, Registry};
use oci_types::Digest;
use serde_json::Value;

use crate::interop::assert_unpacks_to;
use crate::support::*;

/// The config digest (image ID) of the fixtures' `hello` image.
const HELLO_CONFIG: &str =
    "sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede";
/// The manifest and config digests of the fixtures' `hello` and `hello-extra` in `oci-layout/`.
const HELLO_MANIFEST: &str =
    "sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b";
const EXTRA_MANIFEST: &str =
    "sha256:77428be40ef7b7f55ee058598993a9ddfcff6c610802b133f28c49770a3f7bcc";

/// `GET path` on `registry`, accepting every manifest type (distribution answers 404 for an
/// OCI manifest to a client that does not accept OCI): the status and body.
fn get(registry: &Registry, path: &str) -> (u16, Vec<u8>) {
    let (status, _, body) = http::get(&registry.host(), path, &[("Accept", oci_remote::ACCEPT)]);
    (status, body)
}

fn fixture(rel: &str) -> String {
    fixtures().join(rel).to_str().unwrap().to_owned()
}

/// `ocikit inspect NAME --json`: the first image.
fn inspect(dir: &Path, name: &str) -> Value {
    let out = ocikit(dir, &["inspect", name, "--json"]).ok().stdout;
    serde_json::from_str::<Value>(&out).unwrap()[0].clone()
}

/// A field of every layer of an inspected image.
fn layers(info: &Value, field: &str) -> Vec<String> {
    info["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[field].as_str().unwrap().to_owned())
        .collect()
}

/// The digest in `wrote NAME (manifest DIGEST)` or `(index DIGEST)`.
fn written_digest(run: &Run) -> String {
    let line = run.stderr.lines().last().unwrap();
    let start = line.find("sha256:").unwrap_or_else(|| panic!("{line}"));
    line[start..].trim_end_matches(')').to_owned()
}

#[test]
fn push_then_pull_keeps_every_digest() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let src = fixture("docker-archive/skopeo-hello.tar");
    let dst = format!("docker://{}/fixtures/hello:1.0", registry.host());
    let pushed = written_digest(&ocikit(d, &["push", &src, &dst]).ok());

    let local = inspect(d, &src);
    let remote = inspect(d, &dst);
    assert_eq!(remote["digest"], pushed.as_str());
    assert_eq!(remote["config_digest"], HELLO_CONFIG);
    assert_eq!(layers(&remote, "diff_id"), layers(&local, "diff_id"));
    assert_eq!(
        layers(&remote, "media_type"),
        ["application/vnd.docker.image.rootfs.diff.tar.gzip"; 2],
        "the archive's tars are pushed gzipped, in the image's own (Docker) media types"
    );
    // Compression is deterministic: the same push gives the same manifest.
    let again = written_digest(&ocikit(d, &["push", &src, &dst]).ok());
    assert_eq!(again, pushed);

    // Into an OCI layout the layers come as they are in the registry.
    ocikit(d, &["pull", &dst, "oci:lay:1.0"]).ok();
    let lay = inspect(d, "oci:lay:1.0");
    assert_eq!(lay["config_digest"], HELLO_CONFIG);
    assert_eq!(layers(&lay, "digest"), layers(&remote, "digest"));
    assert_eq!(layers(&lay, "diff_id"), layers(&local, "diff_id"));
    // Into a docker archive: the same image ID and tars, tagged with the reference pulled.
    ocikit(d, &["pull", &dst, "pulled.tar"]).ok();
    let archive = inspect(d, "pulled.tar");
    assert_eq!(archive["config_digest"], HELLO_CONFIG);
    assert_eq!(layers(&archive, "diff_id"), layers(&local, "diff_id"));
    assert_eq!(
        archive["tags"][0],
        format!("{}/fixtures/hello:1.0", registry.host())
    );
    ocikit(d, &["verify", &dst]).ok();
    ocikit(d, &["verify", "oci:lay:1.0"]).ok();
    ocikit(d, &["verify", "pulled.tar"]).ok();

    // Registry to registry: the manifest's bytes are kept.
    let copy = format!("docker://{}/copies/hello", registry.host());
    let copied = written_digest(&ocikit(d, &["convert", &dst, &copy]).ok());
    assert_eq!(copied, pushed);
    assert_eq!(
        inspect(d, &format!("{copy}:latest"))["digest"],
        pushed.as_str()
    );
    // An OCI layout's image goes up byte for byte: umoci's manifest keeps its digest.
    let umoci = format!("oci:{}:hello", fixture("oci-layout"));
    let up = format!("docker://{}/umoci/hello:1", registry.host());
    assert_eq!(
        written_digest(&ocikit(d, &["push", &umoci, &up]).ok()),
        HELLO_MANIFEST
    );
}

#[test]
fn skopeo_reads_what_we_push_and_umoci_unpacks_it() {
    if !have("skopeo") || !have("umoci") {
        return;
    }
    let Some(registry) = Registry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    make_tree(&d.join("root"));
    let host = registry.host();
    ocikit(
        d,
        &[
            "append",
            "scratch",
            "root",
            "-t",
            "example.com/tree:v1",
            "-o",
            "tree.tar",
        ],
    )
    .ok();
    let pushed_ref = format!("docker://{host}/tree:v1");
    let pushed = written_digest(&ocikit(d, &["push", "tree.tar", &pushed_ref]).ok());
    let ours = inspect(d, &pushed_ref);

    let theirs: Value = serde_json::from_str(&peer(
        d,
        "skopeo",
        &["inspect", "--tls-verify=false", &pushed_ref],
    ))
    .unwrap();
    assert_eq!(theirs["Digest"], pushed.as_str());
    assert_eq!(
        theirs["Layers"].as_array().unwrap().len(),
        ours["layers"].as_array().unwrap().len()
    );
    for (a, b) in theirs["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(layers(&ours, "digest"))
    {
        assert_eq!(a.as_str().unwrap(), b);
    }
    let raw = peer(
        d,
        "skopeo",
        &["inspect", "--raw", "--tls-verify=false", &pushed_ref],
    );
    assert_eq!(Digest::sha256(raw.as_bytes()).to_string(), pushed);

    peer(
        d,
        "skopeo",
        &["copy", "--src-tls-verify=false", &pushed_ref, "oci:sk:v1"],
    );
    assert_unpacks_to(d, "sk:v1", "bundle", "root");

    // append straight into the registry: each layer compressed once, streamed into its upload.
    let direct = format!("docker://{host}/tree:direct");
    ocikit(d, &["append", "scratch", "root", "-o", &direct]).ok();
    peer(
        d,
        "skopeo",
        &["copy", "--src-tls-verify=false", &direct, "oci:sk:direct"],
    );
    assert_unpacks_to(d, "sk:direct", "bundle2", "root");
    ocikit(d, &["verify", &direct]).ok();
}

/// A tar of a few files, `len` bytes of content each, some compressible and some not.
fn deterministic_tar(files: u32, len: usize) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for f in 0..files {
        let data: Vec<u8> = (0..len as u32)
            .map(|i| {
                let x = i.wrapping_add(f << 24).wrapping_mul(2_654_435_761);
                if f % 2 == 0 {
                    (x >> 13) as u8
                } else {
                    b"abcdefgh"[(x >> 29) as usize]
                }
            })
            .collect();
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("file-{f}.bin"), &data[..])
            .unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn layer_to_a_registry_uploads_the_blob_it_describes() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let tar = deterministic_tar(4, 1 << 20);
    let to = format!("docker://{}/stream", registry.host());
    let run = ocikit_stdin(d, &["layer", "-", "--to", &to], &tar).ok();
    let desc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        desc["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(desc["diffID"], Digest::sha256(&tar).to_string().as_str());
    let digest = desc["digest"].as_str().unwrap();

    let (status, blob) = get(&registry, &format!("/v2/stream/blobs/{digest}"));
    assert_eq!(status, 200);
    assert_eq!(Digest::sha256(&blob).to_string(), digest);
    assert_eq!(blob.len() as u64, desc["size"].as_u64().unwrap());
    let mut unpacked = Vec::new();
    oci_partial::compression::decompress(&blob[..])
        .unwrap()
        .read_to_end(&mut unpacked)
        .unwrap();
    assert!(unpacked == tar, "the blob is not the tar, gzipped");

    // The same tar again: the same descriptor, printed as for the content store.
    let again = ocikit_stdin(d, &["layer", "-", "--to", &to], &tar).ok();
    assert_eq!(again.stdout, run.stdout);
    let store = ocikit_stdin(d, &["layer", "-", "--store", "store"], &tar).ok();
    assert_eq!(store.stdout, run.stdout);
}

#[test]
fn missing_tags_fail_naming_the_reference_and_never_show_credentials() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let missing = format!("docker://{}/fixtures/none:missing", registry.host());
    let r = ocikit(
        d,
        &["pull", &missing, "out.tar", "--creds", "joe:s3cret-pass"],
    )
    .fails(1);
    assert!(r.stderr.contains(&missing), "{}", r.stderr);
    assert!(!r.stderr.contains("s3cret"), "{}", r.stderr);
    assert!(!d.join("out.tar").exists());
    let r = ocikit(d, &["inspect", &missing]).fails(1);
    assert!(r.stderr.contains("missing"), "{}", r.stderr);
    let r = ocikit(d, &["pull", &missing, "oci:lay"]).fails(1);
    assert!(r.stderr.contains(&missing), "{}", r.stderr);
    assert!(!d.join("lay").exists());
}

#[test]
fn plain_http_off_loopback_needs_insecure_registry() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // ::ffff:127.0.0.1 (as a reference spells it) is 127.0.0.1 reached through an IPv6
    // socket: not a loopback address by name, so HTTPS is required, yet every packet stays
    // on the loopback interface (no name is resolved).
    let host = format!("[::ffff:7f00:1]:{}", registry.port());
    let dst = format!("docker://{host}/plain/hello:1");
    let src = fixture("docker-archive/skopeo-hello.tar");
    let r = ocikit(d, &["push", &src, &dst]).fails(1);
    assert!(
        r.stderr.contains(&format!("--insecure-registry {host}")),
        "{}",
        r.stderr
    );
    let (status, _) = get(&registry, "/v2/plain/hello/tags/list");
    assert_eq!(status, 404, "nothing was pushed");

    if std::net::TcpStream::connect(("::ffff:127.0.0.1", registry.port())).is_err() {
        eprintln!("skipping the allowed half: no IPv6 sockets here");
        return;
    }
    // Allowed by host and port, or by host alone (every port).
    ocikit(d, &["push", &src, &dst, "--insecure-registry", &host]).ok();
    let (status, _) = get(&registry, "/v2/plain/hello/tags/list");
    assert_eq!(status, 200);
    ocikit(
        d,
        &["inspect", &dst, "--insecure-registry", "[::ffff:7f00:1]"],
    )
    .ok();
}

/// A copy of the fixtures' OCI layout whose ref `multi` is an index of `hello` (linux/amd64)
/// and `hello-extra` (linux/arm64): the index's digest.
fn multi_platform_layout(dir: &Path) -> String {
    let ok = std::process::Command::new("cp")
        .arg("-r")
        .arg(fixtures().join("oci-layout"))
        .arg(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let entry = |digest: &str, arch: &str| {
        serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": 499,
            "platform": {"architecture": arch, "os": "linux"}
        })
    };
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [entry(HELLO_MANIFEST, "amd64"), entry(EXTRA_MANIFEST, "arm64")]
    }))
    .unwrap();
    let digest = Digest::sha256(&index);
    std::fs::write(dir.join("blobs/sha256").join(digest.encoded()), &index).unwrap();
    let top = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest.to_string(),
            "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": "multi"}
        }]
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    digest.to_string()
}

#[test]
fn an_index_is_copied_whole_or_by_platform() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let index = multi_platform_layout(&d.join("multi"));
    let remote = format!("docker://{}/multi:v1", registry.host());
    let pushed = written_digest(&ocikit(d, &["push", "oci:multi:multi", &remote]).ok());
    assert_eq!(pushed, index, "the index goes up byte for byte");
    let (status, _) = get(&registry, &format!("/v2/multi/manifests/{EXTRA_MANIFEST}"));
    assert_eq!(status, 200, "and every image in it");

    // inspect and verify see both images.
    let all: Value =
        serde_json::from_str(&ocikit(d, &["inspect", &remote, "--json"]).ok().stdout).unwrap();
    let digests: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests, [HELLO_MANIFEST, EXTRA_MANIFEST]);
    // verify checks both images, and the index's entries against them: this index's arm64
    // entry points at an image whose config says amd64.
    let r = ocikit(d, &["verify", &remote]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("platform mismatch"), "{}", r.stdout);
    assert_eq!(r.stdout.lines().filter(|l| l.starts_with("ok ")).count(), 2);

    // Whole into an OCI layout.
    let pulled = written_digest(&ocikit(d, &["pull", &remote, "oci:out:v1"]).ok());
    assert_eq!(pulled, index);
    let top: Value =
        serde_json::from_slice(&std::fs::read(d.join("out/index.json")).unwrap()).unwrap();
    assert_eq!(top["manifests"][0]["digest"], index.as_str());
    // One image into a docker archive: linux/amd64 unless --platform says otherwise.
    ocikit(d, &["pull", &remote, "amd64.tar"]).ok();
    assert_eq!(inspect(d, "amd64.tar")["config_digest"], HELLO_CONFIG);
    ocikit(
        d,
        &["pull", &remote, "arm64.tar", "--platform", "linux/arm64"],
    )
    .ok();
    let extra = inspect(d, &format!("oci:{}:hello-extra", fixture("oci-layout")));
    assert_eq!(
        inspect(d, "arm64.tar")["config_digest"],
        extra["config_digest"]
    );
    let r = ocikit(
        d,
        &["pull", &remote, "s390x.tar", "--platform", "linux/s390x"],
    )
    .fails(1);
    assert!(r.stderr.contains("linux/s390x"), "{}", r.stderr);
    assert!(
        r.stderr.contains("linux/arm64"),
        "the choices are named: {}",
        r.stderr
    );
    // An index is copied as it is: no recompression.
    ocikit(d, &["pull", &remote, "oci:out:v2", "--compress", "zstd"]).fails(2);
}

#[test]
fn push_and_pull_name_their_registry_side() {
    // Usage errors, found before any connection.
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let src = fixture("docker-archive/skopeo-hello.tar");
    let r = ocikit(d, &["push", &src, "oci:out"]).fails(2);
    assert!(r.stderr.contains("docker://"), "{}", r.stderr);
    ocikit(d, &["pull", &src, "oci:out"]).fails(2);
    ocikit(d, &["layer", "-", "--to", "oci:out"]).fails(2);
    ocikit(d, &["layer", "-", "--to", "docker://localhost:1/repo:tag"]).fails(2);
    assert_eq!(
        ocikit(d, &["layer", "-"]).code,
        2,
        "--store or --to is needed"
    );
    ocikit(
        d,
        &[
            "pull",
            "docker://localhost:1/a",
            "x.tar",
            "--platform",
            "linux",
        ],
    )
    .fails(2);
    ocikit(d, &["pull", "docker://localhost:1/a:1@sha256:x", "x.tar"]).fails(2);
    assert!(!d.join("out").exists());
}
