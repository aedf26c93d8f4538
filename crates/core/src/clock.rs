//! Where time is read. The sampler only ever talks to a [`Clock`]; backends bring their own
//! (CUDA events, wgpu timestamp queries, `performance.now()`, `MPI_Wtime`) without touching it.

use crate::Result;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Which clock produced a measurement's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSource {
    Host,
    CudaEvent,
    WgpuTimestamp,
    PerformanceNow,
    MpiWtime,
    /// A scripted clock, used by tests of the sampler only.
    Fake,
}

/// A stopwatch over a batch of calls. `start` marks the beginning of a batch; `stop` waits until
/// all work issued since `start` has completed and returns the elapsed nanoseconds.
pub trait Clock {
    fn source(&self) -> ClockSource;
    /// Smallest interval this clock can tell apart, in nanoseconds, as measured on this machine.
    fn resolution_ns(&self) -> f64;
    fn start(&mut self) -> Result<()>;
    fn stop(&mut self) -> Result<f64>;
}

/// The host's monotonic clock (`std::time::Instant`).
#[derive(Debug)]
pub struct HostClock {
    started: Option<Instant>,
    resolution_ns: f64,
}

impl HostClock {
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
pub fn measure_instant_resolution_ns() -> f64 {
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
