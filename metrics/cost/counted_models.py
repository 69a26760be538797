"""Counted FLOPs of our own models, piece by piece, scaled to one utterance.

DiTAR: one aggregation-encoder pass, the LM prefill, every LM decode step (KV cache) and one guided
LocDiT evaluation are each run under a counter, then scaled by the A.4 setup: encoder x (prompt +
target patches), LocDiT x target patches x NFE (the guided evaluation holds both CFG passes).
NAR: one guided evaluation over the whole sequence x NFE. DiSTAR: one aggregator pass, the LM
prefill and decode steps, and one MDM network call with its logit heads (`DiSTAR.mdm_logits`:
both history-CFG passes batched), scaled by target patches x min(N, P x L') calls. Lengths and
call counts come from the same ArchSpec the analytic count uses (`ditar_arch` / `nar_arch` /
`distar_arch`, `effective_nfe` for DiSTAR's step cap), so the two counts describe the same work.

Run the models on the "meta" device to count paper sizes without memory or compute:
``with torch.device("meta"): model = DiTAR(DiTARConfig.from_size("0.6b"))``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch

from ttsbench.metrics.cost.analytic import effective_nfe, setup_scope
from ttsbench.metrics.cost.builders import DISTAR_STEPS, VAE_FRAME_RATE, distar_arch, ditar_arch, nar_arch
from ttsbench.metrics.cost.counted import count_torch
from ttsbench.metrics.cost.spec import CostSetup, FlopCount, resolve_terms

Counter = Callable[..., FlopCount]


@dataclass(frozen=True)
class CountedCost:
    """A counted total with its per-piece FLOPs (per call) and how many calls one utterance makes."""

    total: FlopCount
    pieces: dict[str, tuple[int, int]]  # name -> (FLOPs per call, calls)


def _param(model: torch.nn.Module) -> torch.Tensor:
    return next(model.parameters())


def _lm_flops(model: Any, prefix: int, steps: int, counter: Counter) -> tuple[int, int]:
    """(prefill FLOPs, FLOPs of all `steps` KV-cached decode steps) of a `PatchLM` (DiTAR, DiSTAR)."""
    p = _param(model)
    dev, dt = p.device, p.dtype
    lm = model.patch_lm
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


def counted_ditar(model: Any, setup: CostSetup | None = None, *, nfe: int = 10, guidance: float = 1.0,
                  counter: Counter = count_torch) -> CountedCost:
    """Count a `DiTAR` for one utterance of `setup` (its own patch size and history)."""
    setup = setup or CostSetup()
    cfg = model.cfg
    spec = ditar_arch(cfg, nfe=nfe, guidance=guidance != 0)
    terms = resolve_terms(spec, CostSetup(setup.prompt_seconds, setup.target_seconds, setup.text_rate))
    p = _param(model)
    dev, dt = p.device, p.dtype
    P, C, H = cfg.patch_size, cfg.latent_dim, cfg.history_frames
    prefix, steps = terms["text"] + terms["prompt_patches"], terms["target_patches"]

    enc = counter(model.encode_patches, torch.zeros(1, P, C, device=dev, dtype=dt)).flops
    prefill, step_flops = _lm_flops(model, prefix, steps, counter)
    loc = counter(model.velocity, torch.zeros(1, P, C, device=dev, dtype=dt), 0.5,
                  torch.zeros(1, cfg.lm_dim, device=dev, dtype=dt), torch.zeros(1, H, C, device=dev, dtype=dt),
                  guidance).flops
    pieces = {"aggregation encoder": (enc, terms["prompt_patches"] + steps), "LM prefill": (prefill, 1),
              "LM decode steps": (step_flops, 1), "LocDiT (guided evaluation)": (loc, steps * nfe)}
    return _total(pieces, counter, f"{setup_scope(setup)}. counted DiTAR pieces x calls, NFE {nfe}"
                  + (", both CFG passes" if guidance else ""))


def counted_distar(model: Any, setup: CostSetup | None = None, *, steps: int = DISTAR_STEPS, guidance: bool = True,
                   layers: int | None = None, frame_rate: float = VAE_FRAME_RATE,
                   counter: Counter = count_torch) -> CountedCost:
    """Count a `DiSTAR` for one utterance of `setup` (its own P, history, layout and heads).

    steps: N, MDM network calls per patch (min(N, P x L') run, as `distar_arch` charges them).
    guidance: history-only CFG (the traced call batches the conditional and history-free passes).
    layers: active RVQ layers L' (default `setup.layers`, else all J).
    frame_rate: code frames per second (40: our 40 Hz codes; the paper-codec specs use 64).
    """
    setup = setup or CostSetup()
    cfg = model.cfg
    layers = setup.layers if layers is None else layers
    spec = distar_arch(cfg, steps=steps, guidance=guidance, frame_rate=frame_rate)
    local = CostSetup(setup.prompt_seconds, setup.target_seconds, setup.text_rate, nfe=steps, cfg=guidance,
                      layers=layers)
    terms = resolve_terms(spec, local)
    calls, L = effective_nfe(spec, local), terms["layers"]  # min(N, P x L') MDM calls per patch
    p = _param(model)
    dev, dt = p.device, p.dtype
    P, J, H = cfg.patch_size, cfg.num_layers, cfg.history_frames
    prefix, patches = terms["text"] + terms["prompt_patches"], terms["target_patches"]

    enc = counter(model.encode_patches, torch.zeros(1, P, J, dtype=torch.long, device=dev)).flops
    prefill, step_flops = _lm_flops(model, prefix, patches, counter)
    h = torch.zeros(1, cfg.lm_dim, device=dev, dtype=dt)
    history = torch.zeros(1, H, J, dtype=torch.long, device=dev)
    tokens = torch.full((1, P, L), cfg.mask_id, dtype=torch.long, device=dev)  # a fully masked patch
    mdm = counter(model.mdm_logits, h, history, tokens, guidance).flops
    pieces = {"aggregator": (enc, terms["prompt_patches"] + patches), "LM prefill": (prefill, 1),
              "LM decode steps": (step_flops, 1), "MDM + logit heads (one network call)": (mdm, patches * calls)}
    return _total(pieces, counter, f"{setup_scope(replace(setup, layers=L))}. counted DiSTAR pieces x calls, "
                  f"{calls} MDM calls per patch (N = {steps}, P x L' = {P * L}), {cfg.layout} layout, "
                  f"{cfg.head} heads" + (", both history-CFG passes" if guidance else ""))


def counted_nar(model: Any, setup: CostSetup | None = None, *, nfe: int = 10, guidance: float = 1.0,
                counter: Counter = count_torch) -> CountedCost:
    """Count a `NARDiT` for one utterance of `setup`: one guided evaluation x NFE."""
    setup = setup or CostSetup()
    cfg = model.cfg
    spec = nar_arch(cfg, nfe=nfe, guidance=guidance != 0)
    terms = resolve_terms(spec, CostSetup(setup.prompt_seconds, setup.target_seconds, setup.text_rate))
    p = _param(model)
    rows = 2 if guidance else 1  # the conditional and unconditional passes run as one 2B batch
    T = terms["prompt"] + terms["target"]
    x = torch.zeros(rows, T, cfg.latent_dim, device=p.device, dtype=p.dtype)
    t = torch.full((rows,), 0.5, device=p.device)
    text = torch.zeros(rows, T, dtype=torch.long, device=p.device)
    per_eval = counter(model, x, t, x, text).flops
    return _total({"NAR DiT (guided evaluation)": (per_eval, nfe)}, counter,
                  f"{setup_scope(setup)}. counted NAR DiT, NFE {nfe}" + (", both CFG passes" if guidance else ""))


def _total(pieces: dict[str, tuple[int, int]], counter: Counter, scope: str) -> CountedCost:
    flops = sum(per * calls for per, calls in pieces.values())
    method = "fvcore" if getattr(counter, "__name__", "") == "count_fvcore" else "torch"
    return CountedCost(FlopCount(macs=flops // 2, method=method, scope=scope), pieces)
