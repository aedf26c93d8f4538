//! The comparison against a baseline: counts by verdict, warnings, the interval chart and the
//! full verdict table (regressions first).

use crate::charts::comparison::{chart, verdict_class};
use crate::format;
use crate::model::{Cell, Chart, Table, num_key, text_key};
use serde::Serialize;
use tensorbench_analysis::render::verdict_label;
use tensorbench_analysis::{Comparison, Verdict};

/// A verdict and how many ids got it.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictCount {
    pub label: &'static str,
    pub class: &'static str,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComparisonView {
    pub title: String,
    pub old_run_id: String,
    pub new_run_id: String,
    pub counts: Vec<VerdictCount>,
    pub warnings: Vec<String>,
    pub chart: Option<Chart>,
    pub table: Table,
}

const ORDER: [Verdict; 8] = [
    Verdict::Slower,
    Verdict::Invalid,
    Verdict::Ambiguous,
    Verdict::Insensitive,
    Verdict::Faster,
    Verdict::Same,
    Verdict::New,
    Verdict::Missing,
];

pub fn view(cmp: &Comparison, index: usize) -> ComparisonView {
    ComparisonView {
        title: format!("{} against {}", cmp.new_label, cmp.old_label),
        old_run_id: cmp.old_run_id.clone(),
        new_run_id: cmp.new_run_id.clone(),
        counts: ORDER
            .iter()
            .map(|&v| VerdictCount {
                label: verdict_label(v),
                class: verdict_class(v),
                count: cmp.count(v),
            })
            .filter(|c| c.count > 0 || c.label == verdict_label(Verdict::Slower))
            .collect(),
        warnings: cmp.warnings.clone(),
        chart: chart(cmp),
        table: table(cmp, index),
    }
}

fn table(cmp: &Comparison, index: usize) -> Table {
    let ci_header = tensorbench_analysis::verdict::ci_header(cmp.ci_level);
    let mut t = Table::new(
        format!("verdicts-{index}"),
        &[
            ("verdict", false, None),
            ("id", false, None),
            ("baseline", true, Some("median time in the baseline")),
            ("new", true, Some("median time in this run")),
            ("change", true, Some("new median / baseline median − 1")),
            (
                &ci_header,
                true,
                Some("bootstrap confidence interval of the change"),
            ),
            (
                "q (BH)",
                true,
                Some("p-value adjusted by Benjamini–Hochberg over the suite"),
            ),
            ("threshold", true, Some("changes within ± this are noise")),
            ("note", false, None),
        ],
    );
    // Display order: what needs attention first (Comparison::ordered).
    for (rank, i) in cmp.ordered().into_iter().enumerate() {
        let verdict = match i.severity {
            Some(s) => format!(
                "{} ({})",
                verdict_label(i.verdict),
                format!("{s:?}").to_lowercase()
            ),
            None => verdict_label(i.verdict).to_string(),
        };
        let ci = i.ratio_ci.map_or("–".into(), |(lo, hi)| {
            format!("{} to {}", format::change(lo), format::change(hi))
        });
        let q = i.p_adjusted.map_or("–".into(), |p| {
            if p < 1e-4 {
                format!("{p:.1e}")
            } else {
                format!("{p:.4}")
            }
        });
        let class = verdict_class(i.verdict);
        t.push(
            vec![
                Cell::text(verdict).with_class(class),
                Cell::text(&i.id),
                Cell::text(i.old_median_ns.map_or("–".into(), format::format_ns)),
                Cell::text(i.new_median_ns.map_or("–".into(), format::format_ns)),
                Cell::text(i.ratio.map_or("–".into(), format::change)),
                Cell::text(ci),
                Cell::text(q),
                Cell::text(format!("±{}", format::percent(i.threshold))),
                Cell::text(i.note.clone().unwrap_or_default()),
            ],
            vec![
                num_key(Some(rank as f64)),
                text_key(&i.id),
                num_key(i.old_median_ns),
                num_key(i.new_median_ns),
                num_key(i.ratio),
                num_key(i.ratio_ci.map(|c| c.0)),
                num_key(i.p_adjusted),
                num_key(Some(i.threshold)),
                text_key(i.note.as_deref().unwrap_or("")),
            ],
            Some(&format!("row-{class}")),
        );
    }
    t
}
