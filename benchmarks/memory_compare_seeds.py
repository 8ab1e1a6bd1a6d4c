"""memory-compare over several seeds: mean and spread of every headline metric (JSON + table).

The table in ``docs/models/memory.md`` is this script's output::

    python benchmarks/memory_compare_seeds.py --seeds 0 1 2 3 4

The seeds are one sweep (:func:`neuromem.experiments.sweep`, as ``neuromem sweep memory-compare
--seeds ...``): each seed is one ``neuromem run memory-compare --seed S`` (same config, the
defaults unless ``--set KEY=VALUE``) on a local cluster of worker processes (``--workers``) or a
Dask scheduler (``--scheduler tcp://HOST:PORT``), written to ``--runs`` (``RUNS/base/seed-S``);
seeds finished there before with the same config are reused. The JSON holds every run's metrics
and, per metric and memory, the mean, the sample standard deviation, the minimum and the maximum
over the seeds. Not a speed benchmark: it aggregates results (about 20-25 s a seed on one core).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

PER_MODEL = (
    "capacity_at_95",
    "capacity_at_95_key",
    "capacity_at_95_content",
    "noisy_recall_10",
    "noisy_recall_30",
    "partial_recall_30",
    "stored_vs_novel_auc",
    "stored_vs_novel_auc_max_load",
    "interference_drop",
    "null_capacity_at_95",
    "null_stored_vs_novel_auc",
    "forget_auc",
)


def summarise(runs: list[dict]) -> dict:
    """Per metric: mean, s.d. (ddof 1; 0 for one run), min, max over the runs (None -> NaN)."""
    models = runs[0]["models"]
    out: dict = {"models": models, "n_seeds": len(runs)}
    keys = list(PER_MODEL) + sorted(
        k for k, v in runs[0].items() if k.endswith(("_spearman", "_mad")) and np.isscalar(v)
    )
    for key in keys:
        a = np.array(
            [[np.nan if v is None else v for v in np.atleast_1d(r[key])] for r in runs], float
        )
        with warnings.catch_warnings():  # an all-NaN column (no forgetting) stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            stats = {
                "mean": np.nanmean(a, 0),
                "sd": np.nanstd(a, 0, ddof=1) if len(runs) > 1 else np.zeros(a.shape[1]),
                "min": np.nanmin(a, 0),
                "max": np.nanmax(a, 0),
            }
        scalar = a.shape[1] == 1 and key not in PER_MODEL
        out[key] = {
            k: (None if not np.isfinite(v[0]) else float(v[0]))
            if scalar
            else [None if not np.isfinite(x) else float(x) for x in v]
            for k, v in stats.items()
        }
    return out


def table(summary: dict) -> str:
    """The per-memory metrics as a Markdown table of 'mean ± s.d.'."""
    models = summary["models"]
    lines = [
        f"| seeds: {summary['n_seeds']}, mean ± s.d. | " + " | ".join(models) + " |",
        "|---" * (len(models) + 1) + "|",
    ]
    for key in PER_MODEL:
        s = summary[key]
        cells = ["n/a" if m is None else f"{m:.3g} ± {d:.2g}" for m, d in zip(s["mean"], s["sd"])]
        lines.append(f"| `{key}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", default="benchmarks/results/memory_compare_seeds.json")
    p.add_argument("--runs", metavar="DIR", help="the sweep's runs (default: OUT.json -> OUT_runs)")
    p.add_argument("--workers", type=int, metavar="N", help="local processes (default: the cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler (default: local)")
    args = p.parse_args(argv)
    from neuromem import experiments
    from neuromem.errors import ConfigError
    from neuromem.experiments.sweep import run_dir

    over = {}
    for item in args.set:
        if "=" not in item:
            p.error(f"--set: expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        over[k.strip()] = v
    if any(s < 0 for s in args.seeds) or len(set(args.seeds)) != len(args.seeds):
        p.error("--seeds: distinct integers >= 0")
    out = Path(args.out)
    runs_dir = Path(args.runs) if args.runs else out.with_name(out.stem + "_runs")
    try:
        rows = experiments.sweep("memory-compare", seeds=args.seeds, overrides=over,
                                 out=runs_dir, workers=args.workers,
                                 scheduler=args.scheduler)  # fmt: skip
    except ConfigError as e:
        p.error(str(e))
    failed = [r for r in rows if r["status"] == "failed"]
    for r in failed:
        print(f"seed {r['seed']} failed: {r['error']}", file=sys.stderr)
    if failed:
        return 1
    runs = []
    for r in rows:
        res = json.loads((run_dir(runs_dir, r["point"], r["seed"]) / "result.json").read_text())
        runs.append(res["metrics"])
        print(f"seed {r['seed']}: {res['timings']['total']:.1f} s ({r['status']})", flush=True)
    summary = summarise(runs)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"seeds": args.seeds, "overrides": over, "runs_dir": str(runs_dir),
              "summary": summary, "runs": runs}  # fmt: skip
    out.write_text(json.dumps(report, indent=1))
    print(table(summary))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
