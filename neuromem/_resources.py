"""Resource bounds: refuse a size whose memory estimate exceeds what this machine has.

Sizes that reach the models (units of a code, cues of a network, steps of a simulation) are
checked against an estimate of the memory they need *before* anything is allocated, so that a
typo such as ``size=1000000000`` ends in one clear :class:`ValueError` naming the argument and
the estimate, not in a ``MemoryError`` traceback after minutes of work.

The limit is the machine's physical memory (the smaller of ``MemTotal`` and a cgroup limit when
the process runs in one), or ``NEUROMEM_MEMORY_LIMIT`` (bytes, or with a ``K``/``M``/``G``/``T``
suffix) when set. Estimates are deliberately rough (within a factor of about two); the check
is a guard against impossible sizes, not an accountant. Bottom layer: imports no other part of
neuromem.
"""

from __future__ import annotations

import math
import os
import re

__all__ = ["check_memory", "memory_limit", "format_bytes", "ENV_LIMIT"]

#: environment variable that overrides the memory limit (bytes, or 512M, 4G, ...)
ENV_LIMIT = "NEUROMEM_MEMORY_LIMIT"

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def format_bytes(n: float) -> str:
    """``n`` bytes as a short human-readable string (``"74 GiB"``, ``"512 MiB"``)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if n >= 10 or unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.0f} PiB"  # pragma: no cover - loop always returns


def _parse_limit(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9.eE+]+)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    value = float("nan")
    if m:
        try:
            value = float(m.group(1)) * _UNITS[m.group(2)]
        except ValueError:
            pass
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{ENV_LIMIT}: expected a positive size (e.g. 4G), got {text!r}")
    return int(value)


def _physical_memory() -> int | None:
    try:
        import psutil  # optional

        return int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - psutil missing or unusable: fall back to sysconf
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                text = fh.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < (1 << 60):
            return int(text)
    return None


def memory_limit() -> int | None:
    """The memory (bytes) a run may ask for: ``NEUROMEM_MEMORY_LIMIT``, else the machine's.

    None when it cannot be found out (then nothing is refused).
    """
    env = os.environ.get(ENV_LIMIT)
    if env:
        return _parse_limit(env)
    limits = [x for x in (_physical_memory(), _cgroup_limit()) if x]
    return min(limits) if limits else None


def check_memory(bytes_needed: float, what: str) -> None:
    """Refuse ``what`` when it needs more memory than this machine has.

    Parameters
    ----------
    bytes_needed : float
        Estimated peak memory in bytes (a float: products of large sizes may exceed int64).
    what : str
        What asks for it, leading with the argument to change, e.g.
        ``"size=1000000000 with n_pairs=20000"``.

    Raises
    ------
    ValueError
        ``"<what>: needs about 74 GiB; this machine has 23 GiB"``.
    """
    limit = memory_limit()
    if limit is None:
        return
    need = float(bytes_needed)
    if math.isnan(need) or need > limit:
        raise ValueError(
            f"{what}: needs about {format_bytes(need)}; this machine has {format_bytes(limit)}"
        )
