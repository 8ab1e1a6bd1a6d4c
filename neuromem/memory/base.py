"""The memory interface that every neuromem model implements (through an adapter where needed).

Items are binary vectors of a fixed length (``item_size``). A memory stores a batch of items and
returns one key per item; it recalls by key (the address it returned) or by content (a noisy or
partial item); it forgets by key where the model can; it saves to a file and loads back.

Conventions
-----------
- ``items``: array of shape ``(n, item_size)`` with values in {0, 1} (bool or integer dtype;
  floats holding only 0 and 1 are accepted too). One item of shape ``(item_size,)`` is a batch
  of one.
- ``keys``: int64 array of shape ``(n,)``. Keys are chosen by the memory unless given; a key
  given twice, or one already stored, is refused.
- :class:`Recall`: per cue, the recalled item, the key of the stored item it answers with (-1
  when the memory answers with nothing it can name) and a confidence score (higher means
  "more likely stored"; the protocols compare it between stored and never-stored cues, so it
  must be computed by the model, not by comparing with the stored items from outside).
- ``seed``: an int >= 0 or a :class:`numpy.random.Generator` (:mod:`neuromem.rng`).
- ``save(path)`` writes one ``.npz`` file holding ``format_version``, ``kind`` and the state;
  ``Memory.load(path)`` (or the subclass's) reads it back and refuses a wrong kind or version.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from neuromem import npzfile

__all__ = [
    "check_rows",
    "meta_float",
    "FORMAT_VERSION",
    "Memory",
    "Recall",
    "check_items",
    "check_keys",
    "write_npz",
    "read_npz",
]

#: Version of the file format written by :meth:`Memory.save` (bumped on any change).
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Recall:
    """What a memory answers to a batch of cues.

    Attributes
    ----------
    items : numpy.ndarray
        ``(n, item_size)`` uint8 in {0, 1}: the recalled item per cue.
    keys : numpy.ndarray
        ``(n,)`` int64: key of the stored item the memory answers with; -1 for none.
    confidence : numpy.ndarray
        ``(n,)`` float64: the model's own confidence that the cue belongs to a stored item.
    """

    items: np.ndarray
    keys: np.ndarray
    confidence: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


def check_items(items, item_size: int, name: str = "items") -> np.ndarray:
    """Validate binary items; return a ``(n, item_size)`` uint8 array (a copy).

    Raises
    ------
    TypeError
        Not array-like of numbers.
    ValueError
        Wrong shape, empty batch, NaN/infinity, or values other than 0 and 1.
    """
    try:
        a = np.asarray(items)
    except Exception as e:  # noqa: BLE001 - anything numpy refuses
        raise TypeError(f"{name} must be an array of 0/1 values: {e}") from None
    if a.dtype == object or not (
        np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be an array of 0/1 numbers, got dtype {a.dtype}")
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != item_size:
        raise ValueError(
            f"{name} must have shape (n, {item_size}) or ({item_size},), got {np.shape(items)}"
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinity")
    if not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1")
    return a.astype(np.uint8)


def check_keys(keys, n: int | None = None, name: str = "keys") -> np.ndarray:
    """Validate integer keys (>= 0, distinct); return an int64 array of shape ``(n,)``."""
    a = np.asarray(keys)
    if a.ndim == 0:
        a = a[None]
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.size and not (np.issubdtype(a.dtype, np.integer) and a.dtype != np.bool_):
        raise TypeError(f"{name} must be integers, got dtype {a.dtype}")
    if n is not None and len(a) != n:
        raise ValueError(f"{name} has {len(a)} entries for {n} items")
    if (a < 0).any():
        raise ValueError(f"{name} must be >= 0")
    if len(np.unique(a)) != len(a):
        raise ValueError(f"{name} holds the same key twice")
    return a.astype(np.int64)


def meta_float(meta: dict, name: str, lo: float, hi: float = math.inf, lo_open=True) -> float:
    """A saved number: finite, in ``(lo, hi]`` (``[lo, hi]`` unless ``lo_open``); ValueError
    naming the entry otherwise (:meth:`Memory.load` adds the file)."""
    v = meta[name]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{name}: expected a number, got {v!r}")
    v = float(v)
    if not (math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi):
        rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
        raise ValueError(f"{name}: expected a finite number in {rng}, got {v!r}")
    return v


def check_integer_arrays(arrays: dict[str, np.ndarray], names) -> None:
    """The saved arrays ``names`` hold integers (ValueError naming the first that does not)."""
    for name in names:
        if not np.issubdtype(arrays[name].dtype, np.integer):
            raise ValueError(f"{name}: expected integers, got dtype {arrays[name].dtype}")


def check_rows(mem: Memory, codes: np.ndarray, row: dict, what: str = "codes") -> None:
    """A loaded memory's per-key rows agree with its keys: ``row`` maps every stored key to a
    distinct row of ``codes`` (ValueError naming ``what`` otherwise)."""
    if set(row) != set(mem._keys):
        raise ValueError(f"code_keys: the saved {what} belong to other keys than the stored ones")
    if len(codes) != len(row) or sorted(row.values()) != list(range(len(codes))):
        raise ValueError(f"{what}: {len(codes)} rows for {len(row)} stored keys")


def write_npz(path: str | os.PathLike, kind: str, meta: dict, arrays: dict) -> Path:
    """Write a memory file (:func:`neuromem.npzfile.write`, format :data:`FORMAT_VERSION`)."""
    return npzfile.write(path, kind, meta, arrays, version=FORMAT_VERSION)


def read_npz(path: str | os.PathLike, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a memory file written by :func:`write_npz`; check its kind and format version.

    Returns ``(meta, arrays)``. Raises :class:`FileNotFoundError` for a missing file and
    :class:`ValueError` for a corrupt file, another kind or an unknown format version.
    """
    return npzfile.read(path, kind, f"a neuromem {kind!r} memory file", version=FORMAT_VERSION)


class Memory(ABC):
    """A memory of binary items, stored and recalled through one interface.

    Subclasses set :attr:`kind` (the name in files and reports) and implement :meth:`_store`,
    :meth:`_recall_key`, :meth:`_recall_content`, :meth:`_state` and :meth:`_from_state`; they
    may implement :meth:`_forget`. Validation happens here, before any work starts.

    Attributes
    ----------
    item_size : int
        Bits per item.
    size_bits : int
        Number of modifiable synapses (or stored bits) the memory uses, for matching sizes.
    """

    kind: ClassVar[str] = "memory"
    item_size: int
    size_bits: int
    #: saved float arrays allowed to hold NaN or infinity (checked by :meth:`load`)
    _nonfinite_ok: ClassVar[frozenset] = frozenset()

    def __init__(self) -> None:
        self._keys: list[int] = []

    # ------------------------------------------------------------------ the interface
    @property
    def keys(self) -> np.ndarray:
        """Keys of the items stored now (in storing order)."""
        return np.asarray(self._keys, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._keys)

    def store(self, items, keys=None) -> np.ndarray:
        """Store ``items``; return their keys (the given ones, or new ones)."""
        x = check_items(items, self.item_size)
        if keys is None:
            start = max(self._keys) + 1 if self._keys else 0
            k = np.arange(start, start + len(x), dtype=np.int64)
        else:
            k = check_keys(keys, len(x))
            clash = set(k.tolist()) & set(self._keys)
            if clash:
                raise ValueError(f"keys: already stored: {sorted(clash)[:5]}")
        self._check_room(len(x))
        self._store(x, k)
        self._keys.extend(int(v) for v in k)
        return k

    def recall(self, cue, by: str = "content") -> Recall:
        """Recall from cues: keys (``by="key"``) or noisy/partial items (``by="content"``)."""
        if by == "key":
            k = check_keys(cue, name="cue")
            missing = set(k.tolist()) - set(self._keys)
            if missing:
                raise KeyError(f"cue: keys not stored: {sorted(missing)[:5]}")
            rec = self._recall_key(k)
        elif by == "content":
            rec = self._recall_content(check_items(cue, self.item_size, name="cue"))
        else:
            raise ValueError(f"by must be 'key' or 'content', got {by!r}")
        return Recall(
            items=np.asarray(rec.items, dtype=np.uint8),
            keys=np.asarray(rec.keys, dtype=np.int64),
            confidence=np.asarray(rec.confidence, dtype=np.float64),
        )

    def forget(self, keys) -> None:
        """Forget the items stored under ``keys``.

        Raises
        ------
        NotImplementedError
            The model has no forgetting operation (the message names the model).
        """
        k = check_keys(keys)
        missing = set(k.tolist()) - set(self._keys)
        if missing:
            raise KeyError(f"keys: not stored: {sorted(missing)[:5]}")
        self._forget(k)
        drop = set(k.tolist())
        self._keys = [v for v in self._keys if v not in drop]

    @property
    def can_forget(self) -> bool:
        """Whether :meth:`forget` is supported."""
        return type(self)._forget is not Memory._forget

    def save(self, path: str | os.PathLike) -> Path:
        """Write the memory to ``path`` (``.npz``, with a format version); returns the path."""
        meta, arrays = self._state()
        meta = dict(meta, keys=[int(v) for v in self._keys])
        return write_npz(path, self.kind, meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Memory:
        """Read a memory written by :meth:`save` (of this class); ``path`` with or without
        the ``.npz`` that :meth:`save` adds.

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            An empty, truncated or unreadable file, another kind or format version, or
            contents that do not make a memory of this class: missing entries, values out of
            range, NaN or infinity in a float array, shapes that disagree (the message names
            the file).
        """
        if cls is Memory:
            raise TypeError("call load() on the memory's class, e.g. WillshawMemory.load(path)")
        meta, arrays = read_npz(path, cls.kind)
        p = npzfile.find(path)
        try:
            for name, a in arrays.items():
                if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
                    if name not in cls._nonfinite_ok:
                        raise ValueError(f"{name} holds NaN or infinite values")
            keys = check_keys(np.asarray(meta["keys"]), name="keys")
            mem = cls._from_state(meta, arrays)
            mem._keys = [int(v) for v in keys]
            mem._check_loaded()
        except (KeyError, TypeError, IndexError, AttributeError, ValueError, OverflowError) as e:
            why = f"missing entry {e}" if isinstance(e, KeyError) else str(e)
            raise ValueError(f"path: {p} is not a valid {cls.kind!r} memory: {why}") from None
        return mem

    # ------------------------------------------------------------------ for subclasses
    def _check_room(self, n: int) -> None:  # noqa: B027 - optional hook, no-op by default
        """Raise :class:`ValueError` when ``n`` more items cannot be stored (default: never)."""

    def _check_loaded(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Raise :class:`ValueError` when a loaded state is inconsistent (default: no check).

        Called by :meth:`load` after :meth:`_from_state` with the keys set; subclasses check
        that their arrays have the shapes and ranges their parameters imply and that every
        stored key has its entry.
        """

    @abstractmethod
    def _store(self, items: np.ndarray, keys: np.ndarray) -> None: ...

    @abstractmethod
    def _recall_key(self, keys: np.ndarray) -> Recall: ...

    @abstractmethod
    def _recall_content(self, cues: np.ndarray) -> Recall: ...

    def _forget(self, keys: np.ndarray) -> None:
        raise NotImplementedError(f"{self.kind}: this memory cannot forget")

    @abstractmethod
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]: ...

    @classmethod
    @abstractmethod
    def _from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> Memory: ...

    def random_items(self, n: int, rng) -> np.ndarray:
        """``n`` random items this memory is meant to hold (default: ``item_active`` bits on).

        Subclasses whose items have structure (one-hot groups, a fixed number of active bits)
        override this; protocols draw their items from it.
        """
        from neuromem.rng import as_generator

        g = as_generator(rng, "rng")
        k = getattr(self, "item_active", max(1, self.item_size // 10))
        out = np.zeros((n, self.item_size), dtype=np.uint8)
        for i in range(n):
            out[i, g.choice(self.item_size, size=k, replace=False)] = 1
        return out
