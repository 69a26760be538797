"""Fixtures for the DiSTAR model tests: tiny configs and models, seeded, on CPU."""

from __future__ import annotations

import torch

from ttsbench.systems.distar.config import DiSTARConfig
from ttsbench.systems.distar.model import DiSTAR
from ttsbench.systems.speech.batch import SpeechBatch


def make_model(seed: int = 0, **changes) -> DiSTAR:
    """A tiny DiSTAR (J = 4 layers of 16 codes, P = 4) with deterministic weights, eval mode."""
    torch.manual_seed(seed)
    return DiSTAR(DiSTARConfig.tiny().with_options(**changes)).eval()


def make_batch(seed: int = 0, J: int = 4, K: int = 16) -> SpeechBatch:
    g = torch.Generator().manual_seed(seed)
    return SpeechBatch(phones=torch.randint(1, 50, (3, 6), generator=g), phone_lens=torch.tensor([6, 4, 5]),
                      latents=torch.randint(0, K, (3, 13, J), generator=g), latent_lens=torch.tensor([13, 9, 5]))


def gens(n: int, seed: int = 0) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed * 1000 + i) for i in range(n)]
