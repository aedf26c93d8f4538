//! Renders the HTML report, Markdown and CSV of run files, as a framework author would from their
//! own project: `cargo run -p tensorbench-report --example render -- OUT_STEM RUN.json [RUN.json...]`
//! writes `OUT_STEM.html`, `OUT_STEM.md` and `OUT_STEM.csv`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tensorbench_report::{MarkdownOptions, ReportInput, render_html, render_markdown, write_csv};
use tensorbench_schema::store::load_run;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [stem, runs @ ..] = args.as_slice() else {
        eprintln!("usage: render OUT_STEM RUN.json [RUN.json...]");
        return ExitCode::from(2);
    };
    if runs.is_empty() {
        eprintln!("usage: render OUT_STEM RUN.json [RUN.json...]");
        return ExitCode::from(2);
    }
    match render(Path::new(stem), runs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn render(stem: &Path, runs: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let runs = runs
        .iter()
        .map(|p| load_run(Path::new(p)))
        .collect::<Result<Vec<_>, _>>()?;
    let input = ReportInput::new(runs);
    let out = |ext: &str| PathBuf::from(format!("{}.{ext}", stem.display()));
    std::fs::write(out("html"), render_html(&input)?)?;
    std::fs::write(
        out("md"),
        render_markdown(&input, &MarkdownOptions::default()),
    )?;
    write_csv(&input.runs, std::fs::File::create(out("csv"))?)?;
    println!("{}", out("html").display());
    Ok(())
}
