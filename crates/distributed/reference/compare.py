#!/usr/bin/env python3
"""Prints all_reduce busbw of a tensorbench-distributed run file beside allreduce_mpi4py.py's
output for the same sizes, with the ratio (tensorbench / mpi4py).

    python3 compare.py RUN.json MPI4PY.jsonl
"""
import json
import sys


def main(run_path, ref_path):
    run = json.load(open(run_path))
    ours = {}
    for m in run["measurements"]:
        if m["op"] == "all_reduce" and m["backend"] == "mpi" and m["status"] == "ok":
            ours[m["params"]["bytes"]] = m["extra"]
    ref = {r["bytes"]: r for r in map(json.loads, open(ref_path)) if r}
    print("| bytes | ranks | tensorbench busbw GB/s | mpi4py busbw GB/s | ratio |")
    print("|---:|---:|---:|---:|---:|")
    for size in sorted(set(ours) & set(ref)):
        a, b = ours[size]["busbw_gbps"], ref[size]["busbw_gbps"]
        print(f"| {size} | {ref[size]['ranks']} | {a:.3f} | {b:.3f} | {a / b:.3f} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
