"""Probe (validation only): which of PyKEEN's differences moves ComplEx's validation MRR.

PyKEEN's ComplEx, trained with the presets' settings, beats neuromem's on UMLS (test 0.955
against 0.928, bench_tensorbrain.py). Two of the differences are probed here on neuromem's
model: no entity bias (``TensorModel(entity_bias=False)``, as PyKEEN's ComplEx has none) and
an N3 term over *all* entities at every step, weight ``mu`` (``fit(reg_all=mu)``; PyKEEN's
regulariser also reaches the all-entity lookups of 1-vs-all scoring), the rest from the
preset. Prints the validation filtered MRR every 25 epochs; never reads the test split.

    python benchmarks/probe_tensorbrain_gap.py --dataset umls --mu 0,0.05 --bias on,off
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402

from neuromem import experiments  # noqa: E402
from neuromem.config import load_preset, resolve_config  # noqa: E402
from neuromem.datasets import find_dataset  # noqa: E402
from neuromem.datasets.kg import load_kg  # noqa: E402
from neuromem.errors import ConfigError, DataNotFoundError  # noqa: E402
from neuromem.tensorbrain import TensorModel  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True, choices=("kinships", "nations", "umls"))
    p.add_argument("--mu", default="0,0.05")
    p.add_argument("--bias", default="on,off")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", help="data folder holding kg/<dataset> (default: ../shared/data)")
    args = p.parse_args(argv)
    try:
        mus = [float(m) for m in args.mu.split(",")]
        biases = [{"on": True, "off": False}[b] for b in args.bias.split(",")]
    except (ValueError, KeyError):
        print("probe_tensorbrain_gap: --mu numbers, --bias on/off", file=sys.stderr)
        return 2
    try:
        kg = load_kg(find_dataset(args.dataset, args.data))
    except (DataNotFoundError, ConfigError) as e:
        print(f"probe_tensorbrain_gap: {e}", file=sys.stderr)
        return 2
    known = kg.all_triples()
    _, values = load_preset(f"tensorbrain-{args.dataset}")
    cfg = resolve_config(experiments.get("tensorbrain-kg").config, values)
    f = cfg.kg_fit
    for mu, bias in itertools.product(mus, biases):
        m = TensorModel("complex", kg.n_entities, kg.n_relations, dim=cfg.dim, seed=args.seed,
                        reciprocal=cfg.reciprocal, entity_bias=bias)  # fmt: skip
        pts = {}

        def read(ep, loss, m=m, pts=pts):
            if (ep + 1) % 25 == 0 or ep + 1 == f.epochs:
                pts[ep + 1] = round(m.evaluate(kg.valid, known)["mrr"], 4)

        m.fit(kg.train, epochs=f.epochs, batch_size=f.batch_size, lr=f.lr,
              smoothing=f.smoothing, reg=f.reg, reg_all=mu, seed=args.seed + 1,
              callback=read)  # fmt: skip
        print(f"{args.dataset} mu={mu} bias={'on' if bias else 'off'}: valid MRR {pts}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
