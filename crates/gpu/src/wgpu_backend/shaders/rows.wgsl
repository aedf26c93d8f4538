// Row-wise ops on a row-major matrix: one workgroup per row (grid-strided over rows), each row
// reduced through workgroup memory. Entry points: row_sum, softmax, layer_norm.

struct Params {
    rows: u32,
    cols: u32,
    eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

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
    let total = tree[0];
    workgroupBarrier();
    return total;
}

fn workgroup_max(value: f32, lane: u32) -> f32 {
    tree[lane] = value;
    workgroupBarrier();
    for (var half = 128u; half > 0u; half >>= 1u) {
        if (lane < half) {
            tree[lane] = max(tree[lane], tree[lane + half]);
        }
        workgroupBarrier();
    }
    let total = tree[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(256)
fn row_sum(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    for (var row = wid.x; row < params.rows; row += groups.x) {
        let base = row * params.cols;
        var acc = 0.0;
        for (var c = lid.x; c < params.cols; c += 256u) {
            acc += x[base + c];
        }
        let total = workgroup_sum(acc, lid.x);
        if (lid.x == 0u) {
            out[row] = total;
        }
    }
}

@compute @workgroup_size(256)
fn softmax(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    for (var row = wid.x; row < params.rows; row += groups.x) {
        let base = row * params.cols;
        var m = -3.4028235e38;
        for (var c = lid.x; c < params.cols; c += 256u) {
            m = max(m, x[base + c]);
        }
        let row_max = workgroup_max(m, lid.x);
        var acc = 0.0;
        for (var c = lid.x; c < params.cols; c += 256u) {
            acc += exp(x[base + c] - row_max);
        }
        let inv = 1.0 / workgroup_sum(acc, lid.x);
        for (var c = lid.x; c < params.cols; c += 256u) {
            out[base + c] = exp(x[base + c] - row_max) * inv;
        }
    }
}

@group(0) @binding(3) var<storage, read> gain: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

@compute @workgroup_size(256)
fn layer_norm(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let n = f32(params.cols);
    for (var row = wid.x; row < params.rows; row += groups.x) {
        let base = row * params.cols;
        var acc = 0.0;
        for (var c = lid.x; c < params.cols; c += 256u) {
            acc += x[base + c];
        }
        let mean = workgroup_sum(acc, lid.x) / n;
        var sq = 0.0;
        for (var c = lid.x; c < params.cols; c += 256u) {
            let d = x[base + c] - mean;
            sq += d * d;
        }
        let inv = inverseSqrt(workgroup_sum(sq, lid.x) / n + params.eps);
        for (var c = lid.x; c < params.cols; c += 256u) {
            out[base + c] = (x[base + c] - mean) * inv * gain[c] + bias[c];
        }
    }
}
