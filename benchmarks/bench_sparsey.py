"""Benchmark: Sparsey CSA steps per second (Numba against NumPy), and the issue-15 targets.

Speed (default): one MAC with 1024 inputs (32 active), Q = 16, K = 16. "learn" stores
``n_items`` random items single-trial (draw winners, set weights); "recognize" encodes them
again (max-V cells). The baseline is :func:`neuromem.sparsey.reference.csa_numpy`, the same CSA
with whole-array NumPy operations, fed the same uniforms: both must choose the same winners
(checked). Writes JSON.

    python benchmarks/bench_sparsey.py [--out benchmarks/results/sparsey.json]

Targets (``--targets``): runs the Sparsey experiments at their defaults on each seed and
records every target of issue 15 as ``{experiment, seed, target, value, passed}`` (a metric an
experiment does not report is recorded with ``passed: null``); ``sparsey-mnist`` runs only
with ``--data`` (evaluated on its test split, once per seed). About a minute per seed on one
core (MNIST most of it).

    python benchmarks/bench_sparsey.py --targets --data ../shared/data --seeds 0 11 \
        [--out benchmarks/results/sparsey_targets.json]
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


def _get(m, key):
    v = m.get(key)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _check(records, exp, seed, target, value, passed):
    records.append(
        {
            "experiment": exp,
            "seed": seed,
            "target": target,
            "value": value,
            "passed": None if value is None else bool(passed),
        }
    )


def _targets(m, exp, seed, records):
    """Append the issue-15 targets of experiment ``exp`` evaluated on its metrics ``m``."""
    g = lambda k: _get(m, k)  # noqa: E731
    if exp == "sparsey-capacity":
        cap = g("capacity")
        for key, lo in (
            ("exact_recall", 0.99),
            ("stored_vs_novel_auc", 0.95),
            ("noisy_identification", 0.9),
        ):
            v = g(key + "_at_capacity")
            _check(
                records, exp, seed, f"{key} >= {lo} at capacity {cap}", v, v is not None and v >= lo
            )
        _check(
            records,
            exp,
            seed,
            "capacity > capacity_chi0",
            cap,
            cap is not None and cap > (g("capacity_chi0") or 0),
        )
        _check(
            records,
            exp,
            seed,
            "capacity_null_frozen == 0",
            g("capacity_null_frozen"),
            g("capacity_null_frozen") == 0,
        )
    elif exp == "sparsey-mnist":
        a, t = g("accuracy_fixed_time"), g("train_seconds")
        _check(records, exp, seed, "accuracy_fixed_time >= 0.91", a, a is not None and a >= 0.91)
        _check(records, exp, seed, "train_seconds <= 10", t, t is not None and t <= 10)
        acc, pre = g("accuracy"), g("baseline_knn_preprocessed_accuracy")
        _check(
            records,
            exp,
            seed,
            "accuracy >= baseline_knn_preprocessed_accuracy",
            None if acc is None or pre is None else acc - pre,
            acc is not None and pre is not None and acc >= pre,
        )
    elif exp == "sparsey-hierarchy":
        two, one = g("auc_stored_vs_recombined_two_level"), g("auc_stored_vs_recombined_one_level")
        _check(
            records,
            exp,
            seed,
            "auc_stored_vs_recombined_two_level >= 0.9",
            two,
            two is not None and two >= 0.9,
        )
        _check(
            records,
            exp,
            seed,
            "upper_level_gain >= 0.3",
            g("upper_level_gain"),
            (g("upper_level_gain") or 0) >= 0.3,
        )
        _check(
            records,
            exp,
            seed,
            "auc_stored_vs_recombined_one_level <= 0.6",
            one,
            one is not None and one <= 0.6,
        )
        b2, b1 = g("seq_accuracy_blank_two_level"), g("seq_accuracy_blank_one_level")
        _check(
            records,
            exp,
            seed,
            "seq_accuracy_blank_two_level >= 0.9",
            b2,
            b2 is not None and b2 >= 0.9,
        )
        _check(
            records,
            exp,
            seed,
            "seq_accuracy_blank_one_level <= seq_chance + 0.1",
            b1,
            b1 is not None and b1 <= (g("seq_chance") or 0) + 0.1,
        )
    elif exp == "sparsey-sisc":
        mad, sp, null = g("mean_abs_deviation"), g("spearman"), g("null_threshold_spearman")
        _check(
            records, exp, seed, "mean_abs_deviation <= 0.08", mad, mad is not None and mad <= 0.08
        )
        _check(
            records,
            exp,
            seed,
            "spearman >= null_threshold_spearman + 0.05",
            None if sp is None or null is None else sp - null,
            sp is not None and null is not None and sp >= null + 0.05,
        )
    elif exp == "sparsey-sequences":
        acc = g("accuracy")
        _check(records, exp, seed, "accuracy >= 0.95", acc, acc is not None and acc >= 0.95)
        no_h = g("accuracy_no_h")
        _check(
            records,
            exp,
            seed,
            "accuracy_no_h <= accuracy - 0.3",
            no_h,
            acc is not None and no_h is not None and no_h <= acc - 0.3,
        )
        for key in (
            "accuracy_mid_start",
            "accuracy_dropped_frame",
            "accuracy_time_warp",
            "prefix_completion",
        ):
            v = g(key)
            _check(records, exp, seed, f"{key} >= 0.9", v, v is not None and v >= 0.9)


def targets(argv=None):
    """Run the experiments on each seed and write the targets as JSON."""
    from neuromem import experiments

    p = argparse.ArgumentParser(description="Sparsey: the issue-15 targets, as JSON")
    p.add_argument("--targets", action="store_true")
    p.add_argument("--out", default="benchmarks/results/sparsey_targets.json")
    p.add_argument("--data", default=None, help="data folder (sparsey-mnist runs only with it)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument(
        "--experiments",
        nargs="+",
        default=[
            "sparsey-sisc",
            "sparsey-capacity",
            "sparsey-sequences",
            "sparsey-mnist",
            "sparsey-hierarchy",
        ],
    )
    args = p.parse_args(argv)
    records, runs = [], []
    for exp in args.experiments:
        if exp == "sparsey-mnist" and args.data is None:
            continue
        for seed in args.seeds:
            kw = {"data": args.data} if exp == "sparsey-mnist" else {}
            t0 = time.perf_counter()
            r = experiments.run(exp, seed=seed, **kw)
            runs.append(
                {
                    "experiment": exp,
                    "seed": seed,
                    "seconds": time.perf_counter() - t0,
                    "metrics": r["metrics"],
                }
            )
            _targets(r["metrics"], exp, seed, records)
    out = {
        "benchmark": "sparsey-issue-15-targets",
        "params": vars(args),
        "targets": records,
        "all_passed": all(r["passed"] for r in records),
        "runs": runs,
        "versions": versions(),
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    for r in records:
        mark = {True: "PASS", False: "FAIL", None: "n/a "}[r["passed"]]
        val = "-" if r["value"] is None else f"{r['value']:.4g}"
        print(f"{mark} {r['experiment']:18s} seed {r['seed']:<3d} {r['target']}: {val}")


def main(argv=None):
    import sys

    if "--targets" in (sys.argv[1:] if argv is None else argv):
        return targets(argv)
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
