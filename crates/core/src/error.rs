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
    /// A flag, environment variable or file at fault; `message` is the whole text the user sees
    /// and names it. Every suite binary exits 2 on it.
    #[error("{message}")]
    BadInput {
        /// The flag, variable or file at fault, as typed (`--threads`).
        flag_or_file: String,
        /// The whole message, naming it.
        message: String,
    },
    /// A device, counter, library or runtime this machine lacks; `reason` is the whole text the
    /// user sees (where it is why a measurement has no figure, it becomes that reason verbatim).
    #[error("{reason}")]
    Unavailable {
        /// What is missing (`RAPL`, `libcuda`, ...).
        what: String,
        /// Why, as the user sees it.
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
    /// A child process could not be started or waited for (`what` names it).
    #[error("could not run {what}: {source}")]
    Spawn {
        /// The child (`node`, `python3 -m tensorbench_peers`).
        what: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A child process ran past its deadline; it was stopped with everything it started.
    #[error("{what} was still running after {limit:?}: stopped it and everything it started")]
    TimedOut {
        /// The child.
        what: String,
        /// Its deadline.
        limit: std::time::Duration,
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

    /// An [`Error::BadInput`]: `message` names `flag_or_file`.
    pub fn bad_input(flag_or_file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadInput {
            flag_or_file: flag_or_file.into(),
            message: message.into(),
        }
    }

    /// An [`Error::Unavailable`]: `what` is missing, for `reason`.
    pub fn unavailable(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Unavailable {
            what: what.into(),
            reason: reason.into(),
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
