//! One round: both builds served as fresh processes, every open id prepared on both with the
//! round's seed, then sampled in alternating legs whose order is drawn per leg, so neither side
//! is always first and drift slower than a leg cancels in the round's ratio.

use super::server::{Server, ServerError};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;
use tensorbench_analysis::paired::Round;
use tensorbench_core::schema::Status;
use tensorbench_core::serve::{Reply, Request};

/// How a round samples each id.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Legs per side per round.
    pub legs: usize,
    /// Wanted length of one leg.
    pub leg: Duration,
    /// Deadline of one request.
    pub timeout: Duration,
    /// Arguments after `--serve` (selection flags).
    pub args: Vec<String>,
    /// The target's environment (e.g. which GPU back-end).
    pub env: Vec<(String, String)>,
    /// Ids whose kernels run on one thread: both sides are pinned to one drawn CPU for them.
    pub single_threaded: HashSet<String>,
    /// CPUs this machine has.
    pub cpus: usize,
}

/// One leg of one side, kept to diagnose noisy rounds: its median per-iteration time and the
/// steal time (ticks of `/proc/stat`, 1/100 s) the CPUs it ran on lost to the host meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Leg {
    /// 0: BASE, 1: HEAD.
    pub side: usize,
    pub median_ns: f64,
    pub steal_ticks: Option<u64>,
}

/// What one round gave one id.
#[derive(Debug)]
pub enum Paired {
    Sampled(Round, Vec<Leg>),
    /// Not timed on a side (skipped, failed, invalid): the id leaves the comparison.
    NotTimed {
        status: Status,
        reason: String,
    },
}

/// The two binaries, BASE first.
pub struct Sides<'a> {
    pub binaries: [&'a PathBuf; 2],
}

/// Runs one round over `ids` (in a shuffled order) and returns what each gave. A server that
/// stops answering fails the id it was on; both are restarted for the rest of the round.
pub fn run_round(
    sides: &Sides<'_>,
    plan: &Plan,
    ids: &[String],
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<Vec<(String, Paired)>> {
    let mut order = ids.to_vec();
    order.shuffle(rng);
    let mut servers = start(sides, plan, rng)?;
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let seed = rng.next_u64();
        let result = pair(&mut servers, &id, seed, plan, rng).unwrap_or_else(|e| {
            servers = None;
            Paired::NotTimed {
                status: Status::Failed,
                reason: e.to_string(),
            }
        });
        out.push((id, result));
        if servers.is_none() {
            servers = start(sides, plan, rng)?;
        }
    }
    if let Some([a, b]) = servers {
        a.shut_down();
        b.shut_down();
    }
    Ok(out)
}

/// Starts both servers, in a drawn order: the scheduler may place the first process started
/// differently from the second, and that must not always favour one side.
fn start(
    sides: &Sides<'_>,
    plan: &Plan,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<Option<[Server; 2]>> {
    let mut started: [Option<Server>; 2] = [None, None];
    for side in first_of(rng) {
        started[side] = Some(Server::start(LABELS[side], sides.binaries[side], plan)?);
    }
    let [Some(base), Some(head)] = started else {
        unreachable!("both sides were started")
    };
    Ok(Some([base, head]))
}

/// One id on both sides: prepare both, alternate legs, finish both.
fn pair(
    servers: &mut Option<[Server; 2]>,
    id: &str,
    seed: u64,
    plan: &Plan,
    rng: &mut ChaCha8Rng,
) -> Result<Paired, ServerError> {
    let s = servers.as_mut().expect("servers are up");
    let cpus: Vec<usize> = if plan.single_threaded.contains(id) {
        vec![rng.random_range(0..plan.cpus)]
    } else {
        (0..plan.cpus).collect()
    };
    for server in s.iter() {
        server.pin(&cpus);
    }
    let mut batches = [0usize; 2];
    let mut refused = None;
    for side in first_of(rng) {
        let req = Request::Prepare {
            id: id.to_string(),
            seed,
        };
        match s[side].ask(&req)? {
            Reply::Ready {
                iters, per_iter_ns, ..
            } => batches[side] = leg_batches(plan.leg, iters, per_iter_ns),
            Reply::NotTimed { status, reason, .. } => {
                let why = reason.unwrap_or_else(|| format!("{status:?}"));
                refused = Some((status, format!("{}: {why}", LABELS[side])));
            }
            other => refused = Some((Status::Failed, format!("{}: {other:?}", LABELS[side]))),
        }
    }
    if let Some((status, reason)) = refused {
        finish(s)?;
        return Ok(Paired::NotTimed { status, reason });
    }
    let (samples, legs) = match sample_legs(s, &batches, &cpus, plan, rng)? {
        Sampled::Legs(samples, legs) => (samples, legs),
        Sampled::WrongReply(reason) => {
            finish(s)?;
            return Ok(Paired::NotTimed {
                status: Status::Failed,
                reason,
            });
        }
    };
    finish(s)?;
    let [base, head] = samples;
    Ok(Paired::Sampled(Round { base, head }, legs))
}

/// Legs a side may run per round, at most, to get its clean ones (a multiple of `plan.legs`).
const MAX_LEGS_FACTOR: usize = 2;

/// Alternating legs until each side has `plan.legs` clean ones (no steal on its CPUs) or has run
/// [`MAX_LEGS_FACTOR`] × as many. A leg the host stole from is kept in the record but not in the
/// samples: on this project's VM such legs were 5% slower at the median and three times as
/// dispersed as clean ones, and they made a round's ratio a third noisier. A side left with no
/// clean leg keeps all of its legs.
fn sample_legs(
    s: &mut [Server; 2],
    batches: &[usize; 2],
    cpus: &[usize],
    plan: &Plan,
    rng: &mut ChaCha8Rng,
) -> Result<Sampled, ServerError> {
    let mut clean = [Vec::new(), Vec::new()];
    let mut stolen = [Vec::new(), Vec::new()];
    let mut legs = Vec::with_capacity(2 * plan.legs);
    let mut kept = [0usize; 2];
    for _ in 0..plan.legs * MAX_LEGS_FACTOR {
        if kept.iter().all(|&k| k >= plan.legs) {
            break;
        }
        for side in first_of(rng) {
            let before = steal_ticks(cpus);
            let reply = s[side].ask(&Request::Sample {
                batches: batches[side],
            })?;
            let steal = steal_ticks(cpus)
                .zip(before)
                .map(|(a, b)| a.saturating_sub(b));
            let Reply::Samples { ns } = reply else {
                return Ok(Sampled::WrongReply(format!("{}: {reply:?}", LABELS[side])));
            };
            legs.push(Leg {
                side,
                median_ns: median(&ns),
                steal_ticks: steal,
            });
            if steal.unwrap_or(0) == 0 {
                kept[side] += 1;
                clean[side].extend(ns);
            } else {
                stolen[side].extend(ns);
            }
        }
    }
    for side in 0..2 {
        if clean[side].is_empty() {
            clean[side] = std::mem::take(&mut stolen[side]);
        }
    }
    Ok(Sampled::Legs(clean, legs))
}

/// What a round's legs gave: each side's kept samples and every leg, or a side's wrong reply.
enum Sampled {
    Legs([Vec<f64>; 2], Vec<Leg>),
    WrongReply(String),
}

fn median(ns: &[f64]) -> f64 {
    let mut v = ns.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Steal ticks of `cpus` so far, summed (`/proc/stat`'s eighth field); `None` off Linux.
fn steal_ticks(cpus: &[usize]) -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_steal(&stat, cpus)
}

fn parse_steal(stat: &str, cpus: &[usize]) -> Option<u64> {
    cpus.iter()
        .map(|c| {
            let name = format!("cpu{c}");
            let line = stat
                .lines()
                .find(|l| l.split_whitespace().next() == Some(&name))?;
            line.split_whitespace().nth(8)?.parse::<u64>().ok()
        })
        .sum()
}

const LABELS: [&str; 2] = ["BASE", "HEAD"];

fn finish(s: &mut [Server; 2]) -> Result<(), ServerError> {
    for server in s.iter_mut() {
        server.ask(&Request::Finish)?;
    }
    Ok(())
}

/// Both sides, in an order drawn afresh each time.
fn first_of(rng: &mut ChaCha8Rng) -> [usize; 2] {
    if rng.random_bool(0.5) { [0, 1] } else { [1, 0] }
}

/// Batches that make one leg last about `leg`: at least one.
fn leg_batches(leg: Duration, iters: u64, per_iter_ns: f64) -> usize {
    let batch_ns = iters as f64 * per_iter_ns.max(1e-3);
    ((leg.as_secs_f64() * 1e9 / batch_ns).round() as usize).clamp(1, 100_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_is_read_per_cpu_from_proc_stat() {
        let stat =
            "cpu  10 0 5 100 0 0 0 9 0 0\ncpu0 5 0 2 50 0 0 0 3 0 0\ncpu1 5 0 3 50 0 0 0 6 0 0\n";
        assert_eq!(parse_steal(stat, &[1]), Some(6));
        assert_eq!(parse_steal(stat, &[0, 1]), Some(9));
        assert_eq!(parse_steal(stat, &[2]), None);
    }

    #[test]
    fn legs_last_about_the_wanted_time() {
        let leg = Duration::from_millis(10);
        assert_eq!(leg_batches(leg, 100, 1_000.0), 100);
        assert_eq!(leg_batches(leg, 1, 50e6), 1);
        assert_eq!(leg_batches(leg, 1, 0.0), 100_000);
    }
}
