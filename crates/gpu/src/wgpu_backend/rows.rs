//! Row-wise ops: row_sum, softmax, layer_norm (`shaders/rows.wgsl`).

use super::context::WgpuContext;
use super::kernel::{Plan, WORKGROUP, dispatch, grid_groups, params, pipeline, size_u32};
use crate::problem::{Kernel, LAYER_NORM_EPS, Problem, Shape};
use tensorbench_core::{Error, Result};

const SOURCE: &str = include_str!("shaders/rows.wgsl");

/// Longest chain of additions for one row: a thread's strided share, then 8 tree levels.
pub fn depth(cols: usize) -> usize {
    cols.div_ceil(WORKGROUP as usize) + 8
}

pub fn plan(ctx: &WgpuContext, problem: &Problem) -> Result<Plan> {
    let Shape::Rows { rows, cols } = problem.shape else {
        return Err(Error::workload("wgpu", "row op needs a rows×cols shape"));
    };
    let entry = match problem.kernel {
        Kernel::RowSum => "row_sum",
        Kernel::Softmax => "softmax",
        _ => "layer_norm",
    };
    let x = ctx.storage_with("x", &problem.inputs[0]);
    let out_len = problem.output_len();
    let out = ctx.storage("out", (out_len * 4) as u64);
    let p = params(
        ctx,
        &[
            size_u32(rows, "rows")?,
            size_u32(cols, "cols")?,
            LAYER_NORM_EPS.to_bits(),
        ],
    );
    // One workgroup per row, grid-strided beyond the dispatch limit.
    let groups = (grid_groups(ctx, rows, 1), 1, 1);
    let pipe = pipeline(ctx, SOURCE, entry);
    let (d, inputs) = if problem.kernel == Kernel::LayerNorm {
        let gain = ctx.storage_with("gain", &problem.inputs[1]);
        let bias = ctx.storage_with("bias", &problem.inputs[2]);
        let d = dispatch(ctx, pipe, &[&x, &out, &p, &gain, &bias], groups);
        (d, vec![x, p, gain, bias])
    } else {
        (dispatch(ctx, pipe, &[&x, &out, &p], groups), vec![x, p])
    };
    Ok(Plan {
        dispatches: vec![d],
        output: out,
        depth: depth(cols),
        _inputs: inputs,
    })
}
