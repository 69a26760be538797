"""What `ttsbench speed` times: our models on the paper's fixed workload, or any registered system.

- ``ditar-<size>`` (tiny, 0.1b, 0.4b, 0.6b, 1b): DiTAR with **random weights** (timing only),
  exactly `target_seconds` of patches per row (stop head disabled, as Table 7 needs fixed work),
  a `prompt_seconds` prompt and `text_rate` x (prompt + target) phones; KV cache on; latency =
  time to the first patch of latents (`DiTAR.iter_patches`), prompt prefill included.
- ``distar-<size>`` (tiny, base, medium): DiSTAR with **random weights** (timing only) on 40 Hz
  RVQ codes (an RVQ over the 40 Hz VAE / mel latent: 10 s = 400 frames = 50 patches at P = 8),
  exactly `target_seconds` of patches per row (stop head off), a `prompt_seconds` prompt of
  random codes, phones as for DiTAR; N = `steps` MDM steps per patch (min(N, P x L') network
  calls), L' = `layers`, history CFG (both passes batched) unless `guidance` is 0; latency = time
  to the first patch of codes (`DiSTAR.iter_patches`), prompt prefill included.
- ``nar-dit-<size>`` (tiny, 0.1b, 0.6b): the NAR baseline with random weights over a fixed
  prompt + target length; latency = the whole generation (a NAR model emits nothing earlier).
- any other registered system: its `synthesize` on the embedded demo prompts (batch rows cycle
  through them); wall time includes its vocoder; audio seconds are what it returned.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ttsbench.errors import InputError
from ttsbench.metrics.cost.speed import DTYPES, SpeedConfig

VAE_RATE = 40.0  # DiTAR's latent frames per second (§3.5.1); the NAR baseline shares it
CODE_RATE = 40.0  # our DiSTAR's code frames per second: an RVQ over the 40 Hz latent (the paper's codec: 64 Hz)


def _compile(module: torch.nn.Module, cfg: SpeedConfig, *, dynamic: bool = False) -> Any:
    if not (cfg.compile or cfg.cuda_graphs):
        return module
    mode = "reduce-overhead" if cfg.cuda_graphs else "default"
    return torch.compile(module, mode=mode, dynamic=dynamic)


def _text_tokens(cfg: SpeedConfig) -> int:
    return round(cfg.prompt_seconds * cfg.text_rate) + round(cfg.target_seconds * cfg.text_rate)


class PatchARWorkload:
    """What DiTAR's and DiSTAR's timed runs share: per-row generators, a full run, the first patch.

    Subclasses set `model`, `cfg` (SpeedConfig), `mcfg`, `sampler`, `gen`, `patches`, `rate` (frames
    per second) and fill `inputs = (phones, prompts)` in `prepare`.
    """

    streaming = True
    random_weights = True
    rate = VAE_RATE

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


class DiTARWorkload(PatchARWorkload):
    """A random-weight DiTAR generating exactly `target_seconds` per row."""

    def __init__(self, size: str, cfg: SpeedConfig) -> None:
        from ttsbench.systems.ditar.config import DiTARConfig
        from ttsbench.systems.speech.patch_ar import GenerationConfig
        from ttsbench.systems.ditar.model import DiTAR
        from ttsbench.systems.speech.sampling import SamplerConfig

        overrides = {"patch_size": cfg.patch_size} if cfg.patch_size else {}
        mcfg = DiTARConfig.from_size(size, **overrides)
        torch.manual_seed(cfg.seed)
        model = DiTAR(mcfg).to(device=cfg.device, dtype=DTYPES[cfg.dtype]).eval()
        model.encoder = _compile(model.encoder, cfg)
        model.locdit = _compile(model.locdit, cfg)
        model.lm = _compile(model.lm, cfg, dynamic=True)
        self.model, self.cfg, self.mcfg = model, cfg, mcfg
        self.name = f"ditar-{size}" + (f"-p{cfg.patch_size}" if cfg.patch_size else "")
        self.patches = math.ceil(math.ceil(cfg.target_seconds * VAE_RATE) / mcfg.patch_size)
        self.sampler = SamplerConfig(nfe=cfg.nfe, guidance_scale=cfg.guidance)
        # min = max patches and a stop threshold above 1: the stop head can never end a row early
        self.gen = GenerationConfig(max_patches=self.patches, min_patches=self.patches, stop_threshold=2.0)
        self.inputs: tuple[Any, ...] = ()

    def prepare(self, batch: int) -> None:
        g = torch.Generator().manual_seed(self.cfg.seed)
        n_text, n_prompt = _text_tokens(self.cfg), math.ceil(self.cfg.prompt_seconds * VAE_RATE)
        phones = [torch.randint(1, self.mcfg.phone_vocab, (n_text,), generator=g).tolist() for _ in range(batch)]
        prompts = [torch.randn(n_prompt, self.mcfg.latent_dim, generator=g).to(self.cfg.device) for _ in range(batch)]
        self.inputs = (phones, prompts)

    def describe(self) -> dict[str, Any]:
        return {"model": "DiTAR", "patch_size": self.mcfg.patch_size, "history_patches": self.mcfg.history_patches,
                "parameters": sum(p.numel() for p in self.model.parameters()), "patches_per_row": self.patches}


class DiSTARWorkload(PatchARWorkload):
    """A random-weight DiSTAR generating exactly `target_seconds` of 40 Hz codes per row."""

    rate = CODE_RATE

    def __init__(self, size: str, cfg: SpeedConfig) -> None:
        from ttsbench.systems.distar.config import DiSTARConfig
        from ttsbench.systems.distar.infill import InfillConfig
        from ttsbench.systems.distar.model import DiSTAR
        from ttsbench.systems.speech.patch_ar import GenerationConfig

        mcfg = DiSTARConfig.from_size(size, **({"patch_size": cfg.patch_size} if cfg.patch_size else {}))
        self.layers = cfg.layers or mcfg.num_layers
        if not 1 <= self.layers <= mcfg.num_layers:
            raise InputError(f"--layers {cfg.layers}: distar-{size} has J = {mcfg.num_layers} RVQ layers; "
                             f"choose 1..{mcfg.num_layers}")
        torch.manual_seed(cfg.seed)
        model = DiSTAR(mcfg).to(device=cfg.device, dtype=DTYPES[cfg.dtype]).eval()
        model.encoder = _compile(model.encoder, cfg)
        model.mdm = _compile(model.mdm, cfg)  # forward compiled; .logits (the heads) runs eagerly
        model.lm = _compile(model.lm, cfg, dynamic=True)
        self.model, self.cfg, self.mcfg = model, cfg, mcfg
        self.name = f"distar-{size}" + (f"-p{cfg.patch_size}" if cfg.patch_size else "")
        self.frames = math.ceil(cfg.target_seconds * CODE_RATE)
        self.patches = math.ceil(self.frames / mcfg.patch_size)
        self.sampler = InfillConfig(steps=cfg.steps, layers=self.layers,
                                    cfg_scale=InfillConfig.cfg_scale if cfg.guidance != 0 else 1.0)
        # min = max patches and a stop threshold above 1: the stop head can never end a row early
        self.gen = GenerationConfig(max_patches=self.patches, min_patches=self.patches, stop_threshold=2.0)
        self.inputs: tuple[Any, ...] = ()

    def prepare(self, batch: int) -> None:
        g = torch.Generator().manual_seed(self.cfg.seed)
        c = self.mcfg
        n_text, n_prompt = _text_tokens(self.cfg), math.ceil(self.cfg.prompt_seconds * CODE_RATE)
        phones = [torch.randint(1, c.phone_vocab, (n_text,), generator=g).tolist() for _ in range(batch)]
        prompts = [torch.randint(0, c.codebook_size, (n_prompt, c.num_layers), generator=g).to(self.cfg.device)
                   for _ in range(batch)]
        self.inputs = (phones, prompts)

    def describe(self) -> dict[str, Any]:
        c, s = self.mcfg, self.sampler
        calls, kbps = min(s.steps, c.patch_size * self.layers), c.kbps(CODE_RATE, self.layers)
        params = sum(p.numel() for p in self.model.parameters())
        cfg_words = f"history CFG s = {s.cfg_scale:g} (2 passes batched)" if s.guided else "no CFG"
        note = (f"DiSTAR, random weights, {CODE_RATE:g} Hz RVQ codes ({self.cfg.target_seconds:g} s = {self.frames} "
                f"frames = {self.patches} patches at P = {c.patch_size}); L' = {self.layers} of J = {c.num_layers} "
                f"layers x {math.log2(c.codebook_size):g} bits = {kbps:.4g} kbps; N = {s.steps} MDM steps per patch "
                f"({calls} network calls: min(N, P x L')); {cfg_words}; {c.layout} layout, {c.head} heads; "
                f"{params / 1e6:.4g} M parameters")
        return {"model": "DiSTAR", "nfe": None, "steps": s.steps, "mdm_calls_per_patch": calls, "layers": self.layers,
                "num_layers": c.num_layers, "layout": c.layout, "head": c.head, "kbps": kbps,
                "frame_rate_hz": CODE_RATE, "cfg_scale": s.cfg_scale, "patch_size": c.patch_size,
                "history_patches": c.history_patches, "parameters": params, "patches_per_row": self.patches,
                "note": note}


class NARWorkload:
    """The random-weight NAR baseline over a fixed prompt + target length."""

    streaming = False
    random_weights = True

    def __init__(self, size: str, cfg: SpeedConfig) -> None:
        from ttsbench.systems.speech.sampling import SamplerConfig
        from ttsbench.systems.nar.config import NARConfig
        from ttsbench.systems.nar.model import NARDiT

        if cfg.patch_size:
            raise InputError("--patch-size applies to DiTAR only; the NAR baseline has no patches")
        torch.manual_seed(cfg.seed)
        model = NARDiT(NARConfig.from_size(size)).to(device=cfg.device, dtype=DTYPES[cfg.dtype]).eval()
        model.backbone = _compile(model.backbone, cfg)
        self.model, self.cfg, self.name = model, cfg, f"nar-dit-{size}"
        self.sampler = SamplerConfig(nfe=cfg.nfe, guidance_scale=cfg.guidance)
        self.prompt_frames = math.ceil(cfg.prompt_seconds * VAE_RATE)
        self.total = self.prompt_frames + math.ceil(cfg.target_seconds * VAE_RATE)
        self.inputs: tuple[Any, ...] = ()

    def prepare(self, batch: int) -> None:
        g = torch.Generator().manual_seed(self.cfg.seed)
        mcfg = self.model.cfg
        prompt = torch.randn(batch, self.prompt_frames, mcfg.latent_dim, generator=g)
        text = torch.zeros(batch, self.total, dtype=torch.long)
        text[:, :_text_tokens(self.cfg)] = torch.randint(1, mcfg.text_vocab, (batch, _text_tokens(self.cfg)), generator=g)
        self.inputs = (prompt.to(self.cfg.device), text.to(self.cfg.device))

    def run(self) -> float:
        prompt, text = self.inputs
        gen = torch.Generator(device=self.cfg.device).manual_seed(self.cfg.seed)
        out = self.model.generate(prompt, text, self.sampler, generator=gen)
        return out.shape[1] / VAE_RATE

    def first(self) -> None:
        self.run()

    def describe(self) -> dict[str, Any]:
        c = self.model.cfg
        return {"model": "NAR DiT", "config": f"{c.layers} x {c.dim} / {c.ffn}",
                "parameters": self.model.num_parameters(), "frames_per_row": self.total}


class SystemWorkload:
    """Any registered system's `synthesize`, on the embedded demo prompts."""

    streaming = False

    def __init__(self, name: str, cfg: SpeedConfig) -> None:
        from ttsbench.plugins import SYSTEMS
        from ttsbench.prompt_sets import load_prompt_set
        from ttsbench.types import LoadContext, SystemSpec

        spec = SystemSpec.parse(name)
        cls = SYSTEMS.get(spec.name)
        self.system = cls.load(spec, LoadContext.from_env(device=cfg.device))
        self.random_weights = bool(cls.capabilities.random_weights)
        self.name, self.cfg = name, cfg
        self.pool = load_prompt_set("demo").prompts
        self.batch: list[Any] = []

    def prepare(self, batch: int) -> None:
        self.batch = [self.pool[i % len(self.pool)] for i in range(batch)]

    def run(self) -> float:
        wavs = self.system.synthesize(self.batch, seed=self.cfg.seed)
        return sum(len(w) for w in wavs) / len(wavs) / self.system.sample_rate

    def first(self) -> None:
        self.run()

    def describe(self) -> dict[str, Any]:
        return {"model": type(self.system).__name__, "workload": "synthesize() on the demo prompts, vocoder included"}


def build_workload(name: str, cfg: SpeedConfig, *, end_to_end: bool = False) -> Any:
    """`ditar-<size>`, `distar-<size>`, `nar-dit-<size>` (model workloads), or any registered system
    name (with `:options`) through `synthesize`; `end_to_end` sends the first three through it too."""
    from ttsbench.systems.distar.config import SIZES as DISTAR_SIZES
    from ttsbench.systems.ditar.config import SIZES as DITAR_SIZES
    from ttsbench.systems.nar.config import SIZES as NAR_SIZES

    if end_to_end:
        return SystemWorkload(name, cfg)
    if name.startswith("ditar-") and name[len("ditar-"):] in DITAR_SIZES:
        return DiTARWorkload(name[len("ditar-"):], cfg)
    if name.startswith("distar-") and name[len("distar-"):] in DISTAR_SIZES:
        return DiSTARWorkload(name[len("distar-"):], cfg)
    if name.startswith("nar-dit-") and name[len("nar-dit-"):] in NAR_SIZES:
        return NARWorkload(name[len("nar-dit-"):], cfg)
    return SystemWorkload(name, cfg)
