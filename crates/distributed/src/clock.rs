//! `MPI_Wtime` with a max over ranks: the time of a batch is the time of its slowest rank, and
//! every rank reads the very same number, so the one sampler makes the same decisions everywhere.

use crate::{comm, watchdog};
use mpi::traits::*;
use tensorbench_core::device::{Device, MeterResult};
use tensorbench_core::{Clock, ClockSource, Error, Result};

/// Every rank's host as a collective runs on it: timed by [`MpiClock`]; no energy counter.
#[derive(Debug, Clone, Copy, Default)]
pub struct MpiDevice;

impl Device for MpiDevice {
    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(MpiClock::new()))
    }

    fn energy_meter(&self) -> MeterResult {
        Err(Error::unavailable(
            "energy counter",
            crate::NO_PER_RANK_ENERGY,
        ))
    }
}

/// A [`Clock`] for collective workloads. `start` is a barrier then `MPI_Wtime`; `stop` reads
/// `MPI_Wtime` and all-reduces the elapsed time with MAX, so it returns the slowest rank's time,
/// bit-identical on every rank. Both are collective: every rank must call them in step.
#[derive(Debug)]
pub struct MpiClock {
    started: Option<f64>,
    resolution_ns: f64,
}

impl MpiClock {
    /// Collective: agrees on the resolution (the coarsest rank's) so batch sizes agree too.
    pub fn new() -> Self {
        let local = (mpi::time_resolution() * 1e9).max(measure_wtime_step_ns());
        Self {
            started: None,
            resolution_ns: comm::max_f64(local),
        }
    }
}

impl Default for MpiClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MpiClock {
    fn source(&self) -> ClockSource {
        ClockSource::MpiWtime
    }

    fn resolution_ns(&self) -> f64 {
        self.resolution_ns
    }

    fn start(&mut self) -> Result<()> {
        comm::world().barrier();
        self.started = Some(mpi::time());
        Ok(())
    }

    fn stop(&mut self) -> Result<f64> {
        let now = mpi::time();
        let started = self
            .started
            .take()
            .ok_or_else(|| tensorbench_core::Error::Clock {
                clock: "mpi_wtime".into(),
                reason: "stop() without start()".into(),
            })?;
        let slowest = comm::max_f64((now - started) * 1e9);
        watchdog::beat();
        Ok(slowest)
    }
}

/// Median of the smallest non-zero steps between successive `MPI_Wtime` readings.
fn measure_wtime_step_ns() -> f64 {
    let mut steps: Vec<f64> = (0..101)
        .map(|_| {
            let a = mpi::time();
            let mut b = mpi::time();
            while b == a {
                b = mpi::time();
            }
            (b - a) * 1e9
        })
        .collect();
    steps.sort_by(f64::total_cmp);
    steps[steps.len() / 2].max(1.0)
}
