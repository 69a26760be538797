"""Value types of the cost layer: the setup, an architecture spec, and a FLOP count that names its unit.

An `ArchSpec` lists the networks ("blocks") that dominate a system's inference cost. Each block says
what it is (non-causal transformer, causal transformer with KV cache, 1-D conv stack), its size,
how long its input is and how often it runs, all as functions of a `CostSetup` (prompt and target
seconds, text rate, NFE, CFG, patch size, history). `analytic_flops` applies the A.4 formulas
(`formulas.py`) to every block and returns a `FlopCount`.

Lengths are symbolic (`Length`): a sum of named terms with integer coefficients, resolved against
the setup. Terms: text (prompt + target text tokens), prompt_text, target_text, prompt / target
(speech frames at the spec's frame rate, ceil), prompt_patches / target_patches (ceil(frames / P)),
patch (P frames), history (history patches x P frames), one (the constant 1); for models over
J-layer RVQ codes (DiSTAR): layers (L' active RVQ layers), patch_layers (P x L') and history_layers
(history frames x L').
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ttsbench.errors import InputError

UNIT = "FLOPs (=2 MACs)"
TERMS = ("text", "prompt_text", "target_text", "prompt", "target", "prompt_patches",
         "target_patches", "patch", "history", "one", "layers", "patch_layers", "history_layers")
LAYER_TERMS = frozenset({"layers", "patch_layers", "history_layers"})


@dataclass(frozen=True)
class FlopCount:
    """A FLOP count that cannot be misread.

    macs: multiply-accumulates (the fvcore/thop convention; torch's FlopCounterMode reports 2x).
    method: "analytic" | "fvcore" | "torch".
    scope: what was counted, e.g. "DiTAR LM + encoder + LocDiT per utterance, 9 calls x2 CFG".
    """

    macs: int
    method: str
    scope: str

    @property
    def flops(self) -> int:
        """FLOPs = 2 x MACs."""
        return 2 * self.macs

    @property
    def tflops(self) -> float:
        return self.flops / 1e12

    def to_json(self) -> dict[str, object]:
        return {"flops": float(self.flops), "macs": float(self.macs), "unit": UNIT,
                "method": self.method, "scope": self.scope}


@dataclass(frozen=True)
class CostSetup:
    """What one utterance costs is counted for. Defaults: the DiTAR paper's A.4 setup.

    prompt_seconds / target_seconds: speech prompt and generated speech (3 s / 10 s).
    text_rate: text tokens per second of speech (7 Hz: 21 prompt + 70 target tokens).
    nfe: network evaluations per diffusion solve (calls, not grid points); None = each spec's
        published setting (e.g. 32 for F5-TTS, 9 for DiTAR's "NFE=10", see archs.py).
    guidance: classifier-free guidance (CFG) on: it doubles the guided network's passes; None = the
        spec's setting.
    patch_size / history: DiTAR's (and DiSTAR's) P and number of historical patches; None = the spec's.
    layers: active RVQ layers L' of a model over J-layer codes (DiSTAR's bitrate control); None = the
        spec's (J). Specs without layer terms (every non-DiSTAR spec) ignore it.
    exact_ffn: count the third matrix of gated FFNs (SwiGLU); A.4 counts two matrices per FFN.
    """

    prompt_seconds: float = 3.0
    target_seconds: float = 10.0
    text_rate: float = 7.0
    nfe: int | None = None
    guidance: bool | None = None
    patch_size: int | None = None
    history: int | None = None
    exact_ffn: bool = False
    layers: int | None = None

    def __post_init__(self) -> None:
        if self.prompt_seconds < 0 or self.target_seconds <= 0 or self.text_rate < 0:
            raise InputError(f"cost setup: need prompt_seconds >= 0, target_seconds > 0, text_rate >= 0; got {self}")
        for name in ("nfe", "patch_size", "layers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"cost setup: {name} must be >= 1, got {value}")
        if self.history is not None and self.history < 0:
            raise InputError(f"cost setup: history must be >= 0, got {self.history}")

    @property
    def prompt_text(self) -> int:
        return round(self.prompt_seconds * self.text_rate)

    @property
    def target_text(self) -> int:
        return round(self.target_seconds * self.text_rate)


@dataclass(frozen=True)
class Length:
    """A token count as a linear function of the setup: `Length.of(text=1, prompt=1, target=1)`."""

    terms: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, **terms: int) -> Length:
        unknown = set(terms) - set(TERMS)
        if unknown:
            raise ValueError(f"unknown length term(s) {sorted(unknown)}; known: {TERMS}")
        return cls(tuple(sorted((k, int(v)) for k, v in terms.items() if v)))

    def resolve(self, values: Mapping[str, int]) -> int:
        return sum(coef * values[name] for name, coef in self.terms)

    def __str__(self) -> str:
        return " + ".join(name if coef == 1 else f"{coef}*{name}" for name, coef in self.terms) or "0"


ONE = Length.of(one=1)


@dataclass(frozen=True)
class Block:
    """One network whose matrix products are counted.

    kind: "transformer" (non-causal, Eq. 15-21), "causal" (KV cache: prefix pass + one token per
        step, Eq. 23-31 fixed), "conv" (stride-1 1-D convs C -> C, Eq. 14) or "linear" (one matrix
        `width` -> `out` applied to `length` vectors per call; not in A.4: our addition for logit
        heads that dominate a model's cost, e.g. DiSTAR's 65,536-way heads; `layers` is ignored).
    length: tokens per call (the prefix for "causal"; output vectors for "linear").
    steps: "causal" only: tokens decoded one at a time after the prefix.
    calls: calls per utterance before the NFE and CFG multipliers.
    per_nfe: one call per network evaluation of a diffusion solve (x setup NFE).
    guided: guided with classifier-free guidance (x2 when CFG is on).
    ffn_mats: FFN matrices of the real network (3 for SwiGLU); A.4 counts 2 unless setup.exact_ffn.
    out: "linear" only: output features (width = input features).
    """

    name: str
    kind: Literal["transformer", "causal", "conv", "linear"]
    layers: int
    width: int
    length: Length
    ffn: int = 0
    kernel: int = 1
    ffn_mats: int = 2
    steps: Length | None = None
    calls: Length = ONE
    per_nfe: bool = False
    guided: bool = False
    out: int = 0


@dataclass(frozen=True)
class ArchSpec:
    """The cost-relevant architecture of one system, with provenance.

    frame_rate: speech frames per second of the units the blocks run on.
    nfe / guidance / patch_size / history: the published inference setting (CostSetup can override).
    layers: RVQ layers J of the codes the blocks run on (DiSTAR); the default L' when the setup
        sets none. 1 for everything else.
    paper_tflops: the DiTAR paper's Table 1 value, when the system is in it.
    sources: where each number comes from. assumptions: what is not published or was chosen.
    fitted: parameters set to reproduce Table 1 because no source we could read gives them.
    model: the `MODELS` entry of our own model the spec describes ("ditar", "distar", "nar-dit"),
        whose `counted` function `ttsbench flops --counted` runs; None for systems we only read about.
    model_config: that model's config (with the spec's sizes, layout and J), set by the model's
        own `cost.py`; None for systems we only read about.
    nfe_cap: when set, a diffusion solve runs min(NFE, nfe_cap) network calls (DiSTAR's unmasking
        commits at least one token per call, so a patch of P x L' tokens needs min(N, P x L')).
    """

    name: str
    label: str
    blocks: tuple[Block, ...]
    frame_rate: float
    params: str = ""
    nfe: int = 1
    guidance: bool = False
    patch_size: int = 1
    history: int = 0
    layers: int = 1
    default_layers: int | None = None  # L' when the setup gives none (a pruned run); None = all `layers`
    nfe_cap: Length | None = None  # a solve needs at most this many calls (DiSTAR: one token per step at least)
    paper_tflops: float | None = None
    sources: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    fitted: tuple[str, ...] = ()
    excluded: str = "vocoder/codec decoder, embeddings, norms, biases, heads"
    model: str | None = None
    model_config: Any = None

    def __post_init__(self) -> None:
        if self.layers < 1 or not 1 <= (self.default_layers or 1) <= self.layers:
            raise InputError(f"ArchSpec {self.name!r}: need 1 <= default_layers ({self.default_layers}) <= layers "
                             f"({self.layers})")

    @property
    def uses_layers(self) -> bool:
        """Whether any block's length, steps or calls depends on the active RVQ layers L'."""
        return any(name in LAYER_TERMS for b in self.blocks for ln in (b.length, b.steps, b.calls)
                   if ln is not None for name, _ in ln.terms)

    @property
    def description(self) -> str:
        """One line for `ttsbench list archs`."""
        paper = f"; Table 1: {self.paper_tflops} TFLOPs" if self.paper_tflops is not None else ""
        return f"{self.label} ({self.params}){paper}"

    def with_setting(self, **changes: object) -> ArchSpec:
        """A copy with other published settings (e.g. nfe=10)."""
        return replace(self, **changes)


def layers_fit(spec: ArchSpec, setup: CostSetup) -> bool:
    """Whether the setup's L' can be counted for this spec: at most its J, or a spec without layer terms."""
    return setup.layers is None or setup.layers <= spec.layers or not spec.uses_layers


def effective_layers(spec: ArchSpec, setup: CostSetup) -> int:
    """Active RVQ layers L': the setup's, else the spec's J. More than J fails for specs that use
    layer terms; specs that do not use them ignore the setting."""
    if setup.layers is None:
        return spec.default_layers or spec.layers
    if not layers_fit(spec, setup):
        raise InputError(f"cost setup: layers {setup.layers} exceeds the {spec.layers} RVQ layers of {spec.name!r}")
    return setup.layers


def resolve_terms(spec: ArchSpec, setup: CostSetup) -> dict[str, int]:
    """The value of every Length term for this spec under this setup."""
    patch = setup.patch_size or spec.patch_size
    history = spec.history if setup.history is None else setup.history
    layers = effective_layers(spec, setup)
    prompt = math.ceil(setup.prompt_seconds * spec.frame_rate - 1e-9)
    target = math.ceil(setup.target_seconds * spec.frame_rate - 1e-9)
    return {"text": setup.prompt_text + setup.target_text, "prompt_text": setup.prompt_text,
            "target_text": setup.target_text, "prompt": prompt, "target": target,
            "prompt_patches": math.ceil(prompt / patch), "target_patches": math.ceil(target / patch),
            "patch": patch, "history": history * patch, "one": 1, "layers": layers,
            "patch_layers": patch * layers, "history_layers": history * patch * layers}
