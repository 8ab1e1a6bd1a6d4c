"""``neuromem ca3 replay|compare``: trace replay against hardware recordings."""

from __future__ import annotations

import argparse

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


def add_commands(subparsers) -> None:
    """Add ``neuromem ca3 replay`` and ``neuromem ca3 compare``."""
    p = subparsers.add_parser(
        "ca3",
        help="CA3 spiking memory: replay and compare hardware traces",
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
