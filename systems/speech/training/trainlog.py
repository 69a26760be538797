"""The trainer's log: averaged losses, throughput and the global batch to <out>/log.jsonl."""

from __future__ import annotations

import json
import time
from typing import Any

from ttsbench.systems.speech.training import distributed as D
from ttsbench.systems.speech.training.batching import DataPosition
from ttsbench.systems.speech.training.throughput import StepCounter, peak_tflops


class TrainLog:
    """(cfg: the TrainConfig) Appends averaged metrics to <out>/log.jsonl every `log_every` steps (rank 0 writes).

    Throughput fields: frames_per_step and tokens_per_sec (latent frames, all ranks), steps_per_sec,
    model_tflops_per_sec (forward + backward matrix products of all ranks; one counted step per
    window scaled by frames, see `throughput`), and mfu against world_size x peak_tflops when a peak
    is known.
    """

    def __init__(self, cfg: Any, rt: D.Runtime) -> None:
        self.cfg, self.rt = cfg, rt
        self.sums: dict[str, float] = {}
        self.count, self.frames, self.padded, self.tick = 0, 0, 0, time.perf_counter()
        self.last_loss: float | None = None
        self.counter = StepCounter(cfg.log_every)
        self.peak, self.peak_source = peak_tflops(rt.device, cfg.peak_tflops)
        self.fh = (cfg.out / "log.jsonl").open("a", encoding="utf-8") if rt.is_main else None

    def add(self, step: int, pos: DataPosition, losses: dict[str, float], grad_norm: float, frames: int,
            lr: float, padded: int = 0) -> None:
        for k, v in {**losses, "grad_norm": grad_norm}.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.count, self.frames, self.padded = self.count + 1, self.frames + frames, self.padded + padded
        self.last_loss = losses.get("total")
        if step % self.cfg.log_every and step != self.cfg.steps:
            return
        means = D.mean_over_ranks({k: v / self.count for k, v in self.sums.items()}, self.rt)
        frames_all = D.sum_over_ranks(self.frames, self.rt)
        padded_all = D.sum_over_ranks(self.padded, self.rt)
        flops_all = D.sum_over_ranks(self.counter.flops_per_frame * self.frames, self.rt)
        seconds = max(time.perf_counter() - self.tick, 1e-9)
        if self.fh:
            tflops = flops_all / seconds / 1e12
            row = {"step": step, "epoch": pos.epoch, **means, "lr": lr, "frames_per_step": frames_all / self.count,
                   # the global batch of one optimizer step, all ranks x grad_accum micro-batches:
                   # real latent frames, and padded frames (B x T_max summed; what max_frames bounds)
                   "global_batch_frames": frames_all / self.count,
                   "global_batch_padded_frames": padded_all / self.count,
                   "grad_accum": self.cfg.optim.grad_accum,
                   "tokens_per_sec": frames_all / seconds, "sec_per_step": seconds / self.count,
                   "steps_per_sec": self.count / seconds, "model_tflops_per_sec": tflops,
                   "mfu": tflops / (self.rt.world_size * self.peak) if self.peak else None,
                   "peak_tflops": self.peak, "peak_source": self.peak_source,
                   "flops_scope": "fwd+bwd matmuls (torch flop_counter) of the window's first step, "
                                  "x frames; FLOPs = 2 MACs"}
            self.fh.write(json.dumps(row) + "\n")
            self.fh.flush()
        self.sums, self.count, self.frames, self.padded, self.tick = {}, 0, 0, 0, time.perf_counter()

    def close(self) -> None:
        if self.fh:
            self.fh.close()
