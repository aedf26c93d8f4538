//! Elementwise binary ops `a ∘ b` (add, sub, mul, div) and their scalar-operand forms `a ∘ c`.

use super::elementwise::{Elementwise, Kernel, OpDef};
use super::{Backend, Ctx, Profile, spec};
use crate::kernels::{par, peers, scalar, simd::Kernels};
use tensorbench_core::suite::Suite;
use tensorbench_ops::op;

/// The scalar operand of the `*_scalar` ops.
pub const SCALAR_OPERAND: f32 = 1.5;

/// Divisors are kept in [0.5, 2) so division is well conditioned.
const TWO_INPUTS: &[(f32, f32)] = &[(-1.0, 1.0), (0.5, 2.0)];
const ONE_INPUT: &[(f32, f32)] = &[(-1.0, 1.0)];
/// Basic arithmetic is correctly rounded in f32: half an ulp, with margin.
const TOLERANCE: f64 = 1e-6;

fn def(name: &'static str, inputs: &'static [(f32, f32)], reference: fn(&[f64]) -> f64) -> OpDef {
    OpDef {
        name,
        inputs,
        reference,
        tolerance: TOLERANCE,
    }
}

/// The op table: name, f64 reference, and the kernel of each backend that has it.
fn ops() -> Vec<(OpDef, Vec<(Backend, Kernel)>)> {
    use Backend::*;
    use Kernel::{Binary as B, Unary as U};
    vec![
        (
            def(op::ADD, TWO_INPUTS, |v| v[0] + v[1]),
            vec![
                (Scalar, B(scalar::add)),
                (Simd, B(|a, b, o| Kernels::best().add(a, b, o))),
                (Rayon, B(par::add)),
                (Ndarray, B(peers::nd::add)),
            ],
        ),
        (
            def("sub", TWO_INPUTS, |v| v[0] - v[1]),
            vec![
                (Scalar, B(scalar::sub)),
                (Simd, B(|a, b, o| Kernels::best().sub(a, b, o))),
                (Rayon, B(par::sub)),
                (Ndarray, B(peers::nd::sub)),
            ],
        ),
        (
            def(op::MUL, TWO_INPUTS, |v| v[0] * v[1]),
            vec![
                (Scalar, B(scalar::mul)),
                (Simd, B(|a, b, o| Kernels::best().mul(a, b, o))),
                (Rayon, B(par::mul)),
                (Ndarray, B(peers::nd::mul)),
            ],
        ),
        (
            def("div", TWO_INPUTS, |v| v[0] / v[1]),
            vec![
                (Scalar, B(scalar::div)),
                (Simd, B(|a, b, o| Kernels::best().div(a, b, o))),
                (Rayon, B(par::div)),
                (Ndarray, B(peers::nd::div)),
            ],
        ),
        (
            def("add_scalar", ONE_INPUT, |v| {
                v[0] + f64::from(SCALAR_OPERAND)
            }),
            vec![
                (Scalar, U(|x, o| scalar::add_scalar(x, SCALAR_OPERAND, o))),
                (
                    Simd,
                    U(|x, o| Kernels::best().add_scalar(x, SCALAR_OPERAND, o)),
                ),
                (Rayon, U(|x, o| par::add_scalar(x, SCALAR_OPERAND, o))),
                (
                    Ndarray,
                    U(|x, o| peers::nd::add_scalar(x, SCALAR_OPERAND, o)),
                ),
            ],
        ),
        (
            def("sub_scalar", ONE_INPUT, |v| {
                v[0] - f64::from(SCALAR_OPERAND)
            }),
            vec![
                (Scalar, U(|x, o| scalar::sub_scalar(x, SCALAR_OPERAND, o))),
                (
                    Simd,
                    U(|x, o| Kernels::best().sub_scalar(x, SCALAR_OPERAND, o)),
                ),
                (Rayon, U(|x, o| par::sub_scalar(x, SCALAR_OPERAND, o))),
            ],
        ),
        (
            def("mul_scalar", ONE_INPUT, |v| {
                v[0] * f64::from(SCALAR_OPERAND)
            }),
            vec![
                (Scalar, U(|x, o| scalar::mul_scalar(x, SCALAR_OPERAND, o))),
                (
                    Simd,
                    U(|x, o| Kernels::best().mul_scalar(x, SCALAR_OPERAND, o)),
                ),
                (Rayon, U(|x, o| par::mul_scalar(x, SCALAR_OPERAND, o))),
                (
                    Ndarray,
                    U(|x, o| peers::nd::mul_scalar(x, SCALAR_OPERAND, o)),
                ),
            ],
        ),
        (
            def("div_scalar", ONE_INPUT, |v| {
                v[0] / f64::from(SCALAR_OPERAND)
            }),
            vec![
                (Scalar, U(|x, o| scalar::div_scalar(x, SCALAR_OPERAND, o))),
                (
                    Simd,
                    U(|x, o| Kernels::best().div_scalar(x, SCALAR_OPERAND, o)),
                ),
                (Rayon, U(|x, o| par::div_scalar(x, SCALAR_OPERAND, o))),
            ],
        ),
    ]
}

/// The binary workload for `op` on `backend` at length `n`, if that backend has the op.
pub fn workload(op: &str, backend: Backend, n: usize, ctx: &Ctx) -> Option<Elementwise> {
    let (def, kernels) = ops().into_iter().find(|(d, _)| d.name == op)?;
    let (_, kernel) = kernels.into_iter().find(|(b, _)| *b == backend)?;
    Some(Elementwise::new(spec(op, backend, ctx), def, kernel, n))
}

/// A binary op with a caller-supplied kernel (tests plant wrong kernels through this).
pub fn with_kernel(
    op: &str,
    backend: Backend,
    n: usize,
    ctx: &Ctx,
    kernel: Kernel,
) -> Option<Elementwise> {
    let (def, _) = ops().into_iter().find(|(d, _)| d.name == op)?;
    Some(Elementwise::new(spec(op, backend, ctx), def, kernel, n))
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
    // The roofline comparison of the quick profile: add in DRAM against STREAM add. 2^25
    // elements touch 384 MiB, past the knee (128–256 MiB measured on the project's VMs) by half
    // again at least; at 2^24 (192 MiB) the knee's wobble moved it between L3 and DRAM.
    if ctx.profile == Profile::Quick {
        for backend in [Backend::Simd, Backend::Rayon] {
            if let Some(w) = workload(op::ADD, backend, 1 << 25, ctx) {
                suite.add(w);
            }
        }
    }
}
