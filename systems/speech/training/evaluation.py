"""In-training evaluation: every N steps, the harness scores the (EMA) weights and gates them.

`[eval]` in a training config (off while `every = 0`)::

    [eval]
    every = 500                         # optimizer steps between evaluations (and after the last step)
    prompt_set = "data/corpus/dev.jsonl"  # a registered prompt set or a manifest file
    metrics = "wer-whisper-tiny-en,sim-resemblyzer,duration"   # "" = the prompt set's defaults
    seed = 0                            # fixed: every checkpoint is scored on the same draws
    limit = 16                          # first N prompts (0 = all)
    system = "ditar-0.6b"               # the registered system that loads the exported folder
    options = "nfe=10,cfg=1.0,max_seconds=12"  # more system options
    baseline = ""                       # a `ttsbench check` baseline file: pass/fail per checkpoint

At each evaluation rank 0 (the only one: other ranks wait at a barrier, see below)

1. exports the weights the trainer passes (the EMA weights when `ema_decay > 0`) to
   `<out>/eval/step_XXXXXXX/model/` (the exported layout of `pretrained.py`: model.safetensors,
   config.json, tokenizer/ with latent_stats.json), 
2. runs `python -m ttsbench run --system SYSTEM:checkpoint=DIR,OPTIONS --prompt-set ... --metrics
   ... --seed S --limit N --out <out>/eval/step_XXXXXXX/runs` in a child process (the trainer's
   layer may not import the pipeline; a child also frees the scoring models' memory),
3. with `baseline`, runs `python -m ttsbench check RUN --baseline FILE` and records its verdict,
4. appends one row to `<out>/eval.jsonl` and redraws `<out>/eval.png` (loss from log.jsonl, and
   each metric's primary value, vs step).

eval.jsonl row: step, loss (the total loss of the step just taken, live weights), weights ("ema" | "live"), checkpoint
(the exported folder), run (the run directory), returncode, n_expected, synth_ok, metrics
{name: {primary, value, higher_is_better, n_scored, values}}, gate {baseline, passed, returncode,
output} or null, seconds (wall time of the evaluation).

Under torchrun the evaluation runs on rank 0 only while the other ranks wait: an evaluation is a
few minutes of one device, and sharding it over the ranks (`ttsbench.shards`) would need every
rank to leave the training loop anyway. Raise the process group's timeout (torchrun's default
NCCL timeout is 10 minutes) when an evaluation takes longer, or shard the dev set yourself with
`ttsbench run --shard` from a separate job on the exported folders.

`ttsbench check TRAINING_DIR` gates the newest row of eval.jsonl that has a run (with the
config's baseline, or `--baseline FILE`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ttsbench.errors import InputError
from ttsbench.store import append_jsonl, find_runs, read_jsonl, read_summary

EVAL_LOG = "eval.jsonl"
EVAL_PLOT = "eval.png"


@dataclass(frozen=True)
class EvalConfig:
    """The `[eval]` table of a training config (module docstring)."""

    every: int = 0  # optimizer steps between evaluations; 0 = no in-training evaluation
    prompt_set: str = ""
    metrics: str = ""  # comma-separated recipes; "" = the prompt set's default metrics
    seed: int = 0
    limit: int = 0  # 0 = every prompt
    system: str = "ditar-0.6b"  # the registered system name that loads an exported folder
    options: str = ""  # extra system options, "nfe=10,cfg=1.0"
    baseline: str = ""  # `ttsbench check` baseline file
    device: str = ""  # "" = the run's default device
    audio_root: str = ""
    cache_dir: str = ""
    timeout_s: float = 3600.0  # an evaluation that takes longer is recorded as failed

    def __post_init__(self) -> None:
        if self.every < 0 or self.limit < 0:
            raise InputError(f"[eval] every = {self.every}, limit = {self.limit}; both must be >= 0")
        if self.every and not self.prompt_set:
            raise InputError("[eval] every > 0 needs prompt_set (a registered set or a manifest file)")


class Evaluator:
    """Decides when to evaluate and runs one evaluation (rank 0)."""

    def __init__(self, cfg: EvalConfig, out: Path, is_main: bool) -> None:
        self.cfg, self.out, self.is_main = cfg, Path(out), is_main

    def due(self, step: int, last_step: int) -> bool:
        return self.cfg.every > 0 and (step % self.cfg.every == 0 or step == last_step)

    def evaluate(self, step: int, payload: dict[str, Any], loss: float | None) -> dict[str, Any]:
        """Export, run, gate, append to eval.jsonl, plot; returns the row."""
        # lazy: pretrained imports the tokenizers (torch, safetensors); evaluation is rare
        from ttsbench.systems.speech.pretrained import export_payload

        tick = time.perf_counter()
        folder = self.out / "eval" / f"step_{step:07d}"
        model_dir = export_payload(payload, folder / "model")
        runs = folder / "runs"
        options = ",".join(x for x in (f"checkpoint={model_dir.resolve()}", self.cfg.options) if x)
        cmd = [sys.executable, "-m", "ttsbench", "run", "--system", f"{self.cfg.system}:{options}",
               "--prompt-set", self.cfg.prompt_set, "--seed", str(self.cfg.seed), "--out", str(runs), "--quiet"]
        for flag, value in (("--metrics", self.cfg.metrics), ("--device", self.cfg.device),
                            ("--audio-root", self.cfg.audio_root), ("--cache-dir", self.cfg.cache_dir)):
            if value:
                cmd += [flag, value]
        if self.cfg.limit:
            cmd += ["--limit", str(self.cfg.limit)]
        code, output = _call(cmd, folder / "run.log", self.cfg.timeout_s)
        row: dict[str, Any] = {"step": step, "loss": loss, "weights": payload.get("weights", "live"),
                               "checkpoint": str(model_dir), "run": None, "returncode": code}
        run_dir = _one_run(runs)
        if run_dir is not None and (run_dir / "summary.json").is_file():
            row["run"] = str(run_dir)
            row.update(aggregates(run_dir))
        else:
            row["error"] = output.strip().splitlines()[-1] if output.strip() else "no run directory"
        row["gate"] = self.gate(run_dir) if self.cfg.baseline and row["run"] else None
        row["seconds"] = round(time.perf_counter() - tick, 1)
        append_jsonl(self.out / EVAL_LOG, [row])
        try:
            plot(self.out)
        except Exception as err:  # a plot must never stop training
            print(f"eval: could not draw {self.out / EVAL_PLOT}: {err}", file=sys.stderr)
        return row

    def gate(self, run_dir: Path) -> dict[str, Any]:
        cmd = [sys.executable, "-m", "ttsbench", "check", str(run_dir), "--baseline", self.cfg.baseline]
        code, output = _call(cmd, run_dir.parent.parent / "check.log", 600)
        return {"baseline": self.cfg.baseline, "passed": code == 0, "returncode": code,
                "output": output.strip().splitlines()[-1] if output.strip() else ""}


def aggregates(run_dir: Path) -> dict[str, Any]:
    """Counts and every metric's primary value from a run's summary.json."""
    s = read_summary(run_dir / "summary.json")
    metrics = {name: {"primary": m.primary_key, "value": m.values.get(m.primary_key),
                      "higher_is_better": m.higher_is_better, "n_scored": m.n_scored, "values": dict(m.values)}
               for name, m in s.metrics.items()}
    return {"n_expected": s.n_expected, "synth_ok": s.synth.ok, "metrics": metrics}


def latest_evaluated(out: Path) -> dict[str, Any]:
    """The newest eval.jsonl row of a training folder that has a run directory."""
    path = Path(out) / EVAL_LOG
    if not path.is_file():
        raise InputError(f"{out}: no {EVAL_LOG} (is [eval] every > 0 in its training config?)")
    rows = [r for r in read_jsonl(path) if r.get("run")]
    if not rows:
        raise InputError(f"{path}: no evaluation produced a run yet")
    return max(rows, key=lambda r: int(r["step"]))


def plot(out: Path) -> Path:
    """<out>/eval.png: training loss and each metric's primary value vs step."""
    # lazy: matplotlib is only for this figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = read_jsonl(out / EVAL_LOG)
    log = read_jsonl(out / "log.jsonl") if (out / "log.jsonl").is_file() else []
    names = sorted({n for r in rows for n in (r.get("metrics") or {})})
    fig = Figure(figsize=(4 * (1 + len(names)), 3.2))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 1 + len(names), squeeze=False)[0]
    axes[0].plot([r["step"] for r in log if "total" in r], [r["total"] for r in log if "total" in r])
    axes[0].set(title="training loss (total)", xlabel="step")
    for ax, name in zip(axes[1:], names):
        pts = [(r["step"], r["metrics"][name]["value"]) for r in rows
               if name in (r.get("metrics") or {}) and r["metrics"][name]["value"] is not None]
        key = next((r["metrics"][name]["primary"] for r in rows if name in (r.get("metrics") or {})), "")
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o")
        ax.set(title=f"{name}: {key}", xlabel="step")
    fig.tight_layout()
    fig.savefig(out / EVAL_PLOT, dpi=90)
    return out / EVAL_PLOT


def _one_run(root: Path) -> Path | None:
    try:
        found = find_runs([root])
    except InputError:
        return None
    return found[-1] if found else None


def _call(cmd: list[str], log: Path, timeout: float) -> tuple[int, str]:
    """Run a child ttsbench command, its output kept in `log`; (returncode, output)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)  # the child is a plain single-process run, not a torchrun rank
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as err:
        code, output = 124, f"{err.stdout or ''}{err.stderr or ''}\ntimed out after {timeout:.0f} s"
    log.write_text(" ".join(cmd) + "\n\n" + str(output), encoding="utf-8")
    return code, str(output)
