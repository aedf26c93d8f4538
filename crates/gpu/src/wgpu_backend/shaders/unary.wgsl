// Elementwise ops of one input over vec4<f32> with a grid-stride loop. The host substitutes
// `EXPR`, an expression of `x`.

struct Params {
    n4: u32,
}

@group(0) @binding(0) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let stride = groups.x * 256u;
    for (var i = gid.x; i < params.n4; i += stride) {
        let x = input[i];
        out[i] = EXPR;
    }
}
