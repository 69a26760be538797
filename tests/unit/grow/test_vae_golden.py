"""Our Semantic-VAE decoder (BigVGAN-v2) and attention projection equal GROW's own modules (commit
1527cdf, run by scripts/make_grow_goldens.py) on tiny random weights, loaded through the same
weight-norm folding and key names as a real `dac/ema_state_dict.pth`."""

from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from tests.unit.grow.conftest import FIXTURES
from ttsbench.systems.grow.semantic_vae import SemanticVAE, SemanticVAEConfig, config_from_metainfo, vae_state

TOL = dict(rtol=1e-5, atol=1e-5)


def test_decoder_and_pre_block_equal_grow(grow_meta):
    h, (width, out, heads) = grow_meta["vae"]["bigvgan_h"], grow_meta["vae"]["pre_block"]
    dac = {"encoder_dim": 4, "encoder_rates": [2, 5], "latent_dim": width, "vae_dim": out, "attn_heads": heads,
           "upsample_rates": h["upsample_rates"], "upsample_kernel_sizes": h["upsample_kernel_sizes"],
           "upsample_initial_channel": h["upsample_initial_channel"],
           "resblock_kernel_sizes": h["resblock_kernel_sizes"], "resblock_dilation_sizes": h["resblock_dilation_sizes"],
           "bigvgan_conf": "conf/bigvgan_conf/bigvgan_v2_16khz_40hz_base_vae64.json"}
    cfg = config_from_metainfo(json.loads(json.dumps({"DAC": dac})), "test")
    assert isinstance(cfg, SemanticVAEConfig) and cfg.hop_length == 10
    vae = SemanticVAE(cfg).eval()
    raw = load_file(str(FIXTURES / "grow_vae_tiny_weights.safetensors"))
    state = vae_state(raw)
    missing, unexpected = vae.load_state_dict(state, strict=False)
    assert not unexpected and all(k.startswith(("encoder.", "fc_")) for k in missing)
    g = load_file(str(FIXTURES / "grow_vae_tiny_goldens.safetensors"))
    with torch.no_grad():
        decoded = vae.decoder(g["z"])
        torch.testing.assert_close(decoded, g["decoded"], **TOL)
        assert 0 < (decoded.abs() < 1).float().mean() < 1  # both clamped and free samples are compared
        torch.testing.assert_close(vae.pre_block(g["pre_block_in"]), g["pre_block_out"], **TOL)
