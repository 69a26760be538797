"""DiSTAR model configuration: the two reported sizes (base ~0.15B, medium ~0.3B) plus a tiny size.

DiSTAR (Song et al., arXiv 2510.12210; details in shared notes §4, from secondary sources) drafts
one vector per patch of P frames x J RVQ layers with a causal LM over [phones ; patch embeddings]
and fills the codes of the next patch with a bidirectional masked-diffusion model (MDM). The LM,
its KV cache, the stop head and the aggregation encoder are DiTAR's (imported, not copied); the
field names they read (`enc_*`, `lm_*`, `patch_size`, `history_patches`, `stop_*`, `pad_side`,
`ffn_act`, `norm_eps`, `rope_theta`, `phone_vocab`) mean what they mean in `DiTARConfig`.

Sizes (``SIZES``; ``DiSTARConfig.from_size("base")``), layers x width / FFN width:

    size     aggregator       LM               MDM              transformer params
    base     4 x 512 / 2048   24 x 512 / 2048  16 x 512 / 2048  ~0.14 B
    medium   4 x 768 / 3072   24 x 768 / 3072  16 x 768 / 3072  ~0.31 B

The reported 0.15B / 0.3B match the transformers alone with a 4x two-matrix FFN (a SwiGLU FFN of
8/3 x width has the same count). They cannot include 65,536-way code embeddings and logit heads:
J = 9 full-width heads alone are 9 x 512 x 65,536 = 0.30 B at base width. `ttsbench params`
prints both numbers.

Token ids: the public codes are 0 .. K-1 (what the RVQ tokenizer emits). Inside the model every
code is shifted by one, so that id 0 is padding (frames in front of the first patch, the history
of patch 0, RVQ layers pruned away) and id K + 1 is the MDM's [MASK]; the embedding tables have
K + 2 rows. The shift lets DiTAR's zero-padding patchify and history windows run on codes as-is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from ttsbench.errors import InputError

LAYOUTS = ("frame", "frame_layer")
HEADS = ("full", "tied")
MASK_SCHEDULES = ("cosine", "linear")
LOSS_WEIGHTINGS = ("mean", "elbo")
STOP_LABELS = ("after_last", "on_last")
PAD_SIDES = ("left", "right")
FFN_ACTS = ("gelu", "swiglu")


@dataclass(frozen=True)
class DiSTARConfig:
    """Structure and training-time choices of one DiSTAR model (defaults: the base size)."""

    # RVQ codes: J layers of K-way codes at the tokenizer's frame rate. The trainer overwrites
    # both from the RVQ tokenizer it trains on.
    num_layers: int = 9  # J (paper: 9)
    codebook_size: int = 65_536  # K (paper: 65,536, 16 bits per code)
    code_dim: int = 64  # e: code embeddings are (K + 2) x e tables per layer, projected to each width
    patch_size: int = 8  # P frames per AR step (paper default, Table 6)
    history_patches: int = 1  # clean previous patches of codes the MDM sees (the "history window")
    phone_vocab: int = 1024  # DiTAR's phone table (id 0 = padding)
    # Aggregator (DiTAR's aggregation encoder: bidirectional, learnable token in front of P frames).
    enc_layers: int = 4
    enc_dim: int = 512
    enc_heads: int = 8
    enc_ffn: int = 2048
    # Drafting LM (DiTAR's causal LM with KV cache and stop head).
    lm_layers: int = 24
    lm_dim: int = 512
    lm_heads: int = 8
    lm_ffn: int = 2048
    # Masked-diffusion infiller (bidirectional).
    mdm_layers: int = 16
    mdm_dim: int = 512
    mdm_heads: int = 8
    mdm_ffn: int = 2048
    ffn_act: str = "gelu"
    norm_eps: float = 1e-6
    rope_theta: float = 10_000.0
    # MDM token layout. "frame": one token per frame, its input the sum of its J code embeddings
    # (masked ones: each layer's [MASK]), J logit heads per frame (SoundStorm's layout; P tokens
    # per patch). "frame_layer": one token per (frame, layer), P x J tokens per patch, RoPE
    # position frame * J + layer plus a learned layer embedding. The paper does not say which; the
    # cost differs ~10x (`ttsbench flops --system 'distar-*'`).
    layout: str = "frame"
    # Logit heads: "full" = one Linear(mdm_dim, K) per layer; "tied" = Linear(mdm_dim, code_dim)
    # per layer, then scores against that layer's code embedding table (K x e instead of K x D).
    head: str = "full"
    # Masked diffusion (LLaDA / MaskGIT): a patch's tokens are masked independently with
    # probability gamma(u), u ~ U(0, 1); gamma = cos(pi/2 (1 - u)) ("cosine") or u ("linear").
    mask_schedule: str = "cosine"
    loss_weighting: str = "mean"  # "mean": CE averaged over masked tokens | "elbo": LLaDA's 1/gamma weights
    # Guidance (paper: AR-condition and history-window dropout, p = 0.1 each).
    cond_dropout: float = 0.1  # h -> 0 for the MDM
    history_dropout: float = 0.1  # history codes -> padding
    # Bitrate by layer pruning: with this probability per utterance, the top l ~ U{1..J-1} layers
    # are dropped (padding in every input, no loss); 1 - p of the rows keep all J. The paper's
    # "l ~ U{0..8}" is layer_truncation = 8/9 at J = 9.
    layer_truncation: float = 8 / 9
    # Stop head, as in DiTAR (see DiTARConfig): label on a dedicated step after the last patch.
    stop_label: str = "after_last"
    stop_weight: float = 1.0
    stop_detach: bool = False
    pad_side: str = "left"

    def __post_init__(self) -> None:
        for name, value, allowed in (("layout", self.layout, LAYOUTS), ("head", self.head, HEADS),
                                     ("mask_schedule", self.mask_schedule, MASK_SCHEDULES),
                                     ("loss_weighting", self.loss_weighting, LOSS_WEIGHTINGS),
                                     ("stop_label", self.stop_label, STOP_LABELS),
                                     ("pad_side", self.pad_side, PAD_SIDES), ("ffn_act", self.ffn_act, FFN_ACTS)):
            if value not in allowed:
                raise InputError(f"DiSTARConfig.{name} = {value!r}; choose one of {', '.join(allowed)}")
        for part in ("enc", "lm", "mdm"):
            dim, heads = getattr(self, f"{part}_dim"), getattr(self, f"{part}_heads")
            if dim % heads or (dim // heads) % 2:
                raise InputError(f"DiSTARConfig: {part}_dim {dim} must split into {part}_heads {heads} "
                                 f"heads of even width (RoPE rotates pairs)")
        if self.num_layers < 1 or self.codebook_size < 2 or self.code_dim < 1:
            raise InputError(f"DiSTARConfig: num_layers {self.num_layers} >= 1, codebook_size "
                             f"{self.codebook_size} >= 2, code_dim {self.code_dim} >= 1 required")
        if self.patch_size < 1 or self.history_patches < 0:
            raise InputError(f"DiSTARConfig: patch_size {self.patch_size} >= 1 and history_patches "
                             f"{self.history_patches} >= 0 required")
        for name in ("cond_dropout", "history_dropout", "layer_truncation"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"DiSTARConfig.{name} = {getattr(self, name)}; expected [0, 1]")

    # ---- ids -------------------------------------------------------------------------------------
    @property
    def pad_id(self) -> int:
        return 0

    @property
    def mask_id(self) -> int:
        """[MASK] inside the model (codes are shifted by one, see the module docstring)."""
        return self.codebook_size + 1

    @property
    def table_rows(self) -> int:
        return self.codebook_size + 2

    # ---- shapes ----------------------------------------------------------------------------------
    @property
    def history_frames(self) -> int:
        return self.history_patches * self.patch_size

    @property
    def latent_dim(self) -> int:
        """Channels per frame of the model's units: the J code layers (DiTAR's generic loop reads it)."""
        return self.num_layers

    def mdm_tokens(self, layers: int | None = None) -> int:
        """MDM sequence length for one patch with `layers` active RVQ layers (default J):
        1 (h) + (H + P) frames ("frame") or 1 + (H + P) x layers ("frame_layer")."""
        layers = self.num_layers if layers is None else layers
        frames = self.history_frames + self.patch_size
        return 1 + frames * (layers if self.layout == "frame_layer" else 1)

    def kbps(self, frame_rate: float, layers: int | None = None) -> float:
        """Bitrate of the codes: frame rate x layers x log2(K) bits per second, in kbps."""
        layers = self.num_layers if layers is None else layers
        return frame_rate * layers * math.log2(self.codebook_size) / 1000.0

    def with_options(self, **changes: Any) -> DiSTARConfig:
        return replace(self, **changes)

    @classmethod
    def from_size(cls, size: str, **overrides: Any) -> DiSTARConfig:
        key = size.lower()
        if key not in SIZES:
            raise InputError(f"unknown DiSTAR size {size!r}; choose one of {', '.join(SIZES)}")
        return replace(SIZES[key], **overrides)

    @classmethod
    def tiny(cls) -> DiSTARConfig:
        """The tests' size: `from_size("tiny")`."""
        return SIZES["tiny"]


def _sized(width: int, heads: int) -> DiSTARConfig:
    """Table 4 / App. B.2 as reported: aggregator 4, LM 24, MDM 16 layers at one width, FFN 4x."""
    return DiSTARConfig(enc_dim=width, enc_heads=heads, enc_ffn=4 * width, lm_dim=width, lm_heads=heads,
                        lm_ffn=4 * width, mdm_dim=width, mdm_heads=heads, mdm_ffn=4 * width)


SIZES: dict[str, DiSTARConfig] = {
    # Tests only: 4 layers of 16-way codes, P = 4, ~60k parameters. Not a model to evaluate.
    "tiny": DiSTARConfig(num_layers=4, codebook_size=16, code_dim=16, patch_size=4,
                         enc_layers=1, enc_dim=32, enc_heads=2, enc_ffn=64, lm_layers=2, lm_dim=32, lm_heads=2,
                         lm_ffn=64, mdm_layers=2, mdm_dim=32, mdm_heads=2, mdm_ffn=64),
    "base": _sized(512, 8),
    "medium": _sized(768, 12),
}
PAPER_SIZES = ("base", "medium")
