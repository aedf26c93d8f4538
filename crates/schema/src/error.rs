//! What reading and writing run files can fail at. Every variant names the file (and, for a bad
//! file, the field or line) so a user can act on the message without reading code.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, truncated, or a field of the wrong shape; `reason` names the field or line.
    #[error("{path}: not a valid tensorbench run file: {reason}")]
    BadRunFile { path: PathBuf, reason: String },
    #[error(
        "{path}: schema_version {found} is not supported (this build reads version {supported})"
    )]
    SchemaVersion {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
    /// A value that could not be turned into JSON while writing.
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
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
