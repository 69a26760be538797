"""DiTAR model configuration: the paper's Table 8 sizes plus tiny sizes for tests.

Every choice the paper leaves implicit is a field here (with the evidence in a comment), so it can
be ablated and is saved with every checkpoint. Sampling settings (NFE, guidance, temperature) are
inference options, not model structure: see `ttsbench.systems.speech.sampling.SamplerConfig`.

Sizes (``SIZES``; ``DiTARConfig.from_size("0.6b")``):

    size   encoder          LM                 LocDiT           params (ffn_act="gelu")
    0.1b   4 x 512 / 2048   24 x 512 / 1024    4 x 512 / 2048   ~0.08 B
    0.4b   4 x 1024 / 4096  24 x 1024 / 4096   4 x 1024 / 4096  ~0.40 B
    0.6b   6 x 1024 / 4096  36 x 1024 / 4096   6 x 1024 / 4096  ~0.60 B
    1b     8 x 1024 / 4096  24 x 1536 / 6144   8 x 1024 / 4096  ~0.88 B

(layers x width / FFN width; heads 8 / 16 / 16 / 16, LM of 1b 24.) `ttsbench params` prints the
exact counts. A two-matrix FFN is what makes 0.4b and 0.6b land on 0.40 B and 0.60 B (a SwiGLU FFN
of the stated width would give 0.54 B and 0.81 B), and it is also what Appendix A.4's FLOPs
formulas count (FC1 + FC2), so "gelu" is the default and "swiglu" an ablation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ttsbench.errors import InputError

FFN_ACTS = ("gelu", "swiglu")
TIME_CONDS = ("token", "adaln")
STOP_LABELS = ("after_last", "on_last")
DROPOUT_UNITS = ("position", "utterance")
PAD_SIDES = ("left", "right")


@dataclass(frozen=True)
class DiTARConfig:
    """Structure and training-time choices of one DiTAR model (defaults: the 0.6B of Table 1)."""

    # Speech tokens (§3.5.1): the tokenizer's latent width; the trainer overwrites it from the tokenizer.
    latent_dim: int = 64  # C
    patch_size: int = 4  # P: frames per LM step (Table 1 / §4.3 default)
    history_patches: int = 1  # clean previous patches given to LocDiT as prefix (Table 5: 1 is best at P=4)
    # Text (§3.5.4): phone lookup table; id 0 is padding. Must cover the front end's table.
    phone_vocab: int = 1024  # the front end's table has 531 rows (frontend.TABLE_VERSION); room to append
    # Aggregation encoder (bidirectional, learnable special token in front, §3.5.2).
    enc_layers: int = 6
    enc_dim: int = 1024
    enc_heads: int = 16
    enc_ffn: int = 4096
    # Language model (causal).
    lm_layers: int = 36
    lm_dim: int = 1024
    lm_heads: int = 16
    lm_ffn: int = 4096
    # LocDiT (bidirectional diffusion transformer).
    dit_layers: int = 6
    dit_dim: int = 1024
    dit_heads: int = 16
    dit_ffn: int = 4096
    # Transformer details shared by all three (§3.5.2: Pre-Norm, RMSNorm, RoPE).
    ffn_act: str = "gelu"  # "gelu": Linear-GELU-Linear (see module docstring) | "swiglu"
    norm_eps: float = 1e-6
    rope_theta: float = 10_000.0
    # How LocDiT sees the diffusion time. "token": emb(t) is added to the (projected) LM output and
    # the sum is LocDiT's first token (paper §3.5.2, VoxCPM). "adaln": the h token alone, time
    # through AdaLN-Zero modulation in every block (GROW's variant, an ablation).
    time_cond: str = "token"
    time_freq_dim: int = 256  # sinusoidal features of t before the 2-layer SiLU MLP
    time_scale: float = 1000.0  # t in [0, 1] is scaled by this before the sinusoids (DiT/VoxCPM)
    # LM guidance (§3.3): h -> 0 with this probability during training.
    guidance_dropout: float = 0.1
    guidance_dropout_unit: str = "position"  # "position": per patch ("along the sequence") | "utterance"
    # Stop head (§3.5.4): one linear logit on the LM output, BCE. "after_last": the label is 1 at
    # the LM position after the last patch (a dedicated EOS step: stopping never drops speech);
    # "on_last": 1 at the position that predicts the last patch (GROW), checked after decoding it.
    stop_label: str = "after_last"
    stop_weight: float = 1.0  # L = L_diff + stop_weight * L_stop (paper: 1)
    stop_detach: bool = False  # GROW trains the stop head on detached LM states; the paper does not say
    # Patchify: frames are padded with zeros to a multiple of P on this side. "left" keeps the last
    # prompt patch (LocDiT's first history) all real audio (VoxCPM); padded frames get no loss.
    pad_side: str = "left"

    def __post_init__(self) -> None:
        for name, value, allowed in (("ffn_act", self.ffn_act, FFN_ACTS), ("time_cond", self.time_cond, TIME_CONDS),
                                     ("stop_label", self.stop_label, STOP_LABELS),
                                     ("guidance_dropout_unit", self.guidance_dropout_unit, DROPOUT_UNITS),
                                     ("pad_side", self.pad_side, PAD_SIDES)):
            if value not in allowed:
                raise InputError(f"DiTARConfig.{name} = {value!r}; choose one of {', '.join(allowed)}")
        for part in ("enc", "lm", "dit"):
            dim, heads = getattr(self, f"{part}_dim"), getattr(self, f"{part}_heads")
            if dim % heads or (dim // heads) % 2:
                raise InputError(f"DiTARConfig: {part}_dim {dim} must split into {part}_heads {heads} "
                                 f"heads of even width (RoPE rotates pairs)")
        if self.patch_size < 1 or self.history_patches < 0 or self.latent_dim < 1:
            raise InputError(f"DiTARConfig: patch_size {self.patch_size} >= 1, history_patches "
                             f"{self.history_patches} >= 0, latent_dim {self.latent_dim} >= 1 required")
        if not 0.0 <= self.guidance_dropout < 1.0:
            raise InputError(f"DiTARConfig.guidance_dropout = {self.guidance_dropout}; expected [0, 1)")

    @property
    def history_frames(self) -> int:
        """Frames of clean context in front of LocDiT's noisy patch."""
        return self.history_patches * self.patch_size

    @property
    def locdit_tokens(self) -> int:
        """LocDiT sequence length: 1 (h [+ t]) + history frames + P noisy frames (9 at P=4, H=1)."""
        return 1 + self.history_frames + self.patch_size

    def with_options(self, **changes: Any) -> DiTARConfig:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_size(cls, size: str, **overrides: Any) -> DiTARConfig:
        """A preset by name ("tiny", "0.1b", "0.4b", "0.6b", "1b"), with field overrides."""
        key = size.lower()
        if key not in SIZES:
            raise InputError(f"unknown DiTAR size {size!r}; choose one of {', '.join(SIZES)}")
        return replace(SIZES[key], **overrides)

    @classmethod
    def tiny(cls) -> DiTARConfig:
        """The tests' size (random weights, ~80k parameters): `from_size("tiny")`."""
        return SIZES["tiny"]


def _table8(enc: tuple[int, int, int, int], lm: tuple[int, int, int, int],
            dit: tuple[int, int, int, int]) -> DiTARConfig:
    """A Table 8 column: (layers, hidden dim, heads, FFN dim) for encoder, LM and LocDiT."""
    return DiTARConfig(enc_layers=enc[0], enc_dim=enc[1], enc_heads=enc[2], enc_ffn=enc[3],
                       lm_layers=lm[0], lm_dim=lm[1], lm_heads=lm[2], lm_ffn=lm[3],
                       dit_layers=dit[0], dit_dim=dit[1], dit_heads=dit[2], dit_ffn=dit[3])


SIZES: dict[str, DiTARConfig] = {
    # Tests only: ~40k parameters, fast on one CPU core. Not a model to evaluate.
    "tiny": DiTARConfig(enc_layers=1, enc_dim=32, enc_heads=2, enc_ffn=64,
                        lm_layers=2, lm_dim=32, lm_heads=2, lm_ffn=64,
                        dit_layers=2, dit_dim=32, dit_heads=2, dit_ffn=64, time_freq_dim=32),
    # Paper, Appendix A.2, Table 8.
    "0.1b": _table8((4, 512, 8, 2048), (24, 512, 8, 1024), (4, 512, 8, 2048)),
    "0.4b": _table8((4, 1024, 16, 4096), (24, 1024, 16, 4096), (4, 1024, 16, 4096)),
    "0.6b": _table8((6, 1024, 16, 4096), (36, 1024, 16, 4096), (6, 1024, 16, 4096)),
    "1b": _table8((8, 1024, 16, 4096), (24, 1536, 24, 6144), (8, 1024, 16, 4096)),
}
PAPER_SIZES = ("0.1b", "0.4b", "0.6b", "1b")
