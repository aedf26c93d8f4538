//! Where time is read. The sampler only ever talks to a [`Clock`]; backends bring their own
//! (CUDA events, wgpu timestamp queries, `performance.now()`, `MPI_Wtime`) without touching it.

use crate::Result;
use std::time::Instant;

/// Which clock produced a measurement's samples; part of the run-file schema.
pub use tensorbench_schema::schema::ClockSource;

/// A stopwatch over a batch of calls. `start` marks the beginning of a batch; `stop` waits until
/// all work issued since `start` has completed and returns the elapsed nanoseconds.
pub trait Clock {
    /// Which clock this is, recorded in each measurement's `sampling.clock_source`.
    fn source(&self) -> ClockSource;
    /// Smallest interval this clock can tell apart, in nanoseconds, as measured on this machine.
    fn resolution_ns(&self) -> f64;
    /// Marks the beginning of a batch.
    fn start(&mut self) -> Result<()>;
    /// Waits for the work issued since `start` and returns the elapsed nanoseconds.
    fn stop(&mut self) -> Result<f64>;
}

/// The host's monotonic clock (`std::time::Instant`).
#[derive(Debug)]
pub struct HostClock {
    started: Option<Instant>,
    resolution_ns: f64,
}

impl HostClock {
    /// A host clock, its resolution measured now.
    pub fn new() -> Self {
        Self {
            started: None,
            resolution_ns: measure_instant_resolution_ns(),
        }
    }
}

impl Default for HostClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for HostClock {
    fn source(&self) -> ClockSource {
        ClockSource::Host
    }
    fn resolution_ns(&self) -> f64 {
        self.resolution_ns
    }
    fn start(&mut self) -> Result<()> {
        self.started = Some(Instant::now());
        Ok(())
    }
    fn stop(&mut self) -> Result<f64> {
        let started = self.started.take().ok_or_else(|| crate::Error::Clock {
            clock: "host".into(),
            reason: "stop() without start()".into(),
        })?;
        Ok(started.elapsed().as_nanos() as f64)
    }
}

/// The smallest non-zero step between successive `Instant::now()` readings (median of many),
/// which also covers the cost of reading the clock itself.
pub(crate) fn measure_instant_resolution_ns() -> f64 {
    let mut steps: Vec<f64> = (0..201)
        .map(|_| {
            let a = Instant::now();
            let mut b = Instant::now();
            while b == a {
                b = Instant::now();
            }
            (b - a).as_nanos() as f64
        })
        .collect();
    steps.sort_by(f64::total_cmp);
    steps[steps.len() / 2].max(1.0)
}

/// Wall-clock time since a start, for the sampler's caps. On wasm32-unknown-unknown std has no
/// clock (`Instant::now` panics there): the timer reads nothing, and the caps rely on the timed
/// total, which is wall time under that target's `performance.now()` clock anyway.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WallTimer {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    started: Instant,
}

impl WallTimer {
    pub(crate) fn start() -> Self {
        Self {
            #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
            started: Instant::now(),
        }
    }

    /// Elapsed time; zero where the target has no wall clock.
    pub(crate) fn elapsed(&self) -> std::time::Duration {
        self.elapsed_s().map_or(
            std::time::Duration::ZERO,
            std::time::Duration::from_secs_f64,
        )
    }

    /// Elapsed seconds, or `None` where the target has no wall clock.
    pub(crate) fn elapsed_s(&self) -> Option<f64> {
        #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
        return Some(self.started.elapsed().as_secs_f64());
        #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
        None
    }
}
