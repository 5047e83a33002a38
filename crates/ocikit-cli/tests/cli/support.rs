//! Running the binary and making inputs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The fixtures folder (`fixtures/` at the repository root).
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The result of one run.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    #[track_caller]
    pub(crate) fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub(crate) fn fails(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        // One clear line, no panic, no backtrace.
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "stderr: {}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `ocikit` binary to run in `dir`, blind to the user's registry credentials (docker's
/// and podman's config files), so that registry tests see only what they give.
fn command(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ocikit"));
    c.current_dir(dir)
        .env("DOCKER_CONFIG", dir.join(".no-docker-config"))
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR");
    c
}

/// Runs `ocikit ARGS` in `dir`.
pub(crate) fn ocikit(dir: &Path, args: &[&str]) -> Run {
    finish(command(dir).args(args).output().unwrap())
}

/// Runs `ocikit ARGS` in `dir` with `input` on stdin.
pub(crate) fn ocikit_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Run {
    let mut child = command(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    finish(out)
}

/// A small tree with a subdirectory, a symlink and a hard link.
pub(crate) fn make_tree(dir: &Path) {
    std::fs::create_dir_all(dir.join("etc/app")).unwrap();
    std::fs::write(dir.join("etc/app/config.toml"), "answer = 42\n").unwrap();
    std::fs::write(dir.join("hello.txt"), "hello from ocikit\n").unwrap();
    std::fs::hard_link(dir.join("hello.txt"), dir.join("hello-again.txt")).unwrap();
    std::os::unix::fs::symlink("hello.txt", dir.join("latest")).unwrap();
    let big: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("data.bin"), big).unwrap();
}

/// A tar of `dir` made by the system tar.
pub(crate) fn system_tar(dir: &Path) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("-c")
        .arg("-C")
        .arg(dir)
        .arg(".")
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// True when `tool` is on PATH. In CI (CI=true) a missing peer tool is a failure, not a skip.
pub(crate) use oci_remote::testing::require as have;

/// Runs a peer tool and returns its stdout, failing the test on a non-zero exit.
#[track_caller]
pub(crate) fn peer(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// sha256 of a file, as `sha256:HEX`.
pub(crate) fn sha256_file(path: &Path) -> String {
    oci_types::Digest::sha256(&std::fs::read(path).unwrap()).to_string()
}
