//! Elementwise binary and unary ops (`shaders/elementwise.wgsl`, `shaders/unary.wgsl`).

use super::context::WgpuContext;
use super::kernel::{Plan, WORKGROUP, dispatch, grid_groups, params, pipeline, size_u32};
use crate::problem::{BinaryOp, Problem, UnaryOp};
use tensorbench_core::{Error, Result};

const BINARY: &str = include_str!("shaders/elementwise.wgsl");
const UNARY: &str = include_str!("shaders/unary.wgsl");

/// The WGSL expression of `op` on vec4 operands `x` and `y`.
pub fn binary_expr(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "x + y",
        BinaryOp::Mul => "x * y",
    }
}

/// The WGSL expression of `op` on a vec4 operand `x`.
pub fn unary_expr(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Relu => "max(x, vec4<f32>(0.0))",
        UnaryOp::Gelu => "0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))",
        UnaryOp::Exp => "exp(x)",
    }
}

fn vec4_count(problem: &Problem) -> Result<usize> {
    let n = problem.inputs[0].len();
    if !n.is_multiple_of(4) {
        return Err(Error::workload(
            "wgpu",
            format!("n = {n} is not a multiple of 4"),
        ));
    }
    Ok(n / 4)
}

pub fn binary(ctx: &WgpuContext, problem: &Problem, op: BinaryOp) -> Result<Plan> {
    let n4 = vec4_count(problem)?;
    let src = BINARY.replace("EXPR", binary_expr(op));
    let a = ctx.storage_with("lhs", &problem.inputs[0]);
    let b = ctx.storage_with("rhs", &problem.inputs[1]);
    let out = ctx.storage("out", (n4 * 16) as u64);
    let p = params(ctx, &[size_u32(n4, "n/4")?]);
    let groups = grid_groups(ctx, n4, WORKGROUP as usize);
    let d = dispatch(
        ctx,
        pipeline(ctx, &src, "binary"),
        &[&a, &b, &out, &p],
        (groups, 1, 1),
    );
    Ok(Plan {
        dispatches: vec![d],
        output: out,
        depth: 0,
        _inputs: vec![a, b, p],
    })
}

pub fn unary(ctx: &WgpuContext, problem: &Problem, op: UnaryOp) -> Result<Plan> {
    let n4 = vec4_count(problem)?;
    let src = UNARY.replace("EXPR", unary_expr(op));
    let x = ctx.storage_with("x", &problem.inputs[0]);
    let out = ctx.storage("out", (n4 * 16) as u64);
    let p = params(ctx, &[size_u32(n4, "n/4")?]);
    let groups = grid_groups(ctx, n4, WORKGROUP as usize);
    let d = dispatch(
        ctx,
        pipeline(ctx, &src, "unary"),
        &[&x, &out, &p],
        (groups, 1, 1),
    );
    Ok(Plan {
        dispatches: vec![d],
        output: out,
        depth: 0,
        _inputs: vec![x, p],
    })
}
