"""`ttsbench list systems|metrics|prompt-sets|asr|normalizers|archs [PATTERN]`, and
`ttsbench list systems|metrics --options NAME`: the options one system or metric declares."""

from __future__ import annotations

import argparse
import sys

from ttsbench.cli_options import add_format_alias, add_format_option
from ttsbench.errors import TTSBenchError
from ttsbench.options import describe_options

FORMATS = ("table", "md", "csv", "json", "latex", "html")

OPTION_KINDS = ("systems", "metrics")  # the registries whose plugins declare options


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.plugins import REGISTRIES, REGISTRY_ALIASES

    p = sub.add_parser("list", aliases=["ls"], help="list registered systems, metrics, prompt sets ...")
    p.add_argument("kind", choices=sorted(REGISTRIES) + sorted(REGISTRY_ALIASES), metavar="KIND",
                   help=f"which registry: {', '.join(sorted(REGISTRIES))}")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'ditar-*'")
    add_format_option(p, FORMATS, "table")
    add_format_alias(p, "--markdown", "md")
    p.add_argument("--options", metavar="NAME",
                   help="the options of one system or metric: name, type, default, allowed values, help")
    p.set_defaults(func=cmd_list)
    return p


def describe(obj: object) -> str:
    """The first line of a plugin's description or docstring."""
    text = getattr(obj, "description", None) or getattr(obj, "__doc__", None) or ""
    return str(text).strip().splitlines()[0] if str(text).strip() else ""


def cmd_list(args: argparse.Namespace) -> int:
    # lazy: the registries import every plugin (torch, models); the parser is built at every CLI start
    from ttsbench.plugins import REGISTRIES, REGISTRY_ALIASES
    from ttsbench.reports.tabular import render_records, render_table

    if args.kind in REGISTRY_ALIASES:
        print(f"ttsbench: `list {args.kind}` is deprecated; use `list {REGISTRY_ALIASES[args.kind]}`", file=sys.stderr)
    kind = REGISTRY_ALIASES.get(args.kind, args.kind)
    registry = REGISTRIES[kind]
    if args.options is not None:
        if kind not in OPTION_KINDS:
            raise TTSBenchError(f"--options lists the options of {' or '.join(OPTION_KINDS)}, not {kind}")
        rows = [vars(r) for r in describe_options(registry.get(args.options).Options)]
        if not rows and args.format not in ("json", "csv"):
            print(f"{registry.kind} {args.options!r} takes no options")
            return 0
        header = ["option", "type", "default", "allowed", "help"]
    else:
        rows = [{"name": n, "description": describe(registry.get(n))} for n in registry.names(args.pattern)]
        header = [registry.kind, "description"]
    if args.format in ("json", "csv"):
        print(render_records(rows, args.format), end="")
    elif args.format == "table" and args.options is None:  # one name per line: easy to grep and cut
        print("".join(f"{r['name']:28s} {r['description']}\n" for r in rows), end="")
    else:
        print(render_table(header, [list(r.values()) for r in rows], args.format), end="")
    return 0
