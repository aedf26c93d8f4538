//! The STREAM copy with non-temporal stores: the labelled variant beside the ordinary-store copy.
//! Non-temporal stores skip the read-for-ownership of the destination, so this copy moves a third
//! less real traffic than STREAM counts and is never a ceiling (see docs/METHODOLOGY.md).

/// Whether [`copy`] uses non-temporal stores on this CPU (else it is a plain `memcpy`).
pub fn is_nontemporal() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f") || std::arch::is_x86_feature_detected!("avx")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `out = x`, with streaming stores where [`is_nontemporal`].
pub fn copy(x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "input and output lengths differ");
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the feature was detected.
            return unsafe { x86::copy_avx512(x, out) };
        }
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: as above.
            return unsafe { x86::copy_avx(x, out) };
        }
    }
    out.copy_from_slice(x)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Elements before `out` is aligned to `align` bytes (streaming stores need aligned addresses).
    fn head(out: &[f32], align: usize) -> usize {
        let off = out.as_ptr().align_offset(align);
        off.min(out.len())
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn copy_avx512(x: &[f32], out: &mut [f32]) {
        let h = head(out, 64);
        out[..h].copy_from_slice(&x[..h]);
        let n = out.len();
        let body = h + (n - h) / 16 * 16;
        let mut i = h;
        while i < body {
            // SAFETY: i + 16 <= n; out + i is 64-byte aligned.
            unsafe {
                _mm512_stream_ps(out.as_mut_ptr().add(i), _mm512_loadu_ps(x.as_ptr().add(i)))
            };
            i += 16;
        }
        _mm_sfence();
        out[body..].copy_from_slice(&x[body..]);
    }

    #[target_feature(enable = "avx")]
    pub(super) unsafe fn copy_avx(x: &[f32], out: &mut [f32]) {
        let h = head(out, 32);
        out[..h].copy_from_slice(&x[..h]);
        let n = out.len();
        let body = h + (n - h) / 8 * 8;
        let mut i = h;
        while i < body {
            // SAFETY: i + 8 <= n; out + i is 32-byte aligned.
            unsafe {
                _mm256_stream_ps(out.as_mut_ptr().add(i), _mm256_loadu_ps(x.as_ptr().add(i)))
            };
            i += 8;
        }
        _mm_sfence();
        out[body..].copy_from_slice(&x[body..]);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn copies_every_length_and_alignment() {
        let x: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        for (start, len) in [(0, 0), (1, 17), (3, 500), (0, 1000)] {
            let mut out = vec![f32::NAN; 1000];
            super::copy(&x[start..start + len], &mut out[start..start + len]);
            assert_eq!(&out[start..start + len], &x[start..start + len]);
        }
    }
}
