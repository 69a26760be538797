"""Latent standardisation round trip, gradient accumulation = one bigger batch, the EMA update and
its checkpoint layout, LR schedules."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from ttsbench.errors import InputError
from ttsbench.systems.speech.latent_stats import LatentStats, compute_stats, load_stats
from ttsbench.systems.speech.training.ema import EMA, ema_weights
from ttsbench.systems.speech.training.schedule import accumulate, lr_at


def test_stats_standardise_and_round_trip(tmp_path):
    gen = torch.Generator().manual_seed(0)
    scale = torch.tensor([0.1, 3.0, 20.0])
    offset = torch.tensor([-5.0, 0.5, 40.0])
    utts = [torch.randn(n, 3, generator=gen) * scale + offset for n in (50, 70, 90)]
    stats = compute_stats(utts, "fp")
    assert stats.frames == 210 and stats.utterances == 3 and stats.channels == 3
    allz = torch.cat(utts)
    torch.testing.assert_close(torch.tensor(stats.mean, dtype=torch.float64), allz.double().mean(0), rtol=0, atol=1e-9,
                               check_dtype=False)
    torch.testing.assert_close(torch.tensor(stats.std, dtype=torch.float64), allz.double().std(0, unbiased=False), rtol=1e-9, atol=0,
                               check_dtype=False)
    x = stats.standardize(allz)  # unit scale per channel over the corpus
    torch.testing.assert_close(x.mean(0), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(0, unbiased=False), torch.ones(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(stats.destandardize(x), allz, atol=1e-4, rtol=1e-6)  # the round trip
    stats.save(tmp_path)
    again = load_stats(tmp_path)
    assert again == stats and load_stats(tmp_path / "nowhere") is None
    with pytest.raises(InputError, match="3 channels, the latents 4"):
        stats.standardize(torch.zeros(2, 4))


def test_a_constant_channel_gets_the_floor_not_a_division_by_zero():
    stats = compute_stats([torch.ones(10, 2)])
    assert min(stats.std) > 0 and torch.isfinite(stats.standardize(torch.ones(3, 2))).all()
    with pytest.raises(InputError):
        LatentStats((0.0,), (0.0,))


class FrameMSE(nn.Module):
    """A loss that is a mean over the batch's frames (like DiTAR's diffusion loss), no randomness."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 4))

    def forward(self, x: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(total=((self.net(x) - x.flip(-1)) ** 2).mean())


def grads(model: nn.Module) -> list[torch.Tensor]:
    return [p.grad.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("k", [2, 4])
def test_accumulated_gradients_equal_one_bigger_batch(k):
    data = torch.randn(8, 5, 4, generator=torch.Generator().manual_seed(1))  # 8 utterances x 5 frames
    big = FrameMSE()
    big(data).total.backward()
    small = FrameMSE()
    losses = list(accumulate(small, list(data.chunk(k)), lambda m, b: m(b)))
    assert len(losses) == k
    for a, b in zip(grads(big), grads(small)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_accumulation_names_a_non_finite_micro_batch():
    model = FrameMSE()
    bad = torch.full((2, 5, 4), float("nan"))
    with pytest.raises(FloatingPointError, match="micro-batch 2 of 2"):
        list(accumulate(model, [torch.zeros(2, 5, 4), bad], lambda m, b: m(b)))


def test_ema_update_and_checkpoint_layout():
    model = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema = EMA(model, 0.9)
    with torch.no_grad():
        model.weight.fill_(3.0)
    ema.update()  # 0.9 * 1 + 0.1 * 3
    torch.testing.assert_close(ema.shadow["weight"], torch.full((2, 2), 1.2))
    ema.update()  # 0.9 * 1.2 + 0.1 * 3
    torch.testing.assert_close(ema.shadow["weight"], torch.full((2, 2), 1.38))
    state = ema.state_dict()  # ema_pytorch's layout (GROW / F5-TTS checkpoints)
    assert set(state) == {"ema_model.weight", "initted", "step"} and int(state["step"]) == 2
    assert torch.equal(ema_weights(state)["weight"], ema.shadow["weight"])
    other = EMA(nn.Linear(2, 2, bias=False), 0.9)
    other.load_state_dict(state)
    assert other.updates == 2 and torch.equal(other.shadow["weight"], ema.shadow["weight"])
    full = ema.model_state(model.state_dict())
    assert torch.equal(full["weight"], ema.shadow["weight"]) and torch.equal(model.weight, torch.full((2, 2), 3.0))


def test_ema_warmup_decay_and_bad_decay():
    ema = EMA(nn.Linear(1, 1), 0.999, warmup=True)
    assert ema.current_decay() == pytest.approx(2 / 11)
    with pytest.raises(InputError, match="ema decay"):
        EMA(nn.Linear(1, 1), 1.0)


def test_lr_schedules():
    assert lr_at(0, 1.0, warmup_steps=4) == 0.25 and lr_at(3, 1.0, warmup_steps=4) == 1.0
    assert lr_at(500, 1.0, warmup_steps=4) == 1.0  # constant: the paper
    cos = [lr_at(s, 1.0, warmup_steps=10, schedule="cosine", decay_steps=100, final_lr_ratio=0.1)
           for s in (10, 60, 110, 500)]
    assert cos[0] == 1.0 and cos[1] == pytest.approx(0.55) and cos[2] == pytest.approx(0.1) and cos[3] == cos[2]
    assert lr_at(60, 1.0, warmup_steps=10, schedule="linear", decay_steps=100) == pytest.approx(0.5)
    assert not math.isnan(lr_at(0, 1.0, schedule="cosine", decay_steps=0))
