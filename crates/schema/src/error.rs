//! What reading and writing run files can fail at. Every variant names the file (and, for a bad
//! file, the field or line) so a user can act on the message without reading code.

use std::path::PathBuf;

/// Why a run file or stream could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, truncated, or a field of the wrong shape; `reason` names the field or line.
    #[error("{path}: not a valid tensorbench run file: {reason}")]
    BadRunFile {
        /// The file at fault.
        path: PathBuf,
        /// The field or line at fault, and what is wrong with it.
        reason: String,
    },
    /// A run file of a schema version this build does not read.
    #[error(
        "{path}: schema_version {found} is not supported (this build reads version {supported})"
    )]
    SchemaVersion {
        /// The file at fault.
        path: PathBuf,
        /// The file's `schema_version`.
        found: u64,
        /// The version this build reads.
        supported: u32,
    },
    /// A value that could not be turned into JSON while writing.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// An [`Error::Io`] on the file at `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
