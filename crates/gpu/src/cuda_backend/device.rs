//! Finding and opening the CUDA device: libraries probed before any call (cudarc panics when a
//! library it needs is missing), a panic still caught as a second guard, device facts read once.

use super::clock::EventClock;
use super::energy::{NvmlEnergy, NvmlMeter};
use cudarc::driver::sys::CUdevice_attribute as Attr;
use cudarc::driver::{CudaContext, CudaModule, CudaSlice, CudaStream};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use tensorbench_core::device::{Device, MeterResult};
use tensorbench_core::schema::GpuInfo;
use tensorbench_core::workload::CacheFlusher;
use tensorbench_core::{Clock, Error, Result};

/// What the run records about the device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    pub name: String,
    pub compute_capability: (i32, i32),
    pub sm_count: i32,
    pub memory_bytes: usize,
    pub l2_bytes: usize,
    /// `cuDriverGetVersion`, e.g. 13000 for CUDA 13.0.
    pub driver_version: Option<i32>,
    /// Maximum SM and memory clocks the driver reports (kHz); `None` where it no longer does.
    pub sm_clock_khz: Option<i32>,
    pub memory_clock_khz: Option<i32>,
    /// `DDDDDDDD:BB:DD.0`, how NVML finds the same device.
    pub pci_bus_id: Option<String>,
}

impl DeviceInfo {
    /// `13.0` from 13000.
    pub fn driver_string(&self) -> Option<String> {
        self.driver_version
            .map(|v| format!("CUDA {}.{}", v / 1000, (v % 1000) / 10))
    }

    /// The facts every CUDA measurement records.
    pub fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let (major, minor) = self.compute_capability;
        let mut m = BTreeMap::from([
            ("gpu".to_string(), self.name.clone().into()),
            (
                "compute_capability".into(),
                format!("{major}.{minor}").into(),
            ),
            ("sm_count".into(), self.sm_count.into()),
            ("memory_bytes".into(), (self.memory_bytes as u64).into()),
            ("l2_bytes".into(), (self.l2_bytes as u64).into()),
        ]);
        let optional = [
            ("driver", self.driver_string().map(Into::into)),
            ("sm_clock_max_khz", self.sm_clock_khz.map(Into::into)),
            (
                "memory_clock_max_khz",
                self.memory_clock_khz.map(Into::into),
            ),
        ];
        m.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
        );
        m
    }

    pub fn gpu_info(&self) -> GpuInfo {
        GpuInfo {
            name: self.name.clone(),
            backend: "cuda".into(),
            device_type: Some("DiscreteGpu".into()),
            driver: self.driver_string(),
            extra: self.extra(),
        }
    }
}

/// The device every CUDA workload shares: context, one stream, our NVRTC kernels (when NVRTC
/// is there), and an L2-sized buffer for cold-mode flushes.
pub struct CudaGpu {
    pub ctx: Arc<CudaContext>,
    pub stream: Arc<CudaStream>,
    pub info: DeviceInfo,
    /// Our kernels, or why they could not be built.
    pub kernels: std::result::Result<Arc<CudaModule>, crate::Error>,
    /// Whether cuBLAS can be loaded, or why not.
    pub cublas: std::result::Result<(), crate::Error>,
    /// The device's energy counter, or why it cannot be read.
    pub energy: std::result::Result<Arc<NvmlEnergy>, crate::Error>,
    flush: Mutex<Option<CudaSlice<u8>>>,
}

impl std::fmt::Debug for CudaGpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaGpu").field("info", &self.info).finish()
    }
}

/// Probes the driver library, then opens device 0. `Err` says why CUDA cannot run here.
pub fn open() -> std::result::Result<Arc<CudaGpu>, crate::Error> {
    // SAFETY: only tries to dlopen the driver library by its known names.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(no_cuda(
            "no CUDA driver: libcuda.so not found (install the NVIDIA driver)".into(),
        ));
    }
    catch_unwind(AssertUnwindSafe(open_device)).unwrap_or_else(|p| {
        Err(no_cuda(format!(
            "the CUDA driver panicked while opening: {}",
            tensorbench_core::suite::panic_message(p.as_ref())
        )))
    })
}

fn no_cuda(reason: String) -> crate::Error {
    crate::Error::unavailable("CUDA device", reason)
}

fn open_device() -> std::result::Result<Arc<CudaGpu>, crate::Error> {
    let count = CudaContext::device_count().map_err(|e| no_cuda(format!("CUDA driver: {e}")))?;
    if count < 1 {
        return Err(no_cuda("no CUDA device (the driver reports 0 GPUs)".into()));
    }
    let ctx =
        CudaContext::new(0).map_err(|e| no_cuda(format!("cannot open CUDA device 0: {e}")))?;
    // One stream (the context's default): no multi-stream event tracking on every launch.
    let stream = ctx.default_stream();
    let info = read_info(&ctx).map_err(|e| no_cuda(format!("reading CUDA device 0: {e}")))?;
    let kernels = super::kernels::build(&ctx, info.compute_capability);
    // SAFETY: only tries to dlopen cuBLAS by its known names.
    let cublas = if unsafe { cudarc::cublas::sys::is_culib_present() } {
        Ok(())
    } else {
        Err(crate::Error::unavailable(
            "cuBLAS",
            "cuBLAS not found (libcublas.so not on the library path)",
        ))
    };
    let energy = NvmlEnergy::open(info.pci_bus_id.clone());
    Ok(Arc::new(CudaGpu {
        ctx,
        stream,
        info,
        kernels,
        cublas,
        energy,
        flush: Mutex::new(None),
    }))
}

fn read_info(
    ctx: &Arc<CudaContext>,
) -> std::result::Result<DeviceInfo, cudarc::driver::DriverError> {
    let attr = |a: Attr| ctx.attribute(a).ok();
    let mut driver = 0i32;
    // SAFETY: writes one int.
    let driver_version = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut driver) }
        .result()
        .ok()
        .map(|_| driver);
    Ok(DeviceInfo {
        name: ctx.name()?,
        compute_capability: ctx.compute_capability()?,
        sm_count: ctx.attribute(Attr::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?,
        memory_bytes: ctx.total_mem()?,
        l2_bytes: attr(Attr::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)
            .unwrap_or(0)
            .max(0) as usize,
        driver_version,
        sm_clock_khz: attr(Attr::CU_DEVICE_ATTRIBUTE_CLOCK_RATE).filter(|&c| c > 0),
        memory_clock_khz: attr(Attr::CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE).filter(|&c| c > 0),
        pci_bus_id: pci_bus_id(&attr),
    })
}

fn pci_bus_id(attr: &dyn Fn(Attr) -> Option<i32>) -> Option<String> {
    let domain = attr(Attr::CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID)?;
    let bus = attr(Attr::CU_DEVICE_ATTRIBUTE_PCI_BUS_ID)?;
    let device = attr(Attr::CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID)?;
    Some(format!("{domain:08X}:{bus:02X}:{device:02X}.0"))
}

impl CudaGpu {
    /// A reader of the device's NVML energy counter for one sampling loop.
    pub fn energy_meter(&self) -> MeterResult {
        let energy = self.energy.as_ref().map_err(|e| Error::from(e.clone()))?;
        Ok(Box::new(NvmlMeter::new(energy.clone(), &self.info.name)))
    }

    /// What every CUDA measurement records: the device's facts, and its SM and memory clocks and
    /// throttle reasons read through NVML when the measurement's sampling is about to start.
    pub fn measurement_extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut m = self.info.extra();
        m.extend(super::energy::clock_extra(&self.energy));
        m
    }

    /// Free device memory now, in bytes.
    pub fn free_memory(&self) -> Option<usize> {
        self.ctx.mem_get_info().ok().map(|(free, _)| free)
    }

    /// Writes over a buffer twice the L2 size on the stream, evicting the workload's data
    /// before a cold sample.
    pub fn flush_l2(&self) -> Result<()> {
        let bytes = (self.info.l2_bytes * 2).max(1 << 20);
        let mut slot = self
            .flush
            .lock()
            .map_err(|_| self.error("L2 flush buffer poisoned"))?;
        if slot.is_none() {
            *slot = Some(
                self.stream
                    .alloc_zeros::<u8>(bytes)
                    .map_err(|e| self.error(e))?,
            );
        }
        if let Some(buf) = slot.as_mut() {
            self.stream.memset_zeros(buf).map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Waits for the stream.
    pub fn sync(&self) -> Result<()> {
        self.stream.synchronize().map_err(|e| self.error(e))
    }

    /// A workload error naming this device.
    pub fn error(&self, reason: impl std::fmt::Display) -> Error {
        Error::workload(format!("cuda:0 ({})", self.info.name), reason.to_string())
    }
}

/// The GPU as the sampler sees it: CUDA events for time, NVML for energy, its L2 flushed for a
/// cold sample, and its facts on every measurement.
pub struct CudaDevice(pub Arc<CudaGpu>);

impl Device for CudaDevice {
    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(EventClock::new(self.0.clone())?))
    }

    fn energy_meter(&self) -> MeterResult {
        self.0.energy_meter()
    }

    fn flush_caches(&self, _host: &mut CacheFlusher) -> Result<()> {
        self.0.flush_l2()
    }

    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        self.0.measurement_extra()
    }
}
