"""Argument checks shared by the tensor brain's models (one message style, argument first)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_int", "check_float", "check_budget", "check_finite_array"]


def check_int(name: str, v, lo: int = 1) -> int:
    """``v`` as an int ``>= lo``; TypeError for a non-integer (bools and floats included)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer >= {lo}, got {v!r}")
    if v < lo:
        raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    return int(v)


def _range_text(lo, hi, lo_open, hi_open) -> str:
    if hi is None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def check_float(
    name: str,
    v,
    lo: float = 0.0,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """``v`` as a finite float within the range; the message states the range.

    Raises
    ------
    TypeError
        Not a real number.
    ValueError
        NaN, infinite, or outside ``[lo, hi]`` (open ends as asked).
    """
    want = f"a finite number {_range_text(lo, hi, lo_open, hi_open)}"
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected {want}, got {v!r}")
    x = float(v)
    ok = math.isfinite(x) and (x > lo if lo_open else x >= lo)
    if ok and hi is not None:
        ok = x < hi if hi_open else x <= hi
    if not ok:
        raise ValueError(f"{name}: expected {want}, got {v!r}")
    return x


def check_budget(name: str, v) -> float | None:
    """A wall-clock budget: None (no limit) or a finite number of seconds > 0."""
    if v is None:
        return None
    return check_float(name, v, 0.0, lo_open=True)


def check_finite_array(name: str, a: np.ndarray, where: str) -> None:
    """ValueError when the float array ``a`` holds NaN or infinity (``where``: the file)."""
    if a.size and not np.all(np.isfinite(a)):
        raise ValueError(f"path: {name} holds NaN or infinite values in {where}")
