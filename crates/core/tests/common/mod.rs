//! Small workloads for testing the harness itself.
#![allow(dead_code)]

use std::collections::VecDeque;
use tensorbench_core::clock::{Clock, ClockSource};
use tensorbench_core::schema::Validation;
use tensorbench_core::workload::validate_against;
use tensorbench_core::{DType, Result, Workload, WorkloadSpec};

/// y = x + 1 over `n` elements; `wrong` plants an off-by-one-element bug.
pub struct AddOne {
    pub spec: WorkloadSpec,
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub wrong: bool,
    pub panic_in_execute: bool,
}

impl AddOne {
    pub fn new(n: usize) -> Self {
        Self {
            spec: WorkloadSpec::new("test", "add_one", "scalar", DType::F32)
                .param("n", n)
                .cost(n as f64, 8.0 * n as f64),
            x: Vec::new(),
            y: Vec::new(),
            wrong: false,
            panic_in_execute: false,
        }
    }
    pub fn named(mut self, op: &str) -> Self {
        let n = self.spec.params["n"].as_u64().unwrap() as usize;
        self.spec = WorkloadSpec::new("test", op, "scalar", DType::F32)
            .param("n", n)
            .cost(n as f64, 8.0 * n as f64);
        self
    }
}

impl Workload for AddOne {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, seed: u64) -> Result<()> {
        let n = self.spec.params["n"].as_u64().unwrap() as usize;
        self.x = tensorbench_core::data::uniform_f32(n, seed);
        self.y = vec![0.0; n];
        Ok(())
    }
    fn execute(&mut self) {
        assert!(!self.panic_in_execute, "planted panic");
        let n = if self.wrong {
            self.x.len() - 1
        } else {
            self.x.len()
        };
        for i in 0..n {
            self.y[i] = self.x[i] + 1.0;
        }
    }
    fn validate(&mut self) -> Result<Validation> {
        let r: Vec<f64> = self.x.iter().map(|&x| f64::from(x) + 1.0).collect();
        Ok(validate_against(&self.y, &r, 1e-6, "f64 scalar"))
    }
}

/// A clock that returns scripted elapsed times (ns per batch), cycling through them.
pub struct FakeClock {
    pub script: VecDeque<f64>,
    pub resolution_ns: f64,
    pub batches: std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
}

impl Clock for FakeClock {
    fn source(&self) -> ClockSource {
        ClockSource::Fake
    }
    fn resolution_ns(&self) -> f64 {
        self.resolution_ns
    }
    fn start(&mut self) -> Result<()> {
        Ok(())
    }
    fn stop(&mut self) -> Result<f64> {
        let v = self.script.pop_front().unwrap_or(1000.0);
        self.script.push_back(v);
        Ok(v)
    }
}

/// A workload that does nothing and is timed by a [`FakeClock`] reporting `per_iter_ns × iters`.
pub struct Scripted {
    pub spec: WorkloadSpec,
    pub per_iter_ns: Vec<f64>,
    pub iters_seen: std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
    pub pending: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub extra: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Scripted {
    pub fn new(per_iter_ns: Vec<f64>) -> Self {
        Self {
            spec: WorkloadSpec::new("test", "scripted", "fake", DType::F32).cost(1e6, 4e6),
            per_iter_ns,
            iters_seen: Default::default(),
            pending: Default::default(),
            extra: Default::default(),
        }
    }
}

/// Counts executes since the last stop, and charges `per_iter` ns for each.
pub struct CountingFakeClock {
    pub per_iter_ns: Vec<f64>,
    pub next: usize,
    pub pending: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub iters_seen: std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
}

impl Clock for CountingFakeClock {
    fn source(&self) -> ClockSource {
        ClockSource::Fake
    }
    fn resolution_ns(&self) -> f64 {
        1.0
    }
    fn start(&mut self) -> Result<()> {
        self.pending.store(0, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
    fn stop(&mut self) -> Result<f64> {
        let iters = self.pending.swap(0, std::sync::atomic::Ordering::SeqCst);
        self.iters_seen.lock().unwrap().push(iters);
        let t = self.per_iter_ns[self.next % self.per_iter_ns.len()];
        self.next += 1;
        Ok(t * iters as f64)
    }
}

/// The device a [`Scripted`] workload is measured on: its scripted clock.
pub struct ScriptedDevice {
    per_iter_ns: Vec<f64>,
    pending: std::sync::Arc<std::sync::atomic::AtomicU64>,
    iters_seen: std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
}

impl tensorbench_core::Device for ScriptedDevice {
    fn clock(&self) -> Result<Box<dyn Clock>> {
        Ok(Box::new(CountingFakeClock {
            per_iter_ns: self.per_iter_ns.clone(),
            next: 0,
            pending: self.pending.clone(),
            iters_seen: self.iters_seen.clone(),
        }))
    }
}

impl Scripted {
    /// The device whose clock charges this workload's script.
    pub fn device(&self) -> ScriptedDevice {
        ScriptedDevice {
            per_iter_ns: self.per_iter_ns.clone(),
            pending: self.pending.clone(),
            iters_seen: self.iters_seen.clone(),
        }
    }
}

impl Workload for Scripted {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }
    fn prepare(&mut self, _seed: u64) -> Result<()> {
        Ok(())
    }
    fn execute(&mut self) {
        self.pending
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn validate(&mut self) -> Result<Validation> {
        Ok(validate_against(&[1.0f32], &[1.0], 0.0, "none"))
    }
    fn extra(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        self.extra.clone()
    }
}
