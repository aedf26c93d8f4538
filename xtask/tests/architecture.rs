//! The architecture's invariants (docs/ARCHITECTURE.md, "Invariants"), checked on the workspace as
//! it is rather than trusted to review:
//!
//! * the dependency graph, from `cargo metadata`: the schema and core depend on no back-end,
//!   analysis and report read runs through the schema crate and never build the harness, and the
//!   schema crate stays free of the harness's dependencies;
//! * "only core has a timing loop", by a source scan (see [`clock_calls`]);
//! * errors are typed: no `Result<_, String>` in product code (see [`string_errors`]);
//! * the SIMD kernels hand no vector op to a closure (see [`closures`]).

use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const BACKENDS: [&str; 4] = [
    "tensorbench-cpu-simd",
    "tensorbench-gpu",
    "tensorbench-distributed",
    "tensorbench-wasm",
];
const HARNESS_DEPS: [&str; 4] = ["clap", "sysinfo", "ctrlc", "rayon"];

/// The workspace's resolved graph of normal (not dev, not build) dependencies, by package name.
struct Graph {
    deps: BTreeMap<String, BTreeSet<String>>,
    /// Workspace package name → its directory.
    members: BTreeMap<String, PathBuf>,
}

impl Graph {
    fn load() -> Graph {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .current_dir(root)
            .args(["metadata", "--format-version", "1"])
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Graph::from_metadata(&serde_json::from_slice(&out.stdout).expect("metadata is JSON"))
    }

    fn from_metadata(meta: &Value) -> Graph {
        let packages = meta["packages"].as_array().expect("packages");
        let name_of: BTreeMap<&str, &str> = packages
            .iter()
            .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        let workspace: BTreeSet<&str> = meta["workspace_members"]
            .as_array()
            .expect("workspace_members")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let members = packages
            .iter()
            .filter(|p| workspace.contains(p["id"].as_str().unwrap()))
            .map(|p| {
                let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
                let name = p["name"].as_str().unwrap().to_string();
                (name, manifest.parent().unwrap().to_path_buf())
            })
            .collect();
        let deps = meta["resolve"]["nodes"]
            .as_array()
            .expect("resolve.nodes")
            .iter()
            .map(|node| {
                let normal = node["deps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|d| is_normal(d))
                    .map(|d| name_of[d["pkg"].as_str().unwrap()].to_string())
                    .collect();
                (name_of[node["id"].as_str().unwrap()].to_string(), normal)
            })
            .collect();
        Graph { deps, members }
    }

    /// Every package `name` depends on, directly or not, through normal dependencies.
    fn closure(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![name.to_string()];
        while let Some(p) = todo.pop() {
            for d in self.deps.get(&p).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }

    fn direct(&self, name: &str) -> &BTreeSet<String> {
        self.deps
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in the workspace"))
    }
}

/// A dependency edge of kind "normal" (cargo writes `null`), for any platform.
fn is_normal(dep: &Value) -> bool {
    dep["dep_kinds"]
        .as_array()
        .is_some_and(|kinds| kinds.iter().any(|k| k["kind"].is_null()))
}

fn assert_none_of(graph: &Graph, package: &str, banned: &[&str]) {
    let all = graph.closure(package);
    let found: Vec<&&str> = banned.iter().filter(|b| all.contains(**b)).collect();
    assert!(
        found.is_empty(),
        "{package} must not depend (even indirectly) on {found:?}"
    );
}

/// The checks below pass vacuously on an empty graph; this one shows the graph is really read.
#[test]
fn the_graph_sees_what_is_known_to_be_there() {
    let graph = Graph::load();
    let core = graph.closure("tensorbench-core");
    assert!(core.contains("tensorbench-schema") && core.contains("clap"));
    assert!(graph.closure("tensorbench-cpu-simd").contains("rayon"));
    let xtask = graph.closure("xtask");
    assert!(xtask.contains("tensorbench-core") && xtask.contains("tensorbench-report"));
    for member in BACKENDS
        .iter()
        .chain(&["tensorbench-schema", "tensorbench-core"])
    {
        assert!(graph.members.contains_key(*member), "{member} is scanned");
    }
}

#[test]
fn schema_and_core_depend_on_no_backend() {
    let graph = Graph::load();
    assert_none_of(&graph, "tensorbench-schema", &BACKENDS);
    assert_none_of(&graph, "tensorbench-core", &BACKENDS);
}

#[test]
fn analysis_and_report_read_runs_through_the_schema_crate_only() {
    let graph = Graph::load();
    for package in ["tensorbench-analysis", "tensorbench-report"] {
        assert!(
            graph.direct(package).contains("tensorbench-schema"),
            "{package} reads runs through tensorbench-schema"
        );
        assert_none_of(&graph, package, &["tensorbench-core"]);
        assert_none_of(&graph, package, &BACKENDS);
        assert_none_of(&graph, package, &HARNESS_DEPS);
    }
}

#[test]
fn the_schema_crate_has_none_of_the_harness_dependencies() {
    let graph = Graph::load();
    assert_none_of(&graph, "tensorbench-schema", &HARNESS_DEPS);
    assert_none_of(&graph, "tensorbench-schema", &["tensorbench-core"]);
}

/// Calls of a `Clock`'s `start()`/`stop()` in `source`, as `line: text`, outside the code allowed to
/// make them. A simple, line-based scan, not a parser:
///
/// * a call is `.start()` or `.stop()` with no arguments (the `Clock` methods take none), or
///   `Clock::start(` / `Clock::stop(`;
/// * allowed are the blocks of `impl … Clock for T` and every other `impl` block of such a `T` in
///   the same file (a clock calibrating its own resolution), and `#[cfg(test)]` modules;
/// * `//` comments are ignored; braces inside string literals would confuse it (none do today).
///
/// Another type's argument-less `start()`/`stop()` (a regex match's `start()`) would be reported
/// too; name the type here if that ever happens.
fn clock_calls(source: &str) -> Vec<String> {
    let clock_impl = Regex::new(r"impl\b(?:<[^>]*>)?\s+(?:[\w:]+::)?Clock\s+for\s+(\w+)").unwrap();
    let clock_types: BTreeSet<&str> = clock_impl
        .captures_iter(source)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    let impl_of = Regex::new(r"^\s*impl\b(?:<[^>]*>)?\s+(?:[\w:<>]+\s+for\s+)?(\w+)").unwrap();
    let call = Regex::new(r"\.(start|stop)\(\)|\bClock::(start|stop)\(").unwrap();
    let mut found = Vec::new();
    let mut depth = 0usize;
    // Depth at which an allowed block began, and whether its `{` has been seen yet.
    let mut allowed: Option<(usize, bool)> = None;
    let mut cfg_test = false;
    for (i, raw) in source.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default();
        if allowed.is_none() {
            let is_clock_impl = impl_of
                .captures(line)
                .is_some_and(|c| clock_types.contains(c.get(1).unwrap().as_str()));
            let is_test_mod = cfg_test && line.trim_start().starts_with("mod ");
            if is_clock_impl || is_test_mod {
                allowed = Some((depth, false));
            } else if call.is_match(line) {
                found.push(format!("{}: {}", i + 1, raw.trim()));
            }
        }
        if !line.trim().is_empty() {
            cfg_test = line.trim() == "#[cfg(test)]";
        }
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    if let Some((_, opened)) = allowed.as_mut() {
                        *opened = true;
                    }
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    if allowed.is_some_and(|(d, opened)| opened && depth == d) {
                        allowed = None;
                    }
                }
                _ => {}
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// "There is one sampler": no crate but core starts or stops a clock in its product code (`src/`
/// of every workspace package; tests, benches and examples may).
#[test]
fn only_core_has_a_timing_loop() {
    let graph = Graph::load();
    let mut violations = Vec::new();
    for (name, dir) in &graph.members {
        if name == "tensorbench-core" {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for hit in clock_calls(&text) {
                violations.push(format!("{}:{hit}", file.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "only tensorbench-core's sampler may start and stop a Clock; found:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scan_finds_a_timing_loop_and_allows_clocks_and_tests() {
    let source = r#"
use tensorbench_core::Clock;

pub struct MyClock { inner: HostClock }

impl MyClock {
    pub fn new() -> Self {
        let mut c = Self { inner: HostClock::new() };
        c.start().unwrap(); // calibrating itself: allowed
        c
    }
}

impl tensorbench_core::Clock for MyClock {
    fn start(&mut self) -> Result<()> {
        self.inner.start()
    }
    fn stop(&mut self) -> Result<f64> { self.inner.stop() }
}

fn my_own_loop(clock: &mut dyn Clock, w: &mut dyn Workload) -> f64 {
    clock.start().unwrap();
    w.execute();
    // clock.stop() in a comment is not a call
    Clock::stop(clock).unwrap()
}

#[cfg(test)]
mod tests {
    fn t() { clock.start(); }
}

fn after() { other.stop(); }
"#;
    let hits = clock_calls(source);
    let lines: Vec<&str> = hits.iter().map(|h| h.split(':').next().unwrap()).collect();
    assert_eq!(lines, ["22", "25", "33"], "{hits:#?}");
}

/// Result types whose error is a bare `String` in `source`, as `line: text`. A simple, line-based
/// scan, not a parser:
///
/// * a hit is a `Result<…>` on one line whose second type argument (at its own nesting level) is
///   `String`: `Result<Vec<u8>, String>` and `std::result::Result<T, String>` count,
///   `Result<BTreeMap<String, String>>` does not; a type split over lines is not seen;
/// * everything after a line that is exactly `#[cfg(test)]` is skipped (test modules close the
///   file here), and `//` comments are ignored.
fn string_errors(source: &str) -> Vec<String> {
    product_lines_where(source, |line| {
        line.match_indices("Result<")
            .any(|(at, m)| error_type(&line[at + m.len()..]) == Some("String"))
    })
}

/// `N: line` for each line of product code (before `#[cfg(test)]`) whose text before any `//`
/// comment satisfies `hit`.
fn product_lines_where(source: &str, hit: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for (i, raw) in source.lines().enumerate() {
        if raw.trim() == "#[cfg(test)]" {
            break;
        }
        if hit(raw.split("//").next().unwrap_or_default()) {
            found.push(format!("{}: {}", i + 1, raw.trim()));
        }
    }
    found
}

/// The second type argument in `args` (the text after a `Result<`), trimmed, if it ends on this
/// line.
fn error_type(args: &str) -> Option<&str> {
    let (mut depth, mut comma) = (1usize, None);
    for (i, c) in args.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return comma.map(|at: usize| args[at + 1..i].trim());
                }
            }
            ',' if depth == 1 => comma = Some(i),
            _ => {}
        }
    }
    None
}

/// Errors are thiserror enums (one per library crate), never a bare `String`: product code
/// (`src/` of every workspace package, not its tests) has no `Result<_, String>`.
#[test]
fn no_string_errors_in_product_code() {
    let graph = Graph::load();
    let mut violations = Vec::new();
    for dir in graph.members.values() {
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for file in files {
            if file.components().any(|c| c.as_os_str() == "tests") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for hit in string_errors(&text) {
                violations.push(format!("{}:{hit}", file.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "use the crate's error enum (its error.rs), not Result<_, String>; found:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scan_finds_string_errors_and_skips_tests_and_comments() {
    let source = r#"
pub fn parse(s: &str) -> Result<u32, String> {
    let v: std::result::Result<Vec<u8>, String> = Ok(vec![]);
    // fn old() -> Result<(), String>
    let ok: Result<u32, Error> = Ok(1);
    let names: Result<BTreeMap<String, String>, Error> = todo();
    let pairs: Result<(u8, String), Error> = todo();
    let outputs: Result<Vec<Vec<f64>>, String> = todo();
}

#[cfg(test)]
mod tests {
    fn helper() -> Result<(), String> { Ok(()) }
}
"#;
    let hits = string_errors(source);
    let lines: Vec<&str> = hits.iter().map(|h| h.split(':').next().unwrap()).collect();
    assert_eq!(lines, ["2", "3", "8"], "{hits:#?}");
}

/// Lines of `source` (before a `#[cfg(test)]` line) that start a process directly (`.spawn()`,
/// `.output()`, `.status()`) without a `// deadline:` comment saying what bounds it.
fn undeadlined_children(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, raw) in source.lines().enumerate() {
        if raw.trim() == "#[cfg(test)]" {
            break;
        }
        let (code, comment) = raw.split_once("//").unwrap_or((raw, ""));
        let starts = [".spawn()", ".output()", ".status()"]
            .iter()
            .any(|call| code.contains(call));
        if starts && !comment.trim_start().starts_with("deadline:") {
            found.push(format!("{}: {}", i + 1, raw.trim()));
        }
    }
    found
}

/// "Every child of a run has a deadline and is stopped as a group": the files that start a
/// run's children (the suite, `--list-json`, `--dump-tensors`, the peers runner, Node,
/// Chromium) start them through `tensorbench_core::child`, or say what bounds them.
#[test]
fn every_child_of_a_run_has_a_deadline() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut violations = Vec::new();
    for file in [
        "xtask/src/supervise.rs",
        "xtask/src/peers.rs",
        "crates/wasm/src/host/runtimes.rs",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for hit in undeadlined_children(&text) {
            violations.push(format!("{file}:{hit}"));
        }
    }
    assert!(
        violations.is_empty(),
        "start a run's children with tensorbench_core::child (a deadline, a process group), or \
         say what bounds them in a `// deadline:` comment; found:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scan_finds_a_child_without_a_deadline() {
    let source = "let a = cmd.output()?;\n\
                  let b = cmd.spawn() // deadline: the watch\n\
                  let c = child::status_within(&mut cmd, \"x\", limit)?;\n\
                  #[cfg(test)]\n\
                  let d = cmd.status();\n";
    assert_eq!(undeadlined_children(source), ["1: let a = cmd.output()?;"]);
}

/// The repository's tracked files, relative to its root.
fn tracked_files(root: &Path) -> Vec<PathBuf> {
    let out = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z"])
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Variables read by name (`var("X")`, `var_os("X")`) in `source` that are neither ours
/// (`TENSORBENCH_`) nor one of the outside world's.
fn foreign_variables(source: &str) -> Vec<String> {
    const OUTSIDE: [&str; 8] = [
        "CARGO",
        "CARGO_TARGET_DIR",
        "RUSTC",
        "HOME",
        "PATH",
        "PYTHONPATH",
        "PROPTEST_CASES",
        "GITHUB_STEP_SUMMARY",
    ];
    let read = Regex::new(r#"\bvar(?:_os)?\("([A-Z][A-Z0-9_]*)"\)"#).unwrap();
    read.captures_iter(source)
        .map(|c| c[1].to_string())
        .filter(|name| !name.starts_with("TENSORBENCH_") && !OUTSIDE.contains(&name.as_str()))
        .collect()
}

/// "Environment variables use one prefix, and each is documented": every `TENSORBENCH_*` name in
/// the repository is in docs/ENVIRONMENT.md, and the code reads no other variable of its own.
#[test]
fn every_environment_variable_is_prefixed_and_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/ENVIRONMENT.md")).unwrap();
    let name = Regex::new(r"\bTENSORBENCH_[A-Z0-9_]*[A-Z0-9]").unwrap();
    let (mut undocumented, mut foreign) = (BTreeSet::new(), BTreeSet::new());
    for file in tracked_files(&root) {
        let Ok(text) = std::fs::read_to_string(root.join(&file)) else {
            continue; // not text
        };
        for m in name.find_iter(&text) {
            if !doc.contains(&format!("`{}`", m.as_str())) {
                undocumented.insert(format!("{} ({})", m.as_str(), file.display()));
            }
        }
        if file.extension().is_some_and(|e| e == "rs") && !file.ends_with("architecture.rs") {
            for v in foreign_variables(&text) {
                foreign.insert(format!("{v} ({})", file.display()));
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "add to docs/ENVIRONMENT.md: {undocumented:#?}"
    );
    assert!(foreign.is_empty(), "name these TENSORBENCH_*: {foreign:#?}");
}

#[test]
fn the_scan_finds_an_unprefixed_variable() {
    let source = r#"std::env::var("TENSORBENCH_NODE"); env::var_os("MY_KNOB"); var("HOME")"#;
    assert_eq!(foreign_variables(source), ["MY_KNOB"]);
}

/// Closures on the lines of `source` (product code, not comments or tests): `|args|` opened after
/// `(`, `,` or `=`, with or without `move`.
fn closures(source: &str) -> Vec<String> {
    let closure = Regex::new(r"[(,=]\s*(move\s+)?\|").unwrap();
    product_lines_where(source, |line| closure.is_match(line))
}

/// "A SIMD kernel hands no vector op to a closure": a closure given to an iterator adapter or
/// `array::map` is compiled inside that adapter, outside the kernel's `#[target_feature]`
/// function, so each intrinsic in it becomes a call (the AVX2 sum ran at a fifth of the scalar
/// one this way). The kernels generic over `Lanes` (`cpu-simd/src/kernels/simd/`, but for the
/// portable lanes, whose plain arrays need no feature, and the dispatch in `mod.rs`) use loops.
#[test]
fn simd_kernels_hand_no_vector_op_to_a_closure() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/cpu-simd/src/kernels/simd");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let mut violations = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if ["lanes.rs", "mod.rs", "tests.rs"].contains(&name.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for hit in closures(&text) {
            violations.push(format!("{}:{hit}", file.display()));
        }
    }
    assert!(
        dir.join("reduce.rs").exists(),
        "the scan reads the SIMD kernels"
    );
    assert!(
        violations.is_empty(),
        "write these as loops (see kernels/simd/reduce.rs):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scan_finds_closures_and_skips_bitwise_or_and_tests() {
    let source = "let v = [0, 1].map(|k| s.load(p.add(k)));\nlet m = a | b;\n\
                  let f = move |x| x;\nif a || b {}\n// .map(|x| x)\n#[cfg(test)]\nx.map(|y| y);";
    let hits = closures(source);
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(
        hits[0].starts_with("1:") && hits[1].starts_with("3:"),
        "{hits:?}"
    );
}

/// The `asm!` blocks in `source` (their text, from `asm!(` to the line that closes them) that
/// name a ymm or zmm register but do not execute `vzeroupper`.
fn wide_asm_without_vzeroupper(source: &str) -> Vec<String> {
    let wide = Regex::new(r"\b[yz]mm\d").unwrap();
    let mut found = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (i, line) in source.lines().enumerate() {
        if line.contains("asm!(") {
            block = Some((i + 1, String::new()));
        }
        let Some((start, text)) = block.as_mut() else {
            continue;
        };
        text.push_str(line);
        text.push('\n');
        if line.trim_start().starts_with(");") {
            if wide.is_match(text) && !text.contains("\"vzeroupper\"") {
                found.push(format!("asm! at line {start}"));
            }
            block = None;
        }
    }
    found
}

/// "Inline assembly that writes wide registers ends with `vzeroupper`", as compilers end their
/// own wide code: without it the f16 FMA peak measured two thirds of the rate an independent C
/// program got, because every SSE instruction after it (the sampler's) ran with dirty upper
/// halves.
#[test]
fn wide_inline_assembly_ends_with_vzeroupper() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let mut violations = Vec::new();
    let mut scanned = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        scanned += usize::from(text.contains("asm!("));
        for hit in wide_asm_without_vzeroupper(&text) {
            violations.push(format!("{}: {hit}", file.display()));
        }
    }
    assert!(scanned >= 2, "the scan reads the f16 and AMX peaks");
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_scan_finds_wide_assembly_without_vzeroupper() {
    let bad = "asm!(\n    \"vfmadd231ph zmm0, zmm1, zmm1\",\n    out(\"zmm0\") _,\n);\n";
    let good = "asm!(\n    \"vaddps ymm0, ymm0, ymm0\",\n    \"vzeroupper\",\n);\n";
    let narrow = "asm!(\n    \"tilezero tmm0\",\n);\n";
    assert_eq!(wide_asm_without_vzeroupper(bad), ["asm! at line 1"]);
    assert!(wide_asm_without_vzeroupper(good).is_empty());
    assert!(wide_asm_without_vzeroupper(narrow).is_empty());
}
