"""`ttsbench validate SET`: check a whole prompt set before a run, every row and every prompt's audio.

A run validates only the rows it will synthesize (`--limit N`: the first N); this checks them all.
Each problem is one line `file:line: what` on stdout; exit 2 when there is any, 0 when the set is clean.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ttsbench.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "validate", help="check every row and prompt audio of a prompt set (exit 2 on problems)",
        description="Check a prompt set: every row's fields and utterance id, and every prompt's audio "
                    "(readable, not empty, silent, NaN/inf or longer than the set's max_prompt_seconds). "
                    "Lists every problem, one line each.")
    p.add_argument("prompt_set", metavar="SET",
                   help="registered prompt set, a definition .toml or a manifest (.jsonl .csv .lst .tsv)")
    p.add_argument("--audio-root", type=Path, help="audio of a prompt set that ttsbench does not ship")
    p.set_defaults(func=cmd_validate)
    return p


def cmd_validate(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; prompt_sets pulls in soundfile and numpy
    from ttsbench.prompt_sets import PromptSetProblems, load_prompt_set

    try:
        pset = load_prompt_set(args.prompt_set, audio_root=args.audio_root)
    except PromptSetProblems as err:
        print("\n".join(err.problems))
        raise InputError(f"{len(err.problems)} problem(s) in prompt set {args.prompt_set}") from None
    print(f"{pset.name}: {len(pset.prompts)} prompts, every row and prompt audio OK ({pset.checksum})")
    return 0
