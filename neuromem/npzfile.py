"""One file format for saved models and memories: a ``.npz`` archive with a JSON header.

The archive holds ``__header__`` (JSON: ``kind``, ``format_version`` when the caller versions
the file here, and ``meta``, the caller's JSON data) beside named arrays. :func:`write` writes
it atomically (a temporary file renamed into place: a failed write leaves nothing half-written);
:func:`read` checks the kind and version and names ``path`` in every error. Used by
:meth:`neuromem.memory.Memory.save`, :meth:`neuromem.ca3.CA3Memory.save` and
:meth:`neuromem.pmi.PMIState.save`. Bottom layer: imports no other part of neuromem.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["write", "read", "read_kind", "npz_path", "write_arrays", "read_arrays", "find"]


def npz_path(path: str | os.PathLike) -> Path:
    """``path`` with ``.npz`` added when it has another suffix (as :func:`numpy.savez`)."""
    p = Path(path)
    return p if p.suffix == ".npz" else p.with_name(p.name + ".npz")


def find(path: str | os.PathLike) -> Path:
    """The file ``path`` names: ``path`` itself, else ``path`` with ``.npz`` added (the name
    :func:`write` and :func:`numpy.savez` give it).

    Raises
    ------
    FileNotFoundError
        Neither exists (the message names ``path``).
    """
    p = Path(path)
    if not p.is_file() and npz_path(p).is_file():
        p = npz_path(p)
    if not p.is_file():
        raise FileNotFoundError(f"path: no such file: {p}")
    return p


def write_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to ``path`` (``.npz`` added) atomically, without a header.

    For formats that keep their own header arrays (the tensor-brain models). The file is
    written to a temporary name in the same folder and renamed into place, so a failed
    write leaves nothing half-written. Returns the path written.

    Raises
    ------
    FileNotFoundError
        The folder of ``path`` does not exist.
    """
    p = npz_path(path)
    if not p.parent.is_dir():
        raise FileNotFoundError(f"path: folder {p.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".npz")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def read_arrays(path: str | os.PathLike, what: str) -> tuple[Path, dict[str, np.ndarray]]:
    """Every array of the ``.npz`` file ``path`` (``.npz`` tried too), loaded in memory.

    Returns ``(file, arrays)``. A missing file raises :class:`FileNotFoundError`; an empty,
    truncated or otherwise unreadable file (or one holding pickled objects) raises
    :class:`ValueError` naming the file and ``what`` it should be.
    """
    p = find(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001 - any failure to read is a corrupt file
        raise ValueError(f"path: {p} is not {what} (unreadable: {e})") from None
    return p, arrays


def write(
    path: str | os.PathLike,
    kind: str,
    meta: dict,
    arrays: dict[str, np.ndarray],
    version: int | None = None,
) -> Path:
    """Write ``arrays`` and the header to ``path`` (``.npz`` added) atomically; return the path.

    Raises
    ------
    FileNotFoundError
        The folder of ``path`` does not exist.
    TypeError
        ``meta`` is not JSON data.
    """
    p = npz_path(path)
    if not p.parent.is_dir():
        raise FileNotFoundError(f"path: folder {p.parent} does not exist")
    header = {"kind": kind, "meta": meta}
    if version is not None:
        header["format_version"] = version
    text = json.dumps(header)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".npz")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, __header__=np.array(text), **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def _header(path: str | os.PathLike, what: str) -> tuple[Path, dict, dict[str, np.ndarray]]:
    """The file (``.npz`` tried too), its header and its arrays; errors name ``path``."""
    p, arrays = read_arrays(path, what)
    if "__header__" not in arrays:
        raise ValueError(f"path: {p} is not {what} (no header)")
    try:
        header = json.loads(str(arrays.pop("__header__")))
    except ValueError as e:
        raise ValueError(f"path: {p} is not {what} (corrupt header: {e})") from None
    return p, header, arrays


def read_kind(path: str | os.PathLike, what: str = "a neuromem file") -> str | None:
    """The ``kind`` a file written by :func:`write` holds (None when its header has none)."""
    _, header, _ = _header(path, what)
    return header.get("kind") if isinstance(header, dict) else None


def read(
    path: str | os.PathLike, kind: str, what: str, version: int | None = None
) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a file written by :func:`write`; return ``(meta, arrays)``.

    Parameters
    ----------
    kind : str
        The kind the file must hold.
    what : str
        How errors name the file (``"a CA3 memory file"``).
    version : int, optional
        The format version the file must have (not checked when None).

    Raises
    ------
    FileNotFoundError
        No such file (``.npz`` is tried too).
    ValueError
        Not an archive with a header, another kind, or another format version.
    """
    p, header, arrays = _header(path, what)
    if not isinstance(header, dict) or header.get("kind") != kind:
        got = header.get("kind") if isinstance(header, dict) else None
        raise ValueError(f"path: {p} is not {what} (it holds {got!r})")
    if version is not None and header.get("format_version") != version:
        raise ValueError(
            f"path: {p} has format version {header.get('format_version')!r}; "
            f"this neuromem reads version {version}"
        )
    meta = header.get("meta")
    return (meta if isinstance(meta, dict) else {}), arrays
