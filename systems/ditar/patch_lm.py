"""The drafting language model shared by DiTAR and DiSTAR (import, never copy).

Both models run a causal transformer over [phone embeddings ; one embedding per patch of speech]
and read one hidden state h_j per patch: h at the last phone predicts patch 0, h after patch j-1
predicts patch j, and h after the last patch carries the stop label (DiTAR §3.5.4). What differs
is only what a "patch" is (continuous latents for DiTAR, RVQ codes for DiSTAR) and the head that
turns h_j into the patch (LocDiT / the masked-diffusion infiller).

`PatchLM` is a mixin: a model sets `self.cfg` (patch_size, stop_label, stop_detach), and builds
`self.phone_embed` (nn.Embedding, padding id 0), `self.lm` (a causal `layers.Transformer`) and
`self.stop_head` (nn.Linear(D, 1)) in its own `__init__`, so its parameter names and its
initialisation order stay its own. Shapes: B batch, L phones, N patches, S LM positions, D width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from ttsbench.systems.ditar.layers import KVCache, causal_padding_mask


class PatchLM:
    """Phone embedding + causal LM + stop head over [phones ; patch embeddings], with a KV cache."""

    # ---- training ---------------------------------------------------------------------------
    def _lm_input(self, phones: Tensor, phone_lens: Tensor, emb: Tensor, n: Tensor) -> Tensor:
        """Per row [phones (L_b) ; patch embeddings (n_b)], right-padded to S = max(L_b + n_b)."""
        text = self.phone_embed(phones).to(emb.dtype)  # (B, L, D)
        B, L, D = text.shape
        S = int((phone_lens + n).max())
        s = torch.arange(S, device=phones.device)[None]  # (1, S)
        t_idx = s.clamp(max=L - 1).expand(B, S)
        p_idx = (s - phone_lens[:, None]).clamp(0, emb.shape[1] - 1)
        from_text = text.gather(1, t_idx[..., None].expand(B, S, D))
        from_speech = emb.gather(1, p_idx[..., None].expand(B, S, D))
        is_text = (s < phone_lens[:, None])[..., None]
        is_speech = ((s >= phone_lens[:, None]) & (s < (phone_lens + n)[:, None]))[..., None]
        return torch.where(is_text, from_text, torch.where(is_speech, from_speech, torch.zeros_like(from_text)))

    def lm_states(self, phones: Tensor, phone_lens: Tensor, emb: Tensor, n: Tensor) -> Tensor:
        """Teacher-forced LM pass: (B, N + 1, D), row j the state that predicts patch j (j = N: stop)."""
        hidden = self.lm(self._lm_input(phones, phone_lens, emb, n), causal=True)  # right padding: no mask needed
        S, N = hidden.shape[1], emb.shape[1]
        j = torch.arange(N + 1, device=n.device)[None]
        pos = (phone_lens[:, None] - 1 + j).clamp(max=S - 1)  # (B, N+1): h_j sits after patch j-1
        return hidden.gather(1, pos[..., None].expand(-1, -1, hidden.shape[-1]))

    def _stop_loss(self, h_all: Tensor, n: Tensor) -> Tensor:
        """BCE on the stop logit; positions and labels per `cfg.stop_label`."""
        N1 = h_all.shape[1]
        j = torch.arange(N1, device=n.device)[None]
        if self.cfg.stop_label == "after_last":
            valid, target = j <= n[:, None], j == n[:, None]
        else:
            valid, target = j < n[:, None], j == (n - 1)[:, None]
        h = h_all.detach() if self.cfg.stop_detach else h_all
        logits = self.stop_head(h[valid]).squeeze(-1).float()
        return F.binary_cross_entropy_with_logits(logits, target[valid].float())

    # ---- inference pieces ---------------------------------------------------------------------
    def new_cache(self, batch: int, max_len: int, device: torch.device | str | None = None,
                  dtype: torch.dtype | None = None) -> KVCache:
        weight = self.phone_embed.weight
        return self.lm.new_cache(batch, max_len, device or weight.device, dtype or weight.dtype)

    def lm_prefill(self, embeds: Tensor, positions: Tensor, key_valid: Tensor | None, cache: KVCache) -> Tensor:
        """The left-padded prefix (B, S, D) into an empty cache; returns hidden (B, S, D)."""
        mask = None if key_valid is None else causal_padding_mask(key_valid, embeds.shape[1])
        return self.lm(embeds, positions, mask=mask, causal=True, cache=cache)

    def lm_step(self, embed: Tensor, cache: KVCache, positions: Tensor, key_valid: Tensor | None) -> Tensor:
        """One decode step: embed (B, 1, D) at positions (B, 1); key_valid (B, cache.length + 1) or None."""
        mask = None if key_valid is None else key_valid[:, None, None, :]
        return self.lm(embed, positions, mask=mask, causal=True, cache=cache)

    def stop_prob(self, h: Tensor) -> Tensor:
        """(B, D) -> (B,) probability that generation ends here."""
        return torch.sigmoid(self.stop_head(h).squeeze(-1).float())
