//! Probes measured again at the end of a run whose results beat them.
//!
//! On a shared machine the memory system's speed drifts within minutes (an independent C STREAM
//! triad gave 30 and then 44 GB/s ten minutes apart on the same VM), so a kernel measured in a
//! faster minute than its probe lands above its ceiling. A ceiling is the best rate the machine
//! reached in the run (STREAM's best-of rule), so every probe of a beaten ceiling is measured
//! once more, a better rate raises the ceiling, and every result is placed again under the
//! raised ceilings; up to [`RECHECK_ROUNDS`] times while some result is still above. One still
//! above after that is flagged as before: the probe under-measures its level.

use super::{Driver, SuiteError};
use crate::device::Device;
use crate::schema::Measurement;
use crate::suite::{Ceiling, Suite};
use crate::workload::Workload;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A probe after its turn, its buffers released.
pub(super) struct Kept {
    index: usize,
    device: Arc<dyn Device>,
    workload: Box<dyn Workload>,
    ceiling: Ceiling,
}

impl Kept {
    pub(super) fn new(
        index: usize,
        device: Arc<dyn Device>,
        workload: Box<dyn Workload>,
        ceiling: Ceiling,
    ) -> Self {
        Self {
            index,
            device,
            workload,
            ceiling,
        }
    }
}

/// How many times the probes of beaten ceilings are measured again, at most: a second round
/// catches a first one that landed in a slow minute too.
pub const RECHECK_ROUNDS: usize = 2;

/// The share of a beaten ceiling a probe's own best rate must reach to be measured again.
const NEAR: f64 = 0.9;

/// The parameter that marks a probe's measurement in round `round` (from 1) of measuring
/// again: `pass=recheck`, then `pass=recheck2` (its id differs from the first measurement's).
pub fn recheck_param(round: usize) -> (&'static str, String) {
    let pass = if round <= 1 {
        "recheck".to_string()
    } else {
        format!("recheck{round}")
    };
    ("pass", pass)
}

impl Driver<'_> {
    /// Records a probe's measurement and keeps the probe, noting the ceilings it measures.
    pub(super) fn record_kept_probe(
        &mut self,
        m: Measurement,
        probe: Kept,
        suite: &mut Suite,
    ) -> Result<(), SuiteError> {
        let slot = self.kept.len();
        self.record_probe(m, &probe, slot, suite)?;
        self.kept.push(Some(probe));
        Ok(())
    }

    /// Records a kept probe's measurement, noting its own rate under every key it published.
    fn record_probe(
        &mut self,
        m: Measurement,
        probe: &Kept,
        slot: usize,
        suite: &mut Suite,
    ) -> Result<(), SuiteError> {
        let device = m.device.clone();
        let (gbps, gflops) = crate::roofline::best_rates(&m);
        let own = gbps.or(gflops).unwrap_or(0.0);
        for key in self.record(m, Some(probe.ceiling.clone()), suite)? {
            let probes = self.measured_by.entry((device.clone(), key)).or_default();
            let rate = probes.entry(slot).or_insert(own);
            *rate = rate.max(own);
        }
        Ok(())
    }

    /// Measures again the probes of every ceiling some result beat, and places every result
    /// again under the raised ceilings, for up to [`RECHECK_ROUNDS`] rounds. Nothing happens
    /// after an interrupt.
    pub(super) fn recheck(&mut self, suite: &mut Suite) -> Result<(), SuiteError> {
        for round in 1..=RECHECK_ROUNDS {
            let slots = self.beaten();
            if slots.is_empty() || !self.carry_on() {
                break;
            }
            for slot in slots {
                self.measure_again(slot, round, suite)?;
                if !self.carry_on() {
                    return Ok(());
                }
            }
            self.place_again()?;
        }
        self.kept.clear();
        Ok(())
    }

    /// The kept probes that measure a ceiling some result is above, as the writer sees them,
    /// on every process.
    fn beaten(&self) -> Vec<usize> {
        let mine: BTreeSet<usize> = self.writer.as_ref().map_or_else(BTreeSet::new, |w| {
            let run = w.run();
            let probes = run.measurements.iter().filter_map(|m| {
                let r = m.roofline.as_ref().filter(|r| r.above_ceiling.is_some())?;
                let value = run.peaks.get(&m.device)?.get(&r.ceiling)?;
                let probes = self
                    .measured_by
                    .get(&(m.device.clone(), r.ceiling.clone()))?;
                // Only a probe near the ceiling can plausibly raise it (a DRAM-sized sweep
                // point publishes the L3 key too, far below it).
                let near = probes.iter().filter(move |(_, own)| **own >= NEAR * value);
                Some(near.map(|(slot, _)| *slot))
            });
            probes.flatten().collect()
        });
        let mine: Vec<usize> = mine.into_iter().collect();
        let n = self.coordinator.broadcast(mine.len() as u64) as usize;
        (0..n)
            .map(|i| {
                let slot = mine.get(i).map_or(0, |&s| s as u64);
                self.coordinator.broadcast(slot) as usize
            })
            .collect()
    }

    /// Measures the kept probe in `slot` once more, under an id of its own for `round`.
    fn measure_again(
        &mut self,
        slot: usize,
        round: usize,
        suite: &mut Suite,
    ) -> Result<(), SuiteError> {
        let Some(mut probe) = self.kept.get_mut(slot).and_then(Option::take) else {
            return Ok(());
        };
        let (key, value) = recheck_param(round);
        let spec = probe.workload.spec().clone().param(key, value);
        self.announce(probe.index, &spec);
        let seed = self.seed_of(self.total * (round + 1) + slot);
        let base = self.sampler.config.clone();
        self.sampler.config = base.for_probe();
        let mut m = self.measure(probe.device.as_ref(), probe.workload.as_mut(), seed);
        self.sampler.config = base;
        probe.workload.release();
        if !self.carry_on() {
            return Ok(());
        }
        (m.id, m.params) = (spec.id, spec.params);
        self.record_probe(m, &probe, slot, suite)?;
        self.kept[slot] = Some(probe);
        Ok(())
    }

    /// Places every placed result again under the run's final ceilings, recording each change.
    fn place_again(&mut self) -> Result<(), SuiteError> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let run = writer.run();
        let changed: Vec<_> = run
            .measurements
            .iter()
            .filter(|m| m.roofline.is_some())
            .filter_map(|m| {
                let secs = m.stats.as_ref()?.median_ns * 1e-9;
                let now = crate::roofline::classify_measurement(&run.peaks, m, secs);
                (now != m.roofline).then(|| (m.id.clone(), now))
            })
            .collect();
        for (id, roofline) in changed {
            writer.place(&id, roofline)?;
        }
        Ok(())
    }
}
