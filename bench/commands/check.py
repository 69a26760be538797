"""`ttsbench check`: the CI regression gate of one run against a baseline file (exit 1 on regression)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ttsbench.errors import InputError

DESCRIPTION = """\
Compare one run's summary.json with a baseline file (JSON, or TOML when it ends in .toml) and print
one line per gated metric. Exit 0 when nothing regressed, 1 on any regression or another prompt
set, 2 on bad input.

A check fails when its value moved in the bad direction (lower-is-better up, higher-is-better down,
descriptive either way) by more than max(abs, rel x |baseline|); when the run scored more than
max_dropped fewer utterances than the baseline; when the recipe fingerprint changed; or when the
run's value is missing, NaN or inf. The whole check fails when the run was made on another prompt
set than the baseline (run.json's prompt-set checksum differs) unless --allow-other-set is given;
a baseline or run that records no checksum is "not verified", which check says and goes on.

Baseline file (schema 2; schema 1, with run.testset and no checksum, is still read):

  {"schema_version": 2,
   "run": {"run_id": "...", "system": "...", "n_expected": 40,
           "prompt_set": {"name": "seedtts-en", "checksum": "sha256:..."}},
   "checks": [{"metric": "wer-seedtts-en", "key": "wer_macro", "value": 2.31,
               "higher_is_better": false, "fingerprint_id": "1a2b3c4d5e6f", "n_scored": 40,
               "abs": 0.2, "rel": 0.05, "max_dropped": 0}]}

Every number must be finite: NaN or inf anywhere (JSON NaN/Infinity, TOML nan/inf) is bad input.

A training folder (`ttsbench train ... ` with `[eval] every > 0`: it holds eval.jsonl) is gated by
its newest evaluated checkpoint: the run of the last eval.jsonl row that has one, against --baseline
or else the `[eval] baseline` of the folder's config.json. One line for CI:

  ttsbench check runs/train/ditar-espeak            # exit 1 when the latest checkpoint regressed

--write-baseline writes the file from this run instead: the prompt set's name and checksum, one
check per metric on its primary key with its fingerprint_id, rel = 0.05, abs = half the stored 95 %
CI width of that key (0 without a CI), max_dropped = 0. Edit the file to tune a tolerance."""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("check", help="CI gate: compare a run with a baseline (exit 1 on regression)",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a run directory (or a parent holding exactly one run), or a "
                   "training folder (its newest evaluated checkpoint)")
    p.add_argument("--baseline", type=Path, help="baseline file (.json or .toml); a training folder's "
                   "default is its [eval] baseline")
    p.add_argument("--write-baseline", action="store_true",
                   help="write the baseline from this run and exit 0")
    p.add_argument("--allow-other-set", action="store_true",
                   help="compare even when the run's prompt set is not the baseline's (the output says so)")
    p.add_argument("--rel", type=float, default=None,
                   help="with --write-baseline: relative tolerance (default 0.05)")
    p.add_argument("--abs", type=float, default=None, dest="abs_", metavar="ABS",
                   help="with --write-baseline: absolute tolerance in each metric's unit "
                        "(default: CI half-width)")
    p.set_defaults(func=cmd_check)
    return p


def _one_run(path: Path) -> Path:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.store import find_runs

    runs = find_runs([path])
    if len(runs) != 1:
        raise InputError(f"check takes one run; found {len(runs)} under {path}")
    return runs[0]


def _training_folder(path: Path, baseline: Path | None) -> tuple[Path, Path | None]:
    """A training folder -> (the run of its newest evaluated checkpoint, the baseline to use)."""
    if not (path / "eval.jsonl").is_file() and not ((path / "config.json").is_file() and (path / "checkpoints").is_dir()):
        return path, baseline
    # lazy: the parser imports every command at CLI start; this one reads eval.jsonl only
    import json

    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.systems.speech.training.evaluation import latest_evaluated

    row = latest_evaluated(path)
    if baseline is None:
        config = json.loads((path / "config.json").read_text(encoding="utf-8")) if (path / "config.json").is_file() else {}
        configured = (config.get("eval") or {}).get("baseline") or ""
        baseline = Path(configured) if configured else None
    print(f"training folder {path}: gating step {row['step']} ({row.get('weights', 'live')} weights), run {row['run']}")
    return Path(row["run"]), baseline


def cmd_check(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    # lazy: the pipeline loads the plugins
    from ttsbench.pipeline import merge_pending
    from ttsbench.reports.check import (
        DEFAULT_REL,
        baseline_from_summary,
        check_prompt_set,
        compare,
        read_baseline,
        write_baseline,
    )

    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.store import load_run

    args.run, args.baseline = _training_folder(args.run, args.baseline)
    if args.baseline is None:
        raise InputError("--baseline FILE is required (only a training folder's [eval] baseline stands in)")
    merge_pending([args.run])  # a sharded run: summarize the shards finished since the last merge
    record = load_run(_one_run(args.run))
    if record.summary is None:
        raise InputError(f"no summary.json in {record.path}: the run has not been scored")
    if args.write_baseline:
        if args.allow_other_set:
            raise InputError("--allow-other-set only applies when checking, not with --write-baseline")
        doc = baseline_from_summary(record.summary, prompt_set=record.run.prompt_set,
                                    rel=DEFAULT_REL if args.rel is None else args.rel, abs_=args.abs_)
        write_baseline(args.baseline, doc)
        print(f"wrote baseline {args.baseline} ({len(doc['checks'])} checks from run {record.path})")
        return 0
    if args.rel is not None or args.abs_ is not None:
        raise InputError("--rel/--abs only apply with --write-baseline; "
                         "edit the baseline file to change tolerances")
    baseline = read_baseline(args.baseline)
    same_set = check_prompt_set(record.run.prompt_set, baseline, allow_other=args.allow_other_set)
    outcomes = compare(record.summary, baseline.checks)
    for outcome in (same_set, *outcomes):
        print(outcome.line)
    failed = sum(not o.ok for o in outcomes)
    verdict = "" if same_set.ok else "FAIL (other prompt set); "
    print(f"check: {verdict}{failed} regression(s) in {len(outcomes)} check(s) against {args.baseline}")
    return 1 if failed or not same_set.ok else 0
