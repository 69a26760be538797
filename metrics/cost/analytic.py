"""Analytic FLOPs of an ArchSpec under a CostSetup: the A.4 formulas applied block by block."""

from __future__ import annotations

from dataclasses import dataclass

from ttsbench.metrics.cost import formulas as F
from ttsbench.metrics.cost.spec import ArchSpec, Block, CostSetup, FlopCount, effective_layers, resolve_terms


@dataclass(frozen=True)
class BlockCost:
    """One block's share: FLOPs per call, number of calls, and the resolved shapes."""

    name: str
    kind: str
    length: int
    steps: int
    calls: int
    flops_per_call: int

    @property
    def flops(self) -> int:
        return self.calls * self.flops_per_call


def effective_nfe(spec: ArchSpec, setup: CostSetup) -> int:
    """Network calls per diffusion solve: the setup's, else the spec's published setting (capped by
    `spec.nfe_cap` when the solve can finish earlier)."""
    nfe = spec.nfe if setup.nfe is None else setup.nfe
    if spec.nfe_cap is not None:
        nfe = min(nfe, spec.nfe_cap.resolve(resolve_terms(spec, setup)))
    return nfe


def effective_guidance(spec: ArchSpec, setup: CostSetup) -> bool:
    """CFG on: the setup's choice, else the spec's published setting."""
    return spec.guidance if setup.guidance is None else setup.guidance


def block_cost(block: Block, spec: ArchSpec, setup: CostSetup) -> BlockCost:
    """Resolve one block's lengths and multipliers and apply its formula."""
    values = resolve_terms(spec, setup)
    length = block.length.resolve(values)
    steps = block.steps.resolve(values) if block.steps is not None else 0
    mats = block.ffn_mats if setup.exact_ffn else 2
    if block.kind == "transformer":
        per_call = F.transformer_flops(block.layers, block.width, length, block.ffn, ffn_mats=mats)
    elif block.kind == "causal":
        per_call = F.ar_transformer_flops(block.layers, block.width, steps, length, block.ffn, ffn_mats=mats)
    elif block.kind == "conv":
        per_call = F.conv1d_flops(block.layers, block.width, block.kernel, length)
    elif block.kind == "linear":
        per_call = F.linear_flops(block.width, block.out, length)
    else:
        raise ValueError(f"block {block.name!r}: unknown kind {block.kind!r}")
    calls = block.calls.resolve(values)
    if block.per_nfe:
        calls *= effective_nfe(spec, setup)
    if block.guided and effective_guidance(spec, setup):
        calls *= 2
    return BlockCost(block.name, block.kind, length, steps, calls, per_call)


def breakdown(spec: ArchSpec, setup: CostSetup | None = None) -> list[BlockCost]:
    """Every block's cost for one utterance."""
    setup = setup or CostSetup()
    return [block_cost(b, spec, setup) for b in spec.blocks]


def setup_scope(setup: CostSetup) -> str:
    """The system-independent part of the scope: same setup, same words (reports group by it)."""
    ffn = "gated FFNs with 3 matrices" if setup.exact_ffn else "FFN = 2 matrices"
    layers = f"; L' = {setup.layers} active RVQ layers (DiSTAR)" if setup.layers is not None else ""
    return (f"analytic (DiTAR A.4, typos fixed), one utterance: {setup.prompt_seconds:g} s prompt -> "
            f"{setup.target_seconds:g} s target, {setup.prompt_text}+{setup.target_text} text tokens{layers}; "
            f"matrix products only ({ffn}), KV cache for causal models; x NFE (network calls per diffusion "
            f"solve), x2 with CFG; vocoder excluded")


def detail(spec: ArchSpec, setup: CostSetup) -> str:
    """The system-specific part: each counted network, its calls, NFE and CFG."""
    parts = []
    for b, cost in zip(spec.blocks, breakdown(spec, setup)):
        how = {"causal": "causal+KV cache", "transformer": "non-causal", "conv": "conv",
               "linear": f"linear {b.width}->{b.out}"}[b.kind]
        mult = []
        if b.per_nfe:
            mult.append(f"NFE {effective_nfe(spec, setup)}")
        if b.guided and effective_guidance(spec, setup):
            mult.append("x2 CFG")
        parts.append(f"{b.name} ({how}, {cost.calls} call{'s' if cost.calls != 1 else ''}"
                     + (f"; {', '.join(mult)}" if mult else "") + ")")
    codes = f" (L' = {effective_layers(spec, setup)} of J = {spec.layers} RVQ layers)" if spec.uses_layers else ""
    return f"{spec.label}{codes}: " + "; ".join(parts) + f"; not counted: {spec.excluded}"


def scope(spec: ArchSpec, setup: CostSetup) -> str:
    """What the number covers, in words (stored next to every FLOP count)."""
    return f"{setup_scope(setup)}. {detail(spec, setup)}"


def analytic_flops(spec: ArchSpec, setup: CostSetup | None = None) -> FlopCount:
    """FLOPs of one utterance of `spec` under `setup` (default: the paper's A.4 setup)."""
    setup = setup or CostSetup()
    total = sum(c.flops for c in breakdown(spec, setup))
    return FlopCount(macs=total // 2, method="analytic", scope=scope(spec, setup))
