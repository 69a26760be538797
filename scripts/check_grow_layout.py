"""Build GROW's own DiTAR (commit 1527cdf) at the released 0.6B sizes on the meta device and check that
`ttsbench convert grow` maps every key onto our GrowModel and infers exactly `GrowConfig()`.

    python scripts/check_grow_layout.py --grow-src DIR [--project-site SITE_PACKAGES]

DIR and the environment as for scripts/make_grow_goldens.py (run it outside the project's venv;
`--project-site` adds the project's site-packages, e.g. .venv/lib/python3.11/site-packages, so that
ttsbench imports). Qwen3-0.6B's config.json values are written out below (public, HF Qwen/Qwen3-0.6B).
No weights are needed: meta tensors carry only shapes.
"""

from __future__ import annotations

import argparse
import json
import site
import sys
import tempfile
from pathlib import Path

import torch

QWEN3_06B = {"architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
             "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02,
             "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28,
             "model_type": "qwen3", "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
             "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 1000000, "sliding_window": None,
             "tie_word_embeddings": True, "use_cache": True, "use_sliding_window": False, "vocab_size": 151936}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grow-src", required=True, type=Path)
    ap.add_argument("--project-site", type=Path, default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(args.grow_src))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if args.project_site:
        site.addsitedir(str(args.project_site))
    import make_grow_goldens as mg

    mg.install_shims(torch.zeros(1, 8, 64))
    from DiTAR.model.ditar.dit_ar import DiTAR

    from ttsbench.systems.grow.config import GrowConfig
    from ttsbench.systems.grow.convert import infer_config, map_state
    from ttsbench.systems.grow.model import GrowModel

    qdir = Path(tempfile.mkdtemp())
    (qdir / "config.json").write_text(json.dumps(QWEN3_06B))
    loc = {"name": "DiT", "model": {"dim": 1024, "out_dim": 64, "depth": 6, "heads": 16, "ff_mult": 4, "qk_norm": None,
                                    "pe_attn_head": None, "checkpoint_activations": False},
           "history_vae_window_size": 4, "drop_cond_prob": 0.1}
    agg = {"name": "qwen", "hidden_size": 1024, "intermediate_size": 4096, "num_attention_heads": 16,
           "num_hidden_layers": 6, "patch_size": 4, "pool_type": "cls"}
    cfg = mg.Cfg(dict(name="DiTAR", audio_type="vae_online", audio_channels=64, patch_size=4, dim=1024, mlp_hidden_dim=512,
                      backbone=dict(name="Qwen", hidden_size=1024, version="qwen3", qwen_config_path=str(qdir),
                                    pretrained_LM_path="", load_pretrained_weights=False),
                      aggregation_encoder=mg.Cfg(agg), loc_decoder=mg.Cfg(loc),
                      vocoder=dict(mel_spec_type="semanticvae", feature_extractor_ckpt="")))
    with torch.device("meta"):
        grow = DiTAR(cfg, tokenizer=mg.ByteTokenizer())
    state = dict(grow.state_dict())
    inferred = infer_config(state, {"model": {"loc_decoder": loc, "aggregation_encoder": agg}})
    ours = map_state(state, inferred)
    with torch.device("meta"):
        mine = GrowModel(inferred).state_dict()
    report = {"grow_keys": len(state), "grow_parameters": sum(v.numel() for v in state.values()),
              "inferred_equals_GrowConfig": inferred == GrowConfig(),
              "missing": sorted(set(mine) - set(ours)), "unexpected": sorted(set(ours) - set(mine)),
              "shape_mismatches": [k for k in mine if k in ours and mine[k].shape != ours[k].shape],
              "our_parameters": sum(v.numel() for v in mine.values())}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
