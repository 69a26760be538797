"""Patches of speech frames: patchify, the clean-history windows, and the aggregation encoder.

DiTAR (§3.2) and DiSTAR group P consecutive frames (continuous latents or RVQ code ids) into a patch:
the aggregation encoder turns each patch into one LM input embedding, and the patch head (LocDiT /
the masked-diffusion infiller) sees the previous `history` patches as clean context.
Shapes: B batch, T frames, N patches, P frames per patch, C channels of a frame, D width.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ttsbench.systems.speech.layers import Transformer


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

    def __init__(self, in_dim: int, dim: int, layers: int, heads: int, ffn: int, out_dim: int, *,
                 act: str = "gelu", eps: float = 1e-6, rope_theta: float = 10_000.0) -> None:
        """in_dim: features of one frame; dim / layers / heads / ffn: the transformer; out_dim: the LM width."""
        super().__init__()
        self.in_proj = nn.Linear(in_dim, dim, bias=False)
        self.special = nn.Parameter(torch.zeros(dim))
        self.transformer = Transformer(layers, dim, heads, ffn, act=act, eps=eps, rope_theta=rope_theta)
        self.out_proj = nn.Identity() if dim == out_dim else nn.Linear(dim, out_dim, bias=False)

    def forward(self, patches: Tensor) -> Tensor:
        """(..., P, C) -> (..., D_lm)."""
        lead, (P, C) = patches.shape[:-2], patches.shape[-2:]
        x = self.in_proj(patches.reshape(-1, P, C))  # (M, P, D_enc)
        special = self.special.to(x.dtype).expand(x.shape[0], 1, -1)
        y = self.transformer(torch.cat([special, x], dim=1))  # (M, 1 + P, D_enc), bidirectional
        return self.out_proj(y[:, 0]).view(*lead, -1)
