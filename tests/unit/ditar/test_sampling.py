"""The diffusion math: schedule identities, the DDIM sampler on analytic targets, guidance, temperature."""

from __future__ import annotations

import math

import pytest
import torch

from ttsbench.errors import InputError
from ttsbench.systems.speech.sampling import (SamplerConfig, alpha_sigma, diffuse, guided, noise_index,
                                             predict_x0_eps, sample, time_grid)


def gaussian_velocity(mu: float, std: float):
    """The exact v(x_t, t) when x0 ~ N(mu, std^2) per element (the ideal network)."""
    def velocity(x: torch.Tensor, t: float) -> torch.Tensor:
        a, s = (float(u) for u in alpha_sigma(t))
        x0 = mu + a * std**2 * (x - a * mu) / (a * a * std**2 + s * s)  # E[x0 | x_t]
        eps = (x - a * x0) / s
        return (math.pi / 2) * (-s * x0 + a * eps)
    return velocity


def test_schedule_is_variance_preserving_and_v_inverts():
    t = torch.rand(1000)
    x0, eps = torch.randn(1000, 4, 3), torch.randn(1000, 4, 3)
    x_t, v = diffuse(x0, eps, t)
    a, s = torch.cos(math.pi * t / 2), torch.sin(math.pi * t / 2)
    assert torch.allclose(a**2 + s**2, torch.ones_like(t))
    for i in (0, 17, 999):  # Eq. 13 for the trig schedule recovers x0 and eps from (x_t, v)
        x0_hat, eps_hat = predict_x0_eps(x_t[i], v[i], float(t[i]))
        assert torch.allclose(x0_hat, x0[i], atol=1e-5) and torch.allclose(eps_hat, eps[i], atol=1e-5)
    # v is the time derivative of x_t along the path (finite difference)
    h, ti = 1e-4, torch.full((1,), 0.3, dtype=torch.float64)
    xa, _ = diffuse(x0[:1].double(), eps[:1].double(), ti + h)
    xb, _ = diffuse(x0[:1].double(), eps[:1].double(), ti - h)
    _, v_mid = diffuse(x0[:1].double(), eps[:1].double(), ti)
    assert torch.allclose((xa - xb) / (2 * h), v_mid, atol=1e-6)


def test_point_mass_is_recovered_exactly_at_any_nfe():
    target = torch.tensor([[0.5, -1.0, 2.0]])
    def velocity(x, t):
        a, s = (float(u) for u in alpha_sigma(t))
        eps = (x - a * target) / s
        return (math.pi / 2) * (-s * target + a * eps)
    for nfe in (1, 2, 10):
        for tau in (0.0, 0.5, 1.0):
            out = sample(velocity, torch.randn(8, 1, 3), SamplerConfig(nfe=nfe, temperature=tau))
            assert torch.allclose(out, target.expand(8, 1, 3), atol=1e-5)


def test_gaussian_target_mean_and_spread_by_temperature():
    """x0 ~ N(mu, s^2) with the exact velocity: tau = 1 samples the data distribution, tau = 0 its
    mode; in between, noise enters at t = tau around the mode, so the spread is the analytic
    s * sigma_tau / sqrt(alpha_tau^2 s^2 + sigma_tau^2) (the fraction of the marginal's noise)."""
    mu, std = 1.5, 0.5
    noise = torch.randn(20_000, 1, 1, generator=torch.Generator().manual_seed(0))
    for tau in (1.0, 0.5, 0.2, 0.0):
        out = sample(gaussian_velocity(mu, std), noise, SamplerConfig(nfe=200, temperature=tau))
        a, s = (float(u) for u in alpha_sigma(tau))
        expected = std * s / math.sqrt(a * a * std**2 + s * s)
        assert abs(float(out.mean()) - mu) < 0.02, tau
        assert abs(float(out.std()) - expected) < 0.01, (tau, float(out.std()), expected)
    greedy = sample(gaussian_velocity(mu, std), noise, SamplerConfig(nfe=10, temperature=0.0))
    assert torch.allclose(greedy, torch.full_like(greedy, mu), atol=1e-4)  # the mode at any NFE


def test_temperature_zero_is_deterministic_and_positive_is_diverse():
    v = gaussian_velocity(0.0, 1.0)
    a, b = torch.randn(4, 2, 3), torch.randn(4, 2, 3)
    assert torch.equal(sample(v, a, SamplerConfig(nfe=5, temperature=0.0)),
                       sample(v, b, SamplerConfig(nfe=5, temperature=0.0)))
    for tau in (0.3, 1.0):
        assert not torch.allclose(sample(v, a, SamplerConfig(nfe=5, temperature=tau)),
                                  sample(v, b, SamplerConfig(nfe=5, temperature=tau)))


def test_nfe_counts_network_calls_and_grid():
    calls = []
    sample(lambda x, t: calls.append(t) or torch.zeros_like(x), torch.randn(2, 4, 3), SamplerConfig(nfe=7))
    assert len(calls) == 7 and calls[0] == 1.0 and calls[-1] == pytest.approx(1 / 7)
    assert time_grid(4) == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert noise_index(time_grid(10), 1.0) == 0 and noise_index(time_grid(10), 0.0) == 10
    assert noise_index(time_grid(10), 0.5) == 5 and noise_index(time_grid(4), 0.625) == 1  # tie: larger t


def test_guidance_formula():
    cond, uncond = torch.randn(3, 4), torch.randn(3, 4)
    assert torch.equal(guided(cond, uncond, 0.0), cond)
    assert torch.allclose(guided(cond, uncond, 2.0), 3 * cond - 2 * uncond)


@pytest.mark.parametrize("kwargs", [{"nfe": 0}, {"temperature": 1.5}, {"guidance_scale": -1.0}])
def test_bad_sampler_settings_are_errors(kwargs):
    with pytest.raises(InputError):
        SamplerConfig(**kwargs)
