"""`ttsbench train ditar|vae CONFIG [--set key=value ...]`: train DiTAR or its VAE tokenizer.

One process trains on one device; for several GPUs launch the same command with torchrun, which
sets RANK / WORLD_SIZE / LOCAL_RANK (DDP, nccl on GPU, gloo on CPU):

    torchrun --nproc_per_node 8 -m ttsbench train ditar configs/train_ditar_0.6b.toml
    ttsbench train vae configs/train_vae_tiny.toml --set steps=100 --set out=runs/vae-tiny

Re-running a command continues from the newest checkpoint in its `out` folder.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train DiTAR or its VAE speech tokenizer (resumes automatically)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["ditar", "vae"], help="which model to train")
    p.add_argument("config", type=Path, help="TOML training config (see configs/)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set optim.lr=3e-4 (repeatable)")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    p.set_defaults(func=cmd_train)
    return p


def cmd_train(args: argparse.Namespace) -> int:
    from ttsbench.systems.ditar.configio import load_config, to_dict

    if args.what == "vae":
        from ttsbench.systems.ditar.vae.train import VAETrainConfig as Config
        from ttsbench.systems.ditar.vae.train import train_vae as run
    else:
        from ttsbench.systems.ditar.train import TrainConfig as Config
        from ttsbench.systems.ditar.train import train as run
    cfg = load_config(Config, args.config, args.overrides)
    if args.print_config:
        print(json.dumps(to_dict(cfg), indent=2))
        return 0
    out = run(cfg)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one line per job, not per rank
        print(f"trained {args.what}: checkpoints in {out / 'checkpoints'}, log in {out / 'log.jsonl'}")
    return 0
