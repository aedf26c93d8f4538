//! Reductions along one axis of a square 2-D tensor: along rows (one result per row, op
//! `<op>_rows`) and along columns (one result per column, op `<op>_cols`).

use super::{Backend, Ctx, Profile, check, spec};
use crate::kernels::{Reduction, par, peers, scalar, simd::Kernels};
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::{Result, Workload, WorkloadSpec, data};

/// Which axis is reduced away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Along {
    /// Each row to one value.
    Rows,
    /// Each column to one value.
    Cols,
}

/// `(op, x, cols, out)`.
pub type AxisFn = fn(Reduction, &[f32], usize, &mut [f32]);

pub fn kernel(backend: Backend, along: Along) -> Option<AxisFn> {
    use Along::*;
    Some(match (backend, along) {
        (Backend::Scalar, Rows) => scalar::reduce_rows,
        (Backend::Scalar, Cols) => |op, x, _, o| scalar::reduce_cols(op, x, o),
        (Backend::Simd, Rows) => |op, x, c, o| Kernels::best().reduce_rows(op, x, c, o),
        (Backend::Simd, Cols) => |op, x, _, o| Kernels::best().reduce_cols(op, x, o),
        (Backend::Rayon, Rows) => par::reduce_rows,
        (Backend::Rayon, Cols) => |op, x, _, o| par::reduce_cols(op, x, o),
        (Backend::Ndarray, Rows) => |op, x, c, o| peers::nd::reduce_axis(op, x, c, 1, o),
        (Backend::Ndarray, Cols) => |op, x, c, o| peers::nd::reduce_axis(op, x, c, 0, o),
        _ => return None,
    })
}

pub struct ReduceAxis {
    spec: WorkloadSpec,
    op: Reduction,
    along: Along,
    kernel: AxisFn,
    rows: usize,
    cols: usize,
    x: Vec<f32>,
    out: Vec<f32>,
}

impl ReduceAxis {
    pub fn new(
        op: Reduction,
        along: Along,
        backend: Backend,
        rows: usize,
        cols: usize,
        ctx: &Ctx,
    ) -> Option<Self> {
        let kernel = kernel(backend, along)?;
        let suffix = if along == Along::Rows { "rows" } else { "cols" };
        let outs = if along == Along::Rows { rows } else { cols };
        let n = rows * cols;
        let spec = spec(&format!("{}_{suffix}", op.name()), backend, ctx)
            .param("rows", rows)
            .param("cols", cols)
            .cost(n as f64, ((n + outs) * 4) as f64)
            .footprint(((n + outs) * 4) as u64);
        Some(Self {
            spec,
            op,
            along,
            kernel,
            rows,
            cols,
            x: Vec::new(),
            out: Vec::new(),
        })
    }

    fn outputs(&self) -> usize {
        if self.along == Along::Rows {
            self.rows
        } else {
            self.cols
        }
    }
}

impl Workload for ReduceAxis {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.x = data::uniform_f32_in(self.rows * self.cols, seed, 0.0, 1.0);
        self.out = vec![f32::NAN; self.outputs()];
        Ok(())
    }
    fn execute(&mut self) {
        (self.kernel)(self.op, &self.x, self.cols, &mut self.out);
    }
    fn validate(&mut self) -> Result<Validation> {
        let (x, cols) = (&self.x, self.cols);
        let reference: Vec<f64> = match self.along {
            Along::Rows => x
                .chunks(cols)
                .map(|r| self.op.reference(r.iter().map(|&v| f64::from(v))))
                .collect(),
            Along::Cols => (0..cols)
                .map(|c| {
                    self.op
                        .reference((0..self.rows).map(|r| f64::from(x[r * cols + c])))
                })
                .collect(),
        };
        Ok(check(
            &self.out,
            &reference,
            super::reduce::tolerance(self.op),
        ))
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    // Square matrices of the profile's even-power sizes.
    let sides: Vec<usize> = ctx
        .sizes()
        .into_iter()
        .filter(|n| n.trailing_zeros() % 2 == 0)
        .map(|n| 1 << (n.trailing_zeros() / 2))
        .collect();
    let ops: &[Reduction] = if ctx.profile == Profile::Quick {
        &[Reduction::Sum]
    } else {
        &Reduction::ALL
    };
    for &op in ops {
        for along in [Along::Rows, Along::Cols] {
            for &side in &sides {
                for backend in [
                    Backend::Scalar,
                    Backend::Simd,
                    Backend::Rayon,
                    Backend::Ndarray,
                ] {
                    if let Some(w) = ReduceAxis::new(op, along, backend, side, side, ctx) {
                        suite.add(w);
                    }
                }
            }
        }
    }
}
