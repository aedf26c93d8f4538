//! The f16 compute ceiling: independent chains of AVX512-FP16 `vfmadd231ph` (32 f16 lanes, one
//! multiply and one add each, per instruction). Rust 1.95 has the target feature but not the
//! f16 intrinsics, so the chains are inline assembly. Only where the CPU has AVX512-FP16.

/// Independent accumulators (zmm0–zmm15; latency 4, two ports).
pub const CHAINS: usize = 16;
/// f16 lanes of one zmm register.
pub const LANES: usize = 32;
/// FLOPs per `vfmadd231ph`: 32 products and 32 additions.
pub const FLOPS_PER_OP: usize = 2 * LANES;
/// Where an f16 count of `+= 1.0` stops: 2049 is not an f16 and rounds to even, 2048.
pub const SATURATION: f64 = 2048.0;

/// Whether this CPU can run [`fma_chains`].
pub fn is_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512fp16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Every lane's value after `iters` rounds of `acc += 1.0 · 1.0` in f16: it counts exactly up to
/// [`SATURATION`] and stays there, which also proves the arithmetic was f16, not f32.
pub fn lane_value(iters: usize) -> f64 {
    (iters as f64).min(SATURATION)
}

/// Runs `iters` rounds of [`CHAINS`] dependent `vfmadd231ph` from zero with both factors 1.0 and
/// returns the sum of every lane. `None` without AVX512-FP16.
pub fn fma_chains(iters: usize) -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    if is_available() && iters > 0 {
        let mut lanes = [0u16; CHAINS * LANES];
        // SAFETY: the feature was detected above, and `lanes` holds the 16 stored registers.
        unsafe { x86::chains(iters, &mut lanes) };
        return Some(
            lanes
                .iter()
                .map(|&b| f64::from(half::f16::from_bits(b)))
                .sum(),
        );
    }
    let _ = iters;
    None
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{CHAINS, LANES};
    use std::arch::asm;

    /// `iters` must be at least 1 (the loop counts down before testing).
    #[target_feature(enable = "avx512fp16")]
    pub(super) unsafe fn chains(iters: usize, lanes: &mut [u16; CHAINS * LANES]) {
        // SAFETY: AVX512-FP16 is enabled; the stores write exactly 16 × 64 bytes into `lanes`.
        unsafe {
            asm!(
                "mov {one:e}, 0x3C003C00", // two f16 1.0
                "vpbroadcastd zmm16, {one:e}",
                "vpxord zmm0, zmm0, zmm0", "vpxord zmm1, zmm1, zmm1",
                "vpxord zmm2, zmm2, zmm2", "vpxord zmm3, zmm3, zmm3",
                "vpxord zmm4, zmm4, zmm4", "vpxord zmm5, zmm5, zmm5",
                "vpxord zmm6, zmm6, zmm6", "vpxord zmm7, zmm7, zmm7",
                "vpxord zmm8, zmm8, zmm8", "vpxord zmm9, zmm9, zmm9",
                "vpxord zmm10, zmm10, zmm10", "vpxord zmm11, zmm11, zmm11",
                "vpxord zmm12, zmm12, zmm12", "vpxord zmm13, zmm13, zmm13",
                "vpxord zmm14, zmm14, zmm14", "vpxord zmm15, zmm15, zmm15",
                "2:",
                "vfmadd231ph zmm0, zmm16, zmm16", "vfmadd231ph zmm1, zmm16, zmm16",
                "vfmadd231ph zmm2, zmm16, zmm16", "vfmadd231ph zmm3, zmm16, zmm16",
                "vfmadd231ph zmm4, zmm16, zmm16", "vfmadd231ph zmm5, zmm16, zmm16",
                "vfmadd231ph zmm6, zmm16, zmm16", "vfmadd231ph zmm7, zmm16, zmm16",
                "vfmadd231ph zmm8, zmm16, zmm16", "vfmadd231ph zmm9, zmm16, zmm16",
                "vfmadd231ph zmm10, zmm16, zmm16", "vfmadd231ph zmm11, zmm16, zmm16",
                "vfmadd231ph zmm12, zmm16, zmm16", "vfmadd231ph zmm13, zmm16, zmm16",
                "vfmadd231ph zmm14, zmm16, zmm16", "vfmadd231ph zmm15, zmm16, zmm16",
                "dec {n}",
                "jnz 2b",
                "vmovups [{p}], zmm0", "vmovups [{p} + 64], zmm1",
                "vmovups [{p} + 128], zmm2", "vmovups [{p} + 192], zmm3",
                "vmovups [{p} + 256], zmm4", "vmovups [{p} + 320], zmm5",
                "vmovups [{p} + 384], zmm6", "vmovups [{p} + 448], zmm7",
                "vmovups [{p} + 512], zmm8", "vmovups [{p} + 576], zmm9",
                "vmovups [{p} + 640], zmm10", "vmovups [{p} + 704], zmm11",
                "vmovups [{p} + 768], zmm12", "vmovups [{p} + 832], zmm13",
                "vmovups [{p} + 896], zmm14", "vmovups [{p} + 960], zmm15",
                // As compilers do after wide code: dirty upper halves slow the SSE code after.
                "vzeroupper",
                one = out(reg) _,
                n = inout(reg) iters => _,
                p = in(reg) lanes.as_mut_ptr(),
                out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _,
                out("zmm4") _, out("zmm5") _, out("zmm6") _, out("zmm7") _,
                out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
                out("zmm12") _, out("zmm13") _, out("zmm14") _, out("zmm15") _,
                out("zmm16") _,
                options(nostack),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_count_in_f16_or_say_unavailable() {
        for iters in [1, 1000, 5000] {
            match fma_chains(iters) {
                Some(total) => assert_eq!(total, lane_value(iters) * (CHAINS * LANES) as f64),
                None => assert!(!is_available()),
            }
        }
        assert_eq!(lane_value(5000), SATURATION);
    }
}
