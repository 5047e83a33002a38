//! `ocikit copy`: skopeo's flags, standard input and output, and interruption.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::*;

fn hello() -> String {
    format!("oci:{}:hello", fixtures().join("oci-layout").display())
}

#[test]
fn docker_archive_streams_through_a_pipe() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let bin = env!("CARGO_BIN_EXE_ocikit");
    let script = format!(
        "set -e -o pipefail; '{bin}' copy -q '{}' docker-archive:- | '{bin}' cp -q docker-archive:- oci:out:v1",
        hello()
    );
    let ok = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(d)
        .status()
        .unwrap()
        .success();
    assert!(ok, "{script}");
    ocikit(d, &["verify", "oci:out:v1"]).ok();
    // Nothing is left in the temporary directory's name space of this process either.
    assert_eq!(
        std::fs::read_dir(d).unwrap().count(),
        1,
        "only the output: {:?}",
        std::fs::read_dir(d).unwrap().collect::<Vec<_>>()
    );
}

/// Runs a bash pipeline in `dir` (`$OCIKIT` is the binary); its exit code and stderr.
fn pipeline(dir: &Path, script: &str) -> (i32, String) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -o pipefail; {script}"))
        .env("OCIKIT", env!("CARGO_BIN_EXE_ocikit"))
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

/// `docker-archive:-` into a pipe writes, byte for byte, the archive `docker-archive:FILE`
/// writes: layers kept as they come (streamed straight through) and layers stored
/// decompressed (each spooled alone, its size being unknown until read).
#[test]
fn docker_archive_to_a_pipe_is_the_file_archive_byte_for_byte() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for (n, flags) in ["", "--dest-compress-format none"].iter().enumerate() {
        let src = hello();
        let script = format!(
            "\"$OCIKIT\" copy -q {flags} '{src}' docker-archive:- | cat > piped{n}.tar && \"$OCIKIT\" copy -q {flags} '{src}' docker-archive:file{n}.tar"
        );
        let (code, stderr) = pipeline(d, &script);
        assert_eq!(code, 0, "{script}: {stderr}");
        let piped = std::fs::read(d.join(format!("piped{n}.tar"))).unwrap();
        let file = std::fs::read(d.join(format!("file{n}.tar"))).unwrap();
        assert!(
            piped == file,
            "{flags:?}: {} piped bytes, {} in the file",
            piped.len(),
            file.len()
        );
        // And it reads back.
        ocikit(d, &["verify", &format!("docker-archive:piped{n}.tar")]).ok();
    }
}

/// A layer that does not match its digest, found while it streams to stdout, fails the copy
/// with exit 1 and the digest error naming both digests; what went out is a truncated
/// archive (a pipe cannot take it back).
#[test]
fn a_bad_layer_fails_docker_archive_to_stdout_with_the_digest_error() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    ocikit(
        d,
        &[
            "copy",
            "-q",
            "--dest-compress-format",
            "none",
            &hello(),
            "oci:plain:v1",
        ],
    )
    .ok();
    let layer = d
        .join("plain/blobs/sha256")
        .join("5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16");
    let mut bytes = std::fs::read(&layer).unwrap();
    bytes[2000] ^= 0xff;
    let actual = oci_types::Digest::sha256(&bytes).to_string();
    std::fs::remove_file(&layer).unwrap();
    std::fs::write(&layer, &bytes).unwrap();
    let (code, stderr) = pipeline(
        d,
        "\"$OCIKIT\" copy -q oci:plain:v1 docker-archive:- | cat > out.tar",
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("digest mismatch"), "{stderr}");
    assert!(
        stderr.contains("sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16"),
        "{stderr}"
    );
    assert!(stderr.contains(&actual), "{stderr}");
}

#[test]
fn skopeo_flags() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let r = ocikit(
        d,
        &[
            "copy",
            &hello(),
            "oci:z:v1",
            "--dest-compress-format",
            "zstd",
            "--dest-compress-level",
            "5",
            "--digestfile",
            "digest.txt",
        ],
    )
    .ok();
    let digest = std::fs::read_to_string(d.join("digest.txt")).unwrap();
    assert!(r.stderr.contains(&digest), "{}", r.stderr);
    let inspect = ocikit(d, &["inspect", "--json", "oci:z:v1"]).ok();
    assert!(inspect.stdout.contains("tar+zstd"), "{}", inspect.stdout);
    // The old spellings still work (hidden), as does convert.
    ocikit(
        d,
        &[
            "convert",
            &hello(),
            "oci:g:v1",
            "--compress",
            "gzip",
            "--level",
            "1",
        ],
    )
    .ok();
    // --preserve-digests refuses a recompression: exit 1, nothing written.
    ocikit(
        d,
        &[
            "copy",
            "--preserve-digests",
            "--dest-compress-format",
            "zstd",
            &hello(),
            "oci:p:v1",
        ],
    )
    .fails(1);
    assert!(!d.join("p").exists());
    ocikit(d, &["copy", "--preserve-digests", &hello(), "oci:p:v1"]).ok();
    // --all into a docker archive of a single image is fine; --all with --platform is not.
    ocikit(
        d,
        &[
            "copy",
            "--all",
            "--platform",
            "linux/amd64",
            &hello(),
            "x.tar",
        ],
    )
    .fails(2);
}

/// A docker archive of one layer of `mib` MiB of compressible text, made with `ocikit append`.
fn big_archive(d: &Path, mib: usize) -> std::path::PathBuf {
    let root = d.join("root");
    std::fs::create_dir(&root).unwrap();
    let mut text = Vec::with_capacity(mib << 20);
    let mut i = 0u64;
    while text.len() < mib << 20 {
        text.extend_from_slice(
            format!("line {i} of a large layer, {}\n", i * 7919 % 104729).as_bytes(),
        );
        i += 1;
    }
    std::fs::write(root.join("big.txt"), &text).unwrap();
    ocikit(
        d,
        &[
            "append", "-q", "scratch", "root", "-t", "big:1", "-o", "big.tar",
        ],
    )
    .ok();
    std::fs::remove_dir_all(&root).unwrap();
    d.join("big.tar")
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn sigint_leaves_nothing_beside_the_destination_and_it_unchanged() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let big = big_archive(d, 48);
    let out = d.join("out");
    std::fs::create_dir(&out).unwrap();
    // An existing layout and an existing archive, which must stay as they are.
    ocikit(d, &["copy", "-q", &hello(), "oci:out/lay:old"]).ok();
    std::fs::write(out.join("old.tar"), b"before").unwrap();
    let index_before = std::fs::read(out.join("lay/index.json")).unwrap();
    let before = names(&out);
    for dst in [
        "docker-archive:out/old.tar",
        "docker-archive:out/new.tar",
        "oci:out/lay:new",
        "oci:out/newlay:new",
        "oci-archive:out/new.oci.tar",
        "dir:out/newdir",
    ] {
        let child = Command::new(env!("CARGO_BIN_EXE_ocikit"))
            .args([
                "copy",
                "-q",
                &format!("docker-archive:{}", big.display()),
                dst,
            ])
            .args([
                "--dest-compress-format",
                "gzip",
                "--dest-compress-level",
                "12",
            ])
            .current_dir(d)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
        let ok = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "{dst}: {stderr}");
        assert!(stderr.contains("cancelled"), "{dst}: {stderr}");
        assert_eq!(names(&out), before, "{dst}");
        assert_eq!(
            std::fs::read(out.join("old.tar")).unwrap(),
            b"before",
            "{dst}"
        );
        assert_eq!(
            std::fs::read(out.join("lay/index.json")).unwrap(),
            index_before,
            "{dst}"
        );
        let lay = names(&out.join("lay"));
        assert!(!lay.iter().any(|n| n.ends_with(".tmp")), "{dst}: {lay:?}");
    }
    // No ingest was left in the layout's store either.
    let ingests = ocikit(d, &["store", "out/lay", "ingests"]).ok();
    // Only the header line: no ingest.
    assert_eq!(
        ingests.stdout.trim().lines().count(),
        1,
        "{}",
        ingests.stdout
    );
}
