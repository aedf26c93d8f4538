//! MLP forward pass: per layer the tiled GEMM then GELU, as separate dispatches of the same
//! shaders the single-op kernels use, chained through device buffers in one compute pass.

use super::context::WgpuContext;
use super::elementwise::unary_expr;
use super::kernel::{Plan, WORKGROUP, dispatch, grid_groups, params, pipeline, size_u32};
use crate::problem::{Problem, Shape, UnaryOp};
use tensorbench_core::{Error, Result};

const MATMUL: &str = include_str!("shaders/matmul.wgsl");
const UNARY: &str = include_str!("shaders/unary.wgsl");
/// Output tile of the GEMM shader (see `matmul.rs`).
const TILE: usize = 64;

pub fn plan(ctx: &WgpuContext, problem: &Problem) -> Result<Plan> {
    let Shape::Mlp { batch, width, .. } = problem.shape else {
        return Err(Error::workload(
            "wgpu",
            "mlp needs a batch×width×layers shape",
        ));
    };
    let elements = batch * width;
    if elements % 4 != 0 {
        return Err(Error::workload(
            "wgpu",
            format!("batch·width = {elements} is not a multiple of 4"),
        ));
    }
    let bytes = (elements * 4) as u64;
    let gemm_params = params(
        ctx,
        &[
            size_u32(batch, "batch")?,
            size_u32(width, "width")?,
            size_u32(width, "width")?,
        ],
    );
    let gelu_params = params(ctx, &[size_u32(elements / 4, "batch·width/4")?]);
    let gemm_groups = (
        size_u32(width.div_ceil(TILE), "width/64")?,
        size_u32(batch.div_ceil(TILE), "batch/64")?,
        1,
    );
    let gelu_groups = (grid_groups(ctx, elements / 4, WORKGROUP as usize), 1, 1);
    let gelu_src = UNARY.replace("EXPR", unary_expr(UnaryOp::Gelu));

    let mut h = ctx.storage_with("x", &problem.inputs[0]);
    let mut keep = vec![gemm_params, gelu_params];
    let mut dispatches = Vec::new();
    for (i, w) in problem.inputs[1..].iter().enumerate() {
        let weights = ctx.storage_with(&format!("w{i}"), w);
        let pre = ctx.storage("pre", bytes);
        let out = ctx.storage("h", bytes);
        dispatches.push(dispatch(
            ctx,
            pipeline(ctx, MATMUL, "matmul"),
            &[&h, &weights, &pre, &keep[0]],
            gemm_groups,
        ));
        dispatches.push(dispatch(
            ctx,
            pipeline(ctx, &gelu_src, "unary"),
            &[&pre, &out, &keep[1]],
            gelu_groups,
        ));
        keep.extend([std::mem::replace(&mut h, out), weights, pre]);
    }
    Ok(Plan {
        dispatches,
        output: h,
        depth: width,
        _inputs: keep,
    })
}
