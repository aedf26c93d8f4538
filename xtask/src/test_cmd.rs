//! `cargo xtask test`: install what the tests need (when it can), then run every test.

use crate::workspace;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::process::Command;

#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// Do not install anything; only run the tests (missing tools make their tests skip).
    #[arg(long)]
    pub no_install: bool,
}

/// Debian packages the tests use, and why.
const APT_PACKAGES: &[(&str, &str)] = &[];

pub fn run(args: &TestArgs) -> Result<u8> {
    if !args.no_install {
        install_apt_packages()?;
    }
    cargo(&["test", "--workspace", "--all-targets"])?;
    cargo(&["test", "--workspace", "--doc"])?;
    Ok(0)
}

fn install_apt_packages() -> Result<()> {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !dpkg_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "the tests need Debian packages that are missing; run:\n  sudo apt-get install -y {}\nthen `cargo xtask test` again (or `cargo xtask test --no-install` to skip those tests)",
            missing.join(" ")
        );
    }
    eprintln!("installing {}", missing.join(" "));
    run_cmd(Command::new("apt-get").args(["update", "-qq"]))?;
    run_cmd(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn cargo(args: &[&str]) -> Result<()> {
    run_cmd(Command::new(workspace::cargo()).current_dir(workspace::root()).args(args))
}

fn run_cmd(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}
