//! `cargo xtask stress`: the crash and race suites in full. CI runs them in a short form
//! (20 kill points per sink, 50 race rounds) as part of `cargo test`; this runs 200 kill
//! points per sink and 1,000 race rounds, which takes a while.

use std::path::Path;

use crate::cmd::Cmd;
use crate::Result;

/// Kill points per sink and race rounds of the full run.
const POINTS: &str = "200";
const ROUNDS: &str = "1000";

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let (points, rounds) = match args {
        [] => (POINTS.to_owned(), ROUNDS.to_owned()),
        [points, rounds] => (points.clone(), rounds.clone()),
        _ => return Err("usage: cargo xtask stress [KILL-POINTS RACE-ROUNDS]".into()),
    };
    let suites: [(&str, &str, &str); 3] = [
        ("ocikit-cli", "cli", "crash::"),
        ("oci-layout", "layout", "race::processes"),
        ("oci-content", "race", "processes"),
    ];
    for (package, test, filter) in suites {
        Cmd::cargo(root)
            .env("OCIKIT_CRASH_POINTS", &points)
            .env("OCIKIT_RACE_ROUNDS", &rounds)
            .args(["test", "--release", "-p", package, "--test", test, filter])
            .args(["--", "--nocapture"])
            .run()?;
    }
    eprintln!("stress: ok ({points} kill points per sink, {rounds} race rounds)");
    Ok(())
}
