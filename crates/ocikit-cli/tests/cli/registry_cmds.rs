//! The crane-named registry commands (ls, catalog, manifest, config, digest, blob, delete,
//! tag) and login/logout against a loopback `docker-registry`, compared with what skopeo
//! shows and does on the same registry; TLS with a CA made by openssl and htpasswd auth;
//! a fake credential helper on PATH.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use oci_remote::testing::{Registry, TestCerts, PASSWORD, USER};
use oci_types::Digest;
use serde_json::{json, Value};

use crate::support::{fixtures, have, Run};

pub(crate) const HELLO: &str =
    "sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b";
pub(crate) const EXTRA: &str =
    "sha256:77428be40ef7b7f55ee058598993a9ddfcff6c610802b133f28c49770a3f7bcc";

/// `ocikit ARGS` in `dir` with `stdin`, blind to the user's credential files (HOME too), with
/// `extra_path` in front of PATH.
fn run(dir: &Path, args: &[&str], stdin: &[u8], extra_path: Option<&Path>) -> (Run, Vec<u8>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocikit"));
    command
        .current_dir(dir)
        .args(args)
        .env("DOCKER_CONFIG", dir.join(".no-docker-config"))
        .env("HOME", dir.join(".no-home"))
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(extra) = extra_path {
        let path = format!(
            "{}:{}",
            extra.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        command.env("PATH", path);
    }
    let mut child = command.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let raw = out.stdout.clone();
    (
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        raw,
    )
}

fn ocikit(dir: &Path, args: &[&str]) -> Run {
    run(dir, args, b"", None).0
}

/// Raw stdout of a successful run.
fn raw(dir: &Path, args: &[&str]) -> Vec<u8> {
    let (result, bytes) = run(dir, args, b"", None);
    result.ok();
    bytes
}

fn skopeo_raw(args: &[&str]) -> Vec<u8> {
    let out = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A copy of the fixtures' OCI layout with an index `multi` of `hello` (linux/amd64) and
/// `hello-extra` (linux/arm64); returns the layout and the index's bytes.
pub(crate) fn layout_with_index(dir: &Path) -> (PathBuf, Vec<u8>) {
    let layout = dir.join("layout");
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    let src = fixtures().join("oci-layout");
    for entry in fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        fs::copy(
            entry.path(),
            layout.join("blobs/sha256").join(entry.file_name()),
        )
        .unwrap();
    }
    fs::copy(src.join("oci-layout"), layout.join("oci-layout")).unwrap();
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": HELLO, "size": 499,
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": EXTRA, "size": 499,
             "platform": {"architecture": "arm64", "os": "linux"}}
        ]
    }))
    .unwrap();
    let digest = Digest::sha256(&index);
    fs::write(layout.join("blobs/sha256").join(digest.encoded()), &index).unwrap();
    let top = json!({
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest.to_string(),
             "size": index.len(), "annotations": {"org.opencontainers.image.ref.name": "multi"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": HELLO, "size": 499,
             "annotations": {"org.opencontainers.image.ref.name": "hello"}}
        ]
    });
    fs::write(layout.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    (layout, index)
}

#[test]
fn registry_commands_agree_with_skopeo() {
    let Some(registry) = Registry::start() else {
        return;
    };
    if !have("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let host = registry.host();
    let (layout, index_bytes) = layout_with_index(d);
    let layout_s = layout.to_str().unwrap();
    let multi = format!("{host}/cmds/app:multi");
    let single = format!("{host}/cmds/app:v1");
    skopeo_raw(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        &format!("oci:{layout_s}:multi"),
        &format!("docker://{multi}"),
    ]);
    skopeo_raw(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{layout_s}:hello"),
        &format!("docker://{single}"),
    ]);

    // manifest: the bytes skopeo shows, with or without docker://; digest: their sha256.
    let skopeo_index = skopeo_raw(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{multi}"),
    ]);
    assert_eq!(raw(d, &["manifest", &multi]), skopeo_index);
    assert_eq!(
        raw(d, &["manifest", &format!("docker://{multi}")]),
        skopeo_index
    );
    let index_digest = Digest::sha256(&skopeo_index).to_string();
    assert_eq!(
        ocikit(d, &["digest", &multi]).ok().stdout.trim(),
        index_digest
    );
    let digest_json: Value =
        serde_json::from_str(&ocikit(d, &["digest", &multi, "--json"]).ok().stdout).unwrap();
    assert_eq!(digest_json["digest"], index_digest);
    assert_eq!(
        digest_json["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        ocikit(d, &["digest", &multi, "--platform", "linux/arm64"])
            .ok()
            .stdout
            .trim(),
        EXTRA
    );
    let arm = skopeo_raw(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{host}/cmds/app@{EXTRA}"),
    ]);
    assert_eq!(
        raw(d, &["manifest", &multi, "--platform", "linux/arm64"]),
        arm
    );

    // The same commands on an OCI layout: the index as stored.
    let oci_multi = format!("oci:{layout_s}:multi");
    assert_eq!(raw(d, &["manifest", &oci_multi]), index_bytes);
    assert_eq!(
        ocikit(d, &["digest", &oci_multi]).ok().stdout.trim(),
        Digest::sha256(&index_bytes).to_string()
    );
    assert_eq!(
        ocikit(d, &["digest", &oci_multi, "--platform", "linux/arm64"])
            .ok()
            .stdout
            .trim(),
        EXTRA
    );

    // config: skopeo's bytes, for an image and (linux/amd64) for an index; the same blob.
    let config = skopeo_raw(&[
        "inspect",
        "--tls-verify=false",
        "--config",
        "--raw",
        &format!("docker://{single}"),
    ]);
    assert_eq!(raw(d, &["config", &single]), config);
    assert_eq!(raw(d, &["config", &multi]), config);
    assert_eq!(
        raw(d, &["config", &format!("oci:{layout_s}:hello")]),
        config
    );
    let config_digest = Digest::sha256(&config);
    assert_eq!(
        raw(d, &["blob", &format!("{host}/cmds/app@{config_digest}")]),
        config
    );

    // ls: skopeo list-tags' tags, and its JSON shape.
    let tag = ocikit(d, &["tag", &single, "stable", "--json"]).ok();
    let tagged: Value = serde_json::from_str(&tag.stdout).unwrap();
    assert_eq!(tagged["digest"], HELLO);
    let listed: Value = serde_json::from_slice(&skopeo_raw(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{host}/cmds/app"),
    ]))
    .unwrap();
    let ours: Value = serde_json::from_str(
        &ocikit(d, &["ls", &format!("{host}/cmds/app"), "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    let sorted = |v: &Value| {
        let mut tags: Vec<String> = serde_json::from_value(v["Tags"].clone()).unwrap();
        tags.sort();
        tags
    };
    assert_eq!(sorted(&ours), sorted(&listed));
    assert_eq!(sorted(&ours), ["multi", "stable", "v1"]);
    assert_eq!(ours["Repository"], format!("{host}/cmds/app"));
    let mut plain: Vec<String> = ocikit(d, &["ls", &format!("docker://{host}/cmds/app")])
        .ok()
        .stdout
        .lines()
        .map(str::to_owned)
        .collect();
    plain.sort();
    assert_eq!(plain, ["multi", "stable", "v1"]);
    assert_eq!(ocikit(d, &["catalog", &host]).ok().stdout, "cmds/app\n");

    // delete: gone for skopeo too (both tags of the manifest, as skopeo delete does).
    let deleted = ocikit(d, &["delete", &format!("{host}/cmds/app:stable")]).ok();
    assert!(deleted.stderr.contains(HELLO), "{}", deleted.stderr);
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            "--raw",
            &format!("docker://{single}"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    // A tag alone: distribution refuses, and says so in one line.
    let refused = ocikit(d, &["delete", "--tag-only", &multi]).fails(1);
    assert!(
        refused.stderr.contains("does not allow deleting a tag"),
        "{}",
        refused.stderr
    );
    // And what skopeo deletes is gone for us.
    skopeo_raw(&["delete", "--tls-verify=false", &format!("docker://{multi}")]);
    let gone = ocikit(d, &["digest", &multi]).fails(1);
    assert!(gone.stderr.contains("no such manifest"), "{}", gone.stderr);

    // Usage errors: exit 2, one line.
    ocikit(d, &["blob", &format!("{host}/cmds/app:v1")]).fails(2);
    ocikit(d, &["ls", "Not A Reference"]).fails(2);
    ocikit(d, &["digest", &multi, "--platform", "linux"]).fails(2);
}

#[test]
fn tls_login_logout_and_credential_helpers() {
    let Some(certs) = TestCerts::make() else {
        return;
    };
    let Some(registry) = Registry::start_tls(&certs, true) else {
        return;
    };
    if !have("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let host = registry.host();
    let cert_dir = d.join("certs");
    fs::create_dir(&cert_dir).unwrap();
    fs::copy(certs.ca(), cert_dir.join("ca.crt")).unwrap();
    let cert_dir_s = cert_dir.to_str().unwrap();
    let creds = format!("{USER}:{PASSWORD}");
    let image = format!("{host}/tls/app:v1");
    let hello = fixtures().join("oci-layout");
    skopeo_raw(&[
        "copy",
        "--dest-cert-dir",
        cert_dir_s,
        "--dest-creds",
        &creds,
        &format!("oci:{}:hello", hello.display()),
        &format!("docker://{image}"),
    ]);

    // An unknown CA: one line naming the certificate problem, not "not a registry".
    let failed = ocikit(d, &["digest", &image, "--creds", &creds]).fails(1);
    assert!(
        failed.stderr.contains("certificate") || failed.stderr.contains("UnknownIssuer"),
        "{}",
        failed.stderr
    );
    assert!(
        !failed.stderr.contains("not a registry"),
        "{}",
        failed.stderr
    );
    // Trusted through --cert-dir, or not verified at all (--tls-verify=false, --insecure).
    assert_eq!(
        ocikit(
            d,
            &[
                "digest",
                &image,
                "--creds",
                &creds,
                "--cert-dir",
                cert_dir_s
            ]
        )
        .ok()
        .stdout
        .trim(),
        HELLO
    );
    assert_eq!(
        ocikit(
            d,
            &["digest", &image, "--creds", &creds, "--tls-verify=false"]
        )
        .ok()
        .stdout
        .trim(),
        HELLO
    );
    assert_eq!(
        ocikit(d, &["digest", &image, "--creds", &creds, "--insecure"])
            .ok()
            .stdout
            .trim(),
        HELLO
    );

    // login checks the password first: a wrong one writes nothing.
    let authfile = d.join("auth.json");
    let authfile_s = authfile.to_str().unwrap();
    let (wrong, _) = run(
        d,
        &[
            "login",
            &host,
            "-u",
            USER,
            "--password-stdin",
            "--cert-dir",
            cert_dir_s,
            "--authfile",
            authfile_s,
        ],
        b"wrong\n",
        None,
    );
    let wrong = wrong.fails(1);
    assert!(wrong.stderr.contains("authentication"), "{}", wrong.stderr);
    assert!(!authfile.exists());
    let (ok, _) = run(
        d,
        &[
            "login",
            &host,
            "-u",
            USER,
            "--password-stdin",
            "--cert-dir",
            cert_dir_s,
            "--authfile",
            authfile_s,
        ],
        format!("{PASSWORD}\n").as_bytes(),
        None,
    );
    ok.ok();
    assert_eq!(
        fs::metadata(&authfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // skopeo reads what login wrote.
    skopeo_raw(&[
        "inspect",
        "--cert-dir",
        cert_dir_s,
        "--authfile",
        authfile_s,
        "--raw",
        &format!("docker://{image}"),
    ]);
    // push, with the flags of every registry command: login's credentials, then refused
    // after logout with an authentication error.
    let hello_s = format!("oci:{}:hello", hello.display());
    let pushed = format!("docker://{host}/tls/pushed:v1");
    let push_args = [
        "push",
        hello_s.as_str(),
        pushed.as_str(),
        "--cert-dir",
        cert_dir_s,
        "--authfile",
        authfile_s,
    ];
    ocikit(d, &push_args).ok();
    let failed = ocikit(
        d,
        &[
            "push",
            hello_s.as_str(),
            pushed.as_str(),
            "--authfile",
            authfile_s,
        ],
    )
    .fails(1);
    assert!(failed.stderr.contains("--cert-dir"), "{}", failed.stderr);
    ocikit(
        d,
        &[
            "push",
            hello_s.as_str(),
            pushed.as_str(),
            "--tls-verify=false",
            "--authfile",
            authfile_s,
        ],
    )
    .ok();
    // A push (tag) with the stored credentials; after logout it is refused.
    let tag_args = [
        "tag",
        image.as_str(),
        "v2",
        "--cert-dir",
        cert_dir_s,
        "--authfile",
        authfile_s,
    ];
    ocikit(d, &tag_args).ok();
    ocikit(d, &["logout", &host, "--authfile", authfile_s]).ok();
    let refused = ocikit(d, &push_args).fails(1);
    assert!(
        refused.stderr.contains("authentication to"),
        "{}",
        refused.stderr
    );
    let refused = ocikit(d, &tag_args).fails(1);
    assert!(
        refused.stderr.contains("authentication to"),
        "{}",
        refused.stderr
    );
    ocikit(d, &["logout", &host, "--authfile", authfile_s]).fails(1);

    // A credential helper named by credsStore serves the credentials; a failing one is
    // reported with its own message.
    let bin = d.join("bin");
    fs::create_dir(&bin).unwrap();
    let helper = bin.join("docker-credential-test");
    fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 9\nif [ \"$server\" = \"{host}\" ]; then\n  \
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n\
             else\n  echo 'credentials not found in native keychain'; exit 1\nfi\n"
        ),
    )
    .unwrap();
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    let broken = bin.join("docker-credential-broken");
    fs::write(
        &broken,
        "#!/bin/sh\necho 'cannot unlock the keyring' >&2\nexit 1\n",
    )
    .unwrap();
    fs::set_permissions(&broken, fs::Permissions::from_mode(0o755)).unwrap();
    let helped = d.join("helped.json");
    fs::write(&helped, r#"{"auths": {}, "credsStore": "test"}"#).unwrap();
    let (listed, _) = run(
        d,
        &[
            "ls",
            &format!("{host}/tls/app"),
            "--cert-dir",
            cert_dir_s,
            "--authfile",
            helped.to_str().unwrap(),
        ],
        b"",
        Some(&bin),
    );
    assert!(listed.ok().stdout.lines().any(|t| t == "v1"));
    let broken_file = d.join("broken.json");
    fs::write(
        &broken_file,
        format!(r#"{{"credHelpers": {{"{host}": "broken"}}}}"#),
    )
    .unwrap();
    let (failed, _) = run(
        d,
        &[
            "ls",
            &format!("{host}/tls/app"),
            "--cert-dir",
            cert_dir_s,
            "--authfile",
            broken_file.to_str().unwrap(),
        ],
        b"",
        Some(&bin),
    );
    let failed = failed.fails(1);
    assert!(
        failed.stderr.contains("docker-credential-broken"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("cannot unlock the keyring"),
        "{}",
        failed.stderr
    );
}

#[test]
fn local_transports_agree_with_skopeo() {
    if !have("skopeo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let archive = format!(
        "oci-archive:{}",
        fixtures().join("oci-archive/skopeo-hello.tar").display()
    );
    let layout = format!("oci:{}:hello", fixtures().join("oci-layout").display());
    for name in [&archive, &layout] {
        let manifest = skopeo_raw(&["inspect", "--raw", name]);
        assert_eq!(raw(d, &["manifest", name]), manifest, "{name}");
        assert_eq!(
            ocikit(d, &["digest", name]).ok().stdout.trim(),
            Digest::sha256(&manifest).to_string(),
            "{name}"
        );
        let config = skopeo_raw(&["inspect", "--config", "--raw", name]);
        assert_eq!(raw(d, &["config", name]), config, "{name}");
    }
    let docker = fixtures().join("docker-archive/docker-save-hello.tar");
    let docker = format!("docker-archive:{}", docker.display());
    let config = skopeo_raw(&["inspect", "--config", "--raw", &docker]);
    assert_eq!(raw(d, &["config", &docker]), config);
    // A missing archive: one line naming it, exit 1.
    let missing = ocikit(d, &["manifest", "oci-archive:missing.tar"]).fails(1);
    assert!(missing.stderr.contains("missing.tar"), "{}", missing.stderr);
}

/// Runs `tmux -S SOCKET ARGS`, returning stdout.
fn tmux(socket: &Path, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tmux {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls the pane until it shows `text` (10 s at most); returns what it shows.
fn wait_for(socket: &Path, text: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let pane = tmux(socket, &["capture-pane", "-p", "-t", "login"]);
        if pane.contains(text) || std::time::Instant::now() > deadline {
            return pane;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn login_asks_for_the_password_on_the_terminal_without_echo() {
    let Some(registry) = Registry::start_basic() else {
        return;
    };
    if !have("tmux") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let socket = d.join("tmux.sock");
    let authfile = d.join("auth.json");
    let command = format!(
        "env HOME={home} DOCKER_CONFIG={home} {bin} login {host} -u {USER} --authfile {auth}; sleep 30",
        home = d.display(),
        bin = env!("CARGO_BIN_EXE_ocikit"),
        host = registry.host(),
        auth = authfile.display(),
    );
    tmux(
        &socket,
        &[
            "new-session",
            "-d",
            "-s",
            "login",
            "-x",
            "120",
            "-y",
            "10",
            &command,
        ],
    );
    let pane = wait_for(&socket, "Password for");
    assert!(
        pane.contains(&format!("Password for {USER}@{}", registry.host())),
        "{pane}"
    );
    tmux(&socket, &["send-keys", "-t", "login", PASSWORD, "Enter"]);
    let pane = wait_for(&socket, "Login Succeeded");
    let _ = Command::new("tmux")
        .arg("-S")
        .arg(&socket)
        .arg("kill-server")
        .status();
    assert!(pane.contains("Login Succeeded"), "{pane}");
    assert!(!pane.contains(PASSWORD), "the password was echoed:\n{pane}");
    let keys = oci_remote::Keychain::load_file(&authfile).unwrap();
    assert!(!keys.get(&registry.host()).is_anonymous());
}
