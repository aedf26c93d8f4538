//! Text renderings of a [`Comparison`]: a Markdown verdict table (terminal, `$GITHUB_STEP_SUMMARY`,
//! PR comments) and a boxed terminal table. Regressions come first, worst first.

use crate::verdict::{Comparison, IdComparison, Verdict};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::fmt::Write;

/// Display order of verdicts: what needs attention first.
const ORDER: [Verdict; 7] = [
    Verdict::Slower,
    Verdict::Invalid,
    Verdict::Ambiguous,
    Verdict::Faster,
    Verdict::Missing,
    Verdict::New,
    Verdict::Same,
];

/// The verdict as written in tables.
pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Faster => "faster",
        Verdict::Slower => "SLOWER",
        Verdict::Same => "same",
        Verdict::Ambiguous => "ambiguous",
        Verdict::New => "new",
        Verdict::Missing => "missing",
        Verdict::Invalid => "invalid",
    }
}

/// A duration in ns with a readable unit.
pub fn format_ns(ns: f64) -> String {
    let (v, unit) = match ns.abs() {
        x if x >= 1e9 => (ns / 1e9, "s"),
        x if x >= 1e6 => (ns / 1e6, "ms"),
        x if x >= 1e3 => (ns / 1e3, "µs"),
        _ => (ns, "ns"),
    };
    format!("{v:.3} {unit}")
}

fn format_ratio(r: Option<f64>) -> String {
    r.map_or("–".into(), |r| format!("{:+.1}%", (r - 1.0) * 100.0))
}

fn format_ci(ci: Option<(f64, f64)>) -> String {
    ci.map_or("–".into(), |(lo, hi)| {
        format!("[{:+.1}%, {:+.1}%]", (lo - 1.0) * 100.0, (hi - 1.0) * 100.0)
    })
}

fn format_p(p: Option<f64>) -> String {
    p.map_or("–".into(), |p| {
        if p < 1e-4 {
            format!("{p:.1e}")
        } else {
            format!("{p:.4}")
        }
    })
}

fn verdict_cell(i: &IdComparison) -> String {
    match i.severity {
        Some(s) => format!(
            "{} ({})",
            verdict_label(i.verdict),
            format!("{s:?}").to_lowercase()
        ),
        None => verdict_label(i.verdict).to_string(),
    }
}

fn row(i: &IdComparison) -> [String; 8] {
    [
        verdict_cell(i),
        i.id.clone(),
        i.old_median_ns.map_or("–".into(), format_ns),
        i.new_median_ns.map_or("–".into(), format_ns),
        format_ratio(i.ratio),
        format_ci(i.ratio_ci),
        format_p(i.p_adjusted),
        i.note.clone().unwrap_or_default(),
    ]
}

const HEADER: [&str; 8] = [
    "verdict", "id", "baseline", "new", "change", "95% CI", "q (BH)", "note",
];

impl Comparison {
    /// Items in display order: slower (worst first), invalid, ambiguous, faster, missing, new, same.
    pub fn ordered(&self) -> Vec<&IdComparison> {
        let mut out = self.regressions();
        for v in &ORDER[1..] {
            out.extend(self.items.iter().filter(|i| i.verdict == *v));
        }
        out
    }

    /// One line: how many of each verdict.
    pub fn summary_line(&self) -> String {
        ORDER
            .iter()
            .map(|&v| (v, self.count(v)))
            .filter(|&(v, n)| n > 0 || v == Verdict::Slower)
            .map(|(v, n)| format!("{n} {}", verdict_label(v).to_lowercase()))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// GitHub-flavoured Markdown: title, counts, warnings, then the verdict table.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "### Benchmark verdicts: `{}` vs `{}`\n",
            self.new_label, self.old_label
        );
        let _ = writeln!(md, "**{}**\n", self.summary_line());
        for w in &self.warnings {
            let _ = writeln!(md, "> ⚠️ {w}");
        }
        if !self.warnings.is_empty() {
            md.push('\n');
        }
        let _ = writeln!(md, "| {} |", HEADER.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(HEADER.len()));
        for i in self.ordered() {
            let cells = row(i).map(|c| c.replace('|', "\\|"));
            let mut cells = cells.to_vec();
            cells[1] = format!("`{}`", cells[1]);
            let _ = writeln!(md, "| {} |", cells.join(" | "));
        }
        md
    }

    /// A boxed table for the terminal, followed by the counts and warnings.
    pub fn to_table(&self) -> String {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(HEADER);
        for i in self.ordered() {
            t.add_row(row(i));
        }
        let mut out = format!("{t}\n{}\n", self.summary_line());
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        out
    }
}
