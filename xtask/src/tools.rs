//! The Debian tools the tests call, listed once in `.ci/packages` (which `.ci/run` installs
//! from): `cargo xtask ci` checks them first, so that a missing peer fails in one line before
//! the build instead of deep inside a test.

use std::path::{Path, PathBuf};

use crate::Result;

/// Where the list lives, relative to the workspace root.
pub(crate) const LIST: &str = ".ci/packages";

/// One line of the list: a Debian package and the commands it puts on PATH.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) commands: Vec<String>,
    /// Needed by `cargo xtask bench` or `fixtures` only (`@` before the name): not checked by
    /// `ci`.
    pub(crate) optional: bool,
}

/// Parses the list: `PACKAGE COMMAND...` a line, `#` comments, blank lines skipped.
pub(crate) fn parse(text: &str) -> Result<Vec<Package>> {
    let mut packages = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        let (name, optional) = match first.strip_prefix('@') {
            Some(name) => (name, true),
            None => (first, false),
        };
        let commands: Vec<String> = words.map(str::to_owned).collect();
        if name.is_empty() || commands.is_empty() {
            return Err(format!(
                "{LIST}:{}: expected `PACKAGE COMMAND...`, got `{line}`",
                number + 1
            ));
        }
        packages.push(Package {
            name: name.to_owned(),
            commands,
            optional,
        });
    }
    Ok(packages)
}

/// Reads the list from the workspace.
pub(crate) fn read(root: &Path) -> Result<Vec<Package>> {
    let path = root.join(LIST);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse(&text)
}

/// The first place `command` is found on `path` (a `PATH`-style list), if any.
fn find_on(command: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(command))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The packages (of those `ci` needs) one of whose commands is not on `path`.
pub(crate) fn missing<'a>(packages: &'a [Package], path: &std::ffi::OsStr) -> Vec<&'a Package> {
    packages
        .iter()
        .filter(|p| !p.optional)
        .filter(|p| p.commands.iter().any(|c| find_on(c, path).is_none()))
        .collect()
}

/// `ci`'s first step: every tool the tests need is on PATH, or one line naming what is not and
/// how to install it.
pub(crate) fn check(root: &Path) -> Result<()> {
    let packages = read(root)?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing = missing(&packages, &path);
    if missing.is_empty() {
        let names: Vec<&str> = packages
            .iter()
            .filter(|p| !p.optional)
            .map(|p| p.name.as_str())
            .collect();
        eprintln!("tools: all found ({})", names.join(" "));
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|p| p.name.as_str()).collect();
    Err(format!(
        "the tests need Debian packages that are not installed: {}; run `bash .ci/run` \
         (installs them) or `apt-get install -y {}`",
        names.join(", "),
        names.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_parses_and_names_what_ci_installs() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let packages = read(&root).unwrap();
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        for needed in ["skopeo", "umoci", "docker-registry", "containerd"] {
            assert!(names.contains(&needed), "{needed} missing from {LIST}");
        }
        let containerd = packages.iter().find(|p| p.name == "containerd").unwrap();
        assert_eq!(containerd.commands, ["ctr", "containerd"]);
    }

    #[test]
    fn bad_lines_and_optional_packages() {
        assert!(parse("skopeo\n").unwrap_err().contains(":1: expected"));
        let packages = parse("# c\n\n@hyperfine hyperfine\n").unwrap();
        assert_eq!(
            packages,
            [Package {
                name: "hyperfine".into(),
                commands: vec!["hyperfine".into()],
                optional: true
            }]
        );
    }

    #[test]
    fn a_command_missing_from_path_names_its_package() {
        let dir = tempdir();
        let tool = dir.join("present");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let packages =
            parse("a present\nb present absent-tool\n@c absent-too\nd absent-tool\n").unwrap();
        let missing: Vec<&str> = missing(&packages, dir.as_os_str())
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(missing, ["b", "d"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A fresh directory under the target dir (xtask has no dependencies, so no tempfile).
    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-tools-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
