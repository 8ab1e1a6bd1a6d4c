"""Benchmark: PMI Transformer on Sort-of-CLEVR against a same-size Transformer and soft attention.

Issue 14, item 5: the default ``pmi-sort-of-clevr`` (the authors' attention: unscaled scores,
key width 32, with the correction step; 4000 training images, 3000 steps of 64) over 3 seeds:
relational and non-relational test accuracy of PMI, the same-size baseline and PMI with soft
attention instead of top-k (``pmi-soft``), with the spread over seeds and the null that gives
each question type's most common training answer (``prior_*``). Target ("beyond" of the issue):
PMI ahead of the baseline on the relational questions.

    python benchmarks/bench_pmi_clevr.py [--seeds 0 1 2] [--models ...] [--jobs 2] [--quick]

Every (seed, model) pair is one job (see ``benchmarks/_jobs.py``; cached in ``--cache``, so an
interrupted run resumes). The default takes about 40 minutes of CPU (one thread per job).
Writes ``benchmarks/results/pmi_clevr.json``. No data needed (the images are generated).
"""

from __future__ import annotations

import json
from pathlib import Path

from _jobs import job_overrides, job_parser, run_jobs, spread

from neuromem import experiments

SPLITS = ("relational_accuracy", "nonrelational_accuracy", "accuracy")


def summarise(jobs: list[dict], seeds, models) -> dict:
    """Per model and question split: mean over seeds with spread; paired differences to the
    baseline and to PMI; the prior (null); how many runs learned beyond it."""
    by = {(j["seed"], j["model"]): j["metrics"] for j in jobs}
    m0 = by[(seeds[0], models[0])]
    out: dict = {"seeds": list(seeds), "models": {}}
    for m in models:
        key = m.replace("-", "_")
        e = {sp: spread([by[(s, m)][f"{key}_{sp}"] for s in seeds]) for sp in SPLITS}
        e["runs_beyond_prior"] = int(sum(by[(s, m)][f"{key}_beyond_prior"] for s in seeds))
        e["parameters"] = by[(seeds[0], m)][f"{key}_parameters"]
        e["train_seconds_per_seed"] = [by[(s, m)][f"{key}_train_seconds"] for s in seeds]
        for ref in ("pmi", "baseline"):
            if ref in models and ref != m:
                rk = ref.replace("-", "_")
                for sp in SPLITS:
                    e[f"{sp}_minus_{rk}"] = spread(
                        [by[(s, m)][f"{key}_{sp}"] - by[(s, ref)][f"{rk}_{sp}"] for s in seeds]
                    )
        out["models"][m] = e
    for sp in SPLITS:
        out[f"prior_{sp}"] = spread([by[(s, models[0])][f"prior_{sp}"] for s in seeds])
    out["n_test_questions"] = m0["n_test_questions"]
    if "pmi" in models and "baseline" in models:
        d = out["models"]["pmi"]["relational_accuracy_minus_baseline"]
        out["pmi_minus_baseline_relational_per_seed"] = d["per_seed"]
        out["beyond_met"] = bool(min(d["per_seed"]) > 0)
        out["beyond"] = "PMI's relational accuracy above the baseline's on each seed"
    return out


def markdown_table(result: dict) -> str:
    """The docs' table from this script's JSON: per model and split, mean (s.d.) and per seed."""
    acc = result["accuracy"]
    lines = ["| model | relational | non-relational | all | relational minus baseline, per seed "
             "| runs beyond the prior |", "|---|---|---|---|---|---|"]  # fmt: skip

    def cell(d):
        per = " ".join(f"{v:.3f}" for v in d["per_seed"])
        return f"{d['mean']:.3f} ({d['std']:.3f}); {per}"

    for m, e in acc["models"].items():
        d = e.get("relational_accuracy_minus_baseline")
        diff = " ".join(f"{v:+.3f}" for v in d["per_seed"]) if d else ""
        lines.append(f"| {m} | {cell(e['relational_accuracy'])} | "
                     f"{cell(e['nonrelational_accuracy'])} | {cell(e['accuracy'])} | {diff} | "
                     f"{e['runs_beyond_prior']} of {len(acc['seeds'])} |")  # fmt: skip
    lines.append(f"| prior (null) | {cell(acc['prior_relational_accuracy'])} | "
                 f"{cell(acc['prior_nonrelational_accuracy'])} | {cell(acc['prior_accuracy'])} "
                 f"| | |")  # fmt: skip
    return "\n".join(lines)


def main(argv=None):
    p = job_parser(__doc__, "benchmarks/results/pmi_clevr.json", ["pmi", "baseline", "pmi-soft"])
    args = p.parse_args(argv)
    if args.table:
        print(markdown_table(json.loads(Path(args.table).read_text())))
        return
    over = job_overrides(p, args, "pmi-sort-of-clevr")
    jobs = run_jobs("pmi-sort-of-clevr", args.seeds, args.models, None, over, args.cache,
                    args.jobs, "relational_accuracy")  # fmt: skip
    result = {"benchmark": "pmi-sort-of-clevr", "params": vars(args),
              "accuracy": summarise(jobs, args.seeds, args.models)}  # fmt: skip
    result["accuracy"]["runs"] = jobs
    result["versions"] = experiments.versions()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out)
    summary = {k: v for k, v in result["accuracy"].items() if k != "runs"}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
