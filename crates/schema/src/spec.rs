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
    /// Bytes one `execute` touches, where that is less than what it allocates (a validation
    /// reference is never read while timed): what decides the memory level it is judged in.
    /// 0: the footprint.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub working_set_bytes: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
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
            working_set_bytes: 0,
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

    /// Sets the bytes one `execute` touches, when less than the footprint (see
    /// [`WorkloadSpec::working_set_bytes`]).
    pub fn working_set(mut self, bytes: u64) -> Self {
        self.working_set_bytes = bytes;
        self
    }

    /// The bytes that decide the memory level: the working set, else the footprint.
    pub fn placement_bytes(&self) -> u64 {
        if self.working_set_bytes > 0 {
            self.working_set_bytes
        } else {
            self.footprint_bytes
        }
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

    /// An elementwise op over 2^24 elements allocates 320 MiB (its f64 reference too) but touches
    /// 192 MiB while timed: a measurement is placed by the 192, so under a 256 MiB knee it is L3.
    #[test]
    fn a_measurement_is_placed_by_its_working_set_where_it_declares_one() {
        use crate::roofline::FOOTPRINT_KEY;
        let mib = 1u64 << 20;
        let spec = WorkloadSpec::new("cpu-simd", "add", "simd", DType::F32).footprint(320 * mib);
        let placed = |s: &WorkloadSpec| {
            let m = crate::Measurement::skipped(s, Default::default(), "x");
            m.extra[FOOTPRINT_KEY].as_u64()
        };
        assert_eq!(
            placed(&spec),
            Some(320 * mib),
            "no working set: the footprint"
        );
        let spec = spec.working_set(192 * mib);
        assert_eq!(placed(&spec), Some(192 * mib));
        assert_eq!(
            spec.footprint_bytes,
            320 * mib,
            "the memory check still sees it all"
        );
        let listed: WorkloadSpec =
            serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(listed, spec);
    }
}
