"""Regenerate tests/fixtures/grow/ by running GROW's own model code on tiny random weights.

    python scripts/make_grow_goldens.py --grow-src DIR [--out tests/fixtures/grow]

DIR holds `DiTAR/model/...` as published in GROW commit 1527cdf0c1856b3edcd8bb8a36de82602ca4fd55
(yanghaha0908/GROW; read only that commit: later commits of the copy photographic-dialogue455/GROW
carry malware). Files needed, nothing else: model/ditar/{dit_ar, aggregation_encoder_qwen,
input_embedding, layers}.py, model/backbones/{casual_ar_qwen, qwen3, dit}.py, model/modules.py, and
an empty model/__init__.py (the published one imports the trainers, wandb, accelerate...).
Public packages: torch, transformers==4.57.6, x-transformers==2.19.3, torchdiffeq==0.2.5,
einops==0.8.1, tqdm (GROW's requirements.txt pins). Run it OUTSIDE the project's environment.

Three modules of GROW are replaced by shims here, each outside what is compared:
- `DiTAR.model.autoencoder_kl` (the Semantic-VAE): `build_generator` returns a 2-parameter stand-in
  (so the checkpoint holds `generator.*` keys as a real one does) and `extract_vae_features`
  returns fixed prompt latents, so sampling starts from known latents;
- `DiTAR.model.utils` (only `get_mask_from_lengths`, used by training code);
- `torchaudio` is not imported at all (the mel helpers of modules.py are not needed).

Semantic-VAE: GROW's BigVGAN decoder (vae_dac/model/bigvgan.py with activations.py,
alias_free_activation/torch/{act,filter,resample}.py, utils.py, attn_proj.py, and empty __init__.py
files in vae_dac/model/ and below: the published model/__init__.py imports the DAC class, whose
`DiTAR.vae_dac.nn.layers` is not part of the readable commit) and its AttnProjection (the encoder's
pre_block) run on a tiny config; the DAC convolution stack itself is not run here.

Writes: grow_tiny_weights.safetensors (the tiny model's state dict under GROW's own key names),
grow_tiny_goldens.safetensors (inputs and GROW's outputs), grow_tiny_meta.json (settings, stop
decisions, the config.yaml the test writes next to the checkpoint); grow_vae_tiny_weights.safetensors
(decoder.* with torch's weight-norm parametrization keys, pre_block.*) and grow_vae_tiny_goldens.safetensors.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

D, C, P, VOCAB = 32, 8, 4, 300
QWEN_CONFIG = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": D,
               "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
               "head_dim": 8, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "vocab_size": VOCAB,
               "max_position_embeddings": 512, "tie_word_embeddings": True, "hidden_act": "silu",
               "attention_bias": False, "use_sliding_window": False, "torch_dtype": "float32"}
YAML = f"""model:
  name: DiTAR
  audio_channels: {C}
  aggregation_encoder:
    name: qwen
    hidden_size: {D}
    intermediate_size: 64
    num_attention_heads: 2
    num_hidden_layers: 2
    patch_size: {P}
    pool_type: cls
  loc_decoder:
    name: DiT
    model:
      dim: {D}
      out_dim: {C}
      depth: 2
      heads: 2
      dim_head: 16
      ff_mult: 4
    history_vae_window_size: 4
"""
TEXT = "a prompt then the target"
SAMPLE = dict(max_seq_length=9, min_seq_length=3, steps=4, cfg_strength=2.0, sway_sampling_coef=-1.0, seed=666,
              sample_strategy="stage")
SAMPLE_BASE = dict(SAMPLE, cfg_strength=1.0, sway_sampling_coef=None, sample_strategy="base", seed=7)


class Cfg(dict):
    """A dict that also answers attribute access (what GROW's OmegaConf config gives the model)."""

    def __getattr__(self, name):
        value = self[name]
        return Cfg(value) if isinstance(value, dict) and not isinstance(value, Cfg) else value


def install_shims(prompt: torch.Tensor) -> None:
    vae = types.ModuleType("DiTAR.model.autoencoder_kl")
    vae.build_generator = lambda path=None: nn.Linear(1, 1)

    def extract_vae_features(generator, wav, mask):
        valid = torch.ones(prompt.shape[:2], dtype=torch.bool)
        return prompt.clone(), valid, valid.sum(1)

    vae.extract_vae_features = extract_vae_features
    utils = types.ModuleType("DiTAR.model.utils")
    utils.get_mask_from_lengths = lambda lengths, max_len=None: None
    sys.modules["DiTAR.model.autoencoder_kl"] = vae
    sys.modules["DiTAR.model.utils"] = utils


class ByteTokenizer:
    """Stands in for Qwen's BPE tokenizer: UTF-8 bytes as ids (the text front end is tested apart)."""

    vocab_size = VOCAB

    def __call__(self, text, padding=True, return_tensors="pt"):
        from transformers import BatchEncoding

        ids = torch.tensor([list(t.encode()) for t in text])
        return BatchEncoding({"input_ids": ids, "attention_mask": torch.ones_like(ids)})


def build(work: Path):
    from DiTAR.model.ditar.dit_ar import DiTAR

    (work / "qwen").mkdir(parents=True, exist_ok=True)
    (work / "qwen" / "config.json").write_text(json.dumps(QWEN_CONFIG))
    import yaml

    model_cfg = yaml.safe_load(YAML)["model"]
    cfg = Cfg(dict(name="DiTAR", audio_type="vae_online", audio_channels=C, patch_size=P, dim=D, mlp_hidden_dim=16,
                   backbone=dict(name="Qwen", hidden_size=D, version="qwen3", qwen_config_path=str(work / "qwen"),
                                 pretrained_LM_path="", load_pretrained_weights=False),
                   aggregation_encoder=Cfg(model_cfg["aggregation_encoder"]),
                   loc_decoder=Cfg(model_cfg["loc_decoder"]),
                   vocoder=dict(mel_spec_type="semanticvae", feature_extractor_ckpt="")))
    torch.manual_seed(0)
    model = DiTAR(cfg, tokenizer=ByteTokenizer()).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 1 and ("norm" in name or "layernorm" in name):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    return model


def run(model, prompt: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict]:
    import torch.nn.functional as F

    text_ids = torch.tensor([list(TEXT.encode())])
    out: dict[str, torch.Tensor] = {"text_ids": text_ids, "prompt": prompt}
    with torch.no_grad():
        inputs = model.get_ar_input([TEXT], None, prompt, torch.ones(prompt.shape[:2], dtype=torch.bool))
        embed, mask, ids = inputs[0], inputs[1], inputs[9]
        out["encoder_patches"] = inputs[7]
        h = model.causalAR(inputs_embed=embed, modality_type_ids=ids, padding_mask=mask)
        out["lm_hidden"] = h
        out["stop_probs_prefix"] = F.softmax(model.eos_head(h[:, -1]), dim=-1)[:, 1]
        t = torch.tensor([0.37])
        t_emb = model.time_embedding(t)
        out["t"], out["time_embedding"] = t, t_emb
        ctx = model.ctx_to_locdit(h[:, -1:])
        hist = model.hist_to_locdit(prompt[:, -4:])
        x = torch.randn(1, P, C, generator=torch.Generator().manual_seed(2))
        out["x_t"] = x
        locdit_in = torch.cat([ctx, hist, model.noisy_to_locdit(x)], dim=1)
        valid = torch.ones(1, locdit_in.shape[1], dtype=torch.bool)
        out["velocity_cond"] = model.LocDiT(x=locdit_in, t=t_emb, mask=valid, patch_size=P)
        locdit_in[:, :1] = 0.0
        out["velocity_uncond"] = model.LocDiT(x=locdit_in, t=t_emb, mask=valid, patch_size=P)
    probs: list[float] = []
    hook = model.eos_head.register_forward_hook(lambda m, i, o: probs.append(float(F.softmax(o, -1)[0, 1])))
    sampled, _ = model.sample(torch.zeros(1, 16000, 1), torch.ones(1, 16000, dtype=torch.bool), [TEXT],
                              torch.tensor([len(TEXT)]), **SAMPLE)
    out["sampled"] = sampled
    n_patches = sampled.shape[1] // P
    probs_base_start = len(probs)
    base, _ = model.sample(torch.zeros(1, 16000, 1), torch.ones(1, 16000, dtype=torch.bool), [TEXT],
                           torch.tensor([len(TEXT)]), **SAMPLE_BASE)
    hook.remove()
    out["sampled_base"] = base
    meta_base = {"sample": SAMPLE_BASE, "stop_probs": probs[probs_base_start:], "patches": base.shape[1] // P}
    probs = probs[:probs_base_start]
    meta = {"sample_base": meta_base, "sample": SAMPLE, "text": TEXT, "stop_probs": probs, "patches": n_patches,
            "stopped_by_head": n_patches < SAMPLE["max_seq_length"], "config_yaml": YAML,
            "source": "GROW 1527cdf0c1856b3edcd8bb8a36de82602ca4fd55", "torch": torch.__version__}
    return out, meta


VAE_H = {"resblock": "1", "num_mels": C, "upsample_rates": [5, 2], "upsample_kernel_sizes": [9, 4],
         "upsample_initial_channel": 16, "resblock_kernel_sizes": [3, 7], "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]],
         "use_tanh_at_final": False, "use_bias_at_final": False, "activation": "snakebeta", "snake_logscale": True}
PRE_BLOCK = (64, C, 4)  # in width, out width, heads: head width 16 != 8, so the adaptive pooling runs (as in 1024/64/8)


def vae_goldens() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    from DiTAR.vae_dac.model.attn_proj import AttnProjection
    from DiTAR.vae_dac.model.bigvgan import AttrDict, BigVGAN

    torch.manual_seed(0)
    decoder, pre_block = BigVGAN(AttrDict(dict(VAE_H))).eval(), AttnProjection(*PRE_BLOCK).eval()
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for module in (decoder, pre_block):
            for name, p in sorted(module.named_parameters()):
                if name.endswith(("alpha", "beta")):
                    p.copy_(0.3 * torch.randn(p.shape, generator=g))
                elif p.dim() >= 2:
                    p.copy_(torch.randn(p.shape, generator=g) / max(1, p[0].numel()) ** 0.5)
                else:
                    p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g) if "norm" in name
                            else 0.1 * torch.randn(p.shape, generator=g))
        z = torch.randn(1, C, 6, generator=g)
        x = torch.randn(1, 5, PRE_BLOCK[0], generator=g)
        goldens = {"z": z, "decoded": decoder(z), "pre_block_in": x, "pre_block_out": pre_block(x)}
    weights = {f"decoder.{k}": v for k, v in decoder.state_dict().items()}
    weights.update({f"pre_block.{k}": v for k, v in pre_block.state_dict().items()})
    return weights, goldens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grow-src", required=True, type=Path, help="folder holding DiTAR/model/... of GROW 1527cdf")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "tests/fixtures/grow")
    ap.add_argument("--stop-bias", type=float, default=0.0, help="added to eos_head class 1 (to place the stop)")
    args = ap.parse_args()
    sys.path.insert(0, str(args.grow_src))
    prompt = torch.randn(1, 10, C, generator=torch.Generator().manual_seed(3))  # 10 frames: the last patch padded
    install_shims(prompt)
    model = build(args.out / ".work")
    with torch.no_grad():
        model.eos_head.bias[1] += args.stop_bias
    goldens, meta = run(model, prompt)
    weights = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(args.out / "grow_tiny_weights.safetensors"))
    save_file({k: v.contiguous() for k, v in goldens.items()}, str(args.out / "grow_tiny_goldens.safetensors"))
    meta["vae"] = {"bigvgan_h": VAE_H, "pre_block": list(PRE_BLOCK)}
    (args.out / "grow_tiny_meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    vae_weights, vae_out = vae_goldens()
    save_file({k: v.detach().clone().contiguous() for k, v in vae_weights.items()},
              str(args.out / "grow_vae_tiny_weights.safetensors"))
    save_file({k: v.contiguous() for k, v in vae_out.items()}, str(args.out / "grow_vae_tiny_goldens.safetensors"))
    print(json.dumps({k: meta[k] for k in ("patches", "stopped_by_head", "stop_probs")}))


if __name__ == "__main__":
    main()
