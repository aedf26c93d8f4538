//! What every command must do with a crafted file: an exit code of 0, 1 (a regression verdict)
//! or 2 naming the file, never a panic or a signal; and output that is safe to open.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

/// What an output is, and so how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The terminal table: checked for panics and exit codes only.
    Text,
    Json,
    Csv,
    Markdown,
    Html,
}

/// Where an output goes.
#[derive(Debug, Clone)]
pub enum Sink {
    Stdout,
    File(PathBuf),
}

/// One command line to run on a crafted file, and what to expect of it.
#[derive(Debug, Default)]
pub struct Call {
    pub args: Vec<OsString>,
    pub outputs: Vec<(Sink, Kind)>,
    /// A comparison, whose exit code 1 is a regression verdict.
    pub verdict: bool,
    /// The crafted file is the only input, so a file the readers take must give exit 0.
    pub alone: bool,
    /// What a refusal must name (the crafted file as the command sees it).
    pub names: Vec<String>,
}

impl Call {
    pub fn new(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Self {
        Self {
            args: args.iter().map(|a| a.as_ref().to_os_string()).collect(),
            ..Self::default()
        }
    }

    pub fn out(mut self, sink: Sink, kind: Kind) -> Self {
        self.outputs.push((sink, kind));
        self
    }

    pub fn naming(mut self, name: impl Into<String>) -> Self {
        self.names.push(name.into());
        self
    }
}

/// Checks the exit code and stderr of `out`, then every output `call` names; `refused` says
/// whether the crafted file is one every reader must refuse.
pub fn check(case: &str, call: &Call, out: &Output, refused: bool) {
    let ctx = format!("{case}: xtask {:?}", call.args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{ctx}: killed by a signal ({:?})\n{stderr}", out.status));
    assert!(!stderr.contains("panicked"), "{ctx}: panicked\n{stderr}");
    check_terminal(&format!("{ctx} (stderr)"), &stderr);
    match code {
        0 | 1 if refused => panic!("{ctx}: accepted a file to refuse (exit {code})\n{stderr}"),
        0 => check_outputs(&ctx, call, out),
        1 => {
            assert!(call.verdict, "{ctx}: exit 1 without a verdict\n{stderr}");
            assert!(
                stderr.contains("confirmed regression"),
                "{ctx}: exit 1 that is no regression\n{stderr}"
            );
            check_outputs(&ctx, call, out);
        }
        2 => check_refusal(&ctx, call, &stderr, refused),
        _ => panic!("{ctx}: exit {code}\n{stderr}"),
    }
}

fn check_refusal(ctx: &str, call: &Call, stderr: &str, refused: bool) {
    assert!(
        refused || !call.alone,
        "{ctx}: refused a file the readers take\n{stderr}"
    );
    for name in &call.names {
        assert!(
            stderr.contains(name.as_str()),
            "{ctx}: the refusal does not name {name:?}\n{stderr}"
        );
    }
    for (sink, _) in &call.outputs {
        if let Sink::File(path) = sink {
            assert!(!path.exists(), "{ctx}: refused, yet wrote {path:?}");
        }
    }
}

fn check_outputs(ctx: &str, call: &Call, out: &Output) {
    for (sink, kind) in &call.outputs {
        let bytes = match sink {
            Sink::Stdout => out.stdout.clone(),
            Sink::File(path) => {
                std::fs::read(path).unwrap_or_else(|e| panic!("{ctx}: {path:?}: {e}"))
            }
        };
        let ctx = format!("{ctx} ({sink:?})");
        let text = String::from_utf8(bytes).unwrap_or_else(|_| panic!("{ctx}: not UTF-8"));
        match kind {
            Kind::Text => check_terminal(&ctx, &text),
            Kind::Json => check_json(&ctx, &text),
            Kind::Csv => check_csv(&ctx, &text),
            Kind::Markdown => check_markdown(&ctx, &text),
            Kind::Html => check_html(&ctx, &text),
        }
    }
}

/// No control character but the line break reaches a terminal: an escape sequence from a file
/// could hide or forge text (OSC 8 links, cursor moves, a cleared screen), a CR overwrite a line.
fn check_terminal(ctx: &str, text: &str) {
    let bad = text.chars().find(|&c| c.is_control() && c != '\n');
    assert!(
        bad.is_none(),
        "{ctx}: control character {bad:?} in terminal output:\n{text}"
    );
}

fn check_json(ctx: &str, text: &str) {
    serde_json::from_str::<serde_json::Value>(text)
        .unwrap_or_else(|e| panic!("{ctx}: not JSON ({e}):\n{text}"));
}

/// Every cell that starts like a formula must be a number we wrote (OWASP: prefix a `'`).
fn check_csv(ctx: &str, text: &str) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let width = reader.headers().expect("a CSV header").len();
    for record in reader.records() {
        let record = record.unwrap_or_else(|e| panic!("{ctx}: CSV does not parse ({e})"));
        assert_eq!(record.len(), width, "{ctx}: ragged row {record:?}");
        for cell in record.iter() {
            let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(
                !formula || cell.parse::<f64>().is_ok(),
                "{ctx}: formula-like CSV cell {cell:?}"
            );
        }
    }
}

/// Pipes that separate cells (not escaped by a backslash).
fn separators(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
        .count()
}

/// No raw tag, live link or code from the corpus; every table row has its header's cells; no
/// line begins with text that followed a line break in a file.
fn check_markdown(ctx: &str, md: &str) {
    for bad in ["<script", "<img", "<!-- open", "onerror=alert(1)>"] {
        assert!(!md.contains(bad), "{ctx}: raw {bad:?} in Markdown:\n{md}");
    }
    let unescaped = md.replace("\\]", "").replace("\\*", "").replace("\\`", "");
    for bad in ["](javascript:", "**bold", "`code`"] {
        assert!(
            !unescaped.contains(bad),
            "{ctx}: live {bad:?} in Markdown:\n{md}"
        );
    }
    assert!(!md.contains('\r'), "{ctx}: carriage return in Markdown");
    let mut columns = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = separators(line);
            assert_eq!(
                n,
                *columns.get_or_insert(n),
                "{ctx}: row of another width: {line:?}"
            );
        } else {
            columns = None;
        }
        for after_break in ["| INJECTED", "line3", "line4"] {
            assert!(
                !line.trim_start().starts_with(after_break),
                "{ctx}: a line break from a file reached the Markdown: {line:?}\n{md}"
            );
        }
    }
}

fn check_html(ctx: &str, html: &str) {
    for bad in [
        "<script>alert",
        "<img src=x",
        "onerror=alert(1)>",
        "<!-- open",
    ] {
        assert!(!html.contains(bad), "{ctx}: raw {bad:?} in HTML");
    }
}

/// The file name of `path`, as a refusal would quote it.
pub fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}
