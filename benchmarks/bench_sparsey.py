"""Benchmark: Sparsey CSA steps per second, Numba kernel against a NumPy-vectorised CSA.

One MAC with 1024 inputs (32 active), Q = 16, K = 16. "learn" stores ``n_items`` random items
single-trial (draw winners, set weights); "recognize" encodes them again (max-V cells). The
baseline is :func:`neuromem.sparsey.reference.csa_numpy`, the same CSA with whole-array NumPy
operations, fed the same uniforms: both must choose the same winners (checked). Writes JSON.

    python benchmarks/bench_sparsey.py [--out benchmarks/results/sparsey.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neuromem.experiments import versions
from neuromem.sparsey import LevelConfig, Sparsey, SparseyConfig
from neuromem.sparsey.reference import csa_numpy


def _frames(rng, n, n_inputs, n_active):
    X = np.zeros((n, n_inputs), dtype=np.uint8)
    for i in range(n):
        X[i, rng.choice(n_inputs, n_active, replace=False)] = 1
    return X


def _numba_run(lv, X, learn, rand):
    n = X.shape[0]
    w = np.empty((n, lv.M, lv.Q), dtype=np.int64)
    G = np.empty((n, lv.M))
    lv.csa_batch(X, learn, rand, w, G)
    return w[:, 0]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="benchmarks/results/sparsey.json")
    p.add_argument("--n-items", type=int, default=400)
    p.add_argument("--n-inputs", type=int, default=1024)
    p.add_argument("--n-active", type=int, default=32)
    p.add_argument("--Q", type=int, default=16)
    p.add_argument("--K", type=int, default=16)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)

    rng = np.random.default_rng(0)
    X = _frames(rng, args.n_items, args.n_inputs, args.n_active)
    rand = rng.random((args.n_items, 1, args.Q))
    cfg = SparseyConfig(
        input_shape=(args.n_inputs,),
        # G_min as in the sparsey-capacity preset: random items, crosstalk must not steer codes
        levels=[LevelConfig(Q=args.Q, K=args.K, saturation=1.0, G_min=0.9)],
        on_saturated="ignore",
    )
    params = Sparsey(cfg).levels[0].params

    t0 = time.perf_counter()
    _numba_run(Sparsey(cfg).levels[0], X[:2], True, rand[:2])
    compile_s = time.perf_counter() - t0

    res = {"numba": {"learn": [], "recognize": []}, "numpy": {"learn": [], "recognize": []}}
    for _ in range(args.repeat):
        lv = Sparsey(cfg).levels[0]
        t0 = time.perf_counter()
        w_learn = _numba_run(lv, X, True, rand)
        res["numba"]["learn"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        w_rec = _numba_run(lv, X, False, np.zeros((args.n_items, 1, 1)))
        res["numba"]["recognize"].append(time.perf_counter() - t0)

        W = np.zeros((args.n_inputs, args.Q * args.K), dtype=np.uint8)
        n_set_cell = np.zeros(args.Q * args.K, dtype=np.int64)
        t0 = time.perf_counter()
        np_learn = [
            csa_numpy(X[i], W, args.Q, args.K, params, True, rand[i, 0], n_set_cell)[0]
            for i in range(args.n_items)
        ]
        res["numpy"]["learn"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        np_rec = [csa_numpy(X[i], W, args.Q, args.K, params)[0] for i in range(args.n_items)]
        res["numpy"]["recognize"].append(time.perf_counter() - t0)
        assert np.array_equal(np.stack(np_learn), w_learn), "learn: numba and numpy differ"
        assert np.array_equal(np.stack(np_rec), w_rec), "recognize: numba and numpy differ"
        assert np.array_equal(W, lv.WU[0]), "weights: numba and numpy differ"

    n = args.n_items
    out = {
        "benchmark": "sparsey-csa-one-mac",
        "params": vars(args),
        "compile_seconds": compile_s,
        "baseline": "NumPy-vectorised CSA (neuromem.sparsey.reference.csa_numpy), same uniforms",
        "exact_recall": float(np.mean((w_rec == w_learn).all(axis=1))),
    }
    for step in ("learn", "recognize"):
        tn = min(res["numba"][step])
        tb = min(res["numpy"][step])
        out[f"{step}_numba_seconds"] = tn
        out[f"{step}_numpy_seconds"] = tb
        out[f"{step}_numba_steps_per_second"] = n / tn
        out[f"{step}_numpy_steps_per_second"] = n / tb
        out[f"{step}_speedup_vs_numpy"] = tb / tn
    out["versions"] = versions()
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items() if k != "versions"}, indent=2))


if __name__ == "__main__":
    main()
