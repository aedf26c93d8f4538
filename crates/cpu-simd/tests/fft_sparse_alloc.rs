//! FFT against the textbook DFT, CSR SpMV against the dense product, the fixed-block pool and
//! the allocation workloads.

mod common;

use common::{assert_ok, measure};
use rustfft::num_complex::Complex;
use std::collections::HashSet;
use tensorbench_core::data;
use tensorbench_cpu_simd::kernels::sparse::{self, Csr};
use tensorbench_cpu_simd::workloads::alloc::{
    AllocFree, AllocMixed, Allocator, Pool, Step, mixed_pattern, rss_bytes,
};
use tensorbench_cpu_simd::workloads::fft::{FftWorkload, Plan, naive_dft, rel_l2_err};
use tensorbench_cpu_simd::workloads::spmv::{Spmv, random_csr};
use tensorbench_cpu_simd::workloads::{Backend, Ctx, Profile};

fn random_complex(n: usize, seed: u64) -> Vec<Complex<f32>> {
    data::uniform_f32(2 * n, seed)
        .chunks(2)
        .map(|c| Complex::new(c[0], c[1]))
        .collect()
}

fn wide(x: &[Complex<f32>]) -> Vec<Complex<f64>> {
    x.iter()
        .map(|c| Complex::new(f64::from(c.re), f64::from(c.im)))
        .collect()
}

#[test]
fn fft_1d_matches_the_naive_dft_at_powers_of_two_and_not() {
    for n in [1, 2, 64, 60, 97, 3 * 32, 1000] {
        let x = random_complex(n, n as u64);
        let want = naive_dft(&wide(&x));
        let mut got = x.clone();
        Plan::<f32>::new(1, n).forward(&mut got);
        let e = rel_l2_err(&got, &want);
        assert!(e < 1e-5, "n={n}: {e}");
    }
}

#[test]
fn fft_2d_matches_row_then_column_dfts() {
    for (rows, cols) in [(8, 12), (5, 16), (16, 16)] {
        let x = random_complex(rows * cols, 3);
        // Reference: naive DFT of every row, then of every column.
        let mut want = wide(&x);
        for r in 0..rows {
            let row = naive_dft(&want[r * cols..(r + 1) * cols]);
            want[r * cols..(r + 1) * cols].copy_from_slice(&row);
        }
        for c in 0..cols {
            let col: Vec<_> = (0..rows).map(|r| want[r * cols + c]).collect();
            for (r, v) in naive_dft(&col).into_iter().enumerate() {
                want[r * cols + c] = v;
            }
        }
        let mut got = x.clone();
        Plan::<f32>::new(rows, cols).forward(&mut got);
        let e = rel_l2_err(&got, &want);
        assert!(e < 1e-5, "{rows}×{cols}: {e}");
    }
}

#[test]
fn rel_l2_err_sees_a_wrong_transform() {
    let x = random_complex(64, 1);
    let want = naive_dft(&wide(&x));
    assert!(rel_l2_err(&x, &want) > 0.5);
}

#[test]
fn fft_workloads_validate() {
    for (r, c) in [(1, 4096), (1, 1000), (1, 4093), (32, 48)] {
        assert_ok(&measure(&mut FftWorkload::new(r, c)));
    }
}

#[test]
fn csr_round_trips_and_spmv_matches_the_dense_product() {
    for (rows, cols, density) in [(1, 1, 1.0), (37, 53, 0.1), (64, 64, 0.5), (10, 20, 0.0)] {
        let n = rows.max(cols);
        let full = random_csr(n, density, 4);
        let dense: Vec<f32> = (0..rows * cols)
            .map(|e| full.to_dense()[(e / cols) * n + e % cols])
            .collect();
        let a = Csr::from_dense(rows, cols, &dense);
        assert_eq!(a.to_dense(), dense);
        assert_eq!(a.nnz(), dense.iter().filter(|&&v| v != 0.0).count());
        let x = data::uniform_f32(cols, 5);
        let want: Vec<f64> = dense
            .chunks(cols)
            .map(|r| {
                r.iter()
                    .zip(&x)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum()
            })
            .collect();
        let mut y = vec![f32::NAN; rows];
        sparse::spmv(&a, &x, &mut y);
        let e = tensorbench_core::workload::max_rel_err(&y, &want);
        assert!(e < 1e-5, "{rows}×{cols} d={density}: {e}");
        let mut y = vec![f32::NAN; rows];
        sparse::par_spmv(&a, &x, &mut y);
        assert!(tensorbench_core::workload::max_rel_err(&y, &want) < 1e-5);
    }
}

#[test]
fn random_csr_has_the_requested_density() {
    let a = random_csr(500, 0.1, 9);
    let d = a.nnz() as f64 / 250_000.0;
    assert!((d - 0.1).abs() < 0.005, "density {d}");
}

#[test]
fn spmv_workloads_validate_and_name_their_dense_partner() {
    let ctx = Ctx::new(Profile::Quick, 2);
    for backend in [Backend::Scalar, Backend::Rayon] {
        let m = measure(&mut Spmv::new(backend, 300, 0.05, &ctx));
        assert_ok(&m);
        assert!(
            m.extra["dense_partner"]
                .as_str()
                .unwrap()
                .contains("/gemv/")
        );
        assert!(m.extra["nnz"].as_u64().unwrap() > 0);
    }
}

#[test]
fn pool_hands_out_distinct_blocks_until_exhausted_and_reuses_freed_ones() {
    let mut pool = Pool::new(32, 4);
    let ids: Vec<_> = (0..4).map(|_| pool.alloc().expect("block")).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 4);
    assert_eq!(pool.alloc(), None, "a full pool says so");
    for (t, &id) in ids.iter().enumerate() {
        pool.bytes_mut(id).fill(t as u8);
    }
    for (t, &id) in ids.iter().enumerate() {
        assert!(
            pool.bytes_mut(id).iter().all(|&b| b == t as u8),
            "blocks overlap"
        );
    }
    pool.free(ids[2]);
    assert_eq!(pool.live(), 3);
    assert_eq!(pool.alloc(), Some(ids[2]), "the freed block is reused");
    for &id in &ids {
        pool.free(id);
    }
    assert_eq!(pool.live(), 0);
    assert_eq!((0..4).filter_map(|_| pool.alloc()).count(), 4);
}

#[test]
fn mixed_pattern_alternates_per_slot_and_frees_everything() {
    let p = mixed_pattern(5000, 64, 256, 3);
    let mut live = [false; 64];
    for step in &p {
        match *step {
            Step::Alloc { slot, size } => {
                assert!(!live[slot] && (16..=256).contains(&size));
                live[slot] = true;
            }
            Step::Free { slot } => {
                assert!(live[slot]);
                live[slot] = false;
            }
        }
    }
    assert!(live.iter().all(|&l| !l), "the pattern leaves nothing live");
}

#[test]
fn allocation_workloads_validate_and_measure_fragmentation() {
    for size in [64, 1 << 20] {
        assert_ok(&measure(&mut AllocFree::new(size)));
    }
    let m = measure(&mut AllocMixed::new(Allocator::Pool, 2000, 128, 256));
    assert_ok(&m);
    let m = measure(&mut AllocMixed::new(Allocator::System, 2000, 128, 256));
    assert_ok(&m);
    if rss_bytes().is_ok() {
        let live = m.extra["frag_live_bytes"].as_u64().unwrap();
        assert!(live > 0 && m.extra["frag_ratio"].as_f64().unwrap() >= 0.0);
    } else {
        assert!(m.extra.contains_key("fragmentation_skipped"));
    }
}
