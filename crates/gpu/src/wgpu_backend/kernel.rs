//! The workload every WGSL kernel shares: inputs uploaded in `prepare`, one compute pass of
//! prebuilt dispatches encoded and submitted per `execute`, the output read back to validate.

use super::context::WgpuContext;
use super::{elementwise, matmul, mlp, rows, sum, transpose};
use crate::problem::{Kernel, Problem, Shape};
use std::sync::Arc;
use tensorbench_core::schema::Validation;
use tensorbench_core::workload::NamedTensor;
use tensorbench_core::{Error, Result, Workload, WorkloadSpec};

/// Threads per workgroup of the one-dimensional kernels.
pub const WORKGROUP: u32 = 256;

/// One dispatch of a compute pipeline with its bindings.
pub struct Dispatch {
    pub pipeline: wgpu::ComputePipeline,
    pub bind_group: wgpu::BindGroup,
    pub groups: (u32, u32, u32),
}

/// A kernel ready to run: its dispatches, where the output lands, and the longest chain of f32
/// additions behind one output (for the validation tolerance; 0 where nothing is summed).
pub struct Plan {
    pub dispatches: Vec<Dispatch>,
    pub output: wgpu::Buffer,
    pub depth: usize,
    /// Device buffers the dispatches read; kept alive with the plan.
    pub _inputs: Vec<wgpu::Buffer>,
}

/// Compiles `source` and makes a pipeline of `entry` with the layout WGSL implies.
pub fn pipeline(ctx: &WgpuContext, source: &str, entry: &str) -> wgpu::ComputePipeline {
    let module = ctx
        .device
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(entry),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
    ctx.device
        .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        })
}

/// A dispatch of `pipeline` binding `buffers` to bindings 0, 1, ... of group 0.
pub fn dispatch(
    ctx: &WgpuContext,
    pipeline: wgpu::ComputePipeline,
    buffers: &[&wgpu::Buffer],
    groups: (u32, u32, u32),
) -> Dispatch {
    let bindings: Vec<(u32, &wgpu::Buffer)> = (0..).zip(buffers.iter().copied()).collect();
    dispatch_bound(ctx, pipeline, &bindings, groups)
}

/// Like [`dispatch`] with explicit binding numbers, for entry points that use only some of the
/// bindings of a shared module (auto layouts list only what an entry point uses).
pub fn dispatch_bound(
    ctx: &WgpuContext,
    pipeline: wgpu::ComputePipeline,
    bindings: &[(u32, &wgpu::Buffer)],
    groups: (u32, u32, u32),
) -> Dispatch {
    let entries: Vec<wgpu::BindGroupEntry<'_>> = bindings
        .iter()
        .map(|&(binding, b)| wgpu::BindGroupEntry {
            binding,
            resource: b.as_entire_binding(),
        })
        .collect();
    let bind_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    Dispatch {
        pipeline,
        bind_group,
        groups,
    }
}

/// Workgroups for a grid-stride loop over `items` with `per_group` items per workgroup pass,
/// within the adapter's dispatch limit.
pub fn grid_groups(ctx: &WgpuContext, items: usize, per_group: usize) -> u32 {
    let limit = ctx.limits.max_compute_workgroups_per_dimension.max(1);
    (items.div_ceil(per_group).max(1) as u64).min(u64::from(limit)) as u32
}

/// A 16-byte uniform of up to four u32 words (zero-padded).
pub fn params(ctx: &WgpuContext, words: &[u32]) -> wgpu::Buffer {
    let mut padded = [0u32; 4];
    padded[..words.len()].copy_from_slice(words);
    ctx.uniform("params", &padded)
}

/// Converts a size for a WGSL `u32` parameter.
pub fn size_u32(value: usize, what: &str) -> Result<u32> {
    u32::try_from(value)
        .map_err(|_| Error::workload("wgpu", format!("{what} = {value} exceeds u32")))
}

fn build_plan(ctx: &WgpuContext, problem: &Problem) -> Result<Plan> {
    match problem.kernel {
        Kernel::Binary(op) => elementwise::binary(ctx, problem, op),
        Kernel::Unary(op) => elementwise::unary(ctx, problem, op),
        Kernel::Sum => sum::plan(ctx, problem),
        Kernel::RowSum | Kernel::Softmax | Kernel::LayerNorm => rows::plan(ctx, problem),
        Kernel::Gemm => matmul::plan(ctx, problem),
        Kernel::Transpose => transpose::plan(ctx, problem),
        Kernel::Mlp => mlp::plan(ctx, problem),
    }
}

/// One WGSL kernel on one shape.
pub struct KernelWorkload {
    spec: WorkloadSpec,
    ctx: Arc<WgpuContext>,
    kernel: Kernel,
    shape: Shape,
    state: Option<(Problem, Plan)>,
}

impl KernelWorkload {
    pub fn new(spec: WorkloadSpec, ctx: Arc<WgpuContext>, kernel: Kernel, shape: Shape) -> Self {
        Self {
            spec,
            ctx,
            kernel,
            shape,
            state: None,
        }
    }

    fn state(&self) -> Result<&(Problem, Plan)> {
        self.state
            .as_ref()
            .ok_or_else(|| Error::workload(&self.spec.id, "used before prepare()"))
    }
}

impl Workload for KernelWorkload {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.state = None;
        let problem = Problem::generate(self.kernel, self.shape, seed);
        let plan = build_plan(&self.ctx, &problem)?;
        self.ctx.wait()?;
        self.state = Some((problem, plan));
        Ok(())
    }

    fn execute(&mut self) {
        let Some((_, plan)) = &self.state else { return };
        let mut enc = self.ctx.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            for d in &plan.dispatches {
                pass.set_pipeline(&d.pipeline);
                pass.set_bind_group(0, &d.bind_group, &[]);
                pass.dispatch_workgroups(d.groups.0, d.groups.1, d.groups.2);
            }
        }
        self.ctx.queue.submit([enc.finish()]);
    }

    fn sync(&mut self) -> Result<()> {
        self.ctx.wait()
    }

    fn validate(&mut self) -> Result<Validation> {
        let (problem, plan) = self.state()?;
        let got = self.ctx.read_f32(&plan.output, problem.output_len())?;
        Ok(problem.validate(&got, plan.depth))
    }

    fn tensors(&self) -> Vec<NamedTensor> {
        let Ok((problem, plan)) = self.state() else {
            return Vec::new();
        };
        let Ok(out) = self.ctx.read_f32(&plan.output, problem.output_len()) else {
            return Vec::new();
        };
        problem.named_tensors(out)
    }
}
