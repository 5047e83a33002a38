//! The `ocikit` command: container images without a daemon.
//!
//! Exit status: 0 on success, 1 on failure, 2 on a usage error. Errors are one line on
//! stderr naming what and where.

mod cli;
mod cmd;
mod progress;
mod registry;
mod signals;

use std::process::ExitCode;

use clap::Parser;

/// A usage error: bad arguments that clap could not catch (an unknown transport, a bad
/// reference). Exits with status 2, like clap's own.
#[derive(Debug)]
pub(crate) struct Usage(pub(crate) String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Returns a usage error.
macro_rules! usage {
    ($($arg:tt)*) => { return Err(anyhow::Error::new($crate::Usage(format!($($arg)*)))) };
}
pub(crate) use usage;

/// `println!` for the command's output. A closed pipe (`ocikit inspect IMAGE | head -1`)
/// ends the process quietly with status 0, as shell users expect, where `println!` panics;
/// any other write error is a one-line error and status 1.
macro_rules! outln {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;

/// Writes to standard output; see [`outln`].
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("ocikit: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// clap's usage error as one line: its message (continuation lines joined, the usage block
/// dropped) and the `--help` hint.
fn one_line_usage(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut parts = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            parts.push(line.strip_prefix("error: ").unwrap_or(line));
        }
    }
    format!("ocikit: {} (try --help)", parts.join(" "))
}

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
                _ => {
                    eprintln!("{}", one_line_usage(&e));
                    return ExitCode::from(2);
                }
            }
        }
    };
    match cmd::run(args) {
        Ok(code) => code,
        Err(e) => {
            let status = if e.downcast_ref::<Usage>().is_some() {
                2
            } else if matches!(e.downcast_ref(), Some(oci_copy::Error::Cancelled)) {
                130
            } else {
                1
            };
            // One line: the error and its causes, without a backtrace.
            let mut line = format!("ocikit: {e}");
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !line.contains(&c) {
                    line.push_str(": ");
                    line.push_str(&c);
                }
            }
            eprintln!("{line}");
            ExitCode::from(status)
        }
    }
}
