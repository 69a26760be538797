"""`ttsbench train ditar|vae|rvq|distar CONFIG [--set key=value ...]`: train DiTAR, its VAE
tokenizer, DiSTAR's RVQ codebooks or DiSTAR (each registered in TRAINERS by its own trainer module).

One process trains on one device; for several GPUs launch the same command with torchrun, which
sets RANK / WORLD_SIZE / LOCAL_RANK (DDP, nccl on GPU, gloo on CPU):

    torchrun --nproc_per_node 8 -m ttsbench train ditar configs/train_ditar_0.6b.toml
    ttsbench train vae configs/train_vae_tiny.toml --set steps=100 --set out=runs/vae-tiny
    ttsbench train rvq configs/train_rvq_tiny.toml --set manifest=runs/demo/manifest.jsonl
    torchrun --nproc_per_node 8 -m ttsbench train distar configs/train_distar_base.toml

Re-running a command continues from the newest checkpoint in its `out` folder.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train DiTAR, its VAE tokenizer, DiSTAR's RVQ or DiSTAR (resumes automatically)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", metavar="MODEL", help="which model to train: ditar, vae, rvq, distar (`ttsbench list trainers`)")
    p.add_argument("config", type=Path, help="TOML training config (see configs/)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set optim.lr=3e-4 (repeatable)")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    p.set_defaults(func=cmd_train)
    return p


def cmd_train(args: argparse.Namespace) -> int:
    # lazy: the trainers import torch and every model; `ttsbench --help` must not
    from ttsbench.configio import load_config, to_dict
    from ttsbench.plugins import TRAINERS

    trainer = TRAINERS.get(args.what)  # an unknown name: one line with "did you mean"
    cfg = load_config(trainer.config, args.config, args.overrides)
    if args.print_config:
        print(json.dumps(to_dict(cfg), indent=2))
        return 0
    out = trainer.run(cfg)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one line per job, not per rank
        print(f"trained {args.what}: checkpoints in {out / 'checkpoints'}, log in {out / 'log.jsonl'}")
    return 0
