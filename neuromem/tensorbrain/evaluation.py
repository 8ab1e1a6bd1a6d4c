"""Filtered ranking evaluation of link prediction (MRR, Hits@k), head and tail directions.

For a test triple ``(s, p, o)`` the *tail* query ``(s, p, ?)`` scores every entity as object;
the rank of ``o`` is counted among the candidates that are not other known true answers
(the *filtered* setting of Bordes et al. 2013: every ``o'`` with ``(s, p, o')`` in train,
valid or test is removed, except ``o`` itself). The *head* query ``(?, p, o)`` does the same
over subjects.

Ties are ranked *realistically*: the rank is the mean of the optimistic rank
``1 + #{k: score_k > score_o}`` and the pessimistic rank ``1 + #{k: score_k >= score_o, k != o}``,
i.e. the expected rank under a random order of tied candidates. A model that gives every
candidate the same score thus gets rank ``(N + 1) / 2``, not 1.

.. math::

    \\mathrm{MRR} = \\frac{1}{|Q|} \\sum_{q \\in Q} \\frac{1}{r_q}, \\qquad
    \\mathrm{Hits@}k = \\frac{1}{|Q|} \\sum_{q \\in Q} [r_q \\le k]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neuromem._resources import check_memory

from ._checks import check_int
from .kernels import filtered_ranks

__all__ = ["FilterIndex", "ranks_from_scores", "rank_metrics", "evaluate_ranking"]


class FilterIndex:
    """Known true answers of every ``(s, p, ?)`` and ``(?, p, o)`` query.

    Parameters
    ----------
    triples : ndarray of int, shape (n, 3)
        All known triples (usually train + valid + test).
    n_entities, n_relations : int
        Vocabulary sizes.
    """

    def __init__(self, triples, n_entities: int, n_relations: int):
        n_entities = check_int("n_entities", n_entities)
        n_relations = check_int("n_relations", n_relations)
        t = np.asarray(triples)
        if t.ndim != 2 or t.shape[1] != 3:
            raise ValueError(f"triples: expected shape (n, 3), got {t.shape}")
        if t.size and (t.dtype == bool or not np.issubdtype(t.dtype, np.integer)):
            raise TypeError(f"triples: expected integer ids, got dtype {t.dtype}")
        t = t.astype(np.int64)
        for col, n, what in ((0, n_entities, "subject"), (1, n_relations, "relation"),
                             (2, n_entities, "object")):  # fmt: skip
            if t.size and (t[:, col].min() < 0 or t[:, col].max() >= n):
                raise ValueError(f"triples: {what} ids must lie in [0, {n})")
        check_memory(
            32.0 * n_entities * n_relations,
            f"n_entities={n_entities} x n_relations={n_relations} (filter index)",
        )
        self.n_entities = int(n_entities)
        self.n_relations = int(n_relations)
        t = np.unique(t, axis=0)
        self._tail = self._csr(t[:, 0] * n_relations + t[:, 1], t[:, 2], n_entities * n_relations)
        self._head = self._csr(t[:, 2] * n_relations + t[:, 1], t[:, 0], n_entities * n_relations)

    @staticmethod
    def _csr(keys, vals, n_keys):
        order = np.argsort(keys, kind="stable")
        ptr = np.zeros(n_keys + 1, dtype=np.int64)
        np.add.at(ptr, keys + 1, 1)
        return np.cumsum(ptr), vals[order].astype(np.int64)

    def filters(self, anchor, rel, direction: str):
        """CSR filter lists for queries anchored at ``anchor`` (s for tail, o for head)."""
        ptr, idx = self._tail if direction == "tail" else self._head
        keys = np.asarray(anchor, np.int64) * self.n_relations + np.asarray(rel, np.int64)
        starts, ends = ptr[keys], ptr[keys + 1]
        lens = ends - starts
        out_ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        out_ptr[1:] = np.cumsum(lens)
        if out_ptr[-1] == 0:
            return out_ptr, np.zeros(0, dtype=np.int64)
        rep = np.repeat(starts - out_ptr[:-1], lens)
        out_idx = idx[np.arange(out_ptr[-1]) + rep]
        return out_ptr, out_idx


def ranks_from_scores(scores, target, filt_ptr=None, filt_idx=None) -> np.ndarray:
    """Realistic (tie-averaged) filtered ranks of ``target`` in each row of ``scores``.

    Parameters
    ----------
    scores : ndarray of float, shape (B, N)
        Candidate scores (higher is better); must be finite.
    target : ndarray of int, shape (B,)
        The true candidate of each row.
    filt_ptr, filt_idx : ndarray of int, optional
        CSR lists of candidates to ignore per row (see :meth:`FilterIndex.filters`); none
        when omitted (raw ranks).

    Returns
    -------
    ndarray of float64, shape (B,)
        ``(optimistic + pessimistic) / 2``.

    Raises
    ------
    ValueError
        Wrong shapes, non-finite scores or out-of-range targets.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores: expected a 2-d array, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores: contains NaN or infinite values")
    t = np.asarray(target)
    if t.shape != (s.shape[0],) or (t.size and not np.issubdtype(t.dtype, np.integer)):
        raise ValueError(f"target: expected {s.shape[0]} integer ids, got {t.shape} {t.dtype}")
    t = t.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() >= s.shape[1]):
        raise ValueError(f"target: ids must lie in [0, {s.shape[1]})")
    if filt_ptr is None:
        filt_ptr = np.zeros(s.shape[0] + 1, dtype=np.int64)
        filt_idx = np.zeros(0, dtype=np.int64)
    opt, pes = filtered_ranks(
        np.ascontiguousarray(s),
        t,
        np.asarray(filt_ptr, np.int64),
        np.asarray(filt_idx, np.int64),
    )
    return 0.5 * (opt + pes)


def rank_metrics(ranks, ks=(1, 3, 10)) -> dict[str, float]:
    """MRR and Hits@k of an array of ranks (``{"mrr": ..., "hits1": ..., ...}``).

    Parameters
    ----------
    ranks : array_like of float, shape (n,)
        Ranks, 1 the best: finite numbers >= 1 (tie-averaged ranks may be halves, as
        :func:`ranks_from_scores` gives them).
    ks : sequence of int
        The ``k`` of each Hits@k (integers >= 1).

    Raises
    ------
    TypeError
        Ranks that are not numbers, or a ``k`` that is not an integer.
    ValueError
        Empty ranks, ranks below 1, NaN or infinite (a rank 0 would give an infinite MRR).
    """
    r = np.asarray(ranks)
    if r.dtype == bool or not np.issubdtype(r.dtype, np.number) and r.size:
        raise TypeError(f"ranks: expected numbers >= 1, got dtype {r.dtype}")
    r = r.astype(np.float64).ravel()
    if r.size == 0:
        raise ValueError("ranks: empty")
    if not np.all(np.isfinite(r)) or r.min() < 1:
        bad = r[~(np.isfinite(r) & (r >= 1))][0]
        raise ValueError(f"ranks: expected finite ranks >= 1 (1 is the best), got {bad}")
    ks = [check_int("ks", k) for k in ks]
    out = {"mrr": float(np.mean(1.0 / r))}
    for k in ks:
        out[f"hits{k}"] = float(np.mean(r <= k))
    return out


def evaluate_ranking(
    score_tail: Callable,
    score_head: Callable,
    triples,
    filter_index: FilterIndex | None,
    batch_size: int = 512,
) -> dict[str, float]:
    """Filtered MRR and Hits@1/3/10 over both directions of ``triples``.

    Parameters
    ----------
    score_tail : callable
        ``score_tail(s, p) -> (B, N)`` scores of every object for queries ``(s, p, ?)``.
    score_head : callable
        ``score_head(p, o) -> (B, N)`` scores of every subject for queries ``(?, p, o)``.
    triples : ndarray of int, shape (n, 3)
        Test triples.
    filter_index : FilterIndex or None
        Known triples to filter; None gives raw ranks.
    batch_size : int
        Queries scored per call.

    Returns
    -------
    dict
        ``mrr``, ``hits1``, ``hits3``, ``hits10`` over both directions, and the same with
        prefixes ``tail_`` and ``head_``.

    Raises
    ------
    ValueError
        ``triples`` is empty or not ``(n, 3)``.
    """
    batch_size = check_int("batch_size", batch_size)
    t = np.asarray(triples)
    if t.ndim != 2 or t.shape[1] != 3:
        raise ValueError(f"triples: expected shape (n, 3), got {t.shape}")
    if len(t) == 0:
        raise ValueError("triples: empty split, nothing to evaluate")
    t = t.astype(np.int64)
    ranks = {"tail": [], "head": []}
    for start in range(0, len(t), batch_size):
        b = t[start : start + batch_size]
        for direction in ("tail", "head"):
            if direction == "tail":
                sc, anchor, target = score_tail(b[:, 0], b[:, 1]), b[:, 0], b[:, 2]
            else:
                sc, anchor, target = score_head(b[:, 1], b[:, 2]), b[:, 2], b[:, 0]
            if filter_index is not None:
                ptr, idx = filter_index.filters(anchor, b[:, 1], direction)
            else:
                ptr = idx = None
            ranks[direction].append(ranks_from_scores(sc, target, ptr, idx))
    rt = np.concatenate(ranks["tail"])
    rh = np.concatenate(ranks["head"])
    out = rank_metrics(np.concatenate([rt, rh]))
    for name, r in (("tail", rt), ("head", rh)):
        for k, v in rank_metrics(r).items():
            out[f"{name}_{k}"] = v
    return out
