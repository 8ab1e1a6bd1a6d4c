"""A NumPy-vectorised Code Selection Algorithm for one MAC (bottom-up input only).

The same CSA as :func:`neuromem.sparsey.kernels.csa_frame`, written with whole-array NumPy
operations instead of loops. It is the baseline of ``benchmarks/bench_sparsey.py`` and a
cross-check of the Numba kernel in the tests (same uniforms in, same winners out).
"""

from __future__ import annotations

import numpy as np

from . import kernels as _k

__all__ = ["csa_numpy"]


def csa_numpy(x, W, Q: int, K: int, params, learn: bool = False, rand=None, n_set_cell=None):
    """One CSA step of one MAC whose afferents are the whole input vector ``x``.

    Parameters
    ----------
    x : array_like of bool
        Binary input, one entry per input.
    W : numpy.ndarray
        Bottom-up uint8 weights ``(n_inputs, Q*K)``; updated in place when learning.
    Q, K : int
        CMs and cells per CM.
    params : numpy.ndarray
        CSA constants (:meth:`LevelConfig.params`). The MAC-level critical period is not
        tracked here.
    learn : bool
        Draw winners and set weights (else the max-V cell of each CM).
    rand : numpy.ndarray, optional
        ``Q`` uniforms for the draws (required when learning).
    n_set_cell : numpy.ndarray, optional
        Set weights per cell (int64, ``Q*K``) for ``cell_saturation``; computed from ``W``
        when omitted.

    Returns
    -------
    winners : numpy.ndarray
        int64, one per CM; ``-1`` everywhere when the gate is closed.
    G : float
        Familiarity (NaN when the gate is closed).
    """
    x = np.asarray(x, dtype=bool)
    active = np.flatnonzero(x)
    n_u = active.size
    pi_min, pi_max = params[_k.P_PI_MIN], params[_k.P_PI_MAX]
    if n_u == 0 or n_u < pi_min or n_u > pi_max:
        return np.full(Q, -1, dtype=np.int64), float("nan")
    U = W[active].sum(axis=0, dtype=np.int64) / n_u
    lam = params[_k.P_LAMBDA_U]
    V = U**lam if lam != 0 else np.ones_like(U)
    Vq = V.reshape(Q, K)
    G = float(Vq.max(axis=1).mean())
    if not learn:
        return Vq.argmax(axis=1).astype(np.int64), G
    g_min = params[_k.P_G_MIN]
    g = max(0.0, (G - g_min) / (1.0 - g_min))
    eta = 1.0 + g ** params[_k.P_GAMMA] * params[_k.P_CHI] * K
    s1, s2 = params[_k.P_SIGMA1], params[_k.P_SIGMA2]
    psi = 1.0 + (eta - 1.0) / (1.0 + np.exp(-s1 * (Vq - s2)))
    if n_set_cell is None:
        n_set_cell = W.sum(axis=0, dtype=np.int64)
    n_inputs = W.shape[0]
    full = (n_set_cell > params[_k.P_CELL_SATURATION] * n_inputs).reshape(Q, K)
    psi = np.where(full, 0.0, psi)
    empty = psi.sum(axis=1) == 0
    psi[empty] = 1.0
    cum = np.cumsum(psi, axis=1)
    r = np.asarray(rand, dtype=float) * cum[:, -1]
    winners = np.minimum((cum <= r[:, None]).sum(axis=1), K - 1).astype(np.int64)
    cells = np.arange(Q) * K + winners
    learnable = cells[~full[np.arange(Q), winners]]
    newly = W[np.ix_(active, learnable)] == 0
    W[np.ix_(active, learnable)] = 1
    n_set_cell[learnable] += newly.sum(axis=0)
    return winners, G
