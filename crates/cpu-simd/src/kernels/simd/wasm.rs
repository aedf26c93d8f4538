//! wasm32 `simd128` (`v128` as four `f32`) implementation of [`Lanes`]. Only compiled when the
//! module itself is built with `-C target-feature=+simd128`: wasm has no run-time detection, an
//! engine without simd128 rejects the whole module at compile time.

use super::lanes::{Lanes, MAGIC_BITS};
use core::arch::wasm32::*;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Simd128;

// The simd128 intrinsics are safe functions when the feature is enabled at compile time, which
// the `cfg` on this module guarantees; only the pointer loads and stores are unsafe.
impl Lanes for Simd128 {
    type V = v128;
    const WIDTH: usize = 4;
    // wasm has no architectural registers; engines map v128 locals onto the host's 16 XMM (x86-64)
    // or 32 NEON registers, so plan for the smaller file.
    const REGISTERS: usize = 16;

    #[inline(always)]
    fn splat(self, x: f32) -> v128 {
        f32x4_splat(x)
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> v128 {
        // SAFETY: the caller guarantees 4 readable floats; v128_load has no alignment requirement.
        unsafe { v128_load(p.cast::<v128>()) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: v128) {
        // SAFETY: the caller guarantees 4 writable floats.
        unsafe { v128_store(p.cast::<v128>(), v) }
    }
    #[inline(always)]
    fn add(self, a: v128, b: v128) -> v128 {
        f32x4_add(a, b)
    }
    #[inline(always)]
    fn sub(self, a: v128, b: v128) -> v128 {
        f32x4_sub(a, b)
    }
    #[inline(always)]
    fn mul(self, a: v128, b: v128) -> v128 {
        f32x4_mul(a, b)
    }
    #[inline(always)]
    fn div(self, a: v128, b: v128) -> v128 {
        f32x4_div(a, b)
    }
    // The pseudo-min/max (`b < a ? a : b`) lower to one maxps/minps; the IEEE variants need a
    // NaN-fixing sequence the kernels do not want (same as the portable `if a > b`).
    #[inline(always)]
    fn max(self, a: v128, b: v128) -> v128 {
        f32x4_pmax(a, b)
    }
    #[inline(always)]
    fn min(self, a: v128, b: v128) -> v128 {
        f32x4_pmin(a, b)
    }
    #[inline(always)]
    fn fma(self, a: v128, b: v128, c: v128) -> v128 {
        // simd128 has no fused multiply-add (relaxed-simd does, with engine-dependent rounding).
        f32x4_add(f32x4_mul(a, b), c)
    }
    #[inline(always)]
    fn reduce_add(self, v: v128) -> f32 {
        let s = f32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        let s = f32x4_add(s, i32x4_shuffle::<1, 0, 3, 2>(s, s));
        f32x4_extract_lane::<0>(s)
    }
    #[inline(always)]
    fn reduce_max(self, v: v128) -> f32 {
        let s = f32x4_pmax(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        let s = f32x4_pmax(s, i32x4_shuffle::<1, 0, 3, 2>(s, s));
        f32x4_extract_lane::<0>(s)
    }
    #[inline(always)]
    fn reduce_min(self, v: v128) -> f32 {
        let s = f32x4_pmin(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        let s = f32x4_pmin(s, i32x4_shuffle::<1, 0, 3, 2>(s, s));
        f32x4_extract_lane::<0>(s)
    }
    #[inline(always)]
    fn pow2_from_magic(self, t: v128) -> v128 {
        let n = i32x4_sub(t, i32x4_splat((MAGIC_BITS - 127) as i32));
        i32x4_shl(n, 23)
    }
}
