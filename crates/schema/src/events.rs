//! Progress events: one JSON object per line on a suite binary's stdout (under `--events`), read
//! by xtask's supervisor. The run file is the record; events only say how far a run has got, so a
//! supervisor can show progress, find the stream to `--resume`, and stop a workload that hangs.
//!
//! The wire format is `{"event":"run","run_id":..,"stream":..}`,
//! `{"event":"start","id":..,"index":..,"total":..,"spec":{..}}`, `{"event":"done","id":..,"status":..}`
//! and `{"event":"finished","path":..,"status":..}`.

use crate::schema::{RunStatus, Status};
use crate::spec::WorkloadSpec;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// One progress event, as one line of JSON tagged by `event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run stream is open: where it is, so a supervisor can `--resume` it.
    Run {
        /// The run's `run_id`.
        run_id: String,
        /// Path of the run's `.jsonl` stream.
        stream: PathBuf,
    },
    /// A workload is about to be measured.
    Start {
        /// The workload's measurement id.
        id: String,
        /// Position among the run's workloads, from 0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index: Option<usize>,
        /// How many workloads the run measures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total: Option<usize>,
        /// What is being measured, so a supervisor can record it `failed` if it hangs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spec: Option<Box<WorkloadSpec>>,
    },
    /// A workload's measurement was made (it is recorded in the stream right after).
    Done {
        /// The workload's measurement id.
        id: String,
        /// The measurement's status.
        status: Status,
    },
    /// The run file is written.
    Finished {
        /// Path of the finished run file.
        path: PathBuf,
        /// The run's status.
        status: RunStatus,
    },
}

impl Event {
    /// The event on one line of output, or `None` for any other line (a suite may print more).
    pub fn parse_line(line: &str) -> Option<Event> {
        serde_json::from_str(line.trim()).ok()
    }

    /// The event as one line of JSON, without the newline.
    pub fn to_line(&self) -> String {
        self.to_string()
    }
}

/// One line of JSON, so `println!("{event}")` prints an event.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only string-keyed maps and plain data: serialising cannot fail.
        let line = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::DType;
    use serde_json::{Value, json};

    fn spec() -> WorkloadSpec {
        WorkloadSpec::new("t", "add", "scalar", DType::F32).param("n", 16)
    }

    fn value(e: &Event) -> Value {
        serde_json::from_str(&e.to_line()).unwrap()
    }

    #[test]
    fn wire_format_is_the_hand_built_one() {
        let run = Event::Run {
            run_id: "r".into(),
            stream: "out/r.jsonl".into(),
        };
        assert_eq!(
            value(&run),
            json!({"event": "run", "run_id": "r", "stream": "out/r.jsonl"})
        );
        let start = Event::Start {
            id: "t/add".into(),
            index: Some(2),
            total: Some(7),
            spec: Some(Box::new(spec())),
        };
        assert_eq!(
            value(&start),
            json!({"event": "start", "id": "t/add", "index": 2, "total": 7, "spec": spec()})
        );
        let done = Event::Done {
            id: "t/add".into(),
            status: Status::Failed,
        };
        assert_eq!(
            value(&done),
            json!({"event": "done", "id": "t/add", "status": "failed"})
        );
        let finished = Event::Finished {
            path: "out/r.json".into(),
            status: RunStatus::Interrupted,
        };
        assert_eq!(
            value(&finished),
            json!({"event": "finished", "path": "out/r.json", "status": "interrupted"})
        );
    }

    #[test]
    fn optional_start_fields_are_left_out_and_read_back() {
        // The distributed driver's start event has no spec.
        let line = r#"{"event":"start","id":"d/x","index":0,"total":3}"#;
        let e = Event::parse_line(line).unwrap();
        assert_eq!(
            e,
            Event::Start {
                id: "d/x".into(),
                index: Some(0),
                total: Some(3),
                spec: None
            }
        );
        let bare = Event::Start {
            id: "d/x".into(),
            index: None,
            total: None,
            spec: None,
        };
        assert_eq!(bare.to_line(), r#"{"event":"start","id":"d/x"}"#);
    }

    #[test]
    fn every_event_round_trips_through_a_line() {
        for e in [
            Event::Run {
                run_id: "r".into(),
                stream: "s.jsonl".into(),
            },
            Event::Start {
                id: "t/add".into(),
                index: Some(0),
                total: Some(1),
                spec: Some(Box::new(spec())),
            },
            Event::Done {
                id: "t/add".into(),
                status: Status::Ok,
            },
            Event::Finished {
                path: "r.json".into(),
                status: RunStatus::Complete,
            },
        ] {
            let line = e.to_line();
            assert!(!line.contains('\n'), "{line}");
            assert_eq!(Event::parse_line(&line), Some(e));
        }
    }

    #[test]
    fn other_lines_are_not_events() {
        for line in [
            "",
            "warming up",
            "{}",
            r#"{"event":"nonsense"}"#,
            r#"{"event":"done","id":"x"}"#,
            r#"{"event":"done","id":"x","status":"bogus"}"#,
            "[1,2]",
        ] {
            assert_eq!(Event::parse_line(line), None, "{line}");
        }
    }
}
