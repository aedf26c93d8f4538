//! The one error type of tensorbench-analysis. Every variant names the file, baseline, flag or
//! pattern at fault, so a user can act on the message without reading code.

use std::path::PathBuf;

/// Everything that can go wrong while reading, comparing or exporting runs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A run or baseline file that is missing, truncated, of another schema or another version
    /// (the schema's reader names the file and the field).
    #[error(transparent)]
    Run(#[from] tensorbench_schema::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no baseline named `{name}` in {dir} (available: {})", list_or_none(.available))]
    BaselineNotFound {
        name: String,
        dir: PathBuf,
        available: Vec<String>,
    },
    #[error(
        "`{spec}` is neither a run file nor a baseline in {dir} (baselines available: {})",
        list_or_none(.available)
    )]
    RunNotFound {
        spec: String,
        dir: PathBuf,
        available: Vec<String>,
    },
    #[error(
        "invalid baseline name `{0}`: use letters, digits, `.`, `_` and `-` (not starting with `.`)"
    )]
    BadBaselineName(String),
    #[error("not saved as baseline `{name}`: {reason}; the previous baseline is kept as it was")]
    NotABaseline { name: String, reason: String },
    #[error("{path}: no complete run file (*.json) in this directory")]
    NoRuns { path: PathBuf },
    #[error("invalid pattern `{pattern}`: {source}")]
    BadPattern {
        pattern: String,
        #[source]
        source: Box<regex::Error>,
    },
    #[error("invalid argument {flag}: {reason}")]
    BadArgument { flag: String, reason: String },
    #[error(
        "refusing to compare measurements taken under different configurations: {}; compare like \
         with like, or pass --allow-config-mismatch to compare anyway",
        .mismatches.join("; ")
    )]
    ConfigMismatch { mismatches: Vec<String> },
    #[error("{path}: not a criterion result: {reason}")]
    Criterion { path: PathBuf, reason: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn bad_argument(flag: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::BadArgument {
            flag: flag.into(),
            reason: reason.into(),
        }
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
