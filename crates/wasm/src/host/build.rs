//! Builds the crate for `wasm32-unknown-unknown` twice (plain, `+simd128`), each in its own target
//! directory so the two sets of flags never rebuild each other, then runs wasm-bindgen
//! (`--target web`: one glue for Node and the browser) and adds the drivers in `js/`.

use super::Missing;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

pub const TARGET: &str = "wasm32-unknown-unknown";
/// Must equal the `wasm-bindgen` pinned in the workspace: the CLI refuses other versions' output.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// The two builds of the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Scalar,
    Simd128,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::Scalar, Variant::Simd128];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Scalar => "scalar",
            Variant::Simd128 => "simd128",
        }
    }

    /// The backend its measurements carry.
    pub fn backend(self) -> &'static str {
        match self {
            Variant::Scalar => "wasm-scalar",
            Variant::Simd128 => "wasm-simd128",
        }
    }

    fn rustflags(self) -> &'static str {
        match self {
            Variant::Scalar => "",
            Variant::Simd128 => "-C target-feature=+simd128",
        }
    }
}

/// How a module exports its functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    /// wasm-bindgen, for JavaScript engines (Node, Chromium).
    Bindgen,
    /// Plain `extern "C"` with an imported clock, for wasmtime.
    Cabi,
}

/// A built module: for `Bindgen`, the wasm-bindgen output and the drivers in one directory.
#[derive(Debug, Clone)]
pub struct Module {
    pub variant: Variant,
    pub abi: Abi,
    pub dir: PathBuf,
    pub wasm: PathBuf,
}

const DRIVERS: [(&str, &str); 4] = [
    ("harness.mjs", include_str!("../../js/harness.mjs")),
    ("node_driver.mjs", include_str!("../../js/node_driver.mjs")),
    ("page.html", include_str!("../../js/page.html")),
    ("page.mjs", include_str!("../../js/page.mjs")),
];

/// The rustup target and the matching wasm-bindgen CLI, or what is missing and how to install it.
pub fn check_toolchain() -> std::result::Result<(), Missing> {
    check_target()?;
    check_wasm_bindgen()
}

/// The rustup target alone (all the C-ABI module needs).
pub fn check_target() -> std::result::Result<(), Missing> {
    let libdir = Command::new(rustc())
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let has_target = libdir
        .is_some_and(|d| std::fs::read_dir(d).is_ok_and(|mut entries| entries.next().is_some()));
    if !has_target {
        return Err(Missing {
            what: format!("the Rust target {TARGET}"),
            install: format!("rustup target add {TARGET}"),
        });
    }
    Ok(())
}

fn check_wasm_bindgen() -> std::result::Result<(), Missing> {
    let install = format!("cargo install wasm-bindgen-cli --version {WASM_BINDGEN_VERSION}");
    let version = Command::new("wasm-bindgen").arg("--version").output().ok();
    match version.filter(|o| o.status.success()) {
        None => Err(Missing {
            what: "wasm-bindgen-cli".into(),
            install,
        }),
        Some(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            if text.split_whitespace().nth(1) == Some(WASM_BINDGEN_VERSION) {
                Ok(())
            } else {
                Err(Missing {
                    what: format!(
                        "wasm-bindgen-cli {WASM_BINDGEN_VERSION} (found {})",
                        text.trim()
                    ),
                    install: format!("{install} --force"),
                })
            }
        }
    }
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())
}

/// The workspace's target directory: `$CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn target_root() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds `variant` (optimised like the benches) with wasm-bindgen exports and prepares its
/// directory. Callers check [`check_toolchain`] first; a failing build is an error with cargo's
/// output.
pub fn build(variant: Variant) -> Result<Module> {
    // Tests build from several threads; cargo locks its target dir, wasm-bindgen's output does not.
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let raw = cargo_build(variant, Abi::Bindgen)?;
    let dir = target_root().join("wasm-pkg").join(variant.name());
    let module = Module {
        variant,
        abi: Abi::Bindgen,
        wasm: dir.join("tensorbench_wasm_bg.wasm"),
        dir,
    };
    // Another process (a test, the runner) may be running this very directory: rewrite it only
    // when the module changed.
    if !pkg_up_to_date(&raw, &module) {
        write_pkg(&raw, &module.dir)?;
    }
    Ok(module)
}

/// Whether the directory holds wasm-bindgen's output of `raw` (newer than it) and our drivers.
fn pkg_up_to_date(raw: &Path, module: &Module) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = matches!((modified(raw), modified(&module.wasm)), (Some(r), Some(w)) if w >= r);
    fresh
        && module.dir.join("package.json").is_file()
        && DRIVERS.iter().all(|(name, text)| {
            std::fs::read_to_string(module.dir.join(name)).is_ok_and(|t| t == *text)
        })
}

fn write_pkg(raw: &Path, dir: &Path) -> Result<()> {
    let out = Command::new("wasm-bindgen")
        .args(["--target", "web", "--out-dir"])
        .arg(dir)
        .arg(raw)
        .output()
        .context("running wasm-bindgen")?;
    if !out.status.success() {
        bail!(
            "wasm-bindgen on {} failed:\n{}",
            raw.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (name, text) in DRIVERS {
        std::fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    // Node reads `.js` files as ES modules only with this beside them.
    std::fs::write(dir.join("package.json"), "{\"type\": \"module\"}\n")?;
    Ok(())
}

/// Builds `variant` with plain C-ABI exports (for wasmtime); needs only [`check_target`].
pub fn build_cabi(variant: Variant) -> Result<Module> {
    let wasm = cargo_build(variant, Abi::Cabi)?;
    let dir = wasm.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Module {
        variant,
        abi: Abi::Cabi,
        dir,
        wasm,
    })
}

/// `cargo build` of the module; returns the `.wasm`. Each (variant, ABI) has its own target
/// directory so their flags never rebuild each other.
fn cargo_build(variant: Variant, abi: Abi) -> Result<PathBuf> {
    let suffix = if abi == Abi::Cabi { "-cabi" } else { "" };
    let target_dir = target_root().join(format!("wasm-{}{suffix}", variant.name()));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root())
        .args([
            "build",
            "-p",
            "tensorbench-wasm",
            "--lib",
            "--profile",
            "bench",
        ])
        .args(["--target", TARGET])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", variant.rustflags())
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // What ships: no debug info in the module (its size is one of the results).
        .env("CARGO_PROFILE_BENCH_DEBUG", "false")
        .env("CARGO_PROFILE_BENCH_STRIP", "debuginfo");
    if abi == Abi::Cabi {
        cmd.args(["--no-default-features", "--features", "cabi"]);
    }
    let out = cmd.output().context("running cargo build for wasm32")?;
    if !out.status.success() {
        bail!(
            "cargo build of the {} module failed:\n{}",
            variant.name(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The bench profile builds into `release/`.
    Ok(target_dir
        .join(TARGET)
        .join("release/tensorbench_wasm.wasm"))
}
