//! Progress bars on stderr, shown only when stderr is a terminal and not `--quiet`.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Read};
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use oci_remote::WriteOptions;

/// Makes progress bars, or hidden ones.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Progress {
    visible: bool,
}

impl Progress {
    /// Bars are visible when stderr is a terminal and `quiet` is false.
    pub(crate) fn new(quiet: bool) -> Progress {
        Progress {
            visible: !quiet && io::stderr().is_terminal(),
        }
    }

    /// Never any bar.
    pub(crate) fn hidden() -> Progress {
        Progress { visible: false }
    }

    /// A bar for `label`, counting bytes; `total` when known.
    pub(crate) fn bytes(&self, label: &str, total: Option<u64>) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let bar = styled(label, total);
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar
    }

    /// A reporter for `oci_copy`: one bar per blob moving (bytes of its size, or a spinner
    /// when the size is known only at its end), and a line per blob when it is done.
    pub(crate) fn reporter(&self) -> Arc<dyn oci_copy::Progress> {
        if !self.visible {
            return Arc::new(oci_copy::NoProgress);
        }
        Arc::new(Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        })
    }

    /// Write options whose progress events (of an upload to a registry) drive one bar per
    /// blob: bytes sent of the blob's size, or a spinner for a streaming layer, whose size is
    /// only known at its end.
    pub(crate) fn upload_options(&self) -> WriteOptions {
        if !self.visible {
            return WriteOptions::new();
        }
        let uploads = Arc::new(Uploads {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        });
        WriteOptions::new().on_progress(move |event| uploads.event(event))
    }
}

/// The bars of the blobs moving, by their ids.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<u64, ProgressBar>>,
}

impl oci_copy::Progress for Bars {
    fn started(&self, id: u64, what: &str, total: Option<u64>) {
        let bar = self.multi.add(styled(what, total));
        bar.tick();
        self.bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, bar);
    }
    fn advanced(&self, id: u64, bytes: u64) {
        if let Some(bar) = self
            .bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            bar.inc(bytes);
        }
    }
    fn finished(&self, id: u64) {
        let bar = self
            .bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }
    fn blob(&self, report: &oci_copy::BlobReport) {
        let _ = self.multi.println(format!(
            "{:<24} {} ({})",
            short(&report.digest),
            report.outcome,
            indicatif::HumanBytes(report.size)
        ));
    }
}

/// A bar (or spinner, without `total`) styled for bytes.
fn styled(label: &str, total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        "{msg:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}"
    } else {
        "{msg:24} {spinner} {bytes} {bytes_per_sec}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_owned());
    bar
}

/// The bars of the blobs being uploaded, by the id of their events.
struct Uploads {
    multi: MultiProgress,
    bars: Mutex<HashMap<usize, ProgressBar>>,
}

impl Uploads {
    fn event(&self, event: &oci_remote::Progress) {
        let mut bars = self.bars.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            oci_remote::Progress::Started { id, digest, size } => {
                let label = match digest {
                    Some(d) => short(d),
                    None => "layer (streaming)".to_owned(),
                };
                let bar = self.multi.add(styled(&label, *size));
                bar.tick();
                bars.insert(*id, bar);
            }
            oci_remote::Progress::Sent { id, bytes } => {
                if let Some(bar) = bars.get(id) {
                    bar.inc(*bytes);
                }
            }
            oci_remote::Progress::Finished {
                id,
                digest,
                size,
                skipped,
            } => {
                let what = if *skipped { "exists" } else { "pushed" };
                if let Some(bar) = bars.remove(id) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let _ = self.multi.println(format!(
                    "{:<24} {what} ({})",
                    short(digest),
                    indicatif::HumanBytes(*size)
                ));
            }
            _ => {}
        }
    }
}

/// `sha256:0123456789ab`: a digest short enough for a bar's label.
fn short(digest: &oci_types::Digest) -> String {
    let s = digest.to_string();
    s.chars().take(19).collect()
}

/// A reader that advances a progress bar by the bytes it reads.
pub(crate) struct ProgressReader<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R> ProgressReader<R> {
    pub(crate) fn new(inner: R, bar: ProgressBar) -> Self {
        ProgressReader { inner, bar }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}
