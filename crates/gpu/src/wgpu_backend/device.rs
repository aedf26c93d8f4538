//! The wgpu adapter as the sampler sees it: which clock reads a sample, no energy counter, and
//! the adapter's facts on every measurement.

use super::NO_ENERGY_COUNTER;
use super::clock::{SubmitWaitClock, device_clock};
use super::context::WgpuContext;
use std::collections::BTreeMap;
use std::sync::Arc;
use tensorbench_core::device::{Device, MeterResult};
use tensorbench_core::{Clock, Error, Result};

/// How a sample's time is read on the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Timestamp queries inside the encoders where the adapter has them (else host time around
    /// submit-and-wait): what kernels and device copies take.
    Device,
    /// Host time around submit-and-wait: transfers include wgpu's CPU-side staging, which no
    /// device timestamp sees.
    SubmitWait,
}

/// One adapter with one way of timing.
pub struct WgpuDevice {
    pub ctx: Arc<WgpuContext>,
    pub timing: Timing,
}

impl Device for WgpuDevice {
    fn clock(&self) -> Result<Box<dyn Clock>> {
        match self.timing {
            Timing::Device => device_clock(&self.ctx),
            Timing::SubmitWait => Ok(Box::new(SubmitWaitClock::new(self.ctx.clone())?)),
        }
    }

    fn energy_meter(&self) -> MeterResult {
        Err(Error::unavailable("energy counter", NO_ENERGY_COUNTER))
    }

    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        self.ctx.extra()
    }
}
