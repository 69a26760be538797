"""DiSTAR: a causal LM drafts one vector per patch of RVQ codes; a masked-diffusion model fills them.

Reference: Song et al., "DiSTAR: Diffusion over a Scalable Token Autoregressive Representation
for Speech Generation", arXiv 2510.12210 (details: shared notes §4). Shapes: B batch, L phones,
T frames, J RVQ layers, N patches, P frames per patch, H history frames, D width.

Shared with DiTAR (`ttsbench.systems.speech`): the transformer blocks, the aggregation encoder
(here over the summed code embeddings of a patch), the drafting LM with its KV cache and stop head
(`PatchLM`), patchify and history windows, the batched generation loop (`patch_ar`; the model
implements its `PatchAR` interface) and the trainer (`ttsbench.systems.distar.train`).

Training (`forward`): codes (B, T, J) -> ids + 1 (0 = padding) -> stochastic layer truncation
(per row: the top l ~ U{1..J-1} layers become padding with probability `layer_truncation`) ->
patches -> aggregator -> LM -> h_k -> MDM over [h_k ; history codes ; patch k with random masks]
-> cross-entropy on the masked codes + the stop BCE. Condition and history dropout (p = 0.1 each)
train the unguided passes.

Generation: `generate` / `iter_patches` take prompt codes (T, J) in 0..K-1 and return codes
(n * P, L') of the first L' = `InfillConfig.layers` layers; the bitrate follows from L'.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ttsbench.errors import InputError
from ttsbench.systems.distar.config import DiSTARConfig
from ttsbench.systems.distar.infill import InfillConfig, infill, mask_ratio
from ttsbench.systems.distar.mdm import CodeEmbedding, MaskedDiffusion
from ttsbench.systems.speech import patch_ar
from ttsbench.systems.speech.batch import SpeechBatch
from ttsbench.systems.speech.layers import Transformer, init_weights
from ttsbench.systems.speech.patch_ar import GenerationConfig, PatchStep, PatchUnits
from ttsbench.systems.speech.patch_lm import PatchLM
from ttsbench.systems.speech.patches import AggregationEncoder, history_windows, patchify


@dataclass
class DiSTARLosses:
    """total = ce + stop_weight * stop; accuracy of the masked codes (argmax) for the log."""

    total: Tensor
    ce: Tensor
    stop: Tensor
    accuracy: Tensor


class DiSTAR(nn.Module):
    """Code aggregator + drafting LM + stop head + masked-diffusion infiller.

    The LM half runs through `patch_lm` (a `PatchLM` over `phone_embed`, `lm` and `stop_head`),
    shared with DiTAR.
    """

    kind = "distar"  # recorded in checkpoints

    def __init__(self, cfg: DiSTARConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.phone_embed = nn.Embedding(cfg.phone_vocab, cfg.lm_dim, padding_idx=0)
        self.agg_embed = CodeEmbedding(cfg.num_layers, cfg.table_rows, cfg.code_dim)
        self.encoder = AggregationEncoder(cfg.code_dim, cfg.enc_dim, cfg.enc_layers, cfg.enc_heads, cfg.enc_ffn,
                                          cfg.lm_dim, act=cfg.ffn_act, eps=cfg.norm_eps, rope_theta=cfg.rope_theta)
        self.lm = Transformer(cfg.lm_layers, cfg.lm_dim, cfg.lm_heads, cfg.lm_ffn, act=cfg.ffn_act,
                              eps=cfg.norm_eps, rope_theta=cfg.rope_theta)
        self.stop_head = nn.Linear(cfg.lm_dim, 1)
        self.mdm = MaskedDiffusion(cfg)
        init_weights(self)
        nn.init.normal_(self.encoder.special, std=0.02)

    @property
    def patch_lm(self) -> PatchLM:
        """The drafting LM: phone table, causal LM and stop head, with the stop-label settings."""
        return PatchLM(self.phone_embed, self.lm, self.stop_head, stop_label=self.cfg.stop_label,
                       stop_detach=self.cfg.stop_detach)

    @property
    def units(self) -> PatchUnits:
        """Frames of J code ids (model ids: code + 1, 0 = padding), int64, P per patch."""
        c = self.cfg
        return PatchUnits(c.patch_size, c.history_patches, c.num_layers, c.pad_side, c.stop_label, torch.long)

    # ---- training ---------------------------------------------------------------------------
    def forward(self, batch: SpeechBatch) -> DiSTARLosses:
        """`batch.latents` holds codes (B, T, J) int64 in 0..K-1 (the RVQ tokenizer's output)."""
        cfg = self.cfg
        ids = self.to_ids(batch.latents, batch.latent_lens)
        if bool((batch.phone_lens < 1).any()):
            raise InputError("DiSTAR needs at least one phone per utterance (a row has phone_lens = 0)")
        B = ids.shape[0]
        active = self._truncate(B, ids.device) if self.training else torch.full((B,), cfg.num_layers,
                                                                                  device=ids.device)
        ids = ids * (torch.arange(cfg.num_layers, device=ids.device)[None] < active[:, None])[:, None]
        patches, _, n = patchify(ids, batch.latent_lens, cfg.patch_size, cfg.pad_side)  # (B, N, P, J)
        N = patches.shape[1]
        has_patch = torch.arange(N, device=n.device)[None] < n[:, None]
        enc = self.encode_patches(patches[has_patch])
        emb = enc.new_zeros(B, N, cfg.lm_dim)
        emb[has_patch] = enc
        lm = self.patch_lm
        h_all = lm.states(batch.phones, batch.phone_lens, emb, n)  # (B, N+1, D)
        rows = torch.arange(B, device=n.device)[:, None].expand(B, N)[has_patch]
        ce, acc = self._infill_loss(h_all[:, :N][has_patch], patches, has_patch, active[rows])
        stop = lm.stop_loss(h_all, n)
        return DiSTARLosses(total=ce + cfg.stop_weight * stop, ce=ce, stop=stop, accuracy=acc)

    def to_ids(self, codes: Tensor, lens: Tensor) -> Tensor:
        """Public codes (B, T, J) in 0..K-1, right-padded -> model ids (codes + 1, padding 0)."""
        cfg = self.cfg
        if codes.is_floating_point() or codes.dim() != 3 or codes.shape[-1] != cfg.num_layers:
            raise InputError(f"DiSTAR expects integer codes (B, T, {cfg.num_layers}), got {codes.dtype} "
                             f"{tuple(codes.shape)} (train on an RVQ tokenizer)")
        valid = torch.arange(codes.shape[1], device=codes.device)[None] < lens[:, None]
        if bool(((codes < 0) | (codes >= cfg.codebook_size))[valid].any()):
            raise InputError(f"DiSTAR: a code lies outside 0..{cfg.codebook_size - 1}")
        return (codes.long() + 1) * valid[..., None]

    def _truncate(self, B: int, device: torch.device) -> Tensor:
        """Active layers per row: J, or J - l with l ~ U{1..J-1} with probability layer_truncation."""
        J = self.cfg.num_layers
        if J == 1 or self.cfg.layer_truncation == 0:
            return torch.full((B,), J, device=device)
        drop = torch.randint(1, J, (B,), device=device)
        hit = torch.rand(B, device=device) < self.cfg.layer_truncation
        return J - drop * hit

    def _infill_loss(self, h: Tensor, patches: Tensor, has_patch: Tensor, active: Tensor) -> tuple[Tensor, Tensor]:
        """Masked-token cross-entropy of the MDM on every real patch (M of them)."""
        cfg = self.cfg
        x0 = patches[has_patch]  # (M, P, J) ids; 0 = padding frame or pruned layer
        hist = history_windows(patches, cfg.history_patches)[has_patch]  # (M, H, J)
        M, P, J = x0.shape
        if self.training:
            keep_h = torch.rand(M, device=h.device) >= cfg.cond_dropout
            h = h * keep_h[:, None].to(h.dtype)
            keep_hist = torch.rand(M, device=h.device) >= cfg.history_dropout
            hist = hist * keep_hist[:, None, None]
        eligible = x0 > 0
        gamma = mask_ratio(torch.rand(M, device=h.device), cfg.mask_schedule).clamp_min(1.0 / (P * J))
        masked = eligible & (torch.rand(M, P, J, device=h.device) < gamma[:, None, None])
        none = ~masked.flatten(1).any(1)
        if bool(none.any()):  # every patch gets at least one masked token
            pick = torch.rand(M, P * J, device=h.device).masked_fill(~eligible.flatten(1), -1).argmax(1)
            forced = torch.zeros(M, P * J, dtype=torch.bool, device=h.device).scatter_(1, pick[:, None], True)
            masked = masked | (forced.view(M, P, J) & none[:, None, None])
        tokens = torch.where(masked, torch.full_like(x0, cfg.mask_id), x0)
        key_valid = None
        if cfg.layout == "frame_layer" and bool((active < J).any()):
            on = torch.arange(J, device=h.device)[None] < active[:, None]  # (M, J)
            frames = cfg.history_frames + P
            key_valid = torch.cat([on.new_ones(M, 1), on[:, None].expand(M, frames, J).reshape(M, -1)], dim=1)
        hidden = self.mdm(h, hist, tokens, key_valid)
        weight = (1.0 / gamma)[:, None, None].expand(M, P, J) if cfg.loss_weighting == "elbo" else None
        total, correct, count = hidden.new_zeros((), dtype=torch.float32), 0, 0
        for j in range(J):
            sel = masked[..., j]
            if not bool(sel.any()):
                continue
            y = hidden[sel] if hidden.dim() == 3 else hidden[..., j, :][sel]
            logits = self.mdm.layer_logits(y, j).float()
            target = x0[..., j][sel] - 1
            ce = F.cross_entropy(logits, target, reduction="none")
            total = total + (ce * weight[..., j][sel] if weight is not None else ce).sum()
            correct += int((logits.argmax(-1) == target).sum())
            count += int(sel.sum())
        norm = eligible.sum() if cfg.loss_weighting == "elbo" else masked.sum()
        return total / norm.clamp(min=1), torch.tensor(correct / max(count, 1))

    # ---- inference pieces ---------------------------------------------------------------------
    def encode_patches(self, patches: Tensor) -> Tensor:
        """One aggregator pass: ids (..., P, J) -> (..., D_lm) (padding ids contribute nothing)."""
        return self.encoder(self.agg_embed(patches).sum(-2))

    def default_sampler(self) -> InfillConfig:
        return InfillConfig()

    def noise_spec(self, sampler: InfillConfig) -> tuple[tuple[int, ...], str]:
        """Per AR step and row: (N, 2, P, J) uniforms (token draws and Gumbel noise of each step)."""
        return (sampler.steps, 2, self.cfg.patch_size, self.cfg.num_layers), "uniform"

    def active_layers(self, sampler: InfillConfig) -> int:
        layers = sampler.layers or self.cfg.num_layers
        if layers > self.cfg.num_layers:
            raise InputError(f"layers={layers}, but the model has {self.cfg.num_layers} RVQ layers")
        return layers

    def mdm_logits(self, h: Tensor, history: Tensor, tokens: Tensor, guided: bool) -> tuple[Tensor, Tensor | None]:
        """One infilling network call: (cond, uncond) logits (B, P, L, K); with `guided` the pass
        without history runs batched with the conditional one (history-only CFG)."""
        L = tokens.shape[-1]
        hist = history[..., :L]
        if not guided:
            return self.mdm.logits(self.mdm(h, hist, tokens), L), None
        both = self.mdm(torch.cat([h, h]), torch.cat([hist, torch.zeros_like(hist)]), torch.cat([tokens, tokens]))
        return self.mdm.logits(both, L).chunk(2)

    def sample_patch(self, h: Tensor, history: Tensor, noise: Tensor, sampler: InfillConfig) -> Tensor:
        """h (B, D), history ids (B, H, J), noise (B, N, 2, P, J) -> patch ids (B, P, J), layers >= L' = 0."""
        cfg, L = self.cfg, self.active_layers(sampler)
        B = h.shape[0]
        tokens = torch.full((B, cfg.patch_size, L), cfg.mask_id, dtype=torch.long, device=h.device)
        filled = infill(lambda x: self.mdm_logits(h, history, x, sampler.guided), tokens, noise, sampler, cfg.mask_id)
        out = torch.zeros(B, cfg.patch_size, cfg.num_layers, dtype=torch.long, device=h.device)
        out[..., :L] = filled
        return out

    # ---- generation -----------------------------------------------------------------------------
    def _prompt_ids(self, prompts: Sequence[Tensor], layers: int) -> list[Tensor]:
        out = []
        for i, p in enumerate(prompts):
            if p.dim() != 2 or p.shape[1] < layers or p.is_floating_point():
                raise InputError(f"generate: row {i} prompt codes are {p.dtype} {tuple(p.shape)}, expected "
                                 f"integer (T, >= {layers})")
            ids = torch.zeros(p.shape[0], self.cfg.num_layers, dtype=torch.long, device=p.device)
            ids[:, :layers] = p[:, :layers].long() + 1
            out.append(ids)
        return out

    @torch.no_grad()
    def iter_patches(self, phones: Sequence[Sequence[int]], prompts: Sequence[Tensor],
                     generators: Sequence[torch.Generator], sampler: InfillConfig | None = None,
                     gen: GenerationConfig | None = None, row_max: Sequence[int] | None = None
                     ) -> Iterator[PatchStep]:
        """Yield each AR step's codes (B, P, L') in 0..K-1 as soon as the MDM has filled them."""
        sampler = sampler or self.default_sampler()
        L = self.active_layers(sampler)
        ids = self._prompt_ids(prompts, L)
        for step in patch_ar.iter_patches(self, phones, ids, generators, sampler, gen, row_max):
            step.patches = step.patches[..., :L] - 1
            yield step

    @torch.no_grad()
    def generate(self, phones: Sequence[Sequence[int]], prompts: Sequence[Tensor],
                 generators: Sequence[torch.Generator], sampler: InfillConfig | None = None,
                 gen: GenerationConfig | None = None, row_max: Sequence[int] | None = None) -> list[Tensor]:
        """Batched synthesis: per row its generated codes (n_b * P, L') in 0..K-1, prompt excluded."""
        L = self.active_layers(sampler or self.default_sampler())
        empty = torch.zeros(0, L, dtype=torch.long, device=self.phone_embed.weight.device)
        return patch_ar.collect(self.iter_patches(phones, prompts, generators, sampler, gen, row_max), len(phones), empty)
