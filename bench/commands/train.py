"""`ttsbench train ditar|vae|rvq|distar CONFIG [--set key=value ...]`: train DiTAR, its VAE
tokenizer, DiSTAR's RVQ codebooks or DiSTAR.

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

# what -> (module, config class, train function): one entry per trainable model, imported on use.
TRAINERS = {
    "ditar": ("ttsbench.systems.ditar.train", "TrainConfig", "train_ditar"),
    "vae": ("ttsbench.systems.speech.vae.train", "VAETrainConfig", "train_vae"),
    "rvq": ("ttsbench.systems.distar.rvq_train", "RVQTrainConfig", "train_rvq"),
    "distar": ("ttsbench.systems.distar.train", "TrainConfig", "train_distar"),
}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("train", help="train DiTAR, its VAE tokenizer, DiSTAR's RVQ or DiSTAR (resumes automatically)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=list(TRAINERS), help="which model to train")
    p.add_argument("config", type=Path, help="TOML training config (see configs/)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set optim.lr=3e-4 (repeatable)")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    p.set_defaults(func=cmd_train)
    return p


def cmd_train(args: argparse.Namespace) -> int:
    import importlib

    from ttsbench.configio import load_config, to_dict

    module, config_name, run_name = TRAINERS[args.what]
    trainer = importlib.import_module(module)
    Config, run = getattr(trainer, config_name), getattr(trainer, run_name)
    cfg = load_config(Config, args.config, args.overrides)
    if args.print_config:
        print(json.dumps(to_dict(cfg), indent=2))
        return 0
    out = run(cfg)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one line per job, not per rank
        print(f"trained {args.what}: checkpoints in {out / 'checkpoints'}, log in {out / 'log.jsonl'}")
    return 0
