//! Blocked, packed f32 GEMM over [`Lanes`] (Goto/BLIS structure): B is packed into `KC × NR`
//! slivers that stay in L1, A into `MR × KC` slivers of an L2-resident block, and a register-tiled
//! `MR × NR` microkernel does the FMAs. The tile shape is picked from the register count.

use super::lanes::{Lanes, One};

/// Depth of one packed block: a `KC × NR` B sliver fits L1, an `MC × KC` A block fits L2.
const KC: usize = 256;
/// Row panels per A block.
const MC_PANELS: usize = 16;
/// Columns per packed B block (rounded down to a multiple of NR).
const NC: usize = 1024;
/// Largest `MR × NR` tile any instantiation uses, for the edge-tile buffer.
const MAX_TILE: usize = 512;

/// Reusable packing buffers, so steady-state GEMM calls do not allocate.
#[derive(Debug, Default, Clone)]
pub struct GemmWorkspace {
    a: Vec<f32>,
    b: Vec<f32>,
}

impl GemmWorkspace {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Row-major operands with leading dimensions, as raw pointers so tiles of one C can be handed to
/// different threads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GemmArgs {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a: *const f32,
    pub lda: usize,
    pub b: *const f32,
    pub ldb: usize,
    pub c: *mut f32,
    pub ldc: usize,
}

/// `C = A·B` for the region described by `g`.
///
/// # Safety
/// `a` must be readable for `m` rows of `k` (stride `lda`), `b` for `k` rows of `n` (stride
/// `ldb`), `c` writable for `m` rows of `n` (stride `ldc`), and nothing else may access that part
/// of `c` meanwhile.
#[inline(always)]
pub(crate) unsafe fn gemm<S: Lanes>(s: S, g: GemmArgs, ws: &mut GemmWorkspace) {
    // SAFETY: forwarded contract.
    unsafe { gemm_with(s, g, ws, NoEpilogue) }
}

/// What the GEMM applies to each finished output value before its only store (fusion: a bias
/// and an activation cost no extra pass over C).
pub(crate) trait Epilogue: Copy {
    /// `v` holds `C[i, j..j + S::WIDTH]` of the region, complete (all of k summed).
    fn apply<S: Lanes>(self, s: S, v: S::V, j: usize) -> S::V;
}

/// The plain product.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoEpilogue;
impl Epilogue for NoEpilogue {
    #[inline(always)]
    fn apply<S: Lanes>(self, _s: S, v: S::V, _j: usize) -> S::V {
        v
    }
}

/// As [`gemm`], with `e` applied to every output value once it is complete.
///
/// # Safety
/// As [`gemm`], plus whatever `e` reads for the columns `0..n` of the region.
#[inline(always)]
pub(crate) unsafe fn gemm_with<S: Lanes, E: Epilogue>(
    s: S,
    g: GemmArgs,
    ws: &mut GemmWorkspace,
    e: E,
) {
    // SAFETY: forwarded contract.
    unsafe {
        if S::REGISTERS >= 32 {
            blocked::<S, 12, 2, E>(s, g, ws, e)
        } else {
            blocked::<S, 6, 2, E>(s, g, ws, e)
        }
    }
}

#[inline(always)]
unsafe fn blocked<S: Lanes, const MR: usize, const NV: usize, E: Epilogue>(
    s: S,
    g: GemmArgs,
    ws: &mut GemmWorkspace,
    e: E,
) {
    let nr = NV * S::WIDTH;
    let mc = MR * MC_PANELS;
    let nc = (NC / nr).max(1) * nr;
    if g.m == 0 || g.n == 0 {
        return;
    }
    if g.k == 0 {
        for i in 0..g.m {
            // SAFETY: row i of C is writable for n floats.
            let row = unsafe { std::slice::from_raw_parts_mut(g.c.add(i * g.ldc), g.n) };
            for (j, c) in row.iter_mut().enumerate() {
                *c = e.apply(One, 0.0, j);
            }
        }
        return;
    }
    ws.b.resize(KC * nc, 0.0);
    ws.a.resize(mc * KC, 0.0);
    for jc in (0..g.n).step_by(nc) {
        let ncb = nc.min(g.n - jc);
        for pc in (0..g.k).step_by(KC) {
            let kc = KC.min(g.k - pc);
            // SAFETY: the block lies inside B.
            unsafe { pack_b(g.b.add(pc * g.ldb + jc), g.ldb, kc, ncb, nr, &mut ws.b) };
            for ic in (0..g.m).step_by(mc) {
                let mcb = mc.min(g.m - ic);
                // SAFETY: the block lies inside A.
                unsafe { pack_a::<MR>(g.a.add(ic * g.lda + pc), g.lda, mcb, kc, &mut ws.a) };
                for jr in (0..ncb).step_by(nr) {
                    for ir in (0..mcb).step_by(MR) {
                        // SAFETY: packed buffers hold full zero-padded slivers; the C tile at
                        // (ic+ir, jc+jr) of size min(MR)×min(NR) lies inside C.
                        unsafe {
                            micro::<S, MR, NV, E>(
                                s,
                                kc,
                                ws.a.as_ptr().add(ir * kc),
                                ws.b.as_ptr().add(jr * kc),
                                g.c.add((ic + ir) * g.ldc + jc + jr),
                                g.ldc,
                                MR.min(mcb - ir),
                                nr.min(ncb - jr),
                                pc == 0,
                                (pc + kc == g.k).then_some((e, jc + jr)),
                            )
                        };
                    }
                }
            }
        }
    }
}

/// Packs a `kc × nc` block of B into slivers of `nr` columns, `[sliver][p][j]`, zero-padded.
#[inline(always)]
unsafe fn pack_b(b: *const f32, ldb: usize, kc: usize, nc: usize, nr: usize, out: &mut [f32]) {
    for (sliver, j0) in (0..nc).step_by(nr).enumerate() {
        let w = nr.min(nc - j0);
        let dst = &mut out[sliver * kc * nr..(sliver + 1) * kc * nr];
        for p in 0..kc {
            // SAFETY: row p, columns j0..j0+w lie inside the block.
            let src = unsafe { std::slice::from_raw_parts(b.add(p * ldb + j0), w) };
            dst[p * nr..p * nr + w].copy_from_slice(src);
            dst[p * nr + w..(p + 1) * nr].fill(0.0);
        }
    }
}

/// Packs an `mc × kc` block of A into slivers of `MR` rows, `[sliver][p][i]`, zero-padded.
#[inline(always)]
unsafe fn pack_a<const MR: usize>(
    a: *const f32,
    lda: usize,
    mc: usize,
    kc: usize,
    out: &mut [f32],
) {
    for (sliver, i0) in (0..mc).step_by(MR).enumerate() {
        let h = MR.min(mc - i0);
        let dst = &mut out[sliver * kc * MR..(sliver + 1) * kc * MR];
        for i in 0..MR {
            if i < h {
                // SAFETY: row i0+i, columns 0..kc lie inside the block.
                let row = unsafe { std::slice::from_raw_parts(a.add((i0 + i) * lda), kc) };
                for (p, &v) in row.iter().enumerate() {
                    dst[p * MR + i] = v;
                }
            } else {
                for p in 0..kc {
                    dst[p * MR + i] = 0.0;
                }
            }
        }
    }
}

/// The `MR × NR` register tile: `C (=|+=) Ap·Bp` over `kc`. Edge tiles go through a stack buffer.
/// On the last k block, `last` carries the epilogue and the tile's first column in the region.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn micro<S: Lanes, const MR: usize, const NV: usize, E: Epilogue>(
    s: S,
    kc: usize,
    pa: *const f32,
    pb: *const f32,
    c: *mut f32,
    ldc: usize,
    mr: usize,
    nr: usize,
    overwrite: bool,
    last: Option<(E, usize)>,
) {
    let w = S::WIDTH;
    let full = NV * w;
    let mut acc = [[s.splat(0.0); NV]; MR];
    for p in 0..kc {
        let mut bv = [s.splat(0.0); NV];
        for (v, b) in bv.iter_mut().enumerate() {
            // SAFETY: the packed B sliver holds kc × full floats.
            *b = unsafe { s.load(pb.add(p * full + v * w)) };
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: the packed A sliver holds kc × MR floats.
            let ai = s.splat(unsafe { *pa.add(p * MR + i) });
            for (a, &b) in row.iter_mut().zip(&bv) {
                *a = s.fma(ai, b, *a);
            }
        }
    }
    if mr == MR && nr == full {
        for (i, row) in acc.iter().enumerate() {
            for (v, &a) in row.iter().enumerate() {
                // SAFETY: the full tile lies inside C.
                unsafe {
                    let cp = c.add(i * ldc + v * w);
                    let val = if overwrite { a } else { s.add(s.load(cp), a) };
                    let val = match last {
                        Some((e, j0)) => e.apply(s, val, j0 + v * w),
                        None => val,
                    };
                    s.store(cp, val);
                }
            }
        }
        return;
    }
    debug_assert!(MR * full <= MAX_TILE);
    let mut tile = [0.0f32; MAX_TILE];
    for (i, row) in acc.iter().enumerate() {
        for (v, &a) in row.iter().enumerate() {
            // SAFETY: i·full + (v+1)·w <= MR·full <= MAX_TILE.
            unsafe { s.store(tile.as_mut_ptr().add(i * full + v * w), a) };
        }
    }
    for i in 0..mr {
        for j in 0..nr {
            // SAFETY: (i, j) lies inside the partial tile, which lies inside C.
            unsafe {
                let cp = c.add(i * ldc + j);
                let t = tile[i * full + j];
                let t = if overwrite { t } else { *cp + t };
                *cp = match last {
                    Some((e, j0)) => e.apply(One, t, j0 + j),
                    None => t,
                };
            }
        }
    }
}
