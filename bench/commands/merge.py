"""`ttsbench merge RUN_DIR`: the run.json and summary.json of a sharded run, from the shards that finished."""

from __future__ import annotations

import argparse
from pathlib import Path

from ttsbench.commands.run import print_summary


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("merge", help="summarize a sharded run (--shard I/N or torchrun) from its finished shards",
                       description="Write run.json and summary.json of a run directory whose shards wrote their "
                                   "own files; the summary names the shards that have not finished. Merging "
                                   "again (after more shards finish) updates both.")
    p.add_argument("run_dir", type=Path, help="the run directory the shards share")
    p.set_defaults(func=cmd_merge)
    return p


def cmd_merge(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.pipeline import merge

    return print_summary(merge(args.run_dir))
