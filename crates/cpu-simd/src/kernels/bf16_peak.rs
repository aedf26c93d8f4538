//! The bf16 compute ceiling: independent chains of AVX512-BF16 `vdpbf16ps` (32 bf16×bf16 products
//! accumulated into 16 f32 lanes per instruction). Only where the CPU has AVX512-BF16; elsewhere
//! bf16 workloads get no compute roofline.

/// Independent accumulators (latency 5–6 on Sapphire Rapids, two ports).
pub const CHAINS: usize = 16;
/// FLOPs per `vdpbf16ps`: 32 products and 32 additions.
pub const FLOPS_PER_OP: usize = 64;

/// Whether this CPU can run [`dot_chains`].
pub fn is_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `iters` rounds of [`CHAINS`] dependent `vdpbf16ps` with both operands 1.0, so every lane
/// grows by exactly 2 per round; returns the sum of every lane (exact while below 2^24 per lane).
/// `None` without AVX512-BF16.
pub fn dot_chains(iters: usize) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if is_available() {
        // SAFETY: the features the function enables were detected above.
        return Some(unsafe { x86::chains(iters) });
    }
    let _ = iters;
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::CHAINS;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(super) unsafe fn chains(iters: usize) -> f64 {
        let one = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1.0), _mm512_set1_ps(1.0));
        let mut acc = [_mm512_setzero_ps(); CHAINS];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm512_dpbf16_ps(*x, one, one);
            }
        }
        acc.iter()
            .map(|&v| f64::from(_mm512_reduce_add_ps(v)))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_sum_exactly_or_say_unavailable() {
        match dot_chains(1000) {
            Some(total) => assert_eq!(total, 1000.0 * CHAINS as f64 * 16.0 * 2.0),
            None => assert!(!is_available()),
        }
    }
}
