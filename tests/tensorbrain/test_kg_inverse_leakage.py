"""benchmarks/kg_inverse_leakage.py on a graph built to leak one test triple in four."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from neuromem.datasets.kg import KnowledgeGraph

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "kg_inverse_leakage.py"


def test_leakage_counts_reversed_pairs_and_implying_relations():
    spec = importlib.util.spec_from_file_location("kg_inverse_leakage", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # relation 1 is the inverse of relation 0 on the training pairs; relation 2 is unrelated
    train = [(0, 0, 1), (1, 1, 0), (2, 0, 3), (3, 1, 2), (4, 2, 5)]
    test = [(5, 0, 6), (7, 0, 4), (6, 0, 7), (5, 2, 4)]
    train += [(6, 1, 5)]  # the reverse of test[0] by the inverse relation: leaks
    train += [(4, 2, 7)]  # test[1] reversed by relation 2, which never implies 0
    kg = KnowledgeGraph([f"e{i}" for i in range(8)], ["r0", "r1", "r2"],
                        train=np.array(train), test=np.array(test))  # fmt: skip
    r = mod.leakage(kg, confidence=0.5)
    assert r["reversed_pair"] == 0.75  # test[0], test[1], test[3] (reverse of (4,2,5))
    # only test[0]: reversed r1 pairs are r0 pairs 2 times in 3; r2 implies neither r0 nor
    # itself reversed
    assert r["inverse_relation"] == 0.25
    assert mod.leakage(kg, confidence=0.7)["inverse_relation"] == 0.0
