//! `cargo xtask ab` end to end: two fixture "builds" that differ by a known factor, an A/A of one
//! build, and the exit codes of a revision that does not exist or does not build.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Builds the `ab_fixture` example (dev profile) and returns its path.
fn fixture() -> PathBuf {
    // `cargo xtask test` builds every example once, with the run's features.
    if let Some(dir) = std::env::var_os("TENSORBENCH_PREBUILT_DIR") {
        return Path::new(&dir).join("examples/ab_fixture");
    }
    let out = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["build", "-p", "tensorbench-core", "--example", "ab_fixture"])
        .args(["--message-format", "json-render-diagnostics"])
        .output()
        .unwrap();
    assert!(out.status.success(), "building the fixture failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "ab_fixture")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the fixture's executable")
}

/// A "build": a script that runs the fixture with its planted workloads scaled by `factor`.
fn build_with_factor(dir: &Path, name: &str, factor: f64) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    let script = format!(
        "#!/bin/sh\nTENSORBENCH_FIXTURE_FACTOR={factor} exec {} \"$@\"\n",
        fixture().display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn xtask(args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.current_dir(root()).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ab_bins(base: &Path, head: &Path, out: &Path) -> Output {
    let (base, head, out) = (
        base.to_str().unwrap(),
        head.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let args = [
        "ab",
        "--base-bin",
        base,
        "--head-bin",
        head,
        "--rounds",
        "6",
        "--threshold",
        "0.05",
        "--seed",
        "11",
        "--out",
        out,
        "--no-report",
    ];
    xtask(&args, &[])
}

/// The comparison `ab` wrote beside its run file: id → (verdict, ratio).
fn verdicts(out: &Path) -> Vec<(String, String, f64)> {
    let file = walk(out)
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(".ab.json"))
        .expect("ab writes its comparison");
    let cmp: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    cmp["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let verdict = i["verdict"].as_str().unwrap().to_string();
            let ratio = i["ratio"].as_f64().unwrap_or(f64::NAN);
            (i["id"].as_str().unwrap().to_string(), verdict, ratio)
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_planted_slowdown_is_called_slower_and_nothing_else_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let base = build_with_factor(dir.path(), "base.sh", 1.0);
    let head = build_with_factor(dir.path(), "head.sh", 1.5);
    let out = ab_bins(&base, &head, &dir.path().join("results"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "a regression exits 1:\n{}",
        text(&out)
    );
    let items = verdicts(&dir.path().join("results"));
    assert_eq!(items.len(), 4, "{items:?}");
    for (id, verdict, ratio) in &items {
        if id.contains("/planted/") {
            assert_eq!(verdict, "slower", "{id}: {items:?}");
            assert!((1.3..1.7).contains(ratio), "{id}: ratio {ratio}");
        } else {
            assert!(
                !["slower", "faster"].contains(&verdict.as_str()),
                "{id}: {items:?}"
            );
        }
    }
}

#[test]
fn an_a_a_of_one_build_flags_nothing_and_records_the_noise_floor() {
    let dir = tempfile::tempdir().unwrap();
    let build = build_with_factor(dir.path(), "same.sh", 1.0);
    let results = dir.path().join("results");
    let out = ab_bins(&build, &build, &results);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let items = verdicts(&results);
    assert!(
        items
            .iter()
            .all(|(_, v, _)| !["slower", "faster"].contains(&v.as_str())),
        "{items:?}"
    );
    let floor = walk(&results)
        .into_iter()
        .find(|p| p.ends_with("noise-floor.json"))
        .expect("an A/A records the noise floor");
    let floor: Value = serde_json::from_slice(&std::fs::read(floor).unwrap()).unwrap();
    assert_eq!(floor.as_object().unwrap().len(), 4, "{floor}");
    assert!(
        floor
            .as_object()
            .unwrap()
            .values()
            .all(|v| v["mde"].as_f64().unwrap() > 0.0)
    );
    assert_legs_recorded(&results);
}

/// Every compared id keeps each round's legs: both sides, each with its median and steal.
fn assert_legs_recorded(results: &Path) {
    let run = walk(results)
        .into_iter()
        .find(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".json") && !name.ends_with(".ab.json") && !name.ends_with("floor.json")
        })
        .expect("ab writes a run file");
    let run: Value = serde_json::from_slice(&std::fs::read(run).unwrap()).unwrap();
    for m in run["measurements"].as_array().unwrap() {
        let ab = &m["extra"]["ab"];
        let (rounds, legs) = (
            ab["rounds"].as_u64().unwrap(),
            ab["legs"].as_array().unwrap(),
        );
        assert_eq!(legs.len() as u64, rounds, "{}: one list per round", m["id"]);
        for round in legs {
            let round = round.as_array().unwrap();
            assert!(!round.is_empty() && round.len() % 2 == 0, "{round:?}");
            let sides: Vec<u64> = round.iter().map(|l| l["side"].as_u64().unwrap()).collect();
            assert_eq!(sides.iter().filter(|&&s| s == 0).count(), round.len() / 2);
            assert!(round.iter().all(|l| l["median_ns"].as_f64().unwrap() > 0.0));
            assert!(round.iter().all(|l| l.get("steal_ticks").is_some()));
        }
    }
}

#[test]
fn a_revision_that_does_not_exist_is_bad_input() {
    let out = xtask(&["ab", "no-such-revision-3f9c", "--no-report"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("not a revision"), "{}", text(&out));
    let out = xtask(
        &["ab", "--base-bin", "/nonexistent/suite", "--head-bin", "/x"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--base-bin"), "{}", text(&out));
}

/// A commit of this repository whose root manifest does not parse (made with plumbing, so no
/// branch or working tree changes).
fn broken_commit() -> String {
    let git = |args: &[&str], index: &Path| -> String {
        let out = Command::new("git")
            .current_dir(root())
            .env("GIT_INDEX_FILE", index)
            .env("GIT_AUTHOR_NAME", "ab test")
            .env("GIT_AUTHOR_EMAIL", "ab@test")
            .env("GIT_COMMITTER_NAME", "ab test")
            .env("GIT_COMMITTER_EMAIL", "ab@test")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    let junk = dir.path().join("Cargo.toml");
    std::fs::write(&junk, "this is [not toml\n").unwrap();
    let blob = git(&["hash-object", "-w", junk.to_str().unwrap()], &index);
    git(&["read-tree", "HEAD"], &index);
    let info = format!("100644,{blob},Cargo.toml");
    git(&["update-index", "--cacheinfo", &info], &index);
    let tree = git(&["write-tree"], &index);
    git(
        &["commit-tree", &tree, "-p", "HEAD", "-m", "ab test: broken"],
        &index,
    )
}

#[test]
fn a_revision_that_does_not_build_is_an_infrastructure_failure() {
    let target = tempfile::tempdir().unwrap();
    let commit = broken_commit();
    let out = xtask(
        &["ab", &commit, &commit, "--no-report"],
        &[("CARGO_TARGET_DIR", target.path())],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains(&commit[..10]), "{}", text(&out));
    let _ = Command::new("git")
        .current_dir(root())
        .args(["worktree", "prune"])
        .status();
}

#[test]
fn ci_base_gates_on_the_same_a_b_and_keeps_its_exit_codes() {
    let out = xtask(
        &["ci", "--base", "no-such-revision-3f9c", "--no-report"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let target = tempfile::tempdir().unwrap();
    let commit = broken_commit();
    let out = xtask(
        &["ci", "--base", &commit, "--no-report"],
        &[("CARGO_TARGET_DIR", target.path())],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = xtask(&["ab", "HEAD", "--rounds", "3"], &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "fewer rounds than a verdict needs: {}",
        text(&out)
    );
}
