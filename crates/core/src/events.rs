//! The progress events a suite binary prints on stdout with `--events`, one JSON object a line,
//! and xtask reads: one type for both sides.

use crate::schema::{RunStatus, Status};
use crate::workload::WorkloadSpec;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One progress event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run file's stream is open (what `--resume` takes).
    Run { run_id: String, stream: PathBuf },
    /// A workload starts: what xtask needs to enforce `--timeout` and to record it `failed`.
    Start {
        id: String,
        index: usize,
        total: usize,
        spec: WorkloadSpec,
    },
    /// A workload finished with this status.
    Done { id: String, status: Status },
    /// The run file is written.
    Finished { path: PathBuf, status: RunStatus },
}

impl Event {
    /// The event as one line of JSON.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("events serialise")
    }

    /// The event on `line`, if it is one (a suite may print other lines too).
    pub fn parse_line(line: &str) -> Option<Self> {
        serde_json::from_str(line).ok()
    }
}
