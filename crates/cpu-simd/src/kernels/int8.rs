//! Quantized int8 kernels: `i8` inputs, `i32` accumulation (wrapping, like the hardware's),
//! the building block of int8 inference. A scalar reference and the widest SIMD path the build
//! has: AVX2 `vpmaddwd` on x86_64 (detected at run time), simd128 `i32x4.dot_i16x8_s` on wasm32
//! modules built with `+simd128`; elsewhere the scalar loop.
//!
//! GEMM takes B transposed (`n × k`, one row per output column), the layout quantized weights
//! are stored in, so every output element is one contiguous dot product.

/// `Σ a[i]·b[i]` one element at a time.
pub fn dot_scalar(a: &[i8], b: &[i8]) -> i32 {
    assert_eq!(a.len(), b.len(), "dot operands differ in length");
    a.iter().zip(b).fold(0i32, |acc, (&x, &y)| {
        acc.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// `C[m×n] = A[m×k]·Bᵀ` with `b_t` the `n × k` transpose of B, one element at a time.
pub fn gemm_scalar(m: usize, n: usize, k: usize, a: &[i8], b_t: &[i8], c: &mut [i32]) {
    gemm_with(m, n, k, a, b_t, c, dot_scalar)
}

/// The SIMD dot product (see the module docs for which instruction set).
pub fn dot(a: &[i8], b: &[i8]) -> i32 {
    assert_eq!(a.len(), b.len(), "dot operands differ in length");
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return simd128::dot(a, b);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected just above.
        return unsafe { avx2::dot(a, b) };
    }
    #[allow(unreachable_code)]
    dot_scalar(a, b)
}

/// The SIMD GEMM: one SIMD dot product per output element.
pub fn gemm(m: usize, n: usize, k: usize, a: &[i8], b_t: &[i8], c: &mut [i32]) {
    gemm_with(m, n, k, a, b_t, c, dot)
}

/// The instruction set [`dot`] and [`gemm`] use in this build on this CPU.
pub fn isa() -> &'static str {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return "simd128";
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return "avx2";
    }
    #[allow(unreachable_code)]
    "scalar"
}

fn gemm_with(
    m: usize,
    n: usize,
    k: usize,
    a: &[i8],
    b_t: &[i8],
    c: &mut [i32],
    dot: fn(&[i8], &[i8]) -> i32,
) {
    crate::kernels::check_gemm_sizes("int8 gemm", (m, n, k), a.len(), b_t.len(), c.len());
    if k == 0 {
        c.fill(0);
        return;
    }
    for (row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n.max(1))) {
        for (col, out) in b_t.chunks_exact(k).zip(c_row.iter_mut()) {
            *out = dot(row, col);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use core::arch::wasm32::*;

    /// 16 bytes per step: sign-extend each half to i16, then `dot_i16x8` multiplies pairs and
    /// adds neighbours into i32 lanes. Two accumulators hide the add latency.
    pub(super) fn dot(a: &[i8], b: &[i8]) -> i32 {
        let body = a.len() - a.len() % 16;
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let (mut acc0, mut acc1) = (i32x4_splat(0), i32x4_splat(0));
        let mut i = 0;
        while i < body {
            // SAFETY: i + 16 <= len for both slices.
            let (x, y) = unsafe {
                (
                    v128_load(pa.add(i).cast::<v128>()),
                    v128_load(pb.add(i).cast::<v128>()),
                )
            };
            let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(x), i16x8_extend_low_i8x16(y));
            let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(x), i16x8_extend_high_i8x16(y));
            acc0 = i32x4_add(acc0, lo);
            acc1 = i32x4_add(acc1, hi);
            i += 16;
        }
        let s = i32x4_add(acc0, acc1);
        let lanes = [
            i32x4_extract_lane::<0>(s),
            i32x4_extract_lane::<1>(s),
            i32x4_extract_lane::<2>(s),
            i32x4_extract_lane::<3>(s),
        ];
        let head = lanes.iter().fold(0i32, |t, &l| t.wrapping_add(l));
        head.wrapping_add(super::dot_scalar(&a[body..], &b[body..]))
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// 16 bytes per step: sign-extend to 16 × i16, `vpmaddwd` multiplies and adds pairs into
    /// 8 × i32.
    #[target_feature(enable = "avx2")]
    pub(super) fn dot(a: &[i8], b: &[i8]) -> i32 {
        let body = a.len() - a.len() % 16;
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i < body {
            // SAFETY: i + 16 <= len for both slices.
            let (x, y) = unsafe {
                (
                    _mm_loadu_si128(pa.add(i).cast()),
                    _mm_loadu_si128(pb.add(i).cast()),
                )
            };
            let p = _mm256_madd_epi16(_mm256_cvtepi8_epi16(x), _mm256_cvtepi8_epi16(y));
            acc = _mm256_add_epi32(acc, p);
            i += 16;
        }
        let s = _mm_add_epi32(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256::<1>(acc),
        );
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s).wrapping_add(super::dot_scalar(&a[body..], &b[body..]))
    }
}
