"""Spike traces in the hardware-recording CSV format: read, write, replay, compare.

Format: a header ``time_ms,population,neuron`` then one row per spike, time in whole ms,
population one of :data:`~neuromem.ca3.network.POPULATIONS`, neuron the index inside it.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuromem.errors import ConfigError, DataNotFoundError

from .network import (
    CONTENT_POPS,
    CUE_POPS,
    MAX_DURATION_MS,
    POPULATIONS,
    CA3Params,
    build_network,
    check_network_size,
)

__all__ = [
    "Trace",
    "read_trace",
    "write_trace",
    "replay",
    "compare",
    "Comparison",
]

HEADER = ("time_ms", "population", "neuron")


@dataclass
class Trace:
    """Spikes per population: ``spikes[label] = (times_ms, neuron_indices)`` (int arrays).

    Attributes
    ----------
    spikes : dict
        Per population label, sorted by time then neuron.
    """

    spikes: dict = field(default_factory=dict)

    def get(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Times and indices of ``label`` (empty arrays when it has no spikes)."""
        if label not in POPULATIONS:
            raise ValueError(f"label: unknown population {label!r}")
        z = np.zeros(0, np.int64)
        return self.spikes.get(label, (z, z))

    def max_index(self, labels) -> int:
        """Largest neuron index seen in ``labels`` (-1 when none)."""
        m = -1
        for lab in labels:
            _, i = self.get(lab)
            if len(i):
                m = max(m, int(i.max()))
        return m

    @property
    def last_time(self) -> int:
        """Time of the last spike (ms), -1 for an empty trace."""
        return max((int(t.max()) for t, _ in self.spikes.values() if len(t)), default=-1)

    def rows(self) -> list[tuple[int, str, int]]:
        """All spikes as ``(time, population, neuron)`` sorted by time, population order, index."""
        out = []
        for lab in POPULATIONS:
            t, i = self.get(lab)
            out += [(int(a), lab, int(b)) for a, b in zip(t, i)]
        rank = {lab: k for k, lab in enumerate(POPULATIONS)}
        out.sort(key=lambda r: (r[0], rank[r[1]], r[2]))
        return out


def _sorted(times, idx) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=np.int64)
    i = np.asarray(idx, dtype=np.int64)
    o = np.lexsort((i, t))
    return t[o], i[o]


def read_trace(path: str | os.PathLike) -> Trace:
    """Read a trace CSV.

    Parameters
    ----------
    path : path
        CSV file with header ``time_ms,population,neuron``.

    Returns
    -------
    Trace

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    ConfigError
        Wrong header, unknown population, malformed row (not three fields, non-integer or
        negative time or index), or a duplicated spike; the message names the line.
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"--trace: file not found: {p}")
    try:
        return _read_trace(p)
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not a text CSV file ({e.reason})") from None
    except csv.Error as e:
        raise ConfigError(f"{p}: not a CSV file ({e})") from None


def _read_trace(p: Path) -> Trace:
    acc: dict[str, tuple[list, list]] = {}
    seen = set()
    with p.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            raise ConfigError(f"{p}: line 1: expected header {','.join(HEADER)}, got {header}")
        for ln, row in enumerate(reader, start=2):
            if not row or all(not x.strip() for x in row):
                continue
            if len(row) != 3:
                raise ConfigError(f"{p}: line {ln}: expected 3 fields, got {len(row)}: {row}")
            ts, pop, ns = (x.strip() for x in row)
            if pop not in POPULATIONS:
                raise ConfigError(
                    f"{p}: line {ln}: unknown population {pop!r}; known: {', '.join(POPULATIONS)}"
                )
            try:
                tf = float(ts)
                ni = int(ns)
            except ValueError:
                raise ConfigError(
                    f"{p}: line {ln}: time and neuron must be numbers: {row}"
                ) from None
            if not math.isfinite(tf) or tf < 0 or tf != int(tf):
                raise ConfigError(f"{p}: line {ln}: time must be a whole number of ms >= 0: {ts}")
            if ni < 0:
                raise ConfigError(f"{p}: line {ln}: neuron index must be >= 0: {ns}")
            key = (int(tf), pop, ni)
            if key in seen:
                raise ConfigError(f"{p}: line {ln}: duplicated spike {key}")
            seen.add(key)
            a = acc.setdefault(pop, ([], []))
            a[0].append(int(tf))
            a[1].append(ni)
    return Trace({lab: _sorted(*v) for lab, v in acc.items()})


def check_output(path: str | os.PathLike, name: str = "--out") -> Path:
    """``path`` as a file that can be written: its folder exists and it is not a folder.

    Raises
    ------
    ConfigError
        Otherwise (checked before a replay starts, so that no work is lost).
    """
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{name}: {p} is a folder; expected a file name")
    if not p.parent.is_dir():
        raise ConfigError(f"{name}: folder {p.parent} does not exist")
    if not os.access(p.parent, os.W_OK):
        raise ConfigError(f"{name}: folder {p.parent} is not writable")
    return p


def write_trace(path: str | os.PathLike, trace: Trace) -> None:
    """Write ``trace`` as CSV (rows sorted by time, population, neuron), atomically: a
    temporary file in the same folder renamed into place, so that a failed write leaves no
    half-written file (and an earlier file of that name as it was)."""
    import tempfile

    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            w.writerows(trace.rows())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def trace_from_result(result) -> Trace:
    """Convert a :class:`~neuromem.spiking.SimulationResult` of the CA3 network to a Trace."""
    out = {}
    for lab in POPULATIONS:
        if lab in result.labels:
            t, i = result.spikes(lab)
            if len(t):
                out[lab] = _sorted(np.rint(t).astype(np.int64), i)
    return Trace(out)


def replay(
    trace: Trace,
    n_cues: int | None = None,
    n_content: int | None = None,
    backend: str = "numba",
    duration: float | None = None,
    params: CA3Params | None = None,
    **backend_options,
) -> Trace:
    """Simulate the CA3 network with the ``INcue``/``INcont`` spikes of ``trace`` as stimulus.

    Parameters
    ----------
    trace : Trace
        Recording; only its input rows are used.
    n_cues, n_content : int, optional
        Sizes ``c`` and ``n``; default: one more than the largest index of the ``INcue``
        (``INcont``) rows. Rows of the other populations must name indices below these
        sizes: an output row naming cue 7 of a 5-cue memory is refused, never a reason to
        widen the network.
    backend : str
        Spiking backend name.
    duration : float, optional
        Simulated time (ms); default: last input spike + 10 ms.
    params : CA3Params, optional
        Network parameters (the paper's by default).

    Returns
    -------
    Trace
        Every population's spikes, inputs included.

    Raises
    ------
    ConfigError
        No input spikes, sizes smaller than the input rows need, a row of another population
        naming a neuron beyond those sizes, a network too large for this machine's memory, or
        a bad or too long duration (more than :data:`~neuromem.ca3.network.MAX_DURATION_MS`,
        e.g. a spike time of 10**12 ms).
    """
    from neuromem.spiking import run

    if not isinstance(trace, Trace):
        raise TypeError(f"trace: expected a Trace, got {type(trace).__name__}")
    c = trace.max_index(("INcue",)) + 1 if n_cues is None else n_cues
    n = trace.max_index(("INcont",)) + 1 if n_content is None else n_content
    sizes = {}
    for name, val, given, src, pops in (
        ("--cues", c, n_cues is not None, "INcue", CUE_POPS),
        ("--content", n, n_content is not None, "INcont", CONTENT_POPS),
    ):
        seen = trace.max_index((src,)) + 1
        if val == 0 and not given:
            val = 1  # no input rows in this population: one idle neuron
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise ConfigError(f"{name}: expected a positive integer, got {val!r}")
        if val < seen:
            raise ConfigError(f"{name}: {val} is smaller than the trace needs ({seen})")
        origin = name if given else f"the {src} rows"
        for lab in pops:
            top = trace.max_index((lab,))
            if top >= val:
                raise ConfigError(
                    f"trace: {lab} names neuron {top} but the memory has {int(val)} "
                    f"(from {origin}); the trace does not belong to this memory"
                )
        sizes[name] = int(val)
    c, n = sizes["--cues"], sizes["--content"]
    try:
        check_network_size(c, n, "--cues, --content")
    except ValueError as e:
        raise ConfigError(str(e)) from None
    t_cue, i_cue = trace.get("INcue")
    t_con, i_con = trace.get("INcont")
    last_in = max(int(t_cue.max(initial=-1)), int(t_con.max(initial=-1)))
    if last_in < 0:
        raise ConfigError("trace: no INcue/INcont rows to replay")
    if last_in + 10 > MAX_DURATION_MS:
        raise ConfigError(
            f"trace: an input spike at {last_in} ms; one CA3 replay simulates at most "
            f"{MAX_DURATION_MS} ms"
        )
    if duration is None:
        duration = float(last_in + 10)
    if not (isinstance(duration, (int, float)) and math.isfinite(duration) and duration > 0):
        raise ConfigError(f"--duration: expected a positive number of ms, got {duration!r}")
    if duration > MAX_DURATION_MS:
        raise ConfigError(
            f"--duration: {duration} ms is more than one CA3 replay may simulate "
            f"({MAX_DURATION_MS} ms, about ten seconds of computing)"
        )
    cue_times = [t_cue[i_cue == k].astype(float) for k in range(int(c))]
    con_times = [t_con[i_con == k].astype(float) for k in range(int(n))]
    net = build_network(int(c), int(n), cue_times, con_times, params)
    res = run(net, float(duration), backend=backend, **backend_options)
    return trace_from_result(res)


@dataclass
class Comparison:
    """Per-population comparison of two traces.

    Attributes
    ----------
    counts : dict
        ``label -> (spikes in A, spikes in B, only in A, only in B)``.
    only_a, only_b : list
        ``(time, population, neuron)`` rows present in one trace only.
    """

    counts: dict
    only_a: list
    only_b: list

    @property
    def identical(self) -> bool:
        """True when both traces hold exactly the same spikes."""
        return not self.only_a and not self.only_b

    def report(self) -> str:
        """A human-readable table (per population counts, then every mismatch)."""
        lines = [f"{'population':<20} {'A':>6} {'B':>6} {'only A':>7} {'only B':>7}"]
        for lab, (na, nb, oa, ob) in self.counts.items():
            lines.append(f"{lab:<20} {na:>6} {nb:>6} {oa:>7} {ob:>7}")
        for tag, rows in (("only in A", self.only_a), ("only in B", self.only_b)):
            for r in rows:
                lines.append(f"{tag}: t={r[0]} {r[1]}[{r[2]}]")
        lines.append("identical" if self.identical else "DIFFERENT")
        return "\n".join(lines)


def compare(a: Trace, b: Trace) -> Comparison:
    """Compare two traces spike for spike (same time, same population, same neuron)."""
    sa, sb = set(a.rows()), set(b.rows())
    counts = {}
    for lab in POPULATIONS:
        ra = {r for r in sa if r[1] == lab}
        rb = {r for r in sb if r[1] == lab}
        counts[lab] = (len(ra), len(rb), len(ra - rb), len(rb - ra))
    rank = {lab: k for k, lab in enumerate(POPULATIONS)}

    def key(r):
        return (r[0], rank[r[1]], r[2])

    return Comparison(counts, sorted(sa - sb, key=key), sorted(sb - sa, key=key))
