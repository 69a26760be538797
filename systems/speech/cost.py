"""Cost pieces every patch model shares (DiTAR, DiSTAR): the counted LM and the timed workload.

- `lm_flops`: the counted FLOPs of the `PatchLM` prefill and of all its KV-cached decode steps.
- `PatchARWorkload`: a random-weight patch model generating exactly `target_seconds` per row for
  `ttsbench speed` (stop head disabled, as Table 7's fixed work needs); latency = the time to the
  first patch, prompt prefill included.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ttsbench.metrics.cost.spec import FlopCount
from ttsbench.metrics.cost.speed import SpeedConfig, text_tokens
from ttsbench.systems.speech.patch_ar import GenerationConfig
from ttsbench.systems.speech.patch_lm import PatchLM

LATENT_RATE = 40.0  # frames per second of DiTAR's VAE latent (§3.5.1), of the mel stand-in and of our RVQ codes

Counter = Callable[..., FlopCount]


def lm_flops(lm: PatchLM, prefix: int, steps: int, counter: Counter) -> tuple[int, int]:
    """(prefill FLOPs, FLOPs of all `steps` KV-cached decode steps) of a `PatchLM`."""
    dev, dt = lm.weight.device, lm.weight.dtype
    D = lm.width
    cache = lm.new_cache(1, prefix + steps + 1, dev, dt)
    positions = torch.arange(prefix, device=dev)[None]
    prefill = counter(lm.prefill, torch.zeros(1, prefix, D, device=dev, dtype=dt), positions, None, cache).flops
    emb = torch.zeros(1, 1, D, device=dev, dtype=dt)

    def step(context: int) -> int:  # FLOPs of the decode step whose new token is at `context` - 1
        cache.length = context - 1
        return counter(lm.step, emb, cache, torch.full((1, 1), context - 1, device=dev), None).flops

    # A step's FLOPs are affine in its context length (projections + 4 C t for attention), so the
    # sum over contexts prefix+1 .. prefix+steps is steps x (first + last) / 2, exactly; counting
    # two steps instead of all keeps the paper size quick. tests/unit/cost checks it against all.
    return prefill, (steps * (step(prefix + 1) + step(prefix + steps))) // 2 if steps else 0


class PatchARWorkload:
    """A random-weight patch model generating exactly `patches` patches per row (see the module docstring).

    Subclasses build `model` (a DiTAR or DiSTAR, with `generate` / `iter_patches`), `mcfg` (its
    config), `sampler`, `patches`, `name` and `rate` (frames per second), then call `_fixed_length`;
    `prepare` fills `inputs = (phones, prompts)`.
    """

    streaming = True
    random_weights = True
    rate = LATENT_RATE

    def __init__(self, cfg: SpeedConfig) -> None:
        self.cfg = cfg
        self.inputs: tuple[Any, ...] = ()
        self.model: Any = None
        self.mcfg: Any = None
        self.sampler: Any = None
        self.patches = 0
        self.name = ""
        self.gen = GenerationConfig()

    def _fixed_length(self, target_frames: int) -> None:
        self.patches = math.ceil(target_frames / self.mcfg.patch_size)
        # min = max patches and a stop threshold above 1: the stop head can never end a row early
        self.gen = GenerationConfig(max_patches=self.patches, min_patches=self.patches, stop_threshold=2.0)

    def _phones(self, batch: int, g: torch.Generator) -> list[list[int]]:
        n_text = text_tokens(self.cfg)
        return [torch.randint(1, self.mcfg.phone_vocab, (n_text,), generator=g).tolist() for _ in range(batch)]

    def _generators(self) -> list[torch.Generator]:
        dev = self.cfg.device
        return [torch.Generator(device=dev).manual_seed(self.cfg.seed + i) for i in range(len(self.inputs[0]))]

    def run(self) -> float:
        phones, prompts = self.inputs
        with torch.no_grad():
            self.model.generate(phones, prompts, self._generators(), self.sampler, self.gen)
        return self.patches * self.mcfg.patch_size / self.rate

    def first(self) -> None:
        phones, prompts = self.inputs
        with torch.no_grad():
            steps = self.model.iter_patches(phones, prompts, self._generators(), self.sampler, self.gen)
            next(steps)
            steps.close()
