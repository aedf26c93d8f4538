//! The one error type of tensorbench-gpu: what this machine lacks to run a backend, and bad values
//! of the environment variables that pick backends and adapters.

/// What went wrong in the gpu crate. The text shown is the whole message the user sees: a
/// backend's skip reason, or what the binary exits 2 with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A driver, library, device or counter this machine lacks (`what` names it, e.g. `NVML`).
    #[error("{reason}")]
    Unavailable { what: String, reason: String },
    /// A bad value of an environment variable (`flag_or_file` names it). Exit code 2.
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

    pub fn bad_input(flag_or_file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadInput {
            flag_or_file: flag_or_file.into(),
            message: message.into(),
        }
    }
}

/// Into core's error, variant for variant, where the gpu crate implements core's traits.
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
