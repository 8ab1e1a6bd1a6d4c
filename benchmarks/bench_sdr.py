"""Benchmark: pairwise overlap of many SDRs, Numba kernel against a NumPy baseline.

Baseline: dense boolean codes and one integer matrix product (``A @ B.T``), the obvious
vectorised NumPy way. Both compute the same matrix (checked). Writes JSON.

    python benchmarks/bench_sdr.py [--out benchmarks/results/sdr.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neuromem import sdr
from neuromem.experiments import versions


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="benchmarks/results/sdr.json")
    p.add_argument("--n-codes", type=int, default=2000)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--n-active", type=int, default=40)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)

    rng = np.random.default_rng(0)
    codes = [sdr.SDR.random(args.size, args.n_active, rng) for _ in range(args.n_codes)]
    ind, lengths, _ = sdr.stack_sdrs(codes)
    dense = np.stack([c.to_dense(dtype=np.float32) for c in codes])

    t0 = time.perf_counter()
    sdr._pairwise_overlap_kernel(ind[:2], lengths[:2], ind[:2], lengths[:2])
    compile_s = time.perf_counter() - t0

    t_numba, m_numba = _best(
        lambda: sdr._pairwise_overlap_kernel(ind, lengths, ind, lengths), args.repeat
    )
    t_numpy, m_numpy = _best(lambda: dense @ dense.T, args.repeat)
    assert np.array_equal(m_numba, m_numpy.astype(np.int64))
    pairs = args.n_codes**2
    result = {
        "benchmark": "sdr-pairwise-overlap",
        "params": vars(args),
        "compile_seconds": compile_s,
        "numba_seconds": t_numba,
        "baseline": "numpy dense float32 matrix product (BLAS, 1 thread)",
        "baseline_seconds": t_numpy,
        "numba_pairs_per_second": pairs / t_numba,
        "baseline_pairs_per_second": pairs / t_numpy,
        "speedup_vs_baseline": t_numpy / t_numba,
        "versions": versions(),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "versions"}, indent=2))


if __name__ == "__main__":
    main()
