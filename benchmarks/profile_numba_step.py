"""Where the Numba kernel's time goes: CPU cycles per 1 ms step, part by part.

An instrumented copy of ``neuromem.spiking.backends.numba_sim`` is made at run time: the
source is read, counters of the CPU's cycle counter (LLVM ``readcyclecounter``, the TSC on
x86) are inserted around each part of ``_simulate``, and the copy is compiled beside the
original (the package itself is not changed). It then runs the workload of
``bench_backends.py`` (the CA3 memory, c = n = 100 by default, operations at their minimum
spacing) and reports, for the least disturbed of ``--repeat`` runs, the cycles per step of:

- ``neuron_update``: the dense update of every neuron (``_neuron_pass``);
- ``spike_collection``: finding the neurons that fired and adding their spikes to the
  post-synaptic histories;
- ``sources_and_recording``: the spike sources' spikes and the recording of all spikes;
- ``static_rows``: delivery of static synapse rows;
- ``plastic_depression_pass``: once per step and plastic projection, every post neuron's last
  spike and depression;
- ``plastic_potentiation``: per plastic row, finding the synapses with potentiation terms
  and summing them;
- ``plastic_update_and_delivery``: per plastic row, depression, clipping and delivery (for
  rows onto scattered post neurons, from a list, their potentiation too).

Also: the counts per step (neuron and source spikes, static and plastic rows, depression
passes, synapses of rows onto consecutive post neurons with potentiation terms), the
instrumented and the plain kernel's microseconds per step (their difference is what the
counters cost: reading the counter takes tens of cycles, which inflates parts called many
times per step, like ``static_rows``), and the counter's frequency, measured against
``time.perf_counter``. Spikes and weights of the instrumented copy are checked against the
plain kernel's.

    python benchmarks/profile_numba_step.py [--ms 5000] [--cues 100] [--content 100]
        [--repeat 5] [--out benchmarks/results/numba_step_profile.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import njit

from neuromem.experiments import versions
from neuromem.spiking.backends import numba_sim

HERE = Path(__file__).resolve().parent
PARTS = (
    "neuron_update",
    "spike_collection",
    "sources_and_recording",
    "static_rows",
    "plastic_depression_pass",
    "plastic_potentiation",
    "plastic_update_and_delivery",
)
COUNTS = (
    "neuron_spikes",
    "source_spikes",
    "static_rows",
    "plastic_rows",
    "depression_passes",
    "potentiated_synapses",
)
_N_PARTS = len(PARTS)

_COUNTER = """
from numba import types as _nb_types
from numba.extending import intrinsic as _nb_intrinsic
from llvmlite import ir as _ll_ir


@_nb_intrinsic
def _cycles(typingctx):
    def codegen(context, builder, signature, args):
        fnty = _ll_ir.FunctionType(_ll_ir.IntType(64), [])
        fn = builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=fnty)
        return builder.call(fn, [])

    return _nb_types.uint64(), codegen


PROF = np.zeros(32, np.uint64)
"""

# (anchor in the kernel source, replacement); every anchor must occur exactly once. Slots of
# `prof`: 0-6 the parts (PARTS order), 8-13 the counts (COUNTS order).
_EDITS = (
    ("from numba import njit\n", "from numba import njit\n" + _COUNTER),
    ("    n_spk,\n):", "    n_spk,\n    prof,\n):"),
    ("spk_t, spk_id, 0,\n            )", "spk_t, spk_id, 0, PROF,\n            )"),
    (
        "                n_sp = _neuron_pass(",
        "                c_a = _cycles()\n                n_sp = _neuron_pass(",
    ),
    (
        "                if n_sp == 0:\n                    continue\n",
        "                c_b = _cycles()\n                prof[0] += c_b - c_a\n"
        "                prof[8] += n_sp\n"
        "                if n_sp == 0:\n                    continue\n",
    ),
    (
        "                                n, t, lut_minus, post_proj[n], post_cnt_m1, post_times, "
        "post_traces\n                            )\n",
        "                                n, t, lut_minus, post_proj[n], post_cnt_m1, post_times, "
        "post_traces\n                            )\n"
        "                prof[1] += _cycles() - c_b\n",
    ),
    (
        "        k = t - t0\n",
        "        c_s = _cycles()\n        k = t - t0\n"
        "        prof[9] += src_ptr[k + 1] - src_ptr[k]\n",
    ),
    (
        "        # deliver\n",
        "        prof[2] += _cycles() - c_s\n        # deliver\n",
    ),
    (
        "                p = row_proj[r]\n",
        "                c_r = _cycles()\n                p = row_proj[r]\n",
    ),
    (
        "                            ring[rec, dslot, syn_post[s]] += syn_w[s]\n"
        "                    continue\n",
        "                            ring[rec, dslot, syn_post[s]] += syn_w[s]\n"
        "                    prof[3] += _cycles() - c_r\n                    prof[10] += 1\n"
        "                    continue\n",
    ),
    (
        "                if proj_dep_t[p] != t:\n",
        "                prof[11] += 1\n                c_d = _cycles()\n"
        "                if proj_dep_t[p] != t:\n                    prof[12] += 1\n",
    ),
    (
        "                amp_p = a_plus[p] * last_tr\n",
        "                c_p = _cycles()\n                prof[4] += c_p - c_d\n"
        "                amp_p = a_plus[p] * last_tr\n",
    ),
    (
        "                            syn_w[s_lo + k] = w\n"
        "                        pot_buf[k] = pot\n",
        "                            syn_w[s_lo + k] = w\n"
        "                            prof[13] += 1\n"
        "                        pot_buf[k] = pot\n"
        "                    c_u = _cycles()\n                    prof[5] += c_u - c_p\n",
    ),
    (
        "                        ring[rec, dslot, u0 + k] += w\n                    continue\n",
        "                        ring[rec, dslot, u0 + k] += w\n"
        "                    prof[6] += _cycles() - c_u\n                    continue\n",
    ),
    (
        "                    syn_w[s] = w\n                    ring[rec, dslot, post] += w\n",
        "                    syn_w[s] = w\n                    ring[rec, dslot, post] += w\n"
        "                prof[6] += _cycles() - c_p\n",
    ),
)


def instrumented_module():
    """Compile-ready copy of ``numba_sim`` with cycle counters (module object)."""
    src = Path(numba_sim.__file__).read_text()
    for anchor, repl in _EDITS:
        n = src.count(anchor)
        if n != 1:
            raise RuntimeError(
                f"the kernel changed: anchor {anchor.strip()[:60]!r} found {n} times "
                "(update _EDITS in benchmarks/profile_numba_step.py)"
            )
        src = src.replace(anchor, repl)
    src = src.replace("from ..network", "from neuromem.spiking.network")
    src = src.replace("from ..results", "from neuromem.spiking.results")
    src = src.replace(
        "from . import register_backend", "from neuromem.spiking.backends import register_backend"
    )
    src = src.replace('@register_backend("numba")\n', "")
    src = src.replace("cache=True", "cache=False")
    tmp = Path(tempfile.mkdtemp(prefix="neuromem_prof_"))
    path = tmp / "numba_sim_profiled.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("numba_sim_profiled", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _workload_network(c, n, ms):
    spec = importlib.util.spec_from_file_location("bench_backends", HERE / "bench_backends.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.workload_network(c, n, ms)


def _timed_run(sim_cls, net, ms):
    sim = sim_cls(net)
    sim.run(1.0)
    ptr, ids = sim._source_schedule(1, ms)
    t0 = time.perf_counter()
    sim._step_range(1, ms, ptr, ids)
    return time.perf_counter() - t0, sim


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "results" / "numba_step_profile.json")
    ap.add_argument("--cues", type=int, default=100)
    ap.add_argument("--content", type=int, default=100)
    ap.add_argument("--ms", type=int, default=5000, help="simulated ms (default 5000)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each kernel; the fastest counts")
    args = ap.parse_args(argv)
    for name in ("cues", "content", "ms", "repeat"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be >= 1")
    c, n, ms = args.cues, args.content, args.ms
    net, n_ops = _workload_network(c, n, ms)
    prof_mod = instrumented_module()
    _timed_run(prof_mod.NumbaSimulator, net, min(ms, 50))  # compile both
    _timed_run(numba_sim.NumbaSimulator, net, min(ms, 50))
    best_plain, best_prof, counters = np.inf, np.inf, None
    for _ in range(args.repeat):
        el, plain = _timed_run(numba_sim.NumbaSimulator, net, ms)
        best_plain = min(best_plain, el)
        prof_mod.PROF[:] = 0
        el, prof = _timed_run(prof_mod.NumbaSimulator, net, ms)
        if el < best_prof:
            best_prof, counters = el, prof_mod.PROF.astype(float).copy()
    same = all(
        np.array_equal(a, b)
        for lab in net.populations
        for a, b in zip(plain.spikes(lab), prof.spikes(lab))
    ) and all(
        np.array_equal(plain.weights(lab), prof.weights(lab), equal_nan=True)
        for lab in net.projections
    )
    # the counter's frequency: cycles over a known wall time
    read = njit(lambda: prof_mod._cycles())
    read()
    c0, t0 = int(read()), time.perf_counter()
    time.sleep(0.2)
    c1, t1 = int(read()), time.perf_counter()
    hz = (c1 - c0) / (t1 - t0)
    steps = ms - 1
    parts = {p: counters[i] / steps for i, p in enumerate(PARTS)}
    counts = {k: counters[8 + i] / steps for i, k in enumerate(COUNTS)}
    out = {
        "benchmark": "numba_step_profile",
        "workload": {"n_cues": c, "n_content": n, "ms": ms, "n_ops": n_ops},
        "repeat": args.repeat,
        "counter_hz": hz,
        "plain_us_per_step": best_plain / steps * 1e6,
        "instrumented_us_per_step": best_prof / steps * 1e6,
        "cycles_per_step": parts,
        "cycles_per_step_total_of_parts": float(sum(parts.values())),
        "counts_per_step": counts,
        "same_spikes_and_weights": bool(same),
        "versions": versions(),
    }
    print(
        f"plain kernel {out['plain_us_per_step']:.2f} us/step, instrumented "
        f"{out['instrumented_us_per_step']:.2f} us/step, counter {hz / 1e9:.2f} GHz"
    )
    for p, v in parts.items():
        print(f"  {p:<30} {v:8.0f} cycles/step  ({v / hz * 1e6:.3f} us)")
    print("  per step: " + ", ".join(f"{k} {v:.1f}" for k, v in counts.items()))
    print(f"  same spikes and weights as the plain kernel: {same}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
