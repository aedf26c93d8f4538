//! Every probe validates at a small size through the real sampler: STREAM with ordinary and
//! non-temporal stores, the working-set passes on one thread and on the pool, and the compute
//! peaks per type and thread count.

mod common;

use common::measure_ok;
use tensorbench_cpu_simd::kernels::int8_peak;
use tensorbench_cpu_simd::probes::{
    ChainPeak, FmaPeak, Int8Peak, PeakKernel, Size, Stream, StreamKind, SweepKernel, WorkingSet,
};

#[test]
fn stream_probes_validate_with_ordinary_and_nontemporal_stores() {
    for kind in StreamKind::ALL.into_iter().chain([StreamKind::CopyNt]) {
        let m = measure_ok(&mut Stream::new(kind, 10_007, 2));
        assert_eq!(m.op, kind.name());
    }
}

#[test]
fn working_set_probes_validate_on_one_thread_and_the_pool() {
    let pool = rayon::current_num_threads();
    for kernel in [SweepKernel::Read, SweepKernel::Add] {
        for threads in [1, pool] {
            let mut w = WorkingSet::with(kernel, threads, Size::Fixed(48 << 10));
            let m = measure_ok(&mut w);
            assert_eq!(m.threads, threads);
            assert!(m.extra.contains_key("footprint_bytes"), "{:?}", m.extra);
        }
    }
    // The legacy one-thread read keeps its id.
    let m = measure_ok(&mut WorkingSet::new(64 << 10));
    assert_eq!(m.id, "cpu-probe/working_set/simd/f32/bytes=65536");
}

#[test]
fn compute_peaks_validate_per_type_and_thread_count() {
    let pool = rayon::current_num_threads();
    let one = measure_ok(&mut FmaPeak::single());
    assert_eq!(one.threads, 1);
    assert!(one.id.ends_with("threads=1"), "{}", one.id);
    measure_ok(&mut FmaPeak::new(pool));
    if int8_peak::is_available() {
        measure_ok(&mut Int8Peak::single());
        measure_ok(&mut Int8Peak::new(pool));
    }
    let chains = [
        PeakKernel::BF16_DOT,
        PeakKernel::F16_FMA,
        PeakKernel::AMX_BF16,
        PeakKernel::AMX_INT8,
    ];
    for kernel in chains {
        // Where the CPU lacks the instructions, `run` says so and the probe is not registered.
        if (kernel.run)(1).is_none() {
            continue;
        }
        let m = measure_ok(&mut ChainPeak::new(kernel, pool, true));
        assert_eq!((m.dtype, m.threads), (kernel.dtype, 1));
        measure_ok(&mut ChainPeak::new(kernel, pool, false));
    }
}
