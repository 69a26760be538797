"""DiSTAR at tiny size: losses, masks, layer pruning, KV-cached batched generation, determinism."""

from __future__ import annotations

import pytest
import torch

from ttsbench.errors import InputError
from ttsbench.systems.distar.config import DiSTARConfig
from ttsbench.systems.distar.infill import InfillConfig
from ttsbench.systems.speech.patch_ar import GenerationConfig
from ttsbench.systems.speech.patches import patchify

from .conftest import gens, make_batch, make_model

LAYOUTS = [{"layout": "frame"}, {"layout": "frame_layer"}, {"head": "tied"}, {"history_patches": 2},
           {"layout": "frame_layer", "history_patches": 0}, {"history_patches": 0}]
NO_STOP = GenerationConfig(max_patches=3, stop_threshold=2.0)


def rows():
    g = torch.Generator().manual_seed(3)
    phones = [[3, 4, 5, 6, 7], [8, 9], [10, 11, 12]]
    prompts = [torch.randint(0, 16, (10, 4), generator=g), torch.randint(0, 16, (3, 4), generator=g),
               torch.zeros(0, 4, dtype=torch.long)]
    return phones, prompts


@pytest.mark.parametrize("changes", LAYOUTS)
def test_training_losses_are_finite_and_reach_every_part(changes):
    model = make_model(**changes).train()
    losses = model(make_batch())
    losses.total.backward()
    assert torch.isfinite(losses.total) and 0 <= float(losses.accuracy) <= 1
    for name in ("agg_embed.weight", "encoder.special", "lm.blocks.0.attn.qkv.weight", "mdm.head", "mdm.cond_gate"):
        assert model.get_parameter(name).grad is not None and model.get_parameter(name).grad.abs().sum() > 0, name


def test_codes_out_of_range_or_float_are_one_line_errors():
    model = make_model()
    batch = make_batch()
    batch.latents[0, 0, 0] = 16
    with pytest.raises(InputError, match="outside 0..15"):
        model(batch)
    batch = make_batch()
    batch.latents = batch.latents.float()
    with pytest.raises(InputError, match="integer codes"):
        model(batch)


def test_padding_ids_embed_to_zero_and_do_not_change_the_aggregate():
    model = make_model()
    patch = torch.randint(1, 17, (2, 4, 4))
    pruned = patch.clone()
    pruned[..., 2:] = 0
    assert torch.equal(model.agg_embed(pruned)[..., 2:, :], torch.zeros(2, 4, 2, 16))
    assert torch.allclose(model.encode_patches(pruned), model.encoder(model.agg_embed(patch[..., :2]).sum(-2)))


@pytest.mark.parametrize("layout", ["frame", "frame_layer"])
def test_mdm_is_bidirectional(layout):
    model = make_model(layout=layout)
    h, hist = torch.randn(1, 32), torch.randint(1, 17, (1, 4, 4))
    tokens = torch.full((1, 4, 4), model.cfg.mask_id)
    base = model.mdm(h, hist, tokens)
    later = tokens.clone()
    later[0, -1, -1] = 5  # the last token of the patch
    assert not torch.allclose(model.mdm(h, hist, later)[0, 0], base[0, 0])  # the first frame sees it


@pytest.mark.parametrize("layout", ["frame", "frame_layer"])
def test_pruned_mdm_equals_the_training_time_view_of_the_same_layers(layout):
    """Inference with L' layers (sliced) = training with the upper layers pruned (padding / hidden keys)."""
    model = make_model(layout=layout)
    L, J, P = 2, 4, 4
    h, hist = torch.randn(2, 32), torch.randint(1, 17, (2, 4, J))
    tokens = torch.randint(1, 18, (2, P, J))  # codes and [MASK]s
    sliced = model.mdm(h, hist[..., :L], tokens[..., :L])
    padded_hist, padded_tok = hist.clone(), tokens.clone()
    padded_hist[..., L:], padded_tok[..., L:] = 0, 0
    key_valid = None
    if layout == "frame_layer":
        on = torch.arange(J) < L
        key_valid = torch.cat([torch.ones(1, dtype=torch.bool), on.repeat(4 + P)])[None].expand(2, -1)
    full = model.mdm(h, padded_hist, padded_tok, key_valid)
    if layout == "frame_layer":
        full = full[:, :, :L]
    assert torch.allclose(model.mdm.logits(sliced, L), model.mdm.logits(full, L), atol=1e-5)


def test_layer_truncation_draws_between_one_and_all_layers():
    model = make_model(layer_truncation=1.0)
    active = model._truncate(4000, torch.device("cpu"))
    assert set(active.tolist()) == {1, 2, 3}  # l ~ U{1..J-1}: never all 4 with p = 1
    mixed = make_model(layer_truncation=0.75)._truncate(4000, torch.device("cpu"))
    assert set(mixed.tolist()) == {1, 2, 3, 4} and 0.2 < (mixed == 4).float().mean() < 0.3


@torch.no_grad()
def naive_generate(model, phones, prompt, sampler, steps):
    """One row, no KV cache, no padding; greedy, so no noise is involved."""
    cfg, P = model.cfg, model.cfg.patch_size
    ids = prompt + 1
    patches, _, n = patchify(ids[None], torch.tensor([len(ids)]), P, cfg.pad_side)
    seq = model.phone_embed(torch.tensor(phones))
    if int(n):
        seq = torch.cat([seq, model.encode_patches(patches[0, :int(n)])])
    frames = patches[0, :int(n)].reshape(-1, cfg.num_layers)
    H = cfg.history_frames
    history = torch.cat([torch.zeros(H, cfg.num_layers, dtype=torch.long), frames])
    history = history[len(history) - H:]  # not [-H:]: that is everything when H = 0
    out = []
    for _ in range(steps):
        h = model.lm(seq[None], causal=True)[0, -1]
        x = model.sample_patch(h[None], history[None], torch.zeros(1, sampler.steps, 2, P, 4), sampler)[0]
        out.append(x - 1)
        history = torch.cat([history, x])[len(history) + len(x) - H:]
        seq = torch.cat([seq, model.encode_patches(x[None])])
    return torch.cat(out)


@pytest.mark.parametrize("changes", LAYOUTS)
def test_kv_cached_batched_greedy_generation_equals_full_recomputation(changes):
    model = make_model(**changes)
    phones, prompts = rows()
    sampler = InfillConfig(steps=5)
    batched = model.generate(phones, prompts, gens(3), sampler, NO_STOP)
    for i in range(3):
        assert torch.equal(batched[i], naive_generate(model, phones[i], prompts[i], sampler, 3)), i


def test_greedy_is_deterministic_and_sampling_is_seeded_and_batch_independent():
    model = make_model()
    phones, prompts = rows()
    greedy = InfillConfig(steps=4)
    a = model.generate(phones, prompts, gens(3, 0), greedy, NO_STOP)
    b = model.generate(phones, prompts, gens(3, 9), greedy, NO_STOP)
    assert all(torch.equal(x, y) for x, y in zip(a, b))  # no randomness at all
    sample = InfillConfig(steps=4, mode="sample", top_k=0, top_p=1.0, cfg_scale=1.0)
    s1 = model.generate(phones, prompts, gens(3, 1), sample, NO_STOP)
    s2 = model.generate(phones, prompts, gens(3, 1), sample, NO_STOP)
    s3 = model.generate(phones, prompts, gens(3, 2), sample, NO_STOP)
    assert all(torch.equal(x, y) for x, y in zip(s1, s2))
    assert any(not torch.equal(x, y) for x, y in zip(s1, s3))
    alone = model.generate(phones[1:2], prompts[1:2], gens(3, 1)[1:2], sample, NO_STOP)[0]
    assert torch.equal(alone, s1[1])  # a row's codes do not depend on the other rows


def test_layer_pruning_sets_the_bitrate_of_the_output():
    model = make_model()
    phones, prompts = rows()
    for L in (1, 2, 4):
        out = model.generate(phones, prompts, gens(3), InfillConfig(steps=3, layers=L), NO_STOP)
        assert all(o.shape == (3 * 4, L) and int(o.min()) >= 0 and int(o.max()) < 16 for o in out)
    with pytest.raises(InputError, match="4 RVQ layers"):
        model.generate(phones, prompts, gens(3), InfillConfig(layers=5), NO_STOP)
    cfg = DiSTARConfig.from_size("base")
    assert cfg.kbps(64.0) == pytest.approx(9.216) and cfg.kbps(64.0, layers=2) == pytest.approx(2.048)


def test_streaming_yields_each_patch_and_the_stop_head_ends_rows():
    model = make_model()
    phones, prompts = rows()
    steps = list(model.iter_patches(phones, prompts, gens(3), InfillConfig(steps=2), NO_STOP))
    assert len(steps) == 3 and all(s.patches.shape == (3, 4, 4) for s in steps)
    with torch.no_grad():
        model.stop_head.bias.fill_(100.0)  # always stop: every row ends before its first patch
    out = model.generate(phones, prompts, gens(3), InfillConfig(steps=2), GenerationConfig(max_patches=3))
    assert all(o.shape == (0, 4) and o.dtype == torch.long for o in out)
