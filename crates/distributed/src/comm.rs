//! Small collective helpers over `MPI_COMM_WORLD` that the driver and the workloads share: who
//! this rank is, where every rank runs, and agreement on values every rank must hold identically.

use mpi::collective::SystemOperation;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::*;

/// `MPI_COMM_WORLD`. A handle to the built-in communicator is free to make and not `Send`, so
/// workloads (which must be `Send`) ask for it when they need it instead of holding one.
pub fn world() -> SimpleCommunicator {
    SimpleCommunicator::world()
}

/// This process's rank in `MPI_COMM_WORLD`.
pub fn rank() -> usize {
    world().rank() as usize
}

/// Number of ranks in `MPI_COMM_WORLD`.
pub fn size() -> usize {
    world().size() as usize
}

/// Where each rank runs, gathered once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub rank: usize,
    pub size: usize,
    /// Host name of every rank, indexed by rank (`MPI_Get_processor_name`).
    pub hosts: Vec<String>,
    /// This rank's index among the ranks on its own host.
    pub local_rank: usize,
    /// Number of ranks on this rank's host.
    pub local_size: usize,
}

impl Layout {
    /// Gathers every rank's host name. Collective.
    pub fn gather() -> Self {
        let world = world();
        let host = mpi::environment::processor_name().unwrap_or_else(|_| "unknown".into());
        let hosts = all_gather_strings(&host);
        let rank = world.rank() as usize;
        let local_rank = hosts[..rank].iter().filter(|h| **h == host).count();
        let local_size = hosts.iter().filter(|h| **h == host).count();
        Self {
            rank,
            size: hosts.len(),
            hosts,
            local_rank,
            local_size,
        }
    }

    /// This rank's host name.
    pub fn host(&self) -> &str {
        &self.hosts[self.rank]
    }

    /// `rank R (host)`, for messages.
    pub fn who(&self) -> String {
        format!("rank {} ({})", self.rank, self.host())
    }
}

/// Every rank's string, indexed by rank. Collective.
pub fn all_gather_strings(mine: &str) -> Vec<String> {
    const WIDTH: usize = 256;
    let world = world();
    let mut padded = [0u8; WIDTH];
    let bytes = mine.as_bytes();
    let len = bytes.len().min(WIDTH);
    padded[..len].copy_from_slice(&bytes[..len]);
    let mut all = vec![0u8; WIDTH * world.size() as usize];
    world.all_gather_into(&padded[..], &mut all[..]);
    all.chunks(WIDTH)
        .map(|c| {
            let end = c.iter().position(|&b| b == 0).unwrap_or(WIDTH);
            String::from_utf8_lossy(&c[..end]).into_owned()
        })
        .collect()
}

/// The largest of every rank's `x`. Collective.
pub fn max_f64(x: f64) -> f64 {
    let mut out = 0.0f64;
    world().all_reduce_into(&x, &mut out, SystemOperation::max());
    out
}

/// The sum of every rank's `x`. Collective.
pub fn sum_f64(x: f64) -> f64 {
    let mut out = 0.0f64;
    world().all_reduce_into(&x, &mut out, SystemOperation::sum());
    out
}

/// The sum of every rank's `x`. Collective.
pub fn sum_u64(x: u64) -> u64 {
    let mut out = 0u64;
    world().all_reduce_into(&x, &mut out, SystemOperation::sum());
    out
}

/// The smallest and largest of every rank's `x`. Collective.
pub fn min_max_u64(x: u64) -> (u64, u64) {
    let world = world();
    let (mut lo, mut hi) = (0u64, 0u64);
    world.all_reduce_into(&x, &mut lo, SystemOperation::min());
    world.all_reduce_into(&x, &mut hi, SystemOperation::max());
    (lo, hi)
}

/// Rank 0's `x`, on every rank. Collective.
pub fn broadcast_u64(x: u64) -> u64 {
    let mut v = x;
    world().process_at_rank(0).broadcast_into(&mut v);
    v
}

/// Whether `flag` holds on every rank. Collective.
pub fn all_true(flag: bool) -> bool {
    min_max_u64(u64::from(flag)).0 == 1
}

/// Turns a local result into one every rank agrees on: `Ok` only when every rank succeeded,
/// otherwise an error naming the lowest failing rank (its own message is on its stderr).
/// Collective, so a workload's `prepare` fails on all ranks or on none.
pub fn agree<T>(
    local: tensorbench_core::Result<T>,
    id: &str,
    what: &str,
) -> tensorbench_core::Result<T> {
    let me = rank() as u64;
    let failing = if local.is_err() { me } else { u64::MAX };
    let (first_failed, _) = min_max_u64(failing);
    match local {
        Err(e) => {
            eprintln!("rank {me}: {what} failed: {e}");
            Err(e)
        }
        Ok(_) if first_failed != u64::MAX => Err(tensorbench_core::Error::Workload {
            id: id.to_string(),
            reason: format!("{what} failed on rank {first_failed} (see that rank's stderr)"),
        }),
        Ok(v) => Ok(v),
    }
}

/// Aborts every rank of the job after printing `message`. Safe to call from any thread: the
/// universe is initialised with `MPI_THREAD_MULTIPLE` where the library offers it.
pub fn abort_job(message: &str) -> ! {
    eprintln!("error: {message}");
    // SAFETY: MPI is initialised for the whole life of the process (the driver holds the
    // universe), and MPI_Abort on the world communicator takes no Rust-owned memory.
    unsafe {
        mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, 1);
    }
    std::process::exit(1)
}
