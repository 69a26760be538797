"""Declared, typed options of systems and metrics: a misspelt or ill-typed option fails in one line.

Each system and metric class declares its options as one frozen dataclass, the class attribute
`Options`, whose fields carry a default, a one-line help and the allowed values::

    @dataclass(frozen=True)
    class Options:
        nfe: int = option(10, "network calls per patch", min=1)
        dtype: str = option("fp32", "compute dtype", choices=("fp32", "bf16"))
        model: Path | None = option(None, "model directory (default: under the cache dir)")

`parse_options(Options, raw, owner=...)` turns the raw `key=value` options of a spec (already
bool / int / float / str, see `ttsbench.types.parse_value`, or TOML values) into that dataclass.
Field types: bool, int, float, str, Path and `X | None` ("none" or an empty value gives None). An int
is accepted for a float, and a number for a text field, as its text (`sha256=1234` is '1234';
`voice=007` arrives as the text '007' already). Unknown keys, wrong types and values out of range
or outside the choices raise `OptionError`, one line naming the owner. Checks over several fields
go in the dataclass's `__post_init__` (raise `OptionError` there; the owner is prefixed).

A dataclass may name what users are likely to try instead of an option (`suggest = {"tau":
"temperature"}`, a plain class attribute, not a field: retired aliases, another system's word for
the same thing): such a name is still an unknown option, but its "did you mean" names the option.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ttsbench.errors import InputError

T = TypeVar("T")

_SCALARS = (bool, int, float, str, Path)
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class OptionError(InputError):
    """An option a system or metric does not declare, or a value of the wrong type or range."""


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """The options of a class that takes none."""


def option(default: Any, help: str, *, min: float | None = None, max: float | None = None,
           above: float | None = None, choices: Sequence[Any] | None = None) -> Any:
    """A declared option: its default, one line of help and the allowed values.

    `min` / `max` are inclusive bounds, `above` an exclusive lower bound (`above=0`: > 0);
    `choices` the allowed values. The default must satisfy them (the declaration test checks).
    """
    meta = {"help": help, "min": min, "max": max, "above": above,
            "choices": tuple(choices) if choices is not None else None}
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class Declared:
    """One declared option as `ttsbench list ... --options` shows it."""

    name: str
    type: str
    default: str
    allowed: str
    help: str


def parse_options(declared: type[T], raw: Mapping[str, Any], *, owner: str) -> T:
    """The `declared` dataclass from raw spec options; `owner` names who takes them in errors
    (e.g. "system 'ditar-tiny'")."""
    fields = {f.name: f for f in dataclasses.fields(declared)}  # type: ignore[arg-type]
    unknown = [key for key in raw if key not in fields]
    if unknown:
        raise OptionError(unknown_message(declared, unknown, owner))
    hints = typing.get_type_hints(declared)
    values = {key: _convert(value, hints[key], fields[key].metadata, f"{owner}: option {key}")
              for key, value in raw.items()}
    try:
        return declared(**values)
    except OptionError as err:  # a check over several fields, in __post_init__
        raise OptionError(f"{owner}: {err}") from None


def unknown_message(declared: type, unknown: Sequence[str], owner: str) -> str:
    """One line: the unknown key(s), the closest known name of each, and every known name."""
    known = sorted(f.name for f in dataclasses.fields(declared))
    suggest = getattr(declared, "suggest", {})

    def closest(key: str) -> str | None:
        if suggest.get(key) in known:
            return str(suggest[key])
        matches = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        return matches[0] if matches else None

    if len(unknown) == 1:
        close = closest(unknown[0])
        head = f"{owner}: unknown option {unknown[0]!r}." + (f" Did you mean {close!r}?" if close else "")
    else:
        pairs = [(key, closest(key)) for key in unknown]
        head = f"{owner}: unknown options " + ", ".join(
            f"{key!r}" + (f" (did you mean {close!r}?)" if close else "") for key, close in pairs) + "."
    return head + (f" known options: {', '.join(known)}" if known else " It takes no options.")


def describe_options(declared: type) -> list[Declared]:
    """Name, type, default, allowed values and help of every declared option, in declaration order."""
    hints = typing.get_type_hints(declared)
    out = []
    for f in dataclasses.fields(declared):
        out.append(Declared(f.name, _type_name(hints[f.name]), show(f.default), _allowed(f.metadata),
                            f.metadata.get("help", "")))
    return out


def check_declaration(declared: type) -> None:
    """Raise TypeError when a declaration is unusable: not a frozen dataclass, a field without a
    help line or of an unsupported type, or a default its own rules refuse. Tests call this."""
    params = getattr(declared, "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise TypeError(f"{declared.__qualname__} must be a frozen dataclass")
    hints = typing.get_type_hints(declared)
    for f in dataclasses.fields(declared):
        base, optional = _unwrap(hints[f.name])
        if base not in _SCALARS or not f.metadata.get("help"):
            raise TypeError(f"{declared.__qualname__}.{f.name}: declare it with option(default, help) "
                            f"and one of bool, int, float, str, Path (or X | None)")
        if f.default is dataclasses.MISSING or (f.default is None and not optional):
            raise TypeError(f"{declared.__qualname__}.{f.name} has no default of its type")
        try:
            if f.default is not None:
                _convert(f.default, hints[f.name], f.metadata, f.name)
        except OptionError as err:
            raise TypeError(f"{declared.__qualname__}: the default is refused: {err}") from None


def show(value: Any) -> str:
    """A value as one writes it in `NAME:key=value` (true, none, 0.5, '' for the empty text)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if str(value) else "''"


# ---- conversion ---------------------------------------------------------------------------------
def _unwrap(hint: Any) -> tuple[Any, bool]:
    """(the scalar type, whether None is allowed) of `X` or `X | None`."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else None), True
    return hint, False


def _convert(value: Any, hint: Any, meta: Mapping[str, Any], where: str) -> Any:
    base, optional = _unwrap(hint)
    if optional and (value is None or (isinstance(value, str) and value.strip().lower() in ("none", ""))):
        return None
    typed = _as_type(value, base, where)
    _check_allowed(typed, meta, f"{where}={show(value)}")
    return typed


def _as_type(value: Any, base: Any, where: str) -> Any:
    bad = OptionError(f"{where}={show(value)} is not {_PHRASE.get(base, base)}")
    if base in (str, Path):  # a number or a bool was text on the command line: keep it as text
        if isinstance(value, (str, int, float, Path)):
            return base(show(value) if isinstance(value, bool) else str(value))
        raise bad
    if base is bool:
        text = str(value).strip().lower()
        if isinstance(value, bool) or (isinstance(value, (int, str)) and text in _TRUE + _FALSE):
            return value if isinstance(value, bool) else text in _TRUE
        raise bad
    if isinstance(value, bool):  # bool is an int to Python, never to a user
        raise bad
    if base is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return value if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            raise bad from None
    try:  # float
        number = float(value) if isinstance(value, (int, float, str)) else math.nan
    except ValueError:
        raise bad from None
    if math.isnan(number):
        raise bad
    return number


def _check_allowed(value: Any, meta: Mapping[str, Any], where: str) -> None:
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise OptionError(f"{where} is not one of {', '.join(map(show, choices))}")
    lo, hi, above = meta.get("min"), meta.get("max"), meta.get("above")
    low = (lo is not None and value < lo) or (above is not None and value <= above)
    if low or (hi is not None and value > hi):
        raise OptionError(f"{where} is out of range (allowed: {_allowed(meta)})")


_PHRASE = {bool: "true or false", int: "an integer", float: "a number", str: "text", Path: "a path"}


def _type_name(hint: Any) -> str:
    base, optional = _unwrap(hint)
    name = {bool: "bool", int: "integer", float: "number", str: "text", Path: "path"}.get(base, str(base))
    return f"{name} or none" if optional else name


def _allowed(meta: Mapping[str, Any]) -> str:
    if meta.get("choices") is not None:
        return " | ".join(map(show, meta["choices"]))
    lo, hi, above = meta.get("min"), meta.get("max"), meta.get("above")
    if above is not None:
        return f"> {show(above)}" + (f" and <= {show(hi)}" if hi is not None else "")
    if lo is not None and hi is not None:
        return f"{show(lo)} .. {show(hi)}"
    if lo is not None:
        return f">= {show(lo)}"
    if hi is not None:
        return f"<= {show(hi)}"
    return ""
