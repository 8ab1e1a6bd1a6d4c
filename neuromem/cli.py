"""The ``neuromem`` command.

::

    neuromem list
    neuromem run NAME [--set key=value ...] [--config FILE.toml] [--backend NAME]
                      [--data DIR] [--seed N] [--out DIR] [--no-progress]
                      [--figure-format png|svg|pdf]
    neuromem sweep NAME [--grid KEY=V1,V2,...] [--seeds 0-9] [--set key=value ...]
                        [--scheduler tcp://HOST:PORT|local] [--workers N] --out DIR
    neuromem demo [--out DIR] [--data DIR]
    neuromem show NAME [--config PRESET] [--set key=value ...] [--json]
    neuromem info

Problems the user can fix (unknown experiment, unknown ``--set`` key, a value of the wrong
type, a missing data folder) end with exit status 2 and one line on standard error.

Subpackages add their own commands by providing a ``commands`` module with a function
``add_commands(subparsers)`` (for example ``neuromem ca3 replay``).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import os
import pkgutil
import signal
import sys
import time
import zipfile
from pathlib import Path

from neuromem.errors import ConfigError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message):  # noqa: D401
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parse_set(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set: expected key=value, got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"--set: empty key in {item!r}")
        out[key] = value
    return out


def _summary_line(key, value) -> str:
    if isinstance(value, float):
        return f"  {key:<34} {value:.6g}"
    if isinstance(value, list):
        shown = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in value[:8])
        more = ", ..." if len(value) > 8 else ""
        return f"  {key:<34} [{shown}{more}]"
    return f"  {key:<34} {value}"


def _print_result(result: dict, out: Path | None) -> None:
    print(f"{result['experiment']} (seed {result['seed']}, backend {result['backend']})")
    for k, v in result["metrics"].items():
        print(_summary_line(k, v))
    t = result["timings"]
    phases = ", ".join(f"{k} {v:.2f}s" for k, v in t.items() if k != "total")
    print(f"  time: {t.get('total', 0.0):.2f}s" + (f" ({phases})" if phases else ""))
    if out is not None:
        print(f"  results: {out / 'result.json'}")
        for f in result.get("figures", []):
            print(f"  figure:  {out / f}")


def cmd_list(args) -> int:
    from neuromem import experiments

    exps = experiments.experiments()
    width = max(len(e.name) for e in exps)
    for e in exps:
        tags = []
        if e.needs_data:
            tags.append("needs --data")
        if e.backends != ("numba",):
            tags.append("backends: " + ",".join(e.backends))
        tag = f"  [{'; '.join(tags)}]" if tags else ""
        print(f"{e.name:<{width}}  {e.description}{tag}")
    return 0


def cmd_run(args) -> int:
    from neuromem import experiments

    overrides = _parse_set(args.set)
    out = Path(args.out) if args.out else Path("results") / args.name
    result = experiments.run(
        args.name,
        out=out,
        config_file=args.config,
        backend=args.backend,
        data=args.data,
        seed=args.seed,
        progress=not args.no_progress,
        overrides=overrides,
        figure_format=args.figure_format,
    )
    _print_result(result, out)
    return 0


def cmd_sweep(args) -> int:
    from neuromem.experiments.sweep import parse_grid, sweep

    out = Path(args.out)
    rows = sweep(args.name, out=out, grid=parse_grid(args.grid), seeds=args.seeds,
                 overrides=_parse_set(args.set), config_file=args.config, data=args.data,
                 backend=args.backend, scheduler=args.scheduler, workers=args.workers,
                 figure_format=args.figure_format, progress=not args.no_progress)  # fmt: skip
    counts = {st: sum(r["status"] == st for r in rows) for st in ("ran", "skipped", "failed")}
    print(f"sweep {args.name}: {len(rows)} runs: {counts['ran']} ran, {counts['skipped']} "
          f"skipped (finished before with the same config and seed), "
          f"{counts['failed']} failed")  # fmt: skip
    for name in ("summary.csv", "summary.png", "sweep.json"):
        print(f"  {out / name}")
    failed = [r for r in rows if r["status"] == "failed"]
    for r in failed:
        print(f"  FAILED {r['point']} seed {r['seed']}: {r['error']}")
    if failed:
        print(f"neuromem: error: {len(failed)} of {len(rows)} runs failed (tracebacks in "
              f"{out / 'sweep.json'}); rerun the same command to retry them",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def cmd_demo(args) -> int:
    import tempfile

    from neuromem import experiments
    from neuromem.datasets import find_data_dir
    from neuromem.errors import BackendUnavailableError, DataNotFoundError
    from neuromem.experiments import check_out

    out_root = check_out(args.out)
    # a folder the user names must exist (checked before any experiment runs)
    data, source = find_data_dir(args.data)
    ran, skipped, failed, standin = [], [], [], []
    tmp = None  # the offline stand-ins, generated once when an experiment needs them

    def standin_data():
        nonlocal tmp
        if tmp is None:
            from neuromem.datasets.standins import write_standins

            tmp = tempfile.TemporaryDirectory(prefix="neuromem-standin-")
            print("   generating offline stand-in data sets ...", flush=True)
            write_standins(tmp.name, seed=args.seed)
        return Path(tmp.name)

    def run(exp, data_dir, note=None):
        return experiments.run(exp.name, out=out_root / exp.name, data=data_dir,
                               seed=args.seed, progress=not args.no_progress,
                               overrides=exp.demo_overrides, figure_format=args.figure_format,
                               data_note=note)  # fmt: skip

    try:
        for exp in experiments.experiments():
            if not exp.demo:
                continue
            print(f"== {exp.name}", flush=True)
            t0 = time.perf_counter()
            try:
                try:
                    if not exp.needs_data:
                        result = run(exp, None)
                    elif data is None:
                        raise DataNotFoundError("no data folder")
                    else:
                        result = run(exp, data)
                except DataNotFoundError as e:
                    if not exp.needs_data:
                        raise
                    # the real data set is absent: run on a generated stand-in, and say so
                    from neuromem.datasets.standins import NOTE

                    hint = " ".join(f"neuromem data fetch {d};" for d in exp.data_sets[:1])
                    print(f"   real data not found ({_one_line(e)}): running on an {NOTE}; "
                          f"for the real data: {hint.rstrip(';')}", flush=True)  # fmt: skip
                    result = run(exp, standin_data(), note=NOTE)
                    standin.append((exp.name, hint.rstrip(";")))
            except BackendUnavailableError as e:
                # an optional backend (torch) not installed: skip it, run the others
                print(f"   skipped: {e}", flush=True)
                skipped.append((exp.name, str(e)))
                continue
            except USER_ERRORS as e:
                # a corrupt data file, say: this experiment fails, the others still run
                if os.environ.get("NEUROMEM_DEBUG"):
                    raise
                print(f"   failed: {_one_line(e)}", flush=True)
                failed.append((exp.name, _one_line(e)))
                continue
            _print_result(result, out_root / exp.name)
            ran.append((exp.name, time.perf_counter() - t0))
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f"\n{len(ran)} demo experiments ran; results under {out_root.resolve()}/")
    if source is not None:
        print(f"  data: {data} ({source})")
    marks = dict(standin)
    for name, secs in ran:
        tag = "  [offline stand-in data, not the real set]" if name in marks else ""
        print(f"  {name:<24} {secs:7.1f}s  {out_root / name / 'result.json'}{tag}")
    for name, why in skipped:
        print(f"  {name:<24} skipped: {why}")
    for name, why in failed:
        print(f"  {name:<24} FAILED: {why}")
    if standin:
        cmds = sorted({c for _, c in standin if c})
        print(f"  stand-in data were used for {', '.join(n for n, _ in standin)}; the real data "
              f"sets: {'; '.join(cmds)} (then rerun)")  # fmt: skip
    if failed:
        print(f"neuromem: error: {len(failed)} demo experiment(s) failed: "
              f"{', '.join(n for n, _ in failed)}", file=sys.stderr)  # fmt: skip
        return 2
    return 0


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v) if not isinstance(v, str) else repr(v)


def resolved_config(name: str, config_file=None, overrides=None):
    """``(experiment, config, source)`` for ``neuromem show NAME``.

    ``NAME`` is an experiment (its defaults, then ``config_file`` and ``overrides``) or, when
    no experiment has that name, a preset (its experiment's defaults updated by the preset).
    """
    from neuromem import experiments, presets
    from neuromem.config import resolve_config

    layers, source = [], "defaults"
    if name in experiments.names():
        exp = experiments.get(name)
    elif name in presets.names() or str(name).endswith(".toml"):
        if config_file is not None:
            raise ConfigError("--config: NAME is already a preset; give an experiment name")
        p = presets.load(name, argument="NAME")
        if p.experiment is None:
            raise ConfigError(f"NAME: preset {p.source} names no experiment")
        exp = experiments.get(p.experiment)
        layers.append(p.config)
        source = f"preset {p.source}"
    else:
        raise ConfigError(
            f"NAME: no experiment or preset called {name!r}; experiments: "
            f"{', '.join(experiments.names())}; presets: {', '.join(presets.names())}"
        )
    if config_file is not None:
        p = presets.load(config_file)
        if p.experiment is not None and p.experiment != exp.name:
            raise ConfigError(f"--config: preset is for {p.experiment!r}, not {exp.name!r}")
        layers.append(p.config)
        source = f"preset {p.source}"
    if overrides:
        layers.append(overrides)
        source += " + --set"
    return exp, resolve_config(exp.config, *layers, experiment=exp.name), source


def cmd_show(args) -> int:
    from neuromem.config import field_docs, leaves, plain

    exp, cfg, source = resolved_config(args.name, args.config, _parse_set(args.set))
    rows = []
    for lf in leaves(cfg):
        default = lf.default
        rows.append(
            {
                "key": lf.path,
                "value": plain(lf.value),
                "default": None if default is dataclasses.MISSING else plain(default),
                "owner": type(lf.owner).__name__,
                "doc": field_docs(type(lf.owner)).get(lf.name, ""),
            }
        )
    if args.json:
        print(json.dumps({"experiment": exp.name, "source": source, "fields": rows}, indent=2))
        return 0
    print(f"{exp.name}: {exp.description}")
    print(f"config {exp.config.__name__} from {source}; '*': value differs from the default")
    print("of the field's owner. Set any field with --set KEY=VALUE (dotted path, or the last")
    print("part of it when only one field ends so).")
    width = max(len(r["key"]) for r in rows)
    for r in rows:
        mark = "*" if r["value"] != r["default"] else " "
        print(
            f"  {r['key']:<{width}} {mark} {_fmt(r['value']):<14} "
            f"default {_fmt(r['default']):<12} ({r['owner']}) {r['doc']}"
        )
    return 0


def cmd_info(args) -> int:
    from neuromem.experiments import versions
    from neuromem.spiking import backends

    info = {"versions": versions(), "backends": {}, "spinnaker_config": None}
    for st in backends.probe_all():
        info["backends"][st.name] = {
            "available": st.available,
            "reason": st.reason,
            "version": st.version,
        }
    info["spinnaker_config"] = backends.spinnaker_config()
    info["brian2_cache"] = str(backends.brian2_cache_dir())
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print("versions:")
    for k, v in info["versions"].items():
        print(f"  {k:<12} {v}")
    print("backends:")
    for name, st in info["backends"].items():
        state = "usable" if st["available"] else "not usable"
        extra = f" ({st['version']})" if st["available"] and st["version"] else ""
        why = "" if st["available"] else f": {st['reason']}"
        print(f"  {name:<15} {state}{extra}{why}")
    cfg = info["spinnaker_config"]
    if cfg["path"]:
        version = f", board version {cfg['version']}" if cfg["version"] else ""
        print(f"SpiNNaker configuration: {cfg['path']} -> {cfg['target']}{version}")
    else:
        print("SpiNNaker configuration: none found (~/.spynnaker.cfg); see hardware/README.md")
    print(f"Brian2 code cache: {info['brian2_cache']}")
    return 0


def _plugin_modules() -> list[str]:
    import neuromem

    mods = []
    for m in pkgutil.iter_modules(neuromem.__path__):
        if m.ispkg and importlib.util.find_spec(f"neuromem.{m.name}.commands") is not None:
            mods.append(f"neuromem.{m.name}.commands")
    return sorted(mods)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neuromem`` command (used by the docs too)."""
    p = _Parser(
        prog="neuromem",
        description="Bio-inspired memory models: run registered experiments, inspect backends.",
    )
    from neuromem import __version__

    p.add_argument("--version", action="version", version=f"neuromem {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sp = sub.add_parser("list", help="list the registered experiments, one line each")
    sp.set_defaults(func=cmd_list)

    sp = sub.add_parser(
        "run",
        help="run one experiment; writes OUT/result.json and figures",
        description="Run one registered experiment and write OUT/result.json and its figures.",
    )
    sp.add_argument("name", metavar="NAME", help="experiment name (see `neuromem list`)")
    sp.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="override one config value (repeatable); lists as 1,2,3",
    )
    sp.add_argument("--config", metavar="PRESET", help="preset name (neuromem show) or file.toml")
    sp.add_argument("--backend", metavar="NAME", help="simulator backend (default: numba)")
    sp.add_argument("--data", metavar="DIR", help="data folder (default: $NEUROMEM_DATA)")
    sp.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    sp.add_argument("--out", metavar="DIR", help="output folder (default: results/NAME)")
    sp.add_argument("--no-progress", action="store_true", help="hide progress bars")
    sp.add_argument("--figure-format", choices=("png", "svg", "pdf"), default="png",
                    help="format of the figures (default png, 150 dpi)")  # fmt: skip
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser(
        "sweep",
        help="run one experiment over a grid of values and seeds, locally or on a Dask cluster",
        description="Run one experiment for every point of the grid and every seed, each as "
        "`neuromem run` would, on a local cluster of processes or an existing Dask scheduler; "
        "writes OUT/<point>/seed-<s>/result.json, OUT/summary.csv, OUT/summary.png and "
        "OUT/sweep.json. Finished runs are skipped when the command is repeated.",
    )
    sp.add_argument("name", metavar="NAME", help="experiment name (see `neuromem list`)")
    sp.add_argument("--grid", action="append", metavar="KEY=V1,V2,...", default=[],
                    help="values of one config key (repeatable: their product)")  # fmt: skip
    sp.add_argument("--seeds", default="0", metavar="SEEDS", help="0-9 or 0,3,7 (default 0)")
    sp.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                    help="override one config value of every point (repeatable)")  # fmt: skip
    sp.add_argument("--config", metavar="PRESET", help="preset name (neuromem show) or file.toml")
    sp.add_argument("--backend", metavar="NAME", help="simulator backend (default: numba)")
    sp.add_argument("--data", metavar="DIR", help="data folder (default: $NEUROMEM_DATA)")
    sp.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="tcp://HOST:PORT of a Dask scheduler, or local (default)")  # fmt: skip
    sp.add_argument("--workers", type=int, metavar="N",
                    help="worker processes of the local cluster (default: the cores)")  # fmt: skip
    sp.add_argument("--out", metavar="DIR", required=True, help="output folder")
    sp.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sp.add_argument("--figure-format", choices=("png", "svg", "pdf"), default="png",
                    help="format of every run's figures (default png)")  # fmt: skip
    sp.set_defaults(func=cmd_sweep)

    sp = sub.add_parser(
        "demo",
        help="run every demo experiment on the Numba backend (the main job)",
        description="Run every registered demo experiment with its quick settings.",
    )
    sp.add_argument("--out", metavar="DIR", default="results", help="output root (default results)")
    sp.add_argument("--data", metavar="DIR", help="data folder for experiments that need one")
    sp.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    sp.add_argument("--no-progress", action="store_true", help="hide progress bars")
    sp.add_argument("--figure-format", choices=("png", "svg", "pdf"), default="png",
                    help="format of the figures (default png, 150 dpi)")  # fmt: skip
    sp.set_defaults(func=cmd_demo)

    sp = sub.add_parser(
        "show",
        help="print the fully resolved config of an experiment or preset, with defaults and docs",
        description="Print every config field of an experiment (or preset): its value, the "
        "default of the config that owns it, and one line of documentation.",
    )
    sp.add_argument("name", metavar="NAME", help="experiment or preset name (or a preset file)")
    sp.add_argument("--config", metavar="PRESET", help="apply a preset (name or file) first")
    sp.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                    help="override one value (repeatable)")  # fmt: skip
    sp.add_argument("--json", action="store_true", help="print as JSON")
    sp.set_defaults(func=cmd_show)

    sp = sub.add_parser(
        "info", help="versions, usable backends and the SpiNNaker configuration found"
    )
    sp.add_argument("--json", action="store_true", help="print as JSON")
    sp.set_defaults(func=cmd_info)

    for modname in _plugin_modules():
        importlib.import_module(modname).add_commands(sub)
    return p


#: What the command's error boundary turns into exit status 2 and one line: every error a user
#: can cause with a bad value, file or folder (the loaders raise ``ValueError`` naming file and
#: line; a truncated archive raises ``EOFError``/``BadZipFile``/``OSError``). Set
#: ``NEUROMEM_DEBUG=1`` to see the traceback instead.
USER_ERRORS = (ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile)


class _Terminated(Exception):
    """SIGTERM, turned into an exception so that clean-up runs as for Ctrl-C."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def _one_line(e: BaseException) -> str:
    msg = " ".join(str(e).split()) or type(e).__name__
    if isinstance(e, OSError) and getattr(e, "filename", None) and str(e.filename) not in msg:
        msg = f"{e.filename}: {msg}"
    return msg


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neuromem`` console script; returns the exit status.

    Exit status 2 and one line on standard error for bad input (:data:`USER_ERRORS`), 130
    after Ctrl-C, 143 after SIGTERM; in every case a run's ``--out`` is left as it was.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (called from Python): leave signals alone
        old = None
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # output piped into `head`, say: not an error
        sys.stderr.close()
        return 0
    except USER_ERRORS as e:
        if os.environ.get("NEUROMEM_DEBUG"):
            raise
        print(f"neuromem: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neuromem: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("neuromem: terminated", file=sys.stderr)
        return 143
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
