"""The CA3 spiking content-addressable memory behind the memory interface.

:class:`CA3ContentMemory` wraps :class:`neuromem.ca3.CA3Memory` (Casanueva-Morato et al.):
``n_cues`` one-hot cue neurons and ``n_content`` content bits. An item is a content pattern
(``item_size = n_content``); each stored item takes one free cue neuron, so the memory holds at
most ``n_cues`` items at a time.

Every answer is read from the network's output spikes (``OUTcue``, ``OUTcont``):

* store: ``learn(cue, item)`` (one operation per item);
* recall by key: ``recall(cue=...)``, the content bits that spike are the answer;
* recall by content: ``recall(content=cue)`` makes every cue neuron whose pattern shares an
  active bit with the cue spike; each of those cues is then recalled by cue (the native
  ``with_patterns=True``, done once per cue neuron and batch), and the answer is the cue whose
  recalled spike pattern best matches the fragment (cosine of the two spike sets);
* forget: the native forgetting, re-learning the cue with another pattern (one content bit
  that did not spike when the cue was recalled); the cue neuron is then free for a new item.

Confidence (all from spikes):

* by content: the cosine between the fragment's active bits and the chosen cue's recalled
  spikes, :math:`|f \\wedge r| / \\sqrt{|f|\\,|r|}` (0 when no cue neuron spiked). A
  never-stored cue shares bits with several stored patterns but is covered by none of them;
* by key: 1 when both the cue's output neuron and at least one content neuron spiked, 0.5
  when only one of them did, 0 when neither did (the network has no graded signal here).

Recall is plastic: the network's STDP stays on during every operation (as on the board), so
recalls change the weights. Recall by content potentiates the content -> cue synapses of the
cue's bits onto every cue neuron that spiked, and the recalls by cue that follow move the
cue -> content weights. Measured (64 cue neurons, 32 stored 128-bit items of 10% active bits,
all exact by key after storing): one batch of 32 recalls by content (full cues) leaves 18 of
32 items exact (25 stored bits lost), a second batch 4 (30 spurious bits), a third none (267
spurious bits); a recall by key of every item before the first batch changes this (1 bit
lost after it). Protocols that recall many times from one memory measure this too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuromem.ca3.memory import CA3Memory

from .base import Memory, Recall

__all__ = ["CA3ContentMemory"]


class CA3ContentMemory(Memory):
    """The CA3 spiking memory (cue neurons as keys, content patterns as items).

    Parameters
    ----------
    item_size : int
        Content bits ``n_content`` (>= 1).
    n_cues : int
        Cue neurons (>= 1): the most items held at a time.
    backend : str
        Spiking backend passed to :class:`~neuromem.ca3.CA3Memory` (``"numba"``, the reference,
        by default).
    item_active : int, optional
        Active bits of the items :meth:`random_items` draws (default ``item_size // 10``, at
        least 1).
    **options
        Passed to :class:`~neuromem.ca3.CA3Memory` (``params``, ``read_lag``, backend options).

    Attributes
    ----------
    model : neuromem.ca3.CA3Memory
        The wrapped network.
    size_bits : int
        Plastic synapses: ``2 * n_cues * n_content`` (cue -> content and content -> cue).

    Notes
    -----
    The model is deterministic: there is no ``seed``. Items need at least one active bit.
    """

    kind = "ca3"

    def __init__(
        self,
        item_size: int,
        n_cues: int,
        backend: str = "numba",
        item_active: int | None = None,
        **options,
    ):
        super().__init__()
        for name, v in (("item_size", item_size), ("n_cues", n_cues)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(v).__name__}")
            if v < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        self.item_size = int(item_size)
        self.n_cues = int(n_cues)
        if item_active is None:
            item_active = max(1, self.item_size // 10)
        if isinstance(item_active, bool) or not isinstance(item_active, (int, np.integer)):
            raise TypeError(f"item_active must be an int, got {type(item_active).__name__}")
        if not 1 <= item_active <= self.item_size:
            raise ValueError(f"item_active must lie in [1, {self.item_size}], got {item_active}")
        self.item_active = int(item_active)
        self.size_bits = 2 * self.n_cues * self.item_size
        self.model = CA3Memory(self.n_cues, self.item_size, backend=backend, **options)
        self._cue_of: dict[int, int] = {}  # key -> cue neuron

    # ------------------------------------------------------------------ helpers
    def _free_cues(self) -> list[int]:
        used = set(self._cue_of.values())
        return [c for c in range(self.n_cues) if c not in used]

    def _check_room(self, n: int) -> None:
        free = self.n_cues - len(self._cue_of)
        if n > free:
            raise ValueError(
                f"items: CA3 memory has {free} free cue neurons of {self.n_cues}; cannot store "
                f"{n} items (forget some, or build it with more n_cues)"
            )

    def _key_of_cue(self) -> dict[int, int]:
        return {c: k for k, c in self._cue_of.items()}

    # ------------------------------------------------------------------ interface
    def _store(self, items: np.ndarray, keys: np.ndarray) -> None:
        empty = np.flatnonzero(items.sum(axis=1) == 0)
        if len(empty):
            raise ValueError(f"items: CA3 cannot store an empty pattern (row {int(empty[0])})")
        free = self._free_cues()
        for x, k, c in zip(items, keys, free):
            self.model.learn(c, x.astype(bool))
            self._cue_of[int(k)] = c

    def _recall_key(self, keys: np.ndarray) -> Recall:
        n = len(keys)
        out = np.zeros((n, self.item_size), np.uint8)
        conf = np.zeros(n)
        for j, k in enumerate(keys):
            c = self._cue_of[int(k)]
            op = self.model.recall(cue=c)
            out[j] = op.pattern
            conf[j] = 0.5 * (c in op.cues) + 0.5 * bool(op.pattern.any())
        return Recall(out, keys.copy(), conf)

    #: recalls by content made before the patterns of their cues are read (see _recall_content)
    CONTENT_CHUNK = 8

    def _recall_content(self, cues: np.ndarray) -> Recall:
        # The authors' memory answers a fragment with the cues that share it (recall by
        # content); each cue's pattern is then a recall by cue. STDP stays on during recall: a
        # run of recalls by content with no recall by cue between them depresses the
        # cue->content synapses (the content fires before the cue) until no pattern is left
        # (measured: 20 in a row on 2 stored 128-bit items erased both; 16 did not), while a
        # recall by cue restores them. So cues are answered in chunks of CONTENT_CHUNK: the
        # chunk's recalls by content, then one recall by cue per cue that fired.
        n = len(cues)
        items = np.zeros((n, self.item_size), np.uint8)
        keys = np.full(n, -1, np.int64)
        conf = np.zeros(n)
        for s in range(0, n, self.CONTENT_CHUNK):
            part = slice(s, min(n, s + self.CONTENT_CHUNK))
            r = self._recall_content_chunk(cues[part])
            items[part], keys[part], conf[part] = r.items, r.keys, r.confidence
        return Recall(items, keys, conf)

    def _recall_content_chunk(self, cues: np.ndarray) -> Recall:
        n = len(cues)
        fired = []
        for x in cues:
            if not x.any():
                fired.append([])
                continue
            fired.append(self.model.recall(content=x.astype(bool)).cues)
        patterns = {c: self.model.recall(cue=c).pattern for c in sorted(set().union(*fired))}
        key_of = self._key_of_cue()
        items = np.zeros((n, self.item_size), np.uint8)
        keys = np.full(n, -1, np.int64)
        conf = np.zeros(n)
        for j, (x, cands) in enumerate(zip(cues, fired)):
            best, best_score = None, 0.0
            fx = x.astype(bool)
            for c in cands:
                r = patterns[c]
                denom = np.sqrt(fx.sum() * r.sum())
                score = float((fx & r).sum() / denom) if denom else 0.0
                if score > best_score:
                    best, best_score = c, score
            if best is not None:
                items[j] = patterns[best]
                keys[j] = key_of.get(best, -1)
                conf[j] = best_score
        return Recall(items, keys, conf)

    def _forget(self, keys: np.ndarray) -> None:
        for k in keys:
            c = self._cue_of[int(k)]
            held = self.model.recall(cue=c).pattern
            spare = np.flatnonzero(~held)
            bit = int(spare[0]) if len(spare) else 0
            new = np.zeros(self.item_size, bool)
            new[bit] = True
            self.model.forget(c, new)
            del self._cue_of[int(k)]

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta, arrays = self.model.state()
        meta = {
            "model": meta,
            "item_size": self.item_size,
            "n_cues": self.n_cues,
            "item_active": self.item_active,
            "cue_of": [[k, c] for k, c in self._cue_of.items()],
        }
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> CA3ContentMemory:
        mem = cls.__new__(cls)
        Memory.__init__(mem)
        mem.item_size = int(meta["item_size"])
        mem.n_cues = int(meta["n_cues"])
        mem.item_active = int(meta["item_active"])
        mem.size_bits = 2 * mem.n_cues * mem.item_size
        mem.model = CA3Memory.from_state(meta["model"], arrays)
        mem._cue_of = {int(k): int(c) for k, c in meta["cue_of"]}
        return mem

    def __repr__(self) -> str:
        return (
            f"CA3ContentMemory(item_size={self.item_size}, n_cues={self.n_cues}, "
            f"stored={len(self)}, backend={self.model.backend!r})"
        )
