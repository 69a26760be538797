"""Our GROW model equals GROW's original code (commit 1527cdf) on a tiny random checkpoint.

The goldens were made by running GROW's own modules (scripts/make_grow_goldens.py); here the same
checkpoint goes through `ttsbench convert grow` and our model. Tolerance: 1e-5 fp32 (absolute +
relative) for module outputs and for the first sampled patch; stop decisions must be identical.
Over a whole autoregressive sequence the ~1e-6 rounding differences (summation order: permuted RoPE
layout, KV cache instead of recomputing the prefix) are fed back through encoder, LM and CFG and grow
to ~3e-5 by patch 5, so the full sequence is held to 1e-4.
"""

from __future__ import annotations

import torch

from ttsbench.systems.grow.convert import convert, load_converted
from ttsbench.systems.grow.sampler import GrowSampling, sample

TOL = dict(rtol=1e-5, atol=1e-5)
SEQ_TOL = dict(rtol=1e-4, atol=1e-4)


def converted(grow_ckpt, tmp_path):
    model, meta = load_converted(convert(grow_ckpt.parent, tmp_path / "converted"))
    return model, meta


def test_modules_equal_grow(grow_ckpt, grow_goldens, tmp_path):
    model, meta = converted(grow_ckpt, tmp_path)
    assert meta["source"]["kind"] == "pretrain-ema"
    g = grow_goldens
    T = g["text_ids"].shape[1]
    with torch.no_grad():
        x, positions, keys = model.prefix(g["text_ids"], g["prompt"])  # 10 prompt frames: last patch padded
        torch.testing.assert_close(x[:, T:], g["encoder_patches"], **TOL)
        h = model.lm_hidden(x, positions, keys)
        torch.testing.assert_close(h, g["lm_hidden"], **TOL)
        torch.testing.assert_close(model.stop_prob(h[:, -1]), g["stop_probs_prefix"], **TOL)
        t_emb = model.locdit.time(g["t"])
        torch.testing.assert_close(t_emb, g["time_embedding"], **TOL)
        ctx, hist = model.locdit.ctx_in(h[:, -1:]), model.locdit.hist_in(g["prompt"][:, -4:])
        torch.testing.assert_close(model.locdit(ctx, hist, g["x_t"], t_emb), g["velocity_cond"], **TOL)
        torch.testing.assert_close(model.locdit(torch.zeros_like(ctx), hist, g["x_t"], t_emb),
                                   g["velocity_uncond"], **TOL)


def test_sampling_equals_grow(grow_ckpt, grow_goldens, grow_meta, tmp_path):
    """GROW's sample(seed=666, stage CFG 2.0, sway -1, Euler) vs ours with a generator seeded 666."""
    model, _ = converted(grow_ckpt, tmp_path)
    s = grow_meta["sample"]
    cfg = GrowSampling(nfe=s["steps"], cfg=s["cfg_strength"], sway=s["sway_sampling_coef"], strategy=s["sample_strategy"],
                       min_patches=s["min_seq_length"], max_patches=s["max_seq_length"])
    y, trace = sample(model, grow_goldens["text_ids"], grow_goldens["prompt"],
                      torch.Generator().manual_seed(s["seed"]), cfg)
    assert trace.stopped == grow_meta["stopped_by_head"]
    assert len(trace.stop_probs) == len(grow_meta["stop_probs"])  # one check per patch, plus the stopping one
    assert [p > 0.5 for p in trace.stop_probs] == [p > 0.5 for p in grow_meta["stop_probs"]]
    torch.testing.assert_close(torch.tensor(trace.stop_probs), torch.tensor(grow_meta["stop_probs"]), **TOL)
    assert y.shape[1] == grow_meta["patches"] * 4
    torch.testing.assert_close(y[:, :4], grow_goldens["sampled"][:, :4], **TOL)
    torch.testing.assert_close(y, grow_goldens["sampled"], **SEQ_TOL)


def test_constant_guidance_without_sway_equals_grow(grow_ckpt, grow_goldens, grow_meta, tmp_path):
    """GROW's sample(strategy="base", cfg 1.0, sway None, seed 7): the other branches of its loop."""
    model, _ = converted(grow_ckpt, tmp_path)
    base = grow_meta["sample_base"]
    s = base["sample"]
    cfg = GrowSampling(nfe=s["steps"], cfg=s["cfg_strength"], sway=s["sway_sampling_coef"], strategy=s["sample_strategy"],
                       min_patches=s["min_seq_length"], max_patches=s["max_seq_length"])
    y, trace = sample(model, grow_goldens["text_ids"], grow_goldens["prompt"],
                      torch.Generator().manual_seed(s["seed"]), cfg)
    assert [p > 0.5 for p in trace.stop_probs] == [p > 0.5 for p in base["stop_probs"]]
    assert y.shape[1] == base["patches"] * 4
    torch.testing.assert_close(y[:, :4], grow_goldens["sampled_base"][:, :4], **TOL)
    torch.testing.assert_close(y, grow_goldens["sampled_base"], **SEQ_TOL)
