"""`ttsbench speed`: RTF, first-patch latency and throughput vs batch size (DiTAR Table 7, Figure 5).

    ttsbench speed --system ditar-tiny --system nar-dit-tiny --batch-sizes 1,2,4
    ttsbench speed --system ditar-0.6b --system ditar-0.6b --patch-size 2 ...   (one P per call)
    ttsbench speed --system nar-dit-0.6b --device cuda --dtype bf16 --batch-sizes 1,500 --format json
    ttsbench speed --system distar-tiny --system ditar-tiny --steps 24 --layers 4   DiSTAR beside DiTAR

ditar-<size>, distar-<size> and nar-dit-<size> (each `MODELS` entry's own workload) time our models with RANDOM weights on the paper's
fixed workload (3 s prompt, exactly 10 s out, NFE 10 for DiTAR / NAR, N = 24 MDM steps per patch
for DiSTAR on 40 Hz codes, CFG; vocoder / codec decoder excluded); any other registered system is
timed through its synthesize() on the demo prompts. Definitions: ttsbench.metrics.cost.speed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ttsbench.cli_options import add_format_option

FORMATS = ("table", "md", "csv", "json", "latex", "html")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("speed", help="RTF, first-patch latency and throughput vs batch size",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", action="append", required=True, metavar="NAME",
                   help="ditar-<size>, distar-<size>, nar-dit-<size>, or a registered system (NAME[:k=v,...]); "
                        "repeatable")
    p.add_argument("--batch-sizes", default="1", help="comma-separated, e.g. 1,2,4,8 (default 1)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per batch size (median, p90)")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--dtype", choices=["fp32", "bf16", "fp16"], default="fp32")
    p.add_argument("--compile", action="store_true", help="torch.compile the hot modules")
    p.add_argument("--cuda-graphs", action="store_true", help="torch.compile(mode='reduce-overhead') (CUDA)")
    p.add_argument("--prompt-seconds", type=float, default=3.0)
    p.add_argument("--target-seconds", type=float, default=10.0)
    p.add_argument("--text-rate", type=float, default=7.0, help="phones per second of speech")
    p.add_argument("--nfe", type=int, default=10, help="DiTAR / NAR: network calls per diffusion solve")
    p.add_argument("--steps", type=int, default=24,
                   help="DiSTAR: N, MDM network calls per patch (min(N, P x L') are run; default 24)")
    p.add_argument("--layers", type=int, metavar="L", help="DiSTAR: L' active RVQ layers (default: all J)")
    p.add_argument("--no-cfg", action="store_true",
                   help="no classifier-free / LM guidance (DiSTAR: no history CFG, cfg_scale 1)")
    p.add_argument("--patch-size", type=int,
                   help="DiTAR's / DiSTAR's P (same layers; Table 7 compares DiTAR's P=4 and P=2)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--end-to-end", action="store_true",
                   help="time ditar-*/nar-dit-* through the registered system's synthesize() (vocoder included, "
                        "demo prompts, system options via NAME:k=v) instead of the fixed model workload")
    add_format_option(p, FORMATS, "table")
    p.add_argument("--plot", type=Path, help="write throughput vs batch size (Figure 5) to this PNG")
    p.set_defaults(func=cmd_speed)
    return p


def parse_batches(text: str) -> tuple[int, ...]:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.errors import InputError

    try:
        sizes = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--batch-sizes {text!r}: expected comma-separated integers like 1,2,4") from None
    if not sizes or min(sizes) < 1:
        raise InputError(f"--batch-sizes {text!r}: need at least one size, all >= 1")
    return sizes


def cmd_speed(args: argparse.Namespace) -> int:
    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    import torch

    # lazy: the parser imports every command at CLI start; keep that free of torch, pandas and the plugins
    from ttsbench.errors import InputError
    from ttsbench.metrics.cost.speed import SpeedConfig, measure, plot_throughput, speed_display
    from ttsbench.metrics.cost.workloads import build_workload
    from ttsbench.reports.tabular import render_records, render_table

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"--device {args.device}: CUDA is not available on this machine")
    if args.cuda_graphs and not args.device.startswith("cuda"):
        raise InputError("--cuda-graphs needs --device cuda")
    if min(args.repeats, args.nfe, args.steps, args.layers or 1, args.patch_size or 1) < 1 or args.warmup < 0:
        raise InputError("--repeats, --nfe, --steps, --layers and --patch-size must be >= 1, --warmup >= 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = SpeedConfig(batch_sizes=parse_batches(args.batch_sizes), repeats=args.repeats, warmup=args.warmup,
                      device=args.device, dtype=args.dtype, compile=args.compile, cuda_graphs=args.cuda_graphs,
                      prompt_seconds=args.prompt_seconds, target_seconds=args.target_seconds,
                      text_rate=args.text_rate, nfe=args.nfe, guidance=0.0 if args.no_cfg else 1.0,
                      patch_size=args.patch_size, steps=args.steps, layers=args.layers)
    rows = [row for name in args.system
            for row in measure(build_workload(name, cfg, end_to_end=args.end_to_end), cfg)]
    if args.format in ("json", "csv"):
        print(render_records(rows, args.format), end="")
    else:
        title, header, body, notes = speed_display(rows)
        print(render_table(header, body, args.format, title=title, notes=notes), end="")
    if args.plot:
        plot_throughput(rows, args.plot)
    return 0
