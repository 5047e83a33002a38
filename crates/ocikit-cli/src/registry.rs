//! Reaching registries (`docker://` names): a client per side of a command, built from
//! `--creds`, `--authfile`, `--insecure-registry`, the TLS flags and `--jobs`, and errors that say what to do.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use oci_remote::{Client, Credential, Keychain};
use oci_types::Reference;

use crate::cli::{RegistryArgs, Secret};
use crate::usage;

/// How one side of a command (its source, or its destination) reaches registries.
#[derive(Clone, Copy)]
pub(crate) struct Access<'a> {
    creds: Option<&'a Secret>,
    args: &'a RegistryArgs,
    jobs: Option<u16>,
}

impl<'a> Access<'a> {
    pub(crate) fn new(creds: Option<&'a Secret>, args: &'a RegistryArgs) -> Access<'a> {
        Access {
            creds,
            args,
            jobs: None,
        }
    }

    /// This access uploading `jobs` blobs at once (`--jobs`; the client's default without).
    pub(crate) fn with_jobs(self, jobs: Option<u16>) -> Access<'a> {
        Access { jobs, ..self }
    }

    /// Whether `other` reaches registries with the same credentials.
    pub(crate) fn same_credentials(&self, other: &Access<'_>) -> bool {
        self.creds == other.creds
    }

    /// A client for the registry of `reference`: `--creds` for it when given (the password
    /// asked on the terminal when only a user is), else the credentials of `--authfile` or of
    /// the files docker and podman read.
    pub(crate) fn client(&self, reference: &Reference) -> Result<Client> {
        let host = reference.domain();
        let keychain = match (self.creds, &self.args.authfile) {
            (Some(creds), _) => {
                let mut keychain = Keychain::new();
                keychain.insert(host, credential(creds, host)?);
                keychain
            }
            (None, Some(path)) => Keychain::load_file(path).context("reading --authfile")?,
            (None, None) => Keychain::load_default().context("reading the registry credentials")?,
        };
        let mut builder = Client::builder().keychain(keychain);
        // A HOST without a port allows every port of it (the client's rule, as docker's).
        for allowed in &self.args.insecure_registry {
            builder = builder.insecure(allowed.as_str());
        }
        if let Some(jobs) = self.jobs {
            builder = builder.jobs(usize::from(jobs));
        }
        builder = builder.tls_verify(self.args.tls_verify && !self.args.insecure);
        if let Some(dir) = &self.args.cert_dir {
            builder = builder.cert_dir(dir);
        }
        Ok(builder.build())
    }

    /// Options of `oci_copy` reading with this side's client (for a `docker://` name).
    pub(crate) fn copy_options(&self, name: &oci_copy::ImageName) -> Result<oci_copy::CopyOptions> {
        let mut options = oci_copy::CopyOptions::default();
        if let Some(r) = name.registry_reference() {
            options.source_client = Some(self.client(r)?);
        }
        Ok(options)
    }

    /// Every image `name` holds, read with this side's client.
    pub(crate) fn open_images(
        &self,
        name: &oci_copy::ImageName,
    ) -> Result<Vec<oci_copy::NamedImage>> {
        let options = self.copy_options(name)?;
        oci_copy::open_images(name, &options).map_err(|e| self.explain(e))
    }

    /// `e` with a hint where there is one, for an error of talking to a registry:
    /// `--insecure-registry` when an HTTPS connection failed, the credential helper when
    /// authentication did.
    pub(crate) fn explain(&self, e: oci_copy::Error) -> anyhow::Error {
        let oci_copy::Error::Remote { reference, source } = &e else {
            if let oci_copy::Error::Ambiguous { .. } | oci_copy::Error::Options(_) = e {
                // The user must say which image, or options that fit: a usage error.
                return anyhow::Error::new(crate::Usage(e.to_string()));
            }
            return anyhow::Error::new(e);
        };
        let host = reference.split('/').next().unwrap_or_default();
        match self.hint(source, host) {
            // The hint after the error it explains (a context would come first).
            Some(h) => anyhow::anyhow!("{e} {h}"),
            None => anyhow::Error::new(e),
        }
    }

    /// `e`, an error of talking to the registry of `reference`, with a hint where there is
    /// one (as [`Access::explain`]).
    pub(crate) fn explain_remote(
        &self,
        e: oci_remote::Error,
        reference: &Reference,
    ) -> anyhow::Error {
        match self.hint(&e, reference.domain()) {
            Some(h) => anyhow::anyhow!("{e} {h}"),
            None => anyhow::Error::new(e),
        }
    }

    fn hint(&self, source: &oci_remote::Error, host: &str) -> Option<String> {
        match source {
            oci_remote::Error::Transport { .. } if source.to_string().contains("certificate") => {
                Some(
                    "(trust the registry's CA with --cert-dir DIR, or skip verification with \
                     --tls-verify=false)"
                        .to_owned(),
                )
            }
            oci_remote::Error::Transport { url, .. }
                if url.starts_with("https://") && !self.allows_http(host) =>
            {
                Some(format!(
                    "(if {host} serves plain HTTP, allow it with --insecure-registry {host})"
                ))
            }
            oci_remote::Error::Unauthorized { .. } if self.creds.is_none() => {
                self.helper(host).map(|helper| {
                    format!(
                        "(the credentials for {host} came from docker-credential-{helper}: \
                         give --creds or --authfile to use others)"
                    )
                })
            }
            _ => None,
        }
    }

    /// Whether plain HTTP to `host` is allowed, as the client decides (loopback or named).
    fn allows_http(&self, host: &str) -> bool {
        self.args
            .insecure_registry
            .iter()
            .fold(Client::builder(), |b, h| b.insecure(h.as_str()))
            .tls_verify(self.args.tls_verify && !self.args.insecure)
            .allows_plain_http(host)
    }

    /// The credential helper the default (or given) config names for `host`, if any.
    fn helper(&self, host: &str) -> Option<String> {
        let keychain = match &self.args.authfile {
            Some(path) => Keychain::load_file(path).ok()?,
            None => Keychain::load_default().ok()?,
        };
        keychain.helper(host).map(str::to_owned)
    }
}

/// `USER:PASS`, or `USER` and the password asked on the terminal. Messages never quote the
/// value.
fn credential(creds: &Secret, host: &str) -> Result<Credential> {
    let (username, password) = match creds.0.split_once(':') {
        Some((u, p)) => (u.to_owned(), p.to_owned()),
        None => {
            let user = creds.0.clone();
            let password = ask_password(&format!("Password for {user}@{host}: "))?;
            (user, password)
        }
    };
    if username.is_empty() {
        usage!("--creds: the user name is empty (the form is USER[:PASS])");
    }
    Ok(Credential::Basic { username, password })
}

/// Reads a password from the terminal without echoing it (`stty -echo` on `/dev/tty`).
pub(crate) fn ask_password(prompt: &str) -> Result<String> {
    let Ok(mut tty) = OpenOptions::new().read(true).write(true).open("/dev/tty") else {
        usage!("--creds USER: no terminal to ask for the password on (give USER:PASS)");
    };
    let stty = |arg: &str| -> Result<()> {
        let tty_in = File::open("/dev/tty").context("opening the terminal")?;
        let ok = Command::new("stty")
            .arg(arg)
            .stdin(Stdio::from(tty_in))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            anyhow::bail!("cannot turn the terminal's echo {arg} (stty failed)");
        }
        Ok(())
    };
    // Echo goes off before the prompt shows: a password typed (or pasted) as soon as the
    // prompt appears must not be echoed.
    stty("-echo")?;
    if let Err(e) = tty.write_all(prompt.as_bytes()).and_then(|()| tty.flush()) {
        let _ = stty("echo");
        return Err(e).context("writing to the terminal");
    }
    let mut line = String::new();
    let read = BufReader::new(&mut tty).read_line(&mut line);
    let restored = stty("echo");
    let _ = tty.write_all(b"\n");
    read.context("reading the password")?;
    restored?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_hints() {
        let args = RegistryArgs {
            authfile: None,
            insecure_registry: vec!["10.0.0.5".into(), "[fd00::1]".into()],
            tls_verify: true,
            insecure: false,
            cert_dir: None,
        };
        let secret = Secret("joe:pa:ss".into());
        let access = Access::new(Some(&secret), &args);
        assert_eq!(
            credential(&secret, "h").unwrap(),
            Credential::Basic {
                username: "joe".into(),
                password: "pa:ss".into()
            }
        );
        let empty = Secret(":x".into());
        let e = credential(&empty, "h").unwrap_err().to_string();
        assert!(!e.contains(":x"), "{e}");
        assert!(access.allows_http("127.0.0.1:5000"));
        assert!(access.allows_http("[::1]:5000"));
        assert!(access.allows_http("10.0.0.5:5000"));
        assert!(!access.allows_http("10.0.0.6:5000"));
        assert!(!access.allows_http("[::ffff:7f00:1]:5000"));
        assert!(access.allows_http("[fd00::1]:5000"));
    }
}
