//! The one error type of tensorbench-core; run-file errors come from tensorbench-schema inside it.

use std::path::PathBuf;

/// Everything that can go wrong in the harness. Variants name the file, field or flag at fault so a
/// user can act on the message without reading code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing a run file (tensorbench-schema's error names the file and field).
    #[error(transparent)]
    Schema(#[from] tensorbench_schema::Error),
    /// A flag, environment variable or file at fault; `message` is the whole text the user sees
    /// and names it. Every suite binary exits 2 on it.
    #[error("{message}")]
    BadInput {
        flag_or_file: String,
        message: String,
    },
    /// A device, counter, library or runtime this machine lacks; `reason` is the whole text the
    /// user sees (where it is why a measurement has no figure, it becomes that reason verbatim).
    #[error("{reason}")]
    Unavailable { what: String, reason: String },
    #[error("workload {id}: {reason}")]
    Workload { id: String, reason: String },
    #[error("clock {clock}: {reason}")]
    Clock { clock: String, reason: String },
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn bad_input(flag_or_file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadInput {
            flag_or_file: flag_or_file.into(),
            message: message.into(),
        }
    }

    pub fn unavailable(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Unavailable {
            what: what.into(),
            reason: reason.into(),
        }
    }

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
