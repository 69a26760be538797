"""ArchSpecs built from our own model configs, so `system.arch()` returns the spec of the model it
actually runs (its sizes, patch size, history, NFE and CFG)."""

from __future__ import annotations

from typing import Any

from ttsbench.metrics.cost.spec import ArchSpec, Block, Length

L = Length.of
VAE_FRAME_RATE = 40.0  # DiTAR §3.5.1: 24 kHz -> 40 Hz x 64 latent
DISTAR_CODEC_RATE = 64.0  # DiSTAR's MagiCodec-style RVQ codec: 24 kHz -> 64 Hz (shared notes §4)
DISTAR_STEPS = 24  # DiSTAR: N = 24 MaskGIT-style infilling steps per patch (shared notes §4)


def ditar_arch(cfg: Any, *, nfe: int = 10, guidance: bool = True, frame_rate: float = VAE_FRAME_RATE,
               name: str = "ditar", label: str | None = None) -> ArchSpec:
    """The ArchSpec of a `ttsbench.systems.ditar.config.DiTARConfig`.

    Args:
        cfg: a DiTARConfig (enc_*/lm_*/dit_* layers, dims and FFN widths, patch_size,
            history_patches, ffn_act).
        nfe: LocDiT network calls per patch (this harness's NFE convention, not grid points).
        guidance: LM guidance on (the unconditional LocDiT pass doubles LocDiT's cost).
        frame_rate: latent frames per second of the tokenizer the model runs on.
    """
    mats = 3 if getattr(cfg, "ffn_act", "gelu") == "swiglu" else 2
    blocks = (
        Block("aggregation encoder", "transformer", cfg.enc_layers, cfg.enc_dim, ffn=cfg.enc_ffn, ffn_mats=mats,
              length=L(one=1, patch=1), calls=L(prompt_patches=1, target_patches=1)),
        Block("LM", "causal", cfg.lm_layers, cfg.lm_dim, ffn=cfg.lm_ffn, ffn_mats=mats,
              length=L(text=1, prompt_patches=1), steps=L(target_patches=1)),
        Block("LocDiT", "transformer", cfg.dit_layers, cfg.dit_dim, ffn=cfg.dit_ffn, ffn_mats=mats,
              length=L(one=1, history=1, patch=1), calls=L(target_patches=1), per_nfe=True, cfg=True),
    )
    return ArchSpec(
        name=name, label=label or f"{name} (NFE={nfe} calls)", blocks=blocks,
        frame_rate=frame_rate, params=_params(cfg), nfe=nfe, cfg=guidance, patch_size=cfg.patch_size,
        history=cfg.history_patches, model_config=cfg,
        sources=("ttsbench.systems.ditar.config.DiTARConfig (paper Table 8 sizes)",),
        assumptions=("encoder input = learnable token + P frames; LocDiT input = h(+t) token + history + P "
                     "noisy frames; one LM decoding step per target patch",),
    )


def nar_arch(cfg: Any, *, nfe: int = 10, guidance: bool = True, name: str = "nar-dit",
             label: str | None = None) -> ArchSpec:
    """The ArchSpec of a `ttsbench.systems.nar.config.NARConfig`: one non-causal DiT over the
    time token + prompt + target frames (text summed in-frame), x NFE, x2 with CFG."""
    mats = 3 if getattr(cfg, "ffn_act", "gelu") == "swiglu" else 2
    block = Block("DiT over the full sequence", "transformer", cfg.layers, cfg.dim, ffn=cfg.ffn, ffn_mats=mats,
                  length=L(one=1, prompt=1, target=1), per_nfe=True, cfg=True)
    return ArchSpec(
        name=name, label=label or f"{name} (NFE={nfe})", blocks=(block,), frame_rate=cfg.frame_rate,
        params=f"{cfg.layers}x{cfg.dim}/{cfg.ffn}", nfe=nfe, cfg=guidance, model_config=cfg,
        sources=("ttsbench.systems.nar.config.NARConfig: DiTAR's blocks (systems/speech/layers.py), "
                 "E2/F5-style text in-frame, fixed total duration",),
        assumptions=("the time token is one extra position; text and prompt are summed in-frame",),
    )


def distar_arch(cfg: Any, *, steps: int = DISTAR_STEPS, guidance: bool = True, layers: int | None = None,
                frame_rate: float = VAE_FRAME_RATE, layout: str | None = None, name: str = "distar",
                label: str | None = None, active_layers: int | None = None) -> ArchSpec:
    """The ArchSpec of a `ttsbench.systems.distar.config.DiSTARConfig`: four counted networks.

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
    from ttsbench.errors import InputError

    layout = cfg.layout if layout is None else layout
    if layout not in ("frame", "frame_layer"):
        raise InputError(f"distar_arch: layout {layout!r}; choose frame or frame_layer")
    layers = cfg.num_layers if layers is None else layers
    if not 1 <= layers <= cfg.num_layers:
        raise InputError(f"distar_arch: layers {layers} must be in 1..{cfg.num_layers} (J)")
    mats = 3 if getattr(cfg, "ffn_act", "gelu") == "swiglu" else 2
    mdm_len = L(one=1, history=1, patch=1) if layout == "frame" else L(one=1, history_layers=1, patch_layers=1)
    per_mdm_call: dict[str, Any] = {"calls": L(target_patches=1), "per_nfe": True, "cfg": True}
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
        params=_distar_params(cfg), nfe=steps, cfg=guidance, patch_size=cfg.patch_size,
        history=cfg.history_patches, layers=layers, default_layers=active_layers, nfe_cap=L(patch_layers=1),
        model_config=cfg.with_options(layout=layout, num_layers=layers),
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


def _distar_params(cfg: Any) -> str:
    return f"{cfg.enc_layers}+{cfg.lm_layers}+{cfg.mdm_layers}L x {cfg.mdm_dim}"


def _params(cfg: Any) -> str:
    return f"{cfg.enc_layers}+{cfg.lm_layers}+{cfg.dit_layers}L"


def register_model_archs() -> None:
    """ARCHS entries for our own models: ditar-{tiny,0.1b,0.4b,1b} (10 LocDiT calls per patch, x2 CFG;
    "ditar-0.6b" is Table 1's row, see archs.py), nar-dit-{tiny,0.6b} (NFE 10, x2 CFG), and DiSTAR:
    distar-tiny (our tiny config) and distar-{base,medium}[-frame-layer] at the paper's codec (64 Hz,
    J = 9, K = 65,536, P = 8, 1 history patch, N = 24, history-only CFG, full heads)."""
    from ttsbench.plugins import ARCHS
    from ttsbench.systems.ditar.config import SIZES as DITAR_SIZES
    from ttsbench.systems.nar.config import SIZES as NAR_SIZES

    for size, cfg in DITAR_SIZES.items():
        if size != "0.6b":
            ARCHS.add(f"ditar-{size}", ditar_arch(cfg, nfe=10, name=f"ditar-{size}"))
    for size, cfg in NAR_SIZES.items():
        ARCHS.add(f"nar-dit-{size}", nar_arch(cfg, nfe=10, name=f"nar-dit-{size}"))
    _register_distar(ARCHS)


def _register_distar(archs: Any) -> None:
    from ttsbench.systems.distar.config import SIZES as DISTAR_SIZES

    archs.add("distar-tiny", distar_arch(DISTAR_SIZES["tiny"], name="distar-tiny"))
    reported = {"base": "0.15B", "medium": "0.3B"}
    for size, params in reported.items():
        cfg = DISTAR_SIZES[size].with_options(num_layers=9, codebook_size=65_536, patch_size=8, history_patches=1,
                                              head="full")
        for layout, suffix, words in (("frame", "", "per-frame MDM, ours"),
                                      ("frame_layer", "-frame-layer", "per-(frame, layer) MDM")):
            name = f"distar-{size}{suffix}"
            spec = distar_arch(cfg, steps=DISTAR_STEPS, guidance=True, frame_rate=DISTAR_CODEC_RATE, layout=layout,
                               name=name, label=f"DiSTAR-{size} ({words})")
            archs.add(name, spec.with_setting(params=f"{params} ({_distar_params(cfg)})"))
