//! The terminal table and its Markdown twin: one row per measurement.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use tensorbench_analysis::render::{
    MAX_SUMMARY_BYTES, cap_markdown, escape_control, escape_markdown,
};
use tensorbench_core::schema::{Measurement, Run, Status};

const HEADER: [&str; 11] = [
    "op",
    "backend",
    "dtype",
    "params",
    "threads",
    "median",
    "±CI",
    "throughput",
    "roofline",
    "valid",
    "status",
];

/// The run as a terminal table, with a one-line summary of statuses under it. Text from the run
/// file has its control characters escaped: no escape sequence or line break of a file's making
/// reaches the terminal or a CI log.
pub fn render(run: &Run) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(HEADER);
    for m in &run.measurements {
        let cells = row(m);
        t.add_row(cells.into_iter().enumerate().map(|(i, c)| {
            let cell = Cell::new(escape_control(&c));
            // threads, median, ±CI, throughput, roofline: numbers.
            if (4..=8).contains(&i) {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    format!("{t}\n{}", escape_control(&summary_line(run)))
}

/// The run as a GitHub-flavoured Markdown table. Every cell goes through the one Markdown
/// escaper (`tensorbench_analysis::render::escape_markdown`); rows that would pass GitHub's job
/// summary limit are left out and counted.
pub fn render_markdown(run: &Run) -> String {
    let mut out = format!(
        "| {} |\n|{}|\n",
        HEADER.join(" | "),
        "---|".repeat(HEADER.len())
    );
    let budget = MAX_SUMMARY_BYTES - 1000;
    let mut left_out = 0usize;
    for m in &run.measurements {
        let cells: Vec<String> = row(m).iter().map(|c| escape_markdown(c)).collect();
        let line = format!("| {} |\n", cells.join(" | "));
        if out.len() + line.len() > budget {
            left_out += 1;
        } else {
            out.push_str(&line);
        }
    }
    if left_out > 0 {
        out.push_str(&format!(
            "\n_{left_out} row(s) left out to fit the size limit: the run file has them all._\n"
        ));
    }
    out.push_str(&format!("\n{}\n", escape_markdown(&summary_line(run))));
    cap_markdown(out, MAX_SUMMARY_BYTES)
}

fn row(m: &Measurement) -> Vec<String> {
    let params = m
        .params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.to_string().trim_matches('"')))
        .collect::<Vec<_>>()
        .join(",");
    let (median, ci) = match &m.stats {
        Some(s) if m.status == Status::Ok => (format_ns(s.median_ns), ci_cell(s)),
        _ => ("-".into(), "-".into()),
    };
    vec![
        m.op.clone(),
        m.backend.clone(),
        dtype(m),
        params,
        m.threads.to_string(),
        median,
        ci,
        throughput(m),
        roofline(m),
        validation(m),
        status(m),
    ]
}

/// The element type; an importer that could not know it says so in `extra.dtype` (criterion
/// records none), and that is shown rather than the placeholder.
fn dtype(m: &Measurement) -> String {
    match m.extra.get("dtype").and_then(|v| v.as_str()) {
        Some(said) => said.to_string(),
        None => m.dtype.name().to_string(),
    }
}

/// `±1.2%`, with the interval's level when it is not 95% (too few samples to reach it).
fn ci_cell(s: &tensorbench_core::schema::Stats) -> String {
    let half = (s.ci_high_ns - s.ci_low_ns) / 2.0 / s.median_ns * 100.0;
    if (s.confidence - 0.95).abs() > 1e-9 {
        format!("±{half:.1}% ({:.0}% CI)", s.confidence * 100.0)
    } else {
        format!("±{half:.1}%")
    }
}

fn throughput(m: &Measurement) -> String {
    if m.status != Status::Ok {
        return "-".into();
    }
    let tp = m.throughput.as_ref();
    match (tp.and_then(|t| t.gflops), tp.and_then(|t| t.gbps)) {
        (Some(f), _)
            if m.roofline
                .as_ref()
                .is_some_and(|r| r.ceiling.contains("flops")) =>
        {
            format!("{f:.1} GFLOP/s")
        }
        (_, Some(b)) => format!("{b:.1} GB/s"),
        (Some(f), None) => format!("{f:.1} GFLOP/s"),
        (None, None) => "-".into(),
    }
}

fn roofline(m: &Measurement) -> String {
    match (&m.roofline, m.status) {
        // "82% of L2", "41% of peak", or "above L2 ceiling": never a figure above 100%.
        (Some(r), Status::Ok) => tensorbench_core::roofline::label(r),
        _ => "-".into(),
    }
}

fn validation(m: &Measurement) -> String {
    match &m.validation {
        Some(v) if v.passed => format!("ok {:.0e}", v.max_rel_err),
        Some(v) => format!("FAIL {:.1e}", v.max_rel_err),
        None => "-".into(),
    }
}

fn status(m: &Measurement) -> String {
    let name = match m.status {
        Status::Ok => "ok",
        Status::Invalid => "INVALID",
        Status::Failed => "FAILED",
        Status::Skipped => "skipped",
    };
    let unstable = m.sampling.as_ref().and_then(|s| s.unstable.as_deref());
    match (&m.reason, m.status, unstable) {
        (Some(r), s, _) if s != Status::Ok => format!("{name}: {r}"),
        (_, _, Some(why)) => format!("{name}, UNSTABLE: {why}"),
        _ => name.to_string(),
    }
}

/// 1234 ns → "1.23 µs".
pub fn format_ns(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    format!("{value:.3} {unit}")
}

fn summary_line(run: &Run) -> String {
    let count = |s: Status| run.measurements.iter().filter(|m| m.status == s).count();
    format!(
        "{} measurements: {} ok, {} invalid, {} failed, {} skipped; run {} ({:?})",
        run.measurements.len(),
        count(Status::Ok),
        count(Status::Invalid),
        count(Status::Failed),
        count(Status::Skipped),
        run.run_id,
        run.status
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A complete cpu run of one measurement.
    fn run_of(run_id: &str, m: tensorbench_core::Measurement) -> tensorbench_core::schema::Run {
        tensorbench_core::schema::Run {
            schema_version: tensorbench_core::schema::SCHEMA_VERSION,
            run_id: run_id.into(),
            target: "cpu".into(),
            profile: "quick".into(),
            command: String::new(),
            started_at: String::new(),
            finished_at: None,
            status: tensorbench_core::schema::RunStatus::Complete,
            git: Default::default(),
            machine: Default::default(),
            build_profile: "bench".into(),
            config: serde_json::Value::Null,
            peaks: Default::default(),
            measurements: vec![m],
        }
    }

    #[test]
    fn unstable_and_small_n_show_in_the_row() {
        let samples: Vec<f64> = (0..3).map(f64::from).map(|x| 100.0 + x).collect();
        let mut m = tensorbench_core::sampler::skipped(
            &tensorbench_core::WorkloadSpec::new("t", "add", "simd", tensorbench_core::DType::F32),
            Default::default(),
            "x",
        );
        m.status = Status::Ok;
        m.reason = None;
        m.stats = tensorbench_core::stats::summarize(&samples, 0.95);
        m.sampling = Some(tensorbench_core::schema::SamplingInfo {
            clock_source: tensorbench_core::ClockSource::Host,
            clock_resolution_ns: 1.0,
            warmup_ns: 0.0,
            total_time_ns: 1.0,
            converged: false,
            ci_target: 0.01,
            unstable: Some("drift: +5.0%".into()),
        });
        let r = row(&m);
        assert!(r[6].contains("(75% CI)"), "{}", r[6]);
        assert_eq!(r[10], "ok, UNSTABLE: drift: +5.0%");
    }

    #[test]
    fn rows_that_differ_only_in_dtype_or_threads_look_different() {
        let row_of = |dtype, threads| {
            let spec = tensorbench_core::WorkloadSpec::new("t", "gemm", "simd", dtype)
                .param("n", 256)
                .threads(threads);
            row(&tensorbench_core::schema::Measurement::skipped(
                &spec,
                Default::default(),
                "x",
            ))
        };
        let (f32_1, bf16_1, f32_2) = (
            row_of(tensorbench_core::DType::F32, 1),
            row_of(tensorbench_core::DType::Bf16, 1),
            row_of(tensorbench_core::DType::F32, 2),
        );
        assert_eq!(HEADER[2], "dtype");
        assert_eq!(HEADER[4], "threads");
        assert_eq!((f32_1[2].as_str(), bf16_1[2].as_str()), ("f32", "bf16"));
        assert_eq!((f32_1[4].as_str(), f32_2[4].as_str()), ("1", "2"));
        assert_ne!(f32_1, bf16_1);
        assert_ne!(f32_1, f32_2);
    }

    #[test]
    fn markdown_rows_hold_text_from_the_run_as_text() {
        let mut m = tensorbench_core::sampler::skipped(
            &tensorbench_core::WorkloadSpec::new(
                "t",
                "<script>x</script>",
                "a|b",
                tensorbench_core::DType::F32,
            ),
            Default::default(),
            "line1\n| injected |\r\n**bold**",
        );
        m.status = Status::Skipped;
        let run = run_of("<b>run</b>\nid", m);
        let md = render_markdown(&run);
        assert!(!md.contains("<script") && !md.contains("<b>"), "{md}");
        let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(rows.len(), 3, "{md}");
        assert!(
            rows[2].contains("a\\|b") && rows[2].contains("\\*\\*bold"),
            "{md}"
        );
    }

    #[test]
    fn terminal_rows_show_control_characters_as_escapes() {
        let spec = tensorbench_core::WorkloadSpec::new(
            "t",
            "add\u{1b}]8;;http://x\u{7}",
            "simd",
            tensorbench_core::DType::F32,
        );
        let m = tensorbench_core::sampler::skipped(&spec, Default::default(), "a\r\n::error::x");
        let run = run_of("r\u{1b}[2J", m);
        let text = render(&run);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(!text.lines().any(|l| l.starts_with("::error::")), "{text}");
        assert!(
            text.contains("\\u{1b}") && text.contains("\\r\\n"),
            "{text}"
        );
    }

    #[test]
    fn durations_get_units() {
        assert_eq!(format_ns(12.0), "12.000 ns");
        assert_eq!(format_ns(1234.0), "1.234 µs");
        assert_eq!(format_ns(2.5e6), "2.500 ms");
        assert_eq!(format_ns(3e9), "3.000 s");
    }
}
