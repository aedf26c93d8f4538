//! SIGINT/SIGTERM handling: the first signal asks the run to stop after writing what it has (the
//! sampler checks between samples); a second one exits at once. The stream on disk is valid
//! either way.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
#[cfg_attr(target_arch = "wasm32", allow(dead_code))] // no signals there
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// Installs the handler once per process; later calls are no-ops.
pub(crate) fn install() {
    #[cfg(not(target_arch = "wasm32"))]
    let _ = ctrlc::set_handler(|| {
        REQUESTED.store(true, Ordering::SeqCst);
        if SIGNALS.fetch_add(1, Ordering::SeqCst) >= 1 {
            eprintln!("second interrupt: exiting now; finished measurements are on disk");
            // `exit` runs no destructor: stop the children (Node, Chromium) here.
            #[cfg(unix)]
            crate::child::signal_all(libc::SIGKILL);
            std::process::exit(i32::from(crate::options::exit::INTERRUPTED));
        }
        eprintln!("interrupt: finishing the run file (press again to exit now)");
    });
}

/// Whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Asks the run to stop, as a signal would (for embedding and tests).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}
