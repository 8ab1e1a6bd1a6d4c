r"""Readouts on Sparsey codes: class association and k-nearest neighbours on code similarity.

Both take codes as winner arrays ``(n, P)`` (e.g. :meth:`Encoding.flat`), one symbol per CM:
the winner in ``[0, K)``, or ``-1`` where the MAC was gated off (treated as one more symbol, so
two blank regions agree).

* :class:`CodeKNN`: the similarity of two codes is the number of CMs whose winners agree,
  :math:`s(a, b) = \sum_p [a_p = b_p]` (the code similarity of :mod:`neuromem.sdr`,
  unnormalised); by default CMs of gated-off MACs never agree, and ``normalize=True`` divides
  by :math:`\sqrt{n_a n_b}` (:math:`n`: active CMs of each code), the cosine of the two codes as
  sets of active cells. A test code takes the label with the largest sum of
  :math:`s^{power}` over its ``k`` most similar training codes.
* :class:`ClassAssociation`: every active cell keeps the label counts of the training codes it
  took part in; a test code's class score is the sum over its cells of their normalised label
  distributions, :math:`S_c = \sum_p N_{p, a_p, c} / \sum_{c'} N_{p, a_p, c'}`.
* :class:`ClassUnits`: a fixed-time readout. Every cell ``(p, a_p)`` of a code projects to one
  unit per class through a learned weight :math:`W_{p, s, c}`; a code's class scores are
  :math:`S_c = \sum_p W_{p, a_p, c}`, so predicting costs ``P x n_classes`` operations whatever
  the number of stored codes (a kNN costs one comparison per stored code). The weights are
  learned error-driven in ``passes`` passes over the training codes (perceptron rule: when the
  best wrong class scores at least as high as the true one, the active cells' weights to the
  true class go up by 1 and to that wrong class down by 1), and the readout keeps the average of
  the weights over all steps (averaged perceptron, Freund & Schapire 1999).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import kernels as _k
from .model import Encoding

__all__ = ["CodeKNN", "ClassAssociation", "ClassUnits", "as_symbols"]


def as_symbols(codes, K: int | None = None, name: str = "codes") -> tuple[np.ndarray, int]:
    """Winner array ``(n, P)`` as non-negative symbols (``-1`` becomes ``K_max``).

    Parameters
    ----------
    codes : Encoding or array_like of int, shape (n, P)
        Codes (an :class:`Encoding` is flattened over all its levels).
    K : int, optional
        Number of winner values; default: the largest winner + 1.

    Returns
    -------
    symbols : numpy.ndarray of int64, shape (n, P)
    n_symbols : int
    """
    if isinstance(codes, Encoding):
        if K is None:
            K = max(codes.K)
        codes = codes.flat()
    arr = np.asarray(codes)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer winner array, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have shape (n_codes, n_cms) with n >= 1, got {arr.shape}")
    if arr.min() < -1:
        raise ValueError(f"{name} must hold winners >= 0 or -1 (gated off)")
    if K is None:
        K = int(arr.max()) + 1
    if arr.max() >= K:
        raise ValueError(f"{name} winners must be < K={K}")
    sym = np.where(arr < 0, K, arr).astype(np.int64)
    return np.ascontiguousarray(sym), int(K) + 1


def _check_labels(labels, n: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {y.shape}")
    if y.min() < 0:
        raise ValueError("labels must be non-negative")
    return y.astype(np.int64)


class CodeKNN:
    """k-nearest-neighbour classifier on code similarity (agreeing CMs).

    Parameters
    ----------
    k : int
        Number of neighbours (``k = 1``: nearest code).
    normalize : bool
        Cosine similarity (agreements over the geometric mean of the active CMs).
    match_gated : bool
        Count two gated-off CMs (winner ``-1``) as agreeing.
    power : float
        Each of the ``k`` neighbours votes with its similarity raised to this power.
    """

    def __init__(
        self, k: int = 1, normalize: bool = False, match_gated: bool = False, power: float = 1.0
    ):
        if not np.isfinite(power) or power < 0:
            raise ValueError(f"power must be a finite number >= 0, got {power!r}")
        self.power = float(power)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        self.k = int(k)
        self.normalize = bool(normalize)
        self.match_gated = bool(match_gated)
        self._train = None

    def fit(self, codes, labels) -> CodeKNN:
        """Store training codes ``(n, P)`` and their integer labels."""
        sym, ns = as_symbols(codes)
        self._K = ns - 1
        self._train = sym
        self._n_symbols = ns
        self._labels = _check_labels(labels, sym.shape[0])
        self.n_classes = int(self._labels.max()) + 1
        return self

    def similarity(self, codes) -> np.ndarray:
        """Agreement counts between ``codes`` and the training codes, ``(n_test, n_train)``."""
        if self._train is None:
            raise RuntimeError("CodeKNN: call fit() first")
        arr = np.asarray(codes.flat() if isinstance(codes, Encoding) else codes)
        if arr.ndim != 2 or arr.shape[1] != self._train.shape[1]:
            raise ValueError(
                f"codes must have shape (n, {self._train.shape[1]}), got {np.shape(arr)}"
            )
        sym, _ = as_symbols(arr, K=self._K)
        skip = -1 if self.match_gated else self._K
        S = _k.knn_similarity_counts(self._train, sym, self._n_symbols, skip)
        if not self.normalize:
            return S
        n_tr = np.maximum((self._train != self._K).sum(axis=1), 1)
        n_te = np.maximum((sym != self._K).sum(axis=1), 1)
        return S / np.sqrt(n_te[:, None] * n_tr[None, :])

    def predict(self, codes) -> np.ndarray:
        """Predicted labels of ``codes``."""
        return self.predict_from_similarity(self.similarity(codes))

    def predict_from_similarity(self, S: np.ndarray) -> np.ndarray:
        """Predicted labels from a similarity matrix ``(n_test, n_train)`` (see
        :meth:`similarity`)."""
        S = np.asarray(S)
        k = min(self.k, S.shape[1])
        if k == 1:
            return self._labels[np.argmax(S, axis=1)]
        idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
        votes = np.zeros((S.shape[0], self.n_classes))
        rows = np.arange(S.shape[0])[:, None]
        w = S[rows, idx].astype(float) ** self.power
        np.add.at(votes, (np.broadcast_to(rows, idx.shape), self._labels[idx]), w)
        return np.argmax(votes, axis=1)

    def score(self, codes, labels) -> float:
        """Accuracy on ``codes`` with true ``labels``."""
        pred = self.predict(codes)
        return float(np.mean(pred == _check_labels(labels, pred.size)))


class ClassAssociation:
    """Class association: each code cell votes with the label distribution it was trained on."""

    def __init__(self):
        self._assoc = None

    def fit(self, codes, labels) -> ClassAssociation:
        """Count labels per (CM, winner) over training codes ``(n, P)``."""
        sym, ns = as_symbols(codes)
        self._K = ns - 1
        y = _check_labels(labels, sym.shape[0])
        self.n_classes = int(y.max()) + 1
        self._P = sym.shape[1]
        self._assoc = _k.class_association_counts(sym, y, ns, self.n_classes)
        return self

    def scores(self, codes) -> np.ndarray:
        """Class scores ``(n, n_classes)``."""
        if self._assoc is None:
            raise RuntimeError("ClassAssociation: call fit() first")
        arr = np.asarray(codes.flat() if isinstance(codes, Encoding) else codes)
        if arr.ndim != 2 or arr.shape[1] != self._P:
            raise ValueError(f"codes must have shape (n, {self._P}), got {np.shape(arr)}")
        sym, _ = as_symbols(arr, K=self._K)
        return _k.class_association_scores(sym, self._assoc)

    def predict(self, codes) -> np.ndarray:
        """Predicted labels."""
        return np.argmax(self.scores(codes), axis=1)

    def score(self, codes, labels) -> float:
        """Accuracy on ``codes`` with true ``labels``."""
        pred = self.predict(codes)
        return float(np.mean(pred == _check_labels(labels, pred.size)))


@njit(cache=True)
def _perceptron_passes(F, y, W, W_sum, passes):
    """Averaged multi-class perceptron on sparse binary features, in place.

    ``F[i]`` holds the active feature indices of item ``i`` (all distinct). On an error (the
    best wrong class scores at least as high as the true one; ties go to the lowest class), the
    weights of the active features rise by 1 to the true class and fall by 1 to that wrong
    class. ``W_sum`` ends as the sum of the weights over the ``steps + 1`` states (the initial
    zeros included), kept lazily: a weight's value is added for the steps it held it.
    Returns ``steps``.
    """
    n, P = F.shape
    C = W.shape[1]
    last = np.zeros(W.shape, dtype=np.int64)
    s = np.empty(C)
    step = 0
    for _ in range(passes):
        for i in range(n):
            for c in range(C):
                s[c] = 0.0
            for p in range(P):
                f = F[i, p]
                for c in range(C):
                    s[c] += W[f, c]
            t = y[i]
            wrong = -1
            for c in range(C):
                if c != t and (wrong < 0 or s[c] > s[wrong]):
                    wrong = c
            step += 1
            if s[wrong] >= s[t]:
                for p in range(P):
                    f = F[i, p]
                    for c, delta in ((t, 1.0), (wrong, -1.0)):
                        W_sum[f, c] += W[f, c] * (step - last[f, c])
                        last[f, c] = step
                        W[f, c] += delta
    for f in range(W.shape[0]):
        for c in range(C):
            W_sum[f, c] += W[f, c] * (step + 1 - last[f, c])
    return step


class ClassUnits:
    """Fixed-time readout: learned weights from the code's cells to one unit per class.

    Parameters
    ----------
    passes : int
        Passes over the training codes (``>= 1``; 1: each code seen once, in the given order).

    Notes
    -----
    Training and prediction are deterministic: codes are visited in the order given, and ties
    between class scores go to the lowest class. Memory: ``P x (K + 1) x n_classes`` floats.
    """

    def __init__(self, passes: int = 1):
        if isinstance(passes, bool) or not isinstance(passes, (int, np.integer)) or passes < 1:
            raise ValueError(f"passes must be an integer >= 1, got {passes!r}")
        self.passes = int(passes)
        self._W = None

    def _features(self, sym: np.ndarray) -> np.ndarray:
        return sym + (np.arange(sym.shape[1]) * self._n_symbols)[None, :]

    def fit(self, codes, labels) -> ClassUnits:
        """Learn the cell-to-class weights from training codes ``(n, P)`` and integer labels."""
        sym, ns = as_symbols(codes)
        y = _check_labels(labels, sym.shape[0])
        self._K, self._n_symbols, self._P = ns - 1, ns, sym.shape[1]
        self.n_classes = max(int(y.max()) + 1, 2)
        F = self._features(sym)
        W = np.zeros((self._P * ns, self.n_classes))
        W_sum = np.zeros_like(W)
        steps = _perceptron_passes(F, y, W, W_sum, self.passes)
        self._W = W_sum / (steps + 1)
        return self

    def scores(self, codes, chunk: int = 256) -> np.ndarray:
        """Class scores ``(n, n_classes)``: the summed weights of each code's cells."""
        if self._W is None:
            raise RuntimeError("ClassUnits: call fit() first")
        arr = np.asarray(codes.flat() if isinstance(codes, Encoding) else codes)
        if arr.ndim != 2 or arr.shape[1] != self._P:
            raise ValueError(f"codes must have shape (n, {self._P}), got {np.shape(arr)}")
        sym, _ = as_symbols(arr, K=self._K)
        F = self._features(sym)
        out = np.empty((F.shape[0], self.n_classes))
        for s in range(0, F.shape[0], chunk):
            out[s : s + chunk] = self._W[F[s : s + chunk]].sum(axis=1)
        return out

    def predict(self, codes) -> np.ndarray:
        """Predicted labels (the class unit with the largest score)."""
        return np.argmax(self.scores(codes), axis=1)

    def score(self, codes, labels) -> float:
        """Accuracy on ``codes`` with true ``labels``."""
        pred = self.predict(codes)
        return float(np.mean(pred == _check_labels(labels, pred.size)))
