"""Transformer building blocks shared by DiTAR, DiSTAR and the NAR baseline (import, never copy).

Pre-Norm blocks with RMSNorm and rotary position embeddings (DiTAR §3.5.2), attention through
torch's `scaled_dot_product_attention` (flash / memory-efficient kernels on GPU), a KV cache for
causal decoding, a two-matrix (GELU) or SwiGLU FFN, and an optional AdaLN-Zero modulation (DiT).

Shapes: B batch, S sequence, H heads, Dh head width, D model width. Masks are boolean, True where
a query may attend to a key, shaped (B, 1, S_q, S_k) so SDPA broadcasts them over heads.
No bias in any projection (as in LLaMA); norms keep fp32 statistics so bf16 autocast is safe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class RMSNorm(nn.Module):
    """Root-mean-square norm (Zhang & Sennrich, 2019); statistics in fp32, optional gain."""

    def __init__(self, dim: int, eps: float = 1e-6, affine: bool = True) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim)) if affine else None

    def forward(self, x: Tensor) -> Tensor:
        y = x.float()
        y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + self.eps)
        y = y.to(x.dtype)
        return y * self.weight.to(x.dtype) if self.weight is not None else y


def rope_cos_sin(positions: Tensor, head_dim: int, theta: float = 10_000.0,
                 inv_freq: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Rotary tables for integer `positions` of shape (S,) or (B, S): cos, sin of (..., S, Dh), fp32.

    The "rotate half" layout (GPT-NeoX / LLaMA): channel i pairs with channel i + Dh/2.
    """
    if inv_freq is None:
        inv_freq = theta ** (-torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float32) / head_dim)
    angles = positions.to(torch.float32)[..., None] * inv_freq  # (..., S, Dh/2)
    angles = torch.cat([angles, angles], dim=-1)  # (..., S, Dh)
    return angles.cos(), angles.sin()


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate (B, H, S, Dh) by tables of (S, Dh) or (B, S, Dh) (broadcast over heads)."""
    if cos.dim() == 3:
        cos, sin = cos[:, None], sin[:, None]  # (B, 1, S, Dh)
    x1, x2 = x.chunk(2, dim=-1)
    rotated = torch.cat([-x2, x1], dim=-1)
    return (x.float() * cos + rotated.float() * sin).to(x.dtype)


@dataclass
class KVCache:
    """Preallocated keys/values of every layer: (B, H, S_max, Dh) each; `length` slots are filled."""

    keys: list[Tensor]
    values: list[Tensor]
    length: int = 0

    @classmethod
    def empty(cls, layers: int, batch: int, heads: int, max_len: int, head_dim: int,
              device: torch.device | str, dtype: torch.dtype) -> KVCache:
        shape = (batch, heads, max_len, head_dim)
        return cls([torch.zeros(shape, device=device, dtype=dtype) for _ in range(layers)],
                   [torch.zeros(shape, device=device, dtype=dtype) for _ in range(layers)])

    @property
    def capacity(self) -> int:
        return self.keys[0].shape[2]


class Attention(nn.Module):
    """Multi-head self-attention with RoPE; writes to and reads from a KVCache when given one."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, *, mask: Tensor | None = None,
                causal: bool = False, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        B, S, _ = x.shape
        q, k, v = self.qkv(x).view(B, S, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)  # 3 x (B,H,S,Dh)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:  # append this chunk, attend over everything cached so far
            start = cache.length
            cache.keys[layer][:, :, start:start + S] = k
            cache.values[layer][:, :, start:start + S] = v
            k = cache.keys[layer][:, :, :start + S].to(q.dtype)  # no-op unless autocast changed dtypes
            v = cache.values[layer][:, :, :start + S].to(q.dtype)
        use_causal = False
        if causal and mask is None and S > 1:
            if k.shape[2] == S:
                use_causal = True  # SDPA aligns is_causal top-left: right only when S_q == S_k
            else:  # a chunk after cached keys: every cached key is visible, the chunk is causal
                mask = torch.ones(S, k.shape[2], dtype=torch.bool, device=x.device).tril(k.shape[2] - S)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=use_causal)
        return self.out(y.transpose(1, 2).reshape(B, S, -1))


class FeedForward(nn.Module):
    """Linear-GELU-Linear ("gelu", two matrices) or SwiGLU ("swiglu", three matrices)."""

    def __init__(self, dim: int, hidden: int, act: str = "gelu") -> None:
        super().__init__()
        self.act = act
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False) if act == "swiglu" else None
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.w3 is not None:
            return self.w2(F.silu(self.w1(x)) * self.w3(x))
        return self.w2(F.gelu(self.w1(x), approximate="tanh"))


class Block(nn.Module):
    """Pre-Norm transformer block: x + attn(norm(x)), then x + ffn(norm(x)).

    With `cond_dim`, the norms lose their gains and AdaLN-Zero (Peebles & Xie, 2023) modulates
    them instead: shift, scale and a residual gate per branch from the condition, zero-initialised.
    """

    def __init__(self, dim: int, heads: int, ffn: int, act: str = "gelu", eps: float = 1e-6,
                 cond_dim: int | None = None) -> None:
        super().__init__()
        adaln = cond_dim is not None
        self.norm1, self.norm2 = RMSNorm(dim, eps, affine=not adaln), RMSNorm(dim, eps, affine=not adaln)
        self.attn, self.ffn = Attention(dim, heads), FeedForward(dim, ffn, act)
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 6 * dim)) if adaln else None
        if self.modulation is not None:
            nn.init.zeros_(self.modulation[1].weight)
            nn.init.zeros_(self.modulation[1].bias)

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, *, mask: Tensor | None = None, causal: bool = False,
                cache: KVCache | None = None, layer: int = 0, cond: Tensor | None = None) -> Tensor:
        if self.modulation is None:
            x = x + self.attn(self.norm1(x), cos, sin, mask=mask, causal=causal, cache=cache, layer=layer)
            return x + self.ffn(self.norm2(x))
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(cond)[:, None].chunk(6, dim=-1)  # (B,1,D)
        h = self.norm1(x) * (1 + scale1) + shift1
        x = x + gate1 * self.attn(h, cos, sin, mask=mask, causal=causal, cache=cache, layer=layer)
        return x + gate2 * self.ffn(self.norm2(x) * (1 + scale2) + shift2)


class Transformer(nn.Module):
    """A stack of Blocks and a final RMSNorm (AdaLN-modulated when `cond_dim` is set)."""

    def __init__(self, layers: int, dim: int, heads: int, ffn: int, *, act: str = "gelu", eps: float = 1e-6,
                 rope_theta: float = 10_000.0, cond_dim: int | None = None) -> None:
        super().__init__()
        self.dim, self.heads, self.head_dim, self.rope_theta = dim, heads, dim // heads, rope_theta
        self.blocks = nn.ModuleList(Block(dim, heads, ffn, act, eps, cond_dim) for _ in range(layers))
        self.norm = RMSNorm(dim, eps, affine=cond_dim is None)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 2 * dim)) if cond_dim else None
        if self.final_modulation is not None:
            nn.init.zeros_(self.final_modulation[1].weight)
            nn.init.zeros_(self.final_modulation[1].bias)

    def forward(self, x: Tensor, positions: Tensor | None = None, *, mask: Tensor | None = None,
                causal: bool = False, cache: KVCache | None = None, cond: Tensor | None = None) -> Tensor:
        """x (B, S, D) -> (B, S, D). positions (S,) or (B, S); default 0..S-1 (after the cache)."""
        cos, sin = self._rope(x, positions, cache)
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, mask=mask, causal=causal, cache=cache, layer=i, cond=cond)
        if cache is not None:
            cache.length += x.shape[1]
        x = self.norm(x)
        if self.final_modulation is not None:
            shift, scale = self.final_modulation(cond)[:, None].chunk(2, dim=-1)
            x = x * (1 + scale) + shift
        return x

    def _rope(self, x: Tensor, positions: Tensor | None, cache: KVCache | None) -> tuple[Tensor, Tensor]:
        """cos/sin for `positions`; the fp32 frequencies and the default 0..S-1 tables are memoised
        per device (plain dicts, not buffers, so `.to(bfloat16)` never rounds the angles)."""
        device = x.device
        if not hasattr(self, "_rope_memo"):
            self._rope_memo: dict[tuple, Tensor | tuple[Tensor, Tensor]] = {}
        inv = self._rope_memo.get(("inv", device))
        if inv is None:
            inv = self.rope_theta ** (-torch.arange(0, self.head_dim, 2, device=device, dtype=torch.float32)
                                      / self.head_dim)
            self._rope_memo[("inv", device)] = inv
        if positions is None and cache is None:
            key = ("table", device, x.shape[1])
            if key not in self._rope_memo:
                self._rope_memo[key] = rope_cos_sin(torch.arange(x.shape[1], device=device), self.head_dim,
                                                    inv_freq=inv)
            return self._rope_memo[key]  # type: ignore[return-value]
        if positions is None:
            positions = torch.arange(cache.length, cache.length + x.shape[1], device=device)
        return rope_cos_sin(positions, self.head_dim, inv_freq=inv)

    def new_cache(self, batch: int, max_len: int, device: torch.device | str, dtype: torch.dtype) -> KVCache:
        return KVCache.empty(len(self.blocks), batch, self.heads, max_len, self.head_dim, device, dtype)


class TimestepEmbedding(nn.Module):
    """t in [0, 1] -> sinusoidal features of (scale * t) -> Linear-SiLU-Linear (DiT / VoxCPM)."""

    def __init__(self, dim: int, freq_dim: int = 256, scale: float = 1000.0) -> None:
        super().__init__()
        self.freq_dim, self.scale = freq_dim, scale
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: Tensor) -> Tensor:
        half = self.freq_dim // 2
        freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
        args = (self.scale * t.float())[:, None] * freqs  # (N, half)
        emb = torch.cat([args.cos(), args.sin()], dim=-1)
        return self.mlp(emb.to(self.mlp[0].weight.dtype))


def causal_padding_mask(key_valid: Tensor, queries: int) -> Tensor:
    """(B, 1, Q, K) mask for the last Q of K positions: causal, padded keys hidden.

    A query at a padded position may still see itself, so no row is all-False (SDPA would NaN).
    """
    B, K = key_valid.shape
    q_idx = torch.arange(K - queries, K, device=key_valid.device)[:, None]  # (Q, 1)
    k_idx = torch.arange(K, device=key_valid.device)[None, :]  # (1, K)
    allowed = (k_idx <= q_idx)[None] & key_valid[:, None, :]  # (B, Q, K)
    allowed = allowed | (k_idx == q_idx)[None]
    return allowed[:, None]


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """Normal(0, std) for Linear/Embedding weights, zero biases; AdaLN-Zero layers stay zero."""
    for name, m in module.named_modules():
        if "modulation" in name:
            continue
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=std)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
