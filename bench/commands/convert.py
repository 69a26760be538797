"""`ttsbench convert grow CKPT_OR_DIR --out DIR`: a released checkpoint of another project -> our weights.

    ttsbench convert grow model_ckpts/01_pretrain --out ~/.cache/ttsbench/grow-0.6b
    ttsbench convert grow model_ckpts/03_grow_nfe10/model_750.pt --out ~/.cache/ttsbench/grow-0.6b-rl

grow: GROW's DiTAR-0.6B (HF yhaha/GROW): reads the .pt with torch.load(weights_only=True), maps every
key (fused q/k/v, interleaved -> rotate-half RoPE rows, AdaLN row order) or drops it from an explicit
list (the Semantic-VAE copy `generator.*`, `vae_projector.*`, `LocDiT.conv_pos_embed.*`, RoPE tables,
EMA counters), and writes model.safetensors + config.json. Any other key fails in one line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

KINDS = ("grow",)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("convert", help="convert a released checkpoint (GROW) into a folder our systems load",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=KINDS, help="whose checkpoint: grow")
    p.add_argument("source", type=Path, help="the checkpoint file, or the folder holding model_*.pt (+ config.yaml)")
    p.add_argument("--out", type=Path, required=True, help="folder to write (model.safetensors, config.json)")
    p.set_defaults(func=cmd_convert)
    return p


def cmd_convert(args: argparse.Namespace) -> int:
    # lazy: the converter imports torch; `ttsbench --help` must not
    from ttsbench.systems.grow.convert import convert

    out = convert(args.source, args.out)
    print(f"wrote {out}/model.safetensors and config.json (load with --system grow-0.6b:checkpoint={out})")
    return 0
