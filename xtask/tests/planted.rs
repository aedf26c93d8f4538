//! A planted slowdown on the real CPU suite: a scratch revision (made with git plumbing, so no
//! branch or working tree changes) in which every elementwise kernel also runs again over the
//! first `TENSORBENCH_PLANTED_PCT`% of its elements, i.e. does that much more work, is compared with HEAD by
//! `cargo xtask ab` over the whole quick suite.
//!
//! It takes minutes (two bench builds, then the A/B), so it is ignored by default:
//!
//! ```text
//! TENSORBENCH_PLANTED_PCT=5 cargo test -p xtask --test planted -- --ignored --nocapture
//! ```
//!
//! `TENSORBENCH_PLANTED_BASE` (default `HEAD`) names the base revision; `TENSORBENCH_PLANTED_FILTER` narrows the ids;
//! `TENSORBENCH_PLANTED_OUT` keeps the results there (default: a temporary directory).
//!
//! At 5% it asserts that ≥ 95% of the affected ids are called `slower` and no other id is
//! flagged; at other sizes, that ≥ 80% are caught. At 0 the scratch revision still has the
//! planted code, run over no elements: the builds differ in code layout only, so it is an A/A of
//! two builds and asserts that no id is flagged. It prints the MDEs and the rounds used.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The ops whose workloads run through `workloads/elementwise.rs`.
const ELEMENTWISE_OPS: [&str; 16] = [
    "zeros",
    "fill",
    "add",
    "sub",
    "mul",
    "div",
    "add_scalar",
    "sub_scalar",
    "mul_scalar",
    "div_scalar",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "gelu",
    "exp",
];

const FILE: &str = "crates/cpu-simd/src/workloads/elementwise.rs";

const EXECUTE: &str = "    fn execute(&mut self) {
        match self.kernel {
            Kernel::Nullary(f) => f(&mut self.out),
            Kernel::Unary(f) => f(&self.inputs[0], &mut self.out),
            Kernel::Binary(f) => f(&self.inputs[0], &self.inputs[1], &mut self.out),
        }
    }";

fn planted_execute(per_mille: usize) -> String {
    format!(
        "    fn execute(&mut self) {{
        match self.kernel {{
            Kernel::Nullary(f) => f(&mut self.out),
            Kernel::Unary(f) => f(&self.inputs[0], &mut self.out),
            Kernel::Binary(f) => f(&self.inputs[0], &self.inputs[1], &mut self.out),
        }}
        // Planted by xtask/tests/planted.rs: the same kernel again over the first elements.
        let k = self.n * {per_mille} / 1000;
        match self.kernel {{
            Kernel::Nullary(f) => f(&mut self.out[..k]),
            Kernel::Unary(f) => f(&self.inputs[0][..k], &mut self.out[..k]),
            Kernel::Binary(f) => f(&self.inputs[0][..k], &self.inputs[1][..k], &mut self.out[..k]),
        }}
    }}"
    )
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn git(args: &[&str], index: &Path) -> String {
    let out = Command::new("git")
        .current_dir(root())
        .env("GIT_INDEX_FILE", index)
        .env("GIT_AUTHOR_NAME", "planted test")
        .env("GIT_AUTHOR_EMAIL", "planted@test")
        .env("GIT_COMMITTER_NAME", "planted test")
        .env("GIT_COMMITTER_EMAIL", "planted@test")
        // Fixed dates: the same plant on the same base is the same commit, so its build is cached.
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {:?}", out);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `base` with the planted `execute`.
fn scratch_commit(base: &str, per_mille: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    let source = git(&["show", &format!("{base}:{FILE}")], &index);
    assert!(
        source.contains(EXECUTE),
        "{FILE} changed: update this test's EXECUTE"
    );
    let planted = dir.path().join("elementwise.rs");
    std::fs::write(
        &planted,
        source.replace(EXECUTE, &planted_execute(per_mille)) + "\n",
    )
    .unwrap();
    let blob = git(&["hash-object", "-w", planted.to_str().unwrap()], &index);
    git(&["read-tree", base], &index);
    git(
        &[
            "update-index",
            "--cacheinfo",
            &format!("100644,{blob},{FILE}"),
        ],
        &index,
    );
    let tree = git(&["write-tree"], &index);
    let msg = format!("planted: elementwise kernels do {per_mille}‰ more work");
    git(&["commit-tree", &tree, "-p", base, "-m", &msg], &index)
}

#[test]
#[ignore = "minutes: two bench builds and an A/B of the quick suite"]
fn a_planted_slowdown_in_every_elementwise_kernel_is_caught() {
    let pct: f64 = std::env::var("TENSORBENCH_PLANTED_PCT").map_or(5.0, |v| v.parse().unwrap());
    // A fixed base (e.g. a commit SHA) keeps its cached build across later commits.
    let base = std::env::var("TENSORBENCH_PLANTED_BASE").unwrap_or_else(|_| "HEAD".into());
    let commit = scratch_commit(&base, (pct * 10.0).round() as usize);
    let temp = tempfile::tempdir().unwrap();
    let out_dir = std::env::var_os("TENSORBENCH_PLANTED_OUT")
        .map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    let mut ab = Command::new(env!("CARGO_BIN_EXE_xtask"));
    ab.current_dir(root())
        .args(["ab", &base, &commit, "--no-report", "--out"])
        .arg(&out_dir);
    if let Ok(f) = std::env::var("TENSORBENCH_PLANTED_FILTER") {
        ab.args(["--filter", &f]);
    }
    let status = ab.status().unwrap();
    let _ = Command::new("git")
        .current_dir(root())
        .args(["worktree", "prune"])
        .status();
    assert!(status.code().is_some_and(|c| c <= 1), "ab failed: {status}");
    let cmp = read_comparison(&out_dir);
    let items = cmp["items"].as_array().unwrap();
    let affected = |i: &&Value| ELEMENTWISE_OPS.contains(&i["op"].as_str().unwrap());
    let (hit, other): (Vec<&Value>, Vec<&Value>) = items.iter().partition(affected);
    let caught = hit.iter().filter(|i| i["verdict"] == "slower").count();
    let flagged = flagged_in(&other);
    report(pct, &hit, caught, &other, &flagged);
    if pct == 0.0 {
        let all = flagged_in(&items.iter().collect::<Vec<_>>());
        assert!(all.is_empty(), "builds differing in layout only: {all:?}");
        return;
    }
    let want = if pct >= 5.0 { 0.95 } else { 0.80 };
    assert!(!hit.is_empty(), "no elementwise id was compared");
    assert!(
        caught as f64 >= want * hit.len() as f64,
        "{caught} of {} caught",
        hit.len()
    );
    if pct >= 5.0 {
        assert!(flagged.is_empty(), "unaffected ids flagged: {flagged:?}");
    }
}

fn flagged_in<'a>(items: &[&'a Value]) -> Vec<&'a str> {
    items
        .iter()
        .filter(|i| i["verdict"] == "slower" || i["verdict"] == "faster")
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}

fn read_comparison(dir: &Path) -> Value {
    let machine = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let file = std::fs::read_dir(machine)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".ab.json"))
        .expect("ab writes its comparison");
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

/// Prints what the note needs: caught, flagged, the MDE distribution and the rounds used.
fn report(pct: f64, hit: &[&Value], caught: usize, other: &[&Value], flagged: &[&str]) {
    println!(
        "planted +{pct}%: {caught} of {} affected ids called slower",
        hit.len()
    );
    println!(
        "unaffected: {} ids, {} flagged: {flagged:?}",
        other.len(),
        flagged.len()
    );
    let verdicts = |xs: &[&Value]| {
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for i in xs {
            *counts
                .entry(i["verdict"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        counts
    };
    println!(
        "affected verdicts {:?}; unaffected verdicts {:?}",
        verdicts(hit),
        verdicts(other)
    );
    for i in hit.iter().filter(|i| i["verdict"] != "slower") {
        println!("missed: {} {} {}", i["id"], i["ratio"], i["note"]);
    }
}
