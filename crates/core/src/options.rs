//! The flags every suite binary takes, with the same meaning everywhere, and the exit codes.

use clap::Parser;
use std::path::PathBuf;
use tensorbench_ops::Profile;

/// Exit codes shared by suite binaries and xtask.
pub mod exit {
    /// Everything ran and every measurement is `ok` or `skipped`.
    pub const OK: u8 = 0;
    /// Some measurement failed or was invalid, or (xtask) a confirmed regression.
    pub const SOME_FAILED: u8 = 1;
    /// Bad input: a flag, a file, a filter that matches nothing.
    pub const BAD_INPUT: u8 = 2;
    /// The machinery failed, not a measurement: the run file could not be written (a full disk),
    /// a child or tool would not start. What reached the disk is kept and can be `--resume`d.
    pub const INFRASTRUCTURE: u8 = 3;
    /// Stopped by SIGINT/SIGTERM; what finished is in the run file, marked `interrupted`.
    pub const INTERRUPTED: u8 = 130;
}

/// Flags every suite binary takes; xtask passes them through. A suite adds its own with
/// [`crate::suite::main_with`], and refuses those that cannot apply to it with
/// [`crate::suite::Suite::refuse`].
#[derive(Debug, Clone, Parser)]
#[command(about = "Run a tensorbench suite and write its run file")]
pub struct SuiteOptions {
    /// How much of the size range to cover, and how long to sample each point.
    #[arg(long, default_value_t = Profile::Quick, value_parser = profile_parser())]
    pub profile: Profile,
    /// Only workloads whose id matches this regular expression (probes always run).
    #[arg(long)]
    pub filter: Option<String>,
    /// Threads for parallel kernels (default: all logical cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Flush caches before every sample.
    #[arg(long)]
    pub cold: bool,
    /// Results directory; the run goes to `<out>/<machine>/<run-id>.json`.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Base seed for input data (default: from the clock, recorded per measurement).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Skip the roofline probes (measurements then carry no roofline).
    #[arg(long)]
    pub no_probes: bool,
    /// Print the workload ids this invocation would run, one per line, and exit.
    #[arg(long)]
    pub list: bool,
    /// Print the specs this invocation would run as a JSON array, and exit.
    #[arg(long)]
    pub list_json: bool,
    /// Run each selected workload once (no timing) and write its inputs and outputs to this
    /// directory for peer cross-checks: `<dir>/<n>/meta.json` and `<dir>/<n>/<tensor>.f32`.
    #[arg(long)]
    pub dump_tensors: Option<PathBuf>,
    /// Carry on an interrupted run from its `.jsonl` stream, skipping what it finished.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// The command line to record in the run (xtask passes its own).
    #[arg(long)]
    pub command: Option<String>,
    /// Print one JSON event per line on stdout (for xtask's progress display).
    #[arg(long)]
    pub events: bool,
    /// Answer `cargo xtask ab`'s sampling requests on stdin/stdout instead of running the suite
    /// (one JSON line each way; see `tensorbench_core::serve`).
    #[arg(long)]
    pub serve: bool,
}

/// `--profile`: parsed once, from [`Profile`]'s `FromStr`, with its names as clap's possible
/// values (so `--help` lists them and a bad one exits 2 naming the flag).
pub fn profile_parser() -> impl clap::builder::TypedValueParser<Value = Profile> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Profile::ALL.map(Profile::as_str))
        .try_map(|name| name.parse::<Profile>())
}

impl SuiteOptions {
    /// `--threads`, or every logical core.
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Whether the flag named `--name` was given (for flags a suite refuses).
    pub(crate) fn given(&self, flag: &str) -> bool {
        match flag {
            "--threads" => self.threads.is_some(),
            "--cold" => self.cold,
            "--seed" => self.seed.is_some(),
            "--no-probes" => self.no_probes,
            "--dump-tensors" => self.dump_tensors.is_some(),
            "--resume" => self.resume.is_some(),
            "--filter" => self.filter.is_some(),
            _ => false,
        }
    }
}
