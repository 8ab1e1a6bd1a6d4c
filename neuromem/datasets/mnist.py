"""Reader for MNIST in its original IDX format (gzip-compressed or plain).

The IDX format (LeCun et al.): a big-endian header -- two zero bytes, a type code (``0x08`` for
unsigned bytes), the number of dimensions -- then one big-endian ``uint32`` per dimension, then
the data in C order. Images are ``(n, 28, 28)`` ``uint8``; labels ``(n,)`` ``uint8``.

No data ships with neuromem: pass the folder holding the files (``--data DIR``).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from neuromem.datasets import require_dir, require_file

__all__ = ["read_idx", "load_mnist", "balanced_split", "MNIST_FILES"]

#: file names of the two MNIST splits (gzip); plain files without ``.gz`` are read too
MNIST_FILES = {
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
}

_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (``.gz`` or plain) into a NumPy array.

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    numpy.ndarray
        The array with the shape from the header (native byte order).

    Raises
    ------
    neuromem.errors.DataNotFoundError
        If the file does not exist.
    ValueError
        If the header is malformed or the data length disagrees with it.
    """
    p = require_file(path, what="IDX file")
    opener = gzip.open if p.suffix == ".gz" else open
    try:
        with opener(p, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"path: cannot read {p}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"path: {p} is not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _DTYPES:
        raise ValueError(f"path: {p} has unknown IDX type code 0x{code:02x}")
    if ndim < 1 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"path: {p} has a truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _DTYPES[code]
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - offset != expected:
        raise ValueError(
            f"path: {p}: header says {shape} ({expected} bytes) but {len(raw) - offset} follow"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=offset).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def _find(folder: Path, name: str) -> Path:
    for cand in (folder / name, folder / name.removesuffix(".gz")):
        if cand.is_file():
            return cand
    return require_file(folder / name, what="MNIST file")


def load_mnist(folder: str | os.PathLike, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images and labels from a folder of IDX files.

    Parameters
    ----------
    folder : path
        Folder holding ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz`` (``split
        = "test"``) or the ``train-*`` files.
    split : {"test", "train"}
        Which files to read.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (n, 28, 28)
    labels : numpy.ndarray of uint8, shape (n,)

    Raises
    ------
    neuromem.errors.DataNotFoundError
        If the folder or a file is missing.
    ValueError
        Unknown split, or images and labels that do not match.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"split must be one of {', '.join(MNIST_FILES)}, got {split!r}")
    d = require_dir(folder, what="MNIST folder")
    img_name, lab_name = MNIST_FILES[split]
    images = read_idx(_find(d, img_name))
    labels = read_idx(_find(d, lab_name))
    if images.ndim != 3:
        raise ValueError(f"MNIST images must be 3-D (n, rows, cols), got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"MNIST labels {labels.shape} do not match images {images.shape} in {d}")
    return images, labels


def balanced_split(
    labels: np.ndarray,
    per_class: tuple[int, ...],
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Disjoint, class-balanced index subsets, e.g. a training and a test subset.

    Parameters
    ----------
    labels : array of int, shape (n,)
        Class of each item.
    per_class : tuple of int
        Items per class of each subset (e.g. ``(200, 500)``).
    rng : numpy.random.Generator
        Source of the random choice.

    Returns
    -------
    list of numpy.ndarray
        One sorted index array per subset; subsets never share an item.

    Raises
    ------
    ValueError
        If a class has fewer items than the subsets need together.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    per_class = tuple(int(k) for k in per_class)
    if any(k < 0 for k in per_class):
        raise ValueError(f"per_class must be non-negative, got {per_class}")
    need = sum(per_class)
    out: list[list[np.ndarray]] = [[] for _ in per_class]
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if idx.size < need:
            raise ValueError(
                f"per_class: class {c} has {idx.size} items, fewer than the {need} requested"
            )
        perm = rng.permutation(idx)
        start = 0
        for i, k in enumerate(per_class):
            out[i].append(perm[start : start + k])
            start += k
    return [np.sort(np.concatenate(parts)) for parts in out]
