//! Embedded descriptor `data` (OCI 1.1): used only when it matches size and digest.

use oci_types::{base64, Descriptor, Digest, Error, MediaType};

fn desc_with(data: &str, content: &[u8]) -> Descriptor {
    let mut d = Descriptor::of_bytes(MediaType::Other("text/plain".into()), content);
    d.data = Some(data.to_string());
    d
}

#[test]
fn matching_data_is_returned() {
    for content in [
        &b""[..],
        b"{}",
        b"a",
        b"hello world",
        &[0u8, 255, 128, 7][..],
    ] {
        let d = Descriptor::of_bytes(MediaType::OciEmpty, content).with_data(content);
        assert_eq!(d.embedded_data().unwrap().as_deref(), Some(content));
        // And it survives JSON.
        let back: Descriptor = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back.embedded_data().unwrap().as_deref(), Some(content));
    }
    let big = vec![42u8; 10_000];
    let d = Descriptor::of_bytes(MediaType::OciLayer, &big).with_data(&big);
    assert_eq!(d.embedded_data().unwrap(), Some(big));
}

#[test]
fn absent_data_is_none() {
    let d = Descriptor::of_bytes(MediaType::OciEmpty, b"{}");
    assert_eq!(d.embedded_data().unwrap(), None);
}

#[test]
fn mismatched_data_is_none() {
    // Right digest, wrong size in the descriptor.
    let mut d = Descriptor::of_bytes(MediaType::OciEmpty, b"{}").with_data(b"{}");
    d.size = 3;
    assert_eq!(d.embedded_data().unwrap(), None);
    d.size = 1;
    assert_eq!(d.embedded_data().unwrap(), None);
    // Data of the right length but other bytes: the digest does not match.
    let d = desc_with(&base64::encode(b"[]"), b"{}");
    assert_eq!(d.embedded_data().unwrap(), None);
    // Longer or shorter data than the descriptor's size.
    assert_eq!(
        desc_with(&base64::encode(b"{} "), b"{}")
            .embedded_data()
            .unwrap(),
        None
    );
    assert_eq!(
        desc_with(&base64::encode(b"{"), b"{}")
            .embedded_data()
            .unwrap(),
        None
    );
    assert_eq!(desc_with("", b"{}").embedded_data().unwrap(), None);
    // Much longer data than the size is refused without decoding.
    let huge = base64::encode(&vec![b'x'; 100_000]);
    assert_eq!(desc_with(&huge, b"{}").embedded_data().unwrap(), None);
}

#[test]
fn bad_base64_is_an_error() {
    for bad in ["e30", "e3=0", "e30!", "e3 0", "*30="] {
        let d = desc_with(bad, b"{}");
        match d.embedded_data() {
            Err(Error::InvalidBase64 { digest }) => assert_eq!(digest, Digest::sha256(b"{}")),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
}
