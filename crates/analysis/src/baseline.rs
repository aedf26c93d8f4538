//! Named baselines: a copy of a run file at `<results>/baselines/<name>.json`, and resolving the
//! `OLD`/`NEW` arguments of `compare` to runs.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use tensorbench_schema::schema::Run;
use tensorbench_schema::store::{load_run, write_json_atomic};

/// The folder of named baselines under a results directory.
pub fn baselines_dir(results: &Path) -> PathBuf {
    results.join("baselines")
}

/// Where baseline `name` lives (the name is checked first).
pub fn baseline_path(results: &Path, name: &str) -> Result<PathBuf> {
    check_name(name)?;
    Ok(baselines_dir(results).join(format!("{name}.json")))
}

/// Saves `run` as baseline `name`, replacing an older baseline of that name only once the new file
/// is completely written; the older one is kept as baseline `<name>.prev`. Only a run fit to be
/// a baseline is saved (see [`unfit_for_baseline`]).
pub fn save_baseline(results: &Path, name: &str, run: &Run) -> Result<PathBuf> {
    save_baseline_with(results, name, run, false)
}

/// [`save_baseline`], accepting `failed` and `invalid` measurements when `allow_failed`.
pub fn save_baseline_with(
    results: &Path,
    name: &str,
    run: &Run,
    allow_failed: bool,
) -> Result<PathBuf> {
    let path = baseline_path(results, name)?;
    if let Some(reason) = unfit_for_baseline(run, allow_failed) {
        return Err(Error::NotABaseline {
            name: name.to_string(),
            reason,
        });
    }
    if path.exists() {
        let previous = load_run(&path)?;
        write_json_atomic(&baseline_path(results, &format!("{name}.prev"))?, &previous)?;
    }
    write_json_atomic(&path, run)?;
    Ok(path)
}

/// Why `run` must not become a baseline, if so: it did not complete (interrupted, or still
/// running), measured nothing, or (unless `allow_failed`) has a `failed` or `invalid` measurement.
pub fn unfit_for_baseline(run: &Run, allow_failed: bool) -> Option<String> {
    use tensorbench_schema::schema::{RunStatus, Status};
    if run.status != RunStatus::Complete {
        return Some(format!("the run is {:?}, not complete", run.status).to_lowercase());
    }
    let bad: Vec<&str> = run
        .measurements
        .iter()
        .filter(|m| matches!(m.status, Status::Failed | Status::Invalid))
        .map(|m| m.id.as_str())
        .collect();
    if !bad.is_empty() && !allow_failed {
        return Some(format!(
            "{} measurement(s) failed or invalid ({}{}); pass --allow-failed to save it anyway",
            bad.len(),
            bad[..bad.len().min(3)].join(", "),
            if bad.len() > 3 { ", ..." } else { "" }
        ));
    }
    if !run.measurements.iter().any(|m| m.status == Status::Ok) {
        return Some("the run has no ok measurement".into());
    }
    None
}

/// Copies the run file at `run_file` to baseline `name`, after checking that it reads as a run (a
/// bad file never replaces a good baseline).
pub fn save_baseline_from_file(results: &Path, name: &str, run_file: &Path) -> Result<PathBuf> {
    let run = load_run(run_file)?;
    save_baseline(results, name, &run)
}

/// Loads baseline `name`; when it does not exist, the error lists the ones that do.
pub fn load_baseline(results: &Path, name: &str) -> Result<Run> {
    let path = baseline_path(results, name)?;
    if !path.exists() {
        return Err(Error::BaselineNotFound {
            name: name.to_string(),
            dir: baselines_dir(results),
            available: list_baselines(results)?,
        });
    }
    Ok(load_run(&path)?)
}

/// Names of the saved baselines, sorted.
pub fn list_baselines(results: &Path) -> Result<Vec<String>> {
    let dir = baselines_dir(results);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let stem = p.file_stem()?.to_str()?.to_string();
            (p.extension()? == "json" && !stem.starts_with('.')).then_some(stem)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// A run named on the command line: a run file (`.json`, or a `.jsonl` stream of an interrupted
/// run), a directory (its newest complete run), or a baseline name.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// What to call it in a report: the path or `baseline NAME`.
    pub label: String,
    pub path: PathBuf,
    pub run: Run,
}

/// Resolves `spec` against `results` (see [`Resolved`]).
pub fn resolve_run(spec: &str, results: &Path) -> Result<Resolved> {
    let as_path = Path::new(spec);
    if as_path.is_dir() {
        let path = newest_run_file(as_path)?;
        let run = load_run(&path)?;
        return Ok(Resolved {
            label: path.display().to_string(),
            path,
            run,
        });
    }
    if as_path.exists() || looks_like_path(spec) {
        // A path that does not exist still goes to the reader, which names it in the error.
        return Ok(Resolved {
            label: spec.to_string(),
            path: as_path.to_path_buf(),
            run: load_run(as_path)?,
        });
    }
    let path = baseline_path(results, spec).map_err(|_| not_found(spec, results))?;
    if !path.exists() {
        return Err(not_found(spec, results));
    }
    Ok(Resolved {
        label: format!("baseline {spec}"),
        run: load_run(&path)?,
        path,
    })
}

fn not_found(spec: &str, results: &Path) -> Error {
    Error::RunNotFound {
        spec: spec.to_string(),
        dir: baselines_dir(results),
        available: list_baselines(results).unwrap_or_default(),
    }
}

fn looks_like_path(spec: &str) -> bool {
    spec.contains('/')
        || spec.contains(std::path::MAIN_SEPARATOR)
        || spec.ends_with(".json")
        || spec.ends_with(".jsonl")
}

/// The complete run files (`*.json`) of a directory, not descending into sub-directories.
/// The file name, in a results machine directory, of the noise floor an A/A recorded.
pub const NOISE_FLOOR_FILE: &str = "noise-floor.json";

/// The suffix of a paired A/B's comparison, beside its run file (`<run-id>.ab.json`).
pub const PAIRED_SUFFIX: &str = ".ab.json";

/// Whether a `.json` in a results directory is something other than a run file.
fn not_a_run(name: &str) -> bool {
    name.starts_with('.') || name == NOISE_FLOOR_FILE || name.ends_with(PAIRED_SUFFIX)
}

pub fn run_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(not_a_run)
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The run file of `dir` whose run started last.
fn newest_run_file(dir: &Path) -> Result<PathBuf> {
    let mut newest: Option<(String, PathBuf)> = None;
    for path in run_files(dir)? {
        let run = load_run(&path)?;
        if newest.as_ref().is_none_or(|(t, _)| run.started_at > *t) {
            newest = Some((run.started_at, path));
        }
    }
    newest.map(|(_, p)| p).ok_or_else(|| Error::NoRuns {
        path: dir.to_path_buf(),
    })
}

/// Checks a baseline name: letters, digits, `.`, `_` and `-`, not starting with `.`.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::BadBaselineName(name.to_string()))
    }
}
