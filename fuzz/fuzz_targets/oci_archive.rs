//! Any bytes as an `oci-archive:` file (a tar of an OCI image layout), opened by
//! `oci_copy::open_images` as `ocikit copy` opens one, then each image validated in full:
//! manifest, config and every layer read to its end and checked against its digest and
//! diff_id. Nothing may panic or allocate without bound; errors are fine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_copy::{CopyOptions, ImageName};
use oci_partial::{validate_image, ValidateOptions};

fuzz_target!(|bytes: &[u8]| {
    let Ok(tmp) = tempfile::tempdir() else {
        return;
    };
    let path = tmp.path().join("a.tar");
    std::fs::write(&path, bytes).expect("write the archive");
    let Ok(name) = format!("oci-archive:{}", path.display()).parse::<ImageName>() else {
        return;
    };
    let Ok(images) = oci_copy::open_images(&name, &CopyOptions::default()) else {
        return;
    };
    for named in images.iter().take(8) {
        let _ = validate_image(named.image.as_ref(), ValidateOptions::default());
    }
});
