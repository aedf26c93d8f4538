#!/usr/bin/env python3
"""Reference timing of MPI_Allreduce through mpi4py on the same Open MPI, for comparison with
tensorbench-distributed's `all_reduce/mpi` measurements.

Timed the way the suite times it: each sample is a barrier, MPI_Wtime, a batch of Allreduce
calls (f32, sum, out of place), MPI_Wtime, and the elapsed time all-reduced with MAX (the slowest
rank); warm-up, batch size and sample count follow the suite's `standard` profile (0.3 s warm-up,
samples of at least 1 ms, at least 20 samples and 0.5 s, at most 3 s). Reports the median.

    mpirun --oversubscribe -np 2 python3 allreduce_mpi4py.py [--min-bytes 8] [--max-bytes 67108864]

Prints one JSON object per size on rank 0: bytes, ranks, median_s, algbw_gbps, busbw_gbps.
"""
import argparse
import array
import json
import math
import statistics

from mpi4py import MPI

WARMUP_S, SAMPLE_TARGET_S, MIN_SAMPLES, MIN_TIME_S, MAX_TIME_S = 0.3, 1e-3, 20, 0.5, 3.0


def timed_batch(comm, send, recv, iters):
    comm.Barrier()
    t0 = MPI.Wtime()
    for _ in range(iters):
        comm.Allreduce([send, MPI.FLOAT], [recv, MPI.FLOAT], op=MPI.SUM)
    local = MPI.Wtime() - t0
    return comm.allreduce(local, op=MPI.MAX)


def measure(comm, nbytes):
    count = nbytes // 4
    send = array.array("f", [float(comm.rank + 1)] * count)
    recv = array.array("f", [0.0] * count)
    # Warm-up: doubling batches until the warm-up time is spent (as the suite's sampler does).
    iters, spent = 1, 0.0
    while True:
        t = timed_batch(comm, send, recv, iters)
        spent += t
        per_iter = t / iters
        if spent >= WARMUP_S:
            break
        if t < SAMPLE_TARGET_S:
            iters *= 2
    resolution = comm.allreduce(MPI.Wtick(), op=MPI.MAX)
    want = max(SAMPLE_TARGET_S, 1000 * resolution)
    iters = max(1, math.ceil(want / max(per_iter, 1e-12)))
    samples, total = [], 0.0
    while not (len(samples) >= MIN_SAMPLES and total >= MIN_TIME_S) and total < MAX_TIME_S:
        t = timed_batch(comm, send, recv, iters)
        total += t
        samples.append(t / iters)
    expected = sum(range(1, comm.size + 1))
    assert all(x == expected for x in recv[:16]), "Allreduce gave a wrong sum"
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-bytes", type=int, default=8)
    parser.add_argument("--max-bytes", type=int, default=64 << 20)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    n = comm.size
    size = args.min_bytes
    while size <= args.max_bytes:
        median = measure(comm, size)
        if comm.rank == 0:
            algbw = size / median / 1e9
            print(json.dumps({"bytes": size, "ranks": n, "median_s": median, "algbw_gbps": algbw,
                              "busbw_gbps": algbw * 2 * (n - 1) / n}), flush=True)
        size *= 2


if __name__ == "__main__":
    main()
