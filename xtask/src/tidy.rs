//! Repository checks, run by plain `cargo test` (rust-analyzer's tidy style): nothing the tests,
//! benches, examples, fuzz seeds or scripts read lies outside the repository, because a fresh
//! clone has nothing beside it.
//!
//! What counts as reaching outside:
//! - naming the folder the workplace keeps beside the clone, or an absolute path into it;
//! - a Rust path built on `CARGO_MANIFEST_DIR` (or given to `include_str!`, `include_bytes!`,
//!   `#[path]`) whose leading `../` climb above the repository root from where it starts;
//! - the same in a shell script, counted from the script's folder.
//!
//! Other `../` strings (test data for path normalisation, hostile tar entries) are not paths
//! this repository opens, and are left alone.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One reference to a path outside the repository.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: String,
    line: usize,
    what: String,
}

/// Substrings no source or script may hold. Built at run time, so this file does not hold
/// them either.
fn forbidden() -> Vec<String> {
    vec![
        format!("..{}shared", '/'),
        format!("shared{}fixtures", '/'),
        format!("{}work{}", '/', '/'),
    ]
}

/// The files the checks read: tracked, or untracked and not ignored, in the folders that hold
/// code and scripts.
fn files(root: &Path) -> Vec<String> {
    let output = Command::new("git")
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ])
        .current_dir(root)
        .output()
        .expect("git ls-files runs");
    assert!(output.status.success(), "git ls-files failed");
    String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .filter(|f| !f.is_empty())
        .filter(|f| is_code(f))
        .filter(|f| root.join(f).is_file())
        .map(str::to_owned)
        .collect()
}

fn is_code(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    file.starts_with(".ci/")
        || [".rs", ".sh", ".toml"]
            .iter()
            .any(|ext| name.ends_with(ext))
        || name == "Makefile"
}

fn is_script(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    file.ends_with(".sh") || (file.starts_with(".ci/") && !name.contains('.'))
}

/// How many folders below the root `dir` (a path relative to the root) is.
fn depth(dir: &Path) -> usize {
    dir.components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .count()
}

/// The folder of the package `file` belongs to (its nearest `Cargo.toml`), relative to the root.
fn package_dir(root: &Path, file: &str) -> PathBuf {
    let mut dir = Path::new(file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    loop {
        if root.join(&dir).join("Cargo.toml").is_file() || dir.as_os_str().is_empty() {
            return dir;
        }
        dir = dir.parent().map(Path::to_path_buf).unwrap_or_default();
    }
}

/// The longest run of `../` in `text`.
fn longest_climb(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut best, mut i) = (0, 0);
    while i < bytes.len() {
        let mut run = 0;
        while bytes.get(i + 3 * run..i + 3 * run + 3) == Some(&b"../"[..]) {
            run += 1;
        }
        best = best.max(run);
        i += if run == 0 { 1 } else { 3 * run };
    }
    best
}

/// The violations in one file's text. `manifest_depth` and `file_depth` are the depths of its
/// package folder and its own folder.
fn check_text(file: &str, text: &str, manifest_depth: usize, file_depth: usize) -> Vec<Violation> {
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let forbidden = forbidden();
    for (n, line) in lines.iter().enumerate() {
        let mut report = |what: String| {
            found.push(Violation {
                file: file.to_owned(),
                line: n + 1,
                what,
            })
        };
        if let Some(bad) = forbidden.iter().find(|bad| line.contains(bad.as_str())) {
            report(format!("names `{bad}`, which is outside the repository"));
            continue;
        }
        let includes = ["include_str!", "include_bytes!", "#[path"];
        let base = if is_script(file) || includes.iter().any(|m| line.contains(m)) {
            Some(file_depth)
        } else if line.contains("CARGO_MANIFEST_DIR") {
            Some(manifest_depth)
        } else {
            None
        };
        let Some(base) = base else { continue };
        // A path built on CARGO_MANIFEST_DIR often continues on the next lines.
        let window = lines[n..(n + 3).min(lines.len())].join("\n");
        let climb = longest_climb(if is_script(file) { line } else { &window });
        if climb > base {
            report(format!(
                "climbs {climb} folders from a folder {base} below the repository root"
            ));
        }
    }
    found
}

fn violations(root: &Path) -> Vec<Violation> {
    let mut found = Vec::new();
    for file in files(root) {
        if file == "xtask/src/tidy.rs" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue;
        };
        let manifest_depth = depth(&package_dir(root, &file));
        let file_depth = depth(Path::new(&file).parent().unwrap_or(Path::new("")));
        found.extend(check_text(&file, &text, manifest_depth, file_depth));
    }
    found
}

#[test]
fn nothing_reads_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let found = violations(&root);
    assert!(
        found.is_empty(),
        "a fresh clone has nothing beside it; keep what tests read inside the repository \
         (fixtures/):\n{}",
        found
            .iter()
            .map(|v| format!("  {}:{}: {}", v.file, v.line, v.what))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_check_catches_each_way_out() {
    let up = |n: usize| "../".repeat(n);
    let cases: Vec<(&str, String, usize, usize, bool)> = vec![
        // (file, text, manifest depth, file depth, caught)
        (
            "crates/a/tests/t/main.rs",
            format!(
                "concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{}shared/x\")",
                up(3)
            ),
            2,
            3,
            true,
        ),
        (
            "crates/a/tests/t/main.rs",
            format!(
                "concat!(\n  env!(\"CARGO_MANIFEST_DIR\"),\n  \"/{}x\"\n)",
                up(3)
            ),
            2,
            3,
            true,
        ),
        (
            "crates/a/tests/t/main.rs",
            format!(
                "concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{}fixtures\")",
                up(2)
            ),
            2,
            3,
            false,
        ),
        (
            "crates/a/src/lib.rs",
            format!("#[doc = include_str!(\"{}README.md\")]", up(3)),
            2,
            2,
            true,
        ),
        (
            "crates/a/src/lib.rs",
            format!("#[doc = include_str!(\"{}README.md\")]", up(2)),
            2,
            2,
            false,
        ),
        (
            ".ci/run",
            format!("cd \"$(dirname \"$0\")/{}\"", up(2)),
            0,
            1,
            true,
        ),
        (
            ".ci/run",
            format!("cd \"$(dirname \"$0\")/{}\"", up(1)),
            0,
            1,
            false,
        ),
        (
            "crates/a/src/path.rs",
            format!("assert!(normalize(\"{}etc/passwd\").is_err());", up(5)),
            2,
            2,
            false,
        ),
        (
            "crates/a/tests/t/x.rs",
            format!("let p = \"{}{}\";", '/', format_args!("work{}shared", '/')),
            2,
            3,
            true,
        ),
    ];
    for (file, text, manifest_depth, file_depth, caught) in cases {
        let found = check_text(file, &text, manifest_depth, file_depth);
        assert_eq!(!found.is_empty(), caught, "{file}: {text:?} gave {found:?}");
    }
}

#[test]
fn climbs_are_counted() {
    assert_eq!(longest_climb("a/../../b/../c"), 2);
    assert_eq!(longest_climb("/../../../x"), 3);
    assert_eq!(longest_climb("no climb .. here"), 0);
}
