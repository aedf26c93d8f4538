//! The host side: building the two modules ([`build`]), running them in each runtime
//! ([`runtimes`]), and the suite that core's driver runs, measuring native and wasm side by side
//! into one run ([`suite`]).

pub mod build;
pub mod runtimes;
pub mod sizes;
pub mod suite;
#[cfg(feature = "wasmtime")]
pub mod wasmtime_rt;

/// A tool or runtime this machine lacks, with the command that installs it. Benchmarks record it
/// as a skip; tests skip with it unless `TB_REQUIRE_WASM=1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub what: String,
    pub install: String,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is missing; install it: {}", self.what, self.install)
    }
}

impl std::error::Error for Missing {}

/// Whether missing pieces must fail instead of skip (CI sets it).
pub fn wasm_required() -> bool {
    std::env::var("TB_REQUIRE_WASM").is_ok_and(|v| v == "1")
}
