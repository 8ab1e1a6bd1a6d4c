"""Numba reference simulator following sPyNNaker's discrete-time semantics.

The update of one time step ``t`` (``dt`` ms, 1 ms for the hardware recordings) is, for every
``IF_curr_exp`` neuron, in this order (as the sPyNNaker neuron and synapse kernels do it):

1. **Synaptic input.** The ring-buffer slot of step ``t`` (sum of the weights of every spike
   due at ``t``) is added to the exponential synaptic currents, scaled by
   :math:`\\frac{\\tau_{syn}}{dt}(1 - e^{-dt/\\tau_{syn}})` so that the integral of the current
   equals the weight times ``tau_syn``; the slot is cleared.
2. **Membrane.** Outside the refractory period, the exact solution of the membrane equation
   over one step with the current held constant,

   .. math::

       \\alpha = (I_E - I_I + i_{offset}) R + v_{rest}, \\quad R = \\tau_m / c_m, \\qquad
       V \\leftarrow \\alpha - e^{-dt/\\tau_m}(\\alpha - V).

   Inside it, the refractory counter (``ceil(tau_refrac / dt)`` steps) is decremented and
   ``V`` is held.
3. **Threshold.** ``V >= v_thresh`` emits a spike at ``t``: ``V = v_reset``, the refractory
   counter is set, and the spike is added to the neuron's post-synaptic STDP history.
4. **Decay.** Both synaptic currents are multiplied by :math:`e^{-dt/\\tau_{syn}}`.

Spikes emitted at step ``t`` (neurons and spike sources) are then delivered: a synapse with a
delay of ``d`` steps adds its weight to ring-buffer slot ``t + d``, so it acts at step
``t + d``. Plastic synapses are updated when the presynaptic spike is delivered (sPyNNaker's
deferred, pre-synaptically driven STDP): with ``t_last`` and ``r_last`` the previous
presynaptic spike time and trace, the post-synaptic spikes ``t_post`` of the target with
``t_last - d < t_post <= t - d`` (seen at ``t_post + d``, the back-propagation delay) each
potentiate by :math:`A_+ r_{last} e^{-(t_{post} + d - t_{last})/\\tau_+}`, clipped at
``w_max``; then the last post-synaptic spike at or before ``t - d`` depresses by
:math:`A_- o\\, e^{-(t - t_{post} - d)/\\tau_-}` (``o`` its post trace; also when
``t_post + d = t``), clipped at ``w_min``. The new weight is written back and sent. Traces
jump by 1 at each spike and decay with ``tau_plus`` (pre) and ``tau_minus`` (post). Like
sPyNNaker, each neuron keeps its last 15 post-synaptic spikes only.

Four details are undocumented; each is a constructor option whose default was settled by
replaying the two hardware recordings of ``../shared/golden/ca3``: of the 16 combinations, only
the defaults reproduce both spike for spike (see ``docs/models/spiking.md``): clip after every
term (``stdp_clip="each"``), depression timed from the *delayed* post-synaptic spike
(``depression_post_delay=True``), depression also for a post spike that arrives (delayed) at
the very step of the presynaptic spike (``depress_coincident=True``), and ``A_plus``/``A_minus``
applied as absolute weight changes in nA, not PyNN's fractions of ``w_max``
(``amplitude_times_wmax=False``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from neuromem.errors import ConfigError
from neuromem.spiking.backends import register_backend
from neuromem.spiking.backends._common import (
    MAX_POST_EVENTS,
    _add_spike_times,
    _check_late_source,
    _duration_steps,
    _late_indices,
    _population,
    _result,
    _steps,
)

from ..network import Network, Population
from ..results import SimulationResult

__all__ = ["NumbaSimulator"]


@njit(cache=True)
def _decay(lut, p, k):
    """``exp(-k dt / tau)`` from projection ``p``'s lookup table (0 beyond its end)."""
    if k < lut.shape[1]:
        return lut[p, k]
    return 0.0


@njit(cache=True)
def _post_add(n, t, lut, p, cnt_m1, ptimes, ptraces):
    """Append a post-synaptic spike at ``t`` to neuron ``n``'s history (sPyNNaker layout)."""
    last_t = ptimes[n, cnt_m1[n]]
    last_tr = ptraces[n, cnt_m1[n]]
    tr = last_tr * _decay(lut, p, t - last_t) + 1.0
    if cnt_m1[n] < MAX_POST_EVENTS - 1:
        cnt_m1[n] += 1
        ptimes[n, cnt_m1[n]] = t
        ptraces[n, cnt_m1[n]] = tr
    else:
        for e in range(2, MAX_POST_EVENTS):
            ptimes[n, e - 1] = ptimes[n, e]
            ptraces[n, e - 1] = ptraces[n, e]
        ptimes[n, MAX_POST_EVENTS - 1] = t
        ptraces[n, MAX_POST_EVENTS - 1] = tr


@njit(cache=True, inline="always")
def _neuron_pass(lo, hi, slot, ring, v, i_e, i_i, refr, spiked, par, t_refract):
    """Steps 1-4 of the module docstring for neurons ``lo`` to ``hi - 1`` (unsigned).

    The neurons share their parameters ``par`` (``v_rest, v_reset, v_thresh, r_mem, exp_tc,
    i_offset, dec_e, init_e, dec_i, init_i``) and ``t_refract``, so only the state streams
    through memory. Dense and branch-free, so LLVM vectorises it (unsigned indices spare
    Numba's negative-index checks); a neuron at rest with no input stays bit-for-bit at rest.
    The ring-buffer ``slot`` is read and cleared and ``spiked`` is set where a neuron crossed
    its threshold. Returns the number of spikes.
    """
    v_rest, v_reset, v_thresh, r_mem, exp_tc = par[0], par[1], par[2], par[3], par[4]
    i_offset, dec_e, init_e, dec_i, init_i = par[5], par[6], par[7], par[8], par[9]
    n_sp = 0
    for n in range(lo, hi):
        ie = i_e[n] + ring[0, slot, n] * init_e
        ii = i_i[n] + ring[1, slot, n] * init_i
        ring[0, slot, n] = 0.0
        ring[1, slot, n] = 0.0
        r = refr[n]
        vo = v[n]
        alpha = (ie - ii + i_offset) * r_mem + v_rest
        vn = alpha - exp_tc * (alpha - vo)
        vv = vn if r <= 0 else vo
        r = r - 1 if r > 0 else r
        sp = vv >= v_thresh
        v[n] = v_reset if sp else vv
        refr[n] = t_refract if sp else r
        spiked[n] = sp
        n_sp += sp
        ie *= dec_e
        ii *= dec_i
        # flush currents below 1e-30 nA to zero (no denormals; the board's fixed point
        # reaches zero much sooner)
        i_e[n] = 0.0 if abs(ie) < 1e-30 else ie
        i_i[n] = 0.0 if abs(ii) < 1e-30 else ii
    return n_sp


@njit(cache=True, inline="always")
def _potentiate(w, post, prev, begin, d, last_t, amp_p, lp, wmax, clip_each, post_times):
    """Potentiation of one synapse by the post spikes after ``begin`` up to entry ``prev``.

    The terms, oldest first, are ``amp_p * lp[t_post + d - last_t]`` (0 beyond the table).
    Returns the weight (clipped at ``wmax`` after every term when ``clip_each``, else
    unchanged) and the sum of the terms.
    """
    # binary search for the first entry after `begin` (entries 1..prev are sorted in time)
    first, hi_e = 1, prev
    while first < hi_e:
        mid = (first + hi_e) // 2
        if post_times[post, mid] > begin:
            hi_e = mid
        else:
            first = mid + 1
    pot = 0.0
    if clip_each:
        w = min(w, wmax)  # what a term of 0 does; later zero terms change nothing
    for e in range(first, prev + 1):
        dtp = post_times[post, e] + d - last_t  # > 0 as t_post > begin
        if dtp >= lp.shape[0]:
            break  # this and every later term is 0
        dw = amp_p * lp[dtp]
        if clip_each:
            w = min(w + dw, wmax)
        else:
            pot += dw
    return w, pot


@njit(cache=True)
def _simulate(
    t0,
    t1,
    nrn_lo,
    nrn_hi,
    grp_par,
    grp_tref,
    v,
    i_e,
    i_i,
    refr,
    ring,
    src_ptr,
    src_ids,
    pre_row_ptr,
    row_proj,
    row_syn_ptr,
    syn_post,
    syn_w,
    syn_delay,
    syn_rec,
    row_prev_t,
    row_prev_tr,
    proj_plastic,
    lut_plus,
    lut_minus,
    a_plus,
    a_minus,
    w_min,
    w_max,
    post_proj,
    post_cnt_m1,
    post_times,
    post_traces,
    row_post0,
    proj_post_lo,
    proj_post_n,
    proj_dep_base,
    proj_dep_t,
    dep_prev,
    dep_tlast,
    dep_val,
    pot_buf,
    clip_each,
    dep_delayed,
    dep_coincident,
    rec_mask,
    sources_only,
    v_idx,
    v_out,
    spk_t,
    spk_id,
    n_spk,
):
    """Advance the network from step ``t0`` to ``t1`` (exclusive); returns the spike count.

    ``ring`` has shape ``(2, R, N)`` (receptor, slot, neuron). Spikes are appended to
    ``spk_t``/``spk_id`` from ``n_spk``; returns ``-1 - needed`` when they are too short.
    The membrane potential of neurons ``v_idx`` at the start of step ``t`` (before its
    update, as sPyNNaker records it) is written to row ``t - t0`` of ``v_out``.
    """
    n_slots = ring.shape[1]
    fired = np.empty(v.shape[0], dtype=np.int64)
    spiked = np.zeros(v.shape[0], dtype=np.bool_)
    for t in range(t0, t1):
        slot = t % n_slots
        n_fired = 0
        if not sources_only:
            for j in range(v_idx.shape[0]):
                v_out[t - t0, j] = v[v_idx[j]]
            for g in range(nrn_lo.shape[0]):
                lo, hi = np.uint64(nrn_lo[g]), np.uint64(nrn_hi[g])
                n_sp = _neuron_pass(
                    lo, hi, slot, ring, v, i_e, i_i, refr, spiked, grp_par[g], grp_tref[g]
                )
                if n_sp == 0:
                    continue
                for n in range(lo, hi):
                    if spiked[n]:
                        fired[n_fired] = n
                        n_fired += 1
                        if post_proj[n] >= 0:
                            _post_add(
                                n, t, lut_minus, post_proj[n], post_cnt_m1, post_times, post_traces
                            )
        k = t - t0
        for j in range(src_ptr[k], src_ptr[k + 1]):
            fired[n_fired] = src_ids[j]
            n_fired += 1
        # record
        for f in range(n_fired):
            n = fired[f]
            if rec_mask[n]:
                if n_spk >= spk_t.shape[0]:
                    return -1 - n_spk
                spk_t[n_spk] = t
                spk_id[n_spk] = n
                n_spk += 1
        # deliver
        for f in range(n_fired):
            pre = fired[f]
            for r in range(pre_row_ptr[pre], pre_row_ptr[pre + 1]):
                p = row_proj[r]
                s0 = row_syn_ptr[r]
                # a row is one projection: one delay and one receptor for all its synapses
                d = syn_delay[s0]
                rec = syn_rec[s0]
                dslot = (t + d) % n_slots
                # unsigned synapse indices: no negative-index checks in the synapse loops
                s_lo, s_hi = np.uint64(s0), np.uint64(row_syn_ptr[r + 1])
                m = s_hi - s_lo
                # a row onto consecutive post neurons (all-to-all): post = post0 + k
                post0 = row_post0[r]
                u0 = np.uint64(post0 if post0 >= 0 else 0)
                if not proj_plastic[p]:
                    if post0 >= 0:
                        for k in range(m):
                            ring[rec, dslot, u0 + k] += syn_w[s_lo + k]
                    else:
                        for s in range(s_lo, s_hi):
                            ring[rec, dslot, syn_post[s]] += syn_w[s]
                    continue
                last_t = row_prev_t[r]
                last_tr = row_prev_tr[r]
                row_prev_tr[r] = last_tr * _decay(lut_plus, p, t - last_t) + 1.0
                row_prev_t[r] = t
                begin = last_t - d if last_t >= d else 0
                end = t - d if t >= d else 0
                wmin, wmax = w_min[p], w_max[p]
                lo_p = proj_post_lo[p]
                base = np.uint64(proj_dep_base[p])
                if proj_dep_t[p] != t:
                    # once per step and projection, for every post neuron: `prev`, the last
                    # post spike at or before `end` (history entries 1..cnt-1 are sorted in
                    # time, entry 0 is a placeholder), its time (-1: none) and the depression
                    # it causes; the same for every row of the projection firing at t
                    proj_dep_t[p] = t
                    lm = lut_minus[p]
                    for j in range(proj_post_n[p]):
                        post = lo_p + j
                        prev = post_cnt_m1[post]
                        while prev > 0 and post_times[post, prev] > end:
                            prev -= 1
                        dep = 0.0
                        if prev > 0:
                            dtm = t - post_times[post, prev] - (d if dep_delayed else 0)
                            if dtm > 0 or (dtm == 0 and dep_coincident):
                                dep = (
                                    a_minus[p]
                                    * post_traces[post, prev]
                                    * (lm[dtm] if dtm < lm.shape[0] else 0.0)
                                )
                        dep_prev[base + j] = prev
                        dep_tlast[base + j] = post_times[post, prev] if prev > 0 else -1
                        dep_val[base + j] = dep
                amp_p = a_plus[p] * last_tr
                lp = lut_plus[p]
                # a post spike at or after `t_far` gives a potentiation term of 0 (beyond the
                # table); weights stay inside [w_min, w_max], so such terms change nothing
                t_far = last_t - d + lp.shape[0]
                if post0 >= 0:
                    # consecutive posts: potentiation synapse by synapse where a post spike
                    # came after `begin` (rare), then depression and delivery, vectorised
                    b0 = base + np.uint64(post0 - lo_p)
                    for k in range(m):
                        pot = 0.0
                        # a post spike after `begin`, and the oldest one kept not too late
                        post = post0 + np.int64(k)
                        if dep_tlast[b0 + k] > begin and post_times[post, 1] < t_far:
                            w, pot = _potentiate(
                                syn_w[s_lo + k], post, dep_prev[b0 + k], begin, d, last_t,
                                amp_p, lp, wmax, clip_each, post_times,
                            )  # fmt: skip
                            syn_w[s_lo + k] = w
                        pot_buf[k] = pot
                    for k in range(m):
                        if clip_each:
                            w = max(syn_w[s_lo + k] - dep_val[b0 + k], wmin)
                        else:
                            w = syn_w[s_lo + k] + pot_buf[k] - dep_val[b0 + k]
                            w = min(max(w, wmin), wmax)
                        syn_w[s_lo + k] = w
                        ring[rec, dslot, u0 + k] += w
                    continue
                for s in range(s_lo, s_hi):
                    post = syn_post[s]
                    jb = base + np.uint64(post - lo_p)
                    w = syn_w[s]
                    pot = 0.0
                    if dep_tlast[jb] > begin and post_times[post, 1] < t_far:
                        w, pot = _potentiate(
                            w, post, dep_prev[jb], begin, d, last_t, amp_p, lp, wmax,
                            clip_each, post_times,
                        )  # fmt: skip
                    dep = dep_val[jb]
                    if clip_each:
                        w = max(w - dep, wmin)
                    else:
                        w = min(max(w + pot - dep, wmin), wmax)
                    syn_w[s] = w
                    ring[rec, dslot, post] += w
    return n_spk


@register_backend("numba")
class NumbaSimulator:
    """Reference simulator of a :class:`~neuromem.spiking.network.Network` (sPyNNaker rules).

    Parameters
    ----------
    network : Network
        The description; validated here. Spike-source times are read at each :meth:`run`
        (rounded to the nearest step; several spikes of one source in one step count once),
        so they can be changed between runs with ``Population.set_spike_times``.
    stdp_clip : {"each", "sum"}
        Clip the weight after every potentiation or depression term (``"each"``, sPyNNaker's
        weight-state update, which the recordings need) or once after summing them
        (``"sum"``, older sPyNNaker releases).
    depression_post_delay : bool
        Whether the depression of a presynaptic spike measures its distance to the last
        post-synaptic spike delayed by the synaptic delay (default, as the recordings need)
        or to its undelayed time.
    depress_coincident : bool
        Depress also when the delayed post spike falls on the presynaptic spike's step
        (distance 0; default, as the recordings need).
    amplitude_times_wmax : bool
        PyNN defines ``A_plus``/``A_minus`` as fractions of ``w_max``; the sPyNNaker of the
        recordings applied them as absolute weight changes (nA). Default False (recordings);
        True gives PyNN's definition.

    Raises
    ------
    ValueError, ConfigError
        Invalid network, delays that are not whole steps, or plastic projections onto one
        population with different ``tau_minus`` (sPyNNaker has one rule per population).
    """

    name = "numba"

    def __init__(
        self,
        network: Network,
        stdp_clip: str = "each",
        depression_post_delay: bool = True,
        depress_coincident: bool = True,
        amplitude_times_wmax: bool = False,
    ):
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {type(network).__name__}")
        if stdp_clip not in ("sum", "each"):
            raise ValueError(f"stdp_clip must be 'sum' or 'each', got {stdp_clip!r}")
        network.validate()
        self.network = network
        self.dt = network.dt
        self.clip_each = stdp_clip == "each"
        self.dep_delayed = bool(depression_post_delay)
        self.dep_coincident = bool(depress_coincident)
        self.amp_wmax = bool(amplitude_times_wmax)
        self._build()
        self.t = 0  # current step
        self._spk_t: list[np.ndarray] = []
        self._spk_id: list[np.ndarray] = []

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        net, dt = self.network, self.dt
        pops = list(net.populations.values())
        self.offsets: dict[str, int] = {}
        off = 0
        for p in pops:
            self.offsets[p.label] = off
            off += p.size
        n = off
        self.n_neurons = n
        z = np.zeros
        self.is_src = z(n, np.bool_)
        self.v_rest, self.v_reset, self.v_thresh = z(n), z(n), np.full(n, np.inf)
        self.r_mem, self.exp_tc, self.i_offset = z(n), z(n), z(n)
        self.dec_e, self.init_e, self.dec_i, self.init_i = z(n), z(n), z(n), z(n)
        self.t_refract = z(n, np.int64)
        self.v = z(n)
        self.rec_mask = z(n, np.bool_)
        # neurons whose membrane potential is recorded (global indices, population order)
        v_rec = [p for p in pops if "v" in p.record]
        self.v_idx = np.concatenate(
            [np.arange(self.offsets[p.label], self.offsets[p.label] + p.size) for p in v_rec]
            + [np.zeros(0, np.int64)]
        ).astype(np.int64)
        self._v_chunks: list[np.ndarray] = []
        for p in pops:
            sl = slice(self.offsets[p.label], self.offsets[p.label] + p.size)
            self.rec_mask[sl] = "spikes" in p.record
            if p.is_source:
                self.is_src[sl] = True
                continue
            c = p.celltype
            self.v_rest[sl], self.v_reset[sl], self.v_thresh[sl] = c.v_rest, c.v_reset, c.v_thresh
            self.r_mem[sl] = c.tau_m / c.cm
            self.exp_tc[sl] = math.exp(-dt / c.tau_m)
            self.i_offset[sl] = c.i_offset
            for tau, dec, ini in (
                (c.tau_syn_E, self.dec_e, self.init_e),
                (c.tau_syn_I, self.dec_i, self.init_i),
            ):
                d = math.exp(-dt / tau)
                dec[sl] = d
                ini[sl] = tau * (1.0 - d) / dt
            self.t_refract[sl] = int(math.ceil(c.tau_refrac / dt - 1e-9))
            self.v[sl] = c.initial_v
        self.i_e, self.i_i = z(n), z(n)
        # contiguous ranges of neurons (not spike sources), for the dense neuron update
        # runs of neurons (not spike sources) with identical parameters, each updated with
        # its parameters as scalars (a population is one run)
        par = np.stack(
            [
                self.v_rest, self.v_reset, self.v_thresh, self.r_mem, self.exp_tc,
                self.i_offset, self.dec_e, self.init_e, self.dec_i, self.init_i,
                self.t_refract.astype(float),
            ],
            axis=1,
        )  # fmt: skip
        change = np.ones(n + 1, np.bool_)
        change[1:n] = np.any(par[1:] != par[:-1], axis=1) | (self.is_src[1:] != self.is_src[:-1])
        bounds = np.flatnonzero(change)
        lo, hi = bounds[:-1], bounds[1:]
        keep = ~self.is_src[lo]
        self.nrn_lo, self.nrn_hi = lo[keep].astype(np.int64), hi[keep].astype(np.int64)
        self.grp_par = np.ascontiguousarray(par[self.nrn_lo, :10])
        self.grp_tref = self.t_refract[self.nrn_lo].copy()
        self.refr = z(n, np.int64)

        projs = list(net.projections.values())
        self.proj_index = {pr.label: k for k, pr in enumerate(projs)}
        np_ = len(projs)
        self.proj_plastic = z(np_, np.bool_)
        self.tau_plus, self.tau_minus = np.ones(np_), np.ones(np_)
        self.a_plus, self.a_minus, self.w_min, self.w_max = z(np_), z(np_), z(np_), z(np_)
        self.post_tau = z(n)
        self.post_proj = np.full(n, -1, np.int64)
        rows_pre, rows_proj, syn_lists = [], [], []
        max_d = 1
        self._proj_syn: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for k, pr in enumerate(projs):
            st = pr.synapse_type
            d = _steps(st.delay, dt, f"projection {pr.label!r}: delay")
            if d < 1:
                raise ConfigError(f"projection {pr.label!r}: delay must be >= 1 step")
            max_d = max(max_d, d)
            if pr.plastic:
                td, wd = st.timing_dependence, st.weight_dependence
                self.proj_plastic[k] = True
                self.tau_plus[k], self.tau_minus[k] = td.tau_plus, td.tau_minus
                scale = wd.w_max if self.amp_wmax else 1.0
                self.a_plus[k] = td.A_plus * scale
                self.a_minus[k] = td.A_minus * scale
                self.w_min[k], self.w_max[k] = wd.w_min, wd.w_max
                sl = slice(self.offsets[pr.post.label], self.offsets[pr.post.label] + pr.post.size)
                cur = self.post_tau[sl]
                if np.any((cur > 0) & (cur != td.tau_minus)):
                    raise ConfigError(
                        f"projection {pr.label!r}: plastic projections onto {pr.post.label!r} "
                        "must share tau_minus"
                    )
                self.post_tau[sl] = td.tau_minus
                self.post_proj[sl] = k
            pre_i, post_i = pr.connections()
            order = np.argsort(pre_i, kind="stable")
            pre_i, post_i = pre_i[order], post_i[order]
            w_init = pr.initial_weights()[order]
            gpost = post_i + self.offsets[pr.post.label]
            self._proj_syn.append((pre_i, post_i, order))
            bounds = np.searchsorted(pre_i, np.arange(pr.pre.size + 1))
            for a in range(pr.pre.size):
                lo, hi = bounds[a], bounds[a + 1]
                if hi == lo:
                    continue
                rows_pre.append(a + self.offsets[pr.pre.label])
                rows_proj.append(k)
                # one delay and one receptor per row: the kernel computes the ring-buffer slot
                # once per row (per-synapse delays would need it per synapse)
                syn_lists.append(
                    (
                        gpost[lo:hi],
                        w_init[lo:hi],
                        d,
                        int(pr.receptor_type != "excitatory"),
                        k,
                        lo,
                    )
                )
        # sort rows by global pre index (stable: projection order kept within a neuron)
        order = np.argsort(np.asarray(rows_pre, dtype=np.int64), kind="stable")
        rows_pre_a = np.asarray(rows_pre, dtype=np.int64)[order]
        self.row_proj = np.asarray(rows_proj, dtype=np.int64)[order]
        self.pre_row_ptr = np.searchsorted(rows_pre_a, np.arange(n + 1)).astype(np.int64)
        sizes = [len(syn_lists[i][0]) for i in order]
        self.row_syn_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        n_syn = int(self.row_syn_ptr[-1])
        self.syn_post = np.empty(n_syn, np.int64)
        self.syn_w = np.empty(n_syn)
        self.syn_delay = np.empty(n_syn, np.int64)
        self.syn_rec = np.empty(n_syn, np.int64)
        # where each projection's (sorted) synapse j lives in the flat arrays
        self._proj_flat = [np.empty(len(ps[0]), np.int64) for ps in self._proj_syn]
        for r, i in enumerate(order):
            post, w, d, rec, k, lo = syn_lists[i]
            a, b = self.row_syn_ptr[r], self.row_syn_ptr[r + 1]
            self.syn_post[a:b] = post
            self.syn_w[a:b] = w
            self.syn_delay[a:b] = d
            self.syn_rec[a:b] = rec
            self._proj_flat[k][lo : lo + (b - a)] = np.arange(a, b)
        # exponential decay tables (index: steps), cut where exp(-x) < 1e-13 (x = 30)
        taus = np.concatenate([self.tau_plus[self.proj_plastic], self.tau_minus[self.proj_plastic]])
        n_lut = int(math.ceil(30.0 * taus.max() / dt)) + 1 if len(taus) else 1
        k_dt = np.arange(n_lut) * dt
        self.lut_plus = np.exp(-k_dt[None, :] / self.tau_plus[:, None])
        self.lut_minus = np.exp(-k_dt[None, :] / self.tau_minus[:, None])
        nr = len(order)
        self.row_prev_t = np.zeros(nr, np.int64)
        self.row_prev_tr = np.zeros(nr)
        self.ring = np.zeros((2, max_d + 1, n))
        self.post_cnt_m1 = np.zeros(n, np.int64)
        self.post_times = np.zeros((n, MAX_POST_EVENTS), np.int64)
        self.post_traces = np.zeros((n, MAX_POST_EVENTS))
        # rows onto consecutive post neurons (all-to-all): their first post neuron, else -1
        self.row_post0 = np.full(nr, -1, np.int64)
        for r in range(nr):
            a, b = self.row_syn_ptr[r], self.row_syn_ptr[r + 1]
            if b > a and np.array_equal(
                self.syn_post[a:b], np.arange(self.syn_post[a], self.syn_post[a] + b - a)
            ):
                self.row_post0[r] = self.syn_post[a]
        # per plastic projection and post neuron, recomputed once per step (proj_dep_t):
        # the last post spike's history index and time, and the depression it causes
        self.proj_post_lo = np.zeros(np_, np.int64)
        self.proj_post_n = np.zeros(np_, np.int64)
        self.proj_dep_base = np.zeros(np_, np.int64)
        total = 0
        for k, pr in enumerate(projs):
            if pr.plastic:
                self.proj_post_lo[k] = self.offsets[pr.post.label]
                self.proj_post_n[k] = pr.post.size
                self.proj_dep_base[k] = total
                total += pr.post.size
        self.proj_dep_t = np.full(np_, -1, np.int64)
        self.dep_prev = np.zeros(total, np.int64)
        self.dep_tlast = np.zeros(total, np.int64)
        self.dep_val = np.zeros(total)
        # scratch: the potentiation of each synapse of a row
        self.pot_buf = np.zeros(int(np.diff(self.row_syn_ptr).max()) if nr else 1)

    # ------------------------------------------------------------------ run
    def _source_schedule(self, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
        """Spike-source spikes of steps ``t0`` to ``t1 - 1``: CSR pointers by step, and ids.

        Times are rounded to the nearest step; several spikes of one source in one step
        count once. Within a step, ids are in ascending order.
        """
        steps, ids = [], []
        for p in self.network.populations.values():
            if not p.is_source:
                continue
            trains = p.celltype.spike_times
            lens = np.fromiter((len(x) for x in trains), np.int64, len(trains))
            if lens.sum() == 0:
                continue
            s = np.rint(np.concatenate(trains) / self.dt).astype(np.int64)
            gi = np.repeat(np.arange(self.offsets[p.label], self.offsets[p.label] + p.size), lens)
            keep = (s >= t0) & (s < t1)
            steps.append(s[keep])
            ids.append(gi[keep])
        if steps:
            st = np.concatenate(steps)
            gi = np.concatenate(ids)
            # one spike per (step, source); sorting and dropping repeats is 3x faster than
            # np.unique's hash table here
            key = np.sort((st - t0) * self.n_neurons + gi)
            first = np.ones(len(key), np.bool_)
            first[1:] = key[1:] != key[:-1]
            key = key[first]
            st, gi = key // self.n_neurons + t0, key % self.n_neurons
        else:
            st = np.zeros(0, np.int64)
            gi = np.zeros(0, np.int64)
        ptr = np.searchsorted(st, np.arange(t0, t1 + 1)).astype(np.int64)
        return ptr, gi

    def emit_late(self, label: str, indices) -> None:
        """Emit spikes of source ``label`` at the last simulated step, after the fact.

        Spikes of a source emitted at step ``t`` act from ``t + 1`` on, so they can be added
        once step ``t`` has been simulated; the result is exactly as if they had been known
        before. This lets an operation start at the step where the previous one is still
        being read out.

        Raises
        ------
        ValueError
            Nothing simulated yet, ``label`` not a spike source, or indices out of range.
        """
        pop = self._pop(label)
        _check_late_source(pop, label, self.t)
        idx = _late_indices(pop, label, indices)
        if len(idx) == 0:
            return
        t = self.t - 1
        _add_spike_times(pop, idx, t * self.dt)
        ptr = np.array([0, len(idx)], np.int64)
        self._step_range(t, t + 1, ptr, idx + self.offsets[label], late=True)

    def _step_range(self, t0, t1, ptr, ids, late=False) -> None:
        # the most spikes these steps can record; when it fits, no retry (and no backup)
        bound = (0 if late else (t1 - t0) * int(self.rec_mask.sum())) + len(ids)
        cap = max(64, min(bound, 1 << 22))
        while True:
            backup = None
            if cap < bound:  # a retry may be needed: keep the state to restore it
                backup = [
                    a.copy()
                    for a in (
                        self.v, self.i_e, self.i_i, self.refr, self.ring, self.syn_w,
                        self.row_prev_t, self.row_prev_tr, self.post_cnt_m1,
                        self.post_times, self.post_traces, self.proj_dep_t,
                    )
                ]  # fmt: skip
            spk_t = np.empty(cap, np.int64)
            spk_id = np.empty(cap, np.int64)
            v_out = np.empty((0 if late else t1 - t0, len(self.v_idx)))
            got = _simulate(
                t0, t1, self.nrn_lo, self.nrn_hi, self.grp_par, self.grp_tref, self.v, self.i_e,
                self.i_i, self.refr, self.ring, ptr, ids,
                self.pre_row_ptr, self.row_proj, self.row_syn_ptr, self.syn_post, self.syn_w,
                self.syn_delay, self.syn_rec, self.row_prev_t, self.row_prev_tr,
                self.proj_plastic, self.lut_plus, self.lut_minus, self.a_plus, self.a_minus,
                self.w_min, self.w_max, self.post_proj, self.post_cnt_m1, self.post_times,
                self.post_traces, self.row_post0, self.proj_post_lo, self.proj_post_n,
                self.proj_dep_base, self.proj_dep_t, self.dep_prev, self.dep_tlast, self.dep_val,
                self.pot_buf, self.clip_each,
                self.dep_delayed, self.dep_coincident,
                self.rec_mask, late, self.v_idx, v_out,
                spk_t, spk_id, 0,
            )  # fmt: skip
            if got >= 0:
                break
            for dst, src in zip(
                (
                    self.v, self.i_e, self.i_i, self.refr, self.ring, self.syn_w,
                    self.row_prev_t, self.row_prev_tr, self.post_cnt_m1,
                    self.post_times, self.post_traces, self.proj_dep_t,
                ),
                backup,
            ):  # fmt: skip
                dst[...] = src
            cap *= 4
        spk_t, spk_id = spk_t[:got], spk_id[:got]
        if got < cap // 2:  # a view would keep the mostly unused buffer alive
            spk_t, spk_id = spk_t.copy(), spk_id.copy()
        self._spk_t.append(spk_t)
        self._spk_id.append(spk_id)
        if len(v_out):
            self._v_chunks.append(v_out)

    def run(self, duration: float) -> None:
        """Advance the simulation by ``duration`` ms (a whole number of steps, > 0).

        Raises
        ------
        ValueError
            Non-positive or non-finite duration, or not a whole number of steps.
        """
        n_steps = _duration_steps(duration, self.dt)
        t0, t1 = self.t, self.t + n_steps
        ptr, ids = self._source_schedule(t0, t1)
        self._step_range(t0, t1, ptr, ids)
        self.t = t1

    # ------------------------------------------------------------------ output
    @property
    def time(self) -> float:
        """Simulated time so far (ms)."""
        return self.t * self.dt

    def spikes(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Spike times (ms) and neuron indices of ``label`` so far."""
        pop = self._pop(label)
        if len(self._spk_t) != 1:  # merge the chunks of successive runs once
            z = np.zeros(0, np.int64)
            self._spk_t = [np.concatenate(self._spk_t) if self._spk_t else z]
            self._spk_id = [np.concatenate(self._spk_id) if self._spk_id else z]
        t, i = self._spk_t[0], self._spk_id[0]
        off = self.offsets[label]
        m = (i >= off) & (i < off + pop.size)
        t, i = t[m], i[m] - off
        o = np.lexsort((i, t))
        return t[o] * self.dt, i[o]

    def recorded_v(self, label: str) -> np.ndarray:
        """Membrane potential (mV) of ``label`` so far: ``(steps, size)``, row ``k`` at the
        start of step ``k`` (before its update; row 0 the initial value).

        Raises
        ------
        ValueError
            Unknown population, or its ``v`` not recorded.
        """
        pop = self._pop(label)
        if "v" not in pop.record:
            raise ValueError(f"label: the membrane potential of {label!r} is not recorded")
        if len(self._v_chunks) > 1:  # merge the chunks of successive runs once
            self._v_chunks = [np.concatenate(self._v_chunks)]
        allv = self._v_chunks[0] if self._v_chunks else np.zeros((0, len(self.v_idx)))
        col = 0
        for p in self.network.populations.values():
            if p is pop:
                break
            if "v" in p.record:
                col += p.size
        return allv[:, col : col + pop.size].copy()

    def weights(self, label: str) -> np.ndarray:
        """Current ``(n_pre, n_post)`` weight matrix of projection ``label`` (NaN: none)."""
        if label not in self.proj_index:
            raise ValueError(f"label: unknown projection {label!r}")
        k = self.proj_index[label]
        pr = self.network.projections[label]
        pre_i, post_i, _ = self._proj_syn[k]
        w = np.full((pr.pre.size, pr.post.size), np.nan)
        w[pre_i, post_i] = self.syn_w[self._proj_flat[k]]
        return w

    def _pop(self, label: str) -> Population:
        return _population(self.network, label)

    def result(self) -> SimulationResult:
        """Spikes of every recorded population and the weights of every projection."""
        return _result(self)
