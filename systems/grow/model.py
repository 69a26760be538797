"""GROW's DiTAR: Qwen3 LM over [BPE text ; aggregated patches], a CLS aggregation encoder, an F5 LocDiT
and a two-class stop head. Sampling lives in `sampler.py`; weights come from `convert.py`.

Shapes: B batch, T text tokens, N patches, P frames per patch (4), C latent channels (64), D width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ttsbench.systems.grow.config import GrowConfig
from ttsbench.systems.grow.layers import DiTBlock, F5TimeEmbedding, FinalLayer, QwenStack, dit_rope


class AggregationEncoder(nn.Module):
    """Frames (B, N*P, C) -> one vector per patch: Linear(C, D), [CLS ; P frames] through a
    bidirectional Qwen3 stack with padded frames masked as keys, the CLS output kept."""

    def __init__(self, cfg: GrowConfig) -> None:
        super().__init__()
        self.patch = cfg.patch_size
        self.inp = nn.Linear(cfg.latent_dim, cfg.dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.dim))
        self.stack = QwenStack(cfg.enc_layers, cfg.dim, cfg.enc_heads, cfg.enc_kv_heads, cfg.enc_head_dim,
                               cfg.enc_ffn, cfg.enc_rope_theta, cfg.rms_eps)

    def forward(self, frames: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        """frames (B, N*P, C), valid (B, N*P) bool -> patches (B, N, D), patch_valid (B, N)."""
        B, L, _ = frames.shape
        N, P = L // self.patch, self.patch
        x = self.inp(frames).reshape(B * N, P, -1)
        x = torch.cat([self.cls.expand(B * N, -1, -1).to(x.dtype), x], dim=1)
        keys = torch.cat([torch.ones(B * N, 1, dtype=torch.bool, device=x.device), valid.reshape(B * N, P)], dim=1)
        positions = torch.arange(P + 1, device=x.device).expand(B * N, -1)
        out = self.stack(x, positions, key_valid=keys)[:, 0]
        return out.reshape(B, N, -1), valid.reshape(B, N, P).any(dim=-1)


class LocDiT(nn.Module):
    """v(x_t, t | h, history): [ctx_in(h) | hist_in(history frames) | noisy_in(x_t)] through F5 DiT
    blocks; the velocity of the last P positions."""

    def __init__(self, cfg: GrowConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.ctx_in = nn.Linear(cfg.dim, cfg.dim)
        self.hist_in = nn.Linear(cfg.latent_dim, cfg.dim)
        self.noisy_in = nn.Linear(cfg.latent_dim, cfg.dim)
        self.time = F5TimeEmbedding(cfg.dim, cfg.time_freq_dim)
        self.blocks = nn.ModuleList(DiTBlock(cfg.dim, cfg.dit_heads, cfg.dit_head_dim, cfg.dit_ff_mult)
                                    for _ in range(cfg.dit_layers))
        self.final = FinalLayer(cfg.dim, cfg.latent_dim)

    def forward(self, ctx: Tensor, hist: Tensor, x: Tensor, t_emb: Tensor, valid: Tensor | None = None) -> Tensor:
        """ctx (B, 1, D) already through `ctx_in` (zeros: unconditional); hist (B, H, D) already through
        `hist_in`; x (B, P, C) noisy frames; t_emb (B, D) -> velocity (B, P, C)."""
        h = torch.cat([ctx, hist, self.noisy_in(x)], dim=1)
        cos, sin = dit_rope(h.shape[1], self.cfg.dit_head_dim, self.cfg.dit_rope_theta, h.device)
        cos, sin = cos.to(h.dtype), sin.to(h.dtype)
        for block in self.blocks:
            h = block(h, t_emb, cos, sin, valid)
        return self.final(h, t_emb)[:, -x.shape[1]:]


class GrowModel(nn.Module):
    """The LM (`embed`, `lm`), the aggregation `encoder`, the `locdit` and the `stop_head`."""

    def __init__(self, cfg: GrowConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.lm = QwenStack(cfg.lm_layers, cfg.dim, cfg.lm_heads, cfg.lm_kv_heads, cfg.lm_head_dim, cfg.lm_ffn,
                            cfg.lm_rope_theta, cfg.rms_eps)
        self.encoder = AggregationEncoder(cfg)
        self.locdit = LocDiT(cfg)
        self.stop_head = nn.Linear(cfg.dim, 2)

    def prefix(self, text_ids: Tensor, prompt: Tensor, prompt_valid: Tensor | None = None
               ) -> tuple[Tensor, Tensor, Tensor]:
        """text_ids (B, T), prompt latents (B, F, C) -> LM inputs (B, T + N, D), positions (text 0..T-1,
        audio 0..N-1), key validity (B, T + N). The prompt is zero-padded on the right to whole patches."""
        B, n_frames, _ = prompt.shape
        if prompt_valid is None:
            prompt_valid = torch.ones(B, n_frames, dtype=torch.bool, device=prompt.device)
        pad = (-n_frames) % self.cfg.patch_size
        frames = F.pad(prompt, (0, 0, 0, pad))
        valid = F.pad(prompt_valid, (0, pad), value=False)
        patches, patch_valid = self.encoder(frames, valid)
        x = torch.cat([self.embed(text_ids), patches], dim=1)
        T, N = text_ids.shape[1], patches.shape[1]
        positions = torch.cat([torch.arange(T), torch.arange(N)]).to(prompt.device).expand(B, -1)
        keys = torch.cat([torch.ones(B, T, dtype=torch.bool, device=prompt.device), patch_valid], dim=1)
        return x, positions, keys

    def lm_hidden(self, x: Tensor, positions: Tensor, keys: Tensor | None = None,
                  cache: list[list[Tensor]] | None = None) -> Tensor:
        """Causal LM over x (B, S, D) -> hidden states (B, S, D); `cache` carries earlier positions."""
        return self.lm(x, positions, key_valid=keys, causal=True, cache=cache)

    def stop_prob(self, h: Tensor) -> Tensor:
        """h (B, D) -> P(stop) (B,): softmax over the two classes, class 1."""
        return F.softmax(self.stop_head(h), dim=-1)[:, 1]

    def new_cache(self) -> list[list[Tensor]]:
        return [[] for _ in self.lm.layers]
