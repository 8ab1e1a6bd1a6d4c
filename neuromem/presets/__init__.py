"""Presets (TOML) and SpiNNaker configuration templates shipped inside the package.

A preset names an experiment and sets config values::

    experiment = "sparsey-mnist"
    description = "one line"
    [config]
    train_per_class = 200
    [config.model]            # a nested config (the model's own dataclass)
    input_shape = [28, 28]

Presets are found by name (``sparsey-mnist``: the file ``sparsey-mnist.toml`` of this package,
or of ``$NEUROMEM_PRESETS`` when that folder holds one) or by path. They are read with
:mod:`importlib.resources`, so they work from a wheel as well as from a clone.

SpiNNaker templates (``virtual-board``, ``spinn3``, ``spinn5``, ``spalloc``) are copied to
``~/.spynnaker.cfg`` by ``neuromem hardware template NAME`` (see ``hardware/README.md``).

This module is part of the bottom layer: it imports no model, experiment or CLI code.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from neuromem.errors import ConfigError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "Preset",
    "names",
    "find",
    "load",
    "read_text",
    "spinnaker_templates",
    "spinnaker_template",
]


class Preset(dict):
    """A loaded preset: ``experiment`` (or None), ``description`` and ``config`` (a dict)."""

    @property
    def experiment(self) -> str | None:
        return self["experiment"]

    @property
    def config(self) -> dict[str, Any]:
        return self["config"]

    @property
    def source(self) -> str:
        return self["source"]


def _user_dir() -> Path | None:
    env = os.environ.get("NEUROMEM_PRESETS")
    return Path(env) if env else None


def _packaged():
    return resources.files(__name__)


def names() -> list[str]:
    """Names of the presets shipped with neuromem (and of ``$NEUROMEM_PRESETS``)."""
    out = {p.name[:-5] for p in _packaged().iterdir() if p.name.endswith(".toml")}
    user = _user_dir()
    if user is not None and user.is_dir():
        out |= {p.stem for p in user.glob("*.toml")}
    return sorted(out)


def find(name: str | os.PathLike, argument: str = "--config"):
    """The preset file for ``name``: an existing path, or a preset name.

    Returns a :class:`pathlib.Path` or an :mod:`importlib.resources` traversable. Raises
    :class:`ConfigError` naming ``argument`` when there is none.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise ConfigError(f"{argument}: expected a preset name or path, got {name!r}")
    p = Path(name)
    if p.is_file():
        return p
    stem = str(name)
    if p.suffix == ".toml" and p.parent == Path("."):
        stem = p.stem
    if "/" not in stem and os.sep not in stem:
        user = _user_dir()
        if user is not None and (user / f"{stem}.toml").is_file():
            return user / f"{stem}.toml"
        res = _packaged() / f"{stem}.toml"
        if res.is_file():
            return res
    raise ConfigError(
        f"{argument}: preset file not found: {str(name)!r} (and no preset of that name; "
        f"known presets: {', '.join(names())})"
    )


def load(name: str | os.PathLike, argument: str = "--config") -> Preset:
    """Read a preset (by name or path) into a :class:`Preset`.

    Raises
    ------
    ConfigError
        Missing file, not TOML (or not UTF-8), keys outside ``[config]``, ``[config]`` not a
        table, ``experiment`` not a string.
    """
    src = find(name, argument)
    try:
        data = tomllib.loads(src.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{argument}: {src} is not a text (UTF-8) TOML file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{argument}: {src} is not valid TOML: {e}") from None
    experiment = data.pop("experiment", None)
    description = data.pop("description", "")
    if experiment is not None and not isinstance(experiment, str):
        raise ConfigError(f"{argument}: {src}: 'experiment' must be a string")
    values = data.pop("config", None)
    if values is None:
        values = data
    elif data:
        raise ConfigError(f"{argument}: {src}: keys outside [config]: {', '.join(sorted(data))}")
    if not isinstance(values, dict):
        raise ConfigError(f"{argument}: {src}: [config] must be a table")
    return Preset(experiment=experiment, description=description, config=values, source=str(src))


def read_text(name: str | os.PathLike, argument: str = "--config") -> str:
    """The text of a preset file (by name or path)."""
    return find(name, argument).read_bytes().decode("utf-8")


def spinnaker_templates() -> list[str]:
    """Names of the shipped sPyNNaker configuration templates."""
    d = _packaged() / "spinnaker"
    return sorted(p.name[:-4] for p in d.iterdir() if p.name.endswith(".cfg"))


def spinnaker_template(name: str) -> str:
    """Text of the sPyNNaker configuration template ``name`` (e.g. ``"spinn5"``)."""
    if not isinstance(name, str) or name not in spinnaker_templates():
        raise ConfigError(
            f"template: unknown SpiNNaker template {name!r}; known: "
            f"{', '.join(spinnaker_templates())}"
        )
    return (_packaged() / "spinnaker" / f"{name}.cfg").read_text(encoding="utf-8")
