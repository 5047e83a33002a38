//! `ocikit store`: the content store by hand, like `ctr content`.

use crate::outln;
use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};
use oci_content::{read_blob, Info, IngestManager, Labels, LocalStore, Manager};
use oci_types::limits::MAX_MANIFEST_SIZE;
use oci_types::{Descriptor, Digest, Index, Manifest, MediaType};

use crate::cli::StoreAction;
use crate::usage;

/// containerd's label that makes a blob a garbage-collection root.
const LABEL_GC_ROOT: &str = "containerd.io/gc.root";
/// containerd's label prefix for a blob's references to other blobs.
const LABEL_GC_REF_CONTENT: &str = "containerd.io/gc.ref.content";

pub(crate) fn run(dir: &Path, action: StoreAction) -> Result<ExitCode> {
    if !dir.is_dir() {
        bail!("content store {} does not exist", dir.display());
    }
    let store = LocalStore::open(dir)
        .with_context(|| format!("opening content store {}", dir.display()))?;
    match action {
        StoreAction::Ls { filters } => {
            let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
            outln!("{:<72} {:>12}  {:<8} LABELS", "DIGEST", "SIZE", "AGE");
            store.walk(&filters, &mut |info: Info| {
                outln!(
                    "{:<72} {:>12}  {:<8} {}",
                    info.digest,
                    info.size,
                    age(info.created_at),
                    labels_text(&info.labels)
                );
                Ok(())
            })?;
        }
        StoreAction::Info { digest } => {
            let info = store.info(&digest_arg(&digest)?)?;
            let json = serde_json::json!({
                "digest": info.digest.to_string(),
                "size": info.size,
                "createdAt": rfc3339(info.created_at),
                "updatedAt": rfc3339(info.updated_at),
                "labels": info.labels,
            });
            outln!("{}", serde_json::to_string_pretty(&json)?);
        }
        StoreAction::Rm { digests } => {
            for d in digests {
                let d = digest_arg(&d)?;
                store.delete(&d).with_context(|| format!("deleting {d}"))?;
                outln!("{d}");
            }
        }
        StoreAction::Labels { digest, labels } => {
            let d = digest_arg(&digest)?;
            if labels.is_empty() {
                let info = store.info(&d)?;
                for (k, v) in &info.labels {
                    outln!("{k}={v}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let mut set = Labels::new();
            let mut paths = Vec::new();
            for kv in &labels {
                let Some((k, v)) = kv.split_once('=') else {
                    usage!("label {kv:?} is not KEY=VALUE")
                };
                if !v.is_empty() {
                    set.insert(k.to_owned(), v.to_owned());
                }
                paths.push(format!("labels.{k}"));
            }
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            let info = store.update(&Info::for_update(d, set), &paths)?;
            for (k, v) in &info.labels {
                outln!("{k}={v}");
            }
        }
        StoreAction::Ingests { filters } => {
            let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
            outln!(
                "{:<40} {:>12} {:>12}  {:<8} EXPECTED",
                "REF",
                "OFFSET",
                "TOTAL",
                "UPDATED"
            );
            for s in store.list_statuses(&filters)? {
                let total = s.total.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
                let expected = s
                    .expected
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into());
                outln!(
                    "{:<40} {:>12} {:>12}  {:<8} {expected}",
                    s.reference,
                    s.offset,
                    total,
                    age(s.updated_at)
                );
            }
        }
        StoreAction::Abort { reference } => {
            store
                .abort(&reference)
                .with_context(|| format!("aborting ingest {reference:?}"))?;
        }
        StoreAction::Gc { dry_run } => gc(&store, dir, dry_run)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn digest_arg(s: &str) -> Result<Digest> {
    match s.parse() {
        Ok(d) => Ok(d),
        Err(e) => usage!("{e}"),
    }
}

/// Deletes every blob not reachable from the roots: blobs labelled `containerd.io/gc.root`
/// and, when the store is also an OCI layout, the descriptors of its `index.json`. Edges are
/// `containerd.io/gc.ref.content.*` labels and the descriptors inside manifests and indexes.
fn gc(store: &LocalStore, dir: &Path, dry_run: bool) -> Result<()> {
    let mut all = Vec::new();
    store.walk(&[], &mut |info: Info| {
        all.push(info);
        Ok(())
    })?;
    let mut queue: VecDeque<Descriptor> = VecDeque::new();
    for info in &all {
        if info.labels.contains_key(LABEL_GC_ROOT) {
            queue.push_back(Descriptor::new(
                MediaType::Other(String::new()),
                info.digest.clone(),
                info.size,
            ));
        }
    }
    let index_path = dir.join("index.json");
    if index_path.is_file() {
        let bytes = std::fs::read(&index_path)
            .with_context(|| format!("reading {}", index_path.display()))?;
        let index = Index::from_slice(&bytes)
            .with_context(|| format!("parsing {}", index_path.display()))?;
        queue.extend(index.manifests);
    }
    let mut reached: BTreeSet<Digest> = BTreeSet::new();
    while let Some(desc) = queue.pop_front() {
        if !reached.insert(desc.digest.clone()) {
            continue;
        }
        let Some(info) = all.iter().find(|i| i.digest == desc.digest) else {
            continue;
        };
        for (k, v) in &info.labels {
            if k.starts_with(LABEL_GC_REF_CONTENT) {
                if let Ok(d) = v.parse::<Digest>() {
                    queue.push_back(Descriptor::new(MediaType::Other(String::new()), d, 0));
                }
            }
        }
        // Manifests and indexes point at their children.
        if info.size <= MAX_MANIFEST_SIZE {
            let probe = Descriptor::new(desc.media_type.clone(), info.digest.clone(), info.size);
            let bytes = read_blob(store, &probe, MAX_MANIFEST_SIZE)?;
            if bytes.first() == Some(&b'{') {
                if let Ok(m) = Manifest::from_slice(&bytes) {
                    queue.push_back(m.config);
                    queue.extend(m.layers);
                    queue.extend(m.subject);
                } else if let Ok(i) = Index::from_slice(&bytes) {
                    queue.extend(i.manifests);
                    queue.extend(i.subject);
                }
            }
        }
    }
    let (mut n, mut bytes) = (0u64, 0u64);
    for info in &all {
        if reached.contains(&info.digest) {
            continue;
        }
        if !dry_run {
            store
                .delete(&info.digest)
                .with_context(|| format!("deleting {}", info.digest))?;
        }
        outln!(
            "{} {}",
            if dry_run { "would delete" } else { "deleted" },
            info.digest
        );
        n += 1;
        bytes += info.size;
    }
    eprintln!(
        "{n} blobs ({bytes} bytes) {}",
        if dry_run { "unreachable" } else { "deleted" }
    );
    abort_abandoned_ingests(store, dry_run)
}

/// Aborts the ingests that interrupted writes left behind (a killed `ocikit layer --store`,
/// say). A writer still at work holds its ingest's lock and the store refuses to abort it, so
/// only abandoned ingests go; one that its writer commits meanwhile is simply gone.
fn abort_abandoned_ingests(store: &LocalStore, dry_run: bool) -> Result<()> {
    let mut aborted = 0usize;
    for status in store.list_statuses(&[])? {
        if dry_run {
            outln!(
                "would abort ingest {} (unless a writer holds it)",
                status.reference
            );
            continue;
        }
        match store.abort(&status.reference) {
            Ok(()) => {
                outln!("aborted ingest {}", status.reference);
                aborted += 1;
            }
            Err(e) if e.is_unavailable() || e.is_not_found() => {}
            Err(e) => {
                return Err(e).with_context(|| format!("aborting ingest {}", status.reference))
            }
        }
    }
    if !dry_run {
        eprintln!("{aborted} abandoned ingests aborted");
        // What a write or removal killed half-way leaves has no status to list.
        for name in store.remove_damaged_ingests()? {
            outln!("removed damaged ingest directory ingest/{name}");
        }
    }
    Ok(())
}

fn labels_text(labels: &Labels) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn age(t: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(t)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86400, secs % 86400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
