//! `cargo xtask doctor`: what this machine can run, and the command that installs what is missing.

use crate::peers;
use anyhow::Result;
use std::path::Path;
use std::process::Command;

struct Check {
    what: &'static str,
    found: Option<String>,
    install: &'static str,
    /// Why it counts as missing, when that is more than absence (e.g. which pins differ).
    detail: Option<String>,
}

pub fn run() -> Result<u8> {
    let checks = [
        Check {
            what: "CPU SIMD features",
            found: Some(tensorbench_core::machine::cpu_features().join(" "))
                .filter(|s| !s.is_empty()),
            install: "(none: the portable kernels run everywhere)",
            detail: None,
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
        peers_venv(),
    ];
    for c in &checks {
        match &c.found {
            Some(v) => println!("  ok       {:<22} {v}", c.what),
            None => println!("  missing  {:<22} install: {}", c.what, c.install),
        }
        if let Some(d) = &c.detail {
            println!("           {:<22} {d}", "");
        }
    }
    Ok(0)
}

/// The venv `cargo xtask peers setup` made: there, runnable, and holding every pinned package at
/// its pinned version (PyTorch only if it was installed: it is optional).
fn peers_venv() -> Check {
    let venv = peers::default_venv();
    let mut check = Check {
        what: "peers venv",
        found: None,
        install: "cargo xtask peers setup",
        detail: None,
    };
    let python = peers::venv_python(&venv);
    if !python.exists() {
        check.detail = Some(format!("no venv at {}", venv.display()));
        return check;
    }
    let root = crate::workspace::root();
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_default();
    let wanted = peers::pins(&read(peers::REQUIREMENTS));
    let torch = peers::pins(&read(peers::TORCH_REQUIREMENTS));
    let names: Vec<&str> = wanted
        .iter()
        .chain(&torch)
        .map(|(n, _)| n.as_str())
        .collect();
    let installed = match installed_versions(&python, &names) {
        Ok(v) => v,
        Err(why) => {
            check.detail = Some(format!("{} does not run: {why}", python.display()));
            return check;
        }
    };
    let version_of = |name: &str| installed.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let mut wrong: Vec<String> = Vec::new();
    let torch_installed = torch.iter().any(|(n, _)| version_of(n).is_some());
    let required = wanted
        .iter()
        .chain(torch.iter().filter(|_| torch_installed));
    for (name, pin) in required {
        match version_of(name) {
            Some(v) if v == pin => {}
            Some(v) => wrong.push(format!("{name} {v} (pinned {pin})")),
            None => wrong.push(format!("{name} not installed (pinned {pin})")),
        }
    }
    if wrong.is_empty() {
        let torch_note = if torch_installed { ", with torch" } else { "" };
        check.found = Some(format!(
            "{} ({} pins{torch_note})",
            venv.display(),
            wanted.len()
        ));
    } else {
        check.detail = Some(wrong.join("; "));
    }
    check
}

/// `name version` of each distribution installed in the venv (missing ones left out).
fn installed_versions(python: &Path, names: &[&str]) -> Result<Vec<(String, String)>> {
    const SCRIPT: &str = "import sys\nfrom importlib import metadata\nfor n in sys.argv[1:]:\n    try:\n        print(n, metadata.version(n))\n    except metadata.PackageNotFoundError:\n        pass\n";
    let out = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .args(names)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, v)| (n.to_string(), v.trim().to_string()))
        .collect())
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
        detail: None,
    }
}
