"""The drafting language model shared by DiTAR and DiSTAR (import, never copy).

Both models run a causal transformer over [phone embeddings ; one embedding per patch of speech]
and read one hidden state h_j per patch: h at the last phone predicts patch 0, h after patch j-1
predicts patch j, and h after the last patch carries the stop label (DiTAR §3.5.4). What differs
is only what a "patch" is (continuous latents for DiTAR, RVQ codes for DiSTAR) and the head that
turns h_j into the patch (LocDiT / the masked-diffusion infiller).

`PatchLM` is a composed object, not a base class: it is handed the three modules it runs (the
phone table, the causal transformer, the stop head) and the two stop-label settings, explicitly.
A model keeps those modules as its own attributes (`phone_embed`, `lm`, `stop_head`), so their
parameter names, initialisation order and checkpoints stay the model's, and builds its `PatchLM`
from them on access (a `patch_lm` property), so a module swapped later (torch.compile) is used.
Shapes: B batch, L phones, N patches, S LM positions, D width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ttsbench.systems.speech.layers import KVCache, Transformer, causal_padding_mask


class PatchLM:
    """Phone embedding + causal LM + stop head over [phones ; patch embeddings], with a KV cache.

    Args:
        phone_embed: phone id -> D (id 0 is padding).
        transformer: the causal LM (`layers.Transformer`, run with `causal=True`).
        stop_head: D -> 1 stop logit.
        stop_label: "after_last" (the label is 1 at the position after the last patch) or "on_last"
            (1 at the position that predicts the last patch).
        stop_detach: train the stop head on detached LM states.
    """

    def __init__(self, phone_embed: nn.Embedding, transformer: Transformer, stop_head: nn.Linear, *,
                 stop_label: str, stop_detach: bool) -> None:
        self.phone_embed, self.transformer, self.stop_head = phone_embed, transformer, stop_head
        self.stop_label, self.stop_detach = stop_label, stop_detach

    @property
    def width(self) -> int:
        """D: the LM width (= the phone embedding width)."""
        return self.phone_embed.embedding_dim

    @property
    def phone_vocab(self) -> int:
        return self.phone_embed.num_embeddings

    @property
    def weight(self) -> Tensor:
        """A parameter whose device and dtype are the model's."""
        return self.phone_embed.weight

    # ---- training ---------------------------------------------------------------------------
    def inputs(self, phones: Tensor, phone_lens: Tensor, emb: Tensor, n: Tensor) -> Tensor:
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

    def states(self, phones: Tensor, phone_lens: Tensor, emb: Tensor, n: Tensor) -> Tensor:
        """Teacher-forced LM pass: (B, N + 1, D), row j the state that predicts patch j (j = N: stop)."""
        hidden = self.transformer(self.inputs(phones, phone_lens, emb, n), causal=True)  # right padding: no mask
        S, N = hidden.shape[1], emb.shape[1]
        j = torch.arange(N + 1, device=n.device)[None]
        pos = (phone_lens[:, None] - 1 + j).clamp(max=S - 1)  # (B, N+1): h_j sits after patch j-1
        return hidden.gather(1, pos[..., None].expand(-1, -1, hidden.shape[-1]))

    def stop_loss(self, h_all: Tensor, n: Tensor) -> Tensor:
        """BCE on the stop logit; positions and labels per `stop_label`."""
        N1 = h_all.shape[1]
        j = torch.arange(N1, device=n.device)[None]
        if self.stop_label == "after_last":
            valid, target = j <= n[:, None], j == n[:, None]
        else:
            valid, target = j < n[:, None], j == (n - 1)[:, None]
        h = h_all.detach() if self.stop_detach else h_all
        logits = self.stop_head(h[valid]).squeeze(-1).float()
        return F.binary_cross_entropy_with_logits(logits, target[valid].float())

    # ---- inference pieces ---------------------------------------------------------------------
    def new_cache(self, batch: int, max_len: int, device: torch.device | str | None = None,
                  dtype: torch.dtype | None = None) -> KVCache:
        return self.transformer.new_cache(batch, max_len, device or self.weight.device, dtype or self.weight.dtype)

    def prefill(self, embeds: Tensor, positions: Tensor, key_valid: Tensor | None, cache: KVCache) -> Tensor:
        """The left-padded prefix (B, S, D) into an empty cache; returns hidden (B, S, D)."""
        mask = None if key_valid is None else causal_padding_mask(key_valid, embeds.shape[1])
        return self.transformer(embeds, positions, mask=mask, causal=True, cache=cache)

    def step(self, embed: Tensor, cache: KVCache, positions: Tensor, key_valid: Tensor | None) -> Tensor:
        """One decode step: embed (B, 1, D) at positions (B, 1); key_valid (B, cache.length + 1) or None."""
        mask = None if key_valid is None else key_valid[:, None, None, :]
        return self.transformer(embed, positions, mask=mask, causal=True, cache=cache)

    def stop_prob(self, h: Tensor) -> Tensor:
        """(B, D) -> (B,) probability that generation ends here."""
        return torch.sigmoid(self.stop_head(h).squeeze(-1).float())
