//! The GPU's own energy counter through NVML (`nvmlDeviceGetTotalEnergyConsumption`, Volta and
//! newer). NVML ships with the driver and is loaded at run time, so a machine without it only
//! loses the energy figures, with the reason recorded.

use nvml_wrapper::Nvml;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use tensorbench_core::energy::EnergyMeter;

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
    pub fn open(pci_bus_id: Option<String>) -> Result<Arc<Self>, String> {
        let pci_bus_id =
            pci_bus_id.ok_or("the CUDA driver did not report the device's PCI bus id")?;
        let nvml = catch_unwind(Nvml::init)
            .map_err(|_| "NVML panicked while loading".to_string())?
            .map_err(|e| {
                format!("NVML unavailable ({e}): libnvidia-ml.so comes with the driver")
            })?;
        let this = Self { nvml, pci_bus_id };
        this.millijoules()?;
        Ok(Arc::new(this))
    }

    fn millijoules(&self) -> Result<u64, String> {
        let read = || {
            let device = self.nvml.device_by_pci_bus_id(self.pci_bus_id.as_str())?;
            device.total_energy_consumption()
        };
        catch_unwind(AssertUnwindSafe(read))
            .map_err(|_| "NVML panicked reading the energy counter".to_string())?
            .map_err(|e| format!("NVML energy counter of {}: {e}", self.pci_bus_id))
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

    fn joules(&mut self) -> Result<f64, String> {
        let now = self.energy.millijoules()?;
        let start = *self.start_mj.get_or_insert(now);
        Ok(now.saturating_sub(start) as f64 * 1e-3)
    }

    fn min_window_s(&self) -> f64 {
        NVML_MIN_WINDOW_S
    }
}
