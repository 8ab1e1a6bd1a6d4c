r"""Sparsey: a hierarchy of macrocolumns with single-trial learning (Rinkus 2014, 2017).

A macrocolumn (MAC) holds ``Q`` competitive modules (CMs) of ``K`` binary cells; its code is one
winner per CM. A level is a 2-D grid of MACs; each MAC of level 1 sees a local, rectangular
receptive field (RF) of the input, each MAC of a higher level the codes of a window of MACs of
the level below. Three sources of binary afferent weights feed a MAC: bottom-up ``U`` (its RF at
``t``), horizontal ``H`` (the codes of its neighbours, itself included, at ``t - 1``) and top-down
``D`` (the codes of the MACs above whose RF holds it, at ``t - 1``).

Code Selection Algorithm (CSA), per MAC and frame:

1. gate: the MAC takes part only when its number of active RF inputs lies in
   ``[pi_min, pi_max]``;
2. input sums through set weights from active afferents, normalised by the number of active
   afferents of each source: :math:`U_i = u_i / n_U`, :math:`H_i = h_i / n_H`,
   :math:`D_i = d_i / n_D`, all in ``[0, 1]``;
3. local support :math:`V_i = U_i^{\lambda_U} H_i^{\lambda_H} D_i^{\lambda_D}` (an absent source,
   no active afferent, contributes 1);
4. familiarity :math:`G = \frac{1}{Q} \sum_q \max_{i \in q} V_i`;
5. expansivity
   :math:`\eta = 1 + \max\left(0, \frac{G - G_{min}}{1 - G_{min}}\right)^{\gamma} \chi K`;
6. relative win weight
   :math:`\psi_i = 1 + \frac{\eta - 1}{1 + e^{-\sigma_1 (V_i - \sigma_2)}}`:
   for a novel input (:math:`G \le G_{min}`) every :math:`\psi_i = 1` (uniform choice); for a
   familiar one the max-V cell gets a weight near :math:`\eta \gg K`;
7. learning: winner drawn in each CM with :math:`\rho_i = \psi_i / \sum_{j \in q} \psi_j`;
   recognising: the max-V cell of each CM (lowest index on ties).

Learning is single-trial and Hebbian: the weights from every active afferent (U, H and D) to
the chosen winners are set to 1. A MAC whose fraction of set U weights exceeds ``saturation``
ends its critical period: it keeps encoding but never learns again (see
:meth:`Sparsey.saturation`).

Mechanisms of issue 15 (each a :class:`LevelConfig` field that switches it off; see
``docs/models/sparsey.md``, "Mechanisms"): backoff at recognition (hold, skip, fewer sources),
competing hypotheses carried as H/D context, H without the cell's own CM, recall mode
(:meth:`Sparsey.recall_sequence`) and top-down regeneration (:meth:`Sparsey.regenerate`),
passive decay with permanence, per-bundle critical periods, the ratcheting sigmoid inflection,
and the graded code selection (odds expansivity, relative V, crosstalk-corrected U).
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuromem.sdr import ModularCode

from . import kernels as _k

__all__ = [
    "LevelConfig",
    "SparseyConfig",
    "Sparsey",
    "Encoding",
    "SaturationWarning",
    "FORMAT_VERSION",
]

#: version of the ``.npz`` save format written by :meth:`Sparsey.save`
FORMAT_VERSION = 1


class SaturationWarning(UserWarning):
    """Learning was asked of MACs past their critical period (they did not learn)."""


def _json_default(obj):
    """JSON for the NumPy values of a bit generator's state (MT19937 holds an array)."""
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON data")


def _int(value, name, minimum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _float(value, name, lo=None, hi=None, lo_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    if np.isnan(v):
        raise ValueError(f"{name} must be a number, got NaN")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {v}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {v}")
    return v


def _pair(value, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a pair (rows, cols), got {value!r}")
    return (_int(value[0], f"{name}[0]", 1), _int(value[1], f"{name}[1]", 1))


@dataclass
class LevelConfig:
    r"""One level of MACs and the CSA constants of its MACs.

    Parameters
    ----------
    grid : (int, int)
        MACs per row and column of the level.
    rf : (int, int) or None
        Receptive field of each MAC, a window of the grid below (pixels for level 1, MACs for
        higher levels); all channels / all cells of the window are afferents. ``None``: the
        whole grid below. Windows are spread evenly (and overlap when ``grid * rf`` exceeds the
        size below); a window larger than the grid below is an error.
    Q : int
        CMs per MAC (``>= 1``).
    K : int
        Cells per CM (``>= 2``).
    h_radius : int
        Horizontal afferents: the codes of the MACs within this Chebyshev distance on the grid
        (0: the MAC's own code only); ``-1`` disables H.
    use_d : bool
        Top-down afferents from the MACs of the next level whose RF contains this MAC.
    persistence : int
        A code of this level is recomputed every ``persistence`` frames of a sequence and
        persists in between.
    lambda_u, lambda_h, lambda_d : float
        Exponents of U, H and D in ``V``.
    G_min : float
        Familiarity below which the choice of code is uniform (``0 <= G_min < 1``).
    gamma : float
        Exponent of the expansivity curve.
    chi : float
        Expansivity scale: ``eta`` reaches ``1 + chi * K`` for a fully familiar input.
    sigma1, sigma2 : float
        Slope and inflection point of the sigmoid mapping ``V`` to the win weight.
    pi_min, pi_max : int
        Gate: the MAC takes part only if its active RF inputs are in ``[pi_min, pi_max]``
        (``pi_max = 0``: no upper bound).
    saturation : float
        Critical period: a MAC stops learning once its fraction of set U weights exceeds this.
    cell_saturation : float
        A cell whose fraction of set U weights exceeds this is full and takes part in no new
        code (1.0: never). This bounds how many different inputs one cell absorbs, which keeps
        recognition from collapsing onto "hub" cells whose weights cover every input.
    backoff : float
        Recognition only (Rinkus 2014, "back-off"): when ``G`` of the full product ``V`` falls
        below ``backoff`` times the familiarity of U alone, the MAC tries, in order, *hold*
        (its previous code, if U alone supports it: a repeated frame, time warp), *skip* (H
        from the code recall mode predicts for ``t``: a dropped frame) and products of fewer
        sources (HU/UD, then U; never without U while there is bottom-up input), and takes the
        first reaching the threshold. 0: off (the full product always).
    backoff_hold : bool
        Whether the hold step of ``backoff`` is tried.
    hypotheses : bool
        Recognition only: pass on through H and D every cell within ``hypothesis_margin`` of its
        CM's maximum V (several competing hypotheses in superposition), not only the winners;
        H support counts the source CMs with a set weight from any active cell, so a cell
        consistent with any carried hypothesis reaches ``H = 1``. Off: only the winners.
    hypothesis_margin : float
        How far below the CM's maximum V a carried hypothesis may be (capped, per frame, by
        ``1 - G`` of U alone, so a clean input carries exact ties only).
    start_unit : bool
        Frame 0 of a sequence gets a "sequence start" H afferent (neuromem's choice, see the
        docs); off: frame 0 has no H source.
    h_exclude_own_cm : bool
        H afferents from the cell's own CM (its competitors) are neither learned nor counted
        (Rinkus 2010, 2014: H connects a cell to the *other* CMs).
    decay : int
        Passive decay (sparsey.com): every ``decay`` learning frames of a MAC, a set weight that
        is not permanent and was last reinforced ``decay`` or more learning frames ago is
        erased. 0: off.
    permanence : int
        A weight reinforced (set while already set) this many times in all becomes permanent
        and never decays; 1: every weight is permanent once set (no decay).
    saturation_h, saturation_d : float or None
        Per-bundle critical periods: the H (D) bundle of a MAC stops learning once its fraction
        of set weights exceeds this, independently of U; a MAC whose U bundle is frozen then
        takes the max-U cells as its code and keeps learning H (D) into them. None: the bundle's
        learning ends with the U critical period (``saturation``).
    sigma2_max : float or None
        Ratchet of the sigmoid's inflection: ``sigma2`` rises linearly to ``sigma2_max`` as the
        MAC's fraction of set U weights goes from 0 to ``saturation`` (crosstalk grows with
        saturation, so a partial match must be stronger to keep its code). None: fixed.
    expansivity : {"power", "odds"}
        ``"power"``: :math:`\eta = 1 + g^\gamma \chi K`; ``"odds"``:
        :math:`\eta = 1 + \min(\chi K, (K - 1) g^\gamma / (1 - g))`, with which the max-V cell
        of a CM wins with probability about ``g`` (the normalised familiarity), the graded
        mapping (neuromem's form of Rinkus's "expected code intersection grows with G").
    relative_v : bool
        The sigmoid acts on ``V / max V`` of the CM instead of ``V``.
    crosstalk_correction : bool
        U is discounted by each cell's density ``d`` of set U weights:
        :math:`U' = \max(0, (U - d) / (1 - d))`, the support a random input would not give.
    """

    grid: tuple[int, int] = (1, 1)
    rf: tuple[int, int] | None = None
    Q: int = 16
    K: int = 16
    h_radius: int = -1
    use_d: bool = False
    persistence: int = 1
    lambda_u: float = 1.0
    lambda_h: float = 1.0
    lambda_d: float = 1.0
    G_min: float = 0.3
    gamma: float = 1.0
    chi: float = 100.0
    sigma1: float = 25.0
    sigma2: float = 0.75
    pi_min: int = 1
    pi_max: int = 0
    saturation: float = 0.5
    cell_saturation: float = 1.0
    backoff: float = 0.8
    backoff_hold: bool = True
    hypotheses: bool = True
    hypothesis_margin: float = 0.1
    start_unit: bool = True
    h_exclude_own_cm: bool = True
    decay: int = 0
    permanence: int = 1
    saturation_h: float | None = None
    saturation_d: float | None = None
    sigma2_max: float | None = None
    expansivity: str = "power"
    relative_v: bool = False
    crosstalk_correction: bool = False

    def validate(self, name: str = "level") -> None:
        """Check every field; raises ``ValueError``/``TypeError`` naming the bad one."""
        self.grid = _pair(self.grid, f"{name}.grid")
        if self.rf is not None:
            self.rf = _pair(self.rf, f"{name}.rf")
        self.Q = _int(self.Q, f"{name}.Q", 1)
        self.K = _int(self.K, f"{name}.K", 2)
        self.h_radius = _int(self.h_radius, f"{name}.h_radius", -1)
        if not isinstance(self.use_d, (bool, np.bool_)):
            raise TypeError(f"{name}.use_d must be a bool, got {type(self.use_d).__name__}")
        self.persistence = _int(self.persistence, f"{name}.persistence", 1)
        for lam in ("lambda_u", "lambda_h", "lambda_d"):
            setattr(self, lam, _float(getattr(self, lam), f"{name}.{lam}", lo=0.0))
        self.G_min = _float(self.G_min, f"{name}.G_min", lo=0.0)
        if self.G_min >= 1.0:
            raise ValueError(f"{name}.G_min must be < 1, got {self.G_min}")
        self.gamma = _float(self.gamma, f"{name}.gamma", lo=0.0, lo_open=True)
        self.chi = _float(self.chi, f"{name}.chi", lo=0.0)
        self.sigma1 = _float(self.sigma1, f"{name}.sigma1", lo=0.0, lo_open=True)
        self.sigma2 = _float(self.sigma2, f"{name}.sigma2")
        self.pi_min = _int(self.pi_min, f"{name}.pi_min", 1)
        self.pi_max = _int(self.pi_max, f"{name}.pi_max", 0)
        if self.pi_max and self.pi_max < self.pi_min:
            raise ValueError(f"{name}.pi_max ({self.pi_max}) must be >= pi_min ({self.pi_min})")
        self.saturation = _float(self.saturation, f"{name}.saturation", lo=0.0, lo_open=True)
        if self.saturation > 1.0:
            raise ValueError(f"{name}.saturation must be <= 1, got {self.saturation}")
        self.cell_saturation = _float(
            self.cell_saturation, f"{name}.cell_saturation", lo=0.0, lo_open=True
        )
        if self.cell_saturation > 1.0:
            raise ValueError(f"{name}.cell_saturation must be <= 1, got {self.cell_saturation}")
        self.backoff = _float(self.backoff, f"{name}.backoff", lo=0.0, hi=1.0)
        for flag in (
            "start_unit",
            "backoff_hold",
            "hypotheses",
            "h_exclude_own_cm",
            "relative_v",
            "crosstalk_correction",
        ):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise TypeError(
                    f"{name}.{flag} must be a bool, got {type(getattr(self, flag)).__name__}"
                )
        self.hypothesis_margin = _float(
            self.hypothesis_margin, f"{name}.hypothesis_margin", lo=0.0, hi=1.0
        )
        self.decay = _int(self.decay, f"{name}.decay", 0)
        self.permanence = _int(self.permanence, f"{name}.permanence", 1)
        if self.permanence > 255:
            raise ValueError(f"{name}.permanence must be <= 255, got {self.permanence}")
        for bundle in ("saturation_h", "saturation_d"):
            v = getattr(self, bundle)
            if v is not None:
                v = _float(v, f"{name}.{bundle}", lo=0.0, hi=1.0, lo_open=True)
                setattr(self, bundle, v)
        if self.sigma2_max is not None:
            self.sigma2_max = _float(self.sigma2_max, f"{name}.sigma2_max")
        if self.expansivity not in ("power", "odds"):
            raise ValueError(
                f"{name}.expansivity must be 'power' or 'odds', got {self.expansivity!r}"
            )

    def params(self) -> np.ndarray:
        """The CSA constants as the float vector the kernels take."""
        p = np.zeros(_k.N_PARAMS)
        p[_k.P_LAMBDA_U] = self.lambda_u
        p[_k.P_LAMBDA_H] = self.lambda_h
        p[_k.P_LAMBDA_D] = self.lambda_d
        p[_k.P_G_MIN] = self.G_min
        p[_k.P_GAMMA] = self.gamma
        p[_k.P_CHI] = self.chi
        p[_k.P_SIGMA1] = self.sigma1
        p[_k.P_SIGMA2] = self.sigma2
        p[_k.P_PI_MIN] = self.pi_min
        p[_k.P_PI_MAX] = self.pi_max if self.pi_max else np.inf
        p[_k.P_SATURATION] = self.saturation
        p[_k.P_CELL_SATURATION] = self.cell_saturation
        p[_k.P_BACKOFF] = self.backoff
        p[_k.P_HOLD] = float(self.backoff_hold)
        p[_k.P_HYPOTHESES] = float(self.hypotheses)
        p[_k.P_HYP_MARGIN] = self.hypothesis_margin
        p[_k.P_H_EXCLUDE_OWN_CM] = float(self.h_exclude_own_cm)
        p[_k.P_DECAY] = self.decay
        p[_k.P_PERMANENCE] = self.permanence
        p[_k.P_SAT_H] = -1.0 if self.saturation_h is None else self.saturation_h
        p[_k.P_SAT_D] = -1.0 if self.saturation_d is None else self.saturation_d
        p[_k.P_SIGMA2_MAX] = self.sigma2 if self.sigma2_max is None else self.sigma2_max
        p[_k.P_EXPANSIVITY] = 1.0 if self.expansivity == "odds" else 0.0
        p[_k.P_RELATIVE_V] = float(self.relative_v)
        p[_k.P_CROSSTALK] = float(self.crosstalk_correction)
        p[_k.P_K_D] = 1.0  # set by the level above (Sparsey connects the levels)
        return p


@dataclass
class SparseyConfig:
    """A Sparsey model: the input shape and the levels, bottom first.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one binary input frame: ``(n,)`` (one location with ``n`` channels),
        ``(rows, cols)`` or ``(rows, cols, channels)``.
    levels : list of LevelConfig
        At least one level; level ``l + 1`` takes the codes of level ``l`` as its input.
    on_saturated : {"warn", "raise", "ignore"}
        What :meth:`Sparsey.learn` does when asked to learn into MACs past their critical
        period: warn with :class:`SaturationWarning` after the call when frames reached such
        MACs (default; they learned nothing), raise ``RuntimeError`` before any work when any
        MAC has ended its critical period, or nothing. (A MAC that saturates during a call
        simply stops learning from then on.)
    """

    input_shape: tuple[int, ...] = (1024,)
    levels: list[LevelConfig] = field(default_factory=lambda: [LevelConfig()])
    on_saturated: str = "warn"

    def validate(self) -> None:
        """Check the shapes and every level (``ValueError``/``TypeError`` naming the field)."""
        shape = self.input_shape
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        if not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 3:
            raise ValueError(f"input_shape must have 1 to 3 dimensions, got {shape!r}")
        self.input_shape = tuple(_int(s, "input_shape", 1) for s in shape)
        if not isinstance(self.levels, (list, tuple)) or len(self.levels) < 1:
            raise ValueError("levels must be a non-empty list of LevelConfig")
        levels = []
        for i, lv in enumerate(self.levels):
            if isinstance(lv, dict):
                lv = LevelConfig(**lv)
            if not isinstance(lv, LevelConfig):
                raise TypeError(f"levels[{i}] must be a LevelConfig or dict")
            lv.validate(f"levels[{i}]")
            levels.append(lv)
        self.levels = levels
        if self.on_saturated not in ("warn", "raise", "ignore"):
            raise ValueError(
                f"on_saturated must be 'warn', 'raise' or 'ignore', got {self.on_saturated!r}"
            )
        below = self.grid3[:2]
        for i, lv in enumerate(self.levels):
            rf = lv.rf if lv.rf is not None else below
            if rf[0] > below[0] or rf[1] > below[1]:
                raise ValueError(
                    f"levels[{i}].rf {tuple(rf)} is out of bounds of the grid below {tuple(below)}"
                )
            below = lv.grid
        self._check_memory()

    def _check_memory(self) -> None:
        """Refuse sizes whose weight arrays (one byte per synapse) exceed the machine."""
        from neuromem._resources import check_memory

        rows, cols, ch = self.grid3
        below_units, below = float(ch), (rows, cols)
        total = 0.0
        for lv in self.levels:
            rf = lv.rf if lv.rf is not None else below
            m = float(lv.grid[0]) * lv.grid[1]
            c = float(lv.Q) * lv.K
            n_u = float(rf[0]) * rf[1] * below_units
            n_h = m * c if lv.h_radius < 0 else (2.0 * lv.h_radius + 1) ** 2 * c
            total += m * (n_u + n_h + c) * c
            below_units, below = c, lv.grid
        check_memory(total, f"levels (Q, K, grid, rf) of input_shape={self.input_shape}")

    @property
    def grid3(self) -> tuple[int, int, int]:
        """The input as (rows, cols, channels)."""
        s = self.input_shape
        if len(s) == 1:
            return (1, 1, s[0])
        if len(s) == 2:
            return (s[0], s[1], 1)
        return tuple(s)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the inverse of :meth:`from_dict`)."""
        return {
            "input_shape": list(self.input_shape),
            "levels": [
                {
                    k: (list(v) if isinstance(v, tuple) else v)
                    for k, v in dataclasses.asdict(lv).items()
                }
                for lv in self.levels
            ],
            "on_saturated": self.on_saturated,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SparseyConfig:
        """Build and validate from a dict such as :meth:`to_dict` returns."""
        if not isinstance(d, dict):
            raise TypeError(f"config must be a dict, got {type(d).__name__}")
        unknown = set(d) - {"input_shape", "levels", "on_saturated"}
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        fields = {f.name for f in dataclasses.fields(LevelConfig)}
        levels = []
        for i, lv in enumerate(d.get("levels", [{}])):
            bad = set(lv) - fields
            if bad:
                raise ValueError(f"levels[{i}]: unknown keys: {', '.join(sorted(bad))}")
            lv = dict(lv)
            for key in ("grid", "rf"):
                if lv.get(key) is not None:
                    lv[key] = tuple(lv[key])
            levels.append(LevelConfig(**lv))
        cfg = cls(
            input_shape=tuple(d.get("input_shape", (1024,))),
            levels=levels,
            on_saturated=d.get("on_saturated", "warn"),
        )
        cfg.validate()
        return cfg


_EMPTY = np.zeros(1, dtype=np.uint8)
_NO_PREV = np.full((1, 1), -1, dtype=np.int64)


def _window_starts(n_below: int, rf: int, n: int) -> np.ndarray:
    if n == 1:
        return np.array([(n_below - rf) // 2])
    return np.round(np.linspace(0, n_below - rf, n)).astype(np.int64)


def _pad(rows: list[list[int]]) -> np.ndarray:
    width = max(1, max((len(r) for r in rows), default=0))
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


class _Level:
    """Arrays of one level: afferent maps, weights, critical-period state."""

    def __init__(self, cfg: LevelConfig, below: tuple[int, int], below_units: int):
        self.cfg = cfg
        self.Q, self.K = cfg.Q, cfg.K
        self.C = cfg.Q * cfg.K
        self.grid = cfg.grid
        self.M = cfg.grid[0] * cfg.grid[1]
        rf = cfg.rf if cfg.rf is not None else below
        self.rf = rf
        self.below = below
        rs = _window_starts(below[0], rf[0], cfg.grid[0])
        cs = _window_starts(below[1], rf[1], cfg.grid[1])
        self.starts = [(int(r), int(c)) for r in rs for c in cs]
        rows = []
        for r0, c0 in self.starts:
            aff = []
            for r in range(r0, r0 + rf[0]):
                for c in range(c0, c0 + rf[1]):
                    base = (r * below[1] + c) * below_units
                    aff.extend(range(base, base + below_units))
            rows.append(aff)
        self.u_aff = _pad(rows)
        self.n_inputs = below[0] * below[1] * below_units
        self.n_valid_u = np.array([len(r) for r in rows], dtype=np.int64)
        hrows = []
        if cfg.h_radius >= 0:
            R = cfg.h_radius
            for i in range(self.M):
                ri, ci = divmod(i, cfg.grid[1])
                aff = []
                for j in range(self.M):
                    rj, cj = divmod(j, cfg.grid[1])
                    if max(abs(ri - rj), abs(ci - cj)) <= R:
                        aff.extend(range(j * self.C, (j + 1) * self.C))
                aff.append(self.M * self.C)  # the sequence-start afferent
                hrows.append(aff)
        else:
            hrows = [[] for _ in range(self.M)]
        self.h_aff = _pad(hrows)
        self.d_aff = np.full((self.M, 1), -1, dtype=np.int64)
        self.params = cfg.params()
        self.WU = np.zeros((self.M, self.u_aff.shape[1], self.C), dtype=np.uint8)
        self.WH = np.zeros((self.M, self.h_aff.shape[1], self.C), dtype=np.uint8)
        self.WD = np.zeros((self.M, 1, self.C), dtype=np.uint8)
        self.frozen = np.zeros(self.M, dtype=np.bool_)
        self.n_set = np.zeros(self.M, dtype=np.int64)
        self.n_set_cell = np.zeros((self.M, self.C), dtype=np.int64)
        # per MAC: learning frames, set H, set D, real H afferents, real D afferents,
        # H bundle frozen, D bundle frozen
        self.state = np.zeros((self.M, 7), dtype=np.int64)
        self.state[:, 3] = [len(r) for r in hrows]
        self._alloc_decay()

    def _alloc_decay(self) -> None:
        """Reinforcement counts and times of every weight (placeholders when decay is off)."""
        arrs = []
        for W in (self.WU, self.WH, self.WD):
            shape = W.shape if self.cfg.decay > 0 else (1, 1, 1)
            arrs += [np.zeros(shape, dtype=np.uint8), np.zeros(shape, dtype=np.int64)]
        self.RU, self.TU, self.RH, self.TH, self.RD, self.TD = arrs

    @property
    def decay_arrays(self) -> tuple:
        return (self.RU, self.TU, self.RH, self.TH, self.RD, self.TD)

    def connect_above(self, above: _Level) -> None:
        """Top-down afferents: cells of the MACs above whose RF window holds this MAC."""
        if not self.cfg.use_d:
            return
        rows = []
        for i in range(self.M):
            ri, ci = divmod(i, self.grid[1])
            aff = []
            for j, (r0, c0) in enumerate(above.starts):
                if r0 <= ri < r0 + above.rf[0] and c0 <= ci < c0 + above.rf[1]:
                    aff.extend(range(j * above.C, (j + 1) * above.C))
            rows.append(aff)
        self.d_aff = _pad(rows)
        self.WD = np.zeros((self.M, self.d_aff.shape[1], self.C), dtype=np.uint8)
        self.state[:, 4] = [len(r) for r in rows]
        self.params[_k.P_K_D] = above.K
        self._alloc_decay()

    def _kernel_args(self, learn: bool, rand: np.ndarray | None = None) -> tuple:
        """The level's arrays and constants in the argument order of the CSA kernels."""
        return (
            self.u_aff,
            self.h_aff,
            self.d_aff,
            self.WU,
            self.WH,
            self.WD,
            self.Q,
            self.K,
            self.params,
            learn,
            self.frozen,
            self.n_set,
            self.n_set_cell,
            self.n_valid_u,
            self.state,
            self.decay_arrays,
        )

    def csa_frame(
        self,
        x,
        xh,
        xd,
        use_h,
        use_d,
        learn,
        rand,
        out_w,
        out_G,
        recall=False,
        out_ctx=None,
        xs=None,
        prev_w=None,
    ) -> np.ndarray:
        """:func:`~neuromem.sparsey.kernels.csa_frame` on this level's arrays (updated in place).

        Returns the context cells ``(M, Q*K)`` the frame passes on (``out_ctx``); ``xs`` is the
        predicted context of the "skip" backoff and ``prev_w`` the winners at ``t - 1`` of the
        "hold" backoff (recognition only).
        """
        if out_ctx is None:
            out_ctx = np.zeros((self.M, self.C), dtype=np.uint8)
        _k.csa_frame(
            x,
            xh,
            xd,
            use_h,
            use_d,
            _EMPTY if xs is None else xs,
            xs is not None,
            _NO_PREV if prev_w is None else prev_w,
            *self._kernel_args(learn, rand),
            recall,
            rand,
            out_w,
            out_G,
            out_ctx,
        )
        return out_ctx

    def csa_batch(self, X, learn, rand, out_w, out_G) -> None:
        """:func:`~neuromem.sparsey.kernels.csa_batch` on this level's arrays (updated in place)."""
        ctx = np.zeros((self.M, self.C), dtype=np.uint8)
        _k.csa_batch(X, *self._kernel_args(learn, rand), False, rand, out_w, out_G, ctx)


@dataclass
class Encoding:
    """Codes and familiarity of a batch of frames (what :meth:`Sparsey.encode` returns).

    Attributes
    ----------
    winners : list of numpy.ndarray
        Per level, int64 array ``(n, M, Q)``: the winner of each CM of each MAC; ``-1`` where the
        MAC's gate was closed (no code).
    G : list of numpy.ndarray
        Per level, float array ``(n, M)``: the familiarity of each MAC (``NaN`` when gated off).
    K : list of int
        Cells per CM of each level.
    """

    winners: list[np.ndarray]
    G: list[np.ndarray]
    K: list[int]

    def __len__(self) -> int:
        return int(self.winners[0].shape[0])

    def code(self, item: int = 0, level: int = 0, mac: int = 0) -> ModularCode | None:
        """The code of one MAC as a :class:`~neuromem.sdr.ModularCode` (None when gated off)."""
        w = self.winners[level][item, mac]
        if (w < 0).any():
            return None
        return ModularCode(w, self.K[level])

    def flat(self, levels=None) -> np.ndarray:
        """Winners of the chosen levels (default all) side by side: int64 ``(n, P)``.

        A gated-off MAC contributes ``-1`` in each of its CMs.
        """
        if levels is None:
            levels = range(len(self.winners))
        parts = [self.winners[lv].reshape(len(self), -1) for lv in levels]
        return np.concatenate(parts, axis=1)

    def mean_G(self, level: int = 0) -> float:
        """Mean familiarity over the MACs that took part."""
        g = self.G[level]
        return float(np.nanmean(g)) if np.isfinite(g).any() else float("nan")


class Sparsey:
    """A Sparsey model: levels of MACs, their weights and the CSA.

    Parameters
    ----------
    config : SparseyConfig or dict
        The architecture (validated here).
    seed : int or numpy.random.Generator
        Source of every code draw: an int >= 0 seeds the model's own
        :class:`numpy.random.Generator`; a Generator is used as it is (drawing advances it).
        :attr:`seed` is the int, or -1 when a Generator was given (see :mod:`neuromem.rng`).

    Raises
    ------
    ValueError, TypeError
        For a bad configuration (K < 2, Q < 1, receptive field out of bounds, ...).

    Examples
    --------
    >>> cfg = SparseyConfig(input_shape=(64,), levels=[LevelConfig(Q=4, K=4)])
    >>> model = Sparsey(cfg, seed=0)
    >>> x = np.zeros(64, dtype=bool); x[:8] = True
    >>> learned = model.learn(x)
    >>> bool((model.encode(x).winners[0] == learned.winners[0]).all())
    True
    """

    def __init__(
        self, config: SparseyConfig | dict | None = None, seed: int | np.random.Generator = 0
    ):
        if config is None:
            config = SparseyConfig()
        if isinstance(config, dict):
            config = SparseyConfig.from_dict(config)
        if not isinstance(config, SparseyConfig):
            raise TypeError(f"config must be a SparseyConfig or dict, got {type(config).__name__}")
        config.validate()
        from neuromem.rng import as_generator, check_seed

        seed = check_seed(seed)
        self.config = config
        self.seed = -1 if isinstance(seed, np.random.Generator) else seed
        self.rng = as_generator(seed)
        rows, cols, ch = config.grid3
        below, units = (rows, cols), ch
        self.levels: list[_Level] = []
        for lv in config.levels:
            level = _Level(lv, below, units)
            self.levels.append(level)
            below, units = lv.grid, level.C
        for lo, hi in zip(self.levels[:-1], self.levels[1:]):
            lo.connect_above(hi)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_config(
        cls, config: SparseyConfig | dict, seed: int | np.random.Generator = 0
    ) -> Sparsey:
        """Build from a :class:`SparseyConfig` or its dict form."""
        return cls(config, seed=seed)

    @classmethod
    def from_preset(cls, name: str | os.PathLike, seed: int | np.random.Generator = 0) -> Sparsey:
        """Build the model of a preset's ``[config.model]`` table (e.g. ``"sparsey-mnist"``)."""
        from .presets import config_from_preset

        return cls(config_from_preset(name), seed=seed)

    # ------------------------------------------------------------------ inspection
    @property
    def n_levels(self) -> int:
        """Number of levels."""
        return len(self.levels)

    def saturation(self, kind: str = "U") -> list[np.ndarray]:
        """Per level, the fraction of set weights of each MAC's ``kind`` bundle (U, H or D).

        A MAC without afferents of that kind reports 0.
        """
        if kind not in ("U", "H", "D"):
            raise ValueError(f"kind must be 'U', 'H' or 'D', got {kind!r}")
        if kind == "U":
            return [lv.n_set / (lv.n_valid_u * lv.C) for lv in self.levels]
        col, n_col = (1, 3) if kind == "H" else (2, 4)
        return [lv.state[:, col] / np.maximum(lv.state[:, n_col] * lv.C, 1) for lv in self.levels]

    def frozen(self, kind: str = "U") -> list[np.ndarray]:
        """Per level, which MACs have ended the critical period of their ``kind`` bundle.

        ``"U"``: no more learning of U (nor of H and D whose own ``saturation_h`` /
        ``saturation_d`` is ``None``); ``"H"``/``"D"``: that bundle learns no more.
        """
        if kind not in ("U", "H", "D"):
            raise ValueError(f"kind must be 'U', 'H' or 'D', got {kind!r}")
        if kind == "U":
            return [lv.frozen.copy() for lv in self.levels]
        out = []
        for lv in self.levels:
            own = lv.cfg.saturation_h if kind == "H" else lv.cfg.saturation_d
            col = 5 if kind == "H" else 6
            out.append(lv.frozen.copy() if own is None else lv.state[:, col].astype(bool))
        return out

    def weights(self, level: int = 0, kind: str = "U", mac: int = 0) -> np.ndarray:
        """A copy of one MAC's weights as ``(n_afferents, Q, K)`` (padding rows dropped).

        Parameters
        ----------
        level : int
            Level index (0 is the bottom).
        kind : {"U", "H", "D"}
            Bottom-up, horizontal or top-down weights. The last H row is the sequence-start
            afferent.
        mac : int
            MAC index (row-major on the level's grid).
        """
        lv = self._level(level)
        if kind not in ("U", "H", "D"):
            raise ValueError(f"kind must be 'U', 'H' or 'D', got {kind!r}")
        mac = _int(mac, "mac", 0)
        if mac >= lv.M:
            raise ValueError(f"mac must be < {lv.M}, got {mac}")
        W, aff = {"U": (lv.WU, lv.u_aff), "H": (lv.WH, lv.h_aff), "D": (lv.WD, lv.d_aff)}[kind]
        n = int((aff[mac] >= 0).sum())
        return W[mac, :n].reshape(n, lv.Q, lv.K).copy()

    def afferents(self, level: int = 0, kind: str = "U", mac: int = 0) -> np.ndarray:
        """Indices of one MAC's afferents in its source vector (input, or cells of a level)."""
        lv = self._level(level)
        aff = {"U": lv.u_aff, "H": lv.h_aff, "D": lv.d_aff}[kind]
        return aff[mac][aff[mac] >= 0].copy()

    def _level(self, level) -> _Level:
        level = _int(level, "level", 0)
        if level >= len(self.levels):
            raise ValueError(f"level must be < {len(self.levels)}, got {level}")
        return self.levels[level]

    def __repr__(self) -> str:
        parts = ", ".join(f"{lv.grid[0]}x{lv.grid[1]} MACs Q={lv.Q} K={lv.K}" for lv in self.levels)
        return f"Sparsey(input={self.config.input_shape}, levels=[{parts}])"

    # ------------------------------------------------------------------ input checks
    def _check_frames(self, X, name: str, single_ok: bool = True) -> tuple[np.ndarray, bool]:
        arr = np.asarray(X)
        if arr.dtype == object or not (
            arr.dtype == bool
            or np.issubdtype(arr.dtype, np.integer)
            or np.issubdtype(arr.dtype, np.floating)
        ):
            raise TypeError(f"{name} must be a boolean or numeric array, got dtype {arr.dtype}")
        shape = self.config.input_shape
        single = False
        if single_ok and arr.shape == shape:
            arr = arr[None]
            single = True
        if arr.ndim != len(shape) + 1 or arr.shape[1:] != shape:
            raise ValueError(
                f"{name} must have shape (n, {', '.join(map(str, shape))})"
                + (f" or {shape}" if single_ok else "")
                + f", got {arr.shape}"
            )
        if arr.shape[0] == 0:
            raise ValueError(f"{name} holds no frames")
        if arr.dtype != bool:
            if np.issubdtype(arr.dtype, np.floating) and np.isnan(arr).any():
                raise ValueError(f"{name} contains NaN")
            if not ((arr == 0) | (arr == 1)).all():
                raise ValueError(f"{name} must be binary (0/1 or bool)")
        flat = np.ascontiguousarray(arr.reshape(arr.shape[0], -1), dtype=np.uint8)
        return flat, single

    def _saturation_check(self, frozen_before: list[np.ndarray], winners: list[np.ndarray]):
        hit = []
        for i, (fz, w) in enumerate(zip(frozen_before, winners)):
            active = (w[..., 0] >= 0).any(axis=0)
            n = int((fz & active).sum())
            if n:
                hit.append(f"level {i}: {n} of {fz.size} MACs")
        if hit:
            msg = (
                "learning into saturated MACs (critical period over, nothing learned there): "
                + "; ".join(hit)
            )
            if self.config.on_saturated == "warn":
                warnings.warn(msg, SaturationWarning, stacklevel=3)

    def _precheck_saturated(self):
        if self.config.on_saturated == "raise":
            hit = [f"level {i}: {int(lv.frozen.sum())} MACs" for i, lv in enumerate(self.levels)]
            if any(lv.frozen.any() for lv in self.levels):
                raise RuntimeError(
                    "learning into a saturated model (MACs past their critical period: "
                    + "; ".join(hit)
                    + "); nothing was learned"
                )

    # ------------------------------------------------------------------ independent frames
    def _run_batch(self, flat: np.ndarray, learn: bool) -> Encoding:
        n = flat.shape[0]
        winners, Gs = [], []
        x = flat
        for li, lv in enumerate(self.levels):
            if li > 0:
                x = _k.codes_to_cells(winners[-1], self.levels[li - 1].K)
            w = np.empty((n, lv.M, lv.Q), dtype=np.int64)
            G = np.empty((n, lv.M), dtype=np.float64)
            rand = self.rng.random((n, lv.M, lv.Q)) if learn else np.zeros((n, 1, 1))
            lv.csa_batch(x, learn, rand, w, G)
            winners.append(w)
            Gs.append(G)
        return Encoding(winners, Gs, [lv.K for lv in self.levels])

    def learn(self, X) -> Encoding:
        """Learn frames single-trial, each on its own (no sequence context).

        Parameters
        ----------
        X : array_like
            Shape ``(n,) + input_shape`` or ``input_shape`` (one frame).
            Binary frames (bool or 0/1).

        Returns
        -------
        Encoding
            The codes chosen (and learned) for each frame, with their familiarity ``G``.

        Raises
        ------
        TypeError, ValueError
            Non-binary, NaN or wrong-shape input.
        RuntimeError
            With ``on_saturated="raise"``, when any MAC has ended its critical period (before
            any work).

        Warns
        -----
        SaturationWarning
            When frames reached MACs past their critical period (default ``on_saturated``).
        """
        flat, _ = self._check_frames(X, "X")
        self._precheck_saturated()
        before = self.frozen()
        enc = self._run_batch(flat, learn=True)
        self._saturation_check(before, enc.winners)
        return enc

    def encode(self, X) -> Encoding:
        """Codes and familiarity of frames without learning (max-V cell in each CM).

        Parameters
        ----------
        X : array_like
            Shape ``(n,) + input_shape`` or ``input_shape`` (one frame).
            Binary frames.

        Returns
        -------
        Encoding
        """
        flat, _ = self._check_frames(X, "X")
        return self._run_batch(flat, learn=False)

    recognize = encode

    # ------------------------------------------------------------------ sequences
    def _run_sequence(
        self, flat: np.ndarray, learn: bool, recall_from: int | None = None
    ) -> Encoding:
        """Frames in order; from frame ``recall_from`` on, level 1 runs in recall mode."""
        T = flat.shape[0]
        L = len(self.levels)
        winners = [np.empty((T, lv.M, lv.Q), dtype=np.int64) for lv in self.levels]
        Gs = [np.empty((T, lv.M), dtype=np.float64) for lv in self.levels]
        # per level: the code at t - 1 (winners' cells: the next level's U input) and the
        # context it passes on through H and D (the winners, or every tied max-V cell when
        # recognising with ``hypotheses``)
        prev_cells = [np.zeros(lv.M * lv.C, dtype=np.uint8) for lv in self.levels]
        prev_ctx = [np.zeros(lv.M * lv.C, dtype=np.uint8) for lv in self.levels]
        has_prev = [False] * L
        empty = np.zeros(1, dtype=np.uint8)
        # H input: this level's context at t - 1, then one "sequence start" afferent that is on
        # only when the level has no previous code (frame 0): the first frame of a sequence is
        # learned in a context of its own, so recognising a sequence from its start is not
        # confused by the same frame stored in mid-sequence contexts.
        start = [np.zeros(lv.M * lv.C + 1, dtype=np.uint8) for lv in self.levels]
        for st in start:
            st[-1] = 1
        for t in range(T):
            x = flat[t]
            recall = recall_from is not None and t >= recall_from
            cur_cells, cur_ctx = [], []
            for li, lv in enumerate(self.levels):
                if li > 0:
                    x = cur_cells[li - 1]
                if t > 0 and t % lv.cfg.persistence != 0:
                    winners[li][t] = winners[li][t - 1]
                    Gs[li][t] = Gs[li][t - 1]
                    cur_cells.append(prev_cells[li])
                    cur_ctx.append(prev_ctx[li])
                    continue
                use_h = lv.cfg.h_radius >= 0 and (has_prev[li] or lv.cfg.start_unit)
                if use_h:
                    xh = np.append(prev_ctx[li], np.uint8(0)) if has_prev[li] else start[li]
                else:
                    xh = empty
                use_d = li + 1 < L and has_prev[li + 1] and lv.cfg.use_d
                rand = self.rng.random((lv.M, lv.Q)) if learn else np.zeros((lv.M, lv.Q))
                xs = None
                if not learn and not recall and use_h and has_prev[li] and lv.cfg.backoff > 0:
                    # the code predicted for t from the context alone (recall mode): the
                    # source of the "skip" backoff when a frame was dropped
                    pw = np.empty((lv.M, lv.Q), dtype=np.int64)
                    pG = np.empty(lv.M)
                    pred = lv.csa_frame(x, xh, empty, True, False, False, rand, pw, pG, True)
                    xs = np.append(pred.reshape(-1), np.uint8(0))
                ctx = lv.csa_frame(
                    x,
                    xh,
                    prev_ctx[li + 1] if use_d else empty,
                    use_h,
                    use_d,
                    learn,
                    rand,
                    winners[li][t],
                    Gs[li][t],
                    recall=recall and li == 0,
                    xs=xs,
                    prev_w=winners[li][t - 1] if t > 0 and has_prev[li] else None,
                )
                cur_cells.append(_k.codes_to_cells(winners[li][t][None], lv.K)[0])
                cur_ctx.append(ctx.reshape(-1))
            for li in range(L):
                prev_cells[li] = cur_cells[li]
                prev_ctx[li] = cur_ctx[li]
                has_prev[li] = bool(prev_cells[li].any())
        return Encoding(winners, Gs, [lv.K for lv in self.levels])

    def learn_sequence(self, S) -> Encoding:
        """Learn one sequence (episode) in a single presentation.

        Frame ``t`` is coded with bottom-up input ``S[t]``, horizontal input from the level's
        codes at ``t - 1`` and top-down input from the level above at ``t - 1``; the weights of
        all three sources to the winners are set. At frame 0 (no previous code) the only
        active H afferent is a "sequence start" unit, so first frames are stored in a context
        of their own. A level with ``persistence = p`` recomputes
        its code every ``p`` frames and holds it in between.

        Parameters
        ----------
        S : array_like
            Shape ``(T,) + input_shape``.
            Binary frames in order.

        Returns
        -------
        Encoding
            Codes per frame (``n = T``).
        """
        flat, _ = self._check_frames(S, "S", single_ok=False)
        self._precheck_saturated()
        before = self.frozen()
        enc = self._run_sequence(flat, learn=True)
        self._saturation_check(before, enc.winners)
        return enc

    def encode_sequence(self, S) -> Encoding:
        """Codes of a sequence without learning (the recognition counterpart of
        :meth:`learn_sequence`)."""
        flat, _ = self._check_frames(S, "S", single_ok=False)
        return self._run_sequence(flat, learn=False)

    recognize_sequence = encode_sequence

    # ------------------------------------------------------------------ recall, regeneration
    def recall_sequence(self, prefix, n_steps: int) -> Encoding:
        """Recognise ``prefix``, then predict ``n_steps`` more frames with no bottom-up input.

        The prefix is encoded as :meth:`encode_sequence` does (with backoff and hypotheses).
        Each following frame runs the CSA on level 1 in *recall mode*: there is no U input, so
        ``V = H^lambda_H D^lambda_D`` (the sources present), and the max-V cell of each CM
        wins, i.e. the code that most often followed the current context when learning. Upper
        levels take that predicted code as their U input as usual. Nothing is learned.

        Parameters
        ----------
        prefix : array_like
            Shape ``(T0,) + input_shape``, ``T0 >= 1``, binary frames in order.
        n_steps : int
            Frames to predict (``>= 1``).

        Returns
        -------
        Encoding
            ``T0 + n_steps`` frames: the prefix's codes, then the predicted codes (level 1
            gated off, winners ``-1``, when it has no H or D source).
        """
        flat, _ = self._check_frames(prefix, "prefix", single_ok=False)
        n_steps = _int(n_steps, "n_steps", 1)
        full = np.concatenate([flat, np.zeros((n_steps, flat.shape[1]), dtype=np.uint8)])
        return self._run_sequence(full, learn=False, recall_from=flat.shape[0])

    def regenerate(self, winners, level: int = 0) -> np.ndarray:
        """Top-down regeneration of the input from codes, through the learned U weights.

        The code of each MAC of ``level`` votes for each of its afferents with the fraction of
        its ``Q`` winners whose U weight from that afferent is set (the U weights used
        transposed, as top-down weights). Below level 1 the votes of a level give, in each CM
        of the level below, the cell with most votes, and regeneration continues down to the
        input. Where receptive fields overlap, the votes of the MACs are averaged.

        Parameters
        ----------
        winners : array_like of int
            Codes of ``level``: ``(M, Q)`` or ``(n, M, Q)`` (e.g. ``encoding.winners[level]``);
            ``-1`` for gated-off MACs (they vote for nothing).
        level : int
            Level the codes belong to.

        Returns
        -------
        numpy.ndarray
            Float scores in ``[0, 1]`` of shape ``input_shape`` (or ``(n,) + input_shape``): 1
            where every winner of every MAC covering an input has learned it. Threshold them
            (e.g. ``>= 1``, or the top ``a`` scores) to get a binary frame.
        """
        lv_idx = _int(level, "level", 0)
        self._level(lv_idx)
        w = np.asarray(winners)
        if not np.issubdtype(w.dtype, np.integer):
            raise TypeError(f"winners must be an integer array, got dtype {w.dtype}")
        lv = self.levels[lv_idx]
        single = w.ndim == 2
        if single:
            w = w[None]
        if w.ndim != 3 or w.shape[1:] != (lv.M, lv.Q):
            raise ValueError(f"winners must have shape ({lv.M}, {lv.Q}) or (n, {lv.M}, {lv.Q})")
        if (w >= lv.K).any() or (w < -1).any():
            raise ValueError(f"winners must be in [-1, {lv.K})")
        for li in range(lv_idx, -1, -1):
            lv = self.levels[li]
            scores = self._topdown(lv, w)
            if li == 0:
                break
            below = self.levels[li - 1]
            s = scores.reshape(len(w), below.M, below.Q, below.K)
            w = np.where(s.max(axis=3) > 0, s.argmax(axis=3), -1)
        out = scores.reshape((len(w),) + self.config.input_shape)
        return out[0] if single else out

    @staticmethod
    def _topdown(lv: _Level, w: np.ndarray) -> np.ndarray:
        """Mean over covering MACs of the fraction of winners whose U weight is set."""
        n = len(w)
        tot = np.zeros((n, lv.n_inputs))
        cover = np.zeros(lv.n_inputs)
        for m in range(lv.M):
            aff = lv.u_aff[m][: lv.n_valid_u[m]]
            cover[aff] += 1
            cells = np.arange(lv.Q) * lv.K + np.maximum(w[:, m], 0)  # (n, Q)
            Wm = lv.WU[m, : len(aff)]  # (A, C)
            votes = Wm[:, cells].astype(np.float64)  # (A, n, Q)
            votes *= (w[:, m] >= 0)[None]
            tot[:, aff] += votes.mean(axis=2).T
        return tot / np.maximum(cover, 1)

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the model exactly: config, weights, RNG state."""
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "seed": self.seed,
            "rng_state": self.rng.bit_generator.state,
        }
        for i, lv in enumerate(self.levels):
            out[f"level{i}.WU"] = lv.WU
            out[f"level{i}.WH"] = lv.WH
            out[f"level{i}.WD"] = lv.WD
            out[f"level{i}.frozen"] = lv.frozen
            out[f"level{i}.n_set"] = lv.n_set
            out[f"level{i}.n_set_cell"] = lv.n_set_cell
            out[f"level{i}.state"] = lv.state
            if lv.cfg.decay > 0:
                for name in ("RU", "TU", "RH", "TH", "RD", "TD"):
                    out[f"level{i}.{name}"] = getattr(lv, name)
        return out

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Sparsey:
        """Rebuild a model from :meth:`state_dict` (checks the format version and shapes)."""
        version = int(state.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise ValueError(
                f"state format_version {version} is not supported (expected {FORMAT_VERSION})"
            )
        seed = int(state["seed"])
        model = cls(SparseyConfig.from_dict(state["config"]), seed=max(seed, 0))
        model.seed = seed
        rng_state = state["rng_state"]
        if rng_state.get("bit_generator") != type(model.rng.bit_generator).__name__:
            # a model built from a caller's Generator of another kind
            bit_gen = getattr(np.random, str(rng_state.get("bit_generator")), None)
            if bit_gen is None or not isinstance(bit_gen, type):
                raise ValueError(f"state rng_state: unknown bit generator {rng_state!r:.80}")
            model.rng = np.random.Generator(bit_gen())
        model.rng.bit_generator.state = rng_state
        for i, lv in enumerate(model.levels):
            names = ["WU", "WH", "WD", "frozen", "n_set", "n_set_cell"]
            # saved before issue 15: no bundle state, no decay state (fresh ones are right)
            names += [
                n for n in ("state", "RU", "TU", "RH", "TH", "RD", "TD") if f"level{i}.{n}" in state
            ]
            for name in names:
                arr = np.asarray(state[f"level{i}.{name}"])
                cur = getattr(lv, name)
                if arr.shape != cur.shape:
                    raise ValueError(
                        f"state level{i}.{name} has shape {arr.shape}, expected {cur.shape}"
                    )
                if name in ("WU", "WH", "WD") and arr.size and not np.isin(arr, (0, 1)).all():
                    raise ValueError(f"state level{i}.{name}: weights must be 0 or 1")
                if name in ("n_set", "n_set_cell", "state") and arr.size and (arr < 0).any():
                    raise ValueError(f"state level{i}.{name}: counts must be >= 0")
                setattr(lv, name, np.ascontiguousarray(arr, dtype=cur.dtype))
        return model

    def save(self, path: str | os.PathLike) -> Path:
        """Save to a compressed ``.npz`` file (format version :data:`FORMAT_VERSION`).

        The file holds ``format_version``, ``config`` and ``rng_state`` (JSON strings), ``seed``
        and, per level ``i``, ``level{i}.WU/WH/WD`` (uint8 weights), ``level{i}.frozen``,
        ``level{i}.n_set``, ``level{i}.n_set_cell``, ``level{i}.state`` (per-MAC learning
        frames and H/D bundle counts) and, with ``decay`` on, the reinforcement counts and
        times ``level{i}.RU/TU/RH/TH/RD/TD``.
        """
        p = Path(path)
        if p.suffix != ".npz":
            p = p.with_suffix(p.suffix + ".npz") if p.suffix else p.with_suffix(".npz")
        state = self.state_dict()
        arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
        arrays["format_version"] = np.array(FORMAT_VERSION)
        arrays["seed"] = np.array(self.seed)
        arrays["config"] = np.array(json.dumps(state["config"]))
        arrays["rng_state"] = np.array(json.dumps(state["rng_state"], default=_json_default))
        np.savez_compressed(p, **arrays)
        return p

    @classmethod
    def load(cls, path: str | os.PathLike) -> Sparsey:
        """Load a model saved by :meth:`save`.

        Raises
        ------
        neuromem.errors.DataNotFoundError
            If the file does not exist.
        ValueError
            If it is not a Sparsey save file or has another format version.
        """
        from neuromem.datasets import require_file

        p = Path(path)
        if not p.exists() and p.suffix != ".npz" and Path(str(p) + ".npz").is_file():
            p = Path(str(p) + ".npz")  # save("x") wrote x.npz
        p = require_file(p, what="Sparsey model file")
        try:
            with np.load(p, allow_pickle=False) as z:
                if "format_version" not in z.files or "config" not in z.files:
                    raise ValueError("not a Sparsey model file")
                state: dict[str, Any] = {k: z[k] for k in z.files}
            state["format_version"] = int(state["format_version"])
            state["seed"] = int(state["seed"])
            state["config"] = json.loads(str(state["config"]))
            state["rng_state"] = json.loads(str(state["rng_state"]))
            return cls.from_state_dict(state)
        except (OSError, EOFError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as e:
            raise ValueError(f"path: {p}: not a readable Sparsey model file ({e})") from None
