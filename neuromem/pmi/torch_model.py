r"""The PMI module in PyTorch (training path), the PMI Transformer and its same-size baseline.

Needs the optional extra ``neuromem[torch]`` (``pip install torch``); importing
:mod:`neuromem.pmi` does not import this module. :class:`PMIMemory` computes exactly the
equations of :mod:`neuromem.pmi.core` (same weight names and layouts, row-vector convention
``y = x W + b``), so weights move between the two with :meth:`PMIMemory.numpy_weights` and
:meth:`PMIMemory.load_numpy_weights`; the tests check that both forwards agree to 1e-5.

:class:`Encoder` is a post-norm Transformer encoder whose layer parameters are shared across
layers (as in the paper's PMI-TR and TR rows). With ``attention="pmi"`` the self-attention
sub-layer is replaced by the PMI module, whose memories are carried from layer to layer
(layer ``l`` is memory step ``t = l``; :math:`M_w^0` identity, :math:`M_l^0` a fixed uniform
draw made at construction from the user seed); with ``attention="mha"`` it is ordinary
multi-head self-attention (the baseline). Each layer computes

.. math::

    h = \mathrm{LN}_a(x + \mathrm{Attn}(x)),\qquad
    x' = \mathrm{LN}_f\big(h + W_{f2}\,\mathrm{relu}(W_{f1} h + b_{f1}) + b_{f2}\big)
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from neuromem.rng import as_generator, check_seed

from .core import CONSOLIDATIONS, WEIGHT_NAMES, PMIConfig, init_weights, weight_shapes

__all__ = [
    "PMIMemory",
    "SelfAttention",
    "Encoder",
    "BabiModel",
    "ClevrModel",
    "count_parameters",
    "sinusoidal_positions",
    "TORCH_FORMAT_VERSION",
    "load_model",
]

#: version of the file format written by the models' ``save`` (:func:`load_model` reads it)
TORCH_FORMAT_VERSION = 1


from .config import READOUTS, WORD_WEIGHTS, BabiModelConfig  # noqa: E402


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars of ``module``."""
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def sinusoidal_positions(n: int, dim: int) -> torch.Tensor:
    """Sinusoidal position codes (Vaswani et al.), shape ``(n, dim)``."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(0, dim, 2, dtype=torch.float64)
    ang = pos / torch.pow(10000.0, i / dim)
    pe = torch.zeros(n, dim, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(ang)
    pe[:, 1::2] = torch.cos(ang)[:, : dim // 2]
    return pe


def _layer_norm(x, g, b):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), g, b, eps=1e-5)


def _seed_arg(seed):
    """``seed`` for a saved config: the int, or None for a caller's Generator."""
    seed = check_seed(seed)
    return None if isinstance(seed, np.random.Generator) else seed


class _Saveable:
    """``save(path)`` / ``load(path)`` for the torch models: constructor arguments and
    ``state_dict`` in one ``torch.save`` file with a format version (read back with
    ``weights_only=True``)."""

    _init_args: dict

    def _remember(self, **kwargs) -> None:
        args = {}
        for k, v in kwargs.items():
            if isinstance(v, PMIConfig):
                v = {"__pmi_config__": v.as_dict()}
            elif isinstance(v, torch.dtype):
                v = {"__dtype__": str(v).removeprefix("torch.")}
            args[k] = v
        self._init_args = args

    def save(self, path: str | os.PathLike) -> Path:
        """Write the model to ``path``: ``torch.save`` of a dict holding ``format_version``
        (:data:`TORCH_FORMAT_VERSION`), ``class`` (the class name), ``config`` (the
        constructor arguments; a seed given as a Generator is stored as None) and
        ``state_dict``. The file is written atomically. Returns the path.

        Raises
        ------
        FileNotFoundError
            The folder of ``path`` does not exist.
        """
        p = Path(path)
        if not p.parent.is_dir():
            raise FileNotFoundError(f"path: folder {p.parent} does not exist")
        blob = {
            "format_version": TORCH_FORMAT_VERSION,
            "class": type(self).__name__,
            "config": dict(self._init_args),
            "state_dict": self.state_dict(),
        }
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".pt")
        os.close(fd)
        try:
            torch.save(blob, tmp)
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return p

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Read a model written by ``save`` (of this class; :func:`load_model` takes any).

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Not a neuromem torch model file (corrupt, another class, or another format
            version).
        """
        return load_model(path, expected=cls)


def _unpack_args(args: dict) -> dict:
    out = {}
    for k, v in args.items():
        if isinstance(v, dict) and "__pmi_config__" in v:
            v = PMIConfig(**v["__pmi_config__"])
        elif isinstance(v, dict) and "__dtype__" in v:
            v = getattr(torch, v["__dtype__"])
        elif k == "seed" and v is None:
            v = 0  # every weight comes from the state dict
        out[k] = v
    return out


def load_model(path: str | os.PathLike, expected: type | None = None) -> nn.Module:
    """Load a torch model (:class:`PMIMemory`, :class:`Encoder`, :class:`BabiModel`,
    :class:`ClevrModel`) written by its ``save`` method.

    Parameters
    ----------
    path : str or PathLike
        The file.
    expected : type, optional
        Refuse a file holding another class.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Corrupt file, unknown class, other class than ``expected``, another format version,
        a bad configuration, or NaN/infinite weights.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"path: no such file: {p}")
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to read is a corrupt file
        raise ValueError(f"path: {p} is not a neuromem torch model file: {e}") from None
    if not isinstance(blob, dict) or not {"format_version", "class", "config", "state_dict"} <= set(
        blob
    ):
        raise ValueError(f"path: {p} is not a neuromem torch model file")
    if blob["format_version"] != TORCH_FORMAT_VERSION:
        raise ValueError(
            f"path: {p} has format version {blob['format_version']!r}; "
            f"this neuromem reads version {TORCH_FORMAT_VERSION}"
        )
    classes = {c.__name__: c for c in (PMIMemory, Encoder, BabiModel, ClevrModel)}
    cls = classes.get(blob["class"])
    if cls is None:
        raise ValueError(f"path: {p} holds an unknown model class {blob['class']!r}")
    if expected is not None and cls is not expected:
        raise ValueError(f"path: {p} holds a {cls.__name__}, not a {expected.__name__}")
    bad = [
        k
        for k, v in blob["state_dict"].items()
        if torch.is_tensor(v) and v.is_floating_point() and not torch.isfinite(v).all()
    ]
    if bad:
        raise ValueError(f"path: {p}: NaN or infinite weights in {', '.join(bad[:5])}")
    try:
        model = cls(**_unpack_args(blob["config"]))
    except (TypeError, ValueError) as e:
        raise ValueError(f"path: {p}: bad model configuration: {e}") from None
    try:
        model.load_state_dict(blob["state_dict"], strict=True)
    except RuntimeError as e:
        raise ValueError(f"path: {p}: the weights do not fit the model: {e}") from None
    return model


class PMIMemory(_Saveable, nn.Module):
    """PMI module (write, consolidation, inference) over a batch; see :mod:`neuromem.pmi.core`.

    Parameters
    ----------
    cfg : PMIConfig
        Module shape and switches.
    input_dim : int
        Width of the perceived tokens.
    seed : int or numpy.random.Generator
        Source of the initial weights (as :func:`init_weights`; see :mod:`neuromem.rng`).
    dtype : torch.dtype
        Parameter dtype (float32 for training, float64 for exact comparisons).

    Notes
    -----
    :meth:`save` / :meth:`load` write and read the configuration and ``state_dict`` in one
    file (:func:`load_model`).
    """

    def __init__(self, cfg: PMIConfig, input_dim: int, seed=0, dtype=torch.float32):
        super().__init__()
        self.cfg = cfg.validate()
        self.input_dim = int(input_dim)
        self._remember(cfg=cfg, input_dim=self.input_dim, seed=_seed_arg(seed), dtype=dtype)
        w = init_weights(cfg, input_dim, as_generator(seed))
        for name in WEIGHT_NAMES:
            self.register_parameter(name, nn.Parameter(torch.as_tensor(w[name], dtype=dtype)))
        self.scale = 1.0 / math.sqrt(cfg.key_dim) if cfg.scaled else 1.0
        self.last_write_attention = None

    # -- weights exchange with the NumPy core
    def numpy_weights(self) -> dict:
        """The weights as float64 numpy arrays, named as in :func:`~.core.weight_shapes`."""
        return {n: getattr(self, n).detach().cpu().double().numpy().copy() for n in WEIGHT_NAMES}

    def load_numpy_weights(self, weights: dict) -> None:
        """Copy numpy weights (names and shapes of :func:`weight_shapes`) into the parameters.

        Raises
        ------
        ValueError
            A missing name or a wrong shape.
        """
        shapes = weight_shapes(self.cfg, self.input_dim)
        for n, shp in shapes.items():
            if n not in weights:
                raise ValueError(f"weights: missing {n}")
            a = np.asarray(weights[n])
            if a.shape != shp:
                raise ValueError(f"weights[{n!r}] must have shape {shp}, got {a.shape}")
        with torch.no_grad():
            for n in shapes:
                p = getattr(self, n)
                p.copy_(torch.as_tensor(np.asarray(weights[n]), dtype=p.dtype))

    # -- pieces
    def mha(self, a, b, key_mask, topk):
        """Multi-head attention ``a`` -> ``b`` with top-k; returns (out, weights)."""
        H = self.cfg.n_heads
        B, Tq, _ = a.shape
        Tk = b.shape[1]
        q = (a @ self.W_q + self.b_q).view(B, Tq, H, -1).transpose(1, 2)
        k = (b @ self.W_k + self.b_k).view(B, Tk, H, -1).transpose(1, 2)
        v = (b @ self.W_v + self.b_v).view(B, Tk, H, -1).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) * self.scale
        if key_mask is not None:
            s = s.masked_fill(~key_mask[:, None, None, :], float("-inf"))
        s = torch.softmax(s, dim=-1)
        if 0 < topk < Tk:
            idx = torch.topk(s, k=topk, dim=-1).indices
            keep = torch.zeros_like(s).scatter_(-1, idx, 1.0)
            s = s * keep
        out = (s @ v).transpose(1, 2).reshape(B, Tq, -1)
        return out, s

    def initial_state(self, batch: int, long_term0: torch.Tensor):
        """``(M_w^0, M_l^0)`` for a batch: identity-padded slots and the given long-term draw."""
        cfg = self.cfg
        mw = torch.eye(cfg.n_slots, cfg.dim, dtype=long_term0.dtype, device=long_term0.device)
        return mw.expand(batch, -1, -1), long_term0.expand(batch, -1, -1, -1)

    def forward(self, x, working, long_term, mask=None):
        """One step.

        Parameters
        ----------
        x : Tensor (B, T, D_in)
        working : Tensor (B, N, D)
        long_term : Tensor (B, C, N, D)
        mask : BoolTensor (B, T), optional
            False marks padding tokens.

        Returns
        -------
        U, working, long_term : Tensor
            Understanding (B, T, D) and the updated memories.
        """
        cfg = self.cfg
        B, T, _ = x.shape
        if cfg.topk_write > T:
            raise ValueError(f"topk_write={cfg.topk_write} is larger than the number of tokens {T}")
        xh = x @ self.W_in + self.b_in
        att, w_write = self.mha(working, xh, mask, cfg.topk_write)
        self.last_write_attention = w_write.detach()
        mt = _layer_norm(working + att, self.ln1_g, self.ln1_b)
        h = torch.relu(torch.relu(mt @ self.W_1 + self.b_1) @ self.W_2 + self.b_2)
        mbar = _layer_norm(mt + h, self.ln2_g, self.ln2_b)
        r = torch.relu(self.gate_w * xh)
        if mask is None:
            gx_in = r.mean(dim=1)
        else:
            mf = mask.to(r.dtype)[..., None]
            gx_in = (r * mf).sum(dim=1) / mf.sum(dim=1)
        gx = gx_in @ self.W_gx + self.b_gx  # (B, 2D)
        gm = torch.einsum("bnd,nde->bne", torch.tanh(working), self.W_gm) + self.b_gm
        gates = gm + gx[:, None, :]
        D = cfg.dim
        ig = torch.sigmoid(gates[..., :D] + self.input_bias)
        fg = torch.sigmoid(gates[..., D:] + self.forget_bias)
        new_working = ig * torch.tanh(mbar) + fg * working
        if not cfg.use_ltm:
            return self.mha(xh, new_working, None, 0)[0], new_working, long_term
        if cfg.consolidation == CONSOLIDATIONS[0]:
            delta = torch.einsum("bcnd,bnf->bcnf", long_term, mbar)
        else:
            A = new_working.transpose(1, 2) @ new_working / cfg.n_slots
            delta = long_term @ A[:, None]
        new_long = _layer_norm(long_term + delta, self.ln3_g, self.ln3_b)
        Uw, _ = self.mha(xh, new_working, None, 0)
        Ul, _ = self.mha(xh, new_long.mean(dim=1), None, cfg.topk_read)
        Uwl = self.mha(Ul, Uw, mask, 0)[0] if cfg.use_correction else Ul
        U = cfg.alpha * Uw + (1.0 - cfg.alpha) * Uwl if cfg.use_wm_inference else Uwl
        return U, new_working, new_long


class SelfAttention(nn.Module):
    """Ordinary multi-head self-attention with output projection (the baseline's sub-layer)."""

    def __init__(self, dim: int, n_heads: int):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"n_heads={n_heads} must divide dim={dim}")
        self.n_heads = n_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        B, T, D = x.shape
        H = self.n_heads
        q, k, v = self.qkv(x).view(B, T, 3, H, D // H).permute(2, 0, 3, 1, 4)
        s = q @ k.transpose(-1, -2) / math.sqrt(D // H)
        if mask is not None:
            s = s.masked_fill(~mask[:, None, None, :], float("-inf"))
        a = torch.softmax(s, dim=-1)
        return self.out((a @ v).transpose(1, 2).reshape(B, T, D))


class Encoder(_Saveable, nn.Module):
    """Transformer encoder with layer parameters shared across layers; PMI or MHA attention.

    Parameters
    ----------
    dim : int
        Model width.
    n_layers : int
        Layers (applications of the shared layer).
    ffn_dim : int
        Hidden width of the feed-forward sub-layer.
    attention : {"pmi", "mha"}
        PMI module in place of self-attention, or the baseline.
    pmi : PMIConfig, optional
        PMI shape (its ``dim`` must equal ``dim``); required for ``"pmi"``.
    dropout : float
        Dropout after attention and feed-forward.
    seed : int or numpy.random.Generator
        Source of the PMI weights and of the fixed :math:`M_l^0` (an int ``s`` draws them from
        ``default_rng(s)`` and ``default_rng([s, 1])``; a Generator gives both in turn).
    """

    def __init__(self, dim, n_layers, ffn_dim, attention="pmi", pmi=None, dropout=0.1, seed=0):
        super().__init__()
        if attention not in ("pmi", "mha"):
            raise ValueError(f"attention must be 'pmi' or 'mha', got {attention!r}")
        seed = check_seed(seed)
        self._remember(dim=dim, n_layers=n_layers, ffn_dim=ffn_dim, attention=attention,
                       pmi=pmi, dropout=dropout, seed=_seed_arg(seed))  # fmt: skip
        self.attention = attention
        self.n_layers = int(n_layers)
        if attention == "pmi":
            if pmi is None:
                raise ValueError("pmi: a PMIConfig is needed for attention='pmi'")
            if pmi.dim != dim:
                raise ValueError(f"pmi.dim={pmi.dim} must equal dim={dim}")
            self.attn = PMIMemory(pmi, dim, seed=seed)
            rng = (
                seed if isinstance(seed, np.random.Generator) else np.random.default_rng([seed, 1])
            )
            lt0 = rng.random((pmi.n_segments, pmi.n_slots, pmi.dim))
            self.register_buffer("long_term0", torch.as_tensor(lt0, dtype=torch.float32))
        else:
            heads = pmi.n_heads if pmi is not None else 4
            self.attn = SelfAttention(dim, heads)
        self.ln_a = nn.LayerNorm(dim)
        self.ln_f = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ffn_dim), nn.ReLU(), nn.Linear(ffn_dim, dim))
        self.drop = nn.Dropout(dropout)
        self.write_log = []

    def forward(self, x, mask=None, log_writes=False):
        """Encode ``x`` (B, T, dim) with key mask ``mask`` (B, T, True = token)."""
        self.write_log = []
        if self.attention == "pmi":
            mw, ml = self.attn.initial_state(x.shape[0], self.long_term0.to(x.dtype))
        for _ in range(self.n_layers):
            if self.attention == "pmi":
                a, mw, ml = self.attn(x, mw, ml, mask)
                if log_writes:
                    self.write_log.append(self.attn.last_write_attention)
            else:
                a = self.attn(x, mask)
            x = self.ln_a(x + self.drop(a))
            x = self.ln_f(x + self.drop(self.ff(x)))
        return x


class BabiModel(_Saveable, nn.Module):
    r"""bAbI reader: each sentence and the question become one token, plus a class token.

    A sentence token is the position-weighted sum of its word embeddings,
    :math:`s = \sum_j p_j \odot E[w_j]` (learned :math:`p_j`, initialised to ``1/L`` with
    ``word_weights="mean"``, as the authors' input module, or to 1 with ``"sum"``), the
    sequence ``[cls, s_1, ..., s_S, q]`` gets sinusoidal position codes, and the answer is
    read from the class token (``readout="cls"``, as the authors' code) or from the question
    token (``readout="question"``).

    Parameters
    ----------
    vocab_size, n_answers : int
        Word vocabulary (index 0 = padding) and answer classes.
    max_words : int
        Words per sentence after padding.
    dim, n_layers, ffn_dim, attention, pmi, dropout, seed
        As :class:`Encoder`.
    readout : {"cls", "question"}
        Which token's final state the answer head reads.
    word_weights : {"mean", "sum"}
        Initial word-position weights :math:`p_j`: ``1/L`` (``L = max_words``) or 1. With
        ``"mean"`` and N(0, 1) embeddings a sentence code has a standard deviation of about
        :math:`\sqrt{n}/L` for :math:`n` words, well below the unit-amplitude position codes
        added to it; ``"sum"`` makes it about :math:`\sqrt{n}`.

    Raises
    ------
    ValueError
        An unknown ``readout`` or ``word_weights``.
    """

    def __init__(self, vocab_size, n_answers, max_words, dim=64, n_layers=3, ffn_dim=128,
                 attention="pmi", pmi=None, dropout=0.1, seed=0,
                 readout=BabiModelConfig.readout,
                 word_weights=BabiModelConfig.word_weights):  # fmt: skip
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        if word_weights not in WORD_WEIGHTS:
            raise ValueError(f"word_weights must be one of {WORD_WEIGHTS}, got {word_weights!r}")
        self._remember(vocab_size=vocab_size, n_answers=n_answers, max_words=max_words, dim=dim,
                       n_layers=n_layers, ffn_dim=ffn_dim, attention=attention, pmi=pmi,
                       dropout=dropout, seed=_seed_arg(seed), readout=readout,
                       word_weights=word_weights)  # fmt: skip
        self.readout = readout
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        p0 = 1.0 / max_words if word_weights == "mean" else 1.0
        self.pos_w = nn.Parameter(torch.full((max_words, dim), p0))
        self.cls = nn.Parameter(torch.randn(dim) * 0.1)
        self.kind = nn.Parameter(torch.randn(2, dim) * 0.1)  # story / question type codes
        self.encoder = Encoder(dim, n_layers, ffn_dim, attention, pmi, dropout, seed)
        self.head = nn.Linear(dim, n_answers)
        self.register_buffer("pe", sinusoidal_positions(512, dim).float())

    def forward(self, story, story_mask, question):
        """Answer logits for ``story`` (B, S, W), ``story_mask`` (B, S), ``question`` (B, W)."""
        B, S, W = story.shape
        s = (self.embed(story) * self.pos_w[:W]).sum(dim=2) + self.kind[0]
        q = (self.embed(question) * self.pos_w[: question.shape[1]]).sum(dim=1) + self.kind[1]
        x = torch.cat([self.cls.expand(B, 1, -1), s, q[:, None]], dim=1)
        x = x + self.pe[: S + 2]
        ones = torch.ones(B, 1, dtype=torch.bool, device=story.device)
        mask = torch.cat([ones, story_mask, ones], dim=1)
        h = self.encoder(x, mask)
        return self.head(h[:, 0] if self.readout == "cls" else h[:, S + 1])


class ClevrModel(_Saveable, nn.Module):
    """Sort-of-CLEVR reader: image patches and the question become tokens, plus a class token.

    Parameters
    ----------
    image_size, patch : int
        Square image side and patch side (must divide it).
    question_dim, n_answers : int
        Width of the question code and number of answer classes.
    dim, n_layers, ffn_dim, attention, pmi, dropout, seed
        As :class:`Encoder`.
    """

    def __init__(self, image_size, patch, question_dim, n_answers, dim=64, n_layers=3,
                 ffn_dim=128, attention="pmi", pmi=None, dropout=0.1, seed=0):  # fmt: skip
        super().__init__()
        if image_size % patch:
            raise ValueError(f"patch={patch} must divide image_size={image_size}")
        self._remember(image_size=image_size, patch=patch, question_dim=question_dim,
                       n_answers=n_answers, dim=dim, n_layers=n_layers, ffn_dim=ffn_dim,
                       attention=attention, pmi=pmi, dropout=dropout,
                       seed=_seed_arg(seed))  # fmt: skip
        self.patch = patch
        self.n_patches = (image_size // patch) ** 2
        self.patch_embed = nn.Linear(3 * patch * patch, dim)
        self.q_embed = nn.Linear(question_dim, dim)
        self.cls = nn.Parameter(torch.randn(dim) * 0.1)
        self.pos = nn.Parameter(torch.randn(self.n_patches + 2, dim) * 0.1)
        self.encoder = Encoder(dim, n_layers, ffn_dim, attention, pmi, dropout, seed)
        self.head = nn.Linear(dim, n_answers)

    def forward(self, images, questions):
        """Logits for ``images`` (B, H, W, 3) in [0, 1] and ``questions`` (B, question_dim)."""
        B, Hh, Ww, _ = images.shape
        p = self.patch
        x = images.reshape(B, Hh // p, p, Ww // p, p, 3).permute(0, 1, 3, 2, 4, 5)
        x = self.patch_embed(x.reshape(B, -1, p * p * 3))
        q = self.q_embed(questions)[:, None]
        x = torch.cat([self.cls.expand(B, 1, -1), x, q], dim=1) + self.pos
        return self.head(self.encoder(x)[:, 0])
