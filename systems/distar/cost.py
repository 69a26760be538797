"""DiSTAR's cost: its architecture specs, counted FLOPs, timed workload and parameter breakdown.

Registered here, so the cost layer (`ttsbench.metrics.cost`) never imports DiSTAR:

- `ARCHS`: "distar-tiny" (our tiny config) and "distar-{base,medium}[-frame-layer]" at the paper's
  codec (64 Hz, J = 9, K = 65,536, P = 8, 1 history patch, N = 24 infilling steps, history-only
  CFG, full heads), per-frame (ours) and per-(frame, layer) MDM layouts;
- `MODELS["distar"]`: counted FLOPs (`ttsbench flops --counted`), the `distar-<size>` speed
  workload (random weights on 40 Hz RVQ codes: 10 s = 400 frames = 50 patches at P = 8, exactly
  `target_seconds` per row, stop head off; N = `steps` MDM steps per patch, min(N, P x L') network
  calls, L' = `layers`, history CFG unless `guidance` is 0; latency = the first patch of codes),
  and parameters per component (`ttsbench params --model distar`).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch

from ttsbench.errors import InputError
from ttsbench.metrics.cost.analytic import effective_nfe, setup_scope
from ttsbench.metrics.cost.counted import CountedCost, Counter, count_torch, total_of
from ttsbench.metrics.cost.model_cost import ModelCost, parameter_count
from ttsbench.metrics.cost.spec import ArchSpec, Block, CostSetup, Length, resolve_terms
from ttsbench.metrics.cost.speed import DTYPES, SpeedConfig, maybe_compile
from ttsbench.plugins import ARCHS, MODELS
from ttsbench.systems.distar.config import SIZES, DiSTARConfig
from ttsbench.systems.distar.infill import InfillConfig
from ttsbench.systems.distar.model import DiSTAR
from ttsbench.systems.speech.cost import LATENT_RATE, PatchARWorkload, lm_flops

L = Length.of
PAPER_CODEC_RATE = 64.0  # DiSTAR's MagiCodec-style RVQ codec: 24 kHz -> 64 Hz (shared notes §4)
STEPS = 24  # DiSTAR: N = 24 MaskGIT-style infilling steps per patch (shared notes §4)


def distar_arch(cfg: DiSTARConfig, *, steps: int = STEPS, guidance: bool = True, layers: int | None = None,
                frame_rate: float = LATENT_RATE, layout: str | None = None, name: str = "distar",
                label: str | None = None, active_layers: int | None = None) -> ArchSpec:
    """The ArchSpec of a DiSTARConfig: four counted networks.

    - aggregator: DiTAR's aggregation encoder (non-causal) over 1 + P tokens, once per prompt and
      per target patch;
    - drafting LM: causal with KV cache, prefix = text + prompt patches, one step per target patch;
    - MDM: non-causal over `cfg.mdm_tokens(L')` tokens = 1 (h) + (H + P) frames ("frame") or
      1 + (H + P) x L' ("frame_layer"), `steps` calls per target patch, x2 with (history-only) CFG;
    - logit heads (our addition to A.4, a "linear" block): P x L' vectors of K logits per MDM
      call; "full": D -> K; "tied": D -> e, then scores against the K x e code table (two blocks).

    Args:
        cfg: a DiSTARConfig (enc_*/lm_*/mdm_* sizes, patch_size, history_patches, num_layers J,
            codebook_size K, code_dim e, layout, head, ffn_act).
        steps: N, MDM network calls per patch (the harness's NFE; `CostSetup.nfe` overrides it).
        guidance: history-only CFG on (a second MDM + heads pass with the history padded out).
        layers: RVQ layers the model runs with (the spec's J, the default L'); default cfg.num_layers.
            `CostSetup.layers` picks L' <= this at count time (`ttsbench flops --layers`).
        frame_rate: code frames per second of the RVQ tokenizer.
        layout: "frame" | "frame_layer"; default cfg.layout.
        active_layers: the L' a pruned model runs with (a system's `layers=` option); default J.
    """
    layout = cfg.layout if layout is None else layout
    if layout not in ("frame", "frame_layer"):
        raise InputError(f"distar_arch: layout {layout!r}; choose frame or frame_layer")
    layers = cfg.num_layers if layers is None else layers
    if not 1 <= layers <= cfg.num_layers:
        raise InputError(f"distar_arch: layers {layers} must be in 1..{cfg.num_layers} (J)")
    mats = 3 if cfg.ffn_act == "swiglu" else 2
    mdm_len = L(one=1, history=1, patch=1) if layout == "frame" else L(one=1, history_layers=1, patch_layers=1)
    per_mdm_call: dict[str, Any] = {"calls": L(target_patches=1), "per_nfe": True, "guided": True}
    K, D, e = cfg.codebook_size, cfg.mdm_dim, cfg.code_dim
    if cfg.head == "full":
        heads: tuple[Block, ...] = (
            Block("logit heads", "linear", 1, D, out=K, length=L(patch_layers=1), **per_mdm_call),)
    else:
        heads = (Block("logit heads (D -> code_dim)", "linear", 1, D, out=e, length=L(patch_layers=1), **per_mdm_call),
                 Block("logit heads (code_dim -> K scores)", "linear", 1, e, out=K, length=L(patch_layers=1),
                       **per_mdm_call))
    blocks = (
        Block("aggregator", "transformer", cfg.enc_layers, cfg.enc_dim, ffn=cfg.enc_ffn, ffn_mats=mats,
              length=L(one=1, patch=1), calls=L(prompt_patches=1, target_patches=1)),
        Block("drafting LM", "causal", cfg.lm_layers, cfg.lm_dim, ffn=cfg.lm_ffn, ffn_mats=mats,
              length=L(text=1, prompt_patches=1), steps=L(target_patches=1)),
        Block(f"MDM ({layout})", "transformer", cfg.mdm_layers, D, ffn=cfg.mdm_ffn, ffn_mats=mats,
              length=mdm_len, **per_mdm_call),
        *heads,
    )
    tokens = ("1 (h) + (H + P) frame tokens, each the sum of its L' code embeddings" if layout == "frame" else
              "1 (h) + (H + P) x L' (frame, layer) tokens")
    head_words = (f"full: one {D} -> {K} matrix per RVQ layer" if cfg.head == "full" else
                  f"tied: {D} -> {e} per RVQ layer, then scores against the {K} x {e} code table")
    return ArchSpec(
        name=name, label=label or f"{name} ({layout} MDM, N={steps} calls)", blocks=blocks, frame_rate=frame_rate,
        params=_params(cfg), nfe=steps, guidance=guidance, patch_size=cfg.patch_size,
        history=cfg.history_patches, layers=layers, default_layers=active_layers, nfe_cap=L(patch_layers=1),
        model="distar", model_config=cfg.with_options(layout=layout, num_layers=layers),
        sources=(("ttsbench.systems.distar.config.DiSTARConfig (sizes: DiSTAR Table 4 / App. B.2 as reported "
                  "in shared notes §4)"),
                 ("DiSTAR (Song et al., arXiv 2510.12210) via secondary sources, shared notes §4: RVQ codes, "
                  "J = 9 x K = 65,536 at 64 Hz, P = 8, N = 24 infilling steps per patch, history-only CFG; the "
                  "paper reports no FLOPs")),
        assumptions=(
            ("aggregator input = learnable token + P frames, one call per prompt patch and per target patch; "
             "one drafting-LM decoding step per target patch, prefix = text tokens + prompt patches"),
            (f"MDM input ({layout}): {tokens}, H = history window of {cfg.history_patches} patch(es) x P frames; "
             "the paper does not say which layout; the cost differs ~10x"),
            (f"N = {steps} MDM network calls per patch (one per infilling step); a patch of P x L' < N tokens "
             "needs only P x L' (each step commits at least one token)"),
            ("CFG = history-only (the paper's default): a second MDM + heads pass with the history padded out "
             "(same length), x2"),
            f"logit heads counted (not in A.4): P x L' vectors of {K} logits per MDM call ({head_words})",
        ),
        excluded="codec decoder, code/phone embedding lookups, norms, biases, the stop head, input projections",
    )


def _params(cfg: DiSTARConfig) -> str:
    return f"{cfg.enc_layers}+{cfg.lm_layers}+{cfg.mdm_layers}L x {cfg.mdm_dim}"


ARCHS.add("distar-tiny", distar_arch(SIZES["tiny"], name="distar-tiny"))
for _size, _params_reported in (("base", "0.15B"), ("medium", "0.3B")):
    _paper = SIZES[_size].with_options(num_layers=9, codebook_size=65_536, patch_size=8, history_patches=1,
                                        head="full")
    for _layout, _suffix, _words in (("frame", "", "per-frame MDM, ours"),
                                     ("frame_layer", "-frame-layer", "per-(frame, layer) MDM")):
        ARCHS.add(f"distar-{_size}{_suffix}", distar_arch(
            _paper, steps=STEPS, guidance=True, frame_rate=PAPER_CODEC_RATE, layout=_layout,
            name=f"distar-{_size}{_suffix}", label=f"DiSTAR-{_size} ({_words})",
        ).with_setting(params=f"{_params_reported} ({_params(_paper)})"))


def counted_distar(model: DiSTAR, setup: CostSetup | None = None, *, steps: int = STEPS, guidance: bool = True,
                   layers: int | None = None, frame_rate: float = LATENT_RATE,
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
    local = CostSetup(setup.prompt_seconds, setup.target_seconds, setup.text_rate, nfe=steps, guidance=guidance,
                      layers=layers)
    terms = resolve_terms(spec, local)
    calls, L = effective_nfe(spec, local), terms["layers"]  # min(N, P x L') MDM calls per patch
    p = next(model.parameters())
    dev, dt = p.device, p.dtype
    P, J, H = cfg.patch_size, cfg.num_layers, cfg.history_frames
    prefix, patches = terms["text"] + terms["prompt_patches"], terms["target_patches"]

    enc = counter(model.encode_patches, torch.zeros(1, P, J, dtype=torch.long, device=dev)).flops
    prefill, step_flops = lm_flops(model.patch_lm, prefix, patches, counter)
    h = torch.zeros(1, cfg.lm_dim, device=dev, dtype=dt)
    history = torch.zeros(1, H, J, dtype=torch.long, device=dev)
    tokens = torch.full((1, P, L), cfg.mask_id, dtype=torch.long, device=dev)  # a fully masked patch
    mdm = counter(model.mdm_logits, h, history, tokens, guidance).flops
    pieces = {"aggregator": (enc, terms["prompt_patches"] + patches), "LM prefill": (prefill, 1),
              "LM decode steps": (step_flops, 1), "MDM + logit heads (one network call)": (mdm, patches * calls)}
    return total_of(pieces, counter, f"{setup_scope(replace(setup, layers=L))}. counted DiSTAR pieces x calls, "
                  f"{calls} MDM calls per patch (N = {steps}, P x L' = {P * L}), {cfg.layout} layout, "
                  f"{cfg.head} heads" + (", both history-CFG passes" if guidance else ""))


def counted_tflops(spec: ArchSpec, setup: CostSetup, nfe: int | None, guided: bool) -> float:
    """torch-counted TFLOPs of the DiSTAR behind `spec` (its J and layout are in `spec.model_config`),
    built on the meta device; `--patch-size` / `--history` change the model as the analytic row."""
    sized = {"patch_size": setup.patch_size or spec.patch_size,
             "history_patches": spec.history if setup.history is None else setup.history}
    with torch.device("meta"):
        model = DiSTAR(spec.model_config.with_options(**sized))
    return counted_distar(model, setup, steps=nfe or spec.nfe, guidance=guided, layers=setup.layers,
                          frame_rate=spec.frame_rate).total.tflops


class DiSTARWorkload(PatchARWorkload):
    """A random-weight DiSTAR generating exactly `target_seconds` of 40 Hz codes per row."""

    def __init__(self, size: str, cfg: SpeedConfig) -> None:
        super().__init__(cfg)
        self.mcfg = mcfg = DiSTARConfig.from_size(size, **({"patch_size": cfg.patch_size} if cfg.patch_size else {}))
        self.layers = cfg.layers or mcfg.num_layers
        if not 1 <= self.layers <= mcfg.num_layers:
            raise InputError(f"--layers {cfg.layers}: distar-{size} has J = {mcfg.num_layers} RVQ layers; "
                             f"choose 1..{mcfg.num_layers}")
        torch.manual_seed(cfg.seed)
        model = DiSTAR(mcfg).to(device=cfg.device, dtype=DTYPES[cfg.dtype]).eval()
        model.encoder = maybe_compile(model.encoder, cfg)
        model.mdm = maybe_compile(model.mdm, cfg)  # forward compiled; .logits (the heads) runs eagerly
        model.lm = maybe_compile(model.lm, cfg, dynamic=True)
        self.model = model
        self.name = f"distar-{size}" + (f"-p{cfg.patch_size}" if cfg.patch_size else "")
        self.frames = math.ceil(cfg.target_seconds * LATENT_RATE)
        self.sampler = InfillConfig(steps=cfg.steps, layers=self.layers,
                                    cfg_scale=InfillConfig.cfg_scale if cfg.guidance != 0 else 1.0)
        self._fixed_length(self.frames)

    def prepare(self, batch: int) -> None:
        g = torch.Generator().manual_seed(self.cfg.seed)
        c = self.mcfg
        phones = self._phones(batch, g)
        n_prompt = math.ceil(self.cfg.prompt_seconds * LATENT_RATE)
        prompts = [torch.randint(0, c.codebook_size, (n_prompt, c.num_layers), generator=g).to(self.cfg.device)
                   for _ in range(batch)]
        self.inputs = (phones, prompts)

    def describe(self) -> dict[str, Any]:
        c, s = self.mcfg, self.sampler
        calls, kbps = min(s.steps, c.patch_size * self.layers), c.kbps(LATENT_RATE, self.layers)
        params = sum(p.numel() for p in self.model.parameters())
        cfg_words = f"history CFG s = {s.cfg_scale:g} (2 passes batched)" if s.guided else "no CFG"
        note = (f"DiSTAR, random weights, {LATENT_RATE:g} Hz RVQ codes ({self.cfg.target_seconds:g} s = {self.frames} "
                f"frames = {self.patches} patches at P = {c.patch_size}); L' = {self.layers} of J = {c.num_layers} "
                f"layers x {math.log2(c.codebook_size):g} bits = {kbps:.4g} kbps; N = {s.steps} MDM steps per patch "
                f"({calls} network calls: min(N, P x L')); {cfg_words}; {c.layout} layout, {c.head} heads; "
                f"{params / 1e6:.4g} M parameters")
        return {"model": "DiSTAR", "nfe": None, "steps": s.steps, "mdm_calls_per_patch": calls, "layers": self.layers,
                "num_layers": c.num_layers, "layout": c.layout, "head": c.head, "kbps": kbps,
                "frame_rate_hz": LATENT_RATE, "cfg_scale": s.cfg_scale, "patch_size": c.patch_size,
                "history_patches": c.history_patches, "parameters": params, "patches_per_row": self.patches,
                "note": note}


def parameters(cfg: DiSTARConfig) -> dict[str, int]:
    """Parameters of each DiSTAR component (meta device); `transformers` = aggregator + LM + MDM blocks,
    the part the reported 0.15B / 0.3B can describe (code tables and logit heads grow with K)."""
    with torch.device("meta"):
        model = DiSTAR(cfg)

    n = parameter_count

    mdm = model.mdm
    parts = {"phone_table": n(model.phone_embed), "code_tables": n(model.agg_embed, mdm.embed),
             "aggregator": n(model.encoder), "lm": n(model.lm), "stop_head": n(model.stop_head),
             "mdm": n(mdm.transformer, mdm.cond_proj, mdm.cond_gate, mdm.hist_proj, mdm.target_proj,
                      *([mdm.layer_embed] if mdm.layer_embed is not None else [])),
             "heads": n(mdm.head)}
    parts["transformers"] = parts["aggregator"] + parts["lm"] + parts["mdm"]
    parts["total"] = n(model)  # = phone_table + code_tables + transformers + stop_head + heads
    return parts


MODELS.add("distar", ModelCost(
    name="distar", label="DiSTAR", sizes=SIZES, parameters=parameters, counted=counted_tflops,
    workload=DiSTARWorkload, nominal={"tiny": "(tests)", "base": "~0.15 B", "medium": "~0.3 B"},
    parameters_note=("transformers = aggregator + LM + MDM blocks (what the paper's sizes describe); code tables "
                     "(J x (K + 2) x code_dim, twice) and logit heads (J x K x width) grow with K"),
    description="DiSTAR (base, medium): code aggregator + drafting LM + masked-diffusion infiller over RVQ codes"))
