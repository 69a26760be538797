"""Typed, frozen training configs from TOML, with `--set a.b=value` overrides.

Nested dataclasses map to TOML tables; unknown keys are errors that list the valid keys; lists
become tuples; `Path` fields become Paths. Values given with `--set` are parsed as TOML values
(`3e-4`, `true`, `[0.9, 0.99]`, `"text"`), and a bare word stays a string.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from ttsbench.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")


def load_config(cls: type[T], path: str | Path, overrides: Sequence[str] = ()) -> T:
    """Parse TOML at `path` into dataclass `cls`, after applying `key.sub=value` overrides."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML: {err}") from None
    for item in overrides:
        apply_override(raw, item)
    return from_dict(cls, raw, where=str(path))


def apply_override(raw: dict[str, Any], item: str) -> None:
    """Set `a.b.c=value` in a nested dict (creating tables as needed)."""
    key, eq, text = item.partition("=")
    if not eq or not key.strip():
        raise InputError(f"bad override {item!r}; expected key.path=value")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    *parents, leaf = key.strip().split(".")
    table = raw
    for part in parents:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise InputError(f"override {item!r}: {part!r} is not a table")
    table[leaf] = value


def from_dict(cls: type[T], data: dict[str, Any], *, where: str = "config") -> T:
    """Build dataclass `cls` from a (nested) dict; unknown keys and wrong types raise InputError."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a table for {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = set(data) - set(fields)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {sorted(unknown)} for {cls.__name__}; valid: {sorted(fields)}")
    kwargs = {name: _convert(hints[name], value, f"{where}: {name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise InputError(f"{where}: {err}") from None


def to_dict(obj: Any) -> Any:
    """A dataclass as plain JSON/TOML-friendly values (Paths become strings, tuples lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(options[0], value, where) if len(options) == 1 else value
    if dataclasses.is_dataclass(hint):
        return value if isinstance(value, hint) else from_dict(hint, value, where=where)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{where}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        return tuple(_convert(inner, v, where) for v in value)
    if hint is Path:
        return Path(value).expanduser()
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not isinstance(value, hint):
        raise InputError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value
