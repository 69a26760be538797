"""Counted FLOPs (torch FlopCounterMode, fvcore) agree with the A.4 formulas on our own models.

Exact equality where A.4 and the code count the same products (transformer stacks, LM steps);
the pieces A.4 leaves out on purpose (input/output projections, the time MLP) are written out
here, so each piece is still an exact match. Paper sizes are counted on the meta device.
"""

from __future__ import annotations

import pytest
import torch

from ttsbench.metrics.cost import CostSetup, analytic_flops
from ttsbench.metrics.cost import formulas as F
from ttsbench.metrics.cost.counted import count_fvcore, count_torch
from ttsbench.systems.ditar.cost import counted_ditar, ditar_arch
from ttsbench.systems.nar.cost import counted_nar, nar_arch
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.speech.layers import Transformer
from ttsbench.systems.ditar.model import DiTAR
from ttsbench.systems.nar.config import NARConfig
from ttsbench.systems.nar.model import NARDiT


@pytest.fixture(scope="module")
def tiny() -> DiTAR:
    torch.manual_seed(0)
    return DiTAR(DiTARConfig.from_size("tiny")).eval()


def test_transformer_stack_torch_fvcore_and_formula_agree_exactly():
    m = Transformer(3, 64, 4, 256).eval()
    x = torch.randn(2, 17, 64)
    expected = 2 * F.transformer_flops(3, 64, 17, 256)  # batch of 2
    assert count_torch(m, x).flops == expected
    assert count_fvcore(m, (x,)).flops == expected
    gated = Transformer(2, 64, 4, 256, act="swiglu").eval()
    assert count_torch(gated, x).flops == 2 * F.transformer_flops(2, 64, 17, 256, ffn_mats=3)


def test_lm_decode_step_is_eq24_29_with_2tC_attention(tiny):
    cfg = tiny.cfg
    cache = tiny.patch_lm.new_cache(1, 64)
    tiny.patch_lm.prefill(torch.randn(1, 10, cfg.lm_dim), torch.arange(10)[None], None, cache)
    for context in (11, 12):
        pos = torch.full((1, 1), context - 1)
        got = count_torch(tiny.patch_lm.step, torch.randn(1, 1, cfg.lm_dim), cache, pos, None).flops
        assert got == F.decode_step_flops(cfg.lm_layers, cfg.lm_dim, context, cfg.lm_ffn)


def test_lm_prefill_is_one_pass_over_the_prefix(tiny):
    cfg = tiny.cfg
    got = count_torch(tiny.patch_lm.prefill, torch.randn(1, 9, cfg.lm_dim), torch.arange(9)[None], None,
                      tiny.patch_lm.new_cache(1, 16)).flops
    assert got == F.transformer_flops(cfg.lm_layers, cfg.lm_dim, 9, cfg.lm_ffn)


def test_encoder_and_locdit_pieces_are_formula_plus_the_projections_a4_omits(tiny):
    cfg = tiny.cfg
    P, C, H, D = cfg.patch_size, cfg.latent_dim, cfg.history_frames, cfg.dit_dim
    enc = count_torch(tiny.encode_patches, torch.randn(1, P, C)).flops
    assert enc == F.transformer_flops(cfg.enc_layers, cfg.enc_dim, P + 1, cfg.enc_ffn) + 2 * P * C * cfg.enc_dim
    guided = count_torch(tiny.velocity, torch.randn(1, P, C), 0.3, torch.randn(1, cfg.lm_dim),
                         torch.randn(1, H, C), 1.0).flops
    omitted = 2 * (cfg.time_freq_dim * D + D * D) + 2 * H * C * D + 2 * P * C * D + 2 * P * D * C  # time MLP, in/out
    assert guided == 2 * (F.transformer_flops(cfg.dit_layers, D, 1 + H + P, cfg.dit_ffn) + omitted)
    single = count_torch(tiny.velocity, torch.randn(1, P, C), 0.3, torch.randn(1, cfg.lm_dim),
                         torch.randn(1, H, C), 0.0).flops
    assert 2 * single == guided  # w = 0: one pass, no guidance
    fv = count_fvcore(tiny.locdit, (torch.randn(2, P, C), torch.rand(2), torch.randn(2, cfg.lm_dim),
                                    torch.randn(2, H, C)))
    assert fv.flops == guided


def test_two_step_interpolation_equals_counting_every_step(tiny):
    cfg = tiny.cfg
    setup = CostSetup(prompt_seconds=0.5, target_seconds=0.8)
    result = counted_ditar(tiny, setup)
    prefix = setup.prompt_text + setup.target_text + 5  # text 4 + 6 tokens; 20 prompt frames = 5 patches
    steps = 8  # 32 target frames = 8 patches of 4
    assert prefix == 15
    every = sum(F.decode_step_flops(cfg.lm_layers, cfg.lm_dim, t, cfg.lm_ffn)
                for t in range(prefix + 1, prefix + steps + 1))
    assert result.pieces["LM decode steps"] == (every, 1)


def test_counted_total_matches_analytic_at_tiny_size_up_to_the_omitted_projections(tiny):
    counted = counted_ditar(tiny).total
    analytic = analytic_flops(ditar_arch(tiny.cfg))
    assert counted.method == "torch" and counted.flops > analytic.flops
    # at width 32 the 64-d latent projections and the time MLP are a visible share; at 0.6B < 0.5 %
    assert counted.flops / analytic.flops < 1.25


def test_paper_size_ditar_and_nar_counted_agree_with_analytic():
    with torch.device("meta"):
        ditar = DiTAR(DiTARConfig.from_size("0.6b"))
        nar = NARDiT(NARConfig())
    d = counted_ditar(ditar, nfe=10).total.flops
    assert d == pytest.approx(analytic_flops(ditar_arch(ditar.cfg, nfe=10)).flops, rel=0.005)
    n = counted_nar(nar, nfe=10).total.flops
    assert n == pytest.approx(analytic_flops(nar_arch(nar.cfg, nfe=10)).flops, rel=0.001)
    assert n / d == pytest.approx(4.5, abs=0.1)  # the NAR does ~4.5x DiTAR's work at NFE 10 + CFG


def test_nar_tiny_fvcore_equals_torch():
    nar = NARDiT(NARConfig.from_size("tiny")).eval()
    x, t = torch.randn(2, 30, 64), torch.rand(2)
    text = torch.randint(0, 257, (2, 30))
    assert count_fvcore(nar, (x, t, x, text)).flops == count_torch(nar, x, t, x, text).flops
