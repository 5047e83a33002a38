//! `ocikit login` and `ocikit logout`, as podman's: the credentials are checked against the
//! registry first, then written to `--authfile` or podman's default `auth.json`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use oci_remote::{AuthFile, Credential, Keychain};

use super::registry::TlsArgs;
use crate::usage;

/// `ocikit login`'s arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  echo \"$TOKEN\" | ocikit login registry.example.com -u me --password-stdin"
)]
pub(crate) struct LoginArgs {
    /// HOST[:PORT]
    host: String,
    /// The user name.
    #[arg(short = 'u', long)]
    username: Option<String>,
    /// Read the password from stdin (one line; the line break is dropped). Without it, the
    /// password is asked on the terminal.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

/// `ocikit logout`'s arguments.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ocikit logout registry.example.com")]
pub(crate) struct LogoutArgs {
    /// HOST[:PORT]
    host: String,
    /// The auth.json to edit (default: $REGISTRY_AUTH_FILE, else
    /// $XDG_RUNTIME_DIR/containers/auth.json, else ~/.config/containers/auth.json).
    #[arg(long, value_name = "PATH")]
    authfile: Option<PathBuf>,
}

fn host_arg(host: &str) -> &str {
    host.strip_prefix("docker://")
        .or_else(|| host.strip_prefix("https://"))
        .or_else(|| host.strip_prefix("http://"))
        .unwrap_or(host)
        .trim_end_matches('/')
}

fn auth_file(path: Option<&PathBuf>) -> Result<AuthFile> {
    let path = match path {
        Some(p) => p.clone(),
        None => match AuthFile::default_path() {
            Some(p) => p,
            None => usage!(
                "no default auth file (none of REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, HOME is set): give --authfile"
            ),
        },
    };
    Ok(AuthFile::open(path)?)
}

/// Checks the credentials with the registry, then stores them.
pub(crate) fn login(args: LoginArgs) -> Result<()> {
    let host = host_arg(&args.host);
    let Some(username) = args.username.clone().filter(|u| !u.is_empty()) else {
        usage!("login needs -u USER");
    };
    let password = if args.password_stdin {
        let mut password = String::new();
        std::io::stdin()
            .take(64 << 10)
            .read_to_string(&mut password)
            .context("reading the password from stdin")?;
        password.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        if std::fs::File::open("/dev/tty").is_err() {
            usage!("no terminal to ask for the password on: give --password-stdin");
        }
        crate::registry::ask_password(&format!("Password for {username}@{host}: "))?
    };
    if password.is_empty() {
        usage!("--password-stdin: the password is empty");
    }
    let credential = Credential::Basic {
        username: username.clone(),
        password: password.clone(),
    };
    let client = args.tls.builder(Keychain::new()).build();
    client
        .check_credentials(host, &credential)
        .with_context(|| format!("logging in to {host}"))?;
    let mut file = auth_file(args.tls.authfile.as_ref())?;
    file.set(host, &username, &password);
    file.save()?;
    eprintln!("Login Succeeded! ({})", file.path().display());
    Ok(())
}

/// Removes the registry's credentials.
pub(crate) fn logout(args: LogoutArgs) -> Result<()> {
    let host = host_arg(&args.host);
    let mut file = auth_file(args.authfile.as_ref())?;
    if !file.remove(host) {
        anyhow::bail!("not logged in to {host} ({})", file.path().display());
    }
    file.save()?;
    eprintln!(
        "Removed login credentials for {host} ({})",
        file.path().display()
    );
    Ok(())
}
