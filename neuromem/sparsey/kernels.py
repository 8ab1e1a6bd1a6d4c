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
P_BACKOFF = 12  # recognition backs off below this G (0: never)
P_HOLD = 13  # backoff first tries holding the MAC's previous code (0/1)
P_HYPOTHESES = 14  # recognition carries every max-V cell as context (0/1)
P_H_EXCLUDE_OWN_CM = 15  # H afferents from the cell's own CM are ignored (0/1)
P_DECAY = 16  # learning frames after which an unreinforced, impermanent weight is erased (0: never)
P_PERMANENCE = 17  # reinforcements that make a weight permanent
P_SAT_H = 18  # critical period of the H bundle (< 0: ends with the U one)
P_SAT_D = 19  # critical period of the D bundle (< 0: ends with the U one)
P_SIGMA2_MAX = 20  # inflection reached at the end of the critical period (ratchet)
P_EXPANSIVITY = 21  # 0: power law in G, 1: odds (max-V cell wins with probability ~G)
P_RELATIVE_V = 22  # sigmoid on V / max V of the CM (0/1)
P_CROSSTALK = 23  # U corrected for each cell's density of set weights (0/1)
P_K_D = 24  # cells per CM of the level above (groups of D afferents)
P_HYP_MARGIN = 25  # cells within this of their CM's max V are carried as hypotheses
N_PARAMS = 26

# sources of V, as bits of a combination
_SRC_U = 1
_SRC_H = 2
_SRC_D = 4


@njit(cache=True)
def _pow(x, lam):
    if lam == 0.0:
        return 1.0
    if x <= 0.0:
        return 0.0
    return x**lam


@njit(cache=True)
def _context_sums(aff, m, xs, W, act, s, k_src, last_g):
    """Count in ``s[c]`` the source CMs from which cell ``c`` of MAC ``m`` gets a set weight.

    Afferent ``a`` is active when ``xs[aff[m, a]] != 0``; the active ones are written to
    ``act[:n]``. A source CM is a run of ``k_src`` consecutive source cells; ``s[c]`` grows by
    one per source CM holding at least one active afferent with ``W[m, a, c] = 1`` (for a
    single code, one active cell per source CM, this is the plain weighted sum). Returns
    ``(n, groups)``: the number of active afferents and of source CMs holding one. When the
    source carries several hypotheses per CM (see ``hypotheses``), a cell consistent with any
    one of them reaches ``s[c] = groups``. ``last_g`` is scratch space of ``s``'s size.
    """
    n = 0
    groups = 0
    last = -1
    for c in range(s.shape[0]):
        last_g[c] = -1
    for a in range(aff.shape[1]):
        idx = aff[m, a]
        if idx < 0:
            break
        if xs[idx] != 0:
            act[n] = a
            n += 1
            g = idx // k_src
            if g != last:
                groups += 1
                last = g
            for c in range(s.shape[0]):
                if W[m, a, c] != 0 and last_g[c] != g:
                    s[c] += 1
                    last_g[c] = g
    return n, groups


@njit(cache=True)
def _h_support(h_aff, m, xh, WH, act, s, s_own, own_q, prev_own, last_g, K, Q, excl, Hn, has_q):
    """Normalised H support ``Hn`` of every cell of MAC ``m`` from context cells ``xh``.

    ``Hn[c]`` is the fraction of the active source CMs (the cell's own CM left out when
    ``excl``) from which cell ``c`` has a set weight; ``has_q[q]`` says whether CM ``q`` has
    any H source; ``prev_own`` marks the MAC's own active context cells. Returns the number
    of active H afferents.
    """
    C = Q * K
    for c in range(C):
        s[c] = 0
        s_own[c] = 0
        prev_own[c] = False
    for q in range(Q):
        own_q[q] = 0
    n_h, g_h = _context_sums(h_aff, m, xh, WH, act, s, K, last_g)
    for j in range(n_h):
        idx = h_aff[m, act[j]]
        if m * C <= idx < (m + 1) * C:
            prev_own[idx - m * C] = True
            if excl:
                qs = (idx - m * C) // K
                own_q[qs] = 1
                for k in range(K):
                    if WH[m, act[j], qs * K + k] != 0:
                        s_own[qs * K + k] = 1
    for q in range(Q):
        norm = g_h - own_q[q]
        has_q[q] = norm > 0
        for k in range(K):
            c = q * K + k
            if norm > 0:
                h = (s[c] - s_own[c]) / norm
                Hn[c] = h if h < 1.0 else 1.0
            else:
                Hn[c] = 1.0
    return n_h


@njit(cache=True)
def _combine(mask, Un, Hn, Dn, has_h_q, lam_u, lam_h, lam_d, Q, K, V):
    """``V = U^lu H^lh D^ld`` over the sources of ``mask``; returns ``G = mean_q max V``."""
    G = 0.0
    for q in range(Q):
        best = 0.0
        for k in range(K):
            c = q * K + k
            v = 1.0
            if mask & _SRC_U:
                v *= _pow(Un[c], lam_u)
            if (mask & _SRC_H) and has_h_q[q]:
                v *= _pow(Hn[c], lam_h)
            if mask & _SRC_D:
                v *= _pow(Dn[c], lam_d)
            V[c] = v
            if v > best:
                best = v
        G += best
    return G / Q


@njit(cache=True)
def _add_hypotheses(V, Q, K, margin, out_ctx, m):
    """Mark in ``out_ctx[m]`` the cells within ``margin`` of their CM's max of ``V``."""
    for q in range(Q):
        best = 0.0
        for k in range(K):
            if V[q * K + k] > best:
                best = V[q * K + k]
        if best > 0.0:
            for k in range(K):
                if V[q * K + k] >= best - margin - 1e-12:
                    out_ctx[m, q * K + k] = 1


@njit(cache=True)
def _reinforce(W, R, T, m, a, c, now, decay, perm):
    """Set weight ``W[m, a, c]`` (reinforce it when decay is on); True if it was unset."""
    was = W[m, a, c] == 0
    W[m, a, c] = 1
    if decay > 0:
        if R[m, a, c] < perm:
            R[m, a, c] += 1
        T[m, a, c] = now
    return was


@njit(cache=True)
def _decay_sweep(W, R, T, m, now, decay, perm, count_cell):
    """Erase the set weights of MAC ``m`` that are not permanent and were last reinforced
    ``decay`` or more learning frames ago; returns how many were erased (per-cell counts in
    ``count_cell`` when it has a row per MAC)."""
    gone = 0
    for a in range(W.shape[1]):
        for c in range(W.shape[2]):
            if W[m, a, c] != 0 and R[m, a, c] < perm and now - T[m, a, c] >= decay:
                W[m, a, c] = 0
                R[m, a, c] = 0
                gone += 1
                if count_cell.shape[0] > m:
                    count_cell[m, c] -= 1
    return gone


@njit(cache=True)
def csa_frame(
    x,
    xh,
    xd,
    use_h,
    use_d,
    xs,
    use_s,
    prev_w,
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
    state,
    decay_arrays,
    recall,
    rand,
    out_w,
    out_G,
    out_ctx,
):
    """Run the CSA on every MAC of one level for one input frame.

    Parameters
    ----------
    x : numpy.ndarray
        Bottom-up input of the level at ``t`` (uint8, one entry per input).
    xh, xd : uint8 arrays
        This level's context cells at ``t - 1`` and the upper level's at ``t - 1`` (one code
        per MAC, or several hypotheses per CM, see ``out_ctx``).
    use_h, use_d : bool
        Whether the H and D sources exist for this frame.
    xs : uint8 array
        Recognition only: the context cells *predicted* for ``t`` (recall mode from ``xh``),
        the H source of the "skip" backoff that recognises a sequence with a dropped frame.
    use_s : bool
        Whether ``xs`` is given.
    prev_w : int64 array (M, Q)
        Recognition only: the MACs' winners at ``t - 1`` (``-1``: none), for the "hold"
        backoff; ``(1, 1)`` holding ``-1`` when there are none.
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
        MACs past their (U) critical period (they encode but never learn U); updated in place.
    n_set : int64 array (M,)
        Set bottom-up weights per MAC; updated in place.
    n_set_cell : numpy.ndarray
        Set bottom-up weights per cell, int64 ``(M, Q*K)``; updated in place. A cell with more than
        ``cell_saturation * n_valid_u`` set weights is full: it takes part in no new code.
    n_valid_u : int64 array (M,)
        Real (non-padding) bottom-up afferents per MAC.
    state : int64 array (M, 7)
        Per MAC: learning frames so far, set H weights, set D weights, real H afferents, real D
        afferents, H bundle frozen (0/1), D bundle frozen (0/1); updated in place.
    decay_arrays : tuple
        ``(RU, TU, RH, TH, RD, TD)``: reinforcement counts (uint8) and last reinforcement
        frames (int64) of every weight, the shapes of ``WU``/``WH``/``WD`` when ``decay`` is on
        (else ``(1, 1, 1)`` placeholders).
    recall : bool
        No bottom-up input: the MAC takes part when it has H or D input and its code is the
        prediction of those sources alone.
    rand : numpy.ndarray
        float64 ``(M, Q)``: uniform numbers in [0, 1) for the draws (from the model's
        numpy Generator).
    out_w : numpy.ndarray
        Winners, int64 ``(M, Q)`` (output); ``-1`` where the MAC's gate is closed.
    out_G : float64 array (M,)
        Familiarity ``G`` (output); ``NaN`` where the gate is closed.
    out_ctx : uint8 array (M, Q*K)
        The cells this frame passes on as H/D context (output): the winners, or, when
        recognising with ``hypotheses`` on, every cell whose V is within
        ``hypothesis_margin`` of its CM's maximum.
    """
    RU, TU, RH, TH, RD, TD = decay_arrays
    M = u_aff.shape[0]
    C = Q * K
    lam_u = params[P_LAMBDA_U]
    lam_h = params[P_LAMBDA_H]
    lam_d = params[P_LAMBDA_D]
    g_min = params[P_G_MIN]
    gamma = params[P_GAMMA]
    chi = params[P_CHI]
    s1 = params[P_SIGMA1]
    s2_lo = params[P_SIGMA2]
    s2_hi = params[P_SIGMA2_MAX]
    pi_min = params[P_PI_MIN]
    pi_max = params[P_PI_MAX]
    sat = params[P_SATURATION]
    cell_cap = params[P_CELL_SATURATION]
    backoff = params[P_BACKOFF]
    hold = params[P_HOLD] != 0.0
    hypotheses = params[P_HYPOTHESES] != 0.0
    margin = params[P_HYP_MARGIN]
    excl_own = params[P_H_EXCLUDE_OWN_CM] != 0.0
    decay = int(params[P_DECAY])
    perm = int(params[P_PERMANENCE])
    sat_h = params[P_SAT_H]
    sat_d = params[P_SAT_D]
    odds = params[P_EXPANSIVITY] == 1.0
    relative = params[P_RELATIVE_V] != 0.0
    crosstalk = params[P_CROSSTALK] != 0.0
    k_d = int(params[P_K_D])
    A_u = u_aff.shape[1]
    A_h = h_aff.shape[1]
    A_d = d_aff.shape[1]
    act_u = np.empty(A_u, dtype=np.int64)
    act_h = np.empty(max(A_h, 1), dtype=np.int64)
    act_d = np.empty(max(A_d, 1), dtype=np.int64)
    su = np.empty(C, dtype=np.int64)
    sh = np.empty(C, dtype=np.int64)
    sh_own = np.empty(C, dtype=np.int64)
    sd = np.empty(C, dtype=np.int64)
    Un = np.empty(C, dtype=np.float64)
    Hn = np.empty(C, dtype=np.float64)
    Dn = np.empty(C, dtype=np.float64)
    V = np.empty(C, dtype=np.float64)
    V2 = np.empty(C, dtype=np.float64)
    mu = np.empty(Q, dtype=np.float64)
    own_q = np.zeros(Q, dtype=np.int64)
    has_h_q = np.zeros(Q, dtype=np.bool_)
    prev_own = np.zeros(C, dtype=np.bool_)
    last_g = np.empty(C, dtype=np.int64)
    Hs = np.empty(C, dtype=np.float64)
    V3 = np.empty(C, dtype=np.float64)
    has_s_q = np.zeros(Q, dtype=np.bool_)
    psi = np.empty(K, dtype=np.float64)
    for m in range(M):
        for c in range(C):
            out_ctx[m, c] = 0
        # 1. activation gate (bottom-up input), or, in recall, any H/D input
        n_u = 0
        if not recall:
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
            sh_own[c] = 0
            sd[c] = 0
        for j in range(n_u):
            a = act_u[j]
            for c in range(C):
                su[c] += WU[m, a, c]
        n_h = 0
        if use_h and lam_h != 0.0:
            n_h = _h_support(
                h_aff,
                m,
                xh,
                WH,
                act_h,
                sh,
                sh_own,
                own_q,
                prev_own,
                last_g,
                K,
                Q,
                excl_own,
                Hn,
                has_h_q,
            )
        else:
            for c in range(C):
                prev_own[c] = False
        n_d = 0
        g_d = 0
        if use_d and lam_d != 0.0:
            n_d, g_d = _context_sums(d_aff, m, xd, WD, act_d, sd, k_d, last_g)
        if recall and n_h == 0 and n_d == 0:
            for q in range(Q):
                out_w[m, q] = -1
            out_G[m] = np.nan
            continue
        # 3. normalised sources: U (optionally corrected for crosstalk), H, D in [0, 1]
        for c in range(C):
            if n_u > 0:
                u = su[c] / n_u
                if crosstalk:
                    dens = n_set_cell[m, c] / n_valid_u[m]
                    u = (u - dens) / (1.0 - dens) if dens < 1.0 else 0.0
                    if u < 0.0:
                        u = 0.0
                Un[c] = u
            else:
                Un[c] = 1.0
        for c in range(C):
            if g_d > 0:
                dd = sd[c] / g_d
                Dn[c] = dd if dd < 1.0 else 1.0
            else:
                Dn[c] = 1.0
        full = 0
        if n_u > 0:
            full |= _SRC_U
        if n_h > 0:
            full |= _SRC_H
        if n_d > 0:
            full |= _SRC_D
        # 4. V and familiarity G over every present source
        G = _combine(full, Un, Hn, Dn, has_h_q, lam_u, lam_h, lam_d, Q, K, V)
        # the input's own familiarity (recognition): the hypothesis margin never exceeds its
        # shortfall (exact ties for a clean input), and backoff thresholds are relative to it
        G_u = 1.0
        mg = margin
        if not learn and n_u > 0:
            G_u = G
            if full != _SRC_U:
                G_u = _combine(_SRC_U, Un, Hn, Dn, has_h_q, lam_u, lam_h, lam_d, Q, K, V2)
            if 1.0 - G_u < mg:
                mg = 1.0 - G_u
        # 4b. backoff at recognition: hold the previous code, skip a frame, drop sources
        if not learn and backoff > 0.0:
            G_full = G
            # the threshold is relative to what the bottom-up input alone reaches, so that
            # noise in the input (lower U everywhere) does not trigger a backoff
            thr = backoff * G_u
            Gh = -1.0
            if hold and n_u > 0 and n_h > 0 and prev_w.shape[0] > m and prev_w[m, 0] >= 0:
                # hold: does U alone support the MAC's previous code? Then the code (with
                # the hypotheses of its context cells) may persist
                Gh = 0.0
                for q in range(Q):
                    Gh += _pow(Un[q * K + prev_w[m, q]], lam_u)
                    for k in range(K):
                        c = q * K + k
                        V2[c] = _pow(Un[c], lam_u) if prev_own[c] else 0.0
                Gh /= Q
            hold_ok = Gh >= thr and Gh > G_full
            Gs = -1.0
            if use_s and n_u > 0 and (G_full < thr or hold_ok):
                # skip: H from the code predicted for t (a frame was dropped)
                n_s = _h_support(
                    h_aff,
                    m,
                    xs,
                    WH,
                    act_h,
                    sh,
                    sh_own,
                    own_q,
                    prev_own,
                    last_g,
                    K,
                    Q,
                    excl_own,
                    Hs,
                    has_s_q,
                )
                if n_s > 0:
                    Gs = _combine(
                        _SRC_U | _SRC_H, Un, Hs, Dn, has_s_q, lam_u, lam_h, lam_d, Q, K, V3
                    )
            skip_ok = Gs >= thr and Gs > G_full
            if hold_ok or skip_ok:
                # the best of hold and skip is the code; the other, and a familiar full
                # match, stay among the hypotheses
                if hypotheses:
                    if G_full >= thr - 2.0 * margin:
                        _add_hypotheses(V, Q, K, mg, out_ctx, m)
                    if hold_ok and skip_ok:
                        _add_hypotheses(V2 if Gs > Gh else V3, Q, K, mg, out_ctx, m)
                if skip_ok and Gs > Gh:
                    for c in range(C):
                        V[c] = V3[c]
                    G = Gs
                else:
                    for c in range(C):
                        V[c] = V2[c]
                    G = Gh
            elif G_full < thr:
                # drop sources: the best combination of one source fewer, then fewer still
                done = False
                n_src = (full & 1) + ((full >> 1) & 1) + ((full >> 2) & 1)
                size = n_src - 1
                while not done and size >= 1:
                    best_mask = 0
                    best_G = -1.0
                    for mask in range(1, 8):
                        if (mask & full) != mask:
                            continue
                        if (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) != size:
                            continue
                        if n_u > 0 and not (mask & _SRC_U):
                            continue  # with bottom-up input, never predict over it
                        Gm = _combine(mask, Un, Hn, Dn, has_h_q, lam_u, lam_h, lam_d, Q, K, V2)
                        if Gm > best_G:
                            best_G = Gm
                            best_mask = mask
                    if best_mask != 0 and best_G >= thr:
                        G = _combine(best_mask, Un, Hn, Dn, has_h_q, lam_u, lam_h, lam_d, Q, K, V)
                        done = True
                    size -= 1
        out_G[m] = G
        for q in range(Q):
            best = 0.0
            for k in range(K):
                if V[q * K + k] > best:
                    best = V[q * K + k]
            mu[q] = best
        do_learn = learn and not frozen[m] and not recall
        learn_h = learn and not recall and (not frozen[m] if sat_h < 0.0 else state[m, 5] == 0)
        learn_d = learn and not recall and (not frozen[m] if sat_d < 0.0 else state[m, 6] == 0)
        # 5. expansivity
        eta = 1.0
        if do_learn:
            g = (G - g_min) / (1.0 - g_min) if g_min < 1.0 else 0.0
            if g < 0.0:
                g = 0.0
            if g > 1.0:
                g = 1.0
            if odds:
                top = chi * K
                eta = 1.0 + (top if g >= 1.0 else min(top, (K - 1) * (g**gamma) / (1.0 - g)))
            else:
                eta = 1.0 + (g**gamma) * chi * K
        s2 = s2_lo
        if s2_hi != s2_lo:
            frac = n_set[m] / (sat * n_valid_u[m] * C)
            s2 = s2_lo + (s2_hi - s2_lo) * (frac if frac < 1.0 else 1.0)
        # 6-7. winners
        u_only = learn and not do_learn and not recall and (learn_h or learn_d)
        for q in range(Q):
            base = q * K
            if do_learn:
                tot = 0.0
                cap = cell_cap * n_valid_u[m]
                for k in range(K):
                    if n_set_cell[m, base + k] > cap:
                        psi[k] = 0.0
                    else:
                        v = V[base + k]
                        if relative:
                            v = v / mu[q] if mu[q] > 0.0 else 0.0
                        psi[k] = 1.0 + (eta - 1.0) / (1.0 + math.exp(-s1 * (v - s2)))
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
            elif u_only:
                # U bundle frozen, H/D still learning: the code is the input's (max U)
                win = 0
                best = Un[base]
                for k in range(1, K):
                    if Un[base + k] > best:
                        best = Un[base + k]
                        win = k
            else:
                win = 0
                best = V[base]
                for k in range(1, K):
                    if V[base + k] > best:
                        best = V[base + k]
                        win = k
            out_w[m, q] = win
            out_ctx[m, base + win] = 1
            if hypotheses and not learn and mu[q] > 0.0:
                for k in range(K):
                    if V[base + k] >= mu[q] - mg - 1e-12:
                        out_ctx[m, base + k] = 1
        # single-trial Hebbian learning
        if do_learn or learn_h or learn_d:
            state[m, 0] += 1
            now = state[m, 0]
            cap = cell_cap * n_valid_u[m]
            for q in range(Q):
                c = q * K + out_w[m, q]
                if do_learn and n_set_cell[m, c] <= cap:  # a full cell learns no more U
                    for j in range(n_u):
                        if _reinforce(WU, RU, TU, m, act_u[j], c, now, decay, perm):
                            n_set[m] += 1
                            n_set_cell[m, c] += 1
                if learn_h:
                    for j in range(n_h):
                        a = act_h[j]
                        idx = h_aff[m, a]
                        if excl_own and m * C <= idx < (m + 1) * C and (idx - m * C) // K == q:
                            continue
                        if _reinforce(WH, RH, TH, m, a, c, now, decay, perm):
                            state[m, 1] += 1
                if learn_d:
                    for j in range(n_d):
                        if _reinforce(WD, RD, TD, m, act_d[j], c, now, decay, perm):
                            state[m, 2] += 1
            if decay > 0 and now % decay == 0:
                gone = _decay_sweep(WU, RU, TU, m, now, decay, perm, n_set_cell)
                n_set[m] -= gone
                state[m, 1] -= _decay_sweep(WH, RH, TH, m, now, decay, perm, n_set_cell[:0])
                state[m, 2] -= _decay_sweep(WD, RD, TD, m, now, decay, perm, n_set_cell[:0])
            if n_set[m] > sat * n_valid_u[m] * C:
                frozen[m] = True
            if sat_h >= 0.0 and state[m, 3] > 0 and state[m, 1] > sat_h * state[m, 3] * C:
                state[m, 5] = 1
            if sat_d >= 0.0 and state[m, 4] > 0 and state[m, 2] > sat_d * state[m, 4] * C:
                state[m, 6] = 1


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
    state,
    decay_arrays,
    recall,
    rand,
    out_w,
    out_G,
    out_ctx,
):
    """Run :func:`csa_frame` on independent frames ``X[t]`` (no H or D context).

    ``rand`` has shape ``(T, M, Q)``; ``out_w`` ``(T, M, Q)``; ``out_G`` ``(T, M)``;
    ``out_ctx`` ``(M, Q*K)`` is scratch space (overwritten each frame).
    """
    empty = np.zeros(1, dtype=np.uint8)
    no_prev = np.full((1, 1), -1, dtype=np.int64)
    for t in range(X.shape[0]):
        csa_frame(
            X[t],
            empty,
            empty,
            False,
            False,
            empty,
            False,
            no_prev,
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
            state,
            decay_arrays,
            recall,
            rand[t],
            out_w[t],
            out_G[t],
            out_ctx,
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
