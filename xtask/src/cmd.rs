//! Commands that are printed before they run.

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;

/// A command line: program, arguments and extra environment, run in a directory.
///
/// `Display` gives it as a shell line (`RUSTDOCFLAGS='-D warnings' cargo doc ...`), which is
/// what [`Cmd::run`] prints, prefixed with `$ `, before it runs it.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    shown: String,
    program: OsString,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    dir: PathBuf,
}

impl Cmd {
    /// `cargo`: the one that runs this xtask (`$CARGO`, so the same toolchain), shown as
    /// `cargo`.
    pub(crate) fn cargo(dir: &Path) -> Cmd {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Cmd {
            shown: "cargo".into(),
            program,
            args: vec![],
            envs: vec![],
            dir: dir.into(),
        }
    }

    /// Any program, shown as given.
    pub(crate) fn program(program: impl Into<String>, dir: &Path) -> Cmd {
        let program = program.into();
        Cmd {
            shown: program.clone(),
            program: program.into(),
            args: vec![],
            envs: vec![],
            dir: dir.into(),
        }
    }

    /// Appends one argument.
    pub(crate) fn arg(mut self, arg: impl Into<String>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for this command only.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Cmd {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// The `std` command, with nothing printed.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(&self.dir);
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        command
    }

    /// Prints `$ <command line>` to stderr, where cargo's own output goes too.
    pub(crate) fn echo(&self) {
        eprintln!("$ {self}");
    }

    /// Prints the command, runs it with inherited stdio and fails unless it exits 0.
    pub(crate) fn run(&self) -> Result<()> {
        self.echo();
        let status = self
            .command()
            .status()
            .map_err(|e| format!("cannot start `{self}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{self}` failed ({status})"))
        }
    }

    /// Runs the command silently (output discarded); true when it could start and exited 0.
    pub(crate) fn succeeds_quietly(&self) -> bool {
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (key, value) in &self.envs {
            write!(f, "{key}={} ", quote(value))?;
        }
        f.write_str(&self.shown)?;
        for arg in &self.args {
            write!(f, " {}", quote(arg))?;
        }
        Ok(())
    }
}

/// `s` as one POSIX shell word.
fn quote(s: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_a_shell_line() {
        let cmd = Cmd::cargo(Path::new("/"))
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(["doc", "--workspace", "it's", ""]);
        assert_eq!(
            cmd.to_string(),
            r"RUSTDOCFLAGS='-D warnings' cargo doc --workspace 'it'\''s' ''"
        );
    }
}
