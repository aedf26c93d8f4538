//! # tensorbench-distributed
//!
//! Collective and data-parallel benchmarks run under `mpirun`: the six collectives of nccl-tests
//! over MPI on host buffers (and over NCCL on GPU buffers with the `nccl` feature), a data-parallel
//! training step of a small MLP with strong and weak scaling, ring versus parameter-server
//! gradient sums, and gradient compression.
//!
//! Every workload is timed by the one core sampler through [`clock::MpiClock`]: each batch starts
//! after a barrier and its time is the slowest rank's (`MPI_Wtime`, all-reduced with MAX). As
//! every rank reads the very same times, the deterministic sampler takes the same decisions on
//! every rank (warm-up length, batch size, when to stop), so no rank waits in a collective the
//! others skipped; core's one driver runs the suite under [`coordinator::MpiCoordinator`], which
//! checks this after every workload. Rank 0 writes the run file.
//!
//! ```text
//! mpirun --oversubscribe -np 4 tensorbench-distributed --profile quick --out results --events
//! ```
//!
//! Everything that talks to MPI is behind the feature `mpi` (off by default, on for xtask's
//! `distributed` target), so the workspace builds where Open MPI is not installed; without it
//! only the pure parts below are compiled and the binary is not built.

pub mod check;
#[cfg(feature = "mpi")]
pub mod clock;
pub mod collectives;
#[cfg(feature = "mpi")]
pub mod comm;
#[cfg(feature = "mpi")]
pub mod compress;
#[cfg(feature = "mpi")]
pub mod coordinator;
#[cfg(feature = "mpi")]
pub mod dp;
pub mod error;
pub mod mlp;
#[cfg(feature = "mpi")]
pub mod mpi_collective;
#[cfg(feature = "mpi")]
pub mod nccl;
pub mod pattern;
#[cfg(feature = "mpi")]
pub mod reduce;
#[cfg(feature = "mpi")]
pub mod registry;
#[cfg(feature = "mpi")]
pub mod suite;
#[cfg(feature = "mpi")]
pub mod watchdog;

pub use error::Error;

/// Ranks on one node share its package energy counter, and a collective's energy is spread over
/// every node: no per-rank figure can be read, so none is reported.
pub const NO_PER_RANK_ENERGY: &str = "no per-rank energy counter: ranks on a node share its \
     package counter and a collective spends energy on every node";
