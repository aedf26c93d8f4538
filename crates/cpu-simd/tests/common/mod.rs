//! What the workload tests share: a fast sampler (validation is what they are about, not the
//! time) and the checks that a measurement came out valid and timed.
// Each test binary uses only some of these.
#![allow(dead_code)]

use tensorbench_core::schema::{Peaks, Status};
use tensorbench_core::{Measurement, Sampler, SamplerConfig, Workload};
use tensorbench_cpu_simd::workloads::{Ctx, Profile};

pub fn ctx() -> Ctx {
    Ctx::new(Profile::Quick, 2)
}

/// A sampler that takes a few short samples: enough to exercise validate-then-time.
pub fn fast_sampler() -> Sampler {
    let config = SamplerConfig {
        warmup_s: 0.0,
        min_samples: 3,
        min_time_s: 0.0,
        max_time_s: 0.02,
        ..SamplerConfig::default()
    };
    Sampler::new(config, 1 << 20)
}

pub fn measure(w: &mut dyn Workload) -> Measurement {
    fast_sampler().measure(w, 7, &Peaks::new())
}

/// `ok`, with the reason and validation in the message when not.
pub fn assert_ok(m: &Measurement) {
    assert_eq!(
        m.status,
        Status::Ok,
        "{}: {:?} {:?}",
        m.id,
        m.reason,
        m.validation
    );
}

/// Measures `w` and checks it validated and was timed.
pub fn measure_ok(w: &mut dyn Workload) -> Measurement {
    let m = measure(w);
    assert_ok(&m);
    assert!(
        m.stats.as_ref().is_some_and(|s| s.median_ns > 0.0),
        "{} was not timed",
        m.id
    );
    m
}
