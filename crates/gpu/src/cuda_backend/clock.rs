//! Device time from CUDA events recorded on the workload's stream.

use super::device::CudaGpu;
use cudarc::driver::CudaEvent;
use cudarc::driver::sys::CUevent_flags;
use std::sync::Arc;
use tensorbench_core::{Clock, ClockSource, Error, Result};

/// `start` records an event on the stream, `stop` records a second one after everything issued
/// in between and waits for it.
pub struct EventClock {
    gpu: Arc<CudaGpu>,
    start: CudaEvent,
    end: CudaEvent,
    started: bool,
    resolution_ns: f64,
}

impl EventClock {
    /// Creates the events and measures the clock's floor: the median of empty intervals.
    pub fn new(gpu: Arc<CudaGpu>) -> Result<Self> {
        let event = || {
            gpu.ctx
                .new_event(Some(CUevent_flags::CU_EVENT_DEFAULT))
                .map_err(|e| clock_error(e.to_string()))
        };
        let mut clock = Self {
            start: event()?,
            end: event()?,
            gpu: gpu.clone(),
            started: false,
            resolution_ns: 1.0,
        };
        let mut empty = (0..21)
            .map(|_| {
                clock.start()?;
                clock.stop()
            })
            .collect::<Result<Vec<f64>>>()?;
        empty.sort_by(f64::total_cmp);
        clock.resolution_ns = empty[empty.len() / 2].max(1.0);
        Ok(clock)
    }
}

fn clock_error(reason: impl Into<String>) -> Error {
    Error::Clock {
        clock: "cuda event".into(),
        reason: reason.into(),
    }
}

impl Clock for EventClock {
    fn source(&self) -> ClockSource {
        ClockSource::CudaEvent
    }

    fn resolution_ns(&self) -> f64 {
        self.resolution_ns
    }

    fn start(&mut self) -> Result<()> {
        self.start
            .record(&self.gpu.stream)
            .map_err(|e| clock_error(e.to_string()))?;
        self.started = true;
        Ok(())
    }

    fn stop(&mut self) -> Result<f64> {
        if !std::mem::take(&mut self.started) {
            return Err(clock_error("stop() without start()"));
        }
        self.end
            .record(&self.gpu.stream)
            .map_err(|e| clock_error(e.to_string()))?;
        // elapsed_ms waits for both events.
        let ms = self
            .start
            .elapsed_ms(&self.end)
            .map_err(|e| clock_error(e.to_string()))?;
        Ok(f64::from(ms) * 1e6)
    }
}
