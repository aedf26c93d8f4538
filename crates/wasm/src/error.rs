//! The one error type of tensorbench-wasm's host side: a tool or runtime this machine lacks, a
//! module that could not be built or read, and a bad `--runtime`.

/// A tool or runtime this machine lacks, with the command that installs it. Benchmarks record it
/// as a skip; tests skip with it unless `TENSORBENCH_REQUIRE_WASM=1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is missing; install it: {install}")]
pub struct Missing {
    pub what: String,
    pub install: String,
}

/// What went wrong in the wasm crate. The text shown is the whole message the user sees.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tool or runtime this machine lacks: every workload that needs it is `skipped`.
    #[error(transparent)]
    Unavailable(#[from] Missing),
    /// A module that could not be built, read or measured (`module` names it: `wasm-simd128`).
    #[error("{reason}")]
    Module { module: String, reason: String },
    /// A bad flag value (`flag_or_file` names it). Exit code 2.
    #[error("{message}")]
    BadInput {
        flag_or_file: String,
        message: String,
    },
}

impl Error {
    pub fn module(module: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Module {
            module: module.into(),
            reason: reason.into(),
        }
    }
}

/// Into core's error, where the wasm crate implements core's traits or returns to its driver
/// (which exits 2 on bad input).
impl From<Error> for tensorbench_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Unavailable(m) => {
                tensorbench_core::Error::unavailable(m.what.clone(), m.to_string())
            }
            Error::Module { module, reason } => {
                tensorbench_core::Error::unavailable(module, reason)
            }
            Error::BadInput {
                flag_or_file,
                message,
            } => tensorbench_core::Error::bad_input(flag_or_file, message),
        }
    }
}
