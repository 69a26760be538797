"""`ttsbench normalize RECIPE [TEXT ...]`: a WER recipe's normalized form of each text, one per line.

Shows exactly the tokens a recipe aligns (joined by single spaces), so a user can see why a WER
moved. RECIPE is a WER recipe (seedtts-en, seedtts-zh, f5-en, hubert-en, wer-whisper-tiny-en ...)
or a normalizer name (`ttsbench list normalizers`). With no TEXT, lines are read from stdin.

    ttsbench normalize seedtts-en "Don't panic — it's 5 o'clock!"
    ttsbench normalize f5-en "Don't panic — it's 5 o'clock!"
    ttsbench normalize --hyp seedtts-zh "這是一個測試。"      # ASR side: traditional -> simplified first
"""

from __future__ import annotations

import argparse
import difflib
import sys


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("normalize", help="print a WER recipe's normalized form of each text",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("recipe", help="WER recipe or normalizer name")
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to normalize (default: lines of stdin)")
    p.add_argument("--hyp", action="store_true",
                   help="treat the texts as ASR output (apply the recipe's hypothesis-side conversion)")
    p.set_defaults(func=cmd_normalize)
    return p


def resolve(name: str):
    """The normalizer of a WER recipe, or the normalizer registered under `name`."""
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.errors import UnknownNameError
    from ttsbench.metrics.text import get_normalizer
    from ttsbench.plugins import METRICS, NORMALIZERS

    wer = {n: getattr(METRICS.get(n), "normalizer", None) for n in METRICS.names()}
    wer = {n: v for n, v in wer.items() if isinstance(v, str) and v}
    if name in wer:
        return get_normalizer(wer[name])
    if name in NORMALIZERS:
        return get_normalizer(name)
    known = sorted(set(wer) | set(NORMALIZERS.names()))
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownNameError(f"no WER recipe or normalizer named {name!r}.{hint} known: {', '.join(known)}")


def cmd_normalize(args: argparse.Namespace) -> int:
    normalizer = resolve(args.recipe)
    texts = args.texts if args.texts else [line.rstrip("\n") for line in sys.stdin]
    for text in texts:
        print(normalizer.normalize(text, hypothesis=args.hyp))
    return 0
