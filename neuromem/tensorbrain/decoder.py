"""The semantic decoder of the tensor brain and its episodic and semantic memories.

Four layers (Tresp et al., arXiv 2001.11027; Neural Computation 2023):

* **sensory buffer** ``v`` -- the current input vector;
* **representation layer** ``q`` (the blackboard) -- ``q_0 = f(v) = W_v v + b_v`` from the
  senses, or an index embedding when memory is replayed;
* **index layer** -- an embedding ``a_k`` and a bias ``a0_k`` per concept, in groups
  (``time`` indices, ``entity``, ``predicate``, unary ``label`` s: classes and attributes);
* **working memory** ``h`` -- a recurrent context that carries the decoded sequence from step
  to step and feeds the blackboard.

One decoding step ``n`` reads group ``G`` from the blackboard plus what working memory feeds in,

.. math::

    u_n = q_n + U h_n, \\qquad
    P(k \\mid q_n, h_n) = \\mathrm{softmax}_{k \\in G}\\, \\beta\\,(a0_k + a_k^\\top g(u_n)),
    \\qquad g = \\tanh,

measures an index ``k_n`` (by sampling, argmax, expectation ``e_n = sum_k P_k a_k``, or
teacher forcing) and feeds its embedding back (embodiment),

.. math::

    q_{n+1} = \\alpha\\, q_n + \\beta' a_{k_n}, \\qquad
    h_{n+1} = \\tanh(W_h h_n + V a_{k_n}).

Unary labels are read at the current state by independent Bernoulli units,
``P(c) = sigmoid(beta (a0_c + a_c . g(u_n)))``, without feedback.

Perception decodes ``time, subject, labels(subject), object, labels(object), predicate``: the
time step stores the episode in one shot -- the new time index gets the current blackboard
as its embedding, ``a_t := q_0 = f(v)`` -- so that episodic recall, which starts from
``q_0 = a_t``, replays the same decoding. Semantic memory is memory without time: it starts
from a learned *pre-observation* index ``q_0 = a_pre`` trained on every observed triple (the
marginal over time indices), or averages the episodic distributions over the time indices
(:meth:`TensorBrain.marginal_predicate`). It answers ``(s, ?, o)`` by
``P(p | s, o)``, and ``(s, p, ?)`` and ``(?, p, o)`` by Bayes over the decoding order,
``P(o | s, p) ~ P(o | s) P(p | s, o)`` and ``P(s | p, o) ~ P(s) P(o | s) P(p | s, o)``.

Training is teacher forcing through the decoding sequence: the loss is the sum over steps of
the cross-entropies of every measurement (softmax CE, label BCE), back-propagated
analytically through the few steps (:meth:`TensorBrain.loss_and_grad`), optimised by Adam.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuromem import npzfile
from neuromem._resources import check_memory
from neuromem.errors import DataNotFoundError

from ._checks import check_budget, check_finite_array, check_float, check_int
from ._training import SCHEDULES, train_multitask
from .config import DecoderConfig, DecoderFitConfig
from .evaluation import FilterIndex, evaluate_ranking
from .kernels import softmax_xent
from .models import _load_params, _meta_floats, _meta_ints

__all__ = [
    "TensorBrain",
    "Task",
    "DECODER_FORMAT_VERSION",
    "STEP_KINDS",
    "MEASUREMENTS",
    "PERCEPTION_PLAN",
    "TRIPLE_PLAN",
]

STEP_KINDS = ("time", "time_new", "entity", "predicate", "labels")
MEASUREMENTS = ("teacher", "argmax", "sample", "expectation")
#: perception: a new time index, subject with labels, object with labels, predicate
PERCEPTION_PLAN = ("time_new", "entity", "labels", "entity", "labels", "predicate")
#: semantic memory of a triple without labels: subject, object, predicate
TRIPLE_PLAN = ("entity", "entity", "predicate")

#: version of the file format written by :meth:`TensorBrain.save`
DECODER_FORMAT_VERSION = 1

_GROUP = {"entity": "entity", "predicate": "predicate", "labels": "label", "time": "time"}


@dataclass
class Task:
    """A set of training sequences that share a start and a plan.

    Attributes
    ----------
    start : {"sensory", "pre", "time"}
        ``q_0 = f(v)``, ``q_0 = a_pre`` or ``q_0 = a_t``.
    plan : tuple of str
        Step kinds (see :data:`STEP_KINDS`).
    targets : list of ndarray or None
        One entry per step: ``(n,)`` int ids for softmax steps, ``(n, n_labels)`` 0/1 for
        label steps, None for ``time_new`` steps.
    inputs : ndarray, optional
        ``(n, n_sensory)`` sensory vectors (``start="sensory"``) or ``(n,)`` time ids.
    """

    start: str
    plan: tuple
    targets: list
    inputs: np.ndarray | None = None

    def __len__(self) -> int:
        for t in self.targets:
            if t is not None:
                return len(t)
        return 0 if self.inputs is None else len(self.inputs)


def _rng(seed) -> np.random.Generator:
    """The Generator of ``seed`` (:func:`neuromem.rng.as_generator`; None: fresh entropy)."""
    from neuromem.rng import as_generator

    return np.random.default_rng() if seed is None else as_generator(seed)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class TensorBrain:
    """The four-layer semantic decoder with episodic and semantic memory.

    Parameters
    ----------
    n_entities, n_predicates : int
        Sizes of the entity and predicate index groups.
    n_labels : int
        Unary labels (classes and attributes); 0 for none.
    n_sensory : int
        Size of the sensory buffer ``v``; 0 when there are no senses (pure memory).
    dim : int
        Size of the representation layer ``q`` and of the working memory ``h``.
    alpha : float
        Decay of the blackboard at each feedback, ``q <- alpha q + beta' a_k``.
    beta : float
        Inverse temperature of the index layer.
    beta_fb : float
        ``beta'``: strength of the embodiment feedback.
    seed : int or numpy.random.Generator
        Source of the initial weights.

    Attributes
    ----------
    params : dict of str to ndarray
        Trained parameters: ``A_entity``, ``b_entity``, ``A_predicate``, ``b_predicate``,
        ``A_label``, ``b_label``, ``a_pre``, ``W_v``, ``b_v``, ``U``, ``W_h``, ``V``.
    A_time : ndarray
        Time-index embeddings, one row of size ``dim`` per stored episode, made in one shot
        by :meth:`store_episode`.
    """

    def __init__(
        self,
        n_entities: int,
        n_predicates: int,
        n_labels: int = 0,
        n_sensory: int = 0,
        dim: int = DecoderConfig.dim,
        alpha: float = DecoderConfig.alpha,
        beta: float = DecoderConfig.beta,
        beta_fb: float = DecoderConfig.beta_fb,
        seed=0,
    ):
        for name, v, lo in (
            ("n_entities", n_entities, 1),
            ("n_predicates", n_predicates, 1),
            ("n_labels", n_labels, 0),
            ("n_sensory", n_sensory, 0),
            ("dim", dim, 1),
        ):
            check_int(name, v, lo)
        for name, v in (("alpha", alpha), ("beta", beta), ("beta_fb", beta_fb)):
            check_float(name, v, 0.0)
        n_index = float(n_entities) + n_predicates + n_labels
        n_params = n_index * (dim + 1) + float(dim) * (n_sensory + 3 * dim + 2)
        # parameters, Adam's two moments, the gradient and its scratch: about five copies
        check_memory(
            40.0 * n_params,
            f"n_entities={n_entities}, n_predicates={n_predicates}, n_labels={n_labels}, "
            f"n_sensory={n_sensory}, dim={dim} (decoder parameters)",
        )
        rng = _rng(seed)
        n = int(dim)
        self.dim = n
        self.n_entities, self.n_predicates = int(n_entities), int(n_predicates)
        self.n_labels, self.n_sensory = int(n_labels), int(n_sensory)
        self.alpha, self.beta, self.beta_fb = float(alpha), float(beta), float(beta_fb)
        sc = 1.0 / np.sqrt(n)
        p = {
            "A_entity": rng.normal(0, 0.3, (self.n_entities, n)),
            "b_entity": np.zeros(self.n_entities),
            "A_predicate": rng.normal(0, 0.3, (self.n_predicates, n)),
            "b_predicate": np.zeros(self.n_predicates),
            "A_label": rng.normal(0, 0.3, (self.n_labels, n)),
            "b_label": np.zeros(self.n_labels),
            "a_pre": np.zeros(n),
            "W_v": rng.normal(0, 1.0 / np.sqrt(max(self.n_sensory, 1)), (n, self.n_sensory)),
            "b_v": np.zeros(n),
            "U": rng.normal(0, sc, (n, n)),
            "W_h": rng.normal(0, sc, (n, n)),
            "V": rng.normal(0, sc, (n, n)),
        }
        self.params = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in p.items()}
        self.A_time = np.zeros((0, n))
        self.b_time = np.zeros(0)
        self.history: list[float] = []

    # ------------------------------------------------------------------ helpers
    @property
    def n_time(self) -> int:
        """Number of stored time indices (episodes)."""
        return len(self.A_time)

    def _group(self, kind):
        if kind == "time":
            return self.A_time, self.b_time
        g = _GROUP[kind]
        return self.params[f"A_{g}"], self.params[f"b_{g}"]

    def _group_size(self, kind):
        return {
            "entity": self.n_entities,
            "predicate": self.n_predicates,
            "labels": self.n_labels,
            "time": self.n_time,
        }[kind]

    def sensory_map(self, v) -> np.ndarray:
        """``f(v) = W_v v + b_v`` for a batch of sensory vectors, shape (B, dim)."""
        v = self._check_sensory(v)
        return v @ self.params["W_v"].T + self.params["b_v"]

    def _check_sensory(self, v):
        a = np.asarray(v)
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != self.n_sensory:
            raise ValueError(
                f"v: expected sensory vectors of size {self.n_sensory}, got shape {a.shape}"
            )
        if not np.issubdtype(a.dtype, np.number):
            raise TypeError(f"v: expected numbers, got dtype {a.dtype}")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError("v: contains NaN or infinite values")
        return a

    def _check_plan(self, plan):
        plan = tuple(plan)
        if not plan:
            raise ValueError("plan: empty decoding sequence")
        for k in plan:
            if k not in STEP_KINDS:
                raise ValueError(f"plan: unknown step {k!r}; expected one of {STEP_KINDS}")
            if k == "labels" and self.n_labels == 0:
                raise ValueError("plan: 'labels' step but the decoder has no labels")
        return plan

    def _check_targets(self, plan, targets, B):
        if targets is None:
            return [None] * len(plan)
        if len(targets) != len(plan):
            raise ValueError(f"targets: expected {len(plan)} entries (one per step)")
        out = []
        for i, (k, t) in enumerate(zip(plan, targets)):
            if t is None or k == "time_new":
                out.append(None)
                continue
            a = np.asarray(t)
            if k == "labels":
                if a.shape != (B, self.n_labels):
                    raise ValueError(
                        f"targets[{i}]: expected ({B}, {self.n_labels}) labels, got {a.shape}"
                    )
                if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
                    raise TypeError(f"targets[{i}]: expected 0/1 labels, got dtype {a.dtype}")
                a = a.astype(np.float64)
                if a.size and not (np.all(np.isfinite(a)) and a.min() >= 0 and a.max() <= 1):
                    raise ValueError(f"targets[{i}]: labels must be finite and in [0, 1]")
                out.append(a)
                continue
            if a.ndim == 0:
                a = np.full(B, a)
            if a.shape != (B,) or not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"targets[{i}]: expected {B} integer ids, got {a.shape} {a.dtype}")
            n = self._group_size(k)
            if a.size and (a.min() < 0 or a.max() >= n):
                raise ValueError(f"targets[{i}]: {k} ids must lie in [0, {n})")
            out.append(a.astype(np.int64))
        return out

    def _start(self, start, inputs, B=None):
        """Initial blackboard ``q_0`` (B, dim)."""
        if start == "sensory":
            return self.sensory_map(inputs)
        if start == "pre":
            if B is None:
                B = 1 if inputs is None else len(inputs)
            return np.repeat(self.params["a_pre"][None, :], B, axis=0)
        if start == "time":
            t = np.asarray(inputs)
            if t.ndim == 0:
                t = t.reshape(1)
            if t.ndim != 1 or (t.size and not np.issubdtype(t.dtype, np.integer)):
                raise ValueError(f"t: expected integer time indices, got {t.shape} {t.dtype}")
            if t.size and (t.min() < 0 or t.max() >= self.n_time):
                raise ValueError(f"t: time indices must lie in [0, {self.n_time})")
            return self.A_time[t.astype(np.int64)].copy()
        raise ValueError(f"start: expected 'sensory', 'pre' or 'time', got {start!r}")

    # ------------------------------------------------------------------ forward
    def _forward(self, q0, plan, targets, measure="teacher", rng=None, clamp=None):
        """Run the decoding steps; returns (loss, cache, probs, chosen)."""
        P = self.params
        U, Wh, V = P["U"], P["W_h"], P["V"]
        B = q0.shape[0]
        q = q0
        h = np.zeros((B, self.dim))
        loss = 0.0
        cache, probs, chosen = [], [], []
        for n, kind in enumerate(plan):
            y = targets[n]
            if kind == "time_new":
                e = q.copy()
                h_new = np.tanh(h @ Wh.T + e @ V.T)
                cache.append((kind, q, h, None, None, None, e, h_new))
                probs.append(None)
                chosen.append(None)
                q = self.alpha * q + self.beta_fb * e
                h = h_new
                continue
            A, b = self._group(kind)
            u = q + h @ U.T
            z = np.tanh(u)
            logits = self.beta * (b + z @ A.T)
            if kind == "labels":
                pr = _sigmoid(logits)
                if y is not None:
                    lp = np.logaddexp(0.0, -logits)  # -log sigmoid
                    ln = np.logaddexp(0.0, logits)  # -log (1 - sigmoid)
                    loss += float(np.sum(y * lp + (1 - y) * ln)) / B
                cache.append((kind, q, h, z, pr, y, None, None))
                probs.append(pr)
                chosen.append(pr > 0.5)
                continue
            if A.shape[0] == 0:
                raise ValueError(f"plan: step {n} ({kind}) reads an empty index group")
            grad = np.empty_like(logits)
            if y is not None:
                step_loss = softmax_xent(logits, y, 0.0, grad)
                if kind != "time":
                    loss += step_loss
                idx = y
            x = logits - logits.max(axis=1, keepdims=True)
            pr = np.exp(x)
            pr /= pr.sum(axis=1, keepdims=True)
            if clamp is not None and clamp[n] is not None:
                idx = clamp[n]
            elif y is None:
                if measure == "sample":
                    cum = np.cumsum(pr, axis=1)
                    r = rng.random((B, 1)) * cum[:, -1:]
                    idx = np.minimum((cum < r).sum(axis=1), A.shape[0] - 1)
                else:
                    idx = pr.argmax(axis=1)
            if measure == "expectation" and y is None:
                e = pr @ A
            else:
                e = A[idx]
            h_new = np.tanh(h @ Wh.T + e @ V.T)
            cache.append((kind, q, h, z, pr, y, e, h_new))
            probs.append(pr)
            chosen.append(np.asarray(idx))
            q = self.alpha * q + self.beta_fb * e
            h = h_new
        return loss, cache, probs, chosen

    def _backward(self, cache, B):
        """Analytic gradient of the teacher-forced loss; returns (grads, dq0)."""
        P = self.params
        U, Wh, V = P["U"], P["W_h"], P["V"]
        g = {k: np.zeros_like(v) for k, v in P.items()}
        dq = np.zeros((B, self.dim))
        dh = np.zeros((B, self.dim))
        for kind, _q, h, z, pr, y, e, h_new in reversed(cache):
            if kind != "labels":
                # feedback q' = alpha q + beta' e ; h' = tanh(W_h h + V e)
                de = self.beta_fb * dq
                dq = self.alpha * dq
                dc = dh * (1.0 - h_new**2)
                g["W_h"] += dc.T @ h
                g["V"] += dc.T @ e
                dh = dc @ Wh
                de += dc @ V
                if kind == "time_new":
                    dq += de  # e = q
                    continue
                if kind != "time":
                    grp = _GROUP[kind]
                    np.add.at(g[f"A_{grp}"], y, de)
            if kind == "time":
                continue
            grp = _GROUP[kind]
            A = P[f"A_{grp}"]
            if kind == "labels":
                if y is None:
                    continue
                gl = (pr - y) / B
            else:
                gl = pr.copy()
                gl[np.arange(B), y] -= 1.0
                gl /= B
            gl *= self.beta
            g[f"b_{grp}"] += gl.sum(axis=0)
            g[f"A_{grp}"] += gl.T @ z
            du = (gl @ A) * (1.0 - z**2)
            dq += du
            g["U"] += du.T @ h
            dh += du @ U
        return g, dq

    def loss_and_grad(self, task: Task, index=None):
        """Teacher-forced loss of (a batch of) a task and its analytic gradient.

        .. math::

            L = \\frac{1}{B} \\sum_b \\Big[\\sum_{n \\in \\text{softmax steps}}
            -\\log P(k_{b,n} \\mid q_{b,n}, h_{b,n}) + \\sum_{n \\in \\text{label steps}}
            \\sum_c \\mathrm{BCE}(P_{b,n}(c), y_{b,n,c})\\Big]

        Gradients flow backwards through ``q_{n+1} = alpha q_n + beta' a_{k_n}`` and
        ``h_{n+1} = tanh(W_h h_n + V a_{k_n})`` into the index embeddings (used both to read
        and to feed back), the working-memory weights, and the start (``W_v, b_v`` or
        ``a_pre``). Time indices are one-shot memories and are not trained.

        Parameters
        ----------
        task : Task
            Sequences to score.
        index : array of int, optional
            Rows of the task to use (a mini-batch); all when None.

        Returns
        -------
        loss : float
        grads : dict of str to ndarray
        """
        plan = self._check_plan(task.plan)
        n_all = len(task)
        idx = np.arange(n_all) if index is None else np.asarray(index, dtype=np.int64)
        B = len(idx)
        inputs = None if task.inputs is None else np.asarray(task.inputs)[idx]
        targets = [None if t is None else np.asarray(t)[idx] for t in task.targets]
        targets = self._check_targets(plan, targets, B)
        q0 = self._start(task.start, inputs, B)
        loss, cache, _, _ = self._forward(q0, plan, targets)
        grads, dq0 = self._backward(cache, B)
        if task.start == "sensory":
            grads["W_v"] += dq0.T @ inputs
            grads["b_v"] += dq0.sum(axis=0)
        elif task.start == "pre":
            grads["a_pre"] += dq0.sum(axis=0)
        return loss, grads

    def fit(
        self,
        tasks: Sequence[Task],
        epochs: int = DecoderFitConfig.epochs,
        batch_size: int = DecoderFitConfig.batch_size,
        lr: float = DecoderFitConfig.lr,
        weight_decay: float = DecoderFitConfig.weight_decay,
        seed=0,
        time_budget: float | None = DecoderFitConfig.time_budget,
        callback=None,
        schedule: str = DecoderFitConfig.schedule,
    ) -> list[float]:
        """Train by teacher forcing with Adam on mini-batches drawn from every task.

        Parameters
        ----------
        tasks : sequence of Task
            Training sequences; each epoch visits every row of every task once, batches of
            the tasks interleaved at random.
        epochs, batch_size : int
            Passes and rows per step.
        lr : float
            Adam learning rate.
        weight_decay : float
            L2 penalty ``wd/2 * ||theta||^2`` added to the gradient of every weight.
        seed : int or numpy.random.Generator
            Batch order.
        time_budget : float, optional
            Opt-in wall-clock limit: stop after the epoch that crosses this many seconds.
            None (the default) trains for ``epochs``, so that the result depends on the seed
            only; with a budget it also depends on the machine's speed and load (the number
            of epochs run is ``len(returned list)``).
        callback : callable, optional
            ``callback(epoch, mean_loss)``.
        schedule : {"constant", "cosine"}
            Learning rate per epoch: constant, or cosine decay
            ``lr_e = lr (1 + cos(pi e / epochs)) / 2``.

        Returns
        -------
        list of float
            Mean loss per epoch.

        Raises
        ------
        ValueError
            Empty or malformed tasks, or a hyper-parameter out of its range (NaN and infinity
            included): ``epochs``, ``batch_size`` >= 1, ``lr`` > 0, ``weight_decay`` >= 0,
            ``time_budget`` > 0 or None; the message names it and states the range.
        TypeError
            A hyper-parameter of the wrong type.
        """
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule: expected 'constant' or 'cosine', got {schedule!r}")
        epochs = check_int("epochs", epochs)
        batch_size = check_int("batch_size", batch_size)
        lr = check_float("lr", lr, 0.0, lo_open=True)
        weight_decay = check_float("weight_decay", weight_decay, 0.0)
        time_budget = check_budget("time_budget", time_budget)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback: expected a callable, got {type(callback).__name__}")
        if isinstance(tasks, Task):
            tasks = [tasks]
        if not tasks:
            raise ValueError("tasks: nothing to train on")
        for i, t in enumerate(tasks):
            if not isinstance(t, Task):
                raise TypeError(f"tasks[{i}]: expected a Task, got {type(t).__name__}")
            if len(t) == 0:
                raise ValueError(f"tasks[{i}]: empty")
            self._check_plan(t.plan)
            self._check_targets(t.plan, t.targets, len(t))
            if t.start not in ("sensory", "pre", "time"):
                raise ValueError(
                    f"tasks[{i}].start: expected 'sensory', 'pre' or 'time', got {t.start!r}"
                )
            if t.start == "sensory":
                self._check_sensory(t.inputs)
        widest = max(self.n_entities, self.n_predicates, self.n_labels, self.n_time, self.dim)
        steps = max(len(t.plan) for t in tasks)
        # per step of a batch: logits, probabilities, gradients and the cached states
        check_memory(
            48.0 * min(batch_size, max(len(t) for t in tasks)) * widest * steps,
            f"batch_size={batch_size} ({steps} steps over {widest} indices)",
        )

        def epoch_done(ep, loss):
            self.history.append(loss)
            if callback is not None:
                callback(ep, loss)

        return train_multitask(
            self.params,
            [len(t) for t in tasks],
            lambda ti, idx: self.loss_and_grad(tasks[ti], idx),
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            rng=_rng(seed),
            weight_decay=weight_decay,
            decays=lambda k: not k.startswith("b_"),
            schedule=schedule,
            time_budget=time_budget,
            callback=epoch_done,
        )

    # ------------------------------------------------------------------ decoding
    def decode(
        self,
        start: str,
        inputs=None,
        plan=PERCEPTION_PLAN,
        measure: str = "argmax",
        targets=None,
        seed=None,
    ):
        """Decode a batch of sequences.

        Parameters
        ----------
        start : {"sensory", "pre", "time"}
            ``q_0 = f(v)`` (``inputs`` = sensory vectors), ``a_pre``, or ``a_t``
            (``inputs`` = time ids).
        inputs : ndarray, optional
            See ``start``; for ``"pre"`` an int batch size or None (1).
        plan : sequence of str
            Step kinds.
        measure : {"argmax", "sample", "expectation", "teacher"}
            How each index is measured; ``"teacher"`` needs ``targets``.
        targets : list, optional
            Per step: ids to force (teacher forcing) or None to measure.
        seed : int or numpy.random.Generator, optional
            Source of samples (``measure="sample"``).

        Returns
        -------
        probs : list of ndarray
            Per step: ``(B, |G|)`` probabilities (None for ``time_new``).
        chosen : list of ndarray
            Per step: ``(B,)`` measured ids, or ``(B, n_labels)`` booleans for labels.
        """
        if measure not in MEASUREMENTS:
            raise ValueError(f"measure: expected one of {MEASUREMENTS}, got {measure!r}")
        plan = self._check_plan(plan)
        if start == "pre":
            B = 1 if inputs is None else check_int("inputs (batch size for start='pre')", inputs)
            widest = max(self.n_entities, self.n_predicates, self.n_labels, self.dim)
            check_memory(32.0 * B * widest * len(plan), f"inputs={B} (batch size)")
            q0 = self._start("pre", None, B)
        else:
            q0 = self._start(start, inputs)
        B = len(q0)
        if measure == "teacher" and targets is None:
            raise ValueError("targets: teacher forcing needs targets")
        tg = self._check_targets(plan, targets, B)
        rng = _rng(seed)
        _, _, probs, chosen = self._forward(q0, plan, tg, measure=measure, rng=rng)
        return probs, chosen

    def perceive(self, v, store: bool = True, measure: str = "argmax", seed=None):
        """Perceive sensory vectors: decode ``t, s, labels, o, labels, p``.

        Parameters
        ----------
        v : ndarray, shape (B, n_sensory) or (n_sensory,)
            Sensory buffer.
        store : bool
            Store each input as a new episode (one-shot time index ``a_t = f(v)``).
        measure : {"argmax", "sample", "expectation"}
            Measurement of each step.
        seed : optional
            Source of samples.

        Returns
        -------
        dict
            ``subject``, ``object``, ``predicate`` (ids), ``subject_labels``,
            ``object_labels`` (booleans), ``probs`` (per step), ``time`` (new time ids or
            None).
        """
        v = self._check_sensory(v)
        t_ids = self.store_episode(v) if store else None
        plan = PERCEPTION_PLAN if self.n_labels else ("time_new",) + TRIPLE_PLAN
        probs, chosen = self.decode("sensory", v, plan, measure=measure, seed=seed)
        return self._pack(plan, probs, chosen, t_ids)

    def _pack(self, plan, probs, chosen, t_ids):
        out = {"time": t_ids, "probs": probs}
        ents = [i for i, k in enumerate(plan) if k == "entity"]
        labs = [i for i, k in enumerate(plan) if k == "labels"]
        out["subject"] = chosen[ents[0]]
        out["object"] = chosen[ents[1]]
        out["predicate"] = chosen[plan.index("predicate")]
        if labs:
            out["subject_labels"] = chosen[labs[0]]
            out["object_labels"] = chosen[labs[1]]
        return out

    # ------------------------------------------------------------------ memories
    def store_episode(self, v) -> np.ndarray:
        """Store episodes in one shot: a new time index per input, ``a_t := f(v)``.

        Returns
        -------
        ndarray of int
            The new time ids.
        """
        q = self.sensory_map(v)
        start = self.n_time
        self.A_time = np.concatenate([self.A_time, q])
        self.b_time = np.concatenate([self.b_time, np.zeros(len(q))])
        return np.arange(start, self.n_time)

    def recall_episode(self, t, measure: str = "argmax", seed=None):
        """Episodic recall: start from ``q_0 = a_t`` and decode what happened then.

        Returns the same dict as :meth:`perceive` (``time`` holds ``t``).
        """
        t = np.atleast_1d(np.asarray(t))
        plan = ("time",) + (PERCEPTION_PLAN[1:] if self.n_labels else TRIPLE_PLAN)
        tg = [t.astype(np.int64)] + [None] * (len(plan) - 1)
        q0 = self._start("time", t)
        rng = _rng(seed)
        tg = self._check_targets(plan, tg, len(t))
        if measure not in MEASUREMENTS[1:]:
            raise ValueError(f"measure: expected one of {MEASUREMENTS[1:]}, got {measure!r}")
        _, _, probs, chosen = self._forward(q0, plan, tg, measure=measure, rng=rng)
        return self._pack(plan, probs, chosen, t)

    def _triple_logprobs(self, s, o, start="pre", inputs=None):
        """log P(s), log P(o | s), log P(. | s, o) (full predicate rows) from ``start``."""
        B = len(s)
        q0 = self._start(start, inputs, B)
        plan = TRIPLE_PLAN
        tg = [s, o, None]
        _, _, probs, _ = self._forward(q0, plan, tg, measure="argmax")
        eps = 1e-300
        ls = np.log(probs[0][np.arange(B), s] + eps)
        lo = np.log(probs[1][np.arange(B), o] + eps)
        return ls, lo, np.log(probs[2] + eps)

    def _check_ids(self, x, n, name):
        a = np.atleast_1d(np.asarray(x))
        if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"{name}: expected a 1-d array of integer ids, got {a.shape}")
        if a.size and (a.min() < 0 or a.max() >= n):
            raise ValueError(f"{name}: ids must lie in [0, {n})")
        return a.astype(np.int64)

    def predicate_scores(self, s, o) -> np.ndarray:
        """Semantic query ``(s, ?, o)``: ``log P(p | s, o)`` from ``a_pre``, shape (B, n_p)."""
        s = self._check_ids(s, self.n_entities, "s")
        o = self._check_ids(o, self.n_entities, "o")
        return self._triple_logprobs(s, o)[2]

    def score_tail(self, s, p) -> np.ndarray:
        """Semantic query ``(s, p, ?)``: ``log P(o | s) + log P(p | s, o)`` for every ``o``."""
        s = self._check_ids(s, self.n_entities, "s")
        p = self._check_ids(p, self.n_predicates, "p")
        N, B = self.n_entities, len(s)
        ss = np.repeat(s, N)
        oo = np.tile(np.arange(N), B)
        _, lo, lp = self._triple_logprobs(ss, oo)
        return (lo + lp[np.arange(B * N), np.repeat(p, N)]).reshape(B, N)

    def score_head(self, p, o) -> np.ndarray:
        """Semantic query ``(?, p, o)``: ``log P(s) + log P(o | s) + log P(p | s, o)``."""
        p = self._check_ids(p, self.n_predicates, "p")
        o = self._check_ids(o, self.n_entities, "o")
        N, B = self.n_entities, len(o)
        ss = np.tile(np.arange(N), B)
        oo = np.repeat(o, N)
        ls, lo, lp = self._triple_logprobs(ss, oo)
        return (ls + lo + lp[np.arange(B * N), np.repeat(p, N)]).reshape(B, N)

    def marginal_predicate(self, s, o) -> np.ndarray:
        """``P(p | s, o)`` averaged over the stored episodes: ``(1/T) sum_t P(p | s, o, a_t)``.

        Semantic memory as the marginal of episodic memory over time indices.
        """
        s = self._check_ids(s, self.n_entities, "s")
        o = self._check_ids(o, self.n_entities, "o")
        if self.n_time == 0:
            raise ValueError("marginal_predicate: no episodes stored")
        T, B = self.n_time, len(s)
        acc = np.zeros((B, self.n_predicates))
        for t in range(T):
            q0 = np.repeat(self.A_time[t][None, :], B, axis=0)
            plan = ("time",) + TRIPLE_PLAN
            tg = [np.full(B, t), s, o, None]
            _, _, probs, _ = self._forward(q0, plan, tg)
            acc += probs[3]
        return acc / T

    def evaluate(self, triples, known=None, batch_size: int = 64) -> dict[str, float]:
        """Filtered MRR and Hits@k of semantic memory on ``triples`` (both directions)."""
        fi = None if known is None else FilterIndex(known, self.n_entities, self.n_predicates)
        return evaluate_ranking(self.score_tail, self.score_head, triples, fi, batch_size)

    def generate(self, n: int, seed=None) -> np.ndarray:
        """Sample ``n`` triples ``(s, p, o)`` from semantic memory (``q_0 = a_pre``)."""
        n = check_int("n", n)
        widest = max(self.n_entities, self.n_predicates, self.dim)
        check_memory(32.0 * n * widest * len(TRIPLE_PLAN), f"n={n} (triples to sample)")
        _, chosen = self.decode("pre", int(n), TRIPLE_PLAN, measure="sample", seed=seed)
        return np.stack([chosen[0], chosen[2], chosen[1]], axis=1).astype(np.int64)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Save weights, hyper-parameters and stored episodes to an ``.npz`` file.

        The file holds ``_meta`` = ``[version, n_entities, n_predicates, n_labels,
        n_sensory, dim]``, ``_hyper`` = ``[alpha, beta, beta_fb]``, every parameter by name,
        and ``A_time`` / ``b_time`` (format version :data:`DECODER_FORMAT_VERSION`).
        ``.npz`` is added to ``path`` when it has another suffix (:meth:`load` finds the file
        under either name); the file is written atomically. Returns the path written.
        """
        meta = np.array(
            [
                DECODER_FORMAT_VERSION,
                self.n_entities,
                self.n_predicates,
                self.n_labels,
                self.n_sensory,
                self.dim,
            ]
        )
        hyper = np.array([self.alpha, self.beta, self.beta_fb])
        return npzfile.write_arrays(
            path,
            dict(_meta=meta, _hyper=hyper, A_time=self.A_time, b_time=self.b_time, **self.params),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> TensorBrain:
        """Load a decoder written by :meth:`save` (``path`` with or without ``.npz``).

        Raises
        ------
        DataNotFoundError
            The file is missing (under ``path`` and with ``.npz`` added).
        ValueError
            Empty, truncated or unreadable; not a decoder file; another format version; or
            contents out of range: parameters of the wrong shape or with NaN/infinity, bad
            hyper-parameters, time-index embeddings ``A_time`` that are not ``(T, dim)`` or a
            bias ``b_time`` of another length than ``T`` (the message names the file).
        """
        try:
            p, z = npzfile.read_arrays(path, "a neuromem tensor-brain decoder file")
        except FileNotFoundError as e:
            raise DataNotFoundError(str(e)) from None
        if "_meta" not in z or "_hyper" not in z or "W_h" not in z:
            raise ValueError(f"path: {p} is not a neuromem tensor-brain decoder file")
        version, ne, npred, nl, ns, dim = _meta_ints(z, "_meta", 6, p)
        if version != DECODER_FORMAT_VERSION:
            raise ValueError(
                f"path: {p} has format version {version}; this neuromem reads "
                f"{DECODER_FORMAT_VERSION}"
            )
        a, b, bf = _meta_floats(z, "_hyper", 3, p)
        try:
            tb = cls(ne, npred, nl, ns, dim, alpha=a, beta=b, beta_fb=bf)
        except (ValueError, TypeError) as e:
            raise ValueError(f"path: {p} holds a bad decoder header: {e}") from None
        _load_params(tb.params, z, p)
        if "A_time" not in z or "b_time" not in z:
            raise ValueError(f"path: {p} lacks the stored episodes (A_time, b_time)")
        A_time, b_time = z["A_time"], z["b_time"]
        if A_time.ndim != 2 or A_time.shape[1] != dim or b_time.shape != (A_time.shape[0],):
            raise ValueError(
                f"path: {p}: A_time must be (T, {dim}) and b_time (T,), got {A_time.shape} "
                f"and {b_time.shape}"
            )
        for name, arr in (("A_time", A_time), ("b_time", b_time)):
            if not np.issubdtype(arr.dtype, np.number):
                raise ValueError(f"path: {p}: {name} has dtype {arr.dtype}")
            check_finite_array(name, arr, str(p))
        tb.A_time = np.array(A_time, dtype=np.float64)
        tb.b_time = np.array(b_time, dtype=np.float64)
        return tb
