"""Kanerva's sparse distributed memory (Kanerva 1988, *Sparse Distributed Memory*, MIT Press).

A textbook reference memory on the :class:`~neuromem.memory.base.Memory` interface.

``n_locations`` hard locations, each with a fixed random binary address (``item_size`` bits,
exactly half of them on) and a row of up/down counters. Writing a data word at an address
activates every hard location within Hamming distance ``radius`` of it and adds the word in
bipolar form (+1 for a 1 bit, -1 for a 0 bit) to their counters, which saturate at
``+-(2**(counter_bits-1) - 1)``. Reading sums the counters of the locations the read address
activates.

The data word is ``[item | key tag]``: each key gets a random address (an item-like pattern:
``item_active`` of ``item_size`` bits on, so that the radius means the same for both kinds of
address) and a random tag (half of ``key_size`` bits on) stored beside the item. Every item
is written twice: at its own address (auto-association, recall by content) and at its key's
address (recall by key).

Read-out: the items have a fixed number of active bits, so the item part of the sum is read out
as its ``item_active`` largest entries (with dense items and bipolar counters this is Kanerva's
"sum > 0" rule with the right number of bits). ``iterations > 1`` reads again at the item just
read (Kanerva's iterative convergence). The tag part is read out as its ``key_size // 2`` largest
entries and matched to the tags of the stored keys: the nearest is returned when it lies within
``key_size // 8`` bits (random tags lie near ``key_size / 2`` apart), -1 otherwise.

Radius: when not given, the smallest radius at which a random item activates at least a
fraction ``active_fraction`` (default ``1 / sqrt(n_locations)``) of the locations (computed
from the hypergeometric law of the overlap between an item and an address).

Confidence: the agreement of the counters: ``(mean of the item_active largest sums - mean of the
others) / (2 * number of active locations)``. One item written alone at the read address scores
1.0; a never-written address reads the superposed writes of unrelated items, whose bits nearly
cancel, so it scores near 0 -- until the load is high enough that stored items score as low.

Forgetting: Kanerva's memory has no erase operation (subtracting a word would also be possible, but
is not part of the textbook model); :meth:`forget` raises :class:`NotImplementedError`.

Size: ``size_bits`` counts the counters (``n_locations * (item_size + key_size)``); each counter
holds ``counter_bits`` bits (so the memory holds ``counter_bits`` times more bits than a Willshaw
matrix with as many synapses).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from neuromem._resources import check_memory
from neuromem.rng import as_generator

from .base import Memory, Recall, check_integer_arrays, check_rows

__all__ = ["SparseDistributedMemory"]


def _int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _half_on(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``n`` random binary rows of ``size`` bits with exactly ``size // 2`` on."""
    order = np.argsort(rng.random((n, size)), axis=1)
    out = np.zeros((n, size), dtype=np.uint8)
    np.put_along_axis(out, order[:, : size // 2], 1, axis=1)
    return out


def _top(S: np.ndarray, k: int) -> np.ndarray:
    """0/1 rows with the ``k`` largest entries of each row of ``S`` on (ties: lower index)."""
    idx = np.argsort(-S, axis=1, kind="stable")[:, :k]
    out = np.zeros(S.shape, dtype=np.uint8)
    np.put_along_axis(out, idx, 1, axis=1)
    return out


class SparseDistributedMemory(Memory):
    """Kanerva's sparse distributed memory with a key tag in the data word.

    Parameters
    ----------
    item_size : int
        Bits per item (also the address length).
    item_active : int, optional
        Active bits per item (default ``item_size // 2``, Kanerva's dense random words).
    n_locations : int, optional
        Hard locations. Give it or ``n_counters``.
    n_counters : int, optional
        Counter budget; ``n_locations = n_counters // (item_size + key_size)``.
    key_size : int, optional
        Bits of the key tag in the data word (default ``min(item_size, 64)``).
    radius : int, optional
        Activation radius (Hamming distance); default from ``active_fraction``.
    active_fraction : float, optional
        Target fraction of locations a random item activates when ``radius`` is not given
        (default ``1 / sqrt(n_locations)``: two random items then share about one active
        location, the regime where Kanerva's memory works).
    counter_bits : int
        Bits per counter (saturation at ``+-(2**(counter_bits-1) - 1)``).
    iterations : int
        Reads per recall by content.
    seed : int or numpy.random.Generator
        Draws the hard-location addresses and the key codes.
    """

    kind = "sdm"

    def __init__(
        self,
        item_size: int = 256,
        item_active: int | None = None,
        *,
        n_locations: int | None = None,
        n_counters: int | None = None,
        key_size: int | None = None,
        radius: int | None = None,
        active_fraction: float | None = None,
        counter_bits: int = 8,
        iterations: int = 1,
        seed=0,
    ) -> None:
        super().__init__()
        self.item_size = _int(item_size, "item_size", 2)
        self.item_active = (
            self.item_size // 2 if item_active is None else _int(item_active, "item_active")
        )
        if self.item_active > self.item_size:
            raise ValueError(f"item_active must be <= item_size={self.item_size}")
        if key_size is None:
            key_size = min(self.item_size, 64)
        self.key_size = _int(key_size, "key_size", 2)
        if self.key_size > self.item_size:
            raise ValueError(f"key_size must be <= item_size={self.item_size}")
        word = self.item_size + self.key_size
        if (n_locations is None) == (n_counters is None):
            raise ValueError("give exactly one of n_locations and n_counters")
        if n_counters is not None:
            n_counters = _int(n_counters, "n_counters")
            n_locations = n_counters // word
            if n_locations < 1:
                raise ValueError(f"n_counters={n_counters} holds no location of {word} counters")
        self.n_locations = _int(n_locations, "n_locations")
        # addresses (uint8 and float32 copies while addressing) and int16 counters
        check_memory(
            8.0 * self.n_locations * (self.item_size + word),
            f"n_locations={self.n_locations}, item_size={self.item_size} (SDM locations)",
        )
        if active_fraction is None:
            active_fraction = min(1.0, 1.0 / np.sqrt(self.n_locations))
        if isinstance(active_fraction, bool) or not isinstance(
            active_fraction, (int, float, np.floating)
        ):
            raise TypeError("active_fraction must be a float")
        if not 0.0 < active_fraction <= 1.0:
            raise ValueError(f"active_fraction must lie in (0, 1], got {active_fraction}")
        self.active_fraction = float(active_fraction)
        self.counter_bits = _int(counter_bits, "counter_bits", 2)
        if self.counter_bits > 16:
            raise ValueError(f"counter_bits must be <= 16, got {self.counter_bits}")
        self.iterations = _int(iterations, "iterations")
        self._cmax = 2 ** (self.counter_bits - 1) - 1
        half = self.item_size // 2
        if radius is None:
            # Hamming distance between a random item (item_active on) and an address (half on):
            # d = half + item_active - 2 * overlap, overlap ~ Hypergeom(item_size, half, active)
            ov = stats.hypergeom(self.item_size, half, self.item_active)
            r = 0
            while r < self.item_size and ov.sf(np.ceil((half + self.item_active - r) / 2) - 1) < (
                self.active_fraction
            ):
                r += 1
            radius = r
        self.radius = _int(radius, "radius", 0)
        g = as_generator(seed, "seed")
        self._rng = g
        self._addr = _half_on(g, self.n_locations, self.item_size)
        self._C = np.zeros((self.n_locations, word), dtype=np.int16)
        self._codes = np.zeros((0, self.item_size), dtype=np.uint8)
        self._tags = np.zeros((0, self.key_size), dtype=np.uint8)
        self._row: dict[int, int] = {}
        self.size_bits = self.n_locations * word

    def __repr__(self) -> str:
        return (
            f"SparseDistributedMemory(item_size={self.item_size}, item_active={self.item_active}, "
            f"n_locations={self.n_locations}, radius={self.radius}, stored={len(self)})"
        )

    # ------------------------------------------------------------------ addressing
    def _active(self, X: np.ndarray) -> np.ndarray:
        """``(n, n_locations)`` bool: locations within ``radius`` of each address row."""
        Xf = X.astype(np.float32)
        A = self._addr.astype(np.float32)
        d = Xf.sum(axis=1)[:, None] + A.sum(axis=1)[None, :] - 2.0 * (Xf @ A.T)
        return d <= self.radius + 1e-6

    def active_counts(self, X) -> np.ndarray:
        """Number of locations activated by each address row of ``X``."""
        from .base import check_items

        return self._active(check_items(X, self.item_size, "X")).sum(axis=1)

    def _write(self, addresses: np.ndarray, words: np.ndarray) -> None:
        act = self._active(addresses).astype(np.float32)
        bip = 2.0 * words.astype(np.float32) - 1.0
        if int(np.abs(self._C).max(initial=0)) + len(words) <= self._cmax:
            self._C += (act.T @ bip).astype(np.int16)  # no counter can saturate
            return
        for a, w in zip(act, bip, strict=True):  # saturating counters, one word at a time
            rows = np.flatnonzero(a)
            self._C[rows] = np.clip(self._C[rows] + w.astype(np.int16), -self._cmax, self._cmax)

    def _read(self, addresses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        act = self._active(addresses)
        S = act.astype(np.float32) @ self._C.astype(np.float32)
        return S, act.sum(axis=1)

    # ------------------------------------------------------------------ storing
    def _store(self, items: np.ndarray, keys: np.ndarray) -> None:
        n = len(items)
        order = np.argsort(self._rng.random((n, self.item_size)), axis=1)
        codes = np.zeros((n, self.item_size), dtype=np.uint8)
        np.put_along_axis(codes, order[:, : self.item_active], 1, axis=1)
        tags = _half_on(self._rng, n, self.key_size)
        words = np.concatenate([items, tags], axis=1)
        self._write(items, words)
        self._write(codes, words)
        start = len(self._codes)
        self._codes = np.concatenate([self._codes, codes])
        self._tags = np.concatenate([self._tags, tags])
        for i, k in enumerate(keys):
            self._row[int(k)] = start + i

    # ------------------------------------------------------------------ recalling
    def _item_part(self, S: np.ndarray, n_act: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Si = S[:, : self.item_size]
        Y = _top(Si, self.item_active)
        Y[n_act == 0] = 0
        k = self.item_active
        srt = -np.sort(-Si, axis=1)
        top = srt[:, :k].mean(axis=1)
        rest = srt[:, k:].mean(axis=1) if k < self.item_size else np.zeros(len(Si))
        conf = np.where(n_act > 0, (top - rest) / (2.0 * np.maximum(n_act, 1)), 0.0)
        return Y, conf

    def _key_part(self, S: np.ndarray, n_act: np.ndarray) -> np.ndarray:
        out = np.full(len(S), -1, dtype=np.int64)
        if not self._row:
            return out
        T = _top(S[:, self.item_size :], self.key_size // 2).astype(np.float32)
        C = self._tags.astype(np.float32)
        d = T.sum(axis=1)[:, None] + C.sum(axis=1)[None, :] - 2.0 * (T @ C.T)
        best = d.argmin(axis=1)
        ok = (d[np.arange(len(S)), best] <= self.key_size // 8) & (n_act > 0)
        order = np.empty(len(self._codes), dtype=np.int64)
        for k, r in self._row.items():
            order[r] = k
        out[ok] = order[best[ok]]
        return out

    def _recall_key(self, keys: np.ndarray) -> Recall:
        S, n_act = self._read(self._codes[[self._row[int(k)] for k in keys]])
        Y, conf = self._item_part(S, n_act)
        return Recall(items=Y, keys=keys.copy(), confidence=conf)

    def _recall_content(self, cues: np.ndarray) -> Recall:
        X = cues
        conf = None
        for _ in range(self.iterations):
            S, n_act = self._read(X)
            Y, c = self._item_part(S, n_act)
            if conf is None:
                conf = c
            X = np.where((n_act > 0)[:, None], Y, X)
        return Recall(items=Y, keys=self._key_part(S, n_act), confidence=conf)

    # ------------------------------------------------------------------ files
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        order = np.empty(len(self._codes), dtype=np.int64)
        for k, r in self._row.items():
            order[r] = k
        meta = {
            "item_size": self.item_size,
            "item_active": self.item_active,
            "n_locations": self.n_locations,
            "key_size": self.key_size,
            "radius": self.radius,
            "active_fraction": self.active_fraction,
            "counter_bits": self.counter_bits,
            "iterations": self.iterations,
            "rng_state": self._rng.bit_generator.state,
        }
        arrays = {
            "addresses": np.packbits(self._addr, axis=1),
            "counters": self._C,
            "codes": np.packbits(self._codes, axis=1),
            "tags": np.packbits(self._tags, axis=1),
            "code_keys": order,
        }
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> SparseDistributedMemory:
        mem = cls(
            meta["item_size"],
            meta["item_active"],
            n_locations=meta["n_locations"],
            key_size=meta["key_size"],
            radius=meta["radius"],
            active_fraction=meta["active_fraction"],
            counter_bits=meta["counter_bits"],
            iterations=meta["iterations"],
            seed=0,
        )
        mem._rng.bit_generator.state = meta["rng_state"]
        n = mem.item_size
        check_integer_arrays(arrays, ("addresses", "counters", "codes", "tags", "code_keys"))
        addr = np.unpackbits(arrays["addresses"].astype(np.uint8), axis=1, count=n)
        if addr.shape != mem._addr.shape:
            raise ValueError(f"addresses: shape {addr.shape}, expected {mem._addr.shape}")
        C = arrays["counters"]
        if C.shape != mem._C.shape:
            raise ValueError(f"counters: shape {C.shape}, expected {mem._C.shape}")
        if C.size and (C.min() < -mem._cmax or C.max() > mem._cmax):
            raise ValueError(
                f"counters: must lie in [-{mem._cmax}, {mem._cmax}] ({mem.counter_bits} bits)"
            )
        mem._addr = addr.astype(np.uint8)
        mem._C = C.astype(np.int16)
        mem._codes = np.unpackbits(arrays["codes"].astype(np.uint8), axis=1, count=n)
        mem._codes = mem._codes.astype(np.uint8).reshape(-1, n)
        tags = np.unpackbits(arrays["tags"].astype(np.uint8), axis=1, count=mem.key_size)
        mem._tags = tags.astype(np.uint8).reshape(-1, mem.key_size)
        if len(mem._tags) != len(mem._codes):
            raise ValueError(f"tags: {len(mem._tags)} rows for {len(mem._codes)} codes")
        mem._row = {int(k): i for i, k in enumerate(arrays["code_keys"])}
        return mem

    def _check_loaded(self) -> None:
        check_rows(self, self._codes, self._row)
