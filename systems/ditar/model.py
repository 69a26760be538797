"""DiTAR: a causal LM over patch embeddings with a local diffusion transformer (LocDiT) head.

Reference: Jia et al., "DiTAR: Diffusion Transformer Autoregressive Modeling for Speech
Generation", ICML 2025, §3. Shapes: B batch, L phones, T frames, N patches, P frames per patch,
C latent channels, H history frames (history_patches * P), D model width.

Training (`forward`): patches of P frames -> aggregation encoder (bidirectional, special token in
front, its output is the patch embedding) -> LM input [phone embeddings ; patch embeddings] ->
causal LM -> h_j predicts patch j (h at the last phone predicts patch 0) -> LocDiT with
[h_j + emb(t) ; clean patch j-1 ; noisy patch j] -> v loss on the noisy positions only; plus a
stop logit on h (L = L_diff + L_stop). h is zeroed with p = 0.1 for LM guidance.

Pieces the cost layer can trace (one call each; `iter_patches` chains them per step):

- `encode_patches(patches)`: one aggregation-encoder pass, (..., P, C) -> (..., D_lm).
- `lm_prefill(embeds, positions, key_valid, cache)`: the prompt prefix through the LM.
- `lm_step(embed, cache, positions, key_valid)`: one LM decode step with the KV cache.
- `locdit_eval(x_t, t, h, history)`: one LocDiT evaluation (one pass, no guidance; the module
  itself is `self.locdit`, taking a per-row t).
- `velocity(x_t, t, h, history, w)`: one guided evaluation (two LocDiT passes batched, w != 0).
- `sample_patch(h, history, noise, sampler)`: NFE guided evaluations -> one patch.

Batched generation with KV cache, per-item stop and per-item noise: `generate` / `iter_patches`
(implemented in `ttsbench.systems.ditar.inference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn
from ttsbench.errors import InputError
from ttsbench.systems.ditar.batch import DiTARBatch
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.ditar.layers import TimestepEmbedding, Transformer, init_weights
from ttsbench.systems.ditar.patch_lm import PatchLM
from ttsbench.systems.ditar.sampling import SamplerConfig, diffuse, guided, sample

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from ttsbench.systems.ditar.inference import GenerationConfig, PatchStep


@dataclass
class Losses:
    """Scalar training losses: total = diff + stop_weight * stop."""

    total: Tensor
    diff: Tensor
    stop: Tensor


def patchify(latents: Tensor, lens: Tensor, patch: int, side: str = "left") -> tuple[Tensor, Tensor, Tensor]:
    """Right-padded frames (B, T, C) -> zero-padded patches (B, N, P, C), frame mask (B, N, P), counts (B,).

    Each row gets ceil(len / P) patches; its missing frames are zeros on `side` ("left": in front
    of the first patch, so the last patch is all real; "right": after the last frame).
    """
    B, T, C = latents.shape
    n = torch.div(lens + patch - 1, patch, rounding_mode="floor")  # (B,)
    N = max(int(n.max()) if B else 0, 1)
    pad = (n * patch - lens) if side == "left" else torch.zeros_like(lens)  # frames in front
    src = torch.arange(N * patch, device=latents.device)[None, :] - pad[:, None]  # (B, N*P)
    valid = (src >= 0) & (src < lens[:, None])
    frames = latents.gather(1, src.clamp(0, max(T - 1, 0))[..., None].expand(B, N * patch, C)) if T else \
        latents.new_zeros(B, N * patch, C)
    frames = frames * valid[..., None]
    return frames.view(B, N, patch, C), valid.view(B, N, patch), n


def history_windows(patches: Tensor, history: int) -> Tensor:
    """(B, N, P, C) -> (B, N, history * P, C): for patch j the clean patches j-history .. j-1 (zeros before 0)."""
    B, N, P, C = patches.shape
    if history == 0:
        return patches.new_zeros(B, N, 0, C)
    padded = torch.cat([patches.new_zeros(B, history, P, C), patches], dim=1)  # (B, history + N, P, C)
    windows = [padded[:, k:k + N] for k in range(history)]  # oldest first
    return torch.cat(windows, dim=2)  # (B, N, history * P, C)


class AggregationEncoder(nn.Module):
    """Bidirectional transformer over [special ; P frames]; the special token's output is the embedding."""

    def __init__(self, cfg: DiTARConfig, in_dim: int | None = None) -> None:
        super().__init__()
        self.in_proj = nn.Linear(in_dim or cfg.latent_dim, cfg.enc_dim, bias=False)
        self.special = nn.Parameter(torch.zeros(cfg.enc_dim))
        self.transformer = Transformer(cfg.enc_layers, cfg.enc_dim, cfg.enc_heads, cfg.enc_ffn, act=cfg.ffn_act,
                                       eps=cfg.norm_eps, rope_theta=cfg.rope_theta)
        self.out_proj = (nn.Identity() if cfg.enc_dim == cfg.lm_dim
                         else nn.Linear(cfg.enc_dim, cfg.lm_dim, bias=False))

    def forward(self, patches: Tensor) -> Tensor:
        """(..., P, C) -> (..., D_lm)."""
        lead, (P, C) = patches.shape[:-2], patches.shape[-2:]
        x = self.in_proj(patches.reshape(-1, P, C))  # (M, P, D_enc)
        special = self.special.to(x.dtype).expand(x.shape[0], 1, -1)
        y = self.transformer(torch.cat([special, x], dim=1))  # (M, 1 + P, D_enc), bidirectional
        return self.out_proj(y[:, 0]).view(*lead, -1)


class LocDiT(nn.Module):
    """Bidirectional diffusion transformer over [h (+ emb(t)) ; history frames ; noisy frames]."""

    def __init__(self, cfg: DiTARConfig) -> None:
        super().__init__()
        self.cfg = cfg
        dim = cfg.dit_dim
        self.cond_proj = nn.Identity() if cfg.lm_dim == dim else nn.Linear(cfg.lm_dim, dim, bias=False)
        self.time_embed = TimestepEmbedding(dim, cfg.time_freq_dim, cfg.time_scale)
        self.hist_proj = nn.Linear(cfg.latent_dim, dim, bias=False)
        self.noisy_proj = nn.Linear(cfg.latent_dim, dim, bias=False)
        self.transformer = Transformer(cfg.dit_layers, dim, cfg.dit_heads, cfg.dit_ffn, act=cfg.ffn_act,
                                       eps=cfg.norm_eps, rope_theta=cfg.rope_theta,
                                       cond_dim=dim if cfg.time_cond == "adaln" else None)
        self.out_proj = nn.Linear(dim, cfg.latent_dim, bias=False)

    def forward(self, x_t: Tensor, t: Tensor, h: Tensor, history: Tensor) -> Tensor:
        """x_t (M, P, C), t (M,), h (M, D_lm), history (M, H, C) -> v_hat (M, P, C)."""
        cond = self.cond_proj(h)  # no bias: h = 0 (guidance's dummy) stays 0
        t_emb = self.time_embed(t).to(cond.dtype)
        adaln = self.cfg.time_cond == "adaln"
        first = cond if adaln else cond + t_emb
        x = torch.cat([first[:, None], self.hist_proj(history), self.noisy_proj(x_t)], dim=1)  # (M, 1+H+P, D)
        y = self.transformer(x, cond=t_emb if adaln else None)
        return self.out_proj(y[:, -x_t.shape[1]:])  # only the noisy positions


class DiTAR(PatchLM, nn.Module):
    """Aggregation encoder + causal LM + stop head + LocDiT (see the module docstring).

    The LM half (`_lm_input`, `lm_states`, `_stop_loss`, `new_cache`, `lm_prefill`, `lm_step`,
    `stop_prob`) is `PatchLM`, shared with DiSTAR.
    """

    kind = "ditar"  # recorded in checkpoints

    def __init__(self, cfg: DiTARConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.phone_embed = nn.Embedding(cfg.phone_vocab, cfg.lm_dim, padding_idx=0)
        self.encoder = AggregationEncoder(cfg)
        self.lm = Transformer(cfg.lm_layers, cfg.lm_dim, cfg.lm_heads, cfg.lm_ffn, act=cfg.ffn_act,
                              eps=cfg.norm_eps, rope_theta=cfg.rope_theta)
        self.stop_head = nn.Linear(cfg.lm_dim, 1)
        self.locdit = LocDiT(cfg)
        init_weights(self)
        nn.init.normal_(self.encoder.special, std=0.02)

    # ---- training ---------------------------------------------------------------------------
    def forward(self, batch: DiTARBatch) -> Losses:
        """Diffusion (v) loss on every real frame of every patch plus the stop loss."""
        cfg, P = self.cfg, self.cfg.patch_size
        if bool((batch.phone_lens < 1).any()):
            raise InputError("DiTAR needs at least one phone per utterance (a row has phone_lens = 0)")
        patches, frame_mask, n = patchify(batch.latents, batch.latent_lens, P, cfg.pad_side)  # (B,N,P,C)
        B, N = patches.shape[:2]
        has_patch = torch.arange(N, device=n.device)[None] < n[:, None]  # (B, N)
        emb = patches.new_zeros(B, N, cfg.lm_dim)
        emb[has_patch] = self.encoder(patches[has_patch]).to(emb.dtype)  # encode real patches only
        h_all = self.lm_states(batch.phones, batch.phone_lens, emb, n)  # (B, N+1, D)
        diff = self._diffusion_loss(h_all[:, :N][has_patch], patches, frame_mask, has_patch)
        stop = self._stop_loss(h_all, n)
        return Losses(total=diff + cfg.stop_weight * stop, diff=diff, stop=stop)

    def _diffusion_loss(self, h: Tensor, patches: Tensor, frame_mask: Tensor, has_patch: Tensor) -> Tensor:
        cfg = self.cfg
        x0 = patches[has_patch]  # (M, P, C)
        hist = history_windows(patches, cfg.history_patches)[has_patch]  # (M, H, C), clean ground truth
        mask = frame_mask[has_patch].to(x0.dtype)  # (M, P)
        M = x0.shape[0]
        if self.training and cfg.guidance_dropout > 0:
            if cfg.guidance_dropout_unit == "position":
                drop = torch.rand(M, device=h.device) < cfg.guidance_dropout
            else:  # one draw per utterance, shared by its patches
                rows = torch.arange(has_patch.shape[0], device=h.device)[:, None].expand_as(has_patch)[has_patch]
                drop = (torch.rand(has_patch.shape[0], device=h.device) < cfg.guidance_dropout)[rows]
            h = h * (~drop)[:, None].to(h.dtype)
        t = torch.rand(M, device=x0.device)
        eps = torch.randn_like(x0)
        x_t, v_target = diffuse(x0, eps, t)
        v = self.locdit(x_t, t, h, hist).float()
        err = (v - v_target.float()).pow(2).mean(-1)  # (M, P)
        return (err * mask).sum() / mask.sum().clamp(min=1)

    # ---- inference pieces ---------------------------------------------------------------------
    def encode_patches(self, patches: Tensor) -> Tensor:
        """One aggregation-encoder pass: (..., P, C) -> (..., D_lm)."""
        return self.encoder(patches)

    def default_sampler(self) -> SamplerConfig:
        return SamplerConfig()

    def noise_spec(self, sampler: SamplerConfig) -> tuple[tuple[int, ...], str]:
        """Per AR step and row: one standard-normal (P, C) draw (the initial x_1 of the ODE)."""
        return (self.cfg.patch_size, self.cfg.latent_dim), "normal"

    def locdit_eval(self, x_t: Tensor, t: float | Tensor, h: Tensor, history: Tensor) -> Tensor:
        """One LocDiT pass; t a float (shared) or (M,)."""
        t_vec = torch.as_tensor(t, dtype=torch.float32, device=x_t.device).expand(x_t.shape[0])
        return self.locdit(x_t.to(h.dtype), t_vec, h, history.to(h.dtype))

    def velocity(self, x_t: Tensor, t: float, h: Tensor, history: Tensor, w: float) -> Tensor:
        """One guided evaluation (Eq. 2): the h and h = 0 passes batched as 2M (one pass when w = 0)."""
        if w == 0:
            return self.locdit_eval(x_t, t, h, history)
        v = self.locdit_eval(torch.cat([x_t, x_t]), t, torch.cat([h, torch.zeros_like(h)]),
                             torch.cat([history, history]))
        v_cond, v_uncond = v.chunk(2)
        return guided(v_cond.float(), v_uncond.float(), w)

    def sample_patch(self, h: Tensor, history: Tensor, noise: Tensor, sampler: SamplerConfig) -> Tensor:
        """h (B, D), history (B, H, C), noise (B, P, C) -> the next patch (B, P, C), fp32."""
        return sample(lambda x, t: self.velocity(x, t, h, history, sampler.guidance_scale), noise, sampler)

    # ---- generation -----------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, phones: Sequence[Sequence[int]], prompts: Sequence[Tensor],
                 generators: Sequence[torch.Generator], sampler: SamplerConfig | None = None,
                 gen: GenerationConfig | None = None, row_max: Sequence[int] | None = None) -> list[Tensor]:
        """Batched synthesis: per item its generated latents (n_b * P, C), prompt excluded."""
        from ttsbench.systems.ditar.inference import generate

        return generate(self, phones, prompts, generators, sampler, gen, row_max)

    @torch.no_grad()
    def iter_patches(self, phones: Sequence[Sequence[int]], prompts: Sequence[Tensor],
                     generators: Sequence[torch.Generator], sampler: SamplerConfig | None = None,
                     gen: GenerationConfig | None = None, row_max: Sequence[int] | None = None
                     ) -> Iterator[PatchStep]:
        """Yield each AR step's patches (B, P, C) as soon as they are sampled (first-patch latency)."""
        from ttsbench.systems.ditar.inference import iter_patches

        yield from iter_patches(self, phones, prompts, generators, sampler, gen, row_max)
