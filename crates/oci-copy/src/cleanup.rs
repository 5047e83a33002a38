//! Temporary paths of copies under way, so that a signal handler can remove them before the
//! process exits ([`remove_temporaries`]).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

static TEMPORARIES: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

pub(crate) fn register(path: &Path) {
    let mut t = TEMPORARIES.lock().unwrap_or_else(PoisonError::into_inner);
    t.get_or_insert_with(HashSet::new).insert(path.to_owned());
}

pub(crate) fn unregister(path: &Path) {
    let mut t = TEMPORARIES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(set) = t.as_mut() {
        set.remove(path);
    }
}

/// Removes every temporary file and directory of the copies under way in this process (each
/// is also removed by its copy when it fails or is dropped). For a handler that must exit
/// at once, for a second SIGINT: the first should set [`CopyOptions::cancel`] and let the
/// copy clean up itself.
///
/// [`CopyOptions::cancel`]: crate::CopyOptions::cancel
pub fn remove_temporaries() {
    let paths: Vec<PathBuf> = {
        let mut t = TEMPORARIES.lock().unwrap_or_else(PoisonError::into_inner);
        t.take()
            .map(|s| s.into_iter().collect())
            .unwrap_or_default()
    };
    for p in paths {
        if p.is_dir() {
            let _ = fs::remove_dir_all(&p);
        } else {
            let _ = fs::remove_file(&p);
        }
    }
}

/// Removes what killed copies left beside `path` (`.NAME.ocikit-PID-*.tmp` whose process is
/// gone), before a new write there.
pub(crate) fn remove_stale_beside(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{name}.ocikit-");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        // The archive writer's own temporary file beside ours starts with one more dot.
        let Some(rest) = file
            .strip_prefix(&prefix)
            .or_else(|| file.strip_prefix('.').and_then(|f| f.strip_prefix(&prefix)))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !file.ends_with(".tmp") || process_alive(pid) {
            continue;
        }
        let p = entry.path();
        if p.is_dir() {
            let _ = fs::remove_dir_all(&p);
        } else {
            let _ = fs::remove_file(&p);
        }
    }
}

/// Whether a process of this id runs (Linux: `/proc/PID`); true when it cannot be told.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}
