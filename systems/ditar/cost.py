"""DiTAR's cost: its architecture specs, counted FLOPs, timed workload and parameter breakdown.

Registered here, so the cost layer (`ttsbench.metrics.cost`) never imports DiTAR:

- `ARCHS`: "ditar-0.6b" (the paper's Table 1 row, NFE=10 read as 9 LocDiT calls, see below) and
  "ditar-{tiny,0.1b,0.4b,1b}" (our sizes, 10 LocDiT calls per patch, x2 CFG);
- `MODELS["ditar"]`: counted FLOPs (`ttsbench flops --counted`), the `ditar-<size>` speed workload
  (random weights, exactly `target_seconds` per row, KV cache; latency = the first patch of
  latents, prompt prefill included), and parameters per component (`ttsbench params`).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ttsbench.metrics.cost.analytic import setup_scope
from ttsbench.metrics.cost.counted import CountedCost, Counter, count_torch, total_of
from ttsbench.metrics.cost.model_cost import ModelCost, parameter_count
from ttsbench.metrics.cost.spec import ArchSpec, Block, CostSetup, Length, resolve_terms
from ttsbench.metrics.cost.speed import DTYPES, SpeedConfig, maybe_compile
from ttsbench.plugins import ARCHS, MODELS
from ttsbench.systems.ditar.config import SIZES, DiTARConfig
from ttsbench.systems.ditar.model import DiTAR
from ttsbench.systems.speech.cost import LATENT_RATE, PatchARWorkload, lm_flops
from ttsbench.systems.speech.sampling import SamplerConfig

L = Length.of


def ditar_arch(cfg: DiTARConfig, *, nfe: int = 10, guidance: bool = True, frame_rate: float = LATENT_RATE,
               name: str = "ditar", label: str | None = None) -> ArchSpec:
    """The ArchSpec of a DiTARConfig (what `DiTARSystem.arch()` returns for the model it runs).

    Args:
        cfg: the model's sizes, patch size, history and FFN kind.
        nfe: LocDiT network calls per patch (this harness's NFE convention, not grid points).
        guidance: LM guidance on (the unconditional LocDiT pass doubles LocDiT's cost).
        frame_rate: latent frames per second of the tokenizer the model runs on.
    """
    mats = 3 if cfg.ffn_act == "swiglu" else 2
    blocks = (
        Block("aggregation encoder", "transformer", cfg.enc_layers, cfg.enc_dim, ffn=cfg.enc_ffn, ffn_mats=mats,
              length=L(one=1, patch=1), calls=L(prompt_patches=1, target_patches=1)),
        Block("LM", "causal", cfg.lm_layers, cfg.lm_dim, ffn=cfg.lm_ffn, ffn_mats=mats,
              length=L(text=1, prompt_patches=1), steps=L(target_patches=1)),
        Block("LocDiT", "transformer", cfg.dit_layers, cfg.dit_dim, ffn=cfg.dit_ffn, ffn_mats=mats,
              length=L(one=1, history=1, patch=1), calls=L(target_patches=1), per_nfe=True, guided=True),
    )
    return ArchSpec(
        name=name, label=label or f"{name} (NFE={nfe} calls)", blocks=blocks,
        frame_rate=frame_rate, params=f"{cfg.enc_layers}+{cfg.lm_layers}+{cfg.dit_layers}L", nfe=nfe,
        guidance=guidance, patch_size=cfg.patch_size, history=cfg.history_patches, model="ditar", model_config=cfg,
        sources=("ttsbench.systems.ditar.config.DiTARConfig (paper Table 8 sizes)",),
        assumptions=("encoder input = learnable token + P frames; LocDiT input = h(+t) token + history + P "
                     "noisy frames; one LM decoding step per target patch",),
    )


# The paper's Table 1 row: our 0.6b config is Table 8's 0.6B column, with the paper's own reading of NFE.
TABLE1_DITAR = ARCHS.register("ditar-0.6b")(ditar_arch(SIZES["0.6b"], nfe=9, name="ditar-0.6b").with_setting(
    label="DiTAR (NFE=10)", params="0.6B", paper_tflops=2.75,
    sources=("Jia et al. 2025, DiTAR, Table 8 (0.6B: encoder 6x1024/4096, LM 36x1024/4096, LocDiT "
             "6x1024/4096), §3.5 (40 Hz x 64 VAE latent, P=4, 1 history patch, LM guidance on LocDiT)",),
    assumptions=(
        "encoder input = learnable token + P frames; LocDiT input = (h + t) token + history + P noisy frames",
        "NFE: Algorithm 1 evaluates the network at N-1 of its N time points, so 'NFE=10' is taken as "
        "9 LocDiT calls per patch (x2 CFG): 2.753 TFLOPs; counting 10 calls gives 3.025 (+10 %)",
    )))
for _size, _cfg in SIZES.items():
    if _size != "0.6b":
        ARCHS.add(f"ditar-{_size}", ditar_arch(_cfg, nfe=10, name=f"ditar-{_size}"))


def counted_ditar(model: DiTAR, setup: CostSetup | None = None, *, nfe: int = 10, guidance: float = 1.0,
                  counter: Counter = count_torch) -> CountedCost:
    """Count a DiTAR for one utterance of `setup` (its own patch size and history): one encoder pass,
    the LM prefill and decode steps, and one guided LocDiT evaluation, each x its calls."""
    setup = setup or CostSetup()
    cfg = model.cfg
    spec = ditar_arch(cfg, nfe=nfe, guidance=guidance != 0)
    terms = resolve_terms(spec, CostSetup(setup.prompt_seconds, setup.target_seconds, setup.text_rate))
    p = next(model.parameters())
    dev, dt = p.device, p.dtype
    P, C, H = cfg.patch_size, cfg.latent_dim, cfg.history_frames
    prefix, steps = terms["text"] + terms["prompt_patches"], terms["target_patches"]

    enc = counter(model.encode_patches, torch.zeros(1, P, C, device=dev, dtype=dt)).flops
    prefill, step_flops = lm_flops(model.patch_lm, prefix, steps, counter)
    loc = counter(model.velocity, torch.zeros(1, P, C, device=dev, dtype=dt), 0.5,
                  torch.zeros(1, cfg.lm_dim, device=dev, dtype=dt), torch.zeros(1, H, C, device=dev, dtype=dt),
                  guidance).flops
    pieces = {"aggregation encoder": (enc, terms["prompt_patches"] + steps), "LM prefill": (prefill, 1),
              "LM decode steps": (step_flops, 1), "LocDiT (guided evaluation)": (loc, steps * nfe)}
    return total_of(pieces, counter, f"{setup_scope(setup)}. counted DiTAR pieces x calls, NFE {nfe}"
                    + (", both CFG passes" if guidance else ""))


def counted_tflops(spec: ArchSpec, setup: CostSetup, nfe: int | None, guided: bool) -> float:
    """torch-counted TFLOPs of the DiTAR behind `spec`, built on the meta device (no memory, no
    compute); `--patch-size` / `--history` change the model as they change the analytic row."""
    sized = {"patch_size": setup.patch_size or spec.patch_size,
             "history_patches": spec.history if setup.history is None else setup.history}
    with torch.device("meta"):
        model = DiTAR(spec.model_config.with_options(**sized))
    return counted_ditar(model, setup, nfe=nfe or 10, guidance=float(guided)).total.tflops


class DiTARWorkload(PatchARWorkload):
    """A random-weight DiTAR generating exactly `target_seconds` per row."""

    def __init__(self, size: str, cfg: SpeedConfig) -> None:
        super().__init__(cfg)
        overrides = {"patch_size": cfg.patch_size} if cfg.patch_size else {}
        self.mcfg = DiTARConfig.from_size(size, **overrides)
        torch.manual_seed(cfg.seed)
        model = DiTAR(self.mcfg).to(device=cfg.device, dtype=DTYPES[cfg.dtype]).eval()
        model.encoder = maybe_compile(model.encoder, cfg)
        model.locdit = maybe_compile(model.locdit, cfg)
        model.lm = maybe_compile(model.lm, cfg, dynamic=True)
        self.model = model
        self.name = f"ditar-{size}" + (f"-p{cfg.patch_size}" if cfg.patch_size else "")
        self.sampler = SamplerConfig(nfe=cfg.nfe, guidance_scale=cfg.guidance)
        self._fixed_length(math.ceil(cfg.target_seconds * LATENT_RATE))

    def prepare(self, batch: int) -> None:
        g = torch.Generator().manual_seed(self.cfg.seed)
        phones = self._phones(batch, g)
        n_prompt = math.ceil(self.cfg.prompt_seconds * LATENT_RATE)
        prompts = [torch.randn(n_prompt, self.mcfg.latent_dim, generator=g).to(self.cfg.device) for _ in range(batch)]
        self.inputs = (phones, prompts)

    def describe(self) -> dict[str, Any]:
        return {"model": "DiTAR", "patch_size": self.mcfg.patch_size, "history_patches": self.mcfg.history_patches,
                "parameters": sum(p.numel() for p in self.model.parameters()), "patches_per_row": self.patches}


def parameters(cfg: DiTARConfig) -> dict[str, int]:
    """Parameters of each DiTAR component (meta device: no memory used); "total" = their sum."""
    with torch.device("meta"):
        model = DiTAR(cfg)

    n = parameter_count

    parts = {"phone_table": n(model.phone_embed), "encoder": n(model.encoder), "lm": n(model.lm),
             "stop_head": n(model.stop_head), "locdit": n(model.locdit)}
    parts["total"] = n(model)  # = the sum of the parts: DiTAR has no other parameters
    return parts


MODELS.add("ditar", ModelCost(
    name="ditar", label="DiTAR", sizes=SIZES, parameters=parameters, counted=counted_tflops, workload=DiTARWorkload,
    nominal={"tiny": "(tests)", "0.1b": "~0.1 B", "0.4b": "~0.4 B", "0.6b": "~0.6 B", "1b": "~1 B"},
    parameters_note="lm excludes the phone table and the stop head",
    description="DiTAR (Table 8 sizes): aggregation encoder + causal LM + LocDiT"))
