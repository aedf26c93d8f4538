//! The `tensorbench-wasm` suite: the same ops natively (scalar, SIMD; one thread) and in each
//! wasm build and runtime, into one run file through core's one driver, with the ratios between
//! them in each wasm measurement's `extra` and a side-by-side table on stderr.
//!
//! Order matters for the ratios: natives first, then the scalar module, then simd128, so each
//! measurement is recorded with the ratios to what it is compared with, as it finishes. Each
//! (module, runtime) pair is an [`Executor`]: the driver hands it its workloads as one batch and
//! records each measurement as the runtime streams it back.

use super::build::{self, Abi, Module, Variant};
use super::runtimes::{self, Found, Runtime};
use super::sizes::{self, WasmSizes};
use crate::Error as WasmError;
use crate::ops::{self, Flavor, KernelWorkload, Point};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::rc::Rc;
use std::time::Duration;
use tensorbench_core::remote::{Batch, Executor};
use tensorbench_core::schema::{Measurement, Status};
use tensorbench_core::suite::{Suite, SuiteError, SuiteOptions};
use tensorbench_core::{Error, SamplerConfig};
use tensorbench_cpu_simd::kernels::simd::Kernels;

/// The wasm suite's own flag, beside every suite flag.
#[derive(Debug, Clone, clap::Args)]
pub struct WasmFlags {
    /// node | chromium | wasmtime | all (comma-separated). wasmtime needs this binary built
    /// with the `wasmtime` feature.
    #[arg(long, default_value = "node,chromium")]
    pub runtime: String,
}

impl WasmFlags {
    /// The runtimes asked for; an unknown name is bad input naming the flag.
    pub fn runtimes(&self) -> Result<Vec<Runtime>, WasmError> {
        if self.runtime == "all" {
            return Ok(Runtime::ALL.to_vec());
        }
        self.runtime
            .split(',')
            .map(|r| {
                Runtime::parse(r.trim()).ok_or_else(|| WasmError::BadInput {
                    flag_or_file: "--runtime".into(),
                    message: format!("--runtime {r:?}: expected node, chromium, wasmtime or all"),
                })
            })
            .collect()
    }
}

/// Registers natives first, then each module in each runtime, and the ratio and summary hooks.
pub fn register(
    suite: &mut Suite,
    opts: &SuiteOptions,
    flags: &WasmFlags,
) -> Result<(), SuiteError> {
    let runtimes = flags.runtimes().map_err(Error::from)?;
    suite.refuse("--cold", "not supported by the wasm suite: the module's sampler cannot flush the host's caches from linear memory");
    suite.refuse(
        "--threads",
        "not supported by the wasm suite: wasm32 and its native partners run on one thread",
    );
    suite.refuse(
        "--dump-tensors",
        "not supported by the wasm suite: it has no peers to cross-check",
    );
    suite.config("threads", 1);
    suite.config("wasm_bindgen", build::WASM_BINDGEN_VERSION);
    let found: serde_json::Map<String, Value> = runtimes
        .iter()
        .map(|&r| match runtimes::detect(r) {
            Ok(f) => (r.name().to_string(), json!(f.version)),
            Err(e) => (r.name().to_string(), json!({ "missing": e.to_string() })),
        })
        .collect();
    suite.config("runtimes", Value::Object(found));
    let points = ops::catalog(opts.profile);
    let natives = [
        ("native-scalar", Flavor::Scalar),
        ("native-simd", Flavor::Simd(Kernels::best())),
    ];
    for (backend, flavor) in natives {
        for &point in &points {
            suite.add(KernelWorkload::new(point, flavor, backend, None));
        }
    }
    let max_time_s = SamplerConfig::profile(opts.profile).max_time_s;
    for variant in Variant::ALL {
        for &runtime in &runtimes {
            let specs = points
                .iter()
                .map(|&p| ops::spec(p, variant.backend(), Some(runtime.name())))
                .collect();
            let executor = WasmExecutor::new(variant, runtime, max_time_s);
            suite.add_remote(Box::new(executor), specs);
        }
    }
    let medians = Rc::new(RefCell::new(Medians::default()));
    let on_record = medians.clone();
    suite.on_record(move |m| {
        let mut medians = on_record.borrow_mut();
        medians.add(m);
        let ratios = medians.ratios(m);
        m.extra.extend(ratios);
        print_line(m);
    });
    let names: Vec<&'static str> = runtimes.iter().map(|r| r.name()).collect();
    suite.on_finish(move |run| print_summary(&medians.borrow(), &points, &names, run));
    Ok(())
}

/// One module in one runtime, measuring the workloads the driver hands it.
struct WasmExecutor {
    variant: Variant,
    runtime: Runtime,
    /// Silence longer than this means the runtime hung: the sampler caps every workload.
    idle: Duration,
    ready: Option<(Found, Module, WasmSizes)>,
}

impl WasmExecutor {
    fn new(variant: Variant, runtime: Runtime, max_time_s: f64) -> Self {
        Self {
            variant,
            runtime,
            idle: Duration::from_secs_f64(60.0 + max_time_s * 3.0),
            ready: None,
        }
    }

    fn failure(&self, reason: impl std::fmt::Display) -> Error {
        Error::workload(
            format!("wasm {} in {}", self.variant.name(), self.runtime.name()),
            reason.to_string(),
        )
    }

    /// Finds the runtime, builds the module it loads and measures its size.
    fn get_ready(&self) -> Result<(Found, Module, WasmSizes), WasmError> {
        let found = runtimes::detect(self.runtime)?;
        let (check, build): (fn() -> _, fn(Variant) -> _) = match self.runtime.abi() {
            Abi::Bindgen => (build::check_toolchain, build::build),
            Abi::Cabi => (build::check_target, build::build_cabi),
        };
        check()?;
        let name = self.variant.backend();
        let module: Module = build(self.variant)
            .map_err(|e: anyhow::Error| WasmError::module(name, format!("{e:#}")))?;
        let path = module.wasm.display().to_string();
        let bytes = std::fs::read(&module.wasm)
            .map_err(|e| WasmError::module(name, format!("{path}: {e}")))?;
        let sizes = sizes::measure(&bytes).map_err(|e| WasmError::module(name, e.to_string()))?;
        Ok((found, module, sizes))
    }
}

impl Executor for WasmExecutor {
    fn prepare(&mut self) -> tensorbench_core::Result<BTreeMap<String, Value>> {
        let key = format!("wasm/{}/{}", self.variant.backend(), self.runtime.name());
        let ready = self.get_ready().map_err(|e| {
            eprintln!("{key}: {e}");
            self.failure(e)
        })?;
        let facts = json!({"runtime_version": ready.0.version, "sizes": ready.2});
        self.ready = Some(ready);
        Ok(BTreeMap::from([(key, facts)]))
    }

    fn run(
        &mut self,
        batch: &Batch<'_>,
        record: &mut dyn FnMut(Measurement) -> ControlFlow<()>,
    ) -> tensorbench_core::Result<()> {
        let (found, module, wasm_sizes) = self
            .ready
            .as_ref()
            .ok_or_else(|| self.failure("not prepared"))?;
        eprintln!(
            "running the {} module in {}",
            self.variant.name(),
            found.device()
        );
        let request = json!({
            "profile": batch.profile, "seed": batch.seeds.first().copied().unwrap_or(0),
            "runtime": found.runtime.name(),
            "ids": batch.specs.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            "seeds": batch.seeds,
        });
        let mut facts = BTreeMap::new();
        let streamed = runtimes::stream(found, module, &request, self.idle, &mut |line| {
            if let Some(ready) = line.get("ready") {
                facts = module_facts(found, wasm_sizes, ready);
                return ControlFlow::Continue(());
            }
            let Some(m) = line.get("measurement") else {
                return ControlFlow::Continue(());
            };
            let mut m: Measurement = match serde_json::from_value(m.clone()) {
                Ok(m) => m,
                Err(_) => return ControlFlow::Break(()),
            };
            m.device = found.device();
            m.extra.extend(facts.clone());
            m.extra.insert(
                "memory_high_water_bytes".into(),
                line["memory_bytes"].clone(),
            );
            record(m)
        });
        streamed.map_err(|e| self.failure(format!("{e:#}")))
    }
}

/// Medians by (op + params without the runtime, backend + runtime), for the ratios.
#[derive(Default)]
struct Medians(BTreeMap<(String, String), f64>);

impl Medians {
    /// `op/params` without the runtime: what native and wasm measurements of a point share.
    fn point(op: &str, params: &BTreeMap<String, Value>) -> String {
        let params: Vec<String> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "runtime")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{op}/{}", params.join(","))
    }

    fn key(m: &Measurement) -> (String, String) {
        let runtime = m
            .params
            .get("runtime")
            .and_then(Value::as_str)
            .unwrap_or("");
        (
            Self::point(&m.op, &m.params),
            format!("{}@{runtime}", m.backend),
        )
    }

    fn add(&mut self, m: &Measurement) {
        if let (Status::Ok, Some(s)) = (m.status, &m.stats) {
            self.0.insert(Self::key(m), s.median_ns);
        }
    }

    fn get(&self, point: &str, backend: &str) -> Option<f64> {
        self.0
            .get(&(point.to_string(), backend.to_string()))
            .copied()
    }

    /// `speedup_vs_*` = the other's median over this one's (above 1: this one is faster).
    fn ratios(&self, m: &Measurement) -> Vec<(String, Value)> {
        let Some(me) = m.stats.as_ref().map(|s| s.median_ns) else {
            return Vec::new();
        };
        let (point, _) = Self::key(m);
        let runtime = m
            .params
            .get("runtime")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut others = vec![
            ("native_scalar", "native-scalar@".to_string()),
            ("native_simd", "native-simd@".to_string()),
        ];
        if m.backend == Variant::Simd128.backend() {
            others.push(("wasm_scalar", format!("wasm-scalar@{runtime}")));
        }
        let own = format!("{}@{runtime}", m.backend);
        others
            .into_iter()
            .filter(|(_, b)| *b != own)
            .filter_map(|(name, b)| {
                let o = self.get(&point, &b)?;
                Some((format!("speedup_vs_{name}"), json!(o / me)))
            })
            .collect()
    }
}

/// What every measurement of one module in one runtime records beside its figures.
fn module_facts(found: &Found, sizes: &WasmSizes, reply: &Value) -> BTreeMap<String, Value> {
    let cold = &reply["cold_start"];
    let mut facts = BTreeMap::from([
        ("runtime".to_string(), json!(found.runtime.name())),
        ("runtime_version".to_string(), json!(found.version)),
        ("wasm_bytes".to_string(), json!(sizes.raw)),
        ("wasm_gzip_bytes".to_string(), json!(sizes.gzip)),
        ("wasm_brotli_bytes".to_string(), json!(sizes.brotli)),
        ("cold_fetch_ms".to_string(), cold["fetch_ms"].clone()),
        ("cold_compile_ms".to_string(), cold["compile_ms"].clone()),
        (
            "cold_instantiate_ms".to_string(),
            cold["instantiate_ms"].clone(),
        ),
        (
            "memory_high_water_bytes".to_string(),
            reply["memory_bytes"].clone(),
        ),
    ]);
    if let Some(iso) = reply.get("cross_origin_isolated") {
        facts.insert("cross_origin_isolated".into(), iso.clone());
    }
    facts
}

/// One line per measurement on stderr: the median and the ratios beside it.
fn print_line(m: &Measurement) {
    let median = m
        .stats
        .as_ref()
        .map(|s| format!("{:>12.0} ns", s.median_ns));
    let ratios: Vec<String> = m
        .extra
        .iter()
        .filter(|(k, _)| k.starts_with("speedup_vs_"))
        .map(|(k, v)| {
            format!(
                "{}={:.2}",
                &k["speedup_vs_".len()..],
                v.as_f64().unwrap_or(f64::NAN)
            )
        })
        .collect();
    eprintln!(
        "{:<60} {:>8} {} {}",
        m.id,
        format!("{:?}", m.status).to_lowercase(),
        median.unwrap_or_else(|| m.reason.clone().unwrap_or_default()),
        ratios.join(" ")
    );
}

/// The side-by-side table on stderr: each point's medians (µs) natively and per runtime, with the
/// ratios the wasm target is judged by; then each module's size and cold start.
fn print_summary(
    medians: &Medians,
    points: &[Point],
    runtimes: &[&str],
    run: &tensorbench_core::Run,
) {
    let us = |v: Option<f64>| v.map_or("-".to_string(), |ns| format!("{:.2}", ns / 1e3));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", a / b),
        _ => "-".to_string(),
    };
    eprintln!(
        "\nmedians in µs; simd/scalar = wasm-scalar ÷ wasm-simd128 time; simd/native = native-simd ÷ wasm-simd128 time"
    );
    let mut head = format!("{:<34} {:>10} {:>10}", "op/params", "nat-scal", "nat-simd");
    for r in runtimes {
        head += &format!(
            " | {:>9} {:>9} {:>11} {:>11}",
            format!("{r}:scal"),
            "simd128",
            "simd/scalar",
            "simd/native"
        );
    }
    eprintln!("{head}");
    for &p in points {
        let spec = ops::spec(p, "native-simd", None);
        let point = Medians::point(&spec.op, &spec.params);
        let point = point.as_str();
        if !medians.0.keys().any(|(q, _)| q == point) {
            continue; // filtered out
        }
        let nat_simd = medians.get(point, "native-simd@");
        let mut line = format!(
            "{point:<34} {:>10} {:>10}",
            us(medians.get(point, "native-scalar@")),
            us(nat_simd)
        );
        for r in runtimes {
            let sc = medians.get(point, &format!("wasm-scalar@{r}"));
            let si = medians.get(point, &format!("wasm-simd128@{r}"));
            line += &format!(
                " | {:>9} {:>9} {:>11} {:>11}",
                us(sc),
                us(si),
                ratio(sc, si),
                ratio(nat_simd, si)
            );
        }
        eprintln!("{line}");
    }
    let mut seen = std::collections::BTreeSet::new();
    for m in &run.measurements {
        let Some(rt) = m.extra.get("runtime").and_then(Value::as_str) else {
            continue;
        };
        if !seen.insert((m.backend.clone(), rt.to_string())) {
            continue;
        }
        let f = |k: &str| m.extra.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
        eprintln!(
            "{:<13} in {:<24} .wasm {:.0} B raw, {:.0} B gzip, {:.0} B brotli; cold start: fetch {:.2} ms, compile {:.2} ms, instantiate {:.2} ms; linear memory high-water {:.1} MiB",
            m.backend,
            m.device,
            f("wasm_bytes"),
            f("wasm_gzip_bytes"),
            f("wasm_brotli_bytes"),
            f("cold_fetch_ms"),
            f("cold_compile_ms"),
            f("cold_instantiate_ms"),
            f("memory_high_water_bytes") / (1 << 20) as f64
        );
    }
}
