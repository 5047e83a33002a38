//! docker-daemon: against a private dockerd (vfs storage, its own data root, exec root and
//! socket in a temporary directory) that the test starts and stops.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oci_copy::{copy, CopyOptions, Error, Platforms, Written};

use crate::support::*;

/// A dockerd of our own; killed and removed on drop.
struct Dockerd {
    child: Child,
    dir: tempfile::TempDir,
}

impl Dockerd {
    /// `None` (with a message) when not root or dockerd is missing outside CI.
    fn start() -> Option<Dockerd> {
        let root = Command::new("id").arg("-u").output().ok()?.stdout == b"0\n";
        let has = Command::new("dockerd").arg("--version").output().is_ok();
        if !root || !has {
            assert!(
                std::env::var_os("CI").is_none() || !has,
                "CI: dockerd is installed but the tests do not run as root"
            );
            eprintln!("skipping the docker-daemon tests: they need root and dockerd (docker.io)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--storage-driver=vfs")
            .arg(format!("--data-root={}", d.join("data").display()))
            .arg(format!("--exec-root={}", d.join("exec").display()))
            .arg(format!("--pidfile={}", d.join("docker.pid").display()))
            .arg(format!("-H=unix://{}", d.join("docker.sock").display()))
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let dockerd = Dockerd { child, dir };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            let ok = Command::new("curl")
                .args(["-sf", "-o", "/dev/null", "--unix-socket"])
                .arg(dockerd.socket())
                .arg("http://d/_ping")
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Some(dockerd);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "dockerd did not answer in 60 s: {}",
            std::fs::read_to_string(dockerd.dir.path().join("dockerd.log")).unwrap_or_default()
        );
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hello() -> String {
    format!("oci:{}:hello", fixtures().join("oci-layout").display())
}

fn skopeo_host(flag: &str, socket: &Path) -> String {
    format!("--{flag}-daemon-host=unix://{}", socket.display())
}

#[test]
fn images_go_into_and_out_of_a_private_dockerd() {
    let Some(dockerd) = Dockerd::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let mut options = CopyOptions::default();
    options.docker_host = Some(dockerd.socket());
    let want = validate(&name(hello()));
    let want_ids = diff_ids(want[0].image.as_ref());
    // Load, then save back, through the Engine API.
    let daemon = name("docker-daemon:example.com/hello:1");
    let report = copy(&name(hello()), &daemon, &options).unwrap();
    assert_eq!(
        report.written,
        Written::ImageId(want[0].image.config_name().unwrap())
    );
    let back = name(format!("oci:{}:v1", d.join("back").display()));
    copy(&daemon, &back, &options).unwrap();
    assert_eq!(diff_ids(validate(&back)[0].image.as_ref()), want_ids);
    let archive = name(format!("docker-archive:{}", d.join("a.tar").display()));
    copy(&daemon, &archive, &options).unwrap();
    assert_eq!(
        validate(&archive)[0].tags,
        vec!["example.com/hello:1".to_owned()]
    );
    // skopeo reads what we loaded, and we read what skopeo loaded.
    let sk = format!("oci:{}:v1", d.join("sk").display());
    skopeo(&[
        "copy",
        "-q",
        &skopeo_host("src", &dockerd.socket()),
        "docker-daemon:example.com/hello:1",
        &sk,
    ]);
    assert_eq!(diff_ids(validate(&name(&sk))[0].image.as_ref()), want_ids);
    skopeo(&[
        "copy",
        "-q",
        &skopeo_host("dest", &dockerd.socket()),
        &hello(),
        "docker-daemon:example.com/theirs:1",
    ]);
    let ours = name(format!("oci:{}:v1", d.join("ours").display()));
    copy(&name("docker-daemon:example.com/theirs:1"), &ours, &options).unwrap();
    assert_eq!(diff_ids(validate(&ours)[0].image.as_ref()), want_ids);
    // An image the daemon does not have is its error, named.
    let e = copy(&name("docker-daemon:nope:1"), &ours, &options).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Daemon {
                status: Some(404),
                ..
            }
        ),
        "{e}"
    );
    // An index: one platform, never all.
    let index = oci_partial::random::index(3, 2, 1, 2048);
    oci_layout::Layout::create(d.join("multi"))
        .unwrap()
        .write_index(index.as_ref(), Some("m"))
        .unwrap();
    let multi = name(format!("oci:{}:m", d.join("multi").display()));
    options.platforms = Platforms::All;
    let e = copy(&multi, &name("docker-daemon:multi:1"), &options).unwrap_err();
    assert!(matches!(e, Error::IndexIntoSingleImage { .. }), "{e}");
    options.platforms = Platforms::One("linux/arm64/v8".parse().unwrap());
    copy(&multi, &name("docker-daemon:multi:1"), &options).unwrap();
    let arm = validate_with(&name("docker-daemon:multi:1"), &options);
    assert_eq!(arm[0].image.config_file().unwrap().architecture, "arm64");

    // An index built in memory (issue 15): docker loads the matching platform's image.
    use oci_partial::mutate::{append_manifests, empty_index, Family, IndexAddendum};
    let adds = ["linux/amd64", "linux/arm64"]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let opts = oci_partial::random::Options::default().platform(p.parse().unwrap());
            IndexAddendum::image(oci_partial::random::image_with(
                40 + i as u64,
                1,
                2048,
                &opts,
            ))
        })
        .collect();
    let built = append_manifests(empty_index(Family::Oci), adds);
    let built_name = name(format!("oci:{}:built", d.join("multi").display()));
    options.platforms = Platforms::Auto;
    oci_copy::write_index(built, &built_name, None, &options).unwrap();
    options.platforms = Platforms::One("linux/arm64".parse().unwrap());
    copy(&built_name, &name("docker-daemon:built:1"), &options).unwrap();
    let arm = validate_with(&name("docker-daemon:built:1"), &options);
    assert_eq!(arm[0].image.config_file().unwrap().architecture, "arm64");
}
