"""`ttsbench gpu-check`: everything a GPU must show, in one call of at most about 8 minutes.

GPU time for this project is short and rare, so this is the one prepared script (run by
`scripts/gpu_check.sh`). Its stages, in order, each written to OUT/gpu_check.json and .md as
soon as it ends (so a call cut short keeps what it measured):

1. env: GPU, memory, torch / CUDA versions, the bf16 peak the MFU divides by.
2. speed: DiTAR Table 7 / Figure 5. ditar-0.6b with P = 4 and P = 2 and nar-dit-0.6b, random
   weights, bf16 weights, the paper's fixed workload (3 s prompt, 10 s out, NFE 10, CFG), batch 1
   and a sweep to 500: wall, RTF, throughput and first-patch latency (`ttsbench speed`'s
   definitions, `ttsbench.metrics.cost.speed`).
3. bf16 vs fp32: the same random-weight ditar-0.6b, inputs and seeds generated in bf16 and fp32.
   bf16 rounding changes each trajectory, so the values differ; what must hold is the same
   distribution: two-sample Kolmogorov-Smirnov statistic of all latent values, and the relative
   differences of their mean and standard deviation, against stated limits.
4. train: a short window of 0.6B DiTAR training steps on synthetic batches (random phones and
   latents, the paper's 15K latent frames per GPU per step, AdamW, bf16 autocast): steps/s,
   latent frames/s, counted model FLOPs per step (`throughput.StepCounter`) and MFU.
5. compile: ditar-0.6b at batch 1 and 64 with `torch.compile` and with CUDA graphs
   (`--cuda-graphs`), beside the eager numbers of stage 2.
6. sharded: with more than one GPU, a 2-rank torchrun run of ditar-tiny on the demo set against
   one process (identical wavs); with one GPU it says so.

A stage that fails records its error and the next one runs; a stage that would start with less
time left than it needs is skipped with that reason. `--dry` runs every stage's code on the CPU at
tiny sizes in a few seconds (the test suite does), so the script cannot rot between GPU sessions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ttsbench import __version__
from ttsbench.errors import first_line
from ttsbench.metrics.cost.speed import SpeedConfig, measure
from ttsbench.metrics.cost.workloads import build_workload
from ttsbench.reports.tabular import render_table


@dataclass(frozen=True)
class Plan:
    """Sizes and budgets of one gpu-check (FULL on a GPU, DRY on a CPU)."""

    device: str
    dtype: str
    ditar: str
    nar: str
    batches: tuple[int, ...]
    repeats: int
    warmup: int
    target_seconds: float
    prompt_seconds: float
    compare_rows: int  # bf16 vs fp32: rows generated in each precision
    train_size: str
    train_rows: int
    train_frames: int  # latent frames per row (rows x frames = frames per step)
    train_steps: int  # timed steps, after 2 untimed
    compile_batches: tuple[int, ...]
    compile_variants: tuple[str, ...]
    budget_s: float


FULL = Plan(device="cuda", dtype="bf16", ditar="ditar-0.6b", nar="nar-dit-0.6b", batches=(1, 16, 128, 500),
            repeats=3, warmup=1, target_seconds=10.0, prompt_seconds=3.0, compare_rows=16, train_size="0.6b",
            train_rows=30, train_frames=500, train_steps=10, compile_batches=(1, 64),
            compile_variants=("compile", "cuda_graphs"), budget_s=450.0)
DRY = Plan(device="cpu", dtype="fp32", ditar="ditar-tiny", nar="nar-dit-tiny", batches=(1, 2), repeats=1, warmup=0,
           target_seconds=1.0, prompt_seconds=0.5, compare_rows=2, train_size="tiny", train_rows=2, train_frames=40,
           train_steps=2, compile_batches=(1,), compile_variants=(), budget_s=120.0)

# what each stage needs at least (seconds of the budget left) to start, at FULL sizes
NEEDS = {"env": 0.0, "speed": 60.0, "bf16_vs_fp32": 20.0, "train": 30.0, "compile": 120.0, "sharded": 30.0}
# the limits of "equal in distribution" (bf16 vs fp32)
KS_LIMIT = 0.05
MOMENT_LIMIT = 0.05


def gpu_check(out: Path, *, dry: bool = False, budget_s: float | None = None) -> dict[str, Any]:
    """Run every stage within the budget; returns (and writes) the results."""
    plan = DRY if dry else FULL
    if budget_s is not None:
        plan = replace(plan, budget_s=budget_s)
    if not dry and not torch.cuda.is_available():
        raise RuntimeError("gpu-check needs a CUDA device (use --dry for the CPU smoke run)")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results: dict[str, Any] = {
        "command": "ttsbench gpu-check" + (" --dry" if dry else ""), "ttsbench": __version__,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "plan": asdict(plan), "stages": {}}
    stages: list[tuple[str, Callable[[Plan, float], dict[str, Any]]]] = [
        ("env", env_stage), ("speed", speed_stage), ("bf16_vs_fp32", precision_stage), ("train", train_stage),
        ("compile", compile_stage), ("sharded", sharded_stage)]
    for name, stage in stages:
        deadline = start + plan.budget_s
        left = deadline - time.perf_counter()
        if left < (0.0 if dry else NEEDS[name]):
            results["stages"][name] = {"skipped": f"{left:.0f} s of the budget left, the stage needs {NEEDS[name]:.0f}"}
        else:
            t0 = time.perf_counter()
            try:
                value = stage(plan, deadline)
            except Exception as exc:  # noqa: BLE001 - recorded; the next stage runs
                value = {"error": f"{type(exc).__name__}: {first_line(exc)}"}
            value["seconds"] = round(time.perf_counter() - t0, 2)
            results["stages"][name] = value
        results["wall_s"] = round(time.perf_counter() - start, 2)
        write(out, results)
    return results


# ---- stages ---------------------------------------------------------------------------------------
def env_stage(plan: Plan, deadline: float) -> dict[str, Any]:
    # lazy: throughput is the training package's; only this stage asks it for the device's peak
    from ttsbench.systems.speech.training.throughput import peak_tflops

    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                            "cuda": torch.version.cuda, "gpus": torch.cuda.device_count()}
    if plan.device.startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        peak, source = peak_tflops(torch.device("cuda", 0))
        info.update(gpu=props.name, memory_gib=round(props.total_memory / 2**30, 1),
                    multiprocessors=props.multi_processor_count, bf16_peak_tflops=peak, peak_source=source,
                    sdpa_flash=torch.backends.cuda.flash_sdp_enabled())
    else:
        info.update(gpu=None, cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads())
    return info


def _speed_config(plan: Plan, **changes: Any) -> SpeedConfig:
    return replace(SpeedConfig(batch_sizes=plan.batches, repeats=plan.repeats, warmup=plan.warmup, device=plan.device,
                               dtype=plan.dtype, target_seconds=plan.target_seconds,
                               prompt_seconds=plan.prompt_seconds), **changes)


def _sweep(name: str, cfg: SpeedConfig, deadline: float) -> tuple[list[dict[str, Any]], list[int]]:
    """`measure` one batch size at a time, stopping at the deadline; (rows, batch sizes left out)."""
    work = build_workload(name, cfg)
    rows, skipped = [], []
    for batch in cfg.batch_sizes:
        if time.perf_counter() > deadline:
            skipped.append(batch)
            continue
        rows += measure(work, replace(cfg, batch_sizes=(batch,)))
    del work
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return rows, skipped


def speed_stage(plan: Plan, deadline: float) -> dict[str, Any]:
    runs = [(plan.ditar, {}), (plan.ditar, {"patch_size": 2}), (plan.nar, {})]
    rows, skipped = [], {}
    stage_end = time.perf_counter() + 0.55 * (deadline - time.perf_counter())  # the rest: the other stages
    for i, (name, extra) in enumerate(runs):
        now = time.perf_counter()
        got, left_out = _sweep(name, _speed_config(plan, **extra), now + (stage_end - now) / (len(runs) - i))
        rows += got
        if left_out:
            skipped[f"{name} P={extra['patch_size']}" if extra else name] = left_out
    return {"rows": rows, "batches_skipped_for_time": skipped}


def precision_stage(plan: Plan, deadline: float) -> dict[str, Any]:
    # lazy: scipy only for this stage's two-sample test
    from scipy.stats import ks_2samp

    values = {}
    for dtype in ("fp32", "bf16"):
        work = build_workload(plan.ditar, _speed_config(plan, dtype=dtype, batch_sizes=(plan.compare_rows,)))
        work.prepare(plan.compare_rows)
        phones, prompts = work.inputs
        with torch.no_grad():  # as the speed workload generates: per-row generators seeded alike
            out = work.model.generate(phones, prompts, work._generators(), work.sampler, work.gen)
        values[dtype] = torch.cat([o.float().flatten().cpu() for o in out])
        del work
    a, b = values["fp32"].numpy(), values["bf16"].numpy()
    ks = ks_2samp(a, b)
    mean_rel = abs(float(b.mean() - a.mean())) / (float(a.std()) or 1.0)
    std_rel = abs(float(b.std() - a.std())) / (float(a.std()) or 1.0)
    equal = bool(ks.statistic < KS_LIMIT and mean_rel < MOMENT_LIMIT and std_rel < MOMENT_LIMIT)
    return {"rows": plan.compare_rows, "values_each": int(a.size), "fp32_mean": float(a.mean()),
            "fp32_std": float(a.std()), "bf16_mean": float(b.mean()), "bf16_std": float(b.std()),
            "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue), "mean_diff_over_std": mean_rel,
            "std_rel_diff": std_rel, "limits": {"ks": KS_LIMIT, "moments": MOMENT_LIMIT},
            "equal_in_distribution": equal,
            "same_values": bool(a.shape == b.shape and (a == b).all())}


def train_stage(plan: Plan, deadline: float) -> dict[str, Any]:
    # lazy: the training package only for this stage
    from ttsbench.systems.ditar.config import DiTARConfig
    from ttsbench.systems.ditar.model import DiTAR
    from ttsbench.systems.speech.batch import SpeechBatch
    from ttsbench.systems.speech.training.throughput import StepCounter, peak_tflops
    from ttsbench.systems.speech.training.trainer import model_config

    device = torch.device(plan.device if plan.device != "cuda" else "cuda:0")
    torch.manual_seed(0)
    model = DiTAR(model_config(DiTARConfig, {"size": plan.train_size}, 64, 128)).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.99), weight_decay=0.01, fused=device.type == "cuda")
    g = torch.Generator().manual_seed(0)
    rows, frames = plan.train_rows, plan.train_frames
    phones_per_row = max(8, frames // 4)  # ~10 phones per second of 40 Hz latents
    batch = SpeechBatch(phones=torch.randint(1, 128, (rows, phones_per_row), generator=g),
                        phone_lens=torch.full((rows,), phones_per_row), latents=torch.randn(rows, frames, 64, generator=g),
                        latent_lens=torch.full((rows,), frames)).to(device)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    counter = StepCounter(every=1)

    def step(count: bool = False) -> None:
        with counter.counting(0) if count else contextlib.nullcontext():
            with amp:
                loss = model(batch).total
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    step(count=True)  # counted (FLOPs of forward + backward), and a warm-up
    counter.record(batch.num_frames)
    step()  # warm-up (allocator, kernels)
    _sync(device)
    t0 = time.perf_counter()
    done = 0
    while done < plan.train_steps and time.perf_counter() < deadline:
        step()
        done += 1
    _sync(device)
    wall = time.perf_counter() - t0
    flops = counter.flops
    peak, source = peak_tflops(device)
    achieved = flops * done / wall / 1e12 if wall else 0.0
    return {"model": f"DiTAR {plan.train_size}", "parameters": sum(p.numel() for p in model.parameters()),
            "rows_per_step": rows, "frames_per_step": batch.num_frames, "steps_timed": done, "wall_s": wall,
            "steps_per_s": done / wall if wall else None, "frames_per_s": batch.num_frames * done / wall if wall else None,
            "model_tflops_per_step": flops / 1e12, "achieved_tflops": achieved,
            "mfu": achieved / peak if peak else None, "peak_tflops": peak, "peak_source": source,
            "precision": "bf16 autocast, fp32 master weights" if device.type == "cuda" else "fp32",
            "optimizer": "AdamW (fused on CUDA), grad clip 1.0", "data": "synthetic: random phones and latents",
            "flops_scope": "forward + backward matrix products, counted on one step (FlopCounterMode)"}


def compile_stage(plan: Plan, deadline: float) -> dict[str, Any]:
    if not plan.compile_variants:
        return {"skipped": "dry run: torch.compile and CUDA graphs are timed on the GPU only"}
    rows, skipped = [], {}
    for variant in plan.compile_variants:
        if time.perf_counter() > deadline - NEEDS["compile"] / 2:
            skipped[variant] = "budget"
            continue
        cfg = _speed_config(plan, batch_sizes=plan.compile_batches, compile=True,
                            cuda_graphs=variant == "cuda_graphs")
        got, left_out = _sweep(plan.ditar, cfg, deadline)
        rows += [{**r, "variant": variant} for r in got]
        if left_out:
            skipped[variant] = left_out
    return {"rows": rows, "skipped": skipped}


def sharded_stage(plan: Plan, deadline: float) -> dict[str, Any]:
    gpus = torch.cuda.device_count()
    if plan.device.startswith("cuda") and gpus < 2:
        return {"skipped": f"{gpus} GPU: a 2-rank run needs two"}
    if not plan.device.startswith("cuda"):
        return {"skipped": "dry run: the sharded run is tested on CPUs by tests/integration/test_shards.py"}
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "ttsbench", "run", "--system", "ditar-tiny:nfe=2", "--prompt-set", "demo",
                "--metrics", "duration", "--device", "cuda", "--quiet"]
        one = subprocess.run([*base, "--out", f"{tmp}/one"], capture_output=True, text=True, check=False)
        two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "ttsbench",
                              *base[3:], "--out", f"{tmp}/two"], capture_output=True, text=True, check=False)
        if one.returncode or two.returncode:
            return {"error": (one.stderr or two.stderr)[-500:]}
        wavs = {d: {p.name: p.read_bytes() for p in Path(tmp, d).rglob("wavs/*.wav")} for d in ("one", "two")}
        return {"utterances": len(wavs["one"]), "identical_wavs": wavs["one"] == wavs["two"]}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---- output ---------------------------------------------------------------------------------------
def write(out: Path, results: dict[str, Any]) -> None:
    (out / "gpu_check.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    (out / "gpu_check.md").write_text(markdown(results), encoding="utf-8")


def markdown(results: dict[str, Any]) -> str:
    s = results["stages"]
    env = s.get("env", {})
    parts = [f"# {results['command']}", "",
             f"{results['started']}; ttsbench {results['ttsbench']}; torch {env.get('torch')}, CUDA {env.get('cuda')}; "
             f"{env.get('gpu') or env.get('cpu')}; {results.get('wall_s')} s in all.", ""]
    for name, value in s.items():
        parts.append(f"## {name} ({value.get('seconds', 0)} s)")
        if "error" in value or "skipped" in value:
            parts += [f"{'error' if 'error' in value else 'skipped'}: {value.get('error') or value.get('skipped')}", ""]
            continue
        if name in ("speed", "compile"):
            header = ["system", "variant", "P", "batch", "wall (s)", "RTF (batch)", "throughput (s audio/s)",
                      "first patch (ms)", "dtype"]
            body = [[r["system"], r.get("variant", "eager"), str(r.get("patch_size", "-")), str(r["batch"]),
                     f"{r['wall_median_s']:.3f}", f"{r['rtf_batch']:.4f}", f"{r['throughput']:.1f}",
                     f"{1000 * r['latency_median_s']:.1f}" if r["latency_kind"] == "first patch" else "-", r["dtype"]]
                    for r in value["rows"]]
            parts += [render_table(header, body, "md"), ""]
            extra = {k: v for k, v in value.items() if k not in ("rows", "seconds") and v}
        else:
            extra = {k: v for k, v in value.items() if k != "seconds"}
        parts += [f"- {k}: {_fmt(v)}" for k, v in extra.items()] + [""]
    return "\n".join(parts)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
