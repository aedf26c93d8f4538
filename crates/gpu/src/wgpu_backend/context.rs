//! Adapter selection and the device every wgpu workload shares: buffers, readback, errors.

use bytemuck::Pod;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tensorbench_core::schema::GpuInfo;
use tensorbench_core::{Error, Result};

type GpuResult<T> = std::result::Result<T, crate::Error>;

/// Picks an adapter by (case-insensitive) substring of its name or by backend name
/// (`vulkan`, `metal`, `dx12`, `gl`). `WGPU_BACKEND` restricts the backends searched.
pub const ADAPTER_ENV: &str = "TENSORBENCH_WGPU_ADAPTER";

/// How the adapter can write timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamps {
    /// No timestamp queries: time is read on the host around submit-and-wait.
    None,
    /// At compute-pass boundaries (`TIMESTAMP_QUERY`).
    Passes,
    /// Anywhere in a command encoder (`TIMESTAMP_QUERY_INSIDE_ENCODERS`).
    Encoders,
}

/// An open wgpu device with what the workloads need to know about it.
pub struct WgpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub timestamps: Timestamps,
    errors: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for WgpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WgpuContext")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .field("timestamps", &self.timestamps)
            .finish()
    }
}

/// Every adapter wgpu finds on the searched backends (see [`searched_backends`]).
pub fn list_adapters() -> Vec<wgpu::AdapterInfo> {
    pollster::block_on(new_instance().enumerate_adapters(searched_backends()))
        .iter()
        .map(wgpu::Adapter::get_info)
        .collect()
}

/// `WGPU_BACKEND` when set (e.g. `vulkan`, `gl`), else the primary backends (Vulkan, Metal,
/// DX12): GL has no timestamp queries and weak compute, so it is used only when asked for.
pub fn searched_backends() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY)
}

fn new_instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = searched_backends();
    wgpu::Instance::new(desc)
}

/// Discrete first, CPU rasterisers last.
fn type_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Index of the adapter to use: the first matching `wanted` (name substring or backend name),
/// else the best device type. Errors list what was found: none at all is
/// [`crate::Error::Unavailable`], none matching `wanted` is [`crate::Error::BadInput`].
pub fn choose_adapter(infos: &[wgpu::AdapterInfo], wanted: Option<&str>) -> GpuResult<usize> {
    if infos.is_empty() {
        return Err(crate::Error::unavailable(
            "wgpu adapter",
            "no wgpu adapter found (no Vulkan/Metal/DX12/GL driver; on Debian install \
                    mesa-vulkan-drivers and libvulkan1)",
        ));
    }
    match wanted.map(str::to_ascii_lowercase) {
        Some(w) => infos
            .iter()
            .position(|i| {
                i.name.to_ascii_lowercase().contains(&w)
                    || i.backend.to_str().eq_ignore_ascii_case(&w)
            })
            .ok_or_else(|| {
                let names: Vec<String> = infos
                    .iter()
                    .map(|i| format!("{} ({})", i.name, i.backend))
                    .collect();
                let message = format!(
                    "{ADAPTER_ENV}={w:?} matches none of the adapters: {}",
                    names.join(", ")
                );
                crate::Error::bad_input(ADAPTER_ENV, message)
            }),
        None => Ok((0..infos.len())
            .min_by_key(|&i| type_rank(infos[i].device_type))
            .unwrap_or(0)),
    }
}

impl WgpuContext {
    /// Opens the adapter chosen by [`ADAPTER_ENV`] (or the best one) with timestamp queries
    /// when it has them and the largest buffers it allows.
    pub fn open() -> GpuResult<Arc<Self>> {
        let instance = new_instance();
        let adapters = pollster::block_on(instance.enumerate_adapters(searched_backends()));
        let infos: Vec<_> = adapters.iter().map(wgpu::Adapter::get_info).collect();
        let wanted = std::env::var(ADAPTER_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        let adapter = &adapters[choose_adapter(&infos, wanted.as_deref())?];
        Self::open_adapter(adapter)
    }

    fn open_adapter(adapter: &wgpu::Adapter) -> GpuResult<Arc<Self>> {
        let info = adapter.get_info();
        let features = adapter.features()
            & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS);
        let timestamps = if features.contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS) {
            Timestamps::Encoders
        } else if features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            Timestamps::Passes
        } else {
            Timestamps::None
        };
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("tensorbench"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc)).map_err(|e| {
            let reason = format!("{} ({}): cannot open device: {e}", info.name, info.backend);
            crate::Error::unavailable("wgpu device", reason)
        })?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        Ok(Arc::new(Self {
            device,
            queue,
            info,
            limits,
            timestamps,
            errors,
        }))
    }

    /// The adapter as the run's `machine.gpus` records it.
    pub fn gpu_info(&self) -> GpuInfo {
        GpuInfo {
            name: self.info.name.clone(),
            backend: format!("wgpu/{}", self.info.backend),
            device_type: Some(format!("{:?}", self.info.device_type)),
            driver: Some(self.driver()).filter(|d| !d.is_empty()),
            extra: BTreeMap::from([
                ("vendor_id".into(), self.info.vendor.into()),
                ("device_id".into(), self.info.device.into()),
                ("timestamps".into(), format!("{:?}", self.timestamps).into()),
                (
                    "max_storage_buffer_binding_size".into(),
                    self.limits.max_storage_buffer_binding_size.into(),
                ),
            ]),
        }
    }

    fn driver(&self) -> String {
        format!("{} {}", self.info.driver, self.info.driver_info)
            .trim()
            .to_string()
    }

    /// What every wgpu measurement records about the adapter.
    pub fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            ("adapter".into(), self.info.name.clone().into()),
            ("adapter_backend".into(), self.info.backend.to_str().into()),
            (
                "device_type".into(),
                format!("{:?}", self.info.device_type).into(),
            ),
            ("driver".into(), self.driver().into()),
        ])
    }

    /// Largest f32 count one storage binding can hold.
    pub fn max_binding_elems(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
            / 4
    }

    /// A storage buffer initialised with `data`.
    pub fn storage_with<T: Pod>(&self, label: &str, data: &[T]) -> wgpu::Buffer {
        let buf = self.storage(label, std::mem::size_of_val(data) as u64);
        self.queue.write_buffer(&buf, 0, bytemuck::cast_slice(data));
        buf
    }

    /// An uninitialised (zeroed) storage buffer of `bytes`.
    pub fn storage(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(4),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A uniform buffer holding `data`.
    pub fn uniform<T: Pod>(&self, label: &str, data: &T) -> wgpu::Buffer {
        let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: std::mem::size_of::<T>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.queue.write_buffer(&buf, 0, bytemuck::bytes_of(data));
        buf
    }

    /// A host-readable buffer of `bytes` to copy results into.
    pub fn readback(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Copies the first `len` f32 of `src` to the host (waits for all work before it).
    pub fn read_f32(&self, src: &wgpu::Buffer, len: usize) -> Result<Vec<f32>> {
        let bytes = (len * 4) as u64;
        let staging = self.readback("readback", bytes);
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(src, 0, &staging, 0, bytes);
        self.queue.submit([enc.finish()]);
        let mut out = vec![0.0f32; len];
        self.map_and_copy(&staging, bytemuck::cast_slice_mut(&mut out))?;
        Ok(out)
    }

    /// Maps `buf` for reading, waits, copies its start into `out` and unmaps it.
    pub fn map_and_copy(&self, buf: &wgpu::Buffer, out: &mut [u8]) -> Result<()> {
        let slice = buf.slice(..out.len() as u64);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(self.error(format!("mapping a buffer failed: {e}"))),
            Err(_) => return Err(self.error("mapping a buffer never completed")),
        }
        let copied = slice
            .get_mapped_range()
            .map(|view| out.copy_from_slice(&view))
            .map_err(|e| self.error(format!("reading a mapped buffer failed: {e}")));
        buf.unmap();
        copied
    }

    /// Waits for every submitted command, then reports any error the device raised meanwhile.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| self.error(format!("waiting for the device failed: {e}")))?;
        self.check()
    }

    /// The first uncaptured device error since the last check, as an error.
    pub fn check(&self) -> Result<()> {
        let first = self.errors.lock().ok().and_then(|mut v| {
            let first = v.first().cloned();
            v.clear();
            first
        });
        match first {
            Some(e) => Err(self.error(e)),
            None => Ok(()),
        }
    }

    fn error(&self, reason: impl Into<String>) -> Error {
        Error::workload(format!("wgpu:{}", self.info.name), reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, t: wgpu::DeviceType, backend: wgpu::Backend) -> wgpu::AdapterInfo {
        wgpu::AdapterInfo {
            name: name.into(),
            ..wgpu::AdapterInfo::new(t, backend)
        }
    }

    #[test]
    fn prefers_discrete_and_honours_a_name_or_backend() {
        let infos = [
            info(
                "llvmpipe (LLVM 15.0.6, 256 bits)",
                wgpu::DeviceType::Cpu,
                wgpu::Backend::Vulkan,
            ),
            info(
                "NVIDIA H100 80GB HBM3",
                wgpu::DeviceType::DiscreteGpu,
                wgpu::Backend::Vulkan,
            ),
            info(
                "NVIDIA H100 80GB HBM3",
                wgpu::DeviceType::DiscreteGpu,
                wgpu::Backend::Gl,
            ),
        ];
        assert_eq!(choose_adapter(&infos, None), Ok(1));
        assert!(matches!(
            choose_adapter(&infos, Some("radeon")),
            Err(crate::Error::BadInput { .. })
        ));
        assert_eq!(choose_adapter(&infos, Some("LLVMPIPE")), Ok(0));
        assert_eq!(choose_adapter(&infos, Some("gl")), Ok(2));
        let err = choose_adapter(&infos, Some("radeon"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(ADAPTER_ENV) && err.contains("llvmpipe"),
            "{err}"
        );
        assert!(
            choose_adapter(&[], None)
                .unwrap_err()
                .to_string()
                .contains("mesa-vulkan-drivers")
        );
    }
}
