"""`ttsbench run`: one system x one prompt set x metrics x a seed, resumable."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ttsbench import shards
from ttsbench.cli_options import add_prompt_set_option, add_run_options, add_shard_option
from ttsbench.errors import TTSBenchError
from ttsbench.launcher import rank_device, run_shards
from ttsbench.spec import MatrixSpec, RunSpec, load_matrix, load_toml, override, parse_metrics
from ttsbench.types import SystemSpec


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("run", help="synthesize a prompt set with a system and score it (resumable)",
                       description="Synthesize and score. Re-running the same spec resumes in the same run directory.")
    p.add_argument("spec", nargs="?", type=Path, help="a TOML spec file ([run], [system], [[metric]], [paths])")
    p.add_argument("--system", help="NAME[:key=value,...], e.g. ditar-0.6b:checkpoint=ckpt/,nfe=10,cfg=2")
    add_prompt_set_option(p)
    p.add_argument("--metrics", help="comma-separated recipes, each NAME[:key=value,...]")
    add_run_options(p)
    p.add_argument("--seed", type=int)
    p.add_argument("--batch-size", type=int)
    add_shard_option(p)
    p.set_defaults(func=cmd_run)
    return p


def spec_from_args(args: argparse.Namespace) -> RunSpec:
    """The one run of the command line (a matrix spec file is refused here)."""
    (spec,) = specs_from_args(args, matrix=False).runs
    return spec


def specs_from_args(args: argparse.Namespace, *, matrix: bool = True) -> MatrixSpec:
    """The runs of a spec file (a matrix: several systems, prompt sets or seeds) or of --system and
    --prompt-set, with the command line's options overriding every run (duplicates dropped)."""
    if args.spec is not None:
        loaded = load_matrix(args.spec) if matrix else MatrixSpec((load_toml(args.spec),))
    elif args.system and args.prompt_set:
        loaded = MatrixSpec((RunSpec(system=SystemSpec.parse(args.system), prompt_set=args.prompt_set),))
    else:
        raise TTSBenchError("give a spec file, or both --system and --prompt-set")
    runs = [override(
        spec, system=SystemSpec.parse(args.system) if args.system else None, prompt_set=args.prompt_set,
        metrics=parse_metrics(args.metrics) if args.metrics is not None else None, seed=args.seed,
        limit=args.limit, batch_size=args.batch_size, device=args.device, out=args.out,
        audio_root=args.audio_root, cache_dir=args.cache_dir, allow_download=args.allow_download)
        for spec in loaded.runs]
    unique = {json.dumps(r.to_json() | {"out": str(r.out)}, sort_keys=True, default=str): r for r in runs}
    return MatrixSpec(tuple(unique.values()), loaded.report_out)


def cmd_run(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.pipeline import check_options, merge, run
    from ttsbench.scoring import MetricPool

    launch = shards.launch(args.shard)
    matrix = specs_from_args(args)
    runs = []
    for spec in matrix.runs:
        if launch.distributed:
            spec = override(spec, device=rank_device(spec.device, launch))
        check_options(spec)  # before the prompt set's default metrics are looked up
        runs.append(with_default_metrics(spec))
    pool = MetricPool()  # each scoring model loads once for every run of the matrix
    progress = not args.quiet
    works = [functools.partial(_cell, run, spec, i, len(runs), progress, pool) for i, spec in enumerate(runs)]
    if launch.shard is None:
        done, codes = [], []
        for work in works:  # each run's summary as soon as it is done
            done.append((work(None), True))
            codes.append(print_summary(done[-1][0]))
    else:
        done = run_shards(launch, works, merge)
        codes = [print_summary(root) if merged else print_shard_done(root, launch) for root, merged in done]
    if len(runs) > 1 and all(merged for _, merged in done):
        codes.append(_matrix_report(matrix, [root for root, _ in done]))
    return max(codes)


def with_default_metrics(spec: RunSpec) -> RunSpec:
    """`spec`, or with its prompt set's default metrics when it names none."""
    if spec.metrics:
        return spec
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.prompt_sets import resolve_definition

    return override(spec, metrics=parse_metrics(",".join(resolve_definition(spec.prompt_set).default_metrics)))


def _cell(run: Callable[..., Path], spec: RunSpec, index: int, count: int, progress: bool, pool: Any,
          shard: shards.Shard | None) -> Path:
    if count > 1:
        print(f"[{index + 1}/{count}] {spec.system.name} on {spec.prompt_set}, seed {spec.seed}", flush=True)
    return run(spec, progress=progress, shard=shard, pool=pool)


def _matrix_report(matrix: MatrixSpec, roots: list[Path]) -> int:
    """The report of every run of a matrix, as `ttsbench report ROOTS --out DIR` writes it."""
    # lazy: the parser imports every command at CLI start
    from ttsbench.cli import build_parser

    out = matrix.report_out or Path(matrix.runs[0].out) / "reports" / "matrix"
    print(f"\nreport of the {len(roots)} runs -> {out}")
    args = build_parser().parse_args(["report", "--out", str(out), *map(str, roots)])
    return int(args.func(args))


def print_shard_done(root: Path, launch: shards.Launch) -> int:
    """What a shard that did not merge says: its shard, and how the run gets its summary."""
    assert launch.shard is not None
    if not launch.distributed:
        print(f"shard {launch.shard.index}/{launch.shard.count} done in {root}; the last shard to finish "
              f"merges, or: ttsbench merge {root}")
    return 0


def other_model_metrics(root: Path) -> set[str]:
    """The recipes of a run whose model check found another model than the reference (run.json)."""
    # lazy: the parser imports every command at CLI start
    from ttsbench.errors import TTSBenchError
    from ttsbench.store import read_manifest

    try:
        entries = read_manifest(root / "run.json").metrics
    except (TTSBenchError, OSError):
        return set()
    return {name for name, e in entries.items()
            if isinstance(check := e.fingerprint.get("model_check"), dict) and check.get("verdict") == "other model"}


def print_summary(root: Path) -> int:
    """One line per metric with its primary value, then where the run lives; returns the exit code:
    1 when nothing was scored (no utterance synthesized, or no metric scored any), else 0."""
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.pipeline import nothing_scored
    from ttsbench.store import read_summary

    s = read_summary(root / "summary.json")
    print(f"{s.system} on {s.prompt_set} (seed {s.seed}): {s.synth.ok}/{s.n_expected} synthesized, "
          f"{s.synth.failed} failed")
    for err_id, err in list(s.synth.errors.items())[:5]:
        print(f"  failed {err_id}: {err}")
    other_model = other_model_metrics(root) if not all(m.comparable for m in s.metrics.values()) else set()
    for name, m in s.metrics.items():
        value = m.values.get(m.primary_key)
        shown = f"{value:.4g}" if value is not None else "n/a"
        why = "another model than the reference (allow_other_model)" if name in other_model else "offline stand-in"
        note = "" if m.comparable else f"  ({why}: not comparable with papers)"
        print(f"  {name} [{m.fingerprint_id}] {m.primary} = {shown}  "
              f"(scored {m.n_scored}, failed {m.n_failed}){note}")
    if s.shards is not None and s.shards.missing:
        print(f"  shards not finished: {', '.join(str(i) for i in s.shards.missing)} of {s.shards.count} "
              f"(their utterances count as not synthesized; merge again when they finish)")
    print(f"run directory: {root}")
    if nothing_scored(s):
        print("ttsbench: nothing was scored (see the failures above); exit status 1", file=sys.stderr)
        return 1
    return 0
