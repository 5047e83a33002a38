//! Any bytes as a whole docker archive through `oci_tarfile::Reader` and `Source`: open it,
//! choose each image, build its manifest, and stream every blob (config, layers by digest
//! and by diff_id) to its end. Nothing may panic or allocate without bound; errors are fine.
#![no_main]

use std::io;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use oci_partial::Image;
use oci_tarfile::{Reader, Source};

fuzz_target!(|bytes: &[u8]| {
    let Ok(reader) = Reader::from_bytes(bytes.to_vec()) else {
        return;
    };
    let reader = Arc::new(reader);
    // Choosing by tag parses every RepoTags entry.
    for item in reader.manifest().iter().take(8) {
        for tag in item.repo_tags.iter().take(4) {
            if let Ok(r) = tag.parse() {
                let _ = reader.choose_manifest_item(Some(&r), None);
            }
        }
    }
    let _ = reader.choose_manifest_item(None, None);
    for i in 0..reader.manifest().len().min(8) {
        let Ok(source) = Source::new(Arc::clone(&reader), None, Some(i)) else {
            continue;
        };
        let Ok(manifest) = source.manifest() else {
            continue;
        };
        let mut digests = vec![manifest.config.digest.clone()];
        digests.extend(manifest.layers.iter().map(|l| l.digest.clone()));
        digests.extend(source.config().rootfs.diff_ids.iter().cloned());
        for d in digests {
            if let Ok(mut blob) = source.blob(&d) {
                let _ = io::copy(&mut blob, &mut io::sink());
            }
        }
    }
});
