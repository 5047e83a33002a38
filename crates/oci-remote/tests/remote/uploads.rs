//! Uploads: a streamed layer in one pass, mounts, and connections cut or refused midway.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use oci_partial::{random, Layer};
use oci_remote::{Client, Error, Mount, Progress, WriteOptions};
use oci_stream::StreamLayer;
use oci_types::{Digest, Reference};

use crate::support::{Fault, Proxy, Registry};

/// `len` bytes that compress a little (so a gzip stream is about as long as its input).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if i % 4 == 0 {
                0
            } else {
                (state >> 33) as u8
            }
        })
        .collect()
}

fn fast_retries() -> oci_remote::ClientBuilder {
    Client::builder().retries(3, Duration::from_millis(10))
}

/// Reads a blob back and returns its digest and size.
fn fetch(client: &Client, reference: &Reference, digest: &Digest) -> (Digest, u64) {
    let mut bytes = Vec::new();
    client
        .repository(reference)
        .blob(digest, None)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    (Digest::sha256(&bytes), bytes.len() as u64)
}

#[test]
fn a_streamed_64_mib_layer_is_uploaded_in_chunks_in_one_pass() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::builder().chunk_size(4 << 20).build();
    let reference: Reference = format!("{}/stream/layer", registry.host()).parse().unwrap();
    let tar = noise(1, 64 << 20);
    let diff_id = Digest::sha256(&tar);
    let layer = StreamLayer::new(std::io::Cursor::new(tar));
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let options = WriteOptions::new().on_progress(move |p| {
        if let Progress::Sent { bytes, .. } = p {
            counter.fetch_add(*bytes, Ordering::Relaxed);
        }
    });
    let desc = oci_remote::write_layer(&client, &reference, &layer, &options).unwrap();
    // The stream computed its values while uploading; they name the uploaded blob.
    assert_eq!(layer.digest().unwrap(), desc.digest);
    assert_eq!(layer.diff_id().unwrap(), diff_id);
    assert_eq!(layer.size().unwrap(), desc.size);
    assert_eq!(sent.load(Ordering::Relaxed), desc.size);
    assert!(
        desc.size > 2 * oci_remote::DEFAULT_CHUNK_SIZE as u64,
        "several chunks: {}",
        desc.size
    );
    assert!(registry.blob_exists_on_disk(&desc.digest));
    assert_eq!(
        fetch(&client, &reference, &desc.digest),
        (desc.digest.clone(), desc.size)
    );
    assert_eq!(registry.uploads_in_progress("stream/layer"), 0);
}

#[test]
fn blobs_are_mounted_from_another_repository() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let from: Reference = format!("{}/mount/from", registry.host()).parse().unwrap();
    let to: Reference = format!("{}/mount/to:v1", registry.host()).parse().unwrap();
    let image = random::image(10, 2, 200_000);
    oci_remote::write_image(&client, &from, image.as_ref(), &WriteOptions::new()).unwrap();

    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let options = WriteOptions::new()
        .mount_from("mount/from")
        .on_progress(move |p| {
            if let Progress::Sent { bytes, .. } = p {
                counter.fetch_add(*bytes, Ordering::Relaxed);
            }
        });
    oci_remote::write_image(&client, &to, image.as_ref(), &options).unwrap();
    assert_eq!(sent.load(Ordering::Relaxed), 0, "every layer was mounted");
    let pulled = oci_remote::image(&client, &to, None).unwrap();
    assert_eq!(pulled.digest().unwrap(), image.digest().unwrap());

    // A blob the source does not have: the registry opens an upload instead.
    let repo = client.repository(&to);
    match repo
        .mount_blob(&Digest::sha256(b"absent"), "mount/from")
        .unwrap()
    {
        Mount::Started(session) => session.cancel().unwrap(),
        other => panic!("mounted a blob that does not exist: {other:?}"),
    }
}

#[test]
fn a_streamed_upload_cut_off_midway_fails_cleanly_and_can_be_retried() {
    let Some(registry) = Registry::start() else {
        return;
    };
    // Cut the first connection that carries more than 3 MiB upstream: in the middle of the
    // first 4 MiB chunk. Distribution 2.8 keeps the part that arrived and then refuses the
    // session (its state token names the old offset), so the upload cannot be resumed.
    let proxy = Proxy::start(
        registry.addr(),
        Fault::CutUpstreamAfter {
            bytes: 3 << 20,
            times: 1,
        },
    );
    let client = fast_retries().chunk_size(4 << 20).build();
    let reference: Reference = format!("{}/cut/stream", proxy.host()).parse().unwrap();
    let data = noise(2, 10 << 20);
    let expected = Digest::sha256(&data);
    let err = client
        .repository(&reference)
        .upload_stream(&mut std::io::Cursor::new(data.clone()))
        .unwrap_err();
    // The broken connection, or the registry's refusal of the session right after it.
    assert!(
        matches!(err, Error::Transport { .. } | Error::Status { .. }),
        "{err}"
    );
    assert_eq!(proxy.faults_injected(), 1);
    // The registry is consistent: no blob of it. (The dead session's partial data stays in
    // `_uploads` until the registry's own upload purging removes it.)
    assert!(!registry.blob_exists_on_disk(&expected));
    // The same stream again goes through.
    let (digest, size) = client
        .repository(&reference)
        .upload_stream(&mut std::io::Cursor::new(data))
        .unwrap();
    assert_eq!((digest.clone(), size), (expected, 10 << 20));
    assert!(registry.blob_exists_on_disk(&digest));
    assert_eq!(fetch(&client, &reference, &digest), (digest, size));
}

#[test]
fn a_monolithic_upload_cut_off_is_retried_with_a_fresh_stream() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let proxy = Proxy::start(
        registry.addr(),
        Fault::CutUpstreamAfter {
            bytes: 1 << 20,
            times: 2,
        },
    );
    let client = fast_retries().build();
    let reference: Reference = format!("{}/cut/mono", proxy.host()).parse().unwrap();
    let layer = random::layer(11, 3 << 20);
    let desc =
        oci_remote::write_layer(&client, &reference, layer.as_ref(), &WriteOptions::new()).unwrap();
    assert_eq!(proxy.faults_injected(), 2);
    assert_eq!(desc.digest, layer.digest().unwrap());
    assert!(registry.blob_exists_on_disk(&desc.digest));
}

#[test]
fn without_retries_a_cut_upload_fails_leaves_no_blob_and_can_be_retried() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let proxy = Proxy::start(
        registry.addr(),
        Fault::CutUpstreamAfter {
            bytes: 1 << 20,
            times: 1,
        },
    );
    let reference: Reference = format!("{}/cut/once:v1", proxy.host()).parse().unwrap();
    let image = random::image(12, 1, 3 << 20);
    let layer_digest = image.layers().unwrap()[0].digest().unwrap();
    let no_retries = Client::builder().retries(0, Duration::ZERO).build();
    let err = oci_remote::write_image(
        &no_retries,
        &reference,
        image.as_ref(),
        &WriteOptions::new(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    // Nothing half-written became a blob, and no manifest points at a missing one.
    assert!(!registry.blob_exists_on_disk(&layer_digest));
    let direct: Reference = format!("{}/cut/once:v1", registry.host()).parse().unwrap();
    let client = Client::default();
    assert!(matches!(
        oci_remote::get(&client, &direct),
        Err(Error::NotFound { .. })
    ));
    // The same write again succeeds.
    oci_remote::write_image(
        &no_retries,
        &reference,
        image.as_ref(),
        &WriteOptions::new(),
    )
    .unwrap();
    assert!(registry.blob_exists_on_disk(&layer_digest));
    let pulled = oci_remote::image(&client, &direct, None).unwrap();
    assert_eq!(pulled.digest().unwrap(), image.digest().unwrap());
}

#[test]
fn a_download_cut_off_midway_is_resumed_with_a_range_request() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let direct: Reference = format!("{}/cut/down", registry.host()).parse().unwrap();
    let layer = random::layer(13, 4 << 20);
    let desc =
        oci_remote::write_layer(&client, &direct, layer.as_ref(), &WriteOptions::new()).unwrap();
    let proxy = Proxy::start(
        registry.addr(),
        Fault::CutDownstreamAfter {
            bytes: 1 << 20,
            times: 1,
        },
    );
    let through: Reference = format!("{}/cut/down", proxy.host()).parse().unwrap();
    let client = fast_retries().build();
    assert_eq!(
        fetch(&client, &through, &desc.digest),
        (desc.digest.clone(), desc.size)
    );
    assert_eq!(proxy.faults_injected(), 1);
}

#[test]
fn service_unavailable_is_retried_with_backoff() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let proxy = Proxy::start(registry.addr(), Fault::Status503 { times: 2 });
    let client = fast_retries().build();
    let reference: Reference = format!("{}/flaky:v1", proxy.host()).parse().unwrap();
    let image = random::image(14, 1, 10_000);
    oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new()).unwrap();
    assert_eq!(proxy.faults_injected(), 2);
    let exhausted = Proxy::start(registry.addr(), Fault::Status503 { times: 100 });
    let client = Client::builder()
        .retries(1, Duration::from_millis(1))
        .build();
    let reference: Reference = format!("{}/flaky:v1", exhausted.host()).parse().unwrap();
    let err = oci_remote::get(&client, &reference).unwrap_err();
    assert!(err.to_string().contains("503"), "{err}");
}
