// Full sum in two dispatches: each workgroup reduces a grid-strided share of the input to one
// partial (vec4 loads, then a tree in workgroup memory); one workgroup then sums the partials.

struct Params {
    // vec4 elements of the input.
    n4: u32,
    // Partials written by `partial_sums` (its workgroup count).
    partial_count: u32,
}

@group(0) @binding(0) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> tree: array<f32, 256>;

fn workgroup_sum(value: f32, lane: u32) -> f32 {
    tree[lane] = value;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half >>= 1u) {
        if (lane < half) {
            tree[lane] += tree[lane + half];
        }
        workgroupBarrier();
    }
    let result = tree[0];
    workgroupBarrier();
    return result;
}

@compute @workgroup_size(256)
fn partial_sums(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let stride = groups.x * 256u;
    var acc = vec4<f32>(0.0);
    for (var i = gid.x; i < params.n4; i += stride) {
        acc += input[i];
    }
    let sum = workgroup_sum((acc.x + acc.y) + (acc.z + acc.w), lid.x);
    if (lid.x == 0u) {
        partials[wid.x] = sum;
    }
}

@compute @workgroup_size(256)
fn final_sum(@builtin(local_invocation_id) lid: vec3<u32>) {
    var acc = 0.0;
    for (var i = lid.x; i < params.partial_count; i += 256u) {
        acc += partials[i];
    }
    let sum = workgroup_sum(acc, lid.x);
    if (lid.x == 0u) {
        total[0] = sum;
    }
}
