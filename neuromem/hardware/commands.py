"""``neuromem hardware check|template``: the sPyNNaker configuration, a board check, CA3 mapping.

``neuromem hardware template NAME [--out FILE]`` prints (or writes) one of the configuration
templates shipped in :mod:`neuromem.presets` (``virtual-board``, ``spinn3``, ``spinn5``,
``spalloc``), so a wheel install has them too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path

from neuromem.errors import ConfigError


def _warnings_summary_now() -> None:
    """Have sPyNNaker print its summary of warnings now (into the log) instead of when
    Python exits, where it would reach the terminal after the check's own output."""
    import atexit

    with contextlib.suppress(Exception):
        from spinn_utilities.log import FormatAdapter

        FormatAdapter.atexit_handler()
        atexit.unregister(FormatAdapter.atexit_handler)


def cmd_check(args: argparse.Namespace) -> int:
    """Describe the sPyNNaker configuration, check a named board, map the CA3 memory."""
    from neuromem.spiking.backends.env import output_to

    from . import check_configured_board, map_ca3, using_cfg

    if args.timeout <= 0 or args.timeout > 30:
        raise ConfigError(f"--timeout: expected seconds in (0, 30], got {args.timeout}")
    for name, val in (("--cues", args.cues), ("--content", args.content)):
        if val < 1:
            raise ConfigError(f"{name}: expected a positive integer, got {val}")
    from neuromem.spiking.backends.pynn_sim import QUIRKS

    row = QUIRKS["spiNNaker"].max_row
    if args.slice_size is not None and not 1 <= args.slice_size <= row:
        raise ConfigError(
            f"--slice-size: expected neurons in [1, {row}] (sPyNNaker maps plastic rows of at "
            f"most {row} synapses), got {args.slice_size}"
        )
    info = check_configured_board(args.cfg, timeout=args.timeout)
    if info["path"] is None:
        raise ConfigError(
            "no sPyNNaker configuration: write one with `neuromem hardware template NAME "
            "--out ~/.spynnaker.cfg` or pass --cfg FILE"
        )
    print(f"configuration: {info['path']}")
    if info.get("local"):
        print(f"read on top of it: {info['local']}")
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
        log = None if args.verbose else wd / "spinnaker.log"
        with output_to(log):
            m = map_ca3(args.cues, args.content, workdir=wd, board_timeout=args.timeout,
                        slice_size=args.slice_size, quiet=not args.verbose)  # fmt: skip
            if log is not None:
                _warnings_summary_now()
    print(
        f"CA3 memory c={m['n_cues']} n={m['n_content']}: {m['neurons']} neurons, "
        f"{m['sources']} spike sources, {m['synapses']} synapses ({m['plastic_synapses']} "
        f"plastic) -> {m['cores']} cores on {m['chips']} chip(s) "
        f"(+{m['system_cores']} system cores; machine of {m['machine_chips']} chips)"
    )
    cut = {k: v for k, v in (m.get("slices") or {}).items() if v > 1}
    if cut:
        why = "" if args.slice_size else " (sPyNNaker's longest plastic row)"
        print(
            f"split: populations of more than {m['slice_size']} neurons{why} cut into slices: "
            + ", ".join(f"{k} {v}" for k, v in cut.items())
        )
    print(f"sPyNNaker reports: {wd / 'reports'}")
    if log is not None:
        import re

        text = log.read_text(errors="replace") if log.is_file() else ""
        found = re.search(r"!WARNING: (\d+) log messages", text)
        warned = f"; {found.group(1)} warnings" if found else ""
        print(f"sPyNNaker's output: {log}{warned} (--verbose shows it)")
    if info["kind"] == "virtual":
        print("virtual board: mapped only, no spikes come back")
    else:
        print(f"spikes returned: {m['spikes']}")
    if args.json:
        print(json.dumps({"config": info, "mapping": m}, default=str))
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """Print a shipped sPyNNaker template, or write it to ``--out`` (never over a file)."""
    import tempfile

    from neuromem.presets import spinnaker_template

    text = spinnaker_template(args.name)
    if args.out is None:
        print(text, end="")
        return 0
    out = Path(os.path.expanduser(args.out))
    if out.exists() and not args.force:
        raise ConfigError(f"--out: {out} exists; pass --force to replace it")
    if not out.parent.is_dir():
        raise ConfigError(f"--out: folder {out.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".neuromem-", suffix=".cfg")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    print(f"wrote {out} (template {args.name}); edit machine_name etc. as its comments say")
    return 0


def add_commands(subparsers) -> None:
    """Add ``neuromem hardware check`` and ``neuromem hardware template``."""
    p = subparsers.add_parser(
        "hardware",
        help="SpiNNaker deployment: check the configuration and map the CA3 memory",
        description="SpiNNaker boards: configuration templates, check, CA3 mapping.",
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
        help="sPyNNaker cfg to use alone (default: ~/.spynnaker.cfg, with ./spynnaker.cfg "
        "read on top of it as sPyNNaker does)",
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
    sp.add_argument(
        "--slice-size",
        type=int,
        metavar="K",
        help="cut populations of more than K neurons into slices of their own (default and "
        "most: 254, sPyNNaker's longest plastic row); smaller slices spread a memory over "
        "more cores",
    )
    sp.add_argument("--no-map", action="store_true", help="only describe and check")
    sp.add_argument("--json", action="store_true", help="also print the result as JSON")
    sp.add_argument(
        "--verbose",
        action="store_true",
        help="show sPyNNaker's own output while mapping (default: written to a log file "
        "in its work folder)",
    )
    sp.set_defaults(func=cmd_check)

    from neuromem.presets import spinnaker_templates

    sp = sub.add_parser(
        "template",
        help="print or write a shipped sPyNNaker configuration template",
        description="Print a sPyNNaker configuration template, or write it with --out "
        "(e.g. --out ~/.spynnaker.cfg).",
    )
    sp.add_argument("name", metavar="NAME", help="one of: " + ", ".join(spinnaker_templates()))
    sp.add_argument("--out", metavar="FILE", help="write here instead of printing")
    sp.add_argument("--force", action="store_true", help="replace an existing --out file")
    sp.set_defaults(func=cmd_template)
