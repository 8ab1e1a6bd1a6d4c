"""Numba kernels of Sparsey: the Code Selection Algorithm (CSA) and the code readouts.

Every function here is a plain ``@njit(cache=True)`` function over arrays; the Python layer
(:mod:`neuromem.sparsey.model`) validates the arguments before calling them.

Array conventions for one level of ``M`` macrocolumns (MACs) of ``Q`` competitive modules (CMs) of
``K`` cells (``C = Q * K`` cells per MAC):

* ``u_aff[m, a]``: index of the ``a``-th bottom-up afferent of MAC ``m`` in the level's input
  vector, ``-1`` padding after the last one; ``h_aff`` (horizontal, into this level's cell vector
  at ``t - 1``) and ``d_aff`` (top-down, into the upper level's cell vector at ``t - 1``) alike.
* ``WU[m, a, c]``, ``WH``, ``WD``: binary (``uint8``) weights from afferent ``a`` to cell ``c``.
* ``params``: float64 array indexed by the ``P_*`` constants below.
* winners ``w[m, q]`` in ``[0, K)``, or ``-1`` for every CM of a MAC that did not pass its gate.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# indices into the CSA parameter vector
P_LAMBDA_U = 0
P_LAMBDA_H = 1
P_LAMBDA_D = 2
P_G_MIN = 3
P_GAMMA = 4
P_CHI = 5
P_SIGMA1 = 6
P_SIGMA2 = 7
P_PI_MIN = 8
P_PI_MAX = 9
P_SATURATION = 10
P_CELL_SATURATION = 11
N_PARAMS = 12


@njit(cache=True)
def _pow(x, lam):
    if lam == 0.0:
        return 1.0
    if x <= 0.0:
        return 0.0
    return x**lam


@njit(cache=True)
def _context_sums(aff, m, xs, W, act, s):
    """Add to ``s[c]`` the weights ``W[m, a, c]`` of the active context afferents of MAC ``m``.

    Afferent ``a`` is active when ``xs[aff[m, a]] != 0``; the active ones are written to
    ``act[:n]`` and their count ``n`` is returned (H and D sources alike).
    """
    n = 0
    for a in range(aff.shape[1]):
        idx = aff[m, a]
        if idx < 0:
            break
        if xs[idx] != 0:
            act[n] = a
            n += 1
            for c in range(s.shape[0]):
                s[c] += W[m, a, c]
    return n


@njit(cache=True)
def csa_frame(
    x,
    xh,
    xd,
    use_h,
    use_d,
    u_aff,
    h_aff,
    d_aff,
    WU,
    WH,
    WD,
    Q,
    K,
    params,
    learn,
    frozen,
    n_set,
    n_set_cell,
    n_valid_u,
    rand,
    out_w,
    out_G,
):
    """Run the CSA on every MAC of one level for one input frame.

    Parameters
    ----------
    x : numpy.ndarray
        Bottom-up input of the level at ``t`` (uint8, one entry per input).
    xh, xd : uint8 arrays
        This level's cells at ``t - 1`` and the upper level's cells at ``t - 1``.
    use_h, use_d : bool
        Whether the H and D sources exist for this frame.
    u_aff, h_aff, d_aff : int64 arrays (M, A)
        Afferent indices (``-1`` padded).
    WU, WH, WD : numpy.ndarray
        Binary uint8 weights ``(M, A, Q*K)``; updated in place when learning.
    Q, K : int
        CMs per MAC and cells per CM.
    params : float64 array (N_PARAMS,)
        CSA constants.
    learn : bool
        Draw winners and set weights (else take the max-V cell, weights untouched).
    frozen : bool array (M,)
        MACs past their critical period (they encode but never learn); updated in place.
    n_set : int64 array (M,)
        Set bottom-up weights per MAC; updated in place.
    n_set_cell : numpy.ndarray
        Set bottom-up weights per cell, int64 ``(M, Q*K)``; updated in place. A cell with more than
        ``cell_saturation * n_valid_u`` set weights is full: it takes part in no new code.
    n_valid_u : int64 array (M,)
        Real (non-padding) bottom-up afferents per MAC.
    rand : numpy.ndarray
        float64 ``(M, Q)``: uniform numbers in [0, 1) for the draws (from the model's
        numpy Generator).
    out_w : numpy.ndarray
        Winners, int64 ``(M, Q)`` (output); ``-1`` where the MAC's gate is closed.
    out_G : float64 array (M,)
        Familiarity ``G`` (output); ``NaN`` where the gate is closed.
    """
    M = u_aff.shape[0]
    C = Q * K
    lam_u = params[P_LAMBDA_U]
    lam_h = params[P_LAMBDA_H]
    lam_d = params[P_LAMBDA_D]
    g_min = params[P_G_MIN]
    gamma = params[P_GAMMA]
    chi = params[P_CHI]
    s1 = params[P_SIGMA1]
    s2 = params[P_SIGMA2]
    pi_min = params[P_PI_MIN]
    pi_max = params[P_PI_MAX]
    sat = params[P_SATURATION]
    cell_cap = params[P_CELL_SATURATION]
    A_u = u_aff.shape[1]
    A_h = h_aff.shape[1]
    A_d = d_aff.shape[1]
    act_u = np.empty(A_u, dtype=np.int64)
    act_h = np.empty(max(A_h, 1), dtype=np.int64)
    act_d = np.empty(max(A_d, 1), dtype=np.int64)
    su = np.empty(C, dtype=np.int64)
    sh = np.empty(C, dtype=np.int64)
    sd = np.empty(C, dtype=np.int64)
    V = np.empty(C, dtype=np.float64)
    psi = np.empty(K, dtype=np.float64)
    for m in range(M):
        # 1. activation gate
        n_u = 0
        for a in range(A_u):
            idx = u_aff[m, a]
            if idx < 0:
                break
            if x[idx] != 0:
                act_u[n_u] = a
                n_u += 1
        if n_u < pi_min or n_u > pi_max or n_u == 0:
            for q in range(Q):
                out_w[m, q] = -1
            out_G[m] = np.nan
            continue
        # 2. input sums through set weights from active afferents
        for c in range(C):
            su[c] = 0
            sh[c] = 0
            sd[c] = 0
        for j in range(n_u):
            a = act_u[j]
            for c in range(C):
                su[c] += WU[m, a, c]
        n_h = 0
        if use_h and lam_h != 0.0:
            n_h = _context_sums(h_aff, m, xh, WH, act_h, sh)
        n_d = 0
        if use_d and lam_d != 0.0:
            n_d = _context_sums(d_aff, m, xd, WD, act_d, sd)
        # 3. V = U^lu H^lh D^ld (absent source -> 1)
        for c in range(C):
            v = _pow(su[c] / n_u, lam_u)
            if n_h > 0:
                v *= _pow(sh[c] / n_h, lam_h)
            if n_d > 0:
                v *= _pow(sd[c] / n_d, lam_d)
            V[c] = v
        # 4. familiarity G = mean over CMs of max V
        G = 0.0
        for q in range(Q):
            best = 0.0
            for k in range(K):
                if V[q * K + k] > best:
                    best = V[q * K + k]
            G += best
        G /= Q
        out_G[m] = G
        do_learn = learn and not frozen[m]
        # 5. expansivity
        if do_learn:
            g = (G - g_min) / (1.0 - g_min) if g_min < 1.0 else 0.0
            if g < 0.0:
                g = 0.0
            eta = 1.0 + (g**gamma) * chi * K
        # 6-7. winners
        for q in range(Q):
            base = q * K
            if do_learn:
                tot = 0.0
                cap = cell_cap * n_valid_u[m]
                for k in range(K):
                    if n_set_cell[m, base + k] > cap:
                        psi[k] = 0.0
                    else:
                        psi[k] = 1.0 + (eta - 1.0) / (1.0 + math.exp(-s1 * (V[base + k] - s2)))
                    tot += psi[k]
                if tot == 0.0:  # every cell of the CM is full: uniform choice
                    for k in range(K):
                        psi[k] = 1.0
                    tot = K
                r = rand[m, q] * tot
                acc = 0.0
                win = K - 1
                for k in range(K):
                    acc += psi[k]
                    if r < acc:
                        win = k
                        break
            else:
                win = 0
                best = V[base]
                for k in range(1, K):
                    if V[base + k] > best:
                        best = V[base + k]
                        win = k
            out_w[m, q] = win
        # single-trial Hebbian learning
        if do_learn:
            cap = cell_cap * n_valid_u[m]
            for q in range(Q):
                c = q * K + out_w[m, q]
                if n_set_cell[m, c] > cap:
                    continue  # a full cell learns nothing more
                for j in range(n_u):
                    a = act_u[j]
                    if WU[m, a, c] == 0:
                        WU[m, a, c] = 1
                        n_set[m] += 1
                        n_set_cell[m, c] += 1
                for j in range(n_h):
                    WH[m, act_h[j], c] = 1
                for j in range(n_d):
                    WD[m, act_d[j], c] = 1
            if n_set[m] > sat * n_valid_u[m] * C:
                frozen[m] = True


@njit(cache=True)
def csa_batch(
    X,
    u_aff,
    h_aff,
    d_aff,
    WU,
    WH,
    WD,
    Q,
    K,
    params,
    learn,
    frozen,
    n_set,
    n_set_cell,
    n_valid_u,
    rand,
    out_w,
    out_G,
):
    """Run :func:`csa_frame` on independent frames ``X[t]`` (no H or D context).

    ``rand`` has shape ``(T, M, Q)``; ``out_w`` ``(T, M, Q)``; ``out_G`` ``(T, M)``.
    """
    empty = np.zeros(1, dtype=np.uint8)
    for t in range(X.shape[0]):
        csa_frame(
            X[t],
            empty,
            empty,
            False,
            False,
            u_aff,
            h_aff,
            d_aff,
            WU,
            WH,
            WD,
            Q,
            K,
            params,
            learn,
            frozen,
            n_set,
            n_set_cell,
            n_valid_u,
            rand[t],
            out_w[t],
            out_G[t],
        )


@njit(cache=True)
def codes_to_cells(w, K):
    """Dense cell vectors ``(n, M*Q*K)`` (uint8) of winner arrays ``w`` of shape ``(n, M, Q)``."""
    n, M, Q = w.shape
    out = np.zeros((n, M * Q * K), dtype=np.uint8)
    for i in range(n):
        for m in range(M):
            for q in range(Q):
                k = w[i, m, q]
                if k >= 0:
                    out[i, (m * Q + q) * K + k] = 1
    return out


@njit(cache=True)
def knn_similarity_counts(train, test, n_symbols, skip_symbol):
    """Agreement counts ``S[i, j] = #{p : test[i, p] == train[j, p] != skip_symbol}``.

    ``train`` ``(n_train, P)`` and ``test`` ``(n_test, P)`` hold symbols in ``[0, n_symbols)``;
    agreement on ``skip_symbol`` (gated-off CMs; ``-1``: none) is not counted. Computed through
    an inverted index (position, symbol) -> training items, so the cost is the number of
    matching pairs, not ``n_test * n_train * P``.
    """
    n_train, P = train.shape
    n_test = test.shape[0]
    counts = np.zeros(P * n_symbols + 1, dtype=np.int64)
    for j in range(n_train):
        for p in range(P):
            if train[j, p] != skip_symbol:
                counts[p * n_symbols + train[j, p] + 1] += 1
    for i in range(1, counts.size):
        counts[i] += counts[i - 1]
    items = np.empty(max(counts[-1], 1), dtype=np.int32)
    fill = counts[:-1].copy()
    for j in range(n_train):
        for p in range(P):
            if train[j, p] != skip_symbol:
                s = p * n_symbols + train[j, p]
                items[fill[s]] = j
                fill[s] += 1
    out = np.zeros((n_test, n_train), dtype=np.int32)
    for i in range(n_test):
        row = out[i]
        for p in range(P):
            if test[i, p] == skip_symbol:
                continue
            s = p * n_symbols + test[i, p]
            for r in range(counts[s], counts[s + 1]):
                row[items[r]] += 1
    return out


@njit(cache=True)
def class_association_counts(train, labels, n_symbols, n_classes):
    """Label counts per (position, symbol): ``N[p, s, c]`` = training items of class ``c``."""
    n_train, P = train.shape
    out = np.zeros((P, n_symbols, n_classes), dtype=np.float64)
    for j in range(n_train):
        c = labels[j]
        for p in range(P):
            out[p, train[j, p], c] += 1.0
    return out


@njit(cache=True)
def class_association_scores(test, assoc):
    """Class scores: each code cell votes with its normalised label distribution."""
    n_test, P = test.shape
    n_classes = assoc.shape[2]
    out = np.zeros((n_test, n_classes), dtype=np.float64)
    for i in range(n_test):
        for p in range(P):
            s = test[i, p]
            tot = 0.0
            for c in range(n_classes):
                tot += assoc[p, s, c]
            if tot > 0.0:
                for c in range(n_classes):
                    out[i, c] += assoc[p, s, c] / tot
    return out
