"""The reference's discrete-time step in a simulator whose neurons integrate differently.

NEST's ``iaf_psc_exp`` (what pyNN.nest builds for ``IF_curr_exp`` with on-grid spikes; with
PyNN's default off-grid spikes it is ``iaf_psc_exp_ps``, spikes at interpolated times between
steps) adds a spike arriving at step ``t`` to the synaptic current *after* the membrane update
of that step: the spike moves ``V`` one step later than in the reference (where the ring-buffer
slot of step ``t`` is added before the update), so every synaptic hop takes one step more than
its delay. Its current also decays within the step (exact integration), where the reference
holds it constant over the step (scaled by ``tau_syn/dt (1 - exp(-dt/tau_syn))``): a spike
moves ``V`` by 1.08 (slow CA3 cells) to 1.67 (fast) times less. Neither can be set.

Both are linear in the weights, so the reference's step is rebuilt exactly from pieces NEST has:

* **cells** are ``iaf_psc_delta`` (PyNN ``IF_curr_delta``): a spike arriving at ``t`` moves
  ``V`` at ``t`` and may fire at ``t``, as in the reference; ``tau_refrac`` is
  ``ceil(tau_refrac / dt)`` steps and input arriving while refractory is dropped (the
  reference holds ``V`` and lets the current decay: only the tail below reaches ``V``);
* **synapses**: a spike of weight ``w`` (nA) moves the reference's ``V`` by
  ``k_0 w e^{-j dt/tau_syn}`` at the ``j``-th step after it arrives (``k_0`` from the cell's
  ``tau_m``, ``cm``, ``tau_syn``: :func:`kicks`), so each projection becomes one projection
  per term ``j`` (delay ``d + j dt``, weight ``k_j w`` in mV), up to the term below
  :data:`TAIL_TOLERANCE` of the first;
* **STDP** (``stdp_synapse``) pairs a presynaptic spike at ``t`` with postsynaptic spikes seen
  one delay later, with the post trace read *strictly before* ``t - d``: the reference's
  depression by a postsynaptic spike seen exactly at ``t`` (``depress_coincident``; the
  forgetting of a re-learned CA3 cue rests on it) would be lost. NEST runs at ``dt /
  substeps`` (4 steps per step): each plastic term ``j`` takes its presynaptic spikes from a
  parrot copy of the presynaptic population delayed by ``h + j dt / 2`` (``h`` the NEST
  step) with a delay of ``d + j dt / 2 - h``, so that it still acts at ``t + d + j dt`` while
  every term sees the postsynaptic spikes ``2 h`` earlier than the reference does; postsynaptic
  spikes fall on whole steps, so the pairs and the windows are the reference's, and the
  ``2 h`` only scales each term, which ``A_plus e^{-2h/tau_plus}`` and ``A_minus
  e^{2h/tau_minus}`` undo. The terms' weights stay ``k_j / k_0`` times the first's (the
  additive rule scales with ``w_max``).

The simulator runs the description ``lead`` ms late (the input offset: pyNN.nest hands a
spike at ``t`` to NEST at ``t - min_delay``, and NEST drops times of 0 or less); the cells
start from :func:`start_v`, which has decayed to ``v_init`` when the description's time 0
comes (nothing reaches a cell before it). A cell whose steady state ``v_rest + i_offset
tau_m / cm`` reaches the threshold could fire between two steps in NEST: refused. What is
not reproduced: NEST keeps every postsynaptic spike, the reference (as sPyNNaker) the last 15
of each neuron; NEST's ``stdp_synapse`` has no ``w_min`` (always 0) and no plastic inhibitory
current synapses: both refused.
"""

from __future__ import annotations

import math

from neuromem.errors import ConfigError

__all__ = [
    "TAIL_TOLERANCE",
    "MAX_TERMS",
    "kicks",
    "delta_cell_parameters",
    "stdp_amplitudes",
    "relay_delay",
    "plastic_delay",
    "start_v",
]

#: The synaptic current is followed until its step's share falls below this fraction of the
#: first step's (``tau_syn = 0.3 ms, dt = 1 ms``: 10 terms; the rest is below 1e-12 mV per nA).
TAIL_TOLERANCE = 1e-12
#: Most terms one projection is cut into (``tau_syn`` up to about 2 ``dt``); beyond: refused.
MAX_TERMS = 64


def kicks(params: dict, receptor: str, dt: float, label: str) -> list[float]:
    """``V`` (mV) moved per nA of weight at each step after a spike arrives, in the reference.

    Parameters
    ----------
    params : dict
        ``IF_curr_exp`` parameters of the postsynaptic cell (``tau_m``, ``cm``,
        ``tau_syn_E``, ``tau_syn_I``).
    receptor : {"excitatory", "inhibitory"}
    dt : float
        The description's step (ms).
    label : str
        Projection label, for the error message.

    Returns
    -------
    list of float
        ``[k_0, k_1, ...]`` with ``k_j = (1 - e^{-dt/tau_m}) tau_m/cm * tau_s/dt (1 -
        e^{-dt/tau_s}) * e^{-j dt/tau_s}``, up to the last at or above
        :data:`TAIL_TOLERANCE` ``k_0``.

    Raises
    ------
    ConfigError
        A synaptic time constant so long that more than :data:`MAX_TERMS` terms are needed.
    """
    tau_m, cm = params["tau_m"], params["cm"]
    tau_s = params["tau_syn_E"] if receptor == "excitatory" else params["tau_syn_I"]
    decay = math.exp(-dt / tau_s)
    k0 = (1.0 - math.exp(-dt / tau_m)) * tau_m / cm * tau_s / dt * (1.0 - decay)
    n = 1 if decay == 0.0 else 1 + max(0, math.ceil(math.log(TAIL_TOLERANCE) / math.log(decay)))
    if n > MAX_TERMS:
        raise ConfigError(
            f"projection {label!r}: tau_syn = {tau_s} ms decays too slowly to be stepped in "
            f"NEST as the reference steps it ({n} terms of delay, at most {MAX_TERMS})"
        )
    return [k0 * decay**j for j in range(n)]


def delta_cell_parameters(params: dict, dt: float, label: str) -> dict:
    """``IF_curr_delta`` parameters stepping as the reference's ``IF_curr_exp`` cell.

    Raises
    ------
    ConfigError
        The cell's steady state ``v_rest + i_offset tau_m / cm`` reaches ``v_thresh`` (it
        could then fire between two steps of the description).
    """
    steady = params["v_rest"] + params["i_offset"] * params["tau_m"] / params["cm"]
    if steady >= params["v_thresh"]:
        raise ConfigError(
            f"population {label!r}: with i_offset = {params['i_offset']} nA the cell rests at "
            f"{steady:g} mV, at or above v_thresh: NEST would fire it between steps (not "
            "reproducible in pynn:nest)"
        )
    refrac = math.ceil(params["tau_refrac"] / dt - 1e-9) * dt
    keep = ("cm", "tau_m", "v_rest", "v_reset", "v_thresh", "i_offset")
    return {**{k: params[k] for k in keep}, "tau_refrac": refrac}


def stdp_amplitudes(a_plus: float, a_minus: float, tau_plus: float, tau_minus: float, h: float):
    """``A_plus``, ``A_minus`` for NEST's rule seeing postsynaptic spikes ``2 h`` early."""
    return a_plus * math.exp(-2.0 * h / tau_plus), a_minus * math.exp(2.0 * h / tau_minus)


def relay_delay(j: int, dt: float, h: float) -> float:
    """Delay (ms) of the parrot copy that feeds plastic term ``j``."""
    return h + j * dt / 2.0


def plastic_delay(delay: float, j: int, dt: float, h: float) -> float:
    """Delay (ms) of plastic term ``j`` from its parrot copy (acts at ``t + delay + j dt``)."""
    return delay + j * dt / 2.0 - h


def start_v(params: dict, v_init: float, lead: float, label: str) -> float:
    """``V`` to start from ``lead`` ms before time 0, so that it has decayed to ``v_init`` then.

    Raises
    ------
    ConfigError
        That start is at or above the threshold (it would fire before time 0).
    """
    steady = params["v_rest"] + params["i_offset"] * params["tau_m"] / params["cm"]
    v0 = steady + (v_init - steady) * math.exp(lead / params["tau_m"])
    if v0 >= params["v_thresh"]:
        raise ConfigError(
            f"population {label!r}: v_init = {v_init} mV would have to start at {v0:g} mV, "
            f"{lead:g} ms before time 0 (the input offset), at or above v_thresh: not "
            "reproducible in pynn:nest"
        )
    return v0
