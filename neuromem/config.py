"""Typed configs: resolution from defaults, presets (TOML) and overrides, nested configs.

Every model owns a config dataclass with its parameters and their defaults
(:class:`~neuromem.sparsey.SparseyConfig`, :class:`~neuromem.pmi.PMIConfig`, ...). An
experiment's config holds the model's config as a field (``model: SparseyConfig``) instead of
copying its fields, so each parameter has one owner and one default. Values reach any field:

- by its dotted path, ``model.levels.0.G_min`` (list items by index);
- by a flat name when exactly one field ends with it (``G_min``, ``levels.0.G_min``); a name
  that several fields end with is refused with the candidates listed;
- from a preset's nested tables (``[config.model]``) or TOML dotted keys.

This module is the bottom layer: it imports no model, experiment or CLI code.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from pathlib import Path
from typing import Any

from neuromem.errors import ConfigError

__all__ = [
    "load_preset",
    "resolve_config",
    "coerce_value",
    "config_to_dict",
    "plain",
    "type_name",
    "leaves",
    "Leaf",
    "field_docs",
]


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
        if math.isinf(out):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
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
        fixed = origin is tuple and len(args) > 1 and Ellipsis not in args
        if fixed and not isinstance(value, (list, tuple)):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected {type_name(tp)}, got {value!r}")
        if fixed and len(value) == 1:  # a pair given as one number: (n, n)
            value = list(value) * len(args)
        if fixed and len(value) != len(args):
            raise ConfigError(f"{key}: expected {len(args)} values, got {value!r}")
        items = [coerce_value(v, inner, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    return _coerce_scalar(value, tp, key)


def plain(v):
    """``v`` as JSON data: nested configs as dicts, tuples as lists."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return config_to_dict(v)
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def config_to_dict(cfg) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass, nested configs as nested dicts."""
    return {f.name: plain(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}


def load_preset(path: str | Path) -> tuple[str | None, dict[str, Any]]:
    """Read a preset (a path or a preset name, see :mod:`neuromem.presets`).

    Returns the experiment name (or None) and the config mapping.
    """
    from neuromem import presets

    p = presets.load(path)
    return p.experiment, p.config


# --------------------------------------------------------------------------- nested fields
@dataclasses.dataclass(frozen=True)
class Leaf:
    """One settable field of a (nested) config.

    Attributes
    ----------
    path : str
        Dotted path from the top config (``model.levels.0.G_min``).
    owner : object
        The dataclass instance holding the field.
    name : str
        Field name in ``owner``.
    type : object
        The field's type annotation.
    """

    path: str
    owner: Any
    name: str
    type: Any

    @property
    def value(self):
        return getattr(self.owner, self.name)

    @property
    def default(self):
        """The default of the field in its owner's class (what ``Owner()`` holds)."""
        f = {f.name: f for f in dataclasses.fields(self.owner)}[self.name]
        if f.default is not dataclasses.MISSING:
            return f.default
        if f.default_factory is not dataclasses.MISSING:
            return f.default_factory()
        return dataclasses.MISSING


def _is_config(v) -> bool:
    return dataclasses.is_dataclass(v) and not isinstance(v, type)


def _hints(obj) -> dict:
    return typing.get_type_hints(type(obj))


def leaves(cfg, prefix: str = "") -> list[Leaf]:
    """Every settable field of ``cfg``, nested configs (and lists of them) expanded."""
    out: list[Leaf] = []
    hints = _hints(cfg)
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        path = f"{prefix}{f.name}"
        if _is_config(v):
            out.extend(leaves(v, path + "."))
        elif isinstance(v, (list, tuple)) and v and all(_is_config(x) for x in v):
            for i, x in enumerate(v):
                out.extend(leaves(x, f"{path}.{i}."))
        else:
            out.append(Leaf(path, cfg, f.name, hints[f.name]))
    return out


def _match(key: str, all_leaves: list[Leaf], experiment: str) -> Leaf:
    exact = [lf for lf in all_leaves if lf.path == key]
    if exact:
        return exact[0]
    hits = [lf for lf in all_leaves if lf.path.endswith("." + key)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise ConfigError(
            f"ambiguous config key {key!r} for {experiment}: use one of "
            f"{', '.join(lf.path for lf in hits)}"
        )
    accepted = ", ".join(sorted(lf.path for lf in all_leaves)) or "(none)"
    raise ConfigError(f"unknown config key {key!r} for {experiment}; accepted keys: {accepted}")


def _list_item_type(tp):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for a in typing.get_args(tp):
            if a is not type(None):
                return _list_item_type(a)
    if origin in (list, tuple):
        args = typing.get_args(tp)
        return args[0] if args else None
    return None


def _flatten(layer: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts (TOML tables) to dotted keys; a list of tables stays one value."""
    out = []
    for k, v in layer.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(_flatten(v, key + "."))
        else:
            out.append((key, v))
    return out


def _apply(cfg, key: str, raw, experiment: str) -> None:
    # a whole list of nested configs (e.g. [[config.model.levels]] in TOML)
    if isinstance(raw, list) and raw and all(isinstance(x, dict) for x in raw):
        owner, name = _owner_of(cfg, key, experiment)
        tp = _hints(owner)[name]
        item_t = _list_item_type(tp)
        if item_t is not None and dataclasses.is_dataclass(item_t):
            items = [resolve_config(item_t, d, experiment=f"{experiment} {key}[{i}]",
                                    validate=False)  # fmt: skip
                     for i, d in enumerate(raw)]  # fmt: skip
            setattr(owner, name, items)
            return
    lf = _match(key, leaves(cfg), experiment)
    setattr(lf.owner, lf.name, coerce_value(raw, lf.type, lf.path))


def _owner_of(cfg, key: str, experiment: str):
    """The config holding the (non-leaf) field at dotted ``key`` (exact path only)."""
    parts = key.split(".")
    obj = cfg
    for part in parts[:-1]:
        obj = obj[int(part)] if isinstance(obj, (list, tuple)) else getattr(obj, part, None)
        if obj is None:
            break
    if obj is not None and _is_config(obj) and parts[-1] in {f.name for f in
                                                             dataclasses.fields(obj)}:  # fmt: skip
        return obj, parts[-1]
    raise ConfigError(f"unknown config key {key!r} for {experiment}")


def _validate_tree(cfg, experiment: str) -> None:
    """Call ``validate()`` of the nested configs (innermost first), then of ``cfg``."""
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        subs = [v] if _is_config(v) else [x for x in v if _is_config(x)] if isinstance(
            v, (list, tuple)) else []  # fmt: skip
        for sub in subs:
            _validate_tree(sub, experiment)
    validate = getattr(cfg, "validate", None)
    if callable(validate):
        try:
            validate()
        except ConfigError:
            raise
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{experiment}: {e}") from None


def resolve_config(
    config_cls, *layers: dict[str, Any], experiment: str = "experiment", validate: bool = True
):
    """Build ``config_cls`` from its defaults updated by each mapping in ``layers`` in turn.

    Keys are dotted paths or unambiguous flat names (see the module doc); nested dicts are
    nested tables. Unknown or ambiguous keys and values of the wrong type raise
    :class:`ConfigError`; so does a failing ``validate()`` method of the config or of any
    config nested in it.
    """
    try:
        cfg = config_cls()
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{experiment}: {e}") from None
    for layer in layers:
        if not isinstance(layer, dict):
            raise ConfigError(f"{experiment}: config values must be a mapping, got {layer!r}")
        for key, raw in _flatten(layer):
            _apply(cfg, key, raw, experiment)
    if validate:
        _validate_tree(cfg, experiment)
    return cfg


# --------------------------------------------------------------------------- documentation
def field_docs(cls) -> dict[str, str]:
    """One line of doc per field, from the class docstring's Attributes/Parameters section.

    Numpy style: ``name : type`` (or ``a, b : type``) then an indented description; the first
    sentence of the description is returned. Docs of base classes are included (a subclass's
    own win).
    """
    out: dict[str, str] = {}
    for klass in reversed(type.mro(cls) if isinstance(cls, type) else [cls]):
        if klass is object:
            continue
        out.update(_own_field_docs(klass))
    return out


def _own_field_docs(cls) -> dict[str, str]:
    import re

    doc = cls.__dict__.get("__doc__") or ""
    import inspect

    doc = inspect.cleandoc(doc)
    out: dict[str, str] = {}
    lines = doc.splitlines()
    in_sec = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() in ("Attributes", "Parameters") and i + 1 < len(lines) and set(
            lines[i + 1].strip()) == {"-"}:  # fmt: skip
            in_sec = True
            i += 2
            continue
        if in_sec and line and not line.startswith(" "):
            m = re.match(r"^([A-Za-z_][\w, ]*?)\s*:\s*(.*)$", line)
            if m is None and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
                in_sec = False
                i += 1
                continue
            if m is not None:
                desc = []
                j = i + 1
                while j < len(lines) and (lines[j].startswith(" ") or not lines[j].strip()):
                    if not lines[j].strip():
                        if desc:
                            break
                    else:
                        desc.append(lines[j].strip())
                    j += 1
                text = " ".join(desc)
                first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0] if text else m.group(2)
                for name in m.group(1).split(","):
                    out.setdefault(name.strip(), first)
                i = j
                continue
        i += 1
    return out
