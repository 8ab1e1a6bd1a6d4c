"""Null memories: the interface without the mechanism, run beside a model in the same protocol.

- :class:`NoStorageMemory` stores nothing: it answers every cue with a random item of the
  model's kind, no key and a constant confidence. Exact recall ~ 0 and a stored-vs-novel AUC of
  exactly 0.5 are what a memory scores when storing does nothing.
- :class:`StopStoringMemory` wraps a real memory and stops passing items to it after the first
  ``n_max`` (a memory that froze, like a saturated Sparsey macrocolumn); with ``key_table=True``
  it also answers recall by key from a lookup table kept outside the memory (as a readout
  would), so exact recall by key stays perfect while the memory no longer learns. The
  protocol's stored-vs-novel AUC of recently stored items is what exposes it.

A lookup table holding every item is *not* a null: it is the ideal memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuromem.memory.base import Memory, Recall
from neuromem.rng import as_generator

from ._common import check_int

__all__ = ["NoStorageMemory", "StopStoringMemory"]


class NoStorageMemory(Memory):
    """A memory that stores nothing (the null of storage).

    Parameters
    ----------
    like : Memory
        The model it stands beside: gives ``item_size`` and :meth:`random_items`.
    seed : int or numpy.random.Generator
        Draws the random answers.
    """

    kind = "null-no-storage"

    def __init__(self, like: Memory, seed=0) -> None:
        super().__init__()
        if not isinstance(like, Memory):
            raise TypeError(f"like must be a Memory, got {type(like).__name__}")
        self._like = like
        self.item_size = like.item_size
        self.size_bits = 0
        self._rng = as_generator(seed, "seed")

    def random_items(self, n: int, rng) -> np.ndarray:
        return self._like.random_items(n, rng)

    def _store(self, items, keys) -> None:
        pass

    def _answer(self, n: int) -> Recall:
        return Recall(
            items=self._like.random_items(n, self._rng),
            keys=np.full(n, -1, dtype=np.int64),
            confidence=np.full(n, 0.5),
        )

    def _recall_key(self, keys) -> Recall:
        return self._answer(len(keys))

    def _recall_content(self, cues) -> Recall:
        return self._answer(len(cues))

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError("a null memory is not saved")

    @classmethod
    def _from_state(cls, meta, arrays):  # pragma: no cover - never saved
        raise NotImplementedError("a null memory is not loaded")


class StopStoringMemory(Memory):
    """A memory that stops storing after ``n_max`` items (the null of continued learning).

    Parameters
    ----------
    inner : Memory
        An empty memory; it receives the first ``n_max`` items only.
    n_max : int
        Items passed on before the memory freezes.
    key_table : bool
        Answer recall by key from a table of every item stored (perfect), as a readout outside
        the memory would; recall by content always goes to ``inner``.
    """

    kind = "null-stop-storing"

    def __init__(self, inner: Memory, n_max: int, key_table: bool = True) -> None:
        super().__init__()
        if not isinstance(inner, Memory):
            raise TypeError(f"inner must be a Memory, got {type(inner).__name__}")
        if len(inner):
            raise ValueError("inner must be empty")
        self.n_max = check_int(n_max, "n_max", 0)
        self.inner = inner
        self.key_table = bool(key_table)
        self.item_size = inner.item_size
        self.size_bits = inner.size_bits
        self._table: dict[int, np.ndarray] = {}

    def random_items(self, n: int, rng) -> np.ndarray:
        return self.inner.random_items(n, rng)

    def _store(self, items, keys) -> None:
        room = max(0, self.n_max - len(self.inner))
        if room:
            self.inner.store(items[:room], keys[:room])
        for x, k in zip(items, keys, strict=True):
            self._table[int(k)] = x.copy()

    def _recall_key(self, keys) -> Recall:
        if self.key_table:
            items = np.stack([self._table[int(k)] for k in keys])
            return Recall(items=items, keys=keys.copy(), confidence=np.ones(len(keys)))
        known = set(self.inner.keys.tolist())
        out = np.zeros((len(keys), self.item_size), dtype=np.uint8)
        conf = np.zeros(len(keys))
        got = np.array([int(k) in known for k in keys])
        if got.any():
            r = self.inner.recall(keys[got], by="key")
            out[got] = r.items
            conf[got] = r.confidence
        return Recall(items=out, keys=np.where(got, keys, -1), confidence=conf)

    def _recall_content(self, cues) -> Recall:
        if not len(self.inner):
            n = len(cues)
            return Recall(
                items=np.zeros_like(cues), keys=np.full(n, -1, np.int64), confidence=np.zeros(n)
            )
        return self.inner.recall(cues, by="content")

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError("a null memory is not saved")

    @classmethod
    def _from_state(cls, meta, arrays):  # pragma: no cover - never saved
        raise NotImplementedError("a null memory is not loaded")
