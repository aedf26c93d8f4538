//! The one error type of tensorbench-distributed: what a rank lacks to run a back-end, and bad
//! flag values.

/// What went wrong in the distributed crate. The text shown is the whole message the user sees:
/// a back-end's skip reason, or what the binary exits 2 with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A driver, library or device a rank lacks (`what` names it, e.g. `NCCL`).
    #[error("{reason}")]
    Unavailable { what: String, reason: String },
    /// A bad flag value (`flag_or_file` names it). Exit code 2.
    #[error("{message}")]
    BadInput {
        flag_or_file: String,
        message: String,
    },
}

impl Error {
    pub fn unavailable(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Unavailable {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

/// Into core's error, variant for variant, where the crate returns to core's driver (which exits
/// 2 on bad input).
impl From<Error> for tensorbench_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Unavailable { what, reason } => {
                tensorbench_core::Error::unavailable(what, reason)
            }
            Error::BadInput {
                flag_or_file,
                message,
            } => tensorbench_core::Error::bad_input(flag_or_file, message),
        }
    }
}
