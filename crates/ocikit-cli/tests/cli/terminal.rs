//! Progress bars as a user sees them: `ocikit` run in a terminal (tmux, on a private
//! socket), the screen captured while it runs and after. A bar with the known size appears
//! mid-run, fits the width, and afterwards the screen holds only the final lines: no bar
//! is left behind, on success or on failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

/// A tmux server of its own (`-L`), one window of `width` x 24, stopped on drop.
struct Terminal {
    socket: String,
    width: usize,
}

impl Terminal {
    fn start(dir: &Path, name: &str, width: usize) -> Terminal {
        let socket = format!("ocikit-test-{}-{name}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
            ])
            .args(["-x", &width.to_string(), "-y", "24", "-c"])
            .arg(dir)
            .args(["sh"])
            .env("PS1", "$ ")
            .env_remove("TMUX")
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Terminal { socket, width }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
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

    /// The screen's non-empty lines.
    fn screen(&self) -> Vec<String> {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
            .lines()
            .map(|l| l.trim_end().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// Runs `script` (made by [`script`]: it clears the screen first and ends with
    /// `EXIT=STATUS (NAME)`); the screens seen while it ran and the one after, up to that
    /// status line.
    fn run(&self, script: &Path) -> (Vec<Vec<String>>, Vec<String>) {
        let name = script.file_name().unwrap().to_str().unwrap();
        let end = format!(" ({name})");
        self.tmux(&[
            "send-keys",
            "-t",
            "t",
            "-l",
            &format!("sh {}", script.display()),
        ]);
        self.tmux(&["send-keys", "-t", "t", "Enter"]);
        let start = Instant::now();
        let mut during = Vec::new();
        loop {
            let screen = self.screen();
            if let Some(at) = screen
                .iter()
                .position(|l| l.starts_with("EXIT=") && l.ends_with(&end))
            {
                // The screen up to the status line (the shell's prompt may follow, or not yet).
                let mut after = screen;
                after.truncate(at + 1);
                return (during, after);
            }
            assert!(start.elapsed() < Duration::from_secs(120), "{screen:#?}");
            during.push(screen);
            std::thread::sleep(Duration::from_millis(15));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// A script NAME that clears the screen, runs `ocikit ARGS` and prints its exit status,
/// `EXIT=STATUS (NAME)`.
fn script(dir: &Path, name: &str, args: &str) -> PathBuf {
    let path = dir.join(name);
    let text = format!(
        "clear\n'{}' {args}\necho \"EXIT=$? ({name})\"\n",
        env!("CARGO_BIN_EXE_ocikit")
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// An OCI layout `lay:big` of one 64 MiB layer of incompressible bytes.
fn big_layout(dir: &Path) {
    std::fs::create_dir_all(dir.join("tree")).unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bytes = Vec::with_capacity(64 << 20);
    while bytes.len() < 64 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(dir.join("tree/big.bin"), bytes).unwrap();
    ocikit(
        dir,
        &[
            "append",
            "scratch",
            "tree",
            "-t",
            "big:1",
            "-o",
            "oci:lay:big",
        ],
    )
    .ok();
}

/// A bar line: a label, `[===>  ]` and bytes of the known total.
fn is_bar(line: &str) -> bool {
    line.contains(" [") && line.contains("] ") && line.contains("MiB/64.")
}

/// Nothing of a bar: no `[..]`, no rate, no spinner.
fn assert_no_bar(screen: &[String]) {
    for line in screen {
        assert!(
            !line.contains("B/s") && !line.contains("] ") && !line.contains("MiB/"),
            "a bar was left behind: {screen:#?}"
        );
    }
}

#[test]
fn bars_show_progress_and_leave_nothing_behind() {
    assert!(have("tmux"), "tmux is needed");
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    big_layout(d);
    let term = Terminal::start(d, "bars", 80);

    // verify: a bar of the layer's size mid-run, then only the verdict.
    let (during, after) = term.run(&script(d, "verify.sh", "verify oci:lay:big"));
    let bars: Vec<&String> = during.iter().flatten().filter(|l| is_bar(l)).collect();
    assert!(!bars.is_empty(), "no bar while verifying: {during:#?}");
    assert!(
        bars.iter().all(|l| l.chars().count() <= term.width),
        "{bars:#?}"
    );
    assert!(bars[0].starts_with("verifying oci:lay:big"), "{bars:#?}");
    assert_eq!(after.len(), 3, "{after:#?}"); // the ok line (wrapped once), EXIT
    assert!(
        after[0].starts_with("ok       oci:lay:big sha256:"),
        "{after:#?}"
    );
    assert_eq!(after[2], "EXIT=0 (verify.sh)");
    assert_no_bar(&after);

    // copy with recompression: bars while it runs, then the blob lines and "wrote".
    let (_, after) = term.run(&script(
        d,
        "copy.sh",
        "copy oci:lay:big oci:out:big --dest-compress-format zstd",
    ));
    assert_no_bar(&after);
    assert!(
        after.iter().any(|l| l.starts_with("wrote oci:out:big")),
        "{after:#?}"
    );
    assert!(after.iter().any(|l| l.starts_with("EXIT=0 ")), "{after:#?}");

    // A damaged layer: verify lists the mismatch, copy fails; no bar stays either way.
    let blobs = d.join("lay/blobs/sha256");
    let biggest = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| p.metadata().unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&biggest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&biggest, bytes).unwrap();
    let (during, after) = term.run(&script(d, "bad.sh", "verify oci:lay:big"));
    assert!(during.iter().flatten().any(|l| is_bar(l)), "{during:#?}");
    assert!(after[0].starts_with("MISMATCH oci:lay:big"), "{after:#?}");
    assert!(after.iter().any(|l| l.starts_with("EXIT=1 ")), "{after:#?}");
    assert_no_bar(&after);
    let (_, after) = term.run(&script(
        d,
        "badcopy.sh",
        "copy oci:lay:big oci:out2:big --dest-compress-format zstd",
    ));
    assert!(after[0].starts_with("ocikit: "), "{after:#?}");
    assert!(after.iter().any(|l| l.starts_with("EXIT=1 ")), "{after:#?}");
    assert_no_bar(&after);
}

#[test]
fn bars_fit_a_narrow_terminal_and_pipes_get_none() {
    assert!(have("tmux"), "tmux is needed");
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    big_layout(d);
    let term = Terminal::start(d, "narrow", 50);
    let (during, after) = term.run(&script(d, "verify.sh", "verify oci:lay:big"));
    let bars: Vec<&String> = during.iter().flatten().filter(|l| is_bar(l)).collect();
    assert!(!bars.is_empty(), "no bar while verifying: {during:#?}");
    assert!(bars.iter().all(|l| l.chars().count() <= 50), "{bars:#?}");
    assert_no_bar(&after);
    // Not a terminal: stderr holds the final line only.
    let r = ocikit(d, &["copy", "oci:lay:big", "oci:out:big"]).ok();
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("wrote oci:out:big"), "{}", r.stderr);
    let r = ocikit(d, &["verify", "oci:lay:big"]).ok();
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn uploads_show_bars_and_leave_nothing_behind() {
    assert!(have("tmux"), "tmux is needed");
    let Some(registry) = oci_remote::testing::Registry::start() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    big_layout(d);
    let ok = Command::new("tar")
        .arg("-cf")
        .arg(d.join("big.tar"))
        .arg("-C")
        .arg(d)
        .arg("tree")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let term = Terminal::start(d, "uploads", 80);
    let host = registry.host();

    // layer --to from a file: a bar of the file's size, then the descriptor only.
    let (during, after) = term.run(&script(
        d,
        "layer.sh",
        &format!("layer big.tar --to docker://{host}/term/app --json"),
    ));
    let bars: Vec<&String> = during
        .iter()
        .flatten()
        .filter(|l| l.starts_with("layer ") && l.contains(" ["))
        .collect();
    assert!(!bars.is_empty(), "no bar while uploading: {during:#?}");
    assert!(bars.iter().all(|l| l.chars().count() <= 80), "{bars:#?}");
    assert_no_bar(&after);
    assert!(after.iter().any(|l| l.starts_with("EXIT=0 ")), "{after:#?}");
    assert!(after[0].starts_with("{\"mediaType\":"), "{after:#?}");

    // push: a bar per blob while it runs; after, the blob lines and "wrote" only.
    let (during, after) = term.run(&script(
        d,
        "push.sh",
        &format!("push oci:lay:big docker://{host}/term/app:v1"),
    ));
    assert!(
        during.iter().flatten().any(|l| l.contains(" [")),
        "{during:#?}"
    );
    assert_no_bar(&after);
    assert!(
        after.iter().any(|l| l.starts_with("wrote docker://")),
        "{after:#?}"
    );
    assert!(after.iter().any(|l| l.starts_with("EXIT=0 ")), "{after:#?}");
}
