"""``neuromem hardware check [--cfg FILE]``: what the configuration points at; map CA3."""

from __future__ import annotations

import argparse
import json

from neuromem.errors import ConfigError


def cmd_check(args: argparse.Namespace) -> int:
    """Describe the sPyNNaker configuration, check a named board, map the CA3 memory."""
    from . import check_configured_board, map_ca3, using_cfg

    if args.timeout <= 0 or args.timeout > 30:
        raise ConfigError(f"--timeout: expected seconds in (0, 30], got {args.timeout}")
    for name, val in (("--cues", args.cues), ("--content", args.content)):
        if val < 1:
            raise ConfigError(f"{name}: expected a positive integer, got {val}")
    info = check_configured_board(args.cfg, timeout=args.timeout)
    if info["path"] is None:
        raise ConfigError(
            "no sPyNNaker configuration: copy a template from hardware/ to ~/.spynnaker.cfg "
            "or pass --cfg FILE"
        )
    print(f"configuration: {info['path']}")
    print(f"target: {info['target']}")
    if info.get("time_scale_factor"):
        print(f"time_scale_factor: {info['time_scale_factor']:g}")
    if "reply" in info:
        print(f"board answered: {info['reply']}")
    if info["kind"] is None:
        raise ConfigError(f"{info['path']}: {info['target']}")
    if args.no_map:
        return 0
    with using_cfg(args.cfg if args.cfg else None) as wd:
        m = map_ca3(args.cues, args.content, workdir=wd, board_timeout=args.timeout)
    print(
        f"CA3 memory c={m['n_cues']} n={m['n_content']}: {m['neurons']} neurons, "
        f"{m['sources']} spike sources, {m['synapses']} synapses ({m['plastic_synapses']} "
        f"plastic) -> {m['cores']} cores on {m['chips']} chip(s) "
        f"(+{m['system_cores']} system cores; machine of {m['machine_chips']} chips)"
    )
    print(f"sPyNNaker reports: {wd / 'reports'}")
    if info["kind"] == "virtual":
        print("virtual board: mapped only, no spikes come back")
    else:
        print(f"spikes returned: {m['spikes']}")
    if args.json:
        print(json.dumps({"config": info, "mapping": m}, default=str))
    return 0


def add_commands(subparsers) -> None:
    """Add ``neuromem hardware check``."""
    p = subparsers.add_parser(
        "hardware",
        help="SpiNNaker deployment: check the configuration and map the CA3 memory",
        description="SpiNNaker boards: configuration check and CA3 mapping (see hardware/).",
    )
    sub = p.add_subparsers(dest="hardware_command", metavar="COMMAND")
    sub.required = True
    sp = sub.add_parser(
        "check",
        help="say what the sPyNNaker cfg points at, check a named board, map the CA3 memory",
    )
    sp.add_argument(
        "--cfg",
        metavar="FILE",
        help="sPyNNaker cfg to use (default: ./spynnaker.cfg or ~/.spynnaker.cfg)",
    )
    sp.add_argument("--cues", type=int, default=5, metavar="C", help="CA3 cues (default 5)")
    sp.add_argument(
        "--content", type=int, default=10, metavar="N", help="CA3 content bits (default 10)"
    )
    sp.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to wait for a board to answer (default 5, at most 30)",
    )
    sp.add_argument("--no-map", action="store_true", help="only describe and check")
    sp.add_argument("--json", action="store_true", help="also print the result as JSON")
    sp.set_defaults(func=cmd_check)
