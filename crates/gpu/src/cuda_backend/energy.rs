//! The GPU's own energy counter through NVML (`nvmlDeviceGetTotalEnergyConsumption`, Volta and
//! newer). NVML ships with the driver and is loaded at run time, so a machine without it only
//! loses the energy figures, with the reason recorded.

use nvml_wrapper::Nvml;
use nvml_wrapper::bitmasks::device::ThrottleReasons;
use nvml_wrapper::enum_wrappers::device::Clock;
use serde_json::Value;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tensorbench_core::energy::EnergyMeter;

use crate::Error;

/// What [`Error::Unavailable`] names for NVML's failures.
const NVML: &str = "NVML";

fn nvml_unavailable(reason: impl Into<String>) -> Error {
    Error::unavailable(NVML, reason)
}

/// NVML updates the counter every 20–100 ms on recent GPUs: shorter loops would be mostly
/// quantisation.
const NVML_MIN_WINDOW_S: f64 = 0.5;

/// NVML opened once per process, with the device's PCI bus id to find its handle by.
pub struct NvmlEnergy {
    nvml: Nvml,
    pci_bus_id: String,
}

impl std::fmt::Debug for NvmlEnergy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NvmlEnergy")
            .field("pci_bus_id", &self.pci_bus_id)
            .finish_non_exhaustive()
    }
}

impl NvmlEnergy {
    /// Opens NVML and checks the device at `pci_bus_id` has an energy counter.
    pub fn open(pci_bus_id: Option<String>) -> Result<Arc<Self>, Error> {
        let pci_bus_id = pci_bus_id.ok_or_else(|| {
            nvml_unavailable("the CUDA driver did not report the device's PCI bus id")
        })?;
        let nvml = catch_unwind(Nvml::init)
            .map_err(|_| nvml_unavailable("NVML panicked while loading"))?
            .map_err(|e| {
                nvml_unavailable(format!(
                    "NVML unavailable ({e}): libnvidia-ml.so comes with the driver"
                ))
            })?;
        let this = Self { nvml, pci_bus_id };
        this.millijoules()?;
        Ok(Arc::new(this))
    }

    fn millijoules(&self) -> Result<u64, Error> {
        let read = || {
            let device = self.nvml.device_by_pci_bus_id(self.pci_bus_id.as_str())?;
            device.total_energy_consumption()
        };
        catch_unwind(AssertUnwindSafe(read))
            .map_err(|_| nvml_unavailable("NVML panicked reading the energy counter"))?
            .map_err(|e| {
                nvml_unavailable(format!("NVML energy counter of {}: {e}", self.pci_bus_id))
            })
    }
}

/// One sampling loop's reader of the shared NVML handle.
pub struct NvmlMeter {
    energy: Arc<NvmlEnergy>,
    gpu_name: String,
    start_mj: Option<u64>,
}

impl NvmlMeter {
    pub fn new(energy: Arc<NvmlEnergy>, gpu_name: &str) -> Self {
        Self {
            energy,
            gpu_name: gpu_name.to_string(),
            start_mj: None,
        }
    }
}

impl EnergyMeter for NvmlMeter {
    fn source(&self) -> String {
        format!("nvml:{} ({})", self.gpu_name, self.energy.pci_bus_id)
    }

    fn joules(&mut self) -> tensorbench_core::Result<f64> {
        let now = self.energy.millijoules()?;
        let start = *self.start_mj.get_or_insert(now);
        Ok(now.saturating_sub(start) as f64 * 1e-3)
    }

    fn min_window_s(&self) -> f64 {
        NVML_MIN_WINDOW_S
    }
}

/// The clocks and throttle reasons NVML reports now, as measurement `extra` fields: `sm_clock_mhz`,
/// `memory_clock_mhz`, `throttle_reasons` (names) and `throttled` (true when a reason that lowers
/// clocks under load is active: power cap, thermal or hardware slowdown — nvbench's rule; idle,
/// application clocks and sync boost do not count). Why not, when NVML cannot say.
pub fn clock_extra(energy: &Result<Arc<NvmlEnergy>, Error>) -> BTreeMap<String, Value> {
    let read = || -> Result<BTreeMap<String, Value>, Error> {
        let e = energy.as_ref().map_err(Clone::clone)?;
        let get = || {
            let d = e.nvml.device_by_pci_bus_id(e.pci_bus_id.as_str())?;
            Ok::<_, nvml_wrapper::error::NvmlError>((
                d.clock_info(Clock::SM)?,
                d.clock_info(Clock::Memory)?,
                d.current_throttle_reasons()?,
            ))
        };
        let (sm, mem, reasons) = catch_unwind(AssertUnwindSafe(get))
            .map_err(|_| nvml_unavailable("NVML panicked reading clocks"))?
            .map_err(|err| nvml_unavailable(format!("NVML clocks of {}: {err}", e.pci_bus_id)))?;
        let names: Vec<Value> = reasons
            .iter_names()
            .map(|(n, _)| n.to_lowercase().into())
            .collect();
        Ok(BTreeMap::from([
            ("sm_clock_mhz".to_string(), sm.into()),
            ("memory_clock_mhz".into(), mem.into()),
            ("throttle_reasons".into(), names.into()),
            ("throttled".into(), is_throttled(reasons).into()),
        ]))
    };
    read().unwrap_or_else(|why| {
        BTreeMap::from([("clocks_unavailable".to_string(), why.to_string().into())])
    })
}

/// Whether `r` holds a reason that lowers the clocks under load.
pub fn is_throttled(r: ThrottleReasons) -> bool {
    r.intersects(
        ThrottleReasons::SW_POWER_CAP
            | ThrottleReasons::HW_SLOWDOWN
            | ThrottleReasons::SW_THERMAL_SLOWDOWN
            | ThrottleReasons::HW_THERMAL_SLOWDOWN
            | ThrottleReasons::HW_POWER_BRAKE_SLOWDOWN,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_and_boost_are_not_throttling_power_and_heat_are() {
        assert!(!is_throttled(
            ThrottleReasons::GPU_IDLE | ThrottleReasons::SYNC_BOOST
        ));
        assert!(!is_throttled(ThrottleReasons::APPLICATIONS_CLOCKS_SETTING));
        assert!(is_throttled(ThrottleReasons::SW_POWER_CAP));
        assert!(is_throttled(
            ThrottleReasons::HW_THERMAL_SLOWDOWN | ThrottleReasons::GPU_IDLE
        ));
    }

    #[test]
    fn without_nvml_the_reason_is_recorded() {
        let e = clock_extra(&Err(nvml_unavailable("no NVML here")));
        assert_eq!(e["clocks_unavailable"], "no NVML here");
        assert!(!e.contains_key("throttled"));
    }
}
