"""The NAR baseline's cost: its architecture specs, counted FLOPs, timed workload and parameters.

Registered here, so the cost layer (`ttsbench.metrics.cost`) never imports the model:

- `ARCHS`: "nar-dit-{tiny,0.1b,0.6b}" (NFE 10, x2 CFG): one non-causal DiT over the time token +
  prompt + target frames (text summed in-frame), x NFE, x2 with CFG;
- `MODELS["nar-dit"]`: counted FLOPs, the `nar-dit-<size>` speed workload (random weights over a
  fixed prompt + target length; latency = the whole generation, a NAR model emits nothing
  earlier) and parameters per component.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ttsbench.errors import InputError
from ttsbench.metrics.cost.analytic import setup_scope
from ttsbench.metrics.cost.counted import CountedCost, Counter, count_torch, total_of
from ttsbench.metrics.cost.model_cost import ModelCost, parameter_count
from ttsbench.metrics.cost.spec import ArchSpec, Block, CostSetup, Length, resolve_terms
from ttsbench.metrics.cost.speed import DTYPES, SpeedConfig, maybe_compile, text_tokens
from ttsbench.plugins import ARCHS, MODELS
from ttsbench.systems.nar.config import SIZES, NARConfig
from ttsbench.systems.nar.model import NARDiT
from ttsbench.systems.speech.cost import LATENT_RATE
from ttsbench.systems.speech.sampling import SamplerConfig

L = Length.of


def nar_arch(cfg: NARConfig, *, nfe: int = 10, guidance: bool = True, name: str = "nar-dit",
             label: str | None = None) -> ArchSpec:
    """The ArchSpec of a NARConfig: one non-causal DiT over the time token + prompt + target frames
    (text summed in-frame), x NFE, x2 with CFG."""
    mats = 3 if cfg.ffn_act == "swiglu" else 2
    block = Block("DiT over the full sequence", "transformer", cfg.layers, cfg.dim, ffn=cfg.ffn, ffn_mats=mats,
                  length=L(one=1, prompt=1, target=1), per_nfe=True, guided=True)
    return ArchSpec(
        name=name, label=label or f"{name} (NFE={nfe})", blocks=(block,), frame_rate=cfg.frame_rate,
        params=f"{cfg.layers}x{cfg.dim}/{cfg.ffn}", nfe=nfe, guidance=guidance, model="nar-dit", model_config=cfg,
        sources=("ttsbench.systems.nar.config.NARConfig: DiTAR's blocks (systems/speech/layers.py), "
                 "E2/F5-style text in-frame, fixed total duration",),
        assumptions=("the time token is one extra position; text and prompt are summed in-frame",),
    )


for _size, _cfg in SIZES.items():
    ARCHS.add(f"nar-dit-{_size}", nar_arch(_cfg, nfe=10, name=f"nar-dit-{_size}"))


def counted_nar(model: NARDiT, setup: CostSetup | None = None, *, nfe: int = 10, guidance: float = 1.0,
                counter: Counter = count_torch) -> CountedCost:
    """Count a NARDiT for one utterance of `setup`: one guided evaluation x NFE."""
    setup = setup or CostSetup()
    cfg = model.cfg
    spec = nar_arch(cfg, nfe=nfe, guidance=guidance != 0)
    terms = resolve_terms(spec, CostSetup(setup.prompt_seconds, setup.target_seconds, setup.text_rate))
    p = next(model.parameters())
    rows = 2 if guidance else 1  # the conditional and unconditional passes run as one 2B batch
    T = terms["prompt"] + terms["target"]
    x = torch.zeros(rows, T, cfg.latent_dim, device=p.device, dtype=p.dtype)
    t = torch.full((rows,), 0.5, device=p.device)
    text = torch.zeros(rows, T, dtype=torch.long, device=p.device)
    per_eval = counter(model, x, t, x, text).flops
    return total_of({"NAR DiT (guided evaluation)": (per_eval, nfe)}, counter,
                    f"{setup_scope(setup)}. counted NAR DiT, NFE {nfe}" + (", both CFG passes" if guidance else ""))


def counted_tflops(spec: ArchSpec, setup: CostSetup, nfe: int | None, guided: bool) -> float:
    """torch-counted TFLOPs of the NAR DiT behind `spec`, built on the meta device."""
    with torch.device("meta"):
        model = NARDiT(spec.model_config)
    return counted_nar(model, setup, nfe=nfe or 10, guidance=float(guided)).total.tflops


class NARWorkload:
    """The random-weight NAR baseline over a fixed prompt + target length."""

    streaming = False
    random_weights = True

    def __init__(self, size: str, cfg: SpeedConfig) -> None:
        if cfg.patch_size:
            raise InputError("--patch-size applies to DiTAR only; the NAR baseline has no patches")
        torch.manual_seed(cfg.seed)
        model = NARDiT(NARConfig.from_size(size)).to(device=cfg.device, dtype=DTYPES[cfg.dtype]).eval()
        model.backbone = maybe_compile(model.backbone, cfg)
        self.model, self.cfg, self.name = model, cfg, f"nar-dit-{size}"
        self.sampler = SamplerConfig(nfe=cfg.nfe, guidance_scale=cfg.guidance)
        self.prompt_frames = math.ceil(cfg.prompt_seconds * LATENT_RATE)
        self.total = self.prompt_frames + math.ceil(cfg.target_seconds * LATENT_RATE)
        self.inputs: tuple[Any, ...] = ()

    def prepare(self, batch: int) -> None:
        g = torch.Generator().manual_seed(self.cfg.seed)
        mcfg = self.model.cfg
        prompt = torch.randn(batch, self.prompt_frames, mcfg.latent_dim, generator=g)
        text = torch.zeros(batch, self.total, dtype=torch.long)
        n_text = text_tokens(self.cfg)
        text[:, :n_text] = torch.randint(1, mcfg.text_vocab, (batch, n_text), generator=g)
        self.inputs = (prompt.to(self.cfg.device), text.to(self.cfg.device))

    def run(self) -> float:
        prompt, text = self.inputs
        gen = torch.Generator(device=self.cfg.device).manual_seed(self.cfg.seed)
        out = self.model.generate(prompt, text, self.sampler, generator=gen)
        return out.shape[1] / LATENT_RATE

    def first(self) -> None:
        self.run()

    def describe(self) -> dict[str, Any]:
        c = self.model.cfg
        return {"model": "NAR DiT", "config": f"{c.layers} x {c.dim} / {c.ffn}",
                "parameters": self.model.num_parameters(), "frames_per_row": self.total}


def parameters(cfg: NARConfig) -> dict[str, int]:
    """Parameters of each NAR DiT component (meta device); "total" = their sum."""
    with torch.device("meta"):
        model = NARDiT(cfg)

    n = parameter_count

    parts = {"text_table": n(model.text_emb), "in_proj": n(model.in_proj), "time_mlp": n(model.time),
             "backbone": n(model.backbone), "out_proj": n(model.out_proj)}
    parts["total"] = n(model)
    return parts


MODELS.add("nar-dit", ModelCost(
    name="nar-dit", label="NAR DiT", sizes=SIZES, parameters=parameters, counted=counted_tflops,
    workload=NARWorkload, nominal={"tiny": "(tests)", "0.1b": "= ditar-0.1b", "0.6b": "= ditar-0.6b"},
    parameters_note="The equal-size NAR baseline (random weights, for timing): DiT backbone plus its projections",
    description="NAR DiT baseline of DiTAR's sizes (E2/F5-style, random weights; Table 7 timing)"))
