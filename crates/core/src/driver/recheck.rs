//! Probes measured again at the end of a run whose results beat them.
//!
//! On a shared machine the memory system's speed drifts within minutes (an independent C STREAM
//! triad gave 30 and then 44 GB/s ten minutes apart on the same VM), so a kernel measured in a
//! faster minute than its probe lands above its ceiling. A ceiling is the best rate the machine
//! reached in the run (STREAM's best-of rule), so the probe that set a beaten ceiling is
//! measured once more, a better rate raises the ceiling, and every result is placed again under
//! the final ceilings. A result still above its ceiling after that is flagged as before: the
//! probe under-measures its level.

use super::{Driver, SuiteError};
use crate::device::Device;
use crate::schema::{Measurement, Peaks};
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

/// The parameter that marks a probe's second measurement (its id differs from the first's).
pub const RECHECK_PARAM: (&str, &str) = ("pass", "recheck");

/// The ceilings of `device` that `after` holds at a value `before` did not.
fn raised(before: &Peaks, after: &Peaks, device: &str) -> Vec<String> {
    let (Some(after), old) = (after.get(device), before.get(device)) else {
        return Vec::new();
    };
    after
        .iter()
        .filter(|(k, v)| old.and_then(|o| o.get(*k)) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

impl Driver<'_> {
    /// Records a probe's measurement and keeps the probe, noting the ceilings it set.
    pub(super) fn record_kept_probe(
        &mut self,
        m: Measurement,
        probe: Kept,
        suite: &mut Suite,
    ) -> Result<(), SuiteError> {
        let (before, device) = (self.peaks(), m.device.clone());
        self.record(m, Some(probe.ceiling.clone()), suite)?;
        let slot = self.kept.len();
        for key in raised(&before, &self.peaks(), &device) {
            self.set_by.insert((device.clone(), key), slot);
        }
        self.kept.push(Some(probe));
        Ok(())
    }

    /// Measures again each kept probe whose ceiling a result beat, then places every result
    /// again under the final ceilings. Nothing happens after an interrupt.
    pub(super) fn recheck(&mut self, suite: &mut Suite) -> Result<(), SuiteError> {
        if !self.carry_on() {
            return Ok(());
        }
        for slot in self.beaten() {
            self.measure_again(slot, suite)?;
            if !self.carry_on() {
                return Ok(());
            }
        }
        self.kept.clear();
        self.place_again()
    }

    /// The kept probes that set a ceiling some result is above, as the writer sees them, on
    /// every process.
    fn beaten(&self) -> Vec<usize> {
        let mine: BTreeSet<usize> = self.writer.as_ref().map_or_else(BTreeSet::new, |w| {
            let slots = w.run().measurements.iter().filter_map(|m| {
                let r = m.roofline.as_ref().filter(|r| r.above_ceiling.is_some())?;
                self.set_by.get(&(m.device.clone(), r.ceiling.clone()))
            });
            slots.copied().collect()
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

    /// Measures the kept probe in `slot` once more, under an id of its own.
    fn measure_again(&mut self, slot: usize, suite: &mut Suite) -> Result<(), SuiteError> {
        let Some(mut probe) = self.kept.get_mut(slot).and_then(Option::take) else {
            return Ok(());
        };
        let (key, value) = RECHECK_PARAM;
        let spec = probe.workload.spec().clone().param(key, value);
        self.announce(probe.index, &spec);
        let seed = self.seed_of(self.total + slot);
        let base = self.sampler.config.clone();
        self.sampler.config = base.for_probe();
        let mut m = self.measure(probe.device.as_ref(), probe.workload.as_mut(), seed);
        self.sampler.config = base;
        probe.workload.release();
        if !self.carry_on() {
            return Ok(());
        }
        (m.id, m.params) = (spec.id, spec.params);
        self.record(m, Some(probe.ceiling), suite)
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
