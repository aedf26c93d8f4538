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

pub const TARGETS: &[Target] = &[Target {
    name: "cpu",
    package: "tensorbench-cpu-simd",
    bin: "tensorbench-cpu",
    features: &[],
    launcher: Launcher::Direct,
    env: &[],
    about: "CPU kernels: scalar, SIMD, rayon, peer crates; roofline probes",
}];

/// `all` expands to every target; unknown names are an error listing the known ones.
pub fn resolve(name: &str) -> Result<Vec<&'static Target>, String> {
    if name == "all" {
        return Ok(TARGETS.iter().collect());
    }
    TARGETS
        .iter()
        .find(|t| t.name == name)
        .map(|t| vec![t])
        .ok_or_else(|| {
            let known: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
            format!("--target {name:?} is not a target; known: {}, all", known.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_target_names_the_known_ones() {
        let err = resolve("tpu").unwrap_err();
        assert!(err.contains("\"tpu\"") && err.contains("cpu"), "{err}");
        assert_eq!(resolve("cpu").unwrap()[0].bin, "tensorbench-cpu");
        assert_eq!(resolve("all").unwrap().len(), TARGETS.len());
    }
}
