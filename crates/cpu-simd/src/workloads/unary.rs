//! Unary activations and `exp`: relu, leaky_relu, sigmoid, tanh, gelu (tanh approximation), exp.

use super::elementwise::{Elementwise, Kernel, OpDef};
use super::{Backend, Ctx, spec};
use crate::kernels::{LEAKY_RELU_ALPHA, par, peers, scalar, simd::Kernels};
use tensorbench_core::suite::Suite;
use tensorbench_ops::op;

/// Inputs span the range where each function is not saturated, and then some.
const WIDE: &[(f32, f32)] = &[(-8.0, 8.0)];
/// The polynomial/rational approximations are good to a few ulp; 1e-5 leaves margin.
const TRANSCENDENTAL: f64 = 1e-5;

/// GELU, tanh approximation: the shared f64 reference.
pub use tensorbench_ops::reference::gelu as gelu_reference;

fn def(name: &'static str, reference: fn(&[f64]) -> f64, tolerance: f64) -> OpDef {
    OpDef {
        name,
        inputs: WIDE,
        reference,
        tolerance,
    }
}

fn ops() -> Vec<(OpDef, Vec<(Backend, Kernel)>)> {
    use Backend::*;
    use Kernel::Unary as U;
    vec![
        (
            def(op::RELU, |v| v[0].max(0.0), 1e-7),
            vec![
                (Scalar, U(scalar::relu)),
                (Simd, U(|x, o| Kernels::best().relu(x, o))),
                (Rayon, U(par::relu)),
                (Ndarray, U(peers::nd::relu)),
            ],
        ),
        (
            def(
                "leaky_relu",
                |v| {
                    if v[0] > 0.0 {
                        v[0]
                    } else {
                        f64::from(LEAKY_RELU_ALPHA) * v[0]
                    }
                },
                1e-6,
            ),
            vec![
                (Scalar, U(|x, o| scalar::leaky_relu(x, LEAKY_RELU_ALPHA, o))),
                (
                    Simd,
                    U(|x, o| Kernels::best().leaky_relu(x, LEAKY_RELU_ALPHA, o)),
                ),
                (Rayon, U(|x, o| par::leaky_relu(x, LEAKY_RELU_ALPHA, o))),
            ],
        ),
        (
            def("sigmoid", |v| 1.0 / (1.0 + (-v[0]).exp()), TRANSCENDENTAL),
            vec![
                (Scalar, U(scalar::sigmoid)),
                (Simd, U(|x, o| Kernels::best().sigmoid(x, o))),
                (Rayon, U(par::sigmoid)),
            ],
        ),
        (
            def("tanh", |v| v[0].tanh(), TRANSCENDENTAL),
            vec![
                (Scalar, U(scalar::tanh)),
                (Simd, U(|x, o| Kernels::best().tanh(x, o))),
                (Rayon, U(par::tanh)),
            ],
        ),
        (
            def(op::GELU, |v| gelu_reference(v[0]), TRANSCENDENTAL),
            vec![
                (Scalar, U(scalar::gelu)),
                (Simd, U(|x, o| Kernels::best().gelu(x, o))),
                (Rayon, U(par::gelu)),
            ],
        ),
        (
            def(op::EXP, |v| v[0].exp(), TRANSCENDENTAL),
            vec![
                (Scalar, U(scalar::exp)),
                (Simd, U(|x, o| Kernels::best().exp(x, o))),
                (Rayon, U(par::exp)),
                (Ndarray, U(peers::nd::exp)),
            ],
        ),
    ]
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for (def, kernels) in ops() {
        for n in ctx.sizes() {
            for &(backend, kernel) in &kernels {
                suite.add(Elementwise::new(
                    spec(def.name, backend, ctx),
                    def,
                    kernel,
                    n,
                ));
            }
        }
    }
}
