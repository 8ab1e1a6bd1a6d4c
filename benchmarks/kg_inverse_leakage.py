"""How much of a knowledge graph's test split can be read off inverse training triples.

For each test triple ``(s, p, o)``: is some ``(o, q, s)`` in the training split (any
relation ``q``), and is there one whose relation ``q`` implies ``p`` for at least
``--confidence`` of the reversed training pairs, ``P((s, p, o) in train | (o, q, s) in
train)`` (the test-set leakage Dettmers et al. 2018, ConvE, measured with their inverse
model on WN18 and FB15k)? Prints one line per graph.

    python benchmarks/kg_inverse_leakage.py [--data DIR] [--datasets kinships,umls,nations]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict

import numpy as np

from neuromem.datasets import find_dataset
from neuromem.datasets.kg import load_kg
from neuromem.errors import ConfigError, DataNotFoundError


def leakage(kg, confidence: float = 0.5) -> dict:
    """Fractions of ``kg.test`` with a reversed training pair, and with one whose relation
    implies the test relation with at least ``confidence``."""
    train = set(map(tuple, kg.train.tolist()))
    fwd, rev = defaultdict(set), defaultdict(set)
    for s, p, o in train:
        fwd[p].add((s, o))
        rev[p].add((o, s))
    n_rel = kg.n_relations
    conf = np.zeros((n_rel, n_rel))  # conf[q, p] = P((s,p,o) in train | (o,q,s) in train)
    for q in range(n_rel):
        for p in range(n_rel):
            conf[q, p] = len(rev[q] & fwd[p]) / max(1, len(rev[q]))
    test = kg.test.tolist()
    reversed_ = [[q for q in range(n_rel) if (o, q, s) in train] for s, p, o in test]
    return {
        "reversed_pair": float(np.mean([bool(qs) for qs in reversed_])),
        "inverse_relation": float(
            np.mean(
                [any(conf[q, t[1]] >= confidence for q in qs) for t, qs in zip(test, reversed_)]
            )
        ),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="data folder holding kg/<dataset> (default: ../shared/data)")
    p.add_argument("--datasets", default="kinships,umls,nations")
    p.add_argument("--confidence", type=float, default=0.5)
    args = p.parse_args(argv)
    if not 0 < args.confidence <= 1:
        print(f"kg_inverse_leakage: --confidence: must lie in (0, 1], got {args.confidence}",
              file=sys.stderr)  # fmt: skip
        return 2
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        try:
            folder = find_dataset(name, args.data)
        except (DataNotFoundError, ConfigError) as e:
            print(f"kg_inverse_leakage: {e}", file=sys.stderr)
            return 2
        r = leakage(load_kg(folder), args.confidence)
        print(
            f"{name}: test triples with (o, q, s) in train: {r['reversed_pair']:.3f}; with a q "
            f"implying p (confidence >= {args.confidence}): {r['inverse_relation']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
