"""DiTAR's modules at tiny size: masks, layouts, losses and the training-time choices."""

from __future__ import annotations

import pytest
import torch

from ttsbench.systems.speech.batch import SpeechBatch
from ttsbench.systems.speech.layers import causal_padding_mask
from ttsbench.systems.speech.patches import history_windows, patchify

from .conftest import make_model


def batch(seed: int = 0) -> SpeechBatch:
    g = torch.Generator().manual_seed(seed)
    return SpeechBatch(phones=torch.tensor([[5, 6, 7, 8, 9], [10, 11, 12, 0, 0]]), phone_lens=torch.tensor([5, 3]),
                      latents=torch.randn(2, 14, 64, generator=g), latent_lens=torch.tensor([14, 9]))


def test_lm_is_causal(tiny):
    x = torch.randn(2, 10, 32)
    y = tiny.lm(x, causal=True)
    x2 = x.clone()
    x2[:, 6] += 1.0
    y2 = tiny.lm(x2, causal=True)
    assert torch.allclose(y[:, :6], y2[:, :6], atol=1e-6)  # the past does not see the future
    assert not torch.allclose(y[:, 6:], y2[:, 6:], atol=1e-4)


def test_locdit_and_encoder_are_bidirectional(tiny):
    P, H = tiny.cfg.patch_size, tiny.cfg.history_frames
    x_t, h, hist, t = torch.randn(3, P, 64), torch.randn(3, 32), torch.randn(3, H, 64), torch.rand(3)
    v = tiny.locdit(x_t, t, h, hist)
    assert v.shape == (3, P, 64)  # outputs only at the noisy positions
    last = x_t.clone()
    last[:, -1] += 1.0
    assert not torch.allclose(tiny.locdit(last, t, h, hist)[:, 0], v[:, 0], atol=1e-4)  # first sees last
    hist2 = hist + 1.0
    assert not torch.allclose(tiny.locdit(x_t, t, h, hist2), v, atol=1e-4)  # history is context
    assert (tiny.locdit(x_t, t * 0.5, h, hist) - v).abs().max() > 1e-6  # time is seen (small at 0.02 init)
    patches = torch.randn(4, P, 64)
    emb = tiny.encode_patches(patches)
    moved = patches.clone()
    moved[:, -1] += 1.0
    assert emb.shape == (4, 32) and not torch.allclose(tiny.encode_patches(moved), emb, atol=1e-4)


def test_adaln_variant_sees_time_through_modulation():
    model = make_model(time_cond="adaln")
    for block in model.locdit.transformer.blocks:  # AdaLN-Zero starts at zero: give it weights
        torch.nn.init.normal_(block.modulation[1].weight, std=0.1)
    x_t, h, hist = torch.randn(2, 4, 64), torch.randn(2, 32), torch.randn(2, 4, 64)
    a = model.locdit(x_t, torch.tensor([0.2, 0.2]), h, hist)
    b = model.locdit(x_t, torch.tensor([0.7, 0.7]), h, hist)
    assert a.shape == (2, 4, 64) and not torch.allclose(a, b, atol=1e-5)
    assert torch.isfinite(model.train()(batch()).total)


def test_kv_cache_equals_full_forward_with_left_padding(tiny):
    x = torch.randn(2, 9, 32)
    full = tiny.lm(x, causal=True)
    cache = tiny.patch_lm.new_cache(2, 9)
    prefix = tiny.lm(x[:, :6], causal=True, cache=cache)
    steps = [tiny.lm(x[:, i:i + 1], causal=True, cache=cache) for i in range(6, 9)]
    assert torch.allclose(torch.cat([prefix, *steps], 1), full, atol=1e-5)
    # row 1 left-padded by 2: same outputs as alone, with positions counted from its first token
    short = torch.randn(1, 4, 32)
    padded = torch.cat([torch.zeros(1, 2, 32), short], 1)
    valid = torch.tensor([[False, False, True, True, True, True]])
    pos = torch.tensor([[0, 0, 0, 1, 2, 3]])
    cache = tiny.patch_lm.new_cache(1, 6)
    out = tiny.patch_lm.prefill(padded, pos, valid, cache)
    assert torch.allclose(out[:, 2:], tiny.lm(short, causal=True), atol=1e-5)
    mask = causal_padding_mask(valid, 6)
    assert mask.shape == (1, 1, 6, 6) and not mask[0, 0, 3, :2].any() and mask[0, 0, 3, 2:4].all()


def test_patchify_pads_on_the_configured_side():
    lat = torch.arange(1, 7, dtype=torch.float32).view(1, 6, 1).expand(2, 6, 1).contiguous()
    lens = torch.tensor([6, 3])
    left, mask, n = patchify(lat, lens, 4, "left")
    assert n.tolist() == [2, 1] and left.shape == (2, 2, 4, 1)
    assert left[0, :, :, 0].tolist() == [[0, 0, 1, 2], [3, 4, 5, 6]]  # the last patch is all real
    assert left[1, 0, :, 0].tolist() == [0, 1, 2, 3] and mask[1, 0].tolist() == [False, True, True, True]
    right, mask, _ = patchify(lat, lens, 4, "right")
    assert right[0, :, :, 0].tolist() == [[1, 2, 3, 4], [5, 6, 0, 0]] and mask[0, 1].tolist() == [True] * 2 + [False] * 2
    hist = history_windows(left, 1)
    assert hist[0, 0].abs().sum() == 0 and torch.equal(hist[0, 1], left[0, 0])  # previous clean patch


def test_forward_losses_and_gradients(tiny):
    tiny.train()
    losses = tiny(batch())
    assert set(vars(losses)) == {"total", "diff", "stop"}
    assert torch.allclose(losses.total, losses.diff + losses.stop)
    losses.total.backward()
    no_grad = [n for n, p in tiny.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert no_grad == []


def test_padded_frames_carry_no_loss(tiny):
    tiny.train()
    b = batch()
    torch.manual_seed(3)
    ref = tiny(b).diff
    b.latents[1, 9:] = 100.0  # beyond row 1's length: padding
    torch.manual_seed(3)
    assert torch.allclose(tiny(b).diff, ref)


def capture(module: torch.nn.Module, index: int = 2):
    seen = []
    module.register_forward_hook(lambda m, args, out: seen.append(args[index] if index < len(args) else args[0]))
    return seen


@pytest.mark.parametrize("unit", ["position", "utterance"])
def test_guidance_dropout_zeroes_h_in_training_only(unit):
    model = make_model(guidance_dropout=0.5, guidance_dropout_unit=unit)
    seen = capture(model.locdit)
    b = SpeechBatch(torch.randint(1, 50, (8, 6)), torch.full((8,), 6), torch.randn(8, 40, 64), torch.full((8,), 40))
    model.train()(b)
    zero = (seen[-1].abs().sum(-1) == 0).view(8, 10)  # 8 rows x 10 patches
    assert 0.2 < zero.float().mean() < 0.8
    if unit == "utterance":
        assert all(row.all() or not row.any() for row in zero)
    model.eval()(b)
    assert not (seen[-1].abs().sum(-1) == 0).any()


@pytest.mark.parametrize("placement,positions", [("after_last", (4 + 1) + (3 + 1)), ("on_last", 4 + 3)])
def test_stop_label_placement(placement, positions):
    model = make_model(stop_label=placement)
    seen = capture(model.stop_head, 0)
    model(batch())  # rows have 14 and 9 frames: 4 and 3 patches at P = 4
    assert seen[-1].shape[0] == positions


def test_bf16_autocast_forward_is_finite(tiny):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        losses = tiny.train()(batch())
    assert torch.isfinite(losses.total)


def test_trainer_builds_sizes_from_presets():
    from ttsbench.systems.ditar.config import SIZES, DiTARConfig
    from ttsbench.systems.speech.training.trainer import model_config

    assert model_config(DiTARConfig, {"size": "0.6b"}, 64) == SIZES["0.6b"]
    cfg = model_config(DiTARConfig, {"size": "tiny", "history_patches": 2}, 100)
    assert cfg.history_patches == 2 and cfg.latent_dim == 100 and cfg.lm_dim == SIZES["tiny"].lm_dim
