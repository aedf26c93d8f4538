//! `tensorbench-distributed`: the distributed suite binary, run under `mpirun`.

fn main() -> std::process::ExitCode {
    tensorbench_distributed::suite::main()
}
