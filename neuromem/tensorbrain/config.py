"""Configs of the tensor brain's models and their training (owners of the defaults).

The functions they configure take the same names as keyword arguments, with these defaults:
:meth:`TensorModel.fit <neuromem.tensorbrain.models.TensorModel.fit>` (:class:`KGFitConfig`),
:class:`~neuromem.tensorbrain.decoder.TensorBrain` (:class:`DecoderConfig`),
:meth:`TensorBrain.fit <neuromem.tensorbrain.decoder.TensorBrain.fit>`
(:class:`DecoderFitConfig`) and :func:`~neuromem.tensorbrain.scenes.make_world`
(:class:`WorldConfig`). ``dataclasses.asdict(cfg)`` gives their keyword arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KGFitConfig", "DecoderConfig", "DecoderFitConfig", "WorldConfig"]


@dataclass
class KGFitConfig:
    """Training of a tensor model (1-vs-all cross-entropy, Adam, N3 regularisation).

    Attributes
    ----------
    epochs : int
        Passes over the training triples.
    batch_size : int
        Triples per step.
    lr : float
        Adam learning rate.
    smoothing : float
        Label smoothing, in [0, 1).
    reg : float
        N3 regularisation weight.
    time_budget : float or None
        Wall seconds after which training stops (None: no limit; opt-in, recorded).
    """

    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-2
    smoothing: float = 0.1
    reg: float = 1e-3
    time_budget: float | None = None


@dataclass
class DecoderConfig:
    """The four-layer decoder's shape.

    Attributes
    ----------
    dim : int
        Representation layer (blackboard) and index-embedding size.
    alpha : float
        Blackboard decay between decoding steps.
    beta : float
        Gain of the index layer's softmax.
    beta_fb : float
        Strength of the feedback of a decoded index onto the blackboard.
    """

    dim: int = 64
    alpha: float = 0.5
    beta: float = 1.0
    beta_fb: float = 1.0


@dataclass
class DecoderFitConfig:
    """Training of the decoder (teacher forcing, Adam).

    Attributes
    ----------
    epochs : int
        Passes over the tasks.
    batch_size : int
        Examples per step.
    lr : float
        Adam learning rate.
    weight_decay : float
        L2 weight decay.
    schedule : str
        ``"constant"`` or ``"cosine"`` learning rate.
    time_budget : float or None
        Wall seconds after which training stops (None: no limit; opt-in, recorded).
    """

    epochs: int = 50
    batch_size: int = 128
    lr: float = 5e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    time_budget: float | None = None


@dataclass
class WorldConfig:
    """A synthetic world of entities, classes, attributes and facts with sensory vectors.

    Attributes
    ----------
    n_entities, n_classes, n_attributes, n_predicates : int
        World sizes.
    p_attribute : float
        Probability that an entity has each attribute.
    class_density : float
        Density of the class-level fact pattern.
    keep : float
        Fraction of the class-level facts an entity pair keeps.
    holdout : float
        Fraction of the facts never observed in episodes (held out for semantic memory).
    feature_dim : int
        Size of each sensory region.
    noise : float
        Sensory noise.
    """

    n_entities: int = 40
    n_classes: int = 5
    n_attributes: int = 6
    n_predicates: int = 8
    p_attribute: float = 0.3
    class_density: float = 0.3
    keep: float = 0.6
    holdout: float = 0.2
    feature_dim: int = 24
    noise: float = 0.5
