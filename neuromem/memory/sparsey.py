"""Sparsey behind the memory interface.

:class:`SparseyMemory` wraps one level of :class:`neuromem.sparsey.Sparsey`: one macrocolumn
(MAC) that sees the whole item, or a row of MACs that each see a window of it. An item of
``item_size`` bits is one input frame of shape ``(1, item_size)``.

* store: :meth:`~neuromem.sparsey.Sparsey.learn` (single trial, the CSA chooses the code); the
  adapter keeps only ``key -> code`` (the winners of every CM of every MAC): the code is the
  model's memory trace of the item, the item itself is not kept;
* recall by key: the item is read back from the code through the model's own bottom-up
  weights ``U``: input bit ``a`` is on when, over the MACs that see it, at least a fraction
  ``read_threshold`` of the code's cells have a set weight from ``a`` (with the default 1.0,
  every code cell: single-trial learning set exactly those weights when the item was
  learned);
* recall by content: :meth:`~neuromem.sparsey.Sparsey.encode` the cue (max-V cell of each
  CM, no learning); the answer is the stored code that shares the most CM winners with the
  produced code (its key), read back as above. This compares codes with codes (the model's
  traces), never the cue with items;
* forget: not supported (Sparsey has no forgetting operation).

Confidence is the CSA's familiarity :math:`G` (mean over the MACs that took part) of the cue
(by content) or of the item read back (by key): :math:`G` is the model's own measure of how
well an input matches what it has learned (it sets the expansivity of the code choice),
computed from the weights alone. A MAC past its critical period (see
:class:`~neuromem.sparsey.SaturationWarning` and :meth:`~neuromem.sparsey.Sparsey.frozen`)
chooses codes but learns nothing: items stored after it froze get codes without weights,
which read back wrong and score low familiarity, so a frozen memory shows in both.

:meth:`SparseyMemory.codes` (binary cells) and :meth:`SparseyMemory.modular_codes` (the
winner of each CM) give the code of items for the similarity-preservation protocol (input
overlap against code overlap); other memories may lack such methods.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np

from neuromem.rng import check_seed
from neuromem.sparsey.model import LevelConfig, SaturationWarning, Sparsey, SparseyConfig

from .base import Memory, Recall, meta_float


def _plain(obj):
    """``obj`` as plain JSON data (a bit generator's state may hold NumPy arrays)."""
    return json.loads(
        json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    )


__all__ = ["SparseyMemory"]


class SparseyMemory(Memory):
    """One level of Sparsey MACs as a memory of binary items.

    Parameters
    ----------
    item_size : int
        Bits per item (>= 1).
    Q, K : int
        CMs per MAC and cells per CM (a code is one winner per CM).
    n_macs : int
        MACs side by side (a row); each sees a window of ``rf`` bits of the item.
    rf : int, optional
        Bits per MAC's window (default: the whole item when ``n_macs = 1``, else
        ``ceil(item_size / n_macs)``; windows overlap when ``n_macs * rf > item_size``).
    seed : int or numpy.random.Generator
        Source of the code choices (:mod:`neuromem.rng`).
    read_threshold : float
        Fraction (in (0, 1]) of a code's cells that must have a set weight from an input bit
        for the bit to be read back as on.
    item_active : int, optional
        Active bits of the items :meth:`random_items` draws (default ``item_size // 10``).
    on_saturated : {"warn", "raise", "ignore"}
        What storing into a MAC past its critical period does (see
        :class:`~neuromem.sparsey.SparseyConfig`).
    **level
        Other :class:`~neuromem.sparsey.LevelConfig` fields (``G_min``, ``saturation``,
        ``cell_saturation``, ``chi``, ``sigma1``, ``sigma2``, ...).

    Attributes
    ----------
    model : neuromem.sparsey.Sparsey
        The wrapped model.
    size_bits : int
        Bottom-up binary weights: ``sum over MACs of rf * Q * K``.
    """

    kind = "sparsey"

    def __init__(
        self,
        item_size: int,
        Q: int = 16,
        K: int = 8,
        n_macs: int = 1,
        rf: int | None = None,
        seed=0,
        read_threshold: float = 1.0,
        item_active: int | None = None,
        on_saturated: str = "warn",
        **level,
    ):
        super().__init__()
        for name, v in (("item_size", item_size), ("n_macs", n_macs)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(v).__name__}")
            if v < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        if n_macs > item_size:
            raise ValueError(f"n_macs ({n_macs}) must be <= item_size ({item_size})")
        if rf is None:
            rf = item_size if n_macs == 1 else -(-item_size // n_macs)
        if isinstance(rf, bool) or not isinstance(rf, (int, np.integer)):
            raise TypeError(f"rf must be an int, got {type(rf).__name__}")
        if not 1 <= rf <= item_size:
            raise ValueError(f"rf must lie in [1, {item_size}], got {rf}")
        if isinstance(read_threshold, bool) or not isinstance(
            read_threshold, (int, float, np.floating)
        ):
            raise TypeError(f"read_threshold must be a number, got {type(read_threshold).__name__}")
        if not 0.0 < read_threshold <= 1.0:
            raise ValueError(f"read_threshold must lie in (0, 1], got {read_threshold}")
        if item_active is None:
            item_active = max(1, int(item_size) // 10)
        if isinstance(item_active, bool) or not isinstance(item_active, (int, np.integer)):
            raise TypeError(f"item_active must be an int, got {type(item_active).__name__}")
        if not 1 <= item_active <= item_size:
            raise ValueError(f"item_active must lie in [1, {item_size}], got {item_active}")
        check_seed(seed)
        lv = LevelConfig(grid=(1, int(n_macs)), rf=(1, int(rf)), Q=Q, K=K, **level)
        cfg = SparseyConfig(input_shape=(1, int(item_size)), levels=[lv], on_saturated=on_saturated)
        self.model = Sparsey(cfg, seed=seed)
        self._setup(int(item_size), float(read_threshold), int(item_active))
        self._codes: dict[int, np.ndarray] = {}  # key -> (M, Q) winners

    def _setup(self, item_size: int, read_threshold: float, item_active: int) -> None:
        self.item_size = item_size
        self.read_threshold = read_threshold
        self.item_active = item_active
        lv = self.model.levels[0]
        self._lv = lv
        self.size_bits = int(lv.n_valid_u.sum()) * lv.C
        # which input bit each (MAC, afferent slot) is; -1 for padding
        self._aff = lv.u_aff

    # ------------------------------------------------------------------ model access
    @property
    def Q(self) -> int:
        """CMs per MAC."""
        return self._lv.Q

    @property
    def K(self) -> int:
        """Cells per CM."""
        return self._lv.K

    @property
    def n_macs(self) -> int:
        """MACs of the level."""
        return self._lv.M

    def frozen(self) -> np.ndarray:
        """Which MACs have ended their critical period (they no longer learn)."""
        return self.model.frozen()[0]

    def _frames(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), 1, self.item_size)

    def _familiarity(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Codes ``(n, M, Q)`` and mean familiarity ``(n,)`` of items (no learning)."""
        enc = self.model.encode(self._frames(x))
        G = enc.G[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all MACs gated off: NaN
            g = np.nanmean(G, axis=1)
        return enc.winners[0], np.nan_to_num(g, nan=0.0)

    def _read_back(self, codes: np.ndarray) -> np.ndarray:
        """Items read from codes ``(n, M, Q)`` through the U weights (see module docstring)."""
        lv = self._lv
        n = len(codes)
        votes = np.zeros((n, self.item_size))
        seen = np.zeros((n, self.item_size))
        cells = codes + np.arange(lv.Q)[None, None, :] * lv.K  # (n, M, Q) cell index
        for m in range(lv.M):
            aff = self._aff[m]
            valid = aff >= 0
            idx = aff[valid]
            W = lv.WU[m][valid]  # (n_aff, C)
            for j in range(n):
                if (codes[j, m] < 0).any():  # gate closed: this MAC says nothing
                    continue
                cnt = W[:, cells[j, m]].sum(axis=1)  # set weights to the code's cells
                np.add.at(votes[j], idx, cnt)
                np.add.at(seen[j], idx, lv.Q)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(seen > 0, votes / np.maximum(seen, 1), 0.0)
        return (frac >= self.read_threshold - 1e-12).astype(np.uint8)

    # ------------------------------------------------------------------ interface
    def _store(self, items: np.ndarray, keys: np.ndarray) -> None:
        enc = self.model.learn(self._frames(items))
        for k, w in zip(keys, enc.winners[0]):
            self._codes[int(k)] = w.copy()

    def _recall_key(self, keys: np.ndarray) -> Recall:
        codes = np.stack([self._codes[int(k)] for k in keys])
        items = self._read_back(codes)
        _, g = self._familiarity(items)
        return Recall(items, keys.copy(), g)

    def _recall_content(self, cues: np.ndarray) -> Recall:
        produced, g = self._familiarity(cues)
        n = len(cues)
        if not self._codes:
            return Recall(np.zeros((n, self.item_size), np.uint8), np.full(n, -1), g)
        keys = np.fromiter(self._codes, np.int64, len(self._codes))
        stored = np.stack([self._codes[int(k)] for k in keys])  # (S, M, Q)
        flat_p = produced.reshape(n, -1)
        flat_s = stored.reshape(len(keys), -1)
        overlap = ((flat_p[:, None, :] == flat_s[None]) & (flat_p[:, None, :] >= 0)).sum(axis=2)
        best = overlap.argmax(axis=1)  # first stored on ties
        items = self._read_back(stored[best])
        ans = np.where(overlap[np.arange(n), best] > 0, keys[best], -1)
        items[ans < 0] = 0
        return Recall(items, ans, g)

    def codes(self, items) -> np.ndarray:
        """Binary codes of ``items`` (no learning): ``(n, n_macs * Q * K)`` uint8, one active
        cell per CM of each MAC whose gate is open (the similarity-preservation protocol
        compares input overlap with code overlap through this).
        """
        from .base import check_items

        x = check_items(items, self.item_size)
        w, _ = self._familiarity(x)
        lv = self._lv
        out = np.zeros((len(x), lv.M, lv.Q, lv.K), np.uint8)
        n_i, m_i, q_i = np.nonzero(w >= 0)
        out[n_i, m_i, q_i, w[n_i, m_i, q_i]] = 1
        return out.reshape(len(x), -1)

    def modular_codes(self, items, learn: bool = False) -> np.ndarray:
        """Codes of ``items`` as winners: int64 ``(n, n_macs * Q)``, the winning cell
        (``0..K-1``) of each CM, -1 where a MAC's gate was closed (the ``code_fn`` form of the
        similarity-preservation protocol).

        Parameters
        ----------
        items : array_like
            ``(n, item_size)`` binary items.
        learn : bool
            Learn the items while coding them (single trial, as :meth:`store` but without
            keys); default: encode only.
        """
        from .base import check_items

        x = check_items(items, self.item_size)
        if learn:
            w = self.model.learn(self._frames(x)).winners[0]
        else:
            w, _ = self._familiarity(x)
        return w.reshape(len(x), -1).astype(np.int64)

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        st = self.model.state_dict()
        arrays = {k: v for k, v in st.items() if isinstance(v, np.ndarray)}
        keys = np.fromiter(self._codes, np.int64, len(self._codes))
        arrays["code_keys"] = keys
        arrays["code_winners"] = (
            np.stack([self._codes[int(k)] for k in keys])
            if len(keys)
            else np.zeros((0, self._lv.M, self._lv.Q), np.int64)
        )
        meta = {
            "model_format_version": st["format_version"],
            "config": st["config"],
            "seed": st["seed"],
            "rng_state": _plain(st["rng_state"]),
            "item_size": self.item_size,
            "read_threshold": self.read_threshold,
            "item_active": self.item_active,
        }
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> SparseyMemory:
        state = {k: v for k, v in arrays.items() if not k.startswith("code_")}
        state.update(
            format_version=meta["model_format_version"],
            config=meta["config"],
            seed=meta["seed"],
            rng_state=meta["rng_state"],
        )
        mem = cls.__new__(cls)
        Memory.__init__(mem)
        mem.model = Sparsey.from_state_dict(state)
        mem._setup(
            int(meta["item_size"]),
            meta_float(meta, "read_threshold", 0, 1),
            int(meta["item_active"]),
        )
        mem._codes = {
            int(k): np.asarray(w, np.int64).copy()
            for k, w in zip(arrays["code_keys"], arrays["code_winners"])
        }
        return mem

    def __repr__(self) -> str:
        return (
            f"SparseyMemory(item_size={self.item_size}, n_macs={self.n_macs}, Q={self.Q}, "
            f"K={self.K}, stored={len(self)}, frozen={int(self.frozen().sum())})"
        )


# SaturationWarning is re-exported for callers that filter it around store()
SaturationWarning = SaturationWarning
