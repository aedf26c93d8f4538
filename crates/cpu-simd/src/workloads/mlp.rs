//! An MLP (see [`super::models::mlp`]): the forward pass, and a training step's forward and
//! backward (`pass=train`), whose every gradient is validated against the f64 backward pass.

use super::models::exec::Exec;
use super::models::mlp::{
    Mlp, MlpConfig, MlpWeights, Weights64, reference_forward, reference_grads,
};
use super::models::reference::widen;
use super::{Backend, Ctx, Profile, check, gemm_tolerance, spec};
use std::collections::BTreeMap;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::{Error, Result, Workload, WorkloadSpec, data};

/// Which pass one `execute` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Forward,
    /// Forward and backward: every weight, bias and input gradient.
    Train,
}

impl Pass {
    pub fn name(self) -> &'static str {
        match self {
            Pass::Forward => "forward",
            Pass::Train => "train",
        }
    }
}

pub struct MlpWorkload {
    spec: WorkloadSpec,
    backend: Backend,
    pass: Pass,
    config: MlpConfig,
    x: Vec<f32>,
    target: Vec<f32>,
    mlp: Option<Mlp>,
}

impl MlpWorkload {
    pub fn new(backend: Backend, pass: Pass, config: MlpConfig, ctx: &Ctx) -> Self {
        let c = &config;
        let (flops, bytes) = match pass {
            // Weights, input and output once.
            Pass::Forward => (c.forward_flops(), 4 * (c.weight_len() + 2 * c.act_len())),
            // Weights read, their gradients written; input, target and input gradient.
            Pass::Train => (c.train_flops(), 4 * (2 * c.weight_len() + 3 * c.act_len())),
        };
        let spec = spec("mlp", backend, ctx)
            .param("pass", pass.name())
            .param("batch", c.batch)
            .param("width", c.width)
            .param("layers", c.layers)
            .param("act", "relu")
            .cost(flops, bytes as f64)
            .footprint((4 * (3 * c.weight_len() + (c.layers + 6) * c.act_len())) as u64);
        Self {
            spec,
            backend,
            pass,
            config,
            x: Vec::new(),
            target: Vec::new(),
            mlp: None,
        }
    }

    /// Chained GEMMs with inner dimensions `width` and `batch`; gradients pass through every
    /// layer twice.
    pub fn tolerance(&self) -> f64 {
        let k = self.config.width.max(self.config.batch);
        2.0 * self.config.layers as f64 * gemm_tolerance(k)
    }

    fn validate_train(&self, mlp: &Mlp) -> Validation {
        let c = &self.config;
        let want = reference_grads(
            c,
            &Weights64::from(&mlp.weights),
            &widen(&self.x),
            &widen(&self.target),
        );
        let tol = self.tolerance();
        let mut checks = vec![("dx".to_string(), check(&mlp.grads.dx, &want.dx, tol))];
        for l in 0..c.layers {
            checks.push((
                format!("dW{}", l + 1),
                check(&mlp.grads.dw[l], &want.dw[l], tol),
            ));
            checks.push((
                format!("db{}", l + 1),
                check(&mlp.grads.db[l], &want.db[l], tol),
            ));
        }
        worst(checks)
    }
}

/// The check furthest over (or least under) its tolerance, naming its tensor.
fn worst(checks: Vec<(String, Validation)>) -> Validation {
    let ratio = |v: &Validation| v.max_rel_err / v.tolerance;
    let (name, mut v) = checks
        .into_iter()
        .max_by(|a, b| ratio(&a.1).total_cmp(&ratio(&b.1)))
        .expect("at least one gradient");
    v.reference = format!("f64 backward pass from the same inputs; worst gradient: {name}");
    v
}

impl Workload for MlpWorkload {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let c = self.config;
        self.x = data::uniform_f32(c.act_len(), seed);
        self.target = data::uniform_f32(c.act_len(), seed.wrapping_add(1));
        let weights = MlpWeights::random(&c, seed.wrapping_add(100));
        let exec = Exec::new(self.backend).expect("registered only for simd and rayon");
        self.mlp = Some(Mlp::new(c, weights, exec));
        Ok(())
    }
    fn execute(&mut self) {
        let Some(mlp) = self.mlp.as_mut() else { return };
        match self.pass {
            Pass::Forward => mlp.forward(&self.x),
            Pass::Train => mlp.forward_backward(&self.x, &self.target),
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let mlp = (self.mlp.as_ref())
            .ok_or_else(|| Error::workload(&self.spec.id, "validate called before prepare"))?;
        Ok(match self.pass {
            Pass::Forward => {
                let w = Weights64::from(&mlp.weights);
                let acts = reference_forward(&self.config, &w, &widen(&self.x));
                let y = &mlp.acts[self.config.layers - 1];
                check(y, &acts[self.config.layers - 1], self.tolerance())
            }
            Pass::Train => self.validate_train(mlp),
        })
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut e = BTreeMap::new();
        e.insert("samples_per_execute".into(), self.config.batch.into());
        e.insert("loss".into(), "0.5·sum((y - t)²)/batch".into());
        e
    }
}

/// Three layers: 256 wide for quick; 1024 wide at batch 256 from standard, 4096 in full.
pub fn configs(ctx: &Ctx) -> Vec<MlpConfig> {
    let mlp = |batch, width| MlpConfig {
        batch,
        width,
        layers: 3,
    };
    match ctx.profile {
        Profile::Quick => vec![mlp(64, 256)],
        Profile::Standard => vec![mlp(256, 1024)],
        Profile::Full => vec![mlp(256, 1024), mlp(1024, 4096)],
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for config in configs(ctx) {
        for pass in [Pass::Forward, Pass::Train] {
            for &backend in super::fusion::backends(ctx) {
                suite.add(MlpWorkload::new(backend, pass, config, ctx));
            }
        }
    }
}
