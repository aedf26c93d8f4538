//! The one error type of tensorbench-cpu-simd: what this machine does not expose to a
//! measurement (the CPU workloads' own failures are core's errors).

/// What went wrong in the cpu-simd crate. The text shown is the whole message the user sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A counter or system file this machine lacks (`what` names it, e.g. `/proc/self/status`);
    /// the measurement records the text and goes without the figure.
    #[error("{reason}")]
    Unavailable { what: String, reason: String },
}

impl Error {
    pub fn unavailable(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Unavailable {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
