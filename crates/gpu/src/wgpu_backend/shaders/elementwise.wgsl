// Elementwise ops over vec4<f32> (16-byte loads) with a grid-stride loop, so any length fits in
// the dispatch limit. The host substitutes `EXPR`, an expression of `x` (and `y` for binary ops).

struct Params {
    n4: u32,
}

@group(0) @binding(0) var<storage, read> lhs: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> rhs: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let stride = groups.x * 256u;
    for (var i = gid.x; i < params.n4; i += stride) {
        let x = lhs[i];
        let y = rhs[i];
        out[i] = EXPR;
    }
}
