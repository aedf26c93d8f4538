//! The NEON kernels' validation tests, cross-built for `aarch64-unknown-linux-gnu` and run under
//! `qemu-aarch64`: the NEON path otherwise only ever gets `cargo check`ed on x86 machines. Only
//! correctness is checked; nothing is timed under emulation.

use super::{is_root, run_cmd};
use crate::workspace;
use anyhow::{Result, bail};
use std::process::Command;

const TARGET: &str = "aarch64-unknown-linux-gnu";
const LINKER: &str = "aarch64-linux-gnu-gcc";
const QEMU: &str = "qemu-aarch64";
/// Where Debian's cross libc lives, for qemu's dynamic loader.
const SYSROOT: &str = "/usr/aarch64-linux-gnu";
/// `1`: a missing cross tool fails the tests instead of skipping them (`.ci/run` sets it).
const REQUIRE_ENV: &str = "TENSORBENCH_REQUIRE_AARCH64";

/// Adds the rustup target when it is missing (the Debian packages come with the others).
pub fn install_target() -> Result<()> {
    if has_target() {
        return Ok(());
    }
    eprintln!("installing the aarch64 target: rustup target add {TARGET}");
    run_cmd(Command::new("rustup").args(["target", "add", TARGET]))
}

/// The cross build compiles every dependency again; the tests only check results, so optimising
/// them only costs CI time (this step took 6 min 11 s with them at opt-level 2). gemm-f16 keeps its
/// level: its NEON fp16 `asm!` does not build unoptimised.
const UNOPTIMISED_DEPS: [&str; 2] = [
    "profile.dev.package.\"*\".opt-level=0",
    "profile.dev.package.gemm-f16.opt-level=2",
];

/// Runs the NEON family of the kernel tests and the precision tests under qemu, or says why not.
pub fn run_tests() -> Result<()> {
    if let Some(missing) = missing_tool() {
        let why = format!("NEON tests under qemu-aarch64: {missing}");
        if std::env::var_os(REQUIRE_ENV).is_some_and(|v| v == "1") {
            bail!("{REQUIRE_ENV}=1 but {why}");
        }
        let hint = if is_root() {
            ""
        } else {
            " (`cargo xtask test` as root installs it)"
        };
        eprintln!("skipped: {why}{hint}");
        return Ok(());
    }
    for (test, filter) in [("kernels", "simd_neon"), ("precision", "")] {
        run_cmd(
            Command::new(workspace::cargo())
                .current_dir(workspace::root())
                .args(["test", "-p", "tensorbench-cpu-simd", "--target", TARGET])
                .args(UNOPTIMISED_DEPS.iter().flat_map(|c| ["--config", c]))
                .args(["--test", test, "--", filter])
                .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER", LINKER)
                .env(
                    "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER",
                    format!("{QEMU} -L {SYSROOT}"),
                ),
        )?;
    }
    Ok(())
}

fn missing_tool() -> Option<String> {
    let runs = |tool: &str| Command::new(tool).arg("--version").output().is_ok();
    if !runs(QEMU) {
        return Some(format!("no {QEMU} (Debian: qemu-user)"));
    }
    if !runs(LINKER) {
        return Some(format!("no {LINKER} (Debian: gcc-aarch64-linux-gnu)"));
    }
    if !has_target() {
        return Some(format!("no rustup target {TARGET}"));
    }
    None
}

fn has_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == TARGET)
        })
}
