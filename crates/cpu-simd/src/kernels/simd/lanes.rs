//! The vector abstraction every SIMD kernel is written against once: [`Lanes`] is implemented for
//! one register type per instruction set, plus [`One`] (a single `f32`, used for tails so a
//! kernel's last elements go through the very same arithmetic as its body).

/// One SIMD register of `f32` lanes and the operations the kernels need.
///
/// Implementors are zero-sized tokens that can only be built once the instruction set was
/// detected at run time, which is what makes the `unsafe` intrinsic calls inside them sound.
pub(crate) trait Lanes: Copy {
    type V: Copy;
    /// `f32` lanes per register.
    const WIDTH: usize;
    /// Architectural vector registers, which sizes register-blocked kernels (GEMM, FMA peak).
    const REGISTERS: usize;

    fn splat(self, x: f32) -> Self::V;
    /// # Safety
    /// `p` must be valid for reading `WIDTH` floats (no alignment needed).
    unsafe fn load(self, p: *const f32) -> Self::V;
    /// # Safety
    /// `p` must be valid for writing `WIDTH` floats (no alignment needed).
    unsafe fn store(self, p: *mut f32, v: Self::V);
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c`, fused where the instruction set has it.
    fn fma(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    fn reduce_add(self, v: Self::V) -> f32;
    fn reduce_max(self, v: Self::V) -> f32;
    fn reduce_min(self, v: Self::V) -> f32;
    /// `2^n` where `t = n + 1.5·2^23` holds an integer `n` in its low mantissa bits (the
    /// round-to-nearest trick used by [`super::math::exp`]); valid for `n` in `-126..=127`.
    fn pow2_from_magic(self, t: Self::V) -> Self::V;
}

/// A single lane: the tail of every kernel and the portable reference for the generic code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct One;

impl Lanes for One {
    type V = f32;
    const WIDTH: usize = 1;
    const REGISTERS: usize = 16;

    #[inline(always)]
    fn splat(self, x: f32) -> f32 {
        x
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> f32 {
        // SAFETY: the caller guarantees `p` is readable.
        unsafe { p.read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: f32) {
        // SAFETY: the caller guarantees `p` is writable.
        unsafe { p.write_unaligned(v) }
    }
    #[inline(always)]
    fn add(self, a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    fn div(self, a: f32, b: f32) -> f32 {
        a / b
    }
    #[inline(always)]
    fn max(self, a: f32, b: f32) -> f32 {
        if a > b { a } else { b }
    }
    #[inline(always)]
    fn min(self, a: f32, b: f32) -> f32 {
        if a < b { a } else { b }
    }
    #[inline(always)]
    fn fma(self, a: f32, b: f32, c: f32) -> f32 {
        // Unfused on purpose: `mul_add` is a slow libm call where the target lacks FMA.
        a * b + c
    }
    #[inline(always)]
    fn reduce_add(self, v: f32) -> f32 {
        v
    }
    #[inline(always)]
    fn reduce_max(self, v: f32) -> f32 {
        v
    }
    #[inline(always)]
    fn reduce_min(self, v: f32) -> f32 {
        v
    }
    #[inline(always)]
    fn pow2_from_magic(self, t: f32) -> f32 {
        pow2_bits(t.to_bits())
    }
}

/// Exponent bits of `2^n` from the bits of `n + 1.5·2^23` (see [`Lanes::pow2_from_magic`]).
#[inline(always)]
pub(crate) fn pow2_bits(t_bits: u32) -> f32 {
    f32::from_bits(t_bits.wrapping_sub(MAGIC_BITS - 127) << 23)
}

/// Bits of `1.5·2^23`, the round-to-nearest constant.
pub(crate) const MAGIC_BITS: u32 = 0x4B40_0000;

/// Eight lanes in plain arrays: the fallback on every target without a hand-written path.
/// The loops are written so LLVM vectorises them for whatever the target has (SSE2, simd128).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

macro_rules! lanewise {
    ($a:ident, $b:ident, |$x:ident, $y:ident| $e:expr) => {{
        let mut r = [0.0f32; 8];
        for i in 0..8 {
            let ($x, $y) = ($a[i], $b[i]);
            r[i] = $e;
        }
        r
    }};
}

impl Lanes for Portable {
    type V = [f32; 8];
    const WIDTH: usize = 8;
    const REGISTERS: usize = 16;

    #[inline(always)]
    fn splat(self, x: f32) -> [f32; 8] {
        [x; 8]
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> [f32; 8] {
        // SAFETY: the caller guarantees 8 readable floats at `p`.
        unsafe { p.cast::<[f32; 8]>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: [f32; 8]) {
        // SAFETY: the caller guarantees 8 writable floats at `p`.
        unsafe { p.cast::<[f32; 8]>().write_unaligned(v) }
    }
    #[inline(always)]
    fn add(self, a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        lanewise!(a, b, |x, y| x + y)
    }
    #[inline(always)]
    fn sub(self, a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        lanewise!(a, b, |x, y| x - y)
    }
    #[inline(always)]
    fn mul(self, a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        lanewise!(a, b, |x, y| x * y)
    }
    #[inline(always)]
    fn div(self, a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        lanewise!(a, b, |x, y| x / y)
    }
    #[inline(always)]
    fn max(self, a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        lanewise!(a, b, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn min(self, a: [f32; 8], b: [f32; 8]) -> [f32; 8] {
        lanewise!(a, b, |x, y| if x < y { x } else { y })
    }
    #[inline(always)]
    fn fma(self, a: [f32; 8], b: [f32; 8], c: [f32; 8]) -> [f32; 8] {
        let mut r = [0.0f32; 8];
        for i in 0..8 {
            r[i] = a[i] * b[i] + c[i];
        }
        r
    }
    #[inline(always)]
    fn reduce_add(self, v: [f32; 8]) -> f32 {
        ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]))
    }
    #[inline(always)]
    fn reduce_max(self, v: [f32; 8]) -> f32 {
        v.iter()
            .fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m })
    }
    #[inline(always)]
    fn reduce_min(self, v: [f32; 8]) -> f32 {
        v.iter()
            .fold(f32::INFINITY, |m, &x| if x < m { x } else { m })
    }
    #[inline(always)]
    fn pow2_from_magic(self, t: [f32; 8]) -> [f32; 8] {
        t.map(|x| pow2_bits(x.to_bits()))
    }
}
