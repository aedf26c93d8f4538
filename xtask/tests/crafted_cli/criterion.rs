//! Crafted `target/criterion` trees for `import criterion`: hostile ids, a hostile `--hostname`,
//! extreme, negative, subnormal and non-finite numbers in `sample.json` and `estimates.json`,
//! numbers as strings, torn, BOM and invalid UTF-8 files, no samples, duplicate benchmarks. An
//! imported run then goes through `export` and `report`, whose output must be safe.

use crate::checks::{Call, Kind, Sink, check};
use crate::corpus::{FORMULAS, MARKUP, UNICODE, with_literal};
use serde_json::{Value, json};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

/// What `import` must do with a tree.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    Import,
    /// Refuse, naming this file of the (first) benchmark.
    Refuse(&'static str),
}

/// One benchmark's `new/` files, as bytes.
#[derive(Clone)]
pub struct Bench {
    benchmark: Vec<u8>,
    sample: Vec<u8>,
    estimates: Option<Vec<u8>>,
}

pub struct Tree {
    name: &'static str,
    benches: Vec<Bench>,
    hostname: Option<String>,
    expect: Expect,
}

fn benchmark(group: &str, function: Option<&str>, value: Option<&str>) -> Value {
    let full_id = [Some(group), function, value]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/");
    json!({"group_id": group, "function_id": function, "value_str": value,
        "throughput": {"Bytes": 8192}, "full_id": full_id, "directory_name": "bench",
        "title": full_id})
}

fn sample() -> Value {
    let iters: Vec<f64> = (1..=20).map(|i| f64::from(i) * 50.0).collect();
    let times: Vec<f64> = iters.iter().map(|i| i * 200.0).collect();
    json!({"sampling_mode": "Linear", "iters": iters, "times": times})
}

fn estimate(v: f64) -> Value {
    // At f64::MAX, 2% more is infinite, which JSON cannot hold.
    let upper = Some(v * 1.02).filter(|u| u.is_finite()).unwrap_or(v);
    json!({"confidence_interval": {"confidence_level": 0.95, "lower_bound": v * 0.98,
        "upper_bound": upper}, "point_estimate": v, "standard_error": v * 0.01})
}

fn estimates(v: f64) -> Value {
    json!({"mean": estimate(v), "median": estimate(v), "median_abs_dev": estimate(1.0),
        "slope": estimate(v), "std_dev": estimate(0.8)})
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap()
}

impl Bench {
    fn valid() -> Self {
        Self::named(benchmark("memcpy", Some("std"), Some("8192")))
    }

    fn named(benchmark: Value) -> Self {
        Self {
            benchmark: bytes(&benchmark),
            sample: bytes(&sample()),
            estimates: Some(bytes(&estimates(200.0))),
        }
    }

    fn sample(mut self, bytes: Vec<u8>) -> Self {
        self.sample = bytes;
        self
    }

    fn estimates(mut self, bytes: Option<Vec<u8>>) -> Self {
        self.estimates = bytes;
        self
    }

    fn benchmark(mut self, bytes: Vec<u8>) -> Self {
        self.benchmark = bytes;
        self
    }
}

fn tree(name: &'static str, bench: Bench, expect: Expect) -> Tree {
    Tree {
        name,
        benches: vec![bench],
        hostname: None,
        expect,
    }
}

/// Trees whose ids or host name are hostile text.
fn text_trees() -> Vec<Tree> {
    let id = |s: &[&str]| Bench::named(benchmark(s[0], Some(s[1]), Some(s[2])));
    let mut host = tree("hostile host", Bench::valid(), Expect::Import);
    host.hostname = Some(format!("../../{}{}", MARKUP[3], UNICODE[0]));
    vec![
        tree("valid", Bench::valid(), Expect::Import),
        tree("formula ids", id(&FORMULAS[..3]), Expect::Import),
        tree("formula value", id(&FORMULAS[3..]), Expect::Import),
        tree("markup ids", id(&MARKUP[..3]), Expect::Import),
        tree("markup ids 2", id(&MARKUP[2..]), Expect::Import),
        tree("escape ids", id(&MARKUP[3..]), Expect::Import),
        tree("unicode ids", id(&UNICODE[..3]), Expect::Import),
        host,
    ]
}

/// `sample.json` with every time set by `time`, or one value replaced raw.
fn times(f: impl Fn(f64) -> f64) -> Vec<u8> {
    let mut s = sample();
    for t in s["times"].as_array_mut().unwrap() {
        *t = f(t.as_f64().unwrap()).into();
    }
    bytes(&s)
}

fn number_trees() -> Vec<Tree> {
    let b = Bench::valid;
    let refuse_sample = Expect::Refuse("sample.json");
    let refuse_estimates = Expect::Refuse("estimates.json");
    let raw_sample = |at: &str, lit: &str| with_literal(&sample(), at, lit);
    let raw_estimates = |at: &str, lit: &str| with_literal(&estimates(200.0), at, lit);
    let mut flat = estimates(200.0);
    flat["slope"] = Value::Null;
    vec![
        tree(
            "times 1.5e308",
            b().sample(times(|_| 1.5e308)),
            refuse_sample,
        ),
        tree("times negative", b().sample(times(|t| -t)), refuse_sample),
        tree("times -1e300", b().sample(times(|_| -1e300)), refuse_sample),
        tree(
            "times subnormal",
            b().sample(times(|_| 5e-324)),
            Expect::Import,
        ),
        tree("times zero", b().sample(times(|_| 0.0)), Expect::Import),
        tree(
            "times NaN",
            b().sample(raw_sample("/times/3", "NaN")),
            refuse_sample,
        ),
        tree(
            "times Infinity",
            b().sample(raw_sample("/times/0", "Infinity")),
            refuse_sample,
        ),
        tree(
            "times 1e999",
            b().sample(raw_sample("/times/0", "1e999")),
            refuse_sample,
        ),
        tree(
            "times string",
            b().sample(raw_sample("/times/0", "\"=1+1\"")),
            refuse_sample,
        ),
        tree(
            "iters zero",
            b().sample(raw_sample("/iters/0", "0")),
            refuse_sample,
        ),
        tree(
            "iters huge",
            b().sample(raw_sample("/iters/0", "1.5e308")),
            Expect::Import,
        ),
        tree(
            "no samples",
            b().sample(bytes(&json!({"iters": [], "times": []}))),
            refuse_sample,
        ),
        tree(
            "ragged samples",
            b().sample(raw_sample("/times", "[1.0]")),
            refuse_sample,
        ),
        tree(
            "estimate 1.5e308",
            b().estimates(Some(bytes(&estimates(1.5e308)))),
            Expect::Import,
        ),
        tree(
            "estimate subnormal",
            b().estimates(Some(bytes(&estimates(5e-324)))),
            Expect::Import,
        ),
        tree(
            "estimate -1e300",
            b().estimates(Some(bytes(&estimates(-1e300)))),
            Expect::Import,
        ),
        tree(
            "estimate max",
            b().estimates(Some(bytes(&estimates(f64::MAX)))),
            Expect::Import,
        ),
        tree(
            "estimate 1e999",
            b().estimates(Some(raw_estimates("/slope/point_estimate", "1e999"))),
            refuse_estimates,
        ),
        tree(
            "estimate NaN",
            b().estimates(Some(raw_estimates("/mean/point_estimate", "NaN"))),
            refuse_estimates,
        ),
        tree(
            "estimate string",
            b().estimates(Some(raw_estimates(
                "/median/point_estimate",
                "\"@SUM(A1)\"",
            ))),
            refuse_estimates,
        ),
        tree(
            "flat sampling",
            b().estimates(Some(bytes(&flat))),
            Expect::Import,
        ),
        tree("no estimates", b().estimates(None), Expect::Import),
    ]
}

fn shape_trees() -> Vec<Tree> {
    let b = Bench::valid;
    let good = bytes(&benchmark("memcpy", Some("std"), Some("8192")));
    let refuse_benchmark = Expect::Refuse("benchmark.json");
    let mut bad_utf8 = good.clone();
    let at = bad_utf8.windows(6).position(|w| w == b"memcpy").unwrap();
    bad_utf8.splice(at..at + 1, [0xff, 0xc3]);
    let throughput = |t: &str| {
        let v = with_literal(&benchmark("memcpy", None, None), "/throughput/Bytes", t);
        b().benchmark(v)
    };
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let mut dup = tree("duplicate ids", b(), Expect::Import);
    dup.benches.push(b());
    vec![
        tree(
            "torn benchmark",
            b().benchmark(good[..good.len() / 2].to_vec()),
            refuse_benchmark,
        ),
        tree(
            "bom",
            b().benchmark([b"\xef\xbb\xbf".as_slice(), &good].concat()),
            refuse_benchmark,
        ),
        tree("invalid utf8", b().benchmark(bad_utf8), refuse_benchmark),
        tree("empty benchmark", b().benchmark(vec![]), refuse_benchmark),
        tree("bytes negative", throughput("-1"), refuse_benchmark),
        tree("bytes 1e999", throughput("1e999"), refuse_benchmark),
        tree(
            "bytes u64 max",
            throughput(&u64::MAX.to_string()),
            Expect::Import,
        ),
        // In a field the importer skips, so it is skipped too (without recursing).
        tree(
            "deep",
            b().benchmark(with_literal(&benchmark("x", None, None), "/title", &deep)),
            Expect::Import,
        ),
        tree(
            "deep group",
            b().benchmark(with_literal(
                &benchmark("x", None, None),
                "/group_id",
                &deep,
            )),
            refuse_benchmark,
        ),
        dup,
    ]
}

pub fn corpus() -> Vec<Tree> {
    let mut out = text_trees();
    out.extend(number_trees());
    out.extend(shape_trees());
    out
}

/// Writes `tree` as `<root>/criterion/b<i>/{new,base}/*.json`; returns the criterion directory
/// and the first benchmark's `new/`.
fn write(root: &Path, tree: &Tree) -> (PathBuf, PathBuf) {
    let criterion = root.join("criterion");
    for (i, bench) in tree.benches.iter().enumerate() {
        for sub in ["new", "base"] {
            let dir = criterion.join(format!("b{i}")).join(sub);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("benchmark.json"), &bench.benchmark).unwrap();
            std::fs::write(dir.join("sample.json"), &bench.sample).unwrap();
            if let Some(e) = &bench.estimates {
                std::fs::write(dir.join("estimates.json"), e).unwrap();
            }
        }
    }
    (criterion.clone(), criterion.join("b0/new"))
}

type Xtask = fn(&Path, &[OsString]) -> Output;

/// Imports `tree` into `<root>/results`: refused naming the file, or imported as one run file,
/// which every reading command then renders safely.
pub fn check_import(root: &Path, t: &Tree, xtask: Xtask) {
    let (criterion, first) = write(root, t);
    let results = root.join("results");
    let mut args: Vec<OsString> = ["import".into(), "criterion".into(), criterion.into()].into();
    args.extend(["--out".into(), results.clone().into()]);
    if let Some(h) = &t.hostname {
        args.extend(["--hostname".into(), h.into()]);
    }
    let mut call = Call::new(&[]);
    call.args = args;
    let out = xtask(root, &call.args);
    match t.expect {
        Expect::Refuse(file) => {
            let call = call.naming(first.join(file).display().to_string());
            check(t.name, &call, &out, true);
        }
        Expect::Import => {
            check(
                t.name,
                &Call {
                    alone: true,
                    ..call
                },
                &out,
                false,
            );
            let run = imported_run(t.name, &results);
            check_imported(t.name, root, &run, xtask);
        }
    }
}

/// The one run file the import wrote, inside `results/<machine>/`.
fn imported_run(name: &str, results: &Path) -> PathBuf {
    let machines: Vec<PathBuf> = std::fs::read_dir(results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        machines.len(),
        1,
        "{name}: one machine directory: {machines:?}"
    );
    let files: Vec<PathBuf> = std::fs::read_dir(&machines[0])
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{name}: one run file: {files:?}");
    files[0].clone()
}

/// The imported run through export, compare and report: exit 0 and safe output.
fn check_imported(name: &str, root: &Path, run: &Path, xtask: Xtask) {
    let html = root.join("report/report.html");
    let calls = [
        Call::new(&[&"export", &"csv", &run]).out(Sink::Stdout, Kind::Csv),
        Call::new(&[&"export", &"markdown", &run]).out(Sink::Stdout, Kind::Markdown),
        Call::new(&[&"export", &"bmf", &run]).out(Sink::Stdout, Kind::Json),
        Call::new(&[&"compare", &run, &run, &"--format", &"markdown"])
            .out(Sink::Stdout, Kind::Markdown),
        Call::new(&[&"report", &run, &"--output", &html])
            .out(Sink::File(html.clone()), Kind::Html)
            .out(Sink::File(html.with_extension("md")), Kind::Markdown)
            .out(Sink::File(html.with_extension("csv")), Kind::Csv),
    ];
    for call in calls {
        let out = xtask(root, &call.args);
        check(
            &format!("{name} (imported)"),
            &Call {
                alone: true,
                ..call
            },
            &out,
            false,
        );
    }
}
