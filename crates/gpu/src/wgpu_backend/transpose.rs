//! Tiled transpose (`shaders/transpose.wgsl`).

use super::context::WgpuContext;
use super::kernel::{Plan, dispatch, params, pipeline, size_u32};
use crate::problem::{Problem, Shape};
use tensorbench_core::{Error, Result};

const SOURCE: &str = include_str!("shaders/transpose.wgsl");
const TILE: usize = 16;

pub fn plan(ctx: &WgpuContext, problem: &Problem) -> Result<Plan> {
    let Shape::Rows { rows, cols } = problem.shape else {
        return Err(Error::workload("wgpu", "transpose needs a rows×cols shape"));
    };
    let x = ctx.storage_with("x", &problem.inputs[0]);
    let out = ctx.storage("out", (rows * cols * 4) as u64);
    let p = params(ctx, &[size_u32(rows, "rows")?, size_u32(cols, "cols")?]);
    let groups = (
        size_u32(cols.div_ceil(TILE), "cols/16")?,
        size_u32(rows.div_ceil(TILE), "rows/16")?,
        1,
    );
    let d = dispatch(
        ctx,
        pipeline(ctx, SOURCE, "transpose"),
        &[&x, &out, &p],
        groups,
    );
    Ok(Plan {
        dispatches: vec![d],
        output: out,
        depth: 0,
        _inputs: vec![x, p],
    })
}
