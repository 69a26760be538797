"""Fixtures for the DiTAR model tests: tiny configs and models, seeded, on CPU."""

from __future__ import annotations

import pytest
import torch

from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.ditar.model import DiTAR


def make_model(seed: int = 0, **changes) -> DiTAR:
    """A tiny DiTAR with deterministic weights (eval mode)."""
    torch.manual_seed(seed)
    return DiTAR(DiTARConfig.tiny().with_options(**changes)).eval()


@pytest.fixture
def tiny() -> DiTAR:
    return make_model()


@pytest.fixture
def generators():
    def make(n: int, seed: int = 0) -> list[torch.Generator]:
        return [torch.Generator().manual_seed(seed * 1000 + i) for i in range(n)]

    return make
