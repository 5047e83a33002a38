//! Compresses standard input as a stream layer, writes the blob to standard output (or
//! `--out PATH`) and prints its digest, diff_id and sizes as JSON on standard error.
//!
//! ```text
//! cargo run --release -p oci-stream --example stream_layer -- [--zstd|--none] [--level N]
//!     [--threads N] [--block-size BYTES] [--out PATH] < layer.tar > layer.tar.gz
//! ```
//!
//! It is what the benchmarks in docs/ARCHITECTURE.md ran.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};
use oci_types::Compression;

fn parse_args() -> Result<(Options, Option<String>), String> {
    let mut opts = Options::new();
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--zstd" => opts = opts.compression(Compression::Zstd),
            "--none" => opts = opts.compression(Compression::None),
            "--level" => opts = opts.level(number(&value("--level")?)?),
            "--threads" => opts = opts.threads(number(&value("--threads")?)?),
            "--block-size" => opts = opts.block_size(number(&value("--block-size")?)?),
            "--out" => out = Some(value("--out")?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok((opts, out))
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("not a number: {s}"))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (opts, out) = parse_args()?;
    let layer = StreamLayer::with_options(io::stdin(), opts)?;
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(std::fs::File::create(path)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut reader = layer.compressed()?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sink.write_all(&buf[..n])?;
    }
    sink.flush()?;
    eprintln!(
        "{{\"digest\":\"{}\",\"diff_id\":\"{}\",\"size\":{},\"uncompressed_size\":{},\"media_type\":\"{}\"}}",
        layer.digest()?,
        layer.diff_id()?,
        layer.size()?,
        layer.uncompressed_size()?,
        layer.media_type()?,
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stream_layer: {e}");
            ExitCode::FAILURE
        }
    }
}
