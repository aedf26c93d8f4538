//! Issue 18's crafted-file corpus, through the `xtask` binary as a user meets it.
//!
//! `crates/report/tests/crafted.rs` hands hostile runs to the renderers in memory. What a user
//! runs is the CLI, which adds its own reading (run files, streams, baselines, results
//! directories, criterion trees), labels (the paths it was given) and writing (stdout, files).
//! So each crafted file (spreadsheet formulas, markup and line breaks, non-ASCII everywhere,
//! extreme, negative, subnormal and non-finite numbers, numbers as strings, duplicate ids, no
//! measurements, other schema versions, torn, BOM, invalid UTF-8, deep nesting, a hostile name)
//! goes through every reading command and output format. Each must exit 0, 1 (compare's
//! regression verdict only) or 2 with the file named; never panic or die by a signal; and what
//! it writes must be safe (see `checks`). No build happens: the binary is prebuilt by cargo.

#[path = "crafted_cli/checks.rs"]
mod checks;
#[path = "crafted_cli/corpus.rs"]
mod corpus;
#[path = "crafted_cli/criterion.rs"]
mod criterion;

use checks::{Call, Kind, Sink, check, file_name};
use corpus::Crafted;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(dir: &Path, args: &[std::ffi::OsString]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("xtask runs")
}

/// Where one case's command runs: its own scratch directory, the crafted file and a valid run.
struct Ctx {
    dir: PathBuf,
    crafted: PathBuf,
    valid: PathBuf,
    case: Crafted,
}

impl Ctx {
    fn scratch(&self, name: &str) -> PathBuf {
        let d = self.dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A results directory holding the crafted file as `<results>/host/<name>` (and nothing
    /// else), or as baseline `crafted`.
    fn results(&self, name: &str, as_baseline: bool) -> (PathBuf, PathBuf) {
        let results = self.scratch(name);
        let sub = if as_baseline { "baselines" } else { "host" };
        let mut c = self.case.clone();
        if as_baseline {
            c.name = "crafted.json".into();
        }
        let path = corpus::write(&results.join(sub), &c);
        (results, path)
    }
}

type Make = fn(&Ctx) -> Option<Call>;

/// `compare` with the crafted run on either side, as a run file, baseline name or directory.
const COMPARE: &[(&str, Make)] = &[
    ("valid crafted", |c| {
        compare(c, &[&c.valid, &c.crafted], Kind::Text)
    }),
    ("crafted valid", |c| {
        compare(c, &[&c.crafted, &c.valid], Kind::Text)
    }),
    ("crafted crafted", |c| {
        let call = compare(c, &[&c.crafted, &c.crafted], Kind::Text)?;
        Some(Call {
            alone: true,
            ..call
        })
    }),
    ("markdown", |c| {
        compare(
            c,
            &[&c.valid, &c.crafted, &"--format", &"markdown"],
            Kind::Markdown,
        )
    }),
    ("markdown self", |c| {
        let call = compare(
            c,
            &[&c.crafted, &c.crafted, &"--format", &"markdown"],
            Kind::Markdown,
        )?;
        Some(Call {
            alone: true,
            ..call
        })
    }),
    ("json", |c| {
        compare(c, &[&c.crafted, &c.valid, &"--format", &"json"], Kind::Json)
    }),
    ("csv", |c| {
        compare(c, &[&c.valid, &c.crafted, &"--format", &"csv"], Kind::Csv)
    }),
    ("bmf", |c| {
        compare(c, &[&c.valid, &c.crafted, &"--format", &"bmf"], Kind::Json)
    }),
    ("gab", |c| {
        compare(
            c,
            &[
                &c.valid,
                &c.crafted,
                &"--format",
                &"github-action-benchmark",
            ],
            Kind::Json,
        )
    }),
    ("welch", |c| {
        compare(c, &[&c.valid, &c.crafted, &"--test", &"welch"], Kind::Text)
    }),
    ("mismatch allowed", |c| {
        let args: [&dyn AsRef<std::ffi::OsStr>; 5] = [
            &c.crafted,
            &c.valid,
            &"--allow-config-mismatch",
            &"--format",
            &"markdown",
        ];
        compare(c, &args, Kind::Markdown)
    }),
    ("summary", compare_summary),
    ("baseline name", |c| {
        let (results, path) = (!c.case.is_stream()).then(|| c.results("base", true))?;
        let call = compare(
            c,
            &[&"crafted", &c.valid, &"--results", &results],
            Kind::Text,
        )?;
        Some(Call {
            names: vec![path.display().to_string()],
            ..call
        })
    }),
    ("results dir", |c| {
        let (results, path) = (!c.case.is_stream()).then(|| c.results("dir", false))?;
        let call = compare(c, &[&results.join("host"), &c.valid], Kind::Text)?;
        Some(Call {
            names: vec![file_name(&path)],
            ..call
        })
    }),
];

fn compare(c: &Ctx, args: &[&dyn AsRef<std::ffi::OsStr>], kind: Kind) -> Option<Call> {
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"compare"];
    all.extend_from_slice(args);
    let call = Call::new(&all)
        .out(Sink::Stdout, kind)
        .naming(file_name(&c.crafted));
    Some(Call {
        verdict: true,
        ..call
    })
}

fn compare_summary(c: &Ctx) -> Option<Call> {
    let out = c.scratch("summary");
    let (summary, json) = (out.join("summary.md"), out.join("cmp.json"));
    let args: [&dyn AsRef<std::ffi::OsStr>; 6] = [
        &c.valid,
        &c.crafted,
        &"--summary",
        &summary,
        &"--json-out",
        &json,
    ];
    let call = compare(c, &args, Kind::Text)?;
    Some(
        call.out(Sink::File(summary), Kind::Markdown)
            .out(Sink::File(json), Kind::Json),
    )
}

/// `report` of the crafted run alone, beside others, as the baseline, with history, and found
/// as the newest run of a results directory.
const REPORT: &[(&str, Make)] = &[
    ("alone", |c| {
        let call = report(c, "alone", &[&c.crafted])?;
        Some(Call {
            alone: true,
            ..call
        })
    }),
    ("with valid", |c| report(c, "two", &[&c.crafted, &c.valid])),
    ("as baseline", |c| {
        report(c, "base", &[&c.valid, &"--baseline", &c.crafted])
    }),
    ("history", |c| {
        let dir = c.scratch("history");
        std::fs::copy(&c.valid, dir.join("valid.json")).unwrap();
        let crafted = corpus::write(&dir, &c.case);
        report(c, "hist", &[&crafted, &"--history"])
    }),
    ("newest in results", |c| {
        let (results, path) = (!c.case.is_stream()).then(|| c.results("results", false))?;
        let call = report(c, "newest", &[&"--results", &results])?;
        Some(Call {
            names: vec![file_name(&path)],
            alone: true,
            ..call
        })
    }),
];

fn report(c: &Ctx, name: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Option<Call> {
    let html = c.scratch(name).join("report.html");
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"report"];
    all.extend_from_slice(args);
    all.extend([&"--output" as &dyn AsRef<std::ffi::OsStr>, &html]);
    let call = Call::new(&all)
        .out(Sink::File(html.with_extension("md")), Kind::Markdown)
        .out(Sink::File(html.with_extension("csv")), Kind::Csv)
        .out(Sink::File(html), Kind::Html)
        .naming(file_name(&c.crafted));
    Some(call)
}

/// `export` in every format, to stdout and to a file, alone and beside the valid run.
const EXPORT: &[(&str, Make)] = &[
    ("bmf", |c| export(c, "bmf", Kind::Json)),
    ("gab", |c| export(c, "github-action-benchmark", Kind::Json)),
    ("csv", |c| export(c, "csv", Kind::Csv)),
    ("markdown", |c| export(c, "markdown", Kind::Markdown)),
    ("csv to file", |c| {
        let path = c.scratch("export").join("out.csv");
        let args: [&dyn AsRef<std::ffi::OsStr>; 5] =
            [&"export", &"csv", &c.crafted, &"--output", &path];
        let call = Call::new(&args).out(Sink::File(path), Kind::Csv);
        Some(Call {
            alone: true,
            ..call.naming(file_name(&c.crafted))
        })
    }),
    ("bmf two runs", |c| {
        // Both runs hold the same ids, which BMF cannot tell apart: refused, naming both.
        let call = Call::new(&[&"export", &"bmf", &c.valid, &c.crafted]);
        Some(
            call.out(Sink::Stdout, Kind::Json)
                .naming(file_name(&c.crafted)),
        )
    }),
    ("markdown two runs", |c| {
        let call = Call::new(&[&"export", &"markdown", &c.crafted, &c.valid]);
        Some(
            call.out(Sink::Stdout, Kind::Markdown)
                .naming(file_name(&c.crafted)),
        )
    }),
];

fn export(c: &Ctx, format: &str, kind: Kind) -> Option<Call> {
    let call = Call::new(&[&"export", &format, &c.crafted]).out(Sink::Stdout, kind);
    Some(Call {
        alone: true,
        ..call.naming(file_name(&c.crafted))
    })
}

/// Runs every command of `table` on every crafted file.
fn run_table(table: &[(&str, Make)]) {
    let root = tempfile::tempdir().unwrap();
    let base = corpus::product_run(&root.path().join("product"));
    let cases = corpus::corpus(&base);
    let valid = corpus::write(&root.path().join("valid"), &cases[0]);
    let mut codes = std::collections::BTreeMap::<i32, usize>::new();
    for (i, case) in cases.into_iter().enumerate() {
        for (j, (what, make)) in table.iter().enumerate() {
            let dir = root.path().join(format!("case{i}-{j}"));
            let crafted = corpus::write(&dir.join("in"), &case);
            let ctx = Ctx {
                dir,
                crafted,
                valid: valid.clone(),
                case: case.clone(),
            };
            let Some(call) = make(&ctx) else { continue };
            let out = xtask(&ctx.dir, &call.args);
            let name = format!("{} [{what}]", ctx.case.name);
            check(&name, &call, &out, ctx.case.refused);
            *codes.entry(out.status.code().unwrap()).or_default() += 1;
        }
    }
    // Neither all refused (a broken command line) nor all accepted (a corpus gone tame).
    eprintln!("exit codes (code: calls): {codes:?}");
    assert!(
        codes.contains_key(&0) && codes.contains_key(&2),
        "{codes:?}"
    );
}

#[test]
fn compare_refuses_or_renders_every_crafted_file_safely() {
    run_table(COMPARE);
}

#[test]
fn report_refuses_or_renders_every_crafted_file_safely() {
    run_table(REPORT);
}

#[test]
fn export_refuses_or_renders_every_crafted_file_safely() {
    run_table(EXPORT);
}

#[test]
fn import_refuses_or_imports_every_crafted_criterion_tree_safely() {
    let root = tempfile::tempdir().unwrap();
    for (i, tree) in criterion::corpus().into_iter().enumerate() {
        criterion::check_import(&root.path().join(format!("tree{i}")), &tree, xtask);
    }
}
