//! Work on several layers at once: the one "N at a time, stop at the first error" loop that
//! every sink writing layers uses.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// Runs `work` on every item, `jobs` at a time, in scoped threads that take the next item as
/// they finish one. The first error stops new items from starting and is returned once the
/// running ones end; later errors are dropped. With one job or one item, it runs in the
/// calling thread.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let sum = AtomicUsize::new(0);
/// oci_partial::for_each_parallel(&[1, 2, 3, 4], 2, |n: &usize| {
///     sum.fetch_add(*n, Ordering::Relaxed);
///     Ok::<(), String>(())
/// })
/// .unwrap();
/// assert_eq!(sum.into_inner(), 10);
///
/// let err = oci_partial::for_each_parallel(&[1, 2, 3], 2, |n: &usize| {
///     if *n == 2 { Err(format!("item {n}")) } else { Ok(()) }
/// });
/// assert_eq!(err, Err("item 2".to_owned()));
/// ```
///
/// # Errors
///
/// The first error `work` returned.
pub fn for_each_parallel<T, E, F>(items: &[T], jobs: usize, work: F) -> Result<(), E>
where
    T: Sync,
    E: Send,
    F: Fn(&T) -> Result<(), E> + Sync,
{
    let jobs = jobs.min(items.len());
    if jobs <= 1 {
        return items.iter().try_for_each(work);
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<E>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { return };
                if let Err(e) = work(item) {
                    failed.store(true, Ordering::Relaxed);
                    first_error
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(e);
                    return;
                }
            });
        }
    });
    match first_error
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
