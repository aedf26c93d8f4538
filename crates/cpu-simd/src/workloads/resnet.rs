//! A ResNet basic block (see [`super::models::resnet`]) forward at ImageNet-like shapes,
//! validated against the f64 block with textbook batch norms. Reported per image in `extra`.

use super::models::exec::Exec;
use super::models::resnet::{ResNetBlock, ResNetConfig, ResNetWeights, reference};
use super::{Backend, Ctx, Profile, check, gemm_tolerance, spec};
use std::collections::BTreeMap;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::{Error, Result, Workload, WorkloadSpec, data};

pub struct ResNet {
    spec: WorkloadSpec,
    backend: Backend,
    config: ResNetConfig,
    x: Vec<f32>,
    block: Option<ResNetBlock>,
}

impl ResNet {
    pub fn new(backend: Backend, config: ResNetConfig, ctx: &Ctx) -> Self {
        let c = &config;
        let buffers = 4 * c.act_len() + 9 * c.channels * c.positions();
        let spec = spec("resnet_basic_block", backend, ctx)
            .param("batch", c.batch)
            .param("channels", c.channels)
            .param("hw", c.hw)
            .param("bn", "inference-folded")
            .cost(c.flops(), c.min_bytes())
            .footprint((4 * (2 * c.weight_len() + buffers)) as u64);
        Self {
            spec,
            backend,
            config,
            x: Vec::new(),
            block: None,
        }
    }

    /// Two chained convolutions with k = 9C each.
    pub fn tolerance(&self) -> f64 {
        2.0 * gemm_tolerance(9 * self.config.channels)
    }
}

impl Workload for ResNet {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let c = self.config;
        self.x = data::uniform_f32(c.act_len(), seed);
        let weights = ResNetWeights::random(&c, seed.wrapping_add(100));
        let exec = Exec::new(self.backend).expect("registered only for simd and rayon");
        self.block = Some(ResNetBlock::new(c, weights, exec));
        Ok(())
    }
    fn execute(&mut self) {
        if let Some(block) = self.block.as_mut() {
            block.forward(&self.x);
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let block = (self.block.as_ref())
            .ok_or_else(|| Error::workload(&self.spec.id, "validate called before prepare"))?;
        let want = reference(&self.config, &block.weights, &self.x);
        Ok(check(&block.out, &want, self.tolerance()))
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut e = BTreeMap::new();
        e.insert("images_per_execute".into(), self.config.batch.into());
        e
    }
}

/// ImageNet stage 1 (64 channels at 56×56) and stage 2 (128 at 28×28); a small map for quick.
pub fn configs(ctx: &Ctx) -> Vec<ResNetConfig> {
    let block = |batch, channels, hw| ResNetConfig {
        batch,
        channels,
        hw,
    };
    match ctx.profile {
        Profile::Quick => vec![block(1, 32, 28)],
        Profile::Standard => vec![block(1, 64, 56), block(1, 128, 28)],
        Profile::Full => vec![block(1, 64, 56), block(1, 128, 28), block(8, 64, 56)],
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for config in configs(ctx) {
        for backend in [Backend::Simd, Backend::Rayon] {
            suite.add(ResNet::new(backend, config, ctx));
        }
    }
}
