//! Imports criterion's results (`target/criterion/**/new/{benchmark,sample,estimates}.json`) as a
//! run, so a project with criterion benches gets the same verdicts.
//!
//! `sample.json` holds per-sample `iters` and total `times` (ns); the per-iteration samples are
//! `times[i] / iters[i]`, the same quantity as `samples_ns` in a tensorbench run. Criterion does
//! not validate outputs, so imported measurements carry no `validation`; their `extra.source` is
//! `criterion` and criterion's own median estimate is kept in `extra.criterion_median_ns`.
//!
//! Criterion's headline time is its slope (the least-squares time per iteration over the linear
//! sampling plan, which no fixed per-sample overhead biases), or its mean where it sampled flat.
//! That estimate and its interval are kept as `extra.criterion_estimate_ns`,
//! `extra.criterion_estimate_ci_ns` and `extra.criterion_estimate` (`slope` or `mean`), and the
//! throughput is its rate; `stats` stays the summary of `samples_ns`, as in every run, so that
//! comparisons treat imported samples as they treat ours.
//!
//! Criterion records neither the machine nor the time. The run's time is the files' own (the
//! oldest and newest modification time of the `sample.json` files read), never the import's;
//! the machine and commit are what the caller knows of them (unknown fields `null`).

use crate::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tensorbench_schema::WorkloadSpec;
use tensorbench_schema::schema::{
    DType, GitInfo, Machine, Measurement, Run, RunStatus, SCHEMA_VERSION, Status, Throughput,
};
use tensorbench_schema::stats::summarize;
use tensorbench_schema::store::{rfc3339_at, run_id_at};

#[derive(Debug, Deserialize)]
struct BenchmarkId {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    throughput: Option<CriterionThroughput>,
    full_id: String,
}

#[derive(Debug, Deserialize)]
enum CriterionThroughput {
    Bytes(u64),
    BytesDecimal(u64),
    Elements(u64),
    ElementsAndBytes { elements: u64, bytes: u64 },
}

#[derive(Debug, Deserialize)]
struct Sample {
    iters: Vec<f64>,
    times: Vec<f64>,
}

#[derive(Debug, Deserialize)]
struct Estimates {
    mean: Estimate,
    median: Estimate,
    /// `null` when criterion sampled flat (no regression).
    slope: Option<Estimate>,
}

#[derive(Debug, Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Debug, Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

/// Reads every benchmark under `criterion_dir` (usually `target/criterion`) into one run, stamped
/// with the machine and commit it was measured on (the caller detects them: this crate reads runs
/// and does not probe the system). An unreadable or malformed result file is an error naming it.
pub fn import_criterion(criterion_dir: &Path, machine: Machine, git: GitInfo) -> Result<Run> {
    let mut dirs = Vec::new();
    find_new_dirs(criterion_dir, &mut dirs)?;
    if dirs.is_empty() {
        return Err(Error::Criterion {
            path: criterion_dir.to_path_buf(),
            reason: "no `new/benchmark.json` below this directory".into(),
        });
    }
    dirs.sort();
    let measurements = dirs
        .iter()
        .map(|d| import_one(d))
        .collect::<Result<Vec<_>>>()?;
    let (first, last) = written_between(&dirs)?;
    Ok(Run {
        schema_version: SCHEMA_VERSION,
        run_id: run_id_at(first, "criterion"),
        target: "criterion".into(),
        profile: "criterion".into(),
        command: format!("import criterion {}", criterion_dir.display()),
        started_at: rfc3339_at(first),
        finished_at: Some(rfc3339_at(last)),
        status: RunStatus::Complete,
        git,
        machine,
        build_profile: "bench".into(),
        config: serde_json::json!({ "source": "criterion", "dir": criterion_dir }),
        peaks: Default::default(),
        measurements,
    })
}

/// The oldest and newest modification time of the `sample.json` files: when criterion wrote them.
fn written_between(new_dirs: &[PathBuf]) -> Result<(SystemTime, SystemTime)> {
    let mut times = Vec::with_capacity(new_dirs.len());
    for dir in new_dirs {
        let path = dir.join("sample.json");
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|e| Error::io(&path, e))?;
        times.push(modified);
    }
    let first = times.iter().min().copied();
    let last = times.iter().max().copied();
    first.zip(last).ok_or_else(|| Error::Criterion {
        path: PathBuf::new(),
        reason: "no benchmark to date".into(),
    })
}

/// Collects every `.../new` directory holding a `benchmark.json` (criterion's latest result).
fn find_new_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") && path.join("benchmark.json").is_file() {
            out.push(path);
        } else {
            find_new_dirs(&path, out)?;
        }
    }
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Criterion {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn import_one(new_dir: &Path) -> Result<Measurement> {
    let id: BenchmarkId = read_json(&new_dir.join("benchmark.json"))?;
    let sample_path = new_dir.join("sample.json");
    let sample: Sample = read_json(&sample_path)?;
    let samples_ns = per_iteration(&sample, &sample_path)?;
    let mut spec = WorkloadSpec::new("criterion", &id.group_id, "criterion", DType::F64);
    spec.id = format!("criterion/{}", id.full_id);
    spec.params = params(&id);
    let (elements, bytes) = throughput_units(id.throughput.as_ref());
    spec.bytes = bytes.unwrap_or(0.0);
    let mut m = Measurement::blank(&spec, Default::default());
    let stats = summarize(&samples_ns, 0.95);
    let estimate = read_estimates(new_dir)?;
    let headline = estimate
        .as_ref()
        .map(|e| e.typical().point_estimate)
        .filter(|ns| ns.is_finite() && *ns > 0.0)
        .or(stats.as_ref().map(|s| s.median_ns));
    m.throughput = headline.map(|ns| Throughput {
        gflops: None,
        gbps: bytes.map(|b| b / ns),
    });
    m.stats = stats;
    m.iters_per_sample = sample.iters.first().map_or(0, |&i| i as u64);
    m.samples_ns = samples_ns;
    m.status = Status::Ok;
    m.extra.insert("source".into(), "criterion".into());
    // Criterion records no element type: say so rather than let the placeholder dtype speak.
    m.extra.insert("dtype".into(), "unspecified".into());
    if let Some(e) = elements {
        m.extra.insert("elements".into(), e.into());
    }
    if let Some(est) = &estimate {
        m.extra.insert(
            "criterion_median_ns".into(),
            est.median.point_estimate.into(),
        );
        let (kind, typical) = match &est.slope {
            Some(s) => ("slope", s),
            None => ("mean", &est.mean),
        };
        m.extra.insert("criterion_estimate".into(), kind.into());
        m.extra.insert(
            "criterion_estimate_ns".into(),
            typical.point_estimate.into(),
        );
        m.extra.insert(
            "criterion_estimate_ci_ns".into(),
            serde_json::json!([
                typical.confidence_interval.lower_bound,
                typical.confidence_interval.upper_bound
            ]),
        );
    }
    Ok(m)
}

impl Estimates {
    /// Criterion's own headline: the slope where it regressed, else the mean.
    fn typical(&self) -> &Estimate {
        self.slope.as_ref().unwrap_or(&self.mean)
    }
}

/// `estimates.json`, when criterion wrote one (an older or partial tree may lack it); a file that
/// is there but malformed is an error naming it.
fn read_estimates(new_dir: &Path) -> Result<Option<Estimates>> {
    let path = new_dir.join("estimates.json");
    if !path.is_file() {
        return Ok(None);
    }
    read_json(&path).map(Some)
}

fn per_iteration(sample: &Sample, path: &Path) -> Result<Vec<f64>> {
    let bad = |reason: &str| Error::Criterion {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    if sample.iters.len() != sample.times.len() {
        return Err(bad("`iters` and `times` differ in length"));
    }
    if sample.iters.is_empty() {
        return Err(bad("no samples"));
    }
    if sample.iters.iter().any(|&i| i.is_nan() || i <= 0.0) {
        return Err(bad("`iters` holds a non-positive count"));
    }
    let ns: Vec<f64> = sample
        .times
        .iter()
        .zip(&sample.iters)
        .map(|(t, i)| t / i)
        .collect();
    // Beyond this a sample is not a time (and its squares overflow the statistics).
    const LONGEST_NS: f64 = 1e15;
    if let Some(t) = ns.iter().find(|t| !(0.0..=LONGEST_NS).contains(*t)) {
        return Err(bad(&format!(
            "`times` gives a per-iteration time of {t:e} ns: not a sample (0 to {LONGEST_NS:e} ns, 11.6 days)"
        )));
    }
    Ok(ns)
}

fn params(id: &BenchmarkId) -> BTreeMap<String, serde_json::Value> {
    let mut p = BTreeMap::new();
    if let Some(f) = &id.function_id {
        p.insert("function".to_string(), f.clone().into());
    }
    if let Some(v) = &id.value_str {
        let value = v
            .parse::<u64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| v.clone().into());
        p.insert("value".to_string(), value);
    }
    p
}

fn throughput_units(t: Option<&CriterionThroughput>) -> (Option<u64>, Option<f64>) {
    match t {
        Some(CriterionThroughput::Bytes(b) | CriterionThroughput::BytesDecimal(b)) => {
            (None, Some(*b as f64))
        }
        Some(CriterionThroughput::Elements(e)) => (Some(*e), None),
        Some(CriterionThroughput::ElementsAndBytes { elements, bytes }) => {
            (Some(*elements), Some(*bytes as f64))
        }
        None => (None, None),
    }
}
