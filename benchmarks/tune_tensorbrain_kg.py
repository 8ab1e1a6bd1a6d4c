"""Validation grid of a tensor model on one knowledge graph (never reads the test split).

Starts from the preset ``tensorbrain-<dataset>`` (``dim``, ``reciprocal``, ``kg_fit``) and
trains one model per combination of the grid's values, with the validation filtered MRR at
each of the ``epochs`` values from the same run (training has no schedule, so the model at
epoch ``e`` of a longer run is the model a run of ``e`` epochs ends with). Prints one line
per setting and writes every result and the best setting by mean validation MRR to JSON.

    python benchmarks/tune_tensorbrain_kg.py --dataset nations --model complex \\
        --grid dim=64,128,256 lr=0.003,0.01 reg=0.005,0.02 smoothing=0,0.1 \\
        reciprocal=false,true --epochs 20,40,60,100 --seeds 0,1 \\
        --out benchmarks/results/tune_nations.json
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from neuromem import experiments  # noqa: E402
from neuromem.config import load_preset, resolve_config  # noqa: E402
from neuromem.datasets import find_dataset  # noqa: E402
from neuromem.datasets.kg import load_kg  # noqa: E402
from neuromem.errors import ConfigError, DataNotFoundError  # noqa: E402
from neuromem.tensorbrain import MODELS, TensorModel  # noqa: E402

#: grid keys: the model's (dim, reciprocal, entity_bias) and its training's (the rest)
KEYS = {"dim": int, "reciprocal": None, "entity_bias": None, "lr": float, "reg": float,
        "reg_all": float, "smoothing": float, "batch_size": int}  # fmt: skip


def _value(key, text):
    if KEYS[key] is None:
        if text.lower() not in ("true", "false"):
            raise ValueError(f"--grid {key}: expected true or false, got {text!r}")
        return text.lower() == "true"
    return KEYS[key](text)


def parse_grid(items: list[str]) -> dict:
    """``["dim=64,128", "reciprocal=true,false"]`` -> ``{"dim": [64, 128], ...}``."""
    grid = {}
    for item in items:
        key, sep, vals = item.partition("=")
        if not sep or key not in KEYS or not vals:
            raise ValueError(f"--grid: expected KEY=V1,V2 with KEY in {sorted(KEYS)}, got {item!r}")
        grid[key] = [_value(key, v) for v in vals.split(",")]
    return grid


def run_setting(kg, model, setting, epochs, seed):
    """Validation MRR at each of ``epochs`` (sorted) for one setting and seed."""
    known = kg.all_triples()
    m = TensorModel(
        model, kg.n_entities, kg.n_relations, dim=setting["dim"], seed=seed,
        reciprocal=setting["reciprocal"], entity_bias=setting["entity_bias"],
    )  # fmt: skip
    valid, clock = {}, {"train": 0.0, "t0": time.perf_counter()}

    def at_epoch(ep, loss):
        if ep + 1 in epochs:
            clock["train"] += time.perf_counter() - clock["t0"]
            valid[ep + 1] = m.evaluate(kg.valid, known)["mrr"]
            clock["t0"] = time.perf_counter()

    m.fit(
        kg.train,
        epochs=max(epochs),
        batch_size=setting["batch_size"],
        lr=setting["lr"],
        smoothing=setting["smoothing"],
        reg=setting["reg"],
        reg_all=setting["reg_all"],
        seed=seed + 1,
        callback=at_epoch,
    )
    return valid, clock["train"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True, choices=("kinships", "nations", "umls"))
    p.add_argument("--model", default="complex", choices=MODELS)
    p.add_argument("--grid", nargs="*", default=[], help="KEY=V1,V2 ... (dim, lr, reg, ...)")
    p.add_argument("--epochs", default=None, help="epochs to read validation MRR at: 20,40")
    p.add_argument("--seeds", default="0")
    p.add_argument("--data", help="data folder holding kg/<dataset> (default: ../shared/data)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    try:
        grid = parse_grid(args.grid)
        seeds = [int(s) for s in args.seeds.split(",")]
        epochs = sorted(int(e) for e in args.epochs.split(",")) if args.epochs else None
    except ValueError as e:
        print(f"tune_tensorbrain_kg: {e}", file=sys.stderr)
        return 2
    try:
        kg = load_kg(find_dataset(args.dataset, args.data))
    except (DataNotFoundError, ConfigError) as e:
        print(f"tune_tensorbrain_kg: {e}", file=sys.stderr)
        return 2
    _, values = load_preset(f"tensorbrain-{args.dataset}")
    cfg = resolve_config(experiments.get("tensorbrain-kg").config, values)
    f = cfg.kg_fit
    base = {"dim": cfg.dim, "reciprocal": cfg.reciprocal, "entity_bias": cfg.entity_bias,
            "lr": f.lr, "reg": f.reg, "reg_all": f.reg_all, "smoothing": f.smoothing,
            "batch_size": f.batch_size}  # fmt: skip
    epochs = epochs or [f.epochs]
    keys = list(grid)
    rows = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        setting = {**base, **dict(zip(keys, combo))}
        per_seed = [run_setting(kg, args.model, setting, epochs, s) for s in seeds]
        for e in epochs:
            mrr = [v[e] for v, _ in per_seed]
            rows.append({**setting, "epochs": e, "valid_mrr": mrr,
                         "valid_mrr_mean": float(np.mean(mrr))})  # fmt: skip
        secs = [t for _, t in per_seed]
        print(
            " ".join(f"{k}={setting[k]}" for k in keys)
            + " | "
            + " ".join(
                f"e{e}:{rows[-len(epochs) + i]['valid_mrr_mean']:.4f}" for i, e in enumerate(epochs)
            )  # fmt: skip
            + f" | {np.mean(secs):.1f}s for {max(epochs)} epochs",
            flush=True,
        )
    best = max(rows, key=lambda r: r["valid_mrr_mean"])
    print(f"best: {best}")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        report = {"dataset": args.dataset, "model": args.model, "seeds": seeds, "base": base,
                  "grid": grid, "epochs": epochs, "rows": rows, "best": best}  # fmt: skip
        out.write_text(json.dumps(report, indent=2))
        print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
