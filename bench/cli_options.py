"""Command-line options that several `ttsbench` commands share, spelt the same everywhere.

`--prompt-set` names a prompt set (`--testset` is its deprecated alias, kept for one release);
`add_run_options` adds what run, score, demo and bitrate share (None defaults, so only what is
given overrides a spec file); `add_format_option` is the one output-format flag (`--json` and
`--markdown` are deprecated spellings of `--format json` / `--format md`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class DeprecatedAlias(argparse.Action):
    """Store the value like the option it stands for, with one line on stderr naming the new spelling."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"ttsbench: {option_string} is deprecated; use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_prompt_set_option(p: argparse.ArgumentParser, *, required: bool = False,
                          help: str = "registered prompt set or a manifest file (.jsonl .csv .lst)") -> None:
    """`--prompt-set NAME|FILE` and its deprecated alias `--testset` (hidden from --help)."""
    group = p.add_mutually_exclusive_group(required=required)
    group.add_argument("--prompt-set", dest="prompt_set", metavar="SET", help=help)
    group.add_argument("--testset", dest="prompt_set", action=DeprecatedAlias, new="--prompt-set",
                       help=argparse.SUPPRESS)


def add_run_options(p: argparse.ArgumentParser) -> None:
    """Options shared by run, score, demo and bitrate (None defaults: only what is given overrides a spec)."""
    p.add_argument("--limit", type=int, help="only the first N prompts")
    p.add_argument("--device", help="cpu | cuda | cuda:N")
    p.add_argument("--out", type=Path, help="root of run directories (default runs/)")
    p.add_argument("--audio-root", type=Path, help="audio of a prompt set that ttsbench does not ship")
    p.add_argument("--cache-dir", type=Path, help="model weights (default $TTSBENCH_CACHE)")
    p.add_argument("--allow-download", action="store_true", default=None,
                   help="let recipes fetch missing weights (never the default)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def add_shard_option(p: argparse.ArgumentParser) -> None:
    """`--shard I/N`: do only shard I (from 0) of N of the utterances (a job array; torchrun needs none)."""
    p.add_argument("--shard", metavar="I/N",
                   help="only shard I of N (I from 0; e.g. $SLURM_ARRAY_TASK_ID/8): the shards write their own "
                        "files in one run directory, the last to finish merges (or `ttsbench merge DIR`); "
                        "under torchrun each rank takes its shard without this option")


def add_format_option(p: argparse.ArgumentParser, choices: Sequence[str], default: str, *,
                      what: str = "what to print on stdout") -> None:
    """The one output-format flag: `--format` with the shared vocabulary of `ttsbench.reports.tabular`
    (table, md, csv, json, latex, html), each command offering the subset that applies."""
    p.add_argument("--format", choices=list(choices), default=default, help=f"{what} (default {default})")


def add_format_alias(p: argparse.ArgumentParser, flag: str, value: str) -> None:
    """`flag` (e.g. `--json`), a deprecated spelling of `--format value` (hidden; kept for one release)."""
    p.add_argument(flag, dest="format", action=_DeprecatedConst, nargs=0, const=value, new=f"--format {value}",
                   help=argparse.SUPPRESS)


def add_json_alias(p: argparse.ArgumentParser) -> None:
    """`--json`, the deprecated spelling of `--format json`."""
    add_format_alias(p, "--json", "json")


class _DeprecatedConst(DeprecatedAlias):
    """A flag without a value that stores `const`, with the deprecation line."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, const: Any, new: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, new=new, const=const, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        super().__call__(parser, namespace, self.const, option_string)
