"""The masked-diffusion decoding pieces: schedules, filling, guidance, filtering, inverse-CDF draws."""

from __future__ import annotations

import math

import pytest
import torch

from ttsbench.errors import InputError
from ttsbench.systems.distar.infill import (InfillConfig, draw, filter_top, guide, infill, mask_ratio,
                                            temperatures, unmask_plan)


@pytest.mark.parametrize("total,steps", [(72, 24), (8, 24), (1, 24), (9, 1), (40, 7), (24, 24)])
@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_unmask_plan_fills_everything_in_at_most_n_steps(total, steps, schedule):
    plan = unmask_plan(total, steps, schedule)
    assert sum(plan) == total and min(plan) >= 1 and len(plan) == min(total, steps)


def test_cosine_plan_commits_few_tokens_first_and_many_last():
    plan = unmask_plan(72, 24, "cosine")  # P = 8 frames x J = 9 layers, N = 24: the paper's patch
    assert plan[:6] == [1] * 6 and sum(plan[:12]) < sum(plan[12:]) / 2  # cosine: a slow, careful start


def test_training_mask_ratio_schedules():
    u = torch.linspace(0, 1, 100_001)
    assert mask_ratio(u, "cosine").mean().item() == pytest.approx(2 / math.pi, abs=1e-3)  # MaskGIT
    assert mask_ratio(u, "linear").mean().item() == pytest.approx(0.5, abs=1e-4)


def test_infill_fills_every_position_and_calls_the_network_once_per_step():
    calls = []
    K, mask = 16, 17

    def logits_fn(tokens):
        calls.append(int((tokens == mask).sum()))
        return torch.randn(*tokens.shape, K, generator=torch.Generator().manual_seed(len(calls))), None

    tokens = torch.full((2, 4, 3), mask)
    out = infill(logits_fn, tokens, torch.rand(2, 24, 2, 4, 3), InfillConfig(steps=5), mask)
    assert not bool((out == mask).any()) and int(out.min()) >= 1 and int(out.max()) <= K
    assert len(calls) == 5 and calls[0] == 24 and calls == sorted(calls, reverse=True)  # masks only shrink


def test_committed_tokens_never_change():
    K, mask = 8, 9
    seen = []

    def logits_fn(tokens):
        seen.append(tokens.clone())
        return torch.randn(*tokens.shape, K), None

    infill(logits_fn, torch.full((1, 4, 2), mask), torch.rand(1, 6, 2, 4, 2), InfillConfig(steps=6, mode="sample"), mask)
    for before, after in zip(seen, seen[1:]):
        kept = before != mask
        assert torch.equal(after[kept], before[kept])


def test_guidance_formula_and_rescale():
    g = torch.Generator().manual_seed(0)
    c, u = torch.randn(5, 32, generator=g), torch.randn(5, 32, generator=g)
    assert torch.equal(guide(c, None, InfillConfig()), c)
    plain = guide(c, u, InfillConfig(cfg_scale=1.25, cfg_rescale=0.0))
    assert torch.allclose(plain, u + 1.25 * (c - u))
    full = guide(c, u, InfillConfig(cfg_scale=3.0, cfg_rescale=1.0))
    assert torch.allclose(full.std(-1), c.std(-1), atol=1e-5)  # rescaled to the conditional spread
    assert not InfillConfig(cfg_scale=1.0).guided and InfillConfig().guided


def test_top_k_top_p_filtering():
    p = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    assert torch.allclose(filter_top(p, 2, 1.0), torch.tensor([[0.625, 0.375, 0.0, 0.0]]))
    assert torch.allclose(filter_top(p, 0, 0.75), torch.tensor([[0.625, 0.375, 0.0, 0.0]]))  # 0.5 + 0.3 >= 0.75
    assert torch.allclose(filter_top(p, 0, 0.4), torch.tensor([[1.0, 0.0, 0.0, 0.0]]))  # the top code always stays
    assert torch.allclose(filter_top(p, 0, 1.0), p)


def test_inverse_cdf_draws_follow_the_distribution():
    probs = torch.tensor([0.1, 0.0, 0.6, 0.3])
    assert draw(probs[None], torch.tensor([0.0])).item() == 0
    assert draw(probs[None], torch.tensor([0.1])).item() == 2  # the zero-probability code is never drawn
    assert draw(probs[None], torch.tensor([0.999999])).item() == 3
    u = torch.rand(200_000, generator=torch.Generator().manual_seed(1))
    counts = torch.bincount(draw(probs.expand(len(u), 4), u), minlength=4).float() / len(u)
    assert torch.allclose(counts, probs, atol=5e-3)


def test_layer_and_time_temperatures():
    t = temperatures(InfillConfig(time_temp=0.95, layer_temp=0.8), 0, 3, 2, torch.device("cpu"))
    assert torch.allclose(t, torch.tensor([[1.0, 0.8], [0.95, 0.76], [0.9025, 0.722]]))
    annealed = InfillConfig(steps=11, temperature=1.0, temperature_end=0.1)
    assert temperatures(annealed, 10, 1, 1, torch.device("cpu")).item() == pytest.approx(0.1)
    assert temperatures(annealed, 5, 1, 1, torch.device("cpu")).item() == pytest.approx(0.55)


@pytest.mark.parametrize("bad", [{"steps": 0}, {"mode": "beam"}, {"layer_temp": 0}, {"top_p": 0.0},
                                 {"cfg_rescale": 2.0}, {"layers": 0}])
def test_bad_settings_are_one_line_errors(bad):
    with pytest.raises(InputError):
        InfillConfig(**bad)
