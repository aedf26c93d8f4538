//! `cargo xtask ab BASE [HEAD]`: a paired, interleaved A/B of two builds in one sitting.
//!
//! Both builds are served side by side (`--serve`) and sampled in alternating short legs, round
//! after round, each round in fresh processes with one input seed per id for both. Each round
//! gives each id a ratio HEAD/BASE; `tensorbench_analysis::paired` turns the rounds into a
//! hierarchical CI, an MDE and a verdict. Undecided ids get more rounds, up to `--rounds` or
//! `--time-budget`. See `docs/METHODOLOGY.md` §7b.
//!
//! Exit codes: 0 no confirmed regression; 1 at least one `slower`; 2 bad input (a flag, an
//! unknown revision, a missing binary); 3 a build failed or a suite could not be served.

mod builds;
mod output;
mod rounds;
mod server;

pub use output::paired_path;

use crate::targets::{self, Launcher, Target};
use crate::{BadInput, bad_input};
use anyhow::Result;
use builds::Build;
use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rounds::{Paired, Plan, Sides};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tensorbench_analysis::paired::{self, PairedConfig, PairedResult, Round};
use tensorbench_core::schema::Status;
use tensorbench_core::suite::profile_parser;
use tensorbench_core::{Profile, WorkloadSpec};

#[derive(Debug, Clone, Args)]
pub struct AbArgs {
    /// The baseline build: a git revision (omit with --base-bin).
    pub base: Option<String>,
    /// The new build: a git revision (default: the working tree).
    pub head: Option<String>,
    /// cpu (default) | gpu | wgpu | cuda | wasm (in-process workloads only).
    #[arg(long, default_value = "cpu")]
    pub target: String,
    /// How much of the size range to cover, and how long each leg samples.
    #[arg(long, default_value_t = Profile::Quick, value_parser = profile_parser())]
    pub profile: Profile,
    /// Only workloads whose id matches this regular expression.
    #[arg(long)]
    pub filter: Option<String>,
    /// Threads for parallel kernels (default: all logical cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Flush caches before every sample.
    #[arg(long)]
    pub cold: bool,
    /// Most rounds per id (undecided ids get more rounds, up to this).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(4..=200))]
    pub rounds: u64,
    /// Smallest relative change that counts (0.01 = ±1%).
    #[arg(long, default_value_t = 0.01)]
    pub threshold: f64,
    /// Overall false-alarm rate per id, across every look.
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Seconds after which no new round starts.
    #[arg(long, default_value_t = 540, value_parser = clap::value_parser!(u64).range(1..))]
    pub time_budget: u64,
    /// Seconds one request to a suite (prepare, or one leg) may take before it is failed.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Seed of the inputs, the orders and the resampling (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,
    /// A prebuilt suite binary as BASE (with --head-bin; instead of revisions).
    #[arg(long, requires = "head_bin", conflicts_with = "base")]
    pub base_bin: Option<PathBuf>,
    /// A prebuilt suite binary as HEAD (with --base-bin).
    #[arg(long, requires = "base_bin")]
    pub head_bin: Option<PathBuf>,
    /// Results directory: the paired run goes to `<out>/<machine>/<run-id>.json`.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Do not write the HTML report beside the run file.
    #[arg(long)]
    pub no_report: bool,
}

/// What the rounds left for one id.
#[derive(Debug, Default)]
pub struct IdState {
    pub rounds: Vec<Round>,
    /// Each round's legs, in the order they ran (for diagnosing a noisy round).
    pub legs: Vec<Vec<rounds::Leg>>,
    pub result: Option<PairedResult>,
    /// Why it was not compared (skipped, failed or invalid on a side), when it was not.
    pub not_timed: Option<(Status, String)>,
}

impl IdState {
    /// Skipped on a side: not a failure, just not comparable here.
    pub fn skipped(&self) -> bool {
        matches!(self.not_timed, Some((Status::Skipped, _)))
    }
}

pub fn run(args: &AbArgs) -> Result<u8> {
    Ok(paired(args)?.0)
}

/// Runs the A/B; returns its exit code and its verdicts (for `ci --base`).
pub fn paired(args: &AbArgs) -> Result<(u8, tensorbench_analysis::Comparison)> {
    let target = check_args(args)?;
    let sides = resolve_builds(args, target)?;
    let started = Instant::now();
    let seed = args.seed.unwrap_or_else(clock_seed);
    let specs = shared_specs(&sides, target, args)?;
    let cfg = PairedConfig {
        threshold: args.threshold,
        alpha: args.alpha,
        looks: paired::looks(args.rounds as usize).len(),
        ..PairedConfig::default()
    };
    let states = run_rounds(&sides, target, args, &specs, &cfg, seed, started)?;
    let outcome = output::Outcome {
        sides: &sides,
        target,
        cfg: &cfg,
        specs: &specs,
        states: &states,
        seed,
        elapsed: started.elapsed(),
    };
    output::finish(args, &outcome)
}

fn check_args(args: &AbArgs) -> Result<&'static Target> {
    if let Some(f) = &args.filter
        && let Err(e) = regex::Regex::new(f)
    {
        bad_input!("--filter {f:?} is not a valid regular expression: {e}");
    }
    if !(args.threshold > 0.0 && args.threshold < 1.0) {
        bad_input!(
            "--threshold {}: expected a fraction in (0, 1), e.g. 0.01 for ±1%",
            args.threshold
        );
    }
    if !(args.alpha > 0.0 && args.alpha < 0.5) {
        bad_input!("--alpha {}: expected a rate in (0, 0.5)", args.alpha);
    }
    if args.base.is_none() && args.base_bin.is_none() {
        bad_input!("ab needs BASE (a git revision) or --base-bin and --head-bin");
    }
    if args.out.is_file() {
        bad_input!(
            "--out {}: is a file, expected a directory",
            args.out.display()
        );
    }
    let [target] = targets::resolve(&args.target)?[..] else {
        bad_input!("--target {}: ab compares one target at a time", args.target);
    };
    if target.launcher == Launcher::Mpirun {
        bad_input!(
            "--target {}: its ranks run under mpirun, which `ab` does not serve yet",
            target.name
        );
    }
    Ok(target)
}

/// BASE and HEAD's binaries, revisions checked before anything builds.
fn resolve_builds(args: &AbArgs, target: &Target) -> Result<[Build; 2]> {
    if let (Some(b), Some(h)) = (&args.base_bin, &args.head_bin) {
        return Ok([
            builds::prebuilt("--base-bin", b)?,
            builds::prebuilt("--head-bin", h)?,
        ]);
    }
    let base = args.base.as_deref().expect("checked");
    builds::resolve_commit(base)?;
    if let Some(h) = &args.head {
        builds::resolve_commit(h)?;
    }
    let base = builds::at_revision(base, target, target.features)?;
    let head = match &args.head {
        Some(h) => builds::at_revision(h, target, target.features)?,
        None => builds::working_tree(target, target.features)?,
    };
    Ok([base, head])
}

/// The selection flags both servers get.
fn serve_args(args: &AbArgs) -> Vec<String> {
    let mut a = vec!["--profile".into(), args.profile.to_string()];
    if let Some(f) = &args.filter {
        a.extend(["--filter".into(), f.clone()]);
    }
    if let Some(t) = args.threads {
        a.extend(["--threads".into(), t.to_string()]);
    }
    if args.cold {
        a.push("--cold".into());
    }
    a
}

/// Specs of the workloads both builds register for this selection (probes are not compared).
fn shared_specs(sides: &[Build; 2], target: &Target, args: &AbArgs) -> Result<Vec<WorkloadSpec>> {
    let base = list_specs(&sides[0], target, args)?;
    let head = list_specs(&sides[1], target, args)?;
    let specs: Vec<WorkloadSpec> = head
        .iter()
        .filter(|s| base.iter().any(|b| b.id == s.id) && !s.id.contains("-probe/"))
        .cloned()
        .collect();
    if specs.is_empty() {
        return Err(BadInput(format!(
            "no workload is in both builds' selection (BASE {}, HEAD {})",
            base.len(),
            head.len()
        ))
        .into());
    }
    Ok(specs)
}

fn list_specs(build: &Build, target: &Target, args: &AbArgs) -> Result<Vec<WorkloadSpec>> {
    let out = std::process::Command::new(&build.binary)
        .arg("--list-json")
        .args(serve_args(args))
        .envs(target_env(target))
        .output()
        .map_err(|e| crate::Infrastructure(format!("running {}: {e}", build.binary.display())))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => {}
        Some(2) => bad_input!("{} refused the selection: {}", build.label, stderr.trim()),
        _ => {
            return Err(crate::Infrastructure(format!(
                "{} --list-json failed ({}): {}",
                build.binary.display(),
                out.status,
                stderr.trim()
            ))
            .into());
        }
    }
    serde_json::from_slice(&out.stdout).map_err(|e| {
        crate::Infrastructure(format!(
            "{} --list-json printed no spec list: {e}",
            build.binary.display()
        ))
        .into()
    })
}

/// Leg length and legs per round: a leg is 50 of the profile's samples, so both sides see many
/// short, alternating stretches of the machine.
fn plan(args: &AbArgs, target: &Target, specs: &[WorkloadSpec]) -> Plan {
    let cfg = tensorbench_core::SamplerConfig::profile(args.profile);
    Plan {
        legs: 6,
        leg: Duration::from_secs_f64(cfg.sample_target_s * 50.0),
        timeout: Duration::from_secs(args.timeout),
        args: serve_args(args),
        env: target_env(target),
        single_threaded: specs
            .iter()
            .filter(|s| s.threads == 1)
            .map(|s| s.id.clone())
            .collect(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

fn target_env(target: &Target) -> Vec<(String, String)> {
    target
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn run_rounds(
    sides: &[Build; 2],
    target: &Target,
    args: &AbArgs,
    specs: &[WorkloadSpec],
    cfg: &PairedConfig,
    seed: u64,
    started: Instant,
) -> Result<BTreeMap<String, IdState>> {
    let plan = plan(args, target, specs);
    let looks = paired::looks(args.rounds as usize);
    let servers = Sides {
        binaries: [&sides[0].binary, &sides[1].binary],
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut states: BTreeMap<String, IdState> = specs
        .iter()
        .map(|s| (s.id.clone(), IdState::default()))
        .collect();
    let budget = Duration::from_secs(args.time_budget);
    let mut last_round = Duration::ZERO;
    for round in 1..=*looks.last().expect("one look at least") {
        let open = open_ids(&states);
        if open.is_empty() || (round > 1 && started.elapsed() + last_round > budget) {
            break;
        }
        let t = Instant::now();
        for (id, paired) in rounds::run_round(&servers, &plan, &open, &mut rng)? {
            let state = states.get_mut(&id).expect("open ids are states");
            match paired {
                Paired::Sampled(r, legs) => {
                    state.rounds.push(r);
                    state.legs.push(legs);
                }
                Paired::NotTimed { status, reason } => state.not_timed = Some((status, reason)),
            }
        }
        last_round = t.elapsed();
        if looks.contains(&round) {
            judge_open(&mut states, cfg, false);
        }
        progress(round, looks.last().copied(), &states, started, last_round);
    }
    judge_open(&mut states, cfg, true);
    Ok(states)
}

/// Ids still sampled: timed on both sides and not yet decided.
fn open_ids(states: &BTreeMap<String, IdState>) -> Vec<String> {
    states
        .iter()
        .filter(|(_, s)| s.not_timed.is_none())
        .filter(|(_, s)| !s.result.as_ref().is_some_and(|r| r.verdict.is_decided()))
        .map(|(id, _)| id.clone())
        .collect()
}

/// Judges every open id; at the end, also those that never reached a look.
fn judge_open(states: &mut BTreeMap<String, IdState>, cfg: &PairedConfig, last: bool) {
    for id in open_ids(states) {
        let s = states.get_mut(&id).expect("open ids are states");
        if last
            && s.result
                .as_ref()
                .is_some_and(|r| r.rounds == s.rounds.len())
        {
            continue;
        }
        s.result = paired::judge(&s.rounds, cfg);
    }
}

fn progress(
    round: usize,
    of: Option<usize>,
    states: &BTreeMap<String, IdState>,
    started: Instant,
    took: Duration,
) {
    let decided = states
        .values()
        .filter(|s| s.result.as_ref().is_some_and(|r| r.verdict.is_decided()))
        .count();
    eprintln!(
        "round {round} of at most {}: {:.0} s; {decided} of {} ids decided ({:.0} s in all)",
        of.unwrap_or(round),
        took.as_secs_f64(),
        states.len(),
        started.elapsed().as_secs_f64()
    );
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
