//! `fuzz/STATUS.md`: the cumulative executions of every campaign per target, with the date and
//! commit of the last one, kept in the repository so that counts add up across sessions and
//! machines. A Markdown table that this module reads and rewrites; the text above it is kept.

use std::path::Path;
use std::process::Command;

use super::STATUS_FILE;
use crate::Result;

/// The goal each target works towards.
pub(crate) const GOAL: u64 = 10_000_000;

const TABLE_HEADER: &str =
    "| target | executions | crashes found | last run | at commit | goal (10^7) |";
const TABLE_RULE: &str = "|---|---:|---:|---|---|---|";

const PREAMBLE: &str = "\
# Fuzzing status

Cumulative libFuzzer executions per target, added by every `cargo xtask fuzz TARGET|all
[SECONDS]` run (the CI smoke is not counted). Each target works towards 10,000,000 executions
without a crash, panic, timeout or out-of-memory; a crash found is fixed, and its input kept as
a `seed-` file and a unit test, before counting goes on. `cargo xtask fuzz cmin` minimises the
committed corpora (`fuzz/corpus/TARGET/`) to what keeps their coverage.

";

/// One target's run, as `fuzz` reports it.
pub(crate) struct Run {
    pub(crate) target: String,
    pub(crate) execs: u64,
    pub(crate) crashed: bool,
}

/// One row of the table.
#[derive(Debug, PartialEq, Eq)]
struct Row {
    target: String,
    execs: u64,
    crashes: u64,
    date: String,
    commit: String,
}

fn parse(text: &str) -> (String, Vec<Row>) {
    let mut preamble = String::new();
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.trim() == TABLE_HEADER {
            in_table = true;
            continue;
        }
        if !in_table {
            preamble.push_str(line);
            preamble.push('\n');
            continue;
        }
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let [target, execs, crashes, date, commit, ..] = cells[..] else {
            continue;
        };
        let number = |s: &str| s.replace(',', "").parse::<u64>().ok();
        if let (Some(execs), Some(crashes)) = (number(execs), number(crashes)) {
            rows.push(Row {
                target: target.trim_matches('`').to_owned(),
                execs,
                crashes,
                date: date.to_owned(),
                commit: commit.trim_matches('`').to_owned(),
            });
        }
    }
    (preamble, rows)
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render(preamble: &str, rows: &[Row]) -> String {
    let mut out = if preamble.trim().is_empty() {
        PREAMBLE.to_owned()
    } else {
        preamble.to_owned()
    };
    out.push_str(TABLE_HEADER);
    out.push('\n');
    out.push_str(TABLE_RULE);
    out.push('\n');
    for row in rows {
        let goal = if row.execs >= GOAL {
            "reached".to_owned()
        } else {
            format!("{:.0}%", row.execs as f64 * 100.0 / GOAL as f64)
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | `{}` | {goal} |\n",
            row.target,
            thousands(row.execs),
            row.crashes,
            row.date,
            row.commit
        ));
    }
    out
}

/// Adds `runs` to the rows (new targets get a row), stamped with `date` and `commit`.
fn add(rows: &mut Vec<Row>, runs: &[Run], date: &str, commit: &str) {
    for run in runs {
        let row = match rows.iter_mut().find(|r| r.target == run.target) {
            Some(row) => row,
            None => {
                rows.push(Row {
                    target: run.target.clone(),
                    execs: 0,
                    crashes: 0,
                    date: String::new(),
                    commit: String::new(),
                });
                rows.last_mut().expect("just pushed")
            }
        };
        row.execs += run.execs;
        row.crashes += u64::from(run.crashed);
        row.date = date.to_owned();
        row.commit = commit.to_owned();
    }
    rows.sort_by(|a, b| a.target.cmp(&b.target));
}

fn output(root: &Path, program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "?".to_owned())
}

/// Adds a campaign's runs to [`STATUS_FILE`].
pub(crate) fn record(root: &Path, runs: &[Run]) -> Result<()> {
    let path = root.join(STATUS_FILE);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let (preamble, mut rows) = parse(&text);
    let date = output(root, "date", &["-u", "+%Y-%m-%d"]);
    let commit = output(root, "git", &["rev-parse", "--short", "HEAD"]);
    add(&mut rows, runs, &date, &commit);
    std::fs::write(&path, render(&preamble, &rows))
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_add_up_and_the_file_reads_back() {
        let mut rows = Vec::new();
        let run = |target: &str, execs, crashed| Run {
            target: target.into(),
            execs,
            crashed,
        };
        add(
            &mut rows,
            &[run("b", 1_500_000, false)],
            "2026-12-01",
            "abc",
        );
        add(
            &mut rows,
            &[run("b", 9_000_000, false), run("a", 7, true)],
            "2026-12-02",
            "def",
        );
        let text = render("", &rows);
        assert!(text.starts_with("# Fuzzing status"));
        assert!(
            text.contains("| `b` | 10,500,000 | 0 | 2026-12-02 | `def` | reached |"),
            "{text}"
        );
        assert!(
            text.contains("| `a` | 7 | 1 | 2026-12-02 | `def` | 0% |"),
            "{text}"
        );
        let (preamble, again) = parse(&text);
        assert_eq!(again, rows);
        assert_eq!(render(&preamble, &again), text);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10_000_000), "10,000,000");
    }
}
