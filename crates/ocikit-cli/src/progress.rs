//! Progress bars on stderr, shown only when stderr is a terminal and not `--quiet`.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use oci_partial::{BlobReader, Image, Layer, MappedImage};
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
        screen().add(styled(label, total))
    }

    /// `image` wrapped so that reading its layers advances a bar (of the layers' size, as
    /// the manifest gives it), and that bar; hidden when bars are.
    pub(crate) fn watch_image(
        &self,
        label: &str,
        image: &Arc<dyn Image>,
    ) -> (Arc<dyn Image>, ProgressBar) {
        if !self.visible {
            return (Arc::clone(image), ProgressBar::hidden());
        }
        let total = image
            .manifest()
            .map(|m| m.layers.iter().map(|l| l.size).sum::<u64>())
            .ok();
        let bar = self.bytes(label, total);
        // The layers advance the bar as they are read (for `verify`): the compressed streams
        // against the manifest's sizes, then (validation reads each layer's own tar once
        // more) the tars' bytes, whose total nothing gives without reading them.
        let (watch_bar, label) = (bar.clone(), label.to_owned());
        // Whether a tar has been asked for: the bar then counts the tars.
        let second_pass = Arc::new(AtomicBool::new(false));
        let watched = MappedImage::new(Arc::clone(image)).map_layers(move |layer| {
            Ok(Arc::new(WatchedLayer {
                inner: layer,
                bar: watch_bar.clone(),
                label: label.clone(),
                second_pass: Arc::clone(&second_pass),
            }))
        });
        (Arc::new(watched), bar)
    }

    /// A reporter for `oci_copy`: one bar per blob moving (bytes of its size, or a spinner
    /// when the size is known only at its end), and a line per blob when it is done.
    pub(crate) fn reporter(&self) -> Arc<dyn oci_copy::Progress> {
        if !self.visible {
            return Arc::new(oci_copy::NoProgress);
        }
        Arc::new(Bars {
            multi: screen().clone(),
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
            multi: screen().clone(),
            bars: Mutex::new(HashMap::new()),
        });
        WriteOptions::new().on_progress(move |event| uploads.event(event))
    }
}

/// The lines every bar of the process is drawn in: bars on two targets would overwrite
/// each other's lines and leave some behind.
fn screen() -> &'static MultiProgress {
    static SCREEN: OnceLock<MultiProgress> = OnceLock::new();
    SCREEN.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
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

impl Drop for Bars {
    /// Bars of blobs that never finished (the copy failed) are cleared too.
    fn drop(&mut self) {
        clear_all(&self.multi, &self.bars);
    }
}

/// Clears every bar of `bars` and the lines of `multi`: nothing stays on the screen.
fn clear_all<K>(multi: &MultiProgress, bars: &Mutex<HashMap<K, ProgressBar>>) {
    let mut bars = bars.lock().unwrap_or_else(PoisonError::into_inner);
    for (_, bar) in bars.drain() {
        bar.finish_and_clear();
        multi.remove(&bar);
    }
    let _ = multi.clear();
}

/// A bar (or spinner, without `total`) styled for bytes: one line that fits the terminal
/// (the label takes what the numbers leave, cut when it must be).
fn styled(label: &str, total: Option<u64>) -> ProgressBar {
    // Hidden until its owner gives it a target: a bar drawn before (by set_message, to
    // stderr) would leave that line behind, unknown to the target that later clears it.
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
    if let Some(style) = style(total.is_some()) {
        bar.set_style(style);
    }
    bar.set_message(label.to_owned());
    bar
}

/// The style of a bar of a known total, or of a spinner counting bytes.
fn style(known_total: bool) -> Option<ProgressStyle> {
    let template = if known_total {
        "{wide_msg} [{bar:16}] {bytes:>10}/{total_bytes:<10} {eta:>3}"
    } else {
        "{wide_msg} {spinner} {bytes:>10} {bytes_per_sec:>12}"
    };
    ProgressStyle::with_template(template)
        .ok()
        .map(|s| s.progress_chars("=> "))
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

impl Drop for Uploads {
    /// Bars of uploads that never finished (the push failed) are cleared too.
    fn drop(&mut self) {
        clear_all(&self.multi, &self.bars);
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

impl<R> Drop for ProgressReader<R> {
    /// The bar goes with its reader, whether it was read to the end or not.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

/// A layer whose streams advance its image's bar.
struct WatchedLayer {
    inner: Arc<dyn Layer>,
    bar: ProgressBar,
    label: String,
    second_pass: Arc<AtomicBool>,
}

impl Layer for WatchedLayer {
    fn digest(&self) -> oci_partial::Result<oci_types::Digest> {
        self.inner.digest()
    }
    fn diff_id(&self) -> oci_partial::Result<oci_types::Digest> {
        self.inner.diff_id()
    }
    fn compressed(&self) -> oci_partial::Result<BlobReader> {
        let reader = self.inner.compressed()?;
        Ok(Box::new(Counting {
            inner: reader,
            bar: self.bar.clone(),
        }))
    }
    fn uncompressed(&self) -> oci_partial::Result<BlobReader> {
        let reader = self.inner.uncompressed()?;
        if !self.second_pass.swap(true, Ordering::Relaxed) {
            // The same bar, now a count of the tars' bytes.
            if let Some(style) = style(false) {
                self.bar.set_style(style);
            }
            self.bar.unset_length();
            self.bar.set_position(0);
            self.bar.set_message(format!("{} (tars)", self.label));
        }
        Ok(Box::new(Counting {
            inner: reader,
            bar: self.bar.clone(),
        }))
    }
    fn size(&self) -> oci_partial::Result<u64> {
        self.inner.size()
    }
    fn media_type(&self) -> oci_partial::Result<oci_types::MediaType> {
        self.inner.media_type()
    }
    fn exists(&self) -> oci_partial::Result<bool> {
        self.inner.exists()
    }
}

/// A reader that advances a bar it does not own (several readers share one bar).
struct Counting<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}
