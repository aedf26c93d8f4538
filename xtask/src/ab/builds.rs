//! The two suite binaries `ab` compares: built from git revisions in worktrees under
//! `target/ab/`, cached by commit so a second `ab` against the same base does not rebuild it;
//! the working tree; or prebuilt paths.

use crate::targets::Target;
use crate::{Infrastructure, bad_input, workspace};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One side of the comparison, and the binary that measures it.
#[derive(Debug, Clone)]
pub struct Build {
    /// What the user named it: a revision, `working tree`, or a path.
    pub label: String,
    /// The commit, when it is one.
    pub commit: Option<String>,
    pub binary: PathBuf,
}

/// The commit `rev` names; a name git does not know is bad input.
pub fn resolve_commit(rev: &str) -> Result<String> {
    let out = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])?;
    if !out.status.success() {
        bad_input!("{rev:?} is not a revision of this repository (git rev-parse found no commit)");
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The suite binary of `target` at `rev`, built once per commit.
pub fn at_revision(rev: &str, target: &Target, features: &[&str]) -> Result<Build> {
    let commit = resolve_commit(rev)?;
    let cache = ab_dir()
        .join("bin")
        .join(cache_name(&commit, target, features));
    if !cache.is_file() {
        let src = worktree(&commit)?;
        let built = workspace::build_binary_in(
            &src,
            &ab_dir().join("target"),
            target.package,
            target.bin,
            features,
        )
        .map_err(|e| Infrastructure(format!("{rev} ({}): {e:#}", short(&commit))))?;
        copy_into_cache(&built, &cache)?;
    } else {
        eprintln!(
            "{rev} ({}): cached build {}",
            short(&commit),
            cache.display()
        );
    }
    Ok(Build {
        label: rev.to_string(),
        commit: Some(commit),
        binary: cache,
    })
}

/// The suite binary of `target` built from the working tree, as `bench` builds it.
pub fn working_tree(target: &Target, features: &[&str]) -> Result<Build> {
    let binary = workspace::build_binary(target.package, target.bin, features)
        .map_err(|e| Infrastructure(format!("the working tree: {e:#}")))?;
    Ok(Build {
        label: "working tree".into(),
        commit: None,
        binary,
    })
}

/// A prebuilt binary named by `--base-bin`/`--head-bin`.
pub fn prebuilt(flag: &str, path: &Path) -> Result<Build> {
    if !path.is_file() {
        bad_input!("{flag} {}: no such file", path.display());
    }
    Ok(Build {
        label: path.display().to_string(),
        commit: None,
        binary: path.to_path_buf(),
    })
}

/// Where `ab` keeps its worktrees, build tree and cached binaries.
fn ab_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace::root().join("target"), PathBuf::from)
        .join("ab")
}

fn cache_name(commit: &str, target: &Target, features: &[&str]) -> String {
    let mut name = format!("{commit}-{}", target.bin);
    for f in features {
        name.push('+');
        name.push_str(f);
    }
    name
}

/// A detached worktree of `commit` (made once, kept for later builds of it).
fn worktree(commit: &str) -> Result<PathBuf> {
    let dir = ab_dir().join("src").join(commit);
    if dir.join("Cargo.toml").is_file() {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = git(&["worktree", "prune"]);
    let path = dir.display().to_string();
    let out = git(&["worktree", "add", "--detach", "--force", &path, commit])?;
    if !out.status.success() {
        return Err(Infrastructure(format!(
            "git worktree add {path} {commit} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .into());
    }
    Ok(dir)
}

fn copy_into_cache(built: &Path, cache: &Path) -> Result<()> {
    let dir = cache.parent().context("cache path has a parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let partial = cache.with_extension("partial");
    std::fs::copy(built, &partial).with_context(|| format!("copying {}", built.display()))?;
    std::fs::rename(&partial, cache).with_context(|| format!("renaming to {}", cache.display()))
}

fn git(args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .current_dir(workspace::root())
        .args(args)
        .output()
        .map_err(|e| Infrastructure(format!("could not run git: {e}")).into())
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}
