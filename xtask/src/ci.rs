//! `cargo xtask ci [STEP...]`: every check CI makes, in order, stopping at the first failure;
//! with STEPs (`tools fmt clippy test doc bench package features msrv fuzz`), only those,
//! still in that order.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cmd::Cmd;
use crate::fuzz::{self, Smoke};
use crate::{human, publish, tools, Result};

/// One check: a name for the summary and what it runs.
struct Step {
    name: &'static str,
    check: Check,
}

enum Check {
    /// One cargo command, which must exit 0.
    Cargo(fn(&Path) -> Cmd),
    /// Every fuzz target for a few seconds (module `fuzz`).
    FuzzSmoke,
    /// The Debian tools the tests call are on PATH (module `tools`).
    Tools,
    /// A check of module `publish` that has no skip.
    Publish(fn(&Path) -> Result<()>),
    /// The build with the declared `rust-version` (module `publish`).
    Msrv,
}

/// How a step ended, when it did not fail.
enum Outcome {
    Passed,
    Skipped(&'static str),
}

/// The checks, in the order they run: cheap and likely-to-fail first.
const STEPS: &[Step] = &[
    Step {
        name: "tools",
        check: Check::Tools,
    },
    Step {
        name: "fmt",
        check: Check::Cargo(|root| Cmd::cargo(root).args(["fmt", "--all", "--", "--check"])),
    },
    Step {
        name: "clippy",
        check: Check::Cargo(|root| {
            Cmd::cargo(root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ])
        }),
    },
    Step {
        name: "test",
        check: Check::Cargo(|root| {
            Cmd::cargo(root).args(["test", "--workspace", "--all-features"])
        }),
    },
    Step {
        name: "doc",
        check: Check::Cargo(|root| {
            Cmd::cargo(root).env("RUSTDOCFLAGS", "-D warnings").args([
                "doc",
                "--workspace",
                "--no-deps",
                "--all-features",
            ])
        }),
    },
    Step {
        name: "bench",
        check: Check::Cargo(|root| Cmd::cargo(root).args(["bench", "--workspace", "--no-run"])),
    },
    Step {
        name: "package",
        check: Check::Publish(publish::package),
    },
    Step {
        name: "features",
        check: Check::Publish(publish::features),
    },
    Step {
        name: "msrv",
        check: Check::Msrv,
    },
    Step {
        name: "fuzz",
        check: Check::FuzzSmoke,
    },
];

impl Step {
    fn run(&self, root: &Path, in_ci: bool) -> Result<Outcome> {
        match self.check {
            Check::Cargo(make) => make(root).run().map(|()| Outcome::Passed),
            Check::Tools => tools::check(root).map(|()| Outcome::Passed),
            Check::Publish(check) => check(root).map(|()| Outcome::Passed),
            Check::Msrv => Ok(match publish::msrv(root)? {
                publish::Msrv::Built => Outcome::Passed,
                publish::Msrv::NoToolchain => Outcome::Skipped("toolchain not installed"),
            }),
            Check::FuzzSmoke => Ok(match fuzz::smoke(root, in_ci)? {
                Smoke::Ran => Outcome::Passed,
                Smoke::Skipped => Outcome::Skipped("cargo-fuzz not installed"),
            }),
        }
    }
}

/// True under CI (`CI` set to anything but empty, `false` or `0`, as CI services set it).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "false" | "0"))
}

/// Runs the steps named in `only` (all of them when it is empty), in their order; prints one
/// summary line at the end, whether they passed or not.
pub(crate) fn run(root: &Path, only: &[String]) -> Result<()> {
    let names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
    if let Some(unknown) = only.iter().find(|o| !names.contains(&o.as_str())) {
        return Err(format!(
            "unknown ci step `{unknown}`; steps: {}",
            names.join(" ")
        ));
    }
    let steps: Vec<&Step> = STEPS
        .iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s.name))
        .collect();
    let in_ci = in_ci();
    let total = steps.len();
    let started = Instant::now();
    let mut done: Vec<String> = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        eprintln!("\n==> ci step {}/{total}: {}", i + 1, step.name);
        let step_started = Instant::now();
        let outcome = step.run(root, in_ci);
        let took = step_started.elapsed();
        match outcome {
            Ok(Outcome::Passed) => done.push(format!("{} {}", step.name, human(took))),
            Ok(Outcome::Skipped(why)) => done.push(format!("{} skipped ({why})", step.name)),
            Err(e) => {
                eprintln!("\n{e}");
                let summary = summary_line(&done, started.elapsed());
                return Err(format!(
                    "ci FAILED at step {}/{total} `{}` after {}; before it: {summary}",
                    i + 1,
                    step.name,
                    human(took)
                ));
            }
        }
    }
    eprintln!("\nci: ok, {}", summary_line(&done, started.elapsed()));
    Ok(())
}

fn summary_line(done: &[String], total: Duration) -> String {
    if done.is_empty() {
        format!("no step passed, {} in all", human(total))
    } else {
        format!("{}; {} in all", done.join(", "), human(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_in_the_documented_order() {
        let names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "tools", "fmt", "clippy", "test", "doc", "bench", "package", "features", "msrv",
                "fuzz"
            ]
        );
    }

    #[test]
    fn cargo_steps_print_the_commands_ci_runs() {
        let root = Path::new("/r");
        let shown: Vec<String> = STEPS
            .iter()
            .filter_map(|s| match s.check {
                Check::Cargo(make) => Some(make(root).to_string()),
                Check::FuzzSmoke | Check::Tools | Check::Publish(_) | Check::Msrv => None,
            })
            .collect();
        assert_eq!(
            shown,
            [
                "cargo fmt --all -- --check",
                "cargo clippy --workspace --all-targets --all-features -- -D warnings",
                "cargo test --workspace --all-features",
                "RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps --all-features",
                "cargo bench --workspace --no-run",
            ]
        );
    }

    #[test]
    fn unknown_steps_are_refused_before_anything_runs() {
        let err = run(Path::new("/nonexistent"), &["lint".to_owned()]).unwrap_err();
        assert_eq!(
            err,
            "unknown ci step `lint`; steps: tools fmt clippy test doc bench package features msrv fuzz"
        );
    }
}
