"""Sparse distributed representations (SDRs): the code types and similarity maths shared by models.

Two representations are provided:

:class:`SDR`
    A plain sparse binary code: a sorted array of unique active indices over ``size`` units.
:class:`ModularCode`
    A Sparsey-style code: ``Q`` competitive modules (CMs) of ``K`` cells each, exactly one
    winner per module. Its flat SDR has the active indices ``q * K + winners[q]``.

Similarity
----------
* overlap: number of active units two codes share, ``|a ∩ b|``;
* Jaccard: ``|a ∩ b| / |a ∪ b|`` (1.0 for two empty codes);
* code similarity of modular codes: the fraction of modules whose winners agree.

Batch versions (:func:`pairwise_overlap`, :func:`pairwise_jaccard`,
:func:`pairwise_code_similarity`) are Numba kernels over many codes at once.

Chance levels
-------------
Two codes with ``a`` and ``b`` active units drawn uniformly at random among ``size`` share a
hypergeometric number of units, ``P(k) = C(a, k) C(size - a, b - k) / C(size, b)`` with mean
``a b / size``. Two random modular codes agree in each module independently with probability
``1 / K``: their overlap is binomial ``B(Q, 1/K)`` with mean ``Q / K``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numba import njit
from scipy import stats

from neuromem._resources import check_memory
from neuromem.rng import as_generator

__all__ = [
    "SDR",
    "ModularCode",
    "overlap",
    "jaccard",
    "code_similarity",
    "pairwise_overlap",
    "pairwise_jaccard",
    "pairwise_code_similarity",
    "paired_overlap",
    "stack_sdrs",
    "stack_codes",
    "overlap_pmf",
    "expected_overlap",
    "prob_overlap_at_least",
    "modular_overlap_pmf",
    "expected_modular_overlap",
    "prob_modular_overlap_at_least",
    "validate_indices",
]


# --------------------------------------------------------------------------- validation
def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def validate_indices(indices, size: int, name: str = "indices") -> np.ndarray:
    """Check active indices and return them as a sorted ``int64`` array.

    Parameters
    ----------
    indices : array_like of int
        Active unit indices (any order).
    size : int
        Number of units; every index must lie in ``[0, size)``.
    name : str
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray
        Sorted, unique ``int64`` indices.

    Raises
    ------
    TypeError
        If ``indices`` is not an integer array.
    ValueError
        If ``indices`` is not one-dimensional, has duplicates or is out of range.
    """
    size = _check_positive_int(size, "size", minimum=0)
    arr = np.asarray(indices)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    out = np.sort(arr.astype(np.int64))
    if out[0] < 0 or out[-1] >= size:
        raise ValueError(
            f"{name} must lie in [0, {size}), got values from {int(out[0])} to {int(out[-1])}"
        )
    if np.any(out[1:] == out[:-1]):
        raise ValueError(f"{name} must be unique, got repeated values")
    return out


def _dense_to_bool(dense, name: str) -> np.ndarray:
    arr = np.asarray(dense)
    if arr.dtype != bool:
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise TypeError(f"{name} must be a boolean or numeric array, got {arr.dtype}")
        if np.issubdtype(arr.dtype, np.floating) and np.isnan(arr).any():
            raise ValueError(f"{name} contains NaN")
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must be binary (0/1), got other values")
        arr = arr.astype(bool)
    return arr


# --------------------------------------------------------------------------- SDR
class SDR:
    """A sparse binary code: sorted unique active indices over ``size`` units.

    Parameters
    ----------
    indices : array_like of int
        Active unit indices; sorted and checked on construction.
    size : int
        Total number of units.

    Examples
    --------
    >>> a = SDR([1, 5, 9], size=16)
    >>> b = SDR([5, 9, 12], size=16)
    >>> a.overlap(b)
    2
    >>> round(a.jaccard(b), 3)
    0.5
    """

    __slots__ = ("_indices", "_size")

    def __init__(self, indices, size: int):
        self._size = _check_positive_int(size, "size", minimum=0)
        self._indices = validate_indices(indices, self._size)
        self._indices.setflags(write=False)

    @property
    def indices(self) -> np.ndarray:
        """Sorted active indices (read-only ``int64`` array)."""
        return self._indices

    @property
    def size(self) -> int:
        """Number of units."""
        return self._size

    @property
    def n_active(self) -> int:
        """Number of active units."""
        return int(self._indices.size)

    @property
    def sparsity(self) -> float:
        """Fraction of active units."""
        return self.n_active / self._size if self._size else 0.0

    def __len__(self) -> int:
        return self.n_active

    def __repr__(self) -> str:
        return f"SDR(size={self._size}, n_active={self.n_active})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, SDR):
            return NotImplemented
        return self._size == other._size and np.array_equal(self._indices, other._indices)

    def __hash__(self) -> int:
        return hash((self._size, self._indices.tobytes()))

    @classmethod
    def from_dense(cls, dense) -> SDR:
        """Build from a one-dimensional binary array (bool or 0/1)."""
        arr = _dense_to_bool(dense, "dense")
        if arr.ndim != 1:
            raise ValueError(f"dense must be one-dimensional, got shape {arr.shape}")
        return cls(np.flatnonzero(arr), arr.size)

    def to_dense(self, dtype=bool) -> np.ndarray:
        """Return the code as a dense array of length ``size``."""
        check_memory(float(self._size) * np.dtype(dtype).itemsize, f"size={self._size} (to_dense)")
        out = np.zeros(self._size, dtype=dtype)
        out[self._indices] = 1
        return out

    @classmethod
    def random(cls, size: int, n_active: int, rng: np.random.Generator) -> SDR:
        """Draw ``n_active`` distinct units uniformly among ``size``."""
        size = _check_positive_int(size, "size")
        n_active = _check_positive_int(n_active, "n_active", minimum=0)
        if n_active > size:
            raise ValueError(f"n_active must be <= size ({size}), got {n_active}")
        check_memory(32.0 * n_active, f"n_active={n_active} (SDR.random)")
        return cls(as_generator(rng, "rng").choice(size, size=n_active, replace=False), size)

    def _check_same_size(self, other: SDR) -> None:
        if not isinstance(other, SDR):
            raise TypeError(f"other must be an SDR, got {type(other).__name__}")
        if other._size != self._size:
            raise ValueError(f"codes have different sizes: {self._size} and {other._size}")

    def overlap(self, other: SDR) -> int:
        """Number of active units shared with ``other``."""
        self._check_same_size(other)
        return int(_intersect_count(self._indices, other._indices))

    def jaccard(self, other: SDR) -> float:
        """Intersection over union with ``other`` (1.0 when both are empty)."""
        self._check_same_size(other)
        inter = _intersect_count(self._indices, other._indices)
        union = self.n_active + other.n_active - inter
        return 1.0 if union == 0 else inter / union


# --------------------------------------------------------------------------- ModularCode
class ModularCode:
    """A Sparsey-style code: one winner in each of ``Q`` modules of ``K`` cells.

    Parameters
    ----------
    winners : array_like of int, shape (Q,)
        Winning cell of each module, in ``[0, K)``.
    K : int
        Cells per module (``K >= 2``).

    Examples
    --------
    >>> a = ModularCode([0, 3, 2, 1], K=4)
    >>> b = ModularCode([0, 3, 1, 1], K=4)
    >>> a.similarity(b)
    0.75
    >>> a.to_sdr().indices.tolist()
    [0, 7, 10, 13]
    """

    __slots__ = ("_winners", "_K")

    def __init__(self, winners, K: int):
        self._K = _check_positive_int(K, "K", minimum=2)
        w = np.asarray(winners)
        if w.ndim != 1 or w.size < 1:
            raise ValueError(f"winners must be a non-empty 1-D array (Q,), got shape {w.shape}")
        if w.dtype == bool or not np.issubdtype(w.dtype, np.integer):
            raise TypeError(f"winners must have an integer dtype, got {w.dtype}")
        if w.min() < 0 or w.max() >= self._K:
            raise ValueError(
                f"winners must lie in [0, K={self._K}), got values from {w.min()} to {w.max()}"
            )
        self._winners = w.astype(np.int64)
        self._winners.setflags(write=False)

    @property
    def winners(self) -> np.ndarray:
        """Winner of each module (read-only ``int64`` array of shape ``(Q,)``)."""
        return self._winners

    @property
    def Q(self) -> int:
        """Number of competitive modules."""
        return int(self._winners.size)

    @property
    def K(self) -> int:
        """Cells per module."""
        return self._K

    @property
    def size(self) -> int:
        """Total number of cells, ``Q * K``."""
        return self.Q * self._K

    def __repr__(self) -> str:
        return f"ModularCode(Q={self.Q}, K={self._K})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, ModularCode):
            return NotImplemented
        return self._K == other._K and np.array_equal(self._winners, other._winners)

    def __hash__(self) -> int:
        return hash((self._K, self._winners.tobytes()))

    @classmethod
    def random(cls, Q: int, K: int, rng: np.random.Generator) -> ModularCode:
        """Draw one winner per module uniformly."""
        Q = _check_positive_int(Q, "Q")
        K = _check_positive_int(K, "K", minimum=2)
        check_memory(24.0 * Q, f"Q={Q} (ModularCode.random)")
        return cls(as_generator(rng, "rng").integers(0, K, size=Q), K)

    @classmethod
    def from_sdr(cls, sdr: SDR, K: int) -> ModularCode:
        """Convert an SDR with exactly one active cell in each block of ``K`` cells."""
        K = _check_positive_int(K, "K", minimum=2)
        if sdr.size % K:
            raise ValueError(f"SDR size {sdr.size} is not a multiple of K={K}")
        Q = sdr.size // K
        modules = sdr.indices // K
        if sdr.n_active != Q or not np.array_equal(modules, np.arange(Q)):
            raise ValueError("the SDR must have exactly one active cell in each module")
        return cls(sdr.indices - modules * K, K)

    @classmethod
    def from_dense(cls, dense, K: int | None = None) -> ModularCode:
        """Build from a dense binary array of shape ``(Q, K)``, or flat ``(Q*K,)`` with ``K``."""
        arr = _dense_to_bool(dense, "dense")
        if arr.ndim == 1:
            if K is None:
                raise ValueError("K is required for a flat dense array")
            return cls.from_sdr(SDR.from_dense(arr), K)
        if arr.ndim != 2:
            raise ValueError(f"dense must have shape (Q, K) or (Q*K,), got {arr.shape}")
        if K is not None and arr.shape[1] != K:
            raise ValueError(f"dense has {arr.shape[1]} cells per module but K={K}")
        if not (arr.sum(axis=1) == 1).all():
            raise ValueError("dense must have exactly one active cell in each module (row)")
        return cls(arr.argmax(axis=1), arr.shape[1])

    def to_sdr(self) -> SDR:
        """The flat SDR with active indices ``q * K + winners[q]``."""
        return SDR(np.arange(self.Q) * self._K + self._winners, self.size)

    def to_dense(self, dtype=bool, flat: bool = False) -> np.ndarray:
        """Dense array of shape ``(Q, K)`` (or ``(Q*K,)`` when ``flat``)."""
        out = np.zeros((self.Q, self._K), dtype=dtype)
        out[np.arange(self.Q), self._winners] = 1
        return out.ravel() if flat else out

    def overlap(self, other: ModularCode) -> int:
        """Number of modules whose winners agree."""
        self._check_compatible(other)
        return int(np.count_nonzero(self._winners == other._winners))

    def similarity(self, other: ModularCode) -> float:
        """Fraction of modules whose winners agree, in ``[0, 1]``."""
        return self.overlap(other) / self.Q

    def _check_compatible(self, other: ModularCode) -> None:
        if not isinstance(other, ModularCode):
            raise TypeError(f"other must be a ModularCode, got {type(other).__name__}")
        if other.Q != self.Q or other.K != self.K:
            raise ValueError(
                f"codes have different shapes: Q={self.Q}, K={self.K} and Q={other.Q}, K={other.K}"
            )


# --------------------------------------------------------------------------- pair functions
def overlap(a: SDR | ModularCode, b: SDR | ModularCode) -> int:
    """Number of active units shared by two codes of the same kind."""
    return a.overlap(b)


def jaccard(a: SDR | ModularCode, b: SDR | ModularCode) -> float:
    """Jaccard similarity of two codes (modular codes are compared as flat SDRs)."""
    if isinstance(a, ModularCode):
        a = a.to_sdr()
    if isinstance(b, ModularCode):
        b = b.to_sdr()
    return a.jaccard(b)


def code_similarity(a: ModularCode, b: ModularCode) -> float:
    """Fraction of modules whose winners agree (Sparsey's code similarity)."""
    if not isinstance(a, ModularCode):
        raise TypeError(f"a must be a ModularCode, got {type(a).__name__}")
    return a.similarity(b)


# --------------------------------------------------------------------------- Numba kernels
@njit(cache=True)
def _intersect_count(a, b):
    i = 0
    j = 0
    n = 0
    while i < a.size and j < b.size:
        if a[i] == b[j]:
            n += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return n


@njit(cache=True)
def _pairwise_overlap_kernel(ind_a, len_a, ind_b, len_b):
    """Overlap matrix through an inverted index of ``b`` (unit -> codes holding it).

    Cost ~ sum over active units of a of the codes of b sharing that unit, i.e.
    ``n_a * n_b * a * b / size`` for random codes, instead of ``n_a * n_b * (a + b)`` for a
    merge of every pair.
    """
    na = ind_a.shape[0]
    nb = ind_b.shape[0]
    size = 0
    for c in range(nb):
        for j in range(len_b[c]):
            if ind_b[c, j] + 1 > size:
                size = ind_b[c, j] + 1
    counts = np.zeros(size + 1, dtype=np.int64)
    for c in range(nb):
        for j in range(len_b[c]):
            counts[ind_b[c, j] + 1] += 1
    for u in range(size):
        counts[u + 1] += counts[u]
    postings = np.empty(counts[size], dtype=np.int64)
    fill = counts[:size].copy()
    for c in range(nb):
        for j in range(len_b[c]):
            u = ind_b[c, j]
            postings[fill[u]] = c
            fill[u] += 1
    out = np.zeros((na, nb), dtype=np.int64)
    for r in range(na):
        for i in range(len_a[r]):
            u = ind_a[r, i]
            if u < size:
                for p in range(counts[u], counts[u + 1]):
                    out[r, postings[p]] += 1
    return out


@njit(cache=True)
def _pairwise_agree_kernel(wa, wb):
    na, q = wa.shape
    nb = wb.shape[0]
    out = np.zeros((na, nb), dtype=np.int64)
    for r in range(na):
        for c in range(nb):
            n = 0
            for m in range(q):
                if wa[r, m] == wb[c, m]:
                    n += 1
            out[r, c] = n
    return out


@njit(cache=True)
def _paired_overlap_kernel(ind_a, len_a, ind_b, len_b):
    n_pairs = ind_a.shape[0]
    out = np.zeros(n_pairs, dtype=np.int64)
    for r in range(n_pairs):
        i = 0
        j = 0
        n = 0
        while i < len_a[r] and j < len_b[r]:
            x = ind_a[r, i]
            y = ind_b[r, j]
            if x == y:
                n += 1
                i += 1
                j += 1
            elif x < y:
                i += 1
            else:
                j += 1
        out[r] = n
    return out


# --------------------------------------------------------------------------- batch API
def stack_sdrs(codes: Sequence[SDR]) -> tuple[np.ndarray, np.ndarray, int]:
    """Pack SDRs into a padded index matrix.

    Returns
    -------
    indices : numpy.ndarray, shape (n, max_active)
        Row ``r`` holds the sorted indices of code ``r`` followed by padding (-1).
    lengths : numpy.ndarray, shape (n,)
        Number of active units of each code.
    size : int
        The common size of the codes.
    """
    codes = list(codes)
    if not codes:
        raise ValueError("codes must hold at least one SDR")
    for i, c in enumerate(codes):
        if not isinstance(c, SDR):
            raise TypeError(f"codes[{i}] must be an SDR, got {type(c).__name__}")
    size = codes[0].size
    if any(c.size != size for c in codes):
        raise ValueError("codes must all have the same size")
    lengths = np.array([c.n_active for c in codes], dtype=np.int64)
    out = np.full((len(codes), max(int(lengths.max()), 1)), -1, dtype=np.int64)
    for r, c in enumerate(codes):
        out[r, : c.n_active] = c.indices
    return out, lengths, size


def stack_codes(codes: Sequence[ModularCode]) -> tuple[np.ndarray, int]:
    """Pack modular codes into a winner matrix of shape ``(n, Q)``; returns it and ``K``."""
    codes = list(codes)
    if not codes:
        raise ValueError("codes must hold at least one ModularCode")
    for i, c in enumerate(codes):
        if not isinstance(c, ModularCode):
            raise TypeError(f"codes[{i}] must be a ModularCode, got {type(c).__name__}")
    first = codes[0]
    if any(c.Q != first.Q or c.K != first.K for c in codes):
        raise ValueError("codes must all have the same Q and K")
    return np.stack([c.winners for c in codes]), first.K


def _as_sdr_batch(codes, name):
    if isinstance(codes, SDR):
        codes = [codes]
    if isinstance(codes, np.ndarray):
        arr = _dense_to_bool(codes, name)
        if arr.ndim != 2:
            raise ValueError(
                f"{name} as a dense array must be 2-D (n_codes, size), got {arr.shape}"
            )
        codes = [SDR.from_dense(row) for row in arr]
    return stack_sdrs(list(codes))


def _check_matrix(na: int, nb: int, size: int, copies: int) -> None:
    """Refuse an ``(na, nb)`` result (``copies`` float64/int64 matrices) that cannot fit."""
    check_memory(
        8.0 * (copies * float(na) * nb + 2 * size), f"a and b ({na} x {nb} codes of {size} units)"
    )


def pairwise_overlap(a: Iterable[SDR] | np.ndarray, b=None) -> np.ndarray:
    """Overlap matrix between two collections of SDRs (Numba kernel).

    Parameters
    ----------
    a : sequence of SDR, or dense binary array of shape (n_a, n_units)
    b : same as ``a``, optional
        Defaults to ``a`` (self-overlap matrix).

    Returns
    -------
    numpy.ndarray of int64, shape (n_a, n_b)
    """
    ia, la, sa = _as_sdr_batch(a, "a")
    if b is None:
        ib, lb, sb = ia, la, sa
    else:
        ib, lb, sb = _as_sdr_batch(b, "b")
    if sa != sb:
        raise ValueError(f"a and b have different code sizes: {sa} and {sb}")
    _check_matrix(len(la), len(lb), sa, 1)
    return _pairwise_overlap_kernel(ia, la, ib, lb)


def pairwise_jaccard(a, b=None) -> np.ndarray:
    """Jaccard matrix between two collections of SDRs (1.0 where both codes are empty)."""
    ia, la, sa = _as_sdr_batch(a, "a")
    if b is None:
        ib, lb, sb = ia, la, sa
    else:
        ib, lb, sb = _as_sdr_batch(b, "b")
    if sa != sb:
        raise ValueError(f"a and b have different code sizes: {sa} and {sb}")
    _check_matrix(len(la), len(lb), sa, 4)
    inter = _pairwise_overlap_kernel(ia, la, ib, lb).astype(np.float64)
    union = la[:, None] + lb[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def _as_winner_batch(codes, name, K=None):
    if isinstance(codes, ModularCode):
        codes = [codes]
    if isinstance(codes, np.ndarray):
        if codes.dtype == bool or not np.issubdtype(codes.dtype, np.integer):
            raise TypeError(f"{name} as an array must be integer winners (n, Q), got {codes.dtype}")
        if codes.ndim != 2:
            raise ValueError(f"{name} as an array must have shape (n_codes, Q), got {codes.shape}")
        if K is not None and codes.size and (codes.min() < 0 or codes.max() >= K):
            raise ValueError(f"{name} winners must lie in [0, K={K})")
        return np.ascontiguousarray(codes, dtype=np.int64), K
    return stack_codes(list(codes))


def pairwise_code_similarity(a, b=None, *, K: int | None = None) -> np.ndarray:
    """Code-similarity matrix (fraction of agreeing modules) between modular codes.

    Parameters
    ----------
    a : sequence of ModularCode, or integer winner array of shape (n_a, Q)
    b : same as ``a``, optional
        Defaults to ``a``.
    K : int, optional
        Cells per module; only used to range-check raw winner arrays.

    Returns
    -------
    numpy.ndarray of float64, shape (n_a, n_b)
    """
    wa, ka = _as_winner_batch(a, "a", K)
    if b is None:
        wb, kb = wa, ka
    else:
        wb, kb = _as_winner_batch(b, "b", K)
    if wa.shape[1] != wb.shape[1]:
        raise ValueError(f"a and b have different Q: {wa.shape[1]} and {wb.shape[1]}")
    if ka is not None and kb is not None and ka != kb:
        raise ValueError(f"a and b have different K: {ka} and {kb}")
    _check_matrix(len(wa), len(wb), 0, 2)
    return _pairwise_agree_kernel(wa, wb) / wa.shape[1]


def _as_index_rows(ind, name: str) -> np.ndarray:
    """A padded index batch (2-D integer array) as C-contiguous int64; errors name ``name``."""
    arr = np.asarray(ind)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if arr.size or arr.dtype == object:
            raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_codes, max_active), got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _as_lengths(lengths, rows: np.ndarray, name: str, rows_name: str) -> np.ndarray:
    """Row lengths checked against the rows they describe (count and width)."""
    arr = np.asarray(lengths)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if arr.size or arr.dtype == object:
            raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != rows.shape[0]:
        raise ValueError(
            f"{name} must hold one length per row of {rows_name} ({rows.shape[0]}), "
            f"got shape {arr.shape}"
        )
    arr = arr.astype(np.int64)
    width = rows.shape[1]
    if arr.size and (arr.min() < 0 or arr.max() > width):
        bad = int(np.flatnonzero((arr < 0) | (arr > width))[0])
        raise ValueError(
            f"{name}[{bad}] = {int(arr[bad])} is outside [0, {width}] "
            f"(the width of the rows of {rows_name})"
        )
    return np.ascontiguousarray(arr)


def _check_sorted_rows(rows: np.ndarray, lengths: np.ndarray, name: str) -> None:
    """The first ``lengths[r]`` entries of each row must be >= 0 and strictly increasing."""
    if rows.size == 0:
        return
    col = np.arange(rows.shape[1])
    used = col[None, :] < lengths[:, None]
    neg = used & (rows < 0)
    if neg.any():
        r = int(np.flatnonzero(neg.any(axis=1))[0])
        raise ValueError(f"{name}: row {r} holds a negative index among its active units")
    if rows.shape[1] > 1:
        both = used[:, 1:]  # entry j+1 active implies entry j active
        bad = both & (rows[:, 1:] <= rows[:, :-1])
        if bad.any():
            r = int(np.flatnonzero(bad.any(axis=1))[0])
            raise ValueError(
                f"{name}: row {r} is not sorted and unique (the rows must be as stack_sdrs "
                "returns them: ascending active indices, then padding)"
            )


def paired_overlap(ind_a, len_a, ind_b, len_b) -> np.ndarray:
    """Overlap of row ``r`` of one padded batch with row ``r`` of another (Numba kernel).

    The batches are as returned by :func:`stack_sdrs`; this is the fast path for sampling
    overlap distributions over many random pairs.

    Parameters
    ----------
    ind_a, ind_b : array_like of int, shape (n, width_a) and (n, width_b)
        Row ``r`` holds the active indices of code ``r`` in ascending order, then padding.
    len_a, len_b : array_like of int, shape (n,)
        Active units of each row, in ``[0, width]``.

    Returns
    -------
    numpy.ndarray of int64, shape (n,)

    Raises
    ------
    TypeError
        Non-integer arrays.
    ValueError
        Batches with different numbers of rows, a length array of another length than its
        batch, a length outside ``[0, width]``, or rows whose active part is not ascending
        and unique (the message names the argument and the first bad row).
    """
    ind_a = _as_index_rows(ind_a, "ind_a")
    ind_b = _as_index_rows(ind_b, "ind_b")
    if ind_a.shape[0] != ind_b.shape[0]:
        raise ValueError(
            f"ind_a and ind_b must have the same number of rows, got {ind_a.shape[0]} "
            f"and {ind_b.shape[0]}"
        )
    len_a = _as_lengths(len_a, ind_a, "len_a", "ind_a")
    len_b = _as_lengths(len_b, ind_b, "len_b", "ind_b")
    _check_sorted_rows(ind_a, len_a, "ind_a")
    _check_sorted_rows(ind_b, len_b, "ind_b")
    return _paired_overlap_kernel(ind_a, len_a, ind_b, len_b)


# --------------------------------------------------------------------------- analytic
def _check_counts(size, a, b):
    size = _check_positive_int(size, "size")
    a = _check_positive_int(a, "a", minimum=0)
    b = _check_positive_int(b, "b", minimum=0)
    if a > size:
        raise ValueError(f"a must be <= size ({size}), got {a}")
    if b > size:
        raise ValueError(f"b must be <= size ({size}), got {b}")
    return size, a, b


def _hypergeom_pmf(size: int, a: int, b: int) -> np.ndarray:
    """``P(k)``, ``k = 0 .. min(a, b)``, by the ratio ``P(k+1) / P(k)`` in log space.

    ``P(k+1) / P(k) = (a - k)(b - k) / ((k + 1)(size - a - b + k + 1))`` on the support
    ``k >= max(0, a + b - size)``; the log-ratios are summed and normalised. Linear in
    ``min(a, b)`` whatever ``size`` (scipy's per-point evaluation takes milliseconds per
    point for sizes of 10**12).
    """
    top = min(a, b)
    lo = max(0, a + b - size)
    out = np.zeros(top + 1)
    k = np.arange(lo, top, dtype=np.float64)
    log_ratio = np.log(a - k) + np.log(b - k) - np.log(k + 1.0) - np.log(size - a - b + k + 1.0)
    logp = np.concatenate(([0.0], np.cumsum(log_ratio)))
    logp -= logp.max()
    p = np.exp(logp)
    out[lo:] = p / p.sum()
    return out


def overlap_pmf(size: int, a: int, b: int | None = None) -> np.ndarray:
    """Probability mass of the overlap of two random SDRs (hypergeometric).

    Parameters
    ----------
    size : int
        Number of units.
    a, b : int
        Active units in each code (``b`` defaults to ``a``).

    Returns
    -------
    numpy.ndarray, shape (min(a, b) + 1,)
        ``pmf[k] = P(|x ∩ y| = k)``.

    Raises
    ------
    ValueError
        Counts out of range, or a ``min(a, b)`` whose arrays would not fit in memory.
    """
    size, a, b = _check_counts(size, a, a if b is None else b)
    check_memory(48.0 * (min(a, b) + 1), f"a={a}, b={b} (overlap_pmf)")
    return _hypergeom_pmf(size, a, b)


def expected_overlap(size: int, a: int, b: int | None = None) -> float:
    """Mean overlap of two random SDRs: ``a * b / size``."""
    size, a, b = _check_counts(size, a, a if b is None else b)
    return a * b / size


def prob_overlap_at_least(k: int, size: int, a: int, b: int | None = None) -> float:
    """Probability that two random SDRs share at least ``k`` active units."""
    size, a, b = _check_counts(size, a, a if b is None else b)
    k = _check_positive_int(k, "k", minimum=0)
    return float(stats.hypergeom(size, a, b).sf(k - 1))


def modular_overlap_pmf(Q: int, K: int) -> np.ndarray:
    """Probability mass of the number of agreeing modules of two random modular codes.

    Returns ``pmf`` of shape ``(Q + 1,)`` for the binomial ``B(Q, 1/K)``.
    """
    Q = _check_positive_int(Q, "Q")
    K = _check_positive_int(K, "K", minimum=2)
    check_memory(48.0 * (Q + 1), f"Q={Q} (modular_overlap_pmf)")
    return stats.binom(Q, 1.0 / K).pmf(np.arange(Q + 1))


def expected_modular_overlap(Q: int, K: int) -> float:
    """Mean number of agreeing modules of two random modular codes: ``Q / K``."""
    Q = _check_positive_int(Q, "Q")
    K = _check_positive_int(K, "K", minimum=2)
    return Q / K


def prob_modular_overlap_at_least(k: int, Q: int, K: int) -> float:
    """Probability that two random modular codes agree in at least ``k`` modules."""
    Q = _check_positive_int(Q, "Q")
    K = _check_positive_int(K, "K", minimum=2)
    k = _check_positive_int(k, "k", minimum=0)
    return float(stats.binom(Q, 1.0 / K).sf(k - 1))
