//! Device time for wgpu: timestamp queries written before and after a batch, or — on adapters
//! without them — host time around submit-and-wait, labelled `host`.

use super::context::{Timestamps, WgpuContext};
use std::sync::Arc;
use std::time::Instant;
use tensorbench_core::{Clock, ClockSource, Error, Result};

/// The best clock `ctx` offers.
pub fn device_clock(ctx: &Arc<WgpuContext>) -> Result<Box<dyn Clock>> {
    Ok(match ctx.timestamps {
        Timestamps::None => Box::new(SubmitWaitClock::new(ctx.clone())?),
        mode => Box::new(TimestampClock::new(ctx.clone(), mode)),
    })
}

/// Timestamps written on the queue: `start` submits a write of query 0, `stop` a write of
/// query 1 after everything submitted in between, resolves both and waits for them.
pub struct TimestampClock {
    ctx: Arc<WgpuContext>,
    mode: Timestamps,
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    period_ns: f64,
    started: bool,
}

const QUERY_BYTES: u64 = 2 * std::mem::size_of::<u64>() as u64;

impl TimestampClock {
    /// `mode` must be a timestamp mode the device was opened with.
    pub fn new(ctx: Arc<WgpuContext>, mode: Timestamps) -> Self {
        let queries = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("clock"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolve = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("clock resolve"),
            size: QUERY_BYTES,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = ctx.readback("clock readback", QUERY_BYTES);
        let period_ns = f64::from(ctx.queue.get_timestamp_period());
        Self {
            ctx,
            mode,
            queries,
            resolve,
            readback,
            period_ns,
            started: false,
        }
    }

    fn mark(&self, enc: &mut wgpu::CommandEncoder, index: u32) {
        match self.mode {
            Timestamps::Encoders => enc.write_timestamp(&self.queries, index),
            _ => {
                // An empty pass whose boundary carries the timestamp.
                let writes = wgpu::ComputePassTimestampWrites {
                    query_set: &self.queries,
                    beginning_of_pass_write_index: (index == 0).then_some(0),
                    end_of_pass_write_index: (index == 1).then_some(1),
                };
                drop(enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("clock mark"),
                    timestamp_writes: Some(writes),
                }));
            }
        }
    }
}

fn clock_error(reason: impl Into<String>) -> Error {
    Error::Clock {
        clock: "wgpu timestamp".into(),
        reason: reason.into(),
    }
}

impl Clock for TimestampClock {
    fn source(&self) -> ClockSource {
        ClockSource::WgpuTimestamp
    }

    /// One tick of the device's timestamp counter.
    fn resolution_ns(&self) -> f64 {
        self.period_ns.max(1.0)
    }

    fn start(&mut self) -> Result<()> {
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        self.mark(&mut enc, 0);
        self.ctx.queue.submit([enc.finish()]);
        self.started = true;
        Ok(())
    }

    fn stop(&mut self) -> Result<f64> {
        if !std::mem::take(&mut self.started) {
            return Err(clock_error("stop() without start()"));
        }
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        self.mark(&mut enc, 1);
        enc.resolve_query_set(&self.queries, 0..2, &self.resolve, 0);
        enc.copy_buffer_to_buffer(&self.resolve, 0, &self.readback, 0, QUERY_BYTES);
        self.ctx.queue.submit([enc.finish()]);
        let mut ticks = [0u64; 2];
        self.ctx
            .map_and_copy(&self.readback, bytemuck::cast_slice_mut(&mut ticks))?;
        elapsed_ns(ticks, self.period_ns)
    }
}

/// Nanoseconds between two timestamp readings.
fn elapsed_ns([t0, t1]: [u64; 2], period_ns: f64) -> Result<f64> {
    if t1 < t0 {
        return Err(clock_error(format!(
            "timestamps went backwards ({t0} → {t1})"
        )));
    }
    Ok((t1 - t0) as f64 * period_ns)
}

/// Host time from `start` to the completion of everything submitted before `stop`.
pub struct SubmitWaitClock {
    ctx: Arc<WgpuContext>,
    started: Option<Instant>,
    resolution_ns: f64,
}

impl SubmitWaitClock {
    /// Measures the clock's floor: the median round trip of an empty submit-and-wait.
    pub fn new(ctx: Arc<WgpuContext>) -> Result<Self> {
        let mut trips: Vec<f64> = (0..21)
            .map(|_| {
                let t = Instant::now();
                ctx.queue.submit([]);
                ctx.wait().map(|_| t.elapsed().as_nanos() as f64)
            })
            .collect::<Result<_>>()?;
        trips.sort_by(f64::total_cmp);
        Ok(Self {
            ctx,
            started: None,
            resolution_ns: trips[trips.len() / 2].max(1.0),
        })
    }
}

impl Clock for SubmitWaitClock {
    fn source(&self) -> ClockSource {
        ClockSource::Host
    }

    fn resolution_ns(&self) -> f64 {
        self.resolution_ns
    }

    fn start(&mut self) -> Result<()> {
        self.ctx.wait()?;
        self.started = Some(Instant::now());
        Ok(())
    }

    fn stop(&mut self) -> Result<f64> {
        let started = self.started.take().ok_or_else(|| Error::Clock {
            clock: "wgpu host".into(),
            reason: "stop() without start()".into(),
        })?;
        self.ctx.wait()?;
        Ok(started.elapsed().as_nanos() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_convert_with_the_period() {
        assert_eq!(elapsed_ns([100, 350], 2.0).unwrap(), 500.0);
        let err = elapsed_ns([5, 4], 1.0).unwrap_err().to_string();
        assert!(
            err.contains("wgpu timestamp") && err.contains("backwards"),
            "{err}"
        );
    }
}
