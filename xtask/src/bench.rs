//! `cargo xtask bench [NAME] [-- ARGS]`: benchmarks.
//!
//! Without NAME: `cargo bench --workspace`. With NAME, one of the known benches:
//! - a crate with a `benches/` directory, by its short name (`types` for `crates/oci-types`)
//!   or its package name: `cargo bench -p PACKAGE`;
//! - a named comparison from [`COMPARISONS`]: a function that measures something larger
//!   (say ocikit against skopeo or umoci on the same job, with hyperfine).
//!
//! Adding a comparison, say `stream`: write `fn stream(root: &Path, args: &[String]) ->
//! Result<()>` (in this file, or in `bench/stream.rs` with `mod stream;` above) that prints
//! each command it runs (build them with [`Cmd`] and call [`Cmd::run`]), and add the row
//! `("stream", "what it compares", stream)` to [`COMPARISONS`]. `bench --list`, the help and
//! the unknown-name error pick it up from there. A comparison named as a crate's short name
//! takes that name over; the crate stays reachable by its package name (`oci-stream`).
//!
//! What the comparisons share is at the bottom of this file: the check for the tools they need
//! ([`require`]), the release build of the CLI, the 512 MiB tar of /usr and its one-layer
//! docker archive (made once under `$CARGO_TARGET_DIR/bench`), and hyperfine's common flags.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::Cmd;
use crate::Result;

mod convert;
mod copy;
mod remote;
mod stdout;
mod stream;
mod unpack;

/// A named comparison: runs from the workspace root with the ARGS after `--`.
type Comparison = fn(root: &Path, args: &[String]) -> Result<()>;

/// The named comparisons: (name, one line on what it measures, the function).
const COMPARISONS: &[(&str, &str, Comparison)] = &[
    (
        "stream",
        "hyperfine: `ocikit layer` vs `pigz -p 2 | sha256sum` (levels 1 and 6) and `igzip -1 -T 2` on a 512 MiB tar of /usr, and output sizes",
        stream::run,
    ),
    (
        "convert",
        "hyperfine: `ocikit convert` vs `skopeo copy` docker-archive → OCI layout on a one-layer archive of a 512 MiB tar of /usr, output sizes, peak RSS",
        convert::run,
    ),
    (
        "copy",
        "hyperfine: `ocikit copy` vs `skopeo copy` docker-archive → oci, oci → oci-archive, registry → oci, oci → registry (512 MiB one-layer image), one run",
        copy::run,
    ),
    (
        "stdout",
        "hyperfine and peak RSS: `ocikit copy oci:... docker-archive:- | cat` on a 256 MiB random layer, streamed (gzip kept, plain) and spooled (gzip stored decompressed)",
        stdout::run,
    ),
    (
        "remote",
        "hyperfine against a local docker-registry: ocikit push/pull vs skopeo copy, and `ocikit layer - --to docker://` vs `ocikit layer - --store`",
        remote::run,
    ),
    (
        "unpack",
        "hyperfine: `ocikit unpack --rootless` vs `umoci unpack --rootless` vs `tar -xzf`/`tar -xf` (the limit) on a one-gzip-layer OCI layout of a 512 MiB tar of /usr",
        unpack::run,
    ),
];

/// One bench `cargo xtask bench NAME` can run.
enum Bench {
    /// `cargo bench -p PACKAGE`.
    Crate { short: String, package: String },
    /// An entry of [`COMPARISONS`].
    Comparison {
        name: &'static str,
        about: &'static str,
        run: Comparison,
    },
}

impl Bench {
    fn name(&self) -> &str {
        match self {
            Bench::Crate { short, .. } => short,
            Bench::Comparison { name, .. } => name,
        }
    }

    fn answers_to(&self, asked: &str) -> bool {
        match self {
            Bench::Crate { short, package } => asked == short || asked == package,
            Bench::Comparison { name, .. } => asked == *name,
        }
    }

    fn about(&self) -> String {
        match self {
            Bench::Crate { package, .. } => format!("cargo bench -p {package}"),
            Bench::Comparison { about, .. } => (*about).to_owned(),
        }
    }
}

/// Every known bench: the crates with benches, then the comparisons.
fn known(root: &Path) -> Result<Vec<Bench>> {
    let crates = root.join("crates");
    let entries =
        fs::read_dir(&crates).map_err(|e| format!("cannot list {}: {e}", crates.display()))?;
    let mut packages = Vec::new();
    for entry in entries {
        let dir = entry
            .map_err(|e| format!("cannot list {}: {e}", crates.display()))?
            .path();
        if !dir.join("Cargo.toml").is_file() || !dir.join("benches").is_dir() {
            continue;
        }
        // Crate directories are named as their packages (checked by a test below).
        if let Some(package) = dir.file_name().and_then(|n| n.to_str()) {
            packages.push(package.to_owned());
        }
    }
    Ok(merge(packages, COMPARISONS))
}

/// The crate benches of `packages` (short names: `oci-` dropped) and then `comparisons`. A
/// comparison named as a crate's short name (`stream`) wins that name; the crate is then
/// known by its package name (`oci-stream`).
fn merge(
    mut packages: Vec<String>,
    comparisons: &[(&'static str, &'static str, Comparison)],
) -> Vec<Bench> {
    packages.sort();
    let taken = |name: &str| comparisons.iter().any(|c| c.0 == name);
    let mut benches: Vec<Bench> = packages
        .into_iter()
        .map(|package| {
            let short = package.strip_prefix("oci-").unwrap_or(&package);
            let short = if taken(short) {
                package.clone()
            } else {
                short.to_owned()
            };
            Bench::Crate { short, package }
        })
        .collect();
    benches.extend(
        comparisons
            .iter()
            .map(|&(name, about, run)| Bench::Comparison { name, about, run }),
    );
    benches
}

fn list(benches: &[Bench]) -> String {
    if benches.is_empty() {
        return "none yet (a crate gets one with a benches/ directory; a comparison with a row \
                in COMPARISONS, xtask/src/bench.rs)"
            .to_owned();
    }
    benches
        .iter()
        .map(Bench::name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `cargo xtask bench ARGS`.
pub(crate) fn main(root: &Path, args: &[String]) -> Result<()> {
    let (name, extra) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let benches = known(root)?;
    match name {
        [] => Cmd::cargo(root)
            .args(["bench", "--workspace"])
            .args(with_dashes(extra))
            .run(),
        [flag] if flag == "--list" || flag == "-l" => {
            if benches.is_empty() {
                println!("{}", list(&benches));
            }
            for bench in &benches {
                println!("{:12} {}", bench.name(), bench.about());
            }
            Ok(())
        }
        [asked] => match benches.iter().find(|b| b.answers_to(asked)) {
            Some(Bench::Crate { package, .. }) => Cmd::cargo(root)
                .args(["bench", "-p", package.as_str()])
                .args(with_dashes(extra))
                .run(),
            Some(Bench::Comparison { run, .. }) => run(root, extra),
            None => Err(format!(
                "unknown bench `{asked}`; known: {}",
                list(&benches)
            )),
        },
        _ => Err("usage: cargo xtask bench [NAME] [-- ARGS]".into()),
    }
}

/// `-- ARGS` for cargo, or nothing.
fn with_dashes(extra: &[String]) -> Vec<String> {
    if extra.is_empty() {
        Vec::new()
    } else {
        std::iter::once("--".to_owned())
            .chain(extra.iter().cloned())
            .collect()
    }
}

// Helpers the comparisons share. Paths handed to commands are relative to the workspace root
// (where every command runs), or absolute when $CARGO_TARGET_DIR is.

/// Fails unless every `(program, Debian package)` of `tools` is on PATH, naming the package.
fn require(root: &Path, tools: &[(&str, &str)]) -> Result<()> {
    for (tool, package) in tools {
        if !Cmd::program("sh", root)
            .args(["-c", &format!("command -v {tool}")])
            .succeeds_quietly()
        {
            return Err(format!("`{tool}` is needed: apt-get install {package}"));
        }
    }
    Ok(())
}

/// Builds the release CLI and returns its path and the bench directory,
/// `$CARGO_TARGET_DIR/bench` (created), where inputs, outputs and timing tables go.
fn release_ocikit(root: &Path) -> Result<(String, PathBuf)> {
    Cmd::cargo(root)
        .args(["build", "--release", "--quiet", "-p", "ocikit-cli"])
        .run()?;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let ocikit = Path::new(&target)
        .join("release/ocikit")
        .to_string_lossy()
        .into_owned();
    let dir = Path::new(&target).join("bench");
    fs::create_dir_all(root.join(&dir)).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok((ocikit, dir))
}

/// `dir/name` as a string for a command line.
fn under(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

/// The 512 MiB tar of /usr `stream` uses: `$OCIKIT_BENCH_INPUT`, or else `dir/usr.tar`,
/// made once (the first 512 MiB of `tar -c /usr`; its last entry is cut short, which a layer
/// does not mind).
fn usr_tar(root: &Path, dir: &Path) -> Result<String> {
    if let Ok(p) = std::env::var("OCIKIT_BENCH_INPUT") {
        return Ok(p);
    }
    let p = under(dir, "usr.tar");
    let bytes = 512u64 << 20;
    let have = fs::metadata(root.join(&p)).map(|m| m.len()).unwrap_or(0);
    if have != bytes {
        let make = format!("tar -cf - -C / usr 2>/dev/null | head -c {bytes} > {p}");
        Cmd::program("sh", root).args(["-c", &make]).run()?;
    }
    Ok(p)
}

/// A docker archive of one image whose one layer is [`usr_tar`]: `$OCIKIT_BENCH_ARCHIVE`, or
/// else `dir/usr-archive.tar`, made once with `ocikit append` (which writes it whole or not
/// at all, so an existing file is a finished one).
fn usr_archive(root: &Path, dir: &Path, ocikit: &str) -> Result<String> {
    if let Ok(p) = std::env::var("OCIKIT_BENCH_ARCHIVE") {
        return Ok(p);
    }
    let p = under(dir, "usr-archive.tar");
    if !root.join(&p).is_file() {
        let tar = usr_tar(root, dir)?;
        Cmd::program(ocikit, root)
            .args([
                "append",
                "scratch",
                &tar,
                "-t",
                "bench/usr:1",
                "-o",
                &p,
                "-q",
            ])
            .run()?;
    }
    Ok(p)
}

/// `hyperfine --warmup 1 --runs 5 --export-markdown MD --prepare PREPARE`, to which the
/// comparison adds its `-n NAME COMMAND` pairs and the user's ARGS (`extra`; warm-up and run
/// counts given there replace the defaults, which hyperfine would refuse twice).
fn hyperfine(root: &Path, md: &str, prepare: &str, extra: &[String]) -> Cmd {
    let given = |names: &[&str]| extra.iter().any(|a| names.contains(&a.as_str()));
    let mut h = Cmd::program("hyperfine", root);
    if !given(&["--warmup", "-w"]) {
        h = h.args(["--warmup", "1"]);
    }
    if !given(&["--runs", "-r", "--min-runs", "-m", "--max-runs", "-M"]) {
        h = h.args(["--runs", "5"]);
    }
    h.args(["--export-markdown", md, "--prepare", prepare])
}

/// The largest file under `dir` (recursively) and its size: in `blobs/` of a one-layer
/// image, the layer.
fn largest_file(dir: &Path) -> Result<(PathBuf, u64)> {
    let mut best = (PathBuf::new(), 0);
    let entries = fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("listing {}: {e}", dir.display()))?
            .path();
        let meta = fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let found = if meta.is_dir() {
            largest_file(&path)?
        } else {
            (path, meta.len())
        };
        if found.1 > best.1 {
            best = found;
        }
    }
    Ok(best)
}

/// The sizes of every file under `dir`, added up.
fn total_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    let entries = fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("listing {}: {e}", dir.display()))?
            .path();
        let meta = fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        total += if meta.is_dir() {
            total_size(&path)?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Bytes as MiB with one decimal.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_dirs_are_named_as_their_packages() {
        let root = crate::workspace_root().unwrap();
        for entry in fs::read_dir(root.join("crates")).unwrap() {
            let dir = entry.unwrap().path();
            let Ok(manifest) = fs::read_to_string(dir.join("Cargo.toml")) else {
                continue;
            };
            let name = dir.file_name().unwrap().to_str().unwrap();
            assert!(
                manifest.contains(&format!("name = \"{name}\"")),
                "{}",
                dir.display()
            );
        }
    }

    #[test]
    fn unknown_names_are_errors_that_list_the_known_ones() {
        let root = crate::workspace_root().unwrap();
        let err = main(&root, &["no-such-bench".to_owned()]).unwrap_err();
        assert!(
            err.starts_with("unknown bench `no-such-bench`; known: "),
            "{err}"
        );
        for bench in known(&root).unwrap() {
            assert!(err.contains(bench.name()), "{err}");
        }
    }

    #[test]
    fn a_comparison_takes_a_crate_short_name_over() {
        fn stream(_: &Path, _: &[String]) -> Result<()> {
            Ok(())
        }
        let packages = vec!["oci-stream".to_owned(), "oci-partial".to_owned()];
        let benches = merge(packages, &[("stream", "ocikit against skopeo", stream)]);
        let names: Vec<&str> = benches.iter().map(Bench::name).collect();
        assert_eq!(names, ["partial", "oci-stream", "stream"]);
        assert!(matches!(
            benches.iter().find(|b| b.answers_to("stream")),
            Some(Bench::Comparison { .. })
        ));
        assert!(matches!(
            benches.iter().find(|b| b.answers_to("oci-stream")),
            Some(Bench::Crate { .. })
        ));
    }

    #[test]
    fn largest_file_and_total_size_look_into_subdirectories() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-sizes-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("index.json"), [0; 10]).unwrap();
        fs::write(dir.join("blobs/sha256/aa"), [0; 300]).unwrap();
        fs::write(dir.join("blobs/sha256/bb"), [0; 20]).unwrap();
        let (path, size) = largest_file(&dir.join("blobs")).unwrap();
        let total = total_size(&dir).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!((path, size), (dir.join("blobs/sha256/aa"), 300));
        assert_eq!(total, 330);
        assert_eq!(mib(3 << 19), "1.5 MiB");
    }

    #[test]
    fn extra_args_go_after_dashes() {
        assert!(with_dashes(&[]).is_empty());
        assert_eq!(
            with_dashes(&["--save-baseline".into(), "a".into()]),
            ["--", "--save-baseline", "a"]
        );
    }
}
