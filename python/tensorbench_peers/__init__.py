"""tensorbench peers: tensorbench's workloads run in NumPy, PyTorch and JAX, timed with the same
stopping rule as tensorbench's sampler and written in the same run-file schema.

Run as `python -m tensorbench_peers --workloads specs.json --out peers.jsonl`; `cargo xtask bench
--peers numpy,jax` does that for you and appends the results to the run file.
"""

__version__ = "0.1.0"

# Bumped on any change to the runner's input or output format.
PROTOCOL_VERSION = 1
