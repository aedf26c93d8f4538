//! A ResNet basic block (He et al. 2016), NCHW, inference form:
//!
//! ```text
//! out = ReLU(x + BN2(conv3x3(ReLU(BN1(conv3x3(x))))))
//! ```
//!
//! Convolutions are 3×3, stride 1, padding 1, channels in = out, no bias; each runs as im2col +
//! GEMM. Batch norm uses running statistics folded once into a per-channel scale and shift
//! (`scale = gamma/sqrt(var + eps)`, `shift = beta - mean·scale`), fused with its ReLU.

use super::exec::Exec;
use crate::kernels::simd::Act;
use rayon::prelude::*;
use tensorbench_core::data;

/// The epsilon of batch normalisation (PyTorch's default).
pub const BN_EPS: f32 = 1e-5;

/// Shape of one basic block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResNetConfig {
    pub batch: usize,
    pub channels: usize,
    /// Height and width of the (square) feature map.
    pub hw: usize,
}

impl ResNetConfig {
    pub fn positions(&self) -> usize {
        self.hw * self.hw
    }

    /// Elements of the block's input (and output).
    pub fn act_len(&self) -> usize {
        self.batch * self.channels * self.positions()
    }

    /// Floats of one convolution's weights.
    pub fn weight_len(&self) -> usize {
        9 * self.channels * self.channels
    }

    /// The two convolutions' 2·C·C·9·H·W per image. Batch norm, ReLU and the skip add (about
    /// 0.3% more at C = 64) are not counted.
    pub fn flops(&self) -> f64 {
        2.0 * 2.0 * (self.batch * self.weight_len() * self.positions()) as f64
    }

    /// Minimal bytes: both weight tensors and batch-norm parameters read once, the input read,
    /// the output written.
    pub fn min_bytes(&self) -> f64 {
        4.0 * (2 * self.weight_len() + 8 * self.channels + 2 * self.act_len()) as f64
    }
}

/// One batch norm's running statistics and affine parameters.
#[derive(Debug, Clone)]
pub struct BatchNorm {
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

impl BatchNorm {
    fn random(c: usize, seed: u64) -> Self {
        let u = |s: u64, lo, hi| data::uniform_f32_in(c, seed.wrapping_add(s), lo, hi);
        Self {
            mean: u(0, -0.5, 0.5),
            var: u(1, 0.5, 2.0),
            gamma: u(2, 0.5, 1.5),
            beta: u(3, -0.2, 0.2),
        }
    }

    /// The per-channel `(scale, shift)` of the inference form.
    pub fn fold(&self) -> (Vec<f32>, Vec<f32>) {
        let scale: Vec<f32> = (self.gamma.iter().zip(&self.var))
            .map(|(g, v)| g / (v + BN_EPS).sqrt())
            .collect();
        let shift = (self.beta.iter().zip(&self.mean).zip(&scale))
            .map(|((b, m), s)| b - m * s)
            .collect();
        (scale, shift)
    }
}

/// Both convolutions' weights (OIHW) and batch norms.
#[derive(Debug, Clone)]
pub struct ResNetWeights {
    pub conv1: Vec<f32>,
    pub bn1: BatchNorm,
    pub conv2: Vec<f32>,
    pub bn2: BatchNorm,
}

impl ResNetWeights {
    pub fn random(c: &ResNetConfig, seed: u64) -> Self {
        let fan_in = 9 * c.channels;
        let w =
            |s: u64| super::transformer::init_weight(fan_in, c.weight_len(), seed.wrapping_add(s));
        Self {
            conv1: w(1),
            bn1: BatchNorm::random(c.channels, seed.wrapping_add(2)),
            conv2: w(3),
            bn2: BatchNorm::random(c.channels, seed.wrapping_add(4)),
        }
    }
}

/// A block ready to run, with its folded batch norms and buffers allocated once.
#[derive(Debug)]
pub struct ResNetBlock {
    pub config: ResNetConfig,
    pub weights: ResNetWeights,
    exec: Exec,
    bn1: (Vec<f32>, Vec<f32>),
    bn2: (Vec<f32>, Vec<f32>),
    /// im2col of one image: `9C × H·W`.
    cols: Vec<f32>,
    conv: Vec<f32>,
    mid: Vec<f32>,
    /// The block's output after the last `forward`.
    pub out: Vec<f32>,
}

impl ResNetBlock {
    pub fn new(config: ResNetConfig, weights: ResNetWeights, exec: Exec) -> Self {
        let n = config.act_len();
        Self {
            bn1: weights.bn1.fold(),
            bn2: weights.bn2.fold(),
            config,
            weights,
            exec,
            cols: vec![0.0; 9 * config.channels * config.positions()],
            conv: vec![0.0; n],
            mid: vec![0.0; n],
            out: vec![f32::NAN; n],
        }
    }

    /// Runs the block on `x` (`batch × C × H × W`); the result is in `self.out`.
    pub fn forward(&mut self, x: &[f32]) {
        let c = self.config;
        assert_eq!(
            x.len(),
            c.act_len(),
            "resnet input is not batch × C × H × W"
        );
        let per_image = c.channels * c.positions();
        self.conv3x3(x, Conv::First);
        for (y, o) in self
            .conv
            .chunks(per_image)
            .zip(self.mid.chunks_mut(per_image))
        {
            self.exec
                .scale_shift_rows(y, &self.bn1.0, &self.bn1.1, Act::Relu, o);
        }
        let mid = std::mem::take(&mut self.mid);
        self.conv3x3(&mid, Conv::Second);
        self.mid = mid;
        for (y, o) in self
            .conv
            .chunks(per_image)
            .zip(self.mid.chunks_mut(per_image))
        {
            self.exec
                .scale_shift_rows(y, &self.bn2.0, &self.bn2.1, Act::Identity, o);
        }
        self.exec.add_relu(&self.mid, x, &mut self.out);
    }

    /// `self.conv = conv3x3(input)` image by image: im2col, then weights · columns.
    fn conv3x3(&mut self, input: &[f32], which: Conv) {
        let c = self.config;
        let (ch, pos) = (c.channels, c.positions());
        let w = match which {
            Conv::First => &self.weights.conv1,
            Conv::Second => &self.weights.conv2,
        };
        for (img, out) in input.chunks(ch * pos).zip(self.conv.chunks_mut(ch * pos)) {
            im2col_3x3(img, ch, c.hw, &mut self.cols, self.exec.is_parallel());
            self.exec.gemm(ch, pos, 9 * ch, w, &self.cols, out);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Conv {
    First,
    Second,
}

/// im2col for a 3×3, stride 1, padding 1 convolution of one `C × hw × hw` image: row
/// `(c, i, j)` of `cols` is channel c shifted by `(i - 1, j - 1)`, zero outside. Copies whole
/// row segments, so it runs at copy speed; in parallel over channels on rayon.
pub fn im2col_3x3(img: &[f32], channels: usize, hw: usize, cols: &mut [f32], parallel: bool) {
    let pos = hw * hw;
    assert!(
        img.len() == channels * pos && cols.len() == 9 * channels * pos,
        "im2col_3x3 buffer sizes do not match"
    );
    let one_channel = |(c, rows): (usize, &mut [f32])| {
        let plane = &img[c * pos..(c + 1) * pos];
        for (tap, dst) in rows.chunks_exact_mut(pos).enumerate() {
            shifted_plane(plane, hw, tap / 3, tap % 3, dst);
        }
    };
    if parallel {
        cols.par_chunks_mut(9 * pos)
            .enumerate()
            .for_each(one_channel);
    } else {
        cols.chunks_mut(9 * pos).enumerate().for_each(one_channel);
    }
}

/// `dst[y, x] = plane[y + i - 1, x + j - 1]`, zero outside the plane.
fn shifted_plane(plane: &[f32], hw: usize, i: usize, j: usize, dst: &mut [f32]) {
    for y in 0..hw {
        let row = &mut dst[y * hw..(y + 1) * hw];
        let Some(sy) = (y + i).checked_sub(1).filter(|&sy| sy < hw) else {
            row.fill(0.0);
            continue;
        };
        let src = &plane[sy * hw..(sy + 1) * hw];
        match j {
            0 => {
                row[0] = 0.0;
                row[1..].copy_from_slice(&src[..hw - 1]);
            }
            1 => row.copy_from_slice(src),
            _ => {
                row[..hw - 1].copy_from_slice(&src[1..]);
                row[hw - 1] = 0.0;
            }
        }
    }
}

/// The block in f64 with the batch norms in their textbook form: the validation reference.
pub fn reference(c: &ResNetConfig, w: &ResNetWeights, x: &[f32]) -> Vec<f64> {
    let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let mut mid = conv3x3_f64(c, &w.conv1, &x);
    batch_norm_f64(c, &w.bn1, &mut mid);
    mid.iter_mut().for_each(|v| *v = v.max(0.0));
    let mut out = conv3x3_f64(c, &w.conv2, &mid);
    batch_norm_f64(c, &w.bn2, &mut out);
    for (o, xv) in out.iter_mut().zip(&x) {
        *o = (*o + xv).max(0.0);
    }
    out
}

/// Direct 3×3, stride 1, padding 1 convolution in f64.
pub fn conv3x3_f64(c: &ResNetConfig, w: &[f32], x: &[f64]) -> Vec<f64> {
    let (ch, hw, pos) = (c.channels, c.hw, c.positions());
    let mut out = vec![0.0; x.len()];
    for img in 0..c.batch {
        for o in 0..ch {
            let dst = &mut out[(img * ch + o) * pos..][..pos];
            for ci in 0..ch {
                let src = &x[(img * ch + ci) * pos..][..pos];
                for tap in 0..9 {
                    let wv = f64::from(w[(o * ch + ci) * 9 + tap]);
                    let (i, j) = (tap / 3, tap % 3);
                    for y in 0..hw {
                        let Some(sy) = (y + i).checked_sub(1).filter(|&s| s < hw) else {
                            continue;
                        };
                        for xx in 0..hw {
                            if let Some(sx) = (xx + j).checked_sub(1).filter(|&s| s < hw) {
                                dst[y * hw + xx] += wv * src[sy * hw + sx];
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// `(x - mean)/sqrt(var + eps)·gamma + beta` per channel, in place.
fn batch_norm_f64(c: &ResNetConfig, bn: &BatchNorm, x: &mut [f64]) {
    let pos = c.positions();
    for (plane_idx, plane) in x.chunks_mut(pos).enumerate() {
        let ch = plane_idx % c.channels;
        let f = |v: &[f32]| f64::from(v[ch]);
        let rstd = 1.0 / (f(&bn.var) + f64::from(BN_EPS)).sqrt();
        for v in plane.iter_mut() {
            *v = (*v - f(&bn.mean)) * rstd * f(&bn.gamma) + f(&bn.beta);
        }
    }
}
