"""GROW's cost: its ArchSpec (`ttsbench flops --system grow-0.6b`), counted FLOPs and the speed workload.

- `ARCHS["grow-0.6b"]` / `["grow-0.6b-rl"]` (same network): the A.4 formulas with GROW's own sizes
  (Qwen3-0.6B LM 28 x 1024 / SwiGLU 3072, encoder 6 x 1024 / SwiGLU 4096, LocDiT 6 x 1024 / GELU 4096),
  NFE 32 Euler steps per patch, each x2 for CFG.
- `MODELS["grow"]`: torch-counted FLOPs of our GrowModel (exact widths: GQA, 128-wide heads), the
  `grow-<size>` speed workload (random weights, exactly `target_seconds` per row, KV cache, rows one
  after another: GROW samples at batch 1) and parameters per component.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ttsbench.metrics.cost.analytic import setup_scope
from ttsbench.metrics.cost.counted import CountedCost, Counter, count_torch, total_of
from ttsbench.metrics.cost.model_cost import ModelCost, parameter_count
from ttsbench.metrics.cost.spec import ArchSpec, Block, CostSetup, Length, resolve_terms
from ttsbench.metrics.cost.speed import DTYPES, SpeedConfig, text_tokens
from ttsbench.plugins import ARCHS, MODELS
from ttsbench.systems.grow.config import GrowConfig
from ttsbench.systems.grow.model import GrowModel
from ttsbench.systems.grow.sampler import GrowSampling, sample

L = Length.of
FRAME_RATE = 40.0  # Semantic-VAE latent frames per second (16 kHz / hop 400)
SIZES = {"0.6b": GrowConfig(), "tiny": GrowConfig.tiny()}


def grow_arch(cfg: GrowConfig, *, nfe: int = 32, guidance: bool = True, name: str = "grow-0.6b",
              label: str | None = None) -> ArchSpec:
    """The ArchSpec of a GrowConfig: encoder per patch, causal LM (prefix + one step per patch),
    LocDiT over [h | history | P noisy frames] `nfe` times per patch (x2 with guidance)."""
    blocks = (
        Block("aggregation encoder", "transformer", cfg.enc_layers, cfg.dim, ffn=cfg.enc_ffn, ffn_mats=3,
              length=L(one=1, patch=1), calls=L(prompt_patches=1, target_patches=1)),
        Block("LM", "causal", cfg.lm_layers, cfg.dim, ffn=cfg.lm_ffn, ffn_mats=3,
              length=L(text=1, prompt_patches=1), steps=L(target_patches=1)),
        Block("LocDiT", "transformer", cfg.dit_layers, cfg.dim, ffn=cfg.dim * cfg.dit_ff_mult, ffn_mats=2,
              length=L(one=1, history=1, patch=1), calls=L(target_patches=1), per_nfe=True, guided=True),
    )
    return ArchSpec(
        name=name, label=label or f"GROW DiTAR-0.6B (NFE={nfe} Euler steps)", blocks=blocks, frame_rate=FRAME_RATE,
        params=f"{cfg.enc_layers}+{cfg.lm_layers}+{cfg.dit_layers}L", nfe=nfe, guidance=guidance,
        patch_size=cfg.patch_size, history=max(1, cfg.history_frames // cfg.patch_size), model="grow",
        model_config=cfg,
        sources=("GROW 1527cdf: src/DiTAR/configs/t1_ditar_0.6b_semanticvae.yaml (encoder 6x1024/4096, LocDiT "
                 "6x1024, patch 4, history 4 frames), Qwen3-0.6B config (LM 28x1024/3072), eval_8gpu.sh "
                 "(NFE 32 Euler, CFG 2.0 stage, sway -1)",),
        assumptions=("A.4 counts attention projections as 4 D^2 per token; GROW's are wider (LM: q 2048, k/v "
                     "1024 each, o 2048 -> 6 D^2; encoder: q/o 2048, k/v 128 -> 4.25 D^2): "
                     "`ttsbench flops --counted` counts the real widths",
                     "text length: the setup's text rate (GROW's BPE is ~4 tokens/s of speech, fewer than phones)",
                     "one LM decoding step per target patch (KV cache; GROW's own loop recomputes the prefix)"),
    )


ARCHS.add("grow-0.6b", grow_arch(SIZES["0.6b"], name="grow-0.6b"))
ARCHS.add("grow-0.6b-rl", grow_arch(SIZES["0.6b"], name="grow-0.6b-rl",
                                    label="GROW-RL DiTAR-0.6B (NFE=32 Euler steps)"))


def counted_grow(model: GrowModel, setup: CostSetup | None = None, *, nfe: int = 32, guided: bool = True,
                 counter: Counter = count_torch) -> CountedCost:
    """Count one utterance: encoder passes, LM prefill + decode steps, LocDiT evaluations (x2 guided)."""
    setup = setup or CostSetup()
    cfg = model.cfg
    terms = resolve_terms(grow_arch(cfg, nfe=nfe, guidance=guided), setup)
    p = next(model.parameters())
    dev, dt = p.device, p.dtype
    P, C, D = cfg.patch_size, cfg.latent_dim, cfg.dim
    prefix, steps = terms["text"] + terms["prompt_patches"], terms["target_patches"]
    ones = torch.ones(1, P, dtype=torch.bool, device=dev)
    enc = counter(model.encoder, torch.zeros(1, P, C, device=dev, dtype=dt), ones).flops
    pos = torch.arange(prefix, device=dev)[None]
    prefill = counter(model.lm_hidden, torch.zeros(1, prefix, D, device=dev, dtype=dt), pos).flops

    def step(context: int) -> int:  # affine in the context length: count the first and the last
        cache = [[torch.zeros(1, cfg.lm_kv_heads, context - 1, cfg.lm_head_dim, device=dev, dtype=dt)] * 2
                 for _ in model.lm.layers]
        return counter(model.lm_hidden, torch.zeros(1, 1, D, device=dev, dtype=dt),
                       torch.full((1, 1), context - 1, device=dev), None, cache).flops

    decode = (steps * (step(prefix + 1) + step(prefix + steps))) // 2 if steps else 0
    t_emb = torch.zeros(1, D, device=dev, dtype=dt)
    loc = counter(model.locdit, torch.zeros(1, 1, D, device=dev, dtype=dt),
                  torch.zeros(1, cfg.history_frames, D, device=dev, dtype=dt),
                  torch.zeros(1, P, C, device=dev, dtype=dt), t_emb).flops
    pieces = {"aggregation encoder": (enc, terms["prompt_patches"] + steps), "LM prefill": (prefill, 1),
              "LM decode steps": (decode, 1), "LocDiT": (loc, steps * nfe * (2 if guided else 1))}
    return total_of(pieces, counter, f"{setup_scope(setup)}. counted GROW pieces x calls, NFE {nfe}"
                    + (", both CFG passes" if guided else ""))


def counted_tflops(spec: ArchSpec, setup: CostSetup, nfe: int | None, guided: bool) -> float:
    with torch.device("meta"):
        model = GrowModel(spec.model_config)
    return counted_grow(model, setup, nfe=nfe or spec.nfe, guided=guided).total.tflops


class GrowWorkload:
    """Random-weight GrowModel generating exactly `target_seconds` per row (stop head off), batch 1 per row."""

    streaming = True
    random_weights = True

    def __init__(self, size: str, cfg: SpeedConfig) -> None:
        self.cfg, self.size = cfg, size
        self.mcfg = SIZES[size]
        torch.manual_seed(cfg.seed)
        self.model = GrowModel(self.mcfg).to(device=cfg.device, dtype=DTYPES[cfg.dtype]).eval()
        self.name = f"grow-{size}"
        self.patches = math.ceil(cfg.target_seconds * FRAME_RATE / self.mcfg.patch_size)
        self.sampling = GrowSampling(nfe=cfg.nfe, cfg=2.0 if cfg.guidance else 0.0, min_patches=self.patches,
                                     max_patches=self.patches, stop_threshold=2.0)
        self.rows: list[tuple[torch.Tensor, torch.Tensor]] = []

    def prepare(self, batch: int) -> None:
        g = torch.Generator().manual_seed(self.cfg.seed)
        n_text, n_prompt = text_tokens(self.cfg), math.ceil(self.cfg.prompt_seconds * FRAME_RATE)
        dt, dev = DTYPES[self.cfg.dtype], self.cfg.device
        self.rows = [(torch.randint(0, self.mcfg.vocab_size, (1, n_text), generator=g).to(dev),
                      torch.randn(1, n_prompt, self.mcfg.latent_dim, generator=g).to(dev, dt)) for _ in range(batch)]

    def _run(self, sampling: GrowSampling) -> None:
        for i, (ids, prompt) in enumerate(self.rows):
            sample(self.model, ids, prompt, torch.Generator().manual_seed(self.cfg.seed + i), sampling)

    def run(self) -> float:
        self._run(self.sampling)
        return self.patches * self.mcfg.patch_size / FRAME_RATE

    def first(self) -> None:
        one = GrowSampling(**{**self.sampling.__dict__, "min_patches": 1, "max_patches": 1})
        self._run(one)

    def describe(self) -> dict[str, Any]:
        return {"model": "GROW DiTAR", "patch_size": self.mcfg.patch_size, "history_frames": self.mcfg.history_frames,
                "parameters": sum(p.numel() for p in self.model.parameters()), "patches_per_row": self.patches,
                "batching": "rows one after another (GROW's sampler is batch 1)", "vocoder": "excluded"}


def parameters(cfg: GrowConfig) -> dict[str, int]:
    with torch.device("meta"):
        model = GrowModel(cfg)
    n = parameter_count
    parts = {"text_table": n(model.embed), "encoder": n(model.encoder), "lm": n(model.lm),
             "stop_head": n(model.stop_head), "locdit": n(model.locdit)}
    parts["total"] = n(model)
    return parts


MODELS.add("grow", ModelCost(
    name="grow", label="GROW", sizes=SIZES, parameters=parameters, counted=counted_tflops, workload=GrowWorkload,
    nominal={"0.6b": "0.6B (Qwen3-0.6B LM)", "tiny": "(tests)"},
    parameters_note="lm excludes the 151,936-row text table and the stop head; the Semantic-VAE is not counted",
    description="GROW's DiTAR-0.6B: Qwen3 LM + CLS aggregation encoder + F5 LocDiT"))
