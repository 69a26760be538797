"""Registered DiTAR systems: `ditar-0.1b`, `ditar-0.4b`, `ditar-0.6b`, `ditar-1b` (paper Table 8)
and `ditar-tiny` (tests: random weights, ~80k parameters).

Weights: `checkpoint=` a training checkpoint, a training output folder or an exported folder (see
`ttsbench.systems.speech.pretrained`), else `<cache_dir>/ditar-<size>/` when it exists. With none,
`ditar-tiny` builds random weights deterministically; the paper sizes need `random_weights=true`
(timing only) and otherwise fail with one line.

Options (``ditar-0.6b:checkpoint=PATH,nfe=10,cfg=1.0,...``; declared in `DiTARSystem.Options`,
shown by `ttsbench list systems --options ditar-0.6b`):
    nfe=10              LocDiT network calls per patch (each = 2 batched passes when cfg > 0)
    cfg=1.0             LM-guidance scale w >= 0, paper convention (0 = off)
    temperature=1.0     tau in [0, 1] (1: ODE from N(0, I); 0: greedy, deterministic)
  and the patch-AR options DiSTAR shares (`PatchAROptions`):
    max_seconds=30      cap on generated audio per utterance (> 0)
    min_patches=0       no stop before this many patches; max_patches=0 (0: from max_seconds).
                        min_patches == max_patches forces a fixed length (timing runs).
    stop_threshold=0.5  stop when p_stop exceeds it (> 1 disables the stop head)
    tokenizer=DIR|NAME  speech tokenizer (default: the checkpoint's; random weights: "mel")
    dtype=fp32|bf16     bf16 runs the model under autocast (CUDA)
    random_weights=false, weight_seed=0, patch=0 (P), history=-1 (H)   (the last two only with
                        random weights: a trained model's patch size and history are fixed)

Random weights have a meaningless stop head: unless min/max_patches are given, each utterance
then gets a length from its target text (RANDOM_TOKENS_PER_SECOND) and the stop head is off.
Their audio is noise of arbitrary loudness, so it is attenuated to a 0.9 peak when louder.

Streaming: `stream(batch, seed=...)` yields each AR step's patches (`PatchStep`) as LocDiT
samples them, after `prepare()` (prompt audio read and encoded, phones, generators): the cost
layer times the first patch from there.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch

from ttsbench.audio import read_audio, resample
from ttsbench.configio import from_dict, to_dict
from ttsbench.errors import InputError, MissingModelError
from ttsbench.options import option
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities, TTSSystem, item_rng
from ttsbench.systems.ditar.config import DiTARConfig
from ttsbench.systems.ditar.cost import ditar_arch
from ttsbench.systems.ditar.model import DiTAR
from ttsbench.systems.speech.frontend import WORD, PhoneFrontend
from ttsbench.systems.speech.patch_ar import GenerationConfig
from ttsbench.systems.speech.pretrained import check_frontend, read_checkpoint, resolve_tokenizer
from ttsbench.systems.speech.sampling import SamplerConfig
from ttsbench.types import LoadContext, Prompt, SystemSpec

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
RANDOM_TOKENS_PER_SECOND = 12.0  # phone tokens per second of speech assumed for random-weight lengths


@dataclass(frozen=True)
class PatchAROptions:
    """Options of the patch-AR generation loop, shared by DiTAR and DiSTAR (each adds its sampler's)."""

    # the aliases these options had: now unknown options whose "did you mean" names the option
    suggest: ClassVar[dict[str, str]] = {"tau": "temperature", "guidance": "cfg", "weights": "random_weights"}

    max_seconds: float = option(30.0, "cap on generated audio per utterance (s)", above=0)
    min_patches: int = option(0, "no stop before this many patches (= max_patches: fixed length)", min=0)
    max_patches: int = option(0, "stop after this many patches (0: from max_seconds)", min=0)
    stop_threshold: float = option(0.5, "stop when p_stop exceeds it (> 1 disables the stop head)")
    tokenizer: str = option("", "speech tokenizer folder or name (default: the checkpoint's; random: mel)")
    dtype: str = option("fp32", "bf16 runs the model under autocast (CUDA)", choices=tuple(DTYPES))
    random_weights: bool = option(False, "random weights without a checkpoint (timing only; *-tiny: always)")
    weight_seed: int = option(0, "seed of the random weights")
    patch: int = option(0, "patch size P of random weights (0: the size's; a checkpoint's is fixed)", min=0)
    history: int = option(-1, "history patches of random weights (-1: the size's; a checkpoint's is fixed)",
                          min=-1)
    ema: bool = option(True, "use a training checkpoint's EMA weights (ema_model_state_dict) when it has them")


@dataclass
class Prepared:
    """One batch ready for `DiTAR.generate` / `iter_patches`."""

    phones: list[list[int]]
    prompts: list[torch.Tensor]  # (T_b, C) prompt latents
    generators: list[torch.Generator]
    row_max: list[int] | None


class DiTARSystem(TTSSystem):
    """DiTAR (Jia et al., 2025): patch LM + LocDiT, batched KV-cached inference.

    DiSTAR's system subclasses this one: the declared `Options` and the hooks `make_tokenizer`,
    `build_model` and `make_sampler` are what differ between the two.
    """

    family = "ditar"  # checkpoint kind, and the <cache_dir>/<family>-<size>/ folder name
    size = "0.6b"
    capabilities = Capabilities(zero_shot=True, needs_prompt_text=True, streaming=True, max_batch=64)

    @dataclass(frozen=True)
    class Options(PatchAROptions):
        nfe: int = option(10, "LocDiT network calls per patch (each = 2 batched passes when cfg > 0)", min=1)
        cfg: float = option(1.0, "LM-guidance scale w, paper convention (0 = off)", min=0)
        temperature: float = option(1.0, "tau (1: ODE from N(0, I); 0: greedy, deterministic)", min=0, max=1)

    def __init__(self, model: Any, tokenizer: Any, frontend: Any, options: Any, *,
                 random_weights: bool, weights: str, latent_stats: Any = None) -> None:
        self.model, self.tokenizer, self.frontend = model, tokenizer, frontend
        self.latent_stats = latent_stats  # set: the model works on standardised latents (`latent_stats.py`)
        self.options, self.random_weights, self.weights = options, random_weights, weights
        self.autocast = DTYPES[options.dtype] != torch.float32
        self.sample_rate = int(tokenizer.sample_rate)
        self.sampler = self.make_sampler(options)
        self.patches_per_second = tokenizer.frame_rate / model.cfg.patch_size
        cap = options.max_patches or max(1, math.ceil(options.max_seconds * self.patches_per_second))
        self.gen = GenerationConfig(max_patches=cap, min_patches=min(options.min_patches, cap),
                                    stop_threshold=options.stop_threshold)
        if random_weights and not (options.min_patches or options.max_patches):
            self.gen = replace(self.gen, stop_threshold=2.0)  # untrained stop head: lengths come from text

    # ---- loading ----------------------------------------------------------------------------------
    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> DiTARSystem:
        options = cls.parse_options(spec)
        path = spec.checkpoint
        folder = f"{cls.family}-{cls.size}"
        if path is None and ctx.cache_dir is not None and (ctx.cache_dir / folder).exists():
            path = ctx.cache_dir / folder
        random_weights = path is None
        if random_weights and cls.size != "tiny" and not options.random_weights:
            raise MissingModelError(f"{spec.name}: no checkpoint (pass checkpoint=PATH, or put an exported model in "
                                    f"<cache_dir>/{folder}/; random_weights=true for timing only)")
        frontend = PhoneFrontend()
        ckpt = None if random_weights else read_checkpoint(path, cls.family, ema=options.ema)
        tokenizer = cls.make_tokenizer(ckpt, options, ctx)
        if ckpt is not None:
            check_frontend(frontend, ckpt)
        model = cls.build_model(ckpt, tokenizer, frontend, options, spec.name)
        model = model.to(ctx.device).eval()
        weights = (f"random (seed {options.weight_seed})" if ckpt is None
                   else f"{ckpt.path} sha256:{ckpt.sha256} ({ckpt.weights} weights)")
        return cls(model, tokenizer, frontend, options, random_weights=random_weights, weights=weights,
                   latent_stats=None if ckpt is None else ckpt.latent_stats)

    @classmethod
    def make_tokenizer(cls, ckpt: Any, options: Any, ctx: LoadContext) -> Any:
        return resolve_tokenizer(ckpt, options.tokenizer, ctx.cache_dir, ctx.device)

    @classmethod
    def build_model(cls, ckpt: Any, tokenizer: Any, frontend: Any, options: Any, name: str) -> Any:
        return _build_model(cls.size, ckpt, tokenizer, frontend, options, name)

    def make_sampler(self, options: Any) -> Any:
        return SamplerConfig(nfe=options.nfe, guidance_scale=options.cfg, temperature=options.temperature)

    # ---- synthesis ----------------------------------------------------------------------------------
    def prepare(self, batch: Sequence[Prompt], seed: int) -> Prepared:
        """Read and encode the prompt audio, phonemize the texts, seed one generator per utterance."""
        device = self.model.phone_embed.weight.device
        phones, prompts, gens, caps = [], [], [], []
        for p in batch:
            target = self.frontend.encode(p.target_text, p.lang)
            if not target:
                raise InputError(f"{p.utt_id}: the target text has no pronounceable phones: {p.target_text!r}")
            context = self.frontend.encode(p.prompt_text, p.lang) if p.prompt_text.strip() else []
            phones.append(context + [self.frontend.ids[WORD]] + target if context else target)
            wav, _ = read_audio(p.prompt_wav, self.tokenizer.sample_rate)
            with torch.no_grad():
                z = self.tokenizer.encode(torch.from_numpy(wav)[None].to(device))[0]
            z = z.float() if z.is_floating_point() else z  # DiSTAR's codes stay integers
            prompts.append(self.latent_stats.standardize(z) if self.latent_stats is not None and
                           z.is_floating_point() else z)
            gens.append(torch.Generator(device="cpu").manual_seed(int(item_rng(seed, p.utt_id).integers(2**62))))
            caps.append(max(1, math.ceil(len(target) / RANDOM_TOKENS_PER_SECOND * self.patches_per_second)))
        use_caps = self.random_weights and not (self.options.min_patches or self.options.max_patches)
        return Prepared(phones, prompts, gens, caps if use_caps else None)

    def stream(self, batch: Sequence[Prompt], *, seed: int) -> Iterator[Any]:
        """Yield `PatchStep`s (patches (B, P, C), which rows emitted them) as they are sampled (in the
        model's latent space: standardised when the checkpoint has latent stats)."""
        prep = self.prepare(batch, seed)
        with torch.no_grad(), self._autocast():
            yield from self.model.iter_patches(prep.phones, prep.prompts, prep.generators, self.sampler, self.gen,
                                               prep.row_max)

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        prep = self.prepare(batch, seed)
        with torch.no_grad(), self._autocast():
            latents = self.model.generate(prep.phones, prep.prompts, prep.generators, self.sampler, self.gen,
                                          prep.row_max)
        return [self._decode(x) for x in latents]

    @torch.no_grad()
    def _decode(self, latents: torch.Tensor) -> np.ndarray:
        if latents.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)  # stopped at once: the runner marks the row failed
        units = latents[None].float() if latents.is_floating_point() else latents[None]
        if self.latent_stats is not None and units.is_floating_point():
            units = self.latent_stats.destandardize(units)
        wav = self.tokenizer.decode(units)[0].detach().cpu().numpy().astype(np.float32)
        if self.random_weights:  # untrained latents decode to noise of any loudness: keep it a valid waveform
            wav = wav / max(1.0, float(np.abs(wav).max()) / 0.9)
        return wav

    def _autocast(self) -> contextlib.AbstractContextManager:
        device = self.model.phone_embed.weight.device
        if not self.autocast:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)

    @torch.no_grad()
    def resynthesize(self, wav: np.ndarray, sample_rate: int) -> np.ndarray | None:
        """The prompt through the speech tokenizer (encode, decode), for SIM-r."""
        device = self.model.phone_embed.weight.device
        x = torch.from_numpy(resample(wav, sample_rate, self.tokenizer.sample_rate))[None].to(device)
        return self.tokenizer.decode(self.tokenizer.encode(x))[0].cpu().numpy().astype(np.float32)

    # ---- reporting ----------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {"size": self.size, "weights": self.weights, "random_weights": self.random_weights,
                "parameters": sum(p.numel() for p in self.model.parameters()),
                "model_config": to_dict(self.model.cfg), "sampler": asdict(self.sampler),
                "generation": asdict(self.gen), "dtype": self.options.dtype,
                "nfe_convention": "network calls per patch; each holds both guidance passes when cfg > 0",
                "tokenizer": self.tokenizer.describe(), "frontend": self.frontend.describe(),
                "latent_standardization": None if self.latent_stats is None else
                {"channels": self.latent_stats.channels, "frames": self.latent_stats.frames}}

    def arch(self) -> Any:
        return ditar_arch(self.model.cfg, nfe=self.sampler.nfe, guidance=self.sampler.guidance_scale != 0,
                          frame_rate=self.tokenizer.frame_rate, name=self.registry_name or f"ditar-{self.size}")


def _build_model(size: str, ckpt: Any, tokenizer: Any, frontend: Any, o: Any, name: str) -> Any:
    if ckpt is None:
        changes: dict[str, Any] = {"latent_dim": int(tokenizer.latent_dim)}
        if o.patch:
            changes["patch_size"] = o.patch
        if o.history >= 0:
            changes["history_patches"] = o.history
        cfg = DiTARConfig.from_size(size, **changes)
        with torch.random.fork_rng(devices=[]):  # deterministic weights, global RNG untouched
            torch.manual_seed(o.weight_seed)
            model = DiTAR(cfg)
    else:
        cfg = from_dict(DiTARConfig, {**to_dict(DiTARConfig()), **ckpt.model_config}, where=str(ckpt.path))
        for key, field, unset in (("patch", "patch_size", 0), ("history", "history_patches", -1)):
            value = getattr(o, key)
            if value != unset and value != getattr(cfg, field):
                raise InputError(f"{name}: {key}={value}, but the checkpoint was trained with {field}="
                                 f"{getattr(cfg, field)}")
        model = DiTAR(cfg)
        missing, unexpected = model.load_state_dict(ckpt.state, strict=False)
        if missing or unexpected:
            raise InputError(f"{ckpt.path}: weights do not fit DiTAR {cfg.lm_layers}x{cfg.lm_dim} "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    if cfg.latent_dim != tokenizer.latent_dim:
        raise InputError(f"{name}: the model takes {cfg.latent_dim}-d latents, the tokenizer makes "
                         f"{tokenizer.latent_dim}-d")
    if cfg.phone_vocab < frontend.vocab_size:
        raise InputError(f"{name}: phone table of {cfg.phone_vocab} rows < the front end's {frontend.vocab_size}")
    return model


@SYSTEMS.register("ditar-0.1b")
class DiTAR01B(DiTARSystem):
    """DiTAR ~0.1B (Table 8: encoder 4x512, LM 24x512, LocDiT 4x512); needs a checkpoint."""

    size = "0.1b"


@SYSTEMS.register("ditar-0.4b")
class DiTAR04B(DiTARSystem):
    """DiTAR ~0.4B (Table 8: encoder 4x1024, LM 24x1024, LocDiT 4x1024); needs a checkpoint."""

    size = "0.4b"


@SYSTEMS.register("ditar-0.6b")
class DiTAR06B(DiTARSystem):
    """DiTAR ~0.6B (Table 8, the paper's Table 1 model: 6/36/6 x 1024, P=4); needs a checkpoint."""

    size = "0.6b"


@SYSTEMS.register("ditar-1b")
class DiTAR1B(DiTARSystem):
    """DiTAR ~1B (Table 8: encoder 8x1024, LM 24x1536, LocDiT 8x1024); needs a checkpoint."""

    size = "1b"


@SYSTEMS.register("ditar-tiny")
class DiTARTiny(DiTARSystem):
    """DiTAR, tiny random weights on log-mel frames: contract tests only, not speech."""

    size = "tiny"
    capabilities = Capabilities(zero_shot=True, needs_prompt_text=True, streaming=True, max_batch=64,
                                random_weights=True)
