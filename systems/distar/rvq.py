"""Residual vector quantization (RVQ) of continuous frame latents, trained by EMA k-means.

Shapes: N frames, C channels per frame (the continuous tokenizer's latent_dim), J layers,
K codes per layer, L <= J layers actually used (a lower bitrate).

Layer j quantizes what layers < j left over: r_0 = x, code_j = argmin_k |r_j - e_jk|^2,
r_{j+1} = r_j - e_j[code_j]. Decoding the first L layers is sum_{j<L} e_j[code_j], so every prefix of
the codes is a coarser reconstruction of the same frame (DiSTAR drops trailing layers for bitrate).

Training (`update`, no gradients): the first call fills each layer's codebook with random residual
vectors of the batch; then, per batch, every layer does one EMA k-means step (SoundStream / VQ-VAE-2
style): count_k <- decay * count_k + (1 - decay) * n_k, sum_k <- decay * sum_k + (1 - decay) * sum of
the residuals assigned to k, e_k = sum_k / Laplace-smoothed count_k. Codes whose EMA count falls
below `dead_threshold` are re-seeded from random residuals of the current batch. Under
torch.distributed the counts and sums are all-reduced and rank 0 picks the seeding samples, so every
rank keeps identical codebooks.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ttsbench.errors import InputError

_DIST_BLOCK = 1 << 24  # distance-matrix entries per chunk (64 MiB of float32)


class ResidualVQ(nn.Module):
    """J greedy residual codebooks of K codes of dimension C; all state is buffers (saved, no grads).

    Args:
        dim: C, channels of the vectors quantized.
        num_layers: J, residual layers.
        codebook_size: K, codes per layer.
        decay: EMA decay of the k-means statistics (0.99: ~100-step memory).
        eps: Laplace smoothing of the EMA counts (keeps empty codes from dividing by zero).
        dead_threshold: a code whose EMA count (frames per step, all ranks together) falls below
            this is re-seeded from the current batch; 0 turns restarts off.
    """

    def __init__(self, dim: int, num_layers: int = 9, codebook_size: int = 1024, *, decay: float = 0.99,
                 eps: float = 1e-5, dead_threshold: float = 1.0) -> None:
        super().__init__()
        if dim < 1 or num_layers < 1 or codebook_size < 2:
            raise InputError(f"rvq: need dim >= 1, num_layers >= 1, codebook_size >= 2; got "
                             f"{dim}, {num_layers}, {codebook_size}")
        if not 0.0 <= decay < 1.0:
            raise InputError(f"rvq: decay must be in [0, 1), got {decay}")
        self.dim, self.num_layers, self.codebook_size = dim, num_layers, codebook_size
        self.decay, self.eps, self.dead_threshold = decay, eps, dead_threshold
        # Random codes until the first update replaces them with data: an untrained RVQ still runs.
        self.register_buffer("codebooks", torch.randn(num_layers, codebook_size, dim))  # (J, K, C)
        self.register_buffer("ema_count", torch.zeros(num_layers, codebook_size))  # (J, K) frames/step
        self.register_buffer("ema_sum", torch.zeros(num_layers, codebook_size, dim))  # (J, K, C)
        self.register_buffer("initialized", torch.tensor(False))  # set by the first update()

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_layers={self.num_layers}, codebook_size={self.codebook_size}"

    def _layers(self, layers: int | None) -> int:
        if layers is None:
            return self.num_layers
        if not 1 <= int(layers) <= self.num_layers:
            raise InputError(f"rvq: layers must be in 1..{self.num_layers}, got {layers}")
        return int(layers)

    def _flat(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise InputError(f"rvq: expected vectors of {self.dim} channels, got shape {tuple(x.shape)}")
        return x.reshape(-1, self.dim).to(self.codebooks.dtype)  # (N, C)

    @torch.no_grad()
    def encode(self, x: Tensor, layers: int | None = None) -> Tensor:
        """(..., C) float -> (..., L) int64 codes in [0, K), L = `layers` or J (greedy, layer by layer)."""
        L = self._layers(layers)
        residual = self._flat(x)
        codes = []
        for j in range(L):
            idx = nearest(residual, self.codebooks[j])  # (N,)
            residual = residual - self.codebooks[j][idx]
            codes.append(idx)
        return torch.stack(codes, -1).reshape(*x.shape[:-1], L)

    def _check_codes(self, codes: Tensor) -> int:
        if codes.dim() < 1 or not 1 <= codes.shape[-1] <= self.num_layers:
            raise InputError(f"rvq: codes must be (..., L) with 1 <= L <= {self.num_layers}, "
                             f"got shape {tuple(codes.shape)}")
        if codes.is_floating_point():
            raise InputError(f"rvq: codes must be integers, got {codes.dtype}")
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise InputError(f"rvq: codes must be in [0, {self.codebook_size}), got "
                             f"[{int(codes.min())}, {int(codes.max())}]")
        return codes.shape[-1]

    def _prefix_sums(self, codes: Tensor) -> list[Tensor]:
        """[(..., C) sum of layers 0..l for l < L]: the one place codes become vectors, so decode()
        and partial_sums() do the same additions in the same order (bit-identical prefixes)."""
        L = self._check_codes(codes)
        out = self.codebooks.new_zeros(*codes.shape[:-1], self.dim)
        sums = []
        for j in range(L):
            out = out + self.codebooks[j][codes[..., j]]
            sums.append(out)
        return sums

    def partial_sums(self, codes: Tensor) -> Tensor:
        """(..., L) codes -> (..., L, C): row l is the decode of the first l + 1 layers."""
        return torch.stack(self._prefix_sums(codes), -2)

    def decode(self, codes: Tensor) -> Tensor:
        """(..., L) codes -> (..., C): sum of the first L layers' code vectors (L < J: a partial decode)."""
        return self._prefix_sums(codes)[-1]

    def quantize(self, x: Tensor, layers: int | None = None) -> tuple[Tensor, Tensor]:
        """(..., C) -> (quantized (..., C), codes (..., L)); quantized == decode(codes) exactly."""
        codes = self.encode(x, layers)
        return self.decode(codes), codes

    @torch.no_grad()
    def update(self, x: Tensor) -> dict[str, Any]:
        """One EMA k-means step on a batch of frames (N, C) (or (..., C)); returns per-layer stats.

        Stats (over all ranks): `perplexity` exp(entropy) of this batch's code histogram, `used`
        codes hit at least once, `restarts` dead codes re-seeded (lists of J values).
        """
        residual = self._flat(x).to(self.codebooks.device)
        if residual.shape[0] == 0:
            raise InputError("rvq: update() needs at least one frame")
        first = not bool(self.initialized)
        K, stats = self.codebook_size, {"perplexity": [], "used": [], "restarts": []}
        for j in range(self.num_layers):
            if first:
                self.codebooks[j] = _pick(residual, K)
            idx = nearest(residual, self.codebooks[j])  # (N,)
            counts = torch.bincount(idx, minlength=K).to(residual.dtype)  # (K,)
            sums = torch.zeros_like(self.codebooks[j]).index_add_(0, idx, residual)  # (K, C)
            _all_reduce(counts)
            _all_reduce(sums)
            next_residual = residual - self.codebooks[j][idx]
            if first:  # the initial statistics are the first batch's (no bias towards zero)
                self.ema_count[j], self.ema_sum[j] = counts, sums
            else:
                self.ema_count[j].mul_(self.decay).add_(counts, alpha=1 - self.decay)
                self.ema_sum[j].mul_(self.decay).add_(sums, alpha=1 - self.decay)
            n = self.ema_count[j].sum()
            smoothed = (self.ema_count[j] + self.eps) / (n + K * self.eps) * n  # Laplace smoothing
            self.codebooks[j] = self.ema_sum[j] / smoothed[:, None]
            stats["restarts"].append(self._restart(j, residual))
            p = counts / counts.sum()
            stats["perplexity"].append(math.exp(float(-(p * torch.log(p.clamp_min(1e-12))).sum())))
            stats["used"].append(int((counts > 0).sum()))
            residual = next_residual
        self.initialized.fill_(True)
        return stats

    def _restart(self, j: int, residual: Tensor) -> int:
        """Re-seed layer j's dead codes from random residuals (identical on every rank)."""
        if self.dead_threshold <= 0:
            return 0
        dead = self.ema_count[j] < self.dead_threshold  # (K,) the same on every rank (all-reduced)
        n_dead = int(dead.sum())
        if n_dead:
            seeds = _pick(residual, n_dead)  # (n_dead, C)
            self.codebooks[j][dead] = seeds
            self.ema_count[j][dead] = self.dead_threshold  # survives iff it wins >= threshold frames
            self.ema_sum[j][dead] = seeds * self.dead_threshold
        return n_dead


def nearest(x: Tensor, codebook: Tensor) -> Tensor:
    """(N, C) vectors, (K, C) codes -> (N,) int64 index of the nearest code (squared L2)."""
    half_sq = 0.5 * (codebook * codebook).sum(-1)  # (K,): argmin |x-e|^2 = argmin (|e|^2/2 - x.e)
    step = max(1, _DIST_BLOCK // codebook.shape[0])
    return torch.cat([(half_sq - x[i:i + step] @ codebook.T).argmin(-1) for i in range(0, x.shape[0], step)])


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _all_reduce(t: Tensor) -> None:
    if _distributed():

        dist.all_reduce(t)


def _pick(residual: Tensor, n: int) -> Tensor:
    """(n, C) random rows of `residual` chosen with torch's CPU RNG (rank 0's, broadcast to all)."""
    N = residual.shape[0]
    out = torch.empty(n, residual.shape[1], dtype=residual.dtype, device=residual.device)
    distributed = _distributed()
    if not distributed or _rank() == 0:
        rows = torch.randperm(N)[:n] if N >= n else torch.randint(N, (n,))  # with replacement if N < n
        out.copy_(residual[rows.to(residual.device)])
    if distributed:

        dist.broadcast(out, src=0)
    return out


def _rank() -> int:
    return dist.get_rank()
