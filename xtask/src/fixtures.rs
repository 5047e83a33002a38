//! `cargo xtask fixtures`: regenerates `fixtures/` with the real tools that wrote it (skopeo,
//! umoci, podman, docker, containerd, ...), then says what changed against the committed files
//! and which of those changes are expected (outputs the tools do not make reproducibly).
//!
//! Tests never regenerate: they read the committed files. `fixtures/make.sh` makes the main set
//! (its header lists the tools; it needs root and starts a private dockerd); every
//! `fixtures/*/make.sh` makes one more set and may list the files it cannot make identically in
//! a `VARIES` file beside it, one path (relative to that folder) a line.

use std::path::Path;

use crate::cmd::Cmd;
use crate::Result;

/// Files of the main set that differ between runs, and why.
const VARIES: &[(&str, &str)] = &[
    (
        "fixtures/oci-archive/skopeo-hello.tar",
        "skopeo stamps its tar headers with the time of the run",
    ),
    ("fixtures/SHA256SUMS", "lists the sum of that tar"),
    ("fixtures/README.md", "shows that tar's member times"),
];

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    if let Some(extra) = args.first() {
        return Err(format!("fixtures takes no arguments (got `{extra}`)"));
    }
    let mut scripts = vec!["fixtures/make.sh".to_owned()];
    let mut varies: Vec<(String, String)> = VARIES
        .iter()
        .map(|(path, why)| ((*path).to_owned(), (*why).to_owned()))
        .collect();
    let mut sets: Vec<String> = std::fs::read_dir(root.join("fixtures"))
        .map_err(|e| format!("reading fixtures/: {e}"))?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("make.sh").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    sets.sort();
    for set in sets {
        scripts.push(format!("fixtures/{set}/make.sh"));
        if let Ok(text) = std::fs::read_to_string(root.join("fixtures").join(&set).join("VARIES")) {
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                if !line.starts_with('#') {
                    varies.push((
                        format!("fixtures/{set}/{line}"),
                        format!("see fixtures/{set}/VARIES"),
                    ));
                }
            }
        }
    }
    for script in &scripts {
        Cmd::program("bash", root).arg(script.as_str()).run()?;
    }
    let status = Cmd::program("git", root).args(["status", "--porcelain", "--", "fixtures"]);
    status.echo();
    let output = status
        .command()
        .output()
        .map_err(|e| format!("cannot start `{status}`: {e}"))?;
    let changed: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.get(3..).map(str::to_owned))
        .collect();
    let (expected, unexpected): (Vec<&String>, Vec<&String>) = changed
        .iter()
        .partition(|path| varies.iter().any(|(v, _)| v == *path));
    for path in &expected {
        let why = varies
            .iter()
            .find(|(v, _)| v == *path)
            .map(|(_, w)| w.as_str());
        eprintln!("changed, as expected: {path} ({})", why.unwrap_or_default());
    }
    for path in &unexpected {
        eprintln!("CHANGED: {path}");
    }
    if unexpected.is_empty() {
        eprintln!("fixtures: regenerated; nothing changed but what the tools stamp with the time");
    } else {
        eprintln!(
            "fixtures: {} file(s) changed beyond the expected; review with `git diff -- fixtures` \
             and commit them with the tests they affect",
            unexpected.len()
        );
    }
    Ok(())
}
