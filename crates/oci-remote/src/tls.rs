//! The TLS settings of one host, from the options: verification on or off, CA certificates
//! (PEM files, `*.crt` of a cert dir or of `certs.d/HOST[:PORT]/`), a client certificate
//! (`*.cert` with the `*.key` of the same name), as containers/image and docker read them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use crate::error::{Error, Result, TlsFileKind};
use crate::options::Options;

use oci_types::limits::MAX_PEM_FILE;

/// What TLS looks like for one host.
pub(crate) struct HostTls {
    pub(crate) verify: bool,
    pub(crate) roots: Vec<Certificate<'static>>,
    pub(crate) client: Option<ClientCert>,
}

impl HostTls {
    /// Whether anything differs from the defaults (verified against Mozilla's roots, no
    /// client certificate).
    pub(crate) fn is_custom(&self) -> bool {
        !self.verify || !self.roots.is_empty() || self.client.is_some()
    }

    /// The ureq configuration. CA certificates of a host replace Mozilla's roots for that
    /// host: a registry with its own CA is verified against that CA only.
    pub(crate) fn config(&self) -> TlsConfig {
        let mut builder = TlsConfig::builder()
            .disable_verification(!self.verify)
            .client_cert(self.client.clone());
        if !self.roots.is_empty() {
            builder = builder.root_certs(RootCerts::Specific(Arc::new(self.roots.clone())));
        }
        builder.build()
    }
}

/// The TLS settings of `host` (`host[:port]`): its certificates are read from the files the
/// options name (a cert dir, else the `certs.d` roots' directory for the host; a port-less
/// directory also serves every port, as docker allows).
pub(crate) fn for_host(options: &Options, host: &str) -> Result<HostTls> {
    let mut roots = Vec::new();
    let mut client = None;
    for file in &options.tls.ca_files {
        roots.extend(read_certs(file)?);
    }
    let dirs: Vec<PathBuf> = match &options.tls.cert_dir {
        Some(dir) => vec![dir.clone()],
        None => options
            .tls
            .certs_d
            .iter()
            .flat_map(|root| {
                let name = crate::options::strip_port(host);
                let mut dirs = vec![root.join(host)];
                if name != host {
                    dirs.push(root.join(name));
                }
                dirs
            })
            .collect(),
    };
    for dir in dirs {
        let mut entries = match fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect::<Vec<_>>(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => continue,
            Err(e) => return Err(tls_error(&dir, TlsFileKind::List(e))),
        };
        entries.sort();
        for path in entries {
            match path.extension().and_then(|e| e.to_str()) {
                Some("crt") => roots.extend(read_certs(&path)?),
                Some("cert") if client.is_none() => {
                    let key = path.with_extension("key");
                    if !key.is_file() {
                        return Err(tls_error(&path, TlsFileKind::KeyMissing { key }));
                    }
                    let chain = read_certs(&path)?;
                    client = Some(ClientCert::new_with_certs(&chain, read_key(&key)?));
                }
                _ => {}
            }
        }
    }
    Ok(HostTls {
        verify: options.verifies(host),
        roots,
        client,
    })
}

fn read_pem(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(|e| tls_error(path, TlsFileKind::Open(e)))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| tls_error(path, TlsFileKind::Read(e)))?;
    if bytes.len() as u64 > MAX_PEM_FILE {
        return Err(tls_error(
            path,
            TlsFileKind::TooLarge {
                limit: MAX_PEM_FILE,
            },
        ));
    }
    Ok(bytes)
}

/// Every certificate of a PEM file; a file without one is an error.
pub(crate) fn read_certs(path: &Path) -> Result<Vec<Certificate<'static>>> {
    let pem = read_pem(path)?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let PemItem::Certificate(cert) =
            item.map_err(|e| tls_error(path, TlsFileKind::BadPem(e.to_string())))?
        {
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(tls_error(path, TlsFileKind::NoCertificate));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKey<'static>> {
    let pem = read_pem(path)?;
    for item in ureq::tls::parse_pem(&pem) {
        if let PemItem::PrivateKey(key) =
            item.map_err(|e| tls_error(path, TlsFileKind::BadPem(e.to_string())))?
        {
            return Ok(key);
        }
    }
    Err(tls_error(path, TlsFileKind::NoPrivateKey))
}

fn tls_error(path: &Path, kind: TlsFileKind) -> Error {
    Error::TlsFiles {
        path: path.to_owned(),
        kind,
    }
}
