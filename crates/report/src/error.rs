//! Errors of report rendering.

use std::path::PathBuf;

/// What can go wrong while rendering or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A template failed to render (a bug in the templates, never in the data).
    #[error("report template: {0:#}")]
    Template(#[from] minijinja::Error),
    #[error("serialising report data: {0}")]
    Json(#[from] serde_json::Error),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;
