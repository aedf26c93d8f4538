//! The ops every GPU backend implements, independent of any backend: their shapes, cost models,
//! seeded inputs and f64 references. A backend uploads [`Problem::inputs`], runs its kernel and
//! hands the output back to [`Problem::validate`].

use crate::reference;
use tensorbench_core::data;
use tensorbench_core::schema::Validation;
use tensorbench_core::workload::NamedTensor;
use tensorbench_ops::{ids, op};

/// Elementwise ops of two inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Mul,
}

/// Elementwise ops of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Relu,
    /// The tanh approximation used by GPT-2 and most GPU libraries.
    Gelu,
    Exp,
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 2] = [BinaryOp::Add, BinaryOp::Mul];

    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => op::ADD,
            BinaryOp::Mul => op::MUL,
        }
    }

    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Mul => a * b,
        }
    }
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 3] = [UnaryOp::Relu, UnaryOp::Gelu, UnaryOp::Exp];

    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Relu => op::RELU,
            UnaryOp::Gelu => op::GELU,
            UnaryOp::Exp => op::EXP,
        }
    }

    pub fn apply(self, x: f64) -> f64 {
        match self {
            UnaryOp::Relu => x.max(0.0),
            UnaryOp::Gelu => reference::gelu(x),
            UnaryOp::Exp => x.exp(),
        }
    }

    /// Floating-point operations per element, counting a transcendental as one.
    fn flops(self) -> f64 {
        match self {
            UnaryOp::Relu | UnaryOp::Exp => 1.0,
            // x³ (2), ×c (1), +x (1), ×√(2/π) (1), tanh (1), +1 (1), ×x (1), ×½ (1)
            UnaryOp::Gelu => 9.0,
        }
    }
}

/// One op a GPU kernel computes on f32 data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Binary(BinaryOp),
    Unary(UnaryOp),
    /// Sum of all elements.
    Sum,
    /// Sum of each row of a row-major matrix.
    RowSum,
    /// Softmax of each row.
    Softmax,
    /// Layer normalisation of each row, with per-column gain and bias.
    LayerNorm,
    /// C = A·B, row-major.
    Gemm,
    /// Out-of-place transpose of a row-major matrix.
    Transpose,
    /// Forward pass of an MLP: h ← gelu(h·W) for each square weight matrix, GEMMs and GELUs
    /// run one after another as a framework would.
    Mlp,
}

/// Epsilon added to the variance in layer_norm (PyTorch's default, shared by every backend).
pub use tensorbench_ops::reference::LAYER_NORM_EPS;

impl Kernel {
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Binary(op) => op.name(),
            Kernel::Unary(op) => op.name(),
            Kernel::Sum => op::SUM,
            Kernel::RowSum => "row_sum",
            Kernel::Softmax => op::SOFTMAX,
            Kernel::LayerNorm => op::LAYER_NORM,
            Kernel::Gemm => op::GEMM,
            Kernel::Transpose => op::TRANSPOSE,
            Kernel::Mlp => "mlp_forward",
        }
    }
}

/// The size of one problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A flat vector of `n` elements.
    Flat(usize),
    /// A row-major matrix.
    Rows { rows: usize, cols: usize },
    /// C\[m×n\] = A\[m×k\]·B\[k×n\].
    Gemm { m: usize, n: usize, k: usize },
    /// `layers` square layers of `width` on a batch of `batch` rows.
    Mlp {
        batch: usize,
        width: usize,
        layers: usize,
    },
}

impl Shape {
    /// The workload parameters, named as every suite names them.
    pub fn params(self) -> Vec<(&'static str, usize)> {
        match self {
            Shape::Flat(n) => ids::flat(n).to_vec(),
            Shape::Rows { rows, cols } => ids::rows(rows, cols).to_vec(),
            Shape::Gemm { m, n, k } => ids::gemm(m, n, k).to_vec(),
            Shape::Mlp {
                batch,
                width,
                layers,
            } => ids::mlp(batch, width, layers).to_vec(),
        }
    }

    fn elements(self) -> usize {
        match self {
            Shape::Flat(n) => n,
            Shape::Rows { rows, cols } => rows * cols,
            Shape::Gemm { m, n, .. } => m * n,
            Shape::Mlp { batch, width, .. } => batch * width,
        }
    }
}

/// FLOPs and minimal bytes of one run of `kernel` on `shape` in f32.
pub fn cost(kernel: Kernel, shape: Shape) -> (f64, f64) {
    let e = shape.elements() as f64;
    match (kernel, shape) {
        (Kernel::Gemm, Shape::Gemm { m, n, k }) => {
            let (m, n, k) = (m as f64, n as f64, k as f64);
            (2.0 * m * n * k, 4.0 * (m * k + k * n + m * n))
        }
        (Kernel::Binary(_), _) => (e, 12.0 * e),
        (Kernel::Unary(op), _) => (op.flops() * e, 8.0 * e),
        (Kernel::Sum, _) => (e, 4.0 * e + 4.0),
        (Kernel::RowSum, Shape::Rows { rows, .. }) => (e, 4.0 * e + 4.0 * rows as f64),
        // max, subtract, exp, sum, divide
        (Kernel::Softmax, _) => (5.0 * e, 8.0 * e),
        // mean, centre, square+sum, scale, gain, bias (two FLOPs each for the fused ones)
        (Kernel::LayerNorm, Shape::Rows { cols, .. }) => (8.0 * e, 8.0 * e + 8.0 * cols as f64),
        (Kernel::Transpose, _) => (0.0, 8.0 * e),
        // Per layer a GEMM and a GELU; the weights are read once, the activations in and out.
        (
            Kernel::Mlp,
            Shape::Mlp {
                batch,
                width,
                layers,
            },
        ) => {
            let (b, w, l) = (batch as f64, width as f64, layers as f64);
            let gelu = UnaryOp::Gelu.flops();
            (
                l * (2.0 * b * w * w + gelu * b * w),
                4.0 * (l * w * w + 2.0 * b * w),
            )
        }
        _ => (0.0, 0.0),
    }
}

/// Seeded inputs of one op and what its output must be.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kernel: Kernel,
    pub shape: Shape,
    pub inputs: Vec<Vec<f32>>,
}

impl Problem {
    /// Fresh inputs from `seed` (input `i` uses `seed + i`, so peers can regenerate them).
    /// Reductions get non-negative inputs so that a lost or doubled partial sum shows up far
    /// above rounding error (see [`Problem::validate`]).
    pub fn generate(kernel: Kernel, shape: Shape, seed: u64) -> Self {
        let n = shape.elements();
        let signed = |i: u64, len: usize| data::uniform_f32(len, seed.wrapping_add(i));
        let inputs = match (kernel, shape) {
            (Kernel::Binary(_), _) => vec![signed(0, n), signed(1, n)],
            (Kernel::Unary(_) | Kernel::Softmax | Kernel::Transpose, _) => vec![signed(0, n)],
            (Kernel::Sum | Kernel::RowSum, _) => vec![data::uniform_f32_in(n, seed, 0.0, 1.0)],
            (Kernel::LayerNorm, Shape::Rows { cols, .. }) => vec![
                signed(0, n),
                data::uniform_f32_in(cols, seed.wrapping_add(1), 0.5, 1.5),
                signed(2, cols),
            ],
            (Kernel::Gemm, Shape::Gemm { m, n, k }) => vec![signed(0, m * k), signed(1, k * n)],
            (Kernel::Mlp, Shape::Mlp { width, layers, .. }) => {
                // U(-1,1)·√(3/width) keeps the variance of h·W that of h, layer after layer.
                let scale = (3.0 / width as f32).sqrt();
                let weight = |i: u64| signed(i, width * width).iter().map(|w| w * scale).collect();
                std::iter::once(signed(0, n))
                    .chain((1..=layers as u64).map(weight))
                    .collect()
            }
            _ => vec![signed(0, n)],
        };
        Self {
            kernel,
            shape,
            inputs,
        }
    }

    /// Number of f32 elements in the output.
    pub fn output_len(&self) -> usize {
        match (self.kernel, self.shape) {
            (Kernel::Sum, _) => 1,
            (Kernel::RowSum, Shape::Rows { rows, .. }) => rows,
            (_, shape) => shape.elements(),
        }
    }

    /// The shapes of the inputs, in order.
    pub fn input_shapes(&self) -> Vec<Vec<usize>> {
        match (self.kernel, self.shape) {
            (Kernel::Gemm, Shape::Gemm { m, n, k }) => vec![vec![m, k], vec![k, n]],
            (Kernel::LayerNorm, Shape::Rows { rows, cols }) => {
                vec![vec![rows, cols], vec![cols], vec![cols]]
            }
            (
                Kernel::Mlp,
                Shape::Mlp {
                    batch,
                    width,
                    layers,
                },
            ) => std::iter::once(vec![batch, width])
                .chain(std::iter::repeat_n(vec![width, width], layers))
                .collect(),
            (_, Shape::Rows { rows, cols }) => vec![vec![rows, cols]; self.inputs.len()],
            (_, shape) => vec![vec![shape.elements()]; self.inputs.len()],
        }
    }

    /// The shape of the output.
    pub fn output_shape(&self) -> Vec<usize> {
        match (self.kernel, self.shape) {
            (Kernel::Sum, _) => vec![1],
            (Kernel::RowSum, Shape::Rows { rows, .. }) => vec![rows],
            (Kernel::Transpose, Shape::Rows { rows, cols }) => vec![cols, rows],
            (_, Shape::Rows { rows, cols }) => vec![rows, cols],
            (_, Shape::Gemm { m, n, .. }) => vec![m, n],
            (_, Shape::Mlp { batch, width, .. }) => vec![batch, width],
            (_, Shape::Flat(n)) => vec![n],
        }
    }

    /// Inputs and `output` for peer cross-checks (`--dump-tensors`).
    pub fn named_tensors(&self, output: Vec<f32>) -> Vec<NamedTensor> {
        let fixed = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        let names: Vec<String> = match self.kernel {
            Kernel::Gemm => fixed(&["a", "b"]),
            Kernel::LayerNorm => fixed(&["x", "gain", "bias"]),
            Kernel::Mlp => std::iter::once("x".to_string())
                .chain((1..self.inputs.len()).map(|i| format!("w{i}")))
                .collect(),
            _ => fixed(&["x", "y", "z"]),
        };
        let mut out: Vec<NamedTensor> = self
            .inputs
            .iter()
            .zip(self.input_shapes())
            .zip(names)
            .map(|((data, shape), name)| NamedTensor::input(&name, &shape, data))
            .collect();
        out.push(NamedTensor::output("out", &self.output_shape(), &output));
        out
    }

    /// Checks `got` against the f64 reference.
    ///
    /// `depth` is the longest chain of f32 additions the kernel performs for one output of a sum,
    /// row sum or GEMM (sequential terms per thread plus tree levels); their error is bounded by
    /// `depth · 2⁻²⁴ · Σ|terms|` whatever the summation order, which is the tolerance used.
    /// Other ops use a fixed elementwise relative tolerance.
    pub fn validate(&self, got: &[f32], depth: usize) -> Validation {
        let x = &self.inputs;
        let sum_tol = reference::summation_tolerance(depth);
        match (self.kernel, self.shape) {
            (Kernel::Binary(op), _) => reference::validate_elementwise(
                got,
                |i| op.apply(x[0][i].into(), x[1][i].into()),
                reference::ROUNDED_TOLERANCE,
                "f64 elementwise",
            ),
            (Kernel::Unary(op), _) => reference::validate_elementwise(
                got,
                |i| op.apply(x[0][i].into()),
                match op {
                    UnaryOp::Relu => 0.0,
                    UnaryOp::Gelu | UnaryOp::Exp => reference::TRANSCENDENTAL_TOLERANCE,
                },
                "f64 elementwise",
            ),
            (Kernel::Sum, _) => {
                let (sum, abs) = reference::sum_and_abs(&x[0]);
                let what = "f64 sum, error relative to Σ|x|";
                reference::validate_magnitudes(got, &[sum], &[abs], sum_tol, what)
            }
            (Kernel::RowSum, Shape::Rows { cols, .. }) => {
                let (sums, abs): (Vec<f64>, Vec<f64>) =
                    x[0].chunks(cols).map(reference::sum_and_abs).unzip();
                let what = "f64 row sums, error relative to Σ|x|";
                reference::validate_magnitudes(got, &sums, &abs, sum_tol, what)
            }
            (Kernel::Softmax, Shape::Rows { cols, .. }) => {
                let reference = reference::softmax_rows(&x[0], cols);
                reference::validate_elementwise(
                    got,
                    |i| reference[i],
                    reference::TRANSCENDENTAL_TOLERANCE + sum_tol,
                    "f64 softmax",
                )
            }
            (Kernel::LayerNorm, Shape::Rows { .. }) => {
                let (reference, magnitudes) = reference::layer_norm_rows_with_magnitudes(
                    &x[0],
                    &x[1],
                    &x[2],
                    LAYER_NORM_EPS.into(),
                );
                reference::validate_magnitudes(
                    got,
                    &reference,
                    &magnitudes,
                    reference::TRANSCENDENTAL_TOLERANCE + sum_tol,
                    "f64 layer_norm, error relative to |x̂·gain| + |bias|",
                )
            }
            (Kernel::Transpose, Shape::Rows { rows, cols }) => reference::validate_elementwise(
                got,
                |i| f64::from(x[0][(i % rows) * cols + i / rows]),
                0.0,
                "exact copy",
            ),
            (Kernel::Gemm, Shape::Gemm { m, n, k }) => {
                reference::validate_gemm(got, &x[0], &x[1], (m, n, k), sum_tol)
            }
            (
                Kernel::Mlp,
                Shape::Mlp {
                    batch,
                    width,
                    layers,
                },
            ) => {
                let (reference, magnitudes) = reference::mlp_forward(&x[0], &x[1..], batch, width);
                // Each layer adds its GEMM's rounding and its GELU's to what it was given.
                let tolerance = layers as f64 * (sum_tol + reference::TRANSCENDENTAL_TOLERANCE);
                reference::validate_magnitudes(
                    got,
                    &reference,
                    &magnitudes,
                    tolerance,
                    "f64 MLP forward, error relative to Σ|h·W| of the last layer",
                )
            }
            (kernel, shape) => Validation {
                max_rel_err: f64::INFINITY,
                tolerance: 0.0,
                passed: false,
                reference: format!("no reference for {} on {shape:?}", kernel.name()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_reference_catches_an_untransposed_copy() {
        let p = Problem::generate(Kernel::Transpose, Shape::Rows { rows: 3, cols: 5 }, 1);
        let mut t = vec![0.0f32; 15];
        for r in 0..3 {
            for c in 0..5 {
                t[c * 3 + r] = p.inputs[0][r * 5 + c];
            }
        }
        assert!(p.validate(&t, 0).passed);
        assert!(!p.validate(&p.inputs[0], 0).passed);
    }

    #[test]
    fn sum_reference_catches_a_lost_partial() {
        let p = Problem::generate(Kernel::Sum, Shape::Flat(4096), 3);
        let exact: f64 = p.inputs[0].iter().map(|&v| f64::from(v)).sum();
        assert!(p.validate(&[exact as f32], 20).passed);
        let lost: f64 = p.inputs[0][..4095].iter().map(|&v| f64::from(v)).sum();
        assert!(!p.validate(&[lost as f32], 20).passed);
    }

    #[test]
    fn mlp_reference_catches_a_skipped_gelu_and_a_lost_layer() {
        let shape = Shape::Mlp {
            batch: 3,
            width: 16,
            layers: 2,
        };
        let p = Problem::generate(Kernel::Mlp, shape, 5);
        let (x, w) = (&p.inputs[0], &p.inputs[1..]);
        let forward = |layers: usize, gelu: bool| -> Vec<f32> {
            let mut h: Vec<f32> = x.clone();
            for wl in &w[..layers] {
                let mut next = vec![0.0f32; h.len()];
                for r in 0..3 {
                    for j in 0..16 {
                        let dot: f32 = (0..16).map(|k| h[r * 16 + k] * wl[k * 16 + j]).sum();
                        next[r * 16 + j] = if gelu {
                            reference::gelu(dot.into()) as f32
                        } else {
                            dot
                        };
                    }
                }
                h = next;
            }
            h
        };
        assert!(p.validate(&forward(2, true), 16).passed);
        assert!(!p.validate(&forward(2, false), 16).passed);
        assert!(!p.validate(&forward(1, true), 16).passed);
    }

    #[test]
    fn costs_follow_the_shapes() {
        assert_eq!(
            cost(Kernel::Binary(BinaryOp::Add), Shape::Flat(10)),
            (10.0, 120.0)
        );
        let (f, b) = cost(Kernel::Gemm, Shape::Gemm { m: 2, n: 3, k: 4 });
        assert_eq!((f, b), (48.0, 4.0 * (8.0 + 12.0 + 6.0)));
    }
}
