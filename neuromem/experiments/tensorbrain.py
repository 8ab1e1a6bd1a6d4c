"""Tensor-brain experiments: semantic memory on knowledge graphs, and perception and memory in
synthetic scenes.

``tensorbrain-kg``
    Trains each tensor model (RESCAL, DistMult, ComplEx, Tucker; 1-vs-all softmax CE, Adam)
    and the decoder's semantic memory (start ``a_pre``, teacher-forced ``s, o, p``) on one
    graph of ``--data DIR/kg/<dataset>`` (or ``DIR/<dataset>``) and reports filtered test
    MRR and Hits@k of both directions.

    Metrics: ``mrr``, ``hits1``, ``hits3``, ``hits10``, ``train_seconds`` and ``best_model``
    for the model with the best *validation* MRR; the per-model table ``model_names``,
    ``model_mrr``, ``model_hits1``, ``model_hits3``, ``model_hits10``, ``model_valid_mrr``,
    ``model_train_seconds`` (the decoder appears as ``decoder``).

``tensorbrain-scenes``
    Draws a ring world (:func:`neuromem.tensorbrain.scenes.make_world`: the predicate is the
    object's place relative to the subject's, in no region of the input), training episodes
    and a pool of test episodes, and trains :class:`~neuromem.tensorbrain.brain.SceneBrain`
    on perception (window by window, expectation measurement) and the episodic task (learned
    time indices of the training episodes), then consolidates semantic memory (``a_pre``)
    from episodes replayed from their time indices.

    Metrics: ``triple_accuracy`` (perception, argmax; ``_seen_facts``/``_novel_facts``),
    ``subject_accuracy``, ``object_accuracy``, ``predicate_accuracy``, ``label_accuracy``,
    ``alpha``; ``linear_readout_triple_accuracy`` / ``_predicate_accuracy`` (a linear softmax
    per slot of the whole sensory input, same training episodes);
    ``episodic_recall_accuracy`` (test episodes perceived, given a one-shot time index and
    stored; recalled from the time index alone; the true triple) and
    ``episodic_recall_fidelity`` (the perceived triple), both also ``_localist``, and the
    nulls ``episodic_recall_accuracy_null_center`` / ``_null_shuffled`` (recall from the mean
    training time index, or from another test episode's index; ``fidelity`` likewise);
    ``episodic_recall_curve`` / ``episodic_recall_fidelity_curve`` at ``episodic_recall_loads``
    stored episodes; ``episodic_recency_curve`` (a forgetting memory) and
    ``episodic_recency_curve_no_decay`` by ``episodic_recency_ages``;
    ``episodic_interference_similar`` / ``_dissimilar`` (probes stored among episodes with
    their subject and object, or among others); ``replay_fidelity``; ``semantic_so_hits1``
    (filtered Hits@1 of ``(s, ?, o)`` on held-out facts from ``a_pre`` consolidated from
    replay), ``semantic_so_hits1_truth`` (consolidated from the true triples),
    ``rescal_so_hits1``, ``marginal_so_hits1`` (evidence-weighted marginal over the stored
    training episodes) and ``marginal_so_hits1_uniform``; ``triple_accuracy_ablation_<name>``
    for each decoder ablation. Figures ``decoding`` and ``episodic_recall``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from neuromem.errors import ConfigError
from neuromem.tensorbrain.config import (
    BrainConfig,
    BrainFitConfig,
    DecoderConfig,
    DecoderFitConfig,
    EpisodicConfig,
    KGFitConfig,
    WorldConfig,
)

from ._registry import RunContext, register

DATASETS = ("kinships", "nations", "umls")
#: entities and relations of each graph (for the memory estimate before the data is read)
_KG_SIZES = {"kinships": (104, 25), "nations": (14, 55), "umls": (135, 46)}


@dataclass
class TensorBrainKGConfig:
    """Parameters of ``tensorbrain-kg``.

    Attributes
    ----------
    dataset : str
        ``kinships``, ``nations`` or ``umls``.
    models : list of str
        Tensor models to train (``rescal``, ``distmult``, ``complex``, ``tucker``).
    dim : int
        Embedding size of DistMult and ComplEx.
    rescal_dim : int
        Embedding size of RESCAL (its relations are ``d x d``).
    tucker_dim, tucker_rel_dim : int
        Entity and relation sizes of Tucker.
    reciprocal : bool
        Reciprocal relations for every tensor model (:class:`TensorModel
        <neuromem.tensorbrain.models.TensorModel>`, ``reciprocal``): the head query
        ``(?, p, o)`` is the tail query ``(o, p^-1, ?)`` with its own parameters. The presets
        set it per graph from validation MRR (docs/models/tensorbrain.md).
    entity_bias : bool
        The per-entity bias ``a0_k`` of every tensor model (:class:`TensorModel
        <neuromem.tensorbrain.models.TensorModel>`, ``entity_bias``; True, the tensor
        brain's index layer). The presets set it per graph from validation MRR.
    kg_fit : KGFitConfig
        Training of each tensor model: 40 epochs of 128 at lr 0.005, N3 weight 0.02. Training
        stops on epochs, so a seed gives the same metrics on a busy machine and an idle one;
        ``kg_fit.time_budget`` (seconds per model) is an opt-in wall-clock limit, recorded
        in result.json with the epochs each model ran (``model_epochs``,
        ``model_stopped_by_time_budget``).
    decoder : bool
        Also train and evaluate the decoder's semantic memory.
    decoder_model : DecoderConfig
        The decoder's shape (``dim`` 128, the model's defaults otherwise).
    decoder_fit : DecoderFitConfig
        Its training: 60 epochs of 128 at lr 0.005 with cosine decay (keeps its training
        stable); ``decoder_fit.time_budget`` is opt-in as above.
    """

    dataset: str = "kinships"
    models: list[str] = field(default_factory=lambda: ["rescal", "distmult", "complex", "tucker"])
    dim: int = 256
    rescal_dim: int = 64
    tucker_dim: int = 64
    tucker_rel_dim: int = 32
    reciprocal: bool = False
    entity_bias: bool = True
    kg_fit: KGFitConfig = field(
        default_factory=lambda: KGFitConfig(epochs=40, batch_size=128, lr=0.005, reg=0.02)
    )
    decoder: bool = True
    decoder_model: DecoderConfig = field(default_factory=lambda: DecoderConfig(dim=128))
    decoder_fit: DecoderFitConfig = field(
        default_factory=lambda: DecoderFitConfig(
            epochs=60, batch_size=128, lr=0.005, schedule="cosine"
        )
    )

    def validate(self) -> None:
        from neuromem.tensorbrain import MODELS

        if self.dataset not in DATASETS:
            raise ValueError(
                f"dataset: expected one of {', '.join(DATASETS)}, got {self.dataset!r}"
            )
        if not isinstance(self.reciprocal, bool):
            raise TypeError(f"reciprocal: expected true or false, got {self.reciprocal!r}")
        if not isinstance(self.entity_bias, bool):
            raise TypeError(f"entity_bias: expected true or false, got {self.entity_bias!r}")
        if not self.models and not self.decoder:
            raise ValueError("models: empty and decoder off; nothing to train")
        for m in self.models:
            if m not in MODELS:
                raise ValueError(f"models: unknown model {m!r}; expected {', '.join(MODELS)}")
        f, dm, df = self.kg_fit, self.decoder_model, self.decoder_fit
        for name, v in (
            ("dim", self.dim),
            ("rescal_dim", self.rescal_dim),
            ("tucker_dim", self.tucker_dim),
            ("tucker_rel_dim", self.tucker_rel_dim),
            ("kg_fit.epochs", f.epochs),
            ("kg_fit.batch_size", f.batch_size),
            ("decoder_model.dim", dm.dim),
            ("decoder_fit.epochs", df.epochs),
            ("decoder_fit.batch_size", df.batch_size),
        ):
            if v < 1:
                raise ValueError(f"{name}: must be >= 1, got {v}")
        if "complex" in self.models and self.dim % 2:
            raise ValueError(f"dim: ComplEx needs an even size, got {self.dim}")
        for name, v in (
            ("kg_fit.lr", f.lr),
            ("decoder_fit.lr", df.lr),
            ("kg_fit.time_budget", f.time_budget),
            ("decoder_fit.time_budget", df.time_budget),
        ):
            if v is not None and not v > 0:
                raise ValueError(f"{name}: must be > 0, got {v}")
        if not 0 <= f.smoothing < 1:
            raise ValueError(f"kg_fit.smoothing: must lie in [0, 1), got {f.smoothing}")
        for name, v in (
            ("kg_fit.reg", f.reg),
            ("kg_fit.reg_all", f.reg_all),
            ("decoder_fit.weight_decay", df.weight_decay),
            ("decoder_model.alpha", dm.alpha),
        ):
            if v < 0:
                raise ValueError(f"{name}: must be >= 0, got {v}")
        if df.schedule not in ("constant", "cosine"):
            raise ValueError(f"decoder_fit.schedule: 'constant' or 'cosine', got {df.schedule!r}")
        from neuromem._resources import check_memory
        from neuromem.tensorbrain.models import training_bytes

        n_ent, n_rel = _KG_SIZES[self.dataset]
        names = {"rescal": ("rescal_dim",), "tucker": ("tucker_dim", "tucker_rel_dim")}
        for m in self.models:
            size = _model_size(self, m)
            fields_ = names.get(m, ("dim",))
            check_memory(
                training_bytes(
                    m, n_ent, n_rel * (1 + self.reciprocal), size["dim"], size.get("rel_dim", 1)
                ),
                ", ".join(f"{k}={getattr(self, k)}" for k in fields_) + f" ({m} on {self.dataset})",
            )


def kg_folder(ctx: RunContext, dataset: str):
    """``DATA/kg/<dataset>`` or ``DATA/<dataset>``; DataNotFoundError when neither exists."""
    from neuromem.errors import DataNotFoundError

    base = ctx.data_dir(what="knowledge graphs (kg/kinships, kg/nations, kg/umls)")
    for cand in (base / "kg" / dataset, base / dataset):
        if cand.is_dir():
            return cand
    raise DataNotFoundError(
        f"--data: knowledge graph {dataset!r} not found under {base} "
        f"(looked for {base / 'kg' / dataset} and {base / dataset})"
    )


def _model_size(cfg, kind):
    if kind == "rescal":
        return {"dim": cfg.rescal_dim}
    if kind == "tucker":
        return {"dim": cfg.tucker_dim, "rel_dim": cfg.tucker_rel_dim}
    return {"dim": cfg.dim}


@register(
    "tensorbrain-kg",
    config=TensorBrainKGConfig,
    description="tensor models and the tensor brain's semantic memory on Kinships/Nations/UMLS",
    demo_overrides={
        "dataset": "nations",
        "models": ["distmult", "complex"],
        "dim": 64,
        "kg_fit.epochs": 15,
        "decoder_model.dim": 32,
        "decoder_fit.epochs": 5,
    },
    needs_data=True,
    data_sets=("kinships", "nations", "umls"),
)
def tensorbrain_kg(cfg: TensorBrainKGConfig, ctx: RunContext) -> dict:
    from neuromem.datasets.kg import load_kg
    from neuromem.tensorbrain import TensorModel
    from neuromem.tensorbrain.decoder import TRIPLE_PLAN, Task, TensorBrain

    kg = load_kg(kg_folder(ctx, cfg.dataset))
    known = kg.all_triples()
    rows, curves = [], {}
    for kind in cfg.models:
        m = TensorModel(
            kind,
            kg.n_entities,
            kg.n_relations,
            seed=ctx.child_rng(),
            reciprocal=cfg.reciprocal,
            entity_bias=cfg.entity_bias,
            **_model_size(cfg, kind),
        )
        bar = ctx.progress(total=cfg.kg_fit.epochs, desc=f"{kind}")
        with ctx.phase(f"train_{kind}"):
            t0 = time.perf_counter()
            m.fit(
                kg.train,
                **dataclasses.asdict(cfg.kg_fit),
                seed=ctx.child_rng(),
                callback=lambda ep, loss, bar=bar: bar.update(1),
            )
            secs = time.perf_counter() - t0
        bar.close()
        with ctx.phase("evaluate"):
            valid = m.evaluate(kg.valid, known)
            test = m.evaluate(kg.test, known)
        rows.append((kind, valid["mrr"], test, secs, len(m.history), cfg.kg_fit.epochs))
        curves[kind] = list(m.history)
    if cfg.decoder:
        tb = TensorBrain(
            kg.n_entities,
            kg.n_relations,
            **dataclasses.asdict(cfg.decoder_model),
            seed=ctx.child_rng(),
        )
        task = Task("pre", TRIPLE_PLAN, [kg.train[:, 0], kg.train[:, 2], kg.train[:, 1]])
        bar = ctx.progress(total=cfg.decoder_fit.epochs, desc="decoder")
        with ctx.phase("train_decoder"):
            t0 = time.perf_counter()
            tb.fit(
                [task],
                **dataclasses.asdict(cfg.decoder_fit),
                seed=ctx.child_rng(),
                callback=lambda ep, loss: bar.update(1),
            )
            secs = time.perf_counter() - t0
        bar.close()
        with ctx.phase("evaluate"):
            valid = tb.evaluate(kg.valid, known)
            test = tb.evaluate(kg.test, known)
        rows.append(("decoder", valid["mrr"], test, secs, len(tb.history), cfg.decoder_fit.epochs))
        curves["decoder"] = list(tb.history)
    with ctx.phase("plot"):
        _plot_kg(ctx, cfg.dataset, rows, curves)

    best = max(rows, key=lambda r: r[1])
    metrics = {
        "dataset": cfg.dataset,
        "reciprocal": cfg.reciprocal,
        "entity_bias": cfg.entity_bias,
        "best_model": best[0],
        "mrr": best[2]["mrr"],
        "hits1": best[2]["hits1"],
        "hits3": best[2]["hits3"],
        "hits10": best[2]["hits10"],
        "train_seconds": best[3],
        "model_names": [r[0] for r in rows],
        "model_valid_mrr": [r[1] for r in rows],
        "model_mrr": [r[2]["mrr"] for r in rows],
        "model_tail_mrr": [r[2]["tail_mrr"] for r in rows],
        "model_head_mrr": [r[2]["head_mrr"] for r in rows],
        "model_hits1": [r[2]["hits1"] for r in rows],
        "model_hits3": [r[2]["hits3"] for r in rows],
        "model_hits10": [r[2]["hits10"] for r in rows],
        "model_train_seconds": [r[3] for r in rows],
        "model_epochs": [r[4] for r in rows],
        # the opt-in wall-clock budgets (None: training stopped on epochs, reproducible)
        "kg_time_budget": cfg.kg_fit.time_budget,
        "decoder_time_budget": cfg.decoder_fit.time_budget if cfg.decoder else None,
        "model_stopped_by_time_budget": [r[4] < r[5] for r in rows],
    }
    return metrics


def _plot_kg(ctx, dataset: str, rows, curves) -> None:
    """Filtered test MRR and Hits@1/3/10 per model, and each model's training loss."""
    import matplotlib.pyplot as plt

    names = [r[0] for r in rows]
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
    x = np.arange(len(names))
    for k, (key, label) in enumerate((("mrr", "MRR"), ("hits1", "Hits@1"), ("hits3", "Hits@3"),
                                      ("hits10", "Hits@10"))):  # fmt: skip
        ax[0].bar(x + (k - 1.5) * 0.2, [r[2][key] for r in rows], 0.2, label=label)
    ax[0].set_xticks(x, names)
    ax[0].set(ylim=(0, 1.2), ylabel="filtered test score", title=f"link prediction on {dataset}")
    ax[0].legend(fontsize=8, ncol=4, loc="upper center")
    for name, c in curves.items():
        ax[1].plot(np.arange(1, len(c) + 1), c, "o-", ms=3, label=name)
    ax[1].set(xlabel="epoch", ylabel="training loss (mean per epoch)", title="training curves")
    ax[1].set_yscale("log")
    ax[1].legend(fontsize=8)
    fig.tight_layout()
    ctx.save_figure(fig, "kg")


# ---------------------------------------------------------------------- scenes
#: decoder ablations ``tensorbrain-scenes`` can train in the same run
SCENE_ABLATIONS = ("reference", "teacher", "sigmoid", "once", "index_wm", "legacy")


@dataclass
class TensorBrainScenesConfig:
    """Parameters of ``tensorbrain-scenes``.

    Attributes
    ----------
    world : WorldConfig
        The synthetic world (:func:`neuromem.tensorbrain.scenes.make_world`; its defaults:
        the ring world, where the predicate is the relative place).
    n_train, n_test : int
        Training episodes (facts that are not held out) and test episodes (all facts).
    brain : BrainConfig
        The decoder (:class:`~neuromem.tensorbrain.brain.SceneBrain`; its defaults).
    fit : BrainFitConfig
        Its training before consolidation (its defaults).
    episodic : EpisodicConfig
        The episodic memory of the test episodes (its defaults).
    n_episodic_train : int
        Training episodes that get a learned time index (the authors' episodic ``tkg``
        task trains these embeddings and the decoder's path from them).
    episodic_repeats : int
        Passes of the episodic task per epoch (a time index gets one update per pass).
    consolidation_epochs : int
        Epochs of consolidation: perception and episodic tasks go on while semantic memory
        (``a_pre``) learns from triples replayed from the stored training episodes.
    replays : int
        Replays of each stored training episode.
    replay_measure : str
        How a replay measures each index: ``"argmax"`` (recall the most likely episode)
        or ``"sample"`` (generative replay; measured: noisier triples, lower semantic
        Hits@1).
    recall_loads : list of int
        Stored episodes for ``episodic_recall_curve``.
    recency_decay : float
        ``decay`` of the memory whose recall is reported against the age of an episode.
    n_marginal : int
        Held-out facts queried through the marginal over stored episodes.
    linear_epochs : int
        Training epochs of the linear readout baseline.
    rescal_dim, rescal_epochs : int
        The RESCAL baseline of semantic memory.
    ablations : list of str
        Decoders trained in the same run for comparison (``SCENE_ABLATIONS``), each for
        ``fit.epochs + consolidation_epochs`` epochs on perception and the episodic task:
        ``reference`` (the configured decoder trained that way), ``teacher``
        (teacher forcing only), ``sigmoid`` (the paper's ``g``), ``once`` (sensory input
        only at the time step), ``index_wm`` (working memory fed by the index embedding
        only), ``legacy`` (neuromem's earlier :class:`~neuromem.tensorbrain.decoder.TensorBrain`).
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    n_train: int = 8000
    n_test: int = 400
    brain: BrainConfig = field(default_factory=BrainConfig)
    fit: BrainFitConfig = field(default_factory=BrainFitConfig)
    episodic: EpisodicConfig = field(default_factory=EpisodicConfig)
    n_episodic_train: int = 8000
    episodic_repeats: int = 2
    consolidation_epochs: int = 10
    replays: int = 1
    replay_measure: str = "argmax"
    recall_loads: list[int] = field(default_factory=lambda: [100, 400, 1600, 3200])
    recency_decay: float = 0.995
    n_marginal: int = 200
    linear_epochs: int = 30
    rescal_dim: int = 32
    rescal_epochs: int = 60
    ablations: list[str] = field(default_factory=lambda: list(SCENE_ABLATIONS))

    def validate(self) -> None:
        w, b, f, e = self.world, self.brain, self.fit, self.episodic
        for name, v in (
            ("world.n_classes", w.n_classes),
            ("world.n_predicates", w.n_predicates),
            ("world.feature_dim", w.feature_dim),
            ("n_train", self.n_train),
            ("n_test", self.n_test),
            ("brain.dim", b.dim),
            ("brain.wm_dim", b.wm_dim),
            ("fit.epochs", f.epochs),
            ("fit.batch_size", f.batch_size),
            ("episodic.n_units", e.n_units),
            ("n_episodic_train", self.n_episodic_train),
            ("episodic_repeats", self.episodic_repeats),
            ("replays", self.replays),
            ("n_marginal", self.n_marginal),
            ("linear_epochs", self.linear_epochs),
            ("rescal_dim", self.rescal_dim),
            ("rescal_epochs", self.rescal_epochs),
        ):
            if v < 1:
                raise ValueError(f"{name}: must be >= 1, got {v}")
        for name, v in (
            ("consolidation_epochs", self.consolidation_epochs),
            ("brain.sensory_hidden", b.sensory_hidden),
            ("episodic.form_steps", e.form_steps),
        ):
            if v < 0:
                raise ValueError(f"{name}: must be >= 0, got {v}")
        if w.n_entities < 10:
            raise ValueError(f"world.n_entities: must be >= 10, got {w.n_entities}")
        if w.n_attributes < 0:
            raise ValueError(f"world.n_attributes: must be >= 0, got {w.n_attributes}")
        for name in ("p_attribute", "class_density", "keep"):
            if not 0 <= getattr(w, name) <= 1:
                raise ValueError(f"world.{name}: must lie in [0, 1], got {getattr(w, name)}")
        if not 0 < w.holdout < 1:
            raise ValueError(f"world.holdout: must lie in (0, 1), got {w.holdout}")
        for name, v in (
            ("world.noise", w.noise),
            ("brain.alpha", b.alpha),
            ("brain.leak", b.leak),
            ("fit.weight_decay", f.weight_decay),
            ("episodic.train_noise", e.train_noise),
            ("episodic.form_noise", e.form_noise),
        ):
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name}: must be a finite number >= 0, got {v}")
        for name, v in (
            ("fit.lr", f.lr),
            ("brain.beta", b.beta),
            ("episodic.form_lr", e.form_lr),
            ("world.position_gain", w.position_gain),
        ):
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name}: must be a finite number > 0, got {v}")
        for name, v in (("episodic.decay", e.decay), ("recency_decay", self.recency_decay)):
            if not (np.isfinite(v) and 0 < v <= 1):
                raise ValueError(f"{name}: must lie in (0, 1], got {v}")
        if not self.recall_loads or min(self.recall_loads) < 1:
            raise ValueError(f"recall_loads: expected positive counts, got {self.recall_loads}")
        for a in self.ablations:
            if a not in SCENE_ABLATIONS:
                raise ValueError(f"ablations: unknown {a!r}; expected {', '.join(SCENE_ABLATIONS)}")
        from neuromem._resources import check_memory

        # facts (entity pairs x predicates); the episodes' sensory vectors (two regions of
        # feature_dim + n_positions each) and the learned time table; the shared matrix of
        # a distributed episodic memory (a few copies), float64
        check_memory(
            32.0 * w.n_entities**2 * w.n_predicates,
            f"world.n_entities={w.n_entities}, world.n_predicates={w.n_predicates}",
        )
        n_pool = self.n_train + max(self.n_test, max(self.recall_loads))
        check_memory(
            48.0 * n_pool * (2 * (w.feature_dim + w.n_positions) + b.dim),
            f"n_train={self.n_train}, recall_loads={self.recall_loads}, "
            f"world.feature_dim={w.feature_dim}",
        )
        check_memory(48.0 * b.dim * e.n_units, f"episodic.n_units={e.n_units}")
        for name, v, opts in (
            ("brain.nonlinearity", b.nonlinearity, ("leaky_relu", "relu", "tanh", "sigmoid")),
            ("brain.window_mode", b.window_mode, ("regions", "scene", "once")),
            ("brain.wm_source", b.wm_source, ("blackboard", "index")),
            ("fit.measure", f.measure, ("expectation", "teacher", "argmax", "sample")),
            ("fit.schedule", f.schedule, ("constant", "cosine")),
            ("replay_measure", self.replay_measure, ("argmax", "sample", "expectation")),
            ("episodic.index", e.index, ("distributed", "localist")),
            ("world.structure", w.structure, ("ring", "feature")),
        ):
            if v not in opts:
                raise ValueError(f"{name}: expected one of {', '.join(opts)}, got {v!r}")


def _plot_decoding(world, ep, probs, plan):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, len(plan), figsize=(3.0 * len(plan), 3.0))
    s, p, o = ep
    ent_seen = lab_seen = 0
    for ax, kind, pr in zip(np.atleast_1d(axes), plan, probs):
        pr = pr[0]
        if kind == "labels":
            ent = s if lab_seen == 0 else o
            lab_seen += 1
            true_set = np.flatnonzero(world.labels[ent] > 0.5)
            colors = ["C3" if k in true_set else "C0" for k in range(len(pr))]
            ax.bar(np.arange(len(pr)), pr, color=colors)
            ax.set(title=f"labels of {'subject' if lab_seen == 1 else 'object'}", ylim=(0, 1))
            ax.set_xlabel("label (red: true)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            continue
        if kind == "entity":
            tgt, title = (s, "subject") if ent_seen == 0 else (o, "object")
            ent_seen += 1
        else:
            tgt, title = p, "predicate"
        colors = ["C3" if k == tgt else "C0" for k in range(len(pr))]
        ax.bar(np.arange(len(pr)), pr, color=colors)
        ax.set(title=f"P({title} | window, h)", ylim=(0, 1))
        ax.set_xlabel("index (red: true)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    np.atleast_1d(axes)[0].set_ylabel("probability")
    fig.suptitle("perception of one test scene: what each decoding step reads out")
    fig.tight_layout()
    return fig


def _plot_recall(loads, curve, fidelity, ages, recency):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.0, 3.2))
    a1.plot(loads, curve, "o-", label="recall = true triple")
    a1.plot(loads, fidelity, "s--", label="recall = perceived triple")
    a1.set(xscale="log", xlabel="stored episodes", ylabel="accuracy", ylim=(0, 1.02),
           title="recall against load")  # fmt: skip
    a1.set_xticks(list(loads), [str(n) for n in loads], minor=False)
    a1.xaxis.set_minor_locator(NullLocator())
    a1.legend(fontsize=8)
    a2.plot(ages, recency, "o-", label="recall = perceived triple")
    a2.set(xlabel="age (episodes stored since)", ylabel="recall = perceived", ylim=(0, 1.02),
           title="recall against age")  # fmt: skip
    a2.legend(fontsize=8)
    fig.suptitle("episodic memory: recall from the time index alone")
    fig.tight_layout()
    return fig


def _targets(world, triples):
    lab = world.labels
    return [triples[:, 0], lab[triples[:, 0]], triples[:, 2], lab[triples[:, 2]], triples[:, 1]]


def _so_hits1(scores, rows, true_p):
    """Filtered Hits@1 of ``(s, ?, o)``: the true p beats every p that is not a fact."""
    out = []
    for sc, (s, p, o) in zip(scores, rows.tolist()):
        other = [q for q in true_p.get((s, o), ()) if q != p]
        x = sc.copy()
        x[other] = -np.inf
        better = np.sum(x > x[p])
        ties = np.sum(x == x[p]) - 1
        out.append(1.0 / (1.0 + better + ties) if better == 0 else 0.0)
    return float(np.mean(out))


@register(
    "tensorbrain-scenes",
    config=TensorBrainScenesConfig,
    description="tensor-brain decoder on synthetic scenes: perception, episodic, semantic memory",
    demo_overrides={
        "n_train": 2000,
        "n_test": 200,
        "fit.epochs": 8,
        "consolidation_epochs": 4,
        "n_episodic_train": 500,
        "episodic_repeats": 4,
        "recall_loads": [50, 200, 800],
        "n_marginal": 50,
        "linear_epochs": 10,
        "rescal_epochs": 20,
        "ablations": [],
    },
)
def tensorbrain_scenes(cfg: TensorBrainScenesConfig, ctx: RunContext) -> dict:
    import copy

    from neuromem.tensorbrain import TensorModel
    from neuromem.tensorbrain.brain import EpisodicMemory, LinearReadout, SceneBrain, SceneTask
    from neuromem.tensorbrain.decoder import PERCEPTION_PLAN, Task, TensorBrain
    from neuromem.tensorbrain.scenes import make_episodes, make_world

    with ctx.phase("world"):
        try:
            world = make_world(**dataclasses.asdict(cfg.world), seed=ctx.child_rng())
        except ValueError as e:
            raise ConfigError(str(e)) from None
        train = make_episodes(world, cfg.n_train, observed_only=True, seed=ctx.child_rng())
        n_pool = max(cfg.n_test, max(cfg.recall_loads))
        pool = make_episodes(world, n_pool, observed_only=False, seed=ctx.child_rng())
    tr, te = train.triples, pool.triples[: cfg.n_test]
    v_te = pool.sensory[: cfg.n_test]
    ne = min(cfg.n_episodic_train, cfg.n_train)
    reps = np.tile(np.arange(ne), cfg.episodic_repeats)
    fit_kw = dict(
        epochs=cfg.fit.epochs,
        batch_size=cfg.fit.batch_size,
        lr=cfg.fit.lr,
        weight_decay=cfg.fit.weight_decay,
        schedule=cfg.fit.schedule,
    )

    def build(**over):
        kw = dataclasses.asdict(cfg.brain) | over
        tb = SceneBrain(
            world.n_entities,
            world.n_predicates,
            world.n_labels,
            world.n_sensory,
            windows=world.windows,
            **kw,
            seed=ctx.child_rng(),
        )
        tb.init_time_table(ne)
        return tb

    def tasks(measure):
        return [
            SceneTask("sensory", _targets(world, tr), train.sensory, True, measure),
            SceneTask(
                "time", _targets(world, tr[reps]), reps, False, "teacher", cfg.episodic.train_noise
            ),
        ]

    def triple_accuracy(tb):
        return float(np.mean(np.all(tb.perceive(v_te)["triples"] == te, axis=1)))

    tb = build()
    bar = ctx.progress(total=cfg.fit.epochs + cfg.consolidation_epochs, desc="decoder")
    with ctx.phase("train_decoder"):
        tb.fit(
            tasks(cfg.fit.measure),
            **fit_kw,
            seed=ctx.child_rng(),
            callback=lambda e, l: bar.update(1),
        )
    # consolidation: semantic memory learns from episodes replayed from their time indices
    stored_train = EpisodicMemory(tb.dim, index="localist")
    stored_train.store(tb.params["A_time"])
    with ctx.phase("consolidation"):
        rep_ids = np.tile(np.arange(ne), cfg.replays)
        rec = tb.recall(stored_train, rep_ids, measure=cfg.replay_measure, seed=ctx.child_rng())
        rtg = [rec["subject"], rec["subject_labels"].astype(float), rec["object"]]
        rtg += [rec["object_labels"].astype(float), rec["predicate"]]
        replay_fidelity = float(np.mean(np.all(rec["triples"] == tr[rep_ids], axis=1)))
        tb_truth = copy.deepcopy(tb) if cfg.consolidation_epochs else tb
        if cfg.consolidation_epochs:
            phase2 = tasks(cfg.fit.measure)
            consolidation_seed = int(ctx.child_rng().integers(2**31))
            tb.fit(
                phase2 + [SceneTask("pre", rtg)],
                **(fit_kw | {"epochs": cfg.consolidation_epochs}),
                seed=consolidation_seed,
                callback=lambda e, l: bar.update(1),
            )
            tb_truth.fit(
                phase2 + [SceneTask("pre", _targets(world, tr[rep_ids]))],
                **(fit_kw | {"epochs": cfg.consolidation_epochs}),
                seed=consolidation_seed,
            )
    bar.close()

    with ctx.phase("perception"):
        out = tb.perceive(v_te)
        trip = out["triples"]
        ok_trip = np.all(trip == te, axis=1)
        lab = world.labels
        lab_ok = np.concatenate(
            [
                out["subject_labels"] == (lab[te[:, 0]] > 0.5),
                out["object_labels"] == (lab[te[:, 2]] > 0.5),
            ]
        )
        seen_set = {tuple(f) for f in tr.tolist()}
        seen_fact = np.array([tuple(x) in seen_set for x in te.tolist()])
        lin = LinearReadout(
            world.n_sensory, [world.n_entities, world.n_predicates, world.n_entities]
        )
        lin.fit(train.sensory, tr, epochs=cfg.linear_epochs, seed=ctx.child_rng())
        lin_pred = lin.predict(v_te)

    with ctx.phase("episodic"):
        # every pool episode perceived and given a one-shot time index (not stored yet)
        e = cfg.episodic
        center = tb.params["A_time"].mean(axis=0)
        pool_out = tb.perceive(pool.sensory)
        ptg = [
            c.astype(np.float64) if k == "labels" else c
            for k, c in zip(
                tb.plan,
                [
                    pool_out["subject"],
                    pool_out["subject_labels"],
                    pool_out["object"],
                    pool_out["object_labels"],
                    pool_out["predicate"],
                ],
            )
        ]
        form_seed = int(ctx.child_rng().integers(2**31))
        states = tb.form_time_index(ptg, e.form_steps, e.form_lr, e.form_noise, form_seed)
        perceived = pool_out["triples"]
        mem_seed = int(ctx.child_rng().integers(2**31))

        def memory(n, **over):
            kw = dict(index=e.index, n_units=e.n_units, decay=e.decay) | over
            m = EpisodicMemory(tb.dim, center=center, seed=mem_seed, **kw)
            m.store(states[:n])
            return m

        def recall(m, ids):
            r = tb.recall(m, ids)["triples"]
            return np.all(r == pool.triples[ids], axis=1), np.all(r == perceived[ids], axis=1)

        ids = np.arange(cfg.n_test)
        acc, fid = recall(memory(cfg.n_test), ids)
        acc_loc, fid_loc = recall(memory(cfg.n_test, index="localist"), ids)
        # nulls without the mechanism: every episode recalled from the centre (the mean
        # training time index: no episode-specific state), or from another episode's index
        null = EpisodicMemory(tb.dim, index="localist", center=center)
        null.store(np.repeat(center[None, :], cfg.n_test, axis=0))
        acc_null, fid_null = recall(null, ids)
        shuffled = EpisodicMemory(tb.dim, index="localist", center=center)
        shuffled.store(states[: cfg.n_test][np.roll(ids, 1)])
        acc_shuf, fid_shuf = recall(shuffled, ids)
        curve, curve_fid = [], []
        for L in cfg.recall_loads:
            a, f_ = recall(memory(L), np.arange(min(L, cfg.n_test)))
            curve.append(float(a.mean()))
            curve_fid.append(float(f_.mean()))
        # recency: a forgetting memory (decay per stored episode), recall by age
        _, fid_dec = recall(memory(cfg.n_test, decay=cfg.recency_decay), ids)
        _, fid_nodec = recall(memory(cfg.n_test), ids)
        age = cfg.n_test - 1 - ids
        bins = np.array_split(np.argsort(age), 5)
        ages = [float(age[b].mean()) for b in bins]
        recency = [float(fid_dec[b].mean()) for b in bins]
        recency_nodecay = [float(fid_nodec[b].mean()) for b in bins]
        # interference: probes stored among episodes that share their subject and object
        n_probe = max(1, cfg.n_test // 8)
        k_sim = cfg.n_test // n_probe - 1
        sim_trip = np.repeat(te[:n_probe], max(k_sim, 1), axis=0)
        rng_sim = ctx.child_rng()
        sim_trip[:, 1] = (
            sim_trip[:, 1] + rng_sim.integers(1, world.n_predicates, len(sim_trip))
        ) % world.n_predicates
        sim_out = tb.perceive(world.sense(sim_trip, rng_sim))
        stg = [sim_out["subject"], sim_out["subject_labels"].astype(float), sim_out["object"]]
        stg += [sim_out["object_labels"].astype(float), sim_out["predicate"]]
        sim_states = tb.form_time_index(stg, e.form_steps, e.form_lr, e.form_noise, form_seed + 1)
        interference = {}
        for name, fill in (
            ("similar", sim_states),
            ("dissimilar", states[n_probe : n_probe + len(sim_states)]),
        ):
            m = EpisodicMemory(
                tb.dim,
                center=center,
                seed=mem_seed,
                index=e.index,
                n_units=e.n_units,
                decay=e.decay,
            )
            m.store(states[:n_probe])
            m.store(fill)
            interference[name] = float(recall(m, np.arange(n_probe))[1].mean())

    held = world.facts[~world.observed]
    true_p: dict = {}
    for s, p, o in world.facts.tolist():
        true_p.setdefault((s, o), []).append(p)
    with ctx.phase("semantic"):
        sem = _so_hits1(tb.predicate_scores(held[:, 0], held[:, 2]), held, true_p)
        sem_truth = _so_hits1(tb_truth.predicate_scores(held[:, 0], held[:, 2]), held, true_p)
        rescal = TensorModel(
            "rescal", world.n_entities, world.n_predicates, dim=cfg.rescal_dim, seed=ctx.child_rng()
        )
        rescal.fit(
            tr, epochs=cfg.rescal_epochs, batch_size=128, lr=0.01, reg=0.01, seed=ctx.child_rng()
        )
        P = world.n_predicates
        rows = np.repeat(held, P, axis=0)
        rows[:, 1] = np.tile(np.arange(P), len(held))
        res = _so_hits1(rescal.score_triples(rows).reshape(len(held), P), held, true_p)
        hm = held[: cfg.n_marginal]
        marg_w = tb.marginal_predicate(stored_train, hm[:, 0], hm[:, 2], weighted=True)
        marg_u = tb.marginal_predicate(stored_train, hm[:, 0], hm[:, 2], weighted=False)

    abl = {}
    for name in cfg.ablations:
        with ctx.phase(f"ablation_{name}"):
            if name == "legacy":
                old = TensorBrain(
                    world.n_entities,
                    world.n_predicates,
                    n_labels=world.n_labels,
                    n_sensory=world.n_sensory,
                    dim=cfg.brain.dim,
                    seed=ctx.child_rng(),
                )
                task = Task("sensory", PERCEPTION_PLAN, [None] + _targets(world, tr), train.sensory)
                old.fit(
                    [task],
                    **fit_kw | {"epochs": cfg.fit.epochs + cfg.consolidation_epochs},
                    seed=ctx.child_rng(),
                )
                o = old.perceive(v_te, store=False)
                got = np.stack([o["subject"], o["predicate"], o["object"]], axis=1)
                abl[name] = float(np.mean(np.all(got == te, axis=1)))
                continue
            over = {
                "sigmoid": {"nonlinearity": "sigmoid"},
                "once": {"window_mode": "once"},
                "index_wm": {"wm_source": "index"},
                "teacher": {},
                "reference": {},
            }[name]
            m = build(**over)
            m.fit(
                tasks("teacher" if name == "teacher" else cfg.fit.measure),
                **fit_kw | {"epochs": cfg.fit.epochs + cfg.consolidation_epochs},
                seed=ctx.child_rng(),
            )
            abl[name] = triple_accuracy(m)

    metrics = {
        "n_facts": len(world.facts),
        "n_heldout_facts": len(held),
        "triple_accuracy": float(ok_trip.mean()),
        "triple_accuracy_seen_facts": float(ok_trip[seen_fact].mean()) if seen_fact.any() else None,
        "triple_accuracy_novel_facts": float(ok_trip[~seen_fact].mean())
        if (~seen_fact).any()
        else None,
        "subject_accuracy": float(np.mean(trip[:, 0] == te[:, 0])),
        "object_accuracy": float(np.mean(trip[:, 2] == te[:, 2])),
        "predicate_accuracy": float(np.mean(trip[:, 1] == te[:, 1])),
        "label_accuracy": float(lab_ok.mean()),
        "alpha": float(tb.params["alpha"][0]),
        "linear_readout_triple_accuracy": float(np.mean(np.all(lin_pred == te, axis=1))),
        "linear_readout_predicate_accuracy": float(np.mean(lin_pred[:, 1] == te[:, 1])),
        "episodic_recall_accuracy": float(acc.mean()),
        "episodic_recall_fidelity": float(fid.mean()),
        "episodic_recall_accuracy_localist": float(acc_loc.mean()),
        "episodic_recall_fidelity_localist": float(fid_loc.mean()),
        "episodic_recall_accuracy_null_center": float(acc_null.mean()),
        "episodic_recall_fidelity_null_center": float(fid_null.mean()),
        "episodic_recall_accuracy_null_shuffled": float(acc_shuf.mean()),
        "episodic_recall_fidelity_null_shuffled": float(fid_shuf.mean()),
        "episodic_recall_loads": list(cfg.recall_loads),
        "episodic_recall_curve": curve,
        "episodic_recall_fidelity_curve": curve_fid,
        "episodic_recency_ages": ages,
        "episodic_recency_curve": recency,
        "episodic_recency_curve_no_decay": recency_nodecay,
        "episodic_interference_similar": interference["similar"],
        "episodic_interference_dissimilar": interference["dissimilar"],
        "replay_fidelity": replay_fidelity,
        "semantic_so_hits1": sem,
        "semantic_so_hits1_truth": sem_truth,
        "rescal_so_hits1": res,
        "marginal_so_hits1": _so_hits1(np.log(marg_w + 1e-300), hm, true_p),
        "marginal_so_hits1_uniform": _so_hits1(np.log(marg_u + 1e-300), hm, true_p),
        "chance_so_hits1": 1.0 / world.n_predicates,
        "train_loss": tb.history,
    }
    for name, v in abl.items():
        metrics[f"triple_accuracy_ablation_{name}"] = v
    with ctx.phase("plot"):
        probs1, _ = tb.decode("sensory", v_te[:1])
        ctx.save_figure(_plot_decoding(world, te[0], probs1, tb.plan), "decoding")
        ctx.save_figure(
            _plot_recall(cfg.recall_loads, curve, curve_fid, ages, recency), "episodic_recall"
        )
    ctx.save_array("scenes", test_triples=te, perceived=trip, linear=lin_pred, time_states=states)
    return metrics
