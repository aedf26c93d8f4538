// C = A·B (row-major f32). A 16×16 workgroup computes a 64×64 tile of C, each thread a 4×4 block,
// stepping through K in slices of 16 staged in workgroup memory. Edges are zero-padded, so any
// m, n, k work.

struct Params {
    m: u32,
    n: u32,
    k: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const TILE: u32 = 64u;
const SLICE: u32 = 16u;

// a_tile[r * SLICE + kk] and b_tile[kk * TILE + col].
var<workgroup> a_tile: array<f32, 1024>;
var<workgroup> b_tile: array<f32, 1024>;

@compute @workgroup_size(16, 16)
fn matmul(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row0 = wid.y * TILE;
    let col0 = wid.x * TILE;
    let thread = lid.y * 16u + lid.x;
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) {
        acc[i] = 0.0;
    }
    for (var k0 = 0u; k0 < params.k; k0 += SLICE) {
        for (var i = 0u; i < 4u; i++) {
            let idx = thread + i * 256u;
            let ar = row0 + idx / SLICE;
            let ak = k0 + idx % SLICE;
            var av = 0.0;
            if (ar < params.m && ak < params.k) {
                av = a[ar * params.k + ak];
            }
            a_tile[idx] = av;
            let bk = k0 + idx / TILE;
            let bc = col0 + idx % TILE;
            var bv = 0.0;
            if (bk < params.k && bc < params.n) {
                bv = b[bk * params.n + bc];
            }
            b_tile[idx] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < SLICE; kk++) {
            var av: array<f32, 4>;
            var bv: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                av[i] = a_tile[(lid.y * 4u + i) * SLICE + kk];
                bv[i] = b_tile[kk * TILE + lid.x * 4u + i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] += av[i] * bv[j];
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
            let r = row0 + lid.y * 4u + i;
            let col = col0 + lid.x * 4u + j;
            if (r < params.m && col < params.n) {
                c[r * params.n + col] = acc[i * 4u + j];
            }
        }
    }
}
