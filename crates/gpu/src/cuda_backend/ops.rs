//! Our NVRTC kernels as workloads: the same ops and references as the wgpu backend.

use super::device::CudaGpu;
use super::kernels::BLOCK;
use crate::problem::{BinaryOp, Kernel, LAYER_NORM_EPS, Problem, Shape, UnaryOp};
use cudarc::driver::{CudaFunction, CudaSlice, DriverError, LaunchConfig, PushKernelArg};
use std::sync::Arc;
use tensorbench_core::schema::Validation;
use tensorbench_core::workload::NamedTensor;
use tensorbench_core::{Error, Result, Workload, WorkloadSpec};

/// Partials of the first pass of the full sum.
const MAX_PARTIALS: u32 = 1024;

fn kernel_name(kernel: Kernel) -> &'static [&'static str] {
    match kernel {
        Kernel::Binary(BinaryOp::Add) => &["add_f32"],
        Kernel::Binary(BinaryOp::Mul) => &["mul_f32"],
        Kernel::Unary(UnaryOp::Relu) => &["relu_f32"],
        Kernel::Unary(UnaryOp::Gelu) => &["gelu_f32"],
        Kernel::Unary(UnaryOp::Exp) => &["exp_f32"],
        Kernel::Sum => &["partial_sums", "final_sum"],
        Kernel::RowSum => &["row_sum"],
        Kernel::Softmax => &["softmax"],
        Kernel::LayerNorm => &["layer_norm"],
        Kernel::Transpose => &["transpose"],
        Kernel::Gemm => &["matmul"],
        Kernel::Mlp => &["matmul", "gelu_f32"],
    }
}

/// Blocks of [`BLOCK`] threads for a grid-stride loop over `items` on `sms` SMs: 8 per SM is
/// 2048 resident threads, full occupancy on every recent architecture.
fn grid_blocks(sms: i32, items: u64) -> u32 {
    let fill = (sms.max(1) as u64) * 8;
    items.div_ceil(u64::from(BLOCK)).clamp(1, fill) as u32
}

struct State {
    problem: Problem,
    inputs: Vec<CudaSlice<f32>>,
    output: CudaSlice<f32>,
    /// Partials of the full sum; an MLP layer's pre-activations; empty otherwise.
    scratch: CudaSlice<f32>,
    /// An MLP's hidden activations between layers; empty otherwise.
    hidden: CudaSlice<f32>,
    functions: Vec<CudaFunction>,
    partials: u32,
}

/// One of our CUDA kernels on one shape.
pub struct CudaKernelWorkload {
    spec: WorkloadSpec,
    gpu: Arc<CudaGpu>,
    kernel: Kernel,
    shape: Shape,
    state: Option<State>,
    /// An error raised inside `execute` (which cannot return one), reported by `sync`.
    failure: Option<Error>,
}

impl CudaKernelWorkload {
    pub fn new(spec: WorkloadSpec, gpu: Arc<CudaGpu>, kernel: Kernel, shape: Shape) -> Self {
        Self {
            spec,
            gpu,
            kernel,
            shape,
            state: None,
            failure: None,
        }
    }

    /// Blocks for a grid-stride loop over `items`: enough to fill every SM at full occupancy.
    fn grid(&self, items: u64) -> u32 {
        grid_blocks(self.gpu.info.sm_count, items)
    }

    fn launch(&mut self) -> std::result::Result<(), DriverError> {
        let sms = self.gpu.info.sm_count;
        let grid = |items: u64| grid_blocks(sms, items);
        let Some(st) = self.state.as_mut() else {
            return Ok(());
        };
        let s = &self.gpu.stream;
        let f = &st.functions;
        let one_d = |blocks: u32| LaunchConfig {
            grid_dim: (blocks, 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let x = &st.inputs[0];
        let out = &mut st.output;
        // SAFETY (every launch below): argument lists match the kernel signatures in kernels.cu,
        // and the buffers are sized from the same shape the kernels index with.
        unsafe {
            match (self.kernel, self.shape) {
                (Kernel::Binary(_), Shape::Flat(n)) => {
                    let n4 = (n / 4) as u64;
                    let mut b = s.launch_builder(&f[0]);
                    b.arg(x).arg(&st.inputs[1]).arg(out).arg(&n4);
                    b.launch(one_d(grid(n4)))?;
                }
                (Kernel::Unary(_), Shape::Flat(n)) => {
                    let n4 = (n / 4) as u64;
                    let mut b = s.launch_builder(&f[0]);
                    b.arg(x).arg(out).arg(&n4);
                    b.launch(one_d(grid(n4)))?;
                }
                (Kernel::Sum, Shape::Flat(n)) => {
                    let n4 = (n / 4) as u64;
                    let mut b = s.launch_builder(&f[0]);
                    b.arg(x).arg(&mut st.scratch).arg(&n4);
                    b.launch(one_d(st.partials))?;
                    let mut b = s.launch_builder(&f[1]);
                    b.arg(&st.scratch).arg(out).arg(&st.partials);
                    b.launch(one_d(1))?;
                }
                (Kernel::RowSum | Kernel::Softmax, Shape::Rows { rows, cols }) => {
                    let (r, c) = (rows as u32, cols as u32);
                    let mut b = s.launch_builder(&f[0]);
                    b.arg(x).arg(out).arg(&r).arg(&c);
                    b.launch(one_d(r))?;
                }
                (Kernel::LayerNorm, Shape::Rows { rows, cols }) => {
                    let (r, c) = (rows as u32, cols as u32);
                    let mut b = s.launch_builder(&f[0]);
                    b.arg(x).arg(out).arg(&st.inputs[1]).arg(&st.inputs[2]);
                    b.arg(&r).arg(&c).arg(&LAYER_NORM_EPS);
                    b.launch(one_d(r))?;
                }
                (Kernel::Transpose, Shape::Rows { rows, cols }) => {
                    let (r, c) = (rows as u32, cols as u32);
                    let mut b = s.launch_builder(&f[0]);
                    b.arg(x).arg(out).arg(&r).arg(&c);
                    b.launch(LaunchConfig {
                        grid_dim: (c.div_ceil(32), r.div_ceil(32), 1),
                        block_dim: (32, 8, 1),
                        shared_mem_bytes: 0,
                    })?;
                }
                (Kernel::Gemm, Shape::Gemm { m, n, k }) => {
                    let (m, n, k) = (m as u32, n as u32, k as u32);
                    let mut b = s.launch_builder(&f[0]);
                    b.arg(x).arg(&st.inputs[1]).arg(out).arg(&m).arg(&n).arg(&k);
                    b.launch(LaunchConfig {
                        grid_dim: (n.div_ceil(64), m.div_ceil(64), 1),
                        block_dim: (16, 16, 1),
                        shared_mem_bytes: 0,
                    })?;
                }
                (
                    Kernel::Mlp,
                    Shape::Mlp {
                        batch,
                        width,
                        layers,
                    },
                ) => {
                    let (m, w) = (batch as u32, width as u32);
                    let n4 = (batch * width / 4) as u64;
                    let gemm = LaunchConfig {
                        grid_dim: (w.div_ceil(64), m.div_ceil(64), 1),
                        block_dim: (16, 16, 1),
                        shared_mem_bytes: 0,
                    };
                    for layer in 0..layers {
                        let src = if layer == 0 { x } else { &st.hidden };
                        let mut b = s.launch_builder(&f[0]);
                        b.arg(src).arg(&st.inputs[layer + 1]).arg(&mut st.scratch);
                        b.arg(&m).arg(&w).arg(&w);
                        b.launch(gemm)?;
                        let dst = if layer + 1 == layers {
                            &mut *out
                        } else {
                            &mut st.hidden
                        };
                        let mut b = s.launch_builder(&f[1]);
                        b.arg(&st.scratch).arg(dst).arg(&n4);
                        b.launch(one_d(grid(n4)))?;
                    }
                }
                _ => {
                    return Err(DriverError(
                        cudarc::driver::sys::CUresult::CUDA_ERROR_INVALID_VALUE,
                    ));
                }
            }
        }
        Ok(())
    }

    /// Longest chain of f32 additions behind one output (see `Problem::validate`).
    fn depth(&self, partials: u32) -> usize {
        let block = BLOCK as usize;
        match self.shape {
            Shape::Flat(n) => {
                let threads = partials as usize * block;
                n.div_ceil(4 * threads.max(1)) + 2 + 8 + (partials as usize).div_ceil(block) + 8
            }
            Shape::Rows { cols, .. } => cols.div_ceil(block) + 8,
            Shape::Gemm { k, .. } => k,
            Shape::Mlp { width, .. } => width,
        }
    }

    fn upload(&self, problem: &Problem) -> Result<State> {
        let s = &self.gpu.stream;
        let e = |err: DriverError| self.gpu.error(err);
        let module = self.gpu.kernels.as_ref().map_err(|r| self.gpu.error(r))?;
        let functions = kernel_name(self.kernel)
            .iter()
            .map(|name| module.load_function(name).map_err(e))
            .collect::<Result<Vec<_>>>()?;
        let inputs = problem
            .inputs
            .iter()
            .map(|x| s.clone_htod(x).map_err(e))
            .collect::<Result<Vec<_>>>()?;
        let output = s.alloc_zeros::<f32>(problem.output_len()).map_err(e)?;
        let partials = match self.shape {
            Shape::Flat(n) if self.kernel == Kernel::Sum => {
                self.grid((n / 4) as u64).min(MAX_PARTIALS)
            }
            _ => 1,
        };
        let (scratch_len, hidden_len) = match self.shape {
            Shape::Mlp { batch, width, .. } => (batch * width, batch * width),
            _ => (partials as usize, 0),
        };
        let scratch = s.alloc_zeros::<f32>(scratch_len).map_err(e)?;
        let hidden = s.alloc_zeros::<f32>(hidden_len.max(1)).map_err(e)?;
        Ok(State {
            problem: problem.clone(),
            inputs,
            output,
            scratch,
            hidden,
            functions,
            partials,
        })
    }

    fn read_output(&self) -> Result<Vec<f32>> {
        let st = self
            .state
            .as_ref()
            .ok_or_else(|| Error::workload(&self.spec.id, "used before prepare()"))?;
        self.gpu
            .stream
            .clone_dtoh(&st.output)
            .map_err(|e| self.gpu.error(e))
    }
}

impl Workload for CudaKernelWorkload {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.state = None;
        let problem = Problem::generate(self.kernel, self.shape, seed);
        if let (Kernel::Binary(_) | Kernel::Unary(_) | Kernel::Sum, Shape::Flat(n)) =
            (self.kernel, self.shape)
            && !n.is_multiple_of(4)
        {
            return Err(Error::workload(&self.spec.id, "n must be a multiple of 4"));
        }
        self.state = Some(self.upload(&problem)?);
        self.gpu.sync()
    }

    fn execute(&mut self) {
        if let Err(e) = self.launch() {
            let e = self.gpu.error(e);
            self.failure.get_or_insert(e);
        }
    }

    fn sync(&mut self) -> Result<()> {
        self.failure.take().map_or(Ok(()), Err)?;
        self.gpu.sync()
    }

    fn validate(&mut self) -> Result<Validation> {
        let got = self.read_output()?;
        let st = self
            .state
            .as_ref()
            .ok_or_else(|| Error::workload(&self.spec.id, "used before prepare()"))?;
        Ok(st.problem.validate(&got, self.depth(st.partials)))
    }

    fn tensors(&self) -> Vec<NamedTensor> {
        match (&self.state, self.read_output()) {
            (Some(st), Ok(out)) => st.problem.named_tensors(out),
            _ => Vec::new(),
        }
    }
}
