//! `cargo xtask report [RUN...] [--baseline NAME] [--history] [--output FILE] [--open]`: the offline
//! HTML report of one or more runs, with the Markdown summary and the CSV beside it; and the
//! report `cargo xtask bench` writes beside each run file.
//!
//! Exit codes: 0 written, 2 bad input (a missing or unreadable run file, an unknown baseline, no
//! run to report), with a message naming it. Gating on regressions is `compare`'s job.

use crate::workspace;
use anyhow::Context;
use std::path::{Path, PathBuf};
use tensorbench_analysis::baseline::{resolve_run, run_files};
use tensorbench_analysis::{CompareConfig, Comparison, compare_runs};
use tensorbench_core::schema::Run;
use tensorbench_core::store::load_run;
use tensorbench_core::suite::exit;
use tensorbench_report::{
    MarkdownOptions, ReportInput, ReportOptions, render_html, render_markdown, write_csv,
};

/// Flags of `cargo xtask report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Run files (.json, or the .jsonl stream of an interrupted run) or directories (their newest
    /// run). Default: the newest run under the results directory.
    pub runs: Vec<PathBuf>,
    /// Compare with this baseline (a name under results/baselines/, or a run file).
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Add each id's history across the run files of the first run's directory, with change points.
    #[arg(long)]
    pub history: bool,
    /// The HTML file to write (default: beside the first run, `<run>.html`); the Markdown
    /// (`.md`) and CSV (`.csv`) go beside it.
    /// (`--out` is a results directory everywhere else; a file written is `--output`.)
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Open the report in the default browser once written.
    #[arg(long)]
    pub open: bool,
    /// Results directory where runs and baselines are looked up.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
}

/// A run and the file it came from.
struct Loaded {
    path: PathBuf,
    run: Run,
}

/// Writes the report and returns the exit code (see the module docs).
pub fn run(args: &ReportArgs, results_dir: &Path) -> anyhow::Result<u8> {
    let (runs, input) = match gather(args, results_dir) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            return Ok(exit::BAD_INPUT);
        }
    };
    let html_path = args
        .output
        .clone()
        .unwrap_or_else(|| runs[0].path.with_extension("html"));
    if html_path.is_dir() {
        eprintln!(
            "error: --output {}: is a directory, expected a file",
            html_path.display()
        );
        return Ok(exit::BAD_INPUT);
    }
    let input = with_docs_link(input, &html_path);
    write_atomic(&html_path, render_html(&input)?.as_bytes())?;
    let md_path = html_path.with_extension("md");
    let md = render_markdown(
        &input,
        &MarkdownOptions {
            report_link: Some(html_path.display().to_string()),
            ..MarkdownOptions::default()
        },
    );
    write_atomic(&md_path, md.as_bytes())?;
    let csv_path = html_path.with_extension("csv");
    let mut csv = Vec::new();
    write_csv(&input.runs, &mut csv)?;
    write_atomic(&csv_path, &csv)?;
    println!("report:   {}", html_path.display());
    println!("markdown: {}", md_path.display());
    println!("csv:      {}", csv_path.display());
    if args.open {
        open_in_browser(&html_path);
    }
    Ok(exit::OK)
}

/// Writes `<run>.html` beside the run file at `run_path`, with the verdicts when given; returns
/// its path. `cargo xtask bench` calls this after each run.
pub fn write_run_report(
    run_path: &Path,
    comparison: Option<&Comparison>,
) -> anyhow::Result<PathBuf> {
    let run = load_run(run_path)?;
    let mut input = ReportInput::new(vec![run]);
    input.comparisons.extend(comparison.cloned());
    let html_path = run_path.with_extension("html");
    let input = with_docs_link(input, &html_path);
    write_atomic(&html_path, render_html(&input)?.as_bytes())?;
    Ok(html_path)
}

/// The error and its causes on one line, leaving out a cause its parent already quotes.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Loads the runs, the baseline comparison and the history the flags ask for.
fn gather(args: &ReportArgs, results_dir: &Path) -> anyhow::Result<(Vec<Loaded>, ReportInput)> {
    let runs = if args.runs.is_empty() {
        vec![newest_run(results_dir)?]
    } else {
        args.runs
            .iter()
            .map(|p| load(p, results_dir))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let mut input = ReportInput::new(runs.iter().map(|l| l.run.clone()).collect());
    // A paired A/B's verdicts live beside its run file.
    for l in &runs {
        let paired = crate::ab::paired_path(&l.path);
        if paired.is_file() {
            let text = std::fs::read(&paired).with_context(|| paired.display().to_string())?;
            let cmp: Comparison = serde_json::from_slice(&text)
                .with_context(|| format!("{}: not a comparison", paired.display()))?;
            input.comparisons.push(cmp);
        }
    }
    if let Some(spec) = &args.baseline {
        let base = resolve_run(spec, results_dir).with_context(|| format!("--baseline {spec}"))?;
        input.comparisons = compare_with(&base.run, &base.label, &runs);
    }
    if args.history {
        let dir = runs[0].path.parent().unwrap_or(Path::new("."));
        let ids: std::collections::HashSet<&str> = input
            .runs
            .iter()
            .flat_map(|r| r.measurements.iter().map(|m| m.id.as_str()))
            .collect();
        let mut history = tensorbench_analysis::history(dir)
            .with_context(|| format!("--history over {}", dir.display()))?;
        history.retain(|h| ids.contains(h.id.as_str()));
        input.history = history;
    }
    Ok((runs, input))
}

fn load(path: &Path, results_dir: &Path) -> anyhow::Result<Loaded> {
    if path.is_dir() {
        let r = resolve_run(&path.display().to_string(), results_dir)?;
        return Ok(Loaded {
            path: r.path,
            run: r.run,
        });
    }
    Ok(Loaded {
        run: load_run(path)?,
        path: path.to_path_buf(),
    })
}

/// The newest run file (run ids sort by time) in the results directory or its machine folders.
fn newest_run(results_dir: &Path) -> anyhow::Result<Loaded> {
    let mut dirs = vec![results_dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(results_dir) {
        dirs.extend(
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "baselines")),
        );
    }
    let newest = dirs
        .iter()
        .filter_map(|d| run_files(d).ok())
        .flatten()
        .max_by(|a, b| a.file_name().cmp(&b.file_name()))
        .with_context(|| {
            format!(
                "no run files under {}: run `cargo xtask bench` first, or name run files",
                results_dir.display()
            )
        })?;
    load(&newest, results_dir)
}

/// Verdicts of the baseline against every run of the same target (or the first run when none
/// shares its target).
fn compare_with(base: &Run, label: &str, runs: &[Loaded]) -> Vec<Comparison> {
    let same_target: Vec<&Loaded> = runs
        .iter()
        .filter(|l| l.run.target == base.target)
        .collect();
    let targets = if same_target.is_empty() {
        vec![&runs[0]]
    } else {
        same_target
    };
    targets
        .into_iter()
        .map(|l| {
            let mut c = compare_runs(base, &l.run, &CompareConfig::default());
            c.old_label = label.to_string();
            c.new_label = l.path.display().to_string();
            c
        })
        .collect()
}

/// Points the report's guide links at this checkout's `docs/`, relative to where the report is
/// written (so they work when the report sits in the repository).
fn with_docs_link(mut input: ReportInput, html_path: &Path) -> ReportInput {
    let docs = workspace::root().join("docs");
    let dir = html_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Some(rel) = relative(dir, &docs) {
        let mut base = rel.to_string_lossy().replace('\\', "/");
        if !base.ends_with('/') {
            base.push('/');
        }
        input.options = ReportOptions {
            docs_base: base,
            ..input.options
        };
    }
    input
}

/// The path from directory `from` to `to`, both existing; `None` when they share no root.
fn relative(from: &Path, to: &Path) -> Option<PathBuf> {
    std::fs::create_dir_all(from).ok()?;
    let (from, to) = (from.canonicalize().ok()?, to.canonicalize().ok()?);
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return None;
    }
    let mut rel = PathBuf::new();
    for _ in from.components().skip(common) {
        rel.push("..");
    }
    for c in to.components().skip(common) {
        rel.push(c);
    }
    Some(rel)
}

/// Writes through a temporary file and a rename: a failed write never leaves half a report over
/// a good one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("{}: write failed", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot replace", path.display()))
}

/// Best effort: a machine without a desktop just keeps the printed path.
fn open_in_browser(path: &Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener).arg(path).spawn() {
        eprintln!(
            "warning: could not open the report with `{opener}`: {e}; open {} yourself",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: ReportArgs,
    }

    fn args(extra: &[&str]) -> ReportArgs {
        Cli::parse_from(["report"].iter().chain(extra)).args
    }

    #[test]
    fn bad_input_exits_2() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path();
        assert_eq!(run(&args(&[]), results).unwrap(), 2, "no runs at all");
        let missing = results.join("nope.json");
        assert_eq!(
            run(&args(&[missing.to_str().unwrap()]), results).unwrap(),
            2
        );
        let truncated = results.join("run.json");
        std::fs::write(&truncated, "{\"schema_version\": 1,").unwrap();
        assert_eq!(
            run(&args(&[truncated.to_str().unwrap()]), results).unwrap(),
            2
        );
        assert!(
            !results.join("run.html").exists(),
            "nothing written on bad input"
        );
    }

    #[test]
    fn relative_paths_climb_to_the_common_root() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("results/host");
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&docs).unwrap();
        assert_eq!(relative(&a, &docs).unwrap(), PathBuf::from("../../docs"));
    }
}
