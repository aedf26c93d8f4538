//! `cargo xtask doctor`: what this machine can run, and the command that installs what is missing.

use anyhow::Result;
use std::process::Command;

struct Check {
    what: &'static str,
    found: Option<String>,
    install: &'static str,
}

pub fn run() -> Result<u8> {
    let checks = [
        Check {
            what: "CPU SIMD features",
            found: Some(tensorbench_core::machine::cpu_features().join(" "))
                .filter(|s| !s.is_empty()),
            install: "(none: the portable kernels run everywhere)",
        },
        version_of(
            "Vulkan loader (wgpu)",
            "sh",
            &["-c", "ldconfig -p | grep -m1 libvulkan.so"],
            "apt-get install -y mesa-vulkan-drivers libvulkan1",
        ),
        version_of(
            "NVIDIA driver (CUDA)",
            "nvidia-smi",
            &["--query-gpu=name,driver_version", "--format=csv,noheader"],
            "install the NVIDIA driver; cudarc loads libcuda at run time",
        ),
        version_of(
            "Open MPI",
            "mpirun",
            &["--version"],
            "apt-get install -y libopenmpi-dev openmpi-bin libclang-dev",
        ),
        version_of(
            "Node.js",
            "node",
            &["--version"],
            "apt-get install -y nodejs",
        ),
        version_of(
            "Chromium",
            "chromium",
            &["--version"],
            "apt-get install -y chromium chromium-driver",
        ),
        version_of(
            "wasm32 target",
            "sh",
            &[
                "-c",
                "rustup target list --installed | grep wasm32-unknown-unknown",
            ],
            "rustup target add wasm32-unknown-unknown",
        ),
        version_of(
            "wasm-bindgen-cli",
            "wasm-bindgen",
            &["--version"],
            "cargo install wasm-bindgen-cli --version 0.2.130 (must match the pinned crate)",
        ),
        version_of(
            "Python",
            "python3",
            &["--version"],
            "apt-get install -y python3 python3-venv",
        ),
        version_of(
            "NumPy (peers)",
            "python3",
            &["-c", "import numpy; print(numpy.__version__)"],
            "cargo xtask peers setup",
        ),
    ];
    for c in &checks {
        match &c.found {
            Some(v) => println!("  ok       {:<22} {v}", c.what),
            None => println!("  missing  {:<22} install: {}", c.what, c.install),
        }
    }
    Ok(0)
}

fn version_of(what: &'static str, program: &str, args: &[&str], install: &'static str) -> Check {
    let found = Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|s| !s.is_empty());
    Check {
        what,
        found,
        install,
    }
}
