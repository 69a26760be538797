"""GROW's released weights end to end (skipped unless they sit under $TTSBENCH_CACHE):

    $TTSBENCH_CACHE/grow-0.6b/ (`ttsbench convert grow .../01_pretrain --out ...`) or GROW's .pt folder,
    $TTSBENCH_CACHE/Qwen3-0.6B/tokenizer.json, $TTSBENCH_CACHE/Semantic-VAE/semantic_vae_1000k/.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ttsbench.plugins import SYSTEMS
from ttsbench.types import LoadContext, Prompt, SystemSpec

CACHE = Path(os.environ.get("TTSBENCH_CACHE", "/nonexistent"))
NEEDED = [CACHE / "grow-0.6b", CACHE / "Qwen3-0.6B" / "tokenizer.json",
          CACHE / "Semantic-VAE" / "semantic_vae_1000k" / "metainfo.json"]

pytestmark = [pytest.mark.weights, pytest.mark.slow,
              pytest.mark.skipif(not all(p.exists() for p in NEEDED), reason="GROW weights not under $TTSBENCH_CACHE")]


def test_grow_speaks_and_its_stop_head_ends_the_utterance(make_wav):
    system = SYSTEMS.get("grow-0.6b").load(SystemSpec("grow-0.6b", {"fixed_seed": 666}), LoadContext(cache_dir=CACHE))
    prompt = make_wav("p.wav", seconds=3.0, freq=150.0)
    wav = system.synthesize([Prompt("u", prompt, "This is a short prompt.", "And this is the target sentence.",
                                    "en", prompt)], seed=0)[0]
    assert system.sample_rate == 16_000 and np.isfinite(wav).all()
    assert 0.4 * 16_000 <= wav.size < 25 * 16_000  # >= 10 patches, and stopped by the head before 250
