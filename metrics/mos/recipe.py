"""`utmos22-strong`: SpeechMOS's UTMOS22 strong learner from a local checkpoint, strictly loaded.

Reference: F5-TTS `eval_utmos.py` / ZipVoice `eval/mos/utmos.py` call
`torch.hub.load("tarepan/SpeechMOS:v1.2.0", "utmos22_strong")` and score each file read mono at its
native rate (`predictor(wav[None], sr)`); the model resamples to 16 kHz with
`torchaudio.functional.resample` (our `sinc_resample(mode="functional")`). Aggregate: plain mean over
the listed utterances (not an rglob of a folder, as F5 does).

Options: `model` (the checkpoint's path) and `sha256` (a pin of its hash).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import soundfile as sf
import torch

from ttsbench.errors import MissingModelError
from ttsbench.metrics.base import Metric, ModelOptions, Need
from ttsbench.metrics.cache import EmbeddingCache, audio_sha256
from ttsbench.metrics.checkpoints import load_checked, torch_load
from ttsbench.metrics.models import ModelLocation, check_pin, package_versions, sha256_file, torch_device
from ttsbench.metrics.mos.utmos22 import UTMOS22Strong, UTMOSConfig, min_samples
from ttsbench.metrics.stats import Statistic, aggregate, mean_of
from ttsbench.plugins import METRICS
from ttsbench.types import LoadContext, ScoreItem

CHECKPOINT = "utmos22_strong_step7459_v1.pt"


def load_utmos(path: Path, cfg: UTMOSConfig, recipe: str = "utmos22-strong") -> UTMOS22Strong:
    """Build the model for `cfg` and load the plain state dict at `path`, every key checked."""
    state = torch_load(path, recipe)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        top = ", ".join(sorted(map(str, state))[:4]) if isinstance(state, dict) else type(state).__name__
        raise MissingModelError(f"{recipe}: {path} is not the expected checkpoint: not a plain state dict ({top})")
    model = UTMOS22Strong(cfg)
    load_checked(model, state, recipe=recipe, path=path)
    return model.eval()


def read_mono(path: Path) -> tuple[np.ndarray, int]:
    """float32, channels averaged (librosa.load(mono=True) as F5 reads it), native rate."""
    wav, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return wav.mean(axis=1).astype(np.float32), int(sr)


@METRICS.register("utmos22-strong")
class UTMOS22StrongMOS(Metric):
    """UTMOS22 strong learner (SpeechMOS v1.2.0 weights) from a local .pt, strict keys, mean MOS."""

    version = "1"
    higher_is_better = True
    needs = Need.AUDIO
    primary = "utmos"
    comparable = True
    label = "UTMOS"
    config: ClassVar[UTMOSConfig] = UTMOSConfig()
    Options = ModelOptions  # model: the .pt file; sha256: its pin
    location = ModelLocation(  # the layout of k2-fsa/TTS_eval_models, which mirrors the release asset
        "utmos22-strong", "model", f"mos/{CHECKPOINT}",
        f"https://github.com/tarepan/SpeechMOS/releases/download/v1.0.0/{CHECKPOINT} "
        f"(mirror: huggingface.co/k2-fsa/TTS_eval_models, mos/{CHECKPOINT})", kind="file",
        hf_repo="k2-fsa/TTS_eval_models", hf_file=f"mos/{CHECKPOINT}")

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.weights_sha256: str | None = self.options.sha256

    def fingerprint(self) -> dict[str, Any]:
        return {"recipe": self.registry_name, "version": self.version, "comparable": self.comparable,
                "reference": "tarepan/SpeechMOS v1.2.0 utmos22_strong (as F5-TTS eval_utmos.py calls it)",
                "model": CHECKPOINT, "weights_sha256": self.weights_sha256 or "unverified until setup",
                "architecture": self.config.__dict__ if self.config != UTMOSConfig() else "UTMOS22 strong (released)",
                "audio": "soundfile float32, channel mean, native rate; torchaudio functional sinc resample "
                         "to 16 kHz (width 6, rolloff 0.99, Hann)", "libraries": package_versions(["torch"]),
                "aggregation": "mean over listed utterances"}

    def setup(self, ctx: LoadContext) -> None:
        path = self.location.resolve(self.options.model, ctx)
        actual = sha256_file(path, ctx.work_dir)
        check_pin(self.registry_name, path, actual, self.weights_sha256)
        self.weights_sha256 = actual
        self.device = torch_device(ctx.device)
        self.model = load_utmos(path, self.config, self.registry_name).to(self.device)
        self.cache = EmbeddingCache(ctx.work_dir, self.fingerprint())

    def predict(self, path: Path) -> float:
        key = audio_sha256(path)
        hit = self.cache.get(key)
        if hit is not None:
            return float(hit[0])
        wav, sr = read_mono(path)
        if len(wav) * 16_000 / sr < min_samples(self.config):
            raise ValueError(f"audio is {len(wav) / sr:.3f} s long, too short for UTMOS")
        with torch.no_grad():
            score = float(self.model(torch.from_numpy(wav)[None].to(self.device), sr)[0])
        self.cache.put(key, np.array([score], dtype=np.float32))
        return score

    def score(self, item: ScoreItem) -> dict[str, Any]:
        return {"utmos": self.predict(item.wav_path)}

    @classmethod
    def statistics(cls) -> dict[str, Statistic]:
        return {"utmos": mean_of("utmos")}

    def aggregate(self, rows: pd.DataFrame) -> dict[str, float]:
        return aggregate(rows, self.statistics())
