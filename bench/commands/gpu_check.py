"""`ttsbench gpu-check`: the one prepared GPU check (speed, bf16 vs fp32, training, compile, sharding)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("gpu-check", help="everything the GPU must show, in about 8 minutes (--dry: CPU smoke run)",
                       description="Table 7 / Figure 5 speed of ditar-0.6b (P=4, P=2) and nar-dit-0.6b in bf16, "
                                   "first-patch latency, bf16 vs fp32 generation, a 0.6B training window (steps/s, "
                                   "frames/s, MFU), torch.compile and CUDA graphs, and a 2-rank sharded run when "
                                   "there are two GPUs. Writes gpu_check.json and gpu_check.md after every stage.")
    p.add_argument("--out", type=Path, default=None, help="result folder (default $OUT, else runs/gpu-check)")
    p.add_argument("--dry", action="store_true", help="every stage at tiny sizes on the CPU, in seconds")
    p.add_argument("--budget-s", type=float, help="seconds for all stages (default 450; dry 120)")
    p.set_defaults(func=cmd_gpu_check)
    return p


def cmd_gpu_check(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.gpu_check import gpu_check

    out = args.out or Path(os.environ.get("OUT") or "runs/gpu-check")
    results = gpu_check(out, dry=args.dry, budget_s=args.budget_s)
    print((out / "gpu_check.md").read_text(encoding="utf-8"), end="")
    failed = [name for name, stage in results["stages"].items() if "error" in stage]
    return 1 if failed else 0
