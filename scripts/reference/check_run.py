#!/usr/bin/env python3
"""Checks a cpu run file against issue 17's acceptance: no cpu-simd measurement above its ceiling,
every probe converged with >= 10 samples, and add/rayon at a DRAM-resident size within 0.9 of the
DRAM ceiling. Usage: check_run.py RESULTS/<machine>/<run-id>.json"""
import json
import sys

run = json.load(open(sys.argv[1]))
peaks = run["peaks"].get("cpu", {})
bad = 0
for m in run["measurements"]:
    if m["status"] != "ok":
        continue
    r = m.get("roofline") or {}
    if m["id"].startswith("cpu-simd/") and r.get("above_ceiling"):
        bad += 1
        print("ABOVE CEILING:", m["id"], r["above_ceiling"])
    if m["id"].startswith("cpu-probe/"):
        n = len(m["samples_ns"])
        conv = (m.get("sampling") or {}).get("converged")
        if not conv or n < 10:
            bad += 1
            print(f"PROBE NOT CONVERGED: {m['id']} samples={n} converged={conv}")
    if m["op"] == "add" and m["backend"] == "rayon" and r.get("level") == "DRAM":
        ok = r["pct_of_peak"] >= 0.9
        bad += not ok
        print(f"add/rayon at DRAM: {m['id']} {r['pct_of_peak']*100:.0f}% of DRAM {'ok' if ok else 'LOW'}")
print("knee:", peaks.get("working_set_knee_bytes"), "bytes; DRAM ceiling:", peaks.get("bandwidth_gbps"), "GB/s")
print("problems:", bad)
sys.exit(1 if bad else 0)
