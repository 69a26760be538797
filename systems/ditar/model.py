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
- `patch_lm.prefill(embeds, positions, key_valid, cache)`: the prompt prefix through the LM.
- `patch_lm.step(embed, cache, positions, key_valid)`: one LM decode step with the KV cache.
- `locdit_eval(x_t, t, h, history)`: one LocDiT evaluation (one pass, no guidance; the module
  itself is `self.locdit`, taking a per-row t).
- `velocity(x_t, t, h, history, w)`: one guided evaluation (two LocDiT passes batched, w != 0).
- `sample_patch(h, history, noise, sampler)`: NFE guided evaluations -> one patch.

Batched generation with KV cache, per-item stop and per-item noise: `generate` / `iter_patches`.
The model implements `ttsbench.systems.speech.patch_ar.PatchAR` (`patch_lm`, `units`,
`encode_patches`, `sample_patch`, `noise_spec`); the loop itself is shared with DiSTAR.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ttsbench.errors import InputError
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.speech import patch_ar
from ttsbench.systems.speech.batch import SpeechBatch
from ttsbench.systems.speech.layers import TimestepEmbedding, Transformer, init_weights
from ttsbench.systems.speech.patch_ar import GenerationConfig, PatchStep, PatchUnits
from ttsbench.systems.speech.patch_lm import PatchLM
from ttsbench.systems.speech.patches import AggregationEncoder, history_windows, patchify
from ttsbench.systems.speech.sampling import SamplerConfig, diffuse, guided, sample


@dataclass
class Losses:
    """Scalar training losses: total = diff + stop_weight * stop."""

    total: Tensor
    diff: Tensor
    stop: Tensor


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


class DiTAR(nn.Module):
    """Aggregation encoder + causal LM + stop head + LocDiT (see the module docstring).

    The LM half runs through `patch_lm` (a `PatchLM` over `phone_embed`, `lm` and `stop_head`),
    shared with DiSTAR.
    """

    kind = "ditar"  # recorded in checkpoints

    def __init__(self, cfg: DiTARConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.phone_embed = nn.Embedding(cfg.phone_vocab, cfg.lm_dim, padding_idx=0)
        self.encoder = AggregationEncoder(cfg.latent_dim, cfg.enc_dim, cfg.enc_layers, cfg.enc_heads, cfg.enc_ffn,
                                          cfg.lm_dim, act=cfg.ffn_act, eps=cfg.norm_eps, rope_theta=cfg.rope_theta)
        self.lm = Transformer(cfg.lm_layers, cfg.lm_dim, cfg.lm_heads, cfg.lm_ffn, act=cfg.ffn_act,
                              eps=cfg.norm_eps, rope_theta=cfg.rope_theta)
        self.stop_head = nn.Linear(cfg.lm_dim, 1)
        self.locdit = LocDiT(cfg)
        init_weights(self)
        nn.init.normal_(self.encoder.special, std=0.02)

    @property
    def patch_lm(self) -> PatchLM:
        """The LM half: phone table, causal LM and stop head, with the stop-label settings."""
        return PatchLM(self.phone_embed, self.lm, self.stop_head, stop_label=self.cfg.stop_label,
                       stop_detach=self.cfg.stop_detach)

    @property
    def units(self) -> PatchUnits:
        """Continuous latent frames: P per patch, C = latent_dim channels, in the weights' dtype."""
        c = self.cfg
        return PatchUnits(c.patch_size, c.history_patches, c.latent_dim, c.pad_side, c.stop_label)

    # ---- training ---------------------------------------------------------------------------
    def forward(self, batch: SpeechBatch) -> Losses:
        """Diffusion (v) loss on every real frame of every patch plus the stop loss."""
        cfg, P = self.cfg, self.cfg.patch_size
        if bool((batch.phone_lens < 1).any()):
            raise InputError("DiTAR needs at least one phone per utterance (a row has phone_lens = 0)")
        patches, frame_mask, n = patchify(batch.latents, batch.latent_lens, P, cfg.pad_side)  # (B,N,P,C)
        B, N = patches.shape[:2]
        has_patch = torch.arange(N, device=n.device)[None] < n[:, None]  # (B, N)
        emb = patches.new_zeros(B, N, cfg.lm_dim)
        emb[has_patch] = self.encoder(patches[has_patch]).to(emb.dtype)  # encode real patches only
        lm = self.patch_lm
        h_all = lm.states(batch.phones, batch.phone_lens, emb, n)  # (B, N+1, D)
        diff = self._diffusion_loss(h_all[:, :N][has_patch], patches, frame_mask, has_patch)
        stop = lm.stop_loss(h_all, n)
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
        return patch_ar.generate(self, phones, prompts, generators, sampler or self.default_sampler(), gen, row_max)

    @torch.no_grad()
    def iter_patches(self, phones: Sequence[Sequence[int]], prompts: Sequence[Tensor],
                     generators: Sequence[torch.Generator], sampler: SamplerConfig | None = None,
                     gen: GenerationConfig | None = None, row_max: Sequence[int] | None = None
                     ) -> Iterator[PatchStep]:
        """Yield each AR step's patches (B, P, C) as soon as they are sampled (first-patch latency)."""
        yield from patch_ar.iter_patches(self, phones, prompts, generators, sampler or self.default_sampler(), gen,
                                         row_max)
