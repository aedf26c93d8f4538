//! `cargo xtask`: the one orchestrator. It builds each target's suite binary, runs and supervises
//! it, gathers the run file, and prints, compares and reports. It is the only place that knows
//! every target.

mod ab;
mod bench;
mod ci;
mod compare;
mod doctor;
mod hostfile;
mod interop;
mod peers;
mod report;
mod supervise;
mod table;
mod targets;
mod test_cmd;
mod workspace;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Shown under every command's `--help`; the README has the same table.
const EXIT_CODES: &str = "Exit codes:
  0    all good
  1    a confirmed regression, or a measurement failed or was invalid
  2    bad input (the message names the flag, file or argument; checked before any build)
  3    a gate with no baseline, or infrastructure (a build that fails, a child or tool that cannot start)
  130  interrupted (the run file keeps what finished)";

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "tensorbench orchestrator", version)]
#[command(after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build and run a target's suite, write its run file, print the table.
    #[command(after_help = EXIT_CODES)]
    Bench(bench::BenchArgs),
    /// Paired, interleaved A/B of two builds in one sitting (exit 1 on a confirmed regression).
    #[command(after_help = EXIT_CODES)]
    Ab(ab::AbArgs),
    /// Verdicts between two runs or baselines (exit 1 on a confirmed regression).
    #[command(after_help = EXIT_CODES)]
    Compare(compare::CompareArgs),
    /// One self-contained HTML report (plus Markdown and CSV) of runs, verdicts and history.
    #[command(after_help = EXIT_CODES)]
    Report(report::ReportArgs),
    /// What a CI job runs: bench, compare with the base baseline, summary, exit code.
    #[command(after_help = EXIT_CODES)]
    Ci(ci::CiArgs),
    /// The same workloads in NumPy, PyTorch, JAX: set up their environment.
    Peers {
        #[command(subcommand)]
        command: PeersCommand,
    },
    /// What this machine can run, and how to install what is missing.
    Doctor,
    /// Install what the tests need (or say how), then run them all.
    Test(test_cmd::TestArgs),
    /// Write runs as Bencher BMF, github-action-benchmark JSON, CSV or Markdown.
    #[command(after_help = EXIT_CODES)]
    Export(interop::ExportArgs),
    /// Read another tool's results (a `target/criterion` tree) into a run file.
    #[command(after_help = EXIT_CODES)]
    Import(interop::ImportArgs),
}

#[derive(Debug, Subcommand)]
enum PeersCommand {
    /// Create a virtual environment with NumPy and JAX (and PyTorch with --torch).
    Setup {
        /// Where to create it.
        #[arg(long)]
        venv: Option<std::path::PathBuf>,
        /// Also install PyTorch (a large download).
        #[arg(long)]
        torch: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Ab(args) => ab::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Compare(args) => compare::run(&args, &args.results),
        Command::Report(args) => report::run(&args, &args.results),
        Command::Ci(args) => ci::run(&args),
        Command::Peers {
            command: PeersCommand::Setup { venv, torch },
        } => {
            let venv = venv.unwrap_or_else(peers::default_venv);
            let opts = peers::SetupOptions {
                torch,
                ..Default::default()
            };
            peers::setup_with(&venv, &opts).map(|()| 0)
        }
        Command::Doctor => doctor::run(),
        Command::Test(args) => test_cmd::run(&args),
        Command::Export(args) => interop::export(&args),
        Command::Import(args) => interop::import(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // A regression or an invalid result is a verdict (`Ok(1)`), never an error: what
            // fails here is bad input, or the machinery (a build, a child, a tool, the disk).
            let code = if e.downcast_ref::<BadInput>().is_some() {
                2
            } else {
                3
            };
            eprintln!("error: {e:#}");
            ExitCode::from(code)
        }
    }
}

/// An error caused by the user's input (a flag, a file): exit code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// A build, tool or child process that failed, not the code under test: exit code 3.
#[derive(Debug)]
pub struct Infrastructure(pub String);

impl std::fmt::Display for Infrastructure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Infrastructure {}

/// Returns early with a [`BadInput`] error.
#[macro_export]
macro_rules! bad_input {
    ($($arg:tt)*) => { return Err(anyhow::Error::new($crate::BadInput(format!($($arg)*)))) };
}
