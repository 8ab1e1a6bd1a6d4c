"""Configs of the PMI Transformer, its bAbI reader and its training (owners of the defaults).

:class:`TransformerConfig` holds the PMI module's own :class:`~neuromem.pmi.PMIConfig` (width,
heads, key width, slots, segments, top-k, switches) and the Transformer around it;
:class:`BabiModelConfig` adds the bAbI reader's input and readout; :class:`TrainConfig` is the
optimisation budget of :func:`neuromem.pmi.training.fit`. Experiments hold these configs
instead of copying their fields. No torch is needed to build or validate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .core import PMIConfig

__all__ = [
    "TransformerConfig",
    "BabiModelConfig",
    "TrainConfig",
    "READOUTS",
    "WORD_WEIGHTS",
    "VARIANTS",
    "MODEL_KINDS",
]

READOUTS = ("cls", "question")
WORD_WEIGHTS = ("mean", "sum")
SCHEDULES = ("constant", "cosine")

#: The PMI ablations (the paper's ablation table, the README rows of ``zengxyyu/PMI-TR``): each
#: model kind's changes to the config's :class:`~neuromem.pmi.PMIConfig`. "pmi" is the config
#: itself; "baseline" is a same-size Transformer without the module.
VARIANTS = {
    "pmi": {},
    "pmi-soft": {"topk_write": 0, "topk_read": 0},  # soft attention instead of top-k
    "pmi-no-ltm": {"use_ltm": False, "use_correction": False},  # working memory only
    "pmi-no-wm-inference": {"use_wm_inference": False},  # U from the long-term side only
    "pmi-correction": {"use_correction": True},  # with the correction step
    "pmi-no-correction": {"use_correction": False},  # without it
}
MODEL_KINDS = (*VARIANTS, "baseline")


@dataclass
class TransformerConfig:
    """A PMI Transformer (and the width of its same-size baseline).

    Attributes
    ----------
    pmi : PMIConfig
        The memory module; its ``dim`` is the Transformer's width and its ``n_heads`` its
        heads. The ``pmi-soft`` variant sets both top-k to 0 (soft attention).
    n_layers : int
        Encoder layers (weights shared across layers, as the authors' PMI-TR).
    ffn_dim : int
        Feed-forward width of the PMI model.
    baseline_ffn_dim : int
        Feed-forward width of the baseline; 0 picks the width at which the baseline has as many
        trainable parameters as the PMI model (:func:`neuromem.pmi.training.baseline_ffn_dim`).
    dropout : float
        Dropout rate, in [0, 1).
    """

    pmi: PMIConfig = field(default_factory=PMIConfig)
    n_layers: int = 3
    ffn_dim: int = 128
    baseline_ffn_dim: int = 0
    dropout: float = 0.1

    @property
    def dim(self) -> int:
        """The Transformer's width (``pmi.dim``)."""
        return self.pmi.dim

    def validate(self) -> TransformerConfig:
        """Check every field; raise ``ValueError`` naming the bad one."""
        self.pmi.validate()
        for f in ("n_layers", "ffn_dim"):
            if getattr(self, f) < 1:
                raise ValueError(f"{f} must be >= 1, got {getattr(self, f)}")
        if self.baseline_ffn_dim < 0:
            raise ValueError(
                f"baseline_ffn_dim must be >= 0 (0: matched to PMI's size), got "
                f"{self.baseline_ffn_dim}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        return self


@dataclass
class BabiModelConfig(TransformerConfig):
    """The bAbI reader (:class:`neuromem.pmi.torch_model.BabiModel`) around the Transformer.

    Attributes
    ----------
    readout : str
        ``"cls"`` (the authors' code) or ``"question"``: which token the answer is read from.
    word_weights : str
        Initial word-position weights of the sentence codes: ``"mean"`` (``1/L``, the authors'
        input module) or ``"sum"`` (1). Default ``"mean"``: ``InputModule.__init__`` in
        ``baselines/sam/qamodel_zxy.py`` of ``zengxyyu/PMI-TR`` (the input module their
        ``babi_main.py`` uses) sets ``pos_embed`` to ones divided by ``max_seq``.
    """

    readout: str = "cls"
    word_weights: str = "mean"

    def validate(self) -> BabiModelConfig:
        super().validate()
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be 'cls' or 'question', got {self.readout!r}")
        if self.word_weights not in WORD_WEIGHTS:
            raise ValueError(f"word_weights must be 'mean' or 'sum', got {self.word_weights!r}")
        return self


@dataclass
class TrainConfig:
    """Training budget of :func:`neuromem.pmi.training.fit` (Adam, gradient clipping).

    Attributes
    ----------
    steps : int
        Optimisation steps.
    batch_size : int
        Questions per step.
    lr : float
        Peak learning rate of Adam.
    warmup : int
        Steps of linear learning-rate warm-up (0: none).
    schedule : str
        ``"constant"`` or ``"cosine"`` (decay to 0 after the warm-up).
    threads : int
        torch threads.
    """

    steps: int = 3000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 0
    schedule: str = "constant"
    threads: int = 1

    def validate(self) -> TrainConfig:
        for f in ("steps", "batch_size", "threads"):
            if getattr(self, f) < 1:
                raise ValueError(f"{f} must be >= 1, got {getattr(self, f)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        return self
