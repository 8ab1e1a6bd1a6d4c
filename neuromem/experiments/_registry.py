"""The experiment registry and the one function that runs an experiment.

An experiment is a plain function ``fn(cfg, ctx) -> metrics`` with a typed config dataclass,
registered by name with :func:`register`. :func:`run` resolves the config (dataclass defaults,
then a preset TOML file, then keyword overrides), runs the function with a :class:`RunContext`
and returns the result dict that the CLI writes as ``result.json``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import importlib
import json
import math
import os
import pkgutil
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuromem.config import config_to_dict, load_preset, resolve_config
from neuromem.errors import ConfigError

__all__ = [
    "Experiment",
    "RunContext",
    "register",
    "get",
    "names",
    "experiments",
    "run",
    "versions",
]

_REGISTRY: dict[str, Experiment] = {}
_LOADED = False


@dataclass(frozen=True)
class Experiment:
    """A registered experiment.

    Attributes
    ----------
    name : str
        Registry name (``neuromem run NAME``).
    func : callable
        ``func(cfg, ctx) -> dict`` returning flat metrics (numbers or lists of numbers).
    config : type
        Dataclass holding every parameter with its default.
    description : str
        One line shown by ``neuromem list``.
    demo : bool
        Part of the main demo job (``neuromem demo``).
    demo_overrides : dict
        Config overrides used by the demo job; only for experiments whose defaults take
        minutes (the demo job should finish in a few minutes on 2 cores).
    needs_data : bool
        Needs a data folder (``--data``); where its data set is not found, the demo job runs
        it on a generated offline stand-in (:mod:`neuromem.datasets.standins`) and says so.
    data_sets : tuple of str
        The data sets of :mod:`neuromem.datasets.fetch` it reads (for ``neuromem data fetch``
        hints).
    backends : tuple of str
        Accepted ``--backend`` names; the first is the default.
    """

    name: str
    func: Callable[[Any, RunContext], dict]
    config: type
    description: str
    demo: bool = True
    demo_overrides: dict = field(default_factory=dict)
    needs_data: bool = False
    backends: tuple[str, ...] = ("numba",)
    data_sets: tuple[str, ...] = ()


def register(
    name: str,
    *,
    config: type,
    description: str,
    demo: bool = True,
    demo_overrides: dict | None = None,
    needs_data: bool = False,
    backends: Iterable[str] = ("numba",),
    data_sets: Iterable[str] = (),
):
    """Decorator registering ``fn(cfg, ctx) -> metrics`` as experiment ``name``."""
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"config for {name!r} must be a dataclass, got {config!r}")

    def deco(fn):
        if name in _REGISTRY and _REGISTRY[name].func is not fn:
            raise ValueError(f"experiment {name!r} is already registered")
        _REGISTRY[name] = Experiment(
            name=name,
            func=fn,
            config=config,
            description=description,
            demo=demo,
            demo_overrides=dict(demo_overrides or {}),
            needs_data=needs_data,
            backends=tuple(backends),
            data_sets=tuple(data_sets),
        )
        return fn

    return deco


def _load_all() -> None:
    """Import every module of :mod:`neuromem.experiments` so that they register."""
    global _LOADED
    if _LOADED:
        return
    pkg = importlib.import_module("neuromem.experiments")
    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"neuromem.experiments.{mod.name}")
    _LOADED = True


def names() -> list[str]:
    """Sorted names of the registered experiments."""
    _load_all()
    return sorted(_REGISTRY)


def experiments() -> list[Experiment]:
    """The registered experiments, sorted by name."""
    _load_all()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def get(name: str) -> Experiment:
    """The experiment registered as ``name``; :class:`ConfigError` if there is none."""
    _load_all()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ConfigError(f"unknown experiment {name!r}; registered: {', '.join(names())}")
    return _REGISTRY[name]


def versions() -> dict[str, str]:
    """Versions of Python, neuromem and the scientific stack (``"absent"`` if not installed)."""
    from importlib import metadata

    import neuromem

    out = {"python": platform.python_version(), "neuromem": neuromem.__version__}
    commit = git_commit()
    if commit is not None:
        out["neuromem_git_commit"] = commit
    for dist in (
        "numpy",
        "scipy",
        "numba",
        "brian2",
        "PyNN",
        "neo",
        "matplotlib",
        "spynnaker",
        "nest-simulator",
        "torch",
        "pooch",
        "tqdm",
        "threadpoolctl",
        "dask",
        "elephant",
        "pykeen",
    ):
        try:
            out[dist.lower()] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist.lower()] = "absent"
    return out


def git_commit() -> str | None:
    """The git commit of neuromem when it runs from a clone (``+dirty`` with uncommitted
    changes to tracked files); None for an installed copy or without git."""
    import subprocess

    import neuromem

    root = Path(neuromem.__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=10)  # fmt: skip
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


#: Formats of ``--figure-format`` and the resolution of raster figures.
FIGURE_FORMATS = ("png", "svg", "pdf")
FIGURE_DPI = 150


class RunResult(dict):
    """The result of :func:`run`: the dict written as ``result.json``, plus the figures.

    In Jupyter a ``RunResult`` shows itself as the metrics and the figures inline (the last
    expression of a cell); :meth:`show` displays the figures from anywhere.

    Attributes
    ----------
    figure_objects : dict of str to matplotlib.figure.Figure
        The run's figures by name, whether or not they were saved (``out``).
    """

    def __init__(self, *args, figure_objects=None, **kw):
        super().__init__(*args, **kw)
        self.figure_objects = dict(figure_objects or {})

    def show(self) -> None:
        """Display the figures (inline in Jupyter, else in matplotlib windows)."""
        try:
            from IPython.display import display
        except ImportError:  # pragma: no cover - plain Python
            import matplotlib.pyplot as plt

            for fig in self.figure_objects.values():
                plt.figure(fig.number)
            plt.show()
            return
        for fig in self.figure_objects.values():
            display(fig)

    def _repr_html_(self) -> str:
        import base64
        import html
        import io

        rows = "".join(
            f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_short(v))}</td></tr>"
            for k, v in self.get("metrics", {}).items()
        )
        imgs = []
        for name, fig in self.figure_objects.items():
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
            b64 = base64.b64encode(buf.getvalue()).decode()
            imgs.append(f'<figure><img src="data:image/png;base64,{b64}" alt="{name}"/>'
                        f"<figcaption>{html.escape(name)}</figcaption></figure>")  # fmt: skip
        head = html.escape(f"{self.get('experiment')} (seed {self.get('seed')})")
        return (f"<b>{head}</b><table>{rows}</table>" + "".join(imgs))  # fmt: skip


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        s = ", ".join(_short(x) for x in v[:8])
        return f"[{s}{', ...' if len(v) > 8 else ''}]"
    return str(v)


class RunContext:
    """What an experiment function gets besides its config.

    Attributes
    ----------
    seed : int
        The user seed.
    rng : numpy.random.Generator
        Generator seeded from ``seed``; draw every random choice from it (or from
        :meth:`child_rng`).
    backend : str
        Simulator backend name.
    data : pathlib.Path or None
        Data folder given with ``--data`` (or ``$NEUROMEM_DATA``), checked to exist.
    out : pathlib.Path or None
        Output folder; figures go there. None when run from Python without ``out``.
    timings : dict
        Wall seconds per phase, filled by :meth:`phase`.
    """

    def __init__(self, *, seed, backend, data, out, progress=True, figure_format="png",
                 data_note=None):  # fmt: skip
        self.figure_format = figure_format
        self.data_note = data_note
        self.figure_objects: dict[str, Any] = {}
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self._seed_seq = np.random.SeedSequence(self.seed)
        self.backend = backend
        self.data = data
        self.out = out
        self.show_progress = progress
        self.timings: dict[str, float] = {}
        self.figures: list[str] = []
        self.artifacts: list[str] = []

    def child_rng(self) -> np.random.Generator:
        """An independent generator spawned from the run's seed (reproducible order)."""
        return np.random.default_rng(self._seed_seq.spawn(1)[0])

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase of the run: ``with ctx.phase("train"): ...`` (times add up)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def progress(self, iterable=None, *, total=None, desc=None, **kwargs):
        """A tqdm progress bar (silent when progress is off)."""
        from tqdm.auto import tqdm

        return tqdm(
            iterable,
            total=total,
            desc=desc,
            disable=not self.show_progress,
            leave=False,
            dynamic_ncols=True,
            **kwargs,
        )

    def data_dir(self, *parts: str, what: str = "data") -> Path:
        """The data folder joined with ``parts``; :class:`DataNotFoundError` if absent."""
        from neuromem.datasets import require_dir

        if self.data is None:
            from neuromem.errors import DataNotFoundError

            raise DataNotFoundError(
                f"--data: this experiment needs {what}; pass --data DIR or set NEUROMEM_DATA"
            )
        return require_dir(Path(self.data, *parts), what=what)

    def save_figure(self, fig, name: str) -> str | None:
        """Save a matplotlib figure as ``OUT/name.<format>`` (PNG at 150 dpi by default, or
        the run's ``figure_format``), keep it for the result (:attr:`RunResult.figure_objects`)
        and close it in pyplot; returns the file name (None without ``out``)."""
        import matplotlib.pyplot as plt

        path = None
        if self.data_note:
            # a run's note on its data (the demo's offline stand-ins) is written on each
            # figure's face, not only in result.json
            fig.text(0.5, 0.0, f"data: {self.data_note}", ha="center", va="top",
                     fontsize="small", color="tab:red")  # fmt: skip
        self.figure_objects[name] = fig
        if self.out is not None:
            fname = f"{name}.{self.figure_format}"
            fig.savefig(self.out / fname, dpi=FIGURE_DPI, bbox_inches="tight")
            self.figures.append(fname)
            path = fname
        plt.close(fig)
        return path

    def save_array(self, name: str, **arrays) -> str | None:
        """Save arrays as ``OUT/name.npz``; returns the file name (None without ``out``)."""
        if self.out is None:
            return None
        fname = f"{name}.npz"
        np.savez_compressed(self.out / fname, **arrays)
        self.artifacts.append(fname)
        return fname


def _clean_metrics(metrics: dict, name: str) -> dict[str, Any]:
    if not isinstance(metrics, dict):
        raise TypeError(f"experiment {name!r} must return a dict of metrics")
    out: dict[str, Any] = {}

    def conv(v, key):
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            f = float(v)
            return f if math.isfinite(f) else None
        if isinstance(v, np.ndarray):
            return [conv(x, key) for x in v.tolist()]
        if isinstance(v, (list, tuple)):
            return [conv(x, key) for x in v]
        if isinstance(v, str):
            return v
        if v is None:
            return None
        raise TypeError(f"metric {key!r} of {name!r} must be a number or list, got {type(v)}")

    for k, v in metrics.items():
        out[str(k)] = conv(v, k)
    return out


def run(
    name: str,
    *,
    out: str | os.PathLike | None = None,
    config_file: str | os.PathLike | None = None,
    backend: str | None = None,
    data: str | os.PathLike | None = None,
    seed: int | None = None,
    progress: bool = False,
    overrides: dict[str, Any] | None = None,
    figure_format: str = "png",
    data_note: str | None = None,
    **kw_overrides,
) -> RunResult:
    """Run a registered experiment and return its result dict.

    Parameters
    ----------
    name : str
        Registered experiment name (see :func:`names`).
    out : path, optional
        Output folder: ``result.json`` and figures (PNG) are written there.
    config_file : path, optional
        Preset TOML file, or the name of a preset shipped in :mod:`neuromem.presets`.
    backend : str, optional
        Simulator backend; must be one the experiment accepts (default: its first).
    data : path, optional
        Data folder; defaults to ``$NEUROMEM_DATA`` when set.
    seed : int, optional
        User seed (default 0).
    progress : bool
        Show progress bars.
    overrides : dict, optional
        Config overrides (as ``--set``); keyword arguments are added to them.
    figure_format : {"png", "svg", "pdf"}
        Format of the figures written to ``out`` (PNG at 150 dpi).
    data_note : str, optional
        What the data folder is, recorded as ``data_source`` (the demo job marks a generated
        offline stand-in so).

    Returns
    -------
    RunResult
        A dict: ``experiment``, ``config`` (fully resolved), ``seed``, ``backend``,
        ``data``/``data_source``, ``versions``, ``timings`` (wall seconds per phase, and
        ``total``), ``metrics`` (flat) and ``figures`` (file names in ``out``) -- the content
        of ``result.json``; its ``figure_objects`` hold the figures themselves (also without
        ``out``), and in Jupyter it shows the metrics and figures inline.

    Raises
    ------
    ConfigError
        Unknown experiment, unknown key, wrong value type, unknown backend, missing data
        folder or bad preset; raised before any work starts.
    """
    exp = get(name)
    if figure_format not in FIGURE_FORMATS:
        raise ConfigError(
            f"--figure-format: expected one of {', '.join(FIGURE_FORMATS)}, got {figure_format!r}"
        )
    layers = []
    if config_file is not None:
        layers.append(preset_layer(name, config_file))
    merged = dict(overrides or {})
    merged.update(kw_overrides)
    layers.append(merged)
    cfg = resolve_config(exp.config, *layers, experiment=name)
    backend = check_backend(exp, backend)
    if seed is None:
        seed = 0
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"--seed: expected a non-negative integer, got {seed!r}")

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

    out_path = None if out is None else check_out(out)
    # the run writes into a staging folder beside --out; only a finished run is moved into
    # --out (figures first, result.json last), so a failed or interrupted run creates no
    # --out folder and leaves a previous run's files as they were
    stage = None
    if out_path is not None:
        stage = Path(tempfile.mkdtemp(dir=_existing_ancestor(out_path),
                                      prefix=f".{out_path.name}.partial-"))  # fmt: skip
    ctx = RunContext(seed=seed, backend=backend, data=data_path, out=stage, progress=progress,
                     figure_format=figure_format, data_note=data_note)  # fmt: skip
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    try:
        metrics = exp.func(cfg, ctx)
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    ctx.timings["total"] = time.perf_counter() - t0
    result = {
        "experiment": name,
        "config": config_to_dict(cfg),
        "seed": int(seed),
        "backend": backend,
        "data": None if data_path is None else str(data_path),
        "data_source": data_note if data_note is not None else data_source,
        "started": started,
        "versions": versions(),
        "timings": {k: round(v, 6) for k, v in ctx.timings.items()},
        "metrics": _clean_metrics(metrics, name),
        "figures": list(ctx.figures),
        "artifacts": list(ctx.artifacts),
    }
    if stage is not None:
        try:
            _publish(stage, out_path, result)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return RunResult(result, figure_objects=ctx.figure_objects)


def preset_layer(name: str, config_file) -> dict:
    """The values of preset ``config_file`` (a name or a file) for experiment ``name``.

    Raises
    ------
    ConfigError
        The preset is bad, or is for another experiment.
    """
    preset_name, preset_values = load_preset(config_file)
    if preset_name is not None and preset_name != name:
        raise ConfigError(f"--config: preset is for experiment {preset_name!r}, not {name!r}")
    return preset_values


def check_backend(exp: Experiment, backend: str | None) -> str:
    """``backend``, or the experiment's first when None; ConfigError if it does not run there."""
    if backend is None:
        return exp.backends[0]
    if backend not in exp.backends:
        raise ConfigError(
            f"--backend: {exp.name} does not run on {backend!r}; accepted: "
            f"{', '.join(exp.backends)}"
        )
    return backend


def check_out(out) -> Path:
    """``out`` as a Path, checked before any work: it is a folder or can be created as one.

    Raises
    ------
    ConfigError
        ``out`` is a file, lies under a file, or its nearest existing folder is not writable.
    """
    out_path = Path(out)
    if out_path.exists() and not out_path.is_dir():
        raise ConfigError(f"--out: {out_path} exists and is not a folder")
    probe = _existing_ancestor(out_path)
    if not probe.is_dir():
        raise ConfigError(f"--out: {out_path} lies under {probe}, which is a file")
    if not os.access(probe, os.W_OK | os.X_OK) or (
        out_path.is_dir() and not os.access(out_path, os.W_OK | os.X_OK)
    ):
        raise ConfigError(f"--out: cannot write into {probe} (permission denied)")
    if str(out_path.resolve()).startswith(("/proc/", "/sys/", "/dev/")):
        raise ConfigError(f"--out: {out_path} is in a system folder")
    return out_path


def _existing_ancestor(path: Path) -> Path:
    """``path`` itself when it exists, else its nearest existing parent."""
    probe = path.absolute()
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return probe


def _json_safe(v):
    """Standard JSON only: non-finite floats become None (``null`` means "not finite")."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    return v


def _publish(stage: Path, out_path: Path, result: dict) -> None:
    """Move a finished run from ``stage`` into ``out_path``: the old ``result.json`` goes
    first, then figures and arrays, and the new ``result.json`` last, so ``result.json`` is
    always whole and never describes other files than its own run's."""
    umask = os.umask(0)
    os.umask(umask)
    tmp = stage / "result.json"
    with open(tmp, "w") as fh:
        json.dump(_json_safe(result), fh, indent=2, allow_nan=False)
    os.chmod(tmp, 0o666 & ~umask)
    out_path.mkdir(parents=True, exist_ok=True)
    old = out_path / "result.json"
    if old.exists():
        old.unlink()
    for f in sorted(stage.iterdir()):
        if f.name != "result.json":
            os.replace(f, out_path / f.name)
    os.replace(tmp, out_path / "result.json")
