"""The `ttsbench` command line. Each subcommand lives in its own module under ttsbench.commands.

A command module defines `add_parser(subparsers) -> argparse.ArgumentParser` and sets
`func=<callable(args) -> int>` on the parser it returns. Nothing runs at import; `main(argv)` is
testable in-process. A TTSBenchError becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from typing import Any

from ttsbench import __version__
from ttsbench.errors import TTSBenchError, TTSBenchWarning

EPILOG = """examples:
  ttsbench demo                                         the embedded demo, offline, on CPU
  ttsbench list systems                                 what is registered (also: metrics, prompt-sets, normalizers)
  ttsbench run --system espeak-ng --prompt-set demo --metrics wer-whisper-tiny-en --seed 0
  ttsbench score GENERATED_DIR --prompt-set seedtts-en --metrics seedtts-en
  ttsbench report runs/ --format md --plot quality_vs_cost.png
  ttsbench check RUN_DIR --baseline baseline.json
  ttsbench flops --system 'ditar-*' --nfe 10            analytic FLOPs of every DiTAR size, 10 LocDiT calls
  ttsbench bitrate --system distar-base:checkpoint=PATH --prompt-set demo --metrics duration   (L' = 1..J)

exit status: 0 done; 1 a job finished but scored nothing (run, score, demo) or a regression (check);
2 bad input, one line on stderr (a name, an option, a file, a folder in use); 130 interrupted.
docs/reliability.md says how each kind of bad input is reported.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ttsbench", description="Evaluate and benchmark zero-shot TTS systems.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ttsbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    import ttsbench.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"ttsbench.commands.{info.name}")
        module.add_parser(sub)
    return parser


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
                  line: str | None = None) -> None:
    """ttsbench's own warnings as one plain line; everyone else's as Python prints them."""
    if issubclass(category, TTSBenchWarning):
        if str(message) not in _said:  # the same skipped line is read by several steps: say it once
            _said.add(str(message))
            print(f"ttsbench: warning: {message}", file=sys.stderr)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning
_said: set[str] = set()


def main(argv: list[str] | None = None) -> int:
    with warnings.catch_warnings():  # scoped: an in-process caller's warning settings come back after
        warnings.showwarning = _show_warning
        warnings.filterwarnings("always", category=TTSBenchWarning)  # deduplicated in _show_warning
        _said.clear()
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except TTSBenchError as err:
        print(f"ttsbench: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full or read-only disk, a permission: the environment, not a bug of ours
        where = f" {err.filename}" if err.filename else ""
        print(f"ttsbench: error: cannot access{where}: {err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ttsbench: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
