"""Helpers shared by the measures: scores, cue corruption, argument checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

from neuromem.memory.base import Memory, check_items
from neuromem.rng import as_generator

__all__ = [
    "auc",
    "corrupt",
    "exact_match",
    "item_overlap",
    "spearman",
    "make_memory_fn",
    "check_loads",
    "check_levels",
]


def auc(positive, negative) -> float:
    """Area under the ROC curve of scores ``positive`` against ``negative`` (Mann-Whitney U).

    The probability that a random positive scores above a random negative, ties counting one
    half: a constant score gives exactly 0.5, a perfect separation 1.0.
    """
    p = np.asarray(positive, dtype=np.float64).ravel()
    n = np.asarray(negative, dtype=np.float64).ravel()
    if p.size == 0 or n.size == 0:
        raise ValueError("positive and negative must each hold at least one score")
    if not (np.isfinite(p).all() and np.isfinite(n).all()):
        raise ValueError("scores must be finite")
    ranks = stats.rankdata(np.concatenate([p, n]))  # average ranks for ties
    u = ranks[: p.size].sum() - p.size * (p.size + 1) / 2.0
    return float(u / (p.size * n.size))


def spearman(x, y) -> float:
    """Spearman rank correlation (0.0 when either side is constant)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return float(stats.spearmanr(x, y).statistic)


def exact_match(recalled: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Per row: whether the recalled item equals the stored one bit for bit."""
    return np.all(np.asarray(recalled) == np.asarray(items), axis=1)


def item_overlap(recalled: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Per row: shared active bits / the larger number of active bits (1.0 only when equal).

    Spurious bits count against a recall as much as missing ones.
    """
    r = np.asarray(recalled, dtype=bool)
    x = np.asarray(items, dtype=bool)
    shared = np.logical_and(r, x).sum(axis=1)
    denom = np.maximum(np.maximum(r.sum(axis=1), x.sum(axis=1)), 1)
    return shared / denom


def corrupt(items, level: float, kind: str, rng) -> np.ndarray:
    """Noisy (``kind="flip"``) or partial (``kind="drop"``) copies of binary ``items``.

    ``level`` is the fraction of each item's active bits affected: ``level * active`` bits,
    rounded at random to one of the two nearest integers so that the expected fraction is
    exactly ``level`` (a 3-bit item at level 0.1 loses a bit in 30 % of the cues):

    - ``"flip"``: that many active bits are switched off and as many inactive bits switched on
      (the number of active bits is kept; for dense items with half the bits on, a level of
      0.1 flips 10 % of all bits);
    - ``"drop"``: that many active bits are switched off (a partial cue; no wrong bits).
    """
    if kind not in ("flip", "drop"):
        raise ValueError(f"kind must be 'flip' or 'drop', got {kind!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating, np.integer)):
        raise TypeError(f"level must be a number in [0, 1], got {type(level).__name__}")
    if not 0.0 <= float(level) <= 1.0:
        raise ValueError(f"level must lie in [0, 1], got {level}")
    x = np.array(items, dtype=np.uint8, copy=True)
    if x.ndim != 2:
        raise ValueError(f"items must be two-dimensional, got shape {x.shape}")
    g = as_generator(rng, "rng")
    for i in range(len(x)):
        on = np.flatnonzero(x[i])
        want = level * len(on)
        m = int(np.floor(want))
        m += int(g.random() < want - m)
        if m == 0:
            continue
        if kind == "flip":
            off = np.flatnonzero(x[i] == 0)
            m = min(m, len(off))
            new = g.choice(off, size=m, replace=False)
            x[i, g.choice(on, size=m, replace=False)] = 0
            x[i, new] = 1
        else:
            x[i, g.choice(on, size=m, replace=False)] = 0
    return x


def make_memory_fn(make_memory, name: str = "make_memory") -> Callable[[], Memory]:
    """A zero-argument factory from a factory or an empty :class:`Memory` (used once)."""
    if isinstance(make_memory, Memory):
        if len(make_memory):
            raise ValueError(f"{name}: the memory must be empty (it holds {len(make_memory)})")
        used = []

        def once():
            if used:
                raise ValueError(f"{name}: a memory instance can serve one run; pass a factory")
            used.append(1)
            return make_memory

        return once
    if not callable(make_memory):
        raise TypeError(f"{name} must be a Memory or a callable returning one")

    def fresh():
        mem = make_memory()
        if not isinstance(mem, Memory):
            raise TypeError(f"{name}() must return a Memory, got {type(mem).__name__}")
        return mem

    return fresh


def check_loads(loads, name: str = "loads") -> list[int]:
    """Strictly increasing positive ints."""
    if isinstance(loads, (str, bytes)) or not isinstance(loads, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of ints")
    out = []
    for v in loads:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must hold ints, got {v!r}")
        out.append(int(v))
    if not out:
        raise ValueError(f"{name} is empty")
    if out[0] < 1 or any(b <= a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(f"{name} must be positive and strictly increasing, got {out}")
    return out


def check_levels(levels, name: str, lo: float = 0.0, hi: float = 1.0) -> list[float]:
    """A non-empty sequence of numbers in ``[lo, hi]``."""
    if isinstance(levels, (str, bytes)) or not isinstance(levels, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of numbers")
    out = []
    for v in levels:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must hold numbers, got {v!r}")
        if not lo <= float(v) <= hi:
            raise ValueError(f"{name} must lie in [{lo}, {hi}], got {v}")
        out.append(float(v))
    if not out:
        raise ValueError(f"{name} is empty")
    return out


def check_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def checked_items(mem: Memory, items, name: str = "items") -> np.ndarray:
    return check_items(items, mem.item_size, name)
