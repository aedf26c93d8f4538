//! How often does a run's reported CI of the median fail to span the move between the first and
//! second halves of its own samples? With an honest 95% interval this is rare (about 5% of
//! stationary measurements); with one that ignores serial dependence it is common.
//!
//! ```text
//! cargo run --release -p tensorbench-analysis --example halves -- RUN.json [RUN.json ...]
//! ```
//! For each run: among `ok` measurements with at least 50 samples, how many have first- and
//! second-half medians differing by more than the full reported CI width, and the fraction; how
//! many are flagged unstable or did not converge; and the total sampling time (timed batches, and
//! with warm-up). Reads run files of any version this build reads (older ones included).

use std::path::Path;
use std::process::ExitCode;
use tensorbench_core::schema::{Measurement, Run, Status};
use tensorbench_core::stats::quantile_sorted;
use tensorbench_core::store::load_run;

const MIN_SAMPLES: usize = 50;

fn median(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    quantile_sorted(&v, 0.5)
}

/// Whether the halves' medians differ by more than the full CI width.
fn halves_beyond_ci(m: &Measurement) -> Option<bool> {
    let s = m.stats.as_ref()?;
    let n = m.samples_ns.len();
    (m.status == Status::Ok && n >= MIN_SAMPLES).then(|| {
        let (a, b) = m.samples_ns.split_at(n / 2);
        (median(a) - median(b)).abs() > s.ci_high_ns - s.ci_low_ns
    })
}

fn report(path: &Path, run: &Run) {
    let judged: Vec<(&Measurement, bool)> = run
        .measurements
        .iter()
        .filter_map(|m| halves_beyond_ci(m).map(|b| (m, b)))
        .collect();
    let beyond = judged.iter().filter(|(_, b)| *b).count();
    let flagged = |f: &dyn Fn(&Measurement) -> bool| judged.iter().filter(|(m, _)| f(m)).count();
    let unstable = flagged(&|m| m.sampling.as_ref().is_some_and(|s| s.unstable.is_some()));
    let unconverged = flagged(&|m| m.sampling.as_ref().is_some_and(|s| !s.converged));
    let (timed, warm): (f64, f64) = run
        .measurements
        .iter()
        .filter_map(|m| m.sampling.as_ref())
        .map(|s| (s.total_time_ns, s.warmup_ns))
        .fold((0.0, 0.0), |(a, b), (t, w)| (a + t, b + w));
    println!(
        "{} (run {}, profile {})",
        path.display(),
        run.run_id,
        run.profile
    );
    println!(
        "  halves beyond the full CI width: {beyond} of {} ok measurements with >= {MIN_SAMPLES} samples ({:.1}%)",
        judged.len(),
        100.0 * beyond as f64 / judged.len().max(1) as f64
    );
    println!(
        "  of those {}: {unstable} flagged unstable, {unconverged} not converged",
        judged.len()
    );
    println!(
        "  total sampling time: {:.2} s timed, {:.2} s with warm-up, over {} measurements",
        timed * 1e-9,
        (timed + warm) * 1e-9,
        run.measurements
            .iter()
            .filter(|m| m.sampling.is_some())
            .count()
    );
    for (m, _) in judged.iter().filter(|(_, b)| *b) {
        println!("    {}", m.id);
    }
}

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: halves RUN.json [RUN.json ...]");
        return ExitCode::from(2);
    }
    for p in &paths {
        match load_run(Path::new(p)) {
            Ok(run) => report(Path::new(p), &run),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
