//! Property tests: parsers and printers agree, documents survive serde, and the verifying
//! reader's verdict does not depend on how the stream is chunked.

use std::collections::BTreeMap;
use std::io::{self, Read};

use oci_types::{
    base64, ConfigFile, ContainerConfig, Descriptor, Digest, Error, Extra, Healthcheck, History,
    Index, Manifest, MediaType, Platform, Raw, VerifyingReader,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::Value;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Algorithms other than sha256/sha512, per the grammar: `[a-z0-9]+` joined by `[+._-]`.
fn other_algorithm() -> impl Strategy<Value = String> {
    ("[a-z0-9]{1,8}", vec(("[+._-]", "[a-z0-9]{1,8}"), 0..3))
        .prop_map(|(first, rest)| {
            rest.into_iter().fold(first, |mut acc, (sep, comp)| {
                acc.push_str(&sep);
                acc.push_str(&comp);
                acc
            })
        })
        .prop_filter("known algorithms have length rules", |a| {
            a != "sha256" && a != "sha512"
        })
}

proptest! {
    #[test]
    fn sha256_digest_round_trip(bytes in prop::array::uniform32(any::<u8>())) {
        let s = format!("sha256:{}", hex(&bytes));
        let d: Digest = s.parse().unwrap();
        prop_assert_eq!(d.to_string(), s.clone());
        prop_assert_eq!(d.algorithm().as_str(), "sha256");
        prop_assert_eq!(d.encoded(), hex(&bytes));
        prop_assert_eq!(serde_json::from_str::<Digest>(&serde_json::to_string(&d).unwrap()).unwrap(), d);
        // Upper case or a digit more or less is refused.
        prop_assert!(s.to_uppercase().parse::<Digest>().is_err(), "upper case accepted");
        prop_assert!(format!("{s}0").parse::<Digest>().is_err(), "too long accepted");
        prop_assert!(s[..s.len() - 1].parse::<Digest>().is_err(), "too short accepted");
    }

    #[test]
    fn sha512_digest_round_trip(bytes in vec(any::<u8>(), 64)) {
        let s = format!("sha512:{}", hex(&bytes));
        let d: Digest = s.parse().unwrap();
        prop_assert_eq!(d.to_string(), s);
        prop_assert_eq!(d.algorithm().as_str(), "sha512");
        prop_assert!(format!("sha512:{}", hex(&bytes[..32])).parse::<Digest>().is_err(), "short sha512");
    }

    #[test]
    fn other_digest_round_trip(alg in other_algorithm(), enc in "[a-zA-Z0-9=_-]{1,200}") {
        let s = format!("{alg}:{enc}");
        let d: Digest = s.parse().unwrap();
        prop_assert_eq!(d.to_string(), s.clone());
        prop_assert_eq!(d.algorithm().as_str(), alg.as_str());
        prop_assert_eq!(d.encoded(), enc.as_str());
        prop_assert_eq!(Digest::from_parts(&alg, &enc).unwrap(), d.clone());
        prop_assert!(matches!(d.digester(), Err(Error::UnsupportedAlgorithm { .. })), "digester for {}", d);
        // A character outside the grammar anywhere breaks it.
        prop_assert!(format!("{alg}:{enc}/").parse::<Digest>().is_err(), "slash accepted");
        if alg.bytes().any(|b| b.is_ascii_lowercase()) {
            prop_assert!(format!("{}:{enc}", alg.to_uppercase()).parse::<Digest>().is_err(), "upper-case algorithm");
        }
    }

    #[test]
    fn digest_parse_never_panics(s in "\\PC{0,80}") {
        if let Ok(d) = s.parse::<Digest>() {
            prop_assert_eq!(d.to_string(), s);
        }
    }
}

fn platform_component() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,12}"
}

fn arch() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "amd64", "x86_64", "x86-64", "AMD64", "i386", "386", "arm64", "aarch64", "ARM64",
            "arm", "armhf", "armel", "ppc64le", "s390x", "riscv64",
        ])
        .prop_map(String::from),
        platform_component(),
    ]
}

fn variant() -> impl Strategy<Value = Option<String>> {
    option::of(prop_oneof![
        prop::sample::select(vec![
            "", "v1", "v2", "V3", "5", "v5", "6", "v6", "7", "v7", "8", "v8", "v8.0", "v9"
        ])
        .prop_map(String::from),
        platform_component(),
    ])
}

fn os() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "linux", "Linux", "windows", "macos", "MacOS", "darwin", "freebsd"
        ])
        .prop_map(String::from),
        platform_component(),
    ]
}

proptest! {
    #[test]
    fn platform_display_parse_round_trip(
        os in platform_component(), arch in platform_component(), variant in option::of(platform_component())
    ) {
        let s = match &variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        };
        let p: Platform = s.parse().unwrap();
        prop_assert_eq!(&p.os, &os);
        prop_assert_eq!(&p.architecture, &arch);
        prop_assert_eq!(&p.variant, &variant);
        prop_assert_eq!(p.to_string(), s);
        let mut expected = Platform::new(os, arch);
        expected.variant = variant;
        prop_assert_eq!(&p, &expected);
        prop_assert_eq!(p.to_string().parse::<Platform>().unwrap(), p);
    }

    #[test]
    fn platform_normalize_is_idempotent(os in os(), arch in arch(), variant in variant()) {
        let mut p = Platform::new(os, arch);
        p.variant = variant;
        let n = p.normalize();
        prop_assert_eq!(n.normalize(), n.clone());
        prop_assert!(p.matches(&n) && n.matches(&p), "{} vs {}", p, n);
        prop_assert!(p.matches(&p) && p.can_run(&p), "{} not reflexive", p);
        prop_assert_eq!(&n.os, &n.os.to_ascii_lowercase());
        prop_assert_eq!(&n.architecture, &n.architecture.to_ascii_lowercase());
        // The normalised form prints and parses back.
        prop_assert_eq!(n.to_string().parse::<Platform>().unwrap(), n);
    }

    #[test]
    fn platform_parse_never_panics(s in "\\PC{0,40}") {
        if let Ok(p) = s.parse::<Platform>() {
            prop_assert_eq!(p.to_string(), s);
        }
    }

    #[test]
    fn media_type_round_trip(s in "\\PC{0,60}") {
        let m: MediaType = s.parse().unwrap();
        prop_assert_eq!(m.to_string(), s.clone());
        prop_assert_eq!(m.as_str(), s.as_str());
        if !MediaType::KNOWN.contains(&m) {
            prop_assert_eq!(&m, &MediaType::Other(s.clone()));
        }
        let json = serde_json::to_string(&m).unwrap();
        prop_assert_eq!(serde_json::from_str::<MediaType>(&json).unwrap(), m);
    }

    #[test]
    fn known_media_type_round_trip(m in prop::sample::select(MediaType::KNOWN.to_vec())) {
        let s = m.to_string();
        prop_assert_eq!(s.parse::<MediaType>().unwrap(), m.clone());
        prop_assert!(!matches!(MediaType::from(s.as_str()), MediaType::Other(_)), "{} not known", s);
        prop_assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{s}\""));
    }
}

// ---------------------------------------------------------------------------------------
// Generated documents.

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Unknown fields; the `x-` prefix keeps them clear of every known name.
fn extra() -> impl Strategy<Value = Extra> {
    btree_map("x-[a-zA-Z0-9._-]{1,10}", json_value(), 0..3).prop_map(|m| m.into_iter().collect())
}

fn annotations() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map("[a-z.]{1,20}", "\\PC{0,20}", 0..3)
}

fn media_type() -> impl Strategy<Value = MediaType> {
    prop_oneof![
        prop::sample::select(MediaType::KNOWN.to_vec()),
        "[a-z]{1,10}/[a-z0-9.+-]{1,20}".prop_map(MediaType::from),
    ]
}

fn sha256() -> impl Strategy<Value = Digest> {
    vec(any::<u8>(), 0..16).prop_map(|b| Digest::sha256(&b))
}

pub(crate) fn platform() -> impl Strategy<Value = Platform> {
    (
        platform_component(),
        platform_component(),
        option::of(platform_component()),
        option::of("[0-9.]{1,12}"),
        vec("[a-z0-9]{1,8}", 0..3),
        vec("[a-z0-9]{1,8}", 0..2),
        extra(),
    )
        .prop_map(
            |(os, arch, variant, os_version, os_features, features, extra)| {
                let mut p = Platform::new(os, arch);
                p.variant = variant;
                p.os_version = os_version;
                p.os_features = os_features;
                p.features = features;
                p.extra = extra;
                p
            },
        )
}

pub(crate) fn descriptor() -> impl Strategy<Value = Descriptor> {
    (
        media_type(),
        sha256(),
        any::<u64>(),
        vec("https://[a-z]{1,8}\\.example/[a-z0-9]{0,8}", 0..2),
        annotations(),
        option::of(platform()),
        option::of(media_type()),
        option::of(vec(any::<u8>(), 0..20).prop_map(|b| base64::encode(&b))),
        extra(),
    )
        .prop_map(
            |(mt, digest, size, urls, annotations, platform, artifact_type, data, extra)| {
                let mut d = Descriptor::new(mt, digest, size);
                d.urls = urls;
                d.annotations = annotations;
                d.platform = platform;
                d.artifact_type = artifact_type;
                d.data = data;
                d.extra = extra;
                d
            },
        )
}

pub(crate) fn manifest() -> impl Strategy<Value = Manifest> {
    (
        option::of(prop_oneof![
            Just(MediaType::OciManifest),
            Just(MediaType::DockerManifest),
            "application/x-[a-z]{1,8}".prop_map(MediaType::from),
        ]),
        option::of(media_type()),
        descriptor(),
        vec(descriptor(), 0..4),
        option::of(descriptor()),
        annotations(),
        extra(),
    )
        .prop_map(
            |(mt, artifact_type, config, layers, subject, annotations, extra)| {
                let mut m = Manifest::new(MediaType::OciManifest, config, layers);
                m.media_type = mt;
                m.artifact_type = artifact_type;
                m.subject = subject;
                m.annotations = annotations;
                m.extra = extra;
                m
            },
        )
}

pub(crate) fn index() -> impl Strategy<Value = Index> {
    (
        option::of(prop_oneof![
            Just(MediaType::OciIndex),
            Just(MediaType::DockerManifestList),
            "application/x-[a-z]{1,8}".prop_map(MediaType::from),
        ]),
        option::of(media_type()),
        vec(descriptor(), 0..4),
        option::of(descriptor()),
        annotations(),
        extra(),
    )
        .prop_map(
            |(mt, artifact_type, manifests, subject, annotations, extra)| {
                let mut i = Index::new(MediaType::OciIndex);
                i.media_type = mt;
                i.artifact_type = artifact_type;
                i.manifests = manifests;
                i.subject = subject;
                i.annotations = annotations;
                i.extra = extra;
                i
            },
        )
}

fn strings() -> impl Strategy<Value = Option<Vec<String>>> {
    option::of(vec("\\PC{0,10}", 0..3))
}

fn container_config() -> impl Strategy<Value = ContainerConfig> {
    (
        (
            option::of("[a-z0-9:]{0,8}"),
            option::of(btree_map("[0-9]{1,5}/(tcp|udp)", json_value(), 0..3)),
        ),
        (strings(), strings(), strings()),
        (
            option::of(btree_map("/[a-z]{1,8}", json_value(), 0..2)),
            option::of("/[a-z/]{0,10}"),
        ),
        (
            option::of(annotations()),
            option::of("SIG[A-Z]{2,6}"),
            option::of(any::<bool>()),
        ),
        option::of((
            strings(),
            option::of(any::<i64>()),
            option::of(any::<i64>()),
            extra(),
        )),
        (strings(), strings(), extra()),
    )
        .prop_map(|(a, b, c, d, hc, e)| {
            let mut cc = ContainerConfig::default();
            (cc.user, cc.exposed_ports) = a;
            (cc.env, cc.entrypoint, cc.cmd) = b;
            (cc.volumes, cc.working_dir) = c;
            (cc.labels, cc.stop_signal, cc.args_escaped) = d;
            cc.healthcheck = hc.map(|(test, interval, retries, extra)| {
                let mut h = Healthcheck::default();
                h.test = test;
                h.interval = interval;
                h.retries = retries;
                h.extra = extra;
                h
            });
            (cc.on_build, cc.shell, cc.extra) = e;
            cc
        })
}

fn history() -> impl Strategy<Value = History> {
    (
        option::of("[0-9TZ:-]{1,20}"),
        "\\PC{0,20}",
        option::of("\\PC{0,8}"),
        option::of("\\PC{0,8}"),
        any::<bool>(),
        extra(),
    )
        .prop_map(|(created, by, author, comment, empty_layer, extra)| {
            let mut h = History::new(by, created);
            h.author = author;
            h.comment = comment;
            h.empty_layer = empty_layer;
            h.extra = extra;
            h
        })
}

pub(crate) fn config_file() -> impl Strategy<Value = ConfigFile> {
    (
        (
            platform_component(),
            platform_component(),
            option::of(platform_component()),
        ),
        (
            option::of("[0-9.]{1,10}"),
            strings(),
            option::of("[0-9TZ:.-]{1,30}"),
            option::of("\\PC{0,20}"),
        ),
        option::of(container_config()),
        (vec(sha256(), 0..4), extra()),
        option::of(vec(history(), 0..4)),
        extra(),
    )
        .prop_map(
            |(
                (os, arch, variant),
                (osv, osf, created, author),
                config,
                (diff_ids, rootfs_extra),
                history,
                extra,
            )| {
                let mut c = ConfigFile::default();
                c.os = os;
                c.architecture = arch;
                c.variant = variant;
                c.os_version = osv;
                c.os_features = osf;
                c.created = created;
                c.author = author;
                c.config = config;
                c.rootfs.diff_ids = diff_ids;
                c.rootfs.extra = rootfs_extra;
                c.history = history;
                c.extra = extra;
                c
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn descriptor_serde_round_trip(d in descriptor()) {
        let json = serde_json::to_vec(&d).unwrap();
        prop_assert_eq!(serde_json::from_slice::<Descriptor>(&json).unwrap(), d);
    }

    #[test]
    fn manifest_serde_round_trip(m in manifest()) {
        let raw = Raw::from_value(m.clone()).unwrap();
        let parsed = Raw::<Manifest>::parse(raw.bytes().to_vec()).unwrap();
        prop_assert_eq!(parsed.value(), &m);
        prop_assert_eq!(parsed.digest(), raw.digest());
        let pretty = serde_json::to_vec_pretty(&m).unwrap();
        prop_assert_eq!(Manifest::from_slice(&pretty).unwrap(), m);
    }

    #[test]
    fn index_serde_round_trip(i in index()) {
        let raw = Raw::from_value(i.clone()).unwrap();
        let parsed = Raw::<Index>::parse(raw.bytes().to_vec()).unwrap();
        prop_assert_eq!(parsed.value(), &i);
        prop_assert_eq!(Index::from_slice(&serde_json::to_vec_pretty(&i).unwrap()).unwrap(), i);
    }

    #[test]
    fn config_serde_round_trip(c in config_file()) {
        let raw = Raw::from_value(c.clone()).unwrap();
        let parsed = Raw::<ConfigFile>::parse(raw.bytes().to_vec()).unwrap();
        prop_assert_eq!(parsed.value(), &c);
        prop_assert_eq!(ConfigFile::from_slice(&serde_json::to_vec_pretty(&c).unwrap()).unwrap(), c);
    }
}

// ---------------------------------------------------------------------------------------
// VerifyingReader and chunking.

/// Returns the payload in chunks of the given sizes (cycled, each at least 1 byte), never
/// returning 0 before the end.
struct Chunky<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    calls: usize,
}

impl Read for Chunky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.sizes[self.calls % self.sizes.len()];
        self.calls += 1;
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Reads everything with caller buffers of the given sizes (cycled, each at least 1).
fn read_all(mut r: impl Read, buf_sizes: &[usize]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 + buf_sizes.iter().copied().max().unwrap_or(1)];
    for i in 0.. {
        let cap = buf_sizes[i % buf_sizes.len()];
        match r.read(&mut buf[..cap]) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return Err(Error::from_io(e)),
        }
    }
    Ok(out)
}

fn verify_chunked(
    data: &[u8],
    expected: &Digest,
    size: Option<u64>,
    chunks: &[usize],
    bufs: &[usize],
) -> Result<Vec<u8>, Error> {
    let inner = Chunky {
        data,
        sizes: chunks.to_vec(),
        calls: 0,
    };
    let mut r = VerifyingReader::new(inner, expected.clone(), size)?;
    let out = read_all(&mut r, bufs)?;
    assert!(r.is_verified());
    assert_eq!(r.bytes_read(), data.len() as u64);
    Ok(out)
}

fn verify_at_once(data: &[u8], expected: &Digest, size: Option<u64>) -> Result<Vec<u8>, Error> {
    let mut r = VerifyingReader::new(data, expected.clone(), size)?;
    let mut out = Vec::new();
    r.read_to_end(&mut out).map_err(Error::from_io)?;
    Ok(out)
}

/// The parts of an outcome that must not depend on chunking.
fn outcome(r: Result<Vec<u8>, Error>) -> Result<Vec<u8>, String> {
    r.map_err(|e| match e {
        Error::DigestMismatch { expected, actual } => format!("digest {expected} {actual}"),
        Error::SizeMismatch {
            expected,
            actual,
            truncated,
            ..
        } => format!("size {expected} {actual} {truncated}"),
        other => format!("other {other}"),
    })
}

fn chunks() -> impl Strategy<Value = Vec<usize>> {
    vec(1usize..64, 1..8)
}

proptest! {
    #[test]
    fn chunking_does_not_change_the_verdict(
        data in vec(any::<u8>(), 0..2048),
        sha512 in any::<bool>(),
        with_size in any::<bool>(),
        chunks in chunks(),
        bufs in chunks(),
    ) {
        let expected = if sha512 {
            Digest::compute(&oci_types::Algorithm::Sha512, &data).unwrap()
        } else {
            Digest::sha256(&data)
        };
        let size = with_size.then_some(data.len() as u64);
        let chunked = verify_chunked(&data, &expected, size, &chunks, &bufs);
        let whole = verify_at_once(&data, &expected, size);
        prop_assert_eq!(outcome(chunked), Ok(data.clone()));
        prop_assert_eq!(outcome(whole), Ok(data));
    }

    #[test]
    fn flipped_byte_fails_with_digest_mismatch(
        data in vec(any::<u8>(), 1..2048),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        with_size in any::<bool>(),
        chunks in chunks(),
        bufs in chunks(),
    ) {
        let expected = Digest::sha256(&data);
        let mut bad = data.clone();
        let i = at.index(bad.len());
        bad[i] ^= flip;
        let size = with_size.then_some(data.len() as u64);
        let chunked = verify_chunked(&bad, &expected, size, &chunks, &bufs);
        let whole = verify_at_once(&bad, &expected, size);
        let want = format!("digest {expected} {}", Digest::sha256(&bad));
        prop_assert_eq!(outcome(chunked), Err(want.clone()));
        prop_assert_eq!(outcome(whole), Err(want));
    }

    #[test]
    fn wrong_size_fails_with_size_mismatch(
        data in vec(any::<u8>(), 0..2048),
        delta in prop_oneof![-2048i64..0, 1i64..64],
        chunks in chunks(),
        bufs in chunks(),
    ) {
        let len = data.len() as i64;
        let size = (len + delta).max(0);
        prop_assume!(size != len);
        let size = size as u64;
        let expected = Digest::sha256(&data);
        // Too short a size stops one byte past it; too long a size is found at the end.
        let want = if size < data.len() as u64 {
            format!("size {size} {} true", size + 1)
        } else {
            format!("size {size} {} false", data.len())
        };
        let chunked = verify_chunked(&data, &expected, Some(size), &chunks, &bufs);
        let whole = verify_at_once(&data, &expected, Some(size));
        prop_assert_eq!(outcome(chunked), Err(want.clone()));
        prop_assert_eq!(outcome(whole), Err(want));
    }
}

#[test]
fn reader_stays_failed_after_an_error() {
    let data = b"some layer";
    let mut r = VerifyingReader::new(&data[..], Digest::sha256(b"other"), None).unwrap();
    assert!(r.read_to_end(&mut Vec::new()).is_err());
    assert!(!r.is_verified());
    assert!(
        r.read(&mut [0u8; 8]).is_err(),
        "a failed reader must not report a clean EOF later"
    );
}
