//! Text renderings of a [`Comparison`]: a Markdown verdict table (terminal, `$GITHUB_STEP_SUMMARY`,
//! PR comments) and a boxed terminal table. Regressions come first, worst first.
//!
//! Also **the** Markdown escaper ([`escape_markdown`]) and size cap ([`cap_markdown`]): every
//! Markdown we render (these verdicts, the report's summary, xtask's run table) puts text from run
//! files through them, so an id, reason, machine name or git field is shown as text, never as
//! markup, and a job summary stays under GitHub's limit. On the terminal, [`escape_control`]
//! does the same for control characters.

use crate::verdict::{Comparison, IdComparison, Verdict, ci_header};
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::fmt::Write;

/// GitHub refuses a job summary (`$GITHUB_STEP_SUMMARY`) over 1 MiB; we stay under it.
pub const MAX_SUMMARY_BYTES: usize = 1_000_000;

/// Text from a run file made safe inside Markdown: in a table cell, a heading, a quote or an HTML
/// block (`<details>`) alike. Markdown metacharacters get a backslash, HTML's `&`, `<`, `>` become
/// entities (so no tag, comment or script survives), and line breaks become spaces (so no text
/// ends a table row or starts a block). The one escaper of every Markdown we render.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Line and paragraph separators too: some renderers break lines on them.
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push(' '),
            // Inline markup (emphasis, code, links, images, strikethrough, math, mentions) and the
            // cell separator. Block markers (`-`, `+`, `=`, `1.`) need no escape: escaped text
            // never starts a line.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '$' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text from a run file made safe on a terminal or in a log line: every control character
/// (line breaks, CR, tab, ESC, BEL) shown as its escape (`\n`, `\u{1b}`). Raw, an escape
/// sequence could hide or forge text (an OSC 8 link, a cleared screen), a CR overwrite a line,
/// and a line break start a log line of the file's making (in CI, a forged `::error::`).
pub fn escape_control(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `md` cut to at most `max_bytes` bytes (at a line end when one is near, never inside a
/// character), any `<details>` left open closed, and a note saying so. Unchanged when it fits;
/// just the note when not even that fits (a limit under ~100 bytes).
pub fn cap_markdown(md: String, max_bytes: usize) -> String {
    if md.len() <= max_bytes {
        return md;
    }
    let note = format!(
        "\n\n_Truncated: this summary passed {max_bytes} bytes. The run files and the HTML report have everything._\n"
    );
    const CLOSE: &str = "\n</details>\n";
    let room = max_bytes.saturating_sub(note.len());
    let mut cut = room;
    while !md.is_char_boundary(cut) {
        cut -= 1;
    }
    // Prefer a whole line, unless that throws most of the room away.
    if let Some(nl) = md[..cut].rfind('\n')
        && nl >= cut / 2
    {
        cut = nl + 1;
    }
    let mut out = md[..cut].to_string();
    loop {
        let open = out.matches("<details>").count();
        let closed = out.matches("</details>").count();
        if open <= closed {
            break;
        }
        // Room for the closing tags comes out of the kept text.
        let need = CLOSE.len() * (open - closed);
        if out.len() + need > room {
            let mut c = out.len().saturating_sub(need);
            while !out.is_char_boundary(c) {
                c -= 1;
            }
            out.truncate(c);
            continue;
        }
        for _ in closed..open {
            out.push_str(CLOSE);
        }
        break;
    }
    out.push_str(&note);
    out
}

/// Display order of verdicts: what needs attention first.
const ORDER: [Verdict; 8] = [
    Verdict::Slower,
    Verdict::Invalid,
    Verdict::Ambiguous,
    Verdict::Insensitive,
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
        Verdict::Insensitive => "insensitive",
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

fn header(ci_level: f64) -> [String; 8] {
    [
        "verdict", "id", "baseline", "new", "change", "", "q (BH)", "note",
    ]
    .map(String::from)
    .map(|h| if h.is_empty() { ci_header(ci_level) } else { h })
}

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
    /// Every text is escaped ([`escape_markdown`]); rows that would take it past
    /// [`MAX_SUMMARY_BYTES`] are left out and counted in a closing note.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "### Benchmark verdicts: {} vs {}\n",
            escape_markdown(&self.new_label),
            escape_markdown(&self.old_label)
        );
        let _ = writeln!(md, "**{}**\n", self.summary_line());
        for w in &self.warnings {
            let _ = writeln!(md, "> ⚠️ {}", escape_markdown(w));
        }
        if !self.warnings.is_empty() {
            md.push('\n');
        }
        let header = header(self.ci_level);
        let _ = writeln!(md, "| {} |", header.join(" | "));
        let _ = writeln!(md, "|{}", "---|".repeat(header.len()));
        // Room kept for the note on rows left out.
        let budget = MAX_SUMMARY_BYTES - 200;
        let mut left_out = 0usize;
        for i in self.ordered() {
            let cells = row(i).map(|c| escape_markdown(&c));
            let line = format!("| {} |\n", cells.join(" | "));
            if md.len() + line.len() > budget {
                left_out += 1;
            } else {
                md.push_str(&line);
            }
        }
        if left_out > 0 {
            let _ = writeln!(
                md,
                "\n_{left_out} row(s) left out to fit the size limit: `compare --format json` has them all._"
            );
        }
        cap_markdown(md, MAX_SUMMARY_BYTES)
    }

    /// A job summary / PR comment: only what changed or could not be resolved (slower, faster,
    /// invalid, insensitive, with CI and MDE in the note), then the full table folded in a
    /// `<details>` block. Escaped and capped like [`Comparison::to_markdown`].
    pub fn to_summary_markdown(&self) -> String {
        let notable = |v: Verdict| {
            matches!(
                v,
                Verdict::Slower | Verdict::Faster | Verdict::Invalid | Verdict::Insensitive
            )
        };
        let header = header(self.ci_level);
        let mut md = format!(
            "### Benchmark verdicts: {} vs {}\n\n**{}**\n\n",
            escape_markdown(&self.new_label),
            escape_markdown(&self.old_label),
            self.summary_line()
        );
        let rows: Vec<&IdComparison> = self
            .ordered()
            .into_iter()
            .filter(|i| notable(i.verdict))
            .collect();
        if rows.is_empty() {
            md.push_str("No id changed beyond the threshold, and every id could resolve it.\n");
        } else {
            let _ = writeln!(md, "| {} |", header.join(" | "));
            let _ = writeln!(md, "|{}", "---|".repeat(header.len()));
            for i in rows {
                let cells = row(i).map(|c| escape_markdown(&c));
                let _ = writeln!(md, "| {} |", cells.join(" | "));
            }
        }
        let _ = write!(
            md,
            "\n<details><summary>All {} ids</summary>\n\n{}\n</details>\n",
            self.items.len(),
            self.to_markdown()
        );
        cap_markdown(md, MAX_SUMMARY_BYTES)
    }

    /// A boxed table for the terminal, followed by the counts and warnings.
    pub fn to_table(&self) -> String {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(header(self.ci_level));
        for i in self.ordered() {
            t.add_row(row(i).map(|c| escape_control(&c)));
        }
        let mut out = format!("{t}\n{}\n", self.summary_line());
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {}", escape_control(w));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_line_breaks_are_text() {
        assert_eq!(
            escape_markdown("a|b\n<script>*x*</script>\r[l](u) `c` @me &amp;"),
            "a\\|b &lt;script&gt;\\*x\\*&lt;/script&gt; \\[l\\](u) \\`c\\` \\@me &amp;amp;"
        );
        assert_eq!(
            escape_markdown("cpu-simd/add/f32/n=1"),
            "cpu-simd/add/f32/n=1"
        );
        assert_eq!(escape_markdown("ünï\u{2028}cödé"), "ünï cödé");
    }

    #[test]
    fn control_characters_are_shown_escaped_and_the_rest_kept() {
        assert_eq!(
            escape_control("a\nb\r\t\u{1b}[2J\u{7}ünï|<b>"),
            "a\\nb\\r\\t\\u{1b}[2J\\u{7}ünï|<b>"
        );
        assert_eq!(
            escape_control("cpu-simd/add/f32/n=1"),
            "cpu-simd/add/f32/n=1"
        );
    }

    #[test]
    fn cap_cuts_at_a_char_boundary_and_closes_details() {
        let short = "fits".to_string();
        assert_eq!(cap_markdown(short.clone(), 100), short);
        let long = format!("<details><summary>s</summary>\n\n{}", "é|\n".repeat(2000));
        let capped = cap_markdown(long, 1000);
        assert!(capped.len() <= 1000, "{}", capped.len());
        assert!(capped.contains("</details>") && capped.contains("Truncated"));
        // Tiny limits never panic.
        for max in 0..40 {
            let _ = cap_markdown("ééééé\n".repeat(20), max);
        }
    }

    fn item(id: &str, verdict: Verdict) -> IdComparison {
        IdComparison {
            id: id.into(),
            op: "add".into(),
            backend: "simd".into(),
            verdict,
            severity: None,
            ratio: Some(1.05),
            ratio_ci: Some((1.03, 1.07)),
            p_value: None,
            p_adjusted: None,
            threshold: 0.01,
            old_median_ns: Some(100.0),
            new_median_ns: Some(105.0),
            note: Some("±0.8% detectable here; 6 rounds".into()),
        }
    }

    #[test]
    fn the_summary_lists_changed_and_insensitive_ids_and_folds_the_rest() {
        let cmp = Comparison {
            old_label: "base".into(),
            new_label: "head".into(),
            old_run_id: "a".into(),
            new_run_id: "b".into(),
            warnings: vec![],
            items: vec![
                item("x/slow", Verdict::Slower),
                item("x/same", Verdict::Same),
                item("x/deaf", Verdict::Insensitive),
            ],
            ci_level: 0.9975,
        };
        let md = cmp.to_summary_markdown();
        let (top, folded) = md.split_once("<details>").expect("a folded full table");
        assert!(top.contains("x/slow") && top.contains("x/deaf"), "{top}");
        assert!(!top.contains("x/same"), "{top}");
        assert!(
            top.contains("99.8% CI") && top.contains("detectable"),
            "{top}"
        );
        assert!(
            folded.contains("x/same") && folded.contains("</details>"),
            "{folded}"
        );
    }
}
