//! The one error type of tensorbench-core; run-file errors come from tensorbench-schema inside it.

use std::path::PathBuf;

/// Everything that can go wrong in the harness. Variants name the file, field or flag at fault so a
/// user can act on the message without reading code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing a run file (tensorbench-schema's error names the file and field).
    #[error(transparent)]
    Schema(#[from] tensorbench_schema::Error),
    /// A flag or argument that cannot be used.
    #[error("invalid argument {flag}: {reason}")]
    BadArgument {
        /// The flag at fault, as typed (`--threads`).
        flag: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A workload could not prepare, run or check itself.
    #[error("workload {id}: {reason}")]
    Workload {
        /// The workload's measurement id.
        id: String,
        /// What went wrong.
        reason: String,
    },
    /// A clock could not be started or read.
    #[error("clock {clock}: {reason}")]
    Clock {
        /// Which clock (`host`, `cuda_event`, ...).
        clock: String,
        /// What went wrong.
        reason: String,
    },
    /// Encoding or decoding JSON failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// An [`Error::Workload`] for the workload with measurement id `id`.
    pub fn workload(id: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Workload {
            id: id.into(),
            reason: reason.into(),
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The text of a panic payload (`&str` or `String`), for `failed` reasons.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into())
}
