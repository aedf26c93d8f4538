//! The `tensorbench-distributed` suite: its flags, its registration, and `main`, which runs core's
//! one driver under the [`MpiCoordinator`].

use crate::comm::Layout;
use crate::coordinator::MpiCoordinator;
use crate::registry::{self, Backend, Entry};
use crate::watchdog;
use mpi::Threading;
use std::process::ExitCode;
use std::time::Duration;
use tensorbench_core::Workload;
use tensorbench_core::suite::{self, Suite, SuiteError, SuiteOptions, exit};

/// The target name written in run files.
pub const TARGET: &str = "distributed";

/// The distributed suite's own flags, beside every suite flag.
#[derive(Debug, Clone, clap::Args)]
pub struct DistFlags {
    /// Back-ends to measure collectives on (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "mpi,nccl")]
    pub backend: Vec<Backend>,
    /// Seconds a rank may go without progress before the whole job is aborted.
    #[arg(long, default_value_t = 300.0)]
    pub rank_timeout: f64,
}

/// Entry point of the binary: initialises MPI, runs the suite, returns the agreed exit code.
pub fn main() -> ExitCode {
    main_with_wrapper(|_, w| w)
}

/// Passes each workload (with this rank's layout) through on its way into the suite.
pub type Wrapper<'a> = dyn Fn(&Layout, Box<dyn Workload>) -> Box<dyn Workload> + 'a;

/// [`main`], with every runnable workload passed through `wrap` as it is registered (skips are
/// not). For test fixtures that inject faults (`examples/fault_suite.rs`) through the very path
/// the product takes; the product binary wraps nothing.
pub fn main_with_wrapper(
    wrap: impl Fn(&Layout, Box<dyn Workload>) -> Box<dyn Workload>,
) -> ExitCode {
    let Some((universe, _threading)) = mpi::initialize_with_threading(Threading::Multiple) else {
        eprintln!("error: MPI was already initialised");
        return ExitCode::from(exit::INFRASTRUCTURE);
    };
    let layout = Layout::gather();
    install_panic_hook(layout.who());
    let coordinator = MpiCoordinator {
        layout: layout.clone(),
    };
    let code = suite::main_with(TARGET, &coordinator, |suite, opts, flags: &DistFlags| {
        register(suite, opts, flags, &layout, &wrap)
    });
    drop(universe);
    code
}

/// Prefixes panic messages with the rank and host that panicked.
fn install_panic_hook(who: String) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("{who} panicked:");
        default(info);
    }));
}

/// Registers every rank's workloads (identically on every rank), each passed through `wrap`.
/// Collective.
pub fn register(
    suite: &mut Suite,
    opts: &SuiteOptions,
    flags: &DistFlags,
    layout: &Layout,
    wrap: &Wrapper<'_>,
) -> Result<(), SuiteError> {
    if !(flags.rank_timeout.is_finite() && flags.rank_timeout > 0.0) {
        let bad = crate::Error::BadInput {
            flag_or_file: "--rank-timeout".into(),
            message: format!(
                "--rank-timeout {}: expected a positive number of seconds",
                flags.rank_timeout
            ),
        };
        return Err(tensorbench_core::Error::from(bad).into());
    }
    // Started before registration: setting up NCCL is collective and could hang too.
    watchdog::start(layout.who(), Duration::from_secs_f64(flags.rank_timeout));
    watchdog::begin("registration");
    suite.refuse(
        "--dump-tensors",
        "not supported by the distributed suite: collectives have no peer to cross-check",
    );
    suite.refuse(
        "--threads",
        "not supported by the distributed suite: each rank runs one thread (choose ranks with mpirun -np)",
    );
    let backends: Vec<String> = flags
        .backend
        .iter()
        .map(|b| format!("{b:?}").to_lowercase())
        .collect();
    suite.config("backends", backends);
    suite.config("rank_timeout_s", flags.rank_timeout);
    for entry in registry::entries(opts.profile, layout, &flags.backend) {
        match entry {
            Entry::Run(device, w) => Entry::Run(device, wrap(layout, w)),
            skip => skip,
        }
        .register(suite);
    }
    Ok(())
}
