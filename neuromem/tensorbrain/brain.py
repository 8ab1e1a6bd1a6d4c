"""The tensor brain's decoder as the paper decodes: windows, working memory, learned alpha.

Tresp et al., "The Tensor Brain: Semantic Decoding for Perception and Memory" (Neural
Computation 2023, sections 3-5; arXiv 2001.11027) and the authors' code (``hangligit/BTN``,
``tensorbrain/model.py``, ``BTN.forward_perception``, ``forward_tkg``, ``forward_skg``).

One decoding window ``X`` (subject, object, predicate) builds a **memoryless**
representation layer from that window's sensory input and from working memory,

.. math::

    \\tilde q_X = f(v_X) + W h, \\qquad
    P(k \\mid \\tilde q_X) = \\mathrm{softmax}_{k \\in G}\\,
    \\beta\\,(a0_k + a_k^\\top g(\\tilde q_X)),

measures an index ``k`` (teacher forcing, argmax, a sample, or the expectation
``e = sum_k P_k a_k`` -- the authors' ``integral`` mode, used in their training), embodies it
on the blackboard, ``q_X = \\alpha e + \\tilde q_X`` with a learned ``alpha`` (initial 1), reads
the unary labels of an entity from ``q_X`` and feeds the blackboard into working memory,

.. math::

    h' = \\mathrm{relu}(B\\,(\\mathrm{relu}(V q_X + c_V) + h) + c_B),

the authors' ``h_skip = B(V(q) + h_skip)``. ``f(v) = W_v v + b_v`` is linear and ``W`` linear
(``wlinear=1`` in their ``FinalTrain``); ``g`` is LeakyReLU(0.02) (their ``flinear=2``); the
paper writes a sigmoid, which stays selectable (``nonlinearity``).

The decoding starts at the time step: in perception the whole scene gives
``q_t = f(v_scene)`` (the authors' ``new_T`` variant; ``h`` starts from ``q_t``). A new episode
is stored in one shot by giving its time index this scene-level state as embedding,
``a_t := q_t`` (:class:`EpisodicMemory`). Episodic recall starts from ``q_t = a_t`` read back
from the time index alone and decodes with *no* window input (``\\tilde q_X = W h``, the
authors' ``forward_tkg``); semantic memory starts from a learned pre-observation index
``q = a_pre`` (``forward_skg``'s ``a_bar``), also without input.

Gradients are analytic (no autograd) and checked against finite differences in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._training import SCHEDULES, train_multitask
from .config import BrainConfig, BrainFitConfig, EpisodicConfig
from .models import Adam

__all__ = [
    "SceneBrain",
    "SceneTask",
    "EpisodicMemory",
    "LinearReadout",
    "NONLINEARITIES",
    "WINDOW_MODES",
    "WM_SOURCES",
    "TRAIN_MEASURES",
    "BRAIN_FORMAT_VERSION",
]

#: format version of :meth:`SceneBrain.save` and :meth:`EpisodicMemory.save`
BRAIN_FORMAT_VERSION = 1

NONLINEARITIES = ("leaky_relu", "relu", "tanh", "sigmoid")
WINDOW_MODES = ("regions", "scene", "once")
WM_SOURCES = ("blackboard", "index")
TRAIN_MEASURES = ("expectation", "teacher", "argmax", "sample")
_STARTS = ("sensory", "pre", "state", "time")
_HYPER_KEYS = (
    "dim",
    "wm_dim",
    "nonlinearity",
    "leak",
    "alpha",
    "learn_alpha",
    "beta",
    "window_mode",
    "wm_source",
    "sensory_hidden",
)


def _rng(seed) -> np.random.Generator:
    from neuromem.rng import as_generator

    return np.random.default_rng() if seed is None else as_generator(seed)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    p = np.exp(x)
    return p / p.sum(axis=1, keepdims=True)


def _choice(name, v, options):
    if v not in options:
        raise ValueError(f"{name}: expected one of {options}, got {v!r}")


def _num(name, v, lo=0.0, strict=False):
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    if not ok or not np.isfinite(v) or (v <= lo if strict else v < lo):
        op = ">" if strict else ">="
        raise ValueError(f"{name}: expected a finite number {op} {lo}, got {v!r}")
    return float(v)


def _int(name, v, lo=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
    return int(v)


@dataclass
class SceneTask:
    """Training sequences with one start (see :meth:`SceneBrain.loss_and_grad`).

    Attributes
    ----------
    start : {"sensory", "pre", "state", "time"}
        ``q_t = f(v_scene)``, ``q_t = a_pre``, ``q_t`` = given states, or ``q_t = a_t``
        from the learned time-index table of the training episodes (``inputs``: their ids;
        the authors' ``tkg`` task).
    targets : list
        Per step of :attr:`SceneBrain.plan`: ``(n,)`` ids or ``(n, n_labels)`` 0/1 labels.
    inputs : ndarray, optional
        ``(n, n_sensory)`` sensory vectors (``sensory``) or ``(n, dim)`` states (``state``).
    windows : bool
        Give each window its sensory input (perception); False: decode from ``q_t`` and
        working memory alone (replay of an episode stored as ``a_t = f(v_scene)``).
    measure : str
        How indices are measured while training (``TRAIN_MEASURES``).
    state_noise : float
        ``start="time"``: Gaussian noise added to each ``a_t`` while training, as a fraction
        of the RMS of the centred embeddings (robustness to the crosstalk of a distributed
        episodic memory; drawn from the training generator).
    """

    start: str
    targets: list
    inputs: np.ndarray | None = None
    windows: bool = True
    measure: str = "teacher"
    state_noise: float = 0.0

    def __len__(self) -> int:
        for t in self.targets:
            if t is not None:
                return len(t)
        return 0 if self.inputs is None else len(self.inputs)


class SceneBrain:
    """The decoder with per-window input, blackboard-fed working memory and learned alpha.

    Parameters
    ----------
    n_entities, n_predicates, n_labels, n_sensory : int
        Index groups and the size of the sensory buffer.
    windows : dict of str to bool array, optional
        Sensory masks ``scene``, ``subject``, ``object``, ``predicate`` (each of size
        ``n_sensory``); all True when omitted.
    dim, wm_dim, nonlinearity, leak, alpha, learn_alpha, beta, window_mode, wm_source :
        See :class:`~neuromem.tensorbrain.config.BrainConfig`.
    seed : int or numpy.random.Generator
        Initial weights.
    """

    def __init__(
        self,
        n_entities: int,
        n_predicates: int,
        n_labels: int = 0,
        n_sensory: int = 0,
        windows: dict | None = None,
        dim: int = BrainConfig.dim,
        wm_dim: int = BrainConfig.wm_dim,
        nonlinearity: str = BrainConfig.nonlinearity,
        leak: float = BrainConfig.leak,
        alpha: float = BrainConfig.alpha,
        learn_alpha: bool = BrainConfig.learn_alpha,
        beta: float = BrainConfig.beta,
        window_mode: str = BrainConfig.window_mode,
        wm_source: str = BrainConfig.wm_source,
        sensory_hidden: int = BrainConfig.sensory_hidden,
        seed=0,
    ):
        self.n_entities = _int("n_entities", n_entities)
        self.n_predicates = _int("n_predicates", n_predicates)
        self.n_labels = _int("n_labels", n_labels, 0)
        self.n_sensory = _int("n_sensory", n_sensory, 0)
        self.dim = d = _int("dim", dim)
        self.wm_dim = m = _int("wm_dim", wm_dim)
        self.sensory_hidden = hs = _int("sensory_hidden", sensory_hidden, 0)
        _choice("nonlinearity", nonlinearity, NONLINEARITIES)
        _choice("window_mode", window_mode, WINDOW_MODES)
        _choice("wm_source", wm_source, WM_SOURCES)
        self.nonlinearity, self.window_mode, self.wm_source = nonlinearity, window_mode, wm_source
        self.leak = _num("leak", leak)
        self.beta = _num("beta", beta, strict=True)
        self.learn_alpha = bool(learn_alpha)
        masks = {}
        for name in ("scene", "subject", "object", "predicate"):
            mk = None if windows is None else windows.get(name)
            mk = np.ones(self.n_sensory, bool) if mk is None else np.asarray(mk, bool)
            if mk.shape != (self.n_sensory,):
                raise ValueError(f"windows: mask {name!r} must have shape ({self.n_sensory},)")
            masks[name] = mk.astype(np.float64)
        self.masks = masks
        rng = _rng(seed)
        p = {
            "A_entity": rng.normal(0, 0.3, (self.n_entities, d)),
            "b_entity": np.zeros(self.n_entities),
            "A_predicate": rng.normal(0, 0.3, (self.n_predicates, d)),
            "b_predicate": np.zeros(self.n_predicates),
            "A_label": rng.normal(0, 0.3, (self.n_labels, d)),
            "b_label": np.zeros(self.n_labels),
            "a_pre": rng.normal(0, 0.3, d),
            "W_s": rng.normal(0, np.sqrt(2.0 / max(self.n_sensory, 1)), (hs, self.n_sensory)),
            "b_s": np.zeros(hs),
            "W_v": rng.normal(
                0, 1.0 / np.sqrt(max(hs or self.n_sensory, 1)), (d, hs or self.n_sensory)
            ),
            "b_v": np.zeros(d),
            "W": rng.normal(0, 1.0 / np.sqrt(m), (d, m)),
            "V": rng.normal(0, np.sqrt(2.0 / d), (m, d)),
            "c_V": np.zeros(m),
            "B": rng.normal(0, np.sqrt(2.0 / m), (m, m)),
            "c_B": np.zeros(m),
            "alpha": np.array([_num("alpha", alpha)]),
        }
        p["A_time"] = np.zeros((0, d))
        self.params = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in p.items()}
        self.history: list[float] = []
        self._seed_rng = rng

    def init_time_table(self, n: int) -> None:
        """Learned time-index embeddings for ``n`` training episodes (the authors' ``A_T``)."""
        n = _int("n", n)
        self.params["A_time"] = self._seed_rng.normal(0, 0.3, (n, self.dim))

    # ------------------------------------------------------------------ layout
    @property
    def plan(self) -> tuple:
        """Steps after the time step: subject, its labels, object, its labels, predicate."""
        if self.n_labels:
            return ("entity", "labels", "entity", "labels", "predicate")
        return ("entity", "entity", "predicate")

    def _windows(self):
        lab = ("labels",) * bool(self.n_labels)
        names = ("subject",) + lab + ("object",) + lab + ("predicate",)
        return tuple(None if n == "labels" else n for n in names)

    def _g(self, x):
        if self.nonlinearity == "leaky_relu":
            return np.where(x > 0, x, self.leak * x), np.where(x > 0, 1.0, self.leak)
        if self.nonlinearity == "relu":
            return np.maximum(x, 0.0), (x > 0).astype(np.float64)
        if self.nonlinearity == "tanh":
            y = np.tanh(x)
            return y, 1.0 - y * y
        y = _sigmoid(x)
        return y, y * (1.0 - y)

    def _check_sensory(self, v, name="v"):
        a = np.asarray(v)
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != self.n_sensory or not np.issubdtype(a.dtype, np.number):
            raise ValueError(f"{name}: expected sensory vectors of size {self.n_sensory}")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: contains NaN or infinite values")
        return a

    def _f(self, x):
        """``f(x) = W_v relu(W_s x + b_s) + b_v`` (``W_v x + b_v`` without a hidden layer)."""
        P = self.params
        if not self.sensory_hidden:
            return x @ P["W_v"].T + P["b_v"], (x, None)
        u = x @ P["W_s"].T + P["b_s"]
        r = np.maximum(u, 0.0)
        return r @ P["W_v"].T + P["b_v"], (x, u)

    def _f_back(self, fc, dout, g):
        x, u = fc
        g["b_v"] += dout.sum(axis=0)
        if u is None:
            g["W_v"] += dout.T @ x
            return
        r = np.maximum(u, 0.0)
        g["W_v"] += dout.T @ r
        du = (dout @ self.params["W_v"]) * (u > 0)
        g["W_s"] += du.T @ x
        g["b_s"] += du.sum(axis=0)

    def scene_state(self, v) -> np.ndarray:
        """``q_t = f(v_scene)``: the scene-level state of the time step, shape (B, dim)."""
        v = self._check_sensory(v)
        return self._f(v * self.masks["scene"])[0]

    def _wm(self, src, h):
        P = self.params
        u1 = src @ P["V"].T + P["c_V"]
        r1 = np.maximum(u1, 0.0)
        u2 = (r1 + h) @ P["B"].T + P["c_B"]
        return u1, r1, u2, np.maximum(u2, 0.0)

    def _group(self, kind):
        g = {"entity": "entity", "predicate": "predicate", "labels": "label"}[kind]
        return g, self.params[f"A_{g}"], self.params[f"b_{g}"]

    # ------------------------------------------------------------------ forward
    def _forward(self, q0, x, targets, measure="teacher", rng=None, windows=True):
        """Decode the plan from ``q_t = q0``; returns (loss, cache, probs, chosen)."""
        P = self.params
        B = q0.shape[0]
        alpha = float(P["alpha"][0])
        use_win = windows and x is not None and self.window_mode != "once"
        h0 = np.zeros((B, self.wm_dim))
        wm = self._wm(q0, h0)
        h = wm[3]
        cache = [("start", q0, h0, wm)]
        probs, chosen = [], []
        loss = 0.0
        q = q0
        for kind, win, y in zip(self.plan, self._windows(), targets):
            grp, A, b = self._group(kind)
            if kind == "labels":
                z, dz = self._g(q)
                logits = self.beta * (b + z @ A.T)
                pr = _sigmoid(logits)
                if y is not None:
                    loss += (
                        float(
                            np.sum(
                                y * np.logaddexp(0.0, -logits) + (1 - y) * np.logaddexp(0.0, logits)
                            )
                        )
                        / B
                    )
                cache.append(("labels", grp, z, dz, pr, y))
                probs.append(pr)
                chosen.append(pr > 0.5)
                continue
            xw = None
            if use_win:
                mask = self.masks["scene" if self.window_mode == "scene" else win]
                fx, xw = self._f(x * mask)
                qt = fx + h @ P["W"].T
            else:
                qt = h @ P["W"].T
            z, dz = self._g(qt)
            logits = self.beta * (b + z @ A.T)
            pr = _softmax(logits)
            if y is not None:
                loss -= float(np.mean(np.log(pr[np.arange(B), y] + 1e-300)))
            mode = measure
            if mode == "teacher" and y is None:
                mode = "argmax"
            if mode == "expectation":
                idx = pr.argmax(axis=1)
                e = pr @ A
            else:
                if mode == "teacher":
                    idx = y
                elif mode == "sample":
                    cum = np.cumsum(pr, axis=1)
                    r = rng.random((B, 1)) * cum[:, -1:]
                    idx = np.minimum((cum < r).sum(axis=1), A.shape[0] - 1)
                else:
                    idx = pr.argmax(axis=1)
                e = A[idx]
            q = alpha * e + qt
            wm = self._wm(q if self.wm_source == "blackboard" else e, h)
            cache.append(("index", grp, xw, h, qt, z, dz, pr, y, mode, idx, e, q, wm))
            probs.append(pr)
            chosen.append(np.asarray(idx))
            h = wm[3]
        return loss, cache, probs, chosen

    def _backward(self, cache, B):
        """Analytic gradient of the loss of :meth:`_forward`; returns (grads, dq0)."""
        P = self.params
        alpha = float(P["alpha"][0])
        g = {k: np.zeros_like(v) for k, v in P.items()}
        dh = np.zeros((B, self.wm_dim))
        dq_lab = np.zeros((B, self.dim))  # gradient on the blackboard from its label step

        def wm_back(src, h, wm, dh_out):
            u1, r1, u2, _ = wm
            du2 = dh_out * (u2 > 0)
            g["B"] += du2.T @ (r1 + h)
            g["c_B"] += du2.sum(axis=0)
            d_in = du2 @ P["B"]
            du1 = d_in * (u1 > 0)
            g["V"] += du1.T @ src
            g["c_V"] += du1.sum(axis=0)
            return du1 @ P["V"], d_in  # d src, d h

        for item in reversed(cache):
            if item[0] == "labels":
                _, grp, z, dz, pr, y = item
                if y is None:
                    continue
                gl = self.beta * (pr - y) / B
                A = P[f"A_{grp}"]
                g[f"b_{grp}"] += gl.sum(axis=0)
                g[f"A_{grp}"] += gl.T @ z
                dq_lab = (gl @ A) * dz
                continue
            if item[0] == "start":
                _, q0, h0, wm = item
                dsrc, _ = wm_back(q0, h0, wm, dh)
                return g, dsrc
            _, grp, xw, h, qt, z, dz, pr, y, mode, idx, e, q, wm = item
            A = P[f"A_{grp}"]
            dsrc, dh_prev = wm_back(q if self.wm_source == "blackboard" else e, h, wm, dh)
            if self.wm_source == "blackboard":
                dq = dsrc + dq_lab
                de = alpha * dq
            else:
                dq = dq_lab
                de = alpha * dq + dsrc
            dq_lab = np.zeros((B, self.dim))
            if self.learn_alpha:
                g["alpha"][0] += float(np.sum(dq * e))
            dqt = dq
            dlog = np.zeros_like(pr)
            if y is not None:
                dlog += pr
                dlog[np.arange(B), y] -= 1.0
                dlog /= B
            if mode == "expectation":
                g[f"A_{grp}"] += pr.T @ de
                dP = de @ A.T
                dlog += pr * (dP - np.sum(pr * dP, axis=1, keepdims=True))
            else:
                np.add.at(g[f"A_{grp}"], idx, de)
            dlog *= self.beta
            g[f"b_{grp}"] += dlog.sum(axis=0)
            g[f"A_{grp}"] += dlog.T @ z
            dqt = dqt + (dlog @ A) * dz
            g["W"] += dqt.T @ h
            dh = dh_prev + dqt @ P["W"]
            if xw is not None:
                self._f_back(xw, dqt, g)
        raise AssertionError("cache without a start")  # pragma: no cover

    def _start(self, task_start, inputs, B):
        if task_start == "sensory":
            return self.scene_state(inputs)
        if task_start == "pre":
            return np.repeat(self.params["a_pre"][None, :], B, axis=0)
        if task_start == "time":
            t = np.asarray(inputs)
            n = len(self.params["A_time"])
            if (
                t.ndim != 1
                or not np.issubdtype(t.dtype, np.integer)
                or (t.size and (t.min() < 0 or t.max() >= n))
            ):
                raise ValueError(f"inputs: expected training time ids in [0, {n})")
            return self.params["A_time"][t]
        if task_start == "state":
            s = np.asarray(inputs, dtype=np.float64)
            if s.ndim != 2 or s.shape[1] != self.dim or not np.all(np.isfinite(s)):
                raise ValueError(f"inputs: expected finite states of shape (B, {self.dim})")
            return s
        raise ValueError(f"start: expected one of {_STARTS}, got {task_start!r}")

    def _check_targets(self, targets, B):
        if targets is None:
            return [None] * len(self.plan)
        if len(targets) != len(self.plan):
            raise ValueError(f"targets: expected {len(self.plan)} entries (one per step)")
        out = []
        for i, (kind, t) in enumerate(zip(self.plan, targets)):
            if t is None:
                out.append(None)
                continue
            a = np.asarray(t)
            if kind == "labels":
                if a.shape != (B, self.n_labels):
                    raise ValueError(f"targets[{i}]: expected ({B}, {self.n_labels}) labels")
                out.append(a.astype(np.float64))
                continue
            n = self.n_entities if kind == "entity" else self.n_predicates
            if a.shape != (B,) or not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"targets[{i}]: expected {B} integer ids")
            if a.size and (a.min() < 0 or a.max() >= n):
                raise ValueError(f"targets[{i}]: {kind} ids must lie in [0, {n})")
            out.append(a.astype(np.int64))
        return out

    def loss_and_grad(self, task: SceneTask, index=None, rng=None):
        """Loss (sum over steps of the mean cross-entropies) of a task and its gradient.

        Every index step is scored against its target while the measured index -- teacher,
        argmax, sample or expectation (``task.measure``) -- is what is embodied and fed to
        working memory; with ``expectation`` the gradient also flows through ``P``.
        """
        _choice("task.measure", task.measure, TRAIN_MEASURES)
        idx = np.arange(len(task)) if index is None else np.asarray(index, dtype=np.int64)
        B = len(idx)
        inputs = None if task.inputs is None else np.asarray(task.inputs)[idx]
        targets = self._check_targets(
            [None if t is None else np.asarray(t)[idx] for t in task.targets], B
        )
        q0 = self._start(task.start, inputs, B)
        noise = _num("task.state_noise", task.state_noise)
        if task.start == "time" and noise > 0:
            At = self.params["A_time"]
            rms = np.sqrt(np.mean((At - At.mean(axis=0)) ** 2))
            q0 = q0 + noise * rms * (rng or _rng(0)).standard_normal(q0.shape)
        x = self._check_sensory(inputs, "inputs") if task.start == "sensory" else None
        loss, cache, _, _ = self._forward(
            q0, x, targets, task.measure, rng or _rng(0), windows=task.windows
        )
        grads, dq0 = self._backward(cache, B)
        if task.start == "sensory":
            self._f_back(self._f(x * self.masks["scene"])[1], dq0, grads)
        elif task.start == "pre":
            grads["a_pre"] += dq0.sum(axis=0)
        elif task.start == "time":
            np.add.at(grads["A_time"], np.asarray(inputs, np.int64), dq0)
        if not self.learn_alpha:
            grads["alpha"][0] = 0.0
        return loss, grads

    def fit(
        self,
        tasks: Sequence[SceneTask],
        epochs: int = BrainFitConfig.epochs,
        batch_size: int = BrainFitConfig.batch_size,
        lr: float = BrainFitConfig.lr,
        weight_decay: float = BrainFitConfig.weight_decay,
        seed=0,
        callback=None,
        schedule: str = BrainFitConfig.schedule,
    ) -> list[float]:
        """Adam on mini-batches of every task, interleaved at random; mean loss per epoch.

        ``schedule``: ``"constant"`` learning rate, or ``"cosine"`` decay over the epochs,
        ``lr (1 + cos(pi e / epochs)) / 2`` in epoch ``e``.
        """
        if isinstance(tasks, SceneTask):
            tasks = [tasks]
        if not tasks:
            raise ValueError("tasks: nothing to train on")
        for i, t in enumerate(tasks):
            if not isinstance(t, SceneTask):
                raise TypeError(f"tasks[{i}]: expected a SceneTask, got {type(t).__name__}")
            if len(t) == 0:
                raise ValueError(f"tasks[{i}]: empty")
            _choice(f"tasks[{i}].measure", t.measure, TRAIN_MEASURES)
        _int("epochs", epochs)
        _int("batch_size", batch_size)
        _num("lr", lr, strict=True)
        _num("weight_decay", weight_decay)
        _choice("schedule", schedule, SCHEDULES)
        rng = _rng(seed)

        def epoch_done(ep, loss):
            self.history.append(loss)
            if callback is not None:
                callback(ep, loss)

        return train_multitask(
            self.params,
            [len(t) for t in tasks],
            lambda ti, idx: self.loss_and_grad(tasks[ti], idx, rng),
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            rng=rng,
            weight_decay=weight_decay,
            decays=lambda k: k.startswith(("A_", "W", "V", "B")),
            schedule=schedule,
            callback=epoch_done,
        )

    # ------------------------------------------------------------------ decoding
    def decode(self, start, inputs=None, measure="argmax", targets=None, seed=None, windows=True):
        """Decode from ``start`` (see :class:`SceneTask`); returns (probs, chosen) per step.

        ``measure="teacher"`` embodies the given targets (None steps: argmax).
        """
        _choice("measure", measure, TRAIN_MEASURES)
        if start == "pre":
            B = 1 if inputs is None else _int("inputs", inputs)
            q0 = self._start("pre", None, B)
            x = None
        else:
            x = self._check_sensory(inputs, "inputs") if start == "sensory" else None
            q0 = self._start(start, inputs if x is None else x, None)
        B = len(q0)
        tg = self._check_targets(targets, B)
        _, _, probs, chosen = self._forward(q0, x, tg, measure, _rng(seed), windows=windows)
        return probs, chosen

    def _pack(self, chosen):
        ent = [i for i, k in enumerate(self.plan) if k == "entity"]
        lab = [i for i, k in enumerate(self.plan) if k == "labels"]
        out = {"subject": chosen[ent[0]], "object": chosen[ent[1]], "predicate": chosen[-1]}
        if lab:
            out["subject_labels"], out["object_labels"] = chosen[lab[0]], chosen[lab[1]]
        out["triples"] = np.stack([out["subject"], out["predicate"], out["object"]], axis=1)
        return out

    def perceive(self, v, memory=None, measure: str = "argmax", seed=None) -> dict:
        """Perceive sensory vectors window by window; store each one shot when ``memory``.

        Returns ``subject``, ``object``, ``predicate``, ``triples`` (s, p, o), the labels,
        and ``time`` (the new time ids, or None). Storing forms each new time index from
        what was perceived (:meth:`form_time_index`) and writes it into ``memory``.
        """
        v = self._check_sensory(v)
        _, chosen = self.decode("sensory", v, measure=measure, seed=seed)
        out = self._pack(chosen)
        out["time"] = None
        if memory is not None:
            targets = [
                c.astype(np.float64) if k == "labels" else c for k, c in zip(self.plan, chosen)
            ]
            formed = self.form_time_index(
                targets,
                memory.form_steps,
                memory.form_lr,
                memory.form_noise,
                seed=np.random.default_rng([memory.seed, len(memory)]),
            )
            out["time"] = memory.store(formed)
        return out

    def form_time_index(
        self,
        targets,
        steps: int = EpisodicConfig.form_steps,
        lr: float = EpisodicConfig.form_lr,
        noise: float = EpisodicConfig.form_noise,
        seed=0,
    ) -> np.ndarray:
        """One-shot embeddings of new time indices, one per episode, shape (B, dim).

        Each new ``a_t`` starts at the mean of the learned training embeddings (or ``a_pre``
        when there are none) and takes ``steps`` Adam steps on the episodic (``tkg``) loss of
        decoding ``targets`` (per step of :attr:`plan`; usually what perception decoded)
        from ``a_t`` alone -- the authors' episodic task restricted to the new index, the
        decoder itself unchanged. With ``noise`` > 0 each step decodes from ``a_t`` plus
        Gaussian noise of that fraction of the RMS of the centred training embeddings
        (drawn from ``seed``), as the episodic task trains (:attr:`SceneTask.state_noise`):
        the index is formed where crosstalk does not change what it decodes.
        """
        steps = _int("steps", steps, 0)
        lr = _num("lr", lr, strict=True)
        noise = _num("noise", noise)
        B = next(len(t) for t in targets if t is not None)
        tg = self._check_targets(targets, B)
        At = self.params["A_time"]
        a0 = At.mean(axis=0) if len(At) else self.params["a_pre"]
        scale = noise * np.sqrt(np.mean((At - a0) ** 2)) if len(At) > 1 else 0.0
        rng = _rng(seed)
        state = {"a": np.repeat(a0[None, :], B, axis=0)}
        opt = Adam(state, lr=lr)
        for _ in range(steps):
            a = state["a"]
            if scale > 0:
                a = a + scale * rng.standard_normal(a.shape)
            _, cache, _, _ = self._forward(a, None, tg, "teacher", windows=False)
            _, dq0 = self._backward(cache, B)
            opt.step({"a": dq0 * B})
        return state["a"].copy()

    def recall(self, memory, t, measure: str = "argmax", seed=None) -> dict:
        """Episodic recall from time indices alone: ``q_t = a_t`` read from ``memory``."""
        if not isinstance(memory, EpisodicMemory):
            raise TypeError(f"memory: expected an EpisodicMemory, got {type(memory).__name__}")
        if memory.dim != self.dim:
            raise ValueError(f"memory: dim {memory.dim} differs from the decoder's {self.dim}")
        _, chosen = self.decode("state", memory.read(t), measure=measure, seed=seed)
        out = self._pack(chosen)
        out["time"] = np.atleast_1d(np.asarray(t))
        return out

    # ------------------------------------------------------------------ semantic memory
    def _ids(self, x, n, name):
        a = np.atleast_1d(np.asarray(x))
        if a.ndim != 1 or (a.size and not np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"{name}: expected a 1-d array of integer ids")
        if a.size and (a.min() < 0 or a.max() >= n):
            raise ValueError(f"{name}: ids must lie in [0, {n})")
        return a.astype(np.int64)

    def _triple_probs(self, q0, s, o):
        """P(s), P(o | s), P(. | s, o) from ``q_t = q0`` with s and o embodied."""
        tg = [None] * len(self.plan)
        ent = [i for i, k in enumerate(self.plan) if k == "entity"]
        tg[ent[0]], tg[ent[1]] = s, o
        _, _, probs, _ = self._forward(q0, None, tg, "teacher", windows=False)
        B = len(s)
        return probs[ent[0]][np.arange(B), s], probs[ent[1]][np.arange(B), o], probs[-1]

    def predicate_scores(self, s, o) -> np.ndarray:
        """Semantic ``(s, ?, o)``: ``log P(p | s, o, a_pre)``, shape (B, n_predicates)."""
        s = self._ids(s, self.n_entities, "s")
        o = self._ids(o, self.n_entities, "o")
        if len(s) != len(o):
            raise ValueError("s and o: lengths differ")
        q0 = self._start("pre", None, len(s))
        return np.log(self._triple_probs(q0, s, o)[2] + 1e-300)

    def marginal_predicate(self, memory, s, o, weighted: bool = True) -> np.ndarray:
        """``P(p | s, o)`` from the stored episodes, shape (B, n_predicates).

        ``weighted``: ``sum_t P(s | a_t) P(o | s, a_t) P(p | s, o, a_t)`` normalised over
        ``p`` -- each episode weighted by its own evidence for ``s`` and ``o`` (Bayes over
        the time index with a uniform prior); otherwise the uniform average over episodes.
        """
        s = self._ids(s, self.n_entities, "s")
        o = self._ids(o, self.n_entities, "o")
        if len(s) != len(o):
            raise ValueError("s and o: lengths differ")
        if len(memory) == 0:
            raise ValueError("memory: no episodes stored")
        states = memory.read(np.arange(len(memory)))
        acc = np.zeros((len(s), self.n_predicates))
        for st in states:
            ps, po, pp = self._triple_probs(np.repeat(st[None, :], len(s), axis=0), s, o)
            acc += (ps * po)[:, None] * pp if weighted else pp
        return acc / np.maximum(acc.sum(axis=1, keepdims=True), 1e-300)

    def replay(self, memory, t, measure: str = "sample", seed=None) -> np.ndarray:
        """Triples ``(s, p, o)`` recalled from stored episodes (for consolidation)."""
        return self.recall(memory, t, measure=measure, seed=seed)["triples"]

    # ------------------------------------------------------------------ persistence
    def _hyper(self) -> dict:
        return dict(
            dim=self.dim,
            wm_dim=self.wm_dim,
            nonlinearity=self.nonlinearity,
            leak=self.leak,
            alpha=float(self.params["alpha"][0]),
            learn_alpha=self.learn_alpha,
            beta=self.beta,
            window_mode=self.window_mode,
            wm_source=self.wm_source,
            sensory_hidden=self.sensory_hidden,
        )

    def save(self, path) -> Path:
        """Save shape, hyper-parameters, window masks and weights (incl. ``A_time``) to an
        ``.npz`` (:mod:`neuromem.npzfile`, kind ``tensorbrain.scenebrain``, format version
        :data:`BRAIN_FORMAT_VERSION`, written atomically); returns the path written."""
        from neuromem import npzfile

        meta = dict(
            n_entities=self.n_entities,
            n_predicates=self.n_predicates,
            n_labels=self.n_labels,
            n_sensory=self.n_sensory,
            **self._hyper(),
        )
        arrays = {f"mask_{k}": v for k, v in self.masks.items()} | self.params
        return npzfile.write(path, "tensorbrain.scenebrain", meta, arrays, BRAIN_FORMAT_VERSION)

    @classmethod
    def load(cls, path) -> SceneBrain:
        """Load a decoder written by :meth:`save`.

        Raises
        ------
        DataNotFoundError
            No such file.
        ValueError
            Not a SceneBrain file, another format version, a bad header, or parameters of
            the wrong shape or with NaN/infinity (the message names the file).
        """
        from neuromem import npzfile
        from neuromem.errors import DataNotFoundError

        what = "a neuromem SceneBrain file"
        try:
            meta, z = npzfile.read(path, "tensorbrain.scenebrain", what, BRAIN_FORMAT_VERSION)
        except FileNotFoundError as e:
            raise DataNotFoundError(str(e)) from None
        try:
            windows = {k: z[f"mask_{k}"] for k in ("scene", "subject", "object", "predicate")}
            tb = cls(
                meta["n_entities"],
                meta["n_predicates"],
                meta["n_labels"],
                meta["n_sensory"],
                windows,
                **{k: meta[k] for k in _HYPER_KEYS},
            )
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError(f"path: {path} holds a bad SceneBrain header: {e}") from None
        for k, v in tb.params.items():
            a = z.get(k)
            if a is None or (k != "A_time" and a.shape != v.shape):
                raise ValueError(f"path: {path}: parameter {k} missing or of the wrong shape")
            if k == "A_time" and (a.ndim != 2 or a.shape[1] != tb.dim):
                raise ValueError(f"path: {path}: A_time must be (T, {tb.dim})")
            if not np.issubdtype(a.dtype, np.number) or not np.all(np.isfinite(a)):
                raise ValueError(f"path: {path}: parameter {k} holds NaN, infinity or non-numbers")
            tb.params[k] = np.ascontiguousarray(a, dtype=np.float64)
        return tb


class EpisodicMemory:
    """Time indices formed in one shot, read back from the index alone.

    ``localist``: one index unit per episode whose embedding is the stored state,
    ``a_t := q_t`` (the paper's one-shot time index; exact at any load). ``distributed``: the
    time index is a random code ``k_t`` of ``n_units`` units (N(0, 1/n_units)) and every
    episode is written into one shared weight matrix by a one-shot Hebbian outer product,
    ``M <- decay M + (q_t - c) k_t^T``; reading gives ``c + M k_t / |k_t|^2``, the stored
    state plus the crosstalk of every other episode (variance about ``T / n_units`` of a
    state's), and with ``decay < 1`` older episodes fade.

    Parameters
    ----------
    dim : int
        Size of the stored states (the decoder's ``dim``).
    index, n_units, decay, form_steps, form_lr, form_noise
        See :class:`~neuromem.tensorbrain.config.EpisodicConfig`.
    center : ndarray, optional
        Subtracted before storage and added back on reading (the mean scene state).
    seed : int
        Source of the time-index codes.
    """

    def __init__(
        self,
        dim: int,
        index: str = EpisodicConfig.index,
        n_units: int = EpisodicConfig.n_units,
        decay: float = EpisodicConfig.decay,
        form_steps: int = EpisodicConfig.form_steps,
        form_lr: float = EpisodicConfig.form_lr,
        center=None,
        seed: int = 0,
        form_noise: float = EpisodicConfig.form_noise,
    ):
        self.dim = _int("dim", dim)
        _choice("index", index, ("localist", "distributed"))
        self.index = index
        self.n_units = _int("n_units", n_units)
        self.decay = _num("decay", decay, strict=True)
        if self.decay > 1:
            raise ValueError(f"decay: expected a number in (0, 1], got {decay!r}")
        self.center = np.zeros(self.dim) if center is None else np.asarray(center, np.float64)
        if self.center.shape != (self.dim,):
            raise ValueError(f"center: expected shape ({self.dim},)")
        self.seed = _int("seed", seed, 0)
        self.form_steps = _int("form_steps", form_steps, 0)
        self.form_lr = _num("form_lr", form_lr, strict=True)
        self.form_noise = _num("form_noise", form_noise)
        self.table = np.zeros((0, self.dim))
        self.M = np.zeros((self.dim, self.n_units))
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def save(self, path) -> Path:
        """Save the stored episodes (kind ``tensorbrain.episodic``, format version
        :data:`BRAIN_FORMAT_VERSION`, written atomically); returns the path written."""
        from neuromem import npzfile

        meta = dict(
            dim=self.dim,
            index=self.index,
            n_units=self.n_units,
            decay=self.decay,
            form_steps=self.form_steps,
            form_lr=self.form_lr,
            form_noise=self.form_noise,
            seed=self.seed,
            n=self._n,
        )
        arrays = dict(center=self.center, table=self.table, M=self.M)
        return npzfile.write(path, "tensorbrain.episodic", meta, arrays, BRAIN_FORMAT_VERSION)

    @classmethod
    def load(cls, path) -> EpisodicMemory:
        """Load a memory written by :meth:`save` (errors as :meth:`SceneBrain.load`)."""
        from neuromem import npzfile
        from neuromem.errors import DataNotFoundError

        what = "a neuromem episodic memory file"
        try:
            meta, z = npzfile.read(path, "tensorbrain.episodic", what, BRAIN_FORMAT_VERSION)
        except FileNotFoundError as e:
            raise DataNotFoundError(str(e)) from None
        try:
            n = _int("n", meta.pop("n"), 0)
            m = cls(center=z["center"], **meta)
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError(f"path: {path} holds a bad episodic-memory header: {e}") from None
        table, M = z.get("table"), z.get("M")
        ok = (
            table is not None
            and M is not None
            and M.shape == m.M.shape
            and table.ndim == 2
            and table.shape[1] == m.dim
            and (m.index == "distributed" or len(table) == n)
            and np.all(np.isfinite(table))
            and np.all(np.isfinite(M))
        )
        if not ok:
            raise ValueError(f"path: {path}: stored episodes of the wrong shape or not finite")
        m.table, m.M, m._n = np.asarray(table, np.float64), np.asarray(M, np.float64), n
        return m

    def keys(self, t) -> np.ndarray:
        """Time-index codes ``k_t``, shape (len(t), n_units)."""
        return np.stack(
            [
                np.random.default_rng([self.seed, int(i)]).standard_normal(self.n_units)
                / np.sqrt(self.n_units)
                for i in np.atleast_1d(t)
            ]
        ).reshape(-1, self.n_units)

    def store(self, states) -> np.ndarray:
        """Store states one shot as new time indices; returns their ids."""
        s = np.asarray(states, dtype=np.float64)
        if s.ndim != 2 or s.shape[1] != self.dim or not np.all(np.isfinite(s)):
            raise ValueError(f"states: expected finite states of shape (B, {self.dim})")
        ids = np.arange(self._n, self._n + len(s))
        if self.index == "localist":
            self.table = np.concatenate([self.table, s])
        else:
            w = self.decay ** np.arange(len(s) - 1, -1, -1)
            self.M *= self.decay ** len(s)
            for c in range(0, len(s), 256):  # keys in chunks: (256, n_units) at a time
                sl = slice(c, c + 256)
                self.M += ((s[sl] - self.center) * w[sl, None]).T @ self.keys(ids[sl])
        self._n += len(s)
        return ids

    def read(self, t) -> np.ndarray:
        """The states read back from time indices ``t`` alone, shape (len(t), dim)."""
        t = np.atleast_1d(np.asarray(t))
        if t.ndim != 1 or (t.size and not np.issubdtype(t.dtype, np.integer)):
            raise ValueError("t: expected a 1-d array of integer time indices")
        if t.size and (t.min() < 0 or t.max() >= self._n):
            raise ValueError(f"t: time indices must lie in [0, {self._n})")
        if self.index == "localist":
            return self.table[t].copy()
        out = np.empty((len(t), self.dim))
        for c in range(0, len(t), 256):
            k = self.keys(t[c : c + 256])
            out[c : c + 256] = self.center + (k @ self.M.T) / np.sum(k * k, axis=1, keepdims=True)
        return out


class LinearReadout:
    """Baseline: one linear softmax per slot (s, p, o) of the whole sensory input.

    ``P(k | v) = softmax(W v + b)``, trained by Adam on the cross-entropy of the three slots.
    """

    def __init__(self, n_sensory: int, sizes: Sequence[int], seed=0):
        self.n_sensory = _int("n_sensory", n_sensory)
        self.sizes = [_int("sizes", n) for n in sizes]
        rng = _rng(seed)
        self.params = {}
        for i, n in enumerate(self.sizes):
            self.params[f"W{i}"] = rng.normal(0, 0.01, (n, self.n_sensory))
            self.params[f"b{i}"] = np.zeros(n)

    def fit(
        self,
        v,
        targets,
        epochs: int = BrainFitConfig.epochs,
        batch_size: int = BrainFitConfig.batch_size,
        lr: float = BrainFitConfig.lr,
        seed=0,
    ):
        """Fit on sensory vectors ``v`` (n, n_sensory) and ``targets`` (n, n_slots).

        The defaults are the decoder's (:class:`~neuromem.tensorbrain.config.BrainFitConfig`).
        """
        _int("batch_size", batch_size)
        _num("lr", lr, strict=True)
        v = np.asarray(v, np.float64)
        y = np.asarray(targets, np.int64)
        if v.ndim != 2 or v.shape[1] != self.n_sensory:
            raise ValueError(f"v: expected shape (n, {self.n_sensory})")
        if y.shape != (len(v), len(self.sizes)):
            raise ValueError(f"targets: expected shape ({len(v)}, {len(self.sizes)})")
        if not np.all(np.isfinite(v)):
            raise ValueError("v: contains NaN or infinite values")
        for i, n in enumerate(self.sizes):
            if y.size and (y[:, i].min() < 0 or y[:, i].max() >= n):
                raise ValueError(f"targets: column {i} must lie in [0, {n})")
        rng = _rng(seed)
        opt = Adam(self.params, lr=lr)
        for _ in range(_int("epochs", epochs)):
            order = rng.permutation(len(v))
            for s in range(0, len(v), batch_size):
                b = order[s : s + batch_size]
                g = {}
                for i in range(len(self.sizes)):
                    pr = _softmax(v[b] @ self.params[f"W{i}"].T + self.params[f"b{i}"])
                    pr[np.arange(len(b)), y[b, i]] -= 1.0
                    pr /= len(b)
                    g[f"W{i}"] = pr.T @ v[b]
                    g[f"b{i}"] = pr.sum(axis=0)
                opt.step(g)
        return self

    def predict(self, v) -> np.ndarray:
        """Argmax of each slot, shape (n, n_slots)."""
        v = np.asarray(v, np.float64)
        if v.ndim != 2 or v.shape[1] != self.n_sensory:
            raise ValueError(f"v: expected shape (n, {self.n_sensory})")
        return np.stack(
            [
                (v @ self.params[f"W{i}"].T + self.params[f"b{i}"]).argmax(axis=1)
                for i in range(len(self.sizes))
            ],
            axis=1,
        )
