//! The crash suite: `ocikit` writing a multi-layer image into each local sink (a layout, a
//! docker or OCI archive, a `dir:` copy, a content store, `ocikit unpack`) is SIGKILLed at
//! seeded random points. After every kill the destination is either untouched or complete
//! and valid, never half-visible; then the next write (and, for the stores, `gc`) leaves
//! nothing behind.
//!
//! `OCIKIT_CRASH_POINTS` sets the kill points per sink (default 20, CI's short form);
//! `cargo xtask stress` runs 200. `OCIKIT_CRASH_SEED` picks another sequence of points.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_layout::Layout;
use oci_partial::{random, validate_image, ValidateOptions};
use oci_types::Digest;

use crate::support::{ocikit, ocikit_stdin};

/// How many layers the image has, and how large each is.
const LAYERS: usize = 4;
const LAYER_SIZE: usize = 3 << 20;

fn points() -> usize {
    std::env::var("OCIKIT_CRASH_POINTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

fn seed() -> u64 {
    std::env::var("OCIKIT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_C4A5)
}

/// A small seeded generator (xorshift64*), so a failing point can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A delay in `[0, max]`.
    fn delay(&mut self, max: Duration) -> Duration {
        let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX).max(1);
        Duration::from_micros(self.next() % (micros + 1))
    }
}

/// `ocikit ARGS` in `dir`, its stdin read from `stdin` (or empty), its output discarded.
fn command(dir: &Path, args: &[String], stdin: Option<&Path>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocikit"));
    command
        .current_dir(dir)
        .args(args)
        .env("DOCKER_CONFIG", dir.join(".no-docker-config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match stdin {
        Some(path) => command.stdin(std::fs::File::open(path).unwrap()),
        None => command.stdin(Stdio::null()),
    };
    command
}

/// Runs `ocikit ARGS` and SIGKILLs it after `delay`, unless it finished first: then how long
/// it took.
fn run_killed(
    dir: &Path,
    args: &[String],
    stdin: Option<&Path>,
    delay: Duration,
) -> Option<Duration> {
    let mut child = command(dir, args, stdin).spawn().unwrap();
    let started = Instant::now();
    while started.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_micros(200).min(delay));
    }
    let finished = child.try_wait().unwrap().map(|_| started.elapsed());
    let _ = child.kill();
    let _ = child.wait();
    finished
}

/// How long one uninterrupted run of `args` takes (the faster of two, run as the killed runs
/// are), to spread kill points over.
fn duration_of(dir: &Path, args: &[String], stdin: Option<&Path>, reset: &dyn Fn()) -> Duration {
    let mut shortest = Duration::MAX;
    for _ in 0..2 {
        reset();
        let started = Instant::now();
        let status = command(dir, args, stdin).status().unwrap();
        assert!(status.success(), "ocikit {args:?} failed: {status}");
        shortest = shortest.min(started.elapsed());
    }
    shortest
}

/// Every file under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Every blob under `blobs/sha256/` has the digest its name says: no torn blob is visible.
#[track_caller]
fn assert_blobs_whole(root: &Path, context: &str) {
    let dir = root.join("blobs/sha256");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let actual = Digest::sha256(&std::fs::read(entry.path()).unwrap());
        assert_eq!(
            actual.encoded(),
            name,
            "{context}: blobs/sha256/{name} is torn or wrong"
        );
    }
}

/// A layout `src` holding the image `new` (the one the sinks receive) and a layout `dest`
/// holding another image as `old`.
struct Images {
    dir: tempfile::TempDir,
}

impl Images {
    fn new() -> Images {
        let dir = tempfile::tempdir().unwrap();
        let src = Layout::create(dir.path().join("src")).unwrap();
        src.write_image(
            random::image(seed(), LAYERS, LAYER_SIZE).as_ref(),
            Some("new"),
        )
        .unwrap();
        src.write_image(random::image(seed() + 1, 2, 4096).as_ref(), Some("old"))
            .unwrap();
        Images { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Kills `args` at `points()` seeded points spread over a run's duration; after each kill,
/// `check(killed)` judges the destination, and `reset()` restores the starting state before
/// the next point.
fn kill_points(
    sink: &str,
    dir: &Path,
    args: &[String],
    stdin: Option<&Path>,
    reset: &dyn Fn(),
    check: &dyn Fn(&str),
) {
    // Runs take as long as the machine's load lets them: a run that ends before its kill
    // point shortens the window the next points are drawn from.
    let mut full = duration_of(dir, args, stdin, reset);
    let mut rng = Rng(seed() ^ sink.len() as u64 ^ 0x9E37_79B9_7F4A_7C15);
    let (mut landed, n) = (0, points());
    for point in 0..n {
        reset();
        let delay = rng.delay(full);
        let context = format!("{sink}, kill point {point} of {n} at {delay:?} (run: {full:?})");
        match run_killed(dir, args, stdin, delay) {
            None => landed += 1,
            Some(took) => full = full.min(took),
        }
        check(&context);
    }
    // The points must fall inside runs, or the suite tests nothing.
    assert!(
        landed * 4 >= n,
        "{sink}: only {landed} of {n} kills landed before the run ended ({full:?})"
    );
    eprintln!("{sink}: {landed} of {n} kills landed mid-write");
}

#[test]
fn a_killed_write_into_a_layout_leaves_it_old_or_complete() {
    let images = Images::new();
    let dest = images.path("dest");
    let base = Layout::create(images.path("base")).unwrap();
    let old = Layout::open(images.path("src"))
        .unwrap()
        .image_by_ref("old")
        .unwrap();
    base.write_image(old.as_ref(), Some("old")).unwrap();
    let new_digest = Layout::open(images.path("src"))
        .unwrap()
        .image_by_ref("new")
        .unwrap()
        .digest()
        .unwrap();
    let reset = || {
        let _ = std::fs::remove_dir_all(&dest);
        copy_dir(&images.path("base"), &dest);
    };
    let args = vec![
        "convert".to_owned(),
        format!("oci:{}:new", images.path("src").display()),
        format!("oci:{}:new", dest.display()),
    ];
    let check = |context: &str| {
        let layout = Layout::open(&dest).unwrap_or_else(|e| panic!("{context}: {e}"));
        let refs: BTreeSet<String> = layout
            .index()
            .unwrap()
            .manifests
            .iter()
            .filter_map(|d| d.ref_name().map(str::to_owned))
            .collect();
        assert!(refs.contains("old"), "{context}: `old` is gone: {refs:?}");
        let old = layout.image_by_ref("old").unwrap();
        validate_image(old.as_ref(), ValidateOptions::default())
            .unwrap_or_else(|e| panic!("{context}: old: {e}"));
        if refs.contains("new") {
            let new = layout.image_by_ref("new").unwrap();
            assert_eq!(new.digest().unwrap(), new_digest, "{context}");
            validate_image(new.as_ref(), ValidateOptions::default())
                .unwrap_or_else(|e| panic!("{context}: new is visible but broken: {e}"));
        }
        assert_blobs_whole(&dest, context);
        // The next write completes, and gc leaves only what index.json reaches.
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ocikit(images.dir.path(), &args).ok();
        layout.gc().unwrap();
        let leftovers: Vec<String> = files_under(&dest)
            .into_iter()
            .filter(|f| !f.starts_with("blobs/sha256/") && !is_layout_file(f))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{context}: left behind: {leftovers:?}"
        );
        validate_image(
            layout.image_by_ref("new").unwrap().as_ref(),
            ValidateOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{context}: after the rerun: {e}"));
    };
    kill_points("layout", images.dir.path(), &args, None, &reset, &check);
}

/// The files an OCI layout keeps besides its blobs (its lock files included).
fn is_layout_file(name: &str) -> bool {
    matches!(name, "oci-layout" | "index.json") || name.ends_with(".lock")
}

/// Kills a write of the image into the archive `out/image.tar` (docker-archive or
/// oci-archive: `name(path, which)` names it, `which` being `old` or `new`) that replaces an
/// older one: after each kill the file is the old one or a valid new one, and the next write
/// leaves nothing beside it (what the killed one left, a temporary tar or layout, is removed).
fn archive_kill_points(sink: &str, name: &dyn Fn(&Path, &str) -> String) {
    let images = Images::new();
    let dest = images.path("out/image.tar");
    std::fs::create_dir_all(images.path("out")).unwrap();
    let src = |which: &str| format!("oci:{}:{which}", images.path("src").display());
    ocikit(
        images.dir.path(),
        &["convert", &src("old"), &name(&dest, "old")],
    )
    .ok();
    let old_bytes = std::fs::read(&dest).unwrap();
    let reset = || {
        std::fs::write(&dest, &old_bytes).unwrap();
    };
    let args = vec!["convert".to_owned(), src("new"), name(&dest, "new")];
    let check = |context: &str| {
        let bytes = std::fs::read(&dest).unwrap_or_else(|e| panic!("{context}: {e}"));
        if bytes != old_bytes {
            let verify = ocikit(images.dir.path(), &["verify", &name(&dest, "new")]);
            assert_eq!(
                verify.code, 0,
                "{context}: the archive changed but is not valid: {}",
                verify.stderr
            );
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ocikit(images.dir.path(), &args).ok();
        assert_eq!(
            files_under(&images.path("out")),
            ["image.tar"],
            "{context}: left behind"
        );
    };
    kill_points(sink, images.dir.path(), &args, None, &reset, &check);
}

#[test]
fn a_killed_docker_archive_write_leaves_the_old_file_or_a_valid_new_one() {
    archive_kill_points("docker-archive", &|path, which| {
        format!(
            "docker-archive:{}:example.com/crash/{which}:1",
            path.display()
        )
    });
}

#[test]
fn a_killed_oci_archive_write_leaves_the_old_file_or_a_valid_new_one() {
    archive_kill_points("oci-archive", &|path, which| {
        format!("oci-archive:{}:{which}", path.display())
    });
}

#[test]
fn a_killed_layer_into_a_content_store_leaves_no_torn_blob() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let input = dir.path().join("layer.tar");
    write_tar(&input, 12 << 20);
    let reset = || {
        let _ = std::fs::remove_dir_all(&store);
        std::fs::create_dir_all(&store).unwrap();
    };
    let args = vec![
        "layer".to_owned(),
        "-".to_owned(),
        "--store".to_owned(),
        store.display().to_string(),
    ];
    let check = |context: &str| {
        assert_blobs_whole(&store, context);
        let store_arg = store.display().to_string();
        // gc aborts what the killed writer left; the next write then completes.
        ocikit(dir.path(), &["store", &store_arg, "gc"]).ok();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ocikit_stdin(dir.path(), &args, &std::fs::read(&input).unwrap()).ok();
        let ingests = ocikit(dir.path(), &["store", &store_arg, "ingests"]).ok();
        assert_eq!(
            ingests.stdout.lines().skip(1).count(),
            0,
            "{context}: ingests left: {}",
            ingests.stdout
        );
        // Blobs and their labels are the store; anything else is left over.
        let leftovers: Vec<String> = files_under(&store)
            .into_iter()
            .filter(|f| !f.starts_with("blobs/sha256/") && !f.starts_with("labels/"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{context}: left behind: {leftovers:?}"
        );
        assert_blobs_whole(&store, context);
    };
    kill_points(
        "content store",
        dir.path(),
        &args,
        Some(&input),
        &reset,
        &check,
    );
}

/// A tar of one incompressible file of `size` bytes, made by hand (a ustar header, the data,
/// padding and the two zero blocks).
fn write_tar(path: &Path, size: usize) {
    let mut header = [0u8; 512];
    header[..8].copy_from_slice(b"data.bin");
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    header[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    file.write_all(&header).unwrap();
    let mut rng = Rng(seed() | 1);
    let mut left = size;
    while left > 0 {
        let word = rng.next().to_le_bytes();
        let n = left.min(8);
        file.write_all(&word[..n]).unwrap();
        left -= n;
    }
    let pad = (512 - size % 512) % 512;
    file.write_all(&vec![0u8; pad + 1024]).unwrap();
    file.flush().unwrap();
}

/// Copies a directory tree (files and folders only, as layouts have).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A small tmpfs mounted for one test (root only), unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` (mount's syntax, `6m`) at `path`, or `None` when this process
    /// may not mount (not root, or no mount in this sandbox): the test then says why it skips.
    fn mount(path: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "skipping: cannot mount a small tmpfs (needs root): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        Some(SmallDisk {
            path: path.to_owned(),
        })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[test]
fn a_full_disk_fails_the_write_and_leaves_the_destination_old_and_clean() {
    let images = Images::new();
    let Some(disk) = SmallDisk::mount(&images.path("small"), "6m") else {
        return;
    };
    let src = format!("oci:{}:new", images.path("src").display());

    // A layout holding `old`: the 12 MiB image does not fit.
    let dest = disk.path.join("layout");
    let old = Layout::open(images.path("src"))
        .unwrap()
        .image_by_ref("old")
        .unwrap();
    let layout = Layout::create(&dest).unwrap();
    layout.write_image(old.as_ref(), Some("old")).unwrap();
    let run = ocikit(
        images.dir.path(),
        &["convert", &src, &format!("oci:{}:new", dest.display())],
    )
    .fails(1);
    assert!(
        run.stderr.contains("No space left on device"),
        "the error names the cause: {}",
        run.stderr
    );
    let refs: Vec<String> = layout
        .index()
        .unwrap()
        .manifests
        .iter()
        .filter_map(|d| d.ref_name().map(str::to_owned))
        .collect();
    assert_eq!(refs, ["old"]);
    validate_image(
        layout.image_by_ref("old").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
    assert_blobs_whole(&dest, "layout on a full disk");
    layout.gc().unwrap();
    let leftovers: Vec<String> = files_under(&dest)
        .into_iter()
        .filter(|f| !f.starts_with("blobs/sha256/") && !is_layout_file(f))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
    std::fs::remove_dir_all(&dest).unwrap();

    // A docker archive: the old file stays, nothing is left beside it.
    let archive = disk.path.join("image.tar");
    std::fs::write(&archive, b"the old archive").unwrap();
    let run = ocikit(
        images.dir.path(),
        &[
            "convert",
            &src,
            &format!(
                "docker-archive:{}:example.com/full/disk:1",
                archive.display()
            ),
        ],
    )
    .fails(1);
    assert!(
        run.stderr.contains("No space left on device"),
        "the error names the cause: {}",
        run.stderr
    );
    assert_eq!(std::fs::read(&archive).unwrap(), b"the old archive");
    assert_eq!(files_under(&disk.path), ["image.tar"]);
}

/// Every file under `dir` with its bytes' digest.
fn tree(dir: &Path) -> Vec<(String, Digest)> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let digest = Digest::sha256(&std::fs::read(dir.join(&f)).unwrap());
            (f, digest)
        })
        .collect()
}

#[test]
fn a_killed_dir_write_leaves_the_old_copy_or_a_valid_new_one() {
    let images = Images::new();
    let out = images.path("out");
    let dest = out.join("image");
    std::fs::create_dir_all(&out).unwrap();
    ocikit(
        images.dir.path(),
        &[
            "convert",
            &format!("oci:{}:old", images.path("src").display()),
            &format!("dir:{}", dest.display()),
        ],
    )
    .ok();
    let old = tree(&dest);
    let old_copy = images.path("old-dir");
    copy_dir(&dest, &old_copy);
    let reset = || {
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        copy_dir(&old_copy, &dest);
    };
    let args = vec![
        "convert".to_owned(),
        format!("oci:{}:new", images.path("src").display()),
        format!("dir:{}", dest.display()),
    ];
    let check = |context: &str| {
        assert!(dest.is_dir(), "{context}: the destination is gone");
        if tree(&dest) != old {
            let verify = ocikit(
                images.dir.path(),
                &["verify", &format!("dir:{}", dest.display())],
            );
            assert_eq!(
                verify.code, 0,
                "{context}: the copy changed but is not valid: {}",
                verify.stderr
            );
        }
        // The next write completes and removes what the killed one left beside the copy.
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ocikit(images.dir.path(), &args).ok();
        let beside: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(beside, ["image"], "{context}: left behind");
    };
    kill_points("dir", images.dir.path(), &args, None, &reset, &check);
}

#[test]
fn a_killed_unpack_leaves_no_directory_or_the_whole_tree() {
    let images = Images::new();
    let out = images.path("out");
    let dest = out.join("rootfs");
    let args = vec![
        "unpack".to_owned(),
        "--rootless".to_owned(),
        format!("oci:{}:new", images.path("src").display()),
        dest.display().to_string(),
    ];
    let reset = || {
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
    };
    reset();
    let plain: Vec<&str> = args.iter().map(String::as_str).collect();
    ocikit(images.dir.path(), &plain).ok();
    let whole = tree(&dest);
    assert!(!whole.is_empty());
    let check = |context: &str| {
        if dest.exists() {
            assert!(
                tree(&dest) == whole,
                "{context}: the destination is visible but not the whole image"
            );
        } else {
            // The next unpack completes, and removes the killed one's temporary directory.
            ocikit(images.dir.path(), &plain).ok();
            assert!(tree(&dest) == whole, "{context}: after the rerun");
        }
        let beside: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(beside, ["rootfs"], "{context}: left behind");
    };
    kill_points("unpack", images.dir.path(), &args, None, &reset, &check);
}

#[test]
fn a_full_disk_fails_oci_archive_dir_and_unpack_and_leaves_the_old_state() {
    let images = Images::new();
    let Some(disk) = SmallDisk::mount(&images.path("small"), "6m") else {
        return;
    };
    let src = format!("oci:{}:new", images.path("src").display());
    let old = format!("oci:{}:old", images.path("src").display());
    let full = |args: &[&str]| {
        let run = ocikit(images.dir.path(), args).fails(1);
        assert!(
            run.stderr.contains("No space left on device"),
            "{args:?}: the error names the cause: {}",
            run.stderr
        );
    };

    // An OCI archive: the old file stays, nothing is left beside it.
    let archive = disk.path.join("image.tar");
    std::fs::write(&archive, b"the old archive").unwrap();
    full(&[
        "convert",
        &src,
        &format!("oci-archive:{}:new", archive.display()),
    ]);
    assert_eq!(std::fs::read(&archive).unwrap(), b"the old archive");
    assert_eq!(files_under(&disk.path), ["image.tar"]);
    std::fs::remove_file(&archive).unwrap();

    // A dir: copy: the old copy stays whole.
    let dir = disk.path.join("copy");
    ocikit(
        images.dir.path(),
        &["convert", &old, &format!("dir:{}", dir.display())],
    )
    .ok();
    let before = tree(&dir);
    full(&["convert", &src, &format!("dir:{}", dir.display())]);
    assert!(tree(&dir) == before, "the old dir: copy changed");
    let beside: Vec<String> = std::fs::read_dir(&disk.path)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["copy"]);
    std::fs::remove_dir_all(&dir).unwrap();

    // An unpack: no destination, no temporary directory.
    let rootfs = disk.path.join("rootfs");
    full(&["unpack", "--rootless", &src, &rootfs.display().to_string()]);
    let left: Vec<_> = std::fs::read_dir(&disk.path).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
