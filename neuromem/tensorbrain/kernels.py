"""Numba kernels of the tensor brain: plain functions over arrays, no validation.

The Python layer (:mod:`~neuromem.tensorbrain.models`, :mod:`~neuromem.tensorbrain.decoder`,
:mod:`~neuromem.tensorbrain.evaluation`) checks shapes and dtypes before calling them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "bilinear_query",
    "bilinear_query_backward",
    "adam_update",
    "filtered_ranks",
    "softmax_xent",
    "scatter_add_rows",
]


@njit(cache=True)
def scatter_add_rows(dst, idx, src):
    """``dst[idx[b]] += src[b]`` for every row ``b`` (repeated indices accumulate)."""
    d = src.shape[1]
    for b in range(idx.size):
        r = idx[b]
        for j in range(d):
            dst[r, j] += src[b, j]


@njit(cache=True)
def bilinear_query(e, mats, rel, transpose):
    """Per-row bilinear query ``q_b = M_{rel_b}^T e_b`` (``transpose``) or ``M_{rel_b} e_b``.

    ``e``: (B, d) float64; ``mats``: (P, d, d); ``rel``: (B,) int64. Returns (B, d).
    With ``transpose`` the query scores tails: ``score(o) = e_s^T M_p a_o``; without it the
    query scores heads: ``score(s) = a_s^T M_p e_o``.
    """
    B, d = e.shape
    q = np.zeros((B, d))
    for b in range(B):
        m = mats[rel[b]]
        if transpose:
            for i in range(d):
                ei = e[b, i]
                if ei != 0.0:
                    for j in range(d):
                        q[b, j] += ei * m[i, j]
        else:
            for i in range(d):
                acc = 0.0
                for j in range(d):
                    acc += m[i, j] * e[b, j]
                q[b, i] = acc
    return q


@njit(cache=True)
def bilinear_query_backward(e, mats, rel, transpose, dq, de, dmats):
    """Backward of :func:`bilinear_query`: adds ``dL/de`` to ``de`` and ``dL/dM`` to ``dmats``."""
    B, d = e.shape
    for b in range(B):
        p = rel[b]
        m = mats[p]
        if transpose:  # q_j = sum_i e_i m_ij
            for i in range(d):
                acc = 0.0
                ei = e[b, i]
                for j in range(d):
                    acc += m[i, j] * dq[b, j]
                    dmats[p, i, j] += ei * dq[b, j]
                de[b, i] += acc
        else:  # q_i = sum_j m_ij e_j
            for i in range(d):
                g = dq[b, i]
                if g != 0.0:
                    for j in range(d):
                        de[b, j] += m[i, j] * g
                        dmats[p, i, j] += g * e[b, j]


@njit(cache=True)
def adam_update(param, grad, m, v, lr, beta1, beta2, eps, step):
    """One Adam step in place over flat float64 arrays (bias-corrected, step >= 1)."""
    c1 = 1.0 - beta1**step
    c2 = 1.0 - beta2**step
    for i in range(param.size):
        g = grad[i]
        m[i] = beta1 * m[i] + (1.0 - beta1) * g
        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
        param[i] -= lr * (m[i] / c1) / (np.sqrt(v[i] / c2) + eps)


@njit(cache=True)
def softmax_xent(logits, target, smoothing, grad):
    """Mean softmax cross-entropy with label smoothing; writes ``dL/dlogits`` into ``grad``.

    The target distribution of row ``b`` is ``(1 - smoothing) * onehot(target_b) +
    smoothing / N``. Returns the mean loss over rows.
    """
    B, N = logits.shape
    total = 0.0
    for b in range(B):
        mx = logits[b, 0]
        for k in range(1, N):
            if logits[b, k] > mx:
                mx = logits[b, k]
        s = 0.0
        for k in range(N):
            s += np.exp(logits[b, k] - mx)
        lse = mx + np.log(s)
        off = smoothing / N
        for k in range(N):
            pk = np.exp(logits[b, k] - lse)
            tk = off
            if k == target[b]:
                tk += 1.0 - smoothing
            total -= tk * (logits[b, k] - lse)
            grad[b, k] = (pk - tk) / B
    return total / B


@njit(cache=True)
def filtered_ranks(scores, target, filt_ptr, filt_idx):
    """Filtered ranks of ``target`` in each row of ``scores`` (optimistic and pessimistic).

    Row ``b`` ignores the candidates ``filt_idx[filt_ptr[b]:filt_ptr[b+1]]`` (other known true
    answers); the target itself is never filtered. Returns ``(optimistic, pessimistic)`` as
    float64 arrays: ``1 + #better`` and ``1 + #better + #tied``.
    """
    B, N = scores.shape
    opt = np.empty(B)
    pes = np.empty(B)
    mask = np.zeros(N, dtype=np.bool_)
    for b in range(B):
        for k in range(filt_ptr[b], filt_ptr[b + 1]):
            mask[filt_idx[k]] = True
        t = target[b]
        mask[t] = False
        st = scores[b, t]
        better = 0
        tied = 0
        for k in range(N):
            if k == t or mask[k]:
                continue
            sk = scores[b, k]
            if sk > st:
                better += 1
            elif sk == st:
                tied += 1
        opt[b] = 1.0 + better
        pes[b] = 1.0 + better + tied
        for k in range(filt_ptr[b], filt_ptr[b + 1]):
            mask[filt_idx[k]] = False
    return opt, pes
