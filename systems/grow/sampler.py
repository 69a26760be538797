"""GROW's inference loop (one utterance at a time, as its evaluation runs: batch 1).

Per patch k (k = 0, 1, ...):
1. stop check first: P(stop | h_k) > threshold ends the utterance (only once k >= min_patches);
2. the patch is sampled by rectified flow in F5's convention (noise at t = 0, data at t = 1,
   velocity = data - noise), Euler over `nfe` steps on a grid t -> t + sway (cos(pi t / 2) - 1 + t);
3. guidance zeroes only the LM context token: v = v_c + (v_c - v_u) * alpha, where with the "stage"
   schedule alpha_out = (w - 1.5) |cos(pi k / 40)| + 1.5 (when w > 1.5, else w) and along the ODE
   alpha = 1 + (alpha_out - 1) t / 0.3 for t <= 0.3, 1 for t >= 0.7, 0.2 in between ("base": alpha_out);
4. the last `history_frames` frames of [prompt ; generated] are the next patch's history, and the new
   patch goes through the aggregation encoder and one KV-cached LM step (audio positions continue).

Noise: one (1, P, C) normal draw per patch from the caller's generator, nothing else, so a
generator seeded with s after the prompt's posterior draws reproduces GROW's `sample(seed=s)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ttsbench.systems.grow.model import GrowModel

STAGES = ("stage", "base")


@dataclass(frozen=True)
class GrowSampling:
    """GROW's evaluation settings (eval_8gpu.sh): NFE 32, Euler, sway -1, CFG 2.0 'stage', 10..250 patches."""

    nfe: int = 32
    cfg: float = 2.0
    sway: float | None = -1.0
    strategy: str = "stage"
    min_patches: int = 10
    max_patches: int = 250
    stop_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.strategy not in STAGES:
            raise ValueError(f"GrowSampling: strategy {self.strategy!r} is not one of {STAGES}")


@dataclass
class Trace:
    """What one `sample` call decided: P(stop) at every check, and whether the head stopped it."""

    stop_probs: list[float] = field(default_factory=list)
    stopped: bool = False


def time_grid(nfe: int, sway: float | None, device: torch.device) -> Tensor:
    grid = torch.linspace(0, 1, nfe + 1, device=device)
    if sway is not None:
        grid = grid + sway * (torch.cos(torch.pi / 2 * grid) - 1 + grid)
    return grid


def outer_scale(s: GrowSampling, k: int) -> float:
    if s.strategy == "stage" and s.cfg > 1.5:
        return (s.cfg - 1.5) * abs(math.cos(math.pi / (2 * 20) * k)) + 1.5
    return s.cfg


def guided_velocity(model: GrowModel, ctx: Tensor, hist: Tensor, x: Tensor, t: Tensor, alpha_out: float,
                    strategy: str) -> Tensor:
    """ctx (1, 1, D), hist (1, H, D) projected; x (1, P, C); t a 0-d tensor -> guided velocity (1, P, C)."""
    dit = model.locdit
    t_emb = dit.time(t.unsqueeze(0))
    if alpha_out < 1e-5:
        return dit(ctx, hist, x, t_emb)
    both = dit(torch.cat([ctx, torch.zeros_like(ctx)]), hist.expand(2, -1, -1), x.expand(2, -1, -1),
               t_emb.expand(2, -1))
    cond, uncond = both[:1], both[1:]
    if strategy == "stage":
        alpha = (alpha_out - 1.0) * t / 0.3 + 1.0 if t <= 0.3 else (1.0 if t >= 0.7 else 0.2)
    else:
        alpha = alpha_out
    return cond + (cond - uncond) * alpha


@torch.no_grad()
def sample(model: GrowModel, text_ids: Tensor, prompt: Tensor, generator: torch.Generator,
           s: GrowSampling) -> tuple[Tensor, Trace]:
    """text_ids (1, T) prompt+target BPE ids; prompt (1, F, C) latents -> generated latents (1, K*P, C)."""
    cfg, dev = model.cfg, prompt.device
    x, positions, keys = model.prefix(text_ids, prompt)
    cache = model.new_cache()
    h = model.lm_hidden(x, positions, keys, cache)[:, -1]
    next_pos = positions.shape[1] - text_ids.shape[1]
    frames, trace = prompt, Trace()
    grid = time_grid(s.nfe, s.sway, dev)
    for k in range(s.max_patches):
        p_stop = model.stop_prob(h)
        trace.stop_probs.append(float(p_stop[0]))
        if k >= s.min_patches and bool((p_stop > s.stop_threshold).all()):
            trace.stopped = True
            break
        alpha_out = outer_scale(s, k)
        y = torch.randn(1, cfg.patch_size, cfg.latent_dim, generator=generator).to(dev, prompt.dtype)
        hist = model.locdit.hist_in(frames[:, -cfg.history_frames:])
        ctx = model.locdit.ctx_in(h[:, None])
        for t0, t1 in zip(grid[:-1], grid[1:]):
            y = y + (t1 - t0) * guided_velocity(model, ctx, hist, y, t0, alpha_out, s.strategy)
        frames = torch.cat([frames, y], dim=1)
        emb, _ = model.encoder(y, torch.ones(1, cfg.patch_size, dtype=torch.bool, device=dev))
        pos = torch.full((1, 1), next_pos, dtype=torch.long, device=dev)
        h = model.lm_hidden(emb, pos, None, cache)[:, -1]
        next_pos += 1
    return frames[:, prompt.shape[1]:], trace
