"""`ttsbench list systems|metrics|prompt-sets|asr|normalizers|archs [PATTERN]`, and
`ttsbench list systems|metrics --options NAME`: the options one system or metric declares."""

from __future__ import annotations

import argparse

from tabulate import tabulate

from ttsbench.errors import TTSBenchError
from ttsbench.options import describe_options

OPTION_KINDS = ("systems", "metrics")  # the registries whose plugins declare options


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ttsbench.plugins import REGISTRIES, REGISTRY_ALIASES

    p = sub.add_parser("list", aliases=["ls"], help="list registered systems, metrics, prompt sets ...")
    p.add_argument("kind", choices=sorted(REGISTRIES) + sorted(REGISTRY_ALIASES), metavar="KIND",
                   help=f"which registry: {', '.join(sorted(REGISTRIES))}")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'ditar-*'")
    p.add_argument("--markdown", action="store_true", help="a Markdown table with one-line descriptions")
    p.add_argument("--options", metavar="NAME",
                   help="the options of one system or metric: name, type, default, allowed values, help")
    p.set_defaults(func=cmd_list)
    return p


def describe(obj: object) -> str:
    """The first line of a plugin's description or docstring."""
    text = getattr(obj, "description", None) or getattr(obj, "__doc__", None) or ""
    return str(text).strip().splitlines()[0] if str(text).strip() else ""


def cmd_list(args: argparse.Namespace) -> int:
    import sys

    from ttsbench.plugins import REGISTRIES, REGISTRY_ALIASES

    if args.kind in REGISTRY_ALIASES:
        print(f"ttsbench: `list {args.kind}` is deprecated; use `list {REGISTRY_ALIASES[args.kind]}`", file=sys.stderr)
    kind = REGISTRY_ALIASES.get(args.kind, args.kind)
    registry = REGISTRIES[kind]
    if args.options is not None:
        if kind not in OPTION_KINDS:
            raise TTSBenchError(f"--options lists the options of {' or '.join(OPTION_KINDS)}, not {kind}")
        print_options(registry.kind, args.options, registry.get(args.options), markdown=args.markdown)
        return 0
    names = registry.names(args.pattern)
    if args.markdown:
        print(f"| {registry.kind} | description |\n|---|---|")
        for name in names:
            print(f"| `{name}` | {describe(registry.get(name)).replace('|', '/')} |")
    else:
        for name in names:
            print(f"{name:28s} {describe(registry.get(name))}")
    return 0


def print_options(kind: str, name: str, plugin: object, *, markdown: bool = False) -> None:
    """One row per declared option (the class attribute `Options`), or a line saying there are none."""
    rows = describe_options(plugin.Options)  # type: ignore[attr-defined]
    if not rows:
        print(f"{kind} {name!r} takes no options")
        return
    table = [[r.name, r.type, r.default, r.allowed, r.help] for r in rows]
    print(tabulate(table, headers=["option", "type", "default", "allowed", "help"],
                   tablefmt="github" if markdown else "simple"))
