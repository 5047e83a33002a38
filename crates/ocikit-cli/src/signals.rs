//! SIGINT and SIGTERM: the first sets the flag a copy watches (it stops, removes its
//! temporary files and fails with "cancelled"); a second one exits at once, after removing
//! the temporary files of copies under way.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The flag set by SIGINT or SIGTERM, the handlers installed on first use.
pub(crate) fn cancel_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM] {
            // A second signal while the flag is set: exit with 130 (the handler only calls
            // async-signal-safe code; temporaries are then left for the next write's cleanup).
            let _ =
                signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag));
            let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
        }
        flag
    }))
}
