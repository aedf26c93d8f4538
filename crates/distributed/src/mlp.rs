//! A small multilayer perceptron (tanh hidden layers, linear output, mean squared error) with its
//! backward pass, generic over f32 (the timed step, matrixmultiply's sgemm) and f64 (the
//! reference, dgemm). tanh rather than ReLU keeps the f32 and f64 gradients close everywhere: no
//! activation mask can flip between the two precisions.

use std::ops::{Add, AddAssign, Mul, Sub};

/// Element type of the network: f32 for the measured step, f64 for its reference.
pub trait Real:
    Copy
    + Default
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + AddAssign
{
    fn from_f64(x: f64) -> Self;
    fn tanh(self) -> Self;
    /// C (m×n) = op(A) (m×k) · op(B) (k×n) + beta·C, row-major; `ta`/`tb` read A/B transposed.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: &[Self],
        ta: bool,
        b: &[Self],
        tb: bool,
        beta: Self,
        c: &mut [Self],
    );
}

/// (row, column) strides for reading a row-major matrix with `cols` stored columns, as is or
/// transposed.
fn strides(cols: usize, transposed: bool) -> (isize, isize) {
    if transposed {
        (1, cols as isize)
    } else {
        (cols as isize, 1)
    }
}

macro_rules! impl_real {
    ($t:ty, $gemm:path) => {
        impl Real for $t {
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                a: &[Self],
                ta: bool,
                b: &[Self],
                tb: bool,
                beta: Self,
                c: &mut [Self],
            ) {
                assert!(
                    a.len() >= m * k && b.len() >= k * n && c.len() >= m * n,
                    "gemm operand too short"
                );
                // A is stored m×k, or k×m when transposed; B likewise k×n or n×k.
                let (rsa, csa) = if ta {
                    strides(m, true)
                } else {
                    strides(k, false)
                };
                let (rsb, csb) = if tb {
                    strides(k, true)
                } else {
                    strides(n, false)
                };
                // SAFETY: the lengths are checked above and the strides stay inside each matrix.
                unsafe {
                    $gemm(
                        m,
                        k,
                        n,
                        1.0,
                        a.as_ptr(),
                        rsa,
                        csa,
                        b.as_ptr(),
                        rsb,
                        csb,
                        beta,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    );
                }
            }
        }
    };
}
impl_real!(f32, matrixmultiply::sgemm);
impl_real!(f64, matrixmultiply::dgemm);

/// Layer widths, input first: `[input, hidden..., output]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// The network the data-parallel benchmarks train: 256 → 512 → 512 → 64 (about 0.4 M
    /// parameters, a 1.6 MB gradient).
    pub fn benchmark() -> Self {
        Shape(vec![256, 512, 512, 64])
    }

    fn layers(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.0.windows(2).map(|w| (w[0], w[1]))
    }

    /// Weights and biases of all layers.
    pub fn param_count(&self) -> usize {
        self.layers().map(|(i, o)| i * o + o).sum()
    }

    /// Offsets of each layer's weights (i×o, row-major) and bias in the flat parameter vector.
    fn offsets(&self) -> Vec<(usize, usize)> {
        let mut at = 0;
        self.layers()
            .map(|(i, o)| {
                let w = at;
                at += i * o + o;
                (w, w + i * o)
            })
            .collect()
    }

    /// Floating-point operations of one forward and backward pass over `batch` samples: two GEMMs
    /// per layer (forward, weight gradient) and a third (input gradient) for all but the first.
    pub fn step_flops(&self, batch: usize) -> f64 {
        self.layers()
            .enumerate()
            .map(|(l, (i, o))| (if l == 0 { 4.0 } else { 6.0 }) * (batch * i * o) as f64)
            .sum()
    }

    pub fn input(&self) -> usize {
        self.0[0]
    }

    pub fn output(&self) -> usize {
        *self.0.last().expect("a shape has layers")
    }
}

/// Scratch buffers of one pass, kept between steps so the timed step does not allocate.
#[derive(Debug, Default)]
pub struct Workspace<T> {
    /// Pre-activations (last layer: outputs) and activations per layer, batch×width.
    z: Vec<Vec<T>>,
    a: Vec<Vec<T>>,
    /// Gradient of the loss with respect to each layer's pre-activation.
    dz: Vec<Vec<T>>,
}

impl<T: Real> Workspace<T> {
    pub fn new(shape: &Shape, batch: usize) -> Self {
        let per_layer = || {
            shape
                .layers()
                .map(|(_, o)| vec![T::default(); batch * o])
                .collect()
        };
        Self {
            z: per_layer(),
            a: per_layer(),
            dz: per_layer(),
        }
    }
}

/// Loss gradient with respect to every parameter for inputs `x` (batch×input) and targets `t`
/// (batch×output), written into `grads` (same layout as `params`). Loss: ½·mean over the batch of
/// the squared error.
pub fn gradients<T: Real>(
    shape: &Shape,
    params: &[T],
    x: &[T],
    t: &[T],
    batch: usize,
    grads: &mut [T],
    ws: &mut Workspace<T>,
) {
    let offsets = shape.offsets();
    let dims: Vec<(usize, usize)> = shape.layers().collect();
    let last = dims.len() - 1;
    for (l, &(i, o)) in dims.iter().enumerate() {
        let (w, b) = offsets[l];
        let (before, rest) = ws.a.split_at_mut(l);
        let input: &[T] = if l == 0 { x } else { &before[l - 1] };
        let z = &mut ws.z[l];
        for row in z.chunks_mut(o) {
            row.copy_from_slice(&params[b..b + o]);
        }
        T::gemm(
            batch,
            i,
            o,
            input,
            false,
            &params[w..w + i * o],
            false,
            T::from_f64(1.0),
            z,
        );
        let a = &mut rest[0];
        for (a, &z) in a.iter_mut().zip(z.iter()) {
            *a = if l == last { z } else { z.tanh() };
        }
    }
    let scale = T::from_f64(1.0 / batch as f64);
    for ((d, &y), &t) in ws.dz[last].iter_mut().zip(&ws.a[last]).zip(t) {
        *d = (y - t) * scale;
    }
    for l in (0..=last).rev() {
        let (i, o) = dims[l];
        let (w, b) = offsets[l];
        let input: &[T] = if l == 0 { x } else { &ws.a[l - 1] };
        let (dw, db) = grads[w..b + o].split_at_mut(i * o);
        T::gemm(i, batch, o, input, true, &ws.dz[l], false, T::default(), dw);
        db.fill(T::default());
        for row in ws.dz[l].chunks(o) {
            for (g, &d) in db.iter_mut().zip(row) {
                *g += d;
            }
        }
        if l > 0 {
            let (lower, upper) = ws.dz.split_at_mut(l);
            let da = &mut lower[l - 1];
            T::gemm(
                batch,
                o,
                i,
                &upper[0],
                false,
                &params[w..w + i * o],
                true,
                T::default(),
                da,
            );
            // d tanh(z)/dz = 1 - tanh(z)^2, and a = tanh(z) is kept.
            for (d, &a) in da.iter_mut().zip(&ws.a[l - 1]) {
                *d = *d * (T::from_f64(1.0) - a * a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss(shape: &Shape, p: &[f64], x: &[f64], t: &[f64], batch: usize) -> f64 {
        let mut act = x.to_vec();
        let offsets = shape.offsets();
        let dims: Vec<_> = shape.layers().collect();
        for (l, &(i, o)) in dims.iter().enumerate() {
            let (w, b) = offsets[l];
            let mut next = vec![0.0; batch * o];
            for s in 0..batch {
                for j in 0..o {
                    let mut z = p[b + j];
                    for k in 0..i {
                        z += act[s * i + k] * p[w + k * o + j];
                    }
                    next[s * o + j] = if l + 1 == dims.len() { z } else { z.tanh() };
                }
            }
            act = next;
        }
        act.iter()
            .zip(t)
            .map(|(y, t)| 0.5 * (y - t).powi(2))
            .sum::<f64>()
            / batch as f64
    }

    #[test]
    fn backward_matches_finite_differences() {
        let shape = Shape(vec![3, 4, 2]);
        let batch = 5;
        let n = shape.param_count();
        let p: Vec<f64> = (0..n)
            .map(|k| ((k * 37 % 11) as f64 - 5.0) / 10.0)
            .collect();
        let x: Vec<f64> = (0..batch * 3)
            .map(|k| ((k * 13 % 7) as f64 - 3.0) / 4.0)
            .collect();
        let t: Vec<f64> = (0..batch * 2)
            .map(|k| ((k * 5 % 3) as f64 - 1.0) / 2.0)
            .collect();
        let mut g = vec![0.0; n];
        gradients(
            &shape,
            &p,
            &x,
            &t,
            batch,
            &mut g,
            &mut Workspace::new(&shape, batch),
        );
        for k in 0..n {
            let (mut hi, mut lo) = (p.clone(), p.clone());
            hi[k] += 1e-6;
            lo[k] -= 1e-6;
            let fd = (loss(&shape, &hi, &x, &t, batch) - loss(&shape, &lo, &x, &t, batch)) / 2e-6;
            assert!(
                (fd - g[k]).abs() < 1e-7,
                "param {k}: analytic {} vs numeric {fd}",
                g[k]
            );
        }
    }

    #[test]
    fn flops_count_three_gemms_per_hidden_layer() {
        let s = Shape(vec![2, 3, 4]);
        assert_eq!(s.step_flops(10), 4.0 * 60.0 + 6.0 * 120.0);
        assert_eq!(s.param_count(), 2 * 3 + 3 + 3 * 4 + 4);
    }
}
