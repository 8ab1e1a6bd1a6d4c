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
    Draws a world (:func:`neuromem.tensorbrain.scenes.make_world`), training and test
    episodes, and trains the decoder jointly on perception (``q0 = f(v)``, plan
    ``t, s, labels, o, labels, p``) and semantic memory (``q0 = a_pre``) by teacher forcing.

    Metrics: ``perception_label_accuracy`` (per label, subject and object),
    ``perception_label_exact`` (every label of an entity right), ``perception_hits1`` /
    ``perception_hits10`` (rank of the true subject, object and predicate at their step, the
    earlier steps teacher-forced, averaged over the three), ``perception_triple_accuracy``
    (argmax decoding gets the whole triple; also split into test episodes that show facts seen
    in training, ``_seen_facts``, and held-out facts, ``_novel_facts``),
    ``episodic_recall_accuracy`` (test episodes stored one-shot, then recalled from their time
    index), ``episodic_label_accuracy``,
    ``semantic_mrr`` / ``semantic_hits1`` / ``semantic_hits10`` (filtered ranking of held-out
    facts by the decoder's semantic memory) against ``rescal_*`` (RESCAL trained on the same
    observed triples), ``marginal_predicate_hits1`` (``(s, ?, o)`` from the average over
    stored episodes) and ``generated_precision`` (share of sampled triples that are facts).
    Figure ``decoding``: the decoded probabilities at each step for one test episode.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from neuromem.errors import ConfigError
from neuromem.tensorbrain.config import (
    DecoderConfig,
    DecoderFitConfig,
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
                training_bytes(m, n_ent, n_rel, size["dim"], size.get("rel_dim", 1)),
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
    data_sets=("kinships", "nations", "umls"),
)
def tensorbrain_kg(cfg: TensorBrainKGConfig, ctx: RunContext) -> dict:
    from neuromem.datasets.kg import load_kg
    from neuromem.tensorbrain import TensorModel
    from neuromem.tensorbrain.decoder import TRIPLE_PLAN, Task, TensorBrain

    kg = load_kg(kg_folder(ctx, cfg.dataset))
    known = kg.all_triples()
    rows = []
    for kind in cfg.models:
        m = TensorModel(
            kind, kg.n_entities, kg.n_relations, seed=ctx.child_rng(), **_model_size(cfg, kind)
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

    best = max(rows, key=lambda r: r[1])
    metrics = {
        "dataset": cfg.dataset,
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


# ---------------------------------------------------------------------- scenes
@dataclass
class TensorBrainScenesConfig:
    """Parameters of ``tensorbrain-scenes``.

    Attributes
    ----------
    world : WorldConfig
        The synthetic world (:func:`neuromem.tensorbrain.scenes.make_world`; its defaults).
    n_train, n_test : int
        Training and test episodes.
    decoder : DecoderConfig
        The decoder (its defaults).
    fit : DecoderFitConfig
        Its training: 30 epochs of 64 at lr 0.005.
    rescal_dim, rescal_epochs : int
        The RESCAL baseline of semantic memory.
    n_generate : int
        Triples sampled from semantic memory.
    """

    world: WorldConfig = field(default_factory=WorldConfig)
    n_train: int = 4000
    n_test: int = 400
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    fit: DecoderFitConfig = field(
        default_factory=lambda: DecoderFitConfig(epochs=30, batch_size=64, lr=0.005)
    )
    rescal_dim: int = 32
    rescal_epochs: int = 60
    n_generate: int = 2000

    def validate(self) -> None:
        w, d, f = self.world, self.decoder, self.fit
        for name, v in (
            ("world.n_classes", w.n_classes),
            ("world.n_predicates", w.n_predicates),
            ("world.feature_dim", w.feature_dim),
            ("n_train", self.n_train),
            ("n_test", self.n_test),
            ("decoder.dim", d.dim),
            ("fit.epochs", f.epochs),
            ("fit.batch_size", f.batch_size),
            ("rescal_dim", self.rescal_dim),
            ("rescal_epochs", self.rescal_epochs),
            ("n_generate", self.n_generate),
        ):
            if v < 1:
                raise ValueError(f"{name}: must be >= 1, got {v}")
        if w.n_entities < 10:
            raise ValueError(f"world.n_entities: must be >= 10 (Hits@10), got {w.n_entities}")
        if w.n_attributes < 0:
            raise ValueError(f"world.n_attributes: must be >= 0, got {w.n_attributes}")
        for name in ("p_attribute", "class_density", "keep"):
            if not 0 <= getattr(w, name) <= 1:
                raise ValueError(f"world.{name}: must lie in [0, 1], got {getattr(w, name)}")
        if not 0 < w.holdout < 1:
            raise ValueError(f"world.holdout: must lie in (0, 1), got {w.holdout}")
        for name, v in (
            ("world.noise", w.noise),
            ("decoder.alpha", d.alpha),
            ("decoder.beta_fb", d.beta_fb),
            ("fit.weight_decay", f.weight_decay),
        ):
            if v < 0:
                raise ValueError(f"{name}: must be >= 0, got {v}")
        if not f.lr > 0:
            raise ValueError(f"fit.lr: must be > 0, got {f.lr}")
        from neuromem._resources import check_memory

        # facts (entity pairs x predicates) and the episodes' sensory vectors (at least the
        # subject's and the object's regions of feature_dim each), float64, a few copies
        check_memory(
            32.0 * w.n_entities**2 * w.n_predicates,
            f"world.n_entities={w.n_entities}, world.n_predicates={w.n_predicates}",
        )
        check_memory(
            48.0 * (self.n_train + self.n_test) * w.feature_dim,
            f"n_train={self.n_train}, n_test={self.n_test}, world.feature_dim={w.feature_dim}",
        )


def _slot_ranks(probs, plan, triples):
    """Ranks of the true s, o, p at their (teacher-forced) steps, shape (3, B)."""
    out = []
    steps = [i for i, k in enumerate(plan) if k in ("entity", "predicate")]
    cols = [0, 2, 1]
    for step, col in zip(steps, cols):
        pr = probs[step]
        true = pr[np.arange(len(pr)), triples[:, col]]
        better = (pr > true[:, None]).sum(axis=1)
        tied = (pr == true[:, None]).sum(axis=1) - 1
        out.append(1.0 + better + 0.5 * tied)
    return np.array(out)


def _plot_decoding(tb, world, ep, probs, plan, names=None):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    steps = [i for i, k in enumerate(plan) if k != "time_new"]
    fig, axes = plt.subplots(1, len(steps), figsize=(3.0 * len(steps), 3.0))
    s, p, o = ep
    truth = {"entity": [s, o], "predicate": [p]}
    ent_seen = 0
    lab_seen = 0
    for ax, i in zip(np.atleast_1d(axes), steps):
        kind = plan[i]
        pr = probs[i][0]
        if kind == "labels":
            ent = s if lab_seen == 0 else o
            lab_seen += 1
            true_set = np.flatnonzero(world.labels[ent] > 0.5)
            colors = ["C3" if k in true_set else "C0" for k in range(len(pr))]
            ax.bar(np.arange(len(pr)), pr, color=colors)
            ax.set(title=f"labels of {'subject' if lab_seen == 1 else 'object'}", ylim=(0, 1))
            ax.set_xlabel("label (red: true)")
            continue
        if kind == "entity":
            tgt = truth["entity"][ent_seen]
            title = "subject" if ent_seen == 0 else "object"
            ent_seen += 1
        else:
            tgt = p
            title = "predicate"
        colors = ["C3" if k == tgt else "C0" for k in range(len(pr))]
        ax.bar(np.arange(len(pr)), pr, color=colors)
        ax.set(title=f"P({title} | q, h)", ylim=(0, 1))
        ax.set_xlabel("index (red: true)")
    np.atleast_1d(axes)[0].set_ylabel("probability")
    fig.tight_layout()
    return fig


@register(
    "tensorbrain-scenes",
    config=TensorBrainScenesConfig,
    description="tensor-brain decoder on synthetic scenes: perception, episodic, semantic memory",
)
def tensorbrain_scenes(cfg: TensorBrainScenesConfig, ctx: RunContext) -> dict:
    from neuromem.tensorbrain import FilterIndex, TensorModel, evaluate_ranking
    from neuromem.tensorbrain.decoder import PERCEPTION_PLAN, Task, TensorBrain
    from neuromem.tensorbrain.scenes import make_episodes, make_world

    with ctx.phase("world"):
        try:
            world = make_world(**dataclasses.asdict(cfg.world), seed=ctx.child_rng())
        except ValueError as e:
            raise ConfigError(str(e)) from None
        train = make_episodes(world, cfg.n_train, observed_only=True, seed=ctx.child_rng())
        test = make_episodes(world, cfg.n_test, observed_only=False, seed=ctx.child_rng())
    tr = train.triples
    lab = world.labels
    perception = Task(
        "sensory",
        PERCEPTION_PLAN,
        [None, tr[:, 0], lab[tr[:, 0]], tr[:, 2], lab[tr[:, 2]], tr[:, 1]],
        train.sensory,
    )
    semantic = Task(
        "pre",
        PERCEPTION_PLAN[1:],
        [tr[:, 0], lab[tr[:, 0]], tr[:, 2], lab[tr[:, 2]], tr[:, 1]],
    )
    tb = TensorBrain(
        world.n_entities,
        world.n_predicates,
        n_labels=world.n_labels,
        n_sensory=world.n_sensory,
        **dataclasses.asdict(cfg.decoder),
        seed=ctx.child_rng(),
    )
    bar = ctx.progress(total=cfg.fit.epochs, desc="decoder")
    with ctx.phase("train_decoder"):
        tb.fit(
            [perception, semantic],
            **dataclasses.asdict(cfg.fit),
            seed=ctx.child_rng(),
            callback=lambda ep, loss: bar.update(1),
        )
    bar.close()

    te = test.triples
    with ctx.phase("perception"):
        # teacher-forced ranks of each slot, and free argmax decoding
        probs_tf, _ = tb.decode(
            "sensory",
            test.sensory,
            PERCEPTION_PLAN,
            measure="teacher",
            targets=[None, te[:, 0], None, te[:, 2], None, te[:, 1]],
        )
        ranks = _slot_ranks(probs_tf, PERCEPTION_PLAN, te)
        out = tb.perceive(test.sensory, store=True)
        trip = np.stack([out["subject"], out["predicate"], out["object"]], axis=1)
        lab_ok = np.concatenate(
            [
                out["subject_labels"] == (lab[te[:, 0]] > 0.5),
                out["object_labels"] == (lab[te[:, 2]] > 0.5),
            ]
        )
    with ctx.phase("episodic"):
        rec = tb.recall_episode(out["time"])
        rtrip = np.stack([rec["subject"], rec["predicate"], rec["object"]], axis=1)
        rlab_ok = np.concatenate(
            [
                rec["subject_labels"] == (lab[te[:, 0]] > 0.5),
                rec["object_labels"] == (lab[te[:, 2]] > 0.5),
            ]
        )
    held = world.facts[~world.observed]
    fi = FilterIndex(world.facts, world.n_entities, world.n_predicates)
    with ctx.phase("semantic"):
        sem = evaluate_ranking(tb.score_tail, tb.score_head, held, fi, batch_size=64)
        rescal = TensorModel(
            "rescal", world.n_entities, world.n_predicates, dim=cfg.rescal_dim, seed=ctx.child_rng()
        )
        rescal.fit(
            tr, epochs=cfg.rescal_epochs, batch_size=128, lr=0.01, reg=0.01, seed=ctx.child_rng()
        )
        res = rescal.evaluate(held, world.facts)
        # (s, ?, o): learned pre-observation index versus the marginal over stored episodes
        pr_pre = tb.predicate_scores(held[:, 0], held[:, 2])
        n_marg = min(len(held), 200)
        pr_marg = tb.marginal_predicate(held[:n_marg, 0], held[:n_marg, 2])
        gen = tb.generate(cfg.n_generate, seed=ctx.child_rng())
        fact_set = {tuple(f) for f in world.facts.tolist()}
        seen_set = {tuple(f) for f in tr.tolist()}
        gen_true = np.array([tuple(g) in fact_set for g in gen.tolist()])
        gen_new = np.array([tuple(g) not in seen_set for g in gen.tolist()])

    ok_trip = np.all(trip == te, axis=1)
    seen_fact = np.array([tuple(x) in seen_set for x in te.tolist()])

    def _pred_hits1(scores, rows):
        true = scores[np.arange(len(rows)), rows[:, 1]]
        return float(np.mean((scores > true[:, None]).sum(axis=1) == 0))

    metrics = {
        "n_facts": len(world.facts),
        "n_heldout_facts": len(held),
        "perception_label_accuracy": float(lab_ok.mean()),
        "perception_label_exact": float(lab_ok.all(axis=1).mean()),
        "perception_hits1": float(np.mean(ranks <= 1)),
        "perception_hits10": float(np.mean(ranks <= 10)),
        "perception_subject_hits1": float(np.mean(ranks[0] <= 1)),
        "perception_object_hits1": float(np.mean(ranks[1] <= 1)),
        "perception_predicate_hits1": float(np.mean(ranks[2] <= 1)),
        "perception_triple_accuracy": float(np.mean(np.all(trip == te, axis=1))),
        "perception_triple_accuracy_seen_facts": float(np.mean(ok_trip[seen_fact]))
        if seen_fact.any()
        else None,
        "perception_triple_accuracy_novel_facts": float(np.mean(ok_trip[~seen_fact]))
        if (~seen_fact).any()
        else None,
        "episodic_recall_accuracy": float(np.mean(np.all(rtrip == te, axis=1))),
        "episodic_label_accuracy": float(rlab_ok.mean()),
        "episodic_matches_perception": float(np.mean(np.all(rtrip == trip, axis=1))),
        "semantic_mrr": sem["mrr"],
        "semantic_hits1": sem["hits1"],
        "semantic_hits10": sem["hits10"],
        "rescal_mrr": res["mrr"],
        "rescal_hits1": res["hits1"],
        "rescal_hits10": res["hits10"],
        "pre_predicate_hits1": _pred_hits1(pr_pre, held),
        "marginal_predicate_hits1": _pred_hits1(pr_marg, held[:n_marg]),
        "generated_precision": float(gen_true.mean()),
        "generated_novel_true": float(np.mean(gen_true & gen_new)),
        "chance_precision": len(world.facts)
        / (world.n_entities * (world.n_entities - 1) * world.n_predicates),
        "train_loss": tb.history,
    }
    with ctx.phase("plot"):
        probs1, _ = tb.decode("sensory", test.sensory[:1], PERCEPTION_PLAN, measure="argmax")
        fig = _plot_decoding(tb, world, te[0], probs1, PERCEPTION_PLAN)
        ctx.save_figure(fig, "decoding")
    ctx.save_array(
        "scenes",
        test_triples=te,
        perceived=trip,
        recalled=rtrip,
        generated=gen,
        slot_ranks=ranks,
    )
    return metrics
