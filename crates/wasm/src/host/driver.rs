//! The `tensorbench-wasm` driver: the same ops natively (scalar, SIMD; one thread) and in each
//! wasm build and runtime, into one run file, with the ratios between them in each wasm
//! measurement's `extra` and a side-by-side table on stderr.
//!
//! Order matters for the ratios: natives first, then the scalar module, then simd128, so each
//! measurement is recorded with the ratios to what it is compared with, as it finishes.

use super::build::{self, Abi, Module, Variant};
use super::runtimes::{self, Found, Runtime};
use super::sizes::{self, WasmSizes};
use crate::ops::{self, Flavor, KernelWorkload, Point};
use anyhow::Result;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tensorbench_core::sampler::skipped;
use tensorbench_core::schema::{CacheMode, Measurement, RunStatus, Status};
use tensorbench_core::store::{self, RunWriter};
use tensorbench_core::suite::{self, SuiteOptions, exit};
use tensorbench_core::{Sampler, SamplerConfig, Workload, WorkloadSpec, machine};
use tensorbench_cpu_simd::kernels::simd::Kernels;

/// A module ready to run with its sizes, or why it is not.
type Ready = std::result::Result<(Module, WasmSizes), String>;

/// One variant's modules: wasm-bindgen (JavaScript runtimes), C ABI (wasmtime); each only when
/// a selected runtime needs it.
struct Built {
    variant: Variant,
    bindgen: Option<Ready>,
    cabi: Option<Ready>,
}

impl Built {
    fn for_abi(&self, abi: Abi) -> Option<&Ready> {
        match abi {
            Abi::Bindgen => self.bindgen.as_ref(),
            Abi::Cabi => self.cabi.as_ref(),
        }
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

/// Everything the run needs to know before it starts.
pub struct Plan {
    pub runtimes: Vec<Runtime>,
}

pub fn run(opts: &SuiteOptions, plan: &Plan) -> std::result::Result<u8, suite::SuiteError> {
    let bad = suite::SuiteError::BadInput;
    let config = SamplerConfig::profile(opts.profile);
    let filter = match &opts.filter {
        Some(f) => Some(regex::Regex::new(f).map_err(|e| {
            bad(format!(
                "--filter {f:?} is not a valid regular expression: {e}"
            ))
        })?),
        None => None,
    };
    let wanted = |id: &str| filter.as_ref().is_none_or(|re| re.is_match(id));
    let points = ops::catalog(opts.profile);
    let found: Vec<(Runtime, std::result::Result<Found, String>)> = plan
        .runtimes
        .iter()
        .map(|&r| (r, runtimes::detect(r).map_err(|m| m.to_string())))
        .collect();
    if opts.list {
        for id in all_ids(&points, &found).into_iter().filter(|id| wanted(id)) {
            println!("{id}");
        }
        return Ok(exit::OK);
    }
    let built: Vec<Built> = Variant::ALL
        .iter()
        .map(|&v| build_variant(v, &plan.runtimes))
        .collect();
    let mut writer = open_writer(opts, &config, &found, &built)?;
    emit(
        opts,
        json!({"event": "run", "run_id": writer.run().run_id, "stream": writer.stream_path()}),
    );
    let seed = opts.seed.unwrap_or_else(clock_seed);
    let mut sampler = Sampler::new(config.clone(), 0);
    let mut medians = Medians::default();
    let mut code = exit::OK;
    let mut record = |w: &mut RunWriter, m: Measurement| -> Result<(), suite::SuiteError> {
        if matches!(m.status, Status::Failed | Status::Invalid) {
            code = exit::SOME_FAILED;
        }
        emit(
            opts,
            json!({"event": "done", "id": m.id, "status": m.status}),
        );
        medians.add(&m);
        let mut m = m;
        m.extra.extend(medians.ratios(&m));
        print_line(&m);
        w.record(m)?;
        Ok(())
    };
    let natives = [
        ("native-scalar", Flavor::Scalar),
        ("native-simd", Flavor::Simd(Kernels::best())),
    ];
    for (backend, flavor) in natives {
        for (index, &point) in points.iter().enumerate() {
            let mut w = KernelWorkload::new(point, flavor, backend, None);
            if !wanted(&w.spec().id) {
                continue;
            }
            emit(
                opts,
                json!({"event": "start", "id": w.spec().id, "spec": w.spec()}),
            );
            let s = seed.wrapping_add(index as u64 * 0x9E37_79B9);
            let m = suite::measure_isolated(&mut w, &mut sampler, s, &Default::default());
            record(&mut writer, m)?;
        }
    }
    for b in &built {
        for (runtime, f) in &found {
            let specs: Vec<WorkloadSpec> = points
                .iter()
                .map(|&p| ops::spec(p, b.variant.backend(), Some(runtime.name())))
                .filter(|s| wanted(&s.id))
                .collect();
            if specs.is_empty() {
                continue;
            }
            let Some(ready) = b.for_abi(runtime.abi()) else {
                continue;
            };
            for m in run_module(b.variant, ready, f, &specs, opts, seed, &config) {
                record(&mut writer, m)?;
            }
        }
    }
    let runtime_names: Vec<&str> = found.iter().map(|(r, _)| r.name()).collect();
    print_summary(&medians, &points, &runtime_names, writer.run());
    let path = writer.finish(RunStatus::Complete)?;
    emit(
        opts,
        json!({"event": "finished", "path": path, "status": RunStatus::Complete}),
    );
    eprintln!("run file: {}", path.display());
    Ok(code)
}

fn all_ids(
    points: &[Point],
    found: &[(Runtime, std::result::Result<Found, String>)],
) -> Vec<String> {
    let mut ids = Vec::new();
    for backend in ["native-scalar", "native-simd"] {
        ids.extend(points.iter().map(|&p| ops::spec(p, backend, None).id));
    }
    for v in Variant::ALL {
        for (r, _) in found {
            ids.extend(
                points
                    .iter()
                    .map(|&p| ops::spec(p, v.backend(), Some(r.name())).id),
            );
        }
    }
    ids
}

fn build_variant(variant: Variant, runtimes: &[Runtime]) -> Built {
    let wants = |abi| runtimes.iter().any(|r| r.abi() == abi);
    let ready = |abi: Abi| -> Ready {
        let (check, build): (fn() -> _, fn(Variant) -> _) = match abi {
            Abi::Bindgen => (build::check_toolchain, build::build),
            Abi::Cabi => (build::check_target, build::build_cabi),
        };
        let ready = check()
            .map_err(|m| m.to_string())
            .and_then(|()| build(variant).map_err(|e: anyhow::Error| format!("{e:#}")))
            .and_then(|m: Module| {
                let bytes =
                    std::fs::read(&m.wasm).map_err(|e| format!("{}: {e}", m.wasm.display()))?;
                let s = sizes::measure(&bytes).map_err(|e| e.to_string())?;
                Ok((m, s))
            });
        if let Err(e) = &ready {
            eprintln!("wasm {} ({abi:?}): {e}", variant.name());
        }
        ready
    };
    Built {
        variant,
        bindgen: wants(Abi::Bindgen).then(|| ready(Abi::Bindgen)),
        cabi: wants(Abi::Cabi).then(|| ready(Abi::Cabi)),
    }
}

/// Runs one module in one runtime; everything it could not run is `skipped` or `failed` with
/// the reason, one measurement per spec.
fn run_module(
    variant: Variant,
    ready: &Ready,
    found: &std::result::Result<Found, String>,
    specs: &[WorkloadSpec],
    opts: &SuiteOptions,
    seed: u64,
    config: &SamplerConfig,
) -> Vec<Measurement> {
    let all_skipped = |reason: &str, status: Status| -> Vec<Measurement> {
        specs
            .iter()
            .map(|s| {
                let mut m = skipped(s, CacheMode::Hot, reason.to_string());
                m.status = status;
                m
            })
            .collect()
    };
    let (module, wasm_sizes) = match ready {
        Ok(m) => m,
        Err(e) => return all_skipped(e, Status::Skipped),
    };
    let found = match found {
        Ok(f) => f,
        Err(e) => return all_skipped(e, Status::Skipped),
    };
    let runtime = found.runtime.name();
    eprintln!(
        "running the {} module in {}",
        variant.name(),
        found.device()
    );
    let request = json!({
        "profile": opts.profile, "seed": seed, "runtime": runtime,
        "ids": specs.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
    });
    // Generous: every workload is capped by the sampler, plus build-free start-up.
    let timeout =
        Duration::from_secs_f64(60.0 + specs.len() as f64 * (config.max_time_s * 3.0 + 5.0));
    let reply = match runtimes::execute(found, module, &request, timeout) {
        Ok(r) => r,
        Err(e) => return all_skipped(&format!("{e:#}"), Status::Failed),
    };
    let measurements: Vec<Measurement> = match serde_json::from_value(reply["measurements"].clone())
    {
        Ok(m) => m,
        Err(e) => {
            return all_skipped(
                &format!("unreadable reply from {runtime}: {e}"),
                Status::Failed,
            );
        }
    };
    let facts = module_facts(found, wasm_sizes, &reply);
    measurements
        .into_iter()
        .map(|mut m| {
            m.device = found.device();
            m.extra.extend(facts.clone());
            m
        })
        .collect()
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

fn open_writer(
    opts: &SuiteOptions,
    config: &SamplerConfig,
    found: &[(Runtime, std::result::Result<Found, String>)],
    built: &[Built],
) -> std::result::Result<RunWriter, suite::SuiteError> {
    let machine = machine::detect();
    let dir = opts
        .out
        .join(store::machine_slug(machine.hostname.as_deref()));
    let runtimes: BTreeMap<&str, Value> = found
        .iter()
        .map(|(r, f)| match f {
            Ok(f) => (r.name(), json!(f.version)),
            Err(e) => (r.name(), json!({ "missing": e })),
        })
        .collect();
    let mut modules: BTreeMap<String, Value> = BTreeMap::new();
    for b in built {
        for (abi, ready) in [("bindgen", &b.bindgen), ("cabi", &b.cabi)] {
            let key = format!("{}/{abi}", b.variant.backend());
            match ready {
                Some(Ok((_, s))) => modules.insert(key, json!(s)),
                Some(Err(e)) => modules.insert(key, json!({ "missing": e })),
                None => None,
            };
        }
    }
    let config = json!({
        "sampler": config,
        "threads": 1,
        "filter": opts.filter,
        "seed": opts.seed,
        "runtimes": runtimes,
        "wasm_bindgen": build::WASM_BINDGEN_VERSION,
        "wasm_modules": modules,
    });
    let run = suite::new_run("wasm", opts, machine, config);
    Ok(RunWriter::create(&dir, run)?)
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn emit(opts: &SuiteOptions, event: Value) {
    if opts.events {
        println!("{event}");
    }
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
