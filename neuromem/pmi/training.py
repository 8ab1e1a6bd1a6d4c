"""Training and evaluation of the PMI Transformer and its baseline (needs torch).

Plain mini-batch Adam with gradient clipping on a fixed budget of steps; batches are drawn
from a numpy Generator seeded by the user seed, and torch's own generator is seeded from the
same seed, so a run is repeatable on one machine.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from neuromem.rng import as_seed_int

from .config import (
    MODEL_KINDS,
    SCHEDULES,
    VARIANTS,
    BabiModelConfig,
    TrainConfig,
    TransformerConfig,
)

__all__ = [
    "BabiModelConfig",
    "TrainConfig",
    "TransformerConfig",
    "require_torch",
    "fit",
    "lr_factor",
    "predict",
    "babi_model",
    "babi_batch_fn",
    "clevr_model",
    "matched_ffn_dim",
    "baseline_ffn_dim",
]


def require_torch(threads: int | None = 1):
    """Import torch (optional extra ``neuromem[torch]``) and set its thread count.

    Raises
    ------
    neuromem.errors.BackendUnavailableError
        torch is not installed.
    """
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is in the test environment
        from neuromem.errors import BackendUnavailableError

        raise BackendUnavailableError(
            "the PMI training path needs PyTorch: pip install 'neuromem[torch]'"
        ) from e
    if threads is not None:
        torch.set_num_threads(int(threads))
    return torch


def fit(
    model,
    batch_fn,
    n_train: int,
    steps: int,
    batch_size: int,
    lr: float,
    rng: np.random.Generator,
    clip: float = 5.0,
    progress=None,
    log_every: int = 50,
    warmup: int = 0,
    schedule: str = "constant",
    groups=None,
    callback=None,
    callback_every: int = 0,
) -> dict:
    r"""Train ``model`` for ``steps`` mini-batches of cross-entropy.

    The learning rate at step :math:`s` (0-based) is :math:`\eta_s = \eta\, f(s)` with a linear
    warm-up over the first :math:`w` steps, :math:`f(s) = (s + 1)/w`, and then
    :math:`f = 1` (``schedule="constant"``) or a cosine decay to zero over the remaining
    :math:`S - w` steps, :math:`f(s) = \tfrac12\big(1 + \cos(\pi (s - w)/(S - w))\big)`
    (``schedule="cosine"``).

    Parameters
    ----------
    model : torch.nn.Module
        The classifier.
    batch_fn : callable
        ``batch_fn(indices) -> (logits, labels)`` running the model on training rows.
    n_train : int
        Number of training rows.
    steps, batch_size : int
        Budget.
    lr : float
        Adam learning rate.
    rng : numpy.random.Generator
        Draws the batches (epochs of a fresh permutation).
    clip : float
        Gradient-norm clip.
    progress : callable, optional
        Wraps the step range (e.g. ``ctx.progress``).
    log_every : int
        Steps between entries of the loss curve.
    warmup : int
        Steps of linear learning-rate warm-up (0: none).
    schedule : {"constant", "cosine"}
        Learning rate after the warm-up.
    groups : array of int, optional
        A group label per training row. When given, every batch is drawn from one group
        picked uniformly at random (each group cycles through its own permutations), as the
        authors' bAbI loop draws each batch from one task; otherwise batches cycle through
        permutations of all rows.
    callback : callable, optional
        ``callback(step)`` called after optimiser step ``step`` (1-based) whenever ``step`` is
        a multiple of ``callback_every`` (e.g. to record validation accuracy during
        training; the model is back in training mode afterwards). Its time is not counted
        in ``train_seconds``.
    callback_every : int
        Steps between calls of ``callback`` (required, >= 1, when ``callback`` is given).

    Returns
    -------
    dict
        ``loss_curve`` (mean training loss per ``log_every`` steps), ``train_seconds``.

    Raises
    ------
    ValueError
        A negative ``warmup``, an unknown ``schedule``, ``groups`` of the wrong length, or a
        ``callback`` without a positive ``callback_every``.
    """
    torch = require_torch(threads=None)
    if isinstance(warmup, bool) or int(warmup) != warmup or warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if callback is not None and (
        isinstance(callback_every, bool)
        or int(callback_every) != callback_every
        or callback_every < 1
    ):
        raise ValueError(
            f"callback_every must be an integer >= 1 with a callback, got {callback_every!r}"
        )
    draw = _batch_sampler(n_train, batch_size, rng, groups)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, steps, int(warmup), schedule)
    )
    model.train()
    curve, acc_loss, acc_n = [], 0.0, 0
    it = range(steps) if progress is None else progress(range(steps), desc="train")
    t0 = time.perf_counter()
    spent = 0.0  # seconds inside the callback, left out of train_seconds
    for step in it:
        idx = draw()
        logits, labels = batch_fn(idx)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        acc_loss += float(loss.detach())
        acc_n += 1
        if acc_n == log_every:
            curve.append(acc_loss / acc_n)
            acc_loss, acc_n = 0.0, 0
        if callback is not None and (step + 1) % callback_every == 0:
            c0 = time.perf_counter()
            callback(step + 1)
            model.train()
            spent += time.perf_counter() - c0
    if acc_n:
        curve.append(acc_loss / acc_n)
    return {"loss_curve": curve, "train_seconds": time.perf_counter() - t0 - spent}


def loss_interval(steps: int) -> int:
    """Steps per entry of the loss curve for a budget of ``steps``: 50, or fewer for a short
    budget so that it still logs about 20 points (at least 1 step per entry)."""
    return max(1, min(50, int(steps) // 20))


def lr_factor(step: int, steps: int, warmup: int = 0, schedule: str = "constant") -> float:
    """Learning-rate multiplier at 0-based ``step`` of ``steps`` (see :func:`fit`)."""
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "cosine":
        span = max(1, steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(step - warmup, span) / span))
    return 1.0


def _batch_sampler(n_train, batch_size, rng, groups):
    """A function drawing the next batch of row indices (see ``groups`` in :func:`fit`)."""
    if groups is None:
        state = {"perm": rng.permutation(n_train), "pos": 0}

        def draw():
            if state["pos"] + batch_size > n_train:
                state["perm"], state["pos"] = rng.permutation(n_train), 0
            idx = state["perm"][state["pos"] : state["pos"] + batch_size]
            state["pos"] += batch_size
            return idx

        return draw
    groups = np.asarray(groups)
    if groups.shape != (n_train,):
        raise ValueError(f"groups must have shape ({n_train},), got {groups.shape}")
    rows = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    perms = [[rng.permutation(r), 0] for r in rows]

    def draw_group():
        g = int(rng.integers(len(rows)))
        perm, pos = perms[g]
        if pos + batch_size > len(perm):
            perm, pos = rng.permutation(rows[g]), 0
        perms[g] = [perm, pos + batch_size]
        return perm[pos : pos + batch_size]

    return draw_group


def predict(model, batch_fn, n: int, batch_size: int = 256) -> np.ndarray:
    """Arg-max predictions of ``model`` on rows ``0..n-1`` (``batch_fn(idx) -> logits``)."""
    torch = require_torch(threads=None)
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, n, batch_size):
            idx = np.arange(s, min(n, s + batch_size))
            out.append(batch_fn(idx).argmax(dim=-1).cpu().numpy())
    model.train()
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def matched_ffn_dim(build, target: int) -> int:
    r"""Feed-forward width that gives a model ``target`` trainable parameters (or the nearest).

    The parameter count of a Transformer is affine in its feed-forward width ``f``:
    :math:`P(f) = P(1) + (f - 1)\,(P(2) - P(1))` (each hidden unit adds one row of
    :math:`W_{f1}`, one column of :math:`W_{f2}` and one bias), so two probes give the width
    with :math:`|P(f) - \mathrm{target}| \le (P(2) - P(1)) / 2`.

    Parameters
    ----------
    build : callable
        ``build(ffn_dim) -> torch.nn.Module``.
    target : int
        Wanted number of trainable parameters.

    Returns
    -------
    int
        The width, at least 1.
    """
    from .torch_model import count_parameters

    p1 = count_parameters(build(1))
    slope = count_parameters(build(2)) - p1
    if slope <= 0:
        raise ValueError("build: the parameter count does not grow with ffn_dim")
    return max(1, int(round((target - p1) / slope)) + 1)


def baseline_ffn_dim(cfg, build) -> int:
    """The baseline's feed-forward width: ``cfg.baseline_ffn_dim``, or matched to PMI if 0.

    Parameters
    ----------
    cfg : TransformerConfig
        The model (``baseline_ffn_dim``, ``ffn_dim``).
    build : callable
        ``build(kind, ffn_dim) -> torch.nn.Module`` for ``kind`` "pmi" or "baseline".

    Returns
    -------
    int
        ``cfg.baseline_ffn_dim`` when positive, else the width at which the baseline has as
        many trainable parameters as the PMI model (see :func:`matched_ffn_dim`).
    """
    from .torch_model import count_parameters

    fixed = int(cfg.baseline_ffn_dim)
    if fixed > 0:
        return fixed
    target = count_parameters(build("pmi", cfg.ffn_dim))
    return matched_ffn_dim(lambda f: build("baseline", f), target)


def babi_model(
    kind: str,
    vocab_size: int,
    n_answers: int,
    max_words: int,
    cfg: BabiModelConfig | None = None,
    seed=0,
):
    """A :class:`~neuromem.pmi.torch_model.BabiModel` of ``kind`` (:data:`MODEL_KINDS`).

    ``cfg`` is the model's :class:`~neuromem.pmi.config.BabiModelConfig` (its defaults when
    None). The baseline's feed-forward width is :func:`baseline_ffn_dim` (by default matched so
    that it has as many parameters as the PMI model); the PMI models use ``ffn_dim``.
    """
    torch = require_torch(threads=None)
    from .torch_model import BabiModel

    cfg = _checked(cfg, BabiModelConfig)
    seed = as_seed_int(seed)

    def build(k, ffn):
        return BabiModel(
            vocab_size,
            n_answers,
            max_words,
            readout=cfg.readout,
            word_weights=cfg.word_weights,
            **_encoder_kwargs(k, ffn, cfg, seed),
        )

    ffn = baseline_ffn_dim(cfg, build) if kind == "baseline" else cfg.ffn_dim
    torch.manual_seed(seed)
    return build(kind, ffn)


def babi_batch_fn(arrs: dict, model, with_labels: bool):
    """A ``batch_fn(idx)`` for :func:`fit` (``with_labels=True``) or :func:`predict`.

    The stories of a batch are cut to its longest story, so short tasks run on short tensors,
    but never below ``topk_write - 2`` sentences of a PMI model (padding, masked), so that
    every step perceives at least ``topk_write`` tokens (class token, sentences, question)
    whatever the batch; the experiments check ``topk_write <= max_sentences + 2`` beforehand.

    Parameters
    ----------
    arrs : dict
        Arrays of :func:`neuromem.datasets.babi.vectorize_babi` (``story``, ``story_mask``,
        ``question``, ``answer``).
    model : BabiModel
        The reader.
    with_labels : bool
        Return ``(logits, labels)`` instead of ``logits``.
    """
    torch = require_torch(threads=None)
    attn = getattr(getattr(model, "encoder", None), "attn", None)
    topk = int(getattr(getattr(attn, "cfg", None), "topk_write", 0) or 0)
    S_max = arrs["story"].shape[1]
    S_min = min(max(topk - 2, 1), S_max)

    def fn(idx):
        m = arrs["story_mask"][idx]
        S = max(int(m.sum(axis=1).max()), S_min)
        logits = model(
            torch.as_tensor(arrs["story"][idx, :S]),
            torch.as_tensor(m[:, :S]),
            torch.as_tensor(arrs["question"][idx]),
        )
        if with_labels:
            return logits, torch.as_tensor(arrs["answer"][idx])
        return logits

    return fn


def _encoder_kwargs(kind, ffn, cfg, seed) -> dict:
    """The encoder's keyword arguments shared by the bAbI and Sort-of-CLEVR models."""
    return dict(
        dim=cfg.dim,
        n_layers=cfg.n_layers,
        ffn_dim=ffn,
        attention="mha" if kind == "baseline" else "pmi",
        pmi=_pmi_for(kind, cfg),
        dropout=cfg.dropout,
        seed=seed,
    )


def _pmi_for(kind, cfg: TransformerConfig):
    """The PMI module of ``kind``: the config's with the changes of :data:`VARIANTS`."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {', '.join(MODEL_KINDS)}; got {kind!r}")
    return dataclasses.replace(cfg.pmi, **VARIANTS.get(kind, {})).validate()


def _checked(cfg, cls):
    if cfg is None:
        cfg = cls()
    if not isinstance(cfg, TransformerConfig):
        raise TypeError(f"cfg must be a {cls.__name__}, got {type(cfg).__name__}")
    if not isinstance(cfg, cls):
        raise TypeError(f"cfg must be a {cls.__name__}, got {type(cfg).__name__}")
    cfg.validate()
    return cfg


def clevr_model(kind: str, image_size: int, patch: int, cfg: TransformerConfig | None = None,
                seed=0):  # fmt: skip
    """A :class:`~neuromem.pmi.torch_model.ClevrModel` of ``kind`` (see :func:`babi_model`)."""
    torch = require_torch(threads=None)
    from neuromem.datasets.sort_of_clevr import ANSWERS, QUESTION_DIM

    from .torch_model import ClevrModel

    cfg = _checked(cfg, TransformerConfig)
    seed = as_seed_int(seed)

    def build(k, ffn):
        return ClevrModel(
            image_size, patch, QUESTION_DIM, len(ANSWERS), **_encoder_kwargs(k, ffn, cfg, seed)
        )

    ffn = baseline_ffn_dim(cfg, build) if kind == "baseline" else cfg.ffn_dim
    torch.manual_seed(seed)
    return build(kind, ffn)
