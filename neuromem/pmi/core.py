r"""PMI memory module as plain functions over arrays (NumPy / Numba forward pass).

Zeng et al., "Understanding AI Cognition: A Neural Module for Inference Inspired by Human Memory
Mechanisms" (arXiv 2310.09297, ICLR 2024). One *step* of the module takes the perceived tokens
:math:`X \in \mathbb{R}^{T \times D_{in}}` of a time step (in a Transformer: the token
representations entering a layer) and

1. writes them competitively into the **working memory** :math:`M_w \in \mathbb{R}^{N \times D}`
   (``N`` slots of width ``D``),
2. consolidates the working memory into the **long-term memory**
   :math:`M_l \in \mathbb{R}^{C \times N \times D}` (``C`` segments) by an outer-product
   association followed by layer normalisation,
3. infers the current understanding :math:`U \in \mathbb{R}^{T \times D}` by retrieving from
   both memories, correcting the long-term retrieval with the working-memory retrieval and
   fusing the two.

Notation (per example; every function here also takes a leading batch axis ``B``):
``H`` heads, ``d_k`` key width per head, ``d_v = D / H`` value width per head,
:math:`\mathrm{LN}` layer normalisation over the last axis (:math:`\epsilon = 10^{-5}`),
:math:`\sigma` the logistic function.

Multi-head attention with top-k (used everywhere below), from query rows :math:`A` to key/value
rows :math:`B` with key mask :math:`m`:

.. math::

    Q_h = A W^q_h + b^q_h,\quad K_h = B W^k_h + b^k_h,\quad V_h = B W^v_h + b^v_h

    S_h = \mathrm{softmax}_j\big(s\, Q_h K_h^\top \text{ (masked keys} \to -\infty)\big),
    \qquad \tilde S_h = \mathrm{top}\text{-}k_j(S_h)

    \mathrm{MHA}_k(A, B) = [\tilde S_1 V_1, \dots, \tilde S_H V_H]

where :math:`\mathrm{top}\text{-}k_j` keeps the ``k`` largest weights of each row and sets the
others to zero *without renormalising* (as in the authors' code); ``k = 0`` or ``k`` at least
the number of keys means plain soft attention. ``s`` is :math:`1/\sqrt{d_k}` (``scaled=True``) or
1 (the authors' code). The query/key/value projections are shared by every attention of the
module, as in the authors' code.

Write (competitive, slots attend over tokens, top-k over tokens per slot):

.. math::

    \hat X = X W^{in} + b^{in}

    \tilde M = \mathrm{LN}_1\big(M_w^{t-1} + \mathrm{MHA}_{k_w}(M_w^{t-1}, \hat X)\big),\qquad
    \bar M = \mathrm{LN}_2\big(\tilde M + \mathrm{MLP}(\tilde M)\big)

    \mathrm{MLP}(z) = \mathrm{relu}\big(\mathrm{relu}(z W_1 + b_1) W_2 + b_2\big)

    g_x = \Big(\tfrac{1}{|m|}\sum_{t:\,m_t} \mathrm{relu}(w \odot \hat x_t)\Big) W^{gx} + b^{gx},
    \qquad g_{m,n} = \tanh(M^{t-1}_{w,n}) W^{gm}_n + b^{gm}_n

    I = \sigma(g^{(1)} + b_I),\quad F = \sigma(g^{(2)} + b_F),\qquad
    [g^{(1)}, g^{(2)}] = g_m + g_x

    M_w^t = I \odot \tanh(\bar M) + F \odot M_w^{t-1}

Consolidation, two rules (``consolidation=``). ``"code"`` is what the authors' code computes
(``zengxyyu/PMI-TR``, ``SW_LTM.forward_step`` in
``sort_of_clevr_and_babi/transformer_utilities/sw_ltm.py``, the module their attention layer
builds when ``use_long_men=True``, which every PMI-TR command of their README sets), so it is the
rule behind the published results: the candidate :math:`\bar M` (before gating) is associated
with each long-term segment,

.. math::

    M_l^t = \mathrm{LN}_3\big(M_l^{t-1} + \Delta\big),\qquad
    \Delta_{c,n,f} = \sum_d M^{t-1}_{l,c,n,d}\,\bar M_{n,f}

(``einsum('bmnd,bnf->bmnf', M_l, M_bar)`` in their code): the per-slot outer product
:math:`M_{l,c,n} \otimes \bar M_n` contracted over the long-term feature axis, i.e.
:math:`\bar M_n` scaled by the row sum of :math:`M_{l,c,n}`. The paper describes consolidation
only as an outer-product (tensor-product) association of the working memory into the long-term
memory followed by layer normalisation, schematically
:math:`M_l^t = \mathrm{LN}(M_l^{t-1} + M_l^{t-1} \otimes M_w^t)`; how the product keeps the
``C x N x D`` shape is what the code above fixes (the typeset equation itself could not be
re-read for this release: only the abstract, the reviews and the authors' code were at hand).
``consolidation="outer"`` is *our* reading of that sentence as a Hebbian association: the
updated working memory forms
:math:`A = \tfrac1N \sum_n M^t_{w,n} \otimes M^t_{w,n} \in \mathbb{R}^{D \times D}` and every
long-term slot is passed through it,

.. math::

    M_l^t = \mathrm{LN}_3\big(M_l^{t-1} + M_l^{t-1} A\big),\qquad
    \Delta_{c,n} = M^{t-1}_{l,c,n} A.

The two differ in what is associated (gated :math:`M_w^t` against ungated :math:`\bar M`) and
in the contraction; with an untrained :math:`\mathrm{LN}_3` (unit gain, zero bias) every row of
:math:`M_l` sums to zero after the first step, so ``"code"`` freezes the long-term memory until
the layer-norm parameters are trained, while ``"outer"`` keeps moving.

Inference:

.. math::

    U_w = \mathrm{MHA}_0(\hat X, M_w^t),\qquad
    U_l = \mathrm{MHA}_{k_r}\big(\hat X, \tfrac1C \textstyle\sum_c M^t_{l,c}\big)

    U_{wl} = \mathrm{MHA}_0(U_l, U_w) \quad\text{(correction; masked tokens are not keys)}

    U = \alpha U_w + (1 - \alpha) U_{wl}

With ``use_correction=False``, :math:`U_{wl} = U_l`; with ``use_wm_inference=False``,
:math:`U = U_{wl}`; with ``use_ltm=False`` (no long-term memory), no consolidation and
:math:`U = U_w`. The authors' code uses :math:`\alpha = 0.7`.

Initialisation: :math:`M_w^0` is the identity, padded with zeros (or truncated) to ``N x D``;
:math:`M_l^0` is uniform on :math:`[0, 1)`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import numba
import numpy as np

from neuromem import npzfile
from neuromem.rng import as_generator

__all__ = [
    "PMIConfig",
    "WEIGHT_NAMES",
    "init_weights",
    "init_working_memory",
    "init_long_term_memory",
    "layer_norm",
    "multihead_attention",
    "pmi_step",
    "pmi_run",
    "weight_shapes",
    "PMIState",
    "PMI_FORMAT_VERSION",
]

#: version of the ``.npz`` file format written by :meth:`PMIState.save`
PMI_FORMAT_VERSION = 1

CONSOLIDATIONS = ("code", "outer")
LN_EPS = 1e-5


@dataclass
class PMIConfig:
    """Shape and switches of a PMI module.

    Every attention and memory setting of the module is a field here, with one default. The
    authors' code (``zengxyyu/PMI-TR``, folder ``sort_of_clevr_and_babi``) is cited by file and
    function; where neuromem's class default differs from what that code runs, the field says
    so, and the experiments that follow the authors (``pmi-babi``, ``pmi-sort-of-clevr``) set
    the authors' value in their config factories (``neuromem show NAME`` marks them).

    Attributes
    ----------
    dim : int
        Memory width ``D`` (also the width of the projected input and of the output ``U``).
        Default 64: neuromem's CPU size; the authors use ``--embed_dim 256`` (``babi_main.py``
        and ``sort_main.py`` argument parsers, the README commands), and their memory width is
        ``head_size * num_heads`` = the embedding width (``SW_LTM.__init__``, ``mem_size``).
    n_heads : int
        Attention heads ``H``; must divide ``dim`` (the value width per head is ``dim / H``).
        Default 4: ``--num_heads 4`` of ``sort_main.py`` and the README's small Sort-of-CLEVR
        row; ``babi_main.py`` hard-codes ``num_heads = 8`` in its ``TransformerEncoder`` call.
    key_dim : int
        Query/key width per head ``d_k`` (the authors' code: 32); any width >= 1 (the query and
        key projections map ``dim`` to ``n_heads * key_dim``, the value projection ``dim`` to
        ``dim``). Default 16: neuromem's choice; the authors' code hard-codes 32
        (``key_size=32`` where ``MultiheadAttention.__init__`` in
        ``transformer_utilities/multihead_attention.py`` builds its ``SW_LTM``;
        ``SW_LTM.__init__`` projects to ``key_size * num_heads``).
    n_slots : int
        Working-memory slots ``N``. Default 8: ``--mem_slots 8`` (``babi_main.py``,
        ``sort_main.py``, every PMI-TR command of the README).
    n_segments : int
        Long-term memory segments ``C``. Default 5: ``--long_mem_segs 5`` (argument parsers,
        README) and ``long_mem_segs=5`` of ``TransformerEncoder.__init__``
        (``transformers.py``) and ``SW_LTM.__init__``.
    topk_write : int
        Tokens kept per slot in the competitive write (0: soft attention; must not exceed the
        number of tokens a step perceives). Default 5: ``--use_topk True --topk 5`` of the
        README's PMI-TR commands; in ``SW_LTM.multihead_attention`` the top-k applies to the
        write of ``SW_LTM.attend_over_memory``.
    topk_read : int
        Slots kept per token in the long-term retrieval (0: soft attention; at most
        ``n_slots``). Default 5: the same ``topk`` (the authors have one ``k``): the
        long-term retrieval ``hx2 = self.multihead_attention(Mr_step, inputs_reshape)`` of
        ``SW_LTM.forward_step`` keeps the top-k; the working-memory retrieval is soft.
    alpha : float
        Fusion weight of the working-memory retrieval, in [0, 1]. Default 0.7:
        ``hx = hx1 * 0.7 + hx2 * 0.3`` in ``SW_LTM.forward_step`` (``sw_ltm.py``).
    consolidation : {"code", "outer"}
        Consolidation rule (see the module docstring). Default ``"code"``: the
        ``einsum('bmnd,bnf->bmnf', Mr, next_memory)`` and ``attended_memory_layernorm3`` of
        ``SW_LTM.forward_step``; ``"outer"`` is neuromem's reading of the paper's sentence.
    use_correction : bool
        Correction step (the long-term retrieval attends over the working-memory retrieval:
        equation 11 of the paper, as the README's ``w/o2`` row names it). Default True: the
        paper's full model, and the README's PMI-TR commands (``long_mem_aggre`` True, forwarded
        by ``model.py`` for Sort-of-CLEVR). The authors' switch is ``long_mem_aggre``
        (``SW_LTM.forward_step``), whose default is False in ``TransformerEncoder.__init__``
        (``transformers.py``) and ``SW_LTM``; their ``babi_main.py`` never passes it, so their
        bAbI runs have **no** correction step.
    use_wm_inference : bool
        Fuse the working-memory retrieval into ``U`` (else ``U = U_wl``). Default True:
        ``use_wm_inference=True`` of ``TransformerEncoder.__init__`` (``transformers.py``),
        which ``babi_main.py`` never overrides; the README's PMI-TR commands pass True.
    use_ltm : bool
        Keep a long-term memory (consolidation and the long-term retrieval). False: the
        paper's "w/o LTM" ablation: no consolidation (``long_term`` is returned unchanged) and
        ``U = U_w``, the working-memory retrieval alone. Needs ``use_wm_inference`` and no
        correction step (there is nothing to correct). Default True: ``use_long_men=True`` of
        ``TransformerEncoder.__init__`` (``transformers.py``) and ``--use_long_men`` of
        ``babi_main.py`` (default True); with False the authors' ``transformer_layer.py``
        builds a plain shared-workspace attention instead of ``SW_LTM``
        (``build_self_attention``).
    scaled : bool
        Scale attention scores by ``1/sqrt(key_dim)`` (the authors' code does not). Default
        True: neuromem's choice (Vaswani et al.); the authors' code does **not** scale (``scores
        = torch.matmul(q, k.transpose(2, 3))`` in ``SW_LTM.multihead_attention``; the scaled
        variant there is dead code inside a string).
    """

    dim: int = 64
    n_heads: int = 4
    key_dim: int = 16
    n_slots: int = 8
    n_segments: int = 5
    topk_write: int = 5
    topk_read: int = 5
    alpha: float = 0.7
    consolidation: str = "code"
    use_correction: bool = True
    use_wm_inference: bool = True
    use_ltm: bool = True
    scaled: bool = True

    def validate(self) -> PMIConfig:
        """Check every field; raise :class:`ValueError`/:class:`TypeError` naming it."""
        for f in ("dim", "n_heads", "key_dim", "n_slots", "n_segments"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{f} must be an integer, got {type(v).__name__}")
            if v < 1:
                raise ValueError(f"{f} must be >= 1, got {v}")
        for f in ("topk_write", "topk_read"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{f} must be an integer, got {type(v).__name__}")
            if v < 0:
                raise ValueError(f"{f} must be >= 0 (0 = soft attention), got {v}")
        if self.dim % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} must divide dim={self.dim}")
        if self.topk_read > self.n_slots:
            raise ValueError(
                f"topk_read={self.topk_read} is larger than the number of slots {self.n_slots}"
            )
        if not isinstance(self.alpha, (int, float, np.floating)) or isinstance(self.alpha, bool):
            raise TypeError(f"alpha must be a number, got {type(self.alpha).__name__}")
        if not np.isfinite(self.alpha) or not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {self.alpha}")
        if self.consolidation not in CONSOLIDATIONS:
            raise ValueError(
                f"consolidation must be one of {CONSOLIDATIONS}, got {self.consolidation!r}"
            )
        for f in ("use_correction", "use_wm_inference", "use_ltm", "scaled"):
            if not isinstance(getattr(self, f), (bool, np.bool_)):
                raise TypeError(f"{f} must be a bool, got {getattr(self, f)!r}")
        if not self.use_ltm and not self.use_wm_inference:
            raise ValueError(
                "use_ltm=False needs use_wm_inference=True (without both the module has no "
                "retrieval)"
            )
        if not self.use_ltm and self.use_correction:
            raise ValueError(
                "use_ltm=False needs use_correction=False (the correction step corrects the "
                "long-term retrieval)"
            )
        return self

    def as_dict(self) -> dict:
        """The fields as a plain dict."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def weight_shapes(cfg: PMIConfig, input_dim: int) -> dict[str, tuple[int, ...]]:
    """Shape of every weight array of a PMI module (row-vector convention ``y = x W + b``).

    Parameters
    ----------
    cfg : PMIConfig
        Module shape.
    input_dim : int
        Width ``D_in`` of the perceived tokens.

    Returns
    -------
    dict
        Name -> shape, in the order of :data:`WEIGHT_NAMES`.
    """
    D, H, dk, N = cfg.dim, cfg.n_heads, cfg.key_dim, cfg.n_slots
    return {
        "W_in": (input_dim, D),
        "b_in": (D,),
        "W_q": (D, H * dk),
        "b_q": (H * dk,),
        "W_k": (D, H * dk),
        "b_k": (H * dk,),
        "W_v": (D, D),
        "b_v": (D,),
        "ln1_g": (D,),
        "ln1_b": (D,),
        "W_1": (D, D),
        "b_1": (D,),
        "W_2": (D, D),
        "b_2": (D,),
        "ln2_g": (D,),
        "ln2_b": (D,),
        "ln3_g": (D,),
        "ln3_b": (D,),
        "gate_w": (D,),
        "W_gx": (D, 2 * D),
        "b_gx": (2 * D,),
        "W_gm": (N, D, 2 * D),
        "b_gm": (N, 2 * D),
        "input_bias": (),
        "forget_bias": (),
    }


WEIGHT_NAMES = tuple(weight_shapes(PMIConfig(), 1))


def init_weights(cfg: PMIConfig, input_dim: int, rng: np.random.Generator) -> dict:
    """Random weights for a PMI module (uniform fan-in init, unit LN gains, biases as the paper).

    Parameters
    ----------
    cfg : PMIConfig
        Module shape (validated).
    input_dim : int
        Width of the perceived tokens.
    rng : numpy.random.Generator
        Source of every random draw.

    Returns
    -------
    dict of str -> ndarray
        float64 arrays named as in :func:`weight_shapes`; ``forget_bias`` is 1 and
        ``input_bias`` 0 (LSTM convention used by the authors).
    """
    cfg.validate()
    _check_int("input_dim", input_dim)
    rng = as_generator(rng, "rng")
    out = {}
    for name, shape in weight_shapes(cfg, input_dim).items():
        if name.startswith("ln") and name.endswith("_g"):
            a = np.ones(shape)
        elif name.startswith("ln") and name.endswith("_b"):
            a = np.zeros(shape)
        elif name == "forget_bias":
            a = np.array(1.0)
        elif name == "input_bias":
            a = np.array(0.0)
        elif name == "gate_w":
            a = rng.standard_normal(shape)
        else:
            if len(shape) >= 2:
                fan_in = shape[-2]
            else:
                fan_in = input_dim if name == "b_in" else cfg.dim
            lim = 1.0 / np.sqrt(fan_in)
            a = rng.uniform(-lim, lim, size=shape)
        out[name] = np.asarray(a, dtype=np.float64)
    return out


def init_working_memory(n_slots: int, dim: int, batch: int | None = None) -> np.ndarray:
    """Initial working memory: the identity, padded with zeros or truncated to ``N x D``.

    Parameters
    ----------
    n_slots, dim : int
        ``N`` and ``D``.
    batch : int, optional
        Leading batch size (copies of the same state).

    Returns
    -------
    ndarray
        ``(N, D)`` or ``(batch, N, D)`` float64.
    """
    _check_int("n_slots", n_slots)
    _check_int("dim", dim)
    m = np.eye(n_slots, dim, dtype=np.float64)
    if batch is None:
        return m
    _check_int("batch", batch)
    return np.repeat(m[None], batch, axis=0)


def init_long_term_memory(
    n_segments: int, n_slots: int, dim: int, rng: np.random.Generator, batch: int | None = None
) -> np.ndarray:
    """Initial long-term memory, uniform on [0, 1) as in the authors' code.

    Parameters
    ----------
    n_segments, n_slots, dim : int
        ``C``, ``N`` and ``D``.
    rng : numpy.random.Generator
        Source of the draw.
    batch : int, optional
        Leading batch size (independent draws).

    Returns
    -------
    ndarray
        ``(C, N, D)`` or ``(batch, C, N, D)`` float64.
    """
    for n, v in (("n_segments", n_segments), ("n_slots", n_slots), ("dim", dim)):
        _check_int(n, v)
    rng = as_generator(rng, "rng")
    shape = (n_segments, n_slots, dim)
    if batch is not None:
        _check_int("batch", batch)
        shape = (batch,) + shape
    return rng.random(shape)


# --------------------------------------------------------------------------- kernels


@numba.njit(cache=True)
def _layer_norm(x, g, b):
    out = np.empty_like(x)
    n, d = x.shape
    for i in range(n):
        mu = 0.0
        for j in range(d):
            mu += x[i, j]
        mu /= d
        var = 0.0
        for j in range(d):
            var += (x[i, j] - mu) ** 2
        var /= d
        inv = 1.0 / np.sqrt(var + 1e-5)
        for j in range(d):
            out[i, j] = (x[i, j] - mu) * inv * g[j] + b[j]
    return out


@numba.njit(cache=True)
def _linear(x, W, b):
    return np.ascontiguousarray(x) @ W + b


@numba.njit(cache=True)
def _mha(a, bsrc, kmask, W_q, b_q, W_k, b_k, W_v, b_v, n_heads, topk, scale):
    """Multi-head attention from rows of ``a`` to rows of ``bsrc``; returns (out, weights)."""
    q = _linear(a, W_q, b_q)
    k = _linear(bsrc, W_k, b_k)
    v = _linear(bsrc, W_v, b_v)
    nq = a.shape[0]
    nk = bsrc.shape[0]
    dk = q.shape[1] // n_heads
    dv = v.shape[1] // n_heads
    out = np.zeros((nq, v.shape[1]))
    weights = np.zeros((n_heads, nq, nk))
    use_topk = topk > 0 and topk < nk
    s = np.empty(nk)
    for h in range(n_heads):
        for i in range(nq):
            mx = -np.inf
            for j in range(nk):
                if kmask[j]:
                    acc = 0.0
                    for c in range(dk):
                        acc += q[i, h * dk + c] * k[j, h * dk + c]
                    s[j] = acc * scale
                    if s[j] > mx:
                        mx = s[j]
                else:
                    s[j] = -np.inf
            tot = 0.0
            for j in range(nk):
                if kmask[j]:
                    s[j] = np.exp(s[j] - mx)
                    tot += s[j]
                else:
                    s[j] = 0.0
            for j in range(nk):
                s[j] /= tot
            if use_topk:
                order = np.argsort(-s, kind="mergesort")
                for r in range(topk, nk):
                    s[order[r]] = 0.0
            for j in range(nk):
                weights[h, i, j] = s[j]
                if s[j] != 0.0:
                    for c in range(dv):
                        out[i, h * dv + c] += s[j] * v[j, h * dv + c]
    return out, weights


@numba.njit(cache=True)
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@numba.njit(cache=True)
def _pmi_step_one(
    x,
    mask,
    Mw,
    Ml,
    W_in,
    b_in,
    W_q,
    b_q,
    W_k,
    b_k,
    W_v,
    b_v,
    ln1_g,
    ln1_b,
    W_1,
    b_1,
    W_2,
    b_2,
    ln2_g,
    ln2_b,
    ln3_g,
    ln3_b,
    gate_w,
    W_gx,
    b_gx,
    W_gm,
    b_gm,
    input_bias,
    forget_bias,
    n_heads,
    topk_write,
    topk_read,
    alpha,
    consolidation,
    use_correction,
    use_wm,
    use_ltm,
    scale,
):
    N, D = Mw.shape
    C = Ml.shape[0]
    T = x.shape[0]
    xh = _linear(x, W_in, b_in)
    all_slots = np.ones(N, dtype=np.bool_)
    # --- competitive write: slots attend over tokens with top-k
    att, w_write = _mha(Mw, xh, mask, W_q, b_q, W_k, b_k, W_v, b_v, n_heads, topk_write, scale)
    Mt = _layer_norm(Mw + att, ln1_g, ln1_b)
    h1 = np.maximum(_linear(Mt, W_1, b_1), 0.0)
    h2 = np.maximum(_linear(h1, W_2, b_2), 0.0)
    Mbar = _layer_norm(Mt + h2, ln2_g, ln2_b)
    # --- gates
    gx_in = np.zeros(D)
    n_valid = 0
    for t in range(T):
        if mask[t]:
            n_valid += 1
            for d in range(D):
                val = gate_w[d] * xh[t, d]
                if val > 0.0:
                    gx_in[d] += val
    gx_in /= n_valid
    gx = gx_in @ W_gx + b_gx
    Mw_new = np.empty((N, D))
    th = np.tanh(Mw)
    for n in range(N):
        gm = th[n] @ W_gm[n] + b_gm[n]
        for d in range(D):
            ig = _sigmoid(gm[d] + gx[d] + input_bias)
            fg = _sigmoid(gm[D + d] + gx[D + d] + forget_bias)
            Mw_new[n, d] = ig * np.tanh(Mbar[n, d]) + fg * Mw[n, d]
    # --- consolidation
    Ml_new = np.empty_like(Ml)
    if not use_ltm:
        Ml_new[:] = Ml
        Uw, w_read_w = _mha(xh, Mw_new, all_slots, W_q, b_q, W_k, b_k, W_v, b_v, n_heads, 0, scale)
        return Uw, Mw_new, Ml_new, w_write, w_read_w, np.zeros_like(w_read_w)
    if consolidation == 0:
        for c in range(C):
            delta = np.empty((N, D))
            for n in range(N):
                s = 0.0
                for d in range(D):
                    s += Ml[c, n, d]
                for f in range(D):
                    delta[n, f] = s * Mbar[n, f]
            Ml_new[c] = _layer_norm(Ml[c] + delta, ln3_g, ln3_b)
    else:
        A = (np.ascontiguousarray(Mw_new.T) @ Mw_new) / N
        for c in range(C):
            Ml_new[c] = _layer_norm(Ml[c] + np.ascontiguousarray(Ml[c]) @ A, ln3_g, ln3_b)
    # --- inference
    Uw, w_read_w = _mha(xh, Mw_new, all_slots, W_q, b_q, W_k, b_k, W_v, b_v, n_heads, 0, scale)
    Lbar = np.zeros((N, D))
    for c in range(C):
        Lbar += Ml_new[c]
    Lbar /= C
    Ul, w_read_l = _mha(
        xh, Lbar, all_slots, W_q, b_q, W_k, b_k, W_v, b_v, n_heads, topk_read, scale
    )
    if use_correction:
        Uwl, _ = _mha(Ul, Uw, mask, W_q, b_q, W_k, b_k, W_v, b_v, n_heads, 0, scale)
    else:
        Uwl = Ul
    if use_wm:
        U = alpha * Uw + (1.0 - alpha) * Uwl
    else:
        U = Uwl
    return U, Mw_new, Ml_new, w_write, w_read_w, w_read_l


@numba.njit(cache=True)
def _pmi_step_batch(x, mask, Mw, Ml, n_heads, params):
    # params: the arguments of _pmi_step_one after Ml, as a tuple (n_heads among them;
    # given again here to size the attention outputs).
    B, T, _ = x.shape
    N, D = Mw.shape[1], Mw.shape[2]
    U = np.empty((B, T, D))
    Mw_out = np.empty_like(Mw)
    Ml_out = np.empty_like(Ml)
    w_write = np.empty((B, n_heads, N, T))
    w_read_w = np.empty((B, n_heads, T, N))
    w_read_l = np.empty((B, n_heads, T, N))
    for b in range(B):
        r = _pmi_step_one(x[b], mask[b], Mw[b], Ml[b], *params)
        U[b] = r[0]
        Mw_out[b] = r[1]
        Ml_out[b] = r[2]
        w_write[b] = r[3]
        w_read_w[b] = r[4]
        w_read_l[b] = r[5]
    return U, Mw_out, Ml_out, w_write, w_read_w, w_read_l


# --------------------------------------------------------------------------- validation


def _check_int(name, v, lo=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__}")
    if v < lo:
        raise ValueError(f"{name} must be >= {lo}, got {v}")


def _as_float_array(name, a, ndim):
    if not isinstance(a, np.ndarray):
        if isinstance(a, (list, tuple)):
            a = np.asarray(a)
        else:
            raise TypeError(f"{name} must be a numpy array, got {type(a).__name__}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dims, got shape {a.shape}"
        )
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _check_weights(weights, cfg, input_dim):
    if not isinstance(weights, dict):
        raise TypeError(f"weights must be a dict of arrays, got {type(weights).__name__}")
    shapes = weight_shapes(cfg, input_dim)
    missing = [n for n in shapes if n not in weights]
    if missing:
        raise ValueError(f"weights: missing {', '.join(missing)}")
    extra = [n for n in weights if n not in shapes]
    if extra:
        raise ValueError(f"weights: unknown names {', '.join(map(str, extra))}")
    out = {}
    for n, shp in shapes.items():
        a = np.asarray(weights[n])
        if a.shape != shp:
            raise ValueError(f"weights[{n!r}] must have shape {shp}, got {a.shape}")
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(f"weights[{n!r}] must be floating point, got dtype {a.dtype}")
        a = np.array(a, dtype=np.float64, order="C")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"weights[{n!r}] contains NaN or infinite values")
        out[n] = a
    return out


def layer_norm(x: np.ndarray, gain: np.ndarray | None = None, bias=None) -> np.ndarray:
    r"""Layer normalisation over the last axis, :math:`(x-\mu)/\sqrt{\sigma^2+10^{-5}}\,g + b`.

    Parameters
    ----------
    x : ndarray, shape (..., D)
        Rows to normalise.
    gain, bias : ndarray, shape (D,), optional
        Affine parameters (default 1 and 0).

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError
        NaN input or wrong parameter shapes.
    """
    x = _as_float_array("x", x, ndim=(1, 2, 3, 4))
    D = x.shape[-1]
    g = np.ones(D) if gain is None else _as_float_array("gain", gain, ndim=(1,))
    b = np.zeros(D) if bias is None else _as_float_array("bias", bias, ndim=(1,))
    if g.shape != (D,) or b.shape != (D,):
        raise ValueError(f"gain and bias must have shape ({D},), got {g.shape} and {b.shape}")
    flat = np.ascontiguousarray(x.reshape(-1, D))
    return _layer_norm(flat, g, b).reshape(x.shape)


def multihead_attention(
    queries: np.ndarray,
    keys: np.ndarray,
    weights: dict,
    cfg: PMIConfig,
    topk: int = 0,
    key_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention with optional top-k, with the module's shared projections.

    Parameters
    ----------
    queries : ndarray, shape (Tq, D)
        Query rows (before projection).
    keys : ndarray, shape (Tk, D)
        Key/value rows (before projection).
    weights : dict
        Module weights (``W_q``, ``b_q``, ``W_k``, ``b_k``, ``W_v``, ``b_v`` are used).
    cfg : PMIConfig
        Module shape.
    topk : int
        Keys kept per query row (0: soft attention); must not exceed ``Tk``.
    key_mask : ndarray of bool, shape (Tk,), optional
        False marks keys to ignore.

    Returns
    -------
    out : ndarray, shape (Tq, D)
        Concatenated heads.
    attn : ndarray, shape (H, Tq, Tk)
        Attention weights after top-k.

    Raises
    ------
    ValueError
        Shape mismatch, ``topk`` larger than the number of keys, NaN values.
    """
    cfg.validate()
    q = _as_float_array("queries", queries, ndim=(2,))
    k = _as_float_array("keys", keys, ndim=(2,))
    for n, a in (("queries", q), ("keys", k)):
        if a.shape[1] != cfg.dim:
            raise ValueError(f"{n} must have {cfg.dim} columns (cfg.dim), got {a.shape[1]}")
    _check_int("topk", topk, lo=0)
    if topk > k.shape[0]:
        raise ValueError(f"topk={topk} is larger than the number of keys {k.shape[0]}")
    mask = _check_mask("key_mask", key_mask, (k.shape[0],))
    w = {n: np.ascontiguousarray(weights[n], dtype=np.float64) for n in WEIGHT_NAMES[2:8]}
    scale = 1.0 / np.sqrt(cfg.key_dim) if cfg.scaled else 1.0
    return _mha(
        q, k, mask, w["W_q"], w["b_q"], w["W_k"], w["b_k"], w["W_v"], w["b_v"],
        cfg.n_heads, topk, scale,
    )  # fmt: skip


def _check_mask(name, mask, shape):
    if mask is None:
        return np.ones(shape, dtype=np.bool_)
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array, got dtype {mask.dtype}")
    if mask.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {mask.shape}")
    if not np.all(mask.reshape(-1, shape[-1]).any(axis=-1)):
        raise ValueError(f"{name}: every example needs at least one valid (True) token")
    return np.ascontiguousarray(mask)


def pmi_step(
    x: np.ndarray,
    working: np.ndarray,
    long_term: np.ndarray,
    weights: dict,
    cfg: PMIConfig,
    mask: np.ndarray | None = None,
) -> dict:
    """One PMI step: competitive write, consolidation and inference (see module docstring).

    Parameters
    ----------
    x : ndarray, shape (T, D_in) or (B, T, D_in)
        Perceived tokens.
    working : ndarray, shape (N, D) or (B, N, D)
        Working memory :math:`M_w^{t-1}`.
    long_term : ndarray, shape (C, N, D) or (B, C, N, D)
        Long-term memory :math:`M_l^{t-1}`.
    weights : dict
        Module weights (:func:`init_weights`, or exported from the torch module).
    cfg : PMIConfig
        Module shape and switches.
    mask : ndarray of bool, shape (T,) or (B, T), optional
        False marks padding tokens: they are not written and not used as keys.

    Returns
    -------
    dict
        ``U`` (understanding, like ``x`` with width ``D``), ``working`` (:math:`M_w^t`),
        ``long_term`` (:math:`M_l^t`), ``write_attention`` ((B,) H x N x T, after top-k),
        ``read_attention_wm`` and ``read_attention_ltm`` ((B,) H x T x N; the latter zeros
        when ``use_ltm`` is False).

    Raises
    ------
    ValueError, TypeError
        Mismatched dimensions, ``topk_write`` larger than the number of tokens, NaN values,
        bad mask or weights; checked before any work.
    """
    return _pmi_step(x, working, long_term, weights, cfg, mask, weights_checked=False)


def _pmi_step(x, working, long_term, weights, cfg, mask, weights_checked: bool) -> dict:
    """:func:`pmi_step`; ``weights_checked``: ``weights`` came from :func:`_check_weights`
    for this ``cfg`` and input width (:class:`PMIState` checks them once, not every step)."""
    cfg.validate()
    x = _as_float_array("x", x, ndim=(2, 3))
    batched = x.ndim == 3
    if not batched:
        x = x[None]
    B, T, Din = x.shape
    if T < 1:
        raise ValueError("x must hold at least one token")
    if weights_checked and Din == weights["W_in"].shape[0]:
        w = weights
    else:
        w = _check_weights(weights, cfg, Din)
    Mw = _as_float_array("working", working, ndim=(3,) if batched else (2,))
    Ml = _as_float_array("long_term", long_term, ndim=(4,) if batched else (3,))
    if not batched:
        Mw, Ml = Mw[None], Ml[None]
    N, D, C = cfg.n_slots, cfg.dim, cfg.n_segments
    if Mw.shape != (B, N, D):
        raise ValueError(f"working must have shape {(B, N, D)[0 if batched else 1 :]}, got "
                         f"{Mw.shape[0 if batched else 1 :]}")  # fmt: skip
    if Ml.shape != (B, C, N, D):
        raise ValueError(f"long_term must have shape {(B, C, N, D)[0 if batched else 1 :]}, got "
                         f"{Ml.shape[0 if batched else 1 :]}")  # fmt: skip
    if cfg.topk_write > T:
        raise ValueError(f"topk_write={cfg.topk_write} is larger than the number of tokens T={T}")
    m = _check_mask("mask", None if mask is None else (mask if batched else np.asarray(mask)[None]),
                    (B, T))  # fmt: skip
    scale = 1.0 / np.sqrt(cfg.key_dim) if cfg.scaled else 1.0
    params = (
        *[w[n] for n in WEIGHT_NAMES[:-2]],
        float(w["input_bias"]), float(w["forget_bias"]),
        cfg.n_heads, cfg.topk_write, cfg.topk_read, float(cfg.alpha),
        CONSOLIDATIONS.index(cfg.consolidation), bool(cfg.use_correction),
        bool(cfg.use_wm_inference), bool(cfg.use_ltm), scale,
    )  # fmt: skip
    U, Mw2, Ml2, ww, wrw, wrl = _pmi_step_batch(x, m, Mw, Ml, cfg.n_heads, params)
    out = {
        "U": U,
        "working": Mw2,
        "long_term": Ml2,
        "write_attention": ww,
        "read_attention_wm": wrw,
        "read_attention_ltm": wrl,
    }
    if not batched:
        out = {k: v[0] for k, v in out.items()}
    return out


def pmi_run(
    xs,
    weights: dict,
    cfg: PMIConfig,
    rng: np.random.Generator,
    working: np.ndarray | None = None,
    long_term: np.ndarray | None = None,
) -> dict:
    """Run a stream of steps from the initial memories (or given ones).

    Parameters
    ----------
    xs : sequence of ndarray, each (T, D_in)
        Tokens perceived at each step.
    weights : dict
        Module weights.
    cfg : PMIConfig
        Module shape.
    rng : numpy.random.Generator
        Draws :math:`M_l^0` when ``long_term`` is None.
    working, long_term : ndarray, optional
        Starting memories (default: :func:`init_working_memory`, :func:`init_long_term_memory`).

    Returns
    -------
    dict
        ``U``, ``working``, ``long_term``, ``write_attention``: lists with one entry per step.
    """
    cfg.validate()
    if working is None:
        working = init_working_memory(cfg.n_slots, cfg.dim)
    if long_term is None:
        long_term = init_long_term_memory(cfg.n_segments, cfg.n_slots, cfg.dim, rng)
    hist = {"U": [], "working": [], "long_term": [], "write_attention": []}
    for i, x in enumerate(xs):
        try:
            r = pmi_step(x, working, long_term, weights, cfg)
        except (ValueError, TypeError) as e:
            raise type(e)(f"step {i}: {e}") from None
        working, long_term = r["working"], r["long_term"]
        for k in hist:
            hist[k].append(r[k])
    return hist


class PMIState:
    """A NumPy PMI module with its memories: config, weights, working and long-term memory.

    The functions above are stateless; this holds what they carry from step to step, so that
    a module can be stepped, saved and loaded as one object.

    Parameters
    ----------
    cfg : PMIConfig
        Module shape and switches.
    input_dim : int
        Width of the perceived tokens.
    weights : dict, optional
        Module weights (default: :func:`init_weights` drawn from ``seed``).
    seed : int or numpy.random.Generator
        Source of the default weights and of :math:`M_l^0` (see :mod:`neuromem.rng`).
    working, long_term : ndarray, optional
        Starting memories (default: :func:`init_working_memory`,
        :func:`init_long_term_memory`).

    Attributes
    ----------
    steps : int
        Steps taken so far.
    """

    def __init__(
        self,
        cfg: PMIConfig,
        input_dim: int,
        weights: dict | None = None,
        seed=0,
        working: np.ndarray | None = None,
        long_term: np.ndarray | None = None,
    ):
        if not isinstance(cfg, PMIConfig):
            raise TypeError(f"cfg must be a PMIConfig, got {type(cfg).__name__}")
        cfg.validate()
        _check_int("input_dim", input_dim)
        rng = as_generator(seed)
        self.cfg = cfg
        self.input_dim = int(input_dim)
        w = init_weights(cfg, input_dim, rng) if weights is None else weights
        self._weights = _check_weights(w, cfg, self.input_dim)
        N, D, C = cfg.n_slots, cfg.dim, cfg.n_segments
        if working is None:
            working = init_working_memory(N, D)
        if long_term is None:
            long_term = init_long_term_memory(C, N, D, rng)
        self.working = _as_float_array("working", working, ndim=(2,))
        self.long_term = _as_float_array("long_term", long_term, ndim=(3,))
        if self.working.shape != (N, D):
            raise ValueError(f"working must have shape {(N, D)}, got {self.working.shape}")
        if self.long_term.shape != (C, N, D):
            raise ValueError(f"long_term must have shape {(C, N, D)}, got {self.long_term.shape}")
        self.steps = 0

    @property
    def weights(self) -> dict:
        """The module weights (checked once, when the state was built: to change them, build
        a new :class:`PMIState`)."""
        return self._weights

    def step(self, x: np.ndarray, mask: np.ndarray | None = None) -> dict:
        """One :func:`pmi_step` on tokens ``x`` (T, D_in); the memories move to the new ones.

        Returns
        -------
        dict
            What :func:`pmi_step` returns.
        """
        r = _pmi_step(
            x, self.working, self.long_term, self._weights, self.cfg, mask, weights_checked=True
        )
        self.working, self.long_term = r["working"], r["long_term"]
        self.steps += 1
        return r

    def save(self, path: str | os.PathLike) -> Path:
        """Write config, weights and memories to one ``.npz`` file (written atomically).

        The file (:mod:`neuromem.npzfile`) holds ``__header__`` (JSON: ``format_version`` =
        :data:`PMI_FORMAT_VERSION`, ``kind`` = ``"pmi-state"``, ``meta``: ``config``,
        ``input_dim``, ``steps``), ``working``, ``long_term`` and every weight as
        ``w.<name>``. Returns the path (``.npz`` added when missing).

        Raises
        ------
        FileNotFoundError
            The folder of ``path`` does not exist.
        """
        meta = {"config": self.cfg.as_dict(), "input_dim": self.input_dim, "steps": self.steps}
        arrays = {f"w.{k}": v for k, v in self.weights.items()}
        arrays.update(working=self.working, long_term=self.long_term)
        return npzfile.write(path, "pmi-state", meta, arrays, version=PMI_FORMAT_VERSION)

    @classmethod
    def load(cls, path: str | os.PathLike) -> PMIState:
        """Read a module written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Corrupt file, not a PMI state, another format version, or bad shapes.
        """
        header, arrays = npzfile.read(
            path, "pmi-state", "a PMI state file", version=PMI_FORMAT_VERSION
        )
        p = Path(path)
        try:
            cfg = PMIConfig(**header["config"])
            weights = {k[2:]: v for k, v in arrays.items() if k.startswith("w.")}
            state = cls(
                cfg,
                int(header["input_dim"]),
                weights=weights,
                working=arrays["working"],
                long_term=arrays["long_term"],
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"path: {p}: bad PMI state: {e}") from None
        state.steps = int(header.get("steps", 0))
        return state
