"""The tensor brain's episodic memory behind the memory interface.

:class:`TensorBrainEpisodicMemory` wraps :class:`neuromem.tensorbrain.TensorBrain` perceiving
scenes of a synthetic world (:mod:`neuromem.tensorbrain.scenes`). An item is a triple
``(s, p, o)`` one-hot encoded in three groups, ``[onehot(s) | onehot(p) | onehot(o)]``
(``item_size = 2 * n_entities + n_predicates``); :meth:`~TensorBrainEpisodicMemory.random_items`
draws facts of the world.

* store: the item becomes the sensory input of its scene (the world's subject, object and
  predicate features, :meth:`~neuromem.tensorbrain.scenes.World.sense`, with the world's
  sensory noise unless ``perception_noise=False``) and
  :meth:`~neuromem.tensorbrain.TensorBrain.store_episode` makes a new time index in one shot;
* recall by key: :meth:`~neuromem.tensorbrain.TensorBrain.recall_episode` of the key's time
  index, decoded (argmax) back to the one-hot triple;
* recall by content: the cue's sensory input (each group's features averaged over the cue's
  active bits of that group; a group without an active bit contributes zeros) sets the
  blackboard ``q_0 = f(v)`` and the index layer reads the *time* group,
  ``P(t | q_0) = softmax_t beta (a0_t + a_t . tanh(q_0))``; the answer is the most probable
  episode, recalled as above;
* forget: not supported (the tensor brain has no forgetting operation).

Confidence, computed by the decoder: by key, the probability of the decoded triple,
``P(s | a_t) P(o | s, a_t) P(p | s, o, a_t)``; by content, ``P(t* | q_0)`` of the chosen
episode times the probability, decoding from ``a_t*`` with teacher forcing, of the triple
the decoder perceives in the cue (``perceive(v, store=False)``): "the scene of the cue
happened at ``t*``". A never-stored scene that shares a subject or an object with a stored
one reaches that episode through the time group but is improbable there.

What the episodic memory is (issue 16): ``a_t := f(v)`` stores the whole sensory encoding of
the scene, so recall by key replays perception of the stored input; the decoder's work is to
read a triple off it, not to remember. Recall by content is a nearest-neighbour read of the
stored encodings through the index layer's time group (a softmax over stored ``a_t``). The
decoder is trained here on perception of the world's observed facts (teacher forcing, a few
seconds), or given.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from neuromem.rng import as_generator
from neuromem.tensorbrain.decoder import PERCEPTION_PLAN, Task, TensorBrain
from neuromem.tensorbrain.scenes import World, make_episodes, make_world

from .base import Memory, Recall, meta_float


def _plain(obj):
    """``obj`` as plain JSON data (a bit generator's state may hold NumPy arrays)."""
    return json.loads(
        json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    )


__all__ = ["TensorBrainEpisodicMemory"]

#: trained decoders by constructor arguments (int seeds only): (world, brain, rng state)
_TRAINED: dict[tuple, tuple] = {}

_WORLD_ARRAYS = (
    "classes",
    "attributes",
    "labels",
    "facts",
    "observed",
    "label_features",
    "identity_features",
    "predicate_features",
)


class TensorBrainEpisodicMemory(Memory):
    """The tensor brain's episodic memory of scenes ``(s, p, o)``.

    Parameters
    ----------
    n_entities, n_predicates : int
        World sizes (used when ``world`` is None).
    n_classes, n_attributes : int
        Classes and attributes of the world's entities (when ``world`` is None).
    feature_dim : int
        Size of each of the three sensory regions (when ``world`` is None).
    noise : float
        Sensory noise of the world (when ``world`` is None).
    dim : int
        Representation-layer size of the decoder (when ``brain`` is None).
    epochs, n_train : int
        Training of the decoder (when ``brain`` is None): passes over ``n_train`` perceived
        episodes.
    world : neuromem.tensorbrain.scenes.World, optional
        The world (default: drawn from ``seed``).
    brain : neuromem.tensorbrain.TensorBrain, optional
        A decoder trained on ``world`` (needs ``world``); its stored episodes are kept apart:
        the adapter works on a copy with none.
    perception_noise : bool
        Add the world's sensory noise when storing (recall cues are always noiseless).
    seed : int or numpy.random.Generator
        Source of the world, the decoder's weights and training order, and perception noise.

    Attributes
    ----------
    brain : neuromem.tensorbrain.TensorBrain
    world : neuromem.tensorbrain.scenes.World
    size_bits : int
        The decoder's parameter count (floats, not bits); each stored episode adds ``dim``
        floats more, without bound.

    Notes
    -----
    Building one trains a decoder (under a second at the defaults). With an int ``seed`` and
    no ``world``/``brain`` given, the world, the trained decoder and the generator's state after
    training are kept (the 8 most recent) and reused by the next memory built with the same
    arguments, which is then exactly what a fresh build would give; protocols that build many
    fresh memories pay for training once.
    """

    kind = "tensorbrain"

    def __init__(
        self,
        n_entities: int = 16,
        n_predicates: int = 8,
        n_classes: int = 4,
        n_attributes: int = 4,
        feature_dim: int = 16,
        noise: float = 0.1,
        dim: int = 64,
        epochs: int = 20,
        n_train: int = 1500,
        world: World | None = None,
        brain: TensorBrain | None = None,
        perception_noise: bool = True,
        seed=0,
    ):
        super().__init__()
        rng = as_generator(seed)
        if brain is not None and world is None:
            raise ValueError("world: a given brain needs the world it was trained on")
        cache_key = None
        if world is None and brain is None and not isinstance(seed, np.random.Generator):
            cache_key = (n_entities, n_predicates, n_classes, n_attributes, feature_dim,
                         float(noise), dim, epochs, n_train, int(seed))  # fmt: skip
            hit = _TRAINED.get(cache_key)
            if hit is not None:
                world, brain, state = hit
                rng.bit_generator.state = state
        if world is None:
            world = make_world(
                n_entities,
                n_classes,
                n_attributes,
                n_predicates,
                feature_dim=feature_dim,
                noise=noise,
                class_density=0.5,
                keep=0.7,
                seed=rng,
                # the adapter senses a fact as subject, object and predicate features (the
                # world of before issue 16), not the ring world where the predicate is a place
                structure="feature",
            )
        if not isinstance(world, World):
            raise TypeError(f"world must be a World, got {type(world).__name__}")
        if brain is None:
            brain = self._train(world, dim, epochs, n_train, rng)
            if cache_key is not None:
                _TRAINED[cache_key] = (world, self._fresh_copy(brain), rng.bit_generator.state)
                while len(_TRAINED) > 8:
                    _TRAINED.pop(next(iter(_TRAINED)))
        if not isinstance(brain, TensorBrain):
            raise TypeError(f"brain must be a TensorBrain, got {type(brain).__name__}")
        if (brain.n_entities, brain.n_predicates, brain.n_sensory) != (
            world.n_entities,
            world.n_predicates,
            world.n_sensory,
        ):
            raise ValueError("brain: its sizes do not match the world's")
        if not isinstance(perception_noise, (bool, np.bool_)):
            raise TypeError("perception_noise must be a bool")
        self._setup(world, self._fresh_copy(brain), bool(perception_noise), rng)

    @staticmethod
    def _train(world: World, dim: int, epochs: int, n_train: int, rng) -> TensorBrain:
        train = make_episodes(world, n_train, observed_only=False, seed=rng)
        tr, lab = train.triples, world.labels
        perception = Task(
            "sensory",
            PERCEPTION_PLAN,
            [None, tr[:, 0], lab[tr[:, 0]], tr[:, 2], lab[tr[:, 2]], tr[:, 1]],
            train.sensory,
        )
        tb = TensorBrain(
            world.n_entities,
            world.n_predicates,
            n_labels=world.n_labels,
            n_sensory=world.n_sensory,
            dim=dim,
            seed=rng,
        )
        tb.fit([perception], epochs=epochs, batch_size=64, lr=0.01, seed=rng)
        return tb

    @staticmethod
    def _fresh_copy(brain: TensorBrain) -> TensorBrain:
        tb = TensorBrain(
            brain.n_entities,
            brain.n_predicates,
            brain.n_labels,
            brain.n_sensory,
            brain.dim,
            alpha=brain.alpha,
            beta=brain.beta,
            beta_fb=brain.beta_fb,
        )
        tb.params = {k: v.copy() for k, v in brain.params.items()}
        return tb

    def _setup(self, world: World, brain: TensorBrain, perception_noise: bool, rng) -> None:
        self.world = world
        self.brain = brain
        self.perception_noise = perception_noise
        self._rng = rng
        self.n_entities = world.n_entities
        self.n_predicates = world.n_predicates
        self.item_size = 2 * self.n_entities + self.n_predicates
        self.item_active = 3
        self.size_bits = int(sum(v.size for v in brain.params.values()))
        self._time_of: dict[int, int] = {}  # key -> time index
        L, ident = world.label_features, world.identity_features
        self._entity_features = world.labels @ L + ident  # (n_entities, f)

    # ------------------------------------------------------------------ items
    def _split(self, items: np.ndarray):
        E, P = self.n_entities, self.n_predicates
        return items[:, :E], items[:, E : E + P], items[:, E + P :]

    def _triples_to_items(self, s, p, o) -> np.ndarray:
        E, P = self.n_entities, self.n_predicates
        out = np.zeros((len(s), self.item_size), np.uint8)
        r = np.arange(len(s))
        out[r, s] = 1
        out[r, E + p] = 1
        out[r, E + P + o] = 1
        return out

    def random_items(self, n: int, rng) -> np.ndarray:
        """``n`` facts of the world as items (distinct while the world has enough facts)."""
        g = as_generator(rng, "rng")
        facts = self.world.facts
        idx = g.choice(len(facts), size=n, replace=n > len(facts))
        t = facts[idx]
        return self._triples_to_items(t[:, 0], t[:, 1], t[:, 2])

    def _sensory(self, items: np.ndarray) -> np.ndarray:
        """Noiseless sensory input of (possibly partial or noisy) items."""
        S, P, O = (g.astype(float) for g in self._split(items))

        def region(onehots, feats):
            cnt = onehots.sum(axis=1, keepdims=True)
            return (onehots @ feats) / np.maximum(cnt, 1.0)

        return np.concatenate(
            [
                region(S, self._entity_features),
                region(O, self._entity_features),
                region(P, self.world.predicate_features),
            ],
            axis=1,
        )

    def _decode_time(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.brain.recall_episode(t)
        s, o, p = out["subject"], out["object"], out["predicate"]
        pr = out["probs"]
        plan = ("time",) + PERCEPTION_PLAN[1:]
        steps = [i for i, k in enumerate(plan) if k in ("entity", "predicate")]
        r = np.arange(len(t))
        conf = np.ones(len(t))
        for i, idx in zip(steps, (s, o, p)):
            conf *= pr[i][r, idx]
        return self._triples_to_items(s, p, o), conf

    # ------------------------------------------------------------------ interface
    def _store(self, items: np.ndarray, keys: np.ndarray) -> None:
        S, P, O = self._split(items)
        bad = np.flatnonzero((S.sum(1) != 1) | (P.sum(1) != 1) | (O.sum(1) != 1))
        if len(bad):
            raise ValueError(
                f"items: row {int(bad[0])} is not a triple (one active bit in each of the "
                f"subject, predicate and object groups)"
            )
        v = self._sensory(items)
        if self.perception_noise and self.world.noise > 0:
            v = v + self.world.noise * self._rng.standard_normal(v.shape)
        t = self.brain.store_episode(v)
        for k, ti in zip(keys, t):
            self._time_of[int(k)] = int(ti)

    def _recall_key(self, keys: np.ndarray) -> Recall:
        t = np.array([self._time_of[int(k)] for k in keys], np.int64)
        items, conf = self._decode_time(t)
        return Recall(items, keys.copy(), conf)

    def _recall_content(self, cues: np.ndarray) -> Recall:
        n = len(cues)
        if self.brain.n_time == 0:
            return Recall(np.zeros((n, self.item_size), np.uint8), np.full(n, -1), np.zeros(n))
        v = self._sensory(cues)
        probs, _ = self.brain.decode("sensory", v, ("time",))
        pt = probs[0]
        t = pt.argmax(axis=1)
        items, _ = self._decode_time(t)
        # the cue as the decoder perceives it, and how probable that scene is at episode t
        seen = self.brain.perceive(v, store=False)
        sc, oc, pc = seen["subject"], seen["object"], seen["predicate"]
        plan = ("time",) + PERCEPTION_PLAN[1:]
        tg = [t, sc, None, oc, None, pc]
        pr, _ = self.brain.decode("time", t, plan, measure="teacher", targets=tg)
        r = np.arange(n)
        conf = pt[r, t] * pr[1][r, sc] * pr[3][r, oc] * pr[5][r, pc]
        key_of = {ti: k for k, ti in self._time_of.items()}
        keys = np.array([key_of.get(int(ti), -1) for ti in t], np.int64)
        return Recall(items, keys, conf)

    # ------------------------------------------------------------------ persistence
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        tb = self.brain
        arrays = {f"p.{k}": v for k, v in tb.params.items()}
        arrays["A_time"] = tb.A_time
        arrays["b_time"] = tb.b_time
        for name in _WORLD_ARRAYS:
            arrays[f"world.{name}"] = np.asarray(getattr(self.world, name))
        meta = {
            "brain": {
                "n_entities": tb.n_entities,
                "n_predicates": tb.n_predicates,
                "n_labels": tb.n_labels,
                "n_sensory": tb.n_sensory,
                "dim": tb.dim,
                "alpha": tb.alpha,
                "beta": tb.beta,
                "beta_fb": tb.beta_fb,
            },
            "world_noise": self.world.noise,
            "perception_noise": self.perception_noise,
            "rng_state": _plain(self._rng.bit_generator.state),
            "time_of": [[k, t] for k, t in self._time_of.items()],
        }
        return meta, arrays

    @classmethod
    def _from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> TensorBrainEpisodicMemory:
        b = meta["brain"]
        tb = TensorBrain(
            b["n_entities"],
            b["n_predicates"],
            b["n_labels"],
            b["n_sensory"],
            b["dim"],
            alpha=b["alpha"],
            beta=b["beta"],
            beta_fb=b["beta_fb"],
        )
        for k in tb.params:
            a = np.asarray(arrays[f"p.{k}"], np.float64)
            if a.shape != tb.params[k].shape:
                raise ValueError(f"path: parameter {k} has shape {a.shape}")
            tb.params[k] = a.copy()
        A_time, b_time = arrays["A_time"], arrays["b_time"]
        if A_time.ndim != 2 or A_time.shape[1] != tb.dim or b_time.shape != (len(A_time),):
            raise ValueError(
                f"A_time must be (T, {tb.dim}) and b_time (T,), got {A_time.shape} and "
                f"{b_time.shape}"
            )
        tb.A_time = np.asarray(A_time, np.float64).copy()
        tb.b_time = np.asarray(b_time, np.float64).copy()
        world = World(
            **{name: np.asarray(arrays[f"world.{name}"]).copy() for name in _WORLD_ARRAYS},
            noise=meta_float(meta, "world_noise", 0, lo_open=False),
        )
        state = meta["rng_state"]
        rng = np.random.Generator(getattr(np.random, state["bit_generator"])())
        rng.bit_generator.state = state
        mem = cls.__new__(cls)
        Memory.__init__(mem)
        mem._setup(world, tb, bool(meta["perception_noise"]), rng)
        mem._time_of = {int(k): int(t) for k, t in meta["time_of"]}
        return mem

    def __repr__(self) -> str:
        return (
            f"TensorBrainEpisodicMemory(n_entities={self.n_entities}, "
            f"n_predicates={self.n_predicates}, stored={len(self)})"
        )
