"""Sweeps: one experiment over a grid of config values and a list of seeds, run on Dask.

>>> from neuromem import experiments
>>> rows = experiments.sweep("sdr-overlap", grid={"n_pairs": [500, 1000]}, seeds="0-3",
...                          out="sweeps/overlap")                  # doctest: +SKIP
>>> len(rows), rows[0]["point"], rows[0]["status"]                  # doctest: +SKIP
(8, 'n_pairs=500', 'ran')

Every run (a grid point and a seed) is ``experiments.run(name, out=OUT/<point>/seed-<s>,
seed=s, overrides=...)`` on a Dask worker, so it resolves and validates its config and writes
``result.json`` exactly as ``neuromem run`` does. All the points are resolved and validated
before anything starts. The runs go to a local cluster of worker processes (one thread each)
or to an existing Dask scheduler; a worker that dies has its runs moved to another one, and a
run that fails is recorded with its error without stopping the others. Re-running a sweep
skips the runs whose ``result.json`` already holds the same config and seed.

Dask is imported only when a sweep starts, so ``import neuromem.experiments`` stays fast.
"""

from __future__ import annotations

import csv
import datetime as _dt
import itertools
import json
import logging
import os
import re
import shutil
import socket
import traceback
import uuid
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from neuromem.config import _match, config_to_dict, leaves, plain, resolve_config
from neuromem.errors import ConfigError

from ._registry import (
    FIGURE_FORMATS,
    _json_safe,
    check_backend,
    check_out,
    get,
    preset_layer,
    versions,
)

__all__ = ["sweep", "parse_seeds", "parse_grid", "run_dir", "SWEEP_COLUMNS"]

#: The columns of ``summary.csv`` before the grid keys and the metrics (in this order:
#: ``point``, the grid keys, ``seed``, ``status``, ``error``, then every scalar metric).
SWEEP_COLUMNS = ("point", "seed", "status", "error")

#: Environment of the worker processes: one thread each (BLAS, OpenMP, Numba), so that runs
#: in parallel do not oversubscribe the cores and every run computes as it does alone.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
}

#: Point folder of a sweep without a grid (seeds only).
BASE_POINT = "base"

#: Figure of the summary: at most this many metrics are drawn (all are in summary.csv).
MAX_PLOTTED_METRICS = 24


# --------------------------------------------------------------------------- parsing
def parse_seeds(spec) -> list[int]:
    """Seeds from ``"0-9"``, ``"0,3,7"``, ``"0-3,8"``, an int or an iterable of ints.

    Raises
    ------
    ConfigError
        A seed that is not a non-negative integer, an empty or reversed range, or a seed given
        twice.
    """
    if isinstance(spec, bool):
        raise ConfigError(f"--seeds: expected non-negative integers, got {spec!r}")
    if isinstance(spec, int):
        items: list = [spec]
    elif isinstance(spec, str):
        items = []
        for part in spec.split(","):
            part = part.strip()
            m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                if hi < lo:
                    raise ConfigError(f"--seeds: empty range {part!r} (write LOW-HIGH)")
                items.extend(range(lo, hi + 1))
            elif re.fullmatch(r"\d+", part):
                items.append(int(part))
            else:
                raise ConfigError(
                    f"--seeds: expected non-negative integers as 0-9 or 0,3,7; got {spec!r}"
                )
    elif isinstance(spec, Iterable):
        items = list(spec)
    else:
        raise ConfigError(f"--seeds: expected non-negative integers, got {spec!r}")
    seeds = []
    for s in items:
        if isinstance(s, bool) or not hasattr(s, "__index__") or int(s) < 0:
            raise ConfigError(f"--seeds: expected non-negative integers, got {s!r}")
        seeds.append(int(s))
    if not seeds:
        raise ConfigError("--seeds: no seed given")
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        raise ConfigError(f"--seeds: seed {dup[0]} given twice")
    return seeds


def _split_values(key: str, text: str) -> list:
    """``V1,V2,...`` or a JSON list (``[[2,4],[4,8]]`` for list-valued fields)."""
    text = text.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError:
            raise ConfigError(
                f"--grid {key}: expected V1,V2,... or a JSON list, got {text!r}"
            ) from None
        if not isinstance(values, list):
            raise ConfigError(f"--grid {key}: expected a JSON list, got {text!r}")
        return values
    return [v.strip() for v in text.split(",") if v.strip()]


def parse_grid(items: Iterable[str]) -> dict[str, list]:
    """``["KEY=V1,V2", ...]`` (the ``--grid`` options) as ``{KEY: [V1, V2]}``.

    Values are split at commas; a value starting with ``[`` is read as a JSON list of values
    (``loads=[[2,4],[4,8]]`` sweeps a list-valued field).

    Raises
    ------
    ConfigError
        An item without ``=``, an empty key, no value, or a key given twice.
    """
    grid: dict[str, list] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--grid: expected KEY=V1,V2,..., got {item!r}")
        key, text = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"--grid: empty key in {item!r}")
        if key in grid:
            raise ConfigError(f"--grid: key {key!r} given twice")
        grid[key] = _split_values(key, text)
        if not grid[key]:
            raise ConfigError(f"--grid {key}: no value given")
    return grid


# --------------------------------------------------------------------------- the plan
def _value_at(cfg, path: str, name: str):
    return plain(_match(path, leaves(cfg), name).value)


def _name_part(value) -> str:
    if isinstance(value, list):
        text = "-".join(_name_part(v) for v in value)
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text) or "_"


def _point_name(values: Mapping[str, Any]) -> str:
    if not values:
        return BASE_POINT
    return ",".join(f"{_name_part(k)}={_name_part(v)}" for k, v in values.items())


def _normal(obj):
    """``obj`` as it reads back from JSON (tuples as lists, non-finite floats as None)."""
    return json.loads(json.dumps(_json_safe(obj)))


def run_dir(out, point: str, seed: int) -> Path:
    """The folder of one run of a sweep: ``OUT/<point>/seed-<seed>``."""
    return Path(out) / point / f"seed-{int(seed)}"


def _plan(name, grid, seeds, overrides, config_file, data, backend, out, figure_format):
    """Resolve and validate every point before anything runs; returns the sweep definition."""
    exp = get(name)
    if figure_format not in FIGURE_FORMATS:
        raise ConfigError(
            f"--figure-format: expected one of {', '.join(FIGURE_FORMATS)}, got {figure_format!r}"
        )
    seeds = parse_seeds(seeds)
    overrides = dict(overrides or {})
    preset_values: dict = {}
    if config_file is not None:
        preset_values = preset_layer(name, config_file)
        # workers resolve the preset themselves: a file by its absolute path
        if Path(config_file).is_file():
            config_file = str(Path(config_file).resolve())
    backend = check_backend(exp, backend)

    # the grid: keys checked against the config, values as lists
    if grid is None:
        grid = {}
    if not isinstance(grid, Mapping):
        raise ConfigError(f"--grid: expected a mapping of keys to lists of values, got {grid!r}")
    base = resolve_config(exp.config, preset_values, overrides, experiment=name, validate=False)
    base_leaves = leaves(base)
    over_paths = {}
    for k in overrides:
        try:
            over_paths[_match(k, base_leaves, name).path] = k
        except ConfigError:
            pass  # a whole list of nested tables: resolve_config has accepted it
    keys: dict[str, list] = {}
    paths: dict[str, str] = {}
    for key, values in grid.items():
        key = str(key)
        try:
            path = _match(key, base_leaves, name).path
        except ConfigError as e:
            raise ConfigError(f"--grid: {e}") from None
        if path in paths.values():
            other = next(k for k, p in paths.items() if p == path)
            raise ConfigError(f"--grid: {key!r} and {other!r} are the same field ({path})")
        if path in over_paths:
            raise ConfigError(f"--grid {key}: also given with --set {over_paths[path]}")
        if isinstance(values, str):
            values = _split_values(key, values)
        elif not isinstance(values, (list, tuple, range)):
            values = [values]
        if len(values) == 0:
            raise ConfigError(f"--grid {key}: no value given")
        paths[key] = path
        keys[key] = list(values)

    points = []
    for combo in itertools.product(*keys.values()):
        raw = dict(zip(keys, combo))
        label = ", ".join(f"{k}={v}" for k, v in raw.items())
        try:
            cfg = resolve_config(exp.config, preset_values, {**overrides, **raw}, experiment=name)
        except ConfigError as e:
            raise ConfigError(f"--grid {label}: {e}") from None
        values = {k: _value_at(cfg, paths[k], name) for k in keys}
        points.append(
            {"name": _point_name(values), "values": values, "config": _normal(config_to_dict(cfg))}
        )
    seen: dict[str, dict] = {}
    for p in points:
        if p["name"] in seen:
            a, b = seen[p["name"]]["values"], p["values"]
            if a == b:
                raise ConfigError(f"--grid: the point {p['name']} is given twice")
            raise ConfigError(f"--grid: the points {a} and {b} have the same folder name")
        seen[p["name"]] = p

    # the data folder as run() finds it, resolved here so that every worker uses the same
    from neuromem.datasets import find_data_dir

    data_path, data_source = None, None
    if data is not None or os.environ.get("NEUROMEM_DATA") or exp.needs_data:
        data_path, data_source = find_data_dir(data, beside_clone=False)
    if data_path is None and exp.needs_data:
        from neuromem.errors import DataNotFoundError

        raise DataNotFoundError(
            f"--data: {name} needs a data folder; pass --data DIR, set NEUROMEM_DATA, or "
            f"download it: neuromem data fetch all"
        )
    out_path = check_out(out).resolve()
    return {
        "experiment": name,
        "grid": {k: _unique(p["values"][k] for p in points) for k in keys},
        "grid_paths": paths,
        "seeds": seeds,
        "overrides": _normal(overrides),
        "config_file": None if config_file is None else str(config_file),
        "backend": backend,
        "data": None if data_path is None else str(Path(data_path).resolve()),
        "data_source": data_source,
        "figure_format": figure_format,
        "out": str(out_path),
        "points": points,
    }


def _unique(values: Iterable) -> list:
    """``values`` without repeats, in the order of their first occurrence."""
    out, seen = [], set()
    for v in values:
        if json.dumps(v) not in seen:
            seen.add(json.dumps(v))
            out.append(v)
    return out


def _finished(path: Path, expect: dict) -> dict | None:
    """The result in ``path`` when it is a finished run of ``expect`` (experiment, config,
    seed, backend, data), else None."""
    try:
        with open(path) as fh:
            res = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(res, dict) or not isinstance(res.get("metrics"), dict):
        return None
    if any(res.get(k) != v for k, v in expect.items()):
        return None
    return res


# --------------------------------------------------------------------------- the worker side
def _run_point(name, out, seed, overrides, config_file, data, data_note, backend, figure_format):
    """One run on a Dask worker: ``experiments.run`` into ``out``; never raises (the error
    and its traceback are returned), so that a failed run does not stop the sweep."""
    for k, v in THREAD_ENV.items():
        if k != "NUMBA_NUM_THREADS":  # Numba reads it once, at import
            os.environ[k] = v
    from neuromem import experiments

    try:
        result = experiments.run(name, out=out, seed=seed, overrides=overrides,
                                 config_file=config_file, data=data, data_note=data_note,
                                 backend=backend, figure_format=figure_format,
                                 progress=False)  # fmt: skip
    except Exception as e:
        return {
            "ok": False,
            "error": f"{type(e).__name__}: {' '.join(str(e).split())}",
            "traceback": traceback.format_exc(),
            "host": socket.gethostname(),
        }
    return {"ok": True, "result": _json_safe(dict(result)), "host": socket.gethostname()}


# --------------------------------------------------------------------------- the client side
def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _check_scheduler(scheduler, workers) -> bool:
    """Check ``scheduler`` and ``workers`` (before any work); True for the local cluster."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):  # fmt: skip
        raise ConfigError(f"--workers: expected an integer >= 1, got {workers!r}")
    local = scheduler is None or (isinstance(scheduler, str) and scheduler == "local")
    if not local and workers is not None:
        raise ConfigError("--workers: only for the local cluster; an existing cluster has its own")
    if isinstance(scheduler, str) and not local and ":" not in scheduler:
        raise ConfigError(
            f"--scheduler: expected 'local' or an address such as tcp://HOST:8786, got "
            f"{scheduler!r}"
        )
    return local


def _connect(scheduler, workers, n_runs):
    """``(client, cluster or None, description, close_client)`` for ``scheduler``."""
    local = _check_scheduler(scheduler, workers)
    from distributed import Client, LocalCluster

    if local:
        n = min(workers or _cores(), max(n_runs, 1))
        # memory_limit=0: a worker never pauses; Dask's default pauses a worker at 80 % of its
        # share of the memory, and a paused worker whose run does not give memory back to the
        # system takes no run again, so the sweep would wait for ever
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               memory_limit=0, dashboard_address=None,
                               silence_logs=logging.ERROR,
                               # its HTTP server (health checks) on a free port, not :8787
                               scheduler_kwargs={"dashboard_address": ":0"},
                               env=dict(THREAD_ENV))  # fmt: skip
        return Client(cluster), cluster, f"local ({n} worker process{'es' if n > 1 else ''})", True
    if isinstance(scheduler, Client):
        return scheduler, None, str(scheduler.scheduler.address), False
    if isinstance(scheduler, str):
        try:
            client = Client(scheduler, timeout=15)
        except (OSError, TimeoutError, ValueError) as e:
            raise ConfigError(f"--scheduler: cannot connect to {scheduler}: {e}") from None
        return client, None, scheduler, True
    if hasattr(scheduler, "scheduler_address"):  # a cluster object, e.g. dask-jobqueue's
        return Client(scheduler), None, str(scheduler.scheduler_address), True
    raise ConfigError(
        f"--scheduler: expected 'local', an address or a Dask client, got {scheduler!r}"
    )


def _scalar(v) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


def _row(point, seed, status, error, metrics) -> dict:
    row = {"point": point["name"], **point["values"], "seed": seed, "status": status,
           "error": error}  # fmt: skip
    for k, v in (metrics or {}).items():
        if _scalar(v):
            row[f"metrics.{k}" if k in row else k] = v
    return row


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(_json_safe(obj), indent=2, allow_nan=False))
    os.replace(tmp, path)


def _write_csv(path: Path, rows: list[dict], grid_keys: list[str]) -> list[str]:
    fixed = ["point", *grid_keys, "seed", "status", "error"]
    columns = list(fixed)
    for r in rows:
        columns.extend(k for k in r if k not in columns)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else _cell(r.get(c)) for c in columns])
    os.replace(tmp, path)
    return columns


def _cell(v):
    if isinstance(v, list):
        return json.dumps(v)
    return repr(v) if isinstance(v, float) else v


def _cleanup_partials(run_path: Path) -> None:
    """Remove staging folders that a killed worker left beside ``run_path``."""
    parent = run_path.parent
    if parent.is_dir():
        for p in parent.glob(f".{run_path.name}.partial-*"):
            shutil.rmtree(p, ignore_errors=True)


#: Seconds between checks, while no run finishes, that some worker can take a run.
STALL_CHECK_S = 60.0


def _as_completed(client, futures):
    """Yield ``futures`` as they finish, by polling each one's state (``Future.done``); while
    none finishes, check every ``STALL_CHECK_S`` seconds that the scheduler has a worker able
    to take a run, and warn (once) if it has none: no worker at all, or every worker paused by
    Dask for memory.

    Dask's ``as_completed`` is not used: when a worker dies holding finished runs, distributed
    2026.8's ``as_completed`` was seen never to yield a future whose state was finished (the
    sweep waited for ever), and ``distributed.wait(..., timeout)`` to raise UnboundLocalError."""
    import time

    pending = dict(futures)
    warned, last = False, time.monotonic()
    while pending:
        finished = [f for f in pending if f.done()]
        if finished:
            for f in sorted(finished, key=pending.get):
                del pending[f]
                yield f
            last = time.monotonic()
            continue
        if not warned and time.monotonic() - last >= STALL_CHECK_S:
            warned = _warn_if_stalled(client)
            last = time.monotonic()
        time.sleep(0.05)


def _warn_if_stalled(client) -> bool:
    """Warn and return True when no worker of ``client``'s scheduler can take a run."""
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]
    except Exception:  # pragma: no cover - the scheduler is gone: the futures say so
        return False
    status = [w.get("status", "running") for w in workers.values()]
    if "running" in status:
        return False
    if not status:
        why = "the scheduler has no worker"
    else:
        why = (f"every worker ({len(status)}) is {'/'.join(sorted(set(status)))}; Dask pauses a "
               f"worker whose memory is above 80 % of its limit: start workers with "
               f"`--memory-limit 0` or more memory")  # fmt: skip
    warnings.warn(f"sweep: no run can start: {why}; the sweep waits (finished runs are kept, "
                  f"and the same command resumes)", RuntimeWarning, stacklevel=3)  # fmt: skip
    return True


def sweep(
    name: str,
    *,
    out: str | os.PathLike,
    grid: Mapping[str, Any] | None = None,
    seeds: int | str | Iterable[int] = 0,
    overrides: Mapping[str, Any] | None = None,
    config_file: str | os.PathLike | None = None,
    data: str | os.PathLike | None = None,
    backend: str | None = None,
    scheduler=None,
    workers: int | None = None,
    retries: int = 2,
    figure_format: str = "png",
    progress: bool = True,
) -> list[dict]:
    """Run experiment ``name`` for every point of ``grid`` and every seed, on Dask.

    Parameters
    ----------
    name : str
        Registered experiment name (see :func:`neuromem.experiments.names`).
    out : path
        Output folder: ``OUT/<point>/seed-<s>/result.json`` (and the run's figures) for every
        run, ``OUT/summary.csv``, ``OUT/summary.png`` and ``OUT/sweep.json``. With a cluster
        of several machines it must lie on a file system that the workers share.
    grid : dict, optional
        Config key (as ``--set``) to the values it takes: a list, or a string ``"V1,V2"``.
        The sweep runs the Cartesian product of the lists; without a grid, one point.
    seeds : int, str or iterable of int
        Seeds of every point: ``"0-9"``, ``"0,3,7"``, ``[0, 1]`` or one int (default 0).
    overrides : dict, optional
        Config values of every point (``--set``); a key may not be both here and in ``grid``.
    config_file : path, optional
        Preset TOML file or preset name, applied before ``overrides`` and the grid.
    data : path, optional
        Data folder (default ``$NEUROMEM_DATA``), resolved once here for every worker.
    backend : str, optional
        Simulator backend (default: the experiment's first).
    scheduler : None, "local", str, distributed.Client or cluster
        ``None`` or ``"local"``: a local cluster of worker processes, one thread each, started
        for the sweep and closed after it (with no memory limit, so that Dask never pauses
        a worker); an address (``"tcp://HOST:8786"``): an existing
        scheduler; a ``distributed.Client`` or a cluster object (for example dask-jobqueue's
        ``SLURMCluster``) to use as it is. When no run finishes for ``STALL_CHECK_S``
        seconds and no worker can take one (none connected, or every one paused for
        memory), a ``RuntimeWarning`` says so, once; the sweep keeps waiting.
    workers : int, optional
        Worker processes of the local cluster (default: the cores this process may use, at
        most the number of runs). Only with the local cluster.
    retries : int
        Dask retries of a run whose task itself errs (a run that raises is recorded as failed
        without retry; a run whose worker dies is moved to another worker by the scheduler).
    figure_format : {"png", "svg", "pdf"}
        Format of every run's figures (``summary.png`` is always PNG).
    progress : bool
        Show a progress bar over the runs (on standard error).

    Returns
    -------
    list of dict
        One row per point and seed, in grid order then seed order: ``point`` (the folder
        name), the grid values (as resolved into the config), ``seed``, ``status`` (``"ran"``,
        ``"skipped"`` for a run whose ``result.json`` already held the same config and seed,
        or ``"failed"``), ``error`` (None unless failed) and every scalar metric (a metric
        named like one of these columns is prefixed ``metrics.``). The same as
        ``summary.csv``.

    Raises
    ------
    ConfigError
        Unknown experiment or key, a value of the wrong type or refused by the config's
        validation at any point, bad seeds, a bad ``out``, an unreachable scheduler: raised
        before any run starts.
    """
    plan = _plan(name, grid, seeds, overrides, config_file, data, backend, out, figure_format)
    _check_scheduler(scheduler, workers)
    out_path = Path(plan["out"])
    grid_keys = list(plan["grid"])
    expect_common = {"experiment": name, "backend": plan["backend"], "data": plan["data"]}

    runs = []  # (point, seed, run folder, expected result fields)
    for point in plan["points"]:
        for s in plan["seeds"]:
            expect = {**expect_common, "config": point["config"], "seed": s}
            runs.append((point, s, run_dir(out_path, point["name"], s), expect))
    done: dict[int, dict] = {}
    for i, (_, _, path, expect) in enumerate(runs):
        res = _finished(path / "result.json", expect)
        if res is not None:
            done[i] = res
    todo = [i for i in range(len(runs)) if i not in done]

    import dask
    import distributed

    # connect (or start the local cluster) before writing anything: a bad address is refused
    client = cluster = None
    description = "none (every run finished before)"
    if todo:
        client, cluster, description, close = _connect(scheduler, workers, len(todo))
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    meta = {
        "sweep": {k: v for k, v in plan.items() if k != "points"},
        "points": [{"name": p["name"], "values": p["values"]} for p in plan["points"]],
        "runs": len(runs),
        "scheduler": description,
        "started": started,
        "finished": None,
        "versions": {
            **versions(),
            "dask": dask.__version__,
            "distributed": distributed.__version__,
        },  # fmt: skip
    }
    out_path.mkdir(parents=True, exist_ok=True)
    _write_json(out_path / "sweep.json", meta)

    outcome: dict[int, tuple[str, str | None, dict | None]] = {}
    failures = []
    for i, res in done.items():
        outcome[i] = ("skipped", None, res["metrics"])
    from tqdm.auto import tqdm

    log = logging.getLogger("distributed")
    level = log.level
    bar = tqdm(total=len(runs), initial=len(done), desc=f"sweep {name}", unit="run",
               disable=not progress, dynamic_ncols=True)  # fmt: skip
    try:
        if todo:
            token = uuid.uuid4().hex[:8]
            futures = {}
            for i in todo:
                point, s, path, _ = runs[i]
                ov = {**plan["overrides"], **point["values"]}
                fut = client.submit(_run_point, name, str(path), s, ov, plan["config_file"],
                                    plan["data"], plan["data_source"], plan["backend"],
                                    plan["figure_format"], key=f"neuromem-{name}-{point['name']}"
                                    f"-seed-{s}-{token}", pure=False, retries=retries)  # fmt: skip
                futures[fut] = i
            for fut in _as_completed(client, futures):
                i = futures[fut]
                point, s, path, _ = runs[i]
                try:
                    res = fut.result()
                except Exception as e:  # KilledWorker (it killed worker after worker), ...
                    res = {"ok": False, "error": f"{type(e).__name__}: {e}",
                           "traceback": "".join(traceback.format_exception(e))}  # fmt: skip
                if res["ok"]:
                    result = res["result"]
                    if not (path / "result.json").is_file():
                        # a worker without the shared file system: keep at least result.json
                        path.mkdir(parents=True, exist_ok=True)
                        _write_json(path / "result.json", result)
                    outcome[i] = ("ran", None, result["metrics"])
                else:
                    outcome[i] = ("failed", res["error"], None)
                    failures.append({"point": point["name"], "seed": s, "error": res["error"],
                                     "traceback": res.get("traceback")})  # fmt: skip
                # release the run's result on the cluster: a worker that dies later then
                # loses nothing that the scheduler would compute again
                fut.release()
                _cleanup_partials(path)
                bar.update(1)
                if failures:
                    bar.set_postfix(failed=len(failures))
    finally:
        bar.close()
        if client is not None:
            log.setLevel(logging.ERROR)  # a quiet shutdown
            try:
                if close:
                    client.close()
                if cluster is not None:
                    cluster.close()
            finally:
                log.setLevel(level)

    rows = [_row(runs[i][0], runs[i][1], *outcome[i]) for i in range(len(runs))]
    _write_csv(out_path / "summary.csv", rows, grid_keys)
    _plot_summary(out_path / "summary.png", rows, name, grid_keys, plan)
    counts = {st: sum(1 for r in rows if r["status"] == st) for st in ("ran", "skipped", "failed")}
    meta.update(
        finished=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        counts=counts,
        failures=failures,
    )
    _write_json(out_path / "sweep.json", meta)
    return rows


# --------------------------------------------------------------------------- the figure
def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _plot_summary(path: Path, rows: list[dict], name: str, grid_keys: list[str], plan) -> None:
    """Mean and spread (s.d. over the seeds, and every run as a dot) of each numeric scalar
    metric against each swept value; one line per combination of the other swept values."""
    import numpy as np
    from matplotlib.figure import Figure

    ok = [r for r in rows if r["status"] != "failed"]
    fixed = {"point", "seed", "status", "error", *grid_keys}
    metrics: list[str] = []
    for r in ok:
        metrics.extend(k for k, v in r.items() if k not in fixed and k not in metrics
                       and _is_number(v))  # fmt: skip
    xkeys = grid_keys or ["seed"]
    shown = metrics[:MAX_PLOTTED_METRICS]
    panels = [(key, metric) for key in xkeys for metric in shown] or [(xkeys[0], None)]
    n_cols = min(4, len(panels))
    n_rows = -(-len(panels) // n_cols)
    fig = Figure(figsize=(4.2 * n_cols, 3.0 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    grid_text = " x ".join(f"{k} ({len(plan['grid'][k])} values)" for k in grid_keys)
    more = f"; first {len(shown)} of {len(metrics)} metrics" if len(metrics) > len(shown) else ""
    fig.suptitle(f"sweep {name}: mean ± s.d. over {len(plan['seeds'])} seed(s)\n"
                 f"grid: {grid_text or 'none (seeds only)'}{more}")  # fmt: skip
    for ax, (key, metric) in zip(axes, panels):
        values = plan["grid"][key] if key in plan["grid"] else plan["seeds"]
        numeric = all(_is_number(v) for v in values)
        pos = {json.dumps(v): (float(v) if numeric else j) for j, v in enumerate(values)}
        ax.set_xlabel(key)
        ax.set_ylabel("value")
        if metric is None:
            ax.set_title("no numeric scalar metric to show")
            continue
        others = [k for k in grid_keys if k != key]
        groups: dict[str, list[dict]] = {}
        for r in ok:
            groups.setdefault(", ".join(f"{k}={r[k]}" for k in others), []).append(r)
        for g_i, (label, rs) in enumerate(groups.items()):
            color = f"C{g_i % 10}"
            xs, means, sds = [], [], []
            for v in values:
                ys = [r[metric] for r in rs if json.dumps(r[key]) == json.dumps(v)
                      and _is_number(r.get(metric))]  # fmt: skip
                if not ys:
                    continue
                x = pos[json.dumps(v)]
                ax.plot([x] * len(ys), ys, "x", color=color, alpha=0.5, ms=4)
                xs.append(x)
                means.append(float(np.mean(ys)))
                sds.append(float(np.std(ys, ddof=1)) if len(ys) > 1 else 0.0)
            if xs:
                ax.errorbar(xs, means, yerr=sds, marker="o", ms=4, capsize=3, color=color,
                            label=f"{label + ': ' if label else ''}mean ± s.d.")  # fmt: skip
        ax.plot([], [], "x", color="0.4", label="single runs")
        if numeric and min(values) > 0 and max(values) / min(values) >= 100:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(list(pos.values()), [str(v) for v in values])
        ax.set_title(metric, fontsize=9)
        ax.legend(fontsize=7)
    fig.savefig(path, dpi=100)
