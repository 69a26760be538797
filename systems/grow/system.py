"""Registered GROW systems: `grow-0.6b` (01_pretrain, EMA weights) and `grow-0.6b-rl` (03_grow_nfe10,
GROW's RL fine-tune); both GROW's DiTAR-0.6B (docs/grow.md), 16 kHz output.

Weights (nothing is downloaded; `<cache_dir>` is --cache-dir / $TTSBENCH_CACHE):
- `checkpoint=DIR` a folder written by `ttsbench convert grow`, or GROW's own `model_*.pt` (or its
  folder), converted on the fly into `<cache_dir or work_dir>/grow-converted/<sha256>/`;
  default `<cache_dir>/grow-0.6b/` (`grow-0.6b-rl/` for the RL system);
- `qwen=DIR` Qwen/Qwen3-0.6B's tokenizer.json (default `<cache_dir>/Qwen3-0.6B/`);
- `vae=DIR` zkniu/Semantic-VAE's `semantic_vae_1000k/` (default `<cache_dir>/Semantic-VAE/semantic_vae_1000k/`).
Without them the load fails in one line naming the hub files; `random_weights=true` builds random
weights (timing only: UTF-8 bytes for text, a random Semantic-VAE).

Protocol (GROW's eval_8gpu.sh): prompt audio at 16 kHz as read (no loudness normalisation), prompt
latents sampled from the VAE posterior, BPE of prompt text + target text without a space, NFE 32
Euler, sway -1, CFG 2.0 'stage', 10..250 patches (1..25 s), only the generated audio returned.
Seeds: each utterance's generator comes from (seed, utt_id) like every system here; `fixed_seed=666`
seeds every utterance with 666 as GROW's evaluation does (its `sample(seed=666)`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ttsbench.audio import read_audio, resample
from ttsbench.errors import MissingModelError
from ttsbench.options import option
from ttsbench.paths import file_sha256
from ttsbench.plugins import SYSTEMS
from ttsbench.systems.base import Capabilities, TTSSystem, item_rng
from ttsbench.systems.grow.config import GrowConfig
from ttsbench.systems.grow.convert import CONFIG_FILE, convert, load_converted
from ttsbench.systems.grow.cost import grow_arch
from ttsbench.systems.grow.model import GrowModel
from ttsbench.systems.grow.sampler import STAGES, GrowSampling, sample
from ttsbench.systems.grow.semantic_vae import SemanticVAE, SemanticVAEConfig, load_semantic_vae
from ttsbench.systems.grow.text import ByteText, QwenText
from ttsbench.types import LoadContext, Prompt, SystemSpec

HUB = ("hub yhaha/GROW {ckpt} (+config.yaml), Qwen/Qwen3-0.6B tokenizer.json, "
       "zkniu/Semantic-VAE semantic_vae_1000k/{{metainfo.json,dac/ema_state_dict.pth}}")
BYTES_PER_SECOND = 14.0  # random weights: UTF-8 characters of text per second of speech, for lengths


class GrowSystem(TTSSystem):
    """GROW's DiTAR-0.6B, batch 1 (as GROW's sampler and evaluation run)."""

    folder = "grow-0.6b"
    hub_ckpt = "01_pretrain/model_200000.pt"
    sample_rate = 16_000
    capabilities = Capabilities(zero_shot=True, needs_prompt_text=True, streaming=False, max_batch=1)

    @dataclass(frozen=True)
    class Options:
        nfe: int = option(32, "Euler steps per patch (each = 2 LocDiT passes when cfg > 0)", min=1)
        cfg: float = option(2.0, "guidance scale w, F5 convention v_c + w (v_c - v_u) (0 = off)", min=0)
        sway: float = option(-1.0, "sway-sampling coefficient of the time grid")
        strategy: str = option("stage", "guidance schedule: stage (GROW's) or base (constant w)", choices=STAGES)
        min_patches: int = option(10, "no stop before this many patches (0.4 s each)", min=0)
        max_patches: int = option(250, "at most this many patches", min=1)
        stop_threshold: float = option(0.5, "stop when P(stop) exceeds it (> 1 disables the stop head)")
        fixed_seed: int = option(-1, "seed every utterance with this (GROW's eval: 666); -1: from (seed, utt)",
                                 min=-1)
        qwen: str = option("", "Qwen3-0.6B folder with tokenizer.json (default <cache_dir>/Qwen3-0.6B)")
        vae: str = option("", "Semantic-VAE folder (default <cache_dir>/Semantic-VAE/semantic_vae_1000k)")
        dtype: str = option("fp32", "bf16 runs the model under autocast (CUDA)", choices=("fp32", "bf16"))
        random_weights: bool = option(False, "random weights without a checkpoint (timing only)")
        weight_seed: int = option(0, "seed of the random weights")

    def __init__(self, model: GrowModel, vae: SemanticVAE, text: Any, options: Any, *, weights: str,
                 random_weights: bool, lengths_given: bool = False) -> None:
        self.model, self.vae, self.text, self.options = model, vae, text, options
        self.weights, self.random_weights = weights, random_weights
        # random weights have a meaningless stop head: lengths come from the text unless min/max are given
        self.length_from_text = random_weights and not lengths_given and options.stop_threshold <= 1
        self.sampling = GrowSampling(nfe=options.nfe, cfg=options.cfg, sway=options.sway, strategy=options.strategy,
                                     min_patches=min(options.min_patches, options.max_patches),
                                     max_patches=options.max_patches, stop_threshold=options.stop_threshold)

    @classmethod
    def load(cls, spec: SystemSpec, ctx: LoadContext) -> GrowSystem:
        o = cls.parse_options(spec)
        cache = ctx.cache_dir
        path = Path(spec.checkpoint) if spec.checkpoint else (cache / cls.folder if cache else None)
        if not o.random_weights:
            qwen = Path(o.qwen) if o.qwen else (cache / "Qwen3-0.6B" if cache else None)
            vae_dir = Path(o.vae) if o.vae else (cache / "Semantic-VAE" / "semantic_vae_1000k" if cache else None)
            if path is None or not path.exists() or qwen is None or vae_dir is None:
                raise MissingModelError(f"{spec.name}: needs GROW's weights: {HUB.format(ckpt=cls.hub_ckpt)}; "
                                        f"pass checkpoint=PATH,qwen=DIR,vae=DIR or put them under <cache_dir>")
            model, meta = load_converted(_converted_folder(path, cache or ctx.work_dir))
            text: Any = QwenText(qwen)
            vae = load_semantic_vae(vae_dir)
            weights = f"{meta['source']['path']} sha256:{meta['source']['sha256']} ({meta['source']['kind']})"
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(o.weight_seed)
                model, vae = GrowModel(GrowConfig()), SemanticVAE(SemanticVAEConfig())
            text, weights = ByteText(), f"random (seed {o.weight_seed})"
        model = model.to(ctx.device).eval()
        vae = vae.to(ctx.device).eval()
        given = any(k in spec.options for k in ("min_patches", "max_patches"))
        return cls(model, vae, text, o, weights=weights, random_weights=o.random_weights, lengths_given=given)

    def synthesize(self, batch: Sequence[Prompt], *, seed: int) -> list[np.ndarray]:
        return [self._one(p, seed) for p in batch]

    @torch.no_grad()
    def _one(self, p: Prompt, seed: int) -> np.ndarray:
        dev = next(self.model.parameters()).device
        s = self.options.fixed_seed
        item_seed = s if s >= 0 else int(item_rng(seed, p.utt_id).integers(2**62))
        g = torch.Generator().manual_seed(item_seed)
        wav, _ = read_audio(p.prompt_wav, self.sample_rate)
        mean, logvar = self.vae.encode(torch.from_numpy(wav)[None].to(dev))
        # GROW's encode draws a posterior sample it discards, then process_online draws the one it uses
        torch.randn(mean.shape, generator=g)
        prompt = mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=g).to(dev)
        ids = torch.tensor([self.text.encode(p.prompt_text, p.target_text)], device=dev)
        sampling = self.sampling
        if self.length_from_text:
            n = max(1, math.ceil(len(p.target_text.encode()) / BYTES_PER_SECOND * self.vae.frame_rate
                                 / self.model.cfg.patch_size))
            sampling = GrowSampling(**{**asdict(sampling), "min_patches": n, "max_patches": n, "stop_threshold": 2.0})
        with self._autocast(dev):
            latents, _ = sample(self.model, ids, prompt, g, sampling)
        if latents.shape[1] == 0:
            return np.zeros(0, dtype=np.float32)
        out = self.vae.decode(latents.float())[0].cpu().numpy().astype(np.float32)
        if self.random_weights:
            out = out / max(1.0, float(np.abs(out).max()) / 0.9)
        return out

    def _autocast(self, dev: torch.device) -> contextlib.AbstractContextManager:
        if self.options.dtype == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=dev.type, dtype=torch.bfloat16)

    @torch.no_grad()
    def resynthesize(self, wav: np.ndarray, sample_rate: int) -> np.ndarray | None:
        dev = next(self.model.parameters()).device
        x = torch.from_numpy(resample(wav, sample_rate, self.sample_rate))[None].to(dev)
        return self.vae.decode(self.vae.encode(x)[0])[0].cpu().numpy().astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {"size": "0.6b", "weights": self.weights, "random_weights": self.random_weights,
                "parameters": sum(p.numel() for p in self.model.parameters()),
                "model_config": asdict(self.model.cfg), "sampling": asdict(self.sampling),
                "nfe_convention": "Euler steps per patch; each = cond + ctx-zeroed LocDiT passes when cfg > 0",
                "seed": "fixed %d" % self.options.fixed_seed if self.options.fixed_seed >= 0 else "(seed, utt_id)",
                "prompt_audio": "16 kHz as read, no loudness normalisation; latents sampled from the posterior",
                "text": self.text.describe(), "tokenizer": self.vae.describe(), "dtype": self.options.dtype,
                "sample_rate": self.sample_rate}

    def arch(self) -> Any:
        return grow_arch(self.model.cfg, nfe=self.sampling.nfe, guidance=self.sampling.cfg != 0,
                         name=self.registry_name or "grow-0.6b")


def _converted_folder(path: Path, cache: Path | None) -> Path:
    """A converted folder as is; GROW's .pt (or its folder) converted once into the cache."""
    if path.is_dir() and (path / CONFIG_FILE).is_file():
        return path
    pt = path if path.is_file() else next(iter(sorted(path.glob("model_*.pt"))), None)
    if pt is None:
        raise MissingModelError(f"{path}: neither a converted GROW folder ({CONFIG_FILE}) nor GROW's model_*.pt")
    if cache is None:
        raise MissingModelError(f"{pt}: converting GROW's checkpoint needs a cache folder (--cache-dir)")
    out = Path(cache) / "grow-converted" / file_sha256(pt)[:16]
    if not (out / CONFIG_FILE).is_file():
        convert(pt, out)
    return out


@SYSTEMS.register("grow-0.6b")
class Grow06B(GrowSystem):
    """GROW's pretrained DiTAR-0.6B (yhaha/GROW 01_pretrain, EMA weights, 200k steps); 16 kHz."""


@SYSTEMS.register("grow-0.6b-rl")
class Grow06BRL(GrowSystem):
    """GROW's RL fine-tune of it (yhaha/GROW 03_grow_nfe10/model_750.pt, the paper's GROW row); 16 kHz."""

    folder = "grow-0.6b-rl"
    hub_ckpt = "03_grow_nfe10/model_750.pt"


