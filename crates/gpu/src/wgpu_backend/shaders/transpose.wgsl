// Out-of-place transpose through a 16×16 tile in workgroup memory (one column of padding avoids
// bank conflicts), so both the reads and the writes are contiguous.

struct Params {
    rows: u32,
    cols: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> tile: array<f32, 272>;

@compute @workgroup_size(16, 16)
fn transpose(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let r = wid.y * 16u + lid.y;
    let c = wid.x * 16u + lid.x;
    if (r < params.rows && c < params.cols) {
        tile[lid.y * 17u + lid.x] = x[r * params.cols + c];
    }
    workgroupBarrier();
    // Output row = input column; consecutive lanes write consecutive output columns.
    let out_row = wid.x * 16u + lid.y;
    let out_col = wid.y * 16u + lid.x;
    if (out_row < params.cols && out_col < params.rows) {
        out[out_row * params.rows + out_col] = tile[lid.x * 17u + lid.y];
    }
}
