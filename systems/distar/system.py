"""Registered DiSTAR systems: `distar-base` (~0.15B), `distar-medium` (~0.3B) and `distar-tiny` (tests).

DiTAR's system class does the work (prompt encoding, phones, per-utterance generators, batched
KV-cached generation, streaming, decoding); this module supplies DiSTAR's options, tokenizer
and model. Weights: `checkpoint=` a `ttsbench train distar` checkpoint, its output folder or an
exported folder, else `<cache_dir>/distar-<size>/`; `distar-tiny` builds random weights and a
random-codebook RVQ over log-mels; paper sizes need `random_weights=true` (timing only).

Options (``distar-base:checkpoint=PATH,layers=6,...``; defaults: the paper's, shared notes §4;
declared in `DiSTARSystem.Options`, shown by `ttsbench list systems --options distar-base`):
    layers=0           L' RVQ layers generated and decoded (0: all J); sets the bitrate
    steps=24           N infilling network calls per patch (min(N, P x L') are needed)
    mode=greedy        greedy | sample | hybrid (first `sample_fraction` of tokens sampled)
    temperature=1.0, temperature_end=none, time_temp=0.95, layer_temp=0.8 (all > 0), sample_fraction=0.5
    top_k=50 (0: off), top_p=0.9 (1: off), choice_noise=0.0
    cfg=1.25           history-only CFG scale s (1 = off); cfg_rescale=0.75 (phi in [0, 1])
  and DiTAR's patch-AR options (`PatchAROptions`): max_seconds=30, min_patches=0, max_patches=0,
    stop_threshold=0.5, tokenizer=DIR, dtype=fp32|bf16, random_weights=false, weight_seed=0, patch=0,
    history=-1 (the last two with random weights only). DiTAR's `nfe` is not one: DiSTAR has `steps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from ttsbench.configio import from_dict, to_dict
from ttsbench.errors import InputError
from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities
from ttsbench.systems.distar.config import DiSTARConfig
from ttsbench.systems.distar.cost import distar_arch
from ttsbench.systems.distar.infill import MODES, InfillConfig
from ttsbench.systems.distar.model import DiSTAR
from ttsbench.systems.distar.rvq_tokenizer import RVQTokenizer, RVQTokenizerConfig
from ttsbench.systems.ditar.system import DiTARSystem, PatchAROptions
from ttsbench.types import LoadContext


class DiSTARSystem(DiTARSystem):
    """DiSTAR (Song et al., 2025): AR patch drafting over RVQ codes + masked-diffusion infilling."""

    family = "distar"
    size = "base"

    @dataclass(frozen=True)
    class Options(PatchAROptions):
        # "nfe" is DiTAR's word for network calls per patch
        suggest: ClassVar[dict[str, str]] = {**PatchAROptions.suggest, "nfe": "steps"}

        layers: int = option(0, "L' RVQ layers generated and decoded (0: all J); sets the bitrate", min=0)
        steps: int = option(24, "N infilling network calls per patch (min(N, P x L') are needed)", min=1)
        mode: str = option("greedy", "hybrid: the first sample_fraction of tokens sampled", choices=MODES)
        temperature: float = option(1.0, "base temperature T_n at the first step", above=0)
        temperature_end: float | None = option(None, "anneal T_n linearly to this at the last step", above=0)
        time_temp: float = option(0.95, "position-wise temperature factor per frame of the patch", above=0)
        layer_temp: float = option(0.8, "layer-wise temperature factor per RVQ layer", above=0)
        sample_fraction: float = option(0.5, "hybrid mode: the fraction of tokens sampled", min=0, max=1)
        top_k: int = option(50, "sampling only (0: off)", min=0)
        top_p: float = option(0.9, "sampling only (1: off)", above=0, max=1)
        choice_noise: float = option(0.0, "Gumbel noise on the confidences, annealed to 0 (0: off)", min=0)
        cfg: float = option(1.25, "history-only CFG scale s (1: off, one pass per step)", min=0)
        cfg_rescale: float = option(0.75, "phi of CFG-rescale (0: off)", min=0, max=1)

    def make_sampler(self, options: Any) -> Any:
        return InfillConfig(steps=options.steps, mode=options.mode, temperature=options.temperature,
                            temperature_end=options.temperature_end, time_temp=options.time_temp,
                            layer_temp=options.layer_temp, sample_fraction=options.sample_fraction,
                            top_k=options.top_k, top_p=options.top_p, choice_noise=options.choice_noise,
                            cfg_scale=options.cfg, cfg_rescale=options.cfg_rescale,
                            layers=options.layers or None)

    @classmethod
    def make_tokenizer(cls, ckpt: Any, options: Any, ctx: LoadContext) -> Any:
        if ckpt is None and not options.tokenizer:
            return _random_rvq(cls.size, options, ctx.device)
        tok = super().make_tokenizer(ckpt, options, ctx)
        if not getattr(tok, "discrete", False):
            raise InputError(f"distar-{cls.size}: tokenizer {tok.describe()['name']!r} is continuous; DiSTAR needs an "
                             f"RVQ tokenizer folder (`ttsbench train rvq`)")
        return tok

    @classmethod
    def build_model(cls, ckpt: Any, tokenizer: Any, frontend: Any, options: Any, name: str) -> Any:
        codes = {"num_layers": int(tokenizer.num_layers), "codebook_size": int(tokenizer.codebook_size)}
        if ckpt is None:
            changes: dict[str, Any] = dict(codes)
            if options.patch:
                changes["patch_size"] = options.patch
            if options.history >= 0:
                changes["history_patches"] = options.history
            cfg = DiSTARConfig.from_size(cls.size, **changes)
            with torch.random.fork_rng(devices=[]):  # deterministic weights, global RNG untouched
                torch.manual_seed(options.weight_seed)
                model = DiSTAR(cfg)
        else:
            cfg = from_dict(DiSTARConfig, {**to_dict(DiSTARConfig()), **ckpt.model_config}, where=str(ckpt.path))
            for key, field, unset in (("patch", "patch_size", 0), ("history", "history_patches", -1)):
                value = getattr(options, key)
                if value != unset and value != getattr(cfg, field):
                    raise InputError(f"{name}: {key}={value}, but the checkpoint was trained with {field}="
                                     f"{getattr(cfg, field)}")
            model = DiSTAR(cfg)
            missing, unexpected = model.load_state_dict(ckpt.state, strict=False)
            if missing or unexpected:
                raise InputError(f"{ckpt.path}: weights do not fit DiSTAR {cfg.lm_layers}x{cfg.lm_dim} "
                                 f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
        for key, value in codes.items():
            if getattr(cfg, key) != value:
                raise InputError(f"{name}: the model has {key}={getattr(cfg, key)}, the tokenizer {value}")
        if options.layers > cfg.num_layers:
            raise InputError(f"{name}: layers={options.layers}, but the model has {cfg.num_layers} "
                             "RVQ layers")
        if cfg.phone_vocab < frontend.vocab_size:
            raise InputError(f"{name}: phone table of {cfg.phone_vocab} rows < the front end's {frontend.vocab_size}")
        return model

    # ---- reporting ----------------------------------------------------------------------------------
    @property
    def active_layers(self) -> int:
        return self.sampler.layers or self.model.cfg.num_layers

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.pop("nfe_convention", None)
        out.update({"layers": self.active_layers, "kbps": self.tokenizer.kbps(self.active_layers),
                    "steps_convention": "MDM network calls per patch (min(steps, P x layers) run); each holds "
                                        "both CFG passes when cfg != 1"})
        return out

    def arch(self) -> Any:
        return distar_arch(self.model.cfg, steps=self.sampler.steps, guidance=self.sampler.guided,
                           active_layers=self.active_layers, frame_rate=self.tokenizer.frame_rate,
                           name=self.registry_name or f"distar-{self.size}")


def _random_rvq(size: str, options: Any, device: str) -> Any:
    """An RVQ over log-mels with seeded Gaussian codebooks (random-weight models: timing and tests)."""
    cfg = DiSTARConfig.from_size(size)
    tok = RVQTokenizer(RVQTokenizerConfig(num_layers=cfg.num_layers, codebook_size=cfg.codebook_size))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.weight_seed + 1)
        scale = 1.0 / torch.arange(1, cfg.num_layers + 1, dtype=torch.float32)  # deeper layers: smaller residuals
        tok.rvq.codebooks.copy_(torch.randn_like(tok.rvq.codebooks) * scale[:, None, None])
    tok.rvq.initialized.fill_(True)
    return tok.to(device).eval()


@SYSTEMS.register("distar-base")
class DiSTARBase(DiSTARSystem):
    """DiSTAR-base ~0.15B (aggregator 4, LM 24, MDM 16 layers x 512); needs a checkpoint."""

    size = "base"


@SYSTEMS.register("distar-medium")
class DiSTARMedium(DiSTARSystem):
    """DiSTAR-medium ~0.3B (aggregator 4, LM 24, MDM 16 layers x 768); needs a checkpoint."""

    size = "medium"


@SYSTEMS.register("distar-tiny")
class DiSTARTiny(DiSTARSystem):
    """DiSTAR, tiny random weights over a random-codebook RVQ of log-mels: contract tests only."""

    size = "tiny"
    capabilities = Capabilities(zero_shot=True, needs_prompt_text=True, streaming=True, max_batch=64,
                                random_weights=True)
