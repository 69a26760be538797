"""DiSTAR's masked-diffusion infiller (MDM): a bidirectional transformer that fills the RVQ codes
of one patch from the LM's draft h_k and a history window of clean codes.

Input sequence (ids are the model's shifted codes: 0 padding, 1..K codes, K + 1 [MASK]):

- "frame" layout: [g * W_c h ; H history frames ; P target frames], one token per frame whose
  input is the sum of its layers' code embeddings (a [MASK] layer contributes that layer's [MASK]
  embedding, padding contributes nothing), 1 + H + P tokens; J logit heads read each frame.
- "frame_layer" layout: [g * W_c h ; H x L history tokens ; P x L target tokens], one token per
  (frame, layer) with a learned layer embedding, RoPE position 1 + frame x J + layer (spacing J,
  so a pruned model sees the positions it was trained with); 1 + (H + P) x L tokens.

g is a learned scalar gate on the LM state (the paper's fix for the scale gap between h and the
code embeddings). Code embeddings are factorised: (K + 2) x e tables per layer, projected to the
width (e = `code_dim`), so 65,536-way codebooks do not cost K x D parameters per layer at the input.
Shapes: M patches, H history frames, P frames, L active layers (<= J), K codes, D width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from ttsbench.systems.distar.config import DiSTARConfig
from ttsbench.systems.speech.layers import Transformer


class CodeEmbedding(nn.Module):
    """J tables of (K + 2) x e; id 0 (padding) always embeds to the zero vector."""

    def __init__(self, layers: int, rows: int, dim: int) -> None:
        super().__init__()
        self.rows = rows
        self.weight = nn.Parameter(torch.randn(layers, rows, dim) * 0.02)

    def forward(self, ids: Tensor) -> Tensor:
        """ids (..., L) of layers 0..L-1 -> (..., L, e)."""
        L = ids.shape[-1]
        offsets = torch.arange(L, device=ids.device) * self.rows
        table = self.weight[:L].reshape(L * self.rows, -1)
        return F.embedding(ids + offsets, table) * (ids != 0)[..., None].to(table.dtype)


class MaskedDiffusion(nn.Module):
    """The infiller network: `forward` gives hidden states of the target tokens, `logits` the codes."""

    def __init__(self, cfg: DiSTARConfig) -> None:
        super().__init__()
        self.cfg = cfg
        D, J, e = cfg.mdm_dim, cfg.num_layers, cfg.code_dim
        self.embed = CodeEmbedding(J, cfg.table_rows, e)
        self.cond_proj = nn.Linear(cfg.lm_dim, D, bias=False)  # no bias: h = 0 (dropped condition) stays 0
        self.cond_gate = nn.Parameter(torch.ones(()))
        self.hist_proj = nn.Linear(e, D, bias=False)
        self.target_proj = nn.Linear(e, D, bias=False)
        self.layer_embed = nn.Parameter(torch.randn(J, D) * 0.02) if cfg.layout == "frame_layer" else None
        self.transformer = Transformer(cfg.mdm_layers, D, cfg.mdm_heads, cfg.mdm_ffn, act=cfg.ffn_act,
                                       eps=cfg.norm_eps, rope_theta=cfg.rope_theta)
        # "full": (J, K, D) logit matrices; "tied": (J, e, D) projections scored against the code table.
        rows = cfg.codebook_size if cfg.head == "full" else e
        self.head = nn.Parameter(torch.randn(J, rows, D) * 0.02)

    def forward(self, h: Tensor, history: Tensor, tokens: Tensor, key_valid: Tensor | None = None) -> Tensor:
        """h (M, D_lm), history (M, H, L), tokens (M, P, L) -> hidden (M, P, D) ("frame") or
        (M, P, L, D) ("frame_layer"). key_valid (M, S): False hides a key (training-time pruning)."""
        cond = (self.cond_gate * self.cond_proj(h))[:, None]  # (M, 1, D)
        if self.cfg.layout == "frame":
            x = torch.cat([cond, self.hist_proj(self.embed(history).sum(-2)),
                           self.target_proj(self.embed(tokens).sum(-2))], dim=1)
            y = self.transformer(x, mask=None if key_valid is None else key_valid[:, None, None, :])
            return y[:, -tokens.shape[1]:]
        M, P, L = tokens.shape
        H, J = history.shape[1], self.cfg.num_layers
        layer = self.layer_embed[:L].to(cond.dtype)
        D = cond.shape[-1]  # explicit: with no history (H = 0) there is nothing to infer -1 from
        hist = (self.hist_proj(self.embed(history)) + layer).reshape(M, H * L, D)
        target = (self.target_proj(self.embed(tokens)) + layer).reshape(M, P * L, D)
        frames = torch.arange(H + P, device=h.device)[:, None] * J + torch.arange(L, device=h.device)[None]
        positions = torch.cat([frames.new_zeros(1), 1 + frames.flatten()])  # (1 + (H + P) L,)
        mask = None if key_valid is None else key_valid[:, None, None, :]
        y = self.transformer(torch.cat([cond, hist, target], dim=1), positions, mask=mask)
        return y[:, -P * L:].reshape(M, P, L, -1)

    def logits(self, hidden: Tensor, layers: int) -> Tensor:
        """All codes of every target token: (M, P, D) or (M, P, L, D) -> (M, P, L, K)."""
        w = self.head[:layers].to(hidden.dtype)
        if hidden.dim() == 3:
            hidden = hidden[:, :, None].expand(-1, -1, layers, -1)
        if self.cfg.head == "full":
            return torch.einsum("mpld,lkd->mplk", hidden, w)
        z = torch.einsum("mpld,led->mple", hidden, w)
        return torch.einsum("mple,lke->mplk", z, self._code_table(layers, hidden.dtype))

    def layer_logits(self, hidden: Tensor, layer: int) -> Tensor:
        """Codes of layer `layer` for selected tokens: hidden (n, D) -> (n, K) (training: masked only)."""
        w = self.head[layer].to(hidden.dtype)
        if self.cfg.head == "full":
            return hidden @ w.t()
        return (hidden @ w.t()) @ self._code_table(layer + 1, hidden.dtype)[layer].t()

    def _code_table(self, layers: int, dtype: torch.dtype) -> Tensor:
        """(L, K, e): the embeddings of the real codes (ids 1..K) of each layer."""
        return self.embed.weight[:layers, 1:self.cfg.codebook_size + 1].to(dtype)
