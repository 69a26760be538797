"""Batched patch-autoregressive generation (DiTAR, DiSTAR): prompt prefill, KV-cached AR steps,
per-item stop and noise.

A model takes part by implementing `PatchAR` (five members, below): its `PatchLM`, the geometry of
its frames (`PatchUnits`), the aggregation encoder (`encode_patches`), its patch head
(`sample_patch`) and the noise that head draws per step (`noise_spec`). Frames are zero-padded, so
0 must mean "padding" in the model's units (DiSTAR shifts its codes by one for this).

Layout. Row b's prefix is [phones_b ; prompt patch embeddings_b] (prompt frames padded to a
multiple of P on `cfg.pad_side`), left-padded to the longest prefix so that every row's next
position is the same column; RoPE positions count from each row's first real token and padded
keys are masked, so a row's result does not depend on the other rows (up to float rounding).

Step k (k patches generated so far):
1. stop check on h (`stop_label = "after_last"`: p_stop > threshold ends the row before decoding);
2. LocDiT samples patch k from h with the last `history_patches` patches as context (the prompt's
   last patches first, then the generated ones, clean), NFE guided evaluations, one noise draw;
3. (`"on_last"`: the stop check after decoding, the patch is kept);
4. the patch goes through the aggregation encoder and one LM decode step gives the next h.

Finished rows keep riding along (their outputs are ignored) until every row is done or
`max_patches` is reached; noise comes from each row's own generator, one (P, C) draw per step,
so the same seed gives the same audio whatever the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor

from ttsbench.errors import InputError
from ttsbench.systems.speech.patch_lm import PatchLM
from ttsbench.systems.speech.patches import history_windows, patchify


@dataclass(frozen=True)
class PatchUnits:
    """The frames a patch model generates.

    patch_size: P frames per AR step. history_patches: clean previous patches the head sees.
    channels: C values per frame (latent width, or J RVQ layers). pad_side: where a prompt is
    zero-padded to whole patches ("left" | "right"). stop_label: "after_last" | "on_last" (when
    the stop check runs, see the module docstring). dtype: the frames' dtype (torch.long for
    codes); None means the weights' dtype.
    """

    patch_size: int
    history_patches: int
    channels: int
    pad_side: str = "left"
    stop_label: str = "after_last"
    dtype: torch.dtype | None = None

    @property
    def history_frames(self) -> int:
        return self.history_patches * self.patch_size


class PatchAR(Protocol):
    """What `iter_patches` needs from a model."""

    @property
    def patch_lm(self) -> PatchLM: ...

    @property
    def units(self) -> PatchUnits: ...

    def encode_patches(self, patches: Tensor) -> Tensor:
        """(..., P, C) frames -> (..., D) LM input embeddings (the aggregation encoder)."""
        ...

    def sample_patch(self, h: Tensor, history: Tensor, noise: Tensor, sampler: Any) -> Tensor:
        """h (B, D), history (B, H, C), this step's noise (B, *shape) -> the next patch (B, P, C)."""
        ...

    def noise_spec(self, sampler: Any) -> tuple[tuple[int, ...], str]:
        """The per-row, per-step draw: (shape, "normal" | "uniform")."""
        ...


@dataclass(frozen=True)
class GenerationConfig:
    """When generation stops. min_patches == max_patches forces a fixed length (timing runs)."""

    max_patches: int = 300  # 30 s at 40 Hz, P = 4
    min_patches: int = 0  # no stop before this many patches (GROW: 10 patches = 1 s)
    stop_threshold: float = 0.5  # p_stop above this ends a row; > 1 disables the stop head
    noise_block: int = 16  # steps of noise drawn per row at once (fewer generator calls)

    def __post_init__(self) -> None:
        if self.max_patches < 1 or not 0 <= self.min_patches <= self.max_patches:
            raise InputError(f"need 0 <= min_patches ({self.min_patches}) <= max_patches ({self.max_patches}), "
                             f"max_patches >= 1")


@dataclass
class PatchStep:
    """One AR step: the sampled patches of every row and which rows they belong to."""

    step: int
    patches: Tensor  # (B, P, C) fp32
    emitted: Tensor  # (B,) bool: row b's output gets this patch


class NoiseBank:
    """Per-row draws of `shape`, one per step, from each row's own generator ("normal": N(0, 1),
    DiTAR's (P, C) ODE start; "uniform": U[0, 1), DiSTAR's token sampling)."""

    def __init__(self, generators: Sequence[torch.Generator], shape: tuple[int, ...], device: torch.device,
                 block: int, kind: str = "normal") -> None:
        self.generators, self.shape, self.device, self.block = list(generators), tuple(shape), device, block
        self.draw = {"normal": torch.randn, "uniform": torch.rand}[kind]
        self.buffer: Tensor | None = None
        self.used = block

    def next(self) -> Tensor:
        if self.used == self.block:
            draws = [self.draw((self.block, *self.shape), generator=g, device=g.device) for g in self.generators]
            self.buffer = torch.stack(draws, dim=1).to(self.device)  # (block, B, P, C)
            self.used = 0
        self.used += 1
        return self.buffer[self.used - 1]


@dataclass
class Prefix:
    """The left-padded LM prefix and the first LocDiT history."""

    embeds: Tensor  # (B, S0, D)
    positions: Tensor  # (B, S0) RoPE positions, 0 at each row's first real token
    key_valid: Tensor | None  # (B, S0) False on left padding; None when no row is padded
    history: Tensor  # (B, H, C) the prompt's last history_patches patches (zeros if fewer)


def build_prefix(model: PatchAR, phones: Sequence[Sequence[int]], prompts: Sequence[Tensor]) -> Prefix:
    """Phones and prompt frames of every row -> the LM prefix (see the module docstring)."""
    units, lm = model.units, model.patch_lm
    device, dtype = lm.weight.device, lm.weight.dtype
    if len(phones) != len(prompts) or not phones:
        raise InputError(f"generate: {len(phones)} phone sequences for {len(prompts)} prompts")
    for i, (ph, pr) in enumerate(zip(phones, prompts)):
        if len(ph) == 0:
            raise InputError(f"generate: row {i} has no phones (empty text)")
        if pr.dim() != 2 or pr.shape[1] != units.channels:
            raise InputError(f"generate: row {i} prompt frames are {tuple(pr.shape)}, expected (T, {units.channels})")
    if max(max(p) for p in phones) >= lm.phone_vocab:
        raise InputError(f"generate: a phone id exceeds the model's table of {lm.phone_vocab}")
    B = len(phones)
    phone_lens = torch.tensor([len(p) for p in phones], device=device)
    phone_ids = torch.zeros(B, int(phone_lens.max()), dtype=torch.long, device=device)
    for i, p in enumerate(phones):
        phone_ids[i, :len(p)] = torch.as_tensor(list(p), dtype=torch.long)
    lat_lens = torch.tensor([int(p.shape[0]) for p in prompts], device=device)
    unit_dtype = units.dtype or dtype
    latents = torch.zeros(B, max(int(lat_lens.max()), 1), units.channels, device=device, dtype=unit_dtype)
    for i, p in enumerate(prompts):
        latents[i, :p.shape[0]] = p.to(device, unit_dtype)
    patches, _, n = patchify(latents, lat_lens, units.patch_size, units.pad_side)  # (B, Np, P, C)
    has_patch = torch.arange(patches.shape[1], device=device)[None] < n[:, None]
    emb = torch.zeros(B, patches.shape[1], lm.width, device=device, dtype=dtype)
    if bool(has_patch.any()):
        emb[has_patch] = model.encode_patches(patches[has_patch]).to(dtype)
    right = lm.inputs(phone_ids, phone_lens, emb, n)  # (B, S0, D) right-padded
    S0 = right.shape[1]
    pad = S0 - (phone_lens + n)  # (B,) left padding per row
    s = torch.arange(S0, device=device)[None]
    src = s - pad[:, None]
    embeds = right.gather(1, src.clamp(min=0)[..., None].expand_as(right)) * (src >= 0)[..., None]
    key_valid = (src >= 0) if bool((pad > 0).any()) else None
    with_next = torch.cat([patches, patches.new_zeros(B, 1, *patches.shape[2:])], dim=1)
    windows = history_windows(with_next, units.history_patches)  # (B, Np + 1, H, C)
    history = windows[torch.arange(B, device=device), n]  # the window in front of patch n_b
    return Prefix(embeds, src.clamp(min=0), key_valid, history)


def iter_patches(model: PatchAR, phones: Sequence[Sequence[int]], prompts: Sequence[Tensor],
                 generators: Sequence[torch.Generator], sampler: Any, gen: GenerationConfig | None = None,
                 row_max: Sequence[int] | None = None) -> Iterator[PatchStep]:
    """Yield every AR step's patches as soon as the patch head has sampled them (module docstring).

    `sampler` is the head's setting (DiTAR: `SamplerConfig`, DiSTAR: `InfillConfig`). `row_max`
    caps each row's patches (default: `gen.max_patches` for all); a row that reaches its cap ends
    without the stop head.
    """
    units, lm, gen = model.units, model.patch_lm, gen or GenerationConfig()
    if len(generators) != len(phones):
        raise InputError(f"generate: {len(generators)} generators for {len(phones)} rows (one per row)")
    caps = [min(int(r), gen.max_patches) for r in row_max] if row_max is not None else [gen.max_patches] * len(phones)
    if len(caps) != len(phones) or min(caps) < 1:
        raise InputError(f"generate: row_max needs one cap >= 1 per row, got {list(row_max or [])}")
    prefix = build_prefix(model, phones, prompts)
    B, S0, _ = prefix.embeds.shape
    device, dtype = prefix.embeds.device, prefix.embeds.dtype
    steps = max(caps)
    limit = torch.tensor(caps, device=device)
    cache = lm.new_cache(B, S0 + steps, device, _compute_dtype(device, dtype))
    h = lm.prefill(prefix.embeds, prefix.positions, prefix.key_valid, cache)[:, -1]  # (B, D)
    position, key_valid, history = prefix.positions[:, -1:], prefix.key_valid, prefix.history
    noise_shape, noise_kind = model.noise_spec(sampler)
    noise = NoiseBank(generators, noise_shape, device, gen.noise_block, noise_kind)
    active = torch.ones(B, dtype=torch.bool, device=device)
    count = torch.zeros(B, dtype=torch.long, device=device)
    after_last = units.stop_label == "after_last"
    for step in range(steps):
        may_stop = (lm.stop_prob(h) > gen.stop_threshold)
        if after_last:
            active &= ~(may_stop & (count >= gen.min_patches))
            if not bool(active.any()):
                return
        x = model.sample_patch(h, history, noise.next(), sampler)  # (B, P, C)
        emitted = active.clone()
        count += emitted.long()
        yield PatchStep(step, x, emitted)
        if not after_last:
            active &= ~(may_stop & (count >= gen.min_patches))
        active &= count < limit
        if step + 1 == steps or not bool(active.any()):
            return
        if units.history_patches:
            history = torch.cat([history, x.to(history.dtype)], dim=1)[:, -units.history_frames:]
        position = position + 1
        if key_valid is not None:
            key_valid = torch.cat([key_valid, key_valid.new_ones(B, 1)], dim=1)
        emb = model.encode_patches(x.to(dtype) if x.is_floating_point() else x)[:, None]  # (B, 1, D)
        h = lm.step(emb, cache, position, key_valid)[:, 0]


def _compute_dtype(device: torch.device, weight_dtype: torch.dtype) -> torch.dtype:
    """The dtype keys and values come out in: autocast's (bf16 KV cache, half the memory) or the weights'."""
    try:
        if torch.is_autocast_enabled(device.type):
            return torch.get_autocast_dtype(device.type)
    except (AttributeError, TypeError, RuntimeError):  # torch < 2.4 has no per-device autocast query
        pass
    return weight_dtype


def generate(model: PatchAR, phones: Sequence[Sequence[int]], prompts: Sequence[Tensor],
             generators: Sequence[torch.Generator], sampler: Any, gen: GenerationConfig | None = None,
             row_max: Sequence[int] | None = None) -> list[Tensor]:
    """Run `iter_patches` to the end; per row its generated frames (n_b * P, C), fp32."""
    empty = torch.zeros(0, model.units.channels, device=model.patch_lm.weight.device)
    return collect(iter_patches(model, phones, prompts, generators, sampler, gen, row_max), len(phones), empty)


def collect(steps: Iterable[PatchStep], rows: int, empty: Tensor) -> list[Tensor]:
    """Concatenate each row's emitted patches in order: (n_b * P, ...) per row; `empty` for a row
    that stopped before its first patch."""
    chunks: list[list[Tensor]] = [[] for _ in range(rows)]
    for step in steps:
        for b in torch.nonzero(step.emitted).flatten().tolist():
            chunks[b].append(step.patches[b])
    return [torch.cat(c, dim=0) if c else empty for c in chunks]
