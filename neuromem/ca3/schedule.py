"""Schedules of CA3 operations: one simulation for a whole list of learns and recalls.

A schedule is a CSV file with the header ``t_ms,op,cue,content`` and one operation per line:

* ``t_ms``: start of the operation (ms, a whole number >= 0), the time of its first input
  spike;
* ``op``: ``learn`` (cue and content held on 3 consecutive steps), ``recall_cue`` (one spike of
  the cue) or ``recall_content`` (one spike of each fragment bit);
* ``cue``: the cue's index (learn, recall_cue) or empty (recall_content);
* ``content``: a string of ``0``/``1`` of length ``n`` (learn: the pattern; recall_content:
  the fragment; both with at least one ``1``) or empty (recall_cue).

Operations are in time order, each no sooner than the previous one's minimum spacing (learn
7 ms, recall 6 ms, plus the memory's ``read_lag``). Blank lines and lines whose first field
starts with ``#`` are skipped. :func:`read_schedule` reads and checks a file,
:meth:`CA3Memory.run_schedule <neuromem.ca3.CA3Memory.run_schedule>` runs it,
:func:`write_operations` writes what the output answered and :func:`schedule_from_trace`
turns the input rows of a recording back into its schedule.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuromem.errors import ConfigError, DataNotFoundError

from .memory import LEARN_SPACING, LEARN_STEPS, RECALL_SPACING
from .network import MAX_DURATION_MS

__all__ = [
    "KINDS",
    "SCHEDULE_HEADER",
    "OPERATIONS_HEADER",
    "ScheduledOp",
    "check_schedule",
    "read_schedule",
    "write_schedule",
    "schedule_from_trace",
    "expected_answers",
    "write_operations",
    "write_results",
]

#: operation kinds of a schedule
KINDS = ("learn", "recall_cue", "recall_content")
#: header of a schedule CSV file
SCHEDULE_HEADER = ("t_ms", "op", "cue", "content")
#: header of the ``operations.csv`` written by :func:`write_operations`
OPERATIONS_HEADER = (
    "t_ms",
    "op",
    "cue",
    "content",
    "out_cues",
    "out_content",
    "expected_cues",
    "expected_content",
    "ok",
)


@dataclass
class ScheduledOp:
    """One operation of a schedule (before it is run).

    Attributes
    ----------
    t : int
        Start (ms): the first input spike.
    kind : {"learn", "recall_cue", "recall_content"}
    cue : int or None
    content : ndarray of bool or None
    where : str
        Where it came from, for error messages (``"FILE: line 4"``; empty: ``ops[k]``).
    """

    t: int
    kind: str
    cue: int | None = None
    content: np.ndarray | None = None
    where: str = field(default="", compare=False)

    @property
    def spacing(self) -> int:
        """Minimum time (ms) from this operation's start to the next one's (no read lag)."""
        return LEARN_SPACING if self.kind == "learn" else RECALL_SPACING

    @property
    def input_steps(self) -> list[int]:
        """The steps on which this operation's input spikes are given."""
        return list(range(self.t, self.t + LEARN_STEPS)) if self.kind == "learn" else [self.t]


def _content_str(bits) -> str:
    return "" if bits is None else "".join("1" if b else "0" for b in bits)


def _as_op(k: int, op) -> ScheduledOp:
    if isinstance(op, ScheduledOp):
        return ScheduledOp(op.t, op.kind, op.cue, op.content, op.where or f"ops[{k}]")
    if isinstance(op, dict):
        unknown = set(op) - {"t_ms", "t", "op", "kind", "cue", "content"}
        if unknown:
            raise ValueError(f"ops[{k}]: unknown keys {sorted(unknown)}")
        t = op.get("t_ms", op.get("t"))
        kind = op.get("op", op.get("kind"))
        return ScheduledOp(t, kind, op.get("cue"), op.get("content"), f"ops[{k}]")
    if isinstance(op, (tuple, list)) and len(op) == 4:
        return ScheduledOp(op[0], op[1], op[2], op[3], f"ops[{k}]")
    raise TypeError(
        f"ops[{k}]: expected a ScheduledOp, a (t_ms, op, cue, content) tuple or a dict, "
        f"got {type(op).__name__}"
    )


def _bits(where: str, content, n: int) -> np.ndarray:
    if isinstance(content, str):
        if len(content) != n or set(content) - {"0", "1"}:
            raise ValueError(
                f"{where}: content must be a string of 0/1 of length {n}, got {content!r}"
            )
        return np.array([c == "1" for c in content], bool)
    a = np.asarray(content)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{where}: content must have length {n}, got shape {a.shape}")
    if a.dtype == bool:
        return a.copy()
    if not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"{where}: content must be 0/1 numbers, got dtype {a.dtype}")
    if not np.all(np.isfinite(a)) or not np.all((a == 0) | (a == 1)):
        raise ValueError(f"{where}: content must be binary (0/1)")
    return a.astype(bool)


def check_schedule(
    ops, n_cues: int, n_content: int, read_lag: int = 0, start: int = 0
) -> list[ScheduledOp]:
    """Check a schedule against a memory of ``n_cues`` cues and ``n_content`` bits.

    Parameters
    ----------
    ops : sequence
        :class:`ScheduledOp`, ``(t_ms, op, cue, content)`` tuples or dicts with those keys.
    n_cues, n_content : int
        The memory's sizes.
    read_lag : int
        Extra ms after each operation's minimum spacing (the memory's ``read_lag``).
    start : int
        Earliest start of the first operation (ms).

    Returns
    -------
    list of ScheduledOp
        With ``t`` and ``cue`` as ints and ``content`` as bool arrays (None where none).

    Raises
    ------
    ValueError, TypeError
        The first bad operation, named by ``where`` (file and line) or ``ops[k]``: unknown
        kind, time not a whole number >= ``start``, cue out of range or missing, content of
        the wrong length, not binary or without an active bit, a cue or content the kind does
        not take, an operation closer to the previous one than its minimum spacing; or an
        empty schedule, or one simulating more than
        :data:`~neuromem.ca3.network.MAX_DURATION_MS`.
    """
    if isinstance(ops, (str, bytes)) or not hasattr(ops, "__iter__"):
        raise TypeError(f"ops: expected a sequence of operations, got {type(ops).__name__}")
    out: list[ScheduledOp] = []
    prev: ScheduledOp | None = None
    for k, raw in enumerate(ops):
        op = _as_op(k, raw)
        w = op.where
        if op.kind not in KINDS:
            raise ValueError(f"{w}: op must be one of {', '.join(KINDS)}, got {op.kind!r}")
        t = op.t
        if isinstance(t, (float, np.floating)) and math.isfinite(t) and t == int(t):
            t = int(t)
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise TypeError(f"{w}: t_ms must be a whole number of ms, got {op.t!r}")
        t = int(t)
        if t < 0:
            raise ValueError(f"{w}: t_ms must be >= 0, got {t}")
        if t + LEARN_SPACING + read_lag + 1 > MAX_DURATION_MS:
            raise ValueError(
                f"{w}: t_ms={t} is beyond what one CA3 simulation may run ({MAX_DURATION_MS} ms)"
            )
        cue = op.cue
        if op.kind == "recall_content":
            if cue is not None:
                raise ValueError(f"{w}: recall_content takes no cue, got {cue!r}")
        else:
            if cue is None:
                raise ValueError(f"{w}: {op.kind} needs a cue")
            if isinstance(cue, bool) or not isinstance(cue, (int, np.integer)):
                raise TypeError(f"{w}: cue must be an int, got {type(cue).__name__}")
            if not 0 <= cue < n_cues:
                raise ValueError(f"{w}: cue {cue} out of range [0, {n_cues})")
            cue = int(cue)
        content = op.content
        if op.kind == "recall_cue":
            if content is not None and not (isinstance(content, str) and content == ""):
                raise ValueError(f"{w}: recall_cue takes no content")
            content = None
        else:
            if content is None or (isinstance(content, str) and content == ""):
                raise ValueError(f"{w}: {op.kind} needs a content of {n_content} bits")
            content = _bits(w, content, n_content)
            if not content.any():
                what = "pattern" if op.kind == "learn" else "fragment"
                raise ValueError(f"{w}: the {what} has no active bit")
        if prev is None:
            if t < start:
                raise ValueError(
                    f"{w}: t_ms={t} is before the memory's earliest start ({start} ms)"
                )
        else:
            need = prev.t + prev.spacing + read_lag
            if t < need:
                raise ValueError(
                    f"{w}: t_ms={t} is closer to the {prev.kind} at {prev.t} ms ({prev.where}) "
                    f"than its minimum spacing ({prev.spacing + read_lag} ms: no sooner "
                    f"than {need} ms)"
                )
        cur = ScheduledOp(t, op.kind, cue, content, w)
        out.append(cur)
        prev = cur
    if not out:
        raise ValueError("ops: the schedule has no operation")
    return out


def read_schedule(
    path: str | os.PathLike, n_cues: int, n_content: int, read_lag: int = 0
) -> list[ScheduledOp]:
    """Read and check a schedule CSV (see the module's description of the format).

    Raises
    ------
    DataNotFoundError
        No such file.
    ConfigError
        A binary file, a wrong header, a line without 4 fields, a time or cue that is not a
        number, and everything :func:`check_schedule` refuses; the message names the file
        and the line.
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"FILE: schedule not found: {p}")
    ops = []
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != SCHEDULE_HEADER:
                raise ConfigError(
                    f"{p}: line 1: expected header {','.join(SCHEDULE_HEADER)}, got {header}"
                )
            for row in reader:
                ln = reader.line_num
                if not row or all(not x.strip() for x in row) or row[0].lstrip().startswith("#"):
                    continue
                where = f"{p}: line {ln}"
                if len(row) != 4:
                    raise ConfigError(f"{where}: expected 4 fields, got {len(row)}: {row}")
                ts, kind, cs, content = (x.strip() for x in row)
                try:
                    tf = float(ts)
                except ValueError:
                    raise ConfigError(f"{where}: t_ms must be a number, got {ts!r}") from None
                if not math.isfinite(tf) or tf != int(tf):
                    raise ConfigError(f"{where}: t_ms must be a whole number of ms, got {ts!r}")
                if cs == "":
                    cue = None
                else:
                    try:
                        cue = int(cs)
                    except ValueError:
                        raise ConfigError(f"{where}: cue must be an integer, got {cs!r}") from None
                ops.append(ScheduledOp(int(tf), kind, cue, content or None, where))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not a text CSV file ({e.reason})") from None
    except csv.Error as e:
        raise ConfigError(f"{p}: not a CSV file ({e})") from None
    if not ops:
        raise ConfigError(f"{p}: the schedule has no operation")
    try:
        return check_schedule(ops, n_cues, n_content, read_lag=read_lag)
    except (ValueError, TypeError) as e:
        raise ConfigError(str(e)) from None


def _atomic_csv(path: Path, header, rows) -> Path:
    """Write a CSV next to ``path`` under a temporary name; returns the temporary file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        os.chmod(tmp, 0o644)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_schedule(path: str | os.PathLike, ops) -> None:
    """Write ``ops`` (:class:`ScheduledOp` or anything :func:`check_schedule` takes, not
    checked against sizes here) as a schedule CSV, atomically."""
    p = Path(path)
    rows = []
    for k, raw in enumerate(ops):
        op = _as_op(k, raw)
        content = op.content
        if content is not None and not isinstance(content, str):
            content = _content_str(np.asarray(content, bool))
        rows.append((int(op.t), op.kind, "" if op.cue is None else int(op.cue), content or ""))
    os.replace(_atomic_csv(p, SCHEDULE_HEADER, rows), p)


def schedule_from_trace(trace, n_content: int | None = None) -> list[ScheduledOp]:
    """The schedule whose input spikes are the ``INcue``/``INcont`` rows of ``trace``.

    ``n_content`` is the length of the contents (default: one more than the largest
    ``INcont`` index).

    Each group of input spikes is read as an operation: a cue spiking on 3 consecutive steps
    with the same content bits on each is a learn; one cue spike alone is a recall by cue;
    content spikes alone on one step are a recall by content.

    Raises
    ------
    ValueError
        Input rows that are no such operation (e.g. a cue held 2 steps, two cues at once, a
        content changing within a learn), named by time.
    """
    from .trace import Trace

    if not isinstance(trace, Trace):
        raise TypeError(f"trace: expected a Trace, got {type(trace).__name__}")
    seen = trace.max_index(("INcont",)) + 1
    n = max(seen, 1) if n_content is None else int(n_content)
    if n < max(seen, 1):
        raise ValueError(f"n_content: {n} is smaller than the trace needs ({max(seen, 1)})")
    per_step: dict[int, tuple[set, set]] = {}
    for label, slot in (("INcue", 0), ("INcont", 1)):
        t, i = trace.get(label)
        for a, b in zip(t.tolist(), i.tolist()):
            per_step.setdefault(a, (set(), set()))[slot].add(b)
    steps = sorted(per_step)
    ops: list[ScheduledOp] = []
    k = 0
    while k < len(steps):
        t = steps[k]
        cues, bits = per_step[t]
        where = f"trace: input at {t} ms"
        if len(cues) > 1:
            raise ValueError(f"{where}: {len(cues)} cues at once ({sorted(cues)})")

        def content(b):
            v = np.zeros(n, bool)
            v[sorted(b)] = True
            return v

        if not cues:
            ops.append(ScheduledOp(t, "recall_content", None, content(bits), where))
            k += 1
            continue
        run = [t]
        while (
            len(run) < LEARN_STEPS
            and k + len(run) < len(steps)
            and steps[k + len(run)] == t + len(run)
            and per_step[t + len(run)][0] == cues
        ):
            run.append(t + len(run))
        if len(run) == LEARN_STEPS and bits:
            for s in run[1:]:
                if per_step[s][1] != bits:
                    raise ValueError(f"{where}: the content changes within the learn at {s} ms")
            ops.append(ScheduledOp(t, "learn", next(iter(cues)), content(bits), where))
            k += LEARN_STEPS
        elif len(run) == 1 and not bits:
            ops.append(ScheduledOp(t, "recall_cue", next(iter(cues)), None, where))
            k += 1
        else:
            raise ValueError(
                f"{where}: a cue held {len(run)} step(s) with {len(bits)} content bit(s) is "
                f"neither a learn ({LEARN_STEPS} steps with content) nor a recall by cue "
                "(1 step, no content)"
            )
    if not ops:
        raise ValueError("trace: no INcue/INcont rows")
    return ops


def expected_answers(ops) -> list[tuple[list[int], np.ndarray | None, bool]]:
    """What an ideal content-addressable memory answers to each of ``ops`` (run or not).

    For each operation: the expected cues, the expected content (None where not checked)
    and whether the answer read at the output (``out_cues``/``out_content`` of a run
    :class:`~neuromem.ca3.memory.Operation`) is right:

    * learn: the cue alone, and every bit of the pattern (older bits may still echo);
    * recall_cue: the cue alone and exactly the pattern last learned under it (nothing for a
      cue never learned);
    * recall_content: exactly the cues whose last learned pattern shares an active bit with
      the fragment (the content output echoes the fragment and is not checked).
    """
    stored: dict[int, np.ndarray] = {}
    out = []
    for op in ops:
        got_cues = list(getattr(op, "out_cues", []))
        got_bits = getattr(op, "out_content", None)
        if op.kind == "learn":
            p = np.asarray(op.content, bool)
            stored[op.cue] = p
            ok = got_cues == [op.cue] and got_bits is not None and bool(np.all(got_bits[p]))
            out.append(([op.cue], p, ok))
        elif op.kind == "recall_cue":
            p = stored.get(op.cue)
            n = len(got_bits) if got_bits is not None else 0
            exp = p if p is not None else np.zeros(n, bool)
            if p is None:
                ok = got_cues == [op.cue] and got_bits is not None and not got_bits.any()
            else:
                ok = got_cues == [op.cue] and np.array_equal(got_bits, p)
            out.append(([op.cue], exp, bool(ok)))
        else:
            frag = np.asarray(op.content, bool)
            exp = sorted(c for c, p in stored.items() if np.any(p & frag))
            out.append((exp, None, got_cues == exp))
    return out


def write_operations(path: str | os.PathLike, ops) -> None:
    """Write run operations (:class:`~neuromem.ca3.memory.Operation`) as ``operations.csv``.

    Columns :data:`OPERATIONS_HEADER`: the operation (``t_ms``, ``op``, ``cue``, ``content``
    as in the schedule), what the output answered (``out_cues``: cue indices separated by
    spaces; ``out_content``: 0/1 string), what an ideal memory answers
    (:func:`expected_answers`; ``expected_content`` empty for recall by content) and ``ok``
    (1 or 0). Written atomically.
    """
    p = Path(path)
    os.replace(_atomic_csv(p, OPERATIONS_HEADER, operation_rows(ops)), p)


def operation_rows(ops) -> list[tuple]:
    """The rows :func:`write_operations` writes."""
    rows = []
    for op, (ec, eb, ok) in zip(ops, expected_answers(ops)):
        rows.append(
            (
                op.t,
                op.kind,
                "" if op.cue is None else op.cue,
                "" if op.kind == "recall_cue" else _content_str(op.content),
                " ".join(str(c) for c in op.out_cues),
                _content_str(op.out_content),
                " ".join(str(c) for c in ec),
                _content_str(eb),
                int(ok),
            )
        )
    return rows


def write_results(folder: str | os.PathLike, ops, trace) -> int:
    """Write ``folder/operations.csv`` (:func:`write_operations`) and ``folder/spikes.csv``
    (``trace`` in the recordings' format); returns how many operations are ``ok``.

    The folder is made if absent (its parent must exist). Both files are written under
    temporary names first and renamed into place only when both are complete, so a failure
    leaves nothing half-written (and earlier files of those names as they were).
    """
    from .trace import HEADER

    d = Path(folder)
    d.mkdir(exist_ok=True)
    rows = operation_rows(ops)
    tmps = []
    try:
        tmps.append(_atomic_csv(d / "operations.csv", OPERATIONS_HEADER, rows))
        tmps.append(_atomic_csv(d / "spikes.csv", HEADER, trace.rows()))
        os.replace(tmps[0], d / "operations.csv")
        os.replace(tmps[1], d / "spikes.csv")
    finally:
        for t in tmps:
            t.unlink(missing_ok=True)
    return sum(r[-1] for r in rows)
