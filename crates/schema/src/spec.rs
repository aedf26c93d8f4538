//! The static description of a benchmark: one op at one parameter point, its stable id and its
//! cost model (FLOPs and minimal bytes). The `Workload` trait that runs it lives in
//! tensorbench-core; this half is data, shared by run files and progress events.

use crate::schema::DType;
use std::collections::BTreeMap;

/// The static description of a workload: everything but the data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadSpec {
    /// Stable across runs and machines; what comparisons join on, e.g. `cpu-simd/add/f32/n=1024`.
    pub id: String,
    /// The op, e.g. `add`, `gemm` (see `tensorbench_ops::op`).
    pub op: String,
    /// Kernel family, e.g. `scalar`, `simd`, `rayon`, `ndarray`, `cuda`.
    pub backend: String,
    /// Where it runs, e.g. `cpu`, `cuda:0`.
    pub device: String,
    /// Element type of the op's data.
    pub dtype: DType,
    /// The parameter point, e.g. `n`, or `m`, `n`, `k`; part of the id.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Floating-point operations of one `execute`.
    pub flops: f64,
    /// Minimal bytes one `execute` must move (read + write), with no reuse beyond the ideal.
    pub bytes: f64,
    /// Threads the kernel uses.
    pub threads: usize,
    /// Bytes of memory the workload allocates in `prepare`, so the runner can skip what won't fit.
    pub footprint_bytes: u64,
}

impl WorkloadSpec {
    /// A spec whose id is built from its parts: `{suite}/{op}/{dtype}/{k=v,...}` plus the backend.
    /// Parameters are listed in key order, so ids are stable.
    pub fn new(suite: &str, op: &str, backend: &str, dtype: DType) -> Self {
        Self {
            id: String::new(),
            op: op.to_string(),
            backend: backend.to_string(),
            device: "cpu".to_string(),
            dtype,
            params: BTreeMap::new(),
            flops: 0.0,
            bytes: 0.0,
            threads: 1,
            footprint_bytes: 0,
        }
        .with_suite(suite)
    }

    fn with_suite(mut self, suite: &str) -> Self {
        self.id = suite.to_string();
        self.rebuild_id();
        self
    }

    /// Adds a parameter and keeps the id in step with it.
    pub fn param(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.params.insert(key.to_string(), value.into());
        self.rebuild_id();
        self
    }

    /// Sets the cost model: FLOPs and minimal bytes moved by one `execute`.
    pub fn cost(mut self, flops: f64, bytes: f64) -> Self {
        self.flops = flops;
        self.bytes = bytes;
        self
    }

    /// Sets the threads the kernel uses.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Sets where it runs (`cpu` unless set).
    pub fn device(mut self, device: &str) -> Self {
        self.device = device.to_string();
        self
    }

    /// Sets the bytes `prepare` allocates.
    pub fn footprint(mut self, bytes: u64) -> Self {
        self.footprint_bytes = bytes;
        self
    }

    fn rebuild_id(&mut self) {
        let suite = self.id.split('/').next().unwrap_or_default().to_string();
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect();
        self.id = format!(
            "{suite}/{}/{}/{}/{}",
            self.op,
            self.backend,
            self.dtype.name(),
            params.join(",")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_built_from_sorted_params() {
        let s = WorkloadSpec::new("cpu-simd", "gemm", "simd", DType::F32)
            .param("n", 64)
            .param("m", 32)
            .param("layout", "nn");
        assert_eq!(s.id, "cpu-simd/gemm/simd/f32/layout=nn,m=32,n=64");
    }
}
