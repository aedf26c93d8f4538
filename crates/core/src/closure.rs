//! The closure form of a workload, for users of criterion and divan: a setup that makes the
//! inputs from a seed, a routine that runs the op on them, and a check of its output. It goes
//! through the same sampler, validation and run file as a [`Workload`] impl.
//!
//! ```
//! use tensorbench_core::prelude::*;
//!
//! let mut suite = Suite::default();
//! let spec = WorkloadSpec::new("mine", "scale", "scalar", DType::F32)
//!     .param("n", 1024)
//!     .cost(1024.0, 8.0 * 1024.0);
//! suite.bench(
//!     spec,
//!     |seed| (data::uniform_f32(1024, seed), vec![0.0f32; 1024]),
//!     |(x, y)| y.iter_mut().zip(x.iter()).for_each(|(y, x)| *y = 2.0 * x),
//!     |(x, y)| {
//!         let reference: Vec<f64> = x.iter().map(|&v| 2.0 * f64::from(v)).collect();
//!         validate_against(y, &reference, 1e-6, "f64 scalar")
//!     },
//! );
//! assert_eq!(suite.ids(), ["mine/scale/scalar/f32/n=1024"]);
//! ```

use crate::schema::Validation;
use crate::workload::{Workload, WorkloadSpec};
use crate::{Error, Result};

/// A [`Workload`] made of three closures over a state `S` (see the module docs).
pub struct FnWorkload<S, Setup, Run, Check> {
    spec: WorkloadSpec,
    state: Option<S>,
    setup: Setup,
    run: Run,
    check: Check,
}

impl<S, Setup, Run, Check> FnWorkload<S, Setup, Run, Check>
where
    Setup: FnMut(u64) -> S,
    Run: FnMut(&mut S),
    Check: FnMut(&S) -> Validation,
{
    /// `setup(seed)` makes fresh inputs, `run` is the timed op, `check` judges the last output
    /// against a higher-precision reference.
    pub fn new(spec: WorkloadSpec, setup: Setup, run: Run, check: Check) -> Self {
        Self {
            spec,
            state: None,
            setup,
            run,
            check,
        }
    }
}

impl<S, Setup, Run, Check> Workload for FnWorkload<S, Setup, Run, Check>
where
    S: Send,
    Setup: FnMut(u64) -> S + Send,
    Run: FnMut(&mut S) + Send,
    Check: FnMut(&S) -> Validation + Send,
{
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> Result<()> {
        self.state = Some((self.setup)(seed));
        Ok(())
    }

    fn execute(&mut self) {
        // The sampler calls `prepare` first; without a state there is nothing to run.
        if let Some(state) = self.state.as_mut() {
            (self.run)(state);
        }
    }

    fn validate(&mut self) -> Result<Validation> {
        let state = self
            .state
            .as_ref()
            .ok_or_else(|| Error::workload(&self.spec.id, "validated before it was prepared"))?;
        Ok((self.check)(state))
    }
}

impl<S, Setup, Run, Check> std::fmt::Debug for FnWorkload<S, Setup, Run, Check> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnWorkload")
            .field("id", &self.spec.id)
            .finish()
    }
}
