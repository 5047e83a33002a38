//! A containerd daemon of the test's own: root, state and sockets in a temporary directory,
//! plugins that would touch the host disabled, `ctr` pointed at its socket. Shared by the
//! oci-content and ocikit-cli suites (the CLI's includes this file by `#[path]`).
#![allow(dead_code)] // each suite uses part of it

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The daemon and `ctr` binaries, or `None` (outside CI) when they are not installed; under
/// `CI=true` a missing one fails the test.
pub(crate) fn tools() -> Option<(PathBuf, PathBuf)> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match (which("containerd"), which("ctr")) {
        (Some(containerd), Some(ctr)) => Some((containerd, ctr)),
        _ => {
            assert!(
                !in_ci,
                "containerd and ctr must be installed in CI (Debian package `containerd`)"
            );
            eprintln!(
                "SKIPPED containerd test: `containerd`/`ctr` not on PATH (apt-get install containerd)"
            );
            None
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Plugins that would touch the host (`/opt/containerd`) or are of no use here.
const DISABLED: &[&str] = &[
    "io.containerd.grpc.v1.cri",
    "io.containerd.internal.v1.opt",
    "io.containerd.internal.v1.tracing",
    "io.containerd.tracing.processor.v1.otlp",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.aufs",
];

/// A containerd daemon of our own, killed when dropped.
pub(crate) struct Daemon {
    pub(crate) child: Child,
    pub(crate) sock: PathBuf,
    pub(crate) ctr: PathBuf,
    pub(crate) content_root: PathBuf,
}

impl Daemon {
    /// Starts a daemon in `dir`. With `gc` its garbage collector runs (images need it: the
    /// lease service that `ctr images import` uses hangs on it); without it, blobs put into
    /// its content directory behind its back stay.
    pub(crate) fn start(containerd: &Path, ctr: &Path, dir: &Path, gc: bool) -> Daemon {
        let root = dir.join("root");
        let sock = dir.join("c.sock");
        let gc_plugin = (!gc).then_some("io.containerd.gc.v1.scheduler");
        let quoted: Vec<String> = DISABLED
            .iter()
            .copied()
            .chain(gc_plugin)
            .map(|p| format!("{p:?}"))
            .collect();
        let config = format!(
            "version = 2\nroot = {root:?}\nstate = {state:?}\ndisabled_plugins = [{plugins}]\n\
             [grpc]\n  address = {sock:?}\n[ttrpc]\n  address = {ttrpc:?}\n\
             [debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n",
            root = root.display().to_string(),
            state = dir.join("state").display().to_string(),
            plugins = quoted.join(", "),
            sock = sock.display().to_string(),
            ttrpc = dir.join("c.sock.ttrpc").display().to_string(),
        );
        fs::create_dir_all(dir).unwrap();
        let config_path = dir.join("config.toml");
        fs::write(&config_path, config).unwrap();
        let log = fs::File::create(dir.join("containerd.log")).unwrap();
        let child = Command::new(containerd)
            .arg("--config")
            .arg(&config_path)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut d = Daemon {
            child,
            sock,
            ctr: ctr.to_owned(),
            content_root: root.join("io.containerd.content.v1.content"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if d.sock.exists() && d.ctr(&["version"]).status.success() {
                return d;
            }
            if let Some(status) = d.child.try_wait().unwrap() {
                let log = fs::read_to_string(dir.join("containerd.log")).unwrap_or_default();
                panic!("containerd exited with {status}:\n{log}");
            }
            assert!(Instant::now() < deadline, "containerd did not come up");
            thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.ctr);
        c.arg("--address")
            .arg(&self.sock)
            .args(["--namespace", "default"])
            .args(args);
        c
    }

    pub(crate) fn ctr(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().unwrap()
    }

    /// `ctr` with stdin from a file, which must succeed.
    pub(crate) fn ctr_ok_from(&self, args: &[&str], stdin: &Path) -> Output {
        let out = self
            .command(args)
            .stdin(fs::File::open(stdin).unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ctr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub(crate) fn ctr_ok(&self, args: &[&str]) -> Output {
        let out = self.ctr(args);
        assert!(
            out.status.success(),
            "ctr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
