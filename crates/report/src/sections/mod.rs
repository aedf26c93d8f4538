//! The sections of the HTML report, each built from the runs into what its template renders.

pub mod history;
pub mod measurements;
pub mod overview;
pub mod peers;
pub mod verdicts;
