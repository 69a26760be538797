"""GROW's building blocks that the shared library (`systems/speech/layers.py`) does not have.

- `QwenStack`: Qwen3 decoder layers (pre-RMSNorm, grouped-query attention with a free head width,
  RMS-normed q and k per head, SwiGLU, no biases) with a final RMSNorm; causal (the LM, with a KV
  cache) or bidirectional with key padding (the aggregation encoder). RoPE in the rotate-half layout
  from the shared `rope_cos_sin` / `apply_rope`, theta per stack, positions given by the caller.
- `DiTBlock` / `FinalLayer`: F5-TTS's DiT block (LayerNorm without affine + AdaLN-Zero from the
  time embedding, biased fused q/k/v, tanh-GELU feed-forward) and its final AdaLN + projection.
- `F5TimeEmbedding`: sin-first sinusoid of 1000 t with exponent step log(1e4)/(half - 1), then MLP.

Shapes: B batch, S sequence, D width, H heads, Dh head width. Boolean masks are True where a key
may be attended. Weights use our names; `ttsbench.systems.grow.convert` maps GROW's onto them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ttsbench.systems.speech.layers import RMSNorm, apply_rope, rope_cos_sin


class QwenAttention(nn.Module):
    """GQA with q/k RMSNorm per head; `qkv` holds the q, k and v projections stacked by rows."""

    def __init__(self, dim: int, heads: int, kv_heads: int, head_dim: int, eps: float) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, head_dim
        self.qkv = nn.Linear(dim, (heads + 2 * kv_heads) * head_dim, bias=False)
        self.q_norm = RMSNorm(head_dim, eps)
        self.k_norm = RMSNorm(head_dim, eps)
        self.out = nn.Linear(heads * head_dim, dim, bias=False)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | None, causal: bool,
                cache: list[Tensor] | None = None) -> Tensor:
        B, S, _ = x.shape
        q, k, v = self.qkv(x).split([self.heads * self.head_dim, self.kv_heads * self.head_dim,
                                     self.kv_heads * self.head_dim], dim=-1)
        q = self.q_norm(q.view(B, S, self.heads, self.head_dim)).transpose(1, 2)
        k = self.k_norm(k.view(B, S, self.kv_heads, self.head_dim)).transpose(1, 2)
        v = v.view(B, S, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:  # [k, v] of the earlier positions, extended in place
            if cache:
                k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
            cache[:] = [k, v]
        rep = self.heads // self.kv_heads
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        if causal:
            past = k.shape[2] - S
            allowed = torch.ones(S, k.shape[2], dtype=torch.bool, device=x.device).tril(past)
            mask = allowed[None, None] if mask is None else mask & allowed
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(y.transpose(1, 2).reshape(B, S, -1))


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.gate = nn.Linear(dim, hidden, bias=False)
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.down(F.silu(self.gate(x)) * self.up(x))


class QwenLayer(nn.Module):
    def __init__(self, dim: int, heads: int, kv_heads: int, head_dim: int, ffn: int, eps: float) -> None:
        super().__init__()
        self.norm1 = RMSNorm(dim, eps)
        self.attn = QwenAttention(dim, heads, kv_heads, head_dim, eps)
        self.norm2 = RMSNorm(dim, eps)
        self.ffn = SwiGLU(dim, ffn)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | None, causal: bool,
                cache: list[Tensor] | None = None) -> Tensor:
        x = x + self.attn(self.norm1(x), cos, sin, mask, causal, cache)
        return x + self.ffn(self.norm2(x))


class QwenStack(nn.Module):
    """`layers` Qwen3 decoder layers and the final RMSNorm; `forward(x, positions, ...)`."""

    def __init__(self, layers: int, dim: int, heads: int, kv_heads: int, head_dim: int, ffn: int,
                 rope_theta: float, eps: float) -> None:
        super().__init__()
        self.head_dim, self.rope_theta = head_dim, rope_theta
        self.layers = nn.ModuleList(QwenLayer(dim, heads, kv_heads, head_dim, ffn, eps) for _ in range(layers))
        self.norm = RMSNorm(dim, eps)

    def inv_freq(self, device: torch.device) -> Tensor:
        # transformers' default RoPE: 1 / theta^(2i / Dh), exponents from int64 then float
        steps = torch.arange(0, self.head_dim, 2, dtype=torch.int64, device=device).float() / self.head_dim
        return 1.0 / (self.rope_theta ** steps)

    def forward(self, x: Tensor, positions: Tensor, *, key_valid: Tensor | None = None, causal: bool = False,
                cache: list[list[Tensor]] | None = None) -> Tensor:
        """x (B, S, D); positions (B, S) integers; key_valid (B, S_k) bool or None; cache: one list per layer."""
        cos, sin = rope_cos_sin(positions, self.head_dim, inv_freq=self.inv_freq(x.device))
        cos, sin = cos.to(x.dtype), sin.to(x.dtype)
        mask = None if key_valid is None else key_valid[:, None, None, :]
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, causal, None if cache is None else cache[i])
        return self.norm(x)


class F5TimeEmbedding(nn.Module):
    """t (N,) in [0, 1] -> (N, D): [sin, cos] of 1000 t * exp(-i log(1e4) / (half - 1)), Linear-SiLU-Linear."""

    def __init__(self, dim: int, freq_dim: int = 256) -> None:
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: Tensor) -> Tensor:
        half = self.freq_dim // 2
        step = math.log(10000) / (half - 1)
        freqs = torch.exp(torch.arange(half, device=t.device).float() * -step)
        args = 1000 * t.unsqueeze(1) * freqs.unsqueeze(0)
        emb = torch.cat((args.sin(), args.cos()), dim=-1).to(t.dtype)
        return self.mlp(emb)


class DiTAttention(nn.Module):
    """Biased fused q/k/v over all heads, RoPE (rotate-half layout), biased output; padded rows zeroed."""

    def __init__(self, dim: int, heads: int, head_dim: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        self.qkv = nn.Linear(dim, 3 * heads * head_dim)
        self.out = nn.Linear(heads * head_dim, dim)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, valid: Tensor | None) -> Tensor:
        B, S, _ = x.shape
        q, k, v = self.qkv(x).view(B, S, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        mask = None if valid is None else valid[:, None, None, :]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = self.out(y.transpose(1, 2).reshape(B, S, -1))
        return y if valid is None else y.masked_fill(~valid[..., None], 0.0)


class DiTBlock(nn.Module):
    """F5's DiT block. `ada` rows: shift, scale, gate (attention), shift, scale, gate (feed-forward)."""

    def __init__(self, dim: int, heads: int, head_dim: int, ff_mult: int) -> None:
        super().__init__()
        self.ada = nn.Linear(dim, 6 * dim)
        self.attn = DiTAttention(dim, heads, head_dim)
        self.fc1 = nn.Linear(dim, dim * ff_mult)
        self.fc2 = nn.Linear(dim * ff_mult, dim)

    def forward(self, x: Tensor, t: Tensor, cos: Tensor, sin: Tensor, valid: Tensor | None) -> Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(F.silu(t)).chunk(6, dim=1)
        h = F.layer_norm(x, x.shape[-1:], eps=1e-6) * (1 + scale1[:, None]) + shift1[:, None]
        x = x + gate1[:, None] * self.attn(h, cos, sin, valid)
        h = F.layer_norm(x, x.shape[-1:], eps=1e-6) * (1 + scale2[:, None]) + shift2[:, None]
        return x + gate2[:, None] * self.fc2(F.gelu(self.fc1(h), approximate="tanh"))


class FinalLayer(nn.Module):
    """AdaLN (rows: shift, scale) then a biased projection to the latent width."""

    def __init__(self, dim: int, out_dim: int) -> None:
        super().__init__()
        self.ada = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, out_dim)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        shift, scale = self.ada(F.silu(t)).chunk(2, dim=1)
        return self.proj(F.layer_norm(x, x.shape[-1:], eps=1e-6) * (1 + scale[:, None]) + shift[:, None])


def dit_rope(seq_len: int, head_dim: int, theta: float, device: torch.device) -> tuple[Tensor, Tensor]:
    """LocDiT's rotary tables for positions 0..seq_len-1 (x-transformers' frequencies, rotate-half layout)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, device=device).float() / head_dim))
    return rope_cos_sin(torch.arange(seq_len, device=device), head_dim, inv_freq=inv_freq)
