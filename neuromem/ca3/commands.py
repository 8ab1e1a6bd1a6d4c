"""``neuromem ca3 replay|compare|schedule``: trace replay against hardware recordings, and
schedules of operations run in one simulation."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from neuromem.errors import ConfigError


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay the input rows of a recording and write every population's spikes."""
    from neuromem.spiking import backend_names

    from .trace import check_output, read_trace, replay, write_trace

    if args.backend not in backend_names():
        raise ConfigError(
            f"--backend: unknown spiking backend {args.backend!r}; known: "
            f"{', '.join(backend_names())}"
        )
    check_output(args.out)
    trace = read_trace(args.trace)
    out = replay(
        trace,
        n_cues=args.cues,
        n_content=args.content,
        backend=args.backend,
        duration=args.duration,
    )
    write_trace(args.out, out)
    n = sum(len(t) for t, _ in out.spikes.values())
    print(f"wrote {n} spikes to {args.out}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare two traces; exit status 1 on any difference."""
    from .trace import compare, read_trace

    res = compare(read_trace(args.a), read_trace(args.b))
    print(res.report())
    return 0 if res.identical else 1


def _check_out_dir(path: str) -> Path:
    """``--out`` as a folder that exists or can be made, writable (checked before any work)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"--out: {p} exists and is not a folder")
    parent = p if p.is_dir() else p.parent
    if not parent.is_dir():
        raise ConfigError(f"--out: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"--out: folder {parent} is not writable")
    return p


def _positive(name: str, val) -> int:
    if val is None or val < 1:
        raise ConfigError(f"{name}: expected a positive integer, got {val!r}")
    return int(val)


def cmd_schedule(args: argparse.Namespace) -> int:
    """Run a schedule CSV in one simulation; write operations.csv and spikes.csv to --out."""
    from neuromem.spiking import backend_names

    from .memory import CA3Memory
    from .network import check_network_size
    from .schedule import read_schedule, write_results

    c = _positive("--cues", args.cues)
    n = _positive("--content", args.content)
    if args.read_lag < 0:
        raise ConfigError(f"--read-lag: expected an integer >= 0, got {args.read_lag}")
    if args.backend not in backend_names():
        raise ConfigError(
            f"--backend: unknown spiking backend {args.backend!r}; known: "
            f"{', '.join(backend_names())}"
        )
    try:
        check_network_size(c, n, "--cues, --content")
    except ValueError as e:
        raise ConfigError(str(e)) from None
    out = _check_out_dir(args.out)
    ops = read_schedule(args.file, c, n, read_lag=args.read_lag)
    mem = CA3Memory(c, n, backend=args.backend, read_lag=args.read_lag)
    done = mem.run_schedule(ops)
    trace = mem.trace()
    ok = write_results(out, done, trace)
    n_spikes = len(trace.rows())
    print(
        f"{len(done)} operations in one simulation of {mem.time:g} ms on {args.backend}: "
        f"{ok} answered as an ideal memory would; {n_spikes} spikes; wrote "
        f"{out / 'operations.csv'} and {out / 'spikes.csv'}"
    )
    return 0


def add_commands(subparsers) -> None:
    """Add ``neuromem ca3 replay``, ``neuromem ca3 compare`` and ``neuromem ca3 schedule``."""
    p = subparsers.add_parser(
        "ca3",
        help="CA3 spiking memory: replay and compare hardware traces, run schedules",
        description="CA3 content-addressable memory: trace replay for checks against hardware.",
    )
    sub = p.add_subparsers(dest="ca3_command", metavar="COMMAND")
    sub.required = True

    sp = sub.add_parser(
        "replay",
        help="simulate the INcue/INcont rows of a recording; write all spikes (same CSV format)",
    )
    sp.add_argument("--trace", required=True, metavar="IN.csv", help="recording to replay")
    sp.add_argument("--out", required=True, metavar="OUT.csv", help="where to write the spikes")
    sp.add_argument("--backend", default="numba", metavar="NAME", help="backend (default numba)")
    sp.add_argument("--cues", type=int, metavar="C", help="number of cues (default: from trace)")
    sp.add_argument(
        "--content", type=int, metavar="N", help="number of content bits (default: from trace)"
    )
    sp.add_argument(
        "--duration",
        type=float,
        metavar="MS",
        help="simulated time (default: last input spike + 10 ms)",
    )
    sp.set_defaults(func=cmd_replay)

    sp = sub.add_parser(
        "compare",
        help="per-population spike counts and mismatches; exit 1 on any difference",
    )
    sp.add_argument("a", metavar="A.csv")
    sp.add_argument("b", metavar="B.csv")
    sp.set_defaults(func=cmd_compare)

    sp = sub.add_parser(
        "schedule",
        help="run a schedule of learns and recalls (CSV t_ms,op,cue,content) in one simulation",
        description="Run every operation of FILE in one simulation (one build, one run, one "
        "end) and decode each from the output spikes. Writes DIR/operations.csv (each "
        "operation, what the output answered, what an ideal memory answers, ok) and "
        "DIR/spikes.csv (time_ms,population,neuron, as the hardware recordings).",
    )
    sp.add_argument("file", metavar="FILE.csv", help="schedule: t_ms,op,cue,content")
    sp.add_argument("--cues", type=int, required=True, metavar="C", help="number of cues")
    sp.add_argument(
        "--content", type=int, required=True, metavar="N", help="number of content bits"
    )
    sp.add_argument("--backend", default="numba", metavar="NAME", help="backend (default numba)")
    sp.add_argument(
        "--read-lag",
        type=int,
        default=0,
        metavar="MS",
        help="extra ms after each operation's minimum spacing (default 0; pynn:brian2 needs 3)",
    )
    sp.add_argument("--out", required=True, metavar="DIR", help="folder for the two CSV files")
    sp.set_defaults(func=cmd_schedule)
