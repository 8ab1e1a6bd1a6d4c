"""Benchmark: operations per wall second of a CA3 schedule, run whole or one operation at a time.

Workload: a schedule of ``--ops`` operations (default 1000) on a CA3 memory of ``c = n = 100``,
drawn from ``--seed``: for each cue in turn, learn a random pattern of ``n // 10`` bits, recall
it by cue, recall by a one-bit fragment of it, each at its minimum spacing (learn 7 ms, recall
6 ms); after ``c`` learns the cues come round again, so re-learning (forgetting) is part of it.
Two learns in a row share no bit: the CA3 network loses the first of two back-to-back learns
that share a bit from recall by content (``docs/models/ca3.md``, state map), a property of the
model that would make a share of the answers wrong on every backend alike.

Variants (same schedule, same seed):

* ``numba-schedule``: ``CA3Memory.run_schedule(ops)``, one build and one run (the reference);
* ``numba-one-at-a-time``: the same operations through ``CA3Memory.learn``/``recall`` with
  ``at=t``, one short run (and a read of the output) per operation (baseline);
* ``brian2-standalone``: ``run_schedule`` on the ``brian2`` backend with Brian2's C++
  standalone device (``set_device("cpp_standalone")``, see ``brian2_sim``), which builds a C++
  program and runs it once: run twice into the same build folder, the first run compiles
  (``compile_s``: the build minus the program's run), the second finds the compiled objects
  and only regenerates and relinks (Brian2's compile cache). Its ``run_s`` is the program's
  whole run (start-up, arrays in and out, the loop); ``loop_s`` the loop alone as Brian2 times
  it. Standalone runs once, so it has no one-at-a-time variant.

Numba's JIT compilation (or loading it from the cache) is done before the timings on a tiny
memory and reported apart. Every variant's answers are checked: against what an ideal memory
answers (``expected_answers``; right answers per kind are reported: at c = n = 100 with 10-bit
patterns every learn and recall by cue is right, and recall by a one-bit fragment, whose bit
about 10 stored patterns share, misses some of them: the model's interference, the same on
every variant) and against
``numba-schedule``'s answers and output spikes, which every variant must equal (else the run
is marked ``same_as_reference: false`` and the script exits 1: a speed for other answers is
not comparable).

    nice python benchmarks/bench_ca3_schedule.py [--ops 1000] [--cues 100] [--content 100]
        [--seed 0] [--repeat 1] [--variants numba-schedule numba-one-at-a-time
        brian2-standalone] [--out benchmarks/results/ca3_schedule.json] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neuromem.ca3 import CA3Memory
from neuromem.ca3.memory import LEARN_SPACING, RECALL_SPACING
from neuromem.ca3.schedule import check_schedule, expected_answers
from neuromem.experiments import versions

HERE = Path(__file__).resolve().parent
VARIANTS = ("numba-schedule", "numba-one-at-a-time", "brian2-standalone")
KINDS = ("learn", "recall_cue", "recall_content")


def make_schedule(n_ops: int, c: int, n: int, seed: int = 0) -> list[tuple]:
    """``n_ops`` operations ``(t_ms, op, cue, content)`` at minimum spacing (see the module)."""
    rng = np.random.default_rng(seed)
    k = max(1, n // 10)
    ops: list[tuple] = []
    t, cue = 0, 0
    prev = np.zeros(n, bool)
    while len(ops) < n_ops:
        bits = np.zeros(n, bool)
        free = np.flatnonzero(~prev) if (~prev).sum() >= k else np.arange(n)
        bits[rng.choice(free, k, replace=False)] = True
        prev = bits
        frag = np.zeros(n, bool)
        frag[rng.choice(np.flatnonzero(bits))] = True
        for kind, cu, content, spacing in (
            ("learn", cue, bits, LEARN_SPACING),
            ("recall_cue", cue, None, RECALL_SPACING),
            ("recall_content", None, frag, RECALL_SPACING),
        ):
            if len(ops) < n_ops:
                ops.append((t, kind, cu, content))
                t += spacing
        cue = (cue + 1) % c
    return ops


def _answers(done) -> list:
    return [(o.kind, o.t, list(o.out_cues), np.flatnonzero(o.out_content).tolist()) for o in done]


def _spikes(sim) -> dict:
    return {lab: [x.tolist() for x in sim.spikes(lab)] for lab in sim.network.populations}


def run_numba_schedule(ops, c, n) -> dict:
    t0 = time.perf_counter()
    mem = CA3Memory(c, n)
    _ = mem.sim  # build
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    done = mem.run_schedule(ops, end=False)
    run_s = time.perf_counter() - t1
    return {
        "wall_s": build_s + run_s,
        "build_s": build_s,
        "run_s": run_s,
        "done": done,
        "spikes": _spikes(mem.sim),
    }


def run_numba_one_at_a_time(ops, c, n) -> dict:
    sched = check_schedule(ops, c, n)
    t0 = time.perf_counter()
    mem = CA3Memory(c, n)
    _ = mem.sim
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    for op in sched:
        if op.kind == "learn":
            mem.learn(op.cue, op.content, at=op.t)
        elif op.kind == "recall_cue":
            mem.recall(cue=op.cue, at=op.t)
        else:
            mem.recall(content=op.content, at=op.t)
    run_s = time.perf_counter() - t1
    return {
        "wall_s": build_s + run_s,
        "build_s": build_s,
        "run_s": run_s,
        "done": mem.operations,
        "spikes": _spikes(mem.sim),
    }


def run_brian2_standalone(ops, c, n, build_dir: Path) -> dict:
    t0 = time.perf_counter()
    mem = CA3Memory(c, n, backend="brian2", device="cpp_standalone", build_dir=str(build_dir))
    done = mem.run_schedule(ops, end=False)
    wall = time.perf_counter() - t0
    sim = mem.sim
    run_s = float(sim.standalone_binary_seconds)
    out = {
        "wall_s": wall,
        "compile_s": wall - run_s,
        "run_s": run_s,
        "loop_s": float(sim.standalone_run_seconds),
        "done": done,
        "spikes": _spikes(sim),
    }
    # Brian2 names objects "pop_<label>" and adds a suffix while one of that name lives: a
    # second build with the first still alive would get other names, other code files and a
    # full compilation; with it collected the names, the code and the objects are the same
    del mem, sim
    gc.collect()
    return out


def warm_up_numba() -> float:
    """JIT compilation (or loading it from Numba's cache) on a tiny memory (seconds)."""
    t0 = time.perf_counter()
    CA3Memory(2, 4).run_schedule(make_schedule(3, 2, 4), end=False)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "ca3_schedule.json")
    ap.add_argument("--ops", type=int, default=1000)
    ap.add_argument("--cues", type=int, default=100)
    ap.add_argument("--content", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=1, help="runs per numba variant (fastest)")
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--quick", action="store_true", help="60 operations, c = n = 20")
    args = ap.parse_args(argv)
    for name in ("ops", "cues", "content", "repeat"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    n_ops, c, n = (60, 20, 20) if args.quick else (args.ops, args.cues, args.content)
    ops = make_schedule(n_ops, c, n, args.seed)
    simulated_ms = ops[-1][0] + (LEARN_SPACING if ops[-1][1] == "learn" else RECALL_SPACING)
    jit_s = warm_up_numba()
    print(f"{n_ops} operations, c = {c}, n = {n}, {simulated_ms} ms simulated; numba JIT "
          f"{jit_s:.2f} s (apart)", flush=True)  # fmt: skip
    variants = ["numba-schedule"] + [v for v in args.variants if v != "numba-schedule"]
    results, ref = {}, None
    for v in variants:
        if v == "brian2-standalone":
            with tempfile.TemporaryDirectory(prefix="neuromem_b2sa_") as tmp:
                cold = run_brian2_standalone(ops, c, n, Path(tmp))
                warm = run_brian2_standalone(ops, c, n, Path(tmp))
            r = warm
            r["cold_compile_s"] = cold["compile_s"]
            r["cold_wall_s"] = cold["wall_s"]
            r["cached_compile_s"] = warm.pop("compile_s")
        else:
            fn = run_numba_schedule if v == "numba-schedule" else run_numba_one_at_a_time
            runs = [fn(ops, c, n) for _ in range(args.repeat)]
            r = min(runs, key=lambda x: x["wall_s"])
            r["wall_s_all"] = [x["wall_s"] for x in runs]
        done, spikes = r.pop("done"), r.pop("spikes")
        answers = _answers(done)
        if ref is None:
            ref = (answers, spikes)
        checks = expected_answers(done)
        r["answers_right"] = int(sum(ok for _, _, ok in checks))
        r["answers_right_by_kind"] = {
            k: [int(sum(ok for o, (_, _, ok) in zip(done, checks) if o.kind == k)),
                int(sum(o.kind == k for o in done))]
            for k in KINDS
        }  # fmt: skip
        r["same_as_reference"] = bool(answers == ref[0] and spikes == ref[1])
        r["n_spikes"] = int(sum(len(t) for t, _ in spikes.values()))
        r["ops_per_wall_s"] = n_ops / r["wall_s"]
        r["ops_per_run_s"] = n_ops / r["run_s"]
        results[v] = r
        extra = (
            f"  (compile: {r['cold_compile_s']:.1f} s cold, {r['cached_compile_s']:.1f} s "
            f"cached; loop {r['loop_s']:.3f} s)"
            if v == "brian2-standalone"
            else f"  (build {r['build_s']:.2f} s)"
        )
        print(
            f"{v:<20} {r['ops_per_wall_s']:9.1f} ops/s  wall {r['wall_s']:8.3f} s  run "
            f"{r['run_s']:8.3f} s  right {r['answers_right']}/{n_ops}  same as "
            f"numba-schedule: {r['same_as_reference']}{extra}",
            flush=True,
        )
    base = results["numba-schedule"]
    summary = {
        v: {"schedule_speedup_wall": base["ops_per_wall_s"] / r["ops_per_wall_s"]}
        for v, r in results.items()
        if v != "numba-schedule"
    }
    for v, s in summary.items():
        print(f"run_schedule on numba is {s['schedule_speedup_wall']:.1f}x {v} (wall, "
              "build included)")  # fmt: skip
    out = {
        "benchmark": "ca3_schedule",
        "workload": {
            "n_ops": n_ops,
            "n_cues": c,
            "n_content": n,
            "seed": args.seed,
            "simulated_ms": simulated_ms,
            "kinds": {k: sum(o[1] == k for o in ops) for k in KINDS},
        },
        "numba_jit_s": jit_s,
        "repeat": args.repeat,
        "baseline": "numba-one-at-a-time",
        "results": results,
        "summary": summary,
        "versions": versions(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")
    return 0 if all(r["same_as_reference"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
