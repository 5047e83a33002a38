//! Error paths: exit status 2 for usage, 1 for failures, one line, no half-written output.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    let ok = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn usage_errors_exit_2() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir(d.join("root")).unwrap();
    let r = ocikit(
        d,
        &[
            "append",
            "scratch",
            "root",
            "-t",
            "Bad/Name:1",
            "-o",
            "x.tar",
        ],
    )
    .fails(2);
    assert!(r.stderr.contains("Bad/Name"), "{}", r.stderr);
    // An unknown transport is a usage error naming the closest one, never a path.
    let r = ocikit(d, &["inspect", "containers-storage:x"]).fails(2);
    assert!(r.stderr.contains("unknown transport"), "{}", r.stderr);
    let r = ocikit(d, &["copy", "docker:/x", "oci:out"]).fails(2);
    assert!(r.stderr.contains("did you mean docker://"), "{}", r.stderr);
    // A missing file is a failure (exit 1), with or without its transport.
    let r = ocikit(d, &["copy", "no-such.tar", "oci:out"]).fails(1);
    assert!(r.stderr.contains("no such file"), "{}", r.stderr);
    assert!(r.stderr.contains("docker://"), "{}", r.stderr);
    ocikit(d, &["inspect", "docker://Bad/Name"]).fails(2);
    ocikit(
        d,
        &[
            "append",
            "scratch",
            "root",
            "-t",
            "a:1",
            "-o",
            "x.tar",
            "--platform",
            "linux",
        ],
    )
    .fails(2);
    ocikit(d, &["store", d.to_str().unwrap(), "info", "sha256:nothex"]).fails(2);
    // clap's own usage errors: one line too, with the --help hint.
    let r = ocikit(d, &["convert", "only-one-arg"]).fails(2);
    assert!(
        r.stderr.contains("<DST>") && r.stderr.contains("--help"),
        "{}",
        r.stderr
    );
    let r = ocikit(d, &["lss"]).fails(2);
    assert!(r.stderr.contains("'ls'"), "{}", r.stderr);
    assert!(!d.join("x.tar").exists());
}

#[test]
fn missing_input_exits_1_naming_it() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let r = ocikit(d, &["inspect", "docker-archive:missing.tar"]).fails(1);
    assert!(r.stderr.contains("missing.tar"), "{}", r.stderr);
    let r = ocikit(
        d,
        &[
            "append",
            "scratch",
            "no-such-dir",
            "-t",
            "a:1",
            "-o",
            "out.tar",
        ],
    )
    .fails(1);
    assert!(r.stderr.contains("no-such-dir"), "{}", r.stderr);
    assert!(!d.join("out.tar").exists());
    let lay = format!("oci:{}:nope", fixtures().join("oci-layout").display());
    let r = ocikit(d, &["inspect", &lay]).fails(1);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
}

#[test]
fn digest_mismatch_is_found_and_nothing_is_written() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    copy_dir(&fixtures().join("oci-layout"), &d.join("lay"));
    let layer = "ccea505ee7e7620339c0fd46f060e164734e9b843d0927075ae5a780ec2c8670";
    let blob = d.join("lay/blobs/sha256").join(layer);
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();

    let r = ocikit(d, &["verify", "oci:lay:hello"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("MISMATCH"), "{}", r.stdout);
    assert!(
        r.stdout.contains(layer),
        "the expected digest is named: {}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&oci_types::Digest::sha256(&bytes).to_string()),
        "the actual digest is named: {}",
        r.stdout
    );
    // The untouched image of the same layout still verifies.
    ocikit(d, &["verify", "oci:lay:hello-extra"]).ok();

    // A convert that meets the bad blob fails and leaves no archive, and an existing output
    // is left as it was.
    let r = ocikit(d, &["convert", "oci:lay:hello", "out.tar"]).fails(1);
    let diff_id = "9d82869a1a6009a8095f6f5e98545abad1f2077651b2a19c8485157f16063eb9";
    assert!(
        r.stderr.contains(diff_id),
        "the layer is named: {}",
        r.stderr
    );
    assert!(!d.join("out.tar").exists());
    std::fs::write(d.join("keep.tar"), b"previous contents").unwrap();
    ocikit(
        d,
        &["convert", "oci:lay:hello", "docker-archive:keep.tar:a/b:1"],
    )
    .fails(1);
    assert_eq!(
        std::fs::read(d.join("keep.tar")).unwrap(),
        b"previous contents"
    );
    // Into a new layout: nothing left behind either.
    ocikit(d, &["convert", "oci:lay:hello", "oci:newlay:x"]).fails(1);
    assert!(!d.join("newlay").exists());
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains("ocikit"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn an_interrupted_append_leaves_no_output() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocikit"))
        .current_dir(d)
        .args(["append", "scratch", "-", "-t", "a:1", "-o", "out.tar"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Half a layer, then the process dies (SIGKILL) while waiting for the rest.
    stdin.write_all(&vec![7u8; 4 << 20]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !d.join("out.tar").exists(),
        "a killed append must not leave its output"
    );
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    // `ocikit inspect IMAGE | head -1`: the reader goes away before ocikit writes.
    let archive = fixtures().join("docker-archive/skopeo-hello.tar");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocikit"))
        .args(["inspect", archive.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "{stderr}");
}
