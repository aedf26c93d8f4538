//! The table of targets: which package and binary measure what, and how they are launched.

/// How a suite binary is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launcher {
    /// Run directly as a child process.
    Direct,
    /// Run under `mpirun -np N`.
    Mpirun,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub name: &'static str,
    pub package: &'static str,
    pub bin: &'static str,
    pub features: &'static [&'static str],
    pub launcher: Launcher,
    /// Environment passed to the suite binary (e.g. which GPU back-end).
    pub env: &'static [(&'static str, &'static str)],
    pub about: &'static str,
}

pub const TARGETS: &[Target] = &[
    Target {
        name: "cpu",
        package: "tensorbench-cpu-simd",
        bin: "tensorbench-cpu",
        features: &[],
        launcher: Launcher::Direct,
        env: &[],
        about: "CPU kernels: scalar, SIMD, rayon, peer crates; roofline probes",
    },
    Target {
        name: "gpu",
        package: "tensorbench-gpu",
        bin: "tensorbench-gpu",
        features: &["wgpu", "cuda"],
        launcher: Launcher::Direct,
        env: &[],
        about: "every GPU back-end available: wgpu (any GPU; lavapipe without one) and CUDA",
    },
    Target {
        name: "wgpu",
        package: "tensorbench-gpu",
        bin: "tensorbench-gpu",
        features: &["wgpu"],
        launcher: Launcher::Direct,
        env: &[("TENSORBENCH_GPU_BACKEND", "wgpu")],
        about: "any GPU through wgpu (Vulkan, Metal, DX12)",
    },
    Target {
        name: "cuda",
        package: "tensorbench-gpu",
        bin: "tensorbench-gpu",
        features: &["cuda"],
        launcher: Launcher::Direct,
        env: &[("TENSORBENCH_GPU_BACKEND", "cuda")],
        about: "NVIDIA GPUs through cudarc: NVRTC kernels, cuBLAS, CUDA events",
    },
    Target {
        name: "distributed",
        package: "tensorbench-distributed",
        bin: "tensorbench-distributed",
        // `mpi` is off by default so the workspace builds without Open MPI; NCCL is loaded at run
        // time, and without GPUs or libnccl its lines are skips.
        features: &["mpi", "nccl"],
        launcher: Launcher::Mpirun,
        env: &[],
        about: "collectives and a data-parallel step over MPI (and NCCL), under mpirun",
    },
    Target {
        name: "wasm",
        package: "tensorbench-wasm",
        bin: "tensorbench-wasm",
        features: &[],
        launcher: Launcher::Direct,
        env: &[],
        about: "wasm32 scalar and simd128 modules in Node and headless Chromium, beside native",
    },
];

/// `all` runs these: the targets that need no flag to mean something on any machine.
const ALL: &[&str] = &["cpu", "gpu", "distributed"];

/// `all` expands to every target; unknown names are an error listing the known ones.
pub fn resolve(name: &str) -> Result<Vec<&'static Target>, crate::BadInput> {
    if name == "all" {
        return Ok(TARGETS.iter().filter(|t| ALL.contains(&t.name)).collect());
    }
    TARGETS
        .iter()
        .find(|t| t.name == name)
        .map(|t| vec![t])
        .ok_or_else(|| {
            let known: Vec<_> = TARGETS
                .iter()
                .map(|t| format!("  {:<12} {}", t.name, t.about))
                .collect();
            crate::BadInput(format!(
                "--target {name:?} is not a target; known targets:\n{}\n  {:<12} {}",
                known.join("\n"),
                "all",
                ALL.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_target_names_the_known_ones() {
        let err = resolve("tpu").unwrap_err().to_string();
        assert!(err.contains("\"tpu\"") && err.contains("cpu"), "{err}");
        assert_eq!(resolve("cpu").unwrap()[0].bin, "tensorbench-cpu");
        assert_eq!(resolve("all").unwrap().len(), ALL.len());
        let distributed = resolve("distributed").unwrap()[0];
        assert_eq!(distributed.launcher, Launcher::Mpirun);
        // The suite binary has `required-features = ["mpi"]`: without it cargo builds nothing.
        assert!(distributed.features.contains(&"mpi"));
    }
}
