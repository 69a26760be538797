"""The training loop of every patch model (DiTAR, DiSTAR): one process, or under torchrun (DDP, FSDP).

A model's own `train.py` builds its model (`model_factory`) and calls `train(cfg, model_factory=...)`:

    torchrun --nproc_per_node 8 -m ttsbench train ditar configs/train_ditar_0.6b.toml

Pipeline: manifest -> cached latents or codes (speech tokenizer) + phone ids (PhoneFrontend) ->
per-channel standardised latents (`data.standardize`; `latent_stats.py`) -> token-budget batches
(DiTAR: 15K padded latent frames per GPU) -> `grad_accum` micro-batches, each `(loss / k).backward()`
(`schedule.py`) -> AdamW (lr 1e-4, betas (0.9, 0.99), constant LR after an optional linear warm-up;
cosine / linear decay as options) -> EMA of the weights (`ema_decay`; `ema.py`) -> checkpoints ->
every `[eval] every` steps the harness scores the (EMA) weights (`evaluation.py`).

"15K tokens" (paper A.1, per GPU) is read as 15K *padded latent frames* per micro-batch:
`max_frames` bounds len(batch) x longest utterance. The global batch of one optimizer step is
grad_accum x world_size micro-batches; log.jsonl records it as `global_batch_frames` (real frames)
and `global_batch_padded_frames`.

Parallelism: `parallel = "ddp"` replicates the model per GPU; `"fsdp"` shards weights, gradients
and optimizer state (torch FSDP2, one unit per transformer block), for the 1B size.

Precision: fp32 weights and optimizer state; the forward pass runs under bf16 autocast on CUDA and
in fp32 on CPU. Each rank draws different diffusion noise (seed + rank); the model is initialised
from `seed` alone and DDP broadcasts rank 0's weights anyway.

Checkpoint layout (`<out>/checkpoints/step_XXXXXXX.pt`, one dict, `torch.load(weights_only=True)`):

    format          "ttsbench.ditar.train/1" (the name predates DiSTAR; both models use it)
    kind            the model's `kind` attribute: "ditar" or "distar"
    step            optimizer steps done (the next step to run)
    model           full (unsharded) state_dict of the bare model, no "module." prefix, fp32, CPU
    model_config    the model's config as a dict (DiTARConfig / DiSTARConfig fields)
    optimizer       AdamW state, keyed by parameter name (torch.distributed.checkpoint's full
                    optimizer state dict), so one checkpoint resumes alone, under DDP or under FSDP
    config          the TrainConfig as a dict (paths as strings)
    tokenizer       the speech tokenizer's describe() (name, rates, latent_dim, config) + "source"
    frontend        the phone front end's describe()
    data_position   {"epoch", "index"}: the next batch of the deterministic per-epoch plan
    rng             one rng_state() per rank (python, numpy, torch, cuda)
    world_size, git_sha, torch_version
    latent_stats    (when standardised) LatentStats.to_dict() + "source": the model's latent space
    ema_model_state_dict, ema_decay   (when ema_decay > 0) the EMA weights, `ema.py`'s layout

Resuming (automatic when `<out>/checkpoints` holds one) restores all of it, so the next step's
loss equals the loss an uninterrupted run gets at that step (same world size; with another world
size the data position is rescaled and ranks are reseeded deterministically).
`<out>/log.jsonl` gets one line per `log_every` steps: step, epoch, losses, lr, grad norm, frames
per step, tokens (latent frames) per second and steps per second over all ranks, model TFLOPs/s
(forward + backward matrix products, counted; `throughput.py`) and MFU when the device's peak is
known (`peak_tflops`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ttsbench.configio import from_dict, to_dict
from ttsbench.errors import InputError
from ttsbench.systems.speech.frontend import PhoneFrontend
from ttsbench.systems.speech.latent_stats import LatentStats, load_stats
from ttsbench.systems.speech.tokenizer import build_tokenizer, load_tokenizer
from ttsbench.systems.speech.training import checkpoint as ckpt
from ttsbench.systems.speech.training import distributed as D
from ttsbench.systems.speech.training.batching import DataPosition, iterate_batches
from ttsbench.systems.speech.training.data import (
    CachedData,
    LatentReader,
    PhoneEncoder,
    build_cache,
    corpus_stats,
    read_manifest,
)
from ttsbench.systems.speech.training.ema import EMA
from ttsbench.systems.speech.training.ema import KEY as EMA_KEY
from ttsbench.systems.speech.training.evaluation import EvalConfig, Evaluator
from ttsbench.systems.speech.training.schedule import SCHEDULES, accumulate
from ttsbench.systems.speech.training.schedule import lr_at as schedule_lr
from ttsbench.systems.speech.training.trainlog import TrainLog

CHECKPOINT_FORMAT = "ttsbench.ditar.train/1"


@dataclass(frozen=True)
class DataConfig:
    """Where the data is and how it is batched."""

    manifest: Path  # JSONL/CSV: wav, text, speaker, lang
    cache_dir: Path  # latents and phone ids are cached here (keyed by content)
    tokenizer: str = "vae"  # a saved tokenizer folder (load_tokenizer) or a registered name ("mel")
    max_frames: int = 15_000  # padded latent frames per batch per GPU (paper: 15K tokens per GPU)
    bucket_size: int = 2048  # utterances sorted by length together before packing
    num_workers: int = 2  # DataLoader worker processes per rank
    # Train on per-channel standardised latents (z - mean) / std, the stats taken from the tokenizer
    # folder's latent_stats.json when it has one, else measured over this corpus (`latent_stats`).
    standardize: bool = True


@dataclass(frozen=True)
class OptimConfig:
    """AdamW as in the paper (Appendix A.1); weight decay and clipping are not given there."""

    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.01  # torch's AdamW default; applied to weight matrices only
    warmup_steps: int = 0  # linear warm-up to lr; 0 = constant LR from step 0 (the paper)
    schedule: str = "constant"  # after warm-up: constant (the paper) | cosine | linear (`schedule.py`)
    decay_steps: int = 0  # steps of the decay after warm-up; 0 = until `steps`
    final_lr_ratio: float = 0.0  # the decay ends at lr * this
    # Micro-batches per optimizer step. Global batch = grad_accum x world_size x max_frames padded
    # latent frames: the paper's 16 GPUs x 15K frames is e.g. grad_accum = 2 on 8 GPUs.
    grad_accum: int = 1
    grad_clip: float = 1.0  # max global grad norm; 0 disables clipping
    # Another peak LR for the parameters under a module path ("lm", "mdm.transformer"; the longest
    # matching path wins), e.g. DiSTAR's 0.75e-4 for the AR part and 1.5e-4 (`lr`) for the rest.
    module_lr: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainConfig:
    """A training run. `model` holds the model config's fields (or `size = "0.6b"` plus overrides)."""

    out: Path
    data: DataConfig
    model: Mapping[str, Any] = field(default_factory=dict)
    optim: OptimConfig = field(default_factory=OptimConfig)
    steps: int = 500_000  # paper: 0.5M steps
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: bool = True  # bf16 autocast on CUDA; CPU always runs fp32
    parallel: str = "ddp"  # under torchrun: "ddp" (replicas) or "fsdp" (sharded weights, for 1B)
    log_every: int = 100
    ckpt_every: int = 5_000
    keep_checkpoints: int = 3  # newest checkpoints kept on disk (0 = all)
    peak_tflops: float = 0.0  # one device's peak for MFU; 0 = the data-sheet bf16 peak of a known GPU
    ema_decay: float = 0.0  # EMA of the weights (0 = off); exported and evaluated when on (`ema.py`)
    ema_warmup: bool = False  # decay min(ema_decay, (1 + n) / (10 + n)) at update n
    eval: EvalConfig = field(default_factory=EvalConfig)  # in-training evaluation (`evaluation.py`)

    def __post_init__(self) -> None:
        if self.parallel not in ("ddp", "fsdp"):
            raise InputError(f"parallel = {self.parallel!r}; use 'ddp' or 'fsdp'")
        if self.optim.schedule not in SCHEDULES:
            raise InputError(f"optim.schedule = {self.optim.schedule!r}; use one of {', '.join(SCHEDULES)}")
        if self.optim.grad_accum < 1:
            raise InputError(f"optim.grad_accum = {self.optim.grad_accum}; need at least 1")
        if not 0.0 <= self.ema_decay < 1.0:
            raise InputError(f"ema_decay = {self.ema_decay}; expected 0 (off) or 0 < decay < 1")


ModelFactory = Callable[[TrainConfig, int, int], nn.Module]  # (cfg, latent_dim, phone_vocab) -> model


def model_config(config_class: type, table: Mapping[str, Any], latent_dim: int, phone_vocab: int = 0) -> Any:
    """A config from a `[model]` table: optional `size` (a classmethod preset), then field overrides.

    The latent width always comes from the tokenizer (a `[model]` value that disagrees is an error);
    the phone table grows to the front end's size unless `[model] phone_vocab` says otherwise
    (then it must be large enough).
    """
    values = dict(table)
    size = values.pop("size", None)
    base = config_class()
    if size is not None:
        base = config_class.from_size(str(size))  # an unknown size is one line listing the presets
    merged = {**to_dict(base), **values}
    latent_field = next((f.name for f in fields(config_class) if f.name in ("latent", "latent_dim")), None)
    if latent_field is not None:
        if latent_field in values and int(values[latent_field]) != latent_dim:
            raise InputError(f"[model] {latent_field} = {values[latent_field]}, but the tokenizer makes "
                             f"{latent_dim}-d latents")
        merged[latent_field] = latent_dim
    if "phone_vocab" in merged and phone_vocab:
        if "phone_vocab" in values and int(values["phone_vocab"]) < phone_vocab:
            raise InputError(f"[model] phone_vocab = {values['phone_vocab']}, but the phone front end has "
                             f"{phone_vocab} ids")
        merged["phone_vocab"] = max(int(merged["phone_vocab"]), phone_vocab)
    return from_dict(config_class, merged, where="[model]")


def build_frontend() -> PhoneEncoder:
    """The model's G2P front end (phone ids > 0; 0 is padding)."""
    return PhoneFrontend()


def resolve_tokenizer(source: str, device: torch.device) -> Any:
    """A saved tokenizer folder, or a registered tokenizer built with its default config."""
    path = Path(source).expanduser()
    tok = load_tokenizer(path, map_location=device) if path.is_dir() else build_tokenizer(source).eval()
    if not path.is_dir() and any(True for _ in tok.parameters()):
        raise InputError(f"tokenizer {source!r} has trainable weights: give the folder of a trained one "
                         f"(`ttsbench train vae` writes <out>/tokenizer)")
    return tok.to(device)


def prepare_data(cfg: TrainConfig, rt: D.Runtime, frontend: PhoneEncoder) -> tuple[CachedData, dict[str, Any]]:
    """Build (or reuse) the latent/phone cache on every rank's share; return it and the tokenizer description."""
    tokenizer = resolve_tokenizer(cfg.data.tokenizer, rt.device)
    data = build_cache(read_manifest(cfg.data.manifest), cfg.data.cache_dir, tokenizer, frontend,
                       rank=rt.rank, world_size=rt.world_size, barrier=lambda: D.barrier(rt),
                       progress=rt.is_main)
    folder = Path(cfg.data.tokenizer).expanduser()  # a folder is recorded absolute: inference runs elsewhere
    info = {**tokenizer.describe(), "source": str(folder.resolve()) if folder.is_dir() else cfg.data.tokenizer}
    if cfg.data.standardize and data.frames and _float_latents(data):
        with D.main_first(rt):  # rank 0 measures and caches the corpus stats; the others read them
            stats, where = _latent_stats(folder, data, tokenizer.fingerprint())
        data = replace(data, stats=stats)
        info["latent_stats"] = {**stats.to_dict(), "source": where}
    del tokenizer
    return data, info


def _float_latents(data: CachedData) -> bool:
    """Continuous latents (DiTAR) are standardised; discrete codes (DiSTAR's RVQ) never are."""
    return LatentReader(data).latents(0).is_floating_point()


def _latent_stats(folder: Path, data: CachedData, fingerprint: str) -> tuple[LatentStats, str]:
    """The tokenizer folder's stats (stored with the tokenizer) when they are for this tokenizer,
    else this corpus's, measured over the cached latents (and cached next to them)."""
    stored = load_stats(folder) if folder.is_dir() else None
    if stored is not None and stored.tokenizer_fingerprint in ("", fingerprint):
        return stored, f"tokenizer folder {folder.resolve()}"
    return corpus_stats(data, fingerprint), f"training corpus cache {data.latent_dir}"


def param_groups(model: nn.Module, weight_decay: float, lr: float,
                 module_lr: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """AdamW groups: one per (peak LR, decay). Weight matrices decay; biases, norm gains and other
    1-D parameters never do. `module_lr` maps module paths to their own LR (longest path wins)."""
    module_lr = dict(module_lr or {})
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]

    def under(name: str, module: str) -> bool:
        return name == module or name.startswith(module + ".")

    unused = [m for m in module_lr if not any(under(n, m) for n, _ in named)]
    if unused:
        tops = sorted({n.split(".")[0] for n, _ in named})
        raise InputError(f"optim.module_lr: {unused} name no trainable parameters; top-level modules: {tops}")

    def peak(name: str) -> float:
        hits = [m for m in module_lr if under(name, m)]
        return float(module_lr[max(hits, key=len)]) if hits else lr

    groups: dict[tuple[float, bool], list[nn.Parameter]] = {}
    for name, p in named:
        groups.setdefault((peak(name), p.dim() >= 2), []).append(p)
    return [{"params": params, "lr": group_lr, "weight_decay": weight_decay if decay else 0.0}
            for (group_lr, decay), params in groups.items()]


def lr_at(step: int, optim: OptimConfig, peak: float | None = None, total_steps: int = 0) -> float:
    """The LR of step `step` for peak `peak` (default optim.lr): warm-up, then optim.schedule
    (constant by default, the paper), decaying over decay_steps or until `total_steps`."""
    decay = optim.decay_steps or max(total_steps - optim.warmup_steps, 0)
    return schedule_lr(step, optim.lr if peak is None else peak, warmup_steps=optim.warmup_steps,
                       schedule=optim.schedule, decay_steps=decay, final_lr_ratio=optim.final_lr_ratio)


def loss_values(losses: Any) -> dict[str, float]:
    """Every scalar tensor field of the model's loss object (total, diff, stop, ...)."""
    if is_dataclass(losses):
        items = {f.name: getattr(losses, f.name) for f in fields(losses)}
    elif hasattr(losses, "_asdict"):
        items = losses._asdict()
    else:
        items = {"total": losses.total}
    return {k: float(v.detach()) for k, v in items.items() if torch.is_tensor(v) and v.numel() == 1}


def _inference_payload(model: nn.Module, step: int, weights: dict[str, Any], meta: dict[str, Any],
                       is_ema: bool) -> dict[str, Any]:
    """What `ttsbench.systems.speech.pretrained.export_payload` needs: a checkpoint without optimizer."""
    return {"format": CHECKPOINT_FORMAT, "kind": getattr(model, "kind", "ditar"), "step": step, "model": weights,
            "model_config": model_config_dict(model), **meta, "weights": "ema" if is_ema else "live"}


def model_config_dict(model: nn.Module) -> dict[str, Any]:
    cfg = getattr(model, "cfg", None) or getattr(model, "config", None)
    return to_dict(cfg) if is_dataclass(cfg) else {}


def train(cfg: TrainConfig, *, model_factory: ModelFactory, frontend: PhoneEncoder | None = None) -> Path:
    """Train (resuming from the newest checkpoint under `cfg.out`, if any) until `cfg.steps`.

    Args:
        cfg: the run.
        model_factory: (cfg, latent_dim, phone_vocab) -> module whose forward(SpeechBatch) returns an
            object with a scalar `.total` loss (DiTAR: `ttsbench.systems.ditar.train.build_model`).
        frontend: text -> phone ids; default the model's PhoneFrontend.

    Returns:
        `cfg.out`, holding checkpoints/, log.jsonl and config.json.
    """
    rt = D.setup(cfg.device)
    try:
        with ckpt.exclusive(cfg.out, enabled=rt.is_main):
            frontend = frontend or build_frontend()
            data, tok_info = prepare_data(cfg, rt, frontend)
            ckpt.seed_everything(cfg.seed)  # identical initial weights on every rank
            vocab = int(getattr(frontend, "vocab_size", 0)) or max(max(p) for p in data.phones) + 1
            model = model_factory(cfg, int(tok_info["latent_dim"]), vocab).to(rt.device)
            if cfg.parallel == "fsdp":
                D.shard(model, rt)  # before the optimizer: FSDP swaps parameters for shards
            opt = torch.optim.AdamW(param_groups(model, cfg.optim.weight_decay, cfg.optim.lr, cfg.optim.module_lr),
                                    lr=cfg.optim.lr, betas=cfg.optim.betas)
            peaks = [group["lr"] for group in opt.param_groups]  # the config's, before a checkpoint's state
            ema = EMA(model, cfg.ema_decay, warmup=cfg.ema_warmup) if cfg.ema_decay > 0 else None
            ckpt.seed_everything(cfg.seed * 1_000_003 + rt.rank)  # per-rank noise from here on
            step, position = _resume(cfg, rt, model, opt, ema)
            if rt.is_main:
                cfg.out.mkdir(parents=True, exist_ok=True)
                (cfg.out / "config.json").write_text(json.dumps(to_dict(cfg), indent=2) + "\n")
            stats = tok_info.pop("latent_stats", None)
            meta = {"tokenizer": tok_info, "frontend": frontend.describe(), **({"latent_stats": stats} if stats else {})}
            runner = model if cfg.parallel == "fsdp" else D.wrap(model, rt)
            _loop(cfg, rt, model, runner, opt, peaks, data, step, position, meta, ema)
        return cfg.out
    finally:
        D.teardown(rt)


def _loop(cfg: TrainConfig, rt: D.Runtime, model: nn.Module, ddp: nn.Module, opt: torch.optim.Optimizer,
          peaks: list[float], data: CachedData, step: int, position: DataPosition, meta: dict[str, Any],
          ema: EMA | None) -> None:
    batches = iterate_batches(data, max_frames=cfg.data.max_frames, seed=cfg.seed, start=position,
                              rank=rt.rank, world_size=rt.world_size, bucket_size=cfg.data.bucket_size,
                              num_workers=cfg.data.num_workers, pin_memory=rt.device.type == "cuda")
    log = TrainLog(cfg, rt)
    evaluator = Evaluator(cfg.eval, cfg.out, rt.is_main)
    model.train()

    def forward(runner: nn.Module, batch: Any) -> Any:
        with D.autocast(rt, cfg.amp):
            return runner(batch.to(rt.device))

    while step < cfg.steps:
        micro = []
        for _ in range(cfg.optim.grad_accum):
            position, batch = next(batches)
            micro.append(batch)
        for group, peak in zip(opt.param_groups, peaks):
            group["lr"] = lr_at(step, cfg.optim, peak, cfg.steps)
        frames = sum(b.num_frames for b in micro)
        padded = sum(b.latents.shape[0] * b.latents.shape[1] for b in micro)
        with log.counter.counting(step):
            try:
                seen = [loss_values(losses) for losses in accumulate(ddp, micro, forward)]
            except FloatingPointError as err:
                raise FloatingPointError(f"rank {rt.rank}, step {step}: {err}") from None
        log.counter.record(frames)
        clip = cfg.optim.grad_clip if cfg.optim.grad_clip > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        grad_norm = float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)  # DTensor under FSDP
        opt.step()
        opt.zero_grad(set_to_none=True)
        if ema is not None:
            ema.update()
        step += 1
        losses_mean = {k: sum(d[k] for d in seen) / len(seen) for k in seen[0]}
        log.add(step, position, losses_mean, grad_norm, frames, lr_at(step - 1, cfg.optim, None, cfg.steps), padded)
        if step % cfg.ckpt_every == 0 or step == cfg.steps:
            _save(cfg, rt, model, opt, step, position, meta, ema)
        if evaluator.due(step, cfg.steps):
            live = D.full_model_state(model)  # collective under FSDP
            weights = ema.model_state(live) if ema is not None else live
            if rt.is_main:
                rng = ckpt.rng_state()  # evaluating must not move the training's random streams
                evaluator.evaluate(step, _inference_payload(model, step, weights, meta, ema is not None),
                                   log.last_loss)
                ckpt.set_rng_state(rng)
            D.barrier(rt)
    log.close()


def _resume(cfg: TrainConfig, rt: D.Runtime, model: nn.Module, opt: torch.optim.Optimizer,
            ema: EMA | None = None) -> tuple[int, DataPosition]:
    latest = ckpt.latest_checkpoint(cfg.out)
    if latest is None:
        return 0, DataPosition()
    state = ckpt.load_checkpoint(latest, rt.device)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{latest}: not a training checkpoint of this trainer (format {state.get('format')!r})")
    D.load_full_state(model, opt, state["model"], state["optimizer"])
    if ema is not None:
        if EMA_KEY in state:
            ema.load_state_dict(state[EMA_KEY])
        else:  # EMA switched on mid-run: start the average from the resumed weights
            ema.load_state_dict({f"ema_model.{k}": v for k, v in state["model"].items()})
    step, pos = int(state["step"]), DataPosition(**state["data_position"])
    if len(state["rng"]) == rt.world_size:
        ckpt.set_rng_state(state["rng"][rt.rank])
    else:  # another world size: the per-rank plans differ in length; keep the same fraction of the epoch
        pos = DataPosition(pos.epoch, pos.index * int(state["world_size"]) // rt.world_size)
        ckpt.seed_everything(cfg.seed * 1_000_003 + step * 1_009 + rt.rank)
    return step, pos


def _save(cfg: TrainConfig, rt: D.Runtime, model: nn.Module, opt: torch.optim.Optimizer, step: int,
          position: DataPosition, meta: dict[str, Any], ema: EMA | None = None) -> None:
    rngs = D.gather_objects(ckpt.rng_state(), rt)
    model_state, opt_state = D.full_state(model, opt)  # collective under FSDP: every rank calls it
    if ema is not None:
        meta = {**meta, EMA_KEY: ema.state_dict(), "ema_decay": cfg.ema_decay}  # collective under FSDP
    if rt.is_main:
        payload = {"format": CHECKPOINT_FORMAT, "kind": getattr(model, "kind", "ditar"), "step": step, "model": model_state,
                   "model_config": model_config_dict(model), "optimizer": opt_state,
                   "config": to_dict(cfg), **meta, "data_position": {"epoch": position.epoch, "index": position.index},
                   "rng": rngs, "world_size": rt.world_size, "git_sha": ckpt.git_sha(),
                   "torch_version": str(torch.__version__)}
        ckpt.save_checkpoint(ckpt.checkpoint_path(cfg.out, step), payload, keep_last=cfg.keep_checkpoints)
    D.barrier(rt)
