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

Neo conversion (``neo_conversion`` in the JSON), on the c=n=1000 run's result (11 001
neurons): ``SimulationResult.to_neo()`` (a Block per population, spike trains made lazily by
``SpikeTrainList.from_spike_time_array``), then building every train from it, against the
eager conversion it replaced (one ``neo.SpikeTrain`` per neuron built up front), checked to
give the same trains. ``--neo`` runs only that part.

    python benchmarks/bench_ca3.py [--out benchmarks/results/ca3.json] [--quick] [--neo]
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


def eager_neo(res):
    """The conversion before issue 19 (baseline, its code): one Segment per population,
    every ``neo.SpikeTrain`` built up front, each neuron's times selected by a mask."""
    import neo
    import quantities as pq

    block = neo.Block(name="spikes")
    for lab in res.labels:
        seg = neo.Segment(name=lab)
        t, i = res.spikes(lab)
        for k in range(res.sizes[lab]):
            times = t[i == k]
            st = neo.SpikeTrain(
                times * pq.ms,
                t_start=0.0 * pq.ms,
                t_stop=max(res.duration, float(times.max(initial=0.0)) + 1.0) * pq.ms,
                name=f"{lab}[{k}]",
            )
            st.annotate(source_population=lab, source_index=k)
            seg.spiketrains.append(st)
        block.segments.append(seg)
    return block


def neo_conversion(res) -> dict:
    """Seconds to convert ``res`` to Neo: lazily (and then every train), and eagerly (Neo
    imported first: importing it takes 0.3 s once)."""
    import neo  # noqa: F401

    t0 = time.perf_counter()
    blocks = res.to_neo()
    lazy_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lazy_trains = {lab: list(b.segments[0].spiketrains) for lab, b in blocks.items()}
    all_trains_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    eager = eager_neo(res)
    eager_s = time.perf_counter() - t0
    for seg in eager.segments:
        got = lazy_trains[seg.name]
        assert len(got) == len(seg.spiketrains)
        assert all(np.array_equal(a.magnitude, b.magnitude) for a, b in zip(got, seg.spiketrains))
    return {
        "neurons": int(sum(res.sizes.values())),
        "spikes": int(sum(res.spike_counts().values())),
        "lazy_to_neo_seconds": lazy_s,
        "lazy_then_every_train_seconds": all_trains_s,
        "eager_baseline_seconds": eager_s,
        "speedup_to_neo": eager_s / lazy_s,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="benchmarks/results/ca3.json")
    p.add_argument("--quick", action="store_true", help="shorter runs")
    p.add_argument("--neo", action="store_true", help="only the Neo conversion (c=n=1000)")
    args = p.parse_args(argv)
    scale = 0.2 if args.quick else 1.0
    if args.neo:
        _, res = simulate(1000, 1000, int(2000 * scale))
        print(json.dumps(neo_conversion(res), indent=2))
        return

    t0 = time.perf_counter()
    simulate(1, 1, 10)
    compile_s = time.perf_counter() - t0

    sizes = [(5, 10, 10000, 15), (100, 100, 5000, 5), (1000, 1000, 2000, 1)]
    runs = []
    for c, n, dur, rep in sizes:
        r, res_last = simulate(c, n, int(dur * scale), repeat=rep)
        runs.append(r)
        print(json.dumps(r), flush=True)
    neo_c1000 = neo_conversion(res_last)
    print(json.dumps({"neo_conversion": neo_c1000}), flush=True)

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
        "neo_conversion": neo_c1000,
        "versions": versions(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("versions", "runs")}, indent=2))


if __name__ == "__main__":
    main()
