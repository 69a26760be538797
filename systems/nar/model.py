"""The NAR baseline model: one bidirectional DiT over [time token, prompt + target frames].

Inputs per frame (E2/F5-style in-context infilling): the noisy latent x_t, the condition (prompt
latents, zeros over the target span) and the text token at that frame (text padded with filler 0
to the total length), projected and summed; a time token emb(t) is prepended (as DiTAR's LocDiT
does), so there is no AdaLN and the parameter count stays that of the blocks. Transformer blocks,
RMSNorm/RoPE, the timestep embedding and the DDIM sampler are DiTAR's, imported.

Shapes: B batch, T total frames (prompt + target), Tp prompt frames, C latent channels, D width.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ttsbench.systems.speech.layers import TimestepEmbedding, Transformer, init_weights
from ttsbench.systems.speech.sampling import SamplerConfig, guided, sample
from ttsbench.systems.nar.config import NARConfig


def text_frames(texts: list[str], frames: int, vocab: int = 257) -> Tensor:
    """(B, T) int64: UTF-8 bytes + 1 of each text at the first frames, filler 0 after (truncated)."""
    out = torch.zeros(len(texts), frames, dtype=torch.long)
    for i, text in enumerate(texts):
        ids = [min(b + 1, vocab - 1) for b in text.encode("utf-8")][:frames]
        out[i, :len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out


class NARDiT(nn.Module):
    """Velocity model v(x_t, t | prompt, text) over the full sequence, non-causal."""

    def __init__(self, cfg: NARConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.text_emb = nn.Embedding(cfg.text_vocab, cfg.dim, padding_idx=0)
        self.in_proj = nn.Linear(2 * cfg.latent_dim, cfg.dim, bias=False)  # [x_t ; cond] -> D
        self.time = TimestepEmbedding(cfg.dim, cfg.time_freq_dim, cfg.time_scale)
        self.backbone = Transformer(cfg.layers, cfg.dim, cfg.heads, cfg.ffn, act=cfg.ffn_act,
                                    eps=cfg.norm_eps, rope_theta=cfg.rope_theta)
        self.out_proj = nn.Linear(cfg.dim, cfg.latent_dim, bias=False)
        init_weights(self)

    def forward(self, x_t: Tensor, t: Tensor, cond: Tensor, text: Tensor) -> Tensor:
        """x_t, cond (B, T, C); t (B,); text (B, T) ids -> v_hat (B, T, C)."""
        h = self.in_proj(torch.cat([x_t, cond], dim=-1).to(self.in_proj.weight.dtype))  # (B, T, D)
        h = h + self.text_emb(text)
        h = torch.cat([self.time(t)[:, None].to(h.dtype), h], dim=1)  # (B, 1 + T, D)
        return self.out_proj(self.backbone(h)[:, 1:])

    @torch.no_grad()
    def generate(self, prompt: Tensor, text: Tensor, sampler: SamplerConfig, *,
                 generator: torch.Generator | None = None) -> Tensor:
        """Fill the frames after the prompt.

        Args:
            prompt: (B, Tp, C) prompt latents.
            text: (B, T) in-frame text ids; T = total frames (prompt + target), fixed in advance.
            sampler: NFE (network calls), guidance scale w (CFG drops prompt and text), temperature.

        Returns:
            (B, T - Tp, C) generated latents, fp32.
        """
        B, T = text.shape
        Tp, C = prompt.shape[1], prompt.shape[2]
        if T <= Tp:
            raise ValueError(f"total frames {T} must exceed the prompt's {Tp}")
        dtype = self.in_proj.weight.dtype
        cond = torch.zeros(B, T, C, device=prompt.device, dtype=dtype)
        cond[:, :Tp] = prompt.to(dtype)
        noise_device = generator.device if generator is not None else prompt.device
        noise = torch.randn(B, T, C, generator=generator, device=noise_device).to(prompt.device)
        w = sampler.guidance_scale

        def velocity(x: Tensor, t: float) -> Tensor:
            tt = torch.full((B,), t, device=x.device)
            if w == 0:
                return self(x.to(dtype), tt, cond, text).float()
            both = self(torch.cat([x, x]).to(dtype), torch.cat([tt, tt]),  # cond + uncond, one 2B batch
                        torch.cat([cond, torch.zeros_like(cond)]), torch.cat([text, torch.zeros_like(text)]))
            v_c, v_u = both.float().chunk(2)
            return guided(v_c, v_u, w)

        return sample(velocity, noise, sampler)[:, Tp:]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
