"""Willshaw's clipped-Hebbian binary associative memory (Willshaw, Buneman & Longuet-Higgins 1969).

A textbook reference memory on the :class:`~neuromem.memory.base.Memory` interface.

Two binary synapse matrices, each synapse switched on (for good) when its two units are active
together in a stored pair:

- **auto-association** ``A`` (``item_size x item_size``): every stored item with itself; recall
  by content completes a partial or noisy cue;
- **hetero-association** ``H`` (``item_size x key_size``): every stored item with its key's code,
  a random sparse code of ``key_active`` of ``key_size`` units drawn when the key is stored;
  recall by key reads the item out of the key's code.

Retrieval (one step, or ``iterations`` steps feeding the output back as the cue): the dendritic
sum of an output unit is the number of active cue units it is connected to.

- ``retrieval="threshold"``: the classic rule, on where the sum reaches the number of active cue
  units (exact for partial cues: a stored item's units all reach it; spurious units appear when
  the matrix fills up);
- ``retrieval="wta"`` (default): winners-take-k, on where the sum reaches the ``item_active``-th
  largest sum (ties kept); it also copes with cues that carry wrong bits.

Recall by key always uses the classic threshold (a key code is never noisy).

Confidence
    Recall by content: the mean dendritic sum of the ``item_active`` strongest output units
    divided by the number of active cue units, i.e. the fraction of cue bits that reach the
    winners. A stored item's own units receive every cue bit (1.0); a never-stored cue's
    winners receive only the synapses that other items switched on, so the score separates
    stored from novel cues until the matrix saturates (then every cue scores 1.0 and the
    memory can no longer tell). Recall by key: ``item_active / (number of output units)``
    (1.0 with no spurious units).

Key of a content recall
    The recalled item is fed backwards through ``H``; the ``key_active`` strongest key units form
    a key code, matched to the codes of the stored keys; the best match is returned when it
    agrees on every unit, -1 otherwise.

Theory (used by the tests): after ``M`` random pairs, a hetero synapse is on with probability
``p1 = 1 - (1 - item_active * key_active / (item_size * key_size)) ** M``; an output unit outside
the item is spurious with probability about ``p1 ** key_active``; recall by key is exact with
probability about ``(1 - p1 ** key_active) ** (item_size - item_active)``.

Forgetting: clipped Hebbian synapses cannot be switched off without erasing other items (they are
shared), so :meth:`forget` raises :class:`NotImplementedError`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuromem._resources import check_memory
from neuromem.rng import as_generator

from .base import Memory, Recall, check_integer_arrays, check_rows

__all__ = ["WillshawMemory"]


def _int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _rows_of_indices(codes: np.ndarray, width: int) -> np.ndarray:
    """Dense float32 ``(n, width)`` 0/1 matrix from ``(n, a)`` index rows."""
    out = np.zeros((len(codes), width), dtype=np.float32)
    np.put_along_axis(out, codes, 1.0, axis=1)
    return out


def _kth_largest(S: np.ndarray, k: int) -> np.ndarray:
    """Per row, the ``k``-th largest value of ``S`` (``(n, m)`` -> ``(n,)``)."""
    k = min(k, S.shape[1])
    return np.partition(S, S.shape[1] - k, axis=1)[:, S.shape[1] - k]


class WillshawMemory(Memory):
    """Willshaw (clipped Hebbian) binary associative memory: content completion and key->item.

    Parameters
    ----------
    item_size : int, optional
        Bits per item. Derived from ``n_synapses`` when omitted (the largest
        ``item_size = key_size`` that fits).
    item_active : int, optional
        Active bits per item (default ``round(log2(item_size))``, the sparsity that maximises the
        information a Willshaw matrix holds).
    n_synapses : int, optional
        Synapse budget ``item_size * (item_size + 1) / 2 + item_size * key_size``: the auto
        matrix is symmetric (a synapse and its mirror are switched on together, so they count
        once), plus the hetero matrix. With ``item_size`` given it sets ``key_size``. Give it
        or ``key_size``, not both.
    key_size : int, optional
        Units of the key codes (default ``item_size``).
    key_active : int, optional
        Active units per key code (default ``round(log2(key_size))``).
    retrieval : {"wta", "threshold"}
        Rule of recall by content (see the module docstring).
    iterations : int
        Retrieval steps for recall by content (the output becomes the next cue).
    seed : int or numpy.random.Generator
        Draws the key codes.
    """

    kind = "willshaw"

    def __init__(
        self,
        item_size: int | None = None,
        item_active: int | None = None,
        *,
        n_synapses: int | None = None,
        key_size: int | None = None,
        key_active: int | None = None,
        retrieval: str = "wta",
        iterations: int = 1,
        seed=0,
    ) -> None:
        super().__init__()
        if n_synapses is not None:
            n_synapses = _int(n_synapses, "n_synapses", 8)
            if key_size is not None:
                raise ValueError("give n_synapses or key_size, not both")
            if item_size is None:
                n = math.isqrt(2 * n_synapses // 3)
                while n * (n + 1) // 2 + n * n > n_synapses:
                    n -= 1
                item_size = key_size = n
            else:
                item_size = _int(item_size, "item_size", 2)
                key_size = (n_synapses - item_size * (item_size + 1) // 2) // item_size
                if key_size < 2:
                    raise ValueError(
                        f"n_synapses={n_synapses} leaves no room for the key matrix beside an "
                        f"item_size={item_size} auto matrix "
                        f"(needs >= {item_size * (item_size + 1) // 2 + 2 * item_size})"
                    )
        if item_size is None:
            raise ValueError("give item_size or n_synapses")
        self.item_size = _int(item_size, "item_size", 2)
        self.key_size = self.item_size if key_size is None else _int(key_size, "key_size", 2)
        if item_active is None:
            item_active = max(1, round(math.log2(self.item_size)))
        self.item_active = _int(item_active, "item_active")
        if self.item_active > self.item_size:
            raise ValueError(f"item_active must be <= item_size={self.item_size}")
        if key_active is None:
            key_active = max(1, round(math.log2(self.key_size)))
        self.key_active = _int(key_active, "key_active")
        if self.key_active > self.key_size:
            raise ValueError(f"key_active must be <= key_size={self.key_size}")
        if retrieval not in ("wta", "threshold"):
            raise ValueError(f"retrieval must be 'wta' or 'threshold', got {retrieval!r}")
        self.retrieval = retrieval
        self.iterations = _int(iterations, "iterations")
        self._rng = as_generator(seed, "seed")
        n = self.item_size
        # the two bool matrices and the float32 products of a store
        check_memory(
            6.0 * n * (n + self.key_size),
            f"item_size={n}, key_size={self.key_size} (Willshaw matrices)",
        )
        self.size_bits = n * (n + 1) // 2 + n * self.key_size
        self._A = np.zeros((self.item_size, self.item_size), dtype=bool)
        self._H = np.zeros((self.item_size, self.key_size), dtype=bool)
        self._codes = np.zeros((0, self.key_active), dtype=np.int64)  # row per stored key
        self._row: dict[int, int] = {}

    def __repr__(self) -> str:
        return (
            f"WillshawMemory(item_size={self.item_size}, item_active={self.item_active}, "
            f"key_size={self.key_size}, key_active={self.key_active}, stored={len(self)})"
        )

    # ------------------------------------------------------------------ properties
    @property
    def load_fraction(self) -> tuple[float, float]:
        """Fractions of the auto and hetero synapses switched on."""
        return float(self._A.mean()), float(self._H.mean())

    # ------------------------------------------------------------------ storing
    def _store(self, items: np.ndarray, keys: np.ndarray) -> None:
        n = len(items)
        codes = np.argsort(self._rng.random((n, self.key_size)), axis=1)[:, : self.key_active]
        codes.sort(axis=1)
        X = items.astype(np.float32)
        C = _rows_of_indices(codes, self.key_size)
        self._A |= (X.T @ X) > 0
        self._H |= (X.T @ C) > 0
        start = len(self._codes)
        self._codes = np.concatenate([self._codes, codes])
        for i, k in enumerate(keys):
            self._row[int(k)] = start + i

    # ------------------------------------------------------------------ recalling
    def _recall_key(self, keys: np.ndarray) -> Recall:
        C = _rows_of_indices(self._codes[[self._row[int(k)] for k in keys]], self.key_size)
        S = C @ self._H.T.astype(np.float32)
        Y = (S >= self.key_active).astype(np.uint8)
        n_out = Y.sum(axis=1)
        conf = self.item_active / np.maximum(n_out, self.item_active)
        return Recall(items=Y, keys=keys.copy(), confidence=conf)

    def _complete(self, cues: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        A = self._A.astype(np.float32)
        X = cues.astype(np.float32)
        conf = None
        for _ in range(self.iterations):
            m = X.sum(axis=1)
            S = X @ A
            if self.retrieval == "threshold":
                theta = m
            else:
                theta = _kth_largest(S, self.item_active)
            theta = np.maximum(theta, 1.0)  # never switch on units that no cue bit reaches
            if conf is None:
                top = -np.partition(-S, self.item_active - 1, axis=1)[:, : self.item_active]
                conf = np.where(m > 0, top.mean(axis=1) / np.maximum(m, 1.0), 0.0)
            X = (S >= theta[:, None]).astype(np.float32)
        return X.astype(np.uint8), conf

    def _keys_of(self, Y: np.ndarray) -> np.ndarray:
        """Read key codes backwards through ``H``; name the stored key that matches exactly."""
        out = np.full(len(Y), -1, dtype=np.int64)
        if not self._row:
            return out
        T = Y.astype(np.float32) @ self._H.astype(np.float32)  # (n, key_size)
        theta = np.maximum(_kth_largest(T, self.key_active), 1.0)
        P = (T >= theta[:, None]).astype(np.float32)
        order = np.empty(len(self._codes), dtype=np.int64)
        for k, r in self._row.items():
            order[r] = k
        C = _rows_of_indices(self._codes, self.key_size)  # (n_stored, key_size)
        ov = P @ C.T  # (n, n_stored)
        best = ov.argmax(axis=1)
        exact = (ov[np.arange(len(Y)), best] == self.key_active) & (
            P.sum(axis=1) == self.key_active
        )
        out[exact] = order[best[exact]]
        return out

    def _recall_content(self, cues: np.ndarray) -> Recall:
        Y, conf = self._complete(cues)
        return Recall(items=Y, keys=self._keys_of(Y), confidence=conf)

    # ------------------------------------------------------------------ files
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        order = np.empty(len(self._codes), dtype=np.int64)
        for k, r in self._row.items():
            order[r] = k
        meta = {
            "item_size": self.item_size,
            "item_active": self.item_active,
            "key_size": self.key_size,
            "key_active": self.key_active,
            "retrieval": self.retrieval,
            "iterations": self.iterations,
            "rng_state": self._rng.bit_generator.state,
        }
        arrays = {
            "A": np.packbits(self._A, axis=1),
            "H": np.packbits(self._H, axis=1),
            "codes": self._codes,
            "code_keys": order,
        }
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> WillshawMemory:
        mem = cls(
            meta["item_size"],
            meta["item_active"],
            key_size=meta["key_size"],
            key_active=meta["key_active"],
            retrieval=meta["retrieval"],
            iterations=meta["iterations"],
            seed=0,
        )
        mem._rng.bit_generator.state = meta["rng_state"]
        check_integer_arrays(arrays, ("A", "H", "codes", "code_keys"))
        A = np.unpackbits(arrays["A"].astype(np.uint8), axis=1, count=mem.item_size)
        H = np.unpackbits(arrays["H"].astype(np.uint8), axis=1, count=mem.key_size)
        for name, got, want in (("A", A, mem._A), ("H", H, mem._H)):
            if got.shape != want.shape:
                raise ValueError(f"{name}: shape {got.shape}, expected {want.shape}")
        mem._A, mem._H = A.astype(bool), H.astype(bool)
        codes = arrays["codes"].astype(np.int64)
        if codes.ndim != 2 or codes.shape[1] != mem.key_active:
            raise ValueError(f"codes: expected (n, {mem.key_active}), got shape {codes.shape}")
        if codes.size and (codes.min() < 0 or codes.max() >= mem.key_size):
            raise ValueError(f"codes: key units must lie in [0, {mem.key_size})")
        mem._codes = codes
        mem._row = {int(k): i for i, k in enumerate(arrays["code_keys"])}
        return mem

    def _check_loaded(self) -> None:
        check_rows(self, self._codes, self._row)
