//! Moving data: host→device upload and device→host download (timed on the host, since both
//! include wgpu's staging copy on the CPU), and device-to-device copy (timed on the device;
//! the bandwidth probe of the roofline).

use super::context::WgpuContext;
use crate::reference::validate_elementwise;
use std::sync::Arc;
use tensorbench_core::schema::Validation;
use tensorbench_core::{Error, Result, Workload, WorkloadSpec, data};

struct Buffers {
    host: Vec<f32>,
    device: wgpu::Buffer,
    /// Download: the mapped buffer data lands in; copy: the destination.
    second: wgpu::Buffer,
    /// Download: where the bytes end up on the host.
    landed: Vec<f32>,
}

/// What a [`DataWorkload`] moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    Upload,
    Download,
    DeviceCopy,
}

/// One transfer of `n` f32.
pub struct DataWorkload {
    spec: WorkloadSpec,
    ctx: Arc<WgpuContext>,
    movement: Movement,
    n: usize,
    buffers: Option<Buffers>,
    /// An error raised inside `execute` (which cannot return one), reported by `sync`/`validate`.
    failure: Option<Error>,
}

impl DataWorkload {
    pub fn new(spec: WorkloadSpec, ctx: Arc<WgpuContext>, movement: Movement, n: usize) -> Self {
        Self {
            spec,
            ctx,
            movement,
            n,
            buffers: None,
            failure: None,
        }
    }

    fn bufs(&self) -> Result<&Buffers> {
        self.buffers
            .as_ref()
            .ok_or_else(|| Error::workload(&self.spec.id, "used before prepare()"))
    }

    fn take_failure(&mut self) -> Result<()> {
        self.failure.take().map_or(Ok(()), Err)
    }
}

impl Workload for DataWorkload {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        let bytes = (self.n * 4) as u64;
        let host = data::uniform_f32(self.n, seed);
        let device = self.ctx.storage("device", bytes);
        if self.movement != Movement::Upload {
            self.ctx
                .queue
                .write_buffer(&device, 0, bytemuck::cast_slice(&host));
        }
        let second = match self.movement {
            Movement::Download => self.ctx.readback("download staging", bytes),
            _ => self.ctx.storage("copy destination", bytes),
        };
        let landed = match self.movement {
            Movement::Download => vec![0.0; self.n],
            _ => Vec::new(),
        };
        self.ctx.queue.submit([]);
        self.ctx.wait()?;
        self.buffers = Some(Buffers {
            host,
            device,
            second,
            landed,
        });
        Ok(())
    }

    fn execute(&mut self) {
        let Some(b) = self.buffers.as_mut() else {
            return;
        };
        let bytes = (self.n * 4) as u64;
        match self.movement {
            Movement::Upload => {
                self.ctx
                    .queue
                    .write_buffer(&b.device, 0, bytemuck::cast_slice(&b.host));
                self.ctx.queue.submit([]);
            }
            Movement::Download | Movement::DeviceCopy => {
                let mut enc = self.ctx.device.create_command_encoder(&Default::default());
                enc.copy_buffer_to_buffer(&b.device, 0, &b.second, 0, bytes);
                self.ctx.queue.submit([enc.finish()]);
            }
        }
        if self.movement == Movement::Download {
            let out = bytemuck::cast_slice_mut(&mut b.landed);
            if let Err(e) = self.ctx.map_and_copy(&b.second, out) {
                self.failure.get_or_insert(e);
            }
        }
    }

    fn sync(&mut self) -> Result<()> {
        self.take_failure()?;
        self.ctx.wait()
    }

    fn validate(&mut self) -> Result<Validation> {
        self.take_failure()?;
        let b = self.bufs()?;
        let got = match self.movement {
            Movement::Upload => self.ctx.read_f32(&b.device, self.n)?,
            Movement::Download => b.landed.clone(),
            Movement::DeviceCopy => self.ctx.read_f32(&b.second, self.n)?,
        };
        Ok(validate_elementwise(
            &got,
            |i| b.host[i].into(),
            0.0,
            "exact copy",
        ))
    }
}
