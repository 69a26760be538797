"""The training batch of the patch models (DiTAR, DiSTAR): shared by the models, the data pipeline
and the trainer.

Shapes: B batch, L phones, T frames, C channels per frame (latent width, or J RVQ layers for codes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SpeechBatch:
    """A padded batch of (phones, latents) pairs.

    phones: (B, L) int64 phone ids of [prompt text ; target text], right-padded with 0 (pad id).
    phone_lens: (B,) int64 number of valid phones per row.
    latents: (B, T, C) float continuous speech tokens (VAE means, or mel frames), or int64 RVQ codes
        (B, T, J) for DiSTAR; right-padded.
    latent_lens: (B,) int64 number of valid frames per row.
    speaker: (B,) int64 speaker index, -1 when unknown (used only for sampling / analysis).
    """

    phones: torch.Tensor
    phone_lens: torch.Tensor
    latents: torch.Tensor
    latent_lens: torch.Tensor
    speaker: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> SpeechBatch:
        move = (lambda t: None if t is None else t.to(device, non_blocking=True))
        return SpeechBatch(move(self.phones), move(self.phone_lens), move(self.latents),
                          move(self.latent_lens), move(self.speaker))

    @property
    def num_frames(self) -> int:
        """Latent frames in the batch (the paper's token budget counts these)."""
        return int(self.latent_lens.sum())
