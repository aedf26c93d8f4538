//! Deterministic collective inputs: small integers from a seeded hash of (rank, index), so every
//! rank can compute any other rank's data and every sum is exact in f32 — a result element is
//! either exactly right or wrong, which is what nccl-tests' `#wrong` counts.

/// SplitMix64: a fast, well-mixed hash of one word.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Element `i` of rank `rank`'s input for seed `seed`: an integer in [-8, 8]. Sums over up to 2^20
/// ranks stay below 2^24, so they are exact in f32 whatever order the library adds them in.
pub fn value(seed: u64, rank: usize, i: usize) -> f32 {
    let h = splitmix64(seed ^ splitmix64((rank as u64) << 40 ^ i as u64));
    ((h >> 33) % 17) as f32 - 8.0
}

/// Fills `out` with elements `offset..offset + out.len()` of `rank`'s input.
pub fn fill(out: &mut [f32], seed: u64, rank: usize, offset: usize) {
    for (k, x) in out.iter_mut().enumerate() {
        *x = value(seed, rank, offset + k);
    }
}

/// Sum over all `ranks` of element `i`, in f64.
pub fn sum_over_ranks(seed: u64, ranks: usize, i: usize) -> f64 {
    (0..ranks).map(|r| f64::from(value(seed, r, i))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_small_integers_that_depend_on_every_input() {
        let v: Vec<f32> = (0..1000).map(|i| value(7, 0, i)).collect();
        assert!(
            v.iter()
                .all(|x| x.fract() == 0.0 && (-8.0..=8.0).contains(x))
        );
        assert!(v.iter().any(|&x| x != v[0]));
        assert_ne!(
            (0..64).map(|i| value(7, 0, i)).collect::<Vec<_>>(),
            (0..64).map(|i| value(7, 1, i)).collect::<Vec<_>>()
        );
        assert_ne!(
            (0..64).map(|i| value(7, 0, i)).collect::<Vec<_>>(),
            (0..64).map(|i| value(8, 0, i)).collect::<Vec<_>>()
        );
    }
}
