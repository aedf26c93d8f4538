//! The crafted run files, written as raw bytes from a valid run the product wrote, so that they
//! can also hold what the Rust types cannot: `NaN`, `1e999`, numbers as strings, a BOM, invalid
//! UTF-8, a torn tail, another schema version.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tensorbench_core::WorkloadSpec;
use tensorbench_core::schema::{
    Bound, CacheMode, DType, Measurement, Roofline, Run, RunStatus, SCHEMA_VERSION, Status,
    Throughput, Validation,
};
use tensorbench_core::stats::summarize;
use tensorbench_core::store::{self, RunWriter};

/// Spreadsheet formulas (OWASP's CSV-injection starters, tab and CR included).
pub const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example/\",\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
];

/// Markup, pipes, line breaks and terminal escapes (a hidden OSC 8 link, a screen clear): each
/// must reach Markdown, HTML and the terminal as text.
pub const MARKUP: [&str; 6] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "**bold** [link](javascript:alert(1)) `code` | cell |",
    "line1\n| INJECTED | row |\nline3\r\nline4",
    "<!-- open <details><summary>x",
    "\u{1b}]8;;http://evil.example/\u{7}click\u{1b}]8;;\u{7}\u{1b}[2J",
];

/// Non-ASCII text; the commit puts a multi-byte character across bytes 7 and 12 (where short
/// commits are cut).
pub const UNICODE: [&str; 4] = [
    "ünïcödé-höst-🚀",
    "\u{202e}rtl-override\u{200b}",
    "ça/ñ/日本語/n=1",
    "e\u{301}\u{301}\u{301}-combining",
];
pub const UNICODE_COMMIT: &str = "abcdef日é日🚀0123456789";

/// Numbers at the edges of f64 (all finite: JSON holds them).
const EXTREMES: [f64; 6] = [1.5e308, f64::MAX, -1e300, 5e-324, -5e-324, 0.0];

/// One crafted file: its name, its bytes, and whether every reader must refuse it.
#[derive(Clone)]
pub struct Crafted {
    pub name: String,
    pub bytes: Vec<u8>,
    pub refused: bool,
}

impl Crafted {
    fn new(name: &str, bytes: Vec<u8>, refused: bool) -> Self {
        Self {
            name: name.into(),
            bytes,
            refused,
        }
    }

    fn json(name: &str, v: &Value, refused: bool) -> Self {
        Self::new(
            &format!("{name}.json"),
            serde_json::to_vec_pretty(v).unwrap(),
            refused,
        )
    }

    pub fn is_stream(&self) -> bool {
        self.name.ends_with(".jsonl")
    }
}

fn measurement(op: &str, n: u64, median: f64) -> Measurement {
    let spec = WorkloadSpec::new("cpu-simd", op, "simd", DType::F32)
        .param("n", n)
        .cost(n as f64, 12.0 * n as f64);
    let mut m = Measurement::blank(&spec, CacheMode::Hot);
    m.samples_ns = (0..30).map(|i| median + f64::from(i % 5)).collect();
    m.iters_per_sample = 1;
    m.stats = summarize(&m.samples_ns, 0.95);
    m.throughput = Some(Throughput {
        gflops: Some(n as f64 / median),
        gbps: Some(12.0 * n as f64 / median),
    });
    m.roofline = Some(Roofline {
        bound: Bound::Memory,
        pct_of_peak: 0.5,
        intensity: Some(1.0 / 12.0),
        ceiling: "bandwidth_gbps".into(),
        level: Some("L2".into()),
        ceiling_threads: Some(1),
        ceiling_value: Some(30.0),
        above_ceiling: None,
    });
    m.validation = Some(Validation {
        max_rel_err: 1e-7,
        tolerance: 1e-5,
        passed: true,
        reference: "f64 scalar reference".into(),
    });
    m.status = Status::Ok;
    m
}

/// A complete run as `RunWriter` writes it, in `dir`; returns the file's JSON.
pub fn product_run(dir: &Path) -> Value {
    let mut run = Run {
        schema_version: SCHEMA_VERSION,
        run_id: "valid".into(),
        target: "cpu".into(),
        profile: "quick".into(),
        command: "cargo xtask bench".into(),
        started_at: store::now_rfc3339(),
        finished_at: None,
        status: RunStatus::Running,
        git: Default::default(),
        machine: Default::default(),
        build_profile: "bench".into(),
        config: json!({}),
        peaks: Default::default(),
        measurements: vec![],
    };
    run.git.commit = Some("0123456789abcdef".into());
    run.machine.hostname = Some("host".into());
    run.peaks.insert(
        "cpu".into(),
        [
            ("bandwidth_gbps".to_string(), 30.0),
            ("compute_gflops".to_string(), 360.0),
        ]
        .into(),
    );
    let mut failed = measurement("exp", 1024, 900.0);
    failed.status = Status::Failed;
    failed.stats = None;
    failed.samples_ns.clear();
    failed.reason = Some("panicked at the kernel".into());
    run.measurements = vec![
        measurement("add", 1024, 1000.0),
        measurement("add", 4096, 4000.0),
        measurement("mul", 1024, 1100.0),
        failed,
    ];
    let mut w = RunWriter::create(
        dir,
        Run {
            measurements: vec![],
            ..run.clone()
        },
    )
    .unwrap();
    for m in run.measurements {
        w.record(m).unwrap();
    }
    let path = w.finish(RunStatus::Complete).unwrap();
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn each_measurement(v: &mut Value, mut f: impl FnMut(usize, &mut Value)) {
    for (i, m) in v["measurements"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        f(i, m);
    }
}

/// `base` with the value at JSON `pointer` replaced by `literal`, verbatim.
pub fn with_literal(base: &Value, pointer: &str, literal: &str) -> Vec<u8> {
    const HOLE: &str = "@@crafted-literal@@";
    let mut v = base.clone();
    *v.pointer_mut(pointer).expect(pointer) = HOLE.into();
    serde_json::to_string_pretty(&v)
        .unwrap()
        .replace(&format!("\"{HOLE}\""), literal)
        .into_bytes()
}

/// Hostile text in every string field a renderer shows.
fn texts(base: &Value, name: &str, strings: &[&str]) -> Crafted {
    let mut v = base.clone();
    let s = |i: usize| strings[i % strings.len()];
    each_measurement(&mut v, |i, m| {
        m["id"] = format!("{}/{}", s(i), m["id"].as_str().unwrap()).into();
        for field in ["op", "backend", "device", "reason"] {
            m[field] = s(i + 1).into();
        }
        m["params"]["p"] = s(i + 2).into();
        m["extra"][s(i + 3)] = s(i).into();
        m["roofline"]["ceiling"] = s(i + 1).into();
    });
    v["run_id"] = s(0).into();
    v["target"] = s(1).into();
    v["command"] = s(2).into();
    v["git"]["branch"] = s(3).into();
    v["git"]["commit"] = s(1).into();
    for field in ["hostname", "cpu_model", "os", "kernel", "rustc", "governor"] {
        v["machine"][field] = s(field.len()).into();
    }
    v["machine"]["features"] = strings.to_vec().into();
    let peaks = v["peaks"]["cpu"].clone();
    v["peaks"][s(2)] = peaks;
    Crafted::json(name, &v, false)
}

fn text_cases(base: &Value) -> Vec<Crafted> {
    let mut unicode = texts(base, "unicode", &UNICODE);
    let mut v: Value = serde_json::from_slice(&unicode.bytes).unwrap();
    v["git"]["commit"] = UNICODE_COMMIT.into();
    unicode.bytes = serde_json::to_vec(&v).unwrap();
    // The sampling profile is compared like for like, so this one is refused against `valid`.
    let mut profile = base.clone();
    profile["profile"] = MARKUP[3].into();
    vec![
        texts(base, "formulas", &FORMULAS),
        texts(base, "markup", &MARKUP),
        unicode,
        Crafted::json("markup_profile", &profile, false),
    ]
}

/// Every number of the measurements (samples, stats, throughput, cost, roofline) set by `value`.
fn numbers(base: &Value, name: &str, value: impl Fn(usize) -> f64) -> Crafted {
    let mut v = base.clone();
    each_measurement(&mut v, |i, m| {
        if let Some(samples) = m["samples_ns"].as_array_mut() {
            for (j, s) in samples.iter_mut().enumerate() {
                *s = value(i + j).into();
            }
        }
        if let Some(stats) = m["stats"].as_object_mut() {
            for (j, (_, s)) in stats.iter_mut().enumerate() {
                if s.is_f64() {
                    *s = value(i + j).into();
                }
            }
        }
        for (j, f) in ["flops", "bytes"].into_iter().enumerate() {
            m[f] = value(i + j).into();
        }
        m["throughput"] = json!({"gflops": value(i), "gbps": value(i + 1)});
        m["roofline"]["pct_of_peak"] = value(i + 2).into();
        m["roofline"]["ceiling_value"] = value(i + 3).into();
        m["validation"]["max_rel_err"] = value(i + 4).into();
    });
    v["peaks"]["cpu"] = json!({"bandwidth_gbps": value(0), "compute_gflops": value(1)});
    Crafted::json(name, &v, false)
}

/// Numbers JSON cannot hold or the schema does not take, each in one place, written raw.
fn literal_cases(base: &Value) -> Vec<Crafted> {
    let median = "/measurements/0/stats/median_ns";
    let sample = "/measurements/1/samples_ns/3";
    let gbps = "/measurements/2/throughput/gbps";
    [
        ("nan", median, "NaN"),
        ("infinity", sample, "Infinity"),
        ("neg_infinity", gbps, "-Infinity"),
        ("huge", sample, "1e999"),
        ("neg_huge", median, "-1e999"),
        ("string_number", median, "\"=1+1\""),
        ("null_number", sample, "null"),
        (
            "version_string",
            "/schema_version",
            &format!("\"{SCHEMA_VERSION}\""),
        ),
        ("version_negative", "/schema_version", "-1"),
        ("version_float", "/schema_version", "1.5"),
    ]
    .into_iter()
    .map(|(name, at, literal)| {
        Crafted::new(
            &format!("{name}.json"),
            with_literal(base, at, literal),
            true,
        )
    })
    .collect()
}

/// Three times slower than `base`, so a comparison gives a regression verdict (exit 1) over
/// the hostile reason of the failed measurement.
fn slower(base: &Value) -> Crafted {
    let mut v = base.clone();
    each_measurement(&mut v, |_, m| {
        for s in m["samples_ns"].as_array_mut().unwrap() {
            *s = (s.as_f64().unwrap() * 3.0).into();
        }
        if let Some(stats) = m["stats"].as_object_mut() {
            for (_, s) in stats.iter_mut().filter(|(k, _)| k.ends_with("_ns")) {
                *s = (s.as_f64().unwrap() * 3.0).into();
            }
        }
        m["reason"] = MARKUP[3].into();
    });
    Crafted::json("slower", &v, false)
}

fn number_cases(base: &Value) -> Vec<Crafted> {
    let mut out = vec![
        slower(base),
        numbers(base, "extremes", |k| EXTREMES[k % EXTREMES.len()]),
        numbers(base, "negative", |k| -1000.0 - k as f64),
        numbers(base, "subnormal", |_| 5e-324),
        numbers(base, "zeros", |_| 0.0),
        numbers(base, "max", |_| f64::MAX),
    ];
    out.extend(literal_cases(base));
    out
}

fn versions(base: &Value) -> Vec<Crafted> {
    let mut out = Vec::new();
    for (name, version) in [("future", SCHEMA_VERSION + 1), ("past", SCHEMA_VERSION - 1)] {
        let mut v = base.clone();
        v["schema_version"] = version.into();
        out.push(Crafted::json(name, &v, true));
    }
    let mut v = base.clone();
    v.as_object_mut().unwrap().remove("schema_version");
    out.push(Crafted::json("no_version", &v, true));
    out
}

/// JSON nested far deeper than any reader should recurse.
fn deep(base: &Value) -> Vec<u8> {
    let depth = 100_000;
    let nested = "[".repeat(depth) + &"]".repeat(depth);
    with_literal(base, "/config", &nested)
}

fn shape_cases(base: &Value) -> Vec<Crafted> {
    let text = serde_json::to_vec_pretty(base).unwrap();
    let mut dup = base.clone();
    let ms = dup["measurements"].as_array().unwrap().clone();
    dup["measurements"].as_array_mut().unwrap().extend(ms);
    let mut empty = base.clone();
    empty["measurements"] = json!([]);
    let mut bad_utf8 = text.clone();
    let at = bad_utf8.windows(6).position(|w| w == b"\"host\"").unwrap();
    bad_utf8.splice(at + 1..at + 2, [0xff, 0xfe, 0xc3]);
    let mut out = vec![
        Crafted::json("duplicates", &dup, false),
        Crafted::json("empty", &empty, false),
        Crafted::new("torn.json", text[..text.len() / 2].to_vec(), true),
        Crafted::new(
            "bom.json",
            [b"\xef\xbb\xbf".as_slice(), &text].concat(),
            true,
        ),
        Crafted::new("invalid_utf8.json", bad_utf8, true),
        Crafted::new("empty_file.json", vec![], true),
        Crafted::new("not_a_run.json", b"[1, 2, 3]".to_vec(), true),
        Crafted::new("deep.json", deep(base), true),
        // A hostile file name, for the labels that quote the path.
        Crafted::new(
            "évil|<img src=x>*[a](b)\n| INJECTED |.json",
            text.clone(),
            false,
        ),
    ];
    out.extend(versions(base));
    out
}

/// `run` as the `.jsonl` stream of an interrupted run: header, measurements, no end.
fn stream_lines(run: &Value) -> Vec<String> {
    let mut header = run.clone();
    header["measurements"] = json!([]);
    header["record"] = "header".into();
    let mut lines = vec![header.to_string()];
    for m in run["measurements"].as_array().unwrap() {
        let mut m = m.clone();
        m["record"] = "measurement".into();
        lines.push(m.to_string());
    }
    lines
}

fn stream(name: &str, lines: &[String], tail: &[u8], refused: bool) -> Crafted {
    let mut bytes = (lines.join("\n") + "\n").into_bytes();
    bytes.extend_from_slice(tail);
    Crafted::new(&format!("{name}.jsonl"), bytes, refused)
}

fn stream_cases(base: &Value, formulas: &Crafted) -> Vec<Crafted> {
    let lines = stream_lines(base);
    let hostile: Value = serde_json::from_slice(&formulas.bytes).unwrap();
    let mut future = base.clone();
    future["schema_version"] = (SCHEMA_VERSION + 1).into();
    let mut broken = lines.clone();
    let half = broken[2].len() / 2;
    broken[2].truncate(half);
    let mut nan = lines.clone();
    let first: Value = serde_json::from_str(&lines[1]).unwrap();
    nan[1] = String::from_utf8(with_literal(&first, "/stats/median_ns", "NaN")).unwrap();
    // Pretty-printed: a record must be one line.
    nan[1] = nan[1].replace('\n', "");
    vec![
        stream("stream_formulas", &stream_lines(&hostile), b"", false),
        stream("stream_torn_tail", &lines, b"{\"record\":\"measurem", false),
        stream("stream_torn_middle", &broken, b"", true),
        stream("stream_nan", &nan, b"", true),
        stream("stream_future", &stream_lines(&future), b"", true),
        stream(
            "stream_invalid_utf8",
            &lines,
            b"{\"record\":\"\xff\xfe\"}\n{}\n",
            true,
        ),
        stream("stream_empty", &[], b"", true),
    ]
}

/// The corpus; the first entry is the valid run itself.
pub fn corpus(base: &Value) -> Vec<Crafted> {
    let mut out = vec![Crafted::json("valid", base, false)];
    out.extend(text_cases(base));
    out.extend(number_cases(base));
    out.extend(shape_cases(base));
    let formulas = &out[1];
    out.extend(stream_cases(base, formulas));
    out
}

/// Writes `c` into `dir`; returns its path.
pub fn write(dir: &Path, c: &Crafted) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(&c.name);
    std::fs::write(&path, &c.bytes).unwrap();
    path
}
