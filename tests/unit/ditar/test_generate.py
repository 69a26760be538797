"""Batched generation: KV cache vs full recomputation, batching, seeds, temperature, stopping."""

from __future__ import annotations

import pytest
import torch

from ttsbench.systems.speech.patch_ar import GenerationConfig, NoiseBank
from ttsbench.systems.speech.patches import patchify
from ttsbench.systems.speech.sampling import SamplerConfig

from .conftest import make_model

SAMPLER = SamplerConfig(nfe=3, guidance_scale=1.5, temperature=1.0)
NO_STOP = GenerationConfig(max_patches=5, stop_threshold=2.0)


def rows():
    """Three rows: a long prompt, one shorter than a patch, none at all."""
    g = torch.Generator().manual_seed(7)
    phones = [[3, 4, 5, 6, 7, 8, 9], [10, 11], [12, 13, 14, 15]]
    prompts = [torch.randn(10, 64, generator=g), torch.randn(3, 64, generator=g), torch.zeros(0, 64)]
    return phones, prompts


@torch.no_grad()
def naive_generate(model, phones, prompt, generator, sampler, steps):
    """One row, no KV cache, no padding: the whole LM sequence recomputed at every step."""
    cfg, P = model.cfg, model.cfg.patch_size
    patches, _, n = patchify(prompt[None], torch.tensor([prompt.shape[0]]), P, cfg.pad_side)
    seq = model.phone_embed(torch.tensor(phones))
    if int(n) > 0:
        seq = torch.cat([seq, model.encode_patches(patches[0, :int(n)])])
    frames = patches[0, :int(n)].reshape(-1, cfg.latent_dim)
    H = cfg.history_frames

    def last_h(x):  # the last H frames (x[-0:] would be all of x)
        return x[x.shape[0] - H:]

    history = last_h(torch.cat([torch.zeros(H, cfg.latent_dim), frames]))
    noise = NoiseBank([generator], (P, cfg.latent_dim), torch.device("cpu"), 16)
    out = []
    for _ in range(steps):
        h = model.lm(seq[None], causal=True)[0, -1]
        x = model.sample_patch(h[None], history[None], noise.next(), sampler)[0]
        out.append(x)
        history = last_h(torch.cat([history, x]))
        seq = torch.cat([seq, model.encode_patches(x[None])])
    return torch.cat(out)


@pytest.mark.parametrize("changes", [{}, {"history_patches": 2, "pad_side": "right"}, {"history_patches": 0}])
def test_kv_cached_batched_generation_equals_full_recomputation(changes, generators):
    model = make_model(**changes)
    phones, prompts = rows()
    batched = model.generate(phones, prompts, generators(3), SAMPLER, NO_STOP)
    for i in range(3):
        ref = naive_generate(model, phones[i], prompts[i], generators(3)[i], SAMPLER, NO_STOP.max_patches)
        assert batched[i].shape == (NO_STOP.max_patches * 4, 64)
        assert torch.allclose(batched[i], ref, atol=1e-4), i


def test_same_seed_same_output_and_batch_independence(tiny, generators):
    phones, prompts = rows()
    a = tiny.generate(phones, prompts, generators(3), SAMPLER, NO_STOP)
    b = tiny.generate(phones, prompts, generators(3), SAMPLER, NO_STOP)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    alone = tiny.generate(phones[1:2], prompts[1:2], generators(3)[1:2], SAMPLER, NO_STOP)[0]
    assert torch.allclose(alone, a[1], atol=1e-5)
    other = tiny.generate(phones, prompts, generators(3, seed=1), SAMPLER, NO_STOP)
    assert not torch.allclose(other[0], a[0])


def test_temperature_zero_ignores_the_seed(tiny, generators):
    phones, prompts = rows()
    greedy = SamplerConfig(nfe=3, guidance_scale=1.0, temperature=0.0)
    a = tiny.generate(phones, prompts, generators(3, seed=0), greedy, NO_STOP)
    b = tiny.generate(phones, prompts, generators(3, seed=5), greedy, NO_STOP)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    warm = SamplerConfig(nfe=3, guidance_scale=1.0, temperature=0.5)
    c = tiny.generate(phones, prompts, generators(3, seed=0), warm, NO_STOP)
    d = tiny.generate(phones, prompts, generators(3, seed=5), warm, NO_STOP)
    assert not torch.allclose(c[0], d[0])


def test_guided_velocity_is_two_passes_combined(tiny):
    x, h, hist = torch.randn(2, 4, 64), torch.randn(2, 32), torch.randn(2, 4, 64)
    with torch.no_grad():
        cond = tiny.locdit_eval(x, 0.4, h, hist)
        uncond = tiny.locdit_eval(x, 0.4, torch.zeros_like(h), hist)
        assert torch.allclose(tiny.velocity(x, 0.4, h, hist, 2.0), 3 * cond - 2 * uncond, atol=1e-5)
        assert torch.equal(tiny.velocity(x, 0.4, h, hist, 0.0), cond)


def force_stop(model, always: bool):
    with torch.no_grad():
        model.stop_head.weight.zero_()
        model.stop_head.bias.fill_(10.0 if always else -10.0)


@pytest.mark.parametrize("placement,expected", [("after_last", [2, 2, 2]), ("on_last", [2, 2, 2])])
def test_stop_head_respects_min_patches(placement, expected, generators):
    model = make_model(stop_label=placement)
    force_stop(model, always=True)
    phones, prompts = rows()
    out = model.generate(phones, prompts, generators(3), SAMPLER, GenerationConfig(max_patches=6, min_patches=2))
    assert [o.shape[0] // 4 for o in out] == expected
    if placement == "after_last":  # stopping before any patch is possible without a minimum
        out = model.generate(phones, prompts, generators(3), SAMPLER, GenerationConfig(max_patches=6))
        assert [o.shape[0] for o in out] == [0, 0, 0]


def test_per_row_caps_and_max_patches(tiny, generators):
    force_stop(tiny, always=False)
    phones, prompts = rows()
    out = tiny.generate(phones, prompts, generators(3), SAMPLER, GenerationConfig(max_patches=4), row_max=[1, 3, 9])
    assert [o.shape[0] // 4 for o in out] == [1, 3, 4]
    full = tiny.generate(phones, prompts, generators(3), SAMPLER, GenerationConfig(max_patches=4))
    assert torch.allclose(out[1], full[1][:12], atol=1e-5)  # a row's patches do not depend on others' caps


def test_iter_patches_streams_step_by_step(tiny, generators):
    phones, prompts = rows()
    it = tiny.iter_patches(phones, prompts, generators(3), SAMPLER, NO_STOP)
    first = next(it)
    assert first.step == 0 and first.patches.shape == (3, 4, 64) and first.emitted.all()
    assert len(list(it)) == NO_STOP.max_patches - 1


def test_bf16_autocast_generation_stays_close(tiny, generators):
    phones, prompts = rows()
    greedy = SamplerConfig(nfe=2, guidance_scale=1.0, temperature=0.0)
    ref = tiny.generate(phones, prompts, generators(3), greedy, NO_STOP)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = tiny.generate(phones, prompts, generators(3), greedy, NO_STOP)
    for a, b in zip(ref, low):
        assert torch.isfinite(b).all() and (a - b).abs().max() < 0.1 * a.abs().max()
