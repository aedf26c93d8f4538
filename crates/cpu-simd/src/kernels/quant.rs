//! Symmetric int8 quantization: `q = round(x / s)` clamped to ±127 with `s = max|x| / 127`, one
//! scale per tensor or one per channel (a row of a `channels × len` matrix, e.g. the output
//! channels of a weight matrix stored `n × k`), and the way back, `x ≈ q · s`.
//!
//! The loops are plain Rust; on x86_64 with AVX2 (detected at run time) quantize has an
//! intrinsics body and dequantize is the plain loop compiled with AVX2 enabled.

use super::Reduction;
use super::simd::Kernels;

/// The largest quantized magnitude; -128 is never produced, so the range is symmetric.
pub const QMAX: f32 = 127.0;

/// One scale for the whole tensor, or one per channel (row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    PerTensor,
    PerChannel,
}

impl Granularity {
    pub const ALL: [Granularity; 2] = [Granularity::PerTensor, Granularity::PerChannel];

    pub fn name(self) -> &'static str {
        match self {
            Granularity::PerTensor => "per_tensor",
            Granularity::PerChannel => "per_channel",
        }
    }
}

/// `max|x| / 127`, or 1 when `x` is empty or all zero (so every value quantizes to 0).
pub fn scale_of(x: &[f32]) -> f32 {
    let k = Kernels::best();
    let amax = k
        .reduce(Reduction::Max, x)
        .max(-k.reduce(Reduction::Min, x));
    if amax > 0.0 && amax.is_finite() {
        amax / QMAX
    } else {
        1.0
    }
}

/// `out = round(x / scale)` (ties to even), clamped to ±127.
pub fn quantize(x: &[f32], scale: f32, out: &mut [i8]) {
    assert_eq!(
        x.len(),
        out.len(),
        "quantize: input and output lengths differ"
    );
    let inv = 1.0 / scale;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected.
        return unsafe { quantize_avx2(x, inv, out) };
    }
    quantize_body(x, inv, out)
}

/// `out = q · scale`.
pub fn dequantize(q: &[i8], scale: f32, out: &mut [f32]) {
    assert_eq!(
        q.len(),
        out.len(),
        "dequantize: input and output lengths differ"
    );
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected.
        return unsafe { dequantize_avx2(q, scale, out) };
    }
    dequantize_body(q, scale, out)
}

/// Per-tensor quantization; returns the scale.
pub fn quantize_tensor(x: &[f32], out: &mut [i8]) -> f32 {
    let s = scale_of(x);
    quantize(x, s, out);
    s
}

/// Per-channel quantization of a `scales.len() × cols` matrix: one scale per row.
pub fn quantize_rows(x: &[f32], cols: usize, scales: &mut [f32], out: &mut [i8]) {
    check_rows(x.len(), out.len(), cols, scales.len());
    if cols == 0 {
        return;
    }
    for ((row, q), s) in x.chunks(cols).zip(out.chunks_mut(cols)).zip(scales) {
        *s = scale_of(row);
        quantize(row, *s, q);
    }
}

/// `out[r][c] = q[r][c] · scales[r]`.
pub fn dequantize_rows(q: &[i8], cols: usize, scales: &[f32], out: &mut [f32]) {
    check_rows(q.len(), out.len(), cols, scales.len());
    if cols == 0 {
        return;
    }
    for ((row, o), &s) in q.chunks(cols).zip(out.chunks_mut(cols)).zip(scales) {
        dequantize(row, s, o);
    }
}

fn check_rows(input: usize, output: usize, cols: usize, rows: usize) {
    assert!(
        input == rows * cols && output == input,
        "per-channel quantization: {rows} rows × {cols} columns do not match lengths {input} and {output}"
    );
}

#[inline(always)]
fn quantize_body(x: &[f32], inv: f32, out: &mut [i8]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v * inv).clamp(-QMAX, QMAX).round_ties_even() as i8;
    }
}

#[inline(always)]
fn dequantize_body(q: &[i8], scale: f32, out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(q) {
        *o = f32::from(v) * scale;
    }
}

/// 32 values per step: scale, clamp, convert with the default round-to-nearest-even mode
/// (`vcvtps2dq`), then narrow i32 → i16 → i8 with saturating packs and undo their lane
/// interleaving. The compiler does not find this from the plain loop (its saturating `as`
/// conversion stays scalar).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn quantize_avx2(x: &[f32], inv: f32, out: &mut [i8]) {
    use std::arch::x86_64::*;
    let body = x.len() / 32 * 32;
    let scale = _mm256_set1_ps(inv);
    let (lo, hi) = (_mm256_set1_ps(-QMAX), _mm256_set1_ps(QMAX));
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for i in (0..body).step_by(32) {
        // SAFETY: i + 32 <= body <= x.len() = out.len().
        unsafe {
            let q = |j: usize| {
                let v = _mm256_mul_ps(_mm256_loadu_ps(x.as_ptr().add(i + j)), scale);
                _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi))
            };
            let (a, b, c, d) = (q(0), q(8), q(16), q(24));
            let bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
            let bytes = _mm256_permutevar8x32_epi32(bytes, order);
            _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), bytes);
        }
    }
    quantize_body(&x[body..], inv, &mut out[body..])
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dequantize_avx2(q: &[i8], scale: f32, out: &mut [f32]) {
    dequantize_body(q, scale, out)
}
