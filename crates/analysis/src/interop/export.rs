//! Exports of a run for dashboards: Bencher Metric Format and github-action-benchmark's
//! `customSmallerIsBetter`. Only `ok` measurements with statistics are exported: nothing else is a
//! speed.

use serde::Serialize;
use serde_json::{Map, Value, json};
use tensorbench_schema::schema::{Measurement, Run, Stats, Status};

fn timed(run: &Run) -> impl Iterator<Item = (&Measurement, &Stats)> {
    run.measurements
        .iter()
        .filter(|m| m.status == Status::Ok)
        .filter_map(|m| Some((m, m.stats.as_ref()?)))
}

/// Bencher Metric Format: `{"<id>": {"latency": {"value", "lower_value", "upper_value"}}}` with
/// the median and its confidence interval in nanoseconds.
pub fn to_bmf(run: &Run) -> Value {
    let mut out = Map::new();
    for (m, s) in timed(run) {
        out.insert(
            m.id.clone(),
            json!({ "latency": {
                "value": s.median_ns,
                "lower_value": s.ci_low_ns,
                "upper_value": s.ci_high_ns,
            }}),
        );
    }
    Value::Object(out)
}

/// One entry of github-action-benchmark's `customSmallerIsBetter` input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GabEntry {
    pub name: String,
    pub unit: String,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
}

/// github-action-benchmark `customSmallerIsBetter`: `[{name, unit, value, range, extra}]`, the
/// median in ns, `range` the half-width of its CI, `extra` the throughput and sample count.
pub fn to_github_action_benchmark(run: &Run) -> Vec<GabEntry> {
    timed(run)
        .map(|(m, s)| GabEntry {
            name: m.id.clone(),
            unit: "ns".into(),
            value: s.median_ns,
            range: Some(format!("± {:.3}", (s.ci_high_ns - s.ci_low_ns) / 2.0)),
            extra: Some(gab_extra(m)),
        })
        .collect()
}

fn gab_extra(m: &Measurement) -> String {
    let mut parts = vec![format!("{} samples", m.samples_ns.len())];
    if let Some(t) = &m.throughput {
        if let Some(g) = t.gflops {
            parts.push(format!("{g:.3} GFLOP/s"));
        }
        if let Some(b) = t.gbps {
            parts.push(format!("{b:.3} GB/s"));
        }
    }
    parts.join(", ")
}
