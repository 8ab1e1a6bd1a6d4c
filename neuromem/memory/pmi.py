"""PMI's working and long-term memory behind the memory interface.

:class:`PMIMemoryAdapter` runs the NumPy forward of :mod:`neuromem.pmi.core`
(:class:`~neuromem.pmi.core.PMIState`, :func:`~neuromem.pmi.core.pmi_step`) with hand-set
weights, as the ``pmi-dynamics`` experiment's ``weights="identity"``: input, query, key and
value projections are the identity, MLP and gate weights zero (constant gates
:math:`I = \\sigma(0)`, :math:`F = \\sigma(1)`), one head, unscaled scores (as the authors'
code), top-1 competitive write, ``"outer"`` consolidation. The module is not trained.

Token of an item (width ``D = n_slots + item_size``): ``[address ; x - p]``, where ``x`` is the
item, ``p = item_active / item_size`` its expected density (a centred code: two unrelated
items have a near-zero dot product) and ``address`` is ``address_gain`` times the one-hot
code of a slot, ``i mod n_slots`` for the ``i``-th item stored (the key code stored with the
item; the adapter keeps ``key -> address``). The item part is ``item_gain * (x - p)``.

* store: one :func:`~neuromem.pmi.core.pmi_step` per item, with two tokens, a blank (zero)
  token first and the item's token: each slot writes the token it attends to most (top-1),
  so a slot whose content does not match the item (score <= 0) writes the blank; the slot
  whose initial content is ``e_n`` (the identity initial working memory) is drawn to the
  items with address ``n``. Long-term memory is consolidated at every step;
* recall by content: the module's read attention with the cue as query
  (``read_gain * [0 ; x - p]``) over the working-memory slots, fused as the module's
  inference with the read over long-term memory, :math:`\\alpha U_w + (1 - \\alpha) U_l`
  (``use_ltm=True``; the correction step is left out: for a single query token it returns
  :math:`U_w` unchanged) or :math:`U_w` alone (``use_ltm=False``, the ablation). Item bits
  are the read's item part > 0; the key is the one last stored under the slot address that
  the read's address part points to (its argmax);
* recall by key: the same read with the key's address code as query (``[address ; 0]``);
* forget: not supported (the gates let old content fade, but nothing forgets one item).

Confidence is the module's own read attention: the largest weight a slot of working memory
gets from the query (softmax over slots, averaged over heads). A stored item's cue matches its
slot far better than the others; an unrelated cue spreads its attention.

What this measures honestly: PMI's working memory is a handful of slots that blend what is
written into them (:math:`M_w^t = I \\odot \\tanh(\\bar M) + F \\odot M_w^{t-1}`), so exact
recall needs about one item per slot and fails once slots are shared; the long-term memory
(consolidated, layer-normalised mixtures) does not hold items by itself. The adapter's
constants (gains, blank token, centred code) were chosen by hand for 64-256-bit items.
Measured (16 slots, 10% active bits, working memory only, exact recall by content over 3
seeds): 64 bits: 100% of 4 items, 79% of 8, 58% of 16; 128 bits: 100% of 4, 79% of 8, 50% of
16, 6% of 24. Reading long-term memory too (``use_ltm=True``, the default: the full module)
lowers these sharply: its slots start as the authors' uniform random draw and stay
layer-normalised mixtures, and their retrieval, weighted ``1 - alpha``, flips item bits
(128 bits, 21 slots, exact recall by key over 4 seeds at 4/8/16/32 items: 0/12/25/0% with
long-term memory, 100/94/58/0% without). With the authors' correction step the long-term read
would not matter at all (for one query token it returns :math:`U_w`); it is left out here so
that the switch measures something.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuromem.pmi.core import (
    PMIConfig,
    PMIState,
    init_weights,
    multihead_attention,
)
from neuromem.rng import as_generator

from .base import Memory, Recall, meta_float

__all__ = ["PMIMemoryAdapter"]


def _identity_weights(cfg: PMIConfig, dim: int) -> dict:
    w = init_weights(cfg, dim, np.random.default_rng(0))
    for k in w:
        if k.startswith(("W_", "b_")) or k == "gate_w":
            w[k] = np.zeros_like(w[k])
    for k in ("W_in", "W_q", "W_k", "W_v"):
        w[k] = np.eye(dim)
    return w


class PMIMemoryAdapter(Memory):
    """PMI working memory (and long-term memory) as a memory of binary items.

    Parameters
    ----------
    item_size : int
        Bits per item.
    n_slots : int
        Working-memory slots ``N`` (about the number of items it holds).
    n_segments : int
        Long-term memory segments ``C``.
    use_ltm : bool
        Fuse the long-term retrieval into recall (``False``: working memory only, the
        ablation).
    alpha : float
        Fusion weight of the working-memory retrieval (the authors' 0.7).
    address_gain : float, optional
        Gain of the address code in stored tokens (default ``item_size / 4``: the write
        competition needs the address to dominate a token's score, and the item to keep a
        share of the layer-normalised slot; measured best over 64-256-bit items).
    read_gain : float
        Gain of the query in reads by content.
    item_gain : float
        Gain of the item part ``x - p`` in stored tokens.
    item_active : int, optional
        Active bits per item (sets the centring ``p`` and what :meth:`random_items` draws;
        default ``item_size // 10``).
    seed : int or numpy.random.Generator
        Source of the initial long-term memory (the weights are fixed).

    Attributes
    ----------
    state : neuromem.pmi.core.PMIState
        Config, weights and memories.
    size_bits : int
        Real numbers held by the memories, ``N * D * (1 + C)`` (floats, not bits).
    """

    kind = "pmi"

    def __init__(
        self,
        item_size: int,
        n_slots: int = 16,
        n_segments: int = 4,
        use_ltm: bool = True,
        alpha: float = 0.7,
        address_gain: float | None = None,
        read_gain: float = 8.0,
        item_gain: float = 1.0,
        item_active: int | None = None,
        seed=0,
    ):
        super().__init__()
        for name, v in (("item_size", item_size), ("n_slots", n_slots)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name} must be an int, got {type(v).__name__}")
            if v < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        if not isinstance(use_ltm, (bool, np.bool_)):
            raise TypeError(f"use_ltm must be a bool, got {type(use_ltm).__name__}")
        if address_gain is None:
            address_gain = int(item_size) / 4 if isinstance(item_size, (int, np.integer)) else 1.0
        for name, v in (
            ("address_gain", address_gain),
            ("read_gain", read_gain),
            ("item_gain", item_gain),
        ):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
                raise TypeError(f"{name} must be a number, got {type(v).__name__}")
            if not np.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {v}")
        if item_active is None:
            item_active = max(1, int(item_size) // 10)
        if isinstance(item_active, bool) or not isinstance(item_active, (int, np.integer)):
            raise TypeError(f"item_active must be an int, got {type(item_active).__name__}")
        if not 1 <= item_active <= item_size:
            raise ValueError(f"item_active must lie in [1, {item_size}], got {item_active}")
        dim = int(n_slots) + int(item_size)
        cfg = PMIConfig(
            dim=dim,
            n_heads=1,
            key_dim=dim,
            n_slots=int(n_slots),
            n_segments=n_segments,
            topk_write=1,
            topk_read=1,
            alpha=alpha,
            consolidation="outer",
            use_correction=False,
            scaled=False,
        ).validate()
        rng = as_generator(seed)
        state = PMIState(cfg, dim, weights=_identity_weights(cfg, dim), seed=rng)
        self._setup(
            state, int(item_size), bool(use_ltm), float(address_gain), float(read_gain),
            int(item_active), float(item_gain),
        )  # fmt: skip
        self._address: dict[int, int] = {}  # key -> slot address
        self._n_written = 0

    def _setup(self, state, item_size, use_ltm, address_gain, read_gain, item_active, item_gain):
        self.state = state
        self.item_gain = item_gain
        self.item_size = item_size
        self.use_ltm = use_ltm
        self.address_gain = address_gain
        self.read_gain = read_gain
        self.item_active = item_active
        cfg = state.cfg
        self.n_slots = cfg.n_slots
        self.size_bits = int(cfg.n_slots * cfg.dim * (1 + cfg.n_segments))
        self._p = item_active / item_size

    # ------------------------------------------------------------------ module access
    def _tokens(self, items=None, addresses=None, gain=None) -> np.ndarray:
        gain = self.item_gain if gain is None else gain
        n = len(items) if items is not None else len(addresses)
        N = self.n_slots
        t = np.zeros((n, N + self.item_size))
        if addresses is not None:
            t[np.arange(n), addresses] = self.address_gain
        if items is not None:
            t[:, N:] = gain * (items - self._p)
        return t

    def _read(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The module's read: (U, confidence) for query tokens."""
        st, cfg = self.state, self.state.cfg
        Uw, att = multihead_attention(queries, st.working, st.weights, cfg)
        if self.use_ltm:
            Ul, _ = multihead_attention(
                queries, st.long_term.mean(axis=0), st.weights, cfg, topk=cfg.topk_read
            )
            U = cfg.alpha * Uw + (1.0 - cfg.alpha) * Ul
        else:
            U = Uw
        return U, att.mean(axis=0).max(axis=1)

    def _answer(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        N = self.n_slots
        items = (U[:, N:] > 0).astype(np.uint8)
        slot = U[:, :N].argmax(axis=1)
        newest = {}
        for k, a in self._address.items():  # insertion order: the last one wins
            newest[a] = k
        keys = np.array([newest.get(int(s), -1) for s in slot], np.int64)
        return items, keys

    # ------------------------------------------------------------------ interface
    def _store(self, items: np.ndarray, keys: np.ndarray) -> None:
        N = self.n_slots
        addr = (self._n_written + np.arange(len(items))) % N
        tokens = self._tokens(items.astype(float), addr)
        blank = np.zeros((1, tokens.shape[1]))
        for tok, k, a in zip(tokens, keys, addr):
            self.state.step(np.concatenate([blank, tok[None]]))
            self._address.pop(int(k), None)
            self._address[int(k)] = int(a)
        self._n_written += len(items)

    def _recall_key(self, keys: np.ndarray) -> Recall:
        addr = np.array([self._address[int(k)] for k in keys])
        U, conf = self._read(self._tokens(addresses=addr))
        items, _ = self._answer(U)
        return Recall(items, keys.copy(), conf)

    def _recall_content(self, cues: np.ndarray) -> Recall:
        U, conf = self._read(self._tokens(items=cues.astype(float), gain=self.read_gain))
        items, keys = self._answer(U)
        return Recall(items, keys, conf)

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        st = self.state
        meta = {
            "config": st.cfg.as_dict(),
            "input_dim": st.input_dim,
            "steps": st.steps,
            "item_size": self.item_size,
            "use_ltm": self.use_ltm,
            "address_gain": self.address_gain,
            "read_gain": self.read_gain,
            "item_gain": self.item_gain,
            "item_active": self.item_active,
            "address": [[k, a] for k, a in self._address.items()],
            "n_written": self._n_written,
        }
        arrays = {f"w.{k}": v for k, v in st.weights.items()}
        arrays["working"] = st.working
        arrays["long_term"] = st.long_term
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> PMIMemoryAdapter:
        cfg = PMIConfig(**meta["config"])
        weights = {k[2:]: v for k, v in arrays.items() if k.startswith("w.")}
        st = PMIState(
            cfg,
            int(meta["input_dim"]),
            weights=weights,
            working=arrays["working"],
            long_term=arrays["long_term"],
        )
        st.steps = int(meta["steps"])
        mem = cls.__new__(cls)
        Memory.__init__(mem)
        mem._setup(
            st, int(meta["item_size"]), bool(meta["use_ltm"]), meta_float(meta, "address_gain", 0),
            meta_float(meta, "read_gain", 0), int(meta["item_active"]),
            meta_float(meta, "item_gain", 0),
        )  # fmt: skip
        mem._address = {int(k): int(a) for k, a in meta["address"]}
        mem._n_written = int(meta["n_written"])
        return mem

    def __repr__(self) -> str:
        return (
            f"PMIMemoryAdapter(item_size={self.item_size}, n_slots={self.n_slots}, "
            f"use_ltm={self.use_ltm}, stored={len(self)})"
        )
