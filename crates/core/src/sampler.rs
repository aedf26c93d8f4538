//! The one timing loop. Every backend's workloads are measured here, through their [`Clock`]:
//! warm-up by time, batch sizing from the clock's resolution, sampling until the median's
//! confidence interval is tight enough or a time cap is hit.

use crate::clock::Clock;
use crate::device::{Device, HostCpu, MeterResult};
use crate::schema::{
    AllocCounts, CacheMode, Energy, Measurement, Peaks, SamplingInfo, Status, Throughput,
    Validation,
};
use crate::stats::{MIN_DEPENDENT_N, halves, relative_ci_half_width, summarize_checked};
use crate::workload::{CacheFlusher, Workload, WorkloadSpec};
use crate::{Result, alloc, roofline};
use serde::{Deserialize, Serialize};
use tensorbench_ops::Profile;

/// How long and how precisely to sample. See `docs/METHODOLOGY.md` for why these defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplerConfig {
    /// Seconds of untimed-for-results running before sampling starts.
    pub warmup_s: f64,
    /// Fewest samples taken, whatever the CI (up to the time caps).
    pub min_samples: usize,
    /// Most samples taken.
    pub max_samples: usize,
    /// Sampling goes on at least this long, even once the CI target is met.
    pub min_time_s: f64,
    /// Sampling stops at this cap whether or not the CI target was met (then `converged: false`).
    pub max_time_s: f64,
    /// Target relative half-width of the median's confidence interval (0.01 = ±1%).
    pub ci_target: f64,
    /// Confidence level of the median's interval (0.95).
    pub confidence: f64,
    /// Wanted length of one sample; raised to 1000× the clock's resolution when that is longer.
    pub sample_target_s: f64,
    /// Hot caches, or cold: caches flushed before every sample.
    pub mode: CacheMode,
    /// Also stop at `max_time_s` of wall-clock time. Drivers whose processes must take identical
    /// decisions from identical clock readings (MPI ranks) turn this off: wall time differs per rank.
    #[serde(default = "yes")]
    pub wall_time_cap: bool,
    /// When `max_time_s` comes before `min_samples`, sampling goes on to `min_samples` unless
    /// this much time is spent (0: `max_time_s` is the only cap). Probes set it (to
    /// 3 s) so a ceiling rests on at least `min_samples` samples.
    #[serde(default)]
    pub min_samples_cap_s: f64,
    /// What sampling must pin down before it stops.
    #[serde(default)]
    pub stop_on: StopRule,
}

/// The statistic whose precision ends sampling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopRule {
    /// The median's dependence-aware CI within `ci_target`, halves agreeing: what a workload reports.
    #[default]
    Median,
    /// The fastest sample settled (see [`best_settled`]): what a roofline probe publishes as its
    /// ceiling, STREAM's "best rate".
    Best,
}

/// Most seconds a roofline probe samples to reach its `min_samples`.
pub(crate) const PROBE_TIME_CAP_S: f64 = 3.0;
/// A probe's time cap is never below this: a DRAM-sized probe takes tens of milliseconds a sample,
/// and its best needs a few dozen to settle on a shared machine; one that settles stops sooner.
pub(crate) const PROBE_MIN_MAX_TIME_S: f64 = 2.0;

fn yes() -> bool {
    true
}

impl SamplerConfig {
    /// The sampling of each profile: `quick` (the default, CI-sized), `standard`, `full`.
    pub fn profile(profile: Profile) -> Self {
        let base = Self {
            warmup_s: 0.05,
            min_samples: 10,
            max_samples: 10_000,
            min_time_s: 0.05,
            max_time_s: 0.3,
            ci_target: 0.01,
            confidence: 0.95,
            sample_target_s: 2e-4,
            mode: CacheMode::Hot,
            wall_time_cap: true,
            min_samples_cap_s: 0.0,
            stop_on: StopRule::Median,
        };
        match profile {
            Profile::Quick => base,
            Profile::Standard => Self {
                warmup_s: 0.3,
                min_samples: 20,
                min_time_s: 0.5,
                max_time_s: 3.0,
                sample_target_s: 1e-3,
                ..base
            },
            Profile::Full => Self {
                warmup_s: 1.0,
                min_samples: 50,
                min_time_s: 2.0,
                max_time_s: 15.0,
                ci_target: 0.005,
                sample_target_s: 2e-3,
                ..base
            },
        }
    }
}

impl SamplerConfig {
    /// How a roofline probe samples: to at least [`MIN_DEPENDENT_N`] samples (within
    /// [`PROBE_TIME_CAP_S`]), then until its best sample has settled or
    /// [`PROBE_MIN_MAX_TIME_S`] (or the profile's longer cap) is spent.
    pub fn for_probe(&self) -> Self {
        Self {
            min_samples: self.min_samples.max(MIN_DEPENDENT_N),
            max_time_s: self.max_time_s.max(PROBE_MIN_MAX_TIME_S),
            min_samples_cap_s: PROBE_TIME_CAP_S,
            stop_on: StopRule::Best,
            ..self.clone()
        }
    }
}

impl Default for SamplerConfig {
    fn default() -> Self {
        Self::profile(Profile::Quick)
    }
}

/// Drives one workload at a time through validate-then-time.
#[derive(Debug)]
pub struct Sampler {
    /// How this sampler samples.
    pub config: SamplerConfig,
    flusher: Option<CacheFlusher>,
}

struct Sampled {
    samples_ns: Vec<f64>,
    iters: u64,
    warmup_ns: f64,
    total_ns: f64,
    converged: bool,
    alloc: Option<AllocCounts>,
    energy: Energy,
    cold_warning: Option<String>,
}

/// A validated, warmed-up workload's clock and batch size, for paired sampling.
pub(crate) struct Warmed {
    clock: Box<dyn Clock>,
    /// Iterations per batch, from the warm-up (as [`Sampler::measure_on`] sizes them).
    pub(crate) iters: u64,
    /// The warm-up's last per-iteration time.
    pub(crate) per_iter_ns: f64,
}

/// What comes before timing: the blank measurement with its extras, the availability check,
/// validation and the device's clock. `Err` is the finished measurement of a workload that is
/// not timed (skipped, failed or invalid).
fn checked(
    device: &dyn Device,
    workload: &mut dyn Workload,
    seed: u64,
    mode: CacheMode,
) -> std::result::Result<(Measurement, Box<dyn Clock>), Box<Measurement>> {
    let mut m = blank_measurement(workload.spec(), mode);
    m.extra.insert("seed".into(), seed.into());
    m.extra.extend(device.extra());
    m.extra.extend(workload.extra());
    if let Some(reason) = workload.unavailable() {
        m.reason = Some(reason);
        return Err(Box::new(m));
    }
    let validation = match prepare_and_validate(workload, seed) {
        Ok(v) => v,
        Err(e) => return Err(Box::new(failed(m, e.to_string()))),
    };
    let passed = validation.passed;
    m.validation = Some(validation);
    // Again after validation: figures a workload learns from its data (accuracy cost against
    // another precision, memory use) exist only once it has prepared and validated.
    m.extra.extend(workload.extra());
    if !passed {
        m.status = Status::Invalid;
        m.reason = Some("output differs from the reference beyond tolerance".into());
        return Err(Box::new(m));
    }
    match device.clock() {
        Ok(c) => Ok((m, c)),
        Err(e) => Err(Box::new(failed(m, e.to_string()))),
    }
}

impl Sampler {
    /// `llc_bytes` sizes the cache flusher for cold mode.
    pub fn new(config: SamplerConfig, llc_bytes: u64) -> Self {
        let flusher = (config.mode == CacheMode::Cold).then(|| CacheFlusher::new(llc_bytes));
        Self { config, flusher }
    }

    /// [`Sampler::measure_on`] the host CPU.
    pub fn measure(
        &mut self,
        workload: &mut dyn Workload,
        seed: u64,
        peaks: &Peaks,
    ) -> Measurement {
        self.measure_on(&HostCpu, workload, seed, peaks)
    }

    /// Prepares, validates and, if valid, times `workload` with `device`'s clock, energy counter
    /// and cache flush. Errors become a `failed` measurement; a wrong output becomes `invalid` and
    /// is never timed.
    pub fn measure_on(
        &mut self,
        device: &dyn Device,
        workload: &mut dyn Workload,
        seed: u64,
        peaks: &Peaks,
    ) -> Measurement {
        let (m, mut clock) = match checked(device, workload, seed, self.config.mode) {
            Ok(ready) => ready,
            Err(not_timed) => return *not_timed,
        };
        let mut meter = device.energy_meter();
        match self.sample(device, workload, clock.as_mut(), &mut meter) {
            Ok(s) => self.fill(m, s, clock.as_ref(), peaks),
            Err(e) => failed(m, e.to_string()),
        }
    }

    /// Validates `workload` and warms it up as [`Sampler::measure_on`] does, for paired sampling
    /// (`--serve`); `Err` is the measurement that says why it is not timed.
    pub(crate) fn warm(
        &mut self,
        device: &dyn Device,
        workload: &mut dyn Workload,
        seed: u64,
    ) -> std::result::Result<Warmed, Box<Measurement>> {
        let (m, mut clock) = checked(device, workload, seed, self.config.mode)?;
        let cfg = &self.config;
        let (per_iter_ns, _) = warm_up(workload, clock.as_mut(), cfg)
            .map_err(|e| Box::new(failed(m, e.to_string())))?;
        let iters = match cfg.mode {
            CacheMode::Cold => 1,
            CacheMode::Hot => batch_size(per_iter_ns, clock.resolution_ns(), cfg.sample_target_s),
        };
        Ok(Warmed {
            clock,
            iters,
            per_iter_ns,
        })
    }

    /// Times `n` batches of a warmed workload (flushing first in cold mode); per-iteration ns.
    pub(crate) fn batches(
        &mut self,
        device: &dyn Device,
        workload: &mut dyn Workload,
        warmed: &mut Warmed,
        n: usize,
    ) -> Result<Vec<f64>> {
        (0..n)
            .map(|_| {
                if let Some(f) = self.flusher.as_mut() {
                    device.flush_caches(f)?;
                }
                let ns = time_batch(workload, warmed.clock.as_mut(), warmed.iters)?;
                Ok(ns / warmed.iters as f64)
            })
            .collect()
    }

    fn fill(
        &self,
        mut m: Measurement,
        s: Sampled,
        clock: &dyn Clock,
        peaks: &Peaks,
    ) -> Measurement {
        let checked = summarize_checked(&s.samples_ns, self.config.confidence);
        let (stats, unstable) = checked.map_or((None, None), |(st, why)| (Some(st), why));
        if let Some(st) = &stats {
            let secs = st.median_ns * 1e-9;
            add_rates_per_second(&mut m.extra, secs);
            m.throughput = Some(Throughput {
                gflops: (m.flops > 0.0).then(|| m.flops / secs / 1e9),
                gbps: (m.bytes > 0.0).then(|| m.bytes / secs / 1e9),
            });
            m.roofline = roofline::classify_measurement(peaks, &m, secs);
        }
        m.stats = stats;
        m.samples_ns = s.samples_ns;
        m.iters_per_sample = s.iters;
        m.alloc = s.alloc;
        m.energy = Some(with_efficiency(s.energy, m.flops));
        m.sampling = Some(SamplingInfo {
            clock_source: clock.source(),
            clock_resolution_ns: clock.resolution_ns(),
            warmup_ns: s.warmup_ns,
            total_time_ns: s.total_ns,
            // A drifting median does not unsettle a best sample: drift is the slowing it filters.
            converged: s.converged && (self.config.stop_on == StopRule::Best || unstable.is_none()),
            ci_target: self.config.ci_target,
            unstable,
        });
        if let Some(why) = s.cold_warning {
            m.extra.insert("warning".into(), why.into());
        }
        m.status = Status::Ok;
        m
    }

    fn sample(
        &mut self,
        device: &dyn Device,
        w: &mut dyn Workload,
        clock: &mut dyn Clock,
        meter: &mut MeterResult,
    ) -> Result<Sampled> {
        let cfg = self.config.clone();
        let (per_iter_ns, warmup_ns) = warm_up(w, clock, &cfg)?;
        let iters = match cfg.mode {
            CacheMode::Cold => 1,
            CacheMode::Hot => batch_size(per_iter_ns, clock.resolution_ns(), cfg.sample_target_s),
        };
        let cold_warning = cold_too_short(cfg.mode, per_iter_ns, clock.resolution_ns());
        let counting = alloc::is_counting();
        let mut samples = Vec::new();
        let mut min_allocs: Option<(u64, u64)> = None;
        let mut total_ns = 0.0;
        let wall = crate::clock::WallTimer::start();
        let joules_before = read_meter(meter);
        let converged = loop {
            if let Some(f) = self.flusher.as_mut() {
                device.flush_caches(f)?;
            }
            let before = alloc::snapshot();
            let ns = time_batch(w, clock, iters)?;
            let after = alloc::snapshot();
            let delta = (after.0 - before.0, after.1 - before.1);
            min_allocs = Some(min_allocs.map_or(delta, |m| m.min(delta)));
            total_ns += ns;
            samples.push(ns / iters as f64);
            let enough = samples.len() >= cfg.min_samples && total_ns >= cfg.min_time_s * 1e9;
            if enough && due_for_check(samples.len()) && settled(&samples, &cfg) {
                break true;
            }
            // The cap bounds both the timed time and the wall-clock time (which also pays for
            // flushes, bookkeeping and device syncs), so a user's --timeout is never the first limit.
            let capped = past_time_cap(&cfg, total_ns, wall.elapsed_s(), samples.len())
                || samples.len() >= cfg.max_samples;
            if crate::interrupt::requested() || capped {
                break false;
            }
        };
        let total_iters = samples.len() as f64 * iters as f64;
        let energy = match cfg.mode {
            CacheMode::Cold => Energy::unavailable(
                "cold mode: the sampling loop also flushes caches, whose energy would be counted",
            ),
            CacheMode::Hot => loop_energy(meter, joules_before, wall.elapsed(), total_iters),
        };
        let alloc = counting.then(|| {
            let (c, b) = min_allocs.unwrap_or_default();
            AllocCounts {
                count: c / iters,
                bytes: b / iters,
            }
        });
        Ok(Sampled {
            samples_ns: samples,
            iters,
            warmup_ns,
            total_ns,
            converged,
            alloc,
            energy,
            cold_warning,
        })
    }
}

/// A cold sample is one flushed iteration, so it cannot be batched up to 1000 clock ticks; below
/// [`COLD_MIN_TICKS`] ticks its time is mostly the clock's own granularity and overhead.
fn cold_too_short(mode: CacheMode, per_iter_ns: f64, resolution_ns: f64) -> Option<String> {
    (mode == CacheMode::Cold && per_iter_ns < COLD_MIN_TICKS * resolution_ns).then(|| {
        format!(
            "cold mode: one iteration ({per_iter_ns:.0} ns) is under {COLD_MIN_TICKS:.0}x the \
             clock's resolution ({resolution_ns:.0} ns), so each sample is mostly clock; \
             measure it hot, or a larger size cold"
        )
    })
}

/// Fewest clock ticks one cold iteration should last for its samples to mean much.
pub(crate) const COLD_MIN_TICKS: f64 = 100.0;

/// The timed total or the wall-clock time is past `max_time_s` (and past `min_samples_cap_s`
/// while fewer than `min_samples` samples are in).
fn past_time_cap(cfg: &SamplerConfig, timed_ns: f64, wall_s: Option<f64>, n: usize) -> bool {
    let cap = if n < cfg.min_samples {
        cfg.max_time_s.max(cfg.min_samples_cap_s)
    } else {
        cfg.max_time_s
    };
    timed_ns >= cap * 1e9 || (cfg.wall_time_cap && wall_s.is_some_and(|s| s >= cap))
}

/// Checking the CI sorts all samples; past 100 samples, check every n/20-th one so the cost of
/// deciding stays small beside the cost of measuring.
fn due_for_check(n: usize) -> bool {
    n < 100 || n.is_multiple_of(n / 20)
}

/// Whether sampling has pinned down what `cfg.stop_on` asks for.
fn settled(samples: &[f64], cfg: &SamplerConfig) -> bool {
    match cfg.stop_on {
        StopRule::Median => ci_within(samples, cfg),
        StopRule::Best => best_settled(samples, cfg.ci_target),
    }
}

/// The fastest sample has settled: on at least [`MIN_DEPENDENT_N`] samples, the second half found
/// none more than `tolerance` (relative) faster than the first half's best, so more sampling is
/// unlikely to raise the ceiling by more than that.
pub fn best_settled(samples: &[f64], tolerance: f64) -> bool {
    let (first, second) = samples.split_at(samples.len() / 2);
    let best = |x: &[f64]| x.iter().copied().fold(f64::INFINITY, f64::min);
    samples.len() >= MIN_DEPENDENT_N && best(second) >= best(first) * (1.0 - tolerance)
}

/// Converged: the dependence-aware CI is within the target, on enough samples to estimate the
/// dependence, and the halves agree (a drifting series samples on, up to its cap).
fn ci_within(samples: &[f64], cfg: &SamplerConfig) -> bool {
    samples.len() >= MIN_DEPENDENT_N
        && relative_ci_half_width(samples, cfg.confidence).is_some_and(|h| h <= cfg.ci_target)
        && !halves(samples, cfg.confidence).is_some_and(|h| h.drifted())
}

/// Runs doubling batches until the warm-up time is spent; returns the last per-iteration time.
fn warm_up(w: &mut dyn Workload, clock: &mut dyn Clock, cfg: &SamplerConfig) -> Result<(f64, f64)> {
    let mut iters = 1u64;
    let mut spent = 0.0;
    loop {
        let ns = time_batch(w, clock, iters)?;
        spent += ns;
        let per_iter = ns / iters as f64;
        let interrupted = crate::interrupt::requested();
        if interrupted || spent >= cfg.warmup_s * 1e9 || spent >= cfg.max_time_s * 1e9 {
            return Ok((per_iter, spent));
        }
        if ns < cfg.sample_target_s * 1e9 {
            iters = iters.saturating_mul(2);
        }
    }
}

/// Iterations per sample so one sample lasts at least `target_s` and 1000 clock ticks.
pub fn batch_size(per_iter_ns: f64, resolution_ns: f64, target_s: f64) -> u64 {
    let want_ns = (target_s * 1e9).max(resolution_ns * 1000.0);
    (want_ns / per_iter_ns.max(1e-3)).ceil().clamp(1.0, 1e9) as u64
}

fn time_batch(w: &mut dyn Workload, clock: &mut dyn Clock, iters: u64) -> Result<f64> {
    clock.start()?;
    for _ in 0..iters {
        w.execute();
    }
    clock.stop()
}

fn prepare_and_validate(w: &mut dyn Workload, seed: u64) -> Result<Validation> {
    w.prepare(seed)?;
    w.execute();
    w.sync()?;
    w.validate()
}

fn failed(mut m: Measurement, reason: String) -> Measurement {
    m.status = Status::Failed;
    m.reason = Some(reason);
    m
}

/// A measurement of `spec` with nothing measured yet; [`Measurement::blank`] under its old name.
pub fn blank_measurement(spec: &WorkloadSpec, mode: CacheMode) -> Measurement {
    Measurement::blank(spec, mode)
}

/// A `skipped` measurement with its reason; [`Measurement::skipped`] under its old name.
pub fn skipped(spec: &WorkloadSpec, mode: CacheMode, reason: impl Into<String>) -> Measurement {
    Measurement::skipped(spec, mode, reason)
}

/// The meter's reading; `Ok(0.0)` when there is no meter, whose reason [`loop_energy`] reports.
fn read_meter(meter: &mut MeterResult) -> Result<f64> {
    meter.as_mut().map_or(Ok(0.0), |m| m.joules())
}

/// Energy of the whole sampling loop per iteration. The loop also runs the sampler's own
/// bookkeeping between batches, a small share of its time that is counted too.
fn loop_energy(
    meter: &mut MeterResult,
    before: Result<f64>,
    elapsed: std::time::Duration,
    total_iters: f64,
) -> Energy {
    let meter = match meter {
        Ok(m) => m,
        Err(why) => return Energy::unavailable(why.to_string()),
    };
    let joules = before.and_then(|b| Ok(meter.joules()? - b));
    let secs = elapsed.as_secs_f64();
    let min_window_s = meter.min_window_s();
    match joules {
        Err(why) => Energy::unavailable(why.to_string()),
        Ok(_) if secs < min_window_s => Energy::unavailable(format!(
            "sampled for {:.1} ms, too short for the counter (needs {:.0} ms)",
            secs * 1e3,
            min_window_s * 1e3
        )),
        Ok(j) => Energy {
            source: Some(meter.source()),
            joules_per_iter: Some(j / total_iters),
            watts: Some(j / secs),
            ..Energy::default()
        },
    }
}

fn with_efficiency(mut e: Energy, flops: f64) -> Energy {
    if let Some(j) = e.joules_per_iter.filter(|&j| j > 0.0 && flops > 0.0) {
        e.gflops_per_joule = Some(flops / j / 1e9);
    }
    e
}

/// Each `<thing>_per_execute` count a workload declares (tokens, images, samples) becomes a
/// `<thing>_per_s` rate at the median time, so model-level throughput comes from the same
/// statistic as every other rate.
fn add_rates_per_second(
    extra: &mut std::collections::BTreeMap<String, serde_json::Value>,
    secs: f64,
) {
    let rates: Vec<(String, f64)> = extra
        .iter()
        .filter_map(|(k, v)| {
            let thing = k.strip_suffix("_per_execute")?;
            Some((format!("{thing}_per_s"), v.as_f64()? / secs))
        })
        .collect();
    for (k, v) in rates {
        extra.insert(k, v.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 samples of 100 ns slowed by interference at random, with the fastest in `fast_at`.
    fn series(fast_at: usize) -> Vec<f64> {
        (0..40)
            .map(|i| {
                if i == fast_at {
                    95.0
                } else {
                    100.0 + (i * 37 % 11) as f64
                }
            })
            .collect()
    }

    #[test]
    fn a_best_sample_has_settled_when_the_second_half_does_not_beat_it() {
        // The fastest early: later samples are no faster, so it has settled.
        assert!(best_settled(&series(3), 0.01));
        // Found late, 5% faster than anything before: more samples might go faster still.
        assert!(!best_settled(&series(30), 0.01));
        // ...unless that is within the tolerance.
        assert!(best_settled(&series(30), 0.06));
        // Too few samples to say.
        assert!(!best_settled(&series(3)[..MIN_DEPENDENT_N - 1], 0.01));
    }

    #[test]
    fn probes_sample_to_the_dependence_floor_and_stop_on_the_best() {
        let quick = SamplerConfig::profile(Profile::Quick);
        let p = quick.for_probe();
        assert_eq!(p.stop_on, StopRule::Best);
        assert!(p.min_samples >= MIN_DEPENDENT_N);
        assert_eq!(p.min_samples_cap_s, PROBE_TIME_CAP_S);
        assert!(p.max_time_s >= quick.max_time_s.max(PROBE_MIN_MAX_TIME_S));
    }
}
