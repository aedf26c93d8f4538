//! History across run files: trend charts and the table of every detected change point.

use crate::ReportOptions;
use crate::charts;
use crate::format;
use crate::model::{Cell, Chart, Table, num_key, text_key};
use serde::Serialize;
use tensorbench_analysis::History;

#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub ids: usize,
    pub runs: usize,
    pub charts: Vec<Chart>,
    pub notes: Vec<String>,
    pub steps: Table,
}

pub fn view(history: &[History], opts: &ReportOptions) -> HistoryView {
    let (charts, notes) = charts::history::charts(history, opts);
    let mut runs: Vec<&str> = history
        .iter()
        .flat_map(|h| h.points.iter().map(|p| p.run_id.as_str()))
        .collect();
    runs.sort_unstable();
    runs.dedup();
    HistoryView {
        ids: history.len(),
        runs: runs.len(),
        charts,
        notes,
        steps: steps_table(history),
    }
}

fn steps_table(history: &[History]) -> Table {
    let mut t = Table::new(
        "change-points",
        &[
            ("id", false, None),
            ("from run", false, Some("the first run at the new level")),
            (
                "before",
                true,
                Some("median of the segment before the step"),
            ),
            ("after", true, Some("median of the segment after the step")),
            ("change", true, None),
            (
                "confidence",
                true,
                Some("1 − p of the test between the two segments"),
            ),
        ],
    );
    for h in history {
        for s in &h.steps {
            let class = if s.ratio > 1.0 {
                "v-slower"
            } else {
                "v-faster"
            };
            t.push(
                vec![
                    Cell::text(&h.id),
                    Cell::text(&s.run_id),
                    Cell::text(format::format_ns(s.before_ns)),
                    Cell::text(format::format_ns(s.after_ns)),
                    Cell::text(format::change(s.ratio)).with_class(class),
                    Cell::text(format::percent(s.confidence)),
                ],
                vec![
                    text_key(&h.id),
                    text_key(&s.run_id),
                    num_key(Some(s.before_ns)),
                    num_key(Some(s.after_ns)),
                    num_key(Some(s.ratio)),
                    num_key(Some(s.confidence)),
                ],
                None,
            );
        }
    }
    t
}
