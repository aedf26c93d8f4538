//! Seeded input data. The generator is ChaCha8 seeded with the workload's seed, so any peer (or a
//! rerun) can reproduce the exact inputs of a measurement from its recorded `seed`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` values uniform in [-1, 1).
pub fn uniform_f32(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

/// `n` values uniform in [lo, hi).
pub fn uniform_f32_in(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data() {
        assert_eq!(uniform_f32(100, 7), uniform_f32(100, 7));
        assert_ne!(uniform_f32(100, 7), uniform_f32(100, 8));
        assert!(uniform_f32(1000, 1).iter().all(|x| (-1.0..1.0).contains(x)));
    }
}
