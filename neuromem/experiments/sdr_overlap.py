"""``sdr-overlap``: measured overlap of random codes against the analytic distribution.

Draws ``n_pairs`` pairs of random SDRs (``n_active`` of ``size`` units) and of random modular
codes (``Q`` modules of ``K`` cells), counts their overlaps with the Numba batch kernels of
:mod:`neuromem.sdr` and compares the histograms with the hypergeometric and binomial laws.

Metrics
-------
expected_overlap_analytic, expected_overlap_measured
    Mean overlap of plain SDRs: ``n_active**2 / size`` and the sample mean.
overlap_standard_error
    Standard error of the sample mean, from the analytic variance.
max_abs_pmf_error
    Largest absolute difference between the empirical and analytic probability mass.
modular_*
    The same for modular codes (binomial ``B(Q, 1/K)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from neuromem import sdr
from neuromem._resources import check_memory

from ._registry import RunContext, register


@dataclass
class SDROverlapConfig:
    """Parameters of ``sdr-overlap``.

    Attributes
    ----------
    size : int
        Units per plain SDR.
    n_active : int
        Active units per plain SDR.
    Q : int
        Modules per modular code.
    K : int
        Cells per module.
    n_pairs : int
        Random pairs drawn for each kind of code.
    """

    size: int = 1024
    n_active: int = 32
    Q: int = 16
    K: int = 8
    n_pairs: int = 20000

    def validate(self) -> None:
        if self.size < 1:
            raise ValueError(f"size must be >= 1, got {self.size}")
        if not 0 < self.n_active <= self.size:
            raise ValueError(f"n_active must lie in [1, size={self.size}], got {self.n_active}")
        if self.Q < 1:
            raise ValueError(f"Q must be >= 1, got {self.Q}")
        if self.K < 2:
            raise ValueError(f"K must be >= 2, got {self.K}")
        if self.n_pairs < 1:
            raise ValueError(f"n_pairs must be >= 1, got {self.n_pairs}")
        # uniform keys and their argpartition per chunk of rows, two index batches, two
        # winner matrices and their comparison, the overlaps (bytes)
        chunk = min(self.n_pairs, 2000)
        need = (
            16.0 * chunk * self.size
            + 16.0 * self.n_pairs * self.n_active
            + 17.0 * self.n_pairs * self.Q
            + 48.0 * self.n_active
        )
        check_memory(
            need,
            f"size={self.size}, n_active={self.n_active}, Q={self.Q}, n_pairs={self.n_pairs}",
        )


def _random_index_batch(rng, n, size, n_active):
    """``n`` sorted random SDR index rows (each a uniform ``n_active``-subset of ``size``)."""
    # argpartition of uniform keys picks a uniform random subset per row
    keys = rng.random((n, size))
    idx = np.argpartition(keys, n_active - 1, axis=1)[:, :n_active]
    idx.sort(axis=1)
    return idx.astype(np.int64)


def _random_index_batch_chunked(rng, n, size, n_active, chunk=2000):
    parts = []
    for start in range(0, n, chunk):
        parts.append(_random_index_batch(rng, min(chunk, n - start), size, n_active))
    return np.concatenate(parts)


@register(
    "sdr-overlap",
    config=SDROverlapConfig,
    description="overlap of random SDRs and modular codes against the hypergeometric/binomial law",
)
def sdr_overlap(cfg: SDROverlapConfig, ctx: RunContext) -> dict:
    rng = ctx.rng
    n = cfg.n_pairs
    with ctx.phase("draw"):
        a = _random_index_batch_chunked(rng, n, cfg.size, cfg.n_active)
        b = _random_index_batch_chunked(rng, n, cfg.size, cfg.n_active)
        lengths = np.full(n, cfg.n_active, dtype=np.int64)
        wa = rng.integers(0, cfg.K, size=(n, cfg.Q))
        wb = rng.integers(0, cfg.K, size=(n, cfg.Q))
    with ctx.phase("measure"):
        ov = sdr.paired_overlap(a, lengths, b, lengths)
        mov = np.count_nonzero(wa == wb, axis=1)

    pmf = sdr.overlap_pmf(cfg.size, cfg.n_active)
    emp = np.bincount(ov, minlength=pmf.size)[: pmf.size] / n
    mpmf = sdr.modular_overlap_pmf(cfg.Q, cfg.K)
    memp = np.bincount(mov, minlength=mpmf.size)[: mpmf.size] / n
    hyper = stats.hypergeom(cfg.size, cfg.n_active, cfg.n_active)
    binom = stats.binom(cfg.Q, 1.0 / cfg.K)

    metrics = {
        "expected_overlap_analytic": sdr.expected_overlap(cfg.size, cfg.n_active),
        "expected_overlap_measured": float(ov.mean()),
        "overlap_standard_error": float(np.sqrt(hyper.var() / n)),
        "max_abs_pmf_error": float(np.abs(emp - pmf).max()),
        "prob_overlap_ge_1_analytic": sdr.prob_overlap_at_least(1, cfg.size, cfg.n_active),
        "prob_overlap_ge_1_measured": float(np.mean(ov >= 1)),
        "modular_expected_overlap_analytic": sdr.expected_modular_overlap(cfg.Q, cfg.K),
        "modular_expected_overlap_measured": float(mov.mean()),
        "modular_overlap_standard_error": float(np.sqrt(binom.var() / n)),
        "modular_max_abs_pmf_error": float(np.abs(memp - mpmf).max()),
    }

    with ctx.phase("plot"):
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        ks = np.arange(pmf.size)
        shown = ks[: max(int(np.flatnonzero(pmf > 1e-5).max()) + 2, 3)]
        axes[0].bar(shown, emp[shown], color="C0", alpha=0.6, label=f"measured ({n} pairs)")
        axes[0].plot(shown, pmf[shown], "o-", color="C3", label="hypergeometric")
        axes[0].set(
            xlabel="overlap (shared active units)",
            ylabel="probability",
            title=f"SDRs: {cfg.n_active} of {cfg.size} active",
        )
        axes[0].legend()
        mks = np.arange(mpmf.size)
        mshown = mks[: max(int(np.flatnonzero(mpmf > 1e-5).max()) + 2, 3)]
        axes[1].bar(mshown, memp[mshown], color="C0", alpha=0.6, label="measured")
        axes[1].plot(
            mshown, mpmf[mshown], "o-", color="C3", label=f"binomial B({cfg.Q}, 1/{cfg.K})"
        )
        axes[1].set(
            xlabel="agreeing modules",
            ylabel="probability",
            title=f"modular codes: Q={cfg.Q}, K={cfg.K}",
        )
        axes[1].legend()
        fig.tight_layout()
        ctx.save_figure(fig, "overlap_pmf")
    ctx.save_array("overlaps", sdr_overlap=ov, modular_overlap=mov)
    return metrics
