//! Benchmark: how long rendering the full HTML report of a 2 000-measurement run takes (plus a
//! comparison covering every id), and the Markdown and CSV of it. Uses the seeded fixture
//! generator of the tests; prints the median of 5 renders.
//!
//! `cargo run --release -p tensorbench-report --example render_2000`

#[path = "../tests/common/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::time::{Duration, Instant};
use tensorbench_report::{MarkdownOptions, ReportInput, render_html, render_markdown, write_csv};

fn median_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed());
    }
    times.sort();
    (times[runs / 2], last.expect("at least one run"))
}

fn main() {
    let run = fixtures::run(2000, 5);
    let n = run.measurements.len();
    let samples: usize = run.measurements.iter().map(|m| m.samples_ns.len()).sum();
    let input = ReportInput::new(vec![run.clone()]).with_comparison(fixtures::comparison(&run));
    let (html_t, html) = median_of(5, || render_html(&input).expect("render"));
    let (md_t, md) = median_of(5, || render_markdown(&input, &MarkdownOptions::default()));
    let (csv_t, csv) = median_of(5, || {
        let mut buf = Vec::new();
        write_csv(&input.runs, &mut buf).expect("csv");
        buf
    });
    println!("{n} measurements, {samples} samples, with a comparison of every id");
    println!(
        "html:     {:>8.1} ms  ({:.1} MB)",
        html_t.as_secs_f64() * 1e3,
        html.len() as f64 / 1e6
    );
    println!(
        "markdown: {:>8.1} ms  ({:.1} kB)",
        md_t.as_secs_f64() * 1e3,
        md.len() as f64 / 1e3
    );
    println!(
        "csv:      {:>8.1} ms  ({:.1} kB)",
        csv_t.as_secs_f64() * 1e3,
        csv.len() as f64 / 1e3
    );
}
