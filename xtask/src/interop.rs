//! `cargo xtask export FORMAT RUN...` and `cargo xtask import criterion DIR`: the bridges of
//! `tensorbench_analysis::interop` (and report's CSV and Markdown) on the command line.
//!
//! Exit codes: 0 written; 2 bad input (a missing or unreadable run, criterion tree or output
//! path, an unknown format, an id in two exported runs), with a message naming it.

use crate::BadInput;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use tensorbench_analysis::baseline::resolve_run;
use tensorbench_analysis::interop::{criterion, export};
use tensorbench_core::schema::{GitInfo, Machine, Run};
use tensorbench_core::store;
use tensorbench_core::suite::exit;
use tensorbench_report::{MarkdownOptions, ReportInput, render_markdown, write_csv};

/// A format a run can be exported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Bencher Metric Format: `{id: {latency: {value, lower_value, upper_value}}}`, ns.
    Bmf,
    /// github-action-benchmark `customSmallerIsBetter`: `[{name, unit, value, range, extra}]`.
    GithubActionBenchmark,
    /// One row per measurement of every run (the report's CSV).
    Csv,
    /// The job-summary Markdown of the runs (the report's Markdown).
    Markdown,
}

/// How `bench` and `compare` print their result: their own table, JSON or Markdown, or the
/// (new) run as `cargo xtask export` writes it, for a tool that keeps the history itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    /// The run in Bencher Metric Format (as `export bmf`).
    Bmf,
    /// The run for github-action-benchmark (as `export github-action-benchmark`).
    GithubActionBenchmark,
    /// The run's measurements as CSV (as `export csv`).
    Csv,
}

impl Format {
    /// The export this format is, if it is one.
    pub fn export(self) -> Option<ExportFormat> {
        match self {
            Format::Table | Format::Json | Format::Markdown => None,
            Format::Bmf => Some(ExportFormat::Bmf),
            Format::GithubActionBenchmark => Some(ExportFormat::GithubActionBenchmark),
            Format::Csv => Some(ExportFormat::Csv),
        }
    }
}

/// Prints `run` to stdout as `format` would export it.
pub fn print_export(format: ExportFormat, run: &Run) -> anyhow::Result<()> {
    let body = render_runs(format, vec![("", run.clone())])?;
    std::io::stdout().write_all(&body)?;
    Ok(())
}

/// Flags of `cargo xtask export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// What to write.
    #[arg(value_enum)]
    pub format: ExportFormat,
    /// Run files (.json or .jsonl), results directories (their newest run) or baseline names.
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<String>,
    /// Write here instead of stdout (replaced whole, never half-written).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Results directory where baseline names are looked up.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
}

/// Flags of `cargo xtask import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

/// What can be imported.
#[derive(Debug, Clone, Subcommand)]
pub enum ImportSource {
    /// A `target/criterion` tree (each benchmark's `new/` results) as one run file.
    Criterion {
        /// The criterion directory, usually `target/criterion`.
        dir: PathBuf,
        /// Results directory: the run is written to `<out>/<machine>/<run-id>.json`.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// The host the benchmarks ran on, when you know it: criterion does not record it, so
        /// without this the machine is left unknown (`unknown-host`).
        #[arg(long, value_name = "NAME")]
        hostname: Option<String>,
    },
}

/// Writes the export and returns the exit code (see the module docs).
pub fn export(args: &ExportArgs) -> anyhow::Result<u8> {
    let body = match render(args) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(exit::BAD_INPUT);
        }
    };
    match &args.output {
        Some(path) => crate::report::write_atomic(path, &body)?,
        None => std::io::stdout().write_all(&body)?,
    }
    Ok(exit::OK)
}

fn render(args: &ExportArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(path) = args.output.as_ref().filter(|p| p.is_dir()) {
        return Err(BadInput(format!(
            "--output {}: is a directory, expected a file",
            path.display()
        ))
        .into());
    }
    let runs = args
        .runs
        .iter()
        .map(|spec| {
            resolve_run(spec, &args.results)
                .map(|r| (spec.as_str(), r.run))
                .with_context(|| format!("RUN {spec}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    render_runs(args.format, runs)
}

/// `runs` (each with the spec it was named by) in `format`.
fn render_runs(format: ExportFormat, runs: Vec<(&str, Run)>) -> anyhow::Result<Vec<u8>> {
    let mut out = match format {
        ExportFormat::Bmf => {
            refuse_shared_ids(&runs)?;
            let mut all = serde_json::Map::new();
            for (_, run) in &runs {
                if let serde_json::Value::Object(m) = export::to_bmf(run) {
                    all.extend(m);
                }
            }
            serde_json::to_vec_pretty(&all)?
        }
        ExportFormat::GithubActionBenchmark => {
            refuse_shared_ids(&runs)?;
            let all: Vec<_> = runs
                .iter()
                .flat_map(|(_, r)| export::to_github_action_benchmark(r))
                .collect();
            serde_json::to_vec_pretty(&all)?
        }
        ExportFormat::Csv => {
            let mut csv = Vec::new();
            write_csv(&only_runs(runs), &mut csv)?;
            return Ok(csv);
        }
        ExportFormat::Markdown => {
            let input = ReportInput::new(only_runs(runs));
            render_markdown(&input, &MarkdownOptions::default()).into_bytes()
        }
    };
    out.push(b'\n');
    Ok(out)
}

fn only_runs(runs: Vec<(&str, Run)>) -> Vec<Run> {
    runs.into_iter().map(|(_, r)| r).collect()
}

/// BMF and github-action-benchmark name each series by id alone: one id in two runs would make
/// one of them silently overwrite or shadow the other.
fn refuse_shared_ids(runs: &[(&str, Run)]) -> anyhow::Result<()> {
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    for (i, (spec, run)) in runs.iter().enumerate() {
        for m in &run.measurements {
            if let Some(first) = seen.insert(m.id.as_str(), i)
                && first != i
            {
                return Err(BadInput(format!(
                    "RUN {} and RUN {spec} both hold {}: this format names a series by id \
                     alone, so export them one at a time",
                    runs[first].0, m.id
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// Imports and writes the run file; returns the exit code (see the module docs).
pub fn import(args: &ImportArgs) -> anyhow::Result<u8> {
    let ImportSource::Criterion { dir, out, hostname } = &args.source;
    if !dir.is_dir() {
        eprintln!(
            "error: DIR {}: not a directory (expected a `target/criterion` tree)",
            dir.display()
        );
        return Ok(exit::BAD_INPUT);
    }
    // Criterion records neither machine nor commit: unknown unless the user names the host.
    let machine = Machine {
        hostname: hostname.clone(),
        ..Machine::default()
    };
    let run = match criterion::import_criterion(dir, machine, GitInfo::default()) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("error: DIR {}: {e}", dir.display());
            return Ok(exit::BAD_INPUT);
        }
    };
    let path = write_new_run(out, &run)?;
    println!(
        "imported {} benchmark(s) from {} → {}",
        run.measurements.len(),
        dir.display(),
        path.display()
    );
    Ok(exit::OK)
}

/// `<out>/<machine>/<run-id>.json`, never over an existing file.
fn write_new_run(out: &Path, run: &Run) -> anyhow::Result<PathBuf> {
    if out.exists() && !out.is_dir() {
        return Err(BadInput(format!(
            "--out {}: is a file, expected a results directory",
            out.display()
        ))
        .into());
    }
    let path = out
        .join(store::machine_slug(run.machine.hostname.as_deref()))
        .join(format!("{}.json", run.run_id));
    if path.exists() {
        anyhow::bail!("{}: already exists; not overwritten", path.display());
    }
    store::write_json_atomic(&path, run)?;
    Ok(path)
}
