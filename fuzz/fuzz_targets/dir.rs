//! Any bytes as the files of a `dir:` image (containers/image's directory transport): the
//! bytes are a tar whose regular entries with plain names (no `/`) become the directory's
//! files, at most 64 of at most 1 MiB in all. The directory is opened by
//! `oci_copy::open_images` as `ocikit copy dir:...` opens it, and each image validated in
//! full (every blob read and checked). Nothing may panic; errors are fine.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use oci_copy::{CopyOptions, ImageName};
use oci_partial::{validate_image, ValidateOptions};

const MAX_TOTAL: u64 = 1 << 20;

fuzz_target!(|bytes: &[u8]| {
    let Ok(tmp) = tempfile::tempdir() else {
        return;
    };
    let dir = tmp.path().join("img");
    std::fs::create_dir(&dir).expect("create the directory");
    let mut archive = tar::Archive::new(bytes);
    let Ok(entries) = archive.entries() else {
        return;
    };
    let mut total = 0u64;
    for entry in entries.take(64) {
        let Ok(mut entry) = entry else {
            break;
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let Ok(path) = entry.path() else {
            continue;
        };
        let file = path.to_string_lossy().into_owned();
        if file.is_empty() || file.contains('/') || file == "." || file == ".." {
            continue;
        }
        let mut data = Vec::new();
        let room = MAX_TOTAL.saturating_sub(total);
        if (&mut entry).take(room).read_to_end(&mut data).is_err() {
            break;
        }
        total += data.len() as u64;
        std::fs::write(dir.join(&file), &data).expect("write a file");
    }
    let Ok(name) = format!("dir:{}", dir.display()).parse::<ImageName>() else {
        return;
    };
    let Ok(images) = oci_copy::open_images(&name, &CopyOptions::default()) else {
        return;
    };
    for named in images.iter().take(8) {
        let _ = validate_image(named.image.as_ref(), ValidateOptions::default());
    }
});
