//! A corpus of crafted run files, generated here: spreadsheet formulas, Markdown and HTML markup,
//! line breaks, non-ASCII text, extreme, negative and non-finite numbers, duplicate ids, an empty
//! run and a run of another schema version. Each goes through the readers, analysis (compare,
//! history, exports) and every rendering (HTML, Markdown, CSV, the verdict table); each must come
//! out safe, or fail with an error naming the file, and never panic.

mod common;

use common::fixtures;
use tensorbench_analysis::{CompareConfig, compare_runs};
use tensorbench_report::{MarkdownOptions, ReportInput, render_html, render_markdown, write_csv};
use tensorbench_schema::schema::{Run, SCHEMA_VERSION, Status};
use tensorbench_schema::store::load_run;

/// Spreadsheet formulas (OWASP's CSV-injection starters).
const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example/\",\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
];

/// Markup and line breaks: each must reach Markdown and HTML as text.
const MARKUP: [&str; 6] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** _em_ [link](javascript:alert(1)) ![i](http://x/y.png) `code` ~~s~~ # h $x$ @someone",
    "line1\n| INJECTED | row |\nline3\r\nline4",
    "<!-- open comment <details><summary>x",
    "a\\|b \u{2028}sep &amp; &lt;script&gt;",
];

/// Non-ASCII text, cut so that byte 12 falls inside a character.
const UNICODE: [&str; 4] = [
    "a日日日日日日日日日",
    "ünïcödé-höst-🚀",
    "\u{202e}rtl-override",
    "ça/ñ/日本語/n=1",
];

/// Numbers at and past the edges of f64.
const EXTREMES: [f64; 7] = [1.5e308, f64::MAX, -1e300, 5e-324, -5e-324, 0.0, -0.0];
const NON_FINITE: [f64; 3] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY];

fn base() -> Run {
    fixtures::run(40, 7)
}

/// The crafted runs, each with a name (its file name).
fn corpus() -> Vec<(&'static str, Run)> {
    let mut out = Vec::new();

    let mut r = base();
    for (i, m) in r.measurements.iter_mut().enumerate() {
        let f = FORMULAS[i % FORMULAS.len()];
        m.id = format!("{f}/{}", m.id);
        m.op = f.into();
        m.backend = f.into();
        m.device = f.into();
        if m.status != Status::Ok {
            m.reason = Some(f.into());
        }
        m.params.insert("p".into(), f.into());
    }
    r.target = FORMULAS[0].into();
    r.run_id = FORMULAS[3].into();
    out.push(("formulas", r));

    let mut r = base();
    for (i, m) in r.measurements.iter_mut().enumerate() {
        let t = MARKUP[i % MARKUP.len()];
        m.id = format!("{t}/{}", m.id);
        m.device = t.into();
        m.reason = Some(t.into());
        if m.status == Status::Ok && i % 2 == 0 {
            // Untimed with a hostile reason, so it shows in the "not measured" tables.
            m.status = Status::Failed;
            m.stats = None;
        }
        m.extra.insert(t.into(), t.into());
    }
    r.run_id = MARKUP[0].into();
    r.target = MARKUP[1].into();
    r.profile = MARKUP[3].into();
    r.command = MARKUP[2].into();
    r.machine.hostname = Some(MARKUP[3].into());
    r.machine.cpu_model = Some(MARKUP[0].into());
    r.machine.os = Some(MARKUP[4].into());
    r.machine.rustc = Some(MARKUP[2].into());
    r.machine.features = MARKUP.iter().map(|s| s.to_string()).collect();
    r.git.commit = Some(MARKUP[3].into());
    r.git.branch = Some(MARKUP[0].into());
    let peaks = r.peaks.remove("cpu").unwrap_or_default();
    r.peaks.insert(MARKUP[1].into(), peaks);
    out.push(("markup", r));

    let mut r = base();
    for (i, m) in r.measurements.iter_mut().enumerate() {
        let u = UNICODE[i % UNICODE.len()];
        m.id = format!("{u}/{}", m.id);
        m.device = u.into();
        m.reason = Some(u.into());
    }
    r.git.commit = Some(UNICODE[0].into());
    r.git.branch = Some(UNICODE[1].into());
    r.machine.hostname = Some(UNICODE[1].into());
    r.machine.cpu_model = Some(UNICODE[2].into());
    r.run_id = UNICODE[3].into();
    out.push(("unicode", r));

    let mut r = base();
    r.git.commit = Some("é".repeat(3) + "日🚀x");
    for (i, m) in r.measurements.iter_mut().enumerate() {
        let v = EXTREMES[i % EXTREMES.len()];
        let w = EXTREMES[(i + 3) % EXTREMES.len()];
        if let Some(s) = m.stats.as_mut() {
            s.median_ns = v;
            s.ci_low_ns = w;
            s.ci_high_ns = v;
            s.mean_ns = w;
            s.min_ns = -v;
            s.max_ns = v;
            s.std_ns = w;
        }
        for (j, s) in m.samples_ns.iter_mut().enumerate() {
            *s = EXTREMES[(i + j) % EXTREMES.len()];
        }
        m.flops = v;
        m.bytes = w;
        if let Some(t) = m.throughput.as_mut() {
            t.gflops = Some(v);
            t.gbps = Some(w);
        }
        if i % 5 == 0 {
            m.threads = usize::MAX;
        }
    }
    for values in r.peaks.values_mut() {
        for (j, v) in values.values_mut().enumerate() {
            *v = EXTREMES[j % EXTREMES.len()];
        }
    }
    r.machine.load_avg_1m = Some(-1e300);
    out.push(("extremes", r));

    // Not representable in a JSON file (serde writes null): in memory only, but a library caller
    // can hand such a run to the renderers.
    let mut r = base();
    for (i, m) in r.measurements.iter_mut().enumerate() {
        let v = NON_FINITE[i % NON_FINITE.len()];
        if let Some(s) = m.stats.as_mut() {
            s.median_ns = v;
            s.ci_low_ns = NON_FINITE[(i + 1) % 3];
            s.ci_high_ns = v;
            s.confidence = v;
        }
        for (j, s) in m.samples_ns.iter_mut().enumerate() {
            if j % 3 == 0 {
                *s = NON_FINITE[(i + j) % 3];
            }
        }
        m.flops = v;
        m.bytes = NON_FINITE[(i + 2) % 3];
        if let Some(t) = m.throughput.as_mut() {
            t.gflops = Some(v);
            t.gbps = Some(f64::NAN);
        }
        if let Some(val) = m.validation.as_mut() {
            val.max_rel_err = f64::NAN;
        }
    }
    for values in r.peaks.values_mut() {
        for (j, v) in values.values_mut().enumerate() {
            *v = NON_FINITE[j % 3];
        }
    }
    out.push(("non_finite", r));

    let mut r = base();
    let copy = r.measurements.clone();
    r.measurements.extend(copy);
    out.push(("duplicates", r));

    let mut r = base();
    r.measurements.clear();
    out.push(("empty", r));

    let mut r = base();
    r.schema_version = SCHEMA_VERSION + 1;
    out.push(("other_version", r));

    out
}

/// Pipes that separate cells (not escaped by a backslash).
fn separators(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

/// Markdown must hold no raw tag from the corpus, and every table row must have its header's
/// number of cells (a line break or pipe from a file would split or add rows).
fn check_markdown(name: &str, md: &str) {
    for bad in [
        "<script",
        "<img",
        "<!--",
        "onerror=alert(1)>",
        "<details><summary>x",
    ] {
        assert!(!md.contains(bad), "{name}: raw {bad:?} in Markdown:\n{md}");
    }
    // Links, images, emphasis and code only with their markers escaped.
    let unescaped = md.replace("\\]", "").replace("\\*", "").replace("\\`", "");
    for bad in ["](javascript:", "**bold", "`code`"] {
        assert!(
            !unescaped.contains(bad),
            "{name}: live {bad:?} in Markdown:\n{md}"
        );
    }
    assert!(!md.contains('\r'), "{name}: carriage return in Markdown");
    let mut columns: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = separators(line);
            let expected = *columns.get_or_insert(n);
            assert_eq!(n, expected, "{name}: row with other cell count: {line:?}");
            assert!(line.ends_with('|'), "{name}: row not closed: {line:?}");
        } else {
            columns = None;
        }
        // A line break from a file would start a line with the text after it.
        for after_break in ["| INJECTED", "line3", "line4", "sep "] {
            assert!(
                !line.trim_start().starts_with(after_break),
                "{name}: a line break from a file reached the Markdown: {line:?}"
            );
        }
    }
    assert!(md.len() <= 1_000_000);
}

/// No CSV cell may start like a formula unless it is a number we wrote.
fn check_csv(name: &str, csv_bytes: &[u8], rows: usize) {
    let mut reader = csv::Reader::from_reader(csv_bytes);
    let header_len = reader.headers().unwrap().len();
    let mut n = 0;
    for rec in reader.records() {
        let rec = rec.unwrap_or_else(|e| panic!("{name}: CSV does not parse back: {e}"));
        assert_eq!(rec.len(), header_len, "{name}");
        for cell in rec.iter() {
            if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                assert!(
                    cell.parse::<f64>().is_ok(),
                    "{name}: formula-like CSV cell {cell:?}"
                );
            }
        }
        n += 1;
    }
    assert_eq!(n, rows, "{name}: one row per measurement");
}

fn check_html(name: &str, html: &str) {
    for bad in [
        "<script>alert",
        "<img src=x",
        "<!-- open comment",
        "<details><summary>x",
        "</script> &",
    ] {
        assert!(!html.contains(bad), "{name}: raw {bad:?} in HTML");
    }
}

/// Every rendering of `run`, alone and compared both ways with an ordinary run.
fn render_all(name: &str, run: &Run) {
    let other = base();
    let fwd = compare_runs(&other, run, &CompareConfig::default());
    let back = compare_runs(run, &other, &CompareConfig::default());
    let _ = tensorbench_analysis::check_like_for_like(&other, run, true);
    check_markdown(name, &fwd.to_markdown());
    check_markdown(name, &back.to_markdown());
    let _ = fwd.to_table();
    let _ = tensorbench_analysis::interop::export::to_bmf(run);
    let _ = tensorbench_analysis::interop::export::to_github_action_benchmark(run);
    let _ = tensorbench_analysis::complexity::fit_sweeps(run, "n");
    let _ = tensorbench_analysis::roofline::summarize_ops(run);
    let history = tensorbench_analysis::history::history_of_runs(
        vec![other.clone(), run.clone(), other.clone(), run.clone()],
        &Default::default(),
    );

    let input = ReportInput::new(vec![run.clone(), other.clone()])
        .with_comparison(fwd)
        .with_comparison(back)
        .with_history(history);
    match render_html(&input) {
        Ok(html) => check_html(name, &html),
        // Only a template bug may fail here, and it must say so rather than panic.
        Err(e) => panic!("{name}: HTML failed: {e}"),
    }
    let md = render_markdown(
        &input,
        &MarkdownOptions {
            report_link: Some(MARKUP[3].into()),
            ..MarkdownOptions::default()
        },
    );
    check_markdown(name, &md);
    let mut csv_out = Vec::new();
    write_csv(std::slice::from_ref(run), &mut csv_out).unwrap();
    check_csv(name, &csv_out, run.measurements.len());
}

#[test]
fn crafted_runs_render_safely_in_memory() {
    for (name, run) in corpus() {
        render_all(name, &run);
    }
}

/// Through the file: a run the reader accepts renders safely; one it refuses is refused with the
/// file (and the field or version) named.
#[test]
fn crafted_run_files_load_and_render_or_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for (name, run) in corpus() {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&run).unwrap()).unwrap();
        match (name, load_run(&path)) {
            ("other_version", Err(e)) => {
                let msg = e.to_string();
                assert!(msg.contains("other_version.json"), "{msg}");
                assert!(msg.contains(&(SCHEMA_VERSION + 1).to_string()), "{msg}");
            }
            // NaN and infinity are written as null, which an f64 field refuses.
            ("non_finite", Err(e)) => {
                let msg = e.to_string();
                assert!(msg.contains("non_finite.json"), "{msg}");
                assert!(msg.contains("field `"), "{msg}");
            }
            ("other_version" | "non_finite", Ok(_)) => panic!("{name}: accepted"),
            (_, Ok(back)) => render_all(name, &back),
            (_, Err(e)) => panic!("{name}: refused: {e}"),
        }
    }
    // The same as a stream (`.jsonl`) of the one interrupted run.
    for (name, run) in corpus() {
        if name == "other_version" || name == "non_finite" {
            continue;
        }
        let path = dir.path().join(format!("{name}.jsonl"));
        let mut header = run.clone();
        header.measurements.clear();
        let mut v = serde_json::to_value(&header).unwrap();
        v["record"] = "header".into();
        let mut text = v.to_string() + "\n";
        for m in &run.measurements {
            let mut v = serde_json::to_value(m).unwrap();
            v["record"] = "measurement".into();
            text.push_str(&v.to_string());
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let back = load_run(&path).unwrap_or_else(|e| panic!("{name}.jsonl: {e}"));
        assert_eq!(back.measurements.len(), run.measurements.len());
        render_all(name, &back);
    }
}

/// Hand-written JSON that serde refuses: non-finite literals and numbers past f64.
#[test]
fn unreadable_numbers_are_refused_naming_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_string_pretty(&base()).unwrap();
    let median = good
        .find("\"median_ns\": ")
        .expect("a median in the fixture");
    let value_start = median + "\"median_ns\": ".len();
    let value_end = value_start + good[value_start..].find(',').unwrap();
    for (name, literal) in [
        ("nan", "NaN"),
        ("inf", "Infinity"),
        ("huge", "1e400"),
        ("neg_huge", "-1e400"),
        ("string", "\"=1+1\""),
    ] {
        let text = format!("{}{literal}{}", &good[..value_start], &good[value_end..]);
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, text).unwrap();
        let msg = load_run(&path).expect_err(name).to_string();
        assert!(msg.contains(&format!("{name}.json")), "{name}: {msg}");
    }
    // Tiny and subnormal numbers are fine.
    let text = format!("{}5e-324{}", &good[..value_start], &good[value_end..]);
    let path = dir.path().join("subnormal.json");
    std::fs::write(&path, text).unwrap();
    render_all("subnormal", &load_run(&path).unwrap());
}
