//! `docker-daemon:`: a Docker Engine through its API socket (`DOCKER_HOST=unix://PATH`, else
//! `/var/run/docker.sock`). Read: `GET /images/get?names=NAME` streams a docker archive, read
//! as one (spooled to an anonymous temporary file as it arrives, since an archive's entries
//! are read in any order). Written: the docker archive is written to a temporary file and
//! sent to `POST /images/load` as the request body, streamed.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_partial::Image;
use oci_tarfile::{LayerStorage, Reader, Source as ArchiveSource};

use crate::error::{Error, Result};
use crate::name::{DaemonImage, ImageName};
use crate::options::CopyOptions;
use crate::source::{Content, Source};

/// The most bytes of a response head (status line and headers) read.
const MAX_HEAD: u64 = 64 * 1024;
/// The most bytes of an error body or of `/images/load`'s answer kept.
const MAX_ANSWER: u64 = 1024 * 1024;

/// The socket: `options.docker_host`, else `DOCKER_HOST` (`unix://PATH`), else the default.
fn socket(options: &CopyOptions) -> Result<PathBuf> {
    if let Some(p) = &options.docker_host {
        return Ok(p.clone());
    }
    match std::env::var("DOCKER_HOST") {
        Ok(h) if !h.is_empty() => match h.strip_prefix("unix://") {
            Some(p) => Ok(PathBuf::from(p)),
            None => Err(Error::Daemon {
                socket: PathBuf::from(h),
                status: None,
                message: "only unix:// sockets are supported".to_owned(),
            }),
        },
        _ => Ok(PathBuf::from("/var/run/docker.sock")),
    }
}

fn daemon_error(socket: &Path, status: Option<u16>, message: impl Into<String>) -> Error {
    Error::Daemon {
        socket: socket.to_owned(),
        status,
        message: message.into(),
    }
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Sends one request (with a body of `len` bytes from `body`) and returns the status and the
/// response body as a reader.
fn request(
    socket: &Path,
    method: &str,
    target: &str,
    body: Option<(&mut dyn Read, u64)>,
) -> Result<(u16, Box<dyn Read + Send>)> {
    let io_err = |e: io::Error| daemon_error(socket, None, e.to_string());
    let mut stream = UnixStream::connect(socket).map_err(io_err)?;
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n");
    if let Some((_, len)) = &body {
        head.push_str(&format!(
            "Content-Type: application/x-tar\r\nContent-Length: {len}\r\n"
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).map_err(io_err)?;
    if let Some((r, _)) = body {
        io::copy(r, &mut stream).map_err(io_err)?;
    }
    stream.flush().map_err(io_err)?;
    let mut reader = BufReader::with_capacity(256 * 1024, stream);
    let mut limited = (&mut reader).take(MAX_HEAD);
    let mut line = String::new();
    limited.read_line(&mut line).map_err(io_err)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| daemon_error(socket, None, format!("bad status line {line:?}")))?;
    let mut chunked = false;
    let mut length: Option<u64> = None;
    loop {
        line.clear();
        if limited.read_line(&mut line).map_err(io_err)? == 0 {
            return Err(daemon_error(
                socket,
                Some(status),
                "response head cut short",
            ));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse().ok();
            }
        }
    }
    let body: Box<dyn Read + Send> = if chunked {
        Box::new(Chunked {
            inner: reader,
            left: 0,
            done: false,
        })
    } else if let Some(n) = length {
        Box::new(reader.take(n))
    } else {
        Box::new(reader)
    };
    Ok((status, body))
}

/// A chunked HTTP body.
struct Chunked<R> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            (&mut self.inner).take(1024).read_line(&mut line)?;
            let size = line.trim_end().split(';').next().unwrap_or("");
            self.left = u64::from_str_radix(size.trim(), 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad chunk size {line:?}"),
                )
            })?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(n)
    }
}

/// Reads a short answer (an error message) whole.
fn answer(body: &mut dyn Read) -> String {
    let mut v = Vec::new();
    let _ = body.take(MAX_ANSWER).read_to_end(&mut v);
    String::from_utf8_lossy(&v).trim().to_owned()
}

/// Opens the image a `docker-daemon:` name names.
pub(crate) fn open(name: &ImageName, image: &DaemonImage, options: &CopyOptions) -> Result<Source> {
    let socket = socket(options)?;
    let wanted = match image {
        DaemonImage::Named(r) => r.familiar(),
        DaemonImage::Id(d) => d.to_string(),
    };
    let (status, mut body) = request(
        &socket,
        "GET",
        &format!("/images/get?names={}", encode(&wanted)),
        None,
    )?;
    if status != 200 {
        return Err(daemon_error(&socket, Some(status), answer(body.as_mut())));
    }
    let reader = Reader::from_stream(body).map_err(|source| Error::Archive {
        path: name.to_string().into(),
        source: Box::new(source),
    })?;
    let source =
        ArchiveSource::new(Arc::new(reader), None, None).map_err(|source| Error::Archive {
            path: name.to_string().into(),
            source: Box::new(source),
        })?;
    let tags = source.manifest_item().repo_tags.clone();
    Ok(Source {
        content: Content::Image(Arc::new(source)),
        tags,
    })
}

/// Loads `image` into the daemon, tagged as `image` names it.
pub(crate) fn write(
    name: &ImageName,
    target: &DaemonImage,
    image: &dyn Image,
    storage: LayerStorage,
    options: &CopyOptions,
) -> Result<()> {
    let DaemonImage::Named(tag) = target else {
        return Err(Error::Unsupported {
            transport: "docker-daemon: (by image ID)",
            write: true,
        });
    };
    let socket = socket(options)?;
    let (_dir, file) = crate::archive::write_temporary(image, std::slice::from_ref(tag), storage)?;
    let io_at = |source| Error::Io {
        op: "loading into",
        path: name.to_string().into(),
        source,
    };
    let len = std::fs::metadata(&file).map_err(io_at)?.len();
    let mut f = std::fs::File::open(&file).map_err(io_at)?;
    let (status, mut body) = request(&socket, "POST", "/images/load?quiet=1", Some((&mut f, len)))?;
    let text = answer(body.as_mut());
    if status != 200 || text.contains("\"error") {
        return Err(daemon_error(&socket, Some(status), text));
    }
    Ok(())
}
