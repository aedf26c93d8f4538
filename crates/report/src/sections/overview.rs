//! The overview of each run: where and how it was measured, its ceilings, its counts, and the
//! conditions that make its numbers less trustworthy.

use crate::format;
use serde::Serialize;
use tensorbench_schema::roofline::{BANDWIDTH_KEY, COMPUTE_KEY};
use tensorbench_schema::schema::{Machine, Run, RunStatus, Status};

/// A label and its value.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

fn fact(label: &str, value: impl Into<String>) -> Fact {
    Fact {
        label: label.to_string(),
        value: value.into(),
    }
}

/// Measurements of a run by status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub total: usize,
    pub ok: usize,
    pub invalid: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// One measured ceiling.
#[derive(Debug, Clone, Serialize)]
pub struct Peak {
    pub device: String,
    pub name: String,
    pub value: String,
    /// True for the two ceilings the roofline uses.
    pub roofline: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub run_id: String,
    pub facts: Vec<Fact>,
    pub machine: Vec<Fact>,
    pub peaks: Vec<Peak>,
    pub counts: Counts,
    pub warnings: Vec<String>,
}

pub fn run_view(run: &Run) -> RunView {
    RunView {
        run_id: run.run_id.clone(),
        facts: run_facts(run),
        machine: machine_facts(&run.machine),
        peaks: peaks(run),
        counts: counts(run),
        warnings: warnings(run),
    }
}

fn run_facts(run: &Run) -> Vec<Fact> {
    let status = match run.status {
        RunStatus::Complete => "complete",
        RunStatus::Interrupted => "interrupted",
        RunStatus::Running => "running (not finished)",
    };
    let git = match (&run.git.commit, run.git.dirty, &run.git.branch) {
        (None, _, _) => "unknown (not a git checkout)".to_string(),
        (Some(c), dirty, branch) => format!(
            "{}{}{}",
            format::short_commit(c),
            if dirty == Some(true) {
                " + uncommitted changes"
            } else {
                ""
            },
            branch
                .as_ref()
                .map_or(String::new(), |b| format!(" on {b}"))
        ),
    };
    vec![
        fact("target", &run.target),
        fact("profile", &run.profile),
        fact("status", status),
        fact("started", &run.started_at),
        fact("finished", run.finished_at.as_deref().unwrap_or("–")),
        fact("commit", git),
        fact("build", &run.build_profile),
        fact("command", &run.command),
        fact("energy", crate::facts::energy_summary(run)),
    ]
}

fn machine_facts(m: &Machine) -> Vec<Fact> {
    let unknown = || "unknown".to_string();
    let caches = [
        ("L1d", m.caches.l1d),
        ("L2", m.caches.l2),
        ("L3", m.caches.l3),
    ]
    .iter()
    .filter_map(|(n, v)| v.map(|b| format!("{n} {}", format::bytes_binary(b))))
    .collect::<Vec<_>>()
    .join(" · ");
    let mut facts = vec![
        fact("host", m.hostname.clone().unwrap_or_else(unknown)),
        fact("CPU", m.cpu_model.clone().unwrap_or_else(unknown)),
        fact("arch", &m.arch),
        fact(
            "cores",
            format!(
                "{} physical / {} logical",
                m.physical_cores.map_or_else(unknown, |c| c.to_string()),
                m.logical_cores
            ),
        ),
        fact("caches", if caches.is_empty() { unknown() } else { caches }),
        fact(
            "features",
            if m.features.is_empty() {
                "–".into()
            } else {
                m.features.join(" ")
            },
        ),
        fact(
            "memory",
            m.memory_bytes.map_or_else(unknown, format::bytes_binary),
        ),
        fact("OS", m.os.clone().unwrap_or_else(unknown)),
        fact("kernel", m.kernel.clone().unwrap_or_else(unknown)),
        fact("rustc", m.rustc.clone().unwrap_or_else(unknown)),
        fact("governor", m.governor.clone().unwrap_or_else(unknown)),
        fact(
            "load (1 min)",
            m.load_avg_1m.map_or_else(unknown, |l| format!("{l:.2}")),
        ),
    ];
    for g in &m.gpus {
        let driver = g
            .driver
            .as_deref()
            .map_or(String::new(), |d| format!(", driver {d}"));
        facts.push(fact("GPU", format!("{} ({}{driver})", g.name, g.backend)));
    }
    facts
}

fn peaks(run: &Run) -> Vec<Peak> {
    run.peaks
        .iter()
        .flat_map(|(device, values)| {
            values.iter().map(move |(name, v)| Peak {
                device: device.clone(),
                name: name.clone(),
                value: peak_value(name, *v),
                roofline: name == BANDWIDTH_KEY || name == COMPUTE_KEY,
            })
        })
        .collect()
}

/// A ceiling with the unit its key names.
fn peak_value(name: &str, v: f64) -> String {
    if name.ends_with("_gbps") {
        format::gbps(v)
    } else if name.ends_with("_gflops") {
        format::gflops(v)
    } else {
        format::significant(v, 4)
    }
}

pub fn counts(run: &Run) -> Counts {
    let mut c = Counts {
        total: run.measurements.len(),
        ..Counts::default()
    };
    for m in &run.measurements {
        match m.status {
            Status::Ok => c.ok += 1,
            Status::Invalid => c.invalid += 1,
            Status::Failed => c.failed += 1,
            Status::Skipped => c.skipped += 1,
        }
    }
    c
}

/// Conditions that make this run's numbers less trustworthy, each with what to do.
fn warnings(run: &Run) -> Vec<String> {
    let mut w = Vec::new();
    if run.status != RunStatus::Complete {
        w.push("This run did not finish: it holds only the measurements that completed.".into());
    }
    if run.git.dirty == Some(true) {
        w.push(
            "Built from a tree with uncommitted changes: the commit alone does not reproduce it."
                .into(),
        );
    }
    if run.build_profile == "debug" {
        w.push("Built in debug mode: timings do not reflect optimised code.".into());
    }
    if let Some(g) = run
        .machine
        .governor
        .as_deref()
        .filter(|g| *g != "performance")
    {
        w.push(format!(
            "CPU frequency governor is `{g}`, not `performance`: clocks may change during the run (see Troubleshooting)."
        ));
    }
    let cores = run.machine.logical_cores.max(1) as f64;
    if let Some(load) = run.machine.load_avg_1m.filter(|l| *l > 0.5 * cores) {
        w.push(format!(
            "Load average was {load:.2} on {cores} logical cores when the run started: other work may have disturbed the timings."
        ));
    }
    let unconverged = run
        .measurements
        .iter()
        .filter(|m| m.sampling.as_ref().is_some_and(|s| !s.converged) && m.status == Status::Ok)
        .count();
    if unconverged > 0 {
        w.push(format!(
            "{unconverged} measurement(s) stopped at the time or sample cap before their confidence interval reached the target (marked ⚠ in the tables)."
        ));
    }
    let unstable: Vec<&str> = run
        .measurements
        .iter()
        .filter(|m| m.sampling.as_ref().is_some_and(|s| s.unstable.is_some()))
        .map(|m| m.id.as_str())
        .collect();
    if !unstable.is_empty() {
        w.push(format!(
            "{} measurement(s) drifted while sampled and are marked unstable (their CI spans the drift): {}.",
            unstable.len(),
            unstable.join(", ")
        ));
    }
    if run.peaks.is_empty() {
        w.push(
            "No roofline probes ran: % of roofline and the roofline chart are not available."
                .into(),
        );
    }
    w
}
