"""Build Sparsey models from the preset files in ``models/`` (``models/sparsey*.toml``).

A preset names an experiment and its config (``experiment = "sparsey-mnist"`` and a
``[config]`` table). The experiment's config dataclass knows how to turn itself into a
:class:`~neuromem.sparsey.SparseyConfig` (its ``model_config()`` method), so the model a preset
describes is the same one its experiment runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from neuromem.errors import ConfigError

from .model import SparseyConfig

__all__ = ["config_from_preset", "experiment_config_from_preset"]


def experiment_config_from_preset(name: str | os.PathLike):
    """The resolved experiment config of a preset (a file path, or a name in ``models/``).

    Raises
    ------
    neuromem.errors.ConfigError
        Missing preset, a preset without ``experiment``, or one whose experiment has no
        Sparsey model.
    """
    from neuromem.experiments import get, load_preset, presets_dir, resolve_config

    p = Path(name)
    if not p.is_file():
        cand = presets_dir() / f"{name}.toml"
        if not cand.is_file():
            raise ConfigError(f"name: preset not found: {name} (nor {cand})")
        p = cand
    exp_name, values = load_preset(p)
    if exp_name is None:
        raise ConfigError(f"name: preset {p} names no experiment")
    exp = get(exp_name)
    cfg = resolve_config(exp.config, values, experiment=exp_name)
    if not hasattr(cfg, "model_config"):
        raise ConfigError(f"name: preset {p} is for {exp_name}, which builds no Sparsey model")
    return cfg


def config_from_preset(name: str | os.PathLike) -> SparseyConfig:
    """The :class:`SparseyConfig` described by a preset."""
    return experiment_config_from_preset(name).model_config()
