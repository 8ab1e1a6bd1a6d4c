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

__all__ = [
    "KGFitConfig",
    "DecoderConfig",
    "DecoderFitConfig",
    "WorldConfig",
    "BrainConfig",
    "BrainFitConfig",
    "EpisodicConfig",
]


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
        N3 regularisation weight over the embeddings a batch uses.
    reg_all : float
        N3 weight over all entity embeddings at every step (0: off; PyKEEN's regulariser
        also reaches the all-entity lookups of 1-vs-all scoring).
    time_budget : float or None
        Wall seconds after which training stops (None: no limit; opt-in, recorded).
    """

    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-2
    smoothing: float = 0.1
    reg: float = 1e-3
    reg_all: float = 0.0
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
    structure : str
        How an episode's predicate reaches the senses. ``"ring"`` (default): subject and
        object sit on a ring of ``n_positions`` places, the object ``p + 1`` places clockwise
        of the subject, each region showing its entity's appearance and one-hot place, and no
        region shows the predicate -- it must be inferred from the relative position (with
        the absolute place uniform, no additive function of the input carries it).
        ``"feature"``: the earlier world, a third region with a feature vector of ``p``.
        Source: issue 16 (a structural scene generator); the regions follow the authors'
        subject, object and union boxes (``hangligit/BTN``, ``BTN.forward_perception``).
    n_positions : int
        Places on the ring (``structure="ring"``); at least ``n_predicates + 1``.
    position_gain : float
        Amplitude of the one-hot place code (appearances have norm about 2). With noise 0.5
        a one-hidden-layer ReLU network of 64 units given the two place codes reads the
        relative place of 12 with test accuracy 0.997 at 4 and 0.76 at 2 (4000 episodes,
        40 epochs; docs/models/tensorbrain.md).
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
    structure: str = "ring"
    n_positions: int = 12
    position_gain: float = 4.0


@dataclass
class BrainConfig:
    """The decoder as the paper decodes (:class:`~neuromem.tensorbrain.brain.SceneBrain`).

    Attributes
    ----------
    dim : int
        Representation layer (blackboard) and index-embedding size.
    wm_dim : int
        Working-memory size (the authors use 500 against a 4096 blackboard).
    nonlinearity : str
        ``g`` in ``a_k . g(q)``: ``"leaky_relu"`` (the authors' ``FinalTrain``,
        ``flinear=2``, ``tensorbrain/config.py``), ``"relu"``, ``"tanh"`` (neuromem's earlier
        decoder) or ``"sigmoid"`` (the paper's equations).
    leak : float
        Slope of LeakyReLU for negative inputs (0.02, ``flinear=2``).
    alpha : float
        Initial weight of the embodied index on the blackboard, ``q = alpha a + q~``
        (``BTN.alpha = nn.Parameter(1.)``).
    learn_alpha : bool
        Train ``alpha`` (as the authors do); False keeps it fixed.
    beta : float
        Gain of the index layer's softmax.
    window_mode : str
        Sensory input per decoding window: ``"regions"`` (each window its region: the scene
        for the time index, the subject's, the object's and the union region, as in
        ``BTN.forward_perception``), ``"scene"`` (every window the whole scene) or
        ``"once"`` (only the time step sees the senses; later windows get ``W h`` alone --
        the ablation closest to neuromem's earlier single injection).
    sensory_hidden : int
        Hidden units of the sensory map ``f(v) = W_v relu(W_s v + b_s) + b_v`` (the authors'
        ``D``: Linear(25088, 4096)-ReLU-Linear(4096, 4096) over VGG features,
        ``BTN.__init__``); 0: linear ``f``. 256 against 128 before: on the validation world
        (``benchmarks/tune_scenes.py``, seed 100, expectation, cosine, 20 epochs) perception
        0.917 against 0.89 (constant rate); 512 gave 0.919 at twice the cost.
    wm_source : str
        What feeds working memory: ``"blackboard"`` (``q = alpha a + q~``, the authors'
        ``V(q_s)``) or ``"index"`` (the embodied index embedding only, neuromem's earlier
        decoder).
    """

    dim: int = 64
    wm_dim: int = 64
    nonlinearity: str = "leaky_relu"
    leak: float = 0.02
    alpha: float = 1.0
    learn_alpha: bool = True
    beta: float = 1.0
    window_mode: str = "regions"
    sensory_hidden: int = 256
    wm_source: str = "blackboard"


@dataclass
class BrainFitConfig:
    """Training of :class:`~neuromem.tensorbrain.brain.SceneBrain` (Adam, mini-batches).

    Attributes
    ----------
    epochs : int
        Passes over the tasks.
    batch_size : int
        Rows per step.
    lr : float
        Adam learning rate.
    weight_decay : float
        L2 weight decay of the weight matrices.
    measure : str
        How perception measures each index while training: ``"expectation"`` (the
        authors' ``integral`` mode, ``sampling_training`` of ``FinalTrain``),
        ``"teacher"``, ``"argmax"`` or ``"sample"``. Replay and semantic tasks are
        teacher-forced as in ``FinalTrain`` (``tkg``/``skg``: ``teacher``).
    schedule : str
        Learning rate over the epochs of one training call: ``"constant"`` (the authors'
        Adam, ``train.py``) or ``"cosine"`` decay to 0 (default, a neuromem departure: on
        the validation world, ``benchmarks/tune_scenes.py`` seed 100, perception rose from
        0.89 to 0.917 with ``sensory_hidden=256``).
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 5e-3
    weight_decay: float = 0.0
    measure: str = "expectation"
    schedule: str = "cosine"


@dataclass
class EpisodicConfig:
    """Episodic memory (:class:`~neuromem.tensorbrain.brain.EpisodicMemory`).

    Attributes
    ----------
    index : str
        ``"distributed"``: time indices are random codes and episodes are written one shot
        into one shared Hebbian matrix, so recall degrades with load and age (a neuromem
        choice, to have a memory with a capacity); ``"localist"``: one index unit per
        episode with ``a_t := q_t`` (the paper's one-shot time index; exact at any load).
    n_units : int
        Units of a distributed time index; the crosstalk variance is about
        ``T / n_units`` of a stored state's after ``T`` episodes.
    decay : float
        Factor applied to the stored matrix before each new episode (1: no forgetting).
    form_steps : int
        Adam steps that form a new time index's embedding from the perceived episode (the
        authors' episodic ``tkg`` task, ``BTN.forward_tkg``, on the new index alone).
    form_lr : float
        Their learning rate.
    form_noise : float
        Noise on the new ``a_t`` at each formation step, as a fraction of the RMS of the
        centred training embeddings (as ``train_noise``): the index is formed where the
        crosstalk of a distributed memory does not change what it decodes (a neuromem
        choice; :meth:`SceneBrain.form_time_index
        <neuromem.tensorbrain.brain.SceneBrain.form_time_index>`). On the validation world
        (``benchmarks/tune_scenes.py --hidden 256 --schedule cosine --form-noise 0 0.2 0.5``,
        seed 100) the distributed store at 400 episodes reproduced the perceived triple in
        0.865 of the episodes without it, 0.975 with 0.2 and with 0.5 (0.72 and 0.82 at 1600).
    train_noise : float
        Noise on the learned time-index embeddings while the episodic task trains, as a
        fraction of their RMS (:attr:`SceneTask.state_noise
        <neuromem.tensorbrain.brain.SceneTask>`): the decoder learns to read states with
        the crosstalk a distributed memory adds (a neuromem choice).
    """

    index: str = "distributed"
    n_units: int = 16384
    decay: float = 1.0
    form_steps: int = 300
    form_lr: float = 0.1
    form_noise: float = 0.2
    train_noise: float = 0.2
