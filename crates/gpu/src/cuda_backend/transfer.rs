//! Moving data (host→device and device→host from pageable or pinned memory, device-to-device
//! copy: the roofline's bandwidth probe) and the cost of launching an empty kernel.

use super::clock::EventClock;
use super::device::CudaGpu;
use crate::reference::validate_elementwise;
use cudarc::driver::{CudaFunction, CudaSlice, DriverError, LaunchConfig, PinnedHostSlice};
use std::collections::BTreeMap;
use std::sync::Arc;
use tensorbench_core::schema::Validation;
use tensorbench_core::workload::CacheFlusher;
use tensorbench_core::{Clock, Error, Result, Workload, WorkloadSpec, data};

/// What a [`CudaTransfer`] moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    Upload { pinned: bool },
    Download { pinned: bool },
    DeviceCopy,
}

enum HostBuffer {
    Pageable(Vec<f32>),
    Pinned(PinnedHostSlice<f32>),
}

struct State {
    expected: Vec<f32>,
    host: HostBuffer,
    device: CudaSlice<f32>,
    /// Destination of a device-to-device copy.
    copy: CudaSlice<f32>,
}

/// One transfer of `n` f32.
pub struct CudaTransfer {
    spec: WorkloadSpec,
    gpu: Arc<CudaGpu>,
    movement: Movement,
    n: usize,
    state: Option<State>,
    failure: Option<Error>,
}

impl CudaTransfer {
    pub fn new(spec: WorkloadSpec, gpu: Arc<CudaGpu>, movement: Movement, n: usize) -> Self {
        Self {
            spec,
            gpu,
            movement,
            n,
            state: None,
            failure: None,
        }
    }

    fn host_buffer(
        &self,
        init: &[f32],
        pinned: bool,
    ) -> std::result::Result<HostBuffer, DriverError> {
        if !pinned {
            return Ok(HostBuffer::Pageable(init.to_vec()));
        }
        // SAFETY: every element is written below before any read.
        let mut p = unsafe { self.gpu.ctx.alloc_pinned_with_flags::<f32>(init.len(), 0)? };
        p.as_mut_slice()?.copy_from_slice(init);
        Ok(HostBuffer::Pinned(p))
    }

    fn setup(&self, expected: Vec<f32>) -> std::result::Result<State, DriverError> {
        let s = &self.gpu.stream;
        let zeros = vec![0.0f32; self.n];
        let (host, device) = match self.movement {
            Movement::Upload { pinned } => {
                (self.host_buffer(&expected, pinned)?, s.alloc_zeros(self.n)?)
            }
            Movement::Download { pinned } => {
                (self.host_buffer(&zeros, pinned)?, s.clone_htod(&expected)?)
            }
            Movement::DeviceCopy => (HostBuffer::Pageable(Vec::new()), s.clone_htod(&expected)?),
        };
        let copy_len = if self.movement == Movement::DeviceCopy {
            self.n
        } else {
            1
        };
        Ok(State {
            expected,
            host,
            device,
            copy: s.alloc_zeros(copy_len)?,
        })
    }

    fn transfer(&mut self) -> std::result::Result<(), DriverError> {
        let s = &self.gpu.stream;
        let Some(st) = self.state.as_mut() else {
            return Ok(());
        };
        match (self.movement, &mut st.host) {
            (Movement::Upload { .. }, HostBuffer::Pageable(v)) => s.memcpy_htod(v, &mut st.device),
            (Movement::Upload { .. }, HostBuffer::Pinned(p)) => s.memcpy_htod(p, &mut st.device),
            (Movement::Download { .. }, HostBuffer::Pageable(v)) => s.memcpy_dtoh(&st.device, v),
            (Movement::Download { .. }, HostBuffer::Pinned(p)) => s.memcpy_dtoh(&st.device, p),
            (Movement::DeviceCopy, _) => s.memcpy_dtod(&st.device, &mut st.copy),
        }
    }

    fn landed(&self, st: &State) -> Result<Vec<f32>> {
        let e = |err: DriverError| self.gpu.error(err);
        match (self.movement, &st.host) {
            (Movement::Upload { .. }, _) => self.gpu.stream.clone_dtoh(&st.device).map_err(e),
            (Movement::DeviceCopy, _) => self.gpu.stream.clone_dtoh(&st.copy).map_err(e),
            (Movement::Download { .. }, HostBuffer::Pageable(v)) => Ok(v.clone()),
            (Movement::Download { .. }, HostBuffer::Pinned(p)) => {
                p.as_slice().map(<[f32]>::to_vec).map_err(e)
            }
        }
    }
}

impl Workload for CudaTransfer {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.state = None;
        let expected = data::uniform_f32(self.n, seed);
        self.state = Some(self.setup(expected).map_err(|e| self.gpu.error(e))?);
        self.gpu.sync()
    }

    fn execute(&mut self) {
        if let Err(e) = self.transfer() {
            let e = self.gpu.error(e);
            self.failure.get_or_insert(e);
        }
    }

    fn sync(&mut self) -> Result<()> {
        self.failure.take().map_or(Ok(()), Err)?;
        self.gpu.sync()
    }

    fn validate(&mut self) -> Result<Validation> {
        let st = self
            .state
            .as_ref()
            .ok_or_else(|| Error::workload(&self.spec.id, "used before prepare()"))?;
        let got = self.landed(st)?;
        Ok(validate_elementwise(
            &got,
            |i| st.expected[i].into(),
            0.0,
            "exact copy",
        ))
    }

    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(EventClock::new(self.gpu.clone())?))
    }

    fn energy_meter(
        &self,
    ) -> std::result::Result<Box<dyn tensorbench_core::energy::EnergyMeter>, String> {
        self.gpu.energy_meter()
    }

    fn flush_caches(&mut self, _host: &mut CacheFlusher) {
        if let Err(e) = self.gpu.flush_l2() {
            self.failure.get_or_insert(e);
        }
    }

    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        self.gpu.measurement_extra()
    }
}

/// Launches of an empty kernel, one thread each: the fixed cost of a launch on the stream.
pub struct LaunchOverhead {
    spec: WorkloadSpec,
    gpu: Arc<CudaGpu>,
    function: Option<CudaFunction>,
    failure: Option<Error>,
}

impl LaunchOverhead {
    pub fn new(spec: WorkloadSpec, gpu: Arc<CudaGpu>) -> Self {
        Self {
            spec,
            gpu,
            function: None,
            failure: None,
        }
    }
}

impl Workload for LaunchOverhead {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, _seed: u64) -> Result<()> {
        let module = self.gpu.kernels.as_ref().map_err(|r| self.gpu.error(r))?;
        self.function = Some(
            module
                .load_function("empty")
                .map_err(|e| self.gpu.error(e))?,
        );
        Ok(())
    }

    fn execute(&mut self) {
        let Some(f) = self.function.as_ref() else {
            return;
        };
        let cfg = LaunchConfig {
            grid_dim: (1, 1, 1),
            block_dim: (1, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: `empty` takes no arguments.
        if let Err(e) = unsafe { self.gpu.stream.launch_builder(f).launch(cfg) } {
            let e = self.gpu.error(e);
            self.failure.get_or_insert(e);
        }
    }

    fn sync(&mut self) -> Result<()> {
        self.failure.take().map_or(Ok(()), Err)?;
        self.gpu.sync()
    }

    /// An empty kernel has no output: it is valid when it launched and completed without error.
    fn validate(&mut self) -> Result<Validation> {
        Ok(Validation {
            max_rel_err: 0.0,
            tolerance: 0.0,
            passed: true,
            reference: "completed without error (no output)".into(),
        })
    }

    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(EventClock::new(self.gpu.clone())?))
    }

    fn energy_meter(
        &self,
    ) -> std::result::Result<Box<dyn tensorbench_core::energy::EnergyMeter>, String> {
        self.gpu.energy_meter()
    }

    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        self.gpu.measurement_extra()
    }
}
