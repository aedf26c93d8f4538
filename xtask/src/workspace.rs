//! Where things are: the workspace root and the cargo target directory.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The `cargo` that runs us, so builds use the same toolchain.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Builds one binary of one package with the `bench` profile and returns its path, read from
/// cargo's JSON messages (so custom target dirs work).
pub fn build_binary(package: &str, bin: &str, features: &[&str]) -> Result<PathBuf> {
    build_artifact(package, "--bin", bin, features, "bench")
}

/// Builds `kind` (`--bin` or `--example`) `name` of `package` with `profile` and returns its
/// path, read from cargo's JSON messages.
pub fn build_artifact(
    package: &str,
    kind: &str,
    name: &str,
    features: &[&str],
    profile: &str,
) -> Result<PathBuf> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root());
    build_with(cmd, package, kind, name, features, profile)
}

/// Builds the bench-profile binary `bin` of `package` in the checkout at `dir`, with its build
/// tree in `target_dir` (for `ab`'s worktrees of other revisions).
pub fn build_binary_in(
    dir: &Path,
    target_dir: &Path,
    package: &str,
    bin: &str,
    features: &[&str],
) -> Result<PathBuf> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(dir).env("CARGO_TARGET_DIR", target_dir);
    build_with(cmd, package, "--bin", bin, features, "bench")
}

fn build_with(
    mut cmd: Command,
    package: &str,
    kind: &str,
    name: &str,
    features: &[&str],
    profile: &str,
) -> Result<PathBuf> {
    cmd.args([
        "build",
        "--profile",
        profile,
        "--package",
        package,
        kind,
        name,
    ])
    .args(["--message-format", "json-render-diagnostics"]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    eprintln!("building {name} ({package}{})", feature_note(features));
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{}`", cargo()))?;
    if !out.status.success() {
        anyhow::bail!("building {name} failed (see the compiler output above)");
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == name)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .with_context(|| format!("cargo built {name} but reported no executable"))
}

fn feature_note(features: &[&str]) -> String {
    if features.is_empty() {
        String::new()
    } else {
        format!(", features {}", features.join(","))
    }
}
