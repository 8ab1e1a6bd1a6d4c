"""Figures of the protocol's result dicts (titled, labelled, with legends); one per measure.

Each function takes ``{memory name: result dict}`` (or one dict for similarity) as returned by
:mod:`neuromem.protocols.measures` and returns a matplotlib figure; nothing is measured here.
Nulls are drawn in grey or black, dashed.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "plot_capacity",
    "plot_noisy_recall",
    "plot_interference",
    "plot_forgetting",
    "plot_similarity",
]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _colors(names):
    return {n: f"C{i % 10}" for i, n in enumerate(names)}


def plot_capacity(results: dict[str, dict], title: str = "capacity"):
    """Exact recall (by key, solid; from partial cues, dashed) and stored-vs-novel AUC (all
    stored, solid; recently stored, dotted) against load, with the no-storage null."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    col = _colors(results)
    null_drawn = False
    for name, r in results.items():
        c = col[name]
        axes[0].plot(r["loads"], r["exact_key"], "o-", color=c, label=f"{name} (by key)")
        axes[0].plot(r["loads"], r["exact_content"], "s--", color=c, alpha=0.7, ms=4)
        axes[1].plot(r["loads"], r["auc"], "o-", color=c, label=name)
        axes[1].plot(r["loads"], r["auc_recent"], ":", color=c, alpha=0.8)
        if not null_drawn and "null_exact_key" in r:
            axes[0].plot(r["loads"], r["null_exact_key"], "k--", lw=1, label="null: no storage")
            axes[1].axhline(0.5, color="k", ls="--", lw=1, label="null: no storage (0.5)")
            null_drawn = True
    axes[0].axhline(0.95, color="grey", ls=":", lw=1)
    axes[0].set(
        xscale="log",
        xlabel="stored items",
        ylabel="exact recall",
        title="exact recall (solid: by key, dashed: from partial cue)",
        ylim=(-0.03, 1.03),
    )
    axes[1].set(
        xscale="log",
        xlabel="stored items",
        ylabel="AUC stored vs never stored",
        title="confidence AUC (solid: all stored, dotted: recent)",
        ylim=(0.3, 1.03),
    )
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_noisy_recall(results: dict[str, dict[str, dict]], title: str = "noisy and partial cues"):
    """Exact recall against cue noise, one panel per kind (``flip``, ``drop``), with the
    no-completion null (the cue itself, black dashed: its overlap with the item)."""
    plt = _plt()
    kinds = sorted({k for r in results.values() for k in r})
    fig, axes = plt.subplots(1, max(1, len(kinds)), figsize=(5.5 * max(1, len(kinds)), 4))
    axes = np.atleast_1d(axes)
    col = _colors(results)
    for ax, kind in zip(axes, kinds, strict=False):
        null = None
        for name, per in results.items():
            if kind not in per:
                continue
            r = per[kind]
            ax.plot(r["noise_levels"], r["exact"], "o-", color=col[name], label=name)
            ax.plot(r["noise_levels"], r["overlap"], ":", color=col[name], alpha=0.6)
            null = r
        if null is not None:
            ax.plot(
                null["noise_levels"], null["null_exact"], "k--", lw=1, label="null: cue (exact)"
            )
            ax.plot(
                null["noise_levels"], null["null_overlap"], "k:", lw=1, label="null: cue (overlap)"
            )
        what = "active bits moved" if kind == "flip" else "active bits dropped"
        ax.set(
            xlabel=f"cue noise (fraction of {what})",
            ylabel="exact recall (dotted: overlap)",
            title=f"recall from {'noisy' if kind == 'flip' else 'partial'} cues",
            ylim=(-0.03, 1.03),
        )
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_interference(results: dict[str, dict], title: str = "interference"):
    """Exact recall of probes from partial cues against the lures' similarity; the control
    (as many unrelated lures) as a dashed level per memory."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    col = _colors(results)
    for name, r in results.items():
        c = col[name]
        for ax, key in zip(axes, ("exact_content", "exact_key"), strict=True):
            ax.plot(r["similarities"], r[key], "o-", color=c, label=name)
            ax.axhline(r[f"control_{key}"], color=c, ls="--", lw=1, alpha=0.7)
    axes[0].plot([], [], "k--", lw=1, label="control: unrelated lures")
    axes[1].plot([], [], "k--", lw=1, label="control: unrelated lures")
    axes[0].set(
        xlabel="lure similarity (shared active bits)",
        ylabel="exact recall of probes",
        title="from partial cues",
        ylim=(-0.03, 1.03),
    )
    axes[1].set(
        xlabel="lure similarity (shared active bits)",
        ylabel="exact recall of probes",
        title="by key",
        ylim=(-0.03, 1.03),
    )
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def plot_forgetting(results: dict[str, dict], title: str = "recency and forgetting"):
    """Recency curves (exact recall by key against block age) and, for memories that can
    forget, the kept/forgotten AUC after forgetting beside its null (the AUC before)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    col = _colors(results)
    for name, r in results.items():
        axes[0].plot(r["block_age"], r["recency_exact_key"], "o-", color=col[name], label=name)
    axes[0].set(
        xlabel="age (blocks stored after it)",
        ylabel="exact recall by key",
        title="recency curve",
        ylim=(-0.03, 1.03),
    )
    axes[0].invert_xaxis()
    axes[0].xaxis.set_major_locator(_integer_ticks())
    axes[0].legend(fontsize=7)
    names = list(results)
    x = np.arange(len(names))
    after = [results[n]["forget_auc"] for n in names]
    before = [results[n]["null_forget_auc"] for n in names]
    ok = [a is not None for a in after]
    axes[1].bar(
        x[ok] - 0.2, [a for a in after if a is not None], 0.4, color="C3", label="after forget"
    )
    axes[1].bar(
        x[ok] + 0.2,
        [b for b, o in zip(before, ok, strict=True) if o],
        0.4,
        color="grey",
        label="null: before forget",
    )
    for i, o in enumerate(ok):
        if not o:
            axes[1].text(i, 0.52, "not\napplicable", ha="center", va="bottom", fontsize=7)
    axes[1].axhline(0.5, color="k", ls=":", lw=1)
    axes[1].set_xticks(x, names, rotation=30)
    axes[1].set(
        xlabel="memory",
        ylabel="AUC kept vs forgotten",
        title="forget: confidence AUC",
        ylim=(0.0, 1.05),
    )
    axes[1].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_similarity(
    result: dict,
    name: str = "model",
    title: str = "similarity preservation",
    ablations: dict | None = None,
):
    """Mean code similarity against input overlap for the model and the two nulls, with the
    identity line; the legend gives Spearman and MAD. ``ablations`` maps a name to another
    result of :func:`~neuromem.protocols.similarity_preservation` (the model without its
    mechanism), drawn beside it."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    x = result["input_overlap"]
    ax.plot([0, 1], [0, 1], color="grey", lw=1, label="identity")
    for i, (aname, ab) in enumerate((ablations or {}).items()):
        ax.plot(
            ab["input_overlap"],
            ab["model_mean"],
            "v:",
            color=f"C{3 + i}",
            label=f"{aname}: Spearman {ab['model_spearman']:.2f}, MAD {ab['model_mad']:.2f}",
        )
    if result.get("model_mean") is not None:
        ax.plot(
            x,
            result["model_mean"],
            "o-",
            color="C0",
            label=f"{name}: Spearman {result['model_spearman']:.2f}, MAD {result['model_mad']:.2f}",
        )
    ax.plot(
        x,
        result["graded_mean"],
        "s--",
        color="C2",
        label=f"graded null: Spearman {result['graded_spearman']:.2f}, "
        f"MAD {result['graded_mad']:.2f}",
    )
    ax.plot(
        x,
        result["threshold_mean"],
        "^--",
        color="k",
        label=f"threshold null: Spearman {result['threshold_spearman']:.2f}, "
        f"MAD {result['threshold_mad']:.2f}",
    )
    ax.set(
        xlabel="input overlap (shared active bits)",
        ylabel="code similarity (agreeing modules)",
        title=f"{title} (Q={result['Q']}, K={result['K']})",
        xlim=(-0.03, 1.03),
        ylim=(-0.03, 1.03),
    )
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
