//! `oci_types::fs`: the atomic replace every crate commits its small files with.

use oci_types::fs::{replace_file, FsOp};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("oci-types-fs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn replace_file_replaces_and_leaves_no_temporary() {
    let dir = temp_dir("replace");
    let target = dir.join("index.json");
    std::fs::write(&target, b"old").unwrap();
    replace_file(&dir.join("index.json.tmp"), &target, b"new").unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["index.json"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replace_file_names_the_failed_step() {
    let dir = temp_dir("missing");
    let missing = dir.join("no-such-dir");
    let e = replace_file(&missing.join("f.tmp"), &missing.join("f"), b"x").unwrap_err();
    assert_eq!(e.op, FsOp::Create);
    assert_eq!(e.path, missing.join("f.tmp"));
    assert_eq!(e.source.kind(), std::io::ErrorKind::NotFound);

    // A rename over a directory fails and takes the temporary file away.
    std::fs::create_dir(dir.join("target")).unwrap();
    std::fs::write(dir.join("target/inside"), b"").unwrap();
    let e = replace_file(&dir.join("t.tmp"), &dir.join("target"), b"x").unwrap_err();
    assert_eq!(e.op, FsOp::Rename);
    assert!(!dir.join("t.tmp").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
