"""ArchSpecs built from our own model configs, so `system.arch()` returns the spec of the model it
actually runs (its sizes, patch size, history, NFE and CFG)."""

from __future__ import annotations

from typing import Any

from ttsbench.metrics.cost.spec import ArchSpec, Block, Length

L = Length.of
VAE_FRAME_RATE = 40.0  # DiTAR §3.5.1: 24 kHz -> 40 Hz x 64 latent


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
        history=cfg.history_patches,
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
        params=f"{cfg.layers}x{cfg.dim}/{cfg.ffn}", nfe=nfe, cfg=guidance,
        sources=("ttsbench.systems.nar.config.NARConfig: DiTAR's blocks (systems/ditar/layers.py), "
                 "E2/F5-style text in-frame, fixed total duration",),
        assumptions=("the time token is one extra position; text and prompt are summed in-frame",),
    )


def _params(cfg: Any) -> str:
    return f"{cfg.enc_layers}+{cfg.lm_layers}+{cfg.dit_layers}L"


def register_model_archs() -> None:
    """ARCHS entries for our own models: ditar-{tiny,0.1b,0.4b,1b} (10 LocDiT calls per patch, x2 CFG;
    "ditar-0.6b" is Table 1's row, see archs.py) and nar-dit-{tiny,0.6b} (NFE 10, x2 CFG)."""
    from ttsbench.plugins import ARCHS
    from ttsbench.systems.ditar.config import SIZES as DITAR_SIZES
    from ttsbench.systems.nar.config import SIZES as NAR_SIZES

    for size, cfg in DITAR_SIZES.items():
        if size != "0.6b":
            ARCHS.add(f"ditar-{size}", ditar_arch(cfg, nfe=10, name=f"ditar-{size}"))
    for size, cfg in NAR_SIZES.items():
        ARCHS.add(f"nar-dit-{size}", nar_arch(cfg, nfe=10, name=f"nar-dit-{size}"))
