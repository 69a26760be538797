"""Typed reads from a parsed JSON object, for the records of the run directory and the stored spec.

`Fields(data, source)` hands out one key at a time as the type the record declares. A missing key
or a JSON null reads as the default; a value of the wrong type is one `InputError` that names the
file and the key path (`.../run.json: metrics.wer.primary must be a string, found a number`).
The keys a record did not read are left over in `rest()`, so records can keep what they do not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ttsbench.errors import InputError


def json_kind(value: Any) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class Fields:
    """One JSON object, read key by key with type checks (see the module docstring)."""

    def __init__(self, data: Any, source: str, path: str = "") -> None:
        """`source` names the file (or row) for errors; `path` is where this object sits in it."""
        self.source, self.path = source, path
        if not isinstance(data, Mapping):
            raise InputError(f"{source}{': ' + path if path else ''} must be a JSON object, "
                             f"found {json_kind(data)}")
        self._data = data
        self._read: set[str] = set()

    def raw(self, key: str, default: Any = None) -> Any:
        """The value as parsed, any type."""
        self._read.add(key)
        value = self._data.get(key)
        return default if value is None else value

    def _typed(self, key: str, ok: type | tuple[type, ...], what: str, default: Any) -> Any:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, ok) or (isinstance(value, bool) and bool not in _as_tuple(ok)):
            raise InputError(f"{self.at(key)} must be {what}, found {json_kind(value)}")
        return value

    def text(self, key: str, default: str | None = None) -> str | None:
        return self._typed(key, str, "a string", default)

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise InputError(f"{self.at(key)} is missing")
        return value

    def integer(self, key: str, default: int | None = None) -> int | None:
        return self._typed(key, int, "an integer", default)

    def number(self, key: str, default: float | None = None) -> float | None:
        """An int or float as stored (NaN included): `1` stays `1`, so rewriting a file keeps its text."""
        return self._typed(key, (int, float), "a number", default)

    def flag(self, key: str, default: bool | None = None) -> bool | None:
        return self._typed(key, bool, "true or false", default)

    def table(self, key: str) -> dict[str, Any]:
        """A free-form object (its keys are someone else's): a copy, {} when absent."""
        return dict(self._typed(key, Mapping, "an object", {}))

    def obj(self, key: str) -> Fields | None:
        """A nested object to read with types, or None when absent."""
        value = self.raw(key)
        return None if value is None else Fields(value, self.source, self.key_path(key))

    def items(self, key: str) -> list[Any]:
        return list(self._typed(key, list, "a list", []))

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.items(key)
        if not all(isinstance(v, str) for v in values):
            raise InputError(f"{self.at(key)} must be a list of strings")
        return tuple(values)

    def rest(self) -> dict[str, Any]:
        """The keys not read so far, as parsed."""
        return {k: v for k, v in self._data.items() if k not in self._read}

    def at(self, key: str) -> str:
        """Where `key` is, for a message: the source, then the dotted key path."""
        return f"{self.source}: {self.key_path(key)}"

    def key_path(self, key: str) -> str:
        """The dotted path of `key` inside the source."""
        return f"{self.path}.{key}" if self.path else key


def _as_tuple(ok: type | tuple[type, ...]) -> tuple[type, ...]:
    return ok if isinstance(ok, tuple) else (ok,)
