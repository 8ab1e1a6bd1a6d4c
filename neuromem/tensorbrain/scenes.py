"""Synthetic worlds for the tensor brain: entities with classes and attributes, relations
between them, episodes over time, and sensory vectors as noisy features of what is seen.

The world (:func:`make_world`):

* each entity has one class (uniform) and each attribute independently with probability
  ``p_attribute``; its unary labels are ``[onehot(class), attributes]``;
* relations follow the classes: a class-level tensor ``C[p, c, c']`` is drawn with
  ``P(C = 1) = class_density`` and the fact ``(s, p, o)`` (``s != o``) is true when
  ``C[p, class(s), class(o)] = 1`` and a per-fact coin with ``P = keep`` comes up -- so the
  facts have structure that semantic memory can generalise, with exceptions;
* a fraction ``holdout`` of the facts is never observed (it tests generalisation).

An episode at time ``t`` observes one fact ``(s, p, o)`` (:func:`make_episodes`). The sensory
buffer sees three regions -- subject, object and their configuration:

.. math::

    v = [\\,L^\\top y_s + I_s,\\; L^\\top y_o + I_o,\\; F_p\\,] + \\sigma \\varepsilon,

with ``L`` the feature vectors of the labels (``y`` the label vector of an entity), ``I_e``
an identity feature of each entity, ``F_p`` a feature of each predicate and ``epsilon``
standard normal noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuromem.rng import as_generator

from .config import WorldConfig

__all__ = ["World", "Episodes", "make_world", "make_episodes"]


@dataclass
class World:
    """A synthetic world.

    Attributes
    ----------
    classes : ndarray of int, shape (n_entities,)
    attributes : ndarray of bool, shape (n_entities, n_attributes)
    labels : ndarray of float, shape (n_entities, n_classes + n_attributes)
        Unary labels: class one-hot then attributes.
    facts : ndarray of int, shape (n_facts, 3)
        All true triples ``(s, p, o)``.
    observed : ndarray of bool, shape (n_facts,)
        Facts that episodes may show; the others are held out.
    label_features, identity_features, predicate_features : ndarray
        ``L`` (n_labels, f), ``I`` (n_entities, f), ``F`` (n_predicates, f).
    noise : float
        ``sigma`` of the sensory noise.
    structure : str
        ``"ring"``: the predicate is the object's place relative to the subject's on a ring
        of ``n_positions`` places (no predicate feature); ``"feature"``: a predicate region.
    n_positions : int
        Places on the ring.
    position_gain : float
        Amplitude of the one-hot place code.
    """

    classes: np.ndarray
    attributes: np.ndarray
    labels: np.ndarray
    facts: np.ndarray
    observed: np.ndarray
    label_features: np.ndarray
    identity_features: np.ndarray
    predicate_features: np.ndarray
    noise: float
    structure: str = "feature"
    n_positions: int = 0
    position_gain: float = 4.0

    @property
    def n_entities(self) -> int:
        """Number of entities."""
        return len(self.classes)

    @property
    def n_predicates(self) -> int:
        """Number of predicates."""
        return len(self.predicate_features)

    @property
    def n_labels(self) -> int:
        """Number of unary labels (classes + attributes)."""
        return self.labels.shape[1]

    @property
    def n_sensory(self) -> int:
        """Size of the sensory buffer."""
        f = self.label_features.shape[1]
        return 2 * (f + self.n_positions) if self.structure == "ring" else 3 * f

    @property
    def windows(self) -> dict:
        """Boolean masks of the sensory regions each decoding window sees.

        ``scene`` (all), ``subject`` and ``object`` (their entity's region) and
        ``predicate`` (the union of the regions: the whole scene).
        """
        n = self.n_sensory
        half = n // 2 if self.structure == "ring" else self.label_features.shape[1]
        sub = np.zeros(n, bool)
        sub[:half] = True
        obj = np.zeros(n, bool)
        obj[half : 2 * half] = True
        return {
            "scene": np.ones(n, bool),
            "subject": sub,
            "object": obj,
            "predicate": np.ones(n, bool),
        }

    def sense(self, triples, rng) -> np.ndarray:
        """Noisy sensory vectors of ``triples`` (n, 3), shape (n, n_sensory)."""
        t = np.asarray(triples, dtype=np.int64)
        s, p, o = t[:, 0], t[:, 1], t[:, 2]
        L, ident = self.label_features, self.identity_features
        if self.structure == "ring":
            K = self.n_positions
            ps = rng.integers(0, K, len(t))
            po = (ps + p + 1) % K
            eye = self.position_gain * np.eye(K)
            v = np.concatenate(
                [self.labels[s] @ L + ident[s], eye[ps], self.labels[o] @ L + ident[o], eye[po]],
                axis=1,
            )
            return v + self.noise * rng.standard_normal(v.shape)
        v = np.concatenate(
            [
                self.labels[s] @ L + ident[s],
                self.labels[o] @ L + ident[o],
                self.predicate_features[p],
            ],
            axis=1,
        )
        return v + self.noise * rng.standard_normal(v.shape)


@dataclass
class Episodes:
    """Episodes over time: one observed fact and its sensory vector per time step.

    Attributes
    ----------
    triples : ndarray of int, shape (T, 3)
    sensory : ndarray of float, shape (T, n_sensory)
    """

    triples: np.ndarray
    sensory: np.ndarray

    def __len__(self) -> int:
        return len(self.triples)


def _pos_int(name, v, lo=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")


def _prob(name, v, closed=True):
    ok = np.isfinite(v) and (0 <= v <= 1 if closed else 0 < v < 1)
    if not ok:
        raise ValueError(f"{name}: expected a probability, got {v!r}")


def make_world(
    n_entities: int = WorldConfig.n_entities,
    n_classes: int = WorldConfig.n_classes,
    n_attributes: int = WorldConfig.n_attributes,
    n_predicates: int = WorldConfig.n_predicates,
    p_attribute: float = WorldConfig.p_attribute,
    class_density: float = WorldConfig.class_density,
    keep: float = WorldConfig.keep,
    holdout: float = WorldConfig.holdout,
    feature_dim: int = WorldConfig.feature_dim,
    noise: float = WorldConfig.noise,
    structure: str = WorldConfig.structure,
    n_positions: int = WorldConfig.n_positions,
    position_gain: float = WorldConfig.position_gain,
    seed=0,
) -> World:
    """Draw a synthetic world (see the module docstring).

    Parameters
    ----------
    n_entities, n_classes, n_attributes, n_predicates : int
        Sizes.
    p_attribute : float
        Probability that an entity has each attribute.
    class_density : float
        Probability that a predicate links a pair of classes.
    keep : float
        Probability that a class-allowed fact is true for a pair of entities.
    holdout : float
        Fraction of facts never shown in episodes.
    feature_dim : int
        Size of each of the three sensory regions.
    noise : float
        Standard deviation of the sensory noise.
    structure : {"ring", "feature"}
        How the predicate reaches the senses (see :class:`World`).
    n_positions : int
        Places on the ring; at least ``n_predicates + 1`` when ``structure="ring"``.
    position_gain : float
        Amplitude of the one-hot place code.
    seed : int or numpy.random.Generator

    Returns
    -------
    World

    Raises
    ------
    ValueError
        A size below 1 (2 entities), a probability outside [0, 1], negative noise, or a
        world without facts.
    """
    _pos_int("n_entities", n_entities, 2)
    for name, v in (("n_classes", n_classes), ("n_predicates", n_predicates)):
        _pos_int(name, v)
    _pos_int("n_attributes", n_attributes, 0)
    _pos_int("feature_dim", feature_dim)
    for name, v in (
        ("p_attribute", p_attribute),
        ("class_density", class_density),
        ("keep", keep),
    ):
        _prob(name, v)
    if not (np.isfinite(holdout) and 0 <= holdout < 1):
        raise ValueError(f"holdout: expected a fraction in [0, 1), got {holdout!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise: expected a number >= 0, got {noise!r}")
    if structure not in ("ring", "feature"):
        raise ValueError(f"structure: expected 'ring' or 'feature', got {structure!r}")
    if structure == "ring":
        _pos_int("n_positions", n_positions, n_predicates + 1)
    if not (np.isfinite(position_gain) and position_gain > 0):
        raise ValueError(f"position_gain: expected a number > 0, got {position_gain!r}")
    rng = as_generator(seed)
    classes = rng.integers(0, n_classes, n_entities)
    attrs = rng.random((n_entities, n_attributes)) < p_attribute
    labels = np.concatenate([np.eye(n_classes)[classes], attrs.astype(float)], axis=1)
    C = rng.random((n_predicates, n_classes, n_classes)) < class_density
    allowed = C[:, classes][:, :, classes]  # (P, N, N)
    coin = rng.random(allowed.shape) < keep
    truth = allowed & coin
    truth[:, np.arange(n_entities), np.arange(n_entities)] = False
    p, s, o = np.nonzero(truth)
    facts = np.stack([s, p, o], axis=1).astype(np.int64)
    if len(facts) == 0:
        raise ValueError("make_world: the world has no facts; raise class_density or keep")
    facts = facts[rng.permutation(len(facts))]
    observed = np.ones(len(facts), dtype=bool)
    observed[: int(round(holdout * len(facts)))] = False
    f = int(feature_dim)
    n_labels = labels.shape[1]
    return World(
        classes=classes,
        attributes=attrs,
        labels=labels,
        facts=facts,
        observed=observed,
        label_features=rng.normal(0, 1 / np.sqrt(f), (n_labels, f)) * 2.0,
        identity_features=rng.normal(0, 1 / np.sqrt(f), (n_entities, f)) * 2.0,
        predicate_features=rng.normal(0, 1 / np.sqrt(f), (n_predicates, f)) * 2.0,
        noise=float(noise),
        structure=structure,
        n_positions=int(n_positions) if structure == "ring" else 0,
        position_gain=float(position_gain),
    )


def make_episodes(world: World, n: int, observed_only: bool = True, seed=0) -> Episodes:
    """Draw ``n`` episodes: a uniformly chosen fact and its noisy sensory vector each.

    Parameters
    ----------
    world : World
    n : int
        Number of time steps.
    observed_only : bool
        Draw only facts that are not held out.
    seed : int or numpy.random.Generator
    """
    if not isinstance(world, World):
        raise TypeError(f"world: expected a World, got {type(world).__name__}")
    _pos_int("n", n)
    rng = as_generator(seed)
    pool = world.facts[world.observed] if observed_only else world.facts
    t = pool[rng.integers(0, len(pool), n)]
    return Episodes(triples=t, sensory=world.sense(t, rng))
