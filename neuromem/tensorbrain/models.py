"""Tensor models of semantic memory: RESCAL, DistMult, ComplEx and Tucker.

Every model keeps **one embedding per concept**: row ``k`` of ``E`` (shape ``(N, d)``) is the
index embedding ``a_k`` of entity ``k``, whether it appears as subject or object, and a bias
``a0_k``. A query -- a subject and a predicate for ``(s, p, ?)``, or a predicate and an
object for ``(?, p, o)`` -- is mapped to a vector ``q`` in the representation space, and the
index layer scores every concept at once,

.. math::

    P(k \\mid q) = \\mathrm{softmax}_k\\,(a0_k + a_k^\\top q),

which is the 1-vs-all softmax of the tensor brain. The models differ in the score
``x(s, p, o)`` they implement, i.e. in how ``q`` is built:

=========  ==========================================================  ======================
model      score ``x(s, p, o)``                                        relation parameters
=========  ==========================================================  ======================
RESCAL     ``a_s^T R_p a_o``                                           ``R_p``: ``d x d``
DistMult   ``sum_i a_si r_pi a_oi``                                    ``r_p``: ``d``
ComplEx    ``Re(sum_i a_si r_pi conj(a_oi))`` (complex, ``d/2`` dims)  ``r_p``: ``d``
Tucker     ``sum_ijk W_ijk a_si r_pj a_ok``                            ``r_p``: ``d_r``, ``W``
=========  ==========================================================  ======================

With ``reciprocal=True`` every relation ``p`` gets a second parameter set ``p^-1`` (rows
``P .. 2P-1`` of ``R``), and the head query ``(?, p, o)`` is answered as the tail query
``(o, p^-1, ?)`` (Lacroix et al. 2018, Sec. 5; Dettmers et al. 2018, ConvE): the two
directions no longer share the relation parameters, and ``x(s, p, o)`` is the tail score.

Training minimises the softmax cross-entropy of both directions of every training triple,
with label smoothing ``eps`` (target ``(1 - eps) onehot + eps / N``) and the N3 regulariser
of Lacroix et al. (2018), ``lam * sum |theta|^3`` over the parameters used by the batch,
by Adam; optionally (``reg_all``) also an N3 term over *all* entity embeddings at every
step, and (``entity_bias=False``) without the biases ``a0_k``. The gradients are analytic
(see :meth:`TensorModel.loss_and_grad`) and checked against finite differences in the tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from neuromem import npzfile
from neuromem._resources import check_memory
from neuromem.errors import DataNotFoundError
from neuromem.rng import as_generator

from ._checks import check_budget, check_finite_array, check_float, check_int
from .config import KGFitConfig
from .evaluation import FilterIndex, evaluate_ranking
from .kernels import (
    adam_update,
    bilinear_query,
    bilinear_query_backward,
    scatter_add_rows,
    softmax_xent,
)

__all__ = ["TensorModel", "MODELS", "Adam", "FORMAT_VERSION"]

MODELS = ("rescal", "distmult", "complex", "tucker")
#: 2: the header holds ``reciprocal`` (version-1 files, without it, load as non-reciprocal);
#: 3: and ``entity_bias`` (version-1 and -2 files, without it, load with the bias)
FORMAT_VERSION = 3


class Adam:
    """Adam optimiser over a dict of float64 arrays (updated in place).

    .. math::

        m \\leftarrow \\beta_1 m + (1 - \\beta_1) g, \\quad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2, \\quad
        \\theta \\leftarrow \\theta - \\eta \\frac{\\hat m}{\\sqrt{\\hat v} + \\epsilon}, \\quad
        \\hat m = \\frac{m}{1 - \\beta_1^t}, \\; \\hat v = \\frac{v}{1 - \\beta_2^t}

    Parameters
    ----------
    params : dict of str to ndarray
        Parameters (C-contiguous float64), updated in place by :meth:`step`.
    lr : float
        Learning rate ``eta``.
    betas : (float, float)
        ``beta_1, beta_2``.
    eps : float
        ``epsilon``.
    """

    def __init__(self, params: dict, lr: float = 1e-2, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = params
        self.lr = check_float("lr", lr, 0.0, lo_open=True)
        self.b1, self.b2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.t = 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads: dict) -> None:
        """Apply one update with ``grads`` (same keys and shapes as the parameters)."""
        self.t += 1
        for k, p in self.params.items():
            g = grads.get(k)
            if g is None:
                continue
            adam_update(
                p.reshape(-1),
                np.ascontiguousarray(g).reshape(-1),
                self.m[k].reshape(-1),
                self.v[k].reshape(-1),
                self.lr,
                self.b1,
                self.b2,
                self.eps,
                self.t,
            )


def _scatter(dst, idx, src):
    """``dst[idx] += src`` row-wise (Numba kernel; 1-d ``dst`` handled as a column)."""
    if dst.ndim == 1:
        np.add.at(dst, idx, src)
        return
    scatter_add_rows(
        dst.reshape(dst.shape[0], -1), idx, np.ascontiguousarray(src).reshape(len(idx), -1)
    )


def _load_params(params: dict, z: dict, p: Path) -> None:
    """Copy each array of ``params`` from the arrays ``z`` read from ``p``: each must be
    there, with the model's shape, numbers, and finite (ValueError naming the file)."""
    for k in params:
        if k not in z:
            raise ValueError(f"path: parameter {k} is missing from {p}")
        a = z[k]
        if a.shape != params[k].shape:
            raise ValueError(
                f"path: parameter {k} has shape {a.shape} in {p}; the model needs {params[k].shape}"
            )
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise ValueError(f"path: parameter {k} has dtype {a.dtype} in {p}")
        check_finite_array(f"parameter {k}", a, str(p))
        params[k][...] = a


def _meta_ints(z: dict, key: str, n: int, p: Path) -> list[int]:
    """The ``n`` integers of header array ``key`` (ValueError naming the file otherwise)."""
    a = z.get(key)
    if a is None or a.ndim != 1 or a.shape[0] != n or not np.issubdtype(a.dtype, np.integer):
        got = None if a is None else f"{a.dtype} {a.shape}"
        raise ValueError(f"path: {p}: {key} must hold {n} integers, got {got}")
    return [int(x) for x in a]


def _meta_floats(z: dict, key: str, n: int, p: Path) -> list[float]:
    a = z.get(key)
    if a is None or a.ndim != 1 or a.shape[0] != n or not np.issubdtype(a.dtype, np.number):
        got = None if a is None else f"{a.dtype} {a.shape}"
        raise ValueError(f"path: {p}: {key} must hold {n} numbers, got {got}")
    return [float(x) for x in a]


def _check_ids(x, n, name):
    a = np.asarray(x)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d array of ids, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name}: expected integer ids, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= n):
        raise ValueError(f"{name}: ids must lie in [0, {n})")
    return a


def training_bytes(kind: str, n_entities: int, n_relations: int, dim: int, rel_dim: int) -> float:
    """Estimated memory (bytes) of a tensor model in training: its parameters, Adam's two
    moments, the gradient and its scratch (about five float64 copies)."""
    d, dr = float(dim), float(rel_dim)
    n_rel = {"rescal": d * d, "tucker": dr}.get(kind, d)
    n_params = n_entities * (d + 1) + n_relations * n_rel + (d * dr * d if kind == "tucker" else 0)
    return 40.0 * n_params


class TensorModel:
    """A tensor model of a knowledge graph scored 1-vs-all over the entities.

    Parameters
    ----------
    kind : {"rescal", "distmult", "complex", "tucker"}
        The model.
    n_entities, n_relations : int
        Vocabulary sizes.
    dim : int
        Entity embedding size ``d`` (even for ComplEx).
    rel_dim : int, optional
        Tucker's relation embedding size ``d_r`` (default ``min(dim, 32)``).
    init_scale : float
        Standard deviation of the initial embeddings.
    seed : int or numpy.random.Generator
        Source of the initial values.
    reciprocal : bool
        Reciprocal relations: a separate parameter set ``p^-1`` per relation scores the head
        query ``(?, p, o)`` as the tail query ``(o, p^-1, ?)`` (Lacroix et al. 2018; Dettmers
        et al. 2018). False (the default): both directions use ``p``'s parameters, the
        tensor model of the tensor brain.
    entity_bias : bool
        Learn the bias ``a0_k`` of each entity (True, the default: the index layer of the
        tensor brain). False: ``b`` stays at 0 and gets no gradient (PyKEEN's ComplEx has
        no bias).

    Attributes
    ----------
    params : dict of str to ndarray
        ``E`` (N, d) entity embeddings ``a_k``, ``b`` (N,) biases ``a0_k``, ``R`` relation
        parameters (``2P`` rows with ``reciprocal``, the inverses after the relations), and
        ``W`` (d, d_r, d) for Tucker.
    """

    def __init__(
        self,
        kind: str,
        n_entities: int,
        n_relations: int,
        dim: int = 64,
        rel_dim: int | None = None,
        init_scale: float = 0.1,
        seed=0,
        reciprocal: bool = False,
        entity_bias: bool = True,
    ):
        if kind not in MODELS:
            raise ValueError(f"kind: unknown model {kind!r}; expected one of {MODELS}")
        for name, v in (("n_entities", n_entities), ("n_relations", n_relations), ("dim", dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        if kind == "complex" and dim % 2:
            raise ValueError(
                f"dim: ComplEx needs an even size (real and imaginary halves), got {dim}"
            )
        if not isinstance(reciprocal, (bool, np.bool_)):
            raise TypeError(f"reciprocal: expected a bool, got {type(reciprocal).__name__}")
        if not isinstance(entity_bias, (bool, np.bool_)):
            raise TypeError(f"entity_bias: expected a bool, got {type(entity_bias).__name__}")
        init_scale = check_float("init_scale", init_scale, 0.0, lo_open=True)
        rel_dim = check_int("rel_dim", rel_dim if rel_dim is not None else min(int(dim), 32))
        d, P, N, dr = int(dim), int(n_relations), int(n_entities), rel_dim
        n_rows = 2 * P if reciprocal else P  # relation parameter sets
        check_memory(
            training_bytes(kind, N, n_rows, d, dr),
            f"n_entities={N}, n_relations={P}, dim={d} ({kind} model parameters)",
        )
        rng = as_generator(seed)
        self.kind = kind
        self.n_entities = N
        self.n_relations = P
        self.dim = d
        self.rel_dim = dr
        self.reciprocal = bool(reciprocal)
        self.entity_bias = bool(entity_bias)
        s = float(init_scale)
        p = {"E": rng.normal(0.0, s, (N, d)), "b": np.zeros(N)}
        if kind == "rescal":
            p["R"] = rng.normal(0.0, s, (n_rows, d, d))
        elif kind in ("distmult", "complex"):
            p["R"] = rng.normal(0.0, s, (n_rows, d))
            if kind == "distmult":
                p["R"] += 1.0  # start near the identity relation
            else:
                p["R"][:, : d // 2] += 1.0
        else:
            p["R"] = rng.normal(0.0, 1.0, (n_rows, self.rel_dim))
            p["W"] = rng.normal(0.0, s / np.sqrt(self.rel_dim), (d, self.rel_dim, d))
        self.params = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in p.items()}
        self.history: list[float] = []

    # ------------------------------------------------------------------ forward
    def _tucker_mats(self):
        W, R = self.params["W"], self.params["R"]
        d, dr = self.dim, self.rel_dim
        wt = W.transpose(1, 0, 2).reshape(dr, d * d)
        return np.ascontiguousarray((R @ wt).reshape(len(R), d, d)), wt

    def _route(self, rel, direction):
        """The relation rows and direction that answer a query: with reciprocal relations a
        head query ``(?, p, o)`` is the tail query ``(o, p^-1, ?)``, ``p^-1 = p + P``."""
        if self.reciprocal and direction == "head":
            return rel + self.n_relations, "tail"
        return rel, direction

    def _query(self, anchor, rel, direction):
        """Query vectors ``q`` (B, d) with ``score(k) = a0_k + a_k . q``, and a cache."""
        rel, direction = self._route(rel, direction)
        E, R = self.params["E"], self.params["R"]
        e = E[anchor]
        tail = direction == "tail"
        if self.kind == "distmult":
            return e * R[rel], (e,)
        if self.kind == "complex":
            h = self.dim // 2
            r = R[rel]
            er, ei, rr, ri = e[:, :h], e[:, h:], r[:, :h], r[:, h:]
            if tail:
                q = np.concatenate([er * rr - ei * ri, ei * rr + er * ri], axis=1)
            else:
                q = np.concatenate([rr * er + ri * ei, rr * ei - ri * er], axis=1)
            return q, (e,)
        if self.kind == "rescal":
            mats = R
            extra = None
        else:
            mats, extra = self._tucker_mats()
        q = bilinear_query(np.ascontiguousarray(e), mats, rel, tail)
        return q, (e, mats, extra)

    def _query_backward(self, anchor, rel, direction, cache, dq, grads):
        rel, direction = self._route(rel, direction)
        R = self.params["R"]
        tail = direction == "tail"
        e = cache[0]
        if self.kind == "distmult":
            _scatter(grads["E"], anchor, dq * R[rel])
            _scatter(grads["R"], rel, dq * e)
            return
        if self.kind == "complex":
            h = self.dim // 2
            r = R[rel]
            er, ei, rr, ri = e[:, :h], e[:, h:], r[:, :h], r[:, h:]
            gr, gi = dq[:, :h], dq[:, h:]
            if tail:
                de = np.concatenate([gr * rr + gi * ri, -gr * ri + gi * rr], axis=1)
                dr = np.concatenate([gr * er + gi * ei, -gr * ei + gi * er], axis=1)
            else:
                de = np.concatenate([gr * rr - gi * ri, gr * ri + gi * rr], axis=1)
                dr = np.concatenate([gr * er + gi * ei, gr * ei - gi * er], axis=1)
            _scatter(grads["E"], anchor, de)
            _scatter(grads["R"], rel, dr)
            return
        mats = cache[1]
        de = np.zeros_like(e)
        dmats = np.zeros_like(mats)
        bilinear_query_backward(e, mats, rel, tail, np.ascontiguousarray(dq), de, dmats)
        _scatter(grads["E"], anchor, de)
        if self.kind == "rescal":
            grads["R"] += dmats
        else:
            wt = cache[2]
            d, dr = self.dim, self.rel_dim
            dm = dmats.reshape(len(dmats), d * d)
            grads["R"] += dm @ wt.T
            grads["W"] += (self.params["R"].T @ dm).reshape(dr, d, d).transpose(1, 0, 2)

    def scores(self, anchor, rel, direction: str = "tail") -> np.ndarray:
        """Scores ``a0_k + a_k . q`` of every entity for a batch of queries.

        Parameters
        ----------
        anchor : array of int, shape (B,)
            Subjects for ``direction="tail"`` (queries ``(s, p, ?)``), objects for ``"head"``.
        rel : array of int, shape (B,)
            Predicates.
        direction : {"tail", "head"}
            Which slot is asked for.

        Returns
        -------
        ndarray, shape (B, N)
        """
        if direction not in ("tail", "head"):
            raise ValueError(f"direction: expected 'tail' or 'head', got {direction!r}")
        a = _check_ids(anchor, self.n_entities, "anchor")
        r = _check_ids(rel, self.n_relations, "rel")
        if a.shape != r.shape:
            raise ValueError(f"anchor and rel: lengths differ ({a.size} vs {r.size})")
        q, _ = self._query(a, r, direction)
        return q @ self.params["E"].T + self.params["b"]

    def score_tail(self, s, p) -> np.ndarray:
        """Scores of every object for queries ``(s, p, ?)``, shape (B, N)."""
        return self.scores(s, p, "tail")

    def score_head(self, p, o) -> np.ndarray:
        """Scores of every subject for queries ``(?, p, o)``, shape (B, N)."""
        return self.scores(o, p, "head")

    def predict_proba(self, anchor, rel, direction: str = "tail") -> np.ndarray:
        """``P(k | q)``: softmax of :meth:`scores` over the entities."""
        x = self.scores(anchor, rel, direction)
        x = x - x.max(axis=1, keepdims=True)
        np.exp(x, out=x)
        return x / x.sum(axis=1, keepdims=True)

    def score_triples(self, triples) -> np.ndarray:
        """Score ``x(s, p, o)`` (without the bias) of each triple, shape (n,): the tail
        query's score (with reciprocal relations the head query scores ``(o, p^-1, s)``)."""
        t = np.asarray(triples)
        if t.ndim != 2 or t.shape[1] != 3:
            raise ValueError(f"triples: expected shape (n, 3), got {t.shape}")
        s = _check_ids(t[:, 0], self.n_entities, "triples[:, 0]")
        p = _check_ids(t[:, 1], self.n_relations, "triples[:, 1]")
        o = _check_ids(t[:, 2], self.n_entities, "triples[:, 2]")
        q, _ = self._query(s, p, "tail")
        return np.einsum("bd,bd->b", q, self.params["E"][o])

    # ------------------------------------------------------------------ training
    def loss_and_grad(
        self, triples, smoothing: float = 0.0, reg: float = 0.0, reg_all: float = 0.0
    ):
        """Loss of a batch of triples and its analytic gradient.

        .. math::

            L = \\frac{1}{2B} \\sum_{b} \\big[\\mathrm{CE}(\\mathrm{softmax}(x(s_b, p_b, \\cdot)),
            o_b) + \\mathrm{CE}(\\mathrm{softmax}(x(\\cdot, p_b, o_b)), s_b)\\big]
            + \\frac{\\lambda}{B} \\sum_b \\big(\\lVert a_{s_b} \\rVert_3^3
            + \\lVert a_{o_b} \\rVert_3^3 + \\lVert r_{p_b} \\rVert_3^3\\big)
            + \\frac{\\mu}{N} \\sum_{k=1}^{N} \\lVert a_k \\rVert_3^3

        (plus ``lam * ||W||_3^3`` for Tucker; with reciprocal relations the head term's
        query and regulariser use ``r_{p_b^{-1}}``). With logits ``x = q E^T + b`` and
        ``G = dL/dx = (softmax(x) - y) / 2B``: ``dL/dE += G^T q``, ``dL/db = sum G``,
        ``dL/dq = G E``, then ``dL/dq`` flows into the anchor embedding and the relation
        parameters through the model's query map. Without the entity bias
        (``entity_bias=False``) ``b`` stays 0 and its gradient is returned as 0.

        Parameters
        ----------
        triples : ndarray of int, shape (B, 3)
        smoothing : float
            Label smoothing ``eps`` in ``[0, 1)``.
        reg : float
            N3 weight ``lam >= 0`` over the rows the batch uses.
        reg_all : float
            N3 weight ``mu >= 0`` over all entity embeddings at every step (the batch's
            and the others'; 0: off).

        Returns
        -------
        loss : float
        grads : dict of str to ndarray
        """
        t = np.asarray(triples, dtype=np.int64)
        if t.ndim != 2 or t.shape[1] != 3 or len(t) == 0:
            raise ValueError(f"triples: expected a non-empty (n, 3) array, got shape {t.shape}")
        smoothing = check_float("smoothing", smoothing, 0.0, 1.0, hi_open=True)
        reg = check_float("reg", reg, 0.0)
        reg_all = check_float("reg_all", reg_all, 0.0)
        s, p, o = t[:, 0], t[:, 1], t[:, 2]
        B = len(t)
        E, b = self.params["E"], self.params["b"]
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        loss = 0.0
        for direction, anchor, target in (("tail", s, o), ("head", o, s)):
            q, cache = self._query(anchor, p, direction)
            logits = q @ E.T + b
            g = np.empty_like(logits)
            loss += 0.5 * softmax_xent(logits, target, smoothing, g)
            g *= 0.5
            grads["E"] += g.T @ q
            if self.entity_bias:
                grads["b"] += g.sum(axis=0)
            self._query_backward(anchor, p, direction, cache, g @ E, grads)
        if reg > 0:
            # sum over the batch = sum over the used rows weighted by how often they occur
            c = reg / B
            n_e = np.bincount(s, minlength=self.n_entities) + np.bincount(
                o, minlength=self.n_entities
            )
            n_r = np.bincount(p, minlength=self.n_relations)
            if self.reciprocal:  # each direction uses its own relation row once
                n_r = np.concatenate([n_r, n_r])
            for name, counts in (("E", n_e), ("R", n_r)):
                used = np.flatnonzero(counts)
                x = self.params[name][used]
                ax = np.abs(x)
                w = (c * counts[used]).reshape((-1,) + (1,) * (x.ndim - 1))
                loss += float(np.sum(w * ax * ax * ax))
                grads[name][used] += 3.0 * w * x * ax
            if self.kind == "tucker":
                W = self.params["W"]
                aw = np.abs(W)
                loss += reg * float(np.sum(aw * aw * aw))
                grads["W"] += 3.0 * reg * W * aw
        if reg_all > 0:
            c = reg_all / self.n_entities
            ae = np.abs(E)
            loss += c * float(np.sum(ae * ae * ae))
            grads["E"] += 3.0 * c * E * ae
        return float(loss), grads

    def fit(
        self,
        triples,
        epochs: int = KGFitConfig.epochs,
        batch_size: int = KGFitConfig.batch_size,
        lr: float = KGFitConfig.lr,
        smoothing: float = KGFitConfig.smoothing,
        reg: float = KGFitConfig.reg,
        reg_all: float = KGFitConfig.reg_all,
        seed=0,
        time_budget: float | None = KGFitConfig.time_budget,
        callback: Callable[[int, float], None] | None = None,
    ) -> list[float]:
        """Train by Adam on the softmax cross-entropy of both directions.

        Parameters
        ----------
        triples : ndarray of int, shape (n, 3)
            Training triples.
        epochs : int
            Passes over the shuffled triples.
        batch_size : int
            Triples per step.
        lr : float
            Adam learning rate.
        smoothing, reg, reg_all : float
            See :meth:`loss_and_grad`.
        seed : int or numpy.random.Generator
            Shuffling order.
        time_budget : float, optional
            Opt-in wall-clock limit: stop after the epoch that crosses this many seconds.
            None (the default) trains for ``epochs``, so that the result depends on the seed
            only; with a budget it also depends on the machine's speed and load (the number
            of epochs run is ``len(returned list)``).
        callback : callable, optional
            ``callback(epoch, mean_loss)`` after each epoch.

        Returns
        -------
        list of float
            Mean loss per epoch (also appended to :attr:`history`).

        Raises
        ------
        ValueError
            Empty or out-of-range triples, or a hyper-parameter out of its range (NaN and
            infinity included); the message names it and states the range.
        TypeError
            A hyper-parameter of the wrong type (e.g. a float number of epochs).

        Notes
        -----
        Training holds BLAS (the ``q E^T`` products) to one thread (``threadpoolctl``), so
        that the thread count of the machine or of ``OMP_NUM_THREADS`` cannot change a sum's
        order; the Numba kernels are serial (no ``parallel=True``), so Numba's thread count
        does not enter. The same seed gives bit-identical parameters on one machine; another
        CPU (another BLAS kernel) may round differently.
        """
        t = np.asarray(triples)
        if t.ndim != 2 or t.shape[1] != 3 or len(t) == 0:
            raise ValueError(f"triples: expected a non-empty (n, 3) array, got shape {t.shape}")
        _check_ids(t[:, [0, 2]].ravel(), self.n_entities, "triples (entities)")
        _check_ids(t[:, 1], self.n_relations, "triples (relations)")
        t = t.astype(np.int64)
        epochs = check_int("epochs", epochs)
        batch_size = check_int("batch_size", batch_size)
        lr = check_float("lr", lr, 0.0, lo_open=True)
        smoothing = check_float("smoothing", smoothing, 0.0, 1.0, hi_open=True)
        reg = check_float("reg", reg, 0.0)
        reg_all = check_float("reg_all", reg_all, 0.0)
        time_budget = check_budget("time_budget", time_budget)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback: expected a callable, got {type(callback).__name__}")
        # logits, probabilities and their gradient for both directions of a batch
        check_memory(
            48.0 * min(batch_size, len(t)) * self.n_entities,
            f"batch_size={batch_size} with {self.n_entities} entities",
        )
        rng = as_generator(seed)
        opt = Adam(self.params, lr=lr)
        with threadpool_limits(limits=1, user_api="blas"):
            return self._train(
                t, epochs, batch_size, smoothing, (reg, reg_all), rng, opt, time_budget, callback
            )

    def _train(self, t, epochs, batch_size, smoothing, reg, rng, opt, time_budget, callback):
        # reg: (reg, reg_all)
        t0 = time.perf_counter()
        out = []
        for ep in range(epochs):
            order = rng.permutation(len(t))
            total, nb = 0.0, 0
            for start in range(0, len(t), batch_size):
                batch = t[order[start : start + batch_size]]
                loss, grads = self.loss_and_grad(batch, smoothing, *reg)
                opt.step(grads)
                total += loss
                nb += 1
            out.append(total / nb)
            self.history.append(total / nb)
            if callback is not None:
                callback(ep, total / nb)
            if time_budget is not None and time.perf_counter() - t0 > time_budget:
                break
        return out

    def evaluate(self, triples, known=None, batch_size: int = 512) -> dict[str, float]:
        """Filtered MRR and Hits@1/3/10 on ``triples`` (both directions).

        Parameters
        ----------
        triples : ndarray of int, shape (n, 3)
            Test triples.
        known : ndarray of int, shape (m, 3), optional
            All known triples to filter (train + valid + test); raw ranks when None.
        """
        batch_size = check_int("batch_size", batch_size)
        fi = None
        if known is not None:
            fi = FilterIndex(known, self.n_entities, self.n_relations)
        with threadpool_limits(limits=1, user_api="blas"):  # as fit: the same ranks
            return evaluate_ranking(self.score_tail, self.score_head, triples, fi, batch_size)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Save to an ``.npz`` file (format version :data:`FORMAT_VERSION`); return its path.

        ``.npz`` is added to ``path`` when it has another suffix, and :meth:`load` finds the
        file under either name. The file is written atomically (a temporary file renamed into
        place).
        """
        meta = np.array(
            [
                FORMAT_VERSION,
                self.n_entities,
                self.n_relations,
                self.dim,
                self.rel_dim,
                int(self.reciprocal),
                int(self.entity_bias),
            ]
        )
        return npzfile.write_arrays(
            path, dict(_meta=meta, _kind=np.array(self.kind), **self.params)
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> TensorModel:
        """Load a model written by :meth:`save` (``path`` with or without ``.npz``).

        Raises
        ------
        DataNotFoundError
            The file is missing (under ``path`` and with ``.npz`` added).
        ValueError
            The file is empty, truncated or unreadable, not a tensor-model file, of another
            format version, or holds parameters of the wrong shape or NaN/infinite values
            (the message names the file).
        """
        try:
            p, z = npzfile.read_arrays(path, "a neuromem tensor-model file")
        except FileNotFoundError as e:
            raise DataNotFoundError(str(e)) from None
        if "_meta" not in z or "_kind" not in z:
            raise ValueError(f"path: {p} is not a neuromem tensor-model file")
        head = z["_meta"]
        if head.ndim != 1 or not head.size or not np.issubdtype(head.dtype, np.integer):
            _meta_ints(z, "_meta", 7, p)  # raises, naming the file
        version = int(head[0])
        if version not in (1, 2, FORMAT_VERSION):
            raise ValueError(
                f"path: {p} has format version {version}; this neuromem reads 1 to {FORMAT_VERSION}"
            )
        entity_bias = 1
        if version == 1:  # written before reciprocal relations
            _, n, r, d, dr = _meta_ints(z, "_meta", 5, p)
            reciprocal = 0
        elif version == 2:  # written before the entity-bias switch
            _, n, r, d, dr, reciprocal = _meta_ints(z, "_meta", 6, p)
        else:
            _, n, r, d, dr, reciprocal, entity_bias = _meta_ints(z, "_meta", 7, p)
        if reciprocal not in (0, 1):
            raise ValueError(f"path: {p}: reciprocal must be 0 or 1 in _meta, got {reciprocal}")
        if entity_bias not in (0, 1):
            raise ValueError(f"path: {p}: entity_bias must be 0 or 1 in _meta, got {entity_bias}")
        kind = str(z["_kind"])
        try:
            m = cls(
                kind,
                n,
                r,
                d,
                rel_dim=dr,
                reciprocal=bool(reciprocal),
                entity_bias=bool(entity_bias),
            )
        except (ValueError, TypeError) as e:
            raise ValueError(f"path: {p} holds a bad model header: {e}") from None
        _load_params(m.params, z, p)
        return m
