"""Registered NAR baseline systems: `nar-dit-0.6b` / `nar-dit-0.1b` (DiTAR 0.6B's / 0.1B's size) and
`nar-dit-tiny` (tests).

This project trains no NAR model: the baseline exists to time DiTAR against a NAR DiT of equal size
(DiTAR paper Table 7 / Figure 5), and random weights are enough for that. Its audio is therefore
noise-like; reports flag it through `Capabilities(random_weights=True)` and `describe()`.

Options (``nar-dit-0.6b:key=value,...``; declared in `NARSystem.Options`, shown by
`ttsbench list systems --options nar-dit-0.6b`):
    random_weights=false  required for the 0.1b/0.6b sizes unless checkpoint= is given (explicit
                        opt-in, as for ditar-*); the tiny size always has random weights without one.
    weight_seed=0       seed of the random initialisation.
    checkpoint=PATH     a safetensors state dict of NARDiT with this size's config.
    nfe=10              network calls of the DDIM sampler (CFG passes are batched in each call).
    cfg=1.0             w of classifier-free guidance (paper convention; 0 = off).
    temperature=1.0     tau of DiTAR's sampler, in [0, 1].
    seconds=0           target duration; 0 = prompt duration x target/prompt text length (F5-TTS rule).
    tokenizer=DIR       a saved speech tokenizer (ttsbench.systems.speech.tokenizer); default: the
                        log-mel + Griffin-Lim tokenizer at 40 Hz x 64 (needs no weights).
    dtype=fp32|bf16
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ttsbench.audio import read_audio
from ttsbench.errors import InputError, MissingModelError
from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities, TTSSystem, item_rng, read_safetensors
from ttsbench.systems.nar.config import NARConfig
from ttsbench.systems.nar.cost import nar_arch
from ttsbench.systems.nar.model import NARDiT, text_frames
from ttsbench.systems.speech.sampling import SamplerConfig
from ttsbench.systems.speech.tokenizer import build_tokenizer, load_tokenizer
from ttsbench.types import LoadContext, Prompt, SystemSpec

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
MIN_SECONDS, MAX_SECONDS = 0.5, 30.0  # clamp of the estimated target duration


class NARSystem(TTSSystem):
    """NAR DiT baseline (random weights unless a checkpoint is given); decodes with a speech tokenizer."""

    size = "0.6b"
    capabilities = Capabilities(zero_shot=True, needs_prompt_text=True, max_batch=64, random_weights=True)

    @dataclass(frozen=True)
    class Options:
        # the aliases these options had: now unknown options whose "did you mean" names the option
        suggest: ClassVar[dict[str, str]] = {"guidance": "cfg", "tau": "temperature",
                                             "weights": "random_weights"}

        nfe: int = option(10, "network calls of the DDIM sampler (CFG passes are batched in each)", min=1)
        cfg: float = option(1.0, "w of classifier-free guidance, paper convention (0 = off)", min=0)
        temperature: float = option(1.0, "tau of DiTAR's sampler", min=0, max=1)
        seconds: float = option(0.0, "target duration (0: prompt seconds x target/prompt text length)", min=0)
        tokenizer: str = option("", "a saved speech tokenizer folder (default: log-mel + Griffin-Lim)")
        dtype: str = option("fp32", "compute dtype of the model", choices=tuple(DTYPES))
        random_weights: bool = option(False, "random weights without a checkpoint (timing; *-tiny: always)")
        weight_seed: int = option(0, "seed of the random initialisation")

    def __init__(self, model: Any, tokenizer: Any, options: dict[str, Any]) -> None:
        """`options`: the settings synthesis uses and describe() records (nfe, guidance, ...)."""
        self.model, self.tokenizer, self.options = model, tokenizer, options
        self.sample_rate = int(tokenizer.sample_rate)

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> NARSystem:
        o = cls.parse_options(spec)
        tokenizer = _tokenizer(o.tokenizer, ctx)
        cfg = NARConfig.from_size(cls.size, latent_dim=tokenizer.latent_dim, frame_rate=tokenizer.frame_rate)
        if spec.checkpoint is None and not (o.random_weights or cls.size == "tiny"):
            raise MissingModelError(f"{spec.name} has no trained weights in this project: pass '{spec.name}:"
                                    "random_weights=true' (timing only) or checkpoint=PATH.safetensors")
        torch.manual_seed(o.weight_seed)
        model = NARDiT(cfg)
        if spec.checkpoint is not None:
            _load_state(model, spec.checkpoint)
        model = model.to(device=ctx.device, dtype=DTYPES[o.dtype]).eval()
        # the key "guidance" (read by arch() and recorded by describe() in every run.json) holds cfg
        options = {"nfe": o.nfe, "guidance": o.cfg, "temperature": o.temperature, "seconds": o.seconds,
                   "weights": str(spec.checkpoint) if spec.checkpoint else f"random (seed {o.weight_seed})",
                   "dtype": o.dtype}
        return cls(model, tokenizer.to(ctx.device), options)

    def sampler(self) -> Any:
        o = self.options
        return SamplerConfig(nfe=o["nfe"], guidance_scale=o["guidance"], temperature=o["temperature"])

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        """One utterance at a time (sequence lengths differ), each with its own seeded generator."""
        return [self._one(p, seed) for p in batch]

    @torch.no_grad()
    def _one(self, prompt: Prompt, seed: int) -> np.ndarray:
        wav, _ = read_audio(prompt.prompt_wav, self.tokenizer.sample_rate)
        device = next(self.model.parameters()).device
        latents = self.tokenizer.encode(torch.from_numpy(wav)[None].to(device))  # (1, Tp, C)
        prompt_frames = latents.shape[1]
        seconds = self.options["seconds"] or _estimate_seconds(prompt, len(wav) / self.tokenizer.sample_rate)
        total = prompt_frames + max(1, round(seconds * self.tokenizer.frame_rate))
        text = text_frames([f"{prompt.prompt_text} {prompt.target_text}".strip()], total,
                           self.model.cfg.text_vocab).to(device)
        gen = torch.Generator(device="cpu").manual_seed(int(item_rng(seed, prompt.utt_id).integers(2**62)))
        out = self.model.generate(latents, text, self.sampler(), generator=gen)  # (1, T - Tp, C)
        audio = self.tokenizer.decode(out.float())[0].detach().cpu().numpy().astype(np.float32)
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        return audio * (0.9 / peak) if peak > 0.9 else audio  # random weights: arbitrary loudness

    def describe(self) -> dict[str, Any]:
        cfg = self.model.cfg
        return {**self.options, "size": self.size, "parameters": self.model.num_parameters(),
                "config": f"{cfg.layers} x {cfg.dim} / {cfg.ffn}, {cfg.heads} heads",
                "tokenizer": self.tokenizer.describe()["name"], "random_weights": "random" in self.options["weights"]}

    def arch(self) -> Any:
        return nar_arch(self.model.cfg, nfe=self.options["nfe"], guidance=self.options["guidance"] != 0,
                        name=self.registry_name or f"nar-dit-{self.size}")


@SYSTEMS.register("nar-dit-0.6b")
class NARDiT06B(NARSystem):
    """NAR DiT baseline, DiTAR 0.6B's size (48 x 1024); random weights, for timing (Table 7)."""

    size = "0.6b"


@SYSTEMS.register("nar-dit-0.1b")
class NARDiT01B(NARSystem):
    """NAR DiT baseline, DiTAR 0.1B's size (24 x 512); random weights, for timing on small machines."""

    size = "0.1b"


@SYSTEMS.register("nar-dit-tiny")
class NARDiTTiny(NARSystem):
    """NAR DiT baseline, tiny (5 x 32), random weights: tests only."""

    size = "tiny"


def _estimate_seconds(prompt: Prompt, prompt_seconds: float) -> float:
    """F5-TTS's duration rule: prompt seconds x target/prompt text length (UTF-8 bytes), clamped."""
    ref = len(prompt.prompt_text.encode("utf-8")) or 1
    est = prompt_seconds * len(prompt.target_text.encode("utf-8")) / ref
    return min(MAX_SECONDS, max(MIN_SECONDS, est))


def _tokenizer(path: str, ctx: LoadContext) -> Any:
    if not path:
        return build_tokenizer("mel").eval()
    directory = Path(path).expanduser()
    if not directory.is_absolute() and ctx.cache_dir is not None and not directory.exists():
        directory = ctx.cache_dir / directory
    return load_tokenizer(directory, map_location=ctx.device)


def _load_state(model: torch.nn.Module, path: Path) -> None:
    state = read_safetensors(path, "NAR checkpoint")
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise InputError(f"{path}: not a NARDiT state dict of this size "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
