//! The int8 compute ceiling: independent chains of AVX-512 VNNI `vpdpbusd` (64 u8×i8 products
//! summed into 16 i32 lanes per instruction), the int8 counterpart of the FMA chain. Only where
//! the CPU has VNNI; elsewhere there is no int8 ceiling and int8 workloads get no roofline.

/// Independent accumulators: enough to cover the instruction's latency on every core since
/// Cascade Lake (latency 5, two ports).
pub const CHAINS: usize = 16;
/// Products per `vpdpbusd`.
pub const PRODUCTS_PER_OP: usize = 64;

/// Whether this CPU can run [`dot_chains`].
pub fn is_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `iters` rounds of [`CHAINS`] dependent `vpdpbusd` on bytes `a` (as u8) and `b` (as i8)
/// and returns the sum of every lane: `iters · CHAINS · 64 · a · b` exactly. `None` without VNNI.
pub fn dot_chains(iters: usize, a: u8, b: i8) -> Option<i64> {
    #[cfg(target_arch = "x86_64")]
    if is_available() {
        // SAFETY: the features the function enables were detected above.
        return Some(unsafe { vnni::chains(iters, a, b) });
    }
    let _ = (iters, a, b);
    None
}

#[cfg(target_arch = "x86_64")]
mod vnni {
    use super::CHAINS;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f,avx512vnni")]
    pub(super) unsafe fn chains(iters: usize, a: u8, b: i8) -> i64 {
        let va = _mm512_set1_epi8(a as i8);
        let vb = _mm512_set1_epi8(b);
        let mut acc = [_mm512_setzero_si512(); CHAINS];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm512_dpbusd_epi32(*x, va, vb);
            }
        }
        acc.iter()
            .map(|&v| {
                let mut lanes = [0i32; 16];
                // SAFETY: 16 i32 lanes are exactly 64 bytes.
                unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), v) };
                lanes.iter().map(|&l| i64::from(l)).sum::<i64>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_sum_exactly_or_say_unavailable() {
        match dot_chains(1000, 3, -2) {
            Some(total) => assert_eq!(total, 1000 * CHAINS as i64 * 64 * 3 * -2),
            None => assert!(!is_available()),
        }
    }
}
