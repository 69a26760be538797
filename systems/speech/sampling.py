"""DiTAR's diffusion: cosine VP schedule, v (flow-matching) target, DDIM sampler, temperature.

Forward process (§3.5.3, Eq. 5-6): x_t = alpha_t x0 + sigma_t eps with alpha_t = cos(pi t / 2),
sigma_t = sin(pi t / 2), t in [0, 1]. The model predicts the velocity v = d x_t / d t
= alpha'_t x0 + sigma'_t eps (Eq. 7); for this schedule Eq. 13 simplifies to

    x0_hat  = alpha_t x_t - (2 / pi) sigma_t v_hat
    eps_hat = sigma_t x_t + (2 / pi) alpha_t v_hat

DDIM step t -> s (s < t): x_s = alpha_s x0_hat + sigma_s eps_hat, i.e. first-order DPM-Solver,
Euler in log-SNR (the paper's "Euler w.r.t. the signal-to-noise ratio"). Time grid: uniform in t,
t_k = 1 - k / NFE for k = 0..NFE, so NFE counts network calls (each call may hold the two
guidance passes).

Temperature tau (§3.4, Eq. 3-4, Algorithm 1): k* = argmin_k |t_k - tau| (ties: the larger t).
k* = 0 (tau near 1): x_1 ~ N(0, I), plain DDIM. Otherwise x_1 = 0, and the step that lands on t_k*
re-noises the clean estimate with fresh noise instead of eps_hat: x = alpha x0_hat + sigma z.
tau = 0 lands on t = 0 where sigma = 0: no noise at all, deterministic ("greedy"). Algorithm 1's
typos (beta for sigma, f(x_{t_N}, t_N) inside the loop, the n+1 subscript) are read as Eq. 4.

LM guidance (§3.3, Eq. 2): v = (1 + w) v(x, h) - w v(x, 0), w in the paper's convention (w = 0 is
no guidance; VoxCPM's cfg_value c is w = c - 1). Exactly one standard-normal draw per patch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ttsbench.errors import InputError

HALF_PI = math.pi / 2

VelocityFn = Callable[[Tensor, float], Tensor]  # (x_t (N, P, C), t) -> v_hat (N, P, C)


@dataclass(frozen=True)
class SamplerConfig:
    """How LocDiT samples one patch. Paper defaults: NFE 10 (Table 1); w and tau: see fields."""

    nfe: int = 10  # network calls per patch (each call = 2 batched LocDiT passes when w != 0)
    guidance_scale: float = 1.0  # w of Eq. 2 (paper convention); 1.0 = VoxCPM's default cfg_value 2.0
    temperature: float = 1.0  # tau: 1 = standard ODE sampling from N(0, I), 0 = greedy, deterministic

    def __post_init__(self) -> None:
        if self.nfe < 1:
            raise InputError(f"nfe = {self.nfe}; need at least 1 network call per patch")
        if not 0.0 <= self.temperature <= 1.0:
            raise InputError(f"temperature = {self.temperature}; tau is a time point in [0, 1]")
        if self.guidance_scale < 0:
            raise InputError(f"guidance scale w = {self.guidance_scale}; expected w >= 0")


def alpha_sigma(t: Tensor | float) -> tuple[Tensor, Tensor]:
    """alpha_t = cos(pi t / 2), sigma_t = sin(pi t / 2); exact 1 and 0 at t = 0."""
    t = torch.as_tensor(t, dtype=torch.float64)
    return torch.cos(HALF_PI * t), torch.sin(HALF_PI * t)


def diffuse(x0: Tensor, eps: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
    """Training pair for per-sample times t (N,): the noisy x_t and the velocity target v."""
    shape = (-1,) + (1,) * (x0.dim() - 1)
    a, s = torch.cos(HALF_PI * t).view(shape), torch.sin(HALF_PI * t).view(shape)
    x_t = a * x0 + s * eps
    v = HALF_PI * (-s * x0 + a * eps)  # alpha' = -(pi/2) sigma, sigma' = (pi/2) alpha
    return x_t, v


def _alpha_sigma(t: float) -> tuple[float, float]:
    return math.cos(HALF_PI * t), math.sin(HALF_PI * t)


def predict_x0_eps(x_t: Tensor, v: Tensor, t: float) -> tuple[Tensor, Tensor]:
    """x0_hat and eps_hat from a velocity at time t (Eq. 13 for the trig schedule)."""
    a, s = _alpha_sigma(t)
    return a * x_t - s * v / HALF_PI, s * x_t + a * v / HALF_PI


def time_grid(nfe: int) -> list[float]:
    """t_0 = 1 > t_1 > ... > t_nfe = 0, uniform in t."""
    return [1.0 - k / nfe for k in range(nfe + 1)]


def noise_index(grid: list[float], temperature: float) -> int:
    """k* = argmin_k |t_k - tau|; the first (largest t) on ties."""
    gaps = [abs(t - temperature) for t in grid]
    return gaps.index(min(gaps))


def guided(v_cond: Tensor, v_uncond: Tensor, w: float) -> Tensor:
    """Eq. 2 in velocity space: (1 + w) v(h) - w v(0)."""
    return (1.0 + w) * v_cond - w * v_uncond


def sample(velocity: VelocityFn, noise: Tensor, cfg: SamplerConfig) -> Tensor:
    """Solve the reverse ODE from t = 1 to 0 with DDIM steps and temperature (Algorithm 1).

    Args:
        velocity: the (guided) model velocity; called exactly `cfg.nfe` times.
        noise: (N, P, C) standard-normal draws, one per sample; used once (at t = 1 when tau
            rounds to 1, else at the re-noise step).
        cfg: NFE, guidance (already inside `velocity`) and temperature.

    Returns:
        (N, P, C) the sample x_0, in fp32.
    """
    grid = time_grid(cfg.nfe)
    k_star = noise_index(grid, cfg.temperature)
    noise = noise.float()
    x = noise.clone() if k_star == 0 else torch.zeros_like(noise)
    for k in range(1, len(grid)):
        t, s = grid[k - 1], grid[k]
        x0_hat, eps_hat = predict_x0_eps(x, velocity(x, t).float(), t)
        if k == k_star:
            eps_hat = noise  # Eq. 4: re-noise the clean estimate at t = tau
        a_s, s_s = _alpha_sigma(s)
        x = a_s * x0_hat + s_s * eps_hat
    return x
