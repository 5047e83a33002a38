//! `validate_image` / `validate_index` / `digest_layer`: valid images pass, every kind of
//! mismatch is found, named, and reported together with the others.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use oci_partial::random::{self, CorruptLayer, Options};
use oci_partial::{
    digest_layer, validate_image, validate_index, BlobReader, Check, Child, Error, Image,
    ImageIndex, Layer, Location, MappedImage, Problem, ProblemKind, Result, ValidateOptions,
    ValueSource,
};
use oci_types::{
    Compression, ConfigFile, Descriptor, Digest, Index, Manifest, MediaType, Platform, Raw,
    VerifyingReader,
};
use proptest::prelude::*;

fn full() -> ValidateOptions {
    ValidateOptions::default()
}

fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

/// The problems of a report, or none.
fn problems_of(r: std::result::Result<(), oci_partial::ValidationReport>) -> Vec<Problem> {
    r.err().map(|r| r.problems).unwrap_or_default()
}

#[track_caller]
fn assert_valid(image: &dyn Image) {
    if let Err(report) = validate_image(image, full()) {
        panic!("unexpected problems:\n{report}");
    }
}

/// The mismatch of `what` at `location` claimed by `expected_from`, if reported.
fn find<'a>(
    problems: &'a [Problem],
    location: &[Location],
    what: Check,
    expected_from: ValueSource,
) -> Option<&'a Problem> {
    problems.iter().find(|p| {
        p.location == location
            && p.what == what
            && matches!(&p.kind, ProblemKind::Mismatch { expected_from: f, .. } if *f == expected_from)
    })
}

// ---------------------------------------------------------------------------------------
// A test-only image over an OCI layout directory (the shared fixtures), independent of the
// crate's own adapters: manifests, configs and blobs read straight from `blobs/`.

fn fixtures() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures")).to_path_buf()
}

fn blob_path(dir: &Path, d: &Digest) -> PathBuf {
    dir.join("blobs")
        .join(d.algorithm().as_str())
        .join(d.encoded())
}

fn read_blob(dir: &Path, d: &Digest) -> Result<Vec<u8>> {
    std::fs::read(blob_path(dir, d)).map_err(|e| Error::io(format!("reading {d}"), e))
}

struct DirLayer {
    path: PathBuf,
    desc: Descriptor,
    diff_id: Digest,
}

impl Layer for DirLayer {
    fn digest(&self) -> Result<Digest> {
        Ok(self.desc.digest.clone())
    }
    fn diff_id(&self) -> Result<Digest> {
        Ok(self.diff_id.clone())
    }
    fn compressed(&self) -> Result<BlobReader> {
        let f = std::fs::File::open(&self.path).map_err(|e| Error::io("opening blob", e))?;
        Ok(Box::new(f))
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        let c = self.compressed()?;
        Ok(match self.desc.media_type.compression() {
            Some(Compression::Gzip) => Box::new(flate2::read::GzDecoder::new(c)),
            Some(Compression::Zstd) => Box::new(zstd::stream::read::Decoder::new(c).unwrap()),
            _ => c,
        })
    }
    fn size(&self) -> Result<u64> {
        Ok(self.desc.size)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.desc.media_type.clone())
    }
}

struct DirImage {
    desc: Descriptor,
    raw: Vec<u8>,
    config: Vec<u8>,
    layers: Vec<Arc<dyn Layer>>,
}

impl DirImage {
    fn open(dir: &Path, desc: Descriptor) -> Result<DirImage> {
        let raw = read_blob(dir, &desc.digest)?;
        let manifest = Manifest::from_slice(&raw)?;
        let config = read_blob(dir, &manifest.config.digest)?;
        let diff_ids = ConfigFile::from_slice(&config)?.rootfs.diff_ids;
        let layers = manifest
            .layers
            .iter()
            .zip(diff_ids)
            .map(|(l, diff_id)| {
                let path = blob_path(dir, &l.digest);
                Arc::new(DirLayer {
                    path,
                    desc: l.clone(),
                    diff_id,
                }) as Arc<dyn Layer>
            })
            .collect();
        Ok(DirImage {
            desc,
            raw,
            config,
            layers,
        })
    }
}

impl Image for DirImage {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        Ok(self.layers.clone())
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.desc.media_type.clone())
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        Ok(self.config.clone())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.raw.clone())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        oci_partial::find_layer_by_digest(&self.layers, digest)
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        oci_partial::find_layer_by_diff_id(&self.layers, diff_id)
    }
    fn descriptor(&self) -> Result<Descriptor> {
        Ok(self.desc.clone())
    }
}

/// The layout's `index.json` as an index.
struct DirIndex {
    dir: PathBuf,
    raw: Vec<u8>,
}

impl ImageIndex for DirIndex {
    fn media_type(&self) -> Result<MediaType> {
        Ok(Index::from_slice(&self.raw)?.media_type())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.raw.clone())
    }
    fn image(&self, digest: &Digest) -> Result<Arc<dyn Image>> {
        let desc = self
            .index_manifest()?
            .manifests
            .into_iter()
            .find(|m| &m.digest == digest);
        let desc = desc.ok_or_else(|| Error::NotFound {
            what: "image",
            digest: digest.clone(),
        })?;
        Ok(Arc::new(DirImage::open(&self.dir, desc)?))
    }
    fn image_index(&self, digest: &Digest) -> Result<Arc<dyn ImageIndex>> {
        Err(Error::NotFound {
            what: "index",
            digest: digest.clone(),
        })
    }
}

fn layout_index(name: &str) -> DirIndex {
    let dir = fixtures().join(name);
    let raw = std::fs::read(dir.join("index.json")).unwrap();
    DirIndex { dir, raw }
}

// ---------------------------------------------------------------------------------------
// An image with a replaced config (and the manifest rewritten to point at it), for claims
// that are wrong in the config only.

struct NewConfig {
    inner: Arc<dyn Image>,
    manifest: Raw<Manifest>,
    config: Raw<ConfigFile>,
}

fn with_config(inner: Arc<dyn Image>, edit: impl FnOnce(&mut ConfigFile)) -> Arc<dyn Image> {
    let mut config = inner.config_file().unwrap();
    edit(&mut config);
    let config = Raw::from_value(config).unwrap();
    let mut manifest = inner.manifest().unwrap();
    manifest.config = config.descriptor(manifest.config.media_type.clone());
    let manifest = Raw::from_value(manifest).unwrap();
    Arc::new(NewConfig {
        inner,
        manifest,
        config,
    })
}

impl Image for NewConfig {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        self.inner.layers()
    }
    fn media_type(&self) -> Result<MediaType> {
        self.inner.media_type()
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        Ok(self.config.bytes().to_vec())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.manifest.bytes().to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        self.inner.layer_by_digest(digest)
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        self.inner.layer_by_diff_id(diff_id)
    }
}

/// An image that lies about its own digest and size and whose layers are swapped for others.
struct Liar {
    inner: Arc<dyn Image>,
    layers: Option<Vec<Arc<dyn Layer>>>,
    digest: Option<Digest>,
    size: Option<u64>,
}

impl Image for Liar {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        match &self.layers {
            Some(l) => Ok(l.clone()),
            None => self.inner.layers(),
        }
    }
    fn media_type(&self) -> Result<MediaType> {
        self.inner.media_type()
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        self.inner.raw_config_file()
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        self.inner.raw_manifest()
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        oci_partial::find_layer_by_digest(&self.layers()?, digest)
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        oci_partial::find_layer_by_diff_id(&self.layers()?, diff_id)
    }
    fn digest(&self) -> Result<Digest> {
        self.digest.clone().map_or_else(|| self.inner.digest(), Ok)
    }
    fn size(&self) -> Result<u64> {
        self.size.map_or_else(|| self.inner.size(), Ok)
    }
}

/// A layer that counts how often its streams are opened, optionally verifying its
/// compressed stream against its claimed digest (as real sources do), optionally one-shot.
struct Probe {
    inner: Arc<dyn Layer>,
    verify: bool,
    one_shot_uncompressed: bool,
    opened: AtomicUsize,
}

impl Probe {
    fn new(inner: Arc<dyn Layer>) -> Probe {
        Probe {
            inner,
            verify: false,
            one_shot_uncompressed: false,
            opened: AtomicUsize::new(0),
        }
    }
}

impl Layer for Probe {
    fn digest(&self) -> Result<Digest> {
        self.inner.digest()
    }
    fn diff_id(&self) -> Result<Digest> {
        self.inner.diff_id()
    }
    fn compressed(&self) -> Result<BlobReader> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        let r = self.inner.compressed()?;
        if self.verify {
            let v = VerifyingReader::new(r, self.inner.digest()?, Some(self.inner.size()?))?;
            return Ok(Box::new(v));
        }
        Ok(r)
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        if self.one_shot_uncompressed {
            return Err(Error::Consumed);
        }
        self.inner.uncompressed()
    }
    fn size(&self) -> Result<u64> {
        self.inner.size()
    }
    fn media_type(&self) -> Result<MediaType> {
        self.inner.media_type()
    }
    fn exists(&self) -> Result<bool> {
        Ok(true)
    }
}

fn with_layers(inner: Arc<dyn Image>, layers: Vec<Arc<dyn Layer>>) -> Arc<dyn Image> {
    Arc::new(Liar {
        inner,
        layers: Some(layers),
        digest: None,
        size: None,
    })
}

// ---------------------------------------------------------------------------------------

#[test]
fn random_images_of_every_shape_are_valid() {
    for compression in [Compression::Gzip, Compression::Zstd, Compression::None] {
        for docker in [false, true] {
            let mut opts = Options::default().compression(compression);
            if docker {
                opts = opts.docker();
            }
            for layers in [0, 1, 3] {
                let image = random::image_with(11, layers, 700, &opts);
                assert_valid(image.as_ref());
                assert!(validate_image(image.as_ref(), ValidateOptions::fast()).is_ok());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn any_random_image_is_valid(seed in any::<u64>(), layers in 0usize..4, size in 0usize..3000, zstd in any::<bool>()) {
        let c = if zstd { Compression::Zstd } else { Compression::Gzip };
        let image = random::image_with(seed, layers, size, &Options::default().compression(c));
        let r = validate_image(image.as_ref(), full());
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

#[test]
fn random_indexes_are_valid() {
    for opts in [
        Options::default(),
        Options::default().docker().compression(Compression::Zstd),
    ] {
        let index = random::index_with(5, 3, 2, 300, &opts);
        if let Err(report) = validate_index(index.as_ref(), full()) {
            panic!("{report}");
        }
    }
    // Nested: an index holding an index and an image.
    let inner = random::index(6, 2, 1, 100);
    let image = random::image(7, 1, 100);
    let outer = random::index_of(
        MediaType::OciIndex,
        vec![Child::Index(inner), Child::Image(image)],
    )
    .unwrap();
    validate_index(outer.as_ref(), full()).unwrap();
}

#[test]
fn fixture_layouts_are_valid() {
    for name in ["oci-layout", "oci-layout-zstd"] {
        let index = layout_index(name);
        let entries = index.index_manifest().unwrap().manifests;
        assert!(!entries.is_empty());
        for desc in entries {
            let image = index.image(&desc.digest).unwrap();
            if let Err(report) = validate_image(image.as_ref(), full()) {
                panic!("{name} {}:\n{report}", desc.digest);
            }
        }
        if let Err(report) = validate_index(&index, full()) {
            panic!("{name}:\n{report}");
        }
    }
}

#[test]
fn fixture_layer_digests_are_the_documented_ones() {
    // From fixtures/README.md: layer 1 of `hello`, gzip and zstd.
    let index = layout_index("oci-layout");
    let hello: Digest = "sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b"
        .parse()
        .unwrap();
    let layers = index.image(&hello).unwrap().layers().unwrap();
    let m = digest_layer(layers[0].as_ref()).unwrap();
    assert_eq!(
        m.digest.as_str(),
        "sha256:017cc9880756317eb7e94aa2da03ab921878ee450f1296ce4073b268203896e7"
    );
    assert_eq!(m.size, 298);
    let diff_id = "sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16";
    assert_eq!(m.diff_id.unwrap().as_str(), diff_id);
    assert_eq!(m.uncompressed_size, Some(5120));

    let index = layout_index("oci-layout-zstd");
    let hello: Digest = "sha256:af5c82343b2b6ecca3ae8a195209d67197200a5d5e934cb236eaf29b4079c001"
        .parse()
        .unwrap();
    let layers = index.image(&hello).unwrap().layers().unwrap();
    let m = digest_layer(layers[0].as_ref()).unwrap();
    assert_eq!(
        m.digest.as_str(),
        "sha256:8650cf108752755fd4cd15816a539dd1aa26f7219bbdf7ab7958008233141b91"
    );
    assert_eq!(m.size, 266);
    assert_eq!(m.diff_id.unwrap().as_str(), diff_id);
}

#[test]
fn digest_layer_agrees_with_the_claims_for_every_compression() {
    for c in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let layer = random::layer_with(3, 5000, &Options::default().compression(c));
        let m = digest_layer(layer.as_ref()).unwrap();
        assert_eq!(m.digest, layer.digest().unwrap());
        assert_eq!(m.size, layer.size().unwrap());
        assert_eq!(m.diff_id, Some(layer.diff_id().unwrap()));
        assert_eq!(
            m.uncompressed_size,
            Some(layer.uncompressed_size().unwrap())
        );
        assert_eq!(
            m.digest,
            Digest::sha256(&read_all(layer.compressed().unwrap()))
        );
    }
    // A corrupt gzip stream does not decompress: an error, not a wrong diff_id.
    let bad = CorruptLayer::new(random::layer(3, 5000));
    assert!(digest_layer(&bad).is_err());
}

#[test]
fn a_corrupted_layer_is_found_with_both_digests_named() {
    let image = random::image(21, 3, 4000);
    let broken = random::corrupt_layer(Arc::clone(&image), 1);
    let original = image.layers().unwrap()[1].digest().unwrap();
    let actual = Digest::sha256(&read_all(broken.layers().unwrap()[1].compressed().unwrap()));
    assert_ne!(original, actual);

    let report = validate_image(broken.as_ref(), full()).unwrap_err();
    let at = [Location::Layer(1)];
    for claimant in [ValueSource::Manifest, ValueSource::LayerDigest] {
        let p = find(&report.problems, &at, Check::Digest, claimant)
            .unwrap_or_else(|| panic!("{report}"));
        assert_eq!(p.expected(), Some(original.as_str()));
        assert_eq!(p.actual(), Some(actual.as_str()));
    }
    // The decompressed stream is broken too, and nothing is reported about the other layers.
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.location == at && p.what == Check::DiffId),
        "{report}"
    );
    assert!(report.problems.iter().all(|p| p.location == at), "{report}");
    let text = report.to_string();
    assert!(
        text.contains(original.as_str()) && text.contains(actual.as_str()),
        "{text}"
    );
    assert!(
        text.contains("layer 1: digest mismatch: manifest says"),
        "{text}"
    );
}

#[test]
fn a_verifying_source_failure_becomes_a_digest_mismatch() {
    // A real source verifies as it reads: the failure at the end of the stream carries both
    // digests, which the report keeps.
    let image = random::image(22, 1, 3000);
    let bad: Arc<dyn Layer> = Arc::new(CorruptLayer::new(image.layers().unwrap()[0].clone()));
    let mut probe = Probe::new(bad);
    probe.verify = true;
    let broken = with_layers(Arc::clone(&image), vec![Arc::new(probe)]);
    let problems = problems_of(validate_image(broken.as_ref(), full()));
    let p = find(
        &problems,
        &[Location::Layer(0)],
        Check::Digest,
        ValueSource::VerifyingSource,
    )
    .unwrap();
    assert_eq!(
        p.expected(),
        Some(image.layers().unwrap()[0].digest().unwrap().as_str())
    );
    assert!(p.actual().unwrap().starts_with("sha256:"));
}

#[test]
fn a_wrong_diff_id_in_the_config_is_found() {
    let image = random::image(31, 3, 1000);
    let bogus = Digest::sha256(b"not a layer");
    let real = image.layers().unwrap()[2].diff_id().unwrap();
    let edited = with_config(image, |c| c.rootfs.diff_ids[2] = bogus.clone());
    let problems = problems_of(validate_image(edited.as_ref(), full()));
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = find(
        &problems,
        &[Location::Layer(2)],
        Check::DiffId,
        ValueSource::ConfigDiffIds,
    )
    .unwrap();
    assert_eq!(p.expected(), Some(bogus.as_str()));
    assert_eq!(p.actual(), Some(real.as_str()));
    // Fast mode compares the config with the layer's own claim and sees it too.
    let problems = problems_of(validate_image(edited.as_ref(), ValidateOptions::fast()));
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn diff_ids_order_and_count_matter() {
    let image = random::image(32, 2, 1000);
    let swapped = with_config(Arc::clone(&image), |c| c.rootfs.diff_ids.swap(0, 1));
    let problems = problems_of(validate_image(swapped.as_ref(), full()));
    assert!(find(
        &problems,
        &[Location::Layer(0)],
        Check::DiffId,
        ValueSource::ConfigDiffIds
    )
    .is_some());
    assert!(find(
        &problems,
        &[Location::Layer(1)],
        Check::DiffId,
        ValueSource::ConfigDiffIds
    )
    .is_some());

    let short = with_config(image, |c| {
        c.rootfs.diff_ids.pop();
    });
    let problems = problems_of(validate_image(short.as_ref(), full()));
    let p = find(
        &problems,
        &[Location::Config],
        Check::DiffIdsCount,
        ValueSource::ConfigDiffIds,
    )
    .unwrap();
    assert_eq!((p.expected(), p.actual()), (Some("1"), Some("2")));
}

#[test]
fn bad_rootfs_type_is_found() {
    let image = with_config(random::image(33, 1, 10), |c| {
        c.rootfs.fs_type = "tarballs".into()
    });
    let problems = problems_of(validate_image(image.as_ref(), full()));
    let p = find(
        &problems,
        &[Location::Config],
        Check::RootfsType,
        ValueSource::ImageSpec,
    )
    .unwrap();
    assert_eq!(p.actual(), Some("tarballs"));
}

#[test]
fn several_problems_are_all_reported() {
    let image = random::image(41, 3, 2000);
    // Layer 0 corrupted, config diff_id of layer 2 wrong, manifest digest and size claims wrong.
    let edited = with_config(random::corrupt_layer(image, 0), |c| {
        c.rootfs.diff_ids[2] = Digest::sha256(b"x")
    });
    let liar = Liar {
        inner: edited,
        layers: None,
        digest: Some(Digest::sha256(b"y")),
        size: Some(1),
    };
    let report = validate_image(&liar, full()).unwrap_err();
    let p = &report.problems;
    assert!(
        find(
            p,
            &[Location::Layer(0)],
            Check::Digest,
            ValueSource::Manifest
        )
        .is_some(),
        "{report}"
    );
    assert!(
        find(
            p,
            &[Location::Layer(2)],
            Check::DiffId,
            ValueSource::ConfigDiffIds
        )
        .is_some(),
        "{report}"
    );
    assert!(
        find(
            p,
            &[Location::Manifest],
            Check::Digest,
            ValueSource::ImageDigest
        )
        .is_some(),
        "{report}"
    );
    assert!(
        find(
            p,
            &[Location::Manifest],
            Check::Size,
            ValueSource::ImageSize
        )
        .is_some(),
        "{report}"
    );
    assert!(
        p.iter().all(|x| x.location != [Location::Layer(1)]),
        "{report}"
    );
    // One line per problem, and usable as a boxed error.
    assert_eq!(report.to_string().lines().count(), report.problems.len());
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(report);
    assert!(boxed
        .to_string()
        .contains("manifest: size mismatch: Image::size says 1"));
}

#[test]
fn layers_that_disagree_with_the_manifest_are_found() {
    // The image's layers are another image's: every layer claim disagrees with the manifest.
    let image = random::image(51, 2, 500);
    let other = random::image_with(
        52,
        1,
        500,
        &Options::default().compression(Compression::Zstd),
    );
    let mixed = with_layers(image, other.layers().unwrap());
    let report = validate_image(mixed.as_ref(), full()).unwrap_err();
    let p = &report.problems;
    let count = find(
        p,
        &[Location::Manifest],
        Check::LayerCount,
        ValueSource::Manifest,
    )
    .unwrap();
    assert_eq!((count.expected(), count.actual()), (Some("2"), Some("1")));
    assert!(
        find(
            p,
            &[Location::Layer(0)],
            Check::MediaType,
            ValueSource::Manifest
        )
        .is_some(),
        "{report}"
    );
    assert!(
        find(
            p,
            &[Location::Layer(0)],
            Check::Digest,
            ValueSource::Manifest
        )
        .is_some(),
        "{report}"
    );
    assert!(
        find(p, &[Location::Layer(0)], Check::Size, ValueSource::Manifest).is_some(),
        "{report}"
    );
    assert!(
        find(
            p,
            &[Location::Layer(0)],
            Check::DiffId,
            ValueSource::ConfigDiffIds
        )
        .is_some(),
        "{report}"
    );
}

#[test]
fn fast_mode_reads_no_layer() {
    let image = random::image(61, 2, 800);
    let probes: Vec<Arc<Probe>> = image
        .layers()
        .unwrap()
        .into_iter()
        .map(|l| Arc::new(Probe::new(l)))
        .collect();
    let layers = probes
        .iter()
        .map(|p| Arc::clone(p) as Arc<dyn Layer>)
        .collect();
    let probed = with_layers(Arc::clone(&image), layers);
    validate_image(probed.as_ref(), ValidateOptions::fast()).unwrap();
    assert!(probes.iter().all(|p| p.opened.load(Ordering::SeqCst) == 0));
    // Full mode reads each compressed stream once and each uncompressed stream once.
    validate_image(probed.as_ref(), full()).unwrap();
    assert!(probes.iter().all(|p| p.opened.load(Ordering::SeqCst) == 2));
    // A corrupted blob is invisible to fast mode.
    let broken = random::corrupt_layer(image, 0);
    assert!(validate_image(broken.as_ref(), ValidateOptions::fast()).is_ok());
}

#[test]
fn a_consumed_uncompressed_stream_is_not_a_problem() {
    let image = random::image(62, 1, 100);
    let mut probe = Probe::new(image.layers().unwrap()[0].clone());
    probe.one_shot_uncompressed = true;
    let layers: Vec<Arc<dyn Layer>> = vec![Arc::new(probe)];
    assert_valid(with_layers(image, layers).as_ref());
}

#[test]
fn index_entries_are_checked_against_their_children() {
    let a = random::image_with(
        71,
        1,
        100,
        &Options::default().platform("linux/arm64".parse().unwrap()),
    );
    let b = random::image(72, 1, 100);
    let c = random::image(73, 1, 100);
    // a: the entry says amd64, the config arm64. b: the entry's size is wrong. c: fine.
    let mut wrong_platform = a
        .descriptor()
        .unwrap()
        .with_platform(Platform::new("linux", "amd64"));
    wrong_platform.annotations.insert("k".into(), "v".into());
    let mut wrong_size = b.descriptor().unwrap();
    wrong_size.size += 1;
    let index = random::index_of(
        MediaType::OciIndex,
        vec![
            Child::Image(Arc::new(MappedImage::described(a, wrong_platform))),
            Child::Image(Arc::new(MappedImage::described(b.clone(), wrong_size))),
            Child::Image(c),
        ],
    )
    .unwrap();
    let report = validate_index(index.as_ref(), full()).unwrap_err();
    let entries = index.index_manifest().unwrap().manifests;
    let entry = |i: usize| Location::Entry {
        index: i,
        digest: entries[i].digest.clone(),
    };
    let p = find(
        &report.problems,
        &[entry(0)],
        Check::Platform,
        ValueSource::IndexEntry,
    )
    .unwrap();
    assert_eq!(
        (p.expected(), p.actual()),
        (Some("linux/amd64"), Some("linux/arm64"))
    );
    let p = find(
        &report.problems,
        &[entry(1)],
        Check::Size,
        ValueSource::IndexEntry,
    )
    .unwrap();
    assert_eq!(p.actual(), Some(b.size().unwrap().to_string().as_str()));
    assert!(
        report.problems.iter().all(|p| p.location[0] != entry(2)),
        "{report}"
    );
    // The child's own descriptor (from the index) disagrees with its bytes, inside the child.
    assert!(find(
        &report.problems,
        &[entry(1), Location::Manifest],
        Check::Size,
        ValueSource::ImageDescriptor
    )
    .is_some());
}

#[test]
fn problems_inside_nested_children_carry_their_path() {
    let inner_image = random::corrupt_layer(random::image(81, 2, 500), 1);
    let inner = random::index_of(MediaType::OciIndex, vec![Child::Image(inner_image)]).unwrap();
    let inner_digest = inner.digest().unwrap();
    let outer =
        random::index_of(MediaType::OciIndex, vec![Child::Index(Arc::clone(&inner))]).unwrap();
    let report = validate_index(outer.as_ref(), full()).unwrap_err();
    let image_digest = inner.index_manifest().unwrap().manifests[0].digest.clone();
    let path = [
        Location::Entry {
            index: 0,
            digest: inner_digest,
        },
        Location::Entry {
            index: 0,
            digest: image_digest.clone(),
        },
        Location::Layer(1),
    ];
    assert!(
        find(
            &report.problems,
            &path,
            Check::Digest,
            ValueSource::Manifest
        )
        .is_some(),
        "{report}"
    );
    let line = report.to_string();
    assert!(
        line.contains(&format!(
            "manifests[0] ({image_digest}) > layer 1: digest mismatch"
        )),
        "{line}"
    );
}

#[test]
fn an_index_entry_that_cannot_be_opened_is_reported() {
    // Entry naming a digest the index cannot produce.
    let image = random::image(91, 1, 10);
    let mut desc = image.descriptor().unwrap();
    desc.digest = Digest::sha256(b"missing");
    let index = random::index_of(MediaType::OciIndex, vec![Child::Other(desc.clone())]).unwrap();
    // `Other` entries with an image media type are still looked up by the validator.
    let problems = problems_of(validate_index(index.as_ref(), full()));
    let at = [Location::Entry {
        index: 0,
        digest: desc.digest,
    }];
    assert!(
        problems
            .iter()
            .any(|p| p.location == at && p.what == Check::Open),
        "{problems:?}"
    );
}

#[test]
fn reading_failures_are_problems_not_panics() {
    struct Unreadable;
    impl Layer for Unreadable {
        fn digest(&self) -> Result<Digest> {
            Ok(Digest::sha256(b"a"))
        }
        fn diff_id(&self) -> Result<Digest> {
            Ok(Digest::sha256(b"b"))
        }
        fn compressed(&self) -> Result<BlobReader> {
            struct Fails;
            impl Read for Fails {
                fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                    Err(io::Error::other("disk on fire"))
                }
            }
            Ok(Box::new(Fails))
        }
        fn uncompressed(&self) -> Result<BlobReader> {
            Err(Error::Unsupported {
                kind: oci_partial::UnsupportedKind::NotProvided {
                    method: "uncompressed",
                },
            })
        }
        fn size(&self) -> Result<u64> {
            Ok(1)
        }
        fn media_type(&self) -> Result<MediaType> {
            Ok(MediaType::OciLayerGzip)
        }
    }
    let image = with_layers(random::image(92, 1, 10), vec![Arc::new(Unreadable)]);
    let report = validate_image(image.as_ref(), full()).unwrap_err();
    let read = report
        .problems
        .iter()
        .find(|p| p.location == [Location::Layer(0)] && p.what == Check::Digest)
        .unwrap();
    assert!(
        matches!(&read.kind, ProblemKind::Invalid { message } if message.contains("disk on fire")),
        "{report}"
    );
}

#[test]
fn a_self_referencing_index_stops_at_the_nesting_limit() {
    /// An index whose only entry is itself (impossible with real digests, possible in code).
    struct Loop(Vec<u8>);
    impl ImageIndex for Loop {
        fn media_type(&self) -> Result<MediaType> {
            Ok(MediaType::OciIndex)
        }
        fn raw_manifest(&self) -> Result<Vec<u8>> {
            Ok(self.0.clone())
        }
        fn image(&self, digest: &Digest) -> Result<Arc<dyn Image>> {
            Err(Error::NotFound {
                what: "image",
                digest: digest.clone(),
            })
        }
        fn image_index(&self, _: &Digest) -> Result<Arc<dyn ImageIndex>> {
            Ok(Arc::new(Loop(self.0.clone())))
        }
    }
    let raw = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{}","size":1}}]}}"#,
        Digest::sha256(b"self")
    );
    let report = validate_index(&Loop(raw.into_bytes()), full()).unwrap_err();
    let nesting: Vec<&Problem> = report
        .problems
        .iter()
        .filter(|p| p.what == Check::Nesting)
        .collect();
    assert_eq!(nesting.len(), 1, "{report}");
    assert_eq!(
        nesting[0].location.len(),
        17,
        "16 entries deep, then the index"
    );
    // Each level's entry names the wrong digest and size for its child.
    assert!(find(
        &report.problems,
        &[Location::Entry {
            index: 0,
            digest: Digest::sha256(b"self")
        }],
        Check::Size,
        ValueSource::IndexEntry
    )
    .is_some());
}
