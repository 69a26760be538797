"""Loading DiTAR (and DiSTAR) weights for inference: training checkpoints and exported folders.

Accepted checkpoint locations (`SystemSpec.checkpoint`, or `<cache_dir>/ditar-<size>/`):

1. A training checkpoint file written by `ttsbench train ditar` (`<out>/checkpoints/step_*.pt`,
   format "ttsbench.ditar.train/1", read with `torch.load(weights_only=True)`): `model` (state
   dict), `model_config` (DiTARConfig fields), `tokenizer` (its describe() + "source": the
   tokenizer folder or registered name it was trained with), `frontend` (PhoneFrontend.describe()).
2. A training output folder: its newest `checkpoints/step_*.pt`.
3. An exported folder (`export()` writes it; safetensors, no pickle at all)::

       <dir>/config.json         {"format": "ttsbench.ditar/1", "kind", "model_config", "tokenizer",
                                  "frontend", "source"}
       <dir>/model.safetensors   the model's state dict (fp32)
       <dir>/tokenizer/          the speech tokenizer folder (tokenizer.json [+ weights.safetensors])

The tokenizer and phone table the model was trained with are checked against what inference
uses: a mismatch is one clear error, never silently wrong audio.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from ttsbench.errors import InputError, MissingModelError, first_line
from ttsbench.paths import file_sha256
from ttsbench.systems.base import read_safetensors
from ttsbench.systems.speech.latent_stats import LatentStats, load_stats
from ttsbench.systems.speech.tokenizer import TOKENIZERS, build_tokenizer, load_tokenizer
from ttsbench.systems.speech.training.ema import KEY as EMA_KEY
from ttsbench.systems.speech.training.ema import ema_weights

TRAIN_FORMAT = "ttsbench.ditar.train/1"
EXPORT_FORMAT = "ttsbench.ditar/1"
CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_DIR = "config.json", "model.safetensors", "tokenizer"


@dataclass
class LoadedCheckpoint:
    """What inference needs from a checkpoint, before building modules."""

    path: Path
    state: dict[str, torch.Tensor]
    model_config: dict[str, Any]
    tokenizer_info: dict[str, Any]
    frontend_info: dict[str, Any]
    tokenizer_dir: Path | None  # the exported folder's tokenizer/, when there is one
    sha256: str  # of the weights file(s): identifies the model in run manifests
    kind: str = "ditar"  # which model the weights are for ("ditar" | "distar"; the trainer records it)
    latent_stats: LatentStats | None = None  # the model works in standardised latent space when set
    weights: str = "live"  # "ema" when `state` holds the EMA weights


def read_checkpoint(path: Path, kind: str = "ditar", *, ema: bool = True) -> LoadedCheckpoint:
    """Read any of the three layouts in the module docstring; a wrong path, or weights of another
    model (`kind`: "ditar" or "distar", which share these layouts), is one clear error."""
    path = Path(path).expanduser()
    # A training output folder holds a config.json too (the TrainConfig): its checkpoints/ decides.
    if path.is_dir() and (path / CONFIG_FILE).is_file() and not (path / "checkpoints").is_dir():
        ckpt = _read_export(path)
    elif path.is_file() and path.name == WEIGHTS_FILE and (path.parent / CONFIG_FILE).is_file():
        ckpt = _read_export(path.parent)
    else:
        if path.is_dir():
            steps = sorted((path / "checkpoints").glob("step_*.pt")) if (path / "checkpoints").is_dir() else []
            if not steps:
                raise MissingModelError(f"no {kind} checkpoint in {path}: expected {CONFIG_FILE} + {WEIGHTS_FILE} "
                                        f"(exported) or checkpoints/step_*.pt (training output)")
            path = steps[-1]
        if not path.is_file():
            raise MissingModelError(f"{kind} checkpoint not found: {path}")
        ckpt = _read_training(path, ema)
    if ckpt.kind != kind:
        raise InputError(f"{ckpt.path}: holds {ckpt.kind} weights, not {kind}")
    return ckpt


def _read_training(path: Path, ema: bool = True) -> LoadedCheckpoint:
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for corrupt or foreign files
        raise InputError(f"cannot read DiTAR checkpoint {path}: {first_line(err)}") from None
    if not isinstance(raw, dict) or raw.get("format") != TRAIN_FORMAT or "model" not in raw:
        fmt = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise InputError(f"{path}: not a DiTAR training checkpoint (format {fmt!r}, expected {TRAIN_FORMAT!r})")
    state, weights = raw["model"], "live"
    if ema and isinstance(raw.get(EMA_KEY), dict):  # the EMA weights over the live ones, buffers from the model
        averaged = ema_weights(raw[EMA_KEY])
        state, weights = {k: averaged.get(k, v) for k, v in state.items()}, "ema"
    stats = raw.get("latent_stats") or (raw.get("tokenizer") or {}).get("latent_stats")
    return LoadedCheckpoint(path, state, dict(raw.get("model_config") or {}), dict(raw.get("tokenizer") or {}),
                            dict(raw.get("frontend") or {}), None, file_sha256(path)[:16], str(raw.get("kind", "ditar")),
                            LatentStats.from_dict(stats, str(path)) if stats else None, weights)


def _read_export(directory: Path) -> LoadedCheckpoint:
    meta = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    if meta.get("format") != EXPORT_FORMAT:
        raise InputError(f"{directory / CONFIG_FILE}: format {meta.get('format')!r}, expected {EXPORT_FORMAT!r}")
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise MissingModelError(f"DiTAR weights not found: {weights}")
    tok_dir = directory / TOKENIZER_DIR
    stats = load_stats(tok_dir) if meta.get("standardized") else None
    if meta.get("standardized") and stats is None:
        raise MissingModelError(f"{directory}: trained on standardised latents, but {tok_dir}/latent_stats.json "
                                f"is missing")
    return LoadedCheckpoint(directory, read_safetensors(weights, "DiTAR weights"), dict(meta["model_config"]),
                            dict(meta.get("tokenizer") or {}), dict(meta.get("frontend") or {}),
                            tok_dir if tok_dir.is_dir() else None, file_sha256(weights)[:16], str(meta.get("kind", "ditar")),
                            stats, str(meta.get("weights", "live")))


def resolve_tokenizer(ckpt: LoadedCheckpoint | None, override: str, cache_dir: Path | None,
                      device: str) -> Any:
    """The speech tokenizer: `override` (folder or registered name) > the export's tokenizer/ >
    the training checkpoint's recorded source > "mel" (random-weight models only)."""
    source = override or (str(ckpt.tokenizer_dir) if ckpt and ckpt.tokenizer_dir else "") or \
        (str(ckpt.tokenizer_info.get("source", "")) if ckpt else "") or "mel"
    candidates = [Path(source).expanduser()]
    if cache_dir is not None and not candidates[0].is_absolute():
        candidates.append(cache_dir / source)
    folder = next((c for c in candidates if c.is_dir()), None)
    if folder is not None:
        tok = load_tokenizer(folder, map_location=device)
    elif source in TOKENIZERS.names():
        tok = build_tokenizer(source).eval()
        if any(True for _ in tok.parameters()):
            raise MissingModelError(f"speech tokenizer {source!r} needs trained weights: pass tokenizer=DIR")
    else:
        raise MissingModelError(f"speech tokenizer {source!r} not found (not a folder here or under the cache "
                                f"dir, not a registered name): pass tokenizer=DIR")
    if ckpt is not None:
        check_tokenizer(tok, ckpt)
    return tok.to(device).eval()


def check_tokenizer(tok: Any, ckpt: LoadedCheckpoint) -> None:
    """The tokenizer must be the one the model was trained on (name, rates, config)."""
    want, have = ckpt.tokenizer_info, tok.describe()
    for key in ("name", "sample_rate", "latent_dim", "config"):
        if key in want and json.dumps(want[key], sort_keys=True) != json.dumps(have[key], sort_keys=True):
            raise InputError(f"{ckpt.path}: trained with tokenizer {key}={want[key]!r}, but the tokenizer given "
                             f"has {have[key]!r}; pass tokenizer=DIR of the right one")


def check_frontend(frontend: Any, ckpt: LoadedCheckpoint) -> None:
    """The phone table must be the one the model was trained with."""
    want, have = ckpt.frontend_info, frontend.describe()
    for key in ("table_version", "table_sha256"):
        if key not in want or want[key] != have[key]:
            raise InputError(f"{ckpt.path}: trained with phone front end {want.get('name', want)!r} "
                             f"({key}={want.get(key)!r}), this one has {key}={have[key]!r}")


def export(checkpoint: str | Path, out_dir: str | Path, *, tokenizer: str | None = None, kind: str = "ditar",
           ema: bool = True) -> Path:
    """Write an exported folder (safetensors) from a training checkpoint and its tokenizer (the EMA
    weights when the checkpoint has them and `ema`)."""
    ckpt = read_checkpoint(Path(checkpoint), kind, ema=ema)
    return _write_export(ckpt, Path(out_dir), tokenizer or "",
                         {"checkpoint": str(ckpt.path), "sha256": ckpt.sha256})


def export_payload(payload: dict[str, Any], out_dir: str | Path) -> Path:
    """An exported folder from an in-memory checkpoint dict (the trainer's in-training evaluation):
    `model` (the weights to export), `model_config`, `tokenizer`, `frontend`, `kind`, `step`,
    optional `latent_stats` and `weights` ("ema" | "live")."""
    stats = payload.get("latent_stats")
    ckpt = LoadedCheckpoint(Path(out_dir), payload["model"], dict(payload.get("model_config") or {}),
                            dict(payload.get("tokenizer") or {}), dict(payload.get("frontend") or {}), None, "",
                            str(payload.get("kind", "ditar")), LatentStats.from_dict(stats) if stats else None,
                            str(payload.get("weights", "live")))
    return _write_export(ckpt, Path(out_dir), "", {"training_step": int(payload.get("step", 0))})


def _write_export(ckpt: LoadedCheckpoint, out: Path, tokenizer: str, source: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    tok = resolve_tokenizer(ckpt, tokenizer, None, "cpu")
    if (out / TOKENIZER_DIR).exists():
        shutil.rmtree(out / TOKENIZER_DIR)
    tok.save(out / TOKENIZER_DIR)
    if ckpt.latent_stats is not None:  # stored with the tokenizer the model was trained on
        ckpt.latent_stats.save(out / TOKENIZER_DIR)
    state = {k: v.detach().float().cpu().contiguous() for k, v in ckpt.state.items()}
    save_file(state, str(out / WEIGHTS_FILE))
    meta = {"format": EXPORT_FORMAT, "kind": ckpt.kind, "model_config": ckpt.model_config, "tokenizer": tok.describe(),
            "frontend": ckpt.frontend_info, "source": source, "weights": ckpt.weights,
            "standardized": ckpt.latent_stats is not None}
    (out / CONFIG_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out
