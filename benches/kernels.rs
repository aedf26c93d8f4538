//! Criterion benches over the tensorbench CPU kernels, for people who use criterion:
//! `cargo bench -p tensorbench-cpu-simd`. The suite binary (`cargo xtask bench`) is the measured,
//! validated and roofline-placed path; these are the same kernels under criterion's own sampler.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tensorbench_core::data::uniform_f32;
use tensorbench_cpu_simd::kernels::simd::{GemmWorkspace, Kernels};
use tensorbench_cpu_simd::kernels::{Reduction, par, peers, scalar};

const N: usize = 1 << 20;

fn add(c: &mut Criterion) {
    let (a, b) = (uniform_f32(N, 1), uniform_f32(N, 2));
    let mut out = vec![0.0; N];
    let mut g = c.benchmark_group("add");
    g.throughput(Throughput::Bytes((3 * N * 4) as u64));
    g.bench_function(BenchmarkId::new("scalar", N), |bn| {
        bn.iter(|| scalar::add(&a, &b, &mut out))
    });
    let k = Kernels::best();
    g.bench_function(BenchmarkId::new("simd", N), |bn| {
        bn.iter(|| k.add(&a, &b, &mut out))
    });
    g.bench_function(BenchmarkId::new("rayon", N), |bn| {
        bn.iter(|| par::add(&a, &b, &mut out))
    });
    g.bench_function(BenchmarkId::new("ndarray", N), |bn| {
        bn.iter(|| peers::nd::add(&a, &b, &mut out))
    });
    g.finish();
}

fn sum(c: &mut Criterion) {
    let x = uniform_f32(N, 3);
    let mut g = c.benchmark_group("sum");
    g.throughput(Throughput::Bytes((N * 4) as u64));
    g.bench_function(BenchmarkId::new("scalar", N), |bn| {
        bn.iter(|| black_box(scalar::sum(&x)))
    });
    let k = Kernels::best();
    g.bench_function(BenchmarkId::new("simd", N), |bn| {
        bn.iter(|| black_box(k.sum(&x)))
    });
    g.bench_function(BenchmarkId::new("rayon", N), |bn| {
        bn.iter(|| black_box(par::reduce(Reduction::Sum, &x)))
    });
    g.finish();
}

fn softmax(c: &mut Criterion) {
    let (rows, cols) = (256, 4096);
    let x = uniform_f32(rows * cols, 4);
    let mut out = vec![0.0; rows * cols];
    let mut g = c.benchmark_group("softmax");
    g.throughput(Throughput::Bytes((2 * rows * cols * 4) as u64));
    let k = Kernels::best();
    g.bench_function(BenchmarkId::new("simd", "256x4096"), |bn| {
        bn.iter(|| k.softmax_rows(&x, cols, &mut out))
    });
    g.bench_function(BenchmarkId::new("rayon", "256x4096"), |bn| {
        bn.iter(|| par::softmax_rows(&x, cols, &mut out))
    });
    g.finish();
}

fn gemm(c: &mut Criterion) {
    let n = 256;
    let (a, b) = (uniform_f32(n * n, 5), uniform_f32(n * n, 6));
    let mut out = vec![0.0; n * n];
    let mut g = c.benchmark_group("gemm");
    g.throughput(Throughput::Elements((2 * n * n * n) as u64));
    let k = Kernels::best();
    let mut ws = GemmWorkspace::new();
    g.bench_function(BenchmarkId::new("simd", n), |bn| {
        bn.iter(|| k.gemm(n, n, n, &a, &b, &mut out, &mut ws))
    });
    g.bench_function(BenchmarkId::new("rayon", n), |bn| {
        bn.iter(|| par::gemm(n, n, n, &a, &b, &mut out))
    });
    g.bench_function(BenchmarkId::new("gemm", n), |bn| {
        bn.iter(|| peers::gemm_crate(n, n, n, &a, &b, &mut out, rayon::current_num_threads()))
    });
    g.bench_function(BenchmarkId::new("matrixmultiply", n), |bn| {
        bn.iter(|| peers::matrixmultiply(n, n, n, &a, &b, &mut out))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1));
    targets = add, sum, softmax, gemm
}
criterion_main!(benches);
