//! Bad documents get the right typed error, never a panic.

use oci_types::limits::{MAX_CONFIG_SIZE, MAX_JSON_DEPTH, MAX_MANIFEST_SIZE};
use oci_types::{ConfigFile, Digest, Error, Index, InvalidKind, Manifest, Raw};
use serde_json::{json, Value};

use crate::data;

fn manifest_value() -> Value {
    serde_json::from_slice(&data("oci-image-manifest.json")).unwrap()
}

fn parse_manifest(v: &Value) -> Result<Raw<Manifest>, Error> {
    Raw::<Manifest>::parse(serde_json::to_vec(v).unwrap())
}

#[track_caller]
fn assert_json_error(r: Result<impl std::fmt::Debug, Error>, needle: &str) {
    match r {
        Err(Error::Json { what, message, .. }) => {
            assert!(
                message.contains(needle),
                "{what}: {message:?} lacks {needle:?}"
            )
        }
        other => panic!("expected Error::Json containing {needle:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid(r: Result<impl std::fmt::Debug, Error>, what_expected: &str, want: InvalidKind) {
    match r {
        Err(Error::Invalid { what, kind }) => {
            assert_eq!(what, what_expected);
            assert_eq!(kind, want);
        }
        other => panic!("expected Error::Invalid({want:?}), got {other:?}"),
    }
}

/// The kind of a document whose `mediaType` is `media_type` where `expected` was wanted.
fn wrong(media_type: &str, expected: &'static str) -> InvalidKind {
    InvalidKind::WrongMediaType {
        media_type: media_type.to_owned(),
        expected,
    }
}

const MANIFEST: &str = "an image manifest";
const INDEX: &str = "an index";

#[test]
fn schema_version_must_be_2() {
    for version in [0, 1, 3] {
        let mut v = manifest_value();
        v["schemaVersion"] = json!(version);
        assert_invalid(
            parse_manifest(&v),
            "manifest",
            InvalidKind::SchemaVersion(version),
        );
        let index = format!(r#"{{"schemaVersion":{version},"manifests":[]}}"#);
        assert_invalid(
            Raw::<Index>::parse(index.into_bytes()),
            "index",
            InvalidKind::SchemaVersion(version),
        );
    }
    let mut v = manifest_value();
    v.as_object_mut().unwrap().remove("schemaVersion");
    assert_json_error(parse_manifest(&v), "schemaVersion");
}

#[test]
fn docker_schema1_is_refused_clearly() {
    // A schema1 manifest has no config or layers; the error must say schema version 1 rather
    // than complain about a missing field.
    let schema1 = br#"{
   "schemaVersion": 1,
   "name": "library/hello-world",
   "tag": "latest",
   "architecture": "amd64",
   "fsLayers": [
      {"blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}
   ],
   "history": [{"v1Compatibility": "{\"id\":\"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5\"}"}],
   "signatures": []
}"#;
    assert_invalid(
        Manifest::from_slice(schema1),
        "manifest",
        InvalidKind::SchemaVersion(1),
    );
    assert_invalid(
        Raw::<Manifest>::parse(schema1.to_vec()),
        "manifest",
        InvalidKind::SchemaVersion(1),
    );
    assert_invalid(
        Index::from_slice(schema1),
        "index",
        InvalidKind::SchemaVersion(1),
    );

    // Signed schema1 announced by media type.
    let mut v = manifest_value();
    v["mediaType"] = json!("application/vnd.docker.distribution.manifest.v1+prettyjws");
    assert_invalid(
        parse_manifest(&v),
        "manifest",
        wrong(
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            MANIFEST,
        ),
    );
}

#[test]
fn wrong_kind_of_document() {
    // An index given where a manifest is expected, with and without the manifest's fields.
    let index = data("oci-image-index.json");
    assert_invalid(
        Manifest::from_slice(&index),
        "manifest",
        wrong("application/vnd.oci.image.index.v1+json", MANIFEST),
    );
    let docker_list = data("docker-manifest-list.json");
    assert_invalid(
        Manifest::from_slice(&docker_list),
        "manifest",
        wrong(
            "application/vnd.docker.distribution.manifest.list.v2+json",
            MANIFEST,
        ),
    );
    let mut v = manifest_value();
    v["mediaType"] = json!("application/vnd.oci.image.index.v1+json");
    assert_invalid(
        parse_manifest(&v),
        "manifest",
        wrong("application/vnd.oci.image.index.v1+json", MANIFEST),
    );
    for mt in [
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar",
    ] {
        v["mediaType"] = json!(mt);
        assert_invalid(parse_manifest(&v), "manifest", wrong(mt, MANIFEST));
    }
    // And a manifest where an index is expected.
    assert_invalid(
        Index::from_slice(&data("oci-image-manifest.json")),
        "index",
        wrong("application/vnd.oci.image.manifest.v1+json", INDEX),
    );
    assert_invalid(
        Index::from_slice(&data("docker-manifest.json")),
        "index",
        wrong(
            "application/vnd.docker.distribution.manifest.v2+json",
            INDEX,
        ),
    );
}

#[test]
fn bad_sizes() {
    for (size, needle) in [
        (json!(-1), "-1"),
        (json!(1.5), "1.5"),
        (json!("7023"), "string"),
        (json!(null), "null"),
        (json!(18446744073709551616.0_f64), "floating point"),
    ] {
        let mut v = manifest_value();
        v["config"]["size"] = size.clone();
        assert_json_error(parse_manifest(&v), needle);
        let mut v = manifest_value();
        v["layers"][1]["size"] = size;
        assert_json_error(parse_manifest(&v), needle);
    }
    // Text beyond u64 is refused, not wrapped.
    let text = String::from_utf8(data("oci-image-manifest.json"))
        .unwrap()
        .replace("7023", "18446744073709551616");
    assert!(matches!(
        Manifest::from_slice(text.as_bytes()),
        Err(Error::Json { .. })
    ));
    let mut v = manifest_value();
    v["layers"][0].as_object_mut().unwrap().remove("size");
    assert_json_error(parse_manifest(&v), "size");
}

#[test]
fn bad_digests_in_descriptors() {
    let good = "b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7";
    for bad in [
        format!("sha256:{}", good.to_uppercase()),
        format!("sha256:{}", &good[1..]),
        format!("sha256:{good}00"),
        good.to_string(),
        format!("SHA256:{good}"),
        format!("sha256:{}z", &good[1..]),
        "sha256:".to_string(),
        String::new(),
    ] {
        for pointer in ["/config/digest", "/layers/2/digest", "/subject/digest"] {
            let mut v = manifest_value();
            *v.pointer_mut(pointer).unwrap() = json!(bad);
            assert_json_error(parse_manifest(&v), "invalid digest");
        }
        let mut v: Value = serde_json::from_slice(&data("oci-image-index.json")).unwrap();
        v["manifests"][0]["digest"] = json!(bad);
        let r = Raw::<Index>::parse(serde_json::to_vec(&v).unwrap());
        assert_json_error(r, "invalid digest");
    }
    let mut v = manifest_value();
    v["config"]["digest"] = json!(42);
    assert_json_error(parse_manifest(&v), "invalid type");
}

#[test]
fn diff_ids_must_be_digests() {
    let mut v: Value = serde_json::from_slice(&data("oci-config.json")).unwrap();
    v["rootfs"]["diff_ids"][1] = json!("sha256:nothex");
    let r = Raw::<ConfigFile>::parse(serde_json::to_vec(&v).unwrap());
    assert_json_error(r, "invalid digest");
}

#[test]
fn malformed_json_reports_position() {
    let mut bytes = data("oci-image-manifest.json");
    bytes.truncate(200);
    match Manifest::from_slice(&bytes) {
        Err(Error::Json {
            what: "manifest",
            line,
            column,
            ..
        }) => assert!(line > 1 && column > 0),
        other => panic!("{other:?}"),
    }
    for junk in [&b""[..], b"null", b"[]", b"\"manifest\"", b"{", b"\xff\xfe"] {
        assert!(
            matches!(Manifest::from_slice(junk), Err(Error::Json { .. })),
            "{junk:?}"
        );
        assert!(
            matches!(Index::from_slice(junk), Err(Error::Json { .. })),
            "{junk:?}"
        );
        assert!(
            matches!(ConfigFile::from_slice(junk), Err(Error::Json { .. })),
            "{junk:?}"
        );
    }
}

/// A valid document padded with whitespace to exactly `len` bytes.
fn padded(doc: &[u8], len: u64) -> Vec<u8> {
    let mut out = doc.to_vec();
    out.resize(usize::try_from(len).unwrap(), b' ');
    out
}

#[test]
fn size_limits() {
    let manifest = data("oci-image-manifest.json");
    let at_limit = padded(&manifest, MAX_MANIFEST_SIZE);
    assert!(
        Raw::<Manifest>::parse(at_limit).is_ok(),
        "exactly the limit is accepted"
    );
    let over = padded(&manifest, MAX_MANIFEST_SIZE + 1);
    match Raw::<Manifest>::parse(over) {
        Err(Error::TooLarge {
            what: "manifest",
            size,
            limit,
        }) => {
            assert_eq!((size, limit), (MAX_MANIFEST_SIZE + 1, MAX_MANIFEST_SIZE));
        }
        other => panic!("{other:?}"),
    }
    let over = padded(&data("oci-image-index.json"), MAX_MANIFEST_SIZE + 1);
    assert!(matches!(
        Index::from_slice(&over),
        Err(Error::TooLarge { what: "index", .. })
    ));

    // Configs have a larger limit.
    let config = data("oci-config.json");
    assert!(ConfigFile::from_slice(&padded(&config, MAX_MANIFEST_SIZE + 1)).is_ok());
    let over = padded(&config, MAX_CONFIG_SIZE + 1);
    assert!(matches!(
        ConfigFile::from_slice(&over),
        Err(Error::TooLarge { what: "config", size, limit: MAX_CONFIG_SIZE }) if size == MAX_CONFIG_SIZE + 1
    ));
}

#[test]
fn depth_limit() {
    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }
    // The document itself is one level, so an unknown field may nest MAX - 1 deep.
    let doc = |depth: usize| {
        format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},"layers":[],"x-deep":{}}}"#,
            Digest::sha256(b"{}"),
            nested(depth)
        )
    };
    let ok = Manifest::from_slice(doc(MAX_JSON_DEPTH - 1).as_bytes()).unwrap();
    assert!(ok.extra.contains_key("x-deep"));
    match Manifest::from_slice(doc(MAX_JSON_DEPTH).as_bytes()) {
        Err(Error::TooDeep {
            what: "manifest",
            limit,
            ..
        }) => assert_eq!(limit, MAX_JSON_DEPTH),
        other => panic!("{other:?}"),
    }
    // Far past the limit: refused before any recursion.
    let deep = doc(1_000_000);
    assert!(matches!(
        Raw::<Manifest>::parse(deep.into_bytes()),
        Err(Error::TooDeep { .. })
    ));
    let deep_config = format!(
        r#"{{"architecture":"amd64","config":{{"Labels":{}}}}}"#,
        "{\"a\":".repeat(100_000)
    );
    assert!(matches!(
        ConfigFile::from_slice(deep_config.as_bytes()),
        Err(Error::TooDeep { what: "config", .. })
    ));
}

#[test]
fn parse_verified_refuses_other_bytes() {
    let bytes = data("oci-image-manifest.json");
    let wrong = Digest::sha256(b"something else");
    match Raw::<Manifest>::parse_verified(bytes.clone(), &wrong) {
        Err(Error::DigestMismatch { expected, actual }) => {
            assert_eq!(expected, wrong);
            assert_eq!(actual, Digest::sha256(&bytes));
        }
        other => panic!("{other:?}"),
    }
    let other_alg: Digest = "sha384:abcd".parse().unwrap();
    assert!(matches!(
        Raw::<Manifest>::parse_verified(bytes, &other_alg),
        Err(Error::UnsupportedAlgorithm { .. })
    ));
}

#[test]
fn errors_name_what_failed() {
    let mut v = manifest_value();
    v["layers"][0]["digest"] = json!("sha256:abc");
    let msg = parse_manifest(&v).unwrap_err().to_string();
    assert!(
        msg.contains("manifest") && msg.contains("sha256:abc"),
        "{msg}"
    );
}

#[test]
fn manifest_without_media_type_is_not_an_index() {
    let manifest = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/oci-layout/blobs/sha256/8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b"
    ))
    .unwrap();
    assert!(oci_types::Manifest::from_slice(&manifest).is_ok());
    assert!(oci_types::Index::from_slice(&manifest).is_err());
}
