//! The FMA-chain kernel behind the compute-peak probe: enough independent accumulators to cover
//! the FMA latency on every FMA port, and nothing else in the loop.

use super::lanes::Lanes;

/// Runs `iters` steps of `x ← x·a + b` on every lane of every chain; returns the sum of all lanes.
/// Chain `i` starts at `i` so no two chains are the same computation (which LLVM could merge).
#[inline(always)]
pub(crate) fn fma_chains<S: Lanes>(s: S, iters: usize, a: f32, b: f32) -> f32 {
    if S::REGISTERS >= 32 {
        chains::<S, 16>(s, iters, a, b)
    } else {
        chains::<S, 12>(s, iters, a, b)
    }
}

/// Independent accumulators the instantiation for `S` uses.
pub(crate) const fn chain_count<S: Lanes>() -> usize {
    if S::REGISTERS >= 32 { 16 } else { 12 }
}

#[inline(always)]
fn chains<S: Lanes, const C: usize>(s: S, iters: usize, a: f32, b: f32) -> f32 {
    // Loops, not `from_fn`/`map`: closures would run outside the target feature (see
    // `reduce::reduce`).
    let mut acc = [s.splat(0.0); C];
    for (i, x) in acc.iter_mut().enumerate() {
        *x = s.splat(i as f32);
    }
    let (va, vb) = (s.splat(a), s.splat(b));
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = s.fma(*x, va, vb);
        }
    }
    let mut total = 0.0;
    for &v in &acc {
        total += s.reduce_add(v);
    }
    total
}
