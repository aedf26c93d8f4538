//! `tensorbench-wasm`: the wasm suite (both modules, in Node, headless Chromium, wasmtime) beside the
//! same ops natively, into one run file. Takes every suite flag plus `--runtime`.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use clap::Parser;
    use tensorbench_core::suite::{SuiteError, SuiteOptions, exit};
    use tensorbench_wasm::host::driver::{self, Plan};
    use tensorbench_wasm::host::runtimes::Runtime;

    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        suite: SuiteOptions,
        /// node | chromium | wasmtime | all (comma-separated). wasmtime needs this binary built
        /// with the `wasmtime` feature.
        #[arg(long, default_value = "node,chromium")]
        runtime: String,
    }

    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            });
        }
    };
    let runtimes: Result<Vec<Runtime>, String> = if args.runtime == "all" {
        Ok(Runtime::ALL.to_vec())
    } else {
        args.runtime
            .split(',')
            .map(|r| {
                Runtime::parse(r.trim()).ok_or_else(|| {
                    format!("--runtime {r:?}: expected node, chromium, wasmtime or all")
                })
            })
            .collect()
    };
    let result = runtimes
        .map_err(SuiteError::BadInput)
        .and_then(|runtimes| driver::run(&args.suite, &Plan { runtimes }));
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(SuiteError::BadInput(m)) => {
            eprintln!("error: {m}");
            std::process::ExitCode::from(exit::BAD_INPUT)
        }
        Err(SuiteError::Io(e)) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(exit::SOME_FAILED)
        }
    }
}

// The wasm32 build of this crate is its library; the runner is a host program.
#[cfg(target_arch = "wasm32")]
fn main() {}
