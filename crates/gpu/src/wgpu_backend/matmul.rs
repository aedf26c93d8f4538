//! Tiled f32 GEMM (`shaders/matmul.wgsl`): 64×64 tiles of C per workgroup, 4×4 per thread.

use super::context::WgpuContext;
use super::kernel::{Plan, dispatch, params, pipeline, size_u32};
use crate::problem::{Problem, Shape};
use tensorbench_core::{Error, Result};

const SOURCE: &str = include_str!("shaders/matmul.wgsl");
const TILE: usize = 64;

pub fn plan(ctx: &WgpuContext, problem: &Problem) -> Result<Plan> {
    let Shape::Gemm { m, n, k } = problem.shape else {
        return Err(Error::workload("wgpu", "gemm needs an m×n×k shape"));
    };
    let a = ctx.storage_with("a", &problem.inputs[0]);
    let b = ctx.storage_with("b", &problem.inputs[1]);
    let c = ctx.storage("c", (m * n * 4) as u64);
    let p = params(
        ctx,
        &[size_u32(m, "m")?, size_u32(n, "n")?, size_u32(k, "k")?],
    );
    let groups = (
        size_u32(n.div_ceil(TILE), "n/64")?,
        size_u32(m.div_ceil(TILE), "m/64")?,
        1,
    );
    let d = dispatch(
        ctx,
        pipeline(ctx, SOURCE, "matmul"),
        &[&a, &b, &c, &p],
        groups,
    );
    Ok(Plan {
        dispatches: vec![d],
        output: c,
        // Each thread accumulates its k products in sequence.
        depth: k,
        _inputs: vec![a, b, p],
    })
}
