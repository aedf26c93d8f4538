#!/usr/bin/env bash
# Runs the product's roofline probes and two independent C references (STREAM triad with ordinary
# stores, FMA chains) on the same thread count and array size, in one sitting, and prints the
# ratios of their best rates (a ceiling is a probe's fastest sample, as STREAM reports it). Run it on a quiet machine: nothing else compiling or benchmarking.
#
#   scripts/reference/compare.sh [threads] [profile]      (defaults: all cores, standard)
#
# Needs gcc with OpenMP and cargo. Writes its run file under a temporary directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads="${1:-$(nproc)}"
profile="${2:-standard}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

gcc -O3 -march=native -fopenmp -fno-tree-loop-distribute-patterns "$here/stream_triad.c" -o "$work/stream_triad"
gcc -O3 -march=native -fopenmp "$here/fma_chain.c" -o "$work/fma_chain"
has_fp16=0
if grep -qw avx512_fp16 /proc/cpuinfo; then
    gcc -O3 -march=native -fopenmp "$here/f16_chain.c" -o "$work/f16_chain"
    has_fp16=1
fi
(cd "$root" && cargo build --quiet --profile bench -p tensorbench-cpu-simd --bin tensorbench-cpu)
bin="$(ls -t "${CARGO_TARGET_DIR:-$root/target}"/*/tensorbench-cpu | head -1)"

# The product first: its probes size STREAM from the measured knee; the C triad then uses the
# same array length. One cheap workload keeps the run short (probes always run).
start=$(date +%s.%N)
"$bin" --profile "$profile" --threads "$threads" --filter '^cpu-simd/add/rayon/f32/n=1048576$' \
    --out "$work/results" >/dev/null
echo "product probes + one workload: $(echo "$(date +%s.%N) - $start" | bc) s"
run="$(ls "$work"/results/*/*.json | head -1)"
read -r n triad fma < <(python3 - "$run" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["peaks"]["cpu"]
n = next(m["params"]["n"] for m in r["measurements"] if m["op"] == "stream_triad")
print(n, p["stream_triad_gbps"], p["fma_gflops"])
PY
)
c_triad="$(OMP_NUM_THREADS=$threads OMP_PROC_BIND=close "$work/stream_triad" "$n" 20)"
c_fma="$(OMP_NUM_THREADS=$threads OMP_PROC_BIND=close "$work/fma_chain" 2000000 15)"
echo "C: $c_triad"
echo "C: $c_fma"
if [ "$has_fp16" = 1 ]; then
    c_f16="$(OMP_NUM_THREADS=$threads OMP_PROC_BIND=close "$work/f16_chain" 1000000 15)"
    echo "C: $c_f16"
    python3 - "$run" "$c_f16" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["peaks"]["cpu"]
c = float(sys.argv[2].split("f16_best_gflops=")[1].split()[0])
ours = p.get("f16_fma_gflops")
if ours:
    print(f"f16 peak:     product {ours:.1f} GFLOP/s, C {c:.1f} GFLOP/s, ratio {ours / c:.3f} (want 0.90-1.10)")
PY
fi
python3 - "$run" "$triad" "$fma" "$c_triad" "$c_fma" <<'PY'
import json, sys
run, triad, fma = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
field = lambda text, key: float(text.split(key + "=")[1].split()[0])
# Best with best: the product publishes a probe's fastest sample as its ceiling (STREAM's rule).
c_triad = field(sys.argv[4], "triad_best_gbps")
c_fma = field(sys.argv[5], "fma_best_gflops")
r = json.load(open(run))
p = r["peaks"]["cpu"]
print(f"stream_triad: product {triad:.2f} GB/s, C {c_triad:.2f} GB/s, ratio {triad / c_triad:.3f} (want 0.90-1.10)")
print(f"fma peak:     product {fma:.1f} GFLOP/s, C {c_fma:.1f} GFLOP/s, ratio {fma / c_fma:.3f} (want 0.90-1.10)")
print("ceilings:", {k: round(v, 2) for k, v in sorted(p.items()) if k.startswith(("bandwidth_", "level_", "working_set_knee", "compute_gflops"))})
for m in r["measurements"]:
    if m["status"] != "ok":
        continue
    conv = (m.get("sampling") or {}).get("converged")
    ro = m.get("roofline") or {}
    flag = " ABOVE CEILING" if ro.get("above_ceiling") else ""
    pct = f"{ro['pct_of_peak']*100:.0f}% of {ro.get('level') or ro.get('ceiling')}" if ro else ""
    print(f"  {m['id']:<72} samples={len(m['samples_ns']):<4} converged={conv} {m['extra'].get('sized_by', '')} {pct}{flag}")
PY
