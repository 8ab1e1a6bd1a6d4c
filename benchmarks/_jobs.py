"""Run an experiment as independent (seed, model) jobs in worker processes, with a cache.

Shared by the PMI benchmarks: ``pmi-babi`` and ``pmi-sort-of-clevr`` give every model of a
run the same model seed, so a model's result does not depend on which other models run beside
it, and one (seed, model) pair can be one job. Each job's result is written atomically to
``cache/<experiment>_seed<S>_<model>.json``; a cached job with the same overrides is not run
again, so an interrupted benchmark resumes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from tqdm import tqdm

from neuromem import experiments


def run_job(experiment: str, seed: int, model: str, data, overrides: dict, cache) -> dict:
    """Train and test one model on one seed; keep the result in ``cache``."""
    path = Path(cache) / f"{experiment}_seed{seed}_{model}.json"
    over = {**overrides, "models": [model]}
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("overrides") == over:
            return old
    kw = {"data": Path(data)} if data is not None else {}
    r = experiments.run(experiment, seed=seed, overrides=over, **kw)
    out = {"experiment": experiment, "seed": seed, "model": model, "overrides": over,
           "config": r["config"], "metrics": r["metrics"]}  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1))
    tmp.replace(path)
    return out


def run_jobs(experiment: str, seeds, models, data, overrides: dict, cache, jobs: int,
             metric: str) -> list[dict]:  # fmt: skip
    """Every (seed, model) pair of ``experiment`` on ``jobs`` worker processes (spawned, so
    each sets up its own torch); prints ``metric`` of each job as it ends."""
    todo = [(s, m) for s in seeds for m in models]
    done = []
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        futs = [pool.submit(run_job, experiment, s, m, data, overrides, cache) for s, m in todo]
        for f in tqdm(as_completed(futs), total=len(futs), desc=f"{experiment} jobs"):
            j = f.result()
            key = j["model"].replace("-", "_")
            tqdm.write(f"seed {j['seed']} {j['model']}: {metric} "
                       f"{j['metrics'][f'{key}_{metric}']:.4f}")  # fmt: skip
            done.append(j)
    return sorted(done, key=lambda j: (j["seed"], j["model"]))


def spread(x) -> dict:
    """Mean, sample standard deviation, min, max and the values of ``x``."""
    x = np.asarray(x, dtype=float)
    return {"mean": float(x.mean()), "std": float(x.std(ddof=1)) if x.size > 1 else 0.0,
            "min": float(x.min()), "max": float(x.max()), "per_seed": x.tolist()}  # fmt: skip


def job_parser(doc: str, out: str, models) -> argparse.ArgumentParser:
    """The arguments both PMI benchmarks take: --out, --seeds, --models, --jobs, --cache,
    --steps, --quick and --table."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--out", default=out)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--models", nargs="+", default=list(models))
    p.add_argument("--jobs", type=int, default=2, help="jobs at once (one thread each)")
    p.add_argument("--cache", default="benchmarks/results/pmi_runs",
                   help="folder of per-job results (resume)")  # fmt: skip
    p.add_argument("--steps", type=int, default=None, help="override the training steps")
    p.add_argument("--quick", action="store_true", help="tiny budget (smoke test)")
    p.add_argument("--table", metavar="JSON", help="print the docs' table from a result file "
                   "of this script and stop")  # fmt: skip
    return p


def job_overrides(p: argparse.ArgumentParser, args, experiment: str) -> dict:
    """Check --jobs and --models (exit 2 with the parser's message) and return the
    experiment's overrides of --quick and --steps; one thread per job."""
    from neuromem.pmi.config import MODEL_KINDS

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.jobs < 1:
        p.error("--jobs must be >= 1")
    for m in args.models:
        if m not in MODEL_KINDS:
            p.error(f"--models: unknown model {m!r}; known: {', '.join(MODEL_KINDS)}")
    over = dict(experiments.get(experiment).demo_overrides) if args.quick else {}
    if args.steps is not None:
        over["steps"] = args.steps
    return over
