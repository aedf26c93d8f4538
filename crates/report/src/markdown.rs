//! Markdown for a GitHub job summary or PR comment: verdicts first, then each run in brief, long
//! tables folded in `<details>`, the whole kept under a size budget (a PR comment holds 65 536
//! characters).

use crate::ReportInput;
use crate::facts::{self, RateKind};
use crate::format;
use crate::sections::overview;
use std::fmt::Write;
use tensorbench_analysis::render::{
    MAX_SUMMARY_BYTES, cap_markdown, escape_markdown, verdict_label,
};
use tensorbench_analysis::{Comparison, IdComparison, Verdict};
use tensorbench_schema::schema::{Measurement, Run, Status};

/// Size and layout of the Markdown.
#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// Stop adding table rows past this many bytes (a note says how many were left out).
    pub max_chars: usize,
    /// Rows shown before a table is folded into `<details>`.
    pub unfolded_rows: usize,
    /// Where the full HTML report is (a path or an artifact name), mentioned at the end.
    pub report_link: Option<String>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        Self {
            max_chars: 60_000,
            unfolded_rows: 20,
            report_link: None,
        }
    }
}

/// Renders the verdicts and a summary of every run as GitHub-flavoured Markdown.
pub fn render_markdown(input: &ReportInput, opts: &MarkdownOptions) -> String {
    let mut md = Markdown {
        out: String::new(),
        budget: opts.max_chars,
        left_out: 0,
    };
    let _ = writeln!(md.out, "## tensorbench results\n");
    for cmp in &input.comparisons {
        verdicts(&mut md, cmp, opts);
    }
    for run in &input.runs {
        run_summary(&mut md, run, opts);
    }
    if md.left_out > 0 {
        let _ = writeln!(
            md.out,
            "\n_{} table row(s) left out to fit the size limit: the CSV and the HTML report have them all._",
            md.left_out
        );
    }
    if let Some(link) = &opts.report_link {
        let _ = writeln!(md.out, "\nFull report: {}", cell(link));
    }
    // `max_chars` budgets table rows; headings and warnings of many runs could still pass
    // GitHub's limit on a job summary.
    cap_markdown(md.out, MAX_SUMMARY_BYTES)
}

struct Markdown {
    out: String,
    budget: usize,
    left_out: usize,
}

impl Markdown {
    /// Writes a table; rows past `unfolded` go into a `<details>` block, rows past the budget are
    /// counted and left out.
    fn table(
        &mut self,
        header: &[&str],
        rows: Vec<Vec<String>>,
        unfolded: usize,
        folded_summary: &str,
    ) {
        if rows.is_empty() {
            return;
        }
        let head = format!(
            "| {} |\n|{}\n",
            header.join(" | "),
            "---|".repeat(header.len())
        );
        let line = |r: &Vec<String>| format!("| {} |\n", r.join(" | "));
        let (first, rest) = rows.split_at(rows.len().min(unfolded));
        self.out.push_str(&head);
        self.rows(first.iter().map(line));
        if !rest.is_empty() {
            let _ = write!(
                self.out,
                "\n<details><summary>{folded_summary}</summary>\n\n{head}"
            );
            self.rows(rest.iter().map(line));
            self.out.push_str("\n</details>\n");
        }
        self.out.push('\n');
    }

    fn rows(&mut self, lines: impl Iterator<Item = String>) {
        for l in lines {
            if self.out.len() + l.len() > self.budget {
                self.left_out += 1;
            } else {
                self.out.push_str(&l);
            }
        }
    }
}

/// Text safe inside Markdown: the one escaper, shared with analysis and xtask.
fn cell(s: &str) -> String {
    escape_markdown(s)
}

fn verdicts(md: &mut Markdown, cmp: &Comparison, opts: &MarkdownOptions) {
    let _ = writeln!(
        md.out,
        "### Verdicts: {} against {}\n\n**{}**\n",
        cell(&cmp.new_label),
        cell(&cmp.old_label),
        cmp.summary_line()
    );
    for w in &cmp.warnings {
        let _ = writeln!(md.out, "> ⚠️ {}", cell(w));
    }
    if !cmp.warnings.is_empty() {
        md.out.push('\n');
    }
    let ordered = cmp.ordered();
    let attention = ordered
        .iter()
        .filter(|i| !matches!(i.verdict, Verdict::Same | Verdict::New | Verdict::Missing))
        .count();
    let rows: Vec<Vec<String>> = ordered.iter().map(|i| verdict_row(i)).collect();
    let ci_header = tensorbench_analysis::verdict::ci_header(cmp.ci_level);
    md.table(
        &[
            "verdict", "id", "baseline", "new", "change", &ci_header, "q (BH)",
        ],
        rows,
        attention.clamp(1, opts.unfolded_rows),
        &format!("All {} compared ids", ordered.len()),
    );
}

fn verdict_row(i: &IdComparison) -> Vec<String> {
    let verdict = match (i.verdict, i.severity) {
        (Verdict::Slower, Some(s)) => {
            format!("🔴 **slower** ({})", format!("{s:?}").to_lowercase())
        }
        (Verdict::Slower, None) => "🔴 **slower**".into(),
        (Verdict::Faster, _) => "🟢 faster".into(),
        (Verdict::Invalid, _) => "❌ invalid".into(),
        (Verdict::Ambiguous, _) => "🟡 ambiguous".into(),
        (v, _) => verdict_label(v).to_string(),
    };
    vec![
        verdict,
        cell(&i.id),
        i.old_median_ns.map_or("–".into(), format::format_ns),
        i.new_median_ns.map_or("–".into(), format::format_ns),
        i.ratio.map_or("–".into(), format::change),
        i.ratio_ci.map_or("–".into(), |(lo, hi)| {
            format!("{} to {}", format::change(lo), format::change(hi))
        }),
        i.p_adjusted.map_or("–".into(), |p| format!("{p:.2e}")),
    ]
}

fn run_summary(md: &mut Markdown, run: &Run, opts: &MarkdownOptions) {
    let c = overview::counts(run);
    let m = &run.machine;
    let _ = writeln!(
        md.out,
        "### Run {} ({}, {} profile)\n\n**{} measurements: {} ok · {} invalid · {} failed · {} skipped**\n",
        cell(&run.run_id),
        cell(&run.target),
        cell(&run.profile),
        c.total,
        c.ok,
        c.invalid,
        c.failed,
        c.skipped
    );
    let _ = writeln!(
        md.out,
        "{} · {} logical cores · {} · {} · commit {}\n",
        cell(m.cpu_model.as_deref().unwrap_or("unknown CPU")),
        m.logical_cores,
        cell(m.os.as_deref().unwrap_or("unknown OS")),
        cell(m.rustc.as_deref().unwrap_or("unknown rustc")),
        cell(
            run.git
                .commit
                .as_deref()
                .map_or("unknown", |c| format::short_commit(c))
        )
    );
    let problems: Vec<Vec<String>> = run
        .measurements
        .iter()
        .filter(|m| !facts::is_timed(m))
        .map(|m| {
            vec![
                status_label(m.status).to_string(),
                cell(&m.id),
                cell(m.reason.as_deref().unwrap_or("no reason recorded")),
            ]
        })
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(md.out, "**Not measured** (never shown as speeds):\n");
        md.table(
            &["status", "id", "reason"],
            problems,
            opts.unfolded_rows,
            "All not-measured ids",
        );
    }
    let timed: Vec<Vec<String>> = run
        .measurements
        .iter()
        .filter(|m| facts::is_timed(m))
        .map(|m| timed_row(run, m))
        .collect();
    let n = timed.len();
    md.table(
        &["id", "median", "95% CI", "GFLOP/s", "GB/s", "% roofline"],
        timed,
        0,
        &format!("All {n} timed measurements"),
    );
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Invalid => "❌ invalid",
        Status::Failed => "❌ failed",
        Status::Skipped => "⏭️ skipped",
    }
}

fn timed_row(run: &Run, m: &Measurement) -> Vec<String> {
    let s = m.stats.as_ref();
    let rate = |kind, work: f64| {
        facts::rate(m, kind)
            .filter(|_| work > 0.0)
            .map_or("–".into(), |v| format::significant(v, 3))
    };
    vec![
        cell(&m.id),
        s.map_or("–".into(), |s| format::format_ns(s.median_ns)),
        s.map_or("–".into(), |s| {
            format!(
                "±{}",
                format::percent(
                    (s.ci_high_ns - s.median_ns).max(s.median_ns - s.ci_low_ns) / s.median_ns
                )
            )
        }),
        rate(RateKind::Gflops, m.flops),
        rate(RateKind::Gbps, m.bytes),
        tensorbench_analysis::roofline::place(run, m).map_or("–".into(), |r| {
            cell(&tensorbench_schema::roofline::label(&r))
        }),
    ]
}
