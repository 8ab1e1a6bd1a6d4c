"""Typed experiment configs: resolution from defaults, presets (TOML) and overrides."""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from pathlib import Path
from typing import Any

from neuromem.errors import ConfigError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["load_preset", "resolve_config", "coerce_value", "config_to_dict", "type_name"]


def type_name(tp) -> str:
    """A short human name for a type annotation (for error messages and docs)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in typing.get_args(tp))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        args = typing.get_args(tp)
        inner = type_name(args[0]) if args else "value"
        return f"list of {inner}"
    if tp is type(None):
        return "none"
    return getattr(tp, "__name__", str(tp))


def _coerce_scalar(value: Any, tp, key: str) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{key}: expected bool (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected int, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected int, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected float, got {value!r}")
        try:
            out = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key}: expected float, got {value!r}") from None
        if math.isnan(out):
            raise ConfigError(f"{key}: expected a number, got NaN")
        return out
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: expected str, got {value!r}")
    if typing.get_origin(tp) is typing.Literal:
        choices = typing.get_args(tp)
        for c in choices:
            if value == c or (isinstance(value, str) and str(c) == value):
                return c
        raise ConfigError(f"{key}: expected one of {', '.join(map(str, choices))}; got {value!r}")
    raise ConfigError(f"{key}: unsupported config type {tp!r}")  # pragma: no cover


def coerce_value(value: Any, tp, key: str) -> Any:
    """Convert ``value`` (from TOML, Python or a ``--set`` string) to annotation ``tp``.

    Strings are parsed for numbers, booleans (true/false) and lists (``1,2,3`` or JSON
    ``[1, 2, 3]``). Raises :class:`ConfigError` naming ``key`` when the value does not fit.
    """
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return coerce_value(value, a, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"{key}: expected {type_name(tp)}, got {value!r}")
    if origin in (list, tuple):
        args = typing.get_args(tp)
        inner = args[0] if args else str
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    raise ConfigError(f"{key}: expected a list, got {value!r}") from None
            else:
                value = [v for v in text.split(",") if v.strip()] if text else []
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected {type_name(tp)}, got {value!r}")
        items = [coerce_value(v, inner, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    return _coerce_scalar(value, tp, key)


def config_to_dict(cfg) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples become lists)."""
    out = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def load_preset(path: str | Path) -> tuple[str | None, dict[str, Any]]:
    """Read a preset TOML file.

    The file holds an optional top-level ``experiment = "name"`` and the config values in a
    ``[config]`` table (or at the top level)::

        experiment = "sdr-overlap"
        description = "..."
        [config]
        size = 2048

    Returns the experiment name (or None) and the config mapping.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--config: preset file not found: {p}")
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"--config: {p} is not valid TOML: {e}") from None
    name = data.pop("experiment", None)
    data.pop("description", None)
    values = data.pop("config", None)
    if values is None:
        values = data
    elif data:
        raise ConfigError(f"--config: {p}: keys outside [config]: {', '.join(sorted(data))}")
    if not isinstance(values, dict):
        raise ConfigError(f"--config: {p}: [config] must be a table")
    return name, values


def resolve_config(config_cls, *layers: dict[str, Any], experiment: str = "experiment"):
    """Build ``config_cls`` from its defaults updated by each mapping in ``layers`` in turn.

    Unknown keys and values of the wrong type raise :class:`ConfigError`; so does a failing
    ``validate()`` method of the config class, if it defines one.
    """
    hints = typing.get_type_hints(config_cls)
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    values: dict[str, Any] = {}
    for layer in layers:
        for key, raw in layer.items():
            if key not in fields:
                accepted = ", ".join(sorted(fields)) or "(none)"
                raise ConfigError(
                    f"unknown config key {key!r} for {experiment}; accepted keys: {accepted}"
                )
            values[key] = coerce_value(raw, hints[key], key)
    try:
        cfg = config_cls(**values)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{experiment}: {e}") from None
    validate = getattr(cfg, "validate", None)
    if callable(validate):
        try:
            validate()
        except ConfigError:
            raise
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{experiment}: {e}") from None
    return cfg
