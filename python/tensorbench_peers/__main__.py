"""Command line of the peers runner. Exit codes: 0 all measured or skipped, 1 some failed or
invalid, 2 bad input (a flag or a file; the message names it), 130 interrupted (finished lines kept)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional

from . import PROTOCOL_VERSION
from .protocol import BadInput, MeasurementWriter, group, load_workloads, status_counts
from .sampler import PROFILES, SamplerConfig

KNOWN_FRAMEWORKS = ("numpy", "torch", "jax")
EXIT_OK, EXIT_SOME_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tensorbench_peers", description=__doc__)
    p.add_argument("--workloads", type=Path, help="JSON array of workload specs (`--list-json`)")
    p.add_argument("--out", default="-", help="where to write measurements, one JSON per line (- = stdout)")
    p.add_argument("--peers", default=",".join(KNOWN_FRAMEWORKS), help="comma-separated frameworks")
    p.add_argument("--profile", default="quick", choices=PROFILES)
    p.add_argument("--threads", type=int, help="threads for every framework (default: the specs' largest)")
    p.add_argument("--tensors", type=Path, help="a `--dump-tensors` directory to cross-check against")
    p.add_argument("--cold", action="store_true", help="flush the host caches before every sample")
    p.add_argument("--seed", type=int, help="base seed of the inputs (default: from the clock)")
    p.add_argument("--info", action="store_true", help="print which frameworks are installed, as JSON")
    return p.parse_args(argv)


def parse_frameworks(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN_FRAMEWORKS]
    if unknown or not names:
        raise BadInput(f"--peers {text!r}: expected a comma-separated list of {', '.join(KNOWN_FRAMEWORKS)}")
    return list(dict.fromkeys(names))


def info() -> dict:
    from . import frameworks

    out: dict = {"protocol": PROTOCOL_VERSION, "python": sys.version.split()[0], "frameworks": {}}
    for name in KNOWN_FRAMEWORKS:
        fw, reason = frameworks.load(name)
        out["frameworks"][name] = fw.info() if fw is not None else {"missing": reason}
    return out


def main(argv: Optional[list[str]] = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as e:  # argparse has printed the problem
        return EXIT_OK if e.code == 0 else EXIT_BAD_INPUT
    try:
        return run(args)
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: finished measurements are in the output", file=sys.stderr)
        return EXIT_INTERRUPTED


def run(args: argparse.Namespace) -> int:
    from . import threads

    if args.info:
        print(json.dumps(info(), indent=2))
        return EXIT_OK
    if args.workloads is None:
        raise BadInput("--workloads FILE is required (the JSON a suite binary prints with --list-json)")
    if args.threads is not None and args.threads < 1:
        raise BadInput(f"--threads {args.threads}: expected a positive integer")
    frameworks = parse_frameworks(args.peers)
    specs = load_workloads(args.workloads)
    if args.tensors is not None and not args.tensors.is_dir():
        raise BadInput(f"{args.tensors}: --tensors is not a directory")
    n_threads = args.threads or max((s["threads"] for s in specs), default=0) or os.cpu_count() or 1
    # Before any framework (or NumPy) is imported: they size their thread pools on load.
    thread_control = threads.configure(n_threads)
    from .runner import RunOptions, run as run_tasks, wall_seed

    config = SamplerConfig.profile(args.profile)
    if args.cold:
        config = replace(config, mode="cold")
    opts = RunOptions(frameworks, config, n_threads, args.seed if args.seed is not None else wall_seed(),
                      thread_control, args.tensors)
    writer = MeasurementWriter(args.out)
    try:
        done = run_tasks(group(specs), opts, writer)
    finally:
        writer.close()
    counts = status_counts(done)
    print("peers: " + ", ".join(f"{n} {k}" for k, n in counts.items()), file=sys.stderr)
    return EXIT_SOME_FAILED if counts["failed"] or counts["invalid"] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
