//! What a backend contributes once, where it registers its workloads: the clock samples are read
//! from, the energy counter read around the sampling loop, the cache flush of cold mode and the
//! facts every measurement on it records. A workload is the op alone; the device it runs on is
//! given at registration (`suite.on(device).add(workload)`).

use crate::Result;
use crate::clock::{Clock, HostClock};
use crate::energy::{self, EnergyMeter};
use crate::workload::CacheFlusher;
use std::collections::BTreeMap;

/// An energy counter, or why this device has none that describes its work (usually
/// [`crate::Error::Unavailable`], whose text becomes the measurement's energy reason).
pub type MeterResult = Result<Box<dyn EnergyMeter>>;

/// Where workloads run. Every method has the host's behaviour as its default, so the host CPU is
/// `HostCpu` with nothing overridden.
pub trait Device: Send + Sync {
    /// The clock a sample is read from. The host's monotonic clock unless the device has its own
    /// (CUDA events, wgpu timestamp queries, `MPI_Wtime`, `performance.now()`).
    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(HostClock::new()))
    }

    /// The energy counter read around the sampling loop: the host's RAPL by default. Device
    /// backends return their own counter (NVML) or the reason they have none; the host's package
    /// energy does not describe work done on a device.
    fn energy_meter(&self) -> MeterResult {
        energy::host_meter()
    }

    /// Evicts the caches a cold sample must start from. The default writes over a host buffer
    /// larger than the last-level cache; a GPU flushes its L2 instead.
    fn flush_caches(&self, host: &mut CacheFlusher) -> Result<()> {
        host.flush();
        Ok(())
    }

    /// Facts every measurement on this device records in `extra` (device name, driver, ...).
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::new()
    }
}

/// The host CPU: host clock, RAPL, host cache flush.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostCpu;

impl Device for HostCpu {}
