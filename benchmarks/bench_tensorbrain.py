"""Benchmark: filtered MRR and training time of the tensor models on Kinships, UMLS, Nations.

For each graph the settings of the preset ``tensorbrain-<dataset>`` train
**ComplEx** (the model the targets are measured on) and, in the same run with the same
settings, the baseline **DistMult** (the usual reference of the link-prediction literature).
Training runs on one thread (``OMP_NUM_THREADS=1``); Numba compilation is done before the
clock starts. Targets: filtered test MRR >= 0.83 on Kinships and >= 0.90 on UMLS, each
trained in <= 120 s. Optionally (``--decoder``) the decoder's semantic memory is measured too.

    python benchmarks/bench_tensorbrain.py [--data DIR] [--datasets kinships,umls,nations]
                                           [--out benchmarks/results/tensorbrain.json]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from neuromem import experiments  # noqa: E402
from neuromem.config import config_to_dict, load_preset, resolve_config  # noqa: E402
from neuromem.datasets import default_data_dir  # noqa: E402
from neuromem.datasets.kg import load_kg  # noqa: E402
from neuromem.experiments import versions  # noqa: E402
from neuromem.tensorbrain import TensorModel  # noqa: E402
from neuromem.tensorbrain.decoder import TRIPLE_PLAN, Task, TensorBrain  # noqa: E402

TARGETS = {"kinships": 0.83, "umls": 0.90, "nations": None}
TIME_LIMIT = 120.0


def _warm_up():
    """Compile every Numba kernel once on a toy graph (excluded from the timings)."""
    t = np.array([[0, 0, 1], [1, 0, 2], [2, 1, 0]])
    for kind in ("complex", "distmult", "rescal"):
        m = TensorModel(kind, 3, 2, dim=4, seed=0)
        m.fit(t, epochs=1, batch_size=2)
        m.evaluate(t, t)


def _train(kind, kg, cfg, seed):
    dim = cfg.dim if kind in ("complex", "distmult") else getattr(cfg, f"{kind}_dim")
    m = TensorModel(kind, kg.n_entities, kg.n_relations, dim=dim, seed=seed)
    t0 = time.perf_counter()
    f = cfg.kg_fit  # the preset's training, without its time budget (timed here instead)
    m.fit(
        kg.train,
        epochs=f.epochs,
        batch_size=f.batch_size,
        lr=f.lr,
        smoothing=f.smoothing,
        reg=f.reg,
        seed=seed + 1,
    )
    secs = time.perf_counter() - t0
    known = kg.all_triples()
    test = m.evaluate(kg.test, known)
    valid = m.evaluate(kg.valid, known)
    return {
        "model": kind,
        "dim": dim,
        "epochs": len(m.history),
        "train_seconds": secs,
        "test": test,
        "valid_mrr": valid["mrr"],
    }


def _decoder(kg, cfg, seed):
    tb = TensorBrain(kg.n_entities, kg.n_relations, dim=cfg.decoder_model.dim, seed=seed)
    task = Task("pre", TRIPLE_PLAN, [kg.train[:, 0], kg.train[:, 2], kg.train[:, 1]])
    t0 = time.perf_counter()
    df = cfg.decoder_fit
    tb.fit(
        [task],
        epochs=df.epochs,
        batch_size=df.batch_size,
        lr=df.lr,
        seed=seed,
        schedule=df.schedule,
    )
    secs = time.perf_counter() - t0
    test = tb.evaluate(kg.test, kg.all_triples())
    return {"model": "decoder", "epochs": len(tb.history), "train_seconds": secs, "test": test}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder holding kg/<dataset> (default: ../shared/data)")
    p.add_argument("--datasets", default="kinships,umls,nations")
    p.add_argument("--out", default="benchmarks/results/tensorbrain.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--decoder", action="store_true", help="also measure the decoder")
    args = p.parse_args(argv)
    data = Path(args.data) if args.data else default_data_dir()
    if data is None:
        print("bench_tensorbrain: no data folder (pass --data DIR)", file=sys.stderr)
        return 2
    _warm_up()
    report = {
        "benchmark": "tensorbrain",
        "target_model": "complex",
        "baseline": "distmult (same settings, same run)",
        "time_limit_seconds": TIME_LIMIT,
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")},
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": versions(),
        "datasets": {},
    }
    ok = True
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        folder = data / "kg" / name
        if not folder.is_dir():
            print(f"bench_tensorbrain: {folder} not found, skipped", file=sys.stderr)
            continue
        kg = load_kg(folder)
        _, values = load_preset(f"tensorbrain-{name}")
        cfg = resolve_config(experiments.get("tensorbrain-kg").config, values)
        target = _train("complex", kg, cfg, args.seed)
        base = _train("distmult", kg, cfg, args.seed)
        goal = TARGETS.get(name)
        entry = {
            "settings": {"dim": cfg.dim, **config_to_dict(cfg.kg_fit)},
            "complex": target,
            "distmult": base,
            "mrr_ratio_complex_over_distmult": target["test"]["mrr"] / base["test"]["mrr"],
            "time_ratio_complex_over_distmult": target["train_seconds"] / base["train_seconds"],
            "target_mrr": goal,
            "meets_target": None
            if goal is None
            else bool(target["test"]["mrr"] >= goal and target["train_seconds"] <= TIME_LIMIT),
        }
        if args.decoder:
            entry["decoder"] = _decoder(kg, cfg, args.seed)
        report["datasets"][name] = entry
        if entry["meets_target"] is False:
            ok = False
        print(
            f"{name:<9} complex MRR {target['test']['mrr']:.4f} H@1 {target['test']['hits1']:.4f} "
            f"H@10 {target['test']['hits10']:.4f} in {target['train_seconds']:.1f}s | "
            f"distmult MRR {base['test']['mrr']:.4f} in {base['train_seconds']:.1f}s"
            + (
                f" | target {goal}: {'met' if entry['meets_target'] else 'NOT met'}" if goal else ""
            ),
            flush=True,
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"written {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
