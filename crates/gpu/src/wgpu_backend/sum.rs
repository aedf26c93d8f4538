//! Full sum in two dispatches (`shaders/sum.wgsl`).

use super::context::WgpuContext;
use super::kernel::{Plan, WORKGROUP, dispatch_bound, params, pipeline, size_u32};
use crate::problem::Problem;
use tensorbench_core::{Error, Result};

const SOURCE: &str = include_str!("shaders/sum.wgsl");

/// Partials of the first pass: enough workgroups to fill a large GPU, few enough that one
/// workgroup sums them quickly.
const MAX_PARTIALS: usize = 1024;

/// Longest chain of additions: a thread's grid-stride share (per vec4 lane, plus 2 to combine the
/// lanes), a tree of 8 levels, the final thread's share of the partials, and a second tree.
pub fn depth(n: usize, partials: usize) -> usize {
    let threads = partials * WORKGROUP as usize;
    n.div_ceil(4 * threads) + 2 + 8 + partials.div_ceil(WORKGROUP as usize) + 8
}

pub fn plan(ctx: &WgpuContext, problem: &Problem) -> Result<Plan> {
    let n = problem.inputs[0].len();
    if !n.is_multiple_of(4) {
        return Err(Error::workload(
            "wgpu",
            format!("n = {n} is not a multiple of 4"),
        ));
    }
    let n4 = n / 4;
    let limit = ctx.limits.max_compute_workgroups_per_dimension as usize;
    let partials = n4
        .div_ceil(WORKGROUP as usize)
        .clamp(1, MAX_PARTIALS.min(limit));
    let x = ctx.storage_with("x", &problem.inputs[0]);
    let partial_buf = ctx.storage("partials", (partials * 4) as u64);
    let total = ctx.storage("total", 4);
    let p = params(
        ctx,
        &[size_u32(n4, "n/4")?, size_u32(partials, "partials")?],
    );
    let first = dispatch_bound(
        ctx,
        pipeline(ctx, SOURCE, "partial_sums"),
        &[(0, &x), (1, &partial_buf), (3, &p)],
        (partials as u32, 1, 1),
    );
    let second = dispatch_bound(
        ctx,
        pipeline(ctx, SOURCE, "final_sum"),
        &[(1, &partial_buf), (2, &total), (3, &p)],
        (1, 1, 1),
    );
    Ok(Plan {
        dispatches: vec![first, second],
        output: total,
        depth: depth(n, partials),
        _inputs: vec![x, partial_buf, p],
    })
}
