//! A/A and A/B in one sitting: is the verdict quiet on unchanged code and loud on a real slowdown?
//!
//! Measures a real kernel (`z = a·x + y`, f32, validated against an f64 reference) at three sizes
//! through tensorbench-core's one Sampler, three times: normally (A), doing 10% more work under the
//! same ids (B: the kernel also runs over a tail of n/10 extra elements), and normally again (A').
//! Writes the three run files and compares A→A' (expect no `slower`) and A→B (expect `slower`).
//! The 10% knob lives here, in the example, not in product code.
//!
//! ```text
//! cargo run --release -p tensorbench-analysis --example aa_slowdown -- [OUT_DIR] [PROFILE]
//! ```
//! Exit code 0 when both expectations hold, 1 otherwise.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tensorbench_analysis::{CompareConfig, Comparison, Verdict, compare_runs};
use tensorbench_core::data::uniform_f32;
use tensorbench_core::schema::{DType, Measurement, Peaks, Run, RunStatus, Validation};
use tensorbench_core::workload::validate_against;
use tensorbench_core::{Profile, Sampler, SamplerConfig, Workload, WorkloadSpec, machine, store};

const SIZES: [usize; 3] = [4096, 65_536, 1 << 20];
const A: f32 = 1.5;

/// `z = A·x + y` over `n` elements, plus `extra` more elements when slowed down.
struct Axpy {
    spec: WorkloadSpec,
    n: usize,
    extra: usize,
    x: Vec<f32>,
    y: Vec<f32>,
    z: Vec<f32>,
}

impl Axpy {
    /// `work_factor` 1.0 is the product kernel; 1.1 does 10% more work under the same id.
    fn new(n: usize, work_factor: f64) -> Self {
        let spec = WorkloadSpec::new("aa", "axpy", "scalar", DType::F32)
            .param("n", n)
            .cost(2.0 * n as f64, 12.0 * n as f64)
            .footprint(12 * n as u64);
        let extra = ((work_factor - 1.0) * n as f64).round() as usize;
        Self {
            spec,
            n,
            extra,
            x: Vec::new(),
            y: Vec::new(),
            z: Vec::new(),
        }
    }
}

impl Workload for Axpy {
    fn spec(&self) -> &WorkloadSpec {
        &self.spec
    }

    fn prepare(&mut self, seed: u64) -> tensorbench_core::Result<()> {
        let len = self.n + self.extra;
        self.x = uniform_f32(len, seed);
        self.y = uniform_f32(len, seed ^ 0x5eed);
        self.z = vec![0.0; len];
        Ok(())
    }

    fn execute(&mut self) {
        for ((z, x), y) in self.z.iter_mut().zip(&self.x).zip(&self.y) {
            *z = A * x + y;
        }
        std::hint::black_box(&mut self.z);
    }

    fn validate(&mut self) -> tensorbench_core::Result<Validation> {
        let reference: Vec<f64> = self
            .x
            .iter()
            .zip(&self.y)
            .map(|(&x, &y)| f64::from(A) * f64::from(x) + f64::from(y))
            .collect();
        Ok(validate_against(
            &self.z,
            &reference,
            1e-6,
            "f64 scalar axpy",
        ))
    }
}

fn measure_all(sampler: &mut Sampler, work_factor: f64, seed: u64) -> Vec<Measurement> {
    SIZES
        .iter()
        .map(|&n| sampler.measure(&mut Axpy::new(n, work_factor), seed, &Peaks::new()))
        .collect()
}

fn write_run(dir: &Path, label: &str, profile: Profile, measurements: Vec<Measurement>) -> PathBuf {
    let now = store::now_rfc3339();
    let run = Run {
        schema_version: tensorbench_core::schema::SCHEMA_VERSION,
        run_id: store::new_run_id(&format!("aa-{label}")),
        target: "aa".into(),
        profile: profile.to_string(),
        command: format!("example aa_slowdown ({label})"),
        started_at: now.clone(),
        finished_at: Some(now),
        status: RunStatus::Complete,
        git: machine::git_info(Path::new(".")),
        machine: machine::detect(),
        build_profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .into(),
        config: serde_json::to_value(SamplerConfig::profile(profile)).unwrap_or_default(),
        peaks: Peaks::new(),
        measurements,
    };
    let path = dir.join(format!("{}.json", run.run_id));
    store::write_json_atomic(&path, &run).expect("write run file");
    path
}

fn load(path: &Path) -> Run {
    store::load_run(path).expect("read back run file")
}

fn report(title: &str, c: &Comparison) {
    println!("== {title}\n{}", c.to_table());
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/aa_slowdown".into()));
    let profile: Profile = match args.next().unwrap_or_else(|| "quick".into()).parse() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sampler = Sampler::new(SamplerConfig::profile(profile), 32 << 20);
    let a = write_run(&out, "a", profile, measure_all(&mut sampler, 1.0, 1));
    let b = write_run(&out, "b", profile, measure_all(&mut sampler, 1.1, 2));
    let a2 = write_run(&out, "a2", profile, measure_all(&mut sampler, 1.0, 3));
    println!(
        "run files:\n  A  {}\n  B  {}\n  A' {}",
        a.display(),
        b.display(),
        a2.display()
    );
    let cfg = CompareConfig::default();
    let aa = compare_runs(&load(&a), &load(&a2), &cfg);
    let ab = compare_runs(&load(&a), &load(&b), &cfg);
    report("A/A (unchanged kernel)", &aa);
    report("A/B (10% more work)", &ab);
    let quiet = aa.count(Verdict::Slower) == 0;
    let caught = ab.count(Verdict::Slower);
    println!(
        "A/A: {} slower of {} ids; A/B: {caught} slower of {} ids",
        aa.count(Verdict::Slower),
        aa.items.len(),
        ab.items.len()
    );
    if quiet && caught > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
