//! What a report is made of: runs, and optionally verdicts and history computed by analysis.

use tensorbench_analysis::{Comparison, History};
use tensorbench_schema::schema::Run;

/// Everything one report shows. Only `runs` is required; the other sections appear when given.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// The runs to report (one per target in a merged CI report).
    pub runs: Vec<Run>,
    /// Verdicts against a baseline, one per compared run.
    pub comparisons: Vec<Comparison>,
    /// The history of each id across earlier run files, with change points.
    pub history: Vec<History>,
    pub options: ReportOptions,
}

impl ReportInput {
    /// A report of these runs, with no comparison and no history.
    pub fn new(runs: Vec<Run>) -> Self {
        Self {
            runs,
            comparisons: Vec::new(),
            history: Vec::new(),
            options: ReportOptions::default(),
        }
    }

    /// Adds verdicts against a baseline.
    pub fn with_comparison(mut self, comparison: Comparison) -> Self {
        self.comparisons.push(comparison);
        self
    }

    /// Adds the history of ids across run files.
    pub fn with_history(mut self, history: Vec<History>) -> Self {
        self.history = history;
        self
    }
}

/// Presentation settings.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Title of the page; defaults to the run ids.
    pub title: Option<String>,
    /// Where the guides live, relative to the report file (`docs/INTERPRETING.md` is appended), so
    /// that the links work when the report sits inside the repository.
    pub docs_base: String,
    /// Rows per page of the interactive tables.
    pub page_size: usize,
    /// Most series drawn in one chart; the rest are named in the chart's note.
    pub max_series: usize,
    /// Most charts drawn in one section (scaling, distributions, history).
    pub max_charts: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            title: None,
            docs_base: "docs/".into(),
            page_size: 50,
            max_series: 8,
            max_charts: 12,
        }
    }
}
