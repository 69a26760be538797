"""`ttsbench list systems|metrics|prompt-sets|asr|normalizers|archs [PATTERN]`."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ttsbench.plugins import REGISTRIES, REGISTRY_ALIASES

    p = sub.add_parser("list", aliases=["ls"], help="list registered systems, metrics, prompt sets ...")
    p.add_argument("kind", choices=sorted(REGISTRIES) + sorted(REGISTRY_ALIASES), metavar="KIND",
                   help=f"which registry: {', '.join(sorted(REGISTRIES))}")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'ditar-*'")
    p.add_argument("--markdown", action="store_true", help="a Markdown table with one-line descriptions")
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
    registry = REGISTRIES[REGISTRY_ALIASES.get(args.kind, args.kind)]
    names = registry.names(args.pattern)
    if args.markdown:
        print(f"| {registry.kind} | description |\n|---|---|")
        for name in names:
            print(f"| `{name}` | {describe(registry.get(name)).replace('|', '/')} |")
    else:
        for name in names:
            print(f"{name:28s} {describe(registry.get(name))}")
    return 0
