"""Measures for any memory, each reported beside a null that lacks the mechanism it measures.

Every function takes a memory on the :class:`neuromem.memory.Memory` interface (or a factory of
fresh, empty ones) and an rng, and returns a plain dict of numbers and lists -- the model's
figures and its null's, computed in the same run. :mod:`neuromem.protocols.plots` draws them.

- :func:`capacity`: exact recall (by key, from partial cues) and the stored-vs-novel AUC of the
  model's confidence per load. Null: :class:`NoStorageMemory`.
- :func:`noisy_recall`: exact recall and overlap against cue noise (bits flipped or dropped).
  Null: the cue itself (no completion).
- :func:`interference`: recall of probes as lures ever more similar to them are stored.
  Control: as many unrelated lures.
- :func:`forgetting`: recency curve; recall and confidence of kept and forgotten items. Null:
  the same AUC before forgetting.
- :func:`similarity_preservation`: Spearman and mean absolute deviation of code overlap against
  input overlap. Nulls: threshold (same code above 0.5, random below) and graded
  (Binomial(Q, overlap)).
"""

from ._common import auc, corrupt, exact_match, item_overlap, spearman
from .measures import (
    capacity,
    capacity_at,
    forgetting,
    interference,
    noisy_recall,
    similar_items,
    similarity_nulls_theory,
    similarity_preservation,
)
from .nulls import NoStorageMemory, StopStoringMemory

__all__ = [
    "NoStorageMemory",
    "StopStoringMemory",
    "auc",
    "capacity",
    "capacity_at",
    "corrupt",
    "exact_match",
    "forgetting",
    "interference",
    "item_overlap",
    "noisy_recall",
    "similar_items",
    "similarity_nulls_theory",
    "similarity_preservation",
    "spearman",
]
