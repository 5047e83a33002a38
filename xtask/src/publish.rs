//! The checks that keep every crate publishable on its own (`cargo xtask ci`'s `package`,
//! `features` and `msrv` steps):
//! - `package`: `cargo package` of every crate meant for users, which fails on a file missing
//!   from a package or a path outside it; the `.crate` files are listed with their sizes.
//! - `features`: each crate checked alone, with no default features and with all of them, so a
//!   user who takes one crate does not need the others' features.
//! - `msrv`: the workspace built with the toolchain of the declared `rust-version`, when rustup
//!   has it (`.ci/run` installs it); skipped with a message otherwise.

use std::path::Path;

use crate::cmd::Cmd;
use crate::Result;

/// Workspace members that are not published.
const UNPUBLISHED: &[&str] = &["xtask"];

/// The workspace members meant for users, from the `crates/` folder (one package a folder).
pub(crate) fn crates(root: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).map_err(|e| format!("crates/: {e}"))? {
        let dir = entry.map_err(|e| format!("crates/: {e}"))?.path();
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = package_field(&text, "name")
            .ok_or_else(|| format!("{}: no package name", manifest.display()))?;
        if !UNPUBLISHED.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A `key = "value"` line of a manifest's `[package]` table (or `[workspace.package]`).
fn package_field(manifest: &str, key: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]" || line == "[workspace.package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim() == key {
            let v = v.trim();
            if let Some(quoted) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                return Some(quoted.to_owned());
            }
        }
    }
    None
}

/// `package`: every published crate packaged; prints each `.crate` with its size.
pub(crate) fn package(root: &Path) -> Result<()> {
    let mut cmd = Cmd::cargo(root).args([
        "package",
        "--workspace",
        "--no-verify",
        "--allow-dirty",
        "--quiet",
    ]);
    for unpublished in UNPUBLISHED {
        cmd = cmd.args(["--exclude", unpublished]);
    }
    cmd.run()?;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let version = workspace_version(root)?;
    for name in crates(root)? {
        let file = root
            .join(&target)
            .join("package")
            .join(format!("{name}-{version}.crate"));
        let size = std::fs::metadata(&file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .len();
        eprintln!("  {name}-{version}.crate  {:.1} KiB", size as f64 / 1024.0);
    }
    Ok(())
}

fn workspace_version(root: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    package_field(&text, "version").ok_or_else(|| "Cargo.toml: no workspace version".into())
}

/// `features`: each crate alone, without default features and with all of them.
pub(crate) fn features(root: &Path) -> Result<()> {
    for name in crates(root)? {
        for features in ["--no-default-features", "--all-features"] {
            Cmd::cargo(root)
                .args(["check", "--quiet", "-p", &name, features])
                .run()?;
        }
    }
    Ok(())
}

/// The workspace's declared `rust-version`.
pub(crate) fn rust_version(root: &Path) -> Result<String> {
    let text =
        std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    package_field(&text, "rust-version")
        .ok_or_else(|| "Cargo.toml: no workspace rust-version".into())
}

/// What the `msrv` step did.
pub(crate) enum Msrv {
    Built,
    /// The toolchain is not installed (rustup missing, or it lacks that version).
    NoToolchain,
}

/// `msrv`: the libraries and the CLI built with the declared toolchain. Dev-dependencies
/// (criterion, proptest) are the developers' business, not the users', so tests and benches
/// are not part of it.
pub(crate) fn msrv(root: &Path) -> Result<Msrv> {
    let version = rust_version(root)?;
    let toolchain = format!("+{version}");
    if !Cmd::program("rustc", root)
        .args([toolchain.as_str(), "--version"])
        .succeeds_quietly()
    {
        eprintln!(
            "msrv: toolchain {version} is not installed; skipped \
             (`rustup toolchain install {version} --profile minimal`, which .ci/run does)"
        );
        return Ok(Msrv::NoToolchain);
    }
    Cmd::program("cargo", root)
        .args([
            toolchain.as_str(),
            "check",
            "--workspace",
            "--all-features",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", &format!("{}/msrv", target_dir()))
        .run()?;
    Ok(Msrv::Built)
}

fn target_dir() -> String {
    std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_fields_are_read_from_the_package_table_only() {
        let manifest = "[package]\nname = \"oci-types\"\nversion.workspace = true\n\n\
                        [dependencies]\nname = \"not-this\"\n";
        assert_eq!(
            package_field(manifest, "name").as_deref(),
            Some("oci-types")
        );
        assert_eq!(package_field(manifest, "version"), None);
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        assert_eq!(rust_version(&root).unwrap().split('.').count(), 2);
    }

    #[test]
    fn every_published_crate_has_its_metadata() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let crates = crates(&root).unwrap();
        for name in ["oci-types", "ocikit", "ocikit-cli"] {
            assert!(
                crates.iter().any(|c| c == name),
                "{name} missing: {crates:?}"
            );
        }
        for name in &crates {
            let manifest =
                std::fs::read_to_string(root.join("crates").join(name).join("Cargo.toml")).unwrap();
            for key in ["description", "documentation"] {
                assert!(package_field(&manifest, key).is_some(), "{name}: no {key}");
            }
            for line in [
                "keywords = [",
                "categories = [",
                "include = [",
                "[package.metadata.docs.rs]",
            ] {
                assert!(manifest.contains(line), "{name}: no `{line}`");
            }
            assert!(!manifest.contains("publish"), "{name} must be publishable");
        }
    }
}
