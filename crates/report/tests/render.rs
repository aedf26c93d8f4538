//! Renders reports from fixture runs and checks their structure, their offline-ness, the escaping
//! of hostile names, and the Markdown and CSV outputs.

mod common;

use common::fixtures::{self, NASTY};
use tensorbench_analysis::{CompareConfig, compare_runs};
use tensorbench_report::{MarkdownOptions, ReportInput, render_html, render_markdown, write_csv};
use tensorbench_schema::schema::{Run, Status};

/// `s` as minijinja's HTML auto-escaping writes it.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

fn full_input() -> ReportInput {
    let run = fixtures::run(300, 11);
    let cmp = fixtures::comparison(&run);
    let ids: Vec<&str> = run
        .measurements
        .iter()
        .take(3)
        .map(|m| m.id.as_str())
        .collect();
    let history = fixtures::history(&ids, 12);
    ReportInput::new(vec![run.clone()])
        .with_comparison(cmp)
        .with_history(history)
}

/// The text between `<section id="ID"` and the next `</section>`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = html[start..]
        .find("</section>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

#[test]
fn every_section_is_present() {
    let html = render_html(&full_input()).unwrap();
    for id in [
        "overview",
        "comparison",
        "measurements",
        "not-measured",
        "roofline",
        "scaling",
        "threads",
        "distributions",
        "history",
        "peers",
        "guides",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\"")),
            "missing section {id}"
        );
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "missing nav link to {id}"
        );
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("prefers-color-scheme: dark"));
    // Roofline charts for both devices with measured ceilings.
    let roof = section(&html, "roofline");
    assert!(roof.contains("Roofline — cpu") && roof.contains("Roofline — cuda:0"));
    assert!(roof.contains("memory 30 GB/s") && roof.contains("compute 360 GFLOP/s"));
    // Axis titles carry units.
    assert!(roof.contains("arithmetic intensity (FLOP/byte, log)"));
    assert!(roof.contains("achieved GFLOP/s (log)"));
    assert!(section(&html, "scaling").contains("bytes moved per call (log)"));
    assert!(section(&html, "threads").contains("speed-up over 1 thread (×)"));
    assert!(section(&html, "distributions").contains("deviation from the median (%)"));
    // Peers: a framework and the GPU beside the CPU.
    let peers = section(&html, "peers");
    assert!(peers.contains("[peer]") && peers.contains("cuda · cuda:0"));
    // Guides linked.
    for doc in ["docs/INTERPRETING.md", "docs/TROUBLESHOOTING.md"] {
        assert!(
            html.contains(&format!("href=\"{}\"", esc(doc))),
            "no link to {doc}"
        );
    }
}

#[test]
fn optional_sections_are_left_out_when_empty() {
    let mut run = fixtures::empty_run("cpu", 3);
    run.peaks.clear();
    let html = render_html(&ReportInput::new(vec![run])).unwrap();
    for id in [
        "comparison",
        "not-measured",
        "scaling",
        "threads",
        "distributions",
        "history",
        "peers",
    ] {
        assert!(
            !html.contains(&format!("<section id=\"{id}\"")),
            "unexpected section {id}"
        );
    }
    assert!(section(&html, "roofline").contains("No ceilings were measured"));
    assert!(html.contains("No roofline probes ran"));
}

#[test]
fn report_makes_no_network_reference() {
    let html = render_html(&full_input()).unwrap();
    let lower = html.to_lowercase();
    // The only URL is the SVG namespace, which is a name, not a fetch.
    let without_ns = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for bad in [
        "http://",
        "https://",
        "//cdn",
        "<link",
        "@import",
        "fetch(",
        "xmlhttprequest",
        "<iframe",
        "<img",
        "src=",
    ] {
        assert!(!without_ns.contains(bad), "report contains {bad:?}");
    }
    assert!(!lower.contains("url("), "CSS must not load anything");
    // Three script elements: the two JSON blocks and the inline script.
    assert_eq!(lower.matches("<script").count(), 3);
}

#[test]
fn hostile_names_show_as_text() {
    let input = full_input();
    let html = render_html(&input).unwrap();
    assert!(!html.contains(NASTY));
    assert!(!html.contains("<script>alert"));
    assert!(
        !html.contains("<b>co</b>") && !html.contains("<i>co</i>") && !html.contains("<em>co</em>")
    );
    assert!(html.contains(&esc(NASTY)));
    assert!(html.contains(&esc("fixture-host & <b>co</b>")));
    assert!(html.contains(&esc("simd & <i>co</i>")));
    // Nothing in the JSON blocks can close their script element or open a comment.
    for id in ["tb-data", "tb-runs"] {
        let body = script_body(&html, id);
        assert!(
            !body.contains('<') && !body.contains('>'),
            "{id} holds markup characters"
        );
    }
    // And the embedded runs parse back to exactly the input's JSON.
    let embedded: serde_json::Value = serde_json::from_str(script_body(&html, "tb-runs")).unwrap();
    let original: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&input.runs).unwrap()).unwrap();
    assert!(embedded == original, "embedded runs differ from the input");
    let runs: Vec<Run> = serde_json::from_value(embedded).unwrap();
    assert_eq!(
        runs[0].measurements[runs[0].measurements.len() - 5].op,
        NASTY
    );
}

fn script_body<'a>(html: &'a str, id: &str) -> &'a str {
    let open = format!("<script type=\"application/json\" id=\"{id}\">");
    let start = html.find(&open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    &html[start..end]
}

#[test]
fn untimed_measurements_are_listed_with_reasons_never_as_speeds() {
    let input = full_input();
    let html = render_html(&input).unwrap();
    let tables = section(&html, "measurements");
    let listed = section(&html, "not-measured");
    for m in input.runs[0]
        .measurements
        .iter()
        .filter(|m| m.status != Status::Ok)
    {
        assert!(
            !tables.contains(&format!("title=\"{}\"", esc(&m.id))),
            "{} shown as a speed",
            m.id
        );
        assert!(listed.contains(&esc(&m.id)), "{} not listed", m.id);
    }
    assert!(listed.contains("panicked: index out of bounds"));
    assert!(listed.contains(&esc("f16 needs avx512fp16 <not present> & \"skipped\"")));
    assert!(listed.contains("max relative error 1.2e-1 &gt; tolerance 1.0e-5"));
}

#[test]
fn comparison_puts_regressions_first() {
    let html = render_html(&full_input()).unwrap();
    let cmp = section(&html, "comparison");
    let first_row = cmp.find("<tr data-i=\"0\"").unwrap();
    assert!(cmp[first_row..].starts_with("<tr data-i=\"0\" class=\"row-v-slower\""));
    assert!(cmp.contains("SLOWER (major)"));
    assert!(cmp.contains(&esc("CPU model differs: \"A\" vs <B>")));
}

#[test]
fn history_marks_change_points() {
    let html = render_html(&full_input()).unwrap();
    let h = section(&html, "history");
    assert!(h.contains("class=\"step\""));
    assert!(h.contains("+20.0%"));
    assert!(h.contains("median time (µs)"));
}

#[test]
fn rendering_is_deterministic() {
    let input = full_input();
    assert_eq!(render_html(&input).unwrap(), render_html(&input).unwrap());
}

#[test]
fn renders_verdicts_and_history_computed_by_analysis() {
    let old = fixtures::run(120, 21);
    let mut new = fixtures::run(120, 22);
    new.run_id.push_str("-new");
    let cmp = compare_runs(&old, &new, &CompareConfig::default());
    let history = tensorbench_analysis::history::history_of_runs(
        vec![old.clone(), new.clone()],
        &tensorbench_analysis::history::StepConfig::default(),
    );
    let input = ReportInput::new(vec![new])
        .with_comparison(cmp)
        .with_history(history);
    let html = render_html(&input).unwrap();
    assert!(
        html.contains("<section id=\"comparison\"") && html.contains("<section id=\"history\"")
    );
}

#[test]
fn markdown_leads_with_verdicts_and_folds_long_tables() {
    let input = full_input();
    let md = render_markdown(&input, &MarkdownOptions::default());
    let verdicts = md.find("### Verdicts").unwrap();
    let run = md.find("### Run").unwrap();
    assert!(verdicts < run);
    assert!(md.contains("🔴 **slower** (major)"));
    assert!(md.contains("<details><summary>All "));
    assert!(!md.contains("<script>"));
    assert!(md.contains("&lt;script&gt;"));
    // Table rows never break: no raw pipe inside a cell.
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        let cells = line.trim_end_matches(" |").split(" | ").count();
        assert!(cells == 7 || cells == 6 || cells == 3, "broken row: {line}");
    }
}

#[test]
fn markdown_fits_a_pr_comment_at_2000_measurements() {
    let run = fixtures::run(2000, 5);
    let input = ReportInput::new(vec![run.clone()]).with_comparison(fixtures::comparison(&run));
    let md = render_markdown(&input, &MarkdownOptions::default());
    assert!(md.len() <= 62_000, "{} chars", md.len());
    assert!(md.contains("left out to fit the size limit"));
}

#[test]
fn csv_has_every_measurement_properly_quoted() {
    let input = full_input();
    let mut buf = Vec::new();
    write_csv(&input.runs, &mut buf).unwrap();
    let mut reader = csv::Reader::from_reader(buf.as_slice());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), input.runs[0].measurements.len());
    let nasty = rows
        .iter()
        .find(|r| &r[col("op")] == NASTY)
        .expect("hostile op round-trips");
    assert_eq!(&nasty[col("backend")], "simd & <i>co</i>");
    let skipped = rows
        .iter()
        .find(|r| &r[col("status")] == "skipped")
        .unwrap();
    assert!(skipped[col("median_ns")].is_empty() && skipped[col("gflops")].is_empty());
    assert!(!skipped[col("reason")].is_empty());
}

#[test]
fn energy_columns_appear_only_with_a_counter_and_the_reason_otherwise() {
    use tensorbench_schema::schema::Energy;
    let mut run = fixtures::run(20, 3);
    for m in &mut run.measurements {
        m.energy = Some(Energy::unavailable("no RAPL energy counters: test reason"));
    }
    let html = render_html(&ReportInput::new(vec![run.clone()])).unwrap();
    assert!(!html.contains(&esc("GFLOP/J")));
    assert!(
        section(&html, "overview").contains("not measured: no RAPL energy counters: test reason")
    );

    let m = &mut run.measurements[0];
    m.energy = Some(Energy {
        source: Some("rapl:package-0".into()),
        joules_per_iter: Some(2.5e-3),
        watts: Some(50.0),
        gflops_per_joule: Some(7.25),
        unavailable: None,
    });
    let html = render_html(&ReportInput::new(vec![run])).unwrap();
    let measurements = section(&html, "measurements");
    assert!(measurements.contains(&esc("GFLOP/J")));
    assert!(measurements.contains("2.5 mJ"), "joules per call shown");
    assert!(measurements.contains("7.25"));
    assert!(section(&html, "overview").contains("rapl:package-0"));
}
