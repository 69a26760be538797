"""Train DiSTAR's RVQ codebooks: `ttsbench train rvq CONFIG` (or under torchrun).

Pipeline: manifest (a `wav` column is enough) -> the base tokenizer's latents, cached with
`build_cache` (the same cache DiTAR uses for that manifest and tokenizer) -> a pool of frames in
memory (all of them, or a seeded subset of utterances up to `pool_frames`) -> per step, each rank
draws `frames_per_step` random frames (a pure function of seed, step and rank, so a resumed run sees
the same frames) -> `ResidualVQ.update` (EMA k-means; counts and sums all-reduced, so every rank
keeps identical codebooks).

Outputs under `out`: `log.jsonl` (every `log_every` steps: normalised MSE for L' = 1..J layers on
the step's frames, averaged over ranks; per-layer perplexity and used codes of the step; dead-code
restarts since the previous row; seconds per step), `checkpoints/step_XXXXXXX.pt` (codebooks and
EMA statistics, config, per-rank RNG states) and `tokenizer/` (an `rvq` tokenizer that
`load_tokenizer` reads, written at every checkpoint). Re-running continues from the newest checkpoint.

Normalised MSE = mean squared error / mean per-channel variance of the frames: 0 is exact, 1 is no
better than the mean frame.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ttsbench.configio import to_dict
from ttsbench.errors import InputError
from ttsbench.plugins import TRAINERS, Trainer
from ttsbench.systems.distar.rvq_tokenizer import RVQTokenizer
from ttsbench.systems.speech.training import checkpoint as ckpt
from ttsbench.systems.speech.training import distributed as D
from ttsbench.systems.speech.training.data import LatentReader, build_cache, read_manifest
from ttsbench.systems.speech.training.trainer import resolve_tokenizer

CHECKPOINT_FORMAT = "ttsbench.rvq.train/1"


@dataclass(frozen=True)
class RVQTrainConfig:
    """Everything an RVQ training run depends on (stored in every checkpoint)."""

    manifest: Path  # JSONL/CSV with a `wav` column (text not needed)
    out: Path
    cache_dir: Path  # base-tokenizer latents (shared with DiTAR runs on the same manifest + tokenizer)
    base: str = "mel"  # a registered tokenizer without weights ("mel") or a saved folder (<vae>/tokenizer)
    num_layers: int = 9  # J
    codebook_size: int = 1024  # K
    decay: float = 0.99  # EMA k-means decay
    dead_threshold: float = 1.0  # EMA frames per step (all ranks) below which a code is re-seeded
    steps: int = 2_000
    frames_per_step: int = 16_384  # per rank
    pool_frames: int = 4_000_000  # frames held in memory to draw from (x C x 4 bytes: 1 GiB at C = 64)
    seed: int = 0
    device: str = "auto"
    log_every: int = 50
    ckpt_every: int = 500
    keep_checkpoints: int = 3  # newest checkpoints kept (0 = all)

    def __post_init__(self) -> None:
        if min(self.steps, self.frames_per_step, self.pool_frames, self.log_every, self.ckpt_every) < 1:
            raise InputError("rvq training: steps, frames_per_step, pool_frames, log_every and ckpt_every "
                             "must be >= 1")


def resolve_base(source: str, device: torch.device) -> Any:
    """The continuous base tokenizer: a saved folder, or a registered name that needs no weights."""
    base = resolve_tokenizer(source, device)
    if getattr(base, "discrete", False):
        raise InputError(f"base tokenizer {source!r} is discrete; the RVQ needs a continuous one (mel, vae)")
    return base


def load_pool(cfg: RVQTrainConfig, base: Any, rt: D.Runtime) -> Tensor:
    """(N, C) float32 frames on the CPU: the cached latents of every utterance, or of a seeded
    random subset of utterances holding at most `pool_frames` frames (at least one utterance)."""
    entries = read_manifest(cfg.manifest, need_text=False)
    data = build_cache(entries, cfg.cache_dir, base, None, rank=rt.rank, world_size=rt.world_size,
                       barrier=lambda: D.barrier(rt), progress=rt.is_main)
    order = np.random.default_rng([cfg.seed, 7]).permutation(len(entries))  # the same on every rank
    rows, total = [], 0
    for row in order.tolist():
        if rows and total + data.frames[row] > cfg.pool_frames:
            continue
        rows.append(row)
        total += data.frames[row]
    reader = LatentReader(data)
    pool = torch.cat([reader.latents(r).float() for r in sorted(rows)])  # (N, C)
    if len(pool) == 0:
        raise InputError(f"{cfg.manifest}: the utterances hold no frames")
    return pool


def draw(pool: Tensor, cfg: RVQTrainConfig, step: int, rank: int) -> Tensor:
    """(frames_per_step, C) frames of `pool`, a pure function of (seed, step, rank)."""
    rng = np.random.default_rng([cfg.seed, step, rank])
    return pool[torch.from_numpy(rng.integers(len(pool), size=cfg.frames_per_step))]


@torch.no_grad()
def evaluate_rvq(tokenizer: RVQTokenizer, latents: Tensor) -> list[float]:
    """Normalised MSE of the first L' = 1..J layers' reconstruction of `latents` (..., C):
    mean squared error / mean per-channel variance of the latents (1 = as good as the mean frame)."""
    x = latents.reshape(-1, tokenizer.code_dim).to(tokenizer.rvq.codebooks)
    partial = tokenizer.rvq.partial_sums(tokenizer.rvq.encode(x))  # (N, J, C)
    var = x.var(0, unbiased=False).mean().clamp_min(1e-12)
    return [float(v) for v in ((partial - x[:, None]) ** 2).mean(dim=(0, 2)) / var]


def codebook_digest(tok: RVQTokenizer) -> str:
    """sha256 of this process's RVQ state (codebooks, EMA statistics): equal on every rank."""
    h = hashlib.sha256()
    for key, value in sorted(tok.rvq.state_dict().items()):
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def train_rvq(cfg: RVQTrainConfig) -> Path:
    """Train (or resume from the newest checkpoint in `cfg.out`) to `cfg.steps`; returns `cfg.out`."""
    rt = D.setup(cfg.device)
    try:
        with ckpt.exclusive(cfg.out, enabled=rt.is_main):
            ckpt.seed_everything(cfg.seed + rt.rank)
            base = resolve_base(cfg.base, rt.device)
            tok = RVQTokenizer.from_base(base, num_layers=cfg.num_layers, codebook_size=cfg.codebook_size,
                                         decay=cfg.decay, dead_threshold=cfg.dead_threshold).eval()
            del base
            start = _resume(tok, cfg, rt)  # before caching: a wrong out folder fails at once
            pool = load_pool(cfg, tok.base, rt)
            _loop(tok, pool, cfg, rt, start)
            if rt.is_main and not (cfg.out / "tokenizer" / "tokenizer.json").is_file():
                tok.save(cfg.out / "tokenizer")  # e.g. a finished run re-run: nothing trained, nothing saved
        return cfg.out
    finally:
        D.teardown(rt)


def _loop(tok: RVQTokenizer, pool: Tensor, cfg: RVQTrainConfig, rt: D.Runtime, start: int) -> None:
    if rt.is_main:
        cfg.out.mkdir(parents=True, exist_ok=True)
    log = (cfg.out / "log.jsonl").open("a", encoding="utf-8") if rt.is_main else None
    restarts, since, tick = [0] * cfg.num_layers, 0, time.perf_counter()
    for step in range(start, cfg.steps):
        frames = draw(pool, cfg, step, rt.rank).to(rt.device)
        stats = tok.rvq.update(frames)
        restarts, since = [a + b for a, b in zip(restarts, stats["restarts"])], since + 1
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            seconds = (time.perf_counter() - tick) / since  # the update alone, not this evaluation
            nmse = D.mean_over_ranks({f"{i:03d}": v for i, v in enumerate(evaluate_rvq(tok, frames))}, rt)
            if log:
                row = {"step": done, "nmse": [nmse[k] for k in sorted(nmse)],
                       "perplexity": stats["perplexity"], "used": stats["used"], "restarts": restarts,
                       "sec_per_step": seconds}
                log.write(json.dumps(row) + "\n")
                log.flush()
            restarts, since = [0] * cfg.num_layers, 0
        if done % cfg.ckpt_every == 0 or done == cfg.steps:
            _save(tok, cfg, rt, done)
        if since == 0:
            tick = time.perf_counter()  # the next row times updates only, not logging or checkpoints
    if log:
        log.close()


def _resume(tok: RVQTokenizer, cfg: RVQTrainConfig, rt: D.Runtime) -> int:
    latest = ckpt.latest_checkpoint(cfg.out)
    if latest is None:
        return 0
    state = ckpt.load_checkpoint(latest, "cpu")  # RNG states must stay on the CPU
    if state.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{latest}: not an RVQ training checkpoint (format {state.get('format')!r})")
    if state.get("base_fingerprint") != tok.base.fingerprint():
        raise InputError(f"{latest}: trained on another base tokenizer than {cfg.base!r}; "
                         f"use a new out folder")
    shapes = {k: tuple(v.shape) for k, v in tok.rvq.state_dict().items()}
    if {k: tuple(v.shape) for k, v in state["rvq"].items()} != shapes:
        raise InputError(f"{latest}: codebooks of another size than num_layers={cfg.num_layers}, "
                         f"codebook_size={cfg.codebook_size}; use a new out folder")
    tok.rvq.load_state_dict(state["rvq"])
    rngs = state.get("rng", [])
    if len(rngs) == rt.world_size:
        ckpt.set_rng_state(rngs[rt.rank])
    else:  # another world size: exact continuation is impossible; reseed deterministically
        ckpt.seed_everything(cfg.seed + 1_000_003 * int(state["step"]) + rt.rank)
    return int(state["step"])


def _save(tok: RVQTokenizer, cfg: RVQTrainConfig, rt: D.Runtime, step: int) -> None:
    rngs = D.gather_objects(ckpt.rng_state(), rt)
    digests = D.gather_objects(codebook_digest(tok), rt)
    if len(set(digests)) > 1:  # the all-reduce in ResidualVQ.update keeps them equal: a bug otherwise
        raise RuntimeError(f"rvq training: the ranks' codebooks differ at step {step}: {digests}")
    if rt.is_main:
        payload = {"format": CHECKPOINT_FORMAT, "kind": "rvq", "step": step,
                   "rvq": {k: v.detach().cpu() for k, v in tok.rvq.state_dict().items()},
                   "config": to_dict(cfg), "tokenizer": tok.describe(),
                   "base_fingerprint": tok.base.fingerprint(), "rank_codebook_sha256": digests,
                   "git_sha": ckpt.git_sha(), "world_size": rt.world_size, "rng": rngs}
        ckpt.save_checkpoint(ckpt.checkpoint_path(cfg.out, step), payload, keep_last=cfg.keep_checkpoints)
        tok.save(cfg.out / "tokenizer")
    D.barrier(rt)


TRAINERS.add("rvq", Trainer(RVQTrainConfig, train_rvq, "DiSTAR's RVQ codebooks over a continuous tokenizer's "
                                                       "latents (configs/train_rvq*.toml); writes <out>/tokenizer"))
