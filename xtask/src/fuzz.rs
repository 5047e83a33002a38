//! `cargo xtask fuzz`: the cargo-fuzz targets in `fuzz/`, on the stable toolchain.
//!
//! How (docs/ARCHITECTURE.md, "Fuzzing", says the same for people):
//! - cargo-fuzz builds with nightly-only rustc flags (`-Zsanitizer=address` and others).
//!   `RUSTC_BOOTSTRAP=1`, set for the cargo-fuzz commands only, makes the stable compiler
//!   accept them, so neither CI nor a developer needs a nightly toolchain. The default
//!   address sanitizer is kept: with it libFuzzer also reports a single huge allocation
//!   (`-rss_limit_mb`, 2 GiB) as a failure, which is how "bounded allocation" is fuzzed.
//! - The checked-in seeds `fuzz/corpus/TARGET/seed-*` are libFuzzer's second, read-only
//!   corpus directory; the first, where it writes the inputs it finds, is the scratch
//!   directory `fuzz/target/corpus/TARGET` (ignored by git), so runs never touch the seeds
//!   and a later run starts from what earlier ones found.
//! - A crashing input lands in `fuzz/artifacts/TARGET/`; cargo-fuzz prints the command that
//!   replays it. The whole libFuzzer output of a run is kept in `fuzz/target/logs/TARGET.log`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

mod status;

use crate::cmd::Cmd;
use crate::{human, Result};

/// Seconds per target for `cargo xtask fuzz TARGET` without SECONDS.
const DEFAULT_SECONDS: u64 = 60;
/// Seconds per target for the smoke run of `cargo xtask ci`.
const SMOKE_SECONDS: u64 = 5;
/// Targets the CI smoke builds but does not run, and why. A target belongs here only while a
/// finding of its own is being worked on: it is still run by `cargo xtask fuzz`. (Empty
/// since `tar_differential` ran 10 minutes without a finding.)
const SMOKE_SKIP: &[(&str, &str)] = &[];
/// Overrides [`SMOKE_SECONDS`].
const SMOKE_SECONDS_ENV: &str = "OCIKIT_FUZZ_SECONDS";

const USAGE: &str = "usage: cargo xtask fuzz TARGET [SECONDS] | fuzz all [SECONDS] | \
                     fuzz cmin [TARGET...] | fuzz --list";

/// The record of every campaign: cumulative executions per target (module `status`).
pub(crate) const STATUS_FILE: &str = "fuzz/STATUS.md";

/// `ASAN_OPTIONS` for campaigns; see [`asan_options`].
const CAMPAIGN_ASAN_OPTIONS: &str = "quarantine_size_mb=0";

/// `cargo xtask fuzz ARGS`.
pub(crate) fn main(root: &Path, args: &[String]) -> Result<()> {
    let (target, rest) = match args.split_first() {
        Some((first, _)) if first == "--list" || first == "-l" => {
            for target in targets(root)? {
                println!("{target}");
            }
            return Ok(());
        }
        Some((first, rest)) if first == "cmin" => return cmin(root, rest),
        Some((target, rest)) => (target, rest),
        None => return Err(format!("missing TARGET\n{USAGE}")),
    };
    let seconds = match rest {
        [] => DEFAULT_SECONDS,
        [seconds] => parse_seconds(seconds)?,
        _ => return Err(format!("too many arguments\n{USAGE}")),
    };
    let all = targets(root)?;
    let chosen = if target == "all" {
        all
    } else if all.contains(target) {
        vec![target.clone()]
    } else {
        return Err(format!(
            "unknown fuzz target `{target}`; known: {}",
            all.join(", ")
        ));
    };
    if !cargo_fuzz_installed(root) {
        return Err("cargo-fuzz is not installed (install: cargo install cargo-fuzz)".into());
    }
    run_targets(root, &chosen, seconds, Record::Status)
}

/// Whether a run adds its executions to [`STATUS_FILE`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Record {
    /// Campaigns (`cargo xtask fuzz ...`) are counted.
    Status,
    /// The smoke of `cargo xtask ci` is not: it would dirty the tree on every check.
    Nothing,
}

/// What the fuzz smoke of `cargo xtask ci` did.
pub(crate) enum Smoke {
    /// Every target ran for the given seconds without a failure.
    Ran,
    /// cargo-fuzz is missing, outside CI.
    Skipped,
}

/// The fuzz smoke of `cargo xtask ci`: every target for a few seconds. A missing cargo-fuzz
/// skips it with a message, except under CI, where it is an error.
pub(crate) fn smoke(root: &Path, in_ci: bool) -> Result<Smoke> {
    if !cargo_fuzz_installed(root) {
        if in_ci {
            return Err(
                "cargo-fuzz is not installed and CI must run the fuzz smoke \
                        (install: cargo install cargo-fuzz --locked)"
                    .into(),
            );
        }
        eprintln!(
            "skipping fuzz smoke: cargo-fuzz not installed (install: cargo install cargo-fuzz)"
        );
        return Ok(Smoke::Skipped);
    }
    let seconds = match std::env::var(SMOKE_SECONDS_ENV) {
        Ok(s) => parse_seconds(&s).map_err(|e| format!("{SMOKE_SECONDS_ENV}: {e}"))?,
        Err(_) => SMOKE_SECONDS,
    };
    let mut run = targets(root)?;
    for (target, why) in SMOKE_SKIP {
        eprintln!("fuzz smoke: not running {target}: {why}");
    }
    run.retain(|t| !SMOKE_SKIP.iter().any(|(skip, _)| skip == t));
    run_targets(root, &run, seconds, Record::Nothing)?;
    Ok(Smoke::Ran)
}

/// The fuzz targets: the files `fuzz/fuzz_targets/NAME.rs`, sorted (each is a `[[bin]]` of
/// `fuzz/Cargo.toml` with the same name).
fn targets(root: &Path) -> Result<Vec<String>> {
    let dir = root.join("fuzz/fuzz_targets");
    let entries = fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "rs") {
            if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                names.push(stem.to_owned());
            }
        }
    }
    names.sort();
    if names.is_empty() {
        return Err(format!("no fuzz targets in {}", dir.display()));
    }
    Ok(names)
}

fn cargo_fuzz_installed(root: &Path) -> bool {
    Cmd::cargo(root)
        .args(["fuzz", "--version"])
        .succeeds_quietly()
}

fn parse_seconds(s: &str) -> Result<u64> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("SECONDS must be a whole number above 0, got `{s}`")),
    }
}

/// `cargo fuzz` with what the stable toolchain needs, and `ASAN_OPTIONS` from
/// [`asan_options`] (a campaign's when `campaign` is set).
fn cargo_fuzz(root: &Path, campaign: bool) -> Cmd {
    let inherited = std::env::var("ASAN_OPTIONS").ok();
    Cmd::cargo(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env(
            "ASAN_OPTIONS",
            &asan_options(inherited.as_deref(), campaign),
        )
        .arg("fuzz")
}

/// The address sanitizer's options: the caller's `ASAN_OPTIONS`, or for a campaign
/// [`CAMPAIGN_ASAN_OPTIONS`] when the caller set none, always with ASan's ODR check off.
/// libdeflate (through oci-stream, in the oci-copy target) defines its static tables in
/// several compilation units on purpose, which ASan reports as an ODR violation before any
/// input runs.
///
/// Why campaigns run without a quarantine: ASan's default holds back 256 MiB of freed
/// memory, so that a use after free lands on poisoned bytes rather than on a new allocation.
/// The targets allocate and free many short-lived buffers per input, and passing them all
/// through the quarantine slows them: side by side from the same corpus, `filter` ran 414
/// executions/s with the default and 514 with an 8 MiB quarantine (600 s each), then 373
/// with 8 MiB and 483 with none (1,800 s each). What the campaigns look for is kept: our
/// crates forbid unsafe code, so a use after free could only come from a dependency's unsafe
/// code; out-of-bounds accesses still hit ASan's redzones, and its malloc hooks still report
/// an allocation over `-rss_limit_mb`. The CI smoke keeps ASan's defaults.
fn asan_options(inherited: Option<&str>, campaign: bool) -> String {
    let base = match inherited {
        Some(set) => set,
        None if campaign => CAMPAIGN_ASAN_OPTIONS,
        None => "",
    };
    if base.contains("detect_odr_violation") {
        base.to_owned()
    } else if base.is_empty() {
        "detect_odr_violation=0".to_owned()
    } else {
        format!("{base}:detect_odr_violation=0")
    }
}

/// Builds `targets` (all of them in one cargo run), then runs each for `seconds`, then
/// prints a table of their exec stats (and, for campaigns, adds them to [`STATUS_FILE`]).
/// Fails if any target failed, after running all.
fn run_targets(root: &Path, targets: &[String], seconds: u64, record: Record) -> Result<()> {
    let mut build = cargo_fuzz(root, false).arg("build");
    if let [only] = targets {
        build = build.arg(only);
    }
    build.run()?;

    let mut results = Vec::new();
    for target in targets {
        let outcome = run_one(root, target, seconds, record);
        results.push((target.clone(), outcome));
    }

    eprintln!("\nfuzz: {} target(s), {seconds} s each", results.len());
    eprint!("{}", table(&results));
    if record == Record::Status {
        // A run that failed without an input to replay did not fuzz (the build broke, the
        // fuzzer could not start): nothing to count, and no crash to record.
        let runs: Vec<status::Run> = results
            .iter()
            .filter(|(_, outcome)| outcome.failure.is_none() || outcome.stats.artifact.is_some())
            .map(|(target, outcome)| status::Run {
                target: target.clone(),
                execs: outcome.stats.execs.unwrap_or(0),
                crashed: outcome.failure.is_some(),
            })
            .collect();
        status::record(root, &runs)?;
        eprintln!("added to {STATUS_FILE}");
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, outcome)| outcome.failure.is_some())
        .map(|(target, _)| target.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz: {} of {} target(s) failed: {}",
            failed.len(),
            results.len(),
            failed.join(", ")
        ))
    }
}

/// The table `fuzz all` prints: target, executions, new coverage, corpus size, crashes.
fn table(results: &[(String, Ran)]) -> String {
    let width = results
        .iter()
        .map(|(t, _)| t.len())
        .max()
        .unwrap_or(0)
        .max("target".len());
    let show = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
    let mut out = format!(
        "  {:width$}  {:>12}  {:>9}  {:>7}  {:>7}  {}\n",
        "target", "executions", "new cov", "corpus", "crashes", "exec/s"
    );
    for (target, outcome) in results {
        let stats = &outcome.stats;
        let crashes = u8::from(outcome.failure.is_some());
        let new_cov = match (stats.coverage, stats.initial_coverage) {
            (Some(end), Some(start)) => format!("+{}", end.saturating_sub(start)),
            _ => "?".to_owned(),
        };
        out.push_str(&format!(
            "  {target:width$}  {:>12}  {new_cov:>9}  {:>7}  {crashes:>7}  {}\n",
            show(stats.execs),
            show(stats.corpus),
            show(stats.execs_per_sec),
        ));
    }
    for (target, outcome) in results {
        if let Some(why) = &outcome.failure {
            out.push_str(&format!("  {target}: FAILED {why}\n"));
        }
    }
    out
}

/// `cargo xtask fuzz cmin [TARGET...]`: for each target (all by default), the smallest set of
/// inputs that keeps the coverage of the checked-in corpus and of everything runs found
/// (libFuzzer's `-merge=1`), written back into `fuzz/corpus/TARGET/`: the hand-made
/// `seed-*` files stay as they are, the other files are replaced by the merge's result.
fn cmin(root: &Path, args: &[String]) -> Result<()> {
    let all = targets(root)?;
    let chosen: Vec<String> = if args.is_empty() {
        all
    } else {
        for target in args {
            if !all.contains(target) {
                return Err(format!("unknown fuzz target `{target}`"));
            }
        }
        args.to_vec()
    };
    if !cargo_fuzz_installed(root) {
        return Err("cargo-fuzz is not installed (install: cargo install cargo-fuzz)".into());
    }
    cargo_fuzz(root, false).arg("build").run()?;
    for target in &chosen {
        let committed = root.join("fuzz/corpus").join(target);
        let scratch = PathBuf::from("fuzz/target/corpus").join(target);
        let merged = PathBuf::from("fuzz/target/cmin").join(target);
        let _ = fs::remove_dir_all(root.join(&merged));
        fs::create_dir_all(root.join(&merged))
            .map_err(|e| format!("creating {}: {e}", merged.display()))?;
        fs::create_dir_all(root.join(&scratch))
            .map_err(|e| format!("creating {}: {e}", scratch.display()))?;
        // The seeds go in first, so the merge keeps them and adds only what covers more.
        let seeds = corpus_files(&committed)?;
        for (name, path) in seeds.iter().filter(|(name, _)| name.starts_with("seed-")) {
            fs::copy(path, root.join(&merged).join(name))
                .map_err(|e| format!("copying {}: {e}", path.display()))?;
        }
        cargo_fuzz(root, false)
            .args(["run", target.as_str()])
            .arg(path_arg(&merged))
            .arg(format!("fuzz/corpus/{target}"))
            .arg(path_arg(&scratch))
            .args(["--", "-merge=1"])
            .run()?;
        let before = seeds.len();
        for (name, path) in &seeds {
            if !name.starts_with("seed-") {
                fs::remove_file(path).map_err(|e| format!("removing {}: {e}", path.display()))?;
            }
        }
        let mut kept = 0;
        for (name, path) in corpus_files(&root.join(&merged))? {
            if !name.starts_with("seed-") {
                fs::copy(&path, committed.join(&name))
                    .map_err(|e| format!("copying {}: {e}", path.display()))?;
            }
            kept += 1;
        }
        eprintln!("cmin {target}: {before} committed inputs -> {kept} (seeds kept)");
    }
    Ok(())
}

/// The files of a corpus folder, by name.
fn corpus_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))? {
        let entry = entry.map_err(|e| format!("listing {}: {e}", dir.display()))?;
        if entry.path().is_file() {
            files.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
    }
    files.sort();
    Ok(files)
}

/// How one target's run ended: its stats, and why it failed if it did.
struct Ran {
    stats: Stats,
    failure: Option<String>,
}

/// What libFuzzer reported at the end of a run.
#[derive(Debug, Default, PartialEq)]
struct Stats {
    execs: Option<u64>,
    execs_per_sec: Option<u64>,
    coverage: Option<u64>,
    /// Coverage once the corpora were loaded (libFuzzer's `INITED` line).
    initial_coverage: Option<u64>,
    features: Option<u64>,
    corpus: Option<u64>,
    peak_rss_mb: Option<u64>,
    wall: Duration,
    /// Where libFuzzer wrote the input that failed.
    artifact: Option<String>,
}

impl Stats {
    /// Takes what it can from one line of libFuzzer's output.
    fn scan(&mut self, line: &str) {
        if let Some(n) = stat(line, "stat::number_of_executed_units:") {
            self.execs = Some(n);
        } else if let Some(n) = stat(line, "stat::average_exec_per_sec:") {
            self.execs_per_sec = Some(n);
        } else if let Some(n) = stat(line, "stat::peak_rss_mb:") {
            self.peak_rss_mb = Some(n);
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            // `artifact_prefix='fuzz/artifacts/T/'; Test unit written to fuzz/artifacts/T/crash-...`
            self.artifact = Some(path.trim().to_owned());
        } else if line.contains("\tINITED ") {
            self.initial_coverage = after(line, " cov: ");
        } else if line.contains("\tDONE ") {
            // `#1092542	DONE   cov: 138 ft: 282 corp: 114/1652b lim: 4096 exec/s: ...`
            self.coverage = after(line, " cov: ");
            self.features = after(line, " ft: ");
            self.corpus = after(line, " corp: ");
        }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |n: Option<u64>| n.map_or_else(|| "?".to_owned(), |n| n.to_string());
        write!(
            f,
            "{} execs ({}/s), cov {}, ft {}, corpus {}, peak rss {} MB, {}",
            show(self.execs),
            show(self.execs_per_sec),
            show(self.coverage),
            show(self.features),
            show(self.corpus),
            show(self.peak_rss_mb),
            human(self.wall),
        )
    }
}

/// The number after `key` when the line starts with it (`stat::x:   123`).
fn stat(line: &str, key: &str) -> Option<u64> {
    line.strip_prefix(key)
        .and_then(|rest| leading_number(rest.trim_start()))
}

/// The number right after `key` anywhere in the line.
fn after(line: &str, key: &str) -> Option<u64> {
    line.split_once(key)
        .and_then(|(_, rest)| leading_number(rest))
}

fn leading_number(s: &str) -> Option<u64> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s[..end].parse().ok()
}

/// True for libFuzzer's per-input progress lines (`#123 NEW ...` and the `NEW_FUNC` lines
/// after them), which are kept out of the terminal (they are in the log).
fn is_progress_noise(line: &str) -> bool {
    if line.starts_with("\tNEW_FUNC") || line.starts_with("\tNEW_PC") {
        return true;
    }
    let Some(rest) = line.strip_prefix('#') else {
        return false;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.trim_start();
    rest.starts_with("NEW") || rest.starts_with("REDUCE") || rest.starts_with("RELOAD")
}

/// Runs one target for `seconds`, echoing libFuzzer's output (less the per-input lines and
/// the recommended dictionary) and keeping all of it in a log. Err is a one-line reason.
fn run_one(root: &Path, target: &str, seconds: u64, record: Record) -> Ran {
    match try_run_one(root, target, seconds, record) {
        Ok(ran) => ran,
        Err(why) => Ran {
            stats: Stats::default(),
            failure: Some(why),
        },
    }
}

/// Where a campaign's targets make their temporary directories: `/dev/shm` when it is there
/// and `TMPDIR` is not set. The filesystem targets (`unpack`, `dir`, `oci_archive`) make a
/// directory per input: `unpack` ran at 81–84 executions/s with `/tmp` on an ext4 disk and
/// at 956–1,080/s on tmpfs, `dir` at 292 and 2,409, `oci_archive` at 265 and 3,721 (side by
/// side, from the committed corpus). Not for the CI smoke, whose containers may give
/// `/dev/shm` only 64 MiB.
fn campaign_tmpdir() -> Option<String> {
    if std::env::var_os("TMPDIR").is_some() {
        return None;
    }
    let shm = Path::new("/dev/shm");
    shm.is_dir().then(|| shm.display().to_string())
}

/// [`run_one`], with the failures to start as errors.
fn try_run_one(root: &Path, target: &str, seconds: u64, record: Record) -> Result<Ran> {
    let scratch = PathBuf::from("fuzz/target/corpus").join(target);
    let seeds = PathBuf::from("fuzz/corpus").join(target);
    let logs = root.join("fuzz/target/logs");
    for dir in [&root.join(&scratch), &logs] {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut cmd = cargo_fuzz(root, record == Record::Status)
        .args(["run", target])
        .arg(path_arg(&scratch));
    if root.join(&seeds).is_dir() {
        cmd = cmd.arg(path_arg(&seeds));
    } else {
        eprintln!("note: no seeds for {target} (expected {})", seeds.display());
    }
    let mut cmd = cmd.args([
        "--".to_owned(),
        format!("-max_total_time={seconds}"),
        "-print_final_stats=1".into(),
    ]);
    if record == Record::Status {
        if let Some(tmp) = campaign_tmpdir() {
            cmd = cmd.env("TMPDIR", &tmp);
        }
    }

    let log_path = logs.join(format!("{target}.log"));
    let mut log = fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;

    cmd.echo();
    let started = Instant::now();
    let mut child = cmd
        .command()
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{cmd}`: {e}"))?;
    let mut stats = Stats::default();
    if let Some(stderr) = child.stderr.take() {
        let mut reader = BufReader::new(stderr);
        let mut buf = Vec::new();
        let mut in_dictionary = false;
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    eprintln!("xtask: reading the output of {target}: {e}");
                    break;
                }
            }
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches(['\n', '\r']);
            // The log is a convenience: a full disk must not hide the fuzzer's verdict.
            let _ = writeln!(log, "{line}");
            stats.scan(line);
            if line.starts_with("###### Recommended dictionary") {
                in_dictionary = true;
                eprintln!("(libFuzzer's recommended dictionary: in the log)");
            } else if line.starts_with("###### End of recommended dictionary") {
                in_dictionary = false;
            } else if !in_dictionary && !is_progress_noise(line) {
                eprintln!("{line}");
            }
        }
    }
    let status = match child.wait() {
        Ok(status) => status,
        Err(e) => {
            let failure = Some(format!("waiting for `{cmd}`: {e}"));
            return Ok(Ran { stats, failure });
        }
    };
    stats.wall = started.elapsed();
    let log_shown = log_path
        .strip_prefix(root)
        .unwrap_or(&log_path)
        .display()
        .to_string();
    if status.success() {
        eprintln!("fuzz {target}: {stats} (log: {log_shown})");
        Ok(Ran {
            stats,
            failure: None,
        })
    } else {
        let replay = match &stats.artifact {
            Some(path) => {
                let path = Path::new(path);
                let path = path.strip_prefix(root).unwrap_or(path).display();
                format!("replay: RUSTC_BOOTSTRAP=1 cargo fuzz run {target} {path}")
            }
            None => format!("inputs in fuzz/artifacts/{target}/"),
        };
        let why = format!(
            "{status} after {}; {replay}; output in {log_shown}",
            human(stats.wall)
        );
        Ok(Ran {
            stats,
            failure: Some(why),
        })
    }
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_final_stats() {
        let output = "\
INFO: Seed: 1234
#1048576\tpulse  cov: 138 ft: 282 corp: 114/1652b lim: 4096 exec/s: 209715 rss: 255Mb
#1092542\tDONE   cov: 139 ft: 283 corp: 115/1652b lim: 4096 exec/s: 182090 rss: 263Mb
Done 1092542 runs in 6 second(s)
stat::number_of_executed_units: 1092542
stat::average_exec_per_sec:     182090
stat::new_units_added:          1041
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              263
";
        let mut stats = Stats::default();
        output.lines().for_each(|line| stats.scan(line));
        let expected = Stats {
            execs: Some(1092542),
            execs_per_sec: Some(182090),
            coverage: Some(139),
            initial_coverage: None,
            features: Some(283),
            corpus: Some(115),
            peak_rss_mb: Some(263),
            wall: Duration::ZERO,
            artifact: None,
        };
        assert_eq!(stats, expected);
    }

    #[test]
    fn finds_the_crash_input() {
        let mut stats = Stats::default();
        stats.scan("==12== ERROR: libFuzzer: deadly signal");
        assert_eq!(stats.artifact, None);
        stats.scan("artifact_prefix='/w/fuzz/artifacts/config/'; Test unit written to /w/fuzz/artifacts/config/crash-607b");
        assert_eq!(
            stats.artifact.as_deref(),
            Some("/w/fuzz/artifacts/config/crash-607b")
        );
    }

    #[test]
    fn hides_only_per_input_lines() {
        assert!(is_progress_noise("#37\tNEW    cov: 12 ft: 13 corp: 3/9b"));
        assert!(is_progress_noise("#4096\tREDUCE cov: 12 ft: 13 corp: 3/9b"));
        assert!(is_progress_noise(
            "\tNEW_FUNC[1/2]: 0x563e in serde_json::read::error"
        ));
        assert!(!is_progress_noise(
            "#4096\tpulse  cov: 12 ft: 13 corp: 3/9b"
        ));
        assert!(!is_progress_noise("#1092542\tDONE   cov: 139"));
        assert!(!is_progress_noise(
            "thread '<unnamed>' panicked at src/reference.rs:27:9:"
        ));
    }

    #[test]
    fn asan_options_keep_the_callers_and_turn_the_odr_check_off() {
        assert_eq!(asan_options(None, false), "detect_odr_violation=0");
        assert_eq!(
            asan_options(None, true),
            "quarantine_size_mb=0:detect_odr_violation=0"
        );
        // What the caller set wins over the campaign's default, in a campaign too.
        for campaign in [false, true] {
            assert_eq!(
                asan_options(Some("halt_on_error=1"), campaign),
                "halt_on_error=1:detect_odr_violation=0"
            );
            assert_eq!(
                asan_options(Some("detect_odr_violation=1"), campaign),
                "detect_odr_violation=1"
            );
            assert_eq!(asan_options(Some(""), campaign), "detect_odr_violation=0");
        }
    }

    #[test]
    fn seconds_must_be_positive_whole_numbers() {
        assert_eq!(parse_seconds("60"), Ok(60));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("1.5").is_err());
    }

    #[test]
    fn skipped_smoke_targets_exist() {
        let all = targets(&crate::workspace_root().unwrap()).unwrap();
        for (target, why) in SMOKE_SKIP {
            assert!(all.iter().any(|t| t == target), "{target} is no target");
            assert!(!why.is_empty());
        }
    }

    #[test]
    fn every_target_has_a_bin_and_seeds() {
        let root = crate::workspace_root().unwrap();
        let manifest = fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        for target in targets(&root).unwrap() {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "no [[bin]] for {target}"
            );
            let seeds = fs::read_dir(root.join("fuzz/corpus").join(&target)).unwrap();
            let seeds = seeds
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with("seed-")
                })
                .count();
            assert!(seeds > 0, "{target} has no seed-* files");
        }
    }
}
