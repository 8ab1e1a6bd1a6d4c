"""Make the CA3 resources table (cues and content bits -> neurons, synapses, cores, chips).

Every row comes from a virtual-board mapping made here with sPyNNaker (no hardware needed):
the CA3 memory is built with ``pyNN.spiNNaker`` and mapped onto a virtual SpiNN-5 board.
Populations of more than 254 neurons (sPyNNaker's longest plastic row) are cut into slices
(``neuromem.spiking.split``); the table gives the slices of the largest population and the
seconds each mapping took (on the machine that made it).

Usage::

    python hardware/make_resources_table.py [--sizes 5x10 16x6 ...] [--out DIR] [--merge]

``--merge`` keeps the rows of ``DIR/resources.json`` for sizes not given (so that the large
sizes can be mapped one at a time).

Writes ``DIR/resources.json`` and ``DIR/resources.md`` (default DIR: ``hardware/``) and
prints the Markdown table (pasted into ``hardware/README.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = [
    "5x10",
    "16x6",
    "16x32",
    "32x64",
    "64x128",
    "100x100",
    "128x128",
    "100x200",
    "256x256",
    "300x300",
    "512x512",
    "1000x1000",
]


def _size(text: str) -> tuple[int, int]:
    try:
        c, n = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CxN (e.g. 5x10), got {text!r}") from None
    if c < 1 or n < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return c, n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=_size, default=[_size(s) for s in DEFAULT_SIZES])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--merge", action="store_true", help="keep DIR's rows of other sizes")
    args = ap.parse_args(argv)
    from neuromem.presets import spinnaker_template

    home = Path(tempfile.mkdtemp(prefix="neuromem_vboard_home_"))
    (home / ".spynnaker.cfg").write_text(spinnaker_template("virtual-board"))
    os.environ["HOME"] = str(home)  # sPyNNaker reads ~/.spynnaker.cfg

    from neuromem.hardware import ca3_counts, map_ca3

    rows = []
    old = args.out / "resources.json"
    if args.merge and old.is_file():
        keep = json.loads(old.read_text())
        rows = [r for r in keep if (r["n_cues"], r["n_content"]) not in args.sizes]
    for c, n in args.sizes:
        t0 = time.perf_counter()
        wd = tempfile.mkdtemp(prefix="neuromem_map_")
        try:
            m = map_ca3(c, n, run_ms=10.0, workdir=wd)
        except Exception as exc:  # noqa: BLE001 - a size that does not map is a result
            m = dict(ca3_counts(c, n), n_cues=c, n_content=n, cores=None, chips=None)
            m["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        finally:
            shutil.rmtree(wd, ignore_errors=True)
        m["map_seconds"] = round(time.perf_counter() - t0, 2)
        rows.append(m)
        print(
            f"c={c} n={n}: {m['cores']} cores on {m['chips']} chip(s), {m['map_seconds']} s",
            flush=True,
        )
    rows.sort(key=lambda r: (r["n_cues"] * r["n_content"], r["n_cues"]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "resources.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "| cues c | content n | neurons | spike sources | synapses | plastic | slices "
        "| cores | chips | map s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in rows:
        where = f"{m['cores']} | {m['chips']}" if m["cores"] is not None else "does not map | -"
        slices = max((m.get("slices") or {"": 1}).values())
        lines.append(
            f"| {m['n_cues']} | {m['n_content']} | {m['neurons']} | {m['sources']} | "
            f"{m['synapses']} | {m['plastic_synapses']} | {slices} | {where} | "
            f"{m.get('map_seconds', '')} |"
        )
    notes = sorted({m["error"] for m in rows if "error" in m})
    if notes:
        lines.append("")
        lines += [f"does not map: {e}" for e in notes]
    table = "\n".join(lines) + "\n"
    (args.out / "resources.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
