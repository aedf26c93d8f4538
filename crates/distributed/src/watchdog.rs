//! No rank hangs: a thread per rank watches for progress (a finished timed batch, a new
//! workload) and aborts the whole job, naming the rank and the workload, when there is none for
//! longer than the timeout. A rank waiting in a collective that another rank never joins is
//! thereby turned into a clean failure instead of a job that never ends.

use crate::comm;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

struct State {
    who: String,
    workload: String,
    last_progress: Instant,
}

static STATE: OnceLock<Mutex<State>> = OnceLock::new();

/// Starts the watchdog of this process (once; later calls are ignored). `who` names the rank in
/// the abort message.
pub fn start(who: String, timeout: Duration) {
    let state = Mutex::new(State {
        who,
        workload: "start-up".into(),
        last_progress: Instant::now(),
    });
    if STATE.set(state).is_err() {
        return;
    }
    let poll = (timeout / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    std::thread::Builder::new()
        .name("tensorbench-watchdog".into())
        .spawn(move || watch(timeout, poll))
        .expect("spawning the watchdog thread");
}

fn watch(timeout: Duration, poll: Duration) {
    loop {
        std::thread::sleep(poll);
        let Some(state) = STATE.get() else { return };
        let stalled = {
            let s = state.lock().unwrap_or_else(|e| e.into_inner());
            (s.last_progress.elapsed() > timeout).then(|| (s.who.clone(), s.workload.clone()))
        };
        if let Some((who, workload)) = stalled {
            comm::abort_job(&format!(
                "{who}: no progress in workload {workload} for {:.0} s (another rank failed, hung \
                 or took a different path); aborting the job. Raise --rank-timeout if a single \
                 step is legitimately this slow.",
                timeout.as_secs_f64()
            ));
        }
    }
}

/// Marks the start of `workload` (and counts as progress).
pub fn begin(workload: &str) {
    if let Some(state) = STATE.get() {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.workload = workload.to_string();
        s.last_progress = Instant::now();
    }
}

/// Records progress within the current workload.
pub fn beat() {
    if let Some(state) = STATE.get() {
        state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last_progress = Instant::now();
    }
}
