"""Probe: how soon do the PMI Transformer and its baseline learn a bAbI task? (validation only)

Issue 7's analysis found that the PMI Transformer's weak point at the CPU budget is task 1
(single supporting fact): it gets stuck near 0.5-0.6 while the same-size baseline reaches
0.95+. This probe trains each model on the chosen tasks (default: task 1 alone) for several
seeds and records *validation* accuracy every ``--eval-every`` steps, so that a change can be
judged by how reliably and how early it escapes that plateau, without touching the test set.

Validation rows: 300 questions drawn once (seed 12345) from ``qaN_valid.txt`` of each task;
a task without a training file (task 3 in ``en-valid-10k``) trains on the first 80% of its
``valid`` file (800 questions) and validates on the rest. Model seed ``1000 + seed``.
Everything else is the default ``pmi-babi`` configuration (since issue 14 the authors'
attention: ``scaled=false``, ``key_dim=32``, ``use_correction=false``), changed with
``--set KEY=VALUE`` (its fields: ``n_heads``, ``key_dim``, ``n_slots``, ``topk_write``,
``scaled``, ``lr``, ...).

    python benchmarks/probe_pmi_babi.py --data ../shared/data [--tasks 1] [--seeds 0 1 2 3]
        [--models pmi baseline] [--steps 1500] [--eval-every 250] [--set KEY=VALUE ...]

Writes ``benchmarks/results/probe_pmi_babi.json`` (or ``--out``): per model and seed the
validation curve, the first step at which the mean validation accuracy reaches
``--threshold`` (``null`` if never), training seconds and the final training loss.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from neuromem.datasets import find_dataset


def load(folder: Path, tasks):
    """Training and validation examples of ``tasks`` (see the module docstring)."""
    from neuromem.datasets.babi import babi_file, read_babi_file
    from neuromem.errors import DataNotFoundError

    vrng = np.random.default_rng(12345)
    train, val = [], []
    for t in tasks:
        try:
            tr = read_babi_file(babi_file(folder, t, "train"), task=t)
            va = read_babi_file(babi_file(folder, t, "valid"), task=t)
            idx = np.sort(vrng.choice(len(va), size=min(300, len(va)), replace=False))
            va = [va[i] for i in idx]
        except DataNotFoundError:
            allv = read_babi_file(babi_file(folder, t, "valid"), task=t)
            cut = (4 * len(allv)) // 5  # 800 of task 3's 1000
            tr, va = allv[:cut], allv[cut:]
        train += tr
        val += va
    return train, val


def probe(kind, seed, cfg, data, steps, eval_every, threshold):
    """Train one model; its validation curve and escape step."""
    from neuromem.pmi.training import babi_batch_fn, babi_model, fit, predict

    vocab, W, a_tr, a_va, tasks = data
    mseed = 1000 + seed
    model = babi_model(kind, len(vocab), len(vocab.answers), W, cfg.model, mseed)
    curve = []

    def evaluate(step):
        pred = predict(model, babi_batch_fn(a_va, model, False), len(a_va["answer"]))
        ok = pred == a_va["answer"]
        per = [float(ok[a_va["task"] == t].mean()) for t in tasks]
        curve.append({"step": step, "per_task": per, "mean": float(np.mean(per))})

    hist = fit(model, babi_batch_fn(a_tr, model, True), len(a_tr["answer"]), steps,
               cfg.train.batch_size, cfg.train.lr, np.random.default_rng(mseed),
               warmup=cfg.train.warmup, schedule=cfg.train.schedule, callback=evaluate,
               callback_every=eval_every)  # fmt: skip
    escape = next((c["step"] for c in curve if c["mean"] >= threshold), None)
    return {
        "model": kind,
        "seed": seed,
        "curve": curve,
        "final_mean": curve[-1]["mean"] if curve else None,
        "escape_step": escape,
        "train_seconds": hist["train_seconds"],
        "final_loss": hist["loss_curve"][-1],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="data folder holding babi/en-valid-10k")
    ap.add_argument("--tasks", type=int, nargs="+", default=[1])
    ap.add_argument("--models", nargs="+", default=["pmi", "baseline"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--threshold", type=float, default=0.9)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.steps < 1 or args.eval_every < 1:
        ap.error("--steps and --eval-every must be >= 1")

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from neuromem.config import resolve_config
    from neuromem.datasets.babi import BabiVocab, vectorize_babi
    from neuromem.errors import ConfigError, DataNotFoundError
    from neuromem.experiments.pmi import PMIBabiConfig
    from neuromem.pmi.training import require_torch

    over = {}
    for item in args.set:
        if "=" not in item:
            ap.error(f"--set: expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        over[k.strip()] = v
    try:
        cfg = resolve_config(PMIBabiConfig, over, experiment="pmi-babi")
    except ConfigError as e:
        ap.error(str(e))
    require_torch(cfg.train.threads)
    try:
        folder = find_dataset("babi", args.data)
    except DataNotFoundError as e:
        print(f"probe_pmi_babi: {e}", file=sys.stderr)
        return 2
    train, val = load(folder, args.tasks)
    vocab = BabiVocab(train)
    W = max(
        max(len(s) for ex in train + val for s in ex.story),
        max(len(ex.question) for ex in train + val),
    )
    data = (
        vocab,
        W,
        vectorize_babi(train, vocab, cfg.max_sentences, W),
        vectorize_babi(val, vocab, cfg.max_sentences, W),
        args.tasks,
    )
    runs = []
    t0 = time.perf_counter()
    for seed in args.seeds:
        for kind in args.models:
            r = probe(kind, seed, cfg, data, args.steps, args.eval_every, args.threshold)
            runs.append(r)
            line = f"escape {r['escape_step']}, final {r['final_mean']:.3f}"
            print(f"{kind:9s} seed {seed}: {line}, {r['train_seconds']:.0f} s", flush=True)
    summary = {}
    for kind in args.models:
        rs = [r for r in runs if r["model"] == kind]
        summary[kind] = {
            "escaped": sum(r["escape_step"] is not None for r in rs),
            "runs": len(rs),
            "escape_steps": [r["escape_step"] for r in rs],
            "final_mean": float(np.mean([r["final_mean"] for r in rs])),
        }
    out = {
        "tasks": args.tasks,
        "steps": args.steps,
        "eval_every": args.eval_every,
        "threshold": args.threshold,
        "overrides": over,
        "n_train": len(train),
        "n_val": len(val),
        "summary": summary,
        "runs": runs,
        "wall_seconds": time.perf_counter() - t0,
    }
    path = Path(args.out) if args.out else Path(__file__).parent / "results" / "probe_pmi_babi.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(json.dumps(summary, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
