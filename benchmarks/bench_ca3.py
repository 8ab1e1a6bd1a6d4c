"""Benchmark: CA3 memory network on the Numba simulator, simulated time per wall time.

Workload: the CA3 network of ``neuromem.ca3`` driven by a stream of operations at their
minimum spacing (learn a random pattern of ``max(1, n // 10)`` bits under the next cue, recall
it by cue, recall by a one-bit fragment), for the paper's size (c=5, n=10) and larger memories
(c=n=100, c=n=1000). Reported per size: wall seconds, simulated ms, the speed-up over biological
real time (simulated / wall) and the spike count. JIT compilation (or loading it from the cache)
is timed apart on a tiny network and excluded.

Baseline (same run): the very same step kernel and its helpers interpreted by Python (each
jitted function's ``py_func``)
on the paper's network, checked to give the same spikes. Targets: >= 1000x real time for the
paper's network, >= 1x for c=n=1000.

    python benchmarks/bench_ca3.py [--out benchmarks/results/ca3.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neuromem.ca3 import build_network
from neuromem.experiments import versions
from neuromem.spiking import create
from neuromem.spiking.backends import numba_sim

LEARN, RECALL = 7, 6


def workload(c: int, n: int, duration: int, seed: int = 0):
    """Input spike trains of an operation stream filling ``duration`` ms."""
    rng = np.random.default_rng(seed)
    k = max(1, n // 10)
    cue_t = [[] for _ in range(c)]
    con_t = [[] for _ in range(n)]
    t, cue, n_ops = 0, 0, 0
    while t + LEARN + 2 * RECALL < duration:
        bits = rng.choice(n, k, replace=False)
        for s in range(3):
            cue_t[cue].append(t + s)
            for b in bits:
                con_t[b].append(t + s)
        t += LEARN
        cue_t[cue].append(t)
        t += RECALL
        con_t[int(bits[0])].append(t)
        t += RECALL
        cue = (cue + 1) % c
        n_ops += 3
    return cue_t, con_t, n_ops


def simulate(c, n, duration, seed=0, repeat=1):
    """Best wall time of ``repeat`` fresh simulations of the workload."""
    cue_t, con_t, n_ops = workload(c, n, duration, seed)
    wall = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        sim = create(build_network(c, n, cue_t, con_t))
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        sim.run(float(duration))
        wall = min(wall, time.perf_counter() - t0)
    res = sim.result()
    return {
        "c": c,
        "n": n,
        "simulated_ms": float(duration),
        "operations": n_ops,
        "synapses": int(len(sim.syn_w)),
        "neurons": int(sim.n_neurons),
        "spikes": int(sum(res.spike_counts().values())),
        "build_seconds": build_s,
        "wall_seconds": wall,
        "repeat": repeat,
        "x_real_time": (duration / 1000.0) / wall,
    }, res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="benchmarks/results/ca3.json")
    p.add_argument("--quick", action="store_true", help="shorter runs")
    args = p.parse_args(argv)
    scale = 0.2 if args.quick else 1.0

    t0 = time.perf_counter()
    simulate(1, 1, 10)
    compile_s = time.perf_counter() - t0

    sizes = [(5, 10, 10000, 15), (100, 100, 5000, 5), (1000, 1000, 2000, 1)]
    runs = []
    for c, n, dur, rep in sizes:
        r, _ = simulate(c, n, int(dur * scale), repeat=rep)
        runs.append(r)
        print(json.dumps(r), flush=True)

    # baseline: the same kernel, interpreted
    base_ms = int(200 * scale) if args.quick else 500
    # every jitted function of the simulator module (the kernel and its helpers) interpreted
    jitted = {k: f for k, f in vars(numba_sim).items() if hasattr(f, "py_func")}
    for k, f in jitted.items():
        setattr(numba_sim, k, f.py_func)
    try:
        rb, res_b = simulate(5, 10, base_ms)
    finally:
        for k, f in jitted.items():
            setattr(numba_sim, k, f)
    rn, res_n = simulate(5, 10, base_ms, repeat=5)
    for lab in res_n.labels:
        assert all(np.array_equal(a, b) for a, b in zip(res_n.spikes(lab), res_b.spikes(lab)))
    paper, big = runs[0], runs[-1]
    result = {
        "benchmark": "ca3-numba-simulator",
        "params": vars(args),
        "compile_seconds": compile_s,
        "runs": runs,
        "baseline": "same step kernel and helpers interpreted by Python (py_func), c=5 n=10",
        "baseline_simulated_ms": float(base_ms),
        "baseline_wall_seconds": rb["wall_seconds"],
        "baseline_x_real_time": rb["x_real_time"],
        "numba_same_workload_wall_seconds": rn["wall_seconds"],
        "speedup_vs_baseline": rb["wall_seconds"] / rn["wall_seconds"],
        "paper_x_real_time": paper["x_real_time"],
        "paper_target_met": paper["x_real_time"] >= 1000.0,
        "c1000_x_real_time": big["x_real_time"],
        "c1000_target_met": big["x_real_time"] >= 1.0,
        "versions": versions(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("versions", "runs")}, indent=2))


if __name__ == "__main__":
    main()
