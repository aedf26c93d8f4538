//! One transformer encoder layer (BERT layout, see [`super::models::transformer`]) forward,
//! validated end to end against the f64 layer. Reported per token in `extra`.

use super::models::exec::Exec;
use super::models::transformer::{
    TransformerConfig, TransformerLayer, TransformerWeights, reference,
};
use super::{Backend, Ctx, Profile, check, spec};
use std::collections::BTreeMap;
use tensorbench_core::schema::Validation;
use tensorbench_core::suite::Suite;
use tensorbench_core::{Error, Result, Workload, WorkloadSpec, data};

/// Through six chained f32 GEMMs (k up to d_ff), two layer norms and a softmax, judged per
/// element with a floor of 1e-3 of the output's scale (see `max_rel_err`). Small layers land
/// near 1e-4; a wrong weight, head or residual lands far above 1e-1.
pub const TOLERANCE: f64 = 5e-3;

pub struct Transformer {
    spec: WorkloadSpec,
    backend: Backend,
    config: TransformerConfig,
    x: Vec<f32>,
    layer: Option<TransformerLayer>,
}

impl Transformer {
    /// `model` names the preset (`bert-base`) or `custom`.
    pub fn new(backend: Backend, model: &str, config: TransformerConfig, ctx: &Ctx) -> Self {
        let c = &config;
        let acts = c.tokens() * (8 * c.d_model + c.d_ff) + 2 * c.heads * c.seq * c.seq;
        let spec = spec("transformer_layer", backend, ctx)
            .param("model", model)
            .param("d_model", c.d_model)
            .param("heads", c.heads)
            .param("d_ff", c.d_ff)
            .param("seq", c.seq)
            .param("batch", c.batch)
            .cost(c.flops(), c.min_bytes())
            .footprint((4 * (c.weight_len() + acts)) as u64);
        Self {
            spec,
            backend,
            config,
            x: Vec::new(),
            layer: None,
        }
    }
}

impl Workload for Transformer {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let c = self.config;
        self.x = data::uniform_f32(c.tokens() * c.d_model, seed);
        let weights = TransformerWeights::random(&c, seed.wrapping_add(100));
        let exec = Exec::new(self.backend).expect("registered only for simd and rayon");
        self.layer = Some(TransformerLayer::new(c, weights, exec));
        Ok(())
    }
    fn execute(&mut self) {
        if let Some(layer) = self.layer.as_mut() {
            layer.forward(&self.x);
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let layer = (self.layer.as_ref())
            .ok_or_else(|| Error::workload(&self.spec.id, "validate called before prepare"))?;
        let want = reference(&self.config, &layer.weights, &self.x);
        Ok(check(&layer.out, &want, TOLERANCE))
    }
    fn extra(&self) -> BTreeMap<String, serde_json::Value> {
        let mut e = BTreeMap::new();
        e.insert("tokens_per_execute".into(), self.config.tokens().into());
        e.insert(
            "layout".into(),
            "post-LN, no mask, GELU tanh form, bias+GELU fused into the GEMM".into(),
        );
        e
    }
}

/// `(model, config)` per profile: a small layer for the quick profile, BERT-base at batch 1 and
/// sequence 128 from `standard`, and longer sequences and batches in `full`.
pub fn configs(ctx: &Ctx) -> Vec<(&'static str, TransformerConfig)> {
    let small = TransformerConfig {
        d_model: 256,
        heads: 4,
        d_ff: 1024,
        seq: 64,
        batch: 1,
    };
    let bert = TransformerConfig::bert_base;
    match ctx.profile {
        Profile::Quick => vec![("custom", small)],
        Profile::Standard => vec![("custom", small), ("bert-base", bert(128, 1))],
        Profile::Full => vec![
            ("custom", small),
            ("bert-base", bert(128, 1)),
            ("bert-base", bert(512, 1)),
            ("bert-base", bert(128, 8)),
        ],
    }
}

pub fn register(suite: &mut Suite, ctx: &Ctx) {
    for (model, config) in configs(ctx) {
        for backend in [Backend::Simd, Backend::Rayon] {
            suite.add(Transformer::new(backend, model, config, ctx));
        }
    }
}
