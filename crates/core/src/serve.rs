//! `--serve`: instead of running itself, the suite answers `cargo xtask ab`'s requests, one JSON
//! line each way on stdin/stdout. Two builds served side by side are sampled alternately, a short
//! leg each, in one sitting: drift slower than a leg moves both sides alike and cancels in their
//! ratio, which a run of one build after the other cannot do (see `docs/METHODOLOGY.md` §7b).

use crate::device::Device;
use crate::driver::memory_shortfall;
use crate::error::panic_message;
use crate::options::exit;
use crate::sampler::{Sampler, Warmed};
use crate::schema::Status;
use crate::suite::{Entry, Runner, Suite};
use crate::workload::Workload;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// What `xtask ab` asks a serving suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Prepare, validate and warm up workload `id` on inputs from `seed`.
    Prepare {
        /// The workload's id.
        id: String,
        /// The input seed (the same for both builds within a round).
        seed: u64,
    },
    /// Time this many batches of the prepared workload.
    Sample {
        /// Batches to time, back to back.
        batches: usize,
    },
    /// Drop the prepared workload and its buffers.
    Finish,
}

/// A serving suite's answer to one [`Request`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Validated and warmed up: batches of `iters` iterations, about `per_iter_ns` each.
    Ready {
        /// The workload's id.
        id: String,
        /// Iterations per timed batch.
        iters: u64,
        /// The warm-up's last per-iteration time, to size legs.
        per_iter_ns: f64,
    },
    /// Not timed: skipped, failed or invalid, with why.
    NotTimed {
        /// The workload's id.
        id: String,
        /// `skipped`, `failed` or `invalid`.
        status: Status,
        /// Why.
        reason: Option<String>,
    },
    /// Per-iteration times (ns) of the batches asked for.
    Samples {
        /// One per batch.
        ns: Vec<f64>,
    },
    /// The prepared workload is dropped.
    Done,
    /// The request could not be answered (unknown id, nothing prepared, a panic).
    Error {
        /// What went wrong.
        message: String,
    },
}

/// A workload prepared for sampling, with its device and clock.
struct Prepared {
    device: Arc<dyn Device>,
    workload: Box<dyn Workload>,
    warmed: Warmed,
}

/// Answers requests from stdin until it closes. Probes are not served: a ratio needs no roofline.
pub(crate) fn serve(suite: &mut Suite, mut sampler: Sampler) -> u8 {
    let mut entries: HashMap<String, Entry> = suite
        .workloads
        .drain(..)
        .map(|e| (e.spec.id.clone(), e))
        .collect();
    let mut prepared: Option<Prepared> = None;
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(req) => answer(req, &mut entries, &mut prepared, &mut sampler),
            Err(e) => Reply::Error {
                message: format!("not a request ({e}): {line}"),
            },
        };
        let text = serde_json::to_string(&reply).expect("replies serialise");
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
    exit::OK
}

fn answer(
    req: Request,
    entries: &mut HashMap<String, Entry>,
    prepared: &mut Option<Prepared>,
    sampler: &mut Sampler,
) -> Reply {
    match req {
        Request::Prepare { id, seed } => {
            *prepared = None;
            match entries.remove(&id) {
                Some(entry) => prepare(entry, seed, sampler, prepared),
                None => Reply::Error {
                    message: format!("{id}: not a workload of this suite's selection"),
                },
            }
        }
        Request::Sample { batches } => match prepared.as_mut() {
            Some(p) => sample(p, batches, sampler),
            None => Reply::Error {
                message: "sample: nothing is prepared".into(),
            },
        },
        Request::Finish => {
            *prepared = None;
            Reply::Done
        }
    }
}

fn prepare(entry: Entry, seed: u64, sampler: &mut Sampler, slot: &mut Option<Prepared>) -> Reply {
    let id = entry.spec.id.clone();
    let not_timed = |status, reason: String| Reply::NotTimed {
        id: id.clone(),
        status,
        reason: Some(reason),
    };
    let Runner::Local {
        device,
        mut workload,
    } = entry.runner
    else {
        return not_timed(
            Status::Skipped,
            "runs in a separate runtime; `ab` serves in-process workloads only".into(),
        );
    };
    if let Some(why) = memory_shortfall(entry.spec.footprint_bytes) {
        return not_timed(Status::Skipped, why);
    }
    let warmed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        sampler.warm(device.as_ref(), workload.as_mut(), seed)
    }));
    match warmed {
        Ok(Ok(warmed)) => {
            let reply = Reply::Ready {
                id,
                iters: warmed.iters,
                per_iter_ns: warmed.per_iter_ns,
            };
            *slot = Some(Prepared {
                device,
                workload,
                warmed,
            });
            reply
        }
        Ok(Err(m)) => Reply::NotTimed {
            id,
            status: m.status,
            reason: m.reason,
        },
        Err(payload) => not_timed(
            Status::Failed,
            format!("panicked: {}", panic_message(payload.as_ref())),
        ),
    }
}

fn sample(p: &mut Prepared, batches: usize, sampler: &mut Sampler) -> Reply {
    let timed = std::panic::catch_unwind(AssertUnwindSafe(|| {
        sampler.batches(
            p.device.as_ref(),
            p.workload.as_mut(),
            &mut p.warmed,
            batches,
        )
    }));
    match timed {
        Ok(Ok(ns)) => Reply::Samples { ns },
        Ok(Err(e)) => Reply::Error {
            message: e.to_string(),
        },
        Err(payload) => Reply::Error {
            message: format!("panicked: {}", panic_message(payload.as_ref())),
        },
    }
}
