//! conv2d (NCHW, OIHW weights, no bias): the direct loop nest (scalar), and im2col + GEMM with
//! our SIMD GEMM, our rayon GEMM and the `gemm` crate.

use super::{Backend, Ctx, Profile, check, gemm_tolerance, spec};
use crate::kernels::conv::{ConvShape, conv2d_direct, conv2d_im2col};
use crate::kernels::simd::{GemmWorkspace, Kernels};
use crate::kernels::{par, peers};
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::workload::validate_against;
use tensorbench_core::{Result, Workload, WorkloadSpec, data};

/// Output entries checked against f64 when the output is large.
const SAMPLES: usize = 512;

pub struct Conv2d {
    spec: WorkloadSpec,
    backend: Backend,
    threads: usize,
    shape: ConvShape,
    seed: u64,
    input: Vec<f32>,
    weights: Vec<f32>,
    cols: Vec<f32>,
    out: Vec<f32>,
    ws: GemmWorkspace,
}

impl Conv2d {
    pub fn new(backend: Backend, shape: ConvShape, ctx: &Ctx) -> Self {
        let s = &shape;
        let cols = s.patch_len() * s.positions();
        let moved = s.input_len() + s.weight_len() + s.output_len();
        let spec = spec("conv2d", backend, ctx)
            .param("n", s.batch)
            .param("c", s.c_in)
            .param("h", s.h)
            .param("w", s.w)
            .param("k", s.c_out)
            .param("r", s.kh)
            .param("stride", s.stride)
            .param("pad", s.pad)
            .cost(s.flops(), (moved * 4) as f64)
            .footprint(((moved + cols) * 4) as u64);
        Self {
            spec,
            backend,
            threads: backend.threads(ctx),
            shape,
            seed: 0,
            input: vec![],
            weights: vec![],
            cols: vec![],
            out: vec![],
            ws: GemmWorkspace::new(),
        }
    }

    /// f64 value of output element `e`.
    fn reference_at(&self, e: usize) -> f64 {
        let s = &self.shape;
        let (oh, ow) = (s.out_h(), s.out_w());
        let (x, y) = (e % ow, (e / ow) % oh);
        let (o, img) = ((e / (ow * oh)) % s.c_out, e / (ow * oh * s.c_out));
        let mut acc = 0.0f64;
        for c in 0..s.c_in {
            for i in 0..s.kh {
                for j in 0..s.kw {
                    if let Some(k) = s.input_index(img, c, y, x, i, j) {
                        let w = self.weights[((o * s.c_in + c) * s.kh + i) * s.kw + j];
                        acc += f64::from(self.input[k]) * f64::from(w);
                    }
                }
            }
        }
        acc
    }
}

impl Workload for Conv2d {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let s = self.shape;
        self.seed = seed;
        self.input = data::uniform_f32(s.input_len(), seed);
        self.weights = data::uniform_f32(s.weight_len(), seed.wrapping_add(1));
        self.cols = vec![0.0; s.patch_len() * s.positions()];
        self.out = vec![f32::NAN; s.output_len()];
        Ok(())
    }
    fn execute(&mut self) {
        let (s, threads) = (self.shape, self.threads);
        let (input, weights, cols, out) =
            (&self.input, &self.weights, &mut self.cols, &mut self.out);
        match self.backend {
            Backend::Scalar => conv2d_direct(&s, input, weights, out),
            Backend::Simd => {
                let ws = &mut self.ws;
                conv2d_im2col(&s, input, weights, cols, out, |m, n, k, a, b, c| {
                    Kernels::best().gemm(m, n, k, a, b, c, ws)
                })
            }
            Backend::Rayon => conv2d_im2col(&s, input, weights, cols, out, par::gemm),
            _ => conv2d_im2col(&s, input, weights, cols, out, |m, n, k, a, b, c| {
                peers::gemm_crate(m, n, k, a, b, c, threads)
            }),
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let len = self.out.len();
        if len <= SAMPLES * 8 {
            let reference: Vec<f64> = (0..len).map(|e| self.reference_at(e)).collect();
            return Ok(check(
                &self.out,
                &reference,
                gemm_tolerance(self.shape.patch_len()),
            ));
        }
        let picks: Vec<usize> = data::uniform_f32_in(SAMPLES, self.seed ^ 0xC0DE, 0.0, 1.0)
            .into_iter()
            .map(|u| ((u as f64 * len as f64) as usize).min(len - 1))
            .collect();
        let got: Vec<f32> = picks.iter().map(|&e| self.out[e]).collect();
        let reference: Vec<f64> = picks.iter().map(|&e| self.reference_at(e)).collect();
        let tol = gemm_tolerance(self.shape.patch_len());
        Ok(validate_against(
            &got,
            &reference,
            tol,
            "f64 direct convolution at 512 random outputs",
        ))
    }
}

fn shape(c_in: usize, hw: usize, c_out: usize, k: usize, stride: usize, pad: usize) -> ConvShape {
    ConvShape {
        batch: 1,
        c_in,
        h: hw,
        w: hw,
        c_out,
        kh: k,
        kw: k,
        stride,
        pad,
    }
}

/// ResNet-like layers: a 3×3 stage-2/stage-3 convolution and the 7×7 stride-2 stem.
pub fn shapes(ctx: &Ctx) -> Vec<ConvShape> {
    match ctx.profile {
        Profile::Quick => vec![shape(64, 28, 64, 3, 1, 1)],
        Profile::Standard | Profile::Full => vec![
            shape(64, 56, 64, 3, 1, 1),
            shape(128, 28, 128, 3, 1, 1),
            shape(3, 224, 64, 7, 2, 3),
        ],
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for s in shapes(ctx) {
        for backend in [
            Backend::Scalar,
            Backend::Simd,
            Backend::Rayon,
            Backend::GemmCrate,
        ] {
            suite.add(Conv2d::new(backend, s, ctx));
        }
    }
}
