"""Build Sparsey models from the presets shipped in :mod:`neuromem.presets`.

A Sparsey experiment's preset holds the model's own config in its ``[config.model]`` table
(``input_shape``, ``on_saturated`` and one ``[[config.model.levels]]`` table per level, with
:class:`~neuromem.sparsey.LevelConfig` fields); :func:`config_from_preset` reads that table
into a :class:`~neuromem.sparsey.SparseyConfig`. Fields the table leaves out take the
model's defaults. This module reads the TOML file only: it imports no experiment.
"""

from __future__ import annotations

import os

from neuromem.errors import ConfigError

from .model import SparseyConfig

__all__ = ["config_from_preset"]


def config_from_preset(name: str | os.PathLike) -> SparseyConfig:
    """The :class:`SparseyConfig` of a preset's ``[config.model]`` table.

    Parameters
    ----------
    name : str or path
        A preset name (``"sparsey-mnist"``, see ``neuromem show``) or a TOML file.

    Raises
    ------
    neuromem.errors.ConfigError
        Missing preset, a preset without a ``[config.model]`` table, or a table that is not a
        valid Sparsey model.
    """
    from neuromem import presets

    p = presets.load(name, argument="name")
    table = p.config.get("model")
    if not isinstance(table, dict):
        raise ConfigError(f"name: preset {p.source} has no [config.model] table (no Sparsey model)")
    try:
        return SparseyConfig.from_dict(table)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"name: preset {p.source}: [config.model]: {e}") from None
