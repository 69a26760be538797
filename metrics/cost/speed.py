"""Timing harness: RTF, first-patch latency and throughput across batch sizes (`ttsbench speed`).

Definitions (DiTAR paper §4.4.2, Table 7; stored with every number):

- wall: seconds for one batch to generate `target_seconds` of speech per row, vocoder excluded
  (model workloads) or the whole `synthesize` call (generic systems); `torch.cuda.synchronize()`
  before reading the clock on CUDA; `warmup` untimed runs first; median and p90 over `repeats`.
- rtf_batch = wall / target_seconds: Table 7's RTF (the batch's wall time over one row's audio).
- rtf = wall / (batch x target_seconds): per-utterance real-time factor.
- throughput = batch x target_seconds / wall: audio seconds per second (Figure 5).
- latency: seconds from the request to the first patch of latents (autoregressive models), or to
  the whole output (NAR models, which emit nothing earlier), vocoder excluded.
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class SpeedConfig:
    """What `measure` times and how. Defaults: the paper's workload (3 s prompt, 10 s out, NFE 10, CFG)."""

    batch_sizes: tuple[int, ...] = (1,)
    repeats: int = 5
    warmup: int = 2
    device: str = "cpu"
    dtype: str = "fp32"
    compile: bool = False  # torch.compile on the hot modules
    cuda_graphs: bool = False  # torch.compile(mode="reduce-overhead"): CUDA graphs on CUDA
    prompt_seconds: float = 3.0
    target_seconds: float = 10.0
    text_rate: float = 7.0
    nfe: int = 10  # DiTAR / NAR: network calls per diffusion solve
    guidance: float = 1.0  # w; 0 turns CFG off (DiSTAR: history CFG at its default scale, or off)
    patch_size: int | None = None  # DiTAR / DiSTAR: override P (same layers; P=2 as in Table 7)
    steps: int = 24  # DiSTAR only: N, MDM network calls per patch (min(N, P x L') are run)
    layers: int | None = None  # DiSTAR only: L' active RVQ layers (None: all J)
    seed: int = 0


class Workload(Protocol):
    """One timed model: `prepare` builds inputs for a batch, then `run` / `first` are timed."""

    name: str
    streaming: bool  # True: `first` returns at the first patch; False: latency = a full run
    random_weights: bool

    def prepare(self, batch: int) -> None: ...

    def run(self) -> float: ...  # returns audio seconds generated per row

    def first(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...


def maybe_compile(module: torch.nn.Module, cfg: SpeedConfig, *, dynamic: bool = False) -> Any:
    """`module` under torch.compile when the config asks for it (CUDA graphs: mode reduce-overhead)."""
    if not (cfg.compile or cfg.cuda_graphs):
        return module
    return torch.compile(module, mode="reduce-overhead" if cfg.cuda_graphs else "default", dynamic=dynamic)


def text_tokens(cfg: SpeedConfig) -> int:
    """Text tokens of one utterance of the workload: text_rate x (prompt + target seconds), each rounded."""
    return round(cfg.prompt_seconds * cfg.text_rate) + round(cfg.target_seconds * cfg.text_rate)


def synchronize(device: str) -> None:
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], device: str) -> float:
    """Wall seconds of fn(), with the device synchronised on both sides."""
    synchronize(device)
    t0 = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - t0


def summary(values: Sequence[float]) -> tuple[float, float]:
    """(median, p90) of a list of seconds."""
    return statistics.median(values), float(np.percentile(np.asarray(values), 90))


def device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def measure(work: Workload, cfg: SpeedConfig) -> list[dict[str, Any]]:
    """One row per batch size (see the module docstring for the definitions)."""
    rows = []
    for batch in cfg.batch_sizes:
        work.prepare(batch)
        for _ in range(cfg.warmup):
            work.run()
        audio = 0.0
        walls = []
        for _ in range(cfg.repeats):
            synchronize(cfg.device)
            t0 = time.perf_counter()
            audio = work.run()
            synchronize(cfg.device)
            walls.append(time.perf_counter() - t0)
        lat = [timed(work.first, cfg.device) for _ in range(cfg.repeats)] if work.streaming else walls
        wall, wall_p90 = summary(walls)
        latency, latency_p90 = summary(lat)
        rows.append({
            "system": work.name, "batch": batch, "audio_seconds_per_row": audio,
            "wall_median_s": wall, "wall_p90_s": wall_p90, "rtf_batch": wall / audio, "rtf": wall / (batch * audio),
            "throughput": batch * audio / wall, "latency_median_s": latency, "latency_p90_s": latency_p90,
            "latency_kind": "first patch" if work.streaming else "whole output",
            "repeats": cfg.repeats, "warmup": cfg.warmup, "device": cfg.device, "device_name": device_name(cfg.device),
            "dtype": cfg.dtype, "nfe": cfg.nfe, "cfg": cfg.guidance != 0, "compile": cfg.compile,
            "cuda_graphs": cfg.cuda_graphs, "random_weights": work.random_weights, "torch": torch.__version__,
            **work.describe(),
        })
    return rows


def speed_display(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[str], list[list[str]], list[str]]:
    """(title lines, header, body, notes) of the `ttsbench speed` table (rendered by
    `ttsbench.reports.tabular.render_table`): the title holds the definitions and recording conditions."""
    r0 = rows[0]
    head = ["system", "batch", "wall s (median / p90)", "RTF (batch, Table 7)", "RTF per utt",
            "throughput (audio s/s)", "latency s (median / p90)", "latency to"]
    body = [[r["system"] + (" *" if r["random_weights"] else ""), str(r["batch"]),
             f"{r['wall_median_s']:.4g} / {r['wall_p90_s']:.4g}", f"{r['rtf_batch']:.4g}", f"{r['rtf']:.4g}",
             f"{r['throughput']:.4g}", f"{r['latency_median_s']:.4g} / {r['latency_p90_s']:.4g}", r["latency_kind"]]
            for r in rows]
    nfe = next((r["nfe"] for r in rows if r["nfe"] is not None), None)
    title = [f"device: {r0['device']} ({r0['device_name']}), dtype {r0['dtype']}, torch {r0['torch']}, "
             + (f"NFE {nfe} (DiTAR/NAR network calls per solve), " if nfe is not None else "")
             + f"CFG {'on' if r0['cfg'] else 'off'}, compile {r0['compile']}, "
             f"cuda graphs {r0['cuda_graphs']}; {r0['warmup']} warm-up + {r0['repeats']} timed runs; "
             f"{r0['audio_seconds_per_row']:g} s of audio per row",
             "RTF (batch) = batch wall / audio s of one row (Table 7); RTF per utt = wall / (batch x audio s); "
             "throughput = batch x audio s / wall; vocoder (DiSTAR: RVQ decode + vocoder) excluded for model workloads"]
    title += [f"{name}: {note}" for name, note in dict.fromkeys((r["system"], r["note"]) for r in rows if r.get("note"))]
    notes = ["* random weights: timing only, the audio is meaningless"] if any(r["random_weights"] for r in rows) else []
    return title, head, body, notes


def plot_throughput(rows: Sequence[dict[str, Any]], path: Any) -> None:
    """Figure 5's view: throughput (audio s / s) against batch size, one line per system."""
    # lazy: matplotlib/seaborn take ~1 s to import; only plots need them
    import matplotlib

    matplotlib.use("Agg")
    # lazy: matplotlib/seaborn take ~1 s to import; only plots need them
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name in dict.fromkeys(r["system"] for r in rows):
        mine = sorted((r for r in rows if r["system"] == name), key=lambda r: r["batch"])
        ax.plot([r["batch"] for r in mine], [r["throughput"] for r in mine], marker="o", label=name)
    r0 = rows[0]
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("throughput (audio s per s)")
    nfe = next((r["nfe"] for r in rows if r["nfe"] is not None), None)
    ax.set_title(f"{r0['device_name']}, {r0['dtype']}" + (f", NFE {nfe}" if nfe is not None else "")
                 + (", random weights" if any(r["random_weights"] for r in rows) else ""), fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
