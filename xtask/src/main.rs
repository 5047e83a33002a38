//! Developer tasks for the ocikit workspace, run as `cargo xtask <command>` (the alias is in
//! `.cargo/config.toml`).
//!
//! A plain binary with no dependencies, in the manner of matklad's cargo-xtask: each
//! subcommand is one job, and every command it runs is printed (`$ cargo ...`) before it runs,
//! so what the task does can be copied and run by hand.
//!
//! - `demo` (module `demo`): the README's first command, a real job end to end.
//! - `ci` (module `ci`): everything CI checks, in order, stopping at the first failure.
//! - `fuzz` (module `fuzz`): the cargo-fuzz targets in `fuzz/`.
//! - `bench` (module `bench`): criterion benches per crate, and named whole-process comparisons.
//! - `fixtures` (module `fixtures`): `fixtures/` regenerated with the real tools.
//! - `stress` (module `stress`): the crash and race suites in full.
//! - repository checks (module `tidy`) are `#[test]`s, so plain `cargo test` runs them.

mod bench;
mod ci;
mod cmd;
mod demo;
mod fixtures;
mod fuzz;
mod publish;
mod stress;
#[cfg(test)]
mod tidy;
mod tools;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What a task returns: an error is a message for the user.
type Result<T, E = String> = std::result::Result<T, E>;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  demo                        build the ocikit CLI and use it: pack crates/oci-types/src into
                              a one-layer image (append scratch), write a docker archive,
                              copy it to an OCI layout, inspect and verify it
  ci [STEP...]                what CI runs, in order, stopping at the first failure:
                              fmt (--check), clippy (-D warnings), test (doctests too),
                              doc (-D warnings), bench (--no-run), package (cargo
                              package of every crate), features (each crate alone, no
                              default and all features), msrv (the declared rust-version's
                              toolchain, when installed), fuzz (smoke:
                              OCIKIT_FUZZ_SECONDS per target, default 5; with CI=true a
                              missing cargo-fuzz is an error, else the smoke is skipped);
                              with STEPs, only those
  fuzz TARGET [SECONDS]       run one fuzz target (default 60 s) and print its exec stats
  fuzz all [SECONDS]          run every fuzz target in turn (default 60 s each)
  fuzz --list                 list the fuzz targets
  bench [NAME] [-- ARGS]      cargo bench --workspace, or one crate's benches (NAME = `types`
                              for oci-types) or a named comparison; ARGS go to the bench binary
  bench --list                list the known bench names
  stress [POINTS ROUNDS]      the crash suite (SIGKILL at POINTS seeded points per sink,
                              default 200) and the race suites (ROUNDS rounds, default
                              1000) in full; CI runs 20 and 50 within `cargo test`
  fixtures                    regenerate fixtures/ with the real tools (as root; needs the
                              Debian peers and docker.io) and say what changed
  help                        this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let root = workspace_root()?;
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    match command {
        "demo" => demo::run(&root, rest),
        "ci" => ci::run(&root, rest),
        "fuzz" => fuzz::main(&root, rest),
        "bench" => bench::main(&root, rest),
        "fixtures" => fixtures::run(&root, rest),
        "stress" => stress::run(&root, rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}

/// The workspace root: the parent of this crate's directory. Every command runs from there.
fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{} has no parent directory", manifest_dir.display()))
}

/// A duration as people read it: `850ms`, `42s`, `3m07s`.
fn human(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        format!("{}ms", d.as_millis())
    } else if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}
