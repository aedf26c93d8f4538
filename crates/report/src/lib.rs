//! # tensorbench-report
//!
//! Turns run files into things people and CI read:
//!
//! * [`render_html`] — one self-contained HTML file that opens from disk with no network: inline
//!   CSS, charts drawn here as inline SVG (roofline, scaling, thread speed-up, distributions,
//!   comparison, history, peers), the data embedded as JSON for a small script that sorts, filters
//!   and pages the tables. Light and dark themes follow the reader's system setting.
//! * [`render_markdown`] — the verdict table first, then the run summary, long tables folded in
//!   `<details>`, sized for a GitHub job summary or PR comment.
//! * [`write_csv`] — every measurement of every run, one row each.
//!
//! It reads only the schema (`tensorbench-schema`, not the harness) and the verdict types of
//! `tensorbench-analysis`; it computes nothing that it did not find measured in the runs.
//!
//! ```no_run
//! use std::path::Path;
//! use tensorbench_schema::store::load_run;
//! use tensorbench_report::{render_html, ReportInput};
//!
//! let run = load_run(Path::new("results/my-host/2026-11-22T11-20-03Z-cpu-3f2a9c.json"))?;
//! let html = render_html(&ReportInput::new(vec![run]))?;
//! std::fs::write("report.html", html)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod charts;
mod embed;
mod error;
mod export;
mod facts;
pub mod format;
mod html;
mod input;
mod markdown;
mod model;
mod sections;
mod svg;

pub use error::{Error, Result};
pub use export::write_csv;
pub use html::render_html;
pub use input::{ReportInput, ReportOptions};
pub use markdown::{MarkdownOptions, render_markdown};
