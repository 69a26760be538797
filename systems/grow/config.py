"""GROW's model sizes (DiTAR-0.6B as released by GROW, commit 1527cdf of its code; docs/grow.md).

Every field is a fact of that code or of the config files it reads:
- LM: the Qwen3-0.6B layout (its config.json): 28 layers, width 1024, 16 query / 8 KV heads of
  128, RMS-normed q and k, SwiGLU 3072, RoPE theta 1e6, a 151,936-row BPE embedding table;
  text positions 0.. and audio positions restarting at 0 (per-modality position ids).
- aggregation encoder: a bidirectional Qwen3 stack built from transformers' Qwen3Config defaults
  (head dim 128, RoPE theta 1e4, eps 1e-6) with 6 layers, width 1024, SwiGLU 4096, 16 query heads
  and one KV head, a learnt CLS token first in each patch, fed by a biased Linear(64, 1024).
- LocDiT: six F5 DiT blocks (LayerNorm + AdaLN-Zero, biased q/k/v, tanh-GELU FF x4, RoPE theta
  1e4 on 64-wide heads) over [ctx(h) | 4 history frames | 4 noisy frames]; F5's time embedding.
- stop: a two-class head on h, checked before each patch is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

FORMAT = "ttsbench-grow"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class GrowConfig:
    """Sizes of one GROW model. Widths in channels; `history_frames` and `patch_size` in 40 Hz frames."""

    vocab_size: int = 151_936
    dim: int = 1024  # LM width = encoder width = LocDiT width
    lm_layers: int = 28
    lm_heads: int = 16
    lm_kv_heads: int = 8
    lm_head_dim: int = 128
    lm_ffn: int = 3072
    lm_rope_theta: float = 1_000_000.0
    enc_layers: int = 6
    enc_heads: int = 16
    enc_kv_heads: int = 1
    enc_head_dim: int = 128
    enc_ffn: int = 4096
    enc_rope_theta: float = 10_000.0
    dit_layers: int = 6
    dit_heads: int = 16
    dit_head_dim: int = 64
    dit_ff_mult: int = 4
    dit_rope_theta: float = 10_000.0
    time_freq_dim: int = 256
    rms_eps: float = 1e-6
    latent_dim: int = 64
    patch_size: int = 4
    history_frames: int = 4

    def __post_init__(self) -> None:
        for name in ("lm", "enc"):
            heads, kv = getattr(self, f"{name}_heads"), getattr(self, f"{name}_kv_heads")
            if heads % kv:
                raise ValueError(f"GrowConfig: {name}_heads={heads} is not a multiple of {name}_kv_heads={kv}")
        if self.dit_head_dim % 2 or self.lm_head_dim % 2 or self.enc_head_dim % 2:
            raise ValueError("GrowConfig: head widths must be even (RoPE pairs channels)")

    @classmethod
    def tiny(cls, **changes: object) -> GrowConfig:
        """A few-thousand-parameter model with every structural feature of the real one (tests)."""
        base = cls(vocab_size=300, dim=64, lm_layers=2, lm_heads=4, lm_kv_heads=2, lm_head_dim=16, lm_ffn=96,
                   enc_layers=2, enc_heads=4, enc_kv_heads=1, enc_head_dim=16, enc_ffn=128,
                   dit_layers=2, dit_heads=2, dit_head_dim=32, time_freq_dim=32, latent_dim=8)
        return replace(base, **changes)  # type: ignore[arg-type]
