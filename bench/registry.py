"""A generic name -> plugin registry with decorator registration and entry-point plugins.

Built-in plugins register themselves with a decorator when their module is imported (so the
decorator is the one source of truth: there is no second hand-written list), which keeps `import
ttsbench` cheap. Looking up one name imports only the module whose source registers it with a
literal `@<SYMBOL>.register("name")` (found by reading the files, not importing them), so scoring
with one recipe does not load every other recipe's libraries (torch, for a faster-whisper WER);
any other lookup, and listing, imports every module under the built-in packages.
Outside packages add plugins through an entry-point group, e.g.::

    [project.entry-points."ttsbench.systems"]
    my-tts = "my_pkg.adapter:MyTTS"
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Generic, TypeVar

from ttsbench.errors import DuplicateNameError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to plugins (classes or objects). Unknown names fail with close matches."""

    def __init__(self, kind: str, *, entry_point_group: str, builtin_packages: Iterable[str] = (),
                 builtin_loader: Callable[[Registry[T]], None] | None = None,
                 list_command: str | None = None, old_groups: Iterable[str] = (), symbol: str | None = None) -> None:
        """`old_groups`: entry-point groups this registry had under an earlier name, still read.
        `symbol`: the registry's name in the code (`METRICS`), for the one-module lookup."""
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._groups = (entry_point_group, *old_groups)
        self._builtin_packages = tuple(builtin_packages)
        self._builtin_loader = builtin_loader
        self._list_command = list_command
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._loaded = False
        self._symbol = symbol
        self._where: dict[str, str] | None = None  # name -> the built-in module that registers it

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: `@SYSTEMS.register("ditar-0.6b")`. A taken name raises DuplicateNameError."""

        def deco(obj: T) -> T:
            self.add(name, obj)
            return obj

        return deco

    def add(self, name: str, obj: T, *, origin: str = "builtin") -> None:
        """Register `obj` under `name` without a decorator."""
        if name in self._items and self._items[name] is not obj:
            raise DuplicateNameError(
                f"{self.kind} name {name!r} is registered twice "
                f"({self._origins[name]} and {origin}); rename one of them")
        self._items[name] = obj
        self._origins[name] = origin
        if hasattr(obj, "__dict__") and isinstance(obj, type) and "registry_name" not in obj.__dict__:
            try:
                obj.registry_name = name  # type: ignore[attr-defined]
            except (AttributeError, TypeError):
                pass

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for package in self._builtin_packages:
            _import_tree(package)
        if self._builtin_loader is not None:
            self._builtin_loader(self)
        for group in self._groups:
            for ep in metadata.entry_points(group=group):
                if ep.name not in self._items and ep.name not in self._lazy:
                    self._lazy[ep.name] = ep

    @property
    def _lazy(self) -> dict[str, metadata.EntryPoint]:
        if not hasattr(self, "_lazy_eps"):
            self._lazy_eps: dict[str, metadata.EntryPoint] = {}
        return self._lazy_eps

    def get(self, name: str) -> T:
        """The plugin called `name`; an unknown name raises UnknownNameError with suggestions."""
        if name in self._items:
            return self._items[name]
        if not self._loaded and name in self._sources():
            importlib.import_module(self._sources()[name])  # only the module that registers it
            if name in self._items:
                return self._items[name]
        self._ensure_loaded()
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            ep = self._lazy.pop(name)
            self.add(name, ep.load(), origin=f"entry point {ep.value}")
            return self._items[name]
        known = self.names()
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        cmd = f" (run `{self._list_command}`)" if self._list_command else ""
        raise UnknownNameError(
            f"no {self.kind} named {name!r}.{hint} known {self.kind}s: {', '.join(known)}{cmd}")

    def _sources(self) -> dict[str, str]:
        """name -> module of every literal `@<symbol>.register("name")` under the built-in packages."""
        if self._where is None:
            self._where = {}
            if self._symbol is not None:
                pattern = re.compile(rf'@{self._symbol}\.register\(\s*"([^"]+)"\s*\)')
                for module, path in _module_files(self._builtin_packages):
                    for name in pattern.findall(path.read_text(encoding="utf-8")):
                        self._where.setdefault(name, module)
        return self._where

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted names matching an fnmatch pattern, built-ins and installed plugins."""
        self._ensure_loaded()
        every = set(self._items) | set(self._lazy)
        return sorted(n for n in every if fnmatch.fnmatchcase(n, pattern))

    def items(self, pattern: str = "*") -> list[tuple[str, T]]:
        """(name, plugin) pairs; loads entry-point plugins that match."""
        return [(n, self.get(n)) for n in self.names(pattern)]

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._items or name in self._lazy


def _module_files(packages: Iterable[str]) -> Iterable[tuple[str, Path]]:
    """(module name, source file) of every module under `packages`, found without importing any."""
    for package in packages:
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(folder).rglob("*.py")):
                parts = path.relative_to(folder).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                yield ".".join((package, *parts)), path


def _import_tree(package: str) -> None:
    """Import `package` and every module below it (modules only define things: no side effects)."""
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=f"{package}."):
        importlib.import_module(info.name)
