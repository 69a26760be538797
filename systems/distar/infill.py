"""DiSTAR's masked-diffusion decoding of one patch: MaskGIT-style iterative unmasking over N steps.

Training side (`mask_ratio`): a patch's tokens are masked independently with probability
gamma(u), u ~ U(0, 1): "cosine" gamma = cos(pi u / 2) (MaskGIT, mean 2/pi), "linear" gamma = u
(LLaDA). Decoding side (`unmask_plan`): T tokens start as [MASK]; after step n (0-based) the
number still masked is floor(T gamma_dec((n + 1) / N)) with gamma_dec(r) = cos(pi r / 2) (or
1 - r), forced down by at least one per step, so every token is filled after exactly min(N, T)
network calls and none is ever re-masked.

One step (`infill_step`), for every row, on logits (B, P, L, K) of the still-masked tokens:

1. history-only CFG (paper's scheme A): l = l_u + s (l_c - l_u), l_u the pass without the history
   window (s = 1: one pass, no guidance), then CFG-rescale (Lin et al. 2024) by phi:
   l <- phi * l * std(l_c) / std(l) + (1 - phi) * l, std over the K codes of each token;
2. temperatures: token (t, j) of the patch uses T_n * time_temp^t * layer_temp^j (later frames
   and deeper RVQ layers cooler: the paper's position-wise 0.95 and layer-wise 0.8), with T_n
   annealed linearly from `temperature` to `temperature_end` over the N steps;
3. a candidate per masked token: "greedy" = argmax (temperatures then only change the confidence
   and so the order of unmasking), "sample" = a draw from the tempered distribution after top-k
   and top-p filtering, "hybrid" = sample until `sample_fraction` of the tokens are committed,
   then greedy (the paper's 50 / 50);
4. confidence = the candidate's tempered probability (+ `choice_noise` x (1 - n / N) Gumbel noise
   on its log, MaskGIT's randomised order; 0 by default); the most confident candidates are
   committed, as many as the plan says.

Randomness comes only from the per-row uniforms given in `noise` ((N, 2, P, J) per row: one
uniform per token for the draw, one for the Gumbel noise), so a row's codes do not depend on the
other rows of the batch, and "greedy" with choice_noise = 0 uses none at all: deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from ttsbench.errors import InputError

MODES = ("greedy", "sample", "hybrid")
LogitsFn = Callable[[Tensor], tuple[Tensor, "Tensor | None"]]  # tokens (B, P, L) -> (cond, uncond) logits


@dataclass(frozen=True)
class InfillConfig:
    """How the masked-diffusion model fills one patch. Defaults: the paper's (shared notes §4)."""

    steps: int = 24  # N: network calls per patch (at most; min(N, P x L) are needed)
    mode: str = "greedy"  # greedy | sample | hybrid (Table 3: greedy with 0.95 / 0.8 is the best row)
    temperature: float = 1.0  # base temperature T_n at the first step
    temperature_end: float | None = None  # anneal T_n linearly to this at the last step (one source: 0.1)
    time_temp: float = 0.95  # position-wise factor per frame of the patch
    layer_temp: float = 0.8  # layer-wise factor per RVQ layer
    sample_fraction: float = 0.5  # "hybrid": the first half of the tokens sampled, the rest greedy
    top_k: int = 50  # sampling only; 0 = off
    top_p: float = 0.9  # sampling only; 1 = off
    choice_noise: float = 0.0  # Gumbel noise on the confidences, annealed to 0 (MaskGIT); 0 = off
    cfg_scale: float = 1.25  # history-only CFG scale s (1 = off: one pass per step)
    cfg_rescale: float = 0.75  # phi of CFG-rescale (0 = off)
    layers: int | None = None  # L': RVQ layers generated (None = all J): the bitrate
    schedule: str = "cosine"  # decoding schedule: cosine | linear

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise InputError(f"infill steps = {self.steps}; need at least 1")
        if self.mode not in MODES:
            raise InputError(f"infill mode = {self.mode!r}; choose one of {', '.join(MODES)}")
        if self.schedule not in ("cosine", "linear"):
            raise InputError(f"infill schedule = {self.schedule!r}; choose cosine or linear")
        temps = [self.temperature, self.time_temp, self.layer_temp]
        if self.temperature_end is not None:
            temps.append(self.temperature_end)
        if min(temps) <= 0:
            raise InputError(f"infill temperatures must be > 0, got {temps}")
        if self.top_k < 0 or not 0.0 < self.top_p <= 1.0 or not 0.0 <= self.sample_fraction <= 1.0:
            raise InputError(f"infill: top_k >= 0, top_p in (0, 1], sample_fraction in [0, 1] required "
                             f"(got {self.top_k}, {self.top_p}, {self.sample_fraction})")
        if self.cfg_scale < 0 or not 0.0 <= self.cfg_rescale <= 1.0 or self.choice_noise < 0:
            raise InputError("infill: cfg_scale >= 0, cfg_rescale in [0, 1], choice_noise >= 0 required")
        if self.layers is not None and self.layers < 1:
            raise InputError(f"infill layers = {self.layers}; need at least 1 RVQ layer")

    @property
    def guided(self) -> bool:
        return self.cfg_scale != 1.0

    @property
    def deterministic(self) -> bool:
        """True when no random number is used (greedy without choice noise)."""
        return self.mode == "greedy" and self.choice_noise == 0


def mask_ratio(u: Tensor, schedule: str) -> Tensor:
    """Training mask probability gamma(u) for u ~ U(0, 1)."""
    return torch.cos(u * (math.pi / 2)) if schedule == "cosine" else u


def unmask_plan(total: int, steps: int, schedule: str = "cosine") -> list[int]:
    """Tokens committed at each executed step; sums to `total`, every entry >= 1, exactly min(N, T) steps."""
    remaining, plan = total, []
    for n in range(steps):
        if remaining == 0:
            break
        r = (n + 1) / steps
        ratio = math.cos(r * math.pi / 2) if schedule == "cosine" else 1.0 - r
        after = min(math.floor(total * ratio + 1e-9), remaining - 1) if n + 1 < steps else 0
        plan.append(remaining - after)
        remaining = after
    return plan


def temperatures(cfg: InfillConfig, step: int, frames: int, layers: int, device: torch.device) -> Tensor:
    """(P, L) temperature of every token of the patch at this step."""
    end = cfg.temperature if cfg.temperature_end is None else cfg.temperature_end
    base = cfg.temperature + (end - cfg.temperature) * (step / max(cfg.steps - 1, 1))
    t = cfg.time_temp ** torch.arange(frames, device=device, dtype=torch.float32)
    j = cfg.layer_temp ** torch.arange(layers, device=device, dtype=torch.float32)
    return base * t[:, None] * j[None, :]


def guide(cond: Tensor, uncond: Tensor | None, cfg: InfillConfig) -> Tensor:
    """History-only CFG with rescale over the last (code) dimension; fp32."""
    cond = cond.float()
    if uncond is None:
        return cond
    out = uncond.float() + cfg.cfg_scale * (cond - uncond.float())
    if cfg.cfg_rescale > 0:
        rescaled = out * (cond.std(-1, keepdim=True) / out.std(-1, keepdim=True).clamp_min(1e-6))
        out = cfg.cfg_rescale * rescaled + (1 - cfg.cfg_rescale) * out
    return out


def filter_top(probs: Tensor, top_k: int, top_p: float) -> Tensor:
    """Zero all but the top-k codes and the smallest top-p nucleus (probs (..., K), renormalised)."""
    K = probs.shape[-1]
    if 0 < top_k < K:
        kth = probs.topk(top_k, dim=-1).values[..., -1:]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        before = sorted_p.cumsum(-1) - sorted_p  # mass strictly above each code
        keep_sorted = before < top_p * sorted_p.sum(-1, keepdim=True)  # the top code is always kept
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        probs = probs * keep
    return probs / probs.sum(-1, keepdim=True)


def draw(probs: Tensor, u: Tensor) -> Tensor:
    """Inverse-CDF sampling: probs (..., K), u (...) in [0, 1) -> code indices (...)."""
    cdf = probs.cumsum(-1)
    idx = torch.searchsorted(cdf, (u * cdf[..., -1]).unsqueeze(-1).contiguous(), right=True).squeeze(-1)
    return idx.clamp_(max=probs.shape[-1] - 1)


def infill(logits_fn: LogitsFn, tokens: Tensor, noise: Tensor, cfg: InfillConfig, mask_id: int) -> Tensor:
    """Fill every [MASK] of `tokens` (B, P, L) internal ids (codes 1..K) in min(N, P L) steps.

    logits_fn(tokens) -> (cond, uncond) logits (B, P, L, K) over the K codes, uncond None without
    CFG (the model batches both passes in one call). noise (B, N, 2, P, J)
    uniforms per row (J >= L). Returns the filled tokens (B, P, L).
    """
    B, P, L = tokens.shape
    plan = unmask_plan(int((tokens[0] == mask_id).sum()), cfg.steps, cfg.schedule)
    total, committed = sum(plan), 0
    for n, count in enumerate(plan):
        masked = tokens == mask_id  # (B, P, L)
        logits = guide(*logits_fn(tokens), cfg)
        tempered = (logits / temperatures(cfg, n, P, L, logits.device)[..., None]).softmax(-1)  # (B, P, L, K)
        sample = cfg.mode == "sample" or (cfg.mode == "hybrid" and committed < cfg.sample_fraction * total)
        if sample:
            probs = filter_top(tempered, cfg.top_k, cfg.top_p)
            choice = draw(probs, noise[:, n, 0, :, :L])
        else:
            probs, choice = tempered, logits.argmax(-1)
        conf = probs.gather(-1, choice[..., None]).squeeze(-1).clamp_min(1e-30).log()  # (B, P, L)
        if cfg.choice_noise > 0:
            u = noise[:, n, 1, :, :L].clamp(1e-9, 1 - 1e-9)
            conf = conf + cfg.choice_noise * (1 - n / cfg.steps) * -torch.log(-torch.log(u))
        conf = conf.masked_fill(~masked, -math.inf).view(B, -1)
        pick = conf.topk(count, dim=-1).indices  # (B, count): the most confident masked tokens
        flat = tokens.view(B, -1).clone()
        flat.scatter_(1, pick, (choice.view(B, -1) + 1).gather(1, pick))  # codes 0..K-1 -> ids 1..K
        tokens = flat.view(B, P, L)
        committed += count
    return tokens
